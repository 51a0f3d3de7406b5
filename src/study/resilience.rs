//! Resilience: what the territory loses when each firm leaves in turn.
//!
//! Owns: [`resilience`], [`ResilienceRow`], resilience.csv
//! ([`resilience_table`]).
//!
//! Invariant: each firm's exit is solved from the same base inventory,
//! independently of the others, so the rows do not depend on thread order.

use polars::prelude::*;
use rayon::prelude::*;

use crate::model::{Edit, FirmIdx, FlowIdx, Inventory};
use crate::progress::Progress;
use crate::solve::{SolveError, SolveOptions};
use crate::value::optimize_inventory;

/// One row of resilience.csv: what the territory loses when a firm leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct ResilienceRow {
    pub firm: FirmIdx,
    pub territory_value_eur: f64,
    pub territory_value_lost_eur: f64,
    pub firm_value_lost_eur: f64,
    pub links_lost: usize,
    pub firms_affected: usize,
}

/// Removes each firm in turn and re-optimizes (in parallel).
pub fn resilience(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
    progress: &dyn Progress,
) -> Result<Vec<ResilienceRow>, SolveError> {
    let mut single = options.clone();
    single.threads = Some(1);
    let (_, _, base) = optimize_inventory(inventory, &single, supplier_share)?;
    let base_links: Vec<(FlowIdx, FlowIdx)> = base.links.iter().map(|l| (l.supply, l.demand)).collect();
    progress.start(inventory.firms().len(), "firm exits");
    let rows: Result<Vec<ResilienceRow>, SolveError> = (0..inventory.firms().len())
        .into_par_iter()
        .map(|position| {
            let firm = FirmIdx::from_index(position);
            let without = inventory
                .edited(&[Edit::RemoveFirm(firm)])
                .expect("removing a firm is never refused (model::edit)");
            let (_, _, valuation) = optimize_inventory(&without, &single, supplier_share)?;
            let active: Vec<(FlowIdx, FlowIdx)> = valuation.links.iter().map(|l| (l.supply, l.demand)).collect();
            let links_lost = base_links.iter().filter(|pair| !active.contains(pair)).count();
            let firms_affected = base
                .firms
                .iter()
                .zip(&valuation.firms)
                .filter(|(before, _)| before.firm != firm)
                .filter(|(before, after)| {
                    (before.value_eur - after.value_eur).abs() > 1e-6 * before.value_eur.abs().max(1.0)
                })
                .count();
            progress.advance(1);
            Ok(ResilienceRow {
                firm,
                territory_value_eur: valuation.territory_value_eur,
                territory_value_lost_eur: base.territory_value_eur - valuation.territory_value_eur,
                firm_value_lost_eur: base.firm_value_eur - valuation.firm_value_eur,
                links_lost,
                firms_affected,
            })
        })
        .collect();
    progress.finish();
    rows
}

/// resilience.csv, sorted by territory value lost (largest first), then firm id.
pub fn resilience_table(inventory: &Inventory, rows: &[ResilienceRow]) -> PolarsResult<DataFrame> {
    let mut rows: Vec<&ResilienceRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        b.territory_value_lost_eur
            .total_cmp(&a.territory_value_lost_eur)
            .then_with(|| inventory.firm(a.firm).id.cmp(&inventory.firm(b.firm).id))
    });
    DataFrame::new_infer_height(vec![
        Column::new(
            "firm_id".into(),
            rows.iter()
                .map(|r| inventory.firm(r.firm).id.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "territory_value_eur".into(),
            rows.iter().map(|r| r.territory_value_eur + 0.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "territory_value_lost_eur".into(),
            rows.iter()
                .map(|r| r.territory_value_lost_eur + 0.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "firm_value_lost_eur".into(),
            rows.iter().map(|r| r.firm_value_lost_eur + 0.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "links_lost".into(),
            rows.iter().map(|r| r.links_lost as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "firms_affected".into(),
            rows.iter().map(|r| r.firms_affected as u64).collect::<Vec<_>>(),
        ),
    ])
}
