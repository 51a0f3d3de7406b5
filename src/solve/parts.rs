//! Solving a territory part by part (issue 13): the candidate graph's
//! connected components (`candidates::components`: flows joined by links
//! and by a process's ports, so each investment binary stays inside one)
//! share no row, column or binary, so each is a model of its own.
//!
//! [`group`] puts them in models: a part with at least [`BATCH_COLUMNS`]
//! columns alone, smaller parts together in inventory order until a batch
//! reaches that size (a HiGHS run has a fixed cost that a tiny part would
//! not repay); a flow with no link and no process whose fallback is allowed
//! is in no model: it falls back, at its fallback's cost, and its shadow
//! price is that cost. [`solve_parts`] runs the models' stages in parallel
//! (rayon, one HiGHS thread each) and [`assemble`] puts their solutions
//! together by position, so the answer is the same whatever the thread
//! count. A monolithic solve is the case of one model holding everything.
//!
//! **docs/model.md A3 for the territory as a whole.** The first stages of
//! every model run first; the second stages then share one slack
//! S = slack x max(1, |v*|), v* the territory's first optimum (the models'
//! optima plus the fixed cost of the flows in no model), each model b
//! getting S x w_b / sum w with w_b = max(1, |v*_b|); so the combined
//! solution keeps v <= v* + S, A3's constraint on the whole. One model
//! gets all of S: the monolithic rule. A MILP model (investments) runs its
//! MIP stages in the first round, then, binaries fixed, its LP stages in a
//! second round that shares S with the same weights.
//!
//! **Invariant:** a flow, a link and a process belong to exactly one model
//! or to none (a flow alone); the grouping depends only on the inventory
//! and the links; each model is solved the same way whichever thread runs
//! it.

use std::time::Instant;

use rayon::prelude::*;

use super::engine::Engine;
use super::lexicographic::{self, Plan, Stages};
use super::model::{self, Columns, Layout, ModelInputs, Scope, SliceShares};
use super::{
    ExtendedSolution, LpSolution, LpSolver, Objective, SolutionStatus, SolveError, SolveOptions, StageSeconds,
};
use crate::candidates::{components, Link};
use crate::model::Inventory;

/// Columns (links + flows) from which a part is solved alone, and up to
/// which smaller parts are batched into one model.
pub const BATCH_COLUMNS: usize = 2_000;

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

impl Grouping {
    pub fn scopes(&self) -> Vec<Scope<'_>> {
        self.groups
            .iter()
            .map(|group| Scope {
                flows: group.flows.clone(),
                links: group.links.clone(),
                processes: group.processes.clone(),
                position: &self.position,
            })
            .collect()
    }
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
    let mut groups: Vec<Group> = Vec::new();
    let mut batch = Group::default();
    for (part, group) in of_part.into_iter().enumerate() {
        let solved = parts.linked[part] || group.flows.iter().any(|&flow| inventory.fallback_banned(&flows[flow]));
        if !solved {
            alone.extend(group.flows);
        } else if group.size() >= BATCH_COLUMNS {
            groups.push(group);
        } else {
            batch.append(group);
            if batch.size() >= BATCH_COLUMNS {
                groups.push(std::mem::take(&mut batch).sorted());
            }
        }
    }
    if batch.size() > 0 || !portless.is_empty() && groups.is_empty() {
        groups.push(batch.sorted());
    }
    if let Some(first) = groups.first_mut() {
        first.processes.extend(portless);
        first.processes.sort_unstable();
    }
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

/// One model of a solve and where it stands.
pub(crate) struct Part<'a> {
    pub scope: Scope<'a>,
    pub layout: Layout,
    pub columns: Columns,
    /// The first criterion's costs.
    pub first: Vec<f64>,
    state: State,
}

enum State {
    Built(Engine),
    Solved(Stages),
    /// Between two steps (a step takes the state and puts the next back).
    Moving,
}

impl<'a> Part<'a> {
    /// A part over `engine`, built for `scope` with `columns`' costs.
    pub fn new(scope: Scope<'a>, layout: Layout, columns: Columns, objective: Objective, engine: Engine) -> Self {
        let (first, _) = columns.stage_costs(objective);
        Part {
            scope,
            layout,
            columns,
            first,
            state: State::Built(engine),
        }
    }

    /// Builds the model of `scope`, at the fallback basis when it is an LP
    /// started by the simplex.
    pub fn build(
        inventory: &Inventory,
        links: &[Link],
        scope: Scope<'a>,
        shares: &SliceShares,
        options: &SolveOptions,
    ) -> Result<Self, SolveError> {
        let layout = Layout::new(inventory, links, &scope);
        let columns = Columns::new(inventory, links, &layout, &scope);
        let (first, _) = columns.stage_costs(options.objective);
        let mut engine = model::build(&ModelInputs {
            inventory,
            links,
            scope: &scope,
            layout: &layout,
            columns: &columns,
            costs: &first,
            shares,
            bound: options.bound,
        })?;
        if layout.n_binaries() == 0 && options.solver != Some(LpSolver::Ipm) {
            let n_balance_rows = layout.n_balance_rows();
            engine.set_basis(|column| layout.is_fallback(column), |row| row >= n_balance_rows)?;
        }
        configure(&mut engine, options)?;
        Ok(Part {
            scope,
            layout,
            columns,
            first,
            state: State::Built(engine),
        })
    }

    fn is_mip(&self) -> bool {
        self.layout.n_binaries() > 0
    }

    fn stages(&self) -> &Stages {
        match &self.state {
            State::Solved(stages) => stages,
            _ => unreachable!("a part's stages are read only after its first stage"),
        }
    }

    fn plan(&self, run: &Run, is_mip: bool) -> Plan<'_> {
        Plan {
            first: &self.first,
            second: self.columns.second_stage_costs(run.options.objective),
            n_rows: self.layout.n_rows(run.options.bound.is_some()),
            time_limit_seconds: if is_mip || !self.is_mip() {
                run.options.time_limit_seconds
            } else {
                // The LP with the binaries fixed is quick: the time limit bounds the MILP.
                None
            },
            is_mip,
            solver: (!is_mip).then_some(run.solver),
            started: run.started,
        }
    }

    fn first_stage(&mut self, run: &Run, is_mip: bool) -> Result<(), SolveError> {
        let State::Built(engine) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("a first stage runs on a built model");
        };
        let stages = lexicographic::first_stage(engine, &self.plan(run, is_mip))?;
        self.state = State::Solved(stages);
        Ok(())
    }

    fn second_stage(&mut self, run: &Run, is_mip: bool, bound: f64) -> Result<(), SolveError> {
        let State::Solved(stages) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("a second stage runs after a first");
        };
        let stages = lexicographic::second_stage(stages, &self.plan(run, is_mip), bound)?;
        self.state = State::Solved(stages);
        Ok(())
    }

    /// Fixes the binaries of a solved MILP at their optimum, rounded, and
    /// makes them continuous: the LP left gives the shadow prices and the
    /// flows reported.
    fn fix_binaries(&mut self) -> Result<(), SolveError> {
        let State::Solved(stages) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("binaries are fixed after the MILP's stages");
        };
        let layout = &self.layout;
        let mut engine = stages.engine;
        let rounded: Vec<f64> = stages.columns[layout.first_binary()..]
            .iter()
            .map(|y| if *y > 0.5 { 1.0 } else { 0.0 })
            .collect();
        engine.make_continuous_from(layout.first_binary())?;
        engine.change_column_bounds(layout.first_binary(), &rounded, &rounded)?;
        // With y = 1, the big-M rows (x_{l,t} <= U_{l,t}, a_{p,t} <=
        // capacity_t) repeat what the balances and the column bounds
        // already say, but their bound is data, not the flows': left
        // in, a link that fills them would get a degenerate, arbitrary
        // shadow price. Free them.
        for (binary, built) in rounded.iter().enumerate() {
            if *built == 0.0 {
                continue;
            }
            for slice in 0..layout.n_slices {
                let row = layout.big_m_row(binary, slice);
                engine.change_row_bounds(row, &[f64::NEG_INFINITY], &[f64::INFINITY])?;
            }
        }
        self.state = State::Built(engine);
        Ok(())
    }

    /// The model, after its last stage, to keep for the next solve.
    pub fn into_engine(self) -> Option<Engine> {
        match self.state {
            State::Solved(stages) => Some(stages.engine),
            State::Built(engine) => Some(engine),
            State::Moving => None,
        }
    }
}

/// HiGHS options every model of a solve gets.
pub(crate) fn configure(engine: &mut Engine, options: &SolveOptions) -> Result<(), SolveError> {
    engine.set_option("threads", options.threads.unwrap_or(1) as i32)?;
    if let Some(gap) = options.mip_gap {
        engine.set_option("mip_rel_gap", gap)?;
    }
    Ok(())
}

/// What every step of one solve shares.
pub(crate) struct Run<'a> {
    pub options: &'a SolveOptions,
    pub solver: LpSolver,
    pub started: Instant,
}

/// How the stages of a solve went, for the whole.
#[derive(Debug, Clone, Copy, Default)]
struct Rounds {
    /// The MILP rounds' status (optimal without binaries).
    mip_status: Option<SolutionStatus>,
    mip_gap: Option<f64>,
    /// Wall-clock seconds of the last round's first pass and second pass.
    first_pass: f64,
    second_pass: f64,
}

/// Runs `step` on the parts whose positions are listed, in parallel; the
/// error of the first part (in position order) that failed, if any.
fn each<'a>(
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
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// One lexicographic round over the parts listed (`which`, ascending): every
/// first stage, then, when each is optimal and the objective has a second
/// criterion, every second stage within its share of the slack (module
/// documentation). `constant` is the first criterion of the flows in no
/// model. Returns the wall-clock seconds of the two passes.
fn round(
    parts: &mut [Part],
    which: &[usize],
    run: &Run,
    is_mip: bool,
    constant: f64,
) -> Result<(f64, f64), SolveError> {
    let started = Instant::now();
    each(parts, which, |_, part| part.first_stage(run, is_mip && part.is_mip()))?;
    let first_pass = started.elapsed().as_secs_f64();
    let second = run.options.objective != Objective::Social;
    if !second
        || which.iter().any(|&position| {
            !lexicographic::has_second_stage(&parts[position].plan(run, is_mip), parts[position].stages())
        })
    {
        return Ok((first_pass, 0.0));
    }
    let optima: Vec<f64> = parts.iter().map(|part| part.stages().first_objective).collect();
    let total: f64 = optima.iter().sum::<f64>() + constant;
    let slack = run.options.lexicographic_slack * total.abs().max(1.0);
    let weights: Vec<f64> = optima.iter().map(|optimum| optimum.abs().max(1.0)).collect();
    let sum_weights: f64 = weights.iter().sum();
    // One model alone gets all of the slack: weight / sum_weights is then
    // exactly 1, and the bound docs/model.md A3's v* + slack max(1, |v*|).
    let bounds: Vec<f64> = optima
        .iter()
        .zip(&weights)
        .map(|(optimum, weight)| optimum + slack * (weight / sum_weights))
        .collect();
    let started = Instant::now();
    each(parts, which, |position, part| {
        part.second_stage(run, is_mip && part.is_mip(), bounds[position])
    })?;
    Ok((first_pass, started.elapsed().as_secs_f64()))
}

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

/// Solves the parts' models (every stage of docs/model.md A3, the MILP
/// rounds included) and puts their solutions together.
pub(crate) fn solve_parts(
    inventory: &Inventory,
    n_links: usize,
    parts: &mut [Part],
    alone: &Alone,
    shares: &SliceShares,
    run: &Run,
) -> Result<LpSolution, SolveError> {
    let all: Vec<usize> = (0..parts.len()).collect();
    let mips: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&position| parts[position].is_mip())
        .collect();
    let mut rounds = Rounds::default();
    (rounds.first_pass, rounds.second_pass) = round(parts, &all, run, !mips.is_empty(), alone.total)?;
    if !mips.is_empty() {
        rounds.mip_status = Some(
            if mips
                .iter()
                .all(|&m| parts[m].stages().status == SolutionStatus::Optimal)
            {
                SolutionStatus::Optimal
            } else {
                SolutionStatus::TimeLimit
            },
        );
        rounds.mip_gap = Some(whole_mip_gap(parts, &mips, alone.total));
        each(parts, &mips, |_, part| part.fix_binaries())?;
        (rounds.first_pass, rounds.second_pass) = round(parts, &mips, run, false, alone.total)?;
    }
    Ok(assemble(inventory, n_links, parts, alone, shares, run, &rounds))
}

/// The relative MIP gap of the whole: with gap_b = |v_b - bound_b| / |v_b|
/// for each MILP model, sum_b gap_b |v_b| / |sum of every model's v and
/// the flows alone|, for the first stage, and likewise over the MILP
/// models for the second; the larger of the two. One model: its own gap.
fn whole_mip_gap(parts: &[Part], mips: &[usize], constant: f64) -> f64 {
    let ratio = |numerator: f64, denominator: f64, largest: f64| {
        if numerator == 0.0 {
            0.0
        } else if denominator == 0.0 {
            largest
        } else {
            numerator / denominator.abs()
        }
    };
    let first_numerator: f64 = mips
        .iter()
        .map(|&m| parts[m].stages().first_mip_gap * parts[m].stages().first_objective.abs())
        .sum();
    let first_total: f64 = parts.iter().map(|part| part.stages().first_objective).sum::<f64>() + constant;
    let largest_first = mips
        .iter()
        .map(|&m| parts[m].stages().first_mip_gap)
        .fold(0.0, f64::max);
    let first = ratio(first_numerator, first_total, largest_first);
    let seconds: Vec<(f64, f64)> = mips.iter().filter_map(|&m| parts[m].stages().second_mip_gap).collect();
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
fn assemble(
    inventory: &Inventory,
    n_links: usize,
    parts: &[Part],
    alone: &Alone,
    shares: &SliceShares,
    run: &Run,
    rounds: &Rounds,
) -> LpSolution {
    let n_flows = inventory.flows().len();
    let n_slices = inventory.slices().len();
    let mut slice_link_flows = vec![vec![0.0; n_links]; n_slices];
    let mut slice_shadow_prices = vec![vec![0.0; n_flows]; n_slices];
    let mut activities = vec![Vec::new(); inventory.processes().len()];
    let mut status = rounds.mip_status.unwrap_or(SolutionStatus::Optimal);
    let mut first_stage_objective = alone.total;
    let (mut guide, mut first) = (0.0, 0.0);
    for part in parts {
        let (layout, scope, stages) = (&part.layout, &part.scope, part.stages());
        if stages.status != SolutionStatus::Optimal {
            status = SolutionStatus::TimeLimit;
        }
        first_stage_objective += stages.first_objective;
        guide += stages.guide_seconds;
        first += stages.first_seconds;
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

/// The decomposed solve of `inventory` under `links` (module documentation).
pub(crate) fn solve_decomposed(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
) -> Result<LpSolution, SolveError> {
    let grouping = group(inventory, links);
    let shares = model::slice_shares(inventory);
    let mut built: Vec<(usize, Result<Part, SolveError>)> = grouping
        .scopes()
        .into_iter()
        .enumerate()
        .collect::<Vec<_>>()
        .into_par_iter()
        .with_max_len(1)
        .map(|(position, scope)| (position, Part::build(inventory, links, scope, &shares, options)))
        .collect();
    built.sort_by_key(|(position, _)| *position);
    let mut parts = built
        .into_iter()
        .map(|(_, part)| part)
        .collect::<Result<Vec<Part>, SolveError>>()?;
    let alone = Alone::new(inventory, grouping.alone.clone(), options.objective, &shares);
    // The solve's clock (and its time limit) starts once the models are built.
    let run = Run {
        options,
        solver: options.solver.unwrap_or(LpSolver::Auto),
        started: Instant::now(),
    };
    solve_parts(inventory, links.len(), &mut parts, &alone, &shares, &run)
}
