//! The HTML report in a real browser: Debian's headless Chromium driven through chromedriver's
//! W3C WebDriver HTTP API (plain HTTP and JSON over a `TcpStream`).
//!
//! - the report of `dragnet demo --into DIR`: no console errors (the CSP blocks nothing of
//!   ours, the script throws nothing), the incident, graph and matrix sections are visible,
//!   typing in the search box filters rows, and a screenshot goes to
//!   `target/browser/report.png`;
//! - a report of hostile findings (`<script>`, `"><img onerror>`, `javascript:` URLs,
//!   RTL overrides in command lines, host names and mail subjects): no alert opens and no
//!   injected element exists.
//!
//! Skips loudly when chromium or chromedriver is missing, unless `DRAGNET_REQUIRE_TOOLS=1`.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn require_tools() -> bool {
    std::env::var("DRAGNET_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Chromium and chromedriver, or None after a loud skip message.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_tool(&["chromium", "chromium-browser"]);
    let driver = find_tool(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let msg = format!(
                "browser test needs chromium ({}) and chromedriver ({}): apt-get install chromium chromium-driver",
                if c.is_some() { "found" } else { "missing" },
                if d.is_some() { "found" } else { "missing" }
            );
            if require_tools() {
                panic!("{msg} (DRAGNET_REQUIRE_TOOLS=1)");
            }
            eprintln!("################################################################");
            eprintln!("## SKIPPED: {msg}");
            eprintln!("################################################################");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client for the driver on localhost.

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    // Read the head, then exactly Content-Length bytes (the driver may keep the connection
    // open), or to the end for chunked or unsized bodies.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before the response head".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut payload = raw[split + 4..].to_vec();
    match length {
        Some(len) => {
            while payload.len() < len {
                let n = s.read(&mut buf).map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    break;
                }
                payload.extend_from_slice(&buf[..n]);
            }
            payload.truncate(len);
        }
        None => {
            s.read_to_end(&mut payload)
                .map_err(|e| format!("read: {e}"))?;
            if lower.contains("transfer-encoding: chunked") {
                payload = dechunk(&payload);
            }
        }
    }
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    let v: Value = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&payload)
            .map_err(|e| format!("bad JSON ({e}): {}", String::from_utf8_lossy(&payload)))?
    };
    Ok((status, v))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
    out
}

struct Driver {
    child: Child,
    port: u16,
    session: String,
    _profile: TempDir,
}

impl Driver {
    fn start(chromium: &Path, chromedriver: &Path) -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, v)) = http(port, "GET", "/status", None) {
                if v["value"]["ready"] == true {
                    break;
                }
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromedriver did not become ready in 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = TempDir::new("chrome-profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000",
                         format!("--user-data-dir={}", profile.0.display())],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let mut d = Driver {
            child,
            port,
            session: String::new(),
            _profile: profile,
        };
        let (status, v) = http(port, "POST", "/session", Some(&caps)).expect("new session");
        assert_eq!(status, 200, "new session: {v}");
        d.session = v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let p = format!("/session/{}{path}", self.session);
        http(self.port, method, &p, body.as_ref()).unwrap_or_else(|e| panic!("{method} {p}: {e}"))
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn goto(&self, file: &Path) {
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.ok("POST", "/url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.ok(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Browser console entries of level SEVERE since the last call.
    fn severe_logs(&self) -> Vec<String> {
        let v = self.ok("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn alert_open(&self) -> Option<String> {
        let (status, v) = self.call("GET", "/alert/text", None);
        (status == 200).then(|| v["value"].to_string())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "dragnet-browser-{tag}-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dragnet(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run dragnet");
    assert!(
        out.status.success(),
        "dragnet {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The demo's report: `dragnet demo --into DIR` writes DIR/report.html; should that not
/// (yet) happen, hunt the demo's evidence and render the report from its findings.
fn demo_report(dir: &Path) -> PathBuf {
    let d = dir.to_string_lossy().to_string();
    dragnet(&["demo", "--into", &d, "--seed", "7"]);
    let report = dir.join("report.html");
    if report.is_file() {
        return report;
    }
    eprintln!("note: demo wrote no report.html; rendering one from a hunt of its evidence");
    let findings = dir.join("findings.jsonl");
    dragnet(&[
        "hunt",
        &d,
        "--format",
        "jsonl",
        "-q",
        "-o",
        &findings.to_string_lossy(),
    ]);
    let mut args = vec![
        "report".to_string(),
        "--findings".into(),
        findings.to_string_lossy().into(),
        "--report".into(),
        report.to_string_lossy().into(),
    ];
    let incidents = dir.join("incidents.json");
    if incidents.is_file() {
        args.push("--incidents".into());
        args.push(incidents.to_string_lossy().into());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    dragnet(&a);
    report
}

const HOSTILE: [&str; 5] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "' onmouseover='alert(1)' x='",
    "invoice\u{202E}fdp.exe",
];

/// Findings and incidents whose every evidence-born string is hostile.
fn hostile_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let mut lines = String::new();
    for (i, s) in HOSTILE.iter().enumerate() {
        let f = json!({
            "time": format!("2024-05-01T10:0{i}:00Z"),
            "level": "high",
            "host": s,
            "rule": {"id": s, "title": format!("Rule {s}"), "author": s,
                     "tags": ["attack.execution", "attack.t1059.001"], "source": s},
            "attack": ["T1059.001"],
            "source": {"path": format!("{s}.evtx"), "record": i, "format": "evtx"},
            "details": {"CommandLine": format!("cmd /c {s} http://evil.example.com/{s}"),
                        "Subject": s, "from": format!("\"{s}\" <attacker@evil.example.com>"),
                        "QueryName": "evil.example.com", "url": s},
        });
        lines.push_str(&f.to_string());
        lines.push('\n');
    }
    let findings = dir.join("hostile.jsonl");
    std::fs::write(&findings, lines).unwrap();
    let t = "2024-05-01T10:00:00Z";
    let incidents = json!({
        "incidents": [{
            "id": "INC-0001", "score": 90.0, "level": "critical",
            "title": HOSTILE[0], "narrative": HOSTILE[1], "first": t, "last": t,
            "tactics": ["execution"], "attack": ["T1059.001"],
            "steps": [{"tactic": "execution", "attack": ["T1059.001", HOSTILE[1]], "time": t, "last": t,
                       "hosts": HOSTILE, "accounts": HOSTILE, "level": "high",
                       "rules": [{"id": HOSTILE[0], "title": HOSTILE[1], "author": HOSTILE[2], "level": "high", "count": 1}],
                       "count": 5, "evidence": [{"path": HOSTILE[1], "record": 1, "format": "evtx"}],
                       "summary": HOSTILE[4]}],
            "entities": {"hosts": [{"name": HOSTILE[1], "aliases": HOSTILE, "ips": ["10.0.0.1"]}],
                         "accounts": HOSTILE, "ips": ["203.0.113.9"], "domains": ["evil.example.com"],
                         "mailboxes": ["attacker@evil.example.com"]},
            "edges": [{"source": HOSTILE[0], "target": HOSTILE[1], "account": HOSTILE[3], "method": HOSTILE[2],
                       "first": t, "last": t, "count": 3, "new": true, "evidence": []},
                      {"source": HOSTILE[1], "target": HOSTILE[4], "account": "CORP\\x", "method": "rdp",
                       "first": t, "last": t, "count": 1, "new": false, "evidence": []}],
            "attribution": [{"name": HOSTILE[0], "id": HOSTILE[1], "aliases": HOSTILE, "source": "profile",
                             "score": 0.4, "matched": ["T1059.001"], "unmatched": [HOSTILE[2]]}],
            "findings": 5
        }],
        "edges": [],
        "unassigned_findings": 0
    });
    let inc = dir.join("hostile-incidents.json");
    std::fs::write(&inc, incidents.to_string()).unwrap();
    (findings, inc)
}

#[test]
fn report_works_in_a_real_browser() {
    let Some((chromium, chromedriver)) = tools() else {
        return;
    };
    let work = TempDir::new("work");
    let demo_dir = work.0.join("demo");
    let report = demo_report(&demo_dir);
    let (hf, hi) = hostile_inputs(&work.0);
    let hostile_report = work.0.join("hostile.html");
    dragnet(&[
        "report",
        "--findings",
        &hf.to_string_lossy(),
        "--incidents",
        &hi.to_string_lossy(),
        "--report",
        &hostile_report.to_string_lossy(),
    ]);

    let d = Driver::start(&chromium, &chromedriver);

    // --- The demo report.
    d.goto(&report);
    let visible = d.js(
        "function vis(sel){var e=document.querySelector(sel); if(!e) return 'missing';\
           var r=e.getBoundingClientRect(); var s=getComputedStyle(e);\
           return (r.width>0 && r.height>0 && s.display!=='none' && s.visibility!=='hidden') ? 'visible' : 'hidden';}\
         return {incidents: vis('#incidents'), graph: vis('#graph'), matrix: vis('#matrix'),\
                 matrix_table: vis('#attack-matrix'), overview: vis('#histogram'),\
                 incident_cards: document.querySelectorAll('#incidents article.incident').length,\
                 graph_svg: vis('#lateral-graph')};",
    );
    eprintln!("demo report sections: {visible}");
    for k in ["incidents", "graph", "matrix", "matrix_table", "overview"] {
        assert_eq!(visible[k], "visible", "section {k}: {visible}");
    }
    let rows_before = d.js(
        "var r=document.querySelectorAll('table.filterable tbody tr');\
         var v=0; r.forEach(function(x){ if(!x.hidden) v++; }); return [v, r.length];",
    );
    let total = rows_before[1].as_u64().unwrap();
    assert!(total > 1, "rows: {rows_before}");
    assert_eq!(
        rows_before[0], rows_before[1],
        "all rows shown before filtering"
    );
    // Type a word that some rows hold and others do not: a rule title of the first timeline row.
    let needle = d.js(
        "var c=document.querySelector('table.timeline tbody tr td:nth-child(3)'); return c ? c.textContent : '';",
    );
    let needle = needle.as_str().unwrap_or_default().to_string();
    assert!(!needle.is_empty(), "a timeline row to search for");
    let q = d.ok(
        "POST",
        "/element",
        Some(json!({"using": "css selector", "value": "#q"})),
    );
    let eid = q
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .expect("search box")
        .to_string();
    d.ok(
        "POST",
        &format!("/element/{eid}/value"),
        Some(json!({ "text": needle })),
    );
    let after = d.js(
        "var r=document.querySelectorAll('table.filterable tbody tr');\
         var v=0, bad=0, n=document.getElementById('q').value.toLowerCase();\
         r.forEach(function(x){ if(!x.hidden){ v++; if(x.textContent.toLowerCase().indexOf(n)<0) bad++; } });\
         return [v, r.length, bad, document.getElementById('shown').textContent];",
    );
    eprintln!("search {needle:?}: {after}");
    let shown = after[0].as_u64().unwrap();
    assert!(
        shown >= 1 && shown < total,
        "filter left {shown} of {total} rows"
    );
    assert_eq!(after[2], 0, "every row left holds the search text");
    // Level filter: 'critical' leaves only critical rows (rows with a level).
    let lv = d.js(
        "document.getElementById('q').value=''; var s=document.getElementById('level'); s.value='critical';\
         s.dispatchEvent(new Event('change'));\
         var bad=0; document.querySelectorAll('table.filterable tbody tr[data-level]').forEach(function(x){\
           if(!x.hidden && x.getAttribute('data-level')!=='critical') bad++; }); return bad;",
    );
    assert_eq!(lv, 0, "rows below critical hidden");
    d.js("var s=document.getElementById('level'); s.value='informational'; s.dispatchEvent(new Event('change')); return 0;");
    let shot = d.ok("GET", "/screenshot", None);
    let png = b64decode(shot.as_str().expect("screenshot"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let out = target_dir().join("browser");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.png"), &png).unwrap();
    eprintln!(
        "screenshot: {} ({} bytes)",
        out.join("report.png").display(),
        png.len()
    );
    // The drawings, one picture each, for people to look at.
    for (sel, name) in [
        ("#graph", "graph.png"),
        ("#matrix", "matrix.png"),
        ("#incidents article", "incident.png"),
    ] {
        let el = d.ok(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": sel})),
        );
        let id = el
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let shot = d.ok("GET", &format!("/element/{id}/screenshot"), None);
        let png = b64decode(shot.as_str().unwrap_or_default());
        assert!(png.starts_with(b"\x89PNG"), "{sel} screenshot");
        std::fs::write(out.join(name), &png).unwrap();
    }
    let severe = d.severe_logs();
    assert!(
        severe.is_empty(),
        "console errors on the demo report: {severe:#?}"
    );

    // --- The hostile report.
    d.goto(&hostile_report);
    assert_eq!(d.alert_open(), None, "an alert opened");
    let injected = d.js(
        "return {imgs: document.querySelectorAll('img').length,\
                 scripts: document.querySelectorAll('script:not([data-dragnet])').length,\
                 onerror: document.querySelectorAll('[onerror],[onmouseover]').length,\
                 js_links: Array.prototype.filter.call(document.querySelectorAll('a[href]'),\
                   function(a){ return a.getAttribute('href').toLowerCase().indexOf('javascript:')>=0; }).length,\
                 text_kept: document.body.textContent.indexOf('<script>alert(1)</script>')>=0,\
                 bidi_shown: document.body.textContent.indexOf('invoice<U+202E>fdp.exe')>=0,\
                 bidi_raw: document.body.textContent.indexOf('\\u202e')>=0};",
    );
    eprintln!("hostile report: {injected}");
    assert_eq!(injected["imgs"], 0, "{injected}");
    assert_eq!(injected["scripts"], 0, "{injected}");
    assert_eq!(injected["onerror"], 0, "{injected}");
    assert_eq!(injected["js_links"], 0, "{injected}");
    assert_eq!(
        injected["text_kept"], true,
        "hostile text shown as text: {injected}"
    );
    assert_eq!(injected["bidi_shown"], true, "{injected}");
    assert_eq!(injected["bidi_raw"], false, "{injected}");
    // Typing hostile text into the search box changes nothing but the filter.
    d.js("var q=document.getElementById('q'); q.value='<img src=x onerror=alert(2)>'; q.dispatchEvent(new Event('input')); return 0;");
    assert_eq!(d.alert_open(), None, "an alert opened after searching");
    let imgs = d.js("return document.querySelectorAll('img').length;");
    assert_eq!(imgs, 0);
    let severe = d.severe_logs();
    assert!(
        severe.is_empty(),
        "console errors on the hostile report: {severe:#?}"
    );
}
