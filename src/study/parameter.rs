//! Parameter paths and overrides: what a scenario's `[set]` and `[[vary]]`
//! and `uncertainty.csv` may change (`externality.<category>`,
//! `route_cost.<route>`, ..., `impact.<subject>.<category>`, the
//! instruments `tax.<category>` and `subsidy.<resource>`,
//! `supplier_share`).
//!
//! Owns: [`Parameter`], [`parse_parameter`], turning a parameter and a
//! value into a [`model::Edit`](crate::model::Edit) ([`Parameter::edit`]),
//! [`with_parameters`] and [`apply_parameter`].
//!
//! Invariant: an inventory parameter changes an inventory only through
//! [`Inventory::edited`], which checks its value by the loader's rules, so a
//! changed inventory stays a valid one; the supplier share, no part of an
//! inventory, is checked here.

use crate::model::rules::check_magnitude;
use crate::model::{
    CategoryIdx, Edit, FlowIdx, ImpactSubject, Inventory, ProcessIdx, ResourceIdx, RouteIdx, SubstitutionIdx,
};

/// One parameter a scenario may change, resolved against the inventory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameter {
    Externality(CategoryIdx),
    RouteCost(RouteIdx),
    TransportCost(ResourceIdx),
    MaxDistance(ResourceIdx),
    FlowQuantity(FlowIdx),
    FlowFactor(FlowIdx),
    /// One impact factor: `impact.<subject>.<category>`, the subject as
    /// impacts.csv names it (`route:landfill`, `transport:steam`,
    /// `substitution:slag>clinker`, `process:digester`).
    Impact {
        subject: ImpactSubject,
        category: CategoryIdx,
    },
    /// The instrument `tax.<category>` (docs/model.md C1).
    Tax(CategoryIdx),
    /// The instrument `subsidy.<resource>` (docs/model.md C1).
    Subsidy(ResourceIdx),
    SupplierShare,
}

/// The parameter paths a scenario may use, for error messages.
pub const PARAMETER_PATHS: &str = "externality.<category>, route_cost.<route>, transport_cost.<resource>, max_distance.<resource>, flow_quantity.<flow_id>, flow_factor.<flow_id>, impact.<subject>.<category>, tax.<category>, subsidy.<resource>, supplier_share";

/// Resolves a parameter path such as `externality.co2e_t`.
pub fn parse_parameter(inventory: &Inventory, path: &str) -> Result<Parameter, String> {
    if path == "supplier_share" {
        return Ok(Parameter::SupplierShare);
    }
    if let Some(rest) = path.strip_prefix("impact.") {
        return parse_impact(inventory, path, rest);
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
        "tax" => Parameter::Tax(CategoryIdx::from_index(position(
            &mut inventory.categories().iter().map(|c| &c.id),
            "externality category",
        )?)),
        "subsidy" => Parameter::Subsidy(ResourceIdx::from_index(position(
            &mut inventory.resources().iter().map(|r| &r.id),
            "resource",
        )?)),
        _ => return Err(format!("unknown parameter {path:?}: use one of {PARAMETER_PATHS}")),
    })
}

/// `impact.<subject>.<category>`: the category is what follows the last
/// dot (category ids hold none), the subject what precedes it.
fn parse_impact(inventory: &Inventory, path: &str, rest: &str) -> Result<Parameter, String> {
    let form = "impact.<subject>.<category>, the subject as impacts.csv names it (route:<route>, transport:<resource>, substitution:<supply>><demand>, process:<process_id>)";
    let Some((subject, category)) = rest.rsplit_once('.') else {
        return Err(format!("parameter {path:?} is not of the form {form}"));
    };
    let category = inventory
        .category_index(category)
        .ok_or_else(|| format!("parameter {path:?}: no externality category {category:?} in the inventory"))?;
    let position = |found: Option<usize>, what: &str, key: &str| {
        found.ok_or_else(|| format!("parameter {path:?}: no {what} {key:?} in the inventory"))
    };
    let subject = match subject.split_once(':') {
        Some(("route", route)) => ImpactSubject::Route(RouteIdx::from_index(position(
            inventory.routes().iter().position(|r| r.id == route),
            "route",
            route,
        )?)),
        Some(("transport", resource)) => ImpactSubject::Transport(ResourceIdx::from_index(position(
            inventory.resources().iter().position(|r| r.id == resource),
            "resource",
            resource,
        )?)),
        Some(("substitution", pair)) => {
            let (supply, demand) = pair.split_once('>').ok_or_else(|| {
                format!("parameter {path:?}: a substitution subject is substitution:<supply>><demand>")
            })?;
            let resource = |id: &str| inventory.resources().iter().position(|r| r.id == id);
            let found = resource(supply).zip(resource(demand)).and_then(|(s, d)| {
                let (s, d) = (ResourceIdx::from_index(s), ResourceIdx::from_index(d));
                inventory
                    .substitutions_from(s)
                    .iter()
                    .copied()
                    .find(|pair| inventory.substitution(*pair).demand_resource == d)
            });
            ImpactSubject::Substitution(SubstitutionIdx::from_index(position(
                found.map(SubstitutionIdx::index),
                "substitution pair",
                pair,
            )?))
        }
        Some(("process", process)) => ImpactSubject::Process(ProcessIdx::from_index(position(
            inventory.processes().iter().position(|p| p.id == process),
            "process",
            process,
        )?)),
        _ => return Err(format!("parameter {path:?} is not of the form {form}")),
    };
    Ok(Parameter::Impact { subject, category })
}

impl Parameter {
    /// The inventory edit that sets this parameter to `value`; `None` for
    /// the supplier share, which is no part of an inventory.
    pub fn edit(self, value: f64) -> Option<Edit> {
        Some(match self {
            Parameter::Externality(category) => Edit::Externality {
                category,
                eur_per_unit: value,
            },
            Parameter::RouteCost(route) => Edit::RouteCost {
                route,
                eur_per_unit: value,
            },
            Parameter::TransportCost(resource) => Edit::TransportCost {
                resource,
                eur_per_unit_km: value,
            },
            Parameter::MaxDistance(resource) => Edit::MaxDistance { resource, km: value },
            Parameter::FlowQuantity(flow) => Edit::FlowQuantity { flow, quantity: value },
            Parameter::FlowFactor(flow) => Edit::FlowFactor { flow, factor: value },
            Parameter::Impact { subject, category } => Edit::Impact {
                subject,
                category,
                amount_per_unit: value,
            },
            Parameter::Tax(category) => Edit::Tax {
                category,
                eur_per_unit: value,
            },
            Parameter::Subsidy(resource) => Edit::Subsidy {
                resource,
                eur_per_unit: value,
            },
            Parameter::SupplierShare => return None,
        })
    }
}

/// Refuses a supplier share outside [0, 1] (the check `--supplier-share` makes).
pub fn check_supplier_share(value: f64) -> Result<(), String> {
    crate::options::SHARE_CHECK.value("supplier_share", value).map(|_| ())
}

/// Whether `parameter` may be set to `value` on `inventory`, and if not,
/// why; nothing is changed.
pub fn check_parameter(inventory: &Inventory, parameter: Parameter, value: f64) -> Result<(), String> {
    match parameter.edit(value) {
        Some(edit) => inventory.check_edit(&edit),
        // Bounded like every scenario value, then checked as a share.
        None => check_magnitude(value).and_then(|()| check_supplier_share(value)),
    }
}

/// `base` and `supplier_share` with each parameter set to its value, in
/// order; else the position of the first value refused, and why.
pub fn with_parameters(
    base: &Inventory,
    supplier_share: f64,
    settings: &[(Parameter, f64)],
) -> Result<(Inventory, f64), (usize, String)> {
    let mut share = supplier_share;
    let mut edits = Vec::new();
    // The position in `settings` of each edit.
    let mut edit_positions = Vec::new();
    for (position, (parameter, value)) in settings.iter().enumerate() {
        match parameter.edit(*value) {
            Some(edit) => {
                edits.push(edit);
                edit_positions.push(position);
            }
            None => {
                check_parameter(base, *parameter, *value).map_err(|message| (position, message))?;
                share = *value;
            }
        }
    }
    let inventory = base
        .edited(&edits)
        .map_err(|error| (edit_positions[error.position], error.message))?;
    Ok((inventory, share))
}

/// Sets one parameter, checking the value as the loader would; nothing
/// changes when it is refused.
pub fn apply_parameter(
    inventory: &mut Inventory,
    supplier_share: &mut f64,
    parameter: Parameter,
    value: f64,
) -> Result<(), String> {
    let (edited, share) =
        with_parameters(inventory, *supplier_share, &[(parameter, value)]).map_err(|(_, message)| message)?;
    *inventory = edited;
    *supplier_share = share;
    Ok(())
}
