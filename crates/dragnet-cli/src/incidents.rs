//! Incidents of a hunt: stitching findings, the incident summary on the terminal, `--incidents`.
