//! Results read back: a results folder (or the files a run is about to
//! write) into typed [`Results`], through the one schema of each table.
//! Reads exactly the files summary.json lists; every problem is collected.

use std::fs;
use std::path::Path;

use crate::io::outputs::{Table, SUMMARY};
use crate::io::{parquet_as_csv, parse_csv};
use crate::model::InputError;

use super::results::{results_from_tables, ResultTables, Results, PART_B_RESULT_FILES, RESULT_FILES};

/// The part of summary.json that names the files of its set (absent in
/// folders written before it was recorded).
#[derive(serde::Deserialize)]
struct SetListing {
    files: Option<Vec<String>>,
}

/// Reads a results folder back (the A5 tables and summary.json) for a
/// report; every missing or malformed file is reported at once. Reads
/// exactly the tables that summary.json lists, in the format it lists
/// them (so a file an earlier run left beside them is never read); for
/// a summary.json that lists none, each table's CSV file, else its
/// Parquet twin.
pub fn read_results_folder(dir: &Path) -> Result<Results, Vec<InputError>> {
    if !dir.is_dir() {
        return Err(vec![InputError::file(&dir.display().to_string(), "not a folder")
            .with_hint("give the folder that `symbiose optimize --out` wrote")]);
    }
    let listed: Option<Vec<String>> = fs::read(dir.join(SUMMARY))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<SetListing>(&bytes).ok())
        .and_then(|listing| listing.files);
    results_from_files(|name| {
        let path = dir.join(name);
        let shown = path.display().to_string();
        let Some(table) = Table::named(name) else {
            return match fs::read(&path) {
                Ok(bytes) => (shown, Ok(Some(bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (shown, Ok(None)),
                Err(e) => (shown, Err(format!("cannot read the file: {e}"))),
            };
        };
        let twins = [table.csv, table.parquet];
        let (candidates, listed_here): (Vec<&str>, bool) = match &listed {
            Some(listed) => (
                twins
                    .into_iter()
                    .filter(|file| listed.iter().any(|entry| entry == file))
                    .collect(),
                true,
            ),
            None => (twins.to_vec(), false),
        };
        for file in &candidates {
            let path = dir.join(file);
            let shown = path.display().to_string();
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !listed_here => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return (
                        shown,
                        Err(format!("missing from the results folder, though {SUMMARY} lists it")),
                    )
                }
                Err(e) => return (shown, Err(format!("cannot read the file: {e}"))),
            };
            return if *file == table.parquet {
                // `optimize --format parquet` wrote this table as Parquet.
                (shown, parquet_as_csv(&path).map(Some))
            } else {
                (shown, Ok(Some(bytes)))
            };
        }
        (shown, Ok(None))
    })
}

/// Reads back output files about to be written into `dir` (name, bytes),
/// so that `optimize` draws its report from exactly the tables it writes.
pub fn results_from_outputs(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Results, Vec<InputError>> {
    results_from_files(|name| {
        let shown = dir.join(name).display().to_string();
        let bytes = files
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, bytes)| bytes.clone());
        (shown, Ok(bytes))
    })
}

/// `fetch(name)` gives a file's display name and its bytes (`None` when missing).
fn results_from_files(
    fetch: impl Fn(&str) -> (String, Result<Option<Vec<u8>>, String>),
) -> Result<Results, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut contents = Vec::with_capacity(RESULT_FILES.len());
    for name in RESULT_FILES {
        let (shown, bytes) = fetch(name);
        match bytes {
            Ok(Some(bytes)) => contents.push(Some((shown, bytes))),
            Ok(None) => {
                errors.push(
                    InputError::file(&shown, "missing from the results folder")
                        .with_hint("a results folder holds the files that `symbiose optimize --out DIR` writes"),
                );
                contents.push(None);
            }
            Err(message) => {
                errors.push(InputError::file(&shown, message));
                contents.push(None);
            }
        }
    }
    let parsed = |(shown, bytes): (String, Vec<u8>), errors: &mut Vec<InputError>| match parse_csv(&shown, &bytes) {
        Ok(table) => Some(table),
        Err(more) => {
            errors.extend(more);
            None
        }
    };
    let mut tables = contents.into_iter();
    let summary = tables.next().flatten();
    let mut csv = || tables.next().flatten().and_then(|file| parsed(file, &mut errors));
    let (links, flow_results, firm_values, territory_values) = (csv(), csv(), csv(), csv());
    // Part B tables: read when present, absent without an error.
    let mut part_b = PART_B_RESULT_FILES.map(|name| {
        let (shown, bytes) = fetch(name);
        match bytes {
            Ok(Some(bytes)) => parsed((shown, bytes), &mut errors),
            Ok(None) => None,
            Err(message) => {
                errors.push(InputError::file(&shown, message));
                None
            }
        }
    });
    results_from_tables(
        &ResultTables {
            summary,
            links,
            flow_results,
            firm_values,
            territory_values,
            services: part_b[0].take(),
            processes: part_b[1].take(),
            investments: part_b[2].take(),
            flow_slices: part_b[3].take(),
        },
        errors,
    )
}
