//! Suricata alerts as findings: every EVE record with `event_type: alert` becomes a finding
//! titled with its signature; severity 1 -> high, 2 -> medium, 3 -> low, others informational
//! (an alert whose category says "attempted administrator privilege gain" or similar keeps its
//! severity: the rule writer chose it). ATT&CK ids from the rule's metadata when it has them
//! (`mitre_technique_id`).

use dragnet_event::{Detector, Event, Finding, Level, RuleMeta, SourceFormat, Value};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// (signature id, signature).
type RuleKey = (i64, Box<str>);

/// Turns Suricata alerts into findings.
#[derive(Default)]
pub struct SuricataAlerts {
    /// One `RuleMeta` per signature id, shared by its findings.
    rules: Mutex<HashMap<RuleKey, Arc<RuleMeta>>>,
}

impl SuricataAlerts {
    pub fn new() -> Self {
        Self::default()
    }
}

fn text(ev: &Event, name: &str) -> Option<String> {
    ev.get_text(name).map(|s| s.into_owned())
}

/// EVE severity (1 highest) -> level.
pub fn level_of_severity(sev: Option<i64>) -> Level {
    match sev {
        Some(1) => Level::High,
        Some(2) => Level::Medium,
        Some(3) => Level::Low,
        _ => Level::Informational,
    }
}

impl Detector for SuricataAlerts {
    fn name(&self) -> &str {
        "suricata"
    }

    fn detect(&self, ev: &Event, out: &mut Vec<Finding>) {
        // EVTX, JSON and other records cost one comparison.
        if ev.provenance.format != SourceFormat::SuricataEve {
            return;
        }
        if !matches!(ev.get("_product"), Some(Value::Str(s)) if &**s == "suricata") {
            return;
        }
        if !matches!(ev.get("event_type"), Some(Value::Str(s)) if &**s == "alert") {
            return;
        }
        let signature = text(ev, "alert.signature").unwrap_or_else(|| "Suricata alert".into());
        let sid = ev
            .get("alert.signature_id")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let severity = ev.get("alert.severity").and_then(Value::as_i64);
        let category = text(ev, "alert.category").unwrap_or_default();
        let rule = {
            let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
            let key = (sid, Box::from(signature.as_str()));
            if let Some(r) = rules.get(&key) {
                Arc::clone(r)
            } else {
                let mut tags = vec![];
                for name in [
                    "alert.metadata.mitre_technique_id",
                    "alert.metadata.mitre_tactic_name",
                ] {
                    if let Some(Value::List(l)) = ev.get(name) {
                        for t in l.iter().filter_map(Value::as_text) {
                            let t = t.to_ascii_lowercase().replace([' ', '_'], "-");
                            tags.push(format!("attack.{t}"));
                        }
                    }
                }
                let r = Arc::new(RuleMeta {
                    id: format!(
                        "suricata-{}-{sid}",
                        ev.get("alert.gid").and_then(Value::as_i64).unwrap_or(1)
                    ),
                    title: signature.clone(),
                    author: "Suricata rule set (via dragnet)".into(),
                    description: category.clone(),
                    tags,
                    source: "suricata".into(),
                    kind: "suricata".into(),
                    ..Default::default()
                });
                if rules.len() < 100_000 {
                    rules.insert(key, Arc::clone(&r));
                }
                r
            }
        };
        let mut f = Finding::new(
            rule,
            level_of_severity(severity),
            ev.time,
            &ev.host,
            ev.provenance.clone(),
        );
        for (k, name) in [
            ("src", "src_ip"),
            ("src_port", "src_port"),
            ("dst", "dest_ip"),
            ("dst_port", "dest_port"),
            ("proto", "proto"),
            ("signature", "alert.signature"),
            ("signature_id", "alert.signature_id"),
            ("category", "alert.category"),
            ("severity", "alert.severity"),
            ("action", "alert.action"),
            ("app_proto", "app_proto"),
            ("http_host", "http.hostname"),
            ("url", "http.url"),
            ("sni", "tls.sni"),
            ("query", "dns.rrname"),
        ] {
            if let Some(v) = ev.get(name) {
                f.details.insert(k.into(), v.to_json());
            }
        }
        f.details.insert(
            "explanation".into(),
            json!(format!(
                "Suricata signature {sid} fired ({category}); EVE severity {} -> {}",
                severity
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "?".into()),
                f.level
            )),
        );
        out.push(f);
    }
}
