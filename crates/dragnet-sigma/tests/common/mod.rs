//! What the corpus tests share: where the shared data set is.

use std::path::PathBuf;

/// The shared data set (`DRAGNET_SHARED`, default `<workspace>/../shared`), or None after a
/// loud note when it is absent (the test then passes without checking anything).
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
