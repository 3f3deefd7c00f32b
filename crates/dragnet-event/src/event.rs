//! The normalized event: time, host, provenance and a flat list of named fields.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Where a record came from, precisely enough to find it again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The file as given on the command line or found while walking a directory.
    pub path: Arc<str>,
    /// EVTX `EventRecordID`, or the 1-based line (JSONL, Zeek, IIS), or the 1-based index of
    /// the element (JSON arrays), or the 1-based message (MBOX).
    pub record: u64,
    pub format: SourceFormat,
}

/// The on-disk format a record was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// Windows XML event log (binary).
    Evtx,
    /// One JSON object a line.
    Jsonl,
    /// A JSON document holding an array of records (or a single object).
    JsonArray,
    /// Zeek TSV logs (`#fields` header).
    ZeekTsv,
    /// Suricata EVE JSON.
    SuricataEve,
    /// IIS W3C extended logs.
    IisW3c,
    /// RFC 5322 message files.
    Eml,
    /// Mailboxes of messages.
    Mbox,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Evtx => "evtx",
            SourceFormat::Jsonl => "jsonl",
            SourceFormat::JsonArray => "json-array",
            SourceFormat::ZeekTsv => "zeek-tsv",
            SourceFormat::SuricataEve => "suricata-eve",
            SourceFormat::IisW3c => "iis-w3c",
            SourceFormat::Eml => "eml",
            SourceFormat::Mbox => "mbox",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field value. Nested objects are flattened into dotted field names by the readers, so a
/// value is a scalar or a list of values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    List(Vec<Value>),
}

impl Value {
    pub fn str(s: impl Into<Box<str>>) -> Value {
        Value::Str(s.into())
    }

    /// The value as text, the way Sigma compares it: numbers and booleans in their usual
    /// decimal/`true`/`false` spelling; `None` for null and lists.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(format_float(*f))),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Null | Value::List(_) => None,
        }
    }

    /// The value as a number, parsing text that holds one (decimal, or `0x` hex).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => parse_number(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Str(s) => {
                let s = s.trim();
                if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok()
                } else {
                    s.parse().ok()
                }
            }
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Convert a JSON scalar or array (objects become their JSON text).
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => match n.as_u64() {
                    Some(u) => Value::Float(u as f64),
                    None => Value::Float(n.as_f64().unwrap_or(0.0)),
                },
            },
            serde_json::Value::String(s) => Value::Str(s.as_str().into()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(_) => Value::Str(v.to_string().into()),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
        }
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    s.parse().ok()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::List(l) => {
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            other => f.write_str(&other.as_text().unwrap_or_default()),
        }
    }
}

/// One record from any source, normalized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (UTC); [`Timestamp::UNKNOWN`] when the record has no time.
    pub time: Timestamp,
    /// The host it happened on (EVTX `Computer`, ECS `host.name`, Zeek sensor...); may be empty.
    pub host: Box<str>,
    pub provenance: Provenance,
    fields: Vec<(Box<str>, Value)>,
}

impl Event {
    pub fn new(provenance: Provenance) -> Self {
        Event {
            time: Timestamp::UNKNOWN,
            host: "".into(),
            provenance,
            // Most records have fewer fields; 24 fields (960 bytes) stay in the allocator's
            // small-request range, where a bigger request (32 fields made 1,280 bytes) first
            // consolidates every small block freed since: a few percent of the parse.
            fields: Vec::with_capacity(24),
        }
    }

    /// Look a field up by name. Names compare ASCII-case-insensitively, so `commandline`
    /// finds `CommandLine`; the first field of that name wins.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        let n = name.as_bytes();
        self.fields
            .iter()
            // Names are mostly spelled alike: a plain comparison before the caseless one.
            .find(|(k, _)| {
                k.len() == n.len() && (k.as_bytes() == n || k.as_bytes().eq_ignore_ascii_case(n))
            })
            .map(|(_, v)| v)
    }

    /// The field as text (see [`Value::as_text`]).
    pub fn get_text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).and_then(Value::as_text)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Append a field without checking for an existing one of the same name. Readers use this
    /// for names they know to be new.
    #[inline]
    pub fn push(&mut self, name: impl Into<Box<str>>, value: Value) {
        self.fields.push((name.into(), value));
    }

    /// Set a field, replacing any existing field of that (case-insensitive) name.
    pub fn set(&mut self, name: &str, value: Value) {
        let n = name.as_bytes();
        if let Some(slot) = self
            .fields
            .iter_mut()
            .find(|(k, _)| k.as_bytes().eq_ignore_ascii_case(n))
        {
            slot.1 = value;
        } else {
            self.fields.push((name.into(), value));
        }
    }

    /// Add a field only when no field of that name exists yet (aliases).
    pub fn set_if_absent(&mut self, name: &str, value: Value) {
        if !self.has(name) {
            self.fields.push((name.into(), value));
        }
    }

    /// Remove a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let n = name.as_bytes();
        let i = self
            .fields
            .iter()
            .position(|(k, _)| k.as_bytes().eq_ignore_ascii_case(n))?;
        Some(self.fields.remove(i).1)
    }

    /// All fields in the order the reader produced them.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The Windows event id, when the event has one.
    pub fn event_id(&self) -> Option<i64> {
        self.get("EventID").and_then(Value::as_i64)
    }

    /// The Windows channel, when the event has one.
    pub fn channel(&self) -> Option<&str> {
        match self.get("Channel") {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The fields as one JSON object (for output and debugging).
    pub fn fields_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_json()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event's first field buffer stays below the allocator's large-request size (1,008
    /// bytes usable on 64-bit glibc), as `Event::new` intends.
    #[test]
    fn the_first_field_buffer_is_a_small_allocation() {
        let e = Event::new(Provenance {
            path: "t".into(),
            record: 1,
            format: SourceFormat::Jsonl,
        });
        let bytes = e.fields.capacity() * std::mem::size_of::<(Box<str>, Value)>();
        assert!(bytes <= 1008, "{bytes} bytes");
        assert!(e.fields.capacity() >= 16);
    }

    fn ev() -> Event {
        Event::new(Provenance {
            path: "x.evtx".into(),
            record: 1,
            format: SourceFormat::Evtx,
        })
    }

    #[test]
    fn lookup_is_case_insensitive_and_first_wins() {
        let mut e = ev();
        e.push("CommandLine", Value::str("cmd /c whoami"));
        e.push("commandline", Value::str("second"));
        assert_eq!(e.get_text("COMMANDLINE").unwrap(), "cmd /c whoami");
        assert!(e.get("Image").is_none());
        e.set("commandLINE", Value::str("replaced"));
        assert_eq!(e.get_text("CommandLine").unwrap(), "replaced");
        e.set_if_absent("CommandLine", Value::str("ignored"));
        assert_eq!(e.get_text("CommandLine").unwrap(), "replaced");
        assert_eq!(e.remove("commandline"), Some(Value::str("replaced")));
        assert_eq!(e.get_text("CommandLine").unwrap(), "second");
    }

    #[test]
    fn numbers_as_text_and_text_as_numbers() {
        assert_eq!(Value::Int(4688).as_text().unwrap(), "4688");
        assert_eq!(Value::Float(3.0).as_text().unwrap(), "3");
        assert_eq!(Value::str("0x1410").as_i64(), Some(0x1410));
        assert_eq!(Value::str(" 42 ").as_f64(), Some(42.0));
        assert_eq!(Value::str("abc").as_f64(), None);
        assert_eq!(Value::Null.as_text(), None);
    }

    #[test]
    fn event_serializes_and_back() {
        let mut e = ev();
        e.time = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        e.host = "WS-17".into();
        e.push("EventID", Value::Int(1));
        e.push("Tags", Value::List(vec![Value::str("a"), Value::Null]));
        let j = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&j).unwrap();
        assert_eq!(back, e);
    }
}
