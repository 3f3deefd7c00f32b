//! The prefilter: which rules can possibly match an event, found without evaluating them.
//!
//! For every rule we derive a *necessary condition*: a set of atoms "field F contains literal
//! L" (ASCII case-insensitive) such that the rule can only match when at least one atom holds.
//! Per routing bucket, one Aho-Corasick automaton per field scans the event's value once and
//! marks the atoms present; only the rules with a marked atom (plus the rules for which no
//! necessary literal exists) are evaluated. A rule that passes the prefilter is evaluated in
//! full, so results are identical to evaluating every rule (a test checks this on corpora).
//!
//! Logs repeat their values (images, providers, accounts, hashes): what a field's automaton
//! found in a value is remembered per thread (`Memo`, bounded), and the same value met again
//! is neither lowercased nor scanned.

use crate::condition::Cond;
use crate::matcher::EvalCtx;
use crate::matcher::{FieldItem, Matcher};
use crate::pattern::{fold, TextPattern, Token};
use crate::rule::Detection;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use dragnet_event::Value;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// The field name of atoms that may be found in any field (keywords).
pub const ANY_FIELD: &str = "*";

/// "field contains literal" (literal lowercased ASCII).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom {
    pub field: String,
    pub literal: String,
}

/// The literal as the automaton looks for it: lowercased the way field values are
/// ([`fold`]), since the prefilter scans the folded values.
fn ascii_core(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| fold(s))
}

/// For keyword atoms (searched in every field, ASCII-case-insensitively, in the values joined
/// by [`SEPARATOR`] and ASCII-lowercased): the whole literal when its non-ASCII characters have
/// no case (symbols, emoji), else its longest ASCII run; never across a [`SEPARATOR`] (any
/// substring of a required literal is required too).
fn raw_core(s: &str) -> Option<String> {
    let caseless = s.chars().all(|c| {
        c != SEPARATOR
            && (c.is_ascii()
                || (c.to_lowercase().eq(std::iter::once(c))
                    && c.to_uppercase().eq(std::iter::once(c))))
    });
    if caseless {
        return (!s.is_empty()).then(|| s.to_ascii_lowercase());
    }
    let best = s
        .split(|c: char| !c.is_ascii() || c == SEPARATOR)
        .max_by_key(|r| r.len())
        .unwrap_or("");
    (!best.is_empty()).then(|| best.to_ascii_lowercase())
}

fn longest_literal(p: &TextPattern, core: fn(&str) -> Option<String>) -> Option<String> {
    let lit = match p {
        TextPattern::Equals(s) | TextPattern::Prefix(s) | TextPattern::Suffix(s) => s.clone(),
        TextPattern::Contains(n) => n.as_str().to_string(),
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
    core(&lit)
}

/// Literals one of which starts every match of the regex (case variants folded), when the
/// set is finite and small.
fn regex_atoms(pattern: &str, field: &str, core: fn(&str) -> Option<String>) -> Option<Vec<Atom>> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .build()
        .parse(pattern)
        .ok()?;
    let seq = regex_syntax::hir::literal::Extractor::new().extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 256 {
        return None;
    }
    let mut out: Vec<Atom> = Vec::new();
    for l in lits {
        let text = std::str::from_utf8(l.as_bytes()).ok()?;
        let core = core(text)?;
        if core.is_empty() {
            return None;
        }
        if !out.iter().any(|a| a.literal == core) {
            out.push(Atom {
                field: field.to_string(),
                literal: core,
            });
        }
    }
    Some(out)
}

/// Atoms necessary for one item, mapped through the route's field mapping.
fn item_atoms(item: &FieldItem, fieldmap: &[(String, String)]) -> Option<Vec<Atom>> {
    let core: fn(&str) -> Option<String> = if item.field.is_none() {
        raw_core
    } else {
        ascii_core
    };
    if item.negate {
        return None;
    }
    // Keywords search every field: their atoms use the field name `*`.
    let field = match item.field.as_ref() {
        Some(f) => f,
        None => &ANY_FIELD.to_string(),
    };
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
                Matcher::Text { pattern, .. } => longest_literal(pattern, core)?,
                Matcher::Regex(r) => {
                    atoms.extend(regex_atoms(r.as_str(), &field, core)?);
                    continue;
                }
                Matcher::Number { text, value } => {
                    // A numeric field compares as a number: its text is the same digits only
                    // for integers.
                    if value.fract() != 0.0 {
                        return None;
                    }
                    longest_literal(text, core)?
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

/// A necessary condition in conjunctive form: every clause must have one of its atoms
/// present. At most [`MAX_CLAUSES`] clauses are kept (the most selective).
pub type Clauses = Vec<Vec<Atom>>;

const MAX_CLAUSES: usize = 2;

/// How selective a clause looks: long literals and few alternatives are rare in logs.
fn score(c: &[Atom]) -> (usize, usize) {
    let min_len = c.iter().map(|a| a.literal.len()).min().unwrap_or(0).min(16);
    (min_len, usize::MAX - c.len())
}

fn best(mut clauses: Clauses) -> Clauses {
    clauses.sort_by_key(|c| std::cmp::Reverse(score(c)));
    clauses.dedup();
    clauses.truncate(MAX_CLAUSES);
    clauses
}

/// AND: every clause of every part holds; keep the best.
fn and(parts: Vec<Clauses>) -> Option<Clauses> {
    let all: Clauses = parts.into_iter().flatten().collect();
    (!all.is_empty()).then(|| best(all))
}

/// OR: (A1 and A2) or (B1 and B2) implies (A1 or B1) and (A2 or B2).
fn or(parts: Vec<Clauses>) -> Clauses {
    let n = parts.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|k| {
            let mut c: Vec<Atom> = parts.iter().flat_map(|p| p[k].iter().cloned()).collect();
            c.sort();
            c.dedup();
            c
        })
        .collect()
}

fn selection_atoms(det: &Detection, i: usize, fieldmap: &[(String, String)]) -> Option<Clauses> {
    let mut branches = Vec::new();
    for branch in &det.selections[i].branches {
        // AND of items: each item with atoms is a clause.
        let clauses: Clauses = branch
            .iter()
            .filter_map(|item| item_atoms(item, fieldmap))
            .collect();
        if clauses.is_empty() {
            return None;
        }
        branches.push(best(clauses));
    }
    let c = or(branches);
    (!c.is_empty()).then_some(c)
}

fn cond_atoms(c: &Cond, det: &Detection, fieldmap: &[(String, String)]) -> Option<Clauses> {
    match c {
        Cond::Sel(i) => selection_atoms(det, *i, fieldmap),
        Cond::Not(_) | Cond::Const(_) => None,
        Cond::And(cs) => and(cs
            .iter()
            .filter_map(|c| cond_atoms(c, det, fieldmap))
            .collect()),
        Cond::All(ids) => and(ids
            .iter()
            .filter_map(|&i| selection_atoms(det, i, fieldmap))
            .collect()),
        Cond::Or(cs) => {
            let parts = cs
                .iter()
                .map(|c| cond_atoms(c, det, fieldmap))
                .collect::<Option<Vec<_>>>()?;
            let c = or(parts);
            (!c.is_empty()).then_some(c)
        }
        Cond::AtLeast(_, ids) => {
            let parts = ids
                .iter()
                .map(|&i| selection_atoms(det, i, fieldmap))
                .collect::<Option<Vec<_>>>()?;
            let c = or(parts);
            (!c.is_empty()).then_some(c)
        }
    }
}

/// The necessary condition of a detection (None: no literal is necessary; always evaluate).
pub fn necessary_atoms(det: &Detection, fieldmap: &[(String, String)]) -> Option<Clauses> {
    cond_atoms(&det.condition, det, fieldmap)
}

/// Up to this many named-field automata, each looks its field up in the event; beyond, the
/// event's fields are walked once and each finds its automaton by name.
const FEW_SCANS: usize = 4;

/// ASCII-case-insensitive hash of a field name, from its length and its first and last eight
/// bytes (names that share all three are told apart by comparing them). Setting bit 5 of every
/// byte lowercases ASCII letters and maps every other byte the same way on both sides.
fn name_hash(name: &str) -> u64 {
    fn word(b: &[u8]) -> u64 {
        let w = match b.first_chunk::<8>() {
            Some(w) => *w,
            None => {
                // Shorter than a word: zero-padded (a loop, not a call to copy).
                let mut w = [0u8; 8];
                for (d, s) in w.iter_mut().zip(b) {
                    *d = *s;
                }
                w
            }
        };
        u64::from_le_bytes(w) | 0x2020_2020_2020_2020
    }
    let b = name.as_bytes();
    let head = word(&b[..b.len().min(8)]);
    let tail = word(&b[b.len().saturating_sub(8)..]);
    (head ^ tail.rotate_left(29) ^ (b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xff51_afd7_ed55_8ccd)
}

/// A hasher for keys that are already hashes ([`name_hash`]).
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed (write_u64); fold anything else in for completeness.
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Automata up to this many literals get a quick "any literal at all?" search.
const MAX_QUICK_LITERALS: usize = 64;

/// One field's automaton: pattern i marks the atoms in `atom_ids[i]`.
struct FieldScan {
    /// The field whose lowercased value is scanned, or [`ANY_FIELD`] for the keywords
    /// automaton, which scans every value of the event joined and ASCII-lowercased
    /// ([`join_raw`]).
    field: String,
    automata: Arc<Automata>,
    pattern_atoms: Vec<Vec<u32>>,
}

/// The searchers of one list of literals.
struct Automata {
    ac: AhoCorasick,
    /// For automata of few literals: a SIMD searcher that tells whether any literal occurs at
    /// all (most values hold none), before the overlapping scan that finds them all
    /// (overlapping searches get no such prefilter from the automaton).
    quick: Option<aho_corasick::packed::Searcher>,
}

impl Automata {
    fn build(literals: &[String]) -> Automata {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(literals)
            .expect("literal automaton");
        let quick = if literals.len() > MAX_QUICK_LITERALS {
            None
        } else {
            let mut b = aho_corasick::packed::Config::new().builder();
            b.extend(literals);
            b.build()
        };
        Automata { ac, quick }
    }
}

/// Automata by their list of literals, shared by the prefilters of one engine: buckets often
/// hold the same rules under other field names (Sysmon's and Security's process creations
/// share every rule), and their automata are the costliest part of a rule set's load. Each is
/// built once, by whichever bucket needs it first.
#[derive(Default)]
pub struct AutomataCache(Mutex<HashMap<Vec<String>, Arc<Built>>>);

/// One list's automata, once built.
type Built = OnceLock<Arc<Automata>>;

impl AutomataCache {
    fn get(&self, literals: Vec<String>) -> Arc<Automata> {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&literals) {
                Some(c) => Arc::clone(c),
                None => {
                    let c = Arc::new(OnceLock::new());
                    map.insert(literals.clone(), Arc::clone(&c));
                    c
                }
            }
        };
        // Built outside the lock: other lists build meanwhile on other threads.
        Arc::clone(cell.get_or_init(|| Arc::new(Automata::build(&literals))))
    }
}

impl FieldScan {
    /// The automaton of one field's atoms (`ids`, all of the same field).
    fn build(atoms: &[Atom], ids: &[u32], cache: &AutomataCache) -> FieldScan {
        let mut literals: Vec<String> = Vec::new();
        let mut pattern_atoms: Vec<Vec<u32>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for &id in ids {
            let lit = atoms[id as usize].literal.as_str();
            match seen.get(lit) {
                Some(&p) => pattern_atoms[p].push(id),
                None => {
                    seen.insert(lit, literals.len());
                    literals.push(lit.to_string());
                    pattern_atoms.push(vec![id]);
                }
            }
        }
        let field = atoms[ids[0] as usize].field.clone();
        FieldScan {
            field,
            automata: cache.get(literals),
            pattern_atoms,
        }
    }
}

/// Joins field values for keyword scans: no keyword literal holds it ([`raw_core`]), so no
/// match spans two values and the atoms found are exactly those of the values one by one.
pub(crate) const SEPARATOR: char = '\0';

/// Every field value of `event` as text, each followed by [`SEPARATOR`], ASCII-lowercased:
/// what the keyword automaton scans (one pass an event instead of one a value, and a
/// case-sensitive automaton, whose packed prefilter skips fast over text without a candidate).
/// Integer values only when `numbers`: a keyword with any character but digits and `-`
/// cannot occur in one (no match spans two values), and integers are half of a Windows
/// event's values.
fn join_raw(event: &dragnet_event::Event, numbers: bool, out: &mut String) {
    for (_, v) in event.fields() {
        push_raw(v, numbers, out);
    }
    out.make_ascii_lowercase();
}

/// One value's text (a list's items one by one), each followed by [`SEPARATOR`].
fn push_raw(v: &Value, numbers: bool, out: &mut String) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::List(items) => {
            for i in items {
                push_raw(i, numbers, out);
            }
            return;
        }
        Value::Int(i) if numbers => out.push_str(itoa_buf(*i, &mut [0u8; 24])),
        Value::Int(_) | Value::Null => return,
        other => match other.as_text() {
            Some(t) => out.push_str(&t),
            None => return,
        },
    }
    out.push(SEPARATOR);
}

/// Whether a keyword literal could occur in an integer's text.
fn number_like(literal: &str) -> bool {
    !literal.is_empty() && literal.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// The prefilter of one routing bucket over `n` candidates (indexes into the bucket's list).
pub struct Prefilter {
    /// Tells this prefilter's entries in a thread's [`Memo`] from another's (unique in the
    /// process, never 0).
    id: u64,
    /// The automata of named fields.
    scans: Vec<FieldScan>,
    /// Named-field automata by [`name_hash`] of their field.
    scan_by_name: HashMap<u64, Vec<u32>, BuildHasherDefault<Prehashed>>,
    /// The automaton of keywords (searched in every field).
    keywords: Option<FieldScan>,
    /// Some keyword could occur in an integer's text (only digits and `-`).
    keyword_numbers: bool,
    /// Atom -> clauses it satisfies.
    atom_clauses: Vec<Vec<u32>>,
    /// Clause -> its candidate.
    clause_candidate: Vec<u32>,
    /// Candidate -> its clauses (empty: always evaluated).
    candidate_clauses: Vec<Vec<u32>>,
    always: Vec<u32>,
    n: usize,
}

/// Reusable per-thread buffers of the prefilter.
#[derive(Default)]
pub struct Marks {
    clauses: Vec<u64>,
    touched: Vec<u32>,
    /// The result: candidates to evaluate.
    pub candidates: Vec<u32>,
    /// The clauses one value satisfies, as a scan finds them.
    found: Vec<u32>,
    memo: Memo,
}

/// Values longer than this are scanned every time (long values seldom repeat).
const MEMO_MAX_TEXT: usize = 256;
/// A value that satisfies more clauses than this is scanned every time (bounds a slot).
const MEMO_MAX_CLAUSES: usize = 256;
/// Slots of a thread's memo (a power of two): at most this many values are remembered.
const MEMO_SLOTS: usize = 4096;

/// What field scans found in recent values, per thread: logs repeat the same values (images,
/// providers, accounts, hashes) over and over, and a value's clauses depend only on the
/// value and the automaton. Direct-mapped: a slot holds the last value that hashed to it, so
/// memory is bounded (at most [`MEMO_SLOTS`] values of [`MEMO_MAX_TEXT`] bytes and
/// [`MEMO_MAX_CLAUSES`] clauses) and colliding values only evict each other.
#[derive(Default)]
struct Memo {
    slots: Vec<MemoSlot>,
}

#[derive(Default)]
struct MemoSlot {
    hash: u64,
    /// The prefilter (its `id`; 0: empty) and field scan the entry is for.
    owner: u64,
    scan: u32,
    /// The value as the event holds it (before lowercasing).
    text: String,
    clauses: Vec<u32>,
}

/// Hash of a value's bytes for the memo (eight bytes a step).
fn value_hash(b: &[u8]) -> u64 {
    const K: u64 = 0xff51_afd7_ed55_8ccd;
    let mut h = (b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// Ids of prefilters, for their memo entries.
static NEXT_PREFILTER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Prefilter {
    /// Build from each candidate's necessary condition (None = always evaluate).
    pub fn build(candidates: &[Option<Clauses>]) -> Prefilter {
        Prefilter::build_with(candidates, &AutomataCache::default())
    }

    /// [`Prefilter::build`], with automata shared through `cache`.
    pub fn build_with(candidates: &[Option<Clauses>], cache: &AutomataCache) -> Prefilter {
        let mut atoms: Vec<Atom> = Vec::new();
        let mut index: std::collections::HashMap<Atom, u32> = std::collections::HashMap::new();
        let mut atom_clauses: Vec<Vec<u32>> = Vec::new();
        let mut clause_candidate = Vec::new();
        let mut candidate_clauses = vec![Vec::new(); candidates.len()];
        let mut always = Vec::new();
        for (ci, c) in candidates.iter().enumerate() {
            match c {
                None => always.push(ci as u32),
                Some(clauses) => {
                    for clause in clauses {
                        let cl = clause_candidate.len() as u32;
                        clause_candidate.push(ci as u32);
                        candidate_clauses[ci].push(cl);
                        for a in clause {
                            let id = *index.entry(a.clone()).or_insert_with(|| {
                                atoms.push(a.clone());
                                atom_clauses.push(Vec::new());
                                (atoms.len() - 1) as u32
                            });
                            atom_clauses[id as usize].push(cl);
                        }
                    }
                }
            }
        }
        // One automaton per field (field names compare case-insensitively, like events do).
        let mut by_field: std::collections::BTreeMap<String, Vec<u32>> =
            std::collections::BTreeMap::new();
        for (i, a) in atoms.iter().enumerate() {
            by_field
                .entry(a.field.to_ascii_lowercase())
                .or_default()
                .push(i as u32);
        }
        // The automata build independently (the biggest buckets have dozens): in parallel.
        let fields: Vec<Vec<u32>> = by_field.into_values().collect();
        let mut scans: Vec<FieldScan> = fields
            .into_par_iter()
            .map(|ids| FieldScan::build(&atoms, &ids, cache))
            .collect();
        let keyword_pos = scans.iter().position(|s| s.field == ANY_FIELD);
        let keywords = keyword_pos.map(|i| scans.remove(i));
        let keyword_numbers = atoms
            .iter()
            .any(|a| a.field == ANY_FIELD && number_like(&a.literal));
        let mut scan_by_name: HashMap<u64, Vec<u32>, BuildHasherDefault<Prehashed>> =
            HashMap::default();
        for (i, s) in scans.iter().enumerate() {
            scan_by_name
                .entry(name_hash(&s.field))
                .or_default()
                .push(i as u32);
        }
        Prefilter {
            id: NEXT_PREFILTER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            scans,
            scan_by_name,
            keywords,
            keyword_numbers,
            atom_clauses,
            clause_candidate,
            candidate_clauses,
            always,
            n: candidates.len(),
        }
    }

    /// The candidates worth evaluating on this event, into `marks.candidates` (ascending).
    /// Field values are scanned lowercased, through the context's cache (rules evaluated
    /// afterwards reuse the same lowercased values), or not at all when the thread's memo
    /// remembers what the same value gave.
    pub fn candidates(&self, ctx: &EvalCtx<'_>, marks: &mut Marks) {
        let event = ctx.event;
        marks.clauses.clear();
        marks
            .clauses
            .resize(self.clause_candidate.len().div_ceil(64), 0);
        marks.touched.clear();
        marks.candidates.clear();
        if let Some(scan) = &self.keywords {
            let Marks {
                clauses, touched, ..
            } = &mut *marks;
            ctx.with_raw_joined(self.keyword_numbers, join_raw, |text| {
                self.scan_text(scan, text, &mut |cl| self.mark(clauses, touched, cl))
            });
        }
        if self.scans.len() <= FEW_SCANS {
            for (i, scan) in self.scans.iter().enumerate() {
                if let Some(v) = event.get(&scan.field) {
                    self.scan_value(i as u32, v, ctx, marks);
                }
            }
        } else {
            // Many fields have literals: walk the event's fields once and find each one's
            // automaton by name (every value of a repeated name is scanned: more atoms can
            // only add candidates, which are evaluated in full).
            for (name, v) in event.fields() {
                let Some(ids) = self.scan_by_name.get(&name_hash(name)) else {
                    continue;
                };
                for &i in ids {
                    let field = &self.scans[i as usize].field;
                    // Events mostly spell names as the rules do: a plain comparison first.
                    if field == name || field.eq_ignore_ascii_case(name) {
                        self.scan_value(i, v, ctx, marks);
                    }
                }
            }
        }
        marks.touched.sort_unstable();
        marks.touched.dedup();
        let clause_marks = &marks.clauses;
        let is_marked = |cl: u32| clause_marks[(cl / 64) as usize] & (1 << (cl % 64)) != 0;
        for &c in &marks.touched {
            if self.candidate_clauses[c as usize]
                .iter()
                .all(|&cl| is_marked(cl))
            {
                marks.candidates.push(c);
            }
        }
        marks.candidates.extend_from_slice(&self.always);
    }

    /// Mark clause `cl` as satisfied (and its candidate as touched, the first time).
    #[inline]
    fn mark(&self, clauses: &mut [u64], touched: &mut Vec<u32>, cl: u32) {
        let (w, b) = ((cl / 64) as usize, cl % 64);
        if clauses[w] & (1 << b) == 0 {
            clauses[w] |= 1 << b;
            touched.push(self.clause_candidate[cl as usize]);
        }
    }

    /// The clauses `text` (lowercased) satisfies through `scan`'s literals, one by one.
    fn scan_text(&self, scan: &FieldScan, text: &str, found: &mut dyn FnMut(u32)) {
        let Automata { ac, quick } = &*scan.automata;
        if quick.as_ref().is_some_and(|q| q.find(text).is_none()) {
            return;
        }
        for m in ac.find_overlapping_iter(text) {
            for &atom in &scan.pattern_atoms[m.pattern().as_usize()] {
                for &cl in &self.atom_clauses[atom as usize] {
                    found(cl);
                }
            }
        }
    }

    /// Mark the clauses one field value satisfies through the scan `i` (a list's items one
    /// by one).
    fn scan_value(&self, i: u32, v: &Value, ctx: &EvalCtx<'_>, marks: &mut Marks) {
        match v {
            Value::Str(s) => self.scan_memo(i, s, true, ctx, marks),
            Value::Int(n) => self.scan_memo(i, itoa_buf(*n, &mut [0u8; 24]), false, ctx, marks),
            Value::List(items) => {
                for item in items {
                    self.scan_value(i, item, ctx, marks);
                }
            }
            Value::Null => {}
            other => {
                if let Some(t) = other.as_text() {
                    let Marks {
                        clauses, touched, ..
                    } = &mut *marks;
                    let scan = &self.scans[i as usize];
                    self.scan_text(scan, &fold(&t), &mut |cl| self.mark(clauses, touched, cl));
                }
            }
        }
    }

    /// Mark the clauses `text` satisfies through the scan `i`, from the memo when it holds the
    /// same value for the same scan, else by scanning it (lowercased first when `fold`).
    fn scan_memo(&self, i: u32, text: &str, fold: bool, ctx: &EvalCtx<'_>, marks: &mut Marks) {
        let Marks {
            clauses,
            touched,
            found,
            memo,
            ..
        } = &mut *marks;
        let scan = &self.scans[i as usize];
        // The slot this value may be remembered in (long values are not remembered).
        let slot = (text.len() <= MEMO_MAX_TEXT).then(|| {
            if memo.slots.is_empty() {
                memo.slots.resize_with(MEMO_SLOTS, MemoSlot::default);
            }
            let hash = value_hash(text.as_bytes())
                ^ self.id.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ^ u64::from(i).rotate_left(40);
            (&mut memo.slots[(hash as usize) & (MEMO_SLOTS - 1)], hash)
        });
        if let Some((slot, hash)) = &slot {
            if slot.hash == *hash && slot.owner == self.id && slot.scan == i && slot.text == text {
                for &cl in &slot.clauses {
                    self.mark(clauses, touched, cl);
                }
                return;
            }
        }
        found.clear();
        let mut push = |cl| found.push(cl);
        if fold {
            ctx.with_folded(text, |f| self.scan_text(scan, f, &mut push));
        } else {
            self.scan_text(scan, text, &mut push);
        }
        if let Some((slot, hash)) = slot {
            // Remembered when it fits; otherwise the slot is emptied (its old value evicted).
            slot.owner = 0;
            slot.clauses.clear();
            if found.len() <= MEMO_MAX_CLAUSES {
                slot.hash = hash;
                slot.owner = self.id;
                slot.scan = i;
                slot.text.clear();
                slot.text.push_str(text);
                slot.clauses.extend_from_slice(found);
            }
        }
        for &cl in found.iter() {
            self.mark(clauses, touched, cl);
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Diagnostics: per field automaton, (field, literals, whether values are lowercased
    /// first or every field is scanned raw).
    pub fn scans(&self) -> Vec<(&str, usize, bool)> {
        self.keywords
            .iter()
            .map(|s| (s.field.as_str(), s.pattern_atoms.len(), false))
            .chain(
                self.scans
                    .iter()
                    .map(|s| (s.field.as_str(), s.pattern_atoms.len(), true)),
            )
            .collect()
    }

    /// The candidates evaluated on every event.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// Candidates evaluated on every event (no necessary literal).
    pub fn always_count(&self) -> usize {
        self.always.len()
    }
}

/// Decimal text of an integer without allocating.
fn itoa_buf(mut v: i64, buf: &mut [u8; 24]) -> &str {
    let neg = v < 0;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10).unsigned_abs() as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Event, Provenance, SourceFormat};

    fn atom(field: &str, literal: &str) -> Atom {
        Atom {
            field: field.to_string(),
            literal: literal.to_string(),
        }
    }

    fn event(fields: &[(&str, Value)]) -> Event {
        let mut e = Event::new(Provenance {
            path: "t".into(),
            record: 1,
            format: SourceFormat::Jsonl,
        });
        for (k, v) in fields {
            e.push(*k, v.clone());
        }
        e
    }

    /// Candidates of `pf` on `ev` with the thread's buffers `marks` (memo included).
    fn candidates(pf: &Prefilter, ev: &Event, marks: &mut Marks) -> Vec<u32> {
        pf.candidates(&EvalCtx::new(ev), marks);
        marks.candidates.clone()
    }

    /// Candidates as a prefilter finds them with fresh buffers (an empty memo).
    fn fresh(pf: &Prefilter, ev: &Event) -> Vec<u32> {
        candidates(pf, ev, &mut Marks::default())
    }

    #[test]
    fn remembered_values_give_what_a_fresh_scan_gives() {
        // 0: Image has "mimikatz"; 1: Image has "\\cmd.exe" and CommandLine has "/c";
        // 2: CommandLine has "whoami"; 3: an integer field holds 4624.
        let pf = Prefilter::build(&[
            Some(vec![vec![atom("Image", "mimikatz")]]),
            Some(vec![
                vec![atom("Image", "\\cmd.exe")],
                vec![atom("CommandLine", "/c")],
            ]),
            Some(vec![vec![atom("CommandLine", "whoami")]]),
            Some(vec![vec![atom("LogonType", "4624")]]),
        ]);
        let long = format!("{}whoami", "x".repeat(MEMO_MAX_TEXT));
        let events = [
            event(&[
                ("Image", Value::str("C:\\Windows\\System32\\CMD.EXE")),
                ("CommandLine", Value::str("cmd /C WHOAMI")),
            ]),
            event(&[("Image", Value::str("C:\\Windows\\System32\\cmd.exe"))]),
            event(&[
                ("Image", Value::str("C:\\tools\\Mimikatz.exe")),
                ("CommandLine", Value::str(long.as_str())),
                ("LogonType", Value::Int(4624)),
            ]),
            event(&[(
                "CommandLine",
                Value::List(vec![Value::str("a"), Value::str("WhoAmI /all")]),
            )]),
            event(&[("LogonType", Value::Int(4625))]),
        ];
        let expected: Vec<Vec<u32>> = events.iter().map(|e| fresh(&pf, e)).collect();
        assert_eq!(expected[0], vec![1, 2]);
        assert_eq!(expected[1], Vec::<u32>::new());
        assert_eq!(expected[2], vec![0, 2, 3]);
        assert_eq!(expected[3], vec![2]);
        assert_eq!(expected[4], Vec::<u32>::new());
        // One thread's buffers over the events three times, in two orders: every value is
        // then answered from the memo, and the answers must not change.
        let mut marks = Marks::default();
        for round in 0..3 {
            let order: Vec<usize> = if round == 1 {
                (0..events.len()).rev().collect()
            } else {
                (0..events.len()).collect()
            };
            for i in order {
                assert_eq!(candidates(&pf, &events[i], &mut marks), expected[i], "{i}");
            }
        }
    }

    /// Two buckets with the same literals under other field names (Sysmon's `Image`,
    /// Security's `NewProcessName`) share one automaton, and each still finds its own
    /// candidates; other literals get an automaton of their own.
    #[test]
    fn automata_are_shared_by_their_literals() {
        let cache = AutomataCache::default();
        let sysmon = Prefilter::build_with(
            &[
                Some(vec![vec![atom("Image", "\\cmd.exe")]]),
                Some(vec![vec![atom("Image", "\\whoami.exe")]]),
            ],
            &cache,
        );
        let security = Prefilter::build_with(
            &[
                Some(vec![vec![atom("NewProcessName", "\\cmd.exe")]]),
                Some(vec![vec![atom("NewProcessName", "\\whoami.exe")]]),
            ],
            &cache,
        );
        let other = Prefilter::build_with(&[Some(vec![vec![atom("Image", "\\net.exe")]])], &cache);
        assert!(Arc::ptr_eq(
            &sysmon.scans[0].automata,
            &security.scans[0].automata
        ));
        assert!(!Arc::ptr_eq(
            &sysmon.scans[0].automata,
            &other.scans[0].automata
        ));
        let e = event(&[("Image", Value::str("C:\\Windows\\whoami.exe"))]);
        let f = event(&[("NewProcessName", Value::str("C:\\Windows\\cmd.exe"))]);
        assert_eq!(fresh(&sysmon, &e), vec![1]);
        assert_eq!(fresh(&security, &f), vec![0]);
        assert_eq!(fresh(&security, &e), Vec::<u32>::new());
        assert_eq!(fresh(&other, &e), Vec::<u32>::new());
    }

    #[test]
    fn prefilters_do_not_share_remembered_values() {
        // Same field, same value, different literals: one thread's memo serves both.
        let a = Prefilter::build(&[Some(vec![vec![atom("Image", "cmd")]])]);
        let b = Prefilter::build(&[
            Some(vec![vec![atom("Image", "powershell")]]),
            Some(vec![vec![atom("Image", "exe")]]),
        ]);
        let ev = event(&[("Image", Value::str("C:\\cmd.exe"))]);
        let mut marks = Marks::default();
        for _ in 0..2 {
            assert_eq!(candidates(&a, &ev, &mut marks), vec![0]);
            assert_eq!(candidates(&b, &ev, &mut marks), vec![1]);
        }
    }

    #[test]
    fn values_that_satisfy_many_clauses_are_scanned_each_time() {
        // One value satisfies more clauses than a memo slot holds.
        let n = MEMO_MAX_CLAUSES + 10;
        let pf = Prefilter::build(
            &(0..n)
                .map(|_| Some(vec![vec![atom("CommandLine", "x")]]))
                .collect::<Vec<_>>(),
        );
        let ev = event(&[("CommandLine", Value::str("xx"))]);
        let mut marks = Marks::default();
        for _ in 0..2 {
            let got = candidates(&pf, &ev, &mut marks);
            assert_eq!(got, (0..n as u32).collect::<Vec<_>>());
        }
        assert!(marks
            .memo
            .slots
            .iter()
            .all(|s| s.clauses.len() <= MEMO_MAX_CLAUSES));
    }

    #[test]
    fn value_hash_tells_near_values_apart() {
        let mut seen = std::collections::HashSet::new();
        for len in 0..40 {
            for b in [b'a', b'b'] {
                let mut v = vec![b'a'; len];
                if len > 0 {
                    v[len - 1] = b;
                }
                seen.insert(value_hash(&v));
            }
        }
        // 40 lengths, two last bytes each (the empty value once).
        assert_eq!(seen.len(), 79);
    }

    #[test]
    fn itoa() {
        for v in [0i64, 7, -7, 4688, i64::MAX, i64::MIN] {
            assert_eq!(itoa_buf(v, &mut [0; 24]), v.to_string());
        }
    }
}
