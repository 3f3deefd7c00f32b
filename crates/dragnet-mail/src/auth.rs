//! Trace and authentication headers: which `Received` hop brought the message into the
//! organisation, and which `Authentication-Results` / `Received-SPF` fields can be believed.
//!
//! Trace fields are prepended, so the top of the header is written by the receiving side and
//! everything below the hand-off from the outside world was written by someone else, possibly
//! the attacker. The hand-off is the first `Received` hop (from the top) whose sending host is
//! not one of the organisation's own. Authentication results are trusted only when they sit
//! above that hop (or directly beneath it, before any older `Received`, where Postfix-style
//! filters put them) and, when they name their `authserv-id`, it is one of the organisation's.

use crate::mime::Header;
use crate::util::{host_within, is_public_ip, registrable_domain};
use std::net::IpAddr;

/// One `Received` hop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hop {
    /// Index of the field among all header fields.
    pub index: usize,
    /// `from` host as the sender named itself or as reverse DNS gave it (lower case).
    pub from_host: String,
    /// Names in the `from` comment (reverse DNS), lower case.
    pub from_rdns: String,
    pub from_ip: Option<IpAddr>,
    pub by_host: String,
    /// `with` protocol (ESMTPS, LMTP, HTTP...), upper case.
    pub with: String,
}

/// Parse the `Received` fields (newest first).
pub fn hops(headers: &[Header]) -> Vec<Hop> {
    headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.name.eq_ignore_ascii_case("Received"))
        .take(64)
        .map(|(i, h)| parse_received(i, &h.value))
        .collect()
}

fn token_after<'a>(s: &'a str, lower: &str, key: &str) -> Option<(&'a str, usize)> {
    let mut from = 0;
    while let Some(p) = lower[from..].find(key) {
        let at = from + p;
        let before_ok = at == 0
            || lower.as_bytes()[at - 1].is_ascii_whitespace()
            || lower.as_bytes()[at - 1] == b')'
            || lower.as_bytes()[at - 1] == b';';
        if before_ok {
            let start = at + key.len();
            let rest = &s[start..];
            let tok_end = rest
                .find(|c: char| c.is_whitespace() || c == ';' || c == '(')
                .unwrap_or(rest.len());
            return Some((&rest[..tok_end], start + tok_end));
        }
        from = at + key.len();
    }
    None
}

fn parse_received(index: usize, v: &str) -> Hop {
    let lower = v.to_ascii_lowercase();
    let mut hop = Hop {
        index,
        ..Default::default()
    };
    if let Some((host, end)) = token_after(v, &lower, "from ") {
        hop.from_host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        // The comment right after the from-host: `(rdns [ip])` or `(ip)` or `(helo=x)`.
        let rest = &v[end..];
        let rest_trim = rest.trim_start();
        if rest_trim.starts_with('(') {
            let close = rest_trim.find(')').unwrap_or(rest_trim.len());
            let comment = &rest_trim[1..close];
            hop.from_rdns = comment
                .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
                .find(|t| t.contains('.') && t.parse::<IpAddr>().is_err() && !t.contains('='))
                .unwrap_or("")
                .to_ascii_lowercase();
            hop.from_ip = find_ip(comment);
        }
        if hop.from_ip.is_none() {
            // `from [1.2.3.4]` or `from host ([1.2.3.4])` spelled otherwise.
            hop.from_ip = hop.from_host.parse().ok();
        }
    }
    if let Some((host, _)) = token_after(v, &lower, "by ") {
        hop.by_host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    }
    if let Some((with, _)) = token_after(v, &lower, "with ") {
        hop.with = with.to_ascii_uppercase();
    }
    hop
}

fn find_ip(s: &str) -> Option<IpAddr> {
    for tok in
        s.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')' | ',' | ';'))
    {
        let tok = tok.trim_start_matches("IPv6:").trim_start_matches("ipv6:");
        if let Ok(ip) = tok.parse::<IpAddr>() {
            return Some(ip);
        }
    }
    None
}

/// Mail providers whose several domains form one infrastructure.
const PROVIDER_GROUPS: &[&[&str]] = &[
    &[
        "outlook.com",
        "office365.com",
        "microsoft.com",
        "exchangelabs.com",
    ],
    &["google.com", "gmail.com", "googlemail.com"],
    &["yahoo.com", "yahoodns.net"],
    &["protonmail.ch", "proton.me", "protonmail.com"],
];

/// Who the receiving organisation is, for trusting its trace and authentication fields.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// Host domains of the organisation's own mail servers.
    pub hosts: Vec<String>,
    /// `authserv-id`s of its own authentication results.
    pub authserv_ids: Vec<String>,
}

impl Trust {
    fn trusts(&self, host: &str) -> bool {
        !host.is_empty() && self.hosts.iter().any(|d| host_within(host, d))
    }

    fn add(&mut self, host: &str) {
        if host.is_empty() || !host.contains('.') || host.parse::<IpAddr>().is_ok() {
            return;
        }
        let reg = registrable_domain(host);
        if !self.hosts.contains(&reg) {
            for group in PROVIDER_GROUPS {
                if group.contains(&reg.as_str()) {
                    for d in *group {
                        if !self.hosts.iter().any(|h| h == d) {
                            self.hosts.push(d.to_string());
                        }
                    }
                }
            }
            if !self.hosts.contains(&reg) {
                self.hosts.push(reg);
            }
        }
    }
}

/// Where the message entered the organisation.
#[derive(Clone, Debug, Default)]
pub struct Boundary {
    /// The hop at which an outside host handed the message in (index into the hops).
    pub hop: Option<usize>,
    /// Header index of that hop's `Received` field.
    pub header_index: Option<usize>,
    /// Header index of the next older `Received` (the end of the block the receiving server
    /// may have written beneath its own trace field).
    pub block_end: Option<usize>,
    /// The sending host and IP at the hand-off.
    pub sender_host: String,
    pub sender_ip: Option<IpAddr>,
    /// The trust in force (configured, or inferred from the top hop).
    pub trust: Trust,
    /// The trust was inferred (no configuration).
    pub inferred: bool,
}

fn internal_from(hop: &Hop, trust: &Trust) -> bool {
    if trust.trusts(&hop.from_host) || trust.trusts(&hop.from_rdns) {
        return match hop.from_ip {
            Some(ip) => {
                !is_public_ip(&ip) || trust.trusts(&hop.from_rdns) || trust.trusts(&hop.from_host)
            }
            None => true,
        };
    }
    if let Some(ip) = hop.from_ip {
        return !is_public_ip(&ip);
    }
    // No address: local names and local delivery protocols.
    hop.from_host.is_empty()
        || !hop.from_host.contains('.')
        || hop.from_host == "localhost"
        || hop.with.starts_with("LMTP")
        || hop.with == "LOCAL"
}

/// Find the hand-off hop, trusting `configured` hosts, or (when it has none) the top hop's
/// receiving domain and the internal hops beneath it.
pub fn boundary(headers: &[Header], hops: &[Hop], configured: &Trust) -> Boundary {
    let mut b = Boundary {
        trust: configured.clone(),
        inferred: configured.hosts.is_empty(),
        ..Default::default()
    };
    if hops.is_empty() {
        return b;
    }
    if b.inferred {
        b.trust.add(&hops[0].by_host);
    }
    for (i, hop) in hops.iter().enumerate() {
        let by_ok = i == 0 || b.trust.trusts(&hop.by_host) || !hop.by_host.contains('.');
        if !by_ok {
            // A hop not received by us: the previous hop was the last of ours.
            break;
        }
        if internal_from(hop, &b.trust) {
            if b.inferred {
                b.trust.add(&hop.from_host);
                if !hop.from_rdns.is_empty() {
                    b.trust.add(&hop.from_rdns);
                }
            }
            continue;
        }
        b.hop = Some(i);
        b.header_index = Some(hop.index);
        b.block_end = hops.get(i + 1).map(|h| h.index);
        b.sender_host = if hop.from_rdns.is_empty() {
            hop.from_host.clone()
        } else {
            hop.from_rdns.clone()
        };
        b.sender_ip = hop.from_ip;
        break;
    }
    if b.hop.is_none() {
        // Every hop looked internal (or the chain is short): trust down to the last hop.
        let last = hops.len() - 1;
        b.header_index = Some(hops[last].index);
        b.block_end = None;
    }
    let _ = headers;
    b
}

/// One method's result from `Authentication-Results`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodResult {
    /// `spf`, `dkim`, `dmarc`, `arc`, `compauth`, ...
    pub method: String,
    /// `pass`, `fail`, `softfail`, `none`, ...
    pub result: String,
    /// Properties (`header.d`, `header.from`, `smtp.mailfrom`, `reason`, ...).
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The authentication results the receiving organisation vouches for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthResults {
    pub results: Vec<MethodResult>,
    /// `Authentication-Results` fields present but not trusted (below the hand-off, or a
    /// foreign authserv-id).
    pub untrusted_fields: usize,
    /// Trusted fields found.
    pub trusted_fields: usize,
}

impl AuthResults {
    /// The first trusted result of a method.
    pub fn get(&self, method: &str) -> Option<&MethodResult> {
        self.results.iter().find(|r| r.method == method)
    }

    pub fn result(&self, method: &str) -> Option<&str> {
        self.get(method).map(|r| r.result.as_str())
    }
}

/// Parse one `Authentication-Results` value: the authserv-id (absent in Microsoft's fields)
/// and the method results.
pub fn parse_auth_results(v: &str) -> (Option<String>, Vec<MethodResult>) {
    let v = strip_comments(v);
    let mut parts = v.split(';').map(str::trim).filter(|s| !s.is_empty());
    let mut id = None;
    let mut results = Vec::new();
    let mut first = true;
    for part in parts.by_ref() {
        let mut toks = part.split_whitespace();
        let Some(head) = toks.next() else { continue };
        if first {
            first = false;
            if !head.contains('=') {
                id = Some(head.to_ascii_lowercase());
                // `authserv-id version` or `authserv-id; none`
                continue;
            }
        }
        let Some((method, result)) = head.split_once('=') else {
            continue;
        };
        let method = method
            .split('/')
            .next()
            .unwrap_or(method)
            .to_ascii_lowercase();
        let mut r = MethodResult {
            method,
            result: result.to_ascii_lowercase(),
            props: Vec::new(),
        };
        for t in toks {
            if let Some((k, val)) = t.split_once('=') {
                if r.props.len() < 16 {
                    r.props
                        .push((k.to_ascii_lowercase(), val.trim_matches('"').to_string()));
                }
            }
        }
        if results.len() < 32 {
            results.push(r);
        }
    }
    (id, results)
}

fn strip_comments(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether a header at `index` lies in the zone the organisation wrote.
fn in_trusted_zone(index: usize, b: &Boundary) -> bool {
    match b.header_index {
        None => false,
        Some(hi) if index < hi => true,
        Some(hi) => index > hi && b.block_end.is_none_or(|end| index < end),
    }
}

/// The trusted authentication results (`Authentication-Results`, then `Received-SPF` when no
/// trusted SPF result came from the former).
pub fn trusted_results(headers: &[Header], b: &Boundary) -> AuthResults {
    let mut out = AuthResults::default();
    for (i, h) in headers.iter().enumerate() {
        let ar = h.name.eq_ignore_ascii_case("Authentication-Results");
        if !ar {
            continue;
        }
        let (id, results) = parse_auth_results(&h.value);
        let id_ok = match &id {
            None => {
                // Without an authserv-id (Microsoft's style), only above the hand-off.
                b.header_index.is_some_and(|hi| i < hi)
            }
            Some(id) => {
                b.trust
                    .authserv_ids
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(id))
                    || (b.trust.authserv_ids.is_empty() && b.trust.trusts(id))
            }
        };
        if id_ok && in_trusted_zone(i, b) {
            out.trusted_fields += 1;
            out.results.extend(results);
        } else {
            out.untrusted_fields += 1;
        }
    }
    if out.get("spf").is_none() {
        for (i, h) in headers.iter().enumerate() {
            if h.name.eq_ignore_ascii_case("Received-SPF") && in_trusted_zone(i, b) {
                let word = h
                    .value
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !word.is_empty() {
                    out.results.push(MethodResult {
                        method: "spf".into(),
                        result: word,
                        props: Vec::new(),
                    });
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn trusts_only_the_receivers_results() {
        let headers = vec![
            h("Received", "from mx01.corp.example (10.12.1.25) by EXCH01.corp.example (10.12.1.25) with SMTP"),
            h("Received", "from mail.evil.example (mail.evil.example [45.91.133.254]) by mx01.corp.example (Postfix) with ESMTPS id A"),
            h("Authentication-Results", "mx01.corp.example; spf=softfail smtp.mailfrom=evil.example; dkim=none; dmarc=fail (p=none) header.from=evil.example"),
            h("Authentication-Results", "mx01.corp.example; dmarc=pass header.from=evil.example"),
            h("Received", "from x by mail.evil.example"),
            h("Authentication-Results", "mx01.corp.example; dmarc=pass header.from=forged.example"),
            h("From", "a@evil.example"),
        ];
        let hops = hops(&headers);
        assert_eq!(hops.len(), 3);
        assert_eq!(hops[1].from_ip, Some("45.91.133.254".parse().unwrap()));
        let b = boundary(&headers, &hops, &Trust::default());
        assert_eq!(b.hop, Some(1));
        assert_eq!(b.sender_host, "mail.evil.example");
        let ar = trusted_results(&headers, &b);
        assert_eq!(ar.trusted_fields, 2);
        assert_eq!(ar.untrusted_fields, 1);
        assert_eq!(ar.result("dmarc"), Some("fail"));
        assert_eq!(ar.result("spf"), Some("softfail"));
    }

    #[test]
    fn microsoft_style_fields_without_authserv_id() {
        let headers = vec![
            h("Received", "from SA3PR19MB7370.namprd19.prod.outlook.com (::1) by MN0PR19MB6312.namprd19.prod.outlook.com with HTTPS"),
            h("Received", "from BN8NAM11FT066.eop-nam11.prod.protection.outlook.com (2603:10b6:408:e6:cafe::23) by BN0PR03CA0023.outlook.office365.com (2603:10b6:408:e6::28) with Microsoft SMTP Server"),
            h("Authentication-Results", "spf=temperror (sender IP is 137.184.34.4) smtp.mailfrom=x; dkim=none (message not signed) header.d=none;dmarc=temperror action=none header.from=atendimento.com.br;compauth=fail reason=001"),
            h("Received", "from ubuntu-s-1vcpu (137.184.34.4) by BN8NAM11FT066.mail.protection.outlook.com (10.13.177.138) with Microsoft SMTP Server"),
            h("Authentication-Results", "spf=pass; dmarc=pass; compauth=pass"),
            h("Received", "by ubuntu-s-1vcpu (Postfix, from userid 0)"),
        ];
        let hops = hops(&headers);
        let b = boundary(&headers, &hops, &Trust::default());
        assert_eq!(b.hop, Some(2));
        assert_eq!(b.sender_ip, Some("137.184.34.4".parse().unwrap()));
        let ar = trusted_results(&headers, &b);
        assert_eq!(ar.result("compauth"), Some("fail"));
        assert_eq!(ar.get("compauth").unwrap().prop("reason"), Some("001"));
        assert_eq!(ar.untrusted_fields, 1);
    }

    #[test]
    fn parses_results() {
        let (id, r) = parse_auth_results("mx.example.org 1; dkim=pass (2048-bit key) header.d=a.example header.i=@a.example; arc=none");
        assert_eq!(id.as_deref(), Some("mx.example.org"));
        assert_eq!(r[0].method, "dkim");
        assert_eq!(r[0].prop("header.d"), Some("a.example"));
        assert_eq!(r[1].result, "none");
    }
}
