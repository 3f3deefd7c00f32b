//! `dragnet report`: re-render the reports (HTML, Navigator, STIX, indicators) of a saved run
//! from its findings (`hunt --format jsonl`) and, optionally, its incidents (`--incidents`).

use crate::common::{Failure, EXIT_OK};
use crate::outputs::{self, ReportFiles};
use clap::Args;
use dragnet_event::Finding;
use dragnet_incident::IncidentReport;
use dragnet_report::RunInfo;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Bad finding lines printed one a line before the rest are only counted.
const BAD_LINES_SHOWN: usize = 5;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Findings of a run, one JSON finding a line (`dragnet hunt --format jsonl`).
    #[arg(long, value_name = "FILE")]
    pub findings: PathBuf,
    /// The run's incidents (`dragnet hunt --incidents FILE`); without it, no incidents.
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    #[command(flatten)]
    pub out: ReportFiles,
}

pub fn run(a: ReportArgs) -> Result<ExitCode, Failure> {
    let out = a.out;
    if !out.any_report() {
        return Err(Failure::usage(
            "nothing to write: give at least one of --report, --navigator, --stix, --iocs",
        ));
    }
    // A hunt's timeline is in timeline order: its findings go straight into the reports'
    // digest, never all held. A file out of that order (edited, concatenated) is read again
    // and sorted in memory, since the reports' first-seen lists follow the timeline.
    let mut digest = outputs::digest();
    let in_order = read_findings(&a.findings, true, &mut |f| digest.push(&f))?;
    if !in_order {
        let mut findings = Vec::new();
        read_findings(&a.findings, false, &mut |f| findings.push(f))?;
        findings.sort_by(|x, y| x.timeline_cmp(y));
        digest = outputs::digest();
        for f in &findings {
            digest.push(f);
        }
    }
    let incidents = match &a.incidents {
        Some(p) => read_incidents(p)?,
        None => IncidentReport::default(),
    };
    let info = RunInfo {
        tool: outputs::tool_name(),
        generated: outputs::generated_time(),
        org: out.org.clone(),
        inputs: vec![a.findings.display().to_string()],
        ..Default::default()
    };
    outputs::render(&out, &mut digest, &incidents, &info)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Findings, one JSON object a line, each handed to `sink`; blank lines are skipped, bad lines
/// skipped and (when `tell`) reported. Whether the findings came in timeline order.
fn read_findings(path: &Path, tell: bool, sink: &mut dyn FnMut(Finding)) -> Result<bool, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("findings {}: {e}", path.display())))?;
    let reader = std::io::BufReader::new(file);
    let mut read = 0u64;
    let mut in_order = true;
    let mut last: Option<Finding> = None;
    let mut bad = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| {
            Failure::failed(format!(
                "reading findings {}:{}: {e}",
                path.display(),
                i + 1
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Finding>(&line) {
            Ok(f) => {
                read += 1;
                if in_order {
                    in_order = last.as_ref().is_none_or(|l| l.timeline_cmp(&f).is_le());
                    // Only what orders it is kept of it.
                    last = Some(Finding {
                        host: String::new(),
                        details: Default::default(),
                        events: Vec::new(),
                        rule: f.rule.clone(),
                        attack: f.attack.clone(),
                        source: f.source.clone(),
                        ..f
                    });
                }
                sink(f);
            }
            Err(e) => {
                bad += 1;
                if tell && bad as usize <= BAD_LINES_SHOWN {
                    eprintln!("bad finding: {}:{}: {e}", path.display(), i + 1);
                }
            }
        }
    }
    if tell && bad as usize > BAD_LINES_SHOWN {
        eprintln!(
            "... and {} more bad finding lines",
            bad as usize - BAD_LINES_SHOWN
        );
    }
    if read == 0 && bad > 0 {
        return Err(Failure::failed(format!(
            "no finding could be read from {} ({bad} bad lines)",
            path.display()
        )));
    }
    Ok(in_order)
}

fn read_incidents(path: &Path) -> Result<IncidentReport, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("incidents {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::failed(format!(
            "incidents {}: not an incident report: {e}",
            path.display()
        ))
    })
}
