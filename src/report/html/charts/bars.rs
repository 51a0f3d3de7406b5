//! The bar charts: baseline-against-optimized bars per externality
//! category, and horizontal bars around zero (firm values, territory values
//! per category).
//!
//! Bars are drawn from their absolute size: a negative value in a
//! [`bar_chart`] goes left of the zero line, never as a negative width.

use std::fmt::Write;

use crate::report::euros;
use crate::report::html::format::{escape, format_quantity, percent, px, shorten};
use crate::report::html::palette::scope_color;
use crate::report::results::Results;

/// Baseline and optimized bars for each externality category.
pub(in crate::report::html) fn externality_pairs_svg(results: &Results) -> String {
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

/// A horizontal bar chart around zero; each row: label, value, colour,
/// tooltip, an optional flag drawn in red after the value, and an optional
/// band (low, high), drawn as a whisker across the bar (the P5 to P95 band
/// of `symbiose uncertainty`).
pub(in crate::report::html) struct Bar {
    pub(in crate::report::html) label: String,
    pub(in crate::report::html) value: f64,
    pub(in crate::report::html) color: &'static str,
    pub(in crate::report::html) title: String,
    pub(in crate::report::html) flag: Option<String>,
    pub(in crate::report::html) band: Option<(f64, f64)>,
}

/// The chart of `bars`, one row each, on one scale for all rows; `id` and
/// `aria` name the SVG for scripts and screen readers.
pub(in crate::report::html) fn bar_chart(id: &str, aria: &str, bars: &[Bar]) -> String {
    let (label_right, bar_left, bar_right, row_height) = (290.0, 300.0, 830.0, 21.0);
    // The scale holds every bar and every band.
    let ends = || {
        bars.iter().flat_map(|b| {
            [b.value]
                .into_iter()
                .chain(b.band.into_iter().flat_map(|(low, high)| [low, high]))
        })
    };
    let largest = ends().fold(0.0, f64::max);
    let smallest = ends().fold(0.0, f64::min);
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
        // The value's label after the bar and its band, whichever ends later.
        let reach = bar.band.map_or(bar.value, |(_, high)| high.max(bar.value)).max(0.0);
        let text_x = zero + reach * scale + 5.0;
        let band = bar
            .band
            .map(|(low, high)| {
                let (x1, x2, ym) = (zero + low * scale, zero + high * scale, y + 7.5);
                format!(
                    "<path d=\"M{a} {ym}H{b}M{a} {t}V{u}M{b} {t}V{u}\" class=\"whisker\"/>",
                    a = px(x1),
                    b = px(x2),
                    ym = px(ym),
                    t = px(ym - 4.0),
                    u = px(ym + 4.0)
                )
            })
            .unwrap_or_default();
        let flag = bar
            .flag
            .as_ref()
            .map(|flag| format!(" <tspan class=\"flag\">{}</tspan>", escape(flag)))
            .unwrap_or_default();
        put!(
            svg,
            "<g><title>{title}</title><text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"15\" fill=\"{color}\"/>{band}\
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
