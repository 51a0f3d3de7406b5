//! Raw tables as read from a CSV file (or the embedded catalogue), with the
//! line number of every row, and the typed cell readers that turn them into
//! records while collecting every problem instead of stopping at the first.
//!
//! This module does no I/O: `io` fills [`RawTable`]s, `inventory::build`
//! reads them. It also holds how input problems are shown: numbers echoed
//! short ([`short_number`]) and at most [`MAX_ERRORS_SHOWN_PER_FILE`]
//! problems printed per file ([`limit_per_file`]).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// One problem found in the input, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputError {
    /// Display name of the file (a path, or `catalogue:<file>` for the embedded catalogue).
    pub file: String,
    /// 1-based line number in that file; `None` for whole-file problems.
    pub line: Option<usize>,
    /// Column name, when the problem is in one cell or one column.
    pub column: Option<String>,
    /// What is wrong, as a lowercase phrase.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl InputError {
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at(file: &str, line: usize, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: Some(line),
            column: column.map(str::to_string),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Sorts errors by file, then line (whole-file problems first), then the
/// position of their column in that file's header as `tables` give it
/// (problems with a whole line first, columns missing from the header
/// last), and drops exact repeats. Errors that tie keep the order in which
/// they were found: the schema's order for missing columns, left to right
/// for problems the CSV scan found.
pub fn sort_errors(errors: &mut Vec<InputError>, tables: &[&RawTable]) {
    let headers: HashMap<&str, &[String]> = tables
        .iter()
        .map(|table| (table.file.as_str(), table.columns.as_slice()))
        .collect();
    let column_rank = |error: &InputError| -> usize {
        let Some(column) = &error.column else {
            return 0;
        };
        match headers.get(error.file.as_str()) {
            Some(header) => 1 + header.iter().position(|name| name == column).unwrap_or(header.len()),
            None => 1,
        }
    };
    // `sort_by_cached_key` is stable, as the tie rule above needs.
    errors.sort_by_cached_key(|error| (error.file.clone(), error.line.unwrap_or(0), column_rank(error)));
    let mut seen = HashSet::new();
    errors.retain(|error| seen.insert(error.clone()));
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column {column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// A non-fatal remark about the input (unknown columns, suspicious values).
#[derive(Debug, Clone, PartialEq)]
pub struct InputWarning {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A table of optional strings, one row per CSV record, as the file gave it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawTable {
    /// Display name used in every error about this table.
    pub file: String,
    /// 1-based line of the header row (after any leading blank lines).
    pub header_line: usize,
    /// Header names, unquoted and trimmed, in file order (duplicates kept).
    pub columns: Vec<String>,
    pub rows: Vec<RawRow>,
    /// Numbers are written with a decimal comma (semicolon-separated files).
    pub decimal_comma: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// 1-based line number where the record starts (the header is line 1).
    pub line: usize,
    /// One cell per column; `None` for an empty cell.
    pub cells: Vec<Option<String>>,
}

/// One input file as `io` found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TableFile {
    /// There is no such file.
    #[default]
    Absent,
    /// A required file that is missing, or a file that gives no usable
    /// table (not CSV text, not UTF-8, ragged rows...): `io` has already
    /// reported why. Which ids it holds is unknown, so references into it
    /// are not checked.
    Unreadable,
    /// The file's rows.
    Read(RawTable),
}

impl TableFile {
    /// The table, when the file was read.
    pub fn table(&self) -> Option<&RawTable> {
        match self {
            TableFile::Read(table) => Some(table),
            TableFile::Absent | TableFile::Unreadable => None,
        }
    }
}

/// The columns a file may have: those it must have, and the optional ones
/// that are known (any other column earns a warning and is ignored).
pub struct Schema<'a> {
    pub required: &'a [&'a str],
    pub optional: &'a [&'a str],
}

/// Documentation columns accepted in every file without a warning.
pub const DOC_COLUMNS: &[&str] = &["source", "year", "note", "description"];

/// The largest magnitude a number in an input file may have. Every physical
/// quantity, price, impact and distance of a territory is far below it;
/// products of a few such numbers (quantity x cost x value x unit factor,
/// summed over flows) stay finite in f64, and quantities in any unit stay
/// below HiGHS's infinite bound (1e20). A typo such as 1e308 is thus
/// reported at its cell instead of turning into infinities in the results.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// A number as messages echo it: at most 12 significant digits, so that
/// 500 GJ converted to MWh and back reads 500, not 499.99999999999994, and
/// in scientific notation outside [1e-4, 1e15), so that a subnormal prints
/// as 5e-324, not as 324 digits. Infinities and NaN print as Rust does.
pub fn short_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    // Rounding through the decimal exponent form keeps 12 significant digits exactly.
    let rounded: f64 = format!("{value:.11e}").parse().unwrap_or(value);
    if (1e-4..1e15).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// `count` and its noun, singular for 1 and plural otherwise: `1 field`,
/// `0 fields`, `2 fields`. Messages say this instead of `field(s)`.
pub fn counted(count: usize, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

/// How many errors of one file are printed; the rest are counted.
pub const MAX_ERRORS_SHOWN_PER_FILE: usize = 50;

/// The problems as they are printed: the first `per_file` of each file (in
/// the order given, which [`sort_errors`] makes file then line), and for
/// each file with more, its name and how many were left out.
pub fn limit_per_file<'e, T: Problem>(problems: &'e [T], per_file: usize) -> (Vec<&'e T>, Vec<(String, usize)>) {
    let mut shown = Vec::new();
    let mut left_out: Vec<(String, usize)> = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for problem in problems {
        let count = counts.entry(problem.file_name()).or_insert(0);
        *count += 1;
        if *count <= per_file {
            shown.push(problem);
        } else {
            match left_out.iter_mut().find(|(file, _)| file == problem.file_name()) {
                Some((_, n)) => *n += 1,
                None => left_out.push((problem.file_name().to_string(), 1)),
            }
        }
    }
    (shown, left_out)
}

/// An input error or warning, as far as [`limit_per_file`] cares.
pub trait Problem {
    fn file_name(&self) -> &str;
}

impl Problem for InputError {
    fn file_name(&self) -> &str {
        &self.file
    }
}

impl Problem for InputWarning {
    fn file_name(&self) -> &str {
        &self.file
    }
}

/// A cell that could not be read; the reason is already in the error list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCell;

/// A condition a number must meet, for [`TableReader::check`].
pub struct Rule<'a, F> {
    pub holds: F,
    /// The rule as the error states it, such as "quantity must be >= 0".
    pub message: &'a str,
    /// How to give a valid value.
    pub hint: &'a str,
}

/// FNV-1a over a column name. Every cell read looks its column up by
/// name, a million times for a large table, and SipHash's resistance to
/// chosen keys buys nothing for a header of a few dozen names.
struct ColumnNameHasher(u64);

impl Default for ColumnNameHasher {
    fn default() -> Self {
        ColumnNameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for ColumnNameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Reads the cells of one table by column name, collecting errors.
pub struct TableReader<'a> {
    pub table: &'a RawTable,
    index: HashMap<&'a str, usize, BuildHasherDefault<ColumnNameHasher>>,
    /// Numbers beyond this magnitude are errors (input files: [`MAX_MAGNITUDE`]).
    max_magnitude: f64,
}

impl<'a> TableReader<'a> {
    /// Checks the header against `schema`: a missing required column is an
    /// error (reported once, on the header line), as is a column named
    /// twice; an unknown or unnamed column is a warning. `None` when a
    /// required column is missing: the rows cannot be read.
    pub fn new(
        table: &'a RawTable,
        schema: &Schema,
        errors: &mut Vec<InputError>,
        warnings: &mut Vec<InputWarning>,
    ) -> Option<Self> {
        let header_line = table.header_line.max(1);
        let mut index = HashMap::default();
        for (position, name) in table.columns.iter().enumerate() {
            if name.is_empty() {
                warnings.push(InputWarning {
                    file: table.file.clone(),
                    line: Some(header_line),
                    message: format!("column {} has no name and is ignored", position + 1),
                });
                continue;
            }
            if index.insert(name.as_str(), position).is_some() {
                errors.push(
                    InputError::at(&table.file, header_line, Some(name), "duplicate column in the header")
                        .with_hint("keep one column of each name"),
                );
            }
        }
        let mut complete = true;
        for required in schema.required {
            if !index.contains_key(required) {
                complete = false;
                errors.push(
                    InputError::at(&table.file, header_line, Some(required), "missing required column").with_hint(
                        format!("the header must name the columns {}", schema.required.join(", ")),
                    ),
                );
            }
        }
        for name in table.columns.iter().filter(|name| !name.is_empty()) {
            let known = schema.required.contains(&name.as_str())
                || schema.optional.contains(&name.as_str())
                || DOC_COLUMNS.contains(&name.as_str());
            if !known {
                warnings.push(InputWarning {
                    file: table.file.clone(),
                    line: Some(header_line),
                    message: format!("unknown column {name:?} is ignored"),
                });
            }
        }
        complete.then_some(Self {
            table,
            index,
            max_magnitude: f64::INFINITY,
        })
    }

    /// Refuses finite numbers beyond `limit` in magnitude.
    pub fn with_magnitude_limit(mut self, limit: f64) -> Self {
        self.max_magnitude = limit;
        self
    }

    /// The trimmed cell, `None` when the column is absent or the cell empty.
    pub fn cell<'r>(&self, row: &'r RawRow, column: &str) -> Option<&'r str> {
        let position = *self.index.get(column)?;
        row.cells
            .get(position)?
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// `text` as the table writes numbers: with decimal commas ("such as
    /// 51,03") when it was read with them, else as it is.
    pub fn localise(&self, text: &str) -> String {
        if !self.table.decimal_comma {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        chars
            .iter()
            .enumerate()
            .map(|(position, &c)| {
                let between_digits = position > 0
                    && chars[position - 1].is_ascii_digit()
                    && chars.get(position + 1).is_some_and(char::is_ascii_digit);
                if c == '.' && between_digits {
                    ','
                } else {
                    c
                }
            })
            .collect()
    }

    fn error(&self, row: &RawRow, column: &str, message: impl Into<String>) -> InputError {
        InputError::at(&self.table.file, row.line, Some(column), message)
    }

    /// A required non-empty string.
    pub fn text(&self, row: &RawRow, column: &str, errors: &mut Vec<InputError>) -> Option<String> {
        match self.cell(row, column) {
            Some(value) => Some(value.to_string()),
            None => {
                errors.push(
                    self.error(row, column, "empty value")
                        .with_hint("this column is required"),
                );
                None
            }
        }
    }

    /// An optional string.
    pub fn opt_text(&self, row: &RawRow, column: &str) -> Option<String> {
        self.cell(row, column).map(str::to_string)
    }

    /// A required finite number.
    pub fn number(&self, row: &RawRow, column: &str, errors: &mut Vec<InputError>) -> Option<f64> {
        match self.cell(row, column) {
            Some(value) => self.parse_number(row, column, value, errors),
            None => {
                errors.push(
                    self.error(row, column, "empty value")
                        .with_hint("this column is required: give a number"),
                );
                None
            }
        }
    }

    /// An optional finite number: `Ok(None)` when empty, `Err(InvalidCell)`
    /// (already reported in `errors`) when present but invalid.
    pub fn opt_number(
        &self,
        row: &RawRow,
        column: &str,
        errors: &mut Vec<InputError>,
    ) -> Result<Option<f64>, InvalidCell> {
        match self.cell(row, column) {
            Some(value) => self
                .parse_number(row, column, value, errors)
                .map(Some)
                .ok_or(InvalidCell),
            None => Ok(None),
        }
    }

    fn parse_number(&self, row: &RawRow, column: &str, value: &str, errors: &mut Vec<InputError>) -> Option<f64> {
        let converted;
        let value = if self.table.decimal_comma && value.contains(',') && !value.contains('.') {
            converted = value.replace(',', ".");
            converted.as_str()
        } else {
            value
        };
        match value.parse::<f64>() {
            Ok(number) if number.is_finite() && number.abs() > self.max_magnitude => {
                errors.push(
                    self.error(row, column, super::rules::too_large(value, self.max_magnitude))
                        .with_hint("check the unit and the order of magnitude: no territory flow, price or distance comes near 1e15"),
                );
                None
            }
            Ok(number) if number.is_finite() => Some(number),
            Ok(_) => {
                errors.push(
                    self.error(row, column, format!("{value:?} is not a finite number"))
                        .with_hint("NaN and infinities are not quantities: give a finite number"),
                );
                None
            }
            Err(_) => {
                // A file read with decimal commas is told what such a file
                // accepts, not what a comma-separated one would.
                let hint = if self.table.decimal_comma {
                    if value.contains(',') && value.contains('.') {
                        "write the number without a thousands separator, such as 1234,5"
                    } else {
                        "give a plain number such as 12,5 or 1e6"
                    }
                } else if value.contains(',') && value.replace(',', ".").parse::<f64>().is_ok() {
                    "use a dot as the decimal separator"
                } else {
                    "give a plain number such as 12.5 or 1e6"
                };
                errors.push(
                    self.error(row, column, format!("expected a number, found {value:?}"))
                        .with_hint(hint),
                );
                None
            }
        }
    }

    /// A required value from a fixed set of words.
    pub fn choice<T: Copy>(
        &self,
        row: &RawRow,
        column: &str,
        options: &[(&str, T)],
        errors: &mut Vec<InputError>,
    ) -> Option<T> {
        let value = self.text(row, column, errors)?;
        match options.iter().find(|(name, _)| *name == value) {
            Some((_, option)) => Some(*option),
            None => {
                let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
                errors.push(
                    self.error(row, column, format!("{value:?} is not one of {}", names.join(", ")))
                        .with_hint(format!("write one of {}", names.join(", "))),
                );
                None
            }
        }
    }

    /// Checks a number against `rule`; when it fails, reports the rule's
    /// message with the value found, and its hint.
    /// A required number that must satisfy `rule`.
    pub fn number_where(
        &self,
        row: &RawRow,
        column: &str,
        rule: Rule<impl Fn(f64) -> bool>,
        errors: &mut Vec<InputError>,
    ) -> Option<f64> {
        let value = self.number(row, column, errors);
        self.check(row, column, value, rule, errors)
    }

    pub fn check(
        &self,
        row: &RawRow,
        column: &str,
        value: Option<f64>,
        rule: Rule<impl Fn(f64) -> bool>,
        errors: &mut Vec<InputError>,
    ) -> Option<f64> {
        let value = value?;
        if (rule.holds)(value) {
            Some(value)
        } else {
            errors.push(
                self.error(
                    row,
                    column,
                    format!("{}, found {}", rule.message, self.localise(&short_number(value))),
                )
                .with_hint(self.localise(rule.hint)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_echoed_short() {
        let converted_back = 500.0 * (1000.0 / 3600.0) / (1000.0 / 3600.0);
        assert_eq!(converted_back, 499.99999999999994, "the rounding this formatting hides");
        assert_eq!(short_number(converted_back), "500");
        assert_eq!(short_number(138.88888888888889), "138.888888889");
        assert_eq!(short_number(5e-324), "5e-324");
        assert_eq!(short_number(1e-7), "1e-7");
        assert_eq!(short_number(-0.00012), "-0.00012");
        assert_eq!(short_number(1e20), "1e20");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(95.0), "95");
        assert_eq!(short_number(f64::INFINITY), "inf");
    }

    fn table(decimal_comma: bool, cells: &[&str]) -> RawTable {
        RawTable {
            file: "t.csv".to_string(),
            header_line: 1,
            columns: vec!["x".to_string()],
            rows: cells
                .iter()
                .enumerate()
                .map(|(i, cell)| RawRow {
                    line: i + 2,
                    cells: vec![Some(cell.to_string())],
                })
                .collect(),
            decimal_comma,
        }
    }

    /// The hints of a file read with decimal commas show numbers with
    /// decimal commas, and so do the values they echo.
    #[test]
    fn decimal_comma_files_get_decimal_comma_hints() {
        let schema = Schema {
            required: &["x"],
            optional: &[],
        };
        let hints = |decimal_comma: bool| {
            let table = table(decimal_comma, &["abc", "1.234,5", "-2,5"]);
            let (mut errors, mut warnings) = (Vec::new(), Vec::new());
            let reader = TableReader::new(&table, &schema, &mut errors, &mut warnings).unwrap();
            for row in &table.rows {
                reader.number_where(
                    row,
                    "x",
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "x must be >= 0",
                        hint: "give a value such as 51.03",
                    },
                    &mut errors,
                );
            }
            errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        assert_eq!(
            hints(true),
            [
                "t.csv:2: column x: expected a number, found \"abc\" (hint: give a plain number such as 12,5 or 1e6)",
                "t.csv:3: column x: expected a number, found \"1.234,5\" (hint: write the number without a thousands separator, such as 1234,5)",
                "t.csv:4: column x: x must be >= 0, found -2,5 (hint: give a value such as 51,03)",
            ]
        );
        assert_eq!(
            hints(false),
            [
                "t.csv:2: column x: expected a number, found \"abc\" (hint: give a plain number such as 12.5 or 1e6)",
                "t.csv:3: column x: expected a number, found \"1.234,5\" (hint: give a plain number such as 12.5 or 1e6)",
                "t.csv:4: column x: expected a number, found \"-2,5\" (hint: use a dot as the decimal separator)",
            ]
        );
    }

    #[test]
    fn errors_are_capped_per_file_and_the_rest_counted() {
        let errors: Vec<InputError> = (0..120)
            .map(|i| InputError::at(if i < 110 { "a.csv" } else { "b.csv" }, i + 2, None, "bad"))
            .collect();
        let (shown, left_out) = limit_per_file(&errors, 50);
        assert_eq!(shown.len(), 60);
        assert_eq!(shown.iter().filter(|error| error.file == "a.csv").count(), 50);
        assert_eq!(shown[49].line, Some(51));
        assert_eq!(left_out, [("a.csv".to_string(), 60)]);
    }
}
