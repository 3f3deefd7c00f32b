//! YAML documents as a small tree that keeps line numbers and the raw text of scalars.
//!
//! Sigma rules and actor profiles need the raw text (a value `0x10`, `1.10` or `0123` must stay
//! that string) and whether a scalar was quoted (`null` vs `'null'`), so scalars are not
//! resolved by the YAML library.

mod block;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};

/// One YAML node with the 1-based line where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: usize,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A scalar: its text as written (after YAML unescaping) and whether it was plain (unquoted).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// A mapping with scalar keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// `null`, `~` or nothing, unquoted.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if matches!(text.as_str(), "" | "null" | "Null" | "NULL" | "~"))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A plain scalar's boolean meaning (YAML 1.2 core schema).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A string or a list of strings, as a list.
    pub fn string_list(&self) -> Vec<String> {
        match &self.kind {
            NodeKind::Scalar { .. } => self
                .as_str()
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            NodeKind::Map(_) => Vec::new(),
        }
    }

    /// What kind of node this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }
}

/// A YAML syntax error with its line.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Parse every document of a (multi-document) YAML text.
///
/// The parser's events build the tree directly (no intermediate YAML tree): scalars keep their
/// text and whether they were plain, tags are ignored, a key given twice in one mapping is an
/// error, and aliases are refused (rules and profiles do not need them, and refusing them
/// leaves no room for alias-expansion bombs).
pub fn parse_documents(src: &str) -> Result<Vec<Node>, YamlError> {
    // Plain block YAML (nearly every rule file) has a fast reader of its own.
    if let Some(docs) = block::parse(src) {
        return Ok(docs);
    }
    parse_documents_general(src)
}

/// [`parse_documents`] with the general YAML parser only (what the fast reader for plain
/// block YAML is compared with).
pub fn parse_documents_general(src: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(src);
    // The parser's events one by one (its own loader recurses once a level of nesting, and a
    // hostile text nested deeply enough would overflow the stack): the builder keeps its
    // open collections on a stack of its own, up to MAX_NESTING, and stops at its first error.
    while let Some(next) = parser.next_event() {
        match next {
            Ok((ev, span)) => {
                builder.on_event(ev, span);
                if builder.error.is_some() {
                    break;
                }
            }
            Err(e) => {
                return Err(YamlError {
                    line: e.marker().line(),
                    message: e.info().to_string(),
                })
            }
        }
    }
    match builder.error {
        Some(e) => Err(e),
        None => Ok(builder.docs),
    }
}

/// Collections open at once beyond which a text is refused (rules nest a few levels).
const MAX_NESTING: usize = 256;

/// The documents of `src` read by the fast reader for plain block YAML alone, `None` when the
/// text goes beyond what it reads (for comparisons and benchmarks).
pub fn parse_documents_block(src: &str) -> Option<Vec<Node>> {
    block::parse(src)
}

/// An open collection while its events arrive.
enum Open {
    Seq(usize, Vec<Node>),
    /// Its line, entries so far, and the key waiting for its value (with the key's line).
    Map(usize, Vec<(String, Node)>, Option<(String, usize)>),
}

/// Mappings at least this long find duplicate keys through an index, not a scan.
const INDEXED_MAP: usize = 16;

/// Builds [`Node`]s from the parser's events.
#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Open>,
    /// Key sets of the open mappings that reached [`INDEXED_MAP`] entries, by stack depth.
    indexes: Vec<(usize, std::collections::HashSet<String>)>,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, line: usize, message: &str) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                line,
                message: message.to_string(),
            });
        }
    }

    /// A finished node: into its parent, or a document of its own.
    fn add(&mut self, node: Node) {
        let depth = self.stack.len();
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => match node.kind {
                    NodeKind::Scalar { text, .. } => *pending = Some((text, node.line)),
                    _ => self.fail(node.line, "mapping keys must be scalars"),
                },
                Some((key, key_line)) => {
                    let indexed = self.indexes.last_mut().filter(|(d, _)| *d == depth);
                    let duplicate = match indexed {
                        Some((_, set)) => !set.insert(key.clone()),
                        None => entries.iter().any(|(k, _)| *k == key),
                    };
                    if duplicate {
                        self.fail(key_line, "duplicated key in mapping");
                        return;
                    }
                    entries.push((key, node));
                    if entries.len() == INDEXED_MAP
                        && self.indexes.last().is_none_or(|(d, _)| *d != depth)
                    {
                        let set = entries.iter().map(|(k, _)| k.clone()).collect();
                        self.indexes.push((depth, set));
                    }
                }
            },
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        if self.error.is_some() {
            return;
        }
        let line = span.start.line();
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {}
            Event::DocumentEnd => {
                if !self.stack.is_empty() {
                    self.fail(line, "unfinished YAML document");
                }
            }
            Event::Alias(_) => self.fail(line, "YAML aliases are not supported"),
            Event::Scalar(text, style, _, _) => self.add(Node {
                line,
                kind: NodeKind::Scalar {
                    text: text.into_owned(),
                    plain: matches!(style, ScalarStyle::Plain),
                },
            }),
            Event::SequenceStart(..) | Event::MappingStart(..)
                if self.stack.len() >= MAX_NESTING =>
            {
                self.fail(line, "YAML nested too deeply")
            }
            Event::SequenceStart(..) => self.stack.push(Open::Seq(line, Vec::new())),
            Event::MappingStart(..) => self.stack.push(Open::Map(line, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let depth = self.stack.len();
                if self.indexes.last().is_some_and(|(d, _)| *d == depth) {
                    self.indexes.pop();
                }
                let node = match self.stack.pop() {
                    Some(Open::Seq(line, items)) => Node {
                        line,
                        kind: NodeKind::Seq(items),
                    },
                    Some(Open::Map(line, entries, _)) => Node {
                        line,
                        kind: NodeKind::Map(entries),
                    },
                    None => return self.fail(line, "unbalanced YAML collection"),
                };
                self.add(node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_raw_scalars_quotes_and_lines() {
        let docs =
            parse_documents("a: 0x10\nb: '1.10'\nc: null\nd: 'null'\ne:\n  - x\n---\nf: 1\n")
                .unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().as_str(), Some("0x10"));
        assert_eq!(d.get("b").unwrap().as_str(), Some("1.10"));
        assert!(d.get("c").unwrap().is_null());
        assert!(!d.get("d").unwrap().is_null());
        assert_eq!(d.get("e").unwrap().line, 6);
        assert_eq!(docs[1].get("f").unwrap().line, 8);
    }

    #[test]
    fn duplicate_keys_aliases_and_collection_keys_are_errors_with_lines() {
        let e = parse_documents("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (4, "duplicated key in mapping")
        );
        let e = parse_documents("a: &x 1\nb: *x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("aliases"), "{e:?}");
        let e = parse_documents("x: 1\n? [a]\n: 1\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "mapping keys must be scalars")
        );
        // A long mapping finds duplicates through its index; nested maps keep their own keys.
        let mut text: String = (0..40).map(|i| format!("k{i}:\n  k{i}: {i}\n")).collect();
        let docs = parse_documents(&text).unwrap();
        assert_eq!(docs[0].as_map().unwrap().len(), 40);
        assert_eq!(
            docs[0].get("k39").unwrap().get("k39").unwrap().as_str(),
            Some("39")
        );
        text.push_str("k7: again\n");
        let e = parse_documents(&text).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (81, "duplicated key in mapping")
        );
        // Tags are ignored; an empty document is a null.
        let docs = parse_documents("x: !tag {a: 1}\n---\n").unwrap();
        assert_eq!(
            docs[0].get("x").unwrap().get("a").unwrap().as_str(),
            Some("1")
        );
        assert!(docs[1].is_null());
    }

    /// Nesting is bounded: a text nested deeper than rules ever are is refused with a line,
    /// however deep (the reader neither recurses once a level nor overflows its stack).
    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for depth in [300, 100_000] {
            let seq = format!("{}x\n", "- ".repeat(depth));
            let e = parse_documents(&seq).unwrap_err();
            assert_eq!((e.line, e.message.as_str()), (1, "YAML nested too deeply"));
        }
        // Indented mappings: the text grows with the square of the depth.
        for depth in [300, 3_000] {
            let map: String = (0..depth)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect();
            let e = parse_documents(&format!("{map}{}k: 1\n", " ".repeat(depth))).unwrap_err();
            assert_eq!(
                (e.line, e.message.as_str()),
                (257, "YAML nested too deeply")
            );
        }
        let ok = format!("{}x\n", "- ".repeat(200));
        assert_eq!(parse_documents(&ok).unwrap().len(), 1);
    }

    #[test]
    fn syntax_errors_have_lines() {
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }
}
