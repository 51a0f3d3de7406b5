//! The validated data model of a territory: firms, flows and the catalogue
//! (resources, routes, substitutions, impacts, externalities).
//!
//! Owns: ids resolved to index newtypes, units converted to each resource's
//! unit, and every precondition of MODEL.md A1. An [`Inventory`] only comes
//! out of [`build::build_inventory`], so code downstream never re-checks a
//! reference, a sign or a unit. Must not do I/O: `io` reads files into
//! [`table::RawTable`]s and hands them here.

pub mod build;
pub mod table;
pub mod units;

use std::collections::HashMap;

pub use build::{build_inventory, InventoryTables};
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

/// Amounts per unit in a few impact categories, sorted by category, no duplicates.
pub type ImpactVec = Vec<(CategoryIdx, f64)>;

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
    pub fallback: RouteIdx,
    /// Route units per resource unit (1 when the route is in the resource's unit).
    pub fallback_units_per_unit: f64,
    /// Private cost of the fallback, EUR per resource unit.
    pub fallback_cost_eur: f64,
    /// Impacts of the fallback per resource unit.
    pub fallback_impacts: ImpactVec,
    pub quality: Option<f64>,
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
}

/// A validated inventory: every reference resolved, every unit converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    pub(crate) firms: Vec<Firm>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) resources: Vec<Resource>,
    pub(crate) routes: Vec<Route>,
    pub(crate) substitutions: Vec<Substitution>,
    pub(crate) categories: Vec<Category>,
    /// Substitutions whose supply resource is the key, sorted by demand resource.
    pub(crate) substitutions_by_supply: Vec<Vec<SubstitutionIdx>>,
    /// distances.csv, both directions filled in (a reverse row of its own wins).
    pub(crate) distance_overrides: HashMap<(FirmIdx, FirmIdx), f64>,
    /// Per firm: may it take part in links? All true in a loaded inventory;
    /// coalition games (Shapley values) switch outsiders off.
    pub(crate) exchange_allowed: Vec<bool>,
}

/// Mean Earth radius used by the haversine distance (MODEL.md A2).
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

/// Adds `scale * b` into the sparse vector `a`, keeping it sorted by category.
pub fn add_scaled(a: &mut ImpactVec, b: &[(CategoryIdx, f64)], scale: f64) {
    for (category, amount) in b {
        match a.binary_search_by_key(category, |(c, _)| *c) {
            Ok(position) => a[position].1 += scale * amount,
            Err(position) => a.insert(position, (*category, scale * amount)),
        }
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

    #[test]
    fn add_scaled_merges_sorted() {
        let mut a = vec![(CategoryIdx(0), 1.0), (CategoryIdx(2), 2.0)];
        add_scaled(&mut a, &[(CategoryIdx(1), 1.0), (CategoryIdx(2), 1.0)], 3.0);
        assert_eq!(
            a,
            vec![(CategoryIdx(0), 1.0), (CategoryIdx(1), 3.0), (CategoryIdx(2), 5.0)]
        );
    }
}
