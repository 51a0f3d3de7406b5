//! Resilience: what the territory loses when each firm leaves in turn.
//!
//! Owns: [`resilience`], [`ResilienceRow`], resilience.csv
//! ([`resilience_table`]).
//!
//! Each exit is a what-if of the base solve (`solve::Reuse`): the firm's
//! flows carry nothing (`Edit::RemoveFirm` sets their quantities to 0) and
//! the links stay the base's, so its links carry nothing either (a balance
//! row of 0 bounds them) and the models keep their shape: the models the
//! exit does not touch keep the base's solution, the others start from the
//! base's optimal basis (the dual simplex then has a few rows to repair),
//! with no new search for links.
//!
//! Invariant: each firm's exit is solved from the same base solve,
//! independently of the others, so the rows do not depend on thread order.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::candidates::candidate_links;
use crate::io::outputs::RESILIENCE_CSV;
use crate::io::{Frame, Kind};
use crate::model::{Edit, FirmIdx, FlowIdx, Inventory};
use crate::progress::Progress;
use crate::report::schema::{Column, Read, SchemaMismatch, TableBuilder, TableSchema};
use crate::solve::{Reuse, SolveError, SolveOptions};
use crate::value::value_lp_solution;

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
    let links = candidate_links(inventory);
    let (solution, reuse) = Reuse::solve(inventory, &links, &single)?;
    let base = value_lp_solution(inventory, &links, &solution, supplier_share);
    let base_links: Vec<(FlowIdx, FlowIdx)> = base.links.iter().map(|l| (l.supply, l.demand)).collect();
    progress.start(inventory.firms().len(), "firm exits");
    let rows: Result<Vec<ResilienceRow>, SolveError> = (0..inventory.firms().len())
        .into_par_iter()
        .map(|position| {
            let firm = FirmIdx::from_index(position);
            let without = inventory
                .edited(&[Edit::RemoveFirm(firm)])
                .expect("removing a firm is never refused (model::edit)");
            let (solution, _) = reuse.resolve(&without, &links, &single)?;
            let valuation = value_lp_solution(&without, &links, &solution, supplier_share);
            let mut active: Vec<(FlowIdx, FlowIdx)> = valuation.links.iter().map(|l| (l.supply, l.demand)).collect();
            active.sort_unstable();
            let links_lost = base_links
                .iter()
                .filter(|pair| active.binary_search(pair).is_err())
                .count();
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

/// resilience.csv: one row per firm, what its exit costs.
pub static RESILIENCE: TableSchema = TableSchema {
    file: RESILIENCE_CSV,
    columns: Cow::Borrowed(&[
        Column::new("firm_id", Kind::Text, Read::Unread),
        Column::new("territory_value_eur", Kind::Number, Read::Unread),
        Column::new("territory_value_lost_eur", Kind::Number, Read::Unread),
        Column::new("firm_value_lost_eur", Kind::Number, Read::Unread),
        Column::new("links_lost", Kind::Count, Read::Unread),
        Column::new("firms_affected", Kind::Count, Read::Unread),
    ]),
};

/// resilience.csv, sorted by territory value lost (largest first), then firm id.
pub fn resilience_table(inventory: &Inventory, rows: &[ResilienceRow]) -> Result<Frame, SchemaMismatch> {
    let mut rows: Vec<&ResilienceRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        b.territory_value_lost_eur
            .total_cmp(&a.territory_value_lost_eur)
            .then_with(|| inventory.firm(a.firm).id.cmp(&inventory.firm(b.firm).id))
    });
    TableBuilder::new(&RESILIENCE)
        .text(
            "firm_id",
            rows.iter().map(|r| inventory.firm(r.firm).id.clone()).collect(),
        )
        .number(
            "territory_value_eur",
            rows.iter().map(|r| r.territory_value_eur).collect(),
        )
        .number(
            "territory_value_lost_eur",
            rows.iter().map(|r| r.territory_value_lost_eur).collect(),
        )
        .number(
            "firm_value_lost_eur",
            rows.iter().map(|r| r.firm_value_lost_eur).collect(),
        )
        .count("links_lost", rows.iter().map(|r| r.links_lost as u64).collect())
        .count("firms_affected", rows.iter().map(|r| r.firms_affected as u64).collect())
        .finish()
}
