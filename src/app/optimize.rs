//! `optimize` and the solve-and-write path every results run shares: the
//! candidate links, the solve, the values, Shapley columns on request, and
//! the one atomic set of tables, summary, profile, GeoJSON and report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::candidates::{candidate_links_with, CandidateOptions, Link};
use crate::io::outputs::Table;
use crate::io::outputs::{self, Family};
use crate::io::{
    csv_bytes, load_inventory_with, parquet_bytes, CsvDialect, Frame, FrameError, InventorySource, LoadError,
    TableFormat,
};
use crate::model::{InputWarning, Inventory};
use crate::report::read::results_from_outputs;
use crate::report::{human_summary, part_b_tables, result_tables, summary, RunInfo, RunOptions, Summary};
use crate::solve::{LpSolution, LpSolver, Objective, SolutionStatus, SolveOptions};
use crate::value::Valuation;

use super::*;

#[derive(Debug, Clone)]
pub struct OptimizeConfig {
    pub source: InventorySource,
    pub objective: Objective,
    /// alpha in [0, 1]: the supplier's share of each link's surplus.
    pub supplier_share: f64,
    pub time_limit_seconds: Option<f64>,
    pub threads: Option<u32>,
    /// Relative MIP gap for inventories with investments (docs/model.md B4);
    /// `None`: HiGHS's default.
    pub mip_gap: Option<f64>,
    /// See [`SolveOptions::lexicographic_slack`].
    pub lexicographic_slack: f64,
    /// See [`SolveOptions::decompose`] (`--no-decompose` sets it false).
    pub decompose: bool,
    pub out: PathBuf,
    /// How the inventory's CSV files are written.
    pub dialect: CsvDialect,
    /// HiGHS's LP algorithm (`None`: HiGHS's default).
    pub solver: Option<LpSolver>,
    /// What is written beyond the A5 tables, and how the links are generated
    /// (`inputs` is filled from `source`).
    pub extras: Extras,
}

impl OptimizeConfig {
    /// The options every solve of this run gets.
    pub fn solve_options(&self) -> SolveOptions {
        SolveOptions {
            objective: self.objective,
            time_limit_seconds: self.time_limit_seconds,
            threads: self.threads,
            bound: None,
            mip_gap: self.mip_gap,
            solver: self.solver,
            lexicographic_slack: self.lexicographic_slack,
            decompose: self.decompose,
        }
    }
}

/// What `optimize` writes beyond the tables of docs/model.md A5, and how it
/// generates the candidate links.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extras {
    pub allocation: Allocation,
    /// Also write report.html.
    pub write_report: bool,
    /// Format of the four result tables.
    pub format: TableFormat,
    /// Keep only the K cheapest candidate links of each supply (an approximation).
    pub max_candidates: Option<usize>,
    /// Also write the first-stage LP to this file, before solving.
    pub write_mps: Option<PathBuf>,
    /// The files and folders the run read, which no output may replace.
    pub inputs: Vec<PathBuf>,
    /// No progress bar (`-q`): Shapley's permutations run silently.
    pub quiet: bool,
}

/// Wall-clock seconds of each stage of one `optimize` run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading and validating the inventory.
    pub load: f64,
    pub candidates: f64,
    /// Writing the first-stage LP file (`--write-mps` only).
    pub write_model: f64,
    /// Building the model and solving it (every HiGHS run).
    pub lp: f64,
    /// Of which inside HiGHS.
    pub highs: f64,
    /// How `highs` splits between HiGHS's runs.
    pub highs_runs: crate::solve::StageSeconds,
    pub valuation: f64,
    /// Tables, read-back, profile, GeoJSON, report, atomic writes.
    pub outputs: f64,
}

impl Timings {
    pub fn total(&self) -> f64 {
        self.load + self.candidates + self.write_model + self.lp + self.valuation + self.outputs
    }

    /// One line per stage, for `optimize --timings`.
    pub fn describe(&self) -> String {
        let total = self.total().max(f64::MIN_POSITIVE);
        let line =
            |name: &str, seconds: f64| format!("  {name:<28}{seconds:>10.3} s {:>6.1} %\n", 100.0 * seconds / total);
        [
            line("load and validate", self.load),
            line("candidate links", self.candidates),
            line("write the LP file", self.write_model),
            line("build the model", (self.lp - self.highs).max(0.0)),
            line("HiGHS, all runs", self.highs),
            line("  guide run", self.highs_runs.guide),
            line("  first stage", self.highs_runs.first),
            line("  second stage", self.highs_runs.second),
            line("valuation", self.valuation),
            line("tables and files", self.outputs),
            line("total", self.total()),
        ]
        .concat()
    }
}

/// How the firms' value is shared in firm_values.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocation {
    /// Each link's surplus split by the supplier share (docs/model.md A4) only.
    #[default]
    Equal,
    /// Also the Shapley value of each firm (`samples` permutations when the
    /// game is too large to enumerate).
    Shapley { samples: usize },
}

/// Everything one optimization produced.
#[derive(Debug)]
pub struct Optimized {
    pub inventory: Inventory,
    pub warnings: Vec<InputWarning>,
    pub links: Vec<Link>,
    pub solution: LpSolution,
    pub valuation: Valuation,
    pub summary: Summary,
    pub timings: Timings,
}

impl Optimized {
    pub fn exit_code(&self) -> u8 {
        match self.solution.status {
            SolutionStatus::Optimal => exit_code::OK,
            SolutionStatus::TimeLimit => exit_code::TIME_LIMIT,
        }
    }

    pub fn human_summary(&self, top_links: usize) -> String {
        human_summary(&self.inventory, &self.valuation, &self.summary, top_links)
    }
}

pub use crate::value::{optimize_inventory, optimize_inventory_warm};

/// `symbiose optimize`: load, solve, value, write the five tables, the
/// territory profile and the GeoJSON files (and report.html on request),
/// all in one atomic set. Nothing is written unless a solution was found.
pub fn optimize(config: &OptimizeConfig) -> Result<Optimized, AppError> {
    let started = Instant::now();
    let loaded = load_checked(&config.source, config.dialect)?;
    optimize_loaded(config, loaded, started.elapsed().as_secs_f64())
}

/// Loads an inventory with every warning, the spread of its quantities
/// included, so that the binary can print them before a solve that may
/// fail because of what they warn about.
pub fn load_checked(source: &InventorySource, dialect: CsvDialect) -> Result<crate::io::Loaded, LoadError> {
    let mut loaded = load_inventory_with(source, dialect)?;
    loaded
        .warnings
        .extend(quantity_spread_warnings(&loaded.inventory, &flows_file(source)));
    Ok(loaded)
}

/// `optimize` once the inventory is loaded.
pub fn optimize_loaded(
    config: &OptimizeConfig,
    loaded: crate::io::Loaded,
    load_seconds: f64,
) -> Result<Optimized, AppError> {
    let options = config.solve_options();
    let mut optimized = optimize_and_write(
        loaded.inventory,
        loaded.warnings,
        config.source.describe(),
        &options,
        config.supplier_share,
        Extras {
            inputs: source_paths(&config.source),
            ..config.extras.clone()
        },
        &config.out,
    )?;
    optimized.timings.load = load_seconds;
    Ok(optimized)
}

/// The optimum a command's own files are computed from: what
/// [`MoreOutputs::outputs`] sees once the values are known.
pub struct Optimum<'a> {
    pub inventory: &'a Inventory,
    pub links: &'a [Link],
    pub solution: &'a LpSolution,
    pub valuation: &'a Valuation,
    pub options: &'a SolveOptions,
    pub supplier_share: f64,
    /// No progress bar (`-q`).
    pub quiet: bool,
}

/// Files a command adds to the results set of the optimum it starts from
/// (`robustness`, `uncertainty`): computed after the values, written in
/// the same atomic set as the tables, and listed in summary.json's
/// `files`, so that `symbiose report` finds them and an earlier run's
/// never mix in. Each name must be one of [`Family::Results`]'s files.
/// What the command computed on the way (`Found`) comes back beside the
/// [`Optimized`] from [`optimize_and_write_with`].
pub trait MoreOutputs {
    type Found;
    fn outputs(&self, optimum: &Optimum<'_>) -> Result<(NamedOutputs, Self::Found), AppError>;
}

/// A command's own files: (name in [`Family::Results`], bytes).
pub type NamedOutputs = Vec<(&'static str, Vec<u8>)>;

/// `optimize` itself: nothing beyond the results set.
pub struct NoMoreOutputs;

impl MoreOutputs for NoMoreOutputs {
    type Found = ();
    fn outputs(&self, _optimum: &Optimum<'_>) -> Result<(NamedOutputs, ()), AppError> {
        Ok((Vec::new(), ()))
    }
}

/// Solves an inventory already in memory (loaded, or changed by a
/// scenario) and writes the five tables into `out`.
pub fn optimize_and_write(
    inventory: Inventory,
    warnings: Vec<InputWarning>,
    description: String,
    options: &SolveOptions,
    supplier_share: f64,
    extras: Extras,
    out: &Path,
) -> Result<Optimized, AppError> {
    optimize_and_write_with(
        inventory,
        warnings,
        description,
        options,
        supplier_share,
        extras,
        out,
        &NoMoreOutputs,
    )
    .map(|(optimized, ())| optimized)
}

/// [`optimize_and_write`], with a command's own files added to the set.
#[allow(clippy::too_many_arguments)]
pub fn optimize_and_write_with<M: MoreOutputs>(
    inventory: Inventory,
    warnings: Vec<InputWarning>,
    description: String,
    options: &SolveOptions,
    supplier_share: f64,
    extras: Extras,
    out: &Path,
    more: &M,
) -> Result<(Optimized, M::Found), AppError> {
    let Extras {
        allocation,
        write_report,
        format,
        max_candidates,
        write_mps,
        inputs,
        quiet,
    } = extras;
    if let Allocation::Shapley { samples } = allocation {
        // Before the solve: a limit is no reason to wait for the optimum.
        crate::value::allocation::check_shapley(&inventory, samples).map_err(AppError::Argument)?;
    }
    check_output_folder(out)?;
    let lock = prepare_output(out, Family::Results, &inputs)?;
    if let Some(path) = &write_mps {
        spare_inputs(path, None, &inputs)?;
    }
    let mut timings = Timings::default();
    let mut clock = Instant::now();
    let mut lap = || {
        let seconds = clock.elapsed().as_secs_f64();
        clock = Instant::now();
        seconds
    };
    let links = candidate_links_with(
        &inventory,
        &CandidateOptions {
            max_per_supply: max_candidates,
        },
    );
    timings.candidates = lap();
    if let Some(path) = &write_mps {
        crate::solve::write_first_stage(&inventory, &links, options, path).map_err(|e| AppError::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    timings.write_model = lap();
    let solution = crate::solve::solve(&inventory, &links, options)?;
    timings.lp = lap();
    timings.highs = solution.solve_seconds;
    timings.highs_runs = solution.stage_seconds;
    let valuation = crate::value::value_lp_solution(&inventory, &links, &solution, supplier_share);
    timings.valuation = lap();
    let shapley = match allocation {
        Allocation::Equal => None,
        Allocation::Shapley { samples } => Some(crate::value::allocation::shapley(
            &inventory,
            options,
            samples,
            &progress::Bars::new(quiet),
        )?),
    };
    let (more_files, found) = more.outputs(&Optimum {
        inventory: &inventory,
        links: &links,
        solution: &solution,
        valuation: &valuation,
        options,
        supplier_share,
        quiet,
    })?;
    let info = run_info(
        description,
        options,
        &solution,
        links.len(),
        supplier_share,
        max_candidates,
        allocation,
    );
    let mut summary = summary(&inventory, &valuation, &info);
    let output_error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    // The A5 tables, then docs/model.md Part B's, only for inventories that use it.
    let tables = result_tables(&inventory, &links, &valuation, shapley.as_ref())
        .and_then(|mut tables| {
            tables.extend(part_b_tables(&inventory, &links, &valuation)?);
            Ok(tables)
        })
        .map_err(|e| output_error(e.to_string()))?;
    // summary.json names the set's other files, so that `symbiose report`
    // reads exactly these, whatever else the folder holds.
    summary.files = tables
        .iter()
        .map(|(table, _)| table.file(format))
        .chain(
            outputs::DERIVED
                .into_iter()
                .filter(|name| write_report || *name != outputs::REPORT),
        )
        .chain(more_files.iter().map(|(name, _)| *name))
        .chain((format == TableFormat::Xlsx).then_some(outputs::RESULTS_XLSX))
        .map(str::to_string)
        .collect();
    summary.files.sort();
    let workbook = (format == TableFormat::Xlsx)
        .then(|| results_workbook(&summary, &tables))
        .transpose()
        .map_err(|e| output_error(e.to_string()))?;
    let (mut files, parquet_files) = encode_tables(tables, format).map_err(|e| output_error(e.to_string()))?;
    let mut json = serde_json::to_vec_pretty(&summary).map_err(|e| output_error(e.to_string()))?;
    json.push(b'\n');
    files.push((outputs::SUMMARY.to_string(), json));
    files.extend(workbook.map(|bytes| (outputs::RESULTS_XLSX.to_string(), bytes)));
    files.extend(more_files.into_iter().map(|(name, bytes)| (name.to_string(), bytes)));
    // The profile, the GeoJSON and the report are drawn from the tables
    // themselves, read back, so that `symbiose report` on the folder gives
    // the same page.
    let results = results_from_outputs(out, &files).map_err(|errors| {
        output_error(format!(
            "the tables do not read back: {}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ))
    })?;
    files.extend(derived_outputs(&results, write_report).map_err(|e| output_error(e.to_string()))?);
    if format == TableFormat::Parquet {
        // The CSV tables served to draw the derived files; Parquet replaces them.
        files.retain(|(name, _)| outputs::Table::named(name).is_none());
        files.extend(parquet_files);
    }
    write_set(&lock, Family::Results, files, false)?;
    timings.outputs = lap();
    Ok((
        Optimized {
            inventory,
            warnings,
            links,
            solution,
            valuation,
            summary,
            timings,
        },
        found,
    ))
}

/// (file name, bytes) per table, as CSV, and as Parquet when that is the
/// format. Each table is encoded on its own rayon worker; the files keep
/// the tables' order, and the first table that fails names the error.
fn encode_tables(tables: Vec<(Table, Frame)>, format: TableFormat) -> Result<(NamedFiles, NamedFiles), FrameError> {
    let encoded: Vec<_> = tables
        .into_par_iter()
        .map(|(table, frame)| {
            let parquet = (format == TableFormat::Parquet)
                .then(|| parquet_bytes(&frame))
                .transpose();
            (table, csv_bytes(&frame), parquet)
        })
        .collect();
    let (mut csv_files, mut parquet_files) = (Vec::new(), Vec::new());
    for (table, csv, parquet) in encoded {
        if let Some(parquet) = parquet? {
            parquet_files.push((table.parquet.to_string(), parquet));
        }
        csv_files.push((table.csv.to_string(), csv?));
    }
    Ok((csv_files, parquet_files))
}

/// results.xlsx: summary.json's fields, then a sheet per table (named by
/// its CSV file's stem), in the order the tables are written.
fn results_workbook(summary: &Summary, tables: &[(Table, Frame)]) -> Result<Vec<u8>, FrameError> {
    let summary = serde_json::to_value(summary).map_err(|e| FrameError::new(e.to_string()))?;
    let sheets: Vec<(&str, &Frame)> = tables
        .iter()
        .map(|(table, frame)| (table.csv.trim_end_matches(".csv"), frame))
        .collect();
    crate::io::xlsx_bytes(&summary, &sheets)
}

/// Output files as (name, bytes).
type NamedFiles = Vec<(String, Vec<u8>)>;

/// summary.json's run information and options for one solve.
fn run_info(
    description: String,
    options: &SolveOptions,
    solution: &LpSolution,
    n_candidate_links: usize,
    supplier_share: f64,
    max_candidates: Option<usize>,
    allocation: Allocation,
) -> RunInfo {
    RunInfo {
        inventory: description,
        objective: options.objective,
        status: solution.status,
        solve_seconds: solution.solve_seconds,
        n_candidate_links,
        n_binaries: solution.extended.as_ref().map_or(0, |extended| extended.n_binaries),
        mip_gap: solution.extended.as_ref().and_then(|extended| extended.mip_gap),
        options: RunOptions {
            objective: options.objective.as_str().to_string(),
            lexicographic_slack: options.lexicographic_slack,
            decompose: options.decompose,
            supplier_share,
            max_candidates,
            solver: options.solver.map(|solver| {
                match solver {
                    LpSolver::Auto => "auto",
                    LpSolver::Simplex => "simplex",
                    LpSolver::Ipm => "ipm",
                }
                .to_string()
            }),
            time_limit_seconds: options.time_limit_seconds,
            mip_gap: options.mip_gap,
            allocation: match allocation {
                Allocation::Equal => "equal",
                Allocation::Shapley { .. } => "shapley",
            }
            .to_string(),
            shapley_samples: match allocation {
                Allocation::Equal => None,
                Allocation::Shapley { samples } => Some(samples),
            },
        },
    }
}

/// The results of a solve as `symbiose report` would read them back from
/// its folder, without writing anything: the A5 and Part B tables and
/// summary.json encoded as CSV and JSON, then read through their schemas
/// (`schemes` compares two optima this way, as `compare` compares two
/// folders).
pub fn results_in_memory(
    inventory: &Inventory,
    links: &[Link],
    solution: &LpSolution,
    valuation: &Valuation,
    options: &SolveOptions,
    supplier_share: f64,
    dir: &Path,
) -> Result<crate::report::results::Results, AppError> {
    let output_error = |message: String| AppError::Output {
        path: dir.to_path_buf(),
        message,
    };
    let (summary, tables) = tables_in_memory(
        inventory,
        links,
        solution,
        valuation,
        options,
        supplier_share,
        String::new(),
    )
    .map_err(output_error)?;
    let (mut files, _) = encode_tables(tables, TableFormat::Csv).map_err(|e| output_error(e.to_string()))?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| output_error(e.to_string()))?;
    files.push((outputs::SUMMARY.to_string(), json));
    results_from_outputs(dir, &files).map_err(|errors| AppError::Results {
        dir: dir.to_path_buf(),
        errors,
    })
}

/// summary.json's figures and the A5 and Part B tables of a solve, in
/// memory, as `optimize` would write them (summary.json's `files` lists
/// the tables' CSV names only: nothing else is written). The Python
/// package's results are these.
pub fn tables_in_memory(
    inventory: &Inventory,
    links: &[Link],
    solution: &LpSolution,
    valuation: &Valuation,
    options: &SolveOptions,
    supplier_share: f64,
    description: String,
) -> Result<(Summary, Vec<(Table, Frame)>), String> {
    let info = run_info(
        description,
        options,
        solution,
        links.len(),
        supplier_share,
        None,
        Allocation::Equal,
    );
    let mut summary = summary(inventory, valuation, &info);
    let tables = result_tables(inventory, links, valuation, None)
        .and_then(|mut tables| {
            tables.extend(part_b_tables(inventory, links, valuation)?);
            Ok(tables)
        })
        .map_err(|e| e.to_string())?;
    summary.files = tables.iter().map(|(table, _)| table.csv.to_string()).collect();
    summary.files.sort();
    Ok((summary, tables))
}
