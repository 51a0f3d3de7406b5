//! Units a flow may be given in, and the exact conversions between them
//! (MODEL.md A1: t/kg, MWh/kWh/GJ, m3/L). Any other unit converts only to
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
    use super::conversion_factor;

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
