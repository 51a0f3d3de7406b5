//! The pipeline as the commands run it: load -> candidates -> solve ->
//! value -> write. The binary parses arguments into these configs, calls one
//! function, prints and exits with [`AppError::exit_code`].

pub mod progress;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::candidates::{candidate_links, candidate_links_with, CandidateOptions, Link};
use crate::io::outputs::{self, Family};
use crate::io::{
    csv_bytes, load_inventory, load_inventory_with, lock_output, parquet_bytes, refuse_output_over_inputs,
    write_file_atomically, write_outputs_atomically, CsvDialect, InventorySource, LoadError, LockError, OutputLock,
    TableFormat, WriteError,
};
use crate::model::table::short_number;
use crate::model::{InputError, InputWarning, Inventory};
use crate::report::geojson::{firms_geojson, links_geojson};
use crate::report::html;
use crate::report::profile::territory_profile;
use crate::report::read::{read_results_folder, results_from_outputs};
use crate::report::results::Results;
use crate::report::{human_summary, part_b_tables, result_tables, summary, RunInfo, RunOptions, Summary};
use crate::solve::{LpSolution, LpSolver, Objective, SolutionStatus, SolveError, SolveOptions};
use crate::value::Valuation;

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
            AppError::Solve(SolveError::TimeLimitWithoutSolution) => exit_code::TIME_LIMIT,
            // A limit of the program, stated as such: the input is too large.
            AppError::Solve(SolveError::TooLarge(_)) => exit_code::INVALID_INPUT,
            AppError::Solve(_) => exit_code::SOLVER_FAILURE,
            AppError::Output { .. } | AppError::Locked(_) => exit_code::FAILURE,
            AppError::Results { .. } | AppError::Argument(_) => exit_code::INVALID_INPUT,
        }
    }
}

/// The widest spread of positive flow quantities (largest / smallest) over
/// which HiGHS was measured to solve every sampled inventory and to leave
/// the small flows accurate (ARCHITECTURE.md, "Numerical tolerances").
pub const QUANTITY_SPREAD_LIMIT: f64 = 1e12;

/// How far from the median quantity a flow is named in the spread warning.
const QUANTITY_OUTLIER_FACTOR: f64 = 1e6;

/// A warning when the inventory's positive quantities span more than
/// [`QUANTITY_SPREAD_LIMIT`], naming the flows far from the median (in
/// resource units). `flows_file` is the flows file as the user knows it.
pub fn quantity_spread_warnings(inventory: &Inventory, flows_file: &str) -> Vec<InputWarning> {
    // The flows of flows.csv only: a process port's quantity is derived
    // from its process's capacity (infinite without one).
    let flows: Vec<&crate::model::Flow> = inventory
        .flows()
        .iter()
        .filter(|flow| !flow.is_process_port())
        .collect();
    let mut quantities: Vec<f64> = flows.iter().map(|flow| flow.quantity).filter(|q| *q > 0.0).collect();
    quantities.sort_by(f64::total_cmp);
    let (Some(smallest), Some(largest)) = (quantities.first(), quantities.last()) else {
        return Vec::new();
    };
    if largest / smallest <= QUANTITY_SPREAD_LIMIT {
        return Vec::new();
    }
    let median = quantities[quantities.len() / 2];
    let mut outliers: Vec<&crate::model::Flow> = flows
        .into_iter()
        .filter(|flow| {
            flow.quantity > 0.0
                && (flow.quantity < median / QUANTITY_OUTLIER_FACTOR
                    || flow.quantity > median * QUANTITY_OUTLIER_FACTOR)
        })
        .collect();
    outliers.sort_by(|a, b| a.quantity.total_cmp(&b.quantity).then_with(|| a.id.cmp(&b.id)));
    const LISTED: usize = 10;
    let mut listed: Vec<String> = outliers
        .iter()
        .take(LISTED)
        .map(|flow| {
            format!(
                "{} ({} {})",
                flow.id,
                short_number(flow.quantity),
                inventory.resource(flow.resource).unit
            )
        })
        .collect();
    if outliers.len() > LISTED {
        listed.push(format!("and {} more", outliers.len() - LISTED));
    }
    // A subnormal smallest quantity takes the ratio beyond f64.
    let spread = largest / smallest;
    let spread_text = if spread.is_finite() {
        format!("{spread:.0e}")
    } else {
        "more than 1e308".to_string()
    };
    vec![InputWarning {
        file: flows_file.to_string(),
        line: None,
        message: format!(
            "flow quantities span {} (from {} to {}), more than the {QUANTITY_SPREAD_LIMIT:.0e} over which the solver was checked: the smallest flows may come out inaccurate, or the solve end in numerical trouble; flows more than {QUANTITY_OUTLIER_FACTOR:.0e} times from the median quantity ({}): {}",
            spread_text,
            short_number(*smallest),
            short_number(*largest),
            short_number(median),
            listed.join(", ")
        ),
    }]
}

/// The flows file of an inventory, as warnings name it.
fn flows_file(source: &InventorySource) -> String {
    match source {
        InventorySource::Folder(dir) => dir.join("flows.csv").display().to_string(),
        InventorySource::Workbook(path) => format!("{} [sheet flows]", path.display()),
        InventorySource::BundledDunkirk => "bundled:dunkirk/flows.csv".to_string(),
    }
}

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
    pub out: PathBuf,
    pub allocation: Allocation,
    /// Also write report.html into `out`.
    pub write_report: bool,
    /// Format of the four result tables.
    pub format: TableFormat,
    /// How the inventory's CSV files are written.
    pub dialect: CsvDialect,
    /// HiGHS's LP algorithm (`None`: HiGHS's default).
    pub solver: Option<LpSolver>,
    /// Keep only the K cheapest candidate links of each supply (an approximation).
    pub max_candidates: Option<usize>,
    /// Also write the first-stage LP to this file (MPS or LP format, by extension).
    pub write_mps: Option<PathBuf>,
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
    let options = SolveOptions {
        objective: config.objective,
        time_limit_seconds: config.time_limit_seconds,
        threads: config.threads,
        bound: None,
        mip_gap: config.mip_gap,
        solver: config.solver,
        lexicographic_slack: config.lexicographic_slack,
    };
    let mut optimized = optimize_and_write(
        loaded.inventory,
        loaded.warnings,
        config.source.describe(),
        &options,
        config.supplier_share,
        Extras {
            allocation: config.allocation,
            write_report: config.write_report,
            format: config.format,
            max_candidates: config.max_candidates,
            write_mps: config.write_mps.clone(),
            inputs: source_paths(&config.source),
        },
        &config.out,
    )?;
    optimized.timings.load = load_seconds;
    Ok(optimized)
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
    let Extras {
        allocation,
        write_report,
        format,
        max_candidates,
        write_mps,
        inputs,
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
            &progress::Bars::new(false),
        )?),
    };
    let info = RunInfo {
        inventory: description,
        objective: options.objective,
        status: solution.status,
        solve_seconds: solution.solve_seconds,
        n_candidate_links: links.len(),
        n_binaries: solution.extended.as_ref().map_or(0, |extended| extended.n_binaries),
        mip_gap: solution.extended.as_ref().and_then(|extended| extended.mip_gap),
        options: RunOptions {
            objective: options.objective.as_str(),
            lexicographic_slack: options.lexicographic_slack,
            supplier_share,
            max_candidates,
            solver: options.solver.map(|solver| match solver {
                LpSolver::Auto => "auto",
                LpSolver::Simplex => "simplex",
                LpSolver::Ipm => "ipm",
            }),
            time_limit_seconds: options.time_limit_seconds,
            mip_gap: options.mip_gap,
            allocation: match allocation {
                Allocation::Equal => "equal",
                Allocation::Shapley { .. } => "shapley",
            },
            shapley_samples: match allocation {
                Allocation::Equal => None,
                Allocation::Shapley { samples } => Some(samples),
            },
        },
    };
    let mut summary = summary(&inventory, &valuation, &info);
    let output_error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    let mut files = Vec::new();
    let mut parquet_files = Vec::new();
    // The A5 tables, then docs/model.md Part B's, only for inventories that use it.
    let tables = result_tables(&inventory, &links, &valuation)
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
        .map(str::to_string)
        .collect();
    summary.files.sort();
    for (table, mut frame) in tables {
        let name = table.csv;
        if let (Some(shapley), true) = (&shapley, table == outputs::FIRM_VALUES) {
            add_shapley_columns(&inventory, &mut frame, shapley).map_err(|e| output_error(e.to_string()))?;
        }
        if format == TableFormat::Parquet {
            parquet_files.push((
                table.parquet.to_string(),
                parquet_bytes(&mut frame).map_err(|e| output_error(e.to_string()))?,
            ));
        }
        files.push((
            name.to_string(),
            csv_bytes(&mut frame).map_err(|e| output_error(e.to_string()))?,
        ));
    }
    let mut json = serde_json::to_vec_pretty(&summary).map_err(|e| output_error(e.to_string()))?;
    json.push(b'\n');
    files.push((outputs::SUMMARY.to_string(), json));
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
    Ok(Optimized {
        inventory,
        warnings,
        links,
        solution,
        valuation,
        summary,
        timings,
    })
}

/// Appends shapley_value_eur (and its standard error) to firm_values.csv,
/// matching rows by firm_id.
fn add_shapley_columns(
    inventory: &Inventory,
    frame: &mut polars::prelude::DataFrame,
    shapley: &crate::value::allocation::ShapleyValues,
) -> polars::prelude::PolarsResult<()> {
    use polars::prelude::*;
    let ids: Vec<String> = frame
        .column("firm_id")?
        .str()?
        .iter()
        .map(|id| id.unwrap_or_default().to_string())
        .collect();
    let lookup = crate::model::firm_indices(inventory);
    let pick = |values: &[f64]| -> Vec<f64> {
        ids.iter()
            .map(|id| {
                lookup
                    .get(id.as_str())
                    .map(|firm| values[firm.index()] + 0.0)
                    .unwrap_or(0.0)
            })
            .collect()
    };
    frame.with_column(Column::new("shapley_value_eur".into(), pick(&shapley.values)))?;
    frame.with_column(Column::new(
        "shapley_standard_error_eur".into(),
        pick(&shapley.standard_errors),
    ))?;
    Ok(())
}

/// Most worker threads `--threads` may ask for, per core: more only adds
/// threads that wait (each solve runs on one) and, by the hundred thousand,
/// takes minutes to start.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// `--threads` capped at [`MAX_THREADS_PER_CORE`] times the cores, with the
/// warning to print when it was.
pub fn capped_threads(requested: Option<usize>) -> (Option<usize>, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cap = MAX_THREADS_PER_CORE * cores;
    match requested {
        Some(n) if n > cap => (
            Some(cap),
            Some(format!(
                "--threads {n} is more than {MAX_THREADS_PER_CORE} per core ({cores} cores here): using {cap}"
            )),
        ),
        other => (other, None),
    }
}

/// Runs `work` on a rayon pool of `threads` threads (the global pool when `None`).
pub fn with_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T, AppError> {
    match threads {
        None => Ok(work()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map(|pool| pool.install(work))
            .map_err(|e| AppError::Output {
                path: PathBuf::from("."),
                message: format!("cannot start {n} threads: {e}"),
            }),
    }
}

/// Checks, before anything is solved, that results could be written into
/// `out`: it, or where it does not exist yet the nearest folder above it
/// (where it would be created), must be a folder this process may write
/// in. Creates nothing, so a failed run leaves no trace.
pub fn check_output_folder(out: &Path) -> Result<(), AppError> {
    let refuse = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message: format!("{message} (checked before solving; nothing was written)"),
    };
    let mut folder = if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out.to_path_buf()
    };
    loop {
        match std::fs::metadata(&folder) {
            Ok(meta) if meta.is_dir() => {
                return writable_folder(&folder, &meta)
                    .map_err(|error| refuse(format!("cannot write in the folder {}: {error}", folder.display())));
            }
            Ok(_) => return Err(refuse(format!("{} exists and is not a folder", folder.display()))),
            // Not there yet (or below a file, which the next round finds):
            // the folder would be created in its parent.
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                match folder.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => folder = parent.to_path_buf(),
                    // A relative path's first component: its parent is the working folder.
                    Some(_) if folder != Path::new(".") => folder = PathBuf::from("."),
                    _ => return Err(refuse(format!("cannot reach {}: {error}", folder.display()))),
                }
            }
            Err(error) => return Err(refuse(format!("cannot reach {}: {error}", folder.display()))),
        }
    }
}

/// Whether this process may create files in `folder` (write and search
/// permission, for its effective user; a read-only file system included).
fn writable_folder(folder: &Path, meta: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = meta;
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(folder.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
        // SAFETY: `path` is a NUL-terminated string that outlives the call;
        // faccessat only reads it.
        let status =
            unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::W_OK | libc::X_OK, libc::AT_EACCESS) };
        if status == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = folder;
        if meta.permissions().readonly() {
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        } else {
            Ok(())
        }
    }
}

/// What every command that writes an output folder does first, before it
/// solves: refuses an output that would replace one of its `inputs`
/// (exit 2), then takes the folder's lock, which also finds a parent folder
/// that cannot be written (exit 1).
pub fn prepare_output(out: &Path, family: Family, inputs: &[PathBuf]) -> Result<OutputLock, AppError> {
    spare_inputs(out, Some(family), inputs)?;
    Ok(lock_output(out)?)
}

/// Refuses an output folder of `family` (or, with `None`, an output file)
/// that would replace one of the command's inputs.
fn spare_inputs(out: &Path, family: Option<Family>, inputs: &[PathBuf]) -> Result<(), AppError> {
    refuse_output_over_inputs(out, family, inputs).map_err(AppError::Argument)
}

/// The paths an inventory is read from: a workbook, or a folder and the
/// files of it that the loader reads (the names `generate` writes, Part B's
/// and the catalogue's).
fn source_paths(source: &InventorySource) -> Vec<PathBuf> {
    match source {
        InventorySource::Folder(dir) => std::iter::once(dir.clone())
            .chain(
                outputs::TERRITORY
                    .iter()
                    .chain(&crate::io::PART_B_FILES)
                    .chain(&crate::io::CATALOGUE_FILES)
                    .map(|name| dir.join(name)),
            )
            .collect(),
        InventorySource::Workbook(path) => vec![path.clone()],
        InventorySource::BundledDunkirk => Vec::new(),
    }
}

/// Writes a set into the locked folder; files of the family's names that
/// symbiose did not write are refused (exit 2) unless `force`.
fn write_set(lock: &OutputLock, family: Family, files: Vec<(String, Vec<u8>)>, force: bool) -> Result<(), AppError> {
    match write_outputs_atomically(lock, family, &files, force) {
        Ok(_) => Ok(()),
        Err(error @ WriteError::NotWrittenBySymbiose { .. }) => Err(AppError::Argument(error.to_string())),
        Err(WriteError::Io(error)) => Err(AppError::Output {
            path: lock.dir().to_path_buf(),
            message: error.to_string(),
        }),
    }
}

fn table_bytes(
    out: &Path,
    frame: polars::prelude::PolarsResult<polars::prelude::DataFrame>,
) -> Result<Vec<u8>, AppError> {
    let error = |e: polars::prelude::PolarsError| AppError::Output {
        path: out.to_path_buf(),
        message: e.to_string(),
    };
    let mut frame = frame.map_err(error)?;
    csv_bytes(&mut frame).map_err(error)
}

/// `symbiose run`: one scenario (its `[set]`, removals and bans; `[[vary]]`
/// is for `sweep`), the usual five tables.
pub fn run_scenario(path: &Path, out: &Path, allocation: Allocation) -> Result<Optimized, AppError> {
    let mut study = crate::study::load_study(path)?;
    study.vary.clear();
    let (inventory, share) = study.instance(0)?;
    let options = study.solve_options(None);
    let mut inputs = source_paths(&study.source);
    inputs.push(path.to_path_buf());
    optimize_and_write(
        inventory,
        Vec::new(),
        format!("{} (scenario {})", study.source.describe(), path.display()),
        &options,
        share,
        Extras {
            allocation,
            write_report: false,
            format: TableFormat::Csv,
            inputs,
            ..Extras::default()
        },
        out,
    )
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
    options: &SolveOptions,
    supplier_share: f64,
    out: &Path,
    threads: Option<usize>,
    quiet: bool,
) -> Result<(Inventory, Vec<crate::study::ResilienceRow>), AppError> {
    let lock = prepare_output(out, Family::Resilience, &source_paths(source))?;
    let inventory = load_inventory(source)?.inventory;
    check_output_folder(out)?;
    let rows = with_threads(threads, || {
        crate::study::resilience(&inventory, options, supplier_share, &progress::Bars::new(quiet))
    })??;
    let csv = table_bytes(out, crate::study::resilience_table(&inventory, &rows))?;
    write_set(
        &lock,
        Family::Resilience,
        vec![(outputs::RESILIENCE_CSV.to_string(), csv)],
        false,
    )?;
    Ok((inventory, rows))
}

/// Fewest points `pareto --points` accepts.
pub const MIN_PARETO_POINTS: usize = 2;

/// `symbiose pareto`: the epsilon-constraint front; writes pareto.csv,
/// pareto.svg and pareto_summary.json.
pub fn pareto(
    source: &InventorySource,
    n_points: usize,
    out: &Path,
    threads: Option<usize>,
    quiet: bool,
) -> Result<crate::study::ParetoFront, AppError> {
    if n_points < MIN_PARETO_POINTS {
        return Err(AppError::Argument(format!(
            "--points {n_points}: a front needs at least {MIN_PARETO_POINTS} points (its two ends, the lexicographic optima)"
        )));
    }
    let lock = prepare_output(out, Family::Pareto, &source_paths(source))?;
    let inventory = load_inventory(source)?.inventory;
    check_output_folder(out)?;
    let front = with_threads(threads, || {
        crate::study::pareto_front(&inventory, n_points, &progress::Bars::new(quiet))
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

/// territory_profile.json, firms.geojson, links.geojson and, when asked,
/// report.html, from the result tables.
pub fn derived_outputs(results: &Results, with_report: bool) -> serde_json::Result<Vec<(String, Vec<u8>)>> {
    let profile = territory_profile(results);
    let mut profile_json = serde_json::to_vec_pretty(&profile)?;
    profile_json.push(b'\n');
    let mut files = vec![
        (outputs::PROFILE.to_string(), profile_json),
        (outputs::FIRMS_GEOJSON.to_string(), firms_geojson(results)?),
        (outputs::LINKS_GEOJSON.to_string(), links_geojson(results)?),
    ];
    if with_report {
        files.push((
            outputs::REPORT.to_string(),
            html::render(results, &profile).into_bytes(),
        ));
    }
    Ok(files)
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// A folder written by `symbiose optimize`.
    pub results_dir: PathBuf,
    /// Where to write the page; default: report.html in `results_dir`.
    pub out: Option<PathBuf>,
}

/// What `symbiose report` wrote.
#[derive(Debug)]
pub struct Reported {
    pub path: PathBuf,
    pub n_links: usize,
    pub n_firms: usize,
    /// summary.json's `optimal_over` (a run with `--max-candidates`).
    pub optimal_over: Option<String>,
}

/// `symbiose report`: the HTML report of a results folder, from its tables
/// alone. A missing or malformed table is an input error (exit code 2).
pub fn report(config: &ReportConfig) -> Result<Reported, AppError> {
    let path = config
        .out
        .clone()
        .unwrap_or_else(|| config.results_dir.join(outputs::REPORT));
    let output_error = |message: String| AppError::Output {
        path: path.clone(),
        message,
    };
    if path.is_dir() {
        return Err(AppError::Argument(format!(
            "--out {} is a folder: give a file, such as report.html",
            path.display()
        )));
    }
    if path.file_name().is_none() {
        return Err(AppError::Argument(format!(
            "--out {} does not name a file: give one, such as report.html",
            path.display()
        )));
    }
    // The page may replace none of the files it is drawn from.
    let inputs: Vec<PathBuf> = std::iter::once(config.results_dir.clone())
        .chain(
            Family::Results
                .files()
                .into_iter()
                .filter(|name| *name != outputs::REPORT)
                .map(|name| config.results_dir.join(name)),
        )
        .collect();
    spare_inputs(&path, None, &inputs)?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Held while the tables are read too, when the page goes beside them.
    let lock = lock_output(&folder)?;
    let results = read_results_folder(&config.results_dir).map_err(|errors| AppError::Results {
        dir: config.results_dir.clone(),
        errors,
    })?;
    let profile = territory_profile(&results);
    let page = html::render(&results, &profile);
    // One file added to (or replaced in) a folder that may hold anything:
    // the folder itself is left as it is.
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    write_file_atomically(&lock, &name, page.as_bytes()).map_err(|e| output_error(e.to_string()))?;
    Ok(Reported {
        path,
        n_links: results.links.len(),
        n_firms: results.firms.len(),
        optimal_over: results.summary.optimal_over.clone(),
    })
}

/// `symbiose generate`: a synthetic territory written into `out`. Files of
/// its names that symbiose did not write there (a user's inventory) are
/// refused unless `force`.
pub fn generate(
    config: &crate::generate::GenerateConfig,
    out: &Path,
    force: bool,
) -> Result<crate::generate::Generated, AppError> {
    config.check().map_err(AppError::Argument)?;
    let lock = prepare_output(out, Family::Territory, &[])?;
    let generated = crate::generate::generate(config);
    write_set(&lock, Family::Territory, generated.files.clone(), force)?;
    Ok(generated)
}

/// `symbiose catalogue`: the default catalogue as editable files in `out`.
/// Files of its names that symbiose did not write there (a user's
/// catalogue) are refused unless `force`.
pub fn catalogue(out: &Path, force: bool) -> Result<(), AppError> {
    let lock = prepare_output(out, Family::Catalogue, &[])?;
    write_set(&lock, Family::Catalogue, crate::io::catalogue_files(), force)
}

/// What `symbiose validate` found in a valid inventory.
#[derive(Debug)]
pub struct Validated {
    pub n_firms: usize,
    pub n_flows: usize,
    pub n_candidate_links: usize,
    /// docs/model.md Part B: slices (when slices.csv is given) and processes.
    pub n_slices: Option<usize>,
    pub n_processes: usize,
    pub warnings: Vec<InputWarning>,
}

/// `symbiose validate`: every problem at once, or the counts.
pub fn validate(source: &InventorySource, dialect: CsvDialect) -> Result<Validated, LoadError> {
    let loaded = load_checked(source, dialect)?;
    Ok(Validated {
        n_firms: loaded.inventory.firms().len(),
        n_flows: loaded.inventory.flows().len(),
        n_candidate_links: candidate_links(&loaded.inventory).len(),
        n_slices: loaded
            .inventory
            .slices_given()
            .then_some(loaded.inventory.slices().len()),
        n_processes: loaded.inventory.processes().len(),
        warnings: loaded.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let base = load_inventory(&InventorySource::Folder(dir)).unwrap().inventory;
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
