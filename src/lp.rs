//! The linear program of MODEL.md A3, and the only module that touches
//! good_lp and HiGHS.
//!
//! Columns: one x_l per candidate link, then one fallback variable per flow
//! (f_s for a supply, g_d for a demand). Rows: one balance row per flow, in
//! flow order: (S) sum x_l + f_s = Q_s, (D) sum r_l x_l + g_d = Q_d.
//!
//! The model is handed to HiGHS column by column (`highs::ColProblem`; the
//! good_lp builder is kept for comparison, [`ModelBuilder`]) and driven
//! through the `highs` model: HiGHS's own status is read without good_lp's
//! collapsing (it maps "unbounded or infeasible" to "infeasible" and every
//! limit to "time limit"), and the second stage of a lexicographic
//! objective is solved by adding one row and changing the costs in place,
//! warm-started from the first stage's basis.
//!
//! How a simplex solve starts (issue 7; measured in docs/performance.md):
//! a fresh model starts from the fallback basis (every fallback column
//! basic, every link at zero), which is a basis of any inventory since each
//! balance row has its own fallback column. A lexicographic objective is
//! solved in three HiGHS runs on the same model: a *guide* run with the
//! blended costs first + [`GUIDE_WEIGHT`] x second, which only chooses the
//! starting basis; the first stage (first-stage costs, warm-started from
//! the guide's basis, usually in zero iterations, since the guide breaks
//! the many ties of the first criterion in favour of the second); and the
//! second stage of MODEL.md A3 (primal simplex, as the first stage's
//! optimum stays primal feasible when the bound row is added). The answer
//! is defined by the last two runs alone, exactly as MODEL.md A3 states;
//! the guide changes the time, not the problem.

use std::time::Instant;

use good_lp::solvers::highs::highs;
use good_lp::{variable, Expression, ProblemVariables, SolverModel};
use highs::{HighsModelStatus, HighsSolutionStatus};

use crate::candidates::Link;
use crate::inventory::Inventory;

mod extended;
pub use extended::{needs_extended_model, ExtendedSolution};

/// What the optimizer minimises (MODEL.md A3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// The territory's view: minimise M, then C among the M-optimal solutions.
    Externalities,
    /// The firms' market view: minimise C, then M among the C-optimal solutions.
    Private,
    /// Minimise C + M.
    Social,
}

impl Objective {
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Externalities => "externalities",
            Objective::Private => "private",
            Objective::Social => "social",
        }
    }
}

/// Relative tolerance on the first-stage optimum when the second stage of a
/// lexicographic objective is solved: value <= v* + 1e-6 * max(1, |v*|).
pub const LEXICOGRAPHIC_TOLERANCE: f64 = 1e-6;

/// Weight of the second criterion in the guide run of a lexicographic
/// objective (module documentation). Any positive weight gives the same
/// answer; 0.1 and 0.01 gave the same iterations at 5,000 to 20,000 firms.
pub const GUIDE_WEIGHT: f64 = 0.1;

/// HiGHS's `simplex_strategy` values used here.
pub(crate) const SIMPLEX_DUAL: i32 = 1;
pub(crate) const SIMPLEX_PRIMAL: i32 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct SolveOptions {
    pub objective: Objective,
    /// Wall-clock limit for the whole solve (both stages), in seconds.
    pub time_limit_seconds: Option<f64>,
    /// HiGHS threads (`None`: 1). HiGHS sizes its thread pool at the first
    /// solve of a process and refuses a different count afterwards, so every
    /// solve of a process must use the same value; symbiose's parallelism is
    /// across scenarios (rayon), one HiGHS thread each.
    pub threads: Option<u32>,
    /// An extra constraint on one criterion (the epsilon of an
    /// epsilon-constraint Pareto front).
    pub bound: Option<CriterionBound>,
    /// Relative MIP gap at which HiGHS may stop (`mip_rel_gap`; `None`:
    /// HiGHS's default, 1e-4). Used only when investments make the model a
    /// MILP (MODEL.md B4).
    pub mip_gap: Option<f64>,
    /// HiGHS's `solver` option for the first stage (`None`: HiGHS's default,
    /// `choose`, which runs the dual simplex from the fallback basis). The
    /// second stage of a lexicographic objective always re-solves with the
    /// primal simplex from the first stage's basis; `ipm` skips the
    /// fallback basis and the guide run. Part B models (lp/extended.rs)
    /// ignore it: their LPs always start from the fallback basis.
    pub solver: Option<LpSolver>,
    /// Relative slack the second stage of a lexicographic objective may
    /// spend on the first criterion: value <= v* + slack * max(1, |v*|).
    /// MODEL.md A3's 1e-6 by default ([`LEXICOGRAPHIC_TOLERANCE`]); 0 keeps
    /// the second stage on the first criterion's optimum.
    pub lexicographic_slack: f64,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            objective: Objective::Externalities,
            time_limit_seconds: None,
            threads: None,
            bound: None,
            mip_gap: None,
            solver: None,
            lexicographic_slack: LEXICOGRAPHIC_TOLERANCE,
        }
    }
}

/// The LP algorithm HiGHS uses (its `solver` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpSolver {
    /// HiGHS decides (`choose`).
    Auto,
    /// Dual simplex (`simplex`).
    Simplex,
    /// Interior point, then crossover to a basis (`ipm`).
    Ipm,
}

impl LpSolver {
    /// The value of HiGHS's `solver` option.
    pub fn highs_name(self) -> &'static str {
        match self {
            LpSolver::Auto => "choose",
            LpSolver::Simplex => "simplex",
            LpSolver::Ipm => "ipm",
        }
    }
}

/// The two criteria of MODEL.md A3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// C, EUR per year.
    PrivateCost,
    /// M, EUR per year.
    Externality,
}

/// criterion <= max_eur.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriterionBound {
    pub criterion: Criterion,
    pub max_eur: f64,
}

/// How good the returned solution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolutionStatus {
    /// Proven optimal (both stages, for a lexicographic objective).
    Optimal,
    /// Feasible, but the time limit stopped the solver before proving optimality.
    TimeLimit,
}

impl SolutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SolutionStatus::Optimal => "optimal",
            SolutionStatus::TimeLimit => "time_limit",
        }
    }
}

/// Why no solution could be returned. Each outcome stays distinct.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    #[error("the problem is infeasible: no flow assignment meets every balance")]
    Infeasible,
    #[error("the problem is infeasible: with the banned routes, these flows cannot be placed (flow: quantity left over, in resource units): {}", format_unplaceable(.0))]
    Unplaceable(Vec<(String, f64)>),
    #[error("the problem is unbounded: some cost can decrease without limit")]
    Unbounded,
    #[error("the problem is infeasible or unbounded (HiGHS could not tell which)")]
    InfeasibleOrUnbounded,
    #[error("the time limit was reached before any feasible solution was found")]
    TimeLimitWithoutSolution,
    #[error("the iteration limit was reached before an optimal solution was found")]
    IterationLimit,
    #[error("the solve was interrupted")]
    Interrupted,
    #[error("numerical trouble in HiGHS ({0}): try rescaling the quantities")]
    NumericalTrouble(String),
    #[error("HiGHS failed: {0}")]
    Solver(String),
}

fn format_unplaceable(flows: &[(String, f64)]) -> String {
    flows
        .iter()
        .map(|(flow, quantity)| format!("{flow}: {quantity}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Wall-clock seconds of each HiGHS run of one solve (module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSeconds {
    /// The guide run of a lexicographic objective (0 otherwise).
    pub guide: f64,
    /// The first stage (the only stage of `social`).
    pub first: f64,
    /// The second stage of a lexicographic objective (0 otherwise).
    pub second: f64,
}

/// The solver's answer, indexed like the candidate links and the flows.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    pub status: SolutionStatus,
    /// x_l, supply units sent on each candidate link.
    pub link_flows: Vec<f64>,
    /// Dual of each flow's balance row in the first-stage LP: the change of
    /// the first-stage objective per extra unit of that flow's quantity
    /// (EUR per resource unit).
    pub shadow_prices: Vec<f64>,
    /// Optimal value of the first-stage objective, EUR.
    pub first_stage_objective: f64,
    /// Wall-clock seconds spent in HiGHS, all runs.
    pub solve_seconds: f64,
    /// How `solve_seconds` splits between HiGHS's runs.
    pub stage_seconds: StageSeconds,
    /// What MODEL.md Part B adds (per-slice flows, process activity, MIP
    /// gap); `None` when the inventory needs none of it and the model is
    /// exactly the A3 program. `link_flows` and `shadow_prices` are then
    /// annual totals over the slices.
    pub extended: Option<ExtendedSolution>,
}

/// Per-column private cost (EUR per unit) and monetised externality (EUR per unit).
struct ColumnCosts {
    private: Vec<f64>,
    externality: Vec<f64>,
}

fn column_costs(inventory: &Inventory, links: &[Link]) -> ColumnCosts {
    let flows = inventory.flows();
    let mut private = Vec::with_capacity(links.len() + flows.len());
    let mut externality = Vec::with_capacity(links.len() + flows.len());
    for link in links {
        private.push(link.unit_cost_eur);
        externality.push(inventory.monetise(&link.unit_impacts));
    }
    for flow in flows {
        private.push(flow.fallback_cost_eur);
        externality.push(inventory.monetise(&flow.fallback_impacts));
    }
    ColumnCosts { private, externality }
}

/// Solves the A3 program for the given candidate links.
pub fn solve(inventory: &Inventory, links: &[Link], options: &SolveOptions) -> Result<LpSolution, SolveError> {
    WarmStart::default().solve(inventory, links, options)
}

/// A HiGHS model kept between solves of inventories that share their
/// candidate links (scenarios changing costs, values or quantities): the
/// next solve changes costs and bounds in place and starts from the last
/// basis instead of building the model again.
///
/// A warm-started solve reaches the same optimum value, but where several
/// solutions tie it may return another one than a cold solve would: sweeps
/// use it only when asked, since a plain sweep's bytes must not depend on
/// which scenario a thread solved before.
#[derive(Debug, Default)]
pub struct WarmStart {
    model: Option<highs::Model>,
    /// (supply, demand) of each link the kept model was built for.
    pairs: Vec<(crate::inventory::FlowIdx, crate::inventory::FlowIdx)>,
    n_flows: usize,
    /// Solves that reused the kept model.
    pub reused: usize,
    /// Solves that built a model.
    pub built: usize,
}

fn highs_int(value: usize) -> Result<highs_sys::HighsInt, SolveError> {
    highs_sys::HighsInt::try_from(value).map_err(|_| SolveError::Solver("too many rows or columns for HiGHS".into()))
}

/// Sets up the second stage of a lexicographic objective on a solved
/// model: adds the row `first . x <= bound` and makes `second` the costs
/// (one per column).
pub(crate) fn add_second_stage(
    model: &mut highs::Model,
    first: &[f64],
    bound: f64,
    second: &[f64],
) -> Result<(), SolveError> {
    let (index, value): (Vec<highs_sys::HighsInt>, Vec<f64>) = first
        .iter()
        .enumerate()
        .filter(|(_, cost)| **cost != 0.0)
        .map(|(column, cost)| (column as highs_sys::HighsInt, *cost))
        .unzip();
    let count = highs_int(index.len())?;
    // SAFETY: the pointer is a live Highs instance owned by `model`; the
    // index and value slices have `count` entries and outlive the call.
    check_call(
        unsafe {
            highs_sys::Highs_addRow(
                model.as_mut_ptr(),
                f64::NEG_INFINITY,
                bound,
                count,
                index.as_ptr(),
                value.as_ptr(),
            )
        },
        "add the second-stage row",
    )?;
    change_costs(model, second)
}

fn check_call(status: highs_sys::HighsInt, what: &str) -> Result<(), SolveError> {
    if status == highs_sys::STATUS_ERROR {
        Err(SolveError::Solver(format!("HiGHS refused to {what}")))
    } else {
        Ok(())
    }
}

impl WarmStart {
    /// Solves like [`solve`], reusing the kept model when the links match.
    pub fn solve(
        &mut self,
        inventory: &Inventory,
        links: &[Link],
        options: &SolveOptions,
    ) -> Result<LpSolution, SolveError> {
        let flows = inventory.flows();
        let n_columns = links.len() + flows.len();
        if flows.is_empty() {
            return Ok(LpSolution {
                status: SolutionStatus::Optimal,
                link_flows: Vec::new(),
                shadow_prices: Vec::new(),
                first_stage_objective: 0.0,
                solve_seconds: 0.0,
                stage_seconds: StageSeconds::default(),
                extended: None,
            });
        }
        if needs_extended_model(inventory, links) {
            // Time slices, processes or investments: a model of its own,
            // built for each solve (MODEL.md Part B).
            self.built += 1;
            return extended::solve(inventory, links, options);
        }
        let costs = column_costs(inventory, links);
        let (first, second): (Vec<f64>, Option<&Vec<f64>>) = match options.objective {
            Objective::Externalities => (costs.externality.clone(), Some(&costs.private)),
            Objective::Private => (costs.private.clone(), Some(&costs.externality)),
            Objective::Social => (
                costs
                    .private
                    .iter()
                    .zip(&costs.externality)
                    .map(|(c, m)| c + m)
                    .collect(),
                None,
            ),
        };
        let fallback_upper: Vec<f64> = flows
            .iter()
            .map(|flow| {
                if inventory.fallback_banned(flow) {
                    0.0
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let reusable = options.bound.is_none()
            && self.model.is_some()
            && self.n_flows == flows.len()
            && self.pairs.len() == links.len()
            && self
                .pairs
                .iter()
                .zip(links)
                .all(|(pair, link)| *pair == (link.supply, link.demand));
        let fresh = !(reusable && self.model.is_some());
        let mut model = match (reusable, self.model.take()) {
            (true, Some(mut model)) => {
                // Same columns and rows: change costs, quantities, fallback
                // bounds and ratios in place.
                let quantities: Vec<f64> = flows.iter().map(|flow| flow.quantity).collect();
                let lower = vec![0.0; flows.len()];
                let (last_column, last_row) = (highs_int(n_columns - 1)?, highs_int(flows.len() - 1)?);
                let first_fallback = highs_int(links.len())?;
                change_costs(&mut model, &first)?;
                // SAFETY: `model` owns a live Highs instance; every slice has
                // exactly one entry per column or row of the given range and
                // outlives the call.
                unsafe {
                    let highs_ptr = model.as_mut_ptr();
                    check_call(
                        highs_sys::Highs_changeRowsBoundsByRange(
                            highs_ptr,
                            0,
                            last_row,
                            quantities.as_ptr(),
                            quantities.as_ptr(),
                        ),
                        "change quantities",
                    )?;
                    check_call(
                        highs_sys::Highs_changeColsBoundsByRange(
                            highs_ptr,
                            first_fallback,
                            last_column,
                            lower.as_ptr(),
                            fallback_upper.as_ptr(),
                        ),
                        "change fallback bounds",
                    )?;
                    for (position, link) in links.iter().enumerate() {
                        check_call(
                            highs_sys::Highs_changeCoeff(
                                highs_ptr,
                                highs_int(link.demand.index())?,
                                highs_int(position)?,
                                link.ratio,
                            ),
                            "change a ratio",
                        )?;
                    }
                }
                self.reused += 1;
                model
            }
            _ => {
                self.built += 1;
                build_model(inventory, links, options, &first, &costs, &fallback_upper)?
            }
        };
        let solver = options.solver.unwrap_or(LpSolver::Auto);
        let simplex_start = solver != LpSolver::Ipm;
        if fresh && simplex_start {
            set_fallback_basis(&mut model, |column| column >= links.len(), flows.len())?;
        }
        set_option(&mut model, "threads", options.threads.unwrap_or(1) as i32)?;
        set_option(&mut model, "solver", solver.highs_name())?;
        set_option(&mut model, "simplex_strategy", SIMPLEX_DUAL)?;

        let started = Instant::now();
        let time_left = |started: Instant| {
            options.time_limit_seconds.map_or(f64::INFINITY, |limit| {
                (limit - started.elapsed().as_secs_f64()).max(0.0)
            })
        };
        let mut guide_seconds = 0.0;
        if let (Some(second), true) = (second, simplex_start) {
            // The guide run: it only picks the first stage's starting basis
            // (module documentation), so its status is not read; whatever it
            // ends on, the first stage below decides.
            let blended: Vec<f64> = first.iter().zip(second).map(|(f, s)| f + GUIDE_WEIGHT * s).collect();
            change_costs(&mut model, &blended)?;
            set_option(&mut model, "time_limit", time_left(started))?;
            let guided = run(model)?;
            model = guided.into();
            change_costs(&mut model, &first)?;
            guide_seconds = started.elapsed().as_secs_f64();
        }
        set_option(&mut model, "time_limit", time_left(started))?;
        let solved = run(model)?;
        let mut status = match classify(
            solved.status(),
            solved.primal_solution_status() == HighsSolutionStatus::Feasible,
        ) {
            Err(SolveError::Infeasible | SolveError::InfeasibleOrUnbounded)
                if flows.iter().any(|flow| inventory.fallback_banned(flow)) =>
            {
                return Err(explain_banned_infeasibility(inventory, links));
            }
            other => other.map_err(|error| impossible_outcome(error, options.bound.is_some()))?,
        };
        let solution = solved.get_solution();
        let first_stage_objective = solved.objective_value();
        let shadow_prices = solution.dual_rows()[..flows.len()].to_vec();
        let mut column_values = solution.columns().to_vec();
        let mut model: highs::Model = solved.into();
        let mut second_seconds = 0.0;

        if let (Some(second), SolutionStatus::Optimal) = (second, status) {
            let bound = first_stage_objective + options.lexicographic_slack * first_stage_objective.abs().max(1.0);
            add_second_stage(&mut model, &first, bound, second)?;
            set_option(&mut model, "time_limit", time_left(started))?;
            // Only simplex starts from the first stage's basis, and the primal
            // simplex fits it: the basis stays primal feasible under the new
            // row, while the new costs make it dual infeasible. (The dual
            // simplex took 224 s against 0.26 s for the `private` objective
            // at 10,000 firms; docs/performance.md.)
            set_option(&mut model, "solver", LpSolver::Simplex.highs_name())?;
            set_option(&mut model, "simplex_strategy", SIMPLEX_PRIMAL)?;
            let second_started = Instant::now();
            let solved = run(model)?;
            second_seconds = second_started.elapsed().as_secs_f64();
            match classify(
                solved.status(),
                solved.primal_solution_status() == HighsSolutionStatus::Feasible,
            ) {
                Ok(second_status) => {
                    status = second_status;
                    column_values = solved.get_solution().columns().to_vec();
                }
                // The first stage's solution is feasible for the first stage and
                // optimal for it: keep it, flagged as not proven optimal overall.
                Err(SolveError::TimeLimitWithoutSolution) => status = SolutionStatus::TimeLimit,
                // The first stage's solution is feasible for the second.
                Err(other) => return Err(impossible_outcome(other, false)),
            }
            model = solved.into();
            // Drop the second-stage row so the model can serve the next scenario.
            let row = highs_int(flows.len())?;
            // SAFETY: live Highs instance; row `row` exists (added above).
            check_call(
                unsafe { highs_sys::Highs_deleteRowsByRange(model.as_mut_ptr(), row, row) },
                "delete the second-stage row",
            )?;
        }
        let solve_seconds = started.elapsed().as_secs_f64();
        let stage_seconds = StageSeconds {
            guide: guide_seconds,
            first: solve_seconds - guide_seconds - second_seconds,
            second: second_seconds,
        };
        column_values.truncate(links.len());
        if options.bound.is_none() {
            self.pairs = links.iter().map(|link| (link.supply, link.demand)).collect();
            self.n_flows = flows.len();
            self.model = Some(model);
        }
        Ok(LpSolution {
            status,
            link_flows: column_values,
            shadow_prices,
            first_stage_objective,
            solve_seconds,
            stage_seconds,
            extended: None,
        })
    }
}

/// Runs HiGHS on `model` with its clocks zeroed. A HiGHS instance keeps one
/// clock across runs, and its `time_limit` applies to the cumulative time
/// otherwise (highs_c_api.h, `Highs_zeroAllClocks`): the guide, the first
/// and the second stage, and the solves of a reused [`WarmStart`] model,
/// would each see the earlier runs' time twice. Each run is given the time
/// left of the whole solve instead.
pub(crate) fn run(mut model: highs::Model) -> Result<highs::SolvedModel, SolveError> {
    // SAFETY: live Highs instance owned by `model`.
    check_call(
        unsafe { highs_sys::Highs_zeroAllClocks(model.as_mut_ptr()) },
        "zero the clocks",
    )?;
    model.try_solve().map_err(|e| SolveError::Solver(format!("{e:?}")))
}

/// Makes `costs` (one per column) the model's costs.
pub(crate) fn change_costs(model: &mut highs::Model, costs: &[f64]) -> Result<(), SolveError> {
    let last = highs_int(costs.len().saturating_sub(1))?;
    // SAFETY: live Highs instance owned by `model`; `costs` has exactly one
    // entry per column 0..=last and outlives the call.
    check_call(
        unsafe { highs_sys::Highs_changeColsCostByRange(model.as_mut_ptr(), 0, last, costs.as_ptr()) },
        "change costs",
    )
}

/// Gives a fresh model the fallback basis: every fallback column basic,
/// every other column nonbasic at zero, the balance rows (the first
/// `n_balance_rows`) nonbasic and any other row basic (its slack). It is a
/// basis of every inventory (each balance row has its own fallback column,
/// coefficient 1, even where the fallback is bounded to 0), primal
/// feasible unless a fallback is banned.
pub(crate) fn set_fallback_basis(
    model: &mut highs::Model,
    is_fallback: impl Fn(usize) -> bool,
    n_balance_rows: usize,
) -> Result<(), SolveError> {
    // HiGHS's HighsBasisStatus: 0 lower, 1 basic.
    let (lower, basic) = (0 as highs_sys::HighsInt, 1 as highs_sys::HighsInt);
    let columns: Vec<highs_sys::HighsInt> = (0..model.num_cols())
        .map(|column| if is_fallback(column) { basic } else { lower })
        .collect();
    let rows: Vec<highs_sys::HighsInt> = (0..model.num_rows())
        .map(|row| if row < n_balance_rows { lower } else { basic })
        .collect();
    // SAFETY: live Highs instance; the slices have exactly one entry per
    // column and per row of its model.
    check_call(
        unsafe { highs_sys::Highs_setBasis(model.as_mut_ptr(), columns.as_ptr(), rows.as_ptr()) },
        "take the fallback basis",
    )
}

/// The first-stage model handed to HiGHS: column by column through the
/// `highs` crate (see [`ModelBuilder`] for why not good_lp).
fn build_model(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    first: &[f64],
    costs: &ColumnCosts,
    fallback_upper: &[f64],
) -> Result<highs::Model, SolveError> {
    build_model_columns(inventory, links, options, first, costs, fallback_upper)
}

/// Two ways of handing the A3 model to HiGHS, kept side by side so that
/// `cargo bench --bench scale` can compare them on the same links.
///
/// `Columns` is the one the solver uses: the matrix is naturally
/// column-wise (a link has two nonzeros, a fallback one), so the `highs`
/// crate's `ColProblem` fills HiGHS's compressed columns directly.
/// good_lp collects each row as a hash map of terms, then the `highs`
/// crate transposes the rows into columns. Both give HiGHS the same matrix,
/// bounds and costs, in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelBuilder {
    /// good_lp expressions (`ProblemVariables`, `Expression`), the model underneath taken out.
    GoodLp,
    /// `highs::ColProblem`, filled column by column.
    Columns,
}

/// Costs, second-stage costs and fallback bounds, as [`WarmStart::solve`] computes them.
fn first_stage_inputs(
    inventory: &Inventory,
    links: &[Link],
    objective: Objective,
) -> (ColumnCosts, Vec<f64>, Vec<f64>) {
    let costs = column_costs(inventory, links);
    let first = match objective {
        Objective::Externalities => costs.externality.clone(),
        Objective::Private => costs.private.clone(),
        Objective::Social => costs
            .private
            .iter()
            .zip(&costs.externality)
            .map(|(c, m)| c + m)
            .collect(),
    };
    let fallback_upper = inventory
        .flows()
        .iter()
        .map(|flow| {
            if inventory.fallback_banned(flow) {
                0.0
            } else {
                f64::INFINITY
            }
        })
        .collect();
    (costs, first, fallback_upper)
}

/// The first-stage model of [`solve`], built with `builder` and not solved.
pub fn first_stage_model(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    builder: ModelBuilder,
) -> Result<highs::Model, SolveError> {
    let (costs, first, fallback_upper) = first_stage_inputs(inventory, links, options.objective);
    match builder {
        ModelBuilder::GoodLp => build_model_good_lp(inventory, links, options, &first, &costs, &fallback_upper),
        ModelBuilder::Columns => build_model_columns(inventory, links, options, &first, &costs, &fallback_upper),
    }
}

/// Writes the first-stage LP that [`solve`] hands to HiGHS into `path`, with
/// HiGHS's own writer, so that HiGHS alone can be timed on exactly the same
/// problem: LP format for a `.lp` name (any case), MPS for any other name.
/// HiGHS picks the format from the extension and refuses names it does not
/// know, so the file is written under a temporary `.lp` or `.mps` name
/// beside `path`, then renamed to it (which also means a reader never sees
/// a half-written file).
pub fn write_first_stage(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    path: &std::path::Path,
) -> Result<(), SolveError> {
    let mut model = first_stage_model(inventory, links, options, ModelBuilder::Columns)?;
    let cannot_write =
        |reason: String| SolveError::Solver(format!("HiGHS could not write {}: {reason}", path.display()));
    let Some(name) = path.file_name() else {
        return Err(cannot_write("the path names no file".to_string()));
    };
    let extension = match path.extension() {
        Some(extension) if extension.eq_ignore_ascii_case("lp") => "lp",
        _ => "mps",
    };
    let temporary = path.with_file_name(format!(
        ".{}.{}.tmp.{extension}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = std::ffi::CString::new(temporary.display().to_string())
        .map_err(|_| cannot_write("the name holds a NUL byte".to_string()))?;
    // SAFETY: `model` owns a live Highs instance; `file` is a NUL-terminated
    // string that outlives the call.
    let status = unsafe { highs_sys::Highs_writeModel(model.as_mut_ptr(), file.as_ptr()) };
    if status == highs_sys::STATUS_ERROR {
        let _ = std::fs::remove_file(&temporary);
        return Err(cannot_write(
            "HiGHS's writer failed: check that the folder exists and can be written".to_string(),
        ));
    }
    std::fs::rename(&temporary, path).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        cannot_write(error.to_string())
    })
}

/// Writes the A3 model column by column (`highs::ColProblem`).
fn build_model_columns(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    first: &[f64],
    costs: &ColumnCosts,
    fallback_upper: &[f64],
) -> Result<highs::Model, SolveError> {
    let flows = inventory.flows();
    let mut problem = highs::ColProblem::new();
    let rows: Vec<highs::Row> = flows
        .iter()
        .map(|flow| problem.add_row(flow.quantity..=flow.quantity))
        .collect();
    let bound = options.bound.map(|bound| {
        let coefficients = match bound.criterion {
            Criterion::PrivateCost => &costs.private,
            Criterion::Externality => &costs.externality,
        };
        (problem.add_row(..=bound.max_eur), coefficients)
    });
    let mut factors: Vec<(highs::Row, f64)> = Vec::with_capacity(3);
    for (position, link) in links.iter().enumerate() {
        factors.clear();
        let (supply, demand) = (link.supply.index(), link.demand.index());
        // Row indices ascending within a column, as good_lp's transpose gives them.
        if supply < demand {
            factors.extend([(rows[supply], 1.0), (rows[demand], link.ratio)]);
        } else {
            factors.extend([(rows[demand], link.ratio), (rows[supply], 1.0)]);
        }
        if let Some((row, coefficients)) = bound {
            if coefficients[position] != 0.0 {
                factors.push((row, coefficients[position]));
            }
        }
        problem.add_column(first[position], 0.0.., &factors);
    }
    for (flow, upper) in fallback_upper.iter().enumerate() {
        factors.clear();
        factors.push((rows[flow], 1.0));
        let column = links.len() + flow;
        if let Some((row, coefficients)) = bound {
            if coefficients[column] != 0.0 {
                factors.push((row, coefficients[column]));
            }
        }
        problem.add_column(first[column], 0.0..=*upper, &factors);
    }
    let mut model = problem
        .try_optimise(highs::Sense::Minimise)
        .map_err(|e| SolveError::Solver(format!("building the model: {e:?}")))?;
    model.make_quiet();
    Ok(model)
}

/// Writes the A3 model with good_lp and hands back the HiGHS model underneath.
fn build_model_good_lp(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    first: &[f64],
    costs: &ColumnCosts,
    fallback_upper: &[f64],
) -> Result<highs::Model, SolveError> {
    let flows = inventory.flows();
    let n_columns = links.len() + flows.len();
    let mut variables = ProblemVariables::new();
    let mut columns = variables.add_vector(variable().min(0.0), links.len());
    // A flow whose fallback route is banned may not fall back at all.
    columns.extend(
        fallback_upper
            .iter()
            .map(|upper| variables.add(variable().min(0.0).max(*upper))),
    );
    let mut objective = Expression::with_capacity(n_columns);
    for (column, cost) in columns.iter().zip(first) {
        if *cost != 0.0 {
            objective.add_mul(*cost, *column);
        }
    }
    let mut rows: Vec<Expression> = (0..flows.len())
        .map(|flow| Expression::from(columns[links.len() + flow]))
        .collect();
    for (position, link) in links.iter().enumerate() {
        rows[link.supply.index()].add_mul(1.0, columns[position]);
        rows[link.demand.index()].add_mul(link.ratio, columns[position]);
    }
    let mut problem = variables.minimise(objective).using(highs);
    for (row, flow) in rows.into_iter().zip(flows) {
        problem.add_constraint(row.eq(flow.quantity));
    }
    if let Some(bound) = options.bound {
        let coefficients = match bound.criterion {
            Criterion::PrivateCost => &costs.private,
            Criterion::Externality => &costs.externality,
        };
        let mut row = Expression::with_capacity(n_columns);
        for (column, coefficient) in columns.iter().zip(coefficients) {
            if *coefficient != 0.0 {
                row.add_mul(*coefficient, *column);
            }
        }
        problem.add_constraint(row.leq(bound.max_eur));
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| SolveError::Solver(format!("building the model: {e}")))?;
    model.make_quiet();
    Ok(model)
}

/// When banned routes make the problem infeasible, finds the flows that
/// cannot be placed: an elastic copy of the problem lets banned fallbacks
/// run again and minimises their total use (in resource units); the flows
/// left with a banned fallback in that solution are the ones to name.
fn explain_banned_infeasibility(inventory: &Inventory, links: &[Link]) -> SolveError {
    let quantities: Vec<f64> = inventory.flows().iter().map(|flow| flow.quantity).collect();
    match unplaceable_flows(inventory, links, &quantities) {
        Some(unplaceable) if !unplaceable.is_empty() => SolveError::Unplaceable(unplaceable),
        _ => SolveError::Infeasible,
    }
}

/// The flows with a banned fallback that cannot be placed when flow f has
/// `quantities[f]`, with the quantity left over, sorted by flow id:
/// the optimum of an elastic copy of the A3 rows that pays only for the
/// banned fallbacks. `None` when that copy does not solve.
pub(crate) fn unplaceable_flows(
    inventory: &Inventory,
    links: &[Link],
    quantities: &[f64],
) -> Option<Vec<(String, f64)>> {
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

fn set_option<V: highs::HighsOptionValue>(model: &mut highs::Model, name: &str, value: V) -> Result<(), SolveError> {
    model
        .try_set_option(name, value)
        .map_err(|_| SolveError::Solver(format!("HiGHS refused the option {name}")))
}

/// Reads outcomes that the A3 program cannot have as numerical trouble.
/// Every column is bounded by a balance row with positive coefficients and
/// a finite quantity (x_l <= Q_s, fallback <= Q), so the program is never
/// unbounded (HiGHS said so of one random inventory with quantities from
/// 1e-3 to 1e12: ARCHITECTURE.md, "Numerical tolerances"); "infeasible or
/// unbounded" then means infeasible. Without banned routes (handled before)
/// or an extra bound on a criterion, falling back on every route is
/// feasible, so "infeasible" is numerical trouble too.
pub(crate) fn impossible_outcome(error: SolveError, may_be_infeasible: bool) -> SolveError {
    match error {
        SolveError::Unbounded => SolveError::NumericalTrouble(
            "it reported the problem unbounded, which it cannot be: every flow is bounded by its quantity".into(),
        ),
        SolveError::Infeasible | SolveError::InfeasibleOrUnbounded if may_be_infeasible => SolveError::Infeasible,
        SolveError::Infeasible | SolveError::InfeasibleOrUnbounded => SolveError::NumericalTrouble(
            "it reported the problem infeasible, which it cannot be: every flow may fall back on its route".into(),
        ),
        other => other,
    }
}

/// Maps HiGHS's model status to ours, keeping every outcome distinct.
pub fn classify(status: HighsModelStatus, primal_feasible: bool) -> Result<SolutionStatus, SolveError> {
    match status {
        HighsModelStatus::Optimal => Ok(SolutionStatus::Optimal),
        HighsModelStatus::Infeasible => Err(SolveError::Infeasible),
        HighsModelStatus::Unbounded => Err(SolveError::Unbounded),
        HighsModelStatus::UnboundedOrInfeasible => Err(SolveError::InfeasibleOrUnbounded),
        HighsModelStatus::ReachedTimeLimit if primal_feasible => Ok(SolutionStatus::TimeLimit),
        HighsModelStatus::ReachedTimeLimit => Err(SolveError::TimeLimitWithoutSolution),
        HighsModelStatus::ReachedIterationLimit => Err(SolveError::IterationLimit),
        HighsModelStatus::ReachedInterrupt => Err(SolveError::Interrupted),
        HighsModelStatus::SolveError => Err(SolveError::NumericalTrouble("solve error".into())),
        HighsModelStatus::PresolveError => Err(SolveError::NumericalTrouble("presolve error".into())),
        HighsModelStatus::PostsolveError => Err(SolveError::NumericalTrouble("postsolve error".into())),
        // What HiGHS answers when it cannot clean up the infeasibilities left
        // after unscaling: measured on inventories whose quantities span more
        // than 1e15 (ARCHITECTURE.md, "Numerical tolerances").
        HighsModelStatus::Unknown => Err(SolveError::NumericalTrouble(
            "the solve ended without a status, infeasibilities remaining after unscaling".into(),
        )),
        other => Err(SolveError::Solver(format!("unexpected model status {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_the_program_cannot_have_are_numerical_trouble() {
        assert!(matches!(
            impossible_outcome(SolveError::Unbounded, true),
            SolveError::NumericalTrouble(_)
        ));
        assert!(matches!(
            impossible_outcome(SolveError::Infeasible, false),
            SolveError::NumericalTrouble(_)
        ));
        assert_eq!(
            impossible_outcome(SolveError::InfeasibleOrUnbounded, true),
            SolveError::Infeasible
        );
        assert_eq!(
            impossible_outcome(SolveError::IterationLimit, false),
            SolveError::IterationLimit
        );
    }

    #[test]
    fn every_status_keeps_its_meaning() {
        assert_eq!(classify(HighsModelStatus::Optimal, true), Ok(SolutionStatus::Optimal));
        assert_eq!(
            classify(HighsModelStatus::Infeasible, false),
            Err(SolveError::Infeasible)
        );
        assert_eq!(classify(HighsModelStatus::Unbounded, false), Err(SolveError::Unbounded));
        assert_eq!(
            classify(HighsModelStatus::UnboundedOrInfeasible, false),
            Err(SolveError::InfeasibleOrUnbounded)
        );
        assert_eq!(
            classify(HighsModelStatus::ReachedTimeLimit, true),
            Ok(SolutionStatus::TimeLimit)
        );
        assert_eq!(
            classify(HighsModelStatus::ReachedTimeLimit, false),
            Err(SolveError::TimeLimitWithoutSolution)
        );
        assert_eq!(
            classify(HighsModelStatus::ReachedIterationLimit, true),
            Err(SolveError::IterationLimit)
        );
        assert!(matches!(
            classify(HighsModelStatus::SolveError, false),
            Err(SolveError::NumericalTrouble(_))
        ));
        assert!(matches!(
            classify(HighsModelStatus::Unknown, true),
            Err(SolveError::NumericalTrouble(_))
        ));
        assert!(matches!(
            classify(HighsModelStatus::ModelError, false),
            Err(SolveError::Solver(_))
        ));
    }
}
