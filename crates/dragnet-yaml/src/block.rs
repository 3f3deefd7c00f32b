//! A fast reader for the plain block YAML that rule files are written in.
//!
//! Most rule files use a small part of YAML: block mappings and sequences, plain and quoted
//! one-line scalars, literal and folded block scalars, one-line flow sequences and comments.
//! This reader takes such a text a line at a time and builds the same [`Node`]s (same text,
//! same quoting, same lines) as the general parser, several times faster. Anything else
//! (anchors, tags, flow mappings, multi-line quoted or plain scalars, tabs, duplicate keys,
//! errors...) makes it give up with `None`, and the general parser reads the text instead:
//! what it accepts is a subset on which both agree (tested on every SigmaHQ rule).

use crate::{Node, NodeKind};

/// The documents of `src`, or `None` when it uses anything beyond the subset.
pub(crate) fn parse(src: &str) -> Option<Vec<Node>> {
    if src.contains(['\r', '\t', '\u{feff}']) {
        return None;
    }
    let mut r = Reader {
        lines: src.split('\n').collect(),
        pos: 0,
        virt: None,
        depth: 0,
    };
    let mut docs = Vec::new();
    let mut marked = false;
    while let Some(l) = r.peek() {
        if l.is_marker() {
            if l.indent != 0 || l.text.trim_end() != "---" {
                return None;
            }
            if marked {
                // An empty document.
                return None;
            }
            marked = true;
            r.advance();
            continue;
        }
        if l.indent != 0 {
            return None;
        }
        docs.push(r.node(0)?);
        marked = false;
        match r.peek() {
            None => {}
            Some(next) if next.is_marker() => {}
            Some(_) => return None,
        }
    }
    if marked || docs.is_empty() {
        return None;
    }
    Some(docs)
}

/// One line of structure: its number (1-based), indentation and text after the indentation.
#[derive(Clone, Copy)]
struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    fn is_marker(&self) -> bool {
        self.text.starts_with("---")
            && (self.text.len() == 3 || self.text.as_bytes()[3] == b' ')
            && self.indent == 0
            || self.text.starts_with("...") && self.indent == 0
    }
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    pos: usize,
    /// The rest of a sequence entry's line (`- key: value`), read as a line of its own at the
    /// column where it starts: (line index, column, text).
    virt: Option<(usize, usize, &'a str)>,
    /// Collections open (each a level of recursion): beyond [`MAX_DEPTH`] the reader gives up.
    depth: usize,
}

/// Nesting the reader follows; rule files nest a few levels (the general parser takes deeper
/// texts, without recursion of ours).
const MAX_DEPTH: usize = 64;

impl<'a> Reader<'a> {
    /// The next line of structure (blank and comment lines skipped).
    fn peek(&mut self) -> Option<Line<'a>> {
        while let Some(raw) = self.lines.get(self.pos) {
            if let Some((at, indent, text)) = self.virt {
                if at == self.pos {
                    return Some(Line {
                        no: at + 1,
                        indent,
                        text,
                    });
                }
            }
            let text = raw.trim_start_matches(' ');
            if text.trim_end_matches(' ').is_empty() || text.starts_with('#') {
                self.pos += 1;
                continue;
            }
            return Some(Line {
                no: self.pos + 1,
                indent: raw.len() - text.len(),
                text,
            });
        }
        None
    }

    fn advance(&mut self) {
        if self.virt.is_some_and(|(at, _, _)| at == self.pos) {
            self.virt = None;
        }
        self.pos += 1;
    }

    /// A block collection starting at the next line (which has `indent`).
    fn node(&mut self, indent: usize) -> Option<Node> {
        let l = self.peek()?;
        if l.indent != indent || l.is_marker() || self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let node = if is_entry(l.text) {
            self.seq(indent)
        } else if split_key(l.text).is_some() {
            self.map(indent)
        } else {
            None
        };
        self.depth -= 1;
        node
    }

    fn map(&mut self, indent: usize) -> Option<Node> {
        let line = self.peek()?.no;
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(l) = self.peek() {
            if l.indent < indent || l.is_marker() {
                break;
            }
            if l.indent > indent || is_entry(l.text) {
                return None;
            }
            let (key, rest) = split_key(l.text)?;
            self.advance();
            let value = self.value(indent, l.no, rest, true)?;
            if entries.iter().any(|(k, _)| *k == key) {
                return None;
            }
            entries.push((key, value));
        }
        Some(Node {
            line,
            kind: NodeKind::Map(entries),
        })
    }

    fn seq(&mut self, indent: usize) -> Option<Node> {
        let line = self.peek()?.no;
        let mut items = Vec::new();
        while let Some(l) = self.peek() {
            if l.indent < indent || l.is_marker() {
                break;
            }
            if l.indent > indent {
                return None;
            }
            if !is_entry(l.text) {
                break;
            }
            let rest = l.text[1..].trim_start_matches(' ');
            let column = indent + (l.text.len() - rest.len());
            if !rest.is_empty() && (is_entry(rest) || split_key(rest).is_some()) {
                // `- key: value` or `- - x`: a collection starting inside this line.
                self.virt = Some((self.pos, column, rest));
                items.push(self.node(column)?);
            } else {
                self.advance();
                items.push(self.value(indent, l.no, rest, false)?);
            }
        }
        Some(Node {
            line,
            kind: NodeKind::Seq(items),
        })
    }

    /// The value after a key (`in_map`) or a sequence dash on line `no` of a collection at
    /// `indent`: `rest` is what follows on that line.
    fn value(&mut self, indent: usize, no: usize, rest: &'a str, in_map: bool) -> Option<Node> {
        let rest = rest.trim_end_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            // A collection on the lines below (a mapping's sequence may sit at its indent),
            // else null.
            return match self.peek() {
                Some(l)
                    if !l.is_marker()
                        && (l.indent > indent
                            || (in_map && l.indent == indent && is_entry(l.text))) =>
                {
                    self.node(l.indent)
                }
                _ => None,
            };
        }
        let (text, plain, after) = match rest.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(indent, no, rest),
            b'"' | b'\'' => {
                let (t, after) = quoted(rest)?;
                (t, false, after)
            }
            b'[' => return self.flow_seq(indent, no, &rest[1..]),
            _ => {
                let t = plain(rest)?;
                (t.to_string(), true, "")
            }
        };
        if !ends_line(after) {
            return None;
        }
        // A scalar continued on the next lines is left to the general parser.
        if let Some(l) = self.peek() {
            if l.indent > indent && !l.is_marker() {
                return None;
            }
        }
        Some(Node {
            line: no,
            kind: NodeKind::Scalar { text, plain },
        })
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is on line `no`.
    fn block_scalar(&mut self, indent: usize, no: usize, header: &str) -> Option<Node> {
        let folded = header.starts_with('>');
        let mut rest = &header[1..];
        let strip = match rest.as_bytes().first() {
            Some(b'-') => {
                rest = &rest[1..];
                true
            }
            Some(b'+') | Some(b'0'..=b'9') => return None,
            _ => false,
        };
        if !ends_line(rest) {
            return None;
        }
        // The content: lines indented deeper than the collection, the first one setting the
        // block's indentation; blank lines inside are kept.
        let mut block_indent = None;
        let mut content: Vec<&str> = Vec::new();
        while let Some(raw) = self.lines.get(self.pos) {
            if raw.is_empty() {
                content.push("");
                self.pos += 1;
                continue;
            }
            let text = raw.trim_start_matches(' ');
            if text.is_empty() {
                // Spaces only: their meaning depends on the indentation; left to the parser.
                return None;
            }
            let ind = raw.len() - text.len();
            let at = *block_indent.get_or_insert(ind);
            if ind <= indent || ind < at {
                break;
            }
            if at <= indent {
                return None;
            }
            content.push(&raw[at..]);
            self.pos += 1;
        }
        let block_indent = block_indent?;
        if block_indent <= indent {
            return None;
        }
        // Blank lines at the end are not content (chomping: one newline kept, or none).
        let last = content.iter().rposition(|l| !l.is_empty())?;
        let body = &content[..=last];
        if body[0].is_empty() {
            return None;
        }
        let mut text = if folded {
            let mut out = String::new();
            let mut blanks = 0usize;
            for (i, l) in body.iter().enumerate() {
                if l.is_empty() {
                    blanks += 1;
                    continue;
                }
                if l.starts_with(' ') {
                    return None;
                }
                if i > 0 {
                    if blanks == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', blanks));
                    }
                }
                blanks = 0;
                out.push_str(l);
            }
            out
        } else {
            body.join("\n")
        };
        if !strip {
            text.push('\n');
        }
        // The general parser places a block scalar at its first line of content.
        Some(Node {
            line: no + 1,
            kind: NodeKind::Scalar { text, plain: false },
        })
    }

    /// A flow sequence of scalars that closes on its own line (`s` follows the `[`).
    fn flow_seq(&mut self, indent: usize, no: usize, s: &str) -> Option<Node> {
        let mut items = Vec::new();
        let mut s = s.trim_start_matches(' ');
        if let Some(after) = s.strip_prefix(']') {
            s = after;
        } else {
            loop {
                let (text, plain, after) = match s.as_bytes().first()? {
                    b'"' | b'\'' => {
                        let (t, a) = quoted(s)?;
                        (t, false, a)
                    }
                    _ => {
                        let end = s.find([',', ']'])?;
                        let t = s[..end].trim_end_matches(' ');
                        if t.is_empty()
                            || t.contains(['[', '{', '}', '#', ':', '"', '\''])
                            || !starts_plain(t)
                        {
                            return None;
                        }
                        (t.to_string(), true, &s[end..])
                    }
                };
                items.push(Node {
                    line: no,
                    kind: NodeKind::Scalar { text, plain },
                });
                let after = after.trim_start_matches(' ');
                if let Some(a) = after.strip_prefix(']') {
                    s = a;
                    break;
                }
                s = after.strip_prefix(',')?.trim_start_matches(' ');
                if s.starts_with(']') {
                    // A trailing comma.
                    return None;
                }
            }
        }
        if !ends_line(s) {
            return None;
        }
        if self
            .peek()
            .is_some_and(|l| l.indent > indent && !l.is_marker())
        {
            return None;
        }
        Some(Node {
            line: no,
            kind: NodeKind::Seq(items),
        })
    }
}

/// Whether what follows a value on its line is nothing, or spaces and a comment.
fn ends_line(after: &str) -> bool {
    let trimmed = after.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len())
}

/// `- ` or a lone `-`: a sequence entry.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A mapping entry's key and what follows its colon, if `text` is one.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.as_bytes()[0] {
        b'"' | b'\'' => quoted(text)?,
        _ => {
            if !starts_plain(text) {
                return None;
            }
            let b = text.as_bytes();
            let colon =
                (0..b.len()).find(|&i| b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' '))?;
            let key = text[..colon].trim_end_matches(' ');
            if key.is_empty() || key.contains(" #") {
                return None;
            }
            (key.to_string(), &text[colon..])
        }
    };
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

/// Whether a plain scalar may start this way (no indicator that means something else).
fn starts_plain(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(b'-' | b'?' | b':') => text.len() > 1 && text.as_bytes()[1] != b' ',
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`',
        ) => false,
        Some(_) => true,
    }
}

/// A one-line plain scalar: up to a comment, trailing spaces trimmed; `None` for what a plain
/// scalar cannot hold in block context.
fn plain(rest: &str) -> Option<&str> {
    if !starts_plain(rest) {
        return None;
    }
    let text = match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    }
    .trim_end_matches(' ');
    if text.contains(": ") || text.ends_with(':') {
        return None;
    }
    Some(text)
}

/// A quoted scalar that ends on this line (`s` starts with its quote, double or single): its
/// text and what follows the closing quote.
fn quoted(s: &str) -> Option<(String, &str)> {
    match s.as_bytes().first()? {
        b'"' => double_quoted(&s[1..]),
        b'\'' => single_quoted(&s[1..]),
        _ => None,
    }
}

/// A double-quoted scalar that ends on this line (`s` follows the opening quote): its text
/// and what follows the closing quote.
fn double_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| -> Option<char> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(v)
                };
                out.push(match e {
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\x0b',
                    'f' => '\x0c',
                    'r' => '\r',
                    'e' => '\x1b',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// A single-quoted scalar that ends on this line (`s` follows the opening quote).
fn single_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let i = rest.find('\'')?;
        out.push_str(&rest[..i]);
        if rest[i + 1..].starts_with('\'') {
            out.push('\'');
            rest = &rest[i + 2..];
        } else {
            return Some((out, &rest[i + 1..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::parse_documents_general as general;

    /// Every construct the reader takes, in one rule-like text and a few small ones: the same
    /// tree as the general parser's.
    #[test]
    fn reads_the_subset_as_the_general_parser_does() {
        let rule = r#"---
# a comment before the document
title: Example rule  # trailing comment
id: 5f0c-11ee
'quoted key': 'it''s'
"double key": "tab\there \"q\" \\ \x41\u00e9 é"
description: |
    First line
      more indented

    after a blank line
folded: >
    one
    two

    three
stripped: |-
    no newline
tags: [attack.t1059, 'quoted', "dq", -1]
empty: []
references:
- https://example.com/a#frag
- http://host:8080/path
detection:
    selection:
        - Image|endswith: '\cmd.exe'
          CommandLine|contains|all:
              - ' /c '
              - "x"
        - - nested
          - list
    filter_a#b: value with # inside a word # and a comment
    number: -1
    condition: selection and not 1 of filter_*
level: high
---
title: second
"#;
        let tests = [
            rule,
            "a: 1\n",
            "- a\n- b: c\n  d: e\n-   f: g\n    h: [i]\n",
            "k:\n    - x\n    -   y\n",
            "k: |\n  a\n\n  b\n\n\nnext: 1\n",
            "k: >-\n  a\n  b\n",
            "k: 'a' # c\nl: \"b\"   # c\n",
        ];
        for t in tests {
            let fast = parse(t).unwrap_or_else(|| panic!("not read: {t:?}"));
            assert_eq!(Ok(fast), general(t).map_err(|e| e.message), "{t:?}");
        }
    }

    /// Beyond the subset the reader gives up, and the general parser reads the text (the
    /// whole result, errors included, is the general parser's).
    #[test]
    fn gives_up_beyond_the_subset() {
        let deep = format!("{}x\n", "- ".repeat(100));
        let beyond = [
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: {b: 1}\n",
            "a: first\n  continued\n",
            "a: 'first\n  continued'\n",
            "a: \"first\n  continued\"\n",
            "a:\t1\n",
            "a: 1\r\nb: 2\r\n",
            "a: 1\na: 2\n",
            "a:\nb: 1\n",
            "a: |+\n  keep\n\n",
            "a: |2\n    x\n",
            "a: b: c\n",
            "---\n---\na: 1\n",
            "a: 1\n...\n",
            "a: |\n\n  x\n",
            "a: [x, ]\n",
            "a: [x,\n  y]\n",
            "? a\n: 1\n",
            "plain scalar\n",
            "a: 1\n  b: 2\n",
            "a: \"\\q\"\n",
            "a: |\n  x\n   \n  y\n",
            &deep,
        ];
        for t in beyond.iter().map(|t| &**t) {
            assert_eq!(parse(t), None, "read: {t:?}");
            let whole = crate::parse_documents(t).map_err(|e| (e.line, e.message));
            assert_eq!(whole, general(t).map_err(|e| (e.line, e.message)), "{t:?}");
        }
    }
}

#[cfg(test)]
mod mutations {
    use super::parse;
    use crate::parse_documents_general as general;

    /// Texts a few edits away from a rule (characters that mean something in YAML inserted,
    /// deleted or replaced, a deterministic sequence): the reader never panics, and whatever
    /// it reads is exactly what the general parser reads.
    #[test]
    fn near_rules_are_read_as_the_general_parser_reads_them_or_left_to_it() {
        let base = "title: Example\nid: 1\ntags:\n    - attack.t1059\n    - 'q''s'\ndetection:\n    sel:\n        - Image|endswith: '\\\\cmd.exe'\n          CommandLine: \"a \\\"b\\\"\"\n        - Other: [x, 'y']\n    note: |\n        line one\n          two\n\n        three\n    folded: >-\n        a\n        b\n    condition: sel # comment\nlevel: high\n---\ntitle: second\n";
        assert!(parse(base).is_some());
        let alphabet: Vec<char> = " -:#'\"|>[]{},\n\\x&*!?%0".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut read, mut tried) = (0, 0);
        for _ in 0..3000 {
            let mut chars: Vec<char> = base.chars().collect();
            for _ in 0..1 + next(3) {
                let at = next(chars.len());
                match next(3) {
                    0 => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, alphabet[next(alphabet.len())]),
                    _ => chars[at] = alphabet[next(alphabet.len())],
                }
            }
            let text: String = chars.into_iter().collect();
            tried += 1;
            if let Some(docs) = parse(&text) {
                read += 1;
                assert_eq!(Ok(docs), general(&text).map_err(|e| e.message), "{text:?}");
            }
        }
        // Most single edits leave a readable rule: the comparison is not vacuous.
        assert!(read * 3 > tried, "read {read} of {tried}");
    }
}
