//! Value modifiers: where `Field|mod1|mod2: value` becomes a matcher.
//!
//! Transformation modifiers (`contains`, `windash`, `base64`, `utf16*`, `expand`, ...) rewrite
//! the rule's values in the order written; type modifiers (`re`, `cidr`, `lt`, `hour`,
//! `fieldref`, `exists`, ...) choose how the final values are compared; `all`, `neq` and
//! `cased` change how the values combine.

use crate::matcher::{Cidr, CmpOp, FieldItem, LazyRegex, Matcher, TimePart};
use crate::pattern::{plain_text, tokenize, TextPattern, Token};
use crate::yaml::{Node, NodeKind};
use std::collections::HashMap;

/// Every modifier of Sigma v2.1 (and the `i`/`m`/`s` regex flags).
pub const MODIFIERS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "all",
    "exists",
    "cased",
    "neq",
    "windash",
    "re",
    "i",
    "m",
    "s",
    "base64",
    "base64offset",
    "utf16le",
    "wide",
    "utf16be",
    "utf16",
    "lt",
    "lte",
    "gt",
    "gte",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "cidr",
    "expand",
    "fieldref",
];

/// Values for `%placeholder%` expansion (the `expand` modifier).
pub type Placeholders = HashMap<String, Vec<String>>;

/// A value on its way through the transformation modifiers.
#[derive(Clone, Debug)]
enum Val {
    Text(Vec<Token>),
    Bytes(Vec<u8>),
}

impl Val {
    fn into_tokens(self) -> Vec<Token> {
        match self {
            Val::Text(t) => t,
            Val::Bytes(b) => {
                let s = match String::from_utf8(b) {
                    Ok(s) => s,
                    Err(e) => e.into_bytes().iter().map(|&c| c as char).collect(),
                };
                if s.is_empty() {
                    Vec::new()
                } else {
                    vec![Token::Lit(s)]
                }
            }
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            Val::Text(t) => plain_text(t).into_bytes(),
            Val::Bytes(b) => b.clone(),
        }
    }
    fn text(&self) -> String {
        match self {
            Val::Text(t) => plain_text(t),
            Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// A raw rule value: its text, whether it was a plain (unquoted) YAML scalar, or null.
#[derive(Clone, Debug)]
pub struct RawValue {
    pub text: Option<String>,
    pub plain: bool,
}

impl RawValue {
    pub fn from_node(n: &Node) -> Result<RawValue, String> {
        if n.is_null() {
            return Ok(RawValue {
                text: None,
                plain: true,
            });
        }
        match &n.kind {
            NodeKind::Scalar { text, plain } => Ok(RawValue {
                text: Some(text.clone()),
                plain: *plain,
            }),
            _ => Err(format!("expected a value, found {}", n.describe())),
        }
    }
}

/// Compile one `field|modifiers: values` entry. `field` is `None` for keywords.
pub fn compile_item(
    field: Option<&str>,
    modifiers: &[&str],
    values: &[RawValue],
    placeholders: &Placeholders,
) -> Result<FieldItem, String> {
    let mut all = false;
    let mut negate = false;
    let mut cased = false;
    let mut exists = false;
    let mut re = false;
    let mut re_flags = (false, false, false);
    let mut cmp: Option<CmpOp> = None;
    let mut time: Option<TimePart> = None;
    let mut cidr = false;
    let mut fieldref = false;
    // Position of a contains/startswith/endswith wrap applied to fieldref or regex.
    let mut wrap: Option<&str> = None;
    let mut transforms: Vec<&str> = Vec::new();

    for &m in modifiers {
        match m {
            "all" => all = true,
            "neq" => negate = true,
            "cased" => cased = true,
            "exists" => exists = true,
            "re" => re = true,
            "i" | "m" | "s" if re => match m {
                "i" => re_flags.0 = true,
                "m" => re_flags.1 = true,
                _ => re_flags.2 = true,
            },
            "lt" => cmp = Some(CmpOp::Lt),
            "lte" => cmp = Some(CmpOp::Lte),
            "gt" => cmp = Some(CmpOp::Gt),
            "gte" => cmp = Some(CmpOp::Gte),
            "minute" => time = Some(TimePart::Minute),
            "hour" => time = Some(TimePart::Hour),
            "day" => time = Some(TimePart::Day),
            "week" => time = Some(TimePart::Week),
            "month" => time = Some(TimePart::Month),
            "year" => time = Some(TimePart::Year),
            "cidr" => cidr = true,
            "fieldref" => fieldref = true,
            "contains" | "startswith" | "endswith" => {
                wrap = Some(m);
                transforms.push(m);
            }
            "windash" | "base64" | "base64offset" | "utf16le" | "wide" | "utf16be" | "utf16"
            | "expand" => transforms.push(m),
            "i" | "m" | "s" => return Err(format!("modifier '{m}' is only valid after 're'")),
            other => return Err(format!("unknown modifier '{other}'")),
        }
    }
    if all && values.len() < 2 && field.is_some() {
        // The specification forbids `all` on a single value; it is harmless, so accept it.
        all = false;
    }

    if exists {
        let [v] = values else {
            return Err("'exists' takes a single boolean".into());
        };
        let b = match v.text.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("true") | Some("yes") => true,
            Some("false") | Some("no") => false,
            _ => return Err("'exists' takes true or false".into()),
        };
        return Ok(FieldItem {
            field: field.map(str::to_string),
            alternatives: vec![vec![Matcher::Exists(b)]],
            all: false,
            negate,
        });
    }

    let mut alternatives: Vec<Vec<Matcher>> = Vec::with_capacity(values.len());
    for v in values {
        let Some(text) = &v.text else {
            if values.len() > 1 {
                return Err("null cannot be part of a list of values".into());
            }
            alternatives.push(vec![Matcher::Null]);
            continue;
        };
        if re {
            let r = LazyRegex::new(text, [re_flags.0, re_flags.1, re_flags.2])
                .map_err(|e| format!("bad regular expression {text:?}: {e}"))?;
            alternatives.push(vec![Matcher::Regex(Box::new(r))]);
            continue;
        }
        if cidr {
            let c = Cidr::parse(text).ok_or_else(|| format!("bad CIDR network {text:?}"))?;
            alternatives.push(vec![Matcher::Cidr(c)]);
            continue;
        }
        if let Some(part) = time {
            let n: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("time modifier needs a number, got {text:?}"))?;
            alternatives.push(vec![Matcher::Time {
                part,
                op: cmp,
                value: n,
            }]);
            continue;
        }
        if let Some(op) = cmp {
            let n: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("'{}' needs a number, got {text:?}", op.name()))?;
            alternatives.push(vec![Matcher::Cmp(op, n)]);
            continue;
        }
        if fieldref {
            alternatives.push(vec![Matcher::FieldRef {
                other: text.clone(),
                wrap: wrap.map(str::to_string),
                fold: !cased,
            }]);
            continue;
        }

        // String values: placeholders first (on the raw text, so that escapes survive), then
        // wildcards and escapes, then the transformations in order.
        let raw = if transforms.contains(&"expand") {
            expand(text, placeholders)?
        } else {
            vec![text.clone()]
        };
        let mut vals: Vec<Val> = raw.iter().map(|r| Val::Text(tokenize(r))).collect();
        for &t in transforms.iter().filter(|&&t| t != "expand") {
            vals = apply_transform(t, vals)?;
        }
        let fold_case = !cased;
        let plain_number = v.plain && transforms.is_empty() && looks_numeric(text);
        let mut alts = Vec::with_capacity(vals.len());
        for val in vals {
            let tokens = val.into_tokens();
            if plain_number {
                if let Ok(n) = text.trim().parse::<f64>() {
                    alts.push(Matcher::Number {
                        value: n,
                        text: TextPattern::compile(&tokens, fold_case),
                    });
                    continue;
                }
            }
            alts.push(Matcher::Text {
                pattern: TextPattern::compile(&tokens, fold_case),
                fold: fold_case,
            });
        }
        alternatives.push(alts);
    }
    Ok(FieldItem {
        field: field.map(str::to_string),
        alternatives,
        all,
        negate,
    })
}

fn looks_numeric(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.bytes().any(|b| b.is_ascii_digit())
}

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
const MAX_EXPANSION: usize = 4096;

fn apply_transform(t: &str, vals: Vec<Val>) -> Result<Vec<Val>, String> {
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        match t {
            "contains" | "startswith" | "endswith" => {
                let mut tokens = v.into_tokens();
                if t != "startswith" && tokens.first() != Some(&Token::Star) {
                    tokens.insert(0, Token::Star);
                }
                if t != "endswith" && tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
                out.push(Val::Text(tokens));
            }
            "windash" => {
                for tokens in windash(&v.into_tokens()) {
                    out.push(Val::Text(tokens));
                }
            }
            "base64" => out.push(Val::Bytes(base64(&v.bytes()).into_bytes())),
            "base64offset" => {
                for s in base64_offsets(&v.bytes()) {
                    out.push(Val::Bytes(s.into_bytes()));
                }
            }
            "utf16le" | "wide" => out.push(Val::Bytes(utf16(&v.text(), false, false))),
            "utf16be" => out.push(Val::Bytes(utf16(&v.text(), true, false))),
            "utf16" => out.push(Val::Bytes(utf16(&v.text(), false, true))),
            other => return Err(format!("unknown transformation '{other}'")),
        }
        if out.len() > MAX_EXPANSION {
            return Err(format!("'{t}' expands to more than {MAX_EXPANSION} values"));
        }
    }
    Ok(out)
}

/// Every permutation of the five dash characters at the places where a command-line flag
/// starts: a `-` or `/` not preceded by a word character and followed by one.
pub fn windash(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut results: Vec<Vec<Token>> = vec![Vec::new()];
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    for (ti, tok) in tokens.iter().enumerate() {
        let Token::Lit(s) = tok else {
            for r in &mut results {
                r.push(tok.clone());
            }
            continue;
        };
        let chars: Vec<char> = s.chars().collect();
        // Split the literal at flag-dash positions.
        let mut pieces: Vec<Option<String>> = Vec::new(); // None = a dash slot
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev_word = if i > 0 {
                is_word(chars[i - 1])
            } else {
                // Previous token's last character.
                match ti.checked_sub(1).map(|p| &tokens[p]) {
                    Some(Token::Lit(p)) => p.chars().last().is_some_and(is_word),
                    _ => false,
                }
            };
            let next_word = chars.get(i + 1).copied().is_some_and(is_word);
            if (c == '-' || c == '/') && !prev_word && next_word {
                if !cur.is_empty() {
                    pieces.push(Some(std::mem::take(&mut cur)));
                }
                pieces.push(None);
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            pieces.push(Some(cur));
        }
        for piece in pieces {
            match piece {
                Some(text) => {
                    for r in &mut results {
                        push_lit(r, &text);
                    }
                }
                None => {
                    let mut next = Vec::with_capacity(results.len() * DASHES.len());
                    for r in &results {
                        for d in DASHES {
                            let mut r2 = r.clone();
                            push_lit(&mut r2, d.encode_utf8(&mut [0; 4]));
                            next.push(r2);
                        }
                    }
                    results = next;
                    if results.len() > MAX_EXPANSION {
                        return results;
                    }
                }
            }
        }
    }
    results
}

fn push_lit(tokens: &mut Vec<Token>, s: &str) {
    if let Some(Token::Lit(last)) = tokens.last_mut() {
        last.push_str(s);
    } else {
        tokens.push(Token::Lit(s.to_string()));
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard Base64 with padding.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// The three Base64 forms of `data` at byte offsets 0, 1 and 2 inside a longer encoded text:
/// the characters that depend on the neighbouring bytes are cut off.
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_CUT: [usize; 3] = [0, 3, 2];
    let mut out = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut buf = vec![b' '; shift];
        buf.extend_from_slice(data);
        let enc = base64(&buf);
        let cut = END_CUT[(data.len() + shift) % 3];
        let end = enc.len().saturating_sub(cut);
        let start = START[shift].min(end);
        out.push(enc[start..end].to_string());
    }
    out
}

/// UTF-16 bytes of `s`, little- or big-endian, with a byte order mark (`FF FE`) when `bom`.
pub fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in s.encode_utf16() {
        let b = if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    out
}

/// Expand `%name%` placeholders; `\%` is a plain percent sign. Each placeholder multiplies the
/// value by its list of replacements.
pub fn expand(s: &str, ph: &Placeholders) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                chars.next();
                for r in &mut results {
                    r.push('%');
                }
            }
            '%' => {
                let mut name = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == '%' {
                        closed = true;
                        break;
                    }
                    name.push(n);
                }
                if !closed {
                    for r in &mut results {
                        r.push('%');
                        r.push_str(&name);
                    }
                    continue;
                }
                let values = ph
                    .get(&name)
                    .or_else(|| {
                        ph.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                            .map(|(_, v)| v)
                    })
                    .ok_or_else(|| {
                        format!(
                            "placeholder %{name}% has no values (give them with --placeholders)"
                        )
                    })?;
                let mut next = Vec::with_capacity(results.len() * values.len());
                for r in &results {
                    for v in values {
                        next.push(format!("{r}{v}"));
                    }
                }
                results = next;
                if results.len() > MAX_EXPANSION {
                    return Err(format!(
                        "placeholders expand to more than {MAX_EXPANSION} values"
                    ));
                }
            }
            c => {
                for r in &mut results {
                    r.push(c);
                }
            }
        }
    }
    Ok(results)
}
