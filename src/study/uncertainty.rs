//! Monte Carlo over uncertain data (docs/model.md D9): the parameters of
//! uncertainty.csv drawn from their distributions, each sample solved as a
//! what-if of the base solve, and the tables that sum the samples up.
//!
//! Owns: [`Distribution`] and its draws, [`Uncertainty`] (uncertainty.csv
//! checked against the inventory: [`read_uncertainty`]), [`run_samples`],
//! the per-sample figures ([`SampleRow`], [`Figures`]), their summaries
//! ([`summarise`]: link_probability.csv and value_quantiles.csv, quantiles
//! of Hyndman and Fan's type 7), every table's schema, and
//! uncertainty_meta.json ([`UncertaintyMeta`]). The merge of shards is
//! `uncertainty_merge`.
//!
//! Randomness: sample i's value of parameter j is drawn from its own
//! stream, `random::Rng::stream(seed, [i, j])`, so a sample's values depend
//! on the seed, its index and its parameter's position only: the same
//! whatever the thread count, the sharding, or the order of solves.
//!
//! Invariant: a sample's row depends only on the base solve, the
//! uncertainty table, the seed and the sample's index; the summaries are
//! computed exactly from every feasible sample, in sample order, so a run,
//! its shards merged back, and any thread count give the same bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::parameter::{check_parameter, parse_parameter, with_parameters, Parameter};
use super::sweep::{status_word, Shard};
use super::ScenarioError;
use crate::candidates::{candidate_links, Link};
use crate::io::outputs::{SAMPLES_CSV, SAMPLE_LINKS_CSV, SAMPLE_VALUES_CSV};
use crate::io::{Frame, Kind};
use crate::model::table::{short_number, Schema, TableReader};
use crate::model::{InputError, InputWarning, Inventory, RawTable};
use crate::progress::Progress;
use crate::random::Rng;
use crate::report::schema::{Column, Read, SchemaMismatch, TableBuilder, TableSchema};
use crate::report::uncertainty::{LINK_PROBABILITY, VALUE_QUANTILES};
use crate::solve::{Reuse, Reused, SolveOptions};
use crate::value::value_lp_solution;

/// The columns of uncertainty.csv: the parameter, its distribution, and
/// the distribution's parameters in named columns (the others left empty).
pub const UNCERTAINTY_SCHEMA: Schema = Schema {
    required: &["parameter", "distribution"],
    optional: &["low", "mode", "high", "mean", "sd", "median", "gsd"],
};

/// The parameter paths uncertainty.csv may name, for messages.
pub const UNCERTAIN_PATHS: &str = "externality.<category>, route_cost.<route>, transport_cost.<resource>, flow_quantity.<flow_id>, flow_factor.<flow_id>, impact.<subject>.<category>";

/// Most samples one run draws: each feasible sample keeps one value per
/// firm and category and its links in use until the files are written
/// (at 20,000 firms some 160 kB a sample), and the per-sample tables grow
/// with them. Split larger studies with `--shard I/K`.
pub const MAX_SAMPLES: usize = 1_000_000;

/// A parameter's distribution. Every draw is a transform of uniforms from
/// the parameter's own stream; a zero-width distribution (uniform or
/// triangular with low = high, normal with sd 0, lognormal with gsd 1)
/// gives its value exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// low + (high - low) u.
    Uniform { low: f64, high: f64 },
    /// By the inverse of its distribution function.
    Triangular { low: f64, mode: f64, high: f64 },
    /// Normal truncated at zero (values < 0 are drawn again, by rejection:
    /// `mean >= 0` keeps at least half of the draws).
    Normal { mean: f64, sd: f64 },
    /// median x gsd^z, z standard normal (gsd: the geometric standard
    /// deviation, >= 1).
    Lognormal { median: f64, gsd: f64 },
}

/// Rejections after which a truncated normal gives up and returns its
/// mean: with mean >= 0 each draw is kept with probability >= 1/2, so
/// this is never reached in practice (2^-1000).
const MAX_REJECTIONS: usize = 1000;

impl Distribution {
    pub fn word(&self) -> &'static str {
        match self {
            Distribution::Uniform { .. } => "uniform",
            Distribution::Triangular { .. } => "triangular",
            Distribution::Normal { .. } => "normal",
            Distribution::Lognormal { .. } => "lognormal",
        }
    }

    /// One draw from `rng`.
    pub fn draw(&self, rng: &mut Rng) -> f64 {
        match *self {
            Distribution::Uniform { low, high } => {
                if low == high {
                    low
                } else {
                    low + (high - low) * rng.uniform()
                }
            }
            Distribution::Triangular { low, mode, high } => {
                if low == high {
                    return low;
                }
                let u = rng.uniform();
                let width = high - low;
                if u * width < mode - low {
                    low + (u * width * (mode - low)).sqrt()
                } else {
                    high - ((1.0 - u) * width * (high - mode)).sqrt()
                }
            }
            Distribution::Normal { mean, sd } => {
                if sd == 0.0 {
                    return mean;
                }
                for _ in 0..MAX_REJECTIONS {
                    let value = mean + sd * rng.normal();
                    if value >= 0.0 {
                        return value;
                    }
                }
                mean
            }
            Distribution::Lognormal { median, gsd } => {
                if gsd == 1.0 {
                    median
                } else {
                    median * (gsd.ln() * rng.normal()).exp()
                }
            }
        }
    }

    /// The distribution's parameters, as (column, value), in column order.
    fn values(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Distribution::Uniform { low, high } => vec![("low", low), ("high", high)],
            Distribution::Triangular { low, mode, high } => vec![("low", low), ("mode", mode), ("high", high)],
            Distribution::Normal { mean, sd } => vec![("mean", mean), ("sd", sd)],
            Distribution::Lognormal { median, gsd } => vec![("median", median), ("gsd", gsd)],
        }
    }
}

/// Why uncertainty.csv was refused: every error, and the warnings met.
pub type Problems = (Vec<InputError>, Vec<InputWarning>);

/// One row of uncertainty.csv, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct UncertainParameter {
    /// The path as written (`flow_quantity.am_bf_slag`).
    pub path: String,
    pub parameter: Parameter,
    pub distribution: Distribution,
    pub line: usize,
}

/// uncertainty.csv checked against an inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// The file as messages name it.
    pub file: String,
    /// In file order.
    pub parameters: Vec<UncertainParameter>,
    /// FNV-1a of the table's header and cells (16 hex digits in
    /// uncertainty_meta.json), so that `merge` refuses shards drawn from
    /// different files.
    pub hash: u64,
}

/// Reads uncertainty.csv against `inventory`: every problem at its file,
/// line and column, all collected. Checks: a known parameter path that
/// may be uncertain, listed once; a known distribution with its columns
/// given and the others empty; low <= high, low <= mode <= high, sd >= 0,
/// mean >= 0 (the normal is truncated at zero), median > 0, gsd >= 1; and
/// the values a draw can reach within the parameter's own rule (low, mode
/// and high, the normal's mean, the lognormal's median, checked as a
/// scenario value is).
pub fn read_uncertainty(inventory: &Inventory, table: &RawTable) -> Result<(Uncertainty, Vec<InputWarning>), Problems> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let Some(reader) = TableReader::new(table, &UNCERTAINTY_SCHEMA, &mut errors, &mut warnings) else {
        return Err((errors, warnings));
    };
    let reader = reader.with_magnitude_limit(crate::model::table::MAX_MAGNITUDE);
    let mut parameters = Vec::new();
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    for row in &table.rows {
        let at = |column: &str, message: String| InputError::at(&table.file, row.line, Some(column), message);
        let parameter = reader.text(row, "parameter", &mut errors).and_then(|path| {
            if let Some(first) = first_line.get(&path) {
                errors.push(
                    at(
                        "parameter",
                        format!("parameter {path:?} is listed twice (first on line {first})"),
                    )
                    .with_hint("give each parameter one row"),
                );
                return None;
            }
            first_line.insert(path.clone(), row.line);
            match parse_parameter(inventory, &path) {
                Ok(
                    Parameter::SupplierShare | Parameter::MaxDistance(_) | Parameter::Tax(_) | Parameter::Subsidy(_),
                ) => {
                    errors.push(
                        at("parameter", format!("{path:?} cannot be uncertain here"))
                            .with_hint(format!("uncertainty.csv takes {UNCERTAIN_PATHS}")),
                    );
                    None
                }
                Ok(parameter) => Some((path, parameter)),
                Err(message) => {
                    errors.push(at("parameter", message).with_hint(format!("uncertainty.csv takes {UNCERTAIN_PATHS}")));
                    None
                }
            }
        });
        let kinds = [("uniform", 0usize), ("triangular", 1), ("normal", 2), ("lognormal", 3)];
        let Some(kind) = reader.choice(row, "distribution", &kinds, &mut errors) else {
            continue;
        };
        let wanted: &[&str] = match kind {
            0 => &["low", "high"],
            1 => &["low", "mode", "high"],
            2 => &["mean", "sd"],
            _ => &["median", "gsd"],
        };
        let word = kinds[kind].0;
        let mut complete = true;
        for column in UNCERTAINTY_SCHEMA.optional {
            if !wanted.contains(column) && reader.cell(row, column).is_some() {
                errors.push(
                    at(
                        column,
                        format!("a {word} distribution takes no {column}: leave the cell empty"),
                    )
                    .with_hint(format!("a {word} distribution takes {}", wanted.join(", "))),
                );
                complete = false;
            }
        }
        let mut value = |column: &str| -> Option<f64> {
            match reader.opt_number(row, column, &mut errors) {
                Ok(Some(value)) => Some(value),
                Ok(None) => {
                    errors.push(
                        at(column, "empty value".to_string())
                            .with_hint(format!("a {word} distribution takes {}", wanted.join(", "))),
                    );
                    None
                }
                Err(_) => None,
            }
        };
        let numbers: Vec<Option<f64>> = wanted.iter().map(|column| value(column)).collect();
        if !complete || numbers.iter().any(Option::is_none) {
            continue;
        }
        let n: Vec<f64> = numbers.into_iter().flatten().collect();
        let refuse = |column: &str, message: String, hint: &str| at(column, message).with_hint(hint.to_string());
        let shown = |value: f64| reader.localise(&short_number(value));
        let (distribution, problem) = match kind {
            0 => (
                Distribution::Uniform { low: n[0], high: n[1] },
                (n[0] > n[1]).then(|| {
                    refuse(
                        "high",
                        format!("high must be >= low ({}), found {}", shown(n[0]), shown(n[1])),
                        "give low <= high (low = high: the value itself)",
                    )
                }),
            ),
            1 => (
                Distribution::Triangular {
                    low: n[0],
                    mode: n[1],
                    high: n[2],
                },
                if n[0] > n[2] {
                    Some(refuse(
                        "high",
                        format!("high must be >= low ({}), found {}", shown(n[0]), shown(n[2])),
                        "give low <= mode <= high",
                    ))
                } else if !(n[0] <= n[1] && n[1] <= n[2]) {
                    Some(refuse(
                        "mode",
                        format!(
                            "mode must lie within [low, high] = [{}, {}], found {}",
                            shown(n[0]),
                            shown(n[2]),
                            shown(n[1])
                        ),
                        "give low <= mode <= high",
                    ))
                } else {
                    None
                },
            ),
            2 => (
                Distribution::Normal { mean: n[0], sd: n[1] },
                if n[1] < 0.0 {
                    Some(refuse(
                        "sd",
                        format!("sd must be >= 0, found {}", shown(n[1])),
                        "give a standard deviation >= 0 (0: the mean itself)",
                    ))
                } else if n[0] < 0.0 {
                    Some(refuse(
                        "mean",
                        format!(
                            "the normal is truncated at zero: its mean must be >= 0, found {}",
                            shown(n[0])
                        ),
                        "for a parameter that may be negative, use a uniform or triangular distribution",
                    ))
                } else {
                    None
                },
            ),
            _ => (
                Distribution::Lognormal {
                    median: n[0],
                    gsd: n[1],
                },
                if n[0] <= 0.0 {
                    Some(refuse(
                        "median",
                        format!("median must be > 0, found {}", shown(n[0])),
                        "a lognormal is positive: give a median > 0",
                    ))
                } else if n[1] < 1.0 {
                    Some(refuse(
                        "gsd",
                        format!("gsd must be >= 1, found {}", shown(n[1])),
                        "give the geometric standard deviation, >= 1 (1: the median itself)",
                    ))
                } else {
                    None
                },
            ),
        };
        if let Some(problem) = problem {
            errors.push(problem);
            continue;
        }
        let Some((path, parameter)) = parameter else {
            continue;
        };
        // The values a draw reaches, within the parameter's own rule (the
        // normal's and the lognormal's tails are checked at each draw).
        let reached: Vec<(&str, f64)> = match distribution {
            Distribution::Normal { mean, .. } => vec![("mean", mean)],
            Distribution::Lognormal { median, .. } => vec![("median", median)],
            _ => distribution.values(),
        };
        let mut valid = true;
        for (column, value) in reached {
            if let Err(message) = check_parameter(inventory, parameter, value) {
                errors.push(
                    at(column, format!("{path}: {message}"))
                        .with_hint("every value the distribution can take must be a valid value of the parameter"),
                );
                valid = false;
                break;
            }
        }
        if valid {
            parameters.push(UncertainParameter {
                path,
                parameter,
                distribution,
                line: row.line,
            });
        }
    }
    if errors.is_empty() {
        Ok((
            Uncertainty {
                file: table.file.clone(),
                parameters,
                hash: table_hash(table),
            },
            warnings,
        ))
    } else {
        crate::model::table::sort_errors(&mut errors, &[table]);
        Err((errors, warnings))
    }
}

/// FNV-1a of a table's header and cells (not of its line numbers, so
/// that blank lines do not matter).
fn table_hash(table: &RawTable) -> u64 {
    let mut bytes = Vec::new();
    for column in &table.columns {
        bytes.extend_from_slice(column.as_bytes());
        bytes.push(0x1f);
    }
    for row in &table.rows {
        bytes.push(b'\n');
        for cell in &row.cells {
            bytes.extend_from_slice(cell.as_deref().unwrap_or("\u{0}").as_bytes());
            bytes.push(0x1f);
        }
    }
    super::fnv1a(&bytes)
}

impl Uncertainty {
    /// The values of sample `sample`, one per parameter in file order.
    pub fn draw(&self, seed: u64, sample: usize) -> Vec<f64> {
        self.parameters
            .iter()
            .enumerate()
            .map(|(position, parameter)| {
                let mut rng = Rng::stream(seed, &[sample as u64, position as u64]);
                parameter.distribution.draw(&mut rng)
            })
            .collect()
    }
}

/// The subjects of value_quantiles.csv for an inventory, in row order:
/// `territory`, `firms`, `firm:<firm_id>` (sorted by id), then
/// `category:<category>` (catalogue order, sorted by id).
pub fn subjects(inventory: &Inventory) -> Vec<String> {
    let mut firm_ids: Vec<&str> = inventory.firms().iter().map(|firm| firm.id.as_str()).collect();
    firm_ids.sort_unstable();
    ["territory".to_string(), "firms".to_string()]
        .into_iter()
        .chain(firm_ids.into_iter().map(|id| format!("firm:{id}")))
        .chain(inventory.categories().iter().map(|c| format!("category:{}", c.id)))
        .collect()
}

/// What one feasible sample found: its values per subject (in the order of
/// [`subjects`]) and its links carrying flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub totals: SampleTotals,
    pub subject_values: Vec<f64>,
    /// (supply flow, demand flow) as positions in a table of flow ids,
    /// the link's quantity (supply units) and whether it is in use (more
    /// than 1e-9 x the supply's quantity), sorted by the ids.
    pub links: Vec<SampleLink>,
}

/// samples.csv's totals of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleTotals {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
}

/// A link carrying flow in one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLink {
    pub supply: String,
    pub demand: String,
    pub quantity: f64,
    pub used: bool,
}

/// One sample: its index, its drawn values, its status word (as sweep.csv
/// writes it), and its figures when a solution was found.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub sample: usize,
    pub values: Vec<f64>,
    pub status: String,
    pub figures: Option<Figures>,
}

/// A link is in use in a sample when it carries more than this share of
/// its supply's quantity (link_probability.csv's `share_used`).
pub const USED_SHARE: f64 = 1e-9;

/// What [`run_samples`] solved, and how much of the base solve it kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplesRun {
    pub rows: Vec<SampleRow>,
    /// Summed over the samples: models kept, started from a kept basis,
    /// solved from scratch (`solve::Reused`).
    pub reused: Reused,
    /// Samples whose link set was generated again (a transport cost, or a
    /// quantity that became zero or stopped being zero).
    pub new_link_sets: usize,
}

/// Draws and solves the samples of `shard` (all when `None`) of `n_samples`
/// in parallel on the current rayon pool. Each sample's inventory is the
/// base with the drawn values set ([`with_parameters`], checked as any
/// scenario value); it keeps the base's candidate links unless a value
/// changes them (a transport cost changes every link's unit cost; a
/// quantity that becomes zero or positive changes which links exist), and
/// is solved as a what-if of the base solve (`reuse`, which must come from
/// `Reuse::solve` on `base`, `base_links` and `options`).
#[allow(clippy::too_many_arguments)]
pub fn run_samples(
    base: &Inventory,
    base_links: &[Link],
    reuse: &Reuse,
    options: &SolveOptions,
    supplier_share: f64,
    uncertainty: &Uncertainty,
    seed: u64,
    n_samples: usize,
    shard: Option<Shard>,
    progress: &dyn Progress,
) -> Result<SamplesRun, ScenarioError> {
    let shard = shard.unwrap_or(Shard { index: 1, count: 1 });
    let n_in_run = shard.len_of(n_samples);
    let firm_order = firm_order(base);
    progress.start(n_in_run, "samples");
    let solved: Result<Vec<(SampleRow, Reused, bool)>, ScenarioError> = (0..n_in_run)
        .into_par_iter()
        .map(|position| {
            let sample = shard.scenario(position);
            let values = uncertainty.draw(seed, sample);
            let settings: Vec<(Parameter, f64)> = uncertainty
                .parameters
                .iter()
                .zip(&values)
                .map(|(parameter, value)| (parameter.parameter, *value))
                .collect();
            let (inventory, share) =
                with_parameters(base, supplier_share, &settings).map_err(|(position, message)| {
                    let parameter = &uncertainty.parameters[position];
                    ScenarioError::new(
                        uncertainty.file.clone(),
                        format!(
                            "line {}: sample {sample} drew {} for {}, refused: {message} (narrow the distribution)",
                            parameter.line,
                            short_number(values[position]),
                            parameter.path
                        ),
                    )
                })?;
            let new_links = changes_links(base, &inventory, uncertainty);
            let fresh;
            let links: &[Link] = if new_links {
                fresh = candidate_links(&inventory);
                &fresh
            } else {
                base_links
            };
            let row = match reuse.resolve(&inventory, links, options) {
                Ok((solution, reused)) => {
                    let valuation = value_lp_solution(&inventory, links, &solution, share);
                    let mut subject_values = vec![valuation.territory_value_eur + 0.0, valuation.firm_value_eur + 0.0];
                    subject_values.extend(firm_order.iter().map(|firm| valuation.firms[*firm].value_eur + 0.0));
                    subject_values.extend(valuation.categories.iter().map(|category| category.value_eur + 0.0));
                    let mut sample_links: Vec<SampleLink> = valuation
                        .links
                        .iter()
                        .map(|link| {
                            let supply = inventory.flow(link.supply);
                            SampleLink {
                                supply: supply.id.clone(),
                                demand: inventory.flow(link.demand).id.clone(),
                                quantity: link.quantity + 0.0,
                                used: link.quantity > USED_SHARE * supply.quantity,
                            }
                        })
                        .collect();
                    sample_links.sort_by(|a, b| (&a.supply, &a.demand).cmp(&(&b.supply, &b.demand)));
                    (
                        SampleRow {
                            sample,
                            values,
                            status: solution.status.as_str().to_string(),
                            figures: Some(Figures {
                                totals: SampleTotals {
                                    private_cost_eur: valuation.optimized.private_cost_eur + 0.0,
                                    externality_eur: valuation.optimized.externality_eur + 0.0,
                                    firm_value_eur: valuation.firm_value_eur + 0.0,
                                    territory_value_eur: valuation.territory_value_eur + 0.0,
                                },
                                subject_values,
                                links: sample_links,
                            }),
                        },
                        reused,
                    )
                }
                Err(error) => (
                    SampleRow {
                        sample,
                        values,
                        status: status_word(&error).to_string(),
                        figures: None,
                    },
                    Reused::default(),
                ),
            };
            progress.advance(1);
            Ok((row.0, row.1, new_links))
        })
        .collect();
    progress.finish();
    let mut run = SamplesRun::default();
    for (row, reused, new_links) in solved? {
        run.reused.kept += reused.kept;
        run.reused.warm += reused.warm;
        run.reused.solved += reused.solved;
        run.new_link_sets += usize::from(new_links);
        run.rows.push(row);
    }
    run.rows.sort_by_key(|row| row.sample);
    Ok(run)
}

/// The firms' positions sorted by id (the order of the `firm:` subjects).
fn firm_order(inventory: &Inventory) -> Vec<usize> {
    let mut order: Vec<usize> = (0..inventory.firms().len()).collect();
    order.sort_by(|a, b| inventory.firms()[*a].id.cmp(&inventory.firms()[*b].id));
    order
}

/// Whether a sample's values change the candidate links of the base: a
/// transport cost is in every link's unit cost, and a flow's quantity
/// decides whether it has links at all (docs/model.md A2: only flows with
/// a positive quantity). Externality values, route costs and impact
/// factors leave the links as they are (a link's unit impacts are derived
/// from the inventory where they are read).
fn changes_links(base: &Inventory, sample: &Inventory, uncertainty: &Uncertainty) -> bool {
    uncertainty
        .parameters
        .iter()
        .any(|parameter| match parameter.parameter {
            Parameter::TransportCost(_) => true,
            Parameter::FlowQuantity(flow) | Parameter::FlowFactor(flow) => {
                (base.flow(flow).quantity > 0.0) != (sample.flow(flow).quantity > 0.0)
            }
            _ => false,
        })
}

/// Hyndman and Fan's type 7 quantile (R's and NumPy's default): linear
/// interpolation between the order statistics of `sorted` at
/// h = (n - 1) p; `None` for no values.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p;
    let below = (h.floor() as usize).min(last);
    let above = (below + 1).min(last);
    let weight = h - below as f64;
    Some(sorted[below] + weight * (sorted[above] - sorted[below]))
}

/// Mean, p05, p50 and p95 of `values` (in sample order), `None` each for
/// no values. The mean sums in the order given.
fn moments(values: &[f64]) -> [Option<f64>; 4] {
    if values.is_empty() {
        return [None; 4];
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    [
        Some(mean + 0.0),
        quantile(&sorted, 0.05).map(|q| q + 0.0),
        quantile(&sorted, 0.50).map(|q| q + 0.0),
        quantile(&sorted, 0.95).map(|q| q + 0.0),
    ]
}

/// A row of link_probability.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSummary {
    pub supply: String,
    pub demand: String,
    /// Share of the feasible samples in which the link is in use.
    pub share_used: Option<f64>,
    /// Mean, p05, p50, p95 of its quantity over the feasible samples (0
    /// where it carries nothing).
    pub quantity: [Option<f64>; 4],
}

/// A row of value_quantiles.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSummary {
    pub subject: String,
    /// Mean, p05, p50, p95 over the feasible samples, EUR per year.
    pub value: [Option<f64>; 4],
}

/// The summaries of the feasible samples (`figures`: each one's subject
/// values and links, in sample order):
/// a row per link in use in the base (`base_links`, supply and demand ids)
/// or carrying flow in some sample, sorted by ids; a row per subject, in
/// the order given.
pub fn summarise(
    subject_names: &[String],
    base_links: &[(String, String)],
    figures: &[(&[f64], &[SampleLink])],
) -> (Vec<LinkSummary>, Vec<ValueSummary>) {
    let n = figures.len();
    let mut per_link: BTreeMap<(&str, &str), (Vec<f64>, usize)> = BTreeMap::new();
    for (supply, demand) in base_links {
        per_link
            .entry((supply.as_str(), demand.as_str()))
            .or_insert_with(|| (vec![0.0; n], 0));
    }
    for (position, (_, sample_links)) in figures.iter().enumerate() {
        for link in sample_links.iter() {
            let entry = per_link
                .entry((link.supply.as_str(), link.demand.as_str()))
                .or_insert_with(|| (vec![0.0; n], 0));
            entry.0[position] = link.quantity;
            entry.1 += usize::from(link.used);
        }
    }
    let links = per_link
        .into_iter()
        .map(|((supply, demand), (quantities, used))| LinkSummary {
            supply: supply.to_string(),
            demand: demand.to_string(),
            share_used: (n > 0).then(|| used as f64 / n as f64),
            quantity: moments(&quantities),
        })
        .collect();
    let values = subject_names
        .iter()
        .enumerate()
        .map(|(position, subject)| {
            let values: Vec<f64> = figures
                .iter()
                .map(|(subject_values, _)| subject_values[position])
                .collect();
            ValueSummary {
                subject: subject.clone(),
                value: moments(&values),
            }
        })
        .collect();
    (links, values)
}

const TOTALS: [&str; 4] = [
    "private_cost_eur",
    "externality_eur",
    "firm_value_eur",
    "territory_value_eur",
];

/// samples.csv's columns: sample, one per parameter (named by its path,
/// in file order), status, the four totals.
pub fn samples_schema(paths: &[String]) -> TableSchema {
    let mut columns = vec![Column::named("sample", Kind::Count)];
    columns.extend(paths.iter().map(|path| Column::named(path.clone(), Kind::Number)));
    columns.push(Column::named("status", Kind::Text));
    columns.extend(TOTALS.iter().map(|total| Column::named(*total, Kind::OptionalNumber)));
    TableSchema {
        file: SAMPLES_CSV,
        columns: Cow::Owned(columns),
    }
}

/// samples.csv, one row per sample, sorted by sample; a sample without a
/// solution has empty totals.
pub fn samples_table(uncertainty: &Uncertainty, rows: &[SampleRow]) -> Result<Frame, SchemaMismatch> {
    let paths: Vec<String> = uncertainty.parameters.iter().map(|p| p.path.clone()).collect();
    samples_table_of(&paths, rows)
}

/// samples.csv with its parameters named by `paths`.
pub fn samples_table_of(paths: &[String], rows: &[SampleRow]) -> Result<Frame, SchemaMismatch> {
    let schema = samples_schema(paths);
    let mut table = TableBuilder::new(&schema).count("sample", rows.iter().map(|row| row.sample as u64).collect());
    for (position, path) in paths.iter().enumerate() {
        table = table.number_as_given(path, rows.iter().map(|row| row.values[position]).collect());
    }
    table = table.text("status", rows.iter().map(|row| row.status.clone()).collect());
    let totals: [fn(&SampleTotals) -> f64; 4] = [
        |t| t.private_cost_eur,
        |t| t.externality_eur,
        |t| t.firm_value_eur,
        |t| t.territory_value_eur,
    ];
    for (name, total) in TOTALS.into_iter().zip(totals) {
        table = table.optional_number(
            name,
            rows.iter()
                .map(|row| row.figures.as_ref().map(|figures| total(&figures.totals)))
                .collect(),
        );
    }
    table.finish()
}

/// sample_values.csv: one row per feasible sample, its value per subject
/// (the columns of [`subjects`]): what `merge` needs to compute
/// value_quantiles.csv again.
pub fn sample_values_schema(subject_names: &[String]) -> TableSchema {
    let mut columns = vec![Column::named("sample", Kind::Count)];
    columns.extend(
        subject_names
            .iter()
            .map(|subject| Column::named(subject.clone(), Kind::Number)),
    );
    TableSchema {
        file: SAMPLE_VALUES_CSV,
        columns: Cow::Owned(columns),
    }
}

pub fn sample_values_table(subject_names: &[String], rows: &[SampleRow]) -> Result<Frame, SchemaMismatch> {
    let schema = sample_values_schema(subject_names);
    let feasible: Vec<(usize, &Figures)> = rows
        .iter()
        .filter_map(|row| row.figures.as_ref().map(|figures| (row.sample, figures)))
        .collect();
    let mut table =
        TableBuilder::new(&schema).count("sample", feasible.iter().map(|(sample, _)| *sample as u64).collect());
    for (position, subject) in subject_names.iter().enumerate() {
        table = table.number(
            subject,
            feasible
                .iter()
                .map(|(_, figures)| figures.subject_values[position])
                .collect(),
        );
    }
    table.finish()
}

/// sample_links.csv: every link carrying flow in a feasible sample, sorted
/// by sample then ids: what `merge` needs to compute link_probability.csv
/// again.
pub static SAMPLE_LINKS: TableSchema = TableSchema {
    file: SAMPLE_LINKS_CSV,
    columns: Cow::Borrowed(&[
        Column::new("sample", Kind::Count, Read::Unread),
        Column::new("supply_flow_id", Kind::Text, Read::Unread),
        Column::new("demand_flow_id", Kind::Text, Read::Unread),
        Column::new("quantity", Kind::Number, Read::Unread),
        Column::new("used", Kind::Flag, Read::Unread),
    ]),
};

pub fn sample_links_table(rows: &[SampleRow]) -> Result<Frame, SchemaMismatch> {
    let links: Vec<(usize, &SampleLink)> = rows
        .iter()
        .filter_map(|row| row.figures.as_ref().map(|figures| (row.sample, figures)))
        .flat_map(|(sample, figures)| figures.links.iter().map(move |link| (sample, link)))
        .collect();
    TableBuilder::new(&SAMPLE_LINKS)
        .count("sample", links.iter().map(|(sample, _)| *sample as u64).collect())
        .text("supply_flow_id", links.iter().map(|(_, l)| l.supply.clone()).collect())
        .text("demand_flow_id", links.iter().map(|(_, l)| l.demand.clone()).collect())
        .number("quantity", links.iter().map(|(_, l)| l.quantity).collect())
        .flag("used", links.iter().map(|(_, l)| l.used).collect())
        .finish()
}

pub fn link_probability_table(rows: &[LinkSummary]) -> Result<Frame, SchemaMismatch> {
    let column = |position: usize| rows.iter().map(|row| row.quantity[position]).collect();
    TableBuilder::new(&LINK_PROBABILITY)
        .text("supply_flow_id", rows.iter().map(|row| row.supply.clone()).collect())
        .text("demand_flow_id", rows.iter().map(|row| row.demand.clone()).collect())
        .optional_number("share_used", rows.iter().map(|row| row.share_used).collect())
        .optional_number("quantity_mean", column(0))
        .optional_number("quantity_p05", column(1))
        .optional_number("quantity_p50", column(2))
        .optional_number("quantity_p95", column(3))
        .finish()
}

pub fn value_quantiles_table(rows: &[ValueSummary]) -> Result<Frame, SchemaMismatch> {
    let column = |position: usize| rows.iter().map(|row| row.value[position]).collect();
    TableBuilder::new(&VALUE_QUANTILES)
        .text("subject", rows.iter().map(|row| row.subject.clone()).collect())
        .optional_number("mean", column(0))
        .optional_number("p05", column(1))
        .optional_number("p50", column(2))
        .optional_number("p95", column(3))
        .finish()
}

/// uncertainty_meta.json: what `merge` needs to check that shards come
/// from one study and to put them back together.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UncertaintyMeta {
    pub inventory: String,
    /// `study::inventory_hash` of the inventory, 16 hex digits.
    pub inventory_hash: String,
    /// [`Uncertainty::hash`], 16 hex digits.
    pub uncertainty_hash: String,
    pub symbiose_version: String,
    /// The solve's options, each value as text (numbers in shortest
    /// round-trip form), so that they read back exactly.
    pub options: BTreeMap<String, String>,
    pub seed: u64,
    pub n_samples: usize,
    pub shard: String,
    /// The parameters' paths, in file order.
    pub parameters: Vec<String>,
    /// The samples this folder holds.
    pub samples: Vec<usize>,
}

impl UncertaintyMeta {
    /// The bytes of uncertainty_meta.json.
    pub fn to_json(&self) -> Result<Vec<u8>, String> {
        let mut json =
            serde_json::to_vec_pretty(self).map_err(|e| format!("{}: {e}", crate::io::outputs::UNCERTAINTY_META))?;
        json.push(b'\n');
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws `n` values of `distribution` from the streams of one parameter
    /// (seed 11), sorted.
    fn sorted_draws(distribution: Distribution, n: usize) -> (f64, Vec<f64>) {
        let mut values: Vec<f64> = (0..n)
            .map(|sample| distribution.draw(&mut Rng::stream(11, &[sample as u64, 0])))
            .collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        values.sort_by(f64::total_cmp);
        (mean, values)
    }

    /// Sample means and quantiles of 200,000 draws against the closed
    /// forms. Tolerances: the standard error of the mean is sd / sqrt(n),
    /// at most 0.3 % of the scales used here; a quantile's is of the same
    /// order; 1 % of the distribution's width (or of its value) is over
    /// three standard errors for each.
    #[test]
    fn distributions_match_their_closed_forms() {
        let n = 200_000;
        let close = |found: f64, expected: f64, scale: f64, what: &str| {
            assert!(
                (found - expected).abs() <= 0.01 * scale,
                "{what}: {found} against {expected} (scale {scale})"
            );
        };
        // Uniform(10, 30): mean 20, quantile p at 10 + 20 p.
        let (mean, sorted) = sorted_draws(Distribution::Uniform { low: 10.0, high: 30.0 }, n);
        close(mean, 20.0, 20.0, "uniform mean");
        for p in [0.05, 0.5, 0.95] {
            close(quantile(&sorted, p).unwrap(), 10.0 + 20.0 * p, 20.0, "uniform quantile");
        }
        assert!(sorted[0] >= 10.0 && sorted[n - 1] < 30.0);
        // Triangular(0, 2, 10): mean 4; F(2) = 0.2; p05 = sqrt(0.05 x 10 x 2)
        // = 1; p50 = 10 - sqrt(0.5 x 10 x 8) = 3.675; p95 = 10 - sqrt(0.05 x 80) = 8.
        let (mean, sorted) = sorted_draws(
            Distribution::Triangular {
                low: 0.0,
                mode: 2.0,
                high: 10.0,
            },
            n,
        );
        close(mean, 4.0, 10.0, "triangular mean");
        close(quantile(&sorted, 0.05).unwrap(), 1.0, 10.0, "triangular p05");
        close(
            quantile(&sorted, 0.5).unwrap(),
            10.0 - 40f64.sqrt(),
            10.0,
            "triangular p50",
        );
        close(quantile(&sorted, 0.95).unwrap(), 8.0, 10.0, "triangular p95");
        // Normal(100, 10) truncated at zero: the truncation (10 sd away) is
        // invisible; mean 100, p05 = 100 - 16.449, p95 = 100 + 16.449.
        let (mean, sorted) = sorted_draws(Distribution::Normal { mean: 100.0, sd: 10.0 }, n);
        close(mean, 100.0, 10.0, "normal mean");
        close(quantile(&sorted, 0.05).unwrap(), 100.0 - 16.448_536, 10.0, "normal p05");
        close(quantile(&sorted, 0.5).unwrap(), 100.0, 10.0, "normal p50");
        close(quantile(&sorted, 0.95).unwrap(), 100.0 + 16.448_536, 10.0, "normal p95");
        // Normal(0, 2) truncated at zero is a half-normal: mean 2 sqrt(2/pi),
        // median 2 x 0.674490, p95 2 x 1.959964; nothing below zero.
        let (mean, sorted) = sorted_draws(Distribution::Normal { mean: 0.0, sd: 2.0 }, n);
        assert!(sorted[0] >= 0.0);
        close(mean, 2.0 * (2.0 / std::f64::consts::PI).sqrt(), 2.0, "half-normal mean");
        close(quantile(&sorted, 0.5).unwrap(), 2.0 * 0.674_490, 2.0, "half-normal p50");
        close(
            quantile(&sorted, 0.95).unwrap(),
            2.0 * 1.959_964,
            2.0,
            "half-normal p95",
        );
        // Lognormal(median 50, gsd 1.5): mean 50 exp(ln(1.5)^2 / 2),
        // quantile p at 50 x 1.5^z_p.
        let (mean, sorted) = sorted_draws(Distribution::Lognormal { median: 50.0, gsd: 1.5 }, n);
        let sigma = 1.5f64.ln();
        close(mean, 50.0 * (sigma * sigma / 2.0).exp(), 50.0, "lognormal mean");
        close(
            quantile(&sorted, 0.05).unwrap(),
            50.0 * 1.5f64.powf(-1.644_854),
            50.0,
            "lognormal p05",
        );
        close(quantile(&sorted, 0.5).unwrap(), 50.0, 50.0, "lognormal p50");
        close(
            quantile(&sorted, 0.95).unwrap(),
            50.0 * 1.5f64.powf(1.644_854),
            50.0,
            "lognormal p95",
        );
    }

    #[test]
    fn zero_width_distributions_give_their_value_exactly() {
        let value = 0.1 + 0.2;
        for distribution in [
            Distribution::Uniform {
                low: value,
                high: value,
            },
            Distribution::Triangular {
                low: value,
                mode: value,
                high: value,
            },
            Distribution::Normal { mean: value, sd: 0.0 },
            Distribution::Lognormal {
                median: value,
                gsd: 1.0,
            },
        ] {
            for sample in 0..100 {
                assert_eq!(
                    distribution.draw(&mut Rng::stream(3, &[sample, 0])),
                    value,
                    "{distribution:?}"
                );
            }
        }
    }

    /// Type 7 on a hand-computed case: sorted 1, 2, 3, 4, 10; h = 4 p.
    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&sorted, 0.0), Some(1.0));
        assert_eq!(quantile(&sorted, 0.5), Some(3.0));
        // h = 3.8: 4 + 0.8 x 6 = 8.8.
        assert!((quantile(&sorted, 0.95).unwrap() - 8.8).abs() < 1e-12);
        // h = 0.2: 1 + 0.2 x 1 = 1.2.
        assert!((quantile(&sorted, 0.05).unwrap() - 1.2).abs() < 1e-12);
        assert_eq!(quantile(&sorted, 1.0), Some(10.0));
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
