//! `symbiose uncertainty`: plans the run (warnings and the sample count
//! printed before the first solve), runs it, prints what it found.

use std::process::ExitCode;

use symbiose::app;
use symbiose::report::{counted, euros};

use super::print::{finish, print_warnings};

/// Runs `symbiose uncertainty` with `config`; the exit code says how it ended.
pub fn run_uncertainty(config: app::UncertaintyConfig) -> ExitCode {
    let planned = match app::plan_uncertainty(&config) {
        Ok(planned) => planned,
        Err(error) => return finish(Err(error)),
    };
    print_warnings(&planned.loaded.warnings);
    if !config.quiet {
        let shard = match config.shard {
            Some(shard) => format!("; shard {}/{}: {} of them", shard.index, shard.count, planned.n_in_run),
            None => String::new(),
        };
        eprintln!(
            "uncertainty of {}: {} of {} (seed {}){shard}",
            config.source.describe(),
            counted(config.n_samples, "sample", "samples"),
            counted(
                planned.uncertainty.parameters.len(),
                "uncertain parameter",
                "uncertain parameters"
            ),
            config.seed
        );
    }
    let quiet = config.quiet;
    finish(app::run_planned_uncertainty(planned, &config).map(|done| {
        // A base stopped at its time limit is written, flagged, with exit 5.
        let code = done.optimized.exit_code();
        if !quiet {
            let re_solved = (done.reused.warm + done.reused.solved) as f64 / done.n_in_run.max(1) as f64;
            let kept = done.reused.kept as f64 / done.n_in_run.max(1) as f64;
            println!(
                "{} of {} feasible, in {:.1} s; per sample {:.2} models re-solved, {:.2} kept from the base{}",
                done.n_feasible,
                counted(done.n_in_run, "sample", "samples"),
                done.sample_seconds,
                re_solved,
                kept,
                if done.new_link_sets > 0 {
                    format!(
                        ", {} with new candidate links",
                        counted(done.new_link_sets, "sample", "samples")
                    )
                } else {
                    String::new()
                }
            );
            println!(
                "  base territory value {} EUR/yr",
                euros(done.optimized.valuation.territory_value_eur)
            );
            if let Some(territory) = &done.territory {
                if let [Some(mean), Some(p05), Some(p50), Some(p95)] = territory.value {
                    println!(
                        "  territory value over the samples: mean {}, p05 {}, p50 {}, p95 {} EUR/yr",
                        euros(mean),
                        euros(p05),
                        euros(p50),
                        euros(p95)
                    );
                }
            }
            println!(
                "  samples.csv, link_probability.csv, value_quantiles.csv and the base's results written to {}",
                config.out.display()
            );
        }
        code
    }))
}
