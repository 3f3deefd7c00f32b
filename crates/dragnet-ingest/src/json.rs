//! JSON -> [`Event`], whatever the layout a Windows event (or anything else) arrived in.
//!
//! Files: JSON lines (one object a line, streamed, a bad line is reported and skipped) or a
//! JSON document (an array of objects, one object, or several objects one after another;
//! streamed element by element).
//!
//! Layouts, told apart record by record ([`event_from_json`]):
//! - evtx_dump: `{"Event": {"System": .., "EventData": ..}}` -> exactly the EVTX field model
//!   (`windows.rs`), nothing else;
//! - Winlogbeat 7+/ECS (`winlog` object) and Winlogbeat 6 (`event_data`, `event_id`,
//!   `log_name`...): every original dotted path (`winlog.event_data.Image`,
//!   `process.command_line`), plus the Windows names (`Image`, `EventID`, `Channel`,
//!   `Provider_Name`, `Computer`...);
//! - NXLog / OTRF Security-Datasets, flat records with `EventID`: the record's own keys, plus
//!   `Computer` (from `Hostname`), `Provider_Name` (`SourceName`), `Provider_Guid`
//!   (`ProviderGuid`), `EventRecordID` (`RecordNumber`), `ProcessID` (`ExecutionProcessID`);
//! - anything else: nested objects flattened to dotted names, arrays as lists.
//!
//! `EventID` is always an Int; other values stay as they came.

use crate::node::{get, Node, Obj};
use crate::windows::{add_late_fields, event_id_value, push_data_field, strip_spaces};
use crate::{provenance_path, InputFile, ReadError};
use dragnet_event::{Event, Provenance, SourceFormat, Timestamp, Value};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// Longest JSON line read; a longer one is reported and skipped.
pub(crate) const MAX_LINE: usize = 64 << 20;
/// JSON documents up to this size are read into memory and parsed from there (faster); larger
/// ones are parsed from the stream.
const IN_MEMORY_DOCUMENT: u64 = 1 << 30;

/// Read a JSON lines file; returns the bytes read (decompressed).
pub(crate) fn read_jsonl(
    file: &InputFile,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    read_jsonl_with(file, SourceFormat::Jsonl, &event_from_json, sink, on_error)
}

/// Read a JSON lines file, turning each object into an event with `convert` (Zeek JSON logs
/// and Suricata EVE use their own field models); returns the bytes read (decompressed).
pub(crate) fn read_jsonl_with(
    file: &InputFile,
    format: SourceFormat,
    convert: &dyn Fn(&Obj<'_>, Provenance) -> Event,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let path = provenance_path(file);
    for_each_line(file, on_error, |line_no, text, on_error| {
        parse_line(
            text, line_no, &path, &file.path, format, convert, sink, on_error,
        );
    })
}

/// One line of a JSON lines file -> an event for `sink`, or a report for `on_error`.
#[allow(clippy::too_many_arguments)]
fn parse_line(
    text: &[u8],
    line_no: u64,
    path: &Arc<str>,
    file_path: &Path,
    format: SourceFormat,
    convert: &dyn Fn(&Obj<'_>, Provenance) -> Event,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) {
    let report =
        |line: u64, reason: String| ReadError::new(file_path, format!("line {line}"), reason);
    let text = text.trim_ascii();
    if text.is_empty() {
        return;
    }
    let outcome = with_parsed_line(text, |node| match node {
        Node::Object(obj) => {
            let prov = Provenance {
                path: Arc::clone(path),
                record: line_no,
                format,
            };
            Ok(convert(&obj, prov))
        }
        other => Err(format!("not a JSON object but {}", other.kind())),
    });
    match outcome {
        Ok(Ok(event)) => sink(event),
        Ok(Err(reason)) => on_error(report(line_no, reason)),
        Err(e) => on_error(report(
            line_no,
            format!(
                "invalid JSON at column {}: {}",
                e.column(),
                json_message(&e)
            ),
        )),
    }
}

/// A run of whole lines of a JSON lines file, read on one thread and parsed on any other
/// ([`LineParser::parse`]): a big file is parsed on every core. The reading thread only
/// reads blocks and cuts them after their last newline; the lines are found by the parser.
#[derive(Default)]
pub struct LineChunk {
    /// Whole lines, each ended by `\n` except perhaps the file's last.
    text: Vec<u8>,
    /// The 1-based number of the first line of `text`.
    first_line: u64,
}

/// Which field model a JSON lines file's objects are read with.
#[derive(Clone, Debug)]
enum LineModel {
    Windows,
    Zeek(Option<String>),
    Suricata,
}

/// Turns the [`LineChunk`]s of one file into events (shared by the threads that parse them).
#[derive(Clone, Debug)]
pub struct LineParser {
    path: Arc<str>,
    file_path: std::path::PathBuf,
    format: SourceFormat,
    model: LineModel,
}

impl LineParser {
    /// The parser of a JSON lines file (JSON lines, Zeek JSON, Suricata EVE); `None` for the
    /// formats that are not read line by line into JSON.
    pub fn for_file(file: &InputFile) -> Option<LineParser> {
        use crate::InputFormat;
        let (format, model) = match file.format {
            InputFormat::Jsonl => (SourceFormat::Jsonl, LineModel::Windows),
            InputFormat::ZeekJson => (
                SourceFormat::Jsonl,
                LineModel::Zeek(crate::zeek::path_from_file_name(&file.path)),
            ),
            InputFormat::SuricataEve => (SourceFormat::SuricataEve, LineModel::Suricata),
            _ => return None,
        };
        Some(LineParser {
            path: provenance_path(file),
            file_path: file.path.clone(),
            format,
            model,
        })
    }

    /// Parse the lines of `chunk`, in order; each error comes with its line number (chunks
    /// parsed on several threads finish in any order). Returns (events, errors).
    pub fn parse(
        &self,
        chunk: &LineChunk,
        sink: &mut dyn FnMut(Event),
        on_error: &mut dyn FnMut(u64, ReadError),
    ) -> (u64, u64) {
        let (mut events, mut errors) = (0u64, 0u64);
        let convert = |obj: &Obj<'_>, prov: Provenance| match &self.model {
            LineModel::Windows => event_from_json(obj, prov),
            LineModel::Zeek(hint) => crate::zeek::zeek_json_event(obj, prov, hint.as_deref()),
            LineModel::Suricata => crate::suricata::eve_event(obj, prov),
        };
        let text = chunk.text.as_slice();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', text).chain(
            // The file's last line may have no newline.
            (text.last().is_some_and(|&b| b != b'\n')).then_some(text.len()),
        );
        for (line_no, end) in (chunk.first_line..).zip(ends) {
            parse_line(
                &text[start..end],
                line_no,
                &self.path,
                &self.file_path,
                self.format,
                &convert,
                &mut |e| {
                    events += 1;
                    sink(e)
                },
                &mut |e| {
                    errors += 1;
                    on_error(line_no, e)
                },
            );
            start = end + 1;
        }
        (events, errors)
    }
}

/// Read a JSON lines file into chunks of whole lines of about `chunk_bytes`, handing each to
/// `on_chunk`. The file is read in blocks straight into the chunk's buffer, which is cut after
/// its last newline (the partial line left over starts the next chunk), so that the reading
/// thread neither copies nor scans line by line. A file that cannot be opened, a read failure
/// and lines longer than [`MAX_LINE`] (skipped) go to `on_error` with their line number (0
/// for the file as a whole), reported as [`for_each_line`] reports them; a UTF-8 BOM is
/// stripped. Returns the bytes read (decompressed).
pub fn read_line_chunks(
    file: &InputFile,
    chunk_bytes: usize,
    on_chunk: &mut dyn FnMut(LineChunk),
    on_error: &mut dyn FnMut(u64, ReadError),
) -> u64 {
    read_line_chunks_within(file, chunk_bytes, MAX_LINE, on_chunk, on_error)
}

/// [`read_line_chunks`] with lines of at most `max_line` bytes.
fn read_line_chunks_within(
    file: &InputFile,
    chunk_bytes: usize,
    max_line: usize,
    on_chunk: &mut dyn FnMut(LineChunk),
    on_error: &mut dyn FnMut(u64, ReadError),
) -> u64 {
    let report =
        |line: u64, reason: String| ReadError::new(&file.path, format!("line {line}"), reason);
    let Some(mut reader) = crate::open_or_report(file, &mut |e| on_error(0, e)) else {
        return 0;
    };
    let chunk_bytes = chunk_bytes.clamp(64, max_line.max(64));
    // Room for a chunk and the partial line carried into it.
    let fresh = || Vec::with_capacity(chunk_bytes + (chunk_bytes >> 3));
    let mut text: Vec<u8> = fresh();
    let mut first_line = 1u64;
    let mut bytes = 0u64;
    let mut at_start = true;
    // Inside a line longer than `max_line`: everything up to its newline is dropped.
    let mut skipping = false;
    loop {
        // Fill the buffer to a chunk, or one chunk more while it holds a single partial line
        // (at most `max_line` + `chunk_bytes` bytes).
        let target = if text.len() < chunk_bytes {
            chunk_bytes
        } else {
            text.len() + chunk_bytes
        };
        let before = text.len();
        let outcome = (&mut reader)
            .take((target - before) as u64)
            .read_to_end(&mut text);
        bytes += (text.len() - before) as u64;
        let end = match &outcome {
            Ok(_) => text.len() < target,
            Err(_) => true,
        };
        if at_start && (text.len() >= 3 || end) {
            at_start = false;
            if text.starts_with(b"\xef\xbb\xbf") {
                text.drain(..3);
            }
        }
        if skipping {
            match memchr::memchr(b'\n', &text) {
                Some(i) => {
                    text.drain(..=i);
                    skipping = false;
                    first_line += 1;
                }
                None => text.clear(),
            }
        }
        // A line carried over from chunk to chunk may have grown beyond the limit.
        let first_end = memchr::memchr(b'\n', &text);
        if !skipping && first_end.unwrap_or(text.len()) > max_line {
            on_error(first_line, report(first_line, too_long(max_line)));
            match first_end {
                Some(i) => {
                    text.drain(..=i);
                    first_line += 1;
                }
                None => {
                    text.clear();
                    skipping = true;
                }
            }
        }
        if end {
            let mut broken = None;
            if let Err(e) = &outcome {
                // What was read before the failure is kept; the line it broke is reported.
                let whole = memchr::memrchr(b'\n', &text).map_or(0, |i| i + 1);
                text.truncate(whole);
                let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
                let line = first_line + lines;
                broken = Some((line, report(line, read_failure(e, file.gzip))));
            }
            if !text.is_empty() {
                on_chunk(LineChunk { text, first_line });
            }
            if let Some((line, err)) = broken {
                on_error(line, err);
            }
            return bytes;
        }
        if let Some(last) = memchr::memrchr(b'\n', &text) {
            let mut next = fresh();
            next.extend_from_slice(&text[last + 1..]);
            text.truncate(last + 1);
            let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
            let full = std::mem::replace(&mut text, next);
            on_chunk(LineChunk {
                text: full,
                first_line,
            });
            first_line += lines;
        }
    }
}

/// The report of a line over the limit.
fn too_long(max_line: usize) -> String {
    if max_line >= 1 << 20 {
        format!("line longer than {} MiB, skipped", max_line >> 20)
    } else {
        format!("line longer than {max_line} bytes, skipped")
    }
}

pub(crate) fn read_failure(e: &io::Error, gzip: bool) -> String {
    if gzip {
        format!("cannot read further (damaged or truncated gzip?): {e}")
    } else {
        format!("cannot read further: {e}")
    }
}

/// Parse a line and hand it to `f`. A line that is not valid UTF-8 is read with the bad bytes
/// replaced, rather than lost.
fn with_parsed_line<R>(text: &[u8], f: impl FnOnce(Node<'_>) -> R) -> Result<R, serde_json::Error> {
    match Node::parse(text) {
        Ok(node) => Ok(f(node)),
        Err(e) => match std::str::from_utf8(text) {
            Ok(_) => Err(e),
            Err(_) => {
                let lossy = String::from_utf8_lossy(text);
                match Node::parse(lossy.as_bytes()) {
                    Ok(node) => Ok(f(node)),
                    Err(_) => Err(e),
                }
            }
        },
    }
}

/// serde_json's message without its `at line L column C`.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

pub(crate) struct LineRead {
    /// Bytes consumed, newline included.
    pub(crate) consumed: u64,
    /// The line was longer than [`MAX_LINE`]; `buf` holds nothing of it.
    pub(crate) too_long: bool,
}

/// Read one line (without its `\n`) into `buf`, holding at most [`MAX_LINE`] bytes of it.
/// `None` at the end of input.
pub(crate) fn read_line_bounded<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Option<LineRead>> {
    buf.clear();
    let mut consumed = 0u64;
    let mut too_long = false;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed > 0).then_some(LineRead { consumed, too_long }));
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + take > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..take]);
            }
        }
        let used = if done { take + 1 } else { take };
        r.consume(used);
        consumed += used as u64;
        if done {
            return Ok(Some(LineRead { consumed, too_long }));
        }
    }
}

/// Read a line-oriented file (JSON lines, Zeek TSV, IIS W3C): open it (gzip too), read it line
/// by line within [`MAX_LINE`], and hand each line (its `\n` removed, a UTF-8 BOM stripped from
/// the first) with its 1-based number to `each`. A file that cannot be opened, a read failure
/// and an over-long line are reported to `on_error`, which `each` also receives for its own
/// reports. Returns the bytes read (decompressed).
pub(crate) fn for_each_line(
    file: &InputFile,
    on_error: &mut dyn FnMut(ReadError),
    mut each: impl FnMut(u64, &[u8], &mut dyn FnMut(ReadError)),
) -> u64 {
    let report =
        |line: u64, reason: String| ReadError::new(&file.path, format!("line {line}"), reason);
    let Some(reader) = crate::open_or_report(file, on_error) else {
        return 0;
    };
    let mut reader = BufReader::with_capacity(256 << 10, reader);
    let mut buf = Vec::with_capacity(64 << 10);
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    loop {
        line_no += 1;
        let line = match read_line_bounded(&mut reader, &mut buf) {
            Ok(None) => break,
            Ok(Some(line)) => line,
            Err(e) => {
                on_error(report(line_no, read_failure(&e, file.gzip)));
                break;
            }
        };
        bytes += line.consumed;
        if line.too_long {
            on_error(report(line_no, too_long(MAX_LINE)));
            continue;
        }
        let mut text = buf.as_slice();
        if line_no == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        each(line_no, text, on_error);
    }
    bytes
}

/// Read a JSON document: an array of objects, an object, or objects one after another.
/// Returns the bytes read (decompressed).
pub(crate) fn read_json_document(
    file: &InputFile,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    read_json_document_in(file, IN_MEMORY_DOCUMENT, sink, on_error)
}

/// [`read_json_document`], parsing from memory up to `in_memory` bytes.
fn read_json_document_in(
    file: &InputFile,
    in_memory: u64,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let Some(mut reader) = crate::open_or_report(file, on_error) else {
        return 0;
    };
    let mut ctx = DocumentContext {
        path: provenance_path(file),
        file_path: &file.path,
        index: 0,
        sink,
        on_error,
    };
    // Up to IN_MEMORY_DOCUMENT bytes are parsed from memory; a larger file from the stream.
    let mut head = Vec::new();
    if let Err(e) = (&mut reader).take(in_memory).read_to_end(&mut head) {
        // What was read before the damage is still worth parsing (a truncated gzip).
        let n = parse_document_slice(&head, &mut ctx, true);
        ctx.error("file", read_failure(&e, file.gzip));
        return n;
    }
    if (head.len() as u64) < in_memory {
        return parse_document_slice(&head, &mut ctx, false);
    }
    let bom = head.starts_with(b"\xef\xbb\xbf");
    if bom {
        head.drain(..3);
    }
    let counter = Rc::new(Cell::new(if bom { 3 } else { 0 }));
    let counting = CountingReader {
        inner: io::Cursor::new(head).chain(reader),
        count: Rc::clone(&counter),
    };
    let mut de =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(256 << 10, counting));
    parse_documents(&mut de, &mut ctx, false);
    counter.get()
}

fn parse_document_slice(data: &[u8], ctx: &mut DocumentContext<'_>, truncated: bool) -> u64 {
    let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut de = serde_json::Deserializer::from_slice(body);
    parse_documents(&mut de, ctx, truncated);
    data.len() as u64
}

/// Parse top-level values until the end of input, passing each record to the sink.
fn parse_documents<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    ctx: &mut DocumentContext<'_>,
    truncated: bool,
) {
    let mut values = 0u64;
    loop {
        if de.end().is_ok() {
            if values == 0 && !truncated {
                ctx.error("file", "no JSON value in the file".to_string());
            }
            return;
        }
        values += 1;
        if let Err(e) = TopLevel(ctx).deserialize(&mut *de) {
            // The parser cannot find its feet again after a syntax error: report and stop.
            if !(truncated && e.is_eof()) {
                let location = format!("element {}", ctx.index + 1);
                let reason = if e.is_io() {
                    format!("cannot read further: {e}")
                } else {
                    format!("invalid JSON: {e}")
                };
                ctx.error(&location, reason);
            }
            return;
        }
    }
}

struct DocumentContext<'a> {
    path: Arc<str>,
    file_path: &'a Path,
    /// Records (elements) seen so far.
    index: u64,
    sink: &'a mut dyn FnMut(Event),
    on_error: &'a mut dyn FnMut(ReadError),
}

impl DocumentContext<'_> {
    fn error(&mut self, location: &str, reason: String) {
        (self.on_error)(ReadError::new(self.file_path, location, reason));
    }

    fn record(&mut self, value: Node<'_>) {
        self.index += 1;
        match value {
            Node::Object(obj) => {
                let prov = Provenance {
                    path: Arc::clone(&self.path),
                    record: self.index,
                    format: SourceFormat::JsonArray,
                };
                (self.sink)(event_from_json(&obj, prov));
            }
            other => {
                let location = format!("element {}", self.index);
                self.error(&location, format!("not a JSON object but {}", other.kind()));
            }
        }
    }
}

/// One top-level value: an array (each element a record) or an object (a record).
struct TopLevel<'c, 'a>(&'c mut DocumentContext<'a>);

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<Node<'de>>()? {
            self.0.record(element);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = Node::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.0.record(value);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.record(Node::Bool(v));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.record(Node::Int(v));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.record(Node::UInt(v));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.record(Node::Float(v));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.record(Node::Str(v.to_string().into()));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.record(Node::Null);
        Ok(())
    }
}

struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Layouts

/// Turn one JSON record into an event, recognising its layout.
pub(crate) fn event_from_json(obj: &Obj<'_>, provenance: Provenance) -> Event {
    let mut ev = Event::new(provenance);
    match layout(obj) {
        Layout::EvtxDump(inner) => {
            crate::windows::normalize_event(inner, &mut ev);
            if ev.time.is_unknown() {
                ev.time = first_time(obj, PLAIN_TIME_KEYS).unwrap_or(Timestamp::UNKNOWN);
            }
            return ev;
        }
        Layout::Winlogbeat(winlog) => {
            flatten_object(&mut ev, obj);
            winlogbeat(&mut ev, winlog, WINLOGBEAT_ECS);
            if !ev.has("EventID") {
                if let Some(code) = lookup(obj, "event.code") {
                    ev.push("EventID", event_id_value(code));
                }
            }
            ev.time = first_time(obj, WINLOGBEAT_TIME_KEYS).unwrap_or(Timestamp::UNKNOWN);
        }
        Layout::Winlogbeat6 => {
            flatten_object(&mut ev, obj);
            winlogbeat(&mut ev, obj, WINLOGBEAT_6);
            ev.time = first_time(obj, WINLOGBEAT_TIME_KEYS).unwrap_or(Timestamp::UNKNOWN);
        }
        Layout::WindowsFlat => {
            flatten_object(&mut ev, obj);
            windows_flat(&mut ev, obj);
            ev.time = nxlog_event_time(obj)
                .or_else(|| first_time(obj, WINDOWS_FLAT_TIME_KEYS))
                .unwrap_or(Timestamp::UNKNOWN);
        }
        Layout::Plain => {
            flatten_object(&mut ev, obj);
            ev.time = first_time(obj, PLAIN_TIME_KEYS).unwrap_or(Timestamp::UNKNOWN);
        }
    }
    ev.host = pick_host(&ev, obj).into();
    ev
}

enum Layout<'n, 'a> {
    EvtxDump(&'n Obj<'a>),
    Winlogbeat(&'n Obj<'a>),
    Winlogbeat6,
    WindowsFlat,
    Plain,
}

fn layout<'n, 'a>(obj: &'n Obj<'a>) -> Layout<'n, 'a> {
    if let Some(Node::Object(inner)) = get(obj, "Event") {
        if get(inner, "System").is_some() || get(inner, "EventData").is_some() {
            return Layout::EvtxDump(inner);
        }
    }
    if let Some(Node::Object(winlog)) = get(obj, "winlog") {
        return Layout::Winlogbeat(winlog);
    }
    let has = |key: &str| get(obj, key).is_some();
    if has("event_data")
        || has("user_data")
        || (has("event_id") && (has("log_name") || has("source_name")))
    {
        return Layout::Winlogbeat6;
    }
    if has("EventID") {
        return Layout::WindowsFlat;
    }
    Layout::Plain
}

/// Where Winlogbeat keeps each Windows field (paths relative to `winlog` for 7+, to the
/// record for 6).
struct WinlogbeatPaths {
    event_id: &'static str,
    channel: &'static str,
    provider_name: &'static str,
    provider_guid: &'static str,
    computer: &'static str,
    record_id: &'static str,
    version: &'static str,
    activity_id: &'static str,
    related_activity_id: &'static str,
    event_data: &'static str,
    user_data: &'static str,
    process_id: &'static str,
    thread_id: &'static str,
    user_id: &'static str,
}

const WINLOGBEAT_ECS: &WinlogbeatPaths = &WinlogbeatPaths {
    event_id: "event_id",
    channel: "channel",
    provider_name: "provider_name",
    provider_guid: "provider_guid",
    computer: "computer_name",
    record_id: "record_id",
    version: "version",
    activity_id: "activity_id",
    related_activity_id: "related_activity_id",
    event_data: "event_data",
    user_data: "user_data",
    process_id: "process.pid",
    thread_id: "process.thread.id",
    user_id: "user.identifier",
};

const WINLOGBEAT_6: &WinlogbeatPaths = &WinlogbeatPaths {
    event_id: "event_id",
    channel: "log_name",
    provider_name: "source_name",
    provider_guid: "provider_guid",
    computer: "computer_name",
    record_id: "record_number",
    version: "version",
    activity_id: "activity_id",
    related_activity_id: "related_activity_id",
    event_data: "event_data",
    user_data: "user_data",
    process_id: "process_id",
    thread_id: "thread_id",
    user_id: "user.identifier",
};

/// The Windows names of a Winlogbeat record, next to its original dotted paths.
fn winlogbeat(ev: &mut Event, base: &Obj<'_>, paths: &WinlogbeatPaths) {
    if let Some(id) = lookup(base, paths.event_id) {
        ev.set("EventID", event_id_value(id));
    }
    for (name, path) in [
        ("Channel", paths.channel),
        ("Provider_Name", paths.provider_name),
        ("Provider_Guid", paths.provider_guid),
        ("Computer", paths.computer),
        ("EventRecordID", paths.record_id),
        ("Version", paths.version),
        ("ActivityID", paths.activity_id),
        ("RelatedActivityID", paths.related_activity_id),
    ] {
        if let Some(v) = lookup(base, path) {
            if !v.is_object() {
                ev.set(name, v.to_value());
            }
        }
    }
    if let Some(Node::Object(data)) = lookup(base, paths.event_data) {
        for (k, v) in data {
            alias_data(ev, &strip_spaces(k), v);
        }
    }
    if let Some(Node::Object(data)) = lookup(base, paths.user_data) {
        let mut path = String::new();
        for (k, v) in data {
            if k == "xml_name" {
                continue;
            }
            path.clear();
            path.push_str(&strip_spaces(k));
            alias_nested(ev, &mut path, v);
        }
    }
    let mut late = Vec::new();
    for (name, path) in [
        ("ProcessID", paths.process_id),
        ("ThreadID", paths.thread_id),
        ("UserID", paths.user_id),
    ] {
        if let Some(v) = lookup(base, path) {
            if !v.is_object() {
                late.push((name, v.to_value()));
            }
        }
    }
    add_late_fields(ev, late);
}

/// A data field under its Windows name, unless that name is taken (its dotted original path
/// is there anyway).
fn alias_data(ev: &mut Event, name: &str, v: &Node<'_>) {
    if !name.is_empty() && !ev.has(name) {
        ev.push(name, v.to_value());
    }
}

fn alias_nested(ev: &mut Event, path: &mut String, v: &Node<'_>) {
    match v {
        Node::Object(obj) => {
            for (k, child) in obj {
                let len = path.len();
                path.push('.');
                path.push_str(&strip_spaces(k));
                alias_nested(ev, path, child);
                path.truncate(len);
            }
        }
        other => alias_data(ev, path, other),
    }
}

/// NXLog and Security-Datasets flat records: their own keys are already the Windows names,
/// mostly.
fn windows_flat(ev: &mut Event, obj: &Obj<'_>) {
    if let Some(id) = get(obj, "EventID") {
        ev.set("EventID", event_id_value(id));
    }
    // NXLog gives Keywords as a signed 64-bit number; EVTX and evtx_dump as hex text.
    let bits = match get(obj, "Keywords") {
        Some(Node::Int(i)) => Some(*i as u64),
        Some(Node::UInt(u)) => Some(*u),
        _ => None,
    };
    if let Some(bits) = bits {
        ev.set("Keywords", Value::str(format!("{bits:#x}")));
    }
    for (name, key) in [
        ("Computer", "Hostname"),
        ("Provider_Name", "SourceName"),
        ("Provider_Guid", "ProviderGuid"),
        ("EventRecordID", "RecordNumber"),
    ] {
        if let Some(v) = get(obj, key) {
            if !v.is_object() && !ev.has(name) {
                ev.push(name, v.to_value());
            }
        }
    }
    let mut late = Vec::new();
    if let Some(v) = get(obj, "ExecutionProcessID") {
        late.push(("ProcessID", v.to_value()));
    }
    add_late_fields(ev, late);
    // Data names with spaces, as some shippers keep them.
    for (k, v) in obj {
        if k.contains(' ') && !v.is_object() {
            let name = strip_spaces(k);
            push_data_field_if_absent(ev, &name, v);
        }
    }
}

fn push_data_field_if_absent(ev: &mut Event, name: &str, v: &Node<'_>) {
    if !ev.has(name) {
        push_data_field(ev, "EventData", name, v.to_value());
    }
}

/// Every leaf of the record under its dotted path; arrays as lists.
pub(crate) fn flatten_object(ev: &mut Event, obj: &Obj<'_>) {
    let mut path = String::with_capacity(64);
    for (k, v) in obj {
        path.clear();
        path.push_str(k);
        flatten_value(ev, &mut path, v);
    }
}

fn flatten_value(ev: &mut Event, path: &mut String, v: &Node<'_>) {
    match v {
        Node::Object(obj) => {
            for (k, child) in obj {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                flatten_value(ev, path, child);
                path.truncate(len);
            }
        }
        other => ev.push(path.as_str(), other.to_value()),
    }
}

/// A value by dotted path: `a.b.c` as nested objects, or as a literal key at any level.
fn lookup<'n, 'a>(obj: &'n Obj<'a>, path: &str) -> Option<&'n Node<'a>> {
    if let Some(v) = get(obj, path) {
        return Some(v);
    }
    // Try every split point, so that `host.name` finds `{"host": {"name": ..}}` and
    // `{"host.name": ..}` alike.
    for (i, _) in path.match_indices('.') {
        if let Some(Node::Object(inner)) = get(obj, &path[..i]) {
            if let Some(v) = lookup(inner, &path[i + 1..]) {
                return Some(v);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Time and host

const WINLOGBEAT_TIME_KEYS: &[&str] = &[
    "@timestamp",
    "winlog.time_created",
    "event.created",
    "timestamp",
];
/// NXLog's `EventTime` comes first (see [`nxlog_event_time`]); then the record's own time,
/// before `@timestamp`, which is when the record was shipped.
const WINDOWS_FLAT_TIME_KEYS: &[&str] = &[
    "TimeCreated",
    "SystemTime",
    "UtcTime",
    "@timestamp",
    "EventReceivedTime",
    "timestamp",
];
const PLAIN_TIME_KEYS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "EventTime",
    "TimeCreated",
    "UtcTime",
    "datetime",
    "date",
    "event.created",
];

fn first_time(obj: &Obj<'_>, keys: &[&str]) -> Option<Timestamp> {
    keys.iter()
        .find_map(|k| lookup(obj, k).and_then(time_value))
}

pub(crate) fn time_value(v: &Node<'_>) -> Option<Timestamp> {
    match v {
        Node::Str(s) => Timestamp::parse(s),
        Node::Int(i) => (*i > 0).then(|| Timestamp::from_epoch_int(*i)),
        Node::Float(f) => Some(*f)
            .filter(|f| f.is_finite() && *f > 0.0 && *f < 1e17)
            .map(Timestamp::from_epoch_number),
        _ => None,
    }
}

/// NXLog writes `EventTime` (and `EventReceivedTime`) in the collector's local time, without a
/// zone. When the record also has `@timestamp` (UTC, set by the shipper as it received the
/// record), `@timestamp - EventReceivedTime` is the zone's offset, to the nearest quarter hour:
/// apply it. Otherwise a zone-less `EventTime` is taken as UTC.
fn nxlog_event_time(obj: &Obj<'_>) -> Option<Timestamp> {
    let text = get(obj, "EventTime")?.as_str()?;
    let t = Timestamp::parse(text)?;
    if has_zone(text) {
        return Some(t);
    }
    let received = get(obj, "EventReceivedTime")
        .and_then(Node::as_str)
        .filter(|s| !has_zone(s))
        .and_then(Timestamp::parse);
    let shipped = get(obj, "@timestamp")
        .and_then(Node::as_str)
        .filter(|s| has_zone(s))
        .and_then(Timestamp::parse);
    if let (Some(received), Some(shipped)) = (received, shipped) {
        const QUARTER: i64 = 15 * 60 * 1_000_000_000;
        let diff = shipped.nanos().saturating_sub(received.nanos());
        let offset = (diff as f64 / QUARTER as f64).round() as i64 * QUARTER;
        let slack = (diff - offset).abs();
        if offset.abs() <= 14 * 4 * QUARTER && slack <= 120 * 1_000_000_000 {
            return Some(Timestamp::from_nanos(t.nanos().saturating_add(offset)));
        }
    }
    Some(t)
}

/// Whether a time text names its zone (`Z`, `+02:00`, `-0500`).
fn has_zone(s: &str) -> bool {
    let b = s.trim().as_bytes();
    matches!(b.last(), Some(b'Z' | b'z'))
        || b.get(19..)
            .is_some_and(|rest| rest.iter().any(|&c| c == b'+' || c == b'-'))
}

const HOST_KEYS: &[&str] = &[
    "computer_name",
    "Hostname",
    "winlog.computer_name",
    "host.name",
    "host.hostname",
    "hostname",
    "host",
    "agent.hostname",
];

fn pick_host(ev: &Event, obj: &Obj<'_>) -> String {
    if let Some(Value::Str(s)) = ev.get("Computer") {
        return s.to_string();
    }
    HOST_KEYS
        .iter()
        .find_map(|k| lookup(obj, k).and_then(Node::as_str))
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event {
        let text = v.to_string();
        let node = Node::parse(text.as_bytes()).unwrap();
        let Node::Object(obj) = node else {
            panic!("not an object")
        };
        event_from_json(
            &obj,
            Provenance {
                path: "t.json".into(),
                record: 1,
                format: SourceFormat::Jsonl,
            },
        )
    }

    fn text(ev: &Event, name: &str) -> Option<String> {
        ev.get_text(name).map(|t| t.into_owned())
    }

    const CMD: &str = "\"C:\\Windows\\system32\\cmd.exe\" /c whoami";

    /// The same Sysmon process creation, as evtx_dump, Winlogbeat 7 (ECS), Winlogbeat 6 and
    /// NXLog write it.
    fn layouts() -> Vec<(&'static str, serde_json::Value)> {
        vec![
            (
                "evtx_dump",
                json!({"Event": {
                    "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                    "System": {
                        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon",
                                                     "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},
                        "EventID": 1, "Version": 5, "Level": 4, "Task": 1, "Opcode": 0,
                        "Keywords": "0x8000000000000000",
                        "TimeCreated": {"#attributes": {"SystemTime": "2021-05-06T07:08:09.123456Z"}},
                        "EventRecordID": 4242,
                        "Execution": {"#attributes": {"ProcessID": 2000, "ThreadID": 3000}},
                        "Channel": "Microsoft-Windows-Sysmon/Operational",
                        "Computer": "ws01.corp.local",
                        "Security": {"#attributes": {"UserID": "S-1-5-18"}}
                    },
                    "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": CMD,
                                  "ProcessId": 5555, "User": "CORP\\bob"}
                }}),
            ),
            (
                "winlogbeat-ecs",
                json!({
                    "@timestamp": "2021-05-06T07:08:09.123Z",
                    "event": {"code": "1", "provider": "Microsoft-Windows-Sysmon"},
                    "host": {"name": "collector01"},
                    "process": {"command_line": CMD, "executable": "C:\\Windows\\System32\\cmd.exe"},
                    "winlog": {
                        "channel": "Microsoft-Windows-Sysmon/Operational",
                        "event_id": 1,
                        "provider_name": "Microsoft-Windows-Sysmon",
                        "provider_guid": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
                        "computer_name": "ws01.corp.local",
                        "record_id": 4242,
                        "process": {"pid": 2000, "thread": {"id": 3000}},
                        "user": {"identifier": "S-1-5-18"},
                        "event_data": {"Image": "C:\\Windows\\System32\\cmd.exe",
                                       "CommandLine": CMD, "ProcessId": "5555",
                                       "User": "CORP\\bob"}
                    }
                }),
            ),
            (
                "winlogbeat-6",
                json!({
                    "@timestamp": "2021-05-06T07:08:09.123Z",
                    "beat": {"hostname": "collector01"},
                    "host": {"name": "collector01"},
                    "computer_name": "ws01.corp.local",
                    "event_id": 1,
                    "log_name": "Microsoft-Windows-Sysmon/Operational",
                    "source_name": "Microsoft-Windows-Sysmon",
                    "record_number": "4242",
                    "process_id": 2000, "thread_id": 3000,
                    "user": {"identifier": "S-1-5-18"},
                    "event_data": {"Image": "C:\\Windows\\System32\\cmd.exe",
                                   "CommandLine": CMD, "ProcessId": "5555", "User": "CORP\\bob"}
                }),
            ),
            (
                "nxlog",
                json!({
                    "EventTime": "2021-05-06 03:08:09",
                    "EventReceivedTime": "2021-05-06 03:08:10",
                    "@timestamp": "2021-05-06T07:08:10.500Z",
                    "Hostname": "ws01.corp.local",
                    "host": "wec.corp.local",
                    "SourceName": "Microsoft-Windows-Sysmon",
                    "ProviderGuid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "EventID": "1",
                    "RecordNumber": 4242,
                    "ExecutionProcessID": 2000, "ThreadID": 3000,
                    "Keywords": i64::MIN,
                    "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": CMD,
                    "ProcessId": "5555", "User": "CORP\\bob",
                    "UtcTime": "2021-05-06 07:08:09.120"
                }),
            ),
        ]
    }

    #[test]
    fn every_layout_gives_the_same_windows_fields() {
        for (name, record) in layouts() {
            let ev = event(record);
            assert_eq!(ev.get("EventID"), Some(&Value::Int(1)), "{name}");
            assert_eq!(
                text(&ev, "Channel").as_deref(),
                Some("Microsoft-Windows-Sysmon/Operational"),
                "{name}"
            );
            assert_eq!(
                text(&ev, "Computer").as_deref(),
                Some("ws01.corp.local"),
                "{name}"
            );
            assert_eq!(&*ev.host, "ws01.corp.local", "{name}");
            assert_eq!(
                text(&ev, "Provider_Name").as_deref(),
                Some("Microsoft-Windows-Sysmon"),
                "{name}"
            );
            assert_eq!(text(&ev, "CommandLine").as_deref(), Some(CMD), "{name}");
            assert_eq!(
                text(&ev, "Image").as_deref(),
                Some("C:\\Windows\\System32\\cmd.exe"),
                "{name}"
            );
            assert_eq!(text(&ev, "ProcessId").as_deref(), Some("5555"), "{name}");
            assert_eq!(
                text(&ev, "EventRecordID").as_deref(),
                Some("4242"),
                "{name}"
            );
            assert_eq!(text(&ev, "User").as_deref(), Some("CORP\\bob"), "{name}");
            if name == "evtx_dump" || name == "nxlog" {
                assert_eq!(
                    text(&ev, "Keywords").as_deref(),
                    Some("0x8000000000000000"),
                    "{name}"
                );
            }
            // Within a second of the real time, whatever the layout's clock.
            let expected = Timestamp::parse("2021-05-06T07:08:09Z").unwrap();
            assert!(
                (ev.time.nanos() - expected.nanos()).abs() < 1_000_000_000,
                "{name}: {}",
                ev.time
            );
        }
    }

    #[test]
    fn ecs_keeps_original_paths() {
        let (_, record) = layouts().swap_remove(1);
        let ev = event(record);
        assert_eq!(
            text(&ev, "winlog.event_data.Image").unwrap(),
            "C:\\Windows\\System32\\cmd.exe"
        );
        assert_eq!(text(&ev, "process.command_line").unwrap(), CMD);
        assert_eq!(text(&ev, "host.name").unwrap(), "collector01");
        assert_eq!(text(&ev, "ThreadID").unwrap(), "3000");
        assert_eq!(text(&ev, "UserID").unwrap(), "S-1-5-18");
        // The event's own ProcessId keeps the name; the shipper's process id gets a prefix.
        assert_eq!(text(&ev, "ProcessID").unwrap(), "5555");
        assert_eq!(text(&ev, "System.ProcessID").unwrap(), "2000");
    }

    #[test]
    fn winlogbeat_user_data_and_spaces() {
        let ev = event(json!({
            "@timestamp": "2019-05-18T20:19:31.920Z",
            "event_id": 5857, "log_name": "Microsoft-Windows-WMI-Activity/Operational",
            "source_name": "Microsoft-Windows-WMI-Activity", "computer_name": "HR001",
            "user_data": {"ProviderName": "WmiPerfInst", "Code": "0x0",
                          "xml_name": "Operation_StartedOperational",
                          "Nested": {"Inner": "x"}},
            "event_data": {"Logon Type": "3"}
        }));
        assert_eq!(text(&ev, "ProviderName").unwrap(), "WmiPerfInst");
        assert_eq!(text(&ev, "Nested.Inner").unwrap(), "x");
        assert!(ev.get("xml_name").is_none());
        assert_eq!(
            text(&ev, "user_data.xml_name").unwrap(),
            "Operation_StartedOperational"
        );
        assert_eq!(text(&ev, "LogonType").unwrap(), "3");
        assert_eq!(ev.get("EventID"), Some(&Value::Int(5857)));
    }

    #[test]
    fn plain_json_is_flattened() {
        let ev = event(json!({
            "ts": 1600000000.5,
            "host": {"name": "web1"},
            "http": {"method": "GET", "status": 200},
            "tags": ["a", "b"],
            "nested": [{"x": 1}]
        }));
        assert_eq!(text(&ev, "http.method").unwrap(), "GET");
        assert_eq!(ev.get("http.status"), Some(&Value::Int(200)));
        assert_eq!(
            ev.get("tags"),
            Some(&Value::List(vec![Value::str("a"), Value::str("b")]))
        );
        assert_eq!(&*ev.host, "web1");
        assert_eq!(ev.time.secs(), 1_600_000_000);
        assert!(ev.get("EventID").is_none());
    }

    #[test]
    fn otrf_time_created_without_zone_is_utc() {
        let ev = event(json!({
            "TimeCreated": "2020-10-18 10:56:18.799", "EventID": 5156, "Hostname": "WS5",
            "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security"
        }));
        assert_eq!(
            ev.time,
            Timestamp::parse("2020-10-18T10:56:18.799Z").unwrap()
        );
        assert_eq!(ev.get("EventID"), Some(&Value::Int(5156)));
        assert_eq!(&*ev.host, "WS5");
    }

    #[test]
    fn lookup_finds_nested_and_literal_dotted_keys() {
        let text = br#"{"a": {"b.c": 1, "b": {"d": 2}}, "x.y": 3}"#;
        let Node::Object(obj) = Node::parse(text).unwrap() else {
            unreachable!()
        };
        assert_eq!(lookup(&obj, "a.b.c"), Some(&Node::Int(1)));
        assert_eq!(lookup(&obj, "a.b.d"), Some(&Node::Int(2)));
        assert_eq!(lookup(&obj, "x.y"), Some(&Node::Int(3)));
        assert_eq!(lookup(&obj, "a.z"), None);
    }

    #[test]
    fn large_documents_are_streamed() {
        let dir = std::env::temp_dir().join(format!("dragnet-ingest-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("doc.json");
        let body: Vec<String> = (0..300)
            .map(|i| format!("{{\"EventID\": {i}, \"Image\": \"C:\\\\x{i}.exe\", \"n\": {{\"a\": [1, \"b\"]}}}}"))
            .collect();
        std::fs::write(
            &path,
            format!("\u{feff}[{}]\n{{\"EventID\": 300}}", body.join(",\n")),
        )
        .unwrap();
        let file = InputFile {
            path: path.clone(),
            format: crate::InputFormat::JsonArray,
            size: std::fs::metadata(&path).unwrap().len(),
            gzip: false,
        };
        let read = |limit: u64| {
            let (mut events, mut errors) = (Vec::new(), Vec::new());
            let bytes = read_json_document_in(&file, limit, &mut |e| events.push(e), &mut |e| {
                errors.push(e)
            });
            (events, errors, bytes)
        };
        let (in_memory, e1, b1) = read(1 << 30);
        let (streamed, e2, b2) = read(64);
        assert!(e1.is_empty() && e2.is_empty(), "{e1:?} {e2:?}");
        assert_eq!(in_memory.len(), 301);
        assert_eq!(in_memory, streamed);
        assert_eq!((b1, b2), (file.size, file.size));
        assert_eq!(streamed[300].provenance.record, 301);
        assert_eq!(text(&streamed[7], "Image").unwrap(), "C:\\x7.exe");
        assert_eq!(text(&streamed[7], "n.a").as_deref(), None);
        assert_eq!(
            streamed[7].get("n.a"),
            Some(&Value::List(vec![Value::Int(1), Value::str("b")]))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A JSON lines file in `dir` for the chunk reader's tests.
    fn jsonl_file(dir: &Path, name: &str, body: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        InputFile {
            path,
            format: crate::InputFormat::Jsonl,
            size: body.len() as u64,
            gzip: false,
        }
    }

    /// Events (line, image), errors (location: reason) and bytes read.
    type ReadLines = (Vec<(u64, Option<String>)>, Vec<String>, u64);

    /// Events (their line and image) and errors (location and reason) of a file read in
    /// chunks of `chunk_bytes`, or line by line with `None`.
    fn read_lines(file: &InputFile, chunk_bytes: Option<usize>, max_line: usize) -> ReadLines {
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        let mut sink = |e: Event| events.push((e.provenance.record, text(&e, "Image")));
        let mut on_error = |e: ReadError| errors.push(format!("{}: {}", e.location, e.reason));
        let bytes = match chunk_bytes {
            None => read_jsonl(file, &mut sink, &mut on_error),
            Some(size) => {
                let parser = LineParser::for_file(file).unwrap();
                let mut chunks = Vec::new();
                // The line number given with each error is the one its location names.
                let mut numbered = |line: u64, e: ReadError| {
                    assert_eq!(e.location, format!("line {line}"));
                    on_error(e)
                };
                let bytes = read_line_chunks_within(
                    file,
                    size,
                    max_line,
                    &mut |c| chunks.push(c),
                    &mut numbered,
                );
                for c in &chunks {
                    parser.parse(c, &mut sink, &mut numbered);
                }
                bytes
            }
        };
        (events, errors, bytes)
    }

    /// Cut into chunks of any size, a file reads exactly as line by line: the same events with
    /// the same line numbers, the same errors, the same byte count (BOM, CRLF, blank lines,
    /// damaged lines, lines longer than a chunk, no newline at the end).
    #[test]
    fn chunks_read_as_lines_do() {
        let dir =
            dragnet_event::private_scratch_dir(&std::env::temp_dir(), "dragnet-chunks").unwrap();
        let mut body = b"\xef\xbb\xbf".to_vec();
        for i in 0..400u32 {
            let line = match i % 23 {
                5 => String::new(),
                7 => "{ damaged".to_string(),
                11 => "[1, 2]".to_string(),
                13 => format!(
                    "{{\"EventID\": 1, \"Image\": \"C:\\\\{}.exe\"}}",
                    "x".repeat(300)
                ),
                _ => format!("{{\"EventID\": 1, \"Image\": \"C:\\\\{i}.exe\"}}"),
            };
            body.extend_from_slice(line.as_bytes());
            body.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
        }
        body.extend_from_slice(b"{\"EventID\": 1, \"Image\": \"last\"}");
        let file = jsonl_file(&dir, "a.jsonl", &body);
        let lines = read_lines(&file, None, MAX_LINE);
        assert_eq!(lines.0.len(), 400 - 18 - 18 - 17 + 1, "{:?}", lines.1);
        assert_eq!(lines.0.last().unwrap(), &(401, Some("last".to_string())));
        assert_eq!(lines.1.len(), 35);
        assert_eq!(lines.2, body.len() as u64);
        for size in [64, 100, 333, 4096, 1 << 20] {
            assert_eq!(
                read_lines(&file, Some(size), MAX_LINE),
                lines,
                "chunks of {size}"
            );
        }
        // A file that ends with its newline, and an empty one.
        let ended = jsonl_file(&dir, "b.jsonl", &body[..body.len() - 33]);
        let lines = read_lines(&ended, None, MAX_LINE);
        assert_eq!(read_lines(&ended, Some(64), MAX_LINE), lines);
        let empty = jsonl_file(&dir, "c.jsonl", b"");
        assert_eq!(read_lines(&empty, Some(64), MAX_LINE), (vec![], vec![], 0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A line over the limit is reported with its number and skipped, however many chunks it
    /// spans; the lines after it keep their numbers.
    #[test]
    fn chunks_skip_over_long_lines() {
        let dir =
            dragnet_event::private_scratch_dir(&std::env::temp_dir(), "dragnet-long").unwrap();
        let line = |i: u32| format!("{{\"EventID\": 1, \"Image\": \"{i}\"}}\n");
        let long = format!("{{\"EventID\": 1, \"Image\": \"{}\"}}\n", "y".repeat(5000));
        let mut body = line(1) + &line(2) + &long + &line(4) + &long;
        body.push_str(&long[..3000]);
        let file = jsonl_file(&dir, "a.jsonl", body.as_bytes());
        for size in [64, 100, 1000, 4096, 1 << 20] {
            let (events, errors, bytes) = read_lines(&file, Some(size), 1024);
            let seen: Vec<u64> = events.iter().map(|e| e.0).collect();
            assert_eq!(seen, [1, 2, 4], "chunks of {size}");
            assert_eq!(
                errors,
                [3, 5, 6].map(|n| format!("line {n}: line longer than 1024 bytes, skipped")),
                "chunks of {size}"
            );
            assert_eq!(bytes, body.len() as u64);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bounded_lines() {
        let data = b"{\"a\":1}\r\n\n{\"b\":2}".to_vec();
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let l = read_line_bounded(&mut r, &mut buf).unwrap().unwrap();
        assert_eq!((buf.as_slice(), l.consumed), (&b"{\"a\":1}\r"[..], 9));
        read_line_bounded(&mut r, &mut buf).unwrap().unwrap();
        assert!(buf.is_empty());
        read_line_bounded(&mut r, &mut buf).unwrap().unwrap();
        assert_eq!(buf, b"{\"b\":2}");
        assert!(read_line_bounded(&mut r, &mut buf).unwrap().is_none());
    }
}
