//! Bounded reordering for [`crate::NetworkAnalyzer`]: an external merge sort.
//!
//! The hunt feeds network records file by file, files interleaved, but the analytics need them
//! in time order. Records are kept in memory up to a byte budget; when it is full, the buffer
//! is sorted and written to a temporary file as one sorted *run* (a compact binary encoding,
//! about a third of the in-memory size). At the end the runs and what is still in memory are
//! merged (one record per run in memory, and a read buffer per run), so the analytics see
//! exactly the order an unbounded sort would give — the findings are the same — while memory
//! stays under the budget whatever the input size. Records that cannot be written (disk full,
//! no temporary directory) or read back are dropped and counted.

use crate::record::{Kind, NetRecord, WebRequest};
use dragnet_event::{Provenance, SourceFormat, Timestamp};
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A buffered network record.
pub(crate) enum Item {
    Net(Box<NetRecord>),
    Web(Box<WebRequest>),
}

/// Sort key: event time (ns), rank (connections first among equal times), arrival number.
pub(crate) type Key = (i64, u8, u64);

/// What spilling did, for the summary and the findings' details.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpillStats {
    /// Sorted runs written to temporary files.
    pub runs: u64,
    /// Records written to runs.
    pub records_spilled: u64,
    /// Bytes written to runs.
    pub bytes_spilled: u64,
    /// Records lost: not written (I/O error) or not read back.
    pub dropped: u64,
}

/// Approximate in-memory bytes of an item (what the budget counts).
pub(crate) fn item_bytes(i: &Item) -> usize {
    let s = |b: &Option<Box<str>>| b.as_ref().map_or(0, |s| s.len());
    match i {
        Item::Net(r) => {
            std::mem::size_of::<NetRecord>()
                + 48
                + s(&r.uid)
                + r.proto.len()
                + r.service.len()
                + s(&r.host)
                + s(&r.method)
                + s(&r.uri)
                + s(&r.user_agent)
                + s(&r.ja3)
                + s(&r.query)
                + s(&r.qtype)
                + r.answers.iter().map(|a| a.len() + 16).sum::<usize>()
        }
        Item::Web(w) => {
            std::mem::size_of::<WebRequest>()
                + 48
                + w.host.len()
                + w.client.len()
                + w.method.len()
                + w.stem.len()
                + w.query.len()
                + w.user_agent.len()
                + w.referer.len()
        }
    }
}

/// Provenance paths, interned (runs store an index).
#[derive(Default)]
pub(crate) struct Paths {
    list: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
}

impl Paths {
    fn id(&mut self, p: &Arc<str>) -> u32 {
        if let Some(&i) = self.index.get(p) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(Arc::clone(p));
        self.index.insert(Arc::clone(p), i);
        i
    }
    fn get(&self, i: u32) -> Option<Arc<str>> {
        self.list.get(i as usize).cloned()
    }
}

/// The sorted runs of one analyzer, in a temporary directory removed on drop.
pub(crate) struct Runs {
    dir: Option<PathBuf>,
    files: Vec<PathBuf>,
    pub(crate) paths: Paths,
    pub(crate) stats: SpillStats,
}

impl Drop for Runs {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Runs {
    pub(crate) fn new() -> Self {
        Runs {
            dir: None,
            files: Vec::new(),
            paths: Paths::default(),
            stats: SpillStats::default(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn dir(&mut self) -> io::Result<PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let d = dragnet_event::private_scratch_dir(&std::env::temp_dir(), "dragnet-net")?;
        self.dir = Some(d.clone());
        Ok(d)
    }

    /// Write `items` (sorted) as one run. On failure the records are dropped and counted.
    pub(crate) fn spill(&mut self, items: &[(Key, Item)]) {
        let n = items.len() as u64;
        match self.write_run(items) {
            Ok(bytes) => {
                self.stats.runs += 1;
                self.stats.records_spilled += n;
                self.stats.bytes_spilled += bytes;
            }
            Err(_) => self.stats.dropped += n,
        }
    }

    fn write_run(&mut self, items: &[(Key, Item)]) -> io::Result<u64> {
        let path = self.dir()?.join(format!("run-{:06}", self.files.len()));
        let mut w = BufWriter::with_capacity(1 << 16, File::create(&path)?);
        let mut buf = Vec::with_capacity(512);
        let mut bytes = 0u64;
        for (k, item) in items {
            buf.clear();
            encode(&mut buf, k, item, &mut self.paths);
            w.write_all(&(buf.len() as u32).to_le_bytes())?;
            w.write_all(&buf)?;
            bytes += 4 + buf.len() as u64;
        }
        w.flush()?;
        self.files.push(path);
        Ok(bytes)
    }

    /// Merge the runs and `rest` (sorted, in memory) in key order, calling `each` per item.
    /// `budget`: bytes the read buffers may use together.
    pub(crate) fn merge(
        &mut self,
        rest: Vec<(Key, Item)>,
        budget: usize,
        each: &mut dyn FnMut(&Item),
    ) {
        let buf = (budget / (4 * self.files.len().max(1))).clamp(4 << 10, 256 << 10);
        let mut readers: Vec<Option<BufReader<File>>> = self
            .files
            .iter()
            .map(|p| File::open(p).ok().map(|f| BufReader::with_capacity(buf, f)))
            .collect();
        let mut heads: Vec<Option<Item>> = (0..readers.len()).map(|_| None).collect();
        // Min-heap of (key, source): sources are the runs, then `rest` (index = runs).
        let mut heap: BinaryHeap<std::cmp::Reverse<(Key, usize)>> = BinaryHeap::new();
        let mut scratch = Vec::new();
        let mut next = |i: usize,
                        readers: &mut Vec<Option<BufReader<File>>>,
                        dropped: &mut u64|
         -> Option<(Key, Item)> {
            let r = readers[i].as_mut()?;
            match read_record(r, &mut scratch, &self.paths) {
                Ok(Some(x)) => Some(x),
                Ok(None) => {
                    readers[i] = None;
                    None
                }
                Err(_) => {
                    *dropped += 1;
                    readers[i] = None;
                    None
                }
            }
        };
        let mut dropped = 0u64;
        for (i, head) in heads.iter_mut().enumerate() {
            if let Some((k, item)) = next(i, &mut readers, &mut dropped) {
                *head = Some(item);
                heap.push(std::cmp::Reverse((k, i)));
            }
        }
        let mut rest = rest.into_iter().peekable();
        let mem = heads.len();
        if let Some((k, _)) = rest.peek() {
            heap.push(std::cmp::Reverse((*k, mem)));
        }
        while let Some(std::cmp::Reverse((_, i))) = heap.pop() {
            if i == mem {
                if let Some((_, item)) = rest.next() {
                    each(&item);
                }
                if let Some((k, _)) = rest.peek() {
                    heap.push(std::cmp::Reverse((*k, mem)));
                }
                continue;
            }
            if let Some(item) = heads[i].take() {
                each(&item);
            }
            if let Some((k, item)) = next(i, &mut readers, &mut dropped) {
                heads[i] = Some(item);
                heap.push(std::cmp::Reverse((k, i)));
            }
        }
        self.stats.dropped += dropped;
    }
}

// -------------------------------------------------------------------------------------------
// Encoding: little-endian integers, length-prefixed strings, tagged options.

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

fn put_opt_str(b: &mut Vec<u8>, s: &Option<Box<str>>) {
    match s {
        None => b.push(0),
        Some(s) => {
            b.push(1);
            put_str(b, s);
        }
    }
}

fn put_ip(b: &mut Vec<u8>, ip: &Option<IpAddr>) {
    match ip {
        None => b.push(0),
        Some(IpAddr::V4(a)) => {
            b.push(4);
            b.extend_from_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            b.push(6);
            b.extend_from_slice(&a.octets());
        }
    }
}

fn put_opt_bool(b: &mut Vec<u8>, v: Option<bool>) {
    b.push(match v {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

fn put_prov(b: &mut Vec<u8>, p: &Provenance, paths: &mut Paths) {
    b.extend_from_slice(&paths.id(&p.path).to_le_bytes());
    put_u64(b, p.record);
    b.push(match p.format {
        SourceFormat::Evtx => 0,
        SourceFormat::Jsonl => 1,
        SourceFormat::JsonArray => 2,
        SourceFormat::ZeekTsv => 3,
        SourceFormat::SuricataEve => 4,
        SourceFormat::IisW3c => 5,
        SourceFormat::Eml => 6,
        SourceFormat::Mbox => 7,
    });
}

fn encode(b: &mut Vec<u8>, k: &Key, item: &Item, paths: &mut Paths) {
    put_u64(b, k.0 as u64);
    b.push(k.1);
    put_u64(b, k.2);
    match item {
        Item::Net(r) => {
            b.push(0);
            b.push(match r.kind {
                Kind::Conn => 0,
                Kind::Http => 1,
                Kind::Ssl => 2,
                Kind::Dns => 3,
            });
            b.push(r.open as u8);
            put_u64(b, r.time.nanos() as u64);
            put_opt_str(b, &r.uid);
            put_ip(b, &r.src);
            put_ip(b, &r.dst);
            b.extend_from_slice(&r.src_port.to_le_bytes());
            b.extend_from_slice(&r.dst_port.to_le_bytes());
            put_str(b, &r.proto);
            put_str(b, &r.service);
            put_u64(b, r.duration.to_bits());
            for v in [r.orig_bytes, r.resp_bytes, r.orig_ip_bytes, r.resp_ip_bytes] {
                put_u64(b, v);
            }
            put_opt_bool(b, r.local_orig);
            put_opt_bool(b, r.local_resp);
            for s in [&r.host, &r.method, &r.uri, &r.user_agent] {
                put_opt_str(b, s);
            }
            match r.status {
                None => b.push(0),
                Some(s) => {
                    b.push(1);
                    b.extend_from_slice(&s.to_le_bytes());
                }
            }
            for s in [&r.ja3, &r.query, &r.qtype] {
                put_opt_str(b, s);
            }
            b.extend_from_slice(&(r.answers.len() as u32).to_le_bytes());
            for a in &r.answers {
                put_str(b, a);
            }
            put_prov(b, &r.provenance, paths);
        }
        Item::Web(w) => {
            b.push(1);
            put_u64(b, w.time.nanos() as u64);
            for s in [
                &w.host,
                &w.client,
                &w.method,
                &w.stem,
                &w.query,
                &w.user_agent,
                &w.referer,
            ] {
                put_str(b, s);
            }
            b.extend_from_slice(&w.status.to_le_bytes());
            put_prov(b, &w.provenance, paths);
        }
    }
}

/// A reader over one encoded record.
struct Dec<'a> {
    b: &'a [u8],
}

fn bad() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "damaged spill record")
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.b.len() < n {
            return Err(bad());
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> io::Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().map_err(|_| bad())?,
        ))
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| bad())?,
        ))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| bad())?,
        ))
    }
    fn str(&mut self) -> io::Result<Box<str>> {
        let n = self.u32()? as usize;
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| bad())?;
        Ok(s.into())
    }
    fn opt_str(&mut self) -> io::Result<Option<Box<str>>> {
        Ok(match self.u8()? {
            0 => None,
            _ => Some(self.str()?),
        })
    }
    fn ip(&mut self) -> io::Result<Option<IpAddr>> {
        Ok(match self.u8()? {
            4 => {
                let o: [u8; 4] = self.take(4)?.try_into().map_err(|_| bad())?;
                Some(IpAddr::from(o))
            }
            6 => {
                let o: [u8; 16] = self.take(16)?.try_into().map_err(|_| bad())?;
                Some(IpAddr::from(o))
            }
            _ => None,
        })
    }
    fn opt_bool(&mut self) -> io::Result<Option<bool>> {
        Ok(match self.u8()? {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        })
    }
    fn prov(&mut self, paths: &Paths) -> io::Result<Provenance> {
        let path = paths.get(self.u32()?).ok_or_else(bad)?;
        let record = self.u64()?;
        let format = match self.u8()? {
            0 => SourceFormat::Evtx,
            1 => SourceFormat::Jsonl,
            2 => SourceFormat::JsonArray,
            3 => SourceFormat::ZeekTsv,
            4 => SourceFormat::SuricataEve,
            5 => SourceFormat::IisW3c,
            6 => SourceFormat::Eml,
            7 => SourceFormat::Mbox,
            _ => return Err(bad()),
        };
        Ok(Provenance {
            path,
            record,
            format,
        })
    }
}

/// The next record of a run, `None` at its end.
fn read_record(
    r: &mut impl Read,
    scratch: &mut Vec<u8>,
    paths: &Paths,
) -> io::Result<Option<(Key, Item)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_le_bytes(len) as usize;
    if n > 64 << 20 {
        return Err(bad());
    }
    scratch.resize(n, 0);
    r.read_exact(scratch)?;
    let mut d = Dec { b: scratch };
    let key = (d.u64()? as i64, d.u8()?, d.u64()?);
    let item = match d.u8()? {
        0 => {
            let kind = match d.u8()? {
                0 => Kind::Conn,
                1 => Kind::Http,
                2 => Kind::Ssl,
                3 => Kind::Dns,
                _ => return Err(bad()),
            };
            let open = d.u8()? != 0;
            let time = Timestamp::from_nanos(d.u64()? as i64);
            let uid = d.opt_str()?;
            let src = d.ip()?;
            let dst = d.ip()?;
            let src_port = d.u16()?;
            let dst_port = d.u16()?;
            let proto = d.str()?;
            let service = d.str()?;
            let duration = f64::from_bits(d.u64()?);
            let (orig_bytes, resp_bytes, orig_ip_bytes, resp_ip_bytes) =
                (d.u64()?, d.u64()?, d.u64()?, d.u64()?);
            let local_orig = d.opt_bool()?;
            let local_resp = d.opt_bool()?;
            let host = d.opt_str()?;
            let method = d.opt_str()?;
            let uri = d.opt_str()?;
            let user_agent = d.opt_str()?;
            let status = match d.u8()? {
                0 => None,
                _ => Some(d.u16()?),
            };
            let ja3 = d.opt_str()?;
            let query = d.opt_str()?;
            let qtype = d.opt_str()?;
            let n = d.u32()? as usize;
            let mut answers = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                answers.push(d.str()?);
            }
            let provenance = d.prov(paths)?;
            Item::Net(Box::new(NetRecord {
                kind,
                open,
                time,
                uid,
                src,
                dst,
                src_port,
                dst_port,
                proto,
                service,
                duration,
                orig_bytes,
                resp_bytes,
                orig_ip_bytes,
                resp_ip_bytes,
                local_orig,
                local_resp,
                host,
                method,
                uri,
                user_agent,
                status,
                ja3,
                query,
                qtype,
                answers,
                provenance,
            }))
        }
        1 => {
            let time = Timestamp::from_nanos(d.u64()? as i64);
            let mut s = || d.str();
            let (host, client, method, stem, query, user_agent, referer) =
                (s()?, s()?, s()?, s()?, s()?, s()?, s()?);
            let status = d.u16()?;
            let provenance = d.prov(paths)?;
            Item::Web(Box::new(WebRequest {
                time,
                host,
                client,
                method,
                stem,
                query,
                status,
                user_agent,
                referer,
                provenance,
            }))
        }
        _ => return Err(bad()),
    };
    Ok(Some((key, item)))
}
