//! The malformed-inventory corpus (issue 8): every folder under
//! `tests/malformed/` is a small inventory with deliberate defects and an
//! `expected.txt` holding the exact `error:` lines `symbiose validate` must
//! print, in order, with `{dir}` standing for the folder as given on the
//! command line (`tests/malformed/<case>`, run from the crate root).
//!
//! For each case: exit code 2, stderr (warnings aside) is exactly the
//! expected error lines followed by `<dir>: N problems` (`1 problem`), and nothing on
//! stdout. All cases run; the test fails once, listing every mismatch.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CORPUS: &str = "tests/malformed";

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The case folders, sorted by name.
fn cases() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(crate_root().join(CORPUS))
        .expect("tests/malformed exists")
        .map(|entry| entry.expect("readable entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn symbiose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(args)
        .current_dir(crate_root())
        .output()
        .expect("runs the binary")
}

fn expected_lines(case: &str, dir: &str) -> Result<Vec<String>, String> {
    let path = crate_root().join(CORPUS).join(case).join("expected.txt");
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.replace("{dir}", dir))
        .collect())
}

/// Runs one case; returns a description of every way it differs.
fn check_case(case: &str) -> Option<String> {
    let dir = format!("{CORPUS}/{case}");
    let expected = match expected_lines(case, &dir) {
        Ok(lines) => lines,
        Err(problem) => return Some(problem),
    };
    let output = symbiose(&["validate", &dir]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut problems = Vec::new();

    if output.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, expected 2", output.status.code()));
    }
    if stderr.contains("panicked") {
        problems.push("the binary panicked".to_string());
    }
    if !stdout.trim().is_empty() {
        problems.push(format!("unexpected stdout: {}", stdout.trim_end()));
    }
    // Warnings are free; everything else on stderr is the error list, then
    // the count. A multi-line message shows up as extra lines here.
    let mut lines: Vec<&str> = stderr.lines().filter(|line| !line.starts_with("warning: ")).collect();
    let summary = lines.pop().unwrap_or("");
    let wanted_summary = format!(
        "{dir}: {} {}",
        expected.len(),
        if expected.len() == 1 { "problem" } else { "problems" }
    );
    if summary != wanted_summary {
        problems.push(format!("last line {summary:?}, expected {wanted_summary:?}"));
    }
    if lines != expected {
        let show = |lines: &[&str]| -> String {
            lines
                .iter()
                .map(|line| format!("      {}\n", line.replace(&dir, "{dir}")))
                .collect()
        };
        let wanted: Vec<&str> = expected.iter().map(String::as_str).collect();
        problems.push(format!(
            "error lines differ\n    expected:\n{}    got:\n{}",
            show(&wanted),
            show(&lines)
        ));
    }
    (!problems.is_empty()).then(|| format!("{case}:\n  {}", problems.join("\n  ")))
}

#[test]
fn every_malformed_inventory_gets_its_exact_errors() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the corpus holds {} cases, expected at least 40",
        cases.len()
    );
    let failures: Vec<String> = cases.iter().filter_map(|case| check_case(case)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} malformed cases differ from expected.txt:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Lists every file under `dir`, recursively (empty when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn optimize_writes_nothing_for_an_invalid_inventory() {
    let cases = [
        "missing_flows_file",
        "binary_png_as_firms",
        "negative_quantity",
        "supply_with_sourcing_fallback",
        "many_errors_sorted_by_file_and_line",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let dir = format!("{CORPUS}/{case}");
        let temporary = tempfile::tempdir().expect("temporary folder");
        // One output folder that does not exist yet, one that exists and is empty.
        for out in [temporary.path().join("results"), temporary.path().to_path_buf()] {
            let output = symbiose(&["optimize", &dir, "--out", &out.display().to_string()]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let mut problems = Vec::new();
            if output.status.code() != Some(2) {
                problems.push(format!("exit code {:?}, expected 2", output.status.code()));
            }
            if !stderr.lines().any(|line| line.contains("nothing was written")) {
                problems.push("stderr does not say that nothing was written".to_string());
            }
            let written = files_under(&out);
            if !written.is_empty() {
                problems.push(format!("files written: {written:?}"));
            }
            if out != temporary.path() && out.exists() {
                problems.push(format!("the output folder {} was created", out.display()));
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{case} (--out {}): {}\n  stderr:\n{stderr}",
                    out.display(),
                    problems.join("; ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
