//! MITRE ATT&CK knowledge for dragnet: tactics in kill-chain order, techniques and
//! sub-techniques (with deprecated/revoked flags and replacements), groups with the techniques
//! they use, and attribution of a set of observed techniques to groups and built-in actor
//! profiles by weighted overlap.
//!
//! The knowledge base is generated from ATT&CK's STIX bundle (`dragnet attack import FILE`) into
//! compact data embedded in the binary.
//!
//! (API skeleton: being filled in.)

use serde::{Deserialize, Serialize};

/// One tactic (`TA0001`, `initial-access`, "Initial Access"), `order` = its place in the
/// enterprise kill chain (0 = reconnaissance).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tactic {
    pub id: String,
    pub shortname: String,
    pub name: String,
    pub order: usize,
}

/// One technique or sub-technique.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1003` or `T1003.001`.
    pub id: String,
    pub name: String,
    /// Tactic shortnames (`credential-access`), in kill-chain order.
    pub tactics: Vec<String>,
    pub deprecated: bool,
    /// For a revoked technique: the id that replaces it.
    pub revoked_by: Option<String>,
}

/// One attribution candidate: a group of ATT&CK or a built-in/user profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Display name (`APT41`, `Ink Dragon`).
    pub name: String,
    /// ATT&CK id (`G0096`) or the profile's id.
    pub id: String,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `attack` or `profile`.
    pub source: String,
    /// 0..=1: weighted overlap.
    pub score: f64,
    /// Observed techniques the candidate is known to use.
    pub matched: Vec<String>,
    /// Observed techniques the candidate is not known to use.
    pub unmatched: Vec<String>,
}
