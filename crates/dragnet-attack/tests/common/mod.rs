//! What the tests share: where the shared data set is.

#![allow(dead_code)]

use std::path::PathBuf;

/// The shared data set (`DRAGNET_SHARED`, default `<workspace>/../shared`), or None after a
/// loud note when the part `needs` (a path inside it) is absent.
pub fn shared(needs: &str) -> Option<PathBuf> {
    let p = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if p.join(needs).exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: shared data {needs} not found under {} (set DRAGNET_SHARED)",
            p.display()
        );
        None
    }
}

/// Technique ids of the Ink Dragon TTP table (section 2 of `ink-dragon-ttps.md`): every id on a
/// table row, `T1090.001/.003` read as two ids.
pub fn ink_dragon_table_ids(md: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in md.lines() {
        let mut cells = line.split('|').map(str::trim);
        let (Some(""), Some(n)) = (cells.next(), cells.next()) else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        for id in ids_in(line) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// `T1234`, `T1234.567` and the `/.890` continuations in a text.
fn ids_in(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if b[i] == b'T' && boundary && digits(i + 1, 4) {
            let base = &s[i..i + 5];
            let mut j = i + 5;
            if b.get(j) == Some(&b'.') && digits(j + 1, 3) {
                out.push(s[i..j + 4].to_string());
                j += 4;
                while b.get(j) == Some(&b'/') && b.get(j + 1) == Some(&b'.') && digits(j + 2, 3) {
                    out.push(format!("{base}{}", &s[j + 1..j + 5]));
                    j += 5;
                }
            } else {
                out.push(base.to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The APT41 export (`apt41-attack-v18.1-techniques.tsv`: source, source_name, technique_id,
/// technique_name, tactics, procedure): technique ids of the rows whose source is `source`.
pub fn tsv_techniques(tsv: &str, source: &str) -> Vec<(String, String, String)> {
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 5 && f[0] == source)
                .then(|| (f[2].to_string(), f[3].to_string(), f[4].to_string()))
        })
        .collect()
}
