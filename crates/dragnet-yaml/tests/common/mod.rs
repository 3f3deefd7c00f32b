//! What the rule-file tests and the bench share: where the shared data set is, and its YAML files.

use std::path::{Path, PathBuf};

/// The shared data set (`DRAGNET_SHARED`, default `<workspace>/../shared`), or None after a
/// loud note when it is absent.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if p.join("data/sigma/sigmahq").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: shared data not found at {} (set DRAGNET_SHARED)",
            p.display()
        );
        None
    }
}

/// Every `.yml`/`.yaml` file below `dir` (an unreadable directory adds nothing).
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}
