//! Accounts, processes and per-host process state.

use crate::rng::Rng;
use crate::time::{DAY, MIN, SEC};
use crate::world::{Host, Role, World, NETBIOS};

/// An account context a process runs under (a logon session).
#[derive(Clone, Debug)]
pub struct Who {
    pub sid: String,
    /// Security-log subject name: `j.doe`, or `WS-17$` for the machine's own accounts.
    pub name: String,
    /// `CORP`, `NT AUTHORITY`...
    pub domain: String,
    /// Sysmon `User`: `CORP\j.doe`, `NT AUTHORITY\SYSTEM`.
    pub sysmon: String,
    pub logon_id: u64,
    pub logon_guid: String,
    pub session: u32,
    /// Sysmon `IntegrityLevel`.
    pub integrity: &'static str,
}

impl Who {
    pub fn logon_hex(&self) -> String {
        format!("0x{:x}", self.logon_id)
    }

    pub fn is_system(&self) -> bool {
        self.sid.len() <= 8
    }

    pub fn mandatory_label(&self) -> &'static str {
        match self.integrity {
            "System" => "S-1-16-16384",
            "High" => "S-1-16-12288",
            "Low" => "S-1-16-4096",
            _ => "S-1-16-8192",
        }
    }

    pub fn elevation(&self) -> &'static str {
        match self.integrity {
            "System" => "%%1936",
            "High" => "%%1937",
            _ => "%%1938",
        }
    }

    /// The well-known service accounts of `h`.
    pub fn system(h: &Host) -> Who {
        Who::service(h, "S-1-5-18", "SYSTEM", 0x3e7)
    }

    pub fn network_service(h: &Host) -> Who {
        Who::service(h, "S-1-5-20", "NETWORK SERVICE", 0x3e4)
    }

    fn service(h: &Host, sid: &str, name: &str, id: u64) -> Who {
        Who {
            sid: sid.to_string(),
            name: format!("{}$", h.name),
            domain: NETBIOS.to_string(),
            sysmon: format!("NT AUTHORITY\\{name}"),
            logon_id: id,
            logon_guid: logon_guid(h, 0, id),
            session: 0,
            integrity: "System",
        }
    }

    /// A domain account's new logon session on `h` at `t`.
    pub fn domain_user(
        h: &Host,
        r: &Rng,
        t: i64,
        sam: &str,
        sid: &str,
        session: u32,
        integrity: &'static str,
    ) -> Who {
        let id = r.range(0x100000, 0x3fffff) as u64;
        Who {
            sid: sid.to_string(),
            name: sam.to_string(),
            domain: NETBIOS.to_string(),
            sysmon: format!("{NETBIOS}\\{sam}"),
            logon_id: id,
            logon_guid: logon_guid(h, t, id),
            session,
            integrity,
        }
    }
}

/// Sysmon-style LogonGuid: host prefix, logon time, then the LUID in little-endian bytes.
pub fn logon_guid(h: &Host, t: i64, luid: u64) -> String {
    let secs = (t / SEC) as u64;
    let b = luid.to_le_bytes();
    format!(
        "{{{}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}}}",
        h.guid_prefix,
        secs & 0xffff,
        (secs >> 16) & 0xffff,
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6],
        b[7]
    )
}

/// Sysmon-style ProcessGuid: host prefix, creation time, a counter, the boot tail.
pub fn process_guid(h: &Host, r: &Rng, t: i64) -> String {
    let secs = (t / SEC) as u64;
    format!(
        "{{{}-{:04x}-{:04x}-{}-{}}}",
        h.guid_prefix,
        secs & 0xffff,
        (secs >> 16) & 0xffff,
        r.hex(4),
        h.boot_tail
    )
}

pub fn new_pid(r: &Rng) -> u32 {
    r.range(100, 6000) as u32 * 4
}

#[derive(Clone, Debug)]
pub struct Proc {
    pub guid: String,
    pub pid: u32,
    pub image: String,
    pub cmd: String,
    pub cwd: String,
    pub who: Who,
    pub started: i64,
}

impl Proc {
    pub fn new(h: &Host, r: &Rng, t: i64, image: &str, cmd: &str, cwd: &str, who: &Who) -> Proc {
        Proc {
            guid: process_guid(h, r, t),
            pid: new_pid(r),
            image: image.to_string(),
            cmd: cmd.to_string(),
            cwd: cwd.to_string(),
            who: who.clone(),
            started: t,
        }
    }
}

/// The long-lived processes of one host.
pub struct HostState {
    pub system: Who,
    pub netsvc: Who,
    pub services: Proc,
    pub lsass: Proc,
    pub winlogon: Proc,
    pub svc_sched: Proc,
    pub svc_netsvcs: Proc,
    pub svc_dcom: Proc,
    pub svc_termsvc: Proc,
    pub msmpeng: Proc,
    /// The primary user's logon session and its shell and resident apps (workstations).
    pub user: Option<Who>,
    pub userinit: Option<Proc>,
    pub explorer: Option<Proc>,
    pub outlook: Option<Proc>,
    pub teams: Option<Proc>,
    pub chrome: Option<Proc>,
    /// IIS worker (web server).
    pub w3wp: Option<Proc>,
    pub w3wp_who: Option<Who>,
}

const SYS32: &str = "C:\\Windows\\system32\\";

impl HostState {
    pub fn new(w: &World, hi: usize, seed: u64) -> HostState {
        let h = &w.hosts[hi];
        let r = Rng::derive(seed, &format!("hoststate/{}", h.name));
        let boot = w.start - r.range(2 * DAY, 9 * DAY) - r.range(0, DAY);
        let system = Who::system(h);
        let netsvc = Who::network_service(h);
        let mk = |r: &Rng, dt: i64, image: &str, cmd: &str, who: &Who| {
            Proc::new(h, r, boot + dt, image, cmd, SYS32, who)
        };
        let services = mk(
            &r,
            10 * SEC,
            "C:\\Windows\\System32\\services.exe",
            "C:\\Windows\\system32\\services.exe",
            &system,
        );
        let lsass = mk(
            &r,
            10 * SEC,
            "C:\\Windows\\System32\\lsass.exe",
            "C:\\Windows\\system32\\lsass.exe",
            &system,
        );
        let winlogon = mk(
            &r,
            11 * SEC,
            "C:\\Windows\\System32\\winlogon.exe",
            "winlogon.exe",
            &system,
        );
        let svc_dcom = mk(
            &r,
            12 * SEC,
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
            &system,
        );
        let svc_netsvcs = mk(
            &r,
            14 * SEC,
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p",
            &system,
        );
        let svc_sched = mk(
            &r,
            14 * SEC,
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
            &system,
        );
        let svc_termsvc = mk(
            &r,
            15 * SEC,
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\System32\\svchost.exe -k NetworkService -s TermService",
            &netsvc,
        );
        let msmpeng = mk(&r, 20 * SEC, "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MsMpEng.exe", "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MsMpEng.exe\"", &system);

        let (mut user, mut userinit, mut explorer, mut outlook, mut teams, mut chrome) =
            (None, None, None, None, None, None);
        if h.role == Role::Workstation {
            if let Some(u) = h.user.map(|u| &w.users[u]) {
                let t = h.logon_at;
                let who = Who::domain_user(h, &r, t, &u.sam, &u.sid, 1, "Medium");
                let home = format!("C:\\Users\\{}\\", u.sam);
                userinit = Some(Proc::new(
                    h,
                    &r,
                    t + 2 * SEC,
                    "C:\\Windows\\System32\\userinit.exe",
                    "C:\\Windows\\system32\\userinit.exe",
                    SYS32,
                    &who,
                ));
                explorer = Some(Proc::new(
                    h,
                    &r,
                    t + 3 * SEC,
                    "C:\\Windows\\explorer.exe",
                    "C:\\Windows\\Explorer.EXE",
                    SYS32,
                    &who,
                ));
                outlook = Some(Proc::new(
                    h,
                    &r,
                    t + r.range(MIN, 4 * MIN),
                    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
                    "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" ",
                    &home,
                    &who,
                ));
                teams = Some(Proc::new(h, &r, t + r.range(20 * SEC, 2 * MIN), "C:\\Program Files\\WindowsApps\\MSTeams_25031.805.3440.5290_x64__8wekyb3d8bbwe\\ms-teams.exe", "\"C:\\Program Files\\WindowsApps\\MSTeams_25031.805.3440.5290_x64__8wekyb3d8bbwe\\ms-teams.exe\" msteams:system-initiated", &home, &who));
                chrome = Some(Proc::new(
                    h,
                    &r,
                    t + r.range(4 * MIN, 15 * MIN),
                    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                    "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" ",
                    &home,
                    &who,
                ));
                user = Some(who);
            }
        }
        let (w3wp, w3wp_who) = if h.role == Role::WebServer {
            let pool = Who::domain_user(
                h,
                &r,
                boot,
                &w.sp_service,
                &format!("{}-{}", w.domain_sid, 1180),
                0,
                "High",
            );
            let p = Proc::new(h, &r, boot + 95 * SEC, "C:\\Windows\\System32\\inetsrv\\w3wp.exe", "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"SharePoint - 80\" -v \"v4.0\" -l \"webengine4.dll\" -a \\\\.\\pipe\\iisipm5b9f7a0c-3d1e-4f0a-9c1b-2a6e8f1d4c37 -h \"C:\\inetpub\\temp\\apppools\\SharePoint - 80\\SharePoint - 80.config\" -w \"\" -m 0 -t 20 -ta 0", SYS32, &pool);
            (Some(p), Some(pool))
        } else {
            (None, None)
        };
        HostState {
            system,
            netsvc,
            services,
            lsass,
            winlogon,
            svc_sched,
            svc_netsvcs,
            svc_dcom,
            svc_termsvc,
            msmpeng,
            user,
            userinit,
            explorer,
            outlook,
            teams,
            chrome,
            w3wp,
            w3wp_who,
        }
    }
}
