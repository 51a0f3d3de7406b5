//! How figures and text look on the page: numbers with thousands
//! separators, quantities, short money figures, percentages, SVG
//! coordinates, shortened labels, firm names, and HTML escaping.
//!
//! Every function here is pure and total: any finite or non-finite number
//! and any string gives a string, and [`escape`] is the one place text from
//! the results is made safe for HTML and SVG.

use crate::report::results::Results;

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

/// SVG coordinates with one decimal.
pub(super) fn px(value: f64) -> String {
    format!("{value:.1}")
}

/// Shortens a label to `max` characters with an ellipsis.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// The name a firm is shown by: its name, or its id when it has none.
pub(super) fn firm_label(results: &Results, firm_id: &str) -> String {
    match results.firm(firm_id) {
        Some(firm) if !firm.name.is_empty() => firm.name.clone(),
        _ => firm_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
