//! dragnet's event model.
//!
//! Every reader (EVTX, JSON, Zeek, IIS, mail, ...) turns its input into [`Event`]s; every
//! detector (Sigma rules, correlations, analytics) turns events into [`Finding`]s. This crate
//! holds those two types and the small vocabulary around them (time, provenance, levels, and
//! the private scratch directories where findings and records wait during a run), and nothing
//! else, so that every other crate can depend on it.
//!
//! Field names follow Sigma's conventions: Windows `System` fields by their element name
//! (`EventID`, `Channel`, `Computer`, `Provider_Name`, ...), `EventData`/`UserData` by their
//! `Name` with spaces stripped, and nested JSON by dotted path (`winlog.event_data.Image`).

mod event;
mod finding;
mod scratch;
mod time;

pub use event::{Event, Provenance, SourceFormat, Value};
pub use finding::{attack_ids_from_tags, Finding, Level, RuleMeta, TimelineKey};
pub use scratch::private_scratch_dir;
pub use time::Timestamp;

/// Something that turns single events into findings, with no state between events.
///
/// Stateless detectors run in parallel on every core, each thread feeding them the events it
/// reads. Sigma detection rules and IOC matching are of this kind.
pub trait Detector: Send + Sync {
    /// A short name for summaries and errors ("sigma", "ioc", ...).
    fn name(&self) -> &str;
    /// Examine one event and push any findings into `out`.
    fn detect(&self, event: &Event, out: &mut Vec<Finding>);
}

/// Something that needs to see a stream over time: correlations, beaconing, lateral movement.
///
/// Stateful detectors see the findings of the stateless stage (and, where they ask for them,
/// events) in time order. Their state must be keyed (by host, pair, group-by value) so that a
/// streaming deployment can partition the work, and it must stay bounded.
pub trait Analyzer: Send {
    /// A short name for summaries and errors.
    fn name(&self) -> &str;
    /// Whether this analyzer wants raw events (not just findings). Defaults to no.
    fn wants_events(&self) -> bool {
        false
    }
    /// One event (only called when [`Analyzer::wants_events`] is true). Events come from
    /// the reading threads: in file order within a file, files interleaved, not in global
    /// time order.
    fn observe_event(&mut self, _event: &Event, _out: &mut Vec<Finding>) {}
    /// Whether this analyzer reads the findings ([`Analyzer::observe_finding`]). Defaults
    /// to yes; an analyzer of raw events only says no, so that a hunt need not walk its
    /// findings for it.
    fn wants_findings(&self) -> bool {
        true
    }
    /// The rules (by id) whose findings this analyzer reads, when it reads only those:
    /// [`Analyzer::observe_finding`] is then called with their findings alone, in the same
    /// order, and a hunt can set them aside as they are found instead of walking every
    /// finding again. `None` (the default): every finding.
    fn finding_rules(&self) -> Option<Vec<String>> {
        None
    }
    /// One finding of the stateless stage, in time order.
    fn observe_finding(&mut self, _finding: &Finding, _out: &mut Vec<Finding>) {}
    /// End of input: emit whatever is still pending.
    fn finish(&mut self, _out: &mut Vec<Finding>) {}
    /// Approximate bytes of state held, for the run summary.
    fn state_bytes(&self) -> usize {
        0
    }
}
