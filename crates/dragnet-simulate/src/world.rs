//! The simulated organisation: hosts, people, addresses, outside services and the
//! adversary's infrastructure. Everything here is drawn from the seed alone.

use crate::rng::Rng;
use crate::time::{DAY, MIN};

pub const NETBIOS: &str = "CORP";
pub const DNS_DOMAIN: &str = "corp.example";
pub const MAIL_DOMAIN: &str = "corp.example";
pub const TENANT: &str = "corpexample.onmicrosoft.com";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Dc,
    FileServer,
    WebServer,
    JumpHost,
    Workstation,
}

#[derive(Clone, Debug)]
pub struct Host {
    /// Short name (`WS-17`), also the directory under `windows/`.
    pub name: String,
    /// `WS-17.corp.example`.
    pub fqdn: String,
    pub ip: String,
    pub role: Role,
    /// The workstation's user (index into `World::users`).
    pub user: Option<usize>,
    /// First group of this host's Sysmon GUIDs.
    pub guid_prefix: String,
    /// Last group of this host's Sysmon process GUIDs (changes per boot).
    pub boot_tail: String,
    /// Sysmon's own PID (winlog.process.pid of Sysmon events).
    pub sysmon_pid: u32,
    /// First record id of each channel.
    pub record_base: u64,
    /// When the primary user logs on on the first day (workstations).
    pub logon_at: i64,
}

#[derive(Clone, Debug)]
pub struct User {
    /// `j.doe`
    pub sam: String,
    pub display: String,
    /// `jane.doe@corp.example`
    pub email: String,
    pub sid: String,
    /// IT staff have a separate privileged account (`adm-jdoe`).
    pub admin: Option<String>,
    pub admin_sid: Option<String>,
    /// Workstation IP of people without a simulated workstation (IT staff laptops).
    pub laptop_ip: Option<String>,
    pub mailbox_guid: String,
    pub user_key: String,
    pub title: String,
}

impl User {
    pub fn upn(&self) -> String {
        format!("{}@{}", self.sam, DNS_DOMAIN)
    }
}

/// An outside service the office talks to.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub name: &'static str,
    pub ip: &'static str,
    /// Subject CN / issuer of its certificate (for the chain fingerprints).
    pub org: &'static str,
}

pub const SITES: &[Site] = &[
    Site {
        name: "www.google.com",
        ip: "142.250.185.68",
        org: "Google",
    },
    Site {
        name: "fonts.gstatic.com",
        ip: "142.250.185.99",
        org: "Google",
    },
    Site {
        name: "www.youtube.com",
        ip: "142.250.185.110",
        org: "Google",
    },
    Site {
        name: "ajax.googleapis.com",
        ip: "142.250.185.74",
        org: "Google",
    },
    Site {
        name: "www.bing.com",
        ip: "13.107.21.200",
        org: "Microsoft",
    },
    Site {
        name: "www.office.com",
        ip: "52.98.207.2",
        org: "Microsoft",
    },
    Site {
        name: "outlook.office365.com",
        ip: "52.97.146.162",
        org: "Microsoft",
    },
    Site {
        name: "teams.microsoft.com",
        ip: "52.113.194.132",
        org: "Microsoft",
    },
    Site {
        name: "corpexample.sharepoint.com",
        ip: "13.107.136.10",
        org: "Microsoft",
    },
    Site {
        name: "www.linkedin.com",
        ip: "13.107.42.14",
        org: "LinkedIn",
    },
    Site {
        name: "github.com",
        ip: "140.82.121.4",
        org: "GitHub",
    },
    Site {
        name: "www.bbc.co.uk",
        ip: "151.101.0.81",
        org: "BBC",
    },
    Site {
        name: "en.wikipedia.org",
        ip: "185.15.59.224",
        org: "Wikimedia",
    },
    Site {
        name: "cdn.jsdelivr.net",
        ip: "151.101.1.229",
        org: "Fastly",
    },
    Site {
        name: "www.reuters.com",
        ip: "151.101.2.217",
        org: "Fastly",
    },
    Site {
        name: "stackoverflow.com",
        ip: "104.18.32.7",
        org: "Cloudflare",
    },
    Site {
        name: "zoom.us",
        ip: "170.114.52.2",
        org: "Zoom",
    },
    Site {
        name: "www.dhl.com",
        ip: "23.56.4.194",
        org: "Akamai",
    },
    Site {
        name: "www.booking.com",
        ip: "18.66.196.38",
        org: "Amazon",
    },
    Site {
        name: "docs.python.org",
        ip: "151.101.36.223",
        org: "Fastly",
    },
];

/// Microsoft cloud endpoints used by Office, Teams and the Graph C2.
pub const GRAPH: Site = Site {
    name: "graph.microsoft.com",
    ip: "20.190.151.70",
    org: "Microsoft",
};
pub const LOGIN: Site = Site {
    name: "login.microsoftonline.com",
    ip: "20.190.159.2",
    org: "Microsoft",
};

/// Software updaters and agents that check in periodically.
#[derive(Clone, Copy, Debug)]
pub struct Updater {
    pub image: &'static str,
    pub site: Site,
    /// Mean seconds between check-ins.
    pub period: i64,
    /// Relative jitter of the period.
    pub jitter: f64,
    /// Plain HTTP (port 80) instead of TLS.
    pub http: Option<(&'static str, &'static str)>,
    pub user_agent: &'static str,
}

pub const UPDATERS: &[Updater] = &[
    Updater {
        image: "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
        site: Site {
            name: "update.googleapis.com",
            ip: "142.250.184.227",
            org: "Google",
        },
        period: 5 * 3600,
        jitter: 0.15,
        http: None,
        user_agent: "Google Update/1.3.36.372;winhttp",
    },
    Updater {
        image:
            "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MsMpEng.exe",
        site: Site {
            name: "wdcp.microsoft.com",
            ip: "20.45.1.107",
            org: "Microsoft",
        },
        period: 15 * 60,
        jitter: 0.10,
        http: None,
        user_agent: "MpCommunication",
    },
    Updater {
        image: "C:\\Windows\\System32\\svchost.exe",
        site: Site {
            name: "settings-win.data.microsoft.com",
            ip: "20.42.73.29",
            org: "Microsoft",
        },
        period: 3600,
        jitter: 0.05,
        http: None,
        user_agent: "MSDW",
    },
    Updater {
        image: "C:\\Windows\\System32\\svchost.exe",
        site: Site {
            name: "www.msftconnecttest.com",
            ip: "13.107.4.52",
            org: "Microsoft",
        },
        period: 2 * 3600,
        jitter: 0.30,
        http: Some(("GET", "/connecttest.txt")),
        user_agent: "Microsoft NCSI",
    },
    Updater {
        image: "C:\\Windows\\System32\\svchost.exe",
        site: Site {
            name: "ctldl.windowsupdate.com",
            ip: "93.184.221.240",
            org: "Edgecast",
        },
        period: 6 * 3600,
        jitter: 0.40,
        http: Some((
            "GET",
            "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab",
        )),
        user_agent: "Microsoft-CryptoAPI/10.0",
    },
    Updater {
        image: "C:\\Program Files (x86)\\Common Files\\Adobe\\ARM\\1.0\\AdobeARM.exe",
        site: Site {
            name: "armmf.adobe.com",
            ip: "23.47.199.104",
            org: "Adobe",
        },
        period: 8 * 3600,
        jitter: 0.20,
        http: None,
        user_agent: "Adobe Acrobat Reader Update Manager",
    },
    Updater {
        image: "C:\\Program Files\\RMM Agent\\AgentMon.exe",
        site: Site {
            name: "agent-eu.rmm-monitor.example",
            ip: "185.199.110.153",
            org: "RMM",
        },
        period: 300,
        jitter: 0.02,
        http: None,
        user_agent: "AgentMon/5.6",
    },
];

/// The adversary's infrastructure for this run.
#[derive(Clone, Debug)]
pub struct Adversary {
    /// Look-alike vendor domain used for downloads, HTTPS beacons and exfiltration.
    pub c2_domain: String,
    pub c2_ip: String,
    /// Second look-alike used for the plain-HTTP loader download.
    pub stage_domain: String,
    pub stage_ip: String,
    /// Where the IIS relay keeps its long-lived session.
    pub relay_ip: String,
    /// The operator's address (M365 drafts read/written by the operator, IIS exploitation).
    pub operator_ip: String,
    /// Phishing sender: look-alike government domain, its mail server, Reply-To freemail.
    pub lure_domain: String,
    pub lure_sender: String,
    pub lure_display: String,
    pub lure_mx: String,
    pub lure_ip: String,
    pub reply_to: String,
    /// Azure AD app id of the FINALDRAFT Graph client.
    pub app_id: String,
}

/// The whole simulated world.
pub struct World {
    pub hosts: Vec<Host>,
    pub users: Vec<User>,
    pub dc: usize,
    pub fs: usize,
    pub web: usize,
    pub jump: Option<usize>,
    pub workstations: Vec<usize>,
    /// IT staff (indices into users), each with an admin account.
    pub admins: Vec<usize>,
    pub domain_sid: String,
    pub egress_ip: String,
    pub backup_ip: String,
    pub backup_name: String,
    pub mx_ip: String,
    pub org_id: String,
    pub sp_service: String,
    pub adv: Adversary,
    pub start: i64,
    pub end: i64,
    pub days: u32,
}

const FIRST: &[&str] = &[
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Irene", "Jonas", "Karin",
    "Luis", "Maria", "Nils", "Olga", "Paul", "Rita", "Samuel", "Tina", "Victor", "Wendy", "Yusuf",
    "Zoe", "Marco", "Lena", "Omar", "Petra", "Raj", "Sofia", "Tomas",
];
const LAST: &[&str] = &[
    "Keller",
    "Novak",
    "Berger",
    "Lindqvist",
    "Moreau",
    "Rossi",
    "Fischer",
    "Okafor",
    "Tanaka",
    "Silva",
    "Horvat",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Meyer",
    "Nguyen",
    "Ortega",
    "Petrov",
    "Quinn",
    "Richter",
    "Schmid",
    "Turner",
    "Vogel",
    "Weber",
    "Young",
    "Zimmer",
    "Haddad",
    "Ivanova",
    "Brandt",
    "Costa",
];
const TITLES: &[&str] = &[
    "Policy Officer",
    "Senior Analyst",
    "Protocol Officer",
    "Finance Officer",
    "Legal Adviser",
    "Desk Officer",
    "Communications Officer",
    "Procurement Officer",
];

pub fn is_internal(ip: &str) -> bool {
    ip.starts_with("10.") || ip.starts_with("192.168.")
}

impl World {
    pub fn build(seed: u64, hosts: usize, start: i64, days: u32) -> World {
        let r = Rng::derive(seed, "world");
        let hosts = hosts.max(4);
        let net2 = r.range(10, 60);
        let server_net = format!("10.{net2}.1");
        let ws_third = r.range(20, 40);
        let ws_net = format!("10.{net2}.{ws_third}");

        let dc_name = r.pick(&["DC01", "DC02", "ADDC01", "DC-HQ1"]).to_string();
        let fs_name = r.pick(&["FS01", "FILE01", "FS02", "SRV-FILES"]).to_string();
        let web_name = r.pick(&["WEB01", "SP01", "INTRA01", "IIS01"]).to_string();
        let jump_name = r.pick(&["JMP01", "ADMIN01", "JUMP01"]).to_string();
        let ws_prefix = *r.pick(&["WS-", "PC-", "LT-"]);

        let domain_sid = format!(
            "S-1-5-21-{}-{}-{}",
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000)
        );

        // People: one per workstation plus two IT staff.
        let n_ws = hosts - 3 - usize::from(hosts >= 6);
        let n_users = n_ws + 2;
        let mut names: Vec<(usize, usize)> = Vec::new();
        while names.len() < n_users {
            let f = r.below(FIRST.len() as u64) as usize;
            let l = r.below(LAST.len() as u64) as usize;
            let fresh = !names.iter().any(|&(a, b)| a == f || b == l);
            if (fresh || names.len() >= 25) && !names.contains(&(f, l)) {
                names.push((f, l));
            }
        }
        let admin_fmt = r.below(3);
        let mut rid = r.range(1104, 1400);
        let mut users = Vec::new();
        for (i, &(f, l)) in names.iter().enumerate() {
            let first = FIRST[f];
            let last = LAST[l];
            let mut sam = format!("{}.{}", first[..1].to_lowercase(), last.to_lowercase());
            if users.iter().any(|u: &User| u.sam == sam) {
                sam = format!("{sam}{i}");
            }
            let is_it = i >= n_ws;
            rid += r.range(1, 40);
            let sid = format!("{domain_sid}-{rid}");
            let (admin, admin_sid) = if is_it {
                rid += r.range(1, 9);
                let base = format!("{}{}", &first[..1].to_lowercase(), last.to_lowercase());
                let a = match admin_fmt {
                    0 => format!("adm-{base}"),
                    1 => format!("{base}.adm"),
                    _ => format!("a-{base}"),
                };
                (Some(a), Some(format!("{domain_sid}-{rid}")))
            } else {
                (None, None)
            };
            users.push(User {
                display: format!("{first} {last}"),
                email: format!(
                    "{}.{}@{}",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    MAIL_DOMAIN
                ),
                sid,
                admin,
                admin_sid,
                laptop_ip: if is_it {
                    Some(format!("{ws_net}.{}", 200 + i - n_ws))
                } else {
                    None
                },
                mailbox_guid: r.guid(),
                user_key: format!("10032{}", r.hex_upper(11)),
                title: if is_it {
                    "IT Systems Administrator".to_string()
                } else {
                    r.pick(TITLES).to_string()
                },
                sam,
            });
        }
        let admins: Vec<usize> = (n_ws..n_users).collect();

        let mut hs = Vec::new();
        let mk = |r: &Rng, name: String, ip: String, role: Role, user: Option<usize>| {
            let prefix = r.hex(8);
            Host {
                fqdn: format!("{name}.{DNS_DOMAIN}"),
                name,
                ip,
                role,
                user,
                guid_prefix: prefix,
                boot_tail: format!("00000000{:02x}00", r.range(1, 0x30)),
                sysmon_pid: r.range(1000, 4000) as u32 * 4,
                record_base: r.range(20_000, 900_000) as u64,
                logon_at: start + r.range(25 * MIN, 80 * MIN),
            }
        };
        let dc = hs.len();
        hs.push(mk(&r, dc_name, format!("{server_net}.10"), Role::Dc, None));
        let fs = hs.len();
        hs.push(mk(
            &r,
            fs_name,
            format!("{server_net}.20"),
            Role::FileServer,
            None,
        ));
        let web = hs.len();
        hs.push(mk(
            &r,
            web_name,
            format!("{server_net}.30"),
            Role::WebServer,
            None,
        ));
        let jump = if hosts >= 6 {
            hs.push(mk(
                &r,
                jump_name,
                format!("{server_net}.40"),
                Role::JumpHost,
                None,
            ));
            Some(hs.len() - 1)
        } else {
            None
        };
        let mut used = Vec::new();
        let mut workstations = Vec::new();
        let (top, width) = if n_ws < 80 {
            (100, 2)
        } else if n_ws < 800 {
            (1000, 3)
        } else {
            (10000, 4)
        };
        for u in 0..n_ws {
            let mut num = r.range(1, top);
            while used.contains(&num) {
                num = r.range(1, top);
            }
            used.push(num);
            let name = format!("{ws_prefix}{num:0width$}");
            let ip = format!(
                "10.{net2}.{}.{}",
                ws_third + 1 + (u / 200) as i64,
                20 + u % 200
            );
            workstations.push(hs.len());
            hs.push(mk(&r, name, ip, Role::Workstation, Some(u)));
        }

        let egress_ip = format!("203.0.113.{}", r.range(10, 250));
        let backup_ip = format!("{server_net}.50");
        let backup_name = r.pick(&["BACKUP01", "NAS01", "VBR01"]).to_string();
        let _forwarder = r.pick(&["1.1.1.1", "8.8.8.8", "9.9.9.9"]);
        let mx_ip = format!("{server_net}.25");

        // The adversary: look-alike vendor domains and addresses from the published IOCs.
        let a = Rng::derive(seed, "adversary");
        let c2: &[(&str, &str)] = &[
            ("poster.checkponit.com", "8.218.153.45"),
            ("support.fortineat.com", "47.83.8.198"),
            ("support.vmphere.com", "45.91.133.254"),
            ("update.hobiter.com", "47.83.8.198"),
        ];
        let i = a.below(c2.len() as u64) as usize;
        let (c2_domain, c2_ip) = c2[i];
        let (stage_domain, stage_ip) =
            c2[(i + 1 + a.below(c2.len() as u64 - 1) as usize) % c2.len()];
        let relay_ip = a.pick(&["8.213.217.182", "47.239.0.216"]).to_string();
        let operator_ip = a
            .pick(&["47.239.0.216", "8.213.217.182", "45.91.133.254"])
            .to_string();
        let lures: &[(&str, &str, &str)] = &[
            (
                "mofa-gov.org",
                "protocol",
                "Protocol Department - Ministry of Foreign Affairs",
            ),
            ("mfa-govt.net", "events", "MFA Events Secretariat"),
            (
                "gov-portal-mfa.com",
                "secretariat",
                "Regional Cooperation Secretariat",
            ),
        ];
        let (ld, ls, ldisp) = *a.pick(lures);
        let first = FIRST[a.below(FIRST.len() as u64) as usize].to_lowercase();
        let reply_to = format!(
            "{}.{}{}@{}",
            first,
            ls,
            a.range(10, 99),
            a.pick(&["gmail.com", "outlook.com", "proton.me"])
        );
        let adv = Adversary {
            c2_domain: c2_domain.to_string(),
            c2_ip: c2_ip.to_string(),
            stage_domain: stage_domain.to_string(),
            stage_ip: stage_ip.to_string(),
            relay_ip,
            operator_ip,
            lure_domain: ld.to_string(),
            lure_sender: format!("{ls}@{ld}"),
            lure_display: ldisp.to_string(),
            lure_mx: format!("mail.{ld}"),
            lure_ip: a
                .pick(&["45.91.133.254", "8.218.153.45", "47.83.8.198"])
                .to_string(),
            reply_to,
            app_id: a.guid(),
        };

        World {
            hosts: hs,
            users,
            dc,
            fs,
            web,
            jump,
            workstations,
            admins,
            domain_sid,
            egress_ip,
            backup_ip,
            backup_name,
            mx_ip,
            org_id: r.guid(),
            sp_service: "svc-spfarm".to_string(),
            adv,
            start,
            end: start + i64::from(days.max(1)) * DAY,
            days: days.max(1),
        }
    }

    pub fn user_of(&self, h: usize) -> Option<&User> {
        self.hosts[h].user.map(|u| &self.users[u])
    }

    /// Hours of the working day: 0 at night, 1 mid-morning (workstations).
    pub fn office_profile(&self, t: i64) -> f64 {
        let weekend = crate::time::is_weekend(t);
        let h = crate::time::hour_of_day(t);
        let base = if (8.0..17.5).contains(&h) {
            if (12.0..13.0).contains(&h) {
                0.55
            } else {
                1.0
            }
        } else if (7.0..8.0).contains(&h) || (17.5..19.0).contains(&h) {
            0.35
        } else {
            0.03
        };
        if weekend {
            base * 0.08
        } else {
            base
        }
    }

    /// Servers: busy by day, some load at night.
    pub fn server_profile(&self, t: i64) -> f64 {
        0.35 + 0.65 * self.office_profile(t)
    }
}
