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
use crate::spill::{item_bytes, Item, Key, Runs, SpillStats};
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

/// Default memory budget of [`NetworkAnalyzer`]'s reordering buffer (bytes); beyond it,
/// sorted runs go to temporary files (see `spill.rs`).
pub const DEFAULT_BUFFER_BYTES: usize = 64 << 20;

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
        self.analyzer_with_budget(DEFAULT_BUFFER_BYTES)
    }

    /// [`NetworkAnalytics::analyzer`] with a memory budget (bytes) for the records it holds
    /// before they can be put in time order: beyond it, sorted runs are written to temporary
    /// files and merged at the end (same findings; memory bounded whatever the input size).
    pub fn analyzer_with_budget(&self, budget: usize) -> NetworkAnalyzer {
        NetworkAnalyzer {
            na: self.clone(),
            items: Vec::new(),
            seq: 0,
            bytes: 0,
            budget: budget.max(1 << 16),
            peak_bytes: 0,
            runs: Runs::new(),
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
        pass.state_peak.insert("records".into(), a.peak_bytes);
        pass.findings.sort_by(Finding::timeline_cmp);
        pass.elapsed = started.elapsed();
        pass
    }
}

/// All the network analytics as one [`Analyzer`] that takes events in any order (see
/// [`NetworkAnalytics::analyzer`]).
///
/// Memory is bounded: the compact records wait in a buffer of at most `budget` bytes; when it
/// is full it is sorted and written to a temporary file as a sorted run, and at the end the
/// runs are merged, so the analytics see every record in time order (the same findings as an
/// unbounded buffer). The analytics' own state is capped per key (pairs, domains, hosts) with
/// counters of what they dropped. Records lost to a failed temporary file are counted in
/// [`NetworkAnalyzer::spill_stats`] and named in each network finding's
/// `details.records_dropped`.
pub struct NetworkAnalyzer {
    na: NetworkAnalytics,
    items: Vec<(Key, Item)>,
    seq: u64,
    /// Approximate bytes of the buffered records.
    bytes: usize,
    budget: usize,
    /// Peak of `bytes`.
    peak_bytes: usize,
    runs: Runs,
    /// Peak state of each analytic while they ran (bytes).
    pub peaks: BTreeMap<String, usize>,
}

impl NetworkAnalyzer {
    fn push(&mut self, e: &dragnet_event::Event) {
        let item = match NetRecord::from_event(e) {
            Some(r) => {
                // Connections first among records of the same time: HTTP/TLS link to them.
                let rank = if r.kind == crate::record::Kind::Conn {
                    0
                } else {
                    1
                };
                Some((rank, Item::Net(Box::new(r))))
            }
            None => WebRequest::from_event(e).map(|w| (1, Item::Web(Box::new(w)))),
        };
        if let Some((rank, i)) = item {
            let size = item_bytes(&i) + std::mem::size_of::<(Key, Item)>();
            if self.bytes + size > self.budget && !self.items.is_empty() {
                self.spill();
            }
            self.bytes += size;
            self.peak_bytes = self.peak_bytes.max(self.bytes);
            self.items.push(((e.time.nanos(), rank, self.seq), i));
            self.seq += 1;
        }
    }

    /// Sort the buffer and write it as one run.
    fn spill(&mut self) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_by_key(|x| x.0);
        self.runs.spill(&items);
        self.bytes = 0;
    }

    /// What the reordering buffer wrote to (and lost from) temporary files.
    pub fn spill_stats(&self) -> &SpillStats {
        &self.runs.stats
    }

    /// The reordering buffer's budget (bytes).
    pub fn budget(&self) -> usize {
        self.budget
    }

    fn run(&mut self, out: &mut Vec<Finding>) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_by_key(|x| x.0);
        let first = out.len();
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
        let mut i = 0usize;
        let mut each = |item: &Item| {
            match item {
                Item::Net(r) => {
                    beacon.observe(r);
                    dns.observe(r);
                    exfil.observe(r);
                    relay.observe(r);
                }
                Item::Web(w) => iis.observe(w, out),
            }
            if i.is_multiple_of(65_536) {
                sample(&mut peak, &beacon, &dns, &exfil, &relay, &iis);
            }
            i += 1;
        };
        if self.runs.is_empty() {
            for (_, item) in &items {
                each(item);
            }
            drop(items);
        } else {
            self.runs.merge(items, self.budget, &mut each);
        }
        sample(&mut peak, &beacon, &dns, &exfil, &relay, &iis);
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
        let dropped = self.runs.stats.dropped;
        if dropped > 0 {
            for f in &mut out[first..] {
                f.details
                    .insert("records_dropped".into(), serde_json::json!(dropped));
            }
        }
        self.bytes = 0;
    }
}

impl Analyzer for NetworkAnalyzer {
    fn name(&self) -> &str {
        "network"
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn wants_findings(&self) -> bool {
        false
    }
    fn observe_event(&mut self, event: &dragnet_event::Event, _out: &mut Vec<Finding>) {
        self.push(event);
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        self.run(out);
    }
    fn state_bytes(&self) -> usize {
        // The buffer while reading; the analytics' state (their sum at its peak) after.
        self.bytes + self.peaks.values().copied().sum::<usize>()
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
