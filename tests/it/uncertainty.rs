//! `symbiose uncertainty` (docs/model.md D9) through the real binary:
//! zero-width distributions reproduce the deterministic run, the same seed
//! gives the same bytes whatever the threads or shards, a hand-computed
//! switch, the tables' ranges, and every kind of bad row of
//! uncertainty.csv at its file, line and column.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::common::{fixture_dir, number, read_table, symbiose};

/// Copies the CSV and Markdown files of `from` into `to`.
fn copy_folder(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Every file of an output folder (the marker, which lists hashes, left
/// out), summary.json's measured `solve_seconds` masked.
fn folder_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let mut bytes = fs::read(&path).unwrap();
        if name == "summary.json" {
            let text = String::from_utf8(bytes).unwrap();
            let masked: Vec<String> = text
                .lines()
                .map(|line| {
                    if line.trim_start().starts_with("\"solve_seconds\"") {
                        "  \"solve_seconds\": MASKED,".to_string()
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            bytes = masked.join("\n").into_bytes();
        }
        files.insert(name, bytes);
    }
    files
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// The number summary.json writes after `"key": `, the first one after
/// `after` (serde_json's own parsing may miss the last bit of a float,
/// Rust's `parse` does not).
fn summary_number(dir: &Path, after: &str, key: &str) -> f64 {
    let text = fs::read_to_string(dir.join("summary.json")).unwrap();
    let start = text.find(after).unwrap_or_else(|| panic!("{after} in summary.json"));
    let pattern = format!("\"{key}\": ");
    let at = start + text[start..].find(&pattern).unwrap() + pattern.len();
    let end = at + text[at..].find([',', '\n']).unwrap();
    text[at..end].trim().parse().unwrap()
}

/// Zero-width distributions of every kind, at the base values of the
/// bundled Dunkirk example, give samples equal to the deterministic run,
/// bit for bit: the totals of every sample equal summary.json's, the links
/// the base uses have share_used 1 and every other link 0, and every
/// quantile of a value is the base's value (its mean to rounding of the
/// sum, 1e-12 relative).
#[test]
fn zero_width_distributions_reproduce_the_deterministic_run() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("dunkirk");
    copy_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dunkirk"), &inventory);
    // The base values, from flows.csv and the default catalogue.
    fs::write(
        inventory.join("uncertainty.csv"),
        "parameter,distribution,low,mode,high,mean,sd,median,gsd\n\
         flow_quantity.am_bf_slag,uniform,1960000,,1960000,,,,\n\
         flow_factor.dk6_fuel,normal,,,,1,0,,\n\
         externality.co2e_t,triangular,256,256,256,,,,\n\
         impact.route:gas_boiler_heat.co2e_t,lognormal,,,,,,0.2522,1\n\
         route_cost.natural_gas_supply,uniform,55,,55,,,,\n\
         transport_cost.bf_slag,triangular,0.1,0.1,0.1,,,,\n\
         flow_quantity.lng_regas_heat,normal,,,,375000,0,,\n",
    )
    .unwrap();
    let out = dir.path().join("mc");
    let run = symbiose(
        &[
            "uncertainty",
            "dunkirk",
            "--samples",
            "12",
            "--seed",
            "5",
            "--out",
            "mc",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(run.status.code(), Some(0));
    let base = symbiose(&["optimize", "dunkirk", "--out", "base", "-q"], dir.path());
    assert_eq!(base.status.code(), Some(0));
    let base_dir = dir.path().join("base");
    let base_total = |after: &str, key: &str| summary_number(&base_dir, after, key);
    let (_, samples) = read_table(&out.join("samples.csv"));
    assert_eq!(samples.len(), 12);
    for row in &samples {
        assert_eq!(row["status"], "optimal");
        assert_eq!(number(row, "flow_quantity.am_bf_slag"), 1_960_000.0);
        assert_eq!(number(row, "impact.route:gas_boiler_heat.co2e_t"), 0.2522);
        assert_eq!(
            number(row, "territory_value_eur"),
            base_total("\"firm_value_eur\"", "territory_value_eur")
        );
        assert_eq!(
            number(row, "firm_value_eur"),
            base_total("\"optimized\"", "firm_value_eur")
        );
        assert_eq!(
            number(row, "private_cost_eur"),
            base_total("\"optimized\"", "private_cost_eur")
        );
        assert_eq!(
            number(row, "externality_eur"),
            base_total("\"optimized\"", "externality_eur")
        );
    }
    // The base tables of the uncertainty folder are optimize's.
    for table in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        assert_eq!(
            fs::read(out.join(table)).unwrap(),
            fs::read(base_dir.join(table)).unwrap(),
            "{table}"
        );
    }
    let (_, base_links) = read_table(&base_dir.join("links.csv"));
    let used: Vec<(String, String)> = base_links
        .iter()
        .map(|row| (row["supply_flow_id"].clone(), row["demand_flow_id"].clone()))
        .collect();
    let (_, links) = read_table(&out.join("link_probability.csv"));
    assert_eq!(
        links.len(),
        used.len(),
        "a row per link the base uses, none other carries flow"
    );
    for row in &links {
        let pair = (row["supply_flow_id"].clone(), row["demand_flow_id"].clone());
        let share = number(row, "share_used");
        assert!(share == 0.0 || share == 1.0, "{pair:?}: {share}");
        assert_eq!(share == 1.0, used.contains(&pair), "{pair:?}");
        let base_quantity = base_links
            .iter()
            .find(|link| (link["supply_flow_id"].clone(), link["demand_flow_id"].clone()) == pair)
            .map(|link| number(link, "quantity"))
            .unwrap();
        for column in ["quantity_p05", "quantity_p50", "quantity_p95"] {
            assert_eq!(number(row, column), base_quantity, "{pair:?} {column}");
        }
    }
    let (_, values) = read_table(&out.join("value_quantiles.csv"));
    let (_, firms) = read_table(&base_dir.join("firm_values.csv"));
    let (_, categories) = read_table(&base_dir.join("territory_values.csv"));
    let expected = |subject: &str| -> f64 {
        match subject.split_once(':') {
            None if subject == "territory" => base_total("\"firm_value_eur\"", "territory_value_eur"),
            None => base_total("\"optimized\"", "firm_value_eur"),
            Some(("firm", id)) => number(firms.iter().find(|f| f["firm_id"] == id).unwrap(), "value_eur"),
            Some((_, id)) => number(categories.iter().find(|c| c["category"] == id).unwrap(), "value_eur"),
        }
    };
    assert_eq!(values.len(), 2 + firms.len() + categories.len());
    for row in &values {
        let value = expected(&row["subject"]);
        for column in ["p05", "p50", "p95"] {
            assert_eq!(number(row, column), value, "{} {column}", row["subject"]);
        }
        assert!(
            (number(row, "mean") - value).abs() <= 1e-12 * value.abs().max(1.0),
            "{} mean",
            row["subject"]
        );
    }
}

/// The same seed gives the same bytes with 1 and 2 threads, and the same
/// run split in 3 shards and merged gives the unsharded folder (summary.json's
/// measured seconds masked); mismatched and mixed shards are refused.
#[test]
fn the_same_seed_gives_the_same_bytes_whatever_the_threads_or_shards() {
    let dir = tempfile::tempdir().unwrap();
    let run_seed = |seed: &str, extra: &[&str]| {
        let mut args = vec!["uncertainty", "--samples", "30", "--seed", seed, "-q"];
        args.extend_from_slice(extra);
        symbiose(&args, dir.path())
    };
    let run = |extra: &[&str]| run_seed("7", extra);
    assert_eq!(run(&["--threads", "1", "--out", "one"]).status.code(), Some(0));
    assert_eq!(run(&["--threads", "2", "--out", "two"]).status.code(), Some(0));
    let one = folder_bytes(&dir.path().join("one"));
    assert_eq!(one, folder_bytes(&dir.path().join("two")), "1 and 2 threads");
    for name in [
        "samples.csv",
        "link_probability.csv",
        "value_quantiles.csv",
        "uncertainty_meta.json",
        "links.csv",
        "summary.json",
    ] {
        assert!(one.contains_key(name), "{name} written");
    }
    for shard in 1..=3 {
        let shard_arg = format!("{shard}/3");
        let out = format!("shard{shard}");
        assert_eq!(run(&["--shard", &shard_arg, "--out", &out]).status.code(), Some(0));
    }
    assert!(!one.contains_key("sample_links.csv") && !one.contains_key("sample_values.csv"));
    for name in ["sample_links.csv", "sample_values.csv"] {
        assert!(dir.path().join("shard2").join(name).is_file(), "a shard writes {name}");
    }
    let (_, shard_rows) = read_table(&dir.path().join("shard2/samples.csv"));
    let indices: Vec<f64> = shard_rows.iter().map(|row| number(row, "sample")).collect();
    assert_eq!(
        indices,
        (0..10).map(|i| (1 + 3 * i) as f64).collect::<Vec<_>>(),
        "shard 2/3 holds 1, 4, 7..."
    );
    let merged = symbiose(&["merge", "shard3", "shard1", "shard2", "--out", "merged"], dir.path());
    assert_eq!(merged.status.code(), Some(0));
    assert_eq!(one, folder_bytes(&dir.path().join("merged")), "3 shards merged");
    // A missing shard, a shard of another seed, a sweep shard among them.
    let missing = symbiose(&["merge", "shard1", "shard2", "--out", "bad1"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("10 of 30 samples are missing"));
    assert_eq!(
        run_seed("8", &["--shard", "3/3", "--out", "other_seed"]).status.code(),
        Some(0)
    );
    let other = symbiose(
        &["merge", "shard1", "shard2", "other_seed", "--out", "bad2"],
        dir.path(),
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("the seed differs"));
    let scenario = dir.path().join("carbon.toml");
    fs::write(
        &scenario,
        "inventory = \"bundled:dunkirk\"\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [100, 200]\n",
    )
    .unwrap();
    assert_eq!(
        symbiose(&["sweep", "carbon.toml", "--out", "sweep", "-q"], dir.path())
            .status
            .code(),
        Some(0)
    );
    for order in [["shard1", "sweep"], ["sweep", "shard1"]] {
        let mixed = symbiose(&["merge", order[0], order[1], "--out", "bad3"], dir.path());
        assert_eq!(mixed.status.code(), Some(2), "{order:?}");
        assert!(
            String::from_utf8_lossy(&mixed.stderr).contains("of one kind"),
            "{order:?}"
        );
    }
}

/// The bundled example's uncertainty.csv: every quantile ordered, every
/// share within [0, 1], one row per sample, the base results set beside.
#[test]
fn quantiles_are_ordered_and_shares_are_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let run = symbiose(&["uncertainty", "--samples", "40", "--out", "mc", "-q"], dir.path());
    assert_eq!(run.status.code(), Some(0));
    let out = dir.path().join("mc");
    let (header, samples) = read_table(&out.join("samples.csv"));
    assert_eq!(samples.len(), 40);
    assert_eq!(header[0], "sample");
    assert_eq!(header.len(), 1 + 22 + 5, "sample, 22 parameters, status and 4 totals");
    let (_, links) = read_table(&out.join("link_probability.csv"));
    assert!(!links.is_empty());
    for row in &links {
        let share = number(row, "share_used");
        assert!((0.0..=1.0).contains(&share), "{share}");
        let (p05, p50, p95) = (
            number(row, "quantity_p05"),
            number(row, "quantity_p50"),
            number(row, "quantity_p95"),
        );
        assert!(p05 <= p50 && p50 <= p95, "{row:?}");
    }
    let (_, values) = read_table(&out.join("value_quantiles.csv"));
    for row in &values {
        let (p05, p50, p95) = (number(row, "p05"), number(row, "p50"), number(row, "p95"));
        assert!(p05 <= p50 && p50 <= p95, "{row:?}");
    }
    // The territory value varies: the ranges are not all zero-width.
    let territory = values.iter().find(|row| row["subject"] == "territory").unwrap();
    assert!(number(territory, "p95") > number(territory, "p05"));
    let listed = summary(&out)["files"].clone();
    for name in [
        "samples.csv",
        "link_probability.csv",
        "value_quantiles.csv",
        "links.csv",
    ] {
        assert!(
            listed.as_array().unwrap().iter().any(|f| f == name),
            "{name} in summary.json"
        );
    }
}

/// tests/data/uncertain_switch: supply s (100 MWh at a, falls back on
/// `dump`, harm a per MWh, harm worth 10 EUR) and demand d (100 MWh at b,
/// 10 km, falls back on `boiler`, no harm). The link's transport harm is
/// 0.1 x 10 km = 1 per MWh, 10 EUR. With `--objective externalities` the
/// link carries all 100 MWh when 10 a > 10, i.e. a > 1, and nothing when
/// a < 1 (it would add harm; with the default lexicographic slack, the
/// private second stage would spend the 1e-6 x M* of slack on a few grams
/// through the link, so the test sets `--lexicographic-slack 0`). uncertainty.csv draws a ~ U(0, 4), so
/// P(used) = 3/4; per sample T = 1000 (a - 1) when used, else 0: P(T <= t)
/// = 1/4 + t / 4000, so T's median is 1000 and its p95 2800, and the
/// link's quantity has p05 0, p50 and p95 100.
///
/// Tolerances, for N = 400 samples: the share's standard error is
/// sqrt(0.75 x 0.25 / 400) = 0.022, allowed 0.08 (3.7 se); a quantile's
/// is sqrt(p (1 - p) / N) / f with density f = 1/4000: 100 EUR at the
/// median, 44 at p95, allowed 300 and 150; the mean of a, 2 +- 0.058 se,
/// allowed 0.2.
#[test]
fn a_uniform_impact_switches_a_link_on_with_the_probability_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = fixture_dir("uncertain_switch");
    let run = symbiose(
        &[
            "uncertainty",
            inventory.to_str().unwrap(),
            "--samples",
            "400",
            "--seed",
            "3",
            "--objective",
            "externalities",
            "--lexicographic-slack",
            "0",
            "--out",
            "mc",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(run.status.code(), Some(0));
    let out = dir.path().join("mc");
    let (_, links) = read_table(&out.join("link_probability.csv"));
    assert_eq!(links.len(), 1);
    let link = &links[0];
    assert_eq!(
        (link["supply_flow_id"].as_str(), link["demand_flow_id"].as_str()),
        ("s", "d")
    );
    let share = number(link, "share_used");
    assert!((share - 0.75).abs() <= 0.08, "share used {share}");
    assert_eq!(number(link, "quantity_p05"), 0.0);
    assert!((number(link, "quantity_p50") - 100.0).abs() <= 1e-6);
    assert!((number(link, "quantity_p95") - 100.0).abs() <= 1e-6);
    assert!((number(link, "quantity_mean") - 100.0 * share).abs() <= 1e-6 * 100.0);
    let (_, samples) = read_table(&out.join("samples.csv"));
    let mean_a = samples
        .iter()
        .map(|row| number(row, "impact.route:dump.harm"))
        .sum::<f64>()
        / samples.len() as f64;
    assert!((mean_a - 2.0).abs() <= 0.2, "mean of a {mean_a}");
    // Each sample's T is 1000 (a - 1) when a > 1, else 0 (1e-6 relative).
    for row in &samples {
        let a = number(row, "impact.route:dump.harm");
        let expected = if a > 1.0 { 1000.0 * (a - 1.0) } else { 0.0 };
        let found = number(row, "territory_value_eur");
        assert!(
            (found - expected).abs() <= 1e-6 * expected.max(1.0),
            "a = {a}: T {found}, expected {expected}"
        );
    }
    let (_, values) = read_table(&out.join("value_quantiles.csv"));
    let territory = values.iter().find(|row| row["subject"] == "territory").unwrap();
    assert!((number(territory, "p50") - 1000.0).abs() <= 300.0, "{territory:?}");
    assert!((number(territory, "p95") - 2800.0).abs() <= 150.0, "{territory:?}");
    assert_eq!(number(territory, "p05"), 0.0);
}

/// Every kind of bad row, at its file, line and column, exit 2, from
/// `validate` and `uncertainty` alike, and nothing written.
#[test]
fn bad_rows_of_uncertainty_csv_are_reported_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inv");
    copy_folder(&fixture_dir("uncertain_switch"), &inventory);
    let rows = [
        // line 2: fine.
        ("impact.route:dump.harm,uniform,0,,4,,,,", None),
        (
            "impact.route:dump.harm,uniform,1,,2,,,,",
            Some("column parameter: parameter \"impact.route:dump.harm\" is listed twice (first on line 2)"),
        ),
        (
            "flow_quantity.nowhere,uniform,1,,2,,,,",
            Some("column parameter: parameter \"flow_quantity.nowhere\": no flow \"nowhere\" in the inventory"),
        ),
        (
            "supplier_share,uniform,0,,1,,,,",
            Some("column parameter: \"supplier_share\" cannot be uncertain here"),
        ),
        (
            "flow_quantity.s,gamma,1,,2,,,,",
            Some("column distribution: \"gamma\" is not one of uniform, triangular, normal, lognormal"),
        ),
        (
            "flow_quantity.d,uniform,5,,2,,,,",
            Some("column high: high must be >= low (5), found 2"),
        ),
        (
            "externality.harm,triangular,1,7,5,,,,",
            Some("column mode: mode must lie within [low, high] = [1, 5], found 7"),
        ),
        (
            "route_cost.dump,normal,,,,3,-1,,",
            Some("column sd: sd must be >= 0, found -1"),
        ),
        (
            "route_cost.boiler,normal,,,,-3,1,,",
            Some("column mean: the normal is truncated at zero: its mean must be >= 0, found -3"),
        ),
        (
            "flow_factor.s,lognormal,,,,,,0,2",
            Some("column median: median must be > 0, found 0"),
        ),
        (
            "flow_factor.d,lognormal,,,,,,1,0.5",
            Some("column gsd: gsd must be >= 1, found 0.5"),
        ),
        (
            "transport_cost.heat_x,uniform,-1,,2,,,,",
            Some("column low: transport_cost.heat_x: a transport cost must be a finite number >= 0, got -1"),
        ),
        (
            "externality.co2e_t,uniform,1,,2,3,,,",
            Some("column mean: a uniform distribution takes no mean: leave the cell empty"),
        ),
        (
            "impact.route:boiler.harm,uniform,,,2,,,,",
            Some("column low: empty value"),
        ),
        (
            "impact.nothing:dump.harm,uniform,1,,2,,,,",
            Some("column parameter: parameter \"impact.nothing:dump.harm\" is not of the form"),
        ),
        (
            "externality.landfill_t,uniform,x,,2,,,,",
            Some("column low: expected a number, found \"x\""),
        ),
    ];
    let mut text = "parameter,distribution,low,mode,high,mean,sd,median,gsd\n".to_string();
    for (row, _) in &rows {
        text.push_str(row);
        text.push('\n');
    }
    fs::write(inventory.join("uncertainty.csv"), text).unwrap();
    // The path as given on the command line (relative to the run's folder).
    let file = "inv/uncertainty.csv";
    for args in [
        vec!["validate", "inv"],
        vec!["uncertainty", "inv", "--samples", "5", "--out", "mc"],
    ] {
        let output = symbiose(&args, dir.path());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for (position, (_, expected)) in rows.iter().enumerate() {
            if let Some(expected) = expected {
                let located = format!("{file}:{}: {expected}", position + 2);
                assert!(stderr.contains(&located), "{args:?}: missing {located:?} in\n{stderr}");
            }
        }
        assert_eq!(
            stderr.matches(&format!("error: {file}:")).count(),
            rows.iter().filter(|(_, e)| e.is_some()).count(),
            "one error per bad row:\n{stderr}"
        );
    }
    assert!(!dir.path().join("mc").exists(), "nothing written");
    // An inventory without uncertainty.csv: named, exit 2.
    fs::remove_file(inventory.join("uncertainty.csv")).unwrap();
    let output = symbiose(&["uncertainty", "inv", "--samples", "5", "--out", "mc"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no uncertainty.csv"));
    let output = symbiose(&["uncertainty", "--samples", "0", "--out", "mc"], dir.path());
    assert_eq!(output.status.code(), Some(2));
}

/// The report of an uncertainty run reads its files back (summary.json
/// lists them): the "How sure" section with the sample counts, the link
/// probabilities and the P5-P95 band of the territory value; `symbiose
/// report` on the folder draws the same page; a plain optimize run has no
/// such section.
#[test]
fn the_report_shows_the_probabilities_and_bands_of_an_uncertainty_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = symbiose(
        &[
            "uncertainty",
            "--samples",
            "12",
            "--seed",
            "3",
            "--report",
            "--out",
            "mc",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let out = dir.path().join("mc");
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<section id=\"uncertainty\">"), "uncertainty section");
    let (_, samples) = read_table(&out.join("samples.csv"));
    let feasible = samples.iter().filter(|row| row["status"] == "optimal").count();
    assert!(
        page.contains(&format!(
            "12 samples of the uncertain data (uncertainty.csv) were drawn; {feasible} had a solution"
        )),
        "sample counts in the page"
    );
    let (_, links) = read_table(&out.join("link_probability.csv"));
    let used = links.iter().filter(|row| number(row, "share_used") > 0.0).count();
    assert!(used > 0);
    // The section's table: a header row, then a row per link used in a sample.
    let start = page.find("<section id=\"uncertainty\">").unwrap();
    let section = &page[start..start + page[start..].find("</section>").unwrap()];
    assert_eq!(
        section.matches("<tr>").count(),
        used + 1,
        "a row per link used in a sample"
    );
    assert!(page.contains("P5 to P95"), "the value bands are drawn");
    let reported = symbiose(&["report", "mc", "--out", "again.html"], dir.path());
    assert_eq!(
        reported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reported.stderr)
    );
    assert_eq!(fs::read_to_string(dir.path().join("again.html")).unwrap(), page);
    let plain = symbiose(&["optimize", "--report", "--out", "plain", "-q"], dir.path());
    assert_eq!(plain.status.code(), Some(0));
    let plain_page = fs::read_to_string(dir.path().join("plain").join("report.html")).unwrap();
    assert!(!plain_page.contains("<section id=\"uncertainty\">"));
}
