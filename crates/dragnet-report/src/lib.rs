//! Writers for findings and incidents: timelines (JSONL, CSV, terminal table), a
//! self-contained HTML report, ATT&CK Navigator layers, a STIX 2.1 bundle and the extracted
//! indicators.
//!
//! Every function here takes plain data (findings, the incident report, a [`RunInfo`]) and
//! writes bytes; nothing depends on the command line or on the engine. The timeline
//! ([`timeline::Writer`]) and the reports' [`Digest`] take the findings one at a time, so that
//! a run's findings need never be held all at once.

pub mod digest;
pub mod html;
pub mod indicators;
pub mod matrix;
pub mod navigator;
pub mod stix;
pub mod timeline;

mod hash;

pub use digest::Digest;
use dragnet_event::Timestamp;
use serde::{Deserialize, Serialize};

/// What the reports say about the run that produced the findings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// `dragnet 0.1.0`.
    pub tool: String,
    /// When the report was made. Outputs carry it (STIX `created`, the HTML footer), so the
    /// same findings and the same `RunInfo` give the same bytes.
    pub generated: Timestamp,
    /// The reporting organisation (the STIX identity), `dragnet` by default.
    pub org: String,
    /// The evidence paths given.
    #[serde(default)]
    pub inputs: Vec<String>,
    pub files: u64,
    pub records: u64,
    pub bytes: u64,
    /// Read errors.
    pub errors: u64,
    /// Files left out as not evidence.
    #[serde(default)]
    pub skipped: u64,
    /// Rules loaded, when known.
    #[serde(default)]
    pub rules: Option<u64>,
    /// Time span of the evidence, when known (else the reports use that of the findings).
    #[serde(default)]
    pub first: Option<Timestamp>,
    #[serde(default)]
    pub last: Option<Timestamp>,
    /// Seconds the hunt took, when known.
    #[serde(default)]
    pub elapsed_secs: Option<f64>,
}

impl RunInfo {
    /// The organisation name, `dragnet` when none was set.
    pub fn org_name(&self) -> &str {
        if self.org.trim().is_empty() {
            "dragnet"
        } else {
            self.org.trim()
        }
    }

    /// The time span to show: the evidence's when known, else `findings` (that of the
    /// findings with a time, [`Digest::span`]).
    pub fn span_or(
        &self,
        findings: Option<(Timestamp, Timestamp)>,
    ) -> Option<(Timestamp, Timestamp)> {
        match (self.first, self.last) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => findings,
        }
    }
}

/// Whether a rule's metadata says it is one of SigmaHQ's (Detection Rule License 1.1).
pub fn is_sigmahq_rule(rule: &dragnet_event::RuleMeta) -> bool {
    let s = rule.source.to_ascii_lowercase();
    s.contains("sigmahq")
        || s.contains("/sigma/rules")
        || (rule.kind == "sigma" && s.contains("rules-"))
}

/// The license note shown beside SigmaHQ rules.
pub const DRL_NOTE: &str =
    "Detection Rule License (DRL) 1.1: https://github.com/SigmaHQ/Detection-Rule-License";
