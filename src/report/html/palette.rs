//! The report's colours: one per resource category (links, bands, swatches)
//! and one per externality scope (territory bars and cards).
//!
//! A category outside [`CATEGORIES`] gets the neutral grey, so any category
//! the results hold can be drawn.

/// The resource categories in the order legends list them.
pub(super) const CATEGORIES: [&str; 4] = ["material", "energy", "water", "service"];

/// The colour of a resource category (Okabe-Ito, readable by colour-blind
/// readers and in greyscale print by lightness).
pub fn category_color(category: &str) -> &'static str {
    match category {
        "material" => "#8c5a00",
        "energy" => "#d55e00",
        "water" => "#0072b2",
        "service" => "#009e73",
        _ => "#777777",
    }
}

/// The colour of an externality scope: global (climate) or local.
pub(super) fn scope_color(scope: &str) -> &'static str {
    match scope {
        "global" => "#6a51a3",
        _ => "#2b8a3e",
    }
}
