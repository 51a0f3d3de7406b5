//! results.xlsx (`--format xlsx`): the result tables of one run as one
//! workbook, a sheet per table, for the coordinators who open results in
//! Excel. The input side of the same convention (an inventory workbook,
//! a sheet per table) is `xlsx`.
//!
//! Owns: [`Frame`]s and summary.json to workbook bytes. Invariant: every
//! cell holds the value of the CSV table's cell it stands for, typed
//! (numbers as numbers, flags as booleans, an empty CSV cell as an empty
//! cell), the header row frozen with filters and the columns sized to
//! their content; a table too long for a sheet is an error naming the
//! limit, never a truncated sheet.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::frame::{Frame, FrameError, Values};

/// Excel's rows per sheet, the header row included.
pub const SHEET_ROWS: usize = 1_048_576;

/// A workbook of `sheets` (sheet name, table), after a first `summary`
/// sheet holding summary.json flattened to (field, value) rows.
pub fn xlsx_bytes(summary: &serde_json::Value, sheets: &[(&str, &Frame)]) -> Result<Vec<u8>, FrameError> {
    let xlsx_error = |sheet: &str, e: XlsxError| FrameError::new(format!("results.xlsx, sheet {sheet}: {e}"));
    for (name, frame) in sheets {
        if frame.n_rows() + 1 > SHEET_ROWS {
            return Err(FrameError::new(format!(
                "results.xlsx: the table {name} has {} rows, more than the {} an Excel sheet holds \
                 (a limit of the format); write it with --format csv or --format parquet",
                frame.n_rows(),
                SHEET_ROWS - 1
            )));
        }
    }
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    write_summary(sheet, summary, &header).map_err(|e| xlsx_error("summary", e))?;
    for (name, frame) in sheets {
        let sheet = workbook.add_worksheet();
        write_table(sheet, name, frame, &header).map_err(|e| xlsx_error(name, e))?;
    }
    workbook.save_to_buffer().map_err(|e| xlsx_error("(saving)", e))
}

fn write_table(sheet: &mut Worksheet, name: &str, frame: &Frame, header: &Format) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let columns = frame.columns();
    for (col, (column, values)) in columns.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, column, header)?;
        for row in 0..values.len() {
            let cell = (row + 1) as u32;
            match values {
                Values::Text(values) => {
                    sheet.write_string(cell, col, &values[row])?;
                }
                Values::OptionalText(values) => {
                    if let Some(value) = &values[row] {
                        sheet.write_string(cell, col, value)?;
                    }
                }
                Values::Number(values) => {
                    sheet.write_number(cell, col, values[row])?;
                }
                Values::OptionalNumber(values) => {
                    if let Some(value) = values[row] {
                        sheet.write_number(cell, col, value)?;
                    }
                }
                Values::Count(values) => {
                    sheet.write_number(cell, col, values[row] as f64)?;
                }
                Values::OptionalCount(values) => {
                    if let Some(value) = values[row] {
                        sheet.write_number(cell, col, value as f64)?;
                    }
                }
                Values::Flag(values) => {
                    sheet.write_boolean(cell, col, values[row])?;
                }
            }
        }
    }
    finish_sheet(sheet, frame.n_rows(), columns.len())
}

/// The header row frozen, filters over the table, columns sized to their
/// content.
fn finish_sheet(sheet: &mut Worksheet, n_rows: usize, n_columns: usize) -> Result<(), XlsxError> {
    sheet.set_freeze_panes(1, 0)?;
    if n_columns > 0 {
        sheet.autofilter(0, 0, n_rows as u32, (n_columns - 1) as u16)?;
    }
    sheet.autofit();
    Ok(())
}

fn write_summary(sheet: &mut Worksheet, summary: &serde_json::Value, header: &Format) -> Result<(), XlsxError> {
    sheet.set_name("summary")?;
    sheet.write_string_with_format(0, 0, "field", header)?;
    sheet.write_string_with_format(0, 1, "value", header)?;
    let mut rows = Vec::new();
    flatten(String::new(), summary, &mut rows);
    for (index, (field, value)) in rows.iter().enumerate() {
        let row = (index + 1) as u32;
        sheet.write_string(row, 0, field)?;
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Bool(flag) => {
                sheet.write_boolean(row, 1, *flag)?;
            }
            serde_json::Value::Number(number) => match number.as_f64() {
                Some(number) => {
                    sheet.write_number(row, 1, number)?;
                }
                None => {
                    sheet.write_string(row, 1, number.to_string())?;
                }
            },
            serde_json::Value::String(text) => {
                sheet.write_string(row, 1, text)?;
            }
            // `flatten` leaves only scalars.
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {}
        }
    }
    finish_sheet(sheet, rows.len(), 2)
}

/// summary.json as (field path, scalar) rows, in the file's order: an
/// object's fields as `parent.field`, an array's items as `parent[i]`.
pub fn flatten<'a>(path: String, value: &'a serde_json::Value, rows: &mut Vec<(String, &'a serde_json::Value)>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (field, value) in fields {
                let path = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                flatten(path, value, rows);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(format!("{path}[{index}]"), item, rows);
            }
        }
        scalar => rows.push((path, scalar)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_flattens_objects_and_arrays_in_order() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"a": 1, "b": {"c": true, "d": [ "x", null ]}, "e": "t"}"#).unwrap();
        let mut rows = Vec::new();
        flatten(String::new(), &value, &mut rows);
        let fields: Vec<&str> = rows.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["a", "b.c", "b.d[0]", "b.d[1]", "e"]);
    }

    #[test]
    fn a_table_longer_than_a_sheet_is_refused_with_the_limit() {
        let mut frame = Frame::new();
        frame.push("n", Values::Count(vec![0; SHEET_ROWS]));
        let error = xlsx_bytes(&serde_json::json!({}), &[("links", &frame)]).unwrap_err();
        assert!(error.to_string().contains("1048575"), "{error}");
        assert!(error.to_string().contains("limit of the format"), "{error}");
    }
}
