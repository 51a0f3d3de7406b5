//! The `symbiose` command: parses arguments into a config, calls the
//! library, prints, and exits with a code that says what happened.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use symbiose::app::{self, exit_code, AppError, OptimizeConfig, ReportConfig};
use symbiose::inventory::{InputError, InputWarning};
use symbiose::io::{write_catalogue, InventorySource, LoadError};
use symbiose::lp::Objective;

#[derive(Parser)]
#[command(
    name = "symbiose",
    version,
    about = "Industrial-symbiosis flow matching: match by-products, waste heat and spare capacity to the firms that need them, minimising negative externalities",
    after_help = "Exit codes: 0 ok, 1 failure, 2 invalid input, 3 infeasible, 4 unbounded, 5 time limit reached, 6 solver failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check an inventory and report every problem at once
    #[command(
        after_help = "Example:\n  symbiose validate data/dunkirk\n\nWithout INVENTORY, checks the bundled Dunkirk example."
    )]
    Validate {
        /// Inventory folder (firms.csv, flows.csv, optional catalogue files); default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
    },
    /// Match supplies to demands and write the result tables
    #[command(
        after_help = "Examples:\n  symbiose optimize data/dunkirk --out results/\n  symbiose optimize --objective social --supplier-share 0.3 --out results/\n  symbiose optimize --report --out results/    # also results/report.html\n\nWithout INVENTORY, optimizes the bundled Dunkirk example. Writes summary.json, links.csv,\nflow_results.csv, firm_values.csv, territory_values.csv, territory_profile.json,\nfirms.geojson and links.geojson into --out (and report.html with --report)."
    )]
    Optimize {
        /// Inventory folder; default: the bundled Dunkirk example
        inventory: Option<PathBuf>,
        /// What to minimise
        #[arg(long, value_enum, default_value_t = ObjectiveArg::Externalities)]
        objective: ObjectiveArg,
        /// Share of each link's private surplus credited to the supplier (0 to 1)
        #[arg(long, default_value_t = 0.5, value_parser = parse_share)]
        supplier_share: f64,
        /// Stop the solver after this many seconds and report the best solution found
        #[arg(long, value_parser = parse_seconds)]
        time_limit: Option<f64>,
        /// Output folder
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// How many links to list in the printed summary
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Also write report.html (the HTML report) into the output folder
        #[arg(long)]
        report: bool,
    },
    /// Write the HTML report of a results folder
    #[command(
        after_help = "Examples:\n  symbiose report results/                      # writes results/report.html\n  symbiose report results/ --out dunkirk-report.html\n\nReads only the results folder that `symbiose optimize --out` wrote (summary.json,\nlinks.csv, flow_results.csv, firm_values.csv, territory_values.csv) and writes one\nself-contained HTML page: summary figures, a Sankey diagram of the flows, a map of the\nfirms and links, value per firm and per externality category, the territory profile\nand the sortable tables. Opens offline; prints on A4."
    )]
    Report {
        /// Results folder written by `symbiose optimize --out`
        results_dir: PathBuf,
        /// HTML file to write; default: report.html in RESULTS_DIR
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the default catalogue as editable CSV files
    #[command(
        after_help = "Example:\n  symbiose catalogue --out my-catalogue/\n\nCopy any of these files into an inventory folder and edit it: its rows override the\ndefault rows with the same key and add new keys."
    )]
    Catalogue {
        /// Output folder
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    /// Minimise monetised externalities, then private cost (the territory's view)
    Externalities,
    /// Minimise private cost, then externalities (the firms' market view)
    Private,
    /// Minimise private cost plus monetised externalities
    Social,
}

impl From<ObjectiveArg> for Objective {
    fn from(value: ObjectiveArg) -> Self {
        match value {
            ObjectiveArg::Externalities => Objective::Externalities,
            ObjectiveArg::Private => Objective::Private,
            ObjectiveArg::Social => Objective::Social,
        }
    }
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!("{text:?} is not a share between 0 and 1")),
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a number of seconds >= 0")),
    }
}

fn source(inventory: Option<PathBuf>) -> InventorySource {
    match inventory {
        Some(path) => InventorySource::Folder(path),
        None => InventorySource::BundledDunkirk,
    }
}

fn print_warnings(warnings: &[InputWarning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

fn print_input_errors(errors: &[InputError]) {
    for error in errors {
        eprintln!("error: {error}");
    }
}

fn report_error(error: &AppError) {
    match error {
        AppError::Input(LoadError::Invalid { errors, warnings }) => {
            print_warnings(warnings);
            print_input_errors(errors);
            eprintln!(
                "error: {} problem(s) in the inventory; nothing was written",
                errors.len()
            );
        }
        AppError::Solve(solve_error) => eprintln!("error: {solve_error}; nothing was written"),
        AppError::Output { .. } | AppError::Argument(_) => eprintln!("error: {error}"),
        AppError::Results { errors, .. } => {
            print_input_errors(errors);
            eprintln!("error: {error}; nothing was written");
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    match cli.command {
        Command::Validate { inventory } => {
            let source = source(inventory);
            match app::validate(&source) {
                Ok(validated) => {
                    print_warnings(&validated.warnings);
                    println!(
                        "ok: {} firms, {} flows, {} candidate links",
                        validated.n_firms, validated.n_flows, validated.n_candidate_links
                    );
                    ExitCode::from(exit_code::OK)
                }
                Err(LoadError::Invalid { errors, warnings }) => {
                    print_warnings(&warnings);
                    print_input_errors(&errors);
                    eprintln!("{}: {} problem(s)", source.describe(), errors.len());
                    ExitCode::from(exit_code::INVALID_INPUT)
                }
            }
        }
        Command::Optimize {
            inventory,
            objective,
            supplier_share,
            time_limit,
            out,
            top,
            report,
        } => {
            let config = OptimizeConfig {
                source: source(inventory),
                objective: objective.into(),
                supplier_share,
                time_limit_seconds: time_limit,
                threads: None,
                out,
                write_report: report,
            };
            match app::optimize(&config) {
                Ok(optimized) => {
                    print_warnings(&optimized.warnings);
                    print!("{}", optimized.human_summary(top));
                    println!("  tables written to {}", config.out.display());
                    if config.write_report {
                        println!("  report written to {}", config.out.join(app::REPORT_FILE).display());
                    }
                    ExitCode::from(optimized.exit_code())
                }
                Err(error) => {
                    report_error(&error);
                    ExitCode::from(error.exit_code())
                }
            }
        }
        Command::Report { results_dir, out } => {
            let config = ReportConfig { results_dir, out };
            match app::report(&config) {
                Ok(reported) => {
                    println!(
                        "report written to {} ({} firms, {} links)",
                        reported.path.display(),
                        reported.n_firms,
                        reported.n_links
                    );
                    ExitCode::from(exit_code::OK)
                }
                Err(error) => {
                    report_error(&error);
                    ExitCode::from(error.exit_code())
                }
            }
        }
        Command::Catalogue { out } => match write_catalogue(&out) {
            Ok(()) => {
                println!("default catalogue written to {}", out.display());
                ExitCode::from(exit_code::OK)
            }
            Err(error) => {
                eprintln!("error: writing the catalogue to {}: {error}", out.display());
                ExitCode::from(exit_code::FAILURE)
            }
        },
    }
}
