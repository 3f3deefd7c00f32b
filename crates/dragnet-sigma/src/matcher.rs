//! Compiled field matchers and their evaluation on one event.
//!
//! This is the per-event hot path: field values are lowercased at most once per event
//! ([`EvalCtx`] caches them), and every comparison is a plain string or number operation.

use crate::pattern::{fold, TextPattern};
use dragnet_event::{Event, Timestamp, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::IpAddr;

/// One `field|modifiers: values` entry of a selection (or a keyword list when `field` is None).
#[derive(Debug)]
pub struct FieldItem {
    pub field: Option<String>,
    /// One entry per rule value; each holds the alternatives that value expanded into
    /// (windash, base64offset, placeholders...), OR-ed.
    pub alternatives: Vec<Vec<Matcher>>,
    /// `|all`: every rule value must match (otherwise any).
    pub all: bool,
    /// `|neq`: the field must differ from the values.
    pub negate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
        }
    }
    fn test(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `fe80::/10`, or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            _ => false,
        }
    }
}

/// A `|re` value. Its syntax is checked when the rule loads; it is compiled (the costly part
/// of loading such a rule, and most expressions are never reached: the prefilter keeps events
/// away from them) the first time a value is tested against it.
pub struct LazyRegex {
    pattern: Box<str>,
    /// Case-insensitive, multi-line, dot matches new line.
    flags: [bool; 3],
    compiled: std::sync::OnceLock<Result<regex::Regex, String>>,
}

impl LazyRegex {
    /// Size limits of the compiled expression (a bigger one is refused when it is compiled).
    const SIZE_LIMIT: usize = 1 << 22;

    /// A pattern with its flags (case-insensitive, multi-line, dot matches new line), or the
    /// syntax error the regex engine would give.
    pub fn new(pattern: &str, flags: [bool; 3]) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(flags[0])
            .multi_line(flags[1])
            .dot_matches_new_line(flags[2])
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(LazyRegex {
            pattern: pattern.into(),
            flags,
            compiled: std::sync::OnceLock::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled expression, compiled now if it was not yet; the error when it cannot be
    /// (beyond the size limits: what the syntax check at load cannot tell).
    pub fn compiled(&self) -> Result<&regex::Regex, &str> {
        self.compiled
            .get_or_init(|| {
                let built = regex::RegexBuilder::new(&self.pattern)
                    .case_insensitive(self.flags[0])
                    .multi_line(self.flags[1])
                    .dot_matches_new_line(self.flags[2])
                    .size_limit(Self::SIZE_LIMIT)
                    .dfa_size_limit(Self::SIZE_LIMIT)
                    .build()
                    .map_err(|e| e.to_string());
                if let Err(e) = &built {
                    // Found in the middle of a hunt (`rules validate` finds it beforehand).
                    eprintln!(
                        "warning: regular expression {:?} cannot be compiled ({e}): it matches nothing",
                        self.pattern
                    );
                }
                built
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether `text` matches; never when the expression cannot be compiled.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled().is_ok_and(|r| r.is_match(text))
    }
}

impl std::fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRegex")
            .field("pattern", &self.pattern)
            .field("flags", &self.flags)
            .field("compiled", &self.compiled.get().map(Result::is_ok))
            .finish()
    }
}

/// How one rule value is compared with a field value.
#[derive(Debug)]
pub enum Matcher {
    /// A string pattern; `fold` means case-insensitive (the pattern is lowercased).
    Text {
        pattern: TextPattern,
        fold: bool,
    },
    /// A plain YAML number: equal as a number to numeric fields, as text to text fields.
    Number {
        value: f64,
        text: TextPattern,
    },
    Regex(Box<LazyRegex>),
    Cmp(CmpOp, f64),
    Time {
        part: TimePart,
        op: Option<CmpOp>,
        value: f64,
    },
    Cidr(Cidr),
    /// `null`: the field is absent or null.
    Null,
    Exists(bool),
    /// Compare with another field of the same event.
    FieldRef {
        other: String,
        wrap: Option<String>,
        fold: bool,
    },
}

/// Per-event evaluation state: the event, the logsource's field mapping, and a cache of
/// lowercased values.
pub struct EvalCtx<'e> {
    pub event: &'e Event,
    /// Rule field name -> event field name, for the logsource variant being evaluated.
    pub fieldmap: &'e [(String, String)],
    folded: RefCell<Folded>,
}

/// A span's start for a value that is its own lowercase form.
const LOWERCASE: usize = usize::MAX;

/// Lowercased field values of one event, all in one text buffer: `spans` maps a value (by
/// address: values are not moved while the event is borrowed) to its range in `text`, or to
/// [`LOWERCASE`]. The
/// buffers go back to a per-thread pool when the context is dropped, so that the per-event
/// path does not allocate once they have grown.
#[derive(Default)]
struct Folded {
    text: String,
    spans: Vec<(*const str, usize, usize)>,
    /// Every field value of the event as one text, as the keyword prefilter builds it once
    /// an event (`with_raw_joined`).
    raw: String,
    raw_done: bool,
    /// `raw` holds the integer values too.
    raw_numbers: bool,
}

thread_local! {
    static FOLDED_POOL: std::cell::Cell<Option<Folded>> = const { std::cell::Cell::new(None) };
}

impl Drop for EvalCtx<'_> {
    fn drop(&mut self) {
        let mut f = std::mem::take(self.folded.get_mut());
        // A buffer grown by an outsized event is not kept.
        if f.text.capacity().max(f.raw.capacity()) <= 1 << 20 {
            f.text.clear();
            f.spans.clear();
            f.raw.clear();
            f.raw_done = false;
            f.raw_numbers = false;
            FOLDED_POOL.with(|p| p.set(Some(f)));
        }
    }
}

impl<'e> EvalCtx<'e> {
    pub fn new(event: &'e Event) -> Self {
        EvalCtx {
            event,
            fieldmap: &[],
            folded: RefCell::new(FOLDED_POOL.with(|p| p.take()).unwrap_or_default()),
        }
    }

    /// The same event seen through another field mapping (the lowercase cache is kept).
    pub fn with_fieldmap(&mut self, fieldmap: &'e [(String, String)]) {
        self.fieldmap = fieldmap;
    }

    #[inline]
    pub fn field(&self, name: &str) -> Option<&'e Value> {
        if !self.fieldmap.is_empty() {
            if let Some((_, to)) = self
                .fieldmap
                .iter()
                .find(|(from, _)| from.eq_ignore_ascii_case(name))
            {
                return self.event.get(to);
            }
        }
        self.event.get(name)
    }

    /// Call `f` with the event's values as one text, which `fill` builds on the first call of
    /// an event (every later call gets the same text), with the integer values too when
    /// `numbers` (built again with them if the first call did without).
    pub(crate) fn with_raw_joined<R>(
        &self,
        numbers: bool,
        fill: impl FnOnce(&Event, bool, &mut String),
        f: impl FnOnce(&str) -> R,
    ) -> R {
        {
            let mut cache = self.folded.borrow_mut();
            if !cache.raw_done || (numbers && !cache.raw_numbers) {
                cache.raw_done = true;
                cache.raw_numbers = numbers;
                cache.raw.clear();
                fill(self.event, numbers, &mut cache.raw);
            }
        }
        let cache = self.folded.borrow();
        f(&cache.raw)
    }

    /// Call `f` with the lowercased form of `s` (computed once per distinct value per event).
    /// A value is looked up (by address) before it is looked at: rules test the same values
    /// over and over, and a long one is read once an event.
    pub(crate) fn with_folded<R>(&self, s: &str, f: impl FnOnce(&str) -> R) -> R {
        let key = s as *const str;
        let span = {
            let cache = self.folded.borrow();
            cache
                .spans
                .iter()
                .find(|(k, _, _)| std::ptr::eq(*k, key))
                .map(|&(_, a, b)| (a, b))
        };
        let (a, b) = match span {
            Some(span) => span,
            None => {
                let mut cache = self.folded.borrow_mut();
                if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
                    // Already lowercase: remembered as such.
                    cache.spans.push((key, LOWERCASE, 0));
                    drop(cache);
                    return f(s);
                }
                let a = cache.text.len();
                if s.is_ascii() {
                    cache.text.push_str(s);
                    cache.text[a..].make_ascii_lowercase();
                } else {
                    cache.text.push_str(&fold(s));
                }
                let b = cache.text.len();
                cache.spans.push((key, a, b));
                (a, b)
            }
        };
        if a == LOWERCASE {
            return f(s);
        }
        let cache = self.folded.borrow();
        f(&cache.text[a..b])
    }
}

impl FieldItem {
    /// Whether the item holds on the event.
    pub fn matches(&self, ctx: &EvalCtx<'_>) -> bool {
        let r = match &self.field {
            Some(name) => {
                let value = ctx.field(name);
                let one = |alts: &Vec<Matcher>| alts.iter().any(|m| match_value(m, value, ctx));
                if self.all {
                    self.alternatives.iter().all(one)
                } else {
                    self.alternatives.iter().any(one)
                }
            }
            None => {
                let one = |alts: &Vec<Matcher>| {
                    alts.iter().any(|m| {
                        ctx.event
                            .fields()
                            .any(|(_, v)| match_value(m, Some(v), ctx))
                    })
                };
                if self.all {
                    self.alternatives.iter().all(one)
                } else {
                    self.alternatives.iter().any(one)
                }
            }
        };
        r != self.negate
    }
}

fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    v.as_text()
}

/// Compare one matcher with a field value (None = the field is absent).
pub fn match_value(m: &Matcher, value: Option<&Value>, ctx: &EvalCtx<'_>) -> bool {
    match m {
        Matcher::Exists(b) => value.is_some() == *b,
        Matcher::Null => matches!(value, None | Some(Value::Null)),
        _ => match value {
            None | Some(Value::Null) => false,
            Some(Value::List(items)) => items.iter().any(|v| match_scalar(m, v, ctx)),
            Some(v) => match_scalar(m, v, ctx),
        },
    }
}

fn match_scalar(m: &Matcher, v: &Value, ctx: &EvalCtx<'_>) -> bool {
    match m {
        Matcher::Text { pattern, fold } => match v {
            Value::Str(s) => {
                if *fold {
                    ctx.with_folded(s, |f| pattern.matches(f))
                } else {
                    pattern.matches(s)
                }
            }
            other => value_text(other).is_some_and(|t| pattern.matches(&t)),
        },
        Matcher::Number { value, text } => match v {
            Value::Int(i) => (*i as f64) == *value,
            Value::Float(f) => *f == *value,
            Value::Str(s) => ctx.with_folded(s, |f| text.matches(f)),
            other => value_text(other).is_some_and(|t| text.matches(&t)),
        },
        Matcher::Regex(r) => value_text(v).is_some_and(|t| r.is_match(&t)),
        Matcher::Cmp(op, n) => v.as_f64().is_some_and(|x| op.test(x, *n)),
        Matcher::Time { part, op, value } => {
            let Some(t) = value_text(v).and_then(|t| Timestamp::parse(&t)) else {
                return false;
            };
            let Some(x) = time_part(t, *part) else {
                return false;
            };
            match op {
                Some(op) => op.test(x, *value),
                None => x == *value,
            }
        }
        Matcher::Cidr(c) => value_text(v)
            .and_then(|t| t.trim().parse::<IpAddr>().ok())
            .is_some_and(|ip| c.contains(ip)),
        Matcher::FieldRef {
            other,
            wrap,
            fold: f,
        } => {
            let Some(o) = ctx.field(other).and_then(value_text) else {
                return false;
            };
            let Some(t) = value_text(v) else {
                return false;
            };
            let (t, o) = if *f {
                (fold(&t), fold(&o))
            } else {
                (t.into_owned(), o.into_owned())
            };
            match wrap.as_deref() {
                Some("contains") => t.contains(&o),
                Some("startswith") => t.starts_with(&o),
                Some("endswith") => t.ends_with(&o),
                _ => t == o,
            }
        }
        Matcher::Exists(_) | Matcher::Null => unreachable!("handled by match_value"),
    }
}

fn time_part(t: Timestamp, part: TimePart) -> Option<f64> {
    let ts = jiff::Timestamp::from_nanosecond(i128::from(t.nanos())).ok()?;
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    Some(f64::from(match part {
        TimePart::Minute => i32::from(dt.minute()),
        TimePart::Hour => i32::from(dt.hour()),
        TimePart::Day => i32::from(dt.day()),
        TimePart::Week => i32::from(dt.date().iso_week_date().week()),
        TimePart::Month => i32::from(dt.month()),
        TimePart::Year => i32::from(dt.year()),
    }))
}
