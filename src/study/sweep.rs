//! Sweeps: the grid of a study's `[[vary]]` values, its shards, solving
//! its points in parallel, and the tables and metadata a sweep writes.
//!
//! Owns: the grid methods of [`Study`], [`Shard`], [`check_grid`],
//! [`solve_point`], [`run_sweep`], [`SweepRow`], sweep.csv
//! ([`sweep_table`], [`sweep_csv`]) and sweep_meta.json ([`SweepMeta`]).
//!
//! Invariant: a scenario's row depends only on the study and its grid
//! index, never on the thread that solved it, so a sweep, its shards merged
//! back, and any thread count give the same bytes.

use std::borrow::Cow;

use rayon::prelude::*;
use serde::Deserialize;

use super::file::{ScenarioError, Study};
use super::parameter::{with_parameters, Parameter};
use crate::candidates::candidate_links;
use crate::io::outputs::SWEEP_CSV;
use crate::io::{csv_bytes, Frame, Kind};
use crate::model::Inventory;
use crate::progress::Progress;
use crate::report::schema::{Column, SchemaMismatch, TableBuilder, TableSchema};
use crate::solve::{Reuse, SolveError, WarmStart};
use crate::value::Valuation;
use crate::value::{optimize_inventory, optimize_inventory_reusing, optimize_inventory_warm};

impl Study {
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
        let settings: Vec<(Parameter, f64)> = self
            .vary
            .iter()
            .zip(self.point(index))
            .map(|((_, parameter, _), value)| (*parameter, value))
            .collect();
        with_parameters(&self.base, self.supplier_share, &settings).map_err(|(position, message)| {
            ScenarioError::new(
                self.file.clone(),
                format!("[[vary]] {}: {message}", self.vary[position].0),
            )
        })
    }
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

/// How a grid point's solve starts: from scratch, from a worker's kept
/// model ([`WarmStart`], `--warm-start`), or from the base inventory's
/// solve, re-solving only the parts the point changes ([`Reuse`]).
pub enum Start<'a> {
    Cold,
    Warm(&'a mut WarmStart),
    Base(&'a Reuse),
}

/// Solves one grid point with one HiGHS thread, started as `start` says.
pub fn solve_point(study: &Study, scenario: usize, start: Start) -> Result<SweepRow, ScenarioError> {
    let (inventory, share) = study.instance(scenario)?;
    let values = study.point(scenario);
    let options = study.solve_options(Some(1));
    let result = match start {
        Start::Cold => optimize_inventory(&inventory, &options, share),
        Start::Warm(warm) => optimize_inventory_warm(&inventory, &options, share, warm),
        Start::Base(reuse) => optimize_inventory_reusing(&inventory, &options, share, reuse),
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
/// current rayon pool, reporting to `progress`. Each point is a what-if of
/// the base inventory's solve (one solve first, in every shard), whose
/// parts it does not change it keeps ([`Reuse`]): a point's row depends on
/// the study and the point alone, whatever the shard or the thread. With
/// `warm_start`, each worker keeps its whole HiGHS model from one scenario
/// to the next instead (see [`WarmStart`] for what that may change).
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
    // A base that does not solve leaves every point to solve cold (and
    // report its own status).
    let base_options = study.solve_options(Some(1));
    let reuse = (!warm_start)
        .then(|| Reuse::solve(&study.base, &candidate_links(&study.base), &base_options).ok())
        .flatten()
        .map(|(_, reuse)| reuse);
    progress.start(n_in_run, "scenarios");
    let rows: Result<Vec<SweepRow>, ScenarioError> = (0..n_in_run)
        .into_par_iter()
        .map_init(WarmStart::default, |warm, position| {
            let start = match (&reuse, warm_start) {
                (_, true) => Start::Warm(warm),
                (Some(reuse), false) => Start::Base(reuse),
                (None, false) => Start::Cold,
            };
            let row = solve_point(study, shard.scenario(position), start);
            progress.advance(1);
            row
        })
        .collect();
    progress.finish();
    rows
}

/// sweep.csv's columns: scenario, the varied parameters (each named by
/// its path), status, the totals, n_links, `mip_gap` when the study has
/// investments, and `avoided_<category>` for every category.
pub fn sweep_schema(study: &Study) -> TableSchema {
    let mut columns = vec![Column::named("scenario", Kind::Count)];
    columns.extend(
        study
            .vary
            .iter()
            .map(|(path, _, _)| Column::named(path.clone(), Kind::Number)),
    );
    columns.push(Column::named("status", Kind::Text));
    for total in TOTALS {
        columns.push(Column::named(total, Kind::OptionalNumber));
    }
    columns.push(Column::named("n_links", Kind::OptionalCount));
    if study.has_investments() {
        columns.push(Column::named("mip_gap", Kind::OptionalNumber));
    }
    columns.extend(
        study
            .base
            .categories()
            .iter()
            .map(|category| Column::named(format!("avoided_{}", category.id), Kind::OptionalNumber)),
    );
    TableSchema {
        file: SWEEP_CSV,
        columns: Cow::Owned(columns),
    }
}

/// sweep.csv's totals, in column order.
const TOTALS: [&str; 4] = [
    "private_cost_eur",
    "externality_eur",
    "firm_value_eur",
    "territory_value_eur",
];

/// sweep.csv as a table ([`sweep_schema`]), sorted by scenario; the
/// figures of a scenario without a solution are empty.
pub fn sweep_table(study: &Study, rows: &[SweepRow]) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<&SweepRow> = rows.iter().collect();
    rows.sort_by_key(|row| row.scenario);
    let metric = |f: &dyn Fn(&Metrics) -> f64| -> Vec<Option<f64>> {
        rows.iter()
            .map(|row| row.metrics.as_ref().map(|m| f(m) + 0.0))
            .collect()
    };
    let schema = sweep_schema(study);
    let mut table = TableBuilder::new(&schema).count("scenario", rows.iter().map(|row| row.scenario as u64).collect());
    for (position, (path, _, _)) in study.vary.iter().enumerate() {
        table = table.number_as_given(path, rows.iter().map(|row| row.values[position]).collect());
    }
    let totals: [&dyn Fn(&Metrics) -> f64; 4] = [
        &|m| m.private_cost_eur,
        &|m| m.externality_eur,
        &|m| m.firm_value_eur,
        &|m| m.territory_value_eur,
    ];
    table = table.text("status", rows.iter().map(|row| row.status.clone()).collect());
    for (name, total) in TOTALS.into_iter().zip(totals) {
        table = table.optional_number(name, metric(total));
    }
    table = table.optional_count(
        "n_links",
        rows.iter()
            .map(|row| row.metrics.as_ref().map(|m| m.n_links as u64))
            .collect(),
    );
    if study.has_investments() {
        table = table.optional_number(
            "mip_gap",
            rows.iter()
                .map(|row| row.metrics.as_ref().and_then(|m| m.mip_gap))
                .collect(),
        );
    }
    for (position, category) in study.base.categories().iter().enumerate() {
        table = table.optional_number(&format!("avoided_{}", category.id), metric(&|m| m.avoided[position]));
    }
    table.finish()
}

/// The bytes of sweep.csv.
pub fn sweep_csv(study: &Study, rows: &[SweepRow]) -> Result<Vec<u8>, String> {
    let frame = sweep_table(study, rows).map_err(|e| e.to_string())?;
    csv_bytes(&frame).map_err(|e| e.to_string())
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

    /// sweep.csv, resilience.csv and pareto.csv through their schemas: a
    /// column out of order or of another kind fails here.
    #[test]
    fn every_study_table_follows_its_schema() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/scenarios/carbon-value.toml");
        let study = crate::study::load_study(&path).unwrap();
        let n_categories = study.base.categories().len();
        let solved = SweepRow {
            scenario: 1,
            values: vec![54.0],
            status: "optimal".to_string(),
            metrics: Some(Metrics {
                private_cost_eur: -0.0,
                externality_eur: 2.0,
                firm_value_eur: 3.0,
                territory_value_eur: 4.0,
                n_links: 5,
                avoided: vec![1.0; n_categories],
                mip_gap: None,
            }),
        };
        let failed = SweepRow {
            scenario: 0,
            values: vec![0.0],
            status: "infeasible".to_string(),
            metrics: None,
        };
        let csv = String::from_utf8(sweep_csv(&study, &[solved, failed]).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("scenario,externality.co2e_t,status,private_cost_eur,externality_eur,firm_value_eur,territory_value_eur,n_links,avoided_"),
            "{csv}"
        );
        assert!(lines[1].starts_with("0,0.0,infeasible,,,,,,"), "{csv}");
        assert!(lines[2].starts_with("1,54.0,optimal,0.0,2.0,3.0,4.0,5,1.0"), "{csv}");

        let inventory = &study.base;
        let firm = crate::model::FirmIdx(0);
        let resilience = crate::study::ResilienceRow {
            firm,
            territory_value_eur: 1.0,
            territory_value_lost_eur: -0.0,
            firm_value_lost_eur: 2.0,
            links_lost: 3,
            firms_affected: 4,
        };
        let frame = crate::study::resilience_table(inventory, &[resilience]).unwrap();
        assert_eq!(
            String::from_utf8(csv_bytes(&frame).unwrap()).unwrap(),
            format!(
                "firm_id,territory_value_eur,territory_value_lost_eur,firm_value_lost_eur,links_lost,firms_affected\n{},1.0,0.0,2.0,3,4\n",
                inventory.firm(firm).id
            )
        );
        let point = crate::study::ParetoPoint {
            private_cost_eur: 1.0,
            externality_eur: -0.0,
        };
        let front = crate::study::ParetoFront {
            points: vec![point],
            private_optimum: point,
            externalities_optimum: point,
            social_optimum: point,
        };
        let frame = crate::study::pareto_table(&front).unwrap();
        assert_eq!(
            String::from_utf8(csv_bytes(&frame).unwrap()).unwrap(),
            "private_cost_eur,externality_eur\n1.0,0.0\n"
        );
    }
}
