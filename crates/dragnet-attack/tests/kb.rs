//! The knowledge base against its sources: the embedded data is exactly what the import of the
//! shared ATT&CK bundle gives, SigmaHQ's tags resolve, and facts checked by hand hold.

mod common;

use dragnet_attack::{import, kb, Resolved, EMBEDDED_DATA};
use std::collections::BTreeMap;
use std::path::Path;

#[test]
fn embedded_data_is_the_import_of_the_bundle() {
    let Some(shared) = common::shared("data/attack/enterprise-attack.json") else {
        return;
    };
    let dir = shared.join("data/attack");
    let bundle = std::fs::read(dir.join("enterprise-attack.json")).unwrap();
    let revoked = std::fs::read(dir.join("attack-v19-revoked-by.json")).unwrap();
    let t = std::time::Instant::now();
    let text = import(&bundle, Some(&revoked)).unwrap();
    eprintln!(
        "import: {} MB bundle -> {} KB data in {:.2?}",
        bundle.len() >> 20,
        text.len() >> 10,
        t.elapsed()
    );
    if std::env::var_os("DRAGNET_BLESS").is_some() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/attack.tsv");
        std::fs::write(&p, &text).unwrap();
        eprintln!("BLESSED: wrote {}", p.display());
        return;
    }
    assert!(text.len() < 400 * 1024, "data grew to {} bytes", text.len());
    if text != EMBEDDED_DATA {
        let first = text
            .lines()
            .zip(EMBEDDED_DATA.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b);
        panic!(
            "embedded data/attack.tsv differs from the import ({} vs {} lines); first difference: {first:?} \
             (regenerate: dragnet attack import ... or DRAGNET_BLESS=1 cargo test -p dragnet-attack --test kb)",
            text.lines().count(),
            EMBEDDED_DATA.lines().count()
        );
    }
    // Same import without the later list: no T1685, T1562.001 current.
    let plain = import(&bundle, None).unwrap();
    let kb18 = dragnet_attack::KnowledgeBase::parse(&plain).unwrap();
    assert!(kb18.technique("T1685").is_none());
    assert!(matches!(kb18.resolve("T1562.001"), Resolved::Current(_)));
}

#[test]
fn import_rejects_what_is_not_a_bundle() {
    assert!(import(b"not json", None).unwrap_err().contains("STIX"));
    assert!(import(br#"{"type":"bundle","objects":[]}"#, None)
        .unwrap_err()
        .contains("x-mitre-matrix"));
    let bad = br#"{"revoked_by": {"T1562": "nope"}}"#;
    let min = br#"{"type":"bundle","id":"b","objects":[{"type":"x-mitre-matrix","id":"m","tactic_refs":[]}]}"#;
    assert!(import(min, Some(bad)).unwrap_err().contains("technique id"));
    assert!(import(min, Some(b"[]")).unwrap_err().contains("revoked-by"));
}

#[test]
fn counts_and_hand_checked_facts() {
    let kb = kb();
    let tactics: Vec<&str> = kb.tactics().iter().map(|t| t.shortname.as_str()).collect();
    assert_eq!(
        tactics,
        [
            "reconnaissance",
            "resource-development",
            "initial-access",
            "execution",
            "persistence",
            "privilege-escalation",
            "defense-evasion",
            "credential-access",
            "discovery",
            "lateral-movement",
            "collection",
            "command-and-control",
            "exfiltration",
            "impact"
        ]
    );
    assert!(kb.tactics().iter().enumerate().all(|(i, t)| t.order == i));
    assert_eq!(kb.tactic("TA0006").unwrap().shortname, "credential-access");
    assert_eq!(kb.tactic("Credential Access").unwrap().id, "TA0006");
    assert_eq!(kb.tactic("attack.Lateral-Movement").unwrap().id, "TA0008");
    // SigmaHQ uses the v19 split of Defense Evasion.
    assert_eq!(kb.tactic("stealth").unwrap().id, "TA0005");
    assert_eq!(kb.tactic("attack.defense-impairment").unwrap().id, "TA0005");
    assert!(kb.tactic("nonsense").is_none());

    let t = kb.technique("t1003.001").unwrap();
    assert_eq!(
        (t.id.as_str(), t.name.as_str()),
        ("T1003.001", "LSASS Memory")
    );
    assert_eq!(t.tactics, ["credential-access"]);
    assert_eq!(kb.tactic_order_of("T1003.001"), Some(7));
    assert_eq!(kb.tactic_order_of("attack.t1190"), Some(2));
    // T1078 is in four tactics; the earliest is initial-access.
    assert_eq!(kb.tactic_order_of("T1078"), Some(2));
    // Revoked in the bundle: T1086 (PowerShell) -> T1059.001.
    match kb.resolve("T1086") {
        Resolved::Replaced { old, by } => {
            assert_eq!((old.as_str(), by.id.as_str()), ("T1086", "T1059.001"))
        }
        other => panic!("T1086: {other:?}"),
    }
    // The later list: T1562.001 -> T1685, which takes the name of T1562.
    let new = kb.technique("T1685").unwrap();
    assert_eq!(new.name, "Impair Defenses");
    assert!(kb.is_later("T1685"));
    match kb.resolve("T1562.001") {
        Resolved::Replaced { by, .. } => assert_eq!(by.id, "T1685"),
        other => panic!("T1562.001: {other:?}"),
    }
    assert_eq!(
        kb.technique("T1685.001").unwrap().name,
        kb.technique("T1562.002").unwrap().name
    );
    // Revoked in v18.1 itself (the bundle's revoked-by relationship).
    assert_eq!(
        kb.technique("T1574.002").unwrap().revoked_by.as_deref(),
        Some("T1574.001")
    );
    assert!(
        matches!(kb.resolve("T1574.002"), Resolved::Replaced { by, .. } if by.id == "T1574.001")
    );
    assert_eq!(kb.resolve("T9999"), Resolved::Unknown);
    assert_eq!(kb.resolve(""), Resolved::Unknown);
    assert_eq!(
        kb.nearest("T1686.003").map(|t| t.id.as_str()),
        Some("T1686")
    );

    let g = kb.group("wicked panda").unwrap();
    assert_eq!((g.id.as_str(), g.name.as_str()), ("G0096", "APT41"));
    assert_eq!(kb.group("g0096").unwrap().name, "APT41");
    assert!(g.software.iter().any(|s| s == "ShadowPad"));
    assert!(g.techniques.len() > g.direct_techniques.len());
    eprintln!(
        "kb: {} tactics, {} techniques ({} sub), {} software, {} groups; {}",
        kb.tactics().len(),
        kb.techniques().len(),
        kb.techniques()
            .iter()
            .filter(|t| t.id.contains('.'))
            .count(),
        kb.software().len(),
        kb.groups().len(),
        kb.header()
    );
}

/// APT41's techniques as ATT&CK's own export lists them (a file nobody here wrote).
#[test]
fn apt41_and_shadowpad_match_the_attack_export() {
    let Some(shared) = common::shared("data/intel/apt41-attack-v18.1-techniques.tsv") else {
        return;
    };
    let tsv = std::fs::read_to_string(shared.join("data/intel/apt41-attack-v18.1-techniques.tsv"))
        .unwrap();
    let kb = kb();
    let g = kb.group("G0096").unwrap();
    let rows = common::tsv_techniques(&tsv, "G0096");
    assert_eq!(rows.len(), 82);
    let mut direct = g.direct_techniques.clone();
    direct.sort();
    let mut want: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    want.sort();
    assert_eq!(direct, want);
    for (id, name, tactics) in &rows {
        let t = kb.technique(id).unwrap();
        assert_eq!(&t.name, name, "{id}");
        let mut a: Vec<&str> = tactics.split(',').collect();
        let mut b: Vec<&str> = t.tactics.iter().map(String::as_str).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{id}");
    }
    let sp = kb.software_by("S0596").unwrap();
    let mut want: Vec<String> = common::tsv_techniques(&tsv, "S0596")
        .into_iter()
        .map(|r| r.0)
        .collect();
    want.sort();
    assert_eq!(sp.techniques, want);
}

/// Every technique tag of SigmaHQ's rules resolves (current or replaced); the few v19
/// sub-techniques no list defines fall back to their parent, which must be a v19 id.
#[test]
fn sigmahq_technique_tags_resolve() {
    let Some(shared) = common::shared("data/sigma/sigmahq") else {
        return;
    };
    let root = shared.join("data/sigma/sigmahq");
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() && name.starts_with("rules") {
            walk(&p, &mut |f| {
                files += 1;
                let text = std::fs::read_to_string(f).unwrap_or_default();
                for line in text.lines() {
                    // `- attack.t1187 # forced authentication`: drop the comment.
                    let l = line.split(" #").next().unwrap_or("").trim();
                    let Some(tag) = l.strip_prefix('-').map(str::trim) else {
                        continue;
                    };
                    let lower = tag.to_ascii_lowercase();
                    if let Some(id) = lower.strip_prefix("attack.t") {
                        if id.starts_with(|c: char| c.is_ascii_digit()) {
                            *tags
                                .entry(tag.to_ascii_uppercase().replace("ATTACK.", ""))
                                .or_default() += 1;
                        }
                    }
                }
            });
        }
    }
    assert!(files > 3000, "only {files} rule files");
    let kb = kb();
    let (mut current, mut replaced, mut parent_only) = (0, Vec::new(), Vec::new());
    for id in tags.keys() {
        match kb.resolve(id) {
            Resolved::Current(t) => {
                assert!(
                    !t.deprecated || t.revoked_by.is_some(),
                    "{id} is deprecated"
                );
                current += 1;
            }
            Resolved::Replaced { by, .. } => replaced.push(format!("{id}->{}", by.id)),
            Resolved::Unknown => {
                let p = kb
                    .nearest(id)
                    .unwrap_or_else(|| panic!("SigmaHQ tag {id} does not resolve"));
                assert!(
                    kb.is_later(&p.id),
                    "{id}: unknown, parent {} is not a v19 id",
                    p.id
                );
                parent_only.push(format!("{id}->{}", p.id));
            }
        }
        assert!(kb.tactic_order_of(id).is_some(), "{id}: no tactic");
    }
    eprintln!(
        "SigmaHQ: {files} rule files, {} distinct technique tags: {current} current, {} replaced {:?}, {} known only by parent {:?}",
        tags.len(),
        replaced.len(),
        replaced,
        parent_only.len(),
        parent_only
    );
    assert!(tags.len() > 300);
    // Tagged with v19 ids that the later list defines: they are current.
    assert!(kb.technique("T1685.005").is_some() && tags.contains_key("T1685.005"));
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            f(&p);
        }
    }
}
