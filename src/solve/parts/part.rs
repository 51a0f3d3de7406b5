//! One model of a solve and where it stands: prepared (its layout, column
//! data and, when parts are to be reused, its signature), built (a HiGHS
//! model), solved (the model and what its stages found), or kept (what an
//! earlier solve of the same model found, with no model).
//!
//! **Invariant:** a part's stages run in one order (build, first stage,
//! second stage; for a MILP then binaries fixed, first and second stage
//! again), each taking the state the step before left.

use super::Run;
use crate::candidates::Link;
use crate::model::Inventory;
use crate::solve::engine::{Basis, Engine};
use crate::solve::lexicographic::{self, Found, Milp, Plan};
use crate::solve::model::{self, Columns, Layout, ModelInputs, Scope, Signature, SliceShares};
use crate::solve::{LpSolver, Objective, SolveError, SolveOptions};

/// One model of a solve (module documentation).
pub(crate) struct Part<'a> {
    pub scope: Scope<'a>,
    pub layout: Layout,
    pub columns: Columns,
    /// The first criterion's costs.
    pub first: Vec<f64>,
    /// Everything the model is made of, when parts are compared with a kept
    /// solve (`reuse.rs`).
    pub signature: Option<Signature>,
    /// A kept first-stage basis of a model of the same shape to start from,
    /// instead of the fallback basis (`reuse.rs`).
    pub start: Option<Basis>,
    /// How its MILP stages went, once its binaries are fixed.
    milp: Option<Milp>,
    state: State,
}

enum State {
    Prepared,
    Built(Engine),
    Solved(lexicographic::Stages),
    /// Solved, its model let go until its next stage (its first-stage
    /// basis kept in the `Found`).
    Released(Found),
    Kept(Found),
    /// Between two steps (a step takes the state and puts the next back).
    Moving,
}

impl<'a> Part<'a> {
    /// A part over `engine`, built for `scope` with `columns`' costs.
    pub fn new(scope: Scope<'a>, layout: Layout, columns: Columns, objective: Objective, engine: Engine) -> Self {
        Self::with_state(scope, layout, columns, objective, State::Built(engine))
    }

    fn with_state(scope: Scope<'a>, layout: Layout, columns: Columns, objective: Objective, state: State) -> Self {
        let (first, _) = columns.stage_costs(objective);
        Part {
            scope,
            layout,
            columns,
            first,
            signature: None,
            start: None,
            milp: None,
            state,
        }
    }

    /// The layout and column data of `scope`, and its signature when asked.
    pub fn prepare(
        inventory: &Inventory,
        links: &[Link],
        scope: Scope<'a>,
        shares: &SliceShares,
        options: &SolveOptions,
        with_signature: bool,
    ) -> Self {
        let layout = Layout::new(inventory, links, &scope);
        let columns = Columns::new(inventory, links, &layout, &scope);
        let mut part = Self::with_state(scope, layout, columns, options.objective, State::Prepared);
        if with_signature {
            part.signature = Some(model::signature(&part.inputs(inventory, links, shares, options)));
        }
        part
    }

    fn inputs<'b>(
        &'b self,
        inventory: &'b Inventory,
        links: &'b [Link],
        shares: &'b SliceShares,
        options: &SolveOptions,
    ) -> ModelInputs<'b> {
        ModelInputs {
            inventory,
            links,
            scope: &self.scope,
            layout: &self.layout,
            columns: &self.columns,
            costs: &self.first,
            shares,
            bound: options.bound,
        }
    }

    /// Builds the HiGHS model of a prepared part, at the fallback basis when
    /// it is an LP started by the simplex.
    pub fn build(&mut self, run: &Run) -> Result<(), SolveError> {
        let mut engine = model::build(&self.inputs(run.inventory, run.links, run.shares, run.options))?;
        let layout = &self.layout;
        if layout.n_binaries() == 0 && run.options.solver != Some(LpSolver::Ipm) {
            match &self.start {
                Some(basis) => engine.set_basis_statuses(basis)?,
                None => {
                    let n_balance_rows = layout.n_balance_rows();
                    engine.set_basis(|column| layout.is_fallback(column), |row| row >= n_balance_rows)?;
                }
            }
        }
        configure(&mut engine, run.options)?;
        self.state = State::Built(engine);
        Ok(())
    }

    /// Back to prepared, to be built and solved again.
    pub fn reset(&mut self) {
        self.state = State::Prepared;
    }

    /// Takes what an earlier solve of the same model found.
    pub fn keep(&mut self, found: Found) {
        self.state = State::Kept(found);
    }

    pub fn is_prepared(&self) -> bool {
        matches!(self.state, State::Prepared)
    }

    pub fn is_kept(&self) -> bool {
        matches!(self.state, State::Kept(_))
    }

    pub fn is_mip(&self) -> bool {
        self.layout.n_binaries() > 0
    }

    /// What the part's stages found, so far.
    pub fn found(&self) -> &Found {
        match &self.state {
            State::Solved(stages) => &stages.found,
            State::Released(found) | State::Kept(found) => found,
            _ => unreachable!("a part's solution is read only after its first stage"),
        }
    }

    pub fn plan(&self, run: &Run, is_mip: bool) -> Plan<'_> {
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
            warm: self.start.is_some() && !is_mip,
            keep_basis: self.signature.is_some(),
        }
    }

    pub fn first_stage(&mut self, run: &Run, is_mip: bool) -> Result<(), SolveError> {
        let State::Built(engine) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("a first stage runs on a built model");
        };
        let mut stages = lexicographic::first_stage(engine, &self.plan(run, is_mip))?;
        stages.found.milp = self.milp;
        self.state = State::Solved(stages);
        Ok(())
    }

    /// Lets the HiGHS model of a solved LP go, keeping its first-stage
    /// basis: while every part waits for the others' first stages (the
    /// slack is shared after all of them), only the models being solved
    /// take memory. The second stage builds the model again and starts from
    /// that basis. A model with binaries is kept: its binaries are fixed in
    /// the model, not in the data it is built from.
    pub fn release(&mut self) -> Result<(), SolveError> {
        if self.is_mip() {
            return Ok(());
        }
        if let State::Solved(stages) = std::mem::replace(&mut self.state, State::Moving) {
            let lexicographic::Stages { mut engine, mut found } = stages;
            if found.first_basis.is_none() {
                found.first_basis = Some(engine.basis()?);
            }
            self.state = State::Released(found);
        }
        Ok(())
    }

    pub fn second_stage(&mut self, run: &Run, is_mip: bool, bound: f64) -> Result<(), SolveError> {
        let stages = match std::mem::replace(&mut self.state, State::Moving) {
            State::Solved(stages) => stages,
            State::Released(found) => {
                let mut engine = model::build(&self.inputs(run.inventory, run.links, run.shares, run.options))?;
                if let Some(basis) = &found.first_basis {
                    engine.set_basis_statuses(basis)?;
                }
                configure(&mut engine, run.options)?;
                lexicographic::Stages { engine, found }
            }
            _ => unreachable!("a second stage runs after a first"),
        };
        let stages = lexicographic::second_stage(stages, &self.plan(run, is_mip), bound)?;
        self.state = State::Solved(stages);
        Ok(())
    }

    /// Fixes the binaries of a solved MILP at their optimum, rounded, and
    /// makes them continuous: the LP left gives the shadow prices and the
    /// flows reported.
    pub fn fix_binaries(&mut self) -> Result<(), SolveError> {
        let State::Solved(stages) = std::mem::replace(&mut self.state, State::Moving) else {
            unreachable!("binaries are fixed after the MILP's stages");
        };
        let found = &stages.found;
        self.milp = Some(Milp {
            status: found.status,
            first_objective: found.first_objective,
            first_gap: found.first_mip_gap,
            second: found.second_mip_gap,
        });
        let layout = &self.layout;
        let mut engine = stages.engine;
        let rounded: Vec<f64> = stages.found.columns[layout.first_binary()..]
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

    /// The model after its last stage, to keep for the next solve.
    pub fn into_engine(self) -> Option<Engine> {
        match self.state {
            State::Solved(stages) => Some(stages.engine),
            State::Built(engine) => Some(engine),
            State::Prepared | State::Released(_) | State::Kept(_) | State::Moving => None,
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
