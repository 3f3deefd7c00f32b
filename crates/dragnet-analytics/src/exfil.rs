//! Exfiltration: bytes sent from internal hosts to external destinations, per pair, against
//! the host's own baseline (its usual outbound volume per destination) and the fleet (the
//! other hosts' totals), with uploads to cloud storage called out.
//!
//! Score: outbound bytes of the pair graded 20 MB / 100 MB / 500 MB / 1 GB -> 0.2..0.8, plus:
//! mostly one-way (sent >= 10x received) +0.1; >= 20x the host's median per-destination volume
//! +0.1; host's total >= 3x the fleet's 95th percentile (five hosts or more) +0.1; cloud storage
//! or file-sharing destination +0.1 (T1567.002); destination on a threat-intelligence list
//! +0.15. State: one counter set per (internal host, external address) pair, capped.

use crate::net::Networks;
use crate::record::{Kind, NetRecord};
use crate::stats::{self, Thresholds};
use crate::ThreatIntel;
use dragnet_event::{Finding, Provenance, RuleMeta, Timestamp};
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Registrable domains (and suffixes) of cloud storage and file-sharing services.
pub const CLOUD_STORAGE: &[&str] = &[
    "dropbox.com",
    "dropboxusercontent.com",
    "mega.nz",
    "mega.co.nz",
    "mega.io",
    "drive.google.com",
    "storage.googleapis.com",
    "docs.google.com",
    "s3.amazonaws.com",
    "blob.core.windows.net",
    "onedrive.live.com",
    "1drv.ms",
    "box.com",
    "wetransfer.com",
    "transfer.sh",
    "file.io",
    "gofile.io",
    "anonfiles.com",
    "pastebin.com",
    "temp.sh",
    "catbox.moe",
    "filebin.net",
    "pcloud.com",
    "icedrive.net",
    "mediafire.com",
    "sendspace.com",
    "put.io",
    "backblazeb2.com",
    "r2.cloudflarestorage.com",
    "storj.io",
    "filemail.com",
    "ufile.io",
    "bashupload.com",
];

#[derive(Clone)]
pub struct ExfilConfig {
    pub networks: Networks,
    pub thresholds: Thresholds,
    pub max_pairs: usize,
    pub threat_intel: Option<Arc<dyn ThreatIntel>>,
}

impl Default for ExfilConfig {
    fn default() -> Self {
        ExfilConfig {
            networks: Networks::default(),
            thresholds: Thresholds {
                base: 20e6,
                low: 100e6,
                medium: 500e6,
                high: 1e9,
            },
            max_pairs: 2_000_000,
            threat_intel: None,
        }
    }
}

#[derive(Default, Debug)]
struct Flow {
    out: u64,
    inb: u64,
    conns: u64,
    first: i64,
    last: i64,
    largest: u64,
    prov: Option<Provenance>,
}

pub struct ExfilAnalyzer {
    cfg: ExfilConfig,
    pairs: HashMap<(IpAddr, IpAddr), Flow>,
    names: HashMap<IpAddr, Box<str>>,
    rule: Arc<RuleMeta>,
}

fn is_cloud(name: &str) -> bool {
    CLOUD_STORAGE
        .iter()
        .any(|c| name == *c || name.ends_with(&format!(".{c}")))
}

impl ExfilAnalyzer {
    pub fn new(cfg: ExfilConfig) -> Self {
        ExfilAnalyzer {
            cfg,
            pairs: HashMap::new(),
            names: HashMap::new(),
            rule: Arc::new(RuleMeta {
                id: "dragnet-net-exfiltration".into(),
                title: "Exfiltration: large outbound transfer to an external destination".into(),
                author: "dragnet".into(),
                status: "experimental".into(),
                description: "An internal host sent far more data to one external destination than it usually sends (and than the fleet does).".into(),
                tags: vec!["attack.exfiltration".into(), "attack.t1041".into(), "attack.t1048".into()],
                source: "builtin:analytics/exfil".into(),
                kind: "exfiltration".into(),
                ..Default::default()
            }),
        }
    }

    pub fn observe(&mut self, r: &NetRecord) {
        match r.kind {
            Kind::Http | Kind::Ssl => {
                if let (Some(d), Some(h)) = (r.dst, r.host.as_deref()) {
                    if !h.is_empty() && self.names.len() < 500_000 {
                        self.names.insert(d, h.to_ascii_lowercase().into());
                    }
                }
            }
            Kind::Conn if !r.open => {
                let (Some(s), Some(d)) = (r.src, r.dst) else {
                    return;
                };
                let si = self.cfg.networks.is_internal(&s, r.local_orig);
                let di = self.cfg.networks.is_internal(&d, r.local_resp);
                if !si || di || d.is_multicast() {
                    return;
                }
                if !self.pairs.contains_key(&(s, d)) && self.pairs.len() >= self.cfg.max_pairs {
                    return;
                }
                let t = r.time.secs();
                let f = self.pairs.entry((s, d)).or_insert_with(|| Flow {
                    first: t,
                    ..Default::default()
                });
                f.out += r.orig_bytes;
                f.inb += r.resp_bytes;
                f.conns += 1;
                f.last = f.last.max(t);
                if r.orig_bytes >= f.largest {
                    f.largest = r.orig_bytes;
                    f.prov = Some(r.provenance.clone());
                }
            }
            _ => {}
        }
    }

    pub fn findings(&self, out: &mut Vec<Finding>) {
        let mut per_host: HashMap<IpAddr, Vec<u64>> = HashMap::new();
        for ((s, _), f) in &self.pairs {
            per_host.entry(*s).or_default().push(f.out);
        }
        let mut totals: Vec<u64> = per_host.values().map(|v| v.iter().sum()).collect();
        totals.sort_unstable();
        let p95 = if totals.len() >= 5 {
            totals[((totals.len() - 1) as f64 * 0.95) as usize]
        } else {
            u64::MAX
        };
        for ((s, d), f) in &self.pairs {
            let base = stats::bucketed(f.out as f64, self.cfg.thresholds);
            if base <= 0.0 {
                continue;
            }
            let mut host_pairs = per_host.get(s).cloned().unwrap_or_default();
            host_pairs.sort_unstable();
            let median = host_pairs[host_pairs.len() / 2].max(1);
            let host_total: u64 = host_pairs.iter().sum();
            let name = self.names.get(d).map(|n| n.to_string());
            let mut mods: Vec<(&str, f64, String)> = Vec::new();
            if f.out >= f.inb.saturating_mul(10) {
                mods.push((
                    "one_way",
                    0.1,
                    format!("sent {} B, received {} B", f.out, f.inb),
                ));
            }
            if f.out >= median.saturating_mul(20) && host_pairs.len() >= 3 {
                mods.push(("host_baseline", 0.1, format!("{:.0}x the host's median per-destination volume ({median} B over {} destinations)", f.out as f64 / median as f64, host_pairs.len())));
            }
            if p95 != u64::MAX && host_total >= p95.saturating_mul(3) {
                mods.push(("fleet_baseline", 0.1, format!("host total {host_total} B >= 3x the fleet's 95th percentile ({p95} B over {} hosts)", totals.len())));
            }
            let cloud = name.as_deref().is_some_and(is_cloud);
            if cloud {
                mods.push((
                    "cloud_storage",
                    0.1,
                    format!(
                        "{} is a cloud storage / file-sharing service",
                        name.as_deref().unwrap_or("")
                    ),
                ));
            }
            let listed = self.cfg.threat_intel.as_ref().is_some_and(|ti| {
                ti.is_listed(&d.to_string()) || name.as_deref().is_some_and(|n| ti.is_listed(n))
            });
            if listed {
                mods.push((
                    "threat_intel",
                    0.15,
                    "destination on a threat-intelligence list".into(),
                ));
            }
            let score = stats::round3(base + mods.iter().map(|m| m.1).sum::<f64>());
            let level = stats::level_of(score);
            let Some(prov) = f.prov.clone() else { continue };
            let time = Timestamp::from_nanos(f.first.saturating_mul(1_000_000_000));
            let mut fd = Finding::new(Arc::clone(&self.rule), level, time, &s.to_string(), prov);
            if cloud {
                let mut attack = fd.attack.to_vec();
                attack.extend(["T1567".into(), "T1567.002".into()]);
                fd.attack = attack.into();
            }
            let dd = &mut fd.details;
            dd.insert("src".into(), json!(s.to_string()));
            dd.insert(
                "dst".into(),
                json!(name.clone().unwrap_or_else(|| d.to_string())),
            );
            dd.insert("dst_ip".into(), json!(d.to_string()));
            dd.insert("bytes_out".into(), json!(f.out));
            dd.insert("bytes_in".into(), json!(f.inb));
            dd.insert("connections".into(), json!(f.conns));
            dd.insert("largest_connection_bytes".into(), json!(f.largest));
            dd.insert("host_total_out".into(), json!(host_total));
            dd.insert("score".into(), json!(score));
            dd.insert("first_seen".into(), json!(time.to_rfc3339()));
            dd.insert(
                "last_seen".into(),
                json!(Timestamp::from_nanos(f.last.saturating_mul(1_000_000_000)).to_rfc3339()),
            );
            let mut expl = format!(
                "{s} sent {:.1} MB to {} in {} connections, graded 20/100/500/1000 MB -> {base:.3}",
                f.out as f64 / 1e6,
                name.as_deref().unwrap_or(&d.to_string()),
                f.conns
            );
            for m in &mods {
                expl.push_str(&format!("; {} {:+.2} ({})", m.0, m.1, m.2));
            }
            expl.push_str(&format!(" => {score:.3} ({level})"));
            dd.insert("explanation".into(), json!(expl));
            out.push(fd);
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.pairs.len() * (std::mem::size_of::<Flow>() + 48)
            + self.names.values().map(|n| n.len() + 40).sum::<usize>()
    }
}

net_record_analyzer!(ExfilAnalyzer, "exfiltration");
