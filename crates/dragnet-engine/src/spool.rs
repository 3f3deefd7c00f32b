//! The findings of the reading stage, bounded in memory: an external merge sort.
//!
//! Readers hand their findings over in small batches, from every thread. They are kept in
//! memory up to a byte budget; when it is full, they are sorted into timeline order and
//! written to a temporary file as one sorted *run* (one JSON line a finding, the rule as an
//! index into a table kept here: a rule's metadata is stored once, not once a finding). At
//! the end the spool is sealed ([`Spooled`]): each walk over it merges the runs and what is
//! still in memory into one timeline, handed over one finding at a time. The order is the one
//! a stable in-memory sort of the same findings gives, so the output does not change with the
//! budget; only memory does. The findings use at most the budget, whatever their number,
//! while the files are read and while the timeline is walked.
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
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
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

impl SpoolStats {
    /// Count another spool's figures in.
    pub fn add(&mut self, other: &SpoolStats) {
        self.runs += other.runs;
        self.spilled += other.spilled;
        self.bytes += other.bytes;
        self.kept_in_memory += other.kept_in_memory;
        self.lost += other.lost;
    }
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
    dir: RunDir,
    /// Sorted runs, in the order they were made.
    runs: Vec<Run>,
    /// Rule metadata by table index, and the index of each (by address: findings share it).
    rules: Vec<Arc<RuleMeta>>,
    rule_index: HashMap<usize, u32>,
    stats: SpoolStats,
}

/// The directory of a spool's runs, once made: removed with everything in it when dropped.
#[derive(Default)]
struct RunDir(Option<PathBuf>);

impl Drop for RunDir {
    fn drop(&mut self) {
        if let Some(d) = &self.0 {
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
            dir: RunDir::default(),
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
        if let Some(d) = &self.dir.0 {
            return Ok(d.clone());
        }
        let d = dragnet_event::private_scratch_dir(&self.parent, "dragnet-findings")?;
        self.dir = RunDir(Some(d.clone()));
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

    /// The spool closed for pushing: its findings can then be walked in timeline order as
    /// often as needed, without gathering them (see [`Spooled`]).
    pub fn seal(mut self) -> Spooled {
        let mut last = std::mem::take(&mut self.mem);
        last.sort_by(Finding::timeline_cmp);
        let len = self.stats.spilled + self.stats.kept_in_memory + last.len() as u64;
        Spooled {
            runs: std::mem::take(&mut self.runs),
            last,
            rules: std::mem::take(&mut self.rules),
            // The directory now goes with the sealed spool.
            _dir: std::mem::take(&mut self.dir),
            len,
            stats: std::mem::take(&mut self.stats),
            lost: AtomicU64::new(0),
        }
    }
}

/// The findings of a sealed [`Spool`], in timeline order (stable: equal findings keep the
/// order they were pushed in). Each walk merges the sorted runs again, reading their files
/// back, so that only the merge's heads and the last run held in memory (at most the budget)
/// are in memory at once. The run files are removed when this is dropped.
pub struct Spooled {
    runs: Vec<Run>,
    /// The findings that never left memory, sorted.
    last: Vec<Finding>,
    rules: Vec<Arc<RuleMeta>>,
    /// Held only to be removed when this is dropped.
    _dir: RunDir,
    len: u64,
    stats: SpoolStats,
    /// The most findings a walk lost (a run that could not be read back).
    lost: AtomicU64,
}

impl Spooled {
    /// How many findings were pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What spooling did; `lost` counts the findings the worst walk so far could not read
    /// back.
    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            lost: self.stats.lost + self.lost.load(AtomicOrdering::Relaxed),
            ..self.stats.clone()
        }
    }

    /// Hand every finding to `sink`, in timeline order. Findings share their path texts and
    /// ATT&CK lists with those before them (runs stored them one by one). Reading the runs
    /// back (parsing their JSON) is shared out: the runs are cut into as many contiguous
    /// groups as the pool has threads, each merged on a thread of its own, and this thread
    /// merges the groups.
    pub fn for_each(&self, sink: &mut dyn FnMut(Finding)) {
        let rules = &self.rules;
        let lost = AtomicU64::new(0);
        // No runs (everything stayed in memory): no group, no thread.
        let groups = rayon::current_num_threads().max(1).min(self.runs.len());
        let per_group = self.runs.len().div_ceil(groups.max(1)).max(1);
        let mut paths: HashSet<Arc<str>> = HashSet::new();
        let mut attacks: HashSet<Arc<[String]>> = HashSet::new();
        std::thread::scope(|scope| {
            // Sources in the order the runs were made: among equal findings the merge takes
            // the lowest source first, as a stable sort would; groups are contiguous, so that
            // holds across them too.
            let mut sources: Vec<Source> = Vec::new();
            for group in self.runs.chunks(per_group) {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Finding>>(2);
                let lost = &lost;
                let spawned = std::thread::Builder::new()
                    .name("dragnet-merge".into())
                    .spawn_scoped(scope, move || {
                        let mut batch = Vec::with_capacity(BATCH);
                        merge(open_runs(group, lost), rules, lost, &mut |f| {
                            batch.push(f);
                            if batch.len() >= BATCH {
                                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                                // The receiver only goes away when the merge is over.
                                let _ = tx.send(full);
                            }
                        });
                        if !batch.is_empty() {
                            let _ = tx.send(batch);
                        }
                    });
                match spawned {
                    Ok(_) => sources.push(Source::Chan {
                        rx,
                        batch: Vec::new().into_iter(),
                    }),
                    // No thread to spare: this group's runs are merged right here.
                    Err(_) => sources.extend(open_runs(group, lost)),
                }
            }
            sources.push(Source::Mem(self.last.iter()));
            merge(sources, rules, &lost, &mut |f| {
                sink(share(f, &mut paths, &mut attacks))
            });
        });
        self.lost
            .fetch_max(lost.into_inner(), AtomicOrdering::Relaxed);
    }
}

/// A finding read back shares its path texts and ATT&CK list with the findings before it
/// (runs stored them one by one, and each finding of a rule made its own list).
fn share(
    mut f: Finding,
    paths: &mut HashSet<Arc<str>>,
    attacks: &mut HashSet<Arc<[String]>>,
) -> Finding {
    f.source.path = intern(paths, std::mem::take(&mut f.source.path));
    for p in &mut f.events {
        p.path = intern(paths, std::mem::take(&mut p.path));
    }
    f.attack = match attacks.get(&f.attack) {
        Some(known) => Arc::clone(known),
        None => {
            attacks.insert(Arc::clone(&f.attack));
            f.attack
        }
    };
    f
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

/// Findings a merge thread hands on at a time.
const BATCH: usize = 512;

/// Where a merge takes findings from.
enum Source<'a> {
    /// A run's file, read line by line.
    File { lines: BufReader<File>, buf: String },
    /// Findings held in memory (copied out: a walk leaves them in place).
    Mem(std::slice::Iter<'a, Finding>),
    /// Another thread's merge of a group of runs, in batches.
    Chan {
        rx: std::sync::mpsc::Receiver<Vec<Finding>>,
        batch: std::vec::IntoIter<Finding>,
    },
}

/// The sources of runs, in order (a run whose file cannot be opened loses its findings).
fn open_runs<'a>(runs: &'a [Run], lost: &AtomicU64) -> Vec<Source<'a>> {
    let mut sources = Vec::with_capacity(runs.len());
    for run in runs {
        match run {
            Run::File(p, n) => match File::open(p) {
                Ok(f) => sources.push(Source::File {
                    lines: BufReader::with_capacity(1 << 16, f),
                    buf: String::new(),
                }),
                Err(_) => {
                    lost.fetch_add(*n, AtomicOrdering::Relaxed);
                }
            },
            Run::Held(v) => sources.push(Source::Mem(v.iter())),
        }
    }
    sources
}

/// Merge sorted sources into `emit`, in timeline order; among equal findings the lowest
/// source comes first.
fn merge(
    mut sources: Vec<Source<'_>>,
    rules: &[Arc<RuleMeta>],
    lost: &AtomicU64,
    emit: &mut dyn FnMut(Finding),
) {
    let mut heap: BinaryHeap<Head> = BinaryHeap::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(f) = s.next(rules, lost) {
            heap.push(Head { f, source: i });
        }
    }
    while let Some(Head { f, source }) = heap.pop() {
        emit(f);
        if let Some(f) = sources[source].next(rules, lost) {
            heap.push(Head { f, source });
        }
    }
}

impl Source<'_> {
    /// The next finding (of a run file: with its rule shared again from the table).
    fn next(&mut self, rules: &[Arc<RuleMeta>], lost: &AtomicU64) -> Option<Finding> {
        let lose = || {
            lost.fetch_add(1, AtomicOrdering::Relaxed);
        };
        match self {
            Source::Mem(it) => it.next().cloned(),
            Source::Chan { rx, batch } => loop {
                if let Some(f) = batch.next() {
                    return Some(f);
                }
                *batch = rx.recv().ok()?.into_iter();
            },
            Source::File { lines, buf } => loop {
                buf.clear();
                match lines.read_line(buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(_) => {
                        lose();
                        return None;
                    }
                }
                let Ok(l) = serde_json::from_str::<Loaded>(buf) else {
                    lose();
                    continue;
                };
                let Some(rule) = rules.get(l.r as usize).cloned() else {
                    lose();
                    continue;
                };
                return Some(Finding {
                    time: Timestamp(l.t),
                    level: l.level,
                    host: l.host,
                    rule,
                    attack: l.attack.into(),
                    source: l.source,
                    details: l.details,
                    events: l.events,
                });
            },
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
