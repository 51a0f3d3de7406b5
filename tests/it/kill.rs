//! Interrupted writes (issue 8): `symbiose optimize --out DIR` is killed
//! (SIGKILL) at many random moments while it writes over a complete results
//! folder, and DIR must then be the previous complete set or the new
//! complete set, never a mix.
//!
//! Writing the bundled example takes a few milliseconds, too short a window
//! to hit at random, so the runs set SYMBIOSE_TEST_WRITE_DELAY_MS (a
//! test-only hook of `io`: a sleep after each file and each rename) to
//! stretch it. The two sets alternate: the `private` and the
//! `externalities` objectives give different tables, so every file tells
//! which run wrote it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use symbiose::io::TEST_WRITE_DELAY_VARIABLE;

const DELAY_MS: u64 = 3;

/// A folder's files, summary.json with its measured solve time masked.
type Contents = BTreeMap<String, Vec<u8>>;

fn contents(dir: &Path) -> Contents {
    let mut files = Contents::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let entry = entry.expect("readable entry");
        let name = entry.file_name().to_string_lossy().to_string();
        let mut bytes = fs::read(entry.path()).expect("readable file");
        if name == "summary.json" {
            if let Ok(mut summary) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                summary["solve_seconds"] = 0.into();
                bytes = summary.to_string().into_bytes();
            }
        }
        files.insert(name, bytes);
    }
    files
}

/// Which files differ between two folders' contents, for failure messages.
fn difference(a: &Contents, b: &Contents) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter(|name| a.get(*name) != b.get(*name))
        .cloned()
        .collect()
}

fn optimize(objective: &str, out: &Path, delay: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_symbiose"));
    command
        .args(["optimize", "--objective", objective, "--report", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if delay {
        command.env(TEST_WRITE_DELAY_VARIABLE, DELAY_MS.to_string());
    }
    command
}

fn run_to_completion(objective: &str, out: &Path, delay: bool) -> Duration {
    let started = Instant::now();
    let status = optimize(objective, out, delay).status().expect("runs the binary");
    assert!(
        status.success(),
        "symbiose optimize --objective {objective} failed: {status}"
    );
    started.elapsed()
}

/// A small deterministic generator (xorshift), so that a failure repeats.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// Leftovers of interrupted writes beside the output folder. The lock file
/// of a killed run is not one: it stays from before the solve (the kernel
/// releases the lock itself), and the next run takes it and removes it.
fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .expect("readable folder")
        .map(|entry| entry.expect("readable entry").file_name().to_string_lossy().to_string())
        .filter(|name| name.contains(".symbiose-") && !name.ends_with(".symbiose-lock"))
        .collect()
}

struct Setup {
    _work: tempfile::TempDir,
    parent: PathBuf,
    out: PathBuf,
    /// (objective, its complete output) for the two alternating runs.
    sets: [(&'static str, Contents); 2],
    /// How long a run with the write delay takes, start to exit.
    run_time: Duration,
}

fn setup(extra_file: Option<(&str, &str)>) -> Setup {
    let work = tempfile::tempdir().expect("temporary folder");
    let references = work.path().join("references");
    let parent = work.path().join("runs");
    fs::create_dir_all(&parent).unwrap();
    let out = parent.join("res");
    let mut sets = [("private", Contents::new()), ("externalities", Contents::new())];
    for (objective, set) in &mut sets {
        let dir = references.join(*objective);
        if let Some((name, text)) = extra_file {
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(name), text).unwrap();
        }
        run_to_completion(objective, &dir, false);
        *set = contents(&dir);
    }
    assert!(
        !difference(&sets[0].1, &sets[1].1).is_empty(),
        "the two objectives must give different outputs"
    );
    if let Some((name, text)) = extra_file {
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join(name), text).unwrap();
    }
    run_to_completion(sets[0].0, &out, false);
    let run_time = run_to_completion(sets[1].0, &out, true);
    run_to_completion(sets[0].0, &out, false);
    assert_eq!(contents(&out), sets[0].1);
    Setup {
        _work: work,
        parent,
        out,
        sets,
        run_time,
    }
}

/// Spawns a run towards the other set, kills it after a random pause, and
/// returns what the folder holds then, and whether the kill came while it
/// was writing (a staging or backup folder was left).
fn kill_one_run(setup: &Setup, random: &mut Random, current: usize) -> (Contents, bool) {
    let target = 1 - current;
    let pause = Duration::from_micros(random.below(setup.run_time.as_micros() as u64 * 11 / 10));
    let mut child = optimize(setup.sets[target].0, &setup.out, true)
        .spawn()
        .expect("starts the binary");
    std::thread::sleep(pause);
    // SIGKILL: no destructor, no cleanup runs in the child.
    let _ = child.kill();
    child.wait().expect("the child ends");
    let in_flight = !leftovers(&setup.parent).is_empty();
    (contents(&setup.out), in_flight)
}

#[test]
fn a_results_folder_killed_while_written_is_the_old_set_or_the_new_one() {
    let setup = setup(None);
    let mut random = Random(0x5eed_2026_1208);
    let mut current = 0;
    let (mut mid_write, mut switched) = (0, 0);
    for attempt in 0..48 {
        let (found, in_flight) = kill_one_run(&setup, &mut random, current);
        mid_write += usize::from(in_flight);
        if found == setup.sets[current].1 {
            continue;
        }
        assert!(
            found == setup.sets[1 - current].1,
            "attempt {attempt}: the folder is neither the previous set ({}) nor the new one ({}); files differing from the previous: {:?}, from the new: {:?}",
            setup.sets[current].0,
            setup.sets[1 - current].0,
            difference(&found, &setup.sets[current].1),
            difference(&found, &setup.sets[1 - current].1),
        );
        switched += 1;
        current = 1 - current;
    }
    eprintln!("48 kills: {mid_write} while writing, {switched} after the swap");
    assert!(
        mid_write >= 5,
        "only {mid_write} kills came while writing: the test missed the window"
    );
    assert!(switched >= 1, "no run got to the swap: the pauses are too short");
    // The next complete run cleans up whatever the kills left beside the folder.
    run_to_completion(setup.sets[current].0, &setup.out, false);
    assert_eq!(leftovers(&setup.parent), Vec::<String>::new());
    let lock = setup.out.with_file_name(format!(
        ".{}.symbiose-lock",
        setup.out.file_name().unwrap().to_string_lossy()
    ));
    assert!(!lock.exists(), "the lock file is left");
}

/// A folder that holds the user's own files is written file by file:
/// tables may then be a mix while summary.json is missing, but whenever
/// summary.json is there the tables are the set it belongs to, and the
/// user's file is untouched.
#[test]
fn in_a_folder_with_user_files_summary_json_means_a_complete_set() {
    let notes = ("notes.txt", "my notes\n");
    let setup = setup(Some(notes));
    let mut random = Random(0x0dd_f11e5);
    let mut current = 0;
    let mut without_summary = 0;
    for attempt in 0..32 {
        let (mut found, _) = kill_one_run(&setup, &mut random, current);
        assert_eq!(
            found.get(notes.0).map(Vec::as_slice),
            Some(notes.1.as_bytes()),
            "attempt {attempt}: the user's file changed"
        );
        // Temporary files of the killed run are left in the folder (the
        // next run overwrites them); they are not part of the set.
        found.retain(|name, _| !name.contains(".tmp-"));
        if !found.contains_key("summary.json") {
            without_summary += 1;
            // Restore a complete set before the next attempt.
            run_to_completion(setup.sets[current].0, &setup.out, false);
            continue;
        }
        if found == setup.sets[current].1 {
            continue;
        }
        assert!(
            found == setup.sets[1 - current].1,
            "attempt {attempt}: summary.json is there but the set is mixed; differing from the previous: {:?}, from the new: {:?}",
            difference(&found, &setup.sets[current].1),
            difference(&found, &setup.sets[1 - current].1),
        );
        current = 1 - current;
    }
    eprintln!("32 kills: {without_summary} left the set without summary.json");
    // The next complete run removes the temporary files the kills left.
    run_to_completion(setup.sets[current].0, &setup.out, false);
    let mut expected: Vec<&String> = setup.sets[current].1.keys().collect();
    expected.sort();
    let mut names: Vec<String> = fs::read_dir(&setup.out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names.iter().collect::<Vec<_>>(), expected);
}
