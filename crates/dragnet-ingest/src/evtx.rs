//! EVTX -> [`Event`]: where an EVTX record becomes an event.
//!
//! The `evtx` crate walks the file chunk by chunk (on its worker threads when
//! [`ReadOptions::threads`] allows) and renders each record to JSON; [`json_to_event`] turns
//! that JSON into an [`Event`] with the field model of `windows.rs`: on the same worker thread
//! when there are workers, else as the record is handed over (so that the event is still in
//! the cache when it is detected on). Damage is reported and skipped:
//! - a chunk that cannot be parsed (bad magic, bad string table...): `chunk N`;
//! - a record that cannot be read or rendered: `record ID` (or `chunk N, offset X`);
//! - a chunk whose CRC32 does not match: reported once (`chunk N`), and its records are still
//!   read, since they are evidence;
//! - a file cut short: its last, partial chunk is reported, and the records in it that are
//!   whole are read as well.
//!
//! Records come in the parser's order: from the chunk holding the oldest records to the end of
//! the file, then from its start (a log that has wrapped around). An event's
//! `provenance.record` is the record header's id, the one `evtx_dump` prints and read errors
//! name; it is the `EventRecordID` field as well, except in files exported with renumbered
//! records (the SigmaHQ regression samples), where the field keeps the original number.
//! Records carved from slack space (`recover_records`) are not read: on the shared samples
//! they include stale copies of live records and empty shells.

use crate::node::Node;
use crate::{error_chain, panic_text, provenance_path, InputFile, ReadError, ReadOptions};
use dragnet_event::{Event, Provenance, SourceFormat, Timestamp};
use evtx::err::EvtxError;
use evtx::{
    ChunkFlags, EvtxChunk, EvtxChunkData, EvtxParser, EvtxRecord, ParserSettings,
    SerializedEvtxRecord,
};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
/// The most a gzip-compressed EVTX file may decompress to (it is parsed in memory).
const MAX_GZIP_EVTX: u64 = 1 << 30;

/// What the parser's workers hand back for each record.
struct Rendered {
    /// The first record read from a chunk carries the chunk's checksum problem, if any.
    chunk_note: Option<ChunkNote>,
    record: Result<Converted, (u64, String)>,
}

/// A record as the parser hands it over: already an event when the parser's own workers
/// converted it, or its JSON, turned into an event by the thread that takes it.
enum Converted {
    Event(Event),
    Json(SerializedEvtxRecord<Vec<u8>>),
}

/// A problem with a whole chunk, found while reading its first record.
struct ChunkNote {
    first_record_id: u64,
    last_record_id: u64,
    problem: String,
}

/// Read an EVTX file; returns the bytes of input it holds.
pub(crate) fn read_evtx(
    file: &InputFile,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let path = provenance_path(file);
    let report = |location: String, reason: String| ReadError::new(&file.path, location, reason);
    let threads = threads_for(opts);
    let settings = ParserSettings::new()
        .num_threads(threads)
        .validate_checksums(false)
        .separate_json_attributes(false)
        .indent(false);

    if file.gzip {
        let data = match decompress(file) {
            Ok(data) => data,
            Err(e) => {
                on_error(report("file".into(), e));
                return 0;
            }
        };
        let bytes = data.len() as u64;
        let chunks = ChunkTable::from_bytes(&data);
        let tail = trailing_chunk(&data);
        match catch_unwind(|| EvtxParser::from_buffer(data)) {
            Ok(Ok(parser)) => {
                let parser = parser.with_configuration(settings.clone());
                let listed = run(
                    parser,
                    threads,
                    &path,
                    &file.path,
                    Some(chunks),
                    sink,
                    on_error,
                );
                check_chunk_count(listed, bytes, tail.is_some(), &file.path, on_error);
            }
            Ok(Err(e)) => {
                on_error(report("file header".into(), evtx_reason(&e)));
                return bytes;
            }
            Err(p) => {
                on_error(report("file header".into(), panic_reason(&*p)));
                return bytes;
            }
        }
        if let Some(tail) = tail {
            read_partial_chunk(tail, bytes, &settings, &path, &file.path, sink, on_error);
        }
        return bytes;
    }

    let f = match File::open(&file.path) {
        Ok(f) => f,
        Err(e) => {
            on_error(report("file".into(), format!("cannot open: {e}")));
            return 0;
        }
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(file.size);
    match catch_unwind(AssertUnwindSafe(|| EvtxParser::from_read_seek(f))) {
        Ok(Ok(parser)) => {
            let parser = parser.with_configuration(settings.clone());
            let listed = run(parser, threads, &path, &file.path, None, sink, on_error);
            let tail = partial_chunk_position(size).is_some();
            check_chunk_count(listed, size, tail, &file.path, on_error);
        }
        Ok(Err(e)) => {
            on_error(report("file header".into(), evtx_reason(&e)));
            return size;
        }
        Err(p) => {
            on_error(report("file header".into(), panic_reason(&*p)));
            return size;
        }
    }
    if let Some(tail) = read_trailing_chunk(&file.path, size) {
        read_partial_chunk(tail, size, &settings, &path, &file.path, sink, on_error);
    }
    size
}

/// A file that holds fewer chunks than its header lists, and ends on a chunk boundary, was
/// cut short there. (One that ends inside a chunk is reported with that chunk.)
fn check_chunk_count(
    listed: u64,
    size: u64,
    partial_tail: bool,
    file_path: &Path,
    on_error: &mut dyn FnMut(ReadError),
) {
    let whole = size.saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE;
    if !partial_tail && whole < listed && whole < u64::from(u16::MAX) {
        on_error(ReadError::new(
            file_path,
            "file header",
            format!("the header lists {listed} chunks but the file holds {whole}: the file was cut short"),
        ));
    }
}

/// Threads for the parser: never more than one inside a rayon pool, where the parser's jobs
/// would queue behind the very thread waiting for them.
fn threads_for(opts: &ReadOptions) -> usize {
    if rayon::current_thread_index().is_some() {
        1
    } else {
        opts.threads
    }
}

fn decompress(file: &InputFile) -> Result<Vec<u8>, String> {
    let reader = crate::open_decoded(file).map_err(|e| format!("cannot open: {e}"))?;
    let mut data = Vec::new();
    reader
        .take(MAX_GZIP_EVTX + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("gzip: {e}"))?;
    if data.len() as u64 > MAX_GZIP_EVTX {
        return Err(format!(
            "gzip-compressed EVTX larger than {} MiB once decompressed: decompress it first",
            MAX_GZIP_EVTX >> 20
        ));
    }
    Ok(data)
}

/// Pull every record through the parser, converting on its workers, reporting damage.
fn run<T: Read + Seek>(
    mut parser: EvtxParser<T>,
    parser_threads: usize,
    path: &Arc<str>,
    file_path: &Path,
    mut chunks: Option<ChunkTable>,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let report = |location: String, reason: String| ReadError::new(file_path, location, reason);
    let header_chunks = u64::from(parser.header().chunk_count);
    let worker_path = Arc::clone(path);
    // The parser renders a whole chunk's records before the first is handed over. With worker
    // threads, they also make the events (in parallel). On one thread, the events are made
    // here as they are taken: an event then goes to detection while it is still in the cache,
    // not after the hundreds of others of its chunk.
    let on_workers = parser_threads > 1;
    // Cloned per chunk by the parser, so `first` is true for the first record of each chunk.
    let mut first = true;
    let convert = move |record: Result<EvtxRecord<'_>, EvtxError>| -> Result<Rendered, EvtxError> {
        let record = record?;
        let chunk_note = if std::mem::take(&mut first) {
            chunk_problem(record.chunk)
        } else {
            None
        };
        let record = match render(record) {
            Ok(json) if on_workers => json_to_event(&json, &worker_path).map(Converted::Event),
            Ok(json) => Ok(Converted::Json(json)),
            Err(e) => Err(e),
        };
        Ok(Rendered { chunk_note, record })
    };
    let mut records = parser.serialized_records(convert);
    loop {
        let next = match catch_unwind(AssertUnwindSafe(|| records.next())) {
            Ok(next) => next,
            Err(p) => {
                on_error(report("file".into(), panic_reason(&*p)));
                return header_chunks;
            }
        };
        match next {
            None => break,
            Some(Ok(rendered)) => {
                if let Some(note) = rendered.chunk_note {
                    let table = chunks.get_or_insert_with(|| ChunkTable::from_path(file_path));
                    let location = table.locate(note.first_record_id, note.last_record_id);
                    on_error(report(location, note.problem));
                }
                let event = match rendered.record {
                    Ok(Converted::Event(event)) => Ok(event),
                    Ok(Converted::Json(json)) => json_to_event(&json, path),
                    Err(e) => Err(e),
                };
                match event {
                    Ok(event) => sink(event),
                    Err((id, reason)) => on_error(report(format!("record {id}"), reason)),
                }
            }
            Some(Err(e)) => {
                let (location, reason) = locate(&e);
                on_error(report(location, reason));
            }
        }
    }
    drop(records);
    header_chunks
}

/// Where an error of the parser is, and what it is.
fn locate(e: &EvtxError) -> (String, String) {
    match e {
        EvtxError::FailedToParseChunk { chunk_id, source } => {
            (format!("chunk {chunk_id}"), error_chain(&**source))
        }
        EvtxError::FailedToParseRecord { record_id, source } => {
            (format!("record {record_id}"), evtx_reason(source))
        }
        EvtxError::FailedToReadRecordAt {
            chunk,
            offset,
            source,
        } => {
            let location = match chunk {
                Some(c) => format!("chunk {c}, offset {offset:#x}"),
                None => format!("offset {offset:#x} of a chunk"),
            };
            (location, evtx_reason(source))
        }
        other => ("file".to_string(), evtx_reason(other)),
    }
}

/// What an error of the parser says, without its generic wrappers ("An error occurred while
/// trying to deserialize evtx stream.").
fn evtx_reason(e: &EvtxError) -> String {
    match e {
        EvtxError::DeserializationError(inner) => error_chain(inner),
        EvtxError::SerializationError(inner) => error_chain(inner),
        EvtxError::InputError(inner) => error_chain(inner),
        EvtxError::IoError(inner) => error_chain(inner),
        EvtxError::FailedToParseRecord { source, .. }
        | EvtxError::FailedToReadRecordAt { source, .. } => evtx_reason(source),
        EvtxError::FailedToParseChunk { chunk_id, source } => {
            format!("chunk {chunk_id}: {}", error_chain(&**source))
        }
        other => error_chain(other),
    }
}

fn panic_reason(payload: &(dyn std::any::Any + Send)) -> String {
    format!(
        "the EVTX parser failed on this input: {}",
        panic_text(payload)
    )
}

/// One record -> one event.
fn record_to_event(record: EvtxRecord<'_>, path: &Arc<str>) -> Result<Event, (u64, String)> {
    json_to_event(&render(record)?, path)
}

/// One record rendered to JSON (errors name its record id).
fn render(record: EvtxRecord<'_>) -> Result<SerializedEvtxRecord<Vec<u8>>, (u64, String)> {
    let id = record.event_record_id;
    record.into_json_bytes().map_err(|e| (id, evtx_reason(&e)))
}

/// A record rendered to JSON -> one event.
fn json_to_event(
    rendered: &SerializedEvtxRecord<Vec<u8>>,
    path: &Arc<str>,
) -> Result<Event, (u64, String)> {
    let id = rendered.event_record_id;
    let header_time = rendered.timestamp;
    let json = Node::parse(&rendered.data)
        .map_err(|e| (id, format!("rendered record is not valid JSON: {e}")))?;
    let mut event = Event::new(Provenance {
        path: Arc::clone(path),
        record: id,
        format: SourceFormat::Evtx,
    });
    match json.get("Event").and_then(Node::as_object) {
        Some(inner) => crate::windows::normalize_event(inner, &mut event),
        None => return Err((id, "rendered record has no Event element".to_string())),
    }
    if event.time.is_unknown() {
        event.time = Timestamp::from_jiff(header_time);
    }
    Ok(event)
}

/// The checksum problem of a chunk, if it has one (the parser does not check, so that the
/// records of a damaged chunk are still read).
fn chunk_problem(chunk: &EvtxChunk<'_>) -> Option<ChunkNote> {
    let header = chunk.header;
    let note = |problem: String| {
        Some(ChunkNote {
            first_record_id: header.first_event_record_id,
            last_record_id: header.last_event_record_id,
            problem,
        })
    };
    if header.flags.contains(ChunkFlags::NO_CRC32) {
        return None;
    }
    let data = chunk.data;
    if data.len() < CHUNK_HEADER_SIZE {
        return note("chunk shorter than its header".to_string());
    }
    let mut covered = [0u8; 120 + (CHUNK_HEADER_SIZE - 128)];
    covered[..120].copy_from_slice(&data[..120]);
    covered[120..].copy_from_slice(&data[128..CHUNK_HEADER_SIZE]);
    let computed = evtx::checksum_ieee(&covered);
    if computed != header.header_chunk_checksum {
        return note(format!(
            "chunk header CRC32 mismatch (stored {:#010x}, computed {computed:#010x}); its records are read anyway",
            header.header_chunk_checksum
        ));
    }
    let end = header.free_space_offset as usize;
    let Some(records) = data.get(CHUNK_HEADER_SIZE..end) else {
        return note(format!(
            "chunk free space offset {end} is outside the chunk; its records are read anyway"
        ));
    };
    let computed = evtx::checksum_ieee(records);
    if computed != header.events_checksum {
        return note(format!(
            "chunk records CRC32 mismatch (stored {:#010x}, computed {computed:#010x}); its records are read anyway",
            header.events_checksum
        ));
    }
    None
}

/// Chunk numbers by the record-ID range their headers give, to name a chunk in a report.
#[derive(Default)]
struct ChunkTable {
    by_range: HashMap<(u64, u64), u64>,
}

impl ChunkTable {
    fn from_path(path: &Path) -> ChunkTable {
        match File::open(path) {
            Ok(mut f) => Self::from_reader(&mut f),
            Err(_) => ChunkTable::default(),
        }
    }

    fn from_bytes(data: &[u8]) -> ChunkTable {
        Self::from_reader(&mut io::Cursor::new(data))
    }

    fn from_reader<R: Read + Seek>(r: &mut R) -> ChunkTable {
        let mut table = ChunkTable::default();
        let mut header = [0u8; 40];
        for number in 0u64.. {
            let offset = FILE_HEADER_SIZE + number * CHUNK_SIZE;
            if r.seek(SeekFrom::Start(offset)).is_err() || r.read_exact(&mut header).is_err() {
                break;
            }
            if &header[..8] != b"ElfChnk\0" {
                continue;
            }
            let first = u64::from_le_bytes(header[24..32].try_into().unwrap_or_default());
            let last = u64::from_le_bytes(header[32..40].try_into().unwrap_or_default());
            table.by_range.entry((first, last)).or_insert(number);
        }
        table
    }

    fn locate(&self, first: u64, last: u64) -> String {
        match self.by_range.get(&(first, last)) {
            Some(n) => format!("chunk {n}"),
            None => format!("chunk of records {first}-{last}"),
        }
    }
}

/// A partial last chunk: its number and bytes (the file was cut short).
struct PartialChunk {
    number: u64,
    data: Vec<u8>,
}

fn trailing_chunk(data: &[u8]) -> Option<PartialChunk> {
    let size = data.len() as u64;
    let (number, start) = partial_chunk_position(size)?;
    Some(PartialChunk {
        number,
        data: data.get(start as usize..)?.to_vec(),
    })
}

fn read_trailing_chunk(path: &Path, size: u64) -> Option<PartialChunk> {
    let (number, start) = partial_chunk_position(size)?;
    let mut f = File::open(path).ok()?;
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut data = Vec::with_capacity(CHUNK_SIZE as usize);
    f.take(CHUNK_SIZE).read_to_end(&mut data).ok()?;
    Some(PartialChunk { number, data })
}

/// Where a partial last chunk starts, when the file does not end on a chunk boundary.
fn partial_chunk_position(size: u64) -> Option<(u64, u64)> {
    let body = size.checked_sub(FILE_HEADER_SIZE)?;
    let partial = body % CHUNK_SIZE;
    if partial == 0 {
        return None;
    }
    let number = body / CHUNK_SIZE;
    Some((number, FILE_HEADER_SIZE + number * CHUNK_SIZE))
}

/// Report a file cut short, and read the whole records of its partial last chunk.
fn read_partial_chunk(
    tail: PartialChunk,
    file_size: u64,
    settings: &ParserSettings,
    path: &Arc<str>,
    file_path: &Path,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) {
    let location = format!("chunk {}", tail.number);
    let report = |reason: String| ReadError::new(file_path, location.clone(), reason);
    let have = tail.data.len();
    // Slack after the last chunk that holds no chunk is not damage worth a report.
    if !tail.data.starts_with(b"ElfChnk\0") {
        if tail.data.iter().any(|&b| b != 0) {
            on_error(report(format!(
                "file ends with {have} bytes that are not a chunk (file size {file_size} is not a whole number of chunks)"
            )));
        }
        return;
    }
    on_error(report(format!(
        "file cut short: its last chunk has {have} of {CHUNK_SIZE} bytes; reading the records it holds in full"
    )));
    if have < CHUNK_HEADER_SIZE {
        return;
    }
    let mut data = tail.data;
    data.resize(CHUNK_SIZE as usize, 0);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut out: Vec<Result<Event, (String, String)>> = Vec::new();
        let mut chunk_data = match EvtxChunkData::new(data, false) {
            Ok(c) => c,
            Err(e) => {
                out.push(Err(("chunk".into(), error_chain(&e))));
                return out;
            }
        };
        let mut chunk = match chunk_data.parse(Arc::new(settings.clone())) {
            Ok(c) => c,
            Err(e) => {
                out.push(Err(("chunk".into(), error_chain(&e))));
                return out;
            }
        };
        for record in chunk.iter() {
            match record {
                Ok(record) => {
                    let end = record.binxml_offset + u64::from(record.binxml_size);
                    if end > have as u64 {
                        // Its bytes run into the missing part.
                        out.push(Err((
                            format!("record {}", record.event_record_id),
                            "record cut off where the file ends".to_string(),
                        )));
                        break;
                    }
                    match record_to_event(record, path) {
                        Ok(ev) => out.push(Ok(ev)),
                        Err((id, reason)) => out.push(Err((format!("record {id}"), reason))),
                    }
                }
                Err(e) => {
                    out.push(Err((String::new(), evtx_reason(&e))));
                    // Past the cut, there is nothing more to find.
                    break;
                }
            }
        }
        out
    }));
    match result {
        Ok(items) => {
            for item in items {
                match item {
                    Ok(ev) => sink(ev),
                    Err((loc, reason)) => {
                        let location = if loc.is_empty() || loc == "chunk" {
                            location.clone()
                        } else {
                            loc
                        };
                        on_error(ReadError::new(file_path, location, reason));
                    }
                }
            }
        }
        Err(p) => on_error(report(panic_reason(&*p))),
    }
}
