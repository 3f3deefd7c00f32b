//! What network readers (Zeek, Suricata, IIS) share: the logsource markers, the Sigma taxonomy
//! aliases and the choice of an event's host.
//!
//! Every network event carries its native fields first (as the log names them), then
//! `_product` (`zeek`, `suricata`, `iis`) and `_service` (`conn`, `dns`, `http`, `ssl`, `files`,
//! `x509`, `weird`, ... for Zeek; the EVE `event_type` for Suricata; `webserver` for IIS), then
//! the names Sigma's taxonomy uses for the same values, so that rules written for `product:
//! zeek` services and for the categories `proxy`, `webserver`, `dns` and `firewall` (and the
//! match without a field map:
//!
//! | taxonomy name | Zeek | Suricata EVE |
//! |---|---|---|
//! | `src_ip` `src_port` `dst_ip` `dst_port` (firewall) | `id.orig_h` `id.orig_p` `id.resp_h` `id.resp_p` | `src_ip` `src_port` `dest_ip` `dest_port` |
//! | `c-uri` `c-uri-stem` `c-uri-query` `c-uri-extension` `cs-host` `r-dns` `cs-method` `c-useragent` `cs-referrer` `cs-version` `sc-status` `cs-bytes` `sc-bytes` (proxy) | http `uri` (split), `host`, `method`, `user_agent`, `referrer`, `version`, `status_code`, `request_body_len`, `response_body_len` | `http.url`, `http.hostname`, `http.http_method`, `http.http_user_agent`, `http.http_refer`, `http.protocol`, `http.status`, `http.length` |
//! | `query` `record_type` `answer` (dns) | dns `query` `qtype_name` `answers` | `dns.rrname` `dns.rrtype` `dns.rdata` |
//!
//! (The ECS-style names of Sigma's new generic `network` category are not added: every alias
//! costs an allocation per record, and no rule for these logsources uses them yet.)
//!
//! `cs-bytes` is what the client sent and `sc-bytes` what the server sent (the W3C meaning).

use dragnet_event::{Event, Value};
use std::net::IpAddr;

/// Add `_product` and `_service`, and `Channel` = `<product>/<service>` (`zeek/dns`,
/// `suricata/http`, `iis/webserver`): the channel Sigma's logsource map routes `product: zeek`
/// services and the `proxy`, `dns`, `firewall` and `webserver` categories to (see
/// dragnet-sigma's `data/logsources-network.yml`), and what `dragnet stats` counts by channel.
pub(crate) fn push_logsource(ev: &mut Event, product: &str, service: &str) {
    ev.set_if_absent("_product", Value::str(product));
    ev.set_if_absent("_service", Value::str(service));
    if !ev.has("Channel") {
        let text = |n: &str| ev.get_text(n).map(|s| s.into_owned()).unwrap_or_default();
        let channel = format!("{}/{}", text("_product"), text("_service"));
        ev.push("Channel", Value::str(channel));
    }
}

/// Add `alias` with the value of `native`, when `native` is there and `alias` is not.
pub(crate) fn alias(ev: &mut Event, alias: &str, native: &str) {
    if ev.has(alias) {
        return;
    }
    if let Some(v) = ev.get(native) {
        if !v.is_null() {
            let v = v.clone();
            ev.push(alias, v);
        }
    }
}

/// The endpoint aliases (the firewall category's names) from the native names of the four
/// endpoint fields.
pub(crate) fn endpoint_aliases(
    ev: &mut Event,
    src_ip: &str,
    src_port: &str,
    dst_ip: &str,
    dst_port: &str,
) {
    for (a, n) in [
        ("src_ip", src_ip),
        ("src_port", src_port),
        ("dst_ip", dst_ip),
        ("dst_port", dst_port),
    ] {
        alias(ev, a, n);
    }
}

/// The proxy-category aliases of an HTTP request: `c-uri` (path and query as requested),
/// `c-uri-stem`, `c-uri-query`, `c-uri-extension`.
pub(crate) fn uri_aliases(ev: &mut Event, uri_field: &str) {
    let Some(uri) = ev.get_text(uri_field).map(|s| s.into_owned()) else {
        return;
    };
    ev.set_if_absent("c-uri", Value::str(uri.as_str()));
    // A proxy logs absolute URLs: the stem is the path part.
    let path = match uri.find("://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            match rest.find('/') {
                Some(j) => &rest[j..],
                None => "/",
            }
        }
        None => uri.as_str(),
    };
    let (stem, query) = match path.split_once('?') {
        Some((s, q)) => (s, Some(q)),
        None => (path, None),
    };
    ev.set_if_absent("c-uri-stem", Value::str(stem));
    if let Some(q) = query {
        ev.set_if_absent("c-uri-query", Value::str(q));
    }
    if let Some(ext) = uri_extension(stem) {
        ev.set_if_absent("c-uri-extension", Value::str(ext));
    }
}

/// The extension of the last segment of a path (`/a/b.aspx` -> `aspx`).
pub(crate) fn uri_extension(stem: &str) -> Option<&str> {
    let last = stem.rsplit('/').next()?;
    let (_, ext) = last.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 16).then_some(ext)
}

/// Whether an address is in a private, loopback, link-local or unique-local range.
pub fn is_private_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64) // CGNAT 100.64/10
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments()[0];
            v6.is_loopback() || (seg & 0xfe00) == 0xfc00 || (seg & 0xffc0) == 0xfe80
        }
    }
}

/// The host a network event is about: the internal endpoint (by the sensor's own
/// `local_orig`/`local_resp` flags when it wrote them, else by address range), the originator
/// when both or neither are internal.
pub(crate) fn pick_network_host(ev: &Event, orig: &str, resp: &str) -> Box<str> {
    let o = ev.get_text(orig).map(|s| s.into_owned());
    let r = ev.get_text(resp).map(|s| s.into_owned());
    let flag = |name: &str| match ev.get(name) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    };
    let (lo, lr) = match (flag("local_orig"), flag("local_resp")) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            let private = |s: &Option<String>| {
                s.as_deref()
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    .is_some_and(|ip| is_private_ip(&ip))
            };
            (private(&o), private(&r))
        }
    };
    let chosen = if lr && !lo { r } else { o.or(r) };
    chosen.unwrap_or_default().into_boxed_str()
}

/// Decode `%XX` escapes (and `+` as a space when `plus` is set); bytes that do not make UTF-8
/// are replaced. `None` when nothing changes.
pub(crate) fn url_decode(s: &str, plus: bool) -> Option<String> {
    if !(s.contains('%') || (plus && s.contains('+'))) {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    let decoded = String::from_utf8_lossy(&out).into_owned();
    (decoded != s).then_some(decoded)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("a%20b", false).as_deref(), Some("a b"));
        assert_eq!(url_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(url_decode("a+b", false), None);
        assert_eq!(url_decode("100%", false), None);
        assert_eq!(url_decode("%zz%41", false).as_deref(), Some("%zzA"));
        assert_eq!(url_decode("%4", false), None);
        assert_eq!(url_decode("x%2e%2E/", false).as_deref(), Some("x../"));
    }

    #[test]
    fn private_ranges() {
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
        ] {
            assert!(is_private_ip(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "64.225.56.201"] {
            assert!(!is_private_ip(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(uri_extension("/a/b.aspx"), Some("aspx"));
        assert_eq!(uri_extension("/a.b/c"), None);
        assert_eq!(uri_extension("/"), None);
    }
}
