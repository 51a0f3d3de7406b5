//! The Sankey diagram of the links: supplier firms on the left, receiver
//! firms on the right, one band per pair of nodes and resource category, as
//! wide as the chosen [`Measure`] of its links.
//!
//! Widths are the measure's positive part: a link with a negative value is
//! a dashed line, never a band of negative width. Each column has at most
//! [`SANKEY_MAX_NODES`] nodes, so a large territory stays readable.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use super::link_line;
use crate::report::euros;
use crate::report::html::format::{compact, escape, firm_label, px, shorten};
use crate::report::html::palette::{category_color, CATEGORIES};
use crate::report::results::{LinkRow, Results};

/// Which link value sets the widths in the Sankey diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::report::html) enum Measure {
    Externality,
    Surplus,
}

impl Measure {
    pub(in crate::report::html) fn of(self, link: &LinkRow) -> f64 {
        match self {
            Measure::Externality => link.externality_avoided_eur,
            Measure::Surplus => link.surplus_eur,
        }
    }

    pub(in crate::report::html) fn id(self) -> &'static str {
        match self {
            Measure::Externality => "externality",
            Measure::Surplus => "surplus",
        }
    }

    pub(in crate::report::html) fn label(self) -> &'static str {
        match self {
            Measure::Externality => "externality avoided",
            Measure::Surplus => "private surplus (money saved by the firms)",
        }
    }
}

/// At most this many nodes per Sankey column; smaller firms share one node.
pub(in crate::report::html) const SANKEY_MAX_NODES: usize = 14;

#[derive(Clone)]
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

/// The Sankey diagram of the links for one measure; widths are the
/// measure's positive part (a link with a negative value is dashed).
pub(in crate::report::html) fn sankey_svg(results: &Results, measure: Measure) -> String {
    let value = |link: &LinkRow| measure.of(link).max(0.0);
    let mut left_totals: BTreeMap<&str, f64> = BTreeMap::new();
    let mut right_totals: BTreeMap<&str, f64> = BTreeMap::new();
    for link in &results.links {
        *left_totals.entry(link.supplier_firm_id.as_str()).or_default() += value(link);
        *right_totals.entry(link.receiver_firm_id.as_str()).or_default() += value(link);
    }
    let (left, left_of) = sankey_column(results, &left_totals);
    let (right, right_of) = sankey_column(results, &right_totals);
    let mut bands = sankey_bands(results, measure, &left_of, &right_of);
    let total: f64 = left.iter().map(|node| node.value).sum();
    if total <= 0.0 {
        return format!(
            "<p class=\"empty\">No link has a positive {}: nothing to draw.</p>\n",
            measure.label()
        );
    }
    let right = order_receivers(&right, &mut bands);

    // Vertical layout: node heights proportional to value; each node gets at
    // least room for its label.
    let top = 8.0;
    // A few firms get a short diagram, many firms a tall one.
    let proportional = (36.0 * left.len().max(right.len()) as f64).clamp(120.0, 460.0);
    let scale = proportional / total;
    let (mut left_pos, left_height) = place_column(&left, scale);
    let (mut right_pos, right_height) = place_column(&right, scale);
    let height = left_height.max(right_height);
    for (positions, column_height) in [(&mut left_pos, left_height), (&mut right_pos, right_height)] {
        for position in positions.iter_mut() {
            position.0 += top + (height - column_height) / 2.0;
        }
    }
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
    draw_bands(&mut svg, &bands, &left_pos, &right_pos, scale);
    draw_nodes(&mut svg, [(&left, &left_pos), (&right, &right_pos)]);
    svg.push_str("</svg>\n");
    svg
}

/// The legend of the resource categories drawn: the usual ones in their
/// order, then any other in alphabetical order.
pub(in crate::report::html) fn legend_html(categories: &BTreeSet<&str>) -> String {
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

/// Where the columns stand: the suppliers' nodes at `LEFT_X`, the
/// receivers' at `RIGHT_X`, each `NODE_WIDTH` wide.
const LEFT_X: f64 = 300.0;
const RIGHT_X: f64 = 688.0;
const NODE_WIDTH: f64 = 12.0;

/// The bands: the links grouped by (supplier node, receiver node,
/// category), in the order of their first link, each with its links'
/// tooltip lines.
fn sankey_bands(
    results: &Results,
    measure: Measure,
    left_of: &HashMap<String, usize>,
    right_of: &HashMap<String, usize>,
) -> Vec<SankeyBand> {
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
        bands[position].value += measure.of(link).max(0.0);
        bands[position].lines.push(link_line(results, link));
    }
    bands
}

/// Receivers ordered by the mean position of their suppliers, weighted by
/// value, which keeps bands from crossing more than they must; the "other
/// firms" node stays last. Renumbers the bands' receiver nodes to match.
fn order_receivers(right: &[SankeyNode], bands: &mut [SankeyBand]) -> Vec<SankeyNode> {
    let mut weights = vec![(0.0, 0.0, 0.0, 0usize); right.len()];
    for band in bands.iter() {
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
    for band in bands.iter_mut() {
        band.right = rank_of_right[band.right];
    }
    right_order.iter().map(|node| right[*node].clone()).collect()
}

/// Stacks one column's nodes from the top: each node as tall as its value
/// times `scale`, centred in a slot at least tall enough for its label.
/// Returns each node's (top, height) and the column's height.
fn place_column(nodes: &[SankeyNode], scale: f64) -> (Vec<(f64, f64)>, f64) {
    let (min_slot, gap) = (16.0, 5.0);
    let mut y = 0.0;
    let mut placed = Vec::with_capacity(nodes.len());
    for node in nodes {
        let height = node.value * scale;
        let slot = height.max(min_slot);
        placed.push((y + (slot - height) / 2.0, height));
        y += slot + gap;
    }
    (placed, (y - gap).max(0.0))
}

/// Where each band meets its two nodes: bands stack on a node in the order
/// of the node at their other end, so that they leave each supplier in
/// receiver order and reach each receiver in supplier order.
fn band_ends(
    bands: &[SankeyBand],
    left_pos: &[(f64, f64)],
    right_pos: &[(f64, f64)],
    scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let starts = stack_on_nodes(bands, left_pos, scale, |band| (band.left, band.right));
    let ends = stack_on_nodes(bands, right_pos, scale, |band| (band.right, band.left));
    (starts, ends)
}

/// Where each band meets its node in one column: `nodes(band)` is (its node
/// in this column, its node in the other), and the bands on a node stack
/// from its top in the order of their other node, then category (a band's
/// three keys are unique, so the order is total).
fn stack_on_nodes(
    bands: &[SankeyBand],
    positions: &[(f64, f64)],
    scale: f64,
    nodes: impl Fn(&SankeyBand) -> (usize, usize),
) -> Vec<f64> {
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by_key(|band| {
        let (node, other) = nodes(&bands[*band]);
        (node, other, bands[*band].category.clone())
    });
    let mut offset = vec![0.0; positions.len()];
    let mut tops = vec![0.0; bands.len()];
    for band in &order {
        let node = nodes(&bands[*band]).0;
        tops[*band] = positions[node].0 + offset[node];
        offset[node] += bands[*band].value * scale;
    }
    tops
}

/// The bands as filled curves (dashed lines when their width is zero),
/// widest first so that thin ones stay visible on top.
fn draw_bands(svg: &mut String, bands: &[SankeyBand], left_pos: &[(f64, f64)], right_pos: &[(f64, f64)], scale: f64) {
    let (starts, ends) = band_ends(bands, left_pos, right_pos, scale);
    let (x0, x1) = (LEFT_X + NODE_WIDTH, RIGHT_X);
    let middle = (x0 + x1) / 2.0;
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
}

/// The nodes of both columns with their labels: suppliers labelled on the
/// left of their node, receivers on the right.
fn draw_nodes(svg: &mut String, columns: [(&[SankeyNode], &[(f64, f64)]); 2]) {
    let [left, right] = columns;
    for ((nodes, positions), x, anchor, label_x) in [
        (left, LEFT_X, "end", LEFT_X - 8.0),
        (right, RIGHT_X, "start", RIGHT_X + NODE_WIDTH + 8.0),
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
                w = px(NODE_WIDTH),
                h = px(height.max(1.5)),
                lx = px(label_x),
                ly = px(y + height / 2.0 + 4.0),
                label = escape(&node.label),
                short = compact(node.value)
            );
        }
    }
}
