//! The embedded rule pack: every rule loads, and each has positive and negative events
//! (`rules/builtin/tests/<rule>.json`) that it must and must not fire on.

use dragnet_event::{Event, Provenance, SourceFormat, Timestamp, Value};
use dragnet_sigma::{EngineBuilder, LoadOptions, BUILTIN_RULES};
use std::path::PathBuf;

fn event_from(obj: &serde_json::Map<String, serde_json::Value>, i: usize) -> Event {
    let mut e = Event::new(Provenance {
        path: "pack-test".into(),
        record: i as u64 + 1,
        format: SourceFormat::Jsonl,
    });
    for (k, v) in obj {
        e.push(k.as_str(), Value::from_json(v));
    }
    if let Some(c) = e.get_text("Computer") {
        e.host = c.into();
    }
    e.time = Timestamp::parse("2026-11-27T10:00:00Z").unwrap();
    e
}

#[test]
fn every_builtin_rule_loads_and_keeps_its_author() {
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_builtin();
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!BUILTIN_RULES.is_empty());
    assert!(
        engine.rule_count() >= 10,
        "only {} rules",
        engine.rule_count()
    );
    for r in engine.rules() {
        assert!(
            !r.rule.meta.author.is_empty(),
            "{} has no author",
            r.rule.meta.title
        );
        assert!(
            !r.rule.meta.id.is_empty(),
            "{} has no id",
            r.rule.meta.title
        );
        assert!(
            !matches!(r.routing, dragnet_sigma::Routing::Unrouted(_)),
            "{} is not routed",
            r.rule.meta.title
        );
    }
}

#[test]
fn every_builtin_rule_fires_on_its_positives_and_not_on_its_negatives() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/builtin/tests");
    let mut tested = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/builtin/tests")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let rule_file = spec["rule"].as_str().expect("rule");
        let (name, text) = BUILTIN_RULES
            .iter()
            .find(|(n, _)| {
                n.ends_with(&format!("/{rule_file}")) || n.ends_with(&format!(":{rule_file}"))
            })
            .unwrap_or_else(|| panic!("{}: no built-in rule {rule_file}", path.display()));
        let mut b = EngineBuilder::new(LoadOptions::default());
        b.add_text(text, name);
        let (engine, errors) = b.build();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let positives = spec["positive"].as_array().expect("positive");
        let negatives = spec["negative"].as_array().expect("negative");
        assert!(
            !positives.is_empty() && !negatives.is_empty(),
            "{}: needs both",
            path.display()
        );
        for (i, ev) in positives.iter().enumerate() {
            let mut out = Vec::new();
            engine.detect_into(&event_from(ev.as_object().unwrap(), i), &mut out);
            if out.is_empty() {
                failures.push(format!("{rule_file}: positive #{i} did not fire"));
            }
        }
        for (i, ev) in negatives.iter().enumerate() {
            let mut out = Vec::new();
            engine.detect_into(&event_from(ev.as_object().unwrap(), i), &mut out);
            if !out.is_empty() {
                failures.push(format!("{rule_file}: negative #{i} fired"));
            }
        }
        tested += 1;
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Every detection rule of the pack has a test file.
    let detection_rules = BUILTIN_RULES
        .iter()
        .filter(|(n, _)| !n.contains("correlations/"))
        .count();
    assert_eq!(tested, detection_rules, "rules without tests");
}
