//! HTML as phishing uses it: links with their visible text, forms, scripts, hidden text, and
//! URLs in plain text. A forgiving tokenizer, bounded in input and output; nothing is rendered,
//! run or fetched.

/// Most bytes of one HTML body looked at.
pub const MAX_HTML_BYTES: usize = 4 << 20;
/// Most links kept per body.
pub const MAX_LINKS: usize = 400;

/// Where a URL was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkSource {
    /// `<a href>` / `<area href>`: a link to click.
    Anchor,
    /// `<form action>`.
    Form,
    /// `<meta http-equiv=refresh>`, `<iframe src>`, `<script src>`: loaded or followed by itself.
    Auto,
    /// A URL written in plain text.
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    /// The visible text of the anchor (decoded, whitespace collapsed), if any.
    pub text: String,
    pub source: LinkSource,
    /// The anchor has a `download` attribute.
    pub download: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlFacts {
    pub links: Vec<Link>,
    /// Visible text (roughly: tags removed, entities decoded).
    pub text: String,
    /// Inline script code and event handler attributes.
    pub scripts: String,
    pub forms: usize,
    pub password_inputs: usize,
    /// Remote images (`<img src=http...>`).
    pub remote_images: usize,
    /// Characters of text inside elements styled to be invisible.
    pub hidden_text_chars: usize,
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let v = if let Some(h) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            u32::from_str_radix(h, 16).ok()?
        } else {
            num.parse().ok()?
        };
        return char::from_u32(v);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "shy" => '\u{AD}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "copy" => '©',
        "reg" => '®',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" => '’',
        "lsquo" => '‘',
        "ldquo" => '“',
        "rdquo" => '”',
        "euro" => '€',
        _ => return None,
    })
}

/// Decode character references (`&amp;`, `&#64;`, `&#x40;`).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';' || !(c.is_ascii_alphanumeric() || *c == '#'))
            .map(|(j, c)| (j, c == ';'));
        match end {
            Some((j, semi)) if j > 0 => match decode_entity(&after[..j]) {
                Some(c) => {
                    out.push(c);
                    rest = &after[j + usize::from(semi)..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            },
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

struct Tag<'a> {
    name: String,
    closing: bool,
    attrs: Vec<(String, &'a str)>,
}

impl Tag<'_> {
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| decode_entities(v))
    }
}

/// Parse the tag starting at `s[0] == '<'`; returns it and its length in bytes.
fn parse_tag(s: &str) -> Option<(Tag<'_>, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(1) == Some(&b'/');
    if closing {
        i += 1;
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b':') {
        i += 1;
    }
    if i == start {
        return None;
    }
    let name = s[start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return Some((
                Tag {
                    name,
                    closing,
                    attrs,
                },
                b.len(),
            ));
        }
        if b[i] == b'>' {
            return Some((
                Tag {
                    name,
                    closing,
                    attrs,
                },
                i + 1,
            ));
        }
        let ks = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let key = s[ks..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = memchr::memchr(q, &b[vs..]).map_or(b.len(), |p| vs + p);
                value = &s[vs..ve];
                i = (ve + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = &s[vs..i];
            }
        }
        if attrs.len() < 64 && !key.is_empty() {
            attrs.push((key, value));
        }
        if i == ks {
            i += 1;
        }
    }
}

fn hides(tag: &Tag<'_>) -> bool {
    if tag.attrs.iter().any(|(k, _)| k == "hidden") {
        return true;
    }
    let Some(style) = tag.attr("style") else {
        return false;
    };
    let st: String = style
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    st.contains("display:none")
        || st.contains("visibility:hidden")
        || st.contains("font-size:0")
        || st.contains("font-size:1px")
        || st.contains("max-height:0")
        || st.contains("opacity:0;")
        || st.ends_with("opacity:0")
}

const VOID: &[&str] = &[
    "br", "img", "input", "meta", "link", "hr", "area", "base", "col", "embed", "source", "wbr",
    "param", "track",
];

/// Read an HTML body.
pub fn analyze_html(html: &str) -> HtmlFacts {
    let html = if html.len() > MAX_HTML_BYTES {
        let mut end = MAX_HTML_BYTES;
        while !html.is_char_boundary(end) {
            end -= 1;
        }
        &html[..end]
    } else {
        html
    };
    let mut f = HtmlFacts::default();
    let mut text = String::with_capacity(html.len() / 2);
    // The open anchor: index of its link and where its text starts.
    let mut anchor: Option<(usize, usize)> = None;
    // Stack of open hiding elements (tag names).
    let mut hidden: Vec<String> = Vec::new();
    let mut i = 0;
    let b = html.as_bytes();
    while i < b.len() {
        let Some(p) = memchr::memchr(b'<', &b[i..]) else {
            push_text(&mut text, &html[i..], &mut f, !hidden.is_empty());
            break;
        };
        let lt = i + p;
        push_text(&mut text, &html[i..lt], &mut f, !hidden.is_empty());
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            i = match rest.find("-->") {
                Some(e) => lt + e + 3,
                None => b.len(),
            };
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = match memchr::memchr(b'>', &b[lt..]) {
                Some(e) => lt + e + 1,
                None => b.len(),
            };
            continue;
        }
        let Some((tag, len)) = parse_tag(rest) else {
            text.push('<');
            i = lt + 1;
            continue;
        };
        i = lt + len;
        if !tag.closing {
            for (k, v) in &tag.attrs {
                if k.starts_with("on") && k.len() > 2 && f.scripts.len() < MAX_HTML_BYTES {
                    f.scripts.push_str(&decode_entities(v));
                    f.scripts.push('\n');
                }
            }
        }
        match (tag.name.as_str(), tag.closing) {
            ("script", false) | ("style", false) => {
                let close = format!("</{}", tag.name);
                let body_end = find_ci(&html[i..], &close).map_or(b.len(), |e| i + e);
                if tag.name == "script" {
                    if let Some(src) = tag.attr("src") {
                        push_link(&mut f, src, String::new(), LinkSource::Auto, false);
                    }
                    if f.scripts.len() < MAX_HTML_BYTES {
                        f.scripts.push_str(&html[i..body_end]);
                        f.scripts.push('\n');
                    }
                }
                i = match memchr::memchr(b'>', &b[body_end..]) {
                    Some(e) => body_end + e + 1,
                    None => b.len(),
                };
            }
            ("a", false) | ("area", false) => {
                close_anchor(&mut f, &mut anchor, &text);
                if let Some(href) = tag.attr("href") {
                    let download = tag.attrs.iter().any(|(k, _)| k == "download");
                    if push_link(&mut f, href, String::new(), LinkSource::Anchor, download)
                        && tag.name == "a"
                    {
                        anchor = Some((f.links.len() - 1, text.len()));
                    }
                }
            }
            ("a", true) => close_anchor(&mut f, &mut anchor, &text),
            ("form", false) => {
                f.forms += 1;
                if let Some(action) = tag.attr("action") {
                    push_link(&mut f, action, String::new(), LinkSource::Form, false);
                }
            }
            ("input", false)
                if tag
                    .attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("password")) =>
            {
                f.password_inputs += 1;
            }
            ("iframe", false) | ("frame", false) | ("embed", false) | ("object", false) => {
                if let Some(src) = tag.attr("src").or_else(|| tag.attr("data")) {
                    push_link(&mut f, src, String::new(), LinkSource::Auto, false);
                }
            }
            ("meta", false) => {
                let refresh = tag
                    .attr("http-equiv")
                    .is_some_and(|v| v.eq_ignore_ascii_case("refresh"));
                if refresh {
                    if let Some(c) = tag.attr("content") {
                        let lower = c.to_ascii_lowercase();
                        if let Some(p) = lower.find("url=") {
                            let url = c[p + 4..].trim().trim_matches(['\'', '"']).to_string();
                            push_link(&mut f, url, String::new(), LinkSource::Auto, false);
                        }
                    }
                }
            }
            ("img", false) => {
                if tag.attr("src").is_some_and(|s| {
                    let s = s.trim_start().to_ascii_lowercase();
                    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("//")
                }) {
                    f.remote_images += 1;
                }
                if let Some(alt) = tag.attr("alt") {
                    // An image's alt text stands in for the link text of an image link.
                    if anchor.is_some() {
                        text.push(' ');
                        text.push_str(&alt);
                        text.push(' ');
                    }
                }
            }
            ("br", false) | ("p", _) | ("div", _) | ("tr", _) | ("td", _) | ("li", _) => {
                text.push(' ');
            }
            _ => {}
        }
        // Hidden-text bookkeeping.
        if !tag.closing && !VOID.contains(&tag.name.as_str()) && hides(&tag) && hidden.len() < 64 {
            hidden.push(tag.name.clone());
        } else if tag.closing && hidden.last() == Some(&tag.name) {
            hidden.pop();
        }
    }
    close_anchor(&mut f, &mut anchor, &text);
    f.text = collapse(&text);
    f
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

fn push_text(text: &mut String, raw: &str, f: &mut HtmlFacts, hidden: bool) {
    if raw.is_empty() || text.len() > MAX_HTML_BYTES {
        return;
    }
    let decoded = decode_entities(raw);
    if hidden {
        f.hidden_text_chars += decoded.chars().filter(|c| c.is_alphanumeric()).count();
    }
    text.push_str(&decoded);
}

fn push_link(
    f: &mut HtmlFacts,
    url: String,
    text: String,
    source: LinkSource,
    download: bool,
) -> bool {
    let url = url.trim().to_string();
    if url.is_empty() || url.starts_with('#') || f.links.len() >= MAX_LINKS {
        return false;
    }
    f.links.push(Link {
        url,
        text,
        source,
        download,
    });
    true
}

fn close_anchor(f: &mut HtmlFacts, anchor: &mut Option<(usize, usize)>, text: &str) {
    if let Some((idx, start)) = anchor.take() {
        if let Some(link) = f.links.get_mut(idx) {
            let t = text.get(start..).unwrap_or("");
            link.text = collapse(t);
            if link.text.chars().count() > 300 {
                link.text = crate::util::clip(&link.text, 300);
            }
        }
    }
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{A0}' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// URLs written in plain text (`http://`, `https://`, `www.`).
pub fn text_urls(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while out.len() < max {
        let next = ["http://", "https://", "www."]
            .iter()
            .filter_map(|p| lower[from..].find(p).map(|i| from + i))
            .min();
        let Some(start) = next else { break };
        // `www.` only at a word start.
        if lower[start..].starts_with("www.")
            && start > 0
            && lower.as_bytes()[start - 1].is_ascii_alphanumeric()
        {
            from = start + 4;
            continue;
        }
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`' | '|'))
            .map_or(text.len(), |e| start + e);
        let url = text[start..end].trim_end_matches(['.', ',', ';', ':', ')', ']', '!', '?', '*']);
        if url.len() > 8 {
            out.push(url.to_string());
        }
        from = end.max(start + 1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
        if from >= text.len() {
            break;
        }
    }
    out
}

/// A URL taken apart as far as phishing analysis needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// Lower-case scheme (`http`, `https`, `data`, `javascript`, ...); `http` for `www.` links.
    pub scheme: String,
    /// Lower-case host without port or user info (empty for schemes without one).
    pub host: String,
    /// The URL put user info before the host (`https://paypal.com@evil.example/`).
    pub userinfo: bool,
    /// Path, query and fragment.
    pub rest: String,
}

/// Parse a URL leniently.
pub fn parse_url(raw: &str) -> Option<Url> {
    let raw = raw.trim().trim_matches(['"', '\'']);
    let raw_clean: String = raw.chars().filter(|c| !c.is_control()).collect();
    let mut s = raw_clean.as_str();
    let lower = s.to_ascii_lowercase();
    let (scheme, after) = if lower.starts_with("www.") {
        ("http".to_string(), s)
    } else if let Some(rest) = s.strip_prefix("//") {
        ("https".to_string(), rest)
    } else {
        let colon = s.find(':')?;
        let scheme = &lower[..colon];
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        s = &s[colon + 1..];
        (scheme.to_string(), s)
    };
    let hierarchical = matches!(
        scheme.as_str(),
        "http" | "https" | "ftp" | "file" | "ftps" | "ws" | "wss"
    ) || after.starts_with("//");
    if !hierarchical {
        return Some(Url {
            scheme,
            host: String::new(),
            userinfo: false,
            rest: after.to_string(),
        });
    }
    let after = after.trim_start_matches(['/', '\\']);
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    let authority = &after[..end];
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    let host = if hostport.starts_with('[') {
        hostport
            .find(']')
            .map_or(hostport, |e| &hostport[1..e])
            .to_string()
    } else {
        hostport.split(':').next().unwrap_or("").to_string()
    };
    let host = String::from_utf8_lossy(&crate::util::percent_decode(&host))
        .trim_end_matches('.')
        .to_lowercase();
    Some(Url {
        scheme,
        host,
        userinfo,
        rest: after[end..].to_string(),
    })
}

/// The host as an IP address, including the numeric forms browsers accept (`0x7f.1`,
/// `3232235777`).
pub fn host_ip(host: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = host.parse() {
        return Some(ip);
    }
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c == 'x' || c == 'X')
    {
        return None;
    }
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::new();
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(p, 8).ok()?
        } else {
            p.parse().ok()?
        };
        nums.push(v);
    }
    let last = *nums.last()?;
    let mut v: u64 = 0;
    for (i, n) in nums[..nums.len() - 1].iter().enumerate() {
        if *n > 255 {
            return None;
        }
        v |= n << (24 - 8 * i);
    }
    let room = 32 - 8 * (nums.len() as u32 - 1);
    if room < 64 && last >= (1u64 << room) {
        return None;
    }
    v |= last;
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(v as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_text_forms_and_hidden() {
        let h = r#"<html><body><p>Dear user &amp; friend</p>
            <a href="https://evil.example/login?x=1&amp;y=2">https://www.paypal.com/signin</a>
            <A HREF='http://10.0.0.1/a'><img src="https://x.example/i.png" alt="Open"></A>
            <form action="https://collect.example/p"><input type="password" name=p></form>
            <div style="display: none">salt salt salt</div>
            <script>var b = atob("AAAA"); new Blob([b]);</script>
            <meta http-equiv="refresh" content="0; url=https://redirect.example/">
            </body></html>"#;
        let f = analyze_html(h);
        assert_eq!(f.links[0].url, "https://evil.example/login?x=1&y=2");
        assert_eq!(f.links[0].text, "https://www.paypal.com/signin");
        assert_eq!(f.links[1].text, "Open");
        assert_eq!(f.links[2].source, LinkSource::Form);
        assert_eq!(f.links[3].source, LinkSource::Auto);
        assert_eq!(f.password_inputs, 1);
        assert_eq!(f.remote_images, 1);
        assert_eq!(f.hidden_text_chars, 12);
        assert!(f.scripts.contains("atob"));
        assert!(f.text.contains("Dear user & friend"));
        assert!(!f.text.contains("atob"));
    }

    #[test]
    fn urls() {
        let u = parse_url("https://paypal.com@evil.example:8080/x").unwrap();
        assert_eq!((u.host.as_str(), u.userinfo), ("evil.example", true));
        let u = parse_url("www.Example.com/a").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str()),
            ("http", "www.example.com")
        );
        assert_eq!(
            parse_url("javascript:alert(1)").unwrap().scheme,
            "javascript"
        );
        assert_eq!(parse_url("search-ms:query=x").unwrap().scheme, "search-ms");
        assert_eq!(host_ip("3232235777").unwrap().to_string(), "192.168.1.1");
        assert_eq!(host_ip("0x7f.1").unwrap().to_string(), "127.0.0.1");
        assert!(host_ip("example.com").is_none());
        assert_eq!(
            text_urls("see https://a.example/x. and www.b.example, ok", 10),
            vec!["https://a.example/x", "www.b.example"]
        );
        assert_eq!(
            decode_entities("a&#64;b&#x2e;c &unknown; &"),
            "a@b.c &unknown; &"
        );
    }
}
