//! The readers against the shared public corpora (skipped, loudly, when they are absent).

mod common;

use common::{discover_one, read_all, shared, text};
use dragnet_event::{Event, Timestamp, Value};
use dragnet_ingest::{InputFormat, ReadOptions};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

#[test]
fn attack_samples_all_records() {
    let Some(dir) = shared("data/evtx/attack-samples") else {
        return;
    };
    let found = discover_one(&dir);
    let evtx: Vec<_> = found
        .files
        .iter()
        .filter(|f| f.format == InputFormat::Evtx)
        .collect();
    assert_eq!(evtx.len(), 277, "EVTX files found");
    // Everything else the set holds (pictures, scripts, notes) is skipped with a reason.
    assert!(found.skipped.iter().all(|s| !s.reason.is_empty()));

    // Per-file counts, as the set's _STATS.tsv gives them.
    let stats: HashMap<String, u64> = std::fs::read_to_string(dir.join("_STATS.tsv"))
        .map(|s| {
            s.lines()
                .skip(1)
                .filter_map(|l| {
                    let mut cols = l.split('\t');
                    Some((cols.next()?.to_string(), cols.next()?.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();

    let (mut records, mut errors) = (0u64, 0u64);
    let mut per_channel: BTreeMap<String, u64> = BTreeMap::new();
    for file in &evtx {
        let read = read_all(file);
        for e in &read.errors {
            eprintln!("read error: {e}");
        }
        records += read.summary.records;
        errors += read.summary.errors;
        let rel = file
            .path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if let Some(&expected) = stats.get(&rel) {
            assert_eq!(read.summary.records, expected, "{rel}");
        }
        for ev in &read.events {
            assert!(
                matches!(ev.get("EventID"), Some(Value::Int(_))),
                "{rel}: EventID"
            );
            assert!(!ev.time.is_unknown(), "{rel}: time");
            assert!(!ev.host.is_empty(), "{rel}: host");
            assert_eq!(ev.provenance.format, dragnet_event::SourceFormat::Evtx);
            *per_channel
                .entry(ev.channel().unwrap_or("-").to_string())
                .or_default() += 1;
        }
    }
    eprintln!(
        "attack-samples: {} EVTX files, {records} records, {errors} read errors",
        evtx.len()
    );
    eprintln!("by channel: {per_channel:?}");
    assert_eq!(records, 8_255);
}

#[test]
fn damaged_evtx_is_reported_and_read_around() {
    let Some(dir) = shared("data/evtx/benign-and-corrupt") else {
        return;
    };
    let found = discover_one(&dir);
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let (mut records, mut errors) = (0u64, 0u64);
    let mut by_file: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for file in &found.files {
        assert_eq!(file.format, InputFormat::Evtx);
        let read = read_all(file);
        for e in &read.errors {
            eprintln!("read error: {e}");
            // Every report names the file and a place in it.
            assert_eq!(e.path, file.path);
            assert!(!e.location.is_empty() && !e.reason.is_empty());
            assert!(e.to_string().starts_with(&file.path.display().to_string()));
        }
        records += read.summary.records;
        errors += read.summary.errors;
        let name = file
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        by_file.insert(name, (read.summary.records, read.summary.errors));
    }
    eprintln!(
        "benign-and-corrupt: {} files, {records} records, {errors} read errors",
        found.files.len()
    );
    for (name, (r, e)) in &by_file {
        eprintln!("  {r:>6} records {e:>3} errors  {name}");
    }
    assert_eq!(found.files.len(), 23);
    // Records of chunks whose CRC32 does not match are read (they are evidence): 17,783 would be
    // read if such chunks were dropped.
    assert!(records >= 18_000, "{records} records");
    assert!(errors >= 1);
    let get = |name: &str| by_file.get(name).copied().unwrap_or_default();
    // A chunk with a bad magic is reported; the file's other chunks are read.
    let (r, e) = get("sample_with_a_bad_chunk_magic.evtx");
    assert!(r > 0 && e > 0, "bad chunk magic: {r} records, {e} errors");
    // A chunk whose header CRC32 is wrong: reported once, its records read all the same.
    let (r, e) = get("security_bad_string_cache.evtx");
    assert!(
        e >= 1 && r == get("security.evtx").0,
        "bad string cache: {r} records, {e} errors"
    );
    // Intact files read cleanly.
    assert_eq!(get("security.evtx"), (2261, 0));
    assert_eq!(get("new-user-security.evtx"), (4, 0));
    // A file flagged as keeping no CRC32 is not damaged.
    assert_eq!(get("Application_no_crc32.evtx").1, 0);
}

/// Non-empty lines of a gzip file.
fn count_lines(path: &Path) -> u64 {
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ));
    reader
        .split(b'\n')
        .map(|l| l.unwrap())
        .filter(|l| !l.trim_ascii().is_empty())
        .count() as u64
}

#[test]
fn mordor_every_line_is_a_record() {
    let Some(dir) = shared("data/json/mordor") else {
        return;
    };
    let found = discover_one(&dir);
    let mut checked = 0;
    let mut total = 0;
    for file in &found.files {
        if file.path.extension().is_none_or(|e| e != "gz") {
            continue;
        }
        assert!(file.gzip, "{}", file.path.display());
        assert_eq!(file.format, InputFormat::Jsonl, "{}", file.path.display());
        let read = read_all(file);
        for e in &read.errors {
            eprintln!("read error: {e}");
        }
        let lines = count_lines(&file.path);
        assert_eq!(read.summary.records, lines, "{}", file.path.display());
        assert_eq!(read.summary.errors, 0, "{}", file.path.display());
        check_mordor_events(&file.path, &read.events);
        eprintln!(
            "  {:>6} records  {}",
            read.summary.records,
            file.path.display()
        );
        checked += 1;
        total += read.summary.records;
    }
    // Two members of the set are not JSON at all (a macOS resource fork and an auditd log,
    // named .jsonl.gz): they are skipped, with a reason.
    let skipped: Vec<_> = found
        .skipped
        .iter()
        .filter(|s| s.path.extension().is_some_and(|e| e == "gz"))
        .collect();
    for s in &skipped {
        eprintln!("skipped: {}: {}", s.path.display(), s.reason);
        assert!(s.reason.starts_with("gzip file: "), "{}", s.reason);
    }
    eprintln!(
        "mordor: {checked} JSON files, {total} records, {} skipped",
        skipped.len()
    );
    let gz_files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "gz")
        })
        .count();
    assert_eq!(checked + skipped.len(), gz_files);
    assert!(checked >= 24);
}

fn check_mordor_events(path: &Path, events: &[Event]) {
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(
            ev.provenance.record,
            i as u64 + 1,
            "{}: line numbers",
            path.display()
        );
        if let Some(id) = ev.get("EventID") {
            assert!(
                matches!(id, Value::Int(_)),
                "{}: EventID {id:?}",
                path.display()
            );
        }
        assert!(
            !ev.time.is_unknown(),
            "{}: line {} has no time",
            path.display(),
            i + 1
        );
        // NXLog records: EventTime is local time; after the offset is applied the event time
        // agrees with Sysmon's UtcTime.
        if ev.has("EventReceivedTime") && ev.has("@timestamp") && ev.has("EventTime") {
            if let Some(utc) = text(ev, "UtcTime").and_then(|u| Timestamp::parse(&u)) {
                if ev.channel() == Some("Microsoft-Windows-Sysmon/Operational") {
                    let drift = (ev.time.nanos() - utc.nanos()).abs();
                    assert!(
                        drift < 60_000_000_000,
                        "{}: line {}: time {} vs UtcTime {}",
                        path.display(),
                        i + 1,
                        ev.time,
                        utc
                    );
                }
            }
        }
        // Windows records always have their computer as the host.
        if let Some(Value::Str(c)) = ev.get("Computer") {
            assert_eq!(&*ev.host, &**c);
        }
    }
}

/// Pairs X.evtx with X.json under the SigmaHQ regression data.
fn twins(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let found = discover_one(dir);
    let mut out = Vec::new();
    for file in &found.files {
        if file.format == InputFormat::Evtx {
            let json = file.path.with_extension("json");
            if json.exists() {
                out.push((file.path.clone(), json));
            }
        }
    }
    out
}

const TWIN_FIELDS: &[&str] = &["EventID", "Channel", "Computer", "Image", "CommandLine"];

#[test]
fn evtx_and_json_twins_agree() {
    let Some(dir) = shared("data/sigma/sigmahq/regression_data") else {
        return;
    };
    let pairs = twins(&dir);
    assert!(pairs.len() >= 200, "{} twins", pairs.len());
    let (mut events, mut compared, mut trailing_space) = (0, 0, 0);
    for (evtx_path, json_path) in &pairs {
        let found = dragnet_ingest::discover(&[evtx_path.clone(), json_path.clone()]).unwrap();
        assert_eq!(found.files.len(), 2, "{}", json_path.display());
        let evtx = read_all(&found.files[0]);
        let json = read_all(&found.files[1]);
        assert!(evtx.errors.is_empty(), "{:?}", evtx.errors);
        assert!(json.errors.is_empty(), "{:?}", json.errors);
        assert_eq!(
            evtx.events.len(),
            json.events.len(),
            "{}: record counts",
            json_path.display()
        );
        // Pair records by their EventRecordID field. (The EVTX provenance is the record
        // header's id, which these exported files renumber from 1.)
        let record_id = |e: &Event| e.get("EventRecordID").and_then(Value::as_i64);
        let by_id: HashMap<i64, &Event> = json
            .events
            .iter()
            .filter_map(|e| Some((record_id(e)?, e)))
            .collect();
        for ev in &evtx.events {
            let id = record_id(ev).expect("EventRecordID");
            let twin = by_id
                .get(&id)
                .unwrap_or_else(|| panic!("{}: record {id} has no JSON twin", json_path.display()));
            for field in TWIN_FIELDS {
                let (a, b) = (text(ev, field), text(twin, field));
                if a != b {
                    // The twins were written by a tool that trims values (the EVTX files do hold
                    // `chcp ` with its space): the same text but for whitespace at its end is
                    // noted, any other difference fails.
                    let trimmed =
                        |v: &Option<String>| v.as_deref().map(str::trim_end).map(str::to_string);
                    assert_eq!(
                        trimmed(&a),
                        trimmed(&b),
                        "{}: record {id}: {field}",
                        json_path.display()
                    );
                    eprintln!(
                        "note: {}: record {id}: {field} differs only in trailing whitespace",
                        json_path.display()
                    );
                    trailing_space += 1;
                }
                compared += 1;
            }
            assert_eq!(ev.event_id(), twin.event_id());
            assert_eq!(ev.host, twin.host);
            // The JSON twins give times to the microsecond, EVTX to 100 ns.
            assert!(
                (ev.time.nanos() - twin.time.nanos()).abs() < 1_000,
                "{}: record {id}: time {} vs {}",
                json_path.display(),
                ev.time,
                twin.time
            );
            // The EVTX event and its twin hold the same fields.
            let names = |e: &Event| {
                let mut v: Vec<String> = e.fields().map(|(k, _)| k.to_string()).collect();
                v.sort();
                v
            };
            assert_eq!(
                names(ev),
                names(twin),
                "{}: record {id}",
                json_path.display()
            );
            events += 1;
        }
    }
    eprintln!(
        "regression twins: {} pairs, {events} records, {compared} field comparisons, {trailing_space} differing only in trailing whitespace",
        pairs.len()
    );
    // 13 command lines in the EVTX files end with a space their JSON twins dropped.
    assert!(trailing_space <= 13, "{trailing_space}");
}

#[test]
fn evtx_threads_give_the_same_events() {
    let Some(dir) = shared("data/evtx/benign-and-corrupt") else {
        return;
    };
    let file = discover_one(&dir.join("security.evtx")).files.remove(0);
    let read = |threads| {
        let mut events = Vec::new();
        let mut errors = 0;
        dragnet_ingest::read_file(
            &file,
            &ReadOptions { threads },
            &mut |e| events.push(e),
            &mut |_| errors += 1,
        );
        (events, errors)
    };
    let (one, e1) = read(1);
    let (four, e4) = read(4);
    assert_eq!(one.len(), 2261);
    assert_eq!((e1, e4), (0, 0));
    assert_eq!(one, four);
}
