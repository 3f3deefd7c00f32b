//! The simulator's Zeek and IIS output (`dragnet simulate`): read cleanly, and the Ink Dragon
//! network steps found: HTTPS beacons to the look-alike C2 domain, the large upload to it, the
//! IIS listener relay on the web server.

use dragnet_analytics::{IocSet, NetworkAnalytics};
use dragnet_event::Level;
use std::sync::Arc;

#[test]
fn simulated_intrusion_network_evidence() {
    let out = std::env::temp_dir().join(format!("dragnet-analytics-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let cfg = dragnet_simulate::SimConfig::default();
    dragnet_simulate::simulate(&cfg, &out).expect("simulate");
    let net: Vec<std::path::PathBuf> = vec![out.join("zeek"), out.join("iis")];
    let d = dragnet_ingest::discover(&net).unwrap();
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    let mut errors = 0;
    for f in &d.files {
        assert!(f.format.is_network(), "{}", f.path.display());
        let s =
            dragnet_ingest::read_file(f, &Default::default(), &mut |_| {}, &mut |_| errors += 1);
        assert!(s.records > 0);
    }
    assert_eq!(errors, 0);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ground-truth.json")).unwrap())
            .unwrap();
    let c2 = truth["c2_domain"].as_str().unwrap().to_string();
    let mut iocs = IocSet::new();
    let na = NetworkAnalytics {
        iocs: Arc::new(iocs.clone()),
        ..Default::default()
    };
    let pass = na.run_pass(&d.files);
    let find = |rule: &str, pred: &dyn Fn(&serde_json::Map<String, serde_json::Value>) -> bool| {
        pass.findings
            .iter()
            .filter(|f| f.rule.id == rule && pred(&f.details))
            .max_by_key(|f| f.level)
            .cloned()
    };
    let beacon =
        find("dragnet-net-beacon", &|d| d["dst"] == c2.as_str()).expect("beacon to the C2 domain");
    println!("beacon: {} {}", beacon.level, beacon.details["explanation"]);
    assert!(beacon.details["beacon_score"].as_f64().unwrap() >= 0.8);
    assert!(beacon.level >= Level::Medium);
    let exfil = find("dragnet-net-exfiltration", &|d| d["dst"] == c2.as_str())
        .expect("exfiltration to the C2 domain");
    println!("exfil: {} {}", exfil.level, exfil.details["explanation"]);
    assert!(exfil.level >= Level::High);
    let relay = find("dragnet-net-internal-relay", &|_| true).expect("relay");
    println!("relay: {} {}", relay.level, relay.details["explanation"]);
    let listener = find("dragnet-iis-listener", &|_| true).expect("IIS listener");
    println!(
        "listener: {} {}",
        listener.level, listener.details["explanation"]
    );
    // With the published IOCs, the C2 pair's final score includes threat intelligence.
    iocs.load_text(&format!("type,value\ndomain,{c2}\n"), "test")
        .unwrap();
    let na = NetworkAnalytics {
        iocs: Arc::new(iocs),
        ..Default::default()
    };
    let pass = na.run_pass(&d.files);
    let b = pass
        .findings
        .iter()
        .filter(|f| f.rule.id == "dragnet-net-beacon" && f.details["dst"] == c2.as_str())
        .map(|f| f.level)
        .max()
        .unwrap();
    assert_eq!(b, Level::Critical);
    let _ = std::fs::remove_dir_all(&out);
}
