//! Units a flow may be given in, and the exact conversions between them
//! (docs/model.md A1: t/kg, MWh/kWh/GJ, m3/L). Any other unit converts only to
//! itself.

/// How many `to` units make one `from` unit, when the two convert.
///
/// Identical strings always convert with factor 1, so service units such
/// as `h` or `space_h` need no entry here.
pub fn conversion_factor(from: &str, to: &str) -> Option<f64> {
    if from == to {
        return Some(1.0);
    }
    let (from_dimension, from_base) = base_unit(from)?;
    let (to_dimension, to_base) = base_unit(to)?;
    (from_dimension == to_dimension).then(|| from_base / to_base)
}

/// A quantity in resource units given back in the flow's own unit
/// (`unit_factor` resource units per flow unit). A conversion that is not
/// the identity is rounded to 12 significant digits: the factors are not
/// exact in binary (1 GJ = 1/3.6 MWh), so 500 GJ read and given back would
/// come out as 499.99999999999994, and the digits past the twelfth are
/// rounding, far below every tolerance of the model.
pub fn to_flow_unit(resource_units: f64, unit_factor: f64) -> f64 {
    let value = resource_units / unit_factor;
    if unit_factor == 1.0 || value == 0.0 || !value.is_finite() {
        return value;
    }
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// The units that convert (docs/model.md A1), spelt as symbiose reads them.
pub const CONVERTIBLE_UNITS: [&str; 7] = ["t", "kg", "MWh", "kWh", "GJ", "m3", "L"];

/// A hint for units that differ from a convertible unit only in case
/// ("mwh", "Kg"): unit names stay case-sensitive, since SI prefixes are
/// (mWh would be a milliwatt-hour, MWh a megawatt-hour), so symbiose does
/// not guess; the hint names the spelling it reads. `None` when no unit
/// given is such a near miss.
pub fn case_hint(units: &[&str]) -> Option<String> {
    units.iter().find_map(|unit| {
        let known = CONVERTIBLE_UNITS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(unit) && *known != unit)?;
        Some(format!("unit names are case-sensitive: write {known:?}, not {unit:?}"))
    })
}

/// The dimension and the size of one unit in that dimension's base unit.
fn base_unit(unit: &str) -> Option<(&'static str, f64)> {
    Some(match unit {
        "t" => ("mass", 1000.0),
        "kg" => ("mass", 1.0),
        "MWh" => ("energy", 3600.0),
        "kWh" => ("energy", 3.6),
        "GJ" => ("energy", 1000.0),
        "m3" => ("volume", 1000.0),
        "L" => ("volume", 1.0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{case_hint, conversion_factor, to_flow_unit, CONVERTIBLE_UNITS};

    #[test]
    fn quantities_given_back_in_the_flow_unit_are_the_quantities_given() {
        let factor = conversion_factor("GJ", "MWh").unwrap();
        assert_eq!(500.0 * factor / factor, 499.99999999999994, "the rounding to hide");
        assert_eq!(to_flow_unit(500.0 * factor, factor), 500.0);
        for given in [1e-3, 0.1, 7.0, 123.456, 6.72e6, 1e12] {
            for (from, to) in [("GJ", "MWh"), ("kWh", "MWh"), ("kg", "t"), ("L", "m3")] {
                let factor = conversion_factor(from, to).unwrap();
                assert_eq!(to_flow_unit(given * factor, factor), given, "{given} {from}");
            }
        }
        // The identity is left alone, to the last digit.
        assert_eq!(to_flow_unit(0.1 + 0.2, 1.0), 0.1 + 0.2);
    }

    #[test]
    fn every_convertible_unit_converts_and_case_variants_get_the_spelling() {
        for unit in CONVERTIBLE_UNITS {
            assert_eq!(conversion_factor(unit, unit), Some(1.0));
            assert!(case_hint(&[unit]).is_none(), "{unit} is spelt right");
        }
        assert_eq!(
            case_hint(&["mwh"]).as_deref(),
            Some("unit names are case-sensitive: write \"MWh\", not \"mwh\"")
        );
        assert_eq!(
            case_hint(&["t", "KG"]).as_deref(),
            Some("unit names are case-sensitive: write \"kg\", not \"KG\"")
        );
        assert!(case_hint(&["tonnes", "h"]).is_none());
    }

    #[test]
    fn converts_within_a_dimension_only() {
        assert_eq!(conversion_factor("kg", "t"), Some(0.001));
        assert_eq!(conversion_factor("t", "kg"), Some(1000.0));
        assert!((conversion_factor("GJ", "MWh").unwrap() - 1.0 / 3.6).abs() <= 1e-15);
        assert_eq!(conversion_factor("kWh", "MWh"), Some(0.001));
        assert_eq!(conversion_factor("L", "m3"), Some(0.001));
        assert_eq!(conversion_factor("t", "MWh"), None);
        assert_eq!(conversion_factor("h", "h"), Some(1.0));
        assert_eq!(conversion_factor("h", "t"), None);
    }
}
