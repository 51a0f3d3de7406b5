//! The one error printer: input problems capped per file, solver outcomes,
//! scenario problems, and the exit code each outcome gets.

use std::process::ExitCode;

use symbiose::app::AppError;
use symbiose::io::LoadError;
use symbiose::model::table::{limit_per_file, MAX_ERRORS_SHOWN_PER_FILE};
use symbiose::model::{InputError, InputWarning};
use symbiose::report::counted;

/// Prints the warnings, at most `MAX_ERRORS_SHOWN_PER_FILE` per file, then
/// how many more each file has.
pub fn print_warnings(warnings: &[InputWarning]) {
    let (shown, left_out) = limit_per_file(warnings, MAX_ERRORS_SHOWN_PER_FILE);
    for warning in shown {
        eprintln!("warning: {warning}");
    }
    for (file, count) in left_out {
        eprintln!(
            "warning: {file}: {} not shown",
            counted(count, "more warning", "more warnings")
        );
    }
}

/// Prints the errors, at most `MAX_ERRORS_SHOWN_PER_FILE` per file (200,000
/// bad rows would otherwise print 200,000 lines), then how many more each
/// file has; the count printed after them is the total.
pub fn print_input_errors(errors: &[InputError]) {
    let (shown, left_out) = limit_per_file(errors, MAX_ERRORS_SHOWN_PER_FILE);
    for error in shown {
        eprintln!("error: {error}");
    }
    for (file, count) in left_out {
        eprintln!(
            "error: {file}: {} not shown (fix the ones above and run again)",
            counted(count, "more problem", "more problems")
        );
    }
}

pub fn report_error(error: &AppError) {
    match error {
        AppError::Input(LoadError::Invalid { errors, warnings }) => {
            print_warnings(warnings);
            print_input_errors(errors);
            eprintln!(
                "error: {} in the inventory; nothing was written",
                counted(errors.len(), "problem", "problems")
            );
        }
        AppError::Solve(solve_error) => eprintln!("error: {solve_error}; nothing was written"),
        AppError::Scenario(scenario_error) => {
            for problem in scenario_error.located() {
                eprintln!("error: {problem}");
            }
            if scenario_error.problems.len() > 1 {
                eprintln!(
                    "error: {} in {}; nothing was written",
                    counted(scenario_error.problems.len(), "problem", "problems"),
                    scenario_error.file
                );
            }
        }
        AppError::Output { .. } | AppError::Argument(_) | AppError::NotProven(_) | AppError::Locked(_) => {
            eprintln!("error: {error}")
        }
        AppError::Results { errors, .. } => {
            print_input_errors(errors);
            eprintln!("error: {error}; nothing was written");
        }
    }
}

/// Prints an error (if any) and turns the outcome into the exit code.
pub fn finish(result: Result<u8, AppError>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            report_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
