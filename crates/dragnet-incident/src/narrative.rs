//! Words for incidents: a title, a one-paragraph narrative and one line per step.

use crate::model::{Incident, StepRule};

/// How a tactic reads in a sentence.
pub fn tactic_phrase(tactic: &str) -> &'static str {
    match tactic {
        "reconnaissance" => "reconnaissance",
        "resource-development" => "attacker infrastructure",
        "initial-access" => "initial access",
        "execution" => "execution",
        "persistence" => "persistence",
        "privilege-escalation" => "privilege escalation",
        "defense-evasion" => "defence evasion",
        "credential-access" => "credential theft",
        "discovery" => "discovery",
        "lateral-movement" => "lateral movement",
        "collection" => "collection and staging",
        "command-and-control" => "command and control",
        "exfiltration" => "exfiltration",
        "impact" => "impact",
        _ => "other activity",
    }
}

/// Which tactics name an incident first.
const TITLE_PRIORITY: &[&str] = &[
    "impact",
    "exfiltration",
    "credential-access",
    "lateral-movement",
    "initial-access",
    "command-and-control",
    "persistence",
    "privilege-escalation",
    "collection",
    "execution",
    "defense-evasion",
    "discovery",
    "resource-development",
    "reconnaissance",
];

fn lateral_methods(inc: &Incident) -> Vec<String> {
    let mut m: Vec<String> = Vec::new();
    for e in &inc.edges {
        let name = match e.method.as_str() {
            "rdp" => "RDP",
            "winrm" => "WinRM",
            "wmi" => "WMI",
            "dcom" => "DCOM",
            "psexec" => "PsExec",
            "service-install" | "svcctl" | "admin-share" | "smb" => "SMB",
            _ => continue,
        };
        if !m.iter().any(|x| x == name) {
            m.push(name.to_string());
        }
    }
    m
}

fn join_words(words: &[String]) -> String {
    match words.len() {
        0 => String::new(),
        1 => words[0].clone(),
        _ => format!(
            "{} and {}",
            words[..words.len() - 1].join(", "),
            words[words.len() - 1]
        ),
    }
}

/// One line: the most telling tactics and the number of hosts ("Exfiltration, credential
/// theft and RDP/SMB lateral movement on 4 hosts").
pub fn title(inc: &Incident) -> String {
    let mut parts: Vec<String> = Vec::new();
    for t in TITLE_PRIORITY {
        if parts.len() == 3 {
            break;
        }
        // Only tactics of steps at medium or above name the incident, when there are some.
        let strong = inc
            .steps
            .iter()
            .any(|s| s.tactic == *t && s.level >= dragnet_event::Level::Medium);
        let any_strong = inc
            .steps
            .iter()
            .any(|s| s.level >= dragnet_event::Level::Medium);
        if !(strong || (!any_strong && inc.tactics.iter().any(|x| x == t))) {
            continue;
        }
        let phrase = if *t == "lateral-movement" {
            let m = lateral_methods(inc);
            if m.is_empty() {
                "lateral movement".to_string()
            } else {
                format!("{} lateral movement", m.join("/"))
            }
        } else {
            tactic_phrase(t).to_string()
        };
        parts.push(phrase);
    }
    if parts.is_empty() {
        parts.push("suspicious activity".to_string());
    }
    let mut s = join_words(&parts);
    if let Some(c) = s.get(0..1) {
        s = c.to_ascii_uppercase() + &s[1..];
    }
    let hosts = inc.entities.hosts.len();
    match hosts {
        0 => s,
        1 => format!("{s} on {}", inc.entities.hosts[0].name),
        n => format!("{s} on {n} hosts"),
    }
}

/// One line for a step.
pub fn step_summary(
    tactic: &str,
    host: &str,
    accounts: &[String],
    rules: &[StepRule],
    count: u64,
    lateral: &[(String, String, String, String)],
) -> String {
    if let Some((src, dst, method, account)) = lateral.first() {
        let who = if account.is_empty() {
            String::new()
        } else {
            format!(" as {account}")
        };
        let more = if lateral.len() > 1 {
            format!(" (and {} more edge(s))", lateral.len() - 1)
        } else {
            String::new()
        };
        return format!("{src} -> {dst} by {method}{who}{more}");
    }
    let top = rules.first().map(|r| r.title.as_str()).unwrap_or(tactic);
    let place = if host.is_empty() {
        String::new()
    } else {
        format!(" on {host}")
    };
    let who = match accounts.first() {
        Some(a) => format!(" as {a}"),
        None => String::new(),
    };
    let extra = match (rules.len(), count) {
        (1, 1) => String::new(),
        (1, c) => format!(" ({c} findings)"),
        (r, c) => format!(" ({c} findings, {r} rules)"),
    };
    format!("{top}{place}{who}{extra}")
}

/// One paragraph a responder can read aloud.
pub fn narrative(inc: &Incident) -> String {
    let hosts: Vec<String> = inc.entities.hosts.iter().map(|h| h.name.clone()).collect();
    let mut s = format!(
        "From {} to {}, {} finding(s) on {} trace {} stage(s) of the kill chain",
        inc.first,
        inc.last,
        inc.findings,
        if hosts.is_empty() {
            "no named host".to_string()
        } else if hosts.len() <= 6 {
            join_words(&hosts)
        } else {
            format!("{} hosts ({}, ...)", hosts.len(), hosts[..5].join(", "))
        },
        inc.tactics.len()
    );
    if !inc.entities.accounts.is_empty() {
        let a: Vec<String> = inc.entities.accounts.iter().take(4).cloned().collect();
        s.push_str(&format!(", involving {}", join_words(&a)));
    }
    s.push_str(". ");
    // The strongest step of each tactic, in kill-chain order.
    let mut parts = Vec::new();
    for t in &inc.tactics {
        let Some(best) = inc
            .steps
            .iter()
            .filter(|st| &st.tactic == t)
            .max_by(|a, b| a.level.cmp(&b.level).then_with(|| b.time.cmp(&a.time)))
        else {
            continue;
        };
        let mut phrase = tactic_phrase(t).to_string();
        if let Some(c) = phrase.get(0..1) {
            phrase = c.to_ascii_uppercase() + &phrase[1..];
        }
        parts.push(format!("{phrase}: {} ({})", best.summary, best.time));
        if parts.len() == 10 {
            break;
        }
    }
    if !parts.is_empty() {
        s.push_str(&parts.join("; "));
        s.push_str(". ");
    }
    let new_edges: Vec<String> = inc
        .edges
        .iter()
        .filter(|e| e.new)
        .take(5)
        .map(|e| format!("{} -> {} ({})", e.source, e.target, e.method))
        .collect();
    if !new_edges.is_empty() {
        s.push_str(&format!(
            "New lateral-movement edges: {}. ",
            new_edges.join(", ")
        ));
    }
    match inc.attribution.first() {
        Some(c) if c.score > 0.0 => s.push_str(&format!(
            "Its techniques overlap most with {} (score {:.2}): overlap, not proof.",
            c.name, c.score
        )),
        _ => s.push_str("No known actor's techniques overlap."),
    }
    s
}
