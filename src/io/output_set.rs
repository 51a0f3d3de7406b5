//! Output files written as one set: built in a staging folder beside the
//! output folder and swapped into place, or, into a folder that holds
//! other files, file by file with `summary.json` renamed last.
//!
//! Invariant: a reader, or a run killed at any moment, never sees a mix of
//! old and new files nor of two runs' sets; every name written is one of
//! its [`Family`]'s, and files the user wrote are not replaced unless
//! forced.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::lock::{cannot_move_here, parent_and_name, OutputLock, INNER_LOCK};
use super::manifest::{files_not_written_by_symbiose, Manifest, OUTPUT_MARKER};
use super::outputs::{Family, SUMMARY};
use super::recovery::{clean_abandoned_temporaries, leftover_name, recover_interrupted_writes, LeftoverKind};

/// Test-only: milliseconds to sleep after each step of a write, so that the
/// kill test (tests/it/kill.rs) can interrupt a write at many moments. Not
/// for users: it only slows writes down.
pub const TEST_WRITE_DELAY_VARIABLE: &str = "SYMBIOSE_TEST_WRITE_DELAY_MS";

fn test_write_delay() {
    if let Some(ms) = std::env::var(TEST_WRITE_DELAY_VARIABLE)
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// How a set of outputs reached its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The folder was built complete under a staging name beside it and
    /// swapped into place: it is the previous set or the new one, never a mix.
    WholeFolder,
    /// The folder holds files symbiose does not write: each output was
    /// renamed over its name, `summary.json` last.
    FileByFile,
}

/// Why a set of outputs was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// `catalogue` or `generate` would replace files of the names it
    /// writes that symbiose did not write (or that were edited since);
    /// nothing was written.
    #[error(
        "{} holds {} that symbiose did not write: {}; nothing was written (move {} away, choose another --out, or give --force to replace {})",
        .dir.display(),
        if .files.len() == 1 { "a file" } else { "files" },
        .files.join(", "),
        if .files.len() == 1 { "it" } else { "them" },
        if .files.len() == 1 { "it" } else { "them" }
    )]
    NotWrittenBySymbiose { dir: PathBuf, files: Vec<String> },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes a set of output files of `family` into the locked folder so that
/// a reader, or a run killed at any moment, never leaves a mix of old and
/// new files, nor a mix of two runs' sets.
///
/// Every name must be one of [`Family::files`]. For a family whose names a
/// user's files may have (`catalogue`, `generate`), files of those names
/// that symbiose did not write, or that were edited since, are refused
/// unless `force`.
///
/// When the folder does not exist, or holds nothing but an earlier output
/// of the same family (its files, the [`OUTPUT_MARKER`], temporary files of
/// killed runs), the whole set is written and fsynced into a fresh staging
/// folder beside it (same parent, so renames are atomic), then swapped in:
/// renamed into place, or exchanged with the old folder in one step
/// (`renameat2(RENAME_EXCHANGE)` on Linux; elsewhere the old folder is
/// renamed to a backup name, the staging folder into place, and the backup
/// deleted). What a kill leaves: the previous complete folder (or none,
/// when there was none) or the new complete one, plus a leftover staging
/// or backup folder that the next write into the same folder deletes or,
/// for a backup whose folder is missing, renames back.
///
/// When the folder holds other files, those are kept: each output goes to
/// a temporary file in the folder, is fsynced, then renamed over its name;
/// files of the family's names that this set does not have (an earlier
/// run's) are removed; `summary.json` is removed first and renamed last,
/// so its presence means the whole set is complete.
pub fn write_outputs_atomically(
    lock: &OutputLock,
    family: Family,
    files: &[(String, Vec<u8>)],
    force: bool,
) -> Result<WriteMode, WriteError> {
    let dir = lock.dir();
    let names = family.files();
    if let Some((name, _)) = files.iter().find(|(name, _)| !names.contains(&name.as_str())) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{name} is not a file that {} writes (outputs::Family::files)",
                family.command()
            ),
        )
        .into());
    }
    if family.names_user_files() && !force {
        let foreign = files_not_written_by_symbiose(dir, family)?;
        if !foreign.is_empty() {
            return Err(WriteError::NotWrittenBySymbiose {
                dir: dir.to_path_buf(),
                files: foreign,
            });
        }
    }
    Ok(write_set(dir, family, files)?)
}

fn write_set(dir: &Path, family: Family, files: &[(String, Vec<u8>)]) -> std::io::Result<WriteMode> {
    let Some((parent, name)) = parent_and_name(dir) else {
        write_file_by_file(dir, family, files)?;
        return Ok(WriteMode::FileByFile);
    };
    fs::create_dir_all(&parent)?;
    recover_interrupted_writes(&parent, &name)?;
    let exists = match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            if !holds_only_outputs_of(dir, family)? {
                write_file_by_file(dir, family, files)?;
                return Ok(WriteMode::FileByFile);
            }
            true
        }
        // A link to a folder: write through it, keeping the link.
        Ok(meta) if meta.file_type().is_symlink() && dir.is_dir() => {
            write_file_by_file(dir, family, files)?;
            return Ok(WriteMode::FileByFile);
        }
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a folder", dir.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    let pid = std::process::id();
    let staging = parent.join(leftover_name(&name, LeftoverKind::Staging, pid));
    // Ok(false): the folder cannot be moved (a mount point, or a parent
    // folder the user may not write in) and nothing was changed.
    let result = (|| -> std::io::Result<bool> {
        if let Err(error) = fs::create_dir(&staging) {
            return if exists && cannot_move_here(&error) {
                Ok(false)
            } else {
                Err(error)
            };
        }
        // Only a family whose names a user's files have needs the hashes;
        // the others' marker stays the same from run to run.
        let manifest = if family.names_user_files() {
            Manifest::of(files)
        } else {
            Manifest::default()
        };
        let marker_entry = (OUTPUT_MARKER.to_string(), manifest.bytes());
        // The files are written and fsynced on rayon's workers: none is
        // visible before the folder is swapped in, whatever the order.
        let entries: Vec<&(String, Vec<u8>)> = files.iter().chain(std::iter::once(&marker_entry)).collect();
        entries.par_iter().try_for_each(|(file, bytes)| {
            let mut handle = fs::File::create(staging.join(file))?;
            handle.write_all(bytes)?;
            handle.sync_all()?;
            test_write_delay();
            Ok::<(), std::io::Error>(())
        })?;
        sync_folder(&staging)?;
        if exists {
            return swap_folders(&parent, &name, &staging, dir, pid);
        }
        fs::rename(&staging, dir)?;
        test_write_delay();
        sync_folder(&parent)?;
        Ok(true)
    })();
    if !matches!(result, Ok(true)) && staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    match result? {
        true => Ok(WriteMode::WholeFolder),
        false => {
            write_file_by_file(dir, family, files)?;
            Ok(WriteMode::FileByFile)
        }
    }
}

/// Writes one file `name` into the locked folder (which may hold anything)
/// so that readers see the old version or the new one: a temporary file
/// beside it, fsynced, renamed over it.
pub fn write_file_atomically(lock: &OutputLock, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = lock.dir();
    fs::create_dir_all(dir)?;
    clean_abandoned_temporaries(dir, &[name])?;
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, dir.join(name))?;
        sync_folder(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Whether every entry of `dir` is a file of `family`, the marker, or a
/// temporary file of an interrupted write.
fn holds_only_outputs_of(dir: &Path, family: Family) -> std::io::Result<bool> {
    let names = family.files();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            return Ok(false);
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Ok(false);
        };
        let temporary = name.starts_with('.') && name.contains(".tmp-");
        if !(name == OUTPUT_MARKER || name == INNER_LOCK || temporary || names.contains(&name)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Puts the complete `staging` folder in the place of the existing `dir`.
fn swap_folders(parent: &Path, name: &str, staging: &Path, dir: &Path, pid: u32) -> std::io::Result<bool> {
    match exchange(staging, dir) {
        Ok(true) => {
            // `staging` now holds the previous set; what cannot be deleted
            // now, the next write into the folder deletes.
            test_write_delay();
            sync_folder(parent)?;
            let _ = fs::remove_dir_all(staging);
            return Ok(true);
        }
        Ok(false) => {}
        Err(error) if cannot_move_here(&error) => return Ok(false),
        Err(error) => return Err(error),
    }
    let backup = parent.join(leftover_name(name, LeftoverKind::Backup, pid));
    match fs::rename(dir, &backup) {
        Ok(()) => {}
        Err(error) if cannot_move_here(&error) => return Ok(false),
        Err(error) => return Err(error),
    }
    test_write_delay();
    if let Err(error) = fs::rename(staging, dir) {
        // Put the previous set back.
        let _ = fs::rename(&backup, dir);
        return Err(error);
    }
    test_write_delay();
    sync_folder(parent)?;
    let _ = fs::remove_dir_all(&backup);
    Ok(true)
}

/// Swaps two paths in one atomic step; `Ok(false)` where the system or the
/// file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let to_c = |path: &Path| {
        CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (a, b) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        // Not supported by this kernel or file system: fall back to two renames.
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Flushes a folder's entries (new names, renames) to disk.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` as `dir/name` through a temporary file, fsynced, renamed.
fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, dir.join(name))
}

/// Each file to a temporary name in `dir`, fsynced, then renamed over its
/// name; `summary.json` removed first and renamed last. Files of the
/// family's names that the set does not have are an earlier run's and are
/// removed (for `catalogue` and `generate`, only those the marker says
/// symbiose wrote), so the folder never mixes two runs' sets.
fn write_file_by_file(dir: &Path, family: Family, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let names = family.files();
    let with_marker: Vec<&str> = names.iter().copied().chain([OUTPUT_MARKER]).collect();
    clean_abandoned_temporaries(dir, &with_marker)?;
    let manifest = Manifest::read(dir);
    let mut stale = Vec::new();
    for name in names
        .iter()
        .filter(|name| !files.iter().any(|(file, _)| file.as_str() == **name))
    {
        let path = dir.join(name);
        if !fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
            continue;
        }
        if !family.names_user_files() || manifest.lists(name, &fs::read(&path)?) {
            stale.push(path);
        }
    }
    let mut staged = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, bytes) in files {
            let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
            let mut file = fs::File::create(&temporary)?;
            staged.push((temporary.clone(), dir.join(name)));
            file.write_all(bytes)?;
            file.sync_all()?;
            test_write_delay();
        }
        let marker = dir.join(SUMMARY);
        if staged.iter().any(|(_, target)| *target == marker) && marker.exists() {
            fs::remove_file(&marker)?;
        }
        for path in &stale {
            fs::remove_file(path)?;
            test_write_delay();
        }
        if family.names_user_files() {
            // Until every file is renamed, both the old bytes and the new
            // are symbiose's.
            replace_file(dir, OUTPUT_MARKER, &manifest.updated(family, files, true).bytes())?;
        }
        staged.sort_by_key(|(_, target)| *target == marker);
        for (temporary, target) in &staged {
            fs::rename(temporary, target)?;
            test_write_delay();
        }
        if family.names_user_files() {
            replace_file(dir, OUTPUT_MARKER, &manifest.updated(family, files, false).bytes())?;
        }
        sync_folder(dir)
    })();
    if result.is_err() {
        for (temporary, _) in &staged {
            let _ = fs::remove_file(temporary);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::catalogue_files;
    use crate::io::lock::lock_output;
    use crate::io::test_util::{names_in, set, write};

    #[test]
    fn an_output_folder_is_created_whole_with_its_marker_and_nothing_left_beside_it() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::WholeFolder);
        assert_eq!(names_in(&out), vec![OUTPUT_MARKER, "links.csv", "summary.json"]);
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn an_earlier_output_of_the_same_kind_is_replaced_whole() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        write(&out, &set(&["links.csv", "summary.json", "report.html"], "old")).unwrap();
        // A temporary file of an interrupted file-by-file write is ours too.
        fs::write(out.join(".links.csv.tmp-12"), "partial").unwrap();
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::WholeFolder);
        // The stale report.html, which no longer matches the tables, is gone.
        assert_eq!(names_in(&out), vec![OUTPUT_MARKER, "links.csv", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("links.csv")).unwrap(), "new");
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn a_folder_with_other_files_keeps_them_and_is_written_file_by_file() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(out.join("summary.json"), "old").unwrap();
        let mode = write(&out, &set(&["links.csv", "summary.json"], "new")).unwrap();
        assert_eq!(mode, WriteMode::FileByFile);
        assert_eq!(names_in(&out), vec!["links.csv", "notes.txt", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "new");
        // Another command's outputs are other files too: a sweep does not
        // wipe the tables of an optimize run.
        let mode = write(&out, &set(&["sweep.csv"], "sweep")).unwrap();
        assert_eq!(mode, WriteMode::FileByFile);
        assert!(out.join("links.csv").exists());
    }

    #[test]
    fn a_folder_of_user_files_loses_the_earlier_runs_files_that_the_new_set_lacks() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let first = ["summary.json", "links.csv", "services.csv", "report.html"];
        assert_eq!(write(&out, &set(&first, "old")).unwrap(), WriteMode::FileByFile);
        fs::write(out.join("sweep.csv"), "another command's").unwrap();
        write(&out, &set(&["summary.json", "links.parquet"], "new")).unwrap();
        // The first run's CSV table, Part B table and report are gone; the
        // user's file and another family's file stay.
        assert_eq!(
            names_in(&out),
            vec!["links.parquet", "notes.txt", "summary.json", "sweep.csv"]
        );
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[test]
    fn a_name_outside_the_registry_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let error = write(&out, &set(&["summary.json", "extra.csv"], "x")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("extra.csv is not a file that optimize writes"),
            "{error}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn catalogue_files_replace_only_what_symbiose_wrote_unless_forced() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("inventory");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("firms.csv"), "the user's").unwrap();
        fs::write(out.join("routes.csv"), "the user's routes").unwrap();
        let write_catalogue = |force: bool| {
            write_outputs_atomically(
                &lock_output(&out).unwrap(),
                Family::Catalogue,
                &catalogue_files(),
                force,
            )
        };
        match write_catalogue(false) {
            Err(WriteError::NotWrittenBySymbiose { files, .. }) => assert_eq!(files, vec!["routes.csv"]),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(names_in(&out), vec!["firms.csv", "routes.csv"]);
        assert_eq!(fs::read_to_string(out.join("routes.csv")).unwrap(), "the user's routes");
        write_catalogue(true).unwrap();
        assert!(names_in(&out).contains(&"resources.csv".to_string()));
        assert_eq!(fs::read_to_string(out.join("firms.csv")).unwrap(), "the user's");
        // What symbiose wrote it may replace again; a file edited since, not.
        write_catalogue(false).unwrap();
        fs::write(out.join("impacts.csv"), "edited").unwrap();
        match write_catalogue(false) {
            Err(WriteError::NotWrittenBySymbiose { files, .. }) => assert_eq!(files, vec!["impacts.csv"]),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(out.join("impacts.csv")).unwrap(), "edited");
        // A folder of its own is replaced whole, run after run.
        let own = work.path().join("catalogue");
        for _ in 0..2 {
            let mode = write_outputs_atomically(
                &lock_output(&own).unwrap(),
                Family::Catalogue,
                &catalogue_files(),
                false,
            );
            assert_eq!(mode.unwrap(), WriteMode::WholeFolder);
        }
    }

    #[test]
    fn a_file_in_the_place_of_the_folder_is_an_error() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        fs::write(&out, "a file").unwrap();
        assert!(write(&out, &set(&["summary.json"], "new")).is_err());
        assert_eq!(fs::read_to_string(&out).unwrap(), "a file");
        assert_eq!(names_in(work.path()), vec!["res"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_folder_is_written_through_the_link() {
        let work = tempfile::tempdir().unwrap();
        let target = work.path().join("target");
        fs::create_dir(&target).unwrap();
        let link = work.path().join("res");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, &set(&["summary.json"], "new")).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(target.join("summary.json")).unwrap(), "new");
    }

    #[test]
    fn one_file_is_replaced_without_touching_its_folder() {
        let work = tempfile::tempdir().unwrap();
        fs::write(work.path().join("mine.txt"), "mine").unwrap();
        let lock = lock_output(work.path()).unwrap();
        write_file_atomically(&lock, "report.html", b"page").unwrap();
        drop(lock);
        assert_eq!(names_in(work.path()), vec!["mine.txt", "report.html"]);
    }
}
