//! Where an inventory comes from and how all its tables are read: a folder
//! of CSV files, an xlsx workbook, or the Dunkirk example and the default
//! catalogue embedded in the binary. [`load_inventory`] reads every table
//! and hands them to the loader (`model::build`).
//!
//! Invariant: one run reports every problem. A file that cannot be read
//! (missing, not a regular file, not CSV text) is marked
//! [`TableFile::Unreadable`] and the other files are still read. Only
//! regular files are opened (reading a FIFO would wait for a writer).

use std::fs;
use std::path::{Path, PathBuf};

use super::scan::{parse_csv, parse_csv_with, CsvDialect};
use super::unread::{unread_file_warnings, unread_sheet_warnings};
use super::xlsx::{find_sheet, read_sheet};
use crate::model::build::CatalogueTables;
use crate::model::table::{counted, sort_errors, TableFile};
use crate::model::{build_inventory, InputError, InputWarning, Inventory, InventoryTables, RawTable};

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
    (UNCERTAINTY_FILE, include_str!("../../data/dunkirk/uncertainty.csv")),
];

/// The optional table of uncertain parameters (docs/model.md D9): read by
/// `uncertainty` and checked by `validate`, never by the loader, so that it
/// changes no result of `optimize`.
pub const UNCERTAINTY_FILE: &str = "uncertainty.csv";

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
    /// Tables already in memory (the Python package's data frames), each
    /// named like its file (`firms.csv`, ...) in [`RawTable::file`]'s
    /// place of origin: `(file name, table)`; a file not listed is absent.
    Tables(std::sync::Arc<Vec<(String, RawTable)>>),
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
            InventorySource::Tables(_) => "data frames".to_string(),
        }
    }

    /// The in-memory table named `file`, if this source holds tables.
    fn table(&self, file: &str) -> Option<RawTable> {
        match self {
            InventorySource::Tables(tables) => tables
                .iter()
                .find(|(name, _)| name == file)
                .map(|(_, table)| table.clone()),
            _ => None,
        }
    }
}

/// Why an inventory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{} in the inventory", counted(.errors.len(), "problem", "problems"))]
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
pub const INVENTORY_FILES: [&str; 13] = [
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
    UNCERTAINTY_FILE,
];

/// The inventory's uncertainty.csv (its `uncertainty` sheet in a
/// workbook) as a raw table: `Ok(None)` when there is none; the problems
/// that stop it from being read (not a regular file, not CSV text, ragged
/// rows) otherwise, located like every input file's.
pub fn read_uncertainty_table(
    source: &InventorySource,
    dialect: CsvDialect,
) -> Result<Option<RawTable>, Vec<InputError>> {
    match source {
        InventorySource::BundledDunkirk => BUNDLED_DUNKIRK
            .iter()
            .find(|(file, _)| *file == UNCERTAINTY_FILE)
            .map(|(file, text)| parse_csv(&format!("bundled:dunkirk/{file}"), text.as_bytes()))
            .transpose(),
        InventorySource::Tables(_) => Ok(source.table(UNCERTAINTY_FILE)),
        InventorySource::Folder(dir) => {
            let path = dir.join(UNCERTAINTY_FILE);
            match read_input_file(&path).map_err(|error| vec![error])? {
                Some(bytes) => parse_csv_with(&path.display().to_string(), &bytes, dialect).map(Some),
                None => Ok(None),
            }
        }
        InventorySource::Workbook(path) => {
            let mut workbook = calamine::open_workbook_auto(path).map_err(|e| {
                vec![InputError::file(
                    &path.display().to_string(),
                    format!("cannot open the workbook: {e}"),
                )]
            })?;
            let sheet_names = calamine::Reader::sheet_names(&workbook);
            let wanted = UNCERTAINTY_FILE.trim_end_matches(".csv");
            match find_sheet(&path.display().to_string(), &sheet_names, wanted).map_err(|error| vec![error])? {
                Some(sheet) => read_sheet(path, &mut workbook, sheet).map(Some),
                None => Ok(None),
            }
        }
    }
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
        InventorySource::BundledDunkirk | InventorySource::Tables(_) => {}
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
            InventorySource::Tables(_) => source.table(name).map(Ok),
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
                        InventorySource::Tables(_) => format!("{} (data frame)", name.trim_end_matches(".csv")),
                    };
                    let hint = match source {
                        InventorySource::Tables(_) => "give at least the firms and flows tables",
                        _ => "an inventory folder holds at least firms.csv and flows.csv",
                    };
                    errors.push(InputError::file(&shown, "required file is missing").with_hint(hint));
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
    // uncertainty.csv is read by `uncertainty` and `validate`
    // (read_uncertainty_table), not here: its sheet is no unread sheet.
    if let Ok(Some(sheet)) = find_sheet("", &sheet_names, UNCERTAINTY_FILE.trim_end_matches(".csv")) {
        sheets_read.push(sheet.to_string());
    }
    match source {
        InventorySource::Folder(dir) => warnings.extend(unread_file_warnings(dir)),
        InventorySource::Workbook(path) => warnings.extend(unread_sheet_warnings(path, &sheet_names, &sheets_read)),
        // The Python package refuses a frame it does not know by name.
        InventorySource::BundledDunkirk | InventorySource::Tables(_) => {}
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
        read.push(UNCERTAINTY_FILE);
        assert_eq!(read, INVENTORY_FILES.to_vec());
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
}
