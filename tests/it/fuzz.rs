//! Fuzzing with proptest (issue 8): nothing the user can put in a file makes
//! symbiose panic, and every problem found is located.
//!
//! - `parse_csv_never_panics_*`: arbitrary bytes, and text built from the
//!   tokens the CSV scanner reacts to (commas, quotes, line ends, BOM, NUL,
//!   invalid UTF-8...), go through `io::parse_csv`.
//! - `mutated_inventories_*`: the hand-solved fixtures of `tests/data` and
//!   the Dunkirk example (with the default catalogue copied in as override
//!   files, so that the catalogue is mutated too) have cells replaced by
//!   random strings, NaN, infinities, huge and tiny numbers, empty cells,
//!   unicode, quotes, commas and line breaks, rows and columns dropped or
//!   duplicated, files dropped. The text goes through `parse_csv` and
//!   `build_inventory`; a valid inventory is solved with
//!   `app::optimize_inventory` and written with `app::optimize_and_write`
//!   into a temporary folder.
//!
//! Every error must name its file; a line unless the problem is the whole
//! file (a known list of such problems); a line within the file; a column
//! from the file's header or its schema.
//!
//! The default case counts keep the suite to seconds. A long session:
//!     PROPTEST_CASES=100000 cargo test --release --test fuzz
//! (with PROPTEST_RNG_SEED=<number> to explore other cases than CI's).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;
use symbiose::app::{optimize_and_write, optimize_inventory, Allocation, Extras};
use symbiose::io::{embedded_catalogue, parse_csv, DEFAULT_CATALOGUE};
use symbiose::model::build::{
    CatalogueTables, DISTANCES_SCHEMA, EXTERNALITIES_SCHEMA, FIRMS_SCHEMA, FLOWS_SCHEMA, IMPACTS_SCHEMA,
    RESOURCES_SCHEMA, ROUTES_SCHEMA, SUBSTITUTIONS_SCHEMA,
};
use symbiose::model::table::{Schema, DOC_COLUMNS};
use symbiose::model::{build_inventory, InputError, InventoryTables, TableFile};
use symbiose::solve::{Objective, SolveOptions};

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default_cases),
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            std::env::var("PROPTEST_RNG_SEED")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(20261208),
        ),
        // Shrinking a case that solves LPs is slow and the failing input is
        // printed anyway.
        max_shrink_iters: 256,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/tests/fuzz.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Problems that concern a whole file, so that they have no line. Any
/// other error must give its line.
const WHOLE_FILE_MESSAGES: &[&str] = &[
    "the file is ",
    "the lines end with a lone carriage return",
    "the CSV reader",
    "required file is missing",
    "more than 4 billion rows",
];

/// Checks that an error is located: its file is one of `files` (display
/// name -> text), its line (if any) within that text, its column (if any)
/// in the header or the schema, and a line whenever the problem is not the
/// whole file.
fn check_located(error: &InputError, files: &HashMap<String, FileInfo>) -> Result<(), TestCaseError> {
    let Some(info) = files.get(&error.file) else {
        return Err(TestCaseError::fail(format!("error names an unknown file: {error}")));
    };
    prop_assert!(!error.message.is_empty(), "empty message: {error:?}");
    match error.line {
        None => {
            prop_assert!(
                WHOLE_FILE_MESSAGES.iter().any(|start| error.message.starts_with(start)),
                "an error without a line that is not about the whole file: {error}"
            );
            prop_assert!(error.column.is_none(), "a column without a line: {error}");
        }
        Some(line) => prop_assert!(
            line >= 1 && line <= info.n_lines,
            "line {line} outside 1..={} of the file: {error}",
            info.n_lines
        ),
    }
    if let Some(column) = &error.column {
        let known =
            info.header.iter().any(|name| name == column) || info.schema_columns.iter().any(|name| name == column);
        prop_assert!(
            known,
            "column {column:?} is neither in the header nor the schema: {error}"
        );
    }
    Ok(())
}

/// What an error about a file may refer to.
struct FileInfo {
    /// Lines of the text, counting a last line without a line break.
    n_lines: usize,
    /// The header as parse_csv read it (empty when the file did not parse).
    header: Vec<String>,
    schema_columns: Vec<String>,
}

fn count_lines(bytes: &[u8]) -> usize {
    1 + bytes.iter().filter(|b| **b == b'\n').count()
}

// ---------------------------------------------------------------------------
// parse_csv on arbitrary bytes

/// Pieces the CSV scanner and the decoder react to.
fn csv_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b";".to_vec()),
        Just(b"a".to_vec()),
        Just(b"id".to_vec()),
        Just(b"12.5".to_vec()),
        Just(b"-1e308".to_vec()),
        Just(b"NaN".to_vec()),
        Just("\u{feff}".as_bytes().to_vec()),
        Just("é日本".as_bytes().to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\xe9".to_vec()),
        Just(b"PK\x03\x04".to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ]
}

fn csv_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(csv_token(), 0..60).prop_map(|tokens| tokens.concat())
}

fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    let name = "fuzz.csv";
    let n_lines = count_lines(bytes);
    match parse_csv(name, bytes) {
        Ok(table) => {
            prop_assert_eq!(&table.file, name);
            prop_assert!(table.header_line >= 1 && table.header_line <= n_lines);
            let mut previous = table.header_line;
            for row in &table.rows {
                prop_assert!(
                    row.line > previous && row.line <= n_lines,
                    "row line {} after {}",
                    row.line,
                    previous
                );
                prop_assert_eq!(row.cells.len(), table.columns.len());
                previous = row.line;
            }
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "an error result without errors");
            let files = HashMap::from([(
                name.to_string(),
                FileInfo {
                    n_lines,
                    header: Vec::new(),
                    schema_columns: Vec::new(),
                },
            )]);
            for error in &errors {
                // parse_csv names columns from the header it read: accept any
                // column here, the inventory test checks them against the header.
                let mut error = error.clone();
                error.column = None;
                check_located(&error, &files)?;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn parse_csv_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_parse(&bytes)?;
    }

    #[test]
    fn parse_csv_never_panics_on_csv_like_text(bytes in csv_like_bytes()) {
        check_parse(&bytes)?;
    }
}

// ---------------------------------------------------------------------------
// Mutated inventories

/// One CSV file as a grid of cells (the header is row 0).
#[derive(Debug, Clone)]
struct Grid {
    name: &'static str,
    rows: Vec<Vec<String>>,
}

/// A base inventory: its files as grids.
#[derive(Debug, Clone)]
struct Base {
    label: String,
    files: Vec<Grid>,
}

/// The Part A files of `symbiose::io::INVENTORY_FILES` (the mutated bases
/// are Part A inventories; Part B files are fuzzed by their own fixtures).
const INVENTORY_FILES: [&str; 8] = [
    "firms.csv",
    "flows.csv",
    "distances.csv",
    "resources.csv",
    "routes.csv",
    "substitutions.csv",
    "impacts.csv",
    "externalities.csv",
];

/// Splits simple CSV (the fixtures quote nothing that holds a comma or a line break).
fn grid(name: &'static str, text: &str) -> Grid {
    let table = parse_csv(name, text.as_bytes()).expect("fixture parses");
    let mut rows = vec![table.columns.clone()];
    rows.extend(
        table
            .rows
            .iter()
            .map(|row| row.cells.iter().map(|c| c.clone().unwrap_or_default()).collect()),
    );
    Grid { name, rows }
}

#[test]
fn the_fuzzed_files_are_the_part_a_files_the_loader_reads() {
    assert_eq!(INVENTORY_FILES[..], symbiose::io::INVENTORY_FILES[..8]);
}

fn load_base(dir: &Path, label: &str) -> Base {
    let files = INVENTORY_FILES
        .iter()
        .filter_map(|name| {
            let text = fs::read_to_string(dir.join(name)).ok()?;
            Some(grid(name, &text))
        })
        .collect();
    Base {
        label: label.to_string(),
        files,
    }
}

fn bases() -> Vec<Base> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut bases: Vec<Base> = [
        "distance_override",
        "lexicographic",
        "max_distance",
        "negative_credit",
        "quality_threshold",
        "split_by_distance",
        "substitution_ratio",
        "zero_quantity",
    ]
    .iter()
    .map(|name| load_base(&root.join("tests/data").join(name), name))
    .collect();
    // Dunkirk with the default catalogue as override files.
    let mut dunkirk = load_base(&root.join("data/dunkirk"), "dunkirk");
    for (name, text) in DEFAULT_CATALOGUE.iter().filter(|(name, _)| name.ends_with(".csv")) {
        let name = INVENTORY_FILES
            .iter()
            .find(|known| *known == name)
            .expect("a catalogue file name");
        dunkirk.files.push(grid(name, text));
    }
    bases.push(dunkirk);
    bases
}

/// Values that break parsers and checks.
fn nasty_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("NaN".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("infinity".to_string()),
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just("1.7976931348623157e308".to_string()),
        Just("1e309".to_string()),
        Just("1e-308".to_string()),
        Just("5e-324".to_string()),
        Just("1e-320".to_string()),
        Just("0".to_string()),
        Just("-0".to_string()),
        Just("1e15".to_string()),
        Just("1e-15".to_string()),
        Just("123456789012345678901234567890".to_string()),
        Just("1,5".to_string()),
        Just("1.5.5".to_string()),
        Just("0x1F".to_string()),
        Just("  42  ".to_string()),
        Just("\"".to_string()),
        Just("\"quoted\"".to_string()),
        Just("a,b".to_string()),
        Just("line\nbreak".to_string()),
        Just("cr\rlf\r\n".to_string()),
        Just("é".to_string()),
        Just("日本語".to_string()),
        Just("\u{202e}rtl".to_string()),
        Just("🏭".to_string()),
        Just("\u{feff}".to_string()),
        Just("supply".to_string()),
        Just("demand".to_string()),
        Just("landfill".to_string()),
        Just("route:landfill".to_string()),
        Just("substitution:a>b".to_string()),
        Just("t".to_string()),
        Just("kg".to_string()),
        Just("MWh".to_string()),
        Just("GJ".to_string()),
        Just("global".to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        (-1e12..1e12f64).prop_map(|x| x.to_string()),
        (-30i32..30).prop_map(|e| format!("1e{e}")),
        "\\PC{0,12}",
        "[a-z_:>]{0,10}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Sets a cell (a header cell when the row is 0).
    SetCell(Index, Index, Index, String),
    /// Copies a cell of any file into a cell, to build references that resolve.
    CopyCell(Index, Index, Index, Index, Index, Index),
    DropRow(Index, Index),
    DuplicateRow(Index, Index),
    DropColumn(Index, Index),
    DuplicateColumn(Index, Index),
    DropFile(Index),
    /// Adds a row of values, possibly of another length than the header.
    AddRow(Index, Vec<String>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        6 => (i(), i(), i(), nasty_value()).prop_map(|(f, r, c, v)| Mutation::SetCell(f, r, c, v)),
        3 => (i(), i(), i(), i(), i(), i()).prop_map(|(a, b, c, d, e, f)| Mutation::CopyCell(a, b, c, d, e, f)),
        1 => (i(), i()).prop_map(|(f, r)| Mutation::DropRow(f, r)),
        1 => (i(), i()).prop_map(|(f, r)| Mutation::DuplicateRow(f, r)),
        1 => (i(), i()).prop_map(|(f, c)| Mutation::DropColumn(f, c)),
        1 => (i(), i()).prop_map(|(f, c)| Mutation::DuplicateColumn(f, c)),
        1 => i().prop_map(Mutation::DropFile),
        1 => (i(), prop::collection::vec(nasty_value(), 0..9)).prop_map(|(f, v)| Mutation::AddRow(f, v)),
    ]
}

fn apply(files: &mut Vec<Grid>, mutation: &Mutation) {
    if files.is_empty() {
        return;
    }
    let pick = |files: &Vec<Grid>, index: &Index| index.index(files.len());
    match mutation {
        Mutation::SetCell(f, r, c, value) => {
            let file = pick(files, f);
            let rows = &mut files[file].rows;
            if rows.is_empty() {
                return;
            }
            let row = r.index(rows.len());
            if rows[row].is_empty() {
                return;
            }
            let column = c.index(rows[row].len());
            rows[row][column] = value.clone();
        }
        Mutation::CopyCell(from_file, from_row, from_column, f, r, c) => {
            let source = &files[pick(files, from_file)].rows;
            if source.is_empty() {
                return;
            }
            let source_row = &source[from_row.index(source.len())];
            if source_row.is_empty() {
                return;
            }
            let value = source_row[from_column.index(source_row.len())].clone();
            apply(files, &Mutation::SetCell(*f, *r, *c, value));
        }
        Mutation::DropRow(f, r) => {
            let file = pick(files, f);
            let rows = &mut files[file].rows;
            if !rows.is_empty() {
                let row = r.index(rows.len());
                rows.remove(row);
            }
        }
        Mutation::DuplicateRow(f, r) => {
            let file = pick(files, f);
            let rows = &mut files[file].rows;
            if !rows.is_empty() {
                let row = r.index(rows.len());
                rows.insert(row, rows[row].clone());
            }
        }
        Mutation::DropColumn(f, c) => {
            let file = pick(files, f);
            let rows = &mut files[file].rows;
            let width = rows.first().map_or(0, Vec::len);
            if width > 0 {
                let column = c.index(width);
                for row in rows.iter_mut() {
                    if column < row.len() {
                        row.remove(column);
                    }
                }
            }
        }
        Mutation::DuplicateColumn(f, c) => {
            let file = pick(files, f);
            let rows = &mut files[file].rows;
            let width = rows.first().map_or(0, Vec::len);
            if width > 0 {
                let column = c.index(width);
                for row in rows.iter_mut() {
                    if column < row.len() {
                        row.insert(column, row[column].clone());
                    }
                }
            }
        }
        Mutation::DropFile(f) => {
            let file = pick(files, f);
            files.remove(file);
        }
        Mutation::AddRow(f, values) => {
            let file = pick(files, f);
            files[file].rows.push(values.clone());
        }
    }
}

/// Writes a grid as CSV text: quoted as a careful writer would (the cell
/// values reach `build_inventory`), or raw (commas, quotes and line breaks
/// in values break the CSV structure, for the reader to report).
fn to_text(grid: &Grid, quote: bool, crlf: bool) -> String {
    let end = if crlf { "\r\n" } else { "\n" };
    let mut text = String::new();
    for row in &grid.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| {
                if quote && cell.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", cell.replace('"', "\"\""))
                } else {
                    cell.clone()
                }
            })
            .collect();
        text += &cells.join(",");
        text += end;
    }
    text
}

fn schema_of(name: &str) -> &'static Schema<'static> {
    match name {
        "firms.csv" => &FIRMS_SCHEMA,
        "flows.csv" => &FLOWS_SCHEMA,
        "distances.csv" => &DISTANCES_SCHEMA,
        "resources.csv" => &RESOURCES_SCHEMA,
        "routes.csv" => &ROUTES_SCHEMA,
        "substitutions.csv" => &SUBSTITUTIONS_SCHEMA,
        "impacts.csv" => &IMPACTS_SCHEMA,
        "externalities.csv" => &EXTERNALITIES_SCHEMA,
        other => panic!("no schema for {other}"),
    }
}

/// The files of one case as the loader would see them: tables, and what
/// each error may refer to.
fn tables_of(
    label: &str,
    files: &[Grid],
    quote: bool,
    crlf: bool,
) -> (InventoryTables, Vec<InputError>, HashMap<String, FileInfo>) {
    let mut infos = HashMap::new();
    let mut read_errors = Vec::new();
    let mut table_file = |name: &str, required: bool| -> TableFile {
        let shown = format!("{label}/{name}");
        let schema = schema_of(name);
        let schema_columns: Vec<String> = schema
            .required
            .iter()
            .chain(schema.optional)
            .chain(DOC_COLUMNS)
            .map(|c| c.to_string())
            .collect();
        let Some(grid) = files.iter().find(|grid| grid.name == name) else {
            infos.insert(
                shown.clone(),
                FileInfo {
                    n_lines: 0,
                    header: Vec::new(),
                    schema_columns,
                },
            );
            if required {
                read_errors.push(InputError::file(&shown, "required file is missing"));
                return TableFile::Unreadable;
            }
            return TableFile::Absent;
        };
        let text = to_text(grid, quote, crlf);
        let n_lines = count_lines(text.as_bytes());
        match parse_csv(&shown, text.as_bytes()) {
            Ok(table) => {
                infos.insert(
                    shown,
                    FileInfo {
                        n_lines,
                        header: table.columns.clone(),
                        schema_columns,
                    },
                );
                TableFile::Read(table)
            }
            Err(errors) => {
                // The raw header, for the columns parse_csv names.
                let header = grid.rows.first().cloned().unwrap_or_default();
                let header = header.iter().map(|c| c.trim().to_string()).collect();
                infos.insert(
                    shown,
                    FileInfo {
                        n_lines,
                        header,
                        schema_columns,
                    },
                );
                read_errors.extend(errors);
                TableFile::Unreadable
            }
        }
    };
    let firms = table_file("firms.csv", true);
    let flows = table_file("flows.csv", true);
    let distances = table_file("distances.csv", false);
    let [resources, routes, substitutions, impacts, externalities] = [
        "resources.csv",
        "routes.csv",
        "substitutions.csv",
        "impacts.csv",
        "externalities.csv",
    ]
    .map(|name| table_file(name, false));
    let tables = InventoryTables {
        firms,
        flows,
        default_catalogue: embedded_catalogue(),
        catalogue_overrides: CatalogueTables {
            resources,
            routes,
            substitutions,
            impacts,
            externalities,
        },
        distances,
        ..InventoryTables::default()
    };
    (tables, read_errors, infos)
}

fn objective() -> impl Strategy<Value = Objective> {
    prop_oneof![
        Just(Objective::Externalities),
        Just(Objective::Private),
        Just(Objective::Social)
    ]
}

fn case() -> impl Strategy<Value = (usize, Vec<Mutation>, bool, bool, Objective)> {
    (
        0usize..9,
        prop::collection::vec(mutation(), 0..6),
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.2),
        objective(),
    )
}

fn check_inventory_case(
    bases: &[Base],
    (base, mutations, quote, crlf, objective): (usize, Vec<Mutation>, bool, bool, Objective),
) -> Result<(), TestCaseError> {
    let base = &bases[base % bases.len()];
    let mut files = base.files.clone();
    for mutation in &mutations {
        apply(&mut files, mutation);
    }
    let (tables, read_errors, infos) = tables_of(&base.label, &files, quote, crlf);
    for error in &read_errors {
        check_located(error, &infos)?;
    }
    // As `io::load_inventory`: the reader's errors and the builder's
    // together; an inventory only when there are none.
    let (result, _warnings) = build_inventory(&tables);
    let result = match result {
        Ok(_) if !read_errors.is_empty() => Err(Vec::new()),
        other => other,
    };
    match result {
        Err(errors) => {
            // A file that did not read was reported by the reader (as
            // `load_inventory` does), and build_inventory adds nothing for it.
            prop_assert!(
                !errors.is_empty() || !read_errors.is_empty(),
                "an invalid inventory without errors"
            );
            let catalogue_names: HashMap<String, FileInfo> = DEFAULT_CATALOGUE
                .iter()
                .filter(|(name, _)| name.ends_with(".csv"))
                .map(|(name, text)| {
                    let table = parse_csv(name, text.as_bytes()).expect("catalogue parses");
                    (
                        format!("catalogue:{name}"),
                        FileInfo {
                            n_lines: count_lines(text.as_bytes()),
                            header: table.columns,
                            schema_columns: Vec::new(),
                        },
                    )
                })
                .collect();
            let mut known = infos;
            known.extend(catalogue_names);
            for error in &errors {
                check_located(error, &known)?;
            }
        }
        Ok(inventory) => {
            let options = SolveOptions {
                objective,
                ..SolveOptions::default()
            };
            // A solver outcome other than a solution is an answer too (each
            // has its exit code); only a panic fails this test.
            if optimize_inventory(&inventory, &options, 0.5).is_ok() {
                let out = tempfile::tempdir().expect("temporary folder");
                let written = optimize_and_write(
                    inventory,
                    Vec::new(),
                    base.label.clone(),
                    &options,
                    0.5,
                    Extras {
                        allocation: Allocation::Equal,
                        write_report: true,
                        ..Extras::default()
                    },
                    &out.path().join("results"),
                );
                if let Err(error) = written {
                    // Writing a solved inventory must not fail on its numbers.
                    return Err(TestCaseError::fail(format!(
                        "a solved inventory could not be written: {error}"
                    )));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn mutated_inventories_never_panic_and_errors_are_located(case in case()) {
        thread_local! {
            static BASES: Vec<Base> = bases();
        }
        BASES.with(|bases| check_inventory_case(bases, case))?;
    }
}

/// The unmutated bases are valid: mutations start from working inventories.
#[test]
fn every_base_inventory_is_valid() {
    for base in bases() {
        let (tables, read_errors, _) = tables_of(&base.label, &base.files, true, false);
        assert!(read_errors.is_empty(), "{}: {read_errors:?}", base.label);
        let (result, _) = build_inventory(&tables);
        assert!(result.is_ok(), "{}: {:?}", base.label, result.err());
    }
}
