//! The pipeline as the commands run it: load -> candidates -> solve ->
//! value -> write. The binary parses arguments into these configs, calls one
//! function, prints and exits with [`AppError::exit_code`].

mod compare;
mod load;
mod optimize;
mod output;
mod policy;
pub mod progress;
mod report;
mod robustness;
mod study;
mod uncertainty;

pub use compare::*;
pub use load::*;
pub use optimize::*;
pub use output::*;
pub use policy::*;
pub use report::*;
pub use robustness::*;
pub use study::*;
pub use uncertainty::*;

use std::path::PathBuf;

use crate::io::{LoadError, LockError};
use crate::model::InputError;
use crate::solve::SolveError;

/// Exit codes, one per kind of outcome (documented in the README).
pub mod exit_code {
    /// Done; results written.
    pub const OK: u8 = 0;
    /// Unexpected failure (I/O error writing results, internal error), or
    /// another run is writing into the same output folder; nothing written.
    pub const FAILURE: u8 = 1;
    /// The inventory or the arguments are invalid; nothing written.
    pub const INVALID_INPUT: u8 = 2;
    /// The problem is infeasible; nothing written.
    pub const INFEASIBLE: u8 = 3;
    /// The problem is unbounded (or HiGHS could not tell infeasible from unbounded); nothing written.
    pub const UNBOUNDED: u8 = 4;
    /// The time limit was reached: results written and flagged as not proven
    /// optimal when a feasible solution was found, nothing written otherwise.
    pub const TIME_LIMIT: u8 = 5;
    /// Numerical trouble, an iteration limit or another solver failure; nothing written.
    pub const SOLVER_FAILURE: u8 = 6;
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Input(#[from] LoadError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Scenario(#[from] crate::study::ScenarioError),
    #[error("writing results to {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("{0}")]
    Argument(String),
    /// A study needs a proven optimum and the solve stopped at its time limit.
    #[error("{0}")]
    NotProven(String),
    /// Another run holds the output folder, or its lock cannot be written.
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("{} is not a complete results folder: {}", .dir.display(), crate::report::counted(.errors.len(), "problem", "problems"))]
    Results { dir: PathBuf, errors: Vec<InputError> },
}

impl From<crate::value::allocation::ShapleyError> for AppError {
    fn from(error: crate::value::allocation::ShapleyError) -> AppError {
        match error {
            crate::value::allocation::ShapleyError::Limit(message) => AppError::Argument(message),
            crate::value::allocation::ShapleyError::Solve(error) => AppError::Solve(error),
        }
    }
}

impl From<crate::study::StudyError> for AppError {
    fn from(error: crate::study::StudyError) -> AppError {
        match error {
            crate::study::StudyError::Input(error) => AppError::Input(error),
            crate::study::StudyError::Scenario(error) => AppError::Scenario(error),
        }
    }
}

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Input(_) | AppError::Scenario(_) => exit_code::INVALID_INPUT,
            AppError::Solve(SolveError::Infeasible | SolveError::Unplaceable(_)) => exit_code::INFEASIBLE,
            AppError::Solve(SolveError::Unbounded | SolveError::InfeasibleOrUnbounded) => exit_code::UNBOUNDED,
            AppError::Solve(SolveError::TimeLimitWithoutSolution) | AppError::NotProven(_) => exit_code::TIME_LIMIT,
            // A limit of the program, stated as such: the input is too large.
            AppError::Solve(SolveError::TooLarge(_)) => exit_code::INVALID_INPUT,
            AppError::Solve(_) => exit_code::SOLVER_FAILURE,
            AppError::Output { .. } | AppError::Locked(_) => exit_code::FAILURE,
            AppError::Results { .. } | AppError::Argument(_) => exit_code::INVALID_INPUT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::InventorySource;

    /// Every solver outcome, with the exit code and the words the user sees
    /// (README, "Exit codes"). The match makes a new variant a compile
    /// error here until it is given its code.
    fn expected(error: &SolveError) -> (u8, &'static str) {
        match error {
            SolveError::Infeasible => (exit_code::INFEASIBLE, "infeasible"),
            SolveError::Unplaceable(_) => (exit_code::INFEASIBLE, "cannot be placed"),
            SolveError::Unbounded => (exit_code::UNBOUNDED, "unbounded"),
            SolveError::InfeasibleOrUnbounded => (exit_code::UNBOUNDED, "infeasible or unbounded"),
            SolveError::TimeLimitWithoutSolution => (exit_code::TIME_LIMIT, "time limit"),
            SolveError::IterationLimit => (exit_code::SOLVER_FAILURE, "iteration limit"),
            SolveError::Interrupted => (exit_code::SOLVER_FAILURE, "interrupted"),
            SolveError::NumericalTrouble(_) => (exit_code::SOLVER_FAILURE, "numerical trouble"),
            SolveError::TooLarge(_) => (exit_code::INVALID_INPUT, "too large"),
            SolveError::Solver(_) => (exit_code::SOLVER_FAILURE, "HiGHS failed"),
        }
    }

    #[test]
    fn every_solver_outcome_has_its_exit_code_and_its_own_message() {
        let outcomes = [
            SolveError::Infeasible,
            SolveError::Unplaceable(vec![("slag".to_string(), 12.5)]),
            SolveError::Unbounded,
            SolveError::InfeasibleOrUnbounded,
            SolveError::TimeLimitWithoutSolution,
            SolveError::IterationLimit,
            SolveError::Interrupted,
            SolveError::NumericalTrouble("solve error".to_string()),
            SolveError::TooLarge("more than HiGHS can index".to_string()),
            SolveError::Solver("unexpected model status".to_string()),
        ];
        let mut messages = std::collections::HashSet::new();
        for outcome in outcomes {
            let (code, words) = expected(&outcome);
            let message = outcome.to_string();
            let error = AppError::from(outcome);
            assert_eq!(error.exit_code(), code, "{message}");
            assert!(message.contains(words), "{message:?} lacks {words:?}");
            // main prints the solver's message itself: it must not be lost
            // in the conversion.
            assert_eq!(error.to_string(), message);
            assert!(messages.insert(message.clone()), "{message:?} is not distinct");
        }
        // Numerical trouble names its cause and says what to try.
        let numerical = SolveError::NumericalTrouble("presolve error".to_string()).to_string();
        assert!(
            numerical.contains("presolve error") && numerical.contains("rescaling"),
            "{numerical}"
        );
        assert_eq!(
            AppError::from(SolveError::NumericalTrouble(String::new())).exit_code(),
            6
        );
    }

    #[test]
    fn quantities_spread_beyond_1e12_are_warned_about_with_the_far_flows_named() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/split_by_distance");
        let base = crate::io::load_inventory(&InventorySource::Folder(dir))
            .unwrap()
            .inventory;
        assert!(quantity_spread_warnings(&base, "flows.csv").is_empty());
        let with_quantities = |quantities: &[(u32, f64)]| {
            let edits: Vec<crate::model::Edit> = quantities
                .iter()
                .map(|(flow, quantity)| crate::model::Edit::FlowQuantity {
                    flow: crate::model::FlowIdx(*flow),
                    quantity: *quantity,
                })
                .collect();
            base.edited(&edits).unwrap()
        };
        // s1 100 -> 1e-7 MWh, d1 60 -> 1e6 MWh: a spread of 1e13.
        let inventory = with_quantities(&[(0, 1e-7), (1, 1e6)]);
        let warnings = quantity_spread_warnings(&inventory, "flows.csv");
        assert_eq!(warnings.len(), 1);
        let message = &warnings[0].message;
        assert!(message.contains("span 1e13"), "{message}");
        // The median is 60: s1 is 6e8 times below it, d1 within 1e6 of it.
        assert!(message.contains("s1 (1e-7 MWh)"), "{message}");
        assert!(!message.contains("d1 ("), "{message}");
        // A subnormal quantity prints in a few characters, not 300 digits.
        let inventory = with_quantities(&[(0, 5e-324), (1, 1e6)]);
        let message = &quantity_spread_warnings(&inventory, "flows.csv")[0].message;
        assert!(message.contains("(from 5e-324 to 1000000)"), "{message}");
        assert!(message.contains("s1 (5e-324 MWh)"), "{message}");
        assert!(message.len() < 400, "{} characters: {message}", message.len());
        // Zero quantities take no part.
        let inventory = with_quantities(&[(0, 0.0), (1, 1e6)]);
        assert!(quantity_spread_warnings(&inventory, "flows.csv").is_empty());
    }

    #[test]
    fn input_output_and_argument_failures_keep_their_codes() {
        let output = AppError::Output {
            path: PathBuf::from("results"),
            message: "permission denied".to_string(),
        };
        assert_eq!(output.exit_code(), exit_code::FAILURE);
        assert_eq!(
            AppError::Argument("bad".to_string()).exit_code(),
            exit_code::INVALID_INPUT
        );
        let input = AppError::from(LoadError::Invalid {
            errors: Vec::new(),
            warnings: Vec::new(),
        });
        assert_eq!(input.exit_code(), exit_code::INVALID_INPUT);
    }
}
