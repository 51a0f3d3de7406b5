//! symbiose: industrial-symbiosis flow matching.
//!
//! A flow inventory (who has what, who wants what, where, how much, of what
//! quality) goes through a pipeline of plain modules, each with one job:
//! [`inventory`] (validated data model) <- [`io`] (files) -> [`candidates`]
//! (which links exist) -> [`lp`] (the linear program, HiGHS) ->
//! [`valuation`] (firm and territory values) -> [`report`] (tables and
//! summary). A results folder read back ([`results`]) feeds the territory
//! profile ([`profile`]), the GeoJSON files ([`geojson`]) and the HTML
//! report ([`html`]). [`generate`] makes synthetic territories for scale
//! tests. [`outputs`] names every file the commands write. [`app`] strings
//! them together for the command line.
//! See ARCHITECTURE.md and the model contract in docs/model.md.

pub mod app;
pub mod candidates;
pub mod chart;
pub mod generate;
pub mod geojson;
pub mod html;
pub mod inventory;
pub mod io;
pub mod lp;
pub mod outputs;
pub mod profile;
pub mod report;
pub mod results;
pub mod scenario;
pub mod valuation;
