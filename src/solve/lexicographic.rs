//! The one lexicographic driver (docs/model.md A3), for Part A and Part B, LP and
//! MILP: minimise the first criterion ([`first_stage`]), then, when the
//! objective has a second and the first stage is optimal, the second among
//! the solutions whose first criterion stays within a bound
//! ([`second_stage`]: one added row, removed afterwards so that the model
//! keeps its rows for the next solve). The two are apart because a
//! decomposed solve (`parts.rs`) must know every part's first optimum
//! before it can share docs/model.md A3's slack between the parts.
//!
//! How a simplex solve starts is chosen for speed, never for the answer
//! (issue 7; docs/performance.md): an LP with a second criterion first runs
//! a *guide* with the blended costs first + [`GUIDE_WEIGHT`] x second,
//! which only picks the starting basis; the first stage then confirms the
//! first optimum from it (usually in zero iterations, since the guide
//! breaks the many ties of the first criterion in favour of the second);
//! the second stage runs the primal simplex from the first stage's basis,
//! which stays primal feasible when the bound row is added. The answer is
//! defined by the last two runs alone.

use std::time::Instant;

use super::engine::{Basis, Engine};
use super::{classify, impossible_outcome, LpSolver, SolutionStatus, SolveError};

/// Weight of the second criterion in the guide run (module documentation).
/// Any positive weight gives the same answer; 0.1 and 0.01 gave the same
/// iterations at 5,000 to 20,000 firms.
pub const GUIDE_WEIGHT: f64 = 0.1;

/// HiGHS's `simplex_strategy` values used here.
pub(crate) const SIMPLEX_DUAL: i32 = 1;
pub(crate) const SIMPLEX_PRIMAL: i32 = 4;

/// How one lexicographic solve runs.
pub(crate) struct Plan<'a> {
    pub first: &'a [f64],
    pub second: Option<&'a [f64]>,
    /// Rows of the model before the second-stage row is added.
    pub n_rows: usize,
    pub time_limit_seconds: Option<f64>,
    /// A MILP: no guide, HiGHS's own MIP solver in both stages.
    pub is_mip: bool,
    /// The LP algorithm of the first stage (`None` for a MILP); the guide
    /// runs only with a simplex start.
    pub solver: Option<LpSolver>,
    /// When the whole solve started (the time limit counts from there).
    pub started: Instant,
    /// The model starts from a kept basis, not from the fallback basis: no
    /// guide run (the kept basis is a better start than any guide).
    pub warm: bool,
    /// Keep the first stage's optimal basis in [`Found`] (for `reuse.rs`).
    pub keep_basis: bool,
}

impl Plan<'_> {
    fn remaining(&self) -> f64 {
        self.time_limit_seconds.map_or(f64::INFINITY, |limit| {
            (limit - self.started.elapsed().as_secs_f64()).max(0.0)
        })
    }
}

/// How the MILP stages of a model went, before its binaries were fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Milp {
    pub status: SolutionStatus,
    pub first_objective: f64,
    pub first_gap: f64,
    /// The second stage's gap and objective value, when it ran.
    pub second: Option<(f64, f64)>,
}

/// A model after its stages, and what they found.
pub(crate) struct Stages {
    pub engine: Engine,
    pub found: Found,
}

/// What one lexicographic solve found (kept without its model when a part
/// is reused, `parts.rs`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub status: SolutionStatus,
    pub columns: Vec<f64>,
    /// Duals of the rows in the first stage (meaningless for a MILP).
    pub row_duals: Vec<f64>,
    pub first_objective: f64,
    /// The bound the second stage kept the first criterion under (`None`
    /// without a second stage).
    pub second_bound: Option<f64>,
    /// The first stage's optimal basis, when the plan asked to keep it.
    pub first_basis: Option<Basis>,
    /// For the LP left once a MILP's binaries are fixed: how the MILP
    /// stages went (kept with the solution, so a reused part keeps its gap).
    pub milp: Option<Milp>,
    /// The relative MIP gap HiGHS reported for the first stage, and for the
    /// second with its objective value (0 and `None` for an LP).
    pub first_mip_gap: f64,
    pub second_mip_gap: Option<(f64, f64)>,
    /// Wall-clock seconds of the guide run, of the first stage and of the
    /// second stage (0 without one).
    pub guide_seconds: f64,
    pub first_seconds: f64,
    pub second_seconds: f64,
}

/// Runs the guide (when it applies) and the first stage of `plan` on
/// `engine`. A failure is returned as HiGHS classified it (the caller knows
/// whether the program may be infeasible).
pub(crate) fn first_stage(mut engine: Engine, plan: &Plan) -> Result<Stages, SolveError> {
    let simplex_start = !plan.is_mip && plan.solver != Some(LpSolver::Ipm) && !plan.warm;
    if let Some(solver) = plan.solver.filter(|_| !plan.is_mip) {
        engine.set_option("solver", solver.highs_name())?;
        engine.set_option("simplex_strategy", SIMPLEX_DUAL)?;
    }
    let mut guide_seconds = 0.0;
    if let (Some(second), true) = (plan.second, simplex_start) {
        // The guide only picks the first stage's starting basis, so its
        // status is not read; whatever it ends on, the first stage decides.
        let blended: Vec<f64> = plan
            .first
            .iter()
            .zip(second)
            .map(|(f, s)| f + GUIDE_WEIGHT * s)
            .collect();
        engine.change_costs(&blended)?;
        engine.set_option("time_limit", plan.remaining())?;
        let guide_started = Instant::now();
        engine = engine.run()?.into_engine();
        guide_seconds = guide_started.elapsed().as_secs_f64();
    }
    engine.change_costs(plan.first)?;
    engine.set_option("time_limit", plan.remaining())?;
    let first_started = Instant::now();
    let solved = engine.run()?;
    let first_seconds = first_started.elapsed().as_secs_f64();
    let status = classify(solved.status(), solved.primal_feasible())?;
    let first_mip_gap = if plan.is_mip { solved.mip_gap() } else { 0.0 };
    let first_objective = solved.objective_value();
    let (columns, row_duals) = solved.solution();
    let mut engine = solved.into_engine();
    let first_basis = if plan.keep_basis && !plan.is_mip {
        Some(engine.basis()?)
    } else {
        None
    };
    Ok(Stages {
        engine,
        found: Found {
            status,
            columns,
            row_duals,
            first_objective,
            second_bound: None,
            first_basis,
            milp: None,
            first_mip_gap,
            second_mip_gap: None,
            guide_seconds,
            first_seconds,
            second_seconds: 0.0,
        },
    })
}

/// Whether `plan` has a second stage to run after `stages`' first: a
/// second criterion and an optimal first stage.
pub(crate) fn has_second_stage(plan: &Plan, found: &Found) -> bool {
    plan.second.is_some() && found.status == SolutionStatus::Optimal
}

/// Minimises the second criterion of `plan` among the solutions whose first
/// criterion is at most `bound` (EUR). A failure other than the time limit
/// is numerical trouble, since the first stage's solution is feasible for
/// it (`bound` is at least the first optimum).
pub(crate) fn second_stage(stages: Stages, plan: &Plan, bound: f64) -> Result<Stages, SolveError> {
    let Some(second) = plan.second else {
        return Ok(stages);
    };
    let Stages { mut engine, mut found } = stages;
    found.second_bound = Some(bound);
    let entries: Vec<(usize, f64)> = plan
        .first
        .iter()
        .enumerate()
        .filter(|(_, cost)| **cost != 0.0)
        .map(|(column, cost)| (column, *cost))
        .collect();
    engine.add_row(f64::NEG_INFINITY, bound, &entries)?;
    engine.change_costs(second)?;
    engine.set_option("time_limit", plan.remaining())?;
    if !plan.is_mip {
        // The primal simplex fits the first stage's basis: it stays
        // primal feasible under the new row, while the new costs make it
        // dual infeasible. (The dual simplex took 224 s against 0.26 s
        // for the `private` objective at 10,000 firms; after the guide,
        // 0.09 s at 2,000 firms and 4 slices: docs/performance.md.)
        engine.set_option("solver", LpSolver::Simplex.highs_name())?;
        engine.set_option("simplex_strategy", SIMPLEX_PRIMAL)?;
    }
    let second_started = Instant::now();
    let solved = engine.run()?;
    found.second_seconds = second_started.elapsed().as_secs_f64();
    match classify(solved.status(), solved.primal_feasible()) {
        Ok(second_status) => {
            found.status = second_status;
            found.columns = solved.columns();
            if plan.is_mip {
                found.second_mip_gap = Some((solved.mip_gap(), solved.objective_value()));
            }
        }
        // The first stage's solution stands, flagged as not proven optimal overall.
        Err(SolveError::TimeLimitWithoutSolution) => found.status = SolutionStatus::TimeLimit,
        Err(other) => return Err(impossible_outcome(other, false)),
    }
    engine = solved.into_engine();
    if !plan.is_mip {
        engine.set_option("simplex_strategy", SIMPLEX_DUAL)?;
        if let Some(solver) = plan.solver {
            engine.set_option("solver", solver.highs_name())?;
        }
    }
    engine.delete_row(plan.n_rows)?;
    Ok(Stages { engine, found })
}
