//! Small helpers: SHA-256, base64 and quoted-printable decoding, defanging, domain names.

use std::net::IpAddr;

// ---------------------------------------------------------------------------------------------
// SHA-256

/// SHA-256 of `data`, as 64 lowercase hex digits.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Transfer encodings

fn b64_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Lenient base64: characters outside the alphabet are skipped, `=` ends a quantum; at most
/// `limit` bytes are produced. Returns the bytes and whether the output was cut at the limit.
pub fn base64_decode(input: &[u8], limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity((input.len() / 4 * 3).min(limit));
    let mut acc = 0u32;
    let mut n = 0;
    for &c in input {
        if c == b'=' {
            // Flush a partial quantum and start afresh (some encoders concatenate runs).
            match n {
                2 => out.push((acc >> 4) as u8),
                3 => {
                    out.push((acc >> 10) as u8);
                    out.push((acc >> 2) as u8);
                }
                _ => {}
            }
            acc = 0;
            n = 0;
            if out.len() >= limit {
                out.truncate(limit);
                return (out, true);
            }
            continue;
        }
        let Some(v) = b64_value(c) else { continue };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
            if out.len() >= limit {
                out.truncate(limit);
                return (out, true);
            }
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => {
            out.push((acc >> 10) as u8);
            out.push((acc >> 2) as u8);
        }
        _ => {}
    }
    let cut = out.len() > limit;
    out.truncate(limit);
    (out, cut)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Quoted-printable (RFC 2045), leniently: a bad escape is kept as is. `header` mode (RFC 2047
/// `Q`) also turns `_` into a space.
pub fn qp_decode(input: &[u8], header: bool, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len().min(limit));
    let mut i = 0;
    while i < input.len() {
        if out.len() >= limit {
            return (out, true);
        }
        let c = input[i];
        if c == b'=' {
            // Soft line break: `=` then optional spaces then CRLF or LF.
            let mut j = i + 1;
            while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
                j += 1;
            }
            if j < input.len() && input[j] == b'\r' && input.get(j + 1) == Some(&b'\n') {
                i = j + 2;
                continue;
            }
            if j < input.len() && input[j] == b'\n' {
                i = j + 1;
                continue;
            }
            if j >= input.len() {
                break;
            }
            if i + 2 < input.len() + 1 {
                if let (Some(h), Some(l)) = (
                    input.get(i + 1).copied().and_then(hex_value),
                    input.get(i + 2).copied().and_then(hex_value),
                ) {
                    out.push((h << 4) | l);
                    i += 3;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        } else if header && c == b'_' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, false)
}

/// Percent-decoding (URLs, RFC 2231 parameters), leniently.
pub fn percent_decode(input: &str) -> Vec<u8> {
    let b = input.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_value),
                b.get(i + 2).copied().and_then(hex_value),
            ) {
                out.push((h << 4) | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Bytes in a named charset to text (UTF-8 when the charset is unknown), never failing.
pub fn decode_charset(bytes: &[u8], charset: &str) -> String {
    let label = charset.trim().trim_matches('"');
    let enc = if label.is_empty() {
        None
    } else {
        encoding_rs::Encoding::for_label(label.as_bytes())
    };
    match enc {
        Some(enc) if enc != encoding_rs::UTF_8 => {
            enc.decode_without_bom_handling(bytes).0.into_owned()
        }
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            // Undeclared 8-bit text is most often Windows-1252.
            Err(_) if label.is_empty() || label.eq_ignore_ascii_case("us-ascii") => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
                    .into_owned()
            }
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Defanging

/// Make an indicator safe to paste: `https://evil.com/x` -> `hxxps://evil[.]com/x`,
/// `a@evil.com` -> `a@evil[.]com`, `1.2.3.4` -> `1.2.3[.]4`.
pub fn defang(s: &str) -> String {
    let mut rest = s;
    let mut out = String::with_capacity(s.len() + 8);
    let lower = s.to_ascii_lowercase();
    for (scheme, safe) in [
        ("https://", "hxxps://"),
        ("http://", "hxxp://"),
        ("ftp://", "fxp://"),
    ] {
        if lower.starts_with(scheme) {
            out.push_str(safe);
            rest = &s[scheme.len()..];
            break;
        }
    }
    // Dots in the host part only (up to the first `/`, `?` or `#`); for a bare indicator
    // (domain, address, IP) the whole of it.
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    out.push_str(&host.replace('.', "[.]"));
    out.push_str(tail);
    out
}

// ---------------------------------------------------------------------------------------------
// Domains

/// Second-level labels under which registrations happen (`co.uk`, `com.br`, ...): a short,
/// common list, not the whole Public Suffix List.
const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "ac", "co", "com", "edu", "gov", "net", "org", "or", "ne", "go", "gob", "gouv", "mil", "nic",
    "ltd", "plc", "sch", "nhs", "police", "res", "blog", "info", "biz", "web", "nom", "mus",
];

/// Country-code TLDs that use the second-level labels above.
fn cc_with_second_level(tld: &str) -> bool {
    tld.len() == 2
}

/// Free subdomain hosts: each customer gets `name.HOST`, so the registrable unit is one more
/// label down.
pub const FREE_SUBDOMAIN_HOSTS: &[&str] = &[
    "web.app",
    "firebaseapp.com",
    "appspot.com",
    "blogspot.com",
    "weebly.com",
    "wixsite.com",
    "wix.com",
    "000webhostapp.com",
    "github.io",
    "gitlab.io",
    "netlify.app",
    "herokuapp.com",
    "glitch.me",
    "repl.co",
    "replit.app",
    "pages.dev",
    "workers.dev",
    "r2.dev",
    "vercel.app",
    "azurewebsites.net",
    "web.core.windows.net",
    "blob.core.windows.net",
    "cloudfront.net",
    "amazonaws.com",
    "ngrok.io",
    "ngrok-free.app",
    "trycloudflare.com",
    "duckdns.org",
    "no-ip.com",
    "ddns.net",
    "sharepoint.com",
    "my.canva.site",
    "canva.site",
    "webflow.io",
    "square.site",
    "godaddysites.com",
    "mystrikingly.com",
    "jimdosite.com",
    "yolasite.com",
    "wordpress.com",
    "tumblr.com",
    "myshopify.com",
    "surge.sh",
    "onrender.com",
    "fly.dev",
    "typeform.com",
    "ipfs.io",
    "dweb.link",
    "zendesk.com",
    "freshdesk.com",
    "formstack.com",
    "jotform.com",
];

/// The registrable part of a host name: `a.b.example.co.uk` -> `example.co.uk`,
/// `victim.web.app` -> `victim.web.app` (free subdomain hosts keep the customer's label).
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<IpAddr>().is_ok() {
        return host;
    }
    for free in FREE_SUBDOMAIN_HOSTS {
        if let Some(prefix) = host.strip_suffix(free) {
            if let Some(prefix) = prefix.strip_suffix('.') {
                let label = prefix.rsplit('.').next().unwrap_or(prefix);
                return format!("{label}.{free}");
            }
        }
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() <= 2 {
        return labels.join(".");
    }
    let tld = labels[labels.len() - 1];
    let sld = labels[labels.len() - 2];
    let keep = if cc_with_second_level(tld) && MULTI_LABEL_SUFFIXES.contains(&sld) {
        3
    } else {
        2
    };
    labels[labels.len() - keep..].join(".")
}

/// `host` is `domain` or a subdomain of it.
pub fn host_within(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    if host.len() == domain.len() {
        return host.eq_ignore_ascii_case(domain);
    }
    host.len() > domain.len()
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
        && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
}

/// A public (routable) address, not private, loopback, link-local or documentation-reserved
/// for internal use.
pub fn is_public_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Text cut to at most `max` characters (on a character boundary), with `...` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            sha256_hex(&million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn transfer_encodings() {
        assert_eq!(base64_decode(b"aGVs\r\nbG8=", 100).0, b"hello");
        assert_eq!(base64_decode(b"aGVsbG8", 100).0, b"hello");
        assert_eq!(base64_decode(b"aGVsbG8=", 3), (b"hel".to_vec(), true));
        assert_eq!(
            qp_decode(b"a=3Db=\r\nc =C3=A9", false, 100).0,
            "a=bc é".as_bytes()
        );
        assert_eq!(qp_decode(b"a_b", true, 100).0, b"a b");
        assert_eq!(qp_decode(b"bad=zz=", false, 100).0, b"bad=zz");
        assert_eq!(decode_charset(b"caf\xe9", "iso-8859-1"), "café");
        assert_eq!(decode_charset(b"caf\xe9", ""), "café");
    }

    #[test]
    fn defang_and_domains() {
        assert_eq!(
            defang("https://evil.com/a.b?c.d"),
            "hxxps://evil[.]com/a.b?c.d"
        );
        assert_eq!(defang("user@evil.co.uk"), "user@evil[.]co[.]uk");
        assert_eq!(defang("10.0.0.1"), "10[.]0[.]0[.]1");
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("mail.example.com"), "example.com");
        assert_eq!(registrable_domain("x.victim.web.app"), "victim.web.app");
        assert_eq!(registrable_domain("bradesco.com.br"), "bradesco.com.br");
        assert!(host_within("mx.Corp.Example", "corp.example"));
        assert!(!host_within("notcorp.example", "corp.example"));
        assert!(!is_public_ip(&"10.1.2.3".parse().unwrap()));
        assert!(is_public_ip(&"45.91.133.254".parse().unwrap()));
    }
}
