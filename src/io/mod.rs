//! Files in and out: inventories read from a CSV folder, an xlsx workbook
//! or the embedded default catalogue and Dunkirk example, and output
//! folders written as one set that a killed run cannot leave half old,
//! half new.
//!
//! Owns: bytes to [`RawTable`](crate::model::RawTable) (file formats and
//! encodings, BOM, line ends, quoting, ragged rows, line numbers) and
//! output bytes to disk (locks, staging folder, fsync, swap; leftovers of
//! killed runs). Must not interpret cells: typing and validation live in
//! `model::build`.
//!
//! - `source`: where an inventory comes from, the embedded data,
//!   [`load_inventory`];
//! - `unread`: warnings for files and sheets that no table is read from;
//! - `xlsx`: workbook sheets as raw tables;
//! - `scan`: decoding and the RFC 4180 record scanner, [`parse_csv`];
//! - `lock`: [`OutputLock`] and [`refuse_output_over_inputs`];
//! - `output_set`: [`write_outputs_atomically`], whole folder or file by file;
//! - `manifest`: the [`OUTPUT_MARKER`] file and the hashes it lists;
//! - `recovery`: leftovers of killed writes;
//! - `frame`: [`Frame`], the neutral table, to CSV and Parquet bytes (the
//!   only module that names polars);
//! - `workbook`: result tables to results.xlsx (`--format xlsx`);
//! - `outputs`: the registry of output file names.

pub mod frame;
mod lock;
mod manifest;
mod output_set;
pub mod outputs;
mod recovery;
mod scan;
mod source;
mod unread;
pub mod workbook;
mod xlsx;

pub use frame::{csv_bytes, parquet_as_csv, parquet_bytes, Frame, FrameError, Kind, Values};
pub use lock::{lock_output, refuse_output_over_inputs, LockError, OutputLock, INNER_LOCK};
pub use manifest::OUTPUT_MARKER;
pub use output_set::{
    write_file_atomically, write_outputs_atomically, WriteError, WriteMode, TEST_WRITE_DELAY_VARIABLE,
};
pub use outputs::TableFormat;
pub use scan::{parse_csv, parse_csv_with, CsvDialect};
pub use source::{
    catalogue_files, embedded_catalogue, load_inventory, load_inventory_with, read_uncertainty_table, InventorySource,
    LoadError, Loaded, BUNDLED_DUNKIRK, CATALOGUE_FILES, DEFAULT_CATALOGUE, INVENTORY_FILES, PART_B_FILES,
    UNCERTAINTY_FILE,
};
pub use workbook::xlsx_bytes;

#[cfg(test)]
mod test_util;
