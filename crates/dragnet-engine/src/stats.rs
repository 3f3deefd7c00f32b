//! `dragnet stats`: read everything, run no rules, count what was read.

use crate::{file_stats, read_all, skipped_files, FileStats, HuntConfig, Progress, Totals};
use dragnet_event::{Event, Value};
use dragnet_ingest::Discovery;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// A file that discovery left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// Counts for one input format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FormatCount {
    pub files: u64,
    pub records: u64,
    pub bytes: u64,
    pub errors: u64,
}

/// Records of one (channel, EventID) pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventIdCount {
    pub channel: String,
    /// `None` for records without an event id.
    pub event_id: Option<i64>,
    pub records: u64,
}

/// What `dragnet stats` reports. As JSON, the totals sit at the top level (`files`,
/// `records`, `bytes`, `errors`) with the breakdowns beneath.
#[derive(Clone, Debug, Serialize)]
pub struct StatsResult {
    /// Files read (not counting skipped ones).
    pub files: usize,
    pub records: u64,
    pub bytes: u64,
    /// Read errors in all.
    pub errors: u64,
    pub elapsed_secs: f64,
    /// By input format (`evtx`, `jsonl`, `json-array`).
    pub by_format: BTreeMap<String, FormatCount>,
    /// Records by channel (`(none)` for records without one).
    pub by_channel: BTreeMap<String, u64>,
    /// Records by (channel, EventID), most frequent first.
    pub by_event_id: Vec<EventIdCount>,
    /// One entry a file, in the order of the discovery.
    pub by_file: Vec<FileStats>,
    /// The first read errors, as `PATH: LOCATION: REASON`.
    pub read_errors: Vec<String>,
    /// Read errors beyond those listed.
    pub read_errors_omitted: u64,
    pub skipped: Vec<SkippedFile>,
}

/// The channel name used for records that have none.
pub const NO_CHANNEL: &str = "(none)";

type Counts = HashMap<Box<str>, HashMap<Option<i64>, u64>>;

fn channel_of(e: &Event) -> Option<&str> {
    if let Some(c) = e.channel() {
        return Some(c);
    }
    match e.get("winlog.channel") {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

fn event_id_of(e: &Event) -> Option<i64> {
    e.event_id()
        .or_else(|| e.get("winlog.event_id").and_then(Value::as_i64))
}

/// Read every discovered file with no rules and count records by file, format, channel and
/// (channel, EventID).
pub fn stats(discovery: &Discovery, cfg: &HuntConfig, progress: &dyn Progress) -> StatsResult {
    let started = Instant::now();
    let read = read_all(
        &discovery.files,
        cfg,
        progress,
        Counts::new,
        |counts: &mut Counts, _scratch, events: &[Event]| {
            for event in events {
                let channel = channel_of(event).unwrap_or(NO_CHANNEL);
                let id = event_id_of(event);
                match counts.get_mut(channel) {
                    Some(m) => *m.entry(id).or_insert(0) += 1,
                    None => {
                        counts.insert(channel.into(), HashMap::from([(id, 1)]));
                    }
                }
            }
        },
        // A big file is read in batches (JSON lines: parsed on every core, as `hunt` does):
        // their counts add up.
        Some(&|all: &mut Counts, part: Counts| {
            for (channel, ids) in part {
                let into = all.entry(channel).or_default();
                for (id, n) in ids {
                    *into.entry(id).or_insert(0) += n;
                }
            }
        }),
    );

    let mut totals = Totals::default();
    let mut by_file = Vec::with_capacity(read.outputs.len());
    let mut by_format: BTreeMap<String, FormatCount> = BTreeMap::new();
    let mut pairs: HashMap<(Box<str>, Option<i64>), u64> = HashMap::new();
    for (file, summary, counts) in read.outputs {
        totals.add(&summary);
        by_file.push(file_stats(file, &summary));
        let f = by_format
            .entry(file.format.as_str().to_string())
            .or_default();
        f.files += 1;
        f.records += summary.records;
        f.bytes += summary.bytes;
        f.errors += summary.errors;
        for (channel, ids) in counts {
            for (id, n) in ids {
                *pairs.entry((channel.clone(), id)).or_insert(0) += n;
            }
        }
    }

    let mut by_channel: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_event_id: Vec<EventIdCount> = pairs
        .into_iter()
        .map(|((channel, event_id), records)| {
            *by_channel.entry(channel.to_string()).or_insert(0) += records;
            EventIdCount {
                channel: channel.into(),
                event_id,
                records,
            }
        })
        .collect();
    by_event_id.sort_by(|a, b| {
        b.records
            .cmp(&a.records)
            .then_with(|| a.channel.cmp(&b.channel))
            .then_with(|| a.event_id.cmp(&b.event_id))
    });

    progress.finish();
    StatsResult {
        files: discovery.files.len(),
        records: totals.records,
        bytes: totals.bytes,
        errors: totals.errors,
        elapsed_secs: started.elapsed().as_secs_f64(),
        by_format,
        by_channel,
        by_event_id,
        by_file,
        read_errors: read.errors.kept.iter().map(|e| e.to_string()).collect(),
        read_errors_omitted: read.errors.omitted,
        skipped: skipped_files(discovery),
    }
}
