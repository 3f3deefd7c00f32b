//! Threat intelligence: IOC lists matched on every field where each kind of indicator occurs,
//! and look-alike domains of security vendors and of the organisation's own domains.
//!
//! Lists: CSV with a header naming a `type` and a `value` column (like
//! `../shared/data/intel/ink-dragon-iocs.csv`; `a|b|c` in a value is three indicators; values
//! with placeholders such as `<uuid>` are skipped), or one indicator a line (`#` comments),
//! whose type is guessed (IP address, hash by length, URL, path, domain).
//!
//! Where each type is looked for:
//! - `ip`: every endpoint field (`id.orig_h`, `id.resp_h`, `src_ip`, `dest_ip`, `c-ip`, `s-ip`,
//!   `DestinationIp`, `SourceIp`, `IpAddress`, DNS `answers`...);
//! - `domain` (and its subdomains): HTTP Host, TLS SNI, DNS queries, certificate names,
//!   `QueryName`, `DestinationHostname`, URLs;
//! - `url`, `url_path`: HTTP URIs and IIS stems; `user_agent`; `ja3`/`ja3s`;
//! - `sha256`/`sha1`/`md5`: Zeek files hashes, Sysmon `Hashes`, file hash fields;
//! - `named_pipe`, `file_name`, `service`, `scheduled_task`, `string`: the Windows fields
//!   where they occur (`PipeName`, `Image`/`TargetFilename`, `ServiceName`, `TaskName`,
//!   `CommandLine`).
//!
//! One finding per (indicator, host, log) so that a beacon to a listed domain is one finding per
//! host and log, not one per connection.

use crate::domain::{self, looks_like, VENDOR_BRANDS};
use dragnet_event::{Detector, Event, Finding, Level, RuleMeta, SourceFormat, Value};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Kinds of indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IocKind {
    Ip,
    Domain,
    Url,
    UrlPath,
    UserAgent,
    Ja3,
    Hash,
    NamedPipe,
    FileName,
    Service,
    Task,
    Text,
}

impl IocKind {
    fn from_type(t: &str) -> Option<IocKind> {
        Some(match t.trim().to_ascii_lowercase().as_str() {
            "ip" | "ipv4" | "ipv6" | "ip-dst" | "ip-src" | "ipv4-addr" | "ipv6-addr" => IocKind::Ip,
            "domain" | "hostname" | "fqdn" | "domain-name" => IocKind::Domain,
            "url" | "uri" => IocKind::Url,
            "url_path" | "uri_path" | "path" => IocKind::UrlPath,
            "user_agent" | "useragent" | "ua" => IocKind::UserAgent,
            "ja3" | "ja3s" => IocKind::Ja3,
            "sha256" | "sha1" | "md5" | "hash" | "imphash" => IocKind::Hash,
            "named_pipe" | "pipe" => IocKind::NamedPipe,
            "file_name" | "filename" | "file" => IocKind::FileName,
            "service" | "service_name" => IocKind::Service,
            "scheduled_task" | "task" => IocKind::Task,
            "string" | "keyword" => IocKind::Text,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            IocKind::Ip => "ip",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::UrlPath => "url_path",
            IocKind::UserAgent => "user_agent",
            IocKind::Ja3 => "ja3",
            IocKind::Hash => "hash",
            IocKind::NamedPipe => "named_pipe",
            IocKind::FileName => "file_name",
            IocKind::Service => "service",
            IocKind::Task => "scheduled_task",
            IocKind::Text => "string",
        }
    }

    fn attack(self) -> &'static [&'static str] {
        match self {
            IocKind::Ip | IocKind::Domain | IocKind::Url | IocKind::Ja3 => &["T1071", "T1583"],
            IocKind::UrlPath | IocKind::UserAgent => &["T1071.001", "T1105"],
            IocKind::Hash | IocKind::FileName => &["T1204"],
            IocKind::NamedPipe => &["T1559"],
            IocKind::Service => &["T1543.003"],
            IocKind::Task => &["T1053.005"],
            IocKind::Text => &["T1059"],
        }
    }
}

/// What a list says about an indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct IocInfo {
    pub kind: IocKind,
    pub value: String,
    /// The list's description (malware, role) and source.
    pub note: String,
    pub source: String,
}

/// A set of indicators.
#[derive(Clone, Debug, Default)]
pub struct IocSet {
    ips: HashMap<IpAddr, IocInfo>,
    domains: HashMap<String, IocInfo>,
    /// Exact (lower-cased) values by kind.
    exact: HashMap<(IocKind, String), IocInfo>,
    pub count: usize,
}

fn guess_kind(v: &str) -> IocKind {
    let v = v.trim();
    if v.parse::<IpAddr>().is_ok() {
        IocKind::Ip
    } else if v.len() >= 32 && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        IocKind::Hash
    } else if v.contains("://") {
        IocKind::Url
    } else if v.starts_with('/') {
        IocKind::UrlPath
    } else if domain::normalize(v).is_some_and(|d| d.contains('.')) {
        IocKind::Domain
    } else {
        IocKind::Text
    }
}

/// Split a CSV line (quotes honoured).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl IocSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Add one indicator; returns whether it was usable.
    pub fn add(&mut self, kind: IocKind, value: &str, note: &str, source: &str) -> bool {
        let value = value.trim();
        if value.is_empty() || value.contains('<') {
            return false;
        }
        let info = |v: &str| IocInfo {
            kind,
            value: v.to_string(),
            note: note.to_string(),
            source: source.to_string(),
        };
        let ok = match kind {
            IocKind::Ip => match value.parse::<IpAddr>() {
                Ok(ip) => {
                    self.ips.insert(ip, info(value));
                    true
                }
                Err(_) => false,
            },
            IocKind::Domain => match domain::normalize(value.trim_start_matches("*.")) {
                Some(d) => {
                    self.domains.insert(d.clone(), info(&d));
                    true
                }
                None => false,
            },
            IocKind::Url => {
                let v = value.to_ascii_lowercase();
                // A URL also lists its host.
                if let Some(rest) = v.split_once("://").map(|x| x.1) {
                    let host = rest.split(['/', '?']).next().unwrap_or("");
                    if let Some(d) = domain::normalize(host) {
                        self.domains.entry(d.clone()).or_insert_with(|| info(&d));
                    } else if let Ok(ip) = host.parse::<IpAddr>() {
                        self.ips.entry(ip).or_insert_with(|| info(host));
                    }
                }
                self.exact.insert((kind, v.clone()), info(value));
                true
            }
            _ => {
                let v = value.to_ascii_lowercase();
                self.exact.insert((kind, v), info(value));
                true
            }
        };
        if ok {
            self.count += 1;
        }
        ok
    }

    /// Load a list: CSV with `type` and `value` columns, or one indicator a line.
    pub fn load_text(&mut self, text: &str, source: &str) -> Result<usize, String> {
        let before = self.count;
        let mut lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let first = match lines.next() {
            Some(l) => l,
            None => return Ok(0),
        };
        let header: Vec<String> = csv_fields(first)
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let ti = header
            .iter()
            .position(|h| h == "type" || h == "indicator_type" || h == "ioc_type");
        let vi = header
            .iter()
            .position(|h| h == "value" || h == "indicator" || h == "ioc");
        if let (Some(ti), Some(vi)) = (ti, vi) {
            let ni = header
                .iter()
                .position(|h| h.contains("malware") || h.contains("description") || h == "note");
            let si = header.iter().position(|h| h == "source");
            for line in lines {
                let f = csv_fields(line);
                let (Some(t), Some(v)) = (f.get(ti), f.get(vi)) else {
                    continue;
                };
                let Some(kind) = IocKind::from_type(t) else {
                    continue;
                };
                let note = ni.and_then(|i| f.get(i)).map(String::as_str).unwrap_or("");
                let src = si
                    .and_then(|i| f.get(i))
                    .map(String::as_str)
                    .unwrap_or(source);
                for part in v.split('|') {
                    let part = part.split(" + ").next().unwrap_or(part);
                    self.add(kind, part, note, src);
                }
            }
        } else {
            for line in std::iter::once(first).chain(lines) {
                let v = line.split(['#', ',', '\t']).next().unwrap_or("").trim();
                if !v.is_empty() {
                    self.add(guess_kind(v), v, "", source);
                }
            }
        }
        Ok(self.count - before)
    }

    /// Load a list from a file.
    pub fn load_file(&mut self, path: &std::path::Path) -> Result<usize, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.load_text(&text, &path.display().to_string())
    }

    pub fn ip(&self, ip: &IpAddr) -> Option<&IocInfo> {
        self.ips.get(ip)
    }

    /// The listed domain `name` is, or is under.
    pub fn domain(&self, name: &str) -> Option<&IocInfo> {
        let n = domain::normalize(name)?;
        let mut s = n.as_str();
        loop {
            if let Some(i) = self.domains.get(s) {
                return Some(i);
            }
            match s.split_once('.') {
                Some((_, rest)) if rest.contains('.') => s = rest,
                _ => return None,
            }
        }
    }

    fn exact(&self, kind: IocKind, v: &str) -> Option<&IocInfo> {
        if self.exact.is_empty() {
            return None;
        }
        self.exact.get(&(kind, v.trim().to_ascii_lowercase()))
    }
}

impl crate::ThreatIntel for IocSet {
    fn is_listed(&self, indicator: &str) -> bool {
        match indicator.parse::<IpAddr>() {
            Ok(ip) => self.ips.contains_key(&ip),
            Err(_) => self.domain(indicator).is_some(),
        }
    }
}

/// Where a field's value may hold an indicator.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Ip,
    Domain,
    Uri,
    UrlPath,
    UserAgent,
    Ja3,
    Hash,
    Hashes,
    Pipe,
    File,
    Service,
    Task,
    CommandLine,
}

fn slot_of(field: &str) -> Option<Slot> {
    Some(match field {
        "id.orig_h" | "id.resp_h" | "src_ip" | "dest_ip" | "c-ip" | "s-ip" | "DestinationIp"
        | "SourceIp" | "IpAddress" | "ClientIP" | "tx_hosts" | "rx_hosts" | "x-forwarded-for"
        | "dns.rdata" => Slot::Ip,
        "answers" => Slot::Domain, // answers hold names and addresses: both are tried
        "host"
        | "server_name"
        | "query"
        | "http.hostname"
        | "tls.sni"
        | "dns.rrname"
        | "cs-host"
        | "QueryName"
        | "DestinationHostname"
        | "certificate.subject"
        | "san.dns"
        | "subject" => Slot::Domain,
        "uri" | "http.url" | "referrer" | "http.http_refer" | "cs-referer" => Slot::Uri,
        "cs-uri-stem" | "cs-uri-stem-decoded" => Slot::UrlPath,
        "user_agent" | "http.http_user_agent" | "cs-user-agent" => Slot::UserAgent,
        "ja3" | "ja3s" | "tls.ja3.hash" | "tls.ja3s.hash" => Slot::Ja3,
        "sha256" | "sha1" | "md5" | "fileinfo.sha256" | "fileinfo.md5" | "fileinfo.sha1"
        | "SHA256" | "MD5" => Slot::Hash,
        "Hashes" | "Hash" => Slot::Hashes,
        "PipeName" => Slot::Pipe,
        "Image" | "TargetFilename" | "ImageLoaded" | "OriginalFileName" | "ParentImage"
        | "filename" => Slot::File,
        "ServiceName" | "Service" => Slot::Service,
        "TaskName" => Slot::Task,
        "CommandLine" | "ScriptBlockText" => Slot::CommandLine,
        _ => return None,
    })
}

/// Matches IOC lists and look-alike domains on every event.
pub struct IntelDetector {
    iocs: Arc<IocSet>,
    /// Brands to protect: the vendor list and the organisation's own domains' first labels.
    brands: Vec<(String, bool)>,
    /// Domains of the organisation (never reported as look-alikes).
    org: Vec<String>,
    seen: Mutex<HashSet<(String, String, String)>>,
    ioc_rule: Arc<RuleMeta>,
    lookalike_rule: Arc<RuleMeta>,
}

impl IntelDetector {
    /// `org_domains`: the organisation's own registrable domains (`corp.example`).
    pub fn new(iocs: Arc<IocSet>, org_domains: &[String]) -> Self {
        let org: Vec<String> = org_domains
            .iter()
            .filter_map(|d| domain::normalize(d))
            .collect();
        let mut brands: Vec<(String, bool)> = VENDOR_BRANDS
            .iter()
            .filter(|b| b.len() >= 6)
            .map(|b| (b.to_string(), false))
            .collect();
        for d in &org {
            if let Some(label) = domain::registrable(d).and_then(|r| r.split('.').next()) {
                if label.len() >= 5 {
                    brands.push((label.to_string(), true));
                }
            }
        }
        IntelDetector {
            iocs,
            brands,
            org,
            seen: Mutex::new(HashSet::new()),
            ioc_rule: Arc::new(RuleMeta {
                id: "dragnet-intel-ioc".into(),
                title: "Threat intelligence: a listed indicator".into(),
                author: "dragnet".into(),
                status: "experimental".into(),
                description: "A value on an IOC list (IP, domain, URL, path, user agent, JA3, hash, pipe, file, service, task) occurs in the record.".into(),
                tags: vec!["attack.command-and-control".into()],
                source: "builtin:analytics/intel".into(),
                kind: "ioc".into(),
                ..Default::default()
            }),
            lookalike_rule: Arc::new(RuleMeta {
                id: "dragnet-intel-lookalike-domain".into(),
                title: "Look-alike domain of a security vendor or of the organisation".into(),
                author: "dragnet".into(),
                status: "experimental".into(),
                description: "A domain whose registrable name is one or two edits (or look-alike characters) away from a security vendor's or the organisation's own.".into(),
                tags: vec!["attack.resource-development".into(), "attack.t1583.001".into(), "attack.defense-evasion".into(), "attack.t1036".into()],
                source: "builtin:analytics/intel".into(),
                kind: "lookalike".into(),
                ..Default::default()
            }),
        }
    }

    fn first_time(&self, indicator: &str, host: &str, log: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 500_000 {
            return false;
        }
        seen.insert((indicator.to_string(), host.to_string(), log.to_string()))
    }

    fn ioc_finding(
        &self,
        ev: &Event,
        field: &str,
        value: &str,
        info: &IocInfo,
        out: &mut Vec<Finding>,
    ) {
        let log = ev
            .get_text("_service")
            .map(|s| s.into_owned())
            .unwrap_or_else(|| ev.channel().unwrap_or("").to_string());
        if !self.first_time(&info.value, &ev.host, &log) {
            return;
        }
        let mut f = Finding::new(
            Arc::clone(&self.ioc_rule),
            Level::High,
            ev.time,
            &ev.host,
            ev.provenance.clone(),
        );
        f.attack = info.kind.attack().iter().map(|s| s.to_string()).collect();
        let d = &mut f.details;
        d.insert("indicator".into(), json!(info.value));
        d.insert("indicator_type".into(), json!(info.kind.as_str()));
        d.insert("field".into(), json!(field));
        d.insert("value".into(), json!(value));
        if !info.note.is_empty() {
            d.insert("note".into(), json!(info.note));
        }
        d.insert("list".into(), json!(info.source));
        for (k, n) in [
            ("src", "id.orig_h"),
            ("dst", "id.resp_h"),
            ("src", "src_ip"),
            ("dst", "dest_ip"),
            ("src", "c-ip"),
        ] {
            if !d.contains_key(k) {
                if let Some(v) = ev.get_text(n) {
                    d.insert(k.into(), json!(v));
                }
            }
        }
        d.insert(
            "explanation".into(),
            json!(format!(
                "{} {} (listed: {}{}) found in field {field}; first hit for this indicator on {} in this log (later ones are not repeated)",
                info.kind.as_str(),
                info.value,
                if info.note.is_empty() { "no description" } else { &info.note },
                if info.source.is_empty() { String::new() } else { format!("; source {}", info.source) },
                if ev.host.is_empty() { "this source" } else { &ev.host }
            )),
        );
        out.push(f);
    }

    fn check_domain(&self, ev: &Event, field: &str, name: &str, out: &mut Vec<Finding>) {
        if let Some(info) = self.iocs.domain(name) {
            self.ioc_finding(ev, field, name, info, out);
        }
        let Some(n) = domain::normalize(name) else {
            return;
        };
        let Some(reg) = domain::registrable(&n) else {
            return;
        };
        if self
            .org
            .iter()
            .any(|o| o == reg || n.ends_with(&format!(".{o}")) || &n == o)
        {
            return;
        }
        let label = reg.split('.').next().unwrap_or("");
        for (brand, is_org) in &self.brands {
            if let Some(why) = looks_like(label, brand) {
                if !self.first_time(reg, &ev.host, "lookalike") {
                    return;
                }
                let level = Level::High;
                let mut f = Finding::new(
                    Arc::clone(&self.lookalike_rule),
                    level,
                    ev.time,
                    &ev.host,
                    ev.provenance.clone(),
                );
                let d = &mut f.details;
                d.insert("domain".into(), json!(n));
                d.insert("registrable_domain".into(), json!(reg));
                d.insert("imitates".into(), json!(brand));
                d.insert(
                    "imitates_kind".into(),
                    json!(if *is_org {
                        "organisation"
                    } else {
                        "security/IT vendor"
                    }),
                );
                d.insert("field".into(), json!(field));
                for (k, nm) in [
                    ("src", "id.orig_h"),
                    ("dst", "id.resp_h"),
                    ("src", "src_ip"),
                    ("dst", "dest_ip"),
                ] {
                    if !d.contains_key(k) {
                        if let Some(v) = ev.get_text(nm) {
                            d.insert(k.into(), json!(v));
                        }
                    }
                }
                d.insert(
                    "explanation".into(),
                    json!(format!(
                        "{n}: {why}; first use of {reg} by {} (later ones are not repeated)",
                        if ev.host.is_empty() {
                            "this source"
                        } else {
                            &ev.host
                        }
                    )),
                );
                out.push(f);
                return;
            }
        }
    }
}

impl Detector for IntelDetector {
    fn name(&self) -> &str {
        "intel"
    }

    fn detect(&self, ev: &Event, out: &mut Vec<Finding>) {
        // Look-alike checks run on network records only; IOC lists on everything.
        let network = matches!(
            ev.provenance.format,
            SourceFormat::ZeekTsv | SourceFormat::SuricataEve | SourceFormat::IisW3c
        ) || (ev.provenance.format == SourceFormat::Jsonl && ev.has("_product"));
        if self.iocs.is_empty() && !network {
            return;
        }
        for (name, value) in ev.fields() {
            let Some(slot) = slot_of(name) else {
                continue;
            };
            let values: Vec<std::borrow::Cow<'_, str>> = match value {
                Value::List(l) => l.iter().filter_map(Value::as_text).collect(),
                v => v.as_text().into_iter().collect(),
            };
            for v in values {
                let v = v.as_ref();
                if v.is_empty() {
                    continue;
                }
                match slot {
                    Slot::Ip => {
                        if let Ok(ip) = v.trim().parse::<IpAddr>() {
                            if let Some(info) = self.iocs.ip(&ip) {
                                self.ioc_finding(ev, name, v, info, out);
                            }
                        }
                    }
                    Slot::Domain => {
                        if let Ok(ip) = v.trim().parse::<IpAddr>() {
                            if let Some(info) = self.iocs.ip(&ip) {
                                self.ioc_finding(ev, name, v, info, out);
                            }
                        } else if network || !self.iocs.is_empty() {
                            let name_part = v.strip_prefix("CN=").unwrap_or(v);
                            self.check_domain(ev, name, name_part, out);
                        }
                    }
                    Slot::Uri => {
                        if let Some(info) = self.iocs.exact(IocKind::Url, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                        let path = v
                            .split_once("://")
                            .map_or(v, |x| x.1.find('/').map_or("/", |i| &x.1[i..]));
                        let stem = path.split('?').next().unwrap_or(path);
                        if let Some(info) = self.iocs.exact(IocKind::UrlPath, stem) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::UrlPath => {
                        if let Some(info) = self.iocs.exact(IocKind::UrlPath, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::UserAgent => {
                        if let Some(info) = self.iocs.exact(IocKind::UserAgent, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::Ja3 => {
                        if let Some(info) = self
                            .iocs
                            .exact(IocKind::Ja3, v)
                            .or_else(|| self.iocs.exact(IocKind::Hash, v))
                        {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::Hash => {
                        if let Some(info) = self.iocs.exact(IocKind::Hash, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::Hashes => {
                        // Sysmon: `SHA256=...,MD5=...,IMPHASH=...`
                        for part in v.split(',') {
                            let h = part.split_once('=').map_or(part, |x| x.1);
                            if let Some(info) = self.iocs.exact(IocKind::Hash, h) {
                                self.ioc_finding(ev, name, v, info, out);
                            }
                        }
                    }
                    Slot::Pipe => {
                        let p = v
                            .trim_start_matches("\\\\.\\pipe\\")
                            .trim_start_matches('\\');
                        for cand in [v, p, &format!("\\\\.\\Pipe\\{p}")] {
                            if let Some(info) = self.iocs.exact(IocKind::NamedPipe, cand) {
                                self.ioc_finding(ev, name, v, info, out);
                                break;
                            }
                        }
                    }
                    Slot::File => {
                        let base = v.rsplit(['\\', '/']).next().unwrap_or(v);
                        if let Some(info) = self
                            .iocs
                            .exact(IocKind::FileName, v)
                            .or_else(|| self.iocs.exact(IocKind::FileName, base))
                        {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::Service => {
                        if let Some(info) = self.iocs.exact(IocKind::Service, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::Task => {
                        if let Some(info) = self.iocs.exact(IocKind::Task, v) {
                            self.ioc_finding(ev, name, v, info, out);
                        }
                    }
                    Slot::CommandLine => {
                        if self.iocs.exact.keys().any(|k| k.0 == IocKind::Text) {
                            let lower = v.to_ascii_lowercase();
                            for ((k, s), info) in &self.iocs.exact {
                                if *k == IocKind::Text && s.len() >= 6 && lower.contains(s.as_str())
                                {
                                    self.ioc_finding(ev, name, v, info, out);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_load_both_ways() {
        let mut s = IocSet::new();
        let n = s
            .load_text(
                "type,value,malware_or_role,source,first_seen_or_note\ndomain,poster.checkponit.com,PATHLOADER,Elastic,2022\nipv4,47.83.8.198,infra,Elastic,HK\nfile_name,a.exe|b.dll,ShadowPad,CP,\nregistry_key,HKCU\\x\\<uuid>,x,y,\nuser_agent,\"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.85 Safari/537.36\",UA,E,\n",
                "t",
            )
            .unwrap();
        assert_eq!(n, 5);
        assert!(s.domain("POSTER.checkponit.com.").is_some());
        assert!(s.domain("x.poster.checkponit.com").is_some());
        assert!(s.domain("checkponit.com").is_none());
        assert!(s.ip(&"47.83.8.198".parse().unwrap()).is_some());
        assert!(s.exact(IocKind::FileName, "B.DLL").is_some());
        assert!(s.exact(IocKind::UserAgent, "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.85 Safari/537.36").is_some());
        let mut t = IocSet::new();
        assert_eq!(
            t.load_text("# list\n1.2.3.4\nevil.example\n/x/y\n", "l")
                .unwrap(),
            3
        );
        assert!(t.domain("a.evil.example").is_some());
    }
}
