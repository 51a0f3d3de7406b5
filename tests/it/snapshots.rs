//! Snapshot tests (expect-test) of what a user sees for the bundled Dunkirk
//! example: summary.json, the printed summary and report.html. The
//! snapshots live in tests/it/snapshots/; a change that moves them is seen
//! in review and refreshed deliberately, never blindly:
//!     UPDATE_EXPECT=1 cargo test --release --test it -- snapshots::
//! then read the diff of tests/it/snapshots/ before committing it.
//!
//! Measured times (solve_seconds, and the seconds the report prints) are
//! masked: they are the only part of the output that is not a function of
//! the input.

use std::fs;

use expect_test::expect_file;

use crate::common::symbiose;

/// summary.json with its measured seconds set to 0.
fn masked_summary(bytes: &[u8]) -> String {
    let mut summary: serde_json::Value = serde_json::from_slice(bytes).expect("summary.json is JSON");
    if let Some(object) = summary.as_object_mut() {
        for (key, value) in object.iter_mut() {
            if key.ends_with("_seconds") {
                *value = 0.into();
            }
        }
    }
    serde_json::to_string_pretty(&summary).unwrap() + "\n"
}

/// Replaces every number directly followed by " s" (a measured time, as the
/// report prints it) with "T s".
fn masked_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let starts_word = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            if starts_word && text[i..].starts_with(" s") && !text[i + 2..].starts_with(|c: char| c.is_alphanumeric()) {
                out.push('T');
            } else {
                out.push_str(&text[start..i]);
            }
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn dunkirk_outputs_match_their_snapshots() {
    let work = tempfile::tempdir().unwrap();
    let output = symbiose(&["optimize", "--report", "--out", "out"], work.path());
    assert_eq!(output.status.code(), Some(0));
    let out = work.path().join("out");
    expect_file!["snapshots/dunkirk_summary.json"]
        .assert_eq(&masked_summary(&fs::read(out.join("summary.json")).unwrap()));
    expect_file!["snapshots/dunkirk_stdout.txt"].assert_eq(&masked_times(&String::from_utf8_lossy(&output.stdout)));
    expect_file!["snapshots/dunkirk_report.html"]
        .assert_eq(&masked_times(&fs::read_to_string(out.join("report.html")).unwrap()));
}

#[test]
fn time_masking_keeps_everything_but_measured_seconds() {
    assert_eq!(masked_times("solved in 0.25 s, 12 slices"), "solved in T s, 12 slices");
    assert_eq!(masked_times("12 sites, 3 sets"), "12 sites, 3 sets");
    assert_eq!(masked_times("co2 1.5 t"), "co2 1.5 t");
    assert_eq!(masked_times("x1.5 s"), "x1.5 s");
}
