//! Zeek 6 TSV rows (conn, dns, http, ssl) and the network exchanges built from them.

use crate::engine::{Body, Cx, FileKey, ZeekLog};
use crate::rng::Rng;
use crate::time::{self, SEC};
use crate::world::{is_internal, Site};

/// `#fields` and `#types` of each log (Zeek 6 defaults; ssl with validation_status and the
/// JA3 package's two columns, as deployed sensors write it).
pub fn columns(z: ZeekLog) -> (Vec<&'static str>, Vec<&'static str>) {
    let pairs: &[(&str, &str)] = match z {
        ZeekLog::Conn => &[
            ("ts", "time"),
            ("uid", "string"),
            ("id.orig_h", "addr"),
            ("id.orig_p", "port"),
            ("id.resp_h", "addr"),
            ("id.resp_p", "port"),
            ("proto", "enum"),
            ("service", "string"),
            ("duration", "interval"),
            ("orig_bytes", "count"),
            ("resp_bytes", "count"),
            ("conn_state", "string"),
            ("local_orig", "bool"),
            ("local_resp", "bool"),
            ("missed_bytes", "count"),
            ("history", "string"),
            ("orig_pkts", "count"),
            ("orig_ip_bytes", "count"),
            ("resp_pkts", "count"),
            ("resp_ip_bytes", "count"),
            ("tunnel_parents", "set[string]"),
        ],
        ZeekLog::Dns => &[
            ("ts", "time"),
            ("uid", "string"),
            ("id.orig_h", "addr"),
            ("id.orig_p", "port"),
            ("id.resp_h", "addr"),
            ("id.resp_p", "port"),
            ("proto", "enum"),
            ("trans_id", "count"),
            ("rtt", "interval"),
            ("query", "string"),
            ("qclass", "count"),
            ("qclass_name", "string"),
            ("qtype", "count"),
            ("qtype_name", "string"),
            ("rcode", "count"),
            ("rcode_name", "string"),
            ("AA", "bool"),
            ("TC", "bool"),
            ("RD", "bool"),
            ("RA", "bool"),
            ("Z", "count"),
            ("answers", "vector[string]"),
            ("TTLs", "vector[interval]"),
            ("rejected", "bool"),
        ],
        ZeekLog::Http => &[
            ("ts", "time"),
            ("uid", "string"),
            ("id.orig_h", "addr"),
            ("id.orig_p", "port"),
            ("id.resp_h", "addr"),
            ("id.resp_p", "port"),
            ("trans_depth", "count"),
            ("method", "string"),
            ("host", "string"),
            ("uri", "string"),
            ("referrer", "string"),
            ("version", "string"),
            ("user_agent", "string"),
            ("origin", "string"),
            ("request_body_len", "count"),
            ("response_body_len", "count"),
            ("status_code", "count"),
            ("status_msg", "string"),
            ("info_code", "count"),
            ("info_msg", "string"),
            ("tags", "set[enum]"),
            ("username", "string"),
            ("password", "string"),
            ("proxied", "set[string]"),
            ("orig_fuids", "vector[string]"),
            ("orig_filenames", "vector[string]"),
            ("orig_mime_types", "vector[string]"),
            ("resp_fuids", "vector[string]"),
            ("resp_filenames", "vector[string]"),
            ("resp_mime_types", "vector[string]"),
        ],
        ZeekLog::Ssl => &[
            ("ts", "time"),
            ("uid", "string"),
            ("id.orig_h", "addr"),
            ("id.orig_p", "port"),
            ("id.resp_h", "addr"),
            ("id.resp_p", "port"),
            ("version", "string"),
            ("cipher", "string"),
            ("curve", "string"),
            ("server_name", "string"),
            ("resumed", "bool"),
            ("last_alert", "string"),
            ("next_protocol", "string"),
            ("established", "bool"),
            ("ssl_history", "string"),
            ("cert_chain_fps", "vector[string]"),
            ("client_cert_chain_fps", "vector[string]"),
            ("sni_matches_cert", "bool"),
            ("validation_status", "string"),
            ("ja3", "string"),
            ("ja3s", "string"),
        ],
    };
    (
        pairs.iter().map(|p| p.0).collect(),
        pairs.iter().map(|p| p.1).collect(),
    )
}

pub fn uid(r: &Rng) -> String {
    let n = 15 + r.below(3) as usize;
    format!("C{}", r.base62(n))
}

pub fn fuid(r: &Rng) -> String {
    let n = 15 + r.below(3) as usize;
    format!("F{}", r.base62(n))
}

pub fn ephemeral(r: &Rng) -> u16 {
    r.range(49152, 65535) as u16
}

fn tf(b: bool) -> &'static str {
    if b {
        "T"
    } else {
        "F"
    }
}

/// Zeek escapes tabs and newlines inside fields.
fn field(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".to_string();
    }
    s.replace('\t', "\\x09").replace('\n', "\\x0a")
}

fn dur(micros: i64) -> String {
    format!("{}.{:06}", micros / SEC, micros % SEC)
}

/// One connection.
pub struct Conn<'a> {
    pub uid: &'a str,
    pub orig: &'a str,
    pub orig_p: u16,
    pub resp: &'a str,
    pub resp_p: u16,
    pub proto: &'a str,
    pub service: &'a str,
    pub duration: i64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub state: &'a str,
    pub history: &'a str,
}

pub fn conn_line(t: i64, c: &Conn) -> String {
    let (hdr, mss) = if c.proto == "udp" {
        (28u64, 1400u64)
    } else {
        (52u64, 1380u64)
    };
    let orig_pkts = if c.state == "S0" {
        2
    } else {
        c.orig_bytes / mss + 3 + c.duration as u64 / (60 * SEC as u64)
    };
    let resp_pkts = if c.state == "S0" || c.state == "REJ" && c.resp_bytes == 0 {
        u64::from(c.state == "REJ")
    } else {
        c.resp_bytes / mss + 2 + c.duration as u64 / (60 * SEC as u64)
    };
    let (orig_pkts, resp_pkts) = if c.proto == "udp" {
        (1, u64::from(c.resp_bytes > 0))
    } else {
        (orig_pkts, resp_pkts)
    };
    let service = if c.service.is_empty() { "-" } else { c.service };
    let (d, ob, rb) = if c.state == "S0" && c.proto == "tcp" {
        (dur(c.duration), "0".to_string(), "0".to_string())
    } else {
        (
            dur(c.duration),
            c.orig_bytes.to_string(),
            c.resp_bytes.to_string(),
        )
    };
    [
        time::zeek_ts(t),
        c.uid.to_string(),
        c.orig.to_string(),
        c.orig_p.to_string(),
        c.resp.to_string(),
        c.resp_p.to_string(),
        c.proto.to_string(),
        service.to_string(),
        d,
        ob,
        rb,
        c.state.to_string(),
        tf(is_internal(c.orig)).to_string(),
        tf(is_internal(c.resp)).to_string(),
        "0".to_string(),
        c.history.to_string(),
        orig_pkts.to_string(),
        (c.orig_bytes + orig_pkts * hdr).to_string(),
        resp_pkts.to_string(),
        (c.resp_bytes + resp_pkts * hdr).to_string(),
        "-".to_string(),
    ]
    .join("\t")
}

/// Emit a conn row.
#[allow(clippy::too_many_arguments)]
pub fn conn(
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    orig: &str,
    resp: &str,
    resp_p: u16,
    service: &str,
    duration: i64,
    ob: u64,
    rb: u64,
) -> String {
    let u = uid(r);
    let c = Conn {
        uid: &u,
        orig,
        orig_p: ephemeral(r),
        resp,
        resp_p,
        proto: "tcp",
        service,
        duration,
        orig_bytes: ob,
        resp_bytes: rb,
        state: "SF",
        history: "ShADadFf",
    };
    cx.emit(
        t,
        FileKey::Zeek(ZeekLog::Conn),
        step,
        Body::Line(conn_line(t, &c)),
    );
    u
}

/// A DNS lookup by `client` against `server`: a dns row and its conn row.
#[allow(clippy::too_many_arguments)]
pub fn dns(
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    client: &str,
    server: &str,
    query: &str,
    qtype: &str,
    answers: &[&str],
    ttl: u32,
) {
    let u = uid(r);
    let port = ephemeral(r);
    let rtt = r.range(300, if is_internal(server) { 2_000 } else { 40_000 });
    let (qt, rcode, rname) = match qtype {
        "AAAA" => (28, 0, "NOERROR"),
        "PTR" => (12, 0, "NOERROR"),
        "SRV" => (33, 0, "NOERROR"),
        "TXT" => (16, 0, "NOERROR"),
        _ => (1, 0, "NOERROR"),
    };
    let (rcode, rname) = if answers.is_empty() && qtype == "A" {
        (3, "NXDOMAIN")
    } else {
        (rcode, rname)
    };
    let ans = if answers.is_empty() {
        "-".to_string()
    } else {
        answers.join(",")
    };
    let ttls = if answers.is_empty() {
        "-".to_string()
    } else {
        answers
            .iter()
            .map(|_| format!("{ttl}.000000"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let line = [
        time::zeek_ts(t),
        u.clone(),
        client.to_string(),
        port.to_string(),
        server.to_string(),
        "53".to_string(),
        "udp".to_string(),
        r.range(1, 65535).to_string(),
        dur(rtt),
        field(query),
        "1".to_string(),
        "C_INTERNET".to_string(),
        qt.to_string(),
        qtype.to_string(),
        rcode.to_string(),
        rname.to_string(),
        tf(is_internal(server) && query.ends_with(crate::world::DNS_DOMAIN)).to_string(),
        "F".to_string(),
        "T".to_string(),
        "T".to_string(),
        "0".to_string(),
        ans,
        ttls,
        "F".to_string(),
    ]
    .join("\t");
    let q = query.len() as u64 + 18;
    let c = Conn {
        uid: &u,
        orig: client,
        orig_p: port,
        resp: server,
        resp_p: 53,
        proto: "udp",
        service: "dns",
        duration: rtt,
        orig_bytes: q,
        resp_bytes: q + 16 * answers.len() as u64,
        state: "SF",
        history: "Dd",
    };
    cx.emit(
        t,
        FileKey::Zeek(ZeekLog::Conn),
        step,
        Body::Line(conn_line(t, &c)),
    );
    cx.emit(t, FileKey::Zeek(ZeekLog::Dns), step, Body::Line(line));
}

/// The TLS client stack, for the ssl row's version/cipher/JA3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Chromium (Chrome, Edge, Teams): TLS 1.3.
    Browser,
    /// Windows SChannel (svchost, certutil, Office, .NET): TLS 1.2.
    Schannel,
    /// The implant's own stack.
    Implant,
}

fn cert_fp(name: &str, n: u64) -> String {
    let r = Rng::derive(n, name);
    r.hex(64)
}

/// A TLS session: conn row plus ssl row.
#[allow(clippy::too_many_arguments)]
pub fn https(
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    client: &str,
    site: &Site,
    tls: Tls,
    duration: i64,
    ob: u64,
    rb: u64,
) -> String {
    https_to(
        cx, r, t, step, client, site.ip, site.name, 443, tls, duration, ob, rb,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn https_to(
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    client: &str,
    ip: &str,
    sni: &str,
    port: u16,
    tls: Tls,
    duration: i64,
    ob: u64,
    rb: u64,
) -> String {
    let u = uid(r);
    let p = ephemeral(r);
    let c = Conn {
        uid: &u,
        orig: client,
        orig_p: p,
        resp: ip,
        resp_p: port,
        proto: "tcp",
        service: "ssl",
        duration,
        orig_bytes: ob,
        resp_bytes: rb,
        state: "SF",
        history: "ShADadFf",
    };
    cx.emit(
        t,
        FileKey::Zeek(ZeekLog::Conn),
        step,
        Body::Line(conn_line(t, &c)),
    );
    let resumed = tls != Tls::Implant && r.chance(0.2);
    let (version, cipher, curve, hist, ja3) = match tls {
        Tls::Browser => (
            "TLSv13",
            "TLS_AES_128_GCM_SHA256",
            "x25519",
            "CsiI",
            "cd08e31494f9531f560d64c695473da9",
        ),
        Tls::Schannel => (
            "TLSv12",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "secp384r1",
            if resumed { "CsiI" } else { "CsxknGIti" },
            "a0e9f5d64349fb13191bc781f81f42e1",
        ),
        Tls::Implant => (
            "TLSv12",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "secp256r1",
            "CsxknGIti",
            "72a589da586844d7f0818ce684948eea",
        ),
    };
    let certs_visible = version == "TLSv12" && !resumed;
    let fps = if certs_visible {
        format!("{},{}", cert_fp(sni, 1), cert_fp(sni, 2))
    } else {
        "-".to_string()
    };
    let ja3s = cert_fp(sni, 3)[..32].to_string();
    let line = [
        time::zeek_ts(t),
        u.clone(),
        client.to_string(),
        p.to_string(),
        ip.to_string(),
        port.to_string(),
        version.to_string(),
        cipher.to_string(),
        curve.to_string(),
        field(sni),
        tf(resumed).to_string(),
        "-".to_string(),
        if tls == Tls::Browser { "h2" } else { "-" }.to_string(),
        "T".to_string(),
        hist.to_string(),
        fps,
        if certs_visible { "(empty)" } else { "-" }.to_string(),
        if certs_visible { "T" } else { "-" }.to_string(),
        if certs_visible { "ok" } else { "-" }.to_string(),
        ja3.to_string(),
        ja3s,
    ]
    .join("\t");
    cx.emit(t, FileKey::Zeek(ZeekLog::Ssl), step, Body::Line(line));
    u
}

/// A plain HTTP exchange.
pub struct Http<'a> {
    pub client: &'a str,
    pub server: &'a str,
    pub port: u16,
    pub method: &'a str,
    pub host: &'a str,
    pub uri: &'a str,
    pub referrer: &'a str,
    pub user_agent: &'a str,
    pub req_len: u64,
    pub resp_len: u64,
    pub status: u16,
    pub mime: &'a str,
    pub filename: &'a str,
    pub duration: i64,
}

fn status_msg(s: u16) -> &'static str {
    match s {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "-",
    }
}

pub fn http(cx: &mut Cx, r: &Rng, t: i64, step: u16, h: &Http) -> String {
    let u = uid(r);
    let p = ephemeral(r);
    let c = Conn {
        uid: &u,
        orig: h.client,
        orig_p: p,
        resp: h.server,
        resp_p: h.port,
        proto: "tcp",
        service: "http",
        duration: h.duration,
        orig_bytes: h.req_len + 180 + h.uri.len() as u64 + h.user_agent.len() as u64,
        resp_bytes: h.resp_len + 240,
        state: "SF",
        history: "ShADadfF",
    };
    cx.emit(
        t,
        FileKey::Zeek(ZeekLog::Conn),
        step,
        Body::Line(conn_line(t, &c)),
    );
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            field(s)
        }
    };
    let resp_fuid = if h.resp_len > 0 {
        fuid(r)
    } else {
        "-".to_string()
    };
    let orig_fuid = if h.req_len > 0 {
        fuid(r)
    } else {
        "-".to_string()
    };
    let th = t + r.range(1_000, 20_000);
    let line = [
        time::zeek_ts(th),
        u.clone(),
        h.client.to_string(),
        p.to_string(),
        h.server.to_string(),
        h.port.to_string(),
        "1".to_string(),
        h.method.to_string(),
        dash(h.host),
        dash(h.uri),
        dash(h.referrer),
        "1.1".to_string(),
        dash(h.user_agent),
        "-".to_string(),
        h.req_len.to_string(),
        h.resp_len.to_string(),
        h.status.to_string(),
        status_msg(h.status).to_string(),
        "-".to_string(),
        "-".to_string(),
        "(empty)".to_string(),
        "-".to_string(),
        "-".to_string(),
        "-".to_string(),
        orig_fuid.clone(),
        "-".to_string(),
        if h.req_len > 0 {
            "application/octet-stream"
        } else {
            "-"
        }
        .to_string(),
        resp_fuid,
        dash(h.filename),
        if h.resp_len > 0 {
            dash(h.mime)
        } else {
            "-".to_string()
        },
    ]
    .join("\t");
    cx.emit(th, FileKey::Zeek(ZeekLog::Http), step, Body::Line(line));
    u
}
