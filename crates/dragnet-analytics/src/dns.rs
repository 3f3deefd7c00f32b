//! DNS tunnelling and C2 over DNS: many distinct names under one registrable domain (RITA's
//! measure: distinct subdomains, graded 100/500/800/1000 -> 0.2..0.8), weighed with what the
//! names look like (length and Shannon entropy of the subdomain part, TXT/NULL/CNAME/MX query
//! share) and whether anyone connects to the domain's addresses.
//!
//! The registrable domain comes from `domain::registrable` (last two labels, three under the
//! multi-label suffixes listed there); reverse lookups (`.arpa`) and names of the
//! organisation's own domains are left out. State: per domain at most `max_names` distinct
//! subdomain hashes (8 bytes each) and 32 querying hosts; at most `max_domains` domains.

use crate::domain;
use crate::record::{Kind, NetRecord};
use crate::stats::{self, Thresholds};
use dragnet_event::{Finding, Provenance, RuleMeta, Timestamp};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct DnsConfig {
    /// Distinct subdomains from which a domain is reported (RITA: 100).
    pub subdomain_threshold: usize,
    pub thresholds: Thresholds,
    pub max_names: usize,
    pub max_domains: usize,
    /// The organisation's own domains (never reported).
    pub org_domains: Vec<String>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            subdomain_threshold: 100,
            thresholds: Thresholds {
                base: 100.0,
                low: 500.0,
                medium: 800.0,
                high: 1000.0,
            },
            max_names: 5000,
            max_domains: 200_000,
            org_domains: Vec::new(),
        }
    }
}

#[derive(Default, Debug)]
struct DomainState {
    names: HashSet<u64>,
    /// Beyond `max_names`: counted, not stored.
    more: u64,
    queries: u64,
    label_len_sum: u64,
    max_len: usize,
    entropy_sum: f64,
    sampled: u64,
    odd_types: u64,
    hosts: Vec<IpAddr>,
    resolved: Vec<IpAddr>,
    first: i64,
    last: i64,
    example: String,
    prov: Option<Provenance>,
}

/// DNS tunnelling analytic.
pub struct DnsTunnelAnalyzer {
    cfg: DnsConfig,
    domains: HashMap<Box<str>, DomainState>,
    /// Destinations of connections (to tell whether anyone talks to the resolved addresses).
    contacted: HashSet<IpAddr>,
    rule: Arc<RuleMeta>,
}

fn h64(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl DnsTunnelAnalyzer {
    pub fn new(cfg: DnsConfig) -> Self {
        DnsTunnelAnalyzer {
            cfg,
            domains: HashMap::new(),
            contacted: HashSet::new(),
            rule: Arc::new(RuleMeta {
                id: "dragnet-net-dns-tunnel".into(),
                title: "DNS tunnelling / C2 over DNS: many distinct names under one domain".into(),
                author: "dragnet (subdomain measure after RITA v5)".into(),
                status: "experimental".into(),
                description: "A registrable domain queried under very many distinct subdomains, often long and random-looking: data carried in DNS names.".into(),
                tags: vec!["attack.command-and-control".into(), "attack.t1071.004".into(), "attack.t1572".into(), "attack.exfiltration".into(), "attack.t1048".into()],
                source: "builtin:analytics/dns".into(),
                kind: "dns-tunnel".into(),
                ..Default::default()
            }),
        }
    }

    pub fn observe(&mut self, r: &NetRecord) {
        match r.kind {
            Kind::Conn => {
                if let Some(d) = r.dst {
                    if self.contacted.len() < 1_000_000 && r.dst_port != 53 {
                        self.contacted.insert(d);
                    }
                }
            }
            Kind::Dns => self.observe_query(r),
            _ => {}
        }
    }

    fn observe_query(&mut self, r: &NetRecord) {
        let Some(q) = r.query.as_deref().and_then(domain::normalize) else {
            return;
        };
        let Some(reg) = domain::registrable(&q) else {
            return;
        };
        if self
            .cfg
            .org_domains
            .iter()
            .any(|o| o == reg || reg.ends_with(&format!(".{o}")))
        {
            return;
        }
        if reg.ends_with(".local")
            || reg.ends_with(".lan")
            || reg.ends_with(".internal")
            || reg.ends_with(".localdomain")
        {
            return;
        }
        let sub = domain::subdomain(&q, reg);
        if !self.domains.contains_key(reg) && self.domains.len() >= self.cfg.max_domains {
            return;
        }
        let t = r.time.secs();
        let st = self
            .domains
            .entry(reg.into())
            .or_insert_with(|| DomainState {
                first: t,
                ..Default::default()
            });
        st.queries += 1;
        st.last = st.last.max(t);
        st.first = st.first.min(t);
        if let Some(src) = r.src {
            if !st.hosts.contains(&src) && st.hosts.len() < 32 {
                st.hosts.push(src);
            }
        }
        for a in &r.answers {
            if let Ok(ip) = a.parse::<IpAddr>() {
                if !st.resolved.contains(&ip) && st.resolved.len() < 16 {
                    st.resolved.push(ip);
                }
            }
        }
        if matches!(
            r.qtype.as_deref(),
            Some("TXT" | "NULL" | "CNAME" | "MX" | "KEY" | "PRIVATE")
        ) {
            st.odd_types += 1;
        }
        if sub.is_empty() {
            return;
        }
        let hash = h64(sub);
        if st.names.len() < self.cfg.max_names {
            if st.names.insert(hash) {
                st.label_len_sum += sub.len() as u64;
                st.max_len = st.max_len.max(sub.len());
                let compact: String = sub.chars().filter(|c| *c != '.').collect();
                st.entropy_sum += domain::entropy(&compact);
                st.sampled += 1;
                if st.example.len() < sub.len() && sub.len() <= 120 {
                    st.example = q.clone();
                    st.prov = Some(r.provenance.clone());
                }
                if st.prov.is_none() {
                    st.prov = Some(r.provenance.clone());
                }
            }
        } else if !st.names.contains(&hash) {
            st.more += 1;
        }
    }

    pub fn findings(&self, out: &mut Vec<Finding>) {
        for (reg, st) in &self.domains {
            let distinct = st.names.len() as u64 + st.more;
            if (distinct as usize) < self.cfg.subdomain_threshold {
                continue;
            }
            let base = stats::bucketed(distinct as f64, self.cfg.thresholds);
            let mean_len = st.label_len_sum as f64 / st.sampled.max(1) as f64;
            let mean_ent = st.entropy_sum / st.sampled.max(1) as f64;
            let odd_share = st.odd_types as f64 / st.queries.max(1) as f64;
            let mut mods: Vec<(&str, f64, String)> = Vec::new();
            if mean_len >= 20.0 && mean_ent >= 3.5 {
                mods.push(("random_names", 0.15, format!("subdomains average {mean_len:.0} characters at {mean_ent:.2} bits/char (>= 20 and >= 3.5)")));
            } else if mean_len < 10.0 && mean_ent < 3.0 {
                mods.push(("ordinary_names", -0.15, format!("subdomains average {mean_len:.0} characters at {mean_ent:.2} bits/char (short, low entropy)")));
            }
            if odd_share >= 0.2 {
                mods.push((
                    "odd_query_types",
                    0.1,
                    format!("{:.0}% TXT/NULL/CNAME/MX queries", odd_share * 100.0),
                ));
            }
            let direct = st.resolved.iter().any(|ip| self.contacted.contains(ip));
            if !direct {
                mods.push(("no_direct_connections", 0.15, "no connection to the addresses the domain resolved to: only the names are used".into()));
            }
            if st.hosts.len() == 1 {
                mods.push((
                    "single_querier",
                    0.05,
                    format!("only {} queries it", st.hosts[0]),
                ));
            }
            let score = stats::round3(base + mods.iter().map(|m| m.1).sum::<f64>());
            let level = stats::level_of(score);
            let time = Timestamp::from_nanos(st.first.saturating_mul(1_000_000_000));
            let host = st.hosts.first().map(|h| h.to_string()).unwrap_or_default();
            let Some(prov) = st.prov.clone() else {
                continue;
            };
            let mut f = Finding::new(Arc::clone(&self.rule), level, time, &host, prov);
            let d = &mut f.details;
            d.insert("src".into(), json!(host));
            d.insert("dst".into(), json!(reg.to_string()));
            d.insert("domain".into(), json!(reg.to_string()));
            d.insert("distinct_subdomains".into(), json!(distinct));
            d.insert("queries".into(), json!(st.queries));
            d.insert(
                "mean_subdomain_length".into(),
                json!((mean_len * 10.0).round() / 10.0),
            );
            d.insert("max_subdomain_length".into(), json!(st.max_len));
            d.insert(
                "mean_entropy".into(),
                json!((mean_ent * 100.0).round() / 100.0),
            );
            d.insert(
                "queriers".into(),
                json!(st.hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()),
            );
            d.insert("example".into(), json!(st.example));
            d.insert("score".into(), json!(score));
            let mut expl = format!("{distinct} distinct names under {reg} ({} queries), graded 100/500/800/1000 -> {base:.3}", st.queries);
            for m in &mods {
                expl.push_str(&format!("; {} {:+.2} ({})", m.0, m.1, m.2));
            }
            expl.push_str(&format!(" => {score:.3} ({level})"));
            d.insert("explanation".into(), json!(expl));
            out.push(f);
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.domains
            .iter()
            .map(|(k, s)| {
                k.len()
                    + std::mem::size_of::<DomainState>()
                    + s.names.capacity() * 9
                    + s.hosts.capacity() * 17
                    + s.example.len()
            })
            .sum::<usize>()
            + self.contacted.len() * 24
    }
}

net_record_analyzer!(DnsTunnelAnalyzer, "dns-tunnel");
