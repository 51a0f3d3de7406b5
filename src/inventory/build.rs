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
#[derive(Debug, Clone)]
pub struct InventoryTables {
    pub firms: TableFile,
    pub flows: TableFile,
    /// The embedded default catalogue.
    pub default_catalogue: CatalogueTables,
    /// Catalogue files found in the inventory folder: they override default
    /// rows with the same key and add new keys.
    pub catalogue_overrides: CatalogueTables,
    pub distances: TableFile,
}

impl InventoryTables {
    /// Every table that was read, e.g. to order errors by header position.
    pub fn read_tables(&self) -> Vec<&RawTable> {
        [&self.firms, &self.flows, &self.distances]
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
    optional: &["quality", "unit"],
};
pub const RESOURCES_SCHEMA: Schema = Schema {
    required: &[
        "resource",
        "category",
        "unit",
        "transport_cost_eur_per_unit_km",
        "max_distance_km",
    ],
    optional: &["ewc_code"],
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
                let value = reader.number(row, "value_eur_per_unit", errors);
                let value = reader.check(
                    row,
                    "value_eur_per_unit",
                    value,
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "value must be >= 0",
                        hint: "give the EUR value of one unit of harm; a credit is a negative amount_per_unit in impacts.csv",
                    },
                    errors,
                );
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
                let transport_cost = reader.number(row, "transport_cost_eur_per_unit_km", errors);
                let transport_cost = reader.check(
                    row,
                    "transport_cost_eur_per_unit_km",
                    transport_cost,
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "transport cost must be >= 0",
                        hint: "give the EUR cost of moving one unit over one km, 0 if negligible",
                    },
                    errors,
                );
                let max_distance = reader.opt_number(row, "max_distance_km", errors).ok()?;
                if let Some(max) = max_distance {
                    reader.check(
                        row,
                        "max_distance_km",
                        Some(max),
                        Rule {
                            holds: |v| v > 0.0,
                            message: "max distance must be > 0",
                            hint: "leave the cell empty for an unlimited distance",
                        },
                        errors,
                    )?;
                }
                Some(ResourceRecord {
                    category: category?,
                    unit: unit?,
                    transport_cost: transport_cost?,
                    max_distance,
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
                let ratio = reader.number(row, "ratio", errors);
                let ratio = reader.check(
                    row,
                    "ratio",
                    ratio,
                    Rule {
                        holds: |v| v > 0.0,
                        message: "ratio must be > 0",
                        hint: "the ratio is the demand units served per supply unit: remove the row if the pair does not substitute",
                    },
                    errors,
                );
                let cost = reader.number(row, "processing_cost_eur_per_unit", errors);
                let cost = reader.check(
                    row,
                    "processing_cost_eur_per_unit",
                    cost,
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
                _ => SubjectTarget::Malformed,
            }
        };
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
                        .error("subject", format!("subject {subject:?} is not of the form route:<route>, transport:<resource> or substitution:<supply>><demand>"))
                        .with_hint("prefix the subject with route:, transport: or substitution:"),
                ),
            }
        }

        let firms_keyed = self.firms(&tables.firms);
        let firms: Vec<Firm> = firms_keyed.valid().map(|(_, _, firm)| firm.clone()).collect();
        let firm_ids = firms_keyed.ids(FirmIdx::from_index);
        let flows = match &tables.flows {
            TableFile::Read(table) => self.flows(
                table,
                &FlowContext {
                    firms: &firm_ids,
                    resources: &resource_ids,
                    routes: &route_ids,
                    resource_defs: &resources,
                    route_defs: &routes,
                },
            ),
            TableFile::Absent | TableFile::Unreadable => Vec::new(),
        };
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
            let quantity = reader.number(row, "quantity", errors);
            let quantity = reader.check(
                row,
                "quantity",
                quantity,
                Rule {
                    holds: |v| v >= 0.0,
                    message: "quantity must be >= 0",
                    hint: "give the amount per year as a number >= 0; the kind column says whether it is a supply or a demand",
                },
                errors,
            );
            let quality = reader.opt_number(row, "quality", errors);
            let fallback = reader.text(row, "fallback", errors).and_then(|route| {
                context.routes.resolve(&route, errors, || {
                    at("fallback", format!("unknown route {route:?}")).with_hint("add it to routes.csv or use a route of the default catalogue")
                })
            });
            let (firm, kind, resource, quantity, fallback, quality) = (firm?, kind?, resource?, quantity?, fallback?, quality.ok()?);
            let resource_def = &context.resource_defs[resource.index()];
            let route = &context.route_defs[fallback.index()];
            let wanted = match kind {
                FlowKind::Supply => RouteKind::Disposal,
                FlowKind::Demand => RouteKind::Sourcing,
            };
            if route.kind != wanted {
                errors.push(
                    at("fallback", format!("route {:?} is a {} route, but a {} needs a {} route", route.id, route.kind.as_str(), kind.as_str(), wanted.as_str()))
                        .with_hint("a supply falls back to disposal (landfill, flaring...), a demand to sourcing (virgin material, grid...)"),
                );
                return None;
            }
            // Route costs and impacts are per route unit: convert to the resource's unit.
            let Some(route_units_per_resource_unit) = conversion_factor(&resource_def.unit, &route.unit) else {
                errors.push(
                    at("fallback", format!("route {:?} is priced per {} but resource {:?} is in {}", route.id, route.unit, resource_def.id, resource_def.unit))
                        .with_hint("use a route in the resource's unit (or one that converts exactly: t/kg, MWh/kWh/GJ, m3/L)"),
                );
                return None;
            };
            let unit = reader.opt_text(row, "unit").unwrap_or_else(|| resource_def.unit.clone());
            let Some(unit_factor) = conversion_factor(&unit, &resource_def.unit) else {
                errors.push(
                    at("unit", format!("unit {unit:?} does not convert to {:?}, the unit of resource {:?}", resource_def.unit, resource_def.id))
                        .with_hint("give the quantity in the resource's unit, or one that converts exactly (t/kg, MWh/kWh/GJ, m3/L)"),
                );
                return None;
            };
            let mut fallback_impacts = Vec::new();
            add_scaled(&mut fallback_impacts, &route.impacts, route_units_per_resource_unit);
            Some(Flow {
                id,
                firm,
                kind,
                resource,
                quantity: quantity * unit_factor,
                unit,
                unit_factor,
                fallback,
                fallback_units_per_unit: route_units_per_resource_unit,
                fallback_cost_eur: route.cost_eur_per_unit * route_units_per_resource_unit,
                fallback_impacts,
                quality,
            })
        });
        keyed.rows.into_iter().filter_map(|row| row.record).collect()
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
                let distance = reader.number(row, "distance_km", errors);
                let distance = reader.check(
                    row,
                    "distance_km",
                    distance,
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
