//! The hunt pipeline: runs the readers over the discovered input files and the detectors over
//! every event, then the stateful analyzers over the findings in time order.
//!
//! ```text
//! discover (dragnet-ingest) -> read files in parallel (largest first)
//!     -> every event through every Detector on the reading thread
//!     -> findings spooled (sorted runs on disk past a memory budget)
//!     -> Analyzers (stateful) over the timeline, in order (one walk of the spool)
//!     -> Findings: each walk merges the spool and the analyzers' findings in timeline
//!        order, through the min_level and hidden-rule filters
//! ```
//!
//! [`stats`] runs the same readers with no detectors and counts what they read.

mod findings;
mod progress;
mod spool;
mod stats;

pub use findings::Findings;
pub use progress::{NoProgress, Progress};
pub use spool::{Spool, SpoolStats, Spooled};
pub use stats::{stats, EventIdCount, FormatCount, SkippedFile, StatsResult};

use dragnet_event::{Analyzer, Detector, Event, Finding, Level};
use dragnet_ingest::{Discovery, FileSummary, InputFile, MailConfig, ReadError, ReadOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many read errors a run keeps (the rest are only counted).
pub const DEFAULT_MAX_READ_ERRORS: usize = 1000;

/// How often (in records) a reading thread reports progress.
const PROGRESS_EVERY: u64 = 2048;

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct HuntConfig {
    /// Size of the worker pool (at least 1).
    pub threads: usize,
    /// Findings below this level are dropped.
    pub min_level: Level,
    /// How many read errors to keep in the summary; the rest are counted.
    pub max_read_errors: usize,
    /// Rule ids whose findings feed the analyzers but are not reported (the inputs of Sigma
    /// correlations that do not `generate` their own findings).
    pub hidden_rules: HashSet<String>,
    /// How mail (EML, MBOX) is read and judged: the organisation's domains, trusted hosts,
    /// thresholds and the per-message limits.
    pub mail: std::sync::Arc<MailConfig>,
    /// Bytes of findings held in memory while the files are read; beyond it, sorted runs go
    /// to temporary files (see `spool.rs`).
    pub findings_budget: usize,
    /// Called once reading is over and the detectors are dropped, before the findings are
    /// walked: the binary can hand the freed memory (the compiled rules) back to the system
    /// there.
    pub release_memory: Option<fn()>,
}

/// Default of [`HuntConfig::findings_budget`].
pub const DEFAULT_FINDINGS_BUDGET: usize = 8 << 20;

impl Default for HuntConfig {
    fn default() -> Self {
        HuntConfig {
            threads: default_threads(),
            min_level: Level::Informational,
            max_read_errors: DEFAULT_MAX_READ_ERRORS,
            hidden_rules: HashSet::new(),
            mail: Default::default(),
            findings_budget: DEFAULT_FINDINGS_BUDGET,
            release_memory: None,
        }
    }
}

/// The machine's parallelism, or 1 when it cannot be told.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What one input file gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileStats {
    pub path: String,
    pub format: &'static str,
    pub records: u64,
    pub errors: u64,
    pub bytes: u64,
}

/// Read errors of a run: the first `max_read_errors` kept, the rest counted.
#[derive(Debug, Default)]
pub struct ReadErrors {
    pub kept: Vec<ReadError>,
    /// Errors that were not kept.
    pub omitted: u64,
}

impl ReadErrors {
    /// Keep `err` if fewer than `max` are kept, else count it.
    fn keep(&mut self, err: ReadError, max: usize) {
        if self.kept.len() < max {
            self.kept.push(err);
        } else {
            self.omitted += 1;
        }
    }
}

/// Totals and breakdowns of a hunt.
#[derive(Debug)]
pub struct RunSummary {
    /// Files read (not counting skipped ones).
    pub files: usize,
    pub records: u64,
    pub bytes: u64,
    /// Read errors in all (including those not kept in `read_errors`).
    pub errors: u64,
    /// Files that discovery left out, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// Findings kept, by level (every level present, zero or not).
    pub findings_by_level: BTreeMap<Level, u64>,
    pub elapsed: Duration,
    /// One entry a file, in the order of the discovery.
    pub per_file: Vec<FileStats>,
    /// The first read errors (at most `HuntConfig::max_read_errors`).
    pub read_errors: Vec<ReadError>,
    /// Read errors beyond those kept.
    pub read_errors_omitted: u64,
    /// Findings emitted by the analyzers (before the level and hidden-rule filters), by
    /// analyzer name.
    pub analyzer_findings: BTreeMap<String, u64>,
    /// Peak state each analyzer held (bytes, sampled while it ran), by analyzer name.
    pub analyzer_state_peak: BTreeMap<String, usize>,
    /// Findings that went to temporary files while the files were read.
    pub spool: SpoolStats,
}

impl RunSummary {
    /// Whether at least one input file could be read: a file that gave records, or that gave
    /// neither records nor errors (an empty but well-formed file).
    pub fn anything_readable(&self) -> bool {
        self.per_file.iter().any(|f| f.records > 0 || f.errors == 0)
    }

    pub fn total_findings(&self) -> u64 {
        self.findings_by_level.values().sum()
    }
}

/// The outcome of [`hunt`].
#[derive(Debug)]
pub struct HuntResult {
    /// Every finding kept, walked in [`Finding::timeline_cmp`] order.
    pub findings: Findings,
    pub summary: RunSummary,
}

/// Run `detectors` over every event of the discovered files, then `analyzers` over the
/// findings in time order.
///
/// The detectors are freed once the files are read, on a thread of their own (the compiled
/// rules are most of the memory of a run), and the findings held while reading stay under
/// `cfg.findings_budget` bytes (the rest wait in sorted temporary files, see `spool.rs`). They are never gathered:
/// the result walks them ([`Findings::for_each`]), merging the runs back each time.
///
/// Files are read in parallel on a pool of `cfg.threads` threads, largest first. A file that
/// makes up most of the input (one big EVTX) is read first with `cfg.threads` for the
/// parser's own chunk-level parallelism; the others are read one thread each. Events go
/// through every detector on the thread that read them.
///
/// Unless an analyzer reads every finding, findings below `cfg.min_level` (or of
/// `cfg.hidden_rules`) are dropped right there. The analyzers that read findings
/// ([`Analyzer::wants_findings`]) see the whole timeline in order, in one walk, below the
/// level and hidden ones included (a correlation may count findings of a lower level than it
/// has itself). When each of them reads only some rules' findings
/// ([`Analyzer::finding_rules`]: correlations), those are set aside in a spool of their own
/// as they are found, and that is what they walk; otherwise every finding is kept and walked
/// for them. The level and hidden-rule filters apply, as the result is walked, to the
/// stateless findings and the analyzers' output alike, merged into one timeline.
///
/// Analyzers that want raw events ([`Analyzer::wants_events`]) are fed every event on the
/// reading threads (behind a lock, taken once an event, or once a batch of a big file's events
/// shared out over the pool; in file order within a file, files interleaved), then the
/// timeline of findings like the others. An event is detected on and observed right after it
/// is read, while it is still in the cache.
pub fn hunt(
    discovery: &Discovery,
    detectors: Vec<std::sync::Arc<dyn Detector>>,
    mut analyzers: Vec<Box<dyn Analyzer>>,
    cfg: &HuntConfig,
    progress: &dyn Progress,
) -> HuntResult {
    let started = Instant::now();
    let min_level = cfg.min_level;
    let hidden = &cfg.hidden_rules;
    let keep = |f: &Finding| f.level >= min_level && !hidden.contains(&f.rule.id);
    // When every analyzer that reads findings reads only some rules' (correlations), those
    // findings are set aside in a spool of their own as they are found, and the analyzers
    // walk that one: the others' findings are walked once, for the output.
    let filters: Vec<FindingFilter> = analyzers.iter().map(|a| finding_filter(&**a)).collect();
    let reads_all = filters.iter().any(|r| matches!(r, Some(None)));
    let aside_rules: Option<HashSet<String>> = (!reads_all && filters.iter().any(Option::is_some))
        .then(|| filters.into_iter().flatten().flatten().flatten().collect());
    let aside = aside_rules
        .as_ref()
        .map(|_| Mutex::new(Spool::new(cfg.findings_budget / 4)));
    // Unless an analyzer reads every finding, those that are not reported never reach the
    // main spool.
    let filter_early = !reads_all;
    // Analyzers that want raw events (network analytics) see them on the reading threads,
    // one at a time behind a lock: in file order within a file, files interleaved (not in
    // global time order; such analyzers order what they keep themselves).
    let event_analyzers: Vec<Mutex<Box<dyn Analyzer>>> = {
        let (wanting, rest): (Vec<_>, Vec<_>) = analyzers.drain(..).partition(|a| a.wants_events());
        analyzers = rest;
        wanting.into_iter().map(Mutex::new).collect()
    };
    let spool = Mutex::new(Spool::new(cfg.findings_budget));
    // Findings that pass the filters, by level, counted as they are found.
    let kept_by_level: [AtomicU64; 5] = Default::default();

    // Findings go to the spool as soon as a batch of events is done: nothing is kept per file.
    let per_file = read_all(
        &discovery.files,
        cfg,
        progress,
        || (),
        |_: &mut (), scratch: &mut Vec<Finding>, events: &[Event]| {
            for event in events {
                for d in &detectors {
                    d.detect(event, scratch);
                }
            }
            // One lock for the events handed over together (one, or a batch of a big file's).
            for a in &event_analyzers {
                let mut a = a.lock().unwrap_or_else(|p| p.into_inner());
                for event in events {
                    a.observe_event(event, scratch);
                }
            }
            if let (Some(rules), Some(aside)) = (&aside_rules, &aside) {
                let mut picked: Vec<Finding> = scratch
                    .iter()
                    .filter(|f| rules.contains(f.rule.id.as_str()))
                    .cloned()
                    .collect();
                if !picked.is_empty() {
                    aside
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_all(&mut picked);
                }
            }
            if filter_early {
                scratch.retain(|f| keep(f));
            }
            if !scratch.is_empty() {
                let mut counts = [0u64; 5];
                for f in scratch.iter().filter(|f| filter_early || keep(f)) {
                    counts[f.level as usize] += 1;
                }
                for (total, n) in kept_by_level.iter().zip(counts) {
                    total.fetch_add(n, Ordering::Relaxed);
                }
                spool
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_all(scratch);
            }
        },
        Some(&|_: &mut (), ()| {}),
    );

    let mut totals = Totals::default();
    let mut files_out = Vec::with_capacity(per_file.outputs.len());
    for (file, summary, ()) in per_file.outputs {
        totals.add(&summary);
        files_out.push(file_stats(file, &summary));
    }
    // The rules are not needed any more. Freeing them (a few hundred thousand blocks) takes a
    // while: a thread of its own does it, then hands the memory back to the system, while
    // the findings are walked (the walks hold little memory of their own). Not waited for.
    let release = cfg.release_memory;
    let freeing = std::thread::Builder::new()
        .name("dragnet-free".into())
        .spawn(move || {
            drop(detectors);
            if let Some(release) = release {
                release();
            }
        });
    if freeing.is_err() {
        // No thread to spare: the rules went with the closure; the memory goes back here.
        if let Some(release) = release {
            release();
        }
    }
    let spooled = spool.into_inner().unwrap_or_else(|p| p.into_inner()).seal();
    let aside = aside.map(|a| a.into_inner().unwrap_or_else(|p| p.into_inner()).seal());
    // The event analyzers then go on like the others (they see the findings too).
    analyzers.splice(
        0..0,
        event_analyzers
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())),
    );

    // Stateful stage: every analyzer that reads findings sees the whole timeline, in order,
    // in one walk of the spool (none when no analyzer reads them); what they find is held (it
    // is little) and merged into every later walk.
    let mut analyzer_findings = BTreeMap::new();
    let mut analyzer_state_peak = BTreeMap::new();
    let mut findings_by_level: BTreeMap<Level, u64> = Level::ALL
        .iter()
        .map(|l| (*l, kept_by_level[*l as usize].load(Ordering::Relaxed)))
        .collect();
    let mut extra: Vec<Finding> = Vec::new();
    if !analyzers.is_empty() {
        let mut found: Vec<Vec<Finding>> = analyzers.iter().map(|_| Vec::new()).collect();
        let mut peaks: Vec<usize> = analyzers.iter().map(|a| a.state_bytes()).collect();
        // Per analyzer, the findings it reads (in the order the event analyzers now have).
        let reads: Vec<FindingFilter> = analyzers.iter().map(|a| finding_filter(&**a)).collect();
        let reads_finding = |r: &FindingFilter, f: &Finding| match r {
            None => false,
            Some(None) => true,
            Some(Some(rules)) => rules.contains(&f.rule.id),
        };
        if reads.iter().any(Option::is_some) {
            let mut seen = 0usize;
            // The findings set aside for them, else every finding.
            aside.as_ref().unwrap_or(&spooled).for_each(&mut |f| {
                let each = analyzers.iter_mut().zip(found.iter_mut()).zip(&reads);
                for ((a, out), _) in each.filter(|(_, r)| reads_finding(r, &f)) {
                    a.observe_finding(&f, out);
                }
                if seen.is_multiple_of(1024) {
                    for (a, peak) in analyzers.iter().zip(peaks.iter_mut()) {
                        *peak = (*peak).max(a.state_bytes());
                    }
                }
                seen += 1;
            });
        }
        for ((a, mut out), peak) in analyzers.iter_mut().zip(found).zip(peaks) {
            let peak = peak.max(a.state_bytes());
            a.finish(&mut out);
            analyzer_state_peak.insert(a.name().to_string(), peak);
            *analyzer_findings.entry(a.name().to_string()).or_insert(0) += out.len() as u64;
            extra.extend(out);
        }
        extra.retain(|f| keep(f));
        for f in &extra {
            *findings_by_level.entry(f.level).or_insert(0) += 1;
        }
    }
    let mut spool_stats = spooled.stats();
    if let Some(a) = &aside {
        spool_stats.add(&a.stats());
    }
    let kept: u64 = findings_by_level.values().sum();
    let findings = Findings::new(spooled, extra, min_level, hidden.clone(), kept);

    let summary = RunSummary {
        files: discovery.files.len(),
        records: totals.records,
        bytes: totals.bytes,
        errors: totals.errors,
        skipped: skipped_files(discovery),
        findings_by_level,
        elapsed: started.elapsed(),
        per_file: files_out,
        read_errors: per_file.errors.kept,
        read_errors_omitted: per_file.errors.omitted,
        analyzer_findings,
        analyzer_state_peak,
        spool: spool_stats,
    };
    progress.finish();
    HuntResult { findings, summary }
}

/// The findings an analyzer reads: none, every one (`Some(None)`), or those of some rules.
type FindingFilter = Option<Option<HashSet<String>>>;

fn finding_filter(a: &dyn Analyzer) -> FindingFilter {
    a.wants_findings()
        .then(|| a.finding_rules().map(|r| r.into_iter().collect()))
}

#[derive(Default)]
pub(crate) struct Totals {
    pub records: u64,
    pub bytes: u64,
    pub errors: u64,
}

impl Totals {
    pub(crate) fn add(&mut self, s: &FileSummary) {
        self.records += s.records;
        self.bytes += s.bytes;
        self.errors += s.errors;
    }
}

pub(crate) fn file_stats(file: &InputFile, s: &FileSummary) -> FileStats {
    FileStats {
        path: file.path.display().to_string(),
        format: file.format.as_str(),
        records: s.records,
        errors: s.errors,
        bytes: s.bytes,
    }
}

pub(crate) fn skipped_files(discovery: &Discovery) -> Vec<SkippedFile> {
    discovery
        .skipped
        .iter()
        .map(|s| SkippedFile {
            path: s.path.display().to_string(),
            reason: s.reason.clone(),
        })
        .collect()
}

/// What [`read_all`] gives back: per file (in discovery order) its summary and the state the
/// event callback built, plus the bounded read errors.
pub(crate) struct ReadAll<'a, S> {
    pub outputs: Vec<(&'a InputFile, FileSummary, S)>,
    pub errors: ReadErrors,
}

/// Read every file on a pool of `cfg.threads` threads, largest first, calling `on_events` with
/// that file's state (made by `new_state`) and a scratch buffer: for each event as it comes
/// (in file order, while it is still in the cache; nothing is held), or for each batch of a
/// big file's events shared out over the pool.
pub(crate) fn read_all<'a, S, N, F>(
    files: &'a [InputFile],
    cfg: &HuntConfig,
    progress: &dyn Progress,
    new_state: N,
    on_events: F,
    merge: Option<&Merge<'_, S>>,
) -> ReadAll<'a, S>
where
    S: Send,
    N: Fn() -> S + Sync,
    F: Fn(&mut S, &mut Vec<Finding>, &[Event]) + Sync,
{
    let threads = cfg.threads.max(1);
    let total_bytes: u64 = files.iter().map(|f| f.size).sum();
    progress.start(files.len(), total_bytes);

    // Largest first, so that a big file does not start last and hold up the end of the run.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| {
        files[b]
            .size
            .cmp(&files[a].size)
            .then_with(|| files[a].path.cmp(&files[b].path))
    });

    // A file that is most of the input (one big EVTX) is read first, outside the pool, with
    // `threads` for the parser's own chunk-level parallelism (the reader reads on the calling
    // thread when called from inside a rayon pool). The others are read one thread each.
    let solo: Option<usize> = order.first().copied().filter(|&i| {
        threads > 1 && (files.len() == 1 || files[i].size.saturating_mul(2) > total_bytes)
    });
    let pooled: &[usize] = if solo.is_some() { &order[1..] } else { &order };

    let slots: Vec<Mutex<Option<(FileSummary, S)>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    let errors = Mutex::new(ReadErrors::default());
    let max_errors = cfg.max_read_errors;

    let read_one = |idx: usize, read_threads: usize| {
        let file = &files[idx];
        let opts = ReadOptions {
            threads: read_threads,
        };
        let mut state = new_state();
        let mut scratch: Vec<Finding> = Vec::new();
        let mut unreported: u64 = 0;
        let summary = dragnet_ingest::read_file_with(
            file,
            &opts,
            &cfg.mail,
            &mut |event: Event| {
                on_events(&mut state, &mut scratch, std::slice::from_ref(&event));
                unreported += 1;
                if unreported >= PROGRESS_EVERY {
                    progress.add_records(unreported, 0);
                    unreported = 0;
                }
            },
            &mut |err: ReadError| {
                errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .keep(err, max_errors)
            },
        );
        progress.add_records(unreported, summary.bytes);
        progress.file_done(Path::new(&file.path), summary.records, summary.bytes);
        *slots[idx].lock().unwrap_or_else(|p| p.into_inner()) = Some((summary, state));
    };

    if let Some(idx) = solo {
        match merge {
            // Events of the big file go to the pool in batches, so that detection uses every
            // core while the parser's own workers parse; at most a few batches are in flight
            // (beyond that the reading thread waits for one: memory stays bounded).
            Some(merge) => {
                let solo = Solo {
                    file: &files[idx],
                    threads,
                    progress,
                    new_state: &new_state,
                    on_events: &on_events,
                    merge,
                    errors: &errors,
                    max_errors,
                    slot: &slots[idx],
                };
                match dragnet_ingest::LineParser::for_file(&files[idx]) {
                    Some(parser) => solo.read_chunked(&parser),
                    None => solo.read_batched(&cfg.mail),
                }
            }
            None => read_one(idx, threads),
        }
    }
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&idx) = pooled.get(next.fetch_add(1, Ordering::Relaxed)) {
            read_one(idx, 1);
        }
    };
    let workers = threads.min(pooled.len());
    if workers <= 1 {
        work();
    } else {
        match rayon::ThreadPoolBuilder::new().num_threads(workers).build() {
            Ok(pool) => pool.scope(|s| {
                for _ in 0..workers {
                    s.spawn(|_| work());
                }
            }),
            Err(_) => work(),
        }
    }

    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    // Workers interleave: order the kept errors by file (stable: each file's stay in order).
    errors.kept.sort_by(|a, b| a.path.cmp(&b.path));
    let outputs = slots
        .into_iter()
        .zip(files)
        .map(|(slot, file)| {
            let (summary, state) = slot
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| (FileSummary::default(), new_state()));
            (file, summary, state)
        })
        .collect();
    ReadAll { outputs, errors }
}

/// Folds the state built by one batch of events into the file's state.
pub(crate) type Merge<'m, S> = dyn Fn(&mut S, S) + Sync + 'm;

/// Events a batch of the big file holds.
const BATCH: usize = 1024;

/// One big file read alone (see [`read_all`]): what its two ways of reading share.
struct Solo<'a, S, N, F> {
    file: &'a InputFile,
    threads: usize,
    progress: &'a dyn Progress,
    new_state: &'a N,
    on_events: &'a F,
    merge: &'a Merge<'a, S>,
    errors: &'a Mutex<ReadErrors>,
    max_errors: usize,
    slot: &'a Mutex<Option<(FileSummary, S)>>,
}

/// How many items a reading thread has handed to the pool and that are not done yet.
#[derive(Default)]
struct InFlight {
    count: Mutex<usize>,
    done: std::sync::Condvar,
}

/// Run `work(item)` on the pool once fewer than `limit` items are in flight (so that what the
/// reading thread produces stays bounded in memory), waiting for one to finish otherwise: the
/// reading thread itself does none of the work, so that the pool's threads have the cores to
/// themselves (a third thread working beside two workers on two cores made every one of them
/// slower). From inside a pool, where waiting could leave no thread to do the work, it works
/// inline instead.
fn spawn_waiting<'s, T, W>(
    scope: &rayon::Scope<'s>,
    in_flight: &'s InFlight,
    limit: usize,
    item: T,
    work: &'s W,
) where
    T: Send + 's,
    W: Fn(T) + Sync,
{
    let mut count = in_flight.count.lock().unwrap_or_else(|p| p.into_inner());
    if *count >= limit && rayon::current_thread_index().is_some() {
        drop(count);
        work(item);
        return;
    }
    while *count >= limit {
        count = in_flight
            .done
            .wait(count)
            .unwrap_or_else(|p| p.into_inner());
    }
    *count += 1;
    drop(count);
    scope.spawn(move |_| {
        work(item);
        *in_flight.count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        in_flight.done.notify_one();
    });
}

/// Bytes of JSON lines a chunk of a big file holds.
const CHUNK_BYTES: usize = 1 << 20;

impl<S, N, F> Solo<'_, S, N, F>
where
    S: Send,
    N: Fn() -> S + Sync,
    F: Fn(&mut S, &mut Vec<Finding>, &[Event]) + Sync,
{
    /// A big file read by its own parser (EVTX: chunk-level parallel): its events go to the pool
    /// in batches, so that detection uses every core while the parser's workers parse. Done
    /// batches come back to the reading thread, which frees their events: memory goes back to
    /// the allocator arena it came from without the workers queueing on that arena's lock, and
    /// the batch's buffer is reused.
    fn read_batched(&self, mail: &MailConfig) {
        let shared = Mutex::new((self.new_state)());
        let in_flight = InFlight::default();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Vec<Event>>();
        let process = |batch: Vec<Event>| {
            let mut state = (self.new_state)();
            let mut scratch = Vec::new();
            (self.on_events)(&mut state, &mut scratch, &batch);
            (self.merge)(&mut shared.lock().unwrap_or_else(|p| p.into_inner()), state);
            // The reader outlives every batch; if it is gone the batch is simply freed here.
            let _ = done_tx.send(batch);
        };
        let summary = rayon::in_place_scope(|scope| {
            let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
            let summary = dragnet_ingest::read_file_with(
                self.file,
                &ReadOptions {
                    threads: self.threads,
                },
                mail,
                &mut |event: Event| {
                    batch.push(event);
                    if batch.len() >= BATCH {
                        let mut next = None;
                        while let Ok(mut done) = done_rx.try_recv() {
                            done.clear();
                            next = Some(done);
                        }
                        let next = next.unwrap_or_else(|| Vec::with_capacity(BATCH));
                        let full = std::mem::replace(&mut batch, next);
                        self.progress.add_records(full.len() as u64, 0);
                        spawn_waiting(scope, &in_flight, 2 * self.threads, full, &process);
                    }
                },
                &mut |err: ReadError| {
                    self.errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .keep(err, self.max_errors)
                },
            );
            let rest = std::mem::take(&mut batch);
            self.progress.add_records(rest.len() as u64, summary.bytes);
            process(rest);
            summary
        });
        self.finish(summary, shared);
    }

    /// A big JSON lines file: this thread only cuts it into chunks of lines; each chunk is parsed,
    /// run through `on_events` and freed on one pool thread (parsing is most of the cost of such
    /// a file, and memory stays with the thread that allocated it). Events are handed on one at a
    /// time as they are parsed, not held for the whole chunk.
    fn read_chunked(&self, parser: &dragnet_ingest::LineParser) {
        let shared = Mutex::new((self.new_state)());
        let in_flight = InFlight::default();
        let (records, parse_errors) = (AtomicU64::new(0), AtomicU64::new(0));
        // Chunks finish in any order: this file's errors are gathered here and handed on in line
        // order at the end (the first `max_errors` lines; a bounded buffer meanwhile).
        let max_errors = self.max_errors;
        let file_errors: Mutex<(Vec<(u64, ReadError)>, u64)> = Mutex::new((Vec::new(), 0));
        let keep_error = |line: u64, err: ReadError| {
            let mut guard = file_errors.lock().unwrap_or_else(|p| p.into_inner());
            let (kept, omitted) = &mut *guard;
            kept.push((line, err));
            if kept.len() >= 2 * max_errors.max(1) {
                kept.sort_by_key(|(line, _)| *line);
                *omitted += kept.len().saturating_sub(max_errors) as u64;
                kept.truncate(max_errors);
            }
        };
        let process = |chunk: dragnet_ingest::LineChunk| {
            let mut state = (self.new_state)();
            let mut scratch = Vec::new();
            let (n, errs) = parser.parse(
                &chunk,
                &mut |e| (self.on_events)(&mut state, &mut scratch, std::slice::from_ref(&e)),
                &mut |line, e| keep_error(line, e),
            );
            drop(chunk);
            records.fetch_add(n, Ordering::Relaxed);
            parse_errors.fetch_add(errs, Ordering::Relaxed);
            self.progress.add_records(n, 0);
            (self.merge)(&mut shared.lock().unwrap_or_else(|p| p.into_inner()), state);
        };
        let mut read_errors = 0u64;
        let bytes = rayon::in_place_scope(|scope| {
            dragnet_ingest::read_line_chunks(
                self.file,
                CHUNK_BYTES,
                &mut |chunk| spawn_waiting(scope, &in_flight, 2 * self.threads, chunk, &process),
                &mut |line, err| {
                    read_errors += 1;
                    keep_error(line, err);
                },
            )
        });
        self.progress.add_records(0, bytes);
        let (mut kept, omitted) = file_errors.into_inner().unwrap_or_else(|p| p.into_inner());
        kept.sort_by_key(|(line, _)| *line);
        {
            let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
            e.omitted += omitted;
            for (_, err) in kept {
                e.keep(err, max_errors);
            }
        }
        let summary = FileSummary {
            records: records.into_inner(),
            errors: read_errors + parse_errors.into_inner(),
            bytes,
        };
        self.finish(summary, shared);
    }

    /// Report the big file done and leave its summary and state in its slot.
    fn finish(&self, summary: FileSummary, state: Mutex<S>) {
        self.progress
            .file_done(Path::new(&self.file.path), summary.records, summary.bytes);
        let state = state.into_inner().unwrap_or_else(|p| p.into_inner());
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((summary, state));
    }
}

#[cfg(test)]
mod tests;
