//! `symbiose robustness`: near-optimal ranges (docs/model.md C2 and D10),
//! written as the optimum's results set plus link_ranges.csv,
//! firm_ranges.csv and robustness.json, in one atomic set.

use std::path::PathBuf;
use std::time::Instant;

use crate::io::outputs;
use crate::io::{CsvDialect, InventorySource};
use crate::solve::{SolutionStatus, SolveOptions};
use crate::study::{firm_ranges_table, link_ranges_table, Robustness};

use super::*;

/// `symbiose robustness`'s arguments.
#[derive(Debug, Clone)]
pub struct RobustnessConfig {
    pub source: InventorySource,
    pub dialect: CsvDialect,
    /// The optimum's solve (one HiGHS thread: the range LPs run in parallel).
    pub options: SolveOptions,
    pub supplier_share: f64,
    /// Relative slack on the first criterion (checked: `options::SLACK_CHECK`).
    pub slack: f64,
    pub out: PathBuf,
    /// Worker threads (already capped, see [`capped_threads`]).
    pub threads: Option<usize>,
    pub quiet: bool,
    /// Also write report.html.
    pub write_report: bool,
}

/// What a `robustness` run did.
#[derive(Debug)]
pub struct RobustnessDone {
    pub optimized: Optimized,
    pub robustness: Robustness,
    /// Wall clock of the ranges (the optimum's solve excluded).
    pub range_seconds: f64,
}

struct Ranges<'a> {
    config: &'a RobustnessConfig,
}

impl MoreOutputs for Ranges<'_> {
    type Found = (Robustness, f64);
    fn outputs(&self, optimum: &Optimum<'_>) -> Result<(NamedOutputs, (Robustness, f64)), AppError> {
        if optimum.solution.status != SolutionStatus::Optimal {
            return Err(AppError::NotProven(
                "the optimum stopped at its time limit, so its first criterion z* is not proven and the near-optimal set is not known: give robustness a larger --time-limit or none; nothing written".into(),
            ));
        }
        if optimum
            .solution
            .extended
            .as_ref()
            .is_some_and(|extended| extended.n_binaries > 0)
        {
            return Err(AppError::Argument(
                "the inventory has links with a fixed cost (investments, docs/model.md B4): the model is then a MILP, whose near-optimal set is not convex, and robustness ranges LPs only; nothing written".into(),
            ));
        }
        let started = Instant::now();
        let robustness = crate::study::robustness(
            optimum.inventory,
            optimum.links,
            optimum.valuation,
            optimum.options,
            optimum.supplier_share,
            self.config.slack,
            &progress::Bars::new(optimum.quiet),
        )?;
        let out = &self.config.out;
        let json = robustness.meta.to_json().map_err(|message| AppError::Output {
            path: out.to_path_buf(),
            message,
        })?;
        let files = vec![
            (
                outputs::LINK_RANGES_CSV,
                table_bytes(out, link_ranges_table(&robustness.links))?,
            ),
            (
                outputs::FIRM_RANGES_CSV,
                table_bytes(out, firm_ranges_table(&robustness.firms))?,
            ),
            (outputs::ROBUSTNESS_JSON, json),
        ];
        Ok((files, (robustness, started.elapsed().as_secs_f64())))
    }
}

/// `--slack`: finite and >= 0.
pub fn check_slack(slack: f64) -> Result<(), AppError> {
    crate::options::SLACK_CHECK
        .value("--slack", slack)
        .map(|_| ())
        .map_err(AppError::Argument)
}

/// Checks the arguments and loads the inventory, before any solve (the
/// caller prints the warnings).
pub fn plan_robustness(config: &RobustnessConfig) -> Result<crate::io::Loaded, AppError> {
    check_slack(config.slack)?;
    let loaded = load_checked(&config.source, config.dialect)?;
    // A limit of the program, stated as such, before any solve.
    if !loaded.inventory.processes().is_empty() {
        return Err(AppError::Argument(format!(
            "{} has processes (docs/model.md B3): robustness ranges LPs whose links are the only way a firm's value changes, and does not range process activities; remove processes.csv and process_io.csv to range the exchanges alone",
            config.source.describe()
        )));
    }
    Ok(loaded)
}

/// `symbiose robustness`: [`plan_robustness`] then [`run_planned_robustness`].
pub fn robustness(config: &RobustnessConfig) -> Result<RobustnessDone, AppError> {
    run_planned_robustness(plan_robustness(config)?, config)
}

/// The optimum, solved and written as `optimize` writes it, with the
/// ranges' files in the same set.
pub fn run_planned_robustness(
    loaded: crate::io::Loaded,
    config: &RobustnessConfig,
) -> Result<RobustnessDone, AppError> {
    let mut options = config.options.clone();
    // One HiGHS thread per solve, the optimum's included (HiGHS sizes its
    // pool once per process).
    options.threads = Some(1);
    let ranges = Ranges { config };
    let (optimized, (robustness, range_seconds)) = with_threads(config.threads, || {
        optimize_and_write_with(
            loaded.inventory,
            loaded.warnings,
            config.source.describe(),
            &options,
            config.supplier_share,
            Extras {
                write_report: config.write_report,
                inputs: source_paths(&config.source),
                quiet: config.quiet,
                ..Extras::default()
            },
            &config.out,
            &ranges,
        )
    })??;
    Ok(RobustnessDone {
        optimized,
        robustness,
        range_seconds,
    })
}
