//! Synthetic territories for scale tests and benchmarks: `symbiose generate`.
//!
//! Owns: the recipe of a territory: firms clustered in industrial zones, zones
//! clustered around a few industrial poles, a sector per firm with the flows
//! that sector typically has (resources, routes and units of the default
//! catalogue), lognormal quantities, temperatures for heat, and a few
//! distance overrides. Returns the CSV files as bytes; writing them is the
//! caller's job (no I/O here). Same configuration, same bytes.
//!
//! The territory is not a description of any real place: it is built to
//! load with the default catalogue and to stress the optimizer the way a
//! regional inventory would (many small firms, a few heavy industries, most
//! exchanges local, a few resources traded at any distance).

use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateConfig {
    pub n_firms: usize,
    pub seed: u64,
    /// Side of the square region in km; `None`: 300 km for 20,000 firms,
    /// scaled with the square root of the number of firms so that the
    /// density of firms (and the number of candidate links per flow) stays
    /// about the same whatever the size.
    pub region_km: Option<f64>,
}

/// The widest region `generate` accepts, in km. The region is a square on
/// a flat map centred on [`REGION_CENTRE`] (50 N): half of 8,800 km north
/// of the centre is 89.6 N, so every latitude stays valid; half of
/// 8,895 km would reach the pole. Longitudes stay within 62 degrees of 3 E.
pub const MAX_REGION_KM: f64 = 8_800.0;

/// The most firms `generate` writes: about 50 million flows, some 3 GB of
/// CSV, and a default region (6,700 km) within [`MAX_REGION_KM`].
pub const MAX_FIRMS: usize = 10_000_000;

impl GenerateConfig {
    /// Checks the arguments before anything is generated: a message saying
    /// the allowed range when one is outside it.
    pub fn check(&self) -> Result<(), String> {
        if self.n_firms == 0 {
            return Err("--firms 0: a territory needs at least 1 firm (give --firms from 1 to 10,000,000)".to_string());
        }
        if self.n_firms > MAX_FIRMS {
            return Err(format!(
                "--firms {} is more than generate's limit of {} firms (about 50 million flows): give --firms from 1 to {}",
                self.n_firms,
                crate::report::euros(MAX_FIRMS as f64),
                crate::report::euros(MAX_FIRMS as f64)
            ));
        }
        if let Some(side) = self.region_km {
            if !(side.is_finite() && side > 0.0 && side <= MAX_REGION_KM) {
                return Err(format!(
                    "--region-km {side} is outside the allowed range: more than 0 and at most {} km (a wider square centred on {} N would pass the pole)",
                    crate::report::euros(MAX_REGION_KM),
                    REGION_CENTRE.0
                ));
            }
        }
        Ok(())
    }

    pub fn region_side_km(&self) -> f64 {
        self.region_km
            .unwrap_or_else(|| (300.0 * (self.n_firms as f64 / 20_000.0).sqrt()).max(20.0))
    }
}

/// Centre of the region: northern France (Hauts-de-France).
pub const REGION_CENTRE: (f64, f64) = (50.0, 3.0);

/// The generated files, in the inventory format.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// (file name, bytes): firms.csv, flows.csv, distances.csv.
    pub files: Vec<(String, Vec<u8>)>,
    pub n_firms: usize,
    pub n_flows: usize,
    pub n_distance_overrides: usize,
}

/// The PRNG, shared with `study` (moved to [`crate::random`]; the
/// re-export keeps `generate::Rng` for benches and tests).
pub use crate::random::Rng;

/// Temperatures (C) of a heat flow: the supply's offer, or the demand's
/// minimum (present with probability `required`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quality {
    low: f64,
    high: f64,
    required: f64,
}

/// One flow a firm of a sector may have.
#[derive(Debug, Clone, PartialEq)]
struct FlowTemplate {
    supply: bool,
    resource: String,
    fallback: String,
    unit: String,
    probability: f64,
    median: f64,
    sigma: f64,
    quality: Option<Quality>,
}

#[derive(Debug, Clone, PartialEq)]
struct Sector {
    label: String,
    nace: String,
    /// Share of firms.
    weight: f64,
    flows: Vec<FlowTemplate>,
}

/// The sector recipes, a data table compiled in: one row per flow a firm of
/// a sector may have, sectors in the order of their first row (the file's
/// header comment says what the columns mean and where the figures come from).
const SECTORS_CSV: &str = include_str!("sectors.csv");

/// The sectors of [`SECTORS_CSV`], parsed once.
fn sectors() -> &'static [Sector] {
    static SECTORS: std::sync::OnceLock<Vec<Sector>> = std::sync::OnceLock::new();
    SECTORS.get_or_init(|| {
        parse_sectors(SECTORS_CSV)
            .unwrap_or_else(|e| panic!("the embedded generate/sectors.csv is valid (a unit test reads it): {e}"))
    })
}

/// Reads the sector table: `#` lines are comments, then a header, then
/// plain comma-separated rows (no quoting: no cell holds a comma).
fn parse_sectors(text: &str) -> Result<Vec<Sector>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty());
    let (_, header) = lines.next().ok_or("no header")?;
    let columns: Vec<&str> = header.split(',').collect();
    let expected = [
        "sector",
        "nace",
        "weight",
        "kind",
        "resource",
        "fallback",
        "unit",
        "probability",
        "median",
        "sigma",
        "temperature_low_c",
        "temperature_high_c",
        "temperature_required",
    ];
    if columns != expected {
        return Err(format!("header {header:?}, expected {}", expected.join(",")));
    }
    let mut sectors: Vec<Sector> = Vec::new();
    for (index, line) in lines {
        let line_number = index + 1;
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != expected.len() {
            return Err(format!(
                "line {line_number}: {} cells, expected {}",
                cells.len(),
                expected.len()
            ));
        }
        let number = |column: usize| -> Result<f64, String> {
            cells[column].parse::<f64>().map_err(|_| {
                format!(
                    "line {line_number}, column {}: {:?} is not a number",
                    expected[column], cells[column]
                )
            })
        };
        let supply = match cells[3] {
            "supply" => true,
            "demand" => false,
            other => return Err(format!("line {line_number}: kind {other:?}, expected supply or demand")),
        };
        let quality = if cells[10].is_empty() {
            None
        } else {
            Some(Quality {
                low: number(10)?,
                high: number(11)?,
                required: number(12)?,
            })
        };
        let template = FlowTemplate {
            supply,
            resource: cells[4].to_string(),
            fallback: cells[5].to_string(),
            unit: cells[6].to_string(),
            probability: number(7)?,
            median: number(8)?,
            sigma: number(9)?,
            quality,
        };
        let weight = number(2)?;
        match sectors.last_mut() {
            Some(sector) if sector.label == cells[0] => {
                if sector.nace != cells[1] || sector.weight != weight {
                    return Err(format!(
                        "line {line_number}: sector {:?} changes its nace or weight",
                        cells[0]
                    ));
                }
                sector.flows.push(template);
            }
            _ => {
                if sectors.iter().any(|sector| sector.label == cells[0]) {
                    return Err(format!(
                        "line {line_number}: the rows of sector {:?} are not together",
                        cells[0]
                    ));
                }
                sectors.push(Sector {
                    label: cells[0].to_string(),
                    nace: cells[1].to_string(),
                    weight,
                    flows: vec![template],
                });
            }
        }
    }
    Ok(sectors)
}

/// Firms per zone on average; zones per industrial pole on average.
const FIRMS_PER_ZONE: f64 = 50.0;
const ZONES_PER_POLE: f64 = 12.0;
/// Spread of the zones of a pole around its centre, km.
const POLE_RADIUS_KM: f64 = 12.0;
/// Spread of the firms of a zone around its centre, km.
const ZONE_RADIUS_KM: f64 = 1.5;
/// Distance overrides: one per this many firms (at least one).
const FIRMS_PER_OVERRIDE: usize = 200;
const KM_PER_DEGREE_LAT: f64 = 111.195;

struct GeneratedFirm {
    id: String,
    zone: usize,
    lat: f64,
    lon: f64,
}

/// A synthetic territory; same configuration, same bytes.
pub fn generate(config: &GenerateConfig) -> Generated {
    let mut rng = Rng::new(config.seed);
    let n_firms = config.n_firms;
    let side_km = config.region_side_km();
    let (centre_lat, centre_lon) = REGION_CENTRE;
    let km_per_degree_lon = KM_PER_DEGREE_LAT * centre_lat.to_radians().cos();
    let to_degrees = |x_km: f64, y_km: f64| {
        (
            centre_lat + y_km / KM_PER_DEGREE_LAT,
            centre_lon + x_km / km_per_degree_lon,
        )
    };
    let clamp_km = |v: f64| v.clamp(-side_km / 2.0, side_km / 2.0);

    // Poles (a city's industrial area) and zones (an industrial estate).
    let n_zones = ((n_firms as f64 / FIRMS_PER_ZONE).round() as usize).max(1);
    let n_poles = ((n_zones as f64 / ZONES_PER_POLE).round() as usize).max(1);
    let poles: Vec<(f64, f64)> = (0..n_poles)
        .map(|_| (rng.range(-0.4, 0.4) * side_km, rng.range(-0.4, 0.4) * side_km))
        .collect();
    let pole_weights = cumulative((0..n_poles).map(|_| rng.lognormal(1.0, 0.7)));
    let zones: Vec<(f64, f64, usize)> = (0..n_zones)
        .map(|_| {
            let pole = rng.weighted(&pole_weights);
            let (x, y) = poles[pole];
            (
                clamp_km(x + POLE_RADIUS_KM * rng.normal()),
                clamp_km(y + POLE_RADIUS_KM * rng.normal()),
                pole,
            )
        })
        .collect();
    let zone_weights = cumulative((0..n_zones).map(|_| rng.lognormal(1.0, 0.8)));
    let sectors = sectors();
    let sector_weights = cumulative(sectors.iter().map(|sector| sector.weight));
    let width = n_firms.max(1).to_string().len();

    let mut firms_csv = String::from("firm_id,name,lat,lon,sector,zone\n");
    let mut flows_csv = String::from("flow_id,firm_id,kind,resource,quantity,fallback,quality,unit\n");
    let mut firms = Vec::with_capacity(n_firms);
    let mut sector_counts = vec![0usize; sectors.len()];
    let mut n_flows = 0;
    for number in 1..=n_firms {
        let zone = rng.weighted(&zone_weights);
        let (zone_x, zone_y, _) = zones[zone];
        let (lat, lon) = to_degrees(
            clamp_km(zone_x + ZONE_RADIUS_KM * rng.normal()),
            clamp_km(zone_y + ZONE_RADIUS_KM * rng.normal()),
        );
        let (lat, lon) = (round_to(lat, 5), round_to(lon, 5));
        let sector_index = rng.weighted(&sector_weights);
        let sector = &sectors[sector_index];
        sector_counts[sector_index] += 1;
        let id = format!("f{number:0width$}");
        let _ = writeln!(
            firms_csv,
            "{id},{} {},{lat},{lon},{},z{:04}",
            sector.label,
            sector_counts[sector_index],
            sector.nace,
            zone + 1
        );
        for (position, template) in sector.flows.iter().enumerate() {
            if !rng.chance(template.probability) {
                continue;
            }
            let quantity = significant(rng.lognormal(template.median, template.sigma), 3);
            let quality = template.quality.and_then(|q| {
                rng.chance(q.required)
                    .then(|| (rng.range(q.low, q.high) / 5.0).round() * 5.0)
            });
            let (kind, letter) = if template.supply {
                ("supply", 's')
            } else {
                ("demand", 'd')
            };
            let _ = writeln!(
                flows_csv,
                "{id}_{letter}{:02}_{},{id},{kind},{},{quantity},{},{},{}",
                position + 1,
                template.resource,
                template.resource,
                template.fallback,
                quality.map(|q| q.to_string()).unwrap_or_default(),
                template.unit
            );
            n_flows += 1;
        }
        firms.push(GeneratedFirm { id, zone, lat, lon });
    }

    // A few road or pipe distances that differ from the great circle:
    // pairs of firms of nearby zones, a detour factor of 1.1 to 1.6.
    let mut firms_by_zone: Vec<Vec<usize>> = vec![Vec::new(); n_zones];
    for (position, firm) in firms.iter().enumerate() {
        firms_by_zone[firm.zone].push(position);
    }
    let mut zones_by_pole: Vec<Vec<usize>> = vec![Vec::new(); n_poles];
    for (zone, (_, _, pole)) in zones.iter().enumerate() {
        if !firms_by_zone[zone].is_empty() {
            zones_by_pole[*pole].push(zone);
        }
    }
    let mut distances_csv = String::from("from_firm,to_firm,distance_km\n");
    let mut pairs = std::collections::BTreeSet::new();
    let wanted = if n_firms >= 2 {
        (n_firms / FIRMS_PER_OVERRIDE).max(1)
    } else {
        0
    };
    let mut attempts = 0;
    while pairs.len() < wanted && attempts < 20 * wanted {
        attempts += 1;
        let from = rng.below(firms.len());
        let pole = zones[firms[from].zone].2;
        let candidates = &zones_by_pole[pole];
        let zone = candidates[rng.below(candidates.len())];
        let to = firms_by_zone[zone][rng.below(firms_by_zone[zone].len())];
        if from == to || pairs.contains(&(from.min(to), from.max(to))) {
            continue;
        }
        pairs.insert((from.min(to), from.max(to)));
        let (a, b) = (&firms[from], &firms[to]);
        let great_circle = crate::model::haversine_km(a.lat, a.lon, b.lat, b.lon);
        let distance = round_to(great_circle * rng.range(1.1, 1.6), 1);
        let _ = writeln!(distances_csv, "{},{},{distance}", a.id, b.id);
    }

    Generated {
        n_firms,
        n_flows,
        n_distance_overrides: pairs.len(),
        files: vec![
            ("firms.csv".to_string(), firms_csv.into_bytes()),
            ("flows.csv".to_string(), flows_csv.into_bytes()),
            ("distances.csv".to_string(), distances_csv.into_bytes()),
        ],
    }
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    weights
        .scan(0.0, |total, weight| {
            *total += weight;
            Some(*total)
        })
        .collect()
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale + 0.0
}

/// `value` rounded to `digits` significant digits (inventories are estimates).
fn significant(value: f64, digits: i32) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 0.0;
    }
    let magnitude = value.log10().floor() as i32;
    let decimals = digits - 1 - magnitude;
    if decimals >= 0 {
        round_to(value, decimals)
    } else {
        let scale = 10f64.powi(-decimals);
        (value / scale).round() * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(123_456.0, 3), 123_000.0);
        assert_eq!(significant(0.012345, 3), 0.0123);
        assert_eq!(significant(9.996, 3), 10.0);
    }

    #[test]
    fn the_widest_region_allowed_keeps_every_coordinate_valid() {
        let config = GenerateConfig {
            n_firms: 400,
            seed: 3,
            region_km: Some(MAX_REGION_KM),
        };
        assert_eq!(config.check(), Ok(()));
        let generated = generate(&config);
        let firms = String::from_utf8(generated.files[0].1.clone()).unwrap();
        let (mut max_lat, mut min_lat) = (f64::MIN, f64::MAX);
        for line in firms.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let (lat, lon): (f64, f64) = (cells[2].parse().unwrap(), cells[3].parse().unwrap());
            assert!(
                (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon),
                "{line}"
            );
            max_lat = max_lat.max(lat);
            min_lat = min_lat.min(lat);
        }
        // Positions are clamped to the square: its north edge is the
        // furthest any firm can go.
        let north_edge = REGION_CENTRE.0 + MAX_REGION_KM / 2.0 / KM_PER_DEGREE_LAT;
        assert!(
            max_lat <= north_edge && north_edge < 90.0,
            "{min_lat}..{max_lat}, edge {north_edge}"
        );
        // The default region of the largest territory is within the limit.
        let largest = GenerateConfig {
            n_firms: MAX_FIRMS,
            seed: 1,
            region_km: None,
        };
        assert!(largest.region_side_km() <= MAX_REGION_KM);
        assert_eq!(largest.check(), Ok(()));
    }

    #[test]
    fn arguments_outside_their_range_are_refused_with_the_range() {
        let config = |n_firms, region_km| GenerateConfig {
            n_firms,
            seed: 1,
            region_km,
        };
        let message = config(10, Some(1e9)).check().unwrap_err();
        assert!(
            message.contains("--region-km 1000000000") && message.contains("8,800 km"),
            "{message}"
        );
        for side in [0.0, -5.0, f64::NAN, f64::INFINITY, 8_800.5] {
            assert!(config(10, Some(side)).check().is_err(), "{side}");
        }
        let message = config(0, None).check().unwrap_err();
        assert!(message.contains("at least 1 firm"), "{message}");
        let message = config(MAX_FIRMS + 1, None).check().unwrap_err();
        assert!(message.contains("10,000,000"), "{message}");
        assert_eq!(config(1, None).check(), Ok(()));
    }

    #[test]
    fn sector_weights_sum_to_one() {
        let total: f64 = sectors().iter().map(|sector| sector.weight).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn the_sector_table_reads_whole() {
        let sectors = parse_sectors(SECTORS_CSV).expect("the embedded table parses");
        assert_eq!(sectors.len(), 18);
        assert_eq!(sectors.iter().map(|sector| sector.flows.len()).sum::<usize>(), 100);
        let sme = &sectors[0];
        assert_eq!(
            (sme.label.as_str(), sme.nace.as_str(), sme.weight),
            ("Manufacturing SME", "C25", 0.6088)
        );
        let heat = &sme.flows[2];
        assert!(heat.supply);
        assert_eq!(
            (heat.resource.as_str(), heat.fallback.as_str(), heat.unit.as_str()),
            ("hot_water_heat", "heat_dissipation", "MWh")
        );
        assert_eq!((heat.probability, heat.median, heat.sigma), (0.6, 1_200.0, 1.0));
        assert_eq!(
            heat.quality,
            Some(Quality {
                low: 45.0,
                high: 110.0,
                required: 1.0
            })
        );
        assert_eq!(sme.flows[0].quality, None);
    }

    #[test]
    fn a_malformed_sector_table_is_refused_with_its_line() {
        let header = "sector,nace,weight,kind,resource,fallback,unit,probability,median,sigma,temperature_low_c,temperature_high_c,temperature_required";
        let error = parse_sectors(&format!("{header}\nA,C1,1,supply,r,f,t,0.5,ten,1,,,\n")).unwrap_err();
        assert!(error.contains("line 2") && error.contains("median"), "{error}");
        let error = parse_sectors(&format!("{header}\nA,C1,1,sideways,r,f,t,0.5,1,1,,,\n")).unwrap_err();
        assert!(error.contains("sideways"), "{error}");
    }
}
