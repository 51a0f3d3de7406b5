//! The result tables built from a [`Valuation`]: the four of docs/model.md
//! A5 (links, flow_results, firm_values, territory_values) and the five
//! Part B adds (processes, investments, flow_slices, link_slices,
//! services), each through its schema in [`super::schema`].
//!
//! Invariant: rows are sorted by their id columns, so the same input gives
//! the same bytes; numbers symbiose computed never show a negative zero.

use crate::candidates::Link;
use crate::io::outputs::{self, Table};
use crate::io::Frame;
use crate::model::units::to_flow_unit;
use crate::model::{Flow, Inventory};
use crate::value::allocation::ShapleyValues;
use crate::value::Valuation;

use super::schema::{self, SchemaMismatch, TableBuilder};

/// links.csv: the links in use, sorted by (supply_flow_id, demand_flow_id).
pub fn links_table(inventory: &Inventory, links: &[Link], valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<_> = valuation.links.iter().collect();
    rows.sort_by(|a, b| {
        (&inventory.flow(a.supply).id, &inventory.flow(a.demand).id)
            .cmp(&(&inventory.flow(b.supply).id, &inventory.flow(b.demand).id))
    });
    let supply = |row: &&crate::value::LinkValue| inventory.flow(row.supply);
    let demand = |row: &&crate::value::LinkValue| inventory.flow(row.demand);
    TableBuilder::new(&schema::LINKS)
        .text("supply_flow_id", rows.iter().map(|r| supply(r).id.clone()).collect())
        .text("demand_flow_id", rows.iter().map(|r| demand(r).id.clone()).collect())
        .text(
            "supplier_firm_id",
            rows.iter().map(|r| inventory.firm(supply(r).firm).id.clone()).collect(),
        )
        .text(
            "receiver_firm_id",
            rows.iter().map(|r| inventory.firm(demand(r).firm).id.clone()).collect(),
        )
        .text(
            "supply_resource",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).id.clone())
                .collect(),
        )
        .text(
            "demand_resource",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).id.clone())
                .collect(),
        )
        .number("distance_km", rows.iter().map(|r| r.distance_km).collect())
        .number("quantity", rows.iter().map(|r| r.quantity).collect())
        .number("delivered", rows.iter().map(|r| r.delivered).collect())
        .number("unit_cost_eur", rows.iter().map(|r| r.unit_cost_eur).collect())
        .number("surplus_eur", rows.iter().map(|r| r.surplus_eur).collect())
        .number(
            "supplier_value_eur",
            rows.iter().map(|r| r.supplier_value_eur).collect(),
        )
        .number(
            "receiver_value_eur",
            rows.iter().map(|r| r.receiver_value_eur).collect(),
        )
        .number(
            "externality_avoided_eur",
            rows.iter().map(|r| r.externality_avoided_eur).collect(),
        )
        .number(
            "unit_externality_eur",
            rows.iter()
                .map(|r| inventory.monetise(&links[r.link].unit_impacts(inventory)))
                .collect(),
        )
        // Additions for the report and GIS users (README, "Additions to the model").
        .text(
            "supply_category",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).category.as_str().to_string())
                .collect(),
        )
        .text(
            "demand_category",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).category.as_str().to_string())
                .collect(),
        )
        .text(
            "supply_unit",
            rows.iter()
                .map(|r| inventory.resource(supply(r).resource).unit.clone())
                .collect(),
        )
        .text(
            "demand_unit",
            rows.iter()
                .map(|r| inventory.resource(demand(r).resource).unit.clone())
                .collect(),
        )
        .finish()
}

/// flow_results.csv: every flow, quantities in the flow's own unit, sorted by flow_id.
pub fn flow_results_table(inventory: &Inventory, valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<_> = valuation.flows.iter().collect();
    rows.sort_by(|a, b| inventory.flow(a.flow).id.cmp(&inventory.flow(b.flow).id));
    let flow = |row: &&crate::value::FlowValue| inventory.flow(row.flow);
    TableBuilder::new(&schema::FLOW_RESULTS)
        .text("flow_id", rows.iter().map(|r| flow(r).id.clone()).collect())
        .text(
            "firm_id",
            rows.iter().map(|r| inventory.firm(flow(r).firm).id.clone()).collect(),
        )
        .text("kind", rows.iter().map(|r| flow(r).kind.as_str().to_string()).collect())
        .text(
            "resource",
            rows.iter()
                .map(|r| inventory.resource(flow(r).resource).id.clone())
                .collect(),
        )
        .pipe(|builder| {
            let amounts: Vec<_> = rows.iter().map(|r| (r.quantity, r.matched, flow(r))).collect();
            unit_quantity_matched(builder, &amounts)
        })
        // Empty for a process input and for a service supply given no route.
        .optional_text(
            "fallback",
            rows.iter()
                .map(|r| flow(r).fallback.map(|route| inventory.route(route).id.clone()))
                .collect(),
        )
        .pipe(|builder| {
            let tail: Vec<_> = rows
                .iter()
                .map(|r| (r.fallback_quantity, r.shadow_price_eur_per_unit, flow(r).unit_factor))
                .collect();
            fallback_and_price(builder, &tail)
        })
        .finish()
}

/// firm_values.csv: every firm, sorted by firm_id, with each firm's
/// Shapley value and its standard error when `shapley` is given.
pub fn firm_values_table(
    inventory: &Inventory,
    valuation: &Valuation,
    shapley: Option<&ShapleyValues>,
) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<_> = valuation.firms.iter().collect();
    rows.sort_by(|a, b| inventory.firm(a.firm).id.cmp(&inventory.firm(b.firm).id));
    let table = TableBuilder::new(&schema::FIRM_VALUES)
        .text(
            "firm_id",
            rows.iter().map(|r| inventory.firm(r.firm).id.clone()).collect(),
        )
        .text(
            "name",
            rows.iter().map(|r| inventory.firm(r.firm).name.clone()).collect(),
        )
        .number("baseline_cost_eur", rows.iter().map(|r| r.baseline_cost_eur).collect())
        .number(
            "optimized_cost_eur",
            rows.iter().map(|r| r.optimized_cost_eur).collect(),
        )
        .number("value_eur", rows.iter().map(|r| r.value_eur).collect())
        .number(
            "compensation_needed_eur",
            rows.iter().map(|r| r.compensation_needed_eur).collect(),
        )
        .count("n_links", rows.iter().map(|r| r.n_links as u64).collect())
        // Additions for the map and GIS users (README, "Additions to the model").
        .number("lat", rows.iter().map(|r| inventory.firm(r.firm).lat).collect())
        .number("lon", rows.iter().map(|r| inventory.firm(r.firm).lon).collect())
        .optional_text(
            "sector",
            rows.iter().map(|r| inventory.firm(r.firm).sector.clone()).collect(),
        )
        .optional_text(
            "zone",
            rows.iter().map(|r| inventory.firm(r.firm).zone.clone()).collect(),
        );
    let table = match shapley {
        None => table,
        Some(shapley) => {
            let per_firm = |values: &[f64]| rows.iter().map(|r| values[r.firm.index()]).collect();
            table
                .number("shapley_value_eur", per_firm(&shapley.values))
                .number("shapley_standard_error_eur", per_firm(&shapley.standard_errors))
        }
    };
    table.finish()
}

/// territory_values.csv: every externality category, sorted by category.
pub fn territory_values_table(inventory: &Inventory, valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    let rows = &valuation.categories;
    let category = |row: &crate::value::CategoryValue| inventory.category(row.category);
    TableBuilder::new(&schema::TERRITORY_VALUES)
        .text("category", rows.iter().map(|r| category(r).id.clone()).collect())
        .text("unit", rows.iter().map(|r| category(r).unit.clone()).collect())
        .text(
            "scope",
            rows.iter().map(|r| category(r).scope.as_str().to_string()).collect(),
        )
        .number("baseline", rows.iter().map(|r| r.baseline).collect())
        .number("optimized", rows.iter().map(|r| r.optimized).collect())
        .number("avoided", rows.iter().map(|r| r.avoided).collect())
        .number(
            "value_eur_per_unit",
            rows.iter().map(|r| category(r).value_eur_per_unit).collect(),
        )
        .number("value_eur", rows.iter().map(|r| r.value_eur).collect())
        .finish()
}

/// The four result tables, each with its registry entry; firm_values.csv
/// has the Shapley columns when `shapley` is given.
pub fn result_tables(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
    shapley: Option<&ShapleyValues>,
) -> Result<Vec<(Table, Frame)>, SchemaMismatch> {
    // The two large tables are built on two rayon workers.
    let ((links, firms), (flows, territory)) = rayon::join(
        || {
            (
                links_table(inventory, links, valuation),
                firm_values_table(inventory, valuation, shapley),
            )
        },
        || {
            (
                flow_results_table(inventory, valuation),
                territory_values_table(inventory, valuation),
            )
        },
    );
    Ok(vec![
        (outputs::LINKS, links?),
        (outputs::FLOW_RESULTS, flows?),
        (outputs::FIRM_VALUES, firms?),
        (outputs::TERRITORY_VALUES, territory?),
    ])
}

/// The tables docs/model.md Part B adds, named as their files, each only when
/// the inventory uses that part: processes.csv and investments.csv (B3,
/// B4), flow_slices.csv and link_slices.csv (B1, with slices.csv),
/// services.csv (B2 across slices).
pub fn part_b_tables(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
) -> Result<Vec<(Table, Frame)>, SchemaMismatch> {
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
pub fn processes_table(inventory: &Inventory, valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    // Processes are sorted by id in the inventory.
    let rows = &valuation.processes;
    let process = |row: &crate::value::ProcessValue| inventory.process(row.process);
    TableBuilder::new(&schema::PROCESSES)
        .text("process_id", rows.iter().map(|r| process(r).id.clone()).collect())
        .text(
            "firm_id",
            rows.iter()
                .map(|r| inventory.firm(process(r).firm).id.clone())
                .collect(),
        )
        .number("activity", rows.iter().map(|r| r.activity).collect())
        // Capacities are the inventory's, written as given.
        .optional_number("capacity", rows.iter().map(|r| process(r).capacity).collect())
        .flag("built", rows.iter().map(|r| r.built).collect())
        .number(
            "operating_cost_eur",
            rows.iter().map(|r| r.operating_cost_eur).collect(),
        )
        .number("fixed_cost_eur", rows.iter().map(|r| r.fixed_cost_eur).collect())
        .number(
            "output_fallback_cost_eur",
            rows.iter().map(|r| r.output_fallback_cost_eur).collect(),
        )
        .number("cost_borne_eur", rows.iter().map(|r| r.cost_borne_eur).collect())
        .number("externality_eur", rows.iter().map(|r| r.externality_eur).collect())
        .finish()
}

/// investments.csv: every link and process with a fixed cost, built or
/// not, sorted by kind then id (a link's id is supply_flow_id>demand_flow_id).
pub fn investments_table(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
) -> Result<Frame, SchemaMismatch> {
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
    TableBuilder::new(&schema::INVESTMENTS)
        .text("kind", rows.iter().map(|r| r.0.clone()).collect())
        .text("id", rows.iter().map(|r| r.1.clone()).collect())
        .text("firm_ids", rows.iter().map(|r| r.2.clone()).collect())
        .number("distance_km", rows.iter().map(|r| r.3).collect())
        .number(
            "fixed_cost_eur_per_year",
            rows.iter().map(|r| r.4.fixed_cost_eur_per_year).collect(),
        )
        .flag("built", rows.iter().map(|r| r.4.built).collect())
        .number("quantity", rows.iter().map(|r| r.4.quantity).collect())
        .finish()
}

/// flow_slices.csv: every flow in every slice, quantities in the flow's own
/// unit, sorted by flow_id then slice (in the order of slices.csv).
pub fn flow_slices_table(inventory: &Inventory, valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<_> = valuation.flow_slices.iter().collect();
    rows.sort_by(|a, b| (&inventory.flow(a.flow).id, a.slice).cmp(&(&inventory.flow(b.flow).id, b.slice)));
    let flow = |row: &&crate::value::FlowSliceValue| inventory.flow(row.flow);
    let slice = |row: &&crate::value::FlowSliceValue| &inventory.slices()[row.slice.index()];
    TableBuilder::new(&schema::FLOW_SLICES)
        .text("flow_id", rows.iter().map(|r| flow(r).id.clone()).collect())
        .text("slice", rows.iter().map(|r| slice(r).id.clone()).collect())
        .number("hours", rows.iter().map(|r| slice(r).hours).collect())
        .pipe(|builder| {
            let amounts: Vec<_> = rows.iter().map(|r| (r.quantity, r.matched, flow(r))).collect();
            unit_quantity_matched(builder, &amounts)
        })
        .pipe(|builder| {
            let tail: Vec<_> = rows
                .iter()
                .map(|r| (r.fallback_quantity, r.shadow_price_eur_per_unit, flow(r).unit_factor))
                .collect();
            fallback_and_price(builder, &tail)
        })
        .finish()
}

/// link_slices.csv: every link in use in every slice, sorted by
/// (supply_flow_id, demand_flow_id) then slice.
pub fn link_slices_table(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
) -> Result<Frame, SchemaMismatch> {
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
    TableBuilder::new(&schema::LINK_SLICES)
        .text(
            "supply_flow_id",
            rows.iter()
                .map(|r| inventory.flow(links[r.link].supply).id.clone())
                .collect(),
        )
        .text(
            "demand_flow_id",
            rows.iter()
                .map(|r| inventory.flow(links[r.link].demand).id.clone())
                .collect(),
        )
        .text(
            "slice",
            rows.iter()
                .map(|r| inventory.slices()[r.slice.index()].id.clone())
                .collect(),
        )
        .number("quantity", rows.iter().map(|r| r.quantity).collect())
        .number("delivered", rows.iter().map(|r| r.delivered).collect())
        .finish()
}

/// services.csv: each service resource some demand wants, sorted by resource.
pub fn services_table(inventory: &Inventory, valuation: &Valuation) -> Result<Frame, SchemaMismatch> {
    let rows = &valuation.services;
    let resource = |row: &crate::value::ServiceValue| inventory.resource(row.resource);
    TableBuilder::new(&schema::SERVICES)
        .text("resource", rows.iter().map(|r| resource(r).id.clone()).collect())
        .text("unit", rows.iter().map(|r| resource(r).unit.clone()).collect())
        .count("n_demands", rows.iter().map(|r| r.n_demands as u64).collect())
        .count(
            "n_shared_supplies",
            rows.iter().map(|r| r.n_shared_supplies as u64).collect(),
        )
        .number(
            "peak_without_sharing_per_hour",
            rows.iter().map(|r| r.peak_without_sharing).collect(),
        )
        .number(
            "peak_with_sharing_per_hour",
            rows.iter().map(|r| r.peak_with_sharing).collect(),
        )
        .number("capacity_saved_per_hour", rows.iter().map(|r| r.peak_saved).collect())
        .number("delivered", rows.iter().map(|r| r.delivered).collect())
        .number("firm_value_eur", rows.iter().map(|r| r.firm_value_eur).collect())
        .number(
            "territory_value_eur",
            rows.iter().map(|r| r.territory_value_eur).collect(),
        )
        .finish()
}

/// The last two columns of flow_results.csv and flow_slices.csv, in each
/// flow's own unit, from (fallback quantity, shadow price, unit factor) per
/// row: the fallback converted like every quantity, the price per unit of
/// the flow's own unit (EUR per resource unit * resource units per flow unit).
fn fallback_and_price<'s>(builder: TableBuilder<'s>, rows: &[(f64, f64, f64)]) -> TableBuilder<'s> {
    builder
        .number(
            "fallback_quantity",
            rows.iter()
                .map(|(fallback, _, factor)| to_flow_unit(*fallback, *factor))
                .collect(),
        )
        .number(
            "shadow_price_eur_per_unit",
            rows.iter().map(|(_, price, factor)| price * factor).collect(),
        )
}

/// The unit, quantity and matched columns of flow_results.csv and
/// flow_slices.csv, from (quantity, matched, flow) per row, quantities
/// converted to the flow's own unit.
fn unit_quantity_matched<'s>(builder: TableBuilder<'s>, rows: &[(f64, f64, &Flow)]) -> TableBuilder<'s> {
    builder
        .text("unit", rows.iter().map(|(_, _, flow)| flow.unit.clone()).collect())
        .number(
            "quantity",
            rows.iter()
                .map(|(quantity, _, flow)| to_flow_unit(*quantity, flow.unit_factor))
                .collect(),
        )
        .number(
            "matched",
            rows.iter()
                .map(|(_, matched, flow)| to_flow_unit(*matched, flow.unit_factor))
                .collect(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{load_inventory, InventorySource};
    use crate::solve::SolveOptions;

    /// Every table builder, on an inventory that uses Part B (slices,
    /// processes), with and without the Shapley columns: a column pushed
    /// out of its schema's order or of another kind fails here.
    #[test]
    fn every_table_follows_its_schema() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dunkirk-seasonal");
        let inventory = load_inventory(&InventorySource::Folder(folder)).unwrap().inventory;
        let (links, _, valuation) =
            crate::value::optimize_inventory(&inventory, &SolveOptions::default(), 0.5).unwrap();
        let n_firms = inventory.firms().len();
        let shapley = ShapleyValues {
            values: vec![1.0; n_firms],
            standard_errors: vec![0.0; n_firms],
            exact: true,
            grand_coalition_eur: n_firms as f64,
        };
        let built: Vec<(&schema::TableSchema, Frame)> = vec![
            (&schema::LINKS, links_table(&inventory, &links, &valuation).unwrap()),
            (
                &schema::FLOW_RESULTS,
                flow_results_table(&inventory, &valuation).unwrap(),
            ),
            (
                &schema::FIRM_VALUES,
                firm_values_table(&inventory, &valuation, None).unwrap(),
            ),
            (
                &schema::FIRM_VALUES,
                firm_values_table(&inventory, &valuation, Some(&shapley)).unwrap(),
            ),
            (
                &schema::TERRITORY_VALUES,
                territory_values_table(&inventory, &valuation).unwrap(),
            ),
            (&schema::PROCESSES, processes_table(&inventory, &valuation).unwrap()),
            (
                &schema::INVESTMENTS,
                investments_table(&inventory, &links, &valuation).unwrap(),
            ),
            (&schema::FLOW_SLICES, flow_slices_table(&inventory, &valuation).unwrap()),
            (
                &schema::LINK_SLICES,
                link_slices_table(&inventory, &links, &valuation).unwrap(),
            ),
            (&schema::SERVICES, services_table(&inventory, &valuation).unwrap()),
        ];
        for (schema, frame) in &built {
            // The columns written only sometimes are there all or none.
            let all = frame.header().len() == schema.columns.len();
            let expected: Vec<(&str, crate::io::Kind)> = schema
                .columns
                .iter()
                .filter(|column| all || column.written == schema::Written::Always)
                .map(|column| (column.name.as_ref(), column.kind))
                .collect();
            assert_eq!(frame.header(), expected, "{}", schema.file);
            assert!(crate::io::csv_bytes(frame).is_ok(), "{}", schema.file);
        }
        assert!(!valuation.processes.is_empty() && !valuation.flow_slices.is_empty());
    }
}
