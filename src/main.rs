//! The `symbiose` command: parses arguments into a config, calls the
//! library, prints, and exits with a code that says what happened. The
//! definitions, the printing and the dispatch live in `cli`.

use std::process::ExitCode;

use clap::Parser;
use symbiose::app::exit_code;

mod cli;

fn main() -> ExitCode {
    // Output piped into a reader that stops early (`symbiose optimize | head`)
    // ends the process quietly, as for other command-line tools, instead of
    // a panic in print!. Files are all written before anything is printed.
    #[cfg(target_os = "linux")]
    // SAFETY: restoring the default action of a signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let parsed = match cli::args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit_code::INVALID_INPUT
            } else {
                exit_code::OK
            });
        }
    };
    cli::run::run(parsed)
}
