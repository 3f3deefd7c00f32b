//! Correlation semantics, built from the examples of the Sigma correlation specification,
//! with the boundary cases: at the threshold, just outside the timespan, out-of-order input,
//! the ordered variant seeing the wrong order, bounded state.

use dragnet_event::{Analyzer, Event, Finding, Provenance, SourceFormat, Timestamp, Value};
use dragnet_sigma::correlation::{run_correlations, CorrelationLimits, Correlator};
use dragnet_sigma::{EngineBuilder, LoadOptions};
use std::sync::Arc;

const BASE: &str = r#"
title: Failed logon
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Successful logon
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
    condition: selection
"#;

/// Security event at `secs` after a fixed start.
fn ev(secs: i64, eid: i64, fields: &[(&str, &str)]) -> Event {
    let mut e = Event::new(Provenance {
        path: "sec.evtx".into(),
        record: secs as u64 + 1,
        format: SourceFormat::Evtx,
    });
    e.time = Timestamp::from_nanos(1_700_000_000_000_000_000 + secs * 1_000_000_000);
    e.host = "DC01".into();
    e.push("Channel", Value::str("Security"));
    e.push("EventID", Value::Int(eid));
    e.push("Computer", Value::str("DC01"));
    for (k, v) in fields {
        e.push(*k, Value::str(*v));
    }
    e
}

/// Detect on the events (in the order given), then correlate like the pipeline does.
fn run(yaml: &str, events: &[Event]) -> Vec<Finding> {
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(yaml, "corr.yml");
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    let mut findings = Vec::new();
    for e in events {
        engine.detect_into(e, &mut findings);
    }
    let mut c = engine
        .correlator(CorrelationLimits::default())
        .expect("correlations");
    run_correlations(&mut c, findings)
}

fn titles(f: &[Finding]) -> Vec<String> {
    f.iter().map(|f| f.rule.title.clone()).collect()
}

fn count_of(f: &[Finding], title: &str) -> usize {
    f.iter().filter(|f| f.rule.title == title).count()
}

fn corr(body: &str) -> String {
    format!("{BASE}---\ntitle: CORR\nid: 0e95725d-7320-415d-80f7-004da920fc11\nlevel: high\ntags:\n  - attack.t1110\ncorrelation:\n{body}")
}

#[test]
fn event_count_at_threshold_and_just_outside_the_timespan() {
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        gte: 3\n");
    let u = [("TargetUserName", "alice")];
    // Exactly 3 within exactly 60 s (boundary inclusive): fires once.
    let f = run(&y, &[ev(0, 4625, &u), ev(30, 4625, &u), ev(60, 4625, &u)]);
    assert_eq!(count_of(&f, "CORR"), 1, "{:?}", titles(&f));
    let c = f.iter().find(|f| f.rule.title == "CORR").unwrap();
    assert_eq!(c.details["count"], 3);
    assert_eq!(c.details["TargetUserName"], "alice");
    assert_eq!(c.events.len(), 3, "lists the events that made it");
    assert_eq!(c.level, dragnet_event::Level::High);
    assert_eq!(&*c.attack, ["T1110"]);
    // Base findings are not reported on their own (no `generate`).
    assert_eq!(count_of(&f, "Failed logon"), 0);
    // Just outside: the third one is 61 s after the first.
    let f = run(&y, &[ev(0, 4625, &u), ev(30, 4625, &u), ev(61, 4625, &u)]);
    assert_eq!(count_of(&f, "CORR"), 0);
    // Below the threshold.
    let f = run(&y, &[ev(0, 4625, &u), ev(1, 4625, &u)]);
    assert_eq!(count_of(&f, "CORR"), 0);
    // Different group-by values do not add up.
    let f = run(
        &y,
        &[
            ev(0, 4625, &u),
            ev(1, 4625, &u),
            ev(2, 4625, &[("TargetUserName", "bob")]),
        ],
    );
    assert_eq!(count_of(&f, "CORR"), 0);
}

#[test]
fn gt_is_strict() {
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        gt: 3\n");
    let u = [("TargetUserName", "alice")];
    assert_eq!(
        count_of(
            &run(&y, &[ev(0, 4625, &u), ev(1, 4625, &u), ev(2, 4625, &u)]),
            "CORR"
        ),
        0
    );
    assert_eq!(
        count_of(
            &run(
                &y,
                &[
                    ev(0, 4625, &u),
                    ev(1, 4625, &u),
                    ev(2, 4625, &u),
                    ev(3, 4625, &u)
                ]
            ),
            "CORR"
        ),
        1
    );
}

#[test]
fn out_of_order_input_is_put_in_time_order() {
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        gte: 3\n");
    let u = [("TargetUserName", "alice")];
    // As if read from three files in any order.
    let f = run(&y, &[ev(50, 4625, &u), ev(0, 4625, &u), ev(20, 4625, &u)]);
    assert_eq!(count_of(&f, "CORR"), 1);
}

#[test]
fn value_count_password_spraying() {
    let y = corr("    type: value_count\n    rules: [failed_login]\n    group-by: [IpAddress]\n    timespan: 5m\n    condition:\n        field: TargetUserName\n        gte: 3\n");
    let e =
        |t: i64, user: &str, ip: &str| ev(t, 4625, &[("TargetUserName", user), ("IpAddress", ip)]);
    // Same user three times: one distinct value.
    assert_eq!(
        count_of(
            &run(
                &y,
                &[
                    e(0, "a", "10.0.0.9"),
                    e(1, "a", "10.0.0.9"),
                    e(2, "a", "10.0.0.9")
                ]
            ),
            "CORR"
        ),
        0
    );
    let f = run(
        &y,
        &[
            e(0, "a", "10.0.0.9"),
            e(1, "b", "10.0.0.9"),
            e(2, "c", "10.0.0.9"),
        ],
    );
    assert_eq!(count_of(&f, "CORR"), 1);
    assert_eq!(f[0].details["distinct_values"], 3);
    assert_eq!(f[0].details["IpAddress"], "10.0.0.9");
}

#[test]
fn temporal_in_any_order_same_group_only() {
    let y = corr("    type: temporal\n    rules: [failed_login, successful_login]\n    group-by: [TargetUserName]\n    timespan: 10m\n");
    let u = [("TargetUserName", "alice")];
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4624, &u), ev(60, 4625, &u)]), "CORR"),
        1
    );
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4625, &u), ev(60, 4624, &u)]), "CORR"),
        1
    );
    assert_eq!(
        count_of(
            &run(
                &y,
                &[ev(0, 4625, &u), ev(60, 4624, &[("TargetUserName", "bob")])]
            ),
            "CORR"
        ),
        0
    );
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4625, &u), ev(601, 4624, &u)]), "CORR"),
        0
    );
}

#[test]
fn temporal_ordered_needs_the_order() {
    let y = corr("    type: temporal_ordered\n    rules: [failed_login, successful_login]\n    group-by: [TargetUserName]\n    timespan: 10m\n");
    let u = [("TargetUserName", "alice")];
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4625, &u), ev(60, 4624, &u)]), "CORR"),
        1
    );
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4624, &u), ev(60, 4625, &u)]), "CORR"),
        0,
        "wrong order"
    );
}

#[test]
fn chain_failed_logins_then_success_from_the_specification() {
    let y = format!(
        "{BASE}---\ntitle: Many failed then success\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\nlevel: high\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n    group-by:\n        - TargetUserName\n    timespan: 10m\n---\ntitle: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - TargetUserName\n    timespan: 10m\n    condition:\n        gte: 3\n"
    );
    let u = [("TargetUserName", "alice")];
    let f = run(
        &y,
        &[
            ev(0, 4625, &u),
            ev(10, 4625, &u),
            ev(20, 4625, &u),
            ev(30, 4624, &u),
        ],
    );
    assert_eq!(
        titles(&f),
        vec!["Many failed then success"],
        "only the outermost correlation is reported"
    );
    assert_eq!(f[0].events.len(), 4, "the chain lists the base events");
    // Success before the failures: nothing.
    let f = run(
        &y,
        &[
            ev(0, 4624, &u),
            ev(10, 4625, &u),
            ev(20, 4625, &u),
            ev(30, 4625, &u),
        ],
    );
    assert!(f.is_empty(), "{:?}", titles(&f));
}

#[test]
fn aliases_group_across_field_names() {
    let y = format!(
        "{BASE}---\ntitle: CORR\nid: c1\ncorrelation:\n    type: temporal\n    rules: [failed_login, successful_login]\n    group-by: [user]\n    timespan: 10m\n    aliases:\n        user:\n            failed_login: TargetUserName\n            successful_login: SubjectUserName\n"
    );
    let f = run(
        &y,
        &[
            ev(0, 4625, &[("TargetUserName", "alice")]),
            ev(5, 4624, &[("SubjectUserName", "alice")]),
        ],
    );
    assert_eq!(count_of(&f, "CORR"), 1);
    assert_eq!(f[0].details["user"], "alice");
    let f = run(
        &y,
        &[
            ev(0, 4625, &[("TargetUserName", "alice")]),
            ev(5, 4624, &[("SubjectUserName", "bob")]),
        ],
    );
    assert_eq!(count_of(&f, "CORR"), 0);
}

#[test]
fn generate_keeps_the_base_findings() {
    let y = corr("    type: event_count\n    generate: true\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        gte: 2\n");
    let u = [("TargetUserName", "alice")];
    let f = run(&y, &[ev(0, 4625, &u), ev(1, 4625, &u)]);
    assert_eq!(count_of(&f, "CORR"), 1);
    assert_eq!(count_of(&f, "Failed logon"), 2);
}

#[test]
fn value_sum_avg_median_percentile() {
    let mk = |kind: &str, op: &str, n: &str| {
        corr(&format!("    type: {kind}\n    rules: [failed_login]\n    group-by: [IpAddress]\n    timespan: 1h\n    condition:\n        field: Bytes\n        {op}: {n}\n"))
    };
    let e = |t: i64, b: &str| ev(t, 4625, &[("IpAddress", "10.1.1.1"), ("Bytes", b)]);
    let evs = [e(0, "100"), e(1, "200"), e(2, "900")];
    assert_eq!(
        count_of(&run(&mk("value_sum", "gte", "1200"), &evs), "CORR"),
        1
    );
    assert_eq!(
        count_of(&run(&mk("value_sum", "gt", "1200"), &evs), "CORR"),
        0
    );
    assert_eq!(
        count_of(&run(&mk("value_avg", "gte", "400"), &evs), "CORR"),
        1
    );
    assert_eq!(
        count_of(&run(&mk("value_avg", "gt", "400"), &evs), "CORR"),
        0
    );
    assert_eq!(
        count_of(&run(&mk("value_median", "gte", "200"), &evs), "CORR"),
        1
    );
    assert_eq!(
        count_of(&run(&mk("value_median", "gt", "200"), &evs), "CORR"),
        0
    );
    // Percentile: a value seen in at most 25% of the window (a rare value), judged at close.
    let rare = mk("value_percentile", "lte", "25");
    let evs: Vec<Event> = (0..8)
        .map(|i| e(i, "common"))
        .chain([e(9, "rare")])
        .collect();
    let f = run(&rare, &evs);
    assert_eq!(
        count_of(&f, "CORR"),
        1,
        "{:?}",
        f.iter().map(|f| &f.details).collect::<Vec<_>>()
    );
    let evs: Vec<Event> = (0..8).map(|i| e(i, "common")).collect();
    assert_eq!(count_of(&run(&rare, &evs), "CORR"), 0);
}

#[test]
fn upper_bound_conditions_are_judged_when_the_window_closes() {
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        lt: 2\n");
    let u = [("TargetUserName", "alice")];
    assert_eq!(count_of(&run(&y, &[ev(0, 4625, &u)]), "CORR"), 1);
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4625, &u), ev(10, 4625, &u)]), "CORR"),
        0
    );
    // Range: gt 1 and lte 3.
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        gt: 1\n        lte: 3\n");
    assert_eq!(
        count_of(&run(&y, &[ev(0, 4625, &u), ev(10, 4625, &u)]), "CORR"),
        1
    );
}

#[test]
fn state_stays_bounded_with_a_million_distinct_groups() {
    let y = corr("    type: event_count\n    rules: [failed_login]\n    group-by: [TargetUserName]\n    timespan: 1d\n    condition:\n        gte: 2\n");
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(&y, "corr.yml");
    let (engine, _) = b.build();
    let limits = CorrelationLimits {
        max_entries: 50_000,
        max_events: 10,
    };
    let mut c: Correlator = engine.correlator(limits).unwrap();
    let meta = Arc::new(dragnet_event::RuleMeta {
        id: "53ba33fd-3a50-4468-a5ef-c583635cfa92".into(),
        title: "Failed logon".into(),
        ..Default::default()
    });
    let src = Provenance {
        path: "x".into(),
        record: 1,
        format: SourceFormat::Evtx,
    };
    let mut out = Vec::new();
    let mut peak = 0;
    for i in 0..1_000_000u64 {
        let mut f = Finding::new(
            meta.clone(),
            dragnet_event::Level::Low,
            Timestamp::from_nanos(i as i64 * 1_000_000),
            "DC01",
            src.clone(),
        );
        f.details
            .insert("TargetUserName".into(), format!("user{i}").into());
        c.observe_finding(&f, &mut out);
        peak = peak.max(c.entries());
    }
    assert!(peak <= limits.max_entries + 1, "peak entries {peak}");
    assert!(
        c.state_bytes() < 64 << 20,
        "state {} bytes",
        c.state_bytes()
    );
    assert!(
        c.evicted_groups() > 900_000,
        "evicted {}",
        c.evicted_groups()
    );
    assert!(out.is_empty(), "no group reached 2 events");
}

#[test]
fn eq_and_neq_and_references_by_id() {
    // Referenced by id, not name.
    let by_id = |cond: &str| {
        corr(&format!(
            "    type: event_count\n    rules: [53ba33fd-3a50-4468-a5ef-c583635cfa92]\n    group-by: [TargetUserName]\n    timespan: 1m\n    condition:\n        {cond}\n"
        ))
    };
    let u = [("TargetUserName", "alice")];
    let two = [ev(0, 4625, &u), ev(5, 4625, &u)];
    let three = [ev(0, 4625, &u), ev(5, 4625, &u), ev(9, 4625, &u)];
    assert_eq!(count_of(&run(&by_id("eq: 2"), &two), "CORR"), 1);
    assert_eq!(count_of(&run(&by_id("eq: 2"), &three), "CORR"), 0);
    assert_eq!(count_of(&run(&by_id("neq: 2"), &three), "CORR"), 1);
    assert_eq!(count_of(&run(&by_id("neq: 2"), &two), "CORR"), 0);
    assert_eq!(count_of(&run(&by_id("gte: 3"), &three), "CORR"), 1);
}
