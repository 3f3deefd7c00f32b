//! Incidents of a hunt: stitching findings, the incident summary on the terminal, `--incidents`.

use crate::common::Failure;
use dragnet_event::{Analyzer, Level};
use dragnet_incident::{GraphHandle, GraphLimits, IncidentReport, LateralGraph};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Incidents printed on the terminal (the file has them all).
const SHOWN: usize = 10;

/// The lateral-movement analyzer of a hunt and the handle to read its graph afterwards.
pub fn graph_analyzer() -> (Box<dyn Analyzer>, GraphHandle) {
    let (g, handle) = LateralGraph::new(GraphLimits::default());
    (Box::new(g), handle)
}

/// `--incidents FILE`: the report as pretty JSON.
pub fn write_file(path: &Path, report: &IncidentReport) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| {
        Failure::failed(format!("writing incidents to {}: {e}", path.display()))
    };
    let f = File::create(path).map_err(|e| fail(&e))?;
    let mut w = BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, report).map_err(|e| fail(&e))?;
    w.write_all(b"\n")
        .and_then(|()| w.flush())
        .map_err(|e| fail(&e))
}

fn short_time(t: dragnet_event::Timestamp) -> String {
    let s = t.to_string();
    // 2026-03-02T08:40:43Z -> 2026-03-02 08:40
    match s.get(0..16) {
        Some(p) => p.replace('T', " "),
        None => s,
    }
}

/// The incident summary for standard error.
pub fn print_summary(report: &IncidentReport) {
    let mut by_level = [0u64; 5];
    for i in &report.incidents {
        by_level[i.level as usize] += 1;
    }
    let levels: Vec<String> = Level::ALL
        .iter()
        .rev()
        .map(|l| format!("{l} {}", by_level[*l as usize]))
        .collect();
    let new_edges = report.edges.iter().filter(|e| e.new).count();
    eprintln!(
        "incidents: {} ({}); lateral-movement edges: {} ({} new); findings in no incident: {}",
        report.incidents.len(),
        levels.join(", "),
        report.edges.len(),
        new_edges,
        report.unassigned_findings
    );
    for inc in report.incidents.iter().take(SHOWN) {
        let hosts: Vec<&str> = inc
            .entities
            .hosts
            .iter()
            .take(6)
            .map(|h| h.name.as_str())
            .collect();
        let more = inc.entities.hosts.len().saturating_sub(hosts.len());
        eprintln!(
            "{} {} score {:.0}  {} -> {}  {} finding(s)  hosts: {}{}",
            inc.id,
            inc.level,
            inc.score,
            short_time(inc.first),
            short_time(inc.last),
            inc.findings,
            if hosts.is_empty() {
                "-".to_string()
            } else {
                hosts.join(", ")
            },
            if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            }
        );
        eprintln!("  {}", inc.title);
        eprintln!("  tactics: {}", inc.tactics.join(" > "));
        match inc.attribution.first() {
            Some(c) if c.score > 0.0 => eprintln!(
                "  attribution: {} ({:.2}{}), overlap, not proof",
                c.name,
                c.score,
                if c.score < dragnet_attack::CONFIDENCE_THRESHOLD {
                    ", weak"
                } else {
                    ""
                }
            ),
            _ => eprintln!("  attribution: none (overlap, not proof)"),
        }
    }
    if report.incidents.len() > SHOWN {
        eprintln!(
            "... and {} more incident(s) (see --incidents FILE)",
            report.incidents.len() - SHOWN
        );
    }
}
