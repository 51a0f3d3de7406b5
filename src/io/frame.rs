//! Tables to bytes and back: the one place where result tables meet
//! polars' CSV and Parquet writers and readers.

use std::fs;
use std::path::Path;

use polars::prelude::*;

/// Serialises a table as Parquet (readable by pandas and polars).
pub fn parquet_bytes(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buffer = Vec::new();
    ParquetWriter::new(&mut buffer).finish(frame)?;
    Ok(buffer)
}

/// Serialises a table as CSV with a header row.
pub fn csv_bytes(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
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
    csv_bytes(&mut frame).map_err(|e| format!("cannot convert the Parquet table: {e}"))
}
