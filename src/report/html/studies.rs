//! The sections drawn from the files that commands beyond `optimize` add
//! to a results set (summary.json lists them): the exchanges by status
//! (`symbiose robustness`), the exchanges' probabilities and the P5-P95
//! bands of the values (`symbiose uncertainty`), the two schemes
//! (`symbiose schemes`). Each appears only when its files were read.

use std::fmt::Write;

use super::format::{escape, firm_label, percent};
use super::sections::card;
use super::tables::{sortable_table, Cell};
use crate::report::compare::{SchemeTotals, SchemesRead};
use crate::report::counted as plural;
use crate::report::euros;
use crate::report::results::Results;

/// The table of contents' entries of the sections present.
pub(super) fn links(page: &mut String, results: &Results) {
    if results.uncertainty.is_some() {
        page.push_str("<a href=\"#uncertainty\">How sure</a>");
    }
    if results.robustness.is_some() {
        page.push_str("<a href=\"#robustness\">What holds up</a>");
    }
    if results.schemes.is_some() {
        page.push_str("<a href=\"#schemes\">Two schemes</a>");
    }
}

/// The study sections that follow the territory profile, in reading order.
pub(super) fn sections(page: &mut String, results: &Results) {
    if let Some(robustness) = &results.robustness {
        robustness_section(page, results, robustness);
    }
    if let Some(schemes) = &results.schemes {
        schemes_section(page, results, schemes);
    }
}

/// The P5-P95 band of `subject` in value_quantiles.csv, when the results
/// have an uncertainty study.
pub(super) fn band(results: &Results, subject: &str) -> Option<(f64, f64)> {
    let row = results.uncertainty.as_ref()?.value(subject)?;
    Some((row.p05, row.p95))
}

/// ", P5-P95 ... " for a card's detail line, or nothing.
pub(super) fn band_text(results: &Results, subject: &str) -> String {
    band(results, subject).map_or(String::new(), |(low, high)| {
        format!("; P5&ndash;P95 {} to {} EUR/yr", euros(low), euros(high))
    })
}

/// What a figure's caption adds when its bars carry bands.
pub(super) fn band_caption(results: &Results) -> String {
    match &results.uncertainty {
        Some(uncertainty) => format!(
            " Whiskers: P5 to P95 over {} samples of the uncertain data (symbiose uncertainty).",
            uncertainty.n_feasible
        ),
        None => String::new(),
    }
}

/// Next to the Sankey: how likely each exchange is to stay in the optimum
/// when the uncertain data move, and the band of its quantity.
pub(super) fn uncertainty_section(page: &mut String, results: &Results) {
    let Some(uncertainty) = &results.uncertainty else {
        return;
    };
    put!(
        page,
        "<section id=\"uncertainty\">\n<h2>How sure: the exchanges when the estimates move</h2>\n\
         <p>{} of the uncertain data (uncertainty.csv) were drawn; {} had a solution. For each \
         exchange, the share of those samples in which it carries flow, and its quantity's \
         P5&ndash;P95 band (supply units per year).{}</p>\n",
        plural(uncertainty.n_samples, "sample", "samples"),
        uncertainty.n_feasible,
        band_text(results, "territory").replacen("; ", " Value to the territory: ", 1)
    );
    let mut rows: Vec<_> = uncertainty.links.iter().filter(|row| row.share_used > 0.0).collect();
    rows.sort_by(|a, b| {
        b.share_used
            .total_cmp(&a.share_used)
            .then_with(|| b.quantity_mean.total_cmp(&a.quantity_mean))
            .then_with(|| (&a.supply_flow_id, &a.demand_flow_id).cmp(&(&b.supply_flow_id, &b.demand_flow_id)))
    });
    let in_optimum = |row: &&crate::report::studies::LinkProbability| {
        results
            .links
            .iter()
            .any(|link| link.supply_flow_id == row.supply_flow_id && link.demand_flow_id == row.demand_flow_id)
    };
    sortable_table(
        page,
        "table-link-probability",
        "Exchanges used in at least one sample (link_probability.csv)",
        &[
            ("supply flow", false),
            ("demand flow", false),
            ("in the optimum above", false),
            ("share of samples", true),
            ("mean", true),
            ("P5", true),
            ("P50", true),
            ("P95", true),
        ],
        rows.iter()
            .map(|row| {
                vec![
                    Cell::Text(row.supply_flow_id.clone()),
                    Cell::Text(row.demand_flow_id.clone()),
                    Cell::Text(if in_optimum(row) { "yes" } else { "no" }.to_string()),
                    Cell::Fixed(row.share_used, 3),
                    Cell::Quantity(row.quantity_mean),
                    Cell::Quantity(row.quantity_p05),
                    Cell::Quantity(row.quantity_p50),
                    Cell::Quantity(row.quantity_p95),
                ]
            })
            .collect(),
    );
    put!(page, "</section>\n");
}

/// The exchanges by status over the near-optimal solutions: the
/// indispensable ones (in every solution within the slack), the optional
/// ones (in some), and each firm's range of value.
fn robustness_section(page: &mut String, results: &Results, robustness: &crate::report::studies::RobustnessRead) {
    let count = |status: &str| robustness.links.iter().filter(|link| link.status == status).count();
    put!(
        page,
        "<section id=\"robustness\">\n<h2>What holds up: exchanges over the near-optimal solutions</h2>\n\
         <p>Every solution whose first criterion (objective {}) is within {} of its optimum: the least \
         and the most each candidate exchange can carry (supply units per year). An \
         <b>indispensable</b> exchange carries flow in every one of them; an <b>optional</b> one in \
         some (interchangeable with others); the others are never worth it.</p>\n<div class=\"cards\">\n",
        escape(&robustness.objective),
        percent(robustness.slack)
    );
    for (status, detail) in [
        ("indispensable", "carry flow in every near-optimal solution"),
        ("optional", "carry flow in some"),
        ("unused", "carry nothing in any"),
    ] {
        card(page, status, &count(status).to_string(), detail);
    }
    put!(page, "</div>\n");
    let mut links: Vec<_> = robustness.links.iter().filter(|link| link.status != "unused").collect();
    links.sort_by(|a, b| {
        (a.status != "indispensable")
            .cmp(&(b.status != "indispensable"))
            .then_with(|| b.quantity_max.total_cmp(&a.quantity_max))
            .then_with(|| (&a.supply_flow_id, &a.demand_flow_id).cmp(&(&b.supply_flow_id, &b.demand_flow_id)))
    });
    sortable_table(
        page,
        "table-link-ranges",
        "Exchanges that carry flow in some near-optimal solution (link_ranges.csv)",
        &[
            ("supplier", false),
            ("receiver", false),
            ("resource", false),
            ("status", false),
            ("optimal", true),
            ("least", true),
            ("most", true),
        ],
        links
            .iter()
            .map(|link| {
                vec![
                    Cell::Name(firm_label(results, &link.supplier_firm_id)),
                    Cell::Name(firm_label(results, &link.receiver_firm_id)),
                    Cell::Text(if link.supply_resource == link.demand_resource {
                        link.supply_resource.clone()
                    } else {
                        format!("{} -> {}", link.supply_resource, link.demand_resource)
                    }),
                    Cell::Text(link.status.clone()),
                    Cell::Quantity(link.quantity_optimal),
                    Cell::Quantity(link.quantity_min),
                    Cell::Quantity(link.quantity_max),
                ]
            })
            .collect(),
    );
    let mut firms: Vec<_> = robustness
        .firms
        .iter()
        .filter(|firm| firm.value_min_eur != 0.0 || firm.value_max_eur != 0.0)
        .collect();
    firms.sort_by(|a, b| {
        (b.value_max_eur - b.value_min_eur)
            .total_cmp(&(a.value_max_eur - a.value_min_eur))
            .then_with(|| a.firm_id.cmp(&b.firm_id))
    });
    sortable_table(
        page,
        "table-firm-ranges",
        "Each firm's value over the near-optimal solutions, EUR/yr (firm_ranges.csv)",
        &[("firm", false), ("optimal", true), ("least", true), ("most", true)],
        firms
            .iter()
            .map(|firm| {
                vec![
                    Cell::Name(firm_label(results, &firm.firm_id)),
                    Cell::Money(firm.value_optimal_eur),
                    Cell::Money(firm.value_min_eur),
                    Cell::Money(firm.value_max_eur),
                ]
            })
            .collect(),
    );
    put!(page, "</section>\n");
}

/// The ascending (firms first) and descending (territory first) optima side
/// by side, and the transfers that would leave every firm no worse off.
fn schemes_section(page: &mut String, results: &Results, schemes: &SchemesRead) {
    let figures = &schemes.figures;
    put!(
        page,
        "<section id=\"schemes\">\n<h2>Two schemes: firms first, territory first</h2>\n\
         <p>The <b>ascending</b> scheme lets the firms pursue their own value (objective private: least \
         private cost); the territory's gain follows as a by-product. The <b>descending</b> scheme puts \
         the territory's externalities first (objective externalities: the results on this page). \
         Values in EUR/yr, supplier share {}.</p>\n<div class=\"cards\">\n",
        figures.supplier_share
    );
    let cost = figures.cost_of_territory_view_eur;
    card(
        page,
        "Cost of the territory's view to the firms",
        &format!("{} EUR/yr", euros(cost)),
        "private cost, descending minus ascending",
    );
    card(
        page,
        "Territory value gained",
        &format!("{} EUR/yr", euros(figures.territory_value_gained_eur)),
        "avoided externalities, descending minus ascending",
    );
    card(
        page,
        "Transfers to leave no firm worse off",
        &format!("{} EUR/yr", euros(figures.transfers_budget_eur)),
        &escape(&plural(
            figures.n_firms_compensated,
            "firm to compensate",
            "firms to compensate",
        )),
    );
    put!(page, "</div>\n");
    let row = |name: &str, value: fn(&SchemeTotals) -> f64| {
        vec![
            Cell::Text(name.to_string()),
            Cell::Money(value(&figures.ascending)),
            Cell::Money(value(&figures.descending)),
            Cell::Money(value(&figures.descending) - value(&figures.ascending)),
        ]
    };
    sortable_table(
        page,
        "table-schemes",
        "The two optima (schemes.json)",
        &[
            ("figure, EUR/yr", false),
            ("ascending", true),
            ("descending", true),
            ("descending - ascending", true),
        ],
        vec![
            row("private cost", |t| t.private_cost_eur),
            row("externalities", |t| t.externality_eur),
            row("value to the firms", |t| t.firm_value_eur),
            row("value to the territory", |t| t.territory_value_eur),
            row("  of which global", |t| t.territory_value_global_eur),
            row("  of which local", |t| t.territory_value_local_eur),
        ],
    );
    let mut firms: Vec<_> = schemes
        .firms
        .iter()
        .filter(|firm| firm.value_ascending_eur != 0.0 || firm.value_descending_eur != 0.0)
        .collect();
    firms.sort_by(|a, b| {
        b.transfer_eur
            .total_cmp(&a.transfer_eur)
            .then(a.difference_eur.total_cmp(&b.difference_eur))
            .then(a.firm_id.cmp(&b.firm_id))
    });
    sortable_table(
        page,
        "table-schemes-firms",
        "Each firm's value in the two schemes (schemes_firms.csv; firms with a value in either)",
        &[
            ("firm", false),
            ("ascending, EUR/yr", true),
            ("descending, EUR/yr", true),
            ("difference", true),
            ("transfer needed", true),
        ],
        firms
            .iter()
            .map(|firm| {
                vec![
                    Cell::Name(firm_label(results, &firm.firm_id)),
                    Cell::Money(firm.value_ascending_eur),
                    Cell::Money(firm.value_descending_eur),
                    Cell::Money(firm.difference_eur),
                    Cell::Money(firm.transfer_eur),
                ]
            })
            .collect(),
    );
    put!(page, "</section>\n");
}
