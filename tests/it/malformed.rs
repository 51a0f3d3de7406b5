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

// Input files and input messages (issue 12, defects 8, 9, 10, 17, 18).

/// Copies the files of `from` (a folder of CSV files, no subfolders) into `to`.
fn copy_folder(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The lines of `output`'s stderr that start with `prefix` ("warning: ", "error: ").
fn stderr_lines(output: &Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Runs the binary in `cwd`, printing what it did (shown when a test fails).
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    crate::common::symbiose(args, cwd)
}

#[test]
fn files_the_inventory_does_not_read_are_warned_about_with_the_nearest_name() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("inv");
    copy_folder(&crate_root().join("data/dunkirk"), &inventory);
    let expected_ok = String::from_utf8(run_in(work.path(), &["validate", "inv"]).stdout).unwrap();
    // Two misspelt catalogue overrides that would change the results if read,
    // and documentation, which is never warned about.
    let routes = fs::read_to_string(crate_root().join("data/catalogue/routes.csv")).unwrap();
    fs::write(inventory.join("Routes.csv"), &routes).unwrap();
    fs::write(inventory.join("impact.csv"), "subject,category,amount_per_unit\n").unwrap();
    fs::write(inventory.join("README.md"), "# my territory\n").unwrap();
    fs::write(inventory.join("notes.txt"), "to check\n").unwrap();
    let output = run_in(work.path(), &["validate", "inv"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected_ok);
    assert_eq!(
        stderr_lines(&output, "warning: "),
        [
            "warning: inv/Routes.csv: ignored: file names are case-sensitive (rename it routes.csv)",
            "warning: inv/impact.csv: ignored: symbiose reads no file of this name (did you mean impacts.csv?)",
        ]
    );
    // A correctly named folder with its SOURCES.md gets no warning.
    let output = symbiose(&["validate", "data/dunkirk"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr_lines(&output, "warning: "), Vec::<String>::new());
}

#[test]
fn workbook_sheet_names_match_ignoring_case() {
    let workbook = "tests/data/capitalised_sheets.xlsx";
    let output = symbiose(&["validate", workbook]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let folder = symbiose(&["validate", "data/dunkirk"]);
    // The folder also has an uncertainty.csv (docs/model.md D9), which the
    // workbook has no sheet for: its line aside, the counts are the same.
    let folder_stdout: String = String::from_utf8_lossy(&folder.stdout)
        .lines()
        .filter(|line| !line.trim_start().starts_with("uncertainty.csv:"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        folder_stdout,
        "the Firms, FLOWS and Distances sheets are read"
    );
    // The misspelt sheet is named; the README sheet is documentation.
    assert_eq!(
        stderr_lines(&output, "warning: "),
        [format!(
            "warning: {workbook} [sheet impact]: ignored: symbiose reads no sheet of this name (did you mean impacts?)"
        )]
    );
}

#[test]
fn formula_cells_without_a_saved_result_are_errors_at_their_cell() {
    let workbook = "tests/data/uncached_formula.xlsx";
    let output = symbiose(&["validate", workbook]);
    assert_eq!(output.status.code(), Some(2));
    // s1's formula has its result saved (100) and reads as a number; d1's has none.
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).lines().collect::<Vec<_>>(),
        [
            format!(
                "error: {workbook} [sheet flows]:3: column quantity: cell E3 holds the formula =E2*0.6 without a saved result (hint: open the workbook in Excel or LibreOffice and save it, so that the results are stored, or type the value)"
            ),
            format!("{workbook}: 1 problem"),
        ]
    );
}

/// Waits for `child` at most `seconds`; kills it and fails if it is still running.
fn wait_or_kill(mut child: std::process::Child, seconds: u64) -> Output {
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(seconds) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("symbiose was still running after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn validate_refuses_a_fifo_instead_of_waiting_for_a_writer() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("inv");
    copy_folder(&crate_root().join("data/dunkirk"), &inventory);
    fs::remove_file(inventory.join("flows.csv")).unwrap();
    let made = Command::new("mkfifo")
        .arg(inventory.join("flows.csv"))
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    // A folder where a table should be is refused too.
    fs::remove_file(inventory.join("distances.csv")).unwrap();
    fs::create_dir(inventory.join("distances.csv")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(["validate", "inv"])
        .current_dir(work.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_or_kill(child, 30);
    assert_eq!(output.status.code(), Some(2));
    let hint = "(hint: give a regular file: symbiose reads inventories from files, not from pipes or devices)";
    assert_eq!(
        stderr_lines(&output, "error: "),
        [
            format!("error: inv/distances.csv: not a regular file: it is a folder {hint}"),
            format!("error: inv/flows.csv: not a regular file: it is a named pipe (FIFO) {hint}"),
        ]
    );
}

#[test]
fn missing_paths_and_broken_links_are_named_as_such() {
    let work = tempfile::tempdir().unwrap();
    let hint = "(hint: give the folder that holds firms.csv and flows.csv, or an .xlsx workbook)";
    for (path, line) in [
        ("nowhere", format!("error: nowhere: does not exist {hint}")),
        ("nowhere.xlsx", format!("error: nowhere.xlsx: does not exist {hint}")),
    ] {
        let output = run_in(work.path(), &["validate", path]);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(stderr_lines(&output, "error: "), [line]);
    }
    fs::write(work.path().join("firms.csv"), "firm_id,name,lat,lon\n").unwrap();
    let output = run_in(work.path(), &["validate", "firms.csv"]);
    assert_eq!(
        stderr_lines(&output, "error: "),
        [format!("error: firms.csv: not a folder {hint}")]
    );
    std::os::unix::fs::symlink("gone", work.path().join("link")).unwrap();
    let output = run_in(work.path(), &["validate", "link"]);
    assert_eq!(
        stderr_lines(&output, "error: "),
        ["error: link: broken symbolic link: its target gone does not exist (hint: point the link at an existing inventory, or remove it)"]
    );
    // Inside an inventory: a required and an optional file, each a broken link.
    let inventory = work.path().join("inv");
    copy_folder(&crate_root().join("data/dunkirk"), &inventory);
    fs::remove_file(inventory.join("flows.csv")).unwrap();
    std::os::unix::fs::symlink("../gone.csv", inventory.join("flows.csv")).unwrap();
    std::os::unix::fs::symlink("routes-2024.csv", inventory.join("routes.csv")).unwrap();
    let output = run_in(work.path(), &["validate", "inv"]);
    assert_eq!(output.status.code(), Some(2));
    let hint = "(hint: point the link at an existing file, or remove it)";
    assert_eq!(
        stderr_lines(&output, "error: "),
        [
            format!("error: inv/flows.csv: broken symbolic link: its target ../gone.csv does not exist {hint}"),
            format!("error: inv/routes.csv: broken symbolic link: its target routes-2024.csv does not exist {hint}"),
        ]
    );
}

/// Writes split_by_distance into `work/inv` with its flows.csv replaced.
fn split_by_distance_with_flows(work: &Path, flows: &str) -> PathBuf {
    let inventory = work.join("inv");
    copy_folder(&crate_root().join("tests/data/split_by_distance"), &inventory);
    fs::write(inventory.join("flows.csv"), flows).unwrap();
    inventory
}

#[test]
fn the_quantity_spread_warning_prints_once_with_short_numbers() {
    let work = tempfile::tempdir().unwrap();
    let header = "flow_id,firm_id,kind,resource,quantity,fallback\n";
    split_by_distance_with_flows(
        work.path(),
        &format!("{header}s1,a,supply,heat_x,1e-7,dump\nd1,b,demand,heat_x,60,boiler\nd2,c,demand,heat_x,1e6,boiler\n"),
    );
    let output = run_in(work.path(), &["optimize", "inv", "--out", "out"]);
    assert_eq!(output.status.code(), Some(0));
    let spread: Vec<String> = stderr_lines(&output, "warning: ")
        .into_iter()
        .filter(|line| line.contains("flow quantities span"))
        .collect();
    assert_eq!(spread.len(), 1, "{spread:?}");
    assert!(spread[0].contains("(from 1e-7 to 1000000)"), "{}", spread[0]);
    // A subnormal quantity prints as 5e-324, not as 324 digits.
    split_by_distance_with_flows(
        work.path(),
        &format!(
            "{header}s1,a,supply,heat_x,5e-324,dump\nd1,b,demand,heat_x,60,boiler\nd2,c,demand,heat_x,1e6,boiler\n"
        ),
    );
    let output = run_in(work.path(), &["validate", "inv"]);
    let warnings = stderr_lines(&output, "warning: ");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("span more than 1e308 (from 5e-324 to 1000000)")
            && warnings[0].contains("s1 (5e-324 MWh)"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].len() < 500, "{} characters", warnings[0].len());
}

#[test]
fn errors_are_capped_per_file_then_counted() {
    let work = tempfile::tempdir().unwrap();
    let rows = 20_000;
    let mut flows = String::from("flow_id,firm_id,kind,resource,quantity,fallback\ns1,a,supply,heat_x,100,dump\n");
    for i in 0..rows {
        // Two errors a row: the kind and the quantity.
        flows += &format!("d{i},b,need,heat_x,lots,boiler\n");
    }
    split_by_distance_with_flows(work.path(), &flows);
    let output = run_in(work.path(), &["validate", "inv"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 52, "50 errors, the count of the rest, the total");
    assert!(
        lines[0].starts_with("error: inv/flows.csv:3: column kind:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[49].starts_with("error: inv/flows.csv:27: column quantity:"),
        "{}",
        lines[49]
    );
    assert_eq!(
        lines[50],
        format!(
            "error: inv/flows.csv: {} more problems not shown (fix the ones above and run again)",
            2 * rows - 50
        )
    );
    assert_eq!(lines[51], format!("inv: {} problems", 2 * rows));
}

#[test]
fn slices_adding_up_to_more_than_a_year_are_warned_about() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("inv");
    copy_folder(&crate_root().join("tests/data/seasonal_heat"), &inventory);
    let slice_warnings = |output: &Output| -> Vec<String> {
        stderr_lines(output, "warning: ")
            .into_iter()
            .filter(|line| line.contains("slices.csv"))
            .collect()
    };
    // 4380 + 4380 h, and a leap year's 8784 h: no warning.
    for hours in [["4380", "4380"], ["4392", "4392"]] {
        fs::write(
            inventory.join("slices.csv"),
            format!("slice,hours\nwinter,{}\nsummer,{}\n", hours[0], hours[1]),
        )
        .unwrap();
        let output = run_in(work.path(), &["validate", "inv"]);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(slice_warnings(&output), Vec::<String>::new());
    }
    fs::write(inventory.join("slices.csv"), "slice,hours\nwinter,7800\nsummer,7800\n").unwrap();
    let output = run_in(work.path(), &["validate", "inv"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        slice_warnings(&output),
        ["warning: inv/slices.csv: the slices add up to 15600 h, more than a year (8760 h, 8784 in a leap year): check that no hours are counted twice"]
    );
}

/// A flow given in GJ of a resource in MWh is written back in GJ as given
/// (500, not 499.99999999999994 after the round trip through MWh).
#[test]
fn a_quantity_in_another_unit_is_written_back_as_given() {
    let work = tempfile::tempdir().unwrap();
    split_by_distance_with_flows(
        work.path(),
        "flow_id,firm_id,kind,resource,quantity,fallback,unit\ns1,a,supply,heat_x,500,dump,GJ\nd1,b,demand,heat_x,60,boiler,\nd2,c,demand,heat_x,60000,boiler,kWh\n",
    );
    let output = run_in(work.path(), &["optimize", "inv", "--out", "out"]);
    assert_eq!(output.status.code(), Some(0));
    let (_, rows) = crate::common::read_table(&work.path().join("out/flow_results.csv"));
    let quantity = |id: &str| {
        let row = rows.iter().find(|row| row["flow_id"] == id).unwrap();
        (row["quantity"].clone(), row["unit"].clone())
    };
    assert_eq!(quantity("s1"), ("500.0".to_string(), "GJ".to_string()));
    assert_eq!(quantity("d2"), ("60000.0".to_string(), "kWh".to_string()));
}
