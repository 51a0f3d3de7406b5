//! Determinism across thread counts (issue 8): the commands that work in
//! parallel (rayon) write the same bytes with one thread and with two.
//! summary.json is compared with its measured `solve_seconds` masked.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file of a folder; summary.json with solve_seconds set to 0.
pub(crate) fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let entry = entry.expect("readable entry");
        let name = entry.file_name().to_string_lossy().to_string();
        let mut bytes = fs::read(entry.path()).expect("readable file");
        if name == "summary.json" {
            let mut summary: serde_json::Value = serde_json::from_slice(&bytes).expect("summary.json is JSON");
            summary["solve_seconds"] = 0.into();
            bytes = serde_json::to_vec_pretty(&summary).unwrap();
        }
        files.insert(name, bytes);
    }
    files
}

/// Runs `symbiose ARGS --out DIR` with RAYON_NUM_THREADS=threads.
pub(crate) fn run(args: &[&str], threads: usize, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(args)
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs the binary");
    assert!(
        output.status.success(),
        "symbiose {} with {threads} thread(s): {:?}\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_same_bytes_with_one_and_two_threads(name: &str, args: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let outs: Vec<PathBuf> = [1, 2]
        .iter()
        .map(|threads| {
            let out = work.path().join(format!("{name}-{threads}"));
            run(args, *threads, &out);
            out
        })
        .collect();
    let (one, two) = (contents(&outs[0]), contents(&outs[1]));
    assert!(!one.is_empty(), "{name} wrote nothing");
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>(),
        "{name}: not the same files"
    );
    for (file, bytes) in &one {
        assert!(two[file] == *bytes, "{name}: {file} differs between 1 and 2 threads");
    }
}

#[test]
fn optimize_with_shapley_values_writes_the_same_bytes_whatever_the_threads() {
    // Sampled Shapley values (Dunkirk has more than 12 firms with links)
    // are the parallel part of optimize; 24 permutations keep it short.
    assert_same_bytes_with_one_and_two_threads(
        "optimize",
        &["optimize", "--allocation", "shapley", "--samples", "24", "--report"],
    );
}

#[test]
fn a_sweep_writes_the_same_bytes_whatever_the_threads() {
    assert_same_bytes_with_one_and_two_threads("sweep", &["sweep", "data/scenarios/carbon-value.toml", "-q"]);
}

#[test]
fn resilience_writes_the_same_bytes_whatever_the_threads() {
    assert_same_bytes_with_one_and_two_threads("resilience", &["resilience", "-q"]);
}

#[test]
fn a_pareto_front_writes_the_same_bytes_whatever_the_threads() {
    assert_same_bytes_with_one_and_two_threads("pareto", &["pareto", "--points", "8", "-q"]);
}
