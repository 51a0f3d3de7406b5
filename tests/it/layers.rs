//! The folders are the pipeline (ARCHITECTURE.md): each top-level module of
//! `src/` uses only the modules before it, and the heavy libraries stay in
//! the one module that owns them. Read from the source text, so a new
//! `use` that breaks the layering fails here, naming the file and line.

use std::path::{Path, PathBuf};

/// The pipeline, in order: a module may use only the modules before it
/// (`progress` and `options`, cross-cutting, use none).
const LAYERS: &[&str] = &[
    "progress",
    "options",
    "random",
    "model",
    "io",
    "candidates",
    "solve",
    "value",
    "report",
    "study",
    "generate",
    "app",
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs,
/// main.rs and the binary's `cli`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_string_lossy().to_string();
    let name = first.trim_end_matches(".rs").to_string();
    LAYERS.contains(&name.as_str()).then_some(name)
}

/// Every `crate::NAME` a file names, with its line number, outside its
/// `#[cfg(test)]` module (tests may load an inventory through `io`).
fn crate_references(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
            rest = after;
        }
    }
    found
}

/// `src/` and every Rust file below it, sorted.
fn source_files() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    (src, files)
}

#[test]
fn every_module_uses_only_the_stages_before_it() {
    let (src, files) = source_files();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        let rank = LAYERS.iter().position(|m| *m == module).unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        for (line, name) in crate_references(&text) {
            let Some(used) = LAYERS.iter().position(|m| *m == name) else {
                continue;
            };
            if used > rank {
                problems.push(format!(
                    "{}:{line}: `{module}` uses `{name}`, a later stage",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check sees the files it is meant to see.
    assert!(files.len() > 20, "only {} files under src/", files.len());
}

/// The heavy libraries and the one top-level folder of `src/` allowed to
/// name each: tables reach polars through `io::frame`, the LP reaches
/// HiGHS through `solve`. The binary (`src/cli/`, `src/main.rs`) may not
/// name them either.
const OWNED_LIBRARIES: &[(&str, &str)] = &[("polars", "io"), ("highs", "solve"), ("good_lp", "solve")];

/// `line` without its `//` comment (a `//` inside a string literal, such
/// as a URL, is code).
fn code_of(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(at + 1) == Some(&b'/') => return &line[..at],
            _ => {}
        }
    }
    line
}

/// Whether `code` names the crate `library`: `library::` or `use library`
/// (`extern crate library` too), not as the tail of a longer name.
fn names_library(code: &str, library: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(library).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + library.len()..];
        let starts_name = !before.is_some_and(is_name);
        let path = after.starts_with("::");
        let used = {
            let head = code[..at].trim_end();
            (head.ends_with("use") || head.ends_with("crate")) && !after.starts_with(is_name)
        };
        starts_name && (path || used)
    })
}

#[test]
fn heavy_libraries_are_named_only_in_their_module() {
    let (src, files) = source_files();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line);
            for (library, owner) in OWNED_LIBRARIES {
                if top != *owner && names_library(code, library) {
                    problems.push(format!(
                        "{}:{}: names `{library}`, which only `src/{owner}/` may use",
                        file.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_library_is_found_in_code_not_in_comments() {
    assert!(names_library("use polars::prelude::*;", "polars"));
    assert!(names_library("    frame: polars::prelude::DataFrame,", "polars"));
    assert!(names_library("use polars;", "polars"));
    assert!(names_library("let m = highs::Model::new(p);", "highs"));
    assert!(!names_library("let my_polars::x = 1;", "polars"));
    assert!(!names_library("let text = \"polars writes\";", "polars"));
    assert!(!names_library(code_of("/// readable by polars::prelude"), "polars"));
    assert!(!names_library(code_of("let x = 1; // good_lp::Variable"), "good_lp"));
    assert_eq!(code_of("let url = \"https://x\"; // note"), "let url = \"https://x\"; ");
}
