//! Incidents: findings stitched by shared entities and time into intrusions, ordered along the
//! kill chain, with the lateral-movement graph and attribution candidates.
//!
//! - [`entities`]: hosts, addresses, accounts, infrastructure roles and destination
//!   prevalence, resolved from the evidence itself.
//! - [`graph`]: the lateral-movement graph ([`LateralGraph`], an analyzer over raw events) and
//!   its findings.
//! - [`stitch`]: findings -> incidents ([`Stitcher`], pushed one finding at a time;
//!   [`build_report`] for a slice).
//! - [`narrative`]: titles, one-paragraph narratives and step summaries.
//! - `model` holds the serialized contract (`dragnet hunt --incidents FILE`), shared with the
//!   report writers.

pub mod entities;
pub mod graph;
pub mod model;
pub mod narrative;
pub mod stitch;

pub use entities::{EntityLimits, EntityMap, Role};
pub use graph::{GraphHandle, GraphLimits, GraphOutput, GraphStats, LateralGraph, Method};
pub use model::{Edge, Entities, HostEntity, Incident, IncidentReport, Step, StepRule};
pub use stitch::{build_report, StitchConfig, Stitcher};
