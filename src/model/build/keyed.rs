//! The rows of keyed tables and the ids that resolve references to them:
//! one row per key, duplicates reported, a default catalogue file merged
//! with its override.
//!
//! Invariant: a row with errors keeps its key, and a file whose keys are
//! unknown (unreadable, or a required column missing) is not complete, so
//! that a reference to either is never reported as unknown on top of the
//! real problem.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;

use super::Builder;
use crate::model::table::{InputError, RawRow, RawTable, Schema, TableFile, TableReader};

/// Where a row came from.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub(super) file: String,
    pub(super) line: usize,
}

impl Place {
    pub(super) fn error(&self, column: &str, message: impl Into<String>) -> InputError {
        InputError::at(&self.file, self.line, Some(column), message)
    }
}

/// One row of a keyed table: its key, where it is, and its record, `None`
/// when the row has errors (already reported).
#[derive(Debug, Clone)]
pub(super) struct KeyedRow<K, T> {
    pub(super) key: K,
    pub(super) place: Place,
    pub(super) record: Option<T>,
}

/// The rows of a file, or of a default catalogue file merged with its
/// override, one per key. Rows with errors keep their key, so that a
/// reference to them is not reported as unknown on top of their own errors.
pub(super) struct Keyed<K, T> {
    pub(super) rows: Vec<KeyedRow<K, T>>,
    /// False when a file could not be read or lacks a required column: which
    /// keys it holds is then unknown.
    pub(super) complete: bool,
}

impl<K: Eq + std::hash::Hash, T> Keyed<K, T> {
    /// The valid rows, in order.
    pub(super) fn valid(&self) -> impl Iterator<Item = (&K, &Place, &T)> {
        self.rows
            .iter()
            .filter_map(|row| Some((&row.key, &row.place, row.record.as_ref()?)))
    }

    /// Whether a reference to `key` may be right: some row names it (valid
    /// or not), or the file's keys are unknown.
    pub(super) fn names(&self, key: &K) -> bool {
        !self.complete || self.rows.iter().any(|row| row.key == *key)
    }
}

impl<T> Keyed<String, T> {
    /// The ids of the valid rows, numbered in order, for resolving references.
    pub(super) fn ids<I: Copy>(&self, make: impl Fn(usize) -> I) -> Ids<'_, I> {
        Ids {
            valid: self
                .valid()
                .enumerate()
                .map(|(position, (id, _, _))| (id.as_str(), make(position)))
                .collect(),
            named: self.rows.iter().map(|row| row.key.as_str()).collect(),
            complete: self.complete,
        }
    }
}

/// The ids of one kind of entity, to resolve references to it.
pub(super) struct Ids<'a, I> {
    /// Valid ids and their index.
    valid: HashMap<&'a str, I>,
    /// Every id a row names, valid or not.
    named: HashSet<&'a str>,
    /// False when the file's ids are unknown (unreadable, or a required
    /// column is missing): no reference to it is reported as unknown.
    pub(super) complete: bool,
}

impl<I: Copy> Ids<'_, I> {
    pub(super) fn get(&self, id: &str) -> Option<I> {
        self.valid.get(id).copied()
    }

    /// Whether `id` may be right although it is not valid: its row has
    /// errors, or the file's ids are unknown.
    pub(super) fn names(&self, id: &str) -> bool {
        !self.complete || self.named.contains(id)
    }

    /// Resolves `id`, pushing `unknown()` only when no row names it.
    pub(super) fn resolve(
        &self,
        id: &str,
        errors: &mut Vec<InputError>,
        unknown: impl FnOnce() -> InputError,
    ) -> Option<I> {
        let found = self.get(id);
        if found.is_none() && !self.names(id) {
            errors.push(unknown());
        }
        found
    }
}

/// Reads the key of a row from one column, without reporting anything (the
/// row's parser reports an empty key).
pub(super) fn key_in(column: &'static str) -> impl Fn(&TableReader, &RawRow) -> Option<String> {
    move |reader, row| reader.cell(row, column).map(str::to_string)
}

/// Reads a key made of two columns, as [`key_in`].
pub(super) fn pair_key_in(
    first: &'static str,
    second: &'static str,
) -> impl Fn(&TableReader, &RawRow) -> Option<(String, String)> {
    move |reader, row| {
        Some((
            reader.cell(row, first)?.to_string(),
            reader.cell(row, second)?.to_string(),
        ))
    }
}

/// Ids resolved like [`Ids`], owning their strings (for tables whose ids are
/// not a single key column, such as profiles.csv).
pub(super) struct OwnedIds<I> {
    pub(super) valid: HashMap<String, I>,
    pub(super) named: HashSet<String>,
    pub(super) complete: bool,
}

impl<I> OwnedIds<I> {
    /// No ids yet, for the rows of `file`, and its table when it was read;
    /// the ids are not complete when the file could not be read.
    pub(super) fn for_file(file: &TableFile) -> (Self, Option<&RawTable>) {
        let ids = OwnedIds {
            valid: HashMap::new(),
            named: HashSet::new(),
            complete: !matches!(file, TableFile::Unreadable),
        };
        (ids, file.table())
    }
}

impl<I: Copy> OwnedIds<I> {
    pub(super) fn resolve(
        &self,
        id: &str,
        errors: &mut Vec<InputError>,
        unknown: impl FnOnce() -> InputError,
    ) -> Option<I> {
        let found = self.valid.get(id).copied();
        if found.is_none() && self.complete && !self.named.contains(id) {
            errors.push(unknown());
        }
        found
    }
}

impl Builder<'_> {
    /// Parses the default and the override table of one catalogue file and
    /// merges them by key: an override row replaces the default row, even
    /// when it has errors (the user meant to replace it).
    pub(super) fn merged<K: Ord + Clone + Debug + std::hash::Hash, T>(
        &mut self,
        default: &TableFile,
        overrides: &TableFile,
        schema: &Schema,
        key_of: impl Fn(&TableReader, &RawRow) -> Option<K>,
        mut parse: impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<T>,
    ) -> Keyed<K, T> {
        let mut merged = BTreeMap::new();
        let mut complete = true;
        for file in [default, overrides] {
            match file {
                TableFile::Absent => {}
                TableFile::Unreadable => complete = false,
                TableFile::Read(table) => {
                    let parsed = self.parse_keyed(table, schema, &key_of, &mut parse);
                    complete &= parsed.complete;
                    for row in parsed.rows {
                        merged.insert(row.key.clone(), row);
                    }
                }
            }
        }
        Keyed {
            rows: merged.into_values().collect(),
            complete,
        }
    }

    /// Parses each row of a table, in file order, reporting duplicate keys
    /// within the file. `key_of` reads a row's key even when `parse` finds
    /// errors in the row.
    pub(super) fn parse_keyed<K: Ord + Clone + Debug + std::hash::Hash, T>(
        &mut self,
        table: &RawTable,
        schema: &Schema,
        key_of: &impl Fn(&TableReader, &RawRow) -> Option<K>,
        parse: &mut impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<T>,
    ) -> Keyed<K, T> {
        let Some(reader) = TableReader::new(table, schema, self.errors, self.warnings)
            .map(|reader| reader.with_magnitude_limit(super::table::MAX_MAGNITUDE))
        else {
            return Keyed {
                rows: Vec::new(),
                complete: false,
            };
        };
        let mut first_lines: HashMap<K, usize> = HashMap::new();
        let mut rows = Vec::new();
        for row in &table.rows {
            let record = parse(&reader, row, self.errors);
            let Some(key) = key_of(&reader, row) else {
                continue;
            };
            if let Some(first_line) = first_lines.get(&key) {
                self.errors.push(
                    InputError::at(
                        &table.file,
                        row.line,
                        Some(schema.required[0]),
                        format!("duplicate key {key:?}, first given on line {first_line}"),
                    )
                    .with_hint("ids must be unique within a file: remove or rename one of the rows"),
                );
                continue;
            }
            first_lines.insert(key.clone(), row.line);
            rows.push(KeyedRow {
                key,
                place: Place {
                    file: table.file.clone(),
                    line: row.line,
                },
                record,
            });
        }
        Keyed { rows, complete: true }
    }
}
