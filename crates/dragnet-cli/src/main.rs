//! `dragnet`: hunt for threats in Windows event logs (EVTX, JSON) and, later, network and mail
//! evidence.
//!
//! Exit codes: 0 the run completed (even with skipped or damaged input); 1 nothing could be
//! read, or an internal error; 2 a usage error (including a path that does not exist).

mod cmd_attack;
mod cmd_hunt;
mod cmd_mail;
mod cmd_report;
mod cmd_rules;
mod cmd_sim;
mod cmd_stats;
mod common;
mod incidents;
mod outputs;
mod progress;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dragnet_event::Level;
use std::path::PathBuf;
use std::process::ExitCode;

/// Hunt for threats in Windows event logs (EVTX, JSON lines, JSON) with Sigma rules.
#[derive(Parser, Debug)]
#[command(name = "dragnet", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

/// The subcommands. (`rules validate|stats|regression` come later.)
#[derive(Subcommand, Debug)]
enum Commands {
    /// Run detection rules over evidence and write a timeline of findings.
    Hunt(HuntArgs),
    /// Read evidence without rules and count what it holds (files, records, channels, EventIDs).
    Stats(StatsArgs),
    /// Write the evidence of a simulated intrusion (Windows, Zeek, IIS, mail, M365) with its
    /// ground truth.
    Simulate(SimulateArgs),
    /// Simulate a small network with an Ink Dragon intrusion, then hunt it.
    Demo(DemoArgs),
    /// Check, describe and prove rule sets.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Spear-phishing analysis of mail (EML, MBOX) and Microsoft 365 audit logs.
    #[command(subcommand)]
    Mail(cmd_mail::MailCommand),
    /// MITRE ATT&CK knowledge (techniques, groups) and attribution by technique overlap.
    #[command(subcommand)]
    Attack(cmd_attack::AttackCommand),
    /// Re-render the reports (HTML, ATT&CK Navigator, STIX 2.1, indicators) of a saved run.
    Report(cmd_report::ReportArgs),
}

/// `dragnet rules ...`
#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// Load rules and report every one that fails (file, line, reason); exit 1 if any failed.
    Validate(RuleSetArgs),
    /// Count rules by level, status, logsource, modifier and correlation type.
    Stats(RulesStatsArgs),
    /// Run SigmaHQ's regression tests (regression_data/**/info.yml) against its rules.
    Regression(RegressionArgs),
}

#[derive(Args, Debug, Clone)]
struct SimulateArgs {
    /// `ink-dragon`, or `none` for background activity only.
    #[arg(long, default_value = "ink-dragon")]
    scenario: String,
    /// Seed: hosts, names, times and the attack's path vary with it; same seed, same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Windows machines (at least 4).
    #[arg(long, default_value_t = 6)]
    hosts: usize,
    /// Days of activity.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Background volume multiplier (1.0: a small office; 200: about 10 million events).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Mean period of the HTTPS beacons, seconds.
    #[arg(long, default_value_t = 300)]
    beacon_period: u32,
    /// Relative jitter of the beacons (0 to 0.95).
    #[arg(long, default_value_t = 0.2)]
    beacon_jitter: f64,
    /// Output folder.
    #[arg(long, default_value = "evidence")]
    out: PathBuf,
    /// No summary line.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args, Debug)]
struct DemoArgs {
    #[command(flatten)]
    sim: SimulateArgs,
    /// Where to write the evidence (default: a folder in the system's temporary directory).
    #[arg(long = "into", id = "into", value_name = "DIR")]
    out: Option<PathBuf>,
    /// Show findings from this level up.
    #[arg(long, value_name = "LEVEL", default_value = "medium", value_parser = parse_level)]
    min_level: Level,
}

#[derive(Args, Debug)]
struct RuleSetArgs {
    /// Rule files or directories; the built-in pack when none is given.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// YAML map of placeholder name -> values, for the `expand` modifier.
    #[arg(long, value_name = "FILE")]
    placeholders: Option<PathBuf>,
    /// Extra logsource map entries (format of the built-in map).
    #[arg(long, value_name = "FILE")]
    logsources: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RulesStatsArgs {
    #[command(flatten)]
    set: RuleSetArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RegressionArgs {
    /// A SigmaHQ checkout (with rules*/ and regression_data/).
    #[arg(value_name = "SIGMA_REPO_DIR")]
    repo: PathBuf,
    /// Read the JSON twins of the EVTX files instead.
    #[arg(long)]
    json: bool,
}

/// Timeline formats of `hunt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TimelineFormat {
    /// A table for the terminal.
    Table,
    /// CSV with a header (also loads into Timesketch).
    Csv,
    /// One JSON finding a line (the stable contract).
    Jsonl,
}

impl TimelineFormat {
    fn report_format(self) -> dragnet_report::timeline::Format {
        use dragnet_report::timeline::Format;
        match self {
            TimelineFormat::Table => Format::Table,
            TimelineFormat::Csv => Format::Csv,
            TimelineFormat::Jsonl => Format::Jsonl,
        }
    }
}

/// Output formats of `stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StatsFormat {
    /// Tables for the terminal.
    Table,
    /// One JSON object: totals at the top level, breakdowns beneath.
    Json,
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse::<Level>()
}

#[derive(Args, Debug)]
struct HuntArgs {
    /// Evidence files or directories (searched recursively).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Sigma rule files or directories (repeatable); the built-in pack when none is given.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Drop findings below this level (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL", default_value = "informational", value_parser = parse_level)]
    min_level: Level,
    /// Timeline format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Table)]
    format: TimelineFormat,
    /// Write the timeline to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Threads for the whole run: rule loading, reading, detection (default: every core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// No progress, no skipped-file lines, no closing summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// No colours in the table.
    #[arg(long)]
    no_color: bool,
    /// YAML map of placeholder name -> values, for rules using the `expand` modifier.
    #[arg(long, value_name = "FILE")]
    placeholders: Option<PathBuf>,
    /// Extra logsource map entries (format of the built-in map), e.g. for custom channels.
    #[arg(long, value_name = "FILE")]
    logsources: Option<PathBuf>,
    /// Threat-intelligence IOC list to match (CSV with `type`,`value` columns, or one
    /// indicator a line); repeatable.
    #[arg(long = "intel", value_name = "FILE")]
    intel: Vec<PathBuf>,
    /// The organisation's own domain (look-alikes of it are reported); repeatable.
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    org_domains: Vec<String>,
    #[command(flatten)]
    out: outputs::OutputArgs,
}

#[derive(Args, Debug)]
struct StatsArgs {
    /// Evidence files or directories (searched recursively).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    format: StatsFormat,
    /// Threads for the whole run: rule loading, reading, detection (default: every core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// No progress and no skipped-file lines.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// glibc gives each thread that allocates its own malloc arena (up to eight a core); with the
/// reading threads allocating events and findings, that held about a tenth more memory and
/// spent twice the system time (BENCHMARKS.md). One arena a core plus one for the thread that
/// reads a big file: fewer made two workers queue on one arena's lock.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let arenas = i32::try_from(dragnet_engine::default_threads() + 1).unwrap_or(i32::MAX);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Hand memory that is free inside the allocator back to the system (a hunt calls it once the
/// compiled rules are dropped, before the findings are walked: on glibc, memory freed in a
/// thread's arena is otherwise kept for that thread).
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Commands::Hunt(args) => cmd_hunt::run(args),
        Commands::Stats(args) => cmd_stats::run(args),
        Commands::Simulate(a) => cmd_sim::run_simulate(a),
        Commands::Demo(a) => cmd_sim::run_demo(a),
        Commands::Rules(RulesCommand::Validate(a)) => {
            cmd_rules::load_options(a.placeholders.as_deref(), a.logsources.as_deref())
                .and_then(|o| cmd_rules::validate(&a.paths, o))
        }
        Commands::Rules(RulesCommand::Stats(a)) => {
            cmd_rules::load_options(a.set.placeholders.as_deref(), a.set.logsources.as_deref())
                .and_then(|o| cmd_rules::stats(&a.set.paths, o, a.json))
        }
        Commands::Rules(RulesCommand::Regression(a)) => cmd_rules::regression(&a.repo, a.json),
        Commands::Mail(c) => cmd_mail::run(c),
        Commands::Attack(c) => cmd_attack::run(c),
        Commands::Report(a) => cmd_report::run(a),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dragnet: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
