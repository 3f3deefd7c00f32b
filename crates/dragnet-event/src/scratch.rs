//! Scratch directories for data that waits on disk during a run (sorted runs of findings or
//! network records): made fresh and private, removed by their owner.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static MADE: AtomicU64 = AtomicU64::new(0);

/// A new directory `PREFIX-PID-N` inside `parent`, made by this call (never one that already
/// exists, so nobody else can have put files or links in it) and, on Unix, readable by its
/// owner only: evidence and findings are not for other users of the machine.
pub fn private_scratch_dir(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    let mut last = None;
    for _ in 0..16 {
        let d = parent.join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        match b.create(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free scratch directory name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_makes_a_new_private_directory_and_never_reuses_one() {
        let parent = std::env::temp_dir();
        let a = private_scratch_dir(&parent, "dragnet-scratch-test").unwrap();
        let b = private_scratch_dir(&parent, "dragnet-scratch-test").unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        // A name somebody made beforehand is skipped, not entered.
        let next = MADE.load(Ordering::Relaxed);
        let planted = parent.join(format!(
            "dragnet-scratch-test-{}-{next}",
            std::process::id()
        ));
        std::fs::create_dir_all(&planted).unwrap();
        let c = private_scratch_dir(&parent, "dragnet-scratch-test").unwrap();
        assert_ne!(c, planted);
        // A parent that is a file: an error, not a panic.
        let file = a.join("file");
        std::fs::write(&file, "").unwrap();
        assert!(private_scratch_dir(&file, "x").is_err());
        for d in [a, b, c, planted] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
