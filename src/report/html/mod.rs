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
//!
//! The layout: `format` (numbers, labels, escaping) and `palette`
//! (colours) below `charts` (the SVG figures) below `sections` and
//! `tables` (the page's parts); this module fills the page skeleton,
//! `page.html`, whose `{{name}}` placeholders it replaces in one pass.

/// Appends formatted text to a String (writing to a String cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

mod charts;
mod format;
mod palette;
mod sections;
mod studies;
mod tables;

pub use format::{compact, escape, format_number, format_quantity, percent};
pub use palette::category_color;

use crate::report::profile::TerritoryProfile;
use crate::report::results::Results;

/// The page skeleton: the fixed parts of the page, with a `{{name}}`
/// placeholder where [`render`] writes each variable part.
const PAGE: &str = include_str!("page.html");

const STYLE: &str = include_str!("report.css");

const SCRIPT: &str = include_str!("report.js");

/// The whole page.
pub fn render(results: &Results, profile: &TerritoryProfile) -> String {
    let summary = &results.summary;
    let has_part_b = !(results.services.is_empty()
        && results.processes.is_empty()
        && results.investments.is_empty()
        && tables::slice_names(results).len() < 2);
    let mut page = String::with_capacity(256 * 1024);
    fill(&mut page, PAGE, |page, placeholder| match placeholder {
        "inventory" => page.push_str(&escape(summary.inventory.as_deref().unwrap_or("results"))),
        "style" => page.push_str(STYLE),
        "meta" => sections::meta(page, results),
        "study_links" => studies::links(page, results),
        "part_b_link" => {
            if has_part_b {
                page.push_str("<a href=\"#sharing\">Seasons, services, hubs</a>");
            }
        }
        "sections" => {
            sections::summary_section(page, results, profile);
            sections::sankey_section(page, results);
            studies::uncertainty_section(page, results);
            sections::map_section(page, results, profile);
            sections::firms_section(page, results);
            sections::territory_section(page, results, profile);
            sections::profile_section(page, profile);
            studies::sections(page, results);
            if has_part_b {
                tables::part_b_section(page, results);
            }
            tables::tables_section(page, results);
        }
        "version" => page.push_str(&escape(summary.symbiose_version.as_deref().unwrap_or(""))),
        "part_b_files" => {
            if has_part_b {
                page.push_str("; flow_slices.csv, services.csv, processes.csv and investments.csv when written");
            }
        }
        "script" => page.push_str(SCRIPT),
        // Not a placeholder of ours: kept as it stands (the snapshot test of
        // report.html would show it).
        other => {
            page.push_str("{{");
            page.push_str(other);
            page.push_str("}}");
        }
    });
    page
}

/// Appends `template` to `page`, calling `part` for each `{{name}}`
/// placeholder (with `name`) where it stands. Text outside placeholders is
/// copied as it is; a `{{` without its `}}` is copied as text.
fn fill(page: &mut String, template: &str, mut part: impl FnMut(&mut String, &str)) {
    let mut rest = template;
    while let Some((text, after)) = rest.split_once("{{") {
        let Some((name, after)) = after.split_once("}}") else {
            break;
        };
        page.push_str(text);
        part(page, name);
        rest = after;
    }
    page.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_where_they_stand() {
        let mut page = String::new();
        fill(&mut page, "<p>{{a}} and {{b}}</p>{{", |page, name| {
            page.push_str(&name.to_uppercase())
        });
        assert_eq!(page, "<p>A and B</p>{{");
    }
}
