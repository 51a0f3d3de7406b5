//! What the user reads: the five tables of docs/model.md A5 (summary.json,
//! links.csv, flow_results.csv, firm_values.csv, territory_values.csv) and
//! the short summary printed on screen.
//!
//! Invariant: rows are sorted by their id columns and numbers are written
//! with Rust's and polars' shortest round-trip formatting, so the same
//! input gives the same bytes (summary.json's `solve_seconds` aside, which
//! measures the run).

pub mod chart;
pub mod geojson;
pub mod html;
pub mod profile;
pub mod read;
pub mod results;

use polars::prelude::*;
use serde::Serialize;

use crate::candidates::Link;
use crate::io::outputs::{self, Table};
use crate::model::units::to_flow_unit;
use crate::model::Inventory;
use crate::solve::{Objective, SolutionStatus};
use crate::value::{Totals, Valuation};

/// Facts about the run that the valuation does not hold.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub inventory: String,
    pub objective: Objective,
    pub status: SolutionStatus,
    pub solve_seconds: f64,
    pub n_candidate_links: usize,
    /// Binaries of docs/model.md B4 in the model (0 for an LP).
    pub n_binaries: usize,
    /// The MIP's relative gap, when there are binaries.
    pub mip_gap: Option<f64>,
    /// The options the run was given (summary.json `options`).
    pub options: RunOptions,
}

/// The options a run was given, recorded in summary.json as `options` so
/// that a results folder says how it was computed. `None` (JSON `null`)
/// stands for the default: HiGHS's own choice of algorithm and MIP gap, no
/// time limit, every candidate link kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOptions {
    pub objective: &'static str,
    /// See `lp::SolveOptions::lexicographic_slack` (unused by `social`).
    pub lexicographic_slack: f64,
    pub supplier_share: f64,
    /// `--max-candidates`: the K cheapest candidate links kept per supply.
    pub max_candidates: Option<usize>,
    /// `--solver`: `auto`, `simplex` or `ipm`.
    pub solver: Option<&'static str>,
    pub time_limit_seconds: Option<f64>,
    /// `--mip-gap`, the gap asked for (the top-level `mip_gap` is the gap reached).
    pub mip_gap: Option<f64>,
    /// `equal` or `shapley`.
    pub allocation: &'static str,
    /// Permutations sampled for Shapley values (with `shapley` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shapley_samples: Option<usize>,
}

impl RunOptions {
    /// What an optimal solution is optimal over when the candidate links
    /// were cut down (`--max-candidates`): `None` when every link was kept.
    pub fn optimal_over(&self) -> Option<String> {
        self.max_candidates
            .map(|k| format!("kept links (max_candidates = {k})"))
    }
}

/// A shared service in summary.json (docs/model.md B2 across the slices of B1).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub resource: String,
    pub unit: String,
    /// Sum of the demands' peaks, in resource units per hour.
    pub peak_without_sharing_per_hour: f64,
    pub peak_with_sharing_per_hour: f64,
    pub capacity_saved_per_hour: f64,
    pub delivered: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compensation {
    pub firm_id: String,
    pub compensation_needed_eur: f64,
}

/// The content of summary.json (docs/model.md A5, plus the documented additions).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub objective: &'static str,
    pub status: &'static str,
    /// False when the time limit stopped the solver first.
    pub proven_optimal: bool,
    /// With `--max-candidates`, an `optimal` status is the optimum over the
    /// links kept, not over every candidate: `kept links (max_candidates = K)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimal_over: Option<String>,
    pub supplier_share: f64,
    pub baseline: Totals,
    pub optimized: Totals,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
    pub territory_value_global_eur: f64,
    pub territory_value_local_eur: f64,
    pub n_links: usize,
    pub n_candidate_links: usize,
    pub n_firms: usize,
    pub n_flows: usize,
    pub firms_needing_compensation: Vec<Compensation>,
    pub solve_seconds: f64,
    pub inventory: String,
    pub symbiose_version: &'static str,
    pub options: RunOptions,
    /// docs/model.md Part B, present only when the inventory uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_slices: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_processes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_binaries: Option<usize>,
    /// Relative MIP gap (the largest over the MILP stages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mip_gap: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceSummary>>,
    /// The other files of the set, sorted (set by `app::optimize_and_write`
    /// from `outputs`): what `symbiose report` reads.
    pub files: Vec<String>,
}

pub fn summary(inventory: &Inventory, valuation: &Valuation, info: &RunInfo) -> Summary {
    let mut firms_needing_compensation: Vec<Compensation> = valuation
        .firms_needing_compensation()
        .map(|firm| Compensation {
            firm_id: inventory.firm(firm.firm).id.clone(),
            compensation_needed_eur: firm.compensation_needed_eur,
        })
        .collect();
    firms_needing_compensation.sort_by(|a, b| a.firm_id.cmp(&b.firm_id));
    Summary {
        objective: info.objective.as_str(),
        status: info.status.as_str(),
        proven_optimal: info.status == SolutionStatus::Optimal,
        optimal_over: info
            .options
            .optimal_over()
            .filter(|_| info.status == SolutionStatus::Optimal),
        supplier_share: valuation.supplier_share,
        baseline: valuation.baseline,
        optimized: valuation.optimized,
        firm_value_eur: valuation.firm_value_eur,
        territory_value_eur: valuation.territory_value_eur,
        territory_value_global_eur: valuation.territory_value_global_eur,
        territory_value_local_eur: valuation.territory_value_local_eur,
        n_links: valuation.links.len(),
        n_candidate_links: info.n_candidate_links,
        n_firms: inventory.firms().len(),
        n_flows: inventory.flows().len(),
        firms_needing_compensation,
        solve_seconds: info.solve_seconds,
        inventory: info.inventory.clone(),
        symbiose_version: env!("CARGO_PKG_VERSION"),
        options: info.options.clone(),
        n_slices: inventory.slices_given().then_some(inventory.slices().len()),
        n_processes: (!inventory.processes().is_empty()).then_some(inventory.processes().len()),
        n_binaries: (info.n_binaries > 0).then_some(info.n_binaries),
        mip_gap: info.mip_gap.filter(|_| info.n_binaries > 0),
        services: (inventory.slices_given() && !valuation.services.is_empty()).then(|| {
            valuation
                .services
                .iter()
                .map(|service| {
                    let resource = inventory.resource(service.resource);
                    ServiceSummary {
                        resource: resource.id.clone(),
                        unit: resource.unit.clone(),
                        peak_without_sharing_per_hour: service.peak_without_sharing,
                        peak_with_sharing_per_hour: service.peak_with_sharing,
                        capacity_saved_per_hour: service.peak_saved,
                        delivered: service.delivered,
                        firm_value_eur: service.firm_value_eur,
                        territory_value_eur: service.territory_value_eur,
                    }
                })
                .collect()
        }),
        files: Vec::new(),
    }
}

fn text_column(name: &str, values: Vec<String>) -> Column {
    Column::new(name.into(), values)
}

fn optional_text_column(name: &str, values: Vec<Option<String>>) -> Column {
    Column::new(name.into(), values)
}

fn number_column(name: &str, mut values: Vec<f64>) -> Column {
    // Adding +0.0 turns -0.0 into 0.0, so no table shows a negative zero.
    for value in &mut values {
        *value += 0.0;
    }
    Column::new(name.into(), values)
}

fn count_column(name: &str, values: Vec<u64>) -> Column {
    Column::new(name.into(), values)
}

/// links.csv: the links in use, sorted by (supply_flow_id, demand_flow_id).
pub fn links_table(inventory: &Inventory, links: &[Link], valuation: &Valuation) -> PolarsResult<DataFrame> {
    let mut rows: Vec<_> = valuation.links.iter().collect();
    rows.sort_by(|a, b| {
        (&inventory.flow(a.supply).id, &inventory.flow(a.demand).id)
            .cmp(&(&inventory.flow(b.supply).id, &inventory.flow(b.demand).id))
    });
    let supply = |row: &&crate::value::LinkValue| inventory.flow(row.supply);
    let demand = |row: &&crate::value::LinkValue| inventory.flow(row.demand);
    DataFrame::new_infer_height(vec![
        text_column("supply_flow_id", rows.iter().map(|r| supply(r).id.clone()).collect()),
        text_column("demand_flow_id", rows.iter().map(|r| demand(r).id.clone()).collect()),
        text_column(
            "supplier_firm_id",
            rows.iter().map(|r| inventory.firm(supply(r).firm).id.clone()).collect(),
        ),
        text_column(
            "receiver_firm_id",
            rows.iter().map(|r| inventory.firm(demand(r).firm).id.clone()).collect(),
        ),
        text_column(
            "supply_resource",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).id.clone())
                .collect(),
        ),
        text_column(
            "demand_resource",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).id.clone())
                .collect(),
        ),
        number_column("distance_km", rows.iter().map(|r| r.distance_km).collect()),
        number_column("quantity", rows.iter().map(|r| r.quantity).collect()),
        number_column("delivered", rows.iter().map(|r| r.delivered).collect()),
        number_column("unit_cost_eur", rows.iter().map(|r| r.unit_cost_eur).collect()),
        number_column("surplus_eur", rows.iter().map(|r| r.surplus_eur).collect()),
        number_column(
            "supplier_value_eur",
            rows.iter().map(|r| r.supplier_value_eur).collect(),
        ),
        number_column(
            "receiver_value_eur",
            rows.iter().map(|r| r.receiver_value_eur).collect(),
        ),
        number_column(
            "externality_avoided_eur",
            rows.iter().map(|r| r.externality_avoided_eur).collect(),
        ),
        number_column(
            "unit_externality_eur",
            rows.iter()
                .map(|r| inventory.monetise(&links[r.link].unit_impacts))
                .collect(),
        ),
        // Additions for the report and GIS users (README, "Additions to the model").
        text_column(
            "supply_category",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).category.as_str().to_string())
                .collect(),
        ),
        text_column(
            "demand_category",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).category.as_str().to_string())
                .collect(),
        ),
        text_column(
            "supply_unit",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).unit.clone())
                .collect(),
        ),
        text_column(
            "demand_unit",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).unit.clone())
                .collect(),
        ),
    ])
}

/// flow_results.csv: every flow, quantities in the flow's own unit, sorted by flow_id.
pub fn flow_results_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    let mut rows: Vec<_> = valuation.flows.iter().collect();
    rows.sort_by(|a, b| inventory.flow(a.flow).id.cmp(&inventory.flow(b.flow).id));
    let flow = |row: &&crate::value::FlowValue| inventory.flow(row.flow);
    DataFrame::new_infer_height(vec![
        text_column("flow_id", rows.iter().map(|r| flow(r).id.clone()).collect()),
        text_column(
            "firm_id",
            rows.iter().map(|r| inventory.firm(flow(r).firm).id.clone()).collect(),
        ),
        text_column("kind", rows.iter().map(|r| flow(r).kind.as_str().to_string()).collect()),
        text_column(
            "resource",
            rows.iter()
                .map(|r| inventory.resource(flow(r).resource).id.clone())
                .collect(),
        ),
        text_column("unit", rows.iter().map(|r| flow(r).unit.clone()).collect()),
        number_column(
            "quantity",
            rows.iter()
                .map(|r| to_flow_unit(r.quantity, flow(r).unit_factor))
                .collect(),
        ),
        number_column(
            "matched",
            rows.iter()
                .map(|r| to_flow_unit(r.matched, flow(r).unit_factor))
                .collect(),
        ),
        // Empty for a process input and for a service supply given no route.
        optional_text_column(
            "fallback",
            rows.iter()
                .map(|r| flow(r).fallback.map(|route| inventory.route(route).id.clone()))
                .collect(),
        ),
        number_column(
            "fallback_quantity",
            rows.iter()
                .map(|r| to_flow_unit(r.fallback_quantity, flow(r).unit_factor))
                .collect(),
        ),
        // Per unit of the flow's own unit: EUR per resource unit * resource units per flow unit.
        number_column(
            "shadow_price_eur_per_unit",
            rows.iter()
                .map(|r| r.shadow_price_eur_per_unit * flow(r).unit_factor)
                .collect(),
        ),
    ])
}

/// firm_values.csv: every firm, sorted by firm_id.
pub fn firm_values_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    let mut rows: Vec<_> = valuation.firms.iter().collect();
    rows.sort_by(|a, b| inventory.firm(a.firm).id.cmp(&inventory.firm(b.firm).id));
    DataFrame::new_infer_height(vec![
        text_column(
            "firm_id",
            rows.iter().map(|r| inventory.firm(r.firm).id.clone()).collect(),
        ),
        text_column(
            "name",
            rows.iter().map(|r| inventory.firm(r.firm).name.clone()).collect(),
        ),
        number_column("baseline_cost_eur", rows.iter().map(|r| r.baseline_cost_eur).collect()),
        number_column(
            "optimized_cost_eur",
            rows.iter().map(|r| r.optimized_cost_eur).collect(),
        ),
        number_column("value_eur", rows.iter().map(|r| r.value_eur).collect()),
        number_column(
            "compensation_needed_eur",
            rows.iter().map(|r| r.compensation_needed_eur).collect(),
        ),
        count_column("n_links", rows.iter().map(|r| r.n_links as u64).collect()),
        // Additions for the map and GIS users (README, "Additions to the model").
        number_column("lat", rows.iter().map(|r| inventory.firm(r.firm).lat).collect()),
        number_column("lon", rows.iter().map(|r| inventory.firm(r.firm).lon).collect()),
        optional_text_column(
            "sector",
            rows.iter().map(|r| inventory.firm(r.firm).sector.clone()).collect(),
        ),
        optional_text_column(
            "zone",
            rows.iter().map(|r| inventory.firm(r.firm).zone.clone()).collect(),
        ),
    ])
}

/// territory_values.csv: every externality category, sorted by category.
pub fn territory_values_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    let rows = &valuation.categories;
    let category = |row: &crate::value::CategoryValue| inventory.category(row.category);
    DataFrame::new_infer_height(vec![
        text_column("category", rows.iter().map(|r| category(r).id.clone()).collect()),
        text_column("unit", rows.iter().map(|r| category(r).unit.clone()).collect()),
        text_column(
            "scope",
            rows.iter().map(|r| category(r).scope.as_str().to_string()).collect(),
        ),
        number_column("baseline", rows.iter().map(|r| r.baseline).collect()),
        number_column("optimized", rows.iter().map(|r| r.optimized).collect()),
        number_column("avoided", rows.iter().map(|r| r.avoided).collect()),
        number_column(
            "value_eur_per_unit",
            rows.iter().map(|r| category(r).value_eur_per_unit).collect(),
        ),
        number_column("value_eur", rows.iter().map(|r| r.value_eur).collect()),
    ])
}

/// The four result tables, each with its registry entry.
pub fn result_tables(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
) -> PolarsResult<Vec<(Table, DataFrame)>> {
    Ok(vec![
        (outputs::LINKS, links_table(inventory, links, valuation)?),
        (outputs::FLOW_RESULTS, flow_results_table(inventory, valuation)?),
        (outputs::FIRM_VALUES, firm_values_table(inventory, valuation)?),
        (outputs::TERRITORY_VALUES, territory_values_table(inventory, valuation)?),
    ])
}

fn flag_column(name: &str, values: Vec<bool>) -> Column {
    Column::new(name.into(), values)
}

/// The tables docs/model.md Part B adds, named as their files, each only when
/// the inventory uses that part: processes.csv and investments.csv (B3,
/// B4), flow_slices.csv and link_slices.csv (B1, with slices.csv),
/// services.csv (B2 across slices).
pub fn part_b_tables(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
) -> PolarsResult<Vec<(Table, DataFrame)>> {
    let mut tables = Vec::new();
    if !valuation.processes.is_empty() {
        tables.push((outputs::PROCESSES, processes_table(inventory, valuation)?));
    }
    if !valuation.investments.is_empty() {
        tables.push((outputs::INVESTMENTS, investments_table(inventory, links, valuation)?));
    }
    if inventory.slices_given() {
        tables.push((outputs::FLOW_SLICES, flow_slices_table(inventory, valuation)?));
        tables.push((outputs::LINK_SLICES, link_slices_table(inventory, links, valuation)?));
        if !valuation.services.is_empty() {
            tables.push((outputs::SERVICES, services_table(inventory, valuation)?));
        }
    }
    Ok(tables)
}

/// processes.csv: every process, sorted by process_id.
pub fn processes_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    // Processes are sorted by id in the inventory.
    let rows = &valuation.processes;
    let process = |row: &crate::value::ProcessValue| inventory.process(row.process);
    DataFrame::new_infer_height(vec![
        text_column("process_id", rows.iter().map(|r| process(r).id.clone()).collect()),
        text_column(
            "firm_id",
            rows.iter()
                .map(|r| inventory.firm(process(r).firm).id.clone())
                .collect(),
        ),
        number_column("activity", rows.iter().map(|r| r.activity).collect()),
        Column::new(
            "capacity".into(),
            rows.iter().map(|r| process(r).capacity).collect::<Vec<Option<f64>>>(),
        ),
        flag_column("built", rows.iter().map(|r| r.built).collect()),
        number_column(
            "operating_cost_eur",
            rows.iter().map(|r| r.operating_cost_eur).collect(),
        ),
        number_column("fixed_cost_eur", rows.iter().map(|r| r.fixed_cost_eur).collect()),
        number_column(
            "output_fallback_cost_eur",
            rows.iter().map(|r| r.output_fallback_cost_eur).collect(),
        ),
        number_column("cost_borne_eur", rows.iter().map(|r| r.cost_borne_eur).collect()),
        number_column("externality_eur", rows.iter().map(|r| r.externality_eur).collect()),
    ])
}

/// investments.csv: every link and process with a fixed cost, built or
/// not, sorted by kind then id (a link's id is supply_flow_id>demand_flow_id).
pub fn investments_table(inventory: &Inventory, links: &[Link], valuation: &Valuation) -> PolarsResult<DataFrame> {
    use crate::value::Investment;
    let mut rows: Vec<(String, String, String, f64, &crate::value::InvestmentValue)> = valuation
        .investments
        .iter()
        .map(|row| match row.investment {
            Investment::Link(position) => {
                let link = &links[position];
                let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
                (
                    "link".to_string(),
                    format!("{}>{}", supply.id, demand.id),
                    format!("{}>{}", inventory.firm(supply.firm).id, inventory.firm(demand.firm).id),
                    link.distance_km,
                    row,
                )
            }
            Investment::Process(process) => {
                let process = inventory.process(process);
                (
                    "process".to_string(),
                    process.id.clone(),
                    inventory.firm(process.firm).id.clone(),
                    0.0,
                    row,
                )
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    DataFrame::new_infer_height(vec![
        text_column("kind", rows.iter().map(|r| r.0.clone()).collect()),
        text_column("id", rows.iter().map(|r| r.1.clone()).collect()),
        text_column("firm_ids", rows.iter().map(|r| r.2.clone()).collect()),
        number_column("distance_km", rows.iter().map(|r| r.3).collect()),
        number_column(
            "fixed_cost_eur_per_year",
            rows.iter().map(|r| r.4.fixed_cost_eur_per_year).collect(),
        ),
        flag_column("built", rows.iter().map(|r| r.4.built).collect()),
        number_column("quantity", rows.iter().map(|r| r.4.quantity).collect()),
    ])
}

/// flow_slices.csv: every flow in every slice, quantities in the flow's own
/// unit, sorted by flow_id then slice (in the order of slices.csv).
pub fn flow_slices_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    let mut rows: Vec<_> = valuation.flow_slices.iter().collect();
    rows.sort_by(|a, b| (&inventory.flow(a.flow).id, a.slice).cmp(&(&inventory.flow(b.flow).id, b.slice)));
    let flow = |row: &&crate::value::FlowSliceValue| inventory.flow(row.flow);
    let slice = |row: &&crate::value::FlowSliceValue| &inventory.slices()[row.slice.index()];
    DataFrame::new_infer_height(vec![
        text_column("flow_id", rows.iter().map(|r| flow(r).id.clone()).collect()),
        text_column("slice", rows.iter().map(|r| slice(r).id.clone()).collect()),
        number_column("hours", rows.iter().map(|r| slice(r).hours).collect()),
        text_column("unit", rows.iter().map(|r| flow(r).unit.clone()).collect()),
        number_column(
            "quantity",
            rows.iter()
                .map(|r| to_flow_unit(r.quantity, flow(r).unit_factor))
                .collect(),
        ),
        number_column(
            "matched",
            rows.iter()
                .map(|r| to_flow_unit(r.matched, flow(r).unit_factor))
                .collect(),
        ),
        number_column(
            "fallback_quantity",
            rows.iter()
                .map(|r| to_flow_unit(r.fallback_quantity, flow(r).unit_factor))
                .collect(),
        ),
        number_column(
            "shadow_price_eur_per_unit",
            rows.iter()
                .map(|r| r.shadow_price_eur_per_unit * flow(r).unit_factor)
                .collect(),
        ),
    ])
}

/// link_slices.csv: every link in use in every slice, sorted by
/// (supply_flow_id, demand_flow_id) then slice.
pub fn link_slices_table(inventory: &Inventory, links: &[Link], valuation: &Valuation) -> PolarsResult<DataFrame> {
    let mut rows: Vec<_> = valuation.link_slices.iter().collect();
    let ids = |row: &crate::value::LinkSliceValue| {
        let link = &links[row.link];
        (
            &inventory.flow(link.supply).id,
            &inventory.flow(link.demand).id,
            row.slice,
        )
    };
    rows.sort_by(|a, b| ids(a).cmp(&ids(b)));
    DataFrame::new_infer_height(vec![
        text_column(
            "supply_flow_id",
            rows.iter()
                .map(|r| inventory.flow(links[r.link].supply).id.clone())
                .collect(),
        ),
        text_column(
            "demand_flow_id",
            rows.iter()
                .map(|r| inventory.flow(links[r.link].demand).id.clone())
                .collect(),
        ),
        text_column(
            "slice",
            rows.iter()
                .map(|r| inventory.slices()[r.slice.index()].id.clone())
                .collect(),
        ),
        number_column("quantity", rows.iter().map(|r| r.quantity).collect()),
        number_column("delivered", rows.iter().map(|r| r.delivered).collect()),
    ])
}

/// services.csv: each service resource some demand wants, sorted by resource.
pub fn services_table(inventory: &Inventory, valuation: &Valuation) -> PolarsResult<DataFrame> {
    let rows = &valuation.services;
    let resource = |row: &crate::value::ServiceValue| inventory.resource(row.resource);
    DataFrame::new_infer_height(vec![
        text_column("resource", rows.iter().map(|r| resource(r).id.clone()).collect()),
        text_column("unit", rows.iter().map(|r| resource(r).unit.clone()).collect()),
        count_column("n_demands", rows.iter().map(|r| r.n_demands as u64).collect()),
        count_column(
            "n_shared_supplies",
            rows.iter().map(|r| r.n_shared_supplies as u64).collect(),
        ),
        number_column(
            "peak_without_sharing_per_hour",
            rows.iter().map(|r| r.peak_without_sharing).collect(),
        ),
        number_column(
            "peak_with_sharing_per_hour",
            rows.iter().map(|r| r.peak_with_sharing).collect(),
        ),
        number_column("capacity_saved_per_hour", rows.iter().map(|r| r.peak_saved).collect()),
        number_column("delivered", rows.iter().map(|r| r.delivered).collect()),
        number_column("firm_value_eur", rows.iter().map(|r| r.firm_value_eur).collect()),
        number_column(
            "territory_value_eur",
            rows.iter().map(|r| r.territory_value_eur).collect(),
        ),
    ])
}

/// How a capacity per hour reads: a unit `x_h` (x-hours) per hour is `xs`
/// (space_h per hour: spaces), any other unit `unit/h`.
pub fn per_hour_unit(unit: &str) -> String {
    match unit.strip_suffix("_h") {
        Some(thing) if !thing.is_empty() => format!("{thing}s"),
        _ => format!("{unit}/h"),
    }
}

/// `count` and its noun, singular for 1 and plural otherwise: `1 firm`,
/// `0 firms`, `2 firms` (the model's helper, which input messages use too).
pub use crate::model::table::counted;

/// Formats a money amount as whole euros with thin grouping: `-1 234 567`.
pub fn euros(amount: f64) -> String {
    let rounded = amount.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let mut grouped = String::new();
    for (position, ch) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if negative && grouped != "0" {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// The short summary printed after `optimize`.
pub fn human_summary(inventory: &Inventory, valuation: &Valuation, summary: &Summary, top: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let status = match (summary.status, &summary.optimal_over) {
        ("optimal", None) => "optimal".to_string(),
        ("optimal", Some(over)) => {
            format!("optimal over the {over}: the optimum over every candidate link may be better")
        }
        (other, _) => format!("{other} (NOT proven optimal: the best solution found is reported)"),
    };
    let _ = writeln!(
        out,
        "symbiose: {} | objective {} | {}",
        summary.inventory, summary.objective, status
    );
    let _ = writeln!(
        out,
        "  {}, {}, {}, {} used, solved in {:.3} s",
        counted(summary.n_firms, "firm", "firms"),
        counted(summary.n_flows, "flow", "flows"),
        counted(summary.n_candidate_links, "candidate link", "candidate links"),
        counted(summary.n_links, "link", "links"),
        summary.solve_seconds
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<28} {:>17} {:>17} {:>17}",
        "EUR per year", "baseline", "optimized", "saved"
    );
    for (label, base, opt) in [
        (
            "private cost (firms)",
            summary.baseline.private_cost_eur,
            summary.optimized.private_cost_eur,
        ),
        (
            "externalities (territory)",
            summary.baseline.externality_eur,
            summary.optimized.externality_eur,
        ),
    ] {
        let _ = writeln!(
            out,
            "  {:<28} {:>17} {:>17} {:>17}",
            label,
            euros(base),
            euros(opt),
            euros(base - opt)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  value captured by firms      {:>18} EUR/yr (supplier share {})",
        euros(summary.firm_value_eur),
        summary.supplier_share
    );
    let _ = writeln!(
        out,
        "  value accruing to territory  {:>18} EUR/yr (global {}, local {})",
        euros(summary.territory_value_eur),
        euros(summary.territory_value_global_eur),
        euros(summary.territory_value_local_eur)
    );
    if summary.firms_needing_compensation.is_empty() {
        let _ = writeln!(out, "  firms needing compensation: none");
    } else {
        let _ = writeln!(out, "  firms needing compensation:");
        for firm in &summary.firms_needing_compensation {
            let _ = writeln!(
                out,
                "    {:<34}{:>14} EUR/yr",
                firm.firm_id,
                euros(firm.compensation_needed_eur)
            );
        }
    }
    part_b_summary(&mut out, inventory, valuation, summary);
    let mut ranked: Vec<_> = valuation.links.iter().collect();
    ranked.sort_by(|a, b| {
        b.externality_avoided_eur
            .total_cmp(&a.externality_avoided_eur)
            .then_with(|| inventory.flow(a.supply).id.cmp(&inventory.flow(b.supply).id))
            .then_with(|| inventory.flow(a.demand).id.cmp(&inventory.flow(b.demand).id))
    });
    // `--top 0` asks for no list: no header either.
    if !ranked.is_empty() && top > 0 {
        let _ = writeln!(out, "  top links by externalities avoided:");
        for link in ranked.iter().take(top) {
            let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
            let resource = inventory.resource(supply.resource);
            let _ = writeln!(
                out,
                "    {} -> {}: {} {} {}, {} EUR/yr avoided, {} EUR/yr saved",
                inventory.firm(supply.firm).id,
                inventory.firm(demand.firm).id,
                format_quantity(link.quantity),
                resource.unit,
                resource.id,
                euros(link.externality_avoided_eur),
                euros(link.surplus_eur)
            );
        }
    }
    out
}

/// The printed lines of docs/model.md Part B: investments and the MIP gap,
/// processes, and the capacity saved by sharing services across slices.
fn part_b_summary(out: &mut String, inventory: &Inventory, valuation: &Valuation, summary: &Summary) {
    use std::fmt::Write;
    if let Some(n_binaries) = summary.n_binaries {
        let built = valuation
            .investments
            .iter()
            .filter(|investment| investment.built)
            .count();
        let gap = match summary.mip_gap {
            Some(gap) if gap.is_finite() => format!("{:.4} %", 100.0 * gap),
            _ => "unknown".to_string(),
        };
        let _ = writeln!(
            out,
            "  investments (MILP, {}): {built} of {} built, relative MIP gap {gap}",
            counted(n_binaries, "binary", "binaries"),
            valuation.investments.len()
        );
    }
    if !valuation.processes.is_empty() {
        let _ = writeln!(out, "  conversion processes:");
        for value in &valuation.processes {
            let process = inventory.process(value.process);
            let capacity = process
                .capacity
                .map_or(String::new(), |capacity| format!(" of {}", format_quantity(capacity)));
            if value.built {
                let _ = writeln!(
                    out,
                    "    {} ({}): activity {}{capacity}, cost borne {} EUR/yr",
                    process.id,
                    inventory.firm(process.firm).id,
                    format_quantity(value.activity),
                    euros(value.cost_borne_eur)
                );
            } else {
                let _ = writeln!(out, "    {} ({}): not run", process.id, inventory.firm(process.firm).id);
            }
        }
    }
    if let Some(services) = &summary.services {
        let _ = writeln!(
            out,
            "  shared services across {} (capacity at the peak hour):",
            counted(inventory.slices().len(), "time slice", "time slices")
        );
        for service in services {
            let per_hour = per_hour_unit(&service.unit);
            let percent = if service.peak_without_sharing_per_hour > 0.0 {
                100.0 * service.capacity_saved_per_hour / service.peak_without_sharing_per_hour
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "    {}: {} {per_hour} needed without sharing, {} with sharing: {} {per_hour} saved ({:.0} %); value to firms {} EUR/yr, to the territory {} EUR/yr",
                service.resource,
                format_capacity(service.peak_without_sharing_per_hour),
                format_capacity(service.peak_with_sharing_per_hour),
                format_capacity(service.capacity_saved_per_hour),
                percent,
                euros(service.firm_value_eur),
                euros(service.territory_value_eur)
            );
        }
    }
}

/// A capacity per hour: whole units from 10 up, two decimals below.
fn format_capacity(value: f64) -> String {
    if value.abs() >= 10.0 {
        euros(value)
    } else if value.abs() < 0.005 {
        "0".to_string()
    } else {
        format!("{value:.2}")
    }
}

fn format_quantity(value: f64) -> String {
    if value.abs() >= 100.0 {
        euros(value)
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::euros;

    #[test]
    fn euros_are_grouped() {
        assert_eq!(euros(1234567.4), "1,234,567");
        assert_eq!(euros(-1000.0), "-1,000");
        assert_eq!(euros(999.5), "1,000");
        assert_eq!(euros(-0.2), "0");
    }
}
