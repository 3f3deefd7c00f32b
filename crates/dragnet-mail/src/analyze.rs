//! The checks: every message gets a score, the named signals behind it, and the indicators
//! it carries.

use crate::attach::{self, ArchiveLimits, FileInfo};
use crate::auth::{self, AuthResults, Trust};
use crate::domains::{
    abused_tld, brand_of_domain, brands_named, imitates, is_freemail, is_invisible, is_shortener,
    mixed_script_words, BRANDS,
};
use crate::filetype::{ext_class, extension, ExtClass};
use crate::html::{self, host_ip, parse_url, LinkSource};
use crate::message::{parse_address_list, Message};
use crate::mime::Limits;
use crate::signals::{category_cap, def, Category};
use crate::util::{clip, defang, host_within, is_public_ip, registrable_domain};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A content scanner run on every attachment and inner file (YARA): returns rule names.
pub type Scanner = Arc<dyn Fn(&[u8]) -> Vec<String> + Send + Sync>;

/// What the analysis needs to know about the receiving organisation, and its bounds.
#[derive(Clone)]
pub struct MailConfig {
    /// The organisation's own mail domains (for spoofing and look-alike checks). Empty: taken
    /// from each message's delivery address.
    pub org_domains: Vec<String>,
    /// Host domains of the organisation's mail servers, whose trace and authentication fields
    /// are trusted. Empty: inferred from the newest `Received` hops.
    pub trusted_hosts: Vec<String>,
    /// `authserv-id`s of the organisation's `Authentication-Results`. Empty: any id within
    /// the trusted hosts.
    pub authserv_ids: Vec<String>,
    /// Score from which a message is phishing.
    pub threshold: f64,
    /// Score from which a message is suspicious (reported as an event field, no finding).
    pub suspicious: f64,
    pub limits: Limits,
    pub archive_limits: ArchiveLimits,
    /// Optional content scanner (YARA).
    pub scanner: Option<Scanner>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            org_domains: Vec::new(),
            trusted_hosts: Vec::new(),
            authserv_ids: Vec::new(),
            threshold: 2.5,
            suspicious: 1.5,
            limits: Limits::default(),
            archive_limits: ArchiveLimits::default(),
            scanner: None,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("org_domains", &self.org_domains)
            .field("trusted_hosts", &self.trusted_hosts)
            .field("authserv_ids", &self.authserv_ids)
            .field("threshold", &self.threshold)
            .field("suspicious", &self.suspicious)
            .field("scanner", &self.scanner.is_some())
            .finish()
    }
}

/// One reason behind a verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signal {
    pub name: &'static str,
    pub category: Category,
    pub weight: f64,
    /// One sentence, for people.
    pub explanation: &'static str,
    /// The specifics (defanged).
    pub evidence: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Clean,
    Suspicious,
    Phishing,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Clean => "clean",
            Label::Suspicious => "suspicious",
            Label::Phishing => "phishing",
        }
    }
}

/// What a message carries that a responder may want to block or search for.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Indicators {
    pub from: String,
    pub reply_to: Vec<String>,
    pub return_path: String,
    pub sender_ip: String,
    pub sender_host: String,
    pub domains: Vec<String>,
    pub urls: Vec<String>,
    pub attachments: Vec<FileInfo>,
}

impl Indicators {
    /// The indicators as JSON, every address, domain, URL and IP defanged.
    pub fn defanged_json(&self) -> serde_json::Value {
        let d = |v: &[String]| v.iter().map(|s| defang(s)).collect::<Vec<_>>();
        serde_json::json!({
            "from": defang(&self.from),
            "reply_to": d(&self.reply_to),
            "return_path": defang(&self.return_path),
            "sender_ip": defang(&self.sender_ip),
            "sender_host": defang(&self.sender_host),
            "domains": d(&self.domains),
            "urls": d(&self.urls),
            "attachments": self.attachments.iter().map(|f| serde_json::json!({
                "name": f.name, "sha256": f.sha256, "size": f.size, "kind": f.kind, "depth": f.depth,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The outcome for one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub label: Label,
    pub score: f64,
    pub threshold: f64,
    /// Strongest first.
    pub signals: Vec<Signal>,
    pub indicators: Indicators,
    /// Trusted authentication results: method -> result.
    pub auth: BTreeMap<String, String>,
    /// `Authentication-Results` fields ignored as untrusted.
    pub untrusted_auth_fields: usize,
    /// Parser anomalies.
    pub anomalies: Vec<String>,
}

impl Verdict {
    pub fn has(&self, name: &str) -> bool {
        self.signals.iter().any(|s| s.name == name)
    }

    pub fn has_category(&self, c: Category) -> bool {
        self.signals.iter().any(|s| s.category == c)
    }

    /// The explanations, one sentence per signal, strongest first.
    pub fn explanation(&self) -> String {
        self.signals
            .iter()
            .map(|s| s.explanation)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

struct Collector {
    signals: Vec<Signal>,
}

impl Collector {
    fn add(&mut self, name: &'static str, evidence: impl Into<String>) {
        let Some(d) = def(name) else {
            debug_assert!(false, "unknown signal {name}");
            return;
        };
        let evidence = evidence.into();
        if let Some(s) = self.signals.iter_mut().find(|s| s.name == name) {
            if s.evidence.len() < 5 && !evidence.is_empty() && !s.evidence.contains(&evidence) {
                s.evidence.push(evidence);
            }
            return;
        }
        self.signals.push(Signal {
            name,
            category: d.category,
            weight: d.weight,
            explanation: d.explanation,
            evidence: if evidence.is_empty() {
                Vec::new()
            } else {
                vec![evidence]
            },
        });
    }
}

/// Analyse one message.
pub fn analyze(msg: &Message, cfg: &MailConfig) -> Verdict {
    let mut c = Collector {
        signals: Vec::new(),
    };
    let mut ind = Indicators::default();
    let headers = msg.headers();

    // --- where it came from, and what the receiving side vouches for
    let hops = auth::hops(headers);
    let trust = Trust {
        hosts: cfg
            .trusted_hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        authserv_ids: cfg
            .authserv_ids
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    let boundary = auth::boundary(headers, &hops, &trust);
    let ar = auth::trusted_results(headers, &boundary);
    if let Some(ip) = boundary.sender_ip {
        ind.sender_ip = ip.to_string();
    }
    ind.sender_host = boundary.sender_host.clone();

    let from_all = msg.from();
    let from = from_all.iter().find(|m| !m.address.is_empty()).cloned();
    let from_domain = from.as_ref().map(|m| m.domain()).unwrap_or_default();
    let from_reg = registrable_domain(&from_domain);
    let display = from.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    let subject = msg.subject();
    if let Some(f) = &from {
        ind.from = f.address.clone();
    }
    let list_mail = is_list_mail(msg);
    let recipients = msg.recipients();
    let (org_domains, org_known) = if cfg.org_domains.is_empty() {
        infer_org_domains(msg)
    } else {
        (
            cfg.org_domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            true,
        )
    };

    authentication(&mut c, &ar, &from_reg, list_mail);

    // --- sender
    if from.is_none()
        || from_all
            .iter()
            .any(|m| m.address.is_empty() || m.address.matches('@').count() > 1)
        || from_all.len() > 1
    {
        let raw = msg.header("From").unwrap_or("");
        c.add("malformed_from", clip(&crate::mime::decode_words(raw), 100));
    }
    if let Some(f) = &from {
        sender_checks(
            &mut c,
            msg,
            &mut ind,
            f,
            &from_reg,
            list_mail,
            &recipients,
            &ar,
        );
        if org_known
            && !list_mail
            && org_domains.iter().any(|d| host_within(&from_domain, d))
            && boundary.sender_ip.is_some_and(|ip| is_public_ip(&ip))
            && !matches!(ar.result("dmarc"), Some("pass"))
            && !matches!(ar.result("spf"), Some("pass"))
            && !recipients
                .iter()
                .any(|r| r.address.eq_ignore_ascii_case(&f.address))
        {
            c.add(
                "internal_domain_spoof",
                format!("{} from {}", defang(&f.address), defang(&ind.sender_ip)),
            );
        }
        domain_checks(&mut c, &from_domain, &org_domains, "sender");
    }
    name_checks(&mut c, &display, &from_domain, &subject);
    let subj_l = subject.trim_start().to_lowercase();
    let reply_like = [
        "re:", "re :", "fw:", "fwd:", "aw:", "wg:", "res:", "enc:", "tr:", "rv:", "sv:",
    ]
    .iter()
    .any(|p| subj_l.starts_with(p));
    if reply_like
        && !list_mail
        && msg.header("In-Reply-To").is_none()
        && msg.header("References").is_none()
    {
        c.add("fake_reply", clip(&subject, 80));
    }
    // Free platforms' mailers: DKIM signer or envelope domain.
    let platform = ar
        .results
        .iter()
        .filter(|x| x.method == "dkim")
        .filter_map(|x| x.prop("header.d"))
        .map(str::to_string)
        .chain(msg.header("Return-Path").map(|r| {
            r.trim()
                .trim_matches(['<', '>'])
                .rsplit('@')
                .next()
                .unwrap_or("")
                .to_string()
        }))
        .find(|d| FREE_PLATFORM_MAILERS.iter().any(|p| host_within(d, p)));
    if let Some(p) = platform {
        // The platform's own mail comes from its apex; a project's (`x.firebaseapp.com`) is
        // anyone's.
        if !FREE_PLATFORM_MAILERS
            .iter()
            .any(|x| from_domain.eq_ignore_ascii_case(x))
        {
            c.add("free_platform_sender", defang(&p));
        }
    }
    if let Some(hop) = boundary.hop.and_then(|i| hops.get(i)) {
        let helo = hop.from_host.as_str();
        if !helo.is_empty()
            && !helo.contains('.')
            && helo.parse::<std::net::IpAddr>().is_err()
            && !helo.starts_with("ipv6:")
        {
            c.add(
                "helo_not_fqdn",
                format!("the sending server called itself {helo:?}"),
            );
        }
    }
    if let Some(rp) = msg.header("Return-Path") {
        let local = rp
            .trim()
            .trim_matches(['<', '>'])
            .split('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if matches!(
            local.as_str(),
            "root"
                | "www-data"
                | "apache"
                | "nobody"
                | "nginx"
                | "httpd"
                | "www"
                | "wordpress"
                | "daemon"
                | "cpanel"
                | "admin@localhost"
        ) {
            c.add(
                "system_sender",
                format!("envelope sender {}", defang(rp.trim())),
            );
        }
    }

    // --- bodies and links
    let mut links: Vec<(String, String, LinkSource, bool)> = Vec::new();
    let mut text = String::new();
    for body in msg.text_bodies() {
        if text.len() < 200_000 {
            text.push_str(&body[..floor(&body, 100_000)]);
            text.push('\n');
        }
        for u in html::text_urls(&body, 200) {
            links.push((u, String::new(), LinkSource::Text, false));
        }
    }
    for body in msg.html_bodies() {
        let facts = html::analyze_html(&body);
        if text.len() < 200_000 {
            text.push_str(&facts.text[..floor(&facts.text, 100_000)]);
            text.push('\n');
        }
        if let Some(why) = attach::smuggling(&facts.scripts, &body) {
            c.add("html_smuggling", format!("message body: {why}"));
        }
        if facts.password_inputs > 0 {
            c.add("credential_form", "a password field in the message body");
        } else if facts.forms > 0 && facts.links.iter().any(|l| l.source == LinkSource::Form) {
            c.add("form_in_body", "");
        }
        if !facts.scripts.trim().is_empty()
            && (body.to_ascii_lowercase().contains("<script") || facts.scripts.contains('('))
        {
            c.add("script_in_body", "");
        }
        if facts.hidden_text_chars >= 300 {
            c.add(
                "hidden_text",
                format!("{} hidden characters", facts.hidden_text_chars),
            );
        }
        let words = facts
            .text
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .count();
        if words < 15
            && facts.remote_images > 0
            && facts.links.iter().any(|l| l.source == LinkSource::Anchor)
        {
            c.add("image_only", format!("{words} word(s) of text"));
        }
        for l in facts.links {
            links.push((l.url, l.text, l.source, l.download));
        }
    }

    // --- attachments
    let mut scan = attach::Scan::default();
    if let Some(s) = &cfg.scanner {
        let s = Arc::clone(s);
        scan.scanner = Some(Box::new(move |d: &[u8]| s(d)));
    }
    for part in msg.attachments() {
        if part.content_type.starts_with("multipart/") {
            continue;
        }
        let name = part
            .filename
            .clone()
            .unwrap_or_else(|| format!("(unnamed {})", part.content_type));
        scan.inspect(
            &name,
            &part.content_type,
            &part.data,
            0,
            part.truncated,
            &cfg.archive_limits,
        );
    }
    for h in &scan.hits {
        c.add(h.signal, h.evidence.clone());
    }
    for u in &scan.urls {
        links.push((u.clone(), String::new(), LinkSource::Auto, false));
    }
    if (scan.encrypted > 0 || scan.archives > 0) && mentions_password(&text) {
        c.add("password_in_body", "");
    }
    ind.attachments = scan.files.clone();

    link_checks(&mut c, &mut ind, &links, &org_domains);
    if !list_mail {
        let subj = subject.to_ascii_lowercase();
        let greeting = text[..floor(&text, 2_000)].to_ascii_lowercase();
        for r in &recipients {
            let a = r.address.to_ascii_lowercase();
            if a.len() > 3 && a.contains('@') && (subj.contains(&a) || greeting.contains(&a)) {
                c.add("recipient_in_subject", clip(&subject, 100));
                break;
            }
        }
    }
    lure_checks(&mut c, &subject, &text);

    if !list_mail && msg.header("List-Unsubscribe").is_none() && {
        let lower = text.to_lowercase();
        [
            "unsubscribe",
            "abmelden",
            "descadastrar",
            "desinscrever",
            "se désabonner",
            "désinscrire",
            "darse de baja",
            "afmelden",
            "uitschrijven",
        ]
        .iter()
        .any(|w| lower.contains(w))
    } {
        c.add("fake_unsubscribe", "");
    }
    if is_freemail(&from_domain)
        && c.signals.iter().any(|s| {
            matches!(
                s.name,
                "lure_money"
                    | "lure_credentials"
                    | "lure_reward"
                    | "display_name_brand"
                    | "display_name_role"
            )
        })
    {
        c.add("freemail_sender", defang(&ind.from));
    }
    if !list_mail && !from_reg.is_empty() {
        let anchors: Vec<String> = links
            .iter()
            .filter(|l| l.2 == LinkSource::Anchor)
            .filter_map(|l| parse_url(&l.0))
            .filter(|u| matches!(u.scheme.as_str(), "http" | "https"))
            .map(|u| u.host)
            .collect();
        if !anchors.is_empty()
            && anchors.iter().all(|h| {
                let r = registrable_domain(h);
                r != from_reg
                    && (is_shortener(h) || (!is_wrapper(h) && brand_of_domain(&r).is_none()))
            })
        {
            c.add("links_unrelated", defang(&anchors[0]));
        }
    }

    let anomalies = msg.parsed.anomalies.clone();
    if !anomalies.is_empty() {
        c.add("mime_anomaly", clip(&anomalies.join("; "), 200));
    }

    // --- score
    let mut signals = c.signals;
    signals.sort_by(|a, b| {
        b.weight
            .partial_cmp(&a.weight)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.name.cmp(b.name))
    });
    let mut per_cat: BTreeMap<u8, f64> = BTreeMap::new();
    let mut score = 0.0;
    for s in &signals {
        let slot = per_cat.entry(s.category as u8).or_insert(0.0);
        let room = (category_cap(s.category) - *slot).max(0.0);
        let add = s.weight.min(room);
        *slot += add;
        score += add;
    }
    let score = (score * 10.0).round() / 10.0;
    let label = if score >= cfg.threshold {
        Label::Phishing
    } else if score >= cfg.suspicious {
        Label::Suspicious
    } else {
        Label::Clean
    };
    // Indicators: domains of the sender side and of links.
    for d in [from_domain.clone()].into_iter().chain(
        ind.reply_to
            .iter()
            .filter_map(|r| r.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())),
    ) {
        if !d.is_empty() && !ind.domains.contains(&d) {
            ind.domains.push(d);
        }
    }
    for u in ind.urls.clone() {
        if let Some(p) = parse_url(&u) {
            if !p.host.is_empty() && !ind.domains.contains(&p.host) && ind.domains.len() < 60 {
                ind.domains.push(p.host);
            }
        }
    }
    Verdict {
        label,
        score,
        threshold: cfg.threshold,
        signals,
        indicators: ind,
        auth: ar.results.iter().fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.method.clone())
                .or_insert_with(|| r.result.clone());
            m
        }),
        untrusted_auth_fields: ar.untrusted_fields,
        anomalies,
    }
}

/// Mail re-sent by a mailing list (RFC 2919): a well-formed `List-Id` whose domain is also the
/// envelope sender's (lists bounce to themselves). A forged or malformed `List-Id` (a
/// `.local` id, no envelope match) does not make a message list mail.
pub fn is_list_mail(msg: &Message) -> bool {
    let Some(id) = msg.header("List-Id") else {
        return false;
    };
    let inner = match (id.rfind('<'), id.rfind('>')) {
        (Some(a), Some(b)) if a < b => &id[a + 1..b],
        _ => return false,
    };
    let inner = inner.trim().to_ascii_lowercase();
    if inner.starts_with('.')
        || !inner.contains('.')
        || [".local", ".localhost", ".invalid", ".localdomain"]
            .iter()
            .any(|s| inner.ends_with(s))
    {
        return false;
    }
    let list_reg = registrable_domain(&inner);
    let env = msg
        .header("Return-Path")
        .map(|r| {
            r.trim()
                .trim_matches(['<', '>'])
                .rsplit('@')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    let sender = msg
        .header("Sender")
        .and_then(|s| parse_address_list(s).into_iter().next())
        .map(|m| m.domain())
        .unwrap_or_default();
    [env, sender]
        .iter()
        .any(|d| !d.is_empty() && registrable_domain(d) == list_reg)
}

fn floor(s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The organisation's domains as the delivery shows them: the newest `Delivered-To` /
/// `X-Original-To` / `Envelope-To` (written by the final delivery; older ones may come from
/// a list server), else a single `To` (then only a guess: `false`).
fn infer_org_domains(msg: &Message) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(v) = msg.header(name) {
            for m in parse_address_list(v) {
                let d = registrable_domain(&m.domain());
                if !d.is_empty() && !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    if !out.is_empty() {
        out.truncate(4);
        return (out, true);
    }
    {
        let to: Vec<_> = msg
            .header("To")
            .map(parse_address_list)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| !m.address.is_empty())
            .collect();
        if to.len() == 1 {
            let d = registrable_domain(&to[0].domain());
            if d.contains('.') {
                out.push(d);
            }
        }
    }
    out.truncate(4);
    (out, false)
}

fn authentication(c: &mut Collector, ar: &AuthResults, from_reg: &str, list_mail: bool) {
    if ar.trusted_fields == 0 && ar.results.is_empty() {
        return;
    }
    let r = |m: &str| ar.result(m).unwrap_or("");
    let reg_of =
        |d: &str| registrable_domain(d.trim_start_matches('@').rsplit('@').next().unwrap_or(d));
    let passed = |m: &str| {
        ar.results
            .iter()
            .any(|x| x.method == m && (x.result == "pass" || x.result == "bestguesspass"))
    };
    // Mailing lists re-send messages and break DMARC for their posters: not a forgery there.
    if r("dmarc") == "fail" && !list_mail {
        let hf = ar
            .get("dmarc")
            .and_then(|d| d.prop("header.from"))
            .unwrap_or(from_reg);
        c.add("auth_dmarc_fail", format!("dmarc=fail for {}", defang(hf)));
    }
    if r("compauth") == "fail" && !list_mail {
        let reason = ar
            .get("compauth")
            .and_then(|d| d.prop("reason"))
            .unwrap_or("");
        c.add(
            "auth_compauth_fail",
            format!("compauth=fail reason={reason}"),
        );
    }
    let dkim_aligned = ar.results.iter().any(|x| {
        x.method == "dkim"
            && x.result == "pass"
            && x.prop("header.d")
                .or_else(|| x.prop("header.i"))
                .is_some_and(|d| reg_of(d) == from_reg)
    });
    let spf = ar.get("spf");
    let spf_from = spf
        .and_then(|x| x.prop("smtp.mailfrom"))
        .map(reg_of)
        .unwrap_or_default();
    let spf_aligned = !from_reg.is_empty() && spf_from == from_reg;
    match r("spf") {
        "fail" | "hardfail" if spf_aligned && !dkim_aligned => c.add(
            "auth_spf_fail_from",
            format!("spf=fail for {}", defang(from_reg)),
        ),
        "fail" | "hardfail" => c.add("auth_spf_fail", "spf=fail"),
        "softfail" => c.add("auth_spf_softfail", "spf=softfail"),
        _ => {}
    }
    if r("dkim") == "fail" && !passed("dkim") {
        c.add("auth_dkim_fail", "dkim=fail");
    }
    let any_pass =
        passed("spf") || passed("dkim") || passed("dmarc") || passed("compauth") || passed("arc");
    if !any_pass && !ar.results.is_empty() {
        c.add("auth_none", "");
    } else if !(from_reg.is_empty()
        || passed("dmarc")
        || dkim_aligned
        || (spf_aligned && passed("spf"))
        || list_mail)
    {
        c.add(
            "auth_unaligned",
            format!("From domain {}", defang(from_reg)),
        );
    }
    if !from_reg.is_empty() && !passed("dmarc") {
        let signers: Vec<String> = ar
            .results
            .iter()
            .filter(|x| x.method == "dkim" && x.result == "pass")
            .filter_map(|x| x.prop("header.d").or_else(|| x.prop("header.i")))
            .map(reg_of)
            .collect();
        if !signers.is_empty() && !signers.iter().any(|s| s == from_reg) {
            c.add(
                "auth_dkim_unaligned",
                format!("signed by {}", defang(&signers[0])),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sender_checks(
    c: &mut Collector,
    msg: &Message,
    ind: &mut Indicators,
    from: &crate::message::Mailbox,
    from_reg: &str,
    list_mail: bool,
    recipients: &[crate::message::Mailbox],
    ar: &AuthResults,
) {
    let dmarc_pass = matches!(ar.result("dmarc"), Some("pass"));
    // Reply-To
    let replies: Vec<_> = msg
        .header("Reply-To")
        .map(parse_address_list)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| !m.address.is_empty())
        .collect();
    let list_post = msg.header("List-Post").unwrap_or("").to_ascii_lowercase();
    for r in &replies {
        ind.reply_to.push(r.address.clone());
        let rd = r.domain();
        let rreg = registrable_domain(&rd);
        if rreg.is_empty() || rreg == from_reg {
            continue;
        }
        let to_participant = recipients
            .iter()
            .any(|p| p.address.eq_ignore_ascii_case(&r.address))
            || list_post.contains(&r.address.to_ascii_lowercase());
        if to_participant {
            continue;
        }
        if is_freemail(&rd) && !is_freemail(from_reg) {
            c.add(
                "reply_to_freemail",
                format!("replies go to {}", defang(&r.address)),
            );
        } else {
            c.add(
                "reply_to_mismatch",
                format!("replies go to {}", defang(&r.address)),
            );
        }
    }
    // Return-Path
    if let Some(rp) = msg.header("Return-Path") {
        let rp = parse_address_list(rp)
            .into_iter()
            .next()
            .unwrap_or_default();
        ind.return_path = rp.address.clone();
        let rreg = registrable_domain(&rp.domain());
        if !rreg.is_empty() && rreg != from_reg && !list_mail {
            c.add(
                "return_path_mismatch",
                format!("bounces go to {}", defang(&rp.address)),
            );
        }
    }
    // Sender
    if let Some(s) = msg.header("Sender") {
        if let Some(s) = parse_address_list(s)
            .into_iter()
            .find(|m| !m.address.is_empty())
        {
            let sreg = registrable_domain(&s.domain());
            if !sreg.is_empty() && sreg != from_reg && !list_mail {
                c.add(
                    "sender_mismatch",
                    format!("sent on behalf by {}", defang(&s.address)),
                );
            }
        }
    }
    // Message-ID
    if let Some(mid) = msg.header("Message-ID") {
        let dom = mid
            .trim()
            .trim_matches(['<', '>'])
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
            .unwrap_or_default();
        let mreg = registrable_domain(&dom);
        let env = registrable_domain(
            &ind.return_path
                .rsplit_once('@')
                .map(|(_, d)| d.to_string())
                .unwrap_or_default(),
        );
        if dom.contains('.')
            && mreg != from_reg
            && mreg != env
            && !list_mail
            && !dmarc_pass
            && !MESSAGE_ID_PROVIDERS.iter().any(|p| host_within(&dom, p))
        {
            c.add("message_id_mismatch", format!("made at {}", defang(&dom)));
        }
    }
    // From == the one recipient
    let to: Vec<_> = msg
        .header("To")
        .map(parse_address_list)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| !m.address.is_empty())
        .collect();
    if !dmarc_pass
        && !list_mail
        && to.len() == 1
        && to[0].address.eq_ignore_ascii_case(&from.address)
        && msg.header("Cc").is_none()
    {
        c.add("from_is_recipient", defang(&from.address));
    }
}

/// Mail services whose servers make the Message-ID for their customers' domains.
const MESSAGE_ID_PROVIDERS: &[&str] = &[
    "gmail.com",
    "google.com",
    "outlook.com",
    "prod.outlook.com",
    "yahoo.com",
    "mail.yahoo.com",
    "amazonses.com",
    "sendgrid.net",
    "mailgun.org",
    "mcsv.net",
    "mailchimp.com",
    "icloud.com",
    "apple.com",
    "zoho.com",
    "protonmail.com",
    "proton.me",
    "mandrillapp.com",
    "sparkpostmail.com",
    "hubspot.com",
    "salesforce.com",
    "exacttarget.com",
    "smtp-relay.gmail.com",
    "gmx.net",
];

fn domain_checks(c: &mut Collector, domain: &str, org_domains: &[String], what: &str) {
    if domain.is_empty() {
        return;
    }
    let reg = registrable_domain(domain);
    let singles = domain.split('.').filter(|l| l.chars().count() == 1).count();
    if singles >= 3 || domain.split('.').count() >= 8 {
        c.add(
            "obfuscated_domain",
            format!("{what} domain {}", defang(domain)),
        );
    }
    if domain.split('.').any(|l| l.starts_with("xn--")) {
        c.add(
            "punycode_domain",
            format!(
                "{what} domain {} reads {}",
                defang(domain),
                crate::domains::unicode_host(domain)
            ),
        );
    }
    if brand_of_domain(&reg).is_some() || org_domains.iter().any(|d| host_within(domain, d)) {
        return;
    }
    for org in org_domains {
        if let Some(how) = imitates(&reg, org) {
            c.add(
                "lookalike_domain",
                format!("{} imitates our {} ({how})", defang(&reg), defang(org)),
            );
            return;
        }
    }
    if let Some((d, how)) = crate::domains::imitated_brand(&reg) {
        c.add(
            "lookalike_domain",
            format!("{} imitates {} ({how})", defang(&reg), defang(d)),
        );
        return;
    }
    if let Some(b) = brand_token(domain) {
        c.add(
            "brand_in_domain",
            format!("{} uses the name {}", defang(&reg), b.name),
        );
    }
}

/// A brand label appearing as a whole token (split on dots and hyphens) of a host that does
/// not belong to the brand.
fn brand_token(host: &str) -> Option<&'static crate::domains::Brand> {
    if brand_of_domain(host).is_some() {
        return None;
    }
    let uni = crate::domains::unicode_host(host);
    let tokens: Vec<String> = uni
        .split(['.', '-'])
        .map(crate::domains::skeleton_label)
        .collect();
    BRANDS
        .iter()
        .find(|b| b.labels.iter().any(|l| tokens.iter().any(|t| t == l)))
}

fn name_checks(c: &mut Collector, display: &str, from_domain: &str, subject: &str) {
    let from_reg = registrable_domain(from_domain);
    if !display.is_empty() && !from_domain.is_empty() {
        // An address or domain shown in the name that is not the real one.
        for tok in display.split(|ch: char| {
            ch.is_whitespace()
                || matches!(
                    ch,
                    '(' | ')' | '<' | '>' | '"' | '\'' | '[' | ']' | ',' | '|'
                )
        }) {
            let tok = tok.trim_matches(|ch: char| !ch.is_alphanumeric());
            let dom = match tok.rsplit_once('@') {
                Some((_, d)) => d,
                None => tok,
            };
            if !looks_like_domain(dom) {
                continue;
            }
            let reg = registrable_domain(dom);
            if reg != from_reg && !host_within(from_domain, dom) && !host_within(dom, &from_reg) {
                c.add(
                    "display_name_address",
                    format!(
                        "name shows {} but the address is {}",
                        defang(tok),
                        defang(from_domain)
                    ),
                );
                break;
            }
        }
        let own = brand_of_domain(from_domain).map(|b| b.name);
        let bare: String = crate::domains::skeleton_text(display)
            .chars()
            .filter(|ch| ch.is_alphanumeric() || ch.is_whitespace())
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let exact = BRANDS
            .iter()
            .filter(|b| crate::domains::skeleton_text(b.name) == bare);
        let lower = display.to_lowercase();
        if ROLE_NAMES
            .iter()
            .any(|r| crate::domains::contains_word(&lower, r))
            && brand_of_domain(from_domain).is_none()
        {
            c.add(
                "display_name_role",
                format!("{:?} sent from {}", clip(display, 60), defang(from_domain)),
            );
        }
        if display
            .chars()
            .any(|ch| matches!(ch, '✔' | '✓' | '☑' | '✅' | '🔒' | '🛡' | '🔐' | '🏦'))
        {
            c.add("display_name_badge", clip(display, 60));
        }
        for b in brands_named(display).into_iter().chain(exact) {
            if Some(b.name) != own {
                c.add(
                    "display_name_brand",
                    format!("{:?} sent from {}", clip(display, 60), defang(from_domain)),
                );
                break;
            }
        }
    }
    let mixed: Vec<String> = mixed_script_words(display)
        .into_iter()
        .chain(mixed_script_words(subject))
        .collect();
    if !mixed.is_empty() {
        c.add("confusable_text", mixed.join(", "));
    }
    if display.chars().chain(subject.chars()).any(is_invisible) {
        c.add("invisible_chars", "");
    }
}

/// Free cloud platforms whose built-in mailers sign or bounce for anyone's project.
const FREE_PLATFORM_MAILERS: &[&str] = &[
    "firebaseapp.com",
    "onmicrosoft.com",
    "web.app",
    "appspotmail.com",
];

/// Names of IT, mailbox and security roles that credential phishing signs with.
const ROLE_NAMES: &[&str] = &[
    "administrator",
    "admin",
    "it support",
    "it-support",
    "helpdesk",
    "help desk",
    "it department",
    "it service desk",
    "service desk",
    "it team",
    "mail server",
    "email server",
    "e-mail server",
    "webmail",
    "mailbox",
    "postmaster",
    "mail administrator",
    "system administrator",
    "sysadmin",
    "security team",
    "account team",
    "accounts team",
    "security alert",
    "mail delivery",
    "email support",
    "mail support",
    "quarantine",
    "email admin",
];

const COMMON_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "me", "co", "app", "dev", "xyz", "top", "online",
    "site", "shop", "store", "gov", "edu", "mil", "int", "cloud", "tech", "ai", "live", "email",
    "support", "link", "click", "services", "center", "one",
];

fn looks_like_domain(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    if s.len() < 4 || !s.contains('.') || s.contains("..") {
        return false;
    }
    if !s
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-')
    {
        return false;
    }
    let tld = s.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let first = s.split('.').next().unwrap_or("");
    if first.is_empty() || tld.is_empty() {
        return false;
    }
    (tld.len() == 2 && tld.chars().all(|ch| ch.is_ascii_alphabetic()))
        || COMMON_TLDS.contains(&tld.as_str())
}

const DANGEROUS_SCHEMES: &[&str] = &[
    "javascript",
    "vbscript",
    "data",
    "file",
    "search-ms",
    "search",
    "ms-msdt",
    "ms-officecmd",
    "ms-appinstaller",
    "ms-cxh",
    "ms-cxh-full",
    "ms-word",
    "ms-excel",
    "ms-powerpoint",
    "mk",
    "its",
    "mhtml",
    "res",
    "jar",
    "ms-its",
    "ms-settings",
    "ms-search",
    "shell",
];

/// Domains that rewrite links for click tracking or safe browsing: a link text showing the
/// real site is expected there.
const LINK_WRAPPERS: &[&str] = &[
    "safelinks.protection.outlook.com",
    "urldefense.com",
    "urldefense.proofpoint.com",
    "protect-us.mimecast.com",
    "protect-eu.mimecast.com",
    "list-manage.com",
    "mcusercontent.com",
    "sendgrid.net",
    "ct.sendgrid.net",
    "mandrillapp.com",
    "mailgun.org",
    "hubspotlinks.com",
    "hs-sites.com",
    "exacttarget.com",
    "constantcontact.com",
    "rs6.net",
    "createsend.com",
    "cmail19.com",
    "cmail20.com",
    "klaviyo.com",
    "mailjet.com",
    "sendinblue.com",
    "brevo.com",
    "awstrack.me",
    "r.mail",
    "click.",
    "email.",
    "links.",
    "trk.",
    "track.",
    "clicks.",
    "google.com",
    "linkedin.com",
    "facebook.com",
    "twitter.com",
    "t.co",
    "lnkd.in",
];

fn is_wrapper(host: &str) -> bool {
    LINK_WRAPPERS.iter().any(|w| {
        if w.ends_with('.') {
            host.starts_with(w)
        } else {
            host_within(host, w)
        }
    })
}

/// Hosts where anyone can publish a page under the host's name.
const ABUSED_FREE_HOSTS: &[&str] = &[
    "web.app",
    "firebaseapp.com",
    "appspot.com",
    "weebly.com",
    "weeblysite.com",
    "wixsite.com",
    "000webhostapp.com",
    "glitch.me",
    "repl.co",
    "replit.app",
    "replit.dev",
    "pages.dev",
    "workers.dev",
    "r2.dev",
    "vercel.app",
    "netlify.app",
    "herokuapp.com",
    "ngrok.io",
    "ngrok-free.app",
    "trycloudflare.com",
    "duckdns.org",
    "ddns.net",
    "no-ip.com",
    "canva.site",
    "webflow.io",
    "square.site",
    "godaddysites.com",
    "mystrikingly.com",
    "jimdosite.com",
    "yolasite.com",
    "surge.sh",
    "onrender.com",
    "fly.dev",
    "ipfs.io",
    "dweb.link",
    "blogspot.com",
    "azurewebsites.net",
    "web.core.windows.net",
    "blob.core.windows.net",
    "firebasestorage.googleapis.com",
    "storage.googleapis.com",
    "sites.google.com",
    "forms.gle",
    "typedream.app",
    "framer.website",
    "notion.site",
    "gitbook.io",
    "carrd.co",
    "linktr.ee",
    "wordpress.com",
];

fn unwrap_safelink(url: &str, host: &str) -> Option<String> {
    if !host_within(host, "safelinks.protection.outlook.com") && !host.ends_with("urldefense.com") {
        return None;
    }
    let q = url.split_once('?')?.1;
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("url=") {
            return Some(String::from_utf8_lossy(&crate::util::percent_decode(v)).into_owned());
        }
    }
    None
}

fn link_checks(
    c: &mut Collector,
    ind: &mut Indicators,
    links: &[(String, String, LinkSource, bool)],
    org_domains: &[String],
) {
    let mut seen_hosts: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (raw, text, source, download) in links.iter().take(html::MAX_LINKS) {
        let Some(mut url) = parse_url(raw) else {
            continue;
        };
        let mut raw = raw.clone();
        if let Some(inner) = unwrap_safelink(&raw, &url.host) {
            if let Some(u) = parse_url(&inner) {
                url = u;
                raw = inner;
            }
        }
        let scheme = url.scheme.as_str();
        if matches!(
            scheme,
            "mailto" | "tel" | "cid" | "sms" | "callto" | "about" | "mid"
        ) {
            continue;
        }
        let shown = defang(&clip(&raw, 120));
        if DANGEROUS_SCHEMES.contains(&scheme) {
            // data:image in an anchor is odd but harmless; any other data: is a payload.
            if !(scheme == "data" && url.rest.to_ascii_lowercase().starts_with("image/")) {
                c.add("link_dangerous_scheme", clip(&shown, 80));
            }
            continue;
        }
        if !matches!(scheme, "http" | "https" | "ftp" | "ftps") || url.host.is_empty() {
            continue;
        }
        if ind.urls.len() < 50 && !ind.urls.contains(&raw) {
            ind.urls.push(raw.clone());
        }
        let host = url.host.as_str();
        let reg = registrable_domain(host);
        if let Some(ip) = host_ip(host) {
            if !ip.is_loopback() {
                c.add("link_ip_host", shown.clone());
            }
        }
        if url.userinfo && *source != LinkSource::Text {
            c.add("link_userinfo", shown.clone());
        }
        let path = url.rest.split(['?', '#']).next().unwrap_or("");
        if let Some(ext) = extension(path) {
            let cls = ext_class(&ext);
            let risky = matches!(
                cls,
                ExtClass::Executable
                    | ExtClass::Script
                    | ExtClass::Shortcut
                    | ExtClass::DiskImage
                    | ExtClass::Help
                    | ExtClass::OneNote
            ) || (cls == ExtClass::Archive && *source != LinkSource::Text)
                || (*download && cls != ExtClass::Image && cls != ExtClass::Pdf);
            // `.com`/`.bin`/`.sh` at the end of a bare host-less path are not files.
            if risky
                && !path.is_empty()
                && path != "/"
                && !matches!(ext.as_str(), "com" | "bin" | "sh" | "ws")
            {
                c.add("link_executable", shown.clone());
            }
        }
        if *source == LinkSource::Anchor && !text.is_empty() {
            if let Some(shown_host) = text_host(text) {
                let shown_reg = registrable_domain(&shown_host);
                let same_brand = brand_of_domain(&shown_reg)
                    .is_some_and(|b| brand_of_domain(&reg).map(|x| x.name) == Some(b.name));
                if shown_reg != reg
                    && !host_within(host, &shown_reg)
                    && !is_wrapper(host)
                    && !same_brand
                {
                    c.add(
                        "link_text_mismatch",
                        format!(
                            "shows {} but goes to {}",
                            defang(&clip(text, 60)),
                            defang(host)
                        ),
                    );
                }
            }
        }
        if host.split('.').any(|l| l.starts_with("xn--")) || !host.is_ascii() {
            c.add(
                "link_punycode",
                format!(
                    "{} reads {}",
                    defang(host),
                    crate::domains::unicode_host(host)
                ),
            );
        }
        if is_shortener(host) {
            c.add("link_shortener", shown.clone());
        }
        if needless_escapes(&raw) >= 3 {
            c.add("link_obfuscated", shown.clone());
        }
        if *source != LinkSource::Text && redirects_elsewhere(&url.rest, &reg) {
            c.add("link_redirect", shown.clone());
        }
        if ABUSED_FREE_HOSTS.iter().any(|h| host_within(host, h)) {
            c.add("link_free_hosting", defang(host));
        }
        if let Some(t) = abused_tld(host) {
            c.add("link_abused_tld", format!("{} (.{t})", defang(host)));
        }
        let is_brand = brand_of_domain(&reg).is_some();
        let is_org = org_domains.iter().any(|d| host_within(host, d));
        let first_time = seen_hosts.insert(host.to_string());
        if first_time && !is_brand && !is_org && host_ip(host).is_none() {
            // A brand's whole domain used as a subdomain prefix: paypal.com.evil.example
            let brand_prefix = BRANDS.iter().find(|b| {
                b.domains
                    .iter()
                    .any(|d| host.starts_with(&format!("{d}.")) || host.contains(&format!(".{d}.")))
            });
            if let Some(b) = brand_prefix {
                c.add(
                    "link_brand_subdomain",
                    format!("{} is not {}", defang(host), b.name),
                );
            } else {
                let mut hit = false;
                for org in org_domains {
                    if let Some(how) = imitates(&reg, org) {
                        c.add(
                            "link_lookalike",
                            format!("{} imitates our {} ({how})", defang(&reg), defang(org)),
                        );
                        hit = true;
                        break;
                    }
                }
                if !hit {
                    if let Some((d, how)) = crate::domains::imitated_brand(&reg) {
                        c.add(
                            "link_lookalike",
                            format!("{} imitates {} ({how})", defang(&reg), defang(d)),
                        );
                        hit = true;
                    }
                }
                if !hit {
                    if let Some(b) = brand_token(host) {
                        c.add(
                            "link_brand_in_host",
                            format!("{} uses the name {}", defang(host), b.name),
                        );
                    }
                }
            }
        }
    }
}

/// Percent-escapes of plain letters and digits (`%68%74%74%70` for `http`): no browser or
/// server needs them, only filter evasion does.
fn needless_escapes(url: &str) -> usize {
    let b = url.as_bytes();
    let mut n = 0;
    for i in 0..b.len().saturating_sub(2) {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let v = (h * 16 + l) as u8;
                if v.is_ascii_alphanumeric() {
                    n += 1;
                }
            }
        }
    }
    n
}

/// A query that carries another site's URL (`?url=https://...`, `/url?q=http%3A...`), the mark
/// of an open redirect.
fn redirects_elsewhere(rest: &str, own_reg: &str) -> bool {
    let Some((_, query)) = rest.split_once('?') else {
        return false;
    };
    let decoded = String::from_utf8_lossy(&crate::util::percent_decode(query)).to_ascii_lowercase();
    for part in decoded.split('&') {
        let Some((_, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim();
        if v.starts_with("http://") || v.starts_with("https://") || v.starts_with("//") {
            if let Some(u) = parse_url(v) {
                let r = registrable_domain(&u.host);
                if !u.host.is_empty() && r != own_reg {
                    return true;
                }
            }
        }
    }
    false
}

/// The host a link's visible text shows, when the text is a URL or a bare domain.
fn text_host(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['/', '.', ',']);
    if t.contains(char::is_whitespace) || t.len() < 4 {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
        return parse_url(t).map(|u| u.host).filter(|h| h.contains('.'));
    }
    if t.contains('@') {
        return None;
    }
    let host = lower.split('/').next().unwrap_or("");
    looks_like_domain(host).then(|| host.to_string())
}

const LURE_CREDENTIALS: &[&str] = &[
    "verify your account",
    "verify your identity",
    "confirm your account",
    "confirm your identity",
    "update your account",
    "account has been suspended",
    "account will be suspended",
    "account has been locked",
    "account will be closed",
    "account has been limited",
    "unusual sign-in",
    "unusual signin",
    "unusual activity",
    "suspicious activity",
    "suspicious login",
    "sign in to your account",
    "log in to your account",
    "reset your password",
    "password expires",
    "password expiry",
    "password will expire",
    "password has expired",
    "mailbox is full",
    "mailbox storage",
    "storage is full",
    "email quota",
    "mailbox quota",
    "validate your",
    "reactivate your",
    "unlock your",
    "verify your wallet",
    "seed phrase",
    "recovery phrase",
    "restore your account",
    "re-activate",
    "keep your account",
    "confirm your email",
    "verify your email",
    "update your payment",
    "update your billing",
    "payment method has been declined",
    "billing information",
    "konto verifizieren",
    "bestätigen sie ihr",
    "ihr konto wurde",
    "speicher ist voll",
    "sua conta foi",
    "atualize seus dados",
    "atualização cadastral",
    "acesse sua conta",
    "confirme seus dados",
    "su cuenta ha sido",
    "verifique su cuenta",
    "votre compte a été",
    "vérifiez votre compte",
];
const LURE_URGENCY: &[&str] = &[
    "urgent",
    "immediately",
    "within 24 hours",
    "within 48 hours",
    "within 24hrs",
    "final warning",
    "final notice",
    "last chance",
    "expires today",
    "act now",
    "action required",
    "immediate action",
    "suspended",
    "will be deleted",
    "will be terminated",
    "avoid suspension",
    "avoid asset freeze",
    "dringend",
    "sofort",
    "letzte chance",
    "letzte mahnung",
    "urgente",
    "imediatamente",
    "expira hoje",
    "última chance",
    "último aviso",
    "dernier avis",
];
const LURE_REWARD: &[&str] = &[
    "you have won",
    "you've won",
    "you won",
    "congratulations",
    "winner",
    "claim your",
    "gift card",
    "free gift",
    "reward",
    "prize",
    "lottery",
    "airdrop",
    "cashback",
    "selected to receive",
    "glückwunsch",
    "gewinnen sie",
    "gutschein",
    "parabéns",
    "prêmio",
    "você ganhou",
    "resgate",
    "felicidades",
    "ganaste",
    "félicitations",
    "vous avez gagné",
];
const LURE_ACTION: &[&str] = &[
    "click here",
    "click below",
    "click the link",
    "click the button",
    "tap here",
    "open the attachment",
    "open the attached",
    "see attached",
    "view document",
    "view the document",
    "review document",
    "review the document",
    "download the attachment",
    "access document",
    "view invoice",
    "view your invoice",
    "confirm now",
    "claim now",
    "verify now",
    "log in now",
    "sign in now",
    "clique aqui",
    "clique no link",
    "acesse agora",
    "klicken sie hier",
    "hier klicken",
    "jetzt klicken",
    "haga clic",
    "haz clic",
    "cliquez ici",
    "klik hier",
];
const LURE_ADVANCE_FEE: &[&str] = &[
    "next of kin",
    "my late husband",
    "my late father",
    "dying bed",
    "sick bed",
    "inheritance",
    "beneficiary",
    "barrister",
    "consignment box",
    "compensation fund",
    "unclaimed fund",
    "transfer the fund",
    "transfer of the fund",
    "fund transfer",
    "million us dollars",
    "million dollars",
    "dear beloved",
    "beloved friend",
    "god bless you",
    "charity work",
    "orphanage",
    "diplomat",
    "atm card",
    "foreign partner",
    "business proposal",
];
const LURE_ROMANCE: &[&str] = &[
    "singles",
    "dating",
    "hot girls",
    "lonely",
    "sexy",
    "date tonight",
    "meet women",
    "hookup",
    "sex",
    "naked",
    "nude",
    "lewd",
    "spannende afspraak",
    "sexdate",
    "single women",
    "russian girls",
    "russian singles",
    "girls near you",
    "wants to meet you",
    "treffen sie",
    "nackte",
    "erotik",
    "namoro",
    "encontro",
];
const LURE_MONEY: &[&str] = &[
    "bitcoin",
    "btc",
    "usdt",
    "crypto",
    "wallet",
    "wire transfer",
    "western union",
    "investment opportunity",
    "inheritance",
    "beneficiary",
    "million dollars",
    "payment",
    "invoice",
    "refund",
    "fatura",
    "pagamento",
    "rechnung",
    "zahlung",
];

/// Every lure phrase list with its signal, searched in one pass.
fn lure_matcher() -> &'static (aho_corasick::AhoCorasick, Vec<(&'static str, &'static str)>) {
    static M: std::sync::OnceLock<(aho_corasick::AhoCorasick, Vec<(&'static str, &'static str)>)> =
        std::sync::OnceLock::new();
    M.get_or_init(|| {
        let lists: [(&[&str], &'static str); 7] = [
            (LURE_CREDENTIALS, "lure_credentials"),
            (LURE_URGENCY, "lure_urgency"),
            (LURE_REWARD, "lure_reward"),
            (LURE_MONEY, "lure_money"),
            (LURE_ACTION, "lure_action"),
            (LURE_ADVANCE_FEE, "lure_advance_fee"),
            (LURE_ROMANCE, "lure_romance"),
        ];
        let mut pats = Vec::new();
        let mut meta = Vec::new();
        for (list, name) in lists {
            for p in list {
                meta.push((*p, name));
                pats.push(*p);
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&pats)
            .expect("lure phrases");
        (ac, meta)
    })
}

fn lure_checks(c: &mut Collector, subject: &str, text: &str) {
    let mut hay = String::with_capacity(subject.len() + text.len().min(60_000) + 1);
    hay.push_str(subject);
    hay.push('\n');
    hay.push_str(&text[..floor(text, 60_000)]);
    let hay = hay.to_lowercase();
    let (ac, meta) = lure_matcher();
    let mut found: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    let boundary = |ch: Option<char>| ch.is_none_or(|ch| !ch.is_alphanumeric());
    for m in ac.find_overlapping_iter(&hay) {
        let (s, e) = (m.start(), m.end());
        if !boundary(hay[..s].chars().next_back()) || !boundary(hay[e..].chars().next()) {
            continue;
        }
        let (phrase, name) = meta[m.pattern().as_usize()];
        let list = found.entry(name).or_default();
        if list.len() < 3 && !list.contains(&phrase) {
            list.push(phrase);
        }
    }
    for (name, words) in found {
        c.add(
            name,
            words
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
}

fn mentions_password(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "password",
        "passwort",
        "kennwort",
        "senha",
        "contraseña",
        "mot de passe",
        "пароль",
        "pwd:",
        "pass:",
    ]
    .iter()
    .any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let tail = &lower[i + w.len()..];
            let tail = &tail[..floor(tail, 40)];
            tail.contains(':')
                || tail.contains(" is ")
                || tail.contains(" é ")
                || tail.contains(" ist ")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, SourceFormat};

    fn msg(raw: &str) -> Message {
        Message::parse(
            raw.as_bytes(),
            Provenance {
                path: "t.eml".into(),
                record: 1,
                format: SourceFormat::Eml,
            },
            &Limits::default(),
        )
    }

    fn names(v: &Verdict) -> Vec<&'static str> {
        v.signals.iter().map(|s| s.name).collect()
    }

    #[test]
    fn clean_list_mail_is_clean() {
        let m = msg("Return-Path: <list-bounces@vger.kernel.org>\r\nReceived: from mail.example.org (mail.example.org [203.0.113.5]) by mx.lfdr.de (Postfix) with ESMTPS\r\nFrom: Jane Dev <jane@kernel.org>\r\nTo: linux-watchdog@vger.kernel.org\r\nList-Id: <linux-watchdog.vger.kernel.org>\r\nSubject: [PATCH] watchdog: fix timeout\r\nMessage-ID: <20240101.1@kernel.org>\r\n\r\nThis fixes the timeout. See https://lore.kernel.org/r/123\r\n");
        let v = analyze(&m, &MailConfig::default());
        assert_eq!(v.label, Label::Clean, "{:?}", names(&v));
        assert!(v.score < 1.0);
    }

    #[test]
    fn spoofed_brand_with_mismatched_link_is_phishing() {
        let m = msg("Received: from mx1.corp.example (10.0.0.2) by exch.corp.example with SMTP\r\nReceived: from bad.example (bad.example [198.51.100.7]) by mx1.corp.example with ESMTP\r\nAuthentication-Results: mx1.corp.example; spf=fail smtp.mailfrom=paypa1.com; dmarc=fail header.from=paypa1.com\r\nFrom: \"PayPal Service\" <service@paypa1.com>\r\nReply-To: helpdesk.paypal@gmail.com\r\nTo: ann@corp.example\r\nSubject: Verify your account within 24 hours\r\nContent-Type: text/html\r\n\r\n<p>Please <a href=\"http://198.51.100.7/login\">https://www.paypal.com/signin</a></p>\r\n");
        let v = analyze(&m, &MailConfig::default());
        let n = names(&v);
        for s in [
            "auth_dmarc_fail",
            "lookalike_domain",
            "display_name_brand",
            "reply_to_freemail",
            "link_text_mismatch",
            "link_ip_host",
            "lure_credentials",
            "lure_urgency",
        ] {
            assert!(n.contains(&s), "{s} missing from {n:?}");
        }
        assert_eq!(v.label, Label::Phishing);
        assert!(v.indicators.urls.iter().any(|u| u.contains("198.51.100.7")));
        assert_eq!(v.indicators.sender_ip, "198.51.100.7");
    }
}
