//! MODEL.md Part B in the optimisation model: time slices (B1), conversion
//! processes (B3) and investments as binaries (B4). Services (B2) need no
//! model of their own: the loader gives a service supply's fallback (its
//! idle capacity) no cost and no impact, so (S) = Q with a free slack is
//! (S) <= Q.
//!
//! Columns, slice by slice: the x_{l,t} of every link then the fallback of
//! every flow (so that one slice is exactly the A3 layout); then the
//! activity a_{p,t} of every process, slice by slice within a process; then
//! one binary y_l per link with a fixed cost and one y_p per process with a
//! fixed cost. Rows: the balance row of every flow, slice by slice; then
//! a_{p,t} <= capacity_t y_p for processes with a fixed cost; then
//! x_{l,t} <= min(Q_{s,t}, Q_{d,t} / r_l) y_l for links with a fixed cost;
//! then the optional criterion bound.
//!
//! With binaries the model is a MILP, solved lexicographically like the LP;
//! the binaries are then fixed at their optimum (rounded) and the LP solved
//! again, lexicographically, for the shadow prices and the flows reported.

use std::time::Instant;

use highs::HighsSolutionStatus;

use super::{
    check_call, classify, highs_int, set_fallback_basis, set_option, Criterion, LpSolution, Objective, SolutionStatus,
    SolveError, SolveOptions,
};
use crate::candidates::Link;
use crate::inventory::{FlowKind, Inventory};

/// What Part B adds to a solution.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedSolution {
    /// x_{l,t}: per slice (inventory order), supply units sent on each candidate link.
    pub slice_link_flows: Vec<Vec<f64>>,
    /// Per slice, the dual of each flow's balance row in the first-stage LP
    /// (EUR per resource unit of that slice's quantity).
    pub slice_shadow_prices: Vec<Vec<f64>>,
    /// a_{p,t}: per process (inventory order), activity units in each slice.
    pub activities: Vec<Vec<f64>>,
    /// Number of binaries (investments) in the model; 0 for an LP.
    pub n_binaries: usize,
    /// The largest relative gap HiGHS reported over the MILP stages, when
    /// there are binaries.
    pub mip_gap: Option<f64>,
}

/// Whether an inventory needs more than the A3 program: several slices,
/// processes, or a candidate link with a fixed cost.
pub fn needs_extended_model(inventory: &Inventory, links: &[Link]) -> bool {
    inventory.slices().len() > 1
        || !inventory.processes().is_empty()
        || links
            .iter()
            .any(|link| inventory.link_fixed_cost_eur(link.supply, link.distance_km) > 0.0)
}

/// Column positions.
struct Layout {
    n_links: usize,
    n_flows: usize,
    n_slices: usize,
    n_processes: usize,
    /// Positions of the links with a fixed cost, each with its binary.
    binary_links: Vec<usize>,
    /// Positions of the processes with a fixed cost, each with its binary.
    binary_processes: Vec<usize>,
}

impl Layout {
    fn new(inventory: &Inventory, links: &[Link]) -> Self {
        Self {
            n_links: links.len(),
            n_flows: inventory.flows().len(),
            n_slices: inventory.slices().len(),
            n_processes: inventory.processes().len(),
            binary_links: links
                .iter()
                .enumerate()
                .filter(|(_, link)| inventory.link_fixed_cost_eur(link.supply, link.distance_km) > 0.0)
                .map(|(position, _)| position)
                .collect(),
            binary_processes: inventory
                .processes()
                .iter()
                .enumerate()
                .filter(|(_, process)| process.fixed_cost_eur_per_year > 0.0)
                .map(|(position, _)| position)
                .collect(),
        }
    }
    fn slice_block(&self) -> usize {
        self.n_links + self.n_flows
    }
    fn link(&self, slice: usize, link: usize) -> usize {
        slice * self.slice_block() + link
    }
    fn fallback(&self, slice: usize, flow: usize) -> usize {
        slice * self.slice_block() + self.n_links + flow
    }
    fn activity(&self, process: usize, slice: usize) -> usize {
        self.n_slices * self.slice_block() + process * self.n_slices + slice
    }
    fn first_binary(&self) -> usize {
        self.n_slices * self.slice_block() + self.n_processes * self.n_slices
    }
    fn n_binaries(&self) -> usize {
        self.binary_links.len() + self.binary_processes.len()
    }
    fn n_columns(&self) -> usize {
        self.first_binary() + self.n_binaries()
    }
}

/// Per column: private cost, monetised externality, upper bound, binary or not.
struct Columns {
    private: Vec<f64>,
    externality: Vec<f64>,
    upper: Vec<f64>,
    binary: Vec<bool>,
}

/// The most a flow can carry in a slice: its quantity for a flow of
/// flows.csv; per_activity * capacity_t for a process port (infinite
/// without a capacity).
fn slice_quantity(inventory: &Inventory, flow: usize, shares: &[Vec<f64>], slice: usize) -> f64 {
    let definition = &inventory.flows()[flow];
    match definition.process {
        None => definition.quantity * shares[flow][slice],
        Some(port) => match inventory.process(port.process).capacity {
            Some(capacity) => port.per_activity * capacity * hour_share(inventory, slice),
            None => f64::INFINITY,
        },
    }
}

fn hour_share(inventory: &Inventory, slice: usize) -> f64 {
    inventory.slices()[slice].hours / inventory.total_hours()
}

fn columns(inventory: &Inventory, links: &[Link], layout: &Layout) -> Columns {
    let n = layout.n_columns();
    let mut columns = Columns {
        private: vec![0.0; n],
        externality: vec![0.0; n],
        upper: vec![f64::INFINITY; n],
        binary: vec![false; n],
    };
    for slice in 0..layout.n_slices {
        for (position, link) in links.iter().enumerate() {
            let column = layout.link(slice, position);
            columns.private[column] = link.unit_cost_eur;
            columns.externality[column] = inventory.monetise(&link.unit_impacts);
        }
        for (position, flow) in inventory.flows().iter().enumerate() {
            let column = layout.fallback(slice, position);
            columns.private[column] = flow.fallback_cost_eur;
            columns.externality[column] = inventory.monetise(&flow.fallback_impacts);
            // A process input has no fallback; a banned route takes nothing.
            let no_fallback = flow.is_process_port() && flow.kind == FlowKind::Demand;
            if no_fallback || inventory.fallback_banned(flow) {
                columns.upper[column] = 0.0;
            }
        }
    }
    for (position, process) in inventory.processes().iter().enumerate() {
        for slice in 0..layout.n_slices {
            let column = layout.activity(position, slice);
            columns.private[column] = process.cost_eur_per_activity;
            columns.externality[column] = inventory.monetise(&process.impacts);
            if let Some(capacity) = process.capacity {
                columns.upper[column] = capacity * hour_share(inventory, slice);
            }
        }
    }
    let first_binary = layout.first_binary();
    for (i, &position) in layout.binary_links.iter().enumerate() {
        let link = &links[position];
        columns.private[first_binary + i] = inventory.link_fixed_cost_eur(link.supply, link.distance_km);
    }
    for (j, &position) in layout.binary_processes.iter().enumerate() {
        let column = first_binary + layout.binary_links.len() + j;
        columns.private[column] = inventory.processes()[position].fixed_cost_eur_per_year;
    }
    for column in first_binary..n {
        columns.upper[column] = 1.0;
        columns.binary[column] = true;
    }
    columns
}

/// Solves the Part B model (see the module documentation).
pub(super) fn solve(inventory: &Inventory, links: &[Link], options: &SolveOptions) -> Result<LpSolution, SolveError> {
    match solve_model(inventory, links, options) {
        Err(SolveError::Infeasible | SolveError::InfeasibleOrUnbounded)
            if inventory.processes().is_empty()
                && inventory.flows().iter().any(|flow| inventory.fallback_banned(flow)) =>
        {
            Err(explain_by_slice(inventory, links))
        }
        other => other,
    }
}

/// Banned routes made a model without processes infeasible: its slices are
/// then independent A3 models (fixed costs only add binaries that a
/// relaxation sets to 1), so the flows that cannot be placed are found
/// slice by slice; a flow short in several slices is named once, with its
/// shortfall summed over the year. With processes, an output's activity
/// may place a banned flow, so no such explanation is attempted.
fn explain_by_slice(inventory: &Inventory, links: &[Link]) -> SolveError {
    let flows = inventory.flows();
    let shares: Vec<Vec<f64>> = (0..flows.len())
        .map(|flow| inventory.slice_shares(crate::inventory::FlowIdx::from_index(flow)))
        .collect();
    let mut short: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for slice in 0..inventory.slices().len() {
        let quantities: Vec<f64> = (0..flows.len())
            .map(|flow| slice_quantity(inventory, flow, &shares, slice))
            .collect();
        match super::unplaceable_flows(inventory, links, &quantities) {
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

fn solve_model(inventory: &Inventory, links: &[Link], options: &SolveOptions) -> Result<LpSolution, SolveError> {
    let layout = Layout::new(inventory, links);
    let columns = columns(inventory, links, &layout);
    let (first, second): (Vec<f64>, Option<&Vec<f64>>) = match options.objective {
        Objective::Externalities => (columns.externality.clone(), Some(&columns.private)),
        Objective::Private => (columns.private.clone(), Some(&columns.externality)),
        Objective::Social => (
            columns
                .private
                .iter()
                .zip(&columns.externality)
                .map(|(c, m)| c + m)
                .collect(),
            None,
        ),
    };
    let shares: Vec<Vec<f64>> = (0..layout.n_flows)
        .map(|flow| inventory.slice_shares(crate::inventory::FlowIdx::from_index(flow)))
        .collect();
    let (mut model, n_rows) = build_model(inventory, links, &layout, &columns, &first, &shares, options)?;
    if layout.n_binaries() == 0 {
        // As in Part A (src/lp.rs); a MILP keeps HiGHS's own start.
        let (block, n_blocks) = (layout.slice_block(), layout.n_slices * layout.slice_block());
        set_fallback_basis(
            &mut model,
            |column| column < n_blocks && column % block >= layout.n_links,
            layout.n_slices * layout.n_flows,
        )?;
    }
    set_option(&mut model, "threads", options.threads.unwrap_or(1) as i32)?;
    if let Some(gap) = options.mip_gap {
        set_option(&mut model, "mip_rel_gap", gap)?;
    }
    let started = Instant::now();
    let n_binaries = layout.n_binaries();
    let mut mip_status = SolutionStatus::Optimal;
    let mut mip_gap = None;
    if n_binaries > 0 {
        let stage = lexicographic(
            model,
            &first,
            second,
            n_rows,
            options.lexicographic_slack,
            options.time_limit_seconds,
            true,
            started,
        )?;
        mip_status = stage.status;
        mip_gap = Some(stage.mip_gap);
        model = stage.model;
        // Fix the binaries at their optimum and make them continuous: the
        // LP left gives the shadow prices and the flows reported.
        let rounded: Vec<f64> = stage.columns[layout.first_binary()..]
            .iter()
            .map(|y| if *y > 0.5 { 1.0 } else { 0.0 })
            .collect();
        let continuous = vec![0 as highs_sys::HighsInt; n_binaries];
        let (from, to) = (highs_int(layout.first_binary())?, highs_int(layout.n_columns() - 1)?);
        // SAFETY: `model` owns a live Highs instance; the slices have one
        // entry per column of from..=to and outlive the calls.
        unsafe {
            let highs_ptr = model.as_mut_ptr();
            check_call(
                highs_sys::Highs_changeColsIntegralityByRange(highs_ptr, from, to, continuous.as_ptr()),
                "make the binaries continuous",
            )?;
            check_call(
                highs_sys::Highs_changeColsBoundsByRange(highs_ptr, from, to, rounded.as_ptr(), rounded.as_ptr()),
                "fix the binaries",
            )?;
        }
        // With y = 1, the big-M rows (x_{l,t} <= U_{l,t}, a_{p,t} <= capacity_t)
        // repeat what the balances and the column bounds already say, but
        // their bound is data, not the flows': left in, a link that fills
        // them would get a degenerate, arbitrary shadow price. Free them.
        let first_big_m_row = layout.n_slices * layout.n_flows;
        for (binary, built) in rounded.iter().enumerate() {
            if *built == 0.0 {
                continue;
            }
            // Process rows come first in the model, binaries list links first.
            let block = if binary < layout.binary_links.len() {
                layout.binary_processes.len() + binary
            } else {
                binary - layout.binary_links.len()
            };
            for slice in 0..layout.n_slices {
                let row = highs_int(first_big_m_row + block * layout.n_slices + slice)?;
                // SAFETY: live Highs instance; the row exists (built above).
                check_call(
                    unsafe {
                        highs_sys::Highs_changeRowBounds(model.as_mut_ptr(), row, f64::NEG_INFINITY, f64::INFINITY)
                    },
                    "free a big-M row",
                )?;
            }
        }
    }
    // The LP with the binaries fixed is quick: the time limit bounds the MILP.
    let lp_time_limit = if n_binaries > 0 {
        None
    } else {
        options.time_limit_seconds
    };
    let stage = lexicographic(
        model,
        &first,
        second,
        n_rows,
        options.lexicographic_slack,
        lp_time_limit,
        false,
        started,
    )?;
    let status = match (mip_status, stage.status) {
        (SolutionStatus::Optimal, SolutionStatus::Optimal) => SolutionStatus::Optimal,
        _ => SolutionStatus::TimeLimit,
    };
    let solve_seconds = started.elapsed().as_secs_f64();

    let slice_link_flows: Vec<Vec<f64>> = (0..layout.n_slices)
        .map(|slice| {
            (0..layout.n_links)
                .map(|link| stage.columns[layout.link(slice, link)])
                .collect()
        })
        .collect();
    let slice_shadow_prices: Vec<Vec<f64>> = (0..layout.n_slices)
        .map(|slice| {
            (0..layout.n_flows)
                .map(|flow| {
                    stage
                        .row_duals
                        .get(slice * layout.n_flows + flow)
                        .copied()
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    let activities: Vec<Vec<f64>> = (0..layout.n_processes)
        .map(|process| {
            (0..layout.n_slices)
                .map(|slice| stage.columns[layout.activity(process, slice)].max(0.0))
                .collect()
        })
        .collect();
    let link_flows: Vec<f64> = (0..layout.n_links)
        .map(|link| slice_link_flows.iter().map(|flows| flows[link]).sum())
        .collect();
    // The annual shadow price: d(objective)/d(Q_f) with Q_{f,t} = share_t Q_f.
    let hour_shares = inventory.hour_shares();
    let shadow_prices: Vec<f64> = (0..layout.n_flows)
        .map(|flow| {
            let weights = if inventory.flows()[flow].is_process_port() {
                &hour_shares
            } else {
                &shares[flow]
            };
            (0..layout.n_slices)
                .map(|slice| weights[slice] * slice_shadow_prices[slice][flow])
                .sum()
        })
        .collect();
    Ok(LpSolution {
        status,
        link_flows,
        shadow_prices,
        first_stage_objective: stage.first_objective,
        solve_seconds,
        // The MILP stages, when there are any, count in `first`.
        stage_seconds: super::StageSeconds {
            guide: stage.guide_seconds,
            first: solve_seconds - stage.guide_seconds - stage.second_seconds,
            second: stage.second_seconds,
        },
        extended: Some(ExtendedSolution {
            slice_link_flows,
            slice_shadow_prices,
            activities,
            n_binaries,
            mip_gap,
        }),
    })
}

/// Hands the Part B model to HiGHS column by column (`highs::ColProblem`,
/// as src/lp.rs does for A3, and for the same reason: good_lp's row-wise
/// expressions made the build stage 0.40 s at 2,000 firms and four slices,
/// 0.23 s column-wise, of a 2.2 s run);
/// returns the model and its number of rows. Rows, in order: the balance
/// rows slice by slice; a_{p,t} - capacity_t y_p <= 0 for each process
/// with a fixed cost, slice by slice; x_{l,t} - U_{l,t} y_l <= 0 for each
/// link with a fixed cost, slice by slice; the optional criterion bound.
fn build_model(
    inventory: &Inventory,
    links: &[Link],
    layout: &Layout,
    columns: &Columns,
    first: &[f64],
    shares: &[Vec<f64>],
    options: &SolveOptions,
) -> Result<(highs::Model, usize), SolveError> {
    let flows = inventory.flows();
    let n_slices = layout.n_slices;
    let mut problem = highs::ColProblem::new();
    let mut balance: Vec<highs::Row> = Vec::with_capacity(n_slices * layout.n_flows);
    for slice in 0..n_slices {
        for (flow, definition) in flows.iter().enumerate() {
            let quantity = if definition.is_process_port() {
                0.0
            } else {
                definition.quantity * shares[flow][slice]
            };
            balance.push(problem.add_row(quantity..=quantity));
        }
    }
    let balance_row = |slice: usize, flow: usize| balance[slice * layout.n_flows + flow];
    // Big-M rows: (row per slice, coefficient of the binary per slice).
    let mut process_rows: Vec<Option<Vec<highs::Row>>> = vec![None; layout.n_processes];
    let mut process_capacity: Vec<Vec<f64>> = Vec::with_capacity(layout.binary_processes.len());
    for &position in &layout.binary_processes {
        let process = &inventory.processes()[position];
        let capacity = process
            .capacity
            .ok_or_else(|| SolveError::Solver(format!("process {:?} has a fixed cost but no capacity", process.id)))?;
        process_rows[position] = Some((0..n_slices).map(|_| problem.add_row(..=0.0)).collect());
        process_capacity.push(
            (0..n_slices)
                .map(|slice| capacity * hour_share(inventory, slice))
                .collect(),
        );
    }
    let mut link_rows: Vec<Option<Vec<highs::Row>>> = vec![None; links.len()];
    let mut link_most: Vec<Vec<f64>> = Vec::with_capacity(layout.binary_links.len());
    for &position in &layout.binary_links {
        let link = &links[position];
        let most: Vec<f64> = (0..n_slices)
            .map(|slice| {
                slice_quantity(inventory, link.supply.index(), shares, slice)
                    .min(slice_quantity(inventory, link.demand.index(), shares, slice) / link.ratio)
            })
            .collect();
        if most.iter().any(|most| !most.is_finite()) {
            return Err(SolveError::Solver(format!(
                "the link {} -> {} has a fixed cost but nothing bounds what it carries: give its processes a capacity",
                flows[link.supply.index()].id,
                flows[link.demand.index()].id
            )));
        }
        link_rows[position] = Some((0..n_slices).map(|_| problem.add_row(..=0.0)).collect());
        link_most.push(most);
    }
    let bound = options.bound.map(|bound| {
        let coefficients = match bound.criterion {
            Criterion::PrivateCost => &columns.private,
            Criterion::Externality => &columns.externality,
        };
        (problem.add_row(..=bound.max_eur), coefficients)
    });
    let mut n_rows = balance.len() + layout.binary_processes.len() * n_slices + layout.binary_links.len() * n_slices;
    if bound.is_some() {
        n_rows += 1;
    }

    let mut factors: Vec<(highs::Row, f64)> = Vec::new();
    let add = |problem: &mut highs::ColProblem, column: usize, factors: &mut Vec<(highs::Row, f64)>| {
        if let Some((row, coefficients)) = bound {
            if coefficients[column] != 0.0 {
                factors.push((row, coefficients[column]));
            }
        }
        if columns.binary[column] {
            problem.add_integer_column(first[column], 0.0..=1.0, factors.as_slice());
        } else {
            problem.add_column(first[column], 0.0..=columns.upper[column], factors.as_slice());
        }
    };
    for slice in 0..n_slices {
        for (position, link) in links.iter().enumerate() {
            factors.clear();
            factors.push((balance_row(slice, link.supply.index()), 1.0));
            factors.push((balance_row(slice, link.demand.index()), link.ratio));
            if let Some(rows) = &link_rows[position] {
                factors.push((rows[slice], 1.0));
            }
            add(&mut problem, layout.link(slice, position), &mut factors);
        }
        for flow in 0..layout.n_flows {
            factors.clear();
            factors.push((balance_row(slice, flow), 1.0));
            add(&mut problem, layout.fallback(slice, flow), &mut factors);
        }
    }
    for (position, process) in inventory.processes().iter().enumerate() {
        for slice in 0..n_slices {
            factors.clear();
            for port in &process.ports {
                let per_activity = flows[port.index()].process.map_or(0.0, |port| port.per_activity);
                factors.push((balance_row(slice, port.index()), -per_activity));
            }
            if let Some(rows) = &process_rows[position] {
                factors.push((rows[slice], 1.0));
            }
            add(&mut problem, layout.activity(position, slice), &mut factors);
        }
    }
    let first_binary = layout.first_binary();
    for (i, &position) in layout.binary_links.iter().enumerate() {
        factors.clear();
        if let Some(rows) = &link_rows[position] {
            factors.extend(rows.iter().zip(&link_most[i]).map(|(row, most)| (*row, -most)));
        }
        add(&mut problem, first_binary + i, &mut factors);
    }
    for (j, &position) in layout.binary_processes.iter().enumerate() {
        factors.clear();
        if let Some(rows) = &process_rows[position] {
            factors.extend(
                rows.iter()
                    .zip(&process_capacity[j])
                    .map(|(row, capacity)| (*row, -capacity)),
            );
        }
        add(&mut problem, first_binary + layout.binary_links.len() + j, &mut factors);
    }
    let mut model = problem
        .try_optimise(highs::Sense::Minimise)
        .map_err(|e| SolveError::Solver(format!("building the model: {e:?}")))?;
    model.make_quiet();
    Ok((model, n_rows))
}

/// One lexicographic solve and what it found.
struct Stage {
    model: highs::Model,
    status: SolutionStatus,
    columns: Vec<f64>,
    /// Duals of the rows in the first stage (meaningless for a MILP).
    row_duals: Vec<f64>,
    first_objective: f64,
    /// Largest relative MIP gap over the stages (0 for an LP).
    mip_gap: f64,
    /// Wall-clock seconds of the guide run and of the second stage (0
    /// without one).
    guide_seconds: f64,
    second_seconds: f64,
}

/// Minimises `first`, then, when there is a `second` criterion and the
/// first stage is optimal, `second` among the solutions within the
/// lexicographic tolerance of the first optimum (one added row, removed
/// afterwards so that the model keeps its `n_rows` rows).
fn lexicographic(
    mut model: highs::Model,
    first: &[f64],
    second: Option<&Vec<f64>>,
    n_rows: usize,
    slack: f64,
    time_limit_seconds: Option<f64>,
    is_mip: bool,
    started: Instant,
) -> Result<Stage, SolveError> {
    let remaining =
        |limit: Option<f64>| limit.map_or(f64::INFINITY, |l| (l - started.elapsed().as_secs_f64()).max(0.0));
    let mut guide_seconds = 0.0;
    if let (Some(second), false) = (second, is_mip) {
        // The guide run of src/lp.rs: it only picks the starting basis.
        let blended: Vec<f64> = first
            .iter()
            .zip(second)
            .map(|(f, s)| f + super::GUIDE_WEIGHT * s)
            .collect();
        super::change_costs(&mut model, &blended)?;
        set_option(&mut model, "time_limit", remaining(time_limit_seconds))?;
        let guide_started = Instant::now();
        let guided = super::run(model)?;
        guide_seconds = guide_started.elapsed().as_secs_f64();
        model = guided.into();
    }
    super::change_costs(&mut model, first)?;
    set_option(&mut model, "time_limit", remaining(time_limit_seconds))?;
    let solved = super::run(model)?;
    let mut status = classify(
        solved.status(),
        solved.primal_solution_status() == HighsSolutionStatus::Feasible,
    )?;
    let mut mip_gap = if is_mip { solved.mip_gap().max(0.0) } else { 0.0 };
    let solution = solved.get_solution();
    let first_objective = solved.objective_value();
    let row_duals = solution.dual_rows().to_vec();
    let mut columns = solution.columns().to_vec();
    let mut model: highs::Model = solved.into();
    let mut second_seconds = 0.0;

    if let (Some(second), SolutionStatus::Optimal) = (second, status) {
        let bound = first_objective + slack * first_objective.abs().max(1.0);
        super::add_second_stage(&mut model, first, bound, second)?;
        set_option(&mut model, "time_limit", remaining(time_limit_seconds))?;
        if !is_mip {
            // As in Part A: after the guide, the first stage's basis stays
            // primal feasible and is usually optimal already. (Without the
            // guide the primal simplex took 15.2 s here against 1.8 s dual
            // at 2,000 firms and 4 slices; with it, 0.09 s.)
            set_option(&mut model, "simplex_strategy", super::SIMPLEX_PRIMAL)?;
        }
        let second_started = Instant::now();
        let solved = super::run(model)?;
        second_seconds = second_started.elapsed().as_secs_f64();
        match classify(
            solved.status(),
            solved.primal_solution_status() == HighsSolutionStatus::Feasible,
        ) {
            Ok(second_status) => {
                status = second_status;
                columns = solved.get_solution().columns().to_vec();
                if is_mip {
                    mip_gap = mip_gap.max(solved.mip_gap().max(0.0));
                }
            }
            // The first stage's solution stands, flagged as not proven optimal overall.
            Err(SolveError::TimeLimitWithoutSolution) => status = SolutionStatus::TimeLimit,
            // The first stage's solution is feasible for the second.
            Err(other) => return Err(super::impossible_outcome(other, false)),
        }
        model = solved.into();
        set_option(&mut model, "simplex_strategy", super::SIMPLEX_DUAL)?;
        let row = highs_int(n_rows)?;
        // SAFETY: live Highs instance; row `row` exists (added above).
        check_call(
            unsafe { highs_sys::Highs_deleteRowsByRange(model.as_mut_ptr(), row, row) },
            "delete the second-stage row",
        )?;
    }
    Ok(Stage {
        model,
        status,
        columns,
        row_duals,
        first_objective,
        mip_gap,
        guide_seconds,
        second_seconds,
    })
}
