//! Incidents end to end: a simulated Ink Dragon intrusion (`dragnet simulate --seed 7`) hunted
//! with `--incidents` is one incident holding every ground-truth step's findings, in kill-chain
//! order, with the RDP and WinRM lateral movement found by the lateral-movement graph; the
//! background alone (`--scenario none`) makes no high or critical incident.

use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

fn dragnet(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(args)
        .output()
        .expect("run dragnet");
    assert!(
        out.status.success(),
        "dragnet {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hunt(dir: &Path, scenario: &str) -> (Value, Vec<Value>) {
    let _ = std::fs::remove_dir_all(dir);
    let ev = dir.join("evidence");
    let ev_s = ev.to_str().unwrap();
    dragnet(&[
        "simulate",
        "--seed",
        "7",
        "--scenario",
        scenario,
        "--out",
        ev_s,
        "-q",
    ]);
    let inc = dir.join("incidents.json");
    let fnd = dir.join("findings.jsonl");
    dragnet(&[
        "hunt",
        ev_s,
        "-q",
        "--format",
        "jsonl",
        "-o",
        fnd.to_str().unwrap(),
        "--incidents",
        inc.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&inc).unwrap()).unwrap();
    let findings = std::fs::read_to_string(&fnd)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (report, findings)
}

/// The incidents holding a step of `rule` whose time span covers `time`.
fn incidents_of(report: &Value, rule: &str, time: &str) -> Vec<String> {
    let mut out = Vec::new();
    for inc in report["incidents"].as_array().unwrap() {
        for s in inc["steps"].as_array().unwrap() {
            let has = s["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == rule);
            let t0 = s["time"].as_str().unwrap();
            let t1 = s["last"].as_str().unwrap();
            // Same format (RFC 3339 UTC, `Z`): text order is time order up to fractions.
            if has && t0[..19] <= time[..19] && time[..19] <= t1[..19] {
                out.push(inc["id"].as_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn simulated_intrusion_is_one_incident() {
    let dir = std::env::temp_dir().join(format!("dragnet-incidents-{}", std::process::id()));
    let (report, findings) = hunt(&dir, "ink-dragon");
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("evidence/ground-truth.json")).unwrap(),
    )
    .unwrap();
    let base = dir.join("evidence");
    let rel = |p: &str| {
        Path::new(p)
            .strip_prefix(&base)
            .map(|r| r.to_string_lossy().to_string())
            .unwrap_or_else(|_| p.to_string())
    };
    let incidents = report["incidents"].as_array().unwrap();
    assert!(!incidents.is_empty());
    let top = &incidents[0];
    let top_id = top["id"].as_str().unwrap();
    println!(
        "{} {} {} {}: {}",
        top_id, top["level"], top["score"], top["title"], top["narrative"]
    );
    let mut steps_with_findings = 0;
    for step in truth["steps"].as_array().unwrap() {
        let records: HashSet<(String, u64)> = step["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["path"].as_str().unwrap().to_string(),
                    r["record"].as_u64().unwrap(),
                )
            })
            .collect();
        let hits: Vec<&Value> = findings
            .iter()
            .filter(|f| {
                let mut provs = vec![&f["source"]];
                if let Some(evs) = f["events"].as_array() {
                    provs.extend(evs.iter());
                }
                provs.iter().any(|p| {
                    records.contains(&(
                        rel(p["path"].as_str().unwrap_or("")),
                        p["record"].as_u64().unwrap_or(0),
                    ))
                })
            })
            .collect();
        println!("step {:?}: {} finding(s)", step["name"], hits.len());
        if hits.is_empty() {
            continue;
        }
        steps_with_findings += 1;
        for f in &hits {
            let rule = f["rule"]["id"].as_str().unwrap();
            let ids = incidents_of(&report, rule, f["time"].as_str().unwrap());
            assert!(
                ids.iter().any(|i| i == top_id),
                "{:?}: finding of {rule} at {} is in {ids:?}, not in {top_id}",
                step["name"],
                f["time"]
            );
        }
        // The lateral-movement steps are found by the graph.
        let name = step["name"].as_str().unwrap();
        let graph_method = if name.contains("over RDP") {
            Some(("dragnet-lateral-rdp", "SRV-FILES"))
        } else if name.contains("WinRM") {
            Some(("dragnet-lateral-winrm", "SP01"))
        } else {
            None
        };
        if let Some((rule, target)) = graph_method {
            let f = hits
                .iter()
                .find(|f| f["rule"]["id"] == rule)
                .unwrap_or_else(|| panic!("{name}: no {rule} finding"));
            assert_eq!(f["details"]["target"], target);
            assert_eq!(f["details"]["source"], step["hosts"][0]);
            assert_eq!(f["details"]["account"], step["accounts"][0]);
            assert_eq!(f["details"]["new"], true);
            assert!(f["level"] == "medium" || f["level"] == "high");
        }
    }
    assert!(steps_with_findings >= 12, "{steps_with_findings}");
    // (Kill-chain order of the steps: tests/intrusion.rs, through the ATT&CK knowledge base.)
    assert!(top["level"] == "critical" || top["level"] == "high");
    let hosts: Vec<&str> = top["entities"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    for h in ["WS-42", "SRV-FILES", "ADDC01", "SP01"] {
        assert!(hosts.contains(&h), "{hosts:?}");
    }
    // Bystanders stay out.
    for h in ["WS-15", "JUMP01"] {
        assert!(!hosts.contains(&h), "{hosts:?}");
    }
    // Attribution: the built-in Ink Dragon profile leads.
    assert_eq!(
        top["attribution"][0]["name"], "Ink Dragon",
        "{}",
        top["attribution"]
    );
    // The edges of the intrusion are in it.
    let edges = top["edges"].as_array().unwrap();
    assert!(edges
        .iter()
        .any(|e| e["source"] == "WS-42" && e["target"] == "SRV-FILES" && e["method"] == "rdp"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn background_alone_makes_no_serious_incident() {
    let dir = std::env::temp_dir().join(format!("dragnet-incidents-none-{}", std::process::id()));
    let (report, _) = hunt(&dir, "none");
    for inc in report["incidents"].as_array().unwrap() {
        println!("{} {} {}", inc["id"], inc["level"], inc["title"]);
        assert!(
            inc["level"] != "high" && inc["level"] != "critical",
            "{inc:#}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
