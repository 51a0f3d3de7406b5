//! firms.csv and distances.csv: the firms, with a hint when a row's
//! latitude and longitude seem swapped, and the distances that replace the
//! great-circle distance between two firms.
//!
//! Invariant: every firm has a latitude within [-90, 90] and a longitude
//! within [-180, 180]; every distance is >= 0 and names two known firms.

use std::collections::{HashMap, HashSet};

use super::keyed::{key_in, pair_key_in, Ids, Keyed};
use super::schemas::{DISTANCES_SCHEMA, FIRMS_SCHEMA};
use super::Builder;
use crate::model::table::{InputError, RawRow, RawTable, Rule, TableFile};
use crate::model::*;

/// The median latitude and longitude of the firms whose coordinates are
/// valid, if any.
fn typical_coordinates(table: &RawTable) -> Option<(f64, f64)> {
    let position = |name: &str| table.columns.iter().position(|column| column == name);
    let (lat_at, lon_at) = (position("lat")?, position("lon")?);
    let number = |row: &RawRow, at: usize| row.cells.get(at)?.as_deref()?.trim().parse::<f64>().ok();
    let (mut lats, mut lons): (Vec<f64>, Vec<f64>) = table
        .rows
        .iter()
        .filter_map(|row| Some((number(row, lat_at)?, number(row, lon_at)?)))
        .filter(|(lat, lon)| lat.abs() <= 90.0 && lon.abs() <= 180.0)
        .unzip();
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    Some((median(&mut lats)?, median(&mut lons)?))
}

/// Whether a latitude out of range is most likely the lat and lon columns
/// the wrong way round: swapped back, both would be valid, and the lon cell
/// looks more like the other firms' latitudes than like their longitudes
/// (a typo such as 95 next to a plausible longitude is not a swap).
fn seem_swapped(lat: f64, lon: f64, typical: Option<(f64, f64)>) -> bool {
    let valid_swapped = (90.0..=180.0).contains(&lat.abs()) && lon.abs() <= 90.0;
    valid_swapped
        && match typical {
            Some((typical_lat, typical_lon)) => (lon - typical_lat).abs() < (lon - typical_lon).abs(),
            None => true,
        }
}

impl Builder<'_> {
    /// firms.csv: one firm per id, with coordinates in WGS84 degrees.
    pub(super) fn firms(&mut self, file: &TableFile) -> Keyed<String, Firm> {
        let TableFile::Read(table) = file else {
            return Keyed {
                rows: Vec::new(),
                complete: false,
            };
        };
        let typical = typical_coordinates(table);
        self.parse_keyed(table, &FIRMS_SCHEMA, &key_in("firm_id"), &mut |reader, row, errors| {
            let id = reader.text(row, "firm_id", errors)?;
            let name = reader.text(row, "name", errors);
            let lat = reader.number(row, "lat", errors);
            let lon = reader.number(row, "lon", errors);
            let swapped = matches!((lat, lon), (Some(lat), Some(lon)) if seem_swapped(lat, lon, typical));
            let lat_hint = if swapped {
                "lat and lon seem swapped: lat is within [-90, 90], lon within [-180, 180]"
            } else {
                "give the latitude in WGS84 decimal degrees, such as 51.03"
            };
            let lat = reader.check(
                row,
                "lat",
                lat,
                Rule {
                    holds: |v| (-90.0..=90.0).contains(&v),
                    message: "latitude must be within [-90, 90]",
                    hint: lat_hint,
                },
                errors,
            );
            let lon = reader.check(
                row,
                "lon",
                lon,
                Rule {
                    holds: |v| (-180.0..=180.0).contains(&v),
                    message: "longitude must be within [-180, 180]",
                    hint: "give the longitude in WGS84 decimal degrees, such as 2.30",
                },
                errors,
            );
            Some(Firm {
                id,
                name: name?,
                lat: lat?,
                lon: lon?,
                sector: reader.opt_text(row, "sector"),
                zone: reader.opt_text(row, "zone"),
            })
        })
    }

    /// distances.csv: a distance given for one direction of a pair holds
    /// for the other unless that one is given too.
    pub(super) fn distances(&mut self, table: &RawTable, firms: &Ids<FirmIdx>) -> HashMap<(FirmIdx, FirmIdx), f64> {
        let keyed = self.parse_keyed(
            table,
            &DISTANCES_SCHEMA,
            &pair_key_in("from_firm", "to_firm"),
            &mut |reader, row, errors| {
                let mut resolve = |column: &str| {
                    let id = reader.text(row, column, errors)?;
                    firms.resolve(&id, errors, || {
                        InputError::at(&table.file, row.line, Some(column), format!("unknown firm {id:?}"))
                            .with_hint("the firm must be listed in firms.csv")
                    })
                };
                let from = resolve("from_firm");
                let to = resolve("to_firm");
                let distance = reader.number_where(
                    row,
                    "distance_km",
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "distance must be >= 0",
                        hint: "give the distance in km between the two firms",
                    },
                    errors,
                );
                Some((from?, to?, distance?))
            },
        );
        let explicit: HashSet<(FirmIdx, FirmIdx)> = keyed.valid().map(|(_, _, (from, to, _))| (*from, *to)).collect();
        let mut overrides = HashMap::new();
        for (_, _, &(from, to, distance)) in keyed.valid() {
            overrides.insert((from, to), distance);
            if !explicit.contains(&(to, from)) {
                overrides.insert((to, from), distance);
            }
        }
        overrides
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latitude_out_of_range_seems_swapped_only_when_the_longitude_looks_like_a_latitude() {
        let dunkirk = Some((51.03, 2.30));
        assert!(seem_swapped(151.03, 51.03, dunkirk));
        assert!(
            !seem_swapped(95.0, 2.32, dunkirk),
            "a typo next to a plausible longitude"
        );
        assert!(
            !seem_swapped(195.0, 51.03, dunkirk),
            "swapped back, the longitude would be out of range"
        );
        assert!(
            seem_swapped(151.03, 51.03, None),
            "with no other firm, validity alone decides"
        );
        assert!(!seem_swapped(151.03, 120.0, None));
    }
}
