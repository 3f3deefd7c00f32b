//! The ATT&CK view of a run: tactics in kill-chain order and the techniques seen, with counts,
//! hosts and rules. Names and tactic mappings come from the embedded knowledge base
//! (`dragnet_attack::kb()`); where it has nothing (an unknown or newer id), the technique keeps
//! its bare id and takes its tactics from the tactic tags of the rules that reported it.

use dragnet_event::{Finding, Level, Timestamp};
use dragnet_incident::Incident;
use std::collections::BTreeMap;

/// Hosts and rules kept per technique.
const MAX_NAMES: usize = 25;

/// One tactic column.
#[derive(Clone, Debug, PartialEq)]
pub struct TacticInfo {
    /// `credential-access`.
    pub shortname: String,
    /// `Credential Access`.
    pub name: String,
    /// `TA0006`.
    pub id: String,
}

/// Enterprise tactics in kill-chain order, used when the knowledge base has none.
const FALLBACK_TACTICS: [(&str, &str, &str); 14] = [
    ("reconnaissance", "Reconnaissance", "TA0043"),
    ("resource-development", "Resource Development", "TA0042"),
    ("initial-access", "Initial Access", "TA0001"),
    ("execution", "Execution", "TA0002"),
    ("persistence", "Persistence", "TA0003"),
    ("privilege-escalation", "Privilege Escalation", "TA0004"),
    ("defense-evasion", "Defense Evasion", "TA0005"),
    ("credential-access", "Credential Access", "TA0006"),
    ("discovery", "Discovery", "TA0007"),
    ("lateral-movement", "Lateral Movement", "TA0008"),
    ("collection", "Collection", "TA0009"),
    ("command-and-control", "Command and Control", "TA0011"),
    ("exfiltration", "Exfiltration", "TA0010"),
    ("impact", "Impact", "TA0040"),
];

/// Tactics in kill-chain order (the knowledge base's, else the 14 enterprise tactics).
pub fn tactics() -> Vec<TacticInfo> {
    let kb = dragnet_attack::kb();
    let mut list: Vec<&dragnet_attack::Tactic> = kb.tactics().iter().collect();
    if !list.is_empty() {
        list.sort_by_key(|t| t.order);
        return list
            .into_iter()
            .map(|t| TacticInfo {
                shortname: t.shortname.clone(),
                name: t.name.clone(),
                id: t.id.clone(),
            })
            .collect();
    }
    FALLBACK_TACTICS
        .iter()
        .map(|(s, n, i)| TacticInfo {
            shortname: s.to_string(),
            name: n.to_string(),
            id: i.to_string(),
        })
        .collect()
}

/// The technique's name, when the knowledge base knows the id (or what replaced it).
pub fn technique_name(id: &str) -> Option<String> {
    match dragnet_attack::kb().resolve(id) {
        dragnet_attack::Resolved::Current(t) | dragnet_attack::Resolved::Replaced { by: t, .. } => {
            Some(t.name.clone())
        }
        dragnet_attack::Resolved::Unknown => None,
    }
}

/// `T1003.001 OS Credential Dumping: LSASS Memory`-style label, or the bare id.
pub fn technique_label(id: &str) -> String {
    match technique_name(id) {
        Some(n) => format!("{id} {n}"),
        None => id.to_string(),
    }
}

/// The ATT&CK page of a technique: `https://attack.mitre.org/techniques/T1003/001/`.
pub fn technique_url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// Tactic shortnames of a technique per the knowledge base (empty when unknown).
pub fn kb_tactics_of(id: &str) -> Vec<String> {
    match dragnet_attack::kb().resolve(id) {
        dragnet_attack::Resolved::Current(t) | dragnet_attack::Resolved::Replaced { by: t, .. } => {
            t.tactics.clone()
        }
        dragnet_attack::Resolved::Unknown => Vec::new(),
    }
}

/// Tactic shortnames among a rule's tags (`attack.credential-access`).
pub fn tactics_in_tags(tags: &[String], known: &[TacticInfo]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tags {
        let Some(rest) = t.strip_prefix("attack.") else {
            continue;
        };
        let s = rest.replace('_', "-").to_ascii_lowercase();
        if known.iter().any(|k| k.shortname == s) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// One technique seen in the run (or in an incident).
#[derive(Clone, Debug, PartialEq)]
pub struct TechniqueUse {
    /// `T1003.001`.
    pub id: String,
    pub name: Option<String>,
    /// Tactic shortnames, kill-chain order.
    pub tactics: Vec<String>,
    /// Findings (or, for incident steps, folded findings) that carried it.
    pub count: u64,
    pub max_level: Level,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Sorted, at most 25.
    pub hosts: Vec<String>,
    /// (title, author), at most 25.
    pub rules: Vec<(String, String)>,
}

/// Accumulates technique uses.
#[derive(Clone, Default)]
pub(crate) struct Acc {
    map: BTreeMap<String, TechniqueUse>,
    tag_tactics: BTreeMap<String, Vec<String>>,
}

impl Acc {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        id: &str,
        count: u64,
        level: Level,
        first: Timestamp,
        last: Timestamp,
        hosts: &[String],
        rules: &[(String, String)],
        tactic_hint: &[String],
    ) {
        let e = self
            .map
            .entry(id.to_string())
            .or_insert_with(|| TechniqueUse {
                id: id.to_string(),
                name: technique_name(id),
                tactics: Vec::new(),
                count: 0,
                max_level: level,
                first,
                last,
                hosts: Vec::new(),
                rules: Vec::new(),
            });
        e.count += count;
        e.max_level = e.max_level.max(level);
        e.first = e.first.min(first);
        e.last = e.last.max(last);
        for h in hosts {
            if e.hosts.len() < MAX_NAMES && !h.is_empty() && !e.hosts.contains(h) {
                e.hosts.push(h.clone());
            }
        }
        for r in rules {
            if e.rules.len() < MAX_NAMES && !e.rules.contains(r) {
                e.rules.push(r.clone());
            }
        }
        let hints = self.tag_tactics.entry(id.to_string()).or_default();
        for t in tactic_hint {
            if !hints.contains(t) {
                hints.push(t.clone());
            }
        }
    }

    /// The techniques of one finding.
    pub(crate) fn add_finding(&mut self, f: &Finding, known: &[TacticInfo]) {
        if f.attack.is_empty() {
            return;
        }
        let hint = tactics_in_tags(&f.rule.tags, known);
        let rule = [(f.rule.title.clone(), f.rule.author.clone())];
        for id in f.attack.iter() {
            self.add(
                id,
                1,
                f.level,
                f.time,
                f.time,
                std::slice::from_ref(&f.host),
                &rule,
                &hint,
            );
        }
    }

    pub(crate) fn finish(self, known: &[TacticInfo]) -> Vec<TechniqueUse> {
        let order = |s: &str| {
            known
                .iter()
                .position(|t| t.shortname == s)
                .unwrap_or(usize::MAX)
        };
        let mut out: Vec<TechniqueUse> = Vec::with_capacity(self.map.len());
        for (id, mut u) in self.map {
            let mut tactics = kb_tactics_of(&id);
            if tactics.is_empty() {
                tactics = self.tag_tactics.get(&id).cloned().unwrap_or_default();
            }
            tactics.retain(|t| order(t) != usize::MAX);
            tactics.sort_by_key(|t| order(t));
            tactics.dedup();
            u.tactics = tactics;
            u.hosts.sort();
            out.push(u);
        }
        out
    }
}

/// Techniques seen in findings (sorted by id).
pub fn techniques_in_findings<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    known: &[TacticInfo],
) -> Vec<TechniqueUse> {
    let mut acc = Acc::default();
    for f in findings {
        acc.add_finding(f, known);
    }
    acc.finish(known)
}

/// Techniques of one incident, from its steps (sorted by id).
pub fn techniques_in_incident(inc: &Incident, known: &[TacticInfo]) -> Vec<TechniqueUse> {
    let mut acc = Acc::default();
    for s in &inc.steps {
        let rules: Vec<(String, String)> = s
            .rules
            .iter()
            .map(|r| (r.title.clone(), r.author.clone()))
            .collect();
        let hint = vec![s.tactic.clone()];
        for id in &s.attack {
            acc.add(
                id, s.count, s.level, s.time, s.last, &s.hosts, &rules, &hint,
            );
        }
    }
    for id in &inc.attack {
        if !acc.map.contains_key(id) {
            acc.add(id, 0, inc.level, inc.first, inc.last, &[], &[], &[]);
        }
    }
    acc.finish(known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, RuleMeta, SourceFormat};
    use std::sync::Arc;

    #[test]
    fn techniques_are_counted_and_placed_in_tactics() {
        let known = tactics();
        assert!(known.len() >= 14, "tactics: {}", known.len());
        let rule = Arc::new(RuleMeta {
            id: "r".into(),
            title: "LSASS access".into(),
            author: "A. Author".into(),
            tags: vec!["attack.credential-access".into(), "attack.t1003.001".into()],
            ..Default::default()
        });
        let mk = |h: &str| {
            Finding::new(
                rule.clone(),
                Level::High,
                Timestamp::parse("2024-01-01T00:00:00Z").unwrap(),
                h,
                Provenance {
                    path: "x".into(),
                    record: 1,
                    format: SourceFormat::Evtx,
                },
            )
        };
        let fs = [mk("B"), mk("A"), mk("A")];
        let used = techniques_in_findings(&fs, &known);
        assert_eq!(used.len(), 1);
        assert_eq!(used[0].id, "T1003.001");
        assert_eq!(used[0].count, 3);
        assert_eq!(used[0].hosts, ["A", "B"]);
        assert_eq!(used[0].tactics, ["credential-access"]);
        assert_eq!(
            used[0].rules,
            [("LSASS access".to_string(), "A. Author".to_string())]
        );
        assert_eq!(
            technique_url("T1003.001"),
            "https://attack.mitre.org/techniques/T1003/001/"
        );
    }
}
