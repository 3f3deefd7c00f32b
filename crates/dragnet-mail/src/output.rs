//! Messages as events, phishing verdicts as findings.

use crate::analyze::{Label, Verdict};
use crate::message::Message;
use crate::signals::Category;
use crate::util::{clip, defang};
use dragnet_event::{Event, Finding, Level, Provenance, RuleMeta, Timestamp, Value};
use std::sync::{Arc, OnceLock};

/// The rule ids of mail findings: attachment, link, and other (sender spoofing, lures).
pub const RULE_IDS: [&str; 3] = [
    "dragnet-mail-phishing-attachment",
    "dragnet-mail-phishing-link",
    "dragnet-mail-phishing",
];

fn list(v: impl IntoIterator<Item = String>) -> Value {
    Value::List(v.into_iter().map(Value::str).collect())
}

/// A message as an event: its header facts, addresses, attachments and URLs (raw, not
/// defanged: events are data for rules). Time is the `Date` (else the newest `Received`);
/// host is the receiving server of the newest hop.
pub fn message_event(msg: &Message, provenance: Provenance) -> Event {
    let mut e = Event::new(provenance);
    e.time = msg.date().unwrap_or(Timestamp::UNKNOWN);
    let hops = crate::auth::hops(msg.headers());
    if let Some(h) = hops.first() {
        e.host = h.by_host.as_str().into();
    }
    e.push("Channel", Value::str("mail"));
    let from = msg.from_first();
    if let Some(f) = &from {
        e.push("From", Value::str(f.address.as_str()));
        e.push("FromName", Value::str(f.name.as_str()));
        e.push("FromDomain", Value::str(f.domain()));
    }
    let to: Vec<String> = msg.recipients().into_iter().map(|m| m.address).collect();
    e.push("To", list(to));
    for (field, name) in [
        ("Subject", "Subject"),
        ("Reply-To", "ReplyTo"),
        ("Return-Path", "ReturnPath"),
        ("Sender", "Sender"),
        ("Message-ID", "MessageId"),
        ("In-Reply-To", "InReplyTo"),
        ("X-Mailer", "XMailer"),
        ("User-Agent", "UserAgent"),
        ("List-Id", "ListId"),
    ] {
        if let Some(v) = msg.decoded(field) {
            e.push(name, Value::str(clip(&v, 2000)));
        }
    }
    if let Some(d) = msg.header("Date") {
        e.push("Date", Value::str(d));
    }
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut hashes = Vec::new();
    for p in msg.attachments() {
        names.push(p.filename.clone().unwrap_or_default());
        types.push(p.content_type.clone());
        hashes.push(crate::util::sha256_hex(&p.data));
    }
    if !names.is_empty() {
        e.push("AttachmentNames", list(names));
        e.push("AttachmentTypes", list(types));
        e.push("AttachmentSha256", list(hashes));
    }
    e.push("ReceivedHops", Value::Int(hops.len() as i64));
    e.push("SizeBytes", Value::Int(msg.parsed.raw_size as i64));
    e.push("MimeParts", Value::Int(msg.parsed.entities as i64));
    e
}

/// Add a verdict's outcome to a message event: `Verdict`, `Score`, `Signals`, `SenderIp`,
/// `Urls`, `UrlDomains`, `Auth.*`.
pub fn add_verdict_fields(e: &mut Event, v: &Verdict) {
    e.push("Verdict", Value::str(v.label.as_str()));
    e.push("Score", Value::Float(v.score));
    e.push(
        "Signals",
        list(v.signals.iter().map(|s| s.name.to_string())),
    );
    if !v.indicators.sender_ip.is_empty() {
        e.push("SenderIp", Value::str(v.indicators.sender_ip.as_str()));
    }
    if !v.indicators.sender_host.is_empty() {
        e.push("SenderHost", Value::str(v.indicators.sender_host.as_str()));
    }
    if !v.indicators.urls.is_empty() {
        e.push("Urls", list(v.indicators.urls.iter().cloned()));
    }
    if !v.indicators.domains.is_empty() {
        e.push("Domains", list(v.indicators.domains.iter().cloned()));
    }
    for (k, r) in &v.auth {
        e.push(format!("Auth.{k}"), Value::str(r.as_str()));
    }
}

/// The rule behind mail findings (`0` attachment, `1` link, `2` other).
pub fn rule_meta(which: usize) -> Arc<RuleMeta> {
    static RULES: OnceLock<[Arc<RuleMeta>; 3]> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        let make = |id: &str, title: &str, desc: &str, tags: &[&str]| {
            Arc::new(RuleMeta {
                id: id.into(),
                title: title.into(),
                author: "dragnet".into(),
                status: "experimental".into(),
                description: desc.into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                references: vec!["https://attack.mitre.org/techniques/T1566/".into()],
                falsepositives: vec!["Legitimate mail with unusual attachments or links".into()],
                source: "builtin:mail".into(),
                kind: "mail".into(),
            })
        };
        [
            make(
                RULE_IDS[0],
                "Spear-phishing attachment",
                "A message whose attachment and sender signals add up to a phishing verdict.",
                &["attack.initial-access", "attack.t1566.001", "attack.execution", "attack.t1204.002"],
            ),
            make(
                RULE_IDS[1],
                "Spear-phishing link",
                "A message whose links and sender signals add up to a phishing verdict.",
                &["attack.initial-access", "attack.t1566.002", "attack.execution", "attack.t1204.001"],
            ),
            make(
                RULE_IDS[2],
                "Phishing message",
                "A message whose sender, authentication and content signals add up to a phishing verdict.",
                &["attack.initial-access", "attack.t1566"],
            ),
        ]
    });
    Arc::clone(&rules[which.min(2)])
}

/// A finding for a phishing verdict (`None` for clean and suspicious messages).
///
/// The rule is the attachment one when attachment signals weigh in, else the link one when
/// link signals do, else the general one. ATT&CK: T1566.001 / T1566.002 / T1566; T1204.002
/// (open a file) or T1204.001 (click a link) only when the lure needs that action; T1027.006
/// for HTML smuggling. `details` carries the score, the signals with their explanations and
/// evidence, the explanation as one paragraph, and defanged indicators.
pub fn verdict_finding(msg: &Message, v: &Verdict, provenance: Provenance) -> Option<Finding> {
    if v.label != Label::Phishing {
        return None;
    }
    let weight = |c: Category| -> f64 {
        v.signals
            .iter()
            .filter(|s| s.category == c)
            .map(|s| s.weight)
            .sum()
    };
    let (att, link) = (weight(Category::Attachment), weight(Category::Link));
    let which = if att >= 2.0 && att >= link {
        0
    } else if link >= 1.5 {
        1
    } else if att > 0.0 {
        0
    } else {
        2
    };
    let rule = rule_meta(which);
    let payload = [
        "dangerous_attachment",
        "macro_document",
        "remote_template",
        "html_smuggling",
        "svg_script",
        "rtl_override",
    ]
    .iter()
    .any(|n| v.has(n));
    // Severity follows what the lure asks of the reader: a file that runs code is high (critical
    // when the sender is forged as well); a link or file to open is medium; a message with
    // nothing to click or open (forged or scam text only) is low.
    let level = if payload && v.score >= 2.0 * v.threshold + 2.0 {
        Level::Critical
    } else if payload {
        Level::High
    } else if att + link >= 1.5 {
        Level::Medium
    } else {
        Level::Low
    };
    let time = msg.date().unwrap_or(Timestamp::UNKNOWN);
    let host = crate::auth::hops(msg.headers())
        .first()
        .map(|h| h.by_host.clone())
        .unwrap_or_default();
    let mut f = Finding::new(rule, level, time, &host, provenance);
    // ATT&CK: user execution only when the lure needs that action.
    let mut attack: Vec<String> = match which {
        0 => vec!["T1566.001".into()],
        1 => vec!["T1566.002".into()],
        _ => vec!["T1566".into()],
    };
    let opens = payload
        || [
            "double_extension",
            "encrypted_archive",
            "html_attachment",
            "pdf_active",
            "ole_package",
            "rtf_objects",
            "type_mismatch",
        ]
        .iter()
        .any(|n| v.has(n));
    if opens && which == 0 {
        attack.push("T1204.002".into());
    }
    let clicks = v.signals.iter().any(|s| s.category == Category::Link) || v.has("html_smuggling");
    if clicks && which != 0 && !v.indicators.urls.is_empty() {
        attack.push("T1204.001".into());
    }
    if v.has("html_smuggling") {
        attack.push("T1027.006".into());
    }
    f.attack = attack.into();
    let d = &mut f.details;
    d.insert("verdict".into(), v.label.as_str().into());
    d.insert("score".into(), v.score.into());
    d.insert("threshold".into(), v.threshold.into());
    d.insert("subject".into(), defang(&clip(&msg.subject(), 300)).into());
    if let Some(from) = msg.from_first() {
        d.insert(
            "from".into(),
            format!("{} <{}>", clip(&from.name, 100), defang(&from.address)).into(),
        );
    }
    d.insert(
        "to".into(),
        msg.recipients()
            .iter()
            .take(10)
            .map(|m| defang(&m.address))
            .collect::<Vec<_>>()
            .join(", ")
            .into(),
    );
    if let Some(mid) = msg.header("Message-ID") {
        d.insert("message_id".into(), defang(mid).into());
    }
    d.insert("explanation".into(), v.explanation().into());
    d.insert(
        "signals".into(),
        serde_json::to_value(&v.signals).unwrap_or_default(),
    );
    d.insert("indicators".into(), v.indicators.defanged_json());
    if !v.auth.is_empty() {
        d.insert(
            "auth".into(),
            serde_json::to_value(&v.auth).unwrap_or_default(),
        );
    }
    Some(f)
}

/// The channel of message events ([`message_event`]) and of [`verdict_event`]s.
pub const MAIL_CHANNEL: &str = "mail";

/// A message and its verdict as one event, for pipelines that carry events only (the hunt):
/// [`message_event`] + [`add_verdict_fields`], and, for a phishing verdict, the finding
/// [`verdict_finding`] would make, as fields the [`MailDetector`] turns back into it:
/// `Phishing.Rule` (rule id), `Phishing.Level`, `Phishing.Attack` (ATT&CK ids) and
/// `Phishing.Details` (the finding's details as compact JSON). The parsed message (attachments
/// and all) does not travel: the verdict is made while the reader holds it.
pub fn verdict_event(msg: &Message, v: &Verdict) -> Event {
    let mut e = message_event(msg, msg.provenance.clone());
    add_verdict_fields(&mut e, v);
    if let Some(f) = verdict_finding(msg, v, msg.provenance.clone()) {
        e.push("Phishing.Rule", Value::str(f.rule.id.as_str()));
        e.push("Phishing.Level", Value::str(f.level.as_str()));
        e.push("Phishing.Attack", list(f.attack.iter().cloned()));
        let details = serde_json::Value::Object(f.details).to_string();
        e.push("Phishing.Details", Value::str(details));
    }
    e
}

/// The finding a [`verdict_event`] carries (`None` for other events, and for messages that
/// are not phishing).
pub fn verdict_event_finding(e: &Event) -> Option<Finding> {
    if e.channel() != Some(MAIL_CHANNEL) {
        return None;
    }
    let rule_id = e.get_text("Phishing.Rule")?;
    let which = RULE_IDS.iter().position(|r| *r == rule_id)?;
    let level = e
        .get_text("Phishing.Level")
        .and_then(|l| Level::ALL.into_iter().find(|x| x.as_str() == l))
        .unwrap_or(Level::Medium);
    let mut f = Finding::new(
        rule_meta(which),
        level,
        e.time,
        &e.host,
        e.provenance.clone(),
    );
    if let Some(Value::List(ids)) = e.get("Phishing.Attack") {
        f.attack = ids
            .iter()
            .filter_map(|v| v.as_text().map(|s| s.into_owned()))
            .collect();
    }
    if let Some(serde_json::Value::Object(d)) = e
        .get_text("Phishing.Details")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    {
        f.details = d;
    }
    Some(f)
}

/// The phishing findings of a hunt: every [`verdict_event`] with a phishing verdict becomes
/// the finding [`verdict_finding`] made (T1566.x; sender and recipients in `details.from` and
/// `details.to`, the message's file and 1-based index in the mailbox as its source).
#[derive(Clone, Copy, Debug, Default)]
pub struct MailDetector;

impl dragnet_event::Detector for MailDetector {
    fn name(&self) -> &str {
        "mail"
    }
    fn detect(&self, event: &Event, out: &mut Vec<Finding>) {
        if let Some(f) = verdict_event_finding(event) {
            out.push(f);
        }
    }
}
