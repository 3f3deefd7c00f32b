//! The progress line on a terminal's standard error.

use crate::common::{count, rate};
use dragnet_engine::Progress;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most ten redraws a second.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// `files done/total, records, MB/s`, redrawn in place with `\r`.
pub struct TermProgress {
    started: Instant,
    total_files: AtomicU64,
    total_bytes: AtomicU64,
    files: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    last_draw: Mutex<Option<Instant>>,
    drawn: AtomicBool,
}

impl TermProgress {
    pub fn new() -> Self {
        TermProgress {
            started: Instant::now(),
            total_files: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            files: AtomicU64::new(0),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last_draw: Mutex::new(None),
            drawn: AtomicBool::new(false),
        }
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let records = self.records.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        format!(
            "files {}/{}  records {}  {:.1} MB  {:.1} MB/s  {} records/s",
            self.files.load(Ordering::Relaxed),
            self.total_files.load(Ordering::Relaxed),
            count(records),
            bytes as f64 / 1e6,
            rate(bytes as f64 / 1e6, secs),
            count(rate(records as f64, secs) as u64),
        )
    }

    /// Redraw unless the last redraw was less than [`REDRAW_EVERY`] ago (or another thread
    /// is drawing right now).
    fn maybe_draw(&self) {
        let Ok(mut last) = self.last_draw.try_lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < REDRAW_EVERY) {
            return;
        }
        *last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", self.line());
        let _ = err.flush();
        self.drawn.store(true, Ordering::Relaxed);
    }
}

impl Progress for TermProgress {
    fn start(&self, files: usize, bytes: u64) {
        self.total_files.store(files as u64, Ordering::Relaxed);
        self.total_bytes.store(bytes, Ordering::Relaxed);
        self.maybe_draw();
    }
    fn add_records(&self, n: u64, bytes: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.maybe_draw();
    }
    fn file_done(&self, _path: &Path, _records: u64, _bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.maybe_draw();
    }
    fn finish(&self) {
        if self.drawn.load(Ordering::Relaxed) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

impl Default for TermProgress {
    fn default() -> Self {
        Self::new()
    }
}
