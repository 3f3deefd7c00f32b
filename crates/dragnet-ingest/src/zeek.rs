//! Zeek logs -> [`Event`]: TSV (the `#fields`/`#types` header names every column; never read
//! by position) and JSON (one object a line, dotted keys such as `id.orig_h`).
//!
//! TSV: `#separator` (with `\xHH` escapes), `#set_separator`, `#empty_field`, `#unset_field`,
//! `#path`, `#fields` and `#types` are honoured; a file may hold several header blocks (logs
//! concatenated). Values are typed by `#types`: `time`, `interval`, `double` -> Float; `count`,
//! `int`, `port` -> Int; `bool` -> Bool; `set[..]`/`vector[..]` -> List (empty field -> empty
//! list); everything else (addr, string, enum, unknown types) -> Str with Zeek's `\xHH` escapes
//! decoded. Unset fields (`-`) are left out. A line whose column count does not match the
//! header is reported (a truncated last line, typically) and skipped.
//!
//! Both forms give the same event: the native fields, `_path` (from `#path`, the record's own
//! `_path`, the file name such as `conn.18:00:00-19:00:00.log.gz`, or, failing those, the
//! fields the record has), `_product: zeek`, `_service` (`_path` with `open_` removed), and the
//! Sigma taxonomy aliases of `netfields.rs`. `Provenance.record` is the 1-based line.

use crate::json::for_each_line;
use crate::netfields::{alias, pick_network_host, push_logsource, uri_aliases};
use crate::node::Obj;
use crate::{provenance_path, InputFile, ReadError};
use dragnet_event::{Event, Provenance, SourceFormat, Timestamp, Value};
use std::path::Path;
use std::sync::Arc;

/// Log names recognised in file names, longest first where one is a prefix of another.
const KNOWN_PATHS: &[&str] = &[
    "open_conn",
    "open_http",
    "open_ssl",
    "conn_long",
    "conn",
    "dns",
    "http",
    "ssl",
    "files",
    "x509",
    "weird",
    "notice",
    "dhcp",
    "ssh",
    "smtp",
    "smb_files",
    "smb_mapping",
    "dce_rpc",
    "kerberos",
    "ntlm",
    "rdp",
    "software",
    "tunnel",
    "dpd",
    "pe",
    "ntp",
    "sip",
    "snmp",
    "radius",
    "ftp",
    "known_hosts",
    "known_services",
    "known_certs",
];

/// The Zeek log name a file name implies (`conn.18:00:00-19:00:00.log.gz` -> `conn`,
/// `open_conn.log` -> `open_conn`, `ORIGINALdns.log` -> `dns`), if any.
pub(crate) fn path_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let name = name.strip_suffix(".log").unwrap_or(name);
    let stem = name.split('.').next().unwrap_or(name);
    if KNOWN_PATHS.contains(&stem) {
        return Some(stem.to_string());
    }
    for k in KNOWN_PATHS {
        if stem.starts_with(&format!("{k}_")) || stem.starts_with(&format!("{k}-")) {
            return Some((*k).to_string());
        }
    }
    for k in KNOWN_PATHS {
        if k.len() >= 3 && stem.ends_with(k) {
            return Some((*k).to_string());
        }
    }
    None
}

/// The log a record comes from, judged by its fields, when nothing else tells.
fn path_from_fields(ev: &Event) -> &'static str {
    let has = |n: &str| ev.has(n);
    if has("query") && (has("qtype") || has("qtype_name") || has("trans_id")) {
        "dns"
    } else if has("method") || has("status_code") || (has("uri") && has("host")) {
        "http"
    } else if has("server_name") || has("ja3") || (has("cipher") && has("version")) {
        "ssl"
    } else if has("conn_state") || has("orig_bytes") || has("orig_ip_bytes") {
        "conn"
    } else if has("certificate.serial") || has("certificate.subject") {
        "x509"
    } else if has("fuid") && (has("mime_type") || has("analyzers") || has("tx_hosts")) {
        "files"
    } else if has("name") && (has("notice") || has("peer")) {
        "weird"
    } else {
        "unknown"
    }
}

/// `_service` for a `_path`: open connections are the same service as closed ones.
fn service_of(path: &str) -> &str {
    path.strip_prefix("open_").unwrap_or(path)
}

const ENDPOINT_ALIASES: &[(&str, &str)] = &[
    ("src_ip", "id.orig_h"),
    ("src_port", "id.orig_p"),
    ("dst_ip", "id.resp_h"),
    ("dst_port", "id.resp_p"),
];
const DNS_ALIASES: &[(&str, &str)] = &[("record_type", "qtype_name"), ("answer", "answers")];
const HTTP_ALIASES: &[(&str, &str)] = &[
    ("cs-host", "host"),
    ("r-dns", "host"),
    ("cs-method", "method"),
    ("c-useragent", "user_agent"),
    ("cs-referrer", "referrer"),
    ("cs-version", "version"),
    ("sc-status", "status_code"),
    ("cs-bytes", "request_body_len"),
    ("sc-bytes", "response_body_len"),
];

/// The (alias, native) pairs of a service.
fn aliases_of(service: &str) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    let extra: &[(&str, &str)] = match service {
        "dns" => DNS_ALIASES,
        "http" => HTTP_ALIASES,
        _ => &[],
    };
    ENDPOINT_ALIASES.iter().chain(extra.iter())
}

/// After the native fields: `_path`, `_product`, `_service`, the taxonomy aliases (unless
/// `aliased`: the TSV reader adds them from its column plan), the host.
fn finish_event(ev: &mut Event, path_hint: Option<&str>, aliased: bool) {
    let path = match ev.get_text("_path") {
        Some(p) => p.into_owned(),
        None => {
            let p = path_hint
                .unwrap_or_else(|| path_from_fields(ev))
                .to_string();
            ev.push("_path", Value::str(p.as_str()));
            p
        }
    };
    let service = service_of(&path).to_string();
    push_logsource(ev, "zeek", &service);
    if !aliased {
        for (a, n) in aliases_of(&service) {
            alias(ev, a, n);
        }
    }
    if service == "http" {
        uri_aliases(ev, "uri");
    }
    if ev.has("id.orig_h") {
        ev.host = pick_network_host(ev, "id.orig_h", "id.resp_h");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// One Zeek JSON record as an event (`path_hint`: the log name the file name implies).
pub(crate) fn zeek_json_event(
    obj: &Obj<'_>,
    provenance: Provenance,
    path_hint: Option<&str>,
) -> Event {
    let mut ev = Event::new(provenance);
    crate::json::flatten_object(&mut ev, obj);
    ev.time = obj
        .iter()
        .find(|(k, _)| k == "ts")
        .and_then(|(_, v)| crate::json::time_value(v))
        .unwrap_or(Timestamp::UNKNOWN);
    finish_event(&mut ev, path_hint, false);
    ev
}

/// Whether a JSON record looks like a Zeek log record.
pub(crate) fn looks_like_zeek_json(obj: &serde_json::Map<String, serde_json::Value>) -> bool {
    obj.contains_key("ts")
        && (obj.contains_key("uid")
            || obj.contains_key("id.orig_h")
            || obj.contains_key("_path")
            || obj.contains_key("fuid")
            || obj.get("id").is_some_and(|v| v.get("orig_h").is_some()))
}

// ---------------------------------------------------------------------------------------------
// TSV

#[derive(Clone, Debug, PartialEq)]
enum ColType {
    Time,
    Float,
    Int,
    Bool,
    Str,
    /// No `#types` line: numbers are guessed.
    Guess,
    List(Box<ColType>),
}

fn col_type(t: &str) -> ColType {
    let t = t.trim();
    if let Some(inner) = t
        .strip_prefix("set[")
        .or_else(|| t.strip_prefix("vector["))
        .and_then(|r| r.strip_suffix(']'))
    {
        return ColType::List(Box::new(col_type(inner)));
    }
    match t {
        "time" => ColType::Time,
        "interval" | "double" => ColType::Float,
        "count" | "int" | "port" | "counter" => ColType::Int,
        "bool" => ColType::Bool,
        _ => ColType::Str,
    }
}

struct Header {
    sep: String,
    set_sep: String,
    empty: String,
    unset: String,
    path: Option<String>,
    fields: Vec<Box<str>>,
    types: Vec<ColType>,
    /// Index of `ts` in `fields`.
    ts: Option<usize>,
    /// Taxonomy aliases to add: (alias, column).
    plan: Vec<(Box<str>, usize)>,
    /// `sep` as a char when it is one.
    sep_char: Option<char>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            sep: "\t".into(),
            set_sep: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
            ts: None,
            plan: Vec::new(),
            sep_char: Some('\t'),
        }
    }
}

/// Decode Zeek's `\xHH` escapes.
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("\\x") {
        return std::borrow::Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let (Some(h), Some(l)) = (
                b.get(i + 2).and_then(|c| hexval(*c)),
                b.get(i + 3).and_then(|c| hexval(*c)),
            ) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Exact epoch nanoseconds from Zeek's `1517336042.090842`.
pub(crate) fn epoch_text_to_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let (secs, frac) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    let neg = secs.starts_with('-');
    let secs: i64 = secs.parse().ok()?;
    if frac.len() > 18 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i64 = 0;
    for (i, d) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(d - b'0') * 10i64.pow(8 - i as u32);
    }
    let total = secs.checked_mul(1_000_000_000)?;
    Some(Timestamp::from_nanos(if neg {
        total - nanos
    } else {
        total + nanos
    }))
}

fn convert(raw: &str, ty: &ColType, h: &Header) -> Option<Value> {
    if raw == h.unset {
        return None;
    }
    if let ColType::List(inner) = ty {
        if raw == h.empty {
            return Some(Value::List(Vec::new()));
        }
        let items = raw
            .split(h.set_sep.as_str())
            .map(|x| {
                if x == h.unset {
                    Value::Null
                } else {
                    scalar(x, inner)
                }
            })
            .collect();
        return Some(Value::List(items));
    }
    if raw == h.empty {
        return Some(Value::str(""));
    }
    Some(scalar(raw, ty))
}

fn scalar(raw: &str, ty: &ColType) -> Value {
    match ty {
        ColType::Time | ColType::Float => match raw.parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => Value::str(unescape(raw)),
        },
        ColType::Int => match raw.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => match raw.parse::<f64>() {
                Ok(f) if f.is_finite() => Value::Float(f),
                _ => Value::str(unescape(raw)),
            },
        },
        ColType::Bool => match raw {
            "T" | "true" => Value::Bool(true),
            "F" | "false" => Value::Bool(false),
            other => Value::str(other),
        },
        ColType::Guess => {
            if let Ok(i) = raw.parse::<i64>() {
                Value::Int(i)
            } else if raw.contains('.') && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                raw.parse::<f64>()
                    .map(Value::Float)
                    .unwrap_or_else(|_| Value::str(raw))
            } else {
                Value::str(unescape(raw))
            }
        }
        ColType::Str | ColType::List(_) => Value::str(unescape(raw)),
    }
}

/// Read a Zeek TSV log; returns the bytes read (decompressed).
pub(crate) fn read_zeek_tsv(
    file: &InputFile,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let report =
        |line: u64, reason: String| ReadError::new(&file.path, format!("line {line}"), reason);
    let prov_path = provenance_path(file);
    let name_hint = path_from_file_name(&file.path);
    let mut h = Header::default();
    let mut headerless_reported = false;
    for_each_line(file, on_error, |line_no, line, on_error| {
        let mut raw: &[u8] = line;
        if raw.last() == Some(&b'\r') {
            raw = &raw[..raw.len() - 1];
        }
        if raw.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(raw);
        if let Some(directive) = text.strip_prefix('#') {
            header_line(&mut h, directive);
            return;
        }
        if h.fields.is_empty() {
            if !headerless_reported {
                on_error(report(line_no, "data line before any #fields header (columns unknown), skipped; later ones too until a header".into()));
                headerless_reported = true;
            }
            return;
        }
        let cols: Vec<&str> = match h.sep_char {
            Some(c) => text.split(c).collect(),
            None => text.split(h.sep.as_str()).collect(),
        };
        if cols.len() != h.fields.len() {
            on_error(report(
                line_no,
                format!(
                    "{} columns where #fields names {} (truncated or damaged line), skipped",
                    cols.len(),
                    h.fields.len()
                ),
            ));
            return;
        }
        let mut ev = Event::new(Provenance {
            path: Arc::clone(&prov_path),
            record: line_no,
            format: SourceFormat::ZeekTsv,
        });
        let hint = h.path.as_deref().or(name_hint.as_deref());
        if h.plan.is_empty() && !h.fields.is_empty() {
            let service = service_of(hint.unwrap_or("unknown"));
            for (a, n) in aliases_of(service) {
                if let Some(i) = h.fields.iter().position(|f| &**f == *n) {
                    if !h.fields.iter().any(|f| &**f == *a) {
                        h.plan.push((Box::from(*a), i));
                    }
                }
            }
            if h.plan.is_empty() {
                h.plan.push((Box::from(""), usize::MAX));
            }
        }
        let mut aliases: Vec<(Box<str>, Value)> = Vec::with_capacity(h.plan.len());
        for (i, raw) in cols.iter().enumerate() {
            let ty = h.types.get(i).unwrap_or(&ColType::Guess);
            if let Some(v) = convert(raw, ty, &h) {
                for (a, col) in &h.plan {
                    if *col == i {
                        aliases.push((a.clone(), v.clone()));
                    }
                }
                ev.push(h.fields[i].clone(), v);
            }
        }
        for (a, v) in aliases {
            ev.push(a, v);
        }
        if let Some(i) = h.ts {
            if let Some(t) = epoch_text_to_time(cols[i]) {
                ev.time = t;
            }
        }
        if let Some(p) = hint {
            ev.push("_path", Value::str(p));
        }
        finish_event(&mut ev, None, true);
        sink(ev);
    })
}

/// One `#...` line (without the `#`).
fn header_line(h: &mut Header, directive: &str) {
    if let Some(v) = directive.strip_prefix("separator") {
        // A new header block.
        *h = Header::default();
        let v = v.trim_start_matches([' ', '\t']);
        let sep = unescape(v).into_owned();
        if !sep.is_empty() {
            let mut chars = sep.chars();
            h.sep_char = match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            };
            h.sep = sep;
        }
        return;
    }
    let (name, value) = match directive.split_once(h.sep.as_str()) {
        Some((n, v)) => (n, v),
        None => match directive.split_once(' ') {
            Some((n, v)) => (n, v),
            None => (directive, ""),
        },
    };
    match name {
        "set_separator" => h.set_sep = unescape(value).into_owned(),
        "empty_field" => h.empty = unescape(value).into_owned(),
        "unset_field" => h.unset = unescape(value).into_owned(),
        "path" => h.path = Some(value.trim().to_string()),
        "fields" => {
            h.fields = value
                .split(h.sep.as_str())
                .map(|f| Box::from(f.trim()))
                .collect();
            h.plan.clear();
            h.ts = h.fields.iter().position(|f| &**f == "ts");
            if h.types.len() != h.fields.len() {
                h.types = vec![ColType::Guess; h.fields.len()];
                if let Some(i) = h.ts {
                    h.types[i] = ColType::Time;
                }
            }
        }
        "types" => h.types = value.split(h.sep.as_str()).map(col_type).collect(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_the_log() {
        let p = |s: &str| path_from_file_name(Path::new(s));
        assert_eq!(p("conn.18:00:00-19:00:00.log.gz").as_deref(), Some("conn"));
        assert_eq!(
            p("open_conn.17_32_32-18_00_00.log.gz").as_deref(),
            Some("open_conn")
        );
        assert_eq!(p("ORIGINALdns.log").as_deref(), Some("dns"));
        assert_eq!(p("conn_json.log").as_deref(), Some("conn"));
        assert_eq!(p("http.log").as_deref(), Some("http"));
        assert_eq!(p("evidence.json"), None);
    }

    #[test]
    fn epoch_text_is_exact() {
        let t = epoch_text_to_time("1517336042.090842").unwrap();
        assert_eq!(t.nanos(), 1_517_336_042_090_842_000);
        assert_eq!(epoch_text_to_time("12").unwrap().nanos(), 12_000_000_000);
        assert!(epoch_text_to_time("x").is_none());
    }

    #[test]
    fn escapes_and_types() {
        assert_eq!(unescape("a\\x09b\\x5c"), "a\tb\\");
        assert_eq!(unescape("trail\\x"), "trail\\x");
        assert_eq!(
            col_type("set[string]"),
            ColType::List(Box::new(ColType::Str))
        );
        assert_eq!(
            col_type("vector[interval]"),
            ColType::List(Box::new(ColType::Float))
        );
        let h = Header::default();
        assert_eq!(convert("-", &ColType::Int, &h), None);
        assert_eq!(
            convert("(empty)", &col_type("set[string]"), &h),
            Some(Value::List(vec![]))
        );
        assert_eq!(
            convert("a,b", &col_type("set[string]"), &h),
            Some(Value::List(vec![Value::str("a"), Value::str("b")]))
        );
        assert_eq!(convert("42", &ColType::Int, &h), Some(Value::Int(42)));
        assert_eq!(convert("T", &ColType::Bool, &h), Some(Value::Bool(true)));
        assert_eq!(convert("0.5", &ColType::Float, &h), Some(Value::Float(0.5)));
    }
}
