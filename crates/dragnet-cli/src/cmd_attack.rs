//! `dragnet attack ...`: the ATT&CK knowledge base (import, technique, group) and attribution
//! of observed techniques to groups and actor profiles (rank).

use crate::common::{is_broken_pipe, Failure, EXIT_OK};
use clap::{Args, Subcommand};
use dragnet_attack::{
    kb, normalize_technique_id, Attributor, KnowledgeBase, Resolved, CONFIDENCE_THRESHOLD,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where `import` writes by default (relative to the workspace root).
const DEFAULT_DATA_PATH: &str = "crates/dragnet-attack/data/attack.tsv";
/// Input files larger than this are refused (the v18.1 bundle is 34 MB).
const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

const RANK_HELP: &str = "\
Ranks ATT&CK groups and actor profiles (built-in: Ink Dragon) by weighted overlap of their
techniques with the observed ones. Revoked ids count as their replacement.

  weight   w(t) = max(0.05, ln(N / (1 + groups using t))), N = ATT&CK groups
  credit   w(o) if the candidate uses o; 0.5 x min(w(o), w(parent)) if it uses only the
           parent or a sibling sub-technique; M = sum of credits
  recall   R = M / sum of w over the observed techniques
  precision P = min(1, M / sum of w over the candidate's techniques)
  score    R x F3(P, R) x (1 - exp(-M / 8.5))    (F3 = 10PR / (9P + R)), in 0..1

Scores below the confidence threshold (0.45) are weak: overlap, not attribution. No single
technique reaches it, nor a handful of common ones. Overlap is a lead, not proof.";

/// `dragnet attack ...`
#[derive(Subcommand, Debug)]
pub enum AttackCommand {
    /// Generate the knowledge-base data from ATT&CK's STIX bundle (enterprise-attack.json).
    Import(ImportArgs),
    /// Show a technique: name, tactics, deprecated/revoked with replacement, groups using it.
    Technique(TechniqueArgs),
    /// Show a group (by id, name or alias): aliases, techniques by tactic, software.
    Group(GroupArgs),
    /// Rank ATT&CK groups and actor profiles by weighted overlap with observed techniques.
    #[command(long_about = RANK_HELP)]
    Rank(RankArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// ATT&CK Enterprise STIX 2.0 bundle.
    #[arg(value_name = "FILE")]
    bundle: PathBuf,
    /// Later revocation list (JSON `{"revoked_by": {"OLD": "NEW"}}`), e.g. ATT&CK v19's.
    #[arg(long, value_name = "FILE")]
    revoked_by: Option<PathBuf>,
    /// Output file (`-`: standard output); default crates/dragnet-attack/data/attack.tsv.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TechniqueArgs {
    /// Technique id (T1003, t1003.001, attack.t1003.001).
    #[arg(value_name = "ID")]
    id: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct GroupArgs {
    /// Group id (G0096), name (APT41) or alias (Wicked Panda).
    #[arg(value_name = "NAME")]
    name: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct RankArgs {
    /// Observed technique ids.
    #[arg(required = true, value_name = "TECHNIQUE")]
    techniques: Vec<String>,
    /// More actor profiles (format of crates/dragnet-attack/data/profiles.yml); repeatable.
    #[arg(long = "profiles", value_name = "FILE")]
    profiles: Vec<PathBuf>,
    /// Print JSON (the candidates, best first).
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: AttackCommand) -> Result<ExitCode, Failure> {
    match cmd {
        AttackCommand::Import(a) => import(a),
        AttackCommand::Technique(a) => technique(a),
        AttackCommand::Group(a) => group(a),
        AttackCommand::Rank(a) => rank(a),
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, Failure> {
    let f = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let mut buf = Vec::new();
    f.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    if buf.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(Failure::usage(format!(
            "{}: larger than {} MB",
            path.display(),
            MAX_BUNDLE_BYTES >> 20
        )));
    }
    Ok(buf)
}

fn import(a: ImportArgs) -> Result<ExitCode, Failure> {
    let bundle = read_capped(&a.bundle)?;
    let revoked = a.revoked_by.as_deref().map(read_capped).transpose()?;
    let text = dragnet_attack::import(&bundle, revoked.as_deref())
        .map_err(|e| Failure::failed(format!("{}: {e}", a.bundle.display())))?;
    let parsed = KnowledgeBase::parse(&text)
        .map_err(|e| Failure::failed(format!("generated data does not parse back: {e}")))?;
    let summary = format!(
        "{} tactics, {} techniques, {} software, {} groups, {} bytes",
        parsed.tactics().len(),
        parsed.techniques().len(),
        parsed.software().len(),
        parsed.groups().len(),
        text.len()
    );
    let out = a.out.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_PATH));
    if out.as_os_str() == "-" {
        std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| Failure::failed(format!("standard output: {e}")))?;
        eprintln!("{summary}");
        return Ok(ExitCode::from(EXIT_OK));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Failure::usage(format!(
                "{}: folder not found (run from the workspace root, or give --out PATH)",
                dir.display()
            )));
        }
    }
    std::fs::write(&out, &text).map_err(|e| Failure::failed(format!("{}: {e}", out.display())))?;
    println!("wrote {}: {summary}", out.display());
    Ok(ExitCode::from(EXIT_OK))
}

/// One line of output into the buffer (written at the end, so `| head` is no error).
macro_rules! say {
    ($o:expr, $($a:tt)*) => {{
        let _ = writeln!($o, $($a)*);
    }};
}

/// Writes the command's output; a closed pipe is not an error.
fn emit(o: &str) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(o.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::from(EXIT_OK)),
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::from(EXIT_OK)),
        Err(e) => Err(Failure::failed(format!("standard output: {e}"))),
    }
}

fn tactic_names(kb: &KnowledgeBase, shortnames: &[String]) -> String {
    shortnames
        .iter()
        .map(|s| {
            kb.tactic(s)
                .map_or(s.clone(), |t| format!("{} ({})", t.name, t.id))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn technique(a: TechniqueArgs) -> Result<ExitCode, Failure> {
    let mut o = String::new();
    let kb = kb();
    let (t, current) = match kb.resolve(&a.id) {
        Resolved::Current(t) => (t, t),
        Resolved::Replaced { by, .. } => (
            kb.technique(&a.id)
                .ok_or_else(|| Failure::failed("technique vanished"))?,
            by,
        ),
        Resolved::Unknown => {
            let hint = match kb.nearest(&a.id) {
                Some(p) => format!(" (its parent {} {} is known)", p.id, p.name),
                None => String::new(),
            };
            return Err(Failure::usage(format!(
                "unknown technique {:?}{hint}",
                a.id.trim()
            )));
        }
    };
    let groups = kb.groups_using(&current.id);
    let replaces = kb.replaced_by(&t.id);
    if a.json {
        let v = serde_json::json!({
            "id": t.id,
            "name": t.name,
            "tactics": t.tactics,
            "deprecated": t.deprecated,
            "revoked_by": t.revoked_by,
            "current": current.id,
            "later_release": kb.is_later(&t.id),
            "replaces": replaces.iter().map(|r| &r.id).collect::<Vec<_>>(),
            "groups": groups.iter().map(|g| serde_json::json!({"id": g.id, "name": g.name})).collect::<Vec<_>>(),
        });
        say!(o, "{v}");
        return emit(&o);
    }
    say!(o, "{}  {}", t.id, t.name);
    say!(o, "tactics: {}", tactic_names(kb, &t.tactics));
    if t.deprecated {
        say!(o, "deprecated");
    }
    if current.id != t.id {
        say!(o, "revoked, replaced by: {}  {}", current.id, current.name);
    }
    if kb.is_later(&t.id) {
        say!(
            o,
            "id of a later ATT&CK release (name and tactics of the technique it replaces)"
        );
    }
    if !replaces.is_empty() {
        let r: Vec<&str> = replaces.iter().map(|r| r.id.as_str()).collect();
        say!(o, "replaces: {}", r.join(", "));
    }
    let note = if current.id != t.id {
        format!(" (of {})", current.id)
    } else {
        String::new()
    };
    say!(o, "groups using it{note}: {}", groups.len());
    for g in groups {
        say!(o, "  {:<6} {}", g.id, g.name);
    }
    emit(&o)
}

fn group(a: GroupArgs) -> Result<ExitCode, Failure> {
    let mut o = String::new();
    let kb = kb();
    let Some(g) = kb.group(&a.name) else {
        return Err(Failure::usage(format!(
            "unknown group {:?} (give an ATT&CK id, name or alias, e.g. G0096, APT41, Wicked Panda)",
            a.name.trim()
        )));
    };
    // Techniques by their first tactic in kill-chain order.
    let mut by_tactic: BTreeMap<usize, Vec<(&str, &str)>> = BTreeMap::new();
    for id in &g.techniques {
        let (name, order) = match kb.nearest(id) {
            Some(t) => (
                t.name.as_str(),
                kb.tactic_order_of(id).unwrap_or(usize::MAX),
            ),
            None => ("?", usize::MAX),
        };
        by_tactic.entry(order).or_default().push((id, name));
    }
    if a.json {
        let v = serde_json::json!({
            "id": g.id,
            "name": g.name,
            "aliases": g.aliases,
            "techniques": g.techniques,
            "direct_techniques": g.direct_techniques,
            "software": g.software_ids.iter().zip(&g.software)
                .map(|(i, n)| serde_json::json!({"id": i, "name": n})).collect::<Vec<_>>(),
        });
        say!(o, "{v}");
        return emit(&o);
    }
    say!(o, "{}  {}", g.id, g.name);
    if !g.aliases.is_empty() {
        say!(o, "aliases: {}", g.aliases.join(", "));
    }
    say!(
        o,
        "techniques: {} ({} direct, the rest through software)",
        g.techniques.len(),
        g.direct_techniques.len()
    );
    for (order, list) in &by_tactic {
        let title = kb
            .tactics()
            .get(*order)
            .map_or("(no tactic)".to_string(), |t| {
                format!("{} ({})", t.name, t.id)
            });
        say!(o, "  {title}");
        for (id, name) in list {
            let via = if g.direct_techniques.iter().any(|d| d == id) {
                ""
            } else {
                "  [software]"
            };
            say!(o, "    {id:<10} {name}{via}");
        }
    }
    if !g.software.is_empty() {
        let s: Vec<String> = g
            .software_ids
            .iter()
            .zip(&g.software)
            .map(|(i, n)| format!("{n} ({i})"))
            .collect();
        say!(o, "software: {}", s.join(", "));
    }
    emit(&o)
}

fn rank(a: RankArgs) -> Result<ExitCode, Failure> {
    let mut o = String::new();
    let kb = kb();
    let mut observed = Vec::new();
    for raw in a.techniques.iter().flat_map(|t| t.split([',', ' '])) {
        if raw.trim().is_empty() {
            continue;
        }
        let n = normalize_technique_id(raw);
        match kb.resolve(&n) {
            Resolved::Unknown if kb.nearest(&n).is_some() => eprintln!(
                "note: {n} is not in the knowledge base; it matches its parent technique only"
            ),
            Resolved::Unknown => {
                return Err(Failure::usage(format!(
                    "unknown technique {:?} (ATT&CK ids look like T1003 or T1003.001)",
                    raw.trim()
                )))
            }
            _ => {}
        }
        observed.push(n);
    }
    let mut attributor = Attributor::builtin();
    for p in &a.profiles {
        attributor = attributor.with_profiles_file(p).map_err(Failure::usage)?;
    }
    let candidates = attributor.rank(&observed);
    if a.json {
        let s = serde_json::to_string(&candidates)
            .map_err(|e| Failure::failed(format!("JSON: {e}")))?;
        say!(o, "{s}");
        return emit(&o);
    }
    if candidates.is_empty() {
        say!(
            o,
            "no candidate uses any of the {} techniques",
            observed.len()
        );
        return emit(&o);
    }
    say!(
        o,
        "{} observed techniques; confidence threshold {CONFIDENCE_THRESHOLD}",
        observed.len()
    );
    for (i, c) in candidates.iter().enumerate() {
        let strength = if c.score >= CONFIDENCE_THRESHOLD {
            "confident"
        } else {
            "weak"
        };
        let aliases = if c.aliases.is_empty() {
            String::new()
        } else {
            let shown: Vec<&str> = c.aliases.iter().take(4).map(String::as_str).collect();
            format!(" aka {}", shown.join(", "))
        };
        say!(
            o,
            "{:>2}. {:.3} {:<9} {} ({}, {}){aliases}",
            i + 1,
            c.score,
            strength,
            c.name,
            c.id,
            c.source
        );
        say!(
            o,
            "      matched {}/{}: {}",
            c.matched.len(),
            observed.len(),
            c.matched.join(" ")
        );
        if !c.partial.is_empty() {
            say!(o, "      parent-level: {}", c.partial.join(" "));
        }
    }
    emit(&o)
}
