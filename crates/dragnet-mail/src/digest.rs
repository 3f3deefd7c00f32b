//! The awareness digest: for each phishing message, the defanged lures and the signals in
//! plain language, in Markdown, for training staff.

use crate::analyze::{Label, Verdict};
use crate::message::Message;
use crate::util::{clip, defang};
use std::collections::BTreeMap;
use std::fmt::Write;

struct Entry {
    subject: String,
    from: String,
    date: String,
    source: String,
    score: f64,
    reasons: Vec<(String, Vec<String>)>,
    links: Vec<String>,
    files: Vec<(String, String)>,
    excerpt: String,
}

/// Collects phishing verdicts, then renders the digest. Holds only what the digest shows,
/// never whole messages.
#[derive(Default)]
pub struct Digest {
    entries: Vec<Entry>,
    /// Messages seen, phishing ones, suspicious ones.
    pub seen: u64,
    pub phishing: u64,
    pub suspicious: u64,
    /// How often each signal fired among phishing messages (name -> (count, explanation)).
    tally: BTreeMap<&'static str, (u64, &'static str)>,
    /// Most messages described one by one.
    pub max_entries: usize,
}

impl Digest {
    pub fn new() -> Self {
        Digest {
            max_entries: 500,
            ..Default::default()
        }
    }

    /// Account for one analysed message.
    pub fn add(&mut self, msg: &Message, v: &Verdict) {
        self.seen += 1;
        match v.label {
            Label::Clean => return,
            Label::Suspicious => {
                self.suspicious += 1;
                return;
            }
            Label::Phishing => self.phishing += 1,
        }
        for s in &v.signals {
            let slot = self.tally.entry(s.name).or_insert((0, s.explanation));
            slot.0 += 1;
        }
        if self.entries.len() >= self.max_entries {
            return;
        }
        let from = msg
            .from_first()
            .map(|m| {
                if m.name.is_empty() {
                    defang(&m.address)
                } else {
                    format!("{} <{}>", clip(&m.name, 80), defang(&m.address))
                }
            })
            .unwrap_or_else(|| "(no sender)".into());
        let text = msg
            .text_bodies()
            .into_iter()
            .next()
            .or_else(|| {
                msg.html_bodies()
                    .into_iter()
                    .next()
                    .map(|h| crate::html::analyze_html(&h).text)
            })
            .unwrap_or_default();
        self.entries.push(Entry {
            subject: defang_text(&clip(&msg.subject(), 200)),
            from,
            date: msg
                .date()
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "unknown date".into()),
            source: format!("{}#{}", msg.provenance.path, msg.provenance.record),
            score: v.score,
            reasons: v
                .signals
                .iter()
                .map(|s| (s.explanation.to_string(), s.evidence.clone()))
                .collect(),
            links: v
                .indicators
                .urls
                .iter()
                .take(5)
                .map(|u| defang(&clip(u, 150)))
                .collect(),
            files: v
                .indicators
                .attachments
                .iter()
                .take(8)
                .map(|f| (clip(&f.name, 100), f.sha256.clone()))
                .collect(),
            excerpt: defang_text(&clip(
                &text.split_whitespace().collect::<Vec<_>>().join(" "),
                300,
            )),
        });
    }

    /// The digest as Markdown.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Phishing awareness digest\n");
        let _ = writeln!(
            o,
            "{} message(s) analysed: **{} phishing**, {} suspicious. Every web address and e-mail \
             address below is defanged (`hxxps://example[.]com`) so that it cannot be clicked; \
             never re-fang and open them.\n",
            self.seen, self.phishing, self.suspicious
        );
        if !self.tally.is_empty() {
            let _ = writeln!(o, "## What to look for\n");
            let mut tally: Vec<_> = self.tally.iter().collect();
            tally.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (_, (n, text)) in tally.iter().take(12) {
                let _ = writeln!(o, "- {text} *(seen in {n} message(s))*");
            }
            let _ = writeln!(
                o,
                "\nWhen a message shows these signs: do not click, do not open attachments, do \
                 not reply; report it to the security team with the *Report phishing* button.\n"
            );
        }
        if !self.entries.is_empty() {
            let _ = writeln!(o, "## The messages\n");
        }
        for (i, e) in self.entries.iter().enumerate() {
            let _ = writeln!(o, "### {}. {}\n", i + 1, md(&e.subject));
            let _ = writeln!(o, "- **From:** {}", md(&e.from));
            let _ = writeln!(o, "- **Date:** {}", e.date);
            let _ = writeln!(o, "- **Score:** {:.1} (source `{}`)", e.score, e.source);
            if !e.excerpt.is_empty() {
                let _ = writeln!(o, "- **It says:** \"{}\"", md(&e.excerpt));
            }
            let _ = writeln!(o, "\n**Why it is phishing:**\n");
            for (text, ev) in &e.reasons {
                if ev.is_empty() {
                    let _ = writeln!(o, "- {text}");
                } else {
                    let _ = writeln!(o, "- {text} ({})", md(&ev.join("; ")));
                }
            }
            if !e.links.is_empty() || !e.files.is_empty() {
                let _ = writeln!(o, "\n**The lures (defanged):**\n");
                for l in &e.links {
                    let _ = writeln!(o, "- link `{l}`");
                }
                for (name, sha) in &e.files {
                    let _ = writeln!(
                        o,
                        "- attachment `{}` (SHA-256 `{sha}`)",
                        name.replace('`', "'")
                    );
                }
            }
            let _ = writeln!(o);
        }
        if self.phishing as usize > self.entries.len() {
            let _ = writeln!(
                o,
                "*{} more phishing message(s) not described one by one.*",
                self.phishing as usize - self.entries.len()
            );
        }
        o
    }
}

/// Markdown-safe inline text.
fn md(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
        .replace('*', "\\*")
        .replace('_', "\\_")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Defang the URL- and address-like words of free text.
pub fn defang_text(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let l = w.to_ascii_lowercase();
            let url_like =
                l.contains("http") || l.starts_with("www.") || (w.contains('@') && w.contains('.'));
            let domain_like = w.len() > 4
                && w.contains('.')
                && w.rsplit('.').next().is_some_and(|t| {
                    (2..=12).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphabetic())
                })
                && w.split('.').next().is_some_and(|f| {
                    !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if url_like || domain_like {
                defang(w)
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defangs_free_text() {
        assert_eq!(
            defang_text("go to https://evil.example/x or evil.example now, mail a@b.example"),
            "go to hxxps://evil[.]example/x or evil[.]example now, mail a@b[.]example"
        );
    }
}
