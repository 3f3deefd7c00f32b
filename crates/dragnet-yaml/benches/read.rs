//! Reading rule files: the fast reader for plain block YAML against the general parser, over
//! every SigmaHQ rule file (or the built-in pack's rules when the shared data is absent).
//! `cargo bench -p dragnet-yaml --bench read`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

fn texts() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let sigma = shared.join("data/sigma/sigmahq");
    let mut files = Vec::new();
    if sigma.is_dir() {
        for d in ["rules", "rules-threat-hunting", "rules-emerging-threats"] {
            yaml_files(&sigma.join(d), &mut files);
        }
    } else {
        eprintln!(
            "read bench: no shared data at {}: the built-in pack's rules",
            shared.display()
        );
        yaml_files(&root.join("rules"), &mut files);
    }
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let texts = texts();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("rule_files");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("parse_documents", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter_map(|t| dragnet_yaml::parse_documents(t).ok())
                .count()
        })
    });
    g.bench_function("general_parser", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter_map(|t| dragnet_yaml::parse_documents_general(t).ok())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
