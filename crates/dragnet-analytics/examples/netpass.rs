//! Run the network analytics over files or directories and print the findings (one JSON
//! line each) and a summary.
//!
//! ```sh
//! cargo run --release -p dragnet-analytics --example netpass -- /tmp/sim \
//!     --intel ../shared/data/intel/ink-dragon-iocs.csv --org-domain corp.example
//! ```

use dragnet_analytics::{IocSet, NetworkAnalytics};
use std::path::PathBuf;
use std::sync::Arc;

fn main() {
    let mut paths = Vec::new();
    let mut iocs = IocSet::new();
    let mut org = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--intel" => {
                let p = args.next().expect("--intel FILE");
                iocs.load_file(std::path::Path::new(&p)).expect("load iocs");
            }
            "--org-domain" => org.push(args.next().expect("--org-domain DOMAIN")),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let d = dragnet_ingest::discover(&paths).expect("discover");
    let na = NetworkAnalytics {
        iocs: Arc::new(iocs),
        org_domains: org,
        ..Default::default()
    };
    let mut pass = na.run_pass(&d.files);
    // The detectors too (Suricata alerts, IOC, look-alikes), for a complete picture.
    let dets = na.detectors();
    for f in d.files.iter().filter(|f| f.format.is_network()) {
        dragnet_ingest::read_file(
            f,
            &Default::default(),
            &mut |e| {
                for det in &dets {
                    det.detect(&e, &mut pass.findings);
                }
            },
            &mut |_| {},
        );
    }
    for f in &pass.findings {
        println!("{}", serde_json::to_string(f).unwrap());
    }
    eprintln!(
        "{} network files, {} records, {} findings in {:.2} s; peak state {:?}",
        pass.files,
        pass.records,
        pass.findings.len(),
        pass.elapsed.as_secs_f64(),
        pass.state_peak
    );
}
