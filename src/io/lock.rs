//! The advisory lock on an output folder ([`OutputLock`]) and the refusal
//! to write an output over one of the command's inputs.
//!
//! Invariant: two runs never write into one folder at once (the second
//! fails at once, naming the holder's pid), every spelling of a folder
//! (links, `..`) gives the same lock, and no output replaces an input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::outputs::Family;

/// An advisory lock on an output folder: the file `.NAME.symbiose-lock`
/// beside the folder (in its parent, so that swapping the folder does not
/// move it), locked with `flock` and holding the process id. A command
/// takes it before it solves and keeps it until its set is written, so
/// that two runs into one folder cannot mix their files; the second is
/// told which process holds the folder. Dropping the lock removes the file.
#[derive(Debug)]
pub struct OutputLock {
    /// The output folder as the user named it (written through, link or not).
    dir: PathBuf,
    path: PathBuf,
    _file: fs::File,
    /// Parent folders created to hold the lock, deepest first: removed
    /// again when the lock is dropped if they are still empty (a run that
    /// failed before writing leaves no trace).
    created: Vec<PathBuf>,
}

impl OutputLock {
    /// The output folder this lock is for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened the file meanwhile
        // sees that it no longer names the lock and opens the new one.
        let _ = fs::remove_file(&self.path);
        for folder in &self.created {
            // Fails, as it should, once the folder holds the outputs.
            let _ = fs::remove_dir(folder);
        }
    }
}

/// Why an output folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another symbiose run{} is writing into {}: wait for it to finish or choose another --out",
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        .dir.display()
    )]
    Busy { dir: PathBuf, pid: Option<u32> },
    #[error("cannot write beside {} ({}): {source}", .dir.display(), .path.display())]
    Io {
        dir: PathBuf,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lock file inside an existing output folder whose parent cannot be
/// written (then the folder is written file by file anyway).
pub const INNER_LOCK: &str = ".symbiose-lock";

/// Takes the lock of the output folder `dir` (see [`OutputLock`]),
/// creating `dir`'s parent folders if needed. Fails at once, without
/// waiting, when another process holds it; also fails when neither the
/// parent folder nor an existing `dir` can be written, so that this is
/// found before solving.
pub fn lock_output(dir: &Path) -> Result<OutputLock, LockError> {
    let io_error = |path: &Path, source: std::io::Error| LockError::Io {
        dir: dir.to_path_buf(),
        path: path.to_path_buf(),
        source,
    };
    let (mut path, created) = lock_path(dir).map_err(|e| io_error(dir, e))?;
    let open = |path: &Path| {
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    };
    loop {
        let mut file = match open(&path) {
            Ok(file) => file,
            // A parent folder the user may not write in: the lock goes
            // inside the folder (every run of that user makes the same choice).
            Err(error) if cannot_move_here(&error) && dir.is_dir() && !path.ends_with(INNER_LOCK) => {
                path = dir.join(INNER_LOCK);
                continue;
            }
            Err(error) => return Err(io_error(&path, error)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let pid = fs::read_to_string(&path).ok().and_then(|text| text.trim().parse().ok());
                return Err(LockError::Busy {
                    dir: dir.to_path_buf(),
                    pid,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error(&path, e)),
        }
        // The run that held the lock may have removed the file after it
        // was opened here: then this lock is on a file no other run sees.
        if !same_file(&file, &path) {
            continue;
        }
        file.set_len(0).map_err(|e| io_error(&path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| io_error(&path, e))?;
        return Ok(OutputLock {
            dir: dir.to_path_buf(),
            path,
            _file: file,
            created,
        });
    }
}

/// `.NAME.symbiose-lock` beside the folder `dir` really is (links and
/// `..` resolved, so every way of naming a folder gives the same lock).
/// Also returns the parent folders it had to create, deepest first.
fn lock_path(dir: &Path) -> std::io::Result<(PathBuf, Vec<PathBuf>)> {
    let mut created = Vec::new();
    let real = match fs::canonicalize(dir) {
        Ok(real) => real,
        Err(_) => {
            let (parent, name) = parent_and_name(dir)
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "does not name a folder"))?;
            let mut missing = parent.as_path();
            while !missing.as_os_str().is_empty() && fs::symlink_metadata(missing).is_err() {
                created.push(missing.to_path_buf());
                match missing.parent() {
                    Some(up) => missing = up,
                    None => break,
                }
            }
            fs::create_dir_all(&parent)?;
            fs::canonicalize(parent)?.join(name)
        }
    };
    let path = match parent_and_name(&real) {
        Some((parent, name)) => parent.join(format!(".{name}.symbiose-lock")),
        // The root folder has no parent.
        None => real.join(".symbiose-lock"),
    };
    Ok((path, created))
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, path: &Path) -> bool {
    path.exists()
}

/// Refuses an output that would replace one of the command's inputs
/// (`report R --out R/links.csv`, `merge A B --out A`, `optimize INV --out
/// INV`), before anything is written. `output` is the output folder of
/// `family`, or, with `family` `None`, one output file; `inputs` are the
/// files and folders the command reads. Links and `..` are resolved.
pub fn refuse_output_over_inputs(output: &Path, family: Option<Family>, inputs: &[PathBuf]) -> Result<(), String> {
    // An output that does not exist yet replaces nothing.
    let Ok(real_output) = fs::canonicalize(output) else {
        return Ok(());
    };
    let family_names = family.map(Family::files).unwrap_or_default();
    for input in inputs {
        let Ok(real_input) = fs::canonicalize(input) else {
            continue;
        };
        let what = if family.is_some() {
            "output folder"
        } else {
            "output file"
        };
        if real_input == real_output {
            // Named as the input too when the user spelt it otherwise.
            let spelt = if input == output {
                String::new()
            } else {
                format!(" ({})", input.display())
            };
            return Err(format!(
                "the {what} {} is one of the command's inputs{spelt}: choose another --out",
                output.display()
            ));
        }
        // A file read from the output folder under a name the command writes.
        let replaced = real_input.parent() == Some(real_output.as_path())
            && real_input
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| family_names.contains(&name));
        if replaced && real_input.is_file() {
            return Err(format!(
                "the output folder {} holds {}, one of the command's inputs, which the outputs would replace: choose another --out",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// Errors that say a folder cannot be created or moved here, rather than
/// that something went wrong: then the outputs go file by file.
pub(super) fn cannot_move_here(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::PermissionDenied
            | ErrorKind::CrossesDevices
            | ErrorKind::ResourceBusy
            | ErrorKind::ReadOnlyFilesystem
    )
}

/// `dir` as (parent folder, own name), `None` for a path such as `.` or `/`
/// that names no folder of its own.
pub(super) fn parent_and_name(dir: &Path) -> Option<(PathBuf, String)> {
    let name = dir.file_name()?.to_str()?.to_string();
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::names_in;

    #[test]
    fn a_locked_folder_is_refused_with_the_holders_pid_and_free_again_once_dropped() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        let lock = lock_output(&out).unwrap();
        assert_eq!(names_in(work.path()), vec![".res.symbiose-lock"]);
        // Another open file description, as another process would have;
        // another spelling of the same folder gives the same lock.
        match lock_output(&work.path().join(".").join("res")) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected busy, got {other:?}"),
        }
        drop(lock);
        assert!(names_in(work.path()).is_empty());
        drop(lock_output(&out).unwrap());
    }

    #[test]
    fn an_output_over_an_input_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let results = work.path().join("res");
        fs::create_dir(&results).unwrap();
        fs::write(results.join("links.csv"), "a,b\n").unwrap();
        let inputs = [results.clone(), results.join("links.csv"), results.join("summary.json")];
        let error = refuse_output_over_inputs(&results.join("links.csv"), None, &inputs).unwrap_err();
        assert!(error.contains("is one of the command's inputs"), "{error}");
        // The default page beside the tables replaces none of them.
        refuse_output_over_inputs(&results.join("report.html"), None, &inputs).unwrap();
        let error = refuse_output_over_inputs(&work.path().join("res/../res"), Some(Family::Sweep), &inputs);
        assert!(error.is_err());
        // A folder holding an input under a name of the outputs.
        let error = refuse_output_over_inputs(work.path(), Some(Family::Results), &[results.join("links.csv")]);
        assert!(error.is_ok(), "links.csv is one level down");
        fs::write(work.path().join("sweep.csv"), "x").unwrap();
        let error = refuse_output_over_inputs(work.path(), Some(Family::Sweep), &[work.path().join("sweep.csv")]);
        assert!(error.unwrap_err().contains("which the outputs would replace"));
    }
}
