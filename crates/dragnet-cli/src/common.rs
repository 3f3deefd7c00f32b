//! What `hunt` and `stats` share: input checks, discovery, messages, number formatting.

use crate::progress::TermProgress;
use dragnet_engine::{NoProgress, Progress};
use dragnet_ingest::{Discovery, ReadError};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Exit code: the run completed.
pub const EXIT_OK: u8 = 0;
/// Exit code: nothing could be read, or an internal error.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: a usage error (clap's own code for bad arguments).
pub const EXIT_USAGE: u8 = 2;

/// How many read errors are printed one a line.
pub const READ_ERRORS_SHOWN: usize = 20;

/// Why a command stopped, and with which exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_FAILURE,
            message: message.into(),
        }
    }
}

/// Every path must exist (a usage error otherwise).
pub fn check_paths_exist(paths: &[PathBuf], what: &str) -> Result<(), Failure> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            return Err(Failure::usage(format!(
                "{what} {}: no such file or directory",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Find the input files under `paths`, printing each skipped file unless `quiet`. No file in
/// a readable format at all is a failure (exit 1).
pub fn discover(paths: &[PathBuf], quiet: bool) -> Result<Discovery, Failure> {
    check_paths_exist(paths, "input")?;
    discovered(paths, quiet, dragnet_ingest::discover(paths))
}

/// What [`discover`] says and checks about a discovery made elsewhere (on another thread,
/// while the rules load).
pub fn discovered(
    paths: &[PathBuf],
    quiet: bool,
    found: std::io::Result<Discovery>,
) -> Result<Discovery, Failure> {
    let discovery = found.map_err(|e| Failure::usage(e.to_string()))?;
    if !quiet {
        for s in &discovery.skipped {
            eprintln!("skipped: {}: {}", s.path.display(), s.reason);
        }
    }
    for p in paths.iter().filter(|p| looks_like_rules(p, &discovery)) {
        eprintln!(
            "warning: {} holds YAML files and no evidence: if these are Sigma rules, give each \
             rules path its own --rules (`--rules A --rules B`; in `--rules A B`, B is evidence)",
            p.display()
        );
    }
    if discovery.files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Failure::failed(format!(
            "no readable input in {}: {} file(s) found, none of them EVTX, JSON lines or JSON{}",
            shown.join(", "),
            discovery.skipped.len(),
            if quiet || discovery.skipped.is_empty() {
                ""
            } else {
                " (see the skipped lines above)"
            }
        )));
    }
    Ok(discovery)
}

/// An input path under which discovery skipped YAML files and found no evidence: most likely a
/// rules directory given where evidence goes.
fn looks_like_rules(path: &Path, discovery: &Discovery) -> bool {
    let is_yaml = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
    };
    !discovery.files.iter().any(|f| f.path.starts_with(path))
        && discovery
            .skipped
            .iter()
            .any(|s| s.path.starts_with(path) && is_yaml(&s.path))
}

/// Threads for a run: `--threads`, else every core.
pub fn threads(opt: Option<u32>) -> usize {
    let n = opt
        .map(|n| n as usize)
        .unwrap_or_else(dragnet_engine::default_threads)
        .max(1);
    // The shared pool (rule loading, a big file's parser and detection) gets the same size:
    // `--threads 1` uses one core throughout. Only the first call of a process sizes it.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    n
}

/// A progress bar on standard error when it is a terminal and the run is not quiet;
/// nothing otherwise.
pub fn progress(quiet: bool) -> Box<dyn Progress> {
    if !quiet && std::io::stderr().is_terminal() {
        Box::new(TermProgress::new())
    } else {
        Box::new(NoProgress)
    }
}

/// Print the read errors one a line (the first [`READ_ERRORS_SHOWN`]), then how many more.
pub fn print_read_errors(kept: &[ReadError], total: u64) {
    for e in kept.iter().take(READ_ERRORS_SHOWN) {
        eprintln!("read error: {e}");
    }
    let shown = kept.len().min(READ_ERRORS_SHOWN) as u64;
    if total > shown {
        eprintln!("... and {} more read errors", count(total - shown));
    }
}

/// `1234567` -> `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let lead = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    out.push_str(&digits[..lead]);
    for group in digits.as_bytes()[lead..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

/// `1 file`, `2 files`.
pub fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {one}s", count(n))
    }
}

/// Bytes as megabytes (10^6) with one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `n` per second over `secs`, guarding against a zero duration.
pub fn rate(n: f64, secs: f64) -> f64 {
    if secs > 0.0 {
        n / secs
    } else {
        0.0
    }
}

/// Writing to a closed pipe (`dragnet hunt ... | head`) is not an error.
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(mb(46_100_000), "46.1 MB");
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(1200, "error"), "1,200 errors");
    }
}
