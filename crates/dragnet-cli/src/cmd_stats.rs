//! `dragnet stats`: read everything with no rules and count what it holds.

use crate::common::{self, count, mb, rate, Failure};
use crate::{StatsArgs, StatsFormat};
use dragnet_engine::{stats, HuntConfig, StatsResult};
use std::io::{BufWriter, Write};
use std::process::ExitCode;

/// Rows shown in the longer table sections before "... and N more".
const TABLE_ROWS: usize = 30;

pub fn run(args: StatsArgs) -> Result<ExitCode, Failure> {
    let discovery = common::discover(&args.paths, args.quiet)?;
    let cfg = HuntConfig {
        threads: common::threads(args.threads),
        ..Default::default()
    };
    let progress = common::progress(args.quiet);
    let result = stats(&discovery, &cfg, progress.as_ref());

    for e in result.read_errors.iter().take(common::READ_ERRORS_SHOWN) {
        eprintln!("read error: {e}");
    }
    let shown = result.read_errors.len().min(common::READ_ERRORS_SHOWN) as u64;
    if result.errors > shown {
        eprintln!("... and {} more read errors", count(result.errors - shown));
    }

    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        StatsFormat::Json => serde_json::to_writer_pretty(&mut out, &result)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        StatsFormat::Table => write_table(&mut out, &result),
    }
    .and_then(|()| out.flush());
    drop(out);
    if let Err(e) = written {
        if !common::is_broken_pipe(&e) {
            return Err(Failure::failed(format!("writing to standard output: {e}")));
        }
    }

    let readable = result
        .by_file
        .iter()
        .any(|f| f.records > 0 || f.errors == 0);
    if !readable {
        return Err(Failure::failed(format!(
            "nothing could be read: all {} input file(s) failed ({} read errors)",
            result.files,
            count(result.errors)
        )));
    }
    Ok(ExitCode::from(common::EXIT_OK))
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let tail: String = s
            .chars()
            .rev()
            .take(w.saturating_sub(1))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
}

fn more<W: Write>(w: &mut W, total: usize) -> std::io::Result<()> {
    if total > TABLE_ROWS {
        writeln!(
            w,
            "  ... and {} more (--format json lists all)",
            count((total - TABLE_ROWS) as u64)
        )?;
    }
    Ok(())
}

fn write_table<W: Write>(w: &mut W, r: &StatsResult) -> std::io::Result<()> {
    writeln!(
        w,
        "files {}  records {}  {}  errors {}  skipped {}  ({:.2} s, {} records/s)",
        count(r.files as u64),
        count(r.records),
        mb(r.bytes),
        count(r.errors),
        count(r.skipped.len() as u64),
        r.elapsed_secs,
        count(rate(r.records as f64, r.elapsed_secs) as u64),
    )?;

    writeln!(
        w,
        "\n{:<12} {:>8} {:>12} {:>12} {:>8}",
        "FORMAT", "FILES", "RECORDS", "MB", "ERRORS"
    )?;
    for (format, c) in &r.by_format {
        writeln!(
            w,
            "{:<12} {:>8} {:>12} {:>12.1} {:>8}",
            format,
            count(c.files),
            count(c.records),
            c.bytes as f64 / 1e6,
            count(c.errors)
        )?;
    }

    let mut channels: Vec<(&String, &u64)> = r.by_channel.iter().collect();
    channels.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    writeln!(w, "\n{:<60} {:>12}", "CHANNEL", "RECORDS")?;
    for (channel, n) in channels.iter().take(TABLE_ROWS) {
        writeln!(w, "{:<60} {:>12}", cut(channel, 60), count(**n))?;
    }
    more(w, channels.len())?;

    writeln!(w, "\n{:<60} {:>8} {:>12}", "CHANNEL", "EVENTID", "RECORDS")?;
    for e in r.by_event_id.iter().take(TABLE_ROWS) {
        let id = e
            .event_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(
            w,
            "{:<60} {:>8} {:>12}",
            cut(&e.channel, 60),
            id,
            count(e.records)
        )?;
    }
    more(w, r.by_event_id.len())?;

    let mut files: Vec<_> = r.by_file.iter().collect();
    files.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.path.cmp(&b.path)));
    writeln!(
        w,
        "\n{:<70} {:<10} {:>10} {:>8}",
        "FILE", "FORMAT", "RECORDS", "ERRORS"
    )?;
    for f in files.iter().take(TABLE_ROWS) {
        writeln!(
            w,
            "{:<70} {:<10} {:>10} {:>8}",
            cut(&f.path, 70),
            f.format,
            count(f.records),
            count(f.errors)
        )?;
    }
    more(w, files.len())
}
