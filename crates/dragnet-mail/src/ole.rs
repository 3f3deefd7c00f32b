//! OLE2 compound files (legacy Office documents, MSI, Outlook .msg): just enough to list the
//! directory's storage and stream names, bounded and loop-safe. That is what tells a macro
//! document (`VBA`, `_VBA_PROJECT`, `Macros`), an encrypted OOXML package (`EncryptedPackage`),
//! an embedded package object (`\x01Ole10Native`) or an installer (the MSI class id).

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    /// 1 storage, 2 stream, 5 root.
    pub kind: u8,
    pub size: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    pub entries: Vec<DirEntry>,
    /// The root entry's class id is the MSI one.
    pub msi: bool,
    pub anomalies: Vec<String>,
}

impl Directory {
    pub fn has(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// VBA project storage or streams: the document carries macros.
    pub fn has_macros(&self) -> bool {
        self.has("_VBA_PROJECT")
            || self.has("_VBA_PROJECT_CUR")
            || self.has("VBA")
            || self.has("Macros")
            || (self.has("PROJECT") && self.has("dir"))
    }

    /// An encrypted OOXML package (a password-protected .docx/.xlsx).
    pub fn encrypted_package(&self) -> bool {
        self.has("EncryptedPackage") || self.has("EncryptionInfo")
    }

    /// An embedded OLE package (can carry any file, executables included).
    pub fn ole_package(&self) -> bool {
        self.has("\u{1}Ole10Native")
    }

    /// An Outlook .msg item.
    pub fn outlook_msg(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.name.starts_with("__substg1.0_"))
    }
}

const MSI_CLSID: [u8; 16] = [
    0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
];
const FREESECT: u32 = 0xFFFF_FFFF;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Read the directory of a compound file; `None` when `d` is not one.
pub fn directory(d: &[u8], max_entries: usize) -> Option<Directory> {
    if !d.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) || d.len() < 512 {
        return None;
    }
    let mut dir = Directory::default();
    let shift = u16::from_le_bytes([d[0x1E], d[0x1F]]);
    if shift != 9 && shift != 12 {
        dir.anomalies.push(format!("odd sector size 2^{shift}"));
        return Some(dir);
    }
    let ss = 1usize << shift;
    let sectors = d.len().saturating_sub(ss) / ss + 1;
    let sector = |n: u32| -> Option<&[u8]> {
        let start = (n as usize).checked_add(1)?.checked_mul(ss)?;
        d.get(start..start + ss)
    };
    // The FAT sectors: 109 in the header, the rest through the DIFAT chain.
    let nfat = u32_at(d, 0x2C)? as usize;
    let mut fat_sectors: Vec<u32> = Vec::new();
    for i in 0..109 {
        let s = u32_at(d, 0x4C + 4 * i)?;
        if s != FREESECT && fat_sectors.len() < nfat {
            fat_sectors.push(s);
        }
    }
    let mut difat = u32_at(d, 0x44)?;
    let mut hops = 0;
    while difat != ENDOFCHAIN && difat != FREESECT && fat_sectors.len() < nfat && hops < sectors {
        let Some(sec) = sector(difat) else { break };
        let per = ss / 4 - 1;
        for i in 0..per {
            let s = u32_at(sec, 4 * i)?;
            if s != FREESECT && fat_sectors.len() < nfat {
                fat_sectors.push(s);
            }
        }
        difat = u32_at(sec, ss - 4)?;
        hops += 1;
    }
    let mut fat: Vec<u32> = Vec::with_capacity(fat_sectors.len() * ss / 4);
    for s in fat_sectors.iter().take(sectors) {
        let Some(sec) = sector(*s) else {
            dir.anomalies.push("FAT sector outside the file".into());
            break;
        };
        fat.extend(
            sec.chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    // Walk the directory chain; never visit a sector twice.
    let mut seen = vec![false; sectors + 1];
    let mut s = u32_at(d, 0x30)?;
    let mut first = true;
    while s != ENDOFCHAIN && s != FREESECT {
        let idx = s as usize;
        if idx >= seen.len() || seen[idx] {
            dir.anomalies
                .push("directory chain loops or leaves the file".into());
            break;
        }
        seen[idx] = true;
        let Some(sec) = sector(s) else { break };
        for ent in sec.chunks_exact(128) {
            if dir.entries.len() >= max_entries {
                dir.anomalies.push("directory entry limit reached".into());
                return Some(dir);
            }
            let nlen = u16::from_le_bytes([ent[64], ent[65]]) as usize;
            let kind = ent[66];
            if kind == 0 || !(2..=64).contains(&nlen) {
                continue;
            }
            let units: Vec<u16> = ent[..nlen - 2]
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            let name = String::from_utf16_lossy(&units);
            if first && kind == 5 {
                dir.msi = ent[80..96] == MSI_CLSID;
            }
            first = false;
            let size = u64::from(u32::from_le_bytes([ent[120], ent[121], ent[122], ent[123]]));
            dir.entries.push(DirEntry { name, kind, size });
        }
        s = match fat.get(idx) {
            Some(n) => *n,
            None => break,
        };
    }
    Some(dir)
}

#[cfg(test)]
pub(crate) mod build {
    /// A minimal compound file (512-byte sectors): one FAT sector, one directory sector
    /// with the given entry names (the first is the root).
    pub fn cfb(names: &[&str], root_clsid: Option<[u8; 16]>) -> Vec<u8> {
        let mut d = vec![0u8; 512 * 3];
        d[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        d[0x1E] = 9;
        d[0x2C] = 1; // one FAT sector
        d[0x30..0x34].copy_from_slice(&1u32.to_le_bytes()); // directory at sector 1
        d[0x44..0x48].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        for i in 0..109 {
            d[0x4C + 4 * i..0x50 + 4 * i].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        }
        d[0x4C..0x50].copy_from_slice(&0u32.to_le_bytes()); // FAT at sector 0
                                                            // FAT: sector 0 = FAT, sector 1 = end of chain.
        let fat = 512;
        d[fat..fat + 4].copy_from_slice(&0xFFFF_FFFDu32.to_le_bytes());
        d[fat + 4..fat + 8].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        for i in 2..128 {
            d[fat + 4 * i..fat + 4 * i + 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        }
        let dir = 1024;
        for (i, name) in names.iter().take(4).enumerate() {
            let e = dir + 128 * i;
            let units: Vec<u16> = name.encode_utf16().collect();
            for (j, u) in units.iter().enumerate() {
                d[e + 2 * j..e + 2 * j + 2].copy_from_slice(&u.to_le_bytes());
            }
            d[e + 64..e + 66].copy_from_slice(&((units.len() as u16 + 1) * 2).to_le_bytes());
            d[e + 66] = if i == 0 { 5 } else { 2 };
            if i == 0 {
                if let Some(c) = root_clsid {
                    d[e + 80..e + 96].copy_from_slice(&c);
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_directory_names() {
        let d = build::cfb(&["Root Entry", "_VBA_PROJECT", "WordDocument"], None);
        let dir = directory(&d, 100).unwrap();
        assert_eq!(dir.entries.len(), 3);
        assert!(dir.has_macros());
        assert!(!dir.msi);
        let d = build::cfb(&["Root Entry", "x"], Some(MSI_CLSID));
        assert!(directory(&d, 100).unwrap().msi);
        // A directory chain that points at itself terminates.
        let mut d = build::cfb(&["Root Entry"], None);
        d[512 + 4..512 + 8].copy_from_slice(&1u32.to_le_bytes());
        let dir = directory(&d, 100).unwrap();
        assert!(!dir.anomalies.is_empty());
        assert!(directory(b"nope", 10).is_none());
    }
}
