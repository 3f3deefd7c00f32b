//! A message as dragnet sees it: where it came from, its parsed header and parts, and the
//! addresses in it.

use crate::mime::{self, decode_words, Header, Limits, Parsed, Part};
use dragnet_event::Provenance;
use serde::Serialize;

/// An address with its display name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// Decoded display name (may be empty).
    pub name: String,
    /// `local@domain` as written (may be empty when the field had no address).
    pub address: String,
}

impl Mailbox {
    /// The domain, lower case, without a trailing dot or `>`.
    pub fn domain(&self) -> String {
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d.trim().trim_end_matches(['.', '>']).to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// One message read from an EML file or an MBOX.
#[derive(Clone, Debug)]
pub struct Message {
    /// The file and the 1-based message number within it.
    pub provenance: Provenance,
    pub parsed: Parsed,
}

impl Message {
    /// Parse raw bytes.
    pub fn parse(raw: &[u8], provenance: Provenance, limits: &Limits) -> Message {
        Message {
            provenance,
            parsed: mime::parse(raw, limits),
        }
    }

    pub fn headers(&self) -> &[Header] {
        &self.parsed.headers
    }

    /// The first field of that name (raw value).
    pub fn header(&self, name: &str) -> Option<&str> {
        mime::header(&self.parsed.headers, name)
    }

    /// Every field of that name (raw values), top first.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.parsed
            .headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// A field with RFC 2047 words decoded and whitespace collapsed.
    pub fn decoded(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| {
            decode_words(v)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    pub fn subject(&self) -> String {
        self.decoded("Subject").unwrap_or_default()
    }

    /// The From mailboxes (usually one).
    pub fn from(&self) -> Vec<Mailbox> {
        self.header("From")
            .map(parse_address_list)
            .unwrap_or_default()
    }

    /// The first From mailbox with an address.
    pub fn from_first(&self) -> Option<Mailbox> {
        self.from().into_iter().find(|m| !m.address.is_empty())
    }

    /// Recipients: To, Cc, Delivered-To, X-Original-To.
    pub fn recipients(&self) -> Vec<Mailbox> {
        let mut out = Vec::new();
        for name in ["To", "Cc", "Delivered-To", "X-Original-To"] {
            for v in self.header_all(name) {
                for m in parse_address_list(v) {
                    if !m.address.is_empty()
                        && out.len() < 200
                        && !out
                            .iter()
                            .any(|o: &Mailbox| o.address.eq_ignore_ascii_case(&m.address))
                    {
                        out.push(m);
                    }
                }
            }
        }
        out
    }

    /// Leaf parts.
    pub fn parts(&self) -> &[Part] {
        &self.parsed.parts
    }

    /// Plain-text body parts, decoded.
    pub fn text_bodies(&self) -> Vec<String> {
        self.parsed
            .parts
            .iter()
            .filter(|p| p.is_body_text() && p.content_type == "text/plain")
            .map(Part::text)
            .collect()
    }

    /// HTML body parts, decoded.
    pub fn html_bodies(&self) -> Vec<String> {
        self.parsed
            .parts
            .iter()
            .filter(|p| p.is_body_text() && p.content_type == "text/html")
            .map(Part::text)
            .collect()
    }

    /// Attachments (every leaf that is not a body text).
    pub fn attachments(&self) -> impl Iterator<Item = &Part> {
        self.parsed.parts.iter().filter(|p| p.is_attachment())
    }

    /// The message's date, from `Date`, else from the newest `Received`.
    pub fn date(&self) -> Option<dragnet_event::Timestamp> {
        let parse = |v: &str| -> Option<dragnet_event::Timestamp> {
            let v = v.trim();
            // Drop a trailing comment like `(UTC)` or `(CET)`.
            let v = match v.rfind('(') {
                Some(p) if v.ends_with(')') => v[..p].trim(),
                _ => v,
            };
            let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Ok(z) = jiff::fmt::rfc2822::parse(&v) {
                return Some(dragnet_event::Timestamp::from_jiff(z.timestamp()));
            }
            dragnet_event::Timestamp::parse(&v)
        };
        if let Some(t) = self.header("Date").and_then(parse) {
            return Some(t);
        }
        self.header("Received")
            .and_then(|r| r.rsplit(';').next())
            .and_then(parse)
    }
}

/// Split an address list on commas outside quotes, comments and angle brackets, and read
/// each element as `Name <addr>`, `addr (Name)` or `addr`.
pub fn parse_address_list(v: &str) -> Vec<Mailbox> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut angle, mut paren, mut esc) = (false, false, 0usize, false);
    for c in v.chars() {
        if esc {
            cur.push(c);
            esc = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                esc = true;
                cur.push(c);
            }
            '"' if paren == 0 => {
                quoted = !quoted;
                cur.push(c);
            }
            '<' if !quoted && paren == 0 => {
                angle = true;
                cur.push(c);
            }
            '>' if !quoted && paren == 0 => {
                angle = false;
                cur.push(c);
            }
            '(' if !quoted => {
                paren += 1;
                cur.push(c);
            }
            ')' if !quoted && paren > 0 => {
                paren -= 1;
                cur.push(c);
            }
            ',' | ';' if !quoted && !angle && paren == 0 => {
                items.push(std::mem::take(&mut cur));
                if items.len() > 500 {
                    break;
                }
            }
            _ => cur.push(c),
        }
    }
    items.push(cur);
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| parse_mailbox(&s))
        .collect()
}

fn parse_mailbox(s: &str) -> Mailbox {
    // Group syntax `name: a, b;` leaves `name:` on the first item.
    let s = match s.find(':') {
        Some(p) if !s[..p].contains(['<', '@', '"']) => s[p + 1..].trim(),
        _ => s,
    };
    if let (Some(lt), Some(gt)) = (s.rfind('<'), s.rfind('>')) {
        if lt < gt {
            let address = s[lt + 1..gt]
                .trim()
                .trim_start_matches("mailto:")
                .to_string();
            let name = clean_name(&s[..lt]);
            return Mailbox { name, address };
        }
    }
    // `addr (Name)`
    let (addr_part, comment) = match (s.find('('), s.rfind(')')) {
        (Some(a), Some(b)) if a < b => (
            format!("{}{}", &s[..a], &s[b + 1..]),
            s[a + 1..b].to_string(),
        ),
        _ => (s.to_string(), String::new()),
    };
    let addr_part = addr_part.trim();
    if addr_part.contains('@') && !addr_part.contains(char::is_whitespace) {
        return Mailbox {
            name: clean_name(&comment),
            address: addr_part.trim_matches(['"', '\'']).to_string(),
        };
    }
    Mailbox {
        name: clean_name(s),
        address: String::new(),
    }
}

fn clean_name(s: &str) -> String {
    let s = s.trim();
    let s = if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\")
    } else {
        s.to_string()
    };
    decode_words(&s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(['"', '\''])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists() {
        let l = parse_address_list(
            r#""Doe, Jane" <jane@a.example>, bob@b.example (Bob B), =?utf-8?Q?Z=C3=B6e?= <z@c.example>"#,
        );
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].name, "Doe, Jane");
        assert_eq!(l[0].domain(), "a.example");
        assert_eq!(l[1].name, "Bob B");
        assert_eq!(l[1].address, "bob@b.example");
        assert_eq!(l[2].name, "Zöe");
        let l = parse_address_list("Decathlon, Decathlon <telekom@email-telekom.de>");
        assert_eq!(l.len(), 2);
        assert!(l[0].address.is_empty());
        let l = parse_address_list("undisclosed-recipients:;");
        assert!(l.iter().all(|m| m.address.is_empty()));
    }
}
