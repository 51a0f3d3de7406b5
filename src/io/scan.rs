//! CSV bytes to a [`RawTable`]: decoding (UTF-8 with or without BOM;
//! UTF-16, other encodings, binary formats and lone-CR line ends refused),
//! the RFC 4180 record scanner, and the dialect (commas, or French Excel's
//! semicolons and decimal commas). polars reads the cells.
//!
//! Invariant: every problem is reported at its line (and column where
//! there is one), polars is given only records this scan reads the same
//! way, and cells stay text: typing lives in `model::build`.

use std::io::Cursor;

use polars::prelude::*;

use crate::model::table::counted;
use crate::model::{InputError, RawRow, RawTable};

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
                format!(
                    "{} where the header has {}",
                    counted(record.n_fields, "field", "fields"),
                    header.n_fields
                ),
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
            FieldState::Quoted => {
                if byte == b'"' {
                    state = FieldState::QuoteInQuoted;
                    keep = false;
                }
            }
            // Outside quotes, a separator ends the field and a line feed the
            // record; the CR of a CRLF is dropped.
            _ if byte == separator => end_of_field = true,
            _ if byte == b'\n' => end_of_record = true,
            _ if crlf => keep = false,
            FieldState::Unquoted { content } => match byte {
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
            FieldState::QuoteInQuoted => match byte {
                b'"' => state = FieldState::Quoted,
                _ => {
                    let (message, hint) = after_closing_quote(&text[position..]);
                    scan.errors
                        .push(InputError::at(file, line, column(n_fields).as_deref(), message).with_hint(hint));
                    state = FieldState::Spoiled;
                }
            },
            FieldState::Spoiled => {}
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
            let record = RecordSpan {
                line: record_line,
                n_fields,
                start: record_start,
                end: without_final_cr(bytes, record_start, position),
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
    let record = RecordSpan {
        line: record_line,
        n_fields,
        start: record_start,
        end: without_final_cr(bytes, record_start, bytes.len()),
    };
    finish_record(&mut scan, &mut header_fields, blank, record);
    scan
}

/// The problem with what follows a closing double quote up to the next
/// comma or line end (`rest`): (message, hint).
fn after_closing_quote(rest: &str) -> (&'static str, &'static str) {
    let rest = &rest[..rest.find([',', '\n']).unwrap_or(rest.len())];
    if rest.trim().is_empty() {
        (
            "a space follows the closing double quote",
            "remove the space so that the quotes enclose the whole value",
        )
    } else {
        (
            "text follows the closing double quote",
            "quote the whole value, and double each double quote inside it",
        )
    }
}

/// The end of the record `bytes[start..end]` without the CR of its CRLF.
fn without_final_cr(bytes: &[u8], start: usize, end: usize) -> usize {
    if end > start && bytes[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
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
                (Some(3), "1 field where the header has 2"),
                (Some(4), "3 fields where the header has 2"),
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
    fn header_only_gives_no_rows() {
        let table = parse_csv("t.csv", b"a,b\n").unwrap();
        assert_eq!(table.columns, vec!["a", "b"]);
        assert!(table.rows.is_empty());
    }
}
