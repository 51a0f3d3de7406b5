//! slices.csv and profiles.csv (docs/model.md B1): the time slices of the
//! year and the profiles that spread a flow's annual quantity over them.
//!
//! Invariant: without slices.csv there is one slice `year` of 8760 h;
//! every slice has hours > 0, and the shares of every profile are >= 0 and
//! sum to 1 within [`PROFILE_SUM_TOLERANCE`].

use std::collections::{HashMap, HashSet};

use super::keyed::{key_in, pair_key_in, OwnedIds};
use super::schemas::{PROFILES_SCHEMA, SLICES_SCHEMA};
use super::Builder;
use crate::model::table::{InputError, InputWarning, Rule, TableFile};
use crate::model::*;

/// Shares of a profile must sum to 1 within this (docs/model.md B1).
pub const PROFILE_SUM_TOLERANCE: f64 = 1e-6;

impl Builder<'_> {
    /// slices.csv (docs/model.md B1): the valid slices in file order, whether
    /// the file was given, and every slice id a row names (rows with errors
    /// included; `None` when the file could not be read). Without the file:
    /// one slice `year` of 8760 h.
    pub(super) fn slices(&mut self, file: &TableFile) -> (Vec<Slice>, bool, Option<HashSet<String>>) {
        let year = || {
            vec![Slice {
                id: YEAR_SLICE.to_string(),
                hours: HOURS_PER_YEAR,
            }]
        };
        let table = match file {
            TableFile::Absent => return (year(), false, Some(HashSet::from([YEAR_SLICE.to_string()]))),
            TableFile::Unreadable => return (year(), true, None),
            TableFile::Read(table) => table,
        };
        let keyed = self.parse_keyed(table, &SLICES_SCHEMA, &key_in("slice"), &mut |reader, row, errors| {
            let id = reader.text(row, "slice", errors);
            let hours = reader.number_where(
                row,
                "hours",
                Rule {
                    holds: |v| v > 0.0,
                    message: "hours must be > 0",
                    hint: "give the hours of the year the slice stands for (the slices of a year usually sum to 8760)",
                },
                errors,
            );
            Some(Slice { id: id?, hours: hours? })
        });
        let named: HashSet<String> = keyed.rows.iter().map(|row| row.key.clone()).collect();
        let all_valid = keyed.complete && keyed.rows.iter().all(|row| row.record.is_some());
        let slices: Vec<Slice> = keyed.rows.into_iter().filter_map(|row| row.record).collect();
        if slices.is_empty() && all_valid {
            self.errors.push(
                InputError::file(&table.file, "no time slice")
                    .with_hint("list at least one slice with its hours, or remove slices.csv for one slice of 8760 h"),
            );
        }
        // docs/model.md B1 only asks hours > 0 (a slice's share of a flow is
        // hours_t / sum(hours), so the sum is not a constraint), but slices
        // beyond a leap year's hours are almost surely a typo or slices
        // counted twice, and they scale every per-hour figure.
        let total_hours: f64 = slices.iter().map(|slice| slice.hours).sum();
        if all_valid && total_hours > HOURS_PER_LEAP_YEAR * (1.0 + 1e-9) {
            self.warnings.push(InputWarning {
                file: table.file.clone(),
                line: None,
                message: format!(
                    "the slices add up to {} h, more than a year ({HOURS_PER_YEAR} h, {HOURS_PER_LEAP_YEAR} in a leap year): check that no hours are counted twice",
                    crate::model::table::short_number(total_hours)
                ),
            });
        }
        (slices, true, keyed.complete.then_some(named))
    }

    /// profiles.csv (docs/model.md B1): one share per (profile, slice), slices
    /// left out have share 0, the shares of a profile sum to 1.
    pub(super) fn profiles(
        &mut self,
        file: &TableFile,
        slices: &[Slice],
        slice_names: Option<&HashSet<String>>,
    ) -> (Vec<Profile>, OwnedIds<ProfileIdx>) {
        let (mut ids, table) = OwnedIds::for_file(file);
        let Some(table) = table else {
            return (Vec::new(), ids);
        };
        let slice_position: HashMap<&str, usize> = slices
            .iter()
            .enumerate()
            .map(|(position, slice)| (slice.id.as_str(), position))
            .collect();
        let keyed = self.parse_keyed(
            table,
            &PROFILES_SCHEMA,
            &pair_key_in("profile", "slice"),
            &mut |reader, row, errors| {
                let profile = reader.text(row, "profile", errors);
                let slice = reader.text(row, "slice", errors).and_then(|slice| {
                    let found = slice_position.get(slice.as_str()).copied();
                    // Unknown only when no row of slices.csv names it.
                    if found.is_none() && slice_names.is_some_and(|names| !names.contains(&slice)) {
                        errors.push(
                            InputError::at(&table.file, row.line, Some("slice"), format!("unknown slice {slice:?}"))
                                .with_hint(if slices.len() == 1 && slices[0].id == YEAR_SLICE {
                                    "without slices.csv the only slice is \"year\": add slices.csv to the inventory folder"
                                } else {
                                    "the slice must be listed in slices.csv"
                                }),
                        );
                    }
                    found
                });
                let share = reader.number_where(
                    row,
                    "share",
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "share must be >= 0",
                        hint: "give the fraction of the annual quantity that falls in this slice",
                    },
                    errors,
                );
                profile?;
                Some((slice?, share?))
            },
        );
        ids.complete = keyed.complete;
        // Profiles in the order of their first row; a profile with a row in error is left out.
        let mut order: Vec<String> = Vec::new();
        // Per profile: (line, (slice position, share) when the row is valid).
        type ProfileRows = Vec<(usize, Option<(usize, f64)>)>;
        let mut rows_of: HashMap<String, ProfileRows> = HashMap::new();
        for row in &keyed.rows {
            let (profile, _) = &row.key;
            ids.named.insert(profile.clone());
            if !rows_of.contains_key(profile) {
                order.push(profile.clone());
            }
            rows_of
                .entry(profile.clone())
                .or_default()
                .push((row.place.line, row.record));
        }
        let mut profiles = Vec::new();
        for name in order {
            let rows = &rows_of[&name];
            if rows.iter().any(|(_, record)| record.is_none()) {
                continue;
            }
            let mut shares = vec![0.0; slices.len()];
            for (_, record) in rows {
                let (slice, share) = record.expect("rows in error were skipped above");
                shares[slice] = share;
            }
            let sum: f64 = shares.iter().sum();
            if (sum - 1.0).abs() > PROFILE_SUM_TOLERANCE {
                let last_line = rows.iter().map(|(line, _)| *line).max().unwrap_or(table.header_line);
                self.errors.push(
                    InputError::at(&table.file, last_line, Some("share"), format!("the shares of profile {name:?} sum to {}, not 1", (sum * 1e9).round() / 1e9))
                        .with_hint("a profile gives the fraction of a flow's annual quantity in each slice: its shares must sum to 1 (within 1e-6)"),
                );
                continue;
            }
            ids.valid.insert(name.clone(), ProfileIdx::from_index(profiles.len()));
            profiles.push(Profile { id: name, shares });
        }
        (profiles, ids)
    }
}
