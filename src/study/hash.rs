//! Content hashes that identify a study: FNV-1a of the scenario file's
//! bytes and of the base inventory's files, recorded in sweep_meta.json.
//!
//! Owns: [`fnv1a`], [`inventory_hash`].
//!
//! Invariant: a hash depends only on the bytes hashed (stable across
//! machines, versions and runs), so `merge` can refuse shards of different
//! studies; it is not a defence against forgery.

use crate::io::InventorySource;

/// The 64-bit FNV-1a hash of some bytes: stable across machines and
/// versions, enough to tell two files apart (not a defence against forgery).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = FnvHasher::default();
    hash.write(bytes);
    hash.finish()
}

/// FNV-1a, fed piece by piece.
struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash of an inventory's content: of every file the loader reads from a
/// folder (name, length and bytes; absent files count as absent), of a
/// workbook's bytes, or of the bundled example's files.
pub fn inventory_hash(source: &InventorySource) -> Result<u64, String> {
    let mut hash = FnvHasher::default();
    let mut add = |name: &str, bytes: Option<&[u8]>| {
        hash.write(name.as_bytes());
        match bytes {
            Some(bytes) => {
                hash.write(&(bytes.len() as u64).to_le_bytes());
                hash.write(bytes);
            }
            None => hash.write(b"\0absent"),
        }
    };
    match source {
        InventorySource::BundledDunkirk => {
            for (name, text) in crate::io::BUNDLED_DUNKIRK {
                add(name, Some(text.as_bytes()));
            }
        }
        InventorySource::Tables(tables) => {
            for (name, table) in tables.iter() {
                // The cells as the loader sees them (the debug form is
                // unambiguous: quoted, with `None` for an empty cell).
                add(name, Some(format!("{:?}", (&table.columns, &table.rows)).as_bytes()));
            }
        }
        InventorySource::Workbook(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("{}: cannot read the workbook: {e}", path.display()))?;
            add("workbook", Some(&bytes));
        }
        InventorySource::Folder(dir) => {
            let names = ["firms.csv", "flows.csv", "distances.csv"]
                .into_iter()
                .chain(crate::io::CATALOGUE_FILES)
                .chain(crate::io::PART_B_FILES);
            for name in names {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => add(name, Some(&bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => add(name, None),
                    Err(e) => return Err(format!("{}: cannot read the file: {e}", path.display())),
                }
            }
        }
    }
    Ok(hash.finish())
}
