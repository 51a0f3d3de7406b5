//! Which links may exist (docs/model.md A2), with each link's unit cost
//! precomputed so that the LP and the valuation read it directly.
//!
//! A link's unit impacts are not stored: they are the same function of the
//! catalogue, its substitution pair and its distance wherever they are read
//! ([`Link::unit_impacts`], no edit changes an impact), and a stored vector
//! a link cost more memory and time than the rest of the link at a million
//! flows (tens of millions of links).
//!
//! Supplies are matched to demands through a spatial index instead of a
//! scan of every supply-demand pair: for each substitution pair whose
//! supply resource has a finite `max_distance_km` D, the demands of the
//! demand resource are bucketed in a uniform grid of cubes over their
//! positions on the sphere (3D, in km), with cubes just wider than the
//! chord 2R sin(D / 2R) that a great-circle distance of D spans. A demand
//! within D of a supply lies in the supply's cube or one of its 26
//! neighbours, whatever the latitude (no trouble at the poles or across the
//! antimeridian). The firms that distances.csv pairs with the supply's firm
//! are visited as well, since an override may bring a pair within D that
//! the great circle puts beyond it. Every pair found is then checked
//! exactly as A2 says; resources with no limit scan all their demands.
//! Supplies are processed in parallel (rayon).
//!
//! Invariant: links are sorted by (supply flow, demand flow) and a pair
//! appears at most once, whatever the order of the input files' rows or the
//! number of threads.

use std::collections::HashMap;

use rayon::prelude::*;

mod components;
pub use components::{components, Components};

use crate::model::{
    add_scaled, CategoryIdx, FirmIdx, Flow, FlowIdx, FlowKind, Inventory, Resource, SmallImpactVec, Substitution,
    SubstitutionIdx, EARTH_RADIUS_KM,
};

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
}

impl Link {
    /// Impacts per supply unit sent: the supply resource's transport impacts
    /// times the distance, plus the substitution pair's impacts. Without a
    /// heap allocation for the embedded catalogue (at most
    /// [`SmallImpactVec::INLINE`] categories a link).
    pub fn unit_impacts(&self, inventory: &Inventory) -> SmallImpactVec {
        unit_impacts(inventory, inventory.substitution(self.substitution), self.distance_km)
    }

    /// The private cost the firms pay per supply unit sent (docs/model.md A3
    /// and C1): k_l plus the taxes on the link's unit impacts (`unit_impacts`,
    /// [`Link::unit_impacts`] of the same inventory), minus the subsidy of
    /// its supply resource. Exactly `unit_cost_eur` when no instrument is set.
    /// Derived here, not stored, so that a link kept across an edit of a
    /// tax, a subsidy or an impact reads the edited inventory.
    pub fn private_unit_cost(&self, inventory: &Inventory, unit_impacts: &[(CategoryIdx, f64)]) -> f64 {
        let taxed = inventory.with_taxes(self.unit_cost_eur, unit_impacts);
        let subsidy = inventory
            .resource(inventory.flow(self.supply).resource)
            .subsidy_eur_per_unit;
        if subsidy == 0.0 {
            taxed
        } else {
            taxed - subsidy
        }
    }
}

/// How candidate links are generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CandidateOptions {
    /// Keep only the K cheapest links of each supply (`--max-candidates`).
    /// An approximation: the optimum over the kept links may be worse than
    /// the true optimum. "Cheapest" is by net social cost per supply unit,
    /// see [`net_social_unit_cost`]. `None` (the default) keeps every link.
    pub max_per_supply: Option<usize>,
}

/// All candidate links of an inventory (docs/model.md A2, exact).
pub fn candidate_links(inventory: &Inventory) -> Vec<Link> {
    candidate_links_with(inventory, &CandidateOptions::default())
}

/// Candidate links, optionally keeping only the cheapest of each supply.
pub fn candidate_links_with(inventory: &Inventory, options: &CandidateOptions) -> Vec<Link> {
    let index = DemandIndex::new(inventory);
    let supplies: Vec<FlowIdx> = inventory
        .flows()
        .iter()
        .enumerate()
        .filter(|(_, flow)| flow.kind == FlowKind::Supply && flow.quantity > 0.0 && inventory.may_exchange(flow.firm))
        .map(|(position, _)| FlowIdx::from_index(position))
        .collect();
    let per_supply: Vec<Vec<Link>> = supplies
        .par_iter()
        .map_init(Vec::new, |scratch, &supply_idx| {
            let mut links = index.links_from(inventory, supply_idx, scratch);
            if let Some(keep) = options.max_per_supply {
                keep_cheapest(inventory, &mut links, keep);
            }
            links
        })
        .collect();
    let mut links = Vec::with_capacity(per_supply.iter().map(Vec::len).sum());
    for supply_links in per_supply {
        links.extend(supply_links);
    }
    links
}

/// The ranking of `--max-candidates`: the link's own social cost per supply
/// unit (k_l + m_l, m_l the monetised unit impacts) minus what it saves on
/// the demand's fallback (r_l times the fallback's private cost plus its
/// monetised impacts). The supply's own fallback is the same for all its
/// links, so it does not change the ranking.
pub fn net_social_unit_cost(inventory: &Inventory, link: &Link) -> f64 {
    let demand = inventory.flow(link.demand);
    let unit_impacts = link.unit_impacts(inventory);
    link.private_unit_cost(inventory, &unit_impacts) + inventory.monetise(&unit_impacts)
        - link.ratio * (demand.fallback_cost_eur + inventory.monetise(&demand.fallback_impacts))
}

/// Keeps the `keep` links of one supply with the lowest net social unit
/// cost (ties: the lower demand index), still sorted by demand.
fn keep_cheapest(inventory: &Inventory, links: &mut Vec<Link>, keep: usize) {
    if links.len() <= keep {
        return;
    }
    let mut ranked: Vec<(f64, Link)> = links
        .drain(..)
        .map(|link| (net_social_unit_cost(inventory, &link), link))
        .collect();
    ranked.sort_by(|(a, link_a), (b, link_b)| a.total_cmp(b).then(link_a.demand.cmp(&link_b.demand)));
    ranked.truncate(keep);
    links.extend(ranked.into_iter().map(|(_, link)| link));
    links.sort_by_key(|link| link.demand);
}

/// A position on the sphere of radius [`EARTH_RADIUS_KM`], in km.
type Point = [f64; 3];
type Cell = [i64; 3];

fn point(lat: f64, lon: f64) -> Point {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        EARTH_RADIUS_KM * phi.cos() * lambda.cos(),
        EARTH_RADIUS_KM * phi.cos() * lambda.sin(),
        EARTH_RADIUS_KM * phi.sin(),
    ]
}

fn cell(point: &Point, size_km: f64) -> Cell {
    point.map(|coordinate| (coordinate / size_km).floor() as i64)
}

/// Demands of one resource bucketed by cube.
#[derive(Debug)]
struct Grid {
    cell_km: f64,
    buckets: HashMap<Cell, Vec<FlowIdx>>,
}

/// What candidate generation looks demands up in.
struct DemandIndex {
    /// Demands with a positive quantity and a firm that may exchange, by
    /// resource, in flow order.
    demands_by_resource: Vec<Vec<FlowIdx>>,
    /// Per substitution pair: a grid when the supply resource's
    /// max_distance_km is finite (and less than half the Earth's
    /// circumference), else `None` (scan the resource's demands).
    grids: Vec<Option<Grid>>,
    /// Firm positions on the sphere.
    firm_points: Vec<Point>,
    /// distances.csv partners of each firm (the firms it has a row with).
    override_partners: Vec<Vec<FirmIdx>>,
    /// Eligible demands of each firm, only filled when distances.csv has rows.
    demands_by_firm: Vec<Vec<FlowIdx>>,
}

impl DemandIndex {
    fn new(inventory: &Inventory) -> Self {
        let flows = inventory.flows();
        let mut demands_by_resource: Vec<Vec<FlowIdx>> = vec![Vec::new(); inventory.resources().len()];
        for (position, flow) in flows.iter().enumerate() {
            if flow.kind == FlowKind::Demand && flow.quantity > 0.0 && inventory.may_exchange(flow.firm) {
                demands_by_resource[flow.resource.index()].push(FlowIdx::from_index(position));
            }
        }
        let firm_points: Vec<Point> = inventory.firms().iter().map(|firm| point(firm.lat, firm.lon)).collect();
        let grids = inventory
            .substitutions()
            .iter()
            .map(|substitution| {
                let max_km = inventory.resource(substitution.supply_resource).max_distance_km?;
                if max_km >= std::f64::consts::PI * EARTH_RADIUS_KM {
                    return None;
                }
                // The chord of a great-circle arc of max_km, widened a little
                // so that rounding can never push a pair at exactly max_km
                // two cubes apart.
                let chord_km = 2.0 * EARTH_RADIUS_KM * (max_km / (2.0 * EARTH_RADIUS_KM)).sin();
                let cell_km = chord_km * (1.0 + 1e-9) + 1e-9;
                let mut buckets: HashMap<Cell, Vec<FlowIdx>> = HashMap::new();
                for &demand_idx in &demands_by_resource[substitution.demand_resource.index()] {
                    let firm = inventory.flow(demand_idx).firm;
                    buckets
                        .entry(cell(&firm_points[firm.index()], cell_km))
                        .or_default()
                        .push(demand_idx);
                }
                Some(Grid { cell_km, buckets })
            })
            .collect();
        let mut override_partners: Vec<Vec<FirmIdx>> = vec![Vec::new(); inventory.firms().len()];
        let mut demands_by_firm: Vec<Vec<FlowIdx>> = Vec::new();
        if !inventory.distance_overrides().is_empty() {
            for (from, to) in inventory.distance_overrides().keys() {
                override_partners[from.index()].push(*to);
            }
            for partners in &mut override_partners {
                partners.sort_unstable();
                partners.dedup();
            }
            demands_by_firm = vec![Vec::new(); inventory.firms().len()];
            for demands in &demands_by_resource {
                for &demand_idx in demands {
                    demands_by_firm[inventory.flow(demand_idx).firm.index()].push(demand_idx);
                }
            }
        }
        Self {
            demands_by_resource,
            grids,
            firm_points,
            override_partners,
            demands_by_firm,
        }
    }

    /// The links of one supply, sorted by demand. `scratch` is a reusable buffer.
    fn links_from(&self, inventory: &Inventory, supply_idx: FlowIdx, scratch: &mut Vec<FlowIdx>) -> Vec<Link> {
        let supply = inventory.flow(supply_idx);
        let resource = inventory.resource(supply.resource);
        let mut links = Vec::new();
        for &substitution_idx in inventory.substitutions_from(supply.resource) {
            let substitution = inventory.substitution(substitution_idx);
            let demand_resource = substitution.demand_resource;
            let candidates: &[FlowIdx] = match &self.grids[substitution_idx.index()] {
                None => &self.demands_by_resource[demand_resource.index()],
                Some(grid) => {
                    scratch.clear();
                    let [x, y, z] = cell(&self.firm_points[supply.firm.index()], grid.cell_km);
                    for dx in -1..=1 {
                        for dy in -1..=1 {
                            for dz in -1..=1 {
                                if let Some(bucket) = grid.buckets.get(&[x + dx, y + dy, z + dz]) {
                                    scratch.extend_from_slice(bucket);
                                }
                            }
                        }
                    }
                    for partner in &self.override_partners[supply.firm.index()] {
                        scratch.extend(
                            self.demands_by_firm[partner.index()]
                                .iter()
                                .filter(|demand_idx| inventory.flow(**demand_idx).resource == demand_resource),
                        );
                    }
                    scratch.sort_unstable();
                    scratch.dedup();
                    scratch
                }
            };
            links.extend(candidates.iter().filter_map(|&demand_idx| {
                link_if_allowed(
                    inventory,
                    (supply_idx, supply, resource),
                    (substitution_idx, substitution),
                    demand_idx,
                )
            }));
        }
        links.sort_by_key(|link| link.demand);
        links
    }
}

/// The link from a supply to an eligible demand (positive quantity, firm
/// that may exchange, resource of the substitution pair) when A2 allows it.
fn link_if_allowed(
    inventory: &Inventory,
    (supply_idx, supply, resource): (FlowIdx, &Flow, &Resource),
    (substitution_idx, substitution): (SubstitutionIdx, &Substitution),
    demand_idx: FlowIdx,
) -> Option<Link> {
    let demand = inventory.flow(demand_idx);
    if demand.firm == supply.firm {
        return None;
    }
    if let Some(minimum) = demand.quality {
        match supply.quality {
            Some(offered) if offered >= minimum => {}
            _ => return None,
        }
    }
    let distance_km = inventory.distance_km(supply.firm, demand.firm);
    if resource.max_distance_km.is_some_and(|max| distance_km > max) {
        return None;
    }
    Some(Link {
        supply: supply_idx,
        demand: demand_idx,
        substitution: substitution_idx,
        distance_km,
        ratio: substitution.ratio,
        unit_cost_eur: resource.transport_cost_eur_per_unit_km * distance_km
            + substitution.processing_cost_eur_per_unit,
    })
}

/// Impacts per supply unit over `distance_km` through `substitution`
/// (docs/model.md A2), summed in one fixed order so that every reader gets
/// the same bits.
fn unit_impacts(inventory: &Inventory, substitution: &Substitution, distance_km: f64) -> SmallImpactVec {
    let mut impacts = SmallImpactVec::new();
    add_scaled(
        &mut impacts,
        &inventory.resource(substitution.supply_resource).transport_impacts,
        distance_km,
    );
    add_scaled(&mut impacts, &substitution.impacts, 1.0);
    impacts
}

/// Every supply against every demand of its substitution pairs: the
/// definition of A2 read literally, kept to check the index against.
#[cfg(test)]
fn candidate_links_brute_force(inventory: &Inventory) -> Vec<Link> {
    let flows = inventory.flows();
    let mut links = Vec::new();
    for (supply_position, supply) in flows.iter().enumerate() {
        if supply.kind != FlowKind::Supply || supply.quantity <= 0.0 || !inventory.may_exchange(supply.firm) {
            continue;
        }
        let resource = inventory.resource(supply.resource);
        for (demand_position, demand) in flows.iter().enumerate() {
            if demand.kind != FlowKind::Demand || demand.quantity <= 0.0 || !inventory.may_exchange(demand.firm) {
                continue;
            }
            let Some(&substitution_idx) = inventory
                .substitutions_from(supply.resource)
                .iter()
                .find(|s| inventory.substitution(**s).demand_resource == demand.resource)
            else {
                continue;
            };
            links.extend(link_if_allowed(
                inventory,
                (FlowIdx::from_index(supply_position), supply, resource),
                (substitution_idx, inventory.substitution(substitution_idx)),
                FlowIdx::from_index(demand_position),
            ));
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;
    use crate::io::{load_inventory, InventorySource};

    /// A random inventory: firms in a box (or near a pole, or across the
    /// antimeridian), heat, steam, oxygen (limited distances, qualities) and
    /// slag (unlimited), some zero quantities, distance overrides shorter
    /// and longer than the great circle, and max distances overridden to
    /// tiny or huge values.
    #[derive(Debug, Clone)]
    struct Case {
        centre: (f64, f64),
        spread_deg: f64,
        firms: Vec<(f64, f64)>,
        flows: Vec<(usize, bool, usize, f64, Option<f64>)>,
        overrides: Vec<(usize, usize, f64)>,
        max_distances: [Option<f64>; 3],
        excluded_firm: Option<usize>,
    }

    const RESOURCES: [(&str, &str, &str); 4] = [
        ("hot_water_heat", "heat_dissipation", "gas_boiler_heat"),
        ("steam", "heat_dissipation", "gas_boiler_heat"),
        ("oxygen", "venting", "liquid_gas_delivery"),
        ("bf_slag", "landfill", "landfill"),
    ];

    fn case() -> impl Strategy<Value = Case> {
        let centre = prop_oneof![
            Just((50.0, 3.0)),
            Just((89.9, 0.0)),
            Just((0.0, 179.95)),
            Just((-45.0, -70.0))
        ];
        (
            centre,
            prop_oneof![Just(0.05), Just(0.3), Just(2.0)],
            proptest::collection::vec((-1.0..1.0f64, -1.0..1.0f64), 2..25),
            proptest::collection::vec(
                (
                    0..25usize,
                    any::<bool>(),
                    0..4usize,
                    prop_oneof![Just(0.0), 1.0..100.0f64],
                    proptest::option::of(prop_oneof![Just(60.0), Just(90.0), 40.0..200.0f64]),
                ),
                1..60,
            ),
            proptest::collection::vec((0..25usize, 0..25usize, prop_oneof![0.0..2.0f64, 0.0..150.0f64]), 0..16),
            proptest::array::uniform3(proptest::option::of(prop_oneof![
                Just(0.001),
                1.0..100.0f64,
                Just(30_000.0)
            ])),
            proptest::option::of(0..25usize),
        )
            .prop_map(
                |(centre, spread_deg, firms, flows, overrides, max_distances, excluded_firm)| Case {
                    centre,
                    spread_deg,
                    firms,
                    flows,
                    overrides,
                    max_distances,
                    excluded_firm,
                },
            )
    }

    fn write_case(case: &Case, dir: &std::path::Path) {
        let n_firms = case.firms.len();
        let mut firms = String::from("firm_id,name,lat,lon\n");
        for (position, (dy, dx)) in case.firms.iter().enumerate() {
            let lat = (case.centre.0 + dy * case.spread_deg).clamp(-90.0, 90.0);
            let mut lon = case.centre.1 + dx * case.spread_deg;
            if lon > 180.0 {
                lon -= 360.0;
            }
            writeln!(firms, "f{position},F{position},{lat},{lon}").unwrap();
        }
        let mut flows = String::from("flow_id,firm_id,kind,resource,quantity,fallback,quality\n");
        for (position, (firm, supply, resource, quantity, quality)) in case.flows.iter().enumerate() {
            let (resource, disposal, sourcing) = RESOURCES[*resource];
            // Slag demands: clinker through the catalogue's substitution pair.
            let (resource, fallback) = match (supply, resource) {
                (true, _) => (resource, disposal),
                (false, "bf_slag") => ("clinker", "clinker_production"),
                (false, _) => (resource, sourcing),
            };
            let quality = quality.map(|q| q.to_string()).unwrap_or_default();
            let kind = if *supply { "supply" } else { "demand" };
            writeln!(
                flows,
                "x{position},f{},{kind},{resource},{quantity},{fallback},{quality}",
                firm % n_firms
            )
            .unwrap();
        }
        let mut distances = String::from("from_firm,to_firm,distance_km\n");
        let mut seen = std::collections::HashSet::new();
        for (from, to, km) in &case.overrides {
            let (from, to) = (from % n_firms, to % n_firms);
            if from != to && seen.insert((from, to)) {
                writeln!(distances, "f{from},f{to},{km}").unwrap();
            }
        }
        let mut resources = String::from("resource,category,unit,transport_cost_eur_per_unit_km,max_distance_km\n");
        for ((name, unit), max) in [("hot_water_heat", "MWh"), ("steam", "MWh"), ("oxygen", "t")]
            .iter()
            .zip(case.max_distances)
        {
            let max = max.map(|m| m.to_string()).unwrap_or_default();
            let category = if *unit == "t" { "material" } else { "energy" };
            writeln!(resources, "{name},{category},{unit},0.1,{max}").unwrap();
        }
        std::fs::write(dir.join("firms.csv"), firms).unwrap();
        std::fs::write(dir.join("flows.csv"), flows).unwrap();
        std::fs::write(dir.join("distances.csv"), distances).unwrap();
        std::fs::write(dir.join("resources.csv"), resources).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

        #[test]
        fn the_index_finds_exactly_the_brute_force_links(case in case()) {
            let dir = tempfile::tempdir().unwrap();
            write_case(&case, dir.path());
            let loaded = load_inventory(&InventorySource::Folder(dir.path().to_path_buf()));
            let mut inventory = match loaded {
                Ok(loaded) => loaded.inventory,
                Err(error) => panic!("the random inventory does not load: {error:?}"),
            };
            if let Some(firm) = case.excluded_firm {
                let firm = FirmIdx::from_index(firm % inventory.firms().len());
                inventory = inventory.edited(&[crate::model::Edit::ForbidExchange(firm)]).unwrap();
            }
            let indexed = candidate_links(&inventory);
            let brute = candidate_links_brute_force(&inventory);
            prop_assert_eq!(&indexed, &brute);
            // The invariant: sorted by (supply, demand), each pair once.
            prop_assert!(indexed.windows(2).all(|w| (w[0].supply, w[0].demand) < (w[1].supply, w[1].demand)));
            // Keeping every link is the identity; keeping K keeps the K cheapest.
            let all = candidate_links_with(&inventory, &CandidateOptions { max_per_supply: Some(usize::MAX) });
            prop_assert_eq!(&all, &brute);
            let two = candidate_links_with(&inventory, &CandidateOptions { max_per_supply: Some(2) });
            prop_assert!(two.iter().all(|link| brute.contains(link)));
            for supply in brute.iter().map(|link| link.supply) {
                let kept: Vec<&Link> = two.iter().filter(|link| link.supply == supply).collect();
                let every: Vec<&Link> = brute.iter().filter(|link| link.supply == supply).collect();
                prop_assert_eq!(kept.len(), every.len().min(2));
                let worst_kept = kept.iter().map(|l| net_social_unit_cost(&inventory, l)).fold(f64::NEG_INFINITY, f64::max);
                for link in every.iter().filter(|link| !kept.contains(link)) {
                    prop_assert!(net_social_unit_cost(&inventory, link) >= worst_kept);
                }
            }
        }
    }

    /// No link of the embedded catalogue needs a heap allocation for its
    /// impacts: each substitution pair's transport and own impacts span at
    /// most [`SmallImpactVec::INLINE`] categories.
    #[test]
    fn the_embedded_catalogue_keeps_link_impacts_inline() {
        let inventory = load_inventory(&InventorySource::BundledDunkirk).unwrap().inventory;
        for substitution in inventory.substitutions() {
            let impacts = unit_impacts(&inventory, substitution, 1.0);
            assert!(impacts.len() <= SmallImpactVec::INLINE, "{substitution:?}");
        }
    }

    #[test]
    fn an_override_brings_a_far_pair_within_reach() {
        let dir = tempfile::tempdir().unwrap();
        // 100 km apart on the great circle; distances.csv says 5 km (a tunnel).
        std::fs::write(
            dir.path().join("firms.csv"),
            "firm_id,name,lat,lon\na,A,50,3\nb,B,50.9,3\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("flows.csv"),
            "flow_id,firm_id,kind,resource,quantity,fallback\ns,a,supply,steam,10,heat_dissipation\nd,b,demand,steam,10,gas_boiler_heat\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("distances.csv"),
            "from_firm,to_firm,distance_km\nb,a,5\n",
        )
        .unwrap();
        let inventory = load_inventory(&InventorySource::Folder(dir.path().to_path_buf()))
            .unwrap()
            .inventory;
        let links = candidate_links(&inventory);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].distance_km, 5.0);
        assert_eq!(links, candidate_links_brute_force(&inventory));
    }
}
