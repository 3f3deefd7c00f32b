//! The analytics on small synthetic inputs, and Suricata alerts from the shared EVE sample.
#![allow(clippy::too_many_arguments)]

mod common;

use common::{events, shared};
use dragnet_analytics::{
    BeaconAnalyzer, BeaconConfig, DnsConfig, DnsTunnelAnalyzer, ExfilAnalyzer, ExfilConfig,
    IisAnalyzer, IntelDetector, IocSet, Kind, NetRecord, RelayAnalyzer, RelayConfig,
    SuricataAlerts, WebRequest,
};
use dragnet_event::{Detector, Event, Level, Provenance, SourceFormat, Timestamp, Value};
use std::sync::Arc;

fn prov(n: u64) -> Provenance {
    Provenance {
        path: "synthetic".into(),
        record: n,
        format: SourceFormat::ZeekTsv,
    }
}

fn conn(
    t: i64,
    uid: &str,
    src: &str,
    dst: &str,
    port: u16,
    dur: f64,
    out: u64,
    inb: u64,
) -> NetRecord {
    let mut ev = Event::new(prov(t as u64));
    ev.time = Timestamp::from_nanos(t * 1_000_000_000);
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "conn"),
        ("_path", "conn"),
        ("uid", uid),
        ("id.orig_h", src),
        ("id.resp_h", dst),
        ("proto", "tcp"),
        ("service", "ssl"),
    ] {
        ev.push(k, Value::str(v));
    }
    ev.push("id.resp_p", Value::Int(i64::from(port)));
    ev.push("duration", Value::Float(dur));
    ev.push("orig_bytes", Value::Int(out as i64));
    ev.push("resp_bytes", Value::Int(inb as i64));
    NetRecord::from_event(&ev).unwrap()
}

fn dns(t: i64, src: &str, query: &str) -> NetRecord {
    let mut ev = Event::new(prov(t as u64));
    ev.time = Timestamp::from_nanos(t * 1_000_000_000);
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "dns"),
        ("uid", "D"),
        ("id.orig_h", src),
        ("id.resp_h", "10.0.0.53"),
        ("query", query),
        ("qtype_name", "TXT"),
    ] {
        ev.push(k, Value::str(v));
    }
    let r = NetRecord::from_event(&ev).unwrap();
    assert_eq!(r.kind, Kind::Dns);
    r
}

#[test]
fn a_perfect_beacon_scores_one_and_jitter_lowers_it() {
    let mut a = BeaconAnalyzer::new(BeaconConfig::default());
    let t0 = 1_700_000_000i64;
    let mut x: u64 = 12345;
    let mut tn = t0;
    for i in 0..288 {
        a.observe(&conn(
            t0 + i * 300,
            &format!("C{i}"),
            "10.0.0.5",
            "203.0.113.9",
            443,
            0.5,
            900,
            400,
        ));
        // Noise: a browsing pair with random gaps and sizes.
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((x >> 33) % 3000) as i64;
        tn += 5 + j;
        if tn < t0 + 86_400 {
            a.observe(&conn(
                tn,
                &format!("N{i}"),
                "10.0.0.6",
                "198.51.100.7",
                443,
                1.0,
                500 + (j as u64) * 37,
                9000,
            ));
        }
    }
    let rs = a.results();
    let b = rs
        .iter()
        .find(|r| r.dst.to_string() == "203.0.113.9")
        .unwrap();
    assert_eq!(b.beacon_score(), Some(1.0));
    assert_eq!(b.count, 288);
    let mut out = Vec::new();
    a.findings(&mut out);
    let f = out
        .iter()
        .find(|f| f.details["dst"] == "203.0.113.9")
        .unwrap();
    assert_eq!(f.details["beacon_score"], 1.0);
    assert_eq!(f.details["src"], "10.0.0.5");
    assert!(f.attack.contains(&"T1071.001".to_string()) && f.attack.contains(&"T1573".to_string()));
    assert!(f.level >= Level::High);
    assert!(f.details["explanation"]
        .as_str()
        .unwrap()
        .contains("beacon score 1.000"));
    if let Some(n) = rs.iter().find(|r| r.dst.to_string() == "198.51.100.7") {
        assert!(n.beacon_score().unwrap_or(0.0) < 0.8, "{:?}", n.beacon);
    }
}

#[test]
fn state_is_bounded_and_old_entries_age_out() {
    let cfg = BeaconConfig {
        max_pairs: 100,
        max_entries_per_pair: 50,
        ..Default::default()
    };
    let mut a = BeaconAnalyzer::new(cfg);
    let t0 = 1_700_000_000i64;
    for i in 0..1000 {
        a.observe(&conn(
            t0 + i,
            &format!("C{i}"),
            "10.0.0.5",
            &format!("203.0.{}.{}", i / 250, i % 250),
            443,
            0.1,
            10,
            10,
        ));
    }
    assert_eq!(a.pair_count(), 100);
    assert_eq!(a.dropped().0, 900);
    // Three days later everything from the first day is gone.
    a.observe(&conn(
        t0 + 3 * 86_400,
        "Z",
        "10.0.0.7",
        "203.0.113.1",
        443,
        0.1,
        10,
        10,
    ));
    assert!(a.pair_count() <= 1, "{}", a.pair_count());
}

#[test]
fn dns_tunnel_many_random_names() {
    let mut a = DnsTunnelAnalyzer::new(DnsConfig::default());
    let t0 = 1_700_000_000i64;
    for i in 0..600u64 {
        let label = format!(
            "{:016x}{:016x}",
            i.wrapping_mul(0x9e3779b97f4a7c15),
            i.wrapping_mul(0xc2b2ae3d27d4eb4f)
        );
        a.observe(&dns(
            t0 + i as i64,
            "10.0.0.8",
            &format!("{label}.t.tunnel.example.net"),
        ));
    }
    for i in 0..50 {
        a.observe(&dns(t0 + i, "10.0.0.9", &format!("host{i}.corp.example")));
        a.observe(&dns(t0 + i, "10.0.0.9", "www.example.org"));
    }
    let mut out = Vec::new();
    a.findings(&mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let f = &out[0];
    assert_eq!(f.details["domain"], "example.net");
    assert_eq!(f.details["distinct_subdomains"], 600);
    assert!(
        f.level >= Level::High,
        "{:?} {}",
        f.level,
        f.details["explanation"]
    );
    assert!(f.attack.contains(&"T1071.004".to_string()) && f.attack.contains(&"T1572".to_string()));
}

#[test]
fn exfiltration_against_host_and_fleet_baselines() {
    let mut a = ExfilAnalyzer::new(ExfilConfig::default());
    let t0 = 1_700_000_000i64;
    let mut n = 0;
    for h in 1..=8 {
        for d in 1..=5 {
            n += 1;
            a.observe(&conn(
                t0 + n,
                &format!("C{n}"),
                &format!("10.0.0.{h}"),
                &format!("198.51.100.{d}"),
                443,
                1.0,
                200_000,
                2_000_000,
            ));
        }
    }
    a.observe(&conn(
        t0 + 5000,
        "X",
        "10.0.0.3",
        "203.0.113.66",
        443,
        40.0,
        800_000_000,
        100_000,
    ));
    let mut out = Vec::new();
    a.findings(&mut out);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!(f.details["src"], "10.0.0.3");
    assert_eq!(f.details["dst"], "203.0.113.66");
    assert_eq!(f.level, Level::Critical, "{}", f.details["explanation"]);
    let e = f.details["explanation"].as_str().unwrap();
    assert!(
        e.contains("host_baseline") && e.contains("fleet_baseline") && e.contains("one_way"),
        "{e}"
    );
    assert!(f.attack.contains(&"T1041".to_string()));
}

#[test]
fn relay_node_bridges_a_peer_to_a_long_connection() {
    let mut a = RelayAnalyzer::new(RelayConfig::default());
    let t0 = 1_700_000_000i64;
    // Before: the peer used the host's web site (port 443) as everyone does.
    for i in 0..5 {
        a.observe(&conn(
            t0 + i * 60,
            &format!("W{i}"),
            "10.0.0.21",
            "10.0.1.30",
            443,
            1.0,
            100,
            100,
        ));
        a.observe(&conn(
            t0 + i * 60 + 1,
            &format!("V{i}"),
            "10.0.0.22",
            "10.0.1.30",
            443,
            1.0,
            100,
            100,
        ));
    }
    a.observe(&conn(
        t0 + 3600,
        "L",
        "10.0.1.30",
        "203.0.113.50",
        443,
        40_000.0,
        5_000_000,
        9_000_000,
    ));
    for i in 0..60 {
        a.observe(&conn(
            t0 + 4000 + i * 300,
            &format!("R{i}"),
            "10.0.0.21",
            "10.0.1.30",
            8443,
            2.0,
            3000,
            9000,
        ));
    }
    let mut out = Vec::new();
    a.findings(&mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let f = &out[0];
    assert_eq!(f.details["relay"], "10.0.1.30");
    assert_eq!(f.details["src"], "10.0.0.21");
    assert_eq!(f.details["dst"], "203.0.113.50");
    assert!(f.level >= Level::High);
    assert!(f.attack.contains(&"T1090.001".to_string()));
}

fn web(
    t: i64,
    client: &str,
    method: &str,
    stem: &str,
    query: &str,
    status: u16,
    referer: &str,
) -> WebRequest {
    let mut ev = Event::new(prov(t as u64));
    ev.time = Timestamp::from_nanos(t * 1_000_000_000);
    ev.host = "SP01".into();
    for (k, v) in [
        ("_product", "iis"),
        ("_service", "webserver"),
        ("c-ip", client),
        ("cs-method", method),
        ("cs-uri-stem", stem),
        ("cs-uri-query", query),
        ("cs-referer", referer),
    ] {
        ev.push(k, Value::str(v));
    }
    ev.push("sc-status", Value::Int(i64::from(status)));
    WebRequest::from_event(&ev).unwrap()
}

#[test]
fn iis_toolshell_viewstate_webshell_and_listener() {
    let mut a = IisAnalyzer::new();
    let mut out = Vec::new();
    let t0 = 1_700_000_000i64;
    for i in 0..50 {
        a.observe(
            &web(
                t0 + i * 60,
                &format!("10.0.0.{}", i % 9),
                "GET",
                "/_layouts/15/start.aspx",
                "",
                200,
                "",
            ),
            &mut out,
        );
    }
    a.observe(
        &web(
            t0 + 4000,
            "198.51.100.9",
            "POST",
            "/_layouts/15/ToolPane.aspx",
            "DisplayMode=Edit&a=/ToolPane.aspx",
            200,
            "/_layouts/SignOut.aspx",
        ),
        &mut out,
    );
    a.observe(
        &web(
            t0 + 4010,
            "198.51.100.9",
            "GET",
            "/_layouts/15/spinstall0.aspx",
            "",
            200,
            "",
        ),
        &mut out,
    );
    let vs = format!("__VIEWSTATE={}&__VIEWSTATEGENERATOR=1", "A".repeat(2000));
    a.observe(
        &web(
            t0 + 4020,
            "198.51.100.9",
            "GET",
            "/_layouts/15/success.aspx",
            &vs,
            500,
            "",
        ),
        &mut out,
    );
    for i in 0..5 {
        a.observe(
            &web(
                t0 + 8000 + i * 60,
                "198.51.100.9",
                "GET",
                "/_layouts/15/x1.aspx",
                "cmd=whoami",
                200,
                "",
            ),
            &mut out,
        );
    }
    for i in 0..20 {
        a.observe(
            &web(
                t0 + 9000 + i * 300,
                "10.0.0.21",
                "POST",
                &format!(
                    "/_layouts/15/ipcdata/{:08x}",
                    0x1c1b602c_u32.wrapping_mul(i as u32 + 7)
                ),
                "",
                200,
                "",
            ),
            &mut out,
        );
    }
    a.findings(&mut out);
    let ids: Vec<&str> = out.iter().map(|f| f.rule.id.as_str()).collect();
    for want in [
        "dragnet-iis-toolshell",
        "dragnet-iis-toolshell-webshell",
        "dragnet-iis-viewstate",
        "dragnet-iis-new-webshell",
        "dragnet-iis-listener",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    let ts = out
        .iter()
        .find(|f| f.rule.id == "dragnet-iis-toolshell")
        .unwrap();
    assert_eq!(ts.level, Level::Critical);
    assert!(ts.attack.contains(&"T1190".to_string()));
    assert!(ts.details["explanation"]
        .as_str()
        .unwrap()
        .contains("SignOut.aspx"));
    // The everyday page is not a new web shell.
    assert!(!out
        .iter()
        .any(|f| f.details.get("uri_stem").and_then(|v| v.as_str())
            == Some("/_layouts/15/start.aspx")));
}

#[test]
fn iocs_and_lookalikes_on_zeek_fields() {
    let mut iocs = IocSet::new();
    iocs.load_text("type,value,malware_or_role,source\ndomain,update.hobiter.com,FINALDRAFT C2,Elastic\nipv4,47.83.8.198,infra,Elastic\nja3,e203eef7f62583a69b1ac1d74eb2b5ed,x,y\n", "t").unwrap();
    let d = IntelDetector::new(Arc::new(iocs), &["corp.example".to_string()]);
    let mut ev = Event::new(prov(1));
    ev.host = "10.0.0.5".into();
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "ssl"),
        ("id.orig_h", "10.0.0.5"),
        ("id.resp_h", "47.83.8.198"),
        ("server_name", "update.hobiter.com"),
    ] {
        ev.push(k, Value::str(v));
    }
    let mut out = Vec::new();
    d.detect(&ev, &mut out);
    d.detect(&ev, &mut out); // the same indicator again on the same host: not repeated
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out
        .iter()
        .all(|f| f.level == Level::High && !f.attack.is_empty()));
    let mut q = Event::new(prov(2));
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "dns"),
        ("id.orig_h", "10.0.0.5"),
        ("query", "poster.checkponit.com"),
    ] {
        q.push(k, Value::str(v));
    }
    let mut r = Event::new(prov(3));
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "dns"),
        ("id.orig_h", "10.0.0.5"),
        ("query", "mail.corp-examp1e.com"),
    ] {
        r.push(k, Value::str(v));
    }
    let mut own = Event::new(prov(4));
    for (k, v) in [
        ("_product", "zeek"),
        ("_service", "dns"),
        ("id.orig_h", "10.0.0.5"),
        ("query", "intranet.corp.example"),
    ] {
        own.push(k, Value::str(v));
    }
    let mut out = Vec::new();
    d.detect(&q, &mut out);
    d.detect(&own, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].details["imitates"], "checkpoint");
    assert!(out[0].attack.contains(&"T1583.001".to_string()));
}

#[test]
fn suricata_alerts_become_findings_titled_by_signature() {
    let Some(p) = shared("data/suricata/eve-sample.json") else {
        return;
    };
    let det = SuricataAlerts::new();
    let mut out = Vec::new();
    let evs = events(&p);
    for e in &evs {
        det.detect(e, &mut out);
    }
    assert_eq!(out.len(), 745);
    let first = evs
        .iter()
        .find(|e| e.get_text("event_type").as_deref() == Some("alert"))
        .unwrap();
    let sig = first.get_text("alert.signature").unwrap().into_owned();
    let f = out.iter().find(|f| f.source == first.provenance).unwrap();
    assert_eq!(f.rule.title, sig);
    assert_eq!(f.level, Level::Medium, "severity 2");
    assert_eq!(f.details["dst"], "192.168.1.129");
    let titles: std::collections::HashSet<&str> =
        out.iter().map(|f| f.rule.title.as_str()).collect();
    println!(
        "suricata: {} alerts, {} distinct signatures",
        out.len(),
        titles.len()
    );
    assert!(titles.len() > 1);
}

#[test]
fn tunna_web_tunnel_in_an_iis_log() {
    let Some(p) = shared("data/evtx/attack-samples/Command and Control/Tunna_rdp_tunnel_IIS.log")
    else {
        return;
    };
    let mut a = IisAnalyzer::new();
    let mut out = Vec::new();
    for e in events(&p) {
        if let Some(w) = WebRequest::from_event(&e) {
            a.observe(&w, &mut out);
        }
    }
    a.findings(&mut out);
    let f = out
        .iter()
        .filter(|f| f.rule.id == "dragnet-iis-web-tunnel")
        .max_by_key(|f| f.level)
        .expect("web tunnel");
    assert_eq!(f.level, Level::Critical, "{}", f.details["explanation"]);
    assert_eq!(f.details["uri_stem"], "/erp/conn.aspx");
    assert!(f.attack.contains(&"T1572".to_string()));
}
