//! Detection semantics written from the Sigma v2.1 specification text: one test per modifier
//! and per condition form, with the edge cases the specification spells out.

use dragnet_event::{Event, Provenance, SourceFormat, Value};
use dragnet_sigma::{EngineBuilder, LoadOptions};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// A process_creation rule around a detection body.
fn rule(detection: &str) -> String {
    format!(
        "title: test\nid: 00000000-0000-4000-8000-000000000001\nauthor: spec\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{detection}\nlevel: high\n"
    )
}

fn event(fields: &[(&str, Value)]) -> Event {
    let mut e = Event::new(Provenance {
        path: "t.jsonl".into(),
        record: 1,
        format: SourceFormat::Jsonl,
    });
    e.push("Channel", Value::str(SYSMON));
    e.push("EventID", Value::Int(1));
    for (k, v) in fields {
        e.push(*k, v.clone());
    }
    e
}

fn s(v: &str) -> Value {
    Value::str(v)
}

/// Does the rule (detection body) fire on the event?
fn fires_opts(detection: &str, fields: &[(&str, Value)], opts: LoadOptions) -> bool {
    let mut b = EngineBuilder::new(opts);
    b.add_text(&rule(detection), "test.yml");
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "rule failed to load: {errors:?}");
    assert_eq!(engine.rule_count(), 1);
    let mut out = Vec::new();
    engine.detect_into(&event(fields), &mut out);
    !out.is_empty()
}

fn fires(detection: &str, fields: &[(&str, Value)]) -> bool {
    fires_opts(detection, fields, LoadOptions::default())
}

fn load_error(detection: &str) -> String {
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(&rule(detection), "test.yml");
    let (_, errors) = b.build();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    errors[0].to_string()
}

// ---- Values, lists, maps ----

#[test]
fn values_are_case_insensitive_by_default() {
    let d = "  sel:\n    Image: 'C:\\Windows\\System32\\CMD.exe'\n  condition: sel";
    assert!(fires(d, &[("Image", s(r"c:\windows\system32\cmd.EXE"))]));
    assert!(!fires(d, &[("Image", s(r"c:\windows\system32\cmd.exe2"))]));
}

#[test]
fn maps_are_and_lists_are_or() {
    let d = "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains:\n      - whoami\n      - ipconfig\n  condition: sel";
    assert!(fires(
        d,
        &[
            ("Image", s(r"C:\x\cmd.exe")),
            ("CommandLine", s("cmd /c IPCONFIG /all"))
        ]
    ));
    assert!(!fires(
        d,
        &[
            ("Image", s(r"C:\x\cmd.exe")),
            ("CommandLine", s("cmd /c dir"))
        ]
    ));
    assert!(!fires(
        d,
        &[("Image", s(r"C:\x\pwsh.exe")), ("CommandLine", s("whoami"))]
    ));
}

#[test]
fn list_of_maps_is_or() {
    let d = "  sel:\n    - Image|endswith: '\\example.exe'\n    - Description|contains: 'Test executable'\n  condition: sel";
    assert!(fires(d, &[("Image", s(r"C:\example.exe"))]));
    assert!(fires(d, &[("Description", s("A test EXECUTABLE here"))]));
    assert!(!fires(d, &[("Image", s(r"C:\other.exe"))]));
}

#[test]
fn wildcards_star_and_question_mark() {
    let d = "  sel:\n    Image: 'prog?.exe'\n  condition: sel";
    assert!(fires(d, &[("Image", s("progA.exe"))]));
    assert!(!fires(d, &[("Image", s("prog.exe"))]));
    let d = "  sel:\n    Image: 'antivirus_V*.exe'\n  condition: sel";
    assert!(fires(d, &[("Image", s("antivirus_V21.2.1.exe"))]));
}

#[test]
fn escaped_wildcards_are_plain_characters() {
    let d = "  sel:\n    CommandLine: 'a\\*b'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("a*b"))]));
    assert!(!fires(d, &[("CommandLine", s("axxb"))]));
    // `\\*`: backslash followed by a real wildcard.
    let d = "  sel:\n    CommandLine: 'C:\\\\*'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(r"C:\anything"))]));
    // `\\\*`: backslash and star both plain.
    let d = "  sel:\n    CommandLine: 'C:\\\\\\*'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(r"C:\*"))]));
    assert!(!fires(d, &[("CommandLine", s(r"C:\x"))]));
}

#[test]
fn null_means_absent_or_null_and_empty_means_empty() {
    let d = "  sel:\n    Image|endswith: '.exe'\n  filter:\n    PasswordLastSet: null\n  condition: sel and not filter";
    assert!(fires(
        d,
        &[("Image", s("a.exe")), ("PasswordLastSet", s("x"))]
    ));
    assert!(!fires(d, &[("Image", s("a.exe"))]));
    assert!(!fires(
        d,
        &[("Image", s("a.exe")), ("PasswordLastSet", Value::Null)]
    ));
    let d = "  sel:\n    ParentImage: ''\n  condition: sel";
    assert!(fires(d, &[("ParentImage", s(""))]));
    assert!(!fires(d, &[]));
    assert!(!fires(d, &[("ParentImage", s("x"))]));
    // `'null'` quoted is the text null.
    let d = "  sel:\n    ParentImage: 'null'\n  condition: sel";
    assert!(fires(d, &[("ParentImage", s("NULL"))]));
    assert!(!fires(d, &[]));
}

#[test]
fn null_in_a_value_list_is_rejected() {
    let e = load_error("  sel:\n    FieldB:\n      - ''\n      - null\n  condition: sel");
    assert!(e.contains("null"), "{e}");
}

#[test]
fn numbers_match_numeric_or_string_values() {
    let d = "  sel:\n    LogonType: 3\n  condition: sel";
    assert!(fires(d, &[("LogonType", Value::Int(3))]));
    assert!(fires(d, &[("LogonType", s("3"))]));
    assert!(fires(d, &[("LogonType", Value::Float(3.0))]));
    assert!(!fires(d, &[("LogonType", s("30"))]));
    // A quoted number is a string; still equal to the numeric field's text.
    let d = "  sel:\n    LogonType: '3'\n  condition: sel";
    assert!(fires(d, &[("LogonType", Value::Int(3))]));
    // Hex strings stay strings.
    let d = "  sel:\n    GrantedAccess: '0x1010'\n  condition: sel";
    assert!(fires(d, &[("GrantedAccess", s("0x1010"))]));
    assert!(!fires(d, &[("GrantedAccess", s("0x1410"))]));
}

#[test]
fn list_valued_fields_match_any_element() {
    let d = "  sel:\n    Tags: evil\n  condition: sel";
    assert!(fires(
        d,
        &[("Tags", Value::List(vec![s("good"), s("EVIL")]))]
    ));
    assert!(!fires(d, &[("Tags", Value::List(vec![s("good")]))]));
}

// ---- Generic modifiers ----

#[test]
fn modifier_contains_startswith_endswith() {
    assert!(fires(
        "  sel:\n    CommandLine|contains: 'urlcache'\n  condition: sel",
        &[("CommandLine", s("certutil -URLCACHE -f"))]
    ));
    assert!(fires(
        "  sel:\n    CommandLine|startswith: 'certutil'\n  condition: sel",
        &[("CommandLine", s("CertUtil -f"))]
    ));
    assert!(!fires(
        "  sel:\n    CommandLine|startswith: 'certutil'\n  condition: sel",
        &[("CommandLine", s("x certutil"))]
    ));
    assert!(fires(
        "  sel:\n    Image|endswith: '\\certutil.exe'\n  condition: sel",
        &[("Image", s(r"C:\W\certutil.exe"))]
    ));
    assert!(!fires(
        "  sel:\n    Image|endswith: '\\certutil.exe'\n  condition: sel",
        &[("Image", s(r"C:\W\certutil.exe.bak"))]
    ));
    // Wildcards inside a contains value still work.
    assert!(fires(
        "  sel:\n    CommandLine|contains: 'a*c'\n  condition: sel",
        &[("CommandLine", s("xxabbbcxx"))]
    ));
}

#[test]
fn modifier_all() {
    let d = "  sel:\n    CommandLine|contains|all:\n      - ' -enc '\n      - ' -nop '\n  condition: sel";
    assert!(fires(
        d,
        &[("CommandLine", s("powershell -nop -w hidden -enc AAA"))]
    ));
    assert!(!fires(d, &[("CommandLine", s("powershell -enc AAA"))]));
}

#[test]
fn modifier_exists() {
    let d =
        "  sel:\n    Image|endswith: '.exe'\n    PasswordLastSet|exists: true\n  condition: sel";
    assert!(fires(
        d,
        &[("Image", s("a.exe")), ("PasswordLastSet", Value::Null)]
    ));
    assert!(fires(
        d,
        &[("Image", s("a.exe")), ("PasswordLastSet", s(""))]
    ));
    assert!(!fires(d, &[("Image", s("a.exe"))]));
    let d =
        "  sel:\n    Image|endswith: '.exe'\n    PasswordLastSet|exists: false\n  condition: sel";
    assert!(fires(d, &[("Image", s("a.exe"))]));
    assert!(!fires(
        d,
        &[("Image", s("a.exe")), ("PasswordLastSet", s("x"))]
    ));
}

#[test]
fn modifier_cased() {
    let d = "  sel:\n    CommandLine|cased: 'Invoke-Mimikatz'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("Invoke-Mimikatz"))]));
    assert!(!fires(d, &[("CommandLine", s("invoke-mimikatz"))]));
    let d = "  sel:\n    CommandLine|contains|cased: 'Mimi'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("x Mimi y"))]));
    assert!(!fires(d, &[("CommandLine", s("x mimi y"))]));
}

#[test]
fn modifier_neq() {
    let d = "  sel:\n    Image|endswith: '.exe'\n    User|neq: 'SYSTEM'\n  condition: sel";
    assert!(fires(d, &[("Image", s("a.exe")), ("User", s("alice"))]));
    assert!(!fires(d, &[("Image", s("a.exe")), ("User", s("system"))]));
    // A list: different from every value.
    let d = "  sel:\n    Image|endswith: '.exe'\n    User|neq:\n      - SYSTEM\n      - alice\n  condition: sel";
    assert!(fires(d, &[("Image", s("a.exe")), ("User", s("bob"))]));
    assert!(!fires(d, &[("Image", s("a.exe")), ("User", s("ALICE"))]));
}

// ---- String modifiers ----

#[test]
fn modifier_windash_five_dashes() {
    let d = "  sel:\n    CommandLine|windash|contains: ' -urlcache '\n  condition: sel";
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let cl = format!("certutil {dash}urlcache -f http://x");
        assert!(fires(d, &[("CommandLine", s(&cl))]), "dash {dash:?}");
    }
    assert!(!fires(d, &[("CommandLine", s("certutil _urlcache"))]));
    // Two flags: every combination.
    let d = "  sel:\n    CommandLine|windash|contains: ' -a -b'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("x /a \u{2014}b"))]));
    // A dash inside a word is not a flag.
    let d = "  sel:\n    CommandLine|windash: 'set-item'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("set-item"))]));
    assert!(!fires(d, &[("CommandLine", s("set/item"))]));
}

#[test]
fn modifier_re_and_flags() {
    let d = "  sel:\n    CommandLine|re: '^C:\\\\Windows\\\\[a-z]{6}\\.exe$'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(r"C:\Windows\abcdef.exe"))]));
    // Case-sensitive by default.
    assert!(!fires(d, &[("CommandLine", s(r"C:\Windows\ABCDEF.exe"))]));
    let d = "  sel:\n    CommandLine|re|i: '^C:\\\\Windows\\\\[a-z]{6}\\.exe$'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(r"c:\windows\ABCDEF.EXE"))]));
    // m: ^ and $ at line ends; s: dot matches newline.
    let d = "  sel:\n    ScriptBlockText|re|m: '^evil$'\n  condition: sel";
    assert!(fires(d, &[("ScriptBlockText", s("good\nevil\nmore"))]));
    let d = "  sel:\n    ScriptBlockText|re: '^evil$'\n  condition: sel";
    assert!(!fires(d, &[("ScriptBlockText", s("good\nevil\nmore"))]));
    let d = "  sel:\n    ScriptBlockText|re|s: 'a.b'\n  condition: sel";
    assert!(fires(d, &[("ScriptBlockText", s("a\nb"))]));
    let d = "  sel:\n    ScriptBlockText|re: 'a.b'\n  condition: sel";
    assert!(!fires(d, &[("ScriptBlockText", s("a\nb"))]));
}

#[test]
fn regexes_are_linear_time_and_bounded() {
    // Catastrophic for a backtracking engine; linear here.
    let d = "  sel:\n    CommandLine|re: '(a+)+$'\n  condition: sel";
    let long = format!("{}!", "a".repeat(50_000));
    assert!(!fires(d, &[("CommandLine", s(&long))]));
    // A regex that compiles into a huge program is refused, not run (reported by
    // `compile_regexes`, which `rules validate` runs).
    let d = "  sel:\n    CommandLine|re: '(\\w{1000}){1000}'\n  condition: sel";
    assert!(!fires(d, &[("CommandLine", s(&"a".repeat(2000)))]));
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(&rule(d), "test.yml");
    let late = b.build().0.compile_regexes();
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(
        late[0].message.contains("regular expression"),
        "{}",
        late[0]
    );
}

#[test]
fn modifier_base64() {
    // base64('cmd') = Y21k
    let d = "  sel:\n    CommandLine|base64: 'cmd'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s("Y21k"))]));
    let d = "  sel:\n    CommandLine|base64|contains: 'http://'\n  condition: sel";
    // base64('http://') = aHR0cDovLw==
    assert!(fires(
        d,
        &[("CommandLine", s("powershell -e xaHR0cDovLw==x"))]
    ));
}

#[test]
fn modifier_base64offset_three_shifts() {
    // The three encodings of 'http://' at offsets 0, 1, 2 of a longer text.
    let d = "  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel";
    for prefix in ["", "x", "xy"] {
        let text = format!("{prefix}http://evil.example/payload");
        let enc = dragnet_sigma::modifiers::base64(text.as_bytes());
        assert!(
            fires(d, &[("CommandLine", s(&format!("-enc {enc}")))]),
            "offset {}",
            prefix.len()
        );
    }
    assert_eq!(
        dragnet_sigma::modifiers::base64_offsets(b"/bin/bash"),
        vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
    );
    assert!(!fires(d, &[("CommandLine", s("-enc aGVsbG8gd29ybGQ="))]));
}

#[test]
fn modifier_utf16_family_with_byte_order_marks() {
    use dragnet_sigma::modifiers::{base64, utf16};
    assert_eq!(utf16("cmd", false, false), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
    assert_eq!(utf16("cmd", true, false), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
    assert_eq!(
        utf16("cmd", false, true),
        vec![0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0]
    );
    // PowerShell -EncodedCommand is base64 of UTF-16LE.
    let ps = base64(&utf16("Invoke-WebRequest http://x", false, false));
    for m in ["utf16le", "wide"] {
        let d = format!("  sel:\n    CommandLine|{m}|base64offset|contains: 'Invoke-WebRequest'\n  condition: sel");
        assert!(
            fires(&d, &[("CommandLine", s(&format!("powershell -enc {ps}")))]),
            "{m}"
        );
    }
    let be = base64(&utf16("whoami", true, false));
    let d = "  sel:\n    CommandLine|utf16be|base64: 'whoami'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(&be))]));
    let bom = base64(&utf16("whoami", false, true));
    let d = "  sel:\n    CommandLine|utf16|base64: 'whoami'\n  condition: sel";
    assert!(fires(d, &[("CommandLine", s(&bom))]));
    assert!(!fires(d, &[("CommandLine", s(&be))]));
}

// ---- Numeric and time modifiers ----

#[test]
fn modifier_lt_lte_gt_gte() {
    let f = |m: &str, v: i64| {
        fires(
            &format!("  sel:\n    Size|{m}: 100\n  condition: sel"),
            &[("Size", Value::Int(v))],
        )
    };
    assert!(f("lt", 99) && !f("lt", 100));
    assert!(f("lte", 100) && !f("lte", 101));
    assert!(f("gt", 101) && !f("gt", 100));
    assert!(f("gte", 100) && !f("gte", 99));
    // Numeric text counts; other text does not.
    assert!(fires(
        "  sel:\n    Size|gt: 10\n  condition: sel",
        &[("Size", s("11"))]
    ));
    assert!(!fires(
        "  sel:\n    Size|gt: 10\n  condition: sel",
        &[("Size", s("eleven"))]
    ));
    assert!(load_error("  sel:\n    Size|gt: ten\n  condition: sel").contains("number"));
}

#[test]
fn time_modifiers() {
    let t = || s("2024-03-17T23:45:10Z");
    assert!(fires(
        "  sel:\n    UtcTime|minute: 45\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(fires(
        "  sel:\n    UtcTime|hour: 23\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(fires(
        "  sel:\n    UtcTime|day: 17\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(fires(
        "  sel:\n    UtcTime|week: 11\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(fires(
        "  sel:\n    UtcTime|month: 3\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(fires(
        "  sel:\n    UtcTime|year: 2024\n  condition: sel",
        &[("UtcTime", t())]
    ));
    assert!(!fires(
        "  sel:\n    UtcTime|hour: 22\n  condition: sel",
        &[("UtcTime", t())]
    ));
    // Sysmon's UtcTime form.
    assert!(fires(
        "  sel:\n    UtcTime|hour: 7\n  condition: sel",
        &[("UtcTime", s("2025-11-27 07:40:10.132"))]
    ));
    // Combined with a comparison: outside office hours.
    assert!(fires(
        "  sel:\n    UtcTime|hour|gte: 22\n  condition: sel",
        &[("UtcTime", t())]
    ));
}

// ---- IP and specific modifiers ----

#[test]
fn modifier_cidr_v4_and_v6() {
    let d = "  sel:\n    DestinationIp|cidr:\n      - 10.0.0.0/8\n      - 'fe80::/10'\n  condition: sel";
    assert!(fires(d, &[("DestinationIp", s("10.20.30.40"))]));
    assert!(!fires(d, &[("DestinationIp", s("11.0.0.1"))]));
    assert!(fires(d, &[("DestinationIp", s("fe80::1"))]));
    assert!(!fires(d, &[("DestinationIp", s("2001:db8::1"))]));
    assert!(!fires(d, &[("DestinationIp", s("not an ip"))]));
    let d = "  sel:\n    DestinationIp|cidr: 192.168.1.0/24\n  condition: sel";
    assert!(fires(d, &[("DestinationIp", s("192.168.1.255"))]));
    assert!(!fires(d, &[("DestinationIp", s("192.168.2.1"))]));
    assert!(
        load_error("  sel:\n    DestinationIp|cidr: 10.0.0.0/33\n  condition: sel")
            .contains("CIDR")
    );
}

#[test]
fn modifier_expand_placeholders() {
    let mut opts = LoadOptions::default();
    opts.placeholders
        .insert("Servers".into(), vec!["srv*".into(), "dc01".into()]);
    let d = "  sel:\n    Computer|expand: '%Servers%'\n  condition: sel";
    assert!(fires_opts(
        d,
        &[("Computer", s("SRV-FILE-03"))],
        opts.clone()
    ));
    assert!(fires_opts(d, &[("Computer", s("dc01"))], opts.clone()));
    assert!(!fires_opts(d, &[("Computer", s("ws17"))], opts.clone()));
    // Without expand a placeholder is a literal value.
    let d = "  sel:\n    Computer: '%Servers%'\n  condition: sel";
    assert!(fires_opts(d, &[("Computer", s("%servers%"))], opts.clone()));
    // Escaped percent stays plain.
    let d = "  sel:\n    Computer|expand: '\\%plain%Servers%'\n  condition: sel";
    assert!(fires_opts(d, &[("Computer", s("%plaindc01"))], opts));
    // Unresolved placeholder: the rule is reported and skipped.
    let e = load_error("  sel:\n    Computer|expand: '%Unknown%'\n  condition: sel");
    assert!(e.contains("Unknown"), "{e}");
}

#[test]
fn modifier_fieldref() {
    let d = "  sel:\n    ParentImage|fieldref: Image\n  condition: sel";
    assert!(fires(
        d,
        &[("Image", s("a.exe")), ("ParentImage", s("A.EXE"))]
    ));
    assert!(!fires(
        d,
        &[("Image", s("a.exe")), ("ParentImage", s("b.exe"))]
    ));
    assert!(!fires(d, &[("ParentImage", s("b.exe"))]));
    let d = "  sel:\n    ParentImage|fieldref|neq: Image\n  condition: sel";
    assert!(fires(
        d,
        &[("Image", s("a.exe")), ("ParentImage", s("b.exe"))]
    ));
    let d = "  sel:\n    CommandLine|fieldref|contains: Image\n  condition: sel";
    assert!(fires(
        d,
        &[
            ("Image", s("evil.exe")),
            ("CommandLine", s("run EVIL.exe now"))
        ]
    ));
}

#[test]
fn unknown_modifier_is_an_error_with_a_line() {
    let e = load_error("  sel:\n    Image|sartswith: x\n  condition: sel");
    assert!(e.contains("test.yml:") && e.contains("sartswith"), "{e}");
}

// ---- Keywords ----

#[test]
fn keywords_search_every_field() {
    let d = "  keywords:\n    - 'event::clear'\n    - 'event::drop'\n  condition: keywords";
    assert!(fires(
        d,
        &[("CommandLine", s("mimikatz EVENT::CLEAR exit"))]
    ));
    assert!(!fires(d, &[("CommandLine", s("mimikatz sekurlsa"))]));
    let d = "  keywords_cmdlet:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords_cmdlet";
    assert!(fires(
        d,
        &[(
            "Payload",
            s("Set-OabVirtualDirectory -ExternalUrl http://x")
        )]
    ));
    assert!(!fires(d, &[("Payload", s("Set-OabVirtualDirectory"))]));
    // All keywords may sit in different fields.
    assert!(fires(
        d,
        &[
            ("A", s("OabVirtualDirectory")),
            ("B", s("x -ExternalUrl y"))
        ]
    ));
}

/// Keyword atoms are found in all the event's values joined into one text (one scan an
/// event): a keyword must still lie within one value, numbers and list items are values too,
/// and the ASCII case of the value does not matter.
#[test]
fn keywords_lie_within_one_value() {
    let d = "  keywords:\n    - 'token::elevate'\n  condition: keywords";
    assert!(fires(d, &[("A", s("x TOKEN::Elevate y"))]));
    assert!(!fires(d, &[("A", s("x token::")), ("B", s("elevate y"))]));
    assert!(!fires(d, &[("A", s("token:")), ("B", s(":elevate"))]));
    let d = "  keywords:\n    - '4711'\n  condition: keywords";
    assert!(fires(d, &[("A", s("a")), ("Port", Value::Int(4711))]));
    assert!(!fires(d, &[("A", Value::Int(47)), ("B", Value::Int(11))]));
    assert!(fires(d, &[("L", Value::List(vec![s("x"), s("id 4711")]))]));
    let d = "  keywords:\n    - '-5'\n  condition: keywords";
    assert!(fires(d, &[("Delta", Value::Int(-5))]));
    // A keyword with a NUL in it: its longest NUL-free part narrows, the match decides.
    let d = "  keywords:\n    - \"ab\\0cd-long-part\"\n  condition: keywords";
    assert!(fires(d, &[("A", s("xAB\0CD-LONG-PART"))]));
    assert!(!fires(d, &[("A", s("cd-long-part"))]));
}

/// Integer values are joined only for keywords that could occur in them: an event seen first
/// by rules whose keywords cannot, then by a rule whose keyword is a number, is joined again
/// with its integers.
#[test]
fn number_keywords_see_integers_after_text_keywords() {
    let mut b = EngineBuilder::new(LoadOptions::default());
    // Process creation (the Sysmon EventID 1 bucket): a text keyword.
    b.add_text(
        &rule("  keywords:\n    - 'abc'\n  condition: keywords"),
        "a.yml",
    );
    // All of Sysmon (the channel-wide bucket, evaluated after the EventID one): a number.
    b.add_text(
        "title: n\nid: 00000000-0000-4000-8000-000000000002\nauthor: spec\nlogsource:\n  product: windows\n  service: sysmon\ndetection:\n  keywords:\n    - '4711'\n  condition: keywords\nlevel: high\n",
        "n.yml",
    );
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    let mut out = Vec::new();
    engine.detect_into(
        &event(&[("A", s("xABCx")), ("Port", Value::Int(4711))]),
        &mut out,
    );
    let mut titles: Vec<&str> = out.iter().map(|f| f.rule.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["n", "test"]);
}

// ---- Conditions ----

#[test]
fn condition_forms() {
    let body = |c: &str| {
        format!("  selection_a:\n    Image|endswith: a.exe\n  selection_b:\n    CommandLine|contains: b\n  filter_x:\n    User: x\n  _aux:\n    User: aux\n  condition: {c}")
    };
    let ev = |img: &str, cl: &str, user: &str| {
        vec![("Image", s(img)), ("CommandLine", s(cl)), ("User", s(user))]
    };
    assert!(fires(
        &body("selection_a and selection_b"),
        &ev("a.exe", "b", "u")
    ));
    assert!(!fires(
        &body("selection_a and selection_b"),
        &ev("a.exe", "c", "u")
    ));
    assert!(fires(
        &body("selection_a or selection_b"),
        &ev("z.exe", "b", "u")
    ));
    assert!(fires(&body("1 of selection_*"), &ev("z.exe", "b", "u")));
    assert!(!fires(&body("all of selection_*"), &ev("z.exe", "b", "u")));
    assert!(fires(
        &body("all of selection_* and not 1 of filter_*"),
        &ev("a.exe", "b", "u")
    ));
    assert!(!fires(
        &body("all of selection_* and not 1 of filter_*"),
        &ev("a.exe", "b", "x")
    ));
    assert!(fires(
        &body("(selection_a or selection_b) and not filter_x"),
        &ev("z.exe", "b", "u")
    ));
    assert!(fires(&body("2 of them"), &ev("a.exe", "b", "u")));
    assert!(!fires(&body("2 of them"), &ev("a.exe", "c", "u")));
    // `them` leaves out `_aux`.
    assert!(!fires(&body("1 of them"), &ev("z.exe", "c", "aux")));
    assert!(fires(&body("_aux"), &ev("z.exe", "c", "aux")));
    // A list of conditions is OR.
    let d = "  a:\n    Image: a.exe\n  b:\n    Image: b.exe\n  condition:\n    - a\n    - b";
    assert!(fires(d, &[("Image", s("b.exe"))]));
    // Precedence: not > and > or.
    assert!(fires(
        &body("selection_a or selection_b and filter_x"),
        &ev("a.exe", "c", "u")
    ));
    assert!(!fires(
        &body("not selection_a and selection_b"),
        &ev("a.exe", "b", "u")
    ));
}

// ---- Filters (meta rules) ----

#[test]
fn filter_rules_suppress_the_rules_they_name_only() {
    let rule_a = rule("  sel:\n    Image|endswith: '\\rar.exe'\n  condition: sel");
    let rule_b = rule("  sel:\n    Image|endswith: '\\rar.exe'\n  condition: sel")
        .replace(
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002",
        )
        .replace("title: test", "title: other");
    let filter = "title: Filter admin accounts\nid: f0000000-0000-4000-8000-000000000009\nlogsource:\n  category: process_creation\n  product: windows\nfilter:\n  rules:\n    - 00000000-0000-4000-8000-000000000001\n  selection:\n    User|startswith: 'adm_'\n  condition: selection\n";
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(&format!("{rule_a}---\n{rule_b}---\n{filter}"), "f.yml");
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(engine.filters().len(), 1);
    let titles = |user: &str| {
        let mut out = Vec::new();
        engine.detect_into(
            &event(&[("Image", s(r"C:\rar.exe")), ("User", s(user))]),
            &mut out,
        );
        let mut t: Vec<String> = out.iter().map(|f| f.rule.title.clone()).collect();
        t.sort();
        t
    };
    // The filter holds: the rule it names is silenced, the other one is not.
    assert_eq!(titles("adm_backup"), vec!["other"]);
    // The filter does not hold: both fire.
    assert_eq!(titles("alice"), vec!["other", "test"]);
}

/// A regular expression's syntax is checked when its rule loads (a bad one fails the rule);
/// it is compiled when an event first reaches it. One beyond the size limits loads, matches
/// nothing, and is reported by `compile_regexes` (what `rules validate` runs).
#[test]
fn regexes_are_checked_at_load_and_compiled_when_needed() {
    let e = load_error("  sel:\n    CommandLine|re: 'a(b'\n  condition: sel");
    assert!(
        e.contains("bad regular expression \"a(b\": regex parse error"),
        "{e}"
    );
    let huge = "  sel:\n    CommandLine|re: '\\w{5000}'\n  condition: sel";
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(&rule(huge), "huge.yml");
    let (engine, errors) = b.build();
    assert!(errors.is_empty(), "{errors:?}");
    let long = "x".repeat(6000);
    let mut out = Vec::new();
    engine.detect_into(&event(&[("CommandLine", s(&long))]), &mut out);
    assert!(
        out.is_empty(),
        "an expression that cannot be compiled matched"
    );
    let late = engine.compile_regexes();
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(late[0].message.contains("size limit"), "{}", late[0]);
    // One within the limits compiles, matches, and is not reported.
    assert!(fires(
        "  sel:\n    CommandLine|re: '^cmd.*who[a-z]+$'\n  condition: sel",
        &[("CommandLine", s("cmd /c whoami"))]
    ));
    let mut b = EngineBuilder::new(LoadOptions::default());
    b.add_text(
        &rule("  sel:\n    CommandLine|re: '\\w{50}'\n  condition: sel"),
        "ok.yml",
    );
    assert!(b.build().0.compile_regexes().is_empty());
}
