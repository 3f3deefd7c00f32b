//! `dragnet rules validate|stats|regression`: check and describe rule sets, and prove the
//! engine on SigmaHQ's regression data.

use crate::common::{Failure, EXIT_FAILURE, EXIT_OK};
use dragnet_event::Finding;
use dragnet_ingest::{InputFile, ReadOptions};
use dragnet_sigma::yaml::{parse_documents, Node};
use dragnet_sigma::{Engine, EngineBuilder, LoadOptions, Routing};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Load rules from `paths` (the built-in pack when empty).
pub fn load(
    paths: &[PathBuf],
    opts: LoadOptions,
) -> Result<(Engine, Vec<dragnet_sigma::RuleError>, usize), Failure> {
    crate::common::check_paths_exist(paths, "rules")?;
    let mut b = EngineBuilder::new(opts);
    if paths.is_empty() {
        b.add_builtin();
    }
    b.add_paths(paths)
        .map_err(|(p, e)| Failure::usage(format!("rules {}: {e}", p.display())))?;
    let files = b.files();
    let (engine, errors) = b.build();
    Ok((engine, errors, files))
}

/// Load options from the command line's `--placeholders` and `--logsources` files.
pub fn load_options(
    placeholders: Option<&Path>,
    logsources: Option<&Path>,
) -> Result<LoadOptions, Failure> {
    let mut opts = LoadOptions::default();
    if let Some(p) = placeholders {
        let text = std::fs::read_to_string(p)
            .map_err(|e| Failure::usage(format!("placeholders {}: {e}", p.display())))?;
        let docs = parse_documents(&text).map_err(|e| {
            Failure::usage(format!(
                "placeholders {}:{}: {}",
                p.display(),
                e.line,
                e.message
            ))
        })?;
        for d in &docs {
            for (k, v) in d.as_map().unwrap_or(&[]) {
                opts.placeholders.insert(k.clone(), v.string_list());
            }
        }
    }
    if let Some(p) = logsources {
        let text = std::fs::read_to_string(p)
            .map_err(|e| Failure::usage(format!("logsources {}: {e}", p.display())))?;
        let map = dragnet_sigma::LogsourceMap::parse(&text)
            .map_err(|e| Failure::usage(format!("logsources {}: {e}", p.display())))?;
        opts.logsources = Some(map);
    }
    Ok(opts)
}

/// `rules validate`: every error on its own line, then `rules: N loaded, M failed`.
pub fn validate(paths: &[PathBuf], opts: LoadOptions) -> Result<ExitCode, Failure> {
    let (engine, mut errors, _) = load(paths, opts)?;
    // Hunts compile regular expressions when an event first reaches them: all of them now.
    errors.extend(engine.compile_regexes());
    for e in &errors {
        println!("error: {e}");
    }
    for r in engine.rules() {
        if let Routing::Unrouted(why) = &r.routing {
            eprintln!(
                "note: {} ({}): loaded, but {why}",
                r.rule.meta.title, r.rule.meta.source
            );
        }
    }
    let loaded = engine.rule_count() + engine.correlations().len() + engine.filters().len();
    println!("rules: {loaded} loaded, {} failed", errors.len());
    Ok(ExitCode::from(if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }))
}

/// `rules stats`: counts by level, logsource, modifier and routing.
pub fn stats(paths: &[PathBuf], opts: LoadOptions, json: bool) -> Result<ExitCode, Failure> {
    let (engine, errors, files) = load(paths, opts)?;
    let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_logsource: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_modifier: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let (mut routed, mut unrouted) = (0usize, 0usize);
    for r in engine.rules() {
        *by_level.entry(r.rule.level.to_string()).or_default() += 1;
        *by_logsource.entry(r.rule.logsource.key()).or_default() += 1;
        *by_status
            .entry(if r.rule.meta.status.is_empty() {
                "-".into()
            } else {
                r.rule.meta.status.clone()
            })
            .or_default() += 1;
        for m in &r.rule.modifiers {
            *by_modifier.entry(m.clone()).or_default() += 1;
        }
        match r.routing {
            Routing::Unrouted(_) => unrouted += 1,
            _ => routed += 1,
        }
    }
    let mut by_correlation: BTreeMap<String, usize> = BTreeMap::new();
    for c in engine.correlations() {
        *by_correlation
            .entry(c.kind.as_str().to_string())
            .or_default() += 1;
    }
    if json {
        let v = serde_json::json!({
            "files": files,
            "rules": engine.rule_count(),
            "correlations": engine.correlations().len(),
            "filters": engine.filters().len(),
            "failed": errors.len(),
            "routed": routed,
            "unrouted": unrouted,
            "by_level": by_level,
            "by_status": by_status,
            "by_logsource": by_logsource,
            "by_modifier": by_modifier,
            "by_correlation_type": by_correlation,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "files {files}  detection rules {}  correlations {}  filters {}  failed {}",
            engine.rule_count(),
            engine.correlations().len(),
            engine.filters().len(),
            errors.len()
        );
        println!("routed to a source in this build: {routed}; not routed (no reader for their logsource yet): {unrouted}");
        let section = |title: &str, m: &BTreeMap<String, usize>, sort_by_count: bool| {
            println!("\n{title}");
            let mut rows: Vec<(&String, &usize)> = m.iter().collect();
            if sort_by_count {
                rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            }
            for (k, v) in rows {
                println!("  {v:>6}  {k}");
            }
        };
        section("by level", &by_level, false);
        section("by status", &by_status, true);
        section("by modifier", &by_modifier, true);
        section("by correlation type", &by_correlation, true);
        section(
            "by logsource (product/category/service)",
            &by_logsource,
            true,
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// One regression test of SigmaHQ's `regression_data`.
#[derive(Debug, Clone)]
pub struct RegressionCase {
    pub info: PathBuf,
    pub rule_id: String,
    pub title: String,
    pub evtx: PathBuf,
    pub match_count: Option<u64>,
}

/// Every `regression_data/**/info.yml` under a SigmaHQ checkout.
pub fn regression_cases(repo: &Path) -> Result<Vec<RegressionCase>, String> {
    let mut infos = Vec::new();
    let mut stack = vec![repo.join("regression_data")];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "info.yml") {
                infos.push(p);
            }
        }
    }
    infos.sort();
    let mut cases = Vec::new();
    for info in infos {
        let text =
            std::fs::read_to_string(&info).map_err(|e| format!("{}: {e}", info.display()))?;
        let docs = parse_documents(&text)
            .map_err(|e| format!("{}:{}: {}", info.display(), e.line, e.message))?;
        let Some(doc) = docs.first() else { continue };
        let meta = doc
            .get("rule_metadata")
            .and_then(Node::as_seq)
            .and_then(|s| s.first());
        let rule_id = meta
            .and_then(|m| m.get("id"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let title = meta
            .and_then(|m| m.get("title"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        for t in doc
            .get("regression_tests_info")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            if t.get("type")
                .and_then(Node::as_str)
                .is_some_and(|ty| ty != "evtx")
            {
                continue;
            }
            let Some(rel) = t.get("path").and_then(Node::as_str) else {
                continue;
            };
            let match_count = t
                .get("match_count")
                .and_then(Node::as_str)
                .and_then(|s| s.trim().parse().ok());
            cases.push(RegressionCase {
                info: info.clone(),
                rule_id: rule_id.clone(),
                title: title.clone(),
                evtx: repo.join(rel),
                match_count,
            });
        }
    }
    Ok(cases)
}

/// The findings of `engine` on one file (read errors are returned as text).
pub fn findings_of(engine: &Engine, path: &Path) -> (Vec<Finding>, Vec<String>, u64) {
    let mut errors = Vec::new();
    let file = match dragnet_ingest::detect_format(path) {
        Ok(Some((format, gzip))) => InputFile {
            path: path.to_path_buf(),
            format,
            size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            gzip,
        },
        Ok(None) => {
            return (
                Vec::new(),
                vec![format!("{}: unknown format", path.display())],
                0,
            )
        }
        Err(e) => return (Vec::new(), vec![format!("{}: {e}", path.display())], 0),
    };
    let mut out = Vec::new();
    let summary = dragnet_ingest::read_file(
        &file,
        &ReadOptions { threads: 1 },
        &mut |ev| engine.detect_into(&ev, &mut out),
        &mut |e| errors.push(e.to_string()),
    );
    (out, errors, summary.records)
}

/// The outcome of one regression run.
#[derive(Debug, Default)]
pub struct RegressionOutcome {
    pub passed: usize,
    pub failed: Vec<String>,
}

/// Run every regression case against the rules of the checkout, on the EVTX files or (when
/// `json`) on their JSON twins.
pub fn run_regression(repo: &Path, json: bool) -> Result<RegressionOutcome, String> {
    let cases = regression_cases(repo)?;
    let mut b = EngineBuilder::new(LoadOptions::default());
    for d in [
        "rules",
        "rules-threat-hunting",
        "rules-emerging-threats",
        "rules-compliance",
        "rules-placeholder",
    ] {
        let p = repo.join(d);
        if p.is_dir() {
            b.add_path(&p)
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    let (mut engine, _errors) = b.build();
    let ids: std::collections::HashSet<&str> = cases.iter().map(|c| c.rule_id.as_str()).collect();
    engine.retain(|r| ids.contains(r.meta.id.as_str()));
    let mut outcome = RegressionOutcome::default();
    for case in &cases {
        let path = if json {
            case.evtx.with_extension("json")
        } else {
            case.evtx.clone()
        };
        let (findings, errors, records) = findings_of(&engine, &path);
        let hits = findings
            .iter()
            .filter(|f| f.rule.id == case.rule_id)
            .count() as u64;
        let need = case.match_count.unwrap_or(1).max(1);
        if hits >= need {
            outcome.passed += 1;
        } else {
            outcome.failed.push(format!(
                "FAIL {} ({}, {}): {} fired {hits} time(s) on {records} record(s), expected at least {need}{}",
                case.title,
                case.rule_id,
                case.info.display(),
                path.display(),
                if errors.is_empty() { String::new() } else { format!("; read errors: {}", errors.join("; ")) }
            ));
        }
    }
    Ok(outcome)
}

/// `rules regression SIGMA_REPO_DIR [--json]`.
pub fn regression(repo: &Path, json: bool) -> Result<ExitCode, Failure> {
    if !repo.join("regression_data").is_dir() {
        return Err(Failure::usage(format!(
            "{}: no regression_data folder (give a SigmaHQ checkout)",
            repo.display()
        )));
    }
    let outcome = run_regression(repo, json).map_err(Failure::failed)?;
    for f in &outcome.failed {
        println!("{f}");
    }
    println!(
        "regression: {} passed, {} failed",
        outcome.passed,
        outcome.failed.len()
    );
    Ok(ExitCode::from(if outcome.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }))
}
