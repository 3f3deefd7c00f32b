//! Actor profiles: actors ATT&CK does not describe (or describes differently), as data.
//!
//! The built-in file is `data/profiles.yml`; users load more of the same format with
//! `Attributor::with_profiles_file` (`dragnet attack rank --profiles FILE`). Format:
//!
//! ```yaml
//! profiles:
//!   - id: ink-dragon                 # required, unique; a later file replaces an earlier id
//!     name: Ink Dragon               # required
//!     aliases: [REF7707, CL-STA-0049, Earth Alux]
//!     description: one paragraph     # optional
//!     references: [https://...]      # optional
//!     software: [S0596]              # optional: ATT&CK software whose techniques count too
//!     techniques: [T1190, T1505.003] # ATT&CK technique ids (revoked ids are resolved)
//!     iocs:                          # optional indicators
//!       - type: domain               # sha256, domain, ipv4, named_pipe, service, ...
//!         value: poster.checkponit.com
//!         role: payload host         # optional
//!         source: Elastic            # optional
//!         note: registered 2022-08-26 # optional
//! ```
//!
//! Scalars are read as written (no YAML type resolution): `value: 0123` stays `0123`.

use crate::kb::{normalize_technique_id, KnowledgeBase};
use dragnet_yaml::{parse_documents, Node, NodeKind};
use serde::{Deserialize, Serialize};

/// The built-in profiles (Ink Dragon).
pub const EMBEDDED_PROFILES: &str = include_str!("../data/profiles.yml");

/// Profile files larger than this are refused.
pub const MAX_PROFILE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One actor profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// ATT&CK software ids (`S0596`) whose techniques belong to the profile too.
    #[serde(default)]
    pub software: Vec<String>,
    /// Technique ids as written in the file, normalised (`T1003.001`).
    pub techniques: Vec<String>,
    #[serde(default)]
    pub iocs: Vec<Ioc>,
}

/// One indicator of a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ioc {
    /// `sha256`, `domain`, `ipv4`, `named_pipe`, `scheduled_task`, `service`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub note: String,
}

fn text(map: &Node, key: &str, ctx: &str) -> Result<String, String> {
    match map.get(key) {
        None => Ok(String::new()),
        Some(v) => match v.as_str() {
            Some(s) => Ok(s.trim().to_string()),
            None if v.is_null() => Ok(String::new()),
            None => Err(format!("{ctx}: `{key}` must be a string")),
        },
    }
}

fn list(map: &Node, key: &str, ctx: &str) -> Result<Vec<String>, String> {
    match map.get(key) {
        None => Ok(Vec::new()),
        Some(Node {
            kind: NodeKind::Seq(items),
            ..
        }) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| format!("{ctx}: `{key}` must be a list of strings"))
            })
            .collect(),
        Some(v) => match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(vec![s.trim().to_string()]),
            _ => Ok(Vec::new()),
        },
    }
}

/// Parses a profiles document. `origin` names it in errors (a path). Technique ids must look
/// like ATT&CK ids; software ids must be known to `kb`.
///
/// ```yaml
/// profiles:
///   - id: ink-dragon                 # required, unique; a later file replaces an earlier id
///     name: Ink Dragon               # required
///     aliases: [REF7707, CL-STA-0049, Earth Alux]
///     description: one paragraph     # optional
///     references: [https://...]      # optional
///     software: [S0596]              # optional: ATT&CK software whose techniques count too
///     techniques: [T1190, T1505.003] # ATT&CK technique ids (revoked ids are resolved)
///     iocs:                          # optional indicators
///       - type: domain               # sha256, domain, ipv4, named_pipe, service, ...
///         value: poster.checkponit.com
///         role: payload host         # optional
///         source: Elastic            # optional
///         note: registered 2022-08-26 # optional
/// ```
///
/// Scalars are read as written (no YAML type resolution): `value: 0123` stays `0123`.
pub fn parse_profiles(
    text_in: &str,
    origin: &str,
    kb: &KnowledgeBase,
) -> Result<Vec<Profile>, String> {
    let docs = parse_documents(text_in)
        .map_err(|e| format!("{origin}:{}: not YAML: {}", e.line, e.message))?;
    if docs.is_empty() {
        return Err(format!("{origin}: empty, expected a `profiles:` list"));
    }
    let mut out: Vec<Profile> = Vec::new();
    for doc in &docs {
        let Some(list_node) = doc.get("profiles") else {
            return Err(format!(
                "{origin}: expected a mapping with a `profiles:` list"
            ));
        };
        let Some(items) = list_node.as_seq() else {
            return Err(format!("{origin}: `profiles` must be a list"));
        };
        for (n, item) in items.iter().enumerate() {
            let ctx0 = format!("{origin}: profile #{}", n + 1);
            if item.as_map().is_none() {
                return Err(format!("{ctx0}: must be a mapping"));
            }
            let id = text(item, "id", &ctx0)?;
            if id.is_empty() {
                return Err(format!("{ctx0}: `id` is required"));
            }
            let ctx = format!("{origin}: profile {id:?}");
            let name = text(item, "name", &ctx)?;
            if name.is_empty() {
                return Err(format!("{ctx}: `name` is required"));
            }
            let mut techniques = Vec::new();
            for t in list(item, "techniques", &ctx)? {
                let n = normalize_technique_id(&t);
                if !crate::import::is_technique_id(&n) {
                    return Err(format!(
                        "{ctx}: technique {t:?} is not an ATT&CK id (T1234 or T1234.567)"
                    ));
                }
                if !techniques.contains(&n) {
                    techniques.push(n);
                }
            }
            let mut software = Vec::new();
            for s in list(item, "software", &ctx)? {
                match kb.software_by(&s) {
                    Some(sw) => software.push(sw.id.clone()),
                    None => {
                        return Err(format!(
                            "{ctx}: software {s:?} is not in the ATT&CK knowledge base"
                        ))
                    }
                }
            }
            if techniques.is_empty() && software.is_empty() {
                return Err(format!("{ctx}: needs `techniques` or `software`"));
            }
            let mut iocs = Vec::new();
            match item.get("iocs").map(|n| n.as_seq().ok_or(n)) {
                None => {}
                Some(Ok(rows)) => {
                    for (k, row) in rows.iter().enumerate() {
                        let c = format!("{ctx}: ioc #{}", k + 1);
                        if row.as_map().is_none() {
                            return Err(format!("{c}: must be a mapping"));
                        }
                        let ioc = Ioc {
                            kind: text(row, "type", &c)?,
                            value: text(row, "value", &c)?,
                            role: text(row, "role", &c)?,
                            source: text(row, "source", &c)?,
                            note: text(row, "note", &c)?,
                        };
                        if ioc.kind.is_empty() || ioc.value.is_empty() {
                            return Err(format!("{c}: `type` and `value` are required"));
                        }
                        iocs.push(ioc);
                    }
                }
                Some(Err(_)) => return Err(format!("{ctx}: `iocs` must be a list")),
            }
            let p = Profile {
                id,
                name,
                aliases: list(item, "aliases", &ctx)?,
                description: text(item, "description", &ctx)?,
                references: list(item, "references", &ctx)?,
                software,
                techniques,
                iocs,
            };
            if out.iter().any(|o| o.id == p.id) {
                return Err(format!("{ctx}: id used twice in the file"));
            }
            out.push(p);
        }
    }
    Ok(out)
}
