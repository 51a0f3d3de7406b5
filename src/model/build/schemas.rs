//! The columns of every inventory file, required and optional
//! (docs/model.md A1, B1, B3).
//!
//! Invariant: a file is read through its schema only; a column that is
//! in neither list is reported by the table reader, not read.

use crate::model::table::Schema;

pub const FIRMS_SCHEMA: Schema = Schema {
    required: &["firm_id", "name", "lat", "lon"],
    optional: &["sector", "zone"],
};
pub const FLOWS_SCHEMA: Schema = Schema {
    required: &["flow_id", "firm_id", "kind", "resource", "quantity", "fallback"],
    optional: &["quality", "unit", "profile"],
};
pub const RESOURCES_SCHEMA: Schema = Schema {
    required: &[
        "resource",
        "category",
        "unit",
        "transport_cost_eur_per_unit_km",
        "max_distance_km",
    ],
    optional: &["ewc_code", "link_fixed_cost_eur_per_km_year"],
};
pub const ROUTES_SCHEMA: Schema = Schema {
    required: &["route", "kind", "unit", "cost_eur_per_unit"],
    optional: &[],
};
pub const SUBSTITUTIONS_SCHEMA: Schema = Schema {
    required: &[
        "supply_resource",
        "demand_resource",
        "ratio",
        "processing_cost_eur_per_unit",
    ],
    optional: &[],
};
pub const IMPACTS_SCHEMA: Schema = Schema {
    required: &["subject", "category", "amount_per_unit"],
    optional: &[],
};
pub const EXTERNALITIES_SCHEMA: Schema = Schema {
    required: &["category", "unit", "value_eur_per_unit", "scope"],
    optional: &[],
};
pub const DISTANCES_SCHEMA: Schema = Schema {
    required: &["from_firm", "to_firm", "distance_km"],
    optional: &[],
};
pub const SLICES_SCHEMA: Schema = Schema {
    required: &["slice", "hours"],
    optional: &[],
};
pub const PROFILES_SCHEMA: Schema = Schema {
    required: &["profile", "slice", "share"],
    optional: &[],
};
pub const PROCESSES_SCHEMA: Schema = Schema {
    required: &["process_id", "firm_id", "cost_eur_per_activity"],
    optional: &["capacity", "fixed_cost_eur_per_year", "name"],
};
pub const PROCESS_IO_SCHEMA: Schema = Schema {
    required: &["process_id", "resource", "direction", "per_activity"],
    optional: &["fallback", "quality"],
};
