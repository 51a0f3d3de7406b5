//! `symbiose robustness`: loads and checks (warnings printed before the
//! solves), runs, prints what it found.

use std::process::ExitCode;

use symbiose::app;
use symbiose::report::{counted, euros};

use super::print::{finish, print_warnings};

/// How many exchanges of each status the printed summary lists.
const LISTED: usize = 5;

/// Runs `symbiose robustness` with `config`; the exit code says how it ended.
pub fn run_robustness(config: app::RobustnessConfig) -> ExitCode {
    let loaded = match app::plan_robustness(&config) {
        Ok(loaded) => loaded,
        Err(error) => return finish(Err(error)),
    };
    print_warnings(&loaded.warnings);
    let quiet = config.quiet;
    finish(app::run_planned_robustness(loaded, &config).map(|done| {
        if !quiet {
            let meta = &done.robustness.meta;
            println!(
                "near-optimal ranges of {}: objective {}, slack {} (first criterion within {} EUR/yr of z* = {} EUR/yr)",
                config.source.describe(),
                meta.objective,
                config.slack,
                euros(meta.budget_eur),
                euros(meta.z_star_eur)
            );
            println!(
                "  {}: {} indispensable, {} optional, {} unused",
                counted(done.robustness.links.len(), "candidate link", "candidate links"),
                meta.n_indispensable,
                meta.n_optional,
                meta.n_unused
            );
            println!(
                "  {} of {} LPs solved ({}) in {:.2} s; the others proven without a solve",
                meta.lps.solved,
                meta.lps.asked,
                counted(meta.lps.models, "model", "models"),
                done.range_seconds
            );
            for status in [symbiose::study::INDISPENSABLE, symbiose::study::OPTIONAL] {
                let mut rows: Vec<_> = done.robustness.links.iter().filter(|row| row.status == status).collect();
                rows.sort_by(|a, b| b.quantity_max.total_cmp(&a.quantity_max));
                if rows.is_empty() {
                    continue;
                }
                println!("  {status} exchanges (supply units/yr: least .. most, optimum):");
                for row in rows.iter().take(LISTED) {
                    println!(
                        "    {} -> {} ({}): {} .. {}, {}",
                        row.supply_flow_id,
                        row.demand_flow_id,
                        row.supply_resource,
                        euros(row.quantity_min),
                        euros(row.quantity_max),
                        euros(row.quantity_optimal)
                    );
                }
                if rows.len() > LISTED {
                    println!("    ... {} more in link_ranges.csv", rows.len() - LISTED);
                }
            }
            println!(
                "  link_ranges.csv, firm_ranges.csv, robustness.json and the optimum's results written to {}",
                config.out.display()
            );
        }
        done.optimized.exit_code()
    }))
}
