//! Files drawn from results: the derived outputs (profile, GeoJSON,
//! report.html), `report` on a results folder, and `generate` and
//! `catalogue`, which write inputs.

use std::path::{Path, PathBuf};

use crate::io::outputs::{self, Family};
use crate::io::{lock_output, write_file_atomically};
use crate::report::geojson::{firms_geojson, links_geojson};
use crate::report::html;
use crate::report::profile::territory_profile;
use crate::report::read::read_results_folder;
use crate::report::results::Results;

use super::*;

/// territory_profile.json, firms.geojson, links.geojson and, when asked,
/// report.html, from the result tables.
/// The files are drawn on rayon's workers, each from the same `results`.
pub fn derived_outputs(results: &Results, with_report: bool) -> serde_json::Result<Vec<(String, Vec<u8>)>> {
    let ((profile_json, page), (firms, links)) = rayon::join(
        || {
            let profile = territory_profile(results);
            let profile_json = serde_json::to_vec_pretty(&profile).map(|mut bytes| {
                bytes.push(b'\n');
                bytes
            });
            (profile_json, with_report.then(|| html::render(results, &profile)))
        },
        || rayon::join(|| firms_geojson(results), || links_geojson(results)),
    );
    let mut files = vec![
        (outputs::PROFILE.to_string(), profile_json?),
        (outputs::FIRMS_GEOJSON.to_string(), firms?),
        (outputs::LINKS_GEOJSON.to_string(), links?),
    ];
    if let Some(page) = page {
        files.push((outputs::REPORT.to_string(), page.into_bytes()));
    }
    Ok(files)
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// A folder written by `symbiose optimize`.
    pub results_dir: PathBuf,
    /// Where to write the page; default: report.html in `results_dir`.
    pub out: Option<PathBuf>,
}

/// What `symbiose report` wrote.
#[derive(Debug)]
pub struct Reported {
    pub path: PathBuf,
    pub n_links: usize,
    pub n_firms: usize,
    /// summary.json's `optimal_over` (a run with `--max-candidates`).
    pub optimal_over: Option<String>,
}

/// `symbiose report`: the HTML report of a results folder, from its tables
/// alone. A missing or malformed table is an input error (exit code 2).
pub fn report(config: &ReportConfig) -> Result<Reported, AppError> {
    let path = config
        .out
        .clone()
        .unwrap_or_else(|| config.results_dir.join(outputs::REPORT));
    let output_error = |message: String| AppError::Output {
        path: path.clone(),
        message,
    };
    if path.is_dir() {
        return Err(AppError::Argument(format!(
            "--out {} is a folder: give a file, such as report.html",
            path.display()
        )));
    }
    if path.file_name().is_none() {
        return Err(AppError::Argument(format!(
            "--out {} does not name a file: give one, such as report.html",
            path.display()
        )));
    }
    // The page may replace none of the files it is drawn from.
    let inputs: Vec<PathBuf> = std::iter::once(config.results_dir.clone())
        .chain(
            Family::Results
                .files()
                .into_iter()
                .filter(|name| *name != outputs::REPORT)
                .map(|name| config.results_dir.join(name)),
        )
        .collect();
    spare_inputs(&path, None, &inputs)?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Held while the tables are read too, when the page goes beside them.
    let lock = lock_output(&folder)?;
    let results = read_results_folder(&config.results_dir).map_err(|errors| AppError::Results {
        dir: config.results_dir.clone(),
        errors,
    })?;
    let profile = territory_profile(&results);
    let page = html::render(&results, &profile);
    // One file added to (or replaced in) a folder that may hold anything:
    // the folder itself is left as it is.
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    write_file_atomically(&lock, &name, page.as_bytes()).map_err(|e| output_error(e.to_string()))?;
    Ok(Reported {
        path,
        n_links: results.links.len(),
        n_firms: results.firms.len(),
        optimal_over: results.summary.optimal_over.clone(),
    })
}

/// `symbiose generate`: a synthetic territory written into `out`. Files of
/// its names that symbiose did not write there (a user's inventory) are
/// refused unless `force`.
pub fn generate(
    config: &crate::generate::GenerateConfig,
    out: &Path,
    force: bool,
) -> Result<crate::generate::Generated, AppError> {
    config.check().map_err(AppError::Argument)?;
    let lock = prepare_output(out, Family::Territory, &[])?;
    let generated = crate::generate::generate(config);
    write_set(&lock, Family::Territory, generated.files.clone(), force)?;
    Ok(generated)
}

/// `symbiose catalogue`: the default catalogue as editable files in `out`.
/// Files of its names that symbiose did not write there (a user's
/// catalogue) are refused unless `force`.
pub fn catalogue(out: &Path, force: bool) -> Result<(), AppError> {
    let lock = prepare_output(out, Family::Catalogue, &[])?;
    write_set(&lock, Family::Catalogue, crate::io::catalogue_files(), force)
}
