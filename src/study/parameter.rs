//! Parameter paths and overrides: what a scenario's `[set]` and `[[vary]]`
//! may change (`externality.<category>`, `route_cost.<route>`, ...), and
//! removing a firm.
//!
//! Owns: [`Parameter`], [`parse_parameter`], [`apply_parameter`],
//! [`remove_firm`].
//!
//! Invariant: an override is refused, with the loader's message, whenever
//! the loader would refuse the same value in an input file, so a changed
//! inventory stays a valid one.

use crate::model::table::MAX_MAGNITUDE;
use crate::model::{CategoryIdx, FirmIdx, FlowIdx, Inventory, ResourceIdx, RouteIdx};

/// One parameter a scenario may change, resolved against the inventory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameter {
    Externality(CategoryIdx),
    RouteCost(RouteIdx),
    TransportCost(ResourceIdx),
    MaxDistance(ResourceIdx),
    FlowQuantity(FlowIdx),
    FlowFactor(FlowIdx),
    SupplierShare,
}

/// The parameter paths a scenario may use, for error messages.
pub const PARAMETER_PATHS: &str = "externality.<category>, route_cost.<route>, transport_cost.<resource>, max_distance.<resource>, flow_quantity.<flow_id>, flow_factor.<flow_id>, supplier_share";

/// Resolves a parameter path such as `externality.co2e_t`.
pub fn parse_parameter(inventory: &Inventory, path: &str) -> Result<Parameter, String> {
    if path == "supplier_share" {
        return Ok(Parameter::SupplierShare);
    }
    let Some((kind, key)) = path.split_once('.') else {
        return Err(format!("unknown parameter {path:?}: use one of {PARAMETER_PATHS}"));
    };
    let position = |ids: &mut dyn Iterator<Item = &String>, what: &str| {
        let mut found = None;
        for (index, id) in ids.enumerate() {
            if id == key {
                found = Some(index);
                break;
            }
        }
        found.ok_or_else(|| format!("parameter {path:?}: no {what} {key:?} in the inventory"))
    };
    Ok(match kind {
        "externality" => Parameter::Externality(CategoryIdx::from_index(position(
            &mut inventory.categories().iter().map(|c| &c.id),
            "externality category",
        )?)),
        "route_cost" => Parameter::RouteCost(RouteIdx::from_index(position(
            &mut inventory.routes().iter().map(|r| &r.id),
            "route",
        )?)),
        "transport_cost" => Parameter::TransportCost(ResourceIdx::from_index(position(
            &mut inventory.resources().iter().map(|r| &r.id),
            "resource",
        )?)),
        "max_distance" => Parameter::MaxDistance(ResourceIdx::from_index(position(
            &mut inventory.resources().iter().map(|r| &r.id),
            "resource",
        )?)),
        "flow_quantity" => Parameter::FlowQuantity(FlowIdx::from_index(position(
            &mut inventory.flows().iter().map(|f| &f.id),
            "flow",
        )?)),
        "flow_factor" => Parameter::FlowFactor(FlowIdx::from_index(position(
            &mut inventory.flows().iter().map(|f| &f.id),
            "flow",
        )?)),
        _ => return Err(format!("unknown parameter {path:?}: use one of {PARAMETER_PATHS}")),
    })
}

/// Sets one parameter, checking the value as the loader would.
pub fn apply_parameter(
    inventory: &mut Inventory,
    supplier_share: &mut f64,
    parameter: Parameter,
    value: f64,
) -> Result<(), String> {
    // The loader's bound on magnitudes (inventory::table::MAX_MAGNITUDE).
    if value.is_finite() && value.abs() > MAX_MAGNITUDE {
        return Err(format!(
            "{value} is too large: numbers may not exceed 1e15 in magnitude"
        ));
    }
    let non_negative = |what: &str| {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(format!("{what} must be a finite number >= 0, got {value}"))
        }
    };
    match parameter {
        Parameter::Externality(category) => {
            non_negative("an externality value")?;
            inventory.categories[category.index()].value_eur_per_unit = value;
        }
        Parameter::RouteCost(route) => {
            if !value.is_finite() {
                return Err(format!("a route cost must be finite, got {value}"));
            }
            inventory.routes[route.index()].cost_eur_per_unit = value;
            let resources = &inventory.resources;
            for flow in inventory.flows.iter_mut().filter(|flow| flow.fallback == Some(route)) {
                // The idle capacity of a service supply stays costless (docs/model.md B2).
                let idle_capacity = flow.kind == crate::model::FlowKind::Supply
                    && resources[flow.resource.index()].category == crate::model::ResourceCategory::Service;
                if !idle_capacity {
                    flow.fallback_cost_eur = value * flow.fallback_units_per_unit;
                }
            }
        }
        Parameter::TransportCost(resource) => {
            non_negative("a transport cost")?;
            inventory.resources[resource.index()].transport_cost_eur_per_unit_km = value;
        }
        Parameter::MaxDistance(resource) => {
            if value.is_nan() || value <= 0.0 {
                return Err(format!("a max distance must be > 0 (inf for unlimited), got {value}"));
            }
            inventory.resources[resource.index()].max_distance_km = value.is_finite().then_some(value);
        }
        Parameter::FlowQuantity(flow) | Parameter::FlowFactor(flow)
            if inventory.flows[flow.index()].is_process_port() =>
        {
            return Err(format!(
                "flow {:?} is an input or output of a process: its quantity follows the process's activity",
                inventory.flows[flow.index()].id
            ));
        }
        Parameter::FlowQuantity(flow) => {
            non_negative("a flow quantity")?;
            let flow = &mut inventory.flows[flow.index()];
            flow.quantity = value * flow.unit_factor;
        }
        Parameter::FlowFactor(flow) => {
            non_negative("a flow factor")?;
            let flow = &mut inventory.flows[flow.index()];
            let quantity = flow.quantity * value;
            if quantity / flow.unit_factor > MAX_MAGNITUDE {
                return Err(format!(
                    "flow {} would reach {quantity}: quantities may not exceed 1e15 in magnitude",
                    flow.id
                ));
            }
            flow.quantity = quantity;
        }
        Parameter::SupplierShare => {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("supplier_share must be within [0, 1], got {value}"));
            }
            *supplier_share = value;
        }
    }
    Ok(())
}

/// Removes a firm from the territory: its flows drop to zero, so it takes
/// part in no link and weighs nothing in the baseline.
pub fn remove_firm(inventory: &mut Inventory, firm: FirmIdx) {
    for flow in inventory.flows.iter_mut().filter(|flow| flow.firm == firm) {
        flow.quantity = 0.0;
    }
}
