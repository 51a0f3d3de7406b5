//! Scenario files: the TOML a user writes, read into a [`Study`] resolved
//! against its base inventory, and the problems found in it.
//!
//! Owns: [`ScenarioFile`], [`Study`], [`load_study`], [`StudyError`] and
//! [`ScenarioError`] (each problem at its line in the file).
//!
//! Invariant: a [`Study`] exists only once every field, id, parameter path
//! and value of its file passed the checks an inventory's values pass; every
//! problem of a file is found in one pass and reported in file order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hash::{fnv1a, inventory_hash};
use super::parameter::{apply_parameter, check_parameter, check_supplier_share, parse_parameter, Parameter};
use crate::io::{load_inventory, InventorySource};
use crate::model::{Edit, Inventory, RouteIdx};
use crate::solve::{Objective, SolveOptions};

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

/// A scenario file being read: its text, where its fields start, and the
/// problems found so far.
struct Reading<'a> {
    text: &'a str,
    lines: FieldLines,
    problems: Vec<ScenarioProblem>,
}

impl Reading<'_> {
    /// The 1-based line where a value of the file starts.
    fn line(&self, value: Option<&toml::Spanned<toml::Value>>) -> Option<usize> {
        let start = value?.span().start.min(self.text.len());
        Some(
            self.text.as_bytes()[..start]
                .iter()
                .filter(|byte| **byte == b'\n')
                .count()
                + 1,
        )
    }

    /// The line of the `position`-th `[[vary]]` block's parameter.
    fn vary_line(&self, position: usize) -> Option<usize> {
        self.line(self.lines.vary.get(position).and_then(|vary| vary.parameter.as_ref()))
    }

    fn add(&mut self, line: Option<usize>, message: String) {
        self.problems.push(ScenarioProblem { line, message });
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

    pub fn solve_options(&self, threads: Option<u32>) -> SolveOptions {
        SolveOptions {
            objective: self.objective,
            time_limit_seconds: self.time_limit_seconds,
            threads,
            bound: None,
            mip_gap: self.mip_gap,
            solver: None,
            lexicographic_slack: crate::solve::LEXICOGRAPHIC_TOLERANCE,
            decompose: true,
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
    let mut reading = Reading {
        text: &text,
        lines: toml::from_str(&text).unwrap_or_default(),
        problems: Vec::new(),
    };
    check_fields(&parsed, &mut reading);

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
    let base = match load_inventory(&source) {
        Ok(loaded) => loaded.inventory,
        Err(crate::io::LoadError::Invalid { mut errors, warnings }) => {
            errors.extend(reading.problems.iter().map(|problem| match problem.line {
                Some(line) => crate::model::InputError::at(&file, line, None, problem.message.clone()),
                None => crate::model::InputError::file(&file, problem.message.clone()),
            }));
            return Err(StudyError::Input(crate::io::LoadError::Invalid { errors, warnings }));
        }
    };
    let (base, supplier_share, vary) = resolve(&parsed, base, &mut reading);
    let inventory_hash = match inventory_hash(&source) {
        Ok(hash) => hash,
        Err(message) => {
            reading.add(None, message);
            0
        }
    };
    let mut problems = reading.problems;
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

/// The file's own fields, checked before the inventory is read.
fn check_fields(parsed: &ScenarioFile, reading: &mut Reading) {
    if let Err(message) = check_supplier_share(parsed.supplier_share.unwrap_or(0.5)) {
        reading.add(reading.line(reading.lines.supplier_share.as_ref()), message);
    }
    if parsed.supplier_share.is_some() && parsed.set.contains_key("supplier_share") {
        reading.add(
            reading.line(reading.lines.set.get("supplier_share")),
            "supplier_share is given both at the top level and in [set]: keep one of the two".to_string(),
        );
    }
    if let Some(limit) = parsed.time_limit {
        // The check `--time-limit` makes.
        if let Err(message) = crate::options::SECONDS_CHECK.value("time_limit", limit) {
            reading.add(reading.line(reading.lines.time_limit.as_ref()), message);
        }
    }
    if let Some(gap) = parsed.mip_gap {
        // The check `--mip-gap` makes.
        if let Err(message) = crate::options::GAP_CHECK.value("mip_gap", gap) {
            reading.add(reading.line(reading.lines.mip_gap.as_ref()), message);
        }
    }
    for (position, entry) in parsed.vary.iter().enumerate() {
        let at = reading.vary_line(position);
        if entry.values.is_empty() {
            reading.add(at, format!("[[vary]] {}: values is empty", entry.parameter));
        }
        if parsed.vary[..position]
            .iter()
            .any(|earlier| earlier.parameter == entry.parameter)
        {
            reading.add(
                at,
                format!(
                    "[[vary]] {}: this parameter is varied twice: give all its values in one [[vary]] block",
                    entry.parameter
                ),
            );
        }
        if parsed.set.contains_key(&entry.parameter) {
            reading.add(
                at,
                format!(
                    "[[vary]] {}: also fixed in [set]: a parameter is either set or varied, keep one of the two",
                    entry.parameter
                ),
            );
        }
        if entry.parameter == "supplier_share" && parsed.supplier_share.is_some() {
            reading.add(
                at,
                "[[vary]] supplier_share: also given at the top level: keep one of the two".to_string(),
            );
        }
    }
}

/// What needs the inventory: firm and route ids and parameter paths. The
/// base with `remove_firms`, `ban_routes` and `[set]` applied, the supplier
/// share, and each `[[vary]]` resolved, its values checked.
fn resolve(
    parsed: &ScenarioFile,
    base: Inventory,
    reading: &mut Reading,
) -> (Inventory, f64, Vec<(String, Parameter, Vec<f64>)>) {
    let mut exits = Vec::new();
    for (position, firm_id) in parsed.remove_firms.iter().enumerate() {
        match base.firm_index(firm_id) {
            Some(firm) => exits.push(Edit::RemoveFirm(firm)),
            None => reading.add(
                reading.line(reading.lines.remove_firms.get(position)),
                format!("remove_firms: no firm {firm_id:?} in the inventory"),
            ),
        }
    }
    for (position, route_id) in parsed.ban_routes.iter().enumerate() {
        match base.routes().iter().position(|route| route.id == *route_id) {
            Some(route) => exits.push(Edit::BanRoute(RouteIdx::from_index(route))),
            None => reading.add(
                reading.line(reading.lines.ban_routes.get(position)),
                format!("ban_routes: no route {route_id:?} in the catalogue"),
            ),
        }
    }
    let mut base = base
        .edited(&exits)
        .expect("removing a firm or banning a route is never refused (model::edit)");
    let mut supplier_share = parsed.supplier_share.unwrap_or(0.5);
    for (parameter_path, value) in &parsed.set {
        let at = reading.line(reading.lines.set.get(parameter_path));
        match parse_parameter(&base, parameter_path) {
            Ok(parameter) => {
                if let Err(message) = apply_parameter(&mut base, &mut supplier_share, parameter, *value) {
                    reading.add(at, format!("[set] {parameter_path}: {message}"));
                }
            }
            Err(message) => reading.add(at, format!("[set] {message}")),
        }
    }
    let mut vary = Vec::new();
    for (position, entry) in parsed.vary.iter().enumerate() {
        let parameter = match parse_parameter(&base, &entry.parameter) {
            Ok(parameter) => parameter,
            Err(message) => {
                reading.add(reading.vary_line(position), format!("[[vary]] {message}"));
                continue;
            }
        };
        // Check every value once, against the base, so a bad value fails
        // before any solve; the first bad value is named, at its line, with
        // a count of the others.
        let mut bad: Vec<(usize, String)> = Vec::new();
        for (index, value) in entry.values.iter().enumerate() {
            if let Err(message) = check_parameter(&base, parameter, *value) {
                bad.push((index, message));
            }
        }
        if let Some((index, first)) = bad.first() {
            let more = match bad.len() {
                1 => String::new(),
                n => format!(" ({} more of its values are refused too)", n - 1),
            };
            let at = reading.line(
                reading
                    .lines
                    .vary
                    .get(position)
                    .and_then(|vary| vary.values.get(*index)),
            );
            reading.add(
                at.or(reading.vary_line(position)),
                format!("[[vary]] {}: {first}{more}", entry.parameter),
            );
        }
        vary.push((entry.parameter.clone(), parameter, entry.values.clone()));
    }
    (base, supplier_share, vary)
}
