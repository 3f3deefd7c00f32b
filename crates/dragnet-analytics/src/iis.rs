//! IIS / SharePoint exploitation, from IIS W3C logs:
//!
//! - **ToolShell** (CVE-2025-53770/53771): `POST /_layouts/15|16/ToolPane.aspx` with
//!   `DisplayMode=Edit` (the Referer `/_layouts/SignOut.aspx` is the authentication bypass) ->
//!   critical; requests for the web shells it drops (`spinstall*.aspx`, `info3.aspx`,
//!   `ghostfile*.aspx` under `_layouts`) -> critical. T1190, T1505.003.
//! - **ViewState abuse**: a `__VIEWSTATE` of over 1,000 characters in a query string (the
//!   deserialization exploits of Exchange/SharePoint/.NET) -> high; five or more POSTs to `.aspx`
//!   pages answered 500 from one client within an hour (failed deserialization attempts) ->
//!   medium. T1190.
//! - **New web shells**: an `.aspx`/`.ashx`/`.asmx` first requested an hour or more after the
//!   server's log starts, answered 200 at least 3 times, to at most 2 clients -> high. T1505.003.
//! - **IIS listener / relay**: POSTs answered 200 to 10 or more distinct random-looking leaf
//!   names under one directory, by at most 2 clients, each name used once or twice (a
//!   ShadowPad-style IIS module or web relay) -> high. T1505.004, T1090.001.
//!
//! - **Web tunnels** (Tunna, reGeorg): a dynamic page requested 300 or more times in an hour
//!   by one client -> high; with the tools' own query shapes (`proxy&port=..&ip=..`,
//!   `cmd=connect&target=..`) -> critical. T1572, T1090.001.
//!
//! State: per server at most 100,000 stems and 10,000 directories; 200,000 (client, page)
//! rate counters.

use crate::record::WebRequest;
use dragnet_event::{Analyzer, Event, Finding, Level, Provenance, RuleMeta, Timestamp};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug)]
struct Stem {
    first: i64,
    clients: Vec<Box<str>>,
    ok: u32,
    methods: Vec<Box<str>>,
    prov: Provenance,
}

#[derive(Debug, Default)]
struct Dir {
    leaves: HashMap<Box<str>, u32>,
    clients: Vec<Box<str>>,
    posts: u32,
    ok: u32,
    total: u32,
    first: i64,
    prov: Option<Provenance>,
}

#[derive(Default, Debug)]
struct Server {
    first: i64,
    stems: HashMap<Box<str>, Stem>,
    dirs: HashMap<Box<str>, Dir>,
    /// (client) -> times of POSTs to .aspx answered 500.
    errors: HashMap<Box<str>, Vec<i64>>,
}

/// (server, client, page).
type RateKey = (Box<str>, Box<str>, Box<str>);

pub struct IisAnalyzer {
    servers: HashMap<Box<str>, Server>,
    reported: HashSet<(String, String)>,
    pending: Vec<Finding>,
    rules: [Arc<RuleMeta>; 6],
    /// (server, client, page) -> (hour, requests in that hour).
    rates: HashMap<RateKey, (i64, u32)>,
}

fn rule(id: &str, title: &str, kind: &str, tags: &[&str]) -> Arc<RuleMeta> {
    Arc::new(RuleMeta {
        id: id.into(),
        title: title.into(),
        author: "dragnet".into(),
        status: "experimental".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        source: "builtin:analytics/iis".into(),
        kind: kind.into(),
        ..Default::default()
    })
}

fn random_looking(leaf: &str) -> bool {
    let name = leaf.split('.').next().unwrap_or(leaf);
    name.len() >= 6
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && name.bytes().any(|b| b.is_ascii_digit())
        && name.bytes().any(|b| b.is_ascii_alphabetic())
}

impl Default for IisAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl IisAnalyzer {
    pub fn new() -> Self {
        IisAnalyzer {
            servers: HashMap::new(),
            reported: HashSet::new(),
            pending: Vec::new(),
            rates: HashMap::new(),
            rules: [
                rule(
                    "dragnet-iis-toolshell",
                    "SharePoint ToolShell exploitation (ToolPane.aspx DisplayMode=Edit)",
                    "iis-toolshell",
                    &[
                        "attack.initial-access",
                        "attack.t1190",
                        "cve.2025-53770",
                        "cve.2025-53771",
                    ],
                ),
                rule(
                    "dragnet-iis-toolshell-webshell",
                    "SharePoint ToolShell web shell requested (spinstall*.aspx)",
                    "iis-webshell",
                    &["attack.persistence", "attack.t1505.003", "attack.t1190"],
                ),
                rule(
                    "dragnet-iis-viewstate",
                    "ViewState deserialization abuse signs",
                    "iis-viewstate",
                    &["attack.initial-access", "attack.t1190"],
                ),
                rule(
                    "dragnet-iis-new-webshell",
                    "New .aspx/.ashx answered 200 to few clients (possible web shell)",
                    "iis-new-page",
                    &["attack.persistence", "attack.t1505.003"],
                ),
                rule(
                    "dragnet-iis-listener",
                    "IIS listener / web relay: POSTs to many random names under one path",
                    "iis-listener",
                    &[
                        "attack.persistence",
                        "attack.t1505.004",
                        "attack.command-and-control",
                        "attack.t1090.001",
                    ],
                ),
                rule(
                    "dragnet-iis-web-tunnel",
                    "TCP tunnelled through a web page (Tunna, reGeorg style)",
                    "iis-web-tunnel",
                    &[
                        "attack.command-and-control",
                        "attack.t1572",
                        "attack.t1090.001",
                        "attack.persistence",
                        "attack.t1505.003",
                    ],
                ),
            ],
        }
    }

    fn once(&mut self, key: String, what: &str) -> bool {
        self.reported.insert((key, what.to_string()))
    }

    fn emit(&mut self, rule: usize, level: Level, w: &WebRequest, details: serde_json::Value) {
        let mut f = Finding::new(
            Arc::clone(&self.rules[rule]),
            level,
            w.time,
            &w.host,
            w.provenance.clone(),
        );
        if let serde_json::Value::Object(m) = details {
            f.details = m;
        }
        f.details.insert("src".into(), json!(w.client.to_string()));
        f.details.insert("dst".into(), json!(w.host.to_string()));
        f.details
            .insert("method".into(), json!(w.method.to_string()));
        f.details
            .insert("uri_stem".into(), json!(w.stem.to_string()));
        if !w.query.is_empty() {
            f.details.insert(
                "uri_query".into(),
                json!(w.query.chars().take(300).collect::<String>()),
            );
        }
        f.details.insert("status".into(), json!(w.status));
        self.pending.push(f);
    }

    pub fn observe(&mut self, w: &WebRequest, out: &mut Vec<Finding>) {
        let t = w.time.secs();
        let stem_l = w.stem.to_ascii_lowercase();
        let query_l = w.query.to_ascii_lowercase();
        let post = w.method.eq_ignore_ascii_case("POST");
        // ToolShell.
        let layouts = stem_l.contains("/_layouts/15/") || stem_l.contains("/_layouts/16/");
        if layouts
            && stem_l.ends_with("/toolpane.aspx")
            && post
            && query_l.contains("displaymode=edit")
            && self.once(format!("{}|{}", w.host, w.client), "toolshell")
        {
            let bypass = w.referer.to_ascii_lowercase().contains("signout.aspx");
            self.emit(0, Level::Critical, w, json!({"explanation": format!(
                "POST {} ?{} from {} answered {}: the ToolShell request (CVE-2025-53770){}",
                w.stem, w.query, w.client, w.status,
                if bypass { ", with the SignOut.aspx Referer that bypasses authentication" } else { "" })}));
        }
        let leaf = stem_l.rsplit('/').next().unwrap_or("");
        if stem_l.contains("/_layouts/")
            && (leaf.starts_with("spinstall")
                || leaf == "info3.aspx"
                || leaf.starts_with("ghostfile"))
            && leaf.ends_with(".aspx")
            && self.once(
                format!("{}|{}|{}", w.host, w.client, leaf),
                "toolshell-shell",
            )
        {
            self.emit(1, Level::Critical, w, json!({"explanation": format!("{} {} from {} answered {}: a web shell name the ToolShell campaign drops", w.method, w.stem, w.client, w.status)}));
        }
        // ViewState.
        if let Some(i) = query_l.find("__viewstate=") {
            let len = w.query[i..].split('&').next().map_or(0, str::len);
            if len > 1000 && self.once(format!("{}|{}", w.host, w.client), "viewstate") {
                self.emit(2, Level::High, w, json!({"explanation": format!("a {len}-character __VIEWSTATE in the query string of {} from {} (answered {}): the shape of a ViewState deserialization exploit", w.stem, w.client, w.status)}));
            }
        }
        // Web tunnels: the tools' own request shapes, or a dynamic page hammered by one client.
        let tunnel_sig =
            (query_l.contains("port=") && query_l.contains("ip=") && query_l.contains("proxy"))
                || (query_l.contains("cmd=connect") && query_l.contains("target="))
                || query_l.starts_with("cmd=forward")
                || query_l.starts_with("cmd=read");
        let dynamic = [".aspx", ".ashx", ".asmx", ".asp", ".php", ".jsp", ".jspx"]
            .iter()
            .any(|e| stem_l.ends_with(e));
        if dynamic && self.rates.len() < 200_000 {
            let key = (w.host.clone(), w.client.clone(), Box::from(stem_l.as_str()));
            let e = self.rates.entry(key).or_insert((t / 3600, 0));
            if e.0 != t / 3600 {
                *e = (t / 3600, 0);
            }
            e.1 += 1;
            let n = e.1;
            let (what, level) = if tunnel_sig {
                ("web-tunnel-sig", Level::Critical)
            } else {
                ("web-tunnel", Level::High)
            };
            if (tunnel_sig || n >= 300)
                && self.once(format!("{}|{}|{}", w.host, w.client, stem_l), what)
            {
                let shape = if tunnel_sig {
                    format!(
                        ", with the tunnel tool's own query shape ({})",
                        w.query.chars().take(60).collect::<String>()
                    )
                } else {
                    String::new()
                };
                self.emit(5, level, w, json!({"requests_in_hour": n, "explanation": format!(
                    "{n} requests to {} from {} within an hour{shape}: a TCP stream carried over HTTP requests through a web page (Tunna / reGeorg style tunnel)",
                    w.stem, w.client)}));
            }
        }
        let server = self
            .servers
            .entry(w.host.clone())
            .or_insert_with(|| Server {
                first: t,
                ..Default::default()
            });
        server.first = server.first.min(t);
        let ext = leaf.rsplit_once('.').map(|x| x.1).unwrap_or("");
        if post && w.status == 500 && ext == "aspx" {
            let v = server.errors.entry(w.client.clone()).or_default();
            v.retain(|&x| x >= t - 3600);
            if v.len() < 1000 {
                v.push(t);
            }
            let n = v.len();
            if n >= 5
                && self
                    .reported
                    .insert((format!("{}|{}", w.host, w.client), "viewstate-500".into()))
            {
                self.emit(2, Level::Medium, w, json!({"explanation": format!("{n} POSTs to .aspx pages answered 500 from {} within an hour: failed deserialization (ViewState) attempts look like this", w.client)}));
            }
        }
        let server = self.servers.get_mut(&w.host).expect("inserted above");
        if matches!(ext, "aspx" | "ashx" | "asmx") && server.stems.len() < 100_000 {
            let s = server
                .stems
                .entry(w.stem.to_ascii_lowercase().into())
                .or_insert_with(|| Stem {
                    first: t,
                    clients: Vec::new(),
                    ok: 0,
                    methods: Vec::new(),
                    prov: w.provenance.clone(),
                });
            if !s.clients.contains(&w.client) && s.clients.len() < 4 {
                s.clients.push(w.client.clone());
            }
            if !s.methods.contains(&w.method) && s.methods.len() < 4 {
                s.methods.push(w.method.clone());
            }
            if w.status == 200 {
                s.ok += 1;
            }
        }
        if let Some((dir, leaf)) = w.stem.rsplit_once('/') {
            if !leaf.is_empty() && (server.dirs.contains_key(dir) || server.dirs.len() < 10_000) {
                let d = server
                    .dirs
                    .entry(dir.to_ascii_lowercase().into())
                    .or_insert_with(|| Dir {
                        first: t,
                        ..Default::default()
                    });
                if d.leaves.len() < 1000 {
                    *d.leaves.entry(leaf.into()).or_insert(0) += 1;
                }
                if !d.clients.contains(&w.client) && d.clients.len() < 4 {
                    d.clients.push(w.client.clone());
                }
                d.total += 1;
                if post {
                    d.posts += 1;
                }
                if w.status == 200 {
                    d.ok += 1;
                }
                if d.prov.is_none() {
                    d.prov = Some(w.provenance.clone());
                }
            }
        }
        out.append(&mut self.pending);
    }

    pub fn findings(&self, out: &mut Vec<Finding>) {
        for (host, s) in &self.servers {
            for (stem, st) in &s.stems {
                // New in an established directory: the directory served other pages an hour
                // or more before this one appeared (shells are dropped next to real pages).
                let dir = stem.rsplit_once('/').map_or("", |x| x.0);
                let dir_first = s.dirs.get(dir).map_or(st.first, |d| d.first);
                if st.first >= s.first + 3600
                    && st.first >= dir_first + 3600
                    && st.ok >= 3
                    && st.clients.len() <= 2
                {
                    let mut f = Finding::new(
                        Arc::clone(&self.rules[3]),
                        Level::High,
                        Timestamp::from_nanos(st.first * 1_000_000_000),
                        host,
                        st.prov.clone(),
                    );
                    f.details.insert(
                        "src".into(),
                        json!(st
                            .clients
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")),
                    );
                    f.details.insert("dst".into(), json!(host.to_string()));
                    f.details.insert("uri_stem".into(), json!(stem.to_string()));
                    f.details.insert("explanation".into(), json!(format!(
                        "{stem} first requested {:.1} h after the server's log starts, answered 200 {} times, to only {} client(s) ({}), methods {}: how a freshly dropped web shell is used",
                        (st.first - s.first) as f64 / 3600.0, st.ok, st.clients.len(),
                        st.clients.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
                        st.methods.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("/"))));
                    out.push(f);
                }
            }
            for (dir, d) in &s.dirs {
                let distinct = d.leaves.len();
                if distinct < 10 || d.clients.len() > 2 || d.total == 0 {
                    continue;
                }
                let once = d.leaves.values().filter(|&&n| n <= 2).count();
                let random = d.leaves.keys().filter(|k| random_looking(k)).count();
                let post_share = f64::from(d.posts) / f64::from(d.total);
                let ok_share = f64::from(d.ok) / f64::from(d.total);
                if post_share < 0.8
                    || ok_share < 0.8
                    || once * 10 < distinct * 8
                    || random * 10 < distinct * 8
                {
                    continue;
                }
                let Some(prov) = d.prov.clone() else { continue };
                let mut f = Finding::new(
                    Arc::clone(&self.rules[4]),
                    Level::High,
                    Timestamp::from_nanos(d.first * 1_000_000_000),
                    host,
                    prov,
                );
                f.details.insert(
                    "src".into(),
                    json!(d
                        .clients
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")),
                );
                f.details.insert("dst".into(), json!(host.to_string()));
                f.details.insert("directory".into(), json!(dir.to_string()));
                f.details.insert("distinct_names".into(), json!(distinct));
                f.details.insert("requests".into(), json!(d.total));
                f.details.insert("explanation".into(), json!(format!(
                    "{} requests to {distinct} distinct names under {dir}/ ({random} random-looking, {once} used at most twice), {:.0}% POST, {:.0}% answered 200, from {} client(s) only: a listener that takes commands on throw-away URLs (IIS module / web relay)",
                    d.total, post_share * 100.0, ok_share * 100.0, d.clients.len())));
                out.push(f);
            }
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.servers
            .values()
            .map(|s| {
                s.stems.keys().map(|k| k.len() + 120).sum::<usize>()
                    + s.dirs
                        .values()
                        .map(|d| 120 + d.leaves.keys().map(|k| k.len() + 24).sum::<usize>())
                        .sum::<usize>()
            })
            .sum::<usize>()
            + self
                .rates
                .keys()
                .map(|k| k.0.len() + k.1.len() + k.2.len() + 64)
                .sum::<usize>()
    }
}

impl Analyzer for IisAnalyzer {
    fn name(&self) -> &str {
        "iis"
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn wants_findings(&self) -> bool {
        false
    }
    fn observe_event(&mut self, event: &Event, out: &mut Vec<Finding>) {
        if let Some(w) = WebRequest::from_event(event) {
            self.observe(&w, out);
        }
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        self.findings(out);
    }
    fn state_bytes(&self) -> usize {
        IisAnalyzer::state_bytes(self)
    }
}
