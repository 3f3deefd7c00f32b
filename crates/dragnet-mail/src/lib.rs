//! dragnet's mail analysis: spear-phishing verdicts that explain themselves.
//!
//! - Readers: [`read_mail_file`] reads EML files and MBOX mailboxes (streamed, message by
//!   message) into [`Message`]s; MIME is parsed with hard bounds ([`Limits`]: header size, depth,
//!   part count, decoded bytes) by this crate's own parser (`mime.rs`).
//! - Checks: [`analyze`] gives a [`Verdict`]: a score made of named [`Signal`]s, each with a
//!   weight and a sentence of explanation (catalogue in `signals.rs`): authentication results
//!   trusted only from the receiving organisation's servers (`auth.rs`), sender mismatches,
//!   display-name and look-alike domains (`domains.rs`), attachments opened in memory within
//!   bounds (`attach.rs`, `zip.rs`, `ole.rs`, `filetype.rs`), links and HTML (`html.rs`).
//!   Nothing is executed, fetched or written to disk.
//! - Output: [`message_event`] turns a message into an [`Event`]; [`verdict_finding`] turns a
//!   phishing verdict into a [`Finding`] (T1566.001 / T1566.002, T1204 when the lure needs a
//!   click or an open) with score, signals, explanation and defanged indicators; [`digest`]
//!   writes an awareness digest for training staff. For the hunt pipeline, which carries
//!   events only, [`verdict_event`] packs a message and its verdict into one event and
//!   [`MailDetector`] turns the phishing ones into those same findings.
//! - Microsoft 365: [`m365`] reads the unified audit log and finds mail drafts used as a C2
//!   channel (FINALDRAFT, T1102.002).

pub mod analyze;
pub mod attach;
pub mod auth;
pub mod digest;
pub mod domains;
pub mod filetype;
pub mod html;
pub mod m365;
pub mod message;
pub mod mime;
pub mod ole;
mod output;
pub mod signals;
pub mod util;
#[cfg(feature = "yara")]
pub mod yara;
pub mod zip;

pub use analyze::{analyze, Indicators, Label, MailConfig, Scanner, Signal, Verdict};
pub use attach::ArchiveLimits;
pub use message::{Mailbox, Message};
pub use mime::Limits;
pub use output::{
    add_verdict_fields, message_event, rule_meta, verdict_event, verdict_event_finding,
    verdict_finding, MailDetector, MAIL_CHANNEL, RULE_IDS,
};

use dragnet_event::{Provenance, SourceFormat};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// The two mail container formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailFormat {
    /// One RFC 5322 message.
    Eml,
    /// Messages one after another, each starting with a `From ` line.
    Mbox,
}

/// Tell a mail file from its first bytes: an MBOX starts with `From `; a message starts with
/// header fields, one of them a well-known message field.
pub fn detect_mail(head: &[u8]) -> Option<MailFormat> {
    if head.starts_with(b"From ") {
        return Some(MailFormat::Mbox);
    }
    // The first line must be a header field.
    let first_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first = &head[..first_end];
    let colon = memchr::memchr(b':', first)?;
    if colon == 0 || first[..colon].iter().any(|b| *b <= b' ' || *b >= 127) {
        return None;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]).to_ascii_lowercase();
    let known = [
        "\nfrom:",
        "\nsubject:",
        "\nreceived:",
        "\nmessage-id:",
        "\ndate:",
        "\nto:",
        "\nmime-version:",
        "\nreturn-path:",
        "\ndelivered-to:",
    ];
    let hits = known
        .iter()
        .filter(|k| text.contains(*k) || text.starts_with(&k[1..]))
        .count();
    (hits >= 2).then_some(MailFormat::Eml)
}

/// What reading one mail file gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailFileSummary {
    pub messages: u64,
    pub bytes: u64,
    /// Messages cut at [`Limits::max_message_bytes`].
    pub oversized: u64,
}

/// Read an EML or MBOX file, calling `on_message` for each message in order. MBOX files are
/// streamed: one message is held at a time, and at most [`Limits::max_message_bytes`] of it.
pub fn read_mail_file(
    path: &Path,
    limits: &Limits,
    on_message: &mut dyn FnMut(Message),
) -> std::io::Result<MailFileSummary> {
    let file = std::fs::File::open(path)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf()?.to_vec();
    let format = detect_mail(&head).unwrap_or(MailFormat::Eml);
    let path_text: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    read_mail(&mut reader, format, path_text, limits, on_message)
}

/// Read mail from any reader (see [`read_mail_file`]).
pub fn read_mail(
    reader: &mut dyn BufRead,
    format: MailFormat,
    path: Arc<str>,
    limits: &Limits,
    on_message: &mut dyn FnMut(Message),
) -> std::io::Result<MailFileSummary> {
    let mut summary = MailFileSummary::default();
    match format {
        MailFormat::Eml => {
            let mut raw = Vec::new();
            reader
                .take(limits.max_message_bytes as u64 + 1)
                .read_to_end(&mut raw)?;
            summary.bytes = raw.len() as u64;
            if raw.len() > limits.max_message_bytes {
                summary.oversized += 1;
                // Drain the rest to count it, without keeping it.
                summary.bytes += std::io::copy(reader, &mut std::io::sink())?;
            }
            summary.messages = 1;
            let prov = Provenance {
                path,
                record: 1,
                format: SourceFormat::Eml,
            };
            on_message(Message::parse(&raw, prov, limits));
        }
        MailFormat::Mbox => {
            let mut cur: Vec<u8> = Vec::new();
            let mut started = false;
            let mut cut = false;
            let mut prev_blank = true;
            let mut line = Vec::with_capacity(1024);
            loop {
                line.clear();
                let n = read_line_bounded(reader, &mut line, 1 << 20)?;
                if n == 0 {
                    break;
                }
                summary.bytes += n as u64;
                let is_sep = line.starts_with(b"From ") && (prev_blank || !started);
                if is_sep {
                    if started {
                        emit(&mut summary, &mut cur, &mut cut, &path, limits, on_message);
                    }
                    started = true;
                    prev_blank = false;
                    continue;
                }
                started = true;
                prev_blank = line == b"\n" || line == b"\r\n";
                if cur.len() + line.len() > limits.max_message_bytes {
                    cut = true;
                    continue;
                }
                // mboxrd: `>From ` lines were escaped on writing.
                if line.starts_with(b">From ") || line.starts_with(b">>From ") {
                    cur.extend_from_slice(&line[1..]);
                } else {
                    cur.extend_from_slice(&line);
                }
            }
            if started && (!cur.is_empty() || summary.messages == 0) {
                emit(&mut summary, &mut cur, &mut cut, &path, limits, on_message);
            }
        }
    }
    Ok(summary)
}

fn emit(
    summary: &mut MailFileSummary,
    cur: &mut Vec<u8>,
    cut: &mut bool,
    path: &Arc<str>,
    limits: &Limits,
    on_message: &mut dyn FnMut(Message),
) {
    summary.messages += 1;
    let prov = Provenance {
        path: Arc::clone(path),
        record: summary.messages,
        format: SourceFormat::Mbox,
    };
    let mut msg = Message::parse(cur, prov, limits);
    if *cut {
        summary.oversized += 1;
        msg.parsed.anomalies.push(format!(
            "message larger than {} bytes: the rest was not read",
            limits.max_message_bytes
        ));
    }
    on_message(msg);
    cur.clear();
    *cut = false;
}

/// Read one line (through `\n`), keeping at most `max` bytes of it; returns bytes consumed.
fn read_line_bounded(r: &mut dyn BufRead, out: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = max.saturating_sub(out.len());
        out.extend_from_slice(&buf[..take.min(room)]);
        r.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
    }
}

/// Parse one message held in memory.
pub fn parse_message(raw: &[u8], provenance: Provenance, limits: &Limits) -> Message {
    Message::parse(raw, provenance, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_reads_mbox() {
        assert_eq!(
            detect_mail(b"From a@b Mon Jan 1 00:00:00 2024\n"),
            Some(MailFormat::Mbox)
        );
        assert_eq!(
            detect_mail(b"Received: x\r\nFrom: a@b\r\nSubject: s\r\n\r\nbody"),
            Some(MailFormat::Eml)
        );
        assert_eq!(detect_mail(b"{\"json\": 1}"), None);
        let mbox = b"From a@b Mon Jan 1 00:00:00 2024\nFrom: a@b.example\nSubject: one\n\nbody\n>From the start\n\nFrom c@d Mon Jan 1 00:00:01 2024\nFrom: c@d.example\nSubject: two\n\nbody two\n";
        let mut got = Vec::new();
        let s = read_mail(
            &mut &mbox[..],
            MailFormat::Mbox,
            "x.mbox".into(),
            &Limits::default(),
            &mut |m| got.push(m),
        )
        .unwrap();
        assert_eq!(s.messages, 2);
        assert_eq!(got[0].subject(), "one");
        assert_eq!(got[1].subject(), "two");
        assert_eq!(got[1].provenance.record, 2);
        assert!(got[0].text_bodies()[0].contains("From the start"));
    }
}
