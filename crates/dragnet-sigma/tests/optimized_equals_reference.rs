//! Findings are identical with and without every optimization (routing index, prefilter):
//! the optimized path and the naive reference evaluation are run over the SigmaHQ regression
//! corpus and the EVTX attack samples with the whole SigmaHQ rule set, and compared.

mod common;
use common::shared;
use dragnet_event::Finding;
use dragnet_ingest::{discover, read_file, ReadOptions};
use dragnet_sigma::{EngineBuilder, LoadOptions};

fn key(f: &Finding) -> (String, u64, String) {
    (
        f.source.path.to_string(),
        f.source.record,
        f.rule.id.clone(),
    )
}

#[test]
fn optimized_and_reference_findings_are_identical() {
    let Some(shared) = shared() else { return };
    let repo = shared.join("data/sigma/sigmahq");
    let mut b = EngineBuilder::new(LoadOptions::default());
    for d in ["rules", "rules-threat-hunting", "rules-emerging-threats"] {
        b.add_path(&repo.join(d)).unwrap();
    }
    b.add_builtin();
    let (engine, _) = b.build();
    let inputs = vec![
        repo.join("regression_data"),
        shared.join("data/evtx/attack-samples"),
    ];
    let disc = discover(&inputs).unwrap();
    let (mut events, mut fast, mut slow) = (0u64, Vec::new(), Vec::new());
    for file in &disc.files {
        read_file(
            file,
            &ReadOptions { threads: 1 },
            &mut |ev| {
                events += 1;
                engine.detect_into(&ev, &mut fast);
                engine.detect_reference(&ev, &mut slow);
            },
            &mut |_| {},
        );
    }
    let mut a: Vec<_> = fast.iter().map(key).collect();
    let mut b: Vec<_> = slow.iter().map(key).collect();
    a.sort();
    b.sort();
    eprintln!(
        "{events} events, {} findings (optimized), {} (reference)",
        a.len(),
        b.len()
    );
    assert!(events > 8000, "corpus not read: {events} events");
    assert!(b.len() > 500, "reference found too little: {}", b.len());
    let missing: Vec<_> = b
        .iter()
        .filter(|k| a.binary_search(k).is_err())
        .take(20)
        .collect();
    let extra: Vec<_> = a
        .iter()
        .filter(|k| b.binary_search(k).is_err())
        .take(20)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert_eq!(a, b);
}
