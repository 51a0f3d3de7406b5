//! The validated data model of a territory: firms, flows and the catalogue
//! (resources, routes, substitutions, impacts, externalities).
//!
//! Owns: ids resolved to index newtypes, units converted to each resource's
//! unit, and every precondition of docs/model.md A1. An [`Inventory`] only comes
//! out of [`build::build_inventory`], so code downstream never re-checks a
//! reference, a sign or a unit. Must not do I/O: `io` reads files into
//! [`table::RawTable`]s and hands them here.

pub mod build;
pub mod edit;
pub mod impacts;
pub mod rules;
pub mod table;
pub mod units;

use std::collections::HashMap;

pub use build::{build_inventory, InventoryTables};
pub use edit::{Edit, EditError, ImpactSubject};
pub use impacts::{add_scaled, ImpactStore, ImpactVec, SmallImpactVec};
pub use table::{InputError, InputWarning, RawRow, RawTable, TableFile};

macro_rules! index_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// Index newtype from a `Vec` position; positions come from
            /// vectors whose length was checked against `u32::MAX` at load time.
            pub fn from_index(index: usize) -> Self {
                Self(u32::try_from(index).expect("index fits u32: inventories are checked at load time"))
            }
        }
    };
}

index_newtype!(
    /// Position of a firm in [`Inventory::firms`].
    FirmIdx
);
index_newtype!(
    /// Position of a flow in [`Inventory::flows`].
    FlowIdx
);
index_newtype!(
    /// Position of a resource in [`Inventory::resources`].
    ResourceIdx
);
index_newtype!(
    /// Position of a route in [`Inventory::routes`].
    RouteIdx
);
index_newtype!(
    /// Position of an externality category in [`Inventory::categories`].
    CategoryIdx
);
index_newtype!(
    /// Position of a substitution pair in [`Inventory::substitutions`].
    SubstitutionIdx
);
index_newtype!(
    /// Position of a time slice in [`Inventory::slices`] (docs/model.md B1).
    SliceIdx
);
index_newtype!(
    /// Position of a profile in [`Inventory::profiles`] (docs/model.md B1).
    ProfileIdx
);
index_newtype!(
    /// Position of a conversion process in [`Inventory::processes`] (docs/model.md B3).
    ProcessIdx
);

#[derive(Debug, Clone, PartialEq)]
pub struct Firm {
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub sector: Option<String>,
    pub zone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowKind {
    Supply,
    Demand,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Supply => "supply",
            FlowKind::Demand => "demand",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: String,
    pub firm: FirmIdx,
    pub kind: FlowKind,
    pub resource: ResourceIdx,
    /// Quantity per year in the resource's unit (>= 0).
    pub quantity: f64,
    /// The unit the flow was given in (the resource's unit when the file left it empty).
    pub unit: String,
    /// Resource units per unit of the flow's own unit (1 when they are the same).
    pub unit_factor: f64,
    /// The fallback route; `None` for the input of a process (it has none)
    /// and for a service supply given without one (idle capacity, docs/model.md B2).
    pub fallback: Option<RouteIdx>,
    /// Route units per resource unit (1 when the route is in the resource's unit).
    pub fallback_units_per_unit: f64,
    /// Private cost of the fallback, EUR per resource unit (0 for a service
    /// supply: idle capacity is costless, docs/model.md B2).
    pub fallback_cost_eur: f64,
    /// Impacts of the fallback per resource unit (none for a service supply).
    pub fallback_impacts: ImpactVec,
    pub quality: Option<f64>,
    /// How the annual quantity spreads over the time slices (docs/model.md B1);
    /// `None`: in proportion to the slices' hours.
    pub profile: Option<ProfileIdx>,
    /// Set when the flow is an input or output of a conversion process
    /// (a row of process_io.csv, docs/model.md B3). Its quantity is then
    /// per_activity * activity, decided by the LP; `quantity` holds the most
    /// it can be in a year (per_activity * capacity, infinite without a
    /// capacity), which only serves to generate candidate links.
    pub process: Option<ProcessPort>,
}

/// A flow that is one input or output of a conversion process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessPort {
    pub process: ProcessIdx,
    /// Resource units taken (input) or given (output) per activity unit (> 0).
    pub per_activity: f64,
}

impl Flow {
    /// Whether this flow is an input or output of a process rather than a row of flows.csv.
    pub fn is_process_port(&self) -> bool {
        self.process.is_some()
    }
}

/// A time slice (docs/model.md B1): slices.csv, or the single slice `year` of 8760 h.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub id: String,
    /// Hours in a year (> 0).
    pub hours: f64,
}

/// A profile (docs/model.md B1): the share of a flow's annual quantity in each slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    /// One share per slice, in slice order (>= 0, summing to 1 within 1e-6).
    pub shares: Vec<f64>,
}

/// A conversion hub (docs/model.md B3): processes.csv and its process_io.csv rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub id: String,
    pub firm: FirmIdx,
    /// Activity units per year; `None`: unbounded.
    pub capacity: Option<f64>,
    pub cost_eur_per_activity: f64,
    /// Paid when the process is built (a binary of docs/model.md B4 when > 0).
    pub fixed_cost_eur_per_year: f64,
    /// Impacts per activity unit (subject `process:<id>`).
    pub impacts: ImpactVec,
    /// The process's inputs and outputs, as flows (see [`Flow::process`]).
    pub ports: Vec<FlowIdx>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceCategory {
    Material,
    Energy,
    Water,
    Service,
}

impl ResourceCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceCategory::Material => "material",
            ResourceCategory::Energy => "energy",
            ResourceCategory::Water => "water",
            ResourceCategory::Service => "service",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: String,
    pub category: ResourceCategory,
    pub unit: String,
    pub transport_cost_eur_per_unit_km: f64,
    /// `None` means unlimited.
    pub max_distance_km: Option<f64>,
    /// Impacts per resource unit moved one km (subject `transport:<resource>`).
    pub transport_impacts: ImpactVec,
    /// Annual fixed cost of a link carrying this resource, per km (pipes);
    /// when > 0 each such link is an investment with a binary (docs/model.md B4).
    pub link_fixed_cost_eur_per_km_year: f64,
    /// The instrument `subsidy.<resource>` (docs/model.md C1): EUR paid to
    /// the firms per supply unit of this resource sent on a link (>= 0; 0 in
    /// a loaded inventory, set by [`Edit::Subsidy`]).
    pub subsidy_eur_per_unit: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    Disposal,
    Sourcing,
}

impl RouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Disposal => "disposal",
            RouteKind::Sourcing => "sourcing",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub id: String,
    pub kind: RouteKind,
    pub unit: String,
    /// Private cost to the firm, EUR per route unit, taxes included.
    pub cost_eur_per_unit: f64,
    /// Impacts per route unit (subject `route:<route>`).
    pub impacts: ImpactVec,
    /// A what-if ban: flows may not fall back on this route (false in a loaded inventory).
    pub banned: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Substitution {
    pub supply_resource: ResourceIdx,
    pub demand_resource: ResourceIdx,
    /// Demand units served per supply unit (> 0).
    pub ratio: f64,
    /// EUR per supply unit (>= 0).
    pub processing_cost_eur_per_unit: f64,
    /// Impacts per supply unit processed (subject `substitution:<a>><b>`).
    pub impacts: ImpactVec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Local,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Local => "local",
        }
    }
}

/// An externality category: an impact with a money value per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: String,
    pub unit: String,
    pub value_eur_per_unit: f64,
    pub scope: Scope,
    /// The instrument `tax.<category>` (docs/model.md C1): EUR per unit of
    /// the impact charged to the firms that cause it (>= 0; 0 in a loaded
    /// inventory, set by [`Edit::Tax`]). It changes the private cost, never
    /// the externality value `value_eur_per_unit`.
    pub tax_eur_per_unit: f64,
}

/// A validated inventory: every reference resolved, every unit converted.
/// Its fields are private to `model`: the loader builds it, and a changed
/// inventory is derived with [`Inventory::edited`] (see [`edit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    firms: Vec<Firm>,
    flows: Vec<Flow>,
    resources: Vec<Resource>,
    routes: Vec<Route>,
    substitutions: Vec<Substitution>,
    categories: Vec<Category>,
    /// Substitutions whose supply resource is the key, sorted by demand resource.
    substitutions_by_supply: Vec<Vec<SubstitutionIdx>>,
    /// distances.csv, both directions filled in (a reverse row of its own wins).
    distance_overrides: HashMap<(FirmIdx, FirmIdx), f64>,
    /// Per firm: may it take part in links? All true in a loaded inventory;
    /// coalition games (Shapley values) switch outsiders off.
    exchange_allowed: Vec<bool>,
    /// Time slices in the order of slices.csv; one slice `year` of 8760 h without it.
    slices: Vec<Slice>,
    /// Whether slices.csv was given (per-slice tables are written only then).
    slices_given: bool,
    /// profiles.csv, in file order.
    profiles: Vec<Profile>,
    /// processes.csv, sorted by id.
    processes: Vec<Process>,
}

/// The slice every inventory without slices.csv has (docs/model.md B1).
pub const YEAR_SLICE: &str = "year";
/// Hours of the `year` slice.
pub const HOURS_PER_YEAR: f64 = 8760.0;
/// Hours of a leap year: slices adding up to more earn a warning.
pub const HOURS_PER_LEAP_YEAR: f64 = 8784.0;

/// Mean Earth radius used by the haversine distance (docs/model.md A2).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in km between two WGS84 points given in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

impl Inventory {
    pub fn firms(&self) -> &[Firm] {
        &self.firms
    }
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
    pub fn substitutions(&self) -> &[Substitution] {
        &self.substitutions
    }
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    pub fn slices(&self) -> &[Slice] {
        &self.slices
    }
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }
    pub fn process(&self, process: ProcessIdx) -> &Process {
        &self.processes[process.index()]
    }
    /// Whether slices.csv was given.
    pub fn slices_given(&self) -> bool {
        self.slices_given
    }
    /// Sum of the slices' hours.
    pub fn total_hours(&self) -> f64 {
        self.slices.iter().map(|slice| slice.hours).sum()
    }
    /// Share of a flow's annual quantity in each slice (docs/model.md B1): its
    /// profile's shares, else hours_t / sum(hours). Process ports, whose
    /// quantity the LP decides, get the hours share.
    pub fn slice_shares(&self, flow: FlowIdx) -> Vec<f64> {
        match self.flow(flow).profile {
            Some(profile) => self.profiles[profile.index()].shares.clone(),
            None => self.hour_shares(),
        }
    }
    /// hours_t / sum(hours), per slice.
    pub fn hour_shares(&self) -> Vec<f64> {
        let total = self.total_hours();
        self.slices.iter().map(|slice| slice.hours / total).collect()
    }
    /// Whether a flow's fallback route is banned by a what-if.
    pub fn fallback_banned(&self, flow: &Flow) -> bool {
        flow.fallback.is_some_and(|route| self.route(route).banned)
    }

    pub fn firm(&self, firm: FirmIdx) -> &Firm {
        &self.firms[firm.index()]
    }
    pub fn flow(&self, flow: FlowIdx) -> &Flow {
        &self.flows[flow.index()]
    }
    pub fn resource(&self, resource: ResourceIdx) -> &Resource {
        &self.resources[resource.index()]
    }
    pub fn route(&self, route: RouteIdx) -> &Route {
        &self.routes[route.index()]
    }
    pub fn substitution(&self, substitution: SubstitutionIdx) -> &Substitution {
        &self.substitutions[substitution.index()]
    }
    pub fn category(&self, category: CategoryIdx) -> &Category {
        &self.categories[category.index()]
    }

    /// The substitution pairs a supply of `resource` can serve.
    pub fn substitutions_from(&self, resource: ResourceIdx) -> &[SubstitutionIdx] {
        &self.substitutions_by_supply[resource.index()]
    }

    /// Annual fixed cost of a link from `supply` over `distance_km` (docs/model.md
    /// B4): the supply resource's link_fixed_cost_eur_per_km_year times the
    /// distance; 0 when the resource has none.
    pub fn link_fixed_cost_eur(&self, supply: FlowIdx, distance_km: f64) -> f64 {
        self.resource(self.flow(supply).resource)
            .link_fixed_cost_eur_per_km_year
            * distance_km
    }

    /// The pairs of firms whose distance distances.csv gives (both
    /// directions), with that distance in km.
    pub fn distance_overrides(&self) -> &HashMap<(FirmIdx, FirmIdx), f64> {
        &self.distance_overrides
    }

    /// Distance used for a link between two firms: distances.csv when it has
    /// the pair, else the haversine distance.
    pub fn distance_km(&self, from: FirmIdx, to: FirmIdx) -> f64 {
        if let Some(distance) = self.distance_overrides.get(&(from, to)) {
            return *distance;
        }
        let (a, b) = (self.firm(from), self.firm(to));
        haversine_km(a.lat, a.lon, b.lat, b.lon)
    }

    /// Money value of an impact vector: sum over categories of value * amount.
    pub fn monetise(&self, impacts: &[(CategoryIdx, f64)]) -> f64 {
        impacts
            .iter()
            .map(|(category, amount)| self.category(*category).value_eur_per_unit * amount)
            .sum()
    }

    /// The instruments' charge on an impact vector (docs/model.md C1): sum
    /// over categories of tax * amount, EUR, added to a private cost.
    /// Categories without a tax add nothing, so `base + instrument_cost`
    /// is `base` bit for bit when no tax is set.
    pub fn instrument_cost(&self, impacts: &[(CategoryIdx, f64)]) -> f64 {
        let mut cost = 0.0;
        for (category, amount) in impacts {
            let tax = self.category(*category).tax_eur_per_unit;
            if tax != 0.0 {
                cost += tax * amount;
            }
        }
        cost
    }

    /// A private cost with the instruments' charge on `impacts` added: `base`
    /// itself (the same bits) when no category of `impacts` is taxed.
    pub fn with_taxes(&self, base: f64, impacts: &[(CategoryIdx, f64)]) -> f64 {
        if impacts
            .iter()
            .all(|(category, _)| self.category(*category).tax_eur_per_unit == 0.0)
        {
            base
        } else {
            base + self.instrument_cost(impacts)
        }
    }

    /// Whether any instrument (tax or subsidy) is set to a non-zero value.
    pub fn has_instruments(&self) -> bool {
        self.categories.iter().any(|c| c.tax_eur_per_unit != 0.0)
            || self.resources.iter().any(|r| r.subsidy_eur_per_unit != 0.0)
    }

    /// The private cost of a process's activity per unit: its
    /// cost_eur_per_activity with the taxes on its impacts (docs/model.md C1;
    /// the process's firm causes them).
    pub fn process_cost_per_activity(&self, process: ProcessIdx) -> f64 {
        let process = self.process(process);
        self.with_taxes(process.cost_eur_per_activity, &process.impacts)
    }

    /// Whether a firm may take part in links (false only inside coalition games).
    pub fn may_exchange(&self, firm: FirmIdx) -> bool {
        self.exchange_allowed[firm.index()]
    }

    pub fn firm_index(&self, id: &str) -> Option<FirmIdx> {
        self.firms
            .iter()
            .position(|firm| firm.id == id)
            .map(FirmIdx::from_index)
    }
    pub fn flow_index(&self, id: &str) -> Option<FlowIdx> {
        self.flows
            .iter()
            .position(|flow| flow.id == id)
            .map(FlowIdx::from_index)
    }
    pub fn category_index(&self, id: &str) -> Option<CategoryIdx> {
        self.categories
            .iter()
            .position(|c| c.id == id)
            .map(CategoryIdx::from_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_a_known_distance() {
        // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): about 343.5 km
        // on a 6371 km sphere (independently computed with the spherical law
        // of cosines: 343.56 km).
        let d = haversine_km(48.8566, 2.3522, 51.5074, -0.1278);
        assert!((d - 343.56).abs() < 0.5, "{d}");
        assert_eq!(haversine_km(51.0, 2.3, 51.0, 2.3), 0.0);
    }
}
