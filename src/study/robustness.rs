//! Near-optimal ranges (`symbiose robustness`, docs/model.md C2 and D10):
//! the ranges of every candidate link and of every firm's value over the
//! solutions within a slack of the first criterion's optimum, as the rows
//! of link_ranges.csv and firm_ranges.csv and robustness.json.
//!
//! The LPs are `solve::near_optimal_ranges`'; this module gives it each
//! firm's value as a linear function of the flows (`value::firm_value_terms`),
//! then makes the rows: every range widened to hold the optimum's own value
//! (the optimum reported is in the set up to docs/model.md A3's
//! lexicographic tolerance, 1e-6), and each link's status from its range.
//!
//! **Invariant:** the rows depend only on the inventory, the links, the
//! optimum and the options, never on the thread count.

use crate::candidates::Link;
use crate::io::Frame;
use crate::model::Inventory;
use crate::progress::Progress;
use crate::report::robustness::{FIRM_RANGES, LINK_RANGES};
use crate::report::schema::{SchemaMismatch, TableBuilder};
use crate::report::studies::{FirmRange, LinkRange};
use crate::solve::{near_optimal_ranges, LpCounts, RangeRequest, SolveError, SolveOptions, ZERO_SHARE};
use crate::value::{firm_value_terms, Valuation};

/// A link's status over the near-optimal solutions.
pub const INDISPENSABLE: &str = "indispensable";
pub const OPTIONAL: &str = "optional";
pub const UNUSED: &str = "unused";

/// What `robustness` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Robustness {
    /// Sorted by (supply flow id, demand flow id).
    pub links: Vec<LinkRange>,
    /// Sorted by firm id.
    pub firms: Vec<FirmRange>,
    pub meta: RobustnessMeta,
}

/// robustness.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RobustnessMeta {
    pub objective: String,
    pub slack: f64,
    /// z*, the first criterion's optimum, EUR per year.
    pub z_star_eur: f64,
    /// slack x max(1, |z*|), EUR per year.
    pub budget_eur: f64,
    pub n_indispensable: usize,
    pub n_optional: usize,
    pub n_unused: usize,
    pub lps: LpCounts,
}

impl RobustnessMeta {
    pub fn to_json(&self) -> Result<Vec<u8>, String> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// The ranges around an optimum (`valuation` of `link_flows`).
#[allow(clippy::too_many_arguments)]
pub fn robustness(
    inventory: &Inventory,
    links: &[Link],
    valuation: &Valuation,
    options: &SolveOptions,
    supplier_share: f64,
    slack: f64,
    progress: &dyn Progress,
) -> Result<Robustness, SolveError> {
    let terms = firm_value_terms(inventory, links, supplier_share);
    let ranges = near_optimal_ranges(
        inventory,
        links,
        options,
        &RangeRequest {
            slack,
            firm_values: &terms,
        },
        progress,
    )?;
    let mut optimal = vec![0.0; links.len()];
    for link in &valuation.links {
        optimal[link.link] = link.quantity;
    }
    let flows = inventory.flows();
    let mut link_rows: Vec<LinkRange> = links
        .iter()
        .enumerate()
        .map(|(position, link)| {
            let (supply, demand) = (&flows[link.supply.index()], &flows[link.demand.index()]);
            let quantity_optimal = optimal[position];
            let quantity_min = ranges.link_min[position].min(quantity_optimal);
            let quantity_max = ranges.link_max[position].max(quantity_optimal);
            let zero = ZERO_SHARE * supply.quantity;
            let status = if quantity_min > zero {
                INDISPENSABLE
            } else if quantity_max > zero {
                OPTIONAL
            } else {
                UNUSED
            };
            LinkRange {
                supply_flow_id: supply.id.clone(),
                demand_flow_id: demand.id.clone(),
                supplier_firm_id: inventory.firm(supply.firm).id.clone(),
                receiver_firm_id: inventory.firm(demand.firm).id.clone(),
                supply_resource: inventory.resource(supply.resource).id.clone(),
                demand_resource: inventory.resource(demand.resource).id.clone(),
                quantity_optimal,
                quantity_min,
                quantity_max,
                status: status.to_string(),
            }
        })
        .collect();
    link_rows.sort_by(|a, b| (&a.supply_flow_id, &a.demand_flow_id).cmp(&(&b.supply_flow_id, &b.demand_flow_id)));
    let mut firm_rows: Vec<FirmRange> = valuation
        .firms
        .iter()
        .map(|firm| {
            let index = firm.firm.index();
            FirmRange {
                firm_id: inventory.firm(firm.firm).id.clone(),
                value_optimal_eur: firm.value_eur,
                value_min_eur: ranges.firm_min[index].min(firm.value_eur),
                value_max_eur: ranges.firm_max[index].max(firm.value_eur),
            }
        })
        .collect();
    firm_rows.sort_by(|a, b| a.firm_id.cmp(&b.firm_id));
    let count = |status: &str| link_rows.iter().filter(|row| row.status == status).count();
    let meta = RobustnessMeta {
        objective: options.objective.as_str().to_string(),
        slack,
        z_star_eur: ranges.optimum,
        budget_eur: ranges.budget,
        n_indispensable: count(INDISPENSABLE),
        n_optional: count(OPTIONAL),
        n_unused: count(UNUSED),
        lps: ranges.counts,
    };
    Ok(Robustness {
        links: link_rows,
        firms: firm_rows,
        meta,
    })
}

pub fn link_ranges_table(rows: &[LinkRange]) -> Result<Frame, SchemaMismatch> {
    let text = |f: fn(&LinkRange) -> &String| rows.iter().map(|row| f(row).clone()).collect();
    let number = |f: fn(&LinkRange) -> f64| rows.iter().map(f).collect();
    TableBuilder::new(&LINK_RANGES)
        .text("supply_flow_id", text(|row| &row.supply_flow_id))
        .text("demand_flow_id", text(|row| &row.demand_flow_id))
        .text("supplier_firm_id", text(|row| &row.supplier_firm_id))
        .text("receiver_firm_id", text(|row| &row.receiver_firm_id))
        .text("supply_resource", text(|row| &row.supply_resource))
        .text("demand_resource", text(|row| &row.demand_resource))
        .number("quantity_optimal", number(|row| row.quantity_optimal))
        .number("quantity_min", number(|row| row.quantity_min))
        .number("quantity_max", number(|row| row.quantity_max))
        .text("status", text(|row| &row.status))
        .finish()
}

pub fn firm_ranges_table(rows: &[FirmRange]) -> Result<Frame, SchemaMismatch> {
    TableBuilder::new(&FIRM_RANGES)
        .text("firm_id", rows.iter().map(|row| row.firm_id.clone()).collect())
        .number(
            "value_optimal_eur",
            rows.iter().map(|row| row.value_optimal_eur).collect(),
        )
        .number("value_min_eur", rows.iter().map(|row| row.value_min_eur).collect())
        .number("value_max_eur", rows.iter().map(|row| row.value_max_eur).collect())
        .finish()
}
