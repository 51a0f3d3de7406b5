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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Deserialize;

use crate::io::{csv_bytes, load_inventory, InventorySource};
use crate::model::table::MAX_MAGNITUDE;
use crate::model::{CategoryIdx, FirmIdx, FlowIdx, Inventory, ResourceIdx, RouteIdx};
use crate::progress::Progress;
use crate::solve::{Criterion, CriterionBound, Objective, SolveError, SolveOptions, WarmStart};
use crate::value::Valuation;
use crate::value::{optimize_inventory, optimize_inventory_warm};

/// Why a study could not be set up: its inventory or its scenario file.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Input(#[from] crate::io::LoadError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

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
    /// Relative MIP gap at which HiGHS may stop (docs/model.md B4; like
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

/// The problems of a scenario file, every one found in one pass (like an
/// inventory's), each located in that file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub problems: Vec<ScenarioProblem>,
}

/// One problem of a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioProblem {
    /// 1-based line of the value at fault, when there is one.
    pub line: Option<usize>,
    /// What is wrong, a lowercase phrase (a TOML parse error keeps its own
    /// lines: the position, the source line and the caret under the fault).
    pub message: String,
}

impl ScenarioError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.into(),
            problems: vec![ScenarioProblem {
                line: None,
                message: message.into(),
            }],
        }
    }

    /// Each problem as `file:line: message` (`file: message` without a line).
    pub fn located(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|problem| match problem.line {
                Some(line) => format!("{}:{line}: {}", self.file, problem.message),
                None => format!("{}: {}", self.file, problem.message),
            })
            .collect()
    }
}

/// One line per problem ([`ScenarioError::located`]).
impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.located().join("\n"))
    }
}

impl std::error::Error for ScenarioError {}

/// Where the values of a scenario file's fields start: a second, lenient
/// reading of the file (every field optional, any type), for the line
/// numbers of problems found after parsing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FieldLines {
    supplier_share: Option<toml::Spanned<toml::Value>>,
    time_limit: Option<toml::Spanned<toml::Value>>,
    mip_gap: Option<toml::Spanned<toml::Value>>,
    set: BTreeMap<String, toml::Spanned<toml::Value>>,
    vary: Vec<VaryLines>,
    remove_firms: Vec<toml::Spanned<toml::Value>>,
    ban_routes: Vec<toml::Spanned<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VaryLines {
    parameter: Option<toml::Spanned<toml::Value>>,
    values: Vec<toml::Spanned<toml::Value>>,
}

fn add_problem(problems: &mut Vec<ScenarioProblem>, line: Option<usize>, message: String) {
    problems.push(ScenarioProblem { line, message });
}

/// The 1-based line where a value of `text` starts.
fn line_of<T>(text: &str, value: &toml::Spanned<T>) -> usize {
    let start = value.span().start.min(text.len());
    text.as_bytes()[..start].iter().filter(|byte| **byte == b'\n').count() + 1
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
                // The idle capacity of a service supply stays costless (docs/model.md B2).
                let idle_capacity = flow.kind == crate::model::FlowKind::Supply
                    && resources[flow.resource.index()].category == crate::model::ResourceCategory::Service;
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
    /// FNV-1a hash of the scenario file's bytes, and of the base
    /// inventory's files ([`inventory_hash`]): what `merge` compares to
    /// refuse shards of different studies.
    pub file_hash: u64,
    pub inventory_hash: u64,
}

impl Study {
    /// Whether the base inventory has fixed costs (docs/model.md B4), so that
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

    /// Number of scenarios in the grid (1 without `[[vary]]`); `None` when
    /// it does not fit in a `usize` (a grid that could never be run).
    pub fn grid_size(&self) -> Option<usize> {
        self.vary
            .iter()
            .try_fold(1usize, |size, (_, _, values)| size.checked_mul(values.len()))
    }

    /// Number of scenarios in the grid, `usize::MAX` when it does not fit.
    pub fn n_scenarios(&self) -> usize {
        self.grid_size().unwrap_or(usize::MAX)
    }

    /// The grid's shape, such as `3 x 4` (`1` without `[[vary]]`).
    pub fn grid_shape(&self) -> String {
        if self.vary.is_empty() {
            return "1".to_string();
        }
        self.vary
            .iter()
            .map(|(_, _, values)| values.len().to_string())
            .collect::<Vec<_>>()
            .join(" x ")
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
            apply_parameter(&mut inventory, &mut share, *parameter, value)
                .map_err(|message| ScenarioError::new(self.file.clone(), format!("[[vary]] {path}: {message}")))?;
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
            lexicographic_slack: crate::solve::LEXICOGRAPHIC_TOLERANCE,
        }
    }
}

/// Reads and resolves a scenario file: the base inventory is loaded, `set`,
/// `remove_firms` and `ban_routes` applied, `[[vary]]` parameters resolved
/// and their values checked. Every problem is reported at once: those of
/// the file's own fields, and, when the base inventory does not load, the
/// inventory's problems with the file's appended to them.
pub fn load_study(path: &Path) -> Result<Study, StudyError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::new(file.clone(), format!("cannot read the file: {e}")))?;
    // toml's message names the line and column and shows the line with a
    // caret under the fault: it is kept whole, on its own lines.
    let file_hash = fnv1a(text.as_bytes());
    let parsed: ScenarioFile =
        toml::from_str(&text).map_err(|e| ScenarioError::new(file.clone(), e.to_string().trim_end().to_string()))?;
    let lines: FieldLines = toml::from_str(&text).unwrap_or_default();
    let line = |value: Option<&toml::Spanned<toml::Value>>| value.map(|value| line_of(&text, value));
    let vary_line = |position: usize| line(lines.vary.get(position).and_then(|vary| vary.parameter.as_ref()));
    let mut problems: Vec<ScenarioProblem> = Vec::new();

    // The file's own fields, checked before the inventory is read.
    let supplier_share = parsed.supplier_share.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&supplier_share) {
        add_problem(
            &mut problems,
            line(lines.supplier_share.as_ref()),
            format!("supplier_share must be within [0, 1], got {supplier_share}"),
        );
    }
    if parsed.supplier_share.is_some() && parsed.set.contains_key("supplier_share") {
        add_problem(
            &mut problems,
            line(lines.set.get("supplier_share")),
            "supplier_share is given both at the top level and in [set]: keep one of the two".to_string(),
        );
    }
    if let Some(limit) = parsed.time_limit {
        if !(limit.is_finite() && limit >= 0.0) {
            add_problem(
                &mut problems,
                line(lines.time_limit.as_ref()),
                format!("time_limit must be a number of seconds >= 0, got {limit}"),
            );
        }
    }
    if let Some(gap) = parsed.mip_gap {
        if !(gap.is_finite() && gap >= 0.0) {
            add_problem(
                &mut problems,
                line(lines.mip_gap.as_ref()),
                format!("mip_gap must be a relative gap >= 0 (such as 0.001 for 0.1 %), got {gap}"),
            );
        }
    }
    for (position, entry) in parsed.vary.iter().enumerate() {
        if entry.values.is_empty() {
            add_problem(
                &mut problems,
                vary_line(position),
                format!("[[vary]] {}: values is empty", entry.parameter),
            );
        }
        if parsed.vary[..position]
            .iter()
            .any(|earlier| earlier.parameter == entry.parameter)
        {
            add_problem(
                &mut problems,
                vary_line(position),
                format!(
                    "[[vary]] {}: this parameter is varied twice: give all its values in one [[vary]] block",
                    entry.parameter
                ),
            );
        }
        if parsed.set.contains_key(&entry.parameter) {
            add_problem(
                &mut problems,
                vary_line(position),
                format!(
                    "[[vary]] {}: also fixed in [set]: a parameter is either set or varied, keep one of the two",
                    entry.parameter
                ),
            );
        }
        if entry.parameter == "supplier_share" && parsed.supplier_share.is_some() {
            add_problem(
                &mut problems,
                vary_line(position),
                "[[vary]] supplier_share: also given at the top level: keep one of the two".to_string(),
            );
        }
    }

    let source = if parsed.inventory == "bundled:dunkirk" {
        InventorySource::BundledDunkirk
    } else {
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        // A workbook is accepted wherever a folder is (README, "Inventories").
        InventorySource::from_path(base_dir.join(&parsed.inventory))
    };
    let mut base = match load_inventory(&source) {
        Ok(loaded) => loaded.inventory,
        Err(crate::io::LoadError::Invalid { mut errors, warnings }) => {
            errors.extend(problems.iter().map(|problem| match problem.line {
                Some(line) => crate::model::InputError::at(&file, line, None, problem.message.clone()),
                None => crate::model::InputError::file(&file, problem.message.clone()),
            }));
            return Err(StudyError::Input(crate::io::LoadError::Invalid { errors, warnings }));
        }
    };

    // What needs the inventory: ids and parameter paths.
    let mut supplier_share = supplier_share;
    for (position, firm_id) in parsed.remove_firms.iter().enumerate() {
        match base.firm_index(firm_id) {
            Some(firm) => remove_firm(&mut base, firm),
            None => add_problem(
                &mut problems,
                line(lines.remove_firms.get(position)),
                format!("remove_firms: no firm {firm_id:?} in the inventory"),
            ),
        }
    }
    for (position, route_id) in parsed.ban_routes.iter().enumerate() {
        match base.routes().iter().position(|route| route.id == *route_id) {
            Some(route) => base.routes[route].banned = true,
            None => add_problem(
                &mut problems,
                line(lines.ban_routes.get(position)),
                format!("ban_routes: no route {route_id:?} in the catalogue"),
            ),
        }
    }
    for (parameter_path, value) in &parsed.set {
        let at = line(lines.set.get(parameter_path));
        match parse_parameter(&base, parameter_path) {
            Ok(parameter) => {
                if let Err(message) = apply_parameter(&mut base, &mut supplier_share, parameter, *value) {
                    add_problem(&mut problems, at, format!("[set] {parameter_path}: {message}"));
                }
            }
            Err(message) => add_problem(&mut problems, at, format!("[set] {message}")),
        }
    }
    let mut vary = Vec::new();
    for (position, entry) in parsed.vary.iter().enumerate() {
        let parameter = match parse_parameter(&base, &entry.parameter) {
            Ok(parameter) => parameter,
            Err(message) => {
                add_problem(&mut problems, vary_line(position), format!("[[vary]] {message}"));
                continue;
            }
        };
        // Check every value once, on a scratch copy, so a bad value fails
        // before any solve; the first bad value is named, at its line, with
        // a count of the others.
        let mut bad: Vec<(usize, String)> = Vec::new();
        for (index, value) in entry.values.iter().enumerate() {
            let (mut scratch, mut share) = (base.clone(), supplier_share);
            if let Err(message) = apply_parameter(&mut scratch, &mut share, parameter, *value) {
                bad.push((index, message));
            }
        }
        if let Some((index, first)) = bad.first() {
            let more = match bad.len() {
                1 => String::new(),
                n => format!(" ({} more of its values are refused too)", n - 1),
            };
            let at = line(lines.vary.get(position).and_then(|vary| vary.values.get(*index)));
            add_problem(
                &mut problems,
                at.or(vary_line(position)),
                format!("[[vary]] {}: {first}{more}", entry.parameter),
            );
        }
        vary.push((entry.parameter.clone(), parameter, entry.values.clone()));
    }
    let inventory_hash = match inventory_hash(&source) {
        Ok(hash) => hash,
        Err(message) => {
            add_problem(&mut problems, None, message);
            0
        }
    };
    if !problems.is_empty() {
        // In file order, as an inventory's errors are.
        problems.sort_by_key(|problem| problem.line.unwrap_or(usize::MAX));
        return Err(StudyError::Scenario(ScenarioError { file, problems }));
    }
    Ok(Study {
        file_hash,
        inventory_hash,
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

/// The 64-bit FNV-1a hash of some bytes: stable across machines and
/// versions, enough to tell two files apart (not a defence against forgery).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = FnvHasher::default();
    hash.write(bytes);
    hash.finish()
}

/// FNV-1a, fed piece by piece.
struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash of an inventory's content: of every file the loader reads from a
/// folder (name, length and bytes; absent files count as absent), of a
/// workbook's bytes, or of the bundled example's files.
pub fn inventory_hash(source: &InventorySource) -> Result<u64, String> {
    let mut hash = FnvHasher::default();
    let mut add = |name: &str, bytes: Option<&[u8]>| {
        hash.write(name.as_bytes());
        match bytes {
            Some(bytes) => {
                hash.write(&(bytes.len() as u64).to_le_bytes());
                hash.write(bytes);
            }
            None => hash.write(b"\0absent"),
        }
    };
    match source {
        InventorySource::BundledDunkirk => {
            for (name, text) in crate::io::BUNDLED_DUNKIRK {
                add(name, Some(text.as_bytes()));
            }
        }
        InventorySource::Workbook(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("{}: cannot read the workbook: {e}", path.display()))?;
            add("workbook", Some(&bytes));
        }
        InventorySource::Folder(dir) => {
            let names = ["firms.csv", "flows.csv", "distances.csv"]
                .into_iter()
                .chain(crate::io::CATALOGUE_FILES)
                .chain(crate::io::PART_B_FILES);
            for name in names {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => add(name, Some(&bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => add(name, None),
                    Err(e) => return Err(format!("{}: cannot read the file: {e}", path.display())),
                }
            }
        }
    }
    Ok(hash.finish())
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

    /// How many of a grid's `n_scenarios` scenarios this shard holds.
    pub fn len_of(&self, n_scenarios: usize) -> usize {
        n_scenarios.saturating_sub(self.index - 1).div_ceil(self.count)
    }

    /// The `position`-th scenario of this shard (`position < len_of(n)`).
    pub fn scenario(&self, position: usize) -> usize {
        self.index - 1 + position * self.count
    }
}

/// Largest number of scenarios one `sweep` run (the whole grid, or one
/// shard of it) solves unless `--allow-large-grid` is given: each row of
/// sweep.csv stays in memory until the file is written (about 200 bytes a
/// scenario plus the CSV text), and a million Dunkirk solves already take
/// some ten minutes on two cores (README, "What-if studies").
pub const MAX_SWEEP_SCENARIOS: usize = 1_000_000;

/// The grid of `study` as `sweep` would run it: refused, with the size and
/// what to do, when the grid (or the shard) exceeds [`MAX_SWEEP_SCENARIOS`]
/// and `allow_large` is not set, or when the grid cannot even be indexed.
/// Returns the number of scenarios this run solves.
pub fn check_grid(study: &Study, shard: Option<Shard>, allow_large: bool) -> Result<usize, ScenarioError> {
    let refuse = |message: String| ScenarioError::new(study.file.clone(), message);
    let Some(n_scenarios) = study.grid_size() else {
        let size: f64 = study.vary.iter().map(|(_, _, values)| values.len() as f64).product();
        return Err(refuse(format!(
            "the grid ({}) has {size:.3e} scenarios, more than a sweep can index ({}): give fewer values",
            study.grid_shape(),
            usize::MAX
        )));
    };
    let in_run = shard.map_or(n_scenarios, |shard| shard.len_of(n_scenarios));
    if in_run > MAX_SWEEP_SCENARIOS && !allow_large {
        let shards_needed = n_scenarios.div_ceil(MAX_SWEEP_SCENARIOS);
        let which = match shard {
            Some(shard) => format!(", {in_run} of them in shard {}/{}", shard.index, shard.count),
            None => String::new(),
        };
        return Err(refuse(format!(
            "the grid ({}) has {n_scenarios} scenarios{which}, more than the {MAX_SWEEP_SCENARIOS} one sweep runs: split it with --shard I/N (N >= {shards_needed}), give fewer values, or pass --allow-large-grid",
            study.grid_shape()
        )));
    }
    Ok(in_run)
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

/// Solves the grid points of `shard` (all when `None`) in parallel on the
/// current rayon pool, reporting to `progress`. With `warm_start`,
/// each worker keeps its HiGHS model from one scenario to the next (see
/// [`WarmStart`] for what that may change).
pub fn run_sweep(
    study: &Study,
    shard: Option<Shard>,
    warm_start: bool,
    progress: &dyn Progress,
) -> Result<Vec<SweepRow>, ScenarioError> {
    // Scenario indices are computed from positions, never listed: a grid
    // is as cheap to start as its shard is small.
    let shard = shard.unwrap_or(Shard { index: 1, count: 1 });
    let n_in_run = shard.len_of(study.n_scenarios());
    progress.start(n_in_run, "scenarios");
    let rows: Result<Vec<SweepRow>, ScenarioError> = (0..n_in_run)
        .into_par_iter()
        .map_init(WarmStart::default, |warm, position| {
            let row = solve_point(study, shard.scenario(position), warm_start.then_some(warm));
            progress.advance(1);
            row
        })
        .collect();
    progress.finish();
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

/// sweep_meta.json: what `merge` needs to check that shards fit together
/// and to draw the merged sweep.svg.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct SweepMeta {
    pub scenario_file: String,
    /// [`fnv1a`] of the scenario file's bytes, 16 hex digits.
    #[serde(default)]
    pub scenario_file_hash: Option<String>,
    /// [`inventory_hash`] of the base inventory, 16 hex digits.
    #[serde(default)]
    pub inventory_hash: Option<String>,
    /// The version of symbiose that solved the scenarios.
    #[serde(default)]
    pub symbiose_version: Option<String>,
    pub n_scenarios: usize,
    pub shard: String,
    /// Each `[[vary]]`: its parameter and values, in file order.
    #[serde(default)]
    pub parameters: Vec<VariedParameter>,
    pub scenarios: Vec<usize>,
}

/// One `[[vary]]` block as sweep_meta.json records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct VariedParameter {
    pub parameter: String,
    pub values: Vec<f64>,
}

impl SweepMeta {
    /// The metadata of a sweep of `study` (a shard of it, or `1/1`) that
    /// solved `scenarios`.
    pub fn of(study: &Study, shard: Option<Shard>, scenarios: Vec<usize>) -> SweepMeta {
        SweepMeta {
            scenario_file: study.file.clone(),
            scenario_file_hash: Some(format!("{:016x}", study.file_hash)),
            inventory_hash: Some(format!("{:016x}", study.inventory_hash)),
            symbiose_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            n_scenarios: study.n_scenarios(),
            shard: shard
                .map(|s| format!("{}/{}", s.index, s.count))
                .unwrap_or_else(|| "1/1".to_string()),
            parameters: study
                .vary
                .iter()
                .map(|(path, _, values)| VariedParameter {
                    parameter: path.clone(),
                    values: values.clone(),
                })
                .collect(),
            scenarios,
        }
    }

    /// The bytes of sweep_meta.json.
    pub fn to_json(&self) -> Result<Vec<u8>, String> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| format!("sweep_meta.json: {e}"))?;
        json.push(b'\n');
        Ok(json)
    }
}

/// What `merge` produced: the whole grid's sweep.csv and sweep_meta.json.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub csv: Vec<u8>,
    pub meta: SweepMeta,
}

/// Combines the sweep.csv files of shard folders into the sweep.csv of the
/// whole grid: same header, rows sorted by scenario, every scenario exactly
/// once. The shards must come from one study: the same scenario file
/// content, the same inventory content and the same symbiose version
/// (sweep_meta.json); what differs is named. The bytes are identical to an
/// unsharded run's.
pub fn merge_sweeps(dirs: &[PathBuf]) -> Result<Merged, String> {
    let mut header: Option<String> = None;
    let mut first: Option<(PathBuf, SweepMeta)> = None;
    let mut lines: BTreeMap<usize, String> = BTreeMap::new();
    for dir in dirs {
        let meta_path = dir.join(crate::io::outputs::SWEEP_META);
        let meta: SweepMeta = serde_json::from_slice(
            &std::fs::read(&meta_path).map_err(|e| format!("{}: cannot read: {e}", meta_path.display()))?,
        )
        .map_err(|e| format!("{}: {e}", meta_path.display()))?;
        let recorded = |value: &Option<String>, what: &str| {
            value.clone().ok_or_else(|| {
                format!(
                    "{}: no {what} recorded (written by an older symbiose): run this shard again",
                    meta_path.display()
                )
            })
        };
        recorded(&meta.scenario_file_hash, "scenario file hash")?;
        recorded(&meta.inventory_hash, "inventory hash")?;
        recorded(&meta.symbiose_version, "symbiose version")?;
        match &first {
            None => first = Some((meta_path.clone(), meta.clone())),
            Some((first_path, first_meta)) => {
                let differs = |what: &str, this: String, that: String| {
                    format!(
                        "{}: {what} differs from {}'s ({this} against {that}): these shards are not from one sweep",
                        meta_path.display(),
                        first_path.display()
                    )
                };
                if meta.scenario_file_hash != first_meta.scenario_file_hash {
                    return Err(differs(
                        "the scenario file's content",
                        format!(
                            "{} hash {}",
                            meta.scenario_file,
                            meta.scenario_file_hash.clone().unwrap_or_default()
                        ),
                        format!(
                            "{} hash {}",
                            first_meta.scenario_file,
                            first_meta.scenario_file_hash.clone().unwrap_or_default()
                        ),
                    ));
                }
                if meta.inventory_hash != first_meta.inventory_hash {
                    return Err(differs(
                        "the inventory's content",
                        format!("hash {}", meta.inventory_hash.clone().unwrap_or_default()),
                        format!("hash {}", first_meta.inventory_hash.clone().unwrap_or_default()),
                    ));
                }
                if meta.symbiose_version != first_meta.symbiose_version {
                    return Err(differs(
                        "the symbiose version",
                        meta.symbiose_version.clone().unwrap_or_default(),
                        first_meta.symbiose_version.clone().unwrap_or_default(),
                    ));
                }
                if meta.n_scenarios != first_meta.n_scenarios || meta.parameters != first_meta.parameters {
                    return Err(differs(
                        "the grid",
                        format!("{} scenarios", meta.n_scenarios),
                        format!("{} scenarios", first_meta.n_scenarios),
                    ));
                }
            }
        }
        let csv_path = dir.join(crate::io::outputs::SWEEP_CSV);
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
    let (_, first_meta) = first.ok_or("no shard folder given")?;
    let total = first_meta.n_scenarios;
    let missing: Vec<usize> = (0..total).filter(|s| !lines.contains_key(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} of {total} scenarios are missing (first: {:?}): a shard did not run or was not given",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    if let Some(beyond) = lines.keys().find(|scenario| **scenario >= total) {
        return Err(format!(
            "scenario {beyond} lies beyond the grid of {total} scenarios the shards' sweep_meta.json describe"
        ));
    }
    let mut csv = header.unwrap_or_default();
    csv.push('\n');
    for line in lines.values() {
        csv.push_str(line);
        csv.push('\n');
    }
    let meta = SweepMeta {
        shard: "1/1".to_string(),
        scenarios: lines.keys().copied().collect(),
        ..first_meta
    };
    Ok(Merged {
        csv: csv.into_bytes(),
        meta,
    })
}

/// Most lines drawn per panel of sweep.svg: beyond, that many combinations
/// of the other parameters, evenly spaced in grid order, and a note saying
/// how many there are.
pub const MAX_SWEEP_CHART_LINES: usize = 8;

/// sweep.svg, drawn from the bytes of sweep.csv (so that `sweep` and
/// `merge` draw the same chart): four panels (territory value, firm value,
/// externalities M, private cost C) against the first varied parameter,
/// one line per combination of the values of the other varied parameters
/// (at most [`MAX_SWEEP_CHART_LINES`]). `None` without a varied parameter
/// or a solved scenario.
pub fn sweep_chart(parameters: &[VariedParameter], csv: &[u8]) -> Result<Option<String>, String> {
    let Some(first) = parameters.first() else {
        return Ok(None);
    };
    let table = crate::io::parse_csv("sweep.csv", csv)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
    let column = |name: &str| {
        table
            .columns
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| format!("sweep.csv has no column {name}"))
    };
    let parameter_columns = parameters
        .iter()
        .map(|parameter| column(&parameter.parameter))
        .collect::<Result<Vec<_>, _>>()?;
    type Total = (&'static str, &'static str);
    const TOTALS: [Total; 4] = [
        ("territory value T", "territory_value_eur"),
        ("firm value", "firm_value_eur"),
        ("externalities M", "externality_eur"),
        ("private cost C", "private_cost_eur"),
    ];
    let total_columns = TOTALS
        .iter()
        .map(|(_, name)| column(name))
        .collect::<Result<Vec<_>, _>>()?;
    let number = |cell: &Option<String>| cell.as_deref().and_then(|text| text.parse::<f64>().ok());
    // Rows grouped by the values of the other parameters, groups in order
    // of first appearance (grid order: sweep.csv is sorted by scenario).
    let mut groups: Vec<(Vec<f64>, Vec<(f64, [f64; 4])>)> = Vec::new();
    for row in &table.rows {
        let values: Option<Vec<f64>> = parameter_columns.iter().map(|c| number(&row.cells[*c])).collect();
        let Some(values) = values else {
            return Err(format!("sweep.csv:{}: a varied parameter has no number", row.line));
        };
        let key = values[1..].to_vec();
        let position = match groups.iter().position(|(other, _)| *other == key) {
            Some(position) => position,
            None => {
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        let totals: Option<Vec<f64>> = total_columns.iter().map(|c| number(&row.cells[*c])).collect();
        if let Some(totals) = totals {
            groups[position]
                .1
                .push((values[0], [totals[0], totals[1], totals[2], totals[3]]));
        }
    }
    if groups.iter().all(|(_, points)| points.is_empty()) {
        return Ok(None);
    }
    let n_groups = groups.len();
    let shown: Vec<usize> = if n_groups <= MAX_SWEEP_CHART_LINES {
        (0..n_groups).collect()
    } else {
        let mut picked: Vec<usize> = (0..MAX_SWEEP_CHART_LINES)
            .map(|i| (i * (n_groups - 1) + (MAX_SWEEP_CHART_LINES - 1) / 2) / (MAX_SWEEP_CHART_LINES - 1))
            .collect();
        picked.dedup();
        picked
    };
    let names: Vec<String> = shown
        .iter()
        .map(|group| {
            if parameters.len() == 1 {
                "every scenario".to_string()
            } else {
                parameters[1..]
                    .iter()
                    .zip(&groups[*group].0)
                    .map(|(parameter, value)| format!("{} = {value}", parameter.parameter))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        })
        .collect();
    let colour = |line: usize| crate::report::chart::PALETTE[line % crate::report::chart::PALETTE.len()].to_string();
    let panels = TOTALS
        .iter()
        .enumerate()
        .map(|(total, (title, _))| crate::report::chart::Panel {
            title: title.to_string(),
            x_label: first.parameter.clone(),
            y_label: "EUR per year".to_string(),
            series: shown
                .iter()
                .enumerate()
                .map(|(line, group)| {
                    let mut points: Vec<(f64, f64)> =
                        groups[*group].1.iter().map(|(x, totals)| (*x, totals[total])).collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    crate::report::chart::Series {
                        name: names[line].clone(),
                        colour: colour(line),
                        points,
                    }
                })
                .collect(),
            markers: Vec::new(),
        })
        .collect();
    let others: Vec<&str> = parameters[1..].iter().map(|p| p.parameter.as_str()).collect();
    let title = if others.is_empty() {
        format!("sweep of {}", first.parameter)
    } else {
        format!(
            "sweep of {}, one line per value of {}",
            first.parameter,
            others.join(" and ")
        )
    };
    let note = (shown.len() < n_groups).then(|| {
        format!(
            "{} of the {n_groups} combinations of {} drawn, evenly spaced in grid order; sweep.csv has every scenario",
            shown.len(),
            others.join(", ")
        )
    });
    let chart = crate::report::chart::Chart {
        title,
        panels,
        columns: 2,
        panel_width: 420.0,
        panel_height: 300.0,
        legend: names
            .iter()
            .enumerate()
            .map(|(line, name)| (name.clone(), colour(line)))
            .collect(),
        note,
    };
    Ok(Some(chart.render()))
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
    progress: &dyn Progress,
) -> Result<Vec<ResilienceRow>, SolveError> {
    let mut single = options.clone();
    single.threads = Some(1);
    let (_, _, base) = optimize_inventory(inventory, &single, supplier_share)?;
    let base_links: Vec<(FlowIdx, FlowIdx)> = base.links.iter().map(|l| (l.supply, l.demand)).collect();
    progress.start(inventory.firms().len(), "firm exits");
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
            progress.advance(1);
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
    progress.finish();
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
pub fn pareto_front(
    inventory: &Inventory,
    n_points: usize,
    progress: &dyn Progress,
) -> Result<ParetoFront, SolveError> {
    let point_of = |objective: Objective, bound: Option<CriterionBound>| -> Result<ParetoPoint, SolveError> {
        let options = SolveOptions {
            objective,
            time_limit_seconds: None,
            threads: Some(1),
            bound,
            mip_gap: None,
            solver: None,
            lexicographic_slack: crate::solve::LEXICOGRAPHIC_TOLERANCE,
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
    // Two points at least (the ends): `app::pareto` refuses fewer, so this
    // only keeps a direct caller's 0 or 1 from dividing by zero.
    let n_points = n_points.max(2);
    progress.start(n_points, "Pareto points");
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
            progress.advance(1);
            point
        })
        .collect();
    progress.finish();
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

/// pareto.svg: the front, private cost C against externalities M, with
/// the three objectives' optima marked.
pub fn pareto_chart(front: &ParetoFront) -> String {
    let point = |p: &ParetoPoint| (p.externality_eur, p.private_cost_eur);
    let marker = |label: &str, p: &ParetoPoint| crate::report::chart::Marker {
        label: label.to_string(),
        x: p.externality_eur,
        y: p.private_cost_eur,
    };
    let colour = "#2166ac".to_string();
    crate::report::chart::Chart {
        title: "Pareto front: private cost against externalities".to_string(),
        panels: vec![crate::report::chart::Panel {
            title: String::new(),
            x_label: "monetised externalities M (EUR/yr)".to_string(),
            y_label: "private cost C (EUR/yr)".to_string(),
            series: vec![crate::report::chart::Series {
                name: "non-dominated points".to_string(),
                colour: colour.clone(),
                points: front.points.iter().map(point).collect(),
            }],
            markers: vec![
                marker("private", &front.private_optimum),
                marker("externalities", &front.externalities_optimum),
                marker("social", &front.social_optimum),
            ],
        }],
        columns: 1,
        panel_width: 620.0,
        panel_height: 420.0,
        legend: vec![("non-dominated points".to_string(), colour)],
        note: None,
    }
    .render()
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
}
