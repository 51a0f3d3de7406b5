//! The catalogue: externalities.csv, resources.csv, routes.csv,
//! substitutions.csv and impacts.csv, each the embedded default merged by
//! key with the inventory's override, turned into categories, resources,
//! routes and substitutions with their impacts attached.
//!
//! Invariant: entities are sorted by id, so that indices do not depend on
//! which file a row came from; every resource substitutes for itself
//! (ratio 1, no cost) unless substitutions.csv lists the pair; every impact
//! names a known category and subject (impacts on a process wait for
//! processes.csv).

use std::collections::{BTreeMap, HashMap};

use super::keyed::{key_in, pair_key_in, Ids, Keyed, Place};
use super::schemas::{EXTERNALITIES_SCHEMA, IMPACTS_SCHEMA, RESOURCES_SCHEMA, ROUTES_SCHEMA, SUBSTITUTIONS_SCHEMA};
use super::{Builder, CatalogueTables};
use crate::model::rules;
use crate::model::table::Rule;
use crate::model::*;

/// The five catalogue files as rows by key, defaults merged with overrides.
pub(super) struct KeyedCatalogue {
    categories: Keyed<String, CategoryRecord>,
    resources: Keyed<String, ResourceRecord>,
    routes: Keyed<String, RouteRecord>,
    substitutions: Keyed<(String, String), SubstitutionRecord>,
    impacts: Keyed<(String, String), f64>,
}

/// The catalogue's entities, sorted by id, and the ids that resolve
/// references to them.
pub(super) struct Catalogue<'k> {
    pub(super) categories: Vec<Category>,
    pub(super) resources: Vec<Resource>,
    pub(super) routes: Vec<Route>,
    pub(super) substitutions: Vec<Substitution>,
    pub(super) resource_ids: Ids<'k, ResourceIdx>,
    pub(super) route_ids: Ids<'k, RouteIdx>,
    /// The impacts whose subject is `process:<process_id>`, in row order.
    pub(super) process_impacts: Vec<ProcessImpact>,
}

/// An impact on a process, resolved once processes.csv is read.
pub(super) struct ProcessImpact {
    pub(super) process: String,
    pub(super) place: Place,
    pub(super) category: CategoryIdx,
    pub(super) amount: f64,
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

impl Builder<'_> {
    /// Parses the five catalogue files, each default merged with its override.
    pub(super) fn keyed_catalogue(&mut self, default: &CatalogueTables, overrides: &CatalogueTables) -> KeyedCatalogue {
        KeyedCatalogue {
            categories: self.categories(default, overrides),
            resources: self.resources(default, overrides),
            routes: self.routes(default, overrides),
            substitutions: self.substitution_rows(default, overrides),
            impacts: self.impact_rows(default, overrides),
        }
    }

    /// The catalogue's entities, with the substitutions resolved and the
    /// impacts attached to their subjects.
    pub(super) fn catalogue<'k>(&mut self, keyed: &'k KeyedCatalogue) -> Catalogue<'k> {
        let categories: Vec<Category> = keyed
            .categories
            .valid()
            .map(|(id, _, r)| Category {
                id: id.clone(),
                unit: r.unit.clone(),
                value_eur_per_unit: r.value,
                scope: r.scope,
                tax_eur_per_unit: 0.0,
            })
            .collect();
        let category_ids = keyed.categories.ids(CategoryIdx::from_index);
        let resources: Vec<Resource> = keyed
            .resources
            .valid()
            .map(|(id, _, r)| Resource {
                id: id.clone(),
                category: r.category,
                unit: r.unit.clone(),
                transport_cost_eur_per_unit_km: r.transport_cost,
                max_distance_km: r.max_distance,
                transport_impacts: Vec::new(),
                link_fixed_cost_eur_per_km_year: r.link_fixed_cost,
                subsidy_eur_per_unit: 0.0,
            })
            .collect();
        let resource_ids = keyed.resources.ids(ResourceIdx::from_index);
        let routes: Vec<Route> = keyed
            .routes
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
        let route_ids = keyed.routes.ids(RouteIdx::from_index);
        let (substitutions, pair_index) = self.substitutions(&keyed.substitutions, &resource_ids, resources.len());
        let mut catalogue = Catalogue {
            categories,
            resources,
            routes,
            substitutions,
            resource_ids,
            route_ids,
            process_impacts: Vec::new(),
        };
        self.attach_impacts(keyed, &category_ids, &pair_index, &mut catalogue);
        catalogue
    }

    /// externalities.csv: the categories of harm, their unit and EUR value.
    fn categories(&mut self, default: &CatalogueTables, overrides: &CatalogueTables) -> Keyed<String, CategoryRecord> {
        self.merged(
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
        )
    }

    /// resources.csv: what flows, in which unit, how far and at what cost.
    fn resources(&mut self, default: &CatalogueTables, overrides: &CatalogueTables) -> Keyed<String, ResourceRecord> {
        self.merged(
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
        )
    }

    /// routes.csv: the disposal and sourcing routes flows fall back to.
    fn routes(&mut self, default: &CatalogueTables, overrides: &CatalogueTables) -> Keyed<String, RouteRecord> {
        self.merged(
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
        )
    }

    /// substitutions.csv: which supply resource serves which demand resource.
    fn substitution_rows(
        &mut self,
        default: &CatalogueTables,
        overrides: &CatalogueTables,
    ) -> Keyed<(String, String), SubstitutionRecord> {
        self.merged(
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
        )
    }

    /// impacts.csv: an amount of a category per unit of a subject.
    fn impact_rows(&mut self, default: &CatalogueTables, overrides: &CatalogueTables) -> Keyed<(String, String), f64> {
        self.merged(
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
        )
    }

    /// The listed substitution pairs, then the identity of every resource
    /// not listed, sorted by pair, and the index of each pair.
    fn substitutions(
        &mut self,
        rows: &Keyed<(String, String), SubstitutionRecord>,
        resource_ids: &Ids<ResourceIdx>,
        n_resources: usize,
    ) -> (Vec<Substitution>, HashMap<(ResourceIdx, ResourceIdx), SubstitutionIdx>) {
        let unknown_resource = |place: &Place, column: &str, id: &str| {
            place
                .error(column, format!("unknown resource {id:?}"))
                .with_hint("add it to resources.csv or fix the spelling")
        };
        let mut substitution_by_pair: BTreeMap<(ResourceIdx, ResourceIdx), Substitution> = BTreeMap::new();
        for ((supply, demand), place, record) in rows.valid() {
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
        for position in 0..n_resources {
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
        (substitution_by_pair.into_values().collect(), pair_index)
    }

    /// Attaches each impact to its subject; impacts on a process go to
    /// `catalogue.process_impacts`.
    fn attach_impacts(
        &mut self,
        keyed: &KeyedCatalogue,
        category_ids: &Ids<CategoryIdx>,
        pair_index: &HashMap<(ResourceIdx, ResourceIdx), SubstitutionIdx>,
        catalogue: &mut Catalogue,
    ) {
        for ((subject, category), place, amount) in keyed.impacts.valid() {
            let Some(category_idx) = category_ids.resolve(category, self.errors, || {
                place
                    .error("category", format!("unknown externality category {category:?}"))
                    .with_hint("add it to externalities.csv or fix the spelling")
            }) else {
                continue;
            };
            let entry = [(category_idx, *amount)];
            match subject_target(subject, catalogue, pair_index, &keyed.substitutions) {
                SubjectTarget::Route(r) => add_scaled(&mut catalogue.routes[r.index()].impacts, &entry, 1.0),
                SubjectTarget::Transport(r) => add_scaled(&mut catalogue.resources[r.index()].transport_impacts, &entry, 1.0),
                SubjectTarget::Substitution(s) => add_scaled(&mut catalogue.substitutions[s.index()].impacts, &entry, 1.0),
                SubjectTarget::Process(process) => {
                    catalogue.process_impacts.push(ProcessImpact {
                        process,
                        place: place.clone(),
                        category: category_idx,
                        amount: *amount,
                    });
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
    }
}

/// What an impact subject points at.
fn subject_target(
    subject: &str,
    catalogue: &Catalogue,
    pair_index: &HashMap<(ResourceIdx, ResourceIdx), SubstitutionIdx>,
    substitution_rows: &Keyed<(String, String), SubstitutionRecord>,
) -> SubjectTarget {
    match subject.split_once(':') {
        Some(("route", route)) => match catalogue.route_ids.get(route) {
            Some(r) => SubjectTarget::Route(r),
            None if catalogue.route_ids.names(route) => SubjectTarget::InError,
            None => SubjectTarget::Unknown,
        },
        Some(("transport", resource)) => match catalogue.resource_ids.get(resource) {
            Some(r) => SubjectTarget::Transport(r),
            None if catalogue.resource_ids.names(resource) => SubjectTarget::InError,
            None => SubjectTarget::Unknown,
        },
        Some(("substitution", pair)) => {
            let Some((supply, demand)) = pair.split_once('>') else {
                return SubjectTarget::Unknown;
            };
            let named_pair = (supply.to_string(), demand.to_string());
            match (catalogue.resource_ids.get(supply), catalogue.resource_ids.get(demand)) {
                (Some(s), Some(d)) => match pair_index.get(&(s, d)) {
                    Some(index) => SubjectTarget::Substitution(*index),
                    None if substitution_rows.names(&named_pair) => SubjectTarget::InError,
                    None => SubjectTarget::Unknown,
                },
                (s, d) => {
                    let in_error =
                        |found: Option<ResourceIdx>, id: &str| found.is_some() || catalogue.resource_ids.names(id);
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
}
