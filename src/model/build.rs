//! From raw tables to a validated [`Inventory`]: typed cells, catalogue
//! overrides by key, every reference resolved, units converted. Every
//! problem is collected; the result is either a whole inventory or the full
//! list of errors, sorted by file, line and column.
//!
//! A reference is reported as unknown only when no row of the target file
//! names it: a row that names an id but has errors of its own, or a file
//! that could not be read, must not bury the real problem under follow-on
//! "unknown firm" errors.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;

use super::rules;
use super::table::{sort_errors, InputError, InputWarning, RawRow, RawTable, Rule, Schema, TableFile, TableReader};
use super::units::conversion_factor;
use super::*;

/// The five catalogue tables; any may be absent.
#[derive(Debug, Clone, Default)]
pub struct CatalogueTables {
    pub resources: TableFile,
    pub routes: TableFile,
    pub substitutions: TableFile,
    pub impacts: TableFile,
    pub externalities: TableFile,
}

impl CatalogueTables {
    fn files(&self) -> [&TableFile; 5] {
        [
            &self.resources,
            &self.routes,
            &self.substitutions,
            &self.impacts,
            &self.externalities,
        ]
    }
}

/// Everything an inventory is read from.
///
/// `firms` and `flows` are required: when either is not
/// [`TableFile::Read`], the reader has reported why, [`build_inventory`]
/// still checks every other table but never returns an inventory.
#[derive(Debug, Clone, Default)]
pub struct InventoryTables {
    pub firms: TableFile,
    pub flows: TableFile,
    /// The embedded default catalogue.
    pub default_catalogue: CatalogueTables,
    /// Catalogue files found in the inventory folder: they override default
    /// rows with the same key and add new keys.
    pub catalogue_overrides: CatalogueTables,
    pub distances: TableFile,
    /// docs/model.md B1: slices.csv and profiles.csv (optional).
    pub slices: TableFile,
    pub profiles: TableFile,
    /// docs/model.md B3: processes.csv and process_io.csv (optional).
    pub processes: TableFile,
    pub process_io: TableFile,
}

impl InventoryTables {
    /// Every table that was read, e.g. to order errors by header position.
    pub fn read_tables(&self) -> Vec<&RawTable> {
        [
            &self.firms,
            &self.flows,
            &self.distances,
            &self.slices,
            &self.profiles,
            &self.processes,
            &self.process_io,
        ]
        .into_iter()
        .chain(self.default_catalogue.files())
        .chain(self.catalogue_overrides.files())
        .filter_map(TableFile::table)
        .collect()
    }
}

pub const FIRMS_SCHEMA: Schema = Schema {
    required: &["firm_id", "name", "lat", "lon"],
    optional: &["sector", "zone"],
};
pub const FLOWS_SCHEMA: Schema = Schema {
    required: &["flow_id", "firm_id", "kind", "resource", "quantity", "fallback"],
    optional: &["quality", "unit", "profile"],
};
pub const RESOURCES_SCHEMA: Schema = Schema {
    required: &[
        "resource",
        "category",
        "unit",
        "transport_cost_eur_per_unit_km",
        "max_distance_km",
    ],
    optional: &["ewc_code", "link_fixed_cost_eur_per_km_year"],
};
pub const ROUTES_SCHEMA: Schema = Schema {
    required: &["route", "kind", "unit", "cost_eur_per_unit"],
    optional: &[],
};
pub const SUBSTITUTIONS_SCHEMA: Schema = Schema {
    required: &[
        "supply_resource",
        "demand_resource",
        "ratio",
        "processing_cost_eur_per_unit",
    ],
    optional: &[],
};
pub const IMPACTS_SCHEMA: Schema = Schema {
    required: &["subject", "category", "amount_per_unit"],
    optional: &[],
};
pub const EXTERNALITIES_SCHEMA: Schema = Schema {
    required: &["category", "unit", "value_eur_per_unit", "scope"],
    optional: &[],
};
pub const DISTANCES_SCHEMA: Schema = Schema {
    required: &["from_firm", "to_firm", "distance_km"],
    optional: &[],
};
pub const SLICES_SCHEMA: Schema = Schema {
    required: &["slice", "hours"],
    optional: &[],
};
pub const PROFILES_SCHEMA: Schema = Schema {
    required: &["profile", "slice", "share"],
    optional: &[],
};
pub const PROCESSES_SCHEMA: Schema = Schema {
    required: &["process_id", "firm_id", "cost_eur_per_activity"],
    optional: &["capacity", "fixed_cost_eur_per_year", "name"],
};
pub const PROCESS_IO_SCHEMA: Schema = Schema {
    required: &["process_id", "resource", "direction", "per_activity"],
    optional: &["fallback", "quality"],
};

/// Shares of a profile must sum to 1 within this (docs/model.md B1).
pub const PROFILE_SUM_TOLERANCE: f64 = 1e-6;

/// Where a row came from.
#[derive(Debug, Clone)]
struct Place {
    file: String,
    line: usize,
}

impl Place {
    fn error(&self, column: &str, message: impl Into<String>) -> InputError {
        InputError::at(&self.file, self.line, Some(column), message)
    }
}

/// One row of a keyed table: its key, where it is, and its record, `None`
/// when the row has errors (already reported).
#[derive(Debug, Clone)]
struct KeyedRow<K, T> {
    key: K,
    place: Place,
    record: Option<T>,
}

/// The rows of a file, or of a default catalogue file merged with its
/// override, one per key. Rows with errors keep their key, so that a
/// reference to them is not reported as unknown on top of their own errors.
struct Keyed<K, T> {
    rows: Vec<KeyedRow<K, T>>,
    /// False when a file could not be read or lacks a required column: which
    /// keys it holds is then unknown.
    complete: bool,
}

impl<K: Eq + std::hash::Hash, T> Keyed<K, T> {
    /// The valid rows, in order.
    fn valid(&self) -> impl Iterator<Item = (&K, &Place, &T)> {
        self.rows
            .iter()
            .filter_map(|row| Some((&row.key, &row.place, row.record.as_ref()?)))
    }

    /// Whether a reference to `key` may be right: some row names it (valid
    /// or not), or the file's keys are unknown.
    fn names(&self, key: &K) -> bool {
        !self.complete || self.rows.iter().any(|row| row.key == *key)
    }
}

impl<T> Keyed<String, T> {
    /// The ids of the valid rows, numbered in order, for resolving references.
    fn ids<I: Copy>(&self, make: impl Fn(usize) -> I) -> Ids<'_, I> {
        Ids {
            valid: self
                .valid()
                .enumerate()
                .map(|(position, (id, _, _))| (id.as_str(), make(position)))
                .collect(),
            named: self.rows.iter().map(|row| row.key.as_str()).collect(),
            complete: self.complete,
        }
    }
}

/// The ids of one kind of entity, to resolve references to it.
struct Ids<'a, I> {
    /// Valid ids and their index.
    valid: HashMap<&'a str, I>,
    /// Every id a row names, valid or not.
    named: HashSet<&'a str>,
    /// False when the file's ids are unknown (unreadable, or a required
    /// column is missing): no reference to it is reported as unknown.
    complete: bool,
}

impl<I: Copy> Ids<'_, I> {
    fn get(&self, id: &str) -> Option<I> {
        self.valid.get(id).copied()
    }

    /// Whether `id` may be right although it is not valid: its row has
    /// errors, or the file's ids are unknown.
    fn names(&self, id: &str) -> bool {
        !self.complete || self.named.contains(id)
    }

    /// Resolves `id`, pushing `unknown()` only when no row names it.
    fn resolve(&self, id: &str, errors: &mut Vec<InputError>, unknown: impl FnOnce() -> InputError) -> Option<I> {
        let found = self.get(id);
        if found.is_none() && !self.names(id) {
            errors.push(unknown());
        }
        found
    }
}

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

/// Reads the key of a row from one column, without reporting anything (the
/// row's parser reports an empty key).
fn key_in(column: &'static str) -> impl Fn(&TableReader, &RawRow) -> Option<String> {
    move |reader, row| reader.cell(row, column).map(str::to_string)
}

/// Reads a key made of two columns, as [`key_in`].
fn pair_key_in(
    first: &'static str,
    second: &'static str,
) -> impl Fn(&TableReader, &RawRow) -> Option<(String, String)> {
    move |reader, row| {
        Some((
            reader.cell(row, first)?.to_string(),
            reader.cell(row, second)?.to_string(),
        ))
    }
}

/// Builds a validated inventory, or returns every error found (sorted by
/// file, line and column). Warnings are returned in both cases.
pub fn build_inventory(tables: &InventoryTables) -> (Result<Inventory, Vec<InputError>>, Vec<InputWarning>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let inventory = Builder {
        errors: &mut errors,
        warnings: &mut warnings,
    }
    .build(tables);
    sort_errors(&mut errors, &tables.read_tables());
    match inventory {
        Some(inventory) if errors.is_empty() => (Ok(inventory), warnings),
        _ => (Err(errors), warnings),
    }
}

struct Builder<'e> {
    errors: &'e mut Vec<InputError>,
    warnings: &'e mut Vec<InputWarning>,
}

struct ResourceRecord {
    category: ResourceCategory,
    unit: String,
    transport_cost: f64,
    max_distance: Option<f64>,
    link_fixed_cost: f64,
}
struct RouteRecord {
    kind: RouteKind,
    unit: String,
    cost: f64,
}
struct SubstitutionRecord {
    ratio: f64,
    processing_cost: f64,
}
struct CategoryRecord {
    unit: String,
    value: f64,
    scope: Scope,
}

/// What an impact subject (`route:<route>`, `transport:<resource>`,
/// `substitution:<supply>><demand>`) points at.
enum SubjectTarget {
    Route(RouteIdx),
    Transport(ResourceIdx),
    Substitution(SubstitutionIdx),
    /// `process:<process_id>`: resolved once processes.csv is read.
    Process(String),
    /// It names a row that has errors of its own (or a file that could not
    /// be read): nothing more to report.
    InError,
    /// It names nothing in the catalogue.
    Unknown,
    /// It lacks one of the three prefixes.
    Malformed,
}

/// The references a flow row resolves.
struct FlowContext<'a> {
    firms: &'a Ids<'a, FirmIdx>,
    resources: &'a Ids<'a, ResourceIdx>,
    routes: &'a Ids<'a, RouteIdx>,
    resource_defs: &'a [Resource],
    route_defs: &'a [Route],
    profiles: &'a OwnedIds<ProfileIdx>,
}

/// Ids resolved like [`Ids`], owning their strings (for tables whose ids are
/// not a single key column, such as profiles.csv).
struct OwnedIds<I> {
    valid: HashMap<String, I>,
    named: HashSet<String>,
    complete: bool,
}

impl<I: Copy> OwnedIds<I> {
    fn resolve(&self, id: &str, errors: &mut Vec<InputError>, unknown: impl FnOnce() -> InputError) -> Option<I> {
        let found = self.valid.get(id).copied();
        if found.is_none() && self.complete && !self.named.contains(id) {
            errors.push(unknown());
        }
        found
    }
}

/// Where a process row is, to locate problems found later (process_io.csv).
#[derive(Debug, Clone)]
struct ProcessPlace {
    place: Place,
}

/// A fallback route's terms for a flow of `resource_def` and `kind`:
/// (route units per resource unit, cost per resource unit, impacts per
/// resource unit), or the error located by `at(column, message)`.
fn fallback_terms(
    route: &Route,
    resource_def: &Resource,
    kind: FlowKind,
    at: impl Fn(&str, String) -> InputError,
) -> Result<(f64, f64, ImpactVec), InputError> {
    let wanted = match kind {
        FlowKind::Supply => RouteKind::Disposal,
        FlowKind::Demand => RouteKind::Sourcing,
    };
    if route.kind != wanted {
        return Err(at(
            "fallback",
            format!(
                "route {:?} is a {} route, but a {} needs a {} route",
                route.id,
                route.kind.as_str(),
                kind.as_str(),
                wanted.as_str()
            ),
        )
        .with_hint(
            "a supply falls back to disposal (landfill, flaring...), a demand to sourcing (virgin material, grid...)",
        ));
    }
    // Route costs and impacts are per route unit: convert to the resource's unit.
    let Some(route_units_per_resource_unit) = conversion_factor(&resource_def.unit, &route.unit) else {
        return Err(at(
            "fallback",
            format!(
                "route {:?} is priced per {} but resource {:?} is in {}",
                route.id, route.unit, resource_def.id, resource_def.unit
            ),
        )
        .with_hint(
            super::units::case_hint(&[&route.unit, &resource_def.unit]).unwrap_or_else(|| {
                "use a route in the resource's unit (or one that converts exactly: t/kg, MWh/kWh/GJ, m3/L)".to_string()
            }),
        ));
    };
    let mut impacts = Vec::new();
    add_scaled(&mut impacts, &route.impacts, route_units_per_resource_unit);
    Ok((
        route_units_per_resource_unit,
        route.cost_eur_per_unit * route_units_per_resource_unit,
        impacts,
    ))
}

impl Builder<'_> {
    fn build(&mut self, tables: &InventoryTables) -> Option<Inventory> {
        let default = &tables.default_catalogue;
        let overrides = &tables.catalogue_overrides;

        let categories_keyed = self.merged(
            &default.externalities,
            &overrides.externalities,
            &EXTERNALITIES_SCHEMA,
            key_in("category"),
            |reader, row, errors| {
                reader.text(row, "category", errors)?;
                let unit = reader.text(row, "unit", errors);
                let value = reader.number_where(row, "value_eur_per_unit", rules::EXTERNALITY_VALUE, errors);
                let scope = reader.choice(
                    row,
                    "scope",
                    &[("global", Scope::Global), ("local", Scope::Local)],
                    errors,
                );
                Some(CategoryRecord {
                    unit: unit?,
                    value: value?,
                    scope: scope?,
                })
            },
        );
        let resources_keyed = self.merged(
            &default.resources,
            &overrides.resources,
            &RESOURCES_SCHEMA,
            key_in("resource"),
            |reader, row, errors| {
                reader.text(row, "resource", errors)?;
                let category = reader.choice(
                    row,
                    "category",
                    &[
                        ("material", ResourceCategory::Material),
                        ("energy", ResourceCategory::Energy),
                        ("water", ResourceCategory::Water),
                        ("service", ResourceCategory::Service),
                    ],
                    errors,
                );
                let unit = reader.text(row, "unit", errors);
                let transport_cost = reader.number_where(
                    row,
                    "transport_cost_eur_per_unit_km",
                    rules::TRANSPORT_COST,
                    errors,
                );
                let max_distance = reader.opt_number(row, "max_distance_km", errors).ok()?;
                if let Some(max) = max_distance {
                    reader.check(
                        row,
                        "max_distance_km",
                        Some(max),
                        rules::MAX_DISTANCE,
                        errors,
                    )?;
                }
                let link_fixed_cost = reader.opt_number(row, "link_fixed_cost_eur_per_km_year", errors).ok()?;
                let link_fixed_cost = match link_fixed_cost {
                    Some(cost) => reader.check(
                        row,
                        "link_fixed_cost_eur_per_km_year",
                        Some(cost),
                        Rule {
                            holds: |v| v >= 0.0,
                            message: "link fixed cost must be >= 0",
                            hint: "give the annual cost of one km of pipe or line in EUR, or leave the cell empty for none",
                        },
                        errors,
                    ),
                    None => Some(0.0),
                };
                Some(ResourceRecord {
                    category: category?,
                    unit: unit?,
                    transport_cost: transport_cost?,
                    max_distance,
                    link_fixed_cost: link_fixed_cost?,
                })
            },
        );
        let routes_keyed = self.merged(
            &default.routes,
            &overrides.routes,
            &ROUTES_SCHEMA,
            key_in("route"),
            |reader, row, errors| {
                reader.text(row, "route", errors)?;
                let kind = reader.choice(
                    row,
                    "kind",
                    &[("disposal", RouteKind::Disposal), ("sourcing", RouteKind::Sourcing)],
                    errors,
                );
                let unit = reader.text(row, "unit", errors);
                let cost = reader.number(row, "cost_eur_per_unit", errors);
                Some(RouteRecord {
                    kind: kind?,
                    unit: unit?,
                    cost: cost?,
                })
            },
        );
        let substitutions_keyed = self.merged(
            &default.substitutions,
            &overrides.substitutions,
            &SUBSTITUTIONS_SCHEMA,
            pair_key_in("supply_resource", "demand_resource"),
            |reader, row, errors| {
                let supply = reader.text(row, "supply_resource", errors);
                let demand = reader.text(row, "demand_resource", errors);
                let ratio = reader.number_where(
                    row,
                    "ratio",
                    Rule {
                        holds: |v| v > 0.0,
                        message: "ratio must be > 0",
                        hint: "the ratio is the demand units served per supply unit: remove the row if the pair does not substitute",
                    },
                    errors,
                );
                let cost = reader.number_where(
                    row,
                    "processing_cost_eur_per_unit",
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "processing cost must be >= 0",
                        hint: "give the EUR cost per supply unit processed, 0 if none",
                    },
                    errors,
                );
                supply?;
                demand?;
                Some(SubstitutionRecord {
                    ratio: ratio?,
                    processing_cost: cost?,
                })
            },
        );
        let impacts_keyed = self.merged(
            &default.impacts,
            &overrides.impacts,
            &IMPACTS_SCHEMA,
            pair_key_in("subject", "category"),
            |reader, row, errors| {
                let subject = reader.text(row, "subject", errors);
                let category = reader.text(row, "category", errors);
                let amount = reader.number(row, "amount_per_unit", errors);
                subject?;
                category?;
                amount
            },
        );

        // Catalogue entities, sorted by id so that indices do not depend on
        // which file a row came from.
        let categories: Vec<Category> = categories_keyed
            .valid()
            .map(|(id, _, r)| Category {
                id: id.clone(),
                unit: r.unit.clone(),
                value_eur_per_unit: r.value,
                scope: r.scope,
            })
            .collect();
        let category_ids = categories_keyed.ids(CategoryIdx::from_index);
        let mut resources: Vec<Resource> = resources_keyed
            .valid()
            .map(|(id, _, r)| Resource {
                id: id.clone(),
                category: r.category,
                unit: r.unit.clone(),
                transport_cost_eur_per_unit_km: r.transport_cost,
                max_distance_km: r.max_distance,
                transport_impacts: Vec::new(),
                link_fixed_cost_eur_per_km_year: r.link_fixed_cost,
            })
            .collect();
        let resource_ids = resources_keyed.ids(ResourceIdx::from_index);
        let mut routes: Vec<Route> = routes_keyed
            .valid()
            .map(|(id, _, r)| Route {
                id: id.clone(),
                kind: r.kind,
                unit: r.unit.clone(),
                cost_eur_per_unit: r.cost,
                impacts: Vec::new(),
                banned: false,
            })
            .collect();
        let route_ids = routes_keyed.ids(RouteIdx::from_index);

        // Substitutions: listed pairs, then the identity of every resource not listed.
        let unknown_resource = |place: &Place, column: &str, id: &str| {
            place
                .error(column, format!("unknown resource {id:?}"))
                .with_hint("add it to resources.csv or fix the spelling")
        };
        let mut substitution_by_pair: BTreeMap<(ResourceIdx, ResourceIdx), Substitution> = BTreeMap::new();
        for ((supply, demand), place, record) in substitutions_keyed.valid() {
            let supply_idx = resource_ids.resolve(supply, self.errors, || {
                unknown_resource(place, "supply_resource", supply)
            });
            let demand_idx = resource_ids.resolve(demand, self.errors, || {
                unknown_resource(place, "demand_resource", demand)
            });
            if let (Some(s), Some(d)) = (supply_idx, demand_idx) {
                substitution_by_pair.insert(
                    (s, d),
                    Substitution {
                        supply_resource: s,
                        demand_resource: d,
                        ratio: record.ratio,
                        processing_cost_eur_per_unit: record.processing_cost,
                        impacts: Vec::new(),
                    },
                );
            }
        }
        for position in 0..resources.len() {
            let r = ResourceIdx::from_index(position);
            substitution_by_pair.entry((r, r)).or_insert(Substitution {
                supply_resource: r,
                demand_resource: r,
                ratio: 1.0,
                processing_cost_eur_per_unit: 0.0,
                impacts: Vec::new(),
            });
        }
        let pair_index: HashMap<(ResourceIdx, ResourceIdx), SubstitutionIdx> = substitution_by_pair
            .keys()
            .enumerate()
            .map(|(position, pair)| (*pair, SubstitutionIdx::from_index(position)))
            .collect();
        let mut substitutions: Vec<Substitution> = substitution_by_pair.into_values().collect();

        // Impacts, attached to their subjects.
        let subject_target = |subject: &str| -> SubjectTarget {
            match subject.split_once(':') {
                Some(("route", route)) => match route_ids.get(route) {
                    Some(r) => SubjectTarget::Route(r),
                    None if route_ids.names(route) => SubjectTarget::InError,
                    None => SubjectTarget::Unknown,
                },
                Some(("transport", resource)) => match resource_ids.get(resource) {
                    Some(r) => SubjectTarget::Transport(r),
                    None if resource_ids.names(resource) => SubjectTarget::InError,
                    None => SubjectTarget::Unknown,
                },
                Some(("substitution", pair)) => {
                    let Some((supply, demand)) = pair.split_once('>') else {
                        return SubjectTarget::Unknown;
                    };
                    let named_pair = (supply.to_string(), demand.to_string());
                    match (resource_ids.get(supply), resource_ids.get(demand)) {
                        (Some(s), Some(d)) => match pair_index.get(&(s, d)) {
                            Some(index) => SubjectTarget::Substitution(*index),
                            None if substitutions_keyed.names(&named_pair) => SubjectTarget::InError,
                            None => SubjectTarget::Unknown,
                        },
                        (s, d) => {
                            let in_error =
                                |found: Option<ResourceIdx>, id: &str| found.is_some() || resource_ids.names(id);
                            if in_error(s, supply) && in_error(d, demand) {
                                SubjectTarget::InError
                            } else {
                                SubjectTarget::Unknown
                            }
                        }
                    }
                }
                Some(("process", process)) => SubjectTarget::Process(process.to_string()),
                _ => SubjectTarget::Malformed,
            }
        };
        let mut process_impacts: Vec<(String, Place, CategoryIdx, f64)> = Vec::new();
        for ((subject, category), place, amount) in impacts_keyed.valid() {
            let Some(category_idx) = category_ids.resolve(category, self.errors, || {
                place
                    .error("category", format!("unknown externality category {category:?}"))
                    .with_hint("add it to externalities.csv or fix the spelling")
            }) else {
                continue;
            };
            let entry = [(category_idx, *amount)];
            match subject_target(subject) {
                SubjectTarget::Route(r) => add_scaled(&mut routes[r.index()].impacts, &entry, 1.0),
                SubjectTarget::Transport(r) => add_scaled(&mut resources[r.index()].transport_impacts, &entry, 1.0),
                SubjectTarget::Substitution(s) => add_scaled(&mut substitutions[s.index()].impacts, &entry, 1.0),
                SubjectTarget::Process(process) => {
                    process_impacts.push((process, place.clone(), category_idx, *amount));
                }
                SubjectTarget::InError => {}
                SubjectTarget::Unknown => self.errors.push(
                    place
                        .error(
                            "subject",
                            format!("subject {subject:?} names no known route, resource or substitution pair"),
                        )
                        .with_hint("the name after the prefix must exist in the catalogue"),
                ),
                SubjectTarget::Malformed => self.errors.push(
                    place
                        .error("subject", format!("subject {subject:?} is not of the form route:<route>, transport:<resource>, substitution:<supply>><demand> or process:<process>"))
                        .with_hint("prefix the subject with route:, transport:, substitution: or process:"),
                ),
            }
        }

        let firms_keyed = self.firms(&tables.firms);
        let firms: Vec<Firm> = firms_keyed.valid().map(|(_, _, firm)| firm.clone()).collect();
        let firm_ids = firms_keyed.ids(FirmIdx::from_index);

        // docs/model.md B1: time slices and profiles.
        let (slices, slices_given, slice_names) = self.slices(&tables.slices);
        let (profiles, profile_ids) = self.profiles(&tables.profiles, &slices, slice_names.as_ref());
        let context = FlowContext {
            firms: &firm_ids,
            resources: &resource_ids,
            routes: &route_ids,
            resource_defs: &resources,
            route_defs: &routes,
            profiles: &profile_ids,
        };
        let mut flows = match &tables.flows {
            TableFile::Read(table) => self.flows(table, &context),
            TableFile::Absent | TableFile::Unreadable => Vec::new(),
        };
        // docs/model.md B3: conversion processes, their impacts, and their inputs
        // and outputs appended to the flows.
        let (mut processes, process_ids) = self.processes(&tables.processes, &firm_ids);
        for (process, place, category, amount) in process_impacts {
            let found = process_ids.resolve(&process, self.errors, || {
                place
                    .error(
                        "subject",
                        format!("subject \"process:{process}\" names no known process"),
                    )
                    .with_hint("add the process to processes.csv in the inventory folder, or fix the spelling")
            });
            if let Some(found) = found {
                add_scaled(&mut processes[found.index()].0.impacts, &[(category, amount)], 1.0);
            }
        }
        if let TableFile::Read(table) = &tables.process_io {
            self.process_io(table, &context, &process_ids, &mut processes, &mut flows);
        }
        for (process, place) in &processes {
            if process.ports.is_empty() {
                self.warnings.push(InputWarning {
                    file: place.place.file.clone(),
                    line: Some(place.place.line),
                    message: format!(
                        "process {:?} has no input or output in process_io.csv: it can do nothing",
                        process.id
                    ),
                });
            }
        }
        let processes: Vec<Process> = processes.into_iter().map(|(process, _)| process).collect();
        let distance_overrides = match &tables.distances {
            TableFile::Read(table) => self.distances(table, &firm_ids),
            TableFile::Absent | TableFile::Unreadable => HashMap::new(),
        };
        if firms.len() > u32::MAX as usize || flows.len() > u32::MAX as usize {
            let file = tables.flows.table().map_or("flows.csv", |table| table.file.as_str());
            self.errors.push(InputError::file(file, "more than 4 billion rows"));
        }

        let mut substitutions_by_supply = vec![Vec::new(); resources.len()];
        for (position, substitution) in substitutions.iter().enumerate() {
            substitutions_by_supply[substitution.supply_resource.index()].push(SubstitutionIdx::from_index(position));
        }
        // A required file that could not be read was reported by the reader.
        let required_files_read = tables.firms.table().is_some() && tables.flows.table().is_some();
        if !self.errors.is_empty() || !required_files_read {
            return None;
        }
        let exchange_allowed = vec![true; firms.len()];
        Some(Inventory {
            exchange_allowed,
            slices,
            slices_given,
            profiles,
            processes,
            firms,
            flows,
            resources,
            routes,
            substitutions,
            categories,
            substitutions_by_supply,
            distance_overrides,
        })
    }

    /// Parses the default and the override table of one catalogue file and
    /// merges them by key: an override row replaces the default row, even
    /// when it has errors (the user meant to replace it).
    fn merged<K: Ord + Clone + Debug + std::hash::Hash, T>(
        &mut self,
        default: &TableFile,
        overrides: &TableFile,
        schema: &Schema,
        key_of: impl Fn(&TableReader, &RawRow) -> Option<K>,
        mut parse: impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<T>,
    ) -> Keyed<K, T> {
        let mut merged = BTreeMap::new();
        let mut complete = true;
        for file in [default, overrides] {
            match file {
                TableFile::Absent => {}
                TableFile::Unreadable => complete = false,
                TableFile::Read(table) => {
                    let parsed = self.parse_keyed(table, schema, &key_of, &mut parse);
                    complete &= parsed.complete;
                    for row in parsed.rows {
                        merged.insert(row.key.clone(), row);
                    }
                }
            }
        }
        Keyed {
            rows: merged.into_values().collect(),
            complete,
        }
    }

    /// Parses each row of a table, in file order, reporting duplicate keys
    /// within the file. `key_of` reads a row's key even when `parse` finds
    /// errors in the row.
    fn parse_keyed<K: Ord + Clone + Debug + std::hash::Hash, T>(
        &mut self,
        table: &RawTable,
        schema: &Schema,
        key_of: &impl Fn(&TableReader, &RawRow) -> Option<K>,
        parse: &mut impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<T>,
    ) -> Keyed<K, T> {
        let Some(reader) = TableReader::new(table, schema, self.errors, self.warnings)
            .map(|reader| reader.with_magnitude_limit(super::table::MAX_MAGNITUDE))
        else {
            return Keyed {
                rows: Vec::new(),
                complete: false,
            };
        };
        let mut first_lines: HashMap<K, usize> = HashMap::new();
        let mut rows = Vec::new();
        for row in &table.rows {
            let record = parse(&reader, row, self.errors);
            let Some(key) = key_of(&reader, row) else {
                continue;
            };
            if let Some(first_line) = first_lines.get(&key) {
                self.errors.push(
                    InputError::at(
                        &table.file,
                        row.line,
                        Some(schema.required[0]),
                        format!("duplicate key {key:?}, first given on line {first_line}"),
                    )
                    .with_hint("ids must be unique within a file: remove or rename one of the rows"),
                );
                continue;
            }
            first_lines.insert(key.clone(), row.line);
            rows.push(KeyedRow {
                key,
                place: Place {
                    file: table.file.clone(),
                    line: row.line,
                },
                record,
            });
        }
        Keyed { rows, complete: true }
    }

    fn firms(&mut self, file: &TableFile) -> Keyed<String, Firm> {
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

    fn flows(&mut self, table: &RawTable, context: &FlowContext) -> Vec<Flow> {
        let mut warnings = Vec::new();
        let keyed = self.parse_keyed(table, &FLOWS_SCHEMA, &key_in("flow_id"), &mut |reader, row, errors| {
            let at = |column: &str, message: String| InputError::at(&table.file, row.line, Some(column), message);
            let id = reader.text(row, "flow_id", errors)?;
            let firm = reader.text(row, "firm_id", errors).and_then(|firm| {
                context.firms.resolve(&firm, errors, || {
                    at("firm_id", format!("unknown firm {firm:?}")).with_hint("the firm must be listed in firms.csv")
                })
            });
            let kind = reader.choice(row, "kind", &[("supply", FlowKind::Supply), ("demand", FlowKind::Demand)], errors);
            let resource = reader.text(row, "resource", errors).and_then(|resource| {
                context.resources.resolve(&resource, errors, || {
                    at("resource", format!("unknown resource {resource:?}")).with_hint("add it to resources.csv in the inventory folder, or use a key of the default catalogue (symbiose catalogue --out DIR lists them)")
                })
            });
            let quantity = reader.number_where(
                row,
                "quantity",
                rules::QUANTITY,
                errors,
            );
            let quality = reader.opt_number(row, "quality", errors);
            // docs/model.md B2: a service supply may leave its fallback empty
            // (idle capacity); every other flow needs one.
            let service_supply = kind
                .zip(resource)
                .is_some_and(|(kind, r)| rules::is_service_supply(kind, context.resource_defs[r.index()].category));
            let fallback = match reader.opt_text(row, "fallback") {
                Some(route) => context
                    .routes
                    .resolve(&route, errors, || {
                        at("fallback", format!("unknown route {route:?}")).with_hint("add it to routes.csv or use a route of the default catalogue")
                    })
                    .map(Some),
                None if service_supply => Some(None),
                None => {
                    errors.push(at("fallback", "empty value".to_string()).with_hint("this column is required"));
                    None
                }
            };
            let profile = match reader.opt_text(row, "profile") {
                Some(profile) => Some(context.profiles.resolve(&profile, errors, || {
                    at("profile", format!("unknown profile {profile:?}")).with_hint("add it to profiles.csv in the inventory folder, or leave the cell empty for a flow spread evenly over the hours of the year")
                })?),
                None => None,
            };
            let (firm, kind, resource, quantity, fallback, quality) = (firm?, kind?, resource?, quantity?, fallback?, quality.ok()?);
            let resource_def = &context.resource_defs[resource.index()];
            let fallback_terms = match fallback {
                Some(route) => Some(fallback_terms(&context.route_defs[route.index()], resource_def, kind, |column, message| at(column, message)).map_err(|error| errors.push(error)).ok()?),
                None => None,
            };
            let unit = reader.opt_text(row, "unit").unwrap_or_else(|| resource_def.unit.clone());
            let Some(unit_factor) = conversion_factor(&unit, &resource_def.unit) else {
                let hint = super::units::case_hint(&[&unit, &resource_def.unit]).unwrap_or_else(|| "give the quantity in the resource's unit, or one that converts exactly (t/kg, MWh/kWh/GJ, m3/L)".to_string());
                errors.push(
                    at("unit", format!("unit {unit:?} does not convert to {:?}, the unit of resource {:?}", resource_def.unit, resource_def.id))
                        .with_hint(hint),
                );
                return None;
            };
            let (fallback_units_per_unit, fallback_cost_eur, fallback_impacts) = match fallback_terms {
                Some(terms) if service_supply => {
                    if terms.1 != 0.0 || terms.2.iter().any(|(_, amount)| *amount != 0.0) {
                        warnings.push(InputWarning {
                            file: table.file.clone(),
                            line: Some(row.line),
                            message: format!("flow {id:?} is a service supply: its idle capacity is costless (docs/model.md B2), so the cost and impacts of route {:?} are ignored", fallback.and_then(|route| context.route_defs.get(route.index())).map_or("", |route| route.id.as_str())),
                        });
                    }
                    (terms.0, 0.0, Vec::new())
                }
                Some(terms) => terms,
                None => (1.0, 0.0, Vec::new()),
            };
            Some(Flow {
                id,
                firm,
                kind,
                resource,
                quantity: quantity * unit_factor,
                unit,
                unit_factor,
                fallback,
                fallback_units_per_unit,
                fallback_cost_eur,
                fallback_impacts,
                quality,
                profile,
                process: None,
            })
        });
        self.warnings.extend(warnings);
        keyed.rows.into_iter().filter_map(|row| row.record).collect()
    }

    /// slices.csv (docs/model.md B1): the valid slices in file order, whether
    /// the file was given, and every slice id a row names (rows with errors
    /// included; `None` when the file could not be read). Without the file:
    /// one slice `year` of 8760 h.
    fn slices(&mut self, file: &TableFile) -> (Vec<Slice>, bool, Option<HashSet<String>>) {
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
                    super::table::short_number(total_hours)
                ),
            });
        }
        (slices, true, keyed.complete.then_some(named))
    }

    /// profiles.csv (docs/model.md B1): one share per (profile, slice), slices
    /// left out have share 0, the shares of a profile sum to 1.
    fn profiles(
        &mut self,
        file: &TableFile,
        slices: &[Slice],
        slice_names: Option<&HashSet<String>>,
    ) -> (Vec<Profile>, OwnedIds<ProfileIdx>) {
        let mut ids = OwnedIds {
            valid: HashMap::new(),
            named: HashSet::new(),
            complete: true,
        };
        let table = match file {
            TableFile::Absent => return (Vec::new(), ids),
            TableFile::Unreadable => {
                ids.complete = false;
                return (Vec::new(), ids);
            }
            TableFile::Read(table) => table,
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

    /// processes.csv (docs/model.md B3 and B4), sorted by id, each with where its row is.
    fn processes(
        &mut self,
        file: &TableFile,
        firms: &Ids<FirmIdx>,
    ) -> (Vec<(Process, ProcessPlace)>, OwnedIds<ProcessIdx>) {
        let mut ids = OwnedIds {
            valid: HashMap::new(),
            named: HashSet::new(),
            complete: true,
        };
        let table = match file {
            TableFile::Absent => return (Vec::new(), ids),
            TableFile::Unreadable => {
                ids.complete = false;
                return (Vec::new(), ids);
            }
            TableFile::Read(table) => table,
        };
        let keyed = self.parse_keyed(table, &PROCESSES_SCHEMA, &key_in("process_id"), &mut |reader, row, errors| {
            let id = reader.text(row, "process_id", errors);
            let firm = reader.text(row, "firm_id", errors).and_then(|firm| {
                firms.resolve(&firm, errors, || {
                    InputError::at(&table.file, row.line, Some("firm_id"), format!("unknown firm {firm:?}"))
                        .with_hint("the firm that runs the process must be listed in firms.csv")
                })
            });
            let capacity = reader.opt_number(row, "capacity", errors);
            let capacity = match capacity {
                Ok(Some(capacity)) => reader
                    .check(
                        row,
                        "capacity",
                        Some(capacity),
                        Rule {
                            holds: |v| v >= 0.0,
                            message: "capacity must be >= 0",
                            hint: "give the most activity units the process can run in a year, or leave the cell empty for no limit",
                        },
                        errors,
                    )
                    .map(Some),
                Ok(None) => Some(None),
                Err(_) => None,
            };
            let cost = reader.number(row, "cost_eur_per_activity", errors);
            let fixed = match reader.opt_number(row, "fixed_cost_eur_per_year", errors) {
                Ok(Some(fixed)) => reader.check(
                    row,
                    "fixed_cost_eur_per_year",
                    Some(fixed),
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "fixed cost must be >= 0",
                        hint: "give the annual cost of having the process (annualised investment, fixed staff), or leave the cell empty for none",
                    },
                    errors,
                ),
                Ok(None) => Some(0.0),
                Err(_) => None,
            };
            let (id, firm, capacity, cost, fixed) = (id?, firm?, capacity?, cost?, fixed?);
            if fixed > 0.0 && capacity.is_none() {
                errors.push(
                    InputError::at(&table.file, row.line, Some("capacity"), format!("process {id:?} has a fixed cost but no capacity"))
                        .with_hint("a process with a fixed cost is an investment (docs/model.md B4: activity <= capacity * built): give its capacity in activity units per year"),
                );
                return None;
            }
            Some(Process {
                id,
                firm,
                capacity,
                cost_eur_per_activity: cost,
                fixed_cost_eur_per_year: fixed,
                impacts: Vec::new(),
                ports: Vec::new(),
            })
        });
        ids.complete = keyed.complete;
        let mut processes: Vec<(Process, ProcessPlace)> = Vec::new();
        for row in keyed.rows {
            ids.named.insert(row.key.clone());
            if let Some(process) = row.record {
                processes.push((process, ProcessPlace { place: row.place }));
            }
        }
        processes.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        for (position, (process, _)) in processes.iter().enumerate() {
            ids.valid.insert(process.id.clone(), ProcessIdx::from_index(position));
        }
        (processes, ids)
    }

    /// process_io.csv (docs/model.md B3): each row becomes a flow of the
    /// process's firm, an input (a demand with no fallback) or an output (a
    /// supply with a disposal fallback), appended to `flows` in process
    /// order, inputs first, then by resource.
    fn process_io(
        &mut self,
        table: &RawTable,
        context: &FlowContext,
        process_ids: &OwnedIds<ProcessIdx>,
        processes: &mut [(Process, ProcessPlace)],
        flows: &mut Vec<Flow>,
    ) {
        let flow_ids: HashSet<String> = flows.iter().map(|flow| flow.id.clone()).collect();
        let processes_view: &[(Process, ProcessPlace)] = processes;
        let mut capacity_errors: Vec<InputError> = Vec::new();
        let triple_key = |reader: &TableReader, row: &RawRow| {
            Some((
                reader.cell(row, "process_id")?.to_string(),
                reader.cell(row, "resource")?.to_string(),
                reader.cell(row, "direction")?.to_string(),
            ))
        };
        let keyed = self.parse_keyed(table, &PROCESS_IO_SCHEMA, &triple_key, &mut |reader, row, errors| {
            let at = |column: &str, message: String| InputError::at(&table.file, row.line, Some(column), message);
            let process = reader.text(row, "process_id", errors).and_then(|process| {
                process_ids.resolve(&process, errors, || {
                    at("process_id", format!("unknown process {process:?}")).with_hint("the process must be listed in processes.csv")
                })
            });
            let resource = reader.text(row, "resource", errors).and_then(|resource| {
                context.resources.resolve(&resource, errors, || {
                    at("resource", format!("unknown resource {resource:?}")).with_hint("add it to resources.csv in the inventory folder, or use a key of the default catalogue (symbiose catalogue --out DIR lists them)")
                })
            });
            let direction = reader.choice(row, "direction", &[("in", FlowKind::Demand), ("out", FlowKind::Supply)], errors);
            let per_activity = reader.number_where(
                row,
                "per_activity",
                Rule {
                    holds: |v| v > 0.0,
                    message: "per_activity must be > 0",
                    hint: "give the resource units taken or given per activity unit; remove the row if the process does not use the resource",
                },
                errors,
            );
            let quality = reader.opt_number(row, "quality", errors);
            // The fallback depends on the direction and the resource only:
            // it is checked even when the process's own row has errors.
            let (resource, kind) = (resource?, direction?);
            let resource_def = &context.resource_defs[resource.index()];
            let service = resource_def.category == ResourceCategory::Service;
            let fallback = match (kind, reader.opt_text(row, "fallback")) {
                (FlowKind::Demand, Some(route)) => {
                    errors.push(
                        at("fallback", format!("an input of a process has no fallback, found {route:?}"))
                            .with_hint("leave the cell empty: a process takes its inputs from links only, and runs less when they are short (docs/model.md B3)"),
                    );
                    return None;
                }
                (FlowKind::Demand, None) => None,
                (FlowKind::Supply, Some(route)) => Some(context.routes.resolve(&route, errors, || {
                    at("fallback", format!("unknown route {route:?}")).with_hint("add it to routes.csv or use a route of the default catalogue")
                })?),
                (FlowKind::Supply, None) if service => None,
                (FlowKind::Supply, None) => {
                    errors.push(
                        at("fallback", "empty value".to_string())
                            .with_hint("an output of a process needs a disposal route for what no link takes (only a service output may leave it empty)"),
                    );
                    return None;
                }
            };
            let (fallback_units_per_unit, fallback_cost_eur, fallback_impacts) = match fallback {
                Some(route) => {
                    let terms = fallback_terms(&context.route_defs[route.index()], resource_def, kind, |column, message| at(column, message)).map_err(|error| errors.push(error)).ok()?;
                    // The idle capacity of a service output is costless (docs/model.md B2).
                    if service {
                        (terms.0, 0.0, Vec::new())
                    } else {
                        terms
                    }
                }
                None => (1.0, 0.0, Vec::new()),
            };
            let (process, per_activity, quality) = (process?, per_activity?, quality.ok()?);
            let (process_def, process_place) = &processes_view[process.index()];
            let direction_word = if kind == FlowKind::Demand { "in" } else { "out" };
            let id = format!("{}:{direction_word}:{}", process_def.id, resource_def.id);
            if flow_ids.contains(&id) {
                errors.push(
                    at("resource", format!("this row's flow id {id:?} is already a flow_id of flows.csv"))
                        .with_hint("rename the flow in flows.csv: process inputs and outputs are named <process>:<in|out>:<resource>"),
                );
                return None;
            }
            if kind == FlowKind::Supply && resource_def.link_fixed_cost_eur_per_km_year > 0.0 && process_def.capacity.is_none() {
                capacity_errors.push(
                    process_place
                        .place
                        .error("capacity", format!("process {:?} has no capacity, but its output {:?} travels on links with a fixed cost", process_def.id, resource_def.id))
                        .with_hint("give the process a capacity: a link with a fixed cost needs a bound on what it can carry (docs/model.md B4)"),
                );
            }
            let quantity = process_def.capacity.map_or(f64::INFINITY, |capacity| per_activity * capacity);
            Some(Flow {
                id,
                firm: process_def.firm,
                kind,
                resource,
                quantity,
                unit: resource_def.unit.clone(),
                unit_factor: 1.0,
                fallback,
                fallback_units_per_unit,
                fallback_cost_eur,
                fallback_impacts,
                quality,
                profile: None,
                process: Some(ProcessPort { process, per_activity }),
            })
        });
        self.errors.extend(capacity_errors);
        let mut ports: Vec<Flow> = keyed.rows.into_iter().filter_map(|row| row.record).collect();
        ports.sort_by(|a, b| {
            let key = |flow: &Flow| {
                (
                    flow.process.map(|port| port.process),
                    flow.kind == FlowKind::Supply,
                    context.resource_defs[flow.resource.index()].id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        for port in ports {
            let position = FlowIdx::from_index(flows.len());
            if let Some(ProcessPort { process, .. }) = port.process {
                processes[process.index()].0.ports.push(position);
            }
            flows.push(port);
        }
    }

    fn distances(&mut self, table: &RawTable, firms: &Ids<FirmIdx>) -> HashMap<(FirmIdx, FirmIdx), f64> {
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
