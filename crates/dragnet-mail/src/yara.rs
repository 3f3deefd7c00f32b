//! YARA scanning of attachments and the files inside them (feature `yara`, with yara-x).
//!
//! [`load`] compiles the built-in pack ([`BUILTIN_RULES`]: shortcuts that launch command
//! interpreters, HTML smuggling, Office macro auto-execution) plus every `.yar` / `.yara` file
//! of a rules directory; [`YaraRules::scanner`] gives the [`crate::Scanner`] that
//! [`crate::MailConfig::scanner`] takes. Each scan has a time limit.

use crate::analyze::Scanner;
use std::path::Path;
use std::sync::Arc;

/// The project's own rules.
pub const BUILTIN_RULES: &str = r#"
rule dragnet_lnk_command_line
{
    meta:
        description = "Windows shortcut that launches a command interpreter or script host"
    strings:
        $lnk = { 4C 00 00 00 01 14 02 00 }
        $a = "powershell" ascii wide nocase
        $b = "cmd.exe" ascii wide nocase
        $c = "mshta" ascii wide nocase
        $d = "wscript" ascii wide nocase
        $e = "rundll32" ascii wide nocase
        $f = "certutil" ascii wide nocase
    condition:
        $lnk at 0 and any of ($a, $b, $c, $d, $e, $f)
}

rule dragnet_html_smuggling
{
    meta:
        description = "HTML that decodes a payload in script and hands it to the browser as a download"
    strings:
        $decode1 = "atob(" ascii nocase
        $decode2 = "fromCharCode" ascii
        $blob1 = "new Blob" ascii
        $blob2 = "createObjectURL" ascii
        $save1 = ".download" ascii
        $save2 = "msSaveOrOpenBlob" ascii
    condition:
        filesize < 20MB and any of ($decode*) and any of ($blob*) and any of ($save*)
}

rule dragnet_office_macro_autoexec
{
    meta:
        description = "Office VBA project with an auto-execution entry point"
    strings:
        $vba1 = "_VBA_PROJECT" wide
        $vba2 = "vbaProject.bin" ascii
        $vba3 = "Attribute VB_" ascii
        $auto1 = "AutoOpen" ascii nocase
        $auto2 = "Document_Open" ascii nocase
        $auto3 = "Workbook_Open" ascii nocase
        $auto4 = "Auto_Open" ascii nocase
    condition:
        any of ($vba*) and any of ($auto*)
}
"#;

/// Compiled rules. They live as long as the process (rules are loaded once per run), so
/// that each thread can keep one scanner for them instead of building one per file.
pub struct YaraRules {
    rules: &'static yara_x::Rules,
    /// Rule files loaded (the built-in pack not counted).
    pub files: usize,
}

/// Compile the built-in pack and the rules under `dir` (recursively).
pub fn load(dir: Option<&Path>) -> Result<YaraRules, String> {
    let mut compiler = yara_x::Compiler::new();
    compiler
        .add_source(BUILTIN_RULES)
        .map_err(|e| format!("built-in rules: {e}"))?;
    let mut files = 0;
    if let Some(dir) = dir {
        let mut stack = vec![dir.to_path_buf()];
        let mut paths = Vec::new();
        while let Some(d) = stack.pop() {
            if d.is_file() {
                paths.push(d);
                continue;
            }
            for e in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
                let p = e.map_err(|e| e.to_string())?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("yar") || x.eq_ignore_ascii_case("yara")
                }) {
                    paths.push(p);
                }
            }
        }
        paths.sort();
        for p in paths {
            let src = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            compiler
                .add_source(src.as_str())
                .map_err(|e| format!("{}: {e}", p.display()))?;
            files += 1;
        }
    }
    Ok(YaraRules {
        rules: Box::leak(Box::new(compiler.build())),
        files,
    })
}

impl YaraRules {
    /// Names of the rules that match `data`.
    pub fn scan(&self, data: &[u8]) -> Vec<String> {
        thread_local! {
            static SCANNER: std::cell::RefCell<Option<(usize, yara_x::Scanner<'static>)>> =
                const { std::cell::RefCell::new(None) };
        }
        let key = self.rules as *const yara_x::Rules as usize;
        SCANNER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(k, _)| *k != key) {
                let mut scanner = yara_x::Scanner::new(self.rules);
                scanner.set_timeout(std::time::Duration::from_secs(5));
                *slot = Some((key, scanner));
            }
            let Some((_, scanner)) = slot.as_mut() else {
                return Vec::new();
            };
            match scanner.scan(data) {
                Ok(results) => results
                    .matching_rules()
                    .map(|r| r.identifier().to_string())
                    .collect(),
                Err(_) => Vec::new(),
            }
        })
    }

    /// The rules as a [`Scanner`] for [`crate::MailConfig`].
    pub fn scanner(self) -> Scanner {
        let me = Arc::new(self);
        Arc::new(move |data: &[u8]| me.scan(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_match() {
        let r = load(None).unwrap();
        let mut lnk = vec![0x4C, 0, 0, 0, 1, 0x14, 2, 0];
        lnk.extend_from_slice(b"..powershell -w hidden..");
        assert_eq!(r.scan(&lnk), vec!["dragnet_lnk_command_line".to_string()]);
        let html = b"<script>var d=atob('x');var b=new Blob([d]);a.download='x.iso'</script>";
        assert_eq!(r.scan(html), vec!["dragnet_html_smuggling".to_string()]);
        assert!(r.scan(b"plain text").is_empty());
    }
}
