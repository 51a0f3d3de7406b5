//! The sections drawn from the files that commands beyond `optimize` add
//! to a results set (summary.json lists them): the two schemes
//! (`symbiose schemes`). Each appears only when its files were read.

use std::fmt::Write;

use super::format::{escape, firm_label};
use super::sections::card;
use super::tables::{sortable_table, Cell};
use crate::report::compare::{SchemeTotals, SchemesRead};
use crate::report::counted as plural;
use crate::report::euros;
use crate::report::results::Results;

/// The table of contents' entries of the sections present.
pub(super) fn links(page: &mut String, results: &Results) {
    if results.schemes.is_some() {
        page.push_str("<a href=\"#schemes\">Two schemes</a>");
    }
}

/// Every study section present, in reading order.
pub(super) fn sections(page: &mut String, results: &Results) {
    if let Some(schemes) = &results.schemes {
        schemes_section(page, results, schemes);
    }
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
        &escape(&plural(figures.n_firms_compensated, "firm to compensate", "firms to compensate")),
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
