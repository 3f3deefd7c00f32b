//! Beaconing, long connections and strobes over connection pairs, scored the way RITA v5
//! describes it.
//!
//! Pairs: `src -> FQDN` for HTTP (Host header, proxied CONNECTs included) and TLS (SNI) records
//! linked by `uid` to their connection (timestamp, IP bytes sent and duration come from the
//! connection; only the first request of a connection carries its bytes), and `src -> dst IP`
//! for connections with exactly one internal endpoint. An IP pair any of whose connections fed a
//! candidate FQDN beacon is not scored as an IP beacon (RITA's rule). HTTP requests without a
//! Host header count as "missing host" on their IP pair.
//!
//! Window: the last 24 hours of the data (from the start of the hour 24 hours before the last
//! connection, as RITA does), plus, for data spanning several days, every earlier 24-hour
//! checkpoint: a pair reports its latest window, so a beacon that stopped days before the end
//! of the logs is still found. State is bounded: entries older than the window are dropped as
//! time advances, at most `max_entries_per_pair` entries a pair and `max_pairs` pairs.
//!
//! Threat score (RITA's "final score"): the largest of the graded indicators (beacon score
//! graded 50/70/90/100 -> 0.2..0.8; total duration graded 1/4/8/12 h; strobe 0.8; threat
//! intelligence 0.8), plus the modifiers: first seen <= 7 days +0.15 (>= 30 days -0.15),
//! prevalence <= 2% of internal hosts +0.15 (>= 50% -0.15), missing Host header +0.1, rare
//! signature (a user agent or JA3 only this source uses) +0.15, 25 MB to a listed address
//! +0.15. Finding levels: above 0.8 critical, from 0.6 high, 0.4 medium, 0.2 low.

use crate::net::Networks;
use crate::record::{Kind, NetRecord};
use crate::stats::{self, BeaconWeights, Thresholds};
use crate::ThreatIntel;
use dragnet_event::{Finding, Provenance, RuleMeta, Timestamp};
use serde_json::{json, Map, Value as J};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

/// Settings (RITA's defaults).
#[derive(Clone)]
pub struct BeaconConfig {
    pub networks: Networks,
    pub weights: BeaconWeights,
    /// Unique connection times a pair needs to be scored.
    pub unique_threshold: usize,
    pub beacon_thresholds: Thresholds,
    /// Beacon findings are reported from this beacon score on.
    pub min_beacon_score: f64,
    pub long_conn_min_secs: f64,
    pub long_conn_thresholds: Thresholds,
    /// Connections in the window that make a strobe (one a second).
    pub strobe_count: u64,
    pub window_secs: i64,
    pub max_pairs: usize,
    pub max_entries_per_pair: usize,
    pub max_uids: usize,
    pub threat_intel: Option<Arc<dyn ThreatIntel>>,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            networks: Networks::default(),
            weights: BeaconWeights::default(),
            unique_threshold: 4,
            beacon_thresholds: Thresholds {
                base: 50.0,
                low: 70.0,
                medium: 90.0,
                high: 100.0,
            },
            min_beacon_score: 0.5,
            long_conn_min_secs: 3600.0,
            long_conn_thresholds: Thresholds {
                base: 3600.0,
                low: 14400.0,
                medium: 28800.0,
                high: 43200.0,
            },
            strobe_count: 86_400,
            window_secs: 86_400,
            max_pairs: 1_000_000,
            max_entries_per_pair: 86_400,
            max_uids: 2_000_000,
            threat_intel: None,
        }
    }
}

/// Where a pair goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dst {
    Ip(IpAddr),
    Fqdn(Box<str>),
}

impl std::fmt::Display for Dst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dst::Ip(ip) => write!(f, "{ip}"),
            Dst::Fqdn(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PairKey {
    src: IpAddr,
    dst: Dst,
}

fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

const PROXY: u8 = 1;

/// One connection of a pair: 20 bytes.
#[derive(Clone, Copy, Debug)]
struct Entry {
    ts: u32,
    out: u32,
    inb: u32,
    dur: f32,
    flags: u8,
}

#[derive(Debug)]
struct Pair {
    key: PairKey,
    /// The internal endpoint (for prevalence and network size).
    internal: IpAddr,
    entries: Vec<Entry>,
    /// Entries beyond the cap, since the last prune.
    overflow: u64,
    /// Open connections: uid hash -> (duration so far, bytes).
    open: Vec<(u64, f64, u64)>,
    /// Times of HTTP requests without a Host header (IP pairs).
    missing_host: Vec<u32>,
    /// Signature ids (user agents, JA3) seen on the pair.
    sigs: Vec<u32>,
    /// FQDN pairs (key hashes) this IP pair's connections fed.
    linked: Vec<u64>,
    linked_overflow: bool,
    server_ips: Vec<IpAddr>,
    proxy_ips: Vec<IpAddr>,
    port_proto_service: Vec<Box<str>>,
    first_seen: u32,
    first_prov: Option<(Provenance, u32)>,
    last_prov: Option<(Provenance, u32)>,
}

impl Pair {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Pair>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.open.capacity() * 24
            + self.missing_host.capacity() * 4
            + self.sigs.capacity() * 4
            + self.linked.capacity() * 8
            + (self.server_ips.capacity() + self.proxy_ips.capacity()) * 17
            + self
                .port_proto_service
                .iter()
                .map(|s| s.len() + 16)
                .sum::<usize>()
            + match &self.key.dst {
                Dst::Fqdn(s) => s.len(),
                Dst::Ip(_) => 0,
            }
    }
}

/// A connection as seen by its `uid`, until its HTTP/TLS records have had a chance to arrive.
#[derive(Clone, Debug)]
struct UidInfo {
    ip_pair: Option<u64>,
    ts: u32,
    out: u32,
    inb: u32,
    dur: f32,
    expires: u32,
    used: bool,
    src: IpAddr,
    dst: IpAddr,
    pps: Box<str>,
}

/// The scores of one pair in one window.
#[derive(Clone, Debug)]
pub struct PairResult {
    pub src: IpAddr,
    pub dst: Dst,
    pub beacon_type: &'static str,
    pub window: (i64, i64),
    pub first: i64,
    pub last: i64,
    pub count: u64,
    pub unique: usize,
    pub proxy_count: u64,
    pub total_bytes: u64,
    pub out_bytes: u64,
    pub total_duration: f64,
    pub open_duration: f64,
    pub missing_host: usize,
    /// (score, ts, ds, hist, dur) when the pair was scored as a beacon.
    pub beacon: Option<BeaconScores>,
    pub beacon_threat: f64,
    pub long_conn_threat: f64,
    pub strobe: bool,
    pub threat_intel: bool,
    pub modifiers: Vec<(&'static str, f64, String)>,
    pub final_score: f64,
    pub server_ips: Vec<IpAddr>,
    pub proxy_ips: Vec<IpAddr>,
    pub port_proto_service: Vec<Box<str>>,
    pub provenance: Provenance,
}

/// The beacon sub-scores and the figures behind them.
#[derive(Clone, Debug, PartialEq)]
pub struct BeaconScores {
    pub score: f64,
    pub ts: f64,
    pub ts_skew: f64,
    pub ts_mad: f64,
    pub ts_median: f64,
    pub ds: f64,
    pub ds_skew: f64,
    pub ds_mad: f64,
    pub ds_median: f64,
    pub hist: f64,
    pub hist_cv: f64,
    pub hist_bimodal: f64,
    pub hours: usize,
    pub longest_run: usize,
    pub dur: f64,
    pub coverage: f64,
    pub consistency: f64,
}

impl PairResult {
    pub fn modifier_sum(&self) -> f64 {
        self.modifiers.iter().map(|m| m.1).sum()
    }
    pub fn beacon_score(&self) -> Option<f64> {
        self.beacon.as_ref().map(|b| b.score)
    }
}

/// Beaconing, long connections and strobes.
pub struct BeaconAnalyzer {
    cfg: BeaconConfig,
    pairs: Vec<Option<Pair>>,
    free: Vec<usize>,
    index: HashMap<u64, usize>,
    uids: HashMap<Box<str>, UidInfo>,
    /// Signature text -> (id, first source, used by more than one source).
    sigs: HashMap<Box<str>, (u32, IpAddr, bool)>,
    sig_multi: Vec<bool>,
    /// Time of the data (seconds), from the connections the pairs use.
    min_ts: Option<i64>,
    clock: Option<i64>,
    /// Start of the hour below which entries are dropped.
    cutoff: i64,
    next_checkpoint: Option<i64>,
    last_uid_sweep: i64,
    /// Latest qualifying result per pair key hash, from checkpoints.
    earlier: HashMap<u64, PairResult>,
    dropped_pairs: u64,
    dropped_entries: u64,
    rules: Rules,
}

struct Rules {
    beacon: Arc<RuleMeta>,
    long: Arc<RuleMeta>,
    strobe: Arc<RuleMeta>,
}

fn rule(id: &str, title: &str, kind: &str, description: &str, tags: &[&str]) -> Arc<RuleMeta> {
    Arc::new(RuleMeta {
        id: id.into(),
        title: title.into(),
        author: "dragnet (scoring after RITA v5 by Active Countermeasures)".into(),
        status: "experimental".into(),
        description: description.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        references: vec!["https://github.com/activecm/rita".into()],
        source: format!("builtin:analytics/{kind}"),
        kind: kind.into(),
        ..Default::default()
    })
}

impl BeaconAnalyzer {
    pub fn new(cfg: BeaconConfig) -> Self {
        BeaconAnalyzer {
            cfg,
            pairs: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            uids: HashMap::new(),
            sigs: HashMap::new(),
            sig_multi: Vec::new(),
            min_ts: None,
            clock: None,
            cutoff: i64::MIN,
            next_checkpoint: None,
            last_uid_sweep: i64::MIN,
            earlier: HashMap::new(),
            dropped_pairs: 0,
            dropped_entries: 0,
            rules: Rules {
                beacon: rule(
                    "dragnet-net-beacon",
                    "Beaconing: periodic connections from one host to one destination",
                    "beacon",
                    "Connections from a source to an FQDN (HTTP Host, TLS SNI) or an IP address whose timing, sizes, hourly histogram and duration score as a beacon (RITA v5 scoring).",
                    &["attack.command-and-control", "attack.t1071", "attack.t1071.001", "attack.t1573"],
                ),
                long: rule(
                    "dragnet-net-long-connection",
                    "Long connection: a pair connected for hours",
                    "long-connection",
                    "The connections between two endpoints add up to an hour or more (open connections included).",
                    &["attack.command-and-control", "attack.t1071", "attack.t1571"],
                ),
                strobe: rule(
                    "dragnet-net-strobe",
                    "Strobe: a pair connected more than once a second on average",
                    "strobe",
                    "86,400 or more connections between two endpoints in 24 hours.",
                    &["attack.command-and-control", "attack.t1071"],
                ),
            },
        }
    }

    fn internal(&self, ip: &IpAddr, flag: Option<bool>) -> bool {
        self.cfg.networks.is_internal(ip, flag)
    }

    fn sig_id(&mut self, text: &str, src: IpAddr) -> u32 {
        if let Some((id, first, multi)) = self.sigs.get_mut(text) {
            if *first != src && !*multi {
                *multi = true;
                self.sig_multi[*id as usize] = true;
            }
            return *id;
        }
        if self.sigs.len() >= 200_000 {
            return u32::MAX;
        }
        let id = self.sig_multi.len() as u32;
        self.sig_multi.push(false);
        self.sigs.insert(text.into(), (id, src, false));
        id
    }

    fn pair_mut(&mut self, key: PairKey, internal: IpAddr, ts: u32) -> Option<(u64, &mut Pair)> {
        let h = hash_of(&key);
        let idx = match self.index.get(&h) {
            Some(&i) => i,
            None => {
                if self.index.len() >= self.cfg.max_pairs {
                    self.dropped_pairs += 1;
                    return None;
                }
                let pair = Pair {
                    key,
                    internal,
                    entries: Vec::new(),
                    overflow: 0,
                    open: Vec::new(),
                    missing_host: Vec::new(),
                    sigs: Vec::new(),
                    linked: Vec::new(),
                    linked_overflow: false,
                    server_ips: Vec::new(),
                    proxy_ips: Vec::new(),
                    port_proto_service: Vec::new(),
                    first_seen: ts,
                    first_prov: None,
                    last_prov: None,
                };
                let i = match self.free.pop() {
                    Some(i) => {
                        self.pairs[i] = Some(pair);
                        i
                    }
                    None => {
                        self.pairs.push(Some(pair));
                        self.pairs.len() - 1
                    }
                };
                self.index.insert(h, i);
                i
            }
        };
        self.pairs[idx].as_mut().map(|p| (h, p))
    }

    fn pair_by_hash(&mut self, h: u64) -> Option<&mut Pair> {
        let i = *self.index.get(&h)?;
        self.pairs[i].as_mut()
    }

    fn add_entry(cap: usize, dropped: &mut u64, p: &mut Pair, e: Entry, prov: &Provenance) {
        if p.entries.len() < cap {
            p.entries.push(e);
        } else {
            p.overflow += 1;
            *dropped += 1;
        }
        p.first_seen = p.first_seen.min(e.ts);
        if p.first_prov.is_none() {
            p.first_prov = Some((prov.clone(), e.ts));
        }
        p.last_prov = Some((prov.clone(), e.ts));
    }

    /// Advance the data clock to `t` (seconds): checkpoints, pruning, uid expiry.
    fn advance(&mut self, t: i64) {
        self.min_ts = Some(self.min_ts.map_or(t, |m| m.min(t)));
        let clock = match self.clock {
            Some(c) if c >= t => return,
            _ => t,
        };
        if self.next_checkpoint.is_none() {
            self.next_checkpoint = Some(t + self.cfg.window_secs);
        }
        while let Some(cp) = self.next_checkpoint {
            if clock < cp {
                break;
            }
            let start = (cp - self.cfg.window_secs).max(self.min_ts.unwrap_or(cp));
            for r in self.score_window(start, cp) {
                let h = hash_of(&PairKey {
                    src: r.src,
                    dst: r.dst.clone(),
                });
                self.earlier.insert(h, r);
            }
            self.next_checkpoint = Some(cp + self.cfg.window_secs);
        }
        self.clock = Some(clock);
        let cutoff = floor_hour(clock - self.cfg.window_secs);
        if cutoff > self.cutoff {
            self.cutoff = cutoff;
            self.prune(cutoff);
        }
        if clock.saturating_sub(self.last_uid_sweep) >= 600 || self.uids.len() > self.cfg.max_uids {
            self.last_uid_sweep = clock;
            let now = clock.clamp(0, i64::from(u32::MAX)) as u32;
            self.uids.retain(|_, u| u.expires >= now);
            if self.uids.len() > self.cfg.max_uids {
                // Still too many (a burst of long connections): keep the newest.
                let mut ts: Vec<u32> = self.uids.values().map(|u| u.ts).collect();
                ts.sort_unstable();
                let keep_from = ts[ts.len() - self.cfg.max_uids / 2];
                self.uids.retain(|_, u| u.ts >= keep_from);
            }
        }
    }

    fn prune(&mut self, cutoff: i64) {
        let c = cutoff.clamp(0, i64::from(u32::MAX)) as u32;
        for i in 0..self.pairs.len() {
            let Some(p) = self.pairs[i].as_mut() else {
                continue;
            };
            p.entries.retain(|e| e.ts >= c);
            p.missing_host.retain(|&t| t >= c);
            p.overflow = 0;
            if p.entries.capacity() > 64 && p.entries.len() < p.entries.capacity() / 4 {
                p.entries.shrink_to_fit();
            }
            if p.entries.is_empty() && p.open.is_empty() && p.missing_host.is_empty() {
                let h = hash_of(&p.key);
                self.index.remove(&h);
                self.pairs[i] = None;
                self.free.push(i);
            }
        }
    }

    /// One network record, in time order.
    pub fn observe(&mut self, r: &NetRecord) {
        let t = r.time.secs();
        if t <= 0 || t > i64::from(u32::MAX) {
            return;
        }
        let (Some(src), Some(dst)) = (r.src, r.dst) else {
            return;
        };
        match r.kind {
            Kind::Conn => self.observe_conn(r, t, src, dst),
            Kind::Http | Kind::Ssl => self.observe_app(r, t, src),
            Kind::Dns => {}
        }
    }

    fn observe_conn(&mut self, r: &NetRecord, t: i64, src: IpAddr, dst: IpAddr) {
        let si = self.internal(&src, r.local_orig);
        let di = self.internal(&dst, r.local_resp);
        let eligible = si != di && unicast(&src) && unicast(&dst);
        if eligible && !r.open {
            self.advance(t);
        }
        let ts = t as u32;
        let pps: Box<str> = if r.proto.eq_ignore_ascii_case("icmp") {
            format!("icmp:{}/{}", r.src_port, r.dst_port).into()
        } else {
            format!("{}:{}:{}", r.dst_port, r.proto, r.service).into()
        };
        let out = r.orig_ip_bytes.min(u64::from(u32::MAX)) as u32;
        let inb = r.resp_ip_bytes.min(u64::from(u32::MAX)) as u32;
        let mut ip_pair = None;
        if eligible {
            let internal = if si { src } else { dst };
            let cap = self.cfg.max_entries_per_pair;
            let mut dropped = 0;
            if let Some((h, p)) = self.pair_mut(
                PairKey {
                    src,
                    dst: Dst::Ip(dst),
                },
                internal,
                ts,
            ) {
                ip_pair = Some(h);
                if r.open {
                    let uh = r.uid.as_deref().map(hash_of).unwrap_or(0);
                    let bytes = r.orig_ip_bytes + r.resp_ip_bytes;
                    if let Some(o) = p.open.iter_mut().find(|o| o.0 == uh) {
                        o.1 = o.1.max(r.duration);
                        o.2 = o.2.max(bytes);
                    } else if p.open.len() < 64 {
                        p.open.push((uh, r.duration, bytes));
                    }
                    p.first_seen = p.first_seen.min(ts);
                    if p.last_prov.is_none() {
                        p.last_prov = Some((r.provenance.clone(), ts));
                    }
                } else {
                    // A connection that closes after being reported open: its final record wins.
                    if let Some(uid) = r.uid.as_deref() {
                        let uh = hash_of(uid);
                        p.open.retain(|o| o.0 != uh);
                    }
                    let e = Entry {
                        ts,
                        out,
                        inb,
                        dur: r.duration as f32,
                        flags: 0,
                    };
                    Self::add_entry(cap, &mut dropped, p, e, &r.provenance);
                }
                if !p.port_proto_service.contains(&pps) && p.port_proto_service.len() < 20 {
                    p.port_proto_service.push(pps.clone());
                }
            }
            self.dropped_entries += dropped;
        }
        if let Some(uid) = &r.uid {
            if r.open {
                return;
            }
            let end = (t as f64 + r.duration.max(0.0) + 300.0).min(f64::from(u32::MAX)) as u32;
            if self.uids.len() < self.cfg.max_uids * 2 {
                self.uids.insert(
                    uid.clone(),
                    UidInfo {
                        ip_pair,
                        ts,
                        out,
                        inb,
                        dur: r.duration as f32,
                        expires: end,
                        used: false,
                        src,
                        dst,
                        pps,
                    },
                );
            }
        }
    }

    fn observe_app(&mut self, r: &NetRecord, _t: i64, src: IpAddr) {
        let Some(uid) = r.uid.as_deref() else {
            return;
        };
        let Some(info) = self.uids.get(uid).cloned() else {
            return;
        };
        let sig_text = match r.kind {
            Kind::Http => r
                .user_agent
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| format!("ua:{s}")),
            _ => r
                .ja3
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| format!("ja3:{s}")),
        };
        let sig = sig_text.map(|s| self.sig_id(&s, src));
        let host = r
            .host
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() || host == "-" {
            if r.kind == Kind::Http {
                if let Some(h) = info.ip_pair {
                    if let Some(p) = self.pair_by_hash(h) {
                        if p.missing_host.len() < 4096 {
                            p.missing_host.push(info.ts);
                        }
                        if let Some(s) = sig {
                            if !p.sigs.contains(&s) && p.sigs.len() < 16 {
                                p.sigs.push(s);
                            }
                        }
                    }
                }
            }
            return;
        }
        let proxy = r.kind == Kind::Http && r.method.as_deref() == Some("CONNECT");
        // Strip a port from the host (`www.google.com:443` for CONNECT to an IP:port...).
        let host = match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
                h.to_string()
            }
            _ => host,
        };
        let si = self.internal(&info.src, None);
        let di = self.internal(&info.dst, None);
        if !proxy && (!si || di) {
            return;
        }
        self.advance(i64::from(info.ts));
        let first = !info.used;
        if let Some(u) = self.uids.get_mut(uid) {
            u.used = true;
        }
        let cap = self.cfg.max_entries_per_pair;
        let mut dropped = 0;
        let key = PairKey {
            src,
            dst: Dst::Fqdn(host.into()),
        };
        let Some((h, p)) = self.pair_mut(key, src, info.ts) else {
            return;
        };
        let e = Entry {
            ts: info.ts,
            out: if first { info.out } else { 0 },
            inb: if first { info.inb } else { 0 },
            dur: if first { info.dur } else { 0.0 },
            flags: if proxy { PROXY } else { 0 },
        };
        Self::add_entry(cap, &mut dropped, p, e, &r.provenance);
        let list = if proxy {
            &mut p.proxy_ips
        } else {
            &mut p.server_ips
        };
        if !list.contains(&info.dst) && list.len() < 10 {
            list.push(info.dst);
        }
        if !p.port_proto_service.contains(&info.pps) && p.port_proto_service.len() < 20 {
            p.port_proto_service.push(info.pps.clone());
        }
        if let Some(s) = sig {
            if !p.sigs.contains(&s) && p.sigs.len() < 16 {
                p.sigs.push(s);
            }
        }
        self.dropped_entries += dropped;
        if let Some(iph) = info.ip_pair {
            if let Some(ip) = self.pair_by_hash(iph) {
                if !ip.linked.contains(&h) {
                    if ip.linked.len() < 64 {
                        ip.linked.push(h);
                    } else {
                        ip.linked_overflow = true;
                    }
                }
                if let Some(s) = sig {
                    if !ip.sigs.contains(&s) && ip.sigs.len() < 16 {
                        ip.sigs.push(s);
                    }
                }
            }
        }
    }

    /// Score every pair over `[start, end]` (seconds).
    pub fn score_window(&self, start: i64, end: i64) -> Vec<PairResult> {
        let cutoff = floor_hour(start).max(0) as u32;
        let endu = end.clamp(0, i64::from(u32::MAX)) as u32;
        let in_win = |e: &&Entry| e.ts >= cutoff && e.ts <= endu;
        // FQDN pairs that are beacon candidates; network size; prevalence; first seen.
        let mut candidates: HashSet<u64> = HashSet::new();
        let mut internal_hosts: HashSet<IpAddr> = HashSet::new();
        let mut prevalence: HashMap<Dst, HashSet<IpAddr>> = HashMap::new();
        let mut first_seen: HashMap<Dst, u32> = HashMap::new();
        for p in self.pairs.iter().flatten() {
            let n = p.entries.iter().filter(in_win).count();
            if n == 0 && p.open.is_empty() {
                continue;
            }
            internal_hosts.insert(p.internal);
            let ext = external_side(p);
            prevalence
                .entry(ext.clone())
                .or_default()
                .insert(p.internal);
            let fs = first_seen.entry(ext).or_insert(p.first_seen);
            *fs = (*fs).min(p.first_seen);
            if matches!(p.key.dst, Dst::Fqdn(_)) {
                let uniq = unique_count(p.entries.iter().filter(in_win).map(|e| e.ts));
                if uniq >= self.cfg.unique_threshold && (n as u64) < self.cfg.strobe_count {
                    candidates.insert(hash_of(&p.key));
                }
            }
        }
        let network = internal_hosts.len().max(1) as f64;
        let mut out = Vec::new();
        for p in self.pairs.iter().flatten() {
            let entries: Vec<Entry> = p.entries.iter().filter(in_win).copied().collect();
            if entries.is_empty() && p.open.is_empty() {
                continue;
            }
            let is_ip = matches!(p.key.dst, Dst::Ip(_));
            let count = entries.len() as u64 + p.overflow;
            let mut ts: Vec<u32> = entries.iter().map(|e| e.ts).collect();
            ts.sort_unstable();
            let unique = unique_count(ts.iter().copied());
            let excluded =
                is_ip && (p.linked_overflow || p.linked.iter().any(|h| candidates.contains(h)));
            let mut beacon = None;
            if !excluded && unique >= self.cfg.unique_threshold && count < self.cfg.strobe_count {
                let bytes: Vec<f64> = entries.iter().map(|e| f64::from(e.out)).collect();
                beacon = score_beacon(&ts, &bytes, start, end, &self.cfg.weights);
            }
            let open_duration: f64 = p.open.iter().map(|o| o.1).sum();
            let total_duration =
                entries.iter().map(|e| f64::from(e.dur)).sum::<f64>() + open_duration;
            let out_bytes: u64 = entries.iter().map(|e| u64::from(e.out)).sum();
            let total_bytes = out_bytes
                + entries.iter().map(|e| u64::from(e.inb)).sum::<u64>()
                + p.open.iter().map(|o| o.2).sum::<u64>();
            let strobe = !excluded && count >= self.cfg.strobe_count;
            let beacon_threat = beacon
                .as_ref()
                .map(|b| stats::bucketed(b.score * 100.0, self.cfg.beacon_thresholds))
                .unwrap_or(0.0);
            let long_conn_threat = if total_duration >= self.cfg.long_conn_min_secs {
                stats::bucketed(total_duration, self.cfg.long_conn_thresholds)
            } else {
                0.0
            };
            let ext = external_side(p);
            let threat_intel = self
                .cfg
                .threat_intel
                .as_ref()
                .is_some_and(|ti| ti.is_listed(&ext.to_string()));
            let reportable = beacon
                .as_ref()
                .is_some_and(|b| b.score >= self.cfg.min_beacon_score)
                || long_conn_threat > 0.0
                || strobe
                || threat_intel;
            if !reportable {
                continue;
            }
            // Modifiers.
            let mut modifiers: Vec<(&'static str, f64, String)> = Vec::new();
            let fs = first_seen.get(&ext).copied().unwrap_or(p.first_seen);
            let days = (end - i64::from(fs)) as f64 / 86_400.0;
            if days <= 7.0 {
                modifiers.push((
                    "first_seen",
                    0.15,
                    format!("{ext} first seen {days:.1} days before the end of the data (<= 7)"),
                ));
            } else if days >= 30.0 {
                modifiers.push((
                    "first_seen",
                    -0.15,
                    format!("{ext} first seen {days:.0} days before the end of the data (>= 30)"),
                ));
            }
            let prev_hosts = prevalence.get(&ext).map_or(1, |s| s.len());
            let prev = prev_hosts as f64 / network;
            if prev <= 0.02 {
                modifiers.push((
                    "prevalence",
                    0.15,
                    format!(
                        "{prev_hosts} of {network} internal hosts talk to {ext} ({:.1}% <= 2%)",
                        prev * 100.0
                    ),
                ));
            } else if prev >= 0.5 {
                modifiers.push((
                    "prevalence",
                    -0.15,
                    format!(
                        "{prev_hosts} of {network} internal hosts talk to {ext} ({:.0}% >= 50%)",
                        prev * 100.0
                    ),
                ));
            }
            let missing = p
                .missing_host
                .iter()
                .filter(|&&t| t >= cutoff && t <= endu)
                .count();
            if missing > 0 {
                modifiers.push((
                    "missing_host_header",
                    0.1,
                    format!("{missing} HTTP requests without a Host header"),
                ));
            }
            if let Some(s) = p
                .sigs
                .iter()
                .find(|&&s| !self.sig_multi.get(s as usize).copied().unwrap_or(true))
            {
                let text = self
                    .sigs
                    .iter()
                    .find(|(_, v)| v.0 == *s)
                    .map(|(k, _)| k.to_string())
                    .unwrap_or_default();
                modifiers.push((
                    "rare_signature",
                    0.15,
                    format!("signature only {} uses: {text}", p.key.src),
                ));
            }
            if threat_intel && total_bytes >= 25_000_000 {
                modifiers.push((
                    "threat_intel_data_size",
                    0.15,
                    format!("{total_bytes} bytes to a listed destination (>= 25 MB)"),
                ));
            }
            let base = beacon_threat
                .max(long_conn_threat)
                .max(if strobe { stats::HIGH_SCORE } else { 0.0 })
                .max(if threat_intel { stats::HIGH_SCORE } else { 0.0 });
            let final_score = stats::round3(base + modifiers.iter().map(|m| m.1).sum::<f64>());
            let first = ts
                .first()
                .map(|&t| i64::from(t))
                .unwrap_or(i64::from(p.first_seen));
            let last = ts.last().map(|&t| i64::from(t)).unwrap_or(first);
            let provenance = match (&p.first_prov, &p.last_prov) {
                (Some((pr, t)), _) if *t >= cutoff => pr.clone(),
                (_, Some((pr, _))) => pr.clone(),
                (Some((pr, _)), None) => pr.clone(),
                (None, None) => continue,
            };
            out.push(PairResult {
                src: p.key.src,
                dst: p.key.dst.clone(),
                beacon_type: if is_ip { "ip" } else { "sni" },
                window: (start, end),
                first,
                last,
                count,
                unique,
                proxy_count: entries.iter().filter(|e| e.flags & PROXY != 0).count() as u64,
                total_bytes,
                out_bytes,
                total_duration,
                open_duration,
                missing_host: missing,
                beacon,
                beacon_threat,
                long_conn_threat,
                strobe,
                threat_intel,
                modifiers,
                final_score,
                server_ips: p.server_ips.clone(),
                proxy_ips: p.proxy_ips.clone(),
                port_proto_service: p.port_proto_service.clone(),
                provenance,
            });
        }
        out
    }

    /// Score the final window and merge with the earlier checkpoints: every pair's latest
    /// qualifying window.
    pub fn results(&self) -> Vec<PairResult> {
        let mut all: HashMap<u64, PairResult> = self.earlier.clone();
        if let (Some(min), Some(max)) = (self.min_ts, self.clock) {
            let start = min.max(max - self.cfg.window_secs);
            let end = if max > start { max } else { start + 1 };
            for r in self.score_window(start, end) {
                all.insert(
                    hash_of(&PairKey {
                        src: r.src,
                        dst: r.dst.clone(),
                    }),
                    r,
                );
            }
        }
        let mut v: Vec<PairResult> = all.into_values().collect();
        v.sort_by(|a, b| {
            b.final_score
                .total_cmp(&a.final_score)
                .then(a.first.cmp(&b.first))
        });
        v
    }

    /// Findings for the results: one per indicator of each pair.
    pub fn findings(&self, out: &mut Vec<Finding>) {
        for r in self.results() {
            let host = r.src.to_string();
            let time = Timestamp::from_nanos(r.first.saturating_mul(1_000_000_000));
            // Every finding of a pair carries the pair's threat level (RITA's final score:
            // the strongest indicator plus the modifiers).
            let level = stats::level_of(r.final_score);
            if let Some(b) = &r.beacon {
                if b.score >= self.cfg.min_beacon_score {
                    let mut f = Finding::new(
                        Arc::clone(&self.rules.beacon),
                        level,
                        time,
                        &host,
                        r.provenance.clone(),
                    );
                    f.attack = beacon_attack(&r).into();
                    f.details = details(&r, "beacon", r.beacon_threat);
                    out.push(f);
                }
            }
            if r.long_conn_threat > 0.0 {
                let mut f = Finding::new(
                    Arc::clone(&self.rules.long),
                    level,
                    time,
                    &host,
                    r.provenance.clone(),
                );
                f.details = details(&r, "long_connection", r.long_conn_threat);
                out.push(f);
            }
            if r.strobe {
                let mut f = Finding::new(
                    Arc::clone(&self.rules.strobe),
                    level,
                    time,
                    &host,
                    r.provenance.clone(),
                );
                f.details = details(&r, "strobe", stats::HIGH_SCORE);
                out.push(f);
            }
        }
    }

    /// Approximate bytes of state.
    pub fn state_bytes(&self) -> usize {
        self.pairs.iter().flatten().map(Pair::bytes).sum::<usize>()
            + self.index.len() * 24
            + self.uids.len() * (std::mem::size_of::<UidInfo>() + 40)
            + self.sigs.keys().map(|k| k.len() + 48).sum::<usize>()
            + self.earlier.len() * std::mem::size_of::<PairResult>()
    }

    /// Pairs tracked now.
    pub fn pair_count(&self) -> usize {
        self.index.len()
    }

    /// (pairs refused by the cap, entries refused by the per-pair cap).
    pub fn dropped(&self) -> (u64, u64) {
        (self.dropped_pairs, self.dropped_entries)
    }
}

/// Multicast, broadcast, unspecified and link-local addresses are never C2 peers.
fn unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_multicast() || v.is_broadcast() || v.is_unspecified() || v.is_link_local())
        }
        IpAddr::V6(v) => {
            !(v.is_multicast() || v.is_unspecified() || (v.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

fn floor_hour(t: i64) -> i64 {
    t.div_euclid(3600) * 3600
}

fn unique_count(ts: impl Iterator<Item = u32>) -> usize {
    let mut v: Vec<u32> = ts.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn external_side(p: &Pair) -> Dst {
    match &p.key.dst {
        Dst::Fqdn(s) => Dst::Fqdn(s.clone()),
        Dst::Ip(d) => {
            if *d == p.internal {
                Dst::Ip(p.key.src)
            } else {
                Dst::Ip(*d)
            }
        }
    }
}

/// All four sub-scores of a pair over a window.
pub fn score_beacon(
    ts_sorted: &[u32],
    bytes: &[f64],
    start: i64,
    end: i64,
    w: &BeaconWeights,
) -> Option<BeaconScores> {
    let (ts_score, ts_skew, ts_mad) = stats::timestamp_score(ts_sorted)?;
    let (ds_score, ds_skew, ds_mad) = stats::data_size_score(bytes)?;
    let hist = stats::histogram_score(start, end, ts_sorted, 24, w)?;
    let first = i64::from(*ts_sorted.first()?);
    let last = i64::from(*ts_sorted.last()?);
    let (coverage, consistency, dur) = stats::duration_score(
        start,
        end,
        first,
        last,
        hist.total_bars,
        hist.longest_run,
        w.dur_min_hours,
        w.dur_ideal_hours,
    )?;
    let score = stats::beacon_score(ts_score, ds_score, dur, hist.score, w)?;
    let mut deltas: Vec<f64> = ts_sorted
        .windows(2)
        .map(|p| f64::from(p[1] - p[0]))
        .filter(|d| *d > 0.0)
        .collect();
    deltas.sort_by(f64::total_cmp);
    let mut b = bytes.to_vec();
    b.sort_by(f64::total_cmp);
    Some(BeaconScores {
        score,
        ts: ts_score,
        ts_skew,
        ts_mad,
        ts_median: stats::median(&deltas).unwrap_or(0.0),
        ds: ds_score,
        ds_skew,
        ds_mad,
        ds_median: stats::median(&b).unwrap_or(0.0),
        hist: hist.score,
        hist_cv: hist.cv_score,
        hist_bimodal: hist.bimodal_score,
        hours: hist.total_bars,
        longest_run: hist.longest_run,
        dur,
        coverage,
        consistency,
    })
}

fn beacon_attack(r: &PairResult) -> Vec<String> {
    let mut v = vec!["T1071".to_string()];
    let web = r.beacon_type == "sni"
        || r.port_proto_service.iter().any(|p| {
            p.starts_with("80:") || p.starts_with("443:") || p.contains("http") || p.contains("ssl")
        });
    if web {
        v.push("T1071.001".into());
    }
    if r.port_proto_service
        .iter()
        .any(|p| p.starts_with("53:") || p.ends_with(":dns"))
    {
        v.push("T1071.004".into());
    }
    if r.port_proto_service
        .iter()
        .any(|p| p.contains("ssl") || p.starts_with("443:"))
    {
        v.push("T1573".into());
    }
    v
}

fn iso(t: i64) -> String {
    Timestamp::from_nanos(t.saturating_mul(1_000_000_000)).to_rfc3339()
}

fn details(r: &PairResult, indicator: &str, indicator_threat: f64) -> Map<String, J> {
    let mut d = Map::new();
    d.insert("src".into(), json!(r.src.to_string()));
    d.insert("dst".into(), json!(r.dst.to_string()));
    d.insert("indicator".into(), json!(indicator));
    d.insert("beacon_type".into(), json!(r.beacon_type));
    if let Some(b) = &r.beacon {
        d.insert("beacon_score".into(), json!(b.score));
        d.insert(
            "beacon_subscores".into(),
            json!({"timestamp": b.ts, "data_size": b.ds, "histogram": b.hist, "duration": b.dur}),
        );
    }
    d.insert(
        "threat_score".into(),
        json!(stats::round3(indicator_threat + r.modifier_sum())),
    );
    d.insert("final_score".into(), json!(r.final_score));
    d.insert("count".into(), json!(r.count));
    d.insert("unique_times".into(), json!(r.unique));
    if r.proxy_count > 0 {
        d.insert("proxy_count".into(), json!(r.proxy_count));
        d.insert(
            "proxy_ips".into(),
            json!(r
                .proxy_ips
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()),
        );
    }
    if !r.server_ips.is_empty() {
        d.insert(
            "server_ips".into(),
            json!(r
                .server_ips
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()),
        );
    }
    d.insert("total_bytes".into(), json!(r.total_bytes));
    d.insert(
        "total_duration".into(),
        json!((r.total_duration * 1000.0).round() / 1000.0),
    );
    if r.open_duration > 0.0 {
        d.insert(
            "open_duration".into(),
            json!((r.open_duration * 1000.0).round() / 1000.0),
        );
    }
    if r.missing_host > 0 {
        d.insert("missing_host_count".into(), json!(r.missing_host));
    }
    d.insert(
        "port_proto_service".into(),
        json!(r
            .port_proto_service
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()),
    );
    d.insert("first_seen".into(), json!(iso(r.first)));
    d.insert("last_seen".into(), json!(iso(r.last)));
    d.insert("window".into(), json!([iso(r.window.0), iso(r.window.1)]));
    let mods: Map<String, J> = r
        .modifiers
        .iter()
        .map(|m| (m.0.to_string(), json!(m.1)))
        .collect();
    d.insert("modifiers".into(), J::Object(mods));
    d.insert(
        "explanation".into(),
        json!(explain(r, indicator, indicator_threat)),
    );
    d
}

fn explain(r: &PairResult, indicator: &str, threat: f64) -> String {
    let mut s = String::new();
    use std::fmt::Write;
    let _ = write!(s, "{} -> {}: ", r.src, r.dst);
    match indicator {
        "beacon" => {
            if let Some(b) = &r.beacon {
                let _ = write!(
                    s,
                    "beacon score {:.3} = 0.25 x timestamp {:.3} (intervals: median {:.0} s, MAD {:.0} s, Bowley skew {:.3}) + 0.25 x data size {:.3} (bytes sent: median {:.0}, MAD {:.0}, skew {:.3}) + 0.25 x histogram {:.3} ({} of 24 hours with connections; flatness {:.3}, bimodal fit {:.3}) + 0.25 x duration {:.3} (coverage {:.3}, longest run {} h -> consistency {:.3}); {} connections, {} distinct times. ",
                    b.score, b.ts, b.ts_median, b.ts_mad, b.ts_skew, b.ds, b.ds_median, b.ds_mad, b.ds_skew, b.hist, b.hours, b.hist_cv, b.hist_bimodal, b.dur, b.coverage, b.longest_run, b.consistency, r.count, r.unique
                );
                let _ = write!(s, "Graded 50/70/90/100 -> {threat:.3}");
            }
        }
        "long_connection" => {
            let _ = write!(
                s,
                "connected {:.0} s in all ({:.1} h; {:.0} s of it still open), graded 1/4/8/12 h -> {threat:.3}",
                r.total_duration,
                r.total_duration / 3600.0,
                r.open_duration
            );
        }
        _ => {
            let _ = write!(s, "{} connections in 24 h (strobe) -> {threat:.3}", r.count);
        }
    }
    for m in &r.modifiers {
        let _ = write!(s, "; {} {:+.2} ({})", m.0, m.1, m.2);
    }
    let total = threat + r.modifier_sum();
    let _ = write!(
        s,
        " => {:.3} for this indicator; the pair's final score (strongest indicator{} plus modifiers) is {:.3} ({}).",
        total,
        if r.threat_intel { ", threat intelligence 0.8 included," } else { "" },
        r.final_score,
        stats::level_of(r.final_score)
    );
    s
}

net_record_analyzer!(BeaconAnalyzer, "beacon");
