//! Output folders never mix two runs: each order of runs into one folder
//! (Part B then Part A, Parquet then CSV, `--report` then without...)
//! leaves exactly the files a run into an empty folder leaves, `report`
//! reads the set summary.json lists, `catalogue` and `generate` keep a
//! user's files, a second run into a locked folder is refused, and no
//! output may replace an input.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::symbiose;

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
        .display()
        .to_string()
}

/// The folder's files (name -> bytes), without the ownership marker (its
/// hashes cover summary.json's measured solve time) and with summary.json's
/// `solve_seconds` removed.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        if name == ".symbiose-output" {
            continue;
        }
        let mut bytes = fs::read(entry.path()).unwrap();
        if name == "summary.json" {
            let mut summary: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            summary.as_object_mut().unwrap().remove("solve_seconds");
            bytes = serde_json::to_vec(&summary).unwrap();
        }
        files.insert(name, bytes);
    }
    files
}

fn optimize(args: &[&str], out: &Path, cwd: &Path) {
    let mut all = vec!["optimize"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(symbiose(&all, cwd).status.code(), Some(0));
}

/// Runs `first` then `second` into a folder symbiose owns and into a folder
/// holding a user's notes.txt; both must end as a run of `second` into an
/// empty folder (plus notes.txt), and `symbiose report` on them must give
/// the fresh run's page.
fn assert_second_run_leaves_a_fresh_set(first: &[&str], second: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let fresh = work.path().join("fresh");
    optimize(second, &fresh, work.path());
    let owned = work.path().join("owned");
    let shared = work.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::write(shared.join("notes.txt"), "my notes").unwrap();
    for dir in [&owned, &shared] {
        optimize(first, dir, work.path());
        optimize(second, dir, work.path());
    }
    let expected = contents(&fresh);
    assert_eq!(
        contents(&owned),
        expected,
        "{first:?} then {second:?}, folder symbiose owns"
    );
    let mut expected_shared = expected.clone();
    expected_shared.insert("notes.txt".to_string(), b"my notes".to_vec());
    assert_eq!(
        contents(&shared),
        expected_shared,
        "{first:?} then {second:?}, folder with a user's file"
    );
    let page = |dir: &Path| {
        let page = work
            .path()
            .join(format!("{}.html", dir.file_name().unwrap().to_string_lossy()));
        let args = ["report", dir.to_str().unwrap(), "--out", page.to_str().unwrap()];
        assert_eq!(symbiose(&args, work.path()).status.code(), Some(0));
        fs::read(page).unwrap()
    };
    let fresh_page = page(&fresh);
    assert!(
        fresh_page == page(&owned) && fresh_page == page(&shared),
        "reports differ"
    );
}

#[test]
fn part_b_then_part_a_leaves_only_part_a_files() {
    let roubaix = data("union-roubaix");
    let dunkirk = data("dunkirk");
    assert_second_run_leaves_a_fresh_set(&[&roubaix], &[&dunkirk]);
    assert_second_run_leaves_a_fresh_set(&[&roubaix, "--format", "parquet", "--report"], &[&dunkirk]);
}

#[test]
fn seasonal_dunkirk_then_dunkirk_leaves_only_dunkirk_files() {
    assert_second_run_leaves_a_fresh_set(
        &[&data("dunkirk-seasonal"), "--report"],
        &[&data("dunkirk"), "--report"],
    );
}

#[test]
fn parquet_then_csv_and_back_leave_one_format() {
    let dunkirk = data("dunkirk");
    assert_second_run_leaves_a_fresh_set(&[&dunkirk, "--format", "parquet"], &[&dunkirk]);
    assert_second_run_leaves_a_fresh_set(&[&dunkirk], &[&dunkirk, "--format", "parquet"]);
}

#[test]
fn a_report_then_a_run_without_leaves_no_report() {
    let dunkirk = data("dunkirk");
    assert_second_run_leaves_a_fresh_set(&[&dunkirk, "--report"], &[&dunkirk]);
}

#[test]
fn report_reads_the_set_summary_json_lists_whatever_else_the_folder_holds() {
    let work = tempfile::tempdir().unwrap();
    let dunkirk = data("dunkirk");
    // The sequence: a folder with a user's file, CSV at 0.1, then
    // Parquet at 0.9.
    let out = work.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    optimize(&[&dunkirk, "--supplier-share", "0.1"], &out, work.path());
    let low = work.path().join("low");
    optimize(&[&dunkirk, "--supplier-share", "0.1"], &low, work.path());
    optimize(
        &[&dunkirk, "--format", "parquet", "--supplier-share", "0.9"],
        &out,
        work.path(),
    );
    assert!(!out.join("firm_values.csv").exists(), "the 0.1 run's table is left");
    let high = work.path().join("high");
    optimize(&[&dunkirk, "--supplier-share", "0.9", "--report"], &high, work.path());
    let high_page = fs::read(high.join("report.html")).unwrap();
    let report = |dir: &Path| {
        assert_eq!(
            symbiose(&["report", dir.to_str().unwrap()], work.path()).status.code(),
            Some(0)
        );
        fs::read(dir.join("report.html")).unwrap()
    };
    assert_eq!(report(&out), high_page, "the report is not the 0.9 run's");
    // The 0.1 run's CSV tables copied back beside the Parquet set are not
    // read: summary.json says the tables are Parquet.
    for table in [
        "links.csv",
        "flow_results.csv",
        "firm_values.csv",
        "territory_values.csv",
    ] {
        fs::copy(low.join(table), out.join(table)).unwrap();
    }
    let page = report(&out);
    assert_eq!(page, high_page, "the report mixes in the 0.1 tables");
    assert_ne!(
        page,
        report(&low),
        "the shares give the same page: the test cannot tell them apart"
    );
    let listed: serde_json::Value = serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|file| file == "firm_values.parquet"));
}

#[test]
fn catalogue_and_generate_keep_a_users_files_unless_forced() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("myinventory");
    fs::create_dir(&inventory).unwrap();
    fs::write(inventory.join("resources.csv"), "my resources").unwrap();
    fs::write(inventory.join("firms.csv"), "my firms").unwrap();
    let out = inventory.to_str().unwrap();
    let refused = symbiose(&["catalogue", "--out", out], work.path());
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("resources.csv") && message.contains("--force"),
        "{message}"
    );
    let refused = symbiose(&["generate", "--firms", "20", "--out", out], work.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("firms.csv"));
    assert_eq!(
        fs::read_to_string(inventory.join("resources.csv")).unwrap(),
        "my resources"
    );
    assert_eq!(fs::read_to_string(inventory.join("firms.csv")).unwrap(), "my firms");
    assert!(!inventory.join("routes.csv").exists() && !inventory.join("flows.csv").exists());
    // --force replaces them; what symbiose wrote, it replaces again.
    for _ in 0..2 {
        assert_eq!(
            symbiose(&["catalogue", "--out", out, "--force"], work.path())
                .status
                .code(),
            Some(0)
        );
    }
    assert_eq!(
        symbiose(&["catalogue", "--out", out], work.path()).status.code(),
        Some(0)
    );
    assert_ne!(
        fs::read_to_string(inventory.join("resources.csv")).unwrap(),
        "my resources"
    );
    // Generated into a folder of its own, twice: the second replaces the first.
    let territory = work.path().join("territory");
    for seed in ["1", "2"] {
        let args = [
            "generate",
            "--firms",
            "20",
            "--seed",
            seed,
            "--out",
            territory.to_str().unwrap(),
        ];
        assert_eq!(symbiose(&args, work.path()).status.code(), Some(0));
    }
}

fn lock_file(out: &Path) -> PathBuf {
    out.parent()
        .unwrap()
        .join(format!(".{}.symbiose-lock", out.file_name().unwrap().to_string_lossy()))
}

#[test]
fn a_second_run_into_a_folder_being_written_is_refused_and_names_the_first() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    // The first run writes slowly (the kill test's hook) so that the second
    // starts while it holds the folder.
    let mut first = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args([
            "optimize",
            &data("kalundborg"),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .env(::symbiose::io::TEST_WRITE_DELAY_VARIABLE, "200")
        .current_dir(work.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !lock_file(&out).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = symbiose(
        &["optimize", &data("dunkirk"), "--out", out.to_str().unwrap()],
        work.path(),
    );
    assert_eq!(second.status.code(), Some(1));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains(&format!("another symbiose run (pid {}) is writing into", first.id())),
        "{message}"
    );
    assert!(first.wait().unwrap().success());
    // The folder holds the first run's set alone, and the lock is gone.
    let kalundborg = work.path().join("kalundborg");
    optimize(&[&data("kalundborg")], &kalundborg, work.path());
    let mut expected = contents(&kalundborg);
    expected.insert("notes.txt".to_string(), b"mine".to_vec());
    assert_eq!(contents(&out), expected);
    assert!(!lock_file(&out).exists());
    // Free again.
    optimize(&[&data("dunkirk")], &out, work.path());
}

#[test]
fn a_lock_held_by_another_process_refuses_every_command_writing_there() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let lock = ::symbiose::io::lock_output(&out).unwrap();
    let pid = std::process::id().to_string();
    let o = out.to_str().unwrap();
    fs::copy(data("scenarios/carbon-value.toml"), work.path().join("carbon.toml")).unwrap();
    for args in [
        vec!["optimize", "--out", o],
        vec!["catalogue", "--out", o],
        vec!["generate", "--firms", "10", "--out", o],
        vec!["sweep", "carbon.toml", "--out", o],
    ] {
        let output = symbiose(&args, work.path());
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(&format!("(pid {pid})")));
    }
    assert!(!out.exists(), "a refused run wrote");
    drop(lock);
}

#[test]
fn an_output_may_not_replace_an_input() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    optimize(&[&data("dunkirk")], &results, work.path());
    let links = fs::read(results.join("links.csv")).unwrap();
    let r = results.to_str().unwrap();
    let refused = symbiose(&["report", r, "--out", &format!("{r}/links.csv")], work.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("one of the command's inputs"));
    assert_eq!(fs::read(results.join("links.csv")).unwrap(), links);
    // Beside the tables, the default, is fine.
    assert_eq!(symbiose(&["report", r], work.path()).status.code(), Some(0));

    // merge A B --out A would delete A's sweep_meta.json.
    fs::copy(data("scenarios/carbon-value.toml"), work.path().join("carbon.toml")).unwrap();
    for (shard, dir) in [("1/2", "a"), ("2/2", "b")] {
        let args = ["sweep", "carbon.toml", "--shard", shard, "--out", dir, "--quiet"];
        assert_eq!(symbiose(&args, work.path()).status.code(), Some(0));
    }
    let refused = symbiose(&["merge", "a", "b", "--out", "a"], work.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("output folder a is one of the command's inputs"));
    assert!(work.path().join("a/sweep_meta.json").is_file());
    assert_eq!(
        symbiose(&["merge", "a", "b", "--out", "m"], work.path()).status.code(),
        Some(0)
    );

    // An inventory folder is not an output folder either.
    let inventory = work.path().join("inventory");
    fs::create_dir(&inventory).unwrap();
    for name in ["firms.csv", "flows.csv", "distances.csv"] {
        fs::copy(Path::new(&data("dunkirk")).join(name), inventory.join(name)).unwrap();
    }
    let i = inventory.to_str().unwrap();
    let refused = symbiose(&["optimize", i, "--out", i], work.path());
    assert_eq!(refused.status.code(), Some(2));
    let refused = symbiose(&["optimize", i, "--write-mps", &format!("{i}/flows.csv")], work.path());
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        fs::read(inventory.join("flows.csv")).unwrap(),
        fs::read(Path::new(&data("dunkirk")).join("flows.csv")).unwrap()
    );
}
