//! The compact data text of the knowledge base (`data/attack.tsv`).
//!
//! One record a line, fields separated by tabs, lists inside a field by `,` (ids) or `|`
//! (aliases):
//!
//! ```text
//! #dragnet-attack/1  bundle=...  matrix-modified=...  later-revocations=N     (header)
//! A  TA0043  reconnaissance  Reconnaissance                    (tactics, kill-chain order)
//! T  T1003.001  LSASS Memory  credential-access  FLAGS  REVOKED_BY
//! S  S0596  ShadowPad  malware  T1008,T1027,...                (software and its techniques)
//! G  G0096  APT41  Wicked Panda|Brass Typhoon|...  DIRECT_TECHNIQUES  SOFTWARE_IDS
//! ```
//!
//! `FLAGS`: `d` deprecated, `l` defined by the later revocation list (a newer ATT&CK id that
//! the bundle does not define; its name and tactics are those of the technique it replaces).

use crate::{Group, Software, Tactic, Technique};

pub(crate) const FORMAT_HEADER: &str = "#dragnet-attack/1";

/// A field value with no tab, newline or carriage return (they would break the format).
pub(crate) fn clean(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn split_list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the data text holds, before indexing.
pub(crate) struct Parsed {
    pub header: String,
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<Technique>,
    /// Ids flagged `l`.
    pub later: Vec<String>,
    pub software: Vec<Software>,
    /// Groups with `techniques` = direct only (software is added when indexing).
    pub groups: Vec<Group>,
}

pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, h)) if h.starts_with(FORMAT_HEADER) => h.to_string(),
        _ => {
            return Err(format!(
                "ATT&CK data: first line must start with {FORMAT_HEADER}"
            ))
        }
    };
    let mut p = Parsed {
        header,
        tactics: Vec::new(),
        techniques: Vec::new(),
        later: Vec::new(),
        software: Vec::new(),
        groups: Vec::new(),
    };
    for (i, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let want = |n: usize| -> Result<(), String> {
            if f.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "ATT&CK data line {}: {} record needs {n} fields, has {}",
                    i + 1,
                    f[0],
                    f.len()
                ))
            }
        };
        match f[0] {
            "A" => {
                want(4)?;
                p.tactics.push(Tactic {
                    id: f[1].to_string(),
                    shortname: f[2].to_string(),
                    name: f[3].to_string(),
                    order: p.tactics.len(),
                });
            }
            "T" => {
                want(6)?;
                if f[4].contains('l') {
                    p.later.push(f[1].to_string());
                }
                p.techniques.push(Technique {
                    id: f[1].to_string(),
                    name: f[2].to_string(),
                    tactics: split_list(f[3], ','),
                    deprecated: f[4].contains('d'),
                    revoked_by: Some(f[5].to_string()).filter(|s| !s.is_empty()),
                });
            }
            "S" => {
                want(5)?;
                p.software.push(Software {
                    id: f[1].to_string(),
                    name: f[2].to_string(),
                    kind: f[3].to_string(),
                    techniques: split_list(f[4], ','),
                });
            }
            "G" => {
                want(6)?;
                let direct = split_list(f[4], ',');
                p.groups.push(Group {
                    id: f[1].to_string(),
                    name: f[2].to_string(),
                    aliases: split_list(f[3], '|'),
                    techniques: direct.clone(),
                    software: Vec::new(),
                    direct_techniques: direct,
                    software_ids: split_list(f[5], ','),
                });
            }
            other => {
                return Err(format!(
                    "ATT&CK data line {}: unknown record type {other:?}",
                    i + 1
                ))
            }
        }
    }
    Ok(p)
}
