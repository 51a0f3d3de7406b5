//! Values from a solution (MODEL.md A4): what the firms capture (private
//! money saved, split between supplier and receiver, with who needs
//! compensation) and what accrues to the territory (avoided externalities
//! per category and scope), reported separately.
//!
//! Invariant: link flows are first scaled back within each flow's quantity
//! ([`within_quantities`]), then fallbacks are derived from them
//! (f = Q - matched), so the balances hold exactly, no fallback is negative, and the identities
//! sum_f V_f = C_base - C and sum_l dM_l = M_base - M hold up to float
//! rounding in every table written from a [`Valuation`].

use crate::candidates::Link;
use crate::inventory::{add_scaled, CategoryIdx, FirmIdx, FlowIdx, ImpactVec, Inventory, Scope};

/// Links carrying at most this many supply units are treated as unused.
pub const ACTIVE_LINK_THRESHOLD: f64 = 1e-9;

#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkValue {
    /// Position in the candidate links.
    pub link: usize,
    pub supply: FlowIdx,
    pub demand: FlowIdx,
    pub distance_km: f64,
    /// x_l, supply units sent.
    pub quantity: f64,
    /// r_l * x_l, demand units served.
    pub delivered: f64,
    pub unit_cost_eur: f64,
    pub surplus_eur: f64,
    pub supplier_value_eur: f64,
    pub receiver_value_eur: f64,
    pub externality_avoided_eur: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowValue {
    pub flow: FlowIdx,
    /// Matched quantity in resource units.
    pub matched: f64,
    /// Fallback quantity in resource units.
    pub fallback_quantity: f64,
    /// EUR per resource unit (dual of the flow's balance row).
    pub shadow_price_eur_per_unit: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FirmValue {
    pub firm: FirmIdx,
    pub baseline_cost_eur: f64,
    pub optimized_cost_eur: f64,
    pub value_eur: f64,
    pub compensation_needed_eur: f64,
    pub n_links: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryValue {
    pub category: CategoryIdx,
    pub baseline: f64,
    pub optimized: f64,
    pub avoided: f64,
    pub value_eur: f64,
}

/// Every value of one solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    pub supplier_share: f64,
    pub baseline: Totals,
    pub optimized: Totals,
    /// C_base - C.
    pub firm_value_eur: f64,
    /// M_base - M.
    pub territory_value_eur: f64,
    pub territory_value_global_eur: f64,
    pub territory_value_local_eur: f64,
    /// Links with x_l above [`ACTIVE_LINK_THRESHOLD`], in candidate order.
    pub links: Vec<LinkValue>,
    /// One per flow, in inventory order.
    pub flows: Vec<FlowValue>,
    /// One per firm, in inventory order.
    pub firms: Vec<FirmValue>,
    /// One per externality category, in catalogue order (sorted by id).
    pub categories: Vec<CategoryValue>,
}

/// Computes the values of a solution given as link flows x_l.
pub fn value_solution(
    inventory: &Inventory,
    links: &[Link],
    link_flows: &[f64],
    shadow_prices: &[f64],
    supplier_share: f64,
) -> Valuation {
    let flows = inventory.flows();
    let alpha = supplier_share;
    let link_flows = within_quantities(inventory, links, link_flows);
    let mut matched = vec![0.0; flows.len()];
    let active: Vec<(usize, f64)> = link_flows
        .iter()
        .enumerate()
        .filter(|(_, x)| **x > ACTIVE_LINK_THRESHOLD)
        .map(|(position, x)| (position, *x))
        .collect();
    for &(position, x) in &active {
        let link = &links[position];
        matched[link.supply.index()] += x;
        matched[link.demand.index()] += link.ratio * x;
    }
    let fallback: Vec<f64> = flows
        .iter()
        .zip(&matched)
        .map(|(flow, matched)| {
            let rest = flow.quantity - matched;
            // Solver tolerance can leave a hair below zero; it is not a real flow.
            if rest < 0.0 && rest > -1e-9 * flow.quantity.max(1.0) {
                0.0
            } else {
                rest
            }
        })
        .collect();

    let monetised_fallback: Vec<f64> = flows
        .iter()
        .map(|flow| inventory.monetise(&flow.fallback_impacts))
        .collect();
    let mut baseline = Totals::default();
    let mut optimized = Totals::default();
    let mut baseline_impacts: ImpactVec = Vec::new();
    let mut optimized_impacts: ImpactVec = Vec::new();
    let mut firms: Vec<FirmValue> = (0..inventory.firms().len())
        .map(|position| FirmValue {
            firm: FirmIdx::from_index(position),
            baseline_cost_eur: 0.0,
            optimized_cost_eur: 0.0,
            value_eur: 0.0,
            compensation_needed_eur: 0.0,
            n_links: 0,
        })
        .collect();
    for (position, flow) in flows.iter().enumerate() {
        baseline.private_cost_eur += flow.fallback_cost_eur * flow.quantity;
        baseline.externality_eur += monetised_fallback[position] * flow.quantity;
        optimized.private_cost_eur += flow.fallback_cost_eur * fallback[position];
        optimized.externality_eur += monetised_fallback[position] * fallback[position];
        add_scaled(&mut baseline_impacts, &flow.fallback_impacts, flow.quantity);
        add_scaled(&mut optimized_impacts, &flow.fallback_impacts, fallback[position]);
        firms[flow.firm.index()].baseline_cost_eur += flow.fallback_cost_eur * flow.quantity;
    }

    let mut link_values = Vec::with_capacity(active.len());
    for &(position, x) in &active {
        let link = &links[position];
        let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
        let monetised_link = inventory.monetise(&link.unit_impacts);
        optimized.private_cost_eur += link.unit_cost_eur * x;
        optimized.externality_eur += monetised_link * x;
        add_scaled(&mut optimized_impacts, &link.unit_impacts, x);
        let surplus = (supply.fallback_cost_eur + link.ratio * demand.fallback_cost_eur - link.unit_cost_eur) * x;
        let avoided = (monetised_fallback[link.supply.index()] + link.ratio * monetised_fallback[link.demand.index()]
            - monetised_link)
            * x;
        let (supplier_firm, receiver_firm) = (supply.firm.index(), demand.firm.index());
        firms[supplier_firm].value_eur += alpha * surplus;
        firms[receiver_firm].value_eur += (1.0 - alpha) * surplus;
        firms[supplier_firm].n_links += 1;
        firms[receiver_firm].n_links += 1;
        link_values.push(LinkValue {
            link: position,
            supply: link.supply,
            demand: link.demand,
            distance_km: link.distance_km,
            quantity: x,
            delivered: link.ratio * x,
            unit_cost_eur: link.unit_cost_eur,
            surplus_eur: surplus,
            supplier_value_eur: alpha * surplus,
            receiver_value_eur: (1.0 - alpha) * surplus,
            externality_avoided_eur: avoided,
        });
    }
    for firm in &mut firms {
        firm.optimized_cost_eur = firm.baseline_cost_eur - firm.value_eur;
        firm.compensation_needed_eur = (-firm.value_eur).max(0.0);
    }

    let amount = |impacts: &ImpactVec, category: CategoryIdx| {
        impacts
            .binary_search_by_key(&category, |(c, _)| *c)
            .map(|position| impacts[position].1)
            .unwrap_or(0.0)
    };
    let mut territory_value_global_eur = 0.0;
    let mut territory_value_local_eur = 0.0;
    let categories: Vec<CategoryValue> = inventory
        .categories()
        .iter()
        .enumerate()
        .map(|(position, category)| {
            let idx = CategoryIdx::from_index(position);
            let (base, opt) = (amount(&baseline_impacts, idx), amount(&optimized_impacts, idx));
            let value_eur = category.value_eur_per_unit * (base - opt);
            match category.scope {
                Scope::Global => territory_value_global_eur += value_eur,
                Scope::Local => territory_value_local_eur += value_eur,
            }
            CategoryValue {
                category: idx,
                baseline: base,
                optimized: opt,
                avoided: base - opt,
                value_eur,
            }
        })
        .collect();

    let flow_values = flows
        .iter()
        .enumerate()
        .map(|(position, _)| FlowValue {
            flow: FlowIdx::from_index(position),
            matched: matched[position],
            fallback_quantity: fallback[position],
            shadow_price_eur_per_unit: shadow_prices.get(position).copied().unwrap_or(0.0),
        })
        .collect();

    Valuation {
        supplier_share,
        baseline,
        optimized,
        firm_value_eur: baseline.private_cost_eur - optimized.private_cost_eur,
        territory_value_eur: baseline.externality_eur - optimized.externality_eur,
        territory_value_global_eur,
        territory_value_local_eur,
        links: link_values,
        flows: flow_values,
        firms,
        categories,
    }
}

/// The solver's link flows, none negative, scaled back where a flow would
/// send or receive more than its quantity.
///
/// HiGHS meets each balance row to an absolute tolerance (1e-7), and in the
/// second stage of a lexicographic objective the row bounding the first
/// criterion, whose terms reach quantity x cost (1e13 EUR when quantities
/// reach 1e9), leaves small flows off by more: measured up to 1e-2 of a
/// 0.03-unit flow (ARCHITECTURE.md, "Numerical tolerances"). Scaling back
/// the links of such a flow by quantity / matched makes every fallback
/// non-negative; it only lowers link flows, so a flow once within its
/// quantity stays within it, and one pass over the flows is enough. The
/// change in C and M is far below the lexicographic slack.
pub fn within_quantities(inventory: &Inventory, links: &[Link], link_flows: &[f64]) -> Vec<f64> {
    let flows = inventory.flows();
    let mut sent: Vec<f64> = link_flows.iter().map(|x| x.max(0.0)).collect();
    let mut links_of_flow: Vec<Vec<usize>> = vec![Vec::new(); flows.len()];
    for (position, link) in links.iter().enumerate().filter(|(position, _)| sent[*position] > 0.0) {
        links_of_flow[link.supply.index()].push(position);
        links_of_flow[link.demand.index()].push(position);
    }
    for (flow_position, flow) in flows.iter().enumerate() {
        let positions = &links_of_flow[flow_position];
        // In the flow's balance row: x_l for a supply, r_l x_l for a demand.
        let coefficient = |position: usize| {
            if links[position].supply.index() == flow_position {
                1.0
            } else {
                links[position].ratio
            }
        };
        let matched: f64 = positions
            .iter()
            .map(|&position| coefficient(position) * sent[position])
            .sum();
        if matched > flow.quantity {
            let factor = flow.quantity / matched;
            for &position in positions {
                sent[position] *= factor;
            }
        }
    }
    sent
}

impl Valuation {
    /// Firms whose value is negative: they need this much to take part.
    pub fn firms_needing_compensation(&self) -> impl Iterator<Item = &FirmValue> {
        self.firms.iter().filter(|firm| firm.compensation_needed_eur > 0.0)
    }
}
