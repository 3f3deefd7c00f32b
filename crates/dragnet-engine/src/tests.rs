//! Pipeline tests on small JSONL files written to a temporary directory.

use super::*;
use dragnet_event::{Analyzer, Detector, Event, Finding, Level, RuleMeta};
use std::path::PathBuf;
use std::sync::Arc;

/// A hunt's findings gathered in memory, as the assertions below read them.
struct Gathered {
    findings: Vec<Finding>,
    summary: RunSummary,
}

/// [`super::hunt`], its findings walked into a vector. They are walked twice: every walk
/// reads the spool back and merges the analyzers' findings again, and must give the same.
fn hunt(
    discovery: &Discovery,
    detectors: Vec<Arc<dyn Detector>>,
    analyzers: Vec<Box<dyn Analyzer>>,
    cfg: &HuntConfig,
    progress: &dyn Progress,
) -> Gathered {
    let r = super::hunt(discovery, detectors, analyzers, cfg, progress);
    let findings = r.findings.to_vec();
    assert_eq!(findings.len() as u64, r.findings.len());
    assert!(findings == r.findings.to_vec(), "a second walk differs");
    // The counts by level (made while reading, not from a walk) are those of the findings.
    for l in Level::ALL {
        let n = findings.iter().filter(|f| f.level == l).count() as u64;
        assert_eq!(r.summary.findings_by_level[&l], n, "{l}");
    }
    Gathered {
        findings,
        summary: r.summary,
    }
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "dragnet-engine-{}-{}-{}",
            name,
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn line(time: &str, channel: &str, id: i64, image: &str) -> String {
    format!(
        "{{\"@timestamp\":\"{time}\",\"Channel\":\"{channel}\",\"EventID\":{id},\"Computer\":\"WS-17\",\"Image\":\"{}\"}}\n",
        image.replace('\\', "\\\\")
    )
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// Emits a high finding for every EventID 1 and a low one for every EventID 3.
struct TestDetector {
    high: Arc<RuleMeta>,
    low: Arc<RuleMeta>,
}

impl TestDetector {
    fn new() -> Self {
        TestDetector {
            high: Arc::new(RuleMeta {
                id: "test-process-creation".into(),
                title: "Process creation".into(),
                author: "tests".into(),
                tags: vec!["attack.execution".into(), "attack.t1059".into()],
                ..Default::default()
            }),
            low: Arc::new(RuleMeta {
                id: "test-network".into(),
                title: "Network connection".into(),
                author: "tests".into(),
                ..Default::default()
            }),
        }
    }
}

impl Detector for TestDetector {
    fn name(&self) -> &str {
        "test"
    }
    fn detect(&self, event: &Event, out: &mut Vec<Finding>) {
        let (rule, level) = match event.event_id() {
            Some(1) => (&self.high, Level::High),
            Some(3) => (&self.low, Level::Low),
            _ => return,
        };
        let mut f = Finding::new(
            rule.clone(),
            level,
            event.time,
            &event.host,
            event.provenance.clone(),
        );
        if let Some(i) = event.get("Image") {
            f.details.insert("Image".into(), i.to_json());
        }
        out.push(f);
    }
}

/// Counts the findings it sees and emits one critical finding at the end, stamped with the
/// time of the last one; checks that it is fed in time order.
struct CountingAnalyzer {
    seen: u64,
    last: Option<Finding>,
    rule: Arc<RuleMeta>,
    /// The rules whose findings it reads (`None`: all); it checks that it gets no others.
    only: Option<Vec<String>>,
}

impl Analyzer for CountingAnalyzer {
    fn name(&self) -> &str {
        "counting"
    }
    fn finding_rules(&self) -> Option<Vec<String>> {
        self.only.clone()
    }
    fn observe_finding(&mut self, finding: &Finding, _out: &mut Vec<Finding>) {
        if let Some(prev) = &self.last {
            assert!(prev.timeline_cmp(finding).is_le(), "fed out of order");
        }
        if let Some(only) = &self.only {
            assert!(only.contains(&finding.rule.id), "fed {}", finding.rule.id);
        }
        self.seen += 1;
        self.last = Some(finding.clone());
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        if let Some(last) = &self.last {
            let mut f = Finding::new(
                self.rule.clone(),
                Level::Critical,
                last.time,
                &last.host,
                last.source.clone(),
            );
            f.details.insert("count".into(), self.seen.into());
            out.push(f);
        }
    }
}

fn sample_dir() -> (TempDir, PathBuf, PathBuf) {
    let dir = TempDir::new("sample");
    let mut a = String::new();
    a += &line(
        "2024-05-01T10:00:05Z",
        SYSMON,
        1,
        r"C:\Windows\System32\cmd.exe",
    );
    a += &line(
        "2024-05-01T10:00:01Z",
        SYSMON,
        3,
        r"C:\Windows\System32\svchost.exe",
    );
    a += &line(
        "2024-05-01T10:00:09Z",
        SYSMON,
        1,
        r"C:\Windows\System32\certutil.exe",
    );
    a += &line(
        "2024-05-01T10:00:02Z",
        "Security",
        4624,
        r"C:\Windows\System32\lsass.exe",
    );
    let mut b = String::new();
    b += &line(
        "2024-05-01T09:59:00Z",
        SYSMON,
        1,
        r"C:\Windows\explorer.exe",
    );
    b += &line(
        "2024-05-01T10:00:07Z",
        SYSMON,
        11,
        r"C:\Windows\System32\notepad.exe",
    );
    b += &line(
        "2024-05-01T10:00:03Z",
        "Security",
        4624,
        r"C:\Windows\System32\lsass.exe",
    );
    let pa = dir.write("a.jsonl", &a);
    let pb = dir.write("b.jsonl", &b);
    (dir, pa, pb)
}

fn discover(dir: &TempDir) -> Discovery {
    dragnet_ingest::discover(std::slice::from_ref(&dir.0)).expect("discover")
}

fn cfg(threads: usize, min_level: Level) -> HuntConfig {
    HuntConfig {
        threads,
        min_level,
        ..Default::default()
    }
}

#[test]
fn hunt_sorts_filters_and_counts() {
    let (dir, pa, pb) = sample_dir();
    let disc = discover(&dir);
    assert_eq!(disc.files.len(), 2, "skipped: {:?}", disc.skipped.len());
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());

    let all = hunt(
        &disc,
        vec![det.clone()],
        Vec::new(),
        &cfg(2, Level::Informational),
        &NoProgress,
    );
    let s = &all.summary;
    assert_eq!(s.files, 2);
    assert_eq!(s.records, 7);
    assert_eq!(s.errors, 0);
    assert!(s.read_errors.is_empty());
    assert!(s.anything_readable());
    assert_eq!(all.findings.len(), 4);
    assert_eq!(s.findings_by_level[&Level::High], 3);
    assert_eq!(s.findings_by_level[&Level::Low], 1);
    assert_eq!(s.findings_by_level[&Level::Critical], 0);
    assert_eq!(s.total_findings(), 4);
    assert!(all
        .findings
        .windows(2)
        .all(|w| w[0].timeline_cmp(&w[1]).is_le()));
    let images: Vec<String> = all
        .findings
        .iter()
        .map(|f| f.details["Image"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        images,
        [
            r"C:\Windows\explorer.exe",
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\System32\cmd.exe",
            r"C:\Windows\System32\certutil.exe",
        ]
    );
    assert_eq!(all.findings[0].source.path.as_ref(), pb.to_str().unwrap());
    assert_eq!(all.findings[3].source.path.as_ref(), pa.to_str().unwrap());
    assert_eq!(&*all.findings[0].attack, ["T1059"]);

    let per_file: Vec<(String, u64)> = s
        .per_file
        .iter()
        .map(|f| (f.path.clone(), f.records))
        .collect();
    assert!(per_file.contains(&(pa.display().to_string(), 4)));
    assert!(per_file.contains(&(pb.display().to_string(), 3)));
    assert!(s.per_file.iter().all(|f| f.format == "jsonl"));

    // The level filter drops the low finding; one thread gives the same result.
    let high = hunt(
        &disc,
        vec![det.clone()],
        Vec::new(),
        &cfg(1, Level::Medium),
        &NoProgress,
    );
    assert_eq!(high.findings.len(), 3);
    assert!(high.findings.iter().all(|f| f.level == Level::High));
    assert_eq!(high.summary.findings_by_level[&Level::Low], 0);
    assert_eq!(high.summary.records, 7);
}

#[test]
fn analyzers_see_the_timeline_and_their_findings_are_merged() {
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let analyzer = CountingAnalyzer {
        seen: 0,
        last: None,
        rule: Arc::new(RuleMeta {
            id: "count".into(),
            title: "Count".into(),
            author: "tests".into(),
            kind: "counting".into(),
            ..Default::default()
        }),
        only: None,
    };
    let r = hunt(
        &disc,
        vec![det],
        vec![Box::new(analyzer)],
        &cfg(2, Level::Low),
        &NoProgress,
    );
    assert_eq!(r.findings.len(), 5);
    assert_eq!(r.summary.findings_by_level[&Level::Critical], 1);
    assert_eq!(r.summary.analyzer_findings["counting"], 1);
    let last = r.findings.last().unwrap();
    assert!(last.rule.id == "count" || r.findings[3].rule.id == "count");
    let count = r.findings.iter().find(|f| f.rule.id == "count").unwrap();
    assert_eq!(count.details["count"], 4);
    assert!(r
        .findings
        .windows(2)
        .all(|w| w[0].timeline_cmp(&w[1]).is_le()));
}

fn counting() -> Box<dyn Analyzer> {
    counting_only("count", None)
}

fn counting_only(id: &str, only: Option<&[&str]>) -> Box<dyn Analyzer> {
    Box::new(CountingAnalyzer {
        seen: 0,
        last: None,
        rule: Arc::new(RuleMeta {
            id: id.into(),
            title: "Count".into(),
            author: "tests".into(),
            ..Default::default()
        }),
        only: only.map(|o| o.iter().map(|s| s.to_string()).collect()),
    })
}

/// An analyzer that reads only some rules' findings (correlations) gets all of those, in
/// order, hidden or below the level, and no other; the output is what it is when every
/// finding is walked, whether or not another analyzer reads everything.
#[test]
fn analyzers_that_read_some_rules_get_all_of_those_and_no_other() {
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let network = ["test-network"];
    let count_of = |r: &Gathered, id: &str| {
        r.findings
            .iter()
            .find(|f| f.rule.id == id)
            .map(|f| f.details["count"].clone())
    };
    for threads in [1, 2] {
        // Below the level and hidden: still read, never reported.
        let mut c = cfg(threads, Level::High);
        c.hidden_rules.insert("test-network".into());
        let r = hunt(
            &disc,
            vec![det.clone()],
            vec![counting_only("count-net", Some(&network))],
            &c,
            &NoProgress,
        );
        let ids: Vec<&str> = r.findings.iter().map(|f| f.rule.id.as_str()).collect();
        assert_eq!(
            ids.iter()
                .filter(|i| **i == "test-process-creation")
                .count(),
            3,
            "{ids:?}"
        );
        assert!(!ids.contains(&"test-network"), "{ids:?}");
        assert_eq!(count_of(&r, "count-net"), Some(1.into()));

        // Beside an analyzer that reads everything.
        let r = hunt(
            &disc,
            vec![det.clone()],
            vec![counting_only("count-net", Some(&network)), counting()],
            &cfg(threads, Level::Informational),
            &NoProgress,
        );
        assert_eq!(count_of(&r, "count-net"), Some(1.into()));
        assert_eq!(count_of(&r, "count"), Some(4.into()));
        assert_eq!(r.findings.len(), 6);
    }
}

#[test]
fn analyzers_see_findings_below_the_level_and_of_hidden_rules() {
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());

    // The low finding is counted by the analyzer, then dropped by the level filter.
    let r = hunt(
        &disc,
        vec![det.clone()],
        vec![counting()],
        &cfg(2, Level::High),
        &NoProgress,
    );
    assert_eq!(r.findings.len(), 4);
    assert!(r.findings.iter().all(|f| f.level >= Level::High));
    let count = r.findings.iter().find(|f| f.rule.id == "count").unwrap();
    assert_eq!(count.details["count"], 4);

    // Hidden rules feed the analyzer but are not reported.
    let mut c = cfg(1, Level::Informational);
    c.hidden_rules.insert("test-process-creation".into());
    let r = hunt(&disc, vec![det], vec![counting()], &c, &NoProgress);
    let ids: Vec<&str> = r.findings.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(ids, ["test-network", "count"]);
    assert_eq!(r.findings[1].details["count"], 4);
    assert_eq!(r.summary.total_findings(), 2);
}

#[test]
fn hidden_rules_are_dropped_without_analyzers_too() {
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let mut c = cfg(2, Level::Informational);
    c.hidden_rules.insert("test-network".into());
    let r = hunt(&disc, vec![det], Vec::new(), &c, &NoProgress);
    assert_eq!(r.findings.len(), 3);
    assert!(r
        .findings
        .iter()
        .all(|f| f.rule.id == "test-process-creation"));
}

#[test]
fn progress_sees_every_file_and_record() {
    use std::sync::atomic::{AtomicU64, Ordering};
    #[derive(Default)]
    struct Count {
        files: AtomicU64,
        records: AtomicU64,
        started: AtomicU64,
    }
    impl Progress for Count {
        fn start(&self, files: usize, _bytes: u64) {
            self.started.store(files as u64, Ordering::Relaxed);
        }
        fn add_records(&self, n: u64, _bytes: u64) {
            self.records.fetch_add(n, Ordering::Relaxed);
        }
        fn file_done(&self, _path: &Path, _records: u64, _bytes: u64) {
            self.files.fetch_add(1, Ordering::Relaxed);
        }
    }
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let p = Count::default();
    let s = stats(&disc, &cfg(2, Level::Informational), &p);
    assert_eq!(p.started.load(Ordering::Relaxed), 2);
    assert_eq!(p.files.load(Ordering::Relaxed), 2);
    assert_eq!(p.records.load(Ordering::Relaxed), s.records);
}

#[test]
fn stats_counts_by_file_format_channel_and_event_id() {
    let (dir, pa, _pb) = sample_dir();
    let disc = discover(&dir);
    let s = stats(&disc, &cfg(2, Level::Informational), &NoProgress);
    assert_eq!(s.files, 2);
    assert_eq!(s.records, 7);
    assert_eq!(s.errors, 0);
    assert!(s.bytes > 0);
    assert_eq!(s.by_channel[SYSMON], 5);
    assert_eq!(s.by_channel["Security"], 2);
    assert_eq!(s.by_format["jsonl"].files, 2);
    assert_eq!(s.by_format["jsonl"].records, 7);
    assert_eq!(
        s.by_event_id[0],
        EventIdCount {
            channel: SYSMON.into(),
            event_id: Some(1),
            records: 3
        }
    );
    assert!(s.by_event_id.contains(&EventIdCount {
        channel: "Security".into(),
        event_id: Some(4624),
        records: 2
    }));
    let a = s
        .by_file
        .iter()
        .find(|f| f.path == pa.display().to_string())
        .unwrap();
    assert_eq!(a.records, 4);

    let v = serde_json::to_value(&s).unwrap();
    for key in ["files", "records", "bytes", "errors"] {
        assert!(v[key].is_u64(), "{key} is not a number: {}", v[key]);
    }
    assert!(v["by_file"].is_array() && v["by_channel"].is_object());
}

#[test]
fn read_errors_are_bounded_and_counted() {
    let dir = TempDir::new("errors");
    let mut text = String::new();
    for i in 0..5 {
        text += &line("2024-05-01T10:00:00Z", SYSMON, 1, r"C:\x.exe");
        text += &format!("{{ not json {i}\n");
    }
    dir.write("damaged.jsonl", &text);
    let disc = discover(&dir);
    assert_eq!(disc.files.len(), 1);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let r = hunt(
        &disc,
        vec![det],
        Vec::new(),
        &HuntConfig {
            threads: 2,
            min_level: Level::Informational,
            max_read_errors: 2,
            ..Default::default()
        },
        &NoProgress,
    );
    let s = &r.summary;
    assert_eq!(s.records, 5);
    assert_eq!(s.errors, 5);
    assert_eq!(s.read_errors.len(), 2);
    assert_eq!(s.read_errors_omitted, 3);
    assert_eq!(r.findings.len(), 5);
    assert!(s.anything_readable());
}

#[test]
fn nothing_readable_is_reported() {
    let s = RunSummary {
        files: 1,
        records: 0,
        bytes: 10,
        errors: 1,
        skipped: Vec::new(),
        findings_by_level: BTreeMap::new(),
        elapsed: Duration::ZERO,
        per_file: vec![FileStats {
            path: "x.evtx".into(),
            format: "evtx",
            records: 0,
            errors: 1,
            bytes: 10,
        }],
        read_errors: Vec::new(),
        read_errors_omitted: 0,
        analyzer_findings: BTreeMap::new(),
        analyzer_state_peak: BTreeMap::new(),
        spool: Default::default(),
    };
    assert!(!s.anything_readable());
}

/// Counts the events it is fed and reports the count when the run ends; it reads no findings
/// (and is never given any).
struct EventCounter {
    events: u64,
    rule: Arc<RuleMeta>,
}

impl Analyzer for EventCounter {
    fn name(&self) -> &str {
        "event-counter"
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn observe_event(&mut self, _event: &Event, _out: &mut Vec<Finding>) {
        self.events += 1;
    }
    fn wants_findings(&self) -> bool {
        false
    }
    fn observe_finding(&mut self, _finding: &Finding, _out: &mut Vec<Finding>) {
        panic!("given a finding after saying it reads none");
    }
    fn finish(&mut self, out: &mut Vec<Finding>) {
        let src = dragnet_event::Provenance {
            path: "all".into(),
            record: 0,
            format: dragnet_event::SourceFormat::Jsonl,
        };
        let mut f = Finding::new(
            self.rule.clone(),
            Level::High,
            dragnet_event::Timestamp::UNKNOWN,
            "",
            src,
        );
        f.details.insert("events".into(), self.events.into());
        out.push(f);
    }
}

fn event_counter() -> Box<dyn Analyzer> {
    Box::new(EventCounter {
        events: 0,
        rule: Arc::new(RuleMeta {
            id: "events".into(),
            title: "Events".into(),
            ..Default::default()
        }),
    })
}

#[test]
fn analyzers_that_want_events_see_every_event_once() {
    let (dir, _pa, _pb) = sample_dir();
    let disc = discover(&dir);
    for threads in [1, 2] {
        let r = hunt(
            &disc,
            Vec::new(),
            vec![event_counter()],
            &cfg(threads, Level::Informational),
            &NoProgress,
        );
        let f = r
            .findings
            .iter()
            .find(|f| f.rule.id == "events")
            .expect("counter finding");
        assert_eq!(f.details["events"], r.summary.records, "threads {threads}");
        assert!(r.summary.records > 0);
    }
}

/// A JSON lines file of several chunks, read alone with two threads (cut into chunks parsed
/// on the pool) and with one: the same findings, counts, events seen by analyzers, and errors
/// in line order.
#[test]
fn a_big_json_lines_file_reads_the_same_on_every_thread_count() {
    let dir = TempDir::new("chunked");
    let mut text = String::new();
    let mut bad_lines = Vec::new();
    let mut line_no = 0u64;
    while text.len() < 3 * super::CHUNK_BYTES + 1000 {
        line_no += 1;
        if line_no.is_multiple_of(997) {
            text += "{ damaged\n";
            bad_lines.push(format!("line {line_no}"));
            continue;
        }
        let id = if line_no.is_multiple_of(3) { 1 } else { 3 };
        let time = format!(
            "2024-05-01T10:{:02}:{:02}Z",
            (line_no / 60) % 60,
            line_no % 60
        );
        text += &line(&time, SYSMON, id, &format!(r"C:\t\{line_no}.exe"));
    }
    dir.write("big.jsonl", &text);
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let run = |threads: usize| {
        hunt(
            &disc,
            vec![det.clone()],
            vec![event_counter()],
            &cfg(threads, Level::Informational),
            &NoProgress,
        )
    };
    let (one, two) = (run(1), run(2));
    let records = line_no - bad_lines.len() as u64;
    for r in [&one, &two] {
        assert_eq!(r.summary.records, records);
        assert_eq!(r.summary.errors, bad_lines.len() as u64);
        let locations: Vec<&str> = r
            .summary
            .read_errors
            .iter()
            .map(|e| e.location.as_str())
            .collect();
        assert_eq!(locations, bad_lines);
        let seen = r.findings.iter().find(|f| f.rule.id == "events").unwrap();
        assert_eq!(seen.details["events"], records);
    }
    let key = |r: &Gathered| -> Vec<(String, u64)> {
        r.findings
            .iter()
            .map(|f| (f.rule.id.clone(), f.source.record))
            .collect()
    };
    assert_eq!(key(&one), key(&two));
    assert!(one.findings.len() as u64 > records / 2);
}

/// Findings beyond the memory budget wait in sorted temporary files: a run with a tiny
/// budget gives exactly the findings (every field, in the same order) of a run that keeps
/// them all in memory, on one thread and on two.
#[test]
fn findings_beyond_the_budget_come_back_from_disk_the_same() {
    let dir = TempDir::new("spool");
    let mut text = String::new();
    for i in 0..3000u64 {
        // Times out of file order, some equal, so that the merge has work to do.
        let time = format!("2024-05-01T10:{:02}:{:02}Z", (i * 7) % 60, (i * 13) % 60);
        text += &line(&time, SYSMON, 1 + (i % 3) as i64, &format!(r"C:\t\{i}.exe"));
    }
    dir.write("a.jsonl", &text);
    dir.write("b.jsonl", &text[..text.len() / 3]);
    let disc = discover(&dir);
    let det: Arc<dyn Detector> = Arc::new(TestDetector::new());
    let run = |threads: usize, budget: usize| {
        let c = HuntConfig {
            findings_budget: budget,
            ..cfg(threads, Level::Informational)
        };
        hunt(&disc, vec![det.clone()], vec![counting()], &c, &NoProgress)
    };
    let whole = run(1, usize::MAX);
    assert_eq!(whole.summary.spool.runs, 0);
    assert!(whole.findings.len() > 2000, "{}", whole.findings.len());
    for threads in [1, 2] {
        let spooled = run(threads, 64 << 10);
        let s = &spooled.summary.spool;
        assert!(s.runs >= 3, "runs {}", s.runs);
        assert!(s.spilled > 0 && s.bytes > 0);
        assert_eq!((s.kept_in_memory, s.lost), (0, 0));
        assert_eq!(spooled.findings.len(), whole.findings.len());
        assert!(
            spooled.findings == whole.findings,
            "threads {threads}: findings differ"
        );
        // Rules and paths are shared again, not one copy a finding.
        let f = &spooled.findings;
        assert!(f.windows(2).any(|w| Arc::ptr_eq(&w[0].rule, &w[1].rule)));
        assert!(f.windows(2).any(|w| w[0].source.path == w[1].source.path
            && Arc::ptr_eq(&w[0].source.path, &w[1].source.path)));
    }
}

/// The spool on its own: equal findings keep their push order across runs, a finding with
/// every kind of detail value and correlated events comes back unchanged, and the runs are
/// removed afterwards.
#[test]
fn the_spool_keeps_push_order_among_equal_findings_and_every_field() {
    let rule = Arc::new(RuleMeta {
        id: "r".into(),
        title: "R".into(),
        author: "tests".into(),
        tags: vec!["attack.t1003.001".into()],
        ..Default::default()
    });
    let at = |t: i64, n: u64| {
        let mut f = Finding::new(
            rule.clone(),
            Level::Medium,
            dragnet_event::Timestamp(t),
            "HOST-1",
            dragnet_event::Provenance {
                path: Arc::from("x.evtx"),
                record: 7,
                format: dragnet_event::SourceFormat::Evtx,
            },
        );
        f.details.insert("n".into(), n.into());
        f.details
            .insert("s".into(), "quote \" nul \u{0} é \u{202e}".into());
        f.details.insert("f".into(), 0.1f64.into());
        f.details.insert(
            "list".into(),
            serde_json::json!([1, "two", null, {"k": [true]}]),
        );
        f.events.push(f.source.clone());
        f
    };
    let mut expect = Vec::new();
    for n in 0..20u64 {
        // Equal sort keys (time, path, record, rule); only the pushed number differs.
        expect.push(at(if n % 2 == 0 { 5 } else { 3 }, n));
    }
    let fill = |mut spool: Spool| {
        for f in &expect {
            spool.push_all(&mut vec![f.clone()]);
        }
        let sealed = spool.seal();
        let mut back = Vec::new();
        sealed.for_each(&mut |f| back.push(f));
        (back, sealed.stats())
    };
    // Its own directory: the hunt test above counts the spool directories in the system's.
    let dir = TempDir::new("spool-order");
    let mut sorted = expect.clone();
    sorted.sort_by(Finding::timeline_cmp);
    // The runs are read back in as many groups as the pool has threads (each merged on a
    // thread of its own): one group, groups of several runs, a group of one run or two.
    for threads in [1, 3, 7, 16] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (back, stats) = pool.install(|| fill(Spool::in_dir(1, dir.0.clone())));
        assert_eq!((stats.runs, stats.spilled, stats.lost), (20, 20, 0));
        assert!(
            back == sorted,
            "order or content changed ({threads} threads)"
        );
        let left = std::fs::read_dir(&dir.0).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "the spool left its runs behind");
    }

    // Sealed, the spool is walked as often as wanted, its runs kept until it is dropped; a run
    // that went missing in between loses its findings, counted, and the others come back.
    let spooled = {
        let mut spool = Spool::in_dir(1, dir.0.clone());
        for f in &expect {
            spool.push_all(&mut vec![f.clone()]);
        }
        spool.seal()
    };
    assert_eq!(spooled.len(), 20);
    for _ in 0..2 {
        let mut back = Vec::new();
        spooled.for_each(&mut |f| back.push(f));
        assert!(back == sorted, "a walk changed order or content");
    }
    let runs_dir = std::fs::read_dir(&dir.0)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let first_run = std::fs::read_dir(&runs_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(first_run).unwrap();
    let mut back = Vec::new();
    spooled.for_each(&mut |f| back.push(f));
    assert_eq!((back.len(), spooled.stats().lost), (19, 1));
    drop(spooled);
    let left = std::fs::read_dir(&dir.0).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "the sealed spool left its runs behind");

    // Runs that cannot be written (the directory cannot be made) stay in memory: nothing is
    // lost and the order is the same.
    let not_a_dir = dir.write("file", "");
    let (back, stats) = fill(Spool::in_dir(1, not_a_dir));
    assert_eq!((stats.runs, stats.kept_in_memory, stats.lost), (0, 20, 0));
    assert!(
        back == sorted,
        "order or content changed when held in memory"
    );
}

/// The thread that hands a big file's chunks to the pool does none of the work itself (a third
/// thread working beside the pool's would share the cores with it), and never has more than
/// the limit in flight.
#[test]
fn the_reading_thread_waits_for_the_pool_instead_of_working() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let in_flight = super::InFlight::default();
    let reader = std::thread::current().id();
    let (running, most, on_reader, done) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let work = |_item: usize| {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        if std::thread::current().id() == reader {
            on_reader.fetch_add(1, Ordering::SeqCst);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        running.fetch_sub(1, Ordering::SeqCst);
        done.fetch_add(1, Ordering::SeqCst);
    };
    pool.in_place_scope(|scope| {
        for item in 0..40 {
            super::spawn_waiting(scope, &in_flight, 3, item, &work);
        }
    });
    assert_eq!(done.into_inner(), 40);
    assert_eq!(on_reader.into_inner(), 0, "the reading thread did work");
    assert!(most.into_inner() <= 3, "more than the limit in flight");
}

/// Called from a pool's own thread (where waiting could leave nobody to do the work), the
/// hand-over works inline instead of waiting: a one-thread pool finishes.
#[test]
fn handing_over_from_inside_a_pool_does_not_wait_for_itself() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let in_flight = super::InFlight::default();
    let done = AtomicUsize::new(0);
    let work = |_item: usize| {
        done.fetch_add(1, Ordering::SeqCst);
    };
    pool.install(|| {
        rayon::scope(|scope| {
            for item in 0..10 {
                super::spawn_waiting(scope, &in_flight, 1, item, &work);
            }
        })
    });
    assert_eq!(done.into_inner(), 10);
}
