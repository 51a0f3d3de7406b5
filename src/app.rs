//! The pipeline as the commands run it: load -> candidates -> solve ->
//! value -> write. The binary parses arguments into these configs, calls one
//! function, prints and exits with [`AppError::exit_code`].

use std::path::PathBuf;

use crate::candidates::{candidate_links, Link};
use crate::geojson::{firms_geojson, links_geojson};
use crate::html;
use crate::inventory::{InputError, InputWarning, Inventory};
use crate::io::{
    csv_bytes, load_inventory, read_results_folder, results_from_outputs, write_outputs_atomically, InventorySource,
    LoadError,
};
use crate::lp::{solve, LpSolution, Objective, SolutionStatus, SolveError, SolveOptions};
use crate::profile::territory_profile;
use crate::report::{human_summary, result_tables, summary, RunInfo, Summary};
use crate::results::Results;
use crate::valuation::{value_solution, Valuation};

/// Files `optimize` writes beside the A5 tables (README, "The outputs").
pub const PROFILE_FILE: &str = "territory_profile.json";
pub const FIRMS_GEOJSON_FILE: &str = "firms.geojson";
pub const LINKS_GEOJSON_FILE: &str = "links.geojson";
/// The HTML report `optimize --report` writes into the output folder.
pub const REPORT_FILE: &str = "report.html";

/// Exit codes, one per kind of outcome (documented in the README).
pub mod exit_code {
    /// Done; results written.
    pub const OK: u8 = 0;
    /// Unexpected failure (I/O error writing results, internal error).
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
    #[error("writing results to {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("{0}")]
    Argument(String),
    #[error("{} is not a complete results folder: {} problem(s)", .dir.display(), .errors.len())]
    Results { dir: PathBuf, errors: Vec<InputError> },
}

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Input(_) => exit_code::INVALID_INPUT,
            AppError::Solve(SolveError::Infeasible) => exit_code::INFEASIBLE,
            AppError::Solve(SolveError::Unbounded | SolveError::InfeasibleOrUnbounded) => exit_code::UNBOUNDED,
            AppError::Solve(SolveError::TimeLimitWithoutSolution) => exit_code::TIME_LIMIT,
            AppError::Solve(_) => exit_code::SOLVER_FAILURE,
            AppError::Output { .. } => exit_code::FAILURE,
            AppError::Results { .. } | AppError::Argument(_) => exit_code::INVALID_INPUT,
        }
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
    pub out: PathBuf,
    /// Also write report.html into `out`.
    pub write_report: bool,
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

/// Solves and values an already loaded inventory (no I/O).
pub fn optimize_inventory(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
) -> Result<(Vec<Link>, LpSolution, Valuation), SolveError> {
    let links = candidate_links(inventory);
    let solution = solve(inventory, &links, options)?;
    let valuation = value_solution(
        inventory,
        &links,
        &solution.link_flows,
        &solution.shadow_prices,
        supplier_share,
    );
    Ok((links, solution, valuation))
}

/// `symbiose optimize`: load, solve, value, write the five tables, the
/// territory profile and the GeoJSON files (and report.html on request),
/// all in one atomic set. Nothing is written unless a solution was found.
pub fn optimize(config: &OptimizeConfig) -> Result<Optimized, AppError> {
    let loaded = load_inventory(&config.source)?;
    let options = SolveOptions {
        objective: config.objective,
        time_limit_seconds: config.time_limit_seconds,
        threads: config.threads,
    };
    let (links, solution, valuation) = optimize_inventory(&loaded.inventory, &options, config.supplier_share)?;
    let info = RunInfo {
        inventory: config.source.describe(),
        objective: config.objective,
        status: solution.status,
        solve_seconds: solution.solve_seconds,
        n_candidate_links: links.len(),
    };
    let summary = summary(&loaded.inventory, &valuation, &info);
    let output_error = |message: String| AppError::Output {
        path: config.out.clone(),
        message,
    };
    let mut files = Vec::new();
    for (name, mut frame) in
        result_tables(&loaded.inventory, &links, &valuation).map_err(|e| output_error(e.to_string()))?
    {
        files.push((
            name.to_string(),
            csv_bytes(&mut frame).map_err(|e| output_error(e.to_string()))?,
        ));
    }
    let mut json = serde_json::to_vec_pretty(&summary).map_err(|e| output_error(e.to_string()))?;
    json.push(b'\n');
    files.push(("summary.json".to_string(), json));
    // The profile, the GeoJSON and the report are drawn from the tables
    // themselves, read back, so that `symbiose report` on the folder gives
    // the same page.
    let results = results_from_outputs(&config.out, &files).map_err(|errors| {
        output_error(format!(
            "the tables do not read back: {}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ))
    })?;
    files.extend(derived_outputs(&results, config.write_report).map_err(|e| output_error(e.to_string()))?);
    write_outputs_atomically(&config.out, &files).map_err(|e| output_error(e.to_string()))?;
    Ok(Optimized {
        inventory: loaded.inventory,
        warnings: loaded.warnings,
        links,
        solution,
        valuation,
        summary,
    })
}

/// territory_profile.json, firms.geojson, links.geojson and, when asked,
/// report.html, from the result tables.
pub fn derived_outputs(results: &Results, with_report: bool) -> serde_json::Result<Vec<(String, Vec<u8>)>> {
    let profile = territory_profile(results);
    let mut profile_json = serde_json::to_vec_pretty(&profile)?;
    profile_json.push(b'\n');
    let mut files = vec![
        (PROFILE_FILE.to_string(), profile_json),
        (FIRMS_GEOJSON_FILE.to_string(), firms_geojson(results)?),
        (LINKS_GEOJSON_FILE.to_string(), links_geojson(results)?),
    ];
    if with_report {
        files.push((REPORT_FILE.to_string(), html::render(results, &profile).into_bytes()));
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
}

/// `symbiose report`: the HTML report of a results folder, from its tables
/// alone. A missing or malformed table is an input error (exit code 2).
pub fn report(config: &ReportConfig) -> Result<Reported, AppError> {
    let path = config
        .out
        .clone()
        .unwrap_or_else(|| config.results_dir.join(REPORT_FILE));
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
    let Some(name) = path.file_name().map(|name| name.to_string_lossy().to_string()) else {
        return Err(AppError::Argument(format!(
            "--out {} does not name a file: give one, such as report.html",
            path.display()
        )));
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let results = read_results_folder(&config.results_dir).map_err(|errors| AppError::Results {
        dir: config.results_dir.clone(),
        errors,
    })?;
    let profile = territory_profile(&results);
    let page = html::render(&results, &profile);
    write_outputs_atomically(&dir, &[(name, page.into_bytes())]).map_err(|e| output_error(e.to_string()))?;
    Ok(Reported {
        path,
        n_links: results.links.len(),
        n_firms: results.firms.len(),
    })
}

/// What `symbiose validate` found in a valid inventory.
#[derive(Debug)]
pub struct Validated {
    pub n_firms: usize,
    pub n_flows: usize,
    pub n_candidate_links: usize,
    pub warnings: Vec<InputWarning>,
}

/// `symbiose validate`: every problem at once, or the counts.
pub fn validate(source: &InventorySource) -> Result<Validated, LoadError> {
    let loaded = load_inventory(source)?;
    Ok(Validated {
        n_firms: loaded.inventory.firms().len(),
        n_flows: loaded.inventory.flows().len(),
        n_candidate_links: candidate_links(&loaded.inventory).len(),
        warnings: loaded.warnings,
    })
}
