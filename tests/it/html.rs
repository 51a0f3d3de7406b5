//! The report of issue 6, end to end: `optimize --report` on the bundled
//! example writes the profile, the GeoJSON files and a self-contained HTML
//! page whose figures agree with the tables; `symbiose report` rebuilds the
//! same page from the folder and refuses a broken one; headless Chromium
//! loads the page without a script error and takes a screenshot.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_close, fixture_dir, number, read_table, symbiose, Row};
use serde_json::Value;

fn json(path: &Path) -> Value {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

const ALL_FILES: [&str; 9] = [
    "summary.json",
    "links.csv",
    "flow_results.csv",
    "firm_values.csv",
    "territory_values.csv",
    "territory_profile.json",
    "firms.geojson",
    "links.geojson",
    "report.html",
];

/// Runs `optimize --report` on the bundled example into `<work>/out`.
fn bundled_report(work: &Path) -> PathBuf {
    let output = symbiose(&["optimize", "--report", "--out", "out"], work);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("report written to"));
    let out = work.join("out");
    for file in ALL_FILES {
        assert!(out.join(file).is_file(), "{file} was not written");
    }
    out
}

/// Sums `value` per key over rows.
fn sums(rows: &[Row], key: impl Fn(&Row) -> Option<String>, value: &str) -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    for row in rows {
        if let Some(key) = key(row) {
            *totals.entry(key).or_insert(0.0) += number(row, value);
        }
    }
    totals
}

#[test]
fn the_territory_profile_adds_up_to_the_tables() {
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());
    let profile = json(&out.join("territory_profile.json"));
    let summary = json(&out.join("summary.json"));
    let flows = read_table(&out.join("flow_results.csv")).1;
    let links = read_table(&out.join("links.csv")).1;
    let firms = read_table(&out.join("firm_values.csv")).1;
    let categories = read_table(&out.join("territory_values.csv")).1;

    // Resources: per resource, the matched quantities of flow_results.csv.
    for (part, kind) in [("waste_diverted", "supply"), ("virgin_resources_saved", "demand")] {
        let expected = sums(
            &flows,
            |row| (row["kind"] == kind && number(row, "matched") > 0.0).then(|| row["resource"].clone()),
            "matched",
        );
        let listed = profile["resources"][part].as_array().expect("a list of resources");
        let got: BTreeMap<String, f64> = listed
            .iter()
            .map(|entry| {
                (
                    entry["resource"].as_str().unwrap().to_string(),
                    entry["quantity"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{part}: resources"
        );
        for (resource, quantity) in &expected {
            assert_close(got[resource], *quantity, 1e-9, &format!("{part} of {resource}"));
        }
        for entry in listed {
            // The bundled flows are in their resources' units, so no conversion hides here.
            let resource = entry["resource"].as_str().unwrap();
            let units: BTreeSet<&str> = flows
                .iter()
                .filter(|row| row["kind"] == kind && row["resource"] == resource)
                .map(|row| row["unit"].as_str())
                .collect();
            assert_eq!(units, BTreeSet::from([entry["unit"].as_str().unwrap()]), "{resource}");
            let total: f64 = flows
                .iter()
                .filter(|row| row["kind"] == kind && row["resource"] == resource)
                .map(|row| number(row, "quantity"))
                .sum();
            assert_close(entry["total_quantity"].as_f64().unwrap(), total, 1e-9, "total quantity");
        }
    }
    assert!(profile["resources"]["waste_diverted"]
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["resource"] == "bf_slag" && entry["unit"] == "t"));

    // Actor system: counts from firm_values.csv and links.csv.
    let actors = &profile["actor_system"];
    assert_eq!(actors["n_firms"], firms.len());
    assert_eq!(
        actors["n_firms_taking_part"],
        firms.iter().filter(|row| number(row, "n_links") > 0.0).count()
    );
    assert_eq!(actors["n_links"], links.len());
    assert_eq!(actors["n_links"], summary["n_links"]);
    let suppliers: BTreeSet<&str> = links.iter().map(|row| row["supplier_firm_id"].as_str()).collect();
    let receivers: BTreeSet<&str> = links.iter().map(|row| row["receiver_firm_id"].as_str()).collect();
    assert_eq!(actors["n_supplier_firms"], suppliers.len());
    assert_eq!(actors["n_receiver_firms"], receivers.len());
    let by_category = sums(
        &links,
        |row| Some(row["supply_category"].clone()),
        "externality_avoided_eur",
    );
    for entry in actors["links_by_category"].as_array().unwrap() {
        let category = entry["category"].as_str().unwrap();
        assert_close(
            entry["externality_avoided_eur"].as_f64().unwrap(),
            by_category[category],
            1e-9,
            category,
        );
    }
    // The firm the network depends on most carries the most avoided
    // externalities on its links; in Dunkirk, the steelworks.
    let mut at_stake: BTreeMap<String, f64> = BTreeMap::new();
    for row in &links {
        for firm in [&row["supplier_firm_id"], &row["receiver_firm_id"]] {
            *at_stake.entry(firm.clone()).or_default() += number(row, "externality_avoided_eur");
        }
    }
    let key_firms = actors["key_firms"].as_array().unwrap();
    assert_eq!(key_firms.len(), 5);
    assert_eq!(key_firms[0]["firm_id"], "arcelormittal_dunkerque");
    let largest = at_stake.values().cloned().fold(f64::MIN, f64::max);
    assert_close(
        key_firms[0]["externality_at_stake_eur"].as_f64().unwrap(),
        largest,
        1e-12,
        "largest stake",
    );
    for pair in key_firms.windows(2) {
        assert!(pair[0]["externality_at_stake_eur"].as_f64() >= pair[1]["externality_at_stake_eur"].as_f64());
    }

    // Externalities: per scope and per category, from territory_values.csv.
    let externalities = &profile["externalities"];
    let by_scope = sums(&categories, |row| Some(row["scope"].clone()), "value_eur");
    assert_close(
        externalities["global_eur"].as_f64().unwrap(),
        by_scope["global"],
        1e-12,
        "global",
    );
    assert_close(
        externalities["local_eur"].as_f64().unwrap(),
        by_scope["local"],
        1e-12,
        "local",
    );
    assert_close(
        externalities["global_eur"].as_f64().unwrap() + externalities["local_eur"].as_f64().unwrap(),
        summary["territory_value_eur"].as_f64().unwrap(),
        1e-9,
        "global + local = territory value",
    );
    for (entry, row) in externalities["categories"].as_array().unwrap().iter().zip(&categories) {
        assert_eq!(entry["category"].as_str().unwrap(), row["category"]);
        assert_close(
            entry["avoided"].as_f64().unwrap(),
            number(row, "avoided"),
            1e-12,
            "avoided",
        );
        assert_close(
            entry["value_eur"].as_f64().unwrap(),
            number(row, "value_eur"),
            1e-12,
            "value",
        );
    }
    assert_eq!(
        profile["value_captured_by_firms_eur"], summary["firm_value_eur"],
        "firm value"
    );
    assert_eq!(
        profile["value_accruing_to_territory_eur"],
        summary["territory_value_eur"]
    );
}

#[test]
fn the_tables_carry_what_the_report_needs() {
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());
    let links = read_table(&out.join("links.csv")).1;
    let dk6 = links
        .iter()
        .find(|row| row["supply_resource"] == "steel_mill_gas")
        .expect("the steel-mill gas link");
    assert_eq!(dk6["supply_category"], "energy");
    assert_eq!(dk6["demand_category"], "energy");
    assert_eq!(
        (dk6["supply_unit"].as_str(), dk6["demand_unit"].as_str()),
        ("MWh", "MWh")
    );
    let firms = read_table(&out.join("firm_values.csv")).1;
    let steelworks = firms
        .iter()
        .find(|row| row["firm_id"] == "arcelormittal_dunkerque")
        .unwrap();
    assert_eq!((number(steelworks, "lat"), number(steelworks, "lon")), (51.03, 2.3));
    assert_eq!(steelworks["sector"], "C24.10");
    assert_eq!(steelworks["zone"], "Grande-Synthe / Port de Dunkerque");
    // The new columns come after the A5 columns, which keep their order.
    let header = |file: &str| {
        let text = fs::read_to_string(out.join(file)).unwrap();
        text.lines().next().unwrap().to_string()
    };
    assert!(header("firm_values.csv")
        .starts_with("firm_id,name,baseline_cost_eur,optimized_cost_eur,value_eur,compensation_needed_eur,n_links,"));
    assert!(header("firm_values.csv").ends_with(",lat,lon,sector,zone"));
    assert!(header("links.csv").ends_with(",supply_category,demand_category,supply_unit,demand_unit"));
}

#[test]
fn the_geojson_has_one_feature_per_firm_and_per_link() {
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());
    let firms = read_table(&out.join("firm_values.csv")).1;
    let links = read_table(&out.join("links.csv")).1;
    let position: HashMap<&str, (f64, f64)> = firms
        .iter()
        .map(|row| (row["firm_id"].as_str(), (number(row, "lon"), number(row, "lat"))))
        .collect();

    let collection = json(&out.join("firms.geojson"));
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), firms.len());
    for (feature, row) in features.iter().zip(&firms) {
        assert_eq!(feature["type"], "Feature");
        assert_eq!(feature["geometry"]["type"], "Point");
        assert_eq!(feature["properties"]["firm_id"].as_str().unwrap(), row["firm_id"]);
        let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
        let (lon, lat) = position[row["firm_id"].as_str()];
        assert_eq!(
            (coordinates[0].as_f64(), coordinates[1].as_f64()),
            (Some(lon), Some(lat))
        );
    }

    let collection = json(&out.join("links.geojson"));
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), links.len());
    for (feature, row) in features.iter().zip(&links) {
        assert_eq!(feature["geometry"]["type"], "LineString");
        let properties = &feature["properties"];
        assert_eq!(properties["supply_flow_id"].as_str().unwrap(), row["supply_flow_id"]);
        assert_eq!(properties["supply_category"].as_str().unwrap(), row["supply_category"]);
        assert_eq!(properties["quantity"].as_f64().unwrap(), number(row, "quantity"));
        let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
        assert_eq!(coordinates.len(), 2);
        for (point, firm) in coordinates.iter().zip(["supplier_firm_id", "receiver_firm_id"]) {
            let (lon, lat) = position[row[firm].as_str()];
            assert_eq!((point[0].as_f64(), point[1].as_f64()), (Some(lon), Some(lat)));
        }
    }
}

/// The checks every report page must pass.
fn check_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["http://", "https://", "<link", "@import", "src=", "@font-face", "//cdn"] {
        assert!(!html.contains(forbidden), "the page refers to {forbidden:?}");
    }
    for (position, _) in html.match_indices("url(") {
        assert!(
            html[position..].starts_with("url(#"),
            "only in-page url(#...) references: {}",
            &html[position..position + 40]
        );
    }
    assert!(html.contains("<body data-status=\"loading\">"));
    assert!(html.contains("document.body.dataset.status = 'ok'"));
    assert!(html.contains("window.onerror"));
    assert!(html.contains("@media print"));
}

#[test]
fn the_report_is_self_contained_with_its_figures_and_tables() {
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    check_self_contained(&html);
    for figure in [
        "<svg id=\"sankey-externality\"",
        "<svg id=\"sankey-surplus\"",
        "<svg id=\"map\"",
        "<svg id=\"firm-values\"",
        "<svg id=\"territory-values\"",
        "<svg id=\"externality-pairs\"",
    ] {
        assert_eq!(html.matches(figure).count(), 1, "{figure}");
    }
    for table in ["table-links", "table-firms", "table-territory", "table-flows"] {
        assert!(
            html.contains(&format!("<table id=\"{table}\" class=\"sortable\">")),
            "{table}"
        );
    }
    // Bands in the Sankey, curves and firms on the map.
    assert!(html.matches("class=\"band\"").count() >= 10);
    assert_eq!(html.matches("class=\"map-link\"").count(), 36);
    assert!(html.matches("<circle class=\"firm ").count() >= 42);
    // Money with thousands separators, and the headline figures.
    assert!(html.contains("558,685,838"), "value captured by firms");
    assert!(html.contains("668,029,865"), "value accruing to the territory");
    assert!(html.contains("ArcelorMittal Dunkerque"));

    // `symbiose report` on the folder draws the same page.
    let output = symbiose(&["report", "out", "--out", "again/report.html"], work.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(fs::read_to_string(work.path().join("again/report.html")).unwrap(), html);
    // --out must name a file, not a folder.
    let output = symbiose(&["report", "out", "--out", "again"], work.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a folder"));
    // Without --out, into the folder itself.
    fs::remove_file(out.join("report.html")).unwrap();
    let output = symbiose(&["report", "out"], work.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(fs::read_to_string(out.join("report.html")).unwrap(), html);
}

#[test]
fn strings_from_the_inventory_are_escaped_and_compensation_is_flagged() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("hostile");
    fs::create_dir(&inventory).unwrap();
    for entry in fs::read_dir(fixture_dir("negative_credit")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), inventory.join(entry.file_name())).unwrap();
    }
    fs::write(
        inventory.join("firms.csv"),
        "firm_id,name,lat,lon,sector,zone\n\
         a,\"<script>alert('x')</script> & Co\",50.0,2.0,\"C10 \"\"<b>\"\"\",zone <i>\n\
         b,Biogas plant,50.0,2.0,,\n",
    )
    .unwrap();
    // With the whole surplus credited to the receiver, the biogas plant,
    // whose link costs more than it saves, needs compensation.
    let output = symbiose(
        &[
            "optimize",
            "hostile",
            "--supplier-share",
            "0",
            "--report",
            "--out",
            "out",
        ],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let html = fs::read_to_string(work.path().join("out/report.html")).unwrap();
    check_self_contained(&html);
    assert!(!html.contains("<script>alert"), "a raw script tag from a firm name");
    assert!(!html.contains("C10 \"<b>\"") && !html.contains("zone <i>"));
    assert!(html.contains("C10 &quot;&lt;b&gt;&quot;") && html.contains("zone &lt;i&gt;"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("needs compensation"));
    assert!(html.contains("1 firm needs compensation"));
    // The link costs the firms more than it saves: no surplus to draw.
    assert!(html.contains("No link has a positive private surplus"));
    let geojson = json(&work.path().join("out/firms.geojson"));
    assert_eq!(
        geojson["features"][0]["properties"]["name"], "<script>alert('x')</script> & Co",
        "GeoJSON keeps the name as data"
    );
}

#[test]
fn a_broken_results_folder_is_refused_with_the_file_and_line() {
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());

    let output = symbiose(&["report", "nowhere"], work.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nowhere: not a folder"));

    // A malformed cell: named by file, line and column.
    let links = fs::read_to_string(out.join("links.csv")).unwrap();
    let mut lines: Vec<String> = links.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen(",0.", ",zero.", 1);
    fs::write(out.join("links.csv"), lines.join("\n") + "\n").unwrap();
    let output = symbiose(&["report", "out", "--out", "r.html"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:4: column ", Path::new("out").join("links.csv").display())),
        "{stderr}"
    );
    assert!(stderr.contains("expected a number"), "{stderr}");
    assert!(!work.path().join("r.html").exists(), "nothing written");

    // A missing table, and a table from before the report columns.
    fs::remove_file(out.join("links.csv")).unwrap();
    let firm_values = fs::read_to_string(out.join("firm_values.csv")).unwrap();
    let old: Vec<String> = firm_values
        .lines()
        .map(|line| line.split(',').take(7).collect::<Vec<_>>().join(","))
        .collect();
    fs::write(out.join("firm_values.csv"), old.join("\n") + "\n").unwrap();
    let output = symbiose(&["report", "out", "--out", "r.html"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("links.csv: missing from the results folder"),
        "{stderr}"
    );
    assert!(
        stderr.contains("firm_values.csv:1: column lat: missing required column"),
        "{stderr}"
    );
    assert!(
        stderr.contains("symbiose optimize"),
        "the hint says how to fix it: {stderr}"
    );
    assert!(!work.path().join("r.html").exists(), "nothing written");
}

/// Runs a command, killing it after `limit`; None when it timed out.
fn run_with_timeout(command: &mut Command, limit: Duration) -> Option<Output> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts chromium");
    // Read the pipes on threads so that a chatty child never blocks.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buffer).ok();
        buffer
    });
    let err_thread = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buffer).ok();
        buffer
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waits for chromium") {
            return Some(Output {
                status,
                stdout: out_thread.join().unwrap(),
                stderr: err_thread.join().unwrap(),
            });
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn chromium(profile_dir: &Path, extra: &[&str], page: &Path) -> Output {
    let mut command = Command::new("/usr/bin/chromium");
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()));
    let output = run_with_timeout(&mut command, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("chromium did not finish within 120 s: {command:?}"));
    eprintln!(
        "$ {command:?}\nexit: {:?}\n--- stderr (last lines)\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .join("\n")
    );
    output
}

#[test]
fn headless_chromium_loads_the_page_without_errors_and_takes_a_screenshot() {
    if !crate::common::tool_available("/usr/bin/chromium", "apt-get install chromium; .ci/run installs it") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let out = bundled_report(work.path());
    let page = out.join("report.html").canonicalize().unwrap();

    let output = chromium(&work.path().join("profile-dom"), &["--dump-dom"], &page);
    assert!(output.status.success());
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("data-status=\"ok\""),
        "the page script did not finish: {}",
        {
            let start = dom.find("<body").unwrap_or(0);
            &dom[start..(start + 200).min(dom.len())]
        }
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let console: Vec<&str> = stderr.lines().filter(|line| line.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "the page wrote to the console: {console:#?}");

    // The screenshot stays in the target folder for a human to look at.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot");
    fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    let _ = fs::remove_file(&png);
    let screenshot = format!("--screenshot={}", png.display());
    let output = chromium(
        &work.path().join("profile-shot"),
        &[&screenshot, "--window-size=1280,2400", "--hide-scrollbars"],
        &page,
    );
    assert!(output.status.success());
    let bytes = fs::read(&png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2400));
    // A blank page compresses to a few kilobytes; charts and text do not.
    assert!(
        bytes.len() > 100_000,
        "the screenshot is nearly empty: {} bytes",
        bytes.len()
    );
    println!("screenshot: {}", png.display());
}

#[test]
fn report_refuses_what_optimize_never_writes() {
    // Issue 12, defect 18: `"status": "weird"` and a quantity of -1e300
    // gave a report.
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--out", "out"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let out = work.path().join("out");
    let summary_path = out.join("summary.json");
    let summary_text = fs::read_to_string(&summary_path).unwrap();
    let status_line = 1 + summary_text
        .lines()
        .position(|line| line.contains("\"status\""))
        .unwrap();
    fs::write(
        &summary_path,
        summary_text.replacen("\"status\": \"optimal\"", "\"status\": \"weird\"", 1),
    )
    .unwrap();
    let output = symbiose(&["report", "out", "--out", "r.html"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = Path::new("out").join("summary.json").display().to_string();
    assert!(
        stderr.contains(&format!(
            "{file}:{status_line}: column status: unknown status \"weird\""
        )),
        "{stderr}"
    );
    assert!(!work.path().join("r.html").exists(), "nothing written");
    fs::write(&summary_path, &summary_text).unwrap();

    let links = fs::read_to_string(out.join("links.csv")).unwrap();
    let (header, rows) = read_table(&out.join("links.csv"));
    let quantity = header.iter().position(|column| column == "quantity").unwrap();
    let mut lines: Vec<String> = links.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    assert_eq!(cells[quantity], rows[1]["quantity"]);
    cells[quantity] = "-1e300".to_string();
    lines[2] = cells.join(",");
    fs::write(out.join("links.csv"), lines.join("\n") + "\n").unwrap();
    let output = symbiose(&["report", "out", "--out", "r.html"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = Path::new("out").join("links.csv").display().to_string();
    assert!(
        stderr.contains(&format!(
            "{file}:3: column quantity: a quantity must be >= 0, found -1e300"
        )),
        "{stderr}"
    );
    assert!(!work.path().join("r.html").exists(), "nothing written");
    // Put back, the folder reports again.
    fs::write(out.join("links.csv"), links).unwrap();
    let output = symbiose(&["report", "out", "--out", "r.html"], work.path());
    assert_eq!(output.status.code(), Some(0));
}
