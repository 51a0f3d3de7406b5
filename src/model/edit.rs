//! Edits: the one way to derive a changed [`Inventory`] from a validated
//! one (scenario overrides, a firm's exit, a banned route, the outsiders
//! of a coalition game).
//!
//! Owns: [`Edit`], [`ImpactSubject`], [`Inventory::edited`] and
//! [`Inventory::check_edit`].
//! Code outside `model` cannot assign a field of an inventory: it lists
//! edits and gets a new inventory back.
//!
//! Invariant: an edited inventory is as valid as a loaded one. Every value
//! is checked by the loader's own rules (`rules`: the same predicates and
//! the same magnitude bound as an input cell) before it changes anything,
//! and what depends on a changed value (the fallback cost of the flows on
//! a route, their fallback impacts when a route's impact changes) is
//! derived again as the loader derives it. A link's unit impacts are not
//! stored anywhere (`candidates::Link::unit_impacts` derives them from the
//! inventory it is given), so an impact edit leaves the links valid.

use super::rules::{self, check_magnitude};
use super::table::MAX_MAGNITUDE;
use super::{add_scaled, ImpactVec};
use super::{CategoryIdx, FirmIdx, FlowIdx, Inventory, ProcessIdx, ResourceIdx, RouteIdx, SubstitutionIdx};

/// One change to an inventory. Indices are those of the inventory edited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// The money value of one unit of an externality category (>= 0).
    Externality { category: CategoryIdx, eur_per_unit: f64 },
    /// A route's private cost per route unit; the fallback cost of every
    /// flow falling back on it follows (a service supply's stays 0).
    RouteCost { route: RouteIdx, eur_per_unit: f64 },
    /// A resource's transport cost per unit and km (>= 0).
    TransportCost {
        resource: ResourceIdx,
        eur_per_unit_km: f64,
    },
    /// A resource's longest link in km (> 0; `f64::INFINITY`: unlimited).
    MaxDistance { resource: ResourceIdx, km: f64 },
    /// A flow's annual quantity, in the flow's own unit as flows.csv gives
    /// it (>= 0); not for the input or output of a process.
    FlowQuantity { flow: FlowIdx, quantity: f64 },
    /// A flow's annual quantity multiplied by `factor` (>= 0); not for the
    /// input or output of a process.
    FlowFactor { flow: FlowIdx, factor: f64 },
    /// One impact factor of impacts.csv (docs/model.md A1): the amount of
    /// `category` per unit of `subject` (finite; positive is harm, negative
    /// a credit). Set when the subject has one for the category, added
    /// otherwise.
    Impact {
        subject: ImpactSubject,
        category: CategoryIdx,
        amount_per_unit: f64,
    },
    /// The instrument `tax.<category>` (docs/model.md C1): EUR per unit of
    /// the category's impact charged to the firms that cause it (>= 0). The
    /// fallback cost of every flow follows (its route cost plus the taxes
    /// on its fallback impacts); links and processes read it when priced.
    Tax { category: CategoryIdx, eur_per_unit: f64 },
    /// The instrument `subsidy.<resource>` (docs/model.md C1): EUR paid to
    /// the firms per supply unit of the resource sent on a link (>= 0).
    Subsidy { resource: ResourceIdx, eur_per_unit: f64 },
    /// The firm leaves the territory: its flows drop to zero, so it takes
    /// part in no link and weighs nothing in the baseline.
    RemoveFirm(FirmIdx),
    /// Flows may no longer fall back on the route.
    BanRoute(RouteIdx),
    /// The firm keeps its flows but may take part in no link (the
    /// outsiders of a coalition game).
    ForbidExchange(FirmIdx),
}

/// What an impact factor is per unit of: impacts.csv's `subject`
/// (`route:<route>`, `transport:<resource>`,
/// `substitution:<supply>><demand>`, `process:<process_id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImpactSubject {
    /// Per route unit of flow sent to the route (a fallback).
    Route(RouteIdx),
    /// Per unit of the resource moved one km.
    Transport(ResourceIdx),
    /// Per supply unit processed through the pair.
    Substitution(SubstitutionIdx),
    /// Per activity unit of the process (docs/model.md B3).
    Process(ProcessIdx),
}

/// Why a list of edits was refused: the first edit refused, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EditError {
    /// Position of the refused edit in the list given.
    pub position: usize,
    /// What is wrong, a lowercase phrase naming the value.
    pub message: String,
}

impl Edit {
    /// The number the edit sets, for the edits that set one.
    fn value(&self) -> Option<f64> {
        match *self {
            Edit::Externality { eur_per_unit, .. }
            | Edit::RouteCost { eur_per_unit, .. }
            | Edit::Tax { eur_per_unit, .. }
            | Edit::Subsidy { eur_per_unit, .. } => Some(eur_per_unit),
            Edit::TransportCost { eur_per_unit_km, .. } => Some(eur_per_unit_km),
            Edit::MaxDistance { km, .. } => Some(km),
            Edit::FlowQuantity { quantity, .. } => Some(quantity),
            Edit::FlowFactor { factor, .. } => Some(factor),
            Edit::Impact { amount_per_unit, .. } => Some(amount_per_unit),
            Edit::RemoveFirm(_) | Edit::BanRoute(_) | Edit::ForbidExchange(_) => None,
        }
    }
}

/// Accepts a finite `value` that holds `rule` (one of the rules asking
/// `>= 0`), else refuses it, naming `what`.
fn finite_non_negative(value: f64, rule: &rules::NumberRule, what: &str) -> Result<(), String> {
    if value.is_finite() && (rule.holds)(value) {
        Ok(())
    } else {
        Err(format!("{what} must be a finite number >= 0, got {value}"))
    }
}

impl Inventory {
    /// This inventory with `edits` applied in order (a later edit sees the
    /// earlier ones: a factor scales a quantity set before it). All or
    /// nothing: the first edit refused is returned with its position.
    /// [`Edit::RemoveFirm`], [`Edit::BanRoute`] and [`Edit::ForbidExchange`]
    /// are never refused.
    pub fn edited(&self, edits: &[Edit]) -> Result<Inventory, EditError> {
        let mut inventory = self.clone();
        for (position, edit) in edits.iter().enumerate() {
            inventory
                .check_edit(edit)
                .map_err(|message| EditError { position, message })?;
            inventory.apply_checked(edit);
        }
        Ok(inventory)
    }

    /// Whether [`Inventory::edited`] would accept `edit` on this inventory,
    /// and if not, why; nothing is changed.
    pub fn check_edit(&self, edit: &Edit) -> Result<(), String> {
        if let Some(value) = edit.value() {
            check_magnitude(value)?;
        }
        match *edit {
            Edit::Externality { eur_per_unit, .. } => {
                finite_non_negative(eur_per_unit, &rules::EXTERNALITY_VALUE, "an externality value")
            }
            Edit::Tax { eur_per_unit, .. } => finite_non_negative(eur_per_unit, &rules::TAX, "a tax"),
            Edit::Subsidy { eur_per_unit, .. } => finite_non_negative(eur_per_unit, &rules::SUBSIDY, "a subsidy"),
            Edit::Impact { amount_per_unit, .. } if !amount_per_unit.is_finite() => {
                Err(format!("an impact factor must be finite, got {amount_per_unit}"))
            }
            Edit::RouteCost { eur_per_unit, .. } if !eur_per_unit.is_finite() => {
                Err(format!("a route cost must be finite, got {eur_per_unit}"))
            }
            Edit::TransportCost { eur_per_unit_km, .. } => {
                finite_non_negative(eur_per_unit_km, &rules::TRANSPORT_COST, "a transport cost")
            }
            Edit::MaxDistance { km, .. } if !(rules::MAX_DISTANCE.holds)(km) => {
                Err(format!("a max distance must be > 0 (inf for unlimited), got {km}"))
            }
            Edit::FlowQuantity { flow, .. } | Edit::FlowFactor { flow, .. } if self.flow(flow).is_process_port() => {
                Err(format!(
                    "flow {:?} is an input or output of a process: its quantity follows the process's activity",
                    self.flow(flow).id
                ))
            }
            Edit::FlowQuantity { quantity, .. } => finite_non_negative(quantity, &rules::QUANTITY, "a flow quantity"),
            Edit::FlowFactor { flow, factor } => {
                // A factor keeps a quantity a quantity (>= 0) when it is one itself.
                finite_non_negative(factor, &rules::QUANTITY, "a flow factor")?;
                let flow = self.flow(flow);
                let quantity = flow.quantity * factor;
                if quantity / flow.unit_factor > MAX_MAGNITUDE {
                    return Err(format!(
                        "flow {} would reach {quantity}: quantities may not exceed 1e15 in magnitude",
                        flow.id
                    ));
                }
                Ok(())
            }
            Edit::RouteCost { .. }
            | Edit::Impact { .. }
            | Edit::MaxDistance { .. }
            | Edit::RemoveFirm(_)
            | Edit::BanRoute(_)
            | Edit::ForbidExchange(_) => Ok(()),
        }
    }

    /// Applies an edit [`Inventory::check_edit`] accepted.
    fn apply_checked(&mut self, edit: &Edit) {
        match *edit {
            Edit::Externality { category, eur_per_unit } => {
                self.categories[category.index()].value_eur_per_unit = eur_per_unit;
            }
            Edit::RouteCost { route, eur_per_unit } => {
                self.routes[route.index()].cost_eur_per_unit = eur_per_unit;
                self.derive_fallback_costs(Some(route));
            }
            Edit::Tax { category, eur_per_unit } => {
                self.categories[category.index()].tax_eur_per_unit = eur_per_unit;
                self.derive_fallback_costs(None);
            }
            Edit::Subsidy { resource, eur_per_unit } => {
                self.resources[resource.index()].subsidy_eur_per_unit = eur_per_unit;
            }
            Edit::TransportCost {
                resource,
                eur_per_unit_km,
            } => {
                self.resources[resource.index()].transport_cost_eur_per_unit_km = eur_per_unit_km;
            }
            Edit::MaxDistance { resource, km } => {
                self.resources[resource.index()].max_distance_km = km.is_finite().then_some(km);
            }
            Edit::FlowQuantity { flow, quantity } => {
                let flow = &mut self.flows[flow.index()];
                flow.quantity = quantity * flow.unit_factor;
            }
            Edit::FlowFactor { flow, factor } => {
                self.flows[flow.index()].quantity *= factor;
            }
            Edit::Impact {
                subject,
                category,
                amount_per_unit,
            } => {
                let impacts = match subject {
                    ImpactSubject::Route(route) => &mut self.routes[route.index()].impacts,
                    ImpactSubject::Transport(resource) => &mut self.resources[resource.index()].transport_impacts,
                    ImpactSubject::Substitution(pair) => &mut self.substitutions[pair.index()].impacts,
                    ImpactSubject::Process(process) => &mut self.processes[process.index()].impacts,
                };
                set_impact(impacts, category, amount_per_unit);
                if let ImpactSubject::Route(route) = subject {
                    // The fallback impacts of the flows on the route, as the
                    // loader derives them (model::build::flows::fallback_terms):
                    // the route's impacts per route unit, scaled to the
                    // resource unit; none for a service supply (docs/model.md B2).
                    let (route_impacts, resources) = (&self.routes[route.index()].impacts, &self.resources);
                    for flow in self.flows.iter_mut().filter(|flow| flow.fallback == Some(route)) {
                        if !rules::is_service_supply(flow.kind, resources[flow.resource.index()].category) {
                            let mut impacts = Vec::new();
                            add_scaled(&mut impacts, route_impacts, flow.fallback_units_per_unit);
                            flow.fallback_impacts = impacts;
                        }
                    }
                    // With a tax set, the fallback costs depend on the impacts too.
                    self.derive_fallback_costs(Some(route));
                }
            }
            Edit::RemoveFirm(firm) => {
                for flow in self.flows.iter_mut().filter(|flow| flow.firm == firm) {
                    flow.quantity = 0.0;
                }
            }
            Edit::BanRoute(route) => self.routes[route.index()].banned = true,
            Edit::ForbidExchange(firm) => self.exchange_allowed[firm.index()] = false,
        }
    }
}

impl Inventory {
    /// The fallback cost of every flow on `route` (every flow with a
    /// fallback when `None`), derived as the loader derives it
    /// (model::build::flows::fallback_terms: the route's cost per route
    /// unit scaled to the resource unit), plus the taxes on the flow's
    /// fallback impacts (docs/model.md C1), added only when some category
    /// of them is taxed, so that without a tax the bits are the loader's.
    /// A service supply's idle capacity stays costless (docs/model.md B2).
    fn derive_fallback_costs(&mut self, route: Option<RouteIdx>) {
        let mut flows = std::mem::take(&mut self.flows);
        for flow in flows.iter_mut() {
            let Some(fallback) = flow.fallback else { continue };
            if route.is_some_and(|route| route != fallback)
                || rules::is_service_supply(flow.kind, self.resource(flow.resource).category)
            {
                continue;
            }
            let route_cost = self.route(fallback).cost_eur_per_unit * flow.fallback_units_per_unit;
            flow.fallback_cost_eur = self.with_taxes(route_cost, &flow.fallback_impacts);
        }
        self.flows = flows;
    }
}

/// Sets the amount of `category` in a sorted impact vector, inserting it
/// in its place when absent.
fn set_impact(impacts: &mut ImpactVec, category: CategoryIdx, amount: f64) {
    match impacts.binary_search_by_key(&category, |(c, _)| *c) {
        Ok(position) => impacts[position].1 = amount,
        Err(position) => impacts.insert(position, (category, amount)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{load_inventory, InventorySource};

    fn load(dir: &std::path::Path) -> Inventory {
        load_inventory(&InventorySource::Folder(dir.to_path_buf()))
            .unwrap()
            .inventory
    }

    fn fixture(name: &str) -> Inventory {
        load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(name),
        )
    }

    #[test]
    fn edits_refuse_bad_values_and_name_the_first_refused() {
        let base = fixture("split_by_distance");
        let (harm, s1) = (base.category_index("harm").unwrap(), base.flow_index("s1").unwrap());
        let heat = base.flow(s1).resource;
        for (edit, message) in [
            (
                Edit::Externality {
                    category: harm,
                    eur_per_unit: -1.0,
                },
                "an externality value must be a finite number >= 0, got -1",
            ),
            (
                Edit::TransportCost {
                    resource: heat,
                    eur_per_unit_km: f64::NAN,
                },
                "a transport cost must be a finite number >= 0, got NaN",
            ),
            (
                Edit::MaxDistance {
                    resource: heat,
                    km: 0.0,
                },
                "a max distance must be > 0 (inf for unlimited), got 0",
            ),
            (
                Edit::FlowQuantity {
                    flow: s1,
                    quantity: -2.0,
                },
                "a flow quantity must be a finite number >= 0, got -2",
            ),
            (
                Edit::RouteCost {
                    route: base.flow(s1).fallback.unwrap(),
                    eur_per_unit: 2e15,
                },
                "2000000000000000 is too large: numbers may not exceed 1e15 in magnitude",
            ),
        ] {
            let allowed = Edit::Externality {
                category: harm,
                eur_per_unit: 20.0,
            };
            let error = base.edited(&[allowed, edit]).unwrap_err();
            assert_eq!(
                error,
                EditError {
                    position: 1,
                    message: message.to_string()
                },
                "{edit:?}"
            );
            assert_eq!(base.check_edit(&edit), Err(message.to_string()));
        }
    }

    #[test]
    fn a_factor_scales_the_quantity_set_before_it_and_an_unlimited_distance_is_none() {
        let base = fixture("split_by_distance");
        let s1 = base.flow_index("s1").unwrap();
        let heat = base.flow(s1).resource;
        let edited = base
            .edited(&[
                Edit::FlowQuantity {
                    flow: s1,
                    quantity: 10.0,
                },
                Edit::FlowFactor { flow: s1, factor: 2.5 },
                Edit::MaxDistance {
                    resource: heat,
                    km: f64::INFINITY,
                },
            ])
            .unwrap();
        assert_eq!(edited.flow(s1).quantity, 25.0);
        assert_eq!(edited.resource(heat).max_distance_km, None);
        assert_eq!(base.flow(s1).quantity, 100.0, "the base is left as it was");
    }

    #[test]
    fn a_route_cost_reaches_its_flows_but_not_a_service_supply_idle_capacity() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("firms.csv", "firm_id,name,lat,lon\na,A,50.0,3.0\nb,B,50.001,3.0\n"),
            (
                "resources.csv",
                "resource,category,unit,transport_cost_eur_per_unit_km,max_distance_km\nparking,service,space_h,0,\n",
            ),
            (
                "routes.csv",
                "route,kind,unit,cost_eur_per_unit\nidle,disposal,space_h,3\nown,sourcing,space_h,0.5\n",
            ),
            (
                "flows.csv",
                "flow_id,firm_id,kind,resource,quantity,fallback\nspaces,a,supply,parking,100,idle\nneed,b,demand,parking,50,own\n",
            ),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let base = load(dir.path());
        let route = |id: &str| RouteIdx::from_index(base.routes().iter().position(|r| r.id == id).unwrap());
        let edited = base
            .edited(&[
                Edit::RouteCost {
                    route: route("idle"),
                    eur_per_unit: 7.0,
                },
                Edit::RouteCost {
                    route: route("own"),
                    eur_per_unit: 0.8,
                },
            ])
            .unwrap();
        assert_eq!(edited.flow(base.flow_index("spaces").unwrap()).fallback_cost_eur, 0.0);
        assert_eq!(edited.flow(base.flow_index("need").unwrap()).fallback_cost_eur, 0.8);
        assert_eq!(edited.route(route("idle")).cost_eur_per_unit, 7.0);
    }

    #[test]
    fn a_tax_reaches_the_fallback_costs_whatever_the_order_of_edits() {
        // dump_dirty: 5 EUR/MWh and 2 harm/MWh (tests/data/schemes_two_suppliers).
        let base = fixture("schemes_two_suppliers");
        let harm = base.category_index("harm").unwrap();
        let h2 = base.flow_index("h2").unwrap();
        let dirty = base.flow(h2).fallback.unwrap();
        let tax = Edit::Tax {
            category: harm,
            eur_per_unit: 4.0,
        };
        let cost = Edit::RouteCost {
            route: dirty,
            eur_per_unit: 6.0,
        };
        let impact = Edit::Impact {
            subject: ImpactSubject::Route(dirty),
            category: harm,
            amount_per_unit: 3.0,
        };
        // 6 + 4 x 3 = 18, in every order.
        let orders = [
            [tax, cost, impact],
            [cost, tax, impact],
            [impact, cost, tax],
            [impact, tax, cost],
        ];
        let edited: Vec<Inventory> = orders.iter().map(|edits| base.edited(edits).unwrap()).collect();
        for inventory in &edited {
            assert_eq!(inventory.flow(h2).fallback_cost_eur, 18.0);
            assert_eq!(inventory, &edited[0]);
        }
        // Back to 0: the loader's bits again.
        let untaxed = edited[0]
            .edited(&[
                Edit::Tax {
                    category: harm,
                    eur_per_unit: 0.0,
                },
                Edit::RouteCost {
                    route: dirty,
                    eur_per_unit: 5.0,
                },
                Edit::Impact {
                    subject: ImpactSubject::Route(dirty),
                    category: harm,
                    amount_per_unit: 2.0,
                },
            ])
            .unwrap();
        assert_eq!(untaxed, base);
        assert!(!untaxed.has_instruments());
        assert_eq!(
            base.check_edit(&Edit::Tax {
                category: harm,
                eur_per_unit: -1.0
            }),
            Err("a tax must be a finite number >= 0, got -1".to_string())
        );
        let heat = base.flow(h2).resource;
        assert_eq!(
            base.check_edit(&Edit::Subsidy {
                resource: heat,
                eur_per_unit: f64::INFINITY
            }),
            Err("a subsidy must be a finite number >= 0, got inf".to_string())
        );
    }

    #[test]
    fn a_removed_firm_has_no_quantity_and_an_outsider_may_not_exchange() {
        let base = fixture("split_by_distance");
        let (a, b) = (base.firm_index("a").unwrap(), base.firm_index("b").unwrap());
        let dump = base.flow(base.flow_index("s1").unwrap()).fallback.unwrap();
        let edited = base
            .edited(&[Edit::RemoveFirm(a), Edit::ForbidExchange(b), Edit::BanRoute(dump)])
            .unwrap();
        assert!(edited
            .flows()
            .iter()
            .filter(|flow| flow.firm == a)
            .all(|flow| flow.quantity == 0.0));
        assert!(!edited.may_exchange(b) && edited.may_exchange(a));
        assert!(edited.route(dump).banned);
    }
}
