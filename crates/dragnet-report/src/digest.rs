//! What the reports need of a run's findings, gathered one finding at a time in bounded
//! memory: counts by level, the time span and a histogram, the rules that fired, the ATT&CK
//! techniques seen, the indicators, and the rows of the HTML timelines (the most severe, then
//! earliest, up to a limit). A hunt fills it while it walks its findings, so that a report on
//! millions of findings does not hold them.

use crate::indicators::{self, Indicators};
use crate::matrix::{self, TacticInfo, TechniqueUse};
use dragnet_event::{Finding, Level, RuleMeta, Timestamp};
use dragnet_incident::IncidentReport;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Finest time bins the histogram keeps: when a run's findings fall in more, neighbouring
/// bins merge (their width doubles).
const FINE_BINS: usize = 4096;

/// One rule that fired: how often, and its strongest level.
#[derive(Clone, Debug)]
pub struct RuleCount {
    pub rule: Arc<RuleMeta>,
    pub count: u64,
    pub max: Level,
}

/// The digest of a run's findings (see the module documentation).
pub struct Digest {
    count: u64,
    by_level: [u64; 5],
    span: Option<(Timestamp, Timestamp)>,
    bins: TimeBins,
    rules: BTreeMap<String, RuleCount>,
    known: Vec<TacticInfo>,
    techniques: matrix::Acc,
    indicators: indicators::Accumulator,
    found: Vec<(indicators::IocKind, String, String)>,
    rows: TopRows,
}

impl Digest {
    /// An empty digest that keeps up to `rows` findings for the timelines.
    pub fn new(rows: usize) -> Digest {
        Digest {
            count: 0,
            by_level: [0; 5],
            span: None,
            bins: TimeBins::default(),
            rules: BTreeMap::new(),
            known: matrix::tactics(),
            techniques: matrix::Acc::default(),
            indicators: indicators::Accumulator::default(),
            found: Vec::new(),
            rows: TopRows::new(rows),
        }
    }

    /// The digest of `findings`, keeping up to `rows` of them for the timelines.
    pub fn of(findings: &[Finding], rows: usize) -> Digest {
        let mut d = Digest::new(rows);
        for f in findings {
            d.push(f);
        }
        d
    }

    /// Take in the next finding (in any order; a hunt hands them over in timeline order).
    pub fn push(&mut self, f: &Finding) {
        self.count += 1;
        self.by_level[f.level as usize] += 1;
        if !f.time.is_unknown() {
            self.span = Some(match self.span {
                None => (f.time, f.time),
                Some((lo, hi)) => (lo.min(f.time), hi.max(f.time)),
            });
            self.bins.add(f.time.nanos(), f.level);
        }
        match self.rules.get_mut(&f.rule.id) {
            Some(r) => {
                r.count += 1;
                r.max = r.max.max(f.level);
            }
            None => {
                let r = RuleCount {
                    rule: Arc::clone(&f.rule),
                    count: 1,
                    max: f.level,
                };
                self.rules.insert(f.rule.id.clone(), r);
            }
        }
        self.techniques.add_finding(f, &self.known);
        self.indicators.add_finding(f, &mut self.found);
        self.rows.offer(f);
    }

    /// Findings taken in.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Findings taken in at `level`.
    pub fn count_at(&self, level: Level) -> u64 {
        self.by_level[level as usize]
    }

    /// Earliest and latest time of the findings that have one.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        self.span
    }

    /// Findings by level in `bins` equal parts of `span`, earliest first. Each finding counts
    /// in the part its fine time bin starts in: exact while the findings' times fall in at
    /// most 4,096 distinct fine bins (nanoseconds at first); beyond, bins merge in pairs and
    /// a part can gain or lose the findings of the one fine bin across each of its ends.
    pub fn histogram(&self, span: (Timestamp, Timestamp), bins: usize) -> Vec<[u64; 5]> {
        self.bins.histogram(span, bins)
    }

    /// The rules that fired, by id.
    pub fn rules(&self) -> impl Iterator<Item = &RuleCount> {
        self.rules.values()
    }

    /// The ATT&CK techniques of the findings (sorted by id).
    pub fn techniques(&self) -> Vec<TechniqueUse> {
        self.techniques.clone().finish(&self.known)
    }

    /// The rows of the timelines: the most severe findings, then the earliest, best first.
    pub fn rows(&self) -> Vec<&Finding> {
        self.rows.best()
    }

    /// The indicators of the findings and of the incidents' entities (the accumulator is
    /// used up: a second call gives those of the incidents only).
    pub fn take_indicators(&mut self, incidents: &IncidentReport) -> Indicators {
        let mut acc = std::mem::take(&mut self.indicators);
        acc.add_incidents(incidents);
        acc.finish()
    }
}

/// Counts by level in time bins of `1 << shift` nanoseconds, at most [`FINE_BINS`] of them.
#[derive(Default)]
struct TimeBins {
    shift: u32,
    bins: BTreeMap<i64, [u64; 5]>,
}

impl TimeBins {
    fn add(&mut self, t: i64, level: Level) {
        self.bins.entry(t >> self.shift).or_insert([0; 5])[level as usize] += 1;
        while self.bins.len() > FINE_BINS && self.shift < 63 {
            self.shift += 1;
            let mut merged: BTreeMap<i64, [u64; 5]> = BTreeMap::new();
            for (k, c) in std::mem::take(&mut self.bins) {
                let m = merged.entry(k >> 1).or_insert([0; 5]);
                for (a, b) in m.iter_mut().zip(c) {
                    *a += b;
                }
            }
            self.bins = merged;
        }
    }

    fn histogram(&self, (a, b): (Timestamp, Timestamp), n: usize) -> Vec<[u64; 5]> {
        let n = n.max(1);
        let mut out = vec![[0u64; 5]; n];
        let width = ((b.nanos() - a.nanos()).max(1) as f64) / n as f64;
        for (&k, c) in &self.bins {
            let start = k.checked_shl(self.shift).unwrap_or(k).max(a.nanos());
            let i = (((start - a.nanos()) as f64 / width) as usize).min(n - 1);
            for (o, x) in out[i].iter_mut().zip(c) {
                *o += x;
            }
        }
        out
    }
}

/// The `limit` best findings seen so far: the most severe, then the earliest (timeline
/// order), as a full sort of all of them would pick.
struct TopRows {
    limit: usize,
    /// Kept findings by level, each list in timeline order.
    by_level: [Vec<Finding>; 5],
}

impl TopRows {
    fn new(limit: usize) -> TopRows {
        TopRows {
            limit,
            by_level: Default::default(),
        }
    }

    fn kept(&self) -> usize {
        self.by_level.iter().map(Vec::len).sum()
    }

    fn offer(&mut self, f: &Finding) {
        let level = f.level as usize;
        // Full with findings of this level or above that all rank before it: left out.
        let at_or_above: usize = self.by_level[level..].iter().map(Vec::len).sum();
        if at_or_above >= self.limit
            && self.by_level[level]
                .last()
                .is_none_or(|last| last.timeline_cmp(f).is_le())
        {
            return;
        }
        let list = &mut self.by_level[level];
        let at = list.partition_point(|x| x.timeline_cmp(f).is_le());
        list.insert(at, f.clone());
        // Over the limit: the worst go (lowest level, latest first).
        while self.kept() > self.limit {
            if let Some(worst) = self.by_level.iter_mut().find(|l| !l.is_empty()) {
                worst.pop();
            }
        }
    }

    fn best(&self) -> Vec<&Finding> {
        self.by_level.iter().rev().flat_map(|l| l.iter()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, SourceFormat};

    fn finding(level: Level, secs: i64, record: u64) -> Finding {
        let rule = Arc::new(RuleMeta {
            id: format!("r-{level}"),
            title: "t".into(),
            author: "a".into(),
            tags: vec!["attack.t1059.001".into()],
            ..Default::default()
        });
        let mut f = Finding::new(
            rule,
            level,
            Timestamp(secs * 1_000_000_000),
            "H",
            Provenance {
                path: "x.evtx".into(),
                record,
                format: SourceFormat::Evtx,
            },
        );
        f.details.insert("ip".into(), "203.0.113.9".into());
        f
    }

    /// A pseudo-random mix of levels and times, in no order.
    fn mixed(n: u64) -> Vec<Finding> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                finding(
                    Level::ALL[(x % 5) as usize],
                    1 + (x >> 8) as i64 % 100_000,
                    i,
                )
            })
            .collect()
    }

    #[test]
    fn rows_are_those_a_full_sort_keeps() {
        let all = mixed(3000);
        for limit in [0, 1, 7, 500, 2999, 3000, 5000] {
            let d = Digest::of(&all, limit);
            let mut sorted: Vec<&Finding> = all.iter().collect();
            sorted.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.timeline_cmp(b)));
            sorted.truncate(limit);
            assert!(d.rows() == sorted, "limit {limit}");
        }
    }

    #[test]
    fn histogram_counts_every_finding_and_is_exact_when_bins_are_few() {
        let all = mixed(20_000);
        let d = Digest::of(&all, 10);
        let span = d.span().unwrap();
        let bars = d.histogram(span, 60);
        let total: u64 = bars.iter().flatten().sum();
        assert_eq!(total, 20_000);
        for l in Level::ALL {
            let n: u64 = bars.iter().map(|b| b[l as usize]).sum();
            assert_eq!(n, d.count_at(l));
        }
        // Few distinct times: no bin merged, the bars are exact.
        // (Time 0 is "unknown": the times start later.)
        let few: Vec<Finding> = (0..600)
            .map(|i| finding(Level::High, 1_000 + i % 60, i as u64))
            .collect();
        let d = Digest::of(&few, 10);
        let (a, b) = d.span().unwrap();
        let bars = d.histogram((a, b), 60);
        let width = (b.nanos() - a.nanos()) as f64 / 60.0;
        let mut expect = vec![[0u64; 5]; 60];
        for f in &few {
            let i = (((f.time.nanos() - a.nanos()) as f64 / width) as usize).min(59);
            expect[i][f.level as usize] += 1;
        }
        assert_eq!(bars, expect);
    }

    #[test]
    fn a_merged_histogram_stays_within_a_fine_bin_of_the_exact_one() {
        let all = mixed(50_000);
        let d = Digest::of(&all, 0);
        let (a, b) = d.span().unwrap();
        let bars = d.histogram((a, b), 60);
        let width = (b.nanos() - a.nanos()) as f64 / 60.0;
        // A finding may move to the bar before its own when its fine bin straddles a
        // boundary: each bar's total is within the findings of one fine bin either side.
        let fine = 1i64 << d.bins.shift;
        assert!((fine as f64) < width / 16.0, "fine bins too coarse");
        let mut exact = vec![0u64; 60];
        for f in &all {
            exact[(((f.time.nanos() - a.nanos()) as f64 / width) as usize).min(59)] += 1;
        }
        let per_fine = (all.len() as f64 * fine as f64 / (b.nanos() - a.nanos()) as f64).ceil();
        for (i, bar) in bars.iter().enumerate() {
            let got: u64 = bar.iter().sum();
            let diff = (got as f64 - exact[i] as f64).abs();
            assert!(
                diff <= 4.0 * per_fine + 8.0,
                "bar {i}: {got} vs {}",
                exact[i]
            );
        }
    }

    #[test]
    fn counts_rules_techniques_and_indicators() {
        let all = mixed(100);
        let mut d = Digest::of(&all, 10);
        assert_eq!(d.count(), 100);
        assert_eq!(d.rules().map(|r| r.count).sum::<u64>(), 100);
        let t = d.techniques();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].count, 100);
        let iocs = d.take_indicators(&IncidentReport::default());
        assert_eq!(iocs.items.len(), 1);
        assert_eq!(iocs.items[0].count, 100);
        assert_eq!(
            iocs,
            indicators::extract(&all, &IncidentReport::default()),
            "the digest's indicators are those of the findings"
        );
    }
}
