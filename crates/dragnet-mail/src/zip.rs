//! A minimal, bounded ZIP reader: the central directory (ZIP64 included), the encryption
//! flag, and entry contents inflated in memory up to a limit. Nothing is written to disk.
//!
//! Bombs are recognised rather than expanded: declared sizes and ratios are checked before
//! anything is inflated, entries whose data overlap (the "overlapping files" bomb) are
//! reported, and inflation stops at the caller's limit.

use std::io::Read;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// General-purpose flag bit 0 (or AES method 99): the entry is password-protected.
    pub encrypted: bool,
    pub method: u16,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub local_offset: u64,
    pub is_dir: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// Entries the archive declares (may exceed what was listed).
    pub declared_entries: u64,
    /// Problems: bad offsets, overlapping entries, entry limit reached.
    pub anomalies: Vec<String>,
    /// Entries' data overlap each other: a classic zip-bomb construction.
    pub overlapping: bool,
}

impl Listing {
    pub fn any_encrypted(&self) -> bool {
        self.entries.iter().any(|e| e.encrypted)
    }

    pub fn declared_uncompressed(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.uncompressed_size))
    }

    pub fn declared_compressed(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.compressed_size))
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    d.get(at..at + 8).map(|b| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_le_bytes(a)
    })
}

fn name_text(b: &[u8], utf8: bool) -> String {
    if utf8 {
        String::from_utf8_lossy(b).into_owned()
    } else {
        match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            // CP437 is the ZIP default; its letters above 127 matter little here.
            Err(_) => b
                .iter()
                .map(|&c| if c < 128 { c as char } else { '\u{FFFD}' })
                .collect(),
        }
    }
}

/// List a ZIP archive held in memory: `None` when there is no ZIP structure at all.
pub fn list(d: &[u8], max_entries: usize) -> Option<Listing> {
    let eocd = find_eocd(d);
    let Some(eocd) = eocd else {
        return d
            .starts_with(b"PK\x03\x04")
            .then(|| scan_local_headers(d, max_entries));
    };
    let mut listing = Listing::default();
    let mut total = u64::from(u16_at(d, eocd + 10)?);
    let mut cd_size = u64::from(u32_at(d, eocd + 12)?);
    let mut cd_off = u64::from(u32_at(d, eocd + 16)?);
    // ZIP64: the locator sits just before the end record.
    if (total == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_off == 0xFFFF_FFFF) && eocd >= 20 {
        let loc = eocd - 20;
        if d.get(loc..loc + 4) == Some(b"PK\x06\x07") {
            if let Some(rec) = u64_at(d, loc + 8).map(|v| v as usize) {
                if d.get(rec..rec + 4) == Some(b"PK\x06\x06") {
                    total = u64_at(d, rec + 32).unwrap_or(total);
                    cd_size = u64_at(d, rec + 40).unwrap_or(cd_size);
                    cd_off = u64_at(d, rec + 48).unwrap_or(cd_off);
                }
            }
        }
    }
    listing.declared_entries = total;
    // Data prepended to the archive (self-extractors) shifts every offset.
    let mut shift: i64 = 0;
    let cd_start = if d.get(cd_off as usize..cd_off as usize + 4) == Some(b"PK\x01\x02") {
        cd_off as usize
    } else {
        let guess = (eocd as u64).saturating_sub(cd_size) as usize;
        if d.get(guess..guess + 4) == Some(b"PK\x01\x02") {
            shift = guess as i64 - cd_off as i64;
            listing
                .anomalies
                .push("central directory is not where the archive says".into());
            guess
        } else {
            listing
                .anomalies
                .push("central directory not found: local headers scanned".into());
            let mut scanned = scan_local_headers(d, max_entries);
            scanned.anomalies.extend(listing.anomalies);
            return Some(scanned);
        }
    };
    let mut at = cd_start;
    while d.get(at..at + 4) == Some(b"PK\x01\x02") {
        if listing.entries.len() >= max_entries {
            listing.anomalies.push(format!(
                "more than {max_entries} entries: the rest were not listed"
            ));
            break;
        }
        let flags = u16_at(d, at + 8)?;
        let method = u16_at(d, at + 10)?;
        let mut csize = u64::from(u32_at(d, at + 20)?);
        let mut usize_ = u64::from(u32_at(d, at + 24)?);
        let nlen = usize::from(u16_at(d, at + 28)?);
        let elen = usize::from(u16_at(d, at + 30)?);
        let clen = usize::from(u16_at(d, at + 32)?);
        let mut off = u64::from(u32_at(d, at + 42)?);
        let name_bytes = d.get(at + 46..at + 46 + nlen)?;
        let extra = d.get(at + 46 + nlen..at + 46 + nlen + elen).unwrap_or(&[]);
        // ZIP64 extended information: 8-byte values for the fields that overflowed.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).unwrap_or(0);
            let len = usize::from(u16_at(extra, e + 2).unwrap_or(0));
            if id == 1 {
                let mut p = e + 4;
                if usize_ == 0xFFFF_FFFF {
                    usize_ = u64_at(extra, p).unwrap_or(usize_);
                    p += 8;
                }
                if csize == 0xFFFF_FFFF {
                    csize = u64_at(extra, p).unwrap_or(csize);
                    p += 8;
                }
                if off == 0xFFFF_FFFF {
                    off = u64_at(extra, p).unwrap_or(off);
                }
            }
            e += 4 + len;
        }
        let name = name_text(name_bytes, flags & 0x800 != 0);
        listing.entries.push(Entry {
            is_dir: name.ends_with('/') || name.ends_with('\\'),
            name,
            encrypted: flags & 1 != 0 || method == 99,
            method,
            compressed_size: csize,
            uncompressed_size: usize_,
            local_offset: (off as i64 + shift).max(0) as u64,
        });
        at += 46 + nlen + elen + clen;
    }
    check_overlap(&mut listing);
    Some(listing)
}

fn find_eocd(d: &[u8]) -> Option<usize> {
    if d.len() < 22 {
        return None;
    }
    let lowest = d.len().saturating_sub(22 + 65_535);
    let mut i = d.len() - 22;
    loop {
        if &d[i..i + 4] == b"PK\x05\x06" {
            return Some(i);
        }
        if i == lowest {
            return None;
        }
        i -= 1;
    }
}

/// Without a central directory (a cut archive): walk the local headers.
fn scan_local_headers(d: &[u8], max_entries: usize) -> Listing {
    let mut listing = Listing::default();
    let mut at = 0usize;
    while d.get(at..at + 4) == Some(b"PK\x03\x04") && listing.entries.len() < max_entries {
        let (Some(flags), Some(method), Some(csize), Some(usize_), Some(nlen), Some(elen)) = (
            u16_at(d, at + 6),
            u16_at(d, at + 8),
            u32_at(d, at + 18),
            u32_at(d, at + 22),
            u16_at(d, at + 26),
            u16_at(d, at + 28),
        ) else {
            break;
        };
        let nlen = usize::from(nlen);
        let Some(name) = d.get(at + 30..at + 30 + nlen) else {
            break;
        };
        let name = name_text(name, flags & 0x800 != 0);
        listing.entries.push(Entry {
            is_dir: name.ends_with('/'),
            name,
            encrypted: flags & 1 != 0 || method == 99,
            method,
            compressed_size: u64::from(csize),
            uncompressed_size: u64::from(usize_),
            local_offset: at as u64,
        });
        if flags & 8 != 0 && csize == 0 {
            listing
                .anomalies
                .push("entry sizes in data descriptors: listing stopped".into());
            break;
        }
        at = at + 30 + nlen + usize::from(elen) + csize as usize;
    }
    listing.declared_entries = listing.entries.len() as u64;
    listing
}

fn check_overlap(listing: &mut Listing) {
    let mut ranges: Vec<(u64, u64)> = listing
        .entries
        .iter()
        .filter(|e| !e.is_dir && e.compressed_size > 0)
        .map(|e| {
            (
                e.local_offset,
                e.local_offset.saturating_add(e.compressed_size),
            )
        })
        .collect();
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        listing.overlapping = true;
        listing
            .anomalies
            .push("entries share or overlap their data (an overlapping-entry zip bomb)".into());
    }
}

/// The content of one entry, inflated in memory to at most `limit` bytes. Returns the bytes
/// and whether more would have followed; an error when the entry cannot be read (encrypted,
/// unsupported method, damaged).
pub fn read(d: &[u8], e: &Entry, limit: usize) -> Result<(Vec<u8>, bool), String> {
    if e.encrypted {
        return Err("password-protected".into());
    }
    let at = usize::try_from(e.local_offset).map_err(|_| "bad offset")?;
    if d.get(at..at + 4) != Some(b"PK\x03\x04") {
        return Err("no local header at the entry's offset".into());
    }
    let nlen = usize::from(u16_at(d, at + 26).ok_or("cut local header")?);
    let elen = usize::from(u16_at(d, at + 28).ok_or("cut local header")?);
    let start = at + 30 + nlen + elen;
    let end = start
        .saturating_add(usize::try_from(e.compressed_size).unwrap_or(usize::MAX))
        .min(d.len());
    let data = d.get(start..end).ok_or("entry data outside the archive")?;
    match e.method {
        0 => {
            let n = data.len().min(limit);
            Ok((data[..n].to_vec(), data.len() > limit))
        }
        8 => {
            let mut out =
                Vec::with_capacity((e.uncompressed_size.min(limit as u64) as usize).min(1 << 20));
            let mut dec = flate2::read::DeflateDecoder::new(data).take(limit as u64 + 1);
            match dec.read_to_end(&mut out) {
                Ok(_) => {}
                Err(err) if out.is_empty() => return Err(format!("inflate: {err}")),
                Err(_) => {}
            }
            let cut = out.len() > limit;
            out.truncate(limit);
            Ok((out, cut))
        }
        m => Err(format!("compression method {m} not supported")),
    }
}

#[cfg(test)]
pub(crate) mod build {
    //! A tiny ZIP writer for tests (stored or deflated entries, optional encryption flag).

    use std::io::Write;

    pub struct Spec<'a> {
        pub name: &'a str,
        pub data: &'a [u8],
        pub deflate: bool,
        pub encrypted: bool,
    }

    pub fn zip(entries: &[Spec<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for e in entries {
            let body = if e.deflate {
                let mut enc =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
                enc.write_all(e.data).unwrap();
                enc.finish().unwrap()
            } else {
                e.data.to_vec()
            };
            let method: u16 = if e.deflate { 8 } else { 0 };
            let flags: u16 = if e.encrypted { 1 } else { 0 };
            let off = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(e.name.as_bytes());
            out.extend_from_slice(&body);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&20u16.to_le_bytes());
            central.extend_from_slice(&20u16.to_le_bytes());
            central.extend_from_slice(&flags.to_le_bytes());
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attrs
            central.extend_from_slice(&off.to_le_bytes());
            central.extend_from_slice(e.name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::{zip, Spec};
    use super::*;

    #[test]
    fn lists_and_reads_entries() {
        let z = zip(&[
            Spec {
                name: "a.txt",
                data: b"hello hello hello hello",
                deflate: true,
                encrypted: false,
            },
            Spec {
                name: "b.lnk",
                data: b"xyz",
                deflate: false,
                encrypted: true,
            },
        ]);
        let l = list(&z, 100).unwrap();
        assert_eq!(l.entries.len(), 2);
        assert!(l.any_encrypted());
        assert!(!l.overlapping);
        let (data, cut) = read(&z, &l.entries[0], 1000).unwrap();
        assert_eq!(data, b"hello hello hello hello");
        assert!(!cut);
        let (data, cut) = read(&z, &l.entries[0], 5).unwrap();
        assert_eq!((data.as_slice(), cut), (&b"hello"[..], true));
        assert!(read(&z, &l.entries[1], 1000).is_err());
        assert!(list(b"not a zip at all, not at all, really not", 10).is_none());
        // A cut archive still lists what its local headers say.
        let cut = &z[..z.len() - 30];
        let l = list(cut, 100).unwrap();
        assert!(!l.entries.is_empty());
    }
}
