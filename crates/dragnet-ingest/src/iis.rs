//! IIS (W3C extended) logs -> [`Event`].
//!
//! Columns come from the `#Fields:` directive; a file may hold several header blocks (IIS
//! writes a new one on every restart, and fields may change between them). Values are
//! space-separated; `-` is an empty value and is left out. Field names are kept as IIS writes
//! them (`cs-uri-stem`, `cs(User-Agent)`), plus the Sigma `webserver` names for the header
//! fields (`cs-user-agent`, `cs-referer`, `cs-cookie`, `cs-host`), with IIS's `+` for space
//! turned back into spaces there. `cs-uri-stem` and `cs-uri-query` stay as logged (URL-encoded,
//! as rules for encoded attacks expect); when decoding changes them, `cs-uri-stem-decoded` and
//! `cs-uri-query-decoded` hold the decoded text. `date` + `time` (UTC, as IIS writes W3C logs)
//! give the event time; the host is `s-computername`, else `s-sitename`'s server `s-ip`.
//! `_product: iis`, `_service: webserver`.

use crate::json::for_each_line;
use crate::netfields::{push_logsource, url_decode};
use crate::{provenance_path, InputFile, ReadError};
use dragnet_event::{Event, Provenance, SourceFormat, Timestamp, Value};
use std::sync::Arc;

/// Fields whose values are numbers.
const NUMERIC: &[&str] = &[
    "s-port",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
    "sc-bytes",
    "cs-bytes",
];

/// `cs(User-Agent)` -> the Sigma name.
fn header_alias(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "cs(user-agent)" => Some("cs-user-agent"),
        "cs(referer)" | "cs(referrer)" => Some("cs-referer"),
        "cs(cookie)" => Some("cs-cookie"),
        "cs(host)" => Some("cs-host"),
        "cs(x-forwarded-for)" => Some("x-forwarded-for"),
        _ => None,
    }
}

/// Read an IIS W3C log; returns the bytes read (decompressed).
pub(crate) fn read_iis(
    file: &InputFile,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let report =
        |line: u64, reason: String| ReadError::new(&file.path, format!("line {line}"), reason);
    let prov_path = provenance_path(file);
    let mut fields: Vec<Box<str>> = Vec::new();
    let mut headerless_reported = false;
    for_each_line(file, on_error, |line_no, line, on_error| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            return;
        }
        if let Some(d) = text.strip_prefix('#') {
            if let Some(list) = d.strip_prefix("Fields:") {
                fields = list.split_whitespace().map(Box::from).collect();
            }
            return;
        }
        if fields.is_empty() {
            if !headerless_reported {
                on_error(report(line_no, "data line before any #Fields: directive (columns unknown), skipped; later ones too until a header".into()));
                headerless_reported = true;
            }
            return;
        }
        let cols: Vec<&str> = text.split(' ').collect();
        if cols.len() != fields.len() {
            on_error(report(
                line_no,
                format!(
                    "{} values where #Fields: names {} (truncated or damaged line), skipped",
                    cols.len(),
                    fields.len()
                ),
            ));
            return;
        }
        let mut ev = Event::new(Provenance {
            path: Arc::clone(&prov_path),
            record: line_no,
            format: SourceFormat::IisW3c,
        });
        let mut date = None;
        let mut time = None;
        for (name, raw) in fields.iter().zip(cols.iter()) {
            match &**name {
                "date" => date = Some(*raw),
                "time" => time = Some(*raw),
                _ => {}
            }
            if *raw == "-" {
                continue;
            }
            let value = if NUMERIC.contains(&&**name) {
                raw.parse::<i64>()
                    .map(Value::Int)
                    .unwrap_or_else(|_| Value::str(*raw))
            } else {
                Value::str(*raw)
            };
            ev.push(name.clone(), value);
        }
        // The header fields under their Sigma names, `+` back to spaces.
        for (name, raw) in fields.iter().zip(cols.iter()) {
            if *raw == "-" {
                continue;
            }
            if let Some(a) = header_alias(name) {
                let v = raw.replace('+', " ");
                ev.set_if_absent(a, Value::str(v));
            }
        }
        for (native, decoded) in [
            ("cs-uri-stem", "cs-uri-stem-decoded"),
            ("cs-uri-query", "cs-uri-query-decoded"),
        ] {
            if let Some(v) = ev.get_text(native).and_then(|s| url_decode(&s, true)) {
                ev.push(decoded, Value::str(v));
            }
        }
        if let (Some(d), Some(t)) = (date, time) {
            if let Some(ts) = Timestamp::parse(&format!("{d}T{t}Z")) {
                ev.time = ts;
            }
        }
        push_logsource(&mut ev, "iis", "webserver");
        ev.host = ev
            .get_text("s-computername")
            .or_else(|| ev.get_text("s-ip"))
            .map(|s| s.into_owned())
            .unwrap_or_default()
            .into_boxed_str();
        sink(ev);
    })
}
