//! Near-optimal ranges (docs/model.md C2 and D10, `symbiose robustness`):
//! over every solution whose first criterion z is within the budget
//! B = slack x max(1, |z*|) of its optimum z*, the least and the most each
//! candidate link carries, and the least and the most of a linear function
//! per firm (its value V_f, whose coefficients the caller gives: this
//! module knows nothing of values).
//!
//! **Per model of the decomposition (`parts::group`).** z is a sum over the
//! models, which share no row or column, and each sits at its own optimum
//! z_b* in any optimal solution. The projection of the near-optimal set
//! {x : sum_b z_b(x_b) <= z* + B} onto model b is exactly
//! {x_b : z_b(x_b) <= z_b* + B}: the other models at their optimum spend
//! nothing of the budget, and no solution spends less. So the range of a
//! link of model b is two LPs on model b alone, with one budget row
//! z_b(x_b) <= z_b* + B (b is a batch of small components: the same
//! argument holds inside it). A firm whose links lie in several models gets
//! its two LPs on the union of those models, with one budget row over all
//! of them (the budget is then shared between them as the LP likes).
//!
//! **One HiGHS model per job, warm.** Each model is built once, solved for
//! its own optimum (dual simplex from the fallback basis), given its budget
//! row, and every range LP of it changes only the costs of a few columns
//! and re-solves with the primal simplex from the basis the last LP left
//! (a cost change keeps a basis primal feasible). The LPs of one model run
//! in one fixed order on one thread; models run in parallel (rayon, one
//! HiGHS thread each) and their answers are put back by position, so the
//! answer does not depend on the thread count.
//!
//! **LPs not solved, and why the value reported is still exact.**
//! - The least a link carries is 0 as soon as one near-optimal solution met
//!   on the way (the model's own optimum, or any range LP's solution) has
//!   it at most [`ZERO_SHARE`] x its supply's quantity: no LP.
//! - The most: every solution met is a near-optimal solution, so what the
//!   link carries in it is a lower bound on its maximum. An upper bound is
//!   proven without a solve: the link's capacity U_l = min(Q_s, Q_d / r_l)
//!   (per slice, summed), and the reduced-cost bound: with the model's
//!   optimal duals y and reduced costs d = c - A'y, every feasible x has
//!   z(x) - z* = d'x - d'x*, and d_j >= 0 for every column at its lower
//!   bound 0 (dual feasibility, up to HiGHS's tolerance, whose violations
//!   eps = sum_{d_j < 0} |d_j| U_j + |d'x*| are added to the budget), so a
//!   link at 0 with d_l > 0 carries at most (B + eps) / d_l. When the proven
//!   upper bound is within [`ZERO_SHARE`] x Q_s of the largest value met,
//!   that value is the maximum (within that tolerance): no LP. Otherwise
//!   the LP is solved. The bound never replaces an LP's value.
//! - The max LPs of a model run first (their solutions push flow around
//!   and prove many minima zero), then its firms' LPs, then the min LPs
//!   left.
//!
//! The budget row is z_b <= z_b* + B + 1e-11 max(1, |z_b*|) ([`BUDGET_ROOM`]):
//! at slack 0 its bound would be the optimum itself, which HiGHS's simplex
//! may call infeasible by a rounding. The proven bounds above use B alone.
//!
//! The range LPs have no time limit (the optimum they start from must be
//! proven: the caller refuses a time-limited base), and a model with
//! binaries or processes is refused: this is for LPs whose link columns are
//! the only way a firm's value changes.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::engine::{Basis, Engine};
use super::lexicographic::{SIMPLEX_DUAL, SIMPLEX_PRIMAL};
use super::model::{self, Columns, Layout, ModelInputs, Scope, SliceShares};
use super::parts::{self, Alone, Grouping};
use super::{classify, LpSolver, SolutionStatus, SolveError, SolveOptions};
use crate::candidates::Link;
use crate::model::Inventory;
use crate::progress::Progress;

/// A link carrying at most this share of its supply's quantity carries
/// nothing (the threshold of links.csv's 1e-9 and of the statuses).
pub const ZERO_SHARE: f64 = 1e-9;

/// Room given to a model's budget row, relative to its optimum: the
/// proven bounds ignore it (they prove the set without it); an LP's value
/// may exceed the set's by this room over the link's reduced cost.
pub const BUDGET_ROOM: f64 = 1e-11;

/// A model with more links than this has them ranged in chunks of this
/// many, each on its own copy of the model, in parallel.
pub const CHUNK_LINKS: usize = 4_000;

/// What to range.
pub struct RangeRequest<'a> {
    /// Relative slack on the first criterion (finite, >= 0).
    pub slack: f64,
    /// Per firm (inventory order), the function to range: (link position,
    /// EUR per supply unit on that link). An empty list ranges nothing
    /// (0, 0).
    pub firm_values: &'a [Vec<(usize, f64)>],
}

/// How many LPs the ranges took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LpCounts {
    /// Two per link and two per firm with a function to range.
    pub asked: usize,
    /// Range LPs solved.
    pub solved: usize,
    /// Link minima proven 0 by a solution met on the way.
    pub min_proven_zero: usize,
    /// Link minima 0 because the link carries nothing at the optimum.
    pub min_unused_at_optimum: usize,
    /// Link maxima proven by a bound (capacity or reduced cost) met by a solution.
    pub max_proven_by_bound: usize,
    /// Firm LPs not needed (no link, or every coefficient 0).
    pub firm_trivial: usize,
    /// HiGHS models built (one per model of the decomposition, one per
    /// union of models that some firm's links span).
    pub models: usize,
}

/// The ranges, indexed like the links and the firms.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranges {
    /// z*, EUR per year.
    pub optimum: f64,
    /// B = slack x max(1, |z*|), EUR per year.
    pub budget: f64,
    pub link_min: Vec<f64>,
    pub link_max: Vec<f64>,
    pub firm_min: Vec<f64>,
    pub firm_max: Vec<f64>,
    pub counts: LpCounts,
}

/// A model built and solved for its own optimum.
struct Start {
    engine: Engine,
    layout: Layout,
    /// Positions in the candidate links, ascending (the model's links).
    links: Vec<usize>,
    optimum: f64,
    columns: Vec<f64>,
    reduced: Vec<f64>,
    /// Per column, the most it can take (a link's U_{l,t}, a fallback's quantity).
    most: Vec<f64>,
    /// The first criterion's costs.
    first: Vec<f64>,
    /// The optimal basis (a chunk of the same model starts from it).
    basis: Basis,
}

/// What one job found, by position.
#[derive(Default)]
struct Found {
    links: Vec<(usize, f64, f64)>,
    firms: Vec<(usize, f64, f64)>,
    counts: LpCounts,
}

/// The near-optimal ranges of docs/model.md C2 (module documentation).
pub fn near_optimal_ranges(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    request: &RangeRequest,
    progress: &dyn Progress,
) -> Result<Ranges, SolveError> {
    if !inventory.processes().is_empty() {
        return Err(SolveError::Solver(
            "near-optimal ranges are computed for inventories without processes".into(),
        ));
    }
    let Grouping {
        groups,
        position,
        alone,
    } = parts::group(inventory, links);
    let shares = model::slice_shares(inventory);
    let alone = Alone::new(inventory, alone, options.objective, &shares);
    let sizes: Vec<usize> = groups.iter().map(|g| g.flows.len() + g.links.len()).collect();
    let starts = in_parallel(
        groups.iter().collect(),
        |group| group.flows.len() + group.links.len(),
        |group| {
            start(
                inventory,
                links,
                &shares,
                options,
                group.flows.clone(),
                group.links.clone(),
                &position,
                None,
            )
        },
    )?;
    let optimum = alone.total + starts.iter().map(|start| start.optimum).sum::<f64>();
    let budget = request.slack * optimum.abs().max(1.0);

    // Which model each link is in; which models each firm's terms span.
    let mut group_of_link = vec![usize::MAX; links.len()];
    for (index, group) in groups.iter().enumerate() {
        for &link in &group.links {
            group_of_link[link] = index;
        }
    }
    let mut single: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut unions: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    let mut counts = LpCounts {
        asked: 2 * links.len(),
        ..LpCounts::default()
    };
    for (firm, terms) in request.firm_values.iter().enumerate() {
        let mut spanned: Vec<usize> = terms
            .iter()
            .filter(|(_, coefficient)| *coefficient != 0.0)
            .map(|(link, _)| group_of_link[*link])
            .collect();
        spanned.sort_unstable();
        spanned.dedup();
        if terms.is_empty() {
            continue;
        }
        counts.asked += 2;
        match spanned.as_slice() {
            [] => counts.firm_trivial += 2,
            [one] => single[*one].push(firm),
            _ => unions.entry(spanned).or_default().push(firm),
        }
    }
    progress.start(counts.asked, "near-optimal ranges (LPs)");
    progress.advance(counts.firm_trivial);

    let n_groups = groups.len();
    // A large model's links in chunks of [`CHUNK_LINKS`], each on its own
    // copy of the model started from the optimal basis: fixed chunks, so
    // the answer does not depend on the thread count.
    let mut jobs: Vec<Job> = Vec::new();
    for (group, (start, firms)) in starts.into_iter().zip(single).enumerate() {
        let n_links = start.links.len();
        let basis = (n_links > CHUNK_LINKS).then(|| start.basis.clone());
        jobs.push(Job::Single {
            start: Some(start),
            group,
            chunk: 0..n_links.min(CHUNK_LINKS),
            firms,
        });
        if let Some(basis) = basis {
            for first in (CHUNK_LINKS..n_links).step_by(CHUNK_LINKS) {
                jobs.push(Job::Chunk {
                    basis: basis.clone(),
                    group,
                    chunk: first..(first + CHUNK_LINKS).min(n_links),
                });
            }
        }
    }
    jobs.extend(unions.into_iter().map(|(groups, firms)| Job::Union { groups, firms }));
    let context = Context {
        inventory,
        links,
        shares: &shares,
        options,
        request,
        budget,
        progress,
        groups: &groups,
        position: &position,
        n_flows: inventory.flows().len(),
    };
    let size = |job: &Job| match job {
        Job::Single {
            start, chunk, firms, ..
        } => (chunk.len() + firms.len()) * start.as_ref().map_or(0, |start| start.layout.n_columns()),
        Job::Chunk { group, chunk, .. } => chunk.len() * sizes[*group],
        Job::Union { groups: spanned, firms } => firms.len() * spanned.iter().map(|&group| sizes[group]).sum::<usize>(),
    };
    let found = in_parallel(jobs, size, |job| context.run(job))?;
    let mut ranges = Ranges {
        optimum,
        budget,
        link_min: vec![0.0; links.len()],
        link_max: vec![0.0; links.len()],
        firm_min: vec![0.0; request.firm_values.len()],
        firm_max: vec![0.0; request.firm_values.len()],
        counts,
    };
    for job in found {
        for (link, min, max) in job.links {
            ranges.link_min[link] = min;
            ranges.link_max[link] = max;
        }
        for (firm, min, max) in job.firms {
            ranges.firm_min[firm] = min;
            ranges.firm_max[firm] = max;
        }
        let c = job.counts;
        ranges.counts.solved += c.solved;
        ranges.counts.min_proven_zero += c.min_proven_zero;
        ranges.counts.min_unused_at_optimum += c.min_unused_at_optimum;
        ranges.counts.max_proven_by_bound += c.max_proven_by_bound;
        ranges.counts.models += c.models;
    }
    ranges.counts.models += n_groups;
    progress.finish();
    Ok(ranges)
}

enum Job {
    /// A model of the decomposition: the ranges of its first links (`chunk`:
    /// positions in the model's links) and of the firms whose terms lie in
    /// it alone.
    Single {
        start: Option<Start>,
        group: usize,
        chunk: std::ops::Range<usize>,
        firms: Vec<usize>,
    },
    /// The ranges of more of a model's links, on a copy of it started
    /// from its optimal basis.
    Chunk {
        basis: Basis,
        group: usize,
        chunk: std::ops::Range<usize>,
    },
    /// Firms whose terms span these models (positions in the grouping).
    Union { groups: Vec<usize>, firms: Vec<usize> },
}

/// Runs `work` on every item, largest first, in parallel; the answers in
/// the items' order, or the error of the first item (in that order) that
/// failed.
fn in_parallel<I: Send, T: Send>(
    items: Vec<I>,
    size: impl Fn(&I) -> usize,
    work: impl Fn(I) -> Result<T, SolveError> + Sync,
) -> Result<Vec<T>, SolveError> {
    let mut order: Vec<(usize, usize, I)> = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| (size(&item), index, item))
        .collect();
    order.sort_by_key(|(size, index, _)| (std::cmp::Reverse(*size), *index));
    let mut outcomes: Vec<(usize, Result<T, SolveError>)> = order
        .into_par_iter()
        .with_max_len(1)
        .map(|(_, index, item)| (index, work(item)))
        .collect();
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// Builds the model of these flows and links and solves it for its own
/// optimum of the first criterion.
fn start(
    inventory: &Inventory,
    links: &[Link],
    shares: &SliceShares,
    options: &SolveOptions,
    flows: Vec<usize>,
    scope_links: Vec<usize>,
    position: &[usize],
    basis: Option<&Basis>,
) -> Result<Start, SolveError> {
    let scope = Scope {
        flows,
        links: scope_links,
        processes: Vec::new(),
        position,
    };
    let layout = Layout::new(inventory, links, &scope);
    if layout.n_binaries() > 0 {
        return Err(SolveError::Solver(
            "near-optimal ranges are computed for LPs: this inventory has investments (fixed costs)".into(),
        ));
    }
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
        bound: None,
    })?;
    match basis {
        Some(basis) => engine.set_basis_statuses(basis)?,
        None => {
            let n_balance_rows = layout.n_balance_rows();
            engine.set_basis(|column| layout.is_fallback(column), |row| row >= n_balance_rows)?;
        }
    }
    engine.set_option("threads", 1)?;
    engine.set_option("solver", LpSolver::Simplex.highs_name())?;
    engine.set_option("simplex_strategy", SIMPLEX_DUAL)?;
    let solved = engine.run()?;
    match classify(solved.status(), solved.primal_feasible()) {
        Ok(SolutionStatus::Optimal) => {}
        Ok(SolutionStatus::TimeLimit) => return Err(SolveError::TimeLimitWithoutSolution),
        Err(error) => return Err(super::impossible_outcome(error, false)),
    }
    let optimum = solved.objective_value();
    let (values, reduced) = solved.columns_and_reduced_costs();
    let mut most = vec![0.0; layout.n_columns()];
    for slice in 0..layout.n_slices {
        for (p, &link) in scope.links.iter().enumerate() {
            most[layout.link(slice, p)] = model::link_bound(inventory, &links[link], shares, slice);
        }
        for (p, &flow) in scope.flows.iter().enumerate() {
            let column = layout.fallback(slice, p);
            most[column] = columns.upper[column].min(model::slice_quantity(inventory, flow, shares, slice));
        }
    }
    let mut engine = solved.into_engine();
    let basis = engine.basis()?;
    Ok(Start {
        engine,
        basis,
        links: scope.links,
        layout,
        optimum,
        columns: values,
        reduced,
        most,
        first,
    })
}

/// What every job shares.
struct Context<'a> {
    inventory: &'a Inventory,
    links: &'a [Link],
    shares: &'a SliceShares,
    options: &'a SolveOptions,
    request: &'a RangeRequest<'a>,
    budget: f64,
    progress: &'a dyn Progress,
    groups: &'a [parts::Group],
    /// Per flow, its row in its model.
    position: &'a [usize],
    n_flows: usize,
}

/// One job's model with its budget row, and the LPs run on it.
struct Ranger<'c> {
    engine: Option<Engine>,
    layout: Layout,
    links: Vec<usize>,
    /// Columns whose cost is not 0 now.
    costed: Vec<usize>,
    progress: &'c dyn Progress,
    solved: usize,
}

/// What a model's own optimum tells about its columns.
struct AtOptimum {
    columns: Vec<f64>,
    reduced: Vec<f64>,
    most: Vec<f64>,
    /// The budget HiGHS's dual tolerance adds (module documentation).
    eps: f64,
}

impl Ranger<'_> {
    /// Gives the model its budget row and zeroes its costs.
    fn new(start: Start, budget: f64, progress: &dyn Progress) -> Result<(Ranger<'_>, AtOptimum), SolveError> {
        let Start {
            mut engine,
            layout,
            links,
            optimum,
            columns,
            reduced,
            most,
            first,
            ..
        } = start;
        let entries: Vec<(usize, f64)> = first
            .iter()
            .enumerate()
            .filter(|(_, cost)| **cost != 0.0)
            .map(|(column, cost)| (column, *cost))
            .collect();
        // The row gets BUDGET_ROOM of room: at slack 0 its bound is the
        // optimum itself, which HiGHS's simplex may otherwise call
        // infeasible by a rounding (module documentation).
        let room = BUDGET_ROOM * optimum.abs().max(1.0);
        engine.add_row(f64::NEG_INFINITY, optimum + budget + room, &entries)?;
        engine.change_costs(&vec![0.0; layout.n_columns()])?;
        engine.set_option("simplex_strategy", SIMPLEX_PRIMAL)?;
        // The slack the duals' tolerance leaves (module documentation).
        let eps = reduced
            .iter()
            .zip(&most)
            .filter(|(d, _)| **d < 0.0)
            .map(|(d, most)| -d * most)
            .sum::<f64>()
            + reduced.iter().zip(&columns).map(|(d, x)| d * x).sum::<f64>().abs();
        let ranger = Ranger {
            engine: Some(engine),
            layout,
            links,
            costed: Vec::new(),
            progress,
            solved: 0,
        };
        Ok((
            ranger,
            AtOptimum {
                columns,
                reduced,
                most,
                eps,
            },
        ))
    }

    /// Minimises (or maximises) sum coefficient x_column; the columns of
    /// the solution.
    fn solve(&mut self, terms: &[(usize, f64)], maximise: bool) -> Result<Vec<f64>, SolveError> {
        let mut engine = self
            .engine
            .take()
            .ok_or_else(|| SolveError::Solver("a range model was lost after a failed solve".into()))?;
        let reset: Vec<(usize, f64)> = self.costed.iter().map(|&column| (column, 0.0)).collect();
        engine.change_some_costs(&reset)?;
        let sign = if maximise { -1.0 } else { 1.0 };
        let entries: Vec<(usize, f64)> = terms.iter().map(|&(column, c)| (column, sign * c)).collect();
        engine.change_some_costs(&entries)?;
        self.costed = terms.iter().map(|&(column, _)| column).collect();
        let solved = engine.run()?;
        match classify(solved.status(), solved.primal_feasible()) {
            Ok(SolutionStatus::Optimal) => {}
            Ok(SolutionStatus::TimeLimit) => return Err(SolveError::TimeLimitWithoutSolution),
            Err(error) => return Err(super::impossible_outcome(error, false)),
        }
        let columns = solved.columns();
        self.engine = Some(solved.into_engine());
        self.solved += 1;
        self.progress.advance(1);
        Ok(columns)
    }

    /// The columns of the link at `position` in the model, one per slice.
    fn link_columns(&self, position: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.layout.n_slices).map(move |slice| self.layout.link(slice, position))
    }

    /// A firm's terms as (column, coefficient).
    fn firm_terms(&self, terms: &[(usize, f64)]) -> Vec<(usize, f64)> {
        let mut columns = Vec::new();
        for &(link, coefficient) in terms {
            if coefficient == 0.0 {
                continue;
            }
            if let Ok(position) = self.links.binary_search(&link) {
                columns.extend(self.link_columns(position).map(|column| (column, coefficient)));
            }
        }
        columns
    }

    /// The firms' ranges: two LPs each. `observe` sees each solution.
    fn firms(
        &mut self,
        firms: &[usize],
        request: &RangeRequest,
        mut observe: impl FnMut(&[f64]),
    ) -> Result<Vec<(usize, f64, f64)>, SolveError> {
        let mut found = Vec::with_capacity(firms.len());
        for &firm in firms {
            let terms = self.firm_terms(&request.firm_values[firm]);
            let value = |columns: &[f64]| terms.iter().map(|&(column, c)| c * columns[column]).sum::<f64>();
            let least = self.solve(&terms, false)?;
            observe(&least);
            let most = self.solve(&terms, true)?;
            observe(&most);
            found.push((firm, value(&least), value(&most)));
        }
        Ok(found)
    }
}

impl Context<'_> {
    fn run(&self, job: Job) -> Result<Found, SolveError> {
        match job {
            Job::Single {
                start: Some(start),
                chunk,
                firms,
                ..
            } => self.single(start, chunk, &firms),
            Job::Single { start: None, group, .. } => Err(SolveError::Solver(format!(
                "the range job of model {group} lost its model"
            ))),
            Job::Chunk { basis, group, chunk } => {
                let group = &self.groups[group];
                let start = start(
                    self.inventory,
                    self.links,
                    self.shares,
                    self.options,
                    group.flows.clone(),
                    group.links.clone(),
                    self.position,
                    Some(&basis),
                )?;
                let mut found = self.single(start, chunk, &[])?;
                found.counts.models += 1;
                Ok(found)
            }
            Job::Union { groups, firms } => {
                let mut flows: Vec<usize> = groups
                    .iter()
                    .flat_map(|&g| self.groups[g].flows.iter().copied())
                    .collect();
                let mut links: Vec<usize> = groups
                    .iter()
                    .flat_map(|&g| self.groups[g].links.iter().copied())
                    .collect();
                flows.sort_unstable();
                links.sort_unstable();
                let mut position = vec![usize::MAX; self.n_flows];
                for (row, &flow) in flows.iter().enumerate() {
                    position[flow] = row;
                }
                let start = start(
                    self.inventory,
                    self.links,
                    self.shares,
                    self.options,
                    flows,
                    links,
                    &position,
                    None,
                )?;
                let (mut ranger, ..) = Ranger::new(start, self.budget, self.progress)?;
                let found_firms = ranger.firms(&firms, self.request, |_| {})?;
                Ok(Found {
                    links: Vec::new(),
                    firms: found_firms,
                    counts: LpCounts {
                        solved: ranger.solved,
                        models: 1,
                        ..LpCounts::default()
                    },
                })
            }
        }
    }

    /// A model's links (max LPs, then its firms, then the min LPs left).
    fn single(&self, start: Start, chunk: std::ops::Range<usize>, firms: &[usize]) -> Result<Found, SolveError> {
        let (mut ranger, at_optimum) = Ranger::new(start, self.budget, self.progress)?;
        let AtOptimum {
            columns: optimum_columns,
            reduced,
            most,
            eps,
        } = at_optimum;
        let n_links = ranger.links.len();
        let n_slices = ranger.layout.n_slices;
        let layout = ranger.layout.clone();
        let link_value = |columns: &[f64], position: usize| -> f64 {
            (0..n_slices)
                .map(|slice| columns[layout.link(slice, position)])
                .sum::<f64>()
        };
        // Per link of the model: its zero threshold, largest value met, a
        // zero met.
        let tolerance: Vec<f64> = ranger
            .links
            .iter()
            .map(|&link| ZERO_SHARE * self.inventory.flow(self.links[link].supply).quantity)
            .collect();
        // Indexed by position in the model (only the chunk's are read).
        let mut largest = vec![0.0_f64; n_links];
        let mut zero_met = vec![false; n_links];
        let observe = |columns: &[f64], largest: &mut [f64], zero_met: &mut [bool]| {
            for position in chunk.clone() {
                let value = link_value(columns, position);
                largest[position] = largest[position].max(value);
                if value <= tolerance[position] {
                    zero_met[position] = true;
                }
            }
        };
        observe(&optimum_columns, &mut largest, &mut zero_met);
        let unused_at_optimum: Vec<bool> = zero_met.clone();
        let mut counts = LpCounts {
            models: 0,
            ..LpCounts::default()
        };
        // Proven upper bounds: capacity, and the reduced-cost bound.
        let upper: Vec<f64> = (0..n_links)
            .map(|position| {
                let capacity: f64 = (0..n_slices).map(|slice| most[layout.link(slice, position)]).sum();
                let least_reduced = (0..n_slices)
                    .map(|slice| {
                        let column = layout.link(slice, position);
                        if optimum_columns[column] == 0.0 {
                            reduced[column]
                        } else {
                            0.0
                        }
                    })
                    .fold(f64::INFINITY, f64::min);
                if least_reduced > 0.0 {
                    capacity.min((self.budget + eps) / least_reduced)
                } else {
                    capacity
                }
            })
            .collect();
        let mut max = vec![0.0; n_links];
        for position in chunk.clone() {
            if upper[position] <= largest[position] + tolerance[position] {
                max[position] = largest[position];
                counts.max_proven_by_bound += 1;
                self.progress.advance(1);
                continue;
            }
            let terms: Vec<(usize, f64)> = ranger.link_columns(position).map(|column| (column, 1.0)).collect();
            let columns = ranger.solve(&terms, true)?;
            observe(&columns, &mut largest, &mut zero_met);
            max[position] = link_value(&columns, position).max(largest[position]);
        }
        let firm_ranges = ranger.firms(firms, self.request, |columns| {
            observe(columns, &mut largest, &mut zero_met)
        })?;
        let mut min = vec![0.0; n_links];
        for position in chunk.clone() {
            if zero_met[position] {
                if unused_at_optimum[position] {
                    counts.min_unused_at_optimum += 1;
                } else {
                    counts.min_proven_zero += 1;
                }
                self.progress.advance(1);
                continue;
            }
            let terms: Vec<(usize, f64)> = ranger.link_columns(position).map(|column| (column, 1.0)).collect();
            let columns = ranger.solve(&terms, false)?;
            observe(&columns, &mut largest, &mut zero_met);
            min[position] = link_value(&columns, position);
        }
        // The largest value met stands for the max where an LP's answer is
        // below it by HiGHS's tolerance; values within the zero threshold are 0.
        let links_found = chunk
            .clone()
            .map(|position| {
                let max = max[position].max(largest[position]);
                let snap = |value: f64| if value <= tolerance[position] { 0.0 } else { value };
                (ranger.links[position], snap(min[position].min(max)), snap(max))
            })
            .collect();
        counts.solved = ranger.solved;
        Ok(Found {
            links: links_found,
            firms: firm_ranges,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::candidate_links;
    use crate::io::{load_inventory, InventorySource};
    use crate::progress::Silent;
    use crate::solve::Objective;

    /// The ranges of every link, per model of the decomposition, equal the
    /// ranges over one model of the whole territory with one budget row
    /// (module documentation: the projection is exact), on Dunkirk, for
    /// the three objectives at slack 0.01; every LP of the whole is solved
    /// (no bound skips one). At slack 0 the whole's ranges hold the
    /// models' (its budget row's room is larger).
    #[test]
    fn per_model_ranges_equal_the_whole_territory_s() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dunkirk");
        let inventory = load_inventory(&InventorySource::Folder(folder)).unwrap().inventory;
        let links = candidate_links(&inventory);
        let shares = model::slice_shares(&inventory);
        for objective in [Objective::Externalities, Objective::Private, Objective::Social] {
            for slack in [0.0, 0.01] {
                let options = SolveOptions {
                    objective,
                    ..SolveOptions::default()
                };
                let no_firms: Vec<Vec<(usize, f64)>> = Vec::new();
                let ranges = near_optimal_ranges(
                    &inventory,
                    &links,
                    &options,
                    &RangeRequest {
                        slack,
                        firm_values: &no_firms,
                    },
                    &Silent,
                )
                .unwrap();
                let identity = model::identity(inventory.flows().len());
                let whole = start(
                    &inventory,
                    &links,
                    &shares,
                    &options,
                    identity.clone(),
                    (0..links.len()).collect(),
                    &identity,
                    None,
                )
                .unwrap();
                let optimum = whole.optimum;
                let budget = slack * optimum.abs().max(1.0);
                assert!((optimum - ranges.optimum).abs() <= 1e-6 * optimum.abs().max(1.0));
                let (mut ranger, _) = Ranger::new(whole, budget, &Silent).unwrap();
                for (position, link) in links.iter().enumerate() {
                    let terms = [(position, 1.0)];
                    let least = ranger.solve(&terms, false).unwrap()[position];
                    let most = ranger.solve(&terms, true).unwrap()[position];
                    let tolerance = 1e-6 * inventory.flow(link.supply).quantity.max(1.0);
                    let what = format!("{objective:?} slack {slack} link {position}");
                    let snap = |value: f64| {
                        if value <= ZERO_SHARE * inventory.flow(link.supply).quantity {
                            0.0
                        } else {
                            value
                        }
                    };
                    let (min, max) = (ranges.link_min[position], ranges.link_max[position]);
                    if slack > 0.0 {
                        assert!((snap(least) - min).abs() <= tolerance, "{what} min {least} {min}");
                        assert!((snap(most) - max).abs() <= tolerance, "{what} max {most} {max}");
                    } else {
                        // The whole model's budget row has more room
                        // (BUDGET_ROOM of a larger optimum): its set holds
                        // the models' sets.
                        assert!(
                            least <= min + tolerance && max <= most + tolerance,
                            "{what} [{least}, {most}] holds [{min}, {max}]"
                        );
                    }
                }
            }
        }
    }
}
