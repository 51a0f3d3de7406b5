//! The SVG charts of the report, each a pure function from the results to
//! an `<svg>` element (or a short note when there is nothing to draw):
//! [`bars`] (externality pairs, bars around zero), [`sankey`] (who supplies
//! whom, and by how much) and [`map`] (where the firms and links are).
//!
//! Every string from the results goes through `escape` before it reaches
//! the SVG, and coordinates are written with one decimal (`px`), so the
//! same results always give the same bytes.

mod bars;
mod map;
mod sankey;

pub(super) use bars::{bar_chart, externality_pairs_svg, Bar};
pub(super) use map::map_svg;
pub(super) use sankey::{legend_html, sankey_svg, Measure};

use crate::report::euros;
use crate::report::html::format::{firm_label, format_quantity};
use crate::report::results::{LinkRow, Results};

/// The tooltip line of a link, shared by the Sankey bands and the map's
/// curves.
fn link_line(results: &Results, link: &LinkRow) -> String {
    let resources = if link.supply_resource == link.demand_resource {
        link.supply_resource.clone()
    } else {
        format!("{} as {}", link.supply_resource, link.demand_resource)
    };
    format!(
        "{} \u{2192} {}: {} {} {}; surplus {} EUR/yr, externality avoided {} EUR/yr",
        firm_label(results, &link.supplier_firm_id),
        firm_label(results, &link.receiver_firm_id),
        format_quantity(link.quantity),
        link.supply_unit,
        resources,
        euros(link.surplus_eur),
        euros(link.externality_avoided_eur)
    )
}

#[cfg(test)]
mod tests {
    use super::sankey::SANKEY_MAX_NODES;
    use super::*;
    use crate::report::results::FirmRow;
    use crate::report::Summary;
    use crate::value::Totals;

    fn firm(id: &str, lat: f64, lon: f64, value_eur: f64) -> FirmRow {
        FirmRow {
            firm_id: id.to_string(),
            name: format!("Firm {id}"),
            baseline_cost_eur: 0.0,
            optimized_cost_eur: -value_eur,
            value_eur,
            compensation_needed_eur: (-value_eur).max(0.0),
            n_links: 1,
            lat,
            lon,
            sector: None,
            zone: None,
        }
    }

    fn link(supplier: &str, receiver: &str, category: &str, surplus_eur: f64, externality_avoided_eur: f64) -> LinkRow {
        LinkRow {
            supply_flow_id: format!("{supplier}_out"),
            demand_flow_id: format!("{receiver}_in"),
            supplier_firm_id: supplier.to_string(),
            receiver_firm_id: receiver.to_string(),
            supply_resource: "r".to_string(),
            demand_resource: "r".to_string(),
            distance_km: 1.0,
            quantity: 10.0,
            delivered: 10.0,
            unit_cost_eur: 0.0,
            surplus_eur,
            supplier_value_eur: surplus_eur / 2.0,
            receiver_value_eur: surplus_eur / 2.0,
            externality_avoided_eur,
            supply_category: category.to_string(),
            demand_category: category.to_string(),
            supply_unit: "t".to_string(),
            demand_unit: "t".to_string(),
        }
    }

    fn results(firms: Vec<FirmRow>, links: Vec<LinkRow>) -> Results {
        Results {
            summary: Summary {
                objective: "externalities".to_string(),
                status: "optimal".to_string(),
                proven_optimal: Some(true),
                supplier_share: 0.5,
                baseline: Totals::default(),
                optimized: Totals::default(),
                n_links: links.len(),
                n_firms: firms.len(),
                ..Summary::default()
            },
            links,
            flows: Vec::new(),
            firms,
            categories: Vec::new(),
            services: Vec::new(),
            processes: Vec::new(),
            investments: Vec::new(),
            flow_slices: Vec::new(),
            schemes: None,
            robustness: None,
            uncertainty: None,
        }
    }

    #[test]
    fn a_link_with_a_negative_value_is_a_dashed_line_and_widths_follow_values() {
        let results = results(
            vec![
                firm("a", 50.0, 2.0, 1.0),
                firm("b", 50.1, 2.1, 1.0),
                firm("c", 50.2, 2.0, -1.0),
            ],
            vec![
                link("a", "b", "energy", 300.0, 10.0),
                link("a", "c", "water", -20.0, 30.0),
            ],
        );
        let surplus = sankey_svg(&results, Measure::Surplus);
        assert_eq!(surplus.matches("class=\"band band-zero\"").count(), 1);
        assert_eq!(surplus.matches("class=\"band\"").count(), 1);
        let externality = sankey_svg(&results, Measure::Externality);
        assert_eq!(externality.matches("class=\"band\"").count(), 2);
        assert!(!externality.contains("band-zero"));
        // Supplier a carries both bands: its node is as tall as the two together.
        assert!(externality.contains("Firm a <tspan class=\"muted\">40</tspan>"));
        let map = map_svg(&results, &["a".to_string()]);
        assert_eq!(map.matches("class=\"map-link\"").count(), 2);
        assert!(map.contains("firm-compensation"));
        assert!(map.contains(">Firm a</text>"));
    }

    #[test]
    fn many_firms_share_one_sankey_node() {
        let firms: Vec<FirmRow> = (0..30)
            .map(|i| firm(&format!("f{i:02}"), 50.0, 2.0 + i as f64 * 0.01, 1.0))
            .collect();
        let links: Vec<LinkRow> = (1..30)
            .map(|i| link("f00", &format!("f{i:02}"), "service", 1.0, i as f64))
            .collect();
        let svg = sankey_svg(&results(firms, links), Measure::Externality);
        assert_eq!(svg.matches("<g class=\"node\">").count(), 1 + SANKEY_MAX_NODES);
        assert!(svg.contains(&format!("{} other firms", 29 - (SANKEY_MAX_NODES - 1))));
    }
}
