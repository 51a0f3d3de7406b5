//! Helpers shared by the tests of the output modules: a set of files, a
//! write of it under the lock, and the names a folder holds.

use std::fs;
use std::path::Path;

use super::lock::lock_output;
use super::output_set::{write_outputs_atomically, WriteError, WriteMode};
use super::outputs::Family;

pub(super) fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// Writes a set of `optimize`'s files (or a sweep's), holding the lock.
pub(super) fn write(out: &Path, files: &[(String, Vec<u8>)]) -> Result<WriteMode, WriteError> {
    let family = if files.iter().any(|(name, _)| name.starts_with("sweep")) {
        Family::Sweep
    } else {
        Family::Results
    };
    write_outputs_atomically(&lock_output(out).unwrap(), family, files, false)
}

pub(super) fn set(names: &[&str], content: &str) -> Vec<(String, Vec<u8>)> {
    names
        .iter()
        .map(|name| (name.to_string(), content.as_bytes().to_vec()))
        .collect()
}
