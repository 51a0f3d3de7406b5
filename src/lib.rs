//! symbiose: industrial-symbiosis flow matching.
//!
//! A flow inventory (who has what, who wants what, where, how much, of what
//! quality) goes through a pipeline of plain modules, each with one job:
//! [`inventory`] (validated data model) <- [`io`] (files) -> [`candidates`]
//! (which links exist) -> [`lp`] (the linear program, HiGHS) ->
//! [`valuation`] (firm and territory values) -> [`report`] (tables and
//! summary). [`app`] strings them together for the command line. See
//! ARCHITECTURE.md and the model contract in MODEL.md.

pub mod app;
pub mod candidates;
pub mod inventory;
pub mod io;
pub mod lp;
pub mod report;
pub mod scenario;
pub mod valuation;
