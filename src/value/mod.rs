//! Values from a solution (docs/model.md A4): what the firms capture (private
//! money saved, split between supplier and receiver, with who needs
//! compensation) and what accrues to the territory (avoided externalities
//! per category and scope), reported separately.
//!
//! Invariant: link flows are first scaled back within each flow's quantity
//! ([`within_quantities`], Part A inventories), then fallbacks are derived
//! from them (f = Q - matched), so the balances hold exactly, no fallback is
//! negative, and the identities sum_f V_f = C_base - C and
//! sum_l dM_l - sum_p E_p = M_base - M (E_p the externality of process p,
//! none without processes) hold up to float
//! rounding in every table written from a [`Valuation`].
//!
//! docs/model.md Part B: a process's firm bears its operating cost, its fixed
//! cost when it runs, and its outputs at their fallback cost (the links
//! that take an output credit the avoided fallback back, as for any
//! supply); a link's fixed cost comes out of its surplus; a link or a
//! process is built when it carries flow or runs. Per-slice values and the
//! capacity saved by sharing services are derived from the per-slice link
//! flows.

pub mod allocation;

use crate::candidates::{candidate_links, Link};
use crate::model::{
    add_scaled, CategoryIdx, FirmIdx, FlowIdx, FlowKind, ImpactVec, Inventory, ProcessIdx, ResourceCategory,
    ResourceIdx, Scope, SliceIdx,
};
use crate::solve::{ExtendedSolution, LpSolution, Reuse, SolveError, SolveOptions, WarmStart};

/// The pipeline up to the values, for an already loaded inventory (no I/O):
/// candidate links, the solve, the valuation.
pub fn optimize_inventory(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
) -> Result<(Vec<Link>, LpSolution, Valuation), SolveError> {
    optimize_inventory_warm(inventory, options, supplier_share, &mut WarmStart::default())
}

/// As [`optimize_inventory`], reusing the HiGHS model kept in `warm` when
/// the candidate links are the same as last time.
pub fn optimize_inventory_warm(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
    warm: &mut WarmStart,
) -> Result<(Vec<Link>, LpSolution, Valuation), SolveError> {
    let links = candidate_links(inventory);
    let solution = warm.solve(inventory, &links, options)?;
    let valuation = value_lp_solution(inventory, &links, &solution, supplier_share);
    Ok((links, solution, valuation))
}

/// As [`optimize_inventory`] for a what-if of the inventory `reuse` was
/// kept from: only the parts whose model the what-if changes are solved
/// (`solve::Reuse`).
pub fn optimize_inventory_reusing(
    inventory: &Inventory,
    options: &SolveOptions,
    supplier_share: f64,
    reuse: &Reuse,
) -> Result<(Vec<Link>, LpSolution, Valuation), SolveError> {
    let links = candidate_links(inventory);
    let (solution, _) = reuse.resolve(inventory, &links, options)?;
    let valuation = value_lp_solution(inventory, &links, &solution, supplier_share);
    Ok((links, solution, valuation))
}

/// Each firm's value V_f (docs/model.md A4) as a linear function of the
/// link flows: per firm (inventory order), (link position, EUR per supply
/// unit), the supplier credited alpha x s_l and the receiver (1 - alpha)
/// x s_l, s_l = c(fb(s)) + r_l c(fb(d)) - k_l the link's unit surplus
/// (the same terms `value_lp_solution` sums; a link's fixed cost, a
/// constant once it is built, is not a term). A firm both supplier and
/// receiver of a link has one term for it. Sorted by link.
pub fn firm_value_terms(inventory: &Inventory, links: &[Link], supplier_share: f64) -> Vec<Vec<(usize, f64)>> {
    let alpha = supplier_share;
    let mut terms: Vec<Vec<(usize, f64)>> = vec![Vec::new(); inventory.firms().len()];
    for (position, link) in links.iter().enumerate() {
        let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
        let surplus = supply.fallback_cost_eur + link.ratio * demand.fallback_cost_eur - link.unit_cost_eur;
        let (supplier, receiver) = (supply.firm.index(), demand.firm.index());
        if supplier == receiver {
            terms[supplier].push((position, surplus));
        } else {
            terms[supplier].push((position, alpha * surplus));
            terms[receiver].push((position, (1.0 - alpha) * surplus));
        }
    }
    terms
}

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
    /// Annual fixed cost of the link (docs/model.md B4), taken out of `surplus_eur`; 0 when none.
    pub fixed_cost_eur: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowValue {
    pub flow: FlowIdx,
    /// Quantity in resource units: the flow's own, or for a process input
    /// or output per_activity * activity.
    pub quantity: f64,
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

/// One conversion process's year (docs/model.md B3).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessValue {
    pub process: ProcessIdx,
    /// Activity units in the year.
    pub activity: f64,
    /// Activity units per slice.
    pub slice_activity: Vec<f64>,
    /// Whether the process runs (activity above [`ACTIVE_LINK_THRESHOLD`]).
    pub built: bool,
    /// cost_eur_per_activity * activity.
    pub operating_cost_eur: f64,
    /// fixed_cost_eur_per_year when the process runs.
    pub fixed_cost_eur: f64,
    /// The outputs at their fallback cost (what disposing of all of them would cost).
    pub output_fallback_cost_eur: f64,
    /// What the process's firm bears: the three above.
    pub cost_borne_eur: f64,
    /// Monetised impacts of the activity and of the outputs at their
    /// fallback (the links taking outputs count the avoided part).
    pub externality_eur: f64,
}

/// One investment of docs/model.md B4: a link or a process with a fixed cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Investment {
    /// Position in the candidate links.
    Link(usize),
    Process(ProcessIdx),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvestmentValue {
    pub investment: Investment,
    /// The annual fixed cost if built.
    pub fixed_cost_eur_per_year: f64,
    pub built: bool,
    /// Supply units carried (link) or activity units run (process) in the year.
    pub quantity: f64,
}

/// A flow in one time slice (docs/model.md B1), quantities in resource units.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSliceValue {
    pub flow: FlowIdx,
    pub slice: SliceIdx,
    pub quantity: f64,
    pub matched: f64,
    pub fallback_quantity: f64,
    /// EUR per resource unit of this slice's quantity.
    pub shadow_price_eur_per_unit: f64,
}

/// A link in use in one time slice.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSliceValue {
    /// Position in the candidate links.
    pub link: usize,
    pub slice: SliceIdx,
    /// Supply units sent.
    pub quantity: f64,
    /// Demand units served.
    pub delivered: f64,
}

/// A service shared across time slices (docs/model.md B2): the capacity its
/// demands need at their peak, per hour, with and without sharing.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceValue {
    /// The demands' resource (category `service`).
    pub resource: ResourceIdx,
    pub n_demands: usize,
    /// Service supplies serving at least one of the demands.
    pub n_shared_supplies: usize,
    /// Sum over the demands of their peak (max over slices of quantity / hours):
    /// what each would need on its own.
    pub peak_without_sharing: f64,
    /// Sum over the shared supplies of their peak use, plus the peaks of
    /// what the demands still source on their own.
    pub peak_with_sharing: f64,
    /// peak_without_sharing - peak_with_sharing.
    pub peak_saved: f64,
    /// Demand units served by shared supplies in the year.
    pub delivered: f64,
    /// Sum of the surplus of the links serving these demands.
    pub firm_value_eur: f64,
    /// Sum of the externality avoided on those links.
    pub territory_value_eur: f64,
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
    /// One per process, in inventory order (empty without processes.csv).
    pub processes: Vec<ProcessValue>,
    /// Every link and process with a fixed cost (empty without any).
    pub investments: Vec<InvestmentValue>,
    /// Per flow and slice, when slices.csv was given (empty otherwise).
    pub flow_slices: Vec<FlowSliceValue>,
    /// Per link in use and slice, when slices.csv was given.
    pub link_slices: Vec<LinkSliceValue>,
    /// One per service resource that some demand wants, sorted by resource.
    pub services: Vec<ServiceValue>,
    /// What the instruments (docs/model.md C1) collect and pay; zeros when
    /// none is set.
    pub instruments: Instruments,
}

/// The public side of the instruments (docs/model.md C1): transfers between
/// the firms and the public purse, inside C (a tax raises it, a subsidy
/// lowers it), never counted in M.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Instruments {
    /// sum_k t_k E_k at the optimum (a negative impact is a credit paid back).
    pub taxes_eur: f64,
    /// sum_l u_{resource(s)} x_l over the links in use.
    pub subsidies_eur: f64,
    /// sum_k t_k E_k,base: what the taxes would collect with no link.
    pub baseline_taxes_eur: f64,
}

impl Instruments {
    /// R = taxes collected - subsidies paid (negative when the subsidies cost more).
    pub fn public_revenue_eur(&self) -> f64 {
        self.taxes_eur - self.subsidies_eur
    }
}

/// Computes the values of a solver's answer, Part B included.
pub fn value_lp_solution(
    inventory: &Inventory,
    links: &[Link],
    solution: &LpSolution,
    supplier_share: f64,
) -> Valuation {
    value_with(
        inventory,
        links,
        &solution.link_flows,
        &solution.shadow_prices,
        solution.extended.as_ref(),
        supplier_share,
    )
}

/// A solver's tolerance can leave a hair below zero: it is not a real flow.
fn clamp_rest(rest: f64, scale: f64) -> f64 {
    if rest < 0.0 && rest > -1e-9 * scale.max(1.0) {
        0.0
    } else {
        rest
    }
}

fn value_with(
    inventory: &Inventory,
    links: &[Link],
    link_flows: &[f64],
    shadow_prices: &[f64],
    extended: Option<&ExtendedSolution>,
    supplier_share: f64,
) -> Valuation {
    let flows = inventory.flows();
    let alpha = supplier_share;
    // Scaling back against the flows' own quantities is for Part A, where
    // quantities are fixed; process ports' quantities follow their activity.
    let link_flows: Vec<f64> = if inventory.processes().is_empty() && inventory.slices().len() <= 1 {
        within_quantities(inventory, links, link_flows)
    } else {
        link_flows.to_vec()
    };
    let n_slices = inventory.slices().len();
    // Activity per process and slice (none without a solution that has them).
    let slice_activity: Vec<Vec<f64>> = (0..inventory.processes().len())
        .map(|process| {
            extended
                .and_then(|extended| extended.activities.get(process).cloned())
                .unwrap_or_else(|| vec![0.0; n_slices])
        })
        .collect();
    let activity: Vec<f64> = slice_activity.iter().map(|slices| slices.iter().sum()).collect();
    // Quantity of each flow in the year: a process port's follows its activity.
    let quantity: Vec<f64> = flows
        .iter()
        .map(|flow| match flow.process {
            Some(port) => port.per_activity * activity[port.process.index()],
            None => flow.quantity,
        })
        .collect();
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
        .zip(&quantity)
        .map(|((flow, matched), quantity)| {
            if flow.is_process_port() && flow.kind == FlowKind::Demand {
                // A process input has no fallback: it takes what links bring.
                0.0
            } else {
                clamp_rest(quantity - matched, *quantity)
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
        optimized.private_cost_eur += flow.fallback_cost_eur * fallback[position];
        optimized.externality_eur += monetised_fallback[position] * fallback[position];
        add_scaled(&mut optimized_impacts, &flow.fallback_impacts, fallback[position]);
        // In the baseline no process runs: its inputs and outputs are zero.
        if flow.is_process_port() {
            continue;
        }
        baseline.private_cost_eur += flow.fallback_cost_eur * flow.quantity;
        baseline.externality_eur += monetised_fallback[position] * flow.quantity;
        add_scaled(&mut baseline_impacts, &flow.fallback_impacts, flow.quantity);
        firms[flow.firm.index()].baseline_cost_eur += flow.fallback_cost_eur * flow.quantity;
    }

    let mut link_values = Vec::with_capacity(active.len());
    let mut subsidies_eur = 0.0;
    for &(position, x) in &active {
        let link = &links[position];
        let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
        let unit_impacts = link.unit_impacts(inventory);
        let monetised_link = inventory.monetise(&unit_impacts);
        // k_l with the instruments (docs/model.md C1): shared through the surplus.
        let unit_cost = link.private_unit_cost(inventory, &unit_impacts);
        let fixed_cost = inventory.link_fixed_cost_eur(link.supply, link.distance_km);
        subsidies_eur += inventory.resource(supply.resource).subsidy_eur_per_unit * x;
        optimized.private_cost_eur += unit_cost * x + fixed_cost;
        optimized.externality_eur += monetised_link * x;
        add_scaled(&mut optimized_impacts, &unit_impacts, x);
        let surplus = (supply.fallback_cost_eur + link.ratio * demand.fallback_cost_eur - unit_cost) * x - fixed_cost;
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
            unit_cost_eur: unit_cost,
            surplus_eur: surplus,
            supplier_value_eur: alpha * surplus,
            receiver_value_eur: (1.0 - alpha) * surplus,
            externality_avoided_eur: avoided,
            fixed_cost_eur: fixed_cost,
        });
    }

    // Processes: their firm bears the operating and fixed costs and its
    // outputs at their fallback cost.
    let mut process_values = Vec::with_capacity(inventory.processes().len());
    for (position, process) in inventory.processes().iter().enumerate() {
        let activity = activity[position];
        let built = activity > ACTIVE_LINK_THRESHOLD;
        let operating_cost_eur = inventory.process_cost_per_activity(ProcessIdx::from_index(position)) * activity;
        let fixed_cost_eur = if built { process.fixed_cost_eur_per_year } else { 0.0 };
        let mut output_fallback_cost_eur = 0.0;
        let mut output_externality_eur = 0.0;
        for port in &process.ports {
            let flow = inventory.flow(*port);
            if flow.kind == FlowKind::Supply {
                output_fallback_cost_eur += flow.fallback_cost_eur * quantity[port.index()];
                output_externality_eur += monetised_fallback[port.index()] * quantity[port.index()];
            }
        }
        let process_externality = inventory.monetise(&process.impacts) * activity;
        optimized.private_cost_eur += operating_cost_eur + fixed_cost_eur;
        optimized.externality_eur += process_externality;
        add_scaled(&mut optimized_impacts, &process.impacts, activity);
        let cost_borne_eur = operating_cost_eur + fixed_cost_eur + output_fallback_cost_eur;
        firms[process.firm.index()].value_eur -= cost_borne_eur;
        process_values.push(ProcessValue {
            process: ProcessIdx::from_index(position),
            activity,
            slice_activity: slice_activity[position].clone(),
            built,
            operating_cost_eur,
            fixed_cost_eur,
            output_fallback_cost_eur,
            cost_borne_eur,
            externality_eur: process_externality + output_externality_eur,
        });
    }
    for firm in &mut firms {
        firm.optimized_cost_eur = firm.baseline_cost_eur - firm.value_eur;
        firm.compensation_needed_eur = (-firm.value_eur).max(0.0);
    }

    let mut investments = Vec::new();
    for (position, link) in links.iter().enumerate() {
        let fixed = inventory.link_fixed_cost_eur(link.supply, link.distance_km);
        if fixed > 0.0 {
            let x = link_flows.get(position).copied().unwrap_or(0.0);
            investments.push(InvestmentValue {
                investment: Investment::Link(position),
                fixed_cost_eur_per_year: fixed,
                built: x > ACTIVE_LINK_THRESHOLD,
                quantity: if x > ACTIVE_LINK_THRESHOLD { x } else { 0.0 },
            });
        }
    }
    for value in &process_values {
        let process = inventory.process(value.process);
        if process.fixed_cost_eur_per_year > 0.0 {
            investments.push(InvestmentValue {
                investment: Investment::Process(value.process),
                fixed_cost_eur_per_year: process.fixed_cost_eur_per_year,
                built: value.built,
                quantity: value.activity,
            });
        }
    }

    let amount = |impacts: &ImpactVec, category: CategoryIdx| {
        impacts
            .binary_search_by_key(&category, |(c, _)| *c)
            .map(|position| impacts[position].1)
            .unwrap_or(0.0)
    };
    let mut territory_value_global_eur = 0.0;
    let mut territory_value_local_eur = 0.0;
    let (mut taxes_eur, mut baseline_taxes_eur) = (0.0, 0.0);
    let categories: Vec<CategoryValue> = inventory
        .categories()
        .iter()
        .enumerate()
        .map(|(position, category)| {
            let idx = CategoryIdx::from_index(position);
            let (base, opt) = (amount(&baseline_impacts, idx), amount(&optimized_impacts, idx));
            let value_eur = category.value_eur_per_unit * (base - opt);
            if category.tax_eur_per_unit != 0.0 {
                taxes_eur += category.tax_eur_per_unit * opt;
                baseline_taxes_eur += category.tax_eur_per_unit * base;
            }
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
            quantity: quantity[position],
            matched: matched[position],
            fallback_quantity: fallback[position],
            shadow_price_eur_per_unit: shadow_prices.get(position).copied().unwrap_or(0.0),
        })
        .collect();

    let slices = SliceFlows::new(inventory, links, &active, &slice_activity, extended);
    let services = service_values(inventory, links, &link_values, &slices);
    let (flow_slices, link_slices) = if inventory.slices_given() {
        slices.tables(inventory, links, &active)
    } else {
        (Vec::new(), Vec::new())
    };

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
        processes: process_values,
        investments,
        flow_slices,
        link_slices,
        services,
        instruments: Instruments {
            taxes_eur,
            subsidies_eur,
            baseline_taxes_eur,
        },
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

/// Per-slice quantities of the links in use and of every flow.
struct SliceFlows {
    /// Per slice, x_{l,t} of each candidate link (0 for links not in use).
    link: Vec<Vec<f64>>,
    /// Per slice, the quantity of each flow (resource units).
    quantity: Vec<Vec<f64>>,
    /// Per slice, the matched quantity of each flow.
    matched: Vec<Vec<f64>>,
    /// Per slice, the fallback of each flow.
    fallback: Vec<Vec<f64>>,
    /// Per slice, the dual of each flow's balance row.
    shadow_price: Vec<Vec<f64>>,
}

impl SliceFlows {
    fn new(
        inventory: &Inventory,
        links: &[Link],
        active: &[(usize, f64)],
        slice_activity: &[Vec<f64>],
        extended: Option<&ExtendedSolution>,
    ) -> Self {
        let flows = inventory.flows();
        let n_slices = inventory.slices().len();
        let mut link = vec![vec![0.0; links.len()]; n_slices];
        for &(position, x) in active {
            for (slice, row) in link.iter_mut().enumerate() {
                row[position] = match extended {
                    // A solver's hair in one slice is not a flow.
                    Some(extended) => {
                        let x = extended.slice_link_flows[slice][position];
                        if x > ACTIVE_LINK_THRESHOLD {
                            x
                        } else {
                            0.0
                        }
                    }
                    // One slice: the annual flow.
                    None => x,
                };
            }
        }
        let shares: Vec<Vec<f64>> = (0..flows.len())
            .map(|flow| inventory.slice_shares(FlowIdx::from_index(flow)))
            .collect();
        let quantity: Vec<Vec<f64>> = (0..n_slices)
            .map(|slice| {
                flows
                    .iter()
                    .enumerate()
                    .map(|(position, flow)| match flow.process {
                        Some(port) => port.per_activity * slice_activity[port.process.index()][slice],
                        None => flow.quantity * shares[position][slice],
                    })
                    .collect()
            })
            .collect();
        let mut matched = vec![vec![0.0; flows.len()]; n_slices];
        for &(position, _) in active {
            let candidate = &links[position];
            for slice in 0..n_slices {
                let x = link[slice][position];
                matched[slice][candidate.supply.index()] += x;
                matched[slice][candidate.demand.index()] += candidate.ratio * x;
            }
        }
        let fallback: Vec<Vec<f64>> = (0..n_slices)
            .map(|slice| {
                flows
                    .iter()
                    .enumerate()
                    .map(|(position, flow)| {
                        if flow.is_process_port() && flow.kind == FlowKind::Demand {
                            0.0
                        } else {
                            let q = quantity[slice][position];
                            clamp_rest(q - matched[slice][position], q)
                        }
                    })
                    .collect()
            })
            .collect();
        let shadow_price = (0..n_slices)
            .map(|slice| {
                (0..flows.len())
                    .map(|flow| {
                        extended
                            .and_then(|extended| extended.slice_shadow_prices.get(slice)?.get(flow).copied())
                            .unwrap_or(0.0)
                    })
                    .collect()
            })
            .collect();
        Self {
            link,
            quantity,
            matched,
            fallback,
            shadow_price,
        }
    }

    fn tables(
        &self,
        inventory: &Inventory,
        links: &[Link],
        active: &[(usize, f64)],
    ) -> (Vec<FlowSliceValue>, Vec<LinkSliceValue>) {
        let n_slices = inventory.slices().len();
        let mut flow_slices = Vec::with_capacity(inventory.flows().len() * n_slices);
        for flow in 0..inventory.flows().len() {
            for slice in 0..n_slices {
                flow_slices.push(FlowSliceValue {
                    flow: FlowIdx::from_index(flow),
                    slice: SliceIdx::from_index(slice),
                    quantity: self.quantity[slice][flow],
                    matched: self.matched[slice][flow],
                    fallback_quantity: self.fallback[slice][flow],
                    shadow_price_eur_per_unit: self.shadow_price[slice][flow],
                });
            }
        }
        let mut link_slices = Vec::with_capacity(active.len() * n_slices);
        for &(position, _) in active {
            for slice in 0..n_slices {
                let x = self.link[slice][position];
                link_slices.push(LinkSliceValue {
                    link: position,
                    slice: SliceIdx::from_index(slice),
                    quantity: x,
                    delivered: links[position].ratio * x,
                });
            }
        }
        (flow_slices, link_slices)
    }
}

/// The capacity each service resource's demands need at peak, per hour,
/// alone and shared (docs/model.md B2 across the slices of B1).
fn service_values(
    inventory: &Inventory,
    links: &[Link],
    link_values: &[LinkValue],
    slices: &SliceFlows,
) -> Vec<ServiceValue> {
    let flows = inventory.flows();
    let hours: Vec<f64> = inventory.slices().iter().map(|slice| slice.hours).collect();
    let peak = |per_slice: &dyn Fn(usize) -> f64| -> f64 {
        (0..hours.len())
            .map(|slice| per_slice(slice) / hours[slice])
            .fold(0.0, f64::max)
    };
    let mut resources: Vec<ResourceIdx> = flows
        .iter()
        .filter(|flow| {
            flow.kind == FlowKind::Demand && inventory.resource(flow.resource).category == ResourceCategory::Service
        })
        .map(|flow| flow.resource)
        .collect();
    resources.sort();
    resources.dedup();
    resources
        .into_iter()
        .map(|resource| {
            let demands: Vec<usize> = flows
                .iter()
                .enumerate()
                .filter(|(_, flow)| flow.kind == FlowKind::Demand && flow.resource == resource)
                .map(|(position, _)| position)
                .collect();
            let serving: Vec<&LinkValue> = link_values
                .iter()
                .filter(|value| flows[value.demand.index()].resource == resource)
                .collect();
            let mut supplies: Vec<FlowIdx> = serving.iter().map(|value| value.supply).collect();
            supplies.sort();
            supplies.dedup();
            let peak_without_sharing: f64 = demands
                .iter()
                .map(|&demand| peak(&|slice| slices.quantity[slice][demand]))
                .sum();
            let shared_peaks: f64 = supplies
                .iter()
                .map(|&supply| {
                    peak(&|slice| {
                        serving
                            .iter()
                            .filter(|value| value.supply == supply)
                            .map(|value| links[value.link].ratio * slices.link[slice][value.link])
                            .sum()
                    })
                })
                .sum();
            let own_peaks: f64 = demands
                .iter()
                .map(|&demand| peak(&|slice| slices.fallback[slice][demand]))
                .sum();
            let peak_with_sharing = shared_peaks + own_peaks;
            // Rounding leaves a hair of difference where nothing is saved.
            let saved = peak_without_sharing - peak_with_sharing;
            let peak_saved = if saved.abs() <= 1e-9 * peak_without_sharing.max(1.0) {
                0.0
            } else {
                saved
            };
            ServiceValue {
                resource,
                n_demands: demands.len(),
                n_shared_supplies: supplies.len(),
                peak_without_sharing,
                peak_with_sharing,
                peak_saved,
                delivered: serving.iter().map(|value| value.delivered).sum(),
                firm_value_eur: serving.iter().map(|value| value.surplus_eur).sum(),
                territory_value_eur: serving.iter().map(|value| value.externality_avoided_eur).sum(),
            }
        })
        .collect()
}

impl Valuation {
    /// Firms whose value is negative: they need this much to take part.
    pub fn firms_needing_compensation(&self) -> impl Iterator<Item = &FirmValue> {
        self.firms.iter().filter(|firm| firm.compensation_needed_eur > 0.0)
    }
}
