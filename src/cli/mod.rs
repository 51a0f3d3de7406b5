//! The command line, for `main.rs`: clap definitions and option parsers
//! (`args`), the one error printer (`print`), and the dispatcher that calls
//! the library and prints (`run`).

pub mod args;
pub mod print;
pub mod robustness;
pub mod run;
pub mod uncertainty;
