//! Reading rule files: the fast reader for plain block YAML against the general parser, over
//! every SigmaHQ rule file (or the built-in pack's rules when the shared data is absent).
//! `cargo bench -p dragnet-yaml --bench read`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;

#[path = "../tests/common/mod.rs"]
mod common;

fn texts() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    match common::shared() {
        Some(shared) => {
            let sigma = shared.join("data/sigma/sigmahq");
            for d in ["rules", "rules-threat-hunting", "rules-emerging-threats"] {
                common::yaml_files(&sigma.join(d), &mut files);
            }
        }
        None => {
            eprintln!("read bench: the built-in pack's rules");
            common::yaml_files(&root.join("rules"), &mut files);
        }
    }
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect()
}

type Reader = fn(&str) -> Result<Vec<dragnet_yaml::Node>, dragnet_yaml::YamlError>;

fn bench(c: &mut Criterion) {
    let texts = texts();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("rule_files");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    let readers: [(&str, Reader); 2] = [
        ("parse_documents", dragnet_yaml::parse_documents),
        ("general_parser", dragnet_yaml::parse_documents_general),
    ];
    for (name, read) in readers {
        g.bench_function(name, |b| {
            b.iter(|| texts.iter().filter_map(|t| read(t).ok()).count())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
