//! One declaration per output table: its columns' names and kinds in file
//! order, and which of them a report needs when it reads a results folder
//! back. The writer ([`TableBuilder`], used by `tables` and `study`) and
//! the reader (`results`) both take their columns from here, so that the
//! two cannot drift apart.
//!
//! Invariant: a table is written only through a [`TableBuilder`] of its
//! schema, which refuses a column that is not the schema's next one or is
//! of another kind (a programming error, caught by the test that builds
//! every table); the reader requires exactly the columns marked
//! [`Read::Required`], so an older results folder that lacks a column a
//! report does not use still reads.

use std::borrow::Cow;

use crate::io::outputs;
use crate::io::{Frame, Kind, Values};

/// What a report does with a column when it reads a results folder back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The header must name it.
    Required,
    /// Read when the header names it (columns added after the first release).
    IfPresent,
    /// Written for users and other tools only.
    Unread,
}

/// Whether every table of the schema has the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Always,
    /// Only with some options (the Shapley columns with `--allocation
    /// shapley`, sweep.csv's `mip_gap` with investments).
    Sometimes,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Cow<'static, str>,
    pub kind: Kind,
    pub read: Read,
    pub written: Written,
}

impl Column {
    /// A column that every table of its schema has.
    pub const fn new(name: &'static str, kind: Kind, read: Read) -> Column {
        Column {
            name: Cow::Borrowed(name),
            kind,
            read,
            written: Written::Always,
        }
    }

    /// A column of a table whose columns depend on its input (sweep.csv's
    /// varied parameters and categories), never read back.
    pub fn named(name: impl Into<Cow<'static, str>>, kind: Kind) -> Column {
        Column {
            name: name.into(),
            kind,
            read: Read::Unread,
            written: Written::Always,
        }
    }

    /// A column written only with some options, never read back.
    pub const fn sometimes(name: &'static str, kind: Kind) -> Column {
        Column {
            name: Cow::Borrowed(name),
            kind,
            read: Read::Unread,
            written: Written::Sometimes,
        }
    }
}

/// An output table: its file (as CSV) and its columns in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub file: &'static str,
    pub columns: Cow<'static, [Column]>,
}

impl TableSchema {
    /// The columns of `read`, in file order.
    pub fn columns_read(&self, read: Read) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|column| column.read == read)
            .map(|column| column.name.as_ref())
            .collect()
    }
}

use Kind::{Count, Flag, Number, OptionalNumber, OptionalText, Text};
use Read::{IfPresent, Required, Unread};

const fn required(name: &'static str, kind: Kind) -> Column {
    Column::new(name, kind, Required)
}

const fn unread(name: &'static str, kind: Kind) -> Column {
    Column::new(name, kind, Unread)
}

/// links.csv (docs/model.md A5): the links in use.
pub static LINKS: TableSchema = TableSchema {
    file: outputs::LINKS.csv,
    columns: Cow::Borrowed(&[
        required("supply_flow_id", Text),
        required("demand_flow_id", Text),
        required("supplier_firm_id", Text),
        required("receiver_firm_id", Text),
        required("supply_resource", Text),
        required("demand_resource", Text),
        required("distance_km", Number),
        required("quantity", Number),
        required("delivered", Number),
        required("unit_cost_eur", Number),
        required("surplus_eur", Number),
        required("supplier_value_eur", Number),
        required("receiver_value_eur", Number),
        required("externality_avoided_eur", Number),
        unread("unit_externality_eur", Number),
        // Additions for the report and GIS users (README, "Additions to the model").
        required("supply_category", Text),
        required("demand_category", Text),
        required("supply_unit", Text),
        required("demand_unit", Text),
    ]),
};

/// flow_results.csv (A5): every flow, quantities in the flow's own unit.
pub static FLOW_RESULTS: TableSchema = TableSchema {
    file: outputs::FLOW_RESULTS.csv,
    columns: Cow::Borrowed(&[
        required("flow_id", Text),
        required("firm_id", Text),
        required("kind", Text),
        required("resource", Text),
        required("unit", Text),
        required("quantity", Number),
        required("matched", Number),
        // Empty for a process input and for a service supply given no route.
        required("fallback", OptionalText),
        required("fallback_quantity", Number),
        required("shadow_price_eur_per_unit", Number),
    ]),
};

/// firm_values.csv (A5): every firm.
pub static FIRM_VALUES: TableSchema = TableSchema {
    file: outputs::FIRM_VALUES.csv,
    columns: Cow::Borrowed(&[
        required("firm_id", Text),
        required("name", Text),
        required("baseline_cost_eur", Number),
        required("optimized_cost_eur", Number),
        required("value_eur", Number),
        required("compensation_needed_eur", Number),
        required("n_links", Count),
        // Additions for the map and GIS users (README, "Additions to the model").
        required("lat", Number),
        required("lon", Number),
        Column::new("sector", OptionalText, IfPresent),
        Column::new("zone", OptionalText, IfPresent),
        // With `--allocation shapley` (value::allocation).
        Column::sometimes("shapley_value_eur", Number),
        Column::sometimes("shapley_standard_error_eur", Number),
    ]),
};

/// territory_values.csv (A5): every externality category.
pub static TERRITORY_VALUES: TableSchema = TableSchema {
    file: outputs::TERRITORY_VALUES.csv,
    columns: Cow::Borrowed(&[
        required("category", Text),
        required("unit", Text),
        required("scope", Text),
        required("baseline", Number),
        required("optimized", Number),
        required("avoided", Number),
        required("value_eur_per_unit", Number),
        required("value_eur", Number),
    ]),
};

/// processes.csv (docs/model.md B3): every conversion process.
pub static PROCESSES: TableSchema = TableSchema {
    file: outputs::PROCESSES.csv,
    columns: Cow::Borrowed(&[
        required("process_id", Text),
        required("firm_id", Text),
        required("activity", Number),
        // Empty for a process without a capacity.
        required("capacity", OptionalNumber),
        required("built", Flag),
        unread("operating_cost_eur", Number),
        unread("fixed_cost_eur", Number),
        unread("output_fallback_cost_eur", Number),
        required("cost_borne_eur", Number),
        required("externality_eur", Number),
    ]),
};

/// investments.csv (B4): every link and process with a fixed cost.
pub static INVESTMENTS: TableSchema = TableSchema {
    file: outputs::INVESTMENTS.csv,
    columns: Cow::Borrowed(&[
        required("kind", Text),
        required("id", Text),
        required("firm_ids", Text),
        unread("distance_km", Number),
        required("fixed_cost_eur_per_year", Number),
        required("built", Flag),
        required("quantity", Number),
    ]),
};

/// flow_slices.csv (B1): every flow in every time slice.
pub static FLOW_SLICES: TableSchema = TableSchema {
    file: outputs::FLOW_SLICES.csv,
    columns: Cow::Borrowed(&[
        required("flow_id", Text),
        required("slice", Text),
        required("hours", Number),
        unread("unit", Text),
        required("quantity", Number),
        required("matched", Number),
        unread("fallback_quantity", Number),
        unread("shadow_price_eur_per_unit", Number),
    ]),
};

/// link_slices.csv (B1): every link in use in every time slice.
pub static LINK_SLICES: TableSchema = TableSchema {
    file: outputs::LINK_SLICES.csv,
    columns: Cow::Borrowed(&[
        unread("supply_flow_id", Text),
        unread("demand_flow_id", Text),
        unread("slice", Text),
        unread("quantity", Number),
        unread("delivered", Number),
    ]),
};

/// services.csv (B2 across the slices of B1): each shared service.
pub static SERVICES: TableSchema = TableSchema {
    file: outputs::SERVICES.csv,
    columns: Cow::Borrowed(&[
        required("resource", Text),
        required("unit", Text),
        required("n_demands", Count),
        required("n_shared_supplies", Count),
        required("peak_without_sharing_per_hour", Number),
        required("peak_with_sharing_per_hour", Number),
        required("capacity_saved_per_hour", Number),
        required("delivered", Number),
        required("firm_value_eur", Number),
        required("territory_value_eur", Number),
    ]),
};

/// A table that does not follow its schema: a programming error in the
/// code that builds it, never a problem of the user's input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file} does not follow its schema (report::schema): {message}")]
pub struct SchemaMismatch {
    pub file: String,
    pub message: String,
}

/// Builds a [`Frame`] column by column, in the order of its schema.
pub struct TableBuilder<'s> {
    schema: &'s TableSchema,
    /// The position of the next column the schema expects.
    next: usize,
    frame: Frame,
    mismatch: Option<String>,
}

impl<'s> TableBuilder<'s> {
    pub fn new(schema: &'s TableSchema) -> TableBuilder<'s> {
        TableBuilder {
            schema,
            next: 0,
            frame: Frame::new(),
            mismatch: None,
        }
    }

    pub fn text(self, name: &str, values: Vec<String>) -> Self {
        self.push(name, Values::Text(values))
    }

    pub fn optional_text(self, name: &str, values: Vec<Option<String>>) -> Self {
        self.push(name, Values::OptionalText(values))
    }

    /// Numbers symbiose computed: -0.0 is written 0.0 ([`Values::numbers`]).
    pub fn number(self, name: &str, values: Vec<f64>) -> Self {
        self.push(name, Values::numbers(values))
    }

    /// Numbers the user gave (a swept parameter's values), written as given.
    pub fn number_as_given(self, name: &str, values: Vec<f64>) -> Self {
        self.push(name, Values::Number(values))
    }

    /// Written as given: the caller adds +0.0 where a value is computed.
    pub fn optional_number(self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.push(name, Values::OptionalNumber(values))
    }

    pub fn count(self, name: &str, values: Vec<u64>) -> Self {
        self.push(name, Values::Count(values))
    }

    pub fn optional_count(self, name: &str, values: Vec<Option<u64>>) -> Self {
        self.push(name, Values::OptionalCount(values))
    }

    pub fn flag(self, name: &str, values: Vec<bool>) -> Self {
        self.push(name, Values::Flag(values))
    }

    /// Appends `values` as the column `name`, which must be the schema's
    /// next column (columns written only sometimes may be skipped) and of
    /// the schema's kind.
    pub fn push(mut self, name: &str, values: Values) -> Self {
        if self.mismatch.is_some() {
            return self;
        }
        let columns = &self.schema.columns[self.next..];
        let skippable = columns
            .iter()
            .take_while(|column| column.name != name && column.written == Written::Sometimes)
            .count();
        match columns.get(skippable) {
            Some(column) if column.name == name && column.kind == values.kind() => {
                self.next += skippable + 1;
                self.frame.push(name, values);
            }
            Some(column) if column.name == name => {
                self.mismatch = Some(format!(
                    "column {name} holds {:?} values, the schema says {:?}",
                    values.kind(),
                    column.kind
                ));
            }
            Some(column) => {
                self.mismatch = Some(format!("column {name} where the schema expects {}", column.name));
            }
            None => self.mismatch = Some(format!("column {name} after the schema's last column")),
        }
        self
    }

    /// The table, once every column the schema always has was pushed.
    /// Hands the builder to `f` (a group of columns several tables share).
    pub fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }

    pub fn finish(self) -> Result<Frame, SchemaMismatch> {
        let missing = self.schema.columns[self.next..]
            .iter()
            .find(|column| column.written == Written::Always);
        let message = match (self.mismatch, missing) {
            (Some(message), _) => message,
            (None, Some(column)) => format!("column {} is missing", column.name),
            (None, None) => return Ok(self.frame),
        };
        Err(SchemaMismatch {
            file: self.schema.file.to_string(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> TableSchema {
        TableSchema {
            file: "t.csv",
            columns: Cow::Owned(vec![
                required("id", Text),
                Column::sometimes("extra", Number),
                required("n", Count),
            ]),
        }
    }

    #[test]
    fn columns_follow_the_schema_in_order_and_kind() {
        let schema = small();
        let built = TableBuilder::new(&schema)
            .text("id", vec!["a".into()])
            .count("n", vec![1])
            .finish()
            .unwrap();
        assert_eq!(built.header(), [("id", Text), ("n", Count)]);
        let with_extra = TableBuilder::new(&schema)
            .text("id", vec!["a".into()])
            .number("extra", vec![1.0])
            .count("n", vec![1])
            .finish();
        assert!(with_extra.is_ok());
        let message = |builder: TableBuilder| builder.finish().unwrap_err().message;
        assert_eq!(
            message(TableBuilder::new(&schema).count("n", vec![1])),
            "column n where the schema expects id"
        );
        assert_eq!(
            message(TableBuilder::new(&schema).number("id", vec![1.0])),
            "column id holds Number values, the schema says Text"
        );
        assert_eq!(
            message(TableBuilder::new(&schema).text("id", vec![])),
            "column n is missing"
        );
        assert_eq!(
            message(
                TableBuilder::new(&schema)
                    .text("id", vec![])
                    .count("n", vec![])
                    .count("n", vec![])
            ),
            "column n after the schema's last column"
        );
    }
}
