//! Time the simulator: `cargo run --release -p dragnet-simulate --example bench_sim -- [scale]
//! [hosts] [days] [out-dir] [seed] [none]`. Prints events per second and megabytes written.

use dragnet_simulate::{simulate, Scenario, SimConfig};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let hosts: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(6);
    let days: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let out = args
        .get(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("dragnet-bench-sim"));
    let seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let scenario = if args.get(5).map(String::as_str) == Some("none") {
        Scenario::None
    } else {
        Scenario::InkDragon
    };
    let cfg = SimConfig {
        scenario,
        seed,
        scale,
        hosts,
        days,
        ..SimConfig::default()
    };
    let t0 = Instant::now();
    let s = match simulate(&cfg, &out) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("simulate failed: {e}");
            std::process::exit(1);
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "scale {scale} hosts {hosts} days {days}: {} events, {:.1} MB in {} files, {} steps, {:.2} s, {:.0} events/s, {:.1} MB/s -> {}",
        s.events,
        s.bytes as f64 / 1e6,
        s.files.len(),
        s.steps,
        secs,
        s.events as f64 / secs,
        s.bytes as f64 / 1e6 / secs,
        out.display()
    );
}
