//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dragnet_event::Event;
use dragnet_ingest::{discover, read_file, ReadOptions};
use std::path::{Path, PathBuf};

/// The shared data directory: `$DRAGNET_SHARED`, else `<workspace>/../shared`; `None` (after
/// printing `SKIPPED: ...`) when it is not there.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let root = match std::env::var_os("DRAGNET_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let dir = root.join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: shared data not found at {} (set DRAGNET_SHARED)",
            dir.display()
        );
        None
    }
}

/// Every event under `path`, sorted by time (stable: file order within a time).
pub fn events(path: &Path) -> Vec<Event> {
    let d = discover(&[path.to_path_buf()]).expect("discover");
    let mut all = Vec::new();
    for f in &d.files {
        read_file(
            f,
            &ReadOptions::default(),
            &mut |e| all.push(e),
            &mut |_| {},
        );
    }
    all.sort_by_key(|e| e.time);
    all
}
