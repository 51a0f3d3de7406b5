//! Sheets of an xlsx workbook (read through calamine) as raw tables, and
//! which sheet holds which table.
//!
//! Invariant: a sheet reads like the CSV file it stands for (the header is
//! the first row with a value, line numbers are the sheet's row numbers)
//! and no value is dropped silently: an Excel error or a formula without a
//! saved result is an error at its cell.

use std::fs;
use std::path::Path;

use crate::model::{InputError, RawRow, RawTable};

/// One sheet of a workbook as a raw table: the header is the first row with
/// a value, line numbers are the sheet's row numbers, numbers are written
/// back with Rust's shortest round-trip formatting. `sheet` is the sheet's
/// name as the workbook spells it ([`find_sheet`] matches names ignoring
/// case). A formula cell whose result was never saved (a workbook written
/// by a program that does not compute formulas) is an error at its row and
/// column: calamine reads it as empty, which would silently drop a value.
pub(super) fn read_sheet(
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
pub(super) fn find_sheet<'s>(
    file: &str,
    sheet_names: &'s [String],
    wanted: &str,
) -> Result<Option<&'s str>, InputError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
