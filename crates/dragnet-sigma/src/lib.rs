//! `dragnet-sigma`: a Sigma v2.1 rule engine.
//!
//! - [`yaml`]: YAML documents with line numbers and raw scalars.
//! - [`rule`]: detection rules, filters and correlations parsed and checked.
//! - [`pattern`]: wildcards and escapes; [`modifiers`]: where `Field|mod: value` becomes a
//!   matcher; [`matcher`]: matching on events; [`condition`]: condition expressions.
//! - [`logsource`]: which events a rule's logsource means (data, extensible).
//! - [`engine`]: loading, compiling, routing and running rules; findings out.
//!
//! Usable on its own: it depends only on `dragnet-event` for the event and finding types.

pub mod condition;
pub mod correlation;
pub mod engine;
pub mod logsource;
pub mod matcher;
pub mod modifiers;
pub mod pattern;
pub mod prefilter;
pub mod rule;
/// The YAML reader rules are parsed with.
pub use dragnet_yaml as yaml;

pub use engine::{rule_files, Engine, EngineBuilder, LoadOptions, BUILTIN_RULES};
pub use logsource::{LogsourceMap, Routing};
pub use rule::{CorrelationRule, CorrelationType, FilterRule, LogSource, SigmaRule};

use std::path::PathBuf;

/// A problem with one rule file or rule, with its location.
#[derive(Clone, Debug)]
pub struct RuleError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path.display(), l, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
