//! Network and web-server readers: Zeek TSV/JSON, Suricata EVE, IIS W3C; on small inline
//! files and on the shared corpora (RITA's test data, a Suricata EVE sample).

mod common;

use common::{discover_one, read_all, scratch, shared, text};
use dragnet_event::Value;
use dragnet_ingest::{detect_format, InputFile, InputFormat};
use std::path::Path;

fn input(path: &Path) -> InputFile {
    let (format, gzip) = detect_format(path).unwrap().expect("a known format");
    InputFile {
        path: path.to_path_buf(),
        format,
        size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        gzip,
    }
}

const CONN_HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2019-02-28-12-07-01\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

#[test]
fn zeek_tsv_columns_come_from_the_header() {
    let dir = scratch("zeek-tsv");
    let p = dir.join("conn.log");
    let body = format!(
        "{CONN_HEADER}1517336042.090842\tCi85\t10.55.182.100\t14291\t93.184.216.34\t80\ttcp\t-\t3.000158\t0\t0\tS0\tT\tF\t0\tS\t2\t104\t0\t0\t(empty)\n\
         1517336043.1\tCx\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n\
         #close\t2019-02-28-13-00-00\n\
         #separator \\x09\n#fields\tid.resp_h\tts\tquery\n#types\taddr\ttime\tstring\n\
         8.8.8.8\t1517336044.5\twww.ex\\x09ample.com\n"
    );
    std::fs::write(&p, body).unwrap();
    let r = read_all(&input(&p));
    assert_eq!(r.events.len(), 2, "{:?}", r.errors);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].location, "line 10");
    assert!(
        r.errors[0].reason.contains("7 columns"),
        "{}",
        r.errors[0].reason
    );
    let e = &r.events[0];
    assert_eq!(e.provenance.record, 9);
    assert_eq!(e.time.nanos(), 1_517_336_042_090_842_000);
    assert_eq!(e.get("id.orig_p"), Some(&Value::Int(14291)));
    assert_eq!(e.get("duration"), Some(&Value::Float(3.000158)));
    assert_eq!(e.get("local_orig"), Some(&Value::Bool(true)));
    assert_eq!(e.get("tunnel_parents"), Some(&Value::List(vec![])));
    assert!(e.get("service").is_none(), "unset fields are left out");
    assert_eq!(text(e, "_product").as_deref(), Some("zeek"));
    assert_eq!(text(e, "_service").as_deref(), Some("conn"));
    assert_eq!(text(e, "dst_ip").as_deref(), Some("93.184.216.34"));
    assert_eq!(text(e, "dst_port").as_deref(), Some("80"));
    assert_eq!(&*e.host, "10.55.182.100");
    // Second header block: other columns, order from the header, escapes decoded.
    let e = &r.events[1];
    assert_eq!(text(e, "query").as_deref(), Some("www.ex\tample.com"));
    assert_eq!(text(e, "id.resp_h").as_deref(), Some("8.8.8.8"));
    assert_eq!(e.time.secs(), 1_517_336_044);
}

#[test]
fn zeek_http_gets_proxy_field_names() {
    let dir = scratch("zeek-http");
    let p = dir.join("http.09:00:00-10:00:00.log");
    std::fs::write(
        &p,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tuser_agent\tstatus_code\treferrer\n#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tcount\tstring\n\
         1.5\tC1\t10.0.0.5\t5555\t1.2.3.4\t80\tGET\tevil.example\t/a/b.php?x=1\tcurl/8.0\t200\t(empty)\n",
    )
    .unwrap();
    let r = read_all(&input(&p));
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let e = &r.events[0];
    assert_eq!(
        text(e, "_path").as_deref(),
        Some("http"),
        "from the file name"
    );
    assert_eq!(text(e, "_service").as_deref(), Some("http"));
    assert_eq!(text(e, "cs-host").as_deref(), Some("evil.example"));
    assert_eq!(text(e, "c-uri").as_deref(), Some("/a/b.php?x=1"));
    assert_eq!(text(e, "c-uri-stem").as_deref(), Some("/a/b.php"));
    assert_eq!(text(e, "c-uri-query").as_deref(), Some("x=1"));
    assert_eq!(text(e, "c-uri-extension").as_deref(), Some("php"));
    assert_eq!(text(e, "c-useragent").as_deref(), Some("curl/8.0"));
    assert_eq!(text(e, "cs-method").as_deref(), Some("GET"));
    assert_eq!(e.get("sc-status"), Some(&Value::Int(200)));
    assert_eq!(text(e, "cs-referrer").as_deref(), Some(""));
}

#[test]
fn zeek_json_with_epoch_or_iso_times() {
    let dir = scratch("zeek-json");
    let p = dir.join("dns.log");
    std::fs::write(
        &p,
        "{\"ts\":1517336042.279652,\"uid\":\"C1\",\"id.orig_h\":\"192.168.88.2\",\"id.orig_p\":55638,\"id.resp_h\":\"165.227.88.15\",\"id.resp_p\":53,\"query\":\"a.dnsc.r-1x.com\",\"qtype_name\":\"TXT\",\"answers\":[\"x\"]}\n\
         {\"ts\":\"2018-01-30T18:14:03.354471Z\",\"uid\":\"C2\",\"id\":{\"orig_h\":\"192.168.88.2\",\"resp_h\":\"1.1.1.1\"},\"query\":\"b.example\"}\n\
         {\"ts\":1517336044.0,\"uid\":\n",
    )
    .unwrap();
    let f = input(&p);
    assert_eq!(f.format, InputFormat::ZeekJson);
    let r = read_all(&f);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.errors.len(), 1, "the truncated last line");
    assert_eq!(r.errors[0].location, "line 3");
    let a = &r.events[0];
    assert_eq!(text(a, "_service").as_deref(), Some("dns"));
    assert_eq!(text(a, "record_type").as_deref(), Some("TXT"));
    assert_eq!(a.get("answer"), Some(&Value::List(vec![Value::str("x")])));
    assert_eq!(a.time.secs(), 1_517_336_042);
    let b = &r.events[1];
    assert_eq!(b.time.to_rfc3339(), "2018-01-30T18:14:03.354471Z");
    assert_eq!(
        text(b, "id.orig_h").as_deref(),
        Some("192.168.88.2"),
        "nested id flattened"
    );
}

#[test]
fn iis_several_headers_and_url_decoding() {
    let dir = scratch("iis");
    let p = dir.join("u_ex260302.log");
    std::fs::write(
        &p,
        "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2026-03-02 07:00:00\r\n\
         #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n\
         2026-03-02 07:00:00 10.12.1.30 POST /_layouts/15/ToolPane.aspx DisplayMode=Edit&a=%2F_layouts%2FSignOut.aspx 443 - 8.8.8.8 Mozilla/5.0+(X11) /_layouts/SignOut.aspx 200 0 0 33\r\n\
         2026-03-02 07:00:01 10.12.1.30 GET / - 443\r\n\
         #Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time c-ip cs-method cs-uri-stem sc-status s-computername\r\n\
         2026-03-02 08:00:00 10.0.0.9 GET /x%20y.aspx 404 SP01\r\n",
    )
    .unwrap();
    let f = input(&p);
    assert_eq!(f.format, InputFormat::IisW3c);
    let r = read_all(&f);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].location, "line 6");
    let a = &r.events[0];
    assert_eq!(a.time.to_rfc3339(), "2026-03-02T07:00:00Z");
    assert_eq!(a.provenance.record, 5);
    assert_eq!(text(a, "_product").as_deref(), Some("iis"));
    assert_eq!(text(a, "_service").as_deref(), Some("webserver"));
    assert_eq!(
        text(a, "cs-user-agent").as_deref(),
        Some("Mozilla/5.0 (X11)")
    );
    assert_eq!(
        text(a, "cs(User-Agent)").as_deref(),
        Some("Mozilla/5.0+(X11)")
    );
    assert_eq!(
        text(a, "cs-referer").as_deref(),
        Some("/_layouts/SignOut.aspx")
    );
    assert_eq!(
        text(a, "cs-uri-query-decoded").as_deref(),
        Some("DisplayMode=Edit&a=/_layouts/SignOut.aspx")
    );
    assert_eq!(a.get("sc-status"), Some(&Value::Int(200)));
    assert!(a.get("cs-username").is_none());
    assert_eq!(&*a.host, "10.12.1.30");
    let b = &r.events[1];
    assert_eq!(&*b.host, "SP01");
    assert_eq!(text(b, "cs-uri-stem-decoded").as_deref(), Some("/x y.aspx"));
    assert_eq!(text(b, "c-ip").as_deref(), Some("10.0.0.9"));
}

#[test]
fn rita_proxy_dataset_reads_cleanly() {
    let Some(dir) = shared("data/zeek/rita/test_data/proxy") else {
        return;
    };
    let d = discover_one(&dir);
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    assert!(d.files.iter().all(|f| f.format == InputFormat::ZeekTsv));
    let conn = d
        .files
        .iter()
        .find(|f| f.path.ends_with("conn.log"))
        .unwrap();
    let r = read_all(conn);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let lines = std::fs::read_to_string(&conn.path).unwrap();
    let data = lines.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(r.events.len(), data);
    let e = &r.events[0];
    assert_eq!(text(e, "uid").as_deref(), Some("CXHB1X22027MRWU6D"));
    assert_eq!(e.get("orig_ip_bytes"), Some(&Value::Int(1974)));
    assert_eq!(text(e, "service").as_deref(), Some("http,ssl"));
    let mut total = 0;
    for f in &d.files {
        let r = read_all(f);
        assert!(r.errors.is_empty(), "{}: {:?}", f.path.display(), r.errors);
        total += r.events.len();
    }
    println!("proxy: {} files, {total} records", d.files.len());
    assert_eq!(total, 3921, "GROUND_TRUTH.md: 3,921 records");
}

#[test]
fn rita_missing_host_hourly_rotated_gzip_logs() {
    let Some(dir) = shared("data/zeek/rita/test_data/missing_host") else {
        return;
    };
    let d = discover_one(&dir);
    let logs: Vec<_> = d.files.iter().filter(|f| f.gzip).collect();
    // 1,056 files: 72 `conn-summary` text reports (not logs) and the README are skipped.
    let summaries = d
        .skipped
        .iter()
        .filter(|s| s.path.to_string_lossy().contains("conn-summary"))
        .count();
    assert_eq!(summaries, 72);
    assert_eq!(
        d.skipped.len(),
        73,
        "{:?}",
        &d.skipped[..d.skipped.len().min(2)]
    );
    assert_eq!(logs.len() + summaries + 1, 1056, "with the README");
    let mut total = 0u64;
    let mut errors = 0u64;
    for f in &logs {
        let r = read_all(f);
        total += r.events.len() as u64;
        errors += r.errors.len() as u64;
    }
    println!(
        "missing_host: {} files, {total} records, {errors} errors",
        logs.len()
    );
    assert_eq!(errors, 0);
    // GROUND_TRUTH.md's 177,248 counts every line not starting with `#` in all 1,056 files:
    // 170,915 log records + 6,323 lines of the conn-summary reports + 10 of the README.
    assert_eq!(total, 170_915);
}

#[test]
fn rita_parser_edge_cases_never_panic() {
    let Some(dir) = shared("data/zeek/rita/test_data") else {
        return;
    };
    // Truncated TSV: every whole line read, the cut one reported.
    let r = read_all(&input(&dir.join("truncated/conn.log")));
    assert!(!r.events.is_empty());
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].reason.contains("columns"));
    // Truncated JSON: same.
    let f = input(&dir.join("truncated/conn_json.log"));
    assert_eq!(f.format, InputFormat::ZeekJson);
    let r = read_all(&f);
    assert!(!r.events.is_empty());
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    // A TSV without its header: not read (columns unknown), with a reason.
    let d = discover_one(&dir.join("truncated/conn_top.log"));
    assert!(d.files.is_empty());
    assert!(
        d.skipped[0].reason.contains("#fields"),
        "{}",
        d.skipped[0].reason
    );
    // Plain text named conn.log: skipped.
    let d = discover_one(&dir.join("text_file"));
    assert!(
        d.files.is_empty() && d.skipped.len() == 1,
        "{:?}",
        d.skipped
    );
    // A column the reader does not know: kept under its name.
    // (Its line 9 is one column short: reported, the other four read.)
    let r = read_all(&input(&dir.join("has_unknown_field/http.log")));
    assert_eq!(r.events.len(), 4);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].location, "line 9");
    assert!(r
        .events
        .iter()
        .any(|e| text(e, "i_dont_exist").as_deref() == Some("bingbong")));
    // JSON with all fields: every file reads without an error.
    let d = discover_one(&dir.join("json_with_all_fields"));
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    for f in &d.files {
        assert_eq!(f.format, InputFormat::ZeekJson, "{}", f.path.display());
        let r = read_all(f);
        assert!(
            r.errors.is_empty(),
            "{}: {:?}",
            f.path.display(),
            &r.errors[..r.errors.len().min(2)]
        );
        assert!(!r.events.is_empty());
        let want = if f.path.ends_with("ORIGINALdns.log") {
            "dns"
        } else {
            ""
        };
        if !want.is_empty() {
            assert_eq!(text(&r.events[0], "_service").as_deref(), Some(want));
        }
    }
}

#[test]
fn suricata_eve_sample() {
    let Some(p) = shared("data/suricata/eve-sample.json") else {
        return;
    };
    let f = input(&p);
    assert_eq!(f.format, InputFormat::SuricataEve);
    let r = read_all(&f);
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(3)]
    );
    assert_eq!(r.events.len(), 5000);
    let alerts: Vec<_> = r
        .events
        .iter()
        .filter(|e| text(e, "_service").as_deref() == Some("alert"))
        .collect();
    assert_eq!(alerts.len(), 745);
    let a = alerts[0];
    assert_eq!(text(a, "_product").as_deref(), Some("suricata"));
    assert!(text(a, "alert.signature").unwrap().starts_with("ET "));
    assert_eq!(a.get("alert.severity"), Some(&Value::Int(2)));
    assert_eq!(text(a, "dst_ip").as_deref(), Some("192.168.1.129"));
    assert_eq!(&*a.host, "192.168.1.129", "the internal endpoint");
    assert!(!a.time.is_unknown());
    let dns = r
        .events
        .iter()
        .find(|e| text(e, "_service").as_deref() == Some("dns"))
        .unwrap();
    assert!(dns.has("query"), "{:?}", dns.fields_json());
}
