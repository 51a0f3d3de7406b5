//! summary.json: the one [`Summary`] struct that `optimize` writes and
//! that every reader (`symbiose report`, the profile, the HTML report)
//! reads back, its construction from a run, and the checks on reading it.
//!
//! Invariant: the fields a report reads are typed as they have always been
//! read (those that older files may lack are `Option`s); the fields only
//! `optimize` uses are read leniently (absent or malformed, they take their
//! default), so that reading accepts every summary.json it accepted when
//! the reader had a struct of its own.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

use crate::model::{InputError, Inventory};
use crate::solve::{Objective, SolutionStatus};
use crate::value::{Totals, Valuation};

use super::results::REWRITE_HINT;

/// Facts about the run that the valuation does not hold.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub inventory: String,
    pub objective: Objective,
    pub status: SolutionStatus,
    pub solve_seconds: f64,
    pub n_candidate_links: usize,
    /// Binaries of docs/model.md B4 in the model (0 for an LP).
    pub n_binaries: usize,
    /// The MIP's relative gap, when there are binaries.
    pub mip_gap: Option<f64>,
    /// The options the run was given (summary.json `options`).
    pub options: RunOptions,
}

/// The options a run was given, recorded in summary.json as `options` so
/// that a results folder says how it was computed. `None` (JSON `null`)
/// stands for the default: HiGHS's own choice of algorithm and MIP gap, no
/// time limit, every candidate link kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    pub objective: String,
    /// See `lp::SolveOptions::lexicographic_slack` (unused by `social`).
    pub lexicographic_slack: f64,
    /// Whether the independent parts were solved apart (`--no-decompose`:
    /// false); absent from older summaries, which solved one model.
    #[serde(default)]
    pub decompose: bool,
    pub supplier_share: f64,
    /// `--max-candidates`: the K cheapest candidate links kept per supply.
    pub max_candidates: Option<usize>,
    /// `--solver`: `auto`, `simplex` or `ipm`.
    pub solver: Option<String>,
    pub time_limit_seconds: Option<f64>,
    /// `--mip-gap`, the gap asked for (the top-level `mip_gap` is the gap reached).
    pub mip_gap: Option<f64>,
    /// `equal` or `shapley`.
    pub allocation: String,
    /// Permutations sampled for Shapley values (with `shapley` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shapley_samples: Option<usize>,
}

impl RunOptions {
    /// What an optimal solution is optimal over when the candidate links
    /// were cut down (`--max-candidates`): `None` when every link was kept.
    pub fn optimal_over(&self) -> Option<String> {
        self.max_candidates
            .map(|k| format!("kept links (max_candidates = {k})"))
    }
}

/// A shared service in summary.json (docs/model.md B2 across the slices of B1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub resource: String,
    pub unit: String,
    /// Sum of the demands' peaks, in resource units per hour.
    pub peak_without_sharing_per_hour: f64,
    pub peak_with_sharing_per_hour: f64,
    pub capacity_saved_per_hour: f64,
    pub delivered: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
}

/// summary.json's `instruments` (docs/model.md C1 and D7): the values set
/// and the public side of them, a transfer reported apart from the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentsSummary {
    /// Each instrument set to a non-zero value, by parameter path
    /// (`tax.<category>` in EUR per impact unit, `subsidy.<resource>` in
    /// EUR per supply unit), sorted.
    pub values: std::collections::BTreeMap<String, f64>,
    /// sum_k t_k E_k at the optimum.
    pub taxes_eur: f64,
    /// sum_l u_r x_l paid on the links in use.
    pub subsidies_eur: f64,
    /// R = taxes_eur - subsidies_eur.
    pub public_revenue_eur: f64,
    /// sum_k t_k E_k,base: the taxes with no link (no subsidy is paid then).
    pub baseline_public_revenue_eur: f64,
}

impl InstrumentsSummary {
    /// The block of an inventory whose instruments are set, else `None`.
    pub fn of(inventory: &Inventory, valuation: &Valuation) -> Option<InstrumentsSummary> {
        if !inventory.has_instruments() {
            return None;
        }
        let taxes = inventory
            .categories()
            .iter()
            .filter(|category| category.tax_eur_per_unit != 0.0)
            .map(|category| (format!("tax.{}", category.id), category.tax_eur_per_unit));
        let subsidies = inventory
            .resources()
            .iter()
            .filter(|resource| resource.subsidy_eur_per_unit != 0.0)
            .map(|resource| (format!("subsidy.{}", resource.id), resource.subsidy_eur_per_unit));
        let instruments = valuation.instruments;
        Some(InstrumentsSummary {
            values: taxes.chain(subsidies).collect(),
            taxes_eur: instruments.taxes_eur,
            subsidies_eur: instruments.subsidies_eur,
            public_revenue_eur: instruments.public_revenue_eur(),
            baseline_public_revenue_eur: instruments.baseline_taxes_eur,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compensation {
    pub firm_id: String,
    pub compensation_needed_eur: f64,
}

/// The content of summary.json (docs/model.md A5, plus the documented
/// additions). `optimize` fills every `Option` that is not marked as
/// present only sometimes; they are `None` when read from a file written
/// before the field was recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub objective: String,
    pub status: String,
    /// False when the time limit stopped the solver first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_optimal: Option<bool>,
    /// With `--max-candidates`, an `optimal` status is the optimum over the
    /// links kept, not over every candidate: `kept links (max_candidates = K)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimal_over: Option<String>,
    pub supplier_share: f64,
    pub baseline: Totals,
    pub optimized: Totals,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
    #[serde(default, deserialize_with = "lenient")]
    pub territory_value_global_eur: f64,
    #[serde(default, deserialize_with = "lenient")]
    pub territory_value_local_eur: f64,
    pub n_links: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_candidate_links: Option<usize>,
    pub n_firms: usize,
    pub n_flows: usize,
    #[serde(default, deserialize_with = "lenient")]
    pub firms_needing_compensation: Vec<Compensation>,
    #[serde(default, deserialize_with = "lenient")]
    pub solve_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbiose_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub options: RunOptions,
    /// docs/model.md Part B, present only when the inventory uses it.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub n_slices: Option<usize>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub n_processes: Option<usize>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub n_binaries: Option<usize>,
    /// Relative MIP gap (the largest over the MILP stages).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub mip_gap: Option<f64>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceSummary>>,
    /// The instruments of docs/model.md C1, present only when one is set
    /// to a non-zero value (so that a run with every instrument at 0 writes
    /// the plain run's summary).
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub instruments: Option<InstrumentsSummary>,
    /// The other files of the set, sorted (set by `app::optimize_and_write`
    /// from `outputs`): what `symbiose report` reads (`report::read` reads
    /// this list on its own, before the summary is checked).
    #[serde(default, deserialize_with = "lenient")]
    pub files: Vec<String>,
}

/// A field only `optimize` uses: its value when it has the field's type,
/// else the default (a report never reads it, so it never refused it).
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(deserializer: D) -> Result<T, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

pub fn summary(inventory: &Inventory, valuation: &Valuation, info: &RunInfo) -> Summary {
    let mut firms_needing_compensation: Vec<Compensation> = valuation
        .firms_needing_compensation()
        .map(|firm| Compensation {
            firm_id: inventory.firm(firm.firm).id.clone(),
            compensation_needed_eur: firm.compensation_needed_eur,
        })
        .collect();
    firms_needing_compensation.sort_by(|a, b| a.firm_id.cmp(&b.firm_id));
    Summary {
        objective: info.objective.as_str().to_string(),
        status: info.status.as_str().to_string(),
        proven_optimal: Some(info.status == SolutionStatus::Optimal),
        optimal_over: info
            .options
            .optimal_over()
            .filter(|_| info.status == SolutionStatus::Optimal),
        supplier_share: valuation.supplier_share,
        baseline: valuation.baseline,
        optimized: valuation.optimized,
        firm_value_eur: valuation.firm_value_eur,
        territory_value_eur: valuation.territory_value_eur,
        territory_value_global_eur: valuation.territory_value_global_eur,
        territory_value_local_eur: valuation.territory_value_local_eur,
        n_links: valuation.links.len(),
        n_candidate_links: Some(info.n_candidate_links),
        n_firms: inventory.firms().len(),
        n_flows: inventory.flows().len(),
        firms_needing_compensation,
        solve_seconds: info.solve_seconds,
        inventory: Some(info.inventory.clone()),
        symbiose_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        options: info.options.clone(),
        n_slices: inventory.slices_given().then_some(inventory.slices().len()),
        n_processes: (!inventory.processes().is_empty()).then_some(inventory.processes().len()),
        n_binaries: (info.n_binaries > 0).then_some(info.n_binaries),
        mip_gap: info.mip_gap.filter(|_| info.n_binaries > 0),
        services: (inventory.slices_given() && !valuation.services.is_empty()).then(|| {
            valuation
                .services
                .iter()
                .map(|service| {
                    let resource = inventory.resource(service.resource);
                    ServiceSummary {
                        resource: resource.id.clone(),
                        unit: resource.unit.clone(),
                        peak_without_sharing_per_hour: service.peak_without_sharing,
                        peak_with_sharing_per_hour: service.peak_with_sharing,
                        capacity_saved_per_hour: service.peak_saved,
                        delivered: service.delivered,
                        firm_value_eur: service.firm_value_eur,
                        territory_value_eur: service.territory_value_eur,
                    }
                })
                .collect()
        }),
        instruments: InstrumentsSummary::of(inventory, valuation),
        files: Vec::new(),
    }
}

pub(super) fn parse_summary(file: &str, bytes: &[u8], errors: &mut Vec<InputError>) -> Option<Summary> {
    match serde_json::from_slice::<Summary>(bytes) {
        Ok(summary) => {
            let n_errors = errors.len();
            check_summary(file, bytes, &summary, errors);
            (errors.len() == n_errors).then_some(summary)
        }
        Err(error) => {
            errors.push(
                InputError::at(file, error.line().max(1), None, format!("not a valid summary: {error}"))
                    .with_hint(REWRITE_HINT),
            );
            None
        }
    }
}

/// The values summary.json may hold that serde's types do not pin down:
/// the status and objective words `optimize` writes, a share in [0, 1],
/// and `proven_optimal` in agreement with the status. Each error names the
/// key as its column and the line where the key is written.
fn check_summary(file: &str, bytes: &[u8], summary: &Summary, errors: &mut Vec<InputError>) {
    let mut refuse = |key: &str, message: String| {
        errors.push(InputError::at(file, json_key_line(bytes, key), Some(key), message).with_hint(REWRITE_HINT));
    };
    let statuses = [SolutionStatus::Optimal, SolutionStatus::TimeLimit].map(SolutionStatus::as_str);
    if !statuses.contains(&summary.status.as_str()) {
        refuse(
            "status",
            format!(
                "unknown status {:?}: symbiose writes {}",
                summary.status,
                statuses.map(|word| format!("{word:?}")).join(" or ")
            ),
        );
    }
    let objectives = [Objective::Externalities, Objective::Private, Objective::Social].map(Objective::as_str);
    if !objectives.contains(&summary.objective.as_str()) {
        refuse(
            "objective",
            format!(
                "unknown objective {:?}: symbiose writes {}",
                summary.objective,
                objectives.map(|word| format!("{word:?}")).join(", ")
            ),
        );
    }
    if !(0.0..=1.0).contains(&summary.supplier_share) {
        refuse(
            "supplier_share",
            format!("supplier_share must be in [0, 1], found {}", summary.supplier_share),
        );
    }
    if let Some(proven) = summary.proven_optimal {
        if statuses.contains(&summary.status.as_str()) && proven != (summary.status == "optimal") {
            refuse(
                "proven_optimal",
                format!("proven_optimal is {proven} but the status is {:?}", summary.status),
            );
        }
    }
}

/// The 1-based line of the first `"key":` in a JSON text (1 if absent).
fn json_key_line(bytes: &[u8], key: &str) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let quoted = format!("\"{key}\"");
    text.find(&quoted)
        .map_or(1, |position| 1 + text[..position].matches('\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLDEST: &str = r#"{"objective":"private","status":"time_limit","supplier_share":0.5,
        "baseline":{"private_cost_eur":10.0,"externality_eur":20.0},
        "optimized":{"private_cost_eur":4.0,"externality_eur":5.0},
        "firm_value_eur":6.0,"territory_value_eur":15.0,"n_links":1,"n_firms":2,"n_flows":2}"#;

    #[test]
    fn a_summary_reads_back_as_written_and_older_ones_still_read() {
        let mut errors = Vec::new();
        let oldest = parse_summary("summary.json", OLDEST.as_bytes(), &mut errors).unwrap();
        assert_eq!((oldest.inventory.as_deref(), oldest.proven_optimal), (None, None));
        let written = serde_json::to_vec_pretty(&oldest).unwrap();
        assert_eq!(serde_json::from_slice::<Summary>(&written).unwrap(), oldest);
        // Fields only `optimize` uses never made a summary unreadable.
        let odd = OLDEST.replace(
            "\"n_flows\":2",
            "\"n_flows\":2,\"options\":\"x\",\"files\":3,\"mip_gap\":null",
        );
        assert_eq!(parse_summary("summary.json", odd.as_bytes(), &mut errors), Some(oldest));
        // Those a report reads keep their types.
        let bad = OLDEST.replace("\"n_flows\":2", "\"n_flows\":2,\"inventory\":3");
        assert_eq!(parse_summary("summary.json", bad.as_bytes(), &mut errors), None);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
