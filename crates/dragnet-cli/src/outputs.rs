//! Report outputs of a hunt (`--report`, `--navigator`, `--stix`, `--iocs`) and of
//! `dragnet report`: HTML, ATT&CK Navigator layer, STIX 2.1 bundle, indicators.

use clap::Args;
use std::path::PathBuf;

/// Report files a hunt (or `dragnet report`) can write besides the timeline.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Write the incidents as JSON (top-level `incidents` array).
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write an ATT&CK Navigator layer (4.5) for the whole run.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Write a STIX 2.1 bundle.
    #[arg(long, value_name = "FILE")]
    pub stix: Option<PathBuf>,
    /// Write the extracted indicators as CSV (raw values, with a defanged column).
    #[arg(long, value_name = "FILE")]
    pub iocs: Option<PathBuf>,
}
