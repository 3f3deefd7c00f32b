//! Finding input files: walk the given files and directories in a deterministic order and
//! detect each file's format from its content.

use crate::detect::{sniff_path, Sniffed};
use crate::{Discovery, InputFile, InputFormat, Skipped};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Walk files and directories (recursively, in sorted order, deterministic) and detect each
/// file's format from its content (EVTX magic, gzip, JSON lines vs JSON document, Zeek, W3C,
/// mail and Microsoft 365 audit logs), not from its name. Files dragnet does not read (empty,
/// binary, other text, unreadable, not regular files) go to `skipped` with a reason; that is
/// never fatal. The same file reached twice (given twice, or through a link) is read once.
///
/// A path that does not exist is an `Err` (a usage error), naming the path.
pub fn discover(paths: &[PathBuf]) -> io::Result<Discovery> {
    let mut walker = Walker::default();
    for path in paths {
        let meta = fs::metadata(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        walker.visit(path, &meta);
    }
    Ok(walker.out)
}

#[derive(Default)]
struct Walker {
    out: Discovery,
    /// Canonical paths of the files and directories seen, so that links and repeated
    /// arguments neither loop nor read a file twice.
    seen: HashSet<PathBuf>,
}

impl Walker {
    fn skip(&mut self, path: &Path, reason: impl Into<String>) {
        self.out.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: reason.into(),
        });
    }

    /// `meta` follows links.
    fn visit(&mut self, path: &Path, meta: &fs::Metadata) {
        if let Ok(canonical) = fs::canonicalize(path) {
            if !self.seen.insert(canonical) {
                if meta.is_file() {
                    self.skip(path, "already listed (same file reached twice)");
                }
                return;
            }
        }
        if meta.is_dir() {
            self.visit_dir(path);
        } else if meta.is_file() {
            self.visit_file(path, meta.len());
        } else {
            self.skip(path, "not a regular file or directory");
        }
    }

    fn visit_dir(&mut self, dir: &Path) {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.skip(dir, format!("cannot list directory: {e}")),
        };
        let mut children: Vec<PathBuf> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push(entry.path()),
                Err(e) => self.skip(dir, format!("cannot list directory entry: {e}")),
            }
        }
        children.sort();
        for child in children {
            // Inside a directory walk, hidden entries (editor and VCS folders such as `.git`,
            // `.vscode`) and notebooks are tooling, not evidence: skipped with a reason. A path
            // given explicitly is always read.
            let name = child
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                self.skip(
                    &child,
                    "hidden entry inside a directory (give it explicitly to read it)",
                );
                continue;
            }
            if name.ends_with(".ipynb") {
                self.skip(
                    &child,
                    "notebook, not evidence (give it explicitly to read it)",
                );
                continue;
            }
            match fs::metadata(&child) {
                Ok(meta) => self.visit(&child, &meta),
                Err(e) => self.skip(&child, format!("cannot read metadata: {e}")),
            }
        }
    }

    fn visit_file(&mut self, path: &Path, size: u64) {
        match sniff_path(path) {
            Ok(Sniffed::Known { format, gzip }) => self.out.files.push(InputFile {
                path: path.to_path_buf(),
                format,
                size,
                gzip,
            }),
            Ok(Sniffed::Unknown(reason)) => self.skip(path, reason),
            // `sniff_path` settles these itself; a JSON document is the safe reading.
            Ok(Sniffed::NeedMore) => self.out.files.push(InputFile {
                path: path.to_path_buf(),
                format: InputFormat::JsonArray,
                size,
                gzip: false,
            }),
            Err(e) => self.skip(path, format!("cannot read: {e}")),
        }
    }
}
