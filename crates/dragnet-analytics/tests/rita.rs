//! RITA's test data (../shared/data/zeek/rita, see its GROUND_TRUTH.md) read through dragnet's
//! Zeek readers and scored by the beacon analytic.

mod common;

use common::{events, shared};
use dragnet_analytics::{BeaconAnalyzer, BeaconConfig, Dst, NetRecord, PairResult};
use dragnet_event::Level;

fn analyse(sub: &str) -> Option<Vec<PairResult>> {
    let dir = shared(&format!("data/zeek/rita/test_data/{sub}"))?;
    let mut a = BeaconAnalyzer::new(BeaconConfig::default());
    for e in events(&dir) {
        if let Some(r) = NetRecord::from_event(&e) {
            a.observe(&r);
        }
    }
    Some(a.results())
}

fn find<'a>(rs: &'a [PairResult], src: &str, dst: &str) -> &'a PairResult {
    rs.iter()
        .find(|r| r.src.to_string() == src && r.dst.to_string() == dst)
        .unwrap_or_else(|| panic!("no result for {src} -> {dst}"))
}

fn show(r: &PairResult) {
    println!(
        "{} -> {} [{}]: beacon {:?}, long {:.3}, final {:.3}, count {}, mods {:?}",
        r.src,
        r.dst,
        r.beacon_type,
        r.beacon,
        r.long_conn_threat,
        r.final_score,
        r.count,
        r.modifiers
    );
}

#[test]
fn proxy_c2_beacon_scores_like_rita() {
    let Some(rs) = analyse("proxy") else { return };
    let r = find(&rs, "10.136.0.18", "www.honestimnotevil.com");
    show(r);
    assert!(matches!(r.dst, Dst::Fqdn(_)));
    let b = r.beacon.as_ref().expect("scored as a beacon");
    assert!((b.score - 0.979).abs() <= 0.01, "beacon score {}", b.score);
    assert_eq!(r.count, 357);
    assert_eq!(r.proxy_count, 357);
    assert!(stats_level(r.beacon_threat + r.modifier_sum()) >= Level::High);
    // The benign periodic pair of the same dataset.
    let g = find(&rs, "10.136.0.18", "www.google.com");
    show(g);
    let gb = g.beacon.as_ref().expect("google scored");
    assert!((gb.score - 0.586).abs() <= 0.05, "google {}", gb.score);
    assert!(
        stats_level(g.final_score) < Level::High,
        "google final {}",
        g.final_score
    );
}

fn stats_level(x: f64) -> Level {
    dragnet_analytics::stats::level_of(x)
}

#[test]
fn missing_host_beacon_and_long_connection() {
    let Some(rs) = analyse("missing_host") else {
        return;
    };
    let r = find(&rs, "73.54.23.243", "64.225.56.201");
    show(r);
    let b = r.beacon.as_ref().expect("scored as a beacon");
    assert!((b.score - 0.963).abs() <= 0.01, "beacon score {}", b.score);
    assert_eq!(r.count, 331);
    // RITA counts 330; one more request's connection falls in the window here.
    assert!((330..=331).contains(&r.missing_host), "{}", r.missing_host);
    assert!(
        r.long_conn_threat >= 0.8 - 1e-9,
        "long connection graded high: {}",
        r.long_conn_threat
    );
    assert!(
        (r.total_duration - 270_036.63).abs() < 5.0,
        "total duration {}",
        r.total_duration
    );
    assert!(r.modifiers.iter().any(|m| m.0 == "missing_host_header"));
    assert!(r.modifiers.iter().any(|m| m.0 == "rare_signature"));
    assert!(
        stats_level(r.final_score) == Level::Critical,
        "final {}",
        r.final_score
    );
}

#[test]
fn benign_periodic_pairs_stay_below_high() {
    let Some(rs) = analyse("proxy_rolling") else {
        return;
    };
    for r in rs.iter().take(15) {
        show(r);
    }
    for (src, dst) in [
        ("10.0.0.238", "75.75.75.75"),
        ("10.0.0.111", "safebrowsing.googleapis.com"),
    ] {
        if let Some(r) = rs
            .iter()
            .find(|r| r.src.to_string() == src && r.dst.to_string() == dst)
        {
            show(r);
            assert!(
                stats_level(r.final_score) < Level::High,
                "{src} -> {dst}: final {}",
                r.final_score
            );
        }
    }
}

#[test]
fn network_analyzer_takes_events_in_any_order() {
    use dragnet_event::Analyzer;
    let Some(dir) = shared("data/zeek/rita/test_data/proxy") else {
        return;
    };
    let mut evs = events(&dir);
    // Files interleaved, as the hunt pipeline feeds them: here simply reversed.
    evs.reverse();
    let mut a = dragnet_analytics::NetworkAnalytics::default().analyzer();
    assert!(a.wants_events());
    let mut out = Vec::new();
    for e in &evs {
        a.observe_event(e, &mut out);
    }
    a.finish(&mut out);
    let f = out
        .iter()
        .find(|f| {
            f.rule.id == "dragnet-net-beacon" && f.details["dst"] == "www.honestimnotevil.com"
        })
        .expect("beacon finding");
    let score = f.details["beacon_score"].as_f64().unwrap();
    assert!((score - 0.979).abs() <= 0.01, "{score}");
    assert_eq!(f.details["src"], "10.136.0.18");
    assert!(f.details["explanation"]
        .as_str()
        .unwrap()
        .contains("beacon score"));
}
