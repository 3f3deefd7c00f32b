//! What each finding costs once a hunt walks it back: its timeline row (JSONL), the incident
//! stitcher (keys read, a compact member kept; then the stitching) and the reports' digest.
//! The findings look like the Sigma engine's: shared rules, hosts, accounts, addresses and
//! command lines of realistic length.
//! `cargo bench -p dragnet-report --bench walk`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dragnet_event::{Finding, Level, Provenance, RuleMeta, SourceFormat, Timestamp};
use dragnet_incident::{build_report, Stitcher};
use dragnet_report::timeline::{self, Format, TableOptions};
use dragnet_report::Digest;
use std::hint::black_box;
use std::sync::Arc;

const FINDINGS: usize = 20_000;

fn findings() -> Vec<Finding> {
    let tags = [
        "attack.execution",
        "attack.credential-access",
        "attack.lateral-movement",
        "attack.persistence",
    ];
    let rules: Vec<Arc<RuleMeta>> = (0..50)
        .map(|i| {
            Arc::new(RuleMeta {
                id: format!("rule-{i}"),
                title: format!("Rule {i}"),
                author: "bench".into(),
                tags: vec![tags[i % tags.len()].into(), "attack.t1059.001".into()],
                kind: "sigma".into(),
                ..Default::default()
            })
        })
        .collect();
    let paths: Vec<Arc<str>> = (0..20)
        .map(|i| Arc::from(format!("evidence/host-{i}/Security.evtx")))
        .collect();
    // In timeline order, as a walk hands them over.
    (0..FINDINGS)
        .map(|i| {
            let mut f = Finding::new(
                Arc::clone(&rules[i % rules.len()]),
                Level::ALL[2 + i % 3],
                Timestamp(1_700_000_000_000_000_000 + i as i64 * 60_000_000_000),
                &format!("WS-{}.corp.example", i % 40),
                Provenance {
                    path: Arc::clone(&paths[i % paths.len()]),
                    record: i as u64,
                    format: SourceFormat::Evtx,
                },
            );
            f.details.insert("EventID".into(), 4688.into());
            f.details.insert(
                "CommandLine".into(),
                format!(
                    "powershell.exe -NoProfile -EncodedCommand {}",
                    "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
                        .repeat(1 + i % 3)
                )
                .into(),
            );
            f.details
                .insert("SubjectUserName".into(), format!("user{}", i % 60).into());
            f.details.insert("SubjectDomainName".into(), "CORP".into());
            f.details.insert(
                "IpAddress".into(),
                format!("10.0.{}.{}", i % 7, i % 200).into(),
            );
            f.details.insert(
                "DestinationHostname".into(),
                format!("cdn{}.example.net", i % 90).into(),
            );
            f
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = findings();
    let mut g = c.benchmark_group("walk");
    g.throughput(Throughput::Elements(FINDINGS as u64));
    g.sample_size(10);
    g.bench_function("timeline_jsonl", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(16 << 20);
            timeline::write(&mut out, &all, Format::Jsonl, &TableOptions::default()).unwrap();
            black_box(out.len())
        })
    });
    g.bench_function("stitcher_push", |b| {
        b.iter(|| {
            let mut s = Stitcher::new(None);
            for f in &all {
                s.push(f);
            }
            black_box(s.len())
        })
    });
    g.bench_function("stitcher_push_and_finish", |b| {
        b.iter(|| {
            black_box(
                build_report(&all, None, &Default::default())
                    .incidents
                    .len(),
            )
        })
    });
    g.bench_function("digest_push", |b| {
        b.iter(|| black_box(Digest::of(&all, 5_000).count()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
