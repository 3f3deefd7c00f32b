//! The HTML report: one self-contained file (no fetches; inline CSS, one inline script, SVG
//! drawings), readable offline and printable.
//!
//! Everything that came from evidence is attacker-controlled. The page is written with a small
//! escaping writer ([`Html`]): text and attribute values go through [`escape_into`] (`& < > " '`
//! escaped, bidirectional overrides and other control characters shown as `<U+202E>`); markup
//! is only ever the writer's own literals. The script reads text and writes `textContent` and
//! `hidden`, never markup, and a Content-Security-Policy allows no source but the hashes of the
//! inline script and style.

use crate::digest::{Digest, RuleCount};
use crate::hash::{base64, sha256};
use crate::indicators::{Indicators, IocKind};
use crate::matrix::{self, TacticInfo, TechniqueUse};
use crate::{is_sigmahq_rule, RunInfo, DRL_NOTE};
use dragnet_event::{Finding, Level, Timestamp};
use dragnet_incident::{Edge, Incident, IncidentReport};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

const SCRIPT: &str = include_str!("html/report.js");
const STYLE: &str = include_str!("html/report.css");

/// Limits of the page, so that a run with millions of findings still gives a file a browser
/// opens.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Timeline rows in all (the most severe, then earliest, are kept).
    pub timeline_rows: usize,
    /// Indicator rows.
    pub indicator_rows: usize,
    /// Hosts drawn in the lateral-movement graph (most connected first).
    pub graph_nodes: usize,
    /// Host pairs drawn in the graph.
    pub graph_edges: usize,
    /// Characters of one evidence value shown.
    pub value_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeline_rows: 5_000,
            indicator_rows: 5_000,
            graph_nodes: 40,
            graph_edges: 200,
            value_chars: 400,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The escaping writer.

/// Append `s` to `out` as HTML text or attribute value: `& < > " '` escaped; bidirectional
/// embedding/override/isolate characters (U+202A-202E, U+2066-2069), marks (U+200E, U+200F,
/// U+061C) and control characters other than tab and newline shown visibly as `<U+XXXX>`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}' => {
                let _ = write!(out, "&lt;U+{:04X}&gt;", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "&lt;U+{:04X}&gt;", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `s` escaped (see [`escape_into`]).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// A small HTML writer: literal markup from this module, escaped text from anywhere else.
pub struct Html {
    out: String,
}

impl Html {
    fn new() -> Self {
        Html {
            out: String::with_capacity(1 << 16),
        }
    }
    /// Markup written by this module (never evidence).
    fn raw(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }
    /// Escaped text.
    fn text(&mut self, s: &str) -> &mut Self {
        escape_into(&mut self.out, s);
        self
    }
    /// Escaped text, cut to `max` characters (with a note of how much was cut).
    fn text_clip(&mut self, s: &str, max: usize) -> &mut Self {
        let n = s.chars().count();
        if n <= max {
            return self.text(s);
        }
        let cut: String = s.chars().take(max).collect();
        self.text(&cut);
        let _ = write!(
            self.out,
            "<span class=\"muted\"> [+{} chars]</span>",
            n - max
        );
        self
    }
    /// `<tag attr="value"...>` with escaped values; names are this module's literals.
    fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('>');
        self
    }
    fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }
    /// `<tag attrs>text</tag>`.
    fn elem(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }
    fn td(&mut self, text: &str) -> &mut Self {
        self.elem("td", &[], text)
    }
    fn td_class(&mut self, class: &str, text: &str) -> &mut Self {
        self.elem("td", &[("class", class)], text)
    }
    fn num(&mut self, n: impl std::fmt::Display) -> &mut Self {
        self.elem("td", &[("class", "num")], &n.to_string())
    }
    fn level(&mut self, l: Level) -> &mut Self {
        let class = format!("lvl lvl-{}", l.as_str());
        self.elem("span", &[("class", &class)], l.as_str())
    }
    fn th_row(&mut self, heads: &[&str]) -> &mut Self {
        self.raw("<thead><tr>");
        for h in heads {
            self.elem("th", &[], h);
        }
        self.raw("</tr></thead>")
    }
}

// ---------------------------------------------------------------------------------------------
// The page.

/// The Content-Security-Policy of the page: nothing may load; only the page's own script and
/// style (by hash) run; images only as inline data.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        base64(&sha256(SCRIPT.as_bytes())),
        base64(&sha256(STYLE.as_bytes()))
    )
}

/// Render the report.
pub fn render(
    findings: &Digest,
    incidents: &IncidentReport,
    iocs: &Indicators,
    info: &RunInfo,
    limits: &Limits,
) -> String {
    let mut h = Html::new();
    let known = matrix::tactics();
    let org = info.org_name();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    // The policy is this module's own text (base64 and quotes, no `"`), written as is.
    h.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"")
        .raw(&content_security_policy())
        .raw("\">");
    h.raw("\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.raw("<meta name=\"referrer\" content=\"no-referrer\">\n");
    h.elem("title", &[], &format!("{org}: dragnet threat-hunt report"));
    h.raw("\n<style>")
        .raw(STYLE)
        .raw("</style>\n</head>\n<body>\n");

    // Header.
    h.raw("<header class=\"top\"><h1>");
    h.text(&format!("Threat-hunt report: {org}"));
    h.raw("</h1><div class=\"sub\">");
    h.text(&format!(
        "Generated {} by {}",
        info.generated,
        if info.tool.is_empty() {
            "dragnet"
        } else {
            &info.tool
        }
    ));
    h.raw("</div></header>\n");

    // Navigation and filters.
    h.raw("<nav class=\"toc\"><a href=\"#overview\">Overview</a><a href=\"#incidents\">Incidents</a>\
           <a href=\"#graph\">Lateral movement</a><a href=\"#matrix\">ATT&amp;CK matrix</a>\
           <a href=\"#timelines\">Timelines</a><a href=\"#rules\">Rules</a><a href=\"#iocs\">Indicators</a>\
           <span class=\"controls\"><input type=\"search\" id=\"q\" placeholder=\"Filter rows (text)\" aria-label=\"Filter rows\">\
           <select id=\"level\" aria-label=\"Minimum level\"><option value=\"informational\">all levels</option>\
           <option value=\"low\">low and up</option><option value=\"medium\">medium and up</option>\
           <option value=\"high\">high and up</option><option value=\"critical\">critical</option></select>\
           <button type=\"button\" id=\"clear\">Clear</button><span id=\"shown\" class=\"muted\"></span></span></nav>\n");
    h.raw("<main>\n");

    overview(&mut h, findings, incidents, info);
    incidents_section(&mut h, incidents, &known, iocs);
    graph_section(&mut h, incidents, limits);
    matrix_section(&mut h, findings, &known);
    timelines(&mut h, findings, limits);
    rules_section(&mut h, findings);
    iocs_section(&mut h, iocs, limits);

    h.raw("</main>\n<footer>");
    h.text(&format!(
        "{org}: generated {} by {}. Rules are shown with their authors. SigmaHQ rules are used under the {DRL_NOTE}. \
         Attribution candidates come from ATT&CK technique overlap, which is not proof.",
        info.generated,
        if info.tool.is_empty() { "dragnet" } else { &info.tool }
    ));
    h.raw("</footer>\n<script data-dragnet=\"1\">")
        .raw(SCRIPT)
        .raw("</script>\n</body></html>\n");
    h.out
}

/// Render and write the report.
pub fn write<W: std::io::Write>(
    mut w: W,
    findings: &Digest,
    incidents: &IncidentReport,
    iocs: &Indicators,
    info: &RunInfo,
) -> std::io::Result<()> {
    let page = render(findings, incidents, iocs, info, &Limits::default());
    w.write_all(page.as_bytes())?;
    w.flush()
}

fn human_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

fn card(h: &mut Html, n: &str, label: &str) {
    h.raw("<div class=\"card\"><div class=\"n\">");
    h.text(n);
    h.raw("</div><div class=\"l\">");
    h.text(label);
    h.raw("</div></div>");
}

fn overview(h: &mut Html, findings: &Digest, incidents: &IncidentReport, info: &RunInfo) {
    h.raw("<section id=\"overview\"><h2>Overview</h2>\n<div class=\"cards\">");
    card(h, &info.files.to_string(), "files read");
    card(h, &info.records.to_string(), "records");
    card(h, &human_bytes(info.bytes), "evidence read");
    card(h, &info.errors.to_string(), "read errors");
    if info.skipped > 0 {
        card(h, &info.skipped.to_string(), "files skipped");
    }
    if let Some(r) = info.rules {
        card(h, &r.to_string(), "rules loaded");
    }
    card(h, &findings.count().to_string(), "findings");
    card(h, &incidents.incidents.len().to_string(), "incidents");
    h.raw("</div>\n");
    let span = info.span_or(findings.span());
    h.raw("<p>");
    match span {
        Some((a, b)) => h.text(&format!("Time span: {a} to {b}.")),
        None => h.text("Time span: unknown (no timed findings)."),
    };
    if let Some(s) = info.elapsed_secs {
        h.text(&format!(" Hunt took {s:.1} s."));
    }
    if !info.inputs.is_empty() {
        h.text(" Evidence: ");
        h.text_clip(&info.inputs.join(", "), 600);
        h.text(".");
    }
    h.raw("</p>\n<h3>Findings by level</h3><div class=\"cards\">");
    let by_level: BTreeMap<Level, u64> = Level::ALL
        .iter()
        .map(|l| (*l, findings.count_at(*l)))
        .collect();
    for (l, n) in by_level.iter().rev() {
        h.raw("<div class=\"card\"><div class=\"n\">");
        h.text(&n.to_string());
        h.raw("</div><div class=\"l\">");
        h.level(*l);
        h.raw("</div></div>");
    }
    h.raw("</div>\n<h3>Findings over time</h3>\n");
    histogram(h, findings, span);
    h.raw("</section>\n");
}

fn level_colour(l: Level) -> &'static str {
    match l {
        Level::Informational => "#8a939c",
        Level::Low => "#2e7d32",
        Level::Medium => "#ef6c00",
        Level::High => "#c62828",
        Level::Critical => "#6a1b9a",
    }
}

/// Stacked bars of findings per time bin, by level.
fn histogram(h: &mut Html, findings: &Digest, span: Option<(Timestamp, Timestamp)>) {
    const BINS: usize = 60;
    const W: f64 = 960.0;
    const H: f64 = 180.0;
    const PAD: f64 = 30.0;
    let Some((a, b)) = span else {
        h.raw("<p class=\"muted\">No findings to draw.</p>");
        return;
    };
    let width_ns = ((b.nanos() - a.nanos()).max(1) as f64) / BINS as f64;
    let bins = findings.histogram((a, b), BINS);
    let max = bins
        .iter()
        .map(|b| b.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let _ = write!(
        h.out,
        "<svg id=\"histogram\" viewBox=\"0 0 {W} {}\" width=\"{W}\" height=\"{}\" role=\"img\" aria-label=\"findings over time\">",
        H + PAD,
        H + PAD
    );
    let bw = (W - 2.0 * PAD) / BINS as f64;
    for (i, bin) in bins.iter().enumerate() {
        let mut y = H;
        let x = PAD + i as f64 * bw;
        for l in Level::ALL {
            let n = bin[l as usize];
            if n == 0 {
                continue;
            }
            let hgt = (n as f64 / max as f64) * (H - 10.0);
            y -= hgt;
            let _ = write!(
                h.out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"{}\"><title>",
                (bw - 1.0).max(1.0),
                level_colour(l)
            );
            let t0 = Timestamp::from_nanos(a.nanos() + (i as f64 * width_ns) as i64);
            h.text(&format!("{t0}: {n} {l}"));
            h.raw("</title></rect>");
        }
    }
    let _ = write!(
        h.out,
        "<line x1=\"{PAD}\" y1=\"{H}\" x2=\"{}\" y2=\"{H}\" stroke=\"#555\"/>",
        W - PAD
    );
    let _ = write!(
        h.out,
        "<text x=\"{PAD}\" y=\"{}\" font-size=\"11\">",
        H + 16.0
    );
    h.text(&a.to_string());
    let _ = write!(
        h.out,
        "</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">",
        W - PAD,
        H + 16.0
    );
    h.text(&b.to_string());
    let _ = write!(h.out, "</text><text x=\"2\" y=\"12\" font-size=\"11\">");
    h.text(&format!("max {max}/bin"));
    h.raw("</text></svg>\n");
}

fn technique_links(h: &mut Html, ids: &[String]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            h.raw(", ");
        }
        if valid_technique(id) {
            let url = matrix::technique_url(id);
            h.open("a", &[("href", &url), ("rel", "noreferrer")]);
            h.text(&matrix::technique_label(id));
            h.close("a");
        } else {
            h.text(id);
        }
    }
}

fn valid_technique(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= 5
        && b[0] == b'T'
        && b[1..5].iter().all(u8::is_ascii_digit)
        && (b.len() == 5 || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)))
}

fn incidents_section(
    h: &mut Html,
    report: &IncidentReport,
    known: &[TacticInfo],
    iocs: &Indicators,
) {
    h.raw("<section id=\"incidents\"><h2>Incidents</h2>\n");
    if report.incidents.is_empty() {
        h.raw("<p class=\"muted\">No incidents: findings were not stitched into incidents for this run.</p>");
    } else {
        h.raw("<p>");
        h.text(&format!(
            "{} incident(s); {} finding(s) went into no incident.",
            report.incidents.len(),
            report.unassigned_findings
        ));
        h.raw("</p>");
    }
    let private_ip = |ip: &str| {
        iocs.items
            .iter()
            .any(|i| i.value == ip && i.private && matches!(i.kind, IocKind::Ipv4 | IocKind::Ipv6))
    };
    for inc in report.incidents.iter().take(200) {
        h.raw("<article class=\"incident\"><h3>");
        h.text(&format!("{}: ", inc.id)).text_clip(&inc.title, 300);
        h.raw(" ").level(inc.level);
        h.raw("</h3><p class=\"muted\">");
        h.text(&format!(
            "Score {:.0}/100, {} finding(s), {} to {}",
            inc.score, inc.findings, inc.first, inc.last
        ));
        h.raw("</p>\n<div class=\"killchain\" aria-label=\"kill chain\">");
        let seen: BTreeSet<&str> = inc
            .tactics
            .iter()
            .map(String::as_str)
            .chain(inc.steps.iter().map(|s| s.tactic.as_str()))
            .collect();
        for t in known {
            let class = if seen.contains(t.shortname.as_str()) {
                "on"
            } else {
                "off"
            };
            h.elem("span", &[("class", class), ("title", &t.id)], &t.name);
        }
        h.raw("</div>\n<p>");
        h.text_clip(&inc.narrative, 4000);
        h.raw("</p>\n<h4>Steps</h4><table class=\"filterable steps\">");
        h.th_row(&[
            "tactic",
            "time",
            "techniques",
            "hosts",
            "accounts",
            "what",
            "rules (author)",
            "count",
            "evidence",
        ]);
        h.raw("<tbody>");
        for s in inc.steps.iter().take(500) {
            h.open("tr", &[("data-level", s.level.as_str())]);
            h.td(&s.tactic);
            h.td(&format!("{} to {}", s.time, s.last));
            h.raw("<td>");
            technique_links(h, &s.attack);
            h.raw("</td>");
            h.td_class("wrap", &s.hosts.join(", "));
            h.td_class("wrap", &s.accounts.join(", "));
            h.raw("<td class=\"wrap\">")
                .text_clip(&s.summary, 600)
                .raw("</td>");
            h.raw("<td>");
            for (i, r) in s.rules.iter().take(20).enumerate() {
                if i > 0 {
                    h.raw("<br>");
                }
                h.text(&format!("{} ({}) ×{} ", r.title, r.author, r.count))
                    .level(r.level);
            }
            h.raw("</td>");
            h.num(s.count);
            h.raw("<td class=\"wrap mono\">");
            for (i, p) in s.evidence.iter().take(5).enumerate() {
                if i > 0 {
                    h.raw("<br>");
                }
                h.text(&format!("{}#{} ({})", p.path, p.record, p.format));
            }
            if s.evidence.len() > 5 {
                h.text(&format!(" (+{} more)", s.evidence.len() - 5));
            }
            h.raw("</td></tr>");
        }
        h.raw("</tbody></table>\n");

        // Entities.
        let e = &inc.entities;
        h.raw("<h4>Entities</h4><ul>");
        let hosts: Vec<String> = e
            .hosts
            .iter()
            .map(|x| {
                let mut s = x.name.clone();
                if !x.ips.is_empty() {
                    s.push_str(&format!(" ({})", x.ips.join(", ")));
                }
                s
            })
            .collect();
        let list = |h: &mut Html, label: &str, items: &[String]| {
            if items.is_empty() {
                return;
            }
            h.raw("<li><b>");
            h.text(label);
            h.raw(":</b> ");
            h.text_clip(&items.join(", "), 3000);
            h.raw("</li>");
        };
        list(h, "hosts", &hosts);
        list(h, "accounts", &e.accounts);
        let ips: Vec<String> = e
            .ips
            .iter()
            .map(|ip| {
                let kind = if ip.contains(':') {
                    IocKind::Ipv6
                } else {
                    IocKind::Ipv4
                };
                let d = crate::indicators::defang(kind, ip);
                if private_ip(ip) {
                    format!("{d} (private)")
                } else {
                    d
                }
            })
            .collect();
        list(h, "IP addresses", &ips);
        let doms: Vec<String> = e
            .domains
            .iter()
            .map(|d| crate::indicators::defang(IocKind::Domain, d))
            .collect();
        list(h, "domains", &doms);
        let mails: Vec<String> = e
            .mailboxes
            .iter()
            .map(|d| crate::indicators::defang(IocKind::Email, d))
            .collect();
        list(h, "mailboxes", &mails);
        h.raw("</ul>\n");

        attribution(h, inc);
        h.raw("</article>\n");
    }
    if report.incidents.len() > 200 {
        h.raw("<p class=\"note\">");
        h.text(&format!(
            "{} more incidents not shown.",
            report.incidents.len() - 200
        ));
        h.raw("</p>");
    }
    h.raw("</section>\n");
}

fn attribution(h: &mut Html, inc: &Incident) {
    h.raw("<h4>Attribution candidates</h4>");
    h.raw("<p class=\"note\">Technique overlap is not proof: many actors share techniques, tooling is \
           sold and copied, and the evidence holds only what was logged. Treat these as leads to \
           test, not as attribution.</p>");
    h.raw(&format!(
        "<p class=\"note\">Scores below {:.2} are marked weak: a handful of common techniques reaches \
         them by chance.</p>",
        dragnet_attack::CONFIDENCE_THRESHOLD
    ));
    if inc.attribution.is_empty() {
        h.raw("<p class=\"muted\">No candidate.</p>");
        return;
    }
    h.raw("<table class=\"attribution\">");
    h.th_row(&[
        "candidate",
        "id",
        "source",
        "overlap",
        "matched techniques",
        "matched at parent level",
        "observed, not known for it",
    ]);
    h.raw("<tbody>");
    for c in inc.attribution.iter().take(20) {
        h.raw("<tr>");
        let mut name = c.name.clone();
        if !c.aliases.is_empty() {
            name.push_str(&format!(
                " (aka {})",
                c.aliases
                    .iter()
                    .take(8)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        h.td(&name).td(&c.id).td(&c.source);
        let weak = if c.score < dragnet_attack::CONFIDENCE_THRESHOLD {
            " (weak)"
        } else {
            ""
        };
        h.num(format!("{:.2}{weak}", c.score));
        h.raw("<td>");
        technique_links(h, &c.matched);
        h.raw("</td><td>");
        technique_links(h, &c.partial);
        h.raw("</td><td>");
        technique_links(h, &c.unmatched);
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table>\n");
}

/// The lateral-movement graph: hosts on a circle (sorted by name), one arrow per host pair and
/// direction, labelled with the methods and accounts; edges not seen before drawn in red.
fn graph_section(h: &mut Html, report: &IncidentReport, limits: &Limits) {
    h.raw("<section id=\"graph\"><h2>Lateral movement</h2>\n");
    let mut edges: Vec<&Edge> = report.edges.iter().collect();
    for inc in &report.incidents {
        for e in &inc.edges {
            if !edges.iter().any(|x| same_edge(x, e)) && edges.len() < 100_000 {
                edges.push(e);
            }
        }
    }
    if edges.is_empty() {
        h.raw("<p class=\"muted\">No lateral movement seen.</p></section>\n");
        return;
    }
    // Pairs (source, target) -> edges.
    let mut pairs: BTreeMap<(String, String), Vec<&Edge>> = BTreeMap::new();
    for e in &edges {
        pairs
            .entry((e.source.clone(), e.target.clone()))
            .or_default()
            .push(e);
    }
    let mut degree: HashMap<&str, u64> = HashMap::new();
    for ((s, t), es) in &pairs {
        let n: u64 = es.iter().map(|e| e.count.max(1)).sum();
        *degree.entry(s).or_default() += n;
        *degree.entry(t).or_default() += n;
    }
    let mut nodes: Vec<&str> = degree.keys().copied().collect();
    nodes.sort_by(|a, b| degree[b].cmp(&degree[a]).then(a.cmp(b)));
    let dropped_nodes = nodes.len().saturating_sub(limits.graph_nodes);
    nodes.truncate(limits.graph_nodes);
    nodes.sort();
    let pos_of: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let drawn: Vec<(&(String, String), &Vec<&Edge>)> = pairs
        .iter()
        .filter(|((s, t), _)| pos_of.contains_key(s.as_str()) && pos_of.contains_key(t.as_str()))
        .take(limits.graph_edges)
        .collect();
    let n = nodes.len().max(1);
    let (w, hgt) = (960.0f64, 640.0f64);
    let (cx, cy) = (w / 2.0, hgt / 2.0);
    let r = if n <= 2 { 160.0 } else { 250.0 };
    let xy = |i: usize| {
        let a = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
        (cx + r * a.cos(), cy + r * a.sin())
    };
    let _ = write!(
        h.out,
        "<svg id=\"lateral-graph\" viewBox=\"0 0 {w} {hgt}\" width=\"{w}\" height=\"{hgt}\" role=\"img\" aria-label=\"lateral movement graph\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#607d8b\"/></marker>\
         <marker id=\"arrow-new\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#d32f2f\"/></marker></defs>"
    );
    const NODE_R: f64 = 16.0;
    for ((s, t), es) in &drawn {
        let (x1, y1) = xy(pos_of[s.as_str()]);
        let (x2, y2) = xy(pos_of[t.as_str()]);
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Offset each direction of a pair to its own side.
        let (ox, oy) = (-uy * 5.0, ux * 5.0);
        let (sx, sy) = (x1 + ux * NODE_R + ox, y1 + uy * NODE_R + oy);
        let (ex, ey) = (x2 - ux * (NODE_R + 2.0) + ox, y2 - uy * (NODE_R + 2.0) + oy);
        let new = es.iter().any(|e| e.new);
        let class = if new { "edge new" } else { "edge" };
        let marker = if new { "arrow-new" } else { "arrow" };
        let _ = write!(
            h.out,
            "<line class=\"{class}\" x1=\"{sx:.1}\" y1=\"{sy:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" marker-end=\"url(#{marker})\"><title>"
        );
        h.text(&format!("{s} -> {t}"));
        h.raw("</title></line>");
        let (lx, ly) = (
            sx + (ex - sx) * 0.4 + ox * 2.0,
            sy + (ey - sy) * 0.4 + oy * 2.0,
        );
        let label_class = if new { "edge-label new" } else { "edge-label" };
        let _ = write!(
            h.out,
            "<text class=\"{label_class}\" x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">"
        );
        let mut labels: Vec<String> = es
            .iter()
            .map(|e| {
                format!(
                    "{} {} ×{}{}",
                    clip(&e.method, 20),
                    clip(&e.account, 30),
                    e.count,
                    if e.new { " NEW" } else { "" }
                )
            })
            .collect();
        labels.sort();
        labels.dedup();
        // One line on the drawing (the edge table below has them all).
        let more = labels.len().saturating_sub(1);
        labels.truncate(1);
        for (i, l) in labels.iter().enumerate() {
            let _ = write!(
                h.out,
                "<tspan x=\"{lx:.1}\" dy=\"{}\">",
                if i == 0 { "0" } else { "1.1em" }
            );
            h.text(l);
            h.raw("</tspan>");
        }
        if more > 0 {
            let _ = write!(h.out, "<tspan> +{more}</tspan>");
        }
        h.raw("</text>");
    }
    for (i, name) in nodes.iter().enumerate() {
        let (x, y) = xy(i);
        let _ = write!(h.out, "<g class=\"node\"><circle class=\"graph-node\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{NODE_R}\"><title>");
        h.text(name);
        h.raw("</title></circle>");
        let ly = if y >= cy {
            y + NODE_R + 14.0
        } else {
            y - NODE_R - 6.0
        };
        let _ = write!(h.out, "<text x=\"{x:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\">");
        h.text(&clip(name, 28));
        h.raw("</text></g>");
    }
    h.raw("</svg>\n");
    if dropped_nodes > 0 || drawn.len() < pairs.len() {
        h.raw("<p class=\"note\">");
        h.text(&format!(
            "Drawn: {} host(s) and {} host pair(s); left out of the drawing: {} host(s), {} pair(s) (all are in the table).",
            nodes.len(),
            drawn.len(),
            dropped_nodes,
            pairs.len() - drawn.len()
        ));
        h.raw("</p>");
    }
    h.raw("<p class=\"muted\">Red arrows: connections not seen before in the evidence window.</p>");
    h.raw("<table class=\"filterable edges\">");
    h.th_row(&[
        "source", "target", "method", "account", "first", "last", "count", "new", "evidence",
    ]);
    h.raw("<tbody>");
    for e in edges.iter().take(5_000) {
        h.raw("<tr>");
        h.td(&e.source).td(&e.target).td(&e.method).td(&e.account);
        h.td(&e.first.to_string()).td(&e.last.to_string());
        h.num(e.count);
        h.td(if e.new { "new" } else { "" });
        h.raw("<td class=\"wrap mono\">");
        for (i, p) in e.evidence.iter().take(3).enumerate() {
            if i > 0 {
                h.raw("<br>");
            }
            h.text(&format!("{}#{}", p.path, p.record));
        }
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table></section>\n");
}

fn same_edge(a: &Edge, b: &Edge) -> bool {
    a.source == b.source && a.target == b.target && a.method == b.method && a.account == b.account
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

/// Heat class 1..=5 by count on a log scale up to the maximum.
fn heat(count: u64, max: u64) -> u8 {
    if count == 0 {
        return 0;
    }
    let f = ((count as f64).ln_1p() / (max.max(1) as f64).ln_1p()).clamp(0.0, 1.0);
    1 + (f * 4.0).round() as u8
}

fn matrix_section(h: &mut Html, findings: &Digest, known: &[TacticInfo]) {
    h.raw("<section id=\"matrix\"><h2>ATT&amp;CK matrix</h2>\n");
    let used = findings.techniques();
    if used.is_empty() {
        h.raw("<p class=\"muted\">No finding carries an ATT&amp;CK technique.</p></section>\n");
        return;
    }
    let max = used.iter().map(|u| u.count).max().unwrap_or(1);
    let mut columns: Vec<(String, String, Vec<&TechniqueUse>)> = known
        .iter()
        .map(|t| (t.shortname.clone(), t.name.clone(), Vec::new()))
        .collect();
    let mut unmapped: Vec<&TechniqueUse> = Vec::new();
    for u in &used {
        if u.tactics.is_empty() {
            unmapped.push(u);
        }
        for t in &u.tactics {
            if let Some(c) = columns.iter_mut().find(|c| &c.0 == t) {
                c.2.push(u);
            }
        }
    }
    if !unmapped.is_empty() {
        columns.push(("unmapped".into(), "No tactic known".into(), unmapped));
    }
    h.raw("<p class=\"muted\">");
    h.text(&format!(
        "{} technique(s) seen; colour by number of findings (log scale, darkest = {max}).",
        used.len()
    ));
    h.raw("</p><div class=\"matrix\"><table id=\"attack-matrix\"><thead><tr>");
    for (_, name, list) in &columns {
        h.open("th", &[]);
        h.text(name);
        h.raw("<br><span class=\"muted\">");
        h.text(&format!("{} seen", list.len()));
        h.raw("</span></th>");
    }
    h.raw("</tr></thead><tbody><tr>");
    for (_, _, list) in &mut columns {
        list.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
        h.raw("<td>");
        for u in list.iter() {
            let class = format!("tech heat-{}", heat(u.count, max));
            let title = format!(
                "{}: {} finding(s); hosts: {}; rules: {}",
                u.id,
                u.count,
                u.hosts.join(", "),
                u.rules
                    .iter()
                    .map(|(t, a)| format!("{t} ({a})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            h.open("span", &[("class", &class), ("title", &clip(&title, 1000))]);
            h.text(&matrix::technique_label(&u.id));
            h.text(&format!(" ({})", u.count));
            h.raw("</span>");
        }
        h.raw("</td>");
    }
    h.raw("</tr></tbody></table></div></section>\n");
}

/// Scalar details worth a column: the first few, command lines and images first.
fn details_summary(f: &Finding, max_chars: usize) -> String {
    const FIRST: [&str; 10] = [
        "CommandLine",
        "Image",
        "TargetFilename",
        "QueryName",
        "ServiceName",
        "TaskName",
        "ScriptBlockText",
        "explanation",
        "TargetImage",
        "PipeName",
    ];
    let mut parts: Vec<String> = Vec::new();
    let scalar = |v: &serde_json::Value| -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    for k in FIRST {
        if let Some(v) = f.details.get(k).and_then(scalar) {
            parts.push(format!("{k}={v}"));
        }
    }
    for (k, v) in &f.details {
        if parts.len() >= 6 {
            break;
        }
        if FIRST.contains(&k.as_str()) || k == "Channel" || k == "EventID" {
            continue;
        }
        if let Some(v) = scalar(v) {
            parts.push(format!("{k}={v}"));
        }
    }
    clip(&parts.join("; "), max_chars)
}

fn timelines(h: &mut Html, findings: &Digest, limits: &Limits) {
    h.raw("<section id=\"timelines\"><h2>Timelines by host</h2>\n");
    // The most severe, then earliest, findings within the row budget.
    let mut rows = findings.rows();
    rows.truncate(limits.timeline_rows);
    let left_out = findings.count() - rows.len() as u64;
    let mut by_host: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in rows {
        by_host.entry(f.host.as_str()).or_default().push(f);
    }
    if left_out > 0 {
        h.raw("<p class=\"note\">");
        h.text(&format!(
            "{left_out} finding(s) not shown: the page holds the {} most severe (then earliest); the full timeline is in the JSONL/CSV output.",
            limits.timeline_rows
        ));
        h.raw("</p>");
    }
    if by_host.is_empty() {
        h.raw("<p class=\"muted\">No findings.</p>");
    }
    let mut hosts: Vec<(&str, Vec<&Finding>)> = by_host.into_iter().collect();
    hosts.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    for (host, mut list) in hosts {
        list.sort_by(|a, b| a.timeline_cmp(b));
        h.raw("<details open><summary>");
        h.text(if host.is_empty() { "(no host)" } else { host });
        h.text(&format!(" ({} finding(s))", list.len()));
        h.raw("</summary><table class=\"filterable timeline\">");
        h.th_row(&["time", "level", "rule", "techniques", "details", "source"]);
        h.raw("<tbody>");
        for f in list {
            h.open("tr", &[("data-level", f.level.as_str())]);
            h.td(&f.time.to_string());
            h.raw("<td>").level(f.level).raw("</td>");
            h.td(&f.rule.title);
            h.raw("<td>");
            technique_links(h, &f.attack);
            h.raw("</td>");
            h.td_class("wrap mono", &details_summary(f, limits.value_chars));
            h.td_class(
                "wrap mono",
                &format!("{}#{}", f.source.path, f.source.record),
            );
            h.raw("</tr>");
        }
        h.raw("</tbody></table></details>\n");
    }
    h.raw("</section>\n");
}

fn rules_section(h: &mut Html, findings: &Digest) {
    h.raw("<section id=\"rules\"><h2>Rules that fired</h2>\n");
    let mut list: Vec<&RuleCount> = findings.rules().collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.title.cmp(&b.rule.title)));
    if list.iter().any(|r| is_sigmahq_rule(&r.rule)) {
        h.raw("<p class=\"note\">");
        h.text(&format!(
            "SigmaHQ rules are used under the {DRL_NOTE}; their authors are named below."
        ));
        h.raw("</p>");
    }
    h.raw("<table class=\"filterable rules\">");
    h.th_row(&[
        "title",
        "id",
        "level",
        "findings",
        "author",
        "techniques",
        "source",
        "license",
    ]);
    h.raw("<tbody>");
    for r in &list {
        h.open("tr", &[("data-level", r.max.as_str())]);
        h.td(&r.rule.title).td_class("mono", &r.rule.id);
        h.raw("<td>").level(r.max).raw("</td>");
        h.num(r.count);
        h.td(&r.rule.author);
        h.raw("<td>");
        technique_links(h, &r.rule.attack());
        h.raw("</td>");
        h.td_class("wrap mono", &r.rule.source);
        h.td(if is_sigmahq_rule(&r.rule) {
            "DRL 1.1"
        } else {
            ""
        });
        h.raw("</tr>");
    }
    h.raw("</tbody></table></section>\n");
}

fn iocs_section(h: &mut Html, iocs: &Indicators, limits: &Limits) {
    h.raw("<section id=\"iocs\"><h2>Indicators</h2>\n<p class=\"muted\">Values are defanged \
           (<code>hxxps://evil[.]com</code>, <code>1.2.3[.]4</code>); the raw values are in the CSV and STIX outputs. \
           Private addresses are kept and marked.</p>");
    if iocs.items.is_empty() {
        h.raw("<p class=\"muted\">No indicators extracted.</p></section>\n");
        return;
    }
    let shown = iocs.items.len().min(limits.indicator_rows);
    let left_out = iocs.items.len() - shown + iocs.omitted as usize;
    if left_out > 0 {
        h.raw("<p class=\"note\">");
        h.text(&format!(
            "{left_out} indicator(s) not shown (see the CSV output)."
        ));
        h.raw("</p>");
    }
    h.raw("<table class=\"filterable indicators\">");
    h.th_row(&[
        "kind",
        "value (defanged)",
        "scope",
        "findings",
        "first seen",
        "last seen",
        "hosts",
        "rules",
    ]);
    h.raw("<tbody>");
    for i in iocs.items.iter().take(shown) {
        h.raw("<tr>");
        h.td(i.kind.as_str());
        h.raw("<td class=\"wrap mono\">")
            .text_clip(&i.defanged(), limits.value_chars)
            .raw("</td>");
        h.td(match i.kind {
            IocKind::Ipv4 | IocKind::Ipv6 if i.private => "private",
            IocKind::Ipv4 | IocKind::Ipv6 => "public",
            _ => "",
        });
        h.num(i.count);
        h.td(&i.first.to_string()).td(&i.last.to_string());
        h.td_class("wrap", &i.hosts.join(", "));
        h.td_class("wrap", &i.rules.join("; "));
        h.raw("</tr>");
    }
    h.raw("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, RuleMeta, SourceFormat};
    use dragnet_incident::{Entities, HostEntity, Step, StepRule};
    use std::sync::Arc;

    const HOSTILE: [&str; 5] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "x' onmouseover='alert(1)",
        "evil\u{202E}txt.exe",
    ];

    #[test]
    fn escaping_covers_markup_quotes_and_bidi() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(escape("a&b 'c'"), "a&amp;b &#39;c&#39;");
        assert_eq!(escape("evil\u{202E}txt.exe"), "evil&lt;U+202E&gt;txt.exe");
        assert_eq!(escape("\u{2066}x\u{2069}"), "&lt;U+2066&gt;x&lt;U+2069&gt;");
        assert_eq!(escape("a\u{0}b\u{1b}"), "a&lt;U+0000&gt;b&lt;U+001B&gt;");
        assert_eq!(escape("line\nnext"), "line\nnext");
    }

    pub(crate) fn hostile_findings() -> (Vec<Finding>, IncidentReport) {
        let rule = Arc::new(RuleMeta {
            id: "<script>alert(1)</script>".into(),
            title: "Suspicious \"><img src=x onerror=alert(1)>".into(),
            author: "<b>author</b>".into(),
            tags: vec!["attack.execution".into(), "attack.t1059.001".into()],
            source: "javascript:alert(1)".into(),
            ..Default::default()
        });
        let mut fs = Vec::new();
        for (i, s) in HOSTILE.iter().enumerate() {
            let mut f = Finding::new(
                rule.clone(),
                Level::High,
                Timestamp::parse("2024-05-01T10:00:00Z").unwrap(),
                s,
                Provenance {
                    path: format!("{s}.evtx").into(),
                    record: i as u64,
                    format: SourceFormat::Evtx,
                },
            );
            f.details.insert(
                "CommandLine".into(),
                serde_json::json!(format!("cmd /c {s} https://evil.example.com/{s}")),
            );
            f.details.insert("Subject".into(), serde_json::json!(s));
            fs.push(f);
        }
        let inc = Incident {
            id: "INC-0001".into(),
            score: 90.0,
            level: Level::High,
            title: HOSTILE[0].into(),
            narrative: HOSTILE[1].into(),
            first: fs[0].time,
            last: fs[0].time,
            tactics: vec!["execution".into()],
            attack: vec!["T1059.001".into()],
            steps: vec![Step {
                tactic: "execution".into(),
                attack: vec!["T1059.001".into(), "<img src=x>".into()],
                time: fs[0].time,
                last: fs[0].time,
                hosts: HOSTILE.iter().map(|s| s.to_string()).collect(),
                accounts: vec![HOSTILE[3].into()],
                level: Level::High,
                rules: vec![StepRule {
                    id: "r".into(),
                    title: HOSTILE[0].into(),
                    author: HOSTILE[1].into(),
                    level: Level::High,
                    count: 5,
                }],
                count: 5,
                evidence: vec![fs[0].source.clone()],
                summary: HOSTILE[4].into(),
            }],
            entities: Entities {
                hosts: vec![HostEntity {
                    name: HOSTILE[1].into(),
                    aliases: vec![],
                    ips: vec!["10.0.0.1".into()],
                }],
                accounts: vec![HOSTILE[0].into()],
                ips: vec!["10.0.0.1".into()],
                domains: vec!["evil.example.com".into()],
                mailboxes: vec![format!("{}@evil.example.com", "a")],
            },
            edges: vec![Edge {
                source: HOSTILE[0].into(),
                target: HOSTILE[1].into(),
                account: HOSTILE[2].into(),
                method: HOSTILE[4].into(),
                first: fs[0].time,
                last: fs[0].time,
                count: 2,
                new: true,
                evidence: vec![],
            }],
            attribution: vec![dragnet_attack::Candidate {
                name: HOSTILE[0].into(),
                id: HOSTILE[1].into(),
                aliases: vec![HOSTILE[2].into()],
                source: "profile".into(),
                score: 0.5,
                matched: vec!["T1059.001".into()],
                partial: vec![],
                unmatched: vec![HOSTILE[1].into()],
            }],
            findings: 5,
        };
        (
            fs,
            IncidentReport {
                incidents: vec![inc],
                edges: vec![],
                unassigned_findings: 0,
            },
        )
    }

    #[test]
    fn hostile_evidence_renders_as_text() {
        let (fs, report) = hostile_findings();
        let iocs = crate::indicators::extract(&fs, &report);
        let page = render(
            &Digest::of(&fs, 5000),
            &report,
            &iocs,
            &RunInfo::default(),
            &Limits::default(),
        );
        // The only script element is ours, and no evidence produced a tag or attribute.
        assert_eq!(page.matches("<script").count(), 1, "one script element");
        assert!(page.contains("<script data-dragnet=\"1\">"));
        assert!(!page.contains("<img"), "no injected img");
        assert!(!page.contains("onerror=alert(1)>"));
        assert!(!page.contains("<b>author"));
        assert!(!page.contains("href=\"javascript:"));
        assert!(!page.contains('\u{202E}'));
        assert!(page.contains("evil&lt;U+202E&gt;txt.exe"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            page.contains("hxxps://evil[.]com") || page.contains("hxxps://evil[.]example[.]com")
        );
        // Every link goes to ATT&CK or to an anchor in the page.
        for (i, _) in page.match_indices("href=\"") {
            let rest = &page[i + 6..];
            assert!(
                rest.starts_with('#') || rest.starts_with("https://attack.mitre.org/"),
                "link {}",
                &rest[..rest.len().min(60)]
            );
        }
    }

    #[test]
    fn csp_hashes_the_inline_script_and_style() {
        let (fs, report) = hostile_findings();
        let page = render(
            &Digest::of(&fs, 5000),
            &report,
            &Indicators::default(),
            &RunInfo::default(),
            &Limits::default(),
        );
        let start =
            page.find("<script data-dragnet=\"1\">").unwrap() + "<script data-dragnet=\"1\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let hash = base64(&sha256(&page.as_bytes()[start..end]));
        assert!(page.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(page.contains("default-src 'none'"));
        assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("insertAdjacentHTML"));
        assert!(!SCRIPT.contains("</script"));
    }

    #[test]
    fn timeline_rows_are_capped_and_the_rest_counted() {
        let (fs, report) = hostile_findings();
        let limits = Limits {
            timeline_rows: 2,
            ..Limits::default()
        };
        let page = render(
            &Digest::of(&fs, 5000),
            &report,
            &Indicators::default(),
            &RunInfo::default(),
            &limits,
        );
        assert!(page.contains("3 finding(s) not shown"));
    }
}
