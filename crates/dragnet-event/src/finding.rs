//! Findings: what every detector emits, and the contract of `dragnet hunt --format jsonl`.

use crate::{Provenance, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Severity, in Sigma's five levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Level::Informational),
            "low" => Ok(Level::Low),
            "medium" | "med" => Ok(Level::Medium),
            "high" => Ok(Level::High),
            "critical" | "crit" => Ok(Level::Critical),
            other => Err(format!(
                "unknown level {other:?} (informational, low, medium, high, critical)"
            )),
        }
    }
}

/// What a finding says about the rule or analytic that produced it. Shared by every finding
/// of that rule (an `Arc`), so emitting a finding does not copy it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    /// Required by the Detection Rule License for SigmaHQ rules: always carried to outputs.
    pub author: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub falsepositives: Vec<String>,
    /// Where the rule came from: a file path, or `builtin:NAME` for the embedded pack.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// `sigma`, `correlation`, or the analytic's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl RuleMeta {
    /// ATT&CK technique ids from the tags.
    pub fn attack(&self) -> Vec<String> {
        attack_ids_from_tags(&self.tags)
    }
}

/// `attack.t1003.001` -> `T1003.001`; other tags (tactics, groups, cars) are left out.
pub fn attack_ids_from_tags<S: AsRef<str>>(tags: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.as_ref().trim();
        let Some(rest) = t
            .strip_prefix("attack.")
            .or_else(|| t.strip_prefix("ATTACK."))
        else {
            continue;
        };
        let b = rest.as_bytes();
        if b.len() >= 5 && (b[0] == b't' || b[0] == b'T') && b[1..5].iter().all(u8::is_ascii_digit)
        {
            let sub = &rest[5..];
            let ok = sub.is_empty()
                || (sub.len() == 4
                    && sub.as_bytes()[0] == b'.'
                    && sub.as_bytes()[1..].iter().all(u8::is_ascii_digit));
            if ok {
                let id = format!("T{}", &rest[1..]);
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    out
}

/// One detection: the rule that fired, on which record, when and where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub time: Timestamp,
    pub level: Level,
    pub host: String,
    pub rule: Arc<RuleMeta>,
    /// ATT&CK technique ids (`T1003.001`), from the rule's tags. Shared: findings of one rule
    /// hold the same list once gathered (see the engine's spool).
    pub attack: Arc<[String]>,
    /// The record that fired (for a correlation: the last record that completed it).
    pub source: Provenance,
    /// Key fields of the matched event, or the analytic's explanation and figures.
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// For correlations: every record that took part (bounded by the correlation engine).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Provenance>,
}

impl Finding {
    /// A finding for `rule` at `level` on the record `source`.
    pub fn new(
        rule: Arc<RuleMeta>,
        level: Level,
        time: Timestamp,
        host: &str,
        source: Provenance,
    ) -> Self {
        let attack = rule.attack().into();
        Finding {
            time,
            level,
            host: host.to_string(),
            rule,
            attack,
            source,
            details: serde_json::Map::new(),
            events: Vec::new(),
        }
    }

    /// Timeline order: time, then source, then record, then rule id; total and stable.
    pub fn timeline_cmp(&self, other: &Finding) -> std::cmp::Ordering {
        self.timeline_key().cmp(&other.timeline_key())
    }

    /// What [`Finding::timeline_cmp`] orders by, for holders of a finding's parts.
    pub fn timeline_key(&self) -> TimelineKey<'_> {
        (
            self.time,
            &self.source.path,
            self.source.record,
            &self.rule.id,
        )
    }
}

/// Time, source path, record, rule id: a finding's place in the timeline, compared in that
/// order.
pub type TimelineKey<'a> = (Timestamp, &'a str, u64, &'a str);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFormat;

    #[test]
    fn attack_ids_are_parsed_from_tags() {
        let tags = [
            "attack.credential-access",
            "attack.t1003.001",
            "attack.T1059",
            "attack.t1003.001",
            "attack.g0096",
            "attack.t10x",
            "cve.2021-44228",
            "attack.t1059.0011",
        ];
        assert_eq!(attack_ids_from_tags(&tags), vec!["T1003.001", "T1059"]);
    }

    #[test]
    fn levels_order_and_parse() {
        assert!(Level::Critical > Level::High && Level::Low > Level::Informational);
        assert_eq!("HIGH".parse::<Level>().unwrap(), Level::High);
        assert!("urgent".parse::<Level>().is_err());
    }

    #[test]
    fn finding_json_has_the_contract_fields() {
        let rule = Arc::new(RuleMeta {
            id: "r1".into(),
            title: "T".into(),
            author: "A".into(),
            tags: vec!["attack.t1105".into()],
            ..Default::default()
        });
        let f = Finding::new(
            rule,
            Level::High,
            Timestamp::parse("2024-05-01T10:00:00Z").unwrap(),
            "WS1",
            Provenance {
                path: "a.evtx".into(),
                record: 7,
                format: SourceFormat::Evtx,
            },
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["time"], "2024-05-01T10:00:00Z");
        assert_eq!(v["level"], "high");
        assert_eq!(v["host"], "WS1");
        assert_eq!(v["rule"]["id"], "r1");
        assert_eq!(v["rule"]["author"], "A");
        assert_eq!(v["attack"][0], "T1105");
        assert_eq!(v["source"]["record"], 7);
        assert_eq!(v["source"]["format"], "evtx");
        let back: Finding = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
    }
}
