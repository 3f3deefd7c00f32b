//! `dragnet simulate` (evidence of an intrusion, with ground truth) and `dragnet demo`
//! (simulate a small network, then hunt it).

use crate::common::{mb, Failure, EXIT_OK};
use crate::{DemoArgs, HuntArgs, SimulateArgs, TimelineFormat};
use dragnet_simulate::{simulate, SimConfig};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn config(a: &SimulateArgs) -> Result<SimConfig, Failure> {
    let scenario = a.scenario.parse().map_err(Failure::usage)?;
    Ok(SimConfig {
        scenario,
        seed: a.seed,
        hosts: a.hosts,
        days: a.days,
        scale: a.scale,
        beacon_period_secs: a.beacon_period,
        beacon_jitter: a.beacon_jitter,
        ..SimConfig::default()
    })
}

fn write(cfg: &SimConfig, out: &Path, quiet: bool) -> Result<(), Failure> {
    let t = Instant::now();
    let s = simulate(cfg, out)
        .map_err(|e| Failure::usage(format!("simulate into {}: {e}", out.display())))?;
    if !quiet {
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "simulated {} ({} hosts, {} day(s), seed {}): {} events in {} files, {}, {} attack steps, {:.2} s ({:.0} events/s) -> {}",
            cfg.scenario.name(),
            cfg.hosts,
            cfg.days,
            cfg.seed,
            s.events,
            s.files.len(),
            mb(s.bytes),
            s.steps,
            secs,
            s.events as f64 / secs.max(1e-9),
            out.display()
        );
    }
    Ok(())
}

/// `dragnet simulate --scenario ink-dragon --seed N --hosts H --days D --out DIR`.
pub fn run_simulate(a: SimulateArgs) -> Result<ExitCode, Failure> {
    let cfg = config(&a)?;
    write(&cfg, &a.out, a.quiet)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// `dragnet demo`: simulate a small network into a folder, then hunt it with the built-in
/// rules and print what was found.
pub fn run_demo(a: DemoArgs) -> Result<ExitCode, Failure> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("dragnet-demo-{}", a.sim.seed)));
    let cfg = config(&a.sim)?;
    write(&cfg, &out, false)?;
    let hunt = HuntArgs {
        paths: vec![out.clone()],
        rules: Vec::new(),
        min_level: a.min_level,
        format: TimelineFormat::Table,
        output: None,
        threads: None,
        quiet: false,
        no_color: false,
        placeholders: None,
        logsources: None,
        intel: Vec::new(),
        org_domains: Vec::new(),
        out: crate::outputs::OutputArgs {
            incidents: Some(out.join("incidents.json")),
            files: crate::outputs::ReportFiles {
                report: Some(out.join("report.html")),
                ..Default::default()
            },
        },
    };
    let code = crate::cmd_hunt::run(hunt)?;
    eprintln!(
        "demo evidence and its ground truth: {} (ground-truth.json lists every attack record)",
        out.display()
    );
    eprintln!(
        "report: {} (open it in a browser); incidents: {}",
        out.join("report.html").display(),
        out.join("incidents.json").display()
    );
    Ok(code)
}
