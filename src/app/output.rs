//! Where the commands write: thread counts, the output folder checked
//! before the work (writable, not over an input, locked), and tables
//! written as one set.

use std::path::{Path, PathBuf};

use crate::io::outputs::{self, Family};
use crate::io::{
    csv_bytes, lock_output, refuse_output_over_inputs, write_outputs_atomically, InventorySource, OutputLock,
    WriteError,
};

use super::*;
use crate::io::Frame;
use crate::report::schema::SchemaMismatch;

/// Most worker threads `--threads` may ask for, per core: more only adds
/// threads that wait (each solve runs on one) and, by the hundred thousand,
/// takes minutes to start.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// `--threads` capped at [`MAX_THREADS_PER_CORE`] times the cores, with the
/// warning to print when it was.
pub fn capped_threads(requested: Option<usize>) -> (Option<usize>, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cap = MAX_THREADS_PER_CORE * cores;
    match requested {
        Some(n) if n > cap => (
            Some(cap),
            Some(format!(
                "--threads {n} is more than {MAX_THREADS_PER_CORE} per core ({cores} cores here): using {cap}"
            )),
        ),
        other => (other, None),
    }
}

/// Runs `work` on a rayon pool of `threads` threads (the global pool when `None`).
pub fn with_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T, AppError> {
    match threads {
        None => Ok(work()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map(|pool| pool.install(work))
            .map_err(|e| AppError::Output {
                path: PathBuf::from("."),
                message: format!("cannot start {n} threads: {e}"),
            }),
    }
}

/// Checks, before anything is solved, that results could be written into
/// `out`: it, or where it does not exist yet the nearest folder above it
/// (where it would be created), must be a folder this process may write
/// in. Creates nothing, so a failed run leaves no trace.
pub fn check_output_folder(out: &Path) -> Result<(), AppError> {
    let refuse = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message: format!("{message} (checked before solving; nothing was written)"),
    };
    let mut folder = if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out.to_path_buf()
    };
    loop {
        match std::fs::metadata(&folder) {
            Ok(meta) if meta.is_dir() => {
                return writable_folder(&folder, &meta)
                    .map_err(|error| refuse(format!("cannot write in the folder {}: {error}", folder.display())));
            }
            Ok(_) => return Err(refuse(format!("{} exists and is not a folder", folder.display()))),
            // Not there yet (or below a file, which the next round finds):
            // the folder would be created in its parent.
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                match folder.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => folder = parent.to_path_buf(),
                    // A relative path's first component: its parent is the working folder.
                    Some(_) if folder != Path::new(".") => folder = PathBuf::from("."),
                    _ => return Err(refuse(format!("cannot reach {}: {error}", folder.display()))),
                }
            }
            Err(error) => return Err(refuse(format!("cannot reach {}: {error}", folder.display()))),
        }
    }
}

/// Whether this process may create files in `folder` (write and search
/// permission, for its effective user; a read-only file system included).
pub(super) fn writable_folder(folder: &Path, meta: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = meta;
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(folder.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
        // SAFETY: `path` is a NUL-terminated string that outlives the call;
        // faccessat only reads it.
        let status =
            unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::W_OK | libc::X_OK, libc::AT_EACCESS) };
        if status == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = folder;
        if meta.permissions().readonly() {
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        } else {
            Ok(())
        }
    }
}

/// What every command that writes an output folder does first, before it
/// solves: refuses an output that would replace one of its `inputs`
/// (exit 2), then takes the folder's lock, which also finds a parent folder
/// that cannot be written (exit 1).
pub fn prepare_output(out: &Path, family: Family, inputs: &[PathBuf]) -> Result<OutputLock, AppError> {
    spare_inputs(out, Some(family), inputs)?;
    Ok(lock_output(out)?)
}

/// Refuses an output folder of `family` (or, with `None`, an output file)
/// that would replace one of the command's inputs.
pub(super) fn spare_inputs(out: &Path, family: Option<Family>, inputs: &[PathBuf]) -> Result<(), AppError> {
    refuse_output_over_inputs(out, family, inputs).map_err(AppError::Argument)
}

/// The paths an inventory is read from: a workbook, or a folder and the
/// files of it that the loader reads (the names `generate` writes, Part B's
/// and the catalogue's).
pub fn source_paths(source: &InventorySource) -> Vec<PathBuf> {
    match source {
        InventorySource::Folder(dir) => std::iter::once(dir.clone())
            .chain(
                outputs::TERRITORY
                    .iter()
                    .chain(&crate::io::PART_B_FILES)
                    .chain(&crate::io::CATALOGUE_FILES)
                    .map(|name| dir.join(name)),
            )
            .collect(),
        InventorySource::Workbook(path) => vec![path.clone()],
        InventorySource::BundledDunkirk | InventorySource::Tables(_) => Vec::new(),
    }
}

/// Writes a set into the locked folder; files of the family's names that
/// symbiose did not write are refused (exit 2) unless `force`.
pub(super) fn write_set(
    lock: &OutputLock,
    family: Family,
    files: Vec<(String, Vec<u8>)>,
    force: bool,
) -> Result<(), AppError> {
    match write_outputs_atomically(lock, family, &files, force) {
        Ok(_) => Ok(()),
        Err(error @ WriteError::NotWrittenBySymbiose { .. }) => Err(AppError::Argument(error.to_string())),
        Err(WriteError::Io(error)) => Err(AppError::Output {
            path: lock.dir().to_path_buf(),
            message: error.to_string(),
        }),
    }
}

/// A study's table as CSV bytes; a failure names the output folder.
pub(super) fn table_bytes(out: &Path, frame: Result<Frame, SchemaMismatch>) -> Result<Vec<u8>, AppError> {
    let error = |message: String| AppError::Output {
        path: out.to_path_buf(),
        message,
    };
    let frame = frame.map_err(|e| error(e.to_string()))?;
    csv_bytes(&frame).map_err(|e| error(e.to_string()))
}
