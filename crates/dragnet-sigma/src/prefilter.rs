//! The prefilter: which rules can possibly match an event, found without evaluating them.
//!
//! For every rule we derive a *necessary condition*: a set of atoms "field F contains literal
//! L" (ASCII case-insensitive) such that the rule can only match when at least one atom holds.
//! Per routing bucket, one Aho-Corasick automaton per field scans the event's value once and
//! marks the atoms present; only the rules with a marked atom (plus the rules for which no
//! necessary literal exists) are evaluated. A rule that passes the prefilter is evaluated in
//! full, so results are identical to evaluating every rule (a test checks this on corpora).

use crate::condition::Cond;
use crate::matcher::{FieldItem, Matcher};
use crate::pattern::{TextPattern, Token};
use crate::rule::Detection;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use dragnet_event::{Event, Value};

/// "field contains literal" (literal lowercased ASCII).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom {
    pub field: String,
    pub literal: String,
}

/// The longest ASCII run of a literal (any substring of a required literal is required too).
fn ascii_core(s: &str) -> Option<String> {
    let mut best = "";
    for run in s.split(|c: char| !c.is_ascii()) {
        if run.len() > best.len() {
            best = run;
        }
    }
    (!best.is_empty()).then(|| best.to_ascii_lowercase())
}

fn longest_literal(p: &TextPattern) -> Option<String> {
    let lit = match p {
        TextPattern::Equals(s)
        | TextPattern::Prefix(s)
        | TextPattern::Suffix(s)
        | TextPattern::Contains(s) => s.clone(),
        TextPattern::PrefixSuffix(a, b) => {
            if a.len() >= b.len() {
                a.clone()
            } else {
                b.clone()
            }
        }
        TextPattern::Glob(tokens) => tokens
            .iter()
            .filter_map(|t| match t {
                Token::Lit(l) => Some(l.clone()),
                _ => None,
            })
            .max_by_key(String::len)?,
    };
    ascii_core(&lit)
}

/// Atoms necessary for one item, mapped through the route's field mapping.
fn item_atoms(item: &FieldItem, fieldmap: &[(String, String)]) -> Option<Vec<Atom>> {
    if item.negate {
        return None;
    }
    let field = item.field.as_ref()?;
    let field = fieldmap
        .iter()
        .find(|(from, _)| from.eq_ignore_ascii_case(field))
        .map(|(_, to)| to.clone())
        .unwrap_or_else(|| field.clone());
    // With `all`, every value must match: the first value's atoms are enough.
    let values: &[Vec<Matcher>] = if item.all {
        &item.alternatives[..1.min(item.alternatives.len())]
    } else {
        &item.alternatives
    };
    let mut atoms = Vec::new();
    for alts in values {
        for m in alts {
            let lit = match m {
                Matcher::Text { pattern, .. } => longest_literal(pattern)?,
                Matcher::Number { text, value } => {
                    // A numeric field compares as a number: its text is the same digits only
                    // for integers.
                    if value.fract() != 0.0 {
                        return None;
                    }
                    longest_literal(text)?
                }
                _ => return None,
            };
            atoms.push(Atom {
                field: field.clone(),
                literal: lit,
            });
        }
    }
    (!atoms.is_empty()).then_some(atoms)
}

fn better(a: Vec<Atom>, b: Vec<Atom>) -> Vec<Atom> {
    // Prefer the set whose shortest literal is longest (more selective), then fewer atoms.
    let key = |v: &Vec<Atom>| {
        (
            v.iter().map(|x| x.literal.len()).min().unwrap_or(0).min(8),
            usize::MAX - v.len(),
        )
    };
    if key(&b) > key(&a) {
        b
    } else {
        a
    }
}

fn selection_atoms(det: &Detection, i: usize, fieldmap: &[(String, String)]) -> Option<Vec<Atom>> {
    let mut all = Vec::new();
    for branch in &det.selections[i].branches {
        // AND of items: any one item's atoms are necessary; take the best.
        let mut best: Option<Vec<Atom>> = None;
        for item in branch {
            if let Some(a) = item_atoms(item, fieldmap) {
                best = Some(match best {
                    Some(b) => better(b, a),
                    None => a,
                });
            }
        }
        all.extend(best?);
    }
    (!all.is_empty()).then_some(all)
}

fn cond_atoms(c: &Cond, det: &Detection, fieldmap: &[(String, String)]) -> Option<Vec<Atom>> {
    match c {
        Cond::Sel(i) => selection_atoms(det, *i, fieldmap),
        Cond::Not(_) | Cond::Const(_) => None,
        Cond::And(cs) => cs
            .iter()
            .filter_map(|c| cond_atoms(c, det, fieldmap))
            .reduce(better),
        Cond::All(ids) => ids
            .iter()
            .filter_map(|&i| selection_atoms(det, i, fieldmap))
            .reduce(better),
        Cond::Or(cs) => {
            let mut out = Vec::new();
            for c in cs {
                out.extend(cond_atoms(c, det, fieldmap)?);
            }
            Some(out)
        }
        Cond::AtLeast(_, ids) => {
            let mut out = Vec::new();
            for &i in ids {
                out.extend(selection_atoms(det, i, fieldmap)?);
            }
            Some(out)
        }
    }
}

/// The necessary atoms of a detection (None: no literal is necessary; always evaluate).
pub fn necessary_atoms(det: &Detection, fieldmap: &[(String, String)]) -> Option<Vec<Atom>> {
    let mut atoms = cond_atoms(&det.condition, det, fieldmap)?;
    atoms.sort();
    atoms.dedup();
    Some(atoms)
}

/// One field's automaton: pattern i marks the atoms in `atom_ids[i]`.
struct FieldScan {
    field: String,
    ac: AhoCorasick,
    pattern_atoms: Vec<Vec<u32>>,
}

/// The prefilter of one routing bucket over `n` candidates (indexes into the bucket's list).
pub struct Prefilter {
    scans: Vec<FieldScan>,
    /// Atom -> candidates that need it.
    atom_candidates: Vec<Vec<u32>>,
    /// Candidates with no necessary literal.
    always: Vec<u32>,
    n: usize,
}

impl Prefilter {
    /// Build from each candidate's atoms (None = always evaluate).
    pub fn build(candidates: &[Option<Vec<Atom>>]) -> Prefilter {
        let mut atoms: Vec<Atom> = Vec::new();
        let mut index: std::collections::HashMap<Atom, u32> = std::collections::HashMap::new();
        let mut atom_candidates: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (ci, c) in candidates.iter().enumerate() {
            match c {
                None => always.push(ci as u32),
                Some(list) => {
                    for a in list {
                        let id = *index.entry(a.clone()).or_insert_with(|| {
                            atoms.push(a.clone());
                            atom_candidates.push(Vec::new());
                            (atoms.len() - 1) as u32
                        });
                        let v = &mut atom_candidates[id as usize];
                        if v.last() != Some(&(ci as u32)) {
                            v.push(ci as u32);
                        }
                    }
                }
            }
        }
        // Group atoms by field (field names compare case-insensitively, like events do).
        let mut by_field: std::collections::BTreeMap<String, Vec<u32>> =
            std::collections::BTreeMap::new();
        for (i, a) in atoms.iter().enumerate() {
            by_field
                .entry(a.field.to_ascii_lowercase())
                .or_default()
                .push(i as u32);
        }
        let mut scans = Vec::new();
        for (_, ids) in by_field {
            let mut literals: Vec<String> = Vec::new();
            let mut pattern_atoms: Vec<Vec<u32>> = Vec::new();
            for &id in &ids {
                let lit = &atoms[id as usize].literal;
                match literals.iter().position(|l| l == lit) {
                    Some(p) => pattern_atoms[p].push(id),
                    None => {
                        literals.push(lit.clone());
                        pattern_atoms.push(vec![id]);
                    }
                }
            }
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .expect("literal automaton");
            scans.push(FieldScan {
                field: atoms[ids[0] as usize].field.clone(),
                ac,
                pattern_atoms,
            });
        }
        Prefilter {
            scans,
            atom_candidates,
            always,
            n: candidates.len(),
        }
    }

    /// Candidates worth evaluating on this event, as a bitset over the bucket (reused buffer).
    pub fn candidates(&self, event: &Event, marks: &mut Vec<u64>) {
        marks.clear();
        marks.resize(self.n.div_ceil(64), 0);
        for &c in &self.always {
            marks[(c / 64) as usize] |= 1 << (c % 64);
        }
        for scan in &self.scans {
            let Some(v) = event.get(&scan.field) else {
                continue;
            };
            let mut visit = |text: &str| {
                for m in scan.ac.find_overlapping_iter(text) {
                    for &atom in &scan.pattern_atoms[m.pattern().as_usize()] {
                        for &c in &self.atom_candidates[atom as usize] {
                            marks[(c / 64) as usize] |= 1 << (c % 64);
                        }
                    }
                }
            };
            match v {
                Value::Str(s) => visit(s),
                Value::List(items) => {
                    for i in items {
                        if let Some(t) = i.as_text() {
                            visit(&t);
                        }
                    }
                }
                other => {
                    if let Some(t) = other.as_text() {
                        visit(&t);
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Candidates evaluated on every event (no necessary literal).
    pub fn always_count(&self) -> usize {
        self.always.len()
    }
}
