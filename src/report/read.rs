//! Results read back: a results folder (or the files a run is about to
//! write) into typed [`Results`], through the one schema of each table.
//! Reads exactly the files summary.json lists; every problem is collected.

use std::borrow::Cow;
use std::fs;
use std::path::Path;

use rayon::prelude::*;

use crate::io::outputs::{Table, SUMMARY};
use crate::io::{parquet_as_csv, parse_csv};
use crate::model::InputError;

use super::results::{results_from_tables, ResultTables, Results, PART_B_RESULT_FILES, RESULT_FILES, STUDY_FILES};

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
                Ok(bytes) => (shown, Ok(Some(Cow::Owned(bytes)))),
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
                (shown, parquet_as_csv(&path).map(|bytes| Some(Cow::Owned(bytes))))
            } else {
                (shown, Ok(Some(Cow::Owned(bytes))))
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
            .map(|(_, bytes)| Cow::Borrowed(bytes.as_slice()));
        (shown, Ok(bytes))
    })
}

/// `fetch(name)` gives a file's display name and its bytes (`None` when
/// missing). The tables are parsed on rayon's workers; their problems are
/// sorted by file at the end, so the order they are met in does not show.
fn results_from_files<'a>(
    fetch: impl Fn(&str) -> (String, Result<Option<Cow<'a, [u8]>>, String>),
) -> Result<Results, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut contents = Vec::with_capacity(RESULT_FILES.len() + PART_B_RESULT_FILES.len());
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
    // Part B tables: read when present, absent without an error.
    for name in PART_B_RESULT_FILES {
        let (shown, bytes) = fetch(name);
        match bytes {
            Ok(bytes) => contents.push(bytes.map(|bytes| (shown, bytes))),
            Err(message) => {
                errors.push(InputError::file(&shown, message));
                contents.push(None);
            }
        }
    }
    // Study files: only those summary.json lists (never a file an earlier
    // run left in the folder), read as they are.
    let listed: Vec<String> = contents
        .first()
        .and_then(|summary| summary.as_ref())
        .and_then(|(_, bytes)| serde_json::from_slice::<SetListing>(bytes).ok())
        .and_then(|listing| listing.files)
        .unwrap_or_default();
    let studies = STUDY_FILES
        .iter()
        .map(|name| {
            if !listed.iter().any(|entry| entry == name) {
                return None;
            }
            let (shown, bytes) = fetch(name);
            match bytes {
                Ok(Some(bytes)) => Some((shown, bytes.into_owned())),
                Ok(None) => {
                    errors.push(InputError::file(
                        &shown,
                        format!("missing from the results folder, though {SUMMARY} lists it"),
                    ));
                    None
                }
                Err(message) => {
                    errors.push(InputError::file(&shown, message));
                    None
                }
            }
        })
        .collect();
    let mut contents = contents.into_iter();
    let summary = contents
        .next()
        .flatten()
        .map(|(shown, bytes)| (shown, bytes.into_owned()));
    let parsed: Vec<_> = contents
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|file| file.map(|(shown, bytes)| parse_csv(&shown, &bytes)))
        .collect();
    let mut tables = parsed.into_iter().map(|parsed| match parsed {
        Some(Ok(table)) => Some(table),
        Some(Err(more)) => {
            errors.extend(more);
            None
        }
        None => None,
    });
    let mut table = || tables.next().flatten();
    let tables = ResultTables {
        summary,
        links: table(),
        flow_results: table(),
        firm_values: table(),
        territory_values: table(),
        services: table(),
        processes: table(),
        investments: table(),
        flow_slices: table(),
        studies,
    };
    results_from_tables(&tables, errors)
}
