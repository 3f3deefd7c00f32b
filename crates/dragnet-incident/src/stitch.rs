//! Findings -> incidents.
//!
//! Every finding gets entity keys: its host and the hosts it names (source workstation,
//! source address, relay, edge endpoints), the accounts, external addresses, domains and
//! mailboxes of its details, all resolved through the [`EntityMap`] of the evidence.
//!
//! **The linking rule.**
//! 1. Only findings of level medium and above *link*. Informational and low findings join the
//!    incident of the nearest (in time, within the window) linking finding that shares a key
//!    with them (their own host first), never link two incidents and add no entity but their
//!    host; without one they stay unassigned.
//! 2. Two linking findings are in one incident when they share a *link key* and lie within
//!    the window (24 h) of each other (chains included: per key, findings are taken in time
//!    order and each is joined to the previous one when the gap is at most the window).
//!    Union-find over keys: O(n log n), no pairwise comparison.
//! 3. Keys that are not link keys (they *attach* but never merge):
//!    - built-in identities (SYSTEM, LOCAL/NETWORK SERVICE, ANONYMOUS LOGON, machine
//!      accounts, `-`) are no keys at all;
//!    - infrastructure hosts: domain controllers and DNS servers, as the evidence shows them;
//!    - external destinations (domains, addresses) contacted by two or more internal hosts
//!      during the baseline period, or by more than 16;
//!    - hubs: an account, address, domain or mailbox found in the linking findings of more
//!      than `hub_groups` (3) different host groups (hosts joined by shared host keys).
//!
//!    A linking finding whose keys are all of this kind attaches to the incident holding the
//!    nearest (in time, within the window) finding with one of those keys; with none, such
//!    findings group by their own host.
//! 4. Within an incident, findings fold into steps by (tactic, host): repeated findings of
//!    one rule on one host are one step with a count.
//!
//! **Score** (0-100): severity of the strongest finding (critical 40, high 30, medium 18, low
//! 8), tactic breadth (6 per tactic beyond the first among medium+ findings, at most 30), hosts
//! (5 per host beyond the first, at most 15), new lateral-movement edges (+5), times the mean
//! confidence of the medium+ rules (Sigma rules 0.9-1.0 by status, correlations 0.95, the
//! lateral graph 0.85, other analytics 0.8). **Level**: critical from 75, high from 55,
//! medium from 30, low from 12; never above the strongest finding, never more than one level
//! below it, and at most low without a medium+ finding.

use crate::entities::{is_internal_ip, parse_ip, EntityMap};
use crate::graph::GraphOutput;
use crate::model::{Edge, Entities, Incident, IncidentReport, Step, StepRule};
use crate::narrative;
use dragnet_event::{Finding, Level, Provenance, RuleMeta, SourceFormat, TimelineKey, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

const NS_HOUR: i64 = 3_600_000_000_000;

/// Settings of the stitching.
#[derive(Clone, Debug)]
pub struct StitchConfig {
    /// Largest gap between two linked findings.
    pub window_ns: i64,
    /// A non-host key found in more host groups than this is a hub (no link key).
    pub hub_groups: usize,
    /// Evidence records kept per step.
    pub evidence_per_step: usize,
    /// Attribution candidates kept per incident.
    pub candidates: usize,
    /// Incidents kept (best first); the findings of the others count as unassigned.
    pub max_incidents: usize,
    /// Entities of each kind kept per incident.
    pub max_entities: usize,
    /// Edges kept per incident.
    pub max_edges: usize,
}

impl Default for StitchConfig {
    fn default() -> Self {
        StitchConfig {
            window_ns: 24 * NS_HOUR,
            hub_groups: 3,
            evidence_per_step: 5,
            candidates: 5,
            max_incidents: 5_000,
            max_entities: 50,
            max_edges: 200,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Host,
    Account,
    Ip,
    Domain,
    Mailbox,
}

/// Fields of a finding's details that name things.
const HOST_NAME_FIELDS: &[&str] = &[
    "source",
    "target",
    "WorkstationName",
    "ClientName",
    "SourceHostname",
    "TargetServerName",
];
const ADDRESS_FIELDS: &[&str] = &[
    "IpAddress",
    "ClientAddress",
    "SourceIp",
    "DestinationIp",
    "src",
    "src_ip",
    "dst",
    "dst_ip",
    "relay",
    "server_ips",
    "ip",
    "c-ip",
    "RemoteAddress",
];
const ACCOUNT_FIELDS: &[(&str, &str)] = &[
    ("account", ""),
    ("User", ""),
    ("SubjectUserName", "SubjectDomainName"),
    ("TargetUserName", "TargetDomainName"),
    ("AccountName", "AccountDomain"),
    ("UserId", ""),
    ("user", ""),
    ("cs-username", ""),
];
const DOMAIN_FIELDS: &[&str] = &[
    "dst",
    "domain",
    "QueryName",
    "DestinationHostname",
    "query",
    "server_name",
    "cs-host",
    "r-dns",
];
const MAILBOX_FIELDS: &[&str] = &[
    "from",
    "to",
    "sender",
    "recipient",
    "recipients",
    "mailbox",
    "mail_from",
    "rcpt_to",
    "reply_to",
    "return_path",
];

/// Union-find with path halving and union by size.
struct Dsu {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Dsu {
    fn new(n: usize) -> Self {
        Dsu {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = self.parent[x as usize];
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

struct Keys {
    /// Interned (kind, value).
    /// Interned values, one map a kind (so that a value is looked up without a copy).
    ids: [HashMap<String, u32>; 5],
    names: Vec<(Kind, String)>,
    /// CSR: keys of finding i are flat[off[i]..off[i+1]].
    flat: Vec<u32>,
    off: Vec<u32>,
    /// Canonical host of each finding ([`NO_HOST`] for none).
    host: Vec<u32>,
}

/// No canonical host (in [`Keys::host`]).
const NO_HOST: u32 = u32::MAX;

impl Keys {
    fn new() -> Keys {
        Keys {
            ids: Default::default(),
            names: Vec::new(),
            flat: Vec::new(),
            off: vec![0],
            host: Vec::new(),
        }
    }

    fn of(&self, i: usize) -> &[u32] {
        &self.flat[self.off[i] as usize..self.off[i + 1] as usize]
    }

    /// The canonical host key of finding `i`.
    fn host(&self, i: usize) -> Option<u32> {
        Some(self.host[i]).filter(|&h| h != NO_HOST)
    }

    /// The keys of the next finding (`found` is emptied), `primary` its own host.
    fn add(&mut self, found: &mut Vec<(Kind, String)>, primary: Option<&str>) {
        let mut host_id = None;
        for (k, v) in found.drain(..) {
            let is_primary = k == Kind::Host && primary == Some(v.as_str());
            let next = self.names.len() as u32;
            let ids = &mut self.ids[k as usize];
            let id = match ids.get(v.as_str()) {
                Some(&id) => id,
                None => {
                    ids.insert(v.clone(), next);
                    self.names.push((k, v));
                    next
                }
            };
            if is_primary {
                host_id = Some(id);
            }
            self.flat.push(id);
        }
        self.off.push(self.flat.len() as u32);
        self.host.push(host_id.unwrap_or(NO_HOST));
    }
}

/// What the stitcher keeps of a finding once its keys are read: everything but its details
/// (of which only a lateral-movement finding's edge is kept), its rule, ATT&CK list and path
/// as indexes into [`Tables`] (40 bytes), so that the findings of a run need not all be held
/// while they are stitched.
struct Member {
    time: Timestamp,
    record: u64,
    /// A lateral-movement finding's source, target, account and method.
    lateral: Option<Box<[String; 4]>>,
    rule: u32,
    attack: u32,
    path: u32,
    level: Level,
    format: SourceFormat,
}

/// Values numbered in the order first seen, each held once.
struct Table<K> {
    items: Vec<K>,
    ids: HashMap<K, u32>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl<K: Clone + Eq + std::hash::Hash> Table<K> {
    fn id(&mut self, k: &K) -> u32 {
        if let Some(&i) = self.ids.get(k) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push(k.clone());
        self.ids.insert(k.clone(), i);
        i
    }
}

/// The rules, ATT&CK lists and paths of the members, each once.
#[derive(Default)]
struct Tables {
    rules: Vec<Arc<RuleMeta>>,
    /// By the rule's address (each is held in `rules`, so no address is reused).
    rule_ids: HashMap<usize, u32>,
    attacks: Table<Arc<[String]>>,
    paths: Table<Arc<str>>,
}

impl Tables {
    fn member(&mut self, f: &Finding) -> Member {
        let lateral = (f.rule.kind == "lateral").then(|| {
            let g = |k: &str| {
                f.details
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            Box::new([g("source"), g("target"), g("account"), g("method")])
        });
        let rules = &mut self.rules;
        let rule = *self
            .rule_ids
            .entry(Arc::as_ptr(&f.rule) as usize)
            .or_insert_with(|| {
                rules.push(Arc::clone(&f.rule));
                rules.len() as u32 - 1
            });
        Member {
            time: f.time,
            record: f.source.record,
            lateral,
            rule,
            attack: self.attacks.id(&f.attack),
            path: self.paths.id(&f.source.path),
            level: f.level,
            format: f.source.format,
        }
    }

    fn rule(&self, m: &Member) -> &Arc<RuleMeta> {
        &self.rules[m.rule as usize]
    }

    fn attack(&self, m: &Member) -> &[String] {
        &self.attacks.items[m.attack as usize]
    }

    fn path(&self, m: &Member) -> &Arc<str> {
        &self.paths.items[m.path as usize]
    }

    fn source(&self, m: &Member) -> Provenance {
        Provenance {
            path: Arc::clone(self.path(m)),
            record: m.record,
            format: m.format,
        }
    }

    /// The member's [`Finding::timeline_key`].
    fn timeline_key<'a>(&'a self, m: &Member) -> TimelineKey<'a> {
        (m.time, self.path(m), m.record, &self.rule(m).id)
    }
}

/// Undo the usual defanging (`[.]`, `[@]`, `(.)`).
fn refang(s: &str) -> String {
    if s.contains('[') || s.contains('(') {
        s.replace("[.]", ".")
            .replace("(.)", ".")
            .replace("[@]", "@")
            .replace("[at]", "@")
    } else {
        s.to_string()
    }
}

fn value_texts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(refang(s)),
        serde_json::Value::Array(a) => {
            for x in a.iter().take(8) {
                if let serde_json::Value::String(s) = x {
                    out.push(refang(s));
                }
            }
        }
        _ => {}
    }
}

fn looks_like_domain(s: &str) -> bool {
    let s = s.trim().trim_end_matches('.');
    s.len() >= 4
        && s.len() <= 253
        && s.contains('.')
        && parse_ip(s).is_none()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        && !s.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

fn extract(f: &Finding, ent: &EntityMap, out: &mut Vec<(Kind, String)>) -> Option<String> {
    let primary = ent.host(&f.host);
    if let Some(h) = &primary {
        out.push((Kind::Host, h.clone()));
    }
    let d = &f.details;
    let mut vals = Vec::new();
    for k in HOST_NAME_FIELDS {
        if let Some(v) = d.get(*k) {
            vals.clear();
            value_texts(v, &mut vals);
            for s in &vals {
                if let Some(h) = ent.host(s) {
                    out.push((Kind::Host, h));
                }
            }
        }
    }
    for k in ADDRESS_FIELDS {
        if let Some(v) = d.get(*k) {
            vals.clear();
            value_texts(v, &mut vals);
            for s in &vals {
                let Some(ip) = parse_ip(s) else { continue };
                if ip.is_loopback() {
                    continue;
                }
                if is_internal_ip(&ip) {
                    if let Some(h) = ent.host(s) {
                        out.push((Kind::Host, h));
                    }
                } else {
                    out.push((Kind::Ip, ip.to_string()));
                }
            }
        }
    }
    for (k, dom) in ACCOUNT_FIELDS {
        if let Some(v) = d.get(*k) {
            vals.clear();
            value_texts(v, &mut vals);
            for s in &vals {
                let raw = match d.get(*dom).and_then(|x| x.as_str()) {
                    Some(dm) if !dom.is_empty() && !s.contains('\\') && !s.contains('@') => {
                        format!("{dm}\\{s}")
                    }
                    _ => s.clone(),
                };
                if let Some(a) = ent.account(&raw) {
                    out.push((Kind::Account, a));
                }
            }
        }
    }
    for k in DOMAIN_FIELDS {
        if let Some(v) = d.get(*k) {
            vals.clear();
            value_texts(v, &mut vals);
            for s in &vals {
                if !looks_like_domain(s) {
                    continue;
                }
                // A name of an internal host is a host.
                if ent.is_host_alias(s) {
                    if let Some(h) = ent.host(s) {
                        out.push((Kind::Host, h));
                        continue;
                    }
                }
                out.push((Kind::Domain, s.trim_end_matches('.').to_ascii_lowercase()));
            }
        }
    }
    for k in MAILBOX_FIELDS {
        if let Some(v) = d.get(*k) {
            vals.clear();
            value_texts(v, &mut vals);
            for s in &vals {
                let s = s.trim();
                let addr = match (s.rfind('<'), s.rfind('>')) {
                    (Some(a), Some(b)) if a < b => &s[a + 1..b],
                    _ => s,
                };
                if addr.contains('@') && addr.len() <= 254 && !addr.contains(' ') {
                    if let Some(a) = ent.mailbox_account(addr) {
                        out.push((Kind::Account, a));
                    }
                    out.push((Kind::Mailbox, addr.to_ascii_lowercase()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    primary
}

/// Findings -> incidents, one finding at a time: a finding's keys are read when it is pushed
/// and only a compact member of it is kept (no details), so that a caller can walk the
/// findings of a run once, writing its timeline, without holding them.
pub struct Stitcher<'g> {
    graph: Option<&'g GraphOutput>,
    /// The entities when there is no graph (none).
    no_graph: EntityMap,
    keys: Keys,
    found: Vec<Member>,
    tables: Tables,
    buf: Vec<(Kind, String)>,
}

impl<'g> Stitcher<'g> {
    /// A stitcher resolving entities through `graph` (when the lateral-movement graph ran).
    pub fn new(graph: Option<&'g GraphOutput>) -> Stitcher<'g> {
        Stitcher {
            graph,
            no_graph: EntityMap::default(),
            keys: Keys::new(),
            found: Vec::new(),
            tables: Tables::default(),
            buf: Vec::new(),
        }
    }

    /// The next finding (any order: incidents sort their members themselves).
    pub fn push(&mut self, f: &Finding) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let primary = extract(f, self.ent(), &mut buf);
        self.keys.add(&mut buf, primary.as_deref());
        self.buf = buf;
        let m = self.tables.member(f);
        self.found.push(m);
    }

    /// How many findings were pushed.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    fn ent(&self) -> &EntityMap {
        match self.graph {
            Some(g) => &g.entities,
            None => &self.no_graph,
        }
    }
}

/// (key, time, finding).
type Pair = (u32, i64, u32);

/// Per key, the (time, finding) pairs of `members`, sorted by key then time.
fn pairs_by_key(
    keys: &Keys,
    findings: &[Member],
    members: impl Iterator<Item = usize>,
    keep: impl Fn(u32) -> bool,
) -> (Vec<Pair>, HashMap<u32, (usize, usize)>) {
    let mut pairs = Vec::new();
    for i in members {
        for &k in keys.of(i) {
            if keep(k) {
                pairs.push((k, findings[i].time.nanos(), i as u32));
            }
        }
    }
    pairs.sort_unstable();
    let mut ranges = HashMap::new();
    let mut s = 0;
    while s < pairs.len() {
        let mut e = s;
        while e < pairs.len() && pairs[e].0 == pairs[s].0 {
            e += 1;
        }
        ranges.insert(pairs[s].0, (s, e));
        s = e;
    }
    (pairs, ranges)
}

/// The member of `pairs[range]` nearest to time `t` within `window`.
fn nearest(pairs: &[Pair], range: (usize, usize), t: i64, window: i64) -> Option<(i64, u32)> {
    let slice = &pairs[range.0..range.1];
    let p = slice.partition_point(|x| x.1 < t);
    let mut best: Option<(i64, u32)> = None;
    for j in [p.wrapping_sub(1), p] {
        if let Some(x) = slice.get(j) {
            let gap = (x.1 - t).abs();
            if gap <= window && best.is_none_or(|b| gap < b.0) {
                best = Some((gap, x.2));
            }
        }
    }
    best
}

/// Build the incidents of a run from its findings and (when the graph ran) its graph (see
/// [`Stitcher`] to push them one at a time).
pub fn build_report(
    findings: &[Finding],
    graph: Option<&GraphOutput>,
    cfg: &StitchConfig,
) -> IncidentReport {
    let mut s = Stitcher::new(graph);
    for f in findings {
        s.push(f);
    }
    s.finish(cfg)
}

impl Stitcher<'_> {
    /// The incidents of the findings pushed.
    pub fn finish(self, cfg: &StitchConfig) -> IncidentReport {
        let (findings, keys, ent, graph) = (&self.found[..], &self.keys, self.ent(), self.graph);
        let edges_all: &[Edge] = graph.map(|g| g.edges.as_slice()).unwrap_or(&[]);
        let n = findings.len();
        let window = cfg.window_ns.max(0);
        let linker: Vec<bool> = findings.iter().map(|f| f.level >= Level::Medium).collect();

        // Baseline end: the graph's, else a tenth of the findings' span.
        let baseline_end = match graph {
            Some(g) => g.baseline_end,
            None => {
                let lo = findings.iter().map(|f| f.time).min().unwrap_or_default();
                let hi = findings.iter().map(|f| f.time).max().unwrap_or_default();
                Timestamp(lo.0 + ((hi.0 - lo.0) / 10).min(24 * NS_HOUR))
            }
        };

        // Weak keys, first by nature.
        let infra = ent.infrastructure();
        let mut weak: Vec<bool> = keys
            .names
            .iter()
            .map(|(k, v)| match k {
                Kind::Host => infra.contains(v),
                Kind::Ip | Kind::Domain => ent.is_common_destination(v, baseline_end),
                _ => false,
            })
            .collect();

        // Mail servers: the hosts of findings read from messages relay everybody's mail.
        for (i, f) in findings.iter().enumerate() {
            if matches!(f.format, SourceFormat::Eml | SourceFormat::Mbox) {
                if let Some(h) = keys.host(i) {
                    weak[h as usize] = true;
                }
            }
        }

        // Host groups: linking findings joined by strong host keys.
        let mut groups = Dsu::new(n);
        {
            let (pairs, _) = pairs_by_key(keys, findings, (0..n).filter(|&i| linker[i]), |k| {
                keys.names[k as usize].0 == Kind::Host && !weak[k as usize]
            });
            for w in pairs.windows(2) {
                if w[0].0 == w[1].0 && w[1].1 - w[0].1 <= window {
                    groups.union(w[0].2, w[1].2);
                }
            }
        }
        // Hubs: non-host keys in more than `hub_groups` host groups.
        {
            let mut seen: HashMap<u32, Vec<u32>> = HashMap::new();
            for i in (0..n).filter(|&i| linker[i]) {
                let Some(h) = keys.host(i) else { continue };
                if weak[h as usize] {
                    continue;
                }
                let g = groups.find(i as u32);
                for &k in keys.of(i) {
                    if keys.names[k as usize].0 == Kind::Host || weak[k as usize] {
                        continue;
                    }
                    let v = seen.entry(k).or_default();
                    if v.len() <= cfg.hub_groups && !v.contains(&g) {
                        v.push(g);
                    }
                }
            }
            for (k, v) in seen {
                if v.len() > cfg.hub_groups {
                    weak[k as usize] = true;
                }
            }
        }

        // Link: strong keys, time-chained.
        let mut dsu = Dsu::new(n);
        let has_strong: Vec<bool> = (0..n)
            .map(|i| keys.of(i).iter().any(|&k| !weak[k as usize]))
            .collect();
        {
            let (pairs, _) = pairs_by_key(keys, findings, (0..n).filter(|&i| linker[i]), |k| {
                !weak[k as usize]
            });
            for w in pairs.windows(2) {
                if w[0].0 == w[1].0 && w[1].1 - w[0].1 <= window {
                    dsu.union(w[0].2, w[1].2);
                }
            }
        }
        // Linking findings with weak keys only: attach to the nearest strong-keyed one.
        let (anchor_pairs, anchor_ranges) = pairs_by_key(
            keys,
            findings,
            (0..n).filter(|&i| linker[i] && has_strong[i]),
            |_| true,
        );
        let mut in_incident: Vec<bool> = (0..n).map(|i| linker[i] && has_strong[i]).collect();
        let mut orphans = Vec::new();
        for i in (0..n).filter(|&i| linker[i] && !has_strong[i]) {
            let t = findings[i].time.nanos();
            let best = keys
                .of(i)
                .iter()
                .filter_map(|k| anchor_ranges.get(k))
                .filter_map(|&r| nearest(&anchor_pairs, r, t, window))
                .min();
            match best {
                Some((_, j)) => {
                    dsu.union(i as u32, j);
                    in_incident[i] = true;
                }
                None => orphans.push(i),
            }
        }
        // Their pairs are the largest thing here: gone before the next ones are made.
        drop((anchor_pairs, anchor_ranges));
        // Orphans with nothing to attach to group by their own host.
        {
            let (pairs, _) = pairs_by_key(keys, findings, orphans.iter().copied(), |k| {
                keys.names[k as usize].0 == Kind::Host
            });
            for w in pairs.windows(2) {
                if w[0].0 == w[1].0 && w[1].1 - w[0].1 <= window {
                    dsu.union(w[0].2, w[1].2);
                }
            }
            for &i in &orphans {
                in_incident[i] = true;
            }
        }
        // Informational and low findings join the nearest linking finding sharing a key.
        let (link_pairs, link_ranges) =
            pairs_by_key(keys, findings, (0..n).filter(|&i| linker[i]), |_| true);
        let mut unassigned: u64 = 0;
        for i in (0..n).filter(|&i| !linker[i]) {
            let t = findings[i].time.nanos();
            let pick = |strong_only: bool| {
                keys.of(i)
                    .iter()
                    .filter(|&&k| !strong_only || !weak[k as usize])
                    .filter_map(|k| link_ranges.get(k))
                    .filter_map(|&r| nearest(&link_pairs, r, t, window))
                    .min()
            };
            let own = keys
                .host(i)
                .filter(|&h| !weak[h as usize])
                .and_then(|h| link_ranges.get(&h))
                .and_then(|&r| nearest(&link_pairs, r, t, window));
            match own.or_else(|| pick(true)).or_else(|| pick(false)) {
                Some((_, j)) => {
                    dsu.union(i as u32, j);
                    in_incident[i] = true;
                }
                None => unassigned += 1,
            }
        }

        // Components -> incidents.
        let mut comps: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, inside) in in_incident.iter().enumerate() {
            if *inside {
                comps.entry(dsu.find(i as u32)).or_default().push(i);
            }
        }
        let attributor = dragnet_attack::Attributor::builtin();
        let mut incidents: Vec<Incident> = comps
            .into_values()
            .map(|members| self.assemble(&members, edges_all, &attributor, cfg))
            .collect();
        incidents.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.first.cmp(&b.first))
                .then_with(|| a.title.cmp(&b.title))
        });
        if incidents.len() > cfg.max_incidents {
            for dropped in incidents.drain(cfg.max_incidents..) {
                unassigned += dropped.findings;
            }
        }
        for (i, inc) in incidents.iter_mut().enumerate() {
            inc.id = format!("INC-{:04}", i + 1);
        }
        IncidentReport {
            incidents,
            edges: edges_all.to_vec(),
            unassigned_findings: unassigned,
        }
    }
}

/// Kill-chain order of the enterprise tactics (used when the knowledge base has no entry).
const TACTICS: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Kill-chain position of a tactic shortname (`usize::MAX` when unknown).
pub fn tactic_order(short: &str) -> usize {
    if let Some(t) = dragnet_attack::kb().tactic(short) {
        return t.order;
    }
    TACTICS
        .iter()
        .position(|t| *t == short)
        .unwrap_or(usize::MAX)
}

/// The tactic a finding stands for: the first tactic tag of its rule, else the first tactic
/// of its first known technique, else `unknown`.
pub fn primary_tactic(f: &Finding) -> String {
    tactic_of(&f.rule, &f.attack)
}

fn tactic_of(rule: &RuleMeta, attack: &[String]) -> String {
    for t in &rule.tags {
        if let Some(rest) = t.strip_prefix("attack.") {
            let r = rest.to_ascii_lowercase().replace('_', "-");
            if TACTICS.contains(&r.as_str()) {
                return r;
            }
        }
    }
    let kb = dragnet_attack::kb();
    for id in attack {
        if let Some(t) = kb.technique(id) {
            if let Some(first) = t.tactics.first() {
                return first.clone();
            }
        }
    }
    "unknown".to_string()
}

fn confidence(rule: &RuleMeta) -> f64 {
    match rule.kind.as_str() {
        "sigma" | "" => match rule.status.as_str() {
            "stable" => 1.0,
            "test" => 0.95,
            _ => 0.9,
        },
        "correlation" => 0.95,
        "lateral" => 0.85,
        _ => 0.8,
    }
}

fn level_weight(l: Level) -> f64 {
    match l {
        Level::Critical => 40.0,
        Level::High => 30.0,
        Level::Medium => 18.0,
        Level::Low => 8.0,
        Level::Informational => 0.0,
    }
}

fn level_down(l: Level) -> Level {
    match l {
        Level::Critical => Level::High,
        Level::High => Level::Medium,
        Level::Medium => Level::Low,
        _ => Level::Informational,
    }
}

/// Score and level of an incident (see the module documentation).
pub fn score_incident(
    max_level: Level,
    tactics: usize,
    hosts: usize,
    new_edges: bool,
    confidence: f64,
) -> (f64, Level) {
    let raw = level_weight(max_level)
        + (6.0 * tactics.saturating_sub(1) as f64).min(30.0)
        + (5.0 * hosts.saturating_sub(1) as f64).min(15.0)
        + if new_edges { 5.0 } else { 0.0 };
    let score = (raw * confidence.clamp(0.0, 1.0)).clamp(0.0, 100.0);
    let score = (score * 10.0).round() / 10.0;
    let mut level = if score >= 75.0 {
        Level::Critical
    } else if score >= 55.0 {
        Level::High
    } else if score >= 30.0 {
        Level::Medium
    } else if score >= 12.0 {
        Level::Low
    } else {
        Level::Informational
    };
    level = level.max(level_down(max_level)).min(max_level);
    if max_level < Level::Medium {
        level = level.min(Level::Low);
    }
    (score, level)
}

impl Stitcher<'_> {
    fn assemble(
        &self,
        members: &[usize],
        edges_all: &[Edge],
        attributor: &dragnet_attack::Attributor,
        cfg: &StitchConfig,
    ) -> Incident {
        let (findings, tables, keys, ent) = (&self.found[..], &self.tables, &self.keys, self.ent());
        let mut members = members.to_vec();
        members.sort_by(|&a, &b| {
            tables
                .timeline_key(&findings[a])
                .cmp(&tables.timeline_key(&findings[b]))
        });
        let first = findings[members[0]].time;
        let last = members
            .iter()
            .map(|&i| findings[i].time)
            .max()
            .unwrap_or(first);

        let mut hosts: BTreeSet<String> = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        let mut ips = BTreeSet::new();
        let mut domains = BTreeSet::new();
        let mut mailboxes = BTreeSet::new();
        let mut attack: BTreeSet<String> = BTreeSet::new();
        let mut max_level = Level::Informational;
        let mut strong_tactics: BTreeSet<String> = BTreeSet::new();
        let mut conf: HashMap<&str, f64> = HashMap::new();
        let mut lateral_keys: HashSet<(String, String, String, String)> = HashSet::new();
        let mut steps: BTreeMap<(usize, String, String), StepAcc> = BTreeMap::new();

        for &i in &members {
            let f = &findings[i];
            let rule = tables.rule(f);
            max_level = max_level.max(f.level);
            attack.extend(tables.attack(f).iter().cloned());
            let tactic = tactic_of(rule, tables.attack(f));
            if f.level >= Level::Medium {
                strong_tactics.insert(tactic.clone());
                conf.insert(rule.id.as_str(), confidence(rule));
            }
            let mut step_accounts = Vec::new();
            let mut step_hosts = Vec::new();
            for &k in keys.of(i) {
                let (kind, v) = &keys.names[k as usize];
                match kind {
                    Kind::Host => step_hosts.push(v.clone()),
                    Kind::Account => step_accounts.push(v.clone()),
                    _ => {}
                }
                // A joining (low) finding names only its own host for the incident.
                if f.level < Level::Medium && keys.host(i) != Some(k) {
                    continue;
                }
                let set = match kind {
                    Kind::Host => &mut hosts,
                    Kind::Account => &mut accounts,
                    Kind::Ip => &mut ips,
                    Kind::Domain => &mut domains,
                    Kind::Mailbox => &mut mailboxes,
                };
                if set.len() < cfg.max_entities {
                    set.insert(v.clone());
                }
            }
            if let Some(l) = &f.lateral {
                let [source, target, account, method] = &**l;
                lateral_keys.insert((
                    source.clone(),
                    target.clone(),
                    account.clone(),
                    method.clone(),
                ));
            }
            let host = keys
                .host(i)
                .map(|h| keys.names[h as usize].1.clone())
                .unwrap_or_default();
            let acc = steps
                .entry((tactic_order(&tactic), tactic.clone(), host.clone()))
                .or_insert_with(|| StepAcc::new(tactic, f.time));
            acc.add(
                f,
                tables,
                &step_hosts,
                &step_accounts,
                cfg.evidence_per_step,
            );
        }

        // Edges between the incident's hosts: those of its lateral findings, and new ones during
        // its span.
        let span_lo = first.nanos() - NS_HOUR;
        let span_hi = last.nanos() + NS_HOUR;
        let mut edges: Vec<Edge> = edges_all
            .iter()
            .filter(|e| {
                hosts.contains(&e.source)
                    && hosts.contains(&e.target)
                    && (lateral_keys.contains(&(
                        e.source.clone(),
                        e.target.clone(),
                        e.account.clone(),
                        e.method.clone(),
                    )) || (e.new && e.last.nanos() >= span_lo && e.first.nanos() <= span_hi))
            })
            .take(cfg.max_edges)
            .cloned()
            .collect();
        edges.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.source.cmp(&b.source)));

        let mut steps: Vec<Step> = steps
            .into_iter()
            .map(|((_, _, host), acc)| acc.finish(&host))
            .collect();
        steps.sort_by(|a, b| {
            tactic_order(&a.tactic)
                .cmp(&tactic_order(&b.tactic))
                .then_with(|| a.time.cmp(&b.time))
                .then_with(|| a.hosts.cmp(&b.hosts))
        });
        let mut tactics: Vec<String> = Vec::new();
        for s in &steps {
            if !tactics.contains(&s.tactic) {
                tactics.push(s.tactic.clone());
            }
        }
        let attack: Vec<String> = attack.into_iter().collect();
        let confidence = if conf.is_empty() {
            0.8
        } else {
            conf.values().sum::<f64>() / conf.len() as f64
        };
        let (score, level) = score_incident(
            max_level,
            strong_tactics.len(),
            hosts.len(),
            edges.iter().any(|e| e.new),
            confidence,
        );
        let mut attribution = attributor.rank(&attack);
        attribution.truncate(cfg.candidates);
        let entities = Entities {
            hosts: hosts.iter().map(|h| ent.host_entity(h)).collect(),
            accounts: accounts.into_iter().collect(),
            ips: ips.into_iter().collect(),
            domains: domains.into_iter().collect(),
            mailboxes: mailboxes.into_iter().collect(),
        };
        let mut inc = Incident {
            id: String::new(),
            score,
            level,
            title: String::new(),
            narrative: String::new(),
            first,
            last,
            tactics,
            attack,
            steps,
            entities,
            edges,
            attribution,
            findings: members.len() as u64,
        };
        inc.title = narrative::title(&inc);
        inc.narrative = narrative::narrative(&inc);
        inc
    }
}

/// A step being built.
struct StepAcc {
    tactic: String,
    time: Timestamp,
    last: Timestamp,
    hosts: BTreeSet<String>,
    accounts: BTreeSet<String>,
    level: Level,
    rules: Vec<StepRule>,
    count: u64,
    evidence: Vec<Provenance>,
    attack: BTreeSet<String>,
    /// Lateral edges (level, source, target, method, account) of the step.
    lateral: Vec<(Level, String, String, String, String)>,
}

impl StepAcc {
    fn new(tactic: String, time: Timestamp) -> Self {
        StepAcc {
            tactic,
            time,
            last: time,
            hosts: BTreeSet::new(),
            accounts: BTreeSet::new(),
            level: Level::Informational,
            rules: Vec::new(),
            count: 0,
            evidence: Vec::new(),
            attack: BTreeSet::new(),
            lateral: Vec::new(),
        }
    }

    fn add(
        &mut self,
        f: &Member,
        tables: &Tables,
        hosts: &[String],
        accounts: &[String],
        max_ev: usize,
    ) {
        let rule = tables.rule(f);
        self.time = self.time.min(f.time);
        self.last = self.last.max(f.time);
        self.count += 1;
        self.level = self.level.max(f.level);
        for h in hosts.iter().take(8) {
            if self.hosts.len() < 16 {
                self.hosts.insert(h.clone());
            }
        }
        for a in accounts.iter().take(8) {
            if self.accounts.len() < 16 {
                self.accounts.insert(a.clone());
            }
        }
        for t in tables.attack(f) {
            if self.attack.len() < 32 {
                self.attack.insert(t.clone());
            }
        }
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(r) => {
                r.count += 1;
                r.level = r.level.max(f.level);
            }
            None => self.rules.push(StepRule {
                id: rule.id.clone(),
                title: rule.title.clone(),
                author: rule.author.clone(),
                level: f.level,
                count: 1,
            }),
        }
        // Members come in time order: the first ones are the earliest.
        if self.evidence.len() < max_ev {
            let source = tables.source(f);
            if !self.evidence.contains(&source) {
                self.evidence.push(source);
            }
        }
        if let Some(l) = f.lateral.as_deref().filter(|_| self.lateral.len() < 8) {
            let [source, target, account, method] = l;
            self.lateral.push((
                f.level,
                source.clone(),
                target.clone(),
                method.clone(),
                account.clone(),
            ));
        }
    }

    fn finish(mut self, host: &str) -> Step {
        self.rules.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then_with(|| b.count.cmp(&a.count))
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut hosts: Vec<String> = Vec::new();
        if !host.is_empty() {
            hosts.push(host.to_string());
        }
        hosts.extend(self.hosts.into_iter().filter(|h| h != host));
        let accounts: Vec<String> = self.accounts.into_iter().collect();
        // The strongest edges first.
        self.lateral.sort_by_key(|l| std::cmp::Reverse(l.0));
        let lateral: Vec<(String, String, String, String)> = self
            .lateral
            .into_iter()
            .map(|(_, a, b, c, d)| (a, b, c, d))
            .collect();
        let summary = narrative::step_summary(
            &self.tactic,
            host,
            &accounts,
            &self.rules,
            self.count,
            &lateral,
        );
        Step {
            tactic: self.tactic,
            attack: self.attack.into_iter().collect(),
            time: self.time,
            last: self.last,
            hosts,
            accounts,
            level: self.level,
            rules: self.rules,
            count: self.count,
            evidence: self.evidence,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Event, RuleMeta, SourceFormat, Value};
    use std::sync::Arc;

    const H: i64 = NS_HOUR;

    fn finding(
        rule: &str,
        tags: &[&str],
        level: Level,
        hour: i64,
        host: &str,
        details: &[(&str, &str)],
    ) -> Finding {
        let meta = Arc::new(RuleMeta {
            id: rule.into(),
            title: format!("rule {rule}"),
            author: "test".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            kind: "sigma".into(),
            ..Default::default()
        });
        let mut f = Finding::new(
            meta,
            level,
            Timestamp(1_700_000_000 * 1_000_000_000 + hour * H),
            host,
            Provenance {
                path: format!("{host}.evtx").into(),
                record: hour as u64,
                format: SourceFormat::Evtx,
            },
        );
        for (k, v) in details {
            f.details.insert(k.to_string(), (*v).into());
        }
        f
    }

    /// Entities of a small domain: DC-01 is a domain controller (it logs Kerberos tickets).
    fn graph() -> GraphOutput {
        let mut ent = EntityMap::default();
        let mut e = Event::new(Provenance {
            path: "dc.evtx".into(),
            record: 1,
            format: SourceFormat::Evtx,
        });
        e.host = "DC-01.corp.example".into();
        e.push("EventID", Value::Int(4769));
        e.push("Channel", Value::str("Security"));
        ent.observe(&e);
        for h in ["WS-1", "WS-2", "WS-3", "FS-1"] {
            ent.add_host(&format!("{h}.corp.example"));
        }
        GraphOutput {
            entities: ent,
            ..Default::default()
        }
    }

    fn incident_of<'a>(r: &'a IncidentReport, rule: &str) -> Option<&'a Incident> {
        r.incidents
            .iter()
            .find(|i| i.steps.iter().any(|s| s.rules.iter().any(|x| x.id == rule)))
    }

    /// A member is what stitching holds per finding of a run: it stays small.
    #[test]
    fn a_member_takes_forty_bytes() {
        assert!(
            std::mem::size_of::<Member>() <= 40,
            "{}",
            std::mem::size_of::<Member>()
        );
    }

    #[test]
    fn system_and_the_dc_do_not_join_two_intrusions() {
        let g = graph();
        let sys = [("User", "NT AUTHORITY\\SYSTEM")];
        let f = vec![
            // Intrusion A on WS-1, then on the DC.
            finding(
                "a1",
                &["attack.execution"],
                Level::High,
                1,
                "WS-1.corp.example",
                &sys,
            ),
            finding(
                "a2",
                &["attack.credential-access"],
                Level::High,
                2,
                "WS-1",
                &sys,
            ),
            finding(
                "a3",
                &["attack.lateral-movement"],
                Level::High,
                3,
                "DC-01",
                &[("IpAddress", "-"), ("User", "NT AUTHORITY\\SYSTEM")],
            ),
            // Intrusion B on WS-2, also touching the DC, same hours.
            finding("b1", &["attack.persistence"], Level::High, 1, "WS-2", &sys),
            finding(
                "b2",
                &["attack.lateral-movement"],
                Level::High,
                3,
                "DC-01.corp.example",
                &sys,
            ),
            finding(
                "b3",
                &["attack.discovery"],
                Level::Medium,
                3,
                "WS-2",
                &[("TargetServerName", "DC-01")],
            ),
        ];
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        let a = incident_of(&r, "a1").unwrap();
        let b = incident_of(&r, "b1").unwrap();
        assert_ne!(a.id, b.id, "{r:#?}");
        assert!(incident_of(&r, "a2").unwrap().id == a.id);
        assert!(incident_of(&r, "b3").unwrap().id == b.id);
        // SYSTEM is no entity.
        assert!(a.entities.accounts.is_empty());
    }

    #[test]
    fn one_account_across_three_hosts_is_one_intrusion() {
        let g = graph();
        let who = |u: &'static str| [("User", u)];
        let f = vec![
            finding(
                "c1",
                &["attack.execution"],
                Level::High,
                1,
                "WS-1",
                &who("CORP\\j.doe"),
            ),
            finding(
                "c2",
                &["attack.lateral-movement"],
                Level::Medium,
                5,
                "FS-1",
                &[("SubjectUserName", "j.doe"), ("SubjectDomainName", "CORP")],
            ),
            finding(
                "c3",
                &["attack.collection"],
                Level::High,
                9,
                "WS-3",
                &who("corp\\J.Doe"),
            ),
            // Unrelated: another user, another host.
            finding(
                "d1",
                &["attack.execution"],
                Level::High,
                2,
                "WS-2",
                &who("CORP\\m.roe"),
            ),
            // Low noise sharing nothing but a host with both would glue nothing.
            finding(
                "n1",
                &["attack.discovery"],
                Level::Low,
                3,
                "WS-1",
                &who("CORP\\m.roe"),
            ),
        ];
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        let c = incident_of(&r, "c1").unwrap();
        assert_eq!(incident_of(&r, "c2").unwrap().id, c.id);
        assert_eq!(incident_of(&r, "c3").unwrap().id, c.id);
        let hosts: Vec<&str> = c.entities.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(hosts, vec!["FS-1", "WS-1", "WS-3"]);
        assert_eq!(c.entities.accounts, vec!["CORP\\j.doe"]);
        let d = incident_of(&r, "d1").unwrap();
        assert_ne!(d.id, c.id);
        // The low finding joined the incident of its own host, and linked nothing.
        assert_eq!(incident_of(&r, "n1").unwrap().id, c.id);
        // Kill-chain order.
        let order: Vec<&str> = c.steps.iter().map(|s| s.tactic.as_str()).collect();
        assert_eq!(
            order,
            vec!["execution", "discovery", "lateral-movement", "collection"]
        );
        assert!(c.narrative.contains("overlap") || c.narrative.contains("No known actor"));
    }

    #[test]
    fn findings_far_apart_in_time_stay_apart() {
        let g = graph();
        let who = [("User", "CORP\\j.doe")];
        let f = vec![
            finding("e1", &["attack.execution"], Level::High, 0, "WS-1", &who),
            finding("e2", &["attack.execution"], Level::High, 30, "WS-1", &who),
        ];
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        assert_eq!(r.incidents.len(), 2);
    }

    #[test]
    fn hub_accounts_do_not_link() {
        let g = graph();
        // One service account flagged on five unrelated hosts.
        let hosts = ["WS-1", "WS-2", "WS-3", "FS-1", "SRV-9"];
        let f: Vec<Finding> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                finding(
                    &format!("h{i}"),
                    &["attack.execution"],
                    Level::Medium,
                    i as i64,
                    h,
                    &[("User", "CORP\\svc-backup")],
                )
            })
            .collect();
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        assert_eq!(r.incidents.len(), 5, "{r:#?}");
    }

    #[test]
    fn repeated_findings_fold_into_one_step_and_levels_follow_the_rule() {
        let g = graph();
        let mut f: Vec<Finding> = (0..50)
            .map(|i| {
                finding(
                    "r1",
                    &["attack.defense-evasion"],
                    Level::High,
                    i % 10,
                    "WS-1",
                    &[],
                )
            })
            .collect();
        f.push(finding(
            "r2",
            &["attack.discovery"],
            Level::Low,
            3,
            "WS-1",
            &[],
        ));
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        assert_eq!(r.incidents.len(), 1);
        let i = &r.incidents[0];
        assert_eq!(i.findings, 51);
        let s = &i.steps[0];
        assert_eq!((s.count, s.rules.len()), (50, 1));
        assert!(s.evidence.len() <= 5);
        // One tactic, one host: a lead, not an intrusion.
        assert_eq!(i.level, Level::Medium);
        // Low findings alone make no incident.
        let r = build_report(&f[50..], Some(&g), &StitchConfig::default());
        assert!(r.incidents.is_empty());
        assert_eq!(r.unassigned_findings, 1);
        assert_eq!(
            score_incident(Level::Critical, 8, 4, true, 1.0).1,
            Level::Critical
        );
        assert_eq!(
            score_incident(Level::High, 1, 1, false, 0.8).1,
            Level::Medium
        );
        assert_eq!(score_incident(Level::Low, 5, 4, true, 1.0).1, Level::Low);
    }

    #[test]
    fn hundred_thousand_findings_stitch_fast() {
        let g = graph();
        let users: Vec<String> = (0..2000).map(|i| format!("CORP\\user{i}")).collect();
        let f: Vec<Finding> = (0..100_000)
            .map(|i| {
                let host = format!("WS-{}", i % 3000);
                finding(
                    &format!("rule{}", i % 40),
                    &["attack.execution"],
                    if i % 3 == 0 {
                        Level::Medium
                    } else {
                        Level::Low
                    },
                    (i % 200) as i64,
                    &host,
                    &[("User", users[i % 2000].as_str())],
                )
            })
            .collect();
        let t = std::time::Instant::now();
        let r = build_report(&f, Some(&g), &StitchConfig::default());
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "100k findings: {} incidents in {secs:.3} s",
            r.incidents.len()
        );
        assert!(!r.incidents.is_empty());
    }
}
