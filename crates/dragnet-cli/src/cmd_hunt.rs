//! `dragnet hunt`: rules over evidence, a timeline of findings out.

use crate::common::{self, count, mb, plural, rate, Failure};
use crate::{HuntArgs, TimelineFormat};
use dragnet_engine::{hunt, HuntConfig, RunSummary};
use dragnet_event::{Analyzer, Detector, Level};
use dragnet_incident::Stitcher;
use dragnet_report::timeline::{self, TableOptions};
use dragnet_sigma::correlation::CorrelationLimits;
use dragnet_sigma::Engine;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(args: HuntArgs) -> Result<ExitCode, Failure> {
    common::check_paths_exist(&args.paths, "input")?;
    common::check_paths_exist(&args.rules, "rules path")?;

    // Before the rules load: they load on the same threads.
    let threads = common::threads(args.threads);
    // The evidence is discovered (a directory walk and a look at each file's first bytes:
    // system calls, mostly) on a thread of its own while the rules load on the pool.
    let (engine, found) = std::thread::scope(|s| {
        let found = s.spawn(|| dragnet_ingest::discover(&args.paths));
        let engine = load_rules(&args);
        let found = found
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the input could not be listed")));
        (engine, found)
    });
    let engine = engine?;
    let discovery = common::discovered(&args.paths, args.quiet, found)?;

    // Open the output before the run, so that a bad path fails at once. Timeline rows are
    // written whole (one `write_all` a finding); the buffer holds a few hundred of them.
    // The timeline is written on a thread of its own (see below): standard output is taken
    // unlocked (a lock a buffer's worth of rows).
    const OUT_BUFFER: usize = 1 << 18;
    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            OUT_BUFFER,
            File::create(p)
                .map_err(|e| Failure::failed(format!("cannot create {}: {e}", p.display())))?,
        )),
        None => Box::new(BufWriter::with_capacity(OUT_BUFFER, std::io::stdout())),
    };

    // Sigma correlations run as an analyzer over the rules' findings; the findings of rules
    // that only feed correlations are not reported.
    let mut analyzers: Vec<Box<dyn Analyzer>> = Vec::new();
    let mut hidden_rules = HashSet::new();
    if let Some(correlator) = engine.correlator(CorrelationLimits::default()) {
        hidden_rules = correlator.hidden_rule_ids().clone();
        analyzers.push(Box::new(correlator));
    }
    let cfg = HuntConfig {
        threads,
        min_level: args.min_level,
        hidden_rules,
        release_memory: Some(crate::release_free_memory),
        // Mail is judged with the organisation's own domains (spoofing, look-alikes).
        mail: Arc::new(dragnet_mail::MailConfig {
            org_domains: args.org_domains.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let progress = common::progress(args.quiet);
    let network = network_analytics(&args)?;
    let mut detectors: Vec<Arc<dyn Detector>> = vec![Arc::new(engine)];
    detectors.extend(network.detectors());
    // The network analytics (beaconing, long connections, DNS tunnelling, exfiltration,
    // relays, IIS) take the network records as the pipeline reads them; added only when there
    // are network files, so that other hunts keep their early level filter.
    if discovery.files.iter().any(|f| f.format.is_network()) {
        analyzers.push(Box::new(network.analyzer()));
    }
    // Mail: messages are read with their phishing verdict, which the mail detector reports;
    // Microsoft 365 audit records go to the draft-C2 analytic (only when there are some).
    use dragnet_ingest::InputFormat;
    if discovery
        .files
        .iter()
        .any(|f| matches!(f.format, InputFormat::Eml | InputFormat::Mbox))
    {
        detectors.push(Arc::new(dragnet_mail::MailDetector));
    }
    if discovery
        .files
        .iter()
        .any(|f| f.format == InputFormat::M365Audit)
    {
        analyzers.push(Box::new(dragnet_mail::m365::DraftC2Analyzer::new()));
    }
    // The lateral-movement graph (over raw events); its edges and entities feed the
    // incidents after the run.
    let (graph, graph_handle) = crate::incidents::graph_analyzer();
    analyzers.push(graph);
    let result = hunt(&discovery, detectors, analyzers, &cfg, progress.as_ref());
    let summary = &result.summary;

    common::print_read_errors(&summary.read_errors, summary.errors);

    let color = args.format == TimelineFormat::Table
        && !args.no_color
        && args.output.is_none()
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal();
    let table = TableOptions {
        color,
        width: timeline::terminal_width(),
    };
    // One walk over the findings (read back from the spool, never all held): each is pushed
    // to the stitcher, which keeps a compact member of it, and to the reports' digest when
    // report files are asked for, then handed on (in batches, in order) to the thread that
    // writes the timeline: the two halves of the work run side by side.
    let graph = graph_handle.take();
    let mut stitcher = Stitcher::new(graph.as_ref());
    let mut digest = args.out.files.any_report().then(crate::outputs::digest);
    let format = args.format.report_format();
    let written = std::thread::scope(|scope| {
        const ROWS: usize = 256;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<dragnet_event::Finding>>(4);
        let table = &table;
        let writer = scope.spawn(move || {
            let mut w = timeline::Writer::new(out, format, table)?;
            for batch in rx {
                for f in &batch {
                    w.push(f)?;
                }
            }
            w.finish()
        });
        let mut batch = Vec::with_capacity(ROWS);
        result.findings.for_each(|f| {
            stitcher.push(&f);
            if let Some(d) = &mut digest {
                d.push(&f);
            }
            batch.push(f);
            if batch.len() == ROWS {
                // After a write error the writer is gone: the findings still reach the
                // stitcher and the digest.
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(ROWS)));
            }
        });
        let _ = tx.send(batch);
        drop(tx);
        writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the timeline writer failed")))
    });
    let report = stitcher.finish(&Default::default());
    if let Err(e) = written {
        if !common::is_broken_pipe(&e) {
            let target = match &args.output {
                Some(p) => p.display().to_string(),
                None => "standard output".to_string(),
            };
            return Err(Failure::failed(format!("writing to {target}: {e}")));
        }
    }
    let spool = result.findings.spool_stats();
    if spool.kept_in_memory > 0 || spool.lost > 0 {
        eprintln!(
            "warning: temporary files for findings failed ({}): {} finding(s) kept in memory, {} lost",
            std::env::temp_dir().display(),
            count(spool.kept_in_memory),
            count(spool.lost)
        );
    }

    if !args.quiet {
        print_summary(summary);
    }
    if !args.quiet {
        crate::incidents::print_summary(&report);
    }
    if let Some(path) = &args.out.incidents {
        crate::incidents::write_file(path, &report)?;
    }
    if let Some(d) = &mut digest {
        crate::outputs::write_reports(&args.out.files, d, &result.summary, &report)?;
    }
    if !summary.anything_readable() {
        return Err(Failure::failed(format!(
            "nothing could be read: all {} input file(s) failed ({} read errors)",
            summary.files,
            count(summary.errors)
        )));
    }
    Ok(ExitCode::from(common::EXIT_OK))
}

/// The network analytics' settings: `--intel` lists and `--org-domain` names.
fn network_analytics(args: &HuntArgs) -> Result<dragnet_analytics::NetworkAnalytics, Failure> {
    let mut iocs = dragnet_analytics::IocSet::new();
    for p in &args.intel {
        let n = iocs
            .load_file(p)
            .map_err(|e| Failure::failed(format!("--intel: {e}")))?;
        if !args.quiet {
            eprintln!("iocs: {n} indicator(s) from {}", p.display());
        }
    }
    Ok(dragnet_analytics::NetworkAnalytics {
        iocs: Arc::new(iocs),
        org_domains: args.org_domains.clone(),
        ..Default::default()
    })
}

/// The rules from `--rules`, or the built-in pack. Each rule that fails to load is printed on
/// its own line, then how many failed; the rest are used.
fn load_rules(args: &HuntArgs) -> Result<Engine, Failure> {
    let opts =
        crate::cmd_rules::load_options(args.placeholders.as_deref(), args.logsources.as_deref())?;
    let (engine, errors, _files) = crate::cmd_rules::load(&args.rules, opts)?;
    let origin = if args.rules.is_empty() {
        "built-in pack"
    } else {
        "--rules"
    };
    for e in &errors {
        eprintln!("rule error: {e}");
    }
    let correlations = engine.correlations().len();
    if !errors.is_empty() || !args.quiet {
        let with = if correlations > 0 {
            format!(" (and {})", plural(correlations as u64, "correlation"))
        } else {
            String::new()
        };
        eprintln!(
            "rules ({origin}): {} loaded{with}, {} failed",
            count(engine.rule_count() as u64),
            count(errors.len() as u64)
        );
    }
    if engine.rule_count() == 0 && !args.quiet {
        eprintln!("warning: no rule loaded: no findings will be made");
    }
    Ok(engine)
}

fn print_summary(s: &RunSummary) {
    let secs = s.elapsed.as_secs_f64();
    let skipped = if s.skipped.is_empty() {
        String::new()
    } else {
        format!(" ({} skipped)", count(s.skipped.len() as u64))
    };
    eprintln!(
        "read {}{}, {}, {}, {} in {:.2} s ({} records/s, {:.1} MB/s)",
        plural(s.files as u64, "file"),
        skipped,
        plural(s.records, "record"),
        mb(s.bytes),
        plural(s.errors, "error"),
        secs,
        count(rate(s.records as f64, secs) as u64),
        rate(s.bytes as f64 / 1e6, secs),
    );
    let by_level: Vec<String> = Level::ALL
        .iter()
        .rev()
        .map(|l| {
            format!(
                "{} {}",
                l,
                count(s.findings_by_level.get(l).copied().unwrap_or(0))
            )
        })
        .collect();
    eprintln!(
        "findings: {} ({})",
        count(s.total_findings()),
        by_level.join(", ")
    );
    if s.spool.runs > 0 {
        eprintln!(
            "findings waited on disk while reading: {} in {} ({})",
            count(s.spool.spilled),
            plural(s.spool.runs, "sorted run"),
            mb(s.spool.bytes)
        );
    }
    for (name, bytes) in &s.analyzer_state_peak {
        eprintln!(
            "{name}: {} finding(s), peak state {:.1} KiB",
            s.analyzer_findings.get(name).copied().unwrap_or(0),
            *bytes as f64 / 1024.0
        );
    }
}
