//! RFC 5322 messages: headers, multipart bodies, base64 attachments, and the inert ISO image
//! used as the lure's attachment.

use crate::rng::Rng;
use crate::time;

pub struct Attachment {
    pub filename: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

pub struct Message {
    /// Received headers, newest first, already folded with CRLF + tab.
    pub received: Vec<String>,
    pub auth_results: Option<String>,
    pub from: String,
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub date: i64,
    pub message_id: String,
    pub extra: Vec<(String, String)>,
    pub text: String,
    pub html: Option<String>,
    pub attachment: Option<Attachment>,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64, wrapped at 76 columns with CRLF.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 38 + 8);
    let mut col = 0;
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = [
            B64[(n >> 18) as usize & 63],
            B64[(n >> 12) as usize & 63],
            if chunk.len() > 1 {
                B64[(n >> 6) as usize & 63]
            } else {
                b'='
            },
            if chunk.len() > 2 {
                B64[n as usize & 63]
            } else {
                b'='
            },
        ];
        for c in chars {
            out.push(c as char);
        }
        col += 4;
        if col == 76 {
            out.push_str("\r\n");
            col = 0;
        }
    }
    if col > 0 {
        out.push_str("\r\n");
    }
    out
}

/// Quoted-printable is not needed: bodies are 7-bit; long lines are wrapped by the writer.
fn wrap(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split('\n') {
        out.push_str(line.trim_end_matches('\r'));
        out.push_str("\r\n");
    }
    out
}

impl Message {
    pub fn render(&self, r: &Rng) -> String {
        let mut s = String::with_capacity(4096);
        for rcv in &self.received {
            s.push_str("Received: ");
            s.push_str(rcv);
            s.push_str("\r\n");
        }
        if let Some(a) = &self.auth_results {
            s.push_str("Authentication-Results: ");
            s.push_str(a);
            s.push_str("\r\n");
        }
        s.push_str(&format!("From: {}\r\n", self.from));
        s.push_str(&format!("To: {}\r\n", self.to));
        if let Some(rt) = &self.reply_to {
            s.push_str(&format!("Reply-To: {rt}\r\n"));
        }
        s.push_str(&format!("Subject: {}\r\n", self.subject));
        s.push_str(&format!("Date: {}\r\n", time::rfc2822(self.date)));
        s.push_str(&format!("Message-ID: {}\r\n", self.message_id));
        for (k, v) in &self.extra {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("MIME-Version: 1.0\r\n");
        let alt = format!("_000_{}_", r.hex_upper(24));
        let body_alt = |s: &mut String| {
            s.push_str(&format!(
                "Content-Type: multipart/alternative;\r\n\tboundary=\"{alt}\"\r\n\r\n"
            ));
            s.push_str(&format!("--{alt}\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"));
            s.push_str(&wrap(&self.text));
            if let Some(h) = &self.html {
                s.push_str(&format!("\r\n--{alt}\r\nContent-Type: text/html; charset=\"us-ascii\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"));
                s.push_str(&wrap(h));
            }
            s.push_str(&format!("\r\n--{alt}--\r\n"));
        };
        match &self.attachment {
            None if self.html.is_none() => {
                s.push_str("Content-Type: text/plain; charset=\"us-ascii\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
                s.push_str(&wrap(&self.text));
            }
            None => body_alt(&mut s),
            Some(a) => {
                let mixed = format!("_004_{}_", r.hex_upper(24));
                s.push_str(&format!(
                    "Content-Type: multipart/mixed;\r\n\tboundary=\"{mixed}\"\r\n\r\n"
                ));
                s.push_str(&format!("--{mixed}\r\n"));
                body_alt(&mut s);
                s.push_str(&format!("\r\n--{mixed}\r\n"));
                s.push_str(&format!(
                    "Content-Type: {}; name=\"{}\"\r\nContent-Description: {}\r\nContent-Disposition: attachment;\r\n\tfilename=\"{}\"; size={};\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                    a.mime,
                    a.filename,
                    a.filename,
                    a.filename,
                    a.bytes.len()
                ));
                s.push_str(&base64(&a.bytes));
                s.push_str(&format!("\r\n--{mixed}--\r\n"));
            }
        }
        s
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn padded(s: &str, n: usize) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(n, b' ');
    v
}

/// A small, inert ISO 9660 image: the system area, a primary volume descriptor ("CD001" at
/// 0x8001), the set terminator, a root directory naming the shortcut, and a stub shortcut
/// file that only holds a text marker. It contains no executable content.
pub fn fake_iso(volume: &str, lnk_name: &str, decoy: &str) -> Vec<u8> {
    const SECTOR: usize = 2048;
    let mut iso = vec![0u8; 21 * SECTOR];
    // Primary volume descriptor (sector 16).
    let pvd = 16 * SECTOR;
    put(&mut iso, pvd, &[1]);
    put(&mut iso, pvd + 1, b"CD001");
    put(&mut iso, pvd + 6, &[1]);
    put(&mut iso, pvd + 8, &padded("WIN32", 32));
    put(&mut iso, pvd + 40, &padded(&volume.to_uppercase(), 32));
    let blocks = (iso.len() / SECTOR) as u32;
    put(&mut iso, pvd + 80, &blocks.to_le_bytes());
    put(&mut iso, pvd + 84, &blocks.to_be_bytes());
    put(&mut iso, pvd + 128, &(SECTOR as u16).to_le_bytes());
    put(&mut iso, pvd + 130, &(SECTOR as u16).to_be_bytes());
    put(
        &mut iso,
        pvd + 190,
        &padded("SIMULATED EVIDENCE - NOT MALWARE", 128),
    );
    put(&mut iso, pvd + 881, &[1]);
    // Set terminator (sector 17).
    let term = 17 * SECTOR;
    put(&mut iso, term, &[255]);
    put(&mut iso, term + 1, b"CD001");
    put(&mut iso, term + 6, &[1]);
    // Root directory (sector 18): one record per file.
    let mut at = 18 * SECTOR;
    for (i, name) in [lnk_name, decoy].iter().enumerate() {
        let id = format!("{};1", name.to_uppercase());
        let len = 33 + id.len() + (id.len() + 1) % 2;
        iso[at] = len as u8;
        put(&mut iso, at + 2, &(19u32 + i as u32).to_le_bytes());
        put(&mut iso, at + 10, &64u32.to_le_bytes());
        iso[at + 32] = id.len() as u8;
        put(&mut iso, at + 33, id.as_bytes());
        at += len;
    }
    // The shortcut's sector: a text marker only.
    let marker = format!(
        "{lnk_name}: simulated shortcut placeholder for detection testing; inert, not a real .lnk"
    );
    put(&mut iso, 19 * SECTOR, marker.as_bytes());
    put(
        &mut iso,
        20 * SECTOR,
        format!("{decoy}: decoy document placeholder").as_bytes(),
    );
    iso
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b"Man"), "TWFu\r\n");
        assert_eq!(base64(b"Ma"), "TWE=\r\n");
        assert_eq!(base64(b"M"), "TQ==\r\n");
        let long = base64(&[0u8; 100]);
        assert!(long.lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn iso_has_signature() {
        let iso = fake_iso("INVITE", "Invitation.pdf.lnk", "agenda.pdf");
        assert_eq!(&iso[0x8001..0x8006], b"CD001");
        let text = String::from_utf8_lossy(&iso);
        assert!(text.contains(".LNK;1"));
    }
}
