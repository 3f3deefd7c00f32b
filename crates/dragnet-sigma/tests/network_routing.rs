//! SigmaHQ's network and web rules run on network evidence (Zeek, Suricata EVE, IIS W3C), and
//! Windows rules do not.
//!
//! - A hand-made fixture (one Zeek http log, one Zeek dns log, one IIS log) holds lines that
//!   named SigmaHQ rules must match, checked by hand against the rules' detections; the whole
//!   SigmaHQ `rules/` tree runs over it and the exact set of (rule, file, line) is asserted —
//!   Windows rules included, so a Windows rule firing on a network line fails the test.
//! - The shared Zeek and Suricata captures: every finding of `rules/network` and `rules/web`
//!   must come from an event of the rule's own logsource (product/service or category).

mod common;
use common::shared;
use dragnet_ingest::{discover, read_file, ReadOptions};
use dragnet_sigma::{EngineBuilder, LoadOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ZEEK_HTTP: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\thttp
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\trequest_body_len\tresponse_body_len\tstatus_code
#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tcount\tcount\tcount
1700000000.000000\tC1\t10.0.0.5\t49152\t203.0.113.10\t80\t1\tGET\texample.org\t/index.html\t-\t1.1\tHello-World/1.0\t0\t100\t200
1700000001.000000\tC2\t10.0.0.5\t49153\t203.0.113.10\t80\t1\tGET\texample.org\t/docs/lsadump::sam.html\t-\t1.1\tMozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\t0\t100\t200
1700000002.000000\tC3\t10.0.0.5\t49154\t203.0.113.10\t80\t1\tGET\texample.org\t/about.html\t-\t1.1\tMozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\t0\t100\t200
";

const ZEEK_DNS: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqtype_name\trcode_name\tZ\tanswers
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tstring\tstring\tcount\tvector[string]
1700000003.000000\tD1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\t1\taaa.stage.4242.example.net\tTXT\tNOERROR\t0\t-
1700000004.000000\tD2\t10.0.0.5\t5354\t10.0.0.1\t53\tudp\t2\tabcdefghijklmnop.onion\tA\tNXDOMAIN\t0\t-
1700000005.000000\tD3\t10.0.0.5\t5355\t10.0.0.1\t53\tudp\t3\twww.example.org\tA\tNOERROR\t1\t93.184.216.34
";

const IIS: &str = "#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2023-11-14 22:13:20
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
2023-11-14 22:13:20 10.0.0.10 GET /Basic/Command/Base64/d2hvYW1p - 443 - 198.51.100.7 Mozilla/5.0 - 404 0 2 10
2023-11-14 22:13:21 10.0.0.10 GET /default.aspx - 443 - 198.51.100.8 Mozilla/5.0 - 200 0 0 12
";

/// "Mimikatz Use" (keywords, `product: windows` alone).
const MIMIKATZ: &str = "06d71506-7beb-4f22-8888-e2e5e2ca7fd8";

fn fixture() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dragnet-net-routing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("http.log"), ZEEK_HTTP).unwrap();
    std::fs::write(dir.join("dns.log"), ZEEK_DNS).unwrap();
    std::fs::write(dir.join("u_ex231114.log"), IIS).unwrap();
    dir
}

/// (rule id, file name, line) of every finding over the files under `dir`, and the number of
/// events read.
fn run(engine: &dragnet_sigma::Engine, dir: &Path) -> (BTreeSet<(String, String, u64)>, u64) {
    let disc = discover(&[dir.to_path_buf()]).unwrap();
    let mut got = BTreeSet::new();
    let mut events = 0u64;
    for file in &disc.files {
        read_file(
            file,
            &ReadOptions { threads: 1 },
            &mut |ev| {
                events += 1;
                let mut out = Vec::new();
                engine.detect_into(&ev, &mut out);
                for f in out {
                    assert!(!f.rule.author.is_empty(), "{} has no author", f.rule.title);
                    let name = Path::new(&*f.source.path)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    got.insert((f.rule.id.clone(), name, f.source.record));
                }
            },
            &mut |e| panic!("read error: {e}"),
        );
    }
    (got, events)
}

#[test]
fn sigmahq_network_and_web_rules_fire_on_the_fixture_and_windows_rules_do_not() {
    let Some(shared) = shared() else { return };
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_path(&shared.join("data/sigma/sigmahq/rules"))
        .unwrap();
    let (engine, _) = b.build();
    let dir = fixture();
    let (got, events) = run(&engine, &dir);
    assert_eq!(events, 8);
    let want: BTreeSet<(String, String, u64)> = [
        // (Records are file lines: the Zeek logs' first record is line 8, the IIS log's line 5.)
        // Potential Hello-World Scraper Botnet Activity (category proxy): c-useragent
        // 'Hello-World/1.0' and cs-method GET.
        ("1712bafe-be05-4a0e-89d4-17a3ed151bf5", "http.log", 8),
        // Cobalt Strike DNS Beaconing (category dns): query starts with 'aaa.stage.'.
        ("2975af79-28c4-4d2f-a951-9095f229df29", "dns.log", 8),
        // DNS TOR Proxies (product zeek, service dns): query ends with '.onion'.
        ("a8322756-015c-42e7-afb1-436e85ed3ff5", "dns.log", 9),
        // Suspicious DNS Z Flag Bit Set (product zeek, service dns): Z is 1 (not 0), the
        // query has a dot, no excluded TLD, type, answer or port.
        ("ede05abc-2c9e-4624-9944-9ff17fdc0bf5", "dns.log", 10),
        // JNDIExploit Pattern (category webserver): keyword '/Basic/Command/Base64/'.
        ("412d55bc-7737-4d25-9542-5b396867ce55", "u_ex231114.log", 5),
    ]
    .iter()
    .map(|(r, f, l)| (r.to_string(), f.to_string(), *l))
    .collect();
    assert_eq!(got, want);
    // Line 9 of http.log asks for `lsadump::`: the keyword rule "Mimikatz Use" (product:
    // windows alone) would match it (checked ignoring routing), but must not fire on it.
    let mimikatz = engine
        .rules()
        .iter()
        .position(|r| r.rule.meta.id == MIMIKATZ)
        .expect("Mimikatz Use loaded");
    let disc = discover(&[dir.join("http.log")]).unwrap();
    let mut checked = false;
    read_file(
        &disc.files[0],
        &ReadOptions { threads: 1 },
        &mut |ev| {
            if ev.provenance.record == 9 {
                assert!(engine.matches_ignoring_route(mimikatz, &ev));
                checked = true;
            }
        },
        &mut |e| panic!("read error: {e}"),
    );
    assert!(checked);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Does an event of (product, service) belong to a rule's logsource?
fn admitted(product: &str, service: &str, ls: &dragnet_sigma::rule::LogSource) -> bool {
    match (
        ls.category.as_deref(),
        ls.product.as_deref(),
        ls.service.as_deref(),
    ) {
        (Some("proxy"), _, _) => service == "http" && product != "iis",
        (Some("dns"), _, _) => service == "dns",
        (Some("firewall"), _, _) => matches!(service, "conn" | "flow" | "netflow"),
        (Some("webserver"), _, _) => product == "iis",
        (None, Some(p), Some(s)) => p == product && s == service,
        _ => false,
    }
}

#[test]
fn network_rules_stay_on_their_logsource_over_the_shared_captures() {
    let Some(shared) = shared() else { return };
    let rules = shared.join("data/sigma/sigmahq/rules");
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_path(&rules.join("network")).unwrap();
    b.add_path(&rules.join("web")).unwrap();
    b.add_path(&rules.join("windows/builtin")).unwrap();
    let (engine, _) = b.build();
    let by_id: std::collections::HashMap<String, dragnet_sigma::rule::LogSource> = engine
        .rules()
        .iter()
        .map(|r| (r.rule.meta.id.clone(), r.rule.logsource.clone()))
        .collect();
    let mut paths = vec![shared.join("data/zeek/slips-mixed")];
    let eve = shared.join("data/suricata/eve-sample.json");
    if eve.is_file() {
        paths.push(eve);
    }
    let disc = discover(&paths).unwrap();
    let (mut events, mut findings, mut bad) = (0u64, 0u64, Vec::new());
    let mut unmarked = BTreeSet::new();
    for file in &disc.files {
        read_file(
            file,
            &ReadOptions { threads: 1 },
            &mut |ev| {
                events += 1;
                let product = ev.get_text("_product").unwrap_or_default().into_owned();
                let service = ev.get_text("_service").unwrap_or_default().into_owned();
                if product.is_empty() {
                    unmarked.insert(file.path.display().to_string());
                } else {
                    assert_eq!(ev.channel(), Some(format!("{product}/{service}").as_str()));
                }
                let mut out = Vec::new();
                engine.detect_into(&ev, &mut out);
                for f in out {
                    findings += 1;
                    if !admitted(&product, &service, &by_id[&f.rule.id]) {
                        bad.push(format!(
                            "{} fired on {product}/{service} ({}:{})",
                            f.rule.title, f.source.path, f.source.record
                        ));
                    }
                }
            },
            &mut |_| {},
        );
    }
    // Zeek JSON logs without `uid`/`id.orig_h` (x509, pe, arp...) read as plain JSON lines:
    // they have no channel, so no rule of any logsource runs on them.
    eprintln!("files read as plain JSON (no network logsource): {unmarked:?}");
    eprintln!(
        "{events} network events, {findings} findings, {} outside their logsource",
        bad.len()
    );
    assert!(events > 1000, "too few network events: {events}");
    assert!(bad.is_empty(), "{bad:#?}");
}
