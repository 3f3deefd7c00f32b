//! Print the lateral-movement graph of some evidence (and, with `--dump ID,...`, the events of
//! those EventIDs): `cargo run -p dragnet-incident --example lateral -- PATH... [--dump 4624]`.

use dragnet_event::Analyzer;
use dragnet_incident::{GraphLimits, LateralGraph};
use std::path::PathBuf;

fn main() {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut dump: Vec<i64> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--dump" {
            dump = args
                .next()
                .unwrap_or_default()
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect();
        } else {
            paths.push(a.into());
        }
    }
    let d = match dragnet_ingest::discover(&paths) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let (mut g, handle) = LateralGraph::new(GraphLimits::default());
    let mut out = Vec::new();
    for f in &d.files {
        dragnet_ingest::read_file(
            f,
            &Default::default(),
            &mut |ev| {
                if ev.event_id().is_some_and(|id| dump.contains(&id)) {
                    println!(
                        "{} {} {} {}",
                        ev.time,
                        ev.host,
                        ev.provenance.path,
                        serde_json::Value::Object(ev.fields_json())
                    );
                }
                g.observe_event(&ev, &mut out);
            },
            &mut |_| {},
        );
    }
    g.finish(&mut out);
    let graph = handle.take().expect("graph");
    for e in &graph.edges {
        println!(
            "edge {} -> {} [{}] {} x{} new={} {}",
            e.source, e.target, e.method, e.account, e.count, e.new, e.first
        );
    }
    for f in &out {
        println!(
            "finding {} {} {}",
            f.level, f.rule.id, f.details["explanation"]
        );
    }
    println!("stats {:?}", graph.stats);
}
