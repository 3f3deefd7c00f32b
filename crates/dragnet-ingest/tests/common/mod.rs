//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dragnet_event::Event;
use dragnet_ingest::{
    discover, read_file, Discovery, FileSummary, InputFile, ReadError, ReadOptions,
};
use std::path::{Path, PathBuf};

/// The shared data directory: `$DRAGNET_SHARED`, else `<workspace>/../shared`. `None` (after a
/// loud notice) when it is not there, so that corpus tests skip rather than fail.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let root = match std::env::var_os("DRAGNET_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let dir = root.join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: shared data not found at {} (set DRAGNET_SHARED) ***\n",
            dir.display()
        );
        None
    }
}

/// Everything a read gave.
pub struct Read {
    pub events: Vec<Event>,
    pub errors: Vec<ReadError>,
    pub summary: FileSummary,
}

pub fn read_all(file: &InputFile) -> Read {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let summary = read_file(
        file,
        &ReadOptions { threads: 1 },
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    );
    assert_eq!(summary.records, events.len() as u64);
    assert_eq!(summary.errors, errors.len() as u64);
    Read {
        events,
        errors,
        summary,
    }
}

pub fn discover_one(path: &Path) -> Discovery {
    discover(&[path.to_path_buf()]).expect("discover")
}

/// A fresh, empty scratch directory for one test, removed when dropped.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("dragnet-ingest-{}-{}", std::process::id(), name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    Scratch(dir)
}

pub fn text(ev: &Event, name: &str) -> Option<String> {
    ev.get_text(name).map(|t| t.into_owned())
}
