//! The optimisation model of docs/model.md A3 and Part B, and the only module
//! that touches good_lp and HiGHS. Part A is Part B with one slice, no
//! process and no investment: one model builder ([`model`]), one
//! lexicographic driver ([`lexicographic`]), one stage-cost selection, one
//! explanation of infeasible bans ([`explain`]), and every `unsafe` HiGHS
//! call behind one safe wrapper ([`engine`]).
//!
//! HiGHS's own status is read without good_lp's collapsing (it maps
//! "unbounded or infeasible" to "infeasible" and every limit to "time
//! limit"): [`classify`] keeps every outcome distinct.
//!
//! A fresh LP starts from the fallback basis (every fallback column basic,
//! every other column at zero), which is a basis of any inventory since
//! each balance row has its own fallback column. A MILP keeps HiGHS's own
//! start; its binaries are then fixed at their optimum (rounded) and the LP
//! left is solved again, lexicographically, for the shadow prices and the
//! flows reported. A Part A model is kept between solves ([`WarmStart`])
//! and changed in place for scenarios that share its links.

use highs::HighsModelStatus;

use crate::candidates::Link;
use crate::model::Inventory;

mod engine;
mod explain;
mod lexicographic;
mod model;
mod parts;
mod ranges;

pub use engine::write_model;
pub use lexicographic::GUIDE_WEIGHT;
pub use model::ModelBuilder;

use engine::Engine;
use model::{Columns, Layout, ModelInputs, Scope};
use parts::Part;
pub use parts::{Reuse, Reused, BATCH_COLUMNS};
pub use ranges::{near_optimal_ranges, LpCounts, RangeRequest, Ranges, ZERO_SHARE};

/// What the optimizer minimises (docs/model.md A3).
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
    /// MILP (docs/model.md B4).
    pub mip_gap: Option<f64>,
    /// HiGHS's `solver` option for the first stage of an LP (`None`:
    /// HiGHS's default, `choose`, which runs the dual simplex from the
    /// fallback basis). The second stage of a lexicographic objective always
    /// re-solves with the primal simplex from the first stage's basis; `ipm`
    /// skips the fallback basis and the guide run. A MILP (investments,
    /// docs/model.md B4) ignores it: HiGHS's MIP solver runs.
    pub solver: Option<LpSolver>,
    /// Relative slack the second stage of a lexicographic objective may
    /// spend on the first criterion: value <= v* + slack * max(1, |v*|).
    /// docs/model.md A3's 1e-6 by default ([`LEXICOGRAPHIC_TOLERANCE`]); 0 keeps
    /// the second stage on the first criterion's optimum.
    pub lexicographic_slack: f64,
    /// Solve the territory's independent parts apart, in parallel
    /// (`parts.rs`; default). `false` (`--no-decompose`) builds one model of
    /// everything, as before; so does a criterion bound, which ties the
    /// parts together.
    pub decompose: bool,
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
            decompose: true,
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

/// The two criteria of docs/model.md A3.
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
    /// A limit of the program, not a failure of the solver: the model is
    /// larger than HiGHS can index.
    #[error("the territory is too large: {0}")]
    TooLarge(String),
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
    /// What docs/model.md Part B adds (per-slice flows, process activity, MIP
    /// gap); `None` when the inventory needs none of it and the model is
    /// exactly the A3 program. `link_flows` and `shadow_prices` are then
    /// annual totals over the slices.
    pub extended: Option<ExtendedSolution>,
}

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

/// Solves the model for the given candidate links.
pub fn solve(inventory: &Inventory, links: &[Link], options: &SolveOptions) -> Result<LpSolution, SolveError> {
    WarmStart::default().solve(inventory, links, options)
}

/// A Part A model kept between solves of inventories that share their
/// candidate links (scenarios changing costs, values or quantities): the
/// next solve changes costs and bounds in place and starts from the last
/// basis instead of building the model again. Part B models are built for
/// each solve.
///
/// A warm-started solve reaches the same optimum value, but where several
/// solutions tie it may return another one than a cold solve would: sweeps
/// use it only when asked, since a plain sweep's bytes must not depend on
/// which scenario a thread solved before.
#[derive(Debug, Default)]
pub struct WarmStart {
    engine: Option<Engine>,
    /// (supply, demand) of each link the kept model was built for.
    pairs: Vec<(crate::model::FlowIdx, crate::model::FlowIdx)>,
    n_flows: usize,
    /// Solves that reused the kept model.
    pub reused: usize,
    /// Solves that built a model.
    pub built: usize,
}

impl WarmStart {
    /// Solves like [`solve`], reusing the kept model when the links match.
    pub fn solve(
        &mut self,
        inventory: &Inventory,
        links: &[Link],
        options: &SolveOptions,
    ) -> Result<LpSolution, SolveError> {
        if inventory.flows().is_empty() {
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
        let outcome = if options.decompose && options.bound.is_none() {
            self.built += 1;
            parts::solve_decomposed(inventory, links, options)
        } else {
            self.solve_whole(inventory, links, options)
        };
        explained(inventory, links, options, outcome)
    }

    /// The monolithic solve: one model holding every flow, link and process,
    /// kept for the next solve when it is a Part A model without a bound.
    fn solve_whole(
        &mut self,
        inventory: &Inventory,
        links: &[Link],
        options: &SolveOptions,
    ) -> Result<LpSolution, SolveError> {
        let identity = model::identity(inventory.flows().len());
        let scope = Scope::whole(inventory, links, &identity);
        let layout = Layout::new(inventory, links, &scope);
        let shares = model::slice_shares(inventory);
        let keep = layout.is_part_a() && options.bound.is_none();
        let reusable = keep
            && self.engine.is_some()
            && self.n_flows == layout.n_flows
            && self.pairs.len() == links.len()
            && self
                .pairs
                .iter()
                .zip(links)
                .all(|(pair, link)| *pair == (link.supply, link.demand));
        let part = match (reusable, self.engine.take()) {
            (true, Some(mut engine)) => {
                // Same columns and rows: change costs, quantities, fallback
                // bounds and ratios in place.
                let columns = Columns::new(inventory, links, &layout, &scope);
                let (first, _) = columns.stage_costs(options.objective);
                let quantities: Vec<f64> = inventory.flows().iter().map(|flow| flow.quantity).collect();
                engine.change_costs(&first)?;
                engine.change_row_bounds(0, &quantities, &quantities)?;
                engine.change_column_bounds(
                    layout.n_links,
                    &vec![0.0; layout.n_flows],
                    &columns.upper[layout.n_links..],
                )?;
                for (position, link) in links.iter().enumerate() {
                    engine.change_coefficient(link.demand.index(), position, link.ratio)?;
                }
                parts::configure(&mut engine, options)?;
                self.reused += 1;
                Part::new(scope, layout, columns, options.objective, engine)
            }
            _ => {
                self.built += 1;
                Part::prepare(inventory, links, scope, &shares, options, false)
            }
        };
        let run = parts::Run::new(inventory, links, &shares, options);
        let mut parts = [part];
        let solution = parts::solve_parts(&mut parts, &parts::Alone::none(), &run)?;
        if keep {
            let [part] = parts;
            self.pairs = links.iter().map(|link| (link.supply, link.demand)).collect();
            self.n_flows = part.layout.n_flows;
            self.engine = part.into_engine();
        }
        Ok(solution)
    }
}

/// A solve's outcome with its failures said as the program can have them:
/// banned routes explained by the flows they leave over; outcomes the
/// model cannot have read as numerical trouble ([`impossible_outcome`]).
pub(crate) fn explained(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    outcome: Result<LpSolution, SolveError>,
) -> Result<LpSolution, SolveError> {
    match outcome {
        Ok(solution) => Ok(solution),
        Err(SolveError::Infeasible | SolveError::InfeasibleOrUnbounded) if explain::applies(inventory) => {
            Err(explain::banned_infeasibility(inventory, links))
        }
        // Without banned routes, processes (whose inputs have no
        // fallback) or a bound on a criterion, falling back on every
        // route is feasible.
        Err(error) => Err(impossible_outcome(
            error,
            options.bound.is_some() || !inventory.processes().is_empty(),
        )),
    }
}

/// The first-stage model of [`solve`], built with `builder` and not solved
/// (for benchmarks and for timing HiGHS alone on the same problem).
pub fn first_stage_model(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    builder: ModelBuilder,
) -> Result<highs::Model, SolveError> {
    let identity = model::identity(inventory.flows().len());
    let scope = Scope::whole(inventory, links, &identity);
    let layout = Layout::new(inventory, links, &scope);
    let columns = Columns::new(inventory, links, &layout, &scope);
    let (first, _) = columns.stage_costs(options.objective);
    let shares = model::slice_shares(inventory);
    let inputs = ModelInputs {
        inventory,
        links,
        scope: &scope,
        layout: &layout,
        columns: &columns,
        costs: &first,
        shares: &shares,
        bound: options.bound,
    };
    let engine = match builder {
        ModelBuilder::GoodLp => model::build_good_lp(&inputs)?,
        ModelBuilder::Columns => model::build(&inputs)?,
    };
    Ok(engine.into_model())
}

/// Writes the first-stage model that [`solve`] hands to HiGHS into `path`,
/// with HiGHS's own writer, so that HiGHS alone can be timed on exactly the
/// same problem: LP format for a `.lp` name (any case), MPS for any other
/// name. HiGHS picks the format from the extension and refuses names it
/// does not know, so the file is written under a temporary `.lp` or `.mps`
/// name beside `path`, then renamed to it (which also means a reader never
/// sees a half-written file).
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
    if write_model(&mut model, &temporary).is_err() {
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
