//! The simulator's Ink Dragon intrusion: its spear-phishing message (ISO with a shortcut,
//! forged sender, free-mail Reply-To) is flagged and explained, the office's own mail is not,
//! and its FINALDRAFT drafts channel is found in the Microsoft 365 audit log.

use dragnet_mail::m365::{read_audit_file, DraftC2Detector};
use dragnet_mail::{analyze, read_mail_file, verdict_finding, Label, Limits, MailConfig};
use dragnet_simulate::{simulate, SimConfig};

#[test]
fn simulated_intrusion_mail_and_audit() {
    let out = std::env::temp_dir().join(format!("dragnet-mail-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    simulate(&SimConfig::default(), &out).unwrap();
    let cfg = MailConfig {
        org_domains: vec!["corp.example".into()],
        ..MailConfig::default()
    };
    let mut flagged = Vec::new();
    let mut total = 0;
    let mbox = out.join("mail/inbox.mbox");
    read_mail_file(&mbox, &Limits::default(), &mut |m| {
        total += 1;
        let v = analyze(&m, &cfg);
        if v.label == Label::Phishing {
            let f = verdict_finding(&m, &v, m.provenance.clone()).unwrap();
            flagged.push((m.subject(), v, f));
        }
    })
    .unwrap();
    assert!(total > 20, "{total} messages");
    // The lure is the one message at high severity or above; the forged bulk mail of the
    // background (SPF, DKIM and DMARC all fail) is flagged too, but low: nothing to open.
    let serious: Vec<_> = flagged
        .iter()
        .filter(|f| f.2.level >= dragnet_event::Level::High)
        .collect();
    assert_eq!(
        serious.len(),
        1,
        "{:?}",
        flagged
            .iter()
            .map(|f| (
                &f.0,
                f.1.score,
                f.2.level,
                f.1.signals.iter().map(|s| s.name).collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
    );
    assert!(
        flagged
            .iter()
            .all(|f| f.2.level >= dragnet_event::Level::High
                || f.2.level == dragnet_event::Level::Low)
    );
    let (subject, v, f) = serious[0];
    assert!(subject.contains("Note Verbale"), "{subject}");
    let names: Vec<&str> = v.signals.iter().map(|s| s.name).collect();
    for s in [
        "dangerous_attachment",
        "double_extension",
        "reply_to_freemail",
        "auth_dmarc_fail",
    ] {
        assert!(names.contains(&s), "{s} missing: {names:?}");
    }
    assert!(
        f.attack.contains(&"T1566.001".to_string()),
        "{:?}",
        f.attack
    );
    assert!(
        f.attack.contains(&"T1204.002".to_string()),
        "{:?}",
        f.attack
    );
    let ind = &f.details["indicators"];
    assert!(ind["from"].as_str().unwrap().contains("[.]"), "{ind}");
    assert!(
        ind["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .ends_with(".pdf.lnk")),
        "{ind}"
    );

    let mut det = DraftC2Detector::new();
    read_audit_file(&out.join("m365/audit.jsonl"), &mut |r| det.observe(&r)).unwrap();
    let findings = det.finish();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].attack.contains(&"T1102.002".to_string()));
    let _ = std::fs::remove_dir_all(&out);
}
