//! `dragnet mail scan` (phishing verdicts, and FINALDRAFT draft C2 in Microsoft 365 audit logs)
//! and `dragnet mail digest` (the awareness digest for training staff).

use crate::common::{self, count, mb, plural, rate, Failure, EXIT_OK};
use clap::{Args, Subcommand, ValueEnum};
use dragnet_event::Finding;
use dragnet_mail::digest::Digest;
use dragnet_mail::m365::{looks_like_audit, read_audit_file, DraftC2Detector};
use dragnet_mail::{
    analyze, detect_mail, read_mail_file, verdict_finding, Label, Limits, MailConfig, Message,
    Verdict,
};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `dragnet mail ...`
#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Analyse EML/MBOX mail (and Microsoft 365 audit logs) and report phishing verdicts.
    Scan(ScanArgs),
    /// Write an awareness digest of the phishing found: lures (defanged) and signals in plain
    /// language, for training staff.
    Digest(DigestArgs),
}

/// What the analysis knows about the receiving organisation.
#[derive(Args, Debug, Clone)]
pub struct MailOptions {
    /// The organisation's own mail domain (spoofing and look-alike checks); repeatable.
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    org_domains: Vec<String>,
    /// Host domain of the organisation's own mail servers, whose Received and
    /// Authentication-Results fields are trusted; repeatable (default: inferred per message).
    #[arg(long = "trusted-host", value_name = "DOMAIN")]
    trusted_hosts: Vec<String>,
    /// authserv-id of the organisation's Authentication-Results; repeatable.
    #[arg(long = "authserv-id", value_name = "ID")]
    authserv_ids: Vec<String>,
    /// Score from which a message is phishing.
    #[arg(long, value_name = "SCORE")]
    threshold: Option<f64>,
    /// YARA rules directory to scan attachments with (needs a build with the `yara` feature).
    #[arg(long, value_name = "DIR")]
    yara: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// One line per message: verdict, score, source, sender, subject, strongest signals.
    Table,
    /// One JSON finding a line (the finding contract of `dragnet hunt --format jsonl`).
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Mail files (.eml, mbox), Microsoft 365 audit exports (JSON), or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    opts: MailOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// In the table, list every message, not only phishing and suspicious ones.
    #[arg(long)]
    all: bool,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// No closing summary and no skipped-file lines.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct DigestArgs {
    /// Mail files (.eml, mbox) or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    opts: MailOptions,
    /// Write the digest (Markdown) to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// No closing summary.
    #[arg(long, short = 'q')]
    quiet: bool,
}

pub fn run(cmd: MailCommand) -> Result<ExitCode, Failure> {
    match cmd {
        MailCommand::Scan(a) => scan(a),
        MailCommand::Digest(a) => digest(a),
    }
}

fn config(o: &MailOptions) -> Result<MailConfig, Failure> {
    let mut cfg = MailConfig {
        org_domains: o.org_domains.clone(),
        trusted_hosts: o.trusted_hosts.clone(),
        authserv_ids: o.authserv_ids.clone(),
        ..MailConfig::default()
    };
    if let Some(t) = o.threshold {
        if !(t.is_finite() && t > 0.0) {
            return Err(Failure::usage("--threshold must be a positive number"));
        }
        cfg.threshold = t;
        cfg.suspicious = cfg.suspicious.min(t);
    }
    if let Some(dir) = &o.yara {
        common::check_paths_exist(std::slice::from_ref(dir), "YARA rules")?;
        #[cfg(feature = "yara")]
        {
            let rules = dragnet_mail::yara::load(Some(dir))
                .map_err(|e| Failure::usage(format!("YARA rules {}: {e}", dir.display())))?;
            cfg.scanner = Some(rules.scanner());
        }
        #[cfg(not(feature = "yara"))]
        {
            return Err(Failure::usage(format!(
                "--yara {}: this dragnet was built without YARA (cargo build --features yara)",
                dir.display()
            )));
        }
    }
    Ok(cfg)
}

/// Files under the paths, sorted, each once.
fn files(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>, depth: usize) {
        if depth > 64 {
            return;
        }
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                    .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
                    .unwrap_or_default();
                entries.sort();
                for e in entries {
                    walk(&e, out, depth + 1);
                }
            }
            Ok(m) if m.is_file() => out.push(p.to_path_buf()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out, 0);
    }
    out.dedup();
    out
}

enum Kind {
    Mail,
    Audit,
    Other(&'static str),
}

fn sniff(path: &Path) -> Kind {
    let mut head = vec![0u8; 16 * 1024];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head.truncate(n);
    if n == 0 {
        return Kind::Other("empty or unreadable");
    }
    if detect_mail(&head).is_some() {
        return Kind::Mail;
    }
    if looks_like_audit(&head) {
        return Kind::Audit;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "eml" || ext == "mbox" {
        // Named like mail: read it anyway (the parser reports what is wrong with it).
        return Kind::Mail;
    }
    Kind::Other("not mail (EML/MBOX) nor a Microsoft 365 audit log")
}

#[derive(Default)]
struct Totals {
    files: u64,
    messages: u64,
    bytes: u64,
    phishing: u64,
    suspicious: u64,
    audit_records: u64,
    read_errors: u64,
}

/// Read everything, calling `each` for every analysed message; audit logs go to the
/// draft-C2 detector.
fn read_all(
    paths: &[PathBuf],
    cfg: &MailConfig,
    quiet: bool,
    audit: Option<&mut DraftC2Detector>,
    each: &mut dyn FnMut(&Message, &Verdict),
) -> Result<Totals, Failure> {
    common::check_paths_exist(paths, "input")?;
    let mut t = Totals::default();
    let limits: &Limits = &cfg.limits;
    let mut audit = audit;
    for f in files(paths) {
        match sniff(&f) {
            Kind::Mail => {
                let r = read_mail_file(&f, limits, &mut |m| {
                    let v = analyze(&m, cfg);
                    match v.label {
                        Label::Phishing => t.phishing += 1,
                        Label::Suspicious => t.suspicious += 1,
                        Label::Clean => {}
                    }
                    each(&m, &v);
                });
                match r {
                    Ok(s) => {
                        t.files += 1;
                        t.messages += s.messages;
                        t.bytes += s.bytes;
                    }
                    Err(e) => {
                        t.read_errors += 1;
                        eprintln!("read error: {}: {e}", f.display());
                    }
                }
            }
            Kind::Audit => {
                let Some(det) = audit.as_deref_mut() else {
                    if !quiet {
                        eprintln!(
                            "skipped: {}: Microsoft 365 audit log (see `dragnet mail scan`)",
                            f.display()
                        );
                    }
                    continue;
                };
                let mut n = 0u64;
                match read_audit_file(&f, &mut |r| {
                    n += 1;
                    det.observe(&r);
                }) {
                    Ok(_) => {
                        t.files += 1;
                        t.audit_records += n;
                        t.bytes += std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                    }
                    Err(e) => {
                        t.read_errors += 1;
                        eprintln!("read error: {}: {e}", f.display());
                    }
                }
            }
            Kind::Other(why) => {
                if !quiet {
                    eprintln!("skipped: {}: {why}", f.display());
                }
            }
        }
    }
    if t.files == 0 {
        return Err(Failure::failed(format!(
            "no readable input in {}: no EML, MBOX or Microsoft 365 audit file",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(t)
}

fn open_output(output: &Option<PathBuf>) -> Result<Box<dyn Write>, Failure> {
    Ok(match output {
        Some(p) => Box::new(BufWriter::new(File::create(p).map_err(|e| {
            Failure::failed(format!("cannot create {}: {e}", p.display()))
        })?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

fn write_failed(e: std::io::Error, output: &Option<PathBuf>) -> Result<(), Failure> {
    if common::is_broken_pipe(&e) {
        return Ok(());
    }
    let target = output
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    Err(Failure::failed(format!("writing to {target}: {e}")))
}

fn cell(s: &str, n: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.pop();
        out.push('…');
    }
    out
}

fn scan(a: ScanArgs) -> Result<ExitCode, Failure> {
    let cfg = config(&a.opts)?;
    let started = Instant::now();
    let mut out = open_output(&a.output)?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    let mut detector = DraftC2Detector::new();
    let table = a.format == ScanFormat::Table;
    let all = a.all;
    let totals = read_all(&a.paths, &cfg, a.quiet, Some(&mut detector), &mut |m, v| {
        if let Some(f) = verdict_finding(m, v, m.provenance.clone()) {
            findings.push(f);
        }
        if table && (all || v.label != Label::Clean) {
            let from = m.from_first().map(|f| f.address).unwrap_or_default();
            let signals: Vec<&str> = v.signals.iter().take(4).map(|s| s.name).collect();
            rows.push(format!(
                "{:<10} {:>5.1}  {:<36} {:<30} {:<40} {}",
                v.label.as_str(),
                v.score,
                cell(
                    &format!("{}#{}", m.provenance.path, m.provenance.record),
                    36
                ),
                cell(&dragnet_mail::util::defang(&from), 30),
                cell(&m.subject(), 40),
                signals.join(",")
            ));
        }
    })?;
    let audit_findings = detector.finish();
    let c2 = audit_findings.len();
    findings.extend(audit_findings);
    findings.sort_by(|x, y| x.timeline_cmp(y));

    let written = (|| -> std::io::Result<()> {
        match a.format {
            ScanFormat::Jsonl => {
                for f in &findings {
                    let mut line = serde_json::to_vec(f).map_err(std::io::Error::other)?;
                    line.push(b'\n');
                    out.write_all(&line)?;
                }
            }
            ScanFormat::Table => {
                writeln!(
                    out,
                    "{:<10} {:>5}  {:<36} {:<30} {:<40} SIGNALS",
                    "VERDICT", "SCORE", "SOURCE", "FROM", "SUBJECT"
                )?;
                for r in &rows {
                    writeln!(out, "{r}")?;
                }
                for f in findings.iter().filter(|f| f.rule.kind == "m365-draft-c2") {
                    writeln!(
                        out,
                        "{:<10} {:>5}  {:<36} {}",
                        "draft-c2",
                        f.details
                            .get("score")
                            .and_then(|s| s.as_f64())
                            .unwrap_or(0.0),
                        cell(&format!("{}#{}", f.source.path, f.source.record), 36),
                        f.details
                            .get("explanation")
                            .and_then(|s| s.as_str())
                            .unwrap_or("")
                    )?;
                }
            }
        }
        out.flush()
    })();
    drop(out);
    if let Err(e) = written {
        write_failed(e, &a.output)?;
    }
    if !a.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "mail: {}, {}, {} audit records, {}: {} phishing, {} suspicious, {} draft-C2 finding(s); {:.2} s ({:.0} messages/s, {:.1} MB/s)",
            plural(totals.files, "file"),
            plural(totals.messages, "message"),
            count(totals.audit_records),
            mb(totals.bytes),
            count(totals.phishing),
            count(totals.suspicious),
            c2,
            secs,
            rate(totals.messages as f64, secs),
            rate(totals.bytes as f64 / 1e6, secs),
        );
        if totals.read_errors > 0 {
            eprintln!("{} unreadable", plural(totals.read_errors, "file"));
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn digest(a: DigestArgs) -> Result<ExitCode, Failure> {
    let cfg = config(&a.opts)?;
    let mut out = open_output(&a.output)?;
    let mut d = Digest::new();
    let totals = read_all(&a.paths, &cfg, a.quiet, None, &mut |m, v| d.add(m, v))?;
    let written = out
        .write_all(d.render().as_bytes())
        .and_then(|()| out.flush());
    drop(out);
    if let Err(e) = written {
        write_failed(e, &a.output)?;
    }
    if !a.quiet {
        eprintln!(
            "digest: {}, {}: {} phishing, {} suspicious{}",
            plural(totals.files, "file"),
            plural(totals.messages, "message"),
            count(totals.phishing),
            count(totals.suspicious),
            a.output
                .as_ref()
                .map(|p| format!(" -> {}", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
