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

use crate::json::{read_failure, read_line_bounded, MAX_LINE};
use crate::netfields::{push_logsource, url_decode};
use crate::{provenance_path, InputFile, ReadError};
use dragnet_event::{Event, Provenance, SourceFormat, Timestamp, Value};
use std::io::BufReader;
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
    let reader = match crate::open_decoded(file) {
        Ok(r) => r,
        Err(e) => {
            on_error(ReadError::new(
                &file.path,
                "file",
                format!("cannot open: {e}"),
            ));
            return 0;
        }
    };
    let prov_path = provenance_path(file);
    let mut reader = BufReader::with_capacity(256 << 10, reader);
    let mut buf = Vec::with_capacity(4096);
    let mut fields: Vec<Box<str>> = Vec::new();
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    let mut headerless_reported = false;
    loop {
        line_no += 1;
        let line = match read_line_bounded(&mut reader, &mut buf) {
            Ok(None) => break,
            Ok(Some(l)) => l,
            Err(e) => {
                on_error(report(line_no, read_failure(&e, file.gzip)));
                break;
            }
        };
        bytes += line.consumed;
        if line.too_long {
            on_error(report(
                line_no,
                format!("line longer than {} MiB, skipped", MAX_LINE >> 20),
            ));
            continue;
        }
        let mut raw: &[u8] = &buf;
        if line_no == 1 {
            raw = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
        }
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            continue;
        }
        if let Some(d) = text.strip_prefix('#') {
            if let Some(list) = d.strip_prefix("Fields:") {
                fields = list.split_whitespace().map(Box::from).collect();
            }
            continue;
        }
        if fields.is_empty() {
            if !headerless_reported {
                on_error(report(line_no, "data line before any #Fields: directive (columns unknown), skipped; later ones too until a header".into()));
                headerless_reported = true;
            }
            continue;
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
            continue;
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
    }
    bytes
}
