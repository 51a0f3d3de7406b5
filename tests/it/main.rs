//! The integration tests, gathered in one test binary (each extra binary
//! would link polars and HiGHS again): one module per area. `common` holds
//! the helpers they share (running the binary, reading tables, tolerances).
//! Proptest regressions live in `proptest-regressions/tests/`.

mod common;

mod cli;
mod decompose;
mod decompose_review;
mod fixtures;
mod formats;
mod fuzz;
mod html;
mod kill;
mod layers;
mod malformed;
mod numerics;
mod outputs;
mod part_b;
mod policy;
mod properties;
mod robustness;
mod scale;
mod scenario;
mod schemes;
mod snapshots;
mod threads;
mod uncertainty;
mod validation;
