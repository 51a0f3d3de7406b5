//! Raw tables as read from a CSV file (or the embedded catalogue), with the
//! line number of every row, and the typed cell readers that turn them into
//! records while collecting every problem instead of stopping at the first.
//!
//! This module does no I/O: `io` fills [`RawTable`]s, `inventory::build`
//! reads them.

use std::collections::{HashMap, HashSet};
use std::fmt;

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
pub struct Schema {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
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

/// Reads the cells of one table by column name, collecting errors.
pub struct TableReader<'a> {
    pub table: &'a RawTable,
    index: HashMap<&'a str, usize>,
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
        let mut index = HashMap::new();
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

    pub fn has_column(&self, column: &str) -> bool {
        self.index.contains_key(column)
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
                    self.error(row, column, format!(
                        "{value} is too large: numbers may not exceed {:e} in magnitude",
                        self.max_magnitude
                    ))
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
                let hint = if value.contains(',') && value.replace(',', ".").parse::<f64>().is_ok() {
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
                self.error(row, column, format!("{}, found {value}", rule.message))
                    .with_hint(rule.hint),
            );
            None
        }
    }
}
