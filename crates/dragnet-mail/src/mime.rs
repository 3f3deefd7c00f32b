//! A bounded RFC 5322 / MIME parser.
//!
//! Every dimension an attacker controls has a hard limit ([`Limits`]): header count and size,
//! nesting depth, part count, and decoded bytes per part and per message. Past a limit the
//! parser stops descending, records an anomaly on the message and goes on with what it has; it
//! never panics and never allocates more than the limits allow. Bodies are decoded (base64,
//! quoted-printable) into bytes; text is decoded from its charset when asked for.

use crate::util::{base64_decode, decode_charset, percent_decode, qp_decode};
use memchr::memmem;

/// Hard bounds on what one message may cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message read (MBOX messages beyond it are cut and flagged).
    pub max_message_bytes: usize,
    /// Most header fields kept per entity.
    pub max_headers: usize,
    /// Largest header section, bytes.
    pub max_header_bytes: usize,
    /// Deepest nesting of multiparts and attached messages.
    pub max_depth: usize,
    /// Most MIME parts (containers and leaves) parsed per message.
    pub max_parts: usize,
    /// Most decoded bytes kept for one part.
    pub max_part_bytes: usize,
    /// Most decoded bytes kept for the whole message.
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_headers: 1_000,
            max_header_bytes: 1 << 20,
            max_depth: 16,
            max_parts: 500,
            max_part_bytes: 16 << 20,
            max_decoded_bytes: 48 << 20,
        }
    }
}

/// One header field, unfolded, in the order it appears (newest trace fields first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    /// The raw value with line folding removed (encoded words are not decoded).
    pub value: String,
}

/// A leaf MIME part: a body text or an attachment, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Lower-case `type/subtype`.
    pub content_type: String,
    /// The declared charset (lower case), or empty.
    pub charset: String,
    /// `attachment`, `inline` or empty.
    pub disposition: String,
    /// The file name (decoded, from Content-Disposition or Content-Type `name`).
    pub filename: Option<String>,
    /// Nesting depth of the part (0: the message body itself).
    pub depth: usize,
    /// How many attached messages (message/rfc822) enclose this part.
    pub in_attached_message: usize,
    /// The decoded content (at most the limits allow).
    pub data: Vec<u8>,
    /// The content was cut at a limit.
    pub truncated: bool,
}

impl Part {
    /// A body text (plain or HTML) rather than an attachment.
    pub fn is_body_text(&self) -> bool {
        (self.content_type == "text/plain" || self.content_type == "text/html")
            && self.disposition != "attachment"
            && self.filename.is_none()
    }

    /// An attachment: anything that is not a body text.
    pub fn is_attachment(&self) -> bool {
        !self.is_body_text()
    }

    /// The content as text, decoded from its charset.
    pub fn text(&self) -> String {
        decode_charset(&self.data, &self.charset)
    }
}

/// A parsed message: its header fields, its leaf parts, and what was odd or cut about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub headers: Vec<Header>,
    pub parts: Vec<Part>,
    /// Headers of attached messages (message/rfc822), outermost first.
    pub attached_headers: Vec<Vec<Header>>,
    /// Parse problems and limits reached, one short sentence each (deduplicated).
    pub anomalies: Vec<String>,
    /// MIME entities seen (including any beyond the part limit).
    pub entities: usize,
    /// Bytes of the raw message.
    pub raw_size: usize,
}

struct Ctx<'l> {
    limits: &'l Limits,
    out: Parsed,
    decoded: usize,
    stop_parts: bool,
}

impl Ctx<'_> {
    fn anomaly(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.out.anomalies.len() < 32 && !self.out.anomalies.contains(&text) {
            self.out.anomalies.push(text);
        }
    }
}

/// Parse one message held in memory.
pub fn parse(raw: &[u8], limits: &Limits) -> Parsed {
    let mut ctx = Ctx {
        limits,
        out: Parsed {
            raw_size: raw.len(),
            ..Default::default()
        },
        decoded: 0,
        stop_parts: false,
    };
    let raw = if raw.len() > limits.max_message_bytes {
        ctx.anomaly(format!(
            "message larger than {} bytes: the rest was not read",
            limits.max_message_bytes
        ));
        &raw[..limits.max_message_bytes]
    } else {
        raw
    };
    let (headers, body) = split_entity(&mut ctx, raw, true);
    if headers.is_empty() {
        ctx.anomaly("no header fields");
    }
    ctx.out.entities = 1;
    entity(&mut ctx, &headers, body, 0, 0, "text/plain");
    ctx.out.headers = headers;
    ctx.out
}

/// Split an entity into its header fields and its body.
fn split_entity<'a>(ctx: &mut Ctx<'_>, raw: &'a [u8], top: bool) -> (Vec<Header>, &'a [u8]) {
    let mut raw = raw;
    // An mbox `From ` separator line left at the start is not a header.
    if top && raw.starts_with(b"From ") {
        match memchr::memchr(b'\n', raw) {
            Some(i) => raw = &raw[i + 1..],
            None => raw = &[],
        }
    }
    // The header section ends at the first empty line.
    let mut end = None;
    let mut i = 0;
    if raw.first() == Some(&b'\n') {
        end = Some((0, 1));
    } else if raw.starts_with(b"\r\n") {
        end = Some((0, 2));
    } else {
        while let Some(p) = memchr::memchr(b'\n', &raw[i..]) {
            let nl = i + p;
            let next = nl + 1;
            if raw.get(next) == Some(&b'\n') {
                end = Some((next, next + 1));
                break;
            }
            if raw.get(next) == Some(&b'\r') && raw.get(next + 1) == Some(&b'\n') {
                end = Some((next, next + 2));
                break;
            }
            i = next;
            if i > ctx.limits.max_header_bytes {
                break;
            }
        }
    }
    let (head, body) = match end {
        Some((h, b)) => (&raw[..h], &raw[b..]),
        None => {
            if raw.len() > ctx.limits.max_header_bytes {
                ctx.anomaly("header section too large or not terminated");
                (&raw[..ctx.limits.max_header_bytes], &raw[raw.len()..])
            } else {
                (raw, &raw[raw.len()..])
            }
        }
    };
    let head = if head.len() > ctx.limits.max_header_bytes {
        ctx.anomaly(format!(
            "header section larger than {} bytes: cut",
            ctx.limits.max_header_bytes
        ));
        &head[..ctx.limits.max_header_bytes]
    } else {
        head
    };
    (parse_headers(ctx, head), body)
}

fn bytes_to_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => decode_charset(b, "windows-1252"),
    }
}

fn parse_headers(ctx: &mut Ctx<'_>, head: &[u8]) -> Vec<Header> {
    let mut headers: Vec<Header> = Vec::new();
    let mut malformed = 0usize;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = headers.last_mut() {
                if last.value.len() < 256 * 1024 {
                    last.value.push_str(&bytes_to_text(line));
                }
            } else {
                malformed += 1;
            }
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            malformed += 1;
            continue;
        };
        let name = &line[..colon];
        if name.is_empty() || name.iter().any(|b| *b <= b' ' || *b >= 127) {
            // `Name :` with trailing spaces is tolerated; anything else is not a field.
            let trimmed = trim_ascii(name);
            if trimmed.is_empty() || trimmed.iter().any(|b| *b <= b' ' || *b >= 127) {
                malformed += 1;
                continue;
            }
        }
        if headers.len() >= ctx.limits.max_headers {
            ctx.anomaly(format!(
                "more than {} header fields: the rest were ignored",
                ctx.limits.max_headers
            ));
            break;
        }
        headers.push(Header {
            name: bytes_to_text(trim_ascii(name)),
            value: bytes_to_text(&line[colon + 1..]),
        });
    }
    for h in &mut headers {
        let t = h.value.trim();
        if t.len() != h.value.len() {
            h.value = t.to_string();
        }
    }
    if malformed > 0 {
        ctx.anomaly(format!("{malformed} malformed header line(s)"));
    }
    headers
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

/// The first field of that name (case-insensitive).
pub fn header<'h>(headers: &'h [Header], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn entity(
    ctx: &mut Ctx<'_>,
    headers: &[Header],
    body: &[u8],
    depth: usize,
    in_msg: usize,
    default_type: &str,
) {
    let (ctype, params) = match header(headers, "Content-Type") {
        Some(v) => {
            let (t, p) = parse_params(v);
            let t = t.to_ascii_lowercase();
            if t.contains('/') {
                (t, p)
            } else {
                ctx.anomaly(format!(
                    "malformed Content-Type {:?}",
                    crate::util::clip(v, 60)
                ));
                (default_type.to_string(), p)
            }
        }
        None => (default_type.to_string(), Vec::new()),
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let cte = header(headers, "Content-Transfer-Encoding")
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let (disposition, dparams) = header(headers, "Content-Disposition")
        .map(|v| {
            let (d, p) = parse_params(v);
            (d.to_ascii_lowercase(), p)
        })
        .unwrap_or_default();

    if ctype.starts_with("multipart/") {
        if depth >= ctx.limits.max_depth {
            ctx.anomaly(format!(
                "MIME nesting deeper than {}: inner parts not read",
                ctx.limits.max_depth
            ));
            return;
        }
        let Some(boundary) = param("boundary").filter(|b| !b.is_empty()) else {
            ctx.anomaly("multipart without a boundary: read as text");
            leaf(ctx, "text/plain", "", "", None, &cte, body, depth, in_msg);
            return;
        };
        let child_default = if ctype == "multipart/digest" {
            "message/rfc822"
        } else {
            "text/plain"
        };
        let (parts, closed) = split_multipart(body, boundary.as_bytes());
        if parts.is_empty() {
            ctx.anomaly("multipart body without any boundary line: read as text");
            leaf(ctx, "text/plain", "", "", None, &cte, body, depth, in_msg);
            return;
        }
        if !closed {
            ctx.anomaly("multipart without its closing boundary");
        }
        for part in parts {
            if ctx.stop_parts {
                break;
            }
            ctx.out.entities += 1;
            if ctx.out.entities > ctx.limits.max_parts {
                ctx.anomaly(format!(
                    "more than {} MIME parts: the rest were not read",
                    ctx.limits.max_parts
                ));
                ctx.stop_parts = true;
                break;
            }
            let (h, b) = split_entity(ctx, part, false);
            entity(ctx, &h, b, depth + 1, in_msg, child_default);
        }
        return;
    }

    if (ctype == "message/rfc822" || ctype == "message/global") && disposition != "attachment" {
        if depth >= ctx.limits.max_depth {
            ctx.anomaly(format!(
                "MIME nesting deeper than {}: attached message not read",
                ctx.limits.max_depth
            ));
            return;
        }
        let decoded;
        let inner: &[u8] = match cte.as_str() {
            "base64" | "quoted-printable" => {
                let budget = budget(ctx);
                decoded = if cte == "base64" {
                    base64_decode(body, budget).0
                } else {
                    qp_decode(body, false, budget).0
                };
                &decoded
            }
            _ => body,
        };
        let (h, b) = split_entity(ctx, inner, false);
        if ctx.out.attached_headers.len() < 16 {
            ctx.out.attached_headers.push(h.clone());
        }
        entity(ctx, &h, b, depth + 1, in_msg + 1, "text/plain");
        return;
    }

    let filename = dparams
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("filename"))
        .map(|(_, v)| v.clone())
        .or_else(|| param("name"))
        .map(|f| decode_words(&f))
        .filter(|f| !f.trim().is_empty());
    let charset = param("charset").unwrap_or_default().to_ascii_lowercase();
    leaf(
        ctx,
        &ctype,
        &charset,
        &disposition,
        filename,
        &cte,
        body,
        depth,
        in_msg,
    );
}

fn budget(ctx: &Ctx<'_>) -> usize {
    ctx.limits
        .max_part_bytes
        .min(ctx.limits.max_decoded_bytes.saturating_sub(ctx.decoded))
}

#[allow(clippy::too_many_arguments)]
fn leaf(
    ctx: &mut Ctx<'_>,
    ctype: &str,
    charset: &str,
    disposition: &str,
    filename: Option<String>,
    cte: &str,
    body: &[u8],
    depth: usize,
    in_msg: usize,
) {
    let limit = budget(ctx);
    let (data, cut) = match cte {
        "base64" => base64_decode(body, limit),
        "quoted-printable" => qp_decode(body, false, limit),
        _ => {
            let n = body.len().min(limit);
            (body[..n].to_vec(), body.len() > limit)
        }
    };
    if cut {
        ctx.anomaly(format!("a part was cut at {} decoded bytes (limit)", limit));
    }
    ctx.decoded += data.len();
    ctx.out.parts.push(Part {
        content_type: ctype.to_string(),
        charset: charset.to_string(),
        disposition: disposition.to_string(),
        filename,
        depth,
        in_attached_message: in_msg,
        data,
        truncated: cut,
    });
}

/// The bodies of a multipart, between its delimiter lines, and whether the closing delimiter
/// was found.
fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> (Vec<&'a [u8]>, bool) {
    let mut delim = Vec::with_capacity(boundary.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(boundary);
    let finder = memmem::Finder::new(&delim);
    let mut parts = Vec::new();
    let mut start: Option<usize> = None; // start of the current part's content
    let mut closed = false;
    let mut pos = 0;
    while let Some(off) = finder.find(&body[pos..]) {
        let at = pos + off;
        pos = at + delim.len();
        if at != 0 && body[at - 1] != b'\n' {
            continue;
        }
        let after = &body[at + delim.len()..];
        let is_close = after.starts_with(b"--");
        // The rest of the delimiter line must be blank (transport padding).
        let line_end = memchr::memchr(b'\n', after).unwrap_or(after.len());
        let rest = &after[if is_close { 2 } else { 0 }..line_end.max(if is_close { 2 } else { 0 })];
        if !rest.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if let Some(s) = start.take() {
            // The line break before the delimiter belongs to the delimiter.
            let mut e = at;
            if e > s && body[e - 1] == b'\n' {
                e -= 1;
                if e > s && body[e - 1] == b'\r' {
                    e -= 1;
                }
            }
            parts.push(&body[s..e.max(s)]);
        }
        if is_close {
            closed = true;
            break;
        }
        let next = at + delim.len() + line_end + 1;
        start = Some(next.min(body.len()));
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    (parts, closed)
}

/// `value; a=b; c="d e"` -> (`value`, [(a, b), (c, d e)]), with RFC 2231 extended and
/// continued parameters (`name*=utf-8''a%20b`, `name*0=`, `name*1*=`) joined and decoded.
pub fn parse_params(v: &str) -> (String, Vec<(String, String)>) {
    let mut items = split_params(v).into_iter();
    let value = items.next().unwrap_or_default().trim().to_string();
    let mut plain: Vec<(String, String)> = Vec::new();
    // RFC 2231 pieces: (name, index, extended, text)
    let mut pieces: Vec<(String, u32, bool, String)> = Vec::new();
    for item in items {
        let Some(eq) = item.find('=') else { continue };
        let name = item[..eq].trim().to_ascii_lowercase();
        let raw = item[eq + 1..].trim();
        let val = unquote(raw);
        if let Some(star) = name.find('*') {
            let base = name[..star].to_string();
            let rest = &name[star + 1..];
            let (index, extended) = if rest.is_empty() {
                (0, true)
            } else {
                let ext = rest.ends_with('*');
                let n = rest.trim_end_matches('*').parse().unwrap_or(0);
                (n, ext)
            };
            if pieces.len() < 64 {
                pieces.push((base, index, extended, val));
            }
        } else if plain.len() < 32 {
            plain.push((name, val));
        }
    }
    if !pieces.is_empty() {
        pieces.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut i = 0;
        while i < pieces.len() {
            let name = pieces[i].0.clone();
            let mut charset = String::new();
            let mut bytes = Vec::new();
            let mut first = true;
            while i < pieces.len() && pieces[i].0 == name {
                let (_, _, ext, text) = &pieces[i];
                if *ext {
                    let mut t = text.as_str();
                    if first {
                        // charset'language'value
                        let mut it = t.splitn(3, '\'');
                        if let (Some(cs), Some(_lang), Some(rest)) =
                            (it.next(), it.next(), it.next())
                        {
                            charset = cs.to_string();
                            t = rest;
                        }
                    }
                    bytes.extend_from_slice(&percent_decode(t));
                } else {
                    bytes.extend_from_slice(text.as_bytes());
                }
                first = false;
                i += 1;
            }
            let text = decode_charset(&bytes, &charset);
            plain.retain(|(k, _)| *k != name);
            plain.push((name, text));
        }
    }
    (value, plain)
}

fn split_params(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escape = false;
    for c in v.chars() {
        if escape {
            cur.push(c);
            escape = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escape = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => {
                out.push(std::mem::take(&mut cur));
                if out.len() > 64 {
                    return out;
                }
            }
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut esc = false;
        for c in inner.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s.trim_matches('"').to_string()
    }
}

/// Decode RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`); whitespace
/// between two encoded words is dropped, as the RFC says.
pub fn decode_words(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        // =?charset?enc?text?=
        let parsed = (|| {
            let body = &from[2..];
            let q1 = body.find('?')?;
            let charset = &body[..q1];
            let after = &body[q1 + 1..];
            let q2 = after.find('?')?;
            let enc = &after[..q2];
            let text_and = &after[q2 + 1..];
            let end = text_and.find("?=")?;
            let text = &text_and[..end];
            if charset.is_empty() || charset.contains(char::is_whitespace) || text.contains(' ') {
                return None;
            }
            let bytes = match enc {
                "B" | "b" => base64_decode(text.as_bytes(), 1 << 16).0,
                "Q" | "q" => qp_decode(text.as_bytes(), true, 1 << 16).0,
                _ => return None,
            };
            let charset = charset.split('*').next().unwrap_or(charset);
            let consumed = 2 + q1 + 1 + q2 + 1 + end + 2;
            Some((decode_charset(&bytes, charset), consumed))
        })();
        match parsed {
            Some((text, consumed)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &from[consumed..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
        if out.len() > 1 << 16 {
            return out;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_and_params() {
        assert_eq!(decode_words("=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3=A9?="), "été");
        assert_eq!(
            decode_words("Re: =?iso-8859-1?q?caf=E9?= now"),
            "Re: café now"
        );
        assert_eq!(decode_words("a =?x"), "a =?x");
        let (v, p) = parse_params("attachment; filename*0*=utf-8''na%C3%AF; filename*1=ve.pdf");
        assert_eq!(v, "attachment");
        assert_eq!(p, vec![("filename".to_string(), "naïve.pdf".to_string())]);
        let (v, p) = parse_params("text/html; charset=\"UTF-8\"; name=\"a;b.htm\"");
        assert_eq!(v, "text/html");
        assert_eq!(p[0], ("charset".into(), "UTF-8".into()));
        assert_eq!(p[1], ("name".into(), "a;b.htm".into()));
    }

    #[test]
    fn multipart_with_attachment() {
        let raw = b"From: a@b.c\r\nSubject: =?utf-8?Q?hi?=\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: application/octet-stream; name=\"a.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n--XX--\r\nepilogue";
        let p = parse(raw, &Limits::default());
        assert_eq!(p.parts.len(), 2);
        assert_eq!(p.parts[0].data, b"hello");
        assert!(p.parts[0].is_body_text());
        assert_eq!(p.parts[1].filename.as_deref(), Some("a.exe"));
        assert_eq!(p.parts[1].data, b"MZ\x90\x00");
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(header(&p.headers, "subject"), Some("=?utf-8?Q?hi?="));
    }

    #[test]
    fn boundary_prefix_is_not_a_delimiter() {
        let body = b"--b\nA\n--bb\nnot a delimiter\n--b--\n";
        let (parts, closed) = split_multipart(body, b"b");
        assert!(closed);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0], b"A\n--bb\nnot a delimiter");
    }
}
