//! Data in the formats analysts already use: French Excel CSV in (semicolons,
//! decimal commas, BOM, CRLF), Parquet out.

use std::fs;
use std::io::Cursor;

use crate::common::{assert_close, fixture_dir, symbiose};
use polars::prelude::*;

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// tests/data/french_excel is tests/data/split_by_distance saved by French
/// Excel (semicolons, decimal commas, BOM, CRLF): same optimum, T = 8600.
#[test]
fn french_excel_csv_is_detected_and_gives_the_same_results() {
    let work = tempfile::tempdir().unwrap();
    let french = fixture_dir("french_excel");
    let plain = fixture_dir("split_by_distance");
    let output = symbiose(&["validate", french.to_str().unwrap()], work.path());
    assert_eq!(output.status.code(), Some(0));
    for (dir, out) in [(&french, "fr"), (&plain, "plain")] {
        assert_eq!(
            symbiose(&["optimize", dir.to_str().unwrap(), "--out", out], work.path())
                .status
                .code(),
            Some(0)
        );
    }
    let (fr, plain) = (summary(&work.path().join("fr")), summary(&work.path().join("plain")));
    assert_close(fr["territory_value_eur"].as_f64().unwrap(), 8600.0, 1e-9, "T");
    for table in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        assert_eq!(
            fs::read(work.path().join("fr").join(table)).unwrap(),
            fs::read(work.path().join("plain").join(table)).unwrap(),
            "{table}"
        );
    }
    assert_eq!(fr["firm_value_eur"], plain["firm_value_eur"]);
    // Forcing commas on the French files reads one column per line: refused, located.
    let output = symbiose(&["validate", french.to_str().unwrap(), "--sep", ","], work.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("separated by semicolons"));
}

#[test]
fn parquet_outputs_hold_the_same_rows_as_csv_outputs() {
    let work = tempfile::tempdir().unwrap();
    assert_eq!(
        symbiose(&["optimize", "--out", "csv"], work.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        symbiose(&["optimize", "--format", "parquet", "--out", "pq"], work.path())
            .status
            .code(),
        Some(0)
    );
    for table in ["links", "flow_results", "firm_values", "territory_values"] {
        let parquet = fs::read(work.path().join("pq").join(format!("{table}.parquet"))).unwrap();
        let from_parquet = ParquetReader::new(Cursor::new(parquet)).finish().unwrap();
        assert!(!work.path().join("pq").join(format!("{table}.csv")).exists());
        let csv = fs::read(work.path().join("csv").join(format!("{table}.csv"))).unwrap();
        // Read the CSV with the Parquet file's schema, then compare frames.
        let from_csv = CsvReadOptions::default()
            .with_schema(Some(Arc::new(from_parquet.schema().as_ref().clone())))
            .into_reader_with_file_handle(Cursor::new(csv))
            .finish()
            .unwrap();
        assert_eq!(from_parquet.height(), from_csv.height(), "{table}");
        assert!(from_parquet.equals_missing(&from_csv), "{table}: rows differ");
    }
    let (a, b) = (summary(&work.path().join("csv")), summary(&work.path().join("pq")));
    assert_eq!(a["territory_value_eur"], b["territory_value_eur"]);
    // `symbiose report` reads the Parquet tables: the same page as the one
    // drawn from the CSV tables of the same run (`optimize --report`).
    assert_eq!(
        symbiose(
            &["optimize", "--format", "parquet", "--report", "--out", "pqr"],
            work.path()
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        symbiose(&["report", "pqr", "--out", "again.html"], work.path())
            .status
            .code(),
        Some(0)
    );
    assert!(
        fs::read(work.path().join("again.html")).unwrap() == fs::read(work.path().join("pqr/report.html")).unwrap(),
        "the report from the Parquet tables differs from the one drawn from the CSV tables"
    );
    // A damaged Parquet table is named, and nothing is written.
    fs::write(work.path().join("pqr/links.parquet"), b"not parquet").unwrap();
    let output = symbiose(&["report", "pqr", "--out", "broken.html"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("links.parquet") && stderr.contains("not a readable Parquet table"),
        "{stderr}"
    );
    assert!(!work.path().join("broken.html").exists());
}

/// tests/data/dunkirk.xlsx holds data/dunkirk's firms, flows and distances
/// as three sheets (numbers as Excel numbers, written by openpyxl): the same
/// summary.json as the CSV folder, but for the inventory's name and the
/// measured solve time.
#[test]
fn a_workbook_gives_the_same_summary_as_the_csv_folder() {
    let work = tempfile::tempdir().unwrap();
    let workbook = fixture_dir("dunkirk.xlsx");
    let folder = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("dunkirk");
    assert_eq!(
        symbiose(&["validate", workbook.to_str().unwrap()], work.path())
            .status
            .code(),
        Some(0)
    );
    for (source, out) in [(&workbook, "xlsx"), (&folder, "csv")] {
        assert_eq!(
            symbiose(&["optimize", source.to_str().unwrap(), "--out", out], work.path())
                .status
                .code(),
            Some(0)
        );
    }
    let (mut a, mut b) = (summary(&work.path().join("xlsx")), summary(&work.path().join("csv")));
    for s in [&mut a, &mut b] {
        s["inventory"] = serde_json::Value::Null;
        s["solve_seconds"] = serde_json::Value::Null;
    }
    assert_eq!(a, b);
}

/// Errors in a workbook name the file, the sheet, the row and the column.
#[test]
fn workbook_errors_name_sheet_row_and_column() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(
        &["validate", fixture_dir("bad_workbook.xlsx").to_str().unwrap()],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad_workbook.xlsx [sheet firms]:3: column lat: latitude must be within [-90, 90], found 95"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad_workbook.xlsx [sheet flows]: required file is missing"),
        "{stderr}"
    );
}

/// `-q` prints nothing on success; `-v` prints each stage's time on stderr.
#[test]
fn quiet_and_verbose_runs() {
    let work = tempfile::tempdir().unwrap();
    let quiet = symbiose(&["optimize", "-q", "--out", "q"], work.path());
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty());
    assert!(work.path().join("q").join("summary.json").is_file());
    let verbose = symbiose(&["optimize", "-v", "--out", "v"], work.path());
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    for stage in [
        "load and validate",
        "candidate links",
        "HiGHS",
        "valuation",
        "tables and files",
    ] {
        assert!(stderr.contains(stage), "{stage} missing from {stderr}");
    }
}

/// Every cell of results.xlsx against the CSV table it stands for: the
/// header, then each value (a number as a number equal to the CSV's to the
/// last bit, a flag as a boolean, text as text, an empty CSV cell as an
/// empty cell); the summary sheet against summary.json flattened.
fn assert_workbook_matches_csv(dir: &std::path::Path, expected_sheets: &[&str]) {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = open_workbook(dir.join("results.xlsx")).expect("results.xlsx opens");
    let names = workbook.sheet_names().to_vec();
    assert_eq!(names, expected_sheets, "sheets of results.xlsx");
    for name in names.iter().skip(1) {
        let range = workbook.worksheet_range(name).unwrap();
        let path = dir.join(format!("{name}.csv"));
        let table = symbiose::io::parse_csv(&path.display().to_string(), &fs::read(&path).unwrap()).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), table.rows.len() + 1, "{name}: rows");
        let header: Vec<String> = rows[0].iter().map(|cell| cell.to_string()).collect();
        assert_eq!(header, table.columns, "{name}: header");
        for (row, csv) in rows[1..].iter().zip(&table.rows) {
            for (index, column) in table.columns.iter().enumerate() {
                let cell = row.get(index).unwrap_or(&Data::Empty);
                let where_ = format!("{name}.{column} line {}", csv.line);
                match (csv.cells[index].as_deref(), cell) {
                    (None | Some(""), Data::Empty) => {}
                    (Some("true"), Data::Bool(true)) | (Some("false"), Data::Bool(false)) => {}
                    (Some(text), Data::Float(number)) => {
                        let parsed: f64 = text
                            .parse()
                            .unwrap_or_else(|_| panic!("{where_}: {text:?} is not a number"));
                        assert_eq!(parsed.to_bits(), number.to_bits(), "{where_}: {text} vs {number}");
                    }
                    (Some(text), Data::String(value)) => {
                        assert!(text.parse::<f64>().is_err(), "{where_}: number {text} stored as text");
                        assert_eq!(text, value, "{where_}");
                    }
                    (csv, cell) => panic!("{where_}: CSV {csv:?} but workbook {cell:?}"),
                }
            }
        }
    }
    let range = workbook.worksheet_range("summary").unwrap();
    let summary = summary(dir);
    let mut expected = Vec::new();
    symbiose::io::workbook::flatten(String::new(), &summary, &mut expected);
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows.len(), expected.len() + 1, "summary rows");
    for (row, (field, value)) in rows[1..].iter().zip(&expected) {
        assert_eq!(row[0], Data::String(field.clone()));
        let cell = row.get(1).unwrap_or(&Data::Empty);
        match value {
            serde_json::Value::Null => assert_eq!(cell, &Data::Empty, "{field}"),
            serde_json::Value::Bool(flag) => assert_eq!(cell, &Data::Bool(*flag), "{field}"),
            // serde_json's default parser may miss the last bit of a
            // decimal (no float_roundtrip): 1 part in 1e15 allowed here,
            // the tables above are compared bit for bit.
            serde_json::Value::Number(number) => match cell {
                Data::Float(value) => assert_close(*value, number.as_f64().unwrap(), 1e-15, field),
                other => panic!("{field}: {number} stored as {other:?}"),
            },
            serde_json::Value::String(text) => assert_eq!(cell, &Data::String(text.clone()), "{field}"),
            other => panic!("{field}: {other} is not a scalar"),
        }
    }
}

#[test]
fn xlsx_results_hold_every_cell_of_the_csv_tables() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--format", "xlsx", "--out", "xl"], work.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = work.path().join("xl");
    assert_workbook_matches_csv(
        &dir,
        &["summary", "links", "flow_results", "firm_values", "territory_values"],
    );
    let files = summary(&dir)["files"].clone();
    assert!(
        files.as_array().unwrap().contains(&serde_json::json!("results.xlsx")),
        "{files}"
    );
    // The CSV tables beside the workbook are the plain run's.
    assert_eq!(
        symbiose(&["optimize", "--out", "csv"], work.path()).status.code(),
        Some(0)
    );
    for table in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        assert_eq!(
            fs::read(dir.join(table)).unwrap(),
            fs::read(work.path().join("csv").join(table)).unwrap(),
            "{table}"
        );
    }
    // Part B tables get their sheets.
    let seasonal = fixture_dir("seasonal_heat");
    let output = symbiose(
        &[
            "optimize",
            seasonal.to_str().unwrap(),
            "--format",
            "xlsx",
            "--out",
            "part_b",
        ],
        work.path(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let part_b = work.path().join("part_b");
    let mut sheets = vec!["summary".to_string()];
    for table in [
        "links",
        "flow_results",
        "firm_values",
        "territory_values",
        "processes",
        "investments",
        "flow_slices",
        "link_slices",
        "services",
    ] {
        if part_b.join(format!("{table}.csv")).exists() {
            sheets.push(table.to_string());
        }
    }
    assert!(sheets.len() > 5, "seasonal_heat writes a Part B table: {sheets:?}");
    assert_workbook_matches_csv(&part_b, &sheets.iter().map(String::as_str).collect::<Vec<_>>());
}
