//! The report's tables: the sortable tables of the results (links, firms,
//! externality categories, flows) and the Part B section (time slices,
//! shared services, conversion hubs, investments), shown only when the run
//! has Part B results.
//!
//! Every cell's raw number goes into `data-v`, so the page's script sorts
//! by value whatever the display format; every text cell is escaped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::format::{escape, firm_label, format_number, format_quantity, percent};
use super::sections::card;
use crate::report::counted as plural;
use crate::report::euros;
use crate::report::results::{FlowRow, Results};

/// How a table cell is shown; the raw value goes into `data-v` for sorting.
pub(super) enum Cell {
    Text(String),
    /// A firm's name: kept wide enough to read.
    Name(String),
    Money(f64),
    Quantity(f64),
    /// A quantity followed by its unit.
    QuantityIn(f64, String),
    Fixed(f64, usize),
}

/// A table whose columns sort on a click: `headers` are (title, numeric).
pub(super) fn sortable_table(
    page: &mut String,
    id: &str,
    caption: &str,
    headers: &[(&str, bool)],
    rows: Vec<Vec<Cell>>,
) {
    put!(
        page,
        "<div class=\"table-wrap\"><table id=\"{id}\" class=\"sortable\"><caption>{caption}</caption><thead><tr>"
    );
    for (header, numeric) in headers {
        put!(
            page,
            "<th scope=\"col\"{}>{}</th>",
            if *numeric { " class=\"num\"" } else { "" },
            escape(header)
        );
    }
    put!(page, "</tr></thead><tbody>\n");
    for row in rows {
        put!(page, "<tr>");
        for cell in row {
            match cell {
                Cell::Text(text) => put!(page, "<td>{}</td>", escape(&text)),
                Cell::Name(text) => put!(page, "<td class=\"name\">{}</td>", escape(&text)),
                Cell::Money(value) => put!(page, "<td class=\"num\" data-v=\"{value}\">{}</td>", euros(value)),
                Cell::Quantity(value) => put!(
                    page,
                    "<td class=\"num\" data-v=\"{value}\">{}</td>",
                    format_quantity(value)
                ),
                Cell::QuantityIn(value, unit) => put!(
                    page,
                    "<td class=\"num\" data-v=\"{value}\">{} <span class=\"unit\">{}</span></td>",
                    format_quantity(value),
                    escape(&unit)
                ),
                Cell::Fixed(value, decimals) => put!(
                    page,
                    "<td class=\"num\" data-v=\"{value}\">{}</td>",
                    format_number(value, decimals)
                ),
            }
        }
        put!(page, "</tr>\n");
    }
    put!(page, "</tbody></table></div>\n");
}

/// The time slices of flow_slices.csv, in their order (first flow's).
pub(super) fn slice_names(results: &Results) -> Vec<(&str, f64)> {
    let mut names: Vec<(&str, f64)> = Vec::new();
    for row in &results.flow_slices {
        if names.iter().any(|(name, _)| *name == row.slice) {
            break;
        }
        names.push((&row.slice, row.hours));
    }
    names
}

/// docs/model.md B1: for each resource and kind, the share of the quantity
/// matched in each slice (from flow_slices.csv, joined to flow_results.csv
/// for the resource), so that a season left unmatched shows.
fn slices_table(page: &mut String, results: &Results) {
    let slices = slice_names(results);
    if slices.len() < 2 {
        return;
    }
    let flow_of: HashMap<&str, &FlowRow> = results.flows.iter().map(|flow| (flow.flow_id.as_str(), flow)).collect();
    // (resource, kind, unit: flows of one resource may use different
    // units) -> per slice (quantity, matched).
    let mut groups: BTreeMap<(&str, &str, &str), Vec<(f64, f64)>> = BTreeMap::new();
    for row in &results.flow_slices {
        let (Some(flow), Some(slice)) = (
            flow_of.get(row.flow_id.as_str()),
            slices.iter().position(|(name, _)| *name == row.slice),
        ) else {
            continue;
        };
        let entry = groups
            .entry((flow.resource.as_str(), flow.kind.as_str(), flow.unit.as_str()))
            .or_insert_with(|| vec![(0.0, 0.0); slices.len()]);
        entry[slice].0 += row.quantity;
        entry[slice].1 += row.matched;
    }
    let share = |(quantity, matched): (f64, f64)| {
        if quantity > 0.0 {
            100.0 * matched / quantity
        } else {
            0.0
        }
    };
    let headers: Vec<String> = ["resource", "kind", "quantity per year"]
        .iter()
        .map(|header| header.to_string())
        .chain(
            slices
                .iter()
                .map(|(name, hours)| format!("{name} ({} h), % matched", format_quantity(*hours))),
        )
        .chain(["year, % matched".to_string()])
        .collect();
    let header_refs: Vec<(&str, bool)> = headers
        .iter()
        .enumerate()
        .map(|(position, header)| (header.as_str(), position >= 2))
        .collect();
    use Cell::*;
    let rows: Vec<Vec<Cell>> = groups
        .into_iter()
        .filter_map(|((resource, kind, unit), per_slice)| {
            let year = per_slice
                .iter()
                .fold((0.0, 0.0), |(q, m), (quantity, matched)| (q + quantity, m + matched));
            (year.0 > 0.0).then(|| {
                [
                    Text(resource.to_string()),
                    Text(kind.to_string()),
                    QuantityIn(year.0, unit.to_string()),
                ]
                .into_iter()
                .chain(per_slice.iter().map(|slice| Fixed(share(*slice), 0)))
                .chain([Fixed(share(year), 0)])
                .collect()
            })
        })
        .collect();
    put!(
        page,
        "<p>Time slices (docs/model.md B1): how much of each resource's supplies and demands \
         is matched in each slice. A resource matched in one season and not in another is \
         where storage, another partner or a seasonal use would add value.</p>\n"
    );
    sortable_table(
        page,
        "table-slices",
        "Matched share per time slice (flow_slices.csv); % of the quantity",
        &header_refs,
        rows,
    );
}

/// docs/model.md Part B: shared services (capacity saved by sharing its use),
/// conversion hubs and investments, from services.csv, processes.csv and
/// investments.csv; each table only when the run wrote it.
pub(super) fn part_b_section(page: &mut String, results: &Results) {
    put!(
        page,
        "<section id=\"sharing\">\n<h2>Seasons, shared services, hubs and investments</h2>\n"
    );
    slices_table(page, results);
    if !results.services.is_empty() {
        services_part(page, results);
    }
    if !results.processes.is_empty() {
        processes_table(page, results);
    }
    if !results.investments.is_empty() {
        investments_part(page, results);
    }
    put!(page, "</section>\n");
}

/// One card per shared service (the capacity sharing saves), then their
/// table.
fn services_part(page: &mut String, results: &Results) {
    use Cell::*;
    put!(
        page,
        "<p>Sharing the use of a service (parking, vehicles, staff): the capacity the firms \
         would need each on its own at their peak hour, against the capacity they need when \
         they share it. The capacity saved is what sharing frees.</p>\n<div class=\"cards\">\n"
    );
    for service in &results.services {
        let share = if service.peak_without_sharing_per_hour > 0.0 {
            service.capacity_saved_per_hour / service.peak_without_sharing_per_hour
        } else {
            0.0
        };
        card(
            page,
            &service.resource,
            &format!(
                "{} <small>{} saved</small>",
                format_quantity(service.capacity_saved_per_hour),
                escape(&service.unit)
            ),
            &format!(
                "{} of a peak of {} per hour without sharing; {} EUR/yr to firms",
                percent(share),
                format_quantity(service.peak_without_sharing_per_hour),
                euros(service.firm_value_eur)
            ),
        );
    }
    put!(page, "</div>\n");
    sortable_table(
        page,
        "table-services",
        "Shared services (services.csv); capacities per hour, values EUR/yr",
        &[
            ("service", false),
            ("demands", true),
            ("shared supplies", true),
            ("peak without sharing", true),
            ("peak with sharing", true),
            ("capacity saved", true),
            ("delivered per year", true),
            ("value to firms", true),
            ("value to territory", true),
        ],
        results
            .services
            .iter()
            .map(|service| {
                vec![
                    Text(service.resource.clone()),
                    Fixed(service.n_demands as f64, 0),
                    Fixed(service.n_shared_supplies as f64, 0),
                    QuantityIn(service.peak_without_sharing_per_hour, service.unit.clone()),
                    QuantityIn(service.peak_with_sharing_per_hour, service.unit.clone()),
                    QuantityIn(service.capacity_saved_per_hour, service.unit.clone()),
                    QuantityIn(service.delivered, service.unit.clone()),
                    Money(service.firm_value_eur),
                    Money(service.territory_value_eur),
                ]
            })
            .collect(),
    );
}

/// The conversion hubs: built or not, activity against capacity, costs.
fn processes_table(page: &mut String, results: &Results) {
    use Cell::*;
    sortable_table(
        page,
        "table-processes",
        "Conversion hubs (processes.csv); activity per year, EUR/yr",
        &[
            ("hub", false),
            ("firm", false),
            ("built", false),
            ("activity", true),
            ("capacity", true),
            ("use of capacity", true),
            ("cost borne", true),
            ("externalities", true),
        ],
        results
            .processes
            .iter()
            .map(|process| {
                vec![
                    Text(process.process_id.clone()),
                    Name(firm_label(results, &process.firm_id)),
                    Text(if process.built { "yes" } else { "no" }.to_string()),
                    Quantity(process.activity),
                    match process.capacity {
                        Some(capacity) => Quantity(capacity),
                        None => Text("unbounded".to_string()),
                    },
                    Text(match process.capacity {
                        Some(capacity) if capacity > 0.0 => percent(process.activity / capacity),
                        _ => String::new(),
                    }),
                    Money(process.cost_borne_eur),
                    Money(process.externality_eur),
                ]
            })
            .collect(),
    );
}

/// How many investments were built, then their table.
fn investments_part(page: &mut String, results: &Results) {
    use Cell::*;
    let built = results.investments.iter().filter(|investment| investment.built).count();
    put!(
        page,
        "<p>{} of {} built (a MILP: see the MIP gap in summary.json).</p>\n",
        built,
        plural(results.investments.len(), "investment", "investments")
    );
    sortable_table(
        page,
        "table-investments",
        "Investments (investments.csv); fixed costs EUR/yr",
        &[
            ("kind", false),
            ("investment", false),
            ("firms", false),
            ("built", false),
            ("fixed cost", true),
            ("quantity per year", true),
        ],
        results
            .investments
            .iter()
            .map(|investment| {
                vec![
                    Text(investment.kind.clone()),
                    Text(investment.id.clone()),
                    Text(investment.firm_ids.clone()),
                    Text(if investment.built { "yes" } else { "no" }.to_string()),
                    Money(investment.fixed_cost_eur_per_year),
                    Quantity(investment.quantity),
                ]
            })
            .collect(),
    );
}

/// The tables of the results folder: links, firms, categories, flows.
pub(super) fn tables_section(page: &mut String, results: &Results) {
    put!(
        page,
        "<section id=\"tables\">\n<h2>Tables</h2>\n<p class=\"no-print\">Click a column header to sort \
         (again to reverse). The complete tables, with every column, are the CSV files of the \
         results folder.</p>\n"
    );
    use Cell::*;
    sortable_table(
        page,
        "table-links",
        "Links in use (links.csv); quantities per year",
        &[
            ("supplier", false),
            ("receiver", false),
            ("resource", false),
            ("category", false),
            ("km", true),
            ("sent", true),
            ("delivered", true),
            ("surplus, EUR/yr", true),
            ("externality avoided, EUR/yr", true),
        ],
        results
            .links
            .iter()
            .map(|link| {
                vec![
                    Name(firm_label(results, &link.supplier_firm_id)),
                    Name(firm_label(results, &link.receiver_firm_id)),
                    Text(if link.supply_resource == link.demand_resource {
                        link.supply_resource.clone()
                    } else {
                        format!("{} \u{2192} {}", link.supply_resource, link.demand_resource)
                    }),
                    Text(link.supply_category.clone()),
                    Fixed(link.distance_km, 1),
                    QuantityIn(link.quantity, link.supply_unit.clone()),
                    QuantityIn(link.delivered, link.demand_unit.clone()),
                    Money(link.surplus_eur),
                    Money(link.externality_avoided_eur),
                ]
            })
            .collect(),
    );
    sortable_table(
        page,
        "table-firms",
        "Firms (firm_values.csv); EUR/yr",
        &[
            ("firm", false),
            ("sector", false),
            ("zone", false),
            ("links", true),
            ("baseline cost", true),
            ("optimized cost", true),
            ("value captured", true),
            ("compensation needed", true),
        ],
        results
            .firms
            .iter()
            .map(|firm| {
                vec![
                    Name(firm_label(results, &firm.firm_id)),
                    Text(firm.sector.clone().unwrap_or_default()),
                    Text(firm.zone.clone().unwrap_or_default()),
                    Fixed(firm.n_links as f64, 0),
                    Money(firm.baseline_cost_eur),
                    Money(firm.optimized_cost_eur),
                    Money(firm.value_eur),
                    Money(firm.compensation_needed_eur),
                ]
            })
            .collect(),
    );
    sortable_table(
        page,
        "table-territory",
        "Externality categories (territory_values.csv)",
        &[
            ("category", false),
            ("unit", false),
            ("scope", false),
            ("baseline", true),
            ("optimized", true),
            ("avoided", true),
            ("EUR per unit", true),
            ("value, EUR/yr", true),
        ],
        results
            .categories
            .iter()
            .map(|category| {
                vec![
                    Text(category.category.clone()),
                    Text(category.unit.clone()),
                    Text(category.scope.clone()),
                    Quantity(category.baseline),
                    Quantity(category.optimized),
                    Quantity(category.avoided),
                    Quantity(category.value_eur_per_unit),
                    Money(category.value_eur),
                ]
            })
            .collect(),
    );
    sortable_table(
        page,
        "table-flows",
        "Flows (flow_results.csv); quantities per year in each flow's unit",
        &[
            ("flow", false),
            ("firm", false),
            ("kind", false),
            ("resource", false),
            ("quantity", true),
            ("matched", true),
            ("fallback", false),
            ("fallback quantity", true),
            ("shadow price, EUR/unit", true),
        ],
        results
            .flows
            .iter()
            .map(|flow| {
                vec![
                    Text(flow.flow_id.clone()),
                    Name(firm_label(results, &flow.firm_id)),
                    Text(flow.kind.clone()),
                    Text(flow.resource.clone()),
                    QuantityIn(flow.quantity, flow.unit.clone()),
                    QuantityIn(flow.matched, flow.unit.clone()),
                    Text(flow.fallback.clone()),
                    QuantityIn(flow.fallback_quantity, flow.unit.clone()),
                    Fixed(flow.shadow_price_eur_per_unit, 2),
                ]
            })
            .collect(),
    );
    put!(page, "</section>\n");
}
