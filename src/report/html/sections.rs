//! The page's sections, in reading order: the header's meta line, the
//! summary, the flows (Sankey), the map, the firms, the territory and the
//! territory profile in three parts. The tables and the Part B section are
//! in `tables`.
//!
//! Each section function appends one `<section>` (or, for [`meta`], the
//! header's meta line) to the page; every string from the results or the
//! profile is escaped on the way in.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::charts::{bar_chart, externality_pairs_svg, legend_html, map_svg, sankey_svg, Bar, Measure};
use super::format::{escape, firm_label, format_quantity, percent};
use super::palette::{category_color, scope_color};
use crate::report::counted as plural;
use crate::report::euros;
use crate::report::profile::TerritoryProfile;
use crate::report::results::Results;

/// The header's line under the title: inventory, objective, solution
/// status (warning when not proven optimal or optimal over a subset only),
/// supplier share and counts.
pub(super) fn meta(page: &mut String, results: &Results) {
    let summary = &results.summary;
    let status = if let (true, Some(over)) = (results.proven_optimal(), &summary.optimal_over) {
        format!(
            "{} <strong class=\"warn\">over the {}: the optimum over every candidate link may be better</strong>",
            escape(&summary.status),
            escape(over)
        )
    } else if results.proven_optimal() {
        escape(&summary.status)
    } else {
        format!(
            "<strong class=\"warn\">{}: not proven optimal, the best solution found is reported</strong>",
            escape(&summary.status)
        )
    };
    put!(
        page,
        "Inventory <b>{}</b> &middot; objective <b>{}</b> &middot; solution {} &middot; supplier share {} \
         &middot; {}, {}, {} in use{}",
        escape(summary.inventory.as_deref().unwrap_or("(not recorded)")),
        escape(&summary.objective),
        status,
        summary.supplier_share,
        plural(summary.n_firms, "firm", "firms"),
        plural(summary.n_flows, "flow", "flows"),
        plural(summary.n_links, "link", "links"),
        summary
            .n_candidate_links
            .map(|n| format!(" of {n} candidates"))
            .unwrap_or_default()
    );
}

/// One summary card: a title, a figure and a detail line.
pub(super) fn card(page: &mut String, title: &str, figure: &str, detail: &str) {
    put!(
        page,
        "<div class=\"card\"><div class=\"card-title\">{title}</div>\
         <div class=\"card-figure\">{figure}</div><div class=\"card-detail\">{detail}</div></div>\n"
    );
}

/// The summary cards and the externalities per category.
pub(super) fn summary_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
    let summary = &results.summary;
    let externalities = &profile.externalities;
    let actors = &profile.actor_system;
    put!(
        page,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n"
    );
    card(
        page,
        "Value captured by firms",
        &format!("{} <small>EUR/yr</small>", euros(summary.firm_value_eur)),
        &format!(
            "private cost {} &rarr; {} EUR/yr",
            euros(summary.baseline.private_cost_eur),
            euros(summary.optimized.private_cost_eur)
        ),
    );
    card(
        page,
        "Value accruing to the territory",
        &format!("{} <small>EUR/yr</small>", euros(summary.territory_value_eur)),
        &format!(
            "externalities {} &rarr; {} EUR/yr<br>global {} &middot; local {}",
            euros(summary.baseline.externality_eur),
            euros(summary.optimized.externality_eur),
            euros(externalities.global_eur),
            euros(externalities.local_eur)
        ),
    );
    card(
        page,
        "Firms taking part",
        &format!("{} <small>of {}</small>", actors.n_firms_taking_part, actors.n_firms),
        &format!(
            "{} between {}",
            plural(actors.n_links, "link", "links"),
            plural(actors.n_firm_pairs, "pair of firms", "pairs of firms")
        ),
    );
    let needing: Vec<_> = results
        .firms
        .iter()
        .filter(|firm| firm.compensation_needed_eur > 0.0)
        .collect();
    let total_compensation: f64 = needing.iter().map(|firm| firm.compensation_needed_eur).sum();
    card(
        page,
        "Firms needing compensation",
        &if needing.is_empty() {
            "none".to_string()
        } else {
            format!("<span class=\"warn\">{}</span>", needing.len())
        },
        &if needing.is_empty() {
            "every firm taking part gains".to_string()
        } else {
            format!("{} EUR/yr in all, to make every firm gain", euros(total_compensation))
        },
    );
    put!(page, "</div>\n");
    put!(
        page,
        "<figure>\n<figcaption>Externalities per category: baseline (no links, grey) and optimized \
         (coloured by scope), in physical units; each category on its own scale.</figcaption>\n{}</figure>\n",
        externality_pairs_svg(results)
    );
    put!(page, "</section>\n");
}

/// The Sankey diagrams, one per measure, switched by radio buttons
/// without JavaScript.
pub(super) fn sankey_section(page: &mut String, results: &Results) {
    put!(
        page,
        "<section id=\"flows\">\n<h2>Matched flows: who supplies whom</h2>\n\
         <p>Supplier firms on the left, receiver firms on the right; each band is the links \
         between two firms in one resource category, as wide as what they are worth per year. \
         Hover over a band or a firm for the details.</p>\n"
    );
    if results.links.is_empty() {
        put!(page, "<p class=\"empty\">No link is in use.</p>\n</section>\n");
        return;
    }
    let categories: BTreeSet<&str> = results.links.iter().map(|l| l.supply_category.as_str()).collect();
    put!(
        page,
        "<div class=\"switchable\">\n\
         <input type=\"radio\" name=\"sankey-measure\" id=\"show-externality\" checked>\
         <label for=\"show-externality\">width by externality avoided</label>\
         <input type=\"radio\" name=\"sankey-measure\" id=\"show-surplus\">\
         <label for=\"show-surplus\">width by money saved by the firms</label>\n{}",
        legend_html(&categories)
    );
    for measure in [Measure::Externality, Measure::Surplus] {
        let negative = results.links.iter().filter(|link| measure.of(link) < 0.0).count();
        let positive = results.links.iter().any(|link| measure.of(link) > 0.0);
        let note = if negative > 0 && positive {
            format!(
                " {} with a negative {} {} drawn as dashed lines.",
                plural(negative, "link", "links"),
                measure.label(),
                if negative == 1 { "is" } else { "are" }
            )
        } else {
            String::new()
        };
        put!(
            page,
            "<figure class=\"sankey sankey-{id}\">\n<figcaption>Band width: {label}, EUR/yr \
             (total {total}).{note}</figcaption>\n{svg}</figure>\n",
            id = measure.id(),
            label = measure.label(),
            total = euros(results.links.iter().map(|l| measure.of(l).max(0.0)).sum()),
            svg = sankey_svg(results, measure)
        );
    }
    put!(page, "</div>\n</section>\n");
}

/// The map of the firms and links, the key firms named.
pub(super) fn map_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
    let key_firms: Vec<String> = profile
        .actor_system
        .key_firms
        .iter()
        .map(|firm| firm.firm_id.clone())
        .collect();
    put!(
        page,
        "<section id=\"map-section\">\n<h2>Map of the firms and links</h2>\n\
         <p>Firms at their coordinates (equirectangular projection fitted to the firms); links as \
         curves from supplier to receiver, coloured by the category of the resource supplied. \
         The firms the network depends on most are named. Lines sketch who exchanges with whom, \
         not the routes of pipes or trucks.</p>\n<figure>\n{}</figure>\n</section>\n",
        map_svg(results, &key_firms)
    );
}

/// The value each firm captures, with the firms needing compensation
/// called out.
pub(super) fn firms_section(page: &mut String, results: &Results) {
    let mut firms: Vec<_> = results
        .firms
        .iter()
        .filter(|firm| firm.n_links > 0 || firm.value_eur != 0.0)
        .collect();
    firms.sort_by(|a, b| b.value_eur.total_cmp(&a.value_eur).then(a.firm_id.cmp(&b.firm_id)));
    put!(
        page,
        "<section id=\"firms\">\n<h2>Value captured by each firm</h2>\n\
         <p>Money each firm saves per year, EUR/yr: each link's surplus is credited {share} to the \
         supplier and {rest} to the receiver (supplier share {share}). A firm with a negative value \
         needs that much compensation to take part.</p>\n",
        share = results.summary.supplier_share,
        rest = format_quantity(1.0 - results.summary.supplier_share)
    );
    let needing: Vec<_> = firms.iter().filter(|f| f.compensation_needed_eur > 0.0).collect();
    if needing.is_empty() {
        put!(
            page,
            "<p class=\"ok-note\">No firm needs compensation: every firm taking part gains.</p>\n"
        );
    } else {
        put!(
            page,
            "<div class=\"callout\"><b>{} compensation</b><ul>",
            plural(needing.len(), "firm needs", "firms need")
        );
        for firm in &needing {
            put!(
                page,
                "<li>{}: {} EUR/yr</li>",
                escape(&firm_label(results, &firm.firm_id)),
                euros(firm.compensation_needed_eur)
            );
        }
        put!(page, "</ul></div>\n");
    }
    if firms.is_empty() {
        put!(page, "<p class=\"empty\">No firm takes part.</p>\n</section>\n");
        return;
    }
    let bars: Vec<Bar> = firms
        .iter()
        .map(|firm| Bar {
            label: firm_label(results, &firm.firm_id),
            value: firm.value_eur,
            color: if firm.value_eur < 0.0 { "#c62828" } else { "#3f6e9a" },
            title: format!(
                "{} ({}): {}, cost {} -> {} EUR/yr, value {} EUR/yr",
                firm_label(results, &firm.firm_id),
                firm.firm_id,
                plural(firm.n_links, "link", "links"),
                euros(firm.baseline_cost_eur),
                euros(firm.optimized_cost_eur),
                euros(firm.value_eur)
            ),
            flag: (firm.compensation_needed_eur > 0.0).then(|| "needs compensation".to_string()),
            band: super::studies::band(results, &format!("firm:{}", firm.firm_id)),
        })
        .collect();
    put!(
        page,
        "<figure>\n<figcaption>Value captured per firm, EUR/yr, firms taking part.{}</figcaption>\n{}</figure>\n</section>\n",
        super::studies::band_caption(results),
        bar_chart("firm-values", "Value captured per firm", &bars)
    );
}

/// The value accruing to the territory: by scope, then per category.
pub(super) fn territory_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
    let externalities = &profile.externalities;
    put!(
        page,
        "<section id=\"territory\">\n<h2>Value accruing to the territory</h2>\n\
         <p>Externalities avoided, valued per category: avoided amount &times; value per unit. \
         Global scope (climate) benefits everyone; local scope (landfill, traffic, water) \
         benefits the territory's residents.</p>\n<div class=\"cards\">\n"
    );
    card(
        page,
        "Total",
        &format!("{} <small>EUR/yr</small>", euros(externalities.avoided_eur)),
        &format!(
            "{} &rarr; {} EUR/yr{}",
            euros(externalities.baseline_eur),
            euros(externalities.optimized_eur),
            super::studies::band_text(results, "territory")
        ),
    );
    for (scope, value) in [("global", externalities.global_eur), ("local", externalities.local_eur)] {
        card(
            page,
            &format!(
                "<span class=\"swatch\" style=\"background:{}\"></span>{} scope",
                scope_color(scope),
                if scope == "global" { "Global" } else { "Local" }
            ),
            &format!("{} <small>EUR/yr</small>", euros(value)),
            &if externalities.avoided_eur != 0.0 {
                format!("{} of the total", percent(value / externalities.avoided_eur))
            } else {
                String::new()
            },
        );
    }
    put!(page, "</div>\n");
    let bars: Vec<Bar> = results
        .categories
        .iter()
        .map(|category| Bar {
            label: format!("{} ({})", category.category, category.scope),
            value: category.value_eur,
            color: scope_color(&category.scope),
            title: format!(
                "{}: {} {} avoided x {} EUR/{} = {} EUR/yr",
                category.category,
                format_quantity(category.avoided),
                category.unit,
                format_quantity(category.value_eur_per_unit),
                category.unit,
                euros(category.value_eur)
            ),
            flag: None,
            band: super::studies::band(results, &format!("category:{}", category.category)),
        })
        .collect();
    if bars.is_empty() {
        put!(page, "<p class=\"empty\">No externality category.</p>\n</section>\n");
        return;
    }
    put!(
        page,
        "<figure>\n<figcaption>Value of the externalities avoided per category, EUR/yr, coloured by scope.{}</figcaption>\n{}</figure>\n</section>\n",
        super::studies::band_caption(results),
        bar_chart("territory-values", "Value of the externalities avoided per category", &bars)
    );
}

/// The territory profile in three parts: actor system, resources,
/// externalities (the figures of territory_profile.json).
pub(super) fn profile_section(page: &mut String, profile: &TerritoryProfile) {
    put!(
        page,
        "<section id=\"profile\">\n<h2>The territory's value in three parts</h2>\n\
         <p>Research on territorial value creation reads a territory's value in three parts: its \
         actor system, its resources and its externalities. The same figures are in \
         <code>territory_profile.json</code>.</p>\n"
    );
    actor_system_part(page, profile);
    resources_part(page, profile);
    externalities_part(page, profile);
}

/// Part 1: who takes part, the links per category, the key firms.
fn actor_system_part(page: &mut String, profile: &TerritoryProfile) {
    let actors = &profile.actor_system;
    put!(
        page,
        "<div class=\"part\"><h3>1. The actor system</h3>\n<div class=\"part-grid\"><div>\n<ul class=\"facts\">\
         <li><b>{}</b> of {} taking part ({})</li>\
         <li><b>{}</b> {} between <b>{}</b> {}</li>\
         <li><b>{}</b> supplier {}, <b>{}</b> receiver {}</li></ul>\n",
        actors.n_firms_taking_part,
        plural(actors.n_firms, "firm", "firms"),
        percent(actors.share_of_firms_taking_part),
        actors.n_links,
        if actors.n_links == 1 { "link" } else { "links" },
        actors.n_firm_pairs,
        if actors.n_firm_pairs == 1 {
            "pair of firms"
        } else {
            "pairs of firms"
        },
        actors.n_supplier_firms,
        if actors.n_supplier_firms == 1 { "firm" } else { "firms" },
        actors.n_receiver_firms,
        if actors.n_receiver_firms == 1 { "firm" } else { "firms" },
    );
    if !actors.links_by_category.is_empty() {
        put!(
            page,
            "<table class=\"compact\"><thead><tr><th>category</th><th class=\"num\">links</th>\
             <th class=\"num\">externality avoided, EUR/yr</th></tr></thead><tbody>"
        );
        for category in &actors.links_by_category {
            put!(
                page,
                "<tr><td class=\"swatched\"><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                category_color(&category.category),
                escape(&category.category),
                category.n_links,
                euros(category.externality_avoided_eur)
            );
        }
        put!(page, "</tbody></table>\n");
    }
    put!(page, "</div>\n<div>\n");
    if !actors.key_firms.is_empty() {
        put!(
            page,
            "<h4 class=\"first\">The firms the network depends on most</h4>\n<p class=\"small\">Ranked by the \
             externality avoided on their links: what the territory would lose if the firm left.</p>\n\
             <table class=\"compact\"><thead><tr><th>firm</th><th class=\"num\">links</th>\
             <th class=\"num\">partners</th><th class=\"num\">at stake, EUR/yr</th><th class=\"num\">share</th></tr></thead><tbody>"
        );
        for firm in &actors.key_firms {
            put!(
                page,
                "<tr><td title=\"{id}\">{name}</td><td class=\"num\">{links}</td><td class=\"num\">{partners}</td>\
                 <td class=\"num\">{stake}</td><td class=\"num\">{share}</td></tr>",
                id = escape(&firm.firm_id),
                name = escape(if firm.name.is_empty() {
                    &firm.firm_id
                } else {
                    &firm.name
                }),
                links = firm.n_links,
                partners = firm.n_partners,
                stake = euros(firm.externality_at_stake_eur),
                share = firm.share_of_externality_avoided.map(percent).unwrap_or_default()
            );
        }
        put!(page, "</tbody></table>\n");
    }
    put!(page, "</div>\n</div>\n</div>\n");
}

/// Part 2: waste diverted and virgin resources saved.
fn resources_part(page: &mut String, profile: &TerritoryProfile) {
    put!(
        page,
        "<div class=\"part\"><h3>2. The resources</h3>\n<div class=\"part-grid\">\n"
    );
    for (title, note, rows, empty) in [
        (
            "Waste and by-products diverted",
            "supplies sent to another firm instead of their disposal route",
            &profile.resources.waste_diverted,
            "Nothing diverted.",
        ),
        (
            "Virgin resources saved",
            "demands met by another firm instead of their sourcing route",
            &profile.resources.virgin_resources_saved,
            "Nothing saved.",
        ),
    ] {
        put!(
            page,
            "<div>\n<h4 class=\"first\">{title}</h4>\n<p class=\"small\">Per year, {note}.</p>\n"
        );
        if rows.is_empty() {
            put!(page, "<p class=\"empty\">{empty}</p>\n</div>\n");
            continue;
        }
        put!(
            page,
            "<table class=\"compact\"><thead><tr><th>resource</th><th class=\"num\">quantity</th>\
             <th>unit</th><th class=\"num\">share of its flows</th></tr></thead><tbody>"
        );
        for row in rows.iter() {
            put!(
                page,
                "<tr><td class=\"swatched\"><span class=\"swatch\" style=\"background:{color}\"></span>{resource}</td>\
                 <td class=\"num\">{quantity}</td><td>{unit}</td><td class=\"num\">{share}</td></tr>",
                color = category_color(&row.category),
                resource = escape(&row.resource),
                quantity = format_quantity(row.quantity),
                unit = escape(&row.unit),
                share = row.share.map(percent).unwrap_or_default()
            );
        }
        put!(page, "</tbody></table>\n</div>\n");
    }
    put!(page, "</div>\n</div>\n");
}

/// Part 3: the externalities avoided, in all, by scope and per category.
fn externalities_part(page: &mut String, profile: &TerritoryProfile) {
    let externalities = &profile.externalities;
    put!(
        page,
        "<div class=\"part\"><h3>3. The externalities</h3>\n<div class=\"part-grid\"><div>\n<ul class=\"facts\">\
         <li><b>{}</b> EUR/yr avoided in all, monetised</li><li>global scope (climate): <b>{}</b> EUR/yr</li>\
         <li>local scope: <b>{}</b> EUR/yr</li></ul>\n</div>\n<div>\n\
         <table class=\"compact\"><thead><tr><th>category</th><th>scope</th><th class=\"num\">avoided</th>\
         <th>unit</th><th class=\"num\">EUR/yr</th></tr></thead><tbody>",
        euros(externalities.avoided_eur),
        euros(externalities.global_eur),
        euros(externalities.local_eur)
    );
    for category in &externalities.categories {
        put!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&category.category),
            escape(&category.scope),
            format_quantity(category.avoided),
            escape(&category.unit),
            euros(category.value_eur)
        );
    }
    put!(page, "</tbody></table>\n</div>\n</div>\n</div>\n</section>\n");
}
