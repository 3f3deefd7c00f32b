//! Report outputs of a hunt (`--report`, `--navigator`, `--stix`, `--iocs`) and of
//! `dragnet report`: HTML, ATT&CK Navigator layer, STIX 2.1 bundle, indicators.

use crate::common::Failure;
use clap::Args;
use dragnet_event::Timestamp;
use dragnet_incident::IncidentReport;
use dragnet_report::{Digest, RunInfo};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Files a hunt can write besides the timeline: the incidents and the reports.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Write the incidents as JSON (top-level `incidents` array).
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    #[command(flatten)]
    pub files: ReportFiles,
}

/// Report files a hunt or `dragnet report` writes.
#[derive(Args, Debug, Clone, Default)]
pub struct ReportFiles {
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write an ATT&CK Navigator layer (4.5) for the whole run, and one per incident beside
    /// it (`layer.json` -> `layer-INC-0001.json`).
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Write a STIX 2.1 bundle.
    #[arg(long, value_name = "FILE")]
    pub stix: Option<PathBuf>,
    /// Write the extracted indicators as CSV (raw values, with a defanged column).
    #[arg(long, value_name = "FILE")]
    pub iocs: Option<PathBuf>,
    /// The reporting organisation, named in the reports (the STIX identity).
    #[arg(long, value_name = "NAME", default_value = "dragnet")]
    pub org: String,
}

impl ReportFiles {
    /// Whether any report file is asked for.
    pub fn any_report(&self) -> bool {
        self.report.is_some()
            || self.navigator.is_some()
            || self.stix.is_some()
            || self.iocs.is_some()
    }
}

/// The tool's name and version, as the reports name it.
pub fn tool_name() -> String {
    format!("dragnet {}", env!("CARGO_PKG_VERSION"))
}

/// When the report is made: now, or `SOURCE_DATE_EPOCH` (seconds) when set, for
/// reproducible outputs.
pub fn generated_time() -> Timestamp {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
    {
        return Timestamp::from_nanos(t.saturating_mul(1_000_000_000));
    }
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// A digest for the reports of a run (what they need of its findings), filled as the findings
/// are walked.
pub fn digest() -> Digest {
    Digest::new(dragnet_report::html::Limits::default().timeline_rows)
}

/// Write every report file asked for in `args` (`--incidents` is written by the incident
/// stage, not here).
pub fn write_reports(
    args: &ReportFiles,
    findings: &mut Digest,
    summary: &dragnet_engine::RunSummary,
    incidents: &IncidentReport,
) -> Result<(), Failure> {
    if !args.any_report() {
        return Ok(());
    }
    let info = RunInfo {
        tool: tool_name(),
        generated: generated_time(),
        org: args.org.clone(),
        inputs: Vec::new(),
        files: summary.files as u64,
        records: summary.records,
        bytes: summary.bytes,
        errors: summary.errors,
        skipped: summary.skipped.len() as u64,
        rules: None,
        first: None,
        last: None,
        elapsed_secs: Some(summary.elapsed.as_secs_f64()),
    };
    render(args, findings, incidents, &info)
}

/// Write the report files of `args` from the digest of the findings, the incidents and run
/// information.
pub fn render(
    args: &ReportFiles,
    findings: &mut Digest,
    incidents: &IncidentReport,
    info: &RunInfo,
) -> Result<(), Failure> {
    let iocs = findings.take_indicators(incidents);
    let findings = &*findings;
    if let Some(path) = &args.report {
        write_file(path, "HTML report", |w| {
            dragnet_report::html::write(w, findings, incidents, &iocs, info)
        })?;
    }
    if let Some(path) = &args.navigator {
        let layer = dragnet_report::navigator::run_layer(findings, info);
        write_json(path, "Navigator layer", &layer)?;
        for inc in &incidents.incidents {
            let p = dragnet_report::navigator::incident_layer_path(path, &inc.id);
            let layer = dragnet_report::navigator::incident_layer(inc, info);
            write_json(&p, "Navigator layer", &layer)?;
        }
    }
    if let Some(path) = &args.stix {
        let bundle = dragnet_report::stix::bundle(findings, incidents, &iocs, info);
        write_json(path, "STIX bundle", &bundle)?;
    }
    if let Some(path) = &args.iocs {
        write_file(path, "indicators", |w| {
            dragnet_report::indicators::write_csv(w, &iocs)
        })?;
    }
    Ok(())
}

fn write_json(path: &Path, what: &str, v: &serde_json::Value) -> Result<(), Failure> {
    write_file(path, what, |mut w| {
        serde_json::to_writer_pretty(&mut w, v).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

fn write_file(
    path: &Path,
    what: &str,
    body: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let fail =
        |e: std::io::Error| Failure::failed(format!("writing {what} {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(fail)?;
    let mut w = BufWriter::new(file);
    body(&mut w).map_err(fail)?;
    w.flush().map_err(fail)
}
