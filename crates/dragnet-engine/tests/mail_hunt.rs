//! One hunt over the simulator's mail and Microsoft 365 evidence: the spear-phishing message
//! (in the mailbox and as its own `.eml`) is found with its exact provenance, and the
//! FINALDRAFT drafts channel in the audit log, both against the simulator's ground truth.

use dragnet_engine::{hunt, HuntConfig, NoProgress};
use dragnet_event::{Analyzer, Detector, Level};
use dragnet_ingest::InputFormat;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn truth_records(truth: &serde_json::Value, step: &str) -> BTreeSet<(String, u64)> {
    truth["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"].as_str().unwrap().contains(step))
        .flat_map(|s| s["records"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["record"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rel(out: &Path, p: &str) -> String {
    Path::new(p)
        .strip_prefix(out)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn hunt_finds_the_phishing_message_and_the_draft_channel() {
    let out = std::env::temp_dir().join(format!("dragnet-engine-mail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    dragnet_simulate::simulate(&dragnet_simulate::SimConfig::default(), &out).expect("simulate");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ground-truth.json")).unwrap())
            .unwrap();
    let disc = dragnet_ingest::discover(&[out.join("mail"), out.join("m365")]).unwrap();
    assert!(disc.skipped.is_empty(), "{:?}", disc.skipped);
    assert!(disc.files.iter().any(|f| f.format == InputFormat::Mbox));
    assert!(disc.files.iter().any(|f| f.format == InputFormat::Eml));
    assert!(disc
        .files
        .iter()
        .any(|f| f.format == InputFormat::M365Audit));

    let detectors: Vec<Arc<dyn Detector>> = vec![Arc::new(dragnet_mail::MailDetector)];
    let analyzers: Vec<Box<dyn Analyzer>> =
        vec![Box::new(dragnet_mail::m365::DraftC2Analyzer::new())];
    let cfg = HuntConfig {
        threads: 2,
        ..Default::default()
    };
    let r = hunt(&disc, detectors, analyzers, &cfg, &NoProgress);
    let findings = r.findings.to_vec();
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.read_errors);

    // Phishing: the ground truth names the message in the mailbox (1-based index) and its
    // `.eml` copy (record 1).
    let phish_truth = truth_records(&truth, "Spear-phishing");
    assert_eq!(phish_truth.len(), 2, "{phish_truth:?}");
    let phish: Vec<_> = findings
        .iter()
        .filter(|f| dragnet_mail::RULE_IDS.contains(&f.rule.id.as_str()))
        .collect();
    let found: BTreeSet<(String, u64)> = phish
        .iter()
        .map(|f| (rel(&out, &f.source.path), f.source.record))
        .collect();
    for t in &phish_truth {
        assert!(found.contains(t), "{t:?} not found; found {found:?}");
    }
    for f in phish
        .iter()
        .filter(|f| phish_truth.contains(&(rel(&out, &f.source.path), f.source.record)))
    {
        assert!(
            f.attack.iter().any(|a| a.starts_with("T1566")),
            "{:?}",
            f.attack
        );
        assert!(f.level >= Level::Medium, "{:?}", f.level);
        let to = f.details["to"].as_str().unwrap();
        let from = f.details["from"].as_str().unwrap();
        assert!(
            to.contains('@') && from.contains('@'),
            "to {to:?} from {from:?}"
        );
        assert_eq!(
            f.source.format.as_str(),
            if f.source.path.ends_with(".mbox") {
                "mbox"
            } else {
                "eml"
            }
        );
        assert!(!f.rule.author.is_empty());
    }
    // The background holds spam whose authentication fails everywhere (a phishing verdict
    // too, as `dragnet mail scan` says), but only the spear-phishing lure carries a payload:
    // it alone is high or critical.
    let severe: BTreeSet<(String, u64)> = phish
        .iter()
        .filter(|f| f.level >= Level::High)
        .map(|f| (rel(&out, &f.source.path), f.source.record))
        .collect();
    assert_eq!(severe, phish_truth);
    // The same findings as the mail crate's own reading (what `dragnet mail scan` does).
    let mut direct = BTreeSet::new();
    for f in disc
        .files
        .iter()
        .filter(|f| f.format != InputFormat::M365Audit)
    {
        let cfg = dragnet_mail::MailConfig::default();
        dragnet_mail::read_mail_file(&f.path, &cfg.limits, &mut |m| {
            let v = dragnet_mail::analyze(&m, &cfg);
            if let Some(x) = dragnet_mail::verdict_finding(&m, &v, m.provenance.clone()) {
                direct.insert((
                    rel(&out, &x.source.path),
                    x.source.record,
                    x.level,
                    x.attack,
                ));
            }
        })
        .unwrap();
    }
    let hunted: BTreeSet<_> = phish
        .iter()
        .map(|f| {
            (
                rel(&out, &f.source.path),
                f.source.record,
                f.level,
                f.attack.clone(),
            )
        })
        .collect();
    assert_eq!(hunted, direct);

    // The drafts channel: one finding, whose sampled records are all FINALDRAFT records.
    let c2_truth: BTreeSet<(String, u64)> = truth_records(&truth, "FINALDRAFT")
        .into_iter()
        .filter(|(p, _)| p.starts_with("m365/"))
        .collect();
    assert!(!c2_truth.is_empty());
    let c2: Vec<_> = findings
        .iter()
        .filter(|f| f.rule.id == "dragnet-m365-draft-c2")
        .collect();
    assert_eq!(c2.len(), 1, "{c2:?}");
    assert!(c2[0].attack.contains(&"T1102.002".to_string()));
    assert!(c2_truth.contains(&(rel(&out, &c2[0].source.path), c2[0].source.record)));
    for p in &c2[0].events {
        assert!(c2_truth.contains(&(rel(&out, &p.path), p.record)), "{p:?}");
    }
    assert_eq!(r.summary.analyzer_findings["m365-draft-c2"], 1);
    let _ = std::fs::remove_dir_all(&out);
}
