//! Timelines of findings: JSONL (the contract), CSV (spreadsheets, Timesketch) and a table for
//! the terminal.
//!
//! Every writer takes the findings in the order given (the pipeline hands them over sorted by
//! [`Finding::timeline_cmp`]).

use dragnet_event::{Finding, Level, RuleMeta};
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::Arc;

/// The timeline formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "jsonl" | "json-lines" | "ndjson" => Ok(Format::Jsonl),
            other => Err(format!(
                "unknown timeline format {other:?} (table, csv, jsonl)"
            )),
        }
    }
}

/// Write `findings` in `format` (the table with `table` options).
pub fn write<W: Write>(
    w: W,
    findings: &[Finding],
    format: Format,
    table: &TableOptions,
) -> io::Result<()> {
    let mut out = Writer::new(w, format, table)?;
    for f in findings {
        out.push(f)?;
    }
    out.finish()
}

/// A timeline written one finding at a time, so that the findings need not all be held: JSONL
/// and CSV rows go out as they come; the table keeps its rows' cells (not the findings) until
/// [`Writer::finish`], since its columns fit the longest cells.
pub struct Writer<W: Write> {
    inner: Inner<W>,
}

enum Inner<W: Write> {
    Jsonl(W, Box<JsonlRows>),
    Csv(Box<csv::Writer<W>>),
    Table {
        w: W,
        opts: TableOptions,
        rows: Vec<(Level, [String; 5])>,
    },
}

impl<W: Write> Writer<W> {
    /// A timeline in `format` to `w` (the CSV header is written here).
    pub fn new(w: W, format: Format, table: &TableOptions) -> io::Result<Self> {
        let inner = match format {
            Format::Jsonl => Inner::Jsonl(w, Box::default()),
            Format::Csv => {
                let mut out = csv::Writer::from_writer(w);
                out.write_record(CSV_HEADER).map_err(io::Error::from)?;
                Inner::Csv(Box::new(out))
            }
            Format::Table => Inner::Table {
                w,
                opts: *table,
                rows: Vec::new(),
            },
        };
        Ok(Writer { inner })
    }

    /// The next finding (the caller hands them over in timeline order).
    pub fn push(&mut self, f: &Finding) -> io::Result<()> {
        match &mut self.inner {
            Inner::Jsonl(w, rows) => w.write_all(rows.line(f).map_err(io::Error::other)?),
            Inner::Csv(out) => csv_row(out, f),
            Inner::Table { rows, .. } => {
                rows.push((f.level, table_cells(f)));
                Ok(())
            }
        }
    }

    /// Write what is left (the table) and flush.
    pub fn finish(self) -> io::Result<()> {
        match self.inner {
            Inner::Jsonl(mut w, _) => w.flush(),
            Inner::Csv(mut out) => out.flush(),
            Inner::Table { w, opts, rows } => table_out(w, &rows, &opts),
        }
    }
}

/// JSONL rows made one at a time: a finding's line is put together in one buffer and written
/// at once (not token by token through the writer), and each rule's metadata, the same in all
/// of its findings and most of a line, is serialized once and copied in.
#[derive(Default)]
struct JsonlRows {
    line: Vec<u8>,
    /// By the rule's address; the `Arc` held keeps that address from being reused.
    rules: HashMap<usize, (Arc<RuleMeta>, Box<[u8]>)>,
}

impl JsonlRows {
    /// The line of `f` (with its newline): exactly what serde makes of a [`Finding`].
    fn line(&mut self, f: &Finding) -> serde_json::Result<&[u8]> {
        let rule = match self.rules.entry(Arc::as_ptr(&f.rule) as usize) {
            Entry::Occupied(e) => &e.into_mut().1,
            Entry::Vacant(e) => {
                let json = serde_json::to_vec(&*f.rule)?.into_boxed_slice();
                &e.insert((Arc::clone(&f.rule), json)).1
            }
        };
        /// `"key":` then the value's JSON (`key` holds the comma before it and the quotes).
        fn put<T: serde::Serialize + ?Sized>(
            line: &mut Vec<u8>,
            key: &[u8],
            value: &T,
        ) -> serde_json::Result<()> {
            line.extend_from_slice(key);
            serde_json::to_writer(line, value)
        }
        let line = &mut self.line;
        line.clear();
        put(line, b"{\"time\":", &f.time)?;
        put(line, b",\"level\":", &f.level)?;
        put(line, b",\"host\":", &f.host)?;
        line.extend_from_slice(b",\"rule\":");
        line.extend_from_slice(rule);
        put(line, b",\"attack\":", &f.attack)?;
        put(line, b",\"source\":", &f.source)?;
        put(line, b",\"details\":", &f.details)?;
        if !f.events.is_empty() {
            put(line, b",\"events\":", &f.events)?;
        }
        line.extend_from_slice(b"}\n");
        Ok(line)
    }
}

/// One finding a line, as serde serializes [`Finding`]: `time`, `level`, `host`, `rule` (`id`,
/// `title`, `author`, `tags`, ...), `attack`, `source` (`path`, `record`, `format`), `details`.
pub fn write_jsonl<W: Write>(w: W, findings: &[Finding]) -> io::Result<()> {
    write(w, findings, Format::Jsonl, &TableOptions::default())
}

/// The columns of the CSV timeline: the finding's fields, then the three Timesketch needs.
pub const CSV_HEADER: [&str; 15] = [
    "time",
    "level",
    "host",
    "rule_id",
    "rule_title",
    "rule_author",
    "attack",
    "tags",
    "source_path",
    "source_record",
    "source_format",
    "details",
    "datetime",
    "timestamp_desc",
    "message",
];

/// What the `timestamp_desc` column says (Timesketch's name for the meaning of the time).
pub const TIMESTAMP_DESC: &str = "Event Time";

/// The separator of multi-valued CSV cells (`attack`, `tags`).
pub const CSV_LIST_SEPARATOR: &str = ";";

/// A CSV timeline with [`CSV_HEADER`]: lists joined with `;`, `details` as compact JSON,
/// `datetime` as RFC 3339 and `message` the rule title with the key details.
pub fn write_csv<W: Write>(w: W, findings: &[Finding]) -> io::Result<()> {
    write(w, findings, Format::Csv, &TableOptions::default())
}

fn csv_row<W: Write>(out: &mut csv::Writer<W>, f: &Finding) -> io::Result<()> {
    let time = f.time.to_rfc3339();
    let details = serde_json::to_string(&f.details).map_err(io::Error::other)?;
    let record = f.source.record.to_string();
    out.write_record([
        time.as_str(),
        f.level.as_str(),
        f.host.as_str(),
        f.rule.id.as_str(),
        f.rule.title.as_str(),
        f.rule.author.as_str(),
        &f.attack.join(CSV_LIST_SEPARATOR),
        &f.rule.tags.join(CSV_LIST_SEPARATOR),
        &f.source.path,
        &record,
        f.source.format.as_str(),
        &details,
        &time,
        TIMESTAMP_DESC,
        &message(f),
    ])
    .map_err(io::Error::from)
}

/// Detail fields worth showing first, most telling first. Matched case-insensitively against
/// the detail's name or the last dotted part of it (`winlog.event_data.CommandLine`).
pub const KEY_DETAILS: &[&str] = &[
    "CommandLine",
    "ScriptBlockText",
    "Payload",
    "ImagePath",
    "ServiceFileName",
    "TaskName",
    "TaskContent",
    "TargetFilename",
    "TargetObject",
    "ImageLoaded",
    "PipeName",
    "QueryName",
    "DestinationHostname",
    "DestinationIp",
    "SourceImage",
    "TargetImage",
    "Image",
    "Details",
    "ServiceName",
    "TargetUserName",
    "IpAddress",
    "ParentImage",
    "message",
    "query",
    "uri",
    "url",
];

fn detail_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(detail_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn detail_name_matches(name: &str, wanted: &str) -> bool {
    name.eq_ignore_ascii_case(wanted)
        || name
            .rsplit_once('.')
            .is_some_and(|(_, last)| last.eq_ignore_ascii_case(wanted))
}

/// Up to `max` key details of a finding (name, value as text), in [`KEY_DETAILS`] order; when
/// none of those is present, the first details in the finding's own order.
pub fn key_details(f: &Finding, max: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for wanted in KEY_DETAILS {
        if out.len() >= max {
            break;
        }
        if let Some((k, v)) = f
            .details
            .iter()
            .find(|(k, v)| detail_name_matches(k, wanted) && !v.is_null())
        {
            let text = detail_text(v);
            if !text.is_empty() && !out.iter().any(|(seen, _)| seen == k) {
                out.push((k.clone(), text));
            }
        }
    }
    if out.is_empty() {
        out.extend(
            f.details
                .iter()
                .filter(|(_, v)| !v.is_null())
                .take(max)
                .map(|(k, v)| (k.clone(), detail_text(v))),
        );
    }
    out
}

/// The one detail that best says what happened (command line, image, ...), if any.
pub fn key_detail(f: &Finding) -> Option<(String, String)> {
    key_details(f, 1).into_iter().next()
}

/// A one-line description: the rule title and up to three key details.
pub fn message(f: &Finding) -> String {
    let mut m = f.rule.title.clone();
    let details = key_details(f, 3);
    if !details.is_empty() {
        m.push_str(" | ");
        let parts: Vec<String> = details.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        m.push_str(&one_line(&parts.join("; ")));
    }
    m
}

/// How the terminal table looks.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions {
    /// Colour rows by level with ANSI escapes.
    pub color: bool,
    /// Width in columns to fit the rows into.
    pub width: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            color: false,
            width: terminal_width(),
        }
    }
}

/// The width of the terminal: `COLUMNS` when set to a number, else 160.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c >= 40)
        .unwrap_or(160)
}

/// The ANSI colour of a level.
pub fn level_color(level: Level) -> &'static str {
    match level {
        Level::Critical => "\x1b[1;35m",
        Level::High => "\x1b[1;31m",
        Level::Medium => "\x1b[33m",
        Level::Low => "\x1b[36m",
        Level::Informational => "\x1b[2m",
    }
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

const TIME_W: usize = 19;
const LEVEL_W: usize = 8;
const GAP: &str = "  ";

fn short_level(l: Level) -> &'static str {
    match l {
        Level::Informational => "info",
        other => other.as_str(),
    }
}

fn short_time(f: &Finding) -> String {
    if f.time.is_unknown() {
        return "-".into();
    }
    let s = f.time.to_rfc3339();
    let s: String = s.chars().take(TIME_W).collect();
    s.replacen('T', " ", 1)
}

/// Control characters (newlines, tabs) become spaces so that one finding stays on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cut `s` to at most `w` characters, marking the cut with `…`.
fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// A table for the terminal: time, level, host, rule title and key detail, one finding a row,
/// fitted to `opts.width` (long cells are cut), coloured by level when `opts.color`.
pub fn write_table<W: Write>(w: W, findings: &[Finding], opts: &TableOptions) -> io::Result<()> {
    write(w, findings, Format::Table, opts)
}

/// A finding's cells in the table: time, level, host, rule title, key detail.
fn table_cells(f: &Finding) -> [String; 5] {
    [
        short_time(f),
        short_level(f.level).to_string(),
        one_line(&f.host),
        one_line(&f.rule.title),
        key_detail(f).map(|(_, v)| one_line(&v)).unwrap_or_default(),
    ]
}

fn table_out<W: Write>(
    mut w: W,
    rows: &[(Level, [String; 5])],
    opts: &TableOptions,
) -> io::Result<()> {
    if rows.is_empty() {
        writeln!(w, "(no findings)")?;
        return w.flush();
    }
    let longest = |i: usize, header: &str| {
        rows.iter()
            .map(|(_, r)| r[i].chars().count())
            .max()
            .unwrap_or(0)
            .max(header.len())
    };
    let host_w = longest(2, "HOST").min(28);
    let fixed = TIME_W + LEVEL_W + host_w + 4 * GAP.len();
    let rest = opts.width.saturating_sub(fixed).max(30);
    let title_max = longest(3, "RULE");
    let detail_max = longest(4, "DETAIL");
    let title_w = if title_max + detail_max <= rest {
        title_max
    } else {
        // Half each, and whatever a short detail column leaves over goes to the title.
        title_max
            .min((rest / 2).max(rest.saturating_sub(detail_max)))
            .max(20.min(rest))
    };
    let detail_w = rest.saturating_sub(title_w).max(10).min(detail_max.max(6));

    let line = |cells: [&str; 5]| -> String {
        let mut s = format!(
            "{:<tw$}{GAP}{:<lw$}{GAP}{:<hw$}{GAP}{:<rw$}{GAP}{}",
            fit(cells[0], TIME_W),
            fit(cells[1], LEVEL_W),
            fit(cells[2], host_w),
            fit(cells[3], title_w),
            fit(cells[4], detail_w),
            tw = TIME_W,
            lw = LEVEL_W,
            hw = host_w,
            rw = title_w,
        );
        s.truncate(s.trim_end().len());
        s
    };

    let header = line(["TIME (UTC)", "LEVEL", "HOST", "RULE", "DETAIL"]);
    if opts.color {
        writeln!(w, "{BOLD}{header}{RESET}")?;
    } else {
        writeln!(w, "{header}")?;
    }
    for (level, r) in rows {
        let text = line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
        if opts.color {
            writeln!(w, "{}{text}{RESET}", level_color(*level))?;
        } else {
            writeln!(w, "{text}")?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests;
