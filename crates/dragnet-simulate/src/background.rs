//! Background activity of the office: people working, Windows housekeeping, servers serving,
//! admins administering, updaters checking in, backups running, mail arriving.
//!
//! Rates are per hour at full activity and are multiplied by the configured scale (periodic
//! agents check in `scale` times as often; only the nightly backups keep their cadence). Each
//! generator draws from its own stream, so the volume of one never shifts another, nor the
//! attack.

use crate::engine::{next_arrival, Cx, Gen};
use crate::iis;
use crate::m365;
use crate::mail::Message;
use crate::proc::{Proc, Who};
use crate::rng::Rng;
use crate::time::{self, DAY, HOUR, MIN, SEC};
use crate::win::{self, hashes, meta, Logon};
use crate::world::{Role, Site, World, DNS_DOMAIN, GRAPH, LOGIN, SITES, UPDATERS};
use crate::zeek::{self, Http, Tls};

/// Announce an already-built process (Sysmon 1 + 4688).
pub fn announce(cx: &mut Cx, r: &Rng, h: usize, step: u16, p: &Proc, parent: &Proc) {
    win::sysmon1(
        cx,
        h,
        p.started,
        step,
        p,
        parent,
        &meta(&p.image),
        &hashes(&p.image),
    );
    win::sec4688(cx, h, p.started + r.range(0, 3000), step, p, parent);
}

fn ms(r: &Rng, lo: i64, hi: i64) -> i64 {
    r.range(lo * 1000, hi * 1000)
}

/// Build every background generator.
pub fn generators<'w>(w: &'w World, seed: u64, mailbox_user: usize) -> Vec<Box<dyn Gen + 'w>> {
    let mut g: Vec<Box<dyn Gen + 'w>> = Vec::new();
    let rng = |label: &str| Rng::derive(seed, label);
    for (h, host) in w.hosts.iter().enumerate() {
        let n = &host.name;
        g.push(Box::new(SysNoise {
            h,
            r: rng(&format!("sys/{n}")),
        }));
        g.push(Box::new(Tasks {
            h,
            r: rng(&format!("tasks/{n}")),
        }));
        g.push(Box::new(PsNoise {
            h,
            r: rng(&format!("ps/{n}")),
        }));
        for (u, up) in UPDATERS.iter().enumerate() {
            let ws_only = up.image.contains("Google") || up.image.contains("Adobe");
            if ws_only && host.role != Role::Workstation {
                continue;
            }
            g.push(Box::new(Updater {
                h,
                u,
                r: rng(&format!("upd/{n}/{u}")),
                proc: None,
                first: true,
            }));
        }
        if host.role == Role::Workstation {
            g.push(Box::new(Session {
                h,
                r: rng(&format!("session/{n}")),
                day: 0,
            }));
            g.push(Box::new(Apps {
                h,
                r: rng(&format!("apps/{n}")),
            }));
            g.push(Box::new(Browse {
                h,
                r: rng(&format!("browse/{n}")),
            }));
        }
    }
    g.push(Box::new(DcAuth { r: rng("dcauth") }));
    g.push(Box::new(Gpo { r: rng("gpo") }));
    g.push(Box::new(FileShares { r: rng("shares") }));
    g.push(Box::new(WebVisitors { r: rng("web") }));
    g.push(Box::new(Admins {
        r: rng("admins"),
        fixed: Some(Rng::derive(seed, "admins/fixed")),
        jump_session: None,
    }));
    g.push(Box::new(Backup {
        r: rng("backup"),
        day: 0,
    }));
    g.push(Box::new(Mail {
        r: rng("mail"),
        user: mailbox_user,
        n: 0,
    }));
    g.push(Box::new(Audit { r: rng("m365") }));
    g
}

// ---------------------------------------------------------------------------------------
// Workstation user session: first logon, morning unlocks.

struct Session {
    h: usize,
    r: Rng,
    day: i64,
}

impl Gen for Session {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let h = self.h;
        let host = cx.w.hosts[h].clone();
        let r = &mut self.r;
        if self.day == 0 {
            self.day = 1;
            return Some(host.logon_at);
        }
        let who = cx.hs[h].user.clone()?;
        let dc = cx.w.dc;
        let dc_ip = cx.w.hosts[dc].ip.clone();
        let kport = zeek::ephemeral(r);
        win::sec4768(cx, dc, now, 0, &who.name, &who.sid, &host.ip, kport);
        zeek::conn(
            cx, r, now, 0, &host.ip, &dc_ip, 88, "krb", 4_000, 1_450, 1_520,
        );
        win::sec4769(
            cx,
            r,
            dc,
            now + 40_000,
            0,
            &who.name,
            &format!("{}$", host.name),
            &host.ip,
            zeek::ephemeral(r),
        );
        if self.day == 1 {
            self.day = 2;
            let t = now + ms(r, 200, 900);
            win::sec4624(
                cx,
                r,
                h,
                t,
                0,
                &Logon {
                    who: &who,
                    logon_type: 2,
                    workstation: &host.name,
                    ip: "127.0.0.1",
                    port: "0",
                    package: "Negotiate",
                    elevated: false,
                },
            );
            let hs = &cx.hs[h];
            let (winlogon, userinit, explorer) = (
                hs.winlogon.clone(),
                hs.userinit.clone()?,
                hs.explorer.clone()?,
            );
            let apps: Vec<Proc> = [hs.outlook.clone(), hs.teams.clone(), hs.chrome.clone()]
                .into_iter()
                .flatten()
                .collect();
            announce(cx, r, h, 0, &userinit, &winlogon);
            announce(cx, r, h, 0, &explorer, &userinit);
            for p in &apps {
                announce(cx, r, h, 0, p, &explorer);
            }
        } else {
            win::sec4624(
                cx,
                r,
                h,
                now + ms(r, 200, 900),
                0,
                &Logon {
                    who: &who,
                    logon_type: 7,
                    workstation: &host.name,
                    ip: "127.0.0.1",
                    port: "0",
                    package: "Negotiate",
                    elevated: false,
                },
            );
        }
        // Next working morning.
        let mut next = time::day_start(now) + DAY + 7 * HOUR + 30 * MIN + r.range(0, 70 * MIN);
        while time::is_weekend(next) {
            next += DAY;
        }
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// Applications the user starts.

const APPS: &[(&str, &str, u32)] = &[
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n \"{doc}.docx\"", 6),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE\" \"{doc}.xlsx\"", 5),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\POWERPNT.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\POWERPNT.EXE\" \"{doc}.pptx\"", 2),
    ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --single-argument https://{site}/", 3),
    ("C:\\Windows\\System32\\notepad.exe", "\"C:\\Windows\\system32\\NOTEPAD.EXE\" {doc}.txt", 2),
    ("C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\AcroRd32.exe", "\"C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\AcroRd32.exe\" \"{doc}.pdf\"", 3),
    ("C:\\Windows\\System32\\mspaint.exe", "\"C:\\Windows\\system32\\mspaint.exe\" ", 1),
    ("C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe", "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background", 1),
];

const DOCS: &[&str] = &[
    "Quarterly report Q1",
    "Budget 2026 draft",
    "Meeting notes",
    "Travel request",
    "Briefing note",
    "Staff rota March",
    "Procurement plan",
    "Press release draft",
    "Agenda steering group",
    "Invoice 4471",
];

struct Apps {
    h: usize,
    r: Rng,
}

impl Gen for Apps {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 20.0, cx.scale);
        let h = self.h;
        if now < cx.w.hosts[h].logon_at + 5 * MIN || !self.r.chance(cx.w.office_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let hs = &cx.hs[h];
        let (Some(who), Some(explorer), Some(chrome), Some(outlook)) = (
            hs.user.clone(),
            hs.explorer.clone(),
            hs.chrome.clone(),
            hs.outlook.clone(),
        ) else {
            return Some(next);
        };
        let home = format!("C:\\Users\\{}", who.name);
        let doc = format!("{home}\\Documents\\{}", r.pick(DOCS));
        match r.weighted(&[30, 35, 12, 10, 8, 5]) {
            0 => {
                let i = r.weighted(&APPS.iter().map(|a| a.2).collect::<Vec<_>>());
                let (image, cmd, _) = APPS[i];
                let cmd = cmd
                    .replace("{doc}", &doc)
                    .replace("{site}", r.pick(SITES).name);
                let p = win::spawn(cx, r, h, now, 0, &explorer, &who, image, &cmd);
                if cmd.contains(".docx") || cmd.contains(".xlsx") {
                    let t = now + ms(r, 1500, 9000);
                    win::sysmon11(
                        cx,
                        h,
                        t,
                        0,
                        &p,
                        &format!(
                            "{home}\\AppData\\Roaming\\Microsoft\\Office\\Recent\\{}.LNK",
                            doc.rsplit('\\').next().unwrap_or("x")
                        ),
                    );
                    let key = format!("HKU\\{}\\SOFTWARE\\Microsoft\\Office\\16.0\\{}\\Reading Locations\\Document 0\\File Path", who.sid, if cmd.contains(".docx") { "Word" } else { "Excel" });
                    win::sysmon13(cx, h, t + 5000, 0, &p, &key, &doc);
                }
            }
            1 => {
                let kind = *r.pick(&["renderer", "renderer", "utility", "gpu-process"]);
                let cmd = format!("\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type={kind} --lang=en-US --field-trial-handle=1872,i,{},{},262144 --mojo-platform-channel-handle={} /prefetch:{}", r.digits(19), r.digits(19), r.range(2000, 9000), r.range(1, 9));
                let image = chrome.image.clone();
                let mut who_low = who.clone();
                if kind == "renderer" {
                    who_low.integrity = "Low";
                }
                win::spawn(cx, r, h, now, 0, &chrome, &who_low, &image, &cmd);
            }
            2 => {
                let name = *r.pick(&[
                    "report.pdf",
                    "invoice-2231.pdf",
                    "minutes.docx",
                    "dataset.xlsx",
                    "slides.pptx",
                    "setup-notes.txt",
                ]);
                let path = format!("{home}\\Downloads\\{name}");
                win::sysmon11(cx, h, now, 0, &chrome, &path);
                win::sysmon11(
                    cx,
                    h,
                    now + 30_000,
                    0,
                    &chrome,
                    &format!("{path}:Zone.Identifier"),
                );
            }
            3 => {
                let name = *r.pick(&[
                    "Agenda.pdf",
                    "Signed contract.pdf",
                    "Q1 figures.xlsx",
                    "photo.jpg",
                    "Minutes.docx",
                ]);
                let dir = r.hex_upper(8);
                win::sysmon11(cx, h, now, 0, &outlook, &format!("{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{dir}\\{name}"));
            }
            4 => {
                // A lock / unlock cycle.
                let host = cx.w.hosts[h].clone();
                if r.chance(0.08) {
                    win::sec4625(cx, h, now, 0, &who.name, 7, &host.name, "127.0.0.1", "0");
                }
                win::sec4624(
                    cx,
                    r,
                    h,
                    now + ms(r, 2_000, 9_000),
                    0,
                    &Logon {
                        who: &who,
                        logon_type: 7,
                        workstation: &host.name,
                        ip: "127.0.0.1",
                        port: "0",
                        package: "Negotiate",
                        elevated: false,
                    },
                );
            }
            _ => {
                let p = win::spawn(
                    cx,
                    r,
                    h,
                    now,
                    0,
                    &explorer,
                    &who,
                    "C:\\Windows\\System32\\cmd.exe",
                    "\"C:\\Windows\\system32\\cmd.exe\" ",
                );
                let c = *r.pick(&[
                    "ipconfig /all",
                    "ping -n 4 8.8.8.8",
                    "nslookup intranet",
                    "gpresult /r",
                ]);
                let exe = c.split(' ').next().unwrap_or("ipconfig");
                win::spawn(
                    cx,
                    r,
                    h,
                    now + ms(r, 4000, 40000),
                    0,
                    &p,
                    &who,
                    &format!("C:\\Windows\\System32\\{exe}.exe"),
                    c,
                );
            }
        }
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// The user's network traffic: web, Microsoft 365, intranet.

struct Browse {
    h: usize,
    r: Rng,
}

pub fn site_weight(s: &Site) -> u32 {
    match s.org {
        "Microsoft" => 6,
        "Google" => 5,
        _ => 2,
    }
}

impl Gen for Browse {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 100.0, cx.scale);
        let h = self.h;
        if now < cx.w.hosts[h].logon_at + 3 * MIN || !self.r.chance(cx.w.office_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let hs = &cx.hs[h];
        let (Some(chrome), Some(outlook), Some(teams)) =
            (hs.chrome.clone(), hs.outlook.clone(), hs.teams.clone())
        else {
            return Some(next);
        };
        let ip = cx.w.hosts[h].ip.clone();
        let dc_ip = cx.w.hosts[cx.w.dc].ip.clone();
        match r.weighted(&[60, 14, 10, 16]) {
            0 => {
                let weights: Vec<u32> = SITES.iter().map(site_weight).collect();
                let site = SITES[r.weighted(&weights)];
                if r.chance(0.45) {
                    zeek::dns(cx, r, now, 0, &ip, &dc_ip, site.name, "A", &[site.ip], 300);
                    if r.chance(0.5) {
                        win::sysmon22(cx, h, now, 0, &chrome, site.name, &[site.ip]);
                    }
                }
                for i in 0..r.range(1, 4) {
                    let t = now + i * ms(r, 50, 2500) + 20_000;
                    let ob = r.lognormal(2_500.0, 1.0) as u64;
                    let rb = r.lognormal(60_000.0, 1.5) as u64;
                    zeek::https(
                        cx,
                        r,
                        t,
                        0,
                        &ip,
                        &site,
                        Tls::Browser,
                        r.range(200_000, 90 * SEC),
                        ob,
                        rb,
                    );
                    if r.chance(0.15) {
                        let sport = zeek::ephemeral(r);
                        win::sysmon3(cx, h, t, 0, &chrome, &ip, sport, site.ip, "", 443, true);
                    }
                }
            }
            1 => {
                let site = SITES
                    .iter()
                    .find(|s| s.name == "outlook.office365.com")
                    .copied()
                    .unwrap_or(SITES[0]);
                let t = now + 10_000;
                zeek::https(
                    cx,
                    r,
                    t,
                    0,
                    &ip,
                    &site,
                    Tls::Schannel,
                    r.range(SEC, 300 * SEC),
                    r.lognormal(6_000.0, 1.0) as u64,
                    r.lognormal(40_000.0, 1.2) as u64,
                );
                if r.chance(0.3) {
                    let sport = zeek::ephemeral(r);
                    win::sysmon3(cx, h, t, 0, &outlook, &ip, sport, site.ip, "", 443, true);
                }
            }
            2 => {
                let site = if r.chance(0.5) {
                    SITES
                        .iter()
                        .find(|s| s.name == "teams.microsoft.com")
                        .copied()
                        .unwrap_or(SITES[0])
                } else {
                    GRAPH
                };
                let t = now + 10_000;
                zeek::https(
                    cx,
                    r,
                    t,
                    0,
                    &ip,
                    &site,
                    Tls::Browser,
                    r.range(SEC, 600 * SEC),
                    r.lognormal(3_000.0, 1.0) as u64,
                    r.lognormal(20_000.0, 1.2) as u64,
                );
                if r.chance(0.1) {
                    zeek::https(
                        cx,
                        r,
                        t + 1000,
                        0,
                        &ip,
                        &LOGIN,
                        Tls::Browser,
                        400_000,
                        4_200,
                        9_800,
                    );
                }
                if r.chance(0.2) {
                    let sport = zeek::ephemeral(r);
                    win::sysmon3(cx, h, t, 0, &teams, &ip, sport, site.ip, "", 443, true);
                }
            }
            _ => intranet_visit(cx, r, now, h, &chrome),
        }
        Some(next)
    }
}

const SP_PAGES: &[&str] = &[
    "/sites/intranet/SitePages/Home.aspx",
    "/sites/intranet/SitePages/News.aspx",
    "/sites/hr/Shared Documents/Forms/AllItems.aspx",
    "/sites/finance/Lists/Requests/AllItems.aspx",
    "/_layouts/15/start.aspx",
    "/_layouts/15/images/spcommon.png",
    "/_layouts/15/init.js",
    "/_vti_bin/client.svc/ProcessQuery",
    "/sites/intranet/Documents/Policies/Travel policy.pdf",
];

pub const UA_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36";

/// A user opening intranet pages on the SharePoint server (port 80 inside).
fn intranet_visit(cx: &mut Cx, r: &Rng, now: i64, h: usize, chrome: &Proc) {
    let ip = cx.w.hosts[h].ip.clone();
    let web = cx.w.web;
    let web_ip = cx.w.hosts[web].ip.clone();
    let web_fqdn = cx.w.hosts[web].fqdn.clone();
    let dc_ip = cx.w.hosts[cx.w.dc].ip.clone();
    let Some(user) = cx.w.user_of(h).map(|u| u.sam.clone()) else {
        return;
    };
    if r.chance(0.3) {
        zeek::dns(
            cx,
            r,
            now,
            0,
            &ip,
            &dc_ip,
            &format!("intranet.{DNS_DOMAIN}"),
            "A",
            &[&web_ip],
            1200,
        );
    }
    let mut t = now + 15_000;
    let n = r.range(1, 5);
    for i in 0..n {
        let page = if i == 0 {
            *r.pick(&SP_PAGES[..5])
        } else {
            *r.pick(SP_PAGES)
        };
        let (method, query) = if page.ends_with("ProcessQuery") {
            ("POST", "")
        } else {
            ("GET", "")
        };
        let taken = r.range(15, 900) as u32;
        if i == 0 && r.chance(0.4) {
            iis::request(
                cx,
                t,
                0,
                &iis::Req {
                    method,
                    stem: page,
                    query,
                    port: 80,
                    user: "",
                    client: &ip,
                    user_agent: UA_CHROME,
                    referer: "",
                    status: 401,
                    substatus: 2,
                    win32: 5,
                    taken_ms: 1,
                },
            );
            t += 3_000;
            iis::request(
                cx,
                t,
                0,
                &iis::Req {
                    method,
                    stem: page,
                    query,
                    port: 80,
                    user: "",
                    client: &ip,
                    user_agent: UA_CHROME,
                    referer: "",
                    status: 401,
                    substatus: 1,
                    win32: 2_148_074_254,
                    taken_ms: 0,
                },
            );
            t += 3_000;
        }
        let user_field = format!("0#.w|{}\\{}", crate::world::NETBIOS.to_lowercase(), user);
        let status = if r.chance(0.05) { 304 } else { 200 };
        iis::request(
            cx,
            t,
            0,
            &iis::Req {
                method,
                stem: page,
                query,
                port: 80,
                user: &user_field,
                client: &ip,
                user_agent: UA_CHROME,
                referer: &format!(
                    "http://intranet.{DNS_DOMAIN}/sites/intranet/SitePages/Home.aspx"
                ),
                status,
                substatus: 0,
                win32: 0,
                taken_ms: taken,
            },
        );
        let mime = if page.ends_with(".png") {
            "image/png"
        } else if page.ends_with(".js") {
            "application/javascript"
        } else if page.ends_with(".pdf") {
            "application/pdf"
        } else {
            "text/html"
        };
        zeek::http(
            cx,
            r,
            t,
            0,
            &Http {
                client: &ip,
                server: &web_ip,
                port: 80,
                method,
                host: &format!("intranet.{DNS_DOMAIN}"),
                uri: &page.replace(' ', "%20"),
                referrer: "",
                user_agent: UA_CHROME,
                req_len: if method == "POST" {
                    r.range(300, 3000) as u64
                } else {
                    0
                },
                resp_len: r.lognormal(18_000.0, 1.2) as u64,
                status,
                mime,
                filename: "",
                duration: i64::from(taken) * 1000,
            },
        );
        t += ms(r, 200, 8000);
    }
    if r.chance(0.1) {
        let sport = zeek::ephemeral(r);
        win::sysmon3(
            cx,
            h,
            now + 15_000,
            0,
            chrome,
            &ip,
            sport,
            &web_ip,
            &web_fqdn,
            80,
            true,
        );
    }
    // The web server authenticates the user.
    if r.chance(0.5) {
        let who = Who::domain_user(
            &cx.w.hosts[web],
            r,
            now,
            &user,
            &cx.w.users[cx.w.hosts[h].user.unwrap_or(0)].sid,
            0,
            "Medium",
        );
        let host_name = cx.w.hosts[h].name.clone();
        win::sec4624(
            cx,
            r,
            web,
            now + 16_000,
            0,
            &Logon {
                who: &who,
                logon_type: 3,
                workstation: &host_name,
                ip: &ip,
                port: &zeek::ephemeral(r).to_string(),
                package: "Kerberos",
                elevated: false,
            },
        );
    }
}

// ---------------------------------------------------------------------------------------
// Windows housekeeping on every host.

struct SysNoise {
    h: usize,
    r: Rng,
}

const REG_KEYS: &[&str] = &[
    "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\SignaturesLastUpdated",
    "HKLM\\System\\CurrentControlSet\\Services\\W32Time\\Config\\LastKnownGoodTime",
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\LastOnlineScanTimeForAppCategory",
    "HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{9b1c7a32-8a5c-4d3e-9f21-6c0e5b7d1a44}\\DhcpIPAddress",
    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan\\Index",
];

const SYS_SPAWNS: &[(&str, &str, u8)] = &[
    // image, command line, parent: 0 sched 1 dcom 2 services 3 netsvcs 4 msmpeng
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly", 0),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe SYSTEM", 0),
    ("C:\\Windows\\System32\\backgroundTaskHost.exe", "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountBackgroundTask", 1),
    ("C:\\Windows\\System32\\RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", 1),
    ("C:\\Windows\\System32\\dllhost.exe", "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}", 1),
    ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding", 1),
    ("C:\\Windows\\System32\\sppsvc.exe", "C:\\Windows\\system32\\sppsvc.exe", 2),
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s BITS", 2),
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k wsappx -p -s ClipSVC", 2),
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\svchost.exe -k LocalSystemNetworkRestricted -p -s wuauserv", 2),
    ("C:\\Windows\\System32\\SearchProtocolHost.exe", "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe12_ Global\\UsGthrCtrlFltPipeMssGthrPipe12 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" \"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\"", 3),
    ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MpCmdRun.exe", "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MpCmdRun.exe\" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate", 4),
    ("C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", 4),
];

const SERVICES: &[(&str, &str)] = &[
    ("Windows Update", "wuauserv"),
    ("Background Intelligent Transfer Service", "BITS"),
    (
        "WinHTTP Web Proxy Auto-Discovery Service",
        "WinHttpAutoProxySvc",
    ),
    ("Windows Modules Installer", "TrustedInstaller"),
    ("Microsoft Store Install Service", "InstallService"),
    ("Software Protection", "sppsvc"),
    ("Delivery Optimization", "DoSvc"),
];

impl Gen for SysNoise {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let h = self.h;
        let role = cx.w.hosts[h].role;
        let rate = match role {
            Role::Workstation => 105.0,
            Role::Dc => 100.0,
            _ => 80.0,
        };
        let next = next_arrival(&self.r, now, rate, cx.scale);
        let profile = if role == Role::Workstation {
            0.3 + 0.7 * cx.w.office_profile(now)
        } else {
            cx.w.server_profile(now)
        };
        if !self.r.chance(profile) {
            return Some(next);
        }
        let r = &mut self.r;
        let hs = &cx.hs[h];
        let (sched, dcom, services, netsvcs, msmpeng, lsass, system) = (
            hs.svc_sched.clone(),
            hs.svc_dcom.clone(),
            hs.services.clone(),
            hs.svc_netsvcs.clone(),
            hs.msmpeng.clone(),
            hs.lsass.clone(),
            hs.system.clone(),
        );
        let user = hs.user.clone();
        match r.weighted(&[30, 22, 16, 8, 12, 6, 6]) {
            0 => {
                let (image, cmd, pk) = *r.pick(SYS_SPAWNS);
                let parent = match pk {
                    0 => &sched,
                    1 => &dcom,
                    2 => &services,
                    3 => &netsvcs,
                    _ => &msmpeng,
                };
                let who = match (
                    &user,
                    image.contains("RuntimeBroker") || image.contains("backgroundTaskHost"),
                ) {
                    (Some(u), true) => u.clone(),
                    _ => {
                        if image.contains("WmiPrvSE") {
                            cx.hs[h].netsvc.clone()
                        } else {
                            system.clone()
                        }
                    }
                };
                win::spawn(cx, r, h, now, 0, parent, &who, image, cmd);
            }
            1 => {
                let key = *r.pick(REG_KEYS);
                let p = if key.contains("Defender") {
                    &msmpeng
                } else {
                    &netsvcs
                };
                let details = if key.ends_with("Index") {
                    "DWORD (0x00000003)".to_string()
                } else {
                    format!(
                        "QWORD (0x{:08x}-0x{:08x})",
                        r.below(0x01dc_ffff),
                        r.below(u64::from(u32::MAX))
                    )
                };
                win::sysmon13(cx, h, now, 0, p, key, &details);
                if let Some(u) = &user {
                    if r.chance(0.5) {
                        let key = format!("HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{}\\\\Device\\HarddiskVolume3\\Program Files\\Google\\Chrome\\Application\\chrome.exe", u.sid);
                        win::sysmon13(cx, h, now + 10_000, 0, &netsvcs, &key, "Binary Data");
                    }
                }
            }
            2 => {
                let (p, path) = match r.below(3) {
                    0 => (&netsvcs, format!("C:\\Windows\\Prefetch\\{}-{}.pf", r.pick(&["SVCHOST.EXE", "TASKHOSTW.EXE", "DLLHOST.EXE", "CONHOST.EXE", "RUNTIMEBROKER.EXE"]), r.hex_upper(8))),
                    1 => (&msmpeng, format!("C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\CacheManager\\{}-0.bin", r.hex_upper(8))),
                    _ => (&services, format!("C:\\Windows\\Temp\\{}.tmp", r.hex_upper(6))),
                };
                win::sysmon11(cx, h, now, 0, p, &path);
            }
            3 => {
                let trace = win::call_trace(r, &["C:\\Windows\\System32\\lsasrv.dll"]);
                let access = *r.pick(&["0x1000", "0x1400", "0x1000"]);
                let src = if r.chance(0.5) { &msmpeng } else { &netsvcs };
                win::sysmon10(cx, r, h, now, 0, src, &lsass, access, &trace);
            }
            4 => {
                let svc = cx.hs[h].system.clone();
                let host = cx.w.hosts[h].clone();
                let _ = host;
                win::sec4624(
                    cx,
                    r,
                    h,
                    now,
                    0,
                    &Logon {
                        who: &svc,
                        logon_type: 5,
                        workstation: "-",
                        ip: "-",
                        port: "-",
                        package: "Negotiate",
                        elevated: true,
                    },
                );
                win::sec4672(cx, h, now + 1000, 0, &svc);
            }
            5 => {
                let (d, s) = *r.pick(SERVICES);
                win::sys7036(cx, h, now, 0, d, "running", s);
                win::sys7036(cx, h, now + r.range(30 * SEC, 10 * MIN), 0, d, "stopped", s);
            }
            _ => {
                let pipe = format!(
                    "\\{}",
                    r.pick(&[
                        "Winsock2\\CatalogChangeListener-2d4-0",
                        "LOCAL\\mojo.7024.11820.12345679",
                        "PSHost.133851234567.4412.DefaultAppDomain.powershell",
                        "MsFteWds",
                        "Ctx_WinStation_API_service"
                    ])
                );
                win::sysmon17(cx, h, now, 0, &netsvcs, &pipe);
            }
        }
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// Scheduled maintenance.

struct Tasks {
    h: usize,
    r: Rng,
}

impl Gen for Tasks {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 2.0, cx.scale);
        let h = self.h;
        let r = &mut self.r;
        let sched = cx.hs[h].svc_sched.clone();
        let system = cx.hs[h].system.clone();
        match r.weighted(&[30, 25, 25, 10, 10]) {
            0 => {
                win::spawn(cx, r, h, now, 0, &sched, &system, "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe", "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /ua /installsource scheduler");
            }
            1 => {
                win::spawn(cx, r, h, now, 0, &sched, &system, "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MpCmdRun.exe", "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.25010.11-0\\MpCmdRun.exe\" -IdleTask -TaskName WdCacheMaintenance");
            }
            2 => {
                win::spawn(
                    cx,
                    r,
                    h,
                    now,
                    0,
                    &sched,
                    &system,
                    "C:\\Windows\\System32\\defrag.exe",
                    "C:\\Windows\\system32\\defrag.exe -c -h -o -$",
                );
            }
            3 => {
                let guid = r.guid().to_uppercase();
                let task = format!("\\GoogleUpdateTaskMachineUA{{{guid}}}");
                let xml = task_xml(
                    &task,
                    "Google LLC",
                    "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
                    "/ua /installsource scheduler",
                    "PT1H",
                    "S-1-5-18",
                );
                let p = win::spawn(
                    cx,
                    r,
                    h,
                    now,
                    0,
                    &sched,
                    &system,
                    "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
                    "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /svc",
                );
                let _ = p;
                win::sec4698(cx, h, now + 2 * SEC, 0, &system, &task, &xml);
            }
            _ => {
                let p = win::spawn(
                    cx,
                    r,
                    h,
                    now,
                    0,
                    &sched,
                    &system,
                    "C:\\Windows\\System32\\gpupdate.exe",
                    "gpupdate.exe /target:computer",
                );
                let _ = p;
            }
        }
        Some(next)
    }
}

/// A Task Scheduler registration as Security 4698 carries it.
pub fn task_xml(
    uri: &str,
    author: &str,
    command: &str,
    args: &str,
    interval: &str,
    user: &str,
) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n  <RegistrationInfo>\r\n    <Author>{author}</Author>\r\n    <URI>{uri}</URI>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <Repetition>\r\n        <Interval>{interval}</Interval>\r\n        <StopAtDurationEnd>false</StopAtDurationEnd>\r\n      </Repetition>\r\n      <StartBoundary>2026-03-01T00:00:00</StartBoundary>\r\n      <Enabled>true</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Principals>\r\n    <Principal id=\"Author\">\r\n      <UserId>{user}</UserId>\r\n      <RunLevel>HighestAvailable</RunLevel>\r\n    </Principal>\r\n  </Principals>\r\n  <Settings>\r\n    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\r\n    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\r\n    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\r\n    <ExecutionTimeLimit>PT72H</ExecutionTimeLimit>\r\n    <Enabled>true</Enabled>\r\n  </Settings>\r\n  <Actions Context=\"Author\">\r\n    <Exec>\r\n      <Command>{command}</Command>\r\n      <Arguments>{args}</Arguments>\r\n    </Exec>\r\n  </Actions>\r\n</Task>"
    )
}

// ---------------------------------------------------------------------------------------
// Benign PowerShell.

struct PsNoise {
    h: usize,
    r: Rng,
}

const PS_SCRIPTS: &[&str] = &[
    "$ErrorActionPreference = 'SilentlyContinue'\r\n$os = Get-CimInstance -ClassName Win32_OperatingSystem\r\n$bl = Get-BitLockerVolume -MountPoint $env:SystemDrive\r\n[pscustomobject]@{ Build = $os.BuildNumber; Encrypted = $bl.ProtectionStatus } | ConvertTo-Json -Compress",
    "Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' | Select-Object DisplayName, DisplayVersion, Publisher | ConvertTo-Json -Compress",
    "$svc = Get-Service -Name 'WinDefend','Sysmon64','wuauserv'\r\n$svc | Where-Object { $_.Status -ne 'Running' } | ForEach-Object { Write-Output \"$($_.Name) is $($_.Status)\" }",
    "prompt",
    "Import-Module -Name 'C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\Detect-Compliance.psm1'\r\nTest-DeviceCompliance -Verbose:$false",
    "Get-WinEvent -LogName 'Microsoft-Windows-Sysmon/Operational' -MaxEvents 1 | Select-Object TimeCreated",
];

const PS_ADMIN: &[&str] = &[
    "Get-ADUser -Filter {Enabled -eq $true -and LastLogonDate -lt $cutoff} -Properties LastLogonDate | Select-Object SamAccountName, LastLogonDate",
    "Get-ADComputer -Filter * -Properties OperatingSystem | Group-Object OperatingSystem | Select-Object Count, Name",
    "Invoke-Command -ComputerName $servers -ScriptBlock { Get-HotFix | Sort-Object InstalledOn -Descending | Select-Object -First 3 }",
    "Get-ADGroupMember -Identity 'Helpdesk' | Select-Object Name",
];

impl Gen for PsNoise {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 1.0, cx.scale);
        let h = self.h;
        let r = &mut self.r;
        let role = cx.w.hosts[h].role;
        let sched = cx.hs[h].svc_sched.clone();
        let system = cx.hs[h].system.clone();
        let admin_ctx = role == Role::JumpHost && cx.w.office_profile(now) > 0.5;
        let (text, who) = if admin_ctx {
            let a = &cx.w.users[cx.w.admins[r.below(cx.w.admins.len() as u64) as usize]];
            let who = Who::domain_user(
                &cx.w.hosts[h],
                r,
                now,
                a.admin.as_deref().unwrap_or(&a.sam),
                a.admin_sid.as_deref().unwrap_or(&a.sid),
                2,
                "High",
            );
            (*r.pick(PS_ADMIN), who)
        } else {
            (*r.pick(PS_SCRIPTS), system)
        };
        let cmd = if admin_ctx {
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" ".to_string()
        } else {
            format!("\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -ExecutionPolicy Bypass -File \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\{}_{}.ps1\"", r.guid(), r.guid())
        };
        let p = win::spawn(
            cx,
            r,
            h,
            now,
            0,
            &sched,
            &who,
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            &cmd,
        );
        let path = if admin_ctx {
            String::new()
        } else {
            cmd.rsplit('"').nth(1).unwrap_or("").to_string()
        };
        win::ps4104(cx, r, h, now + ms(r, 300, 2000), 0, &p, text, &path);
        if r.chance(0.4) {
            win::ps4104(cx, r, h, now + ms(r, 2000, 4000), 0, &p, "prompt", "");
        }
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// Updaters and agents: periodic check-ins with their own cadence (not scaled).

struct Updater {
    h: usize,
    u: usize,
    r: Rng,
    proc: Option<Proc>,
    first: bool,
}

impl Gen for Updater {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let up = UPDATERS[self.u];
        // The cadence is the agent's own; the scale multiplies it like any other volume.
        let period = ((up.period * SEC) as f64 / cx.scale).max(SEC as f64) as i64;
        let r = &mut self.r;
        let jit = |r: &Rng| (period as f64 * (1.0 + up.jitter * (2.0 * r.f64() - 1.0))) as i64;
        if self.first {
            self.first = false;
            return Some(now + r.range(0, period));
        }
        let h = self.h;
        if self.proc.is_none() {
            let who = cx.hs[h].system.clone();
            let mut p = Proc::new(
                &cx.w.hosts[h],
                r,
                now,
                up.image,
                &format!("\"{}\"", up.image),
                "C:\\Windows\\system32\\",
                &who,
            );
            if up.image.contains("MsMpEng") {
                p = cx.hs[h].msmpeng.clone();
            }
            self.proc = Some(p);
        }
        let p = self.proc.clone()?;
        let ip = cx.w.hosts[h].ip.clone();
        let dc_ip = cx.w.hosts[cx.w.dc].ip.clone();
        if r.chance(0.35) {
            zeek::dns(
                cx,
                r,
                now,
                0,
                &ip,
                &dc_ip,
                up.site.name,
                "A",
                &[up.site.ip],
                300,
            );
        }
        let t = now + 20_000;
        match up.http {
            Some((method, uri)) => {
                zeek::http(
                    cx,
                    r,
                    t,
                    0,
                    &Http {
                        client: &ip,
                        server: up.site.ip,
                        port: 80,
                        method,
                        host: up.site.name,
                        uri,
                        referrer: "",
                        user_agent: up.user_agent,
                        req_len: 0,
                        resp_len: if uri.ends_with(".txt") {
                            22
                        } else {
                            r.range(6_000, 90_000) as u64
                        },
                        status: 200,
                        mime: if uri.ends_with(".txt") {
                            "text/plain"
                        } else {
                            "application/vnd.ms-cab-compressed"
                        },
                        filename: "",
                        duration: r.range(20_000, 400_000),
                    },
                );
            }
            None => {
                let tls = if up.image.contains("Google") {
                    Tls::Browser
                } else {
                    Tls::Schannel
                };
                zeek::https(
                    cx,
                    r,
                    t,
                    0,
                    &ip,
                    &up.site,
                    tls,
                    r.range(150_000, 3 * SEC),
                    r.range(900, 4000) as u64,
                    r.range(2000, 12000) as u64,
                );
            }
        }
        if r.chance(0.3) {
            let sport = zeek::ephemeral(r);
            let port = if up.http.is_some() { 80 } else { 443 };
            win::sysmon3(cx, h, t, 0, &p, &ip, sport, up.site.ip, "", port, true);
        }
        Some(now + jit(r))
    }
}

// ---------------------------------------------------------------------------------------
// Domain controller: Kerberos and logons from every machine and user.

struct DcAuth {
    r: Rng,
}

impl Gen for DcAuth {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let n = cx.w.hosts.len() as f64;
        let next = next_arrival(&self.r, now, 32.0 * n, cx.scale);
        if !self.r.chance(cx.w.server_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let w = cx.w;
        let dc = w.dc;
        let c = r.below(w.hosts.len() as u64) as usize;
        if c == dc {
            return Some(next);
        }
        let client = w.hosts[c].clone();
        // Who asks: the machine account or its user.
        let (name, sid) = match (client.user.map(|u| &w.users[u]), r.chance(0.5)) {
            (Some(u), true) if w.office_profile(now) > 0.2 => (u.sam.clone(), u.sid.clone()),
            _ => (
                format!("{}$", client.name),
                format!("{}-{}", w.domain_sid, 1000 + c),
            ),
        };
        let targets = [w.fs, w.web, dc];
        let tgt = targets[r.below(3) as usize];
        let svc = match tgt {
            x if x == w.fs => format!("{}$", w.hosts[w.fs].name),
            x if x == w.web => "svc-spfarm".to_string(),
            _ => format!("{}$", w.hosts[dc].name),
        };
        let dc_ip = w.hosts[dc].ip.clone();
        if r.chance(0.15) {
            win::sec4768(cx, dc, now, 0, &name, &sid, &client.ip, zeek::ephemeral(r));
        }
        win::sec4769(
            cx,
            r,
            dc,
            now + 2_000,
            0,
            &name,
            &svc,
            &client.ip,
            zeek::ephemeral(r),
        );
        zeek::conn(
            cx,
            r,
            now,
            0,
            &client.ip,
            &dc_ip,
            88,
            "krb",
            r.range(2_000, 9_000),
            r.range(1_300, 1_700) as u64,
            r.range(1_400, 1_800) as u64,
        );
        if r.chance(0.5) {
            let who = Who::domain_user(&w.hosts[dc], r, now, &name, &sid, 0, "Medium");
            win::sec4624(
                cx,
                r,
                dc,
                now + 5_000,
                0,
                &Logon {
                    who: &who,
                    logon_type: 3,
                    workstation: "-",
                    ip: &client.ip,
                    port: &zeek::ephemeral(r).to_string(),
                    package: "Kerberos",
                    elevated: name.ends_with('$'),
                },
            );
            zeek::conn(
                cx,
                r,
                now + 4_000,
                0,
                &client.ip,
                &dc_ip,
                389,
                "ldap",
                r.range(10_000, 900_000),
                r.range(600, 9_000) as u64,
                r.range(1_000, 60_000) as u64,
            );
        }
        Some(next)
    }
}

/// Group Policy refresh: every machine reads SYSVOL every ~90 minutes (not scaled).
struct Gpo {
    r: Rng,
}

impl Gen for Gpo {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let w = cx.w;
        let n = w.hosts.len() as i64;
        let gap = ((90 * MIN / n) as f64 / cx.scale).max(1000.0) as i64;
        let next = now + gap + self.r.range(-gap / 4, gap / 4);
        if now == w.start {
            return Some(now + self.r.range(0, 10 * MIN));
        }
        let r = &mut self.r;
        let dc = w.dc;
        let c = r.below(w.hosts.len() as u64) as usize;
        if c == dc {
            return Some(next);
        }
        let client = w.hosts[c].clone();
        let dc_ip = w.hosts[dc].ip.clone();
        let who = Who::domain_user(
            &w.hosts[dc],
            r,
            now,
            &format!("{}$", client.name),
            &format!("{}-{}", w.domain_sid, 1000 + c),
            0,
            "System",
        );
        let port = zeek::ephemeral(r).to_string();
        win::sec4624(
            cx,
            r,
            dc,
            now,
            0,
            &Logon {
                who: &who,
                logon_type: 3,
                workstation: "-",
                ip: &client.ip,
                port: &port,
                package: "Kerberos",
                elevated: true,
            },
        );
        win::sec5140(
            cx,
            dc,
            now + 3_000,
            0,
            &who,
            &client.ip,
            &port,
            "\\\\*\\SYSVOL",
            "\\??\\C:\\Windows\\SYSVOL\\sysvol",
        );
        let pol =
            format!("{DNS_DOMAIN}\\Policies\\{{31B2F340-016D-11D2-945F-00C04FB984F9}}\\gpt.ini");
        win::sec5145(
            cx,
            dc,
            now + 6_000,
            0,
            &who,
            &client.ip,
            &port,
            "\\\\*\\SYSVOL",
            "\\??\\C:\\Windows\\SYSVOL\\sysvol",
            &pol,
            false,
        );
        zeek::conn(
            cx,
            r,
            now,
            0,
            &client.ip,
            &dc_ip,
            445,
            "smb,krb,gssapi",
            r.range(SEC, 4 * SEC),
            r.range(4_000, 12_000) as u64,
            r.range(6_000, 30_000) as u64,
        );
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// File server: people opening documents on the shares.

struct FileShares {
    r: Rng,
}

const SHARE_FILES: &[&str] = &[
    "Finance\\Budget 2026\\Budget_v7.xlsx",
    "Finance\\Invoices\\2026-02\\INV-44817.pdf",
    "HR\\Policies\\Leave policy 2026.docx",
    "Projects\\Regional Forum\\Agenda draft.docx",
    "Projects\\Regional Forum\\Participants.xlsx",
    "Common\\Templates\\Letterhead.dotx",
    "Common\\Scans\\SCAN_0312.pdf",
    "Directorate\\Briefings\\Briefing note - March.docx",
];

impl Gen for FileShares {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let w = cx.w;
        let n = w.workstations.len().max(1) as f64;
        let next = next_arrival(&self.r, now, 42.0 * n, cx.scale);
        if !self.r.chance(w.office_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let fs = w.fs;
        let c = *r.pick(&w.workstations);
        let Some(u) = w.hosts[c].user.map(|u| &w.users[u]) else {
            return Some(next);
        };
        if now < w.hosts[c].logon_at {
            return Some(next);
        }
        let client_ip = w.hosts[c].ip.clone();
        let fs_ip = w.hosts[fs].ip.clone();
        let who = Who::domain_user(&w.hosts[fs], r, now, &u.sam, &u.sid, 0, "Medium");
        let port = zeek::ephemeral(r).to_string();
        if r.chance(0.2) {
            win::sec4624(
                cx,
                r,
                fs,
                now,
                0,
                &Logon {
                    who: &who,
                    logon_type: 3,
                    workstation: "-",
                    ip: &client_ip,
                    port: &port,
                    package: "Kerberos",
                    elevated: false,
                },
            );
            win::sec5140(
                cx,
                fs,
                now + 2_000,
                0,
                &who,
                &client_ip,
                &port,
                "\\\\*\\Shares",
                "\\??\\D:\\Shares",
            );
        }
        for i in 0..r.range(1, 5) {
            let f = *r.pick(SHARE_FILES);
            win::sec5145(
                cx,
                fs,
                now + 4_000 + i * 900_000,
                0,
                &who,
                &client_ip,
                &port,
                "\\\\*\\Shares",
                "\\??\\D:\\Shares",
                f,
                r.chance(0.15),
            );
        }
        zeek::conn(
            cx,
            r,
            now,
            0,
            &client_ip,
            &fs_ip,
            445,
            "smb,krb,gssapi",
            r.range(2 * SEC, 20 * MIN),
            r.lognormal(40_000.0, 1.3) as u64,
            r.lognormal(900_000.0, 1.5) as u64,
        );
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// The web server's visitors from outside: partners, crawlers, scanners.

struct WebVisitors {
    r: Rng,
}

const BOT_UAS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 Edg/132.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.31.0",
];

const PROBES: &[&str] = &[
    "/.env",
    "/wp-login.php",
    "/.git/config",
    "/owa/auth/logon.aspx",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/remote/login",
];

impl Gen for WebVisitors {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 60.0, cx.scale);
        if !self.r.chance(cx.w.server_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let w = cx.w;
        let web_ip = w.hosts[w.web].ip.clone();
        let client = format!(
            "{}.{}.{}.{}",
            r.pick(&[31, 51, 62, 77, 85, 91, 102, 145, 176, 185, 193, 212]),
            r.range(1, 254),
            r.range(1, 254),
            r.range(1, 254)
        );
        let i = r.weighted(&[20, 15, 25, 20, 12, 8]);
        let ua = BOT_UAS[i];
        let scanner = i >= 4;
        let n = if scanner {
            r.range(2, 6)
        } else {
            r.range(1, 5)
        };
        let mut t = now;
        for _ in 0..n {
            let (stem, status, sub) = if scanner {
                (*r.pick(PROBES), 404u16, 0u16)
            } else {
                let p = *r.pick(&[
                    "/",
                    "/sites/public/SitePages/Home.aspx",
                    "/sites/public/SitePages/Contact.aspx",
                    "/robots.txt",
                    "/_layouts/15/images/favicon.ico",
                    "/sites/public/News/Pages/default.aspx",
                ]);
                (p, if p == "/" { 302 } else { 200 }, 0)
            };
            iis::request(
                cx,
                t,
                0,
                &iis::Req {
                    method: "GET",
                    stem,
                    query: "",
                    port: 443,
                    user: "",
                    client: &client,
                    user_agent: ua,
                    referer: "",
                    status,
                    substatus: sub,
                    win32: 0,
                    taken_ms: r.range(3, 400) as u32,
                },
            );
            t += ms(r, 100, 4000);
        }
        zeek::https_to(
            cx,
            r,
            now,
            0,
            &client,
            &web_ip,
            &format!("www.{DNS_DOMAIN}"),
            443,
            if scanner { Tls::Schannel } else { Tls::Browser },
            t - now + 300_000,
            r.range(400, 3_000) as u64 * n as u64,
            r.range(2_000, 60_000) as u64 * n as u64,
        );
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// IT administration: RDP to the jump host, then RDP / PsExec / WinRM to servers,
// helpdesk sessions on workstations.

struct Admins {
    r: Rng,
    /// Sessions that happen at the same time whatever the scale (day one).
    fixed: Option<Rng>,
    jump_session: Option<i64>,
}

impl Admins {
    /// The admin's source address for remote work: the jump host, or their laptop.
    fn source(w: &World, a: usize) -> (String, String) {
        match w.jump {
            Some(j) => (w.hosts[j].ip.clone(), w.hosts[j].name.clone()),
            None => (
                w.users[a].laptop_ip.clone().unwrap_or_default(),
                format!("LT-{}", w.users[a].sam.to_uppercase().replace('.', "")),
            ),
        }
    }
}

/// An admin's RDP session to `target`.
pub fn rdp_session(
    cx: &mut Cx,
    r: &Rng,
    now: i64,
    step: u16,
    target: usize,
    who: &Who,
    src_ip: &str,
    src_name: &str,
    reconnect: bool,
) {
    let w = cx.w;
    let tip = w.hosts[target].ip.clone();
    let dur = r.range(5 * MIN, 90 * MIN);
    zeek::conn(
        cx,
        r,
        now,
        step,
        src_ip,
        &tip,
        3389,
        "ssl",
        dur,
        r.lognormal(2_000_000.0, 0.8) as u64,
        r.lognormal(25_000_000.0, 0.8) as u64,
    );
    let port = zeek::ephemeral(r).to_string();
    let t = now + ms(r, 800, 3000);
    win::sec4624(
        cx,
        r,
        target,
        t,
        step,
        &Logon {
            who,
            logon_type: 10,
            workstation: src_name,
            ip: src_ip,
            port: &port,
            package: "Negotiate",
            elevated: true,
        },
    );
    win::sec4672(cx, target, t + 1, step, who);
    if reconnect {
        win::sec4778(
            cx,
            target,
            t + 2_000,
            step,
            who,
            &format!("RDP-Tcp#{}", r.range(1, 30)),
            src_name,
            src_ip,
        );
    }
    let hs = &cx.hs[target];
    let (winlogon, system) = (hs.winlogon.clone(), hs.system.clone());
    let _ = system;
    let userinit = win::spawn(
        cx,
        r,
        target,
        t + 3_000,
        step,
        &winlogon,
        who,
        "C:\\Windows\\System32\\userinit.exe",
        "C:\\Windows\\system32\\userinit.exe",
    );
    win::spawn(
        cx,
        r,
        target,
        t + 3_500,
        step,
        &userinit,
        who,
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\Explorer.EXE",
    );
    let svchost = cx.hs[target].svc_termsvc.clone();
    win::spawn(
        cx,
        r,
        target,
        t + 5_000,
        step,
        &svchost,
        who,
        "C:\\Windows\\System32\\rdpclip.exe",
        "rdpclip",
    );
}

impl Gen for Admins {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let w = cx.w;
        if let Some(f) = self.fixed.take() {
            // Day one, whatever the scale: a helpdesk session on every workstation whose
            // user logs on in the first hour, and maintenance on the web server.
            let a = w.admins[0];
            let (src_ip, src_name) = Admins::source(w, a);
            let who_of = |h: usize, r: &Rng, t: i64| {
                let u = &w.users[a];
                Who::domain_user(
                    &w.hosts[h],
                    r,
                    t,
                    u.admin.as_deref().unwrap_or(&u.sam),
                    u.admin_sid.as_deref().unwrap_or(&u.sid),
                    2,
                    "High",
                )
            };
            for &ws in &w.workstations {
                let t = w.hosts[ws].logon_at + f.range(12 * MIN, 25 * MIN);
                let who = who_of(ws, &f, t);
                rdp_session(cx, &f, t.max(now), 0, ws, &who, &src_ip, &src_name, false);
            }
            let t = w.start + f.range(30 * MIN, 50 * MIN);
            let who = who_of(w.web, &f, t);
            rdp_session(cx, &f, t, 0, w.web, &who, &src_ip, &src_name, false);
            return Some(now + self.r.range(40 * MIN, 70 * MIN));
        }
        let next = next_arrival(&self.r, now, 3.0, cx.scale);
        if !self.r.chance(w.office_profile(now)) {
            return Some(next);
        }
        let r = &mut self.r;
        let a = w.admins[r.below(w.admins.len() as u64) as usize];
        let u = &w.users[a];
        let adm = u.admin.clone().unwrap_or_else(|| u.sam.clone());
        let adm_sid = u.admin_sid.clone().unwrap_or_else(|| u.sid.clone());
        let (src_ip, src_name) = Admins::source(w, a);
        // Morning RDP to the jump host from the admin's laptop.
        if let Some(j) = w.jump {
            let day = time::day_number(now);
            if self.jump_session != Some(day) {
                self.jump_session = Some(day);
                let who = Who::domain_user(&w.hosts[j], r, now, &adm, &adm_sid, 2, "High");
                let laptop = u.laptop_ip.clone().unwrap_or_default();
                rdp_session(
                    cx,
                    r,
                    now,
                    0,
                    j,
                    &who,
                    &laptop,
                    &format!("LT-{}", u.sam.to_uppercase().replace('.', "")),
                    r.chance(0.5),
                );
                return Some(next);
            }
        }
        let servers: Vec<usize> = [w.dc, w.fs, w.web].into_iter().collect();
        let target = if r.chance(0.25) && !w.workstations.is_empty() {
            *r.pick(&w.workstations)
        } else {
            *r.pick(&servers)
        };
        let who = Who::domain_user(&w.hosts[target], r, now, &adm, &adm_sid, 0, "High");
        let jump_proc = w.jump.map(|j| {
            let jwho = Who::domain_user(&w.hosts[j], r, now, &adm, &adm_sid, 2, "High");
            let explorer = Proc::new(
                &w.hosts[j],
                r,
                now - HOUR,
                "C:\\Windows\\explorer.exe",
                "C:\\Windows\\Explorer.EXE",
                "C:\\Windows\\system32\\",
                &jwho,
            );
            (j, jwho, explorer)
        });
        match r.weighted(&[40, 35, 25]) {
            0 => {
                if let Some((j, jwho, explorer)) = &jump_proc {
                    win::spawn(
                        cx,
                        r,
                        *j,
                        now,
                        0,
                        explorer,
                        jwho,
                        "C:\\Windows\\System32\\mstsc.exe",
                        &format!(
                            "\"C:\\Windows\\system32\\mstsc.exe\" /v:{}",
                            w.hosts[target].name
                        ),
                    );
                }
                rdp_session(
                    cx,
                    r,
                    now + 2 * SEC,
                    0,
                    target,
                    &who,
                    &src_ip,
                    &src_name,
                    r.chance(0.3),
                );
            }
            1 => {
                let cmd = *r.pick(&[
                    "ipconfig /all",
                    "gpupdate /force",
                    "quser",
                    "net localgroup administrators",
                    "systeminfo",
                    "sc query wuauserv",
                ]);
                if let Some((j, jwho, explorer)) = &jump_proc {
                    let p = win::spawn(
                        cx,
                        r,
                        *j,
                        now,
                        0,
                        explorer,
                        jwho,
                        "C:\\Tools\\Sysinternals\\PsExec64.exe",
                        &format!(
                            "PsExec64.exe \\\\{} -accepteula cmd /c \"{cmd}\"",
                            w.hosts[target].name
                        ),
                    );
                    let host = w.hosts[target].name.clone();
                    let tip = w.hosts[target].ip.clone();
                    win::sec4648(cx, r, *j, now + 500, 0, jwho, &adm, &host, &p, &tip);
                }
                psexec(cx, r, now + 2 * SEC, target, &who, &src_ip, cmd);
            }
            _ => {
                let tip = w.hosts[target].ip.clone();
                zeek::conn(
                    cx,
                    r,
                    now,
                    0,
                    &src_ip,
                    &tip,
                    5985,
                    "http",
                    r.range(2 * SEC, 5 * MIN),
                    r.range(5_000, 60_000) as u64,
                    r.range(8_000, 200_000) as u64,
                );
                let port = zeek::ephemeral(r).to_string();
                win::sec4624(
                    cx,
                    r,
                    target,
                    now + 300,
                    0,
                    &Logon {
                        who: &who,
                        logon_type: 3,
                        workstation: "-",
                        ip: &src_ip,
                        port: &port,
                        package: "Kerberos",
                        elevated: true,
                    },
                );
                win::sec4672(cx, target, now + 301, 0, &who);
                let dcom = cx.hs[target].svc_dcom.clone();
                let p = win::spawn(
                    cx,
                    r,
                    target,
                    now + 900,
                    0,
                    &dcom,
                    &who,
                    "C:\\Windows\\System32\\wsmprovhost.exe",
                    "C:\\Windows\\system32\\wsmprovhost.exe -Embedding",
                );
                let text = *r.pick(&["Get-Service | Where-Object { $_.Status -eq 'Stopped' -and $_.StartType -eq 'Automatic' }", "Get-EventLog -LogName System -Newest 20 -EntryType Error", "Restart-Service -Name Spooler -Force", "Get-HotFix | Sort-Object InstalledOn | Select-Object -Last 5"]);
                win::ps4104(cx, r, target, now + 2 * SEC, 0, &p, text, "");
            }
        }
        Some(next)
    }
}

/// PsExec: ADMIN$ write of PSEXESVC.exe, the service, its command.
pub fn psexec(cx: &mut Cx, r: &Rng, now: i64, target: usize, who: &Who, src_ip: &str, cmd: &str) {
    let w = cx.w;
    let tip = w.hosts[target].ip.clone();
    zeek::conn(
        cx,
        r,
        now,
        0,
        src_ip,
        &tip,
        445,
        "smb,krb,gssapi",
        r.range(3 * SEC, 60 * SEC),
        r.range(390_000, 420_000) as u64,
        r.range(8_000, 40_000) as u64,
    );
    let port = zeek::ephemeral(r).to_string();
    win::sec4624(
        cx,
        r,
        target,
        now + 200,
        0,
        &Logon {
            who,
            logon_type: 3,
            workstation: "-",
            ip: src_ip,
            port: &port,
            package: "Kerberos",
            elevated: true,
        },
    );
    win::sec4672(cx, target, now + 201, 0, who);
    win::sec5145(
        cx,
        target,
        now + 600,
        0,
        who,
        src_ip,
        &port,
        "\\\\*\\ADMIN$",
        "\\??\\C:\\Windows",
        "PSEXESVC.exe",
        true,
    );
    win::sys7045(
        cx,
        target,
        now + 1_500,
        0,
        "PSEXESVC",
        "%SystemRoot%\\PSEXESVC.exe",
        "demand start",
        "LocalSystem",
    );
    let system = cx.hs[target].system.clone();
    win::sec4697(
        cx,
        target,
        now + 1_500,
        0,
        who,
        "PSEXESVC",
        "%SystemRoot%\\PSEXESVC.exe",
        "3",
    );
    win::sys7036(
        cx,
        target,
        now + 1_700,
        0,
        "PSEXESVC",
        "running",
        "PSEXESVC",
    );
    let services = cx.hs[target].services.clone();
    let svc = win::spawn(
        cx,
        r,
        target,
        now + 1_800,
        0,
        &services,
        &system,
        "C:\\Windows\\PSEXESVC.exe",
        "C:\\Windows\\PSEXESVC.exe",
    );
    win::sysmon17(cx, target, now + 2_000, 0, &svc, "\\PSEXESVC");
    win::sysmon17(
        cx,
        target,
        now + 2_100,
        0,
        &svc,
        &format!(
            "\\PSEXESVC-{}-{}-stdin",
            w.jump
                .map(|j| w.hosts[j].name.clone())
                .unwrap_or_else(|| "LAPTOP".into()),
            r.range(1000, 9999)
        ),
    );
    let exe = cmd.split(' ').next().unwrap_or("cmd");
    let c = win::spawn(
        cx,
        r,
        target,
        now + 2_500,
        0,
        &svc,
        who,
        "C:\\Windows\\System32\\cmd.exe",
        &format!("\"cmd\" /c \"{cmd}\""),
    );
    win::spawn(
        cx,
        r,
        target,
        now + 2_700,
        0,
        &c,
        who,
        &format!("C:\\Windows\\System32\\{exe}.exe"),
        cmd,
    );
    win::sys7036(
        cx,
        target,
        now + 12 * SEC,
        0,
        "PSEXESVC",
        "stopped",
        "PSEXESVC",
    );
}

// ---------------------------------------------------------------------------------------
// Nightly backups: gigabytes from each server to the backup repository (not scaled).

struct Backup {
    r: Rng,
    day: i64,
}

impl Gen for Backup {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let w = cx.w;
        let r = &mut self.r;
        if self.day == 0 {
            self.day = 1;
            return Some(time::day_start(now) + 21 * HOUR + r.range(0, 40 * MIN));
        }
        let servers = [w.fs, w.dc, w.web];
        let mut t = now;
        for &s in &servers {
            let ip = w.hosts[s].ip.clone();
            let system = cx.hs[s].system.clone();
            let services = cx.hs[s].services.clone();
            let agent = win::spawn(cx, r, s, t, 0, &services, &system, "C:\\Program Files\\Backup\\Agent\\BkAgent.exe", "\"C:\\Program Files\\Backup\\Agent\\BkAgent.exe\" -job \"Nightly servers\" -incremental");
            let vss = win::spawn(
                cx,
                r,
                s,
                t + 3 * SEC,
                0,
                &services,
                &system,
                "C:\\Windows\\System32\\vssvc.exe",
                "C:\\Windows\\system32\\vssvc.exe",
            );
            let _ = vss;
            win::sys7036(
                cx,
                s,
                t + 3 * SEC,
                0,
                "Volume Shadow Copy",
                "running",
                "VSS",
            );
            let gb = if s == w.fs {
                r.range(8, 40)
            } else {
                r.range(2, 9)
            };
            let bytes = gb as u64 * 1_000_000_000 + r.below(999_999_999);
            let dur = (bytes / 40_000_000) as i64 * SEC;
            let sport = zeek::ephemeral(r);
            win::sysmon3(
                cx,
                s,
                t + 10 * SEC,
                0,
                &agent,
                &ip,
                sport,
                &w.backup_ip,
                &format!("{}.{DNS_DOMAIN}", w.backup_name),
                2500,
                true,
            );
            zeek::conn(
                cx,
                r,
                t + 10 * SEC,
                0,
                &ip,
                &w.backup_ip,
                2500,
                "",
                dur,
                bytes,
                r.range(2_000_000, 9_000_000) as u64,
            );
            win::sys7036(
                cx,
                s,
                t + dur + 20 * SEC,
                0,
                "Volume Shadow Copy",
                "stopped",
                "VSS",
            );
            t += dur + r.range(MIN, 5 * MIN);
        }
        Some(time::day_start(now) + DAY + 21 * HOUR + r.range(0, 40 * MIN))
    }
}

// ---------------------------------------------------------------------------------------
// Mail for the mailbox that is exported (the lure's recipient).

struct Mail {
    r: Rng,
    user: usize,
    n: u32,
}

const MEMO_SUBJECTS: &[&str] = &[
    "Updated agenda for Thursday's steering group",
    "Leave planning for April",
    "Reminder: submit travel claims by Friday",
    "Draft briefing for review",
    "Room booking change - Meeting room 3",
    "IT maintenance window this weekend",
    "Minutes of the team meeting",
    "Budget figures for Q2",
];

const NEWS: &[(&str, &str, &str)] = &[
    (
        "Policy Digest",
        "digest@newsletter.policyweekly.example",
        "This week in regional policy",
    ),
    (
        "TechBrief",
        "news@techbrief.example",
        "Five things to know about AI regulation",
    ),
    (
        "Security Bulletin",
        "bulletin@cert.example",
        "Advisory round-up for week 9",
    ),
];

const MARKETING: &[(&str, &str, &str)] = &[
    (
        "OfficeSupplies Deals",
        "deals@promo-officesupplies.example",
        "Last chance: 40% off ergonomic chairs",
    ),
    (
        "Conference Team",
        "events@summit-registrations.example",
        "Early-bird pricing ends tonight",
    ),
];

impl Gen for Mail {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let next = next_arrival(&self.r, now, 5.0, cx.scale);
        if !self.r.chance(cx.w.office_profile(now).max(0.1)) {
            return Some(next);
        }
        let w = cx.w;
        let r = &mut self.r;
        let u = &w.users[self.user];
        let mx = format!("mx01.{DNS_DOMAIN}");
        let exch = format!("EXCH01.{DNS_DOMAIN}");
        let kind = r.weighted(&[55, 25, 20]);
        let to = format!("{} <{}>", u.display, u.email);
        let t = now;
        let msg = match kind {
            0 => {
                let mut o = r.below(w.users.len() as u64) as usize;
                if o == self.user {
                    o = (o + 1) % w.users.len();
                }
                let s = &w.users[o];
                let subject = *r.pick(MEMO_SUBJECTS);
                Message {
                    received: vec![format!("from {exch} ({}) by {exch} ({}) with Microsoft SMTP Server (version=TLS1_2,\r\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1544.14;\r\n\t{}", w.mx_ip, w.mx_ip, time::rfc2822(t))],
                    auth_results: None,
                    from: format!("{} <{}>", s.display, s.email),
                    to,
                    reply_to: None,
                    subject: subject.to_string(),
                    date: t - r.range(2 * SEC, 20 * SEC),
                    message_id: format!("<{}@{}>", r.hex_upper(32), exch),
                    extra: vec![("X-MS-Exchange-Organization-AuthAs".into(), "Internal".into()), ("Thread-Topic".into(), subject.to_string())],
                    text: format!("Hi {},\n\n{}. Please see the details below and let me know if anything is missing.\n\nBest regards,\n{}\n{}", u.display.split(' ').next().unwrap_or(""), subject, s.display, s.title),
                    html: Some(format!("<html><body><p>Hi {},</p><p>{}. Please see the details below and let me know if anything is missing.</p><p>Best regards,<br>{}<br>{}</p></body></html>", u.display.split(' ').next().unwrap_or(""), subject, s.display, s.title)),
                    attachment: None,
                }
            }
            1 => {
                let (name, addr, subject) = *r.pick(NEWS);
                let dom = addr.split('@').nth(1).unwrap_or("example");
                let ip = format!("198.51.100.{}", r.range(2, 250));
                Message {
                    received: vec![
                        format!("from {mx} ({}) by {exch} ({}) with Microsoft SMTP Server (version=TLS1_2,\r\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1544.14;\r\n\t{}", w.mx_ip, w.mx_ip, time::rfc2822(t)),
                        format!("from mail.{dom} (mail.{dom} [{ip}])\r\n\tby {mx} (Postfix) with ESMTPS id {}\r\n\tfor <{}>; {}", r.hex_upper(10), u.email, time::rfc2822(t - 2 * SEC)),
                    ],
                    auth_results: Some(format!("{mx};\r\n\tspf=pass (sender IP is {ip}) smtp.mailfrom={dom};\r\n\tdkim=pass (2048-bit key) header.d={dom} header.s=s1 header.b={};\r\n\tdmarc=pass (p=reject dis=none) header.from={dom}", r.base62(8))),
                    from: format!("{name} <{addr}>"),
                    to,
                    reply_to: None,
                    subject: subject.to_string(),
                    date: t - r.range(10 * SEC, 120 * SEC),
                    message_id: format!("<{}.{}@{}>", r.digits(12), r.hex(8), dom),
                    extra: vec![("List-Unsubscribe".into(), format!("<https://{dom}/unsubscribe?u={}>", r.hex(16))), ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into())],
                    text: format!("{subject}\n\nRead the full issue online: https://{dom}/issues/{}\n\nYou receive this newsletter because you subscribed with {}.", r.range(100, 999), u.email),
                    html: Some(format!("<html><body><h1>{subject}</h1><p><a href=\"https://{dom}/issues/{}\">Read the full issue online</a></p></body></html>", r.range(100, 999))),
                    attachment: None,
                }
            }
            _ => {
                let (name, addr, subject) = *r.pick(MARKETING);
                let dom = addr.split('@').nth(1).unwrap_or("example");
                let ip = format!("192.0.2.{}", r.range(2, 250));
                let relay = format!("bulk{}.mailer-cloud.example", r.range(1, 40));
                Message {
                    received: vec![
                        format!("from {mx} ({}) by {exch} ({}) with Microsoft SMTP Server (version=TLS1_2,\r\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1544.14;\r\n\t{}", w.mx_ip, w.mx_ip, time::rfc2822(t)),
                        format!("from {relay} ({relay} [{ip}])\r\n\tby {mx} (Postfix) with ESMTP id {}\r\n\tfor <{}>; {}", r.hex_upper(10), u.email, time::rfc2822(t - 3 * SEC)),
                    ],
                    auth_results: Some(format!("{mx};\r\n\tspf=fail (sender IP is {ip}) smtp.mailfrom={dom};\r\n\tdkim=fail (signature did not verify) header.d={dom} header.s=mk1 header.b={};\r\n\tdmarc=fail (p=quarantine dis=none) header.from={dom}", r.base62(8))),
                    from: format!("{name} <{addr}>"),
                    to,
                    reply_to: None,
                    subject: subject.to_string(),
                    date: t - r.range(10 * SEC, 300 * SEC),
                    message_id: format!("<{}@{}>", r.hex(24), relay),
                    extra: vec![("X-Mailer".into(), "MassMailer 4.2".into()), ("Precedence".into(), "bulk".into())],
                    text: format!("{subject}!\n\nShop now: https://{dom}/sale?c={}\n\nUnsubscribe: https://{dom}/u", r.hex(10)),
                    html: Some(format!("<html><body><h2>{subject}!</h2><a href=\"https://{dom}/sale?c={}\">Shop now</a></body></html>", r.hex(10))),
                    attachment: None,
                }
            }
        };
        let text = msg.render(r);
        self.n += 1;
        cx.emit(
            t,
            crate::engine::FileKey::Mbox,
            0,
            crate::engine::Body::Mail(text.clone()),
        );
        cx.emit(
            t,
            crate::engine::FileKey::Eml(t, self.n),
            0,
            crate::engine::Body::Mail(text),
        );
        Some(next)
    }
}

// ---------------------------------------------------------------------------------------
// Microsoft 365 audit: people's mailbox activity.

struct Audit {
    r: Rng,
}

impl Gen for Audit {
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64> {
        let w = cx.w;
        let n = w.users.len() as f64;
        let next = next_arrival(&self.r, now, 50.0 * n, cx.scale);
        let profile = w.office_profile(now);
        if !self.r.chance(profile.max(0.05)) {
            return Some(next);
        }
        let r = &mut self.r;
        let u = &w.users[r.below(w.users.len() as u64) as usize];
        let at_home = profile < 0.3;
        let ip = if at_home {
            format!(
                "198.51.100.{}",
                10 + (u.user_key.len() * 7 + u.sam.len()) % 200
            )
        } else {
            w.egress_ip.clone()
        };
        let (app, info) = if at_home && r.chance(0.6) {
            (m365::OWA_APP, "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36;")
        } else {
            (m365::OUTLOOK_APP, "Client=MSExchangeRPC")
        };
        let subject = *r.pick(MEMO_SUBJECTS);
        let mid = format!("<{}@EXCH01.{DNS_DOMAIN}>", r.hex_upper(32));
        let op = *r.pick(&[
            "MailItemsAccessed",
            "MailItemsAccessed",
            "MailItemsAccessed",
            "Send",
            "Create",
            "Update",
            "MoveToDeletedItems",
            "SoftDelete",
            "UpdateInboxRules",
        ]);
        let folder = match op {
            "Create" | "Update" => "\\Drafts",
            "Send" => "\\Sent Items",
            "SoftDelete" => "\\Deleted Items",
            _ => "\\Inbox",
        };
        let item = if op == "UpdateInboxRules" || (op == "MailItemsAccessed" && r.chance(0.6)) {
            None
        } else {
            Some(m365::Item {
                subject,
                folder,
                size: r.range(4_000, 90_000) as u64,
                message_id: &mid,
            })
        };
        m365::record(
            cx,
            r,
            now,
            0,
            &m365::Op {
                operation: op,
                user: u,
                client_ip: &ip,
                app_id: app,
                client_info: info,
                item,
                logon_type: 0,
            },
        );
        Some(next)
    }
}
