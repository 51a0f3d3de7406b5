//! The merge of a sharded sweep: the shards' sweep.csv files back into the
//! whole grid's.
//!
//! Owns: [`merge_sweeps`], [`Merged`].
//!
//! Invariant: the merged bytes are those of an unsharded run, and shards
//! are merged only when their sweep_meta.json show one study (same scenario
//! file, inventory and symbiose version) and every scenario exactly once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::sweep::SweepMeta;

/// What `merge` produced: the whole grid's sweep.csv and sweep_meta.json.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub csv: Vec<u8>,
    pub meta: SweepMeta,
}

/// Combines the sweep.csv files of shard folders into the sweep.csv of the
/// whole grid: same header, rows sorted by scenario, every scenario exactly
/// once. The shards must come from one study: the same scenario file
/// content, the same inventory content and the same symbiose version
/// (sweep_meta.json); what differs is named. The bytes are identical to an
/// unsharded run's.
pub fn merge_sweeps(dirs: &[PathBuf]) -> Result<Merged, String> {
    let mut header: Option<String> = None;
    let mut first: Option<(PathBuf, SweepMeta)> = None;
    let mut lines: BTreeMap<usize, String> = BTreeMap::new();
    for dir in dirs {
        let meta_path = dir.join(crate::io::outputs::SWEEP_META);
        let meta: SweepMeta = serde_json::from_slice(
            &std::fs::read(&meta_path).map_err(|e| format!("{}: cannot read: {e}", meta_path.display()))?,
        )
        .map_err(|e| format!("{}: {e}", meta_path.display()))?;
        let recorded = |value: &Option<String>, what: &str| {
            value.clone().ok_or_else(|| {
                format!(
                    "{}: no {what} recorded (written by an older symbiose): run this shard again",
                    meta_path.display()
                )
            })
        };
        recorded(&meta.scenario_file_hash, "scenario file hash")?;
        recorded(&meta.inventory_hash, "inventory hash")?;
        recorded(&meta.symbiose_version, "symbiose version")?;
        match &first {
            None => first = Some((meta_path.clone(), meta.clone())),
            Some((first_path, first_meta)) => {
                let differs = |what: &str, this: String, that: String| {
                    format!(
                        "{}: {what} differs from {}'s ({this} against {that}): these shards are not from one sweep",
                        meta_path.display(),
                        first_path.display()
                    )
                };
                if meta.scenario_file_hash != first_meta.scenario_file_hash {
                    return Err(differs(
                        "the scenario file's content",
                        format!(
                            "{} hash {}",
                            meta.scenario_file,
                            meta.scenario_file_hash.clone().unwrap_or_default()
                        ),
                        format!(
                            "{} hash {}",
                            first_meta.scenario_file,
                            first_meta.scenario_file_hash.clone().unwrap_or_default()
                        ),
                    ));
                }
                if meta.inventory_hash != first_meta.inventory_hash {
                    return Err(differs(
                        "the inventory's content",
                        format!("hash {}", meta.inventory_hash.clone().unwrap_or_default()),
                        format!("hash {}", first_meta.inventory_hash.clone().unwrap_or_default()),
                    ));
                }
                if meta.symbiose_version != first_meta.symbiose_version {
                    return Err(differs(
                        "the symbiose version",
                        meta.symbiose_version.clone().unwrap_or_default(),
                        first_meta.symbiose_version.clone().unwrap_or_default(),
                    ));
                }
                if meta.n_scenarios != first_meta.n_scenarios || meta.parameters != first_meta.parameters {
                    return Err(differs(
                        "the grid",
                        format!("{} scenarios", meta.n_scenarios),
                        format!("{} scenarios", first_meta.n_scenarios),
                    ));
                }
            }
        }
        let csv_path = dir.join(crate::io::outputs::SWEEP_CSV);
        let text =
            std::fs::read_to_string(&csv_path).map_err(|e| format!("{}: cannot read: {e}", csv_path.display()))?;
        let mut file_lines = text.lines();
        let file_header = file_lines.next().unwrap_or_default().to_string();
        if header.get_or_insert_with(|| file_header.clone()) != &file_header {
            return Err(format!(
                "{}: its header differs from the other shards'",
                csv_path.display()
            ));
        }
        for (offset, line) in file_lines.enumerate() {
            let scenario: usize = line
                .split(',')
                .next()
                .and_then(|cell| cell.parse().ok())
                .ok_or_else(|| format!("{}:{}: no scenario index", csv_path.display(), offset + 2))?;
            if lines.insert(scenario, line.to_string()).is_some() {
                return Err(format!(
                    "{}:{}: scenario {scenario} appears in two shards",
                    csv_path.display(),
                    offset + 2
                ));
            }
        }
    }
    let (_, first_meta) = first.ok_or("no shard folder given")?;
    let total = first_meta.n_scenarios;
    let missing: Vec<usize> = (0..total).filter(|s| !lines.contains_key(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} of {total} scenarios are missing (first: {:?}): a shard did not run or was not given",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    if let Some(beyond) = lines.keys().find(|scenario| **scenario >= total) {
        return Err(format!(
            "scenario {beyond} lies beyond the grid of {total} scenarios the shards' sweep_meta.json describe"
        ));
    }
    let mut csv = header.unwrap_or_default();
    csv.push('\n');
    for line in lines.values() {
        csv.push_str(line);
        csv.push('\n');
    }
    let meta = SweepMeta {
        shard: "1/1".to_string(),
        scenarios: lines.keys().copied().collect(),
        ..first_meta
    };
    Ok(Merged {
        csv: csv.into_bytes(),
        meta,
    })
}
