//! Progress reporting from the reading threads.

use std::path::Path;

/// Receives progress from the pipeline, from several threads at once.
///
/// Counting contract: `add_records` carries every record and byte exactly once (a reading
/// thread reports records as it goes and the file's bytes when it is done); `file_done` marks
/// one more file finished and repeats that file's totals for display only.
pub trait Progress: Sync {
    /// The run starts: `files` inputs, `bytes` on disk.
    fn start(&self, _files: usize, _bytes: u64) {}
    /// `n` more records and `bytes` more bytes were read.
    fn add_records(&self, _n: u64, _bytes: u64) {}
    /// A file is done (its totals; already counted through `add_records`).
    fn file_done(&self, _path: &Path, _records: u64, _bytes: u64) {}
    /// The reading is over (clear any display).
    fn finish(&self) {}
}

/// Progress that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
