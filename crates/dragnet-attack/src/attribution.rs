//! Attribution: ranks ATT&CK groups and actor profiles by weighted overlap of their techniques
//! with the techniques observed in an incident. The formula is in the crate documentation.

use crate::kb::{kb, normalize_technique_id, parent_id, KnowledgeBase};
use crate::profiles::{parse_profiles, Ioc, Profile, EMBEDDED_PROFILES, MAX_PROFILE_FILE_BYTES};
use crate::{Candidate, Resolved};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// Weights never fall below this, so a technique every group uses still counts a little.
pub const MIN_WEIGHT: f64 = 0.05;
/// Credit for an observed technique the candidate knows only at the parent level (observed
/// `T1003.001`, candidate known for `T1003` or `T1003.002`), times the parent's weight.
pub const PARTIAL_CREDIT: f64 = 0.5;
/// β of the F-score: recall (share of the observed weight explained) counts β² = 9 times as much
/// as precision (share of the candidate's profile seen), because an incident shows only part of
/// what an actor is known to do.
pub const BETA: f64 = 3.0;
/// Evidence scale M₀ of the factor 1 − exp(−M/M₀), M the explained weight: one rare technique
/// (weight ≈ 4.5) gives 0.41, three (≈ 13.5) give 0.80, six give 0.96.
pub const EVIDENCE_SCALE: f64 = 8.5;
/// Candidates scoring below this are weak: overlap, not attribution.
///
/// How it was chosen (figures measured by the crate's tests on ATT&CK v18.1): above the best
/// score any single technique of the knowledge base reaches against any candidate (0.34), above
/// the best score of a typical benign administration set (`T1059.001 T1078 T1082 T1016 T1057`:
/// 0.09) and above the runners-up of whole actor repertoires (0.31 behind APT41 on its own 82
/// techniques, 0.35 behind Ink Dragon on its TTP table); below the partial view a real
/// intrusion gives (14 techniques of the simulated Ink Dragon intrusion: 0.55) and far below
/// the own lists of APT41 (0.86) and Ink Dragon (0.97).
pub const CONFIDENCE_THRESHOLD: f64 = 0.45;
/// `rank` returns at most this many candidates.
pub const MAX_CANDIDATES: usize = 10;

/// A technique id as the attributor compares it: normalised and resolved to the current
/// technique (a revoked id becomes its replacement); ids the knowledge base does not know are
/// kept as written. None for text that is no technique id.
pub fn canonical_id(kb: &KnowledgeBase, raw: &str) -> Option<String> {
    let n = normalize_technique_id(raw);
    if !crate::import::is_technique_id(&n) {
        return None;
    }
    Some(match kb.resolve(&n) {
        Resolved::Current(t) | Resolved::Replaced { by: t, .. } => t.id.clone(),
        Resolved::Unknown => n,
    })
}

#[derive(Debug)]
struct Entry {
    name: String,
    id: String,
    aliases: Vec<String>,
    source: &'static str,
    techs: HashSet<String>,
    parents: HashSet<String>,
    /// Σ w(t) over `techs`.
    total: f64,
}

impl Entry {
    /// Whether the group's profile holds technique `c` (canonical id): `Some(true)` itself,
    /// `Some(false)` only its parent, `None` neither.
    fn explains(&self, c: &str) -> Option<bool> {
        if self.techs.contains(c) {
            Some(true)
        } else if self.parents.contains(parent_id(c)) {
            Some(false)
        } else {
            None
        }
    }
}

/// Inverse document frequency of techniques over the ATT&CK groups.
#[derive(Debug, Default)]
struct Weights {
    groups: usize,
    df: HashMap<String, usize>,
    parent_df: HashMap<String, usize>,
}

impl Weights {
    fn idf(&self, df: usize) -> f64 {
        let n = self.groups.max(1) as f64;
        (n / (1.0 + df as f64)).ln().max(MIN_WEIGHT)
    }
    fn weight(&self, id: &str) -> f64 {
        self.idf(self.df.get(id).copied().unwrap_or(0))
    }
    fn parent_weight(&self, parent: &str) -> f64 {
        self.idf(self.parent_df.get(parent).copied().unwrap_or(0))
    }
    /// Σ w(t) over `techs`, added in id order: a set's own order changes from run to run,
    /// and with it the last bits of a float sum (and so the scores in the outputs).
    fn total(&self, techs: &HashSet<String>) -> f64 {
        let mut ids: Vec<&String> = techs.iter().collect();
        ids.sort_unstable();
        ids.into_iter().map(|t| self.weight(t)).sum()
    }
}

/// Ranks ATT&CK groups and actor profiles by weighted technique overlap.
#[derive(Debug)]
pub struct Attributor {
    kb: &'static KnowledgeBase,
    weights: Weights,
    entries: Vec<Entry>,
    profiles: Vec<Profile>,
}

impl Attributor {
    /// ATT&CK's groups and the built-in profiles (Ink Dragon).
    pub fn builtin() -> Attributor {
        let kb = kb();
        let mut weights = Weights {
            groups: kb.groups().len(),
            ..Weights::default()
        };
        let mut sets = Vec::with_capacity(kb.groups().len());
        for g in kb.groups() {
            let set: HashSet<String> = g
                .techniques
                .iter()
                .filter_map(|t| canonical_id(kb, t))
                .collect();
            let parents: HashSet<String> = set.iter().map(|t| parent_id(t).to_string()).collect();
            for t in &set {
                *weights.df.entry(t.clone()).or_insert(0) += 1;
            }
            for p in &parents {
                *weights.parent_df.entry(p.clone()).or_insert(0) += 1;
            }
            sets.push((g, set, parents));
        }
        let mut a = Attributor {
            kb,
            weights,
            entries: Vec::new(),
            profiles: Vec::new(),
        };
        for (g, techs, parents) in sets {
            let total = a.weights.total(&techs);
            a.entries.push(Entry {
                name: g.name.clone(),
                id: g.id.clone(),
                aliases: g.aliases.clone(),
                source: "attack",
                techs,
                parents,
                total,
            });
        }
        // The embedded profiles are checked by the crate's tests; should they ever fail to
        // parse, attribution still works with ATT&CK's groups alone.
        match parse_profiles(EMBEDDED_PROFILES, "built-in profiles.yml", kb) {
            Ok(ps) => ps.into_iter().for_each(|p| a.add_profile(p)),
            Err(e) => eprintln!("dragnet-attack: {e}"),
        }
        a
    }

    /// Adds the profiles of a user file (format of the built-in `profiles.yml`); a profile with
    /// the id of one already loaded replaces it.
    pub fn with_profiles_file(mut self, path: &Path) -> Result<Attributor, String> {
        let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut text = String::new();
        f.take(MAX_PROFILE_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if text.len() as u64 > MAX_PROFILE_FILE_BYTES {
            return Err(format!(
                "{}: larger than {} MB",
                path.display(),
                MAX_PROFILE_FILE_BYTES >> 20
            ));
        }
        let ps = parse_profiles(&text, &path.display().to_string(), self.kb)?;
        ps.into_iter().for_each(|p| self.add_profile(p));
        Ok(self)
    }

    fn add_profile(&mut self, p: Profile) {
        let mut techs: HashSet<String> = p
            .techniques
            .iter()
            .filter_map(|t| canonical_id(self.kb, t))
            .collect();
        for s in &p.software {
            if let Some(sw) = self.kb.software_by(s) {
                techs.extend(
                    sw.techniques
                        .iter()
                        .filter_map(|t| canonical_id(self.kb, t)),
                );
            }
        }
        let parents = techs.iter().map(|t| parent_id(t).to_string()).collect();
        let total = self.weights.total(&techs);
        let e = Entry {
            name: p.name.clone(),
            id: p.id.clone(),
            aliases: p.aliases.clone(),
            source: "profile",
            techs,
            parents,
            total,
        };
        self.entries
            .retain(|x| !(x.source == "profile" && x.id == p.id));
        self.entries.push(e);
        self.profiles.retain(|x| x.id != p.id);
        self.profiles.push(p);
    }

    /// The loaded profiles (built-in and user).
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// Every indicator of every loaded profile, with its profile.
    pub fn profile_iocs(&self) -> Vec<(&Profile, &Ioc)> {
        self.profiles
            .iter()
            .flat_map(|p| p.iocs.iter().map(move |i| (p, i)))
            .collect()
    }

    /// The weight of a technique: ln(N / (1 + groups using it)), at least [`MIN_WEIGHT`]
    /// (N = ATT&CK groups; revoked ids count as their replacement).
    pub fn weight(&self, technique_id: &str) -> f64 {
        match canonical_id(self.kb, technique_id) {
            Some(c) => self.weights.weight(&c),
            None => 0.0,
        }
    }

    /// Number of ATT&CK groups the weights are computed over.
    pub fn group_count(&self) -> usize {
        self.weights.groups
    }

    /// Candidates for the observed techniques, best first: only scores above 0, at most
    /// [`MAX_CANDIDATES`]. Text that is no technique id is ignored.
    pub fn rank(&self, observed: &[String]) -> Vec<Candidate> {
        // (as given, normalised) and canonical, without duplicates (by canonical id).
        let mut obs: Vec<(String, String)> = Vec::new();
        for o in observed {
            let n = normalize_technique_id(o);
            if let Some(c) = canonical_id(self.kb, &n) {
                if !obs.iter().any(|(_, x)| *x == c) {
                    obs.push((n, c));
                }
            }
        }
        if obs.is_empty() {
            return Vec::new();
        }
        // An id the knowledge base does not define (a newer sub-technique) weighs as its parent.
        let w_obs: Vec<f64> = obs
            .iter()
            .map(|(_, c)| match self.kb.technique(c) {
                Some(_) => self.weights.weight(c),
                None => self.weights.parent_weight(parent_id(c)),
            })
            .collect();
        let w_total: f64 = w_obs.iter().sum();
        // Every group is scored; only the best are made into candidates (their names, aliases
        // and technique lists copied for those alone). Ties keep the entries' order, as
        // before.
        let mut scored: Vec<(f64, usize, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let (mut explained, mut matched) = (0.0, 0usize);
            for ((_, c), w) in obs.iter().zip(&w_obs) {
                match e.explains(c) {
                    Some(true) => {
                        explained += w;
                        matched += 1;
                    }
                    Some(false) => {
                        explained +=
                            PARTIAL_CREDIT * w.min(self.weights.parent_weight(parent_id(c)));
                    }
                    None => {}
                }
            }
            let score = score(explained, w_total, e.total);
            if score > 0.0 {
                scored.push((score, matched, i));
            }
        }
        let entries = &self.entries;
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then(entries[a.2].source.cmp(entries[b.2].source))
                .then(entries[a.2].id.cmp(&entries[b.2].id))
        });
        scored.truncate(MAX_CANDIDATES);
        scored
            .into_iter()
            .map(|(score, _, i)| {
                let e = &entries[i];
                let (mut matched, mut partial, mut unmatched) =
                    (Vec::new(), Vec::new(), Vec::new());
                for (given, c) in &obs {
                    match e.explains(c) {
                        Some(true) => &mut matched,
                        Some(false) => &mut partial,
                        None => &mut unmatched,
                    }
                    .push(given.clone());
                }
                Candidate {
                    name: e.name.clone(),
                    id: e.id.clone(),
                    aliases: e.aliases.clone(),
                    source: e.source.to_string(),
                    score,
                    matched,
                    partial,
                    unmatched,
                }
            })
            .collect()
    }
}

/// The score of a candidate from the weight it explains (M), the observed weight and the
/// weight of its own profile: R × Fβ(P, R) × (1 − exp(−M/M₀)), in 0..=1.
fn score(explained: f64, observed_total: f64, candidate_total: f64) -> f64 {
    if explained <= 0.0 || observed_total <= 0.0 || candidate_total <= 0.0 {
        return 0.0;
    }
    let recall = (explained / observed_total).min(1.0);
    let precision = (explained / candidate_total).min(1.0);
    let b2 = BETA * BETA;
    let f = (1.0 + b2) * precision * recall / (b2 * precision + recall);
    let evidence = 1.0 - (-explained / EVIDENCE_SCALE).exp();
    (recall * f * evidence).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_techniques_weigh_more_than_common_ones() {
        let a = Attributor::builtin();
        let kb = kb();
        let users = |t: &str| kb.groups_using(t).len();
        // T1059.001 (PowerShell) is used by many groups, T1127 (Trusted Developer Utilities
        // Proxy Execution) by few: checked against the group counts, not assumed.
        let (common, rare) = ("T1059.001", "T1127");
        assert!(
            users(common) > 5 * users(rare).max(1),
            "{} vs {}",
            users(common),
            users(rare)
        );
        assert!(a.weight(rare) > a.weight(common));
        // Exactly the documented formula.
        let n = a.group_count() as f64;
        let expect = (n / (1.0 + users(common) as f64)).ln().max(MIN_WEIGHT);
        assert!((a.weight(common) - expect).abs() < 1e-9);
        // A technique no group uses: the largest weight, ln(N).
        let unused = kb
            .techniques()
            .iter()
            .find(|t| {
                t.revoked_by.is_none() && users(&t.id) == 0 && kb.replaced_by(&t.id).is_empty()
            })
            .unwrap();
        assert!((a.weight(&unused.id) - n.ln()).abs() < 1e-9);
        assert!(a.weight(&unused.id) >= a.weight(rare));
        assert_eq!(a.weight("not-an-id"), 0.0);
    }

    /// Sets iterate in a different order in every attributor built: the scores must not
    /// follow it (they are written to the incidents, bit for bit).
    #[test]
    fn scores_are_the_same_bits_in_every_attributor() {
        let observed: Vec<String> = [
            "T1190",
            "T1505.003",
            "T1003.001",
            "T1021.001",
            "T1053.005",
            "T1071.001",
            "T1059.001",
            "T1047",
            "T1543.003",
            "T1070.004",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let bits = |a: &Attributor| -> Vec<(String, u64)> {
            a.rank(&observed)
                .into_iter()
                .map(|c| (c.id, c.score.to_bits()))
                .collect()
        };
        let first = bits(&Attributor::builtin());
        assert!(first.len() > 1, "{first:?}");
        for _ in 0..6 {
            assert_eq!(bits(&Attributor::builtin()), first);
        }
    }

    #[test]
    fn score_is_bounded_and_monotone() {
        assert_eq!(score(0.0, 10.0, 10.0), 0.0);
        let s1 = score(5.0, 10.0, 50.0);
        let s2 = score(10.0, 10.0, 50.0);
        assert!(s1 > 0.0 && s1 < s2 && s2 <= 1.0);
        assert!(score(1e9, 1e9, 1e9) <= 1.0);
    }
}
