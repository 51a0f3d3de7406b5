//! Warnings for what an inventory holds that symbiose does not read: files
//! of a folder and sheets of a workbook, each named with the known name it
//! most likely stands for (`impact.csv`: did you mean impacts.csv?).
//!
//! Invariant: a misspelt table never goes unsaid; only hidden files,
//! editors' lock files, documentation and scenario files are passed over
//! without a warning. Warnings come sorted by name.

use std::fs;
use std::path::Path;

use super::source::INVENTORY_FILES;
use crate::model::InputWarning;

/// Whether a path of an inventory folder that symbiose does not read is
/// one it should stay quiet about: hidden files (`.gitkeep`), editors'
/// lock files (`~$firms.xlsx`), documentation (`.md`, `.txt`, `.rst`,
/// `.pdf`, `.html`, or README, LICENSE, NOTES, SOURCES, CHANGELOG without an
/// extension) and scenario files (`.toml`). Every other file is warned
/// about, since a misspelt table changes the results without a word.
fn is_quietly_ignored(name: &str) -> bool {
    if name.starts_with('.') || name.starts_with("~$") {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    match lower.rsplit_once('.') {
        Some((_, extension)) => matches!(
            extension,
            "md" | "markdown" | "txt" | "rst" | "pdf" | "html" | "htm" | "toml"
        ),
        None => matches!(
            lower.as_str(),
            "readme" | "license" | "licence" | "notes" | "sources" | "changelog" | "authors"
        ),
    }
}

/// Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Why a file (or sheet) named `name` is not read, with the known name it
/// most likely stands for: the same name in another case, the same table
/// in another format, or a known name within a few edits (one edit per
/// five characters of the known name, at least one).
fn not_read_message(name: &str, known: &[&str], what: &str) -> String {
    let lower = name.to_lowercase();
    if let Some(same) = known.iter().find(|known| **known == lower) {
        return format!("ignored: {what} names are case-sensitive (rename it {same})");
    }
    let stem = |name: &str| name.split('.').next().unwrap_or_default().to_string();
    if let Some(same_table) = known
        .iter()
        .find(|known| known.contains('.') && stem(known) == stem(&lower))
    {
        return format!("ignored: symbiose reads {same_table}, a CSV UTF-8 file, not this format");
    }
    let nearest = known
        .iter()
        .map(|known| (edit_distance(&lower, known), *known))
        .min()
        .filter(|(distance, known)| *distance <= (known.chars().count() / 5).max(1));
    match nearest {
        Some((_, known)) => format!("ignored: symbiose reads no {what} of this name (did you mean {known}?)"),
        None => format!(
            "ignored: symbiose reads no {what} of this name (it reads {})",
            known.join(", ")
        ),
    }
}

/// A warning for every file of an inventory folder that symbiose does not
/// read (see [`is_quietly_ignored`] for the exceptions), sorted by name.
pub(super) fn unread_file_warnings(dir: &Path) -> Vec<InputWarning> {
    let Ok(entries) = fs::read_dir(dir) else {
        // The tables themselves report a folder that cannot be read.
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| !kind.is_dir()))
        .filter(|entry| !entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .filter(|name| !INVENTORY_FILES.contains(&name.as_str()) && !is_quietly_ignored(name))
        .filter(|name| {
            // On a case-insensitive file system (macOS, Windows) `Routes.csv`
            // is what reading routes.csv opens: it is read, not ignored.
            let lower = name.to_lowercase();
            let read_under_known_name = INVENTORY_FILES.contains(&lower.as_str())
                && !names.iter().any(|other| *other == lower)
                && dir.join(&lower).is_file();
            !read_under_known_name
        })
        .map(|name| InputWarning {
            file: dir.join(name).display().to_string(),
            line: None,
            message: not_read_message(name, &INVENTORY_FILES, "file"),
        })
        .collect()
}

/// A warning for every sheet of a workbook that no table is read from,
/// except sheets named like documentation (README, notes, sources...).
pub(super) fn unread_sheet_warnings(path: &Path, sheet_names: &[String], read: &[String]) -> Vec<InputWarning> {
    let known: Vec<&str> = INVENTORY_FILES
        .iter()
        .map(|name| name.trim_end_matches(".csv"))
        .collect();
    sheet_names
        .iter()
        .filter(|name| !read.contains(name))
        .filter(|name| {
            !matches!(
                name.trim().to_lowercase().as_str(),
                "readme" | "notes" | "sources" | "license" | "licence" | "changelog" | "about" | "documentation"
            )
        })
        .map(|name| {
            let lower = name.trim().to_lowercase();
            let message = if known.contains(&lower.as_str()) {
                format!("ignored: the sheet named exactly {lower} is read instead")
            } else {
                not_read_message(name.trim(), &known, "sheet")
            };
            InputWarning {
                file: format!("{} [sheet {name}]", path.display()),
                line: None,
                message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_not_read_are_named_with_the_nearest_known_name() {
        assert_eq!(edit_distance("impact.csv", "impacts.csv"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        let message = |name| not_read_message(name, &INVENTORY_FILES, "file");
        assert_eq!(
            message("impact.csv"),
            "ignored: symbiose reads no file of this name (did you mean impacts.csv?)"
        );
        assert_eq!(
            message("Routes.csv"),
            "ignored: file names are case-sensitive (rename it routes.csv)"
        );
        assert_eq!(
            message("externality.csv"),
            "ignored: symbiose reads no file of this name (did you mean externalities.csv?)"
        );
        assert_eq!(
            message("firms.xlsx"),
            "ignored: symbiose reads firms.csv, a CSV UTF-8 file, not this format"
        );
        assert!(message("data.csv").contains("(it reads firms.csv, flows.csv, distances.csv, resources.csv"));
        for quiet in [
            "SOURCES.md",
            "README",
            "notes.txt",
            ".gitkeep",
            "~$firms.xlsx",
            "what-if.toml",
        ] {
            assert!(is_quietly_ignored(quiet), "{quiet}");
        }
        for loud in ["impact.csv", "sources.csv", "flows.csv.bak", "firms.xlsx"] {
            assert!(!is_quietly_ignored(loud), "{loud}");
        }
    }
}
