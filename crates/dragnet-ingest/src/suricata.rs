//! Suricata EVE JSON -> [`Event`]: every record (alert, flow, dns, http, tls, fileinfo,
//! anomaly...) with its nested objects flattened to dotted names (`alert.signature`,
//! `http.hostname`), `_product: suricata`, `_service` = `event_type`, and the Sigma taxonomy
//! aliases of `netfields.rs`. Alerts become findings through the Suricata alert detector of
//! `dragnet-analytics`; here they are events like the rest.

use crate::json::flatten_object;
use crate::netfields::{alias, endpoint_aliases, pick_network_host, push_logsource, uri_aliases};
use crate::node::{get, Node, Obj};
use dragnet_event::{Event, Provenance, Timestamp, Value};

/// Whether a JSON record looks like an EVE record.
pub(crate) fn looks_like_eve(obj: &serde_json::Map<String, serde_json::Value>) -> bool {
    obj.get("event_type").is_some_and(|v| v.is_string())
        && (obj.contains_key("timestamp") || obj.contains_key("flow_id"))
}

/// EVE writes `2021-06-06T15:59:46.457984+0200`; RFC 3339 wants `+02:00`.
pub(crate) fn parse_eve_time(s: &str) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse(s) {
        return Some(t);
    }
    let b = s.as_bytes();
    if b.len() > 5 {
        let (head, zone) = s.split_at(s.len() - 5);
        let z = zone.as_bytes();
        if (z[0] == b'+' || z[0] == b'-') && z[1..].iter().all(u8::is_ascii_digit) {
            return Timestamp::parse(&format!("{head}{}:{}", &zone[..3], &zone[3..]));
        }
    }
    None
}

/// One EVE record as an event.
pub(crate) fn eve_event(obj: &Obj<'_>, provenance: Provenance) -> Event {
    let mut ev = Event::new(provenance);
    flatten_object(&mut ev, obj);
    ev.time = match get(obj, "timestamp") {
        Some(Node::Str(s)) => parse_eve_time(s),
        Some(other) => crate::json::time_value(other),
        None => None,
    }
    .unwrap_or(Timestamp::UNKNOWN);
    let service = get(obj, "event_type")
        .and_then(Node::as_str)
        .unwrap_or("unknown")
        .to_string();
    push_logsource(&mut ev, "suricata", &service);
    endpoint_aliases(&mut ev, "src_ip", "src_port", "dest_ip", "dest_port");
    match service.as_str() {
        "http" | "alert" | "fileinfo" if ev.has("http.hostname") || ev.has("http.url") => {
            for (a, n) in [
                ("cs-host", "http.hostname"),
                ("r-dns", "http.hostname"),
                ("cs-method", "http.http_method"),
                ("c-useragent", "http.http_user_agent"),
                ("cs-referrer", "http.http_refer"),
                ("cs-version", "http.protocol"),
                ("sc-status", "http.status"),
                ("sc-bytes", "http.length"),
            ] {
                alias(&mut ev, a, n);
            }
            uri_aliases(&mut ev, "http.url");
        }
        "dns" => {
            // EVE v1: dns.rrname; v2 answers: dns.rrname too, queries under dns.queries.
            for (a, n) in [
                ("query", "dns.rrname"),
                ("record_type", "dns.rrtype"),
                ("answer", "dns.rdata"),
            ] {
                alias(&mut ev, a, n);
            }
            if !ev.has("query") {
                if let Some(Node::Object(dns)) = get(obj, "dns") {
                    if let Some(Node::Array(q)) = get(dns, "queries") {
                        if let Some(name) = q
                            .first()
                            .and_then(|q| q.get("rrname"))
                            .and_then(Node::as_str)
                        {
                            ev.push("query", Value::str(name));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    ev.host = pick_network_host(&ev, "src_ip", "dest_ip");
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_zone_without_colon() {
        let a = parse_eve_time("2021-06-06T15:59:46.457984+0200").unwrap();
        let b = Timestamp::parse("2021-06-06T13:59:46.457984Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_eve_time("garbage").is_none());
    }
}
