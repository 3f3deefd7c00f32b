//! ATT&CK Navigator layers (layer format 4.5): one for a whole run, one per incident.
//!
//! Each technique seen gets one entry per tactic it belongs to (so the Navigator colours the
//! right cell of a technique that sits under several tactics), `score` = the number of findings,
//! and a `comment` naming the rules (with their authors) and the hosts. The gradient runs from
//! white at 0 to red at the highest count.

use crate::matrix::{self, TechniqueUse};
use crate::Digest;
use crate::RunInfo;
use dragnet_incident::Incident;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// ATT&CK release the layers name.
pub const ATTACK_VERSION: &str = "18";
/// Navigator version the layers name (that of the reference layer).
pub const NAVIGATOR_VERSION: &str = "5.1.0";
/// Layer format.
pub const LAYER_VERSION: &str = "4.5";

/// The layer of a whole run.
pub fn run_layer(findings: &Digest, info: &RunInfo) -> Value {
    let used = findings.techniques();
    let span = info
        .span_or(findings.span())
        .map(|(a, b)| format!(" from {a} to {b}"))
        .unwrap_or_default();
    layer(
        &format!("{}: techniques seen", info.org_name()),
        &format!(
            "{} findings in {} files{span}, by {}",
            findings.count(),
            info.files,
            tool(info)
        ),
        &used,
    )
}

/// The layer of one incident (from its kill-chain steps).
pub fn incident_layer(inc: &Incident, info: &RunInfo) -> Value {
    let known = matrix::tactics();
    let used = matrix::techniques_in_incident(inc, &known);
    layer(
        &format!("{} {}", one_line(&inc.id, 40), one_line(&inc.title, 120)),
        &format!(
            "{} findings from {} to {}, score {:.0}, by {}",
            inc.findings,
            inc.first,
            inc.last,
            inc.score,
            tool(info)
        ),
        &used,
    )
}

/// Where the layer of an incident goes, beside the run's: `layer.json` -> `layer-INC-0001.json`.
/// The id is reduced to letters, digits, `-` and `_` (it comes from a file that may be hostile).
pub fn incident_layer_path(run_layer: &Path, incident_id: &str) -> PathBuf {
    let stem = run_layer
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "layer".into());
    let ext = run_layer
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "json".into());
    let id: String = incident_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    let id = if id.is_empty() { "incident".into() } else { id };
    run_layer.with_file_name(format!("{stem}-{id}.{ext}"))
}

fn tool(info: &RunInfo) -> &str {
    if info.tool.is_empty() {
        "dragnet"
    } else {
        &info.tool
    }
}

fn one_line(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

fn layer(name: &str, description: &str, used: &[TechniqueUse]) -> Value {
    let max = used.iter().map(|u| u.count).max().unwrap_or(0).max(1);
    let mut techniques = Vec::new();
    for u in used {
        let comment = comment(u);
        let metadata: Vec<Value> = u
            .rules
            .iter()
            .map(|(t, a)| json!({"name": "rule", "value": format!("{} (author: {})", one_line(t, 200), one_line(a, 200))}))
            .chain(u.hosts.iter().map(|h| json!({"name": "host", "value": one_line(h, 200)})))
            .collect();
        let mut entry = |tactic: Option<&str>| {
            let mut e = json!({
                "techniqueID": u.id,
                "score": u.count,
                "comment": comment,
                "enabled": true,
                "metadata": metadata,
                "showSubtechniques": false,
            });
            if let Some(t) = tactic {
                e["tactic"] = json!(t);
            }
            techniques.push(e);
        };
        if u.tactics.is_empty() {
            entry(None);
        } else {
            for t in &u.tactics {
                entry(Some(t));
            }
        }
    }
    json!({
        "name": name,
        "versions": {
            "attack": ATTACK_VERSION,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": ["#ffffff", "#ff6666"],
            "minValue": 0,
            "maxValue": max,
        },
        "legendItems": [],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

fn comment(u: &TechniqueUse) -> String {
    let rules: Vec<String> = u
        .rules
        .iter()
        .map(|(t, a)| format!("{} (author: {})", one_line(t, 200), one_line(a, 200)))
        .collect();
    let hosts: Vec<String> = u.hosts.iter().map(|h| one_line(h, 100)).collect();
    format!(
        "{}{}: {} finding(s), {} to {}; rules: {}; hosts: {}",
        u.id,
        u.name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default(),
        u.count,
        u.first,
        u.last,
        rules.join("; "),
        hosts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Finding, Level, Provenance, RuleMeta, SourceFormat, Timestamp};
    use std::sync::Arc;

    fn findings() -> Vec<Finding> {
        let rule = Arc::new(RuleMeta {
            id: "r".into(),
            title: "Certutil download".into(),
            author: "Jane Doe".into(),
            tags: vec!["attack.command-and-control".into(), "attack.t1105".into()],
            ..Default::default()
        });
        ["WS1", "WS2"]
            .iter()
            .map(|h| {
                Finding::new(
                    rule.clone(),
                    Level::High,
                    Timestamp::parse("2024-01-01T00:00:00Z").unwrap(),
                    h,
                    Provenance {
                        path: "x".into(),
                        record: 1,
                        format: SourceFormat::Evtx,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn layer_has_the_fields_of_the_reference_layer() {
        let layer = run_layer(&Digest::of(&findings(), 10), &RunInfo::default());
        let shared = std::env::var("DRAGNET_SHARED").unwrap_or_else(|_| "../../../shared".into());
        let path = Path::new(&shared).join("data/stix/navigator-layer-4.5-minimal.json");
        let reference: Value = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).unwrap(),
            Err(e) => {
                eprintln!("SKIPPED: reference layer {}: {e}", path.display());
                return;
            }
        };
        // Every top-level key, version key, technique key and gradient key of the reference
        // layer is present, with the same JSON type.
        fn same_shape(reference: &Value, ours: &Value, at: &str) {
            if let (Some(r), Some(o)) = (reference.as_object(), ours.as_object()) {
                for (k, v) in r {
                    let ov = o.get(k).unwrap_or_else(|| panic!("{at}.{k} missing"));
                    assert_eq!(
                        std::mem::discriminant(v),
                        std::mem::discriminant(ov),
                        "{at}.{k}: {v} vs {ov}"
                    );
                    if k != "techniques" {
                        same_shape(v, ov, &format!("{at}.{k}"));
                    }
                }
            }
        }
        same_shape(&reference, &layer, "layer");
        let rt = &reference["techniques"][1];
        let ot = &layer["techniques"][0];
        for k in ["techniqueID", "tactic", "score", "comment"] {
            assert_eq!(
                std::mem::discriminant(&rt[k]),
                std::mem::discriminant(&ot[k]),
                "technique key {k}"
            );
        }
        assert_eq!(layer["versions"]["layer"], reference["versions"]["layer"]);
        assert_eq!(layer["domain"], reference["domain"]);
        assert_eq!(ot["techniqueID"], "T1105");
        assert_eq!(ot["tactic"], "command-and-control");
        assert_eq!(ot["score"], 2);
        let c = ot["comment"].as_str().unwrap();
        assert!(
            c.contains("Certutil download (author: Jane Doe)") && c.contains("WS1, WS2"),
            "{c}"
        );
    }

    #[test]
    fn incident_layers_go_beside_the_run_layer() {
        assert_eq!(
            incident_layer_path(Path::new("/o/layer.json"), "INC-0001"),
            PathBuf::from("/o/layer-INC-0001.json")
        );
        assert_eq!(
            incident_layer_path(Path::new("l.json"), "../../etc/x"),
            PathBuf::from("l-etcx.json")
        );
    }
}
