//! Loading an inventory with every warning, the spread of its quantities
//! included (`validate`, and the first step of every command).

use crate::candidates::candidate_links;
use crate::io::{CsvDialect, InventorySource, LoadError};
use crate::model::table::short_number;
use crate::model::{InputWarning, Inventory};

use super::*;

/// The widest spread of positive flow quantities (largest / smallest) over
/// which HiGHS was measured to solve every sampled inventory and to leave
/// the small flows accurate (ARCHITECTURE.md, "Numerical tolerances").
pub const QUANTITY_SPREAD_LIMIT: f64 = 1e12;

/// How far from the median quantity a flow is named in the spread warning.
pub(super) const QUANTITY_OUTLIER_FACTOR: f64 = 1e6;

/// A warning when the inventory's positive quantities span more than
/// [`QUANTITY_SPREAD_LIMIT`], naming the flows far from the median (in
/// resource units). `flows_file` is the flows file as the user knows it.
pub fn quantity_spread_warnings(inventory: &Inventory, flows_file: &str) -> Vec<InputWarning> {
    // The flows of flows.csv only: a process port's quantity is derived
    // from its process's capacity (infinite without one).
    let flows: Vec<&crate::model::Flow> = inventory
        .flows()
        .iter()
        .filter(|flow| !flow.is_process_port())
        .collect();
    let mut quantities: Vec<f64> = flows.iter().map(|flow| flow.quantity).filter(|q| *q > 0.0).collect();
    quantities.sort_by(f64::total_cmp);
    let (Some(smallest), Some(largest)) = (quantities.first(), quantities.last()) else {
        return Vec::new();
    };
    if largest / smallest <= QUANTITY_SPREAD_LIMIT {
        return Vec::new();
    }
    let median = quantities[quantities.len() / 2];
    let mut outliers: Vec<&crate::model::Flow> = flows
        .into_iter()
        .filter(|flow| {
            flow.quantity > 0.0
                && (flow.quantity < median / QUANTITY_OUTLIER_FACTOR
                    || flow.quantity > median * QUANTITY_OUTLIER_FACTOR)
        })
        .collect();
    outliers.sort_by(|a, b| a.quantity.total_cmp(&b.quantity).then_with(|| a.id.cmp(&b.id)));
    const LISTED: usize = 10;
    let mut listed: Vec<String> = outliers
        .iter()
        .take(LISTED)
        .map(|flow| {
            format!(
                "{} ({} {})",
                flow.id,
                short_number(flow.quantity),
                inventory.resource(flow.resource).unit
            )
        })
        .collect();
    if outliers.len() > LISTED {
        listed.push(format!("and {} more", outliers.len() - LISTED));
    }
    // A subnormal smallest quantity takes the ratio beyond f64.
    let spread = largest / smallest;
    let spread_text = if spread.is_finite() {
        format!("{spread:.0e}")
    } else {
        "more than 1e308".to_string()
    };
    vec![InputWarning {
        file: flows_file.to_string(),
        line: None,
        message: format!(
            "flow quantities span {} (from {} to {}), more than the {QUANTITY_SPREAD_LIMIT:.0e} over which the solver was checked: the smallest flows may come out inaccurate, or the solve end in numerical trouble; flows more than {QUANTITY_OUTLIER_FACTOR:.0e} times from the median quantity ({}): {}",
            spread_text,
            short_number(*smallest),
            short_number(*largest),
            short_number(median),
            listed.join(", ")
        ),
    }]
}

/// The flows file of an inventory, as warnings name it.
pub(super) fn flows_file(source: &InventorySource) -> String {
    match source {
        InventorySource::Folder(dir) => dir.join("flows.csv").display().to_string(),
        InventorySource::Workbook(path) => format!("{} [sheet flows]", path.display()),
        InventorySource::BundledDunkirk => "bundled:dunkirk/flows.csv".to_string(),
        InventorySource::Tables(_) => "flows (data frame)".to_string(),
    }
}

/// What `symbiose validate` found in a valid inventory.
#[derive(Debug)]
pub struct Validated {
    pub n_firms: usize,
    pub n_flows: usize,
    pub n_candidate_links: usize,
    /// The territory's independent parts (`candidates::components`): parts
    /// with a link or a process, flows in the largest part, and flows with
    /// no link at all (each a part that needs no solve).
    pub n_linked_parts: usize,
    pub largest_part: usize,
    pub n_unlinked_flows: usize,
    /// docs/model.md Part B: slices (when slices.csv is given) and processes.
    pub n_slices: Option<usize>,
    pub n_processes: usize,
    /// Rows of uncertainty.csv, when the inventory has one (docs/model.md D9).
    pub n_uncertain_parameters: Option<usize>,
    pub warnings: Vec<InputWarning>,
}

/// `symbiose validate`: every problem at once, or the counts.
pub fn validate(source: &InventorySource, dialect: CsvDialect) -> Result<Validated, LoadError> {
    let mut loaded = load_checked(source, dialect)?;
    // uncertainty.csv, checked against the inventory like every input.
    let n_uncertain_parameters = match check_uncertainty(source, dialect, &loaded.inventory) {
        Ok(found) => found.map(|(uncertainty, warnings)| {
            loaded.warnings.extend(warnings);
            uncertainty.parameters.len()
        }),
        Err((errors, warnings)) => {
            loaded.warnings.extend(warnings);
            return Err(LoadError::Invalid {
                errors,
                warnings: loaded.warnings,
            });
        }
    };
    let links = candidate_links(&loaded.inventory);
    let parts = crate::candidates::components(&loaded.inventory, &links);
    Ok(Validated {
        n_firms: loaded.inventory.firms().len(),
        n_flows: loaded.inventory.flows().len(),
        n_candidate_links: links.len(),
        n_linked_parts: parts.n_linked(),
        largest_part: parts.largest(),
        n_unlinked_flows: parts.n_unlinked_flows(),
        n_slices: loaded
            .inventory
            .slices_given()
            .then_some(loaded.inventory.slices().len()),
        n_processes: loaded.inventory.processes().len(),
        n_uncertain_parameters,
        warnings: loaded.warnings,
    })
}
