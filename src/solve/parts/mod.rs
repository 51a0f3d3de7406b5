//! Solving a territory part by part (issue 13): the candidate graph's
//! connected components (`candidates::components`: flows joined by links
//! and by a process's ports, so each investment binary stays inside one)
//! share no row, column or binary, so each is a model of its own.
//!
//! [`group`] puts them in models: a part with at least [`BATCH_COLUMNS`]
//! columns alone, smaller parts together when their first flows lie in the
//! same window of [`BATCH_FLOWS`] flows of the inventory (a HiGHS run has a
//! fixed cost that a tiny part would not repay; fixed windows keep the
//! batches of the parts a what-if does not touch as they were, so that
//! `reuse.rs` finds them unchanged); a flow with no link and no process whose fallback is allowed
//! is in no model: it falls back, at its fallback's cost, and its shadow
//! price is that cost. [`solve_parts`] runs the models' stages in parallel
//! (rayon, one HiGHS thread each; `part.rs` holds one model's steps) and
//! `assemble.rs` puts their solutions together by position, so the answer
//! is the same whatever the thread count. A monolithic solve is the case of
//! one model holding everything. `reuse.rs` keeps a solve's parts so that a
//! what-if re-solves only the parts whose model it changes.
//!
//! **docs/model.md A3 for the territory as a whole.** The first stages of
//! every model run first; the second stages then share the slack
//! S = slack x max(1, |v*|), v* the territory's first optimum (the models'
//! optima plus the fixed cost of the flows in no model): model b gets
//! slack x w_b x kappa, w_b = max(1, |v*_b|), kappa = min(1, max(1, |v*|)
//! / sum w). The shares add up to at most S, so the combined solution keeps
//! v <= v* + S, A3's constraint on the whole; when the optima are positive
//! (kappa = 1), a model's share depends on its own optimum alone. One
//! model gets all of S: the monolithic rule. A MILP model (investments) runs its
//! MIP stages in the first round, then, binaries fixed, its LP stages in a
//! second round that shares S with the same weights (the LP optima then
//! stand for the MILP ones: they differ within the MIP gap). A part reused
//! from an earlier solve keeps its solution only if the bound its second
//! stage had is at most its share now; else it is solved again.
//!
//! **Invariant:** a flow, a link and a process belong to exactly one model
//! or to none (a flow alone); the grouping depends only on the inventory
//! and the links; each model is solved the same way whichever thread runs
//! it.

use std::time::Instant;

use rayon::prelude::*;

use super::lexicographic;
use super::model::{self, Scope, SliceShares};
use super::{LpSolution, LpSolver, Objective, SolutionStatus, SolveError, SolveOptions};
use crate::candidates::{components, Link};
use crate::model::Inventory;

mod assemble;
mod part;
mod reuse;

pub(crate) use assemble::Alone;
pub(crate) use part::{configure, Part};
pub use reuse::{Reuse, Reused};

/// Columns (links + flows) from which a part is solved alone, and up to
/// which smaller parts are batched into one model.
pub const BATCH_COLUMNS: usize = 2_000;

/// Smaller parts whose first flows lie in one window of this many flows
/// (in inventory order) are solved as one model.
pub const BATCH_FLOWS: usize = 1_000;

/// The flows, links and processes of one model (the lists of a [`Scope`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Group {
    pub flows: Vec<usize>,
    pub links: Vec<usize>,
    pub processes: Vec<usize>,
}

impl Group {
    fn size(&self) -> usize {
        self.flows.len() + self.links.len()
    }

    fn append(&mut self, other: Group) {
        self.flows.extend(other.flows);
        self.links.extend(other.links);
        self.processes.extend(other.processes);
    }

    /// Sorted lists, as a [`Scope`] needs.
    fn sorted(mut self) -> Group {
        self.flows.sort_unstable();
        self.links.sort_unstable();
        self.processes.sort_unstable();
        self
    }
}

/// How a territory's flows are put in models (module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grouping {
    pub groups: Vec<Group>,
    /// Per flow, its position in its group's `flows` (`usize::MAX` alone).
    pub position: Vec<usize>,
    /// Flows in no model, ascending.
    pub alone: Vec<usize>,
}

/// The models of a decomposed solve (module documentation).
pub(crate) fn group(inventory: &Inventory, links: &[Link]) -> Grouping {
    let parts = components(inventory, links);
    let n_parts = parts.parts.len();
    let mut of_part: Vec<Group> = vec![Group::default(); n_parts];
    for (part, flows) in parts.parts.iter().enumerate() {
        of_part[part].flows = flows.iter().map(|flow| flow.index()).collect();
    }
    for (position, link) in links.iter().enumerate() {
        of_part[parts.part_of_flow[link.supply.index()]].links.push(position);
    }
    let mut portless = Vec::new();
    for (position, process) in inventory.processes().iter().enumerate() {
        match process.ports.first() {
            Some(port) => of_part[parts.part_of_flow[port.index()]].processes.push(position),
            None => portless.push(position),
        }
    }
    let flows = inventory.flows();
    let mut alone = Vec::new();
    // A large part keyed by its first flow; a batch by its window (the
    // second key tells them apart).
    let mut keyed: std::collections::BTreeMap<(usize, bool), Group> = std::collections::BTreeMap::new();
    for (part, group) in of_part.into_iter().enumerate() {
        let solved = parts.linked[part] || group.flows.iter().any(|&flow| inventory.fallback_banned(&flows[flow]));
        let first = group.flows[0];
        if !solved {
            alone.extend(group.flows);
        } else if group.size() >= BATCH_COLUMNS {
            keyed.insert((first, false), group);
        } else {
            keyed
                .entry((first / BATCH_FLOWS * BATCH_FLOWS, true))
                .or_default()
                .append(group);
        }
    }
    let mut groups: Vec<Group> = keyed.into_values().map(Group::sorted).collect();
    groups.sort_by_key(|group| group.flows[0]);
    if groups.is_empty() && !portless.is_empty() {
        groups.push(Group::default());
    }
    if let Some(first) = groups.first_mut() {
        first.processes.extend(portless);
        first.processes.sort_unstable();
    }
    alone.sort_unstable();
    let mut position = vec![usize::MAX; flows.len()];
    for group in &groups {
        for (row, &flow) in group.flows.iter().enumerate() {
            position[flow] = row;
        }
    }
    Grouping {
        groups,
        position,
        alone,
    }
}

/// What every step of one solve shares.
pub(crate) struct Run<'a> {
    pub inventory: &'a Inventory,
    pub links: &'a [Link],
    pub shares: &'a SliceShares,
    pub options: &'a SolveOptions,
    pub solver: LpSolver,
    /// When the solve's clock started (the time limit counts from there):
    /// once the models are built.
    pub started: Instant,
}

impl<'a> Run<'a> {
    pub fn new(
        inventory: &'a Inventory,
        links: &'a [Link],
        shares: &'a SliceShares,
        options: &'a SolveOptions,
    ) -> Self {
        Run {
            inventory,
            links,
            shares,
            options,
            solver: options.solver.unwrap_or(LpSolver::Auto),
            started: Instant::now(),
        }
    }
}

/// How the stages of a solve went, for the whole.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rounds {
    /// The MILP rounds' status (none without binaries).
    pub mip_status: Option<SolutionStatus>,
    pub mip_gap: Option<f64>,
    /// Wall-clock seconds of the last round's first pass and second pass.
    pub first_pass: f64,
    pub second_pass: f64,
}

/// Runs `step` on the parts whose positions are listed, in parallel; the
/// error of the first part (in position order) that failed, if any.
pub(crate) fn each<'a>(
    parts: &mut [Part<'a>],
    which: &[usize],
    step: impl Fn(usize, &mut Part<'a>) -> Result<(), SolveError> + Sync,
) -> Result<(), SolveError> {
    let mut selected: Vec<(usize, &mut Part<'a>)> = parts
        .iter_mut()
        .enumerate()
        .filter(|(position, _)| which.binary_search(position).is_ok())
        .collect();
    // The largest models first, so that a thread is not left with the
    // largest at the end; the order changes no model's answer.
    selected.sort_by_key(|(position, part)| (std::cmp::Reverse(part.layout.n_columns()), *position));
    let mut outcomes: Vec<(usize, Result<(), SolveError>)> = selected
        .into_par_iter()
        .with_max_len(1)
        .map(|(position, part)| (position, step(position, part)))
        .collect();
    outcomes.sort_by_key(|(position, _)| *position);
    outcomes.into_iter().try_for_each(|(_, outcome)| outcome)
}

fn positions<'a>(parts: &[Part<'a>], keep: impl Fn(&Part<'a>) -> bool) -> Vec<usize> {
    (0..parts.len()).filter(|&position| keep(&parts[position])).collect()
}

/// One lexicographic round: the first stage of the built parts listed, then,
/// when every part is optimal and the objective has a second criterion,
/// every second stage within its share of the slack (module
/// documentation). `constant` is the first criterion of the flows in no
/// model. On the first round, a kept part whose second stage had a larger
/// bound than its share now is solved again. Returns the wall-clock seconds
/// of the two passes.
fn round(
    parts: &mut [Part],
    mut which: Vec<usize>,
    run: &Run,
    is_mip: bool,
    constant: f64,
    first_round: bool,
) -> Result<(f64, f64), SolveError> {
    // A part is built when its first stage starts and, when there are
    // several, its model let go after it: only the models being solved
    // take memory while the others wait (`Part::release`).
    let release = parts.len() > 1;
    let first_stage = |_: usize, part: &mut Part| {
        if part.is_prepared() {
            part.build(run)?;
        }
        part.first_stage(run, is_mip && part.is_mip())?;
        if release {
            part.release()?;
        }
        Ok(())
    };
    let started = Instant::now();
    each(parts, &which, first_stage)?;
    let mut first_pass = started.elapsed().as_secs_f64();
    if run.options.objective == Objective::Social
        || parts
            .iter()
            .any(|part| !lexicographic::has_second_stage(&part.plan(run, is_mip), part.found()))
    {
        return Ok((first_pass, 0.0));
    }
    let optima: Vec<f64> = parts.iter().map(|part| part.found().first_objective).collect();
    let total: f64 = optima.iter().sum::<f64>() + constant;
    let weights: Vec<f64> = optima.iter().map(|optimum| optimum.abs().max(1.0)).collect();
    let sum_weights: f64 = weights.iter().sum();
    // Each part gets slack x max(1, |v*_b|), scaled down only when these
    // would add up to more than slack x max(1, |v*|) (optima of both signs,
    // or below 1): then a part's bound depends on its own optimum alone,
    // so a what-if that leaves a part unchanged leaves its bound unchanged.
    // One model alone: kappa is exactly 1, and the bound docs/model.md A3's
    // v* + slack max(1, |v*|).
    let kappa = (total.abs().max(1.0) / sum_weights).min(1.0);
    let slack = run.options.lexicographic_slack;
    let bounds: Vec<f64> = optima
        .iter()
        .zip(&weights)
        .map(|(optimum, weight)| optimum + slack * weight * kappa)
        .collect();
    if first_round {
        let stale = positions(parts, |part| part.is_kept());
        let stale: Vec<usize> = stale
            .into_iter()
            .filter(|&position| {
                parts[position]
                    .found()
                    .second_bound
                    .is_some_and(|kept| kept > bounds[position])
            })
            .collect();
        if !stale.is_empty() {
            let started = Instant::now();
            for &position in &stale {
                parts[position].reset();
            }
            each(parts, &stale, first_stage)?;
            first_pass += started.elapsed().as_secs_f64();
            which.extend(stale);
            which.sort_unstable();
        }
    }
    let started = Instant::now();
    each(parts, &which, |position, part| {
        part.second_stage(run, is_mip && part.is_mip(), bounds[position])
    })?;
    Ok((first_pass, started.elapsed().as_secs_f64()))
}

/// Solves the parts' models (every stage of docs/model.md A3, the MILP
/// rounds included) and puts their solutions together. Prepared parts are
/// built when their first stage starts (the solve's seconds include the
/// building of a decomposed solve's models); kept parts are not solved
/// again unless their share of the slack shrank.
pub(crate) fn solve_parts(parts: &mut [Part], alone: &Alone, run: &Run) -> Result<LpSolution, SolveError> {
    // A kept MILP part may be solved again (its share of the slack shrank):
    // the round must then run it as a MILP.
    let any_mip = parts.iter().any(|part| part.is_mip());
    let mut rounds = Rounds::default();
    let unsolved = positions(parts, |part| !part.is_kept());
    (rounds.first_pass, rounds.second_pass) = round(parts, unsolved, run, any_mip, alone.total, true)?;
    let mips = positions(parts, |part| part.is_mip() && !part.is_kept());
    if !mips.is_empty() {
        each(parts, &mips, |_, part| part.fix_binaries())?;
        // The LP parts are done: only the fixed MILPs run again.
        (rounds.first_pass, rounds.second_pass) = round(parts, mips, run, false, alone.total, false)?;
    }
    // Every MILP part, kept ones included, for the whole's status and gap.
    let all_mips = positions(parts, |part| part.is_mip());
    if !all_mips.is_empty() {
        let optimal = all_mips.iter().all(|&m| {
            parts[m]
                .found()
                .milp
                .is_some_and(|milp| milp.status == SolutionStatus::Optimal)
        });
        rounds.mip_status = Some(if optimal {
            SolutionStatus::Optimal
        } else {
            SolutionStatus::TimeLimit
        });
        rounds.mip_gap = Some(assemble::whole_mip_gap(parts, &all_mips, alone.total));
    }
    Ok(assemble::assemble(parts, alone, run, &rounds))
}

/// Prepares the parts of `groups` (their lists moved into the parts'
/// scopes, `position` shared) in parallel, in order, with their
/// signatures when asked.
pub(crate) fn prepare<'g>(
    inventory: &Inventory,
    links: &[Link],
    groups: Vec<Group>,
    position: &'g [usize],
    shares: &SliceShares,
    options: &SolveOptions,
    with_signature: bool,
) -> Vec<Part<'g>> {
    groups
        .into_par_iter()
        .with_max_len(1)
        .map(|group| {
            let scope = Scope {
                flows: group.flows,
                links: group.links,
                processes: group.processes,
                position,
            };
            Part::prepare(inventory, links, scope, shares, options, with_signature)
        })
        .collect()
}

/// The decomposed solve of `inventory` under `links` (module documentation).
pub(crate) fn solve_decomposed(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
) -> Result<LpSolution, SolveError> {
    let Grouping {
        groups,
        position,
        alone,
    } = group(inventory, links);
    let shares = model::slice_shares(inventory);
    let mut parts = prepare(inventory, links, groups, &position, &shares, options, false);
    let alone = Alone::new(inventory, alone, options.objective, &shares);
    let run = Run::new(inventory, links, &shares, options);
    solve_parts(&mut parts, &alone, &run)
}
