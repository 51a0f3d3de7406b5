//! Files in and out: CSV inventories read through polars, the embedded
//! default catalogue and Dunkirk example, and atomic writes of result tables.
//!
//! Owns: bytes to [`RawTable`] (BOM, CRLF, UTF-8, ragged rows, line numbers)
//! and [`DataFrame`] to bytes on disk. Must not interpret cells: typing and
//! validation live in `inventory::build`.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::inventory::build::CatalogueTables;
use crate::inventory::{build_inventory, InputError, InputWarning, Inventory, InventoryTables, RawRow, RawTable};
use crate::results::{results_from_tables, ResultTables, Results, RESULT_FILES};

/// The default catalogue, embedded in the binary: (file name, contents).
pub const DEFAULT_CATALOGUE: &[(&str, &str)] = &[
    ("resources.csv", include_str!("../data/catalogue/resources.csv")),
    ("routes.csv", include_str!("../data/catalogue/routes.csv")),
    ("substitutions.csv", include_str!("../data/catalogue/substitutions.csv")),
    ("impacts.csv", include_str!("../data/catalogue/impacts.csv")),
    ("externalities.csv", include_str!("../data/catalogue/externalities.csv")),
    ("SOURCES.md", include_str!("../data/catalogue/SOURCES.md")),
];

/// The bundled Dunkirk example, embedded in the binary.
pub const BUNDLED_DUNKIRK: &[(&str, &str)] = &[
    ("firms.csv", include_str!("../data/dunkirk/firms.csv")),
    ("flows.csv", include_str!("../data/dunkirk/flows.csv")),
    ("distances.csv", include_str!("../data/dunkirk/distances.csv")),
    ("SOURCES.md", include_str!("../data/dunkirk/SOURCES.md")),
];

pub const CATALOGUE_FILES: [&str; 5] = [
    "resources.csv",
    "routes.csv",
    "substitutions.csv",
    "impacts.csv",
    "externalities.csv",
];

/// Where an inventory comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum InventorySource {
    /// A folder of CSV files.
    Folder(PathBuf),
    /// The Dunkirk example embedded in the binary.
    BundledDunkirk,
}

impl InventorySource {
    pub fn describe(&self) -> String {
        match self {
            InventorySource::Folder(path) => path.display().to_string(),
            InventorySource::BundledDunkirk => "bundled:dunkirk".to_string(),
        }
    }
}

/// Why an inventory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{} problem(s) in the inventory", .errors.len())]
    Invalid {
        errors: Vec<InputError>,
        warnings: Vec<InputWarning>,
    },
}

/// A loaded, validated inventory and the warnings met on the way.
#[derive(Debug)]
pub struct Loaded {
    pub inventory: Inventory,
    pub warnings: Vec<InputWarning>,
}

/// Reads and validates an inventory; every problem is reported at once.
pub fn load_inventory(source: &InventorySource) -> Result<Loaded, LoadError> {
    let mut errors = Vec::new();
    let tables = read_tables(source, &mut errors);
    let (result, warnings) = match tables {
        Some(tables) => build_inventory(&tables),
        None => (Err(Vec::new()), Vec::new()),
    };
    match result {
        Ok(inventory) if errors.is_empty() => Ok(Loaded { inventory, warnings }),
        Ok(_) => Err(LoadError::Invalid { errors, warnings }),
        Err(more) => {
            errors.extend(more);
            errors.sort_by_key(InputError::sort_key);
            errors.dedup();
            Err(LoadError::Invalid { errors, warnings })
        }
    }
}

/// Reads every table of an inventory. Problems that stop a file from being
/// read at all (missing, not UTF-8, ragged rows) go to `errors`, and the
/// other files are still read so that one run reports everything.
fn read_tables(source: &InventorySource, errors: &mut Vec<InputError>) -> Option<InventoryTables> {
    let default_catalogue = embedded_catalogue();
    let mut read = |name: &str, required: bool| -> Option<RawTable> {
        let result = match source {
            InventorySource::BundledDunkirk => BUNDLED_DUNKIRK
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(file, text)| parse_csv(&format!("bundled:dunkirk/{file}"), text.as_bytes())),
            InventorySource::Folder(dir) => {
                let path = dir.join(name);
                match fs::read(&path) {
                    Ok(bytes) => Some(parse_csv(&path.display().to_string(), &bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(Err(InputError::file(
                        &path.display().to_string(),
                        format!("cannot read the file: {e}"),
                    ))),
                }
            }
        };
        match result {
            Some(Ok(table)) => Some(table),
            Some(Err(error)) => {
                errors.push(error);
                None
            }
            None => {
                if required {
                    let shown = match source {
                        InventorySource::Folder(dir) => dir.join(name).display().to_string(),
                        InventorySource::BundledDunkirk => format!("bundled:dunkirk/{name}"),
                    };
                    errors.push(
                        InputError::file(&shown, "required file is missing")
                            .with_hint("an inventory folder holds at least firms.csv and flows.csv"),
                    );
                }
                None
            }
        }
    };
    if let InventorySource::Folder(dir) = source {
        if !dir.is_dir() {
            errors.push(
                InputError::file(&dir.display().to_string(), "not a folder")
                    .with_hint("give the folder that holds firms.csv and flows.csv"),
            );
            return None;
        }
    }
    let firms = read("firms.csv", true);
    let flows = read("flows.csv", true);
    let distances = read("distances.csv", false);
    let mut overrides = [None, None, None, None, None];
    for (slot, name) in overrides.iter_mut().zip(CATALOGUE_FILES) {
        *slot = read(name, false);
    }
    let [resources, routes, substitutions, impacts, externalities] = overrides;
    Some(InventoryTables {
        firms: firms?,
        flows: flows?,
        default_catalogue,
        catalogue_overrides: CatalogueTables {
            resources,
            routes,
            substitutions,
            impacts,
            externalities,
        },
        distances,
    })
}

/// The embedded default catalogue as raw tables.
pub fn embedded_catalogue() -> CatalogueTables {
    let table = |name: &str| {
        let (_, text) = DEFAULT_CATALOGUE.iter().find(|(file, _)| *file == name)?;
        // The embedded files are checked by a test; a failure here would be a build defect.
        parse_csv(&format!("catalogue:{name}"), text.as_bytes()).ok()
    };
    CatalogueTables {
        resources: table("resources.csv"),
        routes: table("routes.csv"),
        substitutions: table("substitutions.csv"),
        impacts: table("impacts.csv"),
        externalities: table("externalities.csv"),
    }
}

/// One record as the pre-scan sees it: where it starts, how many fields it
/// has, and its byte range (without the line break).
struct RecordSpan {
    line: usize,
    n_fields: usize,
    start: usize,
    end: usize,
}

/// Finds where each non-blank record starts and counts its fields, honouring
/// double quotes (a quoted field may hold commas and line breaks). polars
/// parses the cells; this pass gives the line numbers, catches ragged rows
/// before polars would reject the file without saying where, and drops blank
/// lines (which polars would read as rows of empty cells).
fn scan_records(text: &str, file: &str) -> Result<Vec<RecordSpan>, InputError> {
    let mut records = Vec::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut start = 0;
    let mut in_quotes = false;
    let mut n_fields = 1;
    let mut blank = true;
    let bytes = text.as_bytes();
    for (position, byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            b',' if !in_quotes => {
                n_fields += 1;
                blank = false;
            }
            b'\n' => {
                if !in_quotes {
                    if !blank {
                        let end = if position > start && bytes[position - 1] == b'\r' {
                            position - 1
                        } else {
                            position
                        };
                        records.push(RecordSpan {
                            line: start_line,
                            n_fields,
                            start,
                            end,
                        });
                    }
                    n_fields = 1;
                    blank = true;
                    start_line = line + 1;
                    start = position + 1;
                }
                line += 1;
            }
            b'\r' => {}
            _ => blank = false,
        }
    }
    if in_quotes {
        return Err(InputError::at(file, start_line, None, "a quoted field is never closed")
            .with_hint("close the double quote, or double it (\"\") inside a quoted field"));
    }
    if !blank {
        let end = if bytes.last() == Some(&b'\r') {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        records.push(RecordSpan {
            line: start_line,
            n_fields,
            start,
            end,
        });
    }
    Ok(records)
}

/// Parses CSV bytes into a raw table of strings, with line numbers.
///
/// Accepts a UTF-8 BOM and CRLF line endings. Rejects, with the line where
/// it happens: bytes that are not UTF-8, NUL bytes, unclosed quotes, and rows
/// whose number of fields differs from the header's.
pub fn parse_csv(file: &str, bytes: &[u8]) -> Result<RawTable, InputError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
            return Err(InputError::at(file, line, None, "the file is not UTF-8 text")
                .with_hint("save it as CSV UTF-8 (in Excel: CSV UTF-8 (comma delimited))"));
        }
    };
    if let Some(position) = text.find('\0') {
        let line = 1 + text[..position].matches('\n').count();
        return Err(
            InputError::at(file, line, None, "the file holds NUL bytes: it is binary, not CSV")
                .with_hint("export the table as CSV UTF-8"),
        );
    }
    let records = scan_records(text, file)?;
    let Some(header) = records.first() else {
        return Err(InputError::file(file, "the file is empty: expected a header row")
            .with_hint("the first line names the columns"));
    };
    let ragged: Vec<&RecordSpan> = records[1..].iter().filter(|r| r.n_fields != header.n_fields).collect();
    if let Some(first) = ragged.first() {
        return Err(InputError::at(
            file,
            first.line,
            None,
            format!(
                "{} field(s) where the header has {}{}",
                first.n_fields,
                header.n_fields,
                if ragged.len() > 1 {
                    format!(" (and {} more ragged row(s))", ragged.len() - 1)
                } else {
                    String::new()
                }
            ),
        )
        .with_hint("every row needs one value per header column; quote values that contain commas"));
    }

    // polars reads the records only: no blank lines, LF line ends.
    let mut cleaned = Vec::with_capacity(text.len());
    for record in &records {
        cleaned.extend_from_slice(&text.as_bytes()[record.start..record.end]);
        cleaned.push(b'\n');
    }
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(cleaned))
        .finish()
        .map_err(|e| InputError::file(file, format!("cannot parse the CSV: {e}")))?;
    let columns: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|name| name.trim().to_string())
        .collect();
    let mut cells_by_column = Vec::with_capacity(columns.len());
    for column in frame.columns() {
        let strings = column
            .str()
            .map_err(|e| InputError::file(file, format!("cannot read column {}: {e}", column.name())))?;
        cells_by_column.push(strings.iter().map(|cell| cell.map(str::to_string)).collect::<Vec<_>>());
    }
    let n_rows = frame.height();
    let data_lines: Vec<usize> = records[1..].iter().map(|r| r.line).collect();
    if data_lines.len() != n_rows {
        return Err(InputError::file(
            file,
            format!(
                "the CSV reader found {n_rows} rows where {} were expected",
                data_lines.len()
            ),
        )
        .with_hint("check for stray quotes"));
    }
    let rows = (0..n_rows)
        .map(|row| RawRow {
            line: data_lines[row],
            cells: cells_by_column.iter().map(|cells| cells[row].clone()).collect(),
        })
        .collect();
    Ok(RawTable {
        file: file.to_string(),
        columns,
        rows,
    })
}

/// Serialises a table as CSV with a header row.
pub fn csv_bytes(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buffer = Vec::new();
    CsvWriter::new(&mut buffer)
        .include_header(true)
        .n_threads(1)
        .finish(frame)?;
    Ok(buffer)
}

/// Writes a set of output files into `dir` so that a reader never sees a
/// half-written file: each goes to a temporary file in the same folder, is
/// flushed to disk, then renamed over its final name. `summary.json`, if in
/// the set, is removed first and renamed last, so its presence means the
/// whole set is complete.
pub fn write_outputs_atomically(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut staged = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, bytes) in files {
            let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            let mut file = fs::File::create(&temporary)?;
            staged.push((temporary.clone(), dir.join(name)));
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        let marker = dir.join("summary.json");
        if staged.iter().any(|(_, target)| *target == marker) && marker.exists() {
            fs::remove_file(&marker)?;
        }
        staged.sort_by_key(|(_, target)| *target == marker);
        for (temporary, target) in &staged {
            fs::rename(temporary, target)?;
        }
        Ok(())
    })();
    if result.is_err() {
        for (temporary, _) in &staged {
            let _ = fs::remove_file(temporary);
        }
    }
    result
}

/// Reads a results folder back (the A5 tables and summary.json) for a
/// report; every missing or malformed file is reported at once.
pub fn read_results_folder(dir: &Path) -> Result<Results, Vec<InputError>> {
    if !dir.is_dir() {
        return Err(vec![InputError::file(&dir.display().to_string(), "not a folder")
            .with_hint("give the folder that `symbiose optimize --out` wrote")]);
    }
    results_from_files(|name| {
        let path = dir.join(name);
        let shown = path.display().to_string();
        match fs::read(&path) {
            Ok(bytes) => (shown, Ok(Some(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (shown, Ok(None)),
            Err(e) => (shown, Err(format!("cannot read the file: {e}"))),
        }
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
    let mut tables = contents.into_iter();
    let summary = tables.next().flatten();
    let mut csv = || match tables.next().flatten() {
        Some((shown, bytes)) => match parse_csv(&shown, &bytes) {
            Ok(table) => Some(table),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        None => None,
    };
    let (links, flow_results, firm_values, territory_values) = (csv(), csv(), csv(), csv());
    results_from_tables(
        &ResultTables {
            summary,
            links,
            flow_results,
            firm_values,
            territory_values,
        },
        errors,
    )
}

/// Writes the embedded default catalogue as editable CSV files.
pub fn write_catalogue(dir: &Path) -> std::io::Result<()> {
    let files: Vec<(String, Vec<u8>)> = DEFAULT_CATALOGUE
        .iter()
        .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
        .collect();
    write_outputs_atomically(dir, &files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_crlf_and_quotes_are_read_with_line_numbers() {
        let text = "\u{feff}a,b\r\n1,\"x, y\"\r\n\r\n2,\"multi\nline\"\r\n3,\r\n";
        let table = parse_csv("t.csv", text.as_bytes()).unwrap();
        assert_eq!(table.columns, vec!["a", "b"]);
        let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 4, 6]);
        assert_eq!(
            table.rows[0].cells,
            vec![Some("1".to_string()), Some("x, y".to_string())]
        );
        assert_eq!(table.rows[1].cells[1].as_deref(), Some("multi\nline"));
        assert_eq!(table.rows[2].cells[1], None);
    }

    #[test]
    fn ragged_rows_name_their_line() {
        let error = parse_csv("t.csv", b"a,b\n1,2\n3\n4,5,6\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("1 field(s) where the header has 2"), "{error}");
        assert!(error.message.contains("1 more"), "{error}");
    }

    #[test]
    fn non_utf8_empty_and_binary_files_are_refused() {
        let error = parse_csv("t.csv", b"a,b\n1,2\n\xff\xfe,3\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("not UTF-8"));
        assert!(parse_csv("t.csv", b"").unwrap_err().message.contains("empty"));
        assert!(parse_csv("t.csv", b"a\0b\n").unwrap_err().message.contains("NUL"));
        assert!(parse_csv("t.csv", b"a,b\n\"1,2\n")
            .unwrap_err()
            .message
            .contains("never closed"));
    }

    #[test]
    fn every_default_catalogue_row_names_its_source_and_year() {
        for (name, text) in DEFAULT_CATALOGUE.iter().filter(|(name, _)| name.ends_with(".csv")) {
            let table = parse_csv(name, text.as_bytes()).unwrap();
            let column = |wanted: &str| {
                table
                    .columns
                    .iter()
                    .position(|c| c == wanted)
                    .unwrap_or_else(|| panic!("{name} has no {wanted} column"))
            };
            let (source, year) = (column("source"), column("year"));
            for row in &table.rows {
                assert!(
                    row.cells[source].as_deref().is_some_and(|s| !s.trim().is_empty()),
                    "{name}:{} has no source",
                    row.line
                );
                let year: i32 = row.cells[year]
                    .as_deref()
                    .and_then(|y| y.trim().parse().ok())
                    .unwrap_or(0);
                assert!(
                    (1990..=2030).contains(&year),
                    "{name}:{} has no plausible year",
                    row.line
                );
            }
        }
    }

    #[test]
    fn the_bundled_example_loads_cleanly() {
        let loaded = load_inventory(&InventorySource::BundledDunkirk).expect("the bundled example is valid");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(loaded.inventory.firms().len() >= 20 && loaded.inventory.flows().len() >= 50);
    }

    #[test]
    fn header_only_gives_no_rows() {
        let table = parse_csv("t.csv", b"a,b\n").unwrap();
        assert_eq!(table.columns, vec!["a", "b"]);
        assert!(table.rows.is_empty());
    }
}
