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

/// As [`run_inventory`], with the solve's options given.
pub fn run_inventory_with(inventory: Inventory, options: &SolveOptions, supplier_share: f64) -> Run {
    let (links, solution, valuation) = optimize_inventory(&inventory, options, supplier_share).expect("solves");
    Run {
        inventory,
        links,
        solution,
        valuation,
    }
}

/// A CSV text as a read table.
pub fn csv_table(name: &str, text: &str) -> symbiose::model::RawTable {
    parse_csv(name, text.as_bytes()).expect("generated CSV parses")
}

/// A random territory of several independent parts (issue 13), drawn from
/// `seed` with the generator's own PRNG: 2 to 5 clusters of 2 to 4 firms
/// each, 111 km apart (1 degree of latitude), every firm within about 5 km
/// of its cluster's centre; the two linkable resources (r0, r1, with the
/// substitution r0 > r1) have a `max_distance_km` of 20 to 40 km, so no
/// link joins two clusters. Each cluster holds a supply and a demand of r0
/// at two of its firms without a quality, so each has at least one link;
/// other flows are random (r2 has no demand: its supplies are linked to
/// nothing). Built with an empty default catalogue, so only these numbers
/// are in play.
///
/// With `part_b`, docs/model.md Part B too: 2 or 3 slices and a profile
/// some flows follow (B1), in about 60 % of the clusters a hub turning r0
/// into r1 with a capacity and, for half of them, a fixed cost (B3, B4),
/// and a fixed cost per km on every r1 link (B4), so the model is a MILP.
/// Every cost and impact is then >= 0, so every part's optimum is >= 0
/// (the MIP gaps of the parts add up to at most the whole's).
pub fn clustered_tables(seed: u64, part_b: bool) -> symbiose::model::InventoryTables {
    use symbiose::generate::Rng;
    use symbiose::model::build::CatalogueTables;
    use symbiose::model::{InventoryTables, TableFile};
    let mut rng = Rng::new(seed);
    let n_clusters = 2 + rng.below(4);
    let mut firms = String::from("firm_id,name,lat,lon\n");
    let mut flows = String::from("flow_id,firm_id,kind,resource,quantity,fallback,quality,profile\n");
    let mut processes = String::from("process_id,firm_id,capacity,cost_eur_per_activity,fixed_cost_eur_per_year\n");
    let mut process_io = String::from("process_id,resource,direction,per_activity,fallback\n");
    let mut impacts = String::from("subject,category,amount_per_unit\n");
    let (mut n_firms, mut n_flows) = (0, 0);
    let flow = |flows: &mut String, n_flows: &mut usize, rng: &mut Rng, firm: usize, supply: bool, resource: usize| {
        let (kind, route) = if supply {
            ("supply", "dispose")
        } else {
            ("demand", "source")
        };
        let quantity = if rng.chance(0.05) { 0.0 } else { rng.range(1.0, 1000.0) };
        let quality = if rng.chance(0.3) {
            rng.range(20.0, 120.0).to_string()
        } else {
            String::new()
        };
        let profile = if part_b && rng.chance(0.5) { "p" } else { "" };
        *flows += &format!("q{n_flows},f{firm},{kind},r{resource},{quantity},{route},{quality},{profile}\n");
        *n_flows += 1;
    };
    for cluster in 0..n_clusters {
        let first = n_firms;
        let n_in_cluster = 2 + rng.below(3);
        for _ in 0..n_in_cluster {
            let lat = 45.0 + cluster as f64 + rng.range(-0.03, 0.03);
            let lon = 2.0 + rng.range(-0.04, 0.04);
            firms += &format!("f{n_firms},Firm {n_firms},{lat},{lon}\n");
            n_firms += 1;
        }
        // The pair that makes sure the cluster has a link (a positive
        // quantity each, no quality).
        for (firm, supply) in [(first, true), (first + 1, false)] {
            let (kind, route) = if supply {
                ("supply", "dispose")
            } else {
                ("demand", "source")
            };
            let quantity = rng.range(1.0, 1000.0);
            flows += &format!("q{n_flows},f{firm},{kind},r0,{quantity},{route},,\n");
            n_flows += 1;
        }
        for _ in 0..rng.below(5) {
            let firm = first + rng.below(n_in_cluster);
            let supply = rng.chance(0.5);
            let resource = if rng.chance(0.1) { 2 } else { rng.below(2) };
            flow(
                &mut flows,
                &mut n_flows,
                &mut rng,
                firm,
                supply || resource == 2,
                resource,
            );
        }
        if part_b && rng.chance(0.6) {
            let firm = first + rng.below(n_in_cluster);
            let fixed = if rng.chance(0.5) { rng.range(100.0, 5000.0) } else { 0.0 };
            processes += &format!(
                "h{cluster},f{firm},{},{},{fixed}\n",
                rng.range(100.0, 1500.0),
                rng.range(0.0, 20.0)
            );
            process_io += &format!(
                "h{cluster},r0,in,1,\nh{cluster},r1,out,{},dispose\n",
                rng.range(0.5, 0.9)
            );
            impacts += &format!("process:h{cluster},ghg,{}\n", rng.range(0.0, 0.05));
        }
    }
    // Part B: no negative cost or impact (see above).
    let low = if part_b { 0.0 } else { -0.5 };
    let mut resources = String::from(
        "resource,category,unit,transport_cost_eur_per_unit_km,max_distance_km,link_fixed_cost_eur_per_km_year\n",
    );
    for resource in 0..3 {
        let fixed = if part_b && resource == 1 {
            rng.range(10.0, 200.0).to_string()
        } else {
            String::new()
        };
        resources += &format!(
            "r{resource},material,t,{},{},{fixed}\n",
            rng.range(0.0, 2.0),
            rng.range(20.0, 40.0)
        );
        impacts += &format!("transport:r{resource},harm,{}\n", rng.range(0.0, 0.2));
    }
    impacts += &format!(
        "substitution:r0>r1,ghg,{}\nroute:dispose,harm,{}\nroute:source,ghg,{}\n",
        rng.range(low, 0.5),
        rng.range(0.0, 3.0),
        rng.range(0.0, 1.0)
    );
    let routes = format!(
        "route,kind,unit,cost_eur_per_unit\ndispose,disposal,t,{}\nsource,sourcing,t,{}\n",
        rng.range(0.0, 50.0),
        rng.range(0.0, 80.0)
    );
    let substitutions = format!(
        "supply_resource,demand_resource,ratio,processing_cost_eur_per_unit\nr0,r1,{},{}\n",
        rng.range(0.5, 1.5),
        rng.range(0.0, 5.0)
    );
    let externalities = format!(
        "category,unit,value_eur_per_unit,scope\nharm,u,{},local\nghg,t,{},global\n",
        rng.range(0.0, 20.0),
        rng.range(0.0, 300.0)
    );
    let mut tables = InventoryTables {
        firms: TableFile::Read(csv_table("firms.csv", &firms)),
        flows: TableFile::Read(csv_table("flows.csv", &flows)),
        default_catalogue: CatalogueTables::default(),
        catalogue_overrides: CatalogueTables {
            resources: TableFile::Read(csv_table("resources.csv", &resources)),
            routes: TableFile::Read(csv_table("routes.csv", &routes)),
            substitutions: TableFile::Read(csv_table("substitutions.csv", &substitutions)),
            impacts: TableFile::Read(csv_table("impacts.csv", &impacts)),
            externalities: TableFile::Read(csv_table("externalities.csv", &externalities)),
        },
        distances: TableFile::Absent,
        ..InventoryTables::default()
    };
    if part_b {
        let n_slices = 2 + rng.below(2);
        let raw: Vec<f64> = (0..n_slices).map(|_| rng.range(0.05, 1.0)).collect();
        let total: f64 = raw.iter().sum();
        let mut slices = String::from("slice,hours\n");
        let mut profiles = String::from("profile,slice,share\n");
        for (slice, share) in raw.iter().enumerate() {
            slices += &format!("t{slice},{}\n", rng.range(500.0, 4000.0));
            profiles += &format!("p,t{slice},{}\n", share / total);
        }
        tables.slices = TableFile::Read(csv_table("slices.csv", &slices));
        tables.profiles = TableFile::Read(csv_table("profiles.csv", &profiles));
        if processes.lines().count() > 1 {
            tables.processes = TableFile::Read(csv_table("processes.csv", &processes));
            tables.process_io = TableFile::Read(csv_table("process_io.csv", &process_io));
        }
    }
    tables
}

/// [`clustered_tables`] built into an inventory.
pub fn clustered_inventory(seed: u64, part_b: bool) -> Inventory {
    let (result, _warnings) = symbiose::model::build_inventory(&clustered_tables(seed, part_b));
    match result {
        Ok(inventory) => inventory,
        Err(errors) => panic!("clustered territory {seed} (part_b {part_b}) does not load: {errors:?}"),
    }
}
