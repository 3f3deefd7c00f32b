//! The scheduler and the writers.
//!
//! Generators (background activities, the attack) wake at times of their choosing and emit
//! records stamped at or after that time. One min-heap holds both the pending wake-ups and
//! the emitted records, ordered by (time, insertion sequence), so records leave the heap in
//! global time order and every file is written in time order, streaming, with bounded
//! memory. Record ids and line numbers are assigned as records are written.

use crate::proc::HostState;
use crate::rng::Rng;
use crate::time;
use crate::world::World;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Chan {
    Sysmon,
    Security,
    System,
    PowerShell,
}

impl Chan {
    pub const ALL: [Chan; 4] = [Chan::Sysmon, Chan::Security, Chan::System, Chan::PowerShell];

    pub fn file(self) -> &'static str {
        match self {
            Chan::Sysmon => "sysmon.jsonl",
            Chan::Security => "security.jsonl",
            Chan::System => "system.jsonl",
            Chan::PowerShell => "powershell.jsonl",
        }
    }

    pub fn channel(self) -> &'static str {
        match self {
            Chan::Sysmon => "Microsoft-Windows-Sysmon/Operational",
            Chan::Security => "Security",
            Chan::System => "System",
            Chan::PowerShell => "Microsoft-Windows-PowerShell/Operational",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZeekLog {
    Conn,
    Dns,
    Http,
    Ssl,
}

impl ZeekLog {
    pub const ALL: [ZeekLog; 4] = [ZeekLog::Conn, ZeekLog::Dns, ZeekLog::Http, ZeekLog::Ssl];

    fn path(self) -> &'static str {
        match self {
            ZeekLog::Conn => "conn",
            ZeekLog::Dns => "dns",
            ZeekLog::Http => "http",
            ZeekLog::Ssl => "ssl",
        }
    }
}

/// Which file a record goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKey {
    Win(u16, Chan),
    Zeek(ZeekLog),
    /// IIS log of the web server for one UTC day (day number since the epoch).
    Iis(i64),
    M365,
    Mbox,
    /// One `.eml` file per message: delivery time and a number unique among messages.
    Eml(i64, u32),
}

/// The event providers the simulator writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Sysmon,
    Security,
    Scm,
    PowerShell,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::Sysmon => "Microsoft-Windows-Sysmon",
            Provider::Security => "Microsoft-Windows-Security-Auditing",
            Provider::Scm => "Service Control Manager",
            Provider::PowerShell => "Microsoft-Windows-PowerShell",
        }
    }

    fn guid(self) -> &'static str {
        match self {
            Provider::Sysmon => "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
            Provider::Security => "{54849625-5478-4994-a5ba-3e3b0328c30d}",
            Provider::Scm => "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
            Provider::PowerShell => "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}",
        }
    }
}

pub enum Body {
    /// A Windows event: id, provider and the `event_data` object (JSON text).
    Win {
        eid: u16,
        provider: Provider,
        data: String,
        /// PID/TID of the logging process (winlog.process).
        pid: u32,
        tid: u32,
    },
    /// One line of text (without the newline).
    Line(String),
    /// One RFC 5322 message with CRLF line ends.
    Mail(String),
}

pub struct Rec {
    pub file: FileKey,
    /// 0: background; n: attack step n-1.
    pub step: u16,
    pub body: Body,
}

/// A source of records.
pub trait Gen {
    /// Emit what happens at `now` (records at or after `now`) and say when to wake next.
    fn fire(&mut self, now: i64, cx: &mut Cx) -> Option<i64>;
}

/// What generators see: the world, per-host process state, and the output queue.
pub struct Cx<'w> {
    pub w: &'w World,
    pub hs: Vec<HostState>,
    pub scale: f64,
    out: Vec<(i64, Rec)>,
    now: i64,
}

impl Cx<'_> {
    pub fn emit(&mut self, t: i64, file: FileKey, step: u16, body: Body) {
        debug_assert!(t >= self.now, "record before its generator's time");
        self.out.push((t.max(self.now), Rec { file, step, body }));
    }
}

struct Item {
    t: i64,
    seq: u64,
    what: What,
}

enum What {
    Wake(usize),
    Rec(Rec),
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.t == o.t && self.seq == o.seq
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap.
        o.t.cmp(&self.t).then(o.seq.cmp(&self.seq))
    }
}

struct Out {
    rel: String,
    path: PathBuf,
    /// Closed for good (an `.eml` file after its message).
    done: bool,
    last_use: u64,
    /// None once closed (single-message `.eml` files are closed right after their message).
    w: Option<BufWriter<File>>,
    lines: u64,
    records: u64,
    bytes: u64,
    next_rid: u64,
    zeek: bool,
}

/// Every file (relative path, records, bytes) sorted by path, and the paths by file index.
pub type Finished = (Vec<(String, u64, u64)>, Vec<String>);

/// The output side: open files, counters and the ground-truth record lists.
pub struct Sink<'w> {
    root: PathBuf,
    w: &'w World,
    outs: Vec<Out>,
    index: BTreeMap<FileKey, usize>,
    /// Per step: (file index, 1-based line or message number).
    pub truth: Vec<Vec<(usize, u64)>>,
    line: String,
    last_t: i64,
    open_count: usize,
    tick: u64,
}

/// Writers kept open at once; beyond this the least recently used is closed and reopened
/// for appending when needed (many hosts on a machine with a low descriptor limit).
const MAX_OPEN: usize = 900;

const IIS_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

impl<'w> Sink<'w> {
    pub fn new(root: &Path, w: &'w World, steps: usize) -> io::Result<Sink<'w>> {
        let mut s = Sink {
            root: root.to_path_buf(),
            w,
            outs: Vec::new(),
            index: BTreeMap::new(),
            truth: vec![Vec::new(); steps],
            line: String::with_capacity(4096),
            last_t: w.start,
            open_count: 0,
            tick: 0,
        };
        for h in 0..w.hosts.len() {
            for c in Chan::ALL {
                s.open(FileKey::Win(h as u16, c), w.start)?;
            }
        }
        for z in ZeekLog::ALL {
            s.open(FileKey::Zeek(z), w.start)?;
        }
        s.open(FileKey::M365, w.start)?;
        s.open(FileKey::Mbox, w.start)?;
        Ok(s)
    }

    fn rel_path(&self, key: FileKey) -> String {
        match key {
            FileKey::Win(h, c) => format!("windows/{}/{}", self.w.hosts[h as usize].name, c.file()),
            FileKey::Zeek(z) => format!("zeek/{}.log", z.path()),
            FileKey::Iis(day) => format!(
                "iis/{}/u_ex{}.log",
                self.w.hosts[self.w.web].name,
                time::iis_file_day(day * time::DAY)
            ),
            FileKey::M365 => "m365/audit.jsonl".to_string(),
            FileKey::Mbox => "mail/inbox.mbox".to_string(),
            FileKey::Eml(t, n) => {
                let c = time::civil(t);
                format!(
                    "mail/{:04}{:02}{:02}T{:02}{:02}{:02}-{n:04}.eml",
                    c.year, c.month, c.day, c.hour, c.minute, c.second
                )
            }
        }
    }

    fn open(&mut self, key: FileKey, t: i64) -> io::Result<usize> {
        if let Some(&i) = self.index.get(&key) {
            return Ok(i);
        }
        let rel = self.rel_path(key);
        let path = self.root.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let cap = match key {
            FileKey::Eml(..) => 8 << 10,
            _ => 64 << 10,
        };
        if self.open_count >= MAX_OPEN {
            self.evict()?;
        }
        self.open_count += 1;
        let mut out = Out {
            rel,
            w: Some(BufWriter::with_capacity(cap, File::create(&path)?)),
            path,
            done: false,
            last_use: 0,
            lines: 0,
            records: 0,
            bytes: 0,
            next_rid: match key {
                FileKey::Win(h, c) => self.w.hosts[h as usize].record_base + c as u64 * 7919,
                _ => 0,
            },
            zeek: matches!(key, FileKey::Zeek(_)),
        };
        let mut header = String::new();
        match key {
            FileKey::Zeek(z) => zeek_header(&mut header, z, t),
            FileKey::Iis(_) => {
                header.push_str("#Software: Microsoft Internet Information Services 10.0\n");
                header.push_str("#Version: 1.0\n");
                let (d, h) = time::iis_date_time(t);
                header.push_str(&format!("#Date: {d} {h}\n"));
                header.push_str("#Fields: ");
                header.push_str(IIS_FIELDS);
                header.push('\n');
            }
            _ => {}
        }
        if !header.is_empty() {
            out.lines += header.bytes().filter(|&b| b == b'\n').count() as u64;
            out.bytes += header.len() as u64;
            if let Some(w) = out.w.as_mut() {
                w.write_all(header.as_bytes())?;
            }
        }
        self.outs.push(out);
        let i = self.outs.len() - 1;
        self.index.insert(key, i);
        Ok(i)
    }

    /// Close the least recently used open writer.
    fn evict(&mut self) -> io::Result<()> {
        let victim = self
            .outs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.w.is_some())
            .min_by_key(|(_, o)| o.last_use)
            .map(|(i, _)| i);
        if let Some(i) = victim {
            if let Some(mut w) = self.outs[i].w.take() {
                w.flush()?;
            }
            self.open_count -= 1;
        }
        Ok(())
    }

    /// Make sure file `i` has an open writer.
    fn reopen(&mut self, i: usize) -> io::Result<()> {
        self.tick += 1;
        self.outs[i].last_use = self.tick;
        if self.outs[i].w.is_some() {
            return Ok(());
        }
        if self.outs[i].done {
            return Err(io::Error::other(format!(
                "{} written after close",
                self.outs[i].rel
            )));
        }
        if self.open_count >= MAX_OPEN {
            self.evict()?;
        }
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.outs[i].path)?;
        self.outs[i].w = Some(BufWriter::with_capacity(64 << 10, f));
        self.open_count += 1;
        Ok(())
    }

    fn write(&mut self, t: i64, rec: Rec) -> io::Result<()> {
        let i = self.open(rec.file, t)?;
        self.reopen(i)?;
        self.last_t = self.last_t.max(t);
        let line_no;
        {
            let host = match rec.file {
                FileKey::Win(h, c) => Some((h, c)),
                _ => None,
            };
            let out = &mut self.outs[i];
            let buf = &mut self.line;
            buf.clear();
            match rec.body {
                Body::Win {
                    eid,
                    provider,
                    data,
                    pid,
                    tid,
                } => {
                    let (h, c) = host.expect("windows record in a windows file");
                    let fqdn = &self.w.hosts[h as usize].fqdn;
                    let ts = time::rfc3339_ms(t);
                    let rid = out.next_rid;
                    out.next_rid += 1;
                    buf.push_str("{\"@timestamp\":\"");
                    buf.push_str(&ts);
                    buf.push_str("\",\"event\":{\"code\":\"");
                    buf.push_str(&eid.to_string());
                    buf.push_str("\",\"kind\":\"event\",\"provider\":\"");
                    buf.push_str(provider.name());
                    buf.push_str("\"},\"host\":{\"name\":\"");
                    buf.push_str(fqdn);
                    buf.push_str(
                        "\"},\"log\":{\"level\":\"information\"},\"winlog\":{\"channel\":\"",
                    );
                    buf.push_str(c.channel());
                    buf.push_str("\",\"event_id\":");
                    buf.push_str(&eid.to_string());
                    buf.push_str(",\"provider_name\":\"");
                    buf.push_str(provider.name());
                    buf.push_str("\",\"provider_guid\":\"");
                    buf.push_str(provider.guid());
                    buf.push_str("\",\"computer_name\":\"");
                    buf.push_str(fqdn);
                    buf.push_str("\",\"record_id\":");
                    buf.push_str(&rid.to_string());
                    buf.push_str(",\"api\":\"wineventlog\",\"process\":{\"pid\":");
                    buf.push_str(&pid.to_string());
                    buf.push_str(",\"thread\":{\"id\":");
                    buf.push_str(&tid.to_string());
                    buf.push_str("}},\"event_data\":");
                    buf.push_str(&data);
                    buf.push_str("}}\n");
                    out.lines += 1;
                    line_no = out.lines;
                }
                Body::Line(s) => {
                    buf.push_str(&s);
                    buf.push('\n');
                    out.lines += 1;
                    line_no = out.lines;
                }
                Body::Mail(msg) => {
                    if rec.file == FileKey::Mbox {
                        buf.push_str("From MAILER-DAEMON ");
                        buf.push_str(&time::asctime(t));
                        buf.push('\n');
                        for l in msg.split("\r\n") {
                            let quoted = l.trim_start_matches('>');
                            if quoted.starts_with("From ") {
                                buf.push('>');
                            }
                            buf.push_str(l);
                            buf.push('\n');
                        }
                    } else {
                        buf.push_str(&msg);
                    }
                    // Messages are counted, not lines.
                    out.lines += 1;
                    line_no = out.lines;
                }
            }
            out.records += 1;
            out.bytes += buf.len() as u64;
            match out.w.as_mut() {
                Some(w) => w.write_all(buf.as_bytes())?,
                None => return Err(io::Error::other(format!("{} is not open", out.rel))),
            }
            if matches!(rec.file, FileKey::Eml(..)) {
                if let Some(mut w) = out.w.take() {
                    w.flush()?;
                    self.open_count -= 1;
                }
                out.done = true;
            }
        }
        if rec.step > 0 {
            self.truth[usize::from(rec.step) - 1].push((i, line_no));
        }
        Ok(())
    }

    /// Close every file; returns (relative path, records, bytes) sorted by path.
    pub fn finish(mut self) -> io::Result<Finished> {
        let close = time::zeek_header(self.last_t.max(self.w.end));
        for i in 0..self.outs.len() {
            if self.outs[i].zeek {
                self.reopen(i)?;
            }
            let out = &mut self.outs[i];
            if let Some(mut w) = out.w.take() {
                if out.zeek {
                    let l = format!("#close\t{close}\n");
                    out.bytes += l.len() as u64;
                    out.lines += 1;
                    w.write_all(l.as_bytes())?;
                }
                w.flush()?;
            }
        }
        let names: Vec<String> = self.outs.iter().map(|o| o.rel.clone()).collect();
        let mut files: Vec<(String, u64, u64)> = self
            .outs
            .iter()
            .map(|o| (o.rel.clone(), o.records, o.bytes))
            .collect();
        files.sort();
        Ok((files, names))
    }
}

fn zeek_header(s: &mut String, z: ZeekLog, t: i64) {
    s.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n");
    s.push_str(&format!(
        "#path\t{}\n#open\t{}\n",
        z.path(),
        time::zeek_header(t)
    ));
    let (fields, types) = crate::zeek::columns(z);
    s.push_str("#fields\t");
    s.push_str(&fields.join("\t"));
    s.push_str("\n#types\t");
    s.push_str(&types.join("\t"));
    s.push('\n');
}

/// Run the generators to the end of the simulated window.
pub fn run(
    w: &World,
    hs: Vec<HostState>,
    scale: f64,
    gens: &mut [Box<dyn Gen + '_>],
    sink: &mut Sink,
) -> io::Result<()> {
    let mut cx = Cx {
        w,
        hs,
        scale,
        out: Vec::new(),
        now: w.start,
    };
    let mut heap: BinaryHeap<Item> = BinaryHeap::new();
    let mut seq = 0u64;
    for i in 0..gens.len() {
        heap.push(Item {
            t: w.start,
            seq,
            what: What::Wake(i),
        });
        seq += 1;
    }
    while let Some(item) = heap.pop() {
        match item.what {
            What::Rec(rec) => sink.write(item.t, rec)?,
            What::Wake(i) => {
                cx.now = item.t;
                let next = gens[i].fire(item.t, &mut cx);
                for (t, rec) in cx.out.drain(..) {
                    heap.push(Item {
                        t,
                        seq,
                        what: What::Rec(rec),
                    });
                    seq += 1;
                }
                if let Some(n) = next {
                    if n < w.end {
                        heap.push(Item {
                            t: n.max(item.t),
                            seq,
                            what: What::Wake(i),
                        });
                        seq += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Inter-arrival wait for a Poisson process with `per_hour` events at full activity,
/// multiplied by the configured scale.
pub fn next_arrival(r: &Rng, now: i64, per_hour: f64, scale: f64) -> i64 {
    let rate = (per_hour * scale).max(1e-9);
    let wait = r.exp(time::HOUR as f64 / rate);
    now + (wait as i64).max(1000)
}
