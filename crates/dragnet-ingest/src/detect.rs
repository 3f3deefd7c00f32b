//! Format detection from a file's content (not its name).
//!
//! - `ElfFile\0` at offset 0: EVTX.
//! - gzip magic `1f 8b`: look at the start of the decompressed stream, same rules.
//! - first non-space byte `[`: a JSON document (array).
//! - first non-space byte `{`: JSON lines when the first line is a complete JSON object (or,
//!   when it is not, the second non-empty line is), else a JSON document (one pretty-printed
//!   object, or several one after another).
//! - JSON (either kind) whose first records are Microsoft 365 unified audit records
//!   (`CreationTime`, `Operation`, `Workload`/`RecordType`): the audit log.
//! - a mailbox (`From ` first line) or a message (header fields, two well-known ones among
//!   them): MBOX or EML (`dragnet_mail::detect_mail`).
//! - anything else (empty, binary, other text): not ours, with a reason.

use crate::InputFormat;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How much of a file (after decompression) detection looks at first...
const SNIFF_BYTES: usize = 64 << 10;
/// ... and at most, when a JSON file's first lines are longer than that.
const SNIFF_MORE_BYTES: usize = 1 << 20;

pub(crate) const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What the content of a file says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Known {
        format: InputFormat,
        gzip: bool,
    },
    Unknown(String),
    /// JSON starting with `{` whose first lines do not end within the bytes looked at.
    NeedMore,
}

/// Tell a file's format from its content: `Ok(Some((format, gzip)))`, or `Ok(None)` for a file
/// dragnet does not read (empty, binary, other text). Errors are I/O errors opening or reading
/// the file.
pub fn detect_format(path: &Path) -> io::Result<Option<(InputFormat, bool)>> {
    Ok(match sniff_path(path)? {
        Sniffed::Known { format, gzip } => Some((format, gzip)),
        Sniffed::Unknown(_) | Sniffed::NeedMore => None,
    })
}

pub(crate) fn sniff_path(path: &Path) -> io::Result<Sniffed> {
    match sniff_path_within(path, SNIFF_BYTES)? {
        Sniffed::NeedMore => match sniff_path_within(path, SNIFF_MORE_BYTES)? {
            // The first line does not even end within a megabyte: one huge object, read as a
            // document (which also reads objects one after another).
            Sniffed::NeedMore => Ok(Sniffed::Known {
                format: InputFormat::JsonArray,
                gzip: is_gzip(path)?,
            }),
            other => Ok(other),
        },
        other => Ok(other),
    }
}

fn is_gzip(path: &Path) -> io::Result<bool> {
    let mut magic = Vec::with_capacity(2);
    File::open(path)?.take(2).read_to_end(&mut magic)?;
    Ok(magic == GZIP_MAGIC)
}

fn sniff_path_within(path: &Path, limit: usize) -> io::Result<Sniffed> {
    let file = File::open(path)?;
    let mut head = Vec::with_capacity(limit.min(SNIFF_BYTES));
    file.take(limit as u64).read_to_end(&mut head)?;
    if head.starts_with(&GZIP_MAGIC) {
        let mut inner = Vec::with_capacity(limit.min(SNIFF_BYTES));
        let mut decoder = MultiGzDecoder::new(File::open(path)?).take(limit as u64);
        // A damaged stream still tells us what it holds by what it gave before the damage.
        let read_err = read_to_end_lossy(&mut decoder, &mut inner);
        if inner.is_empty() {
            return Ok(Sniffed::Unknown(match read_err {
                Some(e) => format!("gzip file that does not decompress: {e}"),
                None => "gzip file holding nothing".to_string(),
            }));
        }
        // A stream damaged within the bytes looked at is as whole as it will get.
        let whole = inner.len() < limit || read_err.is_some();
        return Ok(match sniff_bytes(&inner, whole) {
            Sniffed::Known { format, .. } => Sniffed::Known { format, gzip: true },
            Sniffed::Unknown(reason) => Sniffed::Unknown(format!("gzip file: {reason}")),
            Sniffed::NeedMore => Sniffed::NeedMore,
        });
    }
    let whole = head.len() < limit;
    Ok(sniff_bytes(&head, whole))
}

/// Read until EOF or the first error; returns the error, keeping what was read before it.
fn read_to_end_lossy(r: &mut impl Read, out: &mut Vec<u8>) -> Option<io::Error> {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Some(e),
        }
    }
}

/// Decide from the first bytes of a (decompressed) file. `whole`: `head` is the entire file.
pub(crate) fn sniff_bytes(head: &[u8], whole: bool) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Unknown("empty file".to_string());
    }
    if head.starts_with(EVTX_MAGIC) {
        return Sniffed::Known {
            format: InputFormat::Evtx,
            gzip: false,
        };
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Sniffed::Unknown(
            "UTF-16 text (convert it to UTF-8 to read it as JSON)".to_string(),
        );
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Sniffed::Unknown("only whitespace".to_string());
    };
    let body = &text[start..];
    if matches!(body[0], b'{' | b'[') && dragnet_mail::m365::looks_like_audit(body) {
        return Sniffed::Known {
            format: InputFormat::M365Audit,
            gzip: false,
        };
    }
    match body[0] {
        b'[' => Sniffed::Known {
            format: InputFormat::JsonArray,
            gzip: false,
        },
        b'{' => match looks_like_json_lines(body, whole) {
            Some(true) => Sniffed::Known {
                format: classify_json_lines(body),
                gzip: false,
            },
            Some(false) => Sniffed::Known {
                format: InputFormat::JsonArray,
                gzip: false,
            },
            None => Sniffed::NeedMore,
        },
        b'#' => match w3c_or_zeek(body) {
            Some(format) => Sniffed::Known {
                format,
                gzip: false,
            },
            None => Sniffed::Unknown(describe_other(head)),
        },
        b'0'..=b'9' if looks_like_headerless_zeek(body) => Sniffed::Unknown(
            "tab-separated lines starting with epoch times but no #fields header (a Zeek log \
             whose header is missing: its columns cannot be told)"
                .to_string(),
        ),
        _ => match dragnet_mail::detect_mail(text) {
            Some(dragnet_mail::MailFormat::Mbox) => Sniffed::Known {
                format: InputFormat::Mbox,
                gzip: false,
            },
            Some(dragnet_mail::MailFormat::Eml) => Sniffed::Known {
                format: InputFormat::Eml,
                gzip: false,
            },
            None => Sniffed::Unknown(describe_other(head)),
        },
    }
}

/// A text starting with `#`: Zeek's TSV header (`#separator`, `#fields`...) or a W3C extended
/// log's directives (`#Software:`, `#Version:`, `#Fields:`...).
fn w3c_or_zeek(body: &[u8]) -> Option<InputFormat> {
    let first = body.split(|&b| b == b'\n').next().unwrap_or(body);
    const ZEEK: &[&[u8]] = &[
        b"#separator",
        b"#set_separator",
        b"#empty_field",
        b"#unset_field",
        b"#path",
        b"#fields",
    ];
    const W3C: &[&[u8]] = &[
        b"#Software:",
        b"#Version:",
        b"#Fields:",
        b"#Date:",
        b"#Remark:",
    ];
    if ZEEK.iter().any(|p| first.starts_with(p)) {
        Some(InputFormat::ZeekTsv)
    } else if W3C.iter().any(|p| first.starts_with(p)) {
        Some(InputFormat::IisW3c)
    } else {
        None
    }
}

fn looks_like_headerless_zeek(body: &[u8]) -> bool {
    let first = body.split(|&b| b == b'\n').next().unwrap_or(body);
    let Some(tab) = first.iter().position(|&b| b == b'\t') else {
        return false;
    };
    let ts = &first[..tab];
    ts.len() >= 9
        && ts.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && first.iter().filter(|&&b| b == b'\t').count() >= 3
}

/// JSON lines: Zeek JSON and Suricata EVE are told from the first record that parses.
fn classify_json_lines(body: &[u8]) -> InputFormat {
    for line in body.split(|&b| b == b'\n').take(4) {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Ok(serde_json::Value::Object(obj)) =
            serde_json::from_slice::<serde_json::Value>(line)
        {
            if crate::suricata::looks_like_eve(&obj) {
                return InputFormat::SuricataEve;
            }
            if crate::zeek::looks_like_zeek_json(&obj) {
                return InputFormat::ZeekJson;
            }
            return InputFormat::Jsonl;
        }
    }
    InputFormat::Jsonl
}

/// `body` starts with `{`. JSON lines when its first line is a complete JSON object; also when
/// it is not but the next non-empty line is (a JSON lines file with a damaged first line).
/// `None` when the lines that would tell do not end within `body`.
fn looks_like_json_lines(body: &[u8], whole: bool) -> Option<bool> {
    let mut lines = body.split(|&b| b == b'\n');
    let mut complete_lines = Vec::with_capacity(2);
    // Lines the sniffed bytes hold in full (the last one only when we saw the whole file).
    let mut seen = 0usize;
    for line in lines.by_ref() {
        seen += line.len() + 1;
        let in_full = seen <= body.len() || whole;
        if !in_full {
            break;
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        complete_lines.push(line);
        if complete_lines.len() == 2 {
            break;
        }
    }
    match complete_lines.as_slice() {
        [] if whole => Some(false),
        [] => None,
        [first, rest @ ..] => {
            if is_json_object(first) {
                return Some(true);
            }
            match rest.first() {
                Some(second) => Some(
                    second.first() == Some(&b'{')
                        && second.last() == Some(&b'}')
                        && is_json_object(second),
                ),
                None if whole => Some(false),
                None => None,
            }
        }
    }
}

fn is_json_object(line: &[u8]) -> bool {
    line.first() == Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
}

/// A short description of content that is none of ours.
fn describe_other(head: &[u8]) -> String {
    let sample = &head[..head.len().min(4096)];
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    let kind = if sample.contains(&0) || control * 10 > sample.len() {
        "binary content"
    } else if std::str::from_utf8(sample).is_err_and(|e| e.valid_up_to() + 4 < sample.len()) {
        "text (not UTF-8)"
    } else {
        "text"
    };
    let preview: String = head
        .iter()
        .take(16)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    format!("{kind}, not EVTX, JSON, Zeek, W3C/IIS or mail (starts with \"{preview}\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(head: &[u8]) -> Option<InputFormat> {
        match sniff_bytes(head, true) {
            Sniffed::Known { format, .. } => Some(format),
            Sniffed::Unknown(_) | Sniffed::NeedMore => None,
        }
    }

    #[test]
    fn formats_from_first_bytes() {
        assert_eq!(fmt(b"ElfFile\0rest"), Some(InputFormat::Evtx));
        assert_eq!(fmt(b"  [ {\"a\": 1} ]"), Some(InputFormat::JsonArray));
        assert_eq!(fmt(b"{\"a\": 1}\n{\"a\": 2}\n"), Some(InputFormat::Jsonl));
        assert_eq!(fmt(b"\xef\xbb\xbf{\"a\": 1}\r\n"), Some(InputFormat::Jsonl));
        assert_eq!(fmt(b"{\n  \"a\": 1\n}\n"), Some(InputFormat::JsonArray));
        assert_eq!(fmt(b"{\"a\": 1}{\"a\": 2}"), Some(InputFormat::JsonArray));
        assert_eq!(fmt(b"{\"a\": 1}"), Some(InputFormat::Jsonl));
        // A damaged first line does not make a JSON lines file a document.
        assert_eq!(fmt(b"{\"a\": \n{\"a\": 2}\n"), Some(InputFormat::Jsonl));
        assert_eq!(fmt(b""), None);
        assert_eq!(fmt(b" \n\t"), None);
        assert_eq!(fmt(b"\x00\x01\x02garbage"), None);
        assert_eq!(fmt(b"#fields\tts\tuid\n"), Some(InputFormat::ZeekTsv));
        assert_eq!(
            fmt(b"#separator \\x09\n#fields\tts\n"),
            Some(InputFormat::ZeekTsv)
        );
        assert_eq!(
            fmt(b"#Software: Microsoft Internet Information Services 10.0\n#Fields: date time\n"),
            Some(InputFormat::IisW3c)
        );
        assert_eq!(fmt(b"#!/bin/sh\n"), None);
        assert_eq!(fmt(b"1517336042.090842\tCi85\t10.0.0.1\t1\n"), None);
        assert_eq!(
            fmt(b"{\"ts\":1.5,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\"}\n"),
            Some(InputFormat::ZeekJson)
        );
        assert_eq!(
            fmt(b"{\"timestamp\":\"2021-06-06T15:59:46+0200\",\"event_type\":\"alert\"}\n"),
            Some(InputFormat::SuricataEve)
        );
        assert_eq!(fmt(b"\xff\xfe{\x00"), None);
        assert_eq!(
            fmt(b"From a@b.example Mon Jan  1 00:00:00 2024\nFrom: a@b.example\n\nhi\n"),
            Some(InputFormat::Mbox)
        );
        assert_eq!(
            fmt(b"Received: from x\r\nFrom: a@b.example\r\nSubject: s\r\n\r\nbody"),
            Some(InputFormat::Eml)
        );
        assert_eq!(
            fmt(b"{\"CreationTime\":\"2026-03-02T07:00:00\",\"Operation\":\"Create\",\"Workload\":\"Exchange\"}\n"),
            Some(InputFormat::M365Audit)
        );
        assert_eq!(
            fmt(b"[{\"CreationTime\":\"2026-03-02T07:00:00\",\"Operation\":\"Create\",\"RecordType\":2}]"),
            Some(InputFormat::M365Audit)
        );
    }

    #[test]
    fn unfinished_first_lines_need_more_bytes() {
        assert_eq!(sniff_bytes(b"{\"a\": \"xxxxxxxx", false), Sniffed::NeedMore);
        assert_eq!(
            sniff_bytes(b"{\n  \"a\": \"xxxxxxxx", false),
            Sniffed::NeedMore
        );
        assert_eq!(
            sniff_bytes(b"{\n  \"a\": 1,\n", false),
            Sniffed::Known {
                format: InputFormat::JsonArray,
                gzip: false
            }
        );
    }

    #[test]
    fn long_first_lines_are_looked_at_further() {
        let dir =
            std::env::temp_dir().join(format!("dragnet-ingest-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let long = "x".repeat(200_000);
        let lines = format!("{{\"a\": \"{long}\"}}\n{{\"a\": 2}}\n");
        std::fs::write(dir.join("lines"), &lines).unwrap();
        let pretty = format!("{{\n  \"a\": \"{long}\"\n}}\n");
        std::fs::write(dir.join("pretty"), &pretty).unwrap();
        let huge = format!("{{\"a\": \"{}\"}}\n", "y".repeat(1_100_000));
        std::fs::write(dir.join("huge"), &huge).unwrap();
        let got = |name: &str| detect_format(&dir.join(name)).unwrap();
        assert_eq!(got("lines"), Some((InputFormat::Jsonl, false)));
        assert_eq!(got("pretty"), Some((InputFormat::JsonArray, false)));
        assert_eq!(got("huge"), Some((InputFormat::JsonArray, false)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reasons_say_what_the_content_is() {
        let Sniffed::Unknown(r) = sniff_bytes(b"\x89PNG\r\n\x1a\n\x00\x00", true) else {
            panic!()
        };
        assert!(r.starts_with("binary content"), "{r}");
        let Sniffed::Unknown(r) = sniff_bytes(b"type=SYSCALL msg=audit(1)", true) else {
            panic!()
        };
        assert!(r.starts_with("text"), "{r}");
        let Sniffed::Unknown(r) =
            sniff_bytes(b"caf\xe9 au lait, cr\xe8me br\xfbl\xe9e et cetera", true)
        else {
            panic!()
        };
        assert!(r.starts_with("text (not UTF-8)"), "{r}");
    }
}
