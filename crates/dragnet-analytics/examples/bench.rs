//! Zeek conn records per second, parsed (dragnet-ingest's TSV reader) and analysed (beacon,
//! long-connection, exfiltration, relay analytics), peak RSS, and state per tracked pair.
//!
//! ```sh
//! cargo run --release -p dragnet-analytics --example bench -- [RECORDS] [PAIRS]
//! # RECORDS: synthetic conn records (default 10,000,000); PAIRS: distinct pairs (default 50,000)
//! # also times ../shared/data/zeek/rita/test_data/missing_host when DRAGNET_SHARED (or ../shared) has it
//! ```
//!
//! The synthetic log is written once (time-ordered, ~130 bytes a record) to
//! `$BENCH_WORK` (default /tmp/dragnet-bench-zeek) and reused.

use dragnet_analytics::{
    BeaconAnalyzer, BeaconConfig, ExfilAnalyzer, ExfilConfig, NetRecord, RelayAnalyzer, RelayConfig,
};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn write_log(path: &Path, records: u64, pairs: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(w, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]")?;
    let t0 = 1_700_000_000.0f64;
    let span = 86_400.0 * 2.0;
    let mut x: u64 = 88172645463325252;
    for i in 0..records {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let p = x % pairs;
        let ts = t0 + span * (i as f64) / (records as f64);
        let src = format!("10.{}.{}.{}", (p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff);
        let dst = format!(
            "{}.{}.{}.{}",
            20 + (p % 200),
            (p * 7) % 250,
            (p * 13) % 250,
            1 + (p % 250)
        );
        let out = 200 + (x >> 40) % 5000;
        writeln!(
            w,
            "{ts:.6}\tC{i:x}\t{src}\t{}\t{dst}\t443\ttcp\tssl\t{:.6}\t{out}\t{}\tSF\tT\tF\t0\tShADadFf\t6\t{}\t8\t{}\t-",
            40000 + (x % 20000),
            ((x >> 20) % 5000) as f64 / 1000.0,
            out * 3,
            out + 300,
            out * 3 + 400
        )?;
    }
    w.flush()
}

fn run(label: &str, paths: &[PathBuf]) {
    let d = dragnet_ingest::discover(paths).expect("discover");
    let mut beacon = BeaconAnalyzer::new(BeaconConfig::default());
    let mut exfil = ExfilAnalyzer::new(ExfilConfig::default());
    let mut relay = RelayAnalyzer::new(RelayConfig::default());
    let start = Instant::now();
    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut peak_state = 0usize;
    let mut peak_pairs = 0usize;
    // Files in name order: hourly rotations are time-ordered that way; records within a file
    // in file order (a conn log is close to time order).
    for f in &d.files {
        let s = dragnet_ingest::read_file(
            f,
            &Default::default(),
            &mut |e| {
                records += 1;
                if let Some(r) = NetRecord::from_event(&e) {
                    beacon.observe(&r);
                    exfil.observe(&r);
                    relay.observe(&r);
                }
                if records.is_multiple_of(1_000_000) {
                    peak_state = peak_state.max(beacon.state_bytes());
                    peak_pairs = peak_pairs.max(beacon.pair_count());
                }
            },
            &mut |_| {},
        );
        bytes += s.bytes;
    }
    peak_state = peak_state.max(beacon.state_bytes());
    peak_pairs = peak_pairs.max(beacon.pair_count());
    let analysed = start.elapsed().as_secs_f64();
    let mut out = Vec::new();
    beacon.findings(&mut out);
    exfil.findings(&mut out);
    relay.findings(&mut out);
    let total = start.elapsed().as_secs_f64();
    println!(
        "{label}: {records} records ({:.0} MB) in {total:.2} s ({analysed:.2} s reading + analysing, {:.2} s scoring): {:.0} records/s; {} findings; beacon state peak {:.1} MB over {peak_pairs} pairs = {:.0} bytes/pair; peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        total - analysed,
        records as f64 / total,
        out.len(),
        peak_state as f64 / 1e6,
        peak_state as f64 / peak_pairs.max(1) as f64,
        peak_rss_mb()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let pairs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let shared = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared"));
    let mh = shared.join("data/zeek/rita/test_data/missing_host");
    if mh.exists() {
        run("missing_host", &[mh]);
    } else {
        println!("SKIPPED: missing_host ({} not found)", mh.display());
    }
    let work = std::env::var_os("BENCH_WORK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/dragnet-bench-zeek"));
    std::fs::create_dir_all(&work).expect("work dir");
    let log = work.join(format!("conn-{records}-{pairs}.log"));
    if !log.exists() {
        let t = Instant::now();
        let tmp = log.with_extension("partial");
        write_log(&tmp, records, pairs).expect("write synthetic log");
        std::fs::rename(&tmp, &log).expect("rename");
        eprintln!(
            "wrote {} in {:.1} s",
            log.display(),
            t.elapsed().as_secs_f64()
        );
    }
    run(
        &format!("synthetic {records} conn records, {pairs} pairs"),
        &[log],
    );
}
