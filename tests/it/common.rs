//! Helpers shared by the integration tests: load a fixture, run the
//! pipeline, look results up by id, compare floats with a stated tolerance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use symbiose::app::optimize_inventory;
use symbiose::candidates::Link;
use symbiose::io::{load_inventory, parse_csv, InventorySource};
use symbiose::model::Inventory;
use symbiose::solve::{LpSolution, Objective, SolveOptions};
use symbiose::value::Valuation;

pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

pub fn load_fixture(name: &str) -> Inventory {
    match load_inventory(&InventorySource::Folder(fixture_dir(name))) {
        Ok(loaded) => loaded.inventory,
        Err(error) => panic!("fixture {name} does not load: {error:?}"),
    }
}

pub struct Run {
    pub inventory: Inventory,
    pub links: Vec<Link>,
    pub solution: LpSolution,
    pub valuation: Valuation,
}

pub fn run_inventory(inventory: Inventory, objective: Objective, supplier_share: f64) -> Run {
    let options = SolveOptions {
        objective,
        ..SolveOptions::default()
    };
    let (links, solution, valuation) = optimize_inventory(&inventory, &options, supplier_share).expect("solves");
    Run {
        inventory,
        links,
        solution,
        valuation,
    }
}

pub fn run_fixture(name: &str, objective: Objective) -> Run {
    run_inventory(load_fixture(name), objective, 0.5)
}

/// |actual - expected| <= tolerance * max(1, |expected|).
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "{what}: got {actual}, expected {expected} (relative tolerance {tolerance})"
    );
}

/// Runs the real binary in `cwd`, printing the command and its output (shown when a test fails).
pub fn symbiose(args: &[&str], cwd: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("runs the binary");
    eprintln!(
        "$ (cd {}; symbiose {})\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        cwd.display(),
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// One row of a written CSV table: column -> cell.
pub type Row = HashMap<String, String>;

/// A written CSV table: its header and its rows.
pub fn read_table(path: &Path) -> (Vec<String>, Vec<Row>) {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let table = parse_csv(&path.display().to_string(), &bytes).expect("output CSV parses");
    let rows = table
        .rows
        .iter()
        .map(|row| {
            table
                .columns
                .iter()
                .cloned()
                .zip(row.cells.iter().map(|c| c.clone().unwrap_or_default()))
                .collect()
        })
        .collect();
    (table.columns, rows)
}

pub fn number(row: &Row, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("column {column} holds {:?}", row[column]))
}

impl Run {
    /// x_l of the link from supply flow `supply` to demand flow `demand`, 0 when unused.
    pub fn link_flow(&self, supply: &str, demand: &str) -> f64 {
        self.valuation
            .links
            .iter()
            .find(|l| self.inventory.flow(l.supply).id == supply && self.inventory.flow(l.demand).id == demand)
            .map(|l| l.quantity)
            .unwrap_or(0.0)
    }

    pub fn link(&self, supply: &str, demand: &str) -> &symbiose::value::LinkValue {
        self.valuation
            .links
            .iter()
            .find(|l| self.inventory.flow(l.supply).id == supply && self.inventory.flow(l.demand).id == demand)
            .unwrap_or_else(|| panic!("no active link {supply} -> {demand}"))
    }

    pub fn flow(&self, id: &str) -> &symbiose::value::FlowValue {
        let idx = self.inventory.flow_index(id).unwrap_or_else(|| panic!("no flow {id}"));
        &self.valuation.flows[idx.index()]
    }

    /// A flow in one time slice (docs/model.md B1).
    pub fn flow_slice(&self, id: &str, slice: &str) -> &symbiose::value::FlowSliceValue {
        let idx = self.inventory.flow_index(id).unwrap_or_else(|| panic!("no flow {id}"));
        self.valuation
            .flow_slices
            .iter()
            .find(|row| row.flow == idx && self.inventory.slices()[row.slice.index()].id == slice)
            .unwrap_or_else(|| panic!("no slice {slice} of flow {id}"))
    }

    pub fn firm_value(&self, id: &str) -> &symbiose::value::FirmValue {
        let idx = self.inventory.firm_index(id).unwrap_or_else(|| panic!("no firm {id}"));
        &self.valuation.firms[idx.index()]
    }

    pub fn category(&self, id: &str) -> &symbiose::value::CategoryValue {
        let idx = self
            .inventory
            .category_index(id)
            .unwrap_or_else(|| panic!("no category {id}"));
        &self.valuation.categories[idx.index()]
    }

    pub fn candidate_pairs(&self) -> Vec<(String, String)> {
        self.links
            .iter()
            .map(|l| {
                (
                    self.inventory.flow(l.supply).id.clone(),
                    self.inventory.flow(l.demand).id.clone(),
                )
            })
            .collect()
    }

    /// Checks the identities of docs/model.md A4 on this run.
    #[track_caller]
    pub fn assert_identities(&self) {
        let v = &self.valuation;
        let firm_sum: f64 = v.firms.iter().map(|f| f.value_eur).sum();
        assert_close(
            firm_sum,
            v.baseline.private_cost_eur - v.optimized.private_cost_eur,
            1e-9,
            "sum of firm values = C_base - C",
        );
        // Processes (docs/model.md B3) carry the externality of their activity
        // and of their outputs at their fallback; none without processes.
        let link_sum: f64 = v.links.iter().map(|l| l.externality_avoided_eur).sum();
        let process_sum: f64 = v.processes.iter().map(|p| p.externality_eur).sum();
        assert_close(
            link_sum - process_sum,
            v.baseline.externality_eur - v.optimized.externality_eur,
            1e-9,
            "sum of link dM - sum of process externalities = M_base - M",
        );
        let category_sum: f64 = v.categories.iter().map(|c| c.value_eur).sum();
        assert_close(category_sum, v.territory_value_eur, 1e-9, "sum of category values = T");
        assert_close(
            v.territory_value_global_eur + v.territory_value_local_eur,
            v.territory_value_eur,
            1e-9,
            "global + local = T",
        );
    }
}

/// |actual - expected| <= tolerance.
#[track_caller]
pub fn assert_abs(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected} (absolute tolerance {tolerance})"
    );
}

/// Whether the environment variable CI asks for every test to run: any
/// non-empty value but `false` and `0` (`.ci/run` sets `CI=true`).
pub fn in_ci() -> bool {
    ci_value_requires_tools(std::env::var("CI").ok().as_deref())
}

fn ci_value_requires_tools(value: Option<&str>) -> bool {
    match value.map(str::trim) {
        None | Some("") => false,
        Some(value) => !value.eq_ignore_ascii_case("false") && value != "0",
    }
}

/// Whether the external tool at `path` that a test needs is there. Under CI
/// a missing tool fails the test (a test that passes without running would
/// hide the gap); elsewhere the test is skipped, and says so on stderr.
#[track_caller]
pub fn tool_available(path: &str, install: &str) -> bool {
    let present = Path::new(path).is_file();
    tool_decision(present, in_ci(), path, install)
}

#[track_caller]
fn tool_decision(present: bool, ci: bool, path: &str, install: &str) -> bool {
    if present {
        return true;
    }
    if ci {
        panic!("{path} is missing and CI is set, so this test may not be skipped: {install}");
    }
    eprintln!("SKIPPED: {path} is not installed, so this test did not run ({install}; under CI=true it fails instead)");
    false
}

#[test]
fn ci_values_that_require_tools() {
    for (value, expected) in [
        (None, false),
        (Some(""), false),
        (Some("false"), false),
        (Some("FALSE"), false),
        (Some("0"), false),
        (Some("true"), true),
        (Some("1"), true),
        (Some("yes"), true),
    ] {
        assert_eq!(ci_value_requires_tools(value), expected, "CI={value:?}");
    }
    assert!(!tool_decision(false, false, "/nonexistent/tool", "install it"));
    assert!(tool_decision(true, true, "/usr/bin/chromium", "install it"));
    let in_ci = std::panic::catch_unwind(|| tool_decision(false, true, "/nonexistent/tool", "install it"));
    assert!(in_ci.is_err(), "a missing tool under CI must fail the test");
}
