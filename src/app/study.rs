//! The what-if commands: `run` (one scenario file), `sweep` (its grid, or
//! a shard of it), `merge`, `resilience` and `pareto`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::io::outputs::{self, Family};
use crate::io::InventorySource;
use crate::model::Inventory;
use crate::solve::SolveOptions;

use super::*;

/// `symbiose run`: one scenario (its `[set]`, removals and bans; `[[vary]]`
/// is for `sweep`), the usual five tables.
pub fn run_scenario(path: &Path, out: &Path, extras: Extras) -> Result<Optimized, AppError> {
    let started = Instant::now();
    let mut study = crate::study::load_study(path)?;
    study.vary.clear();
    let (inventory, share) = study.instance(0)?;
    let options = study.solve_options(None);
    let mut inputs = source_paths(&study.source);
    inputs.push(path.to_path_buf());
    inputs.extend(extras.inputs.iter().cloned());
    let load_seconds = started.elapsed().as_secs_f64();
    let mut optimized = optimize_and_write(
        inventory,
        Vec::new(),
        format!("{} (scenario {})", study.source.describe(), path.display()),
        &options,
        share,
        Extras { inputs, ..extras },
        out,
    )?;
    optimized.timings.load = load_seconds;
    Ok(optimized)
}

/// What a sweep produced.
#[derive(Debug)]
pub struct Swept {
    pub n_scenarios: usize,
    pub n_solved: usize,
    pub rows: Vec<crate::study::SweepRow>,
}

/// `symbiose sweep`'s arguments.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    pub scenario: PathBuf,
    pub out: PathBuf,
    /// Run only this share of the grid.
    pub shard: Option<crate::study::Shard>,
    /// Worker threads (already capped, see [`capped_threads`]).
    pub threads: Option<usize>,
    pub warm_start: bool,
    pub quiet: bool,
    /// Run more than [`crate::study::MAX_SWEEP_SCENARIOS`] scenarios.
    pub allow_large_grid: bool,
}

impl SweepConfig {
    /// The whole grid of `scenario` into `out`, on the default pool, quietly.
    pub fn new(scenario: &Path, out: &Path) -> SweepConfig {
        SweepConfig {
            scenario: scenario.to_path_buf(),
            out: out.to_path_buf(),
            shard: None,
            threads: None,
            warm_start: false,
            quiet: true,
            allow_large_grid: false,
        }
    }
}

/// A sweep loaded and checked, not yet run: what the binary states before
/// the first solve.
#[derive(Debug)]
pub struct PlannedSweep {
    pub study: crate::study::Study,
    /// Scenarios of the whole grid.
    pub n_scenarios: usize,
    /// Scenarios this run solves (its shard's).
    pub n_in_run: usize,
}

/// Loads the scenario file of a sweep and checks its grid against
/// [`crate::study::MAX_SWEEP_SCENARIOS`].
pub fn plan_sweep(config: &SweepConfig) -> Result<PlannedSweep, AppError> {
    let study = crate::study::load_study(&config.scenario)?;
    let n_in_run = crate::study::check_grid(&study, config.shard, config.allow_large_grid)?;
    Ok(PlannedSweep {
        n_scenarios: study.n_scenarios(),
        study,
        n_in_run,
    })
}

/// `symbiose sweep`: the grid (or one shard of it) in parallel; writes
/// sweep.csv, sweep_meta.json and, with a varied parameter, sweep.svg.
pub fn sweep(config: &SweepConfig) -> Result<Swept, AppError> {
    run_planned_sweep(plan_sweep(config)?, config)
}

/// Runs a sweep [`plan_sweep`] checked.
pub fn run_planned_sweep(planned: PlannedSweep, config: &SweepConfig) -> Result<Swept, AppError> {
    use crate::study::{run_sweep, sweep_chart, sweep_csv, SweepMeta};
    let study = planned.study;
    let out = &config.out;
    check_output_folder(out)?;
    let mut inputs = source_paths(&study.source);
    inputs.push(config.scenario.clone());
    let lock = prepare_output(out, Family::Sweep, &inputs)?;
    let output_error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    let rows = with_threads(config.threads, || {
        run_sweep(
            &study,
            config.shard,
            config.warm_start,
            &progress::Bars::new(config.quiet),
        )
    })??;
    let csv = sweep_csv(&study, &rows).map_err(output_error)?;
    let meta = SweepMeta::of(&study, config.shard, rows.iter().map(|row| row.scenario).collect());
    let chart = sweep_chart(&meta.parameters, &csv).map_err(output_error)?;
    let mut files = vec![
        (outputs::SWEEP_CSV.to_string(), csv),
        (outputs::SWEEP_META.to_string(), meta.to_json().map_err(output_error)?),
    ];
    if let Some(chart) = chart {
        files.push((outputs::SWEEP_SVG.to_string(), chart.into_bytes()));
    }
    write_set(&lock, Family::Sweep, files, false)?;
    Ok(Swept {
        n_scenarios: planned.n_scenarios,
        n_solved: rows.iter().filter(|row| row.metrics.is_some()).count(),
        rows,
    })
}

/// `symbiose merge`: shard folders into one sweep.csv, sweep_meta.json and
/// sweep.svg, the files an unsharded run writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(), AppError> {
    // Shards of `uncertainty` (uncertainty_meta.json) merge into a results
    // set; a mix of both kinds is refused by either merge.
    if dirs.first().is_some_and(|dir| crate::study::is_uncertainty_folder(dir)) {
        return merge_uncertainty(dirs, out);
    }
    if let Some(dir) = dirs.iter().find(|dir| crate::study::is_uncertainty_folder(dir)) {
        return Err(AppError::Scenario(crate::study::ScenarioError::new(
            "merge",
            format!(
                "{} is an uncertainty shard, {} a sweep shard: merge shards of one kind",
                dir.display(),
                dirs[0].display()
            ),
        )));
    }
    let lock = prepare_output(out, Family::Sweep, dirs)?;
    let merged = crate::study::merge_sweeps(dirs)
        .map_err(|message| AppError::Scenario(crate::study::ScenarioError::new("merge", message)))?;
    let output_error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    let chart = crate::study::sweep_chart(&merged.meta.parameters, &merged.csv).map_err(output_error)?;
    let mut files = vec![
        (outputs::SWEEP_CSV.to_string(), merged.csv),
        (
            outputs::SWEEP_META.to_string(),
            merged.meta.to_json().map_err(output_error)?,
        ),
    ];
    if let Some(chart) = chart {
        files.push((outputs::SWEEP_SVG.to_string(), chart.into_bytes()));
    }
    write_set(&lock, Family::Sweep, files, false)
}

/// `symbiose resilience`: each firm removed in turn; writes resilience.csv.
pub fn resilience(
    source: &InventorySource,
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
    out: &Path,
    threads: Option<usize>,
    quiet: bool,
) -> Result<Vec<crate::study::ResilienceRow>, AppError> {
    let lock = prepare_output(out, Family::Resilience, &source_paths(source))?;
    check_output_folder(out)?;
    let rows = with_threads(threads, || {
        crate::study::resilience(inventory, options, supplier_share, &progress::Bars::new(quiet))
    })??;
    let csv = table_bytes(out, crate::study::resilience_table(inventory, &rows))?;
    write_set(
        &lock,
        Family::Resilience,
        vec![(outputs::RESILIENCE_CSV.to_string(), csv)],
        false,
    )?;
    Ok(rows)
}

/// `symbiose pareto`: the epsilon-constraint front; writes pareto.csv,
/// pareto.svg and pareto_summary.json.
pub fn pareto(
    source: &InventorySource,
    inventory: &Inventory,
    n_points: usize,
    out: &Path,
    threads: Option<usize>,
    quiet: bool,
) -> Result<crate::study::ParetoFront, AppError> {
    crate::options::POINTS_CHECK
        .value("--points", n_points)
        .map_err(AppError::Argument)?;
    let lock = prepare_output(out, Family::Pareto, &source_paths(source))?;
    check_output_folder(out)?;
    let front = with_threads(threads, || {
        crate::study::pareto_front(inventory, n_points, &progress::Bars::new(quiet))
    })??;
    let csv = table_bytes(out, crate::study::pareto_table(&front))?;
    let summary = serde_json::json!({
        "n_points": front.points.len(),
        "private_optimum": {"private_cost_eur": front.private_optimum.private_cost_eur, "externality_eur": front.private_optimum.externality_eur},
        "externalities_optimum": {"private_cost_eur": front.externalities_optimum.private_cost_eur, "externality_eur": front.externalities_optimum.externality_eur},
        "social_optimum": {"private_cost_eur": front.social_optimum.private_cost_eur, "externality_eur": front.social_optimum.externality_eur},
        "cost_of_territory_view_eur": front.cost_of_territory_view_eur(),
        "externality_of_private_view_eur": front.externality_of_private_view_eur(),
    });
    let mut summary_json = serde_json::to_vec_pretty(&summary).map_err(|e| AppError::Output {
        path: out.join("pareto_summary.json"),
        message: e.to_string(),
    })?;
    summary_json.push(b'\n');
    write_set(
        &lock,
        Family::Pareto,
        vec![
            (outputs::PARETO_CSV.to_string(), csv),
            (
                outputs::PARETO_SVG.to_string(),
                crate::study::pareto_chart(&front).into_bytes(),
            ),
            (outputs::PARETO_SUMMARY.to_string(), summary_json),
        ],
        false,
    )?;
    Ok(front)
}
