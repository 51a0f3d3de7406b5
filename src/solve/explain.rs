//! When banned routes make the problem infeasible, which flows cannot be
//! placed: an elastic copy of the balance rows (good_lp, HiGHS) lets banned
//! fallbacks run again and minimises their total use, in resource units;
//! the flows left with a banned fallback in that solution are the ones to
//! name. A model without processes has independent slices, so the copy is
//! solved slice by slice and a flow short in several slices is named once,
//! with its shortfall summed over the year. With processes, an output's
//! activity may place a banned flow, so no such explanation is attempted.

use good_lp::solvers::highs::highs;
use good_lp::{variable, Expression, ProblemVariables, SolverModel};
use highs::HighsModelStatus;

use super::model::{slice_quantity, slice_shares};
use super::SolveError;
use crate::candidates::Link;
use crate::model::Inventory;

/// Whether an infeasible answer can be explained by banned routes.
pub(crate) fn applies(inventory: &Inventory) -> bool {
    inventory.processes().is_empty() && inventory.flows().iter().any(|flow| inventory.fallback_banned(flow))
}

/// The flows that cannot be placed, slice by slice (module documentation);
/// plain `Infeasible` when none can be named.
pub(crate) fn banned_infeasibility(inventory: &Inventory, links: &[Link]) -> SolveError {
    let flows = inventory.flows();
    let shares = slice_shares(inventory);
    let mut short: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for slice in 0..inventory.slices().len() {
        let quantities: Vec<f64> = (0..flows.len())
            .map(|flow| slice_quantity(inventory, flow, &shares, slice))
            .collect();
        match unplaceable_flows(inventory, links, &quantities) {
            Some(unplaceable) => {
                for (flow, left) in unplaceable {
                    *short.entry(flow).or_insert(0.0) += left;
                }
            }
            None => return SolveError::Infeasible,
        }
    }
    if short.is_empty() {
        SolveError::Infeasible
    } else {
        SolveError::Unplaceable(short.into_iter().collect())
    }
}

/// The flows with a banned fallback that cannot be placed when flow f has
/// `quantities[f]`, with the quantity left over, sorted by flow id: the
/// optimum of an elastic copy of the A3 rows that pays only for the banned
/// fallbacks. `None` when that copy does not solve.
fn unplaceable_flows(inventory: &Inventory, links: &[Link], quantities: &[f64]) -> Option<Vec<(String, f64)>> {
    let flows = inventory.flows();
    let mut variables = ProblemVariables::new();
    let link_columns = variables.add_vector(variable().min(0.0), links.len());
    let fallback_columns = variables.add_vector(variable().min(0.0), flows.len());
    let mut objective = Expression::with_capacity(flows.len());
    for (flow, column) in flows.iter().zip(&fallback_columns) {
        if inventory.fallback_banned(flow) {
            objective.add_mul(1.0, *column);
        }
    }
    let mut rows: Vec<Expression> = fallback_columns
        .iter()
        .map(|column| Expression::from(*column))
        .collect();
    for (link, column) in links.iter().zip(&link_columns) {
        rows[link.supply.index()].add_mul(1.0, *column);
        rows[link.demand.index()].add_mul(link.ratio, *column);
    }
    let mut problem = variables.minimise(objective).using(highs);
    for (row, quantity) in rows.into_iter().zip(quantities) {
        problem.add_constraint(row.eq(*quantity));
    }
    let mut model = problem.try_into_inner().ok()?;
    model.make_quiet();
    let _ = model.try_set_option("threads", 1);
    match model.try_solve() {
        Ok(solved) if solved.status() == HighsModelStatus::Optimal => {
            let values = solved.get_solution().columns().to_vec();
            let mut unplaceable: Vec<(String, f64)> = flows
                .iter()
                .enumerate()
                .filter(|(position, flow)| {
                    inventory.fallback_banned(flow)
                        && values[links.len() + position] > 1e-9 * quantities[*position].max(1.0)
                })
                .map(|(position, flow)| (flow.id.clone(), values[links.len() + position]))
                .collect();
            unplaceable.sort_by(|a, b| a.0.cmp(&b.0));
            Some(unplaceable)
        }
        _ => None,
    }
}
