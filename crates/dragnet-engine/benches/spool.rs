//! The findings spool: findings handed over in small batches, then walked in timeline order
//! (what a hunt does: sealed, then each finding handed over), kept in memory (no budget: one
//! sort) and through sorted runs on disk (1 MiB budget: write, read back, merge). The findings look like the Sigma engine's: a shared rule, a host,
//! techniques, and details with command lines of realistic length.
//! `cargo bench -p dragnet-engine --bench spool`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dragnet_engine::Spool;
use dragnet_event::{Finding, Level, Provenance, RuleMeta, SourceFormat, Timestamp};
use std::sync::Arc;

const FINDINGS: usize = 20_000;

fn findings() -> Vec<Finding> {
    let rules: Vec<Arc<RuleMeta>> = (0..50)
        .map(|i| {
            Arc::new(RuleMeta {
                id: format!("rule-{i}"),
                title: format!("Rule {i}"),
                author: "bench".into(),
                tags: vec!["attack.execution".into(), "attack.t1059.001".into()],
                ..Default::default()
            })
        })
        .collect();
    let paths: Vec<Arc<str>> = (0..20)
        .map(|i| Arc::from(format!("evidence/host-{i}/Security.evtx")))
        .collect();
    (0..FINDINGS)
        .map(|i| {
            let mut f = Finding::new(
                Arc::clone(&rules[i % rules.len()]),
                Level::Medium,
                // Out of order, as files interleave.
                Timestamp(1_700_000_000_000_000_000 + ((i * 7919) % FINDINGS) as i64 * 1_000_000),
                "WS-17.corp.example",
                Provenance {
                    path: Arc::clone(&paths[i % paths.len()]),
                    record: i as u64,
                    format: SourceFormat::Evtx,
                },
            );
            f.details.insert("EventID".into(), 4688.into());
            f.details.insert("Channel".into(), "Security".into());
            f.details.insert(
                "CommandLine".into(),
                format!(
                    "powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand {}",
                    "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
                        .repeat(1 + i % 3)
                )
                .into(),
            );
            f.details
                .insert("SubjectUserName".into(), format!("user{}", i % 40).into());
            f
        })
        .collect()
}

fn walk(all: &[Finding], budget: usize) -> usize {
    let mut spool = Spool::new(budget);
    for chunk in all.chunks(8) {
        spool.push_all(&mut chunk.to_vec());
    }
    let mut n = 0;
    spool.seal().for_each(&mut |_| n += 1);
    n
}

fn bench(c: &mut Criterion) {
    let all = findings();
    let mut g = c.benchmark_group("spool");
    g.throughput(Throughput::Elements(FINDINGS as u64));
    g.sample_size(10);
    for (name, budget) in [("in_memory", usize::MAX), ("runs_1MiB", 1 << 20)] {
        g.bench_function(name, |b| {
            b.iter_batched(|| (), |()| walk(&all, budget), BatchSize::PerIteration)
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
