//! The network analyzer's memory is bounded: with a small budget it spills sorted runs to
//! temporary files, its state stays under the budget however many records (and keys) it is
//! fed, and the findings are exactly those of an unbounded run.

use dragnet_analytics::NetworkAnalytics;
use dragnet_event::{Analyzer, Event, Finding, Provenance, SourceFormat, Timestamp, Value};
use std::sync::Arc;

fn json(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    v.sort();
    v
}

/// Feed `events` and return the findings and the largest `state_bytes` seen while feeding.
fn feed(
    mut a: dragnet_analytics::NetworkAnalyzer,
    events: &[Event],
) -> (Vec<Finding>, usize, dragnet_analytics::SpillStats) {
    let mut out = Vec::new();
    let mut max_state = 0;
    for e in events {
        a.observe_event(e, &mut out);
        max_state = max_state.max(a.state_bytes());
    }
    a.finish(&mut out);
    (out, max_state, a.spill_stats().clone())
}

#[test]
fn spilling_keeps_the_findings_and_the_budget_on_the_simulated_intrusion() {
    let out =
        std::env::temp_dir().join(format!("dragnet-analytics-bounded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    dragnet_simulate::simulate(&dragnet_simulate::SimConfig::default(), &out).expect("simulate");
    let d = dragnet_ingest::discover(&[out.join("zeek"), out.join("iis")]).unwrap();
    // Files interleaved in chunks, as the hunt's reading threads feed them.
    let mut per_file: Vec<Vec<Event>> = Vec::new();
    for f in &d.files {
        let mut v = Vec::new();
        dragnet_ingest::read_file(f, &Default::default(), &mut |e| v.push(e), &mut |_| {});
        per_file.push(v);
    }
    let mut events = Vec::new();
    let mut cursors = vec![0usize; per_file.len()];
    loop {
        let mut any = false;
        for (i, v) in per_file.iter().enumerate() {
            let end = (cursors[i] + 500).min(v.len());
            events.extend_from_slice(&v[cursors[i]..end]);
            any |= end > cursors[i];
            cursors[i] = end;
        }
        if !any {
            break;
        }
    }
    assert!(events.len() > 10_000, "{}", events.len());
    let na = NetworkAnalytics::default();
    let (all, _, s0) = feed(na.analyzer(), &events);
    assert_eq!(s0.runs, 0);
    let budget = 256 << 10;
    let (bounded, max_state, s) = feed(na.analyzer_with_budget(budget), &events);
    eprintln!(
        "{} events, {} findings; bounded: {s:?}, peak buffer {max_state} B",
        events.len(),
        all.len()
    );
    assert!(s.runs >= 4, "{s:?}");
    assert_eq!(s.dropped, 0);
    assert!(max_state <= budget, "{max_state} > {budget}");
    assert!(!all.is_empty());
    assert_eq!(json(&bounded), json(&all));
    let _ = std::fs::remove_dir_all(&out);
}

fn conn(i: u64) -> Event {
    let mut e = Event::new(Provenance {
        path: Arc::from("conn.log"),
        record: i + 1,
        format: SourceFormat::ZeekTsv,
    });
    // Out of order: times go back and forth.
    let t = 1_772_434_800 + ((i * 7_919) % 86_400) as i64;
    e.time = Timestamp::from_nanos(t * 1_000_000_000);
    let src = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    for (k, v) in [
        ("_product", Value::str("zeek")),
        ("_service", Value::str("conn")),
        ("_path", Value::str("conn")),
        ("uid", Value::str(format!("C{i}"))),
        ("id.orig_h", Value::str(src)),
        ("id.orig_p", Value::Int(40_000)),
        (
            "id.resp_h",
            Value::str(format!("198.51.{}.{}", (i >> 8) & 255, i & 255)),
        ),
        ("id.resp_p", Value::Int(443)),
        ("proto", Value::str("tcp")),
        ("service", Value::str("ssl")),
        ("duration", Value::Float(1.5)),
        ("orig_bytes", Value::Int(1_000)),
        ("resp_bytes", Value::Int(5_000)),
    ] {
        e.push(k, v);
    }
    e
}

#[test]
fn state_stays_under_the_budget_with_far_more_keys() {
    // 300,000 distinct pairs (~100 MB of records unbounded) through a 1 MiB budget.
    let budget = 1 << 20;
    let mut a = NetworkAnalytics::default().analyzer_with_budget(budget);
    let mut out = Vec::new();
    let mut max_state = 0;
    for i in 0..300_000u64 {
        a.observe_event(&conn(i), &mut out);
        max_state = max_state.max(a.state_bytes());
    }
    assert!(max_state <= budget, "{max_state} > {budget}");
    let s = a.spill_stats().clone();
    assert!(s.runs >= 50, "{s:?}");
    // All but the last buffer's worth went to runs.
    assert!(
        s.records_spilled > 290_000 && s.records_spilled < 300_000,
        "{s:?}"
    );
    assert_eq!(s.dropped, 0);
    a.finish(&mut out);
    // The analytics' own state is capped too (pairs, per-pair entries, uids).
    let peaks = a.peaks.clone();
    eprintln!("spill {s:?}; analytics peaks {peaks:?}");
    assert!(peaks.values().all(|&p| p < 512 << 20), "{peaks:?}");
}

/// On a large input (`DRAGNET_BIG_SIM=DIR`, e.g. `dragnet simulate --scale 50 --out DIR`):
/// the default budget (which spills there) gives the same findings as an unbounded buffer.
#[test]
#[ignore = "needs DRAGNET_BIG_SIM (a large simulated evidence folder); slow"]
fn large_input_same_findings_as_unbounded() {
    let Some(dir) = std::env::var_os("DRAGNET_BIG_SIM") else {
        eprintln!("SKIPPED: DRAGNET_BIG_SIM not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let d = dragnet_ingest::discover(&[dir.join("zeek"), dir.join("iis")]).unwrap();
    let na = NetworkAnalytics::default();
    let mut big = na.analyzer_with_budget(usize::MAX / 2);
    let mut bounded = na.analyzer();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut max_state = 0;
    for f in &d.files {
        dragnet_ingest::read_file(
            f,
            &Default::default(),
            &mut |e| {
                big.observe_event(&e, &mut a);
                bounded.observe_event(&e, &mut b);
                max_state = max_state.max(bounded.state_bytes());
            },
            &mut |_| {},
        );
    }
    big.finish(&mut a);
    bounded.finish(&mut b);
    eprintln!(
        "{} findings; bounded {:?}, peak buffer {max_state} B; analytics peaks {:?}",
        a.len(),
        bounded.spill_stats(),
        bounded.peaks
    );
    assert!(max_state <= bounded.budget());
    assert_eq!(json(&b), json(&a));
}
