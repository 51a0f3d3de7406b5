//! symbiose: industrial-symbiosis flow matching.
//!
//! The folders are the pipeline; each stage uses only the stages before it:
//! [`model`] (ids, the validated inventory, units) -> [`io`] (sources,
//! scanning, output sets, tables to bytes) -> [`candidates`] (which links
//! exist) -> [`solve`] (the one linear program of Parts A and B, HiGHS) ->
//! [`value`] (firm and territory values, allocation) -> [`report`] (tables,
//! summary, profile, GeoJSON, HTML) -> [`study`] (scenario files, sweeps,
//! resilience, Pareto). [`generate`] makes synthetic territories; [`app`]
//! strings the stages together for the command line.
//! See ARCHITECTURE.md and the model in docs/model.md.

pub mod app;
pub mod candidates;
pub mod generate;
pub mod io;
pub mod model;
pub mod options;
pub mod progress;
pub mod random;
pub mod report;
pub mod solve;
pub mod study;
pub mod value;
