//! Files in and out: CSV inventories read through polars, the embedded
//! default catalogue and Dunkirk example, and atomic writes of result tables.
//!
//! Owns: bytes to [`RawTable`] (file formats and encodings, BOM, line ends,
//! quoting, ragged rows, line numbers) and [`DataFrame`] to bytes on disk.
//! Must not interpret cells: typing and validation live in `inventory::build`.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::inventory::build::CatalogueTables;
use crate::inventory::table::{sort_errors, TableFile};
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

/// The optional inventory files of MODEL.md Part B (time slices, profiles,
/// conversion processes).
pub const PART_B_FILES: [&str; 4] = ["slices.csv", "profiles.csv", "processes.csv", "process_io.csv"];

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
    let Some(tables) = read_tables(source, &mut errors) else {
        return Err(LoadError::Invalid {
            errors,
            warnings: Vec::new(),
        });
    };
    let (result, warnings) = build_inventory(&tables);
    match result {
        Ok(inventory) if errors.is_empty() => Ok(Loaded { inventory, warnings }),
        Ok(_) => Err(LoadError::Invalid { errors, warnings }),
        Err(more) => {
            errors.extend(more);
            sort_errors(&mut errors, &tables.read_tables());
            Err(LoadError::Invalid { errors, warnings })
        }
    }
}

/// Reads every table of an inventory. Problems that stop a file from being
/// read at all (missing, not CSV text, ragged rows) go to `errors` and the
/// file is marked [`TableFile::Unreadable`]; the other files are still read
/// and checked, so that one run reports everything.
fn read_tables(source: &InventorySource, errors: &mut Vec<InputError>) -> Option<InventoryTables> {
    let default_catalogue = embedded_catalogue();
    let mut read = |name: &str, required: bool| -> TableFile {
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
                    Err(e) => Some(Err(vec![InputError::file(
                        &path.display().to_string(),
                        format!("cannot read the file: {e}"),
                    )])),
                }
            }
        };
        match result {
            Some(Ok(table)) => TableFile::Read(table),
            Some(Err(problems)) => {
                errors.extend(problems);
                TableFile::Unreadable
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
                    TableFile::Unreadable
                } else {
                    TableFile::Absent
                }
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
    let [resources, routes, substitutions, impacts, externalities] = CATALOGUE_FILES.map(|name| read(name, false));
    let [slices, profiles, processes, process_io] = PART_B_FILES.map(|name| read(name, false));
    Some(InventoryTables {
        slices,
        profiles,
        processes,
        process_io,
        firms,
        flows,
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
        let (_, text) = DEFAULT_CATALOGUE
            .iter()
            .find(|(file, _)| *file == name)
            .expect("every catalogue file is embedded");
        // The embedded files are checked by a test; a failure here would be a build defect.
        parse_csv(&format!("catalogue:{name}"), text.as_bytes()).map_or(TableFile::Absent, TableFile::Read)
    };
    CatalogueTables {
        resources: table("resources.csv"),
        routes: table("routes.csv"),
        substitutions: table("substitutions.csv"),
        impacts: table("impacts.csv"),
        externalities: table("externalities.csv"),
    }
}

/// Formats that are not text, recognised by their first bytes: (magic
/// bytes, what the file is, how to get CSV out of it).
const NOT_TEXT: &[(&[u8], &str, &str)] = &[
    (b"\x89PNG", "a PNG image", "export the table as CSV UTF-8"),
    (
        b"PK\x03\x04",
        "an Excel workbook (.xlsx)",
        "in Excel, save it as CSV UTF-8 (comma delimited)",
    ),
    (
        b"\xD0\xCF\x11\xE0",
        "an Excel 97-2003 workbook (.xls)",
        "in Excel, save it as CSV UTF-8 (comma delimited)",
    ),
    (b"%PDF", "a PDF document", "export the table as CSV UTF-8"),
];

const SAVE_AS_UTF8: &str = "save it as CSV UTF-8 (in Excel: CSV UTF-8 (comma delimited))";

/// Parses CSV bytes into a raw table of strings, with line numbers.
///
/// Accepts a UTF-8 BOM, CRLF line endings and blank (or whitespace-only)
/// lines. Refuses, each problem with its line where there is one: files
/// that are not CSV text (images, workbooks, UTF-16, other encodings, NUL
/// bytes, lone-CR line ends, semicolon or tab separators), empty files,
/// quotes that do not enclose a whole field or never close, and every row
/// whose number of fields differs from the header's.
pub fn parse_csv(file: &str, bytes: &[u8]) -> Result<RawTable, Vec<InputError>> {
    let text = decode(file, bytes).map_err(|error| vec![error])?;
    let mut scan = scan_records(text, file);
    let Some(header) = scan.records.first() else {
        let mut errors = scan.errors;
        if errors.is_empty() {
            errors.push(
                InputError::file(file, "the file is empty: expected a header row")
                    .with_hint("the first line names the columns"),
            );
        }
        return Err(errors);
    };
    if header.n_fields == 1 {
        let header_text = &text[header.start..header.end];
        for (separator, name, hint) in [
            (
                ';',
                "semicolons",
                "save it as CSV UTF-8 (comma delimited), with dots as decimal separators",
            ),
            ('\t', "tabs", "save it as CSV UTF-8 (comma delimited)"),
        ] {
            if header_text.contains(separator) {
                return Err(vec![InputError::at(
                    file,
                    header.line,
                    None,
                    format!("the columns are separated by {name}, not commas"),
                )
                .with_hint(hint)]);
            }
        }
    }
    let mut errors = std::mem::take(&mut scan.errors);
    for record in scan.records[1..].iter().filter(|r| r.n_fields != header.n_fields) {
        errors.push(
            InputError::at(
                file,
                record.line,
                None,
                format!("{} field(s) where the header has {}", record.n_fields, header.n_fields),
            )
            .with_hint("every row needs one value per header column; quote values that contain commas"),
        );
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(errors);
    }
    read_records(file, text, &scan).map_err(|error| vec![error])
}

/// The bytes as UTF-8 text without BOM, or a whole-file error saying what
/// they are instead.
fn decode<'b>(file: &str, bytes: &'b [u8]) -> Result<&'b str, InputError> {
    for (magic, what, hint) in NOT_TEXT {
        if bytes.starts_with(magic) {
            return Err(InputError::file(file, format!("the file is {what}, not CSV text")).with_hint(*hint));
        }
    }
    if looks_like_utf16(bytes) {
        return Err(InputError::file(file, "the file is UTF-16 text, not UTF-8").with_hint(SAVE_AS_UTF8));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
            return Err(InputError::at(file, line, None, "the file is not UTF-8 text").with_hint(SAVE_AS_UTF8));
        }
    };
    if let Some(position) = text.find('\0') {
        let line = 1 + text[..position].matches('\n').count();
        return Err(
            InputError::at(file, line, None, "the file holds NUL bytes: it is binary, not CSV")
                .with_hint("export the table as CSV UTF-8"),
        );
    }
    // Old Mac line ends: without this, the whole file reads as one header row.
    if !text.contains('\n') && text.trim_end().contains('\r') {
        return Err(
            InputError::file(file, "the lines end with a lone carriage return (CR), not LF or CRLF")
                .with_hint(SAVE_AS_UTF8),
        );
    }
    Ok(text)
}

/// UTF-16 shows as a byte-order mark, or, for mostly-ASCII text, as NUL
/// bytes at every other position (odd ones in little-endian, even ones in
/// big-endian) and none at the others.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return true;
    }
    let sample = &bytes[..bytes.len().min(1024) & !1];
    if sample.len() < 8 {
        return false;
    }
    let nuls_from = |first: usize| sample.iter().skip(first).step_by(2).filter(|b| **b == 0).count();
    let (even, odd) = (nuls_from(0), nuls_from(1));
    let most = sample.len() / 2 * 3 / 4;
    (odd >= most && even == 0) || (even >= most && odd == 0)
}

/// One record as the scan sees it: where it starts, how many fields it
/// has, and its byte range (without the line break).
struct RecordSpan {
    line: usize,
    n_fields: usize,
    start: usize,
    end: usize,
}

/// What the scan found: the non-blank records, the header's names
/// (unquoted, trimmed) and the quoting problems.
struct Scan {
    records: Vec<RecordSpan>,
    header: Vec<String>,
    errors: Vec<InputError>,
}

/// Where the scan is within a field.
#[derive(Clone, Copy, PartialEq)]
enum FieldState {
    /// Not quoted; `content` once a character other than a space or tab
    /// was read.
    Unquoted { content: bool },
    /// Inside double quotes.
    Quoted,
    /// Just read a double quote inside quotes: the closing one, or the first
    /// of a doubled pair.
    QuoteInQuoted,
    /// A quoting problem was reported in this field: the rest of it is taken
    /// as it stands, up to the next comma or line end.
    Spoiled,
}

/// Splits the text into records and fields the way RFC 4180 does (a field
/// is either unquoted or entirely quoted; a quoted field may hold commas,
/// line breaks and doubled quotes), recording where each non-blank record
/// starts. polars parses the cells; this pass gives the line numbers, the
/// header names as written (polars renames duplicates), drops blank lines
/// (which polars would read as rows of empty cells), and reports, at their
/// line, the quoting that polars would reject without saying where or read
/// differently from this scan.
fn scan_records(text: &str, file: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut scan = Scan {
        records: Vec::new(),
        header: Vec::new(),
        errors: Vec::new(),
    };
    let mut line = 1;
    let mut record_line = 1;
    let mut record_start = 0;
    let mut field_start = 0;
    let mut n_fields = 1;
    let mut blank = true;
    let mut quote_line = 1;
    let mut state = FieldState::Unquoted { content: false };
    // The fields of the record being read, while no header has been found.
    let mut header_fields: Vec<String> = Vec::new();
    let mut field_bytes: Vec<u8> = Vec::new();

    for (position, &byte) in bytes.iter().enumerate() {
        let in_header = scan.records.is_empty();
        let column = |field: usize| -> Option<String> {
            if in_header {
                None
            } else {
                scan.header.get(field - 1).cloned()
            }
        };
        let crlf = byte == b'\r' && bytes.get(position + 1) == Some(&b'\n');
        let mut keep = true;
        let mut end_of_field = false;
        let mut end_of_record = false;
        if !matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            blank = false;
        }
        match state {
            FieldState::Unquoted { content } => match byte {
                b',' => end_of_field = true,
                b'\n' => end_of_record = true,
                _ if crlf => keep = false,
                b'"' if !content => {
                    if position > field_start {
                        scan.errors.push(
                            InputError::at(
                                file,
                                line,
                                column(n_fields).as_deref(),
                                "a space comes before the opening double quote",
                            )
                            .with_hint("remove the space so that the quotes enclose the whole value"),
                        );
                    }
                    // Read on as the writer meant: a quoted field.
                    state = FieldState::Quoted;
                    quote_line = line;
                    keep = false;
                }
                b'"' => {
                    scan.errors.push(
                        InputError::at(
                            file,
                            line,
                            column(n_fields).as_deref(),
                            "a double quote appears inside an unquoted value",
                        )
                        .with_hint("quote the whole value, and double each double quote inside it"),
                    );
                    state = FieldState::Spoiled;
                }
                b' ' | b'\t' => {}
                _ => state = FieldState::Unquoted { content: true },
            },
            FieldState::Quoted => {
                if byte == b'"' {
                    state = FieldState::QuoteInQuoted;
                    keep = false;
                }
            }
            FieldState::QuoteInQuoted => match byte {
                b'"' => state = FieldState::Quoted,
                b',' => end_of_field = true,
                b'\n' => end_of_record = true,
                _ if crlf => keep = false,
                _ => {
                    let rest = &text[position..];
                    let rest = &rest[..rest.find([',', '\n']).unwrap_or(rest.len())];
                    let (message, hint) = if rest.trim().is_empty() {
                        (
                            "a space follows the closing double quote",
                            "remove the space so that the quotes enclose the whole value",
                        )
                    } else {
                        (
                            "text follows the closing double quote",
                            "quote the whole value, and double each double quote inside it",
                        )
                    };
                    scan.errors
                        .push(InputError::at(file, line, column(n_fields).as_deref(), message).with_hint(hint));
                    state = FieldState::Spoiled;
                }
            },
            FieldState::Spoiled => match byte {
                b',' => end_of_field = true,
                b'\n' => end_of_record = true,
                _ if crlf => keep = false,
                _ => {}
            },
        }
        if end_of_field || end_of_record {
            if in_header {
                header_fields.push(String::from_utf8_lossy(&field_bytes).trim().to_string());
                field_bytes.clear();
            }
            state = FieldState::Unquoted { content: false };
            field_start = position + 1;
        } else if keep && in_header {
            field_bytes.push(byte);
        }
        if end_of_field {
            n_fields += 1;
        }
        if byte == b'\n' {
            line += 1;
        }
        if end_of_record {
            let end = if position > record_start && bytes[position - 1] == b'\r' {
                position - 1
            } else {
                position
            };
            let record = RecordSpan {
                line: record_line,
                n_fields,
                start: record_start,
                end,
            };
            finish_record(&mut scan, &mut header_fields, blank, record);
            record_line = line;
            record_start = position + 1;
            n_fields = 1;
            blank = true;
        }
    }
    if state == FieldState::Quoted {
        scan.errors.push(
            InputError::at(file, quote_line, None, "a quoted field is never closed")
                .with_hint("close the double quote, or double it (\"\") inside a quoted field"),
        );
        return scan;
    }
    if scan.records.is_empty() {
        header_fields.push(String::from_utf8_lossy(&field_bytes).trim().to_string());
    }
    let end = if bytes.last() == Some(&b'\r') {
        bytes.len() - 1
    } else {
        bytes.len()
    };
    let record = RecordSpan {
        line: record_line,
        n_fields,
        start: record_start,
        end,
    };
    finish_record(&mut scan, &mut header_fields, blank, record);
    scan
}

/// Keeps a record unless it is blank; the first one kept is the header.
fn finish_record(scan: &mut Scan, header_fields: &mut Vec<String>, blank: bool, record: RecordSpan) {
    if blank {
        header_fields.clear();
        return;
    }
    if scan.records.is_empty() {
        scan.header = std::mem::take(header_fields);
    }
    scan.records.push(record);
}

/// Reads the records the scan kept through polars, every column as text.
fn read_records(file: &str, text: &str, scan: &Scan) -> Result<RawTable, InputError> {
    // polars reads the records only: no blank lines, LF line ends.
    let mut cleaned = Vec::with_capacity(text.len());
    for record in &scan.records {
        cleaned.extend_from_slice(&text.as_bytes()[record.start..record.end]);
        cleaned.push(b'\n');
    }
    // The scan accepts only what polars reads the same way; a failure here
    // is a disagreement between the two, and polars' own message would
    // name neither line nor fix.
    let unreadable = || {
        InputError::file(file, "the CSV reader could not read the file")
            .with_hint("check that every quoted value is quoted whole, from comma to comma")
    };
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(cleaned))
        .finish()
        .map_err(|_| unreadable())?;
    if frame.width() != scan.header.len() {
        return Err(unreadable());
    }
    let mut cells_by_column = Vec::with_capacity(scan.header.len());
    for column in frame.columns() {
        let strings = column.str().map_err(|_| unreadable())?;
        cells_by_column.push(strings.iter().map(|cell| cell.map(str::to_string)).collect::<Vec<_>>());
    }
    let n_rows = frame.height();
    let data_lines: Vec<usize> = scan.records[1..].iter().map(|r| r.line).collect();
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
        header_line: scan.records[0].line,
        columns: scan.header.clone(),
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
            Err(more) => {
                errors.extend(more);
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

    /// The single error of a file that does not parse.
    fn only_error(bytes: &[u8]) -> InputError {
        let mut errors = parse_csv("t.csv", bytes).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    #[test]
    fn every_ragged_row_names_its_line() {
        let errors = parse_csv("t.csv", b"a,b\n1,2\n3\n4,5,6\n").unwrap_err();
        let found: Vec<(Option<usize>, &str)> = errors.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (Some(3), "1 field(s) where the header has 2"),
                (Some(4), "3 field(s) where the header has 2"),
            ]
        );
    }

    #[test]
    fn non_utf8_empty_and_binary_files_are_refused() {
        let error = only_error(b"a,b\n1,2\n\xff\xfe,3\n");
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("not UTF-8"));
        assert!(only_error(b"").message.contains("empty"));
        assert!(only_error(b" \n\t\r\n\n").message.contains("empty"));
        assert!(only_error(b"a\0b\n").message.contains("NUL"));
        assert!(only_error(b"a,b\n\"1,2\n").message.contains("never closed"));
        assert!(only_error(b"\x89PNG\r\n\x1a\n").message.contains("PNG image"));
        assert!(only_error(b"PK\x03\x04\x14\0").message.contains("Excel workbook"));
        assert!(only_error(b"\xff\xfea\0,\0b\0").message.contains("UTF-16"));
        assert!(only_error(b"a\0,\0b\0\n\x001\0,\x002\0").message.contains("UTF-16"));
        assert!(only_error(b"a,b\r1,2\r").message.contains("lone carriage return"));
    }

    #[test]
    fn a_header_without_commas_names_its_separator() {
        let error = only_error(b"\na;b\n1;2\n");
        assert_eq!(
            (error.line, error.message.as_str()),
            (Some(2), "the columns are separated by semicolons, not commas")
        );
        assert!(only_error(b"a\tb\n1\t2\n").message.contains("tabs"));
    }

    #[test]
    fn quotes_that_do_not_enclose_a_whole_field_are_located() {
        let text = b"id,name,x\n1, \"a, b\",2\n2,\"c\" d,3\n3,e\"f,4\n4,\"g\" ,5\n";
        let errors = parse_csv("t.csv", text).unwrap_err();
        let found: Vec<(Option<usize>, Option<&str>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (Some(2), Some("name"), "a space comes before the opening double quote"),
                (Some(3), Some("name"), "text follows the closing double quote"),
                (Some(4), Some("name"), "a double quote appears inside an unquoted value"),
                (Some(5), Some("name"), "a space follows the closing double quote"),
            ]
        );
    }

    #[test]
    fn header_names_are_read_as_written() {
        let table = parse_csv("t.csv", b"\n\"a\",b, a ,\n1,2,3,4\n").unwrap();
        assert_eq!(table.columns, vec!["a", "b", "a", ""]);
        assert_eq!(table.header_line, 2);
        assert_eq!(table.rows[0].line, 3);
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
