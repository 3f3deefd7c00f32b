//! dragnet's network analytics over Zeek, Suricata and IIS evidence.
//!
//! Each analytic is a plain struct with an `observe(&record)` method on a compact projection of
//! the event (`record.rs`) and a `finish`/`findings` step, with an [`Analyzer`] (or, when it
//! needs no state, a [`Detector`]) on top, so that it can be driven by the hunt pipeline (which
//! feeds events to analyzers that [`Analyzer::wants_events`]) or directly:
//!
//! - `beacon.rs`: beaconing (RITA v5 scoring, `stats.rs`), long connections, strobes;
//! - `dns.rs`: DNS tunnelling / C2 over DNS (`domain.rs`: registrable domains, entropy);
//! - `exfil.rs`: exfiltration against the host's and the fleet's baselines;
//! - `relay.rs`: internal relay nodes;
//! - `iis.rs`: IIS / SharePoint exploitation (ToolShell, ViewState, new web shells, listeners);
//! - `intel.rs`: IOC lists and look-alike domains (a detector);
//! - `suricata.rs`: Suricata alerts as findings (a detector);
//! - [`NetworkAnalytics`] (`run.rs`): all of them with one configuration; its
//!   [`NetworkAnalyzer`] takes events in any order (the hunt pipeline feeds them file by file,
//!   files interleaved), keeps a compact projection of each network record within a memory
//!   budget (sorted runs spill to temporary files beyond it: `spill.rs`, an external merge
//!   sort), and runs the analytics in time order at the end; `run_pass` does the same reading
//!   the files itself.
//!
//! The per-analytic [`Analyzer`] impls (`BeaconAnalyzer`...) expect events in time order.
//!
//! Every finding carries ATT&CK ids and, in `details.explanation`, how its score was made;
//! network findings name the pair in `details.src` and `details.dst`.
//!
//! [`Analyzer`]: dragnet_event::Analyzer
//! [`Detector`]: dragnet_event::Detector
//! [`Analyzer::wants_events`]: dragnet_event::Analyzer::wants_events

/// `impl Analyzer` for a per-analytic network analyzer that takes [`record::NetRecord`]s through
/// `observe`, emits through `findings` and sizes itself with `state_bytes`: every one of them
/// is fed the same way.
macro_rules! net_record_analyzer {
    ($ty:ty, $name:literal) => {
        impl dragnet_event::Analyzer for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn wants_events(&self) -> bool {
                true
            }
            fn wants_findings(&self) -> bool {
                false
            }
            fn observe_event(
                &mut self,
                event: &dragnet_event::Event,
                _out: &mut Vec<dragnet_event::Finding>,
            ) {
                if let Some(r) = $crate::record::NetRecord::from_event(event) {
                    self.observe(&r);
                }
            }
            fn finish(&mut self, out: &mut Vec<dragnet_event::Finding>) {
                self.findings(out);
            }
            fn state_bytes(&self) -> usize {
                <$ty>::state_bytes(self)
            }
        }
    };
}

pub mod beacon;
pub mod dns;
pub mod domain;
pub mod exfil;
pub mod iis;
pub mod intel;
pub mod net;
pub mod record;
pub mod relay;
mod run;
mod spill;
pub mod stats;
pub mod suricata;

pub use beacon::{BeaconAnalyzer, BeaconConfig, Dst, PairResult};
pub use dns::{DnsConfig, DnsTunnelAnalyzer};
pub use exfil::{ExfilAnalyzer, ExfilConfig};
pub use iis::IisAnalyzer;
pub use intel::{IntelDetector, IocKind, IocSet};
pub use net::Networks;
pub use record::{Kind, NetRecord, WebRequest};
pub use relay::{RelayAnalyzer, RelayConfig};
pub use run::{NetworkAnalytics, NetworkAnalyzer, NetworkPass, DEFAULT_BUFFER_BYTES};
pub use spill::SpillStats;
pub use suricata::SuricataAlerts;

/// Whether an indicator (IP address, domain) is on a threat-intelligence list.
pub trait ThreatIntel: Send + Sync {
    fn is_listed(&self, indicator: &str) -> bool;
}
