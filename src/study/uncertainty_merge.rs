//! The merge of a sharded `uncertainty` run: the shards' folders back into
//! the folder an unsharded run writes.
//!
//! Owns: [`merge_uncertainty`], [`is_uncertainty_folder`].
//!
//! Every shard holds the whole results set of the deterministic base (the
//! same in every shard but for summary.json's measured `solve_seconds`)
//! and its own samples: samples.csv, and, written by shards only,
//! sample_values.csv and sample_links.csv. The merge takes the base set
//! from the first shard (its summary.json without the two shard-only
//! files), puts samples.csv together, and computes link_probability.csv
//! and value_quantiles.csv again from every sample, as the unsharded run
//! does ([`super::uncertainty::summarise`]).
//!
//! Invariant: the merged bytes are an unsharded run's (summary.json's
//! `solve_seconds` is the first shard's), and shards are merged only when
//! their uncertainty_meta.json show one study (the same inventory,
//! uncertainty table, options, seed, number of samples and symbiose
//! version) and every sample exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::uncertainty::{
    link_probability_table, samples_table_of, summarise, value_quantiles_table, Figures, SampleLink, SampleRow,
    SampleTotals, UncertaintyMeta,
};
use crate::io::outputs::{
    LINKS, LINK_PROBABILITY_CSV, SAMPLES_CSV, SAMPLE_LINKS_CSV, SAMPLE_VALUES_CSV, SUMMARY, UNCERTAINTY_FILES,
    UNCERTAINTY_META, VALUE_QUANTILES_CSV,
};
use crate::io::{csv_bytes, parse_csv, Frame};
use crate::model::RawTable;
use crate::report::schema::SchemaMismatch;

/// Whether `dir` holds an `uncertainty` run (its uncertainty_meta.json).
pub fn is_uncertainty_folder(dir: &Path) -> bool {
    dir.join(UNCERTAINTY_META).is_file()
}

/// The folder an unsharded `uncertainty` run writes, from its shards'
/// folders: (file name, bytes), summary.json and the base's results set
/// taken from the first shard. What differs between the shards, or what is
/// missing or doubled, is named.
pub fn merge_uncertainty(dirs: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let first_dir = dirs.first().ok_or("no shard folder given")?;
    let mut first: Option<(PathBuf, UncertaintyMeta)> = None;
    let mut rows: BTreeMap<usize, SampleRow> = BTreeMap::new();
    let mut subject_names: Option<Vec<String>> = None;
    for dir in dirs {
        let meta_path = dir.join(UNCERTAINTY_META);
        if !meta_path.is_file() {
            return Err(format!(
                "{}: not an uncertainty shard (no {UNCERTAINTY_META}), though {} is one: merge shards of one kind",
                dir.display(),
                first_dir.display()
            ));
        }
        let meta: UncertaintyMeta =
            serde_json::from_slice(&read(&meta_path)?).map_err(|e| format!("{}: {e}", meta_path.display()))?;
        match &first {
            None => first = Some((meta_path.clone(), meta.clone())),
            Some((first_path, first_meta)) => {
                let differs = |what: &str, this: String, that: String| {
                    Err(format!(
                        "{}: {what} differs from {}'s ({this} against {that}): these shards are not from one uncertainty run",
                        meta_path.display(),
                        first_path.display()
                    ))
                };
                if meta.inventory_hash != first_meta.inventory_hash {
                    return differs(
                        "the inventory's content",
                        format!("hash {}", meta.inventory_hash),
                        format!("hash {}", first_meta.inventory_hash),
                    );
                }
                if meta.uncertainty_hash != first_meta.uncertainty_hash || meta.parameters != first_meta.parameters {
                    return differs(
                        "uncertainty.csv's content",
                        format!("hash {}", meta.uncertainty_hash),
                        format!("hash {}", first_meta.uncertainty_hash),
                    );
                }
                if meta.symbiose_version != first_meta.symbiose_version {
                    return differs(
                        "the symbiose version",
                        meta.symbiose_version.clone(),
                        first_meta.symbiose_version.clone(),
                    );
                }
                if meta.options != first_meta.options {
                    return differs(
                        "the solve's options",
                        format!("{:?}", meta.options),
                        format!("{:?}", first_meta.options),
                    );
                }
                if meta.seed != first_meta.seed {
                    return differs("the seed", meta.seed.to_string(), first_meta.seed.to_string());
                }
                if meta.n_samples != first_meta.n_samples {
                    return differs(
                        "the number of samples",
                        meta.n_samples.to_string(),
                        first_meta.n_samples.to_string(),
                    );
                }
            }
        }
        let n_parameters = meta.parameters.len();
        // samples.csv: sample, the parameters, status, the four totals.
        let samples = table(dir, SAMPLES_CSV)?;
        if samples.columns.len() != n_parameters + 6 {
            return Err(format!(
                "{}: {} columns, where {} parameters make {}",
                samples.file,
                samples.columns.len(),
                n_parameters,
                n_parameters + 6
            ));
        }
        let mut in_this: BTreeMap<usize, SampleRow> = BTreeMap::new();
        for row in &samples.rows {
            let cell = |position: usize| row.cells.get(position).and_then(|cell| cell.as_deref());
            let number = |position: usize| -> Result<f64, String> {
                cell(position)
                    .and_then(|text| text.parse().ok())
                    .ok_or_else(|| format!("{}:{}: not a number in column {}", samples.file, row.line, position + 1))
            };
            let sample = count(&samples, row.line, cell(0))?;
            let values = (1..=n_parameters).map(number).collect::<Result<Vec<f64>, String>>()?;
            let status = cell(n_parameters + 1).unwrap_or_default().to_string();
            let totals = match cell(n_parameters + 2) {
                None => None,
                Some(_) => Some(SampleTotals {
                    private_cost_eur: number(n_parameters + 2)?,
                    externality_eur: number(n_parameters + 3)?,
                    firm_value_eur: number(n_parameters + 4)?,
                    territory_value_eur: number(n_parameters + 5)?,
                }),
            };
            if sample >= meta.n_samples || !meta.samples.contains(&sample) {
                return Err(format!(
                    "{}:{}: sample {sample} is not one of this shard's ({UNCERTAINTY_META})",
                    samples.file, row.line
                ));
            }
            if rows.contains_key(&sample) || in_this.contains_key(&sample) {
                return Err(format!("{}:{}: sample {sample} appears twice", samples.file, row.line));
            }
            in_this.insert(
                sample,
                SampleRow {
                    sample,
                    values,
                    status,
                    figures: totals.map(|totals| Figures {
                        totals,
                        subject_values: Vec::new(),
                        links: Vec::new(),
                    }),
                },
            );
        }
        // sample_values.csv: a row per feasible sample.
        let values = table(dir, SAMPLE_VALUES_CSV)?;
        let names: Vec<String> = values.columns.iter().skip(1).cloned().collect();
        if subject_names.get_or_insert_with(|| names.clone()) != &names {
            return Err(format!("{}: its header differs from the first shard's", values.file));
        }
        for row in &values.rows {
            let sample = count(&values, row.line, row.cells.first().and_then(|c| c.as_deref()))?;
            let figures = in_this
                .get_mut(&sample)
                .and_then(|row| row.figures.as_mut())
                .ok_or_else(|| {
                    format!(
                        "{}:{}: sample {sample} has no solution in {SAMPLES_CSV}",
                        values.file, row.line
                    )
                })?;
            figures.subject_values = row
                .cells
                .iter()
                .skip(1)
                .map(|cell| cell.as_deref().and_then(|text| text.parse().ok()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| format!("{}:{}: a value is not a number", values.file, row.line))?;
        }
        // sample_links.csv: sample, supply, demand, quantity, used.
        let links = table(dir, SAMPLE_LINKS_CSV)?;
        for row in &links.rows {
            let cell = |position: usize| row.cells.get(position).and_then(|cell| cell.as_deref());
            let sample = count(&links, row.line, cell(0))?;
            let bad = || {
                format!(
                    "{}:{}: not a link of the form sample, supply, demand, quantity, used",
                    links.file, row.line
                )
            };
            let link = SampleLink {
                supply: cell(1).ok_or_else(bad)?.to_string(),
                demand: cell(2).ok_or_else(bad)?.to_string(),
                quantity: cell(3).and_then(|text| text.parse().ok()).ok_or_else(bad)?,
                used: match cell(4) {
                    Some("true") => true,
                    Some("false") => false,
                    _ => return Err(bad()),
                },
            };
            in_this
                .get_mut(&sample)
                .and_then(|row| row.figures.as_mut())
                .ok_or_else(|| {
                    format!(
                        "{}:{}: sample {sample} has no solution in {SAMPLES_CSV}",
                        links.file, row.line
                    )
                })?
                .links
                .push(link);
        }
        if let Some(row) = in_this.values().find(|row| {
            row.figures
                .as_ref()
                .is_some_and(|f| f.subject_values.len() != names.len())
        }) {
            return Err(format!(
                "{}: sample {} has a solution in {SAMPLES_CSV} but no row here",
                values.file, row.sample
            ));
        }
        rows.extend(in_this);
    }
    let (_, first_meta) = first.ok_or("no shard folder given")?;
    let missing: Vec<usize> = (0..first_meta.n_samples).filter(|s| !rows.contains_key(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} of {} samples are missing (first: {:?}): a shard did not run or was not given",
            missing.len(),
            first_meta.n_samples,
            &missing[..missing.len().min(10)]
        ));
    }
    let rows: Vec<SampleRow> = rows.into_values().collect();
    let subject_names = subject_names.unwrap_or_default();
    // The base set, from the first shard: summary.json and the files it lists.
    let summary_path = first_dir.join(SUMMARY);
    let summary_bytes = read(&summary_path)?;
    let listing: Listing =
        serde_json::from_slice(&summary_bytes).map_err(|e| format!("{}: {e}", summary_path.display()))?;
    let summary_bytes = without_shard_files(&summary_bytes).ok_or_else(|| {
        format!(
            "{}: not the summary.json of an uncertainty shard",
            summary_path.display()
        )
    })?;
    let mut files = vec![(SUMMARY.to_string(), summary_bytes)];
    for name in listing
        .files
        .iter()
        .filter(|name| !UNCERTAINTY_FILES.contains(&name.as_str()))
    {
        files.push((name.clone(), read(&first_dir.join(name))?));
    }
    let base_links_table = table(first_dir, LINKS.csv)?;
    let column = |name: &str| {
        base_links_table
            .columns
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| format!("{}: no {name} column", base_links_table.file))
    };
    let (supply, demand) = (column("supply_flow_id")?, column("demand_flow_id")?);
    let base_links: Vec<(String, String)> = base_links_table
        .rows
        .iter()
        .map(|row| {
            let id = |position: usize| row.cells[position].clone().unwrap_or_default();
            (id(supply), id(demand))
        })
        .collect();
    let feasible: Vec<(&[f64], &[SampleLink])> = rows
        .iter()
        .filter_map(|row| row.figures.as_ref())
        .map(|figures| (figures.subject_values.as_slice(), figures.links.as_slice()))
        .collect();
    let (link_rows, value_rows) = summarise(&subject_names, &base_links, &feasible);
    let encode = |frame: Result<Frame, SchemaMismatch>| -> Result<Vec<u8>, String> {
        csv_bytes(&frame.map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    };
    let meta = UncertaintyMeta {
        shard: "1/1".to_string(),
        samples: rows.iter().map(|row| row.sample).collect(),
        ..first_meta
    };
    files.push((
        SAMPLES_CSV.to_string(),
        encode(samples_table_of(&meta.parameters, &rows))?,
    ));
    files.push((
        LINK_PROBABILITY_CSV.to_string(),
        encode(link_probability_table(&link_rows))?,
    ));
    files.push((
        VALUE_QUANTILES_CSV.to_string(),
        encode(value_quantiles_table(&value_rows))?,
    ));
    files.push((UNCERTAINTY_META.to_string(), meta.to_json()?));
    Ok(files)
}

/// A shard's summary.json as the unsharded run writes it: the same bytes
/// without the entries of the shard-only files in `files` (the file is
/// pretty-printed by serde_json, one entry a line, sorted, so neither is
/// the list's last). The text is edited rather than read and written
/// again, since serde_json does not read every float back to its bits;
/// `None` unless exactly the two entries were removed and the rest reads
/// back as the same JSON.
fn without_shard_files(summary: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(summary).ok()?;
    let shard_only = [SAMPLE_LINKS_CSV, SAMPLE_VALUES_CSV].map(|name| format!("    \"{name}\","));
    let mut removed = 0;
    let mut kept = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if shard_only.iter().any(|entry| line.trim_end() == entry) {
            removed += 1;
        } else {
            kept.push_str(line);
        }
    }
    let mut before: serde_json::Value = serde_json::from_str(text).ok()?;
    let after: serde_json::Value = serde_json::from_str(&kept).ok()?;
    before["files"]
        .as_array_mut()?
        .retain(|name| name != SAMPLE_LINKS_CSV && name != SAMPLE_VALUES_CSV);
    (removed == 2 && before == after).then(|| kept.into_bytes())
}

/// The part of summary.json that lists the set's files.
#[derive(serde::Deserialize)]
struct Listing {
    #[serde(default)]
    files: Vec<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

fn table(dir: &Path, name: &str) -> Result<RawTable, String> {
    let path = dir.join(name);
    parse_csv(&path.display().to_string(), &read(&path)?)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

/// A sample index cell.
fn count(table: &RawTable, line: usize, cell: Option<&str>) -> Result<usize, String> {
    cell.and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("{}:{line}: no sample index", table.file))
}
