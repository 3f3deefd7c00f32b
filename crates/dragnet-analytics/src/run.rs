//! All the network analytics under one configuration, and a pass that reads the network
//! files itself and feeds the analytics in time order, for pipelines that do not (yet) feed
//! events to analyzers.

use crate::beacon::{BeaconAnalyzer, BeaconConfig};
use crate::dns::{DnsConfig, DnsTunnelAnalyzer};
use crate::exfil::{ExfilAnalyzer, ExfilConfig};
use crate::iis::IisAnalyzer;
use crate::intel::{IntelDetector, IocSet};
use crate::net::Networks;
use crate::record::{NetRecord, WebRequest};
use crate::relay::{RelayAnalyzer, RelayConfig};
use crate::suricata::SuricataAlerts;
use crate::ThreatIntel;
use dragnet_event::{Analyzer, Detector, Finding};
use dragnet_ingest::{InputFile, ReadOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Configuration shared by the network analytics.
#[derive(Clone, Default)]
pub struct NetworkAnalytics {
    pub networks: Networks,
    pub iocs: Arc<IocSet>,
    /// The organisation's own domains (look-alikes of them are reported; they are never
    /// reported as tunnels).
    pub org_domains: Vec<String>,
}

/// What [`NetworkAnalytics::run_pass`] gave.
#[derive(Debug, Default)]
pub struct NetworkPass {
    pub findings: Vec<Finding>,
    /// Network files and records read.
    pub files: usize,
    pub records: u64,
    /// Peak state per analyzer (bytes).
    pub state_peak: BTreeMap<String, usize>,
    pub elapsed: Duration,
}

enum Item {
    Net(Box<NetRecord>),
    Web(Box<WebRequest>),
}

impl NetworkAnalytics {
    fn ti(&self) -> Option<Arc<dyn ThreatIntel>> {
        if self.iocs.is_empty() {
            None
        } else {
            Some(Arc::clone(&self.iocs) as Arc<dyn ThreatIntel>)
        }
    }

    /// The stateless detectors: Suricata alerts, IOC and look-alike matching.
    pub fn detectors(&self) -> Vec<Arc<dyn Detector>> {
        vec![
            Arc::new(SuricataAlerts::new()),
            Arc::new(IntelDetector::new(
                Arc::clone(&self.iocs),
                &self.org_domains,
            )),
        ]
    }

    /// The analyzers (all want events).
    pub fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        let ti = self.ti();
        vec![
            Box::new(BeaconAnalyzer::new(BeaconConfig {
                networks: self.networks.clone(),
                threat_intel: ti.clone(),
                ..Default::default()
            })),
            Box::new(DnsTunnelAnalyzer::new(DnsConfig {
                org_domains: self.org_domains.clone(),
                ..Default::default()
            })),
            Box::new(ExfilAnalyzer::new(ExfilConfig {
                networks: self.networks.clone(),
                threat_intel: ti.clone(),
                ..Default::default()
            })),
            Box::new(RelayAnalyzer::new(RelayConfig {
                networks: self.networks.clone(),
                threat_intel: ti,
                ..Default::default()
            })),
            Box::new(IisAnalyzer::new()),
        ]
    }

    /// One analyzer running all the network analytics, for pipelines that feed events in any
    /// order: it keeps a compact projection of every network record it is given (a few
    /// hundred bytes each), sorts them by time at the end and runs the analytics then.
    pub fn analyzer(&self) -> NetworkAnalyzer {
        NetworkAnalyzer {
            na: self.clone(),
            items: Vec::new(),
            seq: 0,
            bytes: 0,
            peaks: BTreeMap::new(),
        }
    }

    /// Read the network files among `files` (Zeek, Suricata, IIS) and run the analytics over
    /// them in time order (the same work as [`NetworkAnalytics::analyzer`], reading the files
    /// itself).
    pub fn run_pass(&self, files: &[InputFile]) -> NetworkPass {
        let started = Instant::now();
        let mut pass = NetworkPass::default();
        let mut a = self.analyzer();
        for f in files.iter().filter(|f| f.format.is_network()) {
            pass.files += 1;
            dragnet_ingest::read_file(
                f,
                &ReadOptions::default(),
                &mut |e| {
                    pass.records += 1;
                    a.push(&e);
                },
                &mut |_| {},
            );
        }
        a.finish(&mut pass.findings);
        pass.state_peak = a.peaks.clone();
        pass.state_peak.insert("records".into(), a.bytes);
        pass.findings.sort_by(Finding::timeline_cmp);
        pass.elapsed = started.elapsed();
        pass
    }
}

/// All the network analytics as one [`Analyzer`] that takes events in any order (see
/// [`NetworkAnalytics::analyzer`]).
pub struct NetworkAnalyzer {
    na: NetworkAnalytics,
    items: Vec<(i64, u8, u32, Item)>,
    seq: u32,
    /// Approximate bytes of the buffered records.
    bytes: usize,
    /// Peak state of each analytic while they ran (bytes).
    pub peaks: BTreeMap<String, usize>,
}

impl NetworkAnalyzer {
    fn push(&mut self, e: &dragnet_event::Event) {
        let item = match NetRecord::from_event(e) {
            Some(r) => {
                self.bytes += std::mem::size_of::<NetRecord>() + 64;
                // Connections first among records of the same time: HTTP/TLS link to them.
                let rank = if r.kind == crate::record::Kind::Conn {
                    0
                } else {
                    1
                };
                Some((rank, Item::Net(Box::new(r))))
            }
            None => WebRequest::from_event(e).map(|w| {
                self.bytes += std::mem::size_of::<WebRequest>() + 96;
                (1, Item::Web(Box::new(w)))
            }),
        };
        if let Some((rank, i)) = item {
            self.items.push((e.time.nanos(), rank, self.seq, i));
            self.seq = self.seq.wrapping_add(1);
        }
    }

    fn run(&mut self, out: &mut Vec<Finding>) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_by_key(|x| (x.0, x.1, x.2));
        let na = &self.na;
        let mut beacon = BeaconAnalyzer::new(BeaconConfig {
            networks: na.networks.clone(),
            threat_intel: na.ti(),
            ..Default::default()
        });
        let mut dns = DnsTunnelAnalyzer::new(DnsConfig {
            org_domains: na.org_domains.clone(),
            ..Default::default()
        });
        let mut exfil = ExfilAnalyzer::new(ExfilConfig {
            networks: na.networks.clone(),
            threat_intel: na.ti(),
            ..Default::default()
        });
        let mut relay = RelayAnalyzer::new(RelayConfig {
            networks: na.networks.clone(),
            threat_intel: na.ti(),
            ..Default::default()
        });
        let mut iis = IisAnalyzer::new();
        let mut peak = [0usize; 5];
        for (i, (_, _, _, item)) in items.iter().enumerate() {
            match item {
                Item::Net(r) => {
                    beacon.observe(r);
                    dns.observe(r);
                    exfil.observe(r);
                    relay.observe(r);
                }
                Item::Web(w) => iis.observe(w, out),
            }
            if i % 65_536 == 0 {
                sample(&mut peak, &beacon, &dns, &exfil, &relay, &iis);
            }
        }
        sample(&mut peak, &beacon, &dns, &exfil, &relay, &iis);
        drop(items);
        beacon.findings(out);
        dns.findings(out);
        exfil.findings(out);
        relay.findings(out);
        iis.findings(out);
        for (name, p) in ["beacon", "dns-tunnel", "exfiltration", "relay", "iis"]
            .iter()
            .zip(peak)
        {
            self.peaks.insert(name.to_string(), p);
        }
    }
}

impl Analyzer for NetworkAnalyzer {
    fn name(&self) -> &str {
        "network"
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn observe_event(&mut self, event: &dragnet_event::Event, _out: &mut Vec<Finding>) {
        self.push(event);
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        self.run(out);
    }
    fn state_bytes(&self) -> usize {
        self.bytes + self.peaks.values().copied().max().unwrap_or(0)
    }
}

fn sample(
    peak: &mut [usize; 5],
    b: &BeaconAnalyzer,
    d: &DnsTunnelAnalyzer,
    e: &ExfilAnalyzer,
    r: &RelayAnalyzer,
    i: &IisAnalyzer,
) {
    let now = [
        b.state_bytes(),
        d.state_bytes(),
        e.state_bytes(),
        r.state_bytes(),
        i.state_bytes(),
    ];
    for (p, n) in peak.iter_mut().zip(now) {
        *p = (*p).max(n);
    }
}
