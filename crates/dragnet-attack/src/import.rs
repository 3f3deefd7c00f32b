//! Import of ATT&CK's STIX 2.0 bundle (`enterprise-attack.json`) into the compact data text
//! embedded in the crate (`data/attack.tsv`, format in [`crate::data`]).
//!
//! Only the fields needed are deserialised (descriptions and references are skipped by serde
//! without being kept), so the 34 MB bundle costs little memory beyond its bytes.

use crate::data::{clean, FORMAT_HEADER};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

#[derive(Deserialize)]
struct Bundle {
    #[serde(default)]
    id: String,
    #[serde(default)]
    objects: Vec<Obj>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Obj {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: Option<String>,
    aliases: Vec<String>,
    external_references: Vec<ExtRef>,
    kill_chain_phases: Vec<Phase>,
    x_mitre_deprecated: bool,
    revoked: bool,
    x_mitre_shortname: Option<String>,
    tactic_refs: Vec<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    modified: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExtRef {
    source_name: String,
    external_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Phase {
    kill_chain_name: String,
    phase_name: String,
}

impl Obj {
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| r.source_name == "mitre-attack")
            .and_then(|r| r.external_id.as_deref())
    }
}

/// The v19 revocation list (`attack-v19-revoked-by.json`): `{"revoked_by": {"OLD": "NEW"}}`.
#[derive(Deserialize)]
struct RevokedBy {
    revoked_by: BTreeMap<String, String>,
}

struct Tech {
    name: String,
    tactics: Vec<String>,
    deprecated: bool,
    revoked_by: Option<String>,
    /// Comes from the revocation list, not from the bundle.
    later: bool,
}

/// True for `T1234` and `T1234.567`.
pub(crate) fn is_technique_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// Reads the STIX bundle (and optionally the later revocation list) and returns the data text
/// of `data/attack.tsv`. Deterministic: the same inputs give the same bytes.
///
/// One record a line, fields separated by tabs, lists inside a field by `,` (ids) or `|`
/// (aliases):
///
/// ```text
/// #dragnet-attack/1  bundle=...  matrix-modified=...  later-revocations=N     (header)
/// A  TA0043  reconnaissance  Reconnaissance                    (tactics, kill-chain order)
/// T  T1003.001  LSASS Memory  credential-access  FLAGS  REVOKED_BY
/// S  S0596  ShadowPad  malware  T1008,T1027,...                (software and its techniques)
/// G  G0096  APT41  Wicked Panda|Brass Typhoon|...  DIRECT_TECHNIQUES  SOFTWARE_IDS
/// ```
///
/// `FLAGS`: `d` deprecated, `l` defined by the later revocation list (a newer ATT&CK id that
/// the bundle does not define; its name and tactics are those of the technique it replaces).
pub fn import(bundle: &[u8], revoked_by: Option<&[u8]>) -> Result<String, String> {
    let bundle: Bundle = serde_json::from_slice(bundle)
        .map_err(|e| format!("ATT&CK bundle is not a STIX bundle: {e}"))?;
    let later: Option<RevokedBy> = match revoked_by {
        Some(b) => Some(serde_json::from_slice(b).map_err(|e| {
            format!("revoked-by list: expected {{\"revoked_by\": {{OLD: NEW}}}}: {e}")
        })?),
        None => None,
    };

    let by_stix: HashMap<&str, &Obj> = bundle.objects.iter().map(|o| (o.id.as_str(), o)).collect();

    // Tactics, in the order of the enterprise matrix.
    let matrix = bundle
        .objects
        .iter()
        .filter(|o| o.kind == "x-mitre-matrix" && !o.revoked && !o.x_mitre_deprecated)
        .max_by_key(|o| o.tactic_refs.len())
        .ok_or("ATT&CK bundle has no x-mitre-matrix object")?;
    let mut tactics: Vec<(String, String, String)> = Vec::new();
    for r in &matrix.tactic_refs {
        let t = by_stix
            .get(r.as_str())
            .ok_or_else(|| format!("matrix names tactic {r}, which the bundle does not hold"))?;
        let id = t
            .attack_id()
            .ok_or_else(|| format!("tactic {r} has no ATT&CK id"))?;
        let short = t
            .x_mitre_shortname
            .as_deref()
            .ok_or_else(|| format!("tactic {id} has no shortname"))?;
        tactics.push((
            clean(id),
            clean(short),
            clean(t.name.as_deref().unwrap_or(short)),
        ));
    }
    let tactic_rank: HashMap<&str, usize> = tactics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.1.as_str(), i))
        .collect();

    // Revocations inside the bundle: STIX id -> STIX id.
    let mut revoked_to: HashMap<&str, &str> = HashMap::new();
    for o in &bundle.objects {
        if o.kind == "relationship" && o.relationship_type.as_deref() == Some("revoked-by") {
            if let (Some(s), Some(t)) = (o.source_ref.as_deref(), o.target_ref.as_deref()) {
                revoked_to.insert(s, t);
            }
        }
    }

    // Techniques.
    let mut techs: BTreeMap<String, Tech> = BTreeMap::new();
    for o in bundle.objects.iter().filter(|o| o.kind == "attack-pattern") {
        let Some(id) = o.attack_id().filter(|i| is_technique_id(i)) else {
            continue;
        };
        let mut tac: Vec<&str> = o
            .kill_chain_phases
            .iter()
            .filter(|p| p.kill_chain_name == "mitre-attack")
            .map(|p| p.phase_name.as_str())
            .collect();
        tac.sort_by_key(|t| tactic_rank.get(t).copied().unwrap_or(usize::MAX));
        tac.dedup();
        let revoked_by = if o.revoked {
            revoked_to
                .get(o.id.as_str())
                .and_then(|t| by_stix.get(t))
                .and_then(|t| t.attack_id())
                .map(clean)
        } else {
            None
        };
        let tech = Tech {
            name: clean(o.name.as_deref().unwrap_or("")),
            tactics: tac.into_iter().map(clean).collect(),
            deprecated: o.x_mitre_deprecated,
            revoked_by,
            later: false,
        };
        // Two objects with one id (should not happen): keep the current one.
        match techs.get(id) {
            Some(old) if !old.deprecated && old.revoked_by.is_none() => {}
            _ => {
                techs.insert(clean(id), tech);
            }
        }
    }

    // The later revocation list: new ids take name and tactics from what they replace
    // (the replaced technique at the same level, parent or sub-technique, lowest id first).
    if let Some(l) = &later {
        let mut replaces: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (old, new) in &l.revoked_by {
            if !is_technique_id(old) || !is_technique_id(new) {
                return Err(format!(
                    "revoked-by list: {old} -> {new} is not a technique id pair"
                ));
            }
            replaces.entry(new.as_str()).or_default().push(old.as_str());
        }
        for (new, olds) in &replaces {
            if techs.contains_key(*new) {
                continue;
            }
            let same_level = |o: &&&str| o.contains('.') == new.contains('.');
            let src = olds
                .iter()
                .find(same_level)
                .or(olds.first())
                .and_then(|o| techs.get(*o));
            let Some(src) = src else {
                return Err(format!(
                    "revoked-by list: {new} replaces {olds:?}, none of which the bundle defines"
                ));
            };
            let t = Tech {
                name: src.name.clone(),
                tactics: src.tactics.clone(),
                deprecated: false,
                revoked_by: None,
                later: true,
            };
            techs.insert((*new).to_string(), t);
        }
        for (old, new) in &l.revoked_by {
            if let Some(t) = techs.get_mut(old.as_str()) {
                if t.revoked_by.is_none() {
                    t.revoked_by = Some(new.clone());
                }
            }
        }
    }

    // Software (malware, tool) and what it uses; groups and what they use.
    let live = |o: &Obj| !o.revoked && !o.x_mitre_deprecated;
    let mut soft_techs: HashMap<&str, BTreeSet<String>> = HashMap::new();
    let mut group_techs: HashMap<&str, BTreeSet<String>> = HashMap::new();
    let mut group_soft: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for r in bundle.objects.iter().filter(|o| {
        o.kind == "relationship" && o.relationship_type.as_deref() == Some("uses") && live(o)
    }) {
        let (Some(s), Some(t)) = (r.source_ref.as_deref(), r.target_ref.as_deref()) else {
            continue;
        };
        let (Some(src), Some(dst)) = (by_stix.get(s), by_stix.get(t)) else {
            continue;
        };
        if !live(src) {
            continue;
        }
        let soft = |k: &str| k == "malware" || k == "tool";
        match (src.kind.as_str(), dst.kind.as_str()) {
            ("intrusion-set", "attack-pattern") => {
                if let Some(id) = dst.attack_id().filter(|i| is_technique_id(i)) {
                    group_techs.entry(s).or_default().insert(clean(id));
                }
            }
            ("intrusion-set", k) if soft(k) && live(dst) => {
                group_soft.entry(s).or_default().insert(t);
            }
            (k, "attack-pattern") if soft(k) => {
                if let Some(id) = dst.attack_id().filter(|i| is_technique_id(i)) {
                    soft_techs.entry(s).or_default().insert(clean(id));
                }
            }
            _ => {}
        }
    }

    let mut out = String::with_capacity(256 * 1024);
    let _ = writeln!(
        out,
        "{FORMAT_HEADER}\tbundle={}\tmatrix-modified={}\tlater-revocations={}",
        clean(&bundle.id),
        clean(matrix.modified.as_deref().unwrap_or("")),
        later.as_ref().map_or(0, |l| l.revoked_by.len())
    );
    for (id, short, name) in &tactics {
        let _ = writeln!(out, "A\t{id}\t{short}\t{name}");
    }
    for (id, t) in &techs {
        let flags = match (t.deprecated, t.later) {
            (true, true) => "dl",
            (true, false) => "d",
            (false, true) => "l",
            (false, false) => "",
        };
        let _ = writeln!(
            out,
            "T\t{id}\t{}\t{}\t{flags}\t{}",
            t.name,
            t.tactics.join(","),
            t.revoked_by.as_deref().unwrap_or("")
        );
    }
    // Every current piece of software (malware, tool), by ATT&CK id, so that profiles can
    // name software no group uses.
    let mut softs: BTreeMap<String, (&Obj, &str)> = BTreeMap::new();
    for o in bundle
        .objects
        .iter()
        .filter(|o| (o.kind == "malware" || o.kind == "tool") && live(o))
    {
        if let Some(id) = o.attack_id() {
            softs.insert(clean(id), (o, o.id.as_str()));
        }
    }
    for (id, (o, stix)) in &softs {
        let techs: Vec<&str> = soft_techs
            .get(stix)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "S\t{id}\t{}\t{}\t{}",
            clean(o.name.as_deref().unwrap_or("")),
            o.kind,
            techs.join(",")
        );
    }
    let mut groups: Vec<(String, &Obj)> = bundle
        .objects
        .iter()
        .filter(|o| o.kind == "intrusion-set" && live(o))
        .filter_map(|o| o.attack_id().map(|id| (clean(id), o)))
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, o) in &groups {
        let name = clean(o.name.as_deref().unwrap_or(""));
        let aliases: Vec<String> = o
            .aliases
            .iter()
            .map(|a| clean(a).replace('|', "/"))
            .filter(|a| *a != name)
            .collect();
        let direct: Vec<&str> = group_techs
            .get(o.id.as_str())
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut soft: Vec<String> = group_soft
            .get(o.id.as_str())
            .map(|s| {
                s.iter()
                    .filter_map(|x| by_stix.get(x).and_then(|o| o.attack_id()).map(clean))
                    .collect()
            })
            .unwrap_or_default();
        soft.sort();
        let _ = writeln!(
            out,
            "G\t{id}\t{name}\t{}\t{}\t{}",
            aliases.join("|"),
            direct.join(","),
            soft.join(",")
        );
    }
    Ok(out)
}
