//! The map of the firms and links: firms as circles at their coordinates,
//! links as curves from supplier to receiver coloured by category, the
//! firms the network depends on most named, a graticule, a scale bar and a
//! legend.
//!
//! The projection is equirectangular, fitted to the firms' padded bounding
//! box ([`Frame`]); every coordinate drawn goes through [`Frame::project`].
//! Lines sketch who exchanges with whom, not routes.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use super::link_line;
use crate::report::counted as plural;
use crate::report::euros;
use crate::report::html::format::{escape, firm_label, format_quantity, px, shorten};
use crate::report::html::palette::{category_color, CATEGORIES};
use crate::report::results::{FirmRow, LinkRow, Results};

/// The map: firms as circles, links as curves coloured by category, on an
/// equirectangular projection fitted to the firms' bounding box.
pub(in crate::report::html) fn map_svg(results: &Results, key_firms: &[String]) -> String {
    let firms = &results.firms;
    if firms.is_empty() {
        return "<p class=\"empty\">No firm to draw.</p>\n".to_string();
    }
    let frame = Frame::fit(firms);
    let Frame {
        left,
        top,
        map_width,
        map_height,
        ..
    } = frame;
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
    graticule(&mut svg, &frame);
    draw_links(&mut svg, results, &frame);
    let radius_of = draw_firms(&mut svg, results, &frame);
    draw_labels(&mut svg, results, key_firms, &frame, &radius_of);
    scale_bar_and_legend(&mut svg, results, &frame, legend_top);
    svg.push_str("</svg>\n");
    svg
}

/// The map's extent: the firms' bounding box, padded, and where it stands in
/// the SVG (left, top, width and height in SVG units).
#[derive(Debug, Clone, Copy)]
struct Frame {
    lat_min: f64,
    lat_max: f64,
    lon_min: f64,
    lon_max: f64,
    /// The cosine of the middle latitude: how much a degree of longitude
    /// shrinks against a degree of latitude.
    x_factor: f64,
    /// SVG units per degree of latitude.
    scale: f64,
    left: f64,
    top: f64,
    map_width: f64,
    map_height: f64,
}

impl Frame {
    /// The frame of `firms` (at least one).
    fn fit(firms: &[FirmRow]) -> Frame {
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
        Frame {
            lat_min,
            lat_max,
            lon_min,
            lon_max,
            x_factor,
            scale,
            left,
            top,
            map_width,
            map_height,
        }
    }

    /// The SVG point of a latitude and longitude.
    fn project(&self, lat: f64, lon: f64) -> (f64, f64) {
        (
            self.left + (lon - self.lon_min) * self.x_factor * self.scale,
            self.top + (self.lat_max - lat) * self.scale,
        )
    }
}

/// Grid lines with degree labels, for orientation: parallels labelled on
/// the left, meridians below the map.
fn graticule(svg: &mut String, frame: &Frame) {
    let Frame {
        lat_min,
        lat_max,
        lon_min,
        lon_max,
        left,
        top,
        map_width,
        map_height,
        ..
    } = *frame;
    let step = nice_step((lat_max - lat_min).max(lon_max - lon_min) / 5.0);
    let decimals = decimals_for(step);
    let degrees = |value: f64, positive: &str, negative: &str| {
        format!(
            "{:.*}&#176;{}",
            decimals,
            value.abs(),
            if value < 0.0 { negative } else { positive }
        )
    };
    for latitude in ticks(lat_min, lat_max, step) {
        let (_, y) = frame.project(latitude, lon_min);
        grid_line(
            svg,
            [left, y, left + map_width, y],
            (left - 4.0, y + 4.0, "end"),
            &degrees(latitude, "N", "S"),
        );
    }
    for longitude in ticks(lon_min, lon_max, step) {
        let (x, _) = frame.project(lat_max, longitude);
        grid_line(
            svg,
            [x, top, x, top + map_height],
            (x, top + map_height + 14.0, "middle"),
            &degrees(longitude, "E", "W"),
        );
    }
}

/// The multiples of `step` from `min` to `max`, by repeated addition.
fn ticks(min: f64, max: f64, step: f64) -> Vec<f64> {
    let mut values = Vec::new();
    let mut value = (min / step).ceil() * step;
    while value <= max {
        values.push(value);
        value += step;
    }
    values
}

/// One grid line from (x1, y1) to (x2, y2) and its label at (x, y) with
/// its text anchor.
fn grid_line(svg: &mut String, [x1, y1, x2, y2]: [f64; 4], (x, y, anchor): (f64, f64, &str), label: &str) {
    put!(
        svg,
        "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" class=\"grid\"/>\
         <text x=\"{x}\" y=\"{y}\" class=\"small muted\" text-anchor=\"{anchor}\">{label}</text>\n",
        x1 = px(x1),
        y1 = px(y1),
        x2 = px(x2),
        y2 = px(y2),
        x = px(x),
        y = px(y)
    );
}

/// Links: quadratic curves bent to the right of their direction, so that
/// A->B and B->A, and several links between the same firms, stay apart;
/// as wide as the externality they avoid, widest drawn first.
fn draw_links(svg: &mut String, results: &Results, frame: &Frame) {
    let project = |lat: f64, lon: f64| frame.project(lat, lon);
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
}

/// Firms: filled when they take part, sized by the value they capture; a
/// red ring marks a firm needing compensation. Returns each firm's radius.
fn draw_firms<'a>(svg: &mut String, results: &'a Results, frame: &Frame) -> HashMap<&'a str, f64> {
    let firms = &results.firms;
    let largest_value = firms.iter().map(|f| f.value_eur.abs()).fold(0.0, f64::max);
    let mut circles: Vec<_> = firms.iter().collect();
    circles.sort_by_key(|firm| firm.n_links > 0);
    let mut radius_of: HashMap<&str, f64> = HashMap::new();
    for firm in circles {
        let (x, y) = frame.project(firm.lat, firm.lon);
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

    radius_of
}

/// Labels for the firms the network depends on most (`key_firms`, in
/// order), each placed where it overlaps no earlier label and, if possible,
/// no other firm's circle.
fn draw_labels(
    svg: &mut String,
    results: &Results,
    key_firms: &[String],
    frame: &Frame,
    radius_of: &HashMap<&str, f64>,
) {
    let firms = &results.firms;
    let Frame {
        left, top, map_width, ..
    } = *frame;
    let project = |lat: f64, lon: f64| frame.project(lat, lon);
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
}

/// Below the map: a scale bar (km along a parallel at the map's middle
/// latitude), then the legend of the categories drawn and of the circles.
fn scale_bar_and_legend(svg: &mut String, results: &Results, frame: &Frame, legend_top: f64) {
    let firms = &results.firms;
    let Frame {
        left, map_width, scale, ..
    } = *frame;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(0.023), 0.02);
        assert_eq!(nice_step(4.0), 5.0);
        assert_eq!(nice_step(8.0), 10.0);
        assert_eq!(decimals_for(0.02), 2);
        assert_eq!(decimals_for(5.0), 0);
    }
}
