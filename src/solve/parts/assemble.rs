//! A solve's answer put together from its parts (`mod.rs`): each part's
//! columns and duals written at the positions of its links, flows and
//! processes, the flows in no model at their fallback, and the whole's
//! status, objective, MIP gap and seconds.
//!
//! **Invariant:** every position is written by exactly one part or by the
//! flows alone, so the answer does not depend on the order of the parts.

use super::{Part, Rounds, Run};
use crate::model::Inventory;
use crate::solve::lexicographic::Milp;
use crate::solve::model::SliceShares;
use crate::solve::{ExtendedSolution, LpSolution, Objective, SolutionStatus, StageSeconds};

/// The flows in no model: their first criterion in total, and each one's
/// cost per unit, its shadow price (module documentation).
pub(crate) struct Alone {
    pub flows: Vec<usize>,
    pub unit_costs: Vec<f64>,
    pub total: f64,
}

impl Alone {
    pub fn none() -> Self {
        Alone {
            flows: Vec::new(),
            unit_costs: Vec::new(),
            total: 0.0,
        }
    }

    pub fn new(inventory: &Inventory, flows: Vec<usize>, objective: Objective, shares: &SliceShares) -> Self {
        let unit_costs: Vec<f64> = flows
            .iter()
            .map(|&flow| {
                let flow = &inventory.flows()[flow];
                let private = flow.fallback_cost_eur;
                let externality = inventory.monetise(&flow.fallback_impacts);
                match objective {
                    Objective::Externalities => externality,
                    Objective::Private => private,
                    Objective::Social => private + externality,
                }
            })
            .collect();
        let total = flows
            .iter()
            .zip(&unit_costs)
            .map(|(&flow, cost)| {
                let quantity = inventory.flows()[flow].quantity;
                shares
                    .of(flow)
                    .iter()
                    .map(|share| cost * (quantity * share))
                    .sum::<f64>()
            })
            .sum();
        Alone {
            flows,
            unit_costs,
            total,
        }
    }
}

/// The relative MIP gap of the whole: with gap_b = |v_b - bound_b| / |v_b|
/// for each MILP model, sum_b gap_b |v_b| / |sum of every model's v and
/// the flows alone|, for the first stage, and likewise over the MILP
/// models for the second; the larger of the two. One model: its own gap.
pub(crate) fn whole_mip_gap(parts: &[Part], mips: &[usize], constant: f64) -> f64 {
    let ratio = |numerator: f64, denominator: f64, largest: f64| {
        if numerator == 0.0 {
            0.0
        } else if denominator == 0.0 {
            largest
        } else {
            numerator / denominator.abs()
        }
    };
    let milps: Vec<Milp> = mips.iter().filter_map(|&m| parts[m].found().milp).collect();
    let first_numerator: f64 = milps
        .iter()
        .map(|milp| milp.first_gap * milp.first_objective.abs())
        .sum();
    // The MILP parts count with their MILP optimum, the others with theirs.
    let first_total: f64 = parts
        .iter()
        .map(|part| {
            part.found()
                .milp
                .map_or(part.found().first_objective, |milp| milp.first_objective)
        })
        .sum::<f64>()
        + constant;
    let largest_first = milps.iter().map(|milp| milp.first_gap).fold(0.0, f64::max);
    let first = ratio(first_numerator, first_total, largest_first);
    let seconds: Vec<(f64, f64)> = milps.iter().filter_map(|milp| milp.second).collect();
    let second = ratio(
        seconds.iter().map(|(gap, value)| gap * value.abs()).sum(),
        seconds.iter().map(|(_, value)| value).sum(),
        seconds.iter().map(|(gap, _)| *gap).fold(0.0, f64::max),
    );
    first.max(second)
}

/// Puts the parts' solutions together by position: annual link flows are
/// the sums over the slices; the annual shadow price is d(objective)/d(Q_f)
/// with Q_{f,t} = share_t Q_f. A Part A solution has no `extended` part.
pub(crate) fn assemble(parts: &[Part], alone: &Alone, run: &Run, rounds: &Rounds) -> LpSolution {
    let (inventory, shares) = (run.inventory, run.shares);
    let n_links = run.links.len();
    let n_flows = inventory.flows().len();
    let n_slices = inventory.slices().len();
    let mut slice_link_flows = vec![vec![0.0; n_links]; n_slices];
    let mut slice_shadow_prices = vec![vec![0.0; n_flows]; n_slices];
    let mut activities = vec![Vec::new(); inventory.processes().len()];
    let mut status = rounds.mip_status.unwrap_or(SolutionStatus::Optimal);
    let mut first_stage_objective = alone.total;
    let (mut guide, mut first) = (0.0, 0.0);
    for part in parts {
        let (layout, scope, stages) = (&part.layout, &part.scope, part.found());
        if stages.status != SolutionStatus::Optimal {
            status = SolutionStatus::TimeLimit;
        }
        first_stage_objective += stages.first_objective;
        if !part.is_kept() {
            guide += stages.guide_seconds;
            first += stages.first_seconds;
        }
        for slice in 0..n_slices {
            for (position, &link) in scope.links.iter().enumerate() {
                slice_link_flows[slice][link] = stages.columns[layout.link(slice, position)];
            }
            for (row, &flow) in scope.flows.iter().enumerate() {
                slice_shadow_prices[slice][flow] = stages
                    .row_duals
                    .get(slice * layout.n_flows + row)
                    .copied()
                    .unwrap_or(0.0);
            }
        }
        for (position, &process) in scope.processes.iter().enumerate() {
            activities[process] = (0..n_slices)
                .map(|slice| stages.columns[layout.activity(position, slice)].max(0.0))
                .collect();
        }
    }
    for (&flow, cost) in alone.flows.iter().zip(&alone.unit_costs) {
        for prices in &mut slice_shadow_prices {
            prices[flow] = *cost;
        }
    }
    let solve_seconds = run.started.elapsed().as_secs_f64();
    let guide_seconds = if guide + first > 0.0 {
        rounds.first_pass * guide / (guide + first)
    } else {
        0.0
    };
    let stage_seconds = StageSeconds {
        guide: guide_seconds,
        // The MILP stages, when there are any, count in `first`.
        first: solve_seconds - guide_seconds - rounds.second_pass,
        second: rounds.second_pass,
    };
    let n_binaries: usize = parts.iter().map(|part| part.layout.n_binaries()).sum();
    let is_part_a = n_slices == 1 && inventory.processes().is_empty() && n_binaries == 0;
    let mut solution = LpSolution {
        status,
        link_flows: Vec::new(),
        shadow_prices: Vec::new(),
        first_stage_objective,
        solve_seconds,
        stage_seconds,
        extended: None,
    };
    if is_part_a {
        solution.link_flows = slice_link_flows.swap_remove(0);
        solution.shadow_prices = slice_shadow_prices.swap_remove(0);
        return solution;
    }
    solution.link_flows = (0..n_links)
        .map(|link| slice_link_flows.iter().map(|flows| flows[link]).sum())
        .collect();
    let hour_shares = inventory.hour_shares();
    solution.shadow_prices = (0..n_flows)
        .map(|flow| {
            let weights = if inventory.flows()[flow].is_process_port() {
                &hour_shares
            } else {
                shares.of(flow)
            };
            (0..n_slices)
                .map(|slice| weights[slice] * slice_shadow_prices[slice][flow])
                .sum()
        })
        .collect();
    solution.extended = Some(ExtendedSolution {
        slice_link_flows,
        slice_shadow_prices,
        activities,
        n_binaries,
        mip_gap: rounds.mip_gap,
    });
    solution
}
