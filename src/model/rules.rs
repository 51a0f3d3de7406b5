//! The rules an inventory's values obey, shared by the loader (`build`,
//! `table`) and by edits (`edit`): one predicate per rule, so that a
//! scenario can never set a value an input file could not hold.
//!
//! Owns: the number rules that edits also apply ([`EXTERNALITY_VALUE`],
//! [`TRANSPORT_COST`], [`MAX_DISTANCE`], [`QUANTITY`], the instruments'
//! [`TAX`] and [`SUBSIDY`]), the magnitude bound's
//! check and message, and what a service supply is (docs/model.md B2).
//!
//! Invariant: the loader and the edits call these same items; neither
//! restates a rule of its own for these values.

use std::fmt::Display;

use super::table::{Rule, MAX_MAGNITUDE};
use super::{FlowKind, ResourceCategory};

/// A rule on one number, with the loader's message and hint.
pub type NumberRule = Rule<'static, fn(f64) -> bool>;

/// categories.csv `value_eur_per_unit`.
pub const EXTERNALITY_VALUE: NumberRule = Rule {
    holds: |v| v >= 0.0,
    message: "value must be >= 0",
    hint: "give the EUR value of one unit of harm; a credit is a negative amount_per_unit in impacts.csv",
};

/// resources.csv `transport_cost_eur_per_unit_km`.
pub const TRANSPORT_COST: NumberRule = Rule {
    holds: |v| v >= 0.0,
    message: "transport cost must be >= 0",
    hint: "give the EUR cost of moving one unit over one km, 0 if negligible",
};

/// resources.csv `max_distance_km` (an empty cell is unlimited; an edit
/// gives `f64::INFINITY`, which the rule holds).
pub const MAX_DISTANCE: NumberRule = Rule {
    holds: |v| v > 0.0,
    message: "max distance must be > 0",
    hint: "leave the cell empty for an unlimited distance",
};

/// The instrument `tax.<category>` (docs/model.md C1), EUR per impact unit.
pub const TAX: NumberRule = Rule {
    holds: |v| v >= 0.0,
    message: "tax must be >= 0",
    hint: "give the EUR charged per unit of the impact category, 0 for none",
};

/// The instrument `subsidy.<resource>` (docs/model.md C1), EUR per supply unit sent on a link.
pub const SUBSIDY: NumberRule = Rule {
    holds: |v| v >= 0.0,
    message: "subsidy must be >= 0",
    hint: "give the EUR paid per supply unit of the resource exchanged, 0 for none",
};

/// flows.csv `quantity`.
pub const QUANTITY: NumberRule = Rule {
    holds: |v| v >= 0.0,
    message: "quantity must be >= 0",
    hint: "give the amount per year as a number >= 0; the kind column says whether it is a supply or a demand",
};

/// Why a number beyond `limit` in magnitude is refused, the number echoed
/// as `value` shows it (the cell's text, or the number itself).
pub fn too_large(value: impl Display, limit: f64) -> String {
    format!("{value} is too large: numbers may not exceed {limit:e} in magnitude")
}

/// Refuses a finite number beyond [`MAX_MAGNITUDE`], as the loader refuses
/// such a cell (infinities and NaN are left to the rule of the value).
pub fn check_magnitude(value: f64) -> Result<(), String> {
    if value.is_finite() && value.abs() > MAX_MAGNITUDE {
        return Err(too_large(value, MAX_MAGNITUDE));
    }
    Ok(())
}

/// Whether a flow is a service supply (docs/model.md B2): its idle capacity
/// is costless whatever its fallback route costs, and it may have no route.
pub fn is_service_supply(kind: FlowKind, category: ResourceCategory) -> bool {
    kind == FlowKind::Supply && category == ResourceCategory::Service
}
