//! The findings of a hunt, walked in timeline order without being gathered.
//!
//! The spool holds what the detectors found (on disk past its budget); the analyzers' own
//! findings (correlations, lateral movement, beaconing, ...) are few and held here. Each walk
//! merges the two and applies the level and hidden-rule filters, so that writing a timeline
//! or stitching incidents never needs every finding in memory at once.

use crate::spool::{SpoolStats, Spooled};
use dragnet_event::{Finding, Level};
use std::cmp::Ordering;
use std::collections::HashSet;

/// Every finding of a hunt, in [`Finding::timeline_cmp`] order (stable: among equal findings,
/// the detectors' come first, in the order they were found, then the analyzers', analyzer by
/// analyzer).
pub struct Findings {
    spooled: Spooled,
    /// The analyzers' findings that passed the filters, sorted.
    extra: Vec<Finding>,
    min_level: Level,
    hidden: HashSet<String>,
    len: u64,
}

impl std::fmt::Debug for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Findings")
            .field("len", &self.len)
            .field("analyzers", &self.extra.len())
            .finish_non_exhaustive()
    }
}

impl Findings {
    /// `spooled` filtered by level and hidden rules, merged with `extra` (already filtered,
    /// sorted here); `len` is how many findings a walk hands over.
    pub(crate) fn new(
        spooled: Spooled,
        mut extra: Vec<Finding>,
        min_level: Level,
        hidden: HashSet<String>,
        len: u64,
    ) -> Findings {
        extra.sort_by(Finding::timeline_cmp);
        Findings {
            spooled,
            extra,
            min_level,
            hidden,
            len,
        }
    }

    /// How many findings a walk hands over.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hand every finding to `sink`, in timeline order. Each walk reads the spool's runs back.
    pub fn for_each(&self, mut sink: impl FnMut(Finding)) {
        let mut extra = self.extra.iter().peekable();
        self.spooled.for_each(&mut |f| {
            if f.level < self.min_level || self.hidden.contains(&f.rule.id) {
                return;
            }
            // The analyzers' findings that sort before this one go first (a stable sort of
            // both lists, the detectors' first, puts equal ones after it).
            while let Some(e) = extra.next_if(|e| e.timeline_cmp(&f) == Ordering::Less) {
                sink(e.clone());
            }
            sink(f);
        });
        for e in extra {
            sink(e.clone());
        }
    }

    /// Every finding gathered in memory (what tests and small runs want).
    pub fn to_vec(&self) -> Vec<Finding> {
        let mut out = Vec::with_capacity(self.len as usize);
        self.for_each(|f| out.push(f));
        out
    }

    /// What spooling did, including the findings walks could not read back.
    pub fn spool_stats(&self) -> SpoolStats {
        self.spooled.stats()
    }
}
