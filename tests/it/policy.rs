//! The instruments of docs/model.md C1 (`tax.<category>`,
//! `subsidy.<resource>`) and `symbiose policy`, against the hand-solved
//! fixture of the schemes (tests/data/schemes_two_suppliers) and plain runs.
//!
//! The fixture (tests/it/schemes.rs has the plain arithmetic): b needs 100
//! MWh of heat (boiler 40 EUR/MWh, 3 harm/MWh); s1 at 1 km dumps cleanly at
//! 5 EUR/MWh, s2 at 10 km dumps at 5 EUR/MWh with 2 harm/MWh; harm is worth
//! v = 10 EUR, transport 1 EUR/MWh/km. M_base = 5000; the territory's
//! optimum takes s2 (M = 0): T* = 5000.
//!
//! With a tax t EUR per unit of harm, the fallback costs become dump 5,
//! dump_dirty 5 + 2t, boiler 40 + 3t; the links' costs stay 1 (s1) and 10
//! (s2), as links cause no harm. The firms' optimum:
//!   s1 -> b: C = 100 (5 + 2t) + 100 x 1 = 600 + 200t (s2 dumps: E = 200);
//!   s2 -> b: C = 100 x 5 + 100 x 10 = 1500 (E = 0).
//! It switches to s2 where 600 + 200t > 1500: t > 4.5 (at 4.5 they tie and
//! the second stage, min M, takes s2). At t = 4: C = 1400, taxes R = 4 x 200
//! = 800 (C = 600 + R), C_base = 5000 + t x 500 = 7000, firm value 5600,
//! T = 3000, share 0.6. At t = 5: C = 1500, R = 0, T = 5000, share 1.
//! A subsidy u on heat lowers both links' costs alike: the firms keep s1
//! (share 0.6 whatever u), and pay R = -100 u.

use std::fs;
use std::path::Path;

use crate::common::{assert_close, fixture_dir, number, read_table, symbiose};

/// `policy` runs here with `--lexicographic-slack 0`: the hand-solved
/// optima exactly, to HiGHS's 1e-7 absolute on amounts in the thousands.
const TOLERANCE: f64 = 1e-9;
/// `run` keeps A3's slack of 1e-6 x C* for the second stage (min M), which
/// it spends on moving a hair of heat to the cleaner supplier: at t = 4 each
/// MWh moved costs the firms 1 EUR, so 0.0014 MWh move, 0.0028 harm less,
/// 0.0112 EUR less tax (1.4e-5 of R).
const RUN_TOLERANCE: f64 = 1e-4;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("reads the json")).expect("valid json")
}

/// A scenario file beside a copy-free reference to the fixture.
fn scenario(dir: &Path, name: &str, inventory: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(
        &path,
        format!("inventory = {:?}\nobjective = \"private\"\n{body}", inventory),
    )
    .unwrap();
    path
}

fn run(dir: &Path, file: &Path, out: &str) {
    let output = symbiose(&["run", file.to_str().unwrap(), "--out", out, "-q"], dir);
    assert_eq!(output.status.code(), Some(0));
}

const TABLES: [&str; 4] = [
    "links.csv",
    "flow_results.csv",
    "firm_values.csv",
    "territory_values.csv",
];

#[test]
fn instruments_at_zero_reproduce_the_plain_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixture_dir("schemes_two_suppliers");
    for (inventory, zero) in [
        (
            fixture.to_str().unwrap().to_string(),
            "[set]\n\"tax.harm\" = 0\n\"subsidy.heat\" = 0\n",
        ),
        (
            "bundled:dunkirk".to_string(),
            "[set]\n\"tax.landfill_t\" = 0\n\"tax.co2e_t\" = 0.0\n\"subsidy.bf_slag\" = 0\n",
        ),
    ] {
        let plain = scenario(tmp.path(), "plain.toml", &inventory, "");
        let zeros = scenario(tmp.path(), "zeros.toml", &inventory, zero);
        run(tmp.path(), &plain, "plain");
        run(tmp.path(), &zeros, "zeros");
        for table in TABLES {
            assert_eq!(
                fs::read(tmp.path().join("plain").join(table)).unwrap(),
                fs::read(tmp.path().join("zeros").join(table)).unwrap(),
                "{inventory}: {table}"
            );
        }
        let summary = json(&tmp.path().join("zeros/summary.json"));
        assert!(summary.get("instruments").is_none(), "{summary}");
        let plain_summary = json(&tmp.path().join("plain/summary.json"));
        for key in ["baseline", "optimized", "firm_value_eur", "territory_value_eur"] {
            assert_eq!(summary[key], plain_summary[key], "{inventory}: {key}");
        }
    }
}

#[test]
fn a_tax_switches_the_firms_supplier_as_computed_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixture_dir("schemes_two_suppliers");
    let fixture = fixture.to_str().unwrap();
    for (tax, supplier, cost, revenue, base_cost, territory, harm) in [
        (4.0, "h1", 1400.0, 800.0, 7000.0, 3000.0, 200.0),
        (5.0, "h2", 1500.0, 0.0, 7500.0, 5000.0, 0.0),
    ] {
        let out = format!("tax{tax}");
        let file = scenario(
            tmp.path(),
            &format!("{out}.toml"),
            fixture,
            &format!("[set]\n\"tax.harm\" = {tax}\n"),
        );
        run(tmp.path(), &file, &out);
        let dir = tmp.path().join(&out);
        let summary = json(&dir.join("summary.json"));
        let get = |path: &[&str]| {
            path.iter()
                .fold(&summary, |value, key| &value[*key])
                .as_f64()
                .unwrap_or_else(|| panic!("{path:?} is not a number in {summary}"))
        };
        assert_close(get(&["optimized", "private_cost_eur"]), cost, RUN_TOLERANCE, "C");
        assert_close(
            get(&["baseline", "private_cost_eur"]),
            base_cost,
            RUN_TOLERANCE,
            "C_base",
        );
        assert_close(get(&["firm_value_eur"]), base_cost - cost, RUN_TOLERANCE, "firm value");
        // M keeps the externality values: the tax is not in it.
        assert_close(get(&["territory_value_eur"]), territory, RUN_TOLERANCE, "T");
        assert_close(get(&["baseline", "externality_eur"]), 5000.0, RUN_TOLERANCE, "M_base");
        assert_close(get(&["instruments", "taxes_eur"]), revenue, RUN_TOLERANCE, "taxes");
        assert_close(get(&["instruments", "subsidies_eur"]), 0.0, RUN_TOLERANCE, "subsidies");
        assert_close(get(&["instruments", "public_revenue_eur"]), revenue, RUN_TOLERANCE, "R");
        assert_close(
            get(&["instruments", "baseline_public_revenue_eur"]),
            tax * 500.0,
            RUN_TOLERANCE,
            "R_base",
        );
        assert_close(get(&["instruments", "values", "tax.harm"]), tax, 0.0, "value set");
        let (_, links) = read_table(&dir.join("links.csv"));
        // The supplier carries the demand (the slack may leave a hair on the other link).
        let carried = |flow: &str| {
            links
                .iter()
                .filter(|link| link["supply_flow_id"] == flow)
                .map(|link| number(link, "quantity"))
                .sum::<f64>()
        };
        assert_close(carried(supplier), 100.0, RUN_TOLERANCE, "the supplier's link");
        let (_, territory_rows) = read_table(&dir.join("territory_values.csv"));
        assert_close(
            number(
                territory_rows
                    .iter()
                    .find(|row| row["category"] == "harm")
                    .expect("a harm row"),
                "optimized",
            ),
            harm,
            RUN_TOLERANCE,
            "E_harm",
        );
        // sum V_f = C_base - C with the taxes in both.
        let (_, firms) = read_table(&dir.join("firm_values.csv"));
        let sum: f64 = firms.iter().map(|row| number(row, "value_eur")).sum();
        assert_close(sum, base_cost - cost, RUN_TOLERANCE, "sum of V_f");
    }
}

#[test]
fn a_subsidy_is_paid_on_the_links_and_reported_as_a_public_cost() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixture_dir("schemes_two_suppliers");
    let file = scenario(
        tmp.path(),
        "subsidy.toml",
        fixture.to_str().unwrap(),
        "[set]\n\"subsidy.heat\" = 3\n",
    );
    run(tmp.path(), &file, "subsidy");
    let dir = tmp.path().join("subsidy");
    let summary = json(&dir.join("summary.json"));
    // s1 -> b at k = 1 - 3 = -2: C = 500 (s2 dumps) - 200 = 300; R = -300.
    assert_close(
        summary["optimized"]["private_cost_eur"].as_f64().unwrap(),
        300.0,
        RUN_TOLERANCE,
        "C",
    );
    assert_close(
        summary["instruments"]["public_revenue_eur"].as_f64().unwrap(),
        -300.0,
        RUN_TOLERANCE,
        "R",
    );
    let (_, links) = read_table(&dir.join("links.csv"));
    assert_close(
        number(&links[0], "unit_cost_eur"),
        -2.0,
        RUN_TOLERANCE,
        "k_l with the subsidy",
    );
    // The surplus (5 + 40 + 2) x 100 = 4700 is split like any surplus.
    assert_close(number(&links[0], "surplus_eur"), 4700.0, RUN_TOLERANCE, "S_l");
    assert_close(
        number(&links[0], "supplier_value_eur"),
        2350.0,
        RUN_TOLERANCE,
        "supplier's half",
    );
}

#[test]
fn instrument_values_are_checked_like_any_parameter() {
    let tmp = tempfile::tempdir().unwrap();
    for (body, expected) in [
        (
            "[set]\n\"tax.harm\" = -1\n",
            "a tax must be a finite number >= 0, got -1",
        ),
        (
            "[set]\n\"subsidy.heat\" = -2\n",
            "a subsidy must be a finite number >= 0, got -2",
        ),
        ("[set]\n\"tax.noise\" = 1\n", "no externality category \"noise\""),
        ("[set]\n\"subsidy.unobtainium\" = 1\n", "no resource \"unobtainium\""),
    ] {
        let file = scenario(
            tmp.path(),
            "bad.toml",
            fixture_dir("schemes_two_suppliers").to_str().unwrap(),
            body,
        );
        let output = symbiose(&["run", file.to_str().unwrap(), "--out", "bad"], tmp.path());
        assert_eq!(output.status.code(), Some(2), "{body}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // At its line (4: after inventory, objective and [set]).
        assert!(stderr.contains("bad.toml:4") && stderr.contains(expected), "{stderr}");
        assert!(!tmp.path().join("bad").exists());
    }
}

fn policy(args: &[&str], dir: &Path) -> std::process::Output {
    let fixture = fixture_dir("schemes_two_suppliers");
    let mut all = vec!["policy", fixture.to_str().unwrap(), "--lexicographic-slack", "0"];
    all.extend_from_slice(args);
    symbiose(&all, dir)
}

/// T at the firms' optimum with `tax.harm` = `tax`, by a `run`.
fn share_at(dir: &Path, tax: f64, name: &str) -> f64 {
    let file = scenario(
        dir,
        &format!("{name}.toml"),
        fixture_dir("schemes_two_suppliers").to_str().unwrap(),
        &format!("[set]\n\"tax.harm\" = {tax:?}\n"),
    );
    run(dir, &file, name);
    json(&dir.join(name).join("summary.json"))["territory_value_eur"]
        .as_f64()
        .unwrap()
        / 5000.0
}

#[test]
fn policy_finds_the_switching_tax_and_a_solve_either_side_confirms_it() {
    let tmp = tempfile::tempdir().unwrap();
    let output = policy(
        &["--instrument", "tax.harm", "--target", "0.9", "--out", "policy"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let found = json(&tmp.path().join("policy/policy.json"));
    assert_eq!(found["reachable"], true);
    assert_eq!(found["instrument"], "tax.harm");
    // Default range: [0, 10 v] = [0, 100]; default tolerance 100 / 1000.
    assert_eq!(found["range"], serde_json::json!([0.0, 100.0]));
    assert_eq!(found["range_from"], "default");
    let value = found["value"].as_f64().unwrap();
    let tolerance = found["tolerance"].as_f64().unwrap();
    assert!(tolerance > 0.0 && tolerance <= 0.1, "{found}");
    // The switch is at t = 4.5 (hand-solved above).
    assert!(value >= 4.5 && value - tolerance < 4.5, "{found}");
    assert_close(found["achieved_share"].as_f64().unwrap(), 1.0, TOLERANCE, "share");
    assert_close(
        found["territory_optimum_value_eur"].as_f64().unwrap(),
        5000.0,
        TOLERANCE,
        "T*",
    );
    assert_close(found["public_revenue_eur"].as_f64().unwrap(), 0.0, TOLERANCE, "R at s2");
    // Re-solved at the value and just below it.
    assert!(share_at(tmp.path(), value, "at") >= 0.9);
    assert!(share_at(tmp.path(), value - tolerance, "below") < 0.9);

    let (columns, points) = read_table(&tmp.path().join("policy/policy.csv"));
    assert_eq!(
        columns,
        [
            "value",
            "scan",
            "territory_value_eur",
            "share",
            "public_revenue_eur",
            "private_cost_eur",
            "optimal"
        ]
    );
    assert_eq!(points.iter().filter(|p| p["scan"] == "grid").count(), 21);
    let values: Vec<f64> = points.iter().map(|p| number(p, "value")).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    for point in &points {
        let t = number(point, "value");
        // Below the switch: T = 3000 and R = 200 t; above: T = 5000, R = 0.
        let (territory, revenue) = if t >= 4.5 { (5000.0, 0.0) } else { (3000.0, 200.0 * t) };
        assert_close(
            number(point, "territory_value_eur"),
            territory,
            TOLERANCE,
            "T at a point",
        );
        assert_close(number(point, "public_revenue_eur"), revenue, TOLERANCE, "R at a point");
    }
    let svg = fs::read_to_string(tmp.path().join("policy/policy.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("target: 0.9"), "{svg}");
}

#[test]
fn a_target_out_of_reach_is_an_answer_with_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    // A subsidy on heat leaves the firms with s1 (share 0.6).
    let output = policy(
        &[
            "--instrument",
            "subsidy.heat",
            "--target",
            "0.9",
            "--points",
            "5",
            "--out",
            "subsidy",
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("out of reach"), "{stdout}");
    let found = json(&tmp.path().join("subsidy/policy.json"));
    assert_eq!(found["reachable"], false);
    assert!(found["value"].is_null() && found["achieved_share"].is_null(), "{found}");
    // u* = 50 (s2 -> b avoids 20 + 30 per MWh): the range is [0, 500].
    assert_eq!(found["range"], serde_json::json!([0.0, 500.0]));
    assert_close(found["best_share"].as_f64().unwrap(), 0.6, TOLERANCE, "best share");
    let (_, points) = read_table(&tmp.path().join("subsidy/policy.csv"));
    assert_eq!(points.len(), 5);
    for point in &points {
        let u = number(point, "value");
        assert_close(number(point, "public_revenue_eur"), -100.0 * u, TOLERANCE, "R = -100 u");
    }
    // A tax range that stops before the switch.
    let output = policy(
        &[
            "--instrument",
            "tax.harm",
            "--target",
            "0.9",
            "--range",
            "0:4",
            "--out",
            "low",
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&tmp.path().join("low/policy.json"))["reachable"], false);
    // A target the range's low end already meets: the low end, tolerance 0.
    let output = policy(
        &["--instrument", "tax.harm", "--target", "0.5", "--out", "met"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let met = json(&tmp.path().join("met/policy.json"));
    assert_eq!(
        (met["value"].as_f64(), met["tolerance"].as_f64()),
        (Some(0.0), Some(0.0))
    );
}

#[test]
fn bad_policy_arguments_exit_2_with_a_clear_message_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            &["--instrument", "tax.harm", "--target", "1.5"][..],
            "is not a share between 0 and 1",
        ),
        (
            &["--instrument", "tax.harm", "--target=-0.1"],
            "is not a share between 0 and 1",
        ),
        (
            &["--instrument", "tax.harm", "--target", "0.9", "--range", "5:1"],
            "is not a range LO:HI",
        ),
        (
            &["--instrument", "tax.harm", "--target", "0.9", "--range=-1:4"],
            "is not a range LO:HI",
        ),
        (
            &["--instrument", "tax.harm", "--target", "0.9", "--range", "abc"],
            "is not a range LO:HI",
        ),
        (
            &["--instrument", "tax.noise", "--target", "0.9"],
            "no externality category \"noise\"",
        ),
        (
            &["--instrument", "route_cost.dump", "--target", "0.9"],
            "is not an instrument",
        ),
        (
            &["--instrument", "levy.harm", "--target", "0.9"],
            "is not an instrument",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--out", "bad"]);
        let output = policy(&all, tmp.path());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!tmp.path().join("bad").exists(), "{args:?}");
    }
}
