//! `symbiose uncertainty`: Monte Carlo over the inventory's uncertainty.csv
//! (docs/model.md D9), written as the results set of the deterministic base
//! plus the samples' tables, in one atomic set; and the merge of its
//! shards (`symbiose merge` hands uncertainty shards here).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::io::outputs::{self, Family};
use crate::io::{read_uncertainty_table, CsvDialect, InventorySource, LoadError, Loaded, UNCERTAINTY_FILE};
use crate::model::{InputWarning, Inventory};
use crate::solve::{LpSolver, Reuse, Reused, SolveOptions};
use crate::study::{Shard, Uncertainty, ValueSummary};

use super::*;

/// `symbiose uncertainty`'s arguments.
#[derive(Debug, Clone)]
pub struct UncertaintyConfig {
    pub source: InventorySource,
    pub dialect: CsvDialect,
    /// The base's and every sample's solve (one HiGHS thread each).
    pub options: SolveOptions,
    pub supplier_share: f64,
    pub n_samples: usize,
    pub seed: u64,
    /// Solve only this shard's samples (sample i is in shard (i mod K) + 1).
    pub shard: Option<Shard>,
    pub out: PathBuf,
    /// Worker threads (already capped, see [`capped_threads`]).
    pub threads: Option<usize>,
    pub quiet: bool,
    /// Also write report.html (of the deterministic base).
    pub write_report: bool,
}

/// The inventory and its uncertainty.csv, loaded and checked, not yet run.
#[derive(Debug)]
pub struct PlannedUncertainty {
    pub loaded: Loaded,
    pub uncertainty: Uncertainty,
    /// Samples this run solves (its shard's).
    pub n_in_run: usize,
}

/// What an `uncertainty` run did.
#[derive(Debug)]
pub struct UncertaintyDone {
    pub optimized: Optimized,
    pub n_samples: usize,
    pub n_in_run: usize,
    pub n_feasible: usize,
    /// Summed over this run's samples (models kept, warm, cold).
    pub reused: Reused,
    /// Samples whose candidate links were generated again.
    pub new_link_sets: usize,
    /// Wall clock of the samples (draws, solves, values), the base excluded.
    pub sample_seconds: f64,
    /// value_quantiles.csv's `territory` row.
    pub territory: Option<ValueSummary>,
}

/// The inventory's uncertainty.csv checked against it: `Ok(None)` when
/// there is none; every problem at its file, line and column otherwise
/// (`validate` and `uncertainty`).
pub fn check_uncertainty(
    source: &InventorySource,
    dialect: CsvDialect,
    inventory: &Inventory,
) -> Result<Option<(Uncertainty, Vec<InputWarning>)>, crate::study::Problems> {
    let Some(table) = read_uncertainty_table(source, dialect).map_err(|errors| (errors, Vec::new()))? else {
        return Ok(None);
    };
    crate::study::read_uncertainty(inventory, &table).map(Some)
}

/// Loads the inventory and its uncertainty.csv and checks the arguments,
/// before any solve.
pub fn plan_uncertainty(config: &UncertaintyConfig) -> Result<PlannedUncertainty, AppError> {
    check_samples(config.n_samples)?;
    let mut loaded = load_checked(&config.source, config.dialect)?;
    let uncertainty = match check_uncertainty(&config.source, config.dialect, &loaded.inventory) {
        Ok(Some((uncertainty, warnings))) => {
            loaded.warnings.extend(warnings);
            uncertainty
        }
        Ok(None) => {
            return Err(AppError::Argument(format!(
                "{} has no {UNCERTAINTY_FILE}: list the uncertain parameters there (docs/model.md D9), one row each: parameter, distribution, and its low, mode, high, mean, sd, median or gsd",
                config.source.describe()
            )))
        }
        Err((errors, warnings)) => {
            loaded.warnings.extend(warnings);
            return Err(AppError::Input(LoadError::Invalid {
                errors,
                warnings: loaded.warnings,
            }));
        }
    };
    let n_in_run = config
        .shard
        .map_or(config.n_samples, |shard| shard.len_of(config.n_samples));
    Ok(PlannedUncertainty {
        loaded,
        uncertainty,
        n_in_run,
    })
}

/// `--samples`: at least 1, at most [`crate::study::MAX_SAMPLES`].
pub fn check_samples(n_samples: usize) -> Result<(), AppError> {
    if (1..=crate::study::MAX_SAMPLES).contains(&n_samples) {
        Ok(())
    } else {
        Err(AppError::Argument(format!(
            "--samples {n_samples}: give from 1 to {} samples (more: split the run with --shard I/K)",
            crate::study::MAX_SAMPLES
        )))
    }
}

/// `symbiose uncertainty`: [`plan_uncertainty`] then [`run_planned_uncertainty`].
pub fn uncertainty(config: &UncertaintyConfig) -> Result<UncertaintyDone, AppError> {
    run_planned_uncertainty(plan_uncertainty(config)?, config)
}

/// The samples' files, computed once the base is solved (its results set
/// is written with them, in one atomic set).
struct Samples<'a> {
    config: &'a UncertaintyConfig,
    uncertainty: &'a Uncertainty,
    inventory_hash: String,
}

/// What the samples' run found: the run, its seconds, the territory's
/// quantiles (for the printed summary).
type SamplesFound = (crate::study::SamplesRun, f64, Option<ValueSummary>);

impl MoreOutputs for Samples<'_> {
    type Found = SamplesFound;
    fn outputs(&self, optimum: &Optimum<'_>) -> Result<(NamedOutputs, SamplesFound), AppError> {
        use crate::study::{
            link_probability_table, run_samples, sample_links_table, sample_values_table, samples_table, subjects,
            summarise, UncertaintyMeta,
        };
        let started = Instant::now();
        let out = &self.config.out;
        let output_error = |message: String| AppError::Output {
            path: out.to_path_buf(),
            message,
        };
        let (_, reuse) = Reuse::solve(optimum.inventory, optimum.links, optimum.options)?;
        let run = run_samples(
            optimum.inventory,
            optimum.links,
            &reuse,
            optimum.options,
            optimum.supplier_share,
            self.uncertainty,
            self.config.seed,
            self.config.n_samples,
            self.config.shard,
            &progress::Bars::new(optimum.quiet),
        )?;
        let subject_names = subjects(optimum.inventory);
        let base_links: Vec<(String, String)> = optimum
            .valuation
            .links
            .iter()
            .map(|link| {
                (
                    optimum.inventory.flow(link.supply).id.clone(),
                    optimum.inventory.flow(link.demand).id.clone(),
                )
            })
            .collect();
        let feasible: Vec<(&[f64], &[crate::study::SampleLink])> = run
            .rows
            .iter()
            .filter_map(|row| row.figures.as_ref())
            .map(|figures| (figures.subject_values.as_slice(), figures.links.as_slice()))
            .collect();
        let (link_rows, value_rows) = summarise(&subject_names, &base_links, &feasible);
        let options = &self.config.options;
        let meta = UncertaintyMeta {
            inventory: self.config.source.describe(),
            inventory_hash: self.inventory_hash.clone(),
            uncertainty_hash: format!("{:016x}", self.uncertainty.hash),
            symbiose_version: env!("CARGO_PKG_VERSION").to_string(),
            options: [
                ("objective", options.objective.as_str().to_string()),
                ("supplier_share", format!("{:?}", self.config.supplier_share)),
                ("time_limit_seconds", format!("{:?}", options.time_limit_seconds)),
                ("mip_gap", format!("{:?}", options.mip_gap)),
                ("lexicographic_slack", format!("{:?}", options.lexicographic_slack)),
                (
                    "solver",
                    options
                        .solver
                        .map_or("default", |solver| match solver {
                            LpSolver::Auto => "auto",
                            LpSolver::Simplex => "simplex",
                            LpSolver::Ipm => "ipm",
                        })
                        .to_string(),
                ),
                ("decompose", options.decompose.to_string()),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
            seed: self.config.seed,
            n_samples: self.config.n_samples,
            shard: self
                .config
                .shard
                .map_or_else(|| "1/1".to_string(), |shard| format!("{}/{}", shard.index, shard.count)),
            parameters: self.uncertainty.parameters.iter().map(|p| p.path.clone()).collect(),
            samples: run.rows.iter().map(|row| row.sample).collect(),
        };
        let mut files = vec![(
            outputs::SAMPLES_CSV,
            table_bytes(out, samples_table(self.uncertainty, &run.rows))?,
        )];
        if self.config.shard.is_some() {
            // What `merge` needs beyond samples.csv: each feasible sample's
            // values and links (large: an unsharded run leaves them out).
            files.push((
                outputs::SAMPLE_VALUES_CSV,
                table_bytes(out, sample_values_table(&subject_names, &run.rows))?,
            ));
            files.push((
                outputs::SAMPLE_LINKS_CSV,
                table_bytes(out, sample_links_table(&run.rows))?,
            ));
        }
        files.extend([
            (
                outputs::LINK_PROBABILITY_CSV,
                table_bytes(out, link_probability_table(&link_rows))?,
            ),
            (
                outputs::VALUE_QUANTILES_CSV,
                table_bytes(out, crate::study::value_quantiles_table(&value_rows))?,
            ),
            (outputs::UNCERTAINTY_META, meta.to_json().map_err(output_error)?),
        ]);
        let territory = value_rows.into_iter().find(|row| row.subject == "territory");
        Ok((files, (run, started.elapsed().as_secs_f64(), territory)))
    }
}

/// Runs what [`plan_uncertainty`] checked: the base solved and written as
/// `optimize` writes it, with the samples' files in the same set.
pub fn run_planned_uncertainty(
    planned: PlannedUncertainty,
    config: &UncertaintyConfig,
) -> Result<UncertaintyDone, AppError> {
    let PlannedUncertainty {
        loaded,
        uncertainty,
        n_in_run,
    } = planned;
    let inventory_hash = crate::study::inventory_hash(&config.source).map_err(AppError::Argument)?;
    let samples = Samples {
        config,
        uncertainty: &uncertainty,
        inventory_hash: format!("{inventory_hash:016x}"),
    };
    let mut inputs = source_paths(&config.source);
    if let InventorySource::Folder(dir) = &config.source {
        inputs.push(dir.join(UNCERTAINTY_FILE));
    }
    let mut options = config.options.clone();
    // One HiGHS thread per solve, the base's included: the samples reuse
    // the base's solve, which must have their options.
    options.threads = Some(1);
    let (optimized, (run, sample_seconds, territory)) = with_threads(config.threads, || {
        optimize_and_write_with(
            loaded.inventory,
            loaded.warnings,
            config.source.describe(),
            &options,
            config.supplier_share,
            Extras {
                write_report: config.write_report,
                inputs,
                quiet: config.quiet,
                ..Extras::default()
            },
            &config.out,
            &samples,
        )
    })??;
    Ok(UncertaintyDone {
        optimized,
        n_samples: config.n_samples,
        n_in_run,
        n_feasible: run.rows.iter().filter(|row| row.figures.is_some()).count(),
        reused: run.reused,
        new_link_sets: run.new_link_sets,
        sample_seconds,
        territory,
    })
}

/// `symbiose merge` of `uncertainty` shards: the folder an unsharded run
/// writes, in one atomic set.
pub fn merge_uncertainty(dirs: &[PathBuf], out: &Path) -> Result<(), AppError> {
    let lock = prepare_output(out, Family::Results, dirs)?;
    let files = crate::study::merge_uncertainty(dirs)
        .map_err(|message| AppError::Scenario(crate::study::ScenarioError::new("merge", message)))?;
    write_set(&lock, Family::Results, files, false)
}
