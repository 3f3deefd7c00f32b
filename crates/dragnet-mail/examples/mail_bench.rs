//! Throughput of reading and analysing mail: messages/s and MB/s.
//!
//! ```sh
//! cargo run --release -p dragnet-mail --example mail_bench [PATH...]
//! ```
//!
//! Without paths it reads `$DRAGNET_SHARED/data/email` (phish and ham), or, when that is
//! absent (or with `--generated`), a generated set of 2,000 messages with an attachment each. Each file is read into memory first,
//! so that the figures measure parsing and analysis, not the disk. With `--features yara` and
//! `--yara DIR`, attachments are also scanned with the rules in DIR.

use dragnet_event::{Provenance, SourceFormat};
use dragnet_mail::{analyze, parse_message, Limits, MailConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn files_under(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            files_under(&e, out);
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn base64(data: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(B64[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

fn generated() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for i in 0..2000 {
        let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'x', 1500 + (i % 7) * 800));
        let attach = base64(&pdf);
        v.push(format!(
            "Received: from mx.corp.example (10.0.0.2) by exch.corp.example with SMTP\r\n\
             Received: from mail{i}.sender.example (mail.sender.example [198.51.100.{}]) by mx.corp.example with ESMTPS\r\n\
             Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=sender.example; dkim=pass header.d=sender.example; dmarc=pass header.from=sender.example\r\n\
             From: Sender {i} <s{i}@sender.example>\r\nTo: someone@corp.example\r\nSubject: Report {i}\r\n\
             Date: Mon, 2 Mar 2026 08:25:14 +0000\r\nMessage-ID: <{i}@sender.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
             <p>Hello, see <a href=\"https://portal.sender.example/r/{i}\">the report</a>.</p>\r\n--b\r\n\
             Content-Type: application/pdf; name=\"r{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attach}--b--\r\n",
            i % 250
        )
        .into_bytes());
    }
    v
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    #[allow(unused_mut)]
    let mut cfg = MailConfig::default();
    if let Some(i) = args.iter().position(|a| a == "--yara") {
        let dir = args.get(i + 1).cloned().unwrap_or_default();
        args.drain(i..(i + 2).min(args.len()));
        #[cfg(feature = "yara")]
        {
            let rules = dragnet_mail::yara::load(Some(Path::new(&dir))).expect("YARA rules");
            cfg.scanner = Some(rules.scanner());
        }
        #[cfg(not(feature = "yara"))]
        {
            eprintln!("--yara {dir}: built without the `yara` feature; ignored");
        }
    }
    let force_generated = args.iter().any(|a| a == "--generated");
    args.retain(|a| a != "--generated");
    let mut paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    if paths.is_empty() && !force_generated {
        let shared = std::env::var_os("DRAGNET_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let email = shared.join("data/email");
        if email.is_dir() {
            paths.push(email);
        }
    }
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let source;
    if paths.is_empty() {
        raws = generated();
        source = "generated messages".to_string();
    } else {
        let mut files = Vec::new();
        for p in &paths {
            files_under(p, &mut files);
        }
        for f in &files {
            if let Ok(b) = std::fs::read(f) {
                raws.push(b);
            }
        }
        source = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
    }
    let bytes: usize = raws.iter().map(Vec::len).sum();
    let limits = Limits::default();
    let rounds = 3;
    let mut best = f64::INFINITY;
    let mut phishing = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        phishing = 0;
        for (i, raw) in raws.iter().enumerate() {
            let prov = Provenance {
                path: "bench".into(),
                record: i as u64 + 1,
                format: SourceFormat::Eml,
            };
            let msg = parse_message(raw, prov, &limits);
            let v = analyze(&msg, &cfg);
            if v.label == dragnet_mail::Label::Phishing {
                phishing += 1;
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "mail bench ({source}; yara: {}): {} messages, {:.1} MB, best of {rounds}: {:.3} s = {:.0} messages/s, {:.1} MB/s (one thread; {} phishing)",
        if cfg.scanner.is_some() { "on" } else { "off" },
        raws.len(),
        bytes as f64 / 1e6,
        best,
        raws.len() as f64 / best,
        bytes as f64 / 1e6 / best,
        phishing
    );
}
