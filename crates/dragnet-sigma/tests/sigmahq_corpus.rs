//! The public SigmaHQ rule set loads unchanged (needs the shared data; skipped loudly when
//! it is absent).

mod common;
use common::shared;
use dragnet_sigma::{EngineBuilder, LoadOptions, Routing};

#[test]
fn every_sigmahq_rule_loads() {
    let Some(shared) = shared() else { return };
    let repo = shared.join("data/sigma/sigmahq");
    let mut b = EngineBuilder::new(LoadOptions::default());
    for d in [
        "rules",
        "rules-threat-hunting",
        "rules-emerging-threats",
        "rules-compliance",
    ] {
        b.add_path(&repo.join(d)).unwrap();
    }
    let files = b.files();
    let (engine, errors) = b.build();
    for e in &errors {
        eprintln!("{e}");
    }
    let routed = engine
        .rules()
        .iter()
        .filter(|r| !matches!(r.routing, Routing::Unrouted(_)))
        .count();
    eprintln!(
        "files {files}, detection rules {}, correlations {}, filters {}, routed {routed}, failed {}",
        engine.rule_count(),
        engine.correlations().len(),
        engine.filters().len(),
        errors.len()
    );
    // The only rules allowed to fail are those whose `expand` placeholders have no values
    // here: the specification says such a rule is reported and skipped.
    let other: Vec<_> = errors
        .iter()
        .filter(|e| !e.message.contains("placeholder %"))
        .collect();
    assert!(other.is_empty(), "rules failed to load: {other:?}");
    assert!(
        errors.len() <= 5,
        "{} placeholder rules failed",
        errors.len()
    );
    assert!(
        engine.rule_count() >= 3700,
        "only {} rules",
        engine.rule_count()
    );
    // Every rule keeps its author (Detection Rule License).
    let no_author: Vec<_> = engine
        .rules()
        .iter()
        .filter(|r| r.rule.meta.author.is_empty())
        .map(|r| r.rule.meta.title.clone())
        .collect();
    assert!(no_author.len() < 5, "rules without author: {no_author:?}");
}
