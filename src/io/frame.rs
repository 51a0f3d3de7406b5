//! Tables to bytes and back: the one place where result tables meet
//! polars' CSV and Parquet writers and readers.
//!
//! Owns [`Frame`], a neutral table (ordered, named, typed columns) that
//! every other module builds, and its conversion to CSV and Parquet bytes.
//! No module outside `io` names polars (tests/it/layers.rs checks it).
//!
//! Invariant: each [`Kind`] maps to one polars dtype (text and optional
//! text: String; number and optional number: Float64; count and optional
//! count: UInt64; flag: Boolean), so a table's bytes depend only on its
//! columns' names, kinds and values.

use std::fs;
use std::path::Path;

use polars::prelude::*;

/// What a column holds, which fixes its type in a Parquet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text that may be empty (written as an empty CSV cell, a Parquet null).
    OptionalText,
    Number,
    OptionalNumber,
    Count,
    OptionalCount,
    Flag,
}

/// The values of one column, in row order.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Text(Vec<String>),
    OptionalText(Vec<Option<String>>),
    Number(Vec<f64>),
    OptionalNumber(Vec<Option<f64>>),
    Count(Vec<u64>),
    OptionalCount(Vec<Option<u64>>),
    Flag(Vec<bool>),
}

impl Values {
    /// Numbers computed by symbiose: adding +0.0 turns -0.0 into 0.0, so
    /// that no table shows a negative zero.
    pub fn numbers(mut values: Vec<f64>) -> Values {
        for value in &mut values {
            *value += 0.0;
        }
        Values::Number(values)
    }

    /// Rows in the column.
    pub fn len(&self) -> usize {
        match self {
            Values::Text(values) => values.len(),
            Values::OptionalText(values) => values.len(),
            Values::Number(values) => values.len(),
            Values::OptionalNumber(values) => values.len(),
            Values::Count(values) => values.len(),
            Values::OptionalCount(values) => values.len(),
            Values::Flag(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self) -> Kind {
        match self {
            Values::Text(_) => Kind::Text,
            Values::OptionalText(_) => Kind::OptionalText,
            Values::Number(_) => Kind::Number,
            Values::OptionalNumber(_) => Kind::OptionalNumber,
            Values::Count(_) => Kind::Count,
            Values::OptionalCount(_) => Kind::OptionalCount,
            Values::Flag(_) => Kind::Flag,
        }
    }

    fn into_column(self, name: &str) -> Column {
        let name = name.into();
        match self {
            Values::Text(values) => Column::new(name, values),
            Values::OptionalText(values) => Column::new(name, values),
            Values::Number(values) => Column::new(name, values),
            Values::OptionalNumber(values) => Column::new(name, values),
            Values::Count(values) => Column::new(name, values),
            Values::OptionalCount(values) => Column::new(name, values),
            Values::Flag(values) => Column::new(name, values),
        }
    }
}

/// A table: named columns in file order, all of the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    columns: Vec<(String, Values)>,
}

impl Frame {
    pub fn new() -> Frame {
        Frame::default()
    }

    /// Appends a column after the others.
    pub fn push(&mut self, name: impl Into<String>, values: Values) {
        self.columns.push((name.into(), values));
    }

    /// The columns' names and kinds, in file order.
    pub fn header(&self) -> Vec<(&str, Kind)> {
        self.columns
            .iter()
            .map(|(name, values)| (name.as_str(), values.kind()))
            .collect()
    }

    /// The table as a polars data frame (the Python package hands it to
    /// Python through the Arrow C stream interface).
    pub fn to_data_frame(&self) -> Result<DataFrame, FrameError> {
        Ok(self.to_polars()?)
    }

    /// The columns, in file order.
    pub fn columns(&self) -> &[(String, Values)] {
        &self.columns
    }

    /// Rows of the first column (all have the same length once written).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, values)| values.len())
    }

    fn to_polars(&self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(
            self.columns
                .iter()
                .map(|(name, values)| values.clone().into_column(name))
                .collect(),
        )
    }
}

/// A table that polars could not write (columns of unequal lengths, or a
/// writer's failure), with polars' message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(String);

impl FrameError {
    pub fn new(message: impl Into<String>) -> FrameError {
        FrameError(message.into())
    }
}

impl From<PolarsError> for FrameError {
    fn from(error: PolarsError) -> FrameError {
        FrameError(error.to_string())
    }
}

/// Serialises a table as Parquet (readable by pandas and polars).
pub fn parquet_bytes(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    let mut frame = frame.to_polars()?;
    let mut buffer = Vec::new();
    ParquetWriter::new(&mut buffer).finish(&mut frame)?;
    Ok(buffer)
}

/// Serialises a table as CSV with a header row.
pub fn csv_bytes(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    Ok(polars_csv_bytes(&mut frame.to_polars()?)?)
}

fn polars_csv_bytes(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buffer = Vec::new();
    CsvWriter::new(&mut buffer)
        .include_header(true)
        .n_threads(1)
        .finish(frame)?;
    Ok(buffer)
}

/// A Parquet table as the CSV bytes `optimize` would have written for it,
/// so that one reader checks both formats (a problem's "line" is then the
/// row number + 1, the header being line 1).
pub fn parquet_as_csv(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut frame = ParquetReader::new(file)
        .finish()
        .map_err(|e| format!("not a readable Parquet table: {e}"))?;
    polars_csv_bytes(&mut frame).map_err(|e| format!("cannot convert the Parquet table: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_types_and_negative_zero_is_written_as_zero() {
        let mut frame = Frame::new();
        frame.push("id", Values::Text(vec!["a".into(), "b".into()]));
        frame.push("note", Values::OptionalText(vec![None, Some("x".into())]));
        frame.push("value", Values::numbers(vec![-0.0, 1.5]));
        frame.push("capacity", Values::OptionalNumber(vec![Some(2.0), None]));
        frame.push("n", Values::Count(vec![1, 2]));
        frame.push("n_links", Values::OptionalCount(vec![None, Some(3)]));
        frame.push("built", Values::Flag(vec![true, false]));
        assert_eq!(
            String::from_utf8(csv_bytes(&frame).unwrap()).unwrap(),
            "id,note,value,capacity,n,n_links,built\na,,0.0,2.0,1,,true\nb,x,1.5,,2,3,false\n"
        );
        let dtypes: Vec<DataType> = frame.to_polars().unwrap().dtypes();
        assert_eq!(
            dtypes,
            [
                DataType::String,
                DataType::String,
                DataType::Float64,
                DataType::Float64,
                DataType::UInt64,
                DataType::UInt64,
                DataType::Boolean
            ]
        );
        assert!(parquet_bytes(&frame).unwrap().starts_with(b"PAR1"));
    }

    #[test]
    fn columns_of_unequal_lengths_are_an_error() {
        let mut frame = Frame::new();
        frame.push("a", Values::Count(vec![1]));
        frame.push("b", Values::Count(vec![1, 2]));
        assert!(csv_bytes(&frame).is_err());
    }
}
