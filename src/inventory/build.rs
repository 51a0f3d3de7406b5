//! From raw tables to a validated [`Inventory`]: typed cells, catalogue
//! overrides by key, every reference resolved, units converted. Every
//! problem is collected; the result is either a whole inventory or the full
//! list of errors, sorted by file and line.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::table::{InputError, InputWarning, RawRow, RawTable, Schema, TableReader};
use super::units::conversion_factor;
use super::*;

/// The five catalogue tables; any may be absent.
#[derive(Debug, Clone, Default)]
pub struct CatalogueTables {
    pub resources: Option<RawTable>,
    pub routes: Option<RawTable>,
    pub substitutions: Option<RawTable>,
    pub impacts: Option<RawTable>,
    pub externalities: Option<RawTable>,
}

/// Everything an inventory is read from.
#[derive(Debug, Clone)]
pub struct InventoryTables {
    pub firms: RawTable,
    pub flows: RawTable,
    /// The embedded default catalogue.
    pub default_catalogue: CatalogueTables,
    /// Catalogue files found in the inventory folder: they override default
    /// rows with the same key and add new keys.
    pub catalogue_overrides: CatalogueTables,
    pub distances: Option<RawTable>,
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

/// A parsed record and where it came from.
#[derive(Debug, Clone)]
struct Located<T> {
    file: String,
    line: usize,
    value: T,
}

impl<T> Located<T> {
    fn error(&self, column: &str, message: impl Into<String>) -> InputError {
        InputError::at(&self.file, self.line, Some(column), message)
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
    errors.sort_by_key(InputError::sort_key);
    errors.dedup();
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

impl Builder<'_> {
    fn build(&mut self, tables: &InventoryTables) -> Option<Inventory> {
        let default = &tables.default_catalogue;
        let overrides = &tables.catalogue_overrides;

        let categories_map = self.merged(
            &default.externalities,
            &overrides.externalities,
            &EXTERNALITIES_SCHEMA,
            |reader, row, errors| {
                let key = reader.text(row, "category", errors)?;
                let unit = reader.text(row, "unit", errors);
                let value = reader.number(row, "value_eur_per_unit", errors);
                let value = reader.check(
                    row,
                    "value_eur_per_unit",
                    value,
                    |v| v >= 0.0,
                    "value must be >= 0",
                    errors,
                );
                let scope = reader.choice(
                    row,
                    "scope",
                    &[("global", Scope::Global), ("local", Scope::Local)],
                    errors,
                );
                Some((
                    key,
                    CategoryRecord {
                        unit: unit?,
                        value: value?,
                        scope: scope?,
                    },
                ))
            },
        );
        let resources_map = self.merged(
            &default.resources,
            &overrides.resources,
            &RESOURCES_SCHEMA,
            |reader, row, errors| {
                let key = reader.text(row, "resource", errors)?;
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
                    |v| v >= 0.0,
                    "transport cost must be >= 0",
                    errors,
                );
                let max_distance = reader.opt_number(row, "max_distance_km", errors).ok()?;
                if let Some(max) = max_distance {
                    reader.check(
                        row,
                        "max_distance_km",
                        Some(max),
                        |v| v > 0.0,
                        "max distance must be > 0 (leave it empty for unlimited)",
                        errors,
                    )?;
                }
                Some((
                    key,
                    ResourceRecord {
                        category: category?,
                        unit: unit?,
                        transport_cost: transport_cost?,
                        max_distance,
                    },
                ))
            },
        );
        let routes_map = self.merged(
            &default.routes,
            &overrides.routes,
            &ROUTES_SCHEMA,
            |reader, row, errors| {
                let key = reader.text(row, "route", errors)?;
                let kind = reader.choice(
                    row,
                    "kind",
                    &[("disposal", RouteKind::Disposal), ("sourcing", RouteKind::Sourcing)],
                    errors,
                );
                let unit = reader.text(row, "unit", errors);
                let cost = reader.number(row, "cost_eur_per_unit", errors);
                Some((
                    key,
                    RouteRecord {
                        kind: kind?,
                        unit: unit?,
                        cost: cost?,
                    },
                ))
            },
        );
        let substitutions_map = self.merged(
            &default.substitutions,
            &overrides.substitutions,
            &SUBSTITUTIONS_SCHEMA,
            |reader, row, errors| {
                let supply = reader.text(row, "supply_resource", errors);
                let demand = reader.text(row, "demand_resource", errors);
                let ratio = reader.number(row, "ratio", errors);
                let ratio = reader.check(row, "ratio", ratio, |v| v > 0.0, "ratio must be > 0", errors);
                let cost = reader.number(row, "processing_cost_eur_per_unit", errors);
                let cost = reader.check(
                    row,
                    "processing_cost_eur_per_unit",
                    cost,
                    |v| v >= 0.0,
                    "processing cost must be >= 0",
                    errors,
                );
                Some((
                    (supply?, demand?),
                    SubstitutionRecord {
                        ratio: ratio?,
                        processing_cost: cost?,
                    },
                ))
            },
        );
        let impacts_map = self.merged(
            &default.impacts,
            &overrides.impacts,
            &IMPACTS_SCHEMA,
            |reader, row, errors| {
                let subject = reader.text(row, "subject", errors);
                let category = reader.text(row, "category", errors);
                let amount = reader.number(row, "amount_per_unit", errors);
                Some(((subject?, category?), amount?))
            },
        );

        // Catalogue entities, sorted by id so that indices do not depend on
        // which file a row came from.
        let categories: Vec<Category> = categories_map
            .iter()
            .map(|(id, r)| Category {
                id: id.clone(),
                unit: r.value.unit.clone(),
                value_eur_per_unit: r.value.value,
                scope: r.value.scope,
            })
            .collect();
        let category_index: HashMap<&str, CategoryIdx> = ids_to_index(categories_map.keys(), CategoryIdx::from_index);
        let mut resources: Vec<Resource> = resources_map
            .iter()
            .map(|(id, r)| Resource {
                id: id.clone(),
                category: r.value.category,
                unit: r.value.unit.clone(),
                transport_cost_eur_per_unit_km: r.value.transport_cost,
                max_distance_km: r.value.max_distance,
                transport_impacts: Vec::new(),
            })
            .collect();
        let resource_index: HashMap<&str, ResourceIdx> = ids_to_index(resources_map.keys(), ResourceIdx::from_index);
        let mut routes: Vec<Route> = routes_map
            .iter()
            .map(|(id, r)| Route {
                id: id.clone(),
                kind: r.value.kind,
                unit: r.value.unit.clone(),
                cost_eur_per_unit: r.value.cost,
                impacts: Vec::new(),
                banned: false,
            })
            .collect();
        let route_index: HashMap<&str, RouteIdx> = ids_to_index(routes_map.keys(), RouteIdx::from_index);

        // Substitutions: listed pairs, then the identity of every resource not listed.
        let mut substitution_by_pair: BTreeMap<(ResourceIdx, ResourceIdx), Substitution> = BTreeMap::new();
        for ((supply, demand), record) in &substitutions_map {
            let supply_idx = resource_index.get(supply.as_str()).copied();
            let demand_idx = resource_index.get(demand.as_str()).copied();
            if supply_idx.is_none() {
                self.errors.push(
                    record
                        .error("supply_resource", format!("unknown resource {supply:?}"))
                        .with_hint("add it to resources.csv or fix the spelling"),
                );
            }
            if demand_idx.is_none() {
                self.errors.push(
                    record
                        .error("demand_resource", format!("unknown resource {demand:?}"))
                        .with_hint("add it to resources.csv or fix the spelling"),
                );
            }
            if let (Some(s), Some(d)) = (supply_idx, demand_idx) {
                substitution_by_pair.insert(
                    (s, d),
                    Substitution {
                        supply_resource: s,
                        demand_resource: d,
                        ratio: record.value.ratio,
                        processing_cost_eur_per_unit: record.value.processing_cost,
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
        for ((subject, category), record) in &impacts_map {
            let Some(&category_idx) = category_index.get(category.as_str()) else {
                self.errors.push(
                    record
                        .error("category", format!("unknown externality category {category:?}"))
                        .with_hint("add it to externalities.csv or fix the spelling"),
                );
                continue;
            };
            let amount = record.value;
            let entry = (category_idx, amount);
            let target: Option<&mut ImpactVec> = match subject.split_once(':') {
                Some(("route", route)) => route_index.get(route).map(|r| &mut routes[r.index()].impacts),
                Some(("transport", resource)) => resource_index
                    .get(resource)
                    .map(|r| &mut resources[r.index()].transport_impacts),
                Some(("substitution", pair)) => pair
                    .split_once('>')
                    .and_then(|(a, b)| Some((*resource_index.get(a)?, *resource_index.get(b)?)))
                    .and_then(|pair| pair_index.get(&pair))
                    .map(|s| &mut substitutions[s.index()].impacts),
                _ => {
                    self.errors.push(
                        record
                            .error("subject", format!("subject {subject:?} is not of the form route:<route>, transport:<resource> or substitution:<supply>><demand>"))
                            .with_hint("prefix the subject with route:, transport: or substitution:"),
                    );
                    continue;
                }
            };
            match target {
                Some(vector) => add_scaled(vector, &[entry], 1.0),
                None => self.errors.push(
                    record
                        .error(
                            "subject",
                            format!("subject {subject:?} names no known route, resource or substitution pair"),
                        )
                        .with_hint("the name after the prefix must exist in the catalogue"),
                ),
            }
        }

        let firms = self.firms(&tables.firms);
        let firm_index: HashMap<&str, FirmIdx> = firms
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), FirmIdx::from_index(i)))
            .collect();
        let flows = self.flows(
            &tables.flows,
            &firm_index,
            &resource_index,
            &route_index,
            &resources,
            &routes,
        );
        let distance_overrides = match &tables.distances {
            Some(table) => self.distances(table, &firm_index),
            None => HashMap::new(),
        };
        if firms.len() > u32::MAX as usize || flows.len() > u32::MAX as usize {
            self.errors
                .push(InputError::file(&tables.flows.file, "more than 4 billion rows"));
        }

        let mut substitutions_by_supply = vec![Vec::new(); resources.len()];
        for (position, substitution) in substitutions.iter().enumerate() {
            substitutions_by_supply[substitution.supply_resource.index()].push(SubstitutionIdx::from_index(position));
        }
        if !self.errors.is_empty() {
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
    /// merges them by key: an override row replaces the default row.
    fn merged<K: Ord + Clone + std::fmt::Debug, T>(
        &mut self,
        default: &Option<RawTable>,
        overrides: &Option<RawTable>,
        schema: &Schema,
        mut parse: impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<(K, T)>,
    ) -> BTreeMap<K, Located<T>> {
        let mut merged = BTreeMap::new();
        for table in [default, overrides].into_iter().flatten() {
            for (key, record) in self.parse_keyed(table, schema, &mut parse) {
                merged.insert(key, record);
            }
        }
        merged
    }

    /// Parses each row of a table, reporting duplicate keys within the file.
    fn parse_keyed<K: Ord + Clone + std::fmt::Debug, T>(
        &mut self,
        table: &RawTable,
        schema: &Schema,
        parse: &mut impl FnMut(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<(K, T)>,
    ) -> Vec<(K, Located<T>)> {
        let Some(reader) = TableReader::new(table, schema, self.errors, self.warnings) else {
            return Vec::new();
        };
        let mut seen: BTreeMap<K, usize> = BTreeMap::new();
        let mut records = Vec::new();
        for row in &table.rows {
            let Some((key, value)) = parse(&reader, row, self.errors) else {
                continue;
            };
            if let Some(first_line) = seen.get(&key) {
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
            seen.insert(key.clone(), row.line);
            records.push((
                key,
                Located {
                    file: table.file.clone(),
                    line: row.line,
                    value,
                },
            ));
        }
        records
    }

    fn firms(&mut self, table: &RawTable) -> Vec<Firm> {
        let records = self.parse_keyed(table, &FIRMS_SCHEMA, &mut |reader, row, errors| {
            let id = reader.text(row, "firm_id", errors)?;
            let name = reader.text(row, "name", errors);
            let lat = reader.number(row, "lat", errors);
            let lat = reader.check(
                row,
                "lat",
                lat,
                |v| (-90.0..=90.0).contains(&v),
                "latitude must be within [-90, 90]",
                errors,
            );
            let lon = reader.number(row, "lon", errors);
            let lon = reader.check(
                row,
                "lon",
                lon,
                |v| (-180.0..=180.0).contains(&v),
                "longitude must be within [-180, 180]",
                errors,
            );
            Some((
                id.clone(),
                Firm {
                    id,
                    name: name?,
                    lat: lat?,
                    lon: lon?,
                    sector: reader.opt_text(row, "sector"),
                    zone: reader.opt_text(row, "zone"),
                },
            ))
        });
        records.into_iter().map(|(_, record)| record.value).collect()
    }

    fn flows(
        &mut self,
        table: &RawTable,
        firm_index: &HashMap<&str, FirmIdx>,
        resource_index: &HashMap<&str, ResourceIdx>,
        route_index: &HashMap<&str, RouteIdx>,
        resources: &[Resource],
        routes: &[Route],
    ) -> Vec<Flow> {
        let records = self.parse_keyed(table, &FLOWS_SCHEMA, &mut |reader, row, errors| {
            let at = |column: &str, message: String| InputError::at(&table.file, row.line, Some(column), message);
            let id = reader.text(row, "flow_id", errors)?;
            let firm = reader.text(row, "firm_id", errors).and_then(|firm| match firm_index.get(firm.as_str()) {
                Some(idx) => Some(*idx),
                None => {
                    errors.push(at("firm_id", format!("unknown firm {firm:?}")).with_hint("the firm must be listed in firms.csv"));
                    None
                }
            });
            let kind = reader.choice(row, "kind", &[("supply", FlowKind::Supply), ("demand", FlowKind::Demand)], errors);
            let resource = reader.text(row, "resource", errors).and_then(|resource| match resource_index.get(resource.as_str()) {
                Some(idx) => Some(*idx),
                None => {
                    errors.push(at("resource", format!("unknown resource {resource:?}")).with_hint("add it to resources.csv in the inventory folder, or use a key of the default catalogue (symbiose catalogue --out DIR lists them)"));
                    None
                }
            });
            let quantity = reader.number(row, "quantity", errors);
            let quantity = reader.check(row, "quantity", quantity, |v| v >= 0.0, "quantity must be >= 0", errors);
            let quality = reader.opt_number(row, "quality", errors);
            let fallback = reader.text(row, "fallback", errors).and_then(|route| match route_index.get(route.as_str()) {
                Some(idx) => Some(*idx),
                None => {
                    errors.push(at("fallback", format!("unknown route {route:?}")).with_hint("add it to routes.csv or use a route of the default catalogue"));
                    None
                }
            });
            let (firm, kind, resource, quantity, fallback, quality) = (firm?, kind?, resource?, quantity?, fallback?, quality.ok()?);
            let resource_def = &resources[resource.index()];
            let route = &routes[fallback.index()];
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
            Some((
                id.clone(),
                Flow {
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
                },
            ))
        });
        records.into_iter().map(|(_, record)| record.value).collect()
    }

    fn distances(&mut self, table: &RawTable, firm_index: &HashMap<&str, FirmIdx>) -> HashMap<(FirmIdx, FirmIdx), f64> {
        let records = self.parse_keyed(table, &DISTANCES_SCHEMA, &mut |reader, row, errors| {
            let mut resolve = |column: &str| {
                let id = reader.text(row, column, errors)?;
                match firm_index.get(id.as_str()) {
                    Some(idx) => Some(*idx),
                    None => {
                        errors.push(
                            InputError::at(&table.file, row.line, Some(column), format!("unknown firm {id:?}"))
                                .with_hint("the firm must be listed in firms.csv"),
                        );
                        None
                    }
                }
            };
            let from = resolve("from_firm");
            let to = resolve("to_firm");
            let distance = reader.number(row, "distance_km", errors);
            let distance = reader.check(
                row,
                "distance_km",
                distance,
                |v| v >= 0.0,
                "distance must be >= 0",
                errors,
            );
            Some(((from?, to?), distance?))
        });
        let explicit: HashSet<(FirmIdx, FirmIdx)> = records.iter().map(|(key, _)| *key).collect();
        let mut overrides = HashMap::new();
        for ((from, to), record) in records {
            overrides.insert((from, to), record.value);
            if !explicit.contains(&(to, from)) {
                overrides.insert((to, from), record.value);
            }
        }
        overrides
    }
}

fn ids_to_index<'a, I: Copy>(ids: impl Iterator<Item = &'a String>, make: impl Fn(usize) -> I) -> HashMap<&'a str, I> {
    ids.enumerate()
        .map(|(position, id)| (id.as_str(), make(position)))
        .collect()
}
