//! `symbiose robustness` (near-optimal ranges, docs/model.md C2 and D10)
//! against a hand-solved fixture.
//!
//! tests/data/robustness_three_cases: heat (1 EUR/MWh/km, max 20 km), no
//! impact anywhere, so the objective `social` is the private cost C. Three
//! clusters about 111 km apart (no link between them):
//! - a supplies 100 MWh (dump, 5 EUR/MWh) to p1 or p2, each needing 100
//!   (boiler, 40), both 2 km away: unit surplus 5 + 40 - 2 = 43 on either.
//!   Any split x1 + x2 = 100 is optimal: both links range over [0, 100].
//! - c supplies 50 to q (boiler), 3 km: unit surplus 42, the only partner.
//! - e supplies 30 to r, whose own source costs 4: 15 km, unit surplus
//!   5 + 4 - 15 = -6: never worth it.
//!
//! z* = C* = (2 x 100 + 40 x 100) + 3 x 50 + (5 x 30 + 4 x 30) = 4620.
//!
//! Slack 0: a -> p1, a -> p2 optional [0, 100]; c -> q indispensable
//! [50, 50]; e -> r unused [0, 0]. Firm values (supplier share 0.5): a 2150
//! (fixed: it sends its 100 either way), p1 and p2 each [0, 2150], c and q
//! 1050, e and r 0.
//!
//! Slack 0.01: B = 46.2. c -> q may lose B / 42 = 1.1 MWh: [48.9, 50];
//! e -> r may carry B / 6 = 7.7: [0, 7.7], optional; a's links still [0,
//! 100]. Values: a may lose B / 43 MWh at 21.5 EUR each: min 2150 - 23.1;
//! c and q min 1050 - 23.1; e and r min -3 x 7.7 = -23.1, max 0.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::common::{assert_close, fixture_dir, number, read_table, symbiose, Row};

/// HiGHS meets its rows to 1e-7 absolute; the amounts here are below 10^4.
const TOLERANCE: f64 = 1e-6;

fn run(slack: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let fixture = fixture_dir("robustness_three_cases");
    // `--slack=-0.01`: clap reads a separate "-0.01" as an option.
    let slack = format!("--slack={slack}");
    let mut args = vec![
        "robustness",
        fixture.to_str().unwrap(),
        "--objective",
        "social",
        &slack,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    symbiose(&args, out.parent().unwrap())
}

fn rows_by(path: &Path, key: impl Fn(&Row) -> String) -> BTreeMap<String, Row> {
    let (_, rows) = read_table(path);
    rows.into_iter().map(|row| (key(&row), row)).collect()
}

fn link_rows(out: &Path) -> BTreeMap<String, Row> {
    rows_by(&out.join("link_ranges.csv"), |row| {
        format!("{}->{}", row["supply_flow_id"], row["demand_flow_id"])
    })
}

fn firm_rows(out: &Path) -> BTreeMap<String, Row> {
    rows_by(&out.join("firm_ranges.csv"), |row| row["firm_id"].clone())
}

fn assert_range(row: &Row, columns: [&str; 2], expected: (f64, f64), what: &str) {
    assert_close(
        number(row, columns[0]),
        expected.0,
        TOLERANCE,
        &format!("{what} {}", columns[0]),
    );
    assert_close(
        number(row, columns[1]),
        expected.1,
        TOLERANCE,
        &format!("{what} {}", columns[1]),
    );
}

const QUANTITY: [&str; 2] = ["quantity_min", "quantity_max"];
const VALUE: [&str; 2] = ["value_min_eur", "value_max_eur"];

#[test]
fn zero_slack_gives_the_three_statuses_and_the_firm_ranges_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("robust");
    let output = run("0", &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let links = link_rows(&out);
    assert_eq!(
        links.keys().cloned().collect::<Vec<_>>(),
        ["ha->hp1", "ha->hp2", "hc->hq", "he->hr"],
        "one row per candidate link, sorted by the flow ids"
    );
    for (link, status, range) in [
        ("ha->hp1", "optional", (0.0, 100.0)),
        ("ha->hp2", "optional", (0.0, 100.0)),
        ("hc->hq", "indispensable", (50.0, 50.0)),
        ("he->hr", "unused", (0.0, 0.0)),
    ] {
        let row = &links[link];
        assert_eq!(row["status"], status, "{link}");
        assert_range(row, QUANTITY, range, link);
    }
    assert_close(
        number(&links["ha->hp1"], "quantity_optimal") + number(&links["ha->hp2"], "quantity_optimal"),
        100.0,
        TOLERANCE,
        "a sends its 100 MWh at the optimum",
    );
    assert_eq!(
        number(&links["he->hr"], "quantity_max"),
        0.0,
        "never worth it: exactly 0"
    );
    let firms = firm_rows(&out);
    for (firm, range) in [
        ("a", (2150.0, 2150.0)),
        ("p1", (0.0, 2150.0)),
        ("p2", (0.0, 2150.0)),
        ("c", (1050.0, 1050.0)),
        ("q", (1050.0, 1050.0)),
        ("e", (0.0, 0.0)),
        ("r", (0.0, 0.0)),
    ] {
        assert_range(&firms[firm], VALUE, range, firm);
    }
    let meta: serde_json::Value = serde_json::from_slice(&fs::read(out.join("robustness.json")).unwrap()).unwrap();
    assert_eq!(meta["objective"], "social");
    assert_close(meta["z_star_eur"].as_f64().unwrap(), 4620.0, TOLERANCE, "z*");
    assert_eq!(meta["budget_eur"].as_f64(), Some(0.0));
    assert_eq!(
        (
            meta["n_indispensable"].as_u64(),
            meta["n_optional"].as_u64(),
            meta["n_unused"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    // summary.json lists the three files: they belong to the results set.
    let summary: serde_json::Value = serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    let files: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    for name in ["link_ranges.csv", "firm_ranges.csv", "robustness.json", "links.csv"] {
        assert!(files.contains(&name), "{name} in summary.json's files: {files:?}");
    }
}

#[test]
fn a_slack_of_one_percent_widens_the_ranges_by_the_budget_over_the_unit_cost() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("robust");
    let output = run("0.01", &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let budget = 0.01 * 4620.0;
    let links = link_rows(&out);
    for (link, status, range) in [
        ("ha->hp1", "optional", (0.0, 100.0)),
        ("ha->hp2", "optional", (0.0, 100.0)),
        ("hc->hq", "indispensable", (50.0 - budget / 42.0, 50.0)),
        ("he->hr", "optional", (0.0, budget / 6.0)),
    ] {
        let row = &links[link];
        assert_eq!(row["status"], status, "{link}");
        assert_range(row, QUANTITY, range, link);
    }
    let firms = firm_rows(&out);
    let half = budget / 2.0;
    for (firm, range) in [
        ("a", (2150.0 - half, 2150.0)),
        ("p1", (0.0, 2150.0)),
        ("p2", (0.0, 2150.0)),
        ("c", (1050.0 - half, 1050.0)),
        ("q", (1050.0 - half, 1050.0)),
        ("e", (-half, 0.0)),
        ("r", (-half, 0.0)),
    ] {
        assert_range(&firms[firm], VALUE, range, firm);
    }
    let meta: serde_json::Value = serde_json::from_slice(&fs::read(out.join("robustness.json")).unwrap()).unwrap();
    assert_close(meta["budget_eur"].as_f64().unwrap(), budget, TOLERANCE, "B");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 indispensable, 3 optional, 0 unused"), "{stdout}");
}

fn folder_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // Hidden files (the marker) and summary.json hold measured seconds.
        if name.starts_with('.') || name == "summary.json" {
            continue;
        }
        files.insert(name, fs::read(&path).unwrap());
    }
    files
}

/// The bundled Dunkirk example with 1 and 2 threads: the same bytes.
#[test]
fn the_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    for (threads, out) in [("1", "one"), ("2", "two")] {
        let output = symbiose(&["robustness", "--threads", threads, "-q", "--out", out], dir.path());
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let one = folder_bytes(&dir.path().join("one"));
    assert!(one.contains_key("link_ranges.csv") && one.contains_key("firm_ranges.csv"));
    assert_eq!(one, folder_bytes(&dir.path().join("two")), "1 and 2 threads");
    // Every range holds the optimum, and the statuses follow the ranges.
    let (_, rows) = read_table(&dir.path().join("one/link_ranges.csv"));
    assert!(!rows.is_empty());
    for row in &rows {
        let (optimal, min, max) = (
            number(row, "quantity_optimal"),
            number(row, "quantity_min"),
            number(row, "quantity_max"),
        );
        assert!(min <= optimal && optimal <= max, "{row:?}");
        // The statuses' threshold is 1e-9 x the supply's quantity.
        match row["status"].as_str() {
            "indispensable" => assert!(min > 0.0, "{row:?}"),
            "optional" => assert!(max > 0.0, "{row:?}"),
            "unused" => assert!(min == 0.0 && max < 1e-3, "{row:?}"),
            other => panic!("unknown status {other}"),
        }
    }
}

#[test]
fn a_bad_slack_is_refused_with_exit_2_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    for slack in ["-0.01", "NaN", "inf", "lots"] {
        let out = dir.path().join("robust");
        let output = run(slack, &out, &[]);
        assert_eq!(output.status.code(), Some(2), "--slack {slack}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("is not a relative slack >= 0"), "{stderr}");
        assert!(!out.exists(), "nothing written for --slack {slack}");
    }
}

#[test]
fn a_time_limited_optimum_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("robust");
    let output = run("0.01", &out, &["--time-limit", "0"]);
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("time limit"), "{stderr}");
    assert!(!out.exists(), "nothing written");
}

/// An infeasible optimum (every demand's own source banned, through the
/// library: an inventory file cannot ban a route) is the optimum's error,
/// exit 3, nothing written.
#[test]
fn an_infeasible_optimum_is_refused_and_nothing_written() {
    use symbiose::app;
    use symbiose::io::{load_inventory, InventorySource};
    use symbiose::model::{Edit, RouteIdx};
    let dir = tempfile::tempdir().unwrap();
    let source = InventorySource::Folder(fixture_dir("robustness_three_cases"));
    let loaded = load_inventory(&source).unwrap();
    let ban = |id: &str| {
        Edit::BanRoute(RouteIdx::from_index(
            loaded
                .inventory
                .routes()
                .iter()
                .position(|route| route.id == id)
                .unwrap(),
        ))
    };
    let inventory = loaded.inventory.edited(&[ban("boiler"), ban("cheap_source")]).unwrap();
    let out = dir.path().join("robust");
    let config = app::RobustnessConfig {
        source,
        dialect: Default::default(),
        options: Default::default(),
        supplier_share: 0.5,
        slack: 0.01,
        out: out.clone(),
        threads: Some(1),
        quiet: true,
        write_report: false,
    };
    let error = app::run_planned_robustness(
        symbiose::io::Loaded {
            inventory,
            warnings: Vec::new(),
        },
        &config,
    )
    .unwrap_err();
    assert_eq!(error.exit_code(), app::exit_code::INFEASIBLE, "{error}");
    assert!(!out.exists(), "nothing written");
}
