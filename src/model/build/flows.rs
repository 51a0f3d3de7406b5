//! flows.csv: supplies and demands, each resolved to its firm, resource,
//! fallback route and profile, and a fallback route's terms in the
//! resource's unit (shared with the ports of processes).
//!
//! Invariant: a flow's quantity is >= 0 and in its resource's unit; its
//! fallback is a disposal route for a supply and a sourcing route for a
//! demand, priced in a unit that converts exactly, and only a service
//! supply may go without one (its idle capacity is costless).

use super::keyed::{key_in, Ids, OwnedIds};
use super::schemas::FLOWS_SCHEMA;
use super::Builder;
use crate::model::rules;
use crate::model::table::{InputError, InputWarning, RawTable};
use crate::model::units::conversion_factor;
use crate::model::*;

/// The references a flow row resolves.
pub(super) struct FlowContext<'a> {
    pub(super) firms: &'a Ids<'a, FirmIdx>,
    pub(super) resources: &'a Ids<'a, ResourceIdx>,
    pub(super) routes: &'a Ids<'a, RouteIdx>,
    pub(super) resource_defs: &'a [Resource],
    pub(super) route_defs: &'a [Route],
    pub(super) profiles: &'a OwnedIds<ProfileIdx>,
}

/// A fallback route's terms for a flow of `resource_def` and `kind`:
/// (route units per resource unit, cost per resource unit, impacts per
/// resource unit), or the error located by `at(column, message)`.
pub(super) fn fallback_terms(
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
            crate::model::units::case_hint(&[&route.unit, &resource_def.unit]).unwrap_or_else(|| {
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
    /// flows.csv: each flow resolved to its firm, resource, fallback route
    /// and profile, its quantity converted to the resource's unit.
    pub(super) fn flows(&mut self, table: &RawTable, context: &FlowContext) -> Vec<Flow> {
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
                let hint = crate::model::units::case_hint(&[&unit, &resource_def.unit]).unwrap_or_else(|| "give the quantity in the resource's unit, or one that converts exactly (t/kg, MWh/kWh/GJ, m3/L)".to_string());
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
}
