//! dragnet's readers: find input files, tell their format from their content, and turn their
//! records into [`Event`]s.
//!
//! Where things are:
//! - [`discover`] (`walk.rs`) walks the paths given on the command line;
//!   [`detect_format`] (`detect.rs`) tells a file's format from its first bytes.
//! - [`read_file`] (this file) dispatches on the format:
//!   - `evtx.rs`: EVTX file -> records (the `evtx` crate) -> [`Event`]
//!     (see `evtx::read_evtx`, and `windows::normalize_event` for the record itself);
//!   - `json.rs`: JSON lines / JSON documents -> records -> [`Event`], whatever the layout
//!     (evtx_dump, Winlogbeat/ECS, NXLog, plain JSON);
//!   - `zeek.rs`: Zeek TSV and JSON logs; `suricata.rs`: Suricata EVE; `iis.rs`: IIS W3C logs
//!     (`netfields.rs`: what the three share: `_product`/`_service`, Sigma taxonomy aliases);
//!   - `mail.rs`: EML files and MBOX mailboxes (one event per message, with its phishing
//!     verdict) and Microsoft 365 unified audit logs (one event per record), through
//!     dragnet-mail (why ingest depends on it: see that module).
//! - `windows.rs`: the Windows field model shared by both (System, EventData, UserData ->
//!   Sigma field names).
//!
//! Readers never panic on bad input: every damaged chunk, record or line is reported through
//! the `on_error` callback as a [`ReadError`] and reading goes on.

use dragnet_event::{Event, SourceFormat};
use std::fmt;
use std::path::PathBuf;

mod detect;
mod evtx;
mod iis;
mod json;
mod mail;
mod netfields;
mod node;
mod suricata;
mod walk;
mod windows;
mod zeek;

pub use detect::detect_format;
/// What mail reading needs to know (the organisation's domains, thresholds, limits).
pub use dragnet_mail::MailConfig;
pub use json::{read_line_chunks, LineChunk, LineParser};
pub use netfields::is_private_ip;
pub use walk::discover;

/// One file to read, as found by [`discover`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub format: InputFormat,
    /// Size on disk (compressed size for gzip files).
    pub size: u64,
    /// The file is gzip-compressed; readers decompress it on the fly.
    pub gzip: bool,
}

/// The formats dragnet reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Windows XML event log (binary `.evtx`).
    Evtx,
    /// One JSON object a line.
    Jsonl,
    /// A JSON document: an array of objects, one object (maybe pretty-printed), or several
    /// objects one after another.
    JsonArray,
    /// Zeek TSV logs (`#fields`/`#types` header).
    ZeekTsv,
    /// Zeek JSON logs (one object a line with `ts` and `uid`/`id.orig_h`/`_path`).
    ZeekJson,
    /// Suricata EVE JSON (one object a line with `event_type`).
    SuricataEve,
    /// IIS / W3C extended logs (`#Fields:` directive).
    IisW3c,
    /// One RFC 5322 message (`.eml`).
    Eml,
    /// A mailbox: messages one after another, each after a `From ` line.
    Mbox,
    /// Microsoft 365 unified audit log (JSON lines or a JSON array of records with
    /// `CreationTime`, `Operation`, `Workload`/`RecordType`).
    M365Audit,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Evtx => "evtx",
            InputFormat::Jsonl => "jsonl",
            InputFormat::JsonArray => "json-array",
            InputFormat::ZeekTsv => "zeek-tsv",
            InputFormat::ZeekJson => "zeek-json",
            InputFormat::SuricataEve => "suricata-eve",
            InputFormat::IisW3c => "iis-w3c",
            InputFormat::Eml => "eml",
            InputFormat::Mbox => "mbox",
            InputFormat::M365Audit => "m365-audit",
        }
    }

    /// Network and web-server evidence (Zeek, Suricata, IIS), which the network analytics read.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            InputFormat::ZeekTsv
                | InputFormat::ZeekJson
                | InputFormat::SuricataEve
                | InputFormat::IisW3c
        )
    }

    /// Mail evidence: messages (EML, MBOX) and the Microsoft 365 audit log.
    pub fn is_mail(self) -> bool {
        matches!(
            self,
            InputFormat::Eml | InputFormat::Mbox | InputFormat::M365Audit
        )
    }

    /// The [`SourceFormat`] events read from this format carry in their provenance.
    pub fn source_format(self) -> SourceFormat {
        match self {
            InputFormat::Evtx => SourceFormat::Evtx,
            InputFormat::Jsonl => SourceFormat::Jsonl,
            InputFormat::JsonArray => SourceFormat::JsonArray,
            InputFormat::ZeekTsv => SourceFormat::ZeekTsv,
            // No Zeek-JSON provenance format: the records are JSON lines.
            InputFormat::ZeekJson => SourceFormat::Jsonl,
            InputFormat::SuricataEve => SourceFormat::SuricataEve,
            InputFormat::IisW3c => SourceFormat::IisW3c,
            InputFormat::Eml => SourceFormat::Eml,
            InputFormat::Mbox => SourceFormat::Mbox,
            // Records of a JSON array say so in their own provenance.
            InputFormat::M365Audit => SourceFormat::Jsonl,
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file [`discover`] found but will not read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What [`discover`] found: files to read, in a deterministic order, and files left out.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    pub skipped: Vec<Skipped>,
}

/// A damaged part of a file: where it is and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub path: PathBuf,
    /// Where in the file: `file`, `file header`, `chunk 3`, `record 1234`, `line 17`,
    /// `element 5`...
    pub location: String,
    pub reason: String,
}

impl ReadError {
    pub(crate) fn new(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ReadError {
            path: path.into(),
            location: location.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the reason holds.
        let reason = self.reason.replace(['\n', '\r'], " ");
        write!(f, "{}: {}: {}", self.path.display(), self.location, reason)
    }
}

impl std::error::Error for ReadError {}

/// How to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Threads the EVTX parser may use inside one file: 1 reads on the calling thread, 0 lets
    /// the parser use one per core. Called from inside a rayon pool, a file is always read on
    /// the calling thread (the parser's workers would wait on that same pool).
    pub threads: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { threads: 1 }
    }
}

/// What reading one file gave.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// Events passed to the sink.
    pub records: u64,
    /// `on_error` calls.
    pub errors: u64,
    /// Bytes of input read (decompressed bytes for gzip files).
    pub bytes: u64,
}

/// Read one file, calling `sink` for every event (in file order) and `on_error` for every
/// damaged chunk, record or line, then going on.
///
/// Never panics. A file that cannot be read at all gives one `on_error` call and
/// `records == 0`.
pub fn read_file(
    file: &InputFile,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> FileSummary {
    read_file_with(file, opts, &default_mail_config(), sink, on_error)
}

fn default_mail_config() -> MailConfig {
    MailConfig::default()
}

/// [`read_file`], with the settings mail analysis uses (the organisation's domains, trusted
/// hosts, thresholds, limits) for EML and MBOX files.
pub fn read_file_with(
    file: &InputFile,
    opts: &ReadOptions,
    mail: &MailConfig,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> FileSummary {
    let mut summary = FileSummary::default();
    let mut counted_sink = |e: Event| {
        summary.records += 1;
        sink(e);
    };
    let mut errors = 0u64;
    let mut counted_errors = |e: ReadError| {
        errors += 1;
        on_error(e);
    };
    let bytes = match file.format {
        InputFormat::Evtx => evtx::read_evtx(file, opts, &mut counted_sink, &mut counted_errors),
        InputFormat::Jsonl => json::read_jsonl(file, &mut counted_sink, &mut counted_errors),
        InputFormat::JsonArray => {
            json::read_json_document(file, &mut counted_sink, &mut counted_errors)
        }
        InputFormat::ZeekTsv => zeek::read_zeek_tsv(file, &mut counted_sink, &mut counted_errors),
        InputFormat::ZeekJson => {
            let hint = zeek::path_from_file_name(&file.path);
            let convert = |obj: &node::Obj<'_>, prov: dragnet_event::Provenance| {
                zeek::zeek_json_event(obj, prov, hint.as_deref())
            };
            json::read_jsonl_with(
                file,
                SourceFormat::Jsonl,
                &convert,
                &mut counted_sink,
                &mut counted_errors,
            )
        }
        InputFormat::SuricataEve => json::read_jsonl_with(
            file,
            SourceFormat::SuricataEve,
            &suricata::eve_event,
            &mut counted_sink,
            &mut counted_errors,
        ),
        InputFormat::IisW3c => iis::read_iis(file, &mut counted_sink, &mut counted_errors),
        InputFormat::Eml | InputFormat::Mbox => {
            mail::read_mail(file, mail, &mut counted_sink, &mut counted_errors)
        }
        InputFormat::M365Audit => mail::read_audit(file, &mut counted_sink, &mut counted_errors),
    };
    summary.errors = errors;
    summary.bytes = bytes;
    summary
}

/// An error and the chain of its sources, on one line.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The text of a panic payload.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// The file's bytes, decompressed when it is gzip (all members of a multi-member file).
pub(crate) fn open_decoded(file: &InputFile) -> std::io::Result<Box<dyn std::io::Read + Send>> {
    let f = std::fs::File::open(&file.path)?;
    Ok(if file.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 16, f),
        ))
    } else {
        Box::new(f)
    })
}

/// The error of a file that cannot be opened.
pub(crate) fn cannot_open(file: &InputFile, e: &std::io::Error) -> ReadError {
    ReadError::new(&file.path, "file", format!("cannot open: {e}"))
}

/// [`open_decoded`], or `None` after reporting the file as unreadable to `on_error`.
pub(crate) fn open_or_report(
    file: &InputFile,
    on_error: &mut dyn FnMut(ReadError),
) -> Option<Box<dyn std::io::Read + Send>> {
    open_decoded(file)
        .map_err(|e| on_error(cannot_open(file, &e)))
        .ok()
}

/// Provenance path text for a file.
pub(crate) fn provenance_path(file: &InputFile) -> std::sync::Arc<str> {
    std::sync::Arc::from(file.path.to_string_lossy().as_ref())
}
