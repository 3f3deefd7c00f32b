//! The lateral-movement graph: which host reached which, as whom, how, when, how often.
//!
//! [`LateralGraph`] is an [`Analyzer`] that wants raw events. Events arrive per file in file
//! order, files interleaved, so nothing here depends on global time order: sightings are
//! aggregated under raw keys as they come (source as seen: an address, a name, or a logon
//! session of the target), and resolved at [`Analyzer::finish`], when every file has been read
//! and every name/address/logon pairing is known.
//!
//! What makes an edge (source -> target, account, method):
//!
//! | evidence | method |
//! |---|---|
//! | Security 4624 logon type 10 (source `IpAddress`/`WorkstationName`, target `Computer`) | `rdp` |
//! | Security 4624 logon type 3 of a user account (not machine, not anonymous) | `network-logon` |
//! | Security 4778 session reconnect (`ClientName`/`ClientAddress`); TerminalServices-RemoteConnectionManager 1149 | `rdp` |
//! | Security 4648 explicit credentials (`TargetServerName`; source = `Computer`) | `explicit-credentials` |
//! | Security 5140/5145 on `ADMIN$`/`C$` | `admin-share` |
//! | Security 5145 on `IPC$` pipes `svcctl` / `atsvc` / PsExec's `-stdin` pipes | `svcctl` / `atsvc` / `psexec` |
//! | Security 4697 (by its logon session) and System 7045 (the remote access to that host in the 10 minutes before) | `service-install` (`psexec` for PSEXESVC) |
//! | Sysmon 1 / Security 4688: `wsmprovhost.exe`/`winrshost.exe` or their children | `winrm` |
//! | ... children of `WmiPrvSE.exe` | `wmi` |
//! | ... `PSEXESVC.exe` or its children | `psexec` |
//! | ... children of `mmc.exe`/`explorer.exe` run with `-Embedding` | `dcom` |
//! | Zeek conn between internal hosts on 445 / 3389 / 5985-5986 / 135 | `smb` / `rdp` / `winrm` / `rpc` |
//!
//! Process-tree sightings name their source through the logon session (`LogonId`,
//! `TargetLogonId`/`SubjectLogonId`) of a remote 4624 logon on the same host; without one they
//! make no edge. A Zeek edge is folded into the Windows edge of the same source, target and
//! method when there is one.
//!
//! **Baseline and novelty.** The evidence window is the span of event times the analyzer saw;
//! the baseline is its first 10%, at most 24 hours. An edge is `new` when its first sighting
//! falls after the baseline. A source is *established* when it already made a remote
//! execution or interactive edge (anything but `network-logon` and the Zeek methods) during the
//! baseline (a jump host, an admin workstation).
//!
//! **Findings.** At `finish`, one finding per edge (kind `lateral`, rule id
//! `dragnet-lateral-METHOD`, author `dragnet`), at the edge's first time, with the provenance of
//! its first evidence record; host = target. Level: `informational` for edges seen in the
//! baseline; for new edges `medium` (`low` when the source is established, and for
//! `network-logon` and Zeek-only edges); `high` when a network logon shows pass-the-hash traits
//! (NTLM by an account seen with Kerberos elsewhere in the evidence, or NTLM with a zero key
//! length). Baseline `network-logon` and Zeek-only edges make no finding (they stay in the
//! graph): they are the bulk of ordinary traffic.
//!
//! **Bounds.** Edges (200,000), logon sessions (200,000), remote-access sightings and
//! service installs (100,000 each), evidence per edge (8, the earliest): what does not fit is
//! counted (`dropped` in [`GraphStats`]).

use crate::entities::{is_builtin_account, is_internal_ip, parse_ip, EntityLimits, EntityMap};
use crate::model::Edge;
use dragnet_event::{Analyzer, Event, Finding, Level, Provenance, RuleMeta, Timestamp, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

const NS_MIN: i64 = 60_000_000_000;
const NS_HOUR: i64 = 60 * NS_MIN;

/// Caps of the graph.
#[derive(Clone, Copy, Debug)]
pub struct GraphLimits {
    pub max_edges: usize,
    pub max_logons: usize,
    pub max_sightings: usize,
    pub max_evidence: usize,
    pub entities: EntityLimits,
}

impl Default for GraphLimits {
    fn default() -> Self {
        GraphLimits {
            max_edges: 200_000,
            max_logons: 200_000,
            max_sightings: 100_000,
            max_evidence: 8,
            entities: EntityLimits::default(),
        }
    }
}

/// The lateral-movement methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Rdp,
    NetworkLogon,
    ExplicitCredentials,
    AdminShare,
    Svcctl,
    Atsvc,
    ServiceInstall,
    Psexec,
    Winrm,
    Wmi,
    Dcom,
    /// Zeek: SMB (445).
    Smb,
    /// Zeek: RPC endpoint mapper (135).
    Rpc,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Rdp => "rdp",
            Method::NetworkLogon => "network-logon",
            Method::ExplicitCredentials => "explicit-credentials",
            Method::AdminShare => "admin-share",
            Method::Svcctl => "svcctl",
            Method::Atsvc => "atsvc",
            Method::ServiceInstall => "service-install",
            Method::Psexec => "psexec",
            Method::Winrm => "winrm",
            Method::Wmi => "wmi",
            Method::Dcom => "dcom",
            Method::Smb => "smb",
            Method::Rpc => "rpc",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Method::Rdp => "Lateral movement: RDP logon from another host",
            Method::NetworkLogon => "Lateral movement: network logon from another host",
            Method::ExplicitCredentials => {
                "Lateral movement: explicit credentials used for another host"
            }
            Method::AdminShare => "Lateral movement: administrative share accessed remotely",
            Method::Svcctl => "Lateral movement: remote service control (svcctl pipe)",
            Method::Atsvc => "Lateral movement: remote task scheduling (atsvc pipe)",
            Method::ServiceInstall => "Lateral movement: service installed from another host",
            Method::Psexec => "Lateral movement: PsExec-style remote execution",
            Method::Winrm => "Lateral movement: WinRM / PowerShell remoting",
            Method::Wmi => "Lateral movement: remote WMI execution",
            Method::Dcom => "Lateral movement: DCOM remote execution",
            Method::Smb => "Lateral movement: SMB connection between internal hosts",
            Method::Rpc => "Lateral movement: RPC connection between internal hosts",
        }
    }

    fn techniques(self) -> &'static [&'static str] {
        match self {
            Method::Rdp => &["t1021.001"],
            Method::NetworkLogon => &["t1021"],
            Method::ExplicitCredentials => &["t1078"],
            Method::AdminShare | Method::Smb => &["t1021.002"],
            Method::Svcctl => &["t1021.002", "t1569.002"],
            Method::Atsvc => &["t1021.002", "t1053.005"],
            Method::ServiceInstall | Method::Psexec => &["t1569.002", "t1021.002", "t1543.003"],
            Method::Winrm => &["t1021.006"],
            Method::Wmi => &["t1047"],
            Method::Dcom => &["t1021.003"],
            Method::Rpc => &["t1021"],
        }
    }

    /// Only seen on the network (no account).
    fn network_only(self) -> bool {
        matches!(self, Method::Smb | Method::Rpc)
    }

    /// Counts towards a source being established (a host that does this routinely).
    fn establishes(self) -> bool {
        !self.network_only() && self != Method::NetworkLogon
    }
}

/// The source of a sighting as seen, before resolution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Src {
    /// An address or a host name.
    Seen(Box<str>),
    /// A logon session on the target host.
    Logon(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RawKey {
    src: Src,
    /// Target as seen (the event's host, or an address for Zeek).
    target: Box<str>,
    account: Box<str>,
    method: Method,
}

#[derive(Clone, Debug)]
struct Agg {
    first: Timestamp,
    last: Timestamp,
    count: u64,
    evidence: Vec<(Timestamp, Provenance)>,
    ntlm: bool,
    key_len_zero: bool,
}

#[derive(Clone, Debug)]
struct Logon {
    src: Box<str>,
    account: Box<str>,
}

/// A service install waiting for the remote access that preceded it.
#[derive(Clone, Debug)]
struct Install {
    host: Box<str>,
    time: Timestamp,
    method: Method,
    prov: Provenance,
}

/// A remote access to a host (network/RDP logon, admin share), for service installs.
#[derive(Clone, Debug)]
struct Access {
    host: Box<str>,
    time: Timestamp,
    src: Box<str>,
    account: Box<str>,
}

/// A resolved edge: source, target, account, method.
type EdgeKey = (String, String, String, Method);

/// Counters of a graph run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphStats {
    /// Events that made a sighting.
    pub sightings: u64,
    /// Sightings, logon sessions, installs and entity entries that did not fit in the caps.
    pub dropped: u64,
    /// Process-tree sightings whose logon session was never found.
    pub unresolved: u64,
    pub edges: u64,
    pub new_edges: u64,
}

/// What the graph gives after the run.
#[derive(Clone, Debug, Default)]
pub struct GraphOutput {
    /// Every edge, by first time.
    pub edges: Vec<Edge>,
    pub entities: EntityMap,
    /// Evidence window (first and last event time seen).
    pub window: (Timestamp, Timestamp),
    /// End of the baseline period.
    pub baseline_end: Timestamp,
    pub stats: GraphStats,
}

/// Shared access to the graph once the run is over.
#[derive(Clone, Debug, Default)]
pub struct GraphHandle(Arc<Mutex<Option<GraphOutput>>>);

impl GraphHandle {
    /// The graph, once the analyzer has finished (else `None`).
    pub fn take(&self) -> Option<GraphOutput> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The lateral-movement analyzer.
pub struct LateralGraph {
    limits: GraphLimits,
    entities: EntityMap,
    aggs: HashMap<RawKey, Agg>,
    /// (target host as seen upper-case, logon id) -> source and account.
    logons: HashMap<(Box<str>, u64), Logon>,
    installs: Vec<Install>,
    access: Vec<Access>,
    /// Lower-case accounts seen with Kerberos network logons.
    kerberos: HashSet<Box<str>>,
    /// (host, process id) -> image of remote-execution host processes (4688 without parent
    /// names).
    parents: HashMap<(Box<str>, u64), Box<str>>,
    min_time: Timestamp,
    max_time: Timestamp,
    stats: GraphStats,
    approx_bytes: usize,
    handle: GraphHandle,
    rules: HashMap<Method, Arc<RuleMeta>>,
}

impl LateralGraph {
    /// A new analyzer and the handle through which its graph is read after the run.
    pub fn new(limits: GraphLimits) -> (LateralGraph, GraphHandle) {
        let handle = GraphHandle::default();
        let g = LateralGraph {
            limits,
            entities: EntityMap::new(limits.entities),
            aggs: HashMap::new(),
            logons: HashMap::new(),
            installs: Vec::new(),
            access: Vec::new(),
            kerberos: HashSet::new(),
            parents: HashMap::new(),
            min_time: Timestamp(i64::MAX),
            max_time: Timestamp(i64::MIN),
            stats: GraphStats::default(),
            approx_bytes: 0,
            handle: handle.clone(),
            rules: HashMap::new(),
        };
        (g, handle)
    }

    fn sight(
        &mut self,
        src: Src,
        target: &str,
        account: &str,
        method: Method,
        ev: &Event,
        (ntlm, key_len_zero): (bool, bool),
    ) {
        let key = RawKey {
            src,
            target: target.to_ascii_uppercase().into(),
            account: account.into(),
            method,
        };
        let t = ev.time;
        self.stats.sightings += 1;
        let max_ev = self.limits.max_evidence;
        match self.aggs.get_mut(&key) {
            Some(a) => {
                if t < a.first {
                    a.first = t;
                }
                if t > a.last {
                    a.last = t;
                }
                a.count += 1;
                a.ntlm |= ntlm;
                a.key_len_zero |= key_len_zero;
                push_evidence(&mut a.evidence, t, &ev.provenance, max_ev);
            }
            None => {
                if self.aggs.len() >= self.limits.max_edges {
                    self.stats.dropped += 1;
                    return;
                }
                self.approx_bytes += 256 + key.target.len() + key.account.len();
                self.aggs.insert(
                    key,
                    Agg {
                        first: t,
                        last: t,
                        count: 1,
                        evidence: vec![(t, ev.provenance.clone())],
                        ntlm,
                        key_len_zero,
                    },
                );
            }
        }
    }

    fn note_access(&mut self, host: &str, time: Timestamp, src: &str, account: &str) {
        if self.access.len() >= self.limits.max_sightings {
            self.stats.dropped += 1;
            return;
        }
        self.approx_bytes += 64 + host.len() + src.len() + account.len();
        self.access.push(Access {
            host: host.to_ascii_uppercase().into(),
            time,
            src: src.into(),
            account: account.into(),
        });
    }

    fn windows(&mut self, ev: &Event, id: i64) {
        let computer = ev.host.trim();
        let Some(target) = crate::entities::short_host_name(computer) else {
            return;
        };
        let channel = ev.channel().unwrap_or("");
        let sysmon = channel.contains("Sysmon");
        match id {
            4624 if !sysmon => {
                let lt = ev.get("LogonType").and_then(Value::as_i64).unwrap_or(0);
                if lt != 3 && lt != 10 {
                    return;
                }
                let Some(account) = named_account(ev, "TargetUserName", "TargetDomainName") else {
                    return;
                };
                let Some(src) = remote_source(ev, "IpAddress", "WorkstationName", &target) else {
                    return;
                };
                let pkg = text(ev, "AuthenticationPackageName").unwrap_or_default();
                let ntlm = pkg.eq_ignore_ascii_case("NTLM");
                if pkg.eq_ignore_ascii_case("Kerberos")
                    && lt == 3
                    && self.kerberos.len() < self.limits.max_logons
                {
                    self.kerberos.insert(account.to_ascii_lowercase().into());
                }
                let key_len_zero =
                    ntlm && ev.get("KeyLength").and_then(Value::as_i64) == Some(0) && lt == 3;
                if let Some(id) = ev.get("TargetLogonId").and_then(Value::as_i64) {
                    if self.logons.len() < self.limits.max_logons {
                        self.approx_bytes += 96 + src.len() + account.len();
                        self.logons.insert(
                            (target.as_str().into(), id as u64),
                            Logon {
                                src: src.as_str().into(),
                                account: account.as_str().into(),
                            },
                        );
                    } else {
                        self.stats.dropped += 1;
                    }
                }
                self.note_access(&target, ev.time, &src, &account);
                let method = if lt == 10 {
                    Method::Rdp
                } else {
                    Method::NetworkLogon
                };
                self.sight(
                    Src::Seen(src.into()),
                    &target,
                    &account,
                    method,
                    ev,
                    (ntlm, key_len_zero),
                );
            }
            4648 if !sysmon => {
                let Some(server) = text(ev, "TargetServerName") else {
                    return;
                };
                let Some(dst) = crate::entities::short_host_name(&server)
                    .or_else(|| parse_ip(&server).map(|i| i.to_string()))
                else {
                    return;
                };
                if dst == target || parse_ip(&dst).is_some_and(|i| i.is_loopback()) {
                    return;
                }
                let Some(account) = named_account(ev, "TargetUserName", "TargetDomainName") else {
                    return;
                };
                // The edge goes from this host to the server named.
                self.sight(
                    Src::Seen(target.as_str().into()),
                    &dst,
                    &account,
                    Method::ExplicitCredentials,
                    ev,
                    (false, false),
                );
            }
            4778 if !sysmon => {
                let Some(account) = named_account(ev, "AccountName", "AccountDomain") else {
                    return;
                };
                let Some(src) = remote_source(ev, "ClientAddress", "ClientName", &target) else {
                    return;
                };
                self.sight(
                    Src::Seen(src.into()),
                    &target,
                    &account,
                    Method::Rdp,
                    ev,
                    (false, false),
                );
            }
            1149 if channel.contains("RemoteConnectionManager") => {
                let Some(account) = named_account(ev, "Param1", "Param2") else {
                    return;
                };
                let Some(src) = remote_source(ev, "Param3", "", &target) else {
                    return;
                };
                self.sight(
                    Src::Seen(src.into()),
                    &target,
                    &account,
                    Method::Rdp,
                    ev,
                    (false, false),
                );
            }
            5140 | 5145 if !sysmon => {
                let share = text(ev, "ShareName")
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                let share = share.rsplit('\\').next().unwrap_or("").to_string();
                let rel = text(ev, "RelativeTargetName")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let method = match share.as_str() {
                    "ADMIN$" | "C$" => Method::AdminShare,
                    "IPC$" if id == 5145 => {
                        if rel == "svcctl" {
                            Method::Svcctl
                        } else if rel == "atsvc" {
                            Method::Atsvc
                        } else if rel.starts_with("psexesvc")
                            || rel.ends_with("-stdin")
                            || rel.ends_with("-stdout")
                            || rel.ends_with("-stderr")
                        {
                            Method::Psexec
                        } else {
                            return;
                        }
                    }
                    _ => return,
                };
                let Some(account) = named_account(ev, "SubjectUserName", "SubjectDomainName")
                else {
                    return;
                };
                let Some(src) = remote_source(ev, "IpAddress", "", &target) else {
                    return;
                };
                self.note_access(&target, ev.time, &src, &account);
                self.sight(
                    Src::Seen(src.into()),
                    &target,
                    &account,
                    method,
                    ev,
                    (false, false),
                );
            }
            4697 if !sysmon => {
                let name = text(ev, "ServiceName").unwrap_or_default();
                let file = text(ev, "ServiceFileName").unwrap_or_default();
                let method = if is_psexec_service(&name, &file) {
                    Method::Psexec
                } else {
                    Method::ServiceInstall
                };
                match ev.get("SubjectLogonId").and_then(Value::as_i64) {
                    Some(id) if id != 0x3e7 && id != 0x3e4 && id != 0x3e5 => self.sight(
                        Src::Logon(id as u64),
                        &target,
                        "",
                        method,
                        ev,
                        (false, false),
                    ),
                    _ => self.install(&target, method, ev),
                }
            }
            7045 if !sysmon => {
                let name = text(ev, "ServiceName").unwrap_or_default();
                let file = text(ev, "ImagePath").unwrap_or_default();
                let method = if is_psexec_service(&name, &file) {
                    Method::Psexec
                } else {
                    Method::ServiceInstall
                };
                self.install(&target, method, ev);
            }
            3 if sysmon => {
                if text(ev, "Initiated").is_some_and(|v| v == "true") {
                    return;
                }
                let Some(remote) = inbound_peer(ev, &target) else {
                    return;
                };
                self.note_access(&target, ev.time, &remote, "");
                let image = basename(text(ev, "Image").as_deref().unwrap_or(""));
                if matches!(image.as_str(), "explorer.exe" | "mmc.exe") {
                    self.sight(
                        Src::Seen(remote.into()),
                        &target,
                        "",
                        Method::Dcom,
                        ev,
                        (false, false),
                    );
                }
            }
            131 if channel.contains("RdpCoreTS") => {
                let Some(client) = text(ev, "ClientIP") else {
                    return;
                };
                let ip = match client.rsplit_once(':') {
                    Some((a, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !a.ends_with(':') => {
                        a.to_string()
                    }
                    _ => client.clone(),
                };
                let Some(ip) = parse_ip(&ip) else { return };
                if ip.is_loopback() {
                    return;
                }
                let ip = ip.to_string();
                self.note_access(&target, ev.time, &ip, "");
                self.sight(
                    Src::Seen(ip.into()),
                    &target,
                    "",
                    Method::Rdp,
                    ev,
                    (false, false),
                );
            }
            1 | 4688 => {
                if id == 1 && !sysmon {
                    return;
                }
                let (image, parent) = if id == 1 {
                    (text(ev, "Image"), text(ev, "ParentImage"))
                } else {
                    (text(ev, "NewProcessName"), text(ev, "ParentProcessName"))
                };
                let image = basename(image.as_deref().unwrap_or(""));
                let mut parent = basename(parent.as_deref().unwrap_or(""));
                // Older 4688 records carry no parent name: find it by process id among the
                // remote-execution hosts started before on this host.
                if id == 4688 {
                    let pid = |f: &str| ev.get(f).and_then(Value::as_i64);
                    if matches!(
                        image.as_str(),
                        "wmiprvse.exe"
                            | "wsmprovhost.exe"
                            | "winrshost.exe"
                            | "mmc.exe"
                            | "psexesvc.exe"
                    ) {
                        if let Some(p) = pid("NewProcessId") {
                            if self.parents.len() < self.limits.max_logons {
                                self.parents.insert(
                                    (target.as_str().into(), p as u64),
                                    image.as_str().into(),
                                );
                            }
                        }
                    }
                    if parent.is_empty() {
                        if let Some(p) = pid("ProcessId") {
                            if let Some(name) =
                                self.parents.get(&(target.as_str().into(), p as u64))
                            {
                                parent = name.to_string();
                            }
                        }
                    }
                }
                let method = if matches!(image.as_str(), "wsmprovhost.exe" | "winrshost.exe")
                    || matches!(parent.as_str(), "wsmprovhost.exe" | "winrshost.exe")
                {
                    Method::Winrm
                } else if parent == "wmiprvse.exe" {
                    Method::Wmi
                } else if image == "psexesvc.exe" || parent == "psexesvc.exe" {
                    Method::Psexec
                } else if (matches!(parent.as_str(), "mmc.exe" | "explorer.exe")
                    && text(ev, "ParentCommandLine")
                        .is_some_and(|c| c.to_ascii_lowercase().contains("-embedding")))
                    || (parent == "mmc.exe" && id == 4688)
                {
                    Method::Dcom
                } else {
                    return;
                };
                if method == Method::Psexec {
                    // Runs as SYSTEM: the source is the remote access before it.
                    self.install(&target, method, ev);
                    return;
                }
                let logon = if id == 1 {
                    ev.get("LogonId").and_then(Value::as_i64)
                } else {
                    ev.get("TargetLogonId")
                        .and_then(Value::as_i64)
                        .filter(|&v| v != 0)
                        .or_else(|| ev.get("SubjectLogonId").and_then(Value::as_i64))
                };
                match logon {
                    Some(l) if l > 0x3e7 => self.sight(
                        Src::Logon(l as u64),
                        &target,
                        "",
                        method,
                        ev,
                        (false, false),
                    ),
                    // A service identity: the source is the remote access before it.
                    _ => self.install(&target, method, ev),
                }
            }
            _ => {}
        }
    }

    fn install(&mut self, host: &str, method: Method, ev: &Event) {
        if self.installs.len() >= self.limits.max_sightings {
            self.stats.dropped += 1;
            return;
        }
        self.approx_bytes += 96 + host.len();
        self.installs.push(Install {
            host: host.to_ascii_uppercase().into(),
            time: ev.time,
            method,
            prov: ev.provenance.clone(),
        });
    }

    fn zeek_conn(&mut self, ev: &Event) {
        let port = ev.get("id.resp_p").and_then(Value::as_i64).unwrap_or(0);
        let method = match port {
            445 => Method::Smb,
            3389 => Method::Rdp,
            5985 | 5986 => Method::Winrm,
            135 => Method::Rpc,
            _ => return,
        };
        if ev
            .get_text("proto")
            .is_some_and(|p| !p.eq_ignore_ascii_case("tcp"))
        {
            return;
        }
        // Attempts that were never answered are not movement.
        if let Some(state) = ev.get_text("conn_state") {
            if matches!(
                &*state,
                "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR" | "OTH"
            ) {
                return;
            }
        }
        let (Some(o), Some(r)) = (text(ev, "id.orig_h"), text(ev, "id.resp_h")) else {
            return;
        };
        let (Some(oi), Some(ri)) = (parse_ip(&o), parse_ip(&r)) else {
            return;
        };
        if oi == ri || !is_internal_ip(&oi) || !is_internal_ip(&ri) || oi.is_loopback() {
            return;
        }
        self.sight(
            Src::Seen(oi.to_string().into()),
            &ri.to_string(),
            "",
            method,
            ev,
            (false, false),
        );
    }

    fn rule(&mut self, m: Method, pth: bool) -> Arc<RuleMeta> {
        if pth {
            return Arc::new(rule_meta(m, true));
        }
        self.rules
            .entry(m)
            .or_insert_with(|| Arc::new(rule_meta(m, false)))
            .clone()
    }

    /// Resolve every sighting into edges (no findings).
    fn build(&mut self) -> (Vec<(Edge, bool, bool)>, Timestamp) {
        let (lo, hi) = if self.min_time <= self.max_time {
            (self.min_time, self.max_time)
        } else {
            (Timestamp::UNKNOWN, Timestamp::UNKNOWN)
        };
        let span = (hi.nanos() - lo.nanos()).max(0);
        let baseline_end = Timestamp(lo.nanos() + (span / 10).min(24 * NS_HOUR));

        // Process-tree sightings whose logon session is unknown fall back to the remote access
        // before them, like service installs.
        let unresolved: Vec<RawKey> = self
            .aggs
            .keys()
            .filter(|k| match k.src {
                Src::Logon(id) => !self.logons.contains_key(&(k.target.clone(), id)),
                Src::Seen(_) => false,
            })
            .cloned()
            .collect();
        for k in unresolved {
            if let Some(a) = self.aggs.remove(&k) {
                if let Some((t, p)) = a.evidence.first() {
                    self.installs.push(Install {
                        host: k.target.clone(),
                        time: *t,
                        method: k.method,
                        prov: p.clone(),
                    });
                }
            }
        }
        // Service installs: the latest remote access to that host in the 10 minutes before
        // (or 1 minute after: clocks of different logs drift).
        self.access
            .sort_by(|a, b| a.host.cmp(&b.host).then(a.time.cmp(&b.time)));
        let installs = std::mem::take(&mut self.installs);
        for ins in installs {
            let lo_i = self.access.partition_point(|a| {
                (&a.host, a.time) < (&ins.host, Timestamp(ins.time.0.saturating_sub(10 * NS_MIN)))
            });
            let hi_i = self.access.partition_point(|a| {
                (&a.host, a.time) <= (&ins.host, Timestamp(ins.time.0.saturating_add(NS_MIN)))
            });
            let best = self.access[lo_i..hi_i]
                .iter()
                .rfind(|a| a.time <= ins.time)
                .or_else(|| self.access[lo_i..hi_i].first());
            let Some(a) = best.cloned() else {
                self.stats.unresolved += 1;
                continue;
            };
            let key = RawKey {
                src: Src::Seen(a.src.clone()),
                target: ins.host.clone(),
                account: a.account.clone(),
                method: ins.method,
            };
            let agg = self.aggs.entry(key).or_insert(Agg {
                first: ins.time,
                last: ins.time,
                count: 0,
                evidence: Vec::new(),
                ntlm: false,
                key_len_zero: false,
            });
            agg.first = agg.first.min(ins.time);
            agg.last = agg.last.max(ins.time);
            agg.count += 1;
            push_evidence(
                &mut agg.evidence,
                ins.time,
                &ins.prov,
                self.limits.max_evidence,
            );
        }

        // Resolve sources and targets; merge.
        let mut merged: HashMap<EdgeKey, Agg> = HashMap::new();
        let aggs = std::mem::take(&mut self.aggs);
        for (k, a) in aggs {
            let (src_raw, account): (String, String) = match &k.src {
                Src::Seen(s) => (s.to_string(), k.account.to_string()),
                Src::Logon(id) => match self.logons.get(&(k.target.clone(), *id)) {
                    Some(l) => (l.src.to_string(), l.account.to_string()),
                    None => {
                        self.stats.unresolved += 1;
                        continue;
                    }
                },
            };
            let Some(src) = self.entities.host(&src_raw) else {
                continue;
            };
            let Some(dst) = self.entities.host(&k.target) else {
                continue;
            };
            if src == dst {
                continue;
            }
            let account = if account.is_empty() {
                String::new()
            } else {
                self.entities.account(&account).unwrap_or(account)
            };
            let slot = merged
                .entry((src, dst, account, k.method))
                .or_insert_with(|| Agg {
                    first: a.first,
                    last: a.last,
                    count: 0,
                    evidence: Vec::new(),
                    ntlm: false,
                    key_len_zero: false,
                });
            slot.first = slot.first.min(a.first);
            slot.last = slot.last.max(a.last);
            slot.count += a.count;
            slot.ntlm |= a.ntlm;
            slot.key_len_zero |= a.key_len_zero;
            for (t, p) in a.evidence {
                push_evidence(&mut slot.evidence, t, &p, self.limits.max_evidence);
            }
        }
        // Zeek edges fold into the Windows edge of the same source, target and method.
        let mut with_account: HashMap<(String, String, Method), EdgeKey> = HashMap::new();
        for k in merged.keys() {
            if !k.2.is_empty() {
                with_account
                    .entry((k.0.clone(), k.1.clone(), k.3))
                    .and_modify(|cur| {
                        if k < cur {
                            *cur = k.clone()
                        }
                    })
                    .or_insert_with(|| k.clone());
            }
        }
        let keys: Vec<_> = merged.keys().filter(|k| k.2.is_empty()).cloned().collect();
        for k in keys {
            if let Some(into) = with_account.get(&(k.0.clone(), k.1.clone(), k.3)) {
                if let Some(a) = merged.remove(&k) {
                    if let Some(slot) = merged.get_mut(into) {
                        slot.first = slot.first.min(a.first);
                        slot.last = slot.last.max(a.last);
                        slot.count += a.count;
                        for (t, p) in a.evidence {
                            push_evidence(&mut slot.evidence, t, &p, self.limits.max_evidence);
                        }
                    }
                }
            }
        }

        let mut out = Vec::with_capacity(merged.len());
        for ((source, target, account, method), a) in merged {
            let pth = method == Method::NetworkLogon
                && a.ntlm
                && (a.key_len_zero
                    || self
                        .kerberos
                        .contains(account.to_ascii_lowercase().as_str()));
            let edge = Edge {
                source,
                target,
                account,
                method: method.as_str().to_string(),
                first: a.first,
                last: a.last,
                count: a.count,
                new: a.first > baseline_end,
                evidence: a.evidence.into_iter().map(|(_, p)| p).collect(),
            };
            out.push((edge, pth, method.network_only()));
        }
        out.sort_by(|a, b| {
            a.0.first
                .cmp(&b.0.first)
                .then_with(|| a.0.source.cmp(&b.0.source))
                .then_with(|| a.0.target.cmp(&b.0.target))
                .then_with(|| a.0.method.cmp(&b.0.method))
                .then_with(|| a.0.account.cmp(&b.0.account))
        });
        (out, baseline_end)
    }
}

fn rule_meta(m: Method, pth: bool) -> RuleMeta {
    let mut tags = vec!["attack.lateral-movement".to_string()];
    tags.extend(m.techniques().iter().map(|t| format!("attack.{t}")));
    if pth {
        tags.push("attack.defense-evasion".into());
        tags.push("attack.t1550.002".into());
    }
    RuleMeta {
        id: format!("dragnet-lateral-{}", m.as_str()),
        title: if pth {
            "Lateral movement: NTLM network logon with pass-the-hash traits".to_string()
        } else {
            m.title().to_string()
        },
        author: "dragnet".into(),
        status: "experimental".into(),
        description: "An edge of the lateral-movement graph: one host reached another as an \
                      account by a method, first seen at this time (dragnet-incident graph)."
            .into(),
        tags,
        source: "builtin:incident/graph".into(),
        kind: "lateral".into(),
        ..Default::default()
    }
}

fn push_evidence(ev: &mut Vec<(Timestamp, Provenance)>, t: Timestamp, p: &Provenance, max: usize) {
    if max == 0 {
        return;
    }
    if ev.len() < max {
        ev.push((t, p.clone()));
    } else if let Some((i, last)) = ev
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0))
        .map(|(i, e)| (i, e.0))
    {
        if t < last {
            ev[i] = (t, p.clone());
        } else {
            return;
        }
    }
    ev.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.record.cmp(&b.1.record)));
}

fn text(ev: &Event, name: &str) -> Option<String> {
    let t = ev.get_text(name)?;
    let t = t.trim();
    if t.is_empty() || t == "-" {
        None
    } else {
        Some(t.to_string())
    }
}

fn account_of(domain: &Option<String>, user: &str) -> String {
    match domain {
        Some(d) if !d.is_empty() && d != "-" && !user.contains('\\') && !user.contains('@') => {
            format!("{d}\\{user}")
        }
        _ => user.to_string(),
    }
}

fn basename(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .trim()
        .to_ascii_lowercase()
}

fn is_psexec_service(name: &str, file: &str) -> bool {
    name.to_ascii_lowercase().starts_with("psexesvc") || basename(file).starts_with("psexesvc")
}

/// The remote peer of an inbound Sysmon 3 connection on `target`: the side that is not this
/// host (by name, else by the side holding a service port), when internal and not loopback.
fn inbound_peer(ev: &Event, target: &str) -> Option<String> {
    let is_me = |f: &str| {
        text(ev, f)
            .and_then(|n| crate::entities::short_host_name(&n))
            .is_some_and(|n| n == target)
    };
    let port = |f: &str| ev.get(f).and_then(Value::as_i64).unwrap_or(0);
    let service = |p: i64| (1..1024).contains(&p) || matches!(p, 3389 | 5985 | 5986);
    let remote = if is_me("SourceHostname") && !is_me("DestinationHostname") {
        "DestinationIp"
    } else if is_me("DestinationHostname") && !is_me("SourceHostname") {
        "SourceIp"
    } else if service(port("SourcePort")) && !service(port("DestinationPort")) {
        "DestinationIp"
    } else {
        "SourceIp"
    };
    let ip = text(ev, remote).and_then(|s| parse_ip(&s))?;
    if ip.is_loopback() || !is_internal_ip(&ip) {
        return None;
    }
    Some(ip.to_string())
}

/// The remote source of a logon: its address (when not loopback), else its workstation name
/// (when not this host).
/// `DOMAIN\\user` from the event's user and domain fields; None for an empty or built-in
/// identity (SYSTEM, machine accounts, ...), which says nothing about who moved.
fn named_account(ev: &Event, user_field: &str, domain_field: &str) -> Option<String> {
    let user = text(ev, user_field)?;
    if user.is_empty() || is_builtin_account(&user) {
        return None;
    }
    Some(account_of(&text(ev, domain_field), &user))
}

fn remote_source(ev: &Event, ip_field: &str, name_field: &str, target: &str) -> Option<String> {
    if let Some(ip) = text(ev, ip_field).and_then(|s| parse_ip(&s)) {
        if ip.is_loopback() {
            return None;
        }
        return Some(ip.to_string());
    }
    if name_field.is_empty() {
        return None;
    }
    let name = text(ev, name_field)?;
    let short = crate::entities::short_host_name(&name)?;
    if short == target {
        return None;
    }
    Some(name)
}

impl Analyzer for LateralGraph {
    fn name(&self) -> &str {
        "lateral"
    }

    fn wants_events(&self) -> bool {
        true
    }

    fn wants_findings(&self) -> bool {
        false
    }

    fn observe_event(&mut self, ev: &Event, _out: &mut Vec<Finding>) {
        if !ev.time.is_unknown() {
            if ev.time < self.min_time {
                self.min_time = ev.time;
            }
            if ev.time > self.max_time {
                self.max_time = ev.time;
            }
        }
        if let Some(Value::Str(p)) = ev.get("_product") {
            if p.eq_ignore_ascii_case("zeek") {
                let conn = matches!(ev.get("_service"), Some(Value::Str(s)) if &**s == "conn");
                if conn {
                    self.zeek_conn(ev);
                }
                self.entities.observe(ev);
            }
            return;
        }
        let Some(id) = ev.event_id() else { return };
        match id {
            1 | 3 | 22 | 131 | 1149 | 4624 | 4625 | 4648 | 4688 | 4697 | 4768 | 4769 | 4776
            | 4778 | 5140 | 5145 | 7045 => {
                if !ev.host.is_empty() {
                    self.entities.add_host(&ev.host);
                }
                self.entities.observe(ev);
                self.windows(ev, id);
            }
            _ => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<Finding>) {
        let (edges, baseline_end) = self.build();
        // Sources that already moved during the baseline.
        let established: HashSet<String> = edges
            .iter()
            .filter(|(e, _, _)| !e.new && method_of(&e.method).is_some_and(Method::establishes))
            .map(|(e, _, _)| e.source.clone())
            .collect();
        let mut stats = std::mem::take(&mut self.stats);
        let mut kept = Vec::with_capacity(edges.len());
        for (edge, pth, network_only) in edges {
            stats.edges += 1;
            if edge.new {
                stats.new_edges += 1;
            }
            let Some(method) = method_of(&edge.method) else {
                continue;
            };
            let quiet = network_only || method == Method::NetworkLogon;
            let level = if pth {
                if edge.new {
                    Level::High
                } else {
                    Level::Medium
                }
            } else if !edge.new {
                if quiet {
                    kept.push(edge);
                    continue;
                }
                Level::Informational
            } else if quiet || established.contains(&edge.source) {
                Level::Low
            } else {
                Level::Medium
            };
            let rule = self.rule(method, pth);
            let Some(first_ev) = edge.evidence.first().cloned() else {
                kept.push(edge);
                continue;
            };
            let mut f = Finding::new(rule, level, edge.first, &edge.target, first_ev);
            let d = &mut f.details;
            d.insert("source".into(), edge.source.clone().into());
            d.insert("target".into(), edge.target.clone().into());
            if !edge.account.is_empty() {
                d.insert("account".into(), edge.account.clone().into());
            }
            d.insert("method".into(), edge.method.clone().into());
            d.insert("count".into(), edge.count.into());
            d.insert("first".into(), edge.first.to_string().into());
            d.insert("last".into(), edge.last.to_string().into());
            d.insert("new".into(), edge.new.into());
            d.insert(
                "source_established".into(),
                established.contains(&edge.source).into(),
            );
            if pth {
                d.insert("pass_the_hash_traits".into(), true.into());
            }
            let novelty = if edge.new {
                format!("first seen after the baseline (ends {baseline_end})")
            } else {
                "also seen during the baseline".to_string()
            };
            let who = if edge.account.is_empty() {
                String::new()
            } else {
                format!(" as {}", edge.account)
            };
            d.insert(
                "explanation".into(),
                format!(
                    "{} -> {}{} by {}: {} sighting(s) from {} to {}; {}{}",
                    edge.source,
                    edge.target,
                    who,
                    edge.method,
                    edge.count,
                    edge.first,
                    edge.last,
                    novelty,
                    if pth {
                        "; NTLM network logon by an account otherwise seen with Kerberos (or with a zero key length): pass-the-hash traits"
                    } else {
                        ""
                    }
                )
                .into(),
            );
            f.events = edge.evidence.clone();
            out.push(f);
            kept.push(edge);
        }
        stats.dropped += self.entities.dropped();
        let output = GraphOutput {
            edges: kept,
            entities: std::mem::take(&mut self.entities),
            window: if self.min_time <= self.max_time {
                (self.min_time, self.max_time)
            } else {
                (Timestamp::UNKNOWN, Timestamp::UNKNOWN)
            },
            baseline_end,
            stats,
        };
        self.logons.clear();
        self.access.clear();
        self.kerberos.clear();
        self.parents.clear();
        self.approx_bytes = 0;
        *self.handle.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(output);
    }

    fn state_bytes(&self) -> usize {
        self.approx_bytes
            + self.entities.state_bytes()
            + self.kerberos.len() * 48
            + self.parents.len() * 64
            + self.aggs.capacity() * (std::mem::size_of::<(RawKey, Agg)>() + 8)
    }
}

fn method_of(s: &str) -> Option<Method> {
    [
        Method::Rdp,
        Method::NetworkLogon,
        Method::ExplicitCredentials,
        Method::AdminShare,
        Method::Svcctl,
        Method::Atsvc,
        Method::ServiceInstall,
        Method::Psexec,
        Method::Winrm,
        Method::Wmi,
        Method::Dcom,
        Method::Smb,
        Method::Rpc,
    ]
    .into_iter()
    .find(|m| m.as_str() == s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::SourceFormat;

    const H: i64 = 3_600_000_000_000;

    fn logon(
        hour: i64,
        target: &str,
        lt: i64,
        src_ip: &str,
        ws: &str,
        user: &str,
        pkg: &str,
    ) -> Event {
        let mut e = Event::new(Provenance {
            path: format!("{target}.evtx").into(),
            record: hour as u64,
            format: SourceFormat::Evtx,
        });
        e.time = Timestamp(hour * H);
        e.host = format!("{target}.corp.example").into();
        e.push("EventID", Value::Int(4624));
        e.push("Channel", Value::str("Security"));
        e.push("LogonType", Value::Int(lt));
        e.push("IpAddress", Value::str(src_ip));
        e.push("WorkstationName", Value::str(ws));
        e.push("TargetUserName", Value::str(user));
        e.push("TargetDomainName", Value::str("CORP"));
        e.push("AuthenticationPackageName", Value::str(pkg));
        e.push("KeyLength", Value::Int(128));
        e.push(
            "TargetLogonId",
            Value::str(format!("0x{:x}", 0x1000 + hour)),
        );
        e
    }

    #[test]
    fn baseline_novelty_and_levels() {
        let (mut g, handle) = LateralGraph::new(GraphLimits::default());
        let mut out = Vec::new();
        let evs = [
            // Window: hour 1 to hour 101; baseline: the first 10 h (10% of 100 h).
            logon(1, "SRV-1", 10, "10.0.0.5", "JUMP", "admin", "Negotiate"),
            logon(101, "SRV-9", 5, "-", "-", "x", "Negotiate"),
            // Seen in the baseline, again later: not new.
            logon(50, "SRV-1", 10, "10.0.0.5", "JUMP", "admin", "Negotiate"),
            // New, from the established jump host: low.
            logon(60, "SRV-2", 10, "10.0.0.5", "JUMP", "admin", "Negotiate"),
            // New, from a workstation that never moved before: medium.
            logon(70, "SRV-2", 10, "10.0.0.7", "WS-7", "j.doe", "Negotiate"),
            // j.doe authenticates with Kerberos elsewhere, NTLM here: pass-the-hash traits.
            logon(5, "FS-1", 3, "10.0.0.8", "WS-8", "j.doe", "Kerberos"),
            logon(80, "SRV-3", 3, "10.0.0.7", "WS-7", "j.doe", "NTLM"),
            // Machine accounts and loopback are no movement.
            logon(81, "SRV-3", 3, "10.0.0.7", "WS-7", "WS-7$", "Kerberos"),
            logon(82, "SRV-3", 10, "127.0.0.1", "SRV-3", "j.doe", "Negotiate"),
        ];
        for e in &evs {
            g.observe_event(e, &mut out);
        }
        g.finish(&mut out);
        let graph = handle.take().unwrap();
        assert_eq!(graph.baseline_end, Timestamp(11 * H));
        let edge = |s: &str, t: &str, m: &str| {
            graph
                .edges
                .iter()
                .find(|e| e.source == s && e.target == t && e.method == m)
                .unwrap_or_else(|| panic!("{s} -> {t} {m}: {:#?}", graph.edges))
        };
        // The address resolves to the workstation named with it.
        let e = edge("JUMP", "SRV-1", "rdp");
        assert!(!e.new);
        assert_eq!((e.count, e.account.as_str()), (2, "CORP\\admin"));
        assert!(edge("JUMP", "SRV-2", "rdp").new);
        assert_eq!(graph.edges.len(), 5, "{:#?}", graph.edges);
        let level = |s: &str, t: &str, rule: &str| {
            out.iter()
                .find(|f| f.details["source"] == s && f.details["target"] == t && f.rule.id == rule)
                .map(|f| f.level)
        };
        assert_eq!(
            level("JUMP", "SRV-1", "dragnet-lateral-rdp"),
            Some(Level::Informational)
        );
        assert_eq!(
            level("JUMP", "SRV-2", "dragnet-lateral-rdp"),
            Some(Level::Low)
        );
        assert_eq!(
            level("WS-7", "SRV-2", "dragnet-lateral-rdp"),
            Some(Level::Medium)
        );
        assert_eq!(
            level("WS-7", "SRV-3", "dragnet-lateral-network-logon"),
            Some(Level::High)
        );
        let pth = out
            .iter()
            .find(|f| f.details.get("pass_the_hash_traits").is_some())
            .unwrap();
        assert!(pth.attack.contains(&"T1550.002".to_string()));
        // A baseline network logon makes no finding.
        assert_eq!(level("WS-8", "FS-1", "dragnet-lateral-network-logon"), None);
        // Finding at the edge's first time, with its first evidence record.
        let f = out
            .iter()
            .find(|f| f.details["source"] == "JUMP" && f.details["target"] == "SRV-1")
            .unwrap();
        assert_eq!(f.time, Timestamp(H));
        assert_eq!(f.source.record, 1);
    }

    #[test]
    fn edges_are_capped() {
        let limits = GraphLimits {
            max_edges: 3,
            ..Default::default()
        };
        let (mut g, handle) = LateralGraph::new(limits);
        let mut out = Vec::new();
        for i in 0..10 {
            let e = logon(
                i,
                &format!("SRV-{i}"),
                10,
                "10.0.0.5",
                "JUMP",
                "admin",
                "Negotiate",
            );
            g.observe_event(&e, &mut out);
        }
        assert!(g.state_bytes() > 0);
        g.finish(&mut out);
        let graph = handle.take().unwrap();
        assert_eq!(graph.edges.len(), 3);
        assert_eq!(graph.stats.dropped, 7);
    }
}
