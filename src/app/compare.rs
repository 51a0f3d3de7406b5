//! `compare` (two results folders side by side) and `schemes` (the
//! ascending and descending optima of one inventory, compared the same
//! way, written beside the descending optimum's results set).

use std::path::{Path, PathBuf};

use crate::io::csv_bytes;
use crate::io::outputs::{self, Family};
use crate::report::compare::{
    compare as compare_results, comparison_text, schemes, schemes_tables, Comparison, Schemes,
};
use crate::report::read::read_results_folder;
use crate::solve::{Objective, SolveOptions};

use super::*;

/// What `symbiose compare` found and wrote.
#[derive(Debug)]
pub struct Compared {
    pub comparison: Comparison,
    /// The printed summary.
    pub text: String,
}

/// `symbiose compare A B --out DIR`: two results folders (written by
/// `optimize`, `run`, `schemes`...) read back through the tables' schemas
/// and compared per firm, per category and per link (B minus A).
pub fn compare(a: &Path, b: &Path, out: &Path) -> Result<Compared, AppError> {
    let read = |dir: &Path| {
        read_results_folder(dir).map_err(|errors| AppError::Results {
            dir: dir.to_path_buf(),
            errors,
        })
    };
    let (results_a, results_b) = (read(a)?, read(b)?);
    check_output_folder(out)?;
    let lock = prepare_output(out, Family::Compare, &[a.to_path_buf(), b.to_path_buf()])?;
    let comparison = compare_results(&results_a, &results_b);
    let output_error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    let files = crate::report::compare::compare_tables(&comparison)
        .map_err(|e| output_error(e.to_string()))?
        .into_iter()
        .map(|(name, frame)| {
            Ok((
                name.to_string(),
                csv_bytes(&frame).map_err(|e| output_error(e.to_string()))?,
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    write_set(&lock, Family::Compare, files, false)?;
    let label = |dir: &Path, results: &crate::report::results::Results| {
        format!(
            "{} (objective {}, {})",
            dir.display(),
            results.summary.objective,
            results.summary.inventory.as_deref().unwrap_or("inventory not recorded")
        )
    };
    let text = comparison_text(&comparison, &label(a, &results_a), &label(b, &results_b));
    Ok(Compared { comparison, text })
}

/// What `symbiose schemes` wrote: the descending optimum (its results
/// set) and the schemes' figures.
#[derive(Debug)]
pub struct Schemed {
    pub optimized: Optimized,
    pub schemes: Schemes,
}

/// The ascending optimum, solved with the descending one's links and
/// options but the objective `private`, compared with the descending one.
struct SchemesOutputs {
    out: PathBuf,
}

impl MoreOutputs for SchemesOutputs {
    type Found = Schemes;
    fn outputs(&self, optimum: &Optimum<'_>) -> Result<(NamedOutputs, Schemes), AppError> {
        let ascending_options = SolveOptions {
            objective: Objective::Private,
            ..optimum.options.clone()
        };
        let solution = crate::solve::solve(optimum.inventory, optimum.links, &ascending_options)?;
        let valuation =
            crate::value::value_lp_solution(optimum.inventory, optimum.links, &solution, optimum.supplier_share);
        let in_memory = |solution, valuation, options| {
            results_in_memory(
                optimum.inventory,
                optimum.links,
                solution,
                valuation,
                options,
                optimum.supplier_share,
                &self.out,
            )
        };
        let ascending = in_memory(&solution, &valuation, &ascending_options)?;
        let descending = in_memory(optimum.solution, optimum.valuation, optimum.options)?;
        let comparison = compare_results(&ascending, &descending);
        let (figures, firms) = schemes(&comparison, optimum.supplier_share);
        let output_error = |message: String| AppError::Output {
            path: self.out.clone(),
            message,
        };
        let mut json = serde_json::to_vec_pretty(&figures).map_err(|e| output_error(e.to_string()))?;
        json.push(b'\n');
        let mut files = vec![(outputs::SCHEMES_JSON, json)];
        for (name, frame) in schemes_tables(&comparison, &firms).map_err(|e| output_error(e.to_string()))? {
            files.push((name, csv_bytes(&frame).map_err(|e| output_error(e.to_string()))?));
        }
        Ok((files, figures))
    }
}

/// `symbiose schemes INVENTORY --out DIR`: the descending optimum's
/// results set (what `optimize --objective externalities` writes) with
/// schemes.json, schemes_firms.csv and schemes_links.csv beside it. The
/// objective of `config` is not a choice: the ascending scheme is
/// `private`, the descending one `externalities`.
pub fn run_schemes(config: &OptimizeConfig) -> Result<Schemed, AppError> {
    let started = std::time::Instant::now();
    let loaded = load_checked(&config.source, config.dialect)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let options = SolveOptions {
        objective: Objective::Externalities,
        ..config.solve_options()
    };
    let more = SchemesOutputs {
        out: config.out.clone(),
    };
    let (mut optimized, schemes) = optimize_and_write_with(
        loaded.inventory,
        loaded.warnings,
        config.source.describe(),
        &options,
        config.supplier_share,
        Extras {
            inputs: source_paths(&config.source),
            ..config.extras.clone()
        },
        &config.out,
        &more,
    )?;
    optimized.timings.load = load_seconds;
    Ok(Schemed { optimized, schemes })
}
