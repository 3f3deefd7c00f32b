//! The findings of the reading stage, bounded in memory: an external merge sort.
//!
//! Readers hand their findings over in small batches, from every thread. They are kept in
//! memory up to a byte budget; when it is full, they are sorted into timeline order and
//! written to a temporary file as one sorted *run* (one JSON line a finding, the rule as an
//! index into a table kept here: a rule's metadata is stored once, not once a finding). At
//! the end the runs and what is still in memory are merged into one timeline. The order is
//! the one a stable in-memory sort of the same findings gives, so the output does not change
//! with the budget; only memory does. While the files are read, the findings use at most the
//! budget, whatever their number.
//!
//! A run that cannot be written (disk full, no temporary directory) is kept in memory instead
//! (counted in [`SpoolStats::kept_in_memory`]): findings are never dropped. A run that cannot
//! be read back loses its findings, counted in [`SpoolStats::lost`].

use dragnet_event::{Finding, Level, Provenance, RuleMeta, Timestamp};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// What spooling did, for the run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Sorted runs written to temporary files.
    pub runs: u64,
    /// Findings written to runs.
    pub spilled: u64,
    /// Bytes written to runs.
    pub bytes: u64,
    /// Findings kept in memory because their run could not be written.
    pub kept_in_memory: u64,
    /// Findings lost because their run could not be read back.
    pub lost: u64,
}

/// Approximate heap bytes a finding holds (what the budget counts): the struct, its strings,
/// and the details map (a B-tree node, then each key and value).
fn finding_bytes(f: &Finding) -> usize {
    let details = if f.details.is_empty() {
        0
    } else {
        // A B-tree leaf holds up to eleven keys and values.
        640 + f
            .details
            .iter()
            .map(|(k, v)| 16 + k.len() + value_bytes(v))
            .sum::<usize>()
    };
    std::mem::size_of::<Finding>()
        + f.host.len()
        + f.attack.iter().map(|a| 24 + a.len()).sum::<usize>()
        + f.events.len() * std::mem::size_of::<Provenance>()
        + details
}

fn value_bytes(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::String(s) => 16 + s.len(),
        Value::Array(a) => 24 + a.iter().map(|x| 32 + value_bytes(x)).sum::<usize>(),
        Value::Object(m) => {
            640 + m
                .iter()
                .map(|(k, v)| 16 + k.len() + value_bytes(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// A finding as a run stores it.
#[derive(Serialize)]
struct Stored<'a> {
    /// Index into the spool's rule table.
    r: u32,
    /// Nanoseconds since the epoch.
    t: i64,
    level: Level,
    host: &'a str,
    attack: &'a [String],
    source: &'a Provenance,
    details: &'a serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    events: &'a [Provenance],
}

/// A finding read back from a run.
#[derive(Deserialize)]
struct Loaded {
    r: u32,
    t: i64,
    level: Level,
    host: String,
    attack: Vec<String>,
    source: Provenance,
    details: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    events: Vec<Provenance>,
}

/// Findings kept under a memory budget (see the module documentation).
pub struct Spool {
    budget: usize,
    mem: Vec<Finding>,
    mem_bytes: usize,
    /// Where the run directory is made.
    parent: PathBuf,
    dir: Option<PathBuf>,
    /// Sorted runs, in the order they were made.
    runs: Vec<Run>,
    /// Rule metadata by table index, and the index of each (by address: findings share it).
    rules: Vec<Arc<RuleMeta>>,
    rule_index: HashMap<usize, u32>,
    stats: SpoolStats,
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Spool {
    /// A spool that keeps up to `budget` bytes of findings in memory, its runs in the
    /// system's temporary directory.
    pub fn new(budget: usize) -> Spool {
        Spool::in_dir(budget, std::env::temp_dir())
    }

    /// A spool whose runs go to a new directory inside `parent`.
    pub fn in_dir(budget: usize, parent: PathBuf) -> Spool {
        Spool {
            budget,
            mem: Vec::new(),
            mem_bytes: 0,
            parent,
            dir: None,
            runs: Vec::new(),
            rules: Vec::new(),
            rule_index: HashMap::new(),
            stats: SpoolStats::default(),
        }
    }

    /// Take every finding of `found` (leaving it empty); spill a run when over budget.
    pub fn push_all(&mut self, found: &mut Vec<Finding>) {
        self.mem_bytes += found.iter().map(finding_bytes).sum::<usize>();
        self.mem.append(found);
        if self.mem_bytes > self.budget {
            self.spill();
        }
    }

    fn spill(&mut self) {
        let mut run = std::mem::take(&mut self.mem);
        self.mem_bytes = 0;
        run.sort_by(Finding::timeline_cmp);
        match self.write_run(&run) {
            Ok((path, bytes)) => {
                self.stats.runs += 1;
                self.stats.spilled += run.len() as u64;
                self.stats.bytes += bytes;
                self.runs.push(Run::File(path, run.len() as u64));
            }
            Err(_) => {
                self.stats.kept_in_memory += run.len() as u64;
                self.runs.push(Run::Held(run));
            }
        }
    }

    fn dir(&mut self) -> io::Result<PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let d = dragnet_event::private_scratch_dir(&self.parent, "dragnet-findings")?;
        self.dir = Some(d.clone());
        Ok(d)
    }

    fn rule_id(&mut self, rule: &Arc<RuleMeta>) -> u32 {
        let addr = Arc::as_ptr(rule) as usize;
        if let Some(&i) = self.rule_index.get(&addr) {
            return i;
        }
        let i = self.rules.len() as u32;
        self.rules.push(Arc::clone(rule));
        self.rule_index.insert(addr, i);
        i
    }

    fn write_run(&mut self, run: &[Finding]) -> io::Result<(PathBuf, u64)> {
        let path = self
            .dir()?
            .join(format!("run-{:06}.jsonl", self.runs.len()));
        let result = (|| {
            let mut w = BufWriter::with_capacity(1 << 16, File::create(&path)?);
            let mut bytes = 0u64;
            let mut line = Vec::with_capacity(1024);
            for f in run {
                line.clear();
                let stored = Stored {
                    r: self.rule_id(&f.rule),
                    t: f.time.nanos(),
                    level: f.level,
                    host: &f.host,
                    attack: &f.attack,
                    source: &f.source,
                    details: &f.details,
                    events: &f.events,
                };
                serde_json::to_writer(&mut line, &stored)?;
                line.push(b'\n');
                w.write_all(&line)?;
                bytes += line.len() as u64;
            }
            w.flush()?;
            Ok(bytes)
        })();
        match result {
            Ok(bytes) => Ok((path, bytes)),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Every finding, in timeline order (stable: equal findings keep the order they were
    /// pushed in), and what spooling did.
    pub fn finish(mut self) -> (Vec<Finding>, SpoolStats) {
        let mut last = std::mem::take(&mut self.mem);
        last.sort_by(Finding::timeline_cmp);
        if self.runs.is_empty() {
            return (last, std::mem::take(&mut self.stats));
        }
        // Sources in the order they were made: among equal findings the merge takes the
        // lowest source first, as a stable sort would.
        let mut sources: Vec<Source> = Vec::new();
        for run in std::mem::take(&mut self.runs) {
            match run {
                Run::File(p, n) => match File::open(&p) {
                    Ok(f) => sources.push(Source::File {
                        lines: BufReader::with_capacity(1 << 16, f),
                        buf: String::new(),
                    }),
                    Err(_) => self.stats.lost += n,
                },
                Run::Held(v) => sources.push(Source::Mem(v.into_iter())),
            }
        }
        sources.push(Source::Mem(last.into_iter()));

        let mut paths: HashSet<Arc<str>> = HashSet::new();
        let total = self.stats.spilled as usize + sources.iter().map(Source::hint).sum::<usize>();
        let mut out = Vec::with_capacity(total);
        let mut heap: BinaryHeap<Head> = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(f) = self.next_of(s, &mut paths) {
                heap.push(Head { f, source: i });
            }
        }
        while let Some(Head { f, source }) = heap.pop() {
            out.push(f);
            if let Some(f) = self.next_of(&mut sources[source], &mut paths) {
                heap.push(Head { f, source });
            }
        }
        (out, std::mem::take(&mut self.stats))
    }

    /// The next finding of a source (a run's findings with their rule and path shared again).
    fn next_of(&mut self, s: &mut Source, paths: &mut HashSet<Arc<str>>) -> Option<Finding> {
        match s {
            Source::Mem(it) => it.next(),
            Source::File { lines, buf } => loop {
                buf.clear();
                match lines.read_line(buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(_) => {
                        self.stats.lost += 1;
                        return None;
                    }
                }
                let Ok(l) = serde_json::from_str::<Loaded>(buf) else {
                    self.stats.lost += 1;
                    continue;
                };
                let Some(rule) = self.rules.get(l.r as usize).cloned() else {
                    self.stats.lost += 1;
                    continue;
                };
                let mut source = l.source;
                source.path = intern(paths, source.path);
                let events = l
                    .events
                    .into_iter()
                    .map(|mut p| {
                        p.path = intern(paths, p.path);
                        p
                    })
                    .collect();
                return Some(Finding {
                    time: Timestamp(l.t),
                    level: l.level,
                    host: l.host,
                    rule,
                    attack: l.attack,
                    source,
                    details: l.details,
                    events,
                });
            },
        }
    }
}

fn intern(paths: &mut HashSet<Arc<str>>, p: Arc<str>) -> Arc<str> {
    match paths.get(&p) {
        Some(known) => Arc::clone(known),
        None => {
            paths.insert(Arc::clone(&p));
            p
        }
    }
}

/// A sorted run: in a temporary file, or held in memory when it could not be written.
enum Run {
    /// The file and how many findings it holds.
    File(PathBuf, u64),
    Held(Vec<Finding>),
}

/// Where the merge takes findings from.
enum Source {
    File { lines: BufReader<File>, buf: String },
    Mem(std::vec::IntoIter<Finding>),
}

impl Source {
    fn hint(&self) -> usize {
        match self {
            Source::File { .. } => 0,
            Source::Mem(it) => it.len(),
        }
    }
}

/// The head of one source in the merge; the heap pops the earliest (then the lowest source).
struct Head {
    f: Finding,
    source: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .f
            .timeline_cmp(&self.f)
            .then_with(|| other.source.cmp(&self.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}
