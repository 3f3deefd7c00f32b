//! The matcher on recorded events: the optimized path (routing index + literal prefilter +
//! evaluation), the prefilter alone, and the naive reference evaluation, per event.
//!
//! Rules: the SigmaHQ set (rules/, rules-threat-hunting/, rules-emerging-threats/) plus the
//! built-in pack when the shared data is present, else the built-in pack alone. Events: the
//! SigmaHQ regression corpus and EVTX-ATTACK-SAMPLES, else the bundled samples.
//! `cargo bench -p dragnet-sigma --bench matcher`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dragnet_event::Event;
use dragnet_ingest::{discover, read_file, ReadOptions};
use dragnet_sigma::{Engine, EngineBuilder, LoadOptions};
use std::path::PathBuf;

fn setup() -> (Engine, Vec<Event>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let sigma = shared.join("data/sigma/sigmahq");
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_builtin();
    let inputs = if sigma.is_dir() {
        for d in ["rules", "rules-threat-hunting", "rules-emerging-threats"] {
            b.add_path(&sigma.join(d)).expect("rules");
        }
        vec![
            sigma.join("regression_data"),
            shared.join("data/evtx/attack-samples"),
        ]
    } else {
        eprintln!(
            "matcher bench: no shared data at {}: built-in pack on samples/",
            shared.display()
        );
        vec![root.join("samples")]
    };
    let (engine, _) = b.build();
    let mut events = Vec::new();
    for f in &discover(&inputs).expect("inputs").files {
        read_file(
            f,
            &ReadOptions { threads: 1 },
            &mut |e| events.push(e),
            &mut |_| {},
        );
    }
    (engine, events)
}

fn bench(c: &mut Criterion) {
    let (engine, events) = setup();
    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);
    let mut out = Vec::new();
    g.bench_function("optimized", |b| {
        b.iter(|| {
            out.clear();
            for e in &events {
                engine.detect_into(e, &mut out);
            }
            out.len()
        })
    });
    g.bench_function("prefilter_only", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| engine.prefilter_counts(e).0)
                .sum::<usize>()
        })
    });
    g.bench_function("reference", |b| {
        b.iter(|| {
            out.clear();
            for e in &events {
                engine.detect_reference(e, &mut out);
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
