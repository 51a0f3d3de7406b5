//! The one safe wrapper around a HiGHS model: every `unsafe` call into
//! HiGHS's C API (`highs_sys`) that the LP code makes is here, each behind a
//! method that checks its sizes and HiGHS's return status.
//!
//! **Invariant:** no other module calls `highs_sys` or holds a raw HiGHS
//! pointer; every slice handed to HiGHS has exactly the length the call
//! reads, checked before the call.

use std::path::Path;

use highs::{HighsModelStatus, HighsOptionValue, HighsSolutionStatus};

use super::SolveError;

pub(crate) type HighsInt = highs_sys::HighsInt;

/// A count or index as HiGHS's integer: a size HiGHS cannot address is a
/// limit of the program, stated as such.
pub(crate) fn highs_int(value: usize) -> Result<HighsInt, SolveError> {
    HighsInt::try_from(value).map_err(|_| {
        SolveError::TooLarge(format!(
            "the model needs {value} rows, columns or nonzeros, more than HiGHS can index ({})",
            HighsInt::MAX
        ))
    })
}

fn check_call(status: HighsInt, what: &str) -> Result<(), SolveError> {
    if status == highs_sys::STATUS_ERROR {
        Err(SolveError::Solver(format!("HiGHS refused to {what}")))
    } else {
        Ok(())
    }
}

/// The rows or the columns of a model: HiGHS changes the bounds of a range
/// of either with calls of the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Rows,
    Columns,
}

/// `Highs_changeRowsBoundsByRange` and `Highs_changeColsBoundsByRange`:
/// (model, first, last, lower bounds, upper bounds) -> status.
type ChangeBoundsByRange =
    unsafe extern "C" fn(*mut std::os::raw::c_void, HighsInt, HighsInt, *const f64, *const f64) -> HighsInt;

/// A simplex basis: HiGHS's status of every column and row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Basis {
    pub columns: Vec<HighsInt>,
    pub rows: Vec<HighsInt>,
}

/// A HiGHS model ready to be changed or run.
pub(crate) struct Engine {
    model: highs::Model,
}

// SAFETY: an `Engine` owns its Highs instance alone (no copy of the pointer
// escapes this file) and every call takes `&mut self`, so the instance is
// never used from two threads at once. A Highs instance keeps no state tied
// to the thread that created it: HiGHS's task scheduler is global, with
// per-thread worker data set up by whichever thread calls `Highs_run`. A
// decomposed solve (`parts.rs`) runs a model's stages on whichever rayon
// worker is free, one stage at a time.
unsafe impl Send for Engine {}

/// A HiGHS model after a run: its status and solution, and the model
/// itself, to change and run again.
pub(crate) struct Solved {
    solved: highs::SolvedModel,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "Engine {{ columns: {}, rows: {} }}",
            self.model.num_cols(),
            self.model.num_rows()
        )
    }
}

impl Engine {
    /// The model of a column-wise problem, quiet.
    pub(crate) fn from_problem(problem: highs::ColProblem) -> Result<Self, SolveError> {
        let model = problem
            .try_optimise(highs::Sense::Minimise)
            .map_err(|e| SolveError::Solver(format!("building the model: {e:?}")))?;
        Ok(Self::from_model(model))
    }

    /// Takes a model built elsewhere (good_lp's), quiet.
    pub(crate) fn from_model(mut model: highs::Model) -> Self {
        model.make_quiet();
        Self { model }
    }

    /// The model underneath (for writing it or timing HiGHS alone on it).
    pub(crate) fn into_model(self) -> highs::Model {
        self.model
    }

    pub(crate) fn n_columns(&self) -> usize {
        self.model.num_cols()
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.model.num_rows()
    }

    pub(crate) fn set_option<V: HighsOptionValue>(&mut self, name: &str, value: V) -> Result<(), SolveError> {
        self.model
            .try_set_option(name, value)
            .map_err(|_| SolveError::Solver(format!("HiGHS refused the option {name}")))
    }

    /// Makes `costs` (one per column) the model's costs.
    pub(crate) fn change_costs(&mut self, costs: &[f64]) -> Result<(), SolveError> {
        if costs.len() != self.n_columns() {
            return Err(SolveError::Solver(format!(
                "{} costs for {} columns",
                costs.len(),
                self.n_columns()
            )));
        }
        let last = highs_int(costs.len().saturating_sub(1))?;
        // SAFETY: live Highs instance owned by `self.model`; `costs` has
        // exactly one entry per column 0..=last (checked) and outlives the call.
        check_call(
            unsafe { highs_sys::Highs_changeColsCostByRange(self.model.as_mut_ptr(), 0, last, costs.as_ptr()) },
            "change costs",
        )
    }

    /// Sets the costs of the columns listed, (column, cost) each; the
    /// others keep theirs.
    pub(crate) fn change_some_costs(&mut self, entries: &[(usize, f64)]) -> Result<(), SolveError> {
        let n_columns = self.n_columns();
        let mut set = Vec::with_capacity(entries.len());
        let mut cost = Vec::with_capacity(entries.len());
        for &(column, value) in entries {
            if column >= n_columns {
                return Err(SolveError::Solver("a cost outside the model".into()));
            }
            set.push(highs_int(column)?);
            cost.push(value);
        }
        if set.is_empty() {
            return Ok(());
        }
        let count = highs_int(set.len())?;
        // SAFETY: live Highs instance; `set` and `cost` have `count` entries,
        // every index a column of the model, and outlive the call.
        check_call(
            unsafe {
                highs_sys::Highs_changeColsCostBySet(self.model.as_mut_ptr(), count, set.as_ptr(), cost.as_ptr())
            },
            "change costs",
        )
    }

    /// Sets the bounds of the rows `first..first + lower.len()`.
    pub(crate) fn change_row_bounds(&mut self, first: usize, lower: &[f64], upper: &[f64]) -> Result<(), SolveError> {
        self.change_bounds(Axis::Rows, first, lower, upper)
    }

    /// Sets the bounds of the columns `first..first + lower.len()`.
    pub(crate) fn change_column_bounds(
        &mut self,
        first: usize,
        lower: &[f64],
        upper: &[f64],
    ) -> Result<(), SolveError> {
        self.change_bounds(Axis::Columns, first, lower, upper)
    }

    /// Sets the bounds of the rows or columns `first..first + lower.len()`
    /// with HiGHS's by-range call for that axis.
    fn change_bounds(&mut self, axis: Axis, first: usize, lower: &[f64], upper: &[f64]) -> Result<(), SolveError> {
        let (n_items, mismatch, what, change): (usize, &str, &str, ChangeBoundsByRange) = match axis {
            Axis::Rows => (
                self.n_rows(),
                "row bounds do not match the model",
                "change row bounds",
                highs_sys::Highs_changeRowsBoundsByRange,
            ),
            Axis::Columns => (
                self.n_columns(),
                "column bounds do not match the model",
                "change column bounds",
                highs_sys::Highs_changeColsBoundsByRange,
            ),
        };
        if lower.len() != upper.len() || first + lower.len() > n_items {
            return Err(SolveError::Solver(mismatch.into()));
        }
        if lower.is_empty() {
            return Ok(());
        }
        let (from, to) = (highs_int(first)?, highs_int(first + lower.len() - 1)?);
        // SAFETY: live Highs instance; `change` is HiGHS's by-range bounds
        // call for `axis`, and both slices have one entry per row or column
        // of from..=to on that axis (checked) and outlive the call.
        check_call(
            unsafe { change(self.model.as_mut_ptr(), from, to, lower.as_ptr(), upper.as_ptr()) },
            what,
        )
    }

    /// Makes the columns `first..n_columns` continuous.
    pub(crate) fn make_continuous_from(&mut self, first: usize) -> Result<(), SolveError> {
        let n = self.n_columns();
        if first >= n {
            return Ok(());
        }
        let continuous = vec![0 as HighsInt; n - first];
        let (from, to) = (highs_int(first)?, highs_int(n - 1)?);
        // SAFETY: live Highs instance; `continuous` has one entry per column
        // of from..=to and outlives the call.
        check_call(
            unsafe {
                highs_sys::Highs_changeColsIntegralityByRange(self.model.as_mut_ptr(), from, to, continuous.as_ptr())
            },
            "make columns continuous",
        )
    }

    /// Changes one coefficient of the matrix.
    pub(crate) fn change_coefficient(&mut self, row: usize, column: usize, value: f64) -> Result<(), SolveError> {
        if row >= self.n_rows() || column >= self.n_columns() {
            return Err(SolveError::Solver("a coefficient outside the model".into()));
        }
        // SAFETY: live Highs instance; row and column exist (checked).
        check_call(
            unsafe {
                highs_sys::Highs_changeCoeff(self.model.as_mut_ptr(), highs_int(row)?, highs_int(column)?, value)
            },
            "change a coefficient",
        )
    }

    /// Adds the row `lower <= sum value_j x_{column_j} <= upper`.
    pub(crate) fn add_row(&mut self, lower: f64, upper: f64, entries: &[(usize, f64)]) -> Result<(), SolveError> {
        let n_columns = self.n_columns();
        let mut index = Vec::with_capacity(entries.len());
        let mut value = Vec::with_capacity(entries.len());
        for &(column, coefficient) in entries {
            if column >= n_columns {
                return Err(SolveError::Solver("a row entry outside the model".into()));
            }
            index.push(highs_int(column)?);
            value.push(coefficient);
        }
        let count = highs_int(index.len())?;
        // SAFETY: live Highs instance; `index` and `value` have `count`
        // entries, every index a column of the model, and outlive the call.
        check_call(
            unsafe {
                highs_sys::Highs_addRow(
                    self.model.as_mut_ptr(),
                    lower,
                    upper,
                    count,
                    index.as_ptr(),
                    value.as_ptr(),
                )
            },
            "add a row",
        )
    }

    /// Deletes one row.
    pub(crate) fn delete_row(&mut self, row: usize) -> Result<(), SolveError> {
        if row >= self.n_rows() {
            return Err(SolveError::Solver("deleting a row outside the model".into()));
        }
        let row = highs_int(row)?;
        // SAFETY: live Highs instance; the row exists (checked).
        check_call(
            unsafe { highs_sys::Highs_deleteRowsByRange(self.model.as_mut_ptr(), row, row) },
            "delete a row",
        )
    }

    /// Sets a basis: each column basic where `column_basic` says so, else
    /// nonbasic at its lower bound; each row likewise.
    pub(crate) fn set_basis(
        &mut self,
        column_basic: impl Fn(usize) -> bool,
        row_basic: impl Fn(usize) -> bool,
    ) -> Result<(), SolveError> {
        // HiGHS's HighsBasisStatus: 0 lower, 1 basic.
        let status = |basic: bool| if basic { 1 as HighsInt } else { 0 as HighsInt };
        let basis = Basis {
            columns: (0..self.n_columns()).map(|c| status(column_basic(c))).collect(),
            rows: (0..self.n_rows()).map(|r| status(row_basic(r))).collect(),
        };
        self.set_basis_statuses(&basis)
    }

    /// Sets a basis read from a model of the same shape ([`Engine::basis`]).
    pub(crate) fn set_basis_statuses(&mut self, basis: &Basis) -> Result<(), SolveError> {
        if basis.columns.len() != self.n_columns() || basis.rows.len() != self.n_rows() {
            return Err(SolveError::Solver(format!(
                "a basis of {} columns and {} rows does not fit a model of {} and {}",
                basis.columns.len(),
                basis.rows.len(),
                self.n_columns(),
                self.n_rows()
            )));
        }
        // SAFETY: live Highs instance; the slices have exactly one entry per
        // column and per row of its model (checked above).
        check_call(
            unsafe { highs_sys::Highs_setBasis(self.model.as_mut_ptr(), basis.columns.as_ptr(), basis.rows.as_ptr()) },
            "take the starting basis",
        )
    }

    /// The model's current basis (after a run: the optimal one).
    pub(crate) fn basis(&mut self) -> Result<Basis, SolveError> {
        let mut basis = Basis {
            columns: vec![0; self.n_columns()],
            rows: vec![0; self.n_rows()],
        };
        // SAFETY: live Highs instance; the buffers have exactly one entry per
        // column and per row of its model, which HiGHS fills.
        check_call(
            unsafe {
                highs_sys::Highs_getBasis(
                    self.model.as_mut_ptr(),
                    basis.columns.as_mut_ptr(),
                    basis.rows.as_mut_ptr(),
                )
            },
            "give its basis",
        )?;
        Ok(basis)
    }

    /// Runs HiGHS with its clocks zeroed. A HiGHS instance keeps one clock
    /// across runs, and its `time_limit` applies to the cumulative time
    /// otherwise (highs_c_api.h, `Highs_zeroAllClocks`): the guide, the
    /// first and the second stage, and the solves of a reused model, would
    /// each see the earlier runs' time twice. Each run is given the time left
    /// of the whole solve instead.
    pub(crate) fn run(mut self) -> Result<Solved, SolveError> {
        // SAFETY: live Highs instance owned by `self.model`.
        check_call(
            unsafe { highs_sys::Highs_zeroAllClocks(self.model.as_mut_ptr()) },
            "zero the clocks",
        )?;
        let solved = self
            .model
            .try_solve()
            .map_err(|e| SolveError::Solver(format!("{e:?}")))?;
        Ok(Solved { solved })
    }
}

/// Writes a HiGHS model with HiGHS's own writer (the format follows the
/// extension). For models handed out by [`super::first_stage_model`].
pub fn write_model(model: &mut highs::Model, path: &Path) -> Result<(), SolveError> {
    let file = std::ffi::CString::new(path.display().to_string())
        .map_err(|_| SolveError::Solver(format!("{} is not a valid file name", path.display())))?;
    // SAFETY: `model` owns a live Highs instance; `file` is a NUL-terminated
    // string that outlives the call.
    let status = unsafe { highs_sys::Highs_writeModel(model.as_mut_ptr(), file.as_ptr()) };
    if status == highs_sys::STATUS_ERROR {
        return Err(SolveError::Solver(format!("HiGHS could not write {}", path.display())));
    }
    Ok(())
}

impl Solved {
    pub(crate) fn status(&self) -> HighsModelStatus {
        self.solved.status()
    }

    pub(crate) fn primal_feasible(&self) -> bool {
        self.solved.primal_solution_status() == HighsSolutionStatus::Feasible
    }

    pub(crate) fn objective_value(&self) -> f64 {
        self.solved.objective_value()
    }

    /// HiGHS's relative MIP gap, clamped at 0.
    pub(crate) fn mip_gap(&self) -> f64 {
        self.solved.mip_gap().max(0.0)
    }

    /// Column values and row duals.
    pub(crate) fn solution(&self) -> (Vec<f64>, Vec<f64>) {
        let solution = self.solved.get_solution();
        (solution.columns().to_vec(), solution.dual_rows().to_vec())
    }

    pub(crate) fn columns(&self) -> Vec<f64> {
        self.solved.get_solution().columns().to_vec()
    }

    /// Column values and column duals (reduced costs).
    pub(crate) fn columns_and_reduced_costs(&self) -> (Vec<f64>, Vec<f64>) {
        let solution = self.solved.get_solution();
        (solution.columns().to_vec(), solution.dual_columns().to_vec())
    }

    /// The model again, with its basis, to change and run again.
    pub(crate) fn into_engine(self) -> Engine {
        Engine {
            model: self.solved.into(),
        }
    }
}
