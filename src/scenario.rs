//! What-if studies: scenario files, parameter overrides, parallel sweeps
//! (sharded across machines and merged back), firm exit, the Pareto front of
//! private cost against externalities, and Shapley fair shares.
//!
//! Owns: turning a base [`Inventory`] into the inventory of one scenario
//! (every override checked like an input value), and running many of them
//! with rayon, one HiGHS thread per solve. Must not write files itself
//! beyond handing tables to `io`; must not touch HiGHS but through `lp`.
//!
//! Invariant: a scenario's results depend only on the scenario file and its
//! grid index, never on the order in which threads ran, so a sweep, a
//! sharded sweep merged back, and any thread count give the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Deserialize;

use crate::app::{optimize_inventory, optimize_inventory_warm, AppError};
use crate::inventory::table::MAX_MAGNITUDE;
use crate::inventory::{CategoryIdx, FirmIdx, FlowIdx, Inventory, ResourceIdx, RouteIdx};
use crate::io::{csv_bytes, load_inventory, InventorySource};
use crate::lp::{Criterion, CriterionBound, Objective, SolveError, SolveOptions, WarmStart};
use crate::valuation::Valuation;

/// A scenario file as written by the user (TOML).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A folder path relative to the scenario file, or `bundled:dunkirk`.
    pub inventory: String,
    #[serde(default)]
    pub objective: Option<Objective>,
    #[serde(default)]
    pub supplier_share: Option<f64>,
    #[serde(default)]
    pub time_limit: Option<f64>,
    /// Relative MIP gap at which HiGHS may stop (MODEL.md B4; like
    /// `optimize --mip-gap`).
    #[serde(default)]
    pub mip_gap: Option<f64>,
    /// Fixed overrides: parameter path -> value.
    #[serde(default)]
    pub set: BTreeMap<String, f64>,
    /// Parameters to sweep; the grid is their cartesian product.
    #[serde(default)]
    pub vary: Vec<Vary>,
    #[serde(default)]
    pub remove_firms: Vec<String>,
    #[serde(default)]
    pub ban_routes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vary {
    pub parameter: String,
    pub values: Vec<f64>,
}

/// A problem with a scenario file, located in that file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub message: String,
}

/// One parameter a scenario may change, resolved against the inventory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameter {
    Externality(CategoryIdx),
    RouteCost(RouteIdx),
    TransportCost(ResourceIdx),
    MaxDistance(ResourceIdx),
    FlowQuantity(FlowIdx),
    FlowFactor(FlowIdx),
    SupplierShare,
}

/// The parameter paths a scenario may use, for error messages.
pub const PARAMETER_PATHS: &str = "externality.<category>, route_cost.<route>, transport_cost.<resource>, max_distance.<resource>, flow_quantity.<flow_id>, flow_factor.<flow_id>, supplier_share";

/// Resolves a parameter path such as `externality.co2e_t`.
pub fn parse_parameter(inventory: &Inventory, path: &str) -> Result<Parameter, String> {
    if path == "supplier_share" {
        return Ok(Parameter::SupplierShare);
    }
    let Some((kind, key)) = path.split_once('.') else {
        return Err(format!("unknown parameter {path:?}: use one of {PARAMETER_PATHS}"));
    };
    let position = |ids: &mut dyn Iterator<Item = &String>, what: &str| {
        let mut found = None;
        for (index, id) in ids.enumerate() {
            if id == key {
                found = Some(index);
                break;
            }
        }
        found.ok_or_else(|| format!("parameter {path:?}: no {what} {key:?} in the inventory"))
    };
    Ok(match kind {
        "externality" => Parameter::Externality(CategoryIdx::from_index(position(
            &mut inventory.categories().iter().map(|c| &c.id),
            "externality category",
        )?)),
        "route_cost" => Parameter::RouteCost(RouteIdx::from_index(position(
            &mut inventory.routes().iter().map(|r| &r.id),
            "route",
        )?)),
        "transport_cost" => Parameter::TransportCost(ResourceIdx::from_index(position(
            &mut inventory.resources().iter().map(|r| &r.id),
            "resource",
        )?)),
        "max_distance" => Parameter::MaxDistance(ResourceIdx::from_index(position(
            &mut inventory.resources().iter().map(|r| &r.id),
            "resource",
        )?)),
        "flow_quantity" => Parameter::FlowQuantity(FlowIdx::from_index(position(
            &mut inventory.flows().iter().map(|f| &f.id),
            "flow",
        )?)),
        "flow_factor" => Parameter::FlowFactor(FlowIdx::from_index(position(
            &mut inventory.flows().iter().map(|f| &f.id),
            "flow",
        )?)),
        _ => return Err(format!("unknown parameter {path:?}: use one of {PARAMETER_PATHS}")),
    })
}

/// Sets one parameter, checking the value as the loader would.
pub fn apply_parameter(
    inventory: &mut Inventory,
    supplier_share: &mut f64,
    parameter: Parameter,
    value: f64,
) -> Result<(), String> {
    // The loader's bound on magnitudes (inventory::table::MAX_MAGNITUDE).
    if value.is_finite() && value.abs() > MAX_MAGNITUDE {
        return Err(format!(
            "{value} is too large: numbers may not exceed 1e15 in magnitude"
        ));
    }
    let non_negative = |what: &str| {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(format!("{what} must be a finite number >= 0, got {value}"))
        }
    };
    match parameter {
        Parameter::Externality(category) => {
            non_negative("an externality value")?;
            inventory.categories[category.index()].value_eur_per_unit = value;
        }
        Parameter::RouteCost(route) => {
            if !value.is_finite() {
                return Err(format!("a route cost must be finite, got {value}"));
            }
            inventory.routes[route.index()].cost_eur_per_unit = value;
            let resources = &inventory.resources;
            for flow in inventory.flows.iter_mut().filter(|flow| flow.fallback == Some(route)) {
                // The idle capacity of a service supply stays costless (MODEL.md B2).
                let idle_capacity = flow.kind == crate::inventory::FlowKind::Supply
                    && resources[flow.resource.index()].category == crate::inventory::ResourceCategory::Service;
                if !idle_capacity {
                    flow.fallback_cost_eur = value * flow.fallback_units_per_unit;
                }
            }
        }
        Parameter::TransportCost(resource) => {
            non_negative("a transport cost")?;
            inventory.resources[resource.index()].transport_cost_eur_per_unit_km = value;
        }
        Parameter::MaxDistance(resource) => {
            if value.is_nan() || value <= 0.0 {
                return Err(format!("a max distance must be > 0 (inf for unlimited), got {value}"));
            }
            inventory.resources[resource.index()].max_distance_km = value.is_finite().then_some(value);
        }
        Parameter::FlowQuantity(flow) | Parameter::FlowFactor(flow)
            if inventory.flows[flow.index()].is_process_port() =>
        {
            return Err(format!(
                "flow {:?} is an input or output of a process: its quantity follows the process's activity",
                inventory.flows[flow.index()].id
            ));
        }
        Parameter::FlowQuantity(flow) => {
            non_negative("a flow quantity")?;
            let flow = &mut inventory.flows[flow.index()];
            flow.quantity = value * flow.unit_factor;
        }
        Parameter::FlowFactor(flow) => {
            non_negative("a flow factor")?;
            let flow = &mut inventory.flows[flow.index()];
            let quantity = flow.quantity * value;
            if quantity / flow.unit_factor > MAX_MAGNITUDE {
                return Err(format!(
                    "flow {} would reach {quantity}: quantities may not exceed 1e15 in magnitude",
                    flow.id
                ));
            }
            flow.quantity = quantity;
        }
        Parameter::SupplierShare => {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("supplier_share must be within [0, 1], got {value}"));
            }
            *supplier_share = value;
        }
    }
    Ok(())
}

/// Removes a firm from the territory: its flows drop to zero, so it takes
/// part in no link and weighs nothing in the baseline.
pub fn remove_firm(inventory: &mut Inventory, firm: FirmIdx) {
    for flow in inventory.flows.iter_mut().filter(|flow| flow.firm == firm) {
        flow.quantity = 0.0;
    }
}

/// A scenario file resolved against its base inventory.
#[derive(Debug, Clone)]
pub struct Study {
    pub file: String,
    pub source: InventorySource,
    pub base: Inventory,
    pub objective: Objective,
    pub supplier_share: f64,
    pub time_limit_seconds: Option<f64>,
    pub mip_gap: Option<f64>,
    /// (path, parameter, values) of each `[[vary]]`, in file order.
    pub vary: Vec<(String, Parameter, Vec<f64>)>,
}

impl Study {
    /// Whether the base inventory has fixed costs (MODEL.md B4), so that
    /// its scenarios are MILPs and sweep.csv gets a `mip_gap` column (the
    /// same for every shard: it depends on the base alone).
    pub fn has_investments(&self) -> bool {
        self.base
            .processes()
            .iter()
            .any(|process| process.fixed_cost_eur_per_year > 0.0)
            || self
                .base
                .resources()
                .iter()
                .any(|resource| resource.link_fixed_cost_eur_per_km_year > 0.0)
    }

    /// Number of scenarios in the grid (1 without `[[vary]]`).
    pub fn n_scenarios(&self) -> usize {
        self.vary.iter().map(|(_, _, values)| values.len()).product()
    }

    /// The varied values of grid point `index`; the last `[[vary]]` varies fastest.
    pub fn point(&self, index: usize) -> Vec<f64> {
        let mut rest = index;
        let mut values = vec![0.0; self.vary.len()];
        for (slot, (_, _, options)) in values.iter_mut().zip(&self.vary).rev() {
            *slot = options[rest % options.len()];
            rest /= options.len();
        }
        values
    }

    /// The inventory and supplier share of grid point `index`.
    pub fn instance(&self, index: usize) -> Result<(Inventory, f64), ScenarioError> {
        let mut inventory = self.base.clone();
        let mut share = self.supplier_share;
        for ((path, parameter, _), value) in self.vary.iter().zip(self.point(index)) {
            apply_parameter(&mut inventory, &mut share, *parameter, value).map_err(|message| ScenarioError {
                file: self.file.clone(),
                message: format!("[[vary]] {path}: {message}"),
            })?;
        }
        Ok((inventory, share))
    }

    pub fn solve_options(&self, threads: Option<u32>) -> SolveOptions {
        SolveOptions {
            objective: self.objective,
            time_limit_seconds: self.time_limit_seconds,
            threads,
            bound: None,
            mip_gap: self.mip_gap,
            solver: None,
            lexicographic_slack: crate::lp::LEXICOGRAPHIC_TOLERANCE,
        }
    }
}

/// Reads and resolves a scenario file: the base inventory is loaded, `set`,
/// `remove_firms` and `ban_routes` applied, `[[vary]]` parameters resolved
/// and their values checked.
pub fn load_study(path: &Path) -> Result<Study, AppError> {
    let file = path.display().to_string();
    let error = |message: String| {
        AppError::Scenario(ScenarioError {
            file: file.clone(),
            message,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    let parsed: ScenarioFile = toml::from_str(&text).map_err(|e| error(e.to_string().trim_end().replace('\n', " ")))?;
    let source = if parsed.inventory == "bundled:dunkirk" {
        InventorySource::BundledDunkirk
    } else {
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        InventorySource::Folder(base_dir.join(&parsed.inventory))
    };
    let mut base = load_inventory(&source)?.inventory;
    let mut supplier_share = parsed.supplier_share.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&supplier_share) {
        return Err(error(format!(
            "supplier_share must be within [0, 1], got {supplier_share}"
        )));
    }
    for firm_id in &parsed.remove_firms {
        let firm = base
            .firm_index(firm_id)
            .ok_or_else(|| error(format!("remove_firms: no firm {firm_id:?} in the inventory")))?;
        remove_firm(&mut base, firm);
    }
    for route_id in &parsed.ban_routes {
        let route = base
            .routes()
            .iter()
            .position(|route| route.id == *route_id)
            .ok_or_else(|| error(format!("ban_routes: no route {route_id:?} in the catalogue")))?;
        base.routes[route].banned = true;
    }
    for (parameter_path, value) in &parsed.set {
        let parameter = parse_parameter(&base, parameter_path).map_err(|m| error(format!("[set] {m}")))?;
        apply_parameter(&mut base, &mut supplier_share, parameter, *value)
            .map_err(|m| error(format!("[set] {parameter_path}: {m}")))?;
    }
    let mut vary = Vec::new();
    for entry in &parsed.vary {
        let parameter = parse_parameter(&base, &entry.parameter).map_err(|m| error(format!("[[vary]] {m}")))?;
        if entry.values.is_empty() {
            return Err(error(format!("[[vary]] {}: values is empty", entry.parameter)));
        }
        // Check every value once, on a scratch copy, so a bad value fails before any solve.
        for value in &entry.values {
            let (mut scratch, mut share) = (base.clone(), supplier_share);
            apply_parameter(&mut scratch, &mut share, parameter, *value)
                .map_err(|m| error(format!("[[vary]] {}: {m}", entry.parameter)))?;
        }
        vary.push((entry.parameter.clone(), parameter, entry.values.clone()));
    }
    if let Some(limit) = parsed.time_limit {
        if !(limit.is_finite() && limit >= 0.0) {
            return Err(error(format!(
                "time_limit must be a number of seconds >= 0, got {limit}"
            )));
        }
    }
    if let Some(gap) = parsed.mip_gap {
        if !(gap.is_finite() && gap >= 0.0) {
            return Err(error(format!(
                "mip_gap must be a relative gap >= 0 (such as 0.001 for 0.1 %), got {gap}"
            )));
        }
    }
    Ok(Study {
        file,
        source,
        base,
        objective: parsed.objective.unwrap_or(Objective::Externalities),
        supplier_share,
        time_limit_seconds: parsed.time_limit,
        mip_gap: parsed.mip_gap,
        vary,
    })
}

/// A `--shard I/N` selection: the scenarios whose index is I-1 modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && (1..=count).contains(&index) => Ok(Shard { index, count }),
            _ => Err(format!("{text:?} is not a shard I/N with 1 <= I <= N")),
        }
    }

    pub fn contains(&self, scenario: usize) -> bool {
        scenario % self.count == self.index - 1
    }
}

/// The figures of one scenario, a row of sweep.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    pub scenario: usize,
    pub values: Vec<f64>,
    pub status: String,
    /// Empty when no solution was found.
    pub metrics: Option<Metrics>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
    pub n_links: usize,
    /// Avoided amount per externality category, in catalogue order.
    pub avoided: Vec<f64>,
    /// The MIP gap HiGHS reported, when investments made the model a MILP.
    pub mip_gap: Option<f64>,
}

impl Metrics {
    pub fn of(valuation: &Valuation, mip_gap: Option<f64>) -> Metrics {
        Metrics {
            mip_gap,
            private_cost_eur: valuation.optimized.private_cost_eur,
            externality_eur: valuation.optimized.externality_eur,
            firm_value_eur: valuation.firm_value_eur,
            territory_value_eur: valuation.territory_value_eur,
            n_links: valuation.links.len(),
            avoided: valuation.categories.iter().map(|c| c.avoided).collect(),
        }
    }
}

/// Solves one grid point with one HiGHS thread, reusing `warm`'s model
/// when given one.
pub fn solve_point(study: &Study, scenario: usize, warm: Option<&mut WarmStart>) -> Result<SweepRow, ScenarioError> {
    let (inventory, share) = study.instance(scenario)?;
    let values = study.point(scenario);
    let options = study.solve_options(Some(1));
    let result = match warm {
        Some(warm) => optimize_inventory_warm(&inventory, &options, share, warm),
        None => optimize_inventory(&inventory, &options, share),
    };
    let row = match result {
        Ok((_, solution, valuation)) => SweepRow {
            scenario,
            values,
            status: solution.status.as_str().to_string(),
            metrics: Some(Metrics::of(
                &valuation,
                solution.extended.as_ref().and_then(|extended| extended.mip_gap),
            )),
        },
        Err(error) => SweepRow {
            scenario,
            values,
            status: status_word(&error).to_string(),
            metrics: None,
        },
    };
    Ok(row)
}

/// One word per solver outcome, for the status column of sweep tables.
pub fn status_word(error: &SolveError) -> &'static str {
    match error {
        SolveError::Infeasible | SolveError::Unplaceable(_) => "infeasible",
        SolveError::Unbounded => "unbounded",
        SolveError::InfeasibleOrUnbounded => "infeasible_or_unbounded",
        SolveError::TimeLimitWithoutSolution => "time_limit_no_solution",
        SolveError::IterationLimit => "iteration_limit",
        SolveError::Interrupted => "interrupted",
        SolveError::NumericalTrouble(_) => "numerical_trouble",
        SolveError::TooLarge(_) => "too_large",
        SolveError::Solver(_) => "solver_error",
    }
}

fn progress_bar(len: usize, message: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} scenarios, {elapsed} elapsed, ETA {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// Solves the grid points of `shard` (all when `None`) in parallel on the
/// current rayon pool, with a progress bar on stderr. With `warm_start`,
/// each worker keeps its HiGHS model from one scenario to the next (see
/// [`WarmStart`] for what that may change).
pub fn run_sweep(
    study: &Study,
    shard: Option<Shard>,
    warm_start: bool,
    quiet: bool,
) -> Result<Vec<SweepRow>, ScenarioError> {
    let indices: Vec<usize> = (0..study.n_scenarios())
        .filter(|index| shard.is_none_or(|shard| shard.contains(*index)))
        .collect();
    let bar = progress_bar(indices.len(), "sweep", quiet);
    let rows: Result<Vec<SweepRow>, ScenarioError> = indices
        .par_iter()
        .map_init(WarmStart::default, |warm, index| {
            let row = solve_point(study, *index, warm_start.then_some(warm));
            bar.inc(1);
            row
        })
        .collect();
    bar.finish_and_clear();
    rows
}

/// sweep.csv as a table: scenario, the varied parameters, status, the
/// totals, and `avoided_<category>` for every category. Sorted by scenario.
pub fn sweep_table(study: &Study, rows: &[SweepRow]) -> PolarsResult<DataFrame> {
    let mut rows: Vec<&SweepRow> = rows.iter().collect();
    rows.sort_by_key(|row| row.scenario);
    let metric = |f: &dyn Fn(&Metrics) -> f64| -> Vec<Option<f64>> {
        rows.iter()
            .map(|row| row.metrics.as_ref().map(|m| f(m) + 0.0))
            .collect()
    };
    let mut columns = vec![Column::new(
        "scenario".into(),
        rows.iter().map(|row| row.scenario as u64).collect::<Vec<_>>(),
    )];
    for (position, (path, _, _)) in study.vary.iter().enumerate() {
        columns.push(Column::new(
            path.as_str().into(),
            rows.iter().map(|row| row.values[position]).collect::<Vec<_>>(),
        ));
    }
    columns.push(Column::new(
        "status".into(),
        rows.iter().map(|row| row.status.clone()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new("private_cost_eur".into(), metric(&|m| m.private_cost_eur)));
    columns.push(Column::new("externality_eur".into(), metric(&|m| m.externality_eur)));
    columns.push(Column::new("firm_value_eur".into(), metric(&|m| m.firm_value_eur)));
    columns.push(Column::new(
        "territory_value_eur".into(),
        metric(&|m| m.territory_value_eur),
    ));
    columns.push(Column::new(
        "n_links".into(),
        rows.iter()
            .map(|row| row.metrics.as_ref().map(|m| m.n_links as u64))
            .collect::<Vec<_>>(),
    ));
    if study.has_investments() {
        columns.push(Column::new(
            "mip_gap".into(),
            rows.iter()
                .map(|row| row.metrics.as_ref().and_then(|m| m.mip_gap))
                .collect::<Vec<_>>(),
        ));
    }
    for (position, category) in study.base.categories().iter().enumerate() {
        columns.push(Column::new(
            format!("avoided_{}", category.id).into(),
            metric(&|m| m.avoided[position]),
        ));
    }
    DataFrame::new_infer_height(columns)
}

/// The bytes of sweep.csv.
pub fn sweep_csv(study: &Study, rows: &[SweepRow]) -> Result<Vec<u8>, String> {
    let mut frame = sweep_table(study, rows).map_err(|e| e.to_string())?;
    csv_bytes(&mut frame).map_err(|e| e.to_string())
}

/// sweep_meta.json: what `merge` needs to check that shards fit together.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct SweepMeta {
    pub scenario_file: String,
    pub n_scenarios: usize,
    pub shard: String,
    pub scenarios: Vec<usize>,
}

/// Combines the sweep.csv files of shard folders into the sweep.csv of the
/// whole grid: same header, rows sorted by scenario, every scenario exactly
/// once. Returns the bytes, identical to an unsharded run's.
pub fn merge_sweeps(dirs: &[PathBuf]) -> Result<Vec<u8>, String> {
    let mut header: Option<String> = None;
    let mut total: Option<usize> = None;
    let mut lines: BTreeMap<usize, String> = BTreeMap::new();
    for dir in dirs {
        let meta_path = dir.join(crate::outputs::SWEEP_META);
        let meta: SweepMeta = serde_json::from_slice(
            &std::fs::read(&meta_path).map_err(|e| format!("{}: cannot read: {e}", meta_path.display()))?,
        )
        .map_err(|e| format!("{}: {e}", meta_path.display()))?;
        if *total.get_or_insert(meta.n_scenarios) != meta.n_scenarios {
            return Err(format!(
                "{}: this shard belongs to a grid of {} scenarios, the others to {}",
                meta_path.display(),
                meta.n_scenarios,
                total.unwrap_or(0)
            ));
        }
        let csv_path = dir.join(crate::outputs::SWEEP_CSV);
        let text =
            std::fs::read_to_string(&csv_path).map_err(|e| format!("{}: cannot read: {e}", csv_path.display()))?;
        let mut file_lines = text.lines();
        let file_header = file_lines.next().unwrap_or_default().to_string();
        if header.get_or_insert_with(|| file_header.clone()) != &file_header {
            return Err(format!(
                "{}: its header differs from the other shards'",
                csv_path.display()
            ));
        }
        for (offset, line) in file_lines.enumerate() {
            let scenario: usize = line
                .split(',')
                .next()
                .and_then(|cell| cell.parse().ok())
                .ok_or_else(|| format!("{}:{}: no scenario index", csv_path.display(), offset + 2))?;
            if lines.insert(scenario, line.to_string()).is_some() {
                return Err(format!(
                    "{}:{}: scenario {scenario} appears in two shards",
                    csv_path.display(),
                    offset + 2
                ));
            }
        }
    }
    let total = total.ok_or("no shard folder given")?;
    let missing: Vec<usize> = (0..total).filter(|s| !lines.contains_key(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} of {total} scenarios are missing (first: {:?}): a shard did not run or was not given",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    let mut out = header.unwrap_or_default();
    out.push('\n');
    for line in lines.values() {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// An SVG line chart of the sweep's totals against the first varied
/// parameter (the other parameters at their first value).
pub fn sweep_chart(study: &Study, rows: &[SweepRow]) -> Option<String> {
    let (first_path, _, first_values) = study.vary.first()?;
    let mut points: Vec<(f64, &Metrics)> = rows
        .iter()
        .filter(|row| {
            row.values
                .iter()
                .skip(1)
                .zip(study.vary.iter().skip(1))
                .all(|(v, (_, _, vs))| *v == vs[0])
        })
        .filter_map(|row| Some((row.values[0], row.metrics.as_ref()?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    if points.is_empty() || first_values.is_empty() {
        return None;
    }
    type Series = (&'static str, &'static str, fn(&Metrics) -> f64);
    let series: [Series; 4] = [
        ("territory value", "#1b7837", |m| m.territory_value_eur),
        ("firm value", "#2166ac", |m| m.firm_value_eur),
        ("externalities M", "#b2182b", |m| m.externality_eur),
        ("private cost C", "#762a83", |m| m.private_cost_eur),
    ];
    Some(line_chart(
        &format!("sweep of {first_path}"),
        first_path,
        "EUR per year",
        &series
            .iter()
            .map(|(name, colour, f)| {
                (
                    *name,
                    *colour,
                    points.iter().map(|(x, m)| (*x, f(m))).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
        &[],
    ))
}

/// One line of a chart: name, colour, (x, y) points.
pub type ChartSeries<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A small self-contained SVG line chart: series of (x, y) points and
/// labelled markers.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[ChartSeries],
    markers: &[(&str, f64, f64)],
) -> String {
    use std::fmt::Write;
    let (width, height, left, right, top, bottom) = (760.0, 440.0, 110.0, 190.0, 40.0, 60.0);
    let all = series
        .iter()
        .flat_map(|(_, _, p)| p.iter().copied())
        .chain(markers.iter().map(|(_, x, y)| (*x, *y)));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1.is_nan() || x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1.is_nan() || y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (width - left - right);
    let sy = |y: f64| height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom);
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="22" font-size="15">{}</text>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><line x1="{left}" y1="{top}" x2="{left}" y2="{0}" stroke="black"/>"#,
        height - bottom,
        width - right
    );
    for tick in 0..=4 {
        let fraction = tick as f64 / 4.0;
        let (x, y) = (x0 + fraction * (x1 - x0), y0 + fraction * (y1 - y0));
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            sx(x),
            height - bottom + 18.0,
            short_number(x),
            left - 6.0,
            sy(y) + 4.0,
            short_number(y)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="16" y="{:.1}" transform="rotate(-90 16 {:.1})" text-anchor="middle">{}</text>"#,
        (left + width - right) / 2.0,
        height - 16.0,
        escape(x_label),
        (top + height - bottom) / 2.0,
        (top + height - bottom) / 2.0,
        escape(y_label)
    );
    for (position, (name, colour, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for (x, y) in points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                sx(*x),
                sy(*y)
            );
        }
        let legend_y = top + 18.0 * position as f64;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            width - right + 14.0,
            legend_y,
            width - right + 32.0,
            legend_y + 10.0,
            escape(name)
        );
    }
    for (label, x, y) in markers {
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="6" fill="none" stroke="black" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            sx(*x),
            sy(*y),
            sx(*x) + 9.0,
            sy(*y) - 8.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{:.2}G", value / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if magnitude >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.3}")
    }
}

/// One row of resilience.csv: what the territory loses when a firm leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ResilienceRow {
    pub firm: FirmIdx,
    pub territory_value_eur: f64,
    pub territory_value_lost_eur: f64,
    pub firm_value_lost_eur: f64,
    pub links_lost: usize,
    pub firms_affected: usize,
}

/// Removes each firm in turn and re-optimizes (in parallel).
pub fn resilience(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
    quiet: bool,
) -> Result<Vec<ResilienceRow>, SolveError> {
    let mut single = options.clone();
    single.threads = Some(1);
    let (_, _, base) = optimize_inventory(inventory, &single, supplier_share)?;
    let base_links: Vec<(FlowIdx, FlowIdx)> = base.links.iter().map(|l| (l.supply, l.demand)).collect();
    let bar = progress_bar(inventory.firms().len(), "resilience", quiet);
    let rows: Result<Vec<ResilienceRow>, SolveError> = (0..inventory.firms().len())
        .into_par_iter()
        .map(|position| {
            let firm = FirmIdx::from_index(position);
            let mut without = inventory.clone();
            remove_firm(&mut without, firm);
            let (_, _, valuation) = optimize_inventory(&without, &single, supplier_share)?;
            let active: Vec<(FlowIdx, FlowIdx)> = valuation.links.iter().map(|l| (l.supply, l.demand)).collect();
            let links_lost = base_links.iter().filter(|pair| !active.contains(pair)).count();
            let firms_affected = base
                .firms
                .iter()
                .zip(&valuation.firms)
                .filter(|(before, _)| before.firm != firm)
                .filter(|(before, after)| {
                    (before.value_eur - after.value_eur).abs() > 1e-6 * before.value_eur.abs().max(1.0)
                })
                .count();
            bar.inc(1);
            Ok(ResilienceRow {
                firm,
                territory_value_eur: valuation.territory_value_eur,
                territory_value_lost_eur: base.territory_value_eur - valuation.territory_value_eur,
                firm_value_lost_eur: base.firm_value_eur - valuation.firm_value_eur,
                links_lost,
                firms_affected,
            })
        })
        .collect();
    bar.finish_and_clear();
    rows
}

/// resilience.csv, sorted by territory value lost (largest first), then firm id.
pub fn resilience_table(inventory: &Inventory, rows: &[ResilienceRow]) -> PolarsResult<DataFrame> {
    let mut rows: Vec<&ResilienceRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        b.territory_value_lost_eur
            .total_cmp(&a.territory_value_lost_eur)
            .then_with(|| inventory.firm(a.firm).id.cmp(&inventory.firm(b.firm).id))
    });
    DataFrame::new_infer_height(vec![
        Column::new(
            "firm_id".into(),
            rows.iter()
                .map(|r| inventory.firm(r.firm).id.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "territory_value_eur".into(),
            rows.iter().map(|r| r.territory_value_eur + 0.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "territory_value_lost_eur".into(),
            rows.iter()
                .map(|r| r.territory_value_lost_eur + 0.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "firm_value_lost_eur".into(),
            rows.iter().map(|r| r.firm_value_lost_eur + 0.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "links_lost".into(),
            rows.iter().map(|r| r.links_lost as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "firms_affected".into(),
            rows.iter().map(|r| r.firms_affected as u64).collect::<Vec<_>>(),
        ),
    ])
}

/// A point of the Pareto front: private cost C against externalities M.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoPoint {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
}

/// The Pareto front and the three objectives' optima.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoFront {
    pub points: Vec<ParetoPoint>,
    pub private_optimum: ParetoPoint,
    pub externalities_optimum: ParetoPoint,
    pub social_optimum: ParetoPoint,
}

impl ParetoFront {
    /// C at the territory's optimum minus C at the firms' optimum: what the
    /// territory's view costs the firms.
    pub fn cost_of_territory_view_eur(&self) -> f64 {
        self.externalities_optimum.private_cost_eur - self.private_optimum.private_cost_eur
    }

    /// M at the firms' optimum minus M at the territory's optimum.
    pub fn externality_of_private_view_eur(&self) -> f64 {
        self.private_optimum.externality_eur - self.externalities_optimum.externality_eur
    }
}

/// The epsilon-constraint front: between the two lexicographic optima, for
/// `n_points` evenly spaced bounds eps on M, minimise C subject to M <= eps
/// (then M at that C, so every point is non-dominated). Dominated and
/// duplicate points are dropped.
pub fn pareto_front(inventory: &Inventory, n_points: usize, quiet: bool) -> Result<ParetoFront, SolveError> {
    let point_of = |objective: Objective, bound: Option<CriterionBound>| -> Result<ParetoPoint, SolveError> {
        let options = SolveOptions {
            objective,
            time_limit_seconds: None,
            threads: Some(1),
            bound,
            mip_gap: None,
            solver: None,
            lexicographic_slack: crate::lp::LEXICOGRAPHIC_TOLERANCE,
        };
        let (_, _, valuation) = optimize_inventory(inventory, &options, 0.5)?;
        Ok(ParetoPoint {
            private_cost_eur: valuation.optimized.private_cost_eur,
            externality_eur: valuation.optimized.externality_eur,
        })
    };
    let private_optimum = point_of(Objective::Private, None)?;
    let externalities_optimum = point_of(Objective::Externalities, None)?;
    let social_optimum = point_of(Objective::Social, None)?;
    let (low, high) = (externalities_optimum.externality_eur, private_optimum.externality_eur);
    let n_points = n_points.max(2);
    let bar = progress_bar(n_points, "pareto", quiet);
    let computed: Result<Vec<ParetoPoint>, SolveError> = (0..n_points)
        .into_par_iter()
        .map(|step| {
            let eps = low + (high - low) * step as f64 / (n_points - 1) as f64;
            // A hair of slack keeps the end points feasible despite rounding.
            let bound = CriterionBound {
                criterion: Criterion::Externality,
                max_eur: eps + 1e-9 * eps.abs().max(1.0),
            };
            let point = point_of(Objective::Private, Some(bound));
            bar.inc(1);
            point
        })
        .collect();
    bar.finish_and_clear();
    let mut points = computed?;
    points.push(private_optimum);
    points.push(externalities_optimum);
    points.sort_by(|a, b| {
        a.externality_eur
            .total_cmp(&b.externality_eur)
            .then(a.private_cost_eur.total_cmp(&b.private_cost_eur))
    });
    // Keep the non-dominated points: sorted by M, C must strictly decrease.
    let mut front: Vec<ParetoPoint> = Vec::new();
    for point in points {
        let tolerance = 1e-6 * point.private_cost_eur.abs().max(1.0);
        if front
            .last()
            .is_none_or(|last| point.private_cost_eur < last.private_cost_eur - tolerance)
        {
            front.push(point);
        }
    }
    Ok(ParetoFront {
        points: front,
        private_optimum,
        externalities_optimum,
        social_optimum,
    })
}

pub fn pareto_table(front: &ParetoFront) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "private_cost_eur".into(),
            front
                .points
                .iter()
                .map(|p| p.private_cost_eur + 0.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "externality_eur".into(),
            front.points.iter().map(|p| p.externality_eur + 0.0).collect::<Vec<_>>(),
        ),
    ])
}

pub fn pareto_chart(front: &ParetoFront) -> String {
    let points: Vec<(f64, f64)> = front
        .points
        .iter()
        .map(|p| (p.externality_eur, p.private_cost_eur))
        .collect();
    line_chart(
        "Pareto front: private cost against externalities",
        "monetised externalities M (EUR/yr)",
        "private cost C (EUR/yr)",
        &[("non-dominated points", "#2166ac", points)],
        &[
            (
                "private",
                front.private_optimum.externality_eur,
                front.private_optimum.private_cost_eur,
            ),
            (
                "externalities",
                front.externalities_optimum.externality_eur,
                front.externalities_optimum.private_cost_eur,
            ),
            (
                "social",
                front.social_optimum.externality_eur,
                front.social_optimum.private_cost_eur,
            ),
        ],
    )
}

/// Shapley values of the firms in the game v(S) = C_base(S) - C(S): the
/// private cost saved when only the firms of S may exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapleyValues {
    /// Per firm, in inventory order.
    pub values: Vec<f64>,
    /// Standard error per firm (0 for exact enumeration).
    pub standard_errors: Vec<f64>,
    pub exact: bool,
    /// v(grand coalition): the sum of the values.
    pub grand_coalition_eur: f64,
}

/// Largest number of players enumerated exactly (2^12 coalitions).
pub const SHAPLEY_EXACT_MAX_PLAYERS: usize = 12;

/// v(S) for a coalition given as a bit set over `players`.
fn coalition_value(
    inventory: &Inventory,
    players: &[FirmIdx],
    coalition: u64,
    options: &SolveOptions,
) -> Result<f64, SolveError> {
    let mut restricted = inventory.clone();
    // Firms outside S keep their flows (on their fallbacks in both C_base(S)
    // and C(S), so they cancel); only their links disappear. Outsiders that
    // are not players have no candidate links at all.
    for (bit, firm) in players.iter().enumerate() {
        if coalition & (1 << bit) == 0 {
            restricted.exchange_allowed[firm.index()] = false;
        }
    }
    let (_, _, valuation) = optimize_inventory(&restricted, options, 0.5)?;
    Ok(valuation.firm_value_eur)
}

/// Exact Shapley values up to [`SHAPLEY_EXACT_MAX_PLAYERS`] firms with
/// candidate links, permutation sampling (in parallel, `samples`
/// permutations, deterministic seed) beyond.
pub fn shapley(
    inventory: &Inventory,
    options: &SolveOptions,
    samples: usize,
    quiet: bool,
) -> Result<ShapleyValues, SolveError> {
    let mut options = options.clone();
    options.threads = Some(1);
    let links = crate::candidates::candidate_links(inventory);
    // Players: firms with at least one candidate link; the others are null players.
    let mut is_player = vec![false; inventory.firms().len()];
    for link in &links {
        is_player[inventory.flow(link.supply).firm.index()] = true;
        is_player[inventory.flow(link.demand).firm.index()] = true;
    }
    let players: Vec<FirmIdx> = (0..is_player.len())
        .filter(|firm| is_player[*firm])
        .map(FirmIdx::from_index)
        .collect();
    let n = players.len();
    let mut values = vec![0.0; inventory.firms().len()];
    let mut standard_errors = vec![0.0; inventory.firms().len()];
    if n == 0 {
        return Ok(ShapleyValues {
            values,
            standard_errors,
            exact: true,
            grand_coalition_eur: 0.0,
        });
    }
    let grand = coalition_value(inventory, &players, (1u64 << n) - 1, &options)?;
    if n <= SHAPLEY_EXACT_MAX_PLAYERS {
        let n_coalitions = 1usize << n;
        let bar = progress_bar(n_coalitions, "shapley coalitions", quiet);
        let worth: Result<Vec<f64>, SolveError> = (0..n_coalitions as u64)
            .into_par_iter()
            .map(|coalition| {
                let value = coalition_value(inventory, &players, coalition, &options);
                bar.inc(1);
                value
            })
            .collect();
        bar.finish_and_clear();
        let worth = worth?;
        // phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S+i) - v(S)).
        let factorial = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
        for (bit, firm) in players.iter().enumerate() {
            let mut phi = 0.0;
            for coalition in 0..n_coalitions {
                if coalition & (1 << bit) != 0 {
                    continue;
                }
                let size = (coalition as u64).count_ones() as usize;
                let weight = factorial(size) * factorial(n - size - 1) / factorial(n);
                phi += weight * (worth[coalition | (1 << bit)] - worth[coalition]);
            }
            values[firm.index()] = phi;
        }
        return Ok(ShapleyValues {
            values,
            standard_errors,
            exact: true,
            grand_coalition_eur: grand,
        });
    }
    if n > 64 {
        return Err(SolveError::Solver(format!(
            "Shapley sampling supports at most 64 firms with candidate links, found {n}"
        )));
    }
    let samples = samples.max(2);
    let bar = progress_bar(samples, "shapley permutations", quiet);
    let contributions: Result<Vec<Vec<f64>>, SolveError> = (0..samples)
        .into_par_iter()
        .map(|sample| {
            let order = permutation(n, 0x5eed_0000 + sample as u64);
            let mut coalition = 0u64;
            let mut previous = 0.0;
            let mut marginal = vec![0.0; n];
            for bit in order {
                coalition |= 1 << bit;
                let value = if coalition == (1u64 << n) - 1 {
                    grand
                } else {
                    coalition_value(inventory, &players, coalition, &options)?
                };
                marginal[bit] = value - previous;
                previous = value;
            }
            bar.inc(1);
            Ok(marginal)
        })
        .collect();
    bar.finish_and_clear();
    let contributions = contributions?;
    for (bit, firm) in players.iter().enumerate() {
        let mean = contributions.iter().map(|m| m[bit]).sum::<f64>() / samples as f64;
        let variance = contributions.iter().map(|m| (m[bit] - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
        values[firm.index()] = mean;
        standard_errors[firm.index()] = (variance / samples as f64).sqrt();
    }
    Ok(ShapleyValues {
        values,
        standard_errors,
        exact: false,
        grand_coalition_eur: grand,
    })
}

/// A deterministic pseudo-random permutation of 0..n (splitmix64 + Fisher-Yates).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Firm id -> index, for callers holding ids.
pub fn firm_indices(inventory: &Inventory) -> HashMap<&str, FirmIdx> {
    inventory
        .firms()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), FirmIdx::from_index(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        for scenario in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.contains(scenario)).count(), 1);
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
    }

    #[test]
    fn permutations_are_permutations() {
        let mut order = permutation(10, 7);
        order.sort();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        assert_eq!(permutation(10, 7), permutation(10, 7));
    }
}
