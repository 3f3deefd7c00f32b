//! Windows events as Winlogbeat writes them: Sysmon, Security, System, PowerShell.
//!
//! Each builder writes the `event_data` object with the field names and value formats of the
//! real event (strings throughout, hex where Windows writes hex) and emits it to the host's
//! channel file; the envelope (`@timestamp`, `winlog.*`) is added by the writer.

use crate::engine::{Body, Chan, Cx, FileKey, Provider};
use crate::json::Obj;
use crate::proc::{Proc, Who};
use crate::rng::Rng;
use crate::time;

/// Version resource of an image.
#[derive(Clone, Copy, Debug)]
pub struct Meta<'a> {
    pub version: &'a str,
    pub description: &'a str,
    pub product: &'a str,
    pub company: &'a str,
    pub original: &'a str,
}

const WIN: &str = "10.0.19041.1 (WinBuild.160101.0800)";
const MSW: &str = "Microsoft® Windows® Operating System";
const MS: &str = "Microsoft Corporation";

const fn ms<'a>(description: &'a str, original: &'a str) -> Meta<'a> {
    Meta {
        version: WIN,
        description,
        product: MSW,
        company: MS,
        original,
    }
}

/// The version resources of the binaries the simulation runs.
pub fn meta(image: &str) -> Meta<'static> {
    let base = image
        .rsplit('\\')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    match base.as_str() {
        "cmd.exe" => ms("Windows Command Processor", "Cmd.Exe"),
        "powershell.exe" => ms("Windows PowerShell", "PowerShell.EXE"),
        "conhost.exe" => ms("Console Window Host", "CONHOST.EXE"),
        "svchost.exe" => ms("Host Process for Windows Services", "svchost.exe"),
        "taskhostw.exe" => ms("Host Process for Windows Tasks", "taskhostw.exe"),
        "backgroundtaskhost.exe" => ms("Background Task Host", "backgroundTaskHost.exe"),
        "runtimebroker.exe" => ms("Runtime Broker", "RuntimeBroker.exe"),
        "dllhost.exe" => ms("COM Surrogate", "dllhost.exe"),
        "wmiprvse.exe" => ms("WMI Provider Host", "Wmiprvse.exe"),
        "searchprotocolhost.exe" => ms(
            "Microsoft Windows Search Protocol Host",
            "SearchProtocolHost.exe",
        ),
        "searchfilterhost.exe" => ms(
            "Microsoft Windows Search Filter Host",
            "SearchFilterHost.exe",
        ),
        "sppsvc.exe" => ms(
            "Microsoft Software Protection Platform Service",
            "sppsvc.exe",
        ),
        "consent.exe" => ms("Consent UI for administrative applications", "consent.exe"),
        "userinit.exe" => ms("Userinit Logon Application", "USERINIT.EXE"),
        "explorer.exe" => ms("Windows Explorer", "EXPLORER.EXE"),
        "whoami.exe" => ms("whoami - displays logged on user information", "whoami.exe"),
        "net.exe" => ms("Net Command", "net.exe"),
        "net1.exe" => ms("Net Command", "net1.exe"),
        "nltest.exe" => ms("Microsoft® Logon Server Test Utility", "nltestrk.exe"),
        "ipconfig.exe" => ms("IP Configuration Utility", "ipconfig.exe"),
        "systeminfo.exe" => ms("Displays system information", "sysinfo.exe"),
        "tasklist.exe" => ms("Lists the current running tasks", "tasklist.exe"),
        "quser.exe" => ms("Query User Utility", "quser.exe"),
        "ping.exe" => ms("TCP/IP Ping Command", "ping.exe"),
        "certutil.exe" => ms("CertUtil.exe", "CertUtil.exe"),
        "schtasks.exe" => ms("Task Scheduler Configuration Tool", "schtasks.exe"),
        "sc.exe" => ms("Service Control Manager Configuration Tool", "sc.exe"),
        "netsh.exe" => ms("Network Command Shell", "netsh.exe"),
        "rundll32.exe" => ms("Windows host process (Rundll32)", "RUNDLL32.EXE"),
        "mspaint.exe" => ms("Paint", "MSPAINT.EXE"),
        "mstsc.exe" => ms("Remote Desktop Connection", "mstsc.exe"),
        "rdpclip.exe" => ms("RDP Clipboard Monitor", "rdpclip.exe"),
        "winrs.exe" => ms("Windows Remote Shell", "winrs.exe"),
        "winrshost.exe" => ms(
            "Host Process for WinRM's Remote Shell plugin",
            "winrshost.exe",
        ),
        "wsmprovhost.exe" => ms("Host process for WinRM plug-ins", "wsmprovhost.exe"),
        "diskshadow.exe" => ms("DiskShadow.EXE", "diskshadow.exe"),
        "vssvc.exe" => ms("Microsoft® Volume Shadow Copy Service", "VSSVC.EXE"),
        "vssadmin.exe" => ms(
            "Command Line Interface for Microsoft® Volume Shadow Copy Service ",
            "VSSADMIN.EXE",
        ),
        "gpupdate.exe" => ms(
            "Microsoft® Windows Group Policy Update Utility",
            "gpupdate.exe",
        ),
        "defrag.exe" => ms("Disk Defragmenter Module", "Defrag.EXE"),
        "notepad.exe" => ms("Notepad", "NOTEPAD.EXE"),
        "mmc.exe" => ms("Microsoft Management Console", "MMC.EXE"),
        "dsac.exe" => ms("Active Directory Administrative Center", "DSAC.exe"),
        "w3wp.exe" => Meta {
            version: "10.0.17763.1 (WinBuild.160101.0800)",
            description: "IIS Worker Process",
            product: "Internet Information Services",
            company: MS,
            original: "w3wp.exe",
        },
        "appcmd.exe" => Meta {
            version: "10.0.17763.1 (WinBuild.160101.0800)",
            description: "Application Server Command Line Admin Tool",
            product: "Internet Information Services",
            company: MS,
            original: "appcmd.exe",
        },
        "mpcmdrun.exe" => Meta {
            version: "4.18.25010.11 (WinBuild.160101.0800)",
            description: "Microsoft Malware Protection Command Line Utility",
            product: "Microsoft® Windows® Operating System",
            company: MS,
            original: "MpCmdRun.exe",
        },
        "msmpeng.exe" => Meta {
            version: "4.18.25010.11 (WinBuild.160101.0800)",
            description: "Antimalware Service Executable",
            product: "Microsoft® Windows® Operating System",
            company: MS,
            original: "MsMpEng.exe",
        },
        "chrome.exe" => Meta {
            version: "133.0.6943.142",
            description: "Google Chrome",
            product: "Google Chrome",
            company: "Google LLC",
            original: "chrome.exe",
        },
        "googleupdate.exe" => Meta {
            version: "1.3.36.372",
            description: "Google Installer",
            product: "Google Update",
            company: "Google LLC",
            original: "GoogleUpdate.exe",
        },
        "msedge.exe" => Meta {
            version: "133.0.3065.92",
            description: "Microsoft Edge",
            product: "Microsoft Edge",
            company: MS,
            original: "msedge.exe",
        },
        "outlook.exe" => Meta {
            version: "16.0.18526.20168",
            description: "Microsoft Outlook",
            product: "Microsoft Outlook",
            company: MS,
            original: "Outlook.exe",
        },
        "winword.exe" => Meta {
            version: "16.0.18526.20168",
            description: "Microsoft Word",
            product: "Microsoft Office",
            company: MS,
            original: "WinWord.exe",
        },
        "excel.exe" => Meta {
            version: "16.0.18526.20168",
            description: "Microsoft Excel",
            product: "Microsoft Office",
            company: MS,
            original: "Excel.exe",
        },
        "powerpnt.exe" => Meta {
            version: "16.0.18526.20168",
            description: "Microsoft PowerPoint",
            product: "Microsoft Office",
            company: MS,
            original: "POWERPNT.EXE",
        },
        "onedrive.exe" => Meta {
            version: "25.020.0202.0001",
            description: "Microsoft OneDrive",
            product: "Microsoft OneDrive",
            company: MS,
            original: "OneDrive.exe",
        },
        "ms-teams.exe" => Meta {
            version: "25031.805.3440.5290",
            description: "Microsoft Teams",
            product: "Microsoft Teams",
            company: MS,
            original: "ms-teams.exe",
        },
        "acrord32.exe" => Meta {
            version: "24.5.20320.0",
            description: "Adobe Acrobat Reader",
            product: "Adobe Acrobat Reader",
            company: "Adobe Systems Incorporated",
            original: "AcroRd32.exe",
        },
        "adobearm.exe" => Meta {
            version: "1.824.460.1042",
            description: "Adobe Reader and Acrobat Manager",
            product: "Adobe Reader and Acrobat Manager",
            company: "Adobe Inc.",
            original: "AdobeARM.exe",
        },
        "agentmon.exe" => Meta {
            version: "5.6.1200.0",
            description: "RMM Monitoring Agent",
            product: "RMM Agent",
            company: "RMM Software Ltd",
            original: "AgentMon.exe",
        },
        "psexesvc.exe" => Meta {
            version: "2.43",
            description: "PsExec Service",
            product: "Sysinternals PsExec",
            company: "Sysinternals - www.sysinternals.com",
            original: "psexesvc.exe",
        },
        "psexec64.exe" => Meta {
            version: "2.43",
            description: "Execute processes remotely",
            product: "Sysinternals PsExec",
            company: "Sysinternals - www.sysinternals.com",
            original: "psexec.exe",
        },
        "bkagent.exe" => Meta {
            version: "12.1.2.172",
            description: "Backup Agent Service",
            product: "Backup & Replication",
            company: "Backup Software Inc.",
            original: "BkAgent.exe",
        },
        "7za.exe" => Meta {
            version: "24.09",
            description: "7-Zip Standalone Console",
            product: "7-Zip",
            company: "Igor Pavlov",
            original: "7za.exe",
        },
        "cdb.exe" | "fontdrvhost.exe" if image.to_ascii_lowercase().contains("programdata") => {
            Meta {
                version: "10.0.22621.1 (WinBuild.160101.0800)",
                description: "Symbolic Debugger for Windows",
                product: MSW,
                company: MS,
                original: "CDB.Exe",
            }
        }
        "fontdrvhost.exe" => ms("Usermode Font Driver Host", "fontdrvhost.exe"),
        _ => Meta {
            version: "-",
            description: "-",
            product: "-",
            company: "-",
            original: "-",
        },
    }
}

/// Deterministic hashes of an image, as Sysmon writes them with `HashAlgorithms sha256,IMPHASH`.
pub fn hashes(image: &str) -> String {
    let key = image.to_ascii_lowercase();
    let a = Rng::derive(0x0005_a256, &key);
    let base = key.rsplit('\\').next().unwrap_or(&key).to_string();
    let b = Rng::derive(0x1a9_4a5, &base);
    format!("SHA256={},IMPHASH={}", a.hex_upper(64), b.hex_upper(32))
}

fn tid(t: i64, salt: u32) -> u32 {
    let x = (t as u64 / 1000)
        .wrapping_mul(0x9E37_79B9)
        .wrapping_add(u64::from(salt));
    ((x >> 9) % 3000) as u32 * 4 + 100
}

/// Emit one Windows event.
pub fn put(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    chan: Chan,
    eid: u16,
    provider: Provider,
    data: String,
) {
    let pid = match chan {
        Chan::Sysmon => cx.w.hosts[h].sysmon_pid,
        Chan::Security => cx.hs[h].lsass.pid,
        Chan::System => cx.hs[h].services.pid,
        Chan::PowerShell => 0,
    };
    cx.emit(
        t,
        FileKey::Win(h as u16, chan),
        step,
        Body::Win {
            eid,
            provider,
            data,
            pid,
            tid: tid(t, eid.into()),
        },
    );
}

fn sysmon(cx: &mut Cx, h: usize, t: i64, step: u16, eid: u16, o: Obj) {
    put(
        cx,
        h,
        t,
        step,
        Chan::Sysmon,
        eid,
        Provider::Sysmon,
        o.finish(),
    );
}

fn security(cx: &mut Cx, h: usize, t: i64, step: u16, eid: u16, o: Obj) {
    put(
        cx,
        h,
        t,
        step,
        Chan::Security,
        eid,
        Provider::Security,
        o.finish(),
    );
}

fn head(t: i64) -> Obj {
    let mut o = Obj::with_capacity(900);
    o.str("RuleName", "-").str("UtcTime", &time::sysmon(t));
    o
}

/// Sysmon 1 (process creation).
pub fn sysmon1(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    p: &Proc,
    parent: &Proc,
    m: &Meta,
    hashes: &str,
) {
    let mut o = head(t);
    o.str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("Image", &p.image)
        .str("FileVersion", m.version)
        .str("Description", m.description)
        .str("Product", m.product)
        .str("Company", m.company)
        .str("OriginalFileName", m.original)
        .str("CommandLine", &p.cmd)
        .str("CurrentDirectory", &p.cwd)
        .str("User", &p.who.sysmon)
        .str("LogonGuid", &p.who.logon_guid)
        .str("LogonId", &p.who.logon_hex())
        .str("TerminalSessionId", &p.who.session.to_string())
        .str("IntegrityLevel", p.who.integrity)
        .str("Hashes", hashes)
        .str("ParentProcessGuid", &parent.guid)
        .str("ParentProcessId", &parent.pid.to_string())
        .str("ParentImage", &parent.image)
        .str("ParentCommandLine", &parent.cmd)
        .str("ParentUser", &parent.who.sysmon);
    sysmon(cx, h, t, step, 1, o);
}

/// Security 4688 (process creation, with command line auditing).
pub fn sec4688(cx: &mut Cx, h: usize, t: i64, step: u16, p: &Proc, parent: &Proc) {
    let subject = &parent.who;
    let other = subject.sid != p.who.sid;
    let mut o = Obj::with_capacity(700);
    o.str("SubjectUserSid", &subject.sid)
        .str("SubjectUserName", &subject.name)
        .str("SubjectDomainName", &subject.domain)
        .str("SubjectLogonId", &subject.logon_hex())
        .str("NewProcessId", &format!("0x{:x}", p.pid))
        .str("NewProcessName", &p.image)
        .str("TokenElevationType", p.who.elevation())
        .str("ProcessId", &format!("0x{:x}", parent.pid))
        .str("CommandLine", &p.cmd)
        .str("TargetUserSid", if other { &p.who.sid } else { "S-1-0-0" })
        .str("TargetUserName", if other { &p.who.name } else { "-" })
        .str("TargetDomainName", if other { &p.who.domain } else { "-" })
        .str(
            "TargetLogonId",
            &if other {
                p.who.logon_hex()
            } else {
                "0x0".to_string()
            },
        )
        .str("ParentProcessName", &parent.image)
        .str("MandatoryLabel", p.who.mandatory_label());
    security(cx, h, t, step, 4688, o);
}

/// Start a process: Sysmon 1 and Security 4688. The working directory follows the parent's
/// unless the parent is a service host.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    t: i64,
    step: u16,
    parent: &Proc,
    who: &Who,
    image: &str,
    cmd: &str,
) -> Proc {
    let m = meta(image);
    let hs = hashes(image);
    spawn_ex(cx, r, h, t, step, parent, who, image, cmd, &m, &hs)
}

#[allow(clippy::too_many_arguments)]
pub fn spawn_ex(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    t: i64,
    step: u16,
    parent: &Proc,
    who: &Who,
    image: &str,
    cmd: &str,
    m: &Meta,
    hashes: &str,
) -> Proc {
    let cwd = if who.is_system() || parent.who.sid != who.sid {
        "C:\\Windows\\system32\\".to_string()
    } else {
        parent.cwd.clone()
    };
    let p = Proc::new(&cx.w.hosts[h], r, t, image, cmd, &cwd, who);
    sysmon1(cx, h, t, step, &p, parent, m, hashes);
    sec4688(cx, h, t + r.range(0, 3000), step, &p, parent);
    p
}

fn port_name(p: u16) -> &'static str {
    match p {
        80 => "http",
        443 => "https",
        445 => "microsoft-ds",
        3389 => "ms-wbt-server",
        53 => "domain",
        5985 => "wsman",
        389 => "ldap",
        88 => "kerberos",
        _ => "-",
    }
}

/// Sysmon 3 (network connection).
#[allow(clippy::too_many_arguments)]
pub fn sysmon3(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    p: &Proc,
    src: &str,
    sport: u16,
    dst: &str,
    dst_host: &str,
    dport: u16,
    initiated: bool,
) {
    let fqdn = cx.w.hosts[h].fqdn.clone();
    let mut o = head(t);
    o.str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("Image", &p.image)
        .str("User", &p.who.sysmon)
        .str("Protocol", "tcp")
        .str("Initiated", if initiated { "true" } else { "false" })
        .str("SourceIsIpv6", "false")
        .str("SourceIp", src)
        .str(
            "SourceHostname",
            if src == cx.w.hosts[h].ip { &fqdn } else { "-" },
        )
        .str("SourcePort", &sport.to_string())
        .str(
            "SourcePortName",
            if initiated { "-" } else { port_name(sport) },
        )
        .str("DestinationIsIpv6", "false")
        .str("DestinationIp", dst)
        .str(
            "DestinationHostname",
            if dst_host.is_empty() { "-" } else { dst_host },
        )
        .str("DestinationPort", &dport.to_string())
        .str("DestinationPortName", port_name(dport));
    sysmon(cx, h, t, step, 3, o);
}

/// Sysmon 7 (image loaded).
#[allow(clippy::too_many_arguments)]
pub fn sysmon7(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    p: &Proc,
    loaded: &str,
    m: &Meta,
    signed: bool,
    signature: &str,
) {
    let mut o = head(t);
    o.str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("Image", &p.image)
        .str("ImageLoaded", loaded)
        .str("FileVersion", m.version)
        .str("Description", m.description)
        .str("Product", m.product)
        .str("Company", m.company)
        .str("OriginalFileName", m.original)
        .str("Hashes", &hashes(loaded))
        .str("Signed", if signed { "true" } else { "false" })
        .str("Signature", if signed { signature } else { "-" })
        .str(
            "SignatureStatus",
            if signed { "Valid" } else { "Unavailable" },
        )
        .str("User", &p.who.sysmon);
    sysmon(cx, h, t, step, 7, o);
}

/// Sysmon 8 (CreateRemoteThread).
pub fn sysmon8(cx: &mut Cx, r: &Rng, h: usize, t: i64, step: u16, src: &Proc, dst: &Proc) {
    let mut o = head(t);
    o.str("SourceProcessGuid", &src.guid)
        .str("SourceProcessId", &src.pid.to_string())
        .str("SourceImage", &src.image)
        .str("TargetProcessGuid", &dst.guid)
        .str("TargetProcessId", &dst.pid.to_string())
        .str("TargetImage", &dst.image)
        .str("NewThreadId", &(r.range(100, 3000) * 4).to_string())
        .str(
            "StartAddress",
            &format!("0x{:016X}", 0x1_0000_0000u64 + r.below(0xFFF_0000) * 0x1000),
        )
        .str("StartModule", "-")
        .str("StartFunction", "-")
        .str("SourceUser", &src.who.sysmon)
        .str("TargetUser", &dst.who.sysmon);
    sysmon(cx, h, t, step, 8, o);
}

/// Sysmon 10 (process access).
#[allow(clippy::too_many_arguments)]
pub fn sysmon10(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    t: i64,
    step: u16,
    src: &Proc,
    dst: &Proc,
    access: &str,
    trace: &str,
) {
    let mut o = head(t);
    o.str("SourceProcessGUID", &src.guid)
        .str("SourceProcessId", &src.pid.to_string())
        .str("SourceThreadId", &(r.range(100, 3000) * 4).to_string())
        .str("SourceImage", &src.image)
        .str("TargetProcessGUID", &dst.guid)
        .str("TargetProcessId", &dst.pid.to_string())
        .str("TargetImage", &dst.image)
        .str("GrantedAccess", access)
        .str("CallTrace", trace)
        .str("SourceUser", &src.who.sysmon)
        .str("TargetUser", &dst.who.sysmon);
    sysmon(cx, h, t, step, 10, o);
}

/// Sysmon 11 (file created).
pub fn sysmon11(cx: &mut Cx, h: usize, t: i64, step: u16, p: &Proc, path: &str) {
    let mut o = head(t);
    o.str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("Image", &p.image)
        .str("TargetFilename", path)
        .str("CreationUtcTime", &time::sysmon(t))
        .str("User", &p.who.sysmon);
    sysmon(cx, h, t, step, 11, o);
}

/// Sysmon 13 (registry value set).
pub fn sysmon13(cx: &mut Cx, h: usize, t: i64, step: u16, p: &Proc, key: &str, details: &str) {
    let mut o = Obj::with_capacity(600);
    o.str("RuleName", "-")
        .str("EventType", "SetValue")
        .str("UtcTime", &time::sysmon(t))
        .str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("Image", &p.image)
        .str("TargetObject", key)
        .str("Details", details)
        .str("User", &p.who.sysmon);
    sysmon(cx, h, t, step, 13, o);
}

/// Sysmon 17 (pipe created).
pub fn sysmon17(cx: &mut Cx, h: usize, t: i64, step: u16, p: &Proc, pipe: &str) {
    let mut o = Obj::with_capacity(500);
    o.str("RuleName", "-")
        .str("EventType", "CreatePipe")
        .str("UtcTime", &time::sysmon(t))
        .str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("PipeName", pipe)
        .str("Image", &p.image)
        .str("User", &p.who.sysmon);
    sysmon(cx, h, t, step, 17, o);
}

/// Sysmon 22 (DNS query).
pub fn sysmon22(cx: &mut Cx, h: usize, t: i64, step: u16, p: &Proc, query: &str, answers: &[&str]) {
    let results: String = if answers.is_empty() {
        "-".to_string()
    } else {
        answers.iter().map(|a| format!("::ffff:{a};")).collect()
    };
    let mut o = head(t);
    o.str("ProcessGuid", &p.guid)
        .str("ProcessId", &p.pid.to_string())
        .str("QueryName", query)
        .str("QueryStatus", if answers.is_empty() { "9003" } else { "0" })
        .str("QueryResults", &results)
        .str("Image", &p.image)
        .str("User", &p.who.sysmon);
    sysmon(cx, h, t, step, 22, o);
}

/// How a logon arrived (Security 4624).
pub struct Logon<'a> {
    pub who: &'a Who,
    pub logon_type: u8,
    /// Source workstation name and address (`-` when local).
    pub workstation: &'a str,
    pub ip: &'a str,
    pub port: &'a str,
    /// `Kerberos`, `NTLM` or `Negotiate`.
    pub package: &'a str,
    pub elevated: bool,
}

fn zero_guid() -> &'static str {
    "{00000000-0000-0000-0000-000000000000}"
}

/// Security 4624 (successful logon).
pub fn sec4624(cx: &mut Cx, r: &Rng, h: usize, t: i64, step: u16, l: &Logon) {
    let sys = cx.hs[h].system.clone();
    let interactive = matches!(l.logon_type, 2 | 7 | 10 | 11);
    let service = l.logon_type == 5;
    let (ssid, sname, sdom, slid) = if interactive || service {
        (
            sys.sid.clone(),
            sys.name.clone(),
            sys.domain.clone(),
            "0x3e7".to_string(),
        )
    } else {
        (
            "S-1-0-0".to_string(),
            "-".to_string(),
            "-".to_string(),
            "0x0".to_string(),
        )
    };
    let (lproc, pkg) = match (l.logon_type, l.package) {
        (5, _) => ("Advapi  ", "Negotiate"),
        (2 | 7 | 10 | 11, _) => ("User32 ", "Negotiate"),
        (_, "NTLM") => ("NtLmSsp ", "NTLM"),
        (_, "Kerberos") => ("Kerberos", "Kerberos"),
        _ => ("Advapi  ", l.package),
    };
    let (pid, pname) = match l.logon_type {
        2 | 7 | 11 => (
            format!("0x{:x}", cx.hs[h].winlogon.pid),
            cx.hs[h].winlogon.image.clone(),
        ),
        10 => (
            format!("0x{:x}", cx.hs[h].svc_termsvc.pid),
            "C:\\Windows\\System32\\svchost.exe".to_string(),
        ),
        5 => (
            format!("0x{:x}", cx.hs[h].services.pid),
            cx.hs[h].services.image.clone(),
        ),
        _ => ("0x0".to_string(), "-".to_string()),
    };
    let lguid = if pkg == "Kerberos" || interactive && l.who.domain == crate::world::NETBIOS {
        format!("{{{}}}", r.guid())
    } else {
        zero_guid().to_string()
    };
    let mut o = Obj::with_capacity(1100);
    o.str("SubjectUserSid", &ssid)
        .str("SubjectUserName", &sname)
        .str("SubjectDomainName", &sdom)
        .str("SubjectLogonId", &slid)
        .str("TargetUserSid", &l.who.sid)
        .str(
            "TargetUserName",
            if l.who.is_system() {
                l.who.sysmon.rsplit('\\').next().unwrap_or("SYSTEM")
            } else {
                &l.who.name
            },
        )
        .str(
            "TargetDomainName",
            if l.who.is_system() {
                "NT AUTHORITY"
            } else {
                &l.who.domain
            },
        )
        .str("TargetLogonId", &l.who.logon_hex())
        .str("LogonType", &l.logon_type.to_string())
        .str("LogonProcessName", lproc)
        .str("AuthenticationPackageName", pkg)
        .str("WorkstationName", l.workstation)
        .str("LogonGuid", &lguid)
        .str("TransmittedServices", "-")
        .str("LmPackageName", if pkg == "NTLM" { "NTLM V2" } else { "-" })
        .str("KeyLength", if pkg == "NTLM" { "128" } else { "0" })
        .str("ProcessId", &pid)
        .str("ProcessName", &pname)
        .str("IpAddress", l.ip)
        .str("IpPort", l.port)
        .str("ImpersonationLevel", "%%1833")
        .str(
            "RestrictedAdminMode",
            if l.logon_type == 10 { "%%1843" } else { "-" },
        )
        .str("TargetOutboundUserName", "-")
        .str("TargetOutboundDomainName", "-")
        .str("VirtualAccount", "%%1843")
        .str("TargetLinkedLogonId", "0x0")
        .str(
            "ElevatedToken",
            if l.elevated { "%%1842" } else { "%%1843" },
        );
    security(cx, h, t, step, 4624, o);
}

/// Security 4625 (failed logon: bad password).
#[allow(clippy::too_many_arguments)]
pub fn sec4625(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    user: &str,
    logon_type: u8,
    workstation: &str,
    ip: &str,
    port: &str,
) {
    let sys = cx.hs[h].system.clone();
    let interactive = matches!(logon_type, 2 | 7 | 10);
    let mut o = Obj::with_capacity(800);
    o.str(
        "SubjectUserSid",
        if interactive { &sys.sid } else { "S-1-0-0" },
    )
    .str("SubjectUserName", if interactive { &sys.name } else { "-" })
    .str(
        "SubjectDomainName",
        if interactive { &sys.domain } else { "-" },
    )
    .str("SubjectLogonId", if interactive { "0x3e7" } else { "0x0" })
    .str("TargetUserSid", "S-1-0-0")
    .str("TargetUserName", user)
    .str("TargetDomainName", crate::world::NETBIOS)
    .str("Status", "0xc000006d")
    .str("FailureReason", "%%2313")
    .str("SubStatus", "0xc000006a")
    .str("LogonType", &logon_type.to_string())
    .str(
        "LogonProcessName",
        if interactive { "User32 " } else { "NtLmSsp " },
    )
    .str(
        "AuthenticationPackageName",
        if interactive { "Negotiate" } else { "NTLM" },
    )
    .str("WorkstationName", workstation)
    .str("TransmittedServices", "-")
    .str("LmPackageName", "-")
    .str("KeyLength", "0")
    .str("ProcessId", if interactive { "0x2f0" } else { "0x0" })
    .str(
        "ProcessName",
        if interactive {
            "C:\\Windows\\System32\\winlogon.exe"
        } else {
            "-"
        },
    )
    .str("IpAddress", ip)
    .str("IpPort", port);
    security(cx, h, t, step, 4625, o);
}

/// Security 4648 (logon with explicit credentials).
#[allow(clippy::too_many_arguments)]
pub fn sec4648(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    t: i64,
    step: u16,
    subject: &Who,
    target_user: &str,
    target_server: &str,
    p: &Proc,
    ip: &str,
) {
    let mut o = Obj::with_capacity(800);
    o.str("SubjectUserSid", &subject.sid)
        .str("SubjectUserName", &subject.name)
        .str("SubjectDomainName", &subject.domain)
        .str("SubjectLogonId", &subject.logon_hex())
        .str("LogonGuid", zero_guid())
        .str("TargetUserName", target_user)
        .str("TargetDomainName", crate::world::NETBIOS)
        .str("TargetLogonGuid", &format!("{{{}}}", r.guid()))
        .str("TargetServerName", target_server)
        .str("TargetInfo", target_server)
        .str("ProcessId", &format!("0x{:x}", p.pid))
        .str("ProcessName", &p.image)
        .str("IpAddress", ip)
        .str("IpPort", if ip == "-" { "-" } else { "0" });
    security(cx, h, t, step, 4648, o);
}

const ADMIN_PRIVS: &str = "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeImpersonatePrivilege\n\t\t\tSeDelegateSessionUserImpersonatePrivilege\n\t\t\tSeEnableDelegationPrivilege";
const SYSTEM_PRIVS: &str = "SeAssignPrimaryTokenPrivilege\n\t\t\tSeTcbPrivilege\n\t\t\tSeSecurityPrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeAuditPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\tSeImpersonatePrivilege\n\t\t\tSeDelegateSessionUserImpersonatePrivilege";

/// Security 4672 (special privileges assigned to a new logon).
pub fn sec4672(cx: &mut Cx, h: usize, t: i64, step: u16, who: &Who) {
    let mut o = Obj::with_capacity(600);
    o.str("SubjectUserSid", &who.sid)
        .str(
            "SubjectUserName",
            if who.is_system() { "SYSTEM" } else { &who.name },
        )
        .str(
            "SubjectDomainName",
            if who.is_system() {
                "NT AUTHORITY"
            } else {
                &who.domain
            },
        )
        .str("SubjectLogonId", &who.logon_hex())
        .str(
            "PrivilegeList",
            if who.is_system() {
                SYSTEM_PRIVS
            } else {
                ADMIN_PRIVS
            },
        );
    security(cx, h, t, step, 4672, o);
}

/// Security 4697 (service installed).
#[allow(clippy::too_many_arguments)]
pub fn sec4697(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    subject: &Who,
    name: &str,
    file: &str,
    start_type: &str,
) {
    let mut o = Obj::with_capacity(600);
    o.str("SubjectUserSid", &subject.sid)
        .str("SubjectUserName", &subject.name)
        .str("SubjectDomainName", &subject.domain)
        .str("SubjectLogonId", &subject.logon_hex())
        .str("ServiceName", name)
        .str("ServiceFileName", file)
        .str("ServiceType", "0x10")
        .str("ServiceStartType", start_type)
        .str("ServiceAccount", "LocalSystem");
    security(cx, h, t, step, 4697, o);
}

/// Security 4698 (scheduled task created).
pub fn sec4698(cx: &mut Cx, h: usize, t: i64, step: u16, subject: &Who, task: &str, content: &str) {
    let mut o = Obj::with_capacity(600 + content.len());
    o.str("SubjectUserSid", &subject.sid)
        .str("SubjectUserName", &subject.name)
        .str("SubjectDomainName", &subject.domain)
        .str("SubjectLogonId", &subject.logon_hex())
        .str("TaskName", task)
        .str("TaskContent", content);
    security(cx, h, t, step, 4698, o);
}

/// Security 4778 (session reconnected to a window station).
#[allow(clippy::too_many_arguments)]
pub fn sec4778(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    who: &Who,
    session: &str,
    client: &str,
    ip: &str,
) {
    let mut o = Obj::with_capacity(400);
    o.str("AccountName", &who.name)
        .str("AccountDomain", &who.domain)
        .str("LogonID", &who.logon_hex())
        .str("SessionName", session)
        .str("ClientName", client)
        .str("ClientAddress", ip);
    security(cx, h, t, step, 4778, o);
}

/// Security 5140 (share accessed).
#[allow(clippy::too_many_arguments)]
pub fn sec5140(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    who: &Who,
    ip: &str,
    port: &str,
    share: &str,
    local: &str,
) {
    let mut o = Obj::with_capacity(600);
    o.str("SubjectUserSid", &who.sid)
        .str("SubjectUserName", &who.name)
        .str("SubjectDomainName", &who.domain)
        .str("SubjectLogonId", &who.logon_hex())
        .str("ObjectType", "File")
        .str("IpAddress", ip)
        .str("IpPort", port)
        .str("ShareName", share)
        .str("ShareLocalPath", local)
        .str("AccessMask", "0x1")
        .str("AccessList", "%%4416\n\t\t\t\t");
    security(cx, h, t, step, 5140, o);
}

/// Security 5145 (share object checked for access). `write` asks for WriteData.
#[allow(clippy::too_many_arguments)]
pub fn sec5145(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    who: &Who,
    ip: &str,
    port: &str,
    share: &str,
    local: &str,
    rel: &str,
    write: bool,
) {
    let mut o = Obj::with_capacity(700);
    o.str("SubjectUserSid", &who.sid)
        .str("SubjectUserName", &who.name)
        .str("SubjectDomainName", &who.domain)
        .str("SubjectLogonId", &who.logon_hex())
        .str("ObjectType", "File")
        .str("IpAddress", ip)
        .str("IpPort", port)
        .str("ShareName", share)
        .str("ShareLocalPath", local)
        .str("RelativeTargetName", rel)
        .str("AccessMask", if write { "0x2" } else { "0x1" })
        .str(
            "AccessList",
            if write {
                "%%4417\n\t\t\t\t"
            } else {
                "%%4416\n\t\t\t\t"
            },
        )
        .str(
            "AccessReason",
            if write {
                "%%4417:\t%%1801\n\t\t\t\t"
            } else {
                "%%4416:\t%%1801\n\t\t\t\t"
            },
        );
    security(cx, h, t, step, 5145, o);
}

/// Security 4768 (Kerberos TGT requested), on the DC.
#[allow(clippy::too_many_arguments)]
pub fn sec4768(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    user: &str,
    sid: &str,
    ip: &str,
    port: u16,
) {
    let mut o = Obj::with_capacity(600);
    o.str("TargetUserName", user)
        .str("TargetDomainName", crate::world::NETBIOS)
        .str("TargetSid", sid)
        .str("ServiceName", "krbtgt")
        .str("ServiceSid", &format!("{}-502", cx.w.domain_sid))
        .str("TicketOptions", "0x40810010")
        .str("Status", "0x0")
        .str("TicketEncryptionType", "0x12")
        .str("PreAuthType", "2")
        .str("IpAddress", &format!("::ffff:{ip}"))
        .str("IpPort", &port.to_string());
    security(cx, h, t, step, 4768, o);
}

/// Security 4769 (Kerberos service ticket requested), on the DC.
#[allow(clippy::too_many_arguments)]
pub fn sec4769(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    t: i64,
    step: u16,
    user: &str,
    service: &str,
    ip: &str,
    port: u16,
) {
    let mut o = Obj::with_capacity(600);
    o.str(
        "TargetUserName",
        &format!("{}@{}", user, crate::world::DNS_DOMAIN.to_uppercase()),
    )
    .str("TargetDomainName", &crate::world::DNS_DOMAIN.to_uppercase())
    .str("ServiceName", service)
    .str(
        "ServiceSid",
        &format!("{}-{}", cx.w.domain_sid, 1000 + service.len() * 7),
    )
    .str("TicketOptions", "0x40810000")
    .str("TicketEncryptionType", "0x12")
    .str("IpAddress", &format!("::ffff:{ip}"))
    .str("IpPort", &port.to_string())
    .str("Status", "0x0")
    .str("LogonGuid", &format!("{{{}}}", r.guid()))
    .str("TransmittedServices", "-");
    security(cx, h, t, step, 4769, o);
}

/// Security 4946 (firewall exception rule added).
pub fn sec4946(cx: &mut Cx, h: usize, t: i64, step: u16, rule_id: &str, name: &str) {
    let mut o = Obj::with_capacity(300);
    o.str("ProfileChanged", "All")
        .str("RuleId", rule_id)
        .str("RuleName", name);
    security(cx, h, t, step, 4946, o);
}

/// System 7045 (service installed).
#[allow(clippy::too_many_arguments)]
pub fn sys7045(
    cx: &mut Cx,
    h: usize,
    t: i64,
    step: u16,
    name: &str,
    path: &str,
    start: &str,
    account: &str,
) {
    let mut o = Obj::with_capacity(400);
    o.str("ServiceName", name)
        .str("ImagePath", path)
        .str("ServiceType", "user mode service")
        .str("StartType", start)
        .str("AccountName", account);
    put(
        cx,
        h,
        t,
        step,
        Chan::System,
        7045,
        Provider::Scm,
        o.finish(),
    );
}

/// System 7036 (service entered a state).
pub fn sys7036(cx: &mut Cx, h: usize, t: i64, step: u16, display: &str, state: &str, short: &str) {
    let _ = short;
    let mut o = Obj::with_capacity(300);
    o.str("param1", display).str("param2", state);
    put(
        cx,
        h,
        t,
        step,
        Chan::System,
        7036,
        Provider::Scm,
        o.finish(),
    );
}

/// PowerShell 4104 (script block logged).
pub fn ps4104(cx: &mut Cx, r: &Rng, h: usize, t: i64, step: u16, p: &Proc, text: &str, path: &str) {
    let mut o = Obj::with_capacity(300 + text.len());
    o.str("MessageNumber", "1")
        .str("MessageTotal", "1")
        .str("ScriptBlockText", text)
        .str("ScriptBlockId", &r.guid())
        .str("Path", path);
    let data = o.finish();
    let tid = tid(t, 4104);
    cx.emit(
        t,
        FileKey::Win(h as u16, Chan::PowerShell),
        step,
        Body::Win {
            eid: 4104,
            provider: Provider::PowerShell,
            data,
            pid: p.pid,
            tid,
        },
    );
}

/// A CallTrace through the usual user-mode frames ending in `tail`.
pub fn call_trace(r: &Rng, tail: &[&str]) -> String {
    let mut parts = vec![format!(
        "C:\\Windows\\SYSTEM32\\ntdll.dll+{:x}",
        0x9d000 + r.below(0x800)
    )];
    parts.push(format!(
        "C:\\Windows\\System32\\KERNELBASE.dll+{:x}",
        0x2b000 + r.below(0x8000)
    ));
    for t in tail {
        parts.push(format!("{}+{:x}", t, 0x1000 + r.below(0x40000)));
    }
    parts.push(format!(
        "C:\\Windows\\System32\\KERNEL32.DLL+{:x}",
        0x17000 + r.below(0x1000)
    ));
    parts.push(format!(
        "C:\\Windows\\SYSTEM32\\ntdll.dll+{:x}",
        0x52000 + r.below(0x1000)
    ));
    parts.join("|")
}
