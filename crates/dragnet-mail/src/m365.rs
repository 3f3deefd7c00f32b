//! Microsoft 365 unified audit log: reading it, and finding mail drafts used as a command
//! channel (FINALDRAFT / T1102.002).
//!
//! FINALDRAFT's implant and operator talk through the mailbox's Drafts folder over Microsoft
//! Graph: one side creates a draft (`p_<session>` results, `r_<session>` commands), the other
//! reads and deletes it, over and over at the beacon's interval. In the audit log that is one
//! application (or session) creating and hard-deleting drafts at a regular interval, with
//! machine-made subjects, often from an address the tenant never used before.

use dragnet_event::{
    Analyzer, Event, Finding, Level, Provenance, RuleMeta, SourceFormat, Timestamp, Value,
};
use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// One audit record, with the fields the detection uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditRecord {
    pub time: Timestamp,
    pub operation: String,
    pub workload: String,
    pub user: String,
    pub client_ip: String,
    pub app_id: String,
    pub client_info: String,
    pub session_id: String,
    /// Item subjects (Item, AffectedItems).
    pub subjects: Vec<String>,
    /// Folder paths (Item.ParentFolder, Folder, Folders).
    pub folders: Vec<String>,
    pub provenance: Option<Provenance>,
}

impl AuditRecord {
    pub fn in_drafts(&self) -> bool {
        self.folders
            .iter()
            .any(|f| f.trim_start_matches('\\').eq_ignore_ascii_case("Drafts"))
    }
}

fn s(v: Option<&J>) -> String {
    match v {
        Some(J::String(s)) => s.clone(),
        Some(J::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Read a record from the audit JSON (a Purview export row's `AuditData` is unwrapped).
pub fn record_from_json(v: &J) -> Option<AuditRecord> {
    let obj = v.as_object()?;
    if let Some(J::String(inner)) = obj.get("AuditData") {
        if let Ok(parsed) = serde_json::from_str::<J>(inner) {
            return record_from_json(&parsed);
        }
    }
    let op = s(obj.get("Operation"));
    if op.is_empty() || !(obj.contains_key("Workload") || obj.contains_key("RecordType")) {
        return None;
    }
    let mut r = AuditRecord {
        time: Timestamp::parse(&s(obj.get("CreationTime"))).unwrap_or(Timestamp::UNKNOWN),
        operation: op,
        workload: s(obj.get("Workload")),
        user: s(obj.get("UserId")),
        client_ip: clean_ip(&{
            let ip = s(obj.get("ClientIP"));
            if ip.is_empty() {
                s(obj.get("ClientIPAddress"))
            } else {
                ip
            }
        }),
        app_id: {
            let a = s(obj.get("AppId"));
            if a.is_empty() {
                let a = s(obj.get("ClientAppId"));
                if a.is_empty() {
                    s(obj.get("ApplicationId"))
                } else {
                    a
                }
            } else {
                a
            }
        },
        client_info: s(obj.get("ClientInfoString")),
        session_id: s(obj.get("SessionId")),
        ..Default::default()
    };
    if r.session_id.is_empty() {
        if let Some(ctx) = obj.get("AppAccessContext") {
            r.session_id = s(ctx.get("AADSessionId"));
        }
    }
    let mut item = |it: &J| {
        let subj = s(it.get("Subject"));
        if !subj.is_empty() && r.subjects.len() < 16 {
            r.subjects.push(subj);
        }
        if let Some(p) = it.get("ParentFolder").and_then(|f| f.get("Path")) {
            r.folders.push(s(Some(p)));
        }
    };
    if let Some(it) = obj.get("Item") {
        item(it);
    }
    if let Some(J::Array(items)) = obj.get("AffectedItems") {
        for it in items.iter().take(16) {
            item(it);
        }
    }
    if let Some(f) = obj.get("Folder").and_then(|f| f.get("Path")) {
        r.folders.push(s(Some(f)));
    }
    if let Some(J::Array(fs)) = obj.get("Folders") {
        for f in fs.iter().take(16) {
            if let Some(p) = f.get("Path") {
                r.folders.push(s(Some(p)));
            }
        }
    }
    r.subjects.dedup();
    r.folders.dedup();
    Some(r)
}

fn clean_ip(ip: &str) -> String {
    // `1.2.3.4:5678`, `[::1]:443`
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_string();
    }
    if ip.matches(':').count() == 1 {
        return ip.split(':').next().unwrap_or("").to_string();
    }
    ip.to_string()
}

/// Read a record from an event made by the JSON reader (fields flattened to dotted paths).
pub fn record_from_event(e: &Event) -> Option<AuditRecord> {
    let t = |n: &str| e.get_text(n).map(|c| c.into_owned()).unwrap_or_default();
    let op = t("Operation");
    if op.is_empty() || !(e.has("Workload") || e.has("RecordType")) {
        return None;
    }
    let mut r = AuditRecord {
        time: if e.time.is_unknown() {
            Timestamp::parse(&t("CreationTime")).unwrap_or(Timestamp::UNKNOWN)
        } else {
            e.time
        },
        operation: op,
        workload: t("Workload"),
        user: t("UserId"),
        client_ip: clean_ip(&t("ClientIP")),
        app_id: {
            let a = t("AppId");
            if a.is_empty() {
                t("ClientAppId")
            } else {
                a
            }
        },
        client_info: t("ClientInfoString"),
        session_id: t("SessionId"),
        provenance: Some(e.provenance.clone()),
        ..Default::default()
    };
    let subject = t("Item.Subject");
    if !subject.is_empty() {
        r.subjects.push(subject);
    }
    for n in ["Item.ParentFolder.Path", "Folder.Path"] {
        let v = t(n);
        if !v.is_empty() {
            r.folders.push(v);
        }
    }
    // Arrays of objects arrive as JSON text.
    for n in ["AffectedItems", "Folders"] {
        if let Some(Value::List(items)) = e.get(n) {
            for it in items.iter().take(16) {
                if let Some(txt) = it.as_text() {
                    if let Ok(j) = serde_json::from_str::<J>(&txt) {
                        if let Some(sub) = j.get("Subject") {
                            r.subjects.push(s(Some(sub)));
                        }
                        if let Some(p) = j
                            .get("Path")
                            .or_else(|| j.get("ParentFolder").and_then(|f| f.get("Path")))
                        {
                            r.folders.push(s(Some(p)));
                        }
                    }
                }
            }
        }
    }
    r.subjects.dedup();
    r.folders.dedup();
    Some(r)
}

/// Read an audit log export (JSON lines, or a JSON array), calling `on_record` for each
/// record; returns how many lines or elements were not audit records.
pub fn read_audit_file(
    path: &Path,
    on_record: &mut dyn FnMut(AuditRecord),
) -> std::io::Result<u64> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let first = reader
        .fill_buf()?
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace());
    let path_text: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let mut bad = 0;
    let mut push = |v: &J, n: u64, fmt: SourceFormat, bad: &mut u64| match record_from_json(v) {
        Some(mut r) => {
            r.provenance = Some(Provenance {
                path: Arc::clone(&path_text),
                record: n,
                format: fmt,
            });
            on_record(r);
        }
        None => *bad += 1,
    };
    if first == Some(b'[') {
        let v: J = serde_json::from_reader(reader)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if let J::Array(items) = v {
            for (i, it) in items.iter().enumerate() {
                push(it, i as u64 + 1, SourceFormat::JsonArray, &mut bad);
            }
        }
        return Ok(bad);
    }
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<J>(&line) {
            Ok(v) => push(&v, i as u64 + 1, SourceFormat::Jsonl, &mut bad),
            Err(_) => bad += 1,
        }
    }
    Ok(bad)
}

/// Does this file look like a unified audit log export? (first record has `Operation` and
/// `Workload` or `RecordType`)
pub fn looks_like_audit(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(8192)]);
    text.contains("\"Operation\"")
        && (text.contains("\"Workload\"") || text.contains("\"RecordType\""))
        && text.contains("\"CreationTime\"")
}

/// An audit record as an event: the record's fields under their names.
pub fn audit_event(r: &AuditRecord, provenance: Provenance) -> Event {
    let mut e = Event::new(provenance);
    e.time = r.time;
    e.push("Channel", Value::str("m365-audit"));
    e.push("Operation", Value::str(r.operation.as_str()));
    e.push("Workload", Value::str(r.workload.as_str()));
    e.push("UserId", Value::str(r.user.as_str()));
    e.push("ClientIP", Value::str(r.client_ip.as_str()));
    e.push("AppId", Value::str(r.app_id.as_str()));
    e.push("ClientInfoString", Value::str(r.client_info.as_str()));
    if !r.subjects.is_empty() {
        e.push(
            "Subjects",
            Value::List(r.subjects.iter().map(|s| Value::str(s.as_str())).collect()),
        );
    }
    if !r.folders.is_empty() {
        e.push(
            "Folders",
            Value::List(r.folders.iter().map(|s| Value::str(s.as_str())).collect()),
        );
    }
    e
}

/// First-party mail clients whose draft activity is people writing mail.
const KNOWN_CLIENTS: &[&str] = &[
    "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office / Outlook desktop
    "00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online (OWA)
    "27922004-5251-4030-b22d-91ecd9a37ea4", // Outlook mobile
    "5d661950-3475-41cd-a2c3-d671a3162bc1", // Outlook (new)
    "9199bf20-a13f-4107-85dc-02114787ef48", // One Outlook Web
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3", // Outlook Online add-in app
];

/// `p_123`, `r_4567`: FINALDRAFT's machine-made draft subjects.
pub fn c2_subject(s: &str) -> bool {
    let s = s.trim();
    let b = s.as_bytes();
    b.len() >= 3
        && (b[0] == b'p' || b[0] == b'r' || b[0] == b'P' || b[0] == b'R')
        && b[1] == b'_'
        && b[2..].iter().all(u8::is_ascii_digit)
}

#[derive(Default)]
struct KeyState {
    user: String,
    app: String,
    creates: Vec<i64>,
    deletes: u64,
    reads: u64,
    c2_subjects: u64,
    subjects: BTreeSet<String>,
    ips: BTreeSet<String>,
    new_ips: BTreeSet<String>,
    first: Option<(Timestamp, Option<Provenance>)>,
    last: Timestamp,
    rest: bool,
    sample: Vec<Provenance>,
}

/// Finds draft-folder C2 in a time-ordered stream of audit records. State is bounded: at most
/// `MAX_KEYS` (user, app) pairs and `MAX_TIMES` creation times each.
#[derive(Default)]
pub struct DraftC2Detector {
    keys: HashMap<(String, String), KeyState>,
    /// Every client address the tenant used, and when first.
    seen_ips: HashMap<String, Timestamp>,
    /// Findings' minimum score.
    pub min_score: f64,
}

const MAX_KEYS: usize = 100_000;
const MAX_TIMES: usize = 20_000;
const MAX_IPS: usize = 1_000_000;

fn rule() -> Arc<RuleMeta> {
    static R: OnceLock<Arc<RuleMeta>> = OnceLock::new();
    Arc::clone(R.get_or_init(|| {
        Arc::new(RuleMeta {
            id: "dragnet-m365-draft-c2".into(),
            title: "Mail drafts used as a command channel (FINALDRAFT)".into(),
            author: "dragnet".into(),
            status: "experimental".into(),
            description: "One application or session creates and deletes mailbox drafts at a regular interval with machine-made subjects (p_<n>/r_<n>): a command-and-control channel over Microsoft Graph.".into(),
            tags: vec![
                "attack.command-and-control".into(),
                "attack.t1102.002".into(),
                "attack.t1071.001".into(),
            ],
            references: vec!["https://attack.mitre.org/techniques/T1102/002/".into()],
            falsepositives: vec!["Automation that uses drafts as a scratch space".into()],
            source: "builtin:m365".into(),
            kind: "m365-draft-c2".into(),
        })
    }))
}

impl DraftC2Detector {
    pub fn new() -> Self {
        DraftC2Detector {
            min_score: 4.0,
            ..Default::default()
        }
    }

    /// One record, in time order.
    pub fn observe(&mut self, r: &AuditRecord) {
        let ip = r.client_ip.clone();
        let new_ip = !ip.is_empty() && !self.seen_ips.contains_key(&ip);
        if new_ip && self.seen_ips.len() < MAX_IPS {
            self.seen_ips.insert(ip.clone(), r.time);
        }
        let drafts = r.in_drafts() || r.subjects.iter().any(|s| c2_subject(s));
        if !drafts {
            return;
        }
        let app = if r.app_id.is_empty() {
            r.session_id.clone()
        } else {
            r.app_id.clone()
        };
        let key = (r.user.to_ascii_lowercase(), app.clone());
        if !self.keys.contains_key(&key) && self.keys.len() >= MAX_KEYS {
            return;
        }
        let st = self.keys.entry(key).or_insert_with(|| KeyState {
            user: r.user.clone(),
            app,
            ..Default::default()
        });
        if st.first.is_none() {
            st.first = Some((r.time, r.provenance.clone()));
        }
        st.last = r.time;
        if r.client_info.contains("REST") {
            st.rest = true;
        }
        let op = r.operation.as_str();
        match op {
            "Create" if st.creates.len() < MAX_TIMES => st.creates.push(r.time.nanos()),
            "HardDelete" | "SoftDelete" | "MoveToDeletedItems" => st.deletes += 1,
            "MailItemsAccessed" => st.reads += 1,
            _ => {}
        }
        for s in &r.subjects {
            if c2_subject(s) {
                st.c2_subjects += 1;
            }
            if st.subjects.len() < 8 {
                st.subjects.insert(s.clone());
            }
        }
        if !ip.is_empty() && st.ips.len() < 64 {
            st.ips.insert(ip.clone());
        }
        if new_ip && st.new_ips.len() < 64 {
            st.new_ips.insert(ip);
        }
        if st.sample.len() < 20 {
            if let Some(p) = &r.provenance {
                st.sample.push(p.clone());
            }
        }
    }

    /// End of input: a finding per (user, application) whose drafts look like a channel.
    pub fn finish(&mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut keys: Vec<_> = self.keys.drain().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, st) in keys {
            let mut score = 0.0;
            let mut why: Vec<String> = Vec::new();
            let n = st.creates.len();
            if st.c2_subjects >= 3 {
                score += 4.0;
                why.push(format!(
                    "{} draft operations use machine-made subjects like p_<n> / r_<n>",
                    st.c2_subjects
                ));
            }
            if n >= 5 && st.deletes as f64 >= 0.6 * n as f64 {
                score += 2.0;
                why.push(format!(
                    "{n} drafts created and {} deleted: drafts live only long enough to be read",
                    st.deletes
                ));
            }
            let mut gaps: Vec<f64> = st
                .creates
                .windows(2)
                .map(|w| (w[1] - w[0]) as f64 / 1e9)
                .filter(|g| *g >= 0.0)
                .collect();
            let (mut median, mut cv) = (0.0, f64::INFINITY);
            if gaps.len() >= 5 {
                gaps.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                median = gaps[gaps.len() / 2];
                let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
                let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
                cv = if mean > 0.0 {
                    var.sqrt() / mean
                } else {
                    f64::INFINITY
                };
                if cv < 0.5 && median >= 10.0 {
                    score += 2.0;
                    why.push(format!(
                        "drafts are created at a regular interval (median {:.0} s, variation {:.0}%)",
                        median,
                        cv * 100.0
                    ));
                }
            }
            let known = KNOWN_CLIENTS.contains(&st.app.to_ascii_lowercase().as_str());
            if !known && (st.rest || !st.app.is_empty()) && score > 0.0 {
                score += 1.0;
                why.push(format!(
                    "the application {} is not a mail client people use{}",
                    st.app,
                    if st.rest { " (REST/Graph access)" } else { "" }
                ));
            }
            if !st.new_ips.is_empty() && score > 0.0 {
                score += 2.0;
                why.push(format!(
                    "it works from address(es) the tenant had never used before: {}",
                    st.new_ips
                        .iter()
                        .map(|i| crate::util::defang(i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let strong = st.c2_subjects >= 3 || (why.len() >= 3 && n >= 5);
            if score < self.min_score || !strong {
                continue;
            }
            let (t0, prov) = st.first.clone().unwrap_or((Timestamp::UNKNOWN, None));
            let prov = prov.unwrap_or(Provenance {
                path: "m365-audit".into(),
                record: 0,
                format: SourceFormat::Jsonl,
            });
            let level = if score >= 8.0 {
                Level::Critical
            } else {
                Level::High
            };
            let mut f = Finding::new(rule(), level, t0, "", prov);
            f.events = st.sample.clone();
            let d = &mut f.details;
            d.insert("user".into(), st.user.clone().into());
            d.insert("app_id".into(), st.app.clone().into());
            d.insert("score".into(), score.into());
            d.insert("drafts_created".into(), (n as u64).into());
            d.insert("drafts_deleted".into(), st.deletes.into());
            d.insert("drafts_read".into(), st.reads.into());
            if median > 0.0 {
                d.insert("interval_median_s".into(), median.round().into());
                d.insert(
                    "interval_variation".into(),
                    ((cv * 100.0).round() / 100.0).into(),
                );
            }
            d.insert("first".into(), t0.to_rfc3339().into());
            d.insert("last".into(), st.last.to_rfc3339().into());
            d.insert(
                "subjects".into(),
                st.subjects.iter().cloned().collect::<Vec<_>>().into(),
            );
            d.insert(
                "client_ips".into(),
                st.ips
                    .iter()
                    .map(|i| crate::util::defang(i))
                    .collect::<Vec<_>>()
                    .into(),
            );
            d.insert(
                "explanation".into(),
                format!(
                    "Mailbox drafts used as a command channel: {}.",
                    why.join("; ")
                )
                .into(),
            );
            out.push(f);
        }
        out
    }
}

/// [`DraftC2Detector`] as an engine analyzer over events from the JSON reader.
#[derive(Default)]
pub struct DraftC2Analyzer {
    pub detector: DraftC2Detector,
}

impl DraftC2Analyzer {
    pub fn new() -> Self {
        DraftC2Analyzer {
            detector: DraftC2Detector::new(),
        }
    }
}

impl Analyzer for DraftC2Analyzer {
    fn name(&self) -> &str {
        "m365-draft-c2"
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn wants_findings(&self) -> bool {
        false
    }
    fn observe_event(&mut self, event: &Event, _out: &mut Vec<Finding>) {
        if let Some(r) = record_from_event(event) {
            self.detector.observe(&r);
        }
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        out.extend(self.detector.finish());
    }
    fn state_bytes(&self) -> usize {
        self.detector
            .keys
            .values()
            .map(|k| 256 + k.creates.len() * 8 + k.sample.len() * 64)
            .sum::<usize>()
            + self.detector.seen_ips.len() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: i64, op: &str, user: &str, app: &str, ip: &str, subject: &str) -> AuditRecord {
        AuditRecord {
            time: Timestamp::from_nanos(t * 1_000_000_000),
            operation: op.into(),
            workload: "Exchange".into(),
            user: user.into(),
            client_ip: ip.into(),
            app_id: app.into(),
            client_info: "Client=REST;".into(),
            subjects: vec![subject.into()],
            folders: vec!["\\Drafts".into()],
            ..Default::default()
        }
    }

    #[test]
    fn finds_the_draft_channel_and_not_people() {
        let mut d = DraftC2Detector::new();
        let app = "142a7939-db6e-4208-a7f8-9ded1d0e01a7";
        // People: Outlook drafts at random times.
        for i in 0..30 {
            d.observe(&rec(
                1_000 + i * i * 37,
                "Create",
                "a@corp.example",
                KNOWN_CLIENTS[0],
                "203.0.113.72",
                "Budget figures",
            ));
        }
        for i in 0..20 {
            let t = 10_000 + i * 240 + (i % 3) * 20;
            d.observe(&rec(
                t,
                "Create",
                "n@corp.example",
                app,
                "203.0.113.72",
                &format!("p_{}", 4242),
            ));
            d.observe(&rec(
                t + 40,
                "MailItemsAccessed",
                "n@corp.example",
                app,
                "47.239.0.216",
                "p_4242",
            ));
            d.observe(&rec(
                t + 42,
                "HardDelete",
                "n@corp.example",
                app,
                "47.239.0.216",
                "p_4242",
            ));
        }
        let f = d.finish();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].details["user"], "n@corp.example");
        assert!(f[0].attack.contains(&"T1102.002".to_string()));
        let why = f[0].details["explanation"].as_str().unwrap();
        assert!(
            why.contains("regular interval") && why.contains("never used"),
            "{why}"
        );
        assert!(c2_subject("r_17") && !c2_subject("r_") && !c2_subject("report_1"));
    }
}
