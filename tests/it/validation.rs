//! Validation against published figures (issue 3): the two bundled
//! territories run, give a positive territory value, use their flagship
//! exchanges, and the computed side of docs/validation.md is pinned.
//!
//! IF A PINNED FIGURE MOVES, UPDATE docs/validation.md: its "symbiose
//! computed" column and its gaps are these numbers, computed by the current
//! code and catalogue. The pin tests print them all with
//!     cargo test --release --test it -- --nocapture computed_figures_are_pinned
//! A catalogue or data change that moves them must be seen, explained in
//! the table, and the pins below updated; never tune data to close a gap.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{assert_close, run_inventory, Run};
use symbiose::io::{load_inventory, InventorySource};
use symbiose::model::{CategoryIdx, ResourceCategory};
use symbiose::solve::Objective;
use symbiose::value::LinkValue;

/// Relative tolerance of the pins.
const PIN_TOLERANCE: f64 = 1e-6;

fn kalundborg_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("kalundborg")
}

fn run_source(source: InventorySource) -> Run {
    let loaded = load_inventory(&source).unwrap_or_else(|e| panic!("{} does not load: {e:?}", source.describe()));
    run_inventory(loaded.inventory, Objective::Externalities, 0.5)
}

fn dunkirk() -> Run {
    run_source(InventorySource::BundledDunkirk)
}

fn kalundborg() -> Run {
    run_source(InventorySource::Folder(kalundborg_dir()))
}

/// Amount of `category` in a sparse impact vector (0 when absent).
fn amount(impacts: &[(CategoryIdx, f64)], category: CategoryIdx) -> f64 {
    impacts
        .iter()
        .find(|(c, _)| *c == category)
        .map(|(_, a)| *a)
        .unwrap_or(0.0)
}

/// Tonnes of CO2e a link avoids:
/// (e_co2(fallback of supply) + r * e_co2(fallback of demand) - e_co2(link per unit)) * x.
fn co2e_avoided(run: &Run, link: &LinkValue) -> f64 {
    let inv = &run.inventory;
    let co2 = inv.category_index("co2e_t").expect("catalogue has co2e_t");
    let candidate = &run.links[link.link];
    let supply = inv.flow(link.supply);
    let demand = inv.flow(link.demand);
    (amount(&supply.fallback_impacts, co2) + candidate.ratio * amount(&demand.fallback_impacts, co2)
        - amount(&candidate.unit_impacts(inv), co2))
        * link.quantity
}

/// The active link from supply flow `supply` to demand flow `demand`.
fn active<'a>(run: &'a Run, supply: &str, demand: &str) -> &'a LinkValue {
    run.link(supply, demand)
}

/// CO2e avoided by the active link between two flows (panics if unused).
fn link_co2(run: &Run, supply: &str, demand: &str) -> f64 {
    co2e_avoided(run, active(run, supply, demand))
}

/// Asserts an active link from `supplier` to `receiver` carrying
/// `supply_resource` to a `demand_resource` demand.
#[track_caller]
fn assert_flagship(run: &Run, supplier: &str, receiver: &str, supply_resource: &str, demand_resource: &str) {
    let inv = &run.inventory;
    let found = run.valuation.links.iter().any(|l| {
        let (s, d) = (inv.flow(l.supply), inv.flow(l.demand));
        inv.firm(s.firm).id == supplier
            && inv.firm(d.firm).id == receiver
            && inv.resource(s.resource).id == supply_resource
            && inv.resource(d.resource).id == demand_resource
            && l.quantity > 0.0
    });
    assert!(
        found,
        "flagship {supplier} -> {receiver} ({supply_resource} -> {demand_resource}) is not among the active links"
    );
}

/// Sum over active links of supply units sent whose supply resource is of `category`.
fn sent_by_supply_category(run: &Run, category: ResourceCategory) -> f64 {
    let inv = &run.inventory;
    run.valuation
        .links
        .iter()
        .filter(|l| inv.resource(inv.flow(l.supply).resource).category == category)
        .map(|l| l.quantity)
        .sum()
}

/// Sum over active links of demand units delivered whose demand resource is of `category`.
fn delivered_by_demand_category(run: &Run, category: ResourceCategory) -> f64 {
    let inv = &run.inventory;
    run.valuation
        .links
        .iter()
        .filter(|l| inv.resource(inv.flow(l.demand).resource).category == category)
        .map(|l| l.delivered)
        .sum()
}

fn territory_avoided(run: &Run, category: &str) -> f64 {
    run.category(category).avoided
}

/// The computed column of docs/validation.md for Dunkirk.
fn dunkirk_figures(run: &Run) -> Vec<(&'static str, f64)> {
    let am_dunkerque = link_co2(run, "am_sinter_waste_heat", "dh_dunkerque_heat");
    let am_grande_synthe = link_co2(run, "am_sinter_waste_heat", "dh_grande_synthe_heat");
    let cve_dunkerque = link_co2(run, "cve_export_steam", "dh_dunkerque_heat");
    let ecocem = link_co2(run, "am_bf_slag", "ecocem_binder");
    let lng = link_co2(run, "gravelines_outfall_heat", "lng_regas_heat");
    let total = territory_avoided(run, "co2e_t");
    vec![
        // Steel-mill waste heat to district heating.
        (
            "heat_am_to_dunkerque_dh_mwh",
            active(run, "am_sinter_waste_heat", "dh_dunkerque_heat").quantity,
        ),
        (
            "heat_am_to_grande_synthe_dh_mwh",
            active(run, "am_sinter_waste_heat", "dh_grande_synthe_heat").quantity,
        ),
        ("heat_am_to_dunkerque_dh_co2e_t", am_dunkerque),
        ("heat_am_to_grande_synthe_dh_co2e_t", am_grande_synthe),
        ("heat_am_to_both_networks_co2e_t", am_dunkerque + am_grande_synthe),
        (
            "heat_cve_to_dunkerque_dh_mwh",
            active(run, "cve_export_steam", "dh_dunkerque_heat").quantity,
        ),
        ("heat_cve_to_dunkerque_dh_co2e_t", cve_dunkerque),
        // Everything the model feeds into the Dunkirk network (Dalkia's scope).
        ("heat_all_to_dunkerque_dh_co2e_t", am_dunkerque + cve_dunkerque),
        // Steel-mill gases to DK6.
        (
            "dk6_steel_gas_mwh",
            active(run, "am_steel_gas_surplus", "dk6_fuel").quantity,
        ),
        (
            "dk6_steel_gas_co2e_t",
            link_co2(run, "am_steel_gas_surplus", "dk6_fuel"),
        ),
        // Blast-furnace slag to cement grinding.
        ("slag_ecocem_t", active(run, "am_bf_slag", "ecocem_binder").quantity),
        ("slag_ecocem_co2e_t", ecocem),
        (
            "slag_lafargeholcim_t",
            active(run, "am_bf_slag", "lafargeholcim_binder").quantity,
        ),
        (
            "slag_lafargeholcim_co2e_t",
            link_co2(run, "am_bf_slag", "lafargeholcim_binder"),
        ),
        // Gravelines warm water.
        (
            "lng_warm_water_mwh",
            active(run, "gravelines_outfall_heat", "lng_regas_heat").quantity,
        ),
        ("lng_warm_water_co2e_t", lng),
        (
            "fish_farm_warm_seawater_co2e_t",
            link_co2(run, "gravelines_outfall_water", "fishfarm_warm_seawater"),
        ),
        // Waste-to-energy steam to neighbours.
        (
            "cve_daudruy_co2e_t",
            link_co2(run, "cve_export_steam", "daudruy_process_steam"),
        ),
        (
            "cve_versalis_co2e_t",
            link_co2(run, "cve_export_steam", "versalis_process_steam"),
        ),
        // Territory.
        ("territory_co2e_avoided_t", total),
        // The same without the exchanges that began after Varlet (2012):
        // Ecocem (opened 2018) and the LNG terminal (2017).
        ("territory_co2e_avoided_without_ecocem_and_lng_t", total - ecocem - lng),
        ("territory_landfill_avoided_t", territory_avoided(run, "landfill_t")),
        ("territory_value_eur", run.valuation.territory_value_eur),
        ("firm_value_eur", run.valuation.firm_value_eur),
    ]
}

/// The computed column of docs/validation.md for Kalundborg.
fn kalundborg_figures(run: &Run) -> Vec<(&'static str, f64)> {
    let biogas =
        link_co2(run, "novo_nordisk_residue", "biogas_output") + link_co2(run, "novozymes_residue", "biogas_output");
    let steam = [
        link_co2(run, "asnaes_steam", "equinor_steam"),
        link_co2(run, "asnaes_steam", "novo_nordisk_steam"),
        link_co2(run, "asnaes_steam", "novozymes_steam"),
    ];
    vec![
        ("steam_equinor_co2e_t", steam[0]),
        ("steam_novo_nordisk_co2e_t", steam[1]),
        ("steam_novozymes_co2e_t", steam[2]),
        (
            "steam_novozymes_mwh",
            active(run, "asnaes_steam", "novozymes_steam").quantity,
        ),
        ("steam_total_co2e_t", steam.iter().sum()),
        (
            "district_heat_co2e_t",
            link_co2(run, "asnaes_district_heat", "kalundborg_dh_heat"),
        ),
        ("gypsum_t", active(run, "asnaes_fgd_gypsum", "gyproc_gypsum").quantity),
        ("gypsum_co2e_t", link_co2(run, "asnaes_fgd_gypsum", "gyproc_gypsum")),
        (
            "fish_farm_co2e_t",
            link_co2(run, "asnaes_cooling_water", "fishfarm_cooling_water"),
        ),
        ("residues_to_biogas_co2e_t", biogas),
        ("sludge_soilrem_co2e_t", link_co2(run, "wwtp_sludge", "soilrem_sludge")),
        ("territory_co2e_avoided_t", territory_avoided(run, "co2e_t")),
        // Water: every m3 of a water-category resource delivered, and the
        // freshwater abstraction avoided (category freshwater_m3).
        (
            "water_delivered_m3",
            delivered_by_demand_category(run, ResourceCategory::Water),
        ),
        ("freshwater_avoided_m3", territory_avoided(run, "freshwater_m3")),
        // Materials: tonnes of material-category supplies sent, and the part
        // delivered as a material (the residues are delivered as biogas).
        (
            "materials_sent_t",
            sent_by_supply_category(run, ResourceCategory::Material),
        ),
        (
            "materials_delivered_as_material_t",
            delivered_by_demand_category(run, ResourceCategory::Material),
        ),
        (
            "energy_delivered_mwh",
            delivered_by_demand_category(run, ResourceCategory::Energy),
        ),
        ("territory_landfill_avoided_t", territory_avoided(run, "landfill_t")),
        ("territory_value_eur", run.valuation.territory_value_eur),
        ("firm_value_eur", run.valuation.firm_value_eur),
    ]
}

// Pinned computed figures (commit c85f1cb, default catalogue, externalities
// objective, supplier share 0.5). If this moves, update docs/validation.md
// (the table is computed by the current code).
const DUNKIRK_PINS: &[(&str, f64)] = &[
    ("heat_am_to_dunkerque_dh_mwh", 54000.0),
    ("heat_am_to_grande_synthe_dh_mwh", 26000.0),
    ("heat_am_to_dunkerque_dh_co2e_t", 13618.8),
    ("heat_am_to_grande_synthe_dh_co2e_t", 6557.2),
    ("heat_am_to_both_networks_co2e_t", 20176.0),
    ("heat_cve_to_dunkerque_dh_mwh", 477.3696590418949),
    ("heat_cve_to_dunkerque_dh_co2e_t", 114.37299660984759),
    ("heat_all_to_dunkerque_dh_co2e_t", 13733.172996609846),
    ("dk6_steel_gas_mwh", 6720000.0),
    ("dk6_steel_gas_co2e_t", 1372896.0000000002),
    ("slag_ecocem_t", 750000.0),
    ("slag_ecocem_co2e_t", 587121.0372386061),
    ("slag_lafargeholcim_t", 275000.0),
    ("slag_lafargeholcim_co2e_t", 215247.3741757402),
    ("lng_warm_water_mwh", 375000.0),
    ("lng_warm_water_co2e_t", 86850.0),
    ("fish_farm_warm_seawater_co2e_t", 11500.0),
    ("cve_daudruy_co2e_t", 10088.0),
    ("cve_versalis_co2e_t", 4923.607371989634),
    ("territory_co2e_avoided_t", 2338711.247040105),
    ("territory_co2e_avoided_without_ecocem_and_lng_t", 1664740.2098014988),
    ("territory_landfill_avoided_t", 1025000.0),
    ("territory_value_eur", 668029865.3209715),
    ("firm_value_eur", 558685838.3884351),
];

// Same for Kalundborg. If this moves, update docs/validation.md.
const KALUNDBORG_PINS: &[(&str, f64)] = &[
    ("steam_equinor_co2e_t", 25219.999999999996),
    ("steam_novo_nordisk_co2e_t", 37830.0),
    ("steam_novozymes_co2e_t", 25219.999999999996),
    ("steam_novozymes_mwh", 100000.0),
    ("steam_total_co2e_t", 88270.0),
    ("district_heat_co2e_t", 20176.0),
    ("gypsum_t", 175000.0),
    ("gypsum_co2e_t", 1722.3741180371856),
    ("fish_farm_co2e_t", 11500.0),
    ("residues_to_biogas_co2e_t", 10878.522431103527),
    ("sludge_soilrem_co2e_t", 749.2094040715572),
    ("territory_co2e_avoided_t", 133296.10595321227),
    ("water_delivered_m3", 6000000.0),
    ("freshwater_avoided_m3", 1000000.0),
    ("materials_sent_t", 490000.0),
    ("materials_delivered_as_material_t", 190000.0),
    ("energy_delivered_mwh", 478000.0),
    ("territory_landfill_avoided_t", 175000.0),
    ("territory_value_eur", 45552660.94547237),
    ("firm_value_eur", 94245602.30031353),
];

#[track_caller]
fn assert_pins(territory: &str, computed: &[(&'static str, f64)], pins: &[(&str, f64)]) {
    let names: Vec<&str> = computed.iter().map(|(n, _)| *n).collect();
    let pinned: Vec<&str> = pins.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, pinned,
        "{territory}: the pinned figures are not the computed ones"
    );
    for ((name, value), (_, pin)) in computed.iter().zip(pins) {
        assert_close(
            *value,
            *pin,
            PIN_TOLERANCE,
            &format!("{territory} {name} moved: update docs/validation.md (the table is computed by the current code)"),
        );
    }
}

/// Prints each computed figure in the pins' own syntax (for `--nocapture`),
/// so that a deliberate change can be pasted into the pins and into
/// docs/validation.md.
fn print_figures(territory: &str, figures: &[(&'static str, f64)]) {
    println!("{territory}:");
    for (name, value) in figures {
        println!("    (\"{name}\", {value:?}),");
    }
}

#[test]
fn dunkirk_has_a_positive_territory_value_and_uses_its_flagship_exchanges() {
    let run = dunkirk();
    run.assert_identities();
    assert!(run.valuation.territory_value_eur > 0.0);
    assert!(run.valuation.firm_value_eur > 0.0);
    for (supplier, receiver, supply_resource, demand_resource) in [
        // Steel-mill waste heat to district heating.
        (
            "arcelormittal_dunkerque",
            "dunkerque_dh",
            "hot_water_heat",
            "hot_water_heat",
        ),
        (
            "arcelormittal_dunkerque",
            "grande_synthe_dh",
            "hot_water_heat",
            "hot_water_heat",
        ),
        // Steel-mill gases to DK6.
        ("arcelormittal_dunkerque", "dk6", "steel_mill_gas", "fuel_gas"),
        // Blast-furnace slag to cement grinding.
        ("arcelormittal_dunkerque", "ecocem_dunkerque", "bf_slag", "clinker"),
        (
            "arcelormittal_dunkerque",
            "lafargeholcim_dunkerque",
            "bf_slag",
            "clinker",
        ),
        // Gravelines warm water to LNG regasification (and to the fish farm).
        ("gravelines_npp", "dunkerque_lng", "warm_water_heat", "warm_water_heat"),
        (
            "gravelines_npp",
            "gravelines_fish_farm",
            "warm_seawater",
            "warm_seawater",
        ),
        // Waste-to-energy steam to neighbours.
        ("cve_dunkerque", "daudruy_vc", "steam", "steam"),
        // Indaver steam and acid, Air Liquide gases.
        ("indaver_loon_plage", "ryssen_alcools", "steam", "steam"),
        (
            "indaver_loon_plage",
            "ecophos_dunkerque",
            "hydrochloric_acid",
            "hydrochloric_acid",
        ),
        ("air_liquide_dunkerque", "arcelormittal_dunkerque", "oxygen", "oxygen"),
    ] {
        assert_flagship(&run, supplier, receiver, supply_resource, demand_resource);
    }
}

#[test]
fn kalundborg_has_a_positive_territory_value_and_uses_its_flagship_exchanges() {
    let run = kalundborg();
    run.assert_identities();
    assert!(run.valuation.territory_value_eur > 0.0);
    assert!(run.valuation.firm_value_eur > 0.0);
    for (supplier, receiver, supply_resource, demand_resource) in [
        // Power-station steam to the refinery, Novo Nordisk and Novozymes.
        ("asnaes_power_station", "equinor_refinery", "steam", "steam"),
        ("asnaes_power_station", "novo_nordisk", "steam", "steam"),
        ("asnaes_power_station", "novozymes", "steam", "steam"),
        // District heat, gypsum, fish farm.
        (
            "asnaes_power_station",
            "kalundborg_dh",
            "hot_water_heat",
            "hot_water_heat",
        ),
        ("asnaes_power_station", "gyproc", "fgd_gypsum", "gypsum"),
        (
            "asnaes_power_station",
            "kalundborg_fish_farm",
            "warm_seawater",
            "warm_seawater",
        ),
        // Residues to biogas.
        ("novo_nordisk", "kalundborg_biogas", "fermentation_residue", "fuel_gas"),
        ("novozymes", "kalundborg_biogas", "fermentation_residue", "fuel_gas"),
        // Shared wastewater treatment, sludge, water reuse.
        (
            "kalundborg_wwtp",
            "novo_nordisk",
            "wastewater_treatment",
            "wastewater_treatment",
        ),
        ("kalundborg_wwtp", "soilrem", "sewage_sludge", "sewage_sludge"),
        (
            "equinor_refinery",
            "asnaes_power_station",
            "process_water",
            "process_water",
        ),
    ] {
        assert_flagship(&run, supplier, receiver, supply_resource, demand_resource);
    }
}

/// The per-link CO2e helper adds up to the co2e_t avoided of
/// territory_values.csv, so the table's per-exchange figures and its totals
/// are the same accounting.
#[test]
fn per_link_co2e_adds_up_to_the_territory_total() {
    for run in [dunkirk(), kalundborg()] {
        let sum: f64 = run.valuation.links.iter().map(|l| co2e_avoided(&run, l)).sum();
        assert_close(
            sum,
            territory_avoided(&run, "co2e_t"),
            1e-9,
            "sum of link CO2e = co2e_t avoided",
        );
    }
}

#[test]
fn dunkirk_computed_figures_are_pinned() {
    // If this moves, update docs/validation.md (the table is computed by the current code).
    let figures = dunkirk_figures(&dunkirk());
    print_figures("dunkirk", &figures);
    assert_pins("dunkirk", &figures, DUNKIRK_PINS);
}

#[test]
fn kalundborg_computed_figures_are_pinned() {
    // If this moves, update docs/validation.md (the table is computed by the current code).
    let figures = kalundborg_figures(&kalundborg());
    print_figures("kalundborg", &figures);
    assert_pins("kalundborg", &figures, KALUNDBORG_PINS);
}

/// `symbiose optimize data/kalundborg` runs from the repository root and
/// gives a positive territory value (the bundled Dunkirk run without an
/// inventory is covered by tests/cli.rs).
#[test]
fn optimize_runs_kalundborg_from_the_command_line() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_symbiose"))
        .args(["optimize", "data/kalundborg", "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs the binary");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "optimal");
    assert!(summary["territory_value_eur"].as_f64().unwrap() > 0.0);
}
