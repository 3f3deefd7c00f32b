//! The engine: loads rule files, compiles them, routes each event to the rules of its
//! logsource, evaluates them and emits findings.

use crate::logsource::{LogsourceMap, Route, Routing};
use crate::matcher::EvalCtx;
use crate::modifiers::Placeholders;
use crate::prefilter::{necessary_atoms, AutomataCache, Clauses, Marks, Prefilter};
use crate::rule::{parse_document, CorrelationRule, Detection, FilterRule, RuleDoc, SigmaRule};
use crate::yaml::{parse_documents, Node, NodeKind};
use crate::RuleError;
use dragnet_event::{Detector, Event, Finding, RuleMeta, Value};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Fields copied into a finding's `details` when the event has them (plus the rule's own
/// `fields`).
const KEY_FIELDS: &[&str] = &[
    "EventID",
    "Channel",
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "OriginalFileName",
    "User",
    "TargetFilename",
    "TargetObject",
    "Details",
    "SourceImage",
    "TargetImage",
    "GrantedAccess",
    "ImageLoaded",
    "PipeName",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    "QueryName",
    "ServiceName",
    "ImagePath",
    "ServiceFileName",
    "TaskName",
    "NewProcessName",
    "ParentProcessName",
    "SubjectUserName",
    "TargetUserName",
    "IpAddress",
    "WorkstationName",
    "LogonType",
    "ScriptBlockText",
    "Hashes",
];
const MAX_DETAIL_CHARS: usize = 2048;

/// Options for loading rules.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Values for `%placeholders%` (`expand` modifier).
    pub placeholders: Placeholders,
    /// Extra logsource map entries.
    pub logsources: Option<LogsourceMap>,
}

/// A rule that made it through compilation, with where it runs.
#[derive(Debug)]
pub struct CompiledRule {
    pub rule: SigmaRule,
    pub routing: Routing,
    /// Filters (meta rules) that apply: the rule matches only when none of them does.
    pub filters: Vec<Arc<FilterRule>>,
    /// Details a finding records beyond the key fields every finding has: the rule's own
    /// `fields` and those correlations need (group-by, aliases, value fields), each once.
    pub detail_fields: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
struct RouteRef {
    rule: u32,
    /// Index into the rule's routes; `u32::MAX` for any-Windows rules.
    route: u32,
}

/// The rules that can apply to one kind of event (a channel, maybe an EventID), with the
/// prefilter that narrows them down per event.
struct Bucket {
    refs: Vec<RouteRef>,
    prefilter: Prefilter,
}

impl Bucket {
    fn new(engine_rules: &[CompiledRule], refs: Vec<RouteRef>, cache: &AutomataCache) -> Bucket {
        // Each rule's atoms on their own (the biggest buckets hold over a thousand rules).
        let atoms: Vec<Option<Clauses>> = refs
            .par_iter()
            .with_min_len(64)
            .map(|rr| {
                let cr = &engine_rules[rr.rule as usize];
                // Filters never add matches, so the rule's own detection decides.
                let fieldmap: &[(String, String)] = match &cr.routing {
                    Routing::Routes(r) => &r[rr.route as usize].fieldmap,
                    _ => &[],
                };
                necessary_atoms(&cr.rule.detection, fieldmap)
            })
            .collect();
        let prefilter = Prefilter::build_with(&atoms, cache);
        Bucket { refs, prefilter }
    }
}

/// The per-event lookups (channel, EventID) hash short keys: FNV-1a beats SipHash there, and
/// the keys come from the rules, not from the evidence (no flooding to fear).
type FastHash = std::hash::BuildHasherDefault<Fnv>;

#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Index being built: EventID -> routes, and channel-wide routes.
type RawChannel = (HashMap<i64, Vec<RouteRef>>, Vec<RouteRef>);

#[derive(Default)]
struct ChannelIndex {
    /// Per EventID: the rules of that EventID.
    by_event_id: HashMap<i64, Bucket, FastHash>,
    /// The channel-wide rules (run on every event of the channel).
    any: Option<Bucket>,
}

thread_local! {
    static MARKS: std::cell::RefCell<Marks> = std::cell::RefCell::new(Marks::default());
}

/// Compiled rules, ready to run on events.
#[derive(Default)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    by_channel: HashMap<String, ChannelIndex, FastHash>,
    by_channel_lower: HashMap<String, String>,
    any_windows: Option<Bucket>,
    correlations: Vec<CorrelationRule>,
    filters: Vec<Arc<FilterRule>>,
}

/// The compiled rules are tens of MiB in hundreds of thousands of allocations: they are freed
/// on every core, so that a hunt's end does not wait for one thread to free them.
impl Drop for Engine {
    fn drop(&mut self) {
        std::mem::take(&mut self.rules)
            .into_par_iter()
            .with_min_len(64)
            .for_each(drop);
        std::mem::take(&mut self.by_channel)
            .into_par_iter()
            .for_each(drop);
    }
}

/// Rule files under a path: the file itself, or every `.yml`/`.yaml` below a directory
/// (sorted, deterministic).
pub fn rule_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(out);
    }
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let p = entry.path();
            // The directory entry knows its type (no stat), except behind a symbolic link.
            let is_dir = match entry.file_type() {
                Ok(t) if !t.is_symlink() => t.is_dir(),
                _ => p.is_dir(),
            };
            if is_dir {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(p);
            }
        }
    }
    // Path order (component by component), compared as bytes with the separator below every
    // other byte: the same order as comparing the paths, without splitting every path into
    // components at every comparison.
    let key = |p: &PathBuf| {
        p.as_os_str()
            .as_encoded_bytes()
            .iter()
            .map(|&b| {
                if std::path::is_separator(b as char) {
                    0
                } else {
                    b
                }
            })
            .collect::<Vec<u8>>()
    };
    out.sort_by_cached_key(key);
    Ok(out)
}

/// Collects rules from files and texts, then compiles them into an [`Engine`].
#[derive(Default)]
pub struct EngineBuilder {
    opts: LoadOptions,
    detections: Vec<SigmaRule>,
    filters: Vec<FilterRule>,
    correlations: Vec<CorrelationRule>,
    pub errors: Vec<RuleError>,
    files: usize,
}

impl EngineBuilder {
    pub fn new(opts: LoadOptions) -> Self {
        EngineBuilder {
            opts,
            ..Default::default()
        }
    }

    /// Number of rule files read so far.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Add every rule file under `path`. An unreadable path is an error; bad rules are
    /// collected in `errors`.
    pub fn add_path(&mut self, path: &Path) -> std::io::Result<()> {
        let files = rule_files(path)?;
        self.add_files(&files);
        Ok(())
    }

    /// Add every rule file under each of `paths`, in that order (as [`Self::add_path`] one
    /// after another would), parsed all together in parallel. An unreadable path is an error,
    /// returned with that path.
    pub fn add_paths(&mut self, paths: &[PathBuf]) -> Result<(), (PathBuf, std::io::Error)> {
        let mut files = Vec::new();
        for p in paths {
            files.extend(rule_files(p).map_err(|e| (p.clone(), e))?);
        }
        self.add_files(&files);
        Ok(())
    }

    /// Parse rule files: independently, in parallel, merged back in file order.
    fn add_files(&mut self, files: &[PathBuf]) {
        let ph = &self.opts.placeholders;
        let parsed: Vec<Parsed> = files
            .par_iter()
            .map(|f| match std::fs::read(f) {
                Ok(bytes) => parse_text(&String::from_utf8_lossy(&bytes), &f.to_string_lossy(), ph),
                Err(e) => Parsed {
                    docs: Vec::new(),
                    errors: vec![RuleError {
                        path: f.clone(),
                        line: None,
                        message: format!("cannot read: {e}"),
                    }],
                },
            })
            .collect();
        for p in parsed {
            self.absorb(p);
        }
    }

    /// Add the rules of one YAML text (one or more documents). `origin` names it in errors
    /// and findings.
    pub fn add_text(&mut self, text: &str, origin: &str) {
        let p = parse_text(text, origin, &self.opts.placeholders);
        self.absorb(p);
    }

    fn absorb(&mut self, p: Parsed) {
        self.files += 1;
        self.errors.extend(p.errors);
        for d in p.docs {
            match d {
                RuleDoc::Detection(r) => self.detections.push(r),
                RuleDoc::Filter(f) => self.filters.push(f),
                RuleDoc::Correlation(c) => self.correlations.push(c),
            }
        }
    }

    /// Add the embedded rule pack.
    pub fn add_builtin(&mut self) {
        for (name, text) in BUILTIN_RULES {
            self.add_text(text, name);
        }
    }

    /// Compile: resolve logsources, attach filters, build the routing index.
    pub fn build(self) -> (Engine, Vec<RuleError>) {
        let mut map = LogsourceMap::builtin();
        if let Some(extra) = self.opts.logsources {
            map.extend(extra);
        }
        let filters: Vec<Arc<FilterRule>> = self.filters.into_iter().map(Arc::new).collect();
        let mut engine = Engine {
            correlations: self.correlations,
            filters: filters.clone(),
            rules: Vec::new(),
            by_channel: HashMap::default(),
            by_channel_lower: HashMap::new(),
            any_windows: None,
        };
        for rule in self.detections {
            let routing = map.route(&rule.logsource);
            let applying: Vec<Arc<FilterRule>> = filters
                .iter()
                .filter(|f| {
                    f.rules
                        .iter()
                        .any(|r| *r == rule.meta.id || rule.name.as_deref() == Some(r.as_str()))
                })
                .cloned()
                .collect();
            let detail_fields =
                detail_fields(&rule, &correlation_fields(&engine.correlations, &rule));
            engine.rules.push(CompiledRule {
                rule,
                routing,
                filters: applying,
                detail_fields,
            });
        }
        engine.index();
        (engine, self.errors)
    }
}

/// The documents of one rule file, and its errors.
struct Parsed {
    docs: Vec<RuleDoc>,
    errors: Vec<RuleError>,
}

/// Parse one YAML text (one or more documents) into rule documents.
fn parse_text(text: &str, origin: &str, ph: &Placeholders) -> Parsed {
    let mut out = Parsed {
        docs: Vec::new(),
        errors: Vec::new(),
    };
    let docs = match parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(RuleError {
                path: origin.into(),
                line: Some(e.line),
                message: format!("YAML: {}", e.message),
            });
            return out;
        }
    };
    let mut global: Option<Node> = None;
    for doc in docs {
        // Sigma v1 multi-document `action: global` headers are merged into what follows.
        match doc.get("action").and_then(Node::as_str) {
            Some("global") => {
                global = Some(doc);
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            _ => {}
        }
        let doc = match &global {
            Some(g) => merge(g, &doc),
            None => doc,
        };
        match parse_document(&doc, origin, ph) {
            Ok(d) => out.docs.push(d),
            Err(e) => out.errors.push(RuleError {
                path: origin.into(),
                line: Some(e.line),
                message: e.message,
            }),
        }
    }
    out
}

/// The fields correlations read from the findings of `rule`.
fn correlation_fields(corrs: &[CorrelationRule], rule: &SigmaRule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let refers = |r: &String| *r == rule.meta.id || rule.name.as_deref() == Some(r.as_str());
    for c in corrs {
        let Some(reference) = c.rules.iter().find(|r| refers(r)) else {
            continue;
        };
        let mut add = |f: &str| {
            if !out.iter().any(|o| o == f) {
                out.push(f.to_string());
            }
        };
        for g in &c.group_by {
            let aliased = c
                .aliases
                .iter()
                .find(|(a, _)| a == g)
                .and_then(|(_, m)| m.iter().find(|(r, _)| r == reference || refers(r)))
                .map(|(_, f)| f.as_str());
            add(aliased.unwrap_or(g));
        }
        if let Some(f) = &c.condition.field {
            add(f);
        }
    }
    out
}

/// Overlay `doc` on `global` (maps merged recursively, `doc` wins).
fn merge(global: &Node, doc: &Node) -> Node {
    match (&global.kind, &doc.kind) {
        (NodeKind::Map(g), NodeKind::Map(d)) => {
            let mut out: Vec<(String, Node)> = Vec::new();
            for (k, gv) in g {
                if k == "action" {
                    continue;
                }
                match d.iter().find(|(dk, _)| dk == k) {
                    Some((_, dv)) => out.push((k.clone(), merge(gv, dv))),
                    None => out.push((k.clone(), gv.clone())),
                }
            }
            for (k, dv) in d {
                if !g.iter().any(|(gk, _)| gk == k) {
                    out.push((k.clone(), dv.clone()));
                }
            }
            Node {
                line: doc.line,
                kind: NodeKind::Map(out),
            }
        }
        _ => doc.clone(),
    }
}

impl Engine {
    /// Load every rule file under `paths` (files or directories). Rules that fail are
    /// returned as errors and left out; the rest load.
    pub fn from_paths(paths: &[PathBuf]) -> std::io::Result<(Engine, Vec<RuleError>)> {
        Self::from_paths_with(paths, LoadOptions::default())
    }

    pub fn from_paths_with(
        paths: &[PathBuf],
        opts: LoadOptions,
    ) -> std::io::Result<(Engine, Vec<RuleError>)> {
        let mut b = EngineBuilder::new(opts);
        b.add_paths(paths).map_err(|(_, e)| e)?;
        Ok(b.build())
    }

    /// The rule pack embedded in the binary.
    pub fn builtin() -> Engine {
        let mut b = EngineBuilder::new(LoadOptions::default());
        b.add_builtin();
        b.build().0
    }

    /// Detection rules loaded (routed or not).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn correlations(&self) -> &[CorrelationRule] {
        &self.correlations
    }

    /// A correlator for this engine's correlation rules (None when there are none).
    pub fn correlator(
        &self,
        limits: crate::correlation::CorrelationLimits,
    ) -> Option<crate::correlation::Correlator> {
        if self.correlations.is_empty() {
            return None;
        }
        let names: HashMap<String, String> = self
            .rules
            .iter()
            .filter_map(|r| r.rule.name.clone().map(|n| (n, r.rule.meta.id.clone())))
            .collect();
        Some(crate::correlation::Correlator::new(
            &self.correlations,
            &names,
            limits,
        ))
    }

    pub fn filters(&self) -> &[Arc<FilterRule>] {
        &self.filters
    }

    /// Compile every regular expression now (they are otherwise compiled the first time an
    /// event reaches them) and give back those that cannot be, as rule errors: what `rules
    /// validate` reports beyond what loading checks.
    pub fn compile_regexes(&self) -> Vec<RuleError> {
        let mut errors = Vec::new();
        let mut check = |detection: &Detection, path: &str, line: usize| {
            let matchers = detection
                .selections
                .iter()
                .flat_map(|s| s.branches.iter().flatten())
                .flat_map(|item| item.alternatives.iter().flatten());
            for m in matchers {
                if let crate::matcher::Matcher::Regex(r) = m {
                    if let Err(e) = r.compiled() {
                        errors.push(RuleError {
                            path: path.into(),
                            line: Some(line),
                            message: format!("bad regular expression {:?}: {e}", r.as_str()),
                        });
                    }
                }
            }
        };
        for r in &self.rules {
            check(&r.rule.detection, &r.rule.meta.source, r.rule.line);
        }
        for f in &self.filters {
            check(&f.detection, &format!("filter {}", f.title), f.line);
        }
        errors
    }

    /// Keep only rules for which `keep` is true (e.g. by level or id), then re-index.
    pub fn retain(&mut self, mut keep: impl FnMut(&SigmaRule) -> bool) {
        self.rules.retain(|r| keep(&r.rule));
        self.index();
    }

    fn index(&mut self) {
        self.by_channel.clear();
        self.by_channel_lower.clear();
        let mut any_windows = Vec::new();
        // channel -> (EventID -> refs, channel-wide refs)
        let mut raw: HashMap<String, RawChannel> = HashMap::new();
        for (ri, cr) in self.rules.iter().enumerate() {
            match &cr.routing {
                Routing::AnyWindows => any_windows.push(RouteRef {
                    rule: ri as u32,
                    route: u32::MAX,
                }),
                Routing::Unrouted(_) => {}
                Routing::Routes(routes) => {
                    for (qi, route) in routes.iter().enumerate() {
                        let rr = RouteRef {
                            rule: ri as u32,
                            route: qi as u32,
                        };
                        let eids: Option<Vec<i64>> = route
                            .conditions
                            .iter()
                            .find(|(k, _)| k == "EventID")
                            .map(|(_, v)| v.iter().filter_map(|s| s.trim().parse().ok()).collect());
                        for ch in &route.channels {
                            self.by_channel_lower.insert(ch.to_lowercase(), ch.clone());
                            let entry = raw.entry(ch.clone()).or_default();
                            match &eids {
                                Some(ids) => {
                                    for id in ids {
                                        entry.0.entry(*id).or_default().push(rr);
                                    }
                                }
                                None => entry.1.push(rr),
                            }
                        }
                    }
                }
            }
        }
        // Buckets (with their automata) build independently: in parallel, each automaton once.
        let rules = &self.rules;
        let cache = AutomataCache::default();
        let cache = &cache;
        let built: Vec<(String, ChannelIndex)> = raw
            .into_par_iter()
            .map(|(ch, (by_eid, any))| {
                let mut idx = ChannelIndex::default();
                let buckets: Vec<(i64, Bucket)> = by_eid
                    .into_par_iter()
                    .map(|(eid, refs)| (eid, Bucket::new(rules, refs, cache)))
                    .collect();
                idx.by_event_id.extend(buckets);
                if !any.is_empty() {
                    idx.any = Some(Bucket::new(rules, any, cache));
                }
                (ch, idx)
            })
            .collect();
        self.by_channel.extend(built);
        self.any_windows =
            (!any_windows.is_empty()).then(|| Bucket::new(&self.rules, any_windows, cache));
    }

    fn channel_index(&self, channel: &str) -> Option<&ChannelIndex> {
        self.by_channel.get(channel).or_else(|| {
            self.by_channel_lower
                .get(&channel.to_lowercase())
                .and_then(|c| self.by_channel.get(c))
        })
    }

    /// Run every routed rule on the event, pushing findings.
    pub fn detect_into(&self, event: &Event, out: &mut Vec<Finding>) {
        let Some(channel) = event.channel() else {
            return;
        };
        let mut ctx = EvalCtx::new(event);
        let mut fired: Vec<u32> = Vec::new();
        if let Some(idx) = self.channel_index(channel) {
            if let Some(b) = event.event_id().and_then(|id| idx.by_event_id.get(&id)) {
                self.run_bucket(b, &mut ctx, &mut fired, out);
            }
            if let Some(b) = &idx.any {
                self.run_bucket(b, &mut ctx, &mut fired, out);
            }
        }
        if let Some(b) = &self.any_windows {
            self.run_bucket(b, &mut ctx, &mut fired, out);
        }
    }

    fn run_bucket<'e>(
        &'e self,
        bucket: &'e Bucket,
        ctx: &mut EvalCtx<'e>,
        fired: &mut Vec<u32>,
        out: &mut Vec<Finding>,
    ) {
        MARKS.with(|m| {
            let mut marks = m.borrow_mut();
            bucket.prefilter.candidates(ctx, &mut marks);
            for &c in &marks.candidates {
                let rr = bucket.refs[c as usize];
                if fired.contains(&rr.rule) {
                    continue;
                }
                if self.eval_route(rr, ctx, out) {
                    fired.push(rr.rule);
                }
            }
        });
    }

    /// Diagnostics: (candidates after the prefilter, rules in the bucket, always-evaluated)
    /// for one event.
    pub fn prefilter_counts(&self, event: &Event) -> (usize, usize, usize) {
        let Some(channel) = event.channel() else {
            return (0, 0, 0);
        };
        let Some(idx) = self.channel_index(channel) else {
            return (0, 0, 0);
        };
        let mut totals = (0, 0, 0);
        let eid_bucket = event.event_id().and_then(|id| idx.by_event_id.get(&id));
        let ctx = EvalCtx::new(event);
        MARKS.with(|m| {
            let mut marks = m.borrow_mut();
            for b in eid_bucket.into_iter().chain(idx.any.as_ref()) {
                b.prefilter.candidates(&ctx, &mut marks);
                totals.0 += marks.candidates.len();
                totals.1 += b.refs.len();
                totals.2 += b.prefilter.always_count();
            }
        });
        totals
    }

    /// Diagnostics: every bucket as (channel, EventID or None, rules, always evaluated, field
    /// automata as (field, literals, folded)).
    #[allow(clippy::type_complexity)]
    pub fn buckets(&self) -> Vec<(String, Option<i64>, usize, usize, Vec<(&str, usize, bool)>)> {
        fn row<'a>(
            ch: &str,
            eid: Option<i64>,
            b: &'a Bucket,
        ) -> (
            String,
            Option<i64>,
            usize,
            usize,
            Vec<(&'a str, usize, bool)>,
        ) {
            (
                ch.to_string(),
                eid,
                b.refs.len(),
                b.prefilter.always_count(),
                b.prefilter.scans(),
            )
        }
        let mut out = Vec::new();
        for (ch, idx) in &self.by_channel {
            for (eid, b) in &idx.by_event_id {
                out.push(row(ch, Some(*eid), b));
            }
            if let Some(b) = &idx.any {
                out.push(row(ch, None, b));
            }
        }
        if let Some(b) = &self.any_windows {
            out.push(row("*windows*", None, b));
        }
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    }

    /// Diagnostics: titles of the rules evaluated on every event of a channel and EventID
    /// (the prefilter found no literal they need).
    pub fn unfiltered_rules(&self, channel: &str, event_id: i64) -> Vec<String> {
        let Some(idx) = self.channel_index(channel) else {
            return Vec::new();
        };
        idx.by_event_id
            .get(&event_id)
            .into_iter()
            .chain(idx.any.as_ref())
            .flat_map(|b| {
                b.prefilter.always().iter().map(|&c| {
                    self.rules[b.refs[c as usize].rule as usize]
                        .rule
                        .meta
                        .title
                        .clone()
                })
            })
            .collect()
    }

    /// The reference evaluation: every rule, routed by a direct check of its logsource
    /// (no index, no prefilter). Slow; the optimized path must give the same findings.
    pub fn detect_reference(&self, event: &Event, out: &mut Vec<Finding>) {
        let Some(channel) = event.channel() else {
            return;
        };
        let mut ctx = EvalCtx::new(event);
        for (ri, cr) in self.rules.iter().enumerate() {
            match &cr.routing {
                Routing::Unrouted(_) => {}
                Routing::AnyWindows => {
                    self.eval_route(
                        RouteRef {
                            rule: ri as u32,
                            route: u32::MAX,
                        },
                        &mut ctx,
                        out,
                    );
                }
                Routing::Routes(routes) => {
                    for (qi, route) in routes.iter().enumerate() {
                        if !route
                            .channels
                            .iter()
                            .any(|c| c.eq_ignore_ascii_case(channel))
                        {
                            continue;
                        }
                        let eid_ok = route.conditions.iter().filter(|(k, _)| k == "EventID").all(
                            |(_, v)| {
                                event.event_id().is_some_and(|id| {
                                    v.iter().any(|x| x.trim().parse::<i64>().ok() == Some(id))
                                })
                            },
                        );
                        if !eid_ok {
                            continue;
                        }
                        let rr = RouteRef {
                            rule: ri as u32,
                            route: qi as u32,
                        };
                        if self.eval_route(rr, &mut ctx, out) {
                            break;
                        }
                    }
                }
            }
        }
    }

    fn eval_route<'e>(
        &'e self,
        rr: RouteRef,
        ctx: &mut EvalCtx<'e>,
        out: &mut Vec<Finding>,
    ) -> bool {
        let cr = &self.rules[rr.rule as usize];
        let route: Option<&'e Route> = match &cr.routing {
            Routing::Routes(r) => r.get(rr.route as usize),
            _ => None,
        };
        if let Some(route) = route {
            for (field, values) in &route.conditions {
                if field == "EventID" {
                    continue; // guaranteed by the index
                }
                let ok = ctx
                    .event
                    .get_text(field)
                    .is_some_and(|t| values.iter().any(|v| v.eq_ignore_ascii_case(&t)));
                if !ok {
                    return false;
                }
            }
            ctx.with_fieldmap(&route.fieldmap);
        } else {
            ctx.with_fieldmap(&[]);
        }
        if !eval_detection(&cr.rule.detection, ctx) {
            return false;
        }
        if cr.filters.iter().any(|f| eval_detection(&f.detection, ctx)) {
            return false;
        }
        out.push(make_finding(cr, ctx));
        true
    }

    /// Whether `rule` (by index) matches the event, ignoring routing (for reference checks).
    pub fn matches_ignoring_route(&self, rule: usize, event: &Event) -> bool {
        let cr = &self.rules[rule];
        let ctx = EvalCtx::new(event);
        eval_detection(&cr.rule.detection, &ctx)
            && !cr
                .filters
                .iter()
                .any(|f| eval_detection(&f.detection, &ctx))
    }
}

/// Evaluate a detection section on the event.
pub fn eval_detection(det: &Detection, ctx: &EvalCtx<'_>) -> bool {
    det.condition.eval(&mut |i| {
        det.selections[i]
            .branches
            .iter()
            .any(|branch| branch.iter().all(|item| item.matches(ctx)))
    })
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_DETAIL_CHARS {
        return s.to_string();
    }
    let mut end = MAX_DETAIL_CHARS;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The fields a rule's findings record beyond [`KEY_FIELDS`] (its own `fields`, then those
/// correlations need), each once, none of them a key field.
fn detail_fields(rule: &SigmaRule, for_correlations: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in rule.fields.iter().chain(for_correlations) {
        if !KEY_FIELDS.contains(&name.as_str()) && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

fn make_finding(cr: &CompiledRule, ctx: &EvalCtx<'_>) -> Finding {
    let event = ctx.event;
    let rule = &cr.rule;
    let mut f = Finding::new(
        Arc::clone(&rule.meta),
        rule.level,
        event.time,
        &event.host,
        event.provenance.clone(),
    );
    // Each name once (see `detail_fields`): no lookup in the details map first.
    for name in KEY_FIELDS
        .iter()
        .copied()
        .chain(cr.detail_fields.iter().map(String::as_str))
    {
        if let Some(v) = ctx.field(name) {
            let j = match v {
                Value::Str(s) => serde_json::Value::String(truncate(s)),
                other => other.to_json(),
            };
            f.details.insert(name.to_string(), j);
        }
    }
    f
}

impl Detector for Engine {
    fn name(&self) -> &str {
        "sigma"
    }
    fn detect(&self, event: &Event, out: &mut Vec<Finding>) {
        self.detect_into(event, out);
    }
}

/// Metadata of every detection rule, for listings.
pub fn rule_metas(engine: &Engine) -> Vec<Arc<RuleMeta>> {
    engine
        .rules
        .iter()
        .map(|r| Arc::clone(&r.rule.meta))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding records each field once, in order: the key fields, then the rule's own
    /// `fields` that are not key fields (repeats dropped).
    #[test]
    fn findings_list_each_detail_once() {
        for (i, a) in KEY_FIELDS.iter().enumerate() {
            assert!(!KEY_FIELDS[i + 1..].contains(a), "{a} twice in KEY_FIELDS");
        }
        let mut b = EngineBuilder::new(LoadOptions::default());
        b.add_text(
            "title: T\nid: t1\nlogsource: {product: windows, category: process_creation}\n\
             detection: {sel: {Image|endswith: '\\x.exe'}, condition: sel}\n\
             fields: [Image, Foo, Foo, bar, CommandLine]\nlevel: high\n",
            "t.yml",
        );
        let (engine, errors) = b.build();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(engine.rules()[0].detail_fields, ["Foo", "bar"]);
    }

    /// Rule files come in path order: a directory's files before a sibling whose name extends
    /// the directory's (`a/x.yml` before `a-b.yml`, though `-` is a smaller byte than `/`).
    #[test]
    fn rule_files_come_in_path_order() {
        let root = std::env::temp_dir().join(format!("dragnet-rule-files-{}", std::process::id()));
        let names = [
            "a-b.yml",
            "a/x.yml",
            "a b.yml",
            "a.yml",
            "a/b/c.yml",
            "ab.yml",
            "a/b.yml",
            "a!.yaml",
            "b/a.yml",
            "a/b-c/d.yml",
            "skip.txt",
        ];
        for n in names {
            let p = root.join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "title: x\n").unwrap();
        }
        let found = rule_files(&root).unwrap();
        let mut expected: Vec<PathBuf> = names
            .iter()
            .filter(|n| !n.ends_with(".txt"))
            .map(|n| root.join(n))
            .collect();
        expected.sort();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found, expected);
    }
}
