//! Leftovers of runs killed while writing: staging and backup folders
//! beside an output folder, temporary files inside it, and how the next
//! write into the folder cleans them up.
//!
//! Invariant: a backup whose folder is missing is the previous complete
//! set and is renamed back; every other leftover is deleted, except those
//! of a process that is still running.

use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum LeftoverKind {
    Staging,
    Backup,
}

/// `.NAME.symbiose-staging-PID` or `.NAME.symbiose-backup-PID`, beside the folder.
pub(super) fn leftover_name(name: &str, kind: LeftoverKind, pid: u32) -> String {
    let kind = match kind {
        LeftoverKind::Staging => "staging",
        LeftoverKind::Backup => "backup",
    };
    format!(".{name}.symbiose-{kind}-{pid}")
}

/// Staging and backup folders that runs writing into `parent/name` left
/// behind when they were killed: (kind, pid, path).
fn leftovers(parent: &Path, name: &str) -> std::io::Result<Vec<(LeftoverKind, u32, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(parent)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&format!(".{name}.symbiose-")))
        else {
            continue;
        };
        let (kind, pid) = if let Some(pid) = rest.strip_prefix("staging-") {
            (LeftoverKind::Staging, pid)
        } else if let Some(pid) = rest.strip_prefix("backup-") {
            (LeftoverKind::Backup, pid)
        } else {
            continue;
        };
        if let Ok(pid) = pid.parse::<u32>() {
            found.push((kind, pid, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Whether another process with this id is running (then its staging
/// folder is in use). Only Linux can tell cheaply; elsewhere every other
/// process's leftovers are taken as abandoned.
fn process_is_running(pid: u32) -> bool {
    pid != std::process::id() && cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

/// Cleans up after runs killed while writing into `parent/name`: a backup
/// whose folder is missing (killed between the two renames of a swap) is
/// renamed back, being the previous complete set; other leftovers are
/// deleted. Leftovers of a running process are left alone.
pub(super) fn recover_interrupted_writes(parent: &Path, name: &str) -> std::io::Result<()> {
    let dir = parent.join(name);
    for (kind, pid, path) in leftovers(parent, name)? {
        if process_is_running(pid) {
            continue;
        }
        if kind == LeftoverKind::Backup && fs::symlink_metadata(&dir).is_err() {
            fs::rename(&path, &dir)?;
        } else {
            fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

/// Removes the temporary files that killed runs left in `dir` for these names.
pub(super) fn clean_abandoned_temporaries(dir: &Path, names: &[&str]) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let abandoned = names.iter().any(|name| {
            file_name
                .strip_prefix(&format!(".{name}.tmp-"))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !process_is_running(pid))
        });
        if abandoned {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_util::{names_in, set, write};

    #[test]
    fn leftovers_of_killed_writes_are_cleaned_or_recovered() {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("res");
        // No process has an id above the kernel's maximum (2^22).
        let dead = 4_194_305;
        let staging = work.path().join(leftover_name("res", LeftoverKind::Staging, dead));
        let backup = work.path().join(leftover_name("res", LeftoverKind::Backup, dead));
        for folder in [&staging, &backup] {
            fs::create_dir(folder).unwrap();
            fs::write(folder.join("summary.json"), "previous").unwrap();
        }
        // Killed between the two renames of a swap: the folder is missing
        // and the backup holds the previous complete set.
        recover_interrupted_writes(work.path(), "res").unwrap();
        assert_eq!(names_in(work.path()), vec!["res"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "previous");
        // With the folder present, a backup is stale and deleted.
        fs::create_dir(&backup).unwrap();
        write(&out, &set(&["summary.json"], "new")).unwrap();
        assert_eq!(names_in(work.path()), vec!["res"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "new");
        // Another folder's leftovers are not touched.
        let other = work.path().join(leftover_name("other", LeftoverKind::Staging, dead));
        fs::create_dir(&other).unwrap();
        write(&out, &set(&["summary.json"], "again")).unwrap();
        assert!(other.exists());
    }
}
