//! Compact projections of network events: what the analytics keep of a Zeek, Suricata or IIS
//! record, told apart by the readers' `_product`/`_service`/`_path` fields.

use dragnet_event::{Event, Provenance, Timestamp, Value};
use std::net::IpAddr;

/// What a network record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A connection (Zeek conn, Suricata flow); `open` for Zeek's open_conn reports.
    Conn,
    /// An HTTP request (Zeek http, Suricata http).
    Http,
    /// A TLS session (Zeek ssl, Suricata tls).
    Ssl,
    /// A DNS query or answer.
    Dns,
}

/// One network record, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct NetRecord {
    pub kind: Kind,
    /// Still open (Zeek `open_*` logs): the duration so far.
    pub open: bool,
    pub time: Timestamp,
    /// Zeek `uid` or Suricata `flow_id`: links HTTP/TLS/DNS records to their connection.
    pub uid: Option<Box<str>>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: Box<str>,
    pub service: Box<str>,
    pub duration: f64,
    /// Payload bytes originator -> responder and back.
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    /// IP-level bytes (RITA scores these); payload bytes when the log has no IP bytes.
    pub orig_ip_bytes: u64,
    pub resp_ip_bytes: u64,
    /// The sensor's own verdict on the endpoints (Zeek `local_orig`/`local_resp`).
    pub local_orig: Option<bool>,
    pub local_resp: Option<bool>,
    /// HTTP Host header or TLS SNI (`Some("")` for an HTTP request without a Host).
    pub host: Option<Box<str>>,
    pub method: Option<Box<str>>,
    pub uri: Option<Box<str>>,
    pub user_agent: Option<Box<str>>,
    pub status: Option<u16>,
    pub ja3: Option<Box<str>>,
    pub query: Option<Box<str>>,
    pub qtype: Option<Box<str>>,
    pub answers: Vec<Box<str>>,
    pub provenance: Provenance,
}

fn text(ev: &Event, name: &str) -> Option<Box<str>> {
    match ev.get(name)? {
        Value::Str(s) => Some(s.clone()),
        Value::List(l) => l.first().and_then(Value::as_text).map(|s| s.into()),
        other => other.as_text().map(|s| s.into()),
    }
}

fn ip(ev: &Event, name: &str) -> Option<IpAddr> {
    match ev.get(name)? {
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn num(ev: &Event, name: &str) -> Option<f64> {
    ev.get(name).and_then(Value::as_f64)
}

fn uint(ev: &Event, name: &str) -> u64 {
    num(ev, name).map(|f| f.max(0.0) as u64).unwrap_or(0)
}

fn flag(ev: &Event, name: &str) -> Option<bool> {
    match ev.get(name)? {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

impl NetRecord {
    fn empty(kind: Kind, ev: &Event) -> Self {
        NetRecord {
            kind,
            open: false,
            time: ev.time,
            uid: None,
            src: None,
            dst: None,
            src_port: 0,
            dst_port: 0,
            proto: "".into(),
            service: "".into(),
            duration: 0.0,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_ip_bytes: 0,
            resp_ip_bytes: 0,
            local_orig: None,
            local_resp: None,
            host: None,
            method: None,
            uri: None,
            user_agent: None,
            status: None,
            ja3: None,
            query: None,
            qtype: None,
            answers: Vec::new(),
            provenance: ev.provenance.clone(),
        }
    }

    /// The record an event holds, if it is a network record the analytics use.
    pub fn from_event(ev: &Event) -> Option<NetRecord> {
        let product = match ev.get("_product") {
            Some(Value::Str(s)) => s,
            _ => return None,
        };
        match &**product {
            "zeek" => Self::from_zeek(ev),
            "suricata" => Self::from_eve(ev),
            _ => None,
        }
    }

    fn from_zeek(ev: &Event) -> Option<NetRecord> {
        let service = text(ev, "_service")?;
        let kind = match &*service {
            "conn" => Kind::Conn,
            "http" => Kind::Http,
            "ssl" => Kind::Ssl,
            "dns" => Kind::Dns,
            _ => return None,
        };
        let mut r = Self::empty(kind, ev);
        r.open = text(ev, "_path").is_some_and(|p| p.starts_with("open_"));
        r.uid = text(ev, "uid");
        r.src = ip(ev, "id.orig_h");
        r.dst = ip(ev, "id.resp_h");
        r.src_port = uint(ev, "id.orig_p") as u16;
        r.dst_port = uint(ev, "id.resp_p") as u16;
        r.proto = text(ev, "proto").unwrap_or_default();
        match kind {
            Kind::Conn => {
                r.service = text(ev, "service").unwrap_or_default();
                r.duration = num(ev, "duration").unwrap_or(0.0);
                r.orig_bytes = uint(ev, "orig_bytes");
                r.resp_bytes = uint(ev, "resp_bytes");
                r.orig_ip_bytes = if ev.has("orig_ip_bytes") {
                    uint(ev, "orig_ip_bytes")
                } else {
                    r.orig_bytes
                };
                r.resp_ip_bytes = if ev.has("resp_ip_bytes") {
                    uint(ev, "resp_ip_bytes")
                } else {
                    r.resp_bytes
                };
                r.local_orig = flag(ev, "local_orig");
                r.local_resp = flag(ev, "local_resp");
            }
            Kind::Http => {
                r.host = Some(text(ev, "host").unwrap_or_default());
                r.method = text(ev, "method");
                r.uri = text(ev, "uri");
                r.user_agent = text(ev, "user_agent");
                r.status = num(ev, "status_code").map(|s| s as u16);
                r.orig_bytes = uint(ev, "request_body_len");
                r.resp_bytes = uint(ev, "response_body_len");
            }
            Kind::Ssl => {
                r.host = text(ev, "server_name");
                r.ja3 = text(ev, "ja3");
            }
            Kind::Dns => {
                r.query = text(ev, "query");
                r.qtype = text(ev, "qtype_name");
                if let Some(Value::List(l)) = ev.get("answers") {
                    r.answers = l
                        .iter()
                        .filter_map(Value::as_text)
                        .map(|s| s.into())
                        .collect();
                }
            }
        }
        Some(r)
    }

    fn from_eve(ev: &Event) -> Option<NetRecord> {
        let service = text(ev, "_service")?;
        let kind = match &*service {
            "flow" => Kind::Conn,
            "http" => Kind::Http,
            "tls" => Kind::Ssl,
            "dns" => Kind::Dns,
            _ => return None,
        };
        let mut r = Self::empty(kind, ev);
        r.uid = text(ev, "flow_id");
        r.src = ip(ev, "src_ip");
        r.dst = ip(ev, "dest_ip");
        r.src_port = uint(ev, "src_port") as u16;
        r.dst_port = uint(ev, "dest_port") as u16;
        r.proto = text(ev, "proto")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .into();
        match kind {
            Kind::Conn => {
                r.service = text(ev, "app_proto").unwrap_or_default();
                r.duration = num(ev, "flow.age").unwrap_or(0.0);
                r.orig_bytes = uint(ev, "flow.bytes_toserver");
                r.resp_bytes = uint(ev, "flow.bytes_toclient");
                r.orig_ip_bytes = r.orig_bytes;
                r.resp_ip_bytes = r.resp_bytes;
                if let Some(start) = text(ev, "flow.start") {
                    if let Some(t) = dragnet_event::Timestamp::parse(&fix_zone(&start)) {
                        r.time = t;
                    }
                }
            }
            Kind::Http => {
                r.host = Some(text(ev, "http.hostname").unwrap_or_default());
                r.method = text(ev, "http.http_method");
                r.uri = text(ev, "http.url");
                r.user_agent = text(ev, "http.http_user_agent");
                r.status = num(ev, "http.status").map(|s| s as u16);
            }
            Kind::Ssl => {
                r.host = text(ev, "tls.sni");
                r.ja3 = text(ev, "tls.ja3.hash");
            }
            Kind::Dns => {
                r.query = text(ev, "query");
                r.qtype = text(ev, "dns.rrtype");
            }
        }
        Some(r)
    }
}

fn fix_zone(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() > 5 {
        let z = &b[b.len() - 5..];
        if (z[0] == b'+' || z[0] == b'-') && z[1..].iter().all(u8::is_ascii_digit) {
            return format!("{}:{}", &s[..s.len() - 2], &s[s.len() - 2..]);
        }
    }
    s.to_string()
}

/// One IIS request, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct WebRequest {
    pub time: Timestamp,
    pub host: Box<str>,
    pub client: Box<str>,
    pub method: Box<str>,
    /// Path, URL-decoded.
    pub stem: Box<str>,
    /// Query, URL-decoded.
    pub query: Box<str>,
    pub status: u16,
    pub user_agent: Box<str>,
    pub referer: Box<str>,
    pub provenance: Provenance,
}

impl WebRequest {
    pub fn from_event(ev: &Event) -> Option<WebRequest> {
        if !matches!(ev.get("_product"), Some(Value::Str(s)) if &**s == "iis") {
            return None;
        }
        let t = |a: &str, b: &str| text(ev, a).or_else(|| text(ev, b)).unwrap_or_default();
        Some(WebRequest {
            time: ev.time,
            host: ev.host.clone(),
            client: t("c-ip", "x-forwarded-for"),
            method: t("cs-method", "cs-method"),
            stem: t("cs-uri-stem-decoded", "cs-uri-stem"),
            query: t("cs-uri-query-decoded", "cs-uri-query"),
            status: num(ev, "sc-status").unwrap_or(0.0) as u16,
            user_agent: t("cs-user-agent", "cs(User-Agent)"),
            referer: t("cs-referer", "cs(Referer)"),
            provenance: ev.provenance.clone(),
        })
    }
}
