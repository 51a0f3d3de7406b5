//! What the user reads: the five tables of docs/model.md A5 (summary.json,
//! links.csv, flow_results.csv, firm_values.csv, territory_values.csv), the
//! tables of Part B, the short summary printed on screen, and everything
//! drawn from a results folder read back (profile, GeoJSON, HTML report).
//!
//! Invariant: rows are sorted by their id columns and numbers are written
//! with Rust's and polars' shortest round-trip formatting, so the same
//! input gives the same bytes (summary.json's `solve_seconds` aside, which
//! measures the run). Every table has one schema ([`schema`]) that its
//! writer ([`tables`]) and its reader ([`results`]) share, and summary.json
//! one struct ([`Summary`]).

pub mod chart;
pub mod compare;
pub mod geojson;
pub mod html;
pub mod profile;
pub mod read;
pub mod results;
pub mod robustness;
pub mod schema;
pub mod studies;
pub mod summary;
pub mod tables;
pub mod text;
pub mod uncertainty;

pub use summary::{summary, RunInfo, RunOptions, Summary};
pub use tables::{part_b_tables, result_tables};
pub use text::{counted, euros, human_summary};
