//! Mail evidence: EML files and MBOX mailboxes, and Microsoft 365 unified audit logs.
//!
//! Why this reader depends on dragnet-mail: reading a message *is* parsing its MIME tree, and
//! that parser (bounded: header size, depth, part count, decoded bytes, message size; see
//! [`dragnet_mail::Limits`]) lives in dragnet-mail, which depends on nothing but the event
//! model, so there is no cycle and no second parser to keep in step. The phishing verdict
//! needs the parsed message (attachments opened in memory, archives, HTML), which does not
//! survive into a flat [`Event`], and parsing every message twice (once to read, once to
//! detect) would double the costliest work of a hunt. So the reader makes the verdict while it
//! holds the message and records it in the event ([`dragnet_mail::verdict_event`]: message
//! facts, `Verdict`, `Score`, `Signals`, and for phishing the finding's rule, level, ATT&CK ids
//! and explained details); the detector ([`dragnet_mail::MailDetector`]) turns those into
//! findings. One message is held at a time (MBOX is streamed); messages of one file are read
//! on that file's thread, files in parallel like any others.
//!
//! Audit logs are JSON: the JSON reader reads them (lines or an array); this module adds
//! `Channel: m365/audit` and `_product: m365`, and the event time from `CreationTime`. The
//! draft-C2 analytic ([`dragnet_mail::m365::DraftC2Analyzer`]) reads those events.

use crate::{InputFile, InputFormat, ReadError};
use dragnet_event::{Event, Timestamp, Value};
use dragnet_mail::{analyze, verdict_event, MailConfig, MailFormat, Message};
use std::io::{BufRead, BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Read an EML or MBOX file: one event per message, in file order (record = 1-based message
/// index). Returns the bytes read.
pub(crate) fn read_mail(
    file: &InputFile,
    cfg: &MailConfig,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let Some(reader) = crate::open_or_report(file, on_error) else {
        return 0;
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let format = match file.format {
        InputFormat::Mbox => MailFormat::Mbox,
        _ => MailFormat::Eml,
    };
    let path = crate::provenance_path(file);
    let mut on_message = |msg: Message| {
        let n = msg.provenance.record;
        let made = catch_unwind(AssertUnwindSafe(|| {
            let v = analyze(&msg, cfg);
            verdict_event(&msg, &v)
        }));
        match made {
            Ok(ev) => sink(ev),
            Err(p) => {
                on_error(ReadError::new(
                    &file.path,
                    format!("message {n}"),
                    format!("mail analysis failed: {}", crate::panic_text(p.as_ref())),
                ));
                sink(dragnet_mail::message_event(&msg, msg.provenance.clone()));
            }
        }
    };
    match dragnet_mail::read_mail(&mut reader, format, path, &cfg.limits, &mut on_message) {
        Ok(s) => s.bytes,
        Err(e) => {
            on_error(ReadError::new(
                &file.path,
                "file",
                format!("reading mail: {e}"),
            ));
            0
        }
    }
}

/// Read a Microsoft 365 audit log (JSON lines or a JSON array). Returns the bytes read.
pub(crate) fn read_audit(
    file: &InputFile,
    sink: &mut dyn FnMut(Event),
    on_error: &mut dyn FnMut(ReadError),
) -> u64 {
    let array = match first_byte(file) {
        Ok(b) => b == Some(b'['),
        Err(e) => {
            on_error(crate::cannot_open(file, &e));
            return 0;
        }
    };
    let mut mark = |mut ev: Event| {
        ev.set_if_absent("_product", Value::str("m365"));
        ev.set_if_absent("Channel", Value::str("m365/audit"));
        if ev.time.is_unknown() {
            if let Some(t) = ev
                .get_text("CreationTime")
                .and_then(|t| Timestamp::parse(&t))
            {
                ev.time = t;
            }
        }
        sink(ev);
    };
    if array {
        crate::json::read_json_document(file, &mut mark, on_error)
    } else {
        crate::json::read_jsonl(file, &mut mark, on_error)
    }
}

/// The first non-space byte of the (decompressed) file.
fn first_byte(file: &InputFile) -> std::io::Result<Option<u8>> {
    let mut r = BufReader::new(crate::open_decoded(file)?.take(1 << 20));
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(b) = buf
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf))
        {
            return Ok(Some(b));
        }
        let n = buf.len();
        r.consume(n);
    }
}
