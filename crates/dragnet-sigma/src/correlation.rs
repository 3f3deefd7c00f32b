//! Sigma correlations evaluated over time: `event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_median`, `value_percentile`, with
//! group-by, aliases, chains and `generate`.
//!
//! The correlator is an [`Analyzer`]: it sees the findings of the detection rules in time order
//! (the pipeline sorts them across all input files before this stage) and keeps, per
//! correlation and group-by key, a sliding window of the base findings of the last `timespan`.
//!
//! Semantics:
//! - A window holds the entries with `time >= now - timespan` (the boundary is inclusive).
//! - A condition with a lower bound (`gt`, `gte`) fires as soon as it holds; the group's window
//!   is then emptied, so the next alert needs a fresh threshold's worth of events.
//! - A condition with only upper bounds or equality (`lt`, `lte`, `eq`, `neq`) is judged when a
//!   window closes (its first entry is older than `timespan`), or at the end of input.
//! - `value_percentile`: the share (0-100) of the window's entries that carry the same value
//!   as the newest entry; `value_median`: the median of a numeric field.
//! - State is bounded: at most `max_entries` entries across all groups (oldest groups are
//!   evicted first, and counted), and at most `max_events` provenances on one finding.

use crate::rule::{CorrelationRule, CorrelationType};
use dragnet_event::{Analyzer, Finding, Provenance, Timestamp};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Limits of the correlator.
#[derive(Clone, Copy, Debug)]
pub struct CorrelationLimits {
    /// Entries held across every window of every correlation.
    pub max_entries: usize,
    /// Provenances listed on one correlation finding.
    pub max_events: usize,
}

impl Default for CorrelationLimits {
    fn default() -> Self {
        CorrelationLimits {
            max_entries: 400_000,
            max_events: 100,
        }
    }
}

#[derive(Debug)]
struct Entry {
    time: Timestamp,
    /// Which of the correlation's `rules` this entry came from.
    rule: usize,
    value: Option<Box<str>>,
    number: Option<f64>,
    host: Box<str>,
    source: Provenance,
    /// Provenances of the events behind a chained correlation finding.
    inner: Vec<Provenance>,
}

#[derive(Debug, Default)]
struct Group {
    entries: VecDeque<Entry>,
}

#[derive(Debug)]
struct Corr {
    rule: CorrelationRule,
    /// For each referenced rule: the field read for each group-by name (aliases resolved).
    group_fields: Vec<Vec<String>>,
    groups: HashMap<Vec<Box<str>>, Group>,
    /// Fires on a lower bound (evaluated on arrival) or at window close.
    eager: bool,
}

/// The correlation engine.
pub struct Correlator {
    corrs: Vec<Corr>,
    /// Rule id -> (correlation index, position in its `rules`).
    by_rule: HashMap<String, Vec<(usize, usize)>>,
    /// Ids whose findings are only inputs of correlations (not reported on their own).
    hidden: HashSet<String>,
    limits: CorrelationLimits,
    entries: usize,
    evicted_groups: u64,
    observed: u64,
    now: Timestamp,
}

/// The id a correlation's findings carry: its `id`, else `name`, else its title.
pub fn correlation_id(c: &CorrelationRule) -> String {
    if !c.meta.id.is_empty() {
        c.meta.id.clone()
    } else if let Some(n) = &c.name {
        n.clone()
    } else {
        c.meta.title.clone()
    }
}

impl Correlator {
    /// Build from the correlations and a `name -> id` table of the detection rules.
    pub fn new(
        rules: &[CorrelationRule],
        names: &HashMap<String, String>,
        limits: CorrelationLimits,
    ) -> Correlator {
        let mut name_to_id: HashMap<String, String> = names.clone();
        for c in rules {
            if let Some(n) = &c.name {
                name_to_id.insert(n.clone(), correlation_id(c));
            }
        }
        let resolve = |r: &str| name_to_id.get(r).cloned().unwrap_or_else(|| r.to_string());
        let mut corrs = Vec::new();
        let mut by_rule: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut generated: HashSet<String> = HashSet::new();
        let mut referenced: HashSet<String> = HashSet::new();
        for (ci, c) in rules.iter().enumerate() {
            let mut group_fields = Vec::new();
            for (ri, r) in c.rules.iter().enumerate() {
                let id = resolve(r);
                by_rule.entry(id.clone()).or_default().push((ci, ri));
                if c.generate {
                    generated.insert(id.clone());
                }
                referenced.insert(id);
                let fields = c
                    .group_by
                    .iter()
                    .map(|g| {
                        c.aliases
                            .iter()
                            .find(|(alias, _)| alias == g)
                            .and_then(|(_, m)| {
                                m.iter()
                                    .find(|(rule, _)| rule == r || resolve(rule) == resolve(r))
                            })
                            .map(|(_, f)| f.clone())
                            .unwrap_or_else(|| g.clone())
                    })
                    .collect();
                group_fields.push(fields);
            }
            let eager = c
                .condition
                .tests
                .iter()
                .any(|(op, _)| op == "gt" || op == "gte");
            corrs.push(Corr {
                rule: c.clone(),
                group_fields,
                groups: HashMap::new(),
                eager,
            });
        }
        let hidden = referenced.difference(&generated).cloned().collect();
        Correlator {
            corrs,
            by_rule,
            hidden,
            limits,
            entries: 0,
            evicted_groups: 0,
            observed: 0,
            now: Timestamp::UNKNOWN,
        }
    }

    /// Rule ids whose findings only feed correlations (`generate` not set): the pipeline
    /// leaves them out of the output.
    pub fn hidden_rule_ids(&self) -> &HashSet<String> {
        &self.hidden
    }

    /// Groups evicted to stay within the memory cap.
    pub fn evicted_groups(&self) -> u64 {
        self.evicted_groups
    }

    /// Entries currently held.
    pub fn entries(&self) -> usize {
        self.entries
    }

    fn feed(&mut self, f: &Finding, out: &mut Vec<Finding>, depth: usize) {
        let Some(targets) = self.by_rule.get(&f.rule.id).cloned() else {
            return;
        };
        if f.time > self.now {
            self.now = f.time;
        }
        let mut emitted = Vec::new();
        for (ci, ri) in targets {
            let corr = &mut self.corrs[ci];
            let key: Vec<Box<str>> = corr.group_fields[ri]
                .iter()
                .map(|g| detail_text(f, g).unwrap_or_default().into())
                .collect();
            let value_field = corr.rule.condition.field.clone();
            let value = value_field.as_deref().and_then(|vf| detail_text(f, vf));
            let number = value.as_deref().and_then(|v| v.trim().parse::<f64>().ok());
            let span = i64::try_from(corr.rule.timespan)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1_000_000_000);
            let group = corr.groups.entry(key.clone()).or_default();
            // Expire entries outside the window [t - timespan, t].
            let mut expired = 0;
            while group
                .entries
                .front()
                .is_some_and(|e| e.time.nanos() < f.time.nanos().saturating_sub(span))
            {
                group.entries.pop_front();
                expired += 1;
            }
            group.entries.push_back(Entry {
                time: f.time,
                rule: ri,
                value: value.map(Into::into),
                number,
                host: f.host.as_str().into(),
                source: f.source.clone(),
                inner: f.events.clone(),
            });
            self.entries = self.entries + 1 - expired;
            if corr.eager {
                if let Some(figure) = evaluate(corr, &key) {
                    let group = corr.groups.remove(&key).unwrap_or_default();
                    self.entries -= group.entries.len();
                    emitted.push(make_finding(
                        &corr.rule,
                        &corr.group_fields[ri],
                        &key,
                        figure,
                        group,
                        self.limits.max_events,
                    ));
                }
            }
        }
        self.observed += 1;
        if self.observed.is_multiple_of(4096) {
            self.sweep(false, &mut emitted);
        }
        if self.entries > self.limits.max_entries {
            self.sweep(false, &mut emitted);
            self.evict();
        }
        for e in emitted {
            if depth < 8 {
                self.feed(&e, out, depth + 1);
            }
            out.push(e);
        }
    }

    /// Close windows that ended before `now` (or all, at the end), judging lazy conditions.
    fn sweep(&mut self, all: bool, out: &mut Vec<Finding>) {
        let now = self.now;
        let max_events = self.limits.max_events;
        let mut freed = 0;
        for corr in &mut self.corrs {
            let span = i64::try_from(corr.rule.timespan)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1_000_000_000);
            let closed: Vec<Vec<Box<str>>> = corr
                .groups
                .iter()
                .filter(|(_, g)| {
                    all || g
                        .entries
                        .front()
                        .is_none_or(|e| e.time.nanos().saturating_add(span) < now.nanos())
                })
                .map(|(k, _)| k.clone())
                .collect();
            for key in closed {
                let fired = if corr.eager {
                    None
                } else {
                    evaluate(corr, &key)
                };
                let group = corr.groups.remove(&key).unwrap_or_default();
                freed += group.entries.len();
                if let Some(figure) = fired {
                    let ri = group.entries.back().map_or(0, |e| e.rule);
                    out.push(make_finding(
                        &corr.rule,
                        &corr.group_fields[ri],
                        &key,
                        figure,
                        group,
                        max_events,
                    ));
                }
            }
        }
        self.entries -= freed;
    }

    /// Over the cap: drop the groups whose newest entry is oldest until under 75% of it
    /// (a margin, so that eviction, which sorts the groups, runs rarely).
    fn evict(&mut self) {
        let target = self.limits.max_entries * 3 / 4;
        let mut all: Vec<(Timestamp, usize, Vec<Box<str>>)> = Vec::new();
        for (ci, corr) in self.corrs.iter().enumerate() {
            for (k, g) in &corr.groups {
                all.push((
                    g.entries.back().map_or(Timestamp::UNKNOWN, |e| e.time),
                    ci,
                    k.clone(),
                ));
            }
        }
        all.sort_by_key(|(t, _, _)| *t);
        for (_, ci, key) in all {
            if self.entries <= target {
                break;
            }
            if let Some(g) = self.corrs[ci].groups.remove(&key) {
                self.entries -= g.entries.len();
                self.evicted_groups += 1;
            }
        }
    }
}

/// A finding's value for `field`: from its details (case-insensitive), or its host.
fn detail_text(f: &Finding, field: &str) -> Option<String> {
    let v = f.details.get(field).or_else(|| {
        f.details
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| v)
    });
    match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) | None => {
            if ["computer", "host", "hostname", "computername"]
                .iter()
                .any(|h| field.eq_ignore_ascii_case(h))
                && !f.host.is_empty()
            {
                Some(f.host.clone())
            } else {
                None
            }
        }
        Some(other) => Some(other.to_string()),
    }
}

/// The figure the condition is tested on, when the condition holds.
fn evaluate(corr: &Corr, key: &[Box<str>]) -> Option<f64> {
    let g = corr.groups.get(key)?;
    let entries = &g.entries;
    let n_rules = corr.rule.rules.len();
    let figure = match corr.rule.kind {
        CorrelationType::EventCount => entries.len() as f64,
        CorrelationType::ValueCount => {
            let distinct: HashSet<String> = entries
                .iter()
                .filter_map(|e| e.value.as_deref().map(str::to_lowercase))
                .collect();
            distinct.len() as f64
        }
        CorrelationType::Temporal => {
            let distinct: HashSet<usize> = entries.iter().map(|e| e.rule).collect();
            distinct.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            // Length of the longest prefix of `rules` seen in order.
            let mut next = 0;
            for e in entries {
                if next < n_rules && e.rule == next {
                    next += 1;
                }
            }
            next as f64
        }
        CorrelationType::ValueSum => entries.iter().filter_map(|e| e.number).sum(),
        CorrelationType::ValueAvg => {
            let nums: Vec<f64> = entries.iter().filter_map(|e| e.number).collect();
            if nums.is_empty() {
                return None;
            }
            nums.iter().sum::<f64>() / nums.len() as f64
        }
        CorrelationType::ValueMedian => {
            let mut nums: Vec<f64> = entries.iter().filter_map(|e| e.number).collect();
            if nums.is_empty() {
                return None;
            }
            nums.sort_by(f64::total_cmp);
            let m = nums.len() / 2;
            if nums.len().is_multiple_of(2) {
                (nums[m - 1] + nums[m]) / 2.0
            } else {
                nums[m]
            }
        }
        CorrelationType::ValuePercentile => {
            let last = entries.back()?.value.as_deref()?.to_lowercase();
            let same = entries
                .iter()
                .filter(|e| e.value.as_deref().is_some_and(|v| v.to_lowercase() == last))
                .count();
            100.0 * same as f64 / entries.len() as f64
        }
    };
    let holds = corr
        .rule
        .condition
        .tests
        .iter()
        .all(|(op, t)| match op.as_str() {
            "gt" => figure > *t,
            "gte" => figure >= *t,
            "lt" => figure < *t,
            "lte" => figure <= *t,
            "eq" => figure == *t,
            "neq" => figure != *t,
            _ => false,
        });
    holds.then_some(figure)
}

fn make_finding(
    rule: &CorrelationRule,
    fields: &[String],
    key: &[Box<str>],
    figure: f64,
    group: Group,
    max_events: usize,
) -> Finding {
    let last = group.entries.back();
    let (time, host, source) = match last {
        Some(e) => (e.time, e.host.to_string(), e.source.clone()),
        None => (
            Timestamp::UNKNOWN,
            String::new(),
            Provenance {
                path: "".into(),
                record: 0,
                format: dragnet_event::SourceFormat::Jsonl,
            },
        ),
    };
    let meta = Arc::new(dragnet_event::RuleMeta {
        id: correlation_id(rule),
        ..(*rule.meta).clone()
    });
    let mut f = Finding::new(meta, rule.level, time, &host, source);
    f.details
        .insert("correlation".into(), rule.kind.as_str().into());
    f.details
        .insert("timespan_seconds".into(), rule.timespan.into());
    let figure_json = if figure.fract() == 0.0 {
        serde_json::Value::from(figure as i64)
    } else {
        serde_json::Value::from(figure)
    };
    f.details.insert(
        match rule.kind {
            CorrelationType::EventCount => "count",
            CorrelationType::ValueCount => "distinct_values",
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => "rules_seen",
            CorrelationType::ValueSum => "sum",
            CorrelationType::ValueAvg => "average",
            CorrelationType::ValueMedian => "median",
            CorrelationType::ValuePercentile => "percent_of_window",
        }
        .into(),
        figure_json,
    );
    if let Some(vf) = &rule.condition.field {
        f.details.insert("field".into(), vf.clone().into());
    }
    for (g, v) in rule.group_by.iter().zip(key) {
        f.details
            .insert(g.clone(), serde_json::Value::String(v.to_string()));
    }
    // Group-by values under the base rule's own field names too, for chained correlations.
    for (g, v) in fields.iter().zip(key) {
        f.details
            .entry(g.clone())
            .or_insert_with(|| serde_json::Value::String(v.to_string()));
    }
    let mut events = Vec::new();
    let mut first = None;
    for e in &group.entries {
        first.get_or_insert(e.time);
        if e.inner.is_empty() {
            events.push(e.source.clone());
        } else {
            events.extend(e.inner.iter().cloned());
        }
    }
    let total = events.len();
    events.truncate(max_events);
    if total > max_events {
        f.details.insert("events_total".into(), total.into());
    }
    if let Some(t) = first {
        f.details.insert("first_time".into(), t.to_rfc3339().into());
    }
    f.events = events;
    f
}

impl Analyzer for Correlator {
    fn name(&self) -> &str {
        "correlation"
    }
    /// Findings of other rules are of no use to any correlation (they are ignored).
    fn finding_rules(&self) -> Option<Vec<String>> {
        Some(self.by_rule.keys().cloned().collect())
    }
    fn observe_finding(&mut self, finding: &Finding, out: &mut Vec<Finding>) {
        self.feed(finding, out, 0);
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        let mut emitted = Vec::new();
        self.sweep(true, &mut emitted);
        for e in emitted {
            self.feed(&e, out, 1);
            out.push(e);
        }
        // Chained correlations fed by the last windows are judged too.
        let mut rest = Vec::new();
        self.sweep(true, &mut rest);
        out.extend(rest);
    }
    fn state_bytes(&self) -> usize {
        let groups: usize = self.corrs.iter().map(|c| c.groups.len()).sum();
        self.entries * (std::mem::size_of::<Entry>() + 32) + groups * 64
    }
}

/// Run the correlator over the findings of a whole run: sort them into time order, feed them,
/// close every window, then drop the findings that only fed correlations. Returns the
/// findings to report, in timeline order.
pub fn run_correlations(correlator: &mut Correlator, mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(Finding::timeline_cmp);
    let mut out = Vec::new();
    for f in &findings {
        correlator.observe_finding(f, &mut out);
    }
    correlator.finish(&mut out);
    let hidden = correlator.hidden_rule_ids();
    findings.retain(|f| !hidden.contains(&f.rule.id));
    out.retain(|f| !hidden.contains(&f.rule.id));
    findings.extend(out);
    findings.sort_by(Finding::timeline_cmp);
    findings
}
