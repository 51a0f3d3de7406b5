//! `symbiose policy`: the smallest value of an instrument at which the
//! firms' own optimum reaches a target share of the territory optimum's
//! avoided externality value (`study::find_policy`), written as
//! policy.json, policy.csv and policy.svg in one atomic, locked set
//! (`Family::Policy`).

use std::path::PathBuf;

use crate::io::outputs::{self, Family};
use crate::io::InventorySource;
use crate::model::Inventory;
use crate::solve::SolveOptions;
use crate::study::{
    default_range, find_policy, parse_instrument, policy_chart, policy_table, Policy, PolicyError, PolicyJson,
    PolicyRequest, DEFAULT_RELATIVE_TOLERANCE,
};

use super::*;

/// What `symbiose policy` is asked.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// `tax.<category>` or `subsidy.<resource>`.
    pub instrument: String,
    /// Within [0, 1] (checked by the command line's parser and here).
    pub target: f64,
    /// `None`: `study::default_range`.
    pub range: Option<(f64, f64)>,
    /// Grid points (at least 2).
    pub points: usize,
    /// `None`: the range's width x `DEFAULT_RELATIVE_TOLERANCE`.
    pub tolerance: Option<f64>,
    /// How each solve runs (the objective is set by the command: `private`
    /// for the firms, `externalities` for the territory).
    pub options: SolveOptions,
    pub out: PathBuf,
    pub threads: Option<usize>,
    pub quiet: bool,
}

/// What `symbiose policy` found and wrote.
#[derive(Debug)]
pub struct Policied {
    pub policy: Policy,
    pub json: PolicyJson,
}

/// Checks the request against the inventory, before any solve or write.
pub fn policy_request(inventory: &Inventory, config: &PolicyConfig) -> Result<PolicyRequest, AppError> {
    crate::options::SHARE_CHECK
        .value("--target", config.target)
        .map_err(AppError::Argument)?;
    crate::options::POINTS_CHECK
        .value("--points", config.points)
        .map_err(AppError::Argument)?;
    let instrument = parse_instrument(inventory, &config.instrument).map_err(AppError::Argument)?;
    let (range, default) = match config.range {
        Some(range) => (range, false),
        None => (default_range(inventory, &instrument).map_err(AppError::Argument)?, true),
    };
    if !(range.0 >= 0.0 && range.0 < range.1 && range.1.is_finite()) {
        return Err(AppError::Argument(format!(
            "--range {}:{} is not a range of instrument values with 0 <= LO < HI",
            range.0, range.1
        )));
    }
    inventory
        .check_edit(&instrument.edit(range.1))
        .map_err(|message| AppError::Argument(format!("--range: {}: {message}", instrument.path)))?;
    let tolerance = config
        .tolerance
        .unwrap_or((range.1 - range.0) * DEFAULT_RELATIVE_TOLERANCE);
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return Err(AppError::Argument(format!(
            "--tolerance must be a number > 0, got {tolerance}"
        )));
    }
    Ok(PolicyRequest {
        instrument,
        target: config.target,
        range,
        default_range: default,
        points: config.points,
        tolerance,
    })
}

/// `symbiose policy INVENTORY --instrument PARAM --target SHARE --out DIR`.
/// A target out of reach within the range is an answer (`reachable:
/// false`), not an error.
pub fn policy(source: &InventorySource, inventory: &Inventory, config: &PolicyConfig) -> Result<Policied, AppError> {
    let request = policy_request(inventory, config)?;
    let out = &config.out;
    check_output_folder(out)?;
    let lock = prepare_output(out, Family::Policy, &source_paths(source))?;
    let found = with_threads(config.threads, || {
        find_policy(inventory, &request, &config.options, &progress::Bars::new(config.quiet))
    })?;
    let policy = found.map_err(|error| match error {
        PolicyError::Value(message) => AppError::Argument(message),
        PolicyError::Solve(error) => AppError::Solve(error),
    })?;
    let json = policy.json(inventory);
    let mut json_bytes = serde_json::to_vec_pretty(&json).map_err(|e| AppError::Output {
        path: out.join(outputs::POLICY_JSON),
        message: e.to_string(),
    })?;
    json_bytes.push(b'\n');
    let csv = table_bytes(out, policy_table(&policy))?;
    write_set(
        &lock,
        Family::Policy,
        vec![
            (outputs::POLICY_JSON.to_string(), json_bytes),
            (outputs::POLICY_CSV.to_string(), csv),
            (
                outputs::POLICY_SVG.to_string(),
                policy_chart(&policy, inventory).into_bytes(),
            ),
        ],
        false,
    )?;
    Ok(Policied { policy, json })
}
