//! End-to-end tests of the `symbiose` binary on temporary folders. On
//! failure each test prints the command, its folder and its output.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{assert_close, fixture_dir, number, read_table, symbiose};

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("summary.json")).expect("summary.json exists"))
        .expect("summary.json is JSON")
}

const A5_COLUMNS: &[(&str, &[&str])] = &[
    (
        "links.csv",
        &[
            "supply_flow_id",
            "demand_flow_id",
            "supplier_firm_id",
            "receiver_firm_id",
            "supply_resource",
            "demand_resource",
            "distance_km",
            "quantity",
            "delivered",
            "unit_cost_eur",
            "surplus_eur",
            "supplier_value_eur",
            "receiver_value_eur",
            "externality_avoided_eur",
        ],
    ),
    (
        "flow_results.csv",
        &[
            "flow_id",
            "firm_id",
            "kind",
            "resource",
            "quantity",
            "matched",
            "fallback",
            "fallback_quantity",
            "shadow_price_eur_per_unit",
        ],
    ),
    (
        "firm_values.csv",
        &[
            "firm_id",
            "name",
            "baseline_cost_eur",
            "optimized_cost_eur",
            "value_eur",
            "compensation_needed_eur",
            "n_links",
        ],
    ),
    (
        "territory_values.csv",
        &[
            "category",
            "unit",
            "scope",
            "baseline",
            "optimized",
            "avoided",
            "value_eur_per_unit",
            "value_eur",
        ],
    ),
];

/// Checks the A5 columns and the A4 identities in the written tables.
fn check_written_tables(out: &Path) {
    for (file, columns) in A5_COLUMNS {
        let (header, _) = read_table(&out.join(file));
        for column in *columns {
            assert!(
                header.iter().any(|h| h == column),
                "{file} lacks column {column}: {header:?}"
            );
        }
    }
    let s = summary(out);
    for key in [
        "objective",
        "status",
        "supplier_share",
        "baseline",
        "optimized",
        "firm_value_eur",
        "territory_value_eur",
        "n_links",
        "n_firms",
        "n_flows",
        "solve_seconds",
    ] {
        assert!(s.get(key).is_some(), "summary.json lacks {key}");
    }
    let c_base = s["baseline"]["private_cost_eur"].as_f64().unwrap();
    let c = s["optimized"]["private_cost_eur"].as_f64().unwrap();
    let m_base = s["baseline"]["externality_eur"].as_f64().unwrap();
    let m = s["optimized"]["externality_eur"].as_f64().unwrap();
    let (_, firms) = read_table(&out.join("firm_values.csv"));
    let firm_sum: f64 = firms.iter().map(|r| number(r, "value_eur")).sum();
    assert_close(firm_sum, c_base - c, 1e-9, "sum of firm values = C_base - C (written)");
    assert_close(
        s["firm_value_eur"].as_f64().unwrap(),
        c_base - c,
        1e-12,
        "firm_value_eur",
    );
    let (_, links) = read_table(&out.join("links.csv"));
    let link_sum: f64 = links.iter().map(|r| number(r, "externality_avoided_eur")).sum();
    assert_close(link_sum, m_base - m, 1e-9, "sum of link dM = M_base - M (written)");
    assert_eq!(links.len() as u64, s["n_links"].as_u64().unwrap());
    let (_, categories) = read_table(&out.join("territory_values.csv"));
    let category_sum: f64 = categories.iter().map(|r| number(r, "value_eur")).sum();
    assert_close(category_sum, m_base - m, 1e-9, "sum of category values = T (written)");
    for link in &links {
        assert_close(
            number(link, "supplier_value_eur") + number(link, "receiver_value_eur"),
            number(link, "surplus_eur"),
            1e-12,
            "split",
        );
    }
}

#[test]
fn optimize_without_inventory_runs_the_bundled_example_from_any_folder() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--out", "res"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let out = work.path().join("res");
    check_written_tables(&out);
    let s = summary(&out);
    assert_eq!(s["inventory"], "bundled:dunkirk");
    assert_eq!(s["objective"], "externalities");
    assert_eq!(s["status"], "optimal");
    assert!(s["territory_value_eur"].as_f64().unwrap() > 0.0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("value captured by firms") && stdout.contains("value accruing to territory"),
        "{stdout}"
    );
}

#[test]
fn the_folder_and_the_bundled_copy_of_dunkirk_agree() {
    let work = tempfile::tempdir().unwrap();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join("dunkirk");
    assert_eq!(
        symbiose(&["optimize", data.to_str().unwrap(), "--out", "a"], work.path())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        symbiose(&["optimize", "--out", "b"], work.path()).status.code(),
        Some(0)
    );
    for file in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        assert_eq!(
            fs::read(work.path().join("a").join(file)).unwrap(),
            fs::read(work.path().join("b").join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn every_objective_writes_tables_whose_identities_hold() {
    let work = tempfile::tempdir().unwrap();
    for objective in ["externalities", "private", "social"] {
        for fixture in [
            "split_by_distance",
            "substitution_ratio",
            "negative_credit",
            "lexicographic",
        ] {
            let out = work.path().join(format!("{fixture}-{objective}"));
            let dir = fixture_dir(fixture);
            let args = [
                "optimize",
                dir.to_str().unwrap(),
                "--objective",
                objective,
                "--supplier-share",
                "0.3",
                "--out",
                out.to_str().unwrap(),
            ];
            assert_eq!(symbiose(&args, work.path()).status.code(), Some(0));
            check_written_tables(&out);
            assert_eq!(summary(&out)["objective"], objective);
        }
    }
}

#[test]
fn same_input_gives_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    for out in ["one", "two"] {
        assert_eq!(
            symbiose(&["optimize", "--out", out], work.path()).status.code(),
            Some(0)
        );
    }
    for file in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        let one = fs::read(work.path().join("one").join(file)).unwrap();
        let two = fs::read(work.path().join("two").join(file)).unwrap();
        assert_eq!(one, two, "{file} differs between two runs");
    }
    // summary.json is identical but for the measured solve time.
    let mut one = summary(&work.path().join("one"));
    let mut two = summary(&work.path().join("two"));
    one["solve_seconds"] = 0.into();
    two["solve_seconds"] = 0.into();
    assert_eq!(one, two);
}

#[test]
fn an_invalid_inventory_is_refused_with_every_error_located_and_nothing_written() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("bad");
    fs::create_dir(&inventory).unwrap();
    fs::write(
        inventory.join("firms.csv"),
        "firm_id,name,lat,lon\na,A,50,2\nb,B,95,2\na,Again,50,2\n",
    )
    .unwrap();
    fs::write(
        inventory.join("flows.csv"),
        "flow_id,firm_id,kind,resource,quantity,fallback,colour\ns1,a,supply,no_such_resource,10,landfill,red\ns2,zz,supply,bf_slag,-3,landfill,\n",
    )
    .unwrap();
    let out = work.path().join("out");
    let output = symbiose(
        &["optimize", inventory.to_str().unwrap(), "--out", out.to_str().unwrap()],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!out.exists(), "nothing may be written for an invalid inventory");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let firms = inventory.join("firms.csv").display().to_string();
    let flows = inventory.join("flows.csv").display().to_string();
    for expected in [
        format!("{firms}:3: column lat: latitude must be within [-90, 90]"),
        format!("{firms}:4: column firm_id: duplicate key \"a\", first given on line 2"),
        format!("{flows}:2: column resource: unknown resource \"no_such_resource\""),
        format!("{flows}:3: column firm_id: unknown firm \"zz\""),
        format!("{flows}:3: column quantity: quantity must be >= 0, found -3"),
        "unknown column \"colour\" is ignored".to_string(),
    ] {
        assert!(stderr.contains(&expected), "stderr lacks {expected:?}");
    }

    let output = symbiose(&["validate", inventory.to_str().unwrap()], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(": 5 problems"), "{stderr}");
}

#[test]
fn validate_reports_counts_for_a_valid_inventory() {
    let work = tempfile::tempdir().unwrap();
    let dir = fixture_dir("split_by_distance");
    let output = symbiose(&["validate", dir.to_str().unwrap()], work.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "ok: 3 firms, 3 flows, 2 candidate links\n  1 independent part to solve (largest: 3 flows), 0 flows without any candidate link"
    );
}

#[test]
fn bom_and_crlf_inventories_are_accepted() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("windows");
    fs::create_dir(&inventory).unwrap();
    for entry in fs::read_dir(fixture_dir("split_by_distance")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap().replace('\n', "\r\n");
        fs::write(inventory.join(path.file_name().unwrap()), format!("\u{feff}{text}")).unwrap();
    }
    let out = work.path().join("out");
    assert_eq!(
        symbiose(
            &["optimize", inventory.to_str().unwrap(), "--out", out.to_str().unwrap()],
            work.path()
        )
        .status
        .code(),
        Some(0)
    );
    let s = summary(&out);
    assert_close(
        s["territory_value_eur"].as_f64().unwrap(),
        8600.0,
        1e-9,
        "T as in the LF fixture",
    );
}

#[test]
fn the_exported_catalogue_round_trips_as_overrides() {
    let work = tempfile::tempdir().unwrap();
    let catalogue = work.path().join("catalogue");
    assert_eq!(
        symbiose(&["catalogue", "--out", catalogue.to_str().unwrap()], work.path())
            .status
            .code(),
        Some(0)
    );
    for file in [
        "resources.csv",
        "routes.csv",
        "substitutions.csv",
        "impacts.csv",
        "externalities.csv",
        "SOURCES.md",
    ] {
        assert!(catalogue.join(file).is_file(), "{file} missing");
    }
    // The Dunkirk inventory with the exported catalogue copied in gives the same results.
    let inventory = work.path().join("dunkirk");
    fs::create_dir(&inventory).unwrap();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join("dunkirk");
    for entry in fs::read_dir(&data).unwrap().chain(fs::read_dir(&catalogue).unwrap()) {
        let path = entry.unwrap().path();
        fs::copy(&path, inventory.join(path.file_name().unwrap())).unwrap();
    }
    assert_eq!(
        symbiose(&["optimize", "--out", "a"], work.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        symbiose(&["optimize", inventory.to_str().unwrap(), "--out", "b"], work.path())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        fs::read(work.path().join("a/links.csv")).unwrap(),
        fs::read(work.path().join("b/links.csv")).unwrap()
    );
}

#[test]
fn a_zero_time_limit_is_reported_as_such() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--time-limit", "0", "--out", "res"], work.path());
    assert_eq!(output.status.code(), Some(5), "time limit has its own exit code");
    let out = work.path().join("res");
    if out.join("summary.json").exists() {
        let s = summary(&out);
        assert_eq!(s["status"], "time_limit");
        assert_eq!(s["proven_optimal"], false);
        assert!(String::from_utf8_lossy(&output.stdout).contains("NOT proven optimal"));
    } else {
        assert!(String::from_utf8_lossy(&output.stderr).contains("time limit"));
    }
}

#[test]
fn bad_arguments_exit_with_code_two() {
    let work = tempfile::tempdir().unwrap();
    assert_eq!(
        symbiose(&["optimize", "--supplier-share", "1.5"], work.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        symbiose(&["optimize", "--objective", "cheapest"], work.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        symbiose(&["optimize", "no/such/folder", "--out", "x"], work.path())
            .status
            .code(),
        Some(2)
    );
    assert!(!work.path().join("x").exists());
}

/// Output piped into a reader that has stopped (`symbiose optimize | head`)
/// ends the process as the pipe's signal does for other tools, without a
/// panic message, and the results are written all the same.
#[cfg(target_os = "linux")]
#[test]
fn a_closed_output_pipe_is_not_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let work = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(["optimize", "--out", "res"])
        .current_dir(work.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs the binary");
    // Close the reading end before the child prints anything.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the child ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(13),
        "ended by SIGPIPE: {:?}",
        output.status
    );
    check_written_tables(&work.path().join("res"));
}

/// A numerical failure reaches the user as such: exit code 6, its own
/// message, nothing written, and the warning about the quantities' spread
/// that explains it. tests/data/numerical_trouble (quantities from 4e-5 to
/// 5e14 t) was found by `find_numerical_trouble_case` in tests/numerics.rs:
/// HiGHS ends its `social` solve with the status Unknown. If a change to
/// the solve lets it solve, that is progress: find another case with that
/// test and replace the fixture (last replaced when the solve began to
/// start from the fallback basis, which solved the previous case).
#[test]
fn numerical_trouble_reaches_the_user_with_its_own_code_and_message() {
    let work = tempfile::tempdir().unwrap();
    let dir = fixture_dir("numerical_trouble");
    let output = symbiose(
        &[
            "optimize",
            dir.to_str().unwrap(),
            "--objective",
            "social",
            "--out",
            "res",
        ],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(6), "numerical trouble has exit code 6");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: numerical trouble in HiGHS (") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert!(stderr.contains("flow quantities span 1e19"), "{stderr}");
    assert!(!work.path().join("res").exists(), "nothing may be written");
}

#[test]
fn counts_are_singular_for_one_and_plural_otherwise() {
    // Issue 12, defect 17: "1 firms".
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(
        &["generate", "--firms", "1", "--seed", "2", "--out", "one"],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let flows = fs::read_to_string(work.path().join("one/flows.csv")).unwrap();
    let n_flows = flows.lines().count() - 1;
    let flows_word = if n_flows == 1 { "flow" } else { "flows" };
    let output = symbiose(&["validate", "one"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!("ok: 1 firm, {n_flows} {flows_word}, ")),
        "{stdout}"
    );
    let output = symbiose(&["optimize", "one", "--out", "r"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("\n  1 firm, {n_flows} {flows_word}, ")),
        "{stdout}"
    );
    let n_links = summary(&work.path().join("r"))["n_links"].as_u64().unwrap();
    let output = symbiose(&["report", "r"], work.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "(1 firm, {n_links} {})",
            if n_links == 1 { "link" } else { "links" }
        )),
        "{stdout}"
    );
    // One problem is "1 problem".
    let mut lines: Vec<String> = flows.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    assert!(matches!(cells[2].as_str(), "supply" | "demand"), "{flows}");
    cells[2] = "suply".to_string();
    lines[1] = cells.join(",");
    fs::write(work.path().join("one/flows.csv"), lines.join("\n") + "\n").unwrap();
    let output = symbiose(&["validate", "one"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim_end().ends_with(": 1 problem"), "{stderr}");
}

#[test]
fn top_zero_lists_no_links_and_no_header() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--top", "0", "--out", "r"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("top links"), "{stdout}");
    assert!(!stdout.contains(" -> "), "{stdout}");
    let output = symbiose(&["optimize", "--top", "2", "--out", "r"], work.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("top links by externalities avoided:"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|line| line.contains(" -> ")).count(),
        2,
        "{stdout}"
    );
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_solving() {
    // Issue 12, defect 17: an unwritable --out was found only after solving.
    // The numerical_trouble inventory fails in HiGHS (exit 6): exit 1 shows
    // the folder was checked first.
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("blocker"), "a file, not a folder\n").unwrap();
    let dir = fixture_dir("numerical_trouble");
    let output = symbiose(
        &["optimize", dir.to_str().unwrap(), "--out", "blocker/results"],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(1), "the I/O error code, before solving");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: writing results to blocker/results: blocker exists and is not a folder (checked before solving; nothing was written)"),
        "{stderr}"
    );
    assert!(!stderr.contains("numerical trouble in HiGHS"), "{stderr}");
    assert_eq!(
        fs::read_to_string(work.path().join("blocker")).unwrap(),
        "a file, not a folder\n"
    );
    let output = symbiose(&["optimize", "--out", "blocker"], work.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("blocker exists and is not a folder"));

    // A folder without write permission (root may write anywhere: the
    // check uses the effective user's rights, so it passes for root).
    let locked = work.path().join("locked");
    fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let output = symbiose(
        &["optimize", dir.to_str().unwrap(), "--out", "locked/deeper/results"],
        work.path(),
    );
    if root {
        assert_eq!(output.status.code(), Some(6), "root may write: the solve runs");
    } else {
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot write in the folder locked: Permission denied"),
            "{stderr}"
        );
    }
    assert_eq!(fs::read_dir(&locked).unwrap().count(), 0, "the check creates nothing");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();

    // Folders still to create are fine, and nothing is left when the solve fails.
    let output = symbiose(
        &["optimize", dir.to_str().unwrap(), "--out", "new/deeper/results"],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(6));
    assert!(!work.path().join("new").exists(), "the check creates nothing");
    let output = symbiose(&["optimize", "--out", "new/deeper/results"], work.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(work.path().join("new/deeper/results/summary.json").is_file());
}
