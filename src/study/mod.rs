//! What-if studies: scenario files, parameter overrides, parallel sweeps
//! (sharded across machines and merged back), firm exit, the Pareto front of
//! private cost against externalities, and Shapley fair shares.
//!
//! Owns: turning a base [`Inventory`](crate::model::Inventory) into the
//! inventory of one scenario (every override checked like an input value),
//! and running many of them with rayon, one HiGHS thread per solve. Must not
//! write files itself beyond handing tables to `io`; must not touch HiGHS
//! but through `solve`.
//!
//! Invariant: a scenario's results depend only on the scenario file and its
//! grid index, never on the order in which threads ran, so a sweep, a
//! sharded sweep merged back, and any thread count give the same bytes.
//!
//! The files, each with one job: `file` (scenario files, [`Study`],
//! [`load_study`]), `parameter` (parameter paths and overrides), `hash`
//! (FNV-1a content hashes), `sweep` (grid, shards, points, sweep.csv and
//! sweep_meta.json), `merge` (sharded sweeps back into one), `sweep_chart`
//! (sweep.svg), `resilience` (firm exit), `robustness` (near-optimal ranges), `pareto` (the Pareto front),
//! `policy` (the smallest instrument value reaching a target share),
//! `uncertainty` (Monte Carlo over uncertainty.csv) and `uncertainty_merge`
//! (its shards back into one run).

mod file;
mod hash;
mod merge;
mod parameter;
mod pareto;
mod policy;
mod resilience;
mod robustness;
mod sweep;
mod sweep_chart;
mod uncertainty;
mod uncertainty_merge;

pub use file::{load_study, ScenarioError, ScenarioFile, ScenarioProblem, Study, StudyError, Vary};
pub use hash::{fnv1a, inventory_hash};
pub use merge::{merge_sweeps, Merged};
pub use parameter::{
    apply_parameter, check_parameter, check_supplier_share, parse_parameter, with_parameters, Parameter,
    PARAMETER_PATHS,
};
pub use pareto::{pareto_chart, pareto_front, pareto_table, ParetoFront, ParetoPoint};
pub use policy::{
    default_range, find_policy, parse_instrument, parse_range, policy_chart, policy_table, Instrument, InstrumentKind,
    Policy, PolicyError, PolicyJson, PolicyPoint, PolicyRequest, Scan, DEFAULT_POINTS, DEFAULT_RANGE_MULTIPLE,
    DEFAULT_RELATIVE_TOLERANCE, POLICY,
};
pub use resilience::{resilience, resilience_table, ResilienceRow};
pub use robustness::{
    firm_ranges_table, link_ranges_table, robustness, Robustness, RobustnessMeta, INDISPENSABLE, OPTIONAL, UNUSED,
};
pub use sweep::{
    check_grid, run_sweep, solve_point, status_word, sweep_csv, sweep_table, Metrics, Shard, Start, SweepMeta,
    SweepRow, VariedParameter, MAX_SWEEP_SCENARIOS,
};
pub use sweep_chart::{sweep_chart, MAX_SWEEP_CHART_LINES};
pub use uncertainty::{
    link_probability_table, quantile, read_uncertainty, run_samples, sample_links_table, sample_values_table,
    samples_table, subjects, summarise, value_quantiles_table, Distribution, Figures, LinkSummary, Problems,
    SampleLink, SampleRow, SampleTotals, SamplesRun, UncertainParameter, Uncertainty, UncertaintyMeta, ValueSummary,
    MAX_SAMPLES, UNCERTAINTY_SCHEMA, UNCERTAIN_PATHS, USED_SHARE,
};
pub use uncertainty_merge::{is_uncertainty_folder, merge_uncertainty};
