//! Internal relays (ShadowPad relay nodes, IIS listeners used as pivots): an internal host that
//! holds a long-lived connection to an external address (an hour or more, or still open) and,
//! while it is up, keeps accepting connections from one internal peer on a port that peer had
//! not used on it before. A real proxy or service accepts from many peers on that port; a relay
//! node serves one or two.
//!
//! Score: 0.6 (high), +0.1 when the peer's connections number 50 or more, +0.1 when the long
//! connection's TLS name does not belong to the address (SNI of a well-known site on an address
//! that never resolved to it is a masquerade sign; here: when the SNI is set and the external
//! address is on a threat-intelligence list or the SNI is a big-brand name). State: per internal
//! host at most 16 long connections and 8 peers with 1,024 times each.

use crate::net::Networks;
use crate::record::{Kind, NetRecord};
use crate::stats;
use crate::ThreatIntel;
use dragnet_event::{Finding, Provenance, RuleMeta, Timestamp};
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone)]
pub struct RelayConfig {
    pub networks: Networks,
    pub min_long_secs: f64,
    pub min_inbound: usize,
    /// More distinct inbound peers than this: a service, not a relay.
    pub max_peers: usize,
    pub threat_intel: Option<Arc<dyn ThreatIntel>>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            networks: Networks::default(),
            min_long_secs: 3600.0,
            min_inbound: 10,
            max_peers: 3,
            threat_intel: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Long {
    dst: IpAddr,
    port: u16,
    start: i64,
    end: i64,
    uid: Option<Box<str>>,
    bytes: u64,
    prov: Provenance,
}

/// (peer, port, HTTP directory, times, first record).
type Peer = (IpAddr, u16, Option<Box<str>>, Vec<u32>, Option<Provenance>);

#[derive(Debug, Default)]
struct HostState {
    longs: Vec<Long>,
    /// (peer, port, HTTP directory for requests seen in HTTP logs, times, first record).
    peers: Vec<Peer>,
    peer_overflow: bool,
}

pub struct RelayAnalyzer {
    cfg: RelayConfig,
    hosts: HashMap<IpAddr, HostState>,
    sni: HashMap<Box<str>, Box<str>>,
    rule: Arc<RuleMeta>,
}

impl RelayAnalyzer {
    pub fn new(cfg: RelayConfig) -> Self {
        RelayAnalyzer {
            cfg,
            hosts: HashMap::new(),
            sni: HashMap::new(),
            rule: Arc::new(RuleMeta {
                id: "dragnet-net-internal-relay".into(),
                title: "Internal relay: a host bridges an internal peer to an external long-lived connection".into(),
                author: "dragnet".into(),
                status: "experimental".into(),
                description: "An internal host keeps a long connection to an external address and meanwhile accepts repeated connections from one internal peer (ShadowPad-style relay node, IIS listener pivot).".into(),
                tags: vec!["attack.command-and-control".into(), "attack.t1090".into(), "attack.t1090.001".into(), "attack.t1572".into()],
                source: "builtin:analytics/relay".into(),
                kind: "relay".into(),
                ..Default::default()
            }),
        }
    }

    pub fn observe(&mut self, r: &NetRecord) {
        if r.kind == Kind::Ssl {
            if let (Some(uid), Some(h)) = (r.uid.as_deref(), r.host.as_deref()) {
                if self.sni.len() < 200_000 {
                    self.sni.insert(uid.into(), h.into());
                }
            }
            return;
        }
        if r.kind == Kind::Http {
            let (Some(s), Some(d)) = (r.src, r.dst) else {
                return;
            };
            if s == d
                || !self.cfg.networks.is_internal(&s, None)
                || !self.cfg.networks.is_internal(&d, None)
            {
                return;
            }
            let uri = r.uri.as_deref().unwrap_or("/");
            let path = uri.split('?').next().unwrap_or(uri);
            let dir: Box<str> = path
                .rsplit_once('/')
                .map_or("/", |x| x.0)
                .to_ascii_lowercase()
                .into();
            self.peer(d, s, r.dst_port, Some(dir), r.time.secs(), &r.provenance);
            return;
        }
        if r.kind != Kind::Conn {
            return;
        }
        let (Some(s), Some(d)) = (r.src, r.dst) else {
            return;
        };
        let si = self.cfg.networks.is_internal(&s, r.local_orig);
        let di = self.cfg.networks.is_internal(&d, r.local_resp);
        let t = r.time.secs();
        if si && !di && r.duration >= self.cfg.min_long_secs && !d.is_multicast() {
            let st = self.hosts.entry(s).or_default();
            let end = t + r.duration as i64;
            if let Some(l) = st
                .longs
                .iter_mut()
                .find(|l| l.uid.is_some() && l.uid == r.uid)
            {
                l.end = l.end.max(end);
                l.bytes = l.bytes.max(r.orig_bytes + r.resp_bytes);
            } else if st.longs.len() < 16 {
                st.longs.push(Long {
                    dst: d,
                    port: r.dst_port,
                    start: t,
                    end,
                    uid: r.uid.clone(),
                    bytes: r.orig_bytes + r.resp_bytes,
                    prov: r.provenance.clone(),
                });
            }
        }
        if si && di && s != d && !r.open {
            self.peer(d, s, r.dst_port, None, t, &r.provenance);
        }
    }

    fn peer(
        &mut self,
        host: IpAddr,
        peer: IpAddr,
        port: u16,
        dir: Option<Box<str>>,
        t: i64,
        prov: &Provenance,
    ) {
        let st = self.hosts.entry(host).or_default();
        let ts = t.clamp(0, i64::from(u32::MAX)) as u32;
        if let Some(p) = st
            .peers
            .iter_mut()
            .find(|p| p.0 == peer && p.1 == port && p.2 == dir)
        {
            if p.3.len() < 1024 {
                p.3.push(ts);
            }
        } else if st.peers.len() < 512 {
            st.peers
                .push((peer, port, dir, vec![ts], Some(prov.clone())));
        } else {
            st.peer_overflow = true;
        }
    }

    pub fn findings(&self, out: &mut Vec<Finding>) {
        for (h, st) in &self.hosts {
            if st.longs.is_empty() {
                continue;
            }
            for l in &st.longs {
                for (peer, port, dir, times, prov) in &st.peers {
                    let during = times
                        .iter()
                        .filter(|&&t| i64::from(t) >= l.start && i64::from(t) <= l.end)
                        .count();
                    if during < self.cfg.min_inbound {
                        continue;
                    }
                    // A new relationship: the peer never used this port on the host before
                    // the long connection came up...
                    let first = times.iter().copied().min().map(i64::from).unwrap_or(0);
                    if first < l.start - 300 {
                        continue;
                    }
                    // ... and few peers use that port meanwhile (a service has many clients).
                    let users = st
                        .peers
                        .iter()
                        .filter(|p| {
                            p.1 == *port
                                && p.2 == *dir
                                && p.3
                                    .iter()
                                    .any(|&t| i64::from(t) >= l.start && i64::from(t) <= l.end)
                        })
                        .count();
                    if users > self.cfg.max_peers || (st.peer_overflow && users > 1) {
                        continue;
                    }
                    let sni = l
                        .uid
                        .as_deref()
                        .and_then(|u| self.sni.get(u))
                        .map(|s| s.to_string());
                    let mut score = stats::MEDIUM_SCORE;
                    let mut why = vec![format!(
                        "{h} held a {:.1} h connection to {}:{} and meanwhile accepted {during} {} from {peer} on port {port}{}, which {peer} had not used on {h} before and only {users} internal peer(s) used meanwhile",
                        (l.end - l.start) as f64 / 3600.0,
                        l.dst,
                        l.port,
                        if dir.is_some() { "HTTP requests" } else { "connections" },
                        dir.as_deref().map(|d| format!(" under {d}/")).unwrap_or_default()
                    )];
                    if during >= 50 {
                        score += 0.1;
                        why.push(format!("{during} >= 50 relayed connections +0.10"));
                    }
                    let listed = self
                        .cfg
                        .threat_intel
                        .as_ref()
                        .is_some_and(|ti| ti.is_listed(&l.dst.to_string()));
                    if listed {
                        score += 0.15;
                        why.push("external end on a threat-intelligence list +0.15".into());
                    }
                    if let Some(s) = &sni {
                        let reg = crate::domain::normalize(s)
                            .and_then(|n| crate::domain::registrable(&n).map(str::to_string))
                            .unwrap_or_default();
                        if [
                            "microsoft.com",
                            "google.com",
                            "apple.com",
                            "amazon.com",
                            "windowsupdate.com",
                            "office.com",
                        ]
                        .contains(&reg.as_str())
                        {
                            score += 0.1;
                            why.push(format!("the long connection claims to be {s} (a big-brand name on a lone address) +0.10"));
                        }
                    }
                    let score = stats::round3(score);
                    let level = stats::level_of(score);
                    let p = prov.clone().unwrap_or_else(|| l.prov.clone());
                    let time = Timestamp::from_nanos(l.start.saturating_mul(1_000_000_000));
                    let mut f =
                        Finding::new(Arc::clone(&self.rule), level, time, &h.to_string(), p);
                    let d = &mut f.details;
                    d.insert("src".into(), json!(peer.to_string()));
                    d.insert("dst".into(), json!(l.dst.to_string()));
                    d.insert("relay".into(), json!(h.to_string()));
                    d.insert("relay_port".into(), json!(port));
                    if let Some(dir) = dir {
                        d.insert("relay_http_path".into(), json!(dir.to_string()));
                    }
                    d.insert("inbound_connections".into(), json!(during));
                    d.insert("long_connection_secs".into(), json!(l.end - l.start));
                    d.insert("long_connection_bytes".into(), json!(l.bytes));
                    if let Some(s) = &sni {
                        d.insert("long_connection_sni".into(), json!(s));
                    }
                    d.insert("score".into(), json!(score));
                    d.insert(
                        "explanation".into(),
                        json!(format!("{} => {score:.3} ({level})", why.join("; "))),
                    );
                    out.push(f);
                }
            }
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.hosts
            .values()
            .map(|s| {
                64 + s.longs.len() * 128
                    + s.peers
                        .iter()
                        .map(|p| 96 + p.3.capacity() * 4)
                        .sum::<usize>()
            })
            .sum::<usize>()
            + self
                .sni
                .iter()
                .map(|(k, v)| k.len() + v.len() + 48)
                .sum::<usize>()
    }
}

net_record_analyzer!(RelayAnalyzer, "relay");
