//! A rule never fires on an event outside its logsource. Every finding of the whole SigmaHQ
//! rule set over the regression corpus is checked against the logsource map read directly
//! from SigmaHQ's own CI file (`tests/thor.yml`), independently of the engine's routing.

mod common;
use common::shared;
use dragnet_ingest::{discover, read_file, ReadOptions};
use dragnet_sigma::yaml::{parse_documents, Node};
use dragnet_sigma::{EngineBuilder, LoadOptions};
use std::collections::HashMap;

/// Channels and EventIDs a logsource admits, per thor.yml: Some(ids) restricts EventIDs.
type Admit = Vec<(String, Option<Vec<i64>>)>;

/// (product, service) -> channels.
type Services = HashMap<(String, String), Vec<String>>;
/// (category, product, rewritten service, EventIDs).
type Categories = Vec<(String, Option<String>, String, Vec<i64>)>;

fn thor_map(text: &str) -> (Services, Categories) {
    let doc = &parse_documents(text).unwrap()[0];
    let mut services: Services = HashMap::new();
    let mut categories = Vec::new();
    for (_, ls) in doc.get("logsources").and_then(Node::as_map).unwrap() {
        let get = |k: &str| ls.get(k).and_then(Node::as_str).map(str::to_string);
        let sources: Vec<String> = ls
            .get("sources")
            .map(Node::string_list)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.strip_prefix("WinEventLog:").map(str::to_string))
            .collect();
        if let (Some(p), Some(svc), None) = (get("product"), get("service"), get("category")) {
            services.entry((p, svc)).or_default().extend(sources);
        } else if let (Some(cat), Some(rw)) = (get("category"), ls.get("rewrite")) {
            let svc = rw
                .get("service")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string();
            let ids: Vec<i64> = ls
                .get("conditions")
                .and_then(|c| c.get("EventID"))
                .map(Node::string_list)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            categories.push((cat, get("product"), svc, ids));
        }
    }
    (services, categories)
}

#[test]
fn no_finding_outside_its_logsource() {
    let Some(shared) = shared() else { return };
    let repo = shared.join("data/sigma/sigmahq");
    let (services, categories) =
        thor_map(&std::fs::read_to_string(repo.join("tests/thor.yml")).unwrap());
    let mut b = EngineBuilder::new(LoadOptions::default());
    for d in [
        "rules",
        "rules-threat-hunting",
        "rules-emerging-threats",
        "rules-compliance",
    ] {
        b.add_path(&repo.join(d)).unwrap();
    }
    let (engine, _) = b.build();
    let admit: HashMap<String, Admit> = engine
        .rules()
        .iter()
        .map(|r| {
            let ls = &r.rule.logsource;
            let product = ls.product.clone().unwrap_or_default();
            let mut a: Admit = Vec::new();
            if let Some(cat) = &ls.category {
                for (c, p, svc, ids) in &categories {
                    if c == cat && p.as_deref().is_none_or(|p| p == product) {
                        for ch in services
                            .get(&("windows".to_string(), svc.clone()))
                            .into_iter()
                            .flatten()
                        {
                            a.push((ch.clone(), Some(ids.clone())));
                        }
                    }
                }
            } else if let Some(svc) = &ls.service {
                for ch in services
                    .get(&(product.clone(), svc.clone()))
                    .into_iter()
                    .flatten()
                {
                    a.push((ch.clone(), None));
                }
            } else if product == "windows" {
                a.push(("*".into(), None));
            }
            (r.rule.meta.id.clone(), a)
        })
        .collect();

    let disc = discover(&[repo.join("regression_data")]).unwrap();
    let (mut findings, mut violations) = (0usize, Vec::new());
    for file in disc
        .files
        .iter()
        .filter(|f| f.format == dragnet_ingest::InputFormat::Evtx)
    {
        read_file(
            file,
            &ReadOptions { threads: 1 },
            &mut |ev| {
                let mut out = Vec::new();
                engine.detect_into(&ev, &mut out);
                for f in out {
                    findings += 1;
                    let ch = ev.channel().unwrap_or("").to_string();
                    let id = ev.event_id();
                    let ok = admit[&f.rule.id].iter().any(|(c, ids)| {
                        (c == "*" || c.eq_ignore_ascii_case(&ch))
                            && ids
                                .as_ref()
                                .is_none_or(|ids| id.is_some_and(|i| ids.contains(&i)))
                    });
                    if !ok {
                        violations.push(format!(
                            "{} fired on {ch}/{id:?} ({})",
                            f.rule.title, f.source.path
                        ));
                    }
                }
            },
            &mut |_| {},
        );
    }
    eprintln!(
        "{findings} findings on the regression corpus, {} outside their logsource",
        violations.len()
    );
    assert!(findings >= 202, "too few findings: {findings}");
    assert!(violations.is_empty(), "{violations:#?}");
}
