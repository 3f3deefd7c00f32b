//! Writers for findings: timelines (JSONL, CSV, terminal table) now; HTML, STIX and ATT&CK
//! Navigator later.

pub mod timeline;
