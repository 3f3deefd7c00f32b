//! The fast reader for plain block YAML gives exactly the general parser's tree (text, quoting,
//! lines) on every SigmaHQ rule file it reads, and reads nearly all of them.

mod common;

use common::{shared, yaml_files};

#[test]
fn the_block_reader_agrees_with_the_general_parser_on_sigmahq() {
    let Some(shared) = shared() else { return };
    let mut files = Vec::new();
    yaml_files(&shared.join("data/sigma/sigmahq"), &mut files);
    assert!(files.len() > 3000, "{} rule files", files.len());
    let (mut read, mut differ) = (0usize, Vec::new());
    let mut left: Vec<String> = Vec::new();
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        let general = dragnet_yaml::parse_documents_general(&text);
        match dragnet_yaml::parse_documents_block(&text) {
            Some(docs) => {
                read += 1;
                match general {
                    Ok(g) if g == docs => {}
                    other => differ.push(format!("{}: {:?}", f.display(), other.err())),
                }
            }
            None => left.push(f.display().to_string()),
        }
    }
    eprintln!(
        "block reader: {read} of {} files; left to the general parser: {}",
        files.len(),
        left.len()
    );
    for l in left.iter().take(40) {
        eprintln!("  left: {l}");
    }
    assert!(
        differ.is_empty(),
        "{} differ: {:#?}",
        differ.len(),
        &differ[..differ.len().min(10)]
    );
    assert!(
        read * 100 >= files.len() * 95,
        "only {read} of {} read",
        files.len()
    );
}
