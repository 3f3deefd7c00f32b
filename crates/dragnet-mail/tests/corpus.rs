//! Detection rates on real mail: `$DRAGNET_SHARED/data/email/phish` (phishing) and
//! `$DRAGNET_SHARED/data/email/ham` (legitimate mailing-list mail). Bytes only: nothing in
//! them is opened, followed or run.
//!
//! Every 5th message (by sorted file name) is a held-out validation split that the checks
//! were not developed on; the rates are printed for both splits and for the whole set.
//! Set `DRAGNET_MAIL_DEBUG=1` to list the misses and false alarms with their signals.

use dragnet_mail::{analyze, read_mail_file, Label, Limits, MailConfig, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

struct Rates {
    train: (usize, usize),
    valid: (usize, usize),
    signals: BTreeMap<&'static str, usize>,
    examples: Vec<String>,
}

fn run(dir: &Path, want_phish: bool) -> Rates {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let cfg = MailConfig::default();
    let limits = Limits::default();
    let mut r = Rates {
        train: (0, 0),
        valid: (0, 0),
        signals: BTreeMap::new(),
        examples: Vec::new(),
    };
    for (i, f) in files.iter().enumerate() {
        let mut verdicts: Vec<Verdict> = Vec::new();
        read_mail_file(f, &limits, &mut |m| verdicts.push(analyze(&m, &cfg))).unwrap();
        let flagged = verdicts.iter().any(|v| v.label == Label::Phishing);
        let split = if i % 5 == 4 {
            &mut r.valid
        } else {
            &mut r.train
        };
        split.0 += usize::from(flagged);
        split.1 += 1;
        for v in &verdicts {
            for s in &v.signals {
                *r.signals.entry(s.name).or_default() += 1;
            }
        }
        if flagged != want_phish && i % 5 != 4 && r.examples.len() < 600 {
            let v = &verdicts[0];
            r.examples.push(format!(
                "{} score {:.1}: {}",
                f.file_name().unwrap().to_string_lossy(),
                v.score,
                v.signals
                    .iter()
                    .map(|s| format!("{}({})", s.name, s.evidence.join("|")))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
    r
}

fn pct(x: (usize, usize)) -> f64 {
    if x.1 == 0 {
        0.0
    } else {
        100.0 * x.0 as f64 / x.1 as f64
    }
}

#[test]
fn phish_flagged_and_ham_not() {
    let base = shared().join("data/email");
    let (phish_dir, ham_dir) = (base.join("phish"), base.join("ham"));
    if !phish_dir.is_dir() || !ham_dir.is_dir() {
        println!(
            "SKIPPED: phish_flagged_and_ham_not: no {} (set DRAGNET_SHARED)",
            base.display()
        );
        return;
    }
    let phish = run(&phish_dir, true);
    let ham = run(&ham_dir, false);
    let all = |r: &Rates| (r.train.0 + r.valid.0, r.train.1 + r.valid.1);
    println!(
        "phish flagged: train {:.1}% ({}/{}), validation {:.1}% ({}/{}), all {:.1}%",
        pct(phish.train),
        phish.train.0,
        phish.train.1,
        pct(phish.valid),
        phish.valid.0,
        phish.valid.1,
        pct(all(&phish))
    );
    println!(
        "ham flagged:   train {:.1}% ({}/{}), validation {:.1}% ({}/{}), all {:.1}%",
        pct(ham.train),
        ham.train.0,
        ham.train.1,
        pct(ham.valid),
        ham.valid.0,
        ham.valid.1,
        pct(all(&ham))
    );
    if std::env::var_os("DRAGNET_MAIL_DEBUG").is_some() {
        let mut top: Vec<_> = phish.signals.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        println!("signals on phish: {top:?}");
        let mut top: Vec<_> = ham.signals.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        println!("signals on ham: {top:?}");
        for e in &phish.examples {
            println!("MISSED {e}");
        }
        for e in &ham.examples {
            println!("FALSE {e}");
        }
    }
    assert!(
        pct(all(&phish)) >= 90.0,
        "phish flagged {:.1}% < 90%",
        pct(all(&phish))
    );
    assert!(
        pct(all(&ham)) <= 2.0,
        "ham flagged {:.1}% > 2%",
        pct(all(&ham))
    );
    assert!(
        pct(phish.valid) >= 85.0 && pct(ham.valid) <= 3.0,
        "validation split off"
    );
}
