//! Small self-contained SVG line charts for the study outputs (sweep.svg,
//! pareto.svg): one or several panels of lines over ticks on a 1-2-5 grid,
//! with labelled markers.
//!
//! Owns layout and the formatting of tick labels: the labels of one axis
//! are distinct (as many decimals as the tick step needs, one unit suffix
//! for the axis), no two tick labels and no two marker labels overlap.
//! Must not read or write files.

use std::fmt::Write;

/// Colours of successive series (colour-blind safe, then greys).
pub const PALETTE: [&str; 8] = [
    "#1b7837", "#2166ac", "#b2182b", "#762a83", "#e08214", "#35978f", "#8c510a", "#4d4d4d",
];

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: String,
    pub points: Vec<(f64, f64)>,
}

/// A labelled point drawn as a ring.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// One plot: axes, series and markers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
}

/// A chart: a title, panels laid out in `columns` columns, a legend (name,
/// colour) on the right and an optional note under the panels.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub panel_width: f64,
    pub panel_height: f64,
    pub legend: Vec<(String, String)>,
    pub note: Option<String>,
}

/// Width of one character of the 12 px sans-serif font, generously: used
/// to keep labels apart.
const CHAR_WIDTH: f64 = 7.0;
const LEGEND_WIDTH: f64 = 250.0;
/// Inside a panel: room for the y tick labels, the x tick labels and the
/// axis labels, and the panel's title.
const PANEL_LEFT: f64 = 84.0;
const PANEL_RIGHT: f64 = 16.0;
const PANEL_TOP: f64 = 28.0;
const PANEL_BOTTOM: f64 = 48.0;

/// Ticks on a 1-2-5 grid covering `[low, high]` with at most
/// `max_intervals` intervals; the first tick is at or below `low`, the last
/// at or above `high`. A zero-width range is widened around its value.
pub fn nice_ticks(low: f64, high: f64, max_intervals: usize) -> Vec<f64> {
    let (mut low, mut high) = if low.is_finite() && high.is_finite() {
        (low.min(high), low.max(high))
    } else {
        (0.0, 1.0)
    };
    if high - low <= f64::EPSILON * low.abs().max(high.abs()).max(f64::MIN_POSITIVE) * 16.0 {
        let half = (low.abs() * 0.05).max(0.5);
        low -= half;
        high += half;
    }
    let raw = (high - low) / max_intervals.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude);
    let first = (low / step + 1e-9).floor();
    let last = (high / step - 1e-9).ceil();
    let n = (last - first).round().max(1.0) as usize;
    (0..=n).map(|k| (first + k as f64) * step + 0.0).collect()
}

/// Labels for evenly spaced ticks: one unit suffix for the axis (k, M, G,
/// from the largest tick), as many decimals as the step needs, so that no
/// two labels are the same.
pub fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let (divisor, suffix) = if largest >= 1e9 {
        (1e9, "G")
    } else if largest >= 1e6 {
        (1e6, "M")
    } else if largest >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let step = ticks
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let mut decimals = if step.is_finite() && step > 0.0 {
        (-(step / divisor).log10() - 1e-9).ceil().max(0.0) as usize
    } else {
        0
    };
    loop {
        let labels: Vec<String> = ticks
            .iter()
            .map(|tick| format!("{:.*}{suffix}", decimals, tick / divisor + 0.0))
            .collect();
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() == labels.len() || decimals >= 15 {
            return labels;
        }
        decimals += 1;
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// A box taken by a label: (left, top, right, bottom).
type Placed = (f64, f64, f64, f64);

fn overlaps(a: &Placed, b: &Placed) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

impl Chart {
    /// The SVG document.
    pub fn render(&self) -> String {
        let columns = self.columns.max(1);
        let rows = self.panels.len().div_ceil(columns).max(1);
        let top = 40.0;
        let note_height = if self.note.is_some() { 24.0 } else { 0.0 };
        let width = columns as f64 * self.panel_width + LEGEND_WIDTH;
        let legend_height = 18.0 * self.legend.len() as f64 + top + 10.0;
        let height = (top + rows as f64 * self.panel_height + note_height).max(legend_height);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = write!(
            svg,
            r#"<text x="{PANEL_LEFT}" y="24" font-size="15">{}</text>"#,
            escape(&self.title)
        );
        for (position, panel) in self.panels.iter().enumerate() {
            let left = (position % columns) as f64 * self.panel_width;
            let panel_top = top + (position / columns) as f64 * self.panel_height;
            draw_panel(&mut svg, panel, left, panel_top, self.panel_width, self.panel_height);
        }
        let legend_left = columns as f64 * self.panel_width + 10.0;
        for (position, (name, colour)) in self.legend.iter().enumerate() {
            let y = top + 10.0 + 18.0 * position as f64;
            let _ = write!(
                svg,
                r#"<rect x="{legend_left:.1}" y="{y:.1}" width="12" height="12" fill="{colour}"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
                legend_left + 18.0,
                y + 10.0,
                escape(name)
            );
        }
        if let Some(note) = &self.note {
            let _ = write!(
                svg,
                r#"<text class="note" x="{PANEL_LEFT}" y="{:.1}">{}</text>"#,
                top + rows as f64 * self.panel_height + 16.0,
                escape(note)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

fn draw_panel(svg: &mut String, panel: &Panel, left: f64, top: f64, width: f64, height: f64) {
    let (plot_left, plot_right) = (left + PANEL_LEFT, left + width - PANEL_RIGHT);
    let (plot_top, plot_bottom) = (top + PANEL_TOP, top + height - PANEL_BOTTOM);
    let points = panel
        .series
        .iter()
        .flat_map(|series| series.points.iter().copied())
        .chain(panel.markers.iter().map(|marker| (marker.x, marker.y)))
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let x_ticks = nice_ticks(x0, x1, 5);
    let y_ticks = nice_ticks(y0, y1, 5);
    let (x0, x1) = (x_ticks[0], x_ticks[x_ticks.len() - 1]);
    let (y0, y1) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let sx = |x: f64| plot_left + (x - x0) / (x1 - x0) * (plot_right - plot_left);
    let sy = |y: f64| plot_bottom - (y - y0) / (y1 - y0) * (plot_bottom - plot_top);
    let _ = write!(
        svg,
        r#"<text class="panel-title" x="{plot_left:.1}" y="{:.1}" font-size="13">{}</text>"#,
        top + 18.0,
        escape(&panel.title)
    );
    // Grid lines, then the axes over them.
    for tick in &y_ticks {
        let _ = write!(
            svg,
            r##"<line x1="{plot_left:.1}" y1="{0:.1}" x2="{plot_right:.1}" y2="{0:.1}" stroke="#dddddd"/>"##,
            sy(*tick)
        );
    }
    let _ = write!(
        svg,
        r#"<line x1="{plot_left:.1}" y1="{plot_bottom:.1}" x2="{plot_right:.1}" y2="{plot_bottom:.1}" stroke="black"/><line x1="{plot_left:.1}" y1="{plot_top:.1}" x2="{plot_left:.1}" y2="{plot_bottom:.1}" stroke="black"/>"#
    );
    // x tick labels: every k-th tick when the labels would touch.
    let x_labels = tick_labels(&x_ticks);
    let widest = x_labels.iter().map(|label| text_width(label)).fold(0.0, f64::max) + 10.0;
    let spacing = (plot_right - plot_left) / (x_ticks.len() - 1).max(1) as f64;
    let stride = (widest / spacing).ceil().max(1.0) as usize;
    for (position, (tick, label)) in x_ticks.iter().zip(&x_labels).enumerate() {
        let _ = write!(
            svg,
            r#"<line x1="{0:.1}" y1="{plot_bottom:.1}" x2="{0:.1}" y2="{1:.1}" stroke="black"/>"#,
            sx(*tick),
            plot_bottom + 4.0
        );
        if position % stride == 0 {
            let _ = write!(
                svg,
                r#"<text class="x-tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                sx(*tick),
                plot_bottom + 17.0,
                escape(label)
            );
        }
    }
    let y_labels = tick_labels(&y_ticks);
    let y_spacing = (plot_bottom - plot_top) / (y_ticks.len() - 1).max(1) as f64;
    let y_stride = (16.0 / y_spacing).ceil().max(1.0) as usize;
    for (position, (tick, label)) in y_ticks.iter().zip(&y_labels).enumerate() {
        if position % y_stride == 0 {
            let _ = write!(
                svg,
                r#"<text class="y-tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                plot_left - 6.0,
                sy(*tick) + 4.0,
                escape(label)
            );
        }
    }
    let middle_y = (plot_top + plot_bottom) / 2.0;
    let axis_x = left + 14.0;
    let _ = write!(
        svg,
        r#"<text class="x-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="y-label" x="{axis_x:.1}" y="{middle_y:.1}" transform="rotate(-90 {axis_x:.1} {middle_y:.1})" text-anchor="middle">{}</text>"#,
        (plot_left + plot_right) / 2.0,
        plot_bottom + 36.0,
        escape(&panel.x_label),
        escape(&panel.y_label)
    );
    for series in &panel.series {
        let points: Vec<(f64, f64)> = series
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline data-series="{}" fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            escape(&series.name),
            series.colour,
            path.join(" ")
        );
        for (x, y) in &points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                sx(*x),
                sy(*y),
                series.colour
            );
        }
    }
    // Marker labels beside their ring, moved down a line while they would
    // cover one already placed.
    let mut placed: Vec<Placed> = Vec::new();
    for marker in &panel.markers {
        let (cx, cy) = (sx(marker.x), sy(marker.y));
        let label_width = text_width(&marker.label);
        let mut baseline = cy - 8.0;
        let mut area = (cx + 9.0, baseline - 12.0, cx + 9.0 + label_width, baseline + 3.0);
        while placed.iter().any(|other| overlaps(&area, other)) {
            baseline += 15.0;
            area = (cx + 9.0, baseline - 12.0, cx + 9.0 + label_width, baseline + 3.0);
        }
        placed.push(area);
        let _ = write!(
            svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="6" fill="none" stroke="black" stroke-width="2"/><text class="marker" x="{:.1}" y="{baseline:.1}">{}</text>"#,
            cx + 9.0,
            escape(&marker.label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range_on_a_1_2_5_grid() {
        let ticks = nice_ticks(0.0, 775.0, 5);
        assert_eq!(ticks, vec![0.0, 200.0, 400.0, 600.0, 800.0]);
        let ticks = nice_ticks(1.54123e9, 1.54181e9, 5);
        assert!(
            ticks[0] <= 1.54123e9 && *ticks.last().unwrap() >= 1.54181e9,
            "{ticks:?}"
        );
        assert!(ticks.len() <= 6, "{ticks:?}");
        // A single value still gets an axis.
        let ticks = nice_ticks(3.0, 3.0, 5);
        assert!(
            ticks.len() >= 2 && ticks[0] < 3.0 && *ticks.last().unwrap() > 3.0,
            "{ticks:?}"
        );
    }

    #[test]
    fn tick_labels_are_distinct_whatever_the_magnitude() {
        for (low, high) in [
            (1.54123e9, 1.54181e9),
            (-2000.0, 0.0),
            (0.0, 775.0),
            (1e-4, 3e-4),
            (999_990.0, 1_000_010.0),
        ] {
            let labels = tick_labels(&nice_ticks(low, high, 5));
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), labels.len(), "{low}..{high}: {labels:?}");
        }
        assert_eq!(
            tick_labels(&nice_ticks(1.5412e9, 1.5418e9, 5)),
            vec!["1.5412G", "1.5414G", "1.5416G", "1.5418G"]
        );
        assert_eq!(tick_labels(&[-1000.0, -500.0, 0.0]), vec!["-1.0k", "-0.5k", "0.0k"]);
    }
}
