//! Runs one parsed command: calls the library and prints what it did.

use std::path::PathBuf;
use std::process::ExitCode;

use symbiose::app::{self, exit_code, ReportConfig};
use symbiose::io::{InventorySource, LoadError};
use symbiose::model::Inventory;
use symbiose::report::{counted, euros};

use super::args::*;
use super::print::{finish, print_input_errors, print_warnings, report_error};

/// Runs `cli`'s command; the exit code says what happened.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate { inventory, csv } => {
            let source = source(inventory);
            match app::validate(&source, csv.dialect()) {
                Ok(validated) => {
                    print_warnings(&validated.warnings);
                    let mut part_b = String::new();
                    if let Some(n_slices) = validated.n_slices {
                        part_b += &format!(", {}", counted(n_slices, "time slice", "time slices"));
                    }
                    if validated.n_processes > 0 {
                        part_b += &format!(", {}", counted(validated.n_processes, "process", "processes"));
                    }
                    println!(
                        "ok: {}, {}, {}{part_b}",
                        counted(validated.n_firms, "firm", "firms"),
                        counted(validated.n_flows, "flow", "flows"),
                        counted(validated.n_candidate_links, "candidate link", "candidate links")
                    );
                    println!(
                        "  {} to solve (largest: {}), {} without any candidate link",
                        counted(validated.n_linked_parts, "independent part", "independent parts"),
                        counted(validated.largest_part, "flow", "flows"),
                        counted(validated.n_unlinked_flows, "flow", "flows")
                    );
                    if let Some(n) = validated.n_uncertain_parameters {
                        println!(
                            "  uncertainty.csv: {}",
                            counted(n, "uncertain parameter", "uncertain parameters")
                        );
                    }
                    ExitCode::from(exit_code::OK)
                }
                Err(LoadError::Invalid { errors, warnings }) => {
                    print_warnings(&warnings);
                    print_input_errors(&errors);
                    eprintln!(
                        "{}: {}",
                        source.describe(),
                        counted(errors.len(), "problem", "problems")
                    );
                    ExitCode::from(exit_code::INVALID_INPUT)
                }
            }
        }
        Command::Optimize {
            inventory,
            solve,
            results,
            csv,
        } => {
            let source = source(inventory);
            // Warnings first: one may explain why the solve fails.
            let started = std::time::Instant::now();
            let loaded = match app::load_checked(&source, csv.dialect()) {
                Ok(loaded) => loaded,
                Err(error) => return finish(Err(error.into())),
            };
            let load_seconds = started.elapsed().as_secs_f64();
            print_warnings(&loaded.warnings);
            let config = results.optimize_config(source, &solve, csv);
            let optimized = app::optimize_loaded(&config, loaded, load_seconds);
            print_optimized(optimized, &results)
        }
        Command::Run { scenario, results } => {
            let optimized = app::run_scenario(&scenario, &results.out, results.extras()).map(|optimized| {
                print_warnings(&optimized.warnings);
                optimized
            });
            print_optimized(optimized, &results)
        }
        Command::Sweep {
            scenario,
            out,
            shard,
            warm_start,
            allow_large_grid,
            work: WorkArgs {
                threads: requested_threads,
                quiet,
            },
        } => {
            let config = app::SweepConfig {
                scenario,
                out,
                shard,
                threads: threads(requested_threads),
                warm_start,
                quiet,
                allow_large_grid,
            };
            let planned = match app::plan_sweep(&config) {
                Ok(planned) => planned,
                Err(error) => return finish(Err(error)),
            };
            if !quiet {
                let shard = match config.shard {
                    Some(shard) => format!("; shard {}/{}: {} of them", shard.index, shard.count, planned.n_in_run),
                    None => String::new(),
                };
                eprintln!(
                    "sweep of {}: a grid of {} ({}) scenarios{shard}",
                    config.scenario.display(),
                    planned.n_scenarios,
                    planned.study.grid_shape()
                );
            }
            finish(app::run_planned_sweep(planned, &config).map(|swept| {
                if !quiet {
                    println!(
                        "{} of {} solved{}; sweep.csv written to {}",
                        swept.n_solved,
                        counted(swept.rows.len(), "scenario", "scenarios"),
                        if swept.rows.len() < swept.n_scenarios {
                            format!(" (this shard of a grid of {})", swept.n_scenarios)
                        } else {
                            String::new()
                        },
                        config.out.display()
                    );
                }
                exit_code::OK
            }))
        }
        Command::Merge { dirs, out } => finish(app::merge(&dirs, &out).map(|()| {
            println!(
                "merged {} into {}",
                counted(dirs.len(), "shard folder", "shard folders"),
                out.display()
            );
            exit_code::OK
        })),
        Command::Schemes {
            inventory,
            supplier_share,
            time_limit,
            mip_gap,
            lexicographic_slack,
            no_decompose,
            results,
            csv,
        } => {
            let config = app::OptimizeConfig {
                objective: symbiose::solve::Objective::Externalities,
                supplier_share,
                time_limit_seconds: time_limit,
                mip_gap,
                lexicographic_slack,
                decompose: !no_decompose,
                source: source(inventory),
                threads: None,
                solver: None,
                out: results.out.clone(),
                dialect: csv.dialect(),
                extras: results.extras(),
            };
            let schemed = app::run_schemes(&config);
            let line = schemed
                .as_ref()
                .ok()
                .map(|schemed| symbiose::report::compare::schemes_line(&schemed.schemes));
            let optimized = schemed.map(|schemed| {
                print_warnings(&schemed.optimized.warnings);
                schemed.optimized
            });
            let code = print_optimized(optimized, &results);
            if let (Some(line), false) = (line, results.quiet) {
                println!("{line}");
                println!(
                    "  schemes.json, schemes_firms.csv and schemes_links.csv written to {}",
                    results.out.display()
                );
            }
            code
        }
        Command::Policy {
            inventory,
            instrument,
            target,
            range,
            points,
            tolerance,
            time_limit,
            mip_gap,
            lexicographic_slack,
            out,
            work,
            csv,
        } => {
            let (source, inventory) = match load_and_warn(inventory, csv) {
                Ok(loaded) => loaded,
                Err(code) => return code,
            };
            let config = app::PolicyConfig {
                instrument,
                target,
                range,
                points,
                tolerance,
                options: symbiose::solve::SolveOptions {
                    time_limit_seconds: time_limit,
                    mip_gap,
                    lexicographic_slack,
                    ..symbiose::solve::SolveOptions::default()
                },
                out: out.clone(),
                threads: threads(work.threads),
                quiet: work.quiet,
            };
            finish(app::policy(&source, &inventory, &config).map(|policied| {
                if !work.quiet {
                    print!("{}", policy_text(&policied.json));
                    println!("policy.json, policy.csv and policy.svg written to {}", out.display());
                }
                exit_code::OK
            }))
        }
        Command::Compare { a, b, out, quiet } => finish(app::compare(&a, &b, &out).map(|compared| {
            if !quiet {
                print!("{}", compared.text);
                println!(
                    "compare_firms.csv, compare_territory.csv and compare_links.csv written to {}",
                    out.display()
                );
            }
            exit_code::OK
        })),
        Command::Resilience {
            inventory,
            solve,
            out,
            work,
            csv,
        } => {
            let (source, inventory) = match load_and_warn(inventory, csv) {
                Ok(loaded) => loaded,
                Err(code) => return code,
            };
            let (threads, quiet) = (threads(work.threads), work.quiet);
            let rows = app::resilience(
                &source,
                &inventory,
                &solve.options(),
                solve.supplier_share,
                &out,
                threads,
                quiet,
            );
            finish(rows.map(|mut rows| {
                if !quiet {
                    rows.sort_by(|a, b| b.territory_value_lost_eur.total_cmp(&a.territory_value_lost_eur));
                    println!("firms the territory depends on most (territory value lost if they leave):");
                    for row in rows.iter().take(5) {
                        println!(
                            "  {:<34}{:>16} EUR/yr, {} lost",
                            inventory.firm(row.firm).id,
                            euros(row.territory_value_lost_eur),
                            counted(row.links_lost, "link", "links")
                        );
                    }
                    println!("resilience.csv written to {}", out.display());
                }
                exit_code::OK
            }))
        }
        Command::Pareto {
            inventory,
            points,
            out,
            work,
            csv,
        } => {
            let (source, inventory) = match load_and_warn(inventory, csv) {
                Ok(loaded) => loaded,
                Err(code) => return code,
            };
            let quiet = work.quiet;
            let front = app::pareto(&source, &inventory, points, &out, threads(work.threads), quiet);
            finish(front.map(|front| {
            if !quiet {
                println!(
                    "{}; the territory's view costs the firms {} EUR/yr and saves {} EUR/yr of externalities against the firms' view",
                    counted(front.points.len(), "non-dominated point", "non-dominated points"),
                    euros(front.cost_of_territory_view_eur()),
                    euros(front.externality_of_private_view_eur())
                );
                println!("pareto.csv and pareto.svg written to {}", out.display());
            }
            exit_code::OK
        }))
        }
        Command::Report { results_dir, out } => {
            let config = ReportConfig { results_dir, out };
            match app::report(&config) {
                Ok(reported) => {
                    println!(
                        "report written to {} ({}, {}{})",
                        reported.path.display(),
                        counted(reported.n_firms, "firm", "firms"),
                        counted(reported.n_links, "link", "links"),
                        reported
                            .optimal_over
                            .as_ref()
                            .map_or(String::new(), |over| format!("; optimal over the {over}"))
                    );
                    ExitCode::from(exit_code::OK)
                }
                Err(error) => {
                    report_error(&error);
                    ExitCode::from(error.exit_code())
                }
            }
        }
        Command::Generate {
            firms,
            seed,
            region_km,
            out,
            force,
        } => {
            let config = symbiose::generate::GenerateConfig {
                n_firms: firms,
                seed,
                region_km,
            };
            finish(app::generate(&config, &out, force).map(|generated| {
                println!(
                    "{}, {}, {} written to {} (region {:.0} km wide)",
                    counted(generated.n_firms, "firm", "firms"),
                    counted(generated.n_flows, "flow", "flows"),
                    counted(
                        generated.n_distance_overrides,
                        "distance override",
                        "distance overrides"
                    ),
                    out.display(),
                    config.region_side_km()
                );
                exit_code::OK
            }))
        }
        Command::Catalogue { out, force } => finish(app::catalogue(&out, force).map(|()| {
            println!("default catalogue written to {}", out.display());
            exit_code::OK
        })),
        Command::Robustness {
            inventory,
            slack,
            out,
            report,
            solve,
            work,
            csv,
        } => super::robustness::run_robustness(app::RobustnessConfig {
            source: source(inventory),
            dialect: csv.dialect(),
            options: solve.options(),
            supplier_share: solve.supplier_share,
            slack,
            out,
            threads: threads(work.threads),
            quiet: work.quiet,
            write_report: report,
        }),
        Command::Uncertainty {
            inventory,
            samples,
            seed,
            shard,
            out,
            report,
            solve,
            work,
            csv,
        } => super::uncertainty::run_uncertainty(app::UncertaintyConfig {
            source: source(inventory),
            dialect: csv.dialect(),
            options: solve.options(),
            supplier_share: solve.supplier_share,
            n_samples: samples,
            seed,
            shard,
            out,
            threads: threads(work.threads),
            quiet: work.quiet,
            write_report: report,
        }),
    }
}

/// Prints what `optimize` or `run` did (unless `--quiet`); the exit code
/// says how it ended.
fn print_optimized(optimized: Result<app::Optimized, app::AppError>, results: &ResultsArgs) -> ExitCode {
    let optimized = match optimized {
        Ok(optimized) => optimized,
        Err(error) => {
            report_error(&error);
            return ExitCode::from(error.exit_code());
        }
    };
    if results.timings {
        eprint!("{}", optimized.timings.describe());
    }
    if !results.quiet {
        if let Some(path) = &results.write_mps {
            println!("  first-stage LP written to {}", path.display());
        }
        print!("{}", optimized.human_summary(results.top));
        println!("  tables written to {}", results.out.display());
        if results.report {
            println!(
                "  report written to {}",
                results.out.join(symbiose::io::outputs::REPORT).display()
            );
        }
    }
    ExitCode::from(optimized.exit_code())
}

/// Loads an inventory and prints its warnings (before the work they may
/// explain); on invalid input, prints the errors and gives the exit code.
fn load_and_warn(inventory: Option<PathBuf>, csv: CsvArgs) -> Result<(InventorySource, Inventory), ExitCode> {
    let source = source(inventory);
    match app::load_checked(&source, csv.dialect()) {
        Ok(loaded) => {
            print_warnings(&loaded.warnings);
            Ok((source, loaded.inventory))
        }
        Err(error) => Err(finish(Err(error.into()))),
    }
}

/// What `policy` found, as printed.
fn policy_text(json: &symbiose::study::PolicyJson) -> String {
    let mut text = format!(
        "the territory's optimum avoids {} EUR/yr of externality value; target: {} of it\n",
        euros(json.territory_optimum_value_eur),
        json.target
    );
    match (json.value, json.achieved_share, json.public_revenue_eur, json.tolerance) {
        (Some(value), Some(share), Some(revenue), Some(tolerance)) => {
            text += &format!(
                "  {} = {value} {} (within {tolerance}): the firms' own optimum avoids {} EUR/yr, a share of {share:.4}\n",
                json.instrument,
                json.unit,
                euros(json.territory_value_eur.unwrap_or_default()),
            );
            text += &format!("  public revenue at that value: {} EUR/yr\n", euros(revenue));
        }
        _ => {
            text += &format!(
                "  out of reach: no value of {} in [{}, {}] {} brings the firms' own optimum to the target",
                json.instrument, json.range[0], json.range[1], json.unit
            );
            if let (Some(best), Some(at)) = (json.best_share, json.best_value) {
                text += &format!(" (best share {best:.4}, at {at})");
            }
            text += "\n";
        }
    }
    text
}
