//! dragnet's evidence simulator.
//!
//! [`simulate`] writes the logs of a small Windows office — Winlogbeat JSON lines per host
//! (Sysmon, Security, System, PowerShell), Zeek TSV (conn, dns, http, ssl), the IIS W3C log
//! of the web server, the exported mailbox (mbox and `.eml`), and the Microsoft 365 unified
//! audit log — and, with [`Scenario::InkDragon`], an intrusion by the Ink Dragon actor woven
//! into that background, with a `ground-truth.json` that lists, step by step, every line of
//! attack evidence.
//!
//! Output is a pure function of the configuration: the same [`SimConfig`] writes byte-identical
//! files. Records are generated in time order and streamed to the files, so memory stays small
//! at any `scale`.
//!
//! ```no_run
//! use dragnet_simulate::{simulate, Scenario, SimConfig};
//! let cfg = SimConfig { scenario: Scenario::InkDragon, seed: 7, ..SimConfig::default() };
//! let summary = simulate(&cfg, std::path::Path::new("/tmp/evidence")).unwrap();
//! println!("{} events in {} files", summary.events, summary.files.len());
//! ```

#![allow(clippy::too_many_arguments)]

mod attack;
mod background;
mod engine;
mod iis;
mod json;
mod m365;
mod mail;
mod proc;
mod rng;
mod time;
mod win;
mod world;
mod zeek;

use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// What happens besides the office's normal activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The Ink Dragon intrusion (REF7707 / CL-STA-0049 / Earth Alux).
    InkDragon,
    /// Background only.
    None,
}

impl Scenario {
    /// The name used on the command line and in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::InkDragon => "ink-dragon",
            Scenario::None => "none",
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "ink-dragon" | "inkdragon" => Ok(Scenario::InkDragon),
            "none" | "background" => Ok(Scenario::None),
            other => Err(format!(
                "unknown scenario {other:?} (expected ink-dragon or none)"
            )),
        }
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub scenario: Scenario,
    /// Drives every choice: hosts, people, names, times, the attack's path.
    pub seed: u64,
    /// Windows machines (servers and workstations), at least 4: a DC, a file server, the web
    /// server, a jump host from 6 on, the rest workstations.
    pub hosts: usize,
    /// Length of the window, in days (at least 1).
    pub days: u32,
    /// Multiplies the background volume; 1.0 is a realistic small office. Periodic agents
    /// and nightly backups keep their real cadence; the attack never changes.
    pub scale: f64,
    /// Start of the window.
    pub start: jiff::Timestamp,
    /// Mean period of the HTTPS beacons.
    pub beacon_period_secs: u32,
    /// Relative jitter of the beacon period (0 to 0.95).
    pub beacon_jitter: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: Scenario::InkDragon,
            seed: 1,
            hosts: 6,
            days: 1,
            scale: 1.0,
            start: default_start(),
            beacon_period_secs: 300,
            beacon_jitter: 0.2,
        }
    }
}

/// 2026-03-02T07:00:00Z, a Monday morning.
pub fn default_start() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_772_434_800).expect("valid timestamp")
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct SimSummary {
    /// Every file, relative to the output directory, with its record count (for mailboxes:
    /// messages), sorted by path. `ground-truth.json` is listed with its step count.
    pub files: Vec<(PathBuf, u64)>,
    /// Records written (events, log lines, messages, audit records); each message is counted
    /// once although it is written to both the mbox and its `.eml` file.
    pub events: u64,
    /// Bytes written, ground truth included.
    pub bytes: u64,
    /// Attack steps in the ground truth.
    pub steps: usize,
}

#[derive(Serialize)]
struct TruthRecord {
    path: String,
    record: u64,
}

#[derive(Serialize)]
struct TruthStep {
    name: String,
    time: String,
    hosts: Vec<String>,
    accounts: Vec<String>,
    attack: Vec<&'static str>,
    records: Vec<TruthRecord>,
}

#[derive(Serialize)]
struct Truth {
    scenario: &'static str,
    seed: u64,
    start: String,
    end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_access: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    c2_domain: Option<String>,
    steps: Vec<TruthStep>,
}

fn check(cfg: &SimConfig) -> io::Result<()> {
    let bad = |m: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, m.to_string()));
    if cfg.hosts < 4 {
        return bad("hosts must be at least 4 (DC, file server, web server, one workstation)");
    }
    if cfg.hosts > 2000 {
        return bad("hosts must be at most 2000");
    }
    if cfg.days == 0 || cfg.days > 366 {
        return bad("days must be between 1 and 366");
    }
    if !cfg.scale.is_finite() || cfg.scale <= 0.0 || cfg.scale > 100_000.0 {
        return bad("scale must be a positive number (1.0 = a realistic small office)");
    }
    if cfg.beacon_period_secs < 5 {
        return bad("beacon_period_secs must be at least 5");
    }
    if !(0.0..=0.95).contains(&cfg.beacon_jitter) {
        return bad("beacon_jitter must be between 0 and 0.95");
    }
    Ok(())
}

/// Write the simulated evidence under `out` (created if needed; files of the same names are
/// replaced, nothing else is touched).
pub fn simulate(cfg: &SimConfig, out: &Path) -> io::Result<SimSummary> {
    check(cfg)?;
    std::fs::create_dir_all(out)?;
    let start = cfg.start.as_microsecond();
    let w = world::World::build(cfg.seed, cfg.hosts, start, cfg.days);
    let hs: Vec<proc::HostState> = (0..w.hosts.len())
        .map(|h| proc::HostState::new(&w, h, cfg.seed))
        .collect();
    let plan = match cfg.scenario {
        Scenario::InkDragon => Some(attack::Plan::new(
            &w,
            &hs,
            cfg.seed,
            cfg.beacon_period_secs,
            cfg.beacon_jitter,
        )),
        Scenario::None => None,
    };
    let mailbox_user = w.hosts[attack::victim_workstation(&w, cfg.seed)]
        .user
        .unwrap_or(0);
    let mut gens = background::generators(&w, cfg.seed, mailbox_user);
    if let Some(p) = &plan {
        gens.extend(p.generators(cfg.seed));
    }
    let steps = plan.as_ref().map(|p| p.steps.len()).unwrap_or(0);
    let mut sink = engine::Sink::new(out, &w, steps)?;
    engine::run(&w, hs, cfg.scale, &mut gens, &mut sink)?;
    drop(gens);
    let truth_lines = std::mem::take(&mut sink.truth);
    let (files, names) = sink.finish()?;

    let truth = Truth {
        scenario: cfg.scenario.name(),
        seed: cfg.seed,
        start: time::rfc3339(w.start),
        end: time::rfc3339(w.end),
        initial_access: plan.as_ref().map(|p| p.entry_name()),
        c2_domain: plan.as_ref().map(|_| w.adv.c2_domain.clone()),
        steps: plan
            .as_ref()
            .map(|p| {
                p.steps
                    .iter()
                    .zip(truth_lines)
                    .map(|(s, recs)| TruthStep {
                        name: s.name.clone(),
                        time: time::rfc3339(s.time),
                        hosts: s.hosts.clone(),
                        accounts: s.accounts.clone(),
                        attack: s.attack.clone(),
                        records: recs
                            .into_iter()
                            .map(|(f, n)| TruthRecord {
                                path: names[f].clone(),
                                record: n,
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut text = serde_json::to_string_pretty(&truth).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(out.join("ground-truth.json"), &text)?;

    let mut summary = SimSummary {
        steps,
        ..SimSummary::default()
    };
    for (rel, records, bytes) in files {
        if !rel.ends_with(".eml") {
            summary.events += records;
        }
        summary.bytes += bytes;
        summary.files.push((PathBuf::from(rel), records));
    }
    summary.bytes += text.len() as u64;
    summary
        .files
        .push((PathBuf::from("ground-truth.json"), steps as u64));
    summary.files.sort();
    Ok(summary)
}
