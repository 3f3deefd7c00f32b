//! YAML documents as a small tree that keeps line numbers and the raw text of scalars.
//!
//! Sigma needs the raw text (a value `0x10` or `1.10` must stay that string) and whether a
//! scalar was quoted (`null` vs `'null'`), so scalars are not resolved by the YAML library.

use saphyr::{MarkedYaml, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::Parser;

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
pub fn parse_documents(src: &str) -> Result<Vec<Node>, YamlError> {
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(src);
    if let Err(e) = parser.load(&mut loader, true) {
        return Err(YamlError {
            line: e.marker().line(),
            message: e.info().to_string(),
        });
    }
    if let Some(e) = loader.error() {
        return Err(YamlError {
            line: e.marker().line(),
            message: e.info().to_string(),
        });
    }
    loader.into_documents().iter().map(convert).collect()
}

fn convert(n: &MarkedYaml<'_>) -> Result<Node, YamlError> {
    let line = n.span.start.line();
    let kind = match &n.data {
        YamlData::Representation(text, style, _tag) => NodeKind::Scalar {
            text: text.to_string(),
            plain: matches!(style, ScalarStyle::Plain),
        },
        YamlData::Value(s) => NodeKind::Scalar {
            text: scalar_text(s),
            plain: true,
        },
        YamlData::Sequence(items) => {
            NodeKind::Seq(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        YamlData::Mapping(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m.iter() {
                let key = match &k.data {
                    YamlData::Representation(t, _, _) => t.to_string(),
                    YamlData::Value(s) => scalar_text(s),
                    _ => {
                        return Err(YamlError {
                            line: k.span.start.line(),
                            message: "mapping keys must be scalars".into(),
                        })
                    }
                };
                out.push((key, convert(v)?));
            }
            NodeKind::Map(out)
        }
        YamlData::Tagged(_, inner) => return convert(inner),
        YamlData::Alias(_) => {
            return Err(YamlError {
                line,
                message: "YAML aliases are not supported in Sigma rules".into(),
            })
        }
        YamlData::BadValue => {
            return Err(YamlError {
                line,
                message: "invalid YAML value".into(),
            })
        }
    };
    Ok(Node { line, kind })
}

fn scalar_text(s: &saphyr::Scalar<'_>) -> String {
    match s {
        saphyr::Scalar::Null => "null".into(),
        saphyr::Scalar::Boolean(b) => b.to_string(),
        saphyr::Scalar::Integer(i) => i.to_string(),
        saphyr::Scalar::FloatingPoint(f) => f.to_string(),
        saphyr::Scalar::String(s) => s.to_string(),
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
    fn syntax_errors_have_lines() {
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }
}
