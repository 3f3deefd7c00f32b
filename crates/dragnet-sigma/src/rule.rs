//! Parsing Sigma documents (detection rules, filters, correlations) into checked structures.

use crate::condition::{self, Cond};
use crate::matcher::FieldItem;
use crate::modifiers::{compile_item, Placeholders, RawValue};
use crate::yaml::{Node, NodeKind};
use dragnet_event::{Level, RuleMeta};
use std::sync::Arc;

/// A rule-level problem with the line it concerns.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// The `logsource` of a rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl LogSource {
    fn parse(n: Option<&Node>) -> LogSource {
        let get = |k: &str| {
            n.and_then(|n| n.get(k))
                .and_then(Node::as_str)
                .map(|s| s.trim().to_ascii_lowercase())
        };
        LogSource {
            product: get("product"),
            category: get("category"),
            service: get("service"),
        }
    }

    /// `product/category/service`, with `-` for what is missing.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.product.as_deref().unwrap_or("-"),
            self.category.as_deref().unwrap_or("-"),
            self.service.as_deref().unwrap_or("-")
        )
    }
}

/// One search identifier: a map (AND of items) or a list of maps (OR), or keywords.
#[derive(Debug)]
pub struct Selection {
    /// OR of branches; each branch is an AND of items.
    pub branches: Vec<Vec<FieldItem>>,
}

/// The `detection` section, compiled.
#[derive(Debug)]
pub struct Detection {
    pub names: Vec<String>,
    pub selections: Vec<Selection>,
    pub condition: Cond,
}

/// A Sigma detection rule.
#[derive(Debug)]
pub struct SigmaRule {
    pub meta: Arc<RuleMeta>,
    pub level: Level,
    pub name: Option<String>,
    pub logsource: LogSource,
    pub detection: Detection,
    /// `fields`: what the analyst wants to see.
    pub fields: Vec<String>,
    /// Modifiers used (for statistics).
    pub modifiers: Vec<String>,
    pub line: usize,
}

/// A Sigma filter (meta rule): its detection is AND-NOT-ed onto the rules it names.
#[derive(Debug)]
pub struct FilterRule {
    pub title: String,
    pub id: String,
    pub logsource: LogSource,
    pub rules: Vec<String>,
    pub detection: Detection,
    pub line: usize,
}

/// Correlation types of the specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
    ValueMedian,
}

impl CorrelationType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "event_count" => Self::EventCount,
            "value_count" => Self::ValueCount,
            "temporal" => Self::Temporal,
            "temporal_ordered" => Self::TemporalOrdered,
            "value_sum" => Self::ValueSum,
            "value_avg" => Self::ValueAvg,
            "value_percentile" => Self::ValuePercentile,
            "value_median" => Self::ValueMedian,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventCount => "event_count",
            Self::ValueCount => "value_count",
            Self::Temporal => "temporal",
            Self::TemporalOrdered => "temporal_ordered",
            Self::ValueSum => "value_sum",
            Self::ValueAvg => "value_avg",
            Self::ValuePercentile => "value_percentile",
            Self::ValueMedian => "value_median",
        }
    }
}

/// A comparison in a correlation condition.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationCondition {
    /// (operator, threshold): gt, gte, lt, lte, eq, neq.
    pub tests: Vec<(String, f64)>,
    pub field: Option<String>,
    /// value_percentile: which percentile.
    pub percentile: Option<f64>,
}

/// A Sigma correlation rule (evaluated by the correlation engine).
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub meta: Arc<RuleMeta>,
    pub level: Level,
    pub name: Option<String>,
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Seconds.
    pub timespan: u64,
    pub condition: CorrelationCondition,
    /// alias -> (rule reference -> field)
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub generate: bool,
    pub line: usize,
}

/// Any Sigma document.
#[derive(Debug)]
pub enum RuleDoc {
    Detection(SigmaRule),
    Filter(FilterRule),
    Correlation(CorrelationRule),
}

fn text(n: &Node, key: &str) -> String {
    n.get(key)
        .and_then(Node::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Parse one YAML document. `source` names where it came from (for findings).
pub fn parse_document(doc: &Node, source: &str, ph: &Placeholders) -> Result<RuleDoc, ParseError> {
    if doc.as_map().is_none() {
        return err(
            doc.line,
            format!("a Sigma document must be a map, found {}", doc.describe()),
        );
    }
    let title = text(doc, "title");
    if title.is_empty() {
        return err(doc.line, "missing 'title'");
    }
    let id_or_name = {
        let id = text(doc, "id");
        if id.is_empty() {
            text(doc, "name")
        } else {
            id
        }
    };
    let meta = |kind: &str| RuleMeta {
        id: id_or_name.clone(),
        title: title.clone(),
        author: text(doc, "author"),
        status: text(doc, "status"),
        description: text(doc, "description"),
        tags: doc.get("tags").map(Node::string_list).unwrap_or_default(),
        references: doc
            .get("references")
            .map(Node::string_list)
            .unwrap_or_default(),
        falsepositives: doc
            .get("falsepositives")
            .map(Node::string_list)
            .unwrap_or_default(),
        source: source.to_string(),
        kind: kind.to_string(),
    };
    let level = match doc.get("level").and_then(Node::as_str) {
        Some(l) => l.parse::<Level>().map_err(|e| ParseError {
            line: doc.get("level").map_or(doc.line, |n| n.line),
            message: e,
        })?,
        None => Level::Medium,
    };
    let name = doc.get("name").and_then(Node::as_str).map(str::to_string);

    if let Some(c) = doc.get("correlation") {
        return parse_correlation(c, Arc::new(meta("correlation")), level, name, doc.line)
            .map(RuleDoc::Correlation);
    }
    if let Some(f) = doc.get("filter") {
        let rules = f.get("rules").map(Node::string_list).unwrap_or_default();
        if rules.is_empty() {
            return err(
                f.line,
                "a filter needs 'rules': the ids or names of the rules it filters",
            );
        }
        let detection = parse_detection(f, ph, &["rules"])?;
        return Ok(RuleDoc::Filter(FilterRule {
            title,
            id: text(doc, "id"),
            logsource: LogSource::parse(doc.get("logsource")),
            rules,
            detection,
            line: doc.line,
        }));
    }
    let Some(det) = doc.get("detection") else {
        return err(
            doc.line,
            "missing 'detection' (or 'correlation' / 'filter')",
        );
    };
    if doc.get("logsource").and_then(Node::as_map).is_none() {
        return err(doc.line, "missing 'logsource'");
    }
    let detection = parse_detection(det, ph, &[])?;
    let mut modifiers = Vec::new();
    collect_modifiers(det, &mut modifiers);
    Ok(RuleDoc::Detection(SigmaRule {
        meta: Arc::new(meta("sigma")),
        level,
        name,
        logsource: LogSource::parse(doc.get("logsource")),
        detection,
        fields: doc.get("fields").map(Node::string_list).unwrap_or_default(),
        modifiers,
        line: doc.line,
    }))
}

fn collect_modifiers(det: &Node, out: &mut Vec<String>) {
    let visit_map = |m: &[(String, Node)], out: &mut Vec<String>| {
        for (k, _) in m {
            for md in k.split('|').skip(1) {
                if !out.iter().any(|o| o == md) {
                    out.push(md.to_string());
                }
            }
        }
    };
    for (k, v) in det.as_map().unwrap_or(&[]) {
        if k == "condition" {
            continue;
        }
        match &v.kind {
            NodeKind::Map(m) => visit_map(m, out),
            NodeKind::Seq(items) => {
                for i in items {
                    if let Some(m) = i.as_map() {
                        visit_map(m, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Parse a detection (or a filter's) section: selections plus condition.
pub fn parse_detection(
    det: &Node,
    ph: &Placeholders,
    skip: &[&str],
) -> Result<Detection, ParseError> {
    let Some(map) = det.as_map() else {
        return err(det.line, "'detection' must be a map");
    };
    let mut names = Vec::new();
    let mut selections = Vec::new();
    let mut cond_node = None;
    for (k, v) in map {
        match k.as_str() {
            "condition" => cond_node = Some(v),
            "timeframe" => {}
            k if skip.contains(&k) => {}
            _ => {
                names.push(k.clone());
                selections.push(parse_selection(v, ph)?);
            }
        }
    }
    let Some(cond_node) = cond_node else {
        return err(det.line, "missing 'condition'");
    };
    let conds: Vec<(usize, String)> = match &cond_node.kind {
        NodeKind::Scalar { text, .. } => vec![(cond_node.line, text.clone())],
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| (i.line, i.as_str().unwrap_or("").to_string()))
            .collect(),
        NodeKind::Map(_) => return err(cond_node.line, "'condition' must be a string or a list"),
    };
    let mut parsed = Vec::new();
    for (line, c) in conds {
        parsed.push(condition::parse(&c, &names).map_err(|m| ParseError {
            line,
            message: format!("condition: {m}"),
        })?);
    }
    let condition = if parsed.len() == 1 {
        parsed.pop().unwrap()
    } else {
        Cond::Or(parsed)
    };
    Ok(Detection {
        names,
        selections,
        condition,
    })
}

fn parse_selection(v: &Node, ph: &Placeholders) -> Result<Selection, ParseError> {
    match &v.kind {
        NodeKind::Map(m) => Ok(Selection {
            branches: vec![parse_map(m, v.line, ph)?],
        }),
        NodeKind::Seq(items) => {
            if items.iter().all(|i| i.as_map().is_some()) && !items.is_empty() {
                let mut branches = Vec::new();
                for i in items {
                    branches.push(parse_map(i.as_map().unwrap(), i.line, ph)?);
                }
                Ok(Selection { branches })
            } else if items
                .iter()
                .all(|i| matches!(i.kind, NodeKind::Scalar { .. }))
            {
                let values = items
                    .iter()
                    .map(RawValue::from_node)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|m| ParseError {
                        line: v.line,
                        message: m,
                    })?;
                let item = keyword_item(&[], &values, ph).map_err(|m| ParseError {
                    line: v.line,
                    message: m,
                })?;
                Ok(Selection {
                    branches: vec![vec![item]],
                })
            } else {
                err(
                    v.line,
                    "a selection list must hold only maps or only values",
                )
            }
        }
        NodeKind::Scalar { .. } => {
            let values = vec![RawValue::from_node(v).map_err(|m| ParseError {
                line: v.line,
                message: m,
            })?];
            let item = keyword_item(&[], &values, ph).map_err(|m| ParseError {
                line: v.line,
                message: m,
            })?;
            Ok(Selection {
                branches: vec![vec![item]],
            })
        }
    }
}

/// Keywords match anywhere in any field: an implicit `contains` unless a regex.
fn keyword_item(
    mods: &[&str],
    values: &[RawValue],
    ph: &Placeholders,
) -> Result<FieldItem, String> {
    let mut m: Vec<&str> = mods.to_vec();
    if !m.contains(&"re")
        && !m
            .iter()
            .any(|x| matches!(*x, "contains" | "startswith" | "endswith"))
    {
        m.push("contains");
    }
    compile_item(None, &m, values, ph)
}

fn parse_map(
    m: &[(String, Node)],
    line: usize,
    ph: &Placeholders,
) -> Result<Vec<FieldItem>, ParseError> {
    let mut items = Vec::with_capacity(m.len());
    for (key, val) in m {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("").trim();
        let mods: Vec<&str> = parts.map(str::trim).collect();
        let values: Vec<RawValue> = match &val.kind {
            NodeKind::Seq(items) => {
                if items.is_empty() {
                    return err(val.line, format!("'{key}' has an empty list of values"));
                }
                items
                    .iter()
                    .map(RawValue::from_node)
                    .collect::<Result<_, _>>()
                    .map_err(|e| ParseError {
                        line: val.line,
                        message: format!("'{key}': {e}"),
                    })?
            }
            _ => vec![RawValue::from_node(val).map_err(|e| ParseError {
                line: val.line,
                message: format!("'{key}': {e}"),
            })?],
        };
        let item = if field.is_empty() {
            keyword_item(&mods, &values, ph)
        } else {
            compile_item(Some(field), &mods, &values, ph)
        }
        .map_err(|e| ParseError {
            line: val.line.max(line),
            message: format!("'{key}': {e}"),
        })?;
        items.push(item);
    }
    Ok(items)
}

fn parse_timespan(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        "M" => 2_592_000,
        "y" => 31_536_000,
        _ => return None,
    };
    Some(n * mult)
}

fn parse_correlation(
    c: &Node,
    meta: Arc<RuleMeta>,
    level: Level,
    name: Option<String>,
    line: usize,
) -> Result<CorrelationRule, ParseError> {
    let kind_s = text(c, "type");
    let Some(kind) = CorrelationType::parse(&kind_s) else {
        return err(c.line, format!("unknown correlation type {kind_s:?}"));
    };
    let rules = c.get("rules").map(Node::string_list).unwrap_or_default();
    if rules.is_empty() {
        return err(c.line, "a correlation needs 'rules'");
    }
    let timespan_node = c.get("timespan").or_else(|| c.get("timeframe"));
    let timespan = match timespan_node.and_then(Node::as_str) {
        Some(t) => parse_timespan(t).ok_or_else(|| ParseError {
            line: timespan_node.map_or(c.line, |n| n.line),
            message: format!("bad timespan {t:?} (e.g. 30s, 5m, 1h, 2d)"),
        })?,
        None => return err(c.line, "a correlation needs 'timespan'"),
    };
    let group_by = c.get("group-by").map(Node::string_list).unwrap_or_default();
    let mut condition = CorrelationCondition {
        tests: Vec::new(),
        field: None,
        percentile: None,
    };
    match c.get("condition") {
        Some(cn) => {
            for (k, v) in cn.as_map().unwrap_or(&[]) {
                match k.as_str() {
                    "field" => condition.field = v.as_str().map(str::to_string),
                    "percentile" => condition.percentile = v.as_str().and_then(|s| s.parse().ok()),
                    "gt" | "gte" | "lt" | "lte" | "eq" | "neq" => {
                        let n: f64 =
                            v.as_str()
                                .and_then(|s| s.trim().parse().ok())
                                .ok_or_else(|| ParseError {
                                    line: v.line,
                                    message: format!("condition '{k}' needs a number"),
                                })?;
                        condition.tests.push((k.clone(), n));
                    }
                    other => {
                        return err(v.line, format!("unknown correlation condition '{other}'"))
                    }
                }
            }
            if condition.tests.is_empty() {
                return err(
                    cn.line,
                    "correlation condition has no comparison (gt, gte, lt, lte, eq, neq)",
                );
            }
        }
        None if matches!(
            kind,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        ) =>
        {
            // Temporal correlations default to "all rules seen".
            condition.tests.push(("gte".into(), rules.len() as f64));
        }
        None => return err(c.line, "a correlation needs 'condition'"),
    }
    let needs_field = matches!(
        kind,
        CorrelationType::ValueCount
            | CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian
    );
    if needs_field && condition.field.is_none() {
        return err(
            c.line,
            format!("{} needs 'condition: field'", kind.as_str()),
        );
    }
    let mut aliases = Vec::new();
    if let Some(a) = c.get("aliases").and_then(Node::as_map) {
        for (alias, m) in a {
            let pairs = m
                .as_map()
                .unwrap_or(&[])
                .iter()
                .filter_map(|(r, f)| f.as_str().map(|f| (r.clone(), f.to_string())))
                .collect();
            aliases.push((alias.clone(), pairs));
        }
    }
    let generate = c.get("generate").and_then(Node::as_bool).unwrap_or(false);
    Ok(CorrelationRule {
        meta,
        level,
        name,
        kind,
        rules,
        group_by,
        timespan,
        condition,
        aliases,
        generate,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Some(30));
        assert_eq!(parse_timespan("5m"), Some(300));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("2d"), Some(172_800));
        assert_eq!(parse_timespan("1x"), None);
        assert_eq!(parse_timespan("m"), None);
    }

    #[test]
    fn errors_name_the_line() {
        let src = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image|bogus: x\n  condition: sel\n";
        let doc = &parse_documents(src).unwrap()[0];
        let e = parse_document(doc, "t.yml", &Placeholders::new()).unwrap_err();
        assert_eq!(e.line, 6, "{e:?}");
        assert!(e.message.contains("bogus"), "{e:?}");
    }
}
