//! symbiose's Python module (`symbiose._symbiose`): thin bindings over the
//! library the command line runs, no second implementation. Tables leave
//! Rust as polars data frames through the Arrow C stream interface
//! (`__arrow_c_stream__`); inventory frames come in as text cells, read by
//! the same loader as a CSV folder. The GIL is released while solving.
//! The Python-facing API (keyword names, DataFrames, docs) is in
//! `symbiose/__init__.py`.

use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::{CompatLevel, DataFrame};
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList};

use symbiose::app::{self, AppError, Extras};
use symbiose::io::{Frame, InventorySource, LoadError, TableFormat};
use symbiose::model::{InputError as CoreInputError, InputWarning, Inventory as CoreInventory, RawRow, RawTable};
use symbiose::progress::Silent;
use symbiose::solve::{Objective, SolveError, SolveOptions};

pyo3::create_exception!(
    _symbiose,
    SymbioseError,
    PyException,
    "Base class of symbiose's errors."
);
pyo3::create_exception!(
    _symbiose,
    InputError,
    SymbioseError,
    "Invalid input; `.errors` lists every problem (file, line, column, message, hint)."
);
pyo3::create_exception!(
    _symbiose,
    InfeasibleError,
    SymbioseError,
    "The LP has no feasible solution."
);
pyo3::create_exception!(_symbiose, UnboundedError, SymbioseError, "The LP is unbounded.");
pyo3::create_exception!(
    _symbiose,
    TimeLimitError,
    SymbioseError,
    "The time limit passed before any solution was found."
);
pyo3::create_exception!(
    _symbiose,
    SolverError,
    SymbioseError,
    "HiGHS failed (numerical trouble, iteration limit...)."
);
pyo3::create_exception!(
    _symbiose,
    LimitError,
    SymbioseError,
    "The problem is beyond a stated limit of the program (its size)."
);
pyo3::create_exception!(
    _symbiose,
    OutputError,
    SymbioseError,
    "The results could not be written."
);

/// An error list as Python dicts.
fn error_dicts<'py>(py: Python<'py>, errors: &[CoreInputError]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for error in errors {
        let dict = PyDict::new(py);
        dict.set_item("file", &error.file)?;
        dict.set_item("line", error.line)?;
        dict.set_item("column", &error.column)?;
        dict.set_item("message", &error.message)?;
        dict.set_item("hint", &error.hint)?;
        list.append(dict)?;
    }
    Ok(list)
}

/// An [`InputError`] carrying `errors`, its message the first ones.
fn input_error(py: Python<'_>, errors: &[CoreInputError]) -> PyErr {
    let mut message = format!(
        "{} in the input",
        if errors.len() == 1 {
            "1 problem".to_string()
        } else {
            format!("{} problems", errors.len())
        }
    );
    for error in errors.iter().take(10) {
        message.push_str(&format!("\n  {error}"));
    }
    if errors.len() > 10 {
        message.push_str(&format!("\n  ... and {} more (see .errors)", errors.len() - 10));
    }
    let err = InputError::new_err(message);
    match error_dicts(py, errors).and_then(|list| err.value(py).setattr("errors", list)) {
        Ok(()) => err,
        Err(e) => e,
    }
}

fn solve_error(error: &SolveError) -> PyErr {
    let message = error.to_string();
    match error {
        SolveError::Infeasible | SolveError::Unplaceable(_) => InfeasibleError::new_err(message),
        SolveError::Unbounded | SolveError::InfeasibleOrUnbounded => UnboundedError::new_err(message),
        SolveError::TimeLimitWithoutSolution => TimeLimitError::new_err(message),
        SolveError::TooLarge(_) => LimitError::new_err(message),
        _ => SolverError::new_err(message),
    }
}

/// Each [`AppError`] as its Python exception (the CLI's exit codes, as types).
fn app_error(py: Python<'_>, error: AppError) -> PyErr {
    match error {
        AppError::Input(LoadError::Invalid { errors, .. }) => input_error(py, &errors),
        AppError::Results { errors, .. } => input_error(py, &errors),
        AppError::Scenario(error) => {
            let errors: Vec<CoreInputError> = error
                .problems
                .iter()
                .map(|problem| CoreInputError {
                    file: error.file.clone(),
                    line: problem.line,
                    column: None,
                    message: problem.message.clone(),
                    hint: None,
                })
                .collect();
            input_error(py, &errors)
        }
        AppError::Solve(error) => solve_error(&error),
        AppError::Argument(message) => PyValueError::new_err(message),
        error @ (AppError::Output { .. } | AppError::Locked(_)) => OutputError::new_err(error.to_string()),
        // An optimum the time limit left unproven (exit code 5).
        error @ AppError::NotProven(_) => TimeLimitError::new_err(error.to_string()),
    }
}

fn warning_texts(warnings: &[InputWarning]) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

/// A validated inventory.
#[pyclass(module = "symbiose._symbiose", frozen)]
struct Inventory {
    source: InventorySource,
    inventory: Arc<CoreInventory>,
    warnings: Vec<InputWarning>,
}

#[pymethods]
impl Inventory {
    /// The loader's warnings, as the command line prints them.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        warning_texts(&self.warnings)
    }

    #[getter]
    fn description(&self) -> String {
        self.source.describe()
    }

    #[getter]
    fn n_firms(&self) -> usize {
        self.inventory.firms().len()
    }

    #[getter]
    fn n_flows(&self) -> usize {
        self.inventory.flows().len()
    }

    /// The what-if without these firms (they leave the territory) and
    /// without these fallback routes (banned), derived by the library's
    /// edits (the loader's own rules); unknown ids are a ValueError.
    #[pyo3(signature = (firms = Vec::new(), routes = Vec::new()))]
    fn without(&self, firms: Vec<String>, routes: Vec<String>) -> PyResult<Inventory> {
        use symbiose::model::{Edit, RouteIdx};
        let mut edits = Vec::new();
        for id in &firms {
            match self.inventory.firm_index(id) {
                Some(firm) => edits.push(Edit::RemoveFirm(firm)),
                None => return Err(PyValueError::new_err(format!("no firm {id:?} in the inventory"))),
            }
        }
        for id in &routes {
            match self.inventory.routes().iter().position(|route| &route.id == id) {
                Some(index) => edits.push(Edit::BanRoute(RouteIdx::from_index(index))),
                None => return Err(PyValueError::new_err(format!("no route {id:?} in the catalogue"))),
            }
        }
        let inventory = self
            .inventory
            .edited(&edits)
            .map_err(|error| PyValueError::new_err(error.message))?;
        Ok(Inventory {
            source: self.source.clone(),
            inventory: Arc::new(inventory),
            warnings: self.warnings.clone(),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<symbiose.Inventory {}: {} firms, {} flows>",
            self.source.describe(),
            self.inventory.firms().len(),
            self.inventory.flows().len()
        )
    }
}

fn load_source(py: Python<'_>, source: InventorySource) -> PyResult<Inventory> {
    let loaded = py
        .detach(|| app::load_checked(&source, Default::default()))
        .map_err(|error| app_error(py, AppError::Input(error)))?;
    Ok(Inventory {
        source,
        inventory: Arc::new(loaded.inventory),
        warnings: loaded.warnings,
    })
}

/// A CSV folder or an .xlsx workbook.
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf) -> PyResult<Inventory> {
    load_source(py, InventorySource::from_path(path))
}

/// The Dunkirk example embedded in the library.
#[pyfunction]
fn bundled_dunkirk(py: Python<'_>) -> PyResult<Inventory> {
    load_source(py, InventorySource::BundledDunkirk)
}

/// Tables as (file name, header, rows of text cells, `None` empty), checked
/// by the loader a CSV folder goes through; a problem's line is the row's
/// position + 1 (the header being line 1), as in the CSV file it stands for.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn from_tables(py: Python<'_>, tables: Vec<(String, Vec<String>, Vec<Vec<Option<String>>>)>) -> PyResult<Inventory> {
    let tables: Vec<(String, RawTable)> = tables
        .into_iter()
        .map(|(file, columns, rows)| {
            let table = RawTable {
                file: format!("{} (data frame)", file.trim_end_matches(".csv")),
                header_line: 1,
                columns,
                rows: rows
                    .into_iter()
                    .enumerate()
                    .map(|(index, cells)| RawRow {
                        line: index + 2,
                        cells: cells
                            .into_iter()
                            .map(|cell| cell.filter(|text| !text.trim().is_empty()))
                            .collect(),
                    })
                    .collect(),
                decimal_comma: false,
            };
            (file, table)
        })
        .collect();
    load_source(py, InventorySource::Tables(Arc::new(tables)))
}

fn objective(name: &str) -> PyResult<Objective> {
    match name {
        "externalities" => Ok(Objective::Externalities),
        "private" => Ok(Objective::Private),
        "social" => Ok(Objective::Social),
        other => Err(PyValueError::new_err(format!(
            "objective {other:?}: use \"externalities\", \"private\" or \"social\""
        ))),
    }
}

/// The options a run gets, each checked as the command line checks it.
#[allow(clippy::too_many_arguments)]
fn solve_options(
    objective_name: &str,
    supplier_share: f64,
    time_limit: Option<f64>,
    threads: Option<u32>,
    mip_gap: Option<f64>,
    lexicographic_slack: Option<f64>,
    decompose: bool,
) -> PyResult<SolveOptions> {
    let argument = |result: Result<f64, String>| result.map_err(PyValueError::new_err);
    argument(symbiose::options::SHARE_CHECK.value("supplier_share", supplier_share))?;
    if let Some(seconds) = time_limit {
        argument(symbiose::options::SECONDS_CHECK.value("time_limit", seconds))?;
    }
    if let Some(gap) = mip_gap {
        argument(symbiose::options::GAP_CHECK.value("mip_gap", gap))?;
    }
    let defaults = SolveOptions::default();
    Ok(SolveOptions {
        objective: objective(objective_name)?,
        time_limit_seconds: time_limit,
        threads,
        mip_gap,
        lexicographic_slack: match lexicographic_slack {
            Some(slack) => argument(symbiose::options::GAP_CHECK.value("lexicographic_slack", slack))?,
            None => defaults.lexicographic_slack,
        },
        decompose,
        ..defaults
    })
}

/// One table of results, handed to Python through `__arrow_c_stream__`.
#[pyclass(module = "symbiose._symbiose", frozen)]
struct ArrowTable {
    frame: DataFrame,
}

/// An Arrow C stream may move between threads once exported.
struct SendStream(#[allow(dead_code)] polars_arrow::ffi::ArrowArrayStream);
// SAFETY: the stream owns its batches; Python reads it on one thread at a time.
unsafe impl Send for SendStream {}

#[pymethods]
impl ArrowTable {
    /// The Arrow PyCapsule interface: a stream of one struct array per chunk.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let mut frame = self.frame.clone();
        frame.rechunk_mut();
        let fields: Vec<Field> = frame
            .schema()
            .iter()
            .map(|(name, dtype)| dtype.to_arrow_field(name.clone(), CompatLevel::newest()))
            .collect();
        let dtype = ArrowDataType::Struct(fields.clone());
        let height = frame.height();
        let batches: Vec<Box<dyn Array>> = frame
            .iter_chunks(CompatLevel::newest(), false)
            .map(|batch| {
                let height = batch.height();
                Box::new(StructArray::new(dtype.clone(), height, batch.into_arrays(), None)) as Box<dyn Array>
            })
            .collect();
        // A table without rows still streams its schema (no batch).
        let batches = if height == 0 { Vec::new() } else { batches };
        let iter = Box::new(batches.into_iter().map(Ok));
        let stream = polars_arrow::ffi::export_iterator(iter, Field::new("".into(), dtype, false));
        // Dropped with the capsule: the stream's release, unless the
        // consumer moved it out (then its release is null).
        PyCapsule::new_with_value(py, SendStream(stream), c"arrow_array_stream")
    }

    #[getter]
    fn height(&self) -> usize {
        self.frame.height()
    }
}

fn arrow_table(frame: &Frame) -> PyResult<ArrowTable> {
    let frame = frame.to_data_frame().map_err(|e| OutputError::new_err(e.to_string()))?;
    Ok(ArrowTable { frame })
}

/// What one optimisation found: summary.json's figures and the tables.
#[pyclass(module = "symbiose._symbiose", frozen)]
struct Results {
    source: InventorySource,
    inventory: Arc<CoreInventory>,
    warnings: Vec<InputWarning>,
    options: SolveOptions,
    supplier_share: f64,
    summary_json: String,
    /// (CSV file stem, table), in the order the command line writes them.
    tables: Vec<(String, Frame)>,
}

#[pymethods]
impl Results {
    #[getter]
    fn summary_json(&self) -> String {
        self.summary_json.clone()
    }

    /// The tables' names (links, flow_results, firm_values,
    /// territory_values, then the Part B tables the inventory uses).
    #[getter]
    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|(name, _)| name.clone()).collect()
    }

    fn table(&self, name: &str) -> PyResult<ArrowTable> {
        match self.tables.iter().find(|(stem, _)| stem == name) {
            Some((_, frame)) => arrow_table(frame),
            None => Err(PyValueError::new_err(format!(
                "no table {name:?} in these results: {}",
                self.table_names().join(", ")
            ))),
        }
    }

    /// The command line's results set in `out` (solved again: the same
    /// options give the same bytes), with report.html on request.
    #[pyo3(signature = (out, format = "csv", report = false))]
    fn write(&self, py: Python<'_>, out: PathBuf, format: &str, report: bool) -> PyResult<()> {
        let format = match format {
            "csv" => TableFormat::Csv,
            "parquet" => TableFormat::Parquet,
            other => {
                return Err(PyValueError::new_err(format!(
                    "format {other:?}: use \"csv\" or \"parquet\""
                )))
            }
        };
        let extras = Extras {
            write_report: report,
            format,
            inputs: app::source_paths(&self.source),
            quiet: true,
            ..Extras::default()
        };
        let inventory = (*self.inventory).clone();
        let warnings = self.warnings.clone();
        py.detach(|| {
            app::optimize_and_write(
                inventory,
                warnings,
                self.source.describe(),
                &self.options,
                self.supplier_share,
                extras,
                &out,
            )
        })
        .map(|_| ())
        .map_err(|error| app_error(py, error))
    }
}

/// Solves `inventory` and values the optimum, in memory.
#[pyfunction]
#[pyo3(signature = (inventory, objective = "externalities", supplier_share = 0.5, time_limit = None, threads = None, mip_gap = None, lexicographic_slack = None, decompose = true))]
#[allow(clippy::too_many_arguments)]
fn optimize(
    py: Python<'_>,
    inventory: &Inventory,
    objective: &str,
    supplier_share: f64,
    time_limit: Option<f64>,
    threads: Option<u32>,
    mip_gap: Option<f64>,
    lexicographic_slack: Option<f64>,
    decompose: bool,
) -> PyResult<Results> {
    let options = solve_options(
        objective,
        supplier_share,
        time_limit,
        threads,
        mip_gap,
        lexicographic_slack,
        decompose,
    )?;
    let core = Arc::clone(&inventory.inventory);
    let description = inventory.source.describe();
    let run = py.detach(|| -> Result<_, AppError> {
        let (links, solution, valuation) = app::optimize_inventory(&core, &options, supplier_share)?;
        let (summary, tables) = app::tables_in_memory(
            &core,
            &links,
            &solution,
            &valuation,
            &options,
            supplier_share,
            description,
        )
        .map_err(AppError::Argument)?;
        let summary_json = serde_json::to_string(&summary).map_err(|e| AppError::Argument(e.to_string()))?;
        Ok((summary_json, tables))
    });
    let (summary_json, tables) = run.map_err(|error| app_error(py, error))?;
    Ok(Results {
        source: inventory.source.clone(),
        inventory: core,
        warnings: inventory.warnings.clone(),
        options,
        supplier_share,
        summary_json,
        tables: tables
            .into_iter()
            .map(|(table, frame)| (table.csv.trim_end_matches(".csv").to_string(), frame))
            .collect(),
    })
}

/// A scenario file's grid, solved in parallel: sweep.csv's table.
#[pyfunction]
#[pyo3(signature = (scenario, threads = None))]
fn sweep(py: Python<'_>, scenario: PathBuf, threads: Option<usize>) -> PyResult<ArrowTable> {
    let (threads, _) = app::capped_threads(threads);
    let frame = py
        .detach(|| -> Result<Frame, AppError> {
            let study = symbiose::study::load_study(&scenario)?;
            symbiose::study::check_grid(&study, None, false)?;
            let rows = app::with_threads(threads, || symbiose::study::run_sweep(&study, None, false, &Silent))??;
            symbiose::study::sweep_table(&study, &rows).map_err(|e| AppError::Argument(e.to_string()))
        })
        .map_err(|error| app_error(py, error))?;
    arrow_table(&frame)
}

/// Each firm removed in turn: resilience.csv's table.
#[pyfunction]
#[pyo3(signature = (inventory, objective = "externalities", supplier_share = 0.5, threads = None))]
fn resilience(
    py: Python<'_>,
    inventory: &Inventory,
    objective: &str,
    supplier_share: f64,
    threads: Option<usize>,
) -> PyResult<ArrowTable> {
    let options = solve_options(objective, supplier_share, None, None, None, None, true)?;
    let (threads, _) = app::capped_threads(threads);
    let core = Arc::clone(&inventory.inventory);
    let frame = py
        .detach(|| -> Result<Frame, AppError> {
            let rows = app::with_threads(threads, || {
                symbiose::study::resilience(&core, &options, supplier_share, &Silent)
            })??;
            symbiose::study::resilience_table(&core, &rows).map_err(|e| AppError::Argument(e.to_string()))
        })
        .map_err(|error| app_error(py, error))?;
    arrow_table(&frame)
}

/// The private cost against externality front: pareto.csv's table.
#[pyfunction]
#[pyo3(signature = (inventory, points = 20, threads = None))]
fn pareto(py: Python<'_>, inventory: &Inventory, points: usize, threads: Option<usize>) -> PyResult<ArrowTable> {
    symbiose::options::POINTS_CHECK
        .value("points", points)
        .map_err(PyValueError::new_err)?;
    let (threads, _) = app::capped_threads(threads);
    let core = Arc::clone(&inventory.inventory);
    let frame = py
        .detach(|| -> Result<Frame, AppError> {
            let front = app::with_threads(threads, || symbiose::study::pareto_front(&core, points, &Silent))??;
            symbiose::study::pareto_table(&front).map_err(|e| AppError::Argument(e.to_string()))
        })
        .map_err(|error| app_error(py, error))?;
    arrow_table(&frame)
}

#[pymodule]
fn _symbiose(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Inventory>()?;
    m.add_class::<Results>()?;
    m.add_class::<ArrowTable>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(bundled_dunkirk, m)?)?;
    m.add_function(wrap_pyfunction!(from_tables, m)?)?;
    m.add_function(wrap_pyfunction!(optimize, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(resilience, m)?)?;
    m.add_function(wrap_pyfunction!(pareto, m)?)?;
    m.add("SymbioseError", py.get_type::<SymbioseError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("InfeasibleError", py.get_type::<InfeasibleError>())?;
    m.add("UnboundedError", py.get_type::<UnboundedError>())?;
    m.add("TimeLimitError", py.get_type::<TimeLimitError>())?;
    m.add("SolverError", py.get_type::<SolverError>())?;
    m.add("LimitError", py.get_type::<LimitError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
