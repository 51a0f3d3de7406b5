//! The HTML report: one self-contained page (inline CSS, inline SVG drawn
//! here, a few lines of inline JavaScript to sort tables) that coordinators
//! hand to firm managers and elected officials. Pure: results in, a String
//! out; `app` writes it.
//!
//! Must not reference anything outside the page (no network, no external
//! scripts, styles or fonts: system fonts only), and escapes every string
//! from the results before it goes into HTML or SVG. The page sets
//! `document.body.dataset.status` to `ok` once its script has run, or to
//! `error: <message>` on a script error, for headless checks.
//!
//! The figures: summary cards and baseline-vs-optimized externalities per
//! category; a Sankey diagram of the links (suppliers left, receivers right,
//! band width proportional to the externality avoided or to the private
//! surplus, switched without JavaScript); a map of the firms and links
//! (equirectangular projection fitted to the firms' bounding box); per-firm
//! value bars with firms needing compensation flagged; territory value by
//! category and scope; the territory profile in three parts; the tables.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use crate::report::euros;
use crate::report::profile::TerritoryProfile;
use crate::report::results::{LinkRow, Results};

/// Appends formatted text to a String (writing to a String cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// The whole page.
pub fn render(results: &Results, profile: &TerritoryProfile) -> String {
    let mut page = String::with_capacity(256 * 1024);
    let summary = &results.summary;
    let inventory = summary.inventory.as_deref().unwrap_or("results");
    put!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Industrial symbiosis report: {}</title>\n<style>{}</style>\n</head>\n\
         <body data-status=\"loading\">\n",
        escape(inventory),
        STYLE
    );
    header(&mut page, results);
    let has_part_b = !(results.services.is_empty()
        && results.processes.is_empty()
        && results.investments.is_empty()
        && slice_names(results).len() < 2);
    put!(
        page,
        "<nav class=\"toc no-print\" aria-label=\"Contents\"><a href=\"#summary\">Summary</a>\
         <a href=\"#flows\">Flows</a><a href=\"#map-section\">Map</a><a href=\"#firms\">Firms</a>\
         <a href=\"#territory\">Territory</a><a href=\"#profile\">Three parts</a>{}\
         <a href=\"#tables\">Tables</a></nav>\n<main>\n",
        if has_part_b {
            "<a href=\"#sharing\">Seasons, services, hubs</a>"
        } else {
            ""
        }
    );
    summary_section(&mut page, results, profile);
    sankey_section(&mut page, results);
    map_section(&mut page, results, profile);
    firms_section(&mut page, results);
    territory_section(&mut page, results, profile);
    profile_section(&mut page, profile);
    if has_part_b {
        part_b_section(&mut page, results);
    }
    tables_section(&mut page, results);
    put!(
        page,
        "</main>\n<footer><p>Written by symbiose {} from the tables of its results folder \
         (summary.json, links.csv, flow_results.csv, firm_values.csv, territory_values.csv{}). \
         Amounts are per year; EUR/yr. Value captured by firms is private money saved \
         (C<sub>base</sub> &minus; C); value accruing to the territory is the monetised \
         externalities avoided (M<sub>base</sub> &minus; M). The two are reported separately \
         and are not to be added.</p></footer>\n<script>{}</script>\n</body>\n</html>\n",
        escape(summary.symbiose_version.as_deref().unwrap_or("")),
        if has_part_b {
            "; flow_slices.csv, services.csv, processes.csv and investments.csv when written"
        } else {
            ""
        },
        SCRIPT
    );
    page
}

/// Escapes text for HTML content and attribute values (also inside SVG).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// A number with thousands separators and `decimals` decimals: `-1,234.5`.
pub fn format_number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (text.as_str(), None),
    };
    let mut grouped = String::with_capacity(text.len() + text.len() / 3);
    for (position, ch) in integer.chars().enumerate() {
        if position > 0 && (integer.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    let is_zero = !grouped.chars().any(|ch| ch.is_ascii_digit() && ch != '0');
    if value < 0.0 && !is_zero {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A physical quantity: whole numbers from 1,000 up, a few decimals below,
/// trailing zeros dropped.
pub fn format_quantity(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 1000.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    };
    let text = format_number(value, decimals);
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".to_string()
        } else {
            trimmed.to_string()
        }
    } else {
        text
    }
}

/// A short money figure for chart labels: `351.5 M`, `2.21 bn`, `12 k`.
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    let sign = if value < 0.0 && magnitude >= 0.5 { "-" } else { "" };
    if magnitude >= 1e9 {
        format!("{sign}{:.2} bn", magnitude / 1e9)
    } else if magnitude >= 1e6 {
        format!("{sign}{:.1} M", magnitude / 1e6)
    } else if magnitude >= 1e3 {
        format!("{sign}{:.0} k", magnitude / 1e3)
    } else {
        format!("{sign}{magnitude:.0}")
    }
}

/// A share as a percentage: `71%`, `4.2%`, `<0.1%`.
pub fn percent(share: f64) -> String {
    let value = share * 100.0;
    if value != 0.0 && value.abs() < 0.1 {
        "&lt;0.1%".to_string()
    } else if value.abs() < 10.0 {
        format!("{value:.1}%")
    } else {
        format!("{value:.0}%")
    }
}

/// The colour of a resource category (Okabe-Ito, readable by colour-blind
/// readers and in greyscale print by lightness).
pub fn category_color(category: &str) -> &'static str {
    match category {
        "material" => "#8c5a00",
        "energy" => "#d55e00",
        "water" => "#0072b2",
        "service" => "#009e73",
        _ => "#777777",
    }
}

fn scope_color(scope: &str) -> &'static str {
    match scope {
        "global" => "#6a51a3",
        _ => "#2b8a3e",
    }
}

const CATEGORIES: [&str; 4] = ["material", "energy", "water", "service"];

/// `1 link`, `2 links`.
use crate::report::counted as plural;

/// SVG coordinates with one decimal.
fn px(value: f64) -> String {
    format!("{value:.1}")
}

/// Shortens a label to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

fn firm_label(results: &Results, firm_id: &str) -> String {
    match results.firm(firm_id) {
        Some(firm) if !firm.name.is_empty() => firm.name.clone(),
        _ => firm_id.to_string(),
    }
}

fn header(page: &mut String, results: &Results) {
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
        "<header>\n<h1>Industrial symbiosis: what the matched flows are worth</h1>\n\
         <p class=\"meta\">Inventory <b>{}</b> &middot; objective <b>{}</b> &middot; solution {} \
         &middot; supplier share {} &middot; {}, {}, {} in use{}</p>\n</header>\n",
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

fn card(page: &mut String, title: &str, figure: &str, detail: &str) {
    put!(
        page,
        "<div class=\"card\"><div class=\"card-title\">{title}</div>\
         <div class=\"card-figure\">{figure}</div><div class=\"card-detail\">{detail}</div></div>\n"
    );
}

fn summary_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
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

/// Baseline and optimized bars for each externality category.
fn externality_pairs_svg(results: &Results) -> String {
    let rows: Vec<_> = results
        .categories
        .iter()
        .filter(|c| c.baseline != 0.0 || c.optimized != 0.0)
        .collect();
    if rows.is_empty() {
        return "<p>No externality in any category, baseline or optimized.</p>\n".to_string();
    }
    let (label_width, bar_left, bar_width) = (250.0, 260.0, 420.0);
    let row_height = 46.0;
    let height = rows.len() as f64 * row_height + 6.0;
    let mut svg = String::new();
    put!(
        svg,
        "<svg id=\"externality-pairs\" class=\"chart\" viewBox=\"0 0 1000 {h}\" role=\"img\" \
         aria-label=\"Externalities per category, baseline and optimized\">\n",
        h = px(height)
    );
    for (position, category) in rows.iter().enumerate() {
        let top = position as f64 * row_height + 4.0;
        let largest = category.baseline.abs().max(category.optimized.abs());
        let width = |value: f64| {
            if largest > 0.0 {
                bar_width * value.abs() / largest
            } else {
                0.0
            }
        };
        let change = if category.baseline != 0.0 {
            format!(
                " ({}{})",
                if category.optimized <= category.baseline {
                    "-"
                } else {
                    "+"
                },
                percent(((category.baseline - category.optimized) / category.baseline).abs())
            )
        } else {
            String::new()
        };
        let unit = escape(&category.unit);
        put!(
            svg,
            "<g><title>{name}: baseline {b} {unit}, optimized {o} {unit}, avoided {a} {unit}, worth {v} EUR/yr</title>\
             <text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{name}</text>\
             <text x=\"{lx}\" y=\"{sy}\" class=\"small muted\" text-anchor=\"end\">{scope}, {unit}</text>\
             <rect x=\"{bx}\" y=\"{y1}\" width=\"{w1}\" height=\"16\" fill=\"#b8b8b8\"/>\
             <text x=\"{t1}\" y=\"{ly1}\" class=\"small\">baseline {b}</text>\
             <rect x=\"{bx}\" y=\"{y2}\" width=\"{w2}\" height=\"16\" fill=\"{color}\"/>\
             <text x=\"{t2}\" y=\"{ly2}\" class=\"small\">optimized {o}{change}</text></g>\n",
            name = escape(&category.category),
            scope = escape(&category.scope),
            b = format_quantity(category.baseline),
            o = format_quantity(category.optimized),
            a = format_quantity(category.avoided),
            v = euros(category.value_eur),
            lx = px(label_width),
            ty = px(top + 16.0),
            sy = px(top + 32.0),
            bx = px(bar_left),
            y1 = px(top + 2.0),
            w1 = px(width(category.baseline)),
            t1 = px(bar_left + width(category.baseline) + 6.0),
            ly1 = px(top + 14.5),
            y2 = px(top + 21.0),
            w2 = px(width(category.optimized)),
            t2 = px(bar_left + width(category.optimized) + 6.0),
            ly2 = px(top + 33.5),
            color = scope_color(&category.scope),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Which link value sets the widths in the Sankey diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Externality,
    Surplus,
}

impl Measure {
    fn of(self, link: &LinkRow) -> f64 {
        match self {
            Measure::Externality => link.externality_avoided_eur,
            Measure::Surplus => link.surplus_eur,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Measure::Externality => "externality",
            Measure::Surplus => "surplus",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Measure::Externality => "externality avoided",
            Measure::Surplus => "private surplus (money saved by the firms)",
        }
    }
}

/// At most this many nodes per Sankey column; smaller firms share one node.
const SANKEY_MAX_NODES: usize = 14;

struct SankeyNode {
    label: String,
    /// Tooltip: the firm (or the firms merged into this node).
    title: String,
    value: f64,
    /// The node of the smaller firms, drawn last.
    merged: bool,
}

struct SankeyBand {
    left: usize,
    right: usize,
    category: String,
    value: f64,
    lines: Vec<String>,
}

/// Groups one column's firms into at most [`SANKEY_MAX_NODES`] nodes,
/// largest first, the rest in one "other firms" node. Returns the nodes and
/// the node of each firm.
fn sankey_column(results: &Results, totals: &BTreeMap<&str, f64>) -> (Vec<SankeyNode>, HashMap<String, usize>) {
    let mut firms: Vec<(&str, f64)> = totals.iter().map(|(firm, value)| (*firm, *value)).collect();
    firms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let kept = if firms.len() > SANKEY_MAX_NODES {
        SANKEY_MAX_NODES - 1
    } else {
        firms.len()
    };
    let mut nodes = Vec::new();
    let mut node_of = HashMap::new();
    for (firm, value) in &firms[..kept] {
        node_of.insert(firm.to_string(), nodes.len());
        let name = firm_label(results, firm);
        nodes.push(SankeyNode {
            label: shorten(&name, 30),
            title: format!("{name} ({firm})"),
            value: *value,
            merged: false,
        });
    }
    if kept < firms.len() {
        let rest = &firms[kept..];
        let mut title = format!("{} other firms:", rest.len());
        for (firm, _) in rest {
            node_of.insert(firm.to_string(), nodes.len());
            title.push_str("\n  ");
            title.push_str(&firm_label(results, firm));
        }
        nodes.push(SankeyNode {
            label: format!("{} other firms", rest.len()),
            title,
            value: rest.iter().map(|(_, value)| value).sum(),
            merged: true,
        });
    }
    (nodes, node_of)
}

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

/// The Sankey diagram of the links for one measure; widths are the
/// measure's positive part (a link with a negative value is dashed).
fn sankey_svg(results: &Results, measure: Measure) -> String {
    let value = |link: &LinkRow| measure.of(link).max(0.0);
    let mut left_totals: BTreeMap<&str, f64> = BTreeMap::new();
    let mut right_totals: BTreeMap<&str, f64> = BTreeMap::new();
    for link in &results.links {
        *left_totals.entry(link.supplier_firm_id.as_str()).or_default() += value(link);
        *right_totals.entry(link.receiver_firm_id.as_str()).or_default() += value(link);
    }
    let (left, left_of) = sankey_column(results, &left_totals);
    let (mut right, right_of) = sankey_column(results, &right_totals);

    let mut band_index: BTreeMap<(usize, usize, &str), usize> = BTreeMap::new();
    let mut bands: Vec<SankeyBand> = Vec::new();
    for link in &results.links {
        let key = (
            left_of[&link.supplier_firm_id],
            right_of[&link.receiver_firm_id],
            link.supply_category.as_str(),
        );
        let position = *band_index.entry(key).or_insert_with(|| {
            bands.push(SankeyBand {
                left: key.0,
                right: key.1,
                category: link.supply_category.clone(),
                value: 0.0,
                lines: Vec::new(),
            });
            bands.len() - 1
        });
        bands[position].value += value(link);
        bands[position].lines.push(link_line(results, link));
    }
    let total: f64 = left.iter().map(|node| node.value).sum();
    if total <= 0.0 {
        return format!(
            "<p class=\"empty\">No link has a positive {}: nothing to draw.</p>\n",
            measure.label()
        );
    }

    // Receivers ordered by the mean position of their suppliers, weighted by
    // value, which keeps bands from crossing more than they must; the
    // "other firms" node stays last.
    let mut weights = vec![(0.0, 0.0, 0.0, 0usize); right.len()];
    for band in &bands {
        let weight = &mut weights[band.right];
        weight.0 += band.value * band.left as f64;
        weight.1 += band.value;
        weight.2 += band.left as f64;
        weight.3 += 1;
    }
    let has_other = right.last().is_some_and(|node| node.merged);
    let mut right_order: Vec<usize> = (0..right.len()).collect();
    let center = |node: usize| {
        let (weighted, weight, plain, count) = weights[node];
        if weight > 0.0 {
            weighted / weight
        } else {
            plain / count.max(1) as f64
        }
    };
    let sortable = if has_other { right.len() - 1 } else { right.len() };
    right_order[..sortable].sort_by(|a, b| {
        center(*a)
            .total_cmp(&center(*b))
            .then(right[*b].value.total_cmp(&right[*a].value))
    });
    let mut rank_of_right = vec![0; right.len()];
    for (rank, node) in right_order.iter().enumerate() {
        rank_of_right[*node] = rank;
    }
    let reordered: Vec<SankeyNode> = right_order
        .iter()
        .map(|node| SankeyNode {
            label: right[*node].label.clone(),
            title: right[*node].title.clone(),
            value: right[*node].value,
            merged: right[*node].merged,
        })
        .collect();
    right = reordered;
    for band in &mut bands {
        band.right = rank_of_right[band.right];
    }

    // Vertical layout: node heights proportional to value; each node gets at
    // least room for its label.
    let (min_slot, gap, top) = (16.0, 5.0, 8.0);
    // A few firms get a short diagram, many firms a tall one.
    let proportional = (36.0 * left.len().max(right.len()) as f64).clamp(120.0, 460.0);
    let scale = proportional / total;
    let column = |nodes: &[SankeyNode]| -> (Vec<(f64, f64)>, f64) {
        let mut y = 0.0;
        let mut placed = Vec::with_capacity(nodes.len());
        for node in nodes {
            let height = node.value * scale;
            let slot = height.max(min_slot);
            placed.push((y + (slot - height) / 2.0, height));
            y += slot + gap;
        }
        (placed, (y - gap).max(0.0))
    };
    let (mut left_pos, left_height) = column(&left);
    let (mut right_pos, right_height) = column(&right);
    let height = left_height.max(right_height);
    for (positions, column_height) in [(&mut left_pos, left_height), (&mut right_pos, right_height)] {
        for position in positions.iter_mut() {
            position.0 += top + (height - column_height) / 2.0;
        }
    }
    let (left_x, right_x, node_width) = (300.0, 688.0, 12.0);
    let svg_height = height + 2.0 * top;

    let mut svg = String::new();
    put!(
        svg,
        "<svg id=\"sankey-{id}\" class=\"chart sankey-chart\" viewBox=\"0 0 1000 {h}\" role=\"img\" \
         aria-label=\"Flows from supplier firms (left) to receiver firms (right), width by {label}\">\n",
        id = measure.id(),
        h = px(svg_height),
        label = measure.label()
    );
    // Bands leave each supplier in receiver order and reach each receiver
    // in supplier order.
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by_key(|band| (bands[*band].left, bands[*band].right, bands[*band].category.clone()));
    let mut left_offset = vec![0.0; left.len()];
    let mut starts = vec![0.0; bands.len()];
    for band in &order {
        let node = bands[*band].left;
        starts[*band] = left_pos[node].0 + left_offset[node];
        left_offset[node] += bands[*band].value * scale;
    }
    order.sort_by_key(|band| (bands[*band].right, bands[*band].left, bands[*band].category.clone()));
    let mut right_offset = vec![0.0; right.len()];
    let mut ends = vec![0.0; bands.len()];
    for band in &order {
        let node = bands[*band].right;
        ends[*band] = right_pos[node].0 + right_offset[node];
        right_offset[node] += bands[*band].value * scale;
    }
    let (x0, x1) = (left_x + node_width, right_x);
    let middle = (x0 + x1) / 2.0;
    // Widest bands first, so thin ones stay visible on top.
    let mut drawing: Vec<usize> = (0..bands.len()).collect();
    drawing.sort_by(|a, b| bands[*b].value.total_cmp(&bands[*a].value).then(a.cmp(b)));
    for band_position in drawing {
        let band = &bands[band_position];
        let width = band.value * scale;
        let (y0, y1) = (starts[band_position], ends[band_position]);
        let title = escape(&band.lines.join("\n"));
        let color = category_color(&band.category);
        if width <= 0.0 {
            put!(
                svg,
                "<path class=\"band band-zero\" d=\"M{x0} {y0} C{m} {y0} {m} {y1} {x1} {y1}\" stroke=\"{color}\">\
                 <title>{title}</title></path>\n",
                x0 = px(x0),
                x1 = px(x1),
                m = px(middle),
                y0 = px(y0),
                y1 = px(y1)
            );
        } else {
            put!(
                svg,
                "<path class=\"band\" d=\"M{x0} {a0} C{m} {a0} {m} {a1} {x1} {a1} L{x1} {b1} C{m} {b1} {m} {b0} {x0} {b0} Z\" \
                 fill=\"{color}\" stroke=\"{color}\"><title>{title}</title></path>\n",
                x0 = px(x0),
                x1 = px(x1),
                m = px(middle),
                a0 = px(y0),
                a1 = px(y1),
                b0 = px(y0 + width),
                b1 = px(y1 + width)
            );
        }
    }
    for (nodes, positions, x, anchor, label_x) in [
        (&left, &left_pos, left_x, "end", left_x - 8.0),
        (&right, &right_pos, right_x, "start", right_x + node_width + 8.0),
    ] {
        for (node, (y, height)) in nodes.iter().zip(positions.iter()) {
            put!(
                svg,
                "<g class=\"node\"><title>{title}\n{value} EUR/yr</title>\
                 <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/>\
                 <text x=\"{lx}\" y=\"{ly}\" text-anchor=\"{anchor}\" class=\"label\">{label} \
                 <tspan class=\"muted\">{short}</tspan></text></g>\n",
                title = escape(&node.title),
                value = euros(node.value),
                x = px(x),
                y = px(*y),
                w = px(node_width),
                h = px(height.max(1.5)),
                lx = px(label_x),
                ly = px(y + height / 2.0 + 4.0),
                label = escape(&node.label),
                short = compact(node.value)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn legend_html(categories: &BTreeSet<&str>) -> String {
    let mut legend = String::from("<ul class=\"legend\">");
    for category in CATEGORIES
        .iter()
        .copied()
        .filter(|c| categories.contains(c))
        .chain(categories.iter().copied().filter(|c| !CATEGORIES.contains(c)))
    {
        put!(
            legend,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            category_color(category),
            escape(category)
        );
    }
    legend.push_str("</ul>\n");
    legend
}

fn sankey_section(page: &mut String, results: &Results) {
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

/// A "nice" step (1, 2 or 5 times a power of ten) near `rough`.
fn nice_step(rough: f64) -> f64 {
    if rough <= 0.0 || !rough.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(rough.log10().floor());
    let fraction = rough / power;
    let nice = if fraction < 1.5 {
        1.0
    } else if fraction < 3.5 {
        2.0
    } else if fraction < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * power
}

fn decimals_for(step: f64) -> usize {
    (-step.log10().floor()).max(0.0) as usize
}

/// The map: firms as circles, links as curves coloured by category, on an
/// equirectangular projection fitted to the firms' bounding box.
fn map_svg(results: &Results, key_firms: &[String]) -> String {
    let firms = &results.firms;
    if firms.is_empty() {
        return "<p class=\"empty\">No firm to draw.</p>\n".to_string();
    }
    let (mut lat_min, mut lat_max, mut lon_min, mut lon_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for firm in firms {
        lat_min = lat_min.min(firm.lat);
        lat_max = lat_max.max(firm.lat);
        lon_min = lon_min.min(firm.lon);
        lon_max = lon_max.max(firm.lon);
    }
    // Pad the box so that circles and labels at the edge stay inside, and
    // give a single point some extent.
    let x_factor = ((lat_min + lat_max) / 2.0).to_radians().cos().max(0.05);
    let lat_pad = ((lat_max - lat_min) * 0.08).max(0.005);
    let lon_pad = ((lon_max - lon_min) * 0.08).max(0.01 / x_factor);
    let (lat_min, lat_max) = ((lat_min - lat_pad).max(-90.0), (lat_max + lat_pad).min(90.0));
    let (lon_min, lon_max) = (lon_min - lon_pad, lon_max + lon_pad);
    let (span_x, span_y) = ((lon_max - lon_min) * x_factor, lat_max - lat_min);
    let (margin, width, max_height) = (44.0, 1000.0, 620.0);
    let available = width - 2.0 * margin;
    let scale = (available / span_x).min(max_height / span_y);
    let (map_width, map_height) = (span_x * scale, span_y * scale);
    let left = margin + (available - map_width) / 2.0;
    let top = 16.0;
    let project = |lat: f64, lon: f64| (left + (lon - lon_min) * x_factor * scale, top + (lat_max - lat) * scale);
    let legend_top = top + map_height + 30.0;
    let svg_height = legend_top + 40.0;

    let mut svg = String::new();
    put!(
        svg,
        "<svg id=\"map\" class=\"chart map\" viewBox=\"0 0 1000 {h}\" role=\"img\" \
         aria-label=\"Map of the firms and of the links in use\">\n<defs>",
        h = px(svg_height)
    );
    for category in CATEGORIES.iter().chain(std::iter::once(&"other")) {
        put!(
            svg,
            "<marker id=\"arrow-{category}\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"9\" \
             markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" \
             fill=\"{}\"/></marker>",
            category_color(category)
        );
    }
    put!(
        svg,
        "</defs>\n<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" class=\"map-frame\"/>\n",
        x = px(left),
        y = px(top),
        w = px(map_width),
        h = px(map_height)
    );

    // Graticule with degree labels, for orientation.
    let step = nice_step(span_y.max(lon_max - lon_min) / 5.0);
    let decimals = decimals_for(step);
    let mut latitude = (lat_min / step).ceil() * step;
    while latitude <= lat_max {
        let (_, y) = project(latitude, lon_min);
        put!(
            svg,
            "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"small muted\" text-anchor=\"end\">{v}&#176;{h}</text>\n",
            x1 = px(left),
            x2 = px(left + map_width),
            y = px(y),
            tx = px(left - 4.0),
            ty = px(y + 4.0),
            v = format!("{:.*}", decimals, latitude.abs()),
            h = if latitude < 0.0 { "S" } else { "N" }
        );
        latitude += step;
    }
    let mut longitude = (lon_min / step).ceil() * step;
    while longitude <= lon_max {
        let (x, _) = project(lat_max, longitude);
        put!(
            svg,
            "<line x1=\"{x}\" y1=\"{y1}\" x2=\"{x}\" y2=\"{y2}\" class=\"grid\"/>\
             <text x=\"{x}\" y=\"{ty}\" class=\"small muted\" text-anchor=\"middle\">{v}&#176;{h}</text>\n",
            x = px(x),
            y1 = px(top),
            y2 = px(top + map_height),
            ty = px(top + map_height + 14.0),
            v = format!("{:.*}", decimals, longitude.abs()),
            h = if longitude < 0.0 { "W" } else { "E" }
        );
        longitude += step;
    }

    // Links: quadratic curves bent to the right of their direction, so that
    // A->B and B->A, and several links between the same firms, stay apart.
    let largest = results
        .links
        .iter()
        .map(|l| l.externality_avoided_eur.max(0.0))
        .fold(0.0, f64::max);
    let mut drawing: Vec<&LinkRow> = results.links.iter().collect();
    drawing.sort_by(|a, b| {
        b.externality_avoided_eur
            .total_cmp(&a.externality_avoided_eur)
            .then(a.supply_flow_id.cmp(&b.supply_flow_id))
            .then(a.demand_flow_id.cmp(&b.demand_flow_id))
    });
    let mut seen_pairs: HashMap<(&str, &str), usize> = HashMap::new();
    for link in drawing {
        let (Some(supplier), Some(receiver)) = (
            results.firm(&link.supplier_firm_id),
            results.firm(&link.receiver_firm_id),
        ) else {
            continue;
        };
        let (xa, ya) = project(supplier.lat, supplier.lon);
        let (xb, yb) = project(receiver.lat, receiver.lon);
        let (dx, dy) = (xb - xa, yb - ya);
        let length = (dx * dx + dy * dy).sqrt();
        if length < 1.0 {
            continue;
        }
        let repeat = seen_pairs
            .entry((link.supplier_firm_id.as_str(), link.receiver_firm_id.as_str()))
            .or_insert(0);
        let bend = 0.12 + 0.07 * *repeat as f64;
        *repeat += 1;
        let (cx, cy) = ((xa + xb) / 2.0 - dy * bend, (ya + yb) / 2.0 + dx * bend);
        // Split at t = 1/2 so that the arrow marker sits mid-curve.
        let (q0x, q0y) = ((xa + cx) / 2.0, (ya + cy) / 2.0);
        let (q1x, q1y) = ((cx + xb) / 2.0, (cy + yb) / 2.0);
        let (mx, my) = ((q0x + q1x) / 2.0, (q0y + q1y) / 2.0);
        let value = link.externality_avoided_eur.max(0.0);
        let stroke = if largest > 0.0 {
            1.2 + 7.0 * (value / largest).sqrt()
        } else {
            1.5
        };
        let category = if CATEGORIES.contains(&link.supply_category.as_str()) {
            link.supply_category.as_str()
        } else {
            "other"
        };
        put!(
            svg,
            "<path class=\"map-link\" d=\"M{xa} {ya} Q{q0x} {q0y} {mx} {my} Q{q1x} {q1y} {xb} {yb}\" \
             stroke=\"{color}\" stroke-width=\"{sw}\" marker-mid=\"url(#arrow-{category})\"><title>{title}</title></path>\n",
            xa = px(xa),
            ya = px(ya),
            q0x = px(q0x),
            q0y = px(q0y),
            mx = px(mx),
            my = px(my),
            q1x = px(q1x),
            q1y = px(q1y),
            xb = px(xb),
            yb = px(yb),
            color = category_color(&link.supply_category),
            sw = px(stroke),
            title = escape(&link_line(results, link))
        );
    }

    // Firms: filled when they take part, sized by the value they capture;
    // a red ring marks a firm needing compensation.
    let largest_value = firms.iter().map(|f| f.value_eur.abs()).fold(0.0, f64::max);
    let mut circles: Vec<_> = firms.iter().collect();
    circles.sort_by_key(|firm| firm.n_links > 0);
    let mut radius_of: HashMap<&str, f64> = HashMap::new();
    for firm in circles {
        let (x, y) = project(firm.lat, firm.lon);
        let taking_part = firm.n_links > 0;
        let radius = if taking_part && largest_value > 0.0 {
            3.5 + 6.5 * (firm.value_eur.abs() / largest_value).sqrt()
        } else if taking_part {
            3.5
        } else {
            3.0
        };
        radius_of.insert(firm.firm_id.as_str(), radius);
        let class = match (taking_part, firm.compensation_needed_eur > 0.0) {
            (_, true) => "firm firm-compensation",
            (true, false) => "firm firm-linked",
            (false, false) => "firm firm-other",
        };
        let mut title = format!("{} ({})", firm_label(results, &firm.firm_id), firm.firm_id);
        for part in [&firm.sector, &firm.zone].into_iter().flatten() {
            title.push_str(", ");
            title.push_str(part);
        }
        put!(
            title,
            "\n{}; value captured {} EUR/yr",
            plural(firm.n_links, "link", "links"),
            euros(firm.value_eur)
        );
        if firm.compensation_needed_eur > 0.0 {
            put!(
                title,
                "; needs {} EUR/yr of compensation",
                euros(firm.compensation_needed_eur)
            );
        }
        put!(
            svg,
            "<circle class=\"{class}\" cx=\"{x}\" cy=\"{y}\" r=\"{r}\"><title>{title}</title></circle>\n",
            x = px(x),
            y = px(y),
            r = px(radius),
            title = escape(&title)
        );
    }

    // Labels for the firms the network depends on most, placed where they
    // overlap no earlier label and, if possible, no other firm's circle.
    type Box = (f64, f64, f64, f64);
    let intersects = |a: Box, b: Box| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let circles: Vec<(&str, Box)> = firms
        .iter()
        .map(|firm| {
            let (x, y) = project(firm.lat, firm.lon);
            let radius = radius_of.get(firm.firm_id.as_str()).copied().unwrap_or(3.0);
            (firm.firm_id.as_str(), (x - radius, y - radius, x + radius, y + radius))
        })
        .collect();
    let mut placed: Vec<Box> = Vec::new();
    for firm_id in key_firms {
        let Some(firm) = results.firm(firm_id) else {
            continue;
        };
        let (x, y) = project(firm.lat, firm.lon);
        let radius = radius_of.get(firm_id.as_str()).copied().unwrap_or(4.0);
        let label = shorten(&firm_label(results, firm_id), 32);
        let text_width = label.chars().count() as f64 * 6.9;
        let gap = radius + 4.0;
        let candidates = [
            (x + gap, y + 4.0, "start"),
            (x - gap, y + 4.0, "end"),
            (x, y - gap - 2.0, "middle"),
            (x, y + gap + 11.0, "middle"),
            (x + gap * 0.7, y - gap * 0.7 - 2.0, "start"),
            (x + gap * 0.7, y + gap * 0.7 + 10.0, "start"),
            (x - gap * 0.7, y - gap * 0.7 - 2.0, "end"),
            (x - gap * 0.7, y + gap * 0.7 + 10.0, "end"),
        ];
        let bounds = |(tx, ty, anchor): (f64, f64, &str)| -> Box {
            let x0 = match anchor {
                "start" => tx,
                "end" => tx - text_width,
                _ => tx - text_width / 2.0,
            };
            (x0, ty - 11.0, x0 + text_width, ty + 2.0)
        };
        let clear_of_labels =
            |b: Box| !placed.iter().any(|p| intersects(b, *p)) && b.0 >= left && b.2 <= left + map_width && b.1 >= top;
        let clear_of_circles = |b: Box| {
            !circles
                .iter()
                .any(|(other, circle)| *other != firm_id.as_str() && intersects(b, *circle))
        };
        let choice = candidates
            .iter()
            .copied()
            .find(|c| clear_of_labels(bounds(*c)) && clear_of_circles(bounds(*c)))
            .or_else(|| candidates.iter().copied().find(|c| clear_of_labels(bounds(*c))))
            .unwrap_or(candidates[0]);
        placed.push(bounds(choice));
        put!(
            svg,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" class=\"map-label\">{label}</text>\n",
            x = px(choice.0),
            y = px(choice.1),
            anchor = choice.2,
            label = escape(&label)
        );
    }

    // Scale bar (km along a parallel at the map's middle latitude).
    let km_per_unit = 111.32 / scale;
    let bar_km = nice_step(map_width * km_per_unit / 5.0);
    let bar_length = bar_km / km_per_unit;
    let bar_y = legend_top + 8.0;
    put!(
        svg,
        "<g class=\"scale-bar\"><line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\"/>\
         <line x1=\"{x0}\" y1=\"{ya}\" x2=\"{x0}\" y2=\"{yb}\"/><line x1=\"{x1}\" y1=\"{ya}\" x2=\"{x1}\" y2=\"{yb}\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"small\" text-anchor=\"middle\">{km} km</text></g>\n",
        x0 = px(left),
        x1 = px(left + bar_length),
        y = px(bar_y),
        ya = px(bar_y - 4.0),
        yb = px(bar_y + 4.0),
        tx = px(left + bar_length / 2.0),
        ty = px(bar_y + 18.0),
        km = format_quantity(bar_km)
    );

    // Legend row.
    let mut x = left + bar_length + 40.0;
    let categories: BTreeSet<&str> = results.links.iter().map(|l| l.supply_category.as_str()).collect();
    for category in CATEGORIES.iter().copied().filter(|c| categories.contains(c)) {
        put!(
            svg,
            "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"4\"/>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"small\">{category}</text>\n",
            x0 = px(x),
            x1 = px(x + 22.0),
            y = px(bar_y),
            color = category_color(category),
            tx = px(x + 27.0),
            ty = px(bar_y + 4.0)
        );
        x += 40.0 + category.len() as f64 * 7.0;
    }
    let mut items = vec![
        ("firm firm-linked", "firm taking part (size: value captured)"),
        ("firm firm-other", "other firm"),
    ];
    if firms.iter().any(|f| f.compensation_needed_eur > 0.0) {
        items.push(("firm firm-compensation", "needs compensation"));
    }
    for (class, text) in items {
        put!(
            svg,
            "<circle class=\"{class}\" cx=\"{cx}\" cy=\"{y}\" r=\"5\"/><text x=\"{tx}\" y=\"{ty}\" class=\"small\">{text}</text>\n",
            cx = px(x + 5.0),
            y = px(bar_y),
            tx = px(x + 14.0),
            ty = px(bar_y + 4.0)
        );
        x += 30.0 + text.len() as f64 * 6.2;
    }
    put!(
        svg,
        "<text x=\"{x}\" y=\"{y}\" class=\"small muted\">Line width: externality avoided; arrows point from supplier to receiver.</text>\n",
        x = px(left),
        y = px(bar_y + 30.0)
    );
    svg.push_str("</svg>\n");
    svg
}

fn map_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
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

/// A horizontal bar chart around zero; each row: label, value, colour,
/// tooltip, and an optional flag drawn in red after the value.
struct Bar {
    label: String,
    value: f64,
    color: &'static str,
    title: String,
    flag: Option<String>,
}

fn bar_chart(id: &str, aria: &str, bars: &[Bar]) -> String {
    let (label_right, bar_left, bar_right, row_height) = (290.0, 300.0, 830.0, 21.0);
    let largest = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let smallest = bars.iter().map(|b| b.value).fold(0.0, f64::min);
    let span = (largest - smallest).max(f64::MIN_POSITIVE);
    let scale = (bar_right - bar_left) / span;
    let zero = bar_left - smallest * scale;
    let height = bars.len() as f64 * row_height + 10.0;
    let mut svg = String::new();
    put!(
        svg,
        "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 1000 {h}\" role=\"img\" aria-label=\"{aria}\">\n",
        h = px(height),
        aria = escape(aria)
    );
    for (position, bar) in bars.iter().enumerate() {
        let y = position as f64 * row_height + 4.0;
        let (x, width) = if bar.value >= 0.0 {
            (zero, bar.value * scale)
        } else {
            (zero + bar.value * scale, -bar.value * scale)
        };
        let text_x = if bar.value >= 0.0 {
            zero + width + 5.0
        } else {
            zero + 5.0
        };
        let flag = bar
            .flag
            .as_ref()
            .map(|flag| format!(" <tspan class=\"flag\">{}</tspan>", escape(flag)))
            .unwrap_or_default();
        put!(
            svg,
            "<g><title>{title}</title><text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"15\" fill=\"{color}\"/>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"small\">{value}{flag}</text></g>\n",
            title = escape(&bar.title),
            lx = px(label_right),
            ty = px(y + 12.0),
            label = escape(&shorten(&bar.label, 40)),
            x = px(x),
            y = px(y),
            w = px(width.max(0.5)),
            color = bar.color,
            vx = px(text_x),
            value = euros(bar.value)
        );
    }
    put!(
        svg,
        "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{h}\" class=\"axis\"/>\n</svg>\n",
        x = px(zero),
        h = px(height)
    );
    svg
}

fn firms_section(page: &mut String, results: &Results) {
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
        })
        .collect();
    put!(
        page,
        "<figure>\n<figcaption>Value captured per firm, EUR/yr, firms taking part.</figcaption>\n{}</figure>\n</section>\n",
        bar_chart("firm-values", "Value captured per firm", &bars)
    );
}

fn territory_section(page: &mut String, results: &Results, profile: &TerritoryProfile) {
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
            "{} &rarr; {} EUR/yr",
            euros(externalities.baseline_eur),
            euros(externalities.optimized_eur)
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
        })
        .collect();
    if bars.is_empty() {
        put!(page, "<p class=\"empty\">No externality category.</p>\n</section>\n");
        return;
    }
    put!(
        page,
        "<figure>\n<figcaption>Value of the externalities avoided per category, EUR/yr, coloured by scope.</figcaption>\n{}</figure>\n</section>\n",
        bar_chart("territory-values", "Value of the externalities avoided per category", &bars)
    );
}

fn profile_section(page: &mut String, profile: &TerritoryProfile) {
    let actors = &profile.actor_system;
    put!(
        page,
        "<section id=\"profile\">\n<h2>The territory's value in three parts</h2>\n\
         <p>Research on territorial value creation reads a territory's value in three parts: its \
         actor system, its resources and its externalities. The same figures are in \
         <code>territory_profile.json</code>.</p>\n"
    );

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

/// How a table cell is shown; the raw value goes into `data-v` for sorting.
enum Cell {
    Text(String),
    /// A firm's name: kept wide enough to read.
    Name(String),
    Money(f64),
    Quantity(f64),
    /// A quantity followed by its unit.
    QuantityIn(f64, String),
    Fixed(f64, usize),
}

fn sortable_table(page: &mut String, id: &str, caption: &str, headers: &[(&str, bool)], rows: Vec<Vec<Cell>>) {
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
fn slice_names(results: &Results) -> Vec<(&str, f64)> {
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
    let flow_of: HashMap<&str, &crate::report::results::FlowRow> =
        results.flows.iter().map(|flow| (flow.flow_id.as_str(), flow)).collect();
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
fn part_b_section(page: &mut String, results: &Results) {
    use Cell::*;
    put!(
        page,
        "<section id=\"sharing\">\n<h2>Seasons, shared services, hubs and investments</h2>\n"
    );
    slices_table(page, results);
    if !results.services.is_empty() {
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
    if !results.processes.is_empty() {
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
    if !results.investments.is_empty() {
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
    put!(page, "</section>\n");
}

fn tables_section(page: &mut String, results: &Results) {
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

const STYLE: &str = include_str!("report.css");

const SCRIPT: &str = include_str!("report.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::{FirmRow, SummaryView};
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
            summary: SummaryView {
                objective: "externalities".to_string(),
                status: "optimal".to_string(),
                proven_optimal: Some(true),
                optimal_over: None,
                supplier_share: 0.5,
                baseline: Totals::default(),
                optimized: Totals::default(),
                firm_value_eur: 0.0,
                territory_value_eur: 0.0,
                n_links: links.len(),
                n_firms: firms.len(),
                n_flows: 0,
                n_candidate_links: None,
                inventory: None,
                symbiose_version: None,
            },
            links,
            flows: Vec::new(),
            firms,
            categories: Vec::new(),
            services: Vec::new(),
            processes: Vec::new(),
            investments: Vec::new(),
            flow_slices: Vec::new(),
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

    #[test]
    fn text_is_escaped_for_html_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(format_number(1234567.891, 2), "1,234,567.89");
        assert_eq!(format_number(-999.6, 0), "-1,000");
        assert_eq!(format_number(-0.004, 2), "0.00");
        assert_eq!(format_quantity(17700.0), "17,700");
        assert_eq!(format_quantity(12.0), "12");
        assert_eq!(format_quantity(477.369659), "477.4");
        assert_eq!(format_quantity(0.0), "0");
        assert_eq!(format_quantity(-0.0001), "0");
        assert_eq!(compact(351_461_376.0), "351.5 M");
        assert_eq!(compact(2_209_057_044.0), "2.21 bn");
        assert_eq!(compact(-12_345.0), "-12 k");
        assert_eq!(percent(0.712), "71%");
        assert_eq!(percent(0.042), "4.2%");
    }

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(0.023), 0.02);
        assert_eq!(nice_step(4.0), 5.0);
        assert_eq!(nice_step(8.0), 10.0);
        assert_eq!(decimals_for(0.02), 2);
        assert_eq!(decimals_for(5.0), 0);
    }
}
