//! What a file really is (magic bytes), and what its name claims it is (extension classes).

/// A file type told from content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Pe,
    Elf,
    MachO,
    Lnk,
    Iso,
    Vhd,
    Vhdx,
    /// OLE2 compound file (legacy Office, MSI, Outlook .msg).
    Cfb,
    Zip,
    Rar,
    SevenZip,
    Gzip,
    Cab,
    Pdf,
    Rtf,
    OneNote,
    Chm,
    Png,
    Jpeg,
    Gif,
    Bmp,
    Tiff,
    Webp,
    Ico,
    Html,
    Svg,
    Xml,
    Text,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pe => "PE executable",
            Kind::Elf => "ELF executable",
            Kind::MachO => "Mach-O executable",
            Kind::Lnk => "Windows shortcut (LNK)",
            Kind::Iso => "ISO 9660 disk image",
            Kind::Vhd => "VHD disk image",
            Kind::Vhdx => "VHDX disk image",
            Kind::Cfb => "OLE2 compound file",
            Kind::Zip => "ZIP archive",
            Kind::Rar => "RAR archive",
            Kind::SevenZip => "7-Zip archive",
            Kind::Gzip => "gzip",
            Kind::Cab => "CAB archive",
            Kind::Pdf => "PDF",
            Kind::Rtf => "RTF",
            Kind::OneNote => "OneNote section",
            Kind::Chm => "compiled HTML help (CHM)",
            Kind::Png => "PNG image",
            Kind::Jpeg => "JPEG image",
            Kind::Gif => "GIF image",
            Kind::Bmp => "BMP image",
            Kind::Tiff => "TIFF image",
            Kind::Webp => "WebP image",
            Kind::Ico => "icon",
            Kind::Html => "HTML",
            Kind::Svg => "SVG",
            Kind::Xml => "XML",
            Kind::Text => "text",
            Kind::Unknown => "unknown",
        }
    }

    pub fn is_executable(self) -> bool {
        matches!(self, Kind::Pe | Kind::Elf | Kind::MachO)
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Bmp | Kind::Tiff | Kind::Webp | Kind::Ico
        )
    }
}

const ONENOTE_MAGIC: [u8; 16] = [
    0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3,
];
const LNK_MAGIC: [u8; 8] = [0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00];

/// The type of `data`, from its first bytes (and a few known offsets).
pub fn sniff(data: &[u8]) -> Kind {
    let d = data;
    if d.starts_with(b"MZ") {
        // A PE has `PE\0\0` at e_lfanew; a bare `MZ` text file does not.
        if d.len() >= 0x40 {
            let off = u32::from_le_bytes([d[0x3c], d[0x3d], d[0x3e], d[0x3f]]) as usize;
            if off < d.len().saturating_sub(4) && &d[off..off + 4] == b"PE\0\0" {
                return Kind::Pe;
            }
        }
        if d.len() < 0x40 || d.len() < 1024 {
            return Kind::Pe;
        }
    }
    if d.starts_with(b"\x7fELF") {
        return Kind::Elf;
    }
    if d.starts_with(&[0xCF, 0xFA, 0xED, 0xFE]) || d.starts_with(&[0xCE, 0xFA, 0xED, 0xFE]) {
        return Kind::MachO;
    }
    if d.starts_with(&LNK_MAGIC) {
        return Kind::Lnk;
    }
    if d.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Kind::Cfb;
    }
    if d.starts_with(b"PK\x03\x04") || d.starts_with(b"PK\x05\x06") || d.starts_with(b"PK\x07\x08")
    {
        return Kind::Zip;
    }
    if d.starts_with(b"Rar!\x1a\x07") {
        return Kind::Rar;
    }
    if d.starts_with(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]) {
        return Kind::SevenZip;
    }
    if d.starts_with(&[0x1f, 0x8b]) {
        return Kind::Gzip;
    }
    if d.starts_with(b"MSCF") {
        return Kind::Cab;
    }
    if d.starts_with(&ONENOTE_MAGIC) {
        return Kind::OneNote;
    }
    if d.starts_with(b"ITSF") {
        return Kind::Chm;
    }
    if d.starts_with(b"vhdxfile") {
        return Kind::Vhdx;
    }
    if d.starts_with(b"conectix") || (d.len() >= 512 && d[d.len() - 512..].starts_with(b"conectix"))
    {
        return Kind::Vhd;
    }
    for off in [0x8001usize, 0x8801, 0x9001] {
        if d.len() >= off + 5 && &d[off..off + 5] == b"CD001" {
            return Kind::Iso;
        }
    }
    if d.len() >= 0x8006 && (&d[0x8001..0x8006] == b"BEA01" || &d[0x8001..0x8006] == b"NSR02") {
        return Kind::Iso;
    }
    if d.starts_with(b"\x89PNG") {
        return Kind::Png;
    }
    if d.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Kind::Jpeg;
    }
    if d.starts_with(b"GIF8") {
        return Kind::Gif;
    }
    if d.starts_with(b"BM") && d.len() > 14 {
        return Kind::Bmp;
    }
    if d.starts_with(b"II*\0") || d.starts_with(b"MM\0*") {
        return Kind::Tiff;
    }
    if d.starts_with(b"RIFF") && d.len() >= 12 && &d[8..12] == b"WEBP" {
        return Kind::Webp;
    }
    if d.starts_with(&[0, 0, 1, 0]) && d.len() > 22 {
        return Kind::Ico;
    }
    // %PDF may come after some junk (readers accept it within the first KiB).
    if memchr::memmem::find(&d[..d.len().min(1024)], b"%PDF-").is_some() {
        return Kind::Pdf;
    }
    if d.starts_with(b"{\\rt") {
        return Kind::Rtf;
    }
    let head = &d[..d.len().min(2048)];
    let text_like = head
        .iter()
        .filter(|&&b| b < 0x09 || (b > 0x0d && b < 0x20 && b != 0x1b))
        .count()
        * 20
        < head.len().max(1);
    if text_like {
        let lower: Vec<u8> = head
            .iter()
            .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
            .take(1024)
            .map(|b| b.to_ascii_lowercase())
            .collect();
        if memchr::memmem::find(&lower, b"<svg").is_some() {
            return Kind::Svg;
        }
        if lower.starts_with(b"<!doctype html")
            || lower.starts_with(b"<html")
            || memchr::memmem::find(&lower, b"<html").is_some()
            || memchr::memmem::find(&lower, b"<script").is_some()
            || memchr::memmem::find(&lower, b"<body").is_some()
        {
            return Kind::Html;
        }
        if lower.starts_with(b"<?xml") {
            return Kind::Xml;
        }
        return Kind::Text;
    }
    Kind::Unknown
}

/// What a file name's extension claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtClass {
    Executable,
    Script,
    Shortcut,
    DiskImage,
    Help,
    OneNote,
    Archive,
    OfficeMacro,
    Office,
    Html,
    Svg,
    Pdf,
    Image,
    Text,
    Calendar,
    Other,
}

/// The extension (lower case, without the dot) of a file name, if any.
pub fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    let dot = base.rfind('.')?;
    let ext = &base[dot + 1..];
    if ext.is_empty() || ext.len() > 24 || dot == 0 && base.len() < 2 {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

pub fn ext_class(ext: &str) -> ExtClass {
    match ext {
        "exe" | "scr" | "com" | "pif" | "cpl" | "dll" | "sys" | "msi" | "msp" | "mst" | "msix"
        | "msixbundle" | "appx" | "appxbundle" | "jar" | "xll" | "gadget" | "application"
        | "appref-ms" | "ocx" | "drv" | "efi" | "apk" | "dmg" | "pkg" | "elf" | "bin" => {
            ExtClass::Executable
        }
        "js" | "jse" | "vbs" | "vbe" | "wsf" | "wsh" | "wsc" | "hta" | "ps1" | "psm1" | "psd1"
        | "ps1xml" | "bat" | "cmd" | "sct" | "reg" | "inf" | "scf" | "vb" | "settingcontent-ms"
        | "library-ms" | "search-ms" | "searchconnector-ms" | "iqy" | "slk" | "msc" | "xbap"
        | "mshta" | "cpl.lnk" | "ws" | "pyw" | "sh" | "xsl" | "wcx" | "diagcab" => ExtClass::Script,
        "lnk" | "url" | "website" | "desktop" => ExtClass::Shortcut,
        "iso" | "img" | "vhd" | "vhdx" | "udf" => ExtClass::DiskImage,
        "chm" | "hlp" => ExtClass::Help,
        "one" | "onepkg" => ExtClass::OneNote,
        "zip" | "rar" | "7z" | "gz" | "tgz" | "tar" | "cab" | "ace" | "arj" | "lzh" | "lha"
        | "xz" | "bz2" | "z" | "uue" | "r00" | "r01" | "zipx" | "001" => ExtClass::Archive,
        "docm" | "dotm" | "xlsm" | "xltm" | "xlam" | "xlsb" | "pptm" | "potm" | "ppam" | "sldm"
        | "ppsm" => ExtClass::OfficeMacro,
        "doc" | "dot" | "xls" | "xlt" | "ppt" | "pps" | "pot" | "docx" | "dotx" | "xlsx"
        | "xltx" | "pptx" | "ppsx" | "potx" | "rtf" | "odt" | "ods" | "odp" | "wbk" | "xla" => {
            ExtClass::Office
        }
        "htm" | "html" | "shtml" | "xhtml" | "mht" | "mhtml" | "xht" => ExtClass::Html,
        "svg" | "svgz" => ExtClass::Svg,
        "pdf" => ExtClass::Pdf,
        "png" | "jpg" | "jpeg" | "gif" | "bmp" | "tif" | "tiff" | "webp" | "ico" | "heic" => {
            ExtClass::Image
        }
        "txt" | "csv" | "log" | "md" | "json" | "xml" | "eml" | "msg" => ExtClass::Text,
        "ics" | "vcs" | "vcf" => ExtClass::Calendar,
        _ => ExtClass::Other,
    }
}

/// Extensions that a user is tricked into taking for a document when they come first
/// (`invoice.pdf.exe`).
pub fn is_document_like_ext(ext: &str) -> bool {
    matches!(
        ext_class(ext),
        ExtClass::Office | ExtClass::Pdf | ExtClass::Image | ExtClass::Text | ExtClass::Html
    ) || matches!(ext, "mp3" | "mp4" | "wav" | "avi" | "mov")
}

/// Does the content type `kind` fit what the extension claims? `None`: no opinion.
pub fn ext_fits_kind(ext: &str, kind: Kind) -> Option<bool> {
    if kind == Kind::Unknown {
        return None;
    }
    let expected: &[Kind] = match ext {
        "pdf" => &[Kind::Pdf],
        "png" => &[Kind::Png],
        "jpg" | "jpeg" => &[Kind::Jpeg],
        "gif" => &[Kind::Gif],
        "bmp" => &[Kind::Bmp],
        "zip" => &[Kind::Zip],
        "rar" => &[Kind::Rar],
        "7z" => &[Kind::SevenZip],
        "docx" | "xlsx" | "pptx" | "docm" | "xlsm" | "pptm" | "dotm" | "xltm" | "ppsx" | "ppsm" => {
            &[Kind::Zip, Kind::Cfb]
        }
        "doc" | "xls" | "ppt" | "msg" => &[Kind::Cfb, Kind::Rtf, Kind::Html, Kind::Xml, Kind::Zip],
        "rtf" => &[Kind::Rtf],
        "txt" | "csv" => &[Kind::Text],
        "exe" | "dll" | "scr" | "cpl" | "xll" | "sys" | "ocx" => &[Kind::Pe],
        "lnk" => &[Kind::Lnk],
        "iso" => &[Kind::Iso],
        "one" => &[Kind::OneNote],
        "chm" => &[Kind::Chm],
        _ => return None,
    };
    Some(expected.contains(&kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_and_classifies() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Kind::Pdf);
        assert_eq!(sniff(&LNK_MAGIC), Kind::Lnk);
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(b"<html><body>x</body></html>"), Kind::Html);
        assert_eq!(sniff(b"<?xml version='1.0'?><svg onload='x'/>"), Kind::Svg);
        assert_eq!(sniff(b"plain words"), Kind::Text);
        let mut iso = vec![0u8; 0x9000];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(sniff(&iso), Kind::Iso);
        assert_eq!(extension("Invoice.PDF.exe "), Some("exe".into()));
        assert_eq!(extension("noext"), None);
        assert_eq!(ext_class("lnk"), ExtClass::Shortcut);
        assert_eq!(ext_fits_kind("pdf", Kind::Pe), Some(false));
        assert_eq!(ext_fits_kind("pdf", Kind::Pdf), Some(true));
    }
}
