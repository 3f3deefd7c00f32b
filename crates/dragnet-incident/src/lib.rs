//! Incidents: findings stitched by shared entities and time into intrusions, ordered along the
//! kill chain, with the lateral-movement graph and attribution candidates.
//!
//! `model` holds the serialized contract (`dragnet hunt --incidents FILE`), shared with the
//! report writers.

pub mod model;

pub use model::{Edge, Entities, HostEntity, Incident, IncidentReport, Step, StepRule};
