//! The territory's value in the three parts that research on territorial
//! value creation names: the actor system (the firms taking part, their
//! links, the firms the network depends on most), the resources (virgin
//! resources saved and waste diverted, in physical units per resource) and
//! the externalities (avoided, monetised, local and global). Written as
//! territory_profile.json and drawn in the HTML report.
//!
//! Computed from the result tables alone ([`Results`]), never from the
//! inventory, so that a results folder is enough to rebuild it. Pure: no I/O.
//!
//! Invariant: every figure is a sum or a count over rows of the tables, so
//! it can be checked against them: waste diverted per resource is the sum
//! of `quantity` over links.csv rows of that supply resource (which equals
//! the sum of `matched` over its supply rows in flow_results.csv), virgin
//! resources saved the sum of `delivered` per demand resource.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::units::conversion_factor;
use crate::report::results::{CategoryRow, FlowRow, Results};

/// How many firms the profile names as those the network depends on most.
pub const KEY_FIRMS: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TerritoryProfile {
    pub inventory: Option<String>,
    pub objective: String,
    pub status: String,
    /// C_base - C (summary.json `firm_value_eur`), for contrast.
    pub value_captured_by_firms_eur: f64,
    /// M_base - M (summary.json `territory_value_eur`).
    pub value_accruing_to_territory_eur: f64,
    pub actor_system: ActorSystem,
    pub resources: ResourceSavings,
    pub externalities: Externalities,
}

/// Who takes part and how the network hangs together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActorSystem {
    pub n_firms: usize,
    /// Firms with at least one link in use.
    pub n_firms_taking_part: usize,
    /// n_firms_taking_part / n_firms (0 when there are no firms).
    pub share_of_firms_taking_part: f64,
    pub n_supplier_firms: usize,
    pub n_receiver_firms: usize,
    pub n_links: usize,
    /// Distinct (supplier firm, receiver firm) pairs.
    pub n_firm_pairs: usize,
    /// Links per resource category of the supply, sorted by category.
    pub links_by_category: Vec<CategoryLinks>,
    /// The [`KEY_FIRMS`] firms whose links carry the most avoided
    /// externalities: what the territory would lose if the firm left.
    pub key_firms: Vec<KeyFirm>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryLinks {
    pub category: String,
    pub n_links: usize,
    pub surplus_eur: f64,
    pub externality_avoided_eur: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyFirm {
    pub firm_id: String,
    pub name: String,
    pub n_links: usize,
    /// Distinct firms it exchanges with.
    pub n_partners: usize,
    /// Sum of externality_avoided_eur over the links it supplies or receives.
    pub externality_at_stake_eur: f64,
    /// externality_at_stake_eur / the sum over all links; `None` when that
    /// sum is not positive.
    pub share_of_externality_avoided: Option<f64>,
    /// Sum of surplus_eur over its links.
    pub surplus_at_stake_eur: f64,
    /// Its own value captured (firm_values.csv `value_eur`).
    pub value_eur: f64,
}

/// Physical quantities kept in use, per resource, in the resource's unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSavings {
    /// Supplies sent on links instead of to their disposal route, per
    /// supply resource: sum of links.csv `quantity` in `supply_unit`.
    pub waste_diverted: Vec<ResourceQuantity>,
    /// Demands served by links instead of by their sourcing route, per
    /// demand resource: sum of links.csv `delivered` in `demand_unit`.
    pub virgin_resources_saved: Vec<ResourceQuantity>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceQuantity {
    pub resource: String,
    pub category: String,
    pub unit: String,
    pub quantity: f64,
    pub n_links: usize,
    /// Total quantity of the flows of this resource on this side
    /// (flow_results.csv, converted to `unit`); `None` if a flow's unit
    /// does not convert.
    pub total_quantity: Option<f64>,
    /// quantity / total_quantity, when the total is positive.
    pub share: Option<f64>,
}

/// Avoided harm per category, and its money value by scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Externalities {
    pub baseline_eur: f64,
    pub optimized_eur: f64,
    /// baseline_eur - optimized_eur = value_accruing_to_territory_eur.
    pub avoided_eur: f64,
    /// Sum of value_eur over the categories of global scope.
    pub global_eur: f64,
    /// Sum of value_eur over the categories of local scope.
    pub local_eur: f64,
    /// territory_values.csv as it is: baseline, optimized, avoided in
    /// physical units, and value_eur.
    pub categories: Vec<CategoryRow>,
}

/// Computes the profile from the result tables.
pub fn territory_profile(results: &Results) -> TerritoryProfile {
    let summary = &results.summary;
    TerritoryProfile {
        inventory: summary.inventory.clone(),
        objective: summary.objective.clone(),
        status: summary.status.clone(),
        value_captured_by_firms_eur: summary.firm_value_eur,
        value_accruing_to_territory_eur: summary.territory_value_eur,
        actor_system: actor_system(results),
        resources: resource_savings(results),
        externalities: externalities(results),
    }
}

fn actor_system(results: &Results) -> ActorSystem {
    let links = &results.links;
    let suppliers: BTreeSet<&str> = links.iter().map(|l| l.supplier_firm_id.as_str()).collect();
    let receivers: BTreeSet<&str> = links.iter().map(|l| l.receiver_firm_id.as_str()).collect();
    let pairs: BTreeSet<(&str, &str)> = links
        .iter()
        .map(|l| (l.supplier_firm_id.as_str(), l.receiver_firm_id.as_str()))
        .collect();
    let taking_part = suppliers.union(&receivers).count();
    let n_firms = results.firms.len();

    let mut by_category: BTreeMap<&str, CategoryLinks> = BTreeMap::new();
    for link in links {
        let entry = by_category
            .entry(link.supply_category.as_str())
            .or_insert_with(|| CategoryLinks {
                category: link.supply_category.clone(),
                n_links: 0,
                surplus_eur: 0.0,
                externality_avoided_eur: 0.0,
            });
        entry.n_links += 1;
        entry.surplus_eur += link.surplus_eur;
        entry.externality_avoided_eur += link.externality_avoided_eur;
    }

    // What each firm's departure would take away: its links, both ways.
    struct Stake<'a> {
        n_links: usize,
        partners: BTreeSet<&'a str>,
        externality: f64,
        surplus: f64,
    }
    let mut stakes: BTreeMap<&str, Stake> = BTreeMap::new();
    for link in links {
        for (firm, partner) in [
            (&link.supplier_firm_id, &link.receiver_firm_id),
            (&link.receiver_firm_id, &link.supplier_firm_id),
        ] {
            let stake = stakes.entry(firm.as_str()).or_insert_with(|| Stake {
                n_links: 0,
                partners: BTreeSet::new(),
                externality: 0.0,
                surplus: 0.0,
            });
            stake.n_links += 1;
            stake.partners.insert(partner.as_str());
            stake.externality += link.externality_avoided_eur;
            stake.surplus += link.surplus_eur;
        }
    }
    let total_avoided: f64 = links.iter().map(|l| l.externality_avoided_eur).sum();
    let mut ranked: Vec<(&str, Stake)> = stakes.into_iter().collect();
    // BTreeMap order (by id) breaks ties, as the sort is stable.
    ranked.sort_by(|a, b| {
        b.1.externality
            .total_cmp(&a.1.externality)
            .then(b.1.surplus.total_cmp(&a.1.surplus))
    });
    let key_firms = ranked
        .into_iter()
        .take(KEY_FIRMS)
        .map(|(firm_id, stake)| {
            let firm = results.firm(firm_id);
            KeyFirm {
                firm_id: firm_id.to_string(),
                name: firm.map(|f| f.name.clone()).unwrap_or_default(),
                n_links: stake.n_links,
                n_partners: stake.partners.len(),
                externality_at_stake_eur: stake.externality,
                share_of_externality_avoided: (total_avoided > 0.0).then(|| stake.externality / total_avoided),
                surplus_at_stake_eur: stake.surplus,
                value_eur: firm.map(|f| f.value_eur).unwrap_or(0.0),
            }
        })
        .collect();

    ActorSystem {
        n_firms,
        n_firms_taking_part: taking_part,
        share_of_firms_taking_part: if n_firms > 0 {
            taking_part as f64 / n_firms as f64
        } else {
            0.0
        },
        n_supplier_firms: suppliers.len(),
        n_receiver_firms: receivers.len(),
        n_links: links.len(),
        n_firm_pairs: pairs.len(),
        links_by_category: by_category.into_values().collect(),
        key_firms,
    }
}

fn resource_savings(results: &Results) -> ResourceSavings {
    // (resource, category, unit, quantity, n_links) per side, keyed by resource.
    let mut diverted: BTreeMap<&str, (&str, &str, f64, usize)> = BTreeMap::new();
    let mut saved: BTreeMap<&str, (&str, &str, f64, usize)> = BTreeMap::new();
    for link in &results.links {
        let entry = diverted.entry(link.supply_resource.as_str()).or_insert((
            link.supply_category.as_str(),
            link.supply_unit.as_str(),
            0.0,
            0,
        ));
        entry.2 += link.quantity;
        entry.3 += 1;
        let entry = saved.entry(link.demand_resource.as_str()).or_insert((
            link.demand_category.as_str(),
            link.demand_unit.as_str(),
            0.0,
            0,
        ));
        entry.2 += link.delivered;
        entry.3 += 1;
    }
    // The flows of each (kind, resource), in file order, so that each total
    // adds the same terms in the same order as a scan of the table would.
    let mut flows_of: BTreeMap<(&str, &str), Vec<&FlowRow>> = BTreeMap::new();
    for flow in &results.flows {
        flows_of
            .entry((flow.kind.as_str(), flow.resource.as_str()))
            .or_default()
            .push(flow);
    }
    let side = |entries: BTreeMap<&str, (&str, &str, f64, usize)>, kind: &str| -> Vec<ResourceQuantity> {
        entries
            .into_iter()
            .map(|(resource, (category, unit, quantity, n_links))| {
                let total_quantity = flows_of
                    .get(&(kind, resource))
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .map(|flow| conversion_factor(&flow.unit, unit).map(|factor| flow.quantity * factor))
                    .sum::<Option<f64>>();
                ResourceQuantity {
                    resource: resource.to_string(),
                    category: category.to_string(),
                    unit: unit.to_string(),
                    quantity,
                    n_links,
                    total_quantity,
                    share: total_quantity
                        .filter(|total| *total > 0.0)
                        .map(|total| quantity / total),
                }
            })
            .collect()
    };
    ResourceSavings {
        waste_diverted: side(diverted, "supply"),
        virgin_resources_saved: side(saved, "demand"),
    }
}

fn externalities(results: &Results) -> Externalities {
    let summary = &results.summary;
    let scope_total = |scope: &str| -> f64 {
        results
            .categories
            .iter()
            .filter(|c| c.scope == scope)
            .map(|c| c.value_eur)
            .sum()
    };
    Externalities {
        baseline_eur: summary.baseline.externality_eur,
        optimized_eur: summary.optimized.externality_eur,
        avoided_eur: summary.territory_value_eur,
        global_eur: scope_total("global"),
        local_eur: scope_total("local"),
        categories: results.categories.clone(),
    }
}
