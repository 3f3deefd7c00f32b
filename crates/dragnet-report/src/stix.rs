//! A STIX 2.1 bundle of a run.
//!
//! Objects:
//! - `identity` of the reporting organisation ([`RunInfo::org`]), `created_by_ref` of all SDOs;
//! - per shareable indicator (not private addresses; hashes, IPs, domains, URLs, mail senders,
//!   file paths): the cyber-observable (SCO), an `observed-data` over it (first/last seen,
//!   count), an `indicator` with a STIX pattern, and a `sighting` of the indicator by the
//!   organisation pointing at the observed data; named pipes, services and tasks have no
//!   SCO type in STIX 2.1 and are left to the CSV and HTML outputs;
//! - per technique seen: an `attack-pattern` with its ATT&CK `external_references`;
//! - per incident: a `report` (type `threat-report`) of its attack patterns, with the
//!   narrative (a `report` rather than a `grouping` or `incident`: the OASIS bundle schema
//!   accepts no other of those); per attribution candidate an `intrusion-set`, `uses`
//!   relationships to the matched attack patterns and a `related-to` relationship from the
//!   incident's report, whose description and confidence say that technique overlap is not
//!   proof;
//! - a `report` of the run holding everything.
//!
//! Ids: SCOs are UUIDv5 in the STIX namespace over the canonical JSON of their ID-contributing
//! properties, as the specification requires; SDOs and SROs are UUIDv5 (in a dragnet namespace)
//! over their content key, so the same input and [`RunInfo`] give the same bundle. `created`
//! and `modified` are [`RunInfo::generated`].

use crate::hash::{parse_uuid, uuid_v5};
use crate::indicators::{Indicator, Indicators, IocKind};
use crate::matrix;
use crate::Digest;
use crate::RunInfo;
use dragnet_event::Timestamp;
use dragnet_incident::IncidentReport;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The namespace of SCO ids (STIX 2.1 section 2.9).
pub const STIX_NAMESPACE: &str = "00abedb4-aa42-466c-9c01-fed23315a9b7";

/// Indicators put in a bundle at most (the rest stay in the CSV).
pub const MAX_STIX_INDICATORS: usize = 5_000;

fn ns(s: &str) -> [u8; 16] {
    parse_uuid(s).unwrap_or_default()
}

/// The id of an SCO: `type--UUIDv5(STIX namespace, canonical JSON of the contributing
/// properties)`.
pub fn sco_id(kind: &str, contributing: &Value) -> String {
    let canon = canonical_json(contributing);
    format!("{kind}--{}", uuid_v5(ns(STIX_NAMESPACE), canon.as_bytes()))
}

/// The id of an SDO/SRO derived from its type and a content key.
fn sdo_id(kind: &str, key: &str) -> String {
    let dragnet_ns = uuid_v5(ns(STIX_NAMESPACE), b"dragnet");
    let name = format!("{kind}\u{1f}{key}");
    format!("{kind}--{}", uuid_v5(ns(&dragnet_ns), name.as_bytes()))
}

/// JSON canonicalisation (RFC 8785) for the values SCO ids are made of: object keys sorted by
/// UTF-16 code units, no insignificant white space, strings escaped minimally.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    canon(v, &mut out);
    out
}

fn canon(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canon(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canon(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// STIX timestamps: RFC 3339 UTC with exactly millisecond precision.
pub fn stix_time(t: Timestamp) -> String {
    let secs = t.nanos().div_euclid(1_000_000_000);
    let millis = t.nanos().rem_euclid(1_000_000_000) / 1_000_000;
    let base = Timestamp::from_nanos(secs * 1_000_000_000).to_rfc3339();
    let base = base.trim_end_matches('Z');
    format!("{base}.{millis:03}Z")
}

/// A string literal inside a STIX pattern: quotes and backslashes escaped.
pub fn pattern_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The SCO, its objects' extra SCOs (a file's directory) and the pattern of an indicator.
fn observable(i: &Indicator) -> Option<(Vec<Value>, String)> {
    let v = i.value.as_str();
    let simple = |t: &str, prop: &str| -> (Vec<Value>, String) {
        let id = sco_id(t, &json!({ "value": v }));
        (
            vec![json!({"type": t, "spec_version": "2.1", "id": id, "value": v})],
            format!("[{t}:{prop} = {}]", pattern_string(v)),
        )
    };
    Some(match i.kind {
        IocKind::Ipv4 => simple("ipv4-addr", "value"),
        IocKind::Ipv6 => simple("ipv6-addr", "value"),
        IocKind::Domain => simple("domain-name", "value"),
        IocKind::Url => simple("url", "value"),
        IocKind::Email => simple("email-addr", "value"),
        IocKind::Md5 | IocKind::Sha1 | IocKind::Sha256 => {
            let alg = match i.kind {
                IocKind::Md5 => "MD5",
                IocKind::Sha1 => "SHA-1",
                _ => "SHA-256",
            };
            let hashes = json!({ alg: v });
            let id = sco_id("file", &json!({ "hashes": hashes }));
            (
                vec![json!({"type": "file", "spec_version": "2.1", "id": id, "hashes": hashes})],
                format!("[file:hashes.'{alg}' = {}]", pattern_string(v)),
            )
        }
        IocKind::FilePath => {
            let cut = v.rfind(['\\', '/'])?;
            let (dir, name) = (&v[..cut.max(1)], &v[cut + 1..]);
            if name.is_empty() {
                return None;
            }
            let dir_id = sco_id("directory", &json!({ "path": dir }));
            let id = sco_id(
                "file",
                &json!({ "name": name, "parent_directory_ref": dir_id }),
            );
            (
                vec![
                    json!({"type": "file", "spec_version": "2.1", "id": id, "name": name,
                        "parent_directory_ref": dir_id}),
                    json!({"type": "directory", "spec_version": "2.1", "id": dir_id, "path": dir}),
                ],
                format!(
                    "[file:name = {} AND file:parent_directory_ref.path = {}]",
                    pattern_string(name),
                    pattern_string(dir)
                ),
            )
        }
        IocKind::NamedPipe | IocKind::Service | IocKind::Task => return None,
    })
}

/// Build the bundle.
pub fn bundle(
    findings: &Digest,
    incidents: &IncidentReport,
    iocs: &Indicators,
    info: &RunInfo,
) -> Value {
    let now = stix_time(info.generated);
    let org = info.org_name();
    let identity_id = sdo_id("identity", org);
    let mut objects: Vec<Value> = Vec::new();
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    let mut report_refs: Vec<String> = Vec::new();
    let mut push = |objects: &mut Vec<Value>, o: Value, in_report: bool, refs: &mut Vec<String>| {
        let id = o["id"].as_str().unwrap_or_default().to_string();
        if seen_ids.insert(id.clone()) {
            if in_report {
                refs.push(id);
            }
            objects.push(o);
        }
    };
    let common = |kind: &str, id: &str| -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), json!(kind));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        m.insert("created".into(), json!(now));
        m.insert("modified".into(), json!(now));
        m
    };

    let mut identity = common("identity", &identity_id);
    identity.insert("name".into(), json!(org));
    identity.insert("identity_class".into(), json!("organization"));
    push(
        &mut objects,
        Value::Object(identity),
        false,
        &mut report_refs,
    );

    // Indicators, observables, observed data, sightings.
    for i in iocs.shareable().take(MAX_STIX_INDICATORS) {
        let Some((scos, pattern)) = observable(i) else {
            continue;
        };
        let sco_ref = scos[0]["id"].as_str().unwrap_or_default().to_string();
        for s in scos {
            push(&mut objects, s, true, &mut report_refs);
        }
        let first = if i.first.is_unknown() {
            info.generated
        } else {
            i.first
        };
        let last = if i.last < first { first } else { i.last };
        let ind_id = sdo_id("indicator", &pattern);
        let mut ind = common("indicator", &ind_id);
        ind.insert("created_by_ref".into(), json!(identity_id));
        ind.insert(
            "name".into(),
            json!(format!("{} {}", i.kind.as_str(), clip(&i.value, 200))),
        );
        ind.insert(
            "description".into(),
            json!(format!(
                "Seen in {} finding(s) on {} host(s); rules: {}",
                i.count,
                i.hosts.len(),
                clip(&i.rules.join("; "), 2000)
            )),
        );
        ind.insert("indicator_types".into(), json!(["anomalous-activity"]));
        ind.insert("pattern".into(), json!(pattern));
        ind.insert("pattern_type".into(), json!("stix"));
        ind.insert("pattern_version".into(), json!("2.1"));
        ind.insert("valid_from".into(), json!(stix_time(first)));
        push(&mut objects, Value::Object(ind), true, &mut report_refs);

        let count = i.count.clamp(1, 999_999_999);
        let od_id = sdo_id(
            "observed-data",
            &format!("{sco_ref}\u{1f}{}\u{1f}{}", i.first, i.last),
        );
        let mut od = common("observed-data", &od_id);
        od.insert("created_by_ref".into(), json!(identity_id));
        od.insert("first_observed".into(), json!(stix_time(first)));
        od.insert("last_observed".into(), json!(stix_time(last)));
        od.insert("number_observed".into(), json!(count));
        od.insert("object_refs".into(), json!([sco_ref]));
        push(&mut objects, Value::Object(od), true, &mut report_refs);

        let mut s = common(
            "sighting",
            &sdo_id("sighting", &format!("{ind_id}\u{1f}{od_id}")),
        );
        s.insert("created_by_ref".into(), json!(identity_id));
        s.insert("first_seen".into(), json!(stix_time(first)));
        s.insert("last_seen".into(), json!(stix_time(last)));
        s.insert("count".into(), json!(count));
        s.insert("sighting_of_ref".into(), json!(ind_id));
        s.insert("observed_data_refs".into(), json!([od_id]));
        s.insert("where_sighted_refs".into(), json!([identity_id]));
        push(&mut objects, Value::Object(s), true, &mut report_refs);
    }

    // Attack patterns of every technique seen, in findings or incidents.
    let known = matrix::tactics();
    let mut techniques = findings.techniques();
    for inc in &incidents.incidents {
        for u in matrix::techniques_in_incident(inc, &known) {
            if !techniques.iter().any(|t| t.id == u.id) {
                techniques.push(u);
            }
        }
    }
    let attack_pattern = |id: &str, name: Option<&str>, tactics: &[String]| -> Value {
        let mut ap = common("attack-pattern", &sdo_id("attack-pattern", id));
        ap.insert("created_by_ref".into(), json!(identity_id));
        ap.insert("name".into(), json!(name.unwrap_or(id)));
        ap.insert(
            "external_references".into(),
            json!([{
                "source_name": "mitre-attack",
                "external_id": id,
                "url": matrix::technique_url(id),
            }]),
        );
        if !tactics.is_empty() {
            let phases: Vec<Value> = tactics
                .iter()
                .map(|t| json!({"kill_chain_name": "mitre-attack", "phase_name": t}))
                .collect();
            ap.insert("kill_chain_phases".into(), Value::Array(phases));
        }
        Value::Object(ap)
    };
    for t in &techniques {
        if valid_technique_id(&t.id) {
            push(
                &mut objects,
                attack_pattern(&t.id, t.name.as_deref(), &t.tactics),
                true,
                &mut report_refs,
            );
        }
    }

    // Incidents as reports, candidates as intrusion sets.
    for inc in &incidents.incidents {
        let group_id = sdo_id(
            "report",
            &format!("{}\u{1f}{}\u{1f}{}", inc.id, inc.first, inc.title),
        );
        let aps: Vec<String> = inc
            .attack
            .iter()
            .chain(inc.steps.iter().flat_map(|s| s.attack.iter()))
            .filter(|id| valid_technique_id(id))
            .map(|id| sdo_id("attack-pattern", id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut g = common("report", &group_id);
        g.insert("created_by_ref".into(), json!(identity_id));
        g.insert(
            "name".into(),
            json!(format!("{} {}", clip(&inc.id, 40), clip(&inc.title, 300))),
        );
        g.insert(
            "description".into(),
            json!(format!(
                "{} (score {:.0}, level {}, {} findings, {} to {})",
                clip(&inc.narrative, 4000),
                inc.score,
                inc.level,
                inc.findings,
                inc.first,
                inc.last
            )),
        );
        g.insert("report_types".into(), json!(["threat-report"]));
        g.insert("published".into(), json!(now));
        let refs = if aps.is_empty() {
            vec![identity_id.clone()]
        } else {
            aps.clone()
        };
        g.insert("object_refs".into(), json!(refs));
        push(&mut objects, Value::Object(g), true, &mut report_refs);

        for c in &inc.attribution {
            let set_id = sdo_id("intrusion-set", &format!("{}\u{1f}{}", c.source, c.id));
            let mut set = common("intrusion-set", &set_id);
            set.insert("created_by_ref".into(), json!(identity_id));
            set.insert("name".into(), json!(clip(&c.name, 200)));
            set.insert(
                "description".into(),
                json!(format!(
                    "Attribution candidate ({} {}) by ATT&CK technique overlap; overlap is not proof.",
                    clip(&c.source, 40),
                    clip(&c.id, 40)
                )),
            );
            if !c.aliases.is_empty() {
                let aliases: Vec<String> =
                    c.aliases.iter().take(50).map(|a| clip(a, 200)).collect();
                set.insert("aliases".into(), json!(aliases));
            }
            if c.source == "attack" && valid_group_id(&c.id) {
                set.insert(
                    "external_references".into(),
                    json!([{
                        "source_name": "mitre-attack",
                        "external_id": c.id,
                        "url": format!("https://attack.mitre.org/groups/{}/", c.id),
                    }]),
                );
            }
            push(&mut objects, Value::Object(set), true, &mut report_refs);

            let confidence = (c.score.clamp(0.0, 1.0) * 100.0).round() as u64;
            let rel_id = sdo_id(
                "relationship",
                &format!("related-to\u{1f}{group_id}\u{1f}{set_id}"),
            );
            let mut r = common("relationship", &rel_id);
            r.insert("created_by_ref".into(), json!(identity_id));
            r.insert("relationship_type".into(), json!("related-to"));
            r.insert(
                "description".into(),
                json!(format!(
                    "Candidate attribution: weighted technique overlap {:.2}; matched {}; matched at parent level {}; not matched {}. Overlap is not proof.",
                    c.score,
                    clip(&c.matched.join(", "), 2000),
                    clip(&c.partial.join(", "), 2000),
                    clip(&c.unmatched.join(", "), 2000)
                )),
            );
            r.insert("confidence".into(), json!(confidence));
            r.insert("source_ref".into(), json!(group_id));
            r.insert("target_ref".into(), json!(set_id));
            push(&mut objects, Value::Object(r), true, &mut report_refs);

            for m in c.matched.iter().filter(|m| valid_technique_id(m)) {
                let ap_id = sdo_id("attack-pattern", m);
                if !objects.iter().any(|o| o["id"] == ap_id.as_str()) {
                    push(
                        &mut objects,
                        attack_pattern(
                            m,
                            matrix::technique_name(m).as_deref(),
                            &matrix::kb_tactics_of(m),
                        ),
                        true,
                        &mut report_refs,
                    );
                }
                let uses_id = sdo_id("relationship", &format!("uses\u{1f}{set_id}\u{1f}{ap_id}"));
                let mut u = common("relationship", &uses_id);
                u.insert("created_by_ref".into(), json!(identity_id));
                u.insert("relationship_type".into(), json!("uses"));
                u.insert("source_ref".into(), json!(set_id));
                u.insert("target_ref".into(), json!(ap_id));
                push(&mut objects, Value::Object(u), true, &mut report_refs);
            }
        }
    }

    // The report over all of it.
    if report_refs.is_empty() {
        report_refs.push(identity_id.clone());
    }
    let span = info
        .span_or(findings.span())
        .map(|(a, b)| format!(", evidence from {a} to {b}"))
        .unwrap_or_default();
    let report_id = sdo_id("report", &report_refs.join(","));
    let mut report = common("report", &report_id);
    report.insert("created_by_ref".into(), json!(identity_id));
    report.insert(
        "name".into(),
        json!(format!(
            "{} threat hunt: {} findings, {} incidents",
            org,
            findings.count(),
            incidents.incidents.len()
        )),
    );
    report.insert(
        "description".into(),
        json!(format!(
            "Produced by {} over {} files and {} records{span}. Attribution candidates come from technique overlap, which is not proof.",
            if info.tool.is_empty() { "dragnet" } else { &info.tool },
            info.files,
            info.records
        )),
    );
    report.insert("report_types".into(), json!(["threat-report"]));
    report.insert("published".into(), json!(now));
    report.insert("object_refs".into(), json!(report_refs));
    objects.push(Value::Object(report));

    let all_ids: Vec<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    let bundle_uuid = uuid_v5(ns(STIX_NAMESPACE), all_ids.join(",").as_bytes());
    json!({
        "type": "bundle",
        "id": format!("bundle--{bundle_uuid}"),
        "objects": objects,
    })
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn valid_technique_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= 5
        && b[0] == b'T'
        && b[1..5].iter().all(u8::is_ascii_digit)
        && (b.len() == 5 || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)))
}

fn valid_group_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 5 && b[0] == b'G' && b[1..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sco_ids_match_the_specification() {
        // The STIX 2.1 specification's example of a deterministic id (domain-name section),
        // also what Python's uuid.uuid5 gives for the same canonical JSON.
        assert_eq!(
            sco_id("domain-name", &json!({"value": "example.com"})),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"
        );
        // uuid.uuid5(UUID('00abedb4-aa42-466c-9c01-fed23315a9b7'), '{"value":"198.51.100.3"}')
        assert_eq!(
            sco_id("ipv4-addr", &json!({"value": "198.51.100.3"})),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
        );
    }

    #[test]
    fn canonical_json_sorts_keys_and_strips_space() {
        let v = json!({"b": [1, {"z": 1, "a": "x\"y"}], "a": null});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":null,"b":[1,{"a":"x\"y","z":1}]}"#
        );
    }

    #[test]
    fn patterns_escape_quotes_and_backslashes() {
        assert_eq!(pattern_string(r"C:\a'b"), r"'C:\\a\'b'");
        assert_eq!(
            stix_time(Timestamp::parse("2024-05-01T10:00:00.123456Z").unwrap()),
            "2024-05-01T10:00:00.123Z"
        );
        assert_eq!(
            stix_time(Timestamp::parse("2024-05-01T10:00:00Z").unwrap()),
            "2024-05-01T10:00:00.000Z"
        );
    }
}
