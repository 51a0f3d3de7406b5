//! Which links may exist (MODEL.md A2), with each link's unit cost and unit
//! impacts precomputed so that the LP and the valuation read them directly.
//!
//! Invariant: links are sorted by (supply flow, demand flow) and a pair
//! appears at most once, whatever the order of the input files' rows.

use crate::inventory::{add_scaled, FlowIdx, FlowKind, ImpactVec, Inventory, SubstitutionIdx};

/// A candidate link from a supply flow to a demand flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub supply: FlowIdx,
    pub demand: FlowIdx,
    pub substitution: SubstitutionIdx,
    pub distance_km: f64,
    /// Demand units served per supply unit.
    pub ratio: f64,
    /// k_l = transport_cost * distance + processing cost, EUR per supply unit.
    pub unit_cost_eur: f64,
    /// Impacts per supply unit sent: transport impacts * distance + substitution impacts.
    pub unit_impacts: ImpactVec,
}

/// All candidate links of an inventory.
pub fn candidate_links(inventory: &Inventory) -> Vec<Link> {
    let flows = inventory.flows();
    // Demands with a positive quantity, grouped by resource.
    let mut demands_by_resource: Vec<Vec<FlowIdx>> = vec![Vec::new(); inventory.resources().len()];
    for (position, flow) in flows.iter().enumerate() {
        if flow.kind == FlowKind::Demand && flow.quantity > 0.0 {
            demands_by_resource[flow.resource.index()].push(FlowIdx::from_index(position));
        }
    }
    let mut links = Vec::new();
    for (position, supply) in flows.iter().enumerate() {
        if supply.kind != FlowKind::Supply || supply.quantity <= 0.0 || !inventory.may_exchange(supply.firm) {
            continue;
        }
        let supply_idx = FlowIdx::from_index(position);
        let resource = inventory.resource(supply.resource);
        let first_link = links.len();
        for &substitution_idx in inventory.substitutions_from(supply.resource) {
            let substitution = inventory.substitution(substitution_idx);
            for &demand_idx in &demands_by_resource[substitution.demand_resource.index()] {
                let demand = inventory.flow(demand_idx);
                if demand.firm == supply.firm || !inventory.may_exchange(demand.firm) {
                    continue;
                }
                if let Some(minimum) = demand.quality {
                    match supply.quality {
                        Some(offered) if offered >= minimum => {}
                        _ => continue,
                    }
                }
                let distance_km = inventory.distance_km(supply.firm, demand.firm);
                if resource.max_distance_km.is_some_and(|max| distance_km > max) {
                    continue;
                }
                let mut unit_impacts = Vec::new();
                add_scaled(&mut unit_impacts, &resource.transport_impacts, distance_km);
                add_scaled(&mut unit_impacts, &substitution.impacts, 1.0);
                links.push(Link {
                    supply: supply_idx,
                    demand: demand_idx,
                    substitution: substitution_idx,
                    distance_km,
                    ratio: substitution.ratio,
                    unit_cost_eur: resource.transport_cost_eur_per_unit_km * distance_km
                        + substitution.processing_cost_eur_per_unit,
                    unit_impacts,
                });
            }
        }
        links[first_link..].sort_by_key(|link| link.demand);
    }
    links
}
