//! `symbiose schemes` and `symbiose compare`, against a hand-solved
//! fixture and against plain `optimize` runs.
//!
//! tests/data/schemes_two_suppliers: one buyer b needs 100 MWh of heat
//! (boiler: 40 EUR/MWh, 3 harm/MWh); two suppliers of 100 MWh each, both
//! dumping at 5 EUR/MWh: s1 at 1 km dumps cleanly (no harm), s2 at 10 km
//! dumps with 2 harm/MWh; harm is worth 10 EUR; transport 1 EUR/MWh/km.
//!
//! Unit private saving (A4's S_l per MWh): s1 -> b: 5 + 40 - 1 = 44;
//! s2 -> b: 5 + 40 - 10 = 35. Unit externality avoided (dM_l): s1 -> b:
//! 0 + 30 = 30; s2 -> b: 20 + 30 = 50. Baseline C_base = 500 + 500 + 4000 =
//! 5000, M_base = 2000 (s2's dump) + 3000 (boiler) = 5000.
//!
//! Ascending (private): s1 -> b carries 100: C = 500 (s2 dumps) + 100 =
//! 600, M = 2000, firm value 4400, territory value 3000. With supplier share
//! 0.5: s1 2200, b 2200, s2 0.
//! Descending (externalities): s2 -> b carries 100: M = 0, C = 500 (s1
//! dumps) + 1000 = 1500, firm value 3500, territory value 5000; s2 1750,
//! b 1750, s1 0.
//! So the territory's view costs the firms 900, brings the territory 2000;
//! differences (descending - ascending): s1 -2200, s2 +1750, b -450; the
//! transfers are 2200 (s1) and 450 (b): 2650 in all, two firms.

use std::fs;
use std::path::Path;

use crate::common::{assert_close, fixture_dir, number, read_table, symbiose, Row};

/// The hand-solved tests run with `--lexicographic-slack 0`; HiGHS meets
/// its rows to 1e-7 absolute, so 1e-9 relative of amounts in the thousands.
const TOLERANCE: f64 = 1e-9;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("reads the json")).expect("valid json")
}

fn row<'r>(rows: &'r [Row], column: &str, id: &str) -> &'r Row {
    rows.iter()
        .find(|row| row[column] == id)
        .unwrap_or_else(|| panic!("no row with {column} = {id}"))
}

#[test]
fn schemes_match_the_hand_solved_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixture_dir("schemes_two_suppliers");
    let out = tmp.path().join("schemes");
    let output = symbiose(
        &[
            "schemes",
            fixture.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--report",
            // The hand-solved optima exactly: no slack for the second stages.
            "--lexicographic-slack",
            "0",
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("costs the firms 900 EUR/yr more")
            && stdout.contains("brings the territory 2,000 EUR/yr more")
            && stdout.contains("2 firms would need 2,650 EUR/yr of transfers"),
        "{stdout}"
    );

    let figures = json(&out.join("schemes.json"));
    let get = |path: &[&str]| {
        path.iter()
            .fold(&figures, |value, key| &value[*key])
            .as_f64()
            .unwrap_or_else(|| panic!("{path:?} is not a number"))
    };
    for (path, expected) in [
        (&["ascending", "private_cost_eur"][..], 600.0),
        (&["ascending", "externality_eur"], 2000.0),
        (&["ascending", "firm_value_eur"], 4400.0),
        (&["ascending", "territory_value_eur"], 3000.0),
        (&["ascending", "territory_value_local_eur"], 3000.0),
        (&["ascending", "territory_value_global_eur"], 0.0),
        (&["descending", "private_cost_eur"], 1500.0),
        (&["descending", "externality_eur"], 0.0),
        (&["descending", "firm_value_eur"], 3500.0),
        (&["descending", "territory_value_eur"], 5000.0),
        (&["cost_of_territory_view_eur"], 900.0),
        (&["territory_value_gained_eur"], 2000.0),
        (&["transfers_budget_eur"], 2650.0),
        (&["n_firms_compensated"], 2.0),
    ] {
        assert_close(get(path), expected, TOLERANCE, &format!("schemes.json {path:?}"));
    }

    let (header, firms) = read_table(&out.join("schemes_firms.csv"));
    assert_eq!(
        header,
        [
            "firm_id",
            "name",
            "value_ascending_eur",
            "value_descending_eur",
            "difference_eur",
            "transfer_eur"
        ]
    );
    for (firm, ascending, descending, transfer) in [
        ("b", 2200.0, 1750.0, 450.0),
        ("s1", 2200.0, 0.0, 2200.0),
        ("s2", 0.0, 1750.0, 0.0),
    ] {
        let row = row(&firms, "firm_id", firm);
        assert_close(number(row, "value_ascending_eur"), ascending, TOLERANCE, firm);
        assert_close(number(row, "value_descending_eur"), descending, TOLERANCE, firm);
        assert_close(number(row, "difference_eur"), descending - ascending, TOLERANCE, firm);
        assert_close(number(row, "transfer_eur"), transfer, TOLERANCE, firm);
    }
    assert_eq!(
        firms.iter().map(|row| row["firm_id"].as_str()).collect::<Vec<_>>(),
        ["b", "s1", "s2"],
        "sorted by firm id"
    );

    let (_, links) = read_table(&out.join("schemes_links.csv"));
    assert_eq!(links.len(), 2, "each scheme uses one link");
    let near = row(&links, "supply_flow_id", "h1");
    let far = row(&links, "supply_flow_id", "h2");
    assert_close(number(near, "quantity_ascending"), 100.0, TOLERANCE, "h1 ascending");
    assert_close(number(near, "quantity_descending"), 0.0, TOLERANCE, "h1 descending");
    assert_close(number(far, "quantity_ascending"), 0.0, TOLERANCE, "h2 ascending");
    assert_close(number(far, "quantity_descending"), 100.0, TOLERANCE, "h2 descending");

    // The folder is the descending optimum's results set, the schemes'
    // files listed in summary.json, and the report has their section.
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["objective"], "externalities");
    let files: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for name in ["schemes.json", "schemes_firms.csv", "schemes_links.csv", "links.csv"] {
        assert!(files.contains(&name), "summary.json lists {name}: {files:?}");
    }
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("id=\"schemes\"") && page.contains("href=\"#schemes\""));
    assert!(page.contains("2,650 EUR/yr"), "the transfers budget is on the page");

    // `symbiose report` on the folder draws the same page.
    let again = tmp.path().join("again.html");
    let output = symbiose(
        &["report", out.to_str().unwrap(), "--out", again.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(fs::read_to_string(&again).unwrap(), page);
}

/// The schemes' figures are those of two plain `optimize` runs, and the
/// schemes folder's tables are the descending run's, byte for byte.
#[test]
fn schemes_equal_two_optimize_runs_on_dunkirk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);
    for (objective, name) in [("private", "private"), ("externalities", "territory")] {
        let output = symbiose(
            &[
                "optimize",
                "--objective",
                objective,
                "--out",
                dir(name).to_str().unwrap(),
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(output.status.code(), Some(0));
    }
    let output = symbiose(
        &["schemes", "--out", dir("schemes").to_str().unwrap(), "-q"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    for table in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        assert_eq!(
            fs::read(dir("territory").join(table)).unwrap(),
            fs::read(dir("schemes").join(table)).unwrap(),
            "{table}"
        );
    }
    let figures = json(&dir("schemes").join("schemes.json"));
    for (scheme, name) in [("ascending", "private"), ("descending", "territory")] {
        let summary = json(&dir(name).join("summary.json"));
        for (field, path) in [
            ("private_cost_eur", &["optimized", "private_cost_eur"][..]),
            ("externality_eur", &["optimized", "externality_eur"]),
            ("firm_value_eur", &["firm_value_eur"]),
            ("territory_value_eur", &["territory_value_eur"]),
            ("territory_value_global_eur", &["territory_value_global_eur"]),
            ("territory_value_local_eur", &["territory_value_local_eur"]),
        ] {
            let expected = path.iter().fold(&summary, |v, k| &v[*k]).as_f64().unwrap();
            let actual = figures[scheme][field].as_f64().unwrap();
            assert_close(actual, expected, TOLERANCE, &format!("{scheme} {field}"));
        }
    }
    let c = |scheme: &str| figures[scheme]["private_cost_eur"].as_f64().unwrap();
    assert_close(
        figures["cost_of_territory_view_eur"].as_f64().unwrap(),
        c("descending") - c("ascending"),
        TOLERANCE,
        "cost of the territory's view",
    );
    // Each firm's transfer against the two runs' firm_values.csv.
    let (_, private) = read_table(&dir("private").join("firm_values.csv"));
    let (_, territory) = read_table(&dir("territory").join("firm_values.csv"));
    let (_, firms) = read_table(&dir("schemes").join("schemes_firms.csv"));
    assert_eq!(firms.len(), private.len());
    let mut budget = 0.0;
    for firm in &firms {
        let id = firm["firm_id"].as_str();
        let ascending = number(row(&private, "firm_id", id), "value_eur");
        let descending = number(row(&territory, "firm_id", id), "value_eur");
        assert_close(number(firm, "value_ascending_eur"), ascending, TOLERANCE, id);
        assert_close(number(firm, "value_descending_eur"), descending, TOLERANCE, id);
        assert_close(
            number(firm, "transfer_eur"),
            (ascending - descending).max(0.0),
            TOLERANCE,
            id,
        );
        budget += (ascending - descending).max(0.0);
    }
    assert_close(
        figures["transfers_budget_eur"].as_f64().unwrap(),
        budget,
        TOLERANCE,
        "transfers budget",
    );
}

/// `compare` of the fixture against itself without the near supplier: the
/// firm is only in A, the baselines differ and the summary says so, each
/// difference is B - A.
#[test]
fn compare_states_a_changed_baseline_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixture_dir("schemes_two_suppliers");
    let without = tmp.path().join("without_s1");
    fs::create_dir(&without).unwrap();
    for entry in fs::read_dir(&fixture).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, without.join(path.file_name().unwrap())).unwrap();
    }
    fs::write(
        without.join("firms.csv"),
        "firm_id,name,lat,lon\ns2,Far supplier,50.0,2.0\nb,Buyer,50.0,2.0\n",
    )
    .unwrap();
    fs::write(
        without.join("distances.csv"),
        "from_firm,to_firm,distance_km\ns2,b,10\n",
    )
    .unwrap();
    fs::write(
        without.join("flows.csv"),
        "flow_id,firm_id,kind,resource,quantity,fallback\nh2,s2,supply,heat,100,dump_dirty\nd,b,demand,heat,100,boiler\n",
    )
    .unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (inventory, out) in [(&fixture, &a), (&without, &b)] {
        let output = symbiose(
            &[
                "optimize",
                inventory.to_str().unwrap(),
                "--objective",
                "private",
                "--lexicographic-slack",
                "0",
                "--out",
                out.to_str().unwrap(),
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(output.status.code(), Some(0));
    }
    let out = tmp.path().join("compare");
    let output = symbiose(
        &[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("The baselines differ"), "{stdout}");
    assert!(stdout.contains("1 only in A, 0 only in B"), "{stdout}");

    // A (private, both suppliers): s1 -> b, C = 600, C_base = 5000.
    // B (private, s2 alone): s2 -> b carries 100 (saves 35/MWh): C = 1000,
    // C_base = 500 + 4000 = 4500, firm value 3500; M = 0, M_base = 5000.
    let (_, firms) = read_table(&out.join("compare_firms.csv"));
    let s1 = row(&firms, "firm_id", "s1");
    assert_eq!(s1["in"], "a");
    assert_eq!(s1["value_b_eur"], "", "s1 has no value in B");
    assert_eq!(s1["value_difference_eur"], "");
    let buyer = row(&firms, "firm_id", "b");
    assert_eq!(buyer["in"], "both");
    assert_close(number(buyer, "value_a_eur"), 2200.0, TOLERANCE, "b in A");
    assert_close(number(buyer, "value_b_eur"), 1750.0, TOLERANCE, "b in B");
    assert_close(number(buyer, "value_difference_eur"), -450.0, TOLERANCE, "b");
    assert_close(
        number(buyer, "baseline_cost_difference_eur"),
        0.0,
        TOLERANCE,
        "b's baseline",
    );

    let (_, territory) = read_table(&out.join("compare_territory.csv"));
    let cost = row(&territory, "subject", "private_cost");
    assert_close(number(cost, "baseline_a"), 5000.0, TOLERANCE, "C_base A");
    assert_close(number(cost, "baseline_b"), 4500.0, TOLERANCE, "C_base B");
    assert_close(number(cost, "baseline_difference"), -500.0, TOLERANCE, "C_base B - A");
    assert_close(number(cost, "optimized_a"), 600.0, TOLERANCE, "C A");
    assert_close(number(cost, "optimized_b"), 1000.0, TOLERANCE, "C B");
    assert_close(
        number(cost, "avoided_difference"),
        3500.0 - 4400.0,
        TOLERANCE,
        "firm value B - A",
    );
    let harm = row(&territory, "subject", "category:harm");
    assert_close(number(harm, "optimized_a"), 200.0, TOLERANCE, "E_harm A (s2 dumps)");
    assert_close(number(harm, "optimized_b"), 0.0, TOLERANCE, "E_harm B");
    assert_close(
        number(harm, "value_difference_eur"),
        5000.0 - 3000.0,
        TOLERANCE,
        "harm value",
    );
    let local = row(&territory, "subject", "externality_local");
    assert_close(number(local, "value_b_eur"), 5000.0, TOLERANCE, "local value B");

    let (_, links) = read_table(&out.join("compare_links.csv"));
    assert_eq!(links.len(), 2);
    let near = row(&links, "supply_flow_id", "h1");
    assert_close(number(near, "quantity_a"), 100.0, TOLERANCE, "h1 in A");
    assert_close(number(near, "quantity_b"), 0.0, TOLERANCE, "h1 in B");
    assert_close(number(near, "quantity_difference"), -100.0, TOLERANCE, "h1");
}

#[test]
fn compare_refuses_a_folder_that_is_not_a_results_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let output = symbiose(&["optimize", "--out", a.to_str().unwrap(), "-q"], tmp.path());
    assert_eq!(output.status.code(), Some(0));
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let out = tmp.path().join("compare");
    let output = symbiose(
        &[
            "compare",
            a.to_str().unwrap(),
            empty.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("summary.json") && stderr.contains("missing"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
}
