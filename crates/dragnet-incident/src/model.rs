//! The incident contract: what `dragnet hunt --incidents FILE` writes and `dragnet report`
//! reads back. Field names are stable; add fields, do not rename them.

use dragnet_attack::Candidate;
use dragnet_event::{Level, Provenance, Timestamp};
use serde::{Deserialize, Serialize};

/// Top level of the incidents file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentReport {
    /// Best (highest score) first.
    pub incidents: Vec<Incident>,
    /// Every lateral-movement edge seen in the evidence (incidents carry their own subset).
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Findings that went into no incident (noise, or too weak on their own).
    #[serde(default)]
    pub unassigned_findings: u64,
}

/// One intrusion (or one cluster of related suspicious activity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-0001`, ... in score order; stable for the same input.
    pub id: String,
    /// 0..=100.
    pub score: f64,
    pub level: Level,
    /// One line ("Credential theft and RDP lateral movement on 3 hosts").
    pub title: String,
    /// One paragraph a responder can read aloud.
    pub narrative: String,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Tactic shortnames seen, in kill-chain order.
    pub tactics: Vec<String>,
    /// Technique ids seen (sorted, unique).
    pub attack: Vec<String>,
    /// Kill-chain steps, ordered by tactic then time.
    pub steps: Vec<Step>,
    pub entities: Entities,
    /// Lateral-movement edges between this incident's hosts.
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Candidates best first; overlap is not proof.
    #[serde(default)]
    pub attribution: Vec<Candidate>,
    /// How many findings the incident holds.
    pub findings: u64,
}

/// One step of the kill chain: the findings of one tactic (and rule group) in an incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Tactic shortname (`credential-access`), or `unknown` when no technique maps to one.
    pub tactic: String,
    /// Technique ids of this step.
    pub attack: Vec<String>,
    /// First finding's time.
    pub time: Timestamp,
    pub last: Timestamp,
    pub hosts: Vec<String>,
    #[serde(default)]
    pub accounts: Vec<String>,
    pub level: Level,
    /// What fired (rule id, title, author: kept for the Detection Rule License).
    pub rules: Vec<StepRule>,
    /// Number of findings folded into the step.
    pub count: u64,
    /// Where the evidence is (bounded; the first ones in time order).
    pub evidence: Vec<Provenance>,
    /// One line ("certutil downloaded a file on WS-17 as CORP\\j.doe").
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRule {
    pub id: String,
    pub title: String,
    pub author: String,
    pub level: Level,
    pub count: u64,
}

/// Entities of an incident, resolved from the evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    /// Canonical host names (upper-case NetBIOS or FQDN as seen), with the names and addresses
    /// known for each.
    pub hosts: Vec<HostEntity>,
    /// `DOMAIN\user`, UPN or SID as seen.
    pub accounts: Vec<String>,
    pub ips: Vec<String>,
    pub domains: Vec<String>,
    /// Mail recipients and senders.
    #[serde(default)]
    pub mailboxes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostEntity {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ips: Vec<String>,
}

/// One lateral-movement edge: `source` host reached `target` host as `account` by `method`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub account: String,
    /// `rdp`, `smb-logon`, `explicit-credentials`, `service-install`, `winrm`, `wmi`, `psexec`,
    /// `dcom`, `smb`, ...
    pub method: String,
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
    /// Not seen before in the evidence window (no sighting in the baseline period).
    pub new: bool,
    /// Where it was seen (bounded).
    #[serde(default)]
    pub evidence: Vec<Provenance>,
}
