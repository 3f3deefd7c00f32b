//! Quick matcher measurement: `cargo run --release -p dragnet-sigma --example match_rate --
//! RULES_DIR... -- EVIDENCE...` loads the rules, reads the evidence into memory, then times
//! the optimized and the reference evaluation over the events.

use dragnet_ingest::{discover, read_file, ReadOptions};
use dragnet_sigma::{EngineBuilder, LoadOptions};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let rules: Vec<PathBuf> = args[..split].iter().map(PathBuf::from).collect();
    let inputs: Vec<PathBuf> = args
        .get(split + 1..)
        .unwrap_or(&[])
        .iter()
        .map(PathBuf::from)
        .collect();
    let t = Instant::now();
    let mut b = EngineBuilder::new(LoadOptions::default());
    for r in &rules {
        b.add_path(r).unwrap();
    }
    let parsed = t.elapsed().as_secs_f64();
    let (engine, errors) = b.build();
    println!(
        "parse {parsed:.3}s; load+compile: {} rules, {} errors, {:.3}s",
        engine.rule_count(),
        errors.len(),
        t.elapsed().as_secs_f64()
    );
    if std::env::var_os("BUCKETS").is_some() {
        for (ch, eid, n, always, scans) in engine.buckets() {
            println!("bucket {ch} {eid:?}: {n} rules, {always} always");
            for (f, lits, folded) in scans {
                println!(
                    "    {f} {lits} literals{}",
                    if folded { "" } else { " (raw, every field)" }
                );
            }
        }
    }
    let t = Instant::now();
    let disc = discover(&inputs).unwrap();
    let mut events = Vec::new();
    for f in &disc.files {
        read_file(
            f,
            &ReadOptions { threads: 1 },
            &mut |e| events.push(e),
            &mut |_| {},
        );
    }
    println!(
        "read: {} events, {:.3}s",
        events.len(),
        t.elapsed().as_secs_f64()
    );
    let (mut cand, mut bucket, mut always) = (0usize, 0usize, 0usize);
    let mut by_eid: std::collections::BTreeMap<String, (usize, usize, usize, usize)> =
        Default::default();
    for e in &events {
        let (c, b, a) = engine.prefilter_counts(e);
        cand += c;
        bucket += b;
        always += a;
        let k = format!(
            "{}/{}",
            e.channel().unwrap_or("-"),
            e.event_id().unwrap_or(-1)
        );
        let s = by_eid.entry(k).or_default();
        s.0 += 1;
        s.1 += c;
        s.2 += b;
        s.3 += a;
    }
    if std::env::var_os("PROFILE_RULES").is_some() {
        for t in engine.unfiltered_rules("Microsoft-Windows-Sysmon/Operational", 1) {
            println!("always: {t}");
        }
        let sample: Vec<_> = events.iter().filter(|e| e.event_id() == Some(1)).collect();
        let mut costs: Vec<(f64, String)> = Vec::new();
        for (i, r) in engine.rules().iter().enumerate() {
            let t = Instant::now();
            for e in &sample {
                std::hint::black_box(engine.matches_ignoring_route(i, e));
            }
            costs.push((
                t.elapsed().as_secs_f64() / sample.len().max(1) as f64 * 1e6,
                r.rule.meta.title.clone(),
            ));
        }
        costs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (us, t) in costs.iter().take(15) {
            println!("{us:8.2} us/event  {t}");
        }
    }
    let t = Instant::now();
    let mut total = 0usize;
    let mut cost: std::collections::HashMap<String, f64> = Default::default();
    for e in &events {
        let t1 = Instant::now();
        total += engine.prefilter_counts(e).0;
        let k = format!(
            "{}/{}",
            e.channel().unwrap_or("-"),
            e.event_id().unwrap_or(-1)
        );
        *cost.entry(k).or_default() += t1.elapsed().as_secs_f64();
    }
    let mut cost: Vec<_> = cost.into_iter().collect();
    cost.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (k, s) in cost.iter().take(12) {
        println!("  prefilter {k}: {s:.3}s");
    }
    println!(
        "prefilter only: {:.3}s ({total})",
        t.elapsed().as_secs_f64()
    );
    let n = events.len().max(1);
    println!(
        "per event: {:.1} candidates of {:.1} rules ({:.1} always)",
        cand as f64 / n as f64,
        bucket as f64 / n as f64,
        always as f64 / n as f64
    );
    let mut rows: Vec<_> = by_eid.into_iter().collect();
    rows.sort_by_key(|(_, v)| std::cmp::Reverse(v.1));
    for (k, (cnt, c, b, a)) in rows.iter().take(8) {
        println!(
            "  {k}: {cnt} events, {:.1} cand / {:.1} rules / {:.1} always",
            *c as f64 / *cnt as f64,
            *b as f64 / *cnt as f64,
            *a as f64 / *cnt as f64
        );
    }
    let modes: &[(&str, bool)] = if std::env::var_os("OPTIMIZED_ONLY").is_some() {
        &[("optimized", false)]
    } else {
        &[("optimized", false), ("reference", true)]
    };
    for &(name, reference) in modes {
        let t = Instant::now();
        let mut out = Vec::new();
        for e in &events {
            if reference {
                engine.detect_reference(e, &mut out);
            } else {
                engine.detect_into(e, &mut out);
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{name}: {} findings, {:.3}s, {:.0} events/s",
            out.len(),
            s,
            events.len() as f64 / s
        );
    }
}
