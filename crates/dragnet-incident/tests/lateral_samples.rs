//! The lateral-movement graph on EVTX-ATTACK-SAMPLES (`Lateral Movement`): the source ->
//! target edges the samples record, hand-checked against their events (host names as the
//! evidence writes them).

use dragnet_event::Analyzer;
use dragnet_incident::{Edge, GraphLimits, LateralGraph};
use std::path::PathBuf;

fn samples() -> Option<PathBuf> {
    let shared = std::env::var_os("DRAGNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("data/evtx/attack-samples/Lateral Movement");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} not found (set DRAGNET_SHARED to the shared data folder)",
            dir.display()
        );
        None
    }
}

/// The graph of one sample file, and the findings it makes.
fn graph_of(file: &str) -> (Vec<Edge>, Vec<dragnet_event::Finding>) {
    let dir = samples().unwrap();
    let d = dragnet_ingest::discover(&[dir.join(file)]).expect("discover");
    assert_eq!(d.files.len(), 1, "{file}");
    let (mut g, handle) = LateralGraph::new(GraphLimits::default());
    let mut out = Vec::new();
    let mut errors = 0;
    dragnet_ingest::read_file(
        &d.files[0],
        &Default::default(),
        &mut |ev| g.observe_event(&ev, &mut out),
        &mut |_| errors += 1,
    );
    assert_eq!(errors, 0, "{file}");
    g.finish(&mut out);
    (handle.take().expect("graph").edges, out)
}

fn has(edges: &[Edge], src: &str, dst: &str, method: &str, account: &str) -> bool {
    edges
        .iter()
        .any(|e| e.source == src && e.target == dst && e.method == method && e.account == account)
}

#[test]
fn sample_edges() {
    if samples().is_none() {
        return;
    }
    // 4624 type 3 NTLM from PC01 as EXAMPLE\Administrator, then WmiPrvSE.exe (4688, no
    // parent name: by process id) starts calc.exe: WMI from PC01.
    let (e, f) = graph_of("LM_WMI_4624_4688_TargetHost.evtx");
    assert!(
        has(
            &e,
            "PC01",
            "WIN-77LTAPHIQ1R",
            "wmi",
            "EXAMPLE\\administrator"
        ),
        "{e:#?}"
    );
    assert!(has(
        &e,
        "PC01",
        "WIN-77LTAPHIQ1R",
        "network-logon",
        "EXAMPLE\\administrator"
    ));
    let wmi = f
        .iter()
        .find(|x| x.rule.id == "dragnet-lateral-wmi")
        .unwrap();
    assert_eq!(wmi.host, "WIN-77LTAPHIQ1R");
    assert!(wmi.attack.contains(&"T1047".to_string()));
    assert_eq!(wmi.rule.author, "dragnet");

    // RdpCoreTS 131: "server accepted a new TCP connection from client 10.0.2.16".
    let (e, _) = graph_of("dfir_rdpsharp_target_RdpCoreTs_168_68_131.evtx");
    assert!(has(&e, "10.0.2.16", "MSEDGEWIN10", "rdp", ""), "{e:#?}");

    // Renamed PsExec: ADMIN$ write, svcctl and the `-stdin` pipes on IPC$ (5145) from
    // 10.0.2.16 as IEWIN7\IEUser.
    let (e, f) = graph_of("LM_renamed_psexecsvc_5145.evtx");
    for m in ["admin-share", "svcctl", "psexec"] {
        assert!(
            has(&e, "10.0.2.16", "IEWIN7", m, "IEWIN7\\ieuser"),
            "{m}: {e:#?}"
        );
    }
    let ps = f
        .iter()
        .find(|x| x.rule.id == "dragnet-lateral-psexec")
        .unwrap();
    assert!(ps.attack.contains(&"T1569.002".to_string()));

    // Impacket wmiexec: cmd.exe under WmiPrvSE.exe right after an inbound SMB connection
    // from 10.0.2.19 (Sysmon 3).
    let (e, _) = graph_of("LM_wmiexec_impacket_sysmon_whoami.evtx");
    assert!(has(&e, "10.0.2.19", "IEWIN7", "wmi", ""), "{e:#?}");

    // Impacket dcomexec: cmd.exe under `mmc.exe -Embedding`, peer 10.0.2.19.
    let (e, f) = graph_of("LM_impacket_docmexec_mmc_sysmon_01.evtx");
    assert!(has(&e, "10.0.2.19", "IEWIN7", "dcom", ""), "{e:#?}");
    assert!(f
        .iter()
        .any(|x| x.rule.id == "dragnet-lateral-dcom" && x.attack.contains(&"T1021.003".into())));

    // 4648 from PC01 with explicit credentials for the server WIN-77LTAPHIQ1R.
    let (e, _) = graph_of("LM_WMIC_4648_rpcss.evtx");
    assert!(
        has(
            &e,
            "PC01",
            "WIN-77LTAPHIQ1R",
            "explicit-credentials",
            "EXAMPLE\\administrator"
        ),
        "{e:#?}"
    );

    // Remote service creation over svcctl from 10.0.2.17.
    let (e, _) = graph_of("LM_Remote_Service01_5145_svcctl.evtx");
    assert!(has(
        &e,
        "10.0.2.17",
        "WIN-77LTAPHIQ1R",
        "svcctl",
        "EXAMPLE\\administrator"
    ));
}

#[test]
fn whole_folder_is_bounded_and_resolves_names() {
    let Some(dir) = samples() else { return };
    let d = dragnet_ingest::discover(&[dir]).expect("discover");
    let (mut g, handle) = LateralGraph::new(GraphLimits::default());
    let mut out = Vec::new();
    for f in &d.files {
        dragnet_ingest::read_file(
            f,
            &Default::default(),
            &mut |ev| g.observe_event(&ev, &mut out),
            &mut |_| {},
        );
    }
    let peak = g.state_bytes();
    g.finish(&mut out);
    let graph = handle.take().unwrap();
    println!(
        "{} edges, {} findings, peak {peak} bytes, {:?}",
        graph.edges.len(),
        out.len(),
        graph.stats
    );
    assert!(peak > 0 && peak < 16 << 20);
    // Across files, the address of PC01 (paired with its name by the NTLM logon) resolves.
    assert!(graph.edges.iter().all(|e| e.source != e.target));
    assert!(graph.edges.iter().any(|e| e.source == "PC01"));
    assert_eq!(
        out.len() as u64,
        graph
            .edges
            .iter()
            .filter(|e| e.method != "network-logon" || e.new)
            .count() as u64
    );
}
