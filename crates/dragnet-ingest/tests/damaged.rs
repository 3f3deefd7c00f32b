//! Damaged, empty, garbage and mislabelled input: reported, never a panic.

mod common;

use common::{discover_one, read_all, scratch, shared, text};
use dragnet_event::Value;
use dragnet_ingest::{detect_format, discover, InputFile, InputFormat};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn input(path: &Path, format: InputFormat, gzip: bool) -> InputFile {
    InputFile {
        path: path.to_path_buf(),
        format,
        size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        gzip,
    }
}

fn jsonl(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "{{\"EventID\": 4688, \"Channel\": \"Security\", \"Hostname\": \"WS{i}\", \"CommandLine\": \"cmd.exe /c echo {i} {}\"}}\n",
                "x".repeat(i % 50)
            )
        })
        .collect()
}

#[test]
fn missing_path_is_a_usage_error() {
    let dir = scratch("missing");
    let err = discover(&[dir.join("nope.evtx")]).unwrap_err();
    assert!(err.to_string().contains("nope.evtx"), "{err}");
    // Reading a file that is not there: one error, nothing read.
    let read = read_all(&input(&dir.join("nope.evtx"), InputFormat::Evtx, false));
    assert_eq!((read.summary.records, read.errors.len()), (0, 1));
    let read = read_all(&input(&dir.join("nope.json"), InputFormat::Jsonl, true));
    assert_eq!((read.summary.records, read.errors.len()), (0, 1));
}

#[test]
fn empty_and_garbage_files_are_skipped_or_reported() {
    let dir = scratch("garbage");
    let empty = dir.join("empty.evtx");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.join("garbage.json");
    let bytes: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    let spaces = dir.join("blank.jsonl");
    std::fs::write(&spaces, b"  \n\n").unwrap();

    let found = discover_one(&dir);
    assert!(found.files.is_empty(), "{:?}", found.files);
    assert_eq!(found.skipped.len(), 3);
    for s in &found.skipped {
        assert!(!s.reason.is_empty());
    }
    let reason = |p: &PathBuf| {
        found
            .skipped
            .iter()
            .find(|s| &s.path == p)
            .map(|s| s.reason.clone())
            .unwrap()
    };
    assert_eq!(reason(&empty), "empty file");
    assert!(
        reason(&garbage).starts_with("binary content"),
        "{}",
        reason(&garbage)
    );
    assert_eq!(detect_format(&empty).unwrap(), None);
    assert_eq!(detect_format(&garbage).unwrap(), None);

    // Forced through the readers anyway, they give errors and no events.
    for format in [
        InputFormat::Evtx,
        InputFormat::Jsonl,
        InputFormat::JsonArray,
    ] {
        for path in [&empty, &garbage] {
            let read = read_all(&input(path, format, false));
            assert!(read.events.is_empty(), "{format:?} {}", path.display());
            let empty_jsonl = format == InputFormat::Jsonl && path == &empty;
            if !empty_jsonl {
                assert!(!read.errors.is_empty(), "{format:?} {}", path.display());
            }
            for e in &read.errors {
                eprintln!("{e}");
            }
        }
    }
    // Garbage read as gzip.
    let read = read_all(&input(&garbage, InputFormat::Jsonl, true));
    assert!(read.events.is_empty() && !read.errors.is_empty());
    let read = read_all(&input(&garbage, InputFormat::Evtx, true));
    assert!(read.events.is_empty() && !read.errors.is_empty());
}

#[test]
fn truncated_gzip_gives_what_it_holds_and_an_error() {
    let dir = scratch("truncated-gz");
    let whole = gzip(jsonl(2000).as_bytes());
    let path = dir.join("events.jsonl.gz");
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let found = discover_one(&path);
    assert_eq!(found.files.len(), 1, "{:?}", found.skipped);
    assert_eq!(
        (found.files[0].format, found.files[0].gzip),
        (InputFormat::Jsonl, true)
    );
    let read = read_all(&found.files[0]);
    assert!(
        read.summary.records > 100 && read.summary.records < 2000,
        "{}",
        read.summary.records
    );
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    let e = &read.errors[0];
    assert!(e.location.starts_with("line "), "{e}");
    assert!(e.reason.contains("gzip"), "{e}");
    // Lines before the damage are all there, numbered.
    for (i, ev) in read.events.iter().enumerate() {
        assert_eq!(ev.provenance.record, i as u64 + 1);
        assert_eq!(text(ev, "Computer").unwrap(), format!("WS{}", i + 1));
    }

    // The same damage in a JSON document.
    let doc = format!(
        "[{}]",
        jsonl(2000)
            .trim_end()
            .lines()
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let whole = gzip(doc.as_bytes());
    let path = dir.join("events.json.gz");
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let found = discover_one(&path);
    assert_eq!(found.files[0].format, InputFormat::JsonArray);
    let read = read_all(&found.files[0]);
    assert!(
        read.summary.records > 100 && read.summary.records < 2000,
        "{}",
        read.summary.records
    );
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
}

#[test]
fn one_bad_line_is_reported_and_skipped() {
    let dir = scratch("bad-line");
    let path = dir.join("events.jsonl");
    let mut lines: Vec<String> = jsonl(10).lines().map(str::to_string).collect();
    lines[4] = "{\"EventID\": 4688, \"Channel\": \"Secu".to_string();
    lines[7] = "[1, 2, 3]".to_string();
    lines.insert(2, String::new());
    // Not UTF-8, but otherwise fine: read, with the bad byte replaced.
    lines[9] = "{\"EventID\": 1, \"Image\": \"C:\\\\caf\u{e9}.exe\"}".to_string();
    let mut data = lines.join("\r\n").into_bytes();
    let pos = data.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    data.splice(pos..pos + 2, [0xe9]);
    std::fs::write(&path, &data).unwrap();

    let found = discover_one(&path);
    assert_eq!(found.files[0].format, InputFormat::Jsonl);
    let read = read_all(&found.files[0]);
    for e in &read.errors {
        eprintln!("{e}");
    }
    let locations: Vec<&str> = read.errors.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(locations, ["line 6", "line 9"]);
    assert!(read.errors[0].reason.starts_with("invalid JSON"));
    assert!(read.errors[1].reason.contains("not a JSON object"));
    assert_eq!(read.summary.records, 8);
    let records: Vec<u64> = read.events.iter().map(|e| e.provenance.record).collect();
    assert_eq!(records, [1, 2, 4, 5, 7, 8, 10, 11]);
    let odd = &read.events[6];
    assert_eq!(odd.get("EventID"), Some(&Value::Int(1)));
    assert_eq!(text(odd, "Image").unwrap(), "C:\\caf\u{fffd}.exe");
}

#[test]
fn format_is_told_from_content_not_name() {
    let dir = scratch("misleading");
    // JSON lines named .evtx, a pretty JSON document named .jsonl, a gzip named .txt.
    std::fs::write(dir.join("a.evtx"), jsonl(3)).unwrap();
    std::fs::write(
        dir.join("b.jsonl"),
        "{\n  \"EventID\": 1,\n  \"Channel\": \"x\"\n}\n{\n  \"EventID\": 2\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("c.txt"), gzip(jsonl(5).as_bytes())).unwrap();
    std::fs::write(dir.join("d.log"), "[{\"a\": 1}, {\"a\": 2}, 3]").unwrap();
    let mut evtx_sample = None;
    if let Some(sample) = shared("data/evtx/benign-and-corrupt/new-user-security.evtx") {
        std::fs::copy(&sample, dir.join("e.json")).unwrap();
        std::fs::write(dir.join("f.dat"), gzip(&std::fs::read(&sample).unwrap())).unwrap();
        evtx_sample = Some(sample);
    }
    let found = discover_one(&dir);
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let got: Vec<(String, InputFormat, bool, u64, u64)> = found
        .files
        .iter()
        .map(|f| {
            let read = read_all(f);
            (
                f.path.file_name().unwrap().to_string_lossy().into_owned(),
                f.format,
                f.gzip,
                read.summary.records,
                read.summary.errors,
            )
        })
        .collect();
    let mut expected = vec![
        ("a.evtx".to_string(), InputFormat::Jsonl, false, 3, 0),
        ("b.jsonl".to_string(), InputFormat::JsonArray, false, 2, 0),
        ("c.txt".to_string(), InputFormat::Jsonl, true, 5, 0),
        // The stray number is reported; the objects are read.
        ("d.log".to_string(), InputFormat::JsonArray, false, 2, 1),
    ];
    if evtx_sample.is_some() {
        expected.push(("e.json".to_string(), InputFormat::Evtx, false, 4, 0));
        expected.push(("f.dat".to_string(), InputFormat::Evtx, true, 4, 0));
    }
    assert_eq!(got, expected);
}

#[test]
fn truncated_evtx_is_reported_and_read_up_to_the_cut() {
    let Some(sample) = shared("data/evtx/benign-and-corrupt/security.evtx") else {
        return;
    };
    let data = std::fs::read(&sample).unwrap();
    let dir = scratch("truncated-evtx");
    let full = read_all(&discover_one(&sample).files[0]);
    assert_eq!(full.summary.records, 2261);

    // Cut in the middle of chunk 3.
    let cut = 4096 + 3 * 65536 + 30_000;
    let path = dir.join("cut.evtx");
    std::fs::write(&path, &data[..cut]).unwrap();
    let read = read_all(&discover_one(&path).files[0]);
    for e in &read.errors {
        eprintln!("{e}");
    }
    assert!(!read.errors.is_empty());
    assert!(
        read.errors.iter().any(|e| e.location == "chunk 3"),
        "{:?}",
        read.errors
    );
    // Chunks 0-2 hold records 1-260; chunk 3 holds 261-349 and is cut near its middle.
    let ids: Vec<u64> = read.events.iter().map(|e| e.provenance.record).collect();
    assert!(ids.len() > 260 && ids.len() < 349, "{} records", ids.len());
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    // What was read is what the whole file says.
    let same = |a: &dragnet_event::Event, b: &dragnet_event::Event| {
        a.provenance.record == b.provenance.record
            && a.time == b.time
            && a.host == b.host
            && a.fields().eq(b.fields())
    };
    assert!(read
        .events
        .iter()
        .zip(&full.events)
        .all(|(a, b)| same(a, b)));

    // Cut on a chunk boundary: the header says there are more.
    let path = dir.join("cut-boundary.evtx");
    std::fs::write(&path, &data[..4096 + 5 * 65536]).unwrap();
    let read = read_all(&discover_one(&path).files[0]);
    assert_eq!(read.summary.records, 441);
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert_eq!(read.errors[0].location, "file header");

    // Cut inside the file header.
    let path = dir.join("cut-header.evtx");
    std::fs::write(&path, &data[..100]).unwrap();
    let read = read_all(&discover_one(&path).files[0]);
    assert_eq!(read.summary.records, 0);
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);

    // Header only.
    let path = dir.join("header-only.evtx");
    std::fs::write(&path, &data[..4096]).unwrap();
    let read = read_all(&discover_one(&path).files[0]);
    assert_eq!(read.summary.records, 0);
    assert!(!read.errors.is_empty());

    // A gzip-compressed copy, cut: the decompressed part is read.
    let path = dir.join("cut.evtx.gz");
    let gz = gzip(&data);
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let found = discover_one(&path);
    let read = read_all(&found.files[0]);
    assert!(!read.errors.is_empty());
}

#[test]
fn evtx_overwritten_with_garbage_never_panics() {
    let Some(sample) = shared("data/evtx/benign-and-corrupt/security.evtx") else {
        return;
    };
    let data = std::fs::read(&sample).unwrap();
    let dir = scratch("evtx-garbage");
    // Scribble over parts of chunks (headers, string tables, records) with pseudo-random bytes.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut total_errors = 0;
    for round in 0..12 {
        let mut damaged = data.clone();
        for _ in 0..(1 + round * 3) {
            let at = 4096 + (rand() as usize % (damaged.len() - 4096));
            let len = 1 + (rand() as usize % 600);
            for b in damaged.iter_mut().skip(at).take(len) {
                *b = rand() as u8;
            }
        }
        let path = dir.join(format!("scribbled-{round}.evtx"));
        std::fs::write(&path, &damaged).unwrap();
        let read = read_all(&discover_one(&path).files[0]);
        total_errors += read.errors.len();
        assert!(
            read.summary.records > 1000,
            "round {round}: {}",
            read.summary.records
        );
    }
    assert!(total_errors > 0);
}
