//! Hostile input stays within bounds: malformed MIME, a 10,000-part message, deep nesting,
//! nested archives and zip bombs are read without a panic, without unbounded memory, and with
//! the limit that was hit reported.

use dragnet_event::{Provenance, SourceFormat};
use dragnet_mail::{analyze, parse_message, read_mail_file, Label, Limits, MailConfig, Message};
use std::io::Write;
use std::time::Instant;

fn prov() -> Provenance {
    Provenance {
        path: "generated.eml".into(),
        record: 1,
        format: SourceFormat::Eml,
    }
}

fn parse(raw: &[u8]) -> Message {
    parse_message(raw, prov(), &Limits::default())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

/// A ZIP with the given (name, stored bytes, method, declared uncompressed size) entries.
fn zip_raw(entries: &[(&str, Vec<u8>, u16, u32)], flags: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body, method, usize_) in entries {
        let off = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\x00");
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(body);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&usize_.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&off.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn with_attachment(name: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: a@sender.example\r\nTo: b@corp.example\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\nContent-Type: application/zip; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--XX--\r\n",
        base64(data)
    )
    .into_bytes()
}

fn signals(v: &dragnet_mail::Verdict) -> Vec<&'static str> {
    v.signals.iter().map(|s| s.name).collect()
}

#[test]
fn malformed_mime_never_panics() {
    let cfg = MailConfig::default();
    let samples: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"no headers at all, just text".to_vec(),
        b"From: a\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n".to_vec(),
        b"From: a\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n--x--".to_vec(),
        b"From: a\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n".to_vec(),
        b"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!====****".to_vec(),
        b"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=X=4=".to_vec(),
        b"Subject: =?utf-8?B?====?= =?x?Q?=ZZ?= =?\r\nFrom: \"unterminated <a@b\r\n\r\n<a href=\"http://[::1\">x</a><a href='".to_vec(),
        b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n".to_vec(),
        b"Content-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAP////8=".to_vec(),
        vec![0xff; 4096],
    ];
    for raw in &samples {
        let m = parse(raw);
        let _ = analyze(&m, &cfg);
    }
    // Mutations of a realistic message: bytes flipped, cut, repeated.
    let base = with_attachment("a.zip", b"PK\x03\x04 not really a zip");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2_000 {
        let mut m = base.clone();
        for _ in 0..(next() % 12) {
            let at = (next() as usize) % m.len();
            match next() % 4 {
                0 => m[at] = next() as u8,
                1 => m.truncate(at.max(1)),
                2 => {
                    let piece: Vec<u8> = m[at..(at + 40).min(m.len())].to_vec();
                    m.splice(at..at, piece);
                }
                _ => m.insert(at, b"\r\n--XX\r\n"[(next() % 8) as usize]),
            }
        }
        let msg = parse(&m);
        let _ = analyze(&msg, &cfg);
    }
}

#[test]
fn ten_thousand_parts_are_cut_at_the_limit() {
    let mut raw = String::from(
        "From: a@sender.example\r\nTo: b@corp.example\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    for i in 0..10_000 {
        raw.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream; name=\"f{i}.txt\"\r\n\r\npart {i}\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    let t = Instant::now();
    let m = parse(raw.as_bytes());
    let limits = Limits::default();
    assert!(
        m.parsed.parts.len() < limits.max_parts,
        "{}",
        m.parsed.parts.len()
    );
    assert!(
        m.parsed.anomalies.iter().any(|a| a.contains("MIME parts")),
        "{:?}",
        m.parsed.anomalies
    );
    let v = analyze(&m, &MailConfig::default());
    assert!(v.signals.iter().any(|s| s.name == "mime_anomaly"));
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
}

#[test]
fn deep_nesting_is_cut_at_the_limit() {
    let depth = 200;
    let mut raw = String::from("From: a@sender.example\r\nSubject: deep\r\n");
    for i in 0..depth {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\ninner\r\n");
    for i in (0..depth).rev() {
        raw.push_str(&format!("--b{i}--\r\n"));
    }
    let m = parse(raw.as_bytes());
    assert!(
        m.parsed.anomalies.iter().any(|a| a.contains("nesting")),
        "{:?}",
        m.parsed.anomalies
    );
    let _ = analyze(&m, &MailConfig::default());
}

#[test]
fn nested_archives_stop_at_the_depth_limit() {
    // A shortcut inside ten levels of zip.
    let mut inner = zip_raw(
        &[("invoice.lnk", vec![0x4C, 0, 0, 0, 1, 0x14, 2, 0], 0, 8)],
        0,
    );
    for level in 0..10 {
        let name = format!("level{level}.zip");
        inner = zip_raw(&[(name.as_str(), inner.clone(), 0, inner.len() as u32)], 0);
    }
    let m = parse(&with_attachment("nested.zip", &inner));
    let v = analyze(&m, &MailConfig::default());
    let s = signals(&v);
    assert!(s.contains(&"archive_nesting"), "{s:?}");
    let limits = dragnet_mail::ArchiveLimits::default();
    assert!(v
        .indicators
        .attachments
        .iter()
        .all(|f| f.depth <= limits.max_depth));
    // Within the limit, the shortcut is found.
    let shallow = zip_raw(
        &[(
            "docs.zip",
            zip_raw(
                &[("invoice.lnk", vec![0x4C, 0, 0, 0, 1, 0x14, 2, 0], 0, 8)],
                0,
            ),
            0,
            200,
        )],
        0,
    );
    let v = analyze(
        &parse(&with_attachment("docs.zip", &shallow)),
        &MailConfig::default(),
    );
    assert!(
        signals(&v).contains(&"dangerous_attachment"),
        "{:?}",
        signals(&v)
    );
    assert_eq!(v.label, Label::Phishing);
}

#[test]
fn zip_bombs_are_recognised_not_expanded() {
    // 1. One entry: 64 MiB of zeros deflated to a few tens of KiB, declared as 1 GiB.
    let zeros = vec![0u8; 64 << 20];
    let packed = deflate(&zeros);
    drop(zeros);
    let bomb = zip_raw(&[("data.bin", packed, 8, 1 << 30)], 0);
    let t = Instant::now();
    let v = analyze(
        &parse(&with_attachment("bomb.zip", &bomb)),
        &MailConfig::default(),
    );
    assert!(signals(&v).contains(&"archive_bomb"), "{:?}", signals(&v));
    let limits = dragnet_mail::ArchiveLimits::default();
    // What was inflated stayed within the per-entry limit.
    assert!(v
        .indicators
        .attachments
        .iter()
        .all(|f| f.size <= limits.max_entry_bytes.max(bomb.len())));
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());

    // 2. Overlapping entries: many names, one shared body (a "quine"-style bomb).
    let body = deflate(&vec![b'A'; 1 << 20]);
    let mut z = zip_raw(&[("a.txt", body.clone(), 8, 1 << 20)], 0);
    // Rewrite the archive with 500 central entries all pointing at offset 0.
    let eocd = z.len() - 22;
    let cd_off =
        u32::from_le_bytes([z[eocd + 16], z[eocd + 17], z[eocd + 18], z[eocd + 19]]) as usize;
    let entry = z[cd_off..eocd].to_vec();
    z.truncate(cd_off);
    for _ in 0..500 {
        z.extend_from_slice(&entry);
    }
    z.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    z.extend_from_slice(&500u16.to_le_bytes());
    z.extend_from_slice(&500u16.to_le_bytes());
    z.extend_from_slice(&((entry.len() * 500) as u32).to_le_bytes());
    z.extend_from_slice(&(cd_off as u32).to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    let v = analyze(
        &parse(&with_attachment("overlap.zip", &z)),
        &MailConfig::default(),
    );
    assert!(signals(&v).contains(&"archive_bomb"), "{:?}", signals(&v));
    // Opened entries are capped, and so is the total inflated.
    assert!(v.indicators.attachments.len() <= 1 + limits.max_entries_opened);

    // 3. Password-protected archive.
    let enc = zip_raw(&[("invoice.js", b"xxxx".to_vec(), 0, 4)], 1);
    let v = analyze(
        &parse(&with_attachment("enc.zip", &enc)),
        &MailConfig::default(),
    );
    let s = signals(&v);
    assert!(
        s.contains(&"encrypted_archive") && s.contains(&"dangerous_attachment"),
        "{s:?}"
    );
}

#[test]
fn oversized_mbox_message_is_cut() {
    let dir = std::env::temp_dir().join(format!("dragnet-mail-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.mbox");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "From a@b Mon Jan  1 00:00:00 2024\nFrom: a@b.example\nSubject: big\n"
    )
    .unwrap();
    let line = "x".repeat(999);
    for _ in 0..3_000 {
        writeln!(f, "{line}").unwrap();
    }
    writeln!(
        f,
        "\nFrom c@d Mon Jan  1 00:00:01 2024\nFrom: c@d.example\nSubject: small\n\nhi"
    )
    .unwrap();
    drop(f);
    let limits = Limits {
        max_message_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut got = Vec::new();
    let s = read_mail_file(&path, &limits, &mut |m| got.push(m)).unwrap();
    assert_eq!(s.messages, 2);
    assert_eq!(s.oversized, 1);
    assert!(got[0].parsed.raw_size <= 1 << 20);
    assert_eq!(got[1].subject(), "small");
    std::fs::remove_dir_all(&dir).ok();
}
