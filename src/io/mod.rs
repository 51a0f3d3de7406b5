//! Files in and out: CSV inventories read through polars, the embedded
//! default catalogue and Dunkirk example, and output folders written as
//! one set that a killed run cannot leave half old, half new.
//!
//! Owns: bytes to [`RawTable`] (file formats and encodings, BOM, line ends,
//! quoting, ragged rows, line numbers) and [`DataFrame`] to bytes on disk
//! (staging folder, fsync, swap; leftovers of killed runs).
//! Must not interpret cells: typing and validation live in `inventory::build`.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::model::build::CatalogueTables;
use crate::model::table::{sort_errors, TableFile};
use crate::model::{build_inventory, InputError, InputWarning, Inventory, InventoryTables, RawRow, RawTable};
pub mod frame;
pub mod outputs;

use outputs::{Family, SUMMARY};

/// The default catalogue, embedded in the binary: (file name, contents).
pub const DEFAULT_CATALOGUE: &[(&str, &str)] = &[
    ("resources.csv", include_str!("../../data/catalogue/resources.csv")),
    ("routes.csv", include_str!("../../data/catalogue/routes.csv")),
    (
        "substitutions.csv",
        include_str!("../../data/catalogue/substitutions.csv"),
    ),
    ("impacts.csv", include_str!("../../data/catalogue/impacts.csv")),
    (
        "externalities.csv",
        include_str!("../../data/catalogue/externalities.csv"),
    ),
    ("SOURCES.md", include_str!("../../data/catalogue/SOURCES.md")),
];

/// The bundled Dunkirk example, embedded in the binary.
pub const BUNDLED_DUNKIRK: &[(&str, &str)] = &[
    ("firms.csv", include_str!("../../data/dunkirk/firms.csv")),
    ("flows.csv", include_str!("../../data/dunkirk/flows.csv")),
    ("distances.csv", include_str!("../../data/dunkirk/distances.csv")),
    ("SOURCES.md", include_str!("../../data/dunkirk/SOURCES.md")),
];

/// The optional inventory files of docs/model.md Part B (time slices, profiles,
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
    /// An Excel workbook (.xlsx) with one sheet per table, named like the
    /// files without `.csv` (firms, flows, distances, resources...).
    Workbook(PathBuf),
    /// The Dunkirk example embedded in the binary.
    BundledDunkirk,
}

impl InventorySource {
    /// A path given on the command line: a workbook when it is an .xlsx
    /// file, else a folder.
    pub fn from_path(path: PathBuf) -> Self {
        let is_workbook = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("xlsx") || ext.eq_ignore_ascii_case("xlsm"));
        if is_workbook && !path.is_dir() {
            InventorySource::Workbook(path)
        } else {
            InventorySource::Folder(path)
        }
    }

    pub fn describe(&self) -> String {
        match self {
            InventorySource::Folder(path) | InventorySource::Workbook(path) => path.display().to_string(),
            InventorySource::BundledDunkirk => "bundled:dunkirk".to_string(),
        }
    }
}

/// One sheet of a workbook as a raw table: the header is the first row with
/// a value, line numbers are the sheet's row numbers, numbers are written
/// back with Rust's shortest round-trip formatting. `sheet` is the sheet's
/// name as the workbook spells it ([`find_sheet`] matches names ignoring
/// case). A formula cell whose result was never saved (a workbook written
/// by a program that does not compute formulas) is an error at its row and
/// column: calamine reads it as empty, which would silently drop a value.
fn read_sheet(
    path: &Path,
    workbook: &mut calamine::Sheets<std::io::BufReader<fs::File>>,
    sheet: &str,
) -> Result<RawTable, Vec<InputError>> {
    use calamine::{Data, Reader};
    let file = format!("{} [sheet {sheet}]", path.display());
    let range = match workbook.worksheet_range(sheet) {
        Ok(range) => range,
        Err(e) => return Err(vec![InputError::file(&file, format!("cannot read the sheet: {e}"))]),
    };
    // Formulas without a saved result: absolute (row, column) and formula.
    let mut uncached: Vec<(u32, u32, String)> = match workbook.worksheet_formula(sheet) {
        Ok(formulas) => {
            let (row0, col0) = formulas.start().unwrap_or((0, 0));
            formulas
                .used_cells()
                .map(|(row, col, formula)| (row0 + row as u32, col0 + col as u32, formula.clone()))
                .filter(|(row, col, _)| {
                    range
                        .get_value((*row, *col))
                        .is_none_or(|value| matches!(value, Data::Empty))
                })
                .collect()
        }
        // The values were readable; a sheet whose formulas are not is read as it is.
        Err(_) => Vec::new(),
    };
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut errors = Vec::new();
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    for (offset, cells) in range.rows().enumerate() {
        let line = first_row as usize + offset + 1;
        let mut values: Vec<Option<String>> = Vec::with_capacity(cells.len());
        for cell in cells {
            values.push(match cell {
                Data::Empty => None,
                Data::String(text) => Some(text.clone()),
                Data::Float(number) => Some(number.to_string()),
                Data::Int(number) => Some(number.to_string()),
                Data::Error(error) => {
                    errors.push(
                        InputError::at(&file, line, None, format!("the cell holds the Excel error {error}"))
                            .with_hint("replace the formula result by a value"),
                    );
                    None
                }
                other => Some(other.to_string()),
            });
        }
        if values
            .iter()
            .all(|value| value.as_deref().is_none_or(|v| v.trim().is_empty()))
        {
            continue;
        }
        match &header {
            None => {
                let names: Vec<String> = values
                    .iter()
                    .map(|v| v.clone().unwrap_or_default().trim().to_string())
                    .collect();
                header = Some((line, names));
            }
            Some((_, names)) => {
                values.resize(names.len(), None);
                rows.push(RawRow { line, cells: values });
            }
        }
    }
    uncached.sort();
    for (row, col, formula) in uncached {
        let column = header.as_ref().and_then(|(header_line, names)| {
            let position = col.checked_sub(first_col)? as usize;
            (row as usize + 1 > *header_line)
                .then(|| names.get(position).filter(|name| !name.is_empty()))
                .flatten()
        });
        errors.push(
            InputError::at(
                &file,
                row as usize + 1,
                column.map(String::as_str),
                format!(
                    "cell {}{} holds the formula ={formula} without a saved result",
                    column_letters(col),
                    row + 1
                ),
            )
            .with_hint(
                "open the workbook in Excel or LibreOffice and save it, so that the results are stored, or type the value",
            ),
        );
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(errors);
    }
    let Some((header_line, mut columns)) = header else {
        return Err(vec![InputError::file(
            &file,
            "the sheet is empty: expected a header row",
        )
        .with_hint("the first row names the columns")]);
    };
    // Trailing unnamed columns (formatting beyond the table) carry nothing.
    while columns.last().is_some_and(|name| name.is_empty()) {
        columns.pop();
    }
    for row in &mut rows {
        row.cells.truncate(columns.len());
    }
    Ok(RawTable {
        file,
        header_line,
        columns,
        rows,
        decimal_comma: false,
    })
}

/// A 0-based column index as Excel names it: 0 -> A, 25 -> Z, 26 -> AA.
fn column_letters(column: u32) -> String {
    let mut letters = Vec::new();
    let mut rest = column as u64 + 1;
    while rest > 0 {
        let digit = ((rest - 1) % 26) as u8;
        letters.push(b'A' + digit);
        rest = (rest - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The sheet of a workbook that holds table `wanted` (a file name without
/// `.csv`): the sheet of that exact name, else the one sheet whose name
/// matches ignoring case (`Firms`, `FLOWS`). `Ok(None)` when there is none;
/// an error when several sheets match ignoring case and none exactly.
fn find_sheet<'s>(file: &str, sheet_names: &'s [String], wanted: &str) -> Result<Option<&'s str>, InputError> {
    if let Some(exact) = sheet_names.iter().find(|name| name.as_str() == wanted) {
        return Ok(Some(exact.as_str()));
    }
    let matches: Vec<&String> = sheet_names
        .iter()
        .filter(|name| name.trim().eq_ignore_ascii_case(wanted))
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.as_str())),
        several => Err(InputError::file(
            file,
            format!(
                "several sheets are named {wanted} ignoring case: {}",
                several.iter().map(|name| name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
        .with_hint(format!("keep one sheet named {wanted}"))),
    }
}

/// Why an inventory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{} {} in the inventory", .errors.len(), if .errors.len() == 1 { "problem" } else { "problems" })]
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
    load_inventory_with(source, CsvDialect::default())
}

/// As [`load_inventory`], with the CSV dialect of the inventory's files
/// given (the embedded catalogue is always read as written).
pub fn load_inventory_with(source: &InventorySource, dialect: CsvDialect) -> Result<Loaded, LoadError> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let Some(tables) = read_tables(source, dialect, &mut errors, &mut warnings) else {
        return Err(LoadError::Invalid { errors, warnings });
    };
    let (result, build_warnings) = build_inventory(&tables);
    warnings.extend(build_warnings);
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

/// Every file of an inventory folder that symbiose reads (docs/model.md A1 and
/// Part B); a workbook's sheets are named like them without `.csv`.
pub const INVENTORY_FILES: [&str; 12] = [
    "firms.csv",
    "flows.csv",
    "distances.csv",
    "resources.csv",
    "routes.csv",
    "substitutions.csv",
    "impacts.csv",
    "externalities.csv",
    "slices.csv",
    "profiles.csv",
    "processes.csv",
    "process_io.csv",
];

/// Whether a path of an inventory folder that symbiose does not read is
/// one it should stay quiet about: hidden files (`.gitkeep`), editors'
/// lock files (`~$firms.xlsx`), documentation (`.md`, `.txt`, `.rst`,
/// `.pdf`, `.html`, or README, LICENSE, NOTES, SOURCES, CHANGELOG without an
/// extension) and scenario files (`.toml`). Every other file is warned
/// about, since a misspelt table changes the results without a word.
fn is_quietly_ignored(name: &str) -> bool {
    if name.starts_with('.') || name.starts_with("~$") {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    match lower.rsplit_once('.') {
        Some((_, extension)) => matches!(
            extension,
            "md" | "markdown" | "txt" | "rst" | "pdf" | "html" | "htm" | "toml"
        ),
        None => matches!(
            lower.as_str(),
            "readme" | "license" | "licence" | "notes" | "sources" | "changelog" | "authors"
        ),
    }
}

/// Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Why a file (or sheet) named `name` is not read, with the known name it
/// most likely stands for: the same name in another case, the same table
/// in another format, or a known name within a few edits (one edit per
/// five characters of the known name, at least one).
fn not_read_message(name: &str, known: &[&str], what: &str) -> String {
    let lower = name.to_lowercase();
    if let Some(same) = known.iter().find(|known| **known == lower) {
        return format!("ignored: {what} names are case-sensitive (rename it {same})");
    }
    let stem = |name: &str| name.split('.').next().unwrap_or_default().to_string();
    if let Some(same_table) = known
        .iter()
        .find(|known| known.contains('.') && stem(known) == stem(&lower))
    {
        return format!("ignored: symbiose reads {same_table}, a CSV UTF-8 file, not this format");
    }
    let nearest = known
        .iter()
        .map(|known| (edit_distance(&lower, known), *known))
        .min()
        .filter(|(distance, known)| *distance <= (known.chars().count() / 5).max(1));
    match nearest {
        Some((_, known)) => format!("ignored: symbiose reads no {what} of this name (did you mean {known}?)"),
        None => format!(
            "ignored: symbiose reads no {what} of this name (it reads {})",
            known.join(", ")
        ),
    }
}

/// A warning for every file of an inventory folder that symbiose does not
/// read (see [`is_quietly_ignored`] for the exceptions), sorted by name.
fn unread_file_warnings(dir: &Path) -> Vec<InputWarning> {
    let Ok(entries) = fs::read_dir(dir) else {
        // The tables themselves report a folder that cannot be read.
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| !kind.is_dir()))
        .filter(|entry| !entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .filter(|name| !INVENTORY_FILES.contains(&name.as_str()) && !is_quietly_ignored(name))
        .filter(|name| {
            // On a case-insensitive file system (macOS, Windows) `Routes.csv`
            // is what reading routes.csv opens: it is read, not ignored.
            let lower = name.to_lowercase();
            let read_under_known_name = INVENTORY_FILES.contains(&lower.as_str())
                && !names.iter().any(|other| *other == lower)
                && dir.join(&lower).is_file();
            !read_under_known_name
        })
        .map(|name| InputWarning {
            file: dir.join(name).display().to_string(),
            line: None,
            message: not_read_message(name, &INVENTORY_FILES, "file"),
        })
        .collect()
}

/// A warning for every sheet of a workbook that no table is read from,
/// except sheets named like documentation (README, notes, sources...).
fn unread_sheet_warnings(path: &Path, sheet_names: &[String], read: &[String]) -> Vec<InputWarning> {
    let known: Vec<&str> = INVENTORY_FILES
        .iter()
        .map(|name| name.trim_end_matches(".csv"))
        .collect();
    sheet_names
        .iter()
        .filter(|name| !read.contains(name))
        .filter(|name| {
            !matches!(
                name.trim().to_lowercase().as_str(),
                "readme" | "notes" | "sources" | "license" | "licence" | "changelog" | "about" | "documentation"
            )
        })
        .map(|name| {
            let lower = name.trim().to_lowercase();
            let message = if known.contains(&lower.as_str()) {
                format!("ignored: the sheet named exactly {lower} is read instead")
            } else {
                not_read_message(name.trim(), &known, "sheet")
            };
            InputWarning {
                file: format!("{} [sheet {name}]", path.display()),
                line: None,
                message,
            }
        })
        .collect()
}

/// The bytes of an input file: `Ok(None)` when there is no such file;
/// an error for a broken symbolic link, for something that is not a
/// regular file (a folder, a FIFO, a device: reading a FIFO would wait
/// forever for a writer), and for a file that cannot be read.
fn read_input_file(path: &Path) -> Result<Option<Vec<u8>>, InputError> {
    let shown = path.display().to_string();
    if !check_input_file(path)? {
        return Ok(None);
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO blocks until a writer comes; without blocking, the
    // check below refuses one that took the place of a regular file since
    // the check above.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let cannot_read = |e: std::io::Error| InputError::file(&shown, format!("cannot read the file: {e}"));
    let mut file = options.open(path).map_err(cannot_read)?;
    let metadata = file.metadata().map_err(cannot_read)?;
    if !metadata.is_file() {
        return Err(not_a_regular_file(&shown, &metadata));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(cannot_read)?;
    Ok(Some(bytes))
}

/// `Ok(true)` when `path` is a regular file (or a link to one), `Ok(false)`
/// when nothing is there, an error for a broken link or anything else.
fn check_input_file(path: &Path) -> Result<bool, InputError> {
    let shown = path.display().to_string();
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(true),
        Ok(metadata) => Err(not_a_regular_file(&shown, &metadata)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::read_link(path) {
            Ok(target) => Err(InputError::file(
                &shown,
                format!("broken symbolic link: its target {} does not exist", target.display()),
            )
            .with_hint("point the link at an existing file, or remove it")),
            Err(_) => Ok(false),
        },
        Err(e) => Err(InputError::file(&shown, format!("cannot read the file: {e}"))),
    }
}

fn not_a_regular_file(shown: &str, metadata: &fs::Metadata) -> InputError {
    let kind = metadata.file_type();
    let what = if kind.is_dir() {
        "a folder".to_string()
    } else {
        file_kind_name(&kind)
    };
    InputError::file(shown, format!("not a regular file: it is {what}"))
        .with_hint("give a regular file: symbiose reads inventories from files, not from pipes or devices")
}

#[cfg(unix)]
fn file_kind_name(kind: &fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a file"
    }
    .to_string()
}

#[cfg(not(unix))]
fn file_kind_name(_: &fs::FileType) -> String {
    "not a file".to_string()
}

/// Why an inventory path cannot be read at all: it does not exist, is a
/// broken link, or is not a folder (nor a workbook). `None` when it is a
/// folder.
fn inventory_path_problem(path: &Path, workbook: bool) -> Option<InputError> {
    let shown = path.display().to_string();
    let hint = "give the folder that holds firms.csv and flows.csv, or an .xlsx workbook";
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() && !workbook => None,
        Ok(metadata) if workbook && metadata.is_file() => None,
        Ok(metadata) if workbook => Some(not_a_regular_file(&shown, &metadata)),
        Ok(_) => Some(InputError::file(&shown, "not a folder").with_hint(hint)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(match fs::read_link(path) {
            Ok(target) => InputError::file(
                &shown,
                format!("broken symbolic link: its target {} does not exist", target.display()),
            )
            .with_hint("point the link at an existing inventory, or remove it"),
            Err(_) => InputError::file(&shown, "does not exist").with_hint(hint),
        }),
        Err(e) => Some(InputError::file(&shown, format!("cannot read: {e}")).with_hint(hint)),
    }
}

/// Reads every table of an inventory. Problems that stop a file from being
/// read at all (missing, not CSV text, ragged rows) go to `errors` and the
/// file is marked [`TableFile::Unreadable`]; the other files are still read
/// and checked, so that one run reports everything. Files of the folder
/// (sheets of the workbook) that no table is read from go to `warnings`.
fn read_tables(
    source: &InventorySource,
    dialect: CsvDialect,
    errors: &mut Vec<InputError>,
    warnings: &mut Vec<InputWarning>,
) -> Option<InventoryTables> {
    let default_catalogue = embedded_catalogue();
    match source {
        InventorySource::Folder(path) | InventorySource::Workbook(path) => {
            if let Some(problem) = inventory_path_problem(path, matches!(source, InventorySource::Workbook(_))) {
                errors.push(problem);
                return None;
            }
        }
        InventorySource::BundledDunkirk => {}
    }
    let mut workbook = match source {
        InventorySource::Workbook(path) => match calamine::open_workbook_auto(path) {
            Ok(workbook) => Some(workbook),
            Err(e) => {
                errors.push(
                    InputError::file(&path.display().to_string(), format!("cannot open the workbook: {e}"))
                        .with_hint("give an .xlsx workbook with one sheet per table (firms, flows, ...)"),
                );
                return None;
            }
        },
        _ => None,
    };
    let sheet_names: Vec<String> = workbook
        .as_ref()
        .map(|workbook| calamine::Reader::sheet_names(workbook))
        .unwrap_or_default();
    let mut sheets_read: Vec<String> = Vec::new();
    let mut read = |name: &str, required: bool| -> TableFile {
        let result = match source {
            InventorySource::Workbook(path) => {
                let wanted = name.trim_end_matches(".csv");
                match find_sheet(&path.display().to_string(), &sheet_names, wanted) {
                    Ok(Some(sheet)) => {
                        sheets_read.push(sheet.to_string());
                        workbook.as_mut().map(|workbook| read_sheet(path, workbook, sheet))
                    }
                    Ok(None) => None,
                    Err(error) => Some(Err(vec![error])),
                }
            }
            InventorySource::BundledDunkirk => BUNDLED_DUNKIRK
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(file, text)| parse_csv(&format!("bundled:dunkirk/{file}"), text.as_bytes())),
            InventorySource::Folder(dir) => {
                let path = dir.join(name);
                match read_input_file(&path) {
                    Ok(Some(bytes)) => Some(parse_csv_with(&path.display().to_string(), &bytes, dialect)),
                    Ok(None) => None,
                    Err(error) => Some(Err(vec![error])),
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
                        InventorySource::Workbook(path) => {
                            format!("{} [sheet {}]", path.display(), name.trim_end_matches(".csv"))
                        }
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
    let firms = read("firms.csv", true);
    let flows = read("flows.csv", true);
    let distances = read("distances.csv", false);
    let [resources, routes, substitutions, impacts, externalities] = CATALOGUE_FILES.map(|name| read(name, false));
    let [slices, profiles, processes, process_io] = PART_B_FILES.map(|name| read(name, false));
    match source {
        InventorySource::Folder(dir) => warnings.extend(unread_file_warnings(dir)),
        InventorySource::Workbook(path) => warnings.extend(unread_sheet_warnings(path, &sheet_names, &sheets_read)),
        InventorySource::BundledDunkirk => {}
    }
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
    parse_csv_with(file, bytes, CsvDialect::default())
}

/// How the CSV files of an inventory are written. `None` fields are
/// detected: a file whose first line has semicolons and no comma is read as
/// French Excel writes CSV (semicolons, and then decimal commas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvDialect {
    /// `b','` or `b';'`; `None` to detect.
    pub separator: Option<u8>,
    /// Numbers written as `12,5`; `None` for "when the separator is `;`".
    pub decimal_comma: Option<bool>,
}

/// As [`parse_csv`], for a given dialect.
pub fn parse_csv_with(file: &str, bytes: &[u8], dialect: CsvDialect) -> Result<RawTable, Vec<InputError>> {
    let text = decode(file, bytes).map_err(|error| vec![error])?;
    let semicolons = match dialect.separator {
        Some(separator) => separator == b';',
        None => {
            let first_line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default();
            first_line.contains(';') && !first_line.contains(',')
        }
    };
    let decimal_comma = dialect.decimal_comma.unwrap_or(semicolons);
    let separator = if semicolons { b';' } else { b',' };
    let mut scan = scan_records(text, file, separator);
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
    if header.n_fields == 1 && !semicolons {
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
    let mut table = read_records(file, text, &scan, separator).map_err(|error| vec![error])?;
    table.decimal_comma = decimal_comma;
    Ok(table)
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
fn scan_records(text: &str, file: &str, separator: u8) -> Scan {
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
                _ if byte == separator => end_of_field = true,
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
                _ if byte == separator => end_of_field = true,
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
                _ if byte == separator => end_of_field = true,
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
fn read_records(file: &str, text: &str, scan: &Scan, separator: u8) -> Result<RawTable, InputError> {
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
        .map_parse_options(|options| options.with_separator(separator))
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
    // Each cell moves from its column into its row: no second copy.
    let mut columns: Vec<std::vec::IntoIter<Option<String>>> =
        cells_by_column.into_iter().map(Vec::into_iter).collect();
    let rows = data_lines
        .iter()
        .map(|line| RawRow {
            line: *line,
            cells: columns.iter_mut().map(|cells| cells.next().flatten()).collect(),
        })
        .collect();
    Ok(RawTable {
        file: file.to_string(),
        header_line: scan.records[0].line,
        columns: scan.header.clone(),
        rows,
        decimal_comma: false,
    })
}

pub use frame::{csv_bytes, parquet_as_csv, parquet_bytes};
pub use outputs::TableFormat;

/// The marker file written into every output folder symbiose owns (and
/// into a folder of user files that `catalogue` or `generate` wrote
/// into). For those two commands, whose file names are also a user's
/// inventory files, it lists each file written with a hash of its bytes,
/// so that a file the user wrote or edited since is told from symbiose's.
pub const OUTPUT_MARKER: &str = ".symbiose-output";

/// Test-only: milliseconds to sleep after each step of a write, so that the
/// kill test (tests/it/kill.rs) can interrupt a write at many moments. Not
/// for users: it only slows writes down.
pub const TEST_WRITE_DELAY_VARIABLE: &str = "SYMBIOSE_TEST_WRITE_DELAY_MS";

fn test_write_delay() {
    if let Some(ms) = std::env::var(TEST_WRITE_DELAY_VARIABLE)
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// How a set of outputs reached its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The folder was built complete under a staging name beside it and
    /// swapped into place: it is the previous set or the new one, never a mix.
    WholeFolder,
    /// The folder holds files symbiose does not write: each output was
    /// renamed over its name, `summary.json` last.
    FileByFile,
}

/// Why a set of outputs was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// `catalogue` or `generate` would replace files of the names it
    /// writes that symbiose did not write (or that were edited since);
    /// nothing was written.
    #[error(
        "{} holds {} that symbiose did not write: {}; nothing was written (move {} away, choose another --out, or give --force to replace {})",
        .dir.display(),
        if .files.len() == 1 { "a file" } else { "files" },
        .files.join(", "),
        if .files.len() == 1 { "it" } else { "them" },
        if .files.len() == 1 { "it" } else { "them" }
    )]
    NotWrittenBySymbiose { dir: PathBuf, files: Vec<String> },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// An advisory lock on an output folder: the file `.NAME.symbiose-lock`
/// beside the folder (in its parent, so that swapping the folder does not
/// move it), locked with `flock` and holding the process id. A command
/// takes it before it solves and keeps it until its set is written, so
/// that two runs into one folder cannot mix their files; the second is
/// told which process holds the folder. Dropping the lock removes the file.
#[derive(Debug)]
pub struct OutputLock {
    /// The output folder as the user named it (written through, link or not).
    dir: PathBuf,
    path: PathBuf,
    _file: fs::File,
    /// Parent folders created to hold the lock, deepest first: removed
    /// again when the lock is dropped if they are still empty (a run that
    /// failed before writing leaves no trace).
    created: Vec<PathBuf>,
}

impl OutputLock {
    /// The output folder this lock is for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened the file meanwhile
        // sees that it no longer names the lock and opens the new one.
        let _ = fs::remove_file(&self.path);
        for folder in &self.created {
            // Fails, as it should, once the folder holds the outputs.
            let _ = fs::remove_dir(folder);
        }
    }
}

/// Why an output folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another symbiose run{} is writing into {}: wait for it to finish or choose another --out",
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        .dir.display()
    )]
    Busy { dir: PathBuf, pid: Option<u32> },
    #[error("cannot write beside {} ({}): {source}", .dir.display(), .path.display())]
    Io {
        dir: PathBuf,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lock file inside an existing output folder whose parent cannot be
/// written (then the folder is written file by file anyway).
pub const INNER_LOCK: &str = ".symbiose-lock";

/// Takes the lock of the output folder `dir` (see [`OutputLock`]),
/// creating `dir`'s parent folders if needed. Fails at once, without
/// waiting, when another process holds it; also fails when neither the
/// parent folder nor an existing `dir` can be written, so that this is
/// found before solving.
pub fn lock_output(dir: &Path) -> Result<OutputLock, LockError> {
    let io_error = |path: &Path, source: std::io::Error| LockError::Io {
        dir: dir.to_path_buf(),
        path: path.to_path_buf(),
        source,
    };
    let (mut path, created) = lock_path(dir).map_err(|e| io_error(dir, e))?;
    let open = |path: &Path| {
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    };
    loop {
        let mut file = match open(&path) {
            Ok(file) => file,
            // A parent folder the user may not write in: the lock goes
            // inside the folder (every run of that user makes the same choice).
            Err(error) if cannot_move_here(&error) && dir.is_dir() && !path.ends_with(INNER_LOCK) => {
                path = dir.join(INNER_LOCK);
                continue;
            }
            Err(error) => return Err(io_error(&path, error)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let pid = fs::read_to_string(&path).ok().and_then(|text| text.trim().parse().ok());
                return Err(LockError::Busy {
                    dir: dir.to_path_buf(),
                    pid,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error(&path, e)),
        }
        // The run that held the lock may have removed the file after it
        // was opened here: then this lock is on a file no other run sees.
        if !same_file(&file, &path) {
            continue;
        }
        file.set_len(0).map_err(|e| io_error(&path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| io_error(&path, e))?;
        return Ok(OutputLock {
            dir: dir.to_path_buf(),
            path,
            _file: file,
            created,
        });
    }
}

/// `.NAME.symbiose-lock` beside the folder `dir` really is (links and
/// `..` resolved, so every way of naming a folder gives the same lock).
/// Also returns the parent folders it had to create, deepest first.
fn lock_path(dir: &Path) -> std::io::Result<(PathBuf, Vec<PathBuf>)> {
    let mut created = Vec::new();
    let real = match fs::canonicalize(dir) {
        Ok(real) => real,
        Err(_) => {
            let (parent, name) = parent_and_name(dir)
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "does not name a folder"))?;
            let mut missing = parent.as_path();
            while !missing.as_os_str().is_empty() && fs::symlink_metadata(missing).is_err() {
                created.push(missing.to_path_buf());
                match missing.parent() {
                    Some(up) => missing = up,
                    None => break,
                }
            }
            fs::create_dir_all(&parent)?;
            fs::canonicalize(parent)?.join(name)
        }
    };
    let path = match parent_and_name(&real) {
        Some((parent, name)) => parent.join(format!(".{name}.symbiose-lock")),
        // The root folder has no parent.
        None => real.join(".symbiose-lock"),
    };
    Ok((path, created))
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, path: &Path) -> bool {
    path.exists()
}

/// Refuses an output that would replace one of the command's inputs
/// (`report R --out R/links.csv`, `merge A B --out A`, `optimize INV --out
/// INV`), before anything is written. `output` is the output folder of
/// `family`, or, with `family` `None`, one output file; `inputs` are the
/// files and folders the command reads. Links and `..` are resolved.
pub fn refuse_output_over_inputs(output: &Path, family: Option<Family>, inputs: &[PathBuf]) -> Result<(), String> {
    // An output that does not exist yet replaces nothing.
    let Ok(real_output) = fs::canonicalize(output) else {
        return Ok(());
    };
    let family_names = family.map(Family::files).unwrap_or_default();
    for input in inputs {
        let Ok(real_input) = fs::canonicalize(input) else {
            continue;
        };
        let what = if family.is_some() {
            "output folder"
        } else {
            "output file"
        };
        if real_input == real_output {
            // Named as the input too when the user spelt it otherwise.
            let spelt = if input == output {
                String::new()
            } else {
                format!(" ({})", input.display())
            };
            return Err(format!(
                "the {what} {} is one of the command's inputs{spelt}: choose another --out",
                output.display()
            ));
        }
        // A file read from the output folder under a name the command writes.
        let replaced = real_input.parent() == Some(real_output.as_path())
            && real_input
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| family_names.contains(&name));
        if replaced && real_input.is_file() {
            return Err(format!(
                "the output folder {} holds {}, one of the command's inputs, which the outputs would replace: choose another --out",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// The files symbiose wrote into a folder, as its [`OUTPUT_MARKER`] lists
/// them: (hash of the bytes, name).
#[derive(Debug, Default, Clone)]
struct Manifest {
    entries: Vec<(u64, String)>,
}

impl Manifest {
    fn read(dir: &Path) -> Manifest {
        let text = fs::read_to_string(dir.join(OUTPUT_MARKER)).unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|line| {
                let (hash, name) = line.split_once("  ")?;
                Some((u64::from_str_radix(hash, 16).ok()?, name.to_string()))
            })
            .collect();
        Manifest { entries }
    }

    fn of(files: &[(String, Vec<u8>)]) -> Manifest {
        Manifest {
            entries: files.iter().map(|(name, bytes)| (fnv1a(bytes), name.clone())).collect(),
        }
    }

    /// Whether symbiose wrote these bytes under this name.
    fn lists(&self, name: &str, bytes: &[u8]) -> bool {
        let hash = fnv1a(bytes);
        self.entries.iter().any(|(h, n)| *h == hash && n == name)
    }

    /// These entries with the family's replaced by `files`' (keeping the
    /// family's old ones too when `keep_old`, for the moment between
    /// renames).
    fn updated(&self, family: Family, files: &[(String, Vec<u8>)], keep_old: bool) -> Manifest {
        let names = family.files();
        let mut entries: Vec<(u64, String)> = self
            .entries
            .iter()
            .filter(|(_, name)| keep_old || !names.contains(&name.as_str()))
            .cloned()
            .chain(Manifest::of(files).entries)
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        entries.dedup();
        Manifest { entries }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut text = format!(
            "This folder holds files that symbiose {} wrote, listed below with a hash\n\
             of their bytes. A run of the same command into this folder replaces them\n\
             and keeps files of other names. A catalogue or generate run replaces a file\n\
             of its names only if its bytes still match the hash, unless given --force.\n\n",
            env!("CARGO_PKG_VERSION")
        );
        for (hash, name) in &self.entries {
            text += &format!("{hash:016x}  {name}\n");
        }
        text.into_bytes()
    }
}

/// 64-bit FNV-1a: tells a file symbiose wrote from one edited since (not
/// a defence against anyone forging a file).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Files of `family`'s names in `dir` that symbiose did not write, for a
/// family whose names are also a user's file names.
fn files_not_written_by_symbiose(dir: &Path, family: Family) -> std::io::Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let manifest = Manifest::read(dir);
    let mut foreign = Vec::new();
    for name in family.files() {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                if !manifest.lists(name, &fs::read(&path)?) {
                    foreign.push(name.to_string());
                }
            }
            Ok(_) => foreign.push(name.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(foreign)
}

/// Writes a set of output files of `family` into the locked folder so that
/// a reader, or a run killed at any moment, never leaves a mix of old and
/// new files, nor a mix of two runs' sets.
///
/// Every name must be one of [`Family::files`]. For a family whose names a
/// user's files may have (`catalogue`, `generate`), files of those names
/// that symbiose did not write, or that were edited since, are refused
/// unless `force`.
///
/// When the folder does not exist, or holds nothing but an earlier output
/// of the same family (its files, the [`OUTPUT_MARKER`], temporary files of
/// killed runs), the whole set is written and fsynced into a fresh staging
/// folder beside it (same parent, so renames are atomic), then swapped in:
/// renamed into place, or exchanged with the old folder in one step
/// (`renameat2(RENAME_EXCHANGE)` on Linux; elsewhere the old folder is
/// renamed to a backup name, the staging folder into place, and the backup
/// deleted). What a kill leaves: the previous complete folder (or none,
/// when there was none) or the new complete one, plus a leftover staging
/// or backup folder that the next write into the same folder deletes or,
/// for a backup whose folder is missing, renames back.
///
/// When the folder holds other files, those are kept: each output goes to
/// a temporary file in the folder, is fsynced, then renamed over its name;
/// files of the family's names that this set does not have (an earlier
/// run's) are removed; `summary.json` is removed first and renamed last,
/// so its presence means the whole set is complete.
pub fn write_outputs_atomically(
    lock: &OutputLock,
    family: Family,
    files: &[(String, Vec<u8>)],
    force: bool,
) -> Result<WriteMode, WriteError> {
    let dir = lock.dir();
    let names = family.files();
    if let Some((name, _)) = files.iter().find(|(name, _)| !names.contains(&name.as_str())) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{name} is not a file that {} writes (outputs::Family::files)",
                family.command()
            ),
        )
        .into());
    }
    if family.names_user_files() && !force {
        let foreign = files_not_written_by_symbiose(dir, family)?;
        if !foreign.is_empty() {
            return Err(WriteError::NotWrittenBySymbiose {
                dir: dir.to_path_buf(),
                files: foreign,
            });
        }
    }
    Ok(write_set(dir, family, files)?)
}

fn write_set(dir: &Path, family: Family, files: &[(String, Vec<u8>)]) -> std::io::Result<WriteMode> {
    let Some((parent, name)) = parent_and_name(dir) else {
        write_file_by_file(dir, family, files)?;
        return Ok(WriteMode::FileByFile);
    };
    fs::create_dir_all(&parent)?;
    recover_interrupted_writes(&parent, &name)?;
    let exists = match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            if !holds_only_outputs_of(dir, family)? {
                write_file_by_file(dir, family, files)?;
                return Ok(WriteMode::FileByFile);
            }
            true
        }
        // A link to a folder: write through it, keeping the link.
        Ok(meta) if meta.file_type().is_symlink() && dir.is_dir() => {
            write_file_by_file(dir, family, files)?;
            return Ok(WriteMode::FileByFile);
        }
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a folder", dir.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    let pid = std::process::id();
    let staging = parent.join(leftover_name(&name, LeftoverKind::Staging, pid));
    // Ok(false): the folder cannot be moved (a mount point, or a parent
    // folder the user may not write in) and nothing was changed.
    let result = (|| -> std::io::Result<bool> {
        if let Err(error) = fs::create_dir(&staging) {
            return if exists && cannot_move_here(&error) {
                Ok(false)
            } else {
                Err(error)
            };
        }
        // Only a family whose names a user's files have needs the hashes;
        // the others' marker stays the same from run to run.
        let manifest = if family.names_user_files() {
            Manifest::of(files)
        } else {
            Manifest::default()
        };
        let marker_entry = (OUTPUT_MARKER.to_string(), manifest.bytes());
        for (file, bytes) in files.iter().chain(std::iter::once(&marker_entry)) {
            let mut handle = fs::File::create(staging.join(file))?;
            handle.write_all(bytes)?;
            handle.sync_all()?;
            test_write_delay();
        }
        sync_folder(&staging)?;
        if exists {
            return swap_folders(&parent, &name, &staging, dir, pid);
        }
        fs::rename(&staging, dir)?;
        test_write_delay();
        sync_folder(&parent)?;
        Ok(true)
    })();
    if !matches!(result, Ok(true)) && staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    match result? {
        true => Ok(WriteMode::WholeFolder),
        false => {
            write_file_by_file(dir, family, files)?;
            Ok(WriteMode::FileByFile)
        }
    }
}

/// Errors that say a folder cannot be created or moved here, rather than
/// that something went wrong: then the outputs go file by file.
fn cannot_move_here(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::PermissionDenied
            | ErrorKind::CrossesDevices
            | ErrorKind::ResourceBusy
            | ErrorKind::ReadOnlyFilesystem
    )
}

/// Writes one file `name` into the locked folder (which may hold anything)
/// so that readers see the old version or the new one: a temporary file
/// beside it, fsynced, renamed over it.
pub fn write_file_atomically(lock: &OutputLock, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = lock.dir();
    fs::create_dir_all(dir)?;
    clean_abandoned_temporaries(dir, &[name])?;
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, dir.join(name))?;
        sync_folder(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// `dir` as (parent folder, own name), `None` for a path such as `.` or `/`
/// that names no folder of its own.
fn parent_and_name(dir: &Path) -> Option<(PathBuf, String)> {
    let name = dir.file_name()?.to_str()?.to_string();
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LeftoverKind {
    Staging,
    Backup,
}

/// `.NAME.symbiose-staging-PID` or `.NAME.symbiose-backup-PID`, beside the folder.
fn leftover_name(name: &str, kind: LeftoverKind, pid: u32) -> String {
    let kind = match kind {
        LeftoverKind::Staging => "staging",
        LeftoverKind::Backup => "backup",
    };
    format!(".{name}.symbiose-{kind}-{pid}")
}

/// Staging and backup folders that runs writing into `parent/name` left
/// behind when they were killed: (kind, pid, path).
fn leftovers(parent: &Path, name: &str) -> std::io::Result<Vec<(LeftoverKind, u32, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(parent)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&format!(".{name}.symbiose-")))
        else {
            continue;
        };
        let (kind, pid) = if let Some(pid) = rest.strip_prefix("staging-") {
            (LeftoverKind::Staging, pid)
        } else if let Some(pid) = rest.strip_prefix("backup-") {
            (LeftoverKind::Backup, pid)
        } else {
            continue;
        };
        if let Ok(pid) = pid.parse::<u32>() {
            found.push((kind, pid, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Whether another process with this id is running (then its staging
/// folder is in use). Only Linux can tell cheaply; elsewhere every other
/// process's leftovers are taken as abandoned.
fn process_is_running(pid: u32) -> bool {
    pid != std::process::id() && cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

/// Cleans up after runs killed while writing into `parent/name`: a backup
/// whose folder is missing (killed between the two renames of a swap) is
/// renamed back, being the previous complete set; other leftovers are
/// deleted. Leftovers of a running process are left alone.
fn recover_interrupted_writes(parent: &Path, name: &str) -> std::io::Result<()> {
    let dir = parent.join(name);
    for (kind, pid, path) in leftovers(parent, name)? {
        if process_is_running(pid) {
            continue;
        }
        if kind == LeftoverKind::Backup && fs::symlink_metadata(&dir).is_err() {
            fs::rename(&path, &dir)?;
        } else {
            fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

/// Whether every entry of `dir` is a file of `family`, the marker, or a
/// temporary file of an interrupted write.
fn holds_only_outputs_of(dir: &Path, family: Family) -> std::io::Result<bool> {
    let names = family.files();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            return Ok(false);
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Ok(false);
        };
        let temporary = name.starts_with('.') && name.contains(".tmp-");
        if !(name == OUTPUT_MARKER || name == INNER_LOCK || temporary || names.contains(&name)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Puts the complete `staging` folder in the place of the existing `dir`.
fn swap_folders(parent: &Path, name: &str, staging: &Path, dir: &Path, pid: u32) -> std::io::Result<bool> {
    match exchange(staging, dir) {
        Ok(true) => {
            // `staging` now holds the previous set; what cannot be deleted
            // now, the next write into the folder deletes.
            test_write_delay();
            sync_folder(parent)?;
            let _ = fs::remove_dir_all(staging);
            return Ok(true);
        }
        Ok(false) => {}
        Err(error) if cannot_move_here(&error) => return Ok(false),
        Err(error) => return Err(error),
    }
    let backup = parent.join(leftover_name(name, LeftoverKind::Backup, pid));
    match fs::rename(dir, &backup) {
        Ok(()) => {}
        Err(error) if cannot_move_here(&error) => return Ok(false),
        Err(error) => return Err(error),
    }
    test_write_delay();
    if let Err(error) = fs::rename(staging, dir) {
        // Put the previous set back.
        let _ = fs::rename(&backup, dir);
        return Err(error);
    }
    test_write_delay();
    sync_folder(parent)?;
    let _ = fs::remove_dir_all(&backup);
    Ok(true)
}

/// Swaps two paths in one atomic step; `Ok(false)` where the system or the
/// file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let to_c = |path: &Path| {
        CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (a, b) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        // Not supported by this kernel or file system: fall back to two renames.
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Flushes a folder's entries (new names, renames) to disk.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporary files that killed runs left in `dir` for these names.
fn clean_abandoned_temporaries(dir: &Path, names: &[&str]) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let abandoned = names.iter().any(|name| {
            file_name
                .strip_prefix(&format!(".{name}.tmp-"))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !process_is_running(pid))
        });
        if abandoned {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Writes `bytes` as `dir/name` through a temporary file, fsynced, renamed.
fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, dir.join(name))
}

/// Each file to a temporary name in `dir`, fsynced, then renamed over its
/// name; `summary.json` removed first and renamed last. Files of the
/// family's names that the set does not have are an earlier run's and are
/// removed (for `catalogue` and `generate`, only those the marker says
/// symbiose wrote), so the folder never mixes two runs' sets.
fn write_file_by_file(dir: &Path, family: Family, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let names = family.files();
    let with_marker: Vec<&str> = names.iter().copied().chain([OUTPUT_MARKER]).collect();
    clean_abandoned_temporaries(dir, &with_marker)?;
    let manifest = Manifest::read(dir);
    let mut stale = Vec::new();
    for name in names
        .iter()
        .filter(|name| !files.iter().any(|(file, _)| file.as_str() == **name))
    {
        let path = dir.join(name);
        if !fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
            continue;
        }
        if !family.names_user_files() || manifest.lists(name, &fs::read(&path)?) {
            stale.push(path);
        }
    }
    let mut staged = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, bytes) in files {
            let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            let mut file = fs::File::create(&temporary)?;
            staged.push((temporary.clone(), dir.join(name)));
            file.write_all(bytes)?;
            file.sync_all()?;
            test_write_delay();
        }
        let marker = dir.join(SUMMARY);
        if staged.iter().any(|(_, target)| *target == marker) && marker.exists() {
            fs::remove_file(&marker)?;
        }
        for path in &stale {
            fs::remove_file(path)?;
            test_write_delay();
        }
        if family.names_user_files() {
            // Until every file is renamed, both the old bytes and the new
            // are symbiose's.
            replace_file(dir, OUTPUT_MARKER, &manifest.updated(family, files, true).bytes())?;
        }
        staged.sort_by_key(|(_, target)| *target == marker);
        for (temporary, target) in &staged {
            fs::rename(temporary, target)?;
            test_write_delay();
        }
        if family.names_user_files() {
            replace_file(dir, OUTPUT_MARKER, &manifest.updated(family, files, false).bytes())?;
        }
        sync_folder(dir)
    })();
    if result.is_err() {
        for (temporary, _) in &staged {
            let _ = fs::remove_file(temporary);
        }
    }
    result
}

/// The embedded default catalogue as editable files (name, bytes), for
/// `symbiose catalogue`.
pub fn catalogue_files() -> Vec<(String, Vec<u8>)> {
    DEFAULT_CATALOGUE
        .iter()
        .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_files_are_the_files_read() {
        let mut read = vec!["firms.csv", "flows.csv", "distances.csv"];
        read.extend(CATALOGUE_FILES);
        read.extend(PART_B_FILES);
        assert_eq!(read, INVENTORY_FILES.to_vec());
    }

    #[test]
    fn files_not_read_are_named_with_the_nearest_known_name() {
        assert_eq!(edit_distance("impact.csv", "impacts.csv"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        let message = |name| not_read_message(name, &INVENTORY_FILES, "file");
        assert_eq!(
            message("impact.csv"),
            "ignored: symbiose reads no file of this name (did you mean impacts.csv?)"
        );
        assert_eq!(
            message("Routes.csv"),
            "ignored: file names are case-sensitive (rename it routes.csv)"
        );
        assert_eq!(
            message("externality.csv"),
            "ignored: symbiose reads no file of this name (did you mean externalities.csv?)"
        );
        assert_eq!(
            message("firms.xlsx"),
            "ignored: symbiose reads firms.csv, a CSV UTF-8 file, not this format"
        );
        assert!(message("data.csv").contains("(it reads firms.csv, flows.csv, distances.csv, resources.csv"));
        for quiet in [
            "SOURCES.md",
            "README",
            "notes.txt",
            ".gitkeep",
            "~$firms.xlsx",
            "what-if.toml",
        ] {
            assert!(is_quietly_ignored(quiet), "{quiet}");
        }
        for loud in ["impact.csv", "sources.csv", "flows.csv.bak", "firms.xlsx"] {
            assert!(!is_quietly_ignored(loud), "{loud}");
        }
    }

    #[test]
    fn excel_column_letters() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702].map(column_letters).to_vec();
        assert_eq!(letters, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn sheets_match_ignoring_case_unless_ambiguous() {
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let sheets = names(&["Firms", "FLOWS", "notes"]);
        assert_eq!(find_sheet("b.xlsx", &sheets, "firms").unwrap(), Some("Firms"));
        assert_eq!(find_sheet("b.xlsx", &sheets, "flows").unwrap(), Some("FLOWS"));
        assert_eq!(find_sheet("b.xlsx", &sheets, "routes").unwrap(), None);
        let both = names(&["Firms", "firms"]);
        assert_eq!(find_sheet("b.xlsx", &both, "firms").unwrap(), Some("firms"));
        let error = find_sheet("b.xlsx", &names(&["Firms", "FIRMS"]), "firms").unwrap_err();
        assert_eq!(
            error.message,
            "several sheets are named firms ignoring case: Firms, FIRMS"
        );
    }

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
        // Semicolons are detected (French Excel); forced commas name them.
        let mut errors = parse_csv_with(
            "t.csv",
            b"\na;b\n1;2\n",
            CsvDialect {
                separator: Some(b','),
                decimal_comma: None,
            },
        )
        .unwrap_err();
        let error = errors.remove(0);
        assert_eq!(
            (error.line, error.message.as_str()),
            (Some(2), "the columns are separated by semicolons, not commas")
        );
        assert!(only_error(b"a\tb\n1\t2\n").message.contains("tabs"));
    }

    #[test]
    fn french_excel_csv_is_read_with_decimal_commas() {
        let table = parse_csv("t.csv", "\u{feff}id;name;q\r\n1;\"a; b\";12,5\r\n".as_bytes()).unwrap();
        assert_eq!(table.columns, vec!["id", "name", "q"]);
        assert!(table.decimal_comma);
        assert_eq!(table.rows[0].cells[1].as_deref(), Some("a; b"));
        assert_eq!(table.rows[0].cells[2].as_deref(), Some("12,5"));
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

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    /// Writes a set of `optimize`'s files (or a sweep's), holding the lock.
    fn write(out: &Path, files: &[(String, Vec<u8>)]) -> Result<WriteMode, WriteError> {
        let family = if files.iter().any(|(name, _)| name.starts_with("sweep")) {
            Family::Sweep
        } else {
            Family::Results
        };
        write_outputs_atomically(&lock_output(out).unwrap(), family, files, false)
    }

    fn set(names: &[&str], content: &str) -> Vec<(String, Vec<u8>)> {
        names
            .iter()
            .map(|name| (name.to_string(), content.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn an_output_folder_is_created_whole_with_its_marker_and_nothing_left_beside_it() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::WholeFolder);
        assert_eq!(names_in(&out), vec![OUTPUT_MARKER, "links.csv", "summary.json"]);
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn an_earlier_output_of_the_same_kind_is_replaced_whole() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        write(&out, &set(&["links.csv", "summary.json", "report.html"], "old")).unwrap();
        // A temporary file of an interrupted file-by-file write is ours too.
        fs::write(out.join(".links.csv.tmp-12"), "partial").unwrap();
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::WholeFolder);
        // The stale report.html, which no longer matches the tables, is gone.
        assert_eq!(names_in(&out), vec![OUTPUT_MARKER, "links.csv", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("links.csv")).unwrap(), "new");
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn a_folder_with_other_files_keeps_them_and_is_written_file_by_file() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(out.join("summary.json"), "old").unwrap();
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::FileByFile);
        assert_eq!(names_in(&out), vec!["links.csv", "notes.txt", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "new");
        // Another command's outputs are other files too: a sweep does not
        // wipe the tables of an optimize run.
        let mode = write(&out, &set(&["sweep.csv"], "sweep")).unwrap();
        assert_eq!(mode, WriteMode::FileByFile);
        assert!(out.join("links.csv").exists());
    }

    #[test]
    fn a_folder_of_user_files_loses_the_earlier_runs_files_that_the_new_set_lacks() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let first = ["summary.json", "links.csv", "services.csv", "report.html"];
        assert_eq!(write(&out, &set(&first, "old")).unwrap(), WriteMode::FileByFile);
        fs::write(out.join("sweep.csv"), "another command's").unwrap();
        write(&out, &set(&["summary.json", "links.parquet"], "new")).unwrap();
        // The first run's CSV table, Part B table and report are gone; the
        // user's file and another family's file stay.
        assert_eq!(
            names_in(&out),
            vec!["links.parquet", "notes.txt", "summary.json", "sweep.csv"]
        );
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn a_name_outside_the_registry_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let error = write(&out, &set(&["summary.json", "extra.csv"], "x")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("extra.csv is not a file that optimize writes"),
            "{error}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn catalogue_files_replace_only_what_symbiose_wrote_unless_forced() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("inventory");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("firms.csv"), "the user's").unwrap();
        fs::write(out.join("routes.csv"), "the user's routes").unwrap();
        let write_catalogue = |force: bool| {
            write_outputs_atomically(
                &lock_output(&out).unwrap(),
                Family::Catalogue,
                &catalogue_files(),
                force,
            )
        };
        match write_catalogue(false) {
            Err(WriteError::NotWrittenBySymbiose { files, .. }) => assert_eq!(files, vec!["routes.csv"]),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(names_in(&out), vec!["firms.csv", "routes.csv"]);
        assert_eq!(fs::read_to_string(out.join("routes.csv")).unwrap(), "the user's routes");
        write_catalogue(true).unwrap();
        assert!(names_in(&out).contains(&"resources.csv".to_string()));
        assert_eq!(fs::read_to_string(out.join("firms.csv")).unwrap(), "the user's");
        // What symbiose wrote it may replace again; a file edited since, not.
        write_catalogue(false).unwrap();
        fs::write(out.join("impacts.csv"), "edited").unwrap();
        match write_catalogue(false) {
            Err(WriteError::NotWrittenBySymbiose { files, .. }) => assert_eq!(files, vec!["impacts.csv"]),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(out.join("impacts.csv")).unwrap(), "edited");
        // A folder of its own is replaced whole, run after run.
        let own = work.path().join("catalogue");
        for _ in 0..2 {
            let mode = write_outputs_atomically(
                &lock_output(&own).unwrap(),
                Family::Catalogue,
                &catalogue_files(),
                false,
            );
            assert_eq!(mode.unwrap(), WriteMode::WholeFolder);
        }
    }

    #[test]
    fn a_locked_folder_is_refused_with_the_holders_pid_and_free_again_once_dropped() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let lock = lock_output(&out).unwrap();
        assert_eq!(names_in(work.path()), vec![".res.symbiose-lock"]);
        // Another open file description, as another process would have;
        // another spelling of the same folder gives the same lock.
        match lock_output(&work.path().join(".").join("res")) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected busy, got {other:?}"),
        }
        drop(lock);
        assert!(names_in(work.path()).is_empty());
        drop(lock_output(&out).unwrap());
    }

    #[test]
    fn an_output_over_an_input_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let results = work.path().join("res");
        fs::create_dir(&results).unwrap();
        fs::write(results.join("links.csv"), "a,b\n").unwrap();
        let inputs = [results.clone(), results.join("links.csv"), results.join("summary.json")];
        let error = refuse_output_over_inputs(&results.join("links.csv"), None, &inputs).unwrap_err();
        assert!(error.contains("is one of the command's inputs"), "{error}");
        // The default page beside the tables replaces none of them.
        refuse_output_over_inputs(&results.join("report.html"), None, &inputs).unwrap();
        let error = refuse_output_over_inputs(&work.path().join("res/../res"), Some(Family::Sweep), &inputs);
        assert!(error.is_err());
        // A folder holding an input under a name of the outputs.
        let error = refuse_output_over_inputs(work.path(), Some(Family::Results), &[results.join("links.csv")]);
        assert!(error.is_ok(), "links.csv is one level down");
        fs::write(work.path().join("sweep.csv"), "x").unwrap();
        let error = refuse_output_over_inputs(work.path(), Some(Family::Sweep), &[work.path().join("sweep.csv")]);
        assert!(error.unwrap_err().contains("which the outputs would replace"));
    }

    #[test]
    fn leftovers_of_killed_writes_are_cleaned_or_recovered() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        // No process has an id above the kernel's maximum (2^22).
        let dead = 4_194_305;
        let staging = work.path().join(leftover_name("res", LeftoverKind::Staging, dead));
        let backup = work.path().join(leftover_name("res", LeftoverKind::Backup, dead));
        for folder in [&staging, &backup] {
            fs::create_dir(folder).unwrap();
            fs::write(folder.join("summary.json"), "previous").unwrap();
        }
        // Killed between the two renames of a swap: the folder is missing
        // and the backup holds the previous complete set.
        recover_interrupted_writes(work.path(), "res").unwrap();
        assert_eq!(names_in(work.path()), vec!["res"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "previous");
        // With the folder present, a backup is stale and deleted.
        fs::create_dir(&backup).unwrap();
        write(&out, &set(&["summary.json"], "new")).unwrap();
        assert_eq!(names_in(work.path()), vec!["res"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "new");
        // Another folder's leftovers are not touched.
        let other = work.path().join(leftover_name("other", LeftoverKind::Staging, dead));
        fs::create_dir(&other).unwrap();
        write(&out, &set(&["summary.json"], "again")).unwrap();
        assert!(other.exists());
    }

    #[test]
    fn a_file_in_the_place_of_the_folder_is_an_error() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::write(&out, "a file").unwrap();
        assert!(write(&out, &set(&["summary.json"], "new")).is_err());
        assert_eq!(fs::read_to_string(&out).unwrap(), "a file");
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_folder_is_written_through_the_link() {
        let work = tempfile::tempdir().unwrap();
        let target = work.path().join("target");
        fs::create_dir(&target).unwrap();
        let link = work.path().join("res");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, &set(&["summary.json"], "new")).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(target.join("summary.json")).unwrap(), "new");
    }

    #[test]
    fn one_file_is_replaced_without_touching_its_folder() {
        let work = tempfile::tempdir().unwrap();
        fs::write(work.path().join("mine.txt"), "mine").unwrap();
        let lock = lock_output(work.path()).unwrap();
        write_file_atomically(&lock, "report.html", b"page").unwrap();
        drop(lock);
        assert_eq!(names_in(work.path()), vec!["mine.txt", "report.html"]);
    }

    #[test]
    fn header_only_gives_no_rows() {
        let table = parse_csv("t.csv", b"a,b\n").unwrap();
        assert_eq!(table.columns, vec!["a", "b"]);
        assert!(table.rows.is_empty());
    }
}
