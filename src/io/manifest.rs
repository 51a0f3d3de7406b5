//! The marker file of an output folder ([`OUTPUT_MARKER`]) and the
//! manifest it holds: each file symbiose wrote there, with a hash of its
//! bytes.
//!
//! Invariant: a file of an output name that the manifest does not list
//! with its present bytes is the user's (or was edited since) and is
//! never taken for symbiose's.

use std::fs;
use std::path::Path;

use super::outputs::Family;

/// The marker file written into every output folder symbiose owns (and
/// into a folder of user files that `catalogue` or `generate` wrote
/// into). For those two commands, whose file names are also a user's
/// inventory files, it lists each file written with a hash of its bytes,
/// so that a file the user wrote or edited since is told from symbiose's.
pub const OUTPUT_MARKER: &str = ".symbiose-output";

/// The files symbiose wrote into a folder, as its [`OUTPUT_MARKER`] lists
/// them: (hash of the bytes, name).
#[derive(Debug, Default, Clone)]
pub(super) struct Manifest {
    entries: Vec<(u64, String)>,
}

impl Manifest {
    pub(super) fn read(dir: &Path) -> Manifest {
        let text = fs::read_to_string(dir.join(OUTPUT_MARKER)).unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|line| {
                let (hash, name) = line.split_once("  ")?;
                Some((u64::from_str_radix(hash, 16).ok()?, name.to_string()))
            })
            .collect();
        Manifest { entries }
    }

    pub(super) fn of(files: &[(String, Vec<u8>)]) -> Manifest {
        Manifest {
            entries: files.iter().map(|(name, bytes)| (fnv1a(bytes), name.clone())).collect(),
        }
    }

    /// Whether symbiose wrote these bytes under this name.
    pub(super) fn lists(&self, name: &str, bytes: &[u8]) -> bool {
        let hash = fnv1a(bytes);
        self.entries.iter().any(|(h, n)| *h == hash && n == name)
    }

    /// These entries with the family's replaced by `files`' (keeping the
    /// family's old ones too when `keep_old`, for the moment between
    /// renames).
    pub(super) fn updated(&self, family: Family, files: &[(String, Vec<u8>)], keep_old: bool) -> Manifest {
        let names = family.files();
        let mut entries: Vec<(u64, String)> = self
            .entries
            .iter()
            .filter(|(_, name)| keep_old || !names.contains(&name.as_str()))
            .cloned()
            .chain(Manifest::of(files).entries)
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        entries.dedup();
        Manifest { entries }
    }

    pub(super) fn bytes(&self) -> Vec<u8> {
        let mut text = format!(
            "This folder holds files that symbiose {} wrote, listed below with a hash\n\
             of their bytes. A run of the same command into this folder replaces them\n\
             and keeps files of other names. A catalogue or generate run replaces a file\n\
             of its names only if its bytes still match the hash, unless given --force.\n\n",
            env!("CARGO_PKG_VERSION")
        );
        for (hash, name) in &self.entries {
            text += &format!("{hash:016x}  {name}\n");
        }
        text.into_bytes()
    }
}

/// 64-bit FNV-1a: tells a file symbiose wrote from one edited since (not
/// a defence against anyone forging a file).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Files of `family`'s names in `dir` that symbiose did not write, for a
/// family whose names are also a user's file names.
pub(super) fn files_not_written_by_symbiose(dir: &Path, family: Family) -> std::io::Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let manifest = Manifest::read(dir);
    let mut foreign = Vec::new();
    for name in family.files() {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                if !manifest.lists(name, &fs::read(&path)?) {
                    foreign.push(name.to_string());
                }
            }
            Ok(_) => foreign.push(name.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(foreign)
}
