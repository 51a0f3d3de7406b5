//! docs/model.md Part B on hand-solved fixtures under tests/data/: time slices
//! and profiles (B1), services as shared capacity (B2), conversion hubs
//! (B3) and investments as a MILP (B4). C, M and the values are worked out
//! in each test's comment; tolerances are relative to max(1, |expected|).

use std::fs;
use std::path::Path;

use crate::common::{assert_close, fixture_dir, load_fixture, run_inventory, symbiose, Run};
use symbiose::io::{load_inventory, InventorySource};
use symbiose::solve::Objective;

const TOL: f64 = 1e-7;

/// Copies a fixture into a temporary folder, applies `edit` (file name,
/// new contents; `None` removes the file), and loads it.
fn edited_fixture(name: &str, edits: &[(&str, Option<&str>)]) -> (tempfile::TempDir, symbiose::model::Inventory) {
    let dir = tempfile::tempdir().expect("temporary folder");
    for entry in fs::read_dir(fixture_dir(name)).expect("fixture folder") {
        let path = entry.expect("entry").path();
        fs::copy(&path, dir.path().join(path.file_name().expect("file name"))).expect("copy");
    }
    for (file, contents) in edits {
        let path = dir.path().join(file);
        match contents {
            Some(text) => fs::write(&path, text).expect("write"),
            None => fs::remove_file(&path).expect("remove"),
        }
    }
    let inventory = match load_inventory(&InventorySource::Folder(dir.path().to_path_buf())) {
        Ok(loaded) => loaded.inventory,
        Err(error) => panic!("edited fixture {name} does not load: {error:?}"),
    };
    (dir, inventory)
}

/// `symbiose report` on a results folder, into a new file; its page.
fn report_again(results: &Path, cwd: &Path) -> String {
    let again = cwd.join("again.html");
    let output = symbiose(
        &[
            "report",
            &results.display().to_string(),
            "--out",
            &again.display().to_string(),
        ],
        cwd,
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fs::read_to_string(&again).expect("again.html")
}

fn run(name: &str, objective: Objective) -> Run {
    run_inventory(load_fixture(name), objective, 0.5)
}

/// tests/data/service_two_slices: a parking silo of 100 spaces (200,000
/// space_h over two slices of 1,000 h, no profile: 100,000 per slice, no
/// fallback: idle capacity is free) shared by a housing block (100,000
/// space_h, profile residents: day 0.2, night 0.8, i.e. 20 then 80 spaces)
/// and an office block (100,000, employees: day 0.9, night 0.1, i.e. 90
/// then 10 spaces). Own parking costs 0.5 EUR/space_h (homes) and 0.6
/// (offices), harm 0.001 t ghg each (100 EUR/t: m = 0.1); using the silo
/// costs 0.1 EUR/space_h (processing cost of the identity pair).
///
/// Day: 110,000 wanted, 100,000 in the silo. M (first stage) only asks
/// that 10,000 be parked at home; C (second stage) gives the silo to the
/// offices (0.6 - 0.1 > 0.5 - 0.1): offices 90,000, homes 10,000, homes
/// park 10,000 on their own. Night: 80,000 + 10,000 in the silo, 10,000 idle.
/// Links: silo -> homes 90,000, silo -> offices 100,000.
/// C_base = 100,000 * 0.5 + 100,000 * 0.6 = 110,000; C = 190,000 * 0.1 +
/// 10,000 * 0.5 = 24,000; C_base - C = 86,000.
/// M_base = 200,000 * 0.1 = 20,000; M = 10,000 * 0.1 = 1,000; T = 19,000.
/// Surplus: homes (0.5 - 0.1) * 90,000 = 36,000, offices (0.6 - 0.1) *
/// 100,000 = 50,000; firm values at alpha 0.5: silo 43,000, homes 18,000,
/// offices 25,000.
/// Shadow prices (of M): day: silo -0.1 (one more space_h spares 0.1 of
/// own parking), homes and offices +0.1; night: 0 (idle capacity). Annual:
/// silo 0.5 * -0.1 = -0.05 (hours shares), homes 0.2 * 0.1 = 0.02,
/// offices 0.9 * 0.1 = 0.09.
/// Capacity at the peak hour: without sharing 80 + 90 = 170 spaces; with
/// sharing max(100, 90) = 100 in the silo + 10 own spaces of the homes by
/// day = 110; 60 spaces saved.
#[test]
fn a_service_is_shared_by_two_demands_that_peak_in_different_slices() {
    let run = run("service_two_slices", Objective::Externalities);
    let v = &run.valuation;
    assert_close(
        run.link_flow("silo_spaces", "homes_parking"),
        90_000.0,
        TOL,
        "x silo -> homes",
    );
    assert_close(
        run.link_flow("silo_spaces", "offices_parking"),
        100_000.0,
        TOL,
        "x silo -> offices",
    );
    assert_close(v.baseline.private_cost_eur, 110_000.0, TOL, "C_base");
    assert_close(v.optimized.private_cost_eur, 24_000.0, TOL, "C");
    assert_close(v.firm_value_eur, 86_000.0, TOL, "C_base - C");
    assert_close(v.baseline.externality_eur, 20_000.0, TOL, "M_base");
    assert_close(v.optimized.externality_eur, 1_000.0, TOL, "M");
    assert_close(v.territory_value_eur, 19_000.0, TOL, "T");
    assert_close(run.firm_value("silo").value_eur, 43_000.0, TOL, "V silo");
    assert_close(run.firm_value("homes").value_eur, 18_000.0, TOL, "V homes");
    assert_close(run.firm_value("offices").value_eur, 25_000.0, TOL, "V offices");
    // Idle capacity is costless: the silo's baseline and optimized costs hold no fallback.
    assert_close(run.firm_value("silo").baseline_cost_eur, 0.0, TOL, "silo baseline cost");
    assert_close(run.flow("silo_spaces").fallback_quantity, 10_000.0, TOL, "idle space_h");
    assert!(run
        .inventory
        .flow(run.inventory.flow_index("silo_spaces").unwrap())
        .fallback
        .is_none());

    assert_close(
        run.flow_slice("homes_parking", "day").matched,
        10_000.0,
        TOL,
        "homes by day",
    );
    assert_close(
        run.flow_slice("homes_parking", "day").fallback_quantity,
        10_000.0,
        TOL,
        "homes' own parking by day",
    );
    assert_close(
        run.flow_slice("homes_parking", "night").matched,
        80_000.0,
        TOL,
        "homes by night",
    );
    assert_close(
        run.flow_slice("offices_parking", "day").matched,
        90_000.0,
        TOL,
        "offices by day",
    );
    assert_close(
        run.flow_slice("silo_spaces", "night").fallback_quantity,
        10_000.0,
        TOL,
        "idle at night",
    );

    assert_close(
        run.flow_slice("silo_spaces", "day").shadow_price_eur_per_unit,
        -0.1,
        1e-6,
        "silo day dual",
    );
    assert_close(
        run.flow_slice("silo_spaces", "night").shadow_price_eur_per_unit,
        0.0,
        1e-6,
        "silo night dual",
    );
    assert_close(
        run.flow("silo_spaces").shadow_price_eur_per_unit,
        -0.05,
        1e-6,
        "silo annual dual",
    );
    assert_close(
        run.flow("homes_parking").shadow_price_eur_per_unit,
        0.02,
        1e-6,
        "homes annual dual",
    );
    assert_close(
        run.flow("offices_parking").shadow_price_eur_per_unit,
        0.09,
        1e-6,
        "offices annual dual",
    );

    assert_eq!(v.services.len(), 1);
    let parking = &v.services[0];
    assert_eq!(parking.n_demands, 2);
    assert_eq!(parking.n_shared_supplies, 1);
    assert_close(parking.peak_without_sharing, 170.0, TOL, "spaces without sharing");
    assert_close(parking.peak_with_sharing, 110.0, TOL, "spaces with sharing");
    assert_close(parking.peak_saved, 60.0, TOL, "spaces saved");
    assert_close(parking.firm_value_eur, 86_000.0, TOL, "service value to firms");
    assert_close(
        parking.territory_value_eur,
        19_000.0,
        TOL,
        "service value to the territory",
    );
    run.assert_identities();
}

/// tests/data/seasonal_heat: a mill's waste heat, 1,000 MWh constant over
/// two equal slices (500 each, dissipation free and harmless), and a town
/// network of 1,000 MWh with profile heating: winter 0.8, summer 0.2 (800
/// and 200; boiler 50 EUR and 0.25 t ghg per MWh, ghg 100 EUR/t: m = 25),
/// 2 km apart at 1 EUR/MWh.km (k = 2).
///
/// Annually all 1,000 MWh would match; by season, winter takes
/// min(500, 800) = 500 and summer min(500, 200) = 200: 700 placed, 300
/// dissipated in summer, 300 from the boiler in winter.
/// C_base = 50,000; C = 700 * 2 + 300 * 50 = 16,400; C_base - C = 33,600.
/// M_base = 25,000; M = 300 * 25 = 7,500; T = 17,500.
/// Surplus (50 - 2) * 700 = 33,600: mill 16,800, town 16,800.
/// Shadow prices of M: winter mill -25 (binding), town +25 (boiler);
/// summer 0 and 0. Annual: mill 0.5 * -25 = -12.5, town 0.8 * 25 = 20.
#[test]
fn a_profile_limits_the_seasonal_heat_placed() {
    let run = run("seasonal_heat", Objective::Externalities);
    let v = &run.valuation;
    assert_close(run.link_flow("mill_heat", "town_heat"), 700.0, TOL, "x annual");
    assert_close(run.flow_slice("mill_heat", "winter").matched, 500.0, TOL, "winter");
    assert_close(run.flow_slice("mill_heat", "summer").matched, 200.0, TOL, "summer");
    assert_close(
        run.flow_slice("mill_heat", "summer").fallback_quantity,
        300.0,
        TOL,
        "summer surplus",
    );
    assert_close(
        run.flow_slice("town_heat", "winter").fallback_quantity,
        300.0,
        TOL,
        "winter boiler",
    );
    assert_close(v.baseline.private_cost_eur, 50_000.0, TOL, "C_base");
    assert_close(v.optimized.private_cost_eur, 16_400.0, TOL, "C");
    assert_close(v.baseline.externality_eur, 25_000.0, TOL, "M_base");
    assert_close(v.optimized.externality_eur, 7_500.0, TOL, "M");
    assert_close(run.firm_value("mill").value_eur, 16_800.0, TOL, "V mill");
    assert_close(run.firm_value("town").value_eur, 16_800.0, TOL, "V town");
    assert_close(
        run.flow("mill_heat").shadow_price_eur_per_unit,
        -12.5,
        1e-6,
        "mill annual dual",
    );
    assert_close(
        run.flow("town_heat").shadow_price_eur_per_unit,
        20.0,
        1e-6,
        "town annual dual",
    );
    assert_close(
        run.flow_slice("town_heat", "winter").shadow_price_eur_per_unit,
        25.0,
        1e-6,
        "town winter dual",
    );
    run.assert_identities();

    // The same flows without the profile: the heat is spread like the
    // hours and all 1,000 MWh match, as in the annual model.
    let flat = "flow_id,firm_id,kind,resource,quantity,fallback,profile\n\
                mill_heat,mill,supply,heat,1000,dissipation,\n\
                town_heat,town,demand,heat,1000,boiler,\n";
    let (_dir, inventory) = edited_fixture("seasonal_heat", &[("flows.csv", Some(flat))]);
    let flat_run = run_inventory(inventory, Objective::Externalities, 0.5);
    assert_close(
        flat_run.link_flow("mill_heat", "town_heat"),
        1_000.0,
        TOL,
        "x without profile",
    );
    assert_close(
        flat_run.valuation.optimized.externality_eur,
        0.0,
        TOL,
        "M without profile",
    );
}

/// tests/data/hub_yield: a digester (capacity 800 t/yr, 20 EUR/t, 0.01 t
/// ghg/t) takes 1 t of food waste per activity unit and gives 0.5 MWh of
/// biogas (fallback: flare, free) and 0.8 t of digestate (spreading, 5
/// EUR/t). A canteen has 1,000 t of food waste (incineration 100 EUR/t,
/// 0.05 t ghg/t); a dairy needs 600 MWh of gas (natural gas 40 EUR/MWh,
/// 0.2 t/MWh); biogas replaces gas one for one. No transport cost; ghg 100 EUR/t.
///
/// Per t digested, M falls by 5 (incineration) + 0.5 * 20 (gas) - 1
/// (process) = 14 and C by 100 + 0.5 * 40 - 20 - 0.8 * 5 = 96: the
/// digester runs at capacity, a = 800: 800 t in, 400 MWh of biogas to the
/// dairy, 640 t of digestate spread; 200 t incinerated, 200 MWh of gas.
/// C_base = 100,000 + 24,000 = 124,000; C = 20,000 + 8,000 + 16,000 +
/// 3,200 = 47,200; C_base - C = 76,800.
/// M_base = 5,000 + 12,000 = 17,000; M = 1,000 + 4,000 + 800 = 5,800; T = 11,200.
/// Surplus: canteen -> digester (100 + 0) * 800 = 80,000 (the hub's input
/// has no avoided cost); digester -> dairy (0 + 40) * 400 = 16,000. The
/// plant bears 16,000 operating + 640 * 5 digestate = 19,200.
/// Firm values: canteen 40,000; plant 40,000 + 8,000 - 19,200 = 28,800;
/// dairy 8,000 (sum 76,800). Link dM: 5 * 800 + 20 * 400 = 12,000; the
/// process's externality 800 * 1 + 0 = 800; 12,000 - 800 = T.
/// Shadow prices of M: canteen +5 (the digester is full: one more t is
/// incinerated), dairy +20 (natural gas).
#[test]
fn a_hub_converts_its_inputs_with_its_yield() {
    let run = run("hub_yield", Objective::Externalities);
    let v = &run.valuation;
    assert_eq!(v.processes.len(), 1);
    let digester = &v.processes[0];
    assert_close(digester.activity, 800.0, TOL, "activity");
    assert!(digester.built);
    assert_close(digester.operating_cost_eur, 16_000.0, TOL, "operating cost");
    assert_close(
        digester.output_fallback_cost_eur,
        3_200.0,
        TOL,
        "outputs at fallback cost",
    );
    assert_close(digester.cost_borne_eur, 19_200.0, TOL, "cost borne");
    assert_close(digester.externality_eur, 800.0, TOL, "process externality");
    assert_close(
        run.link_flow("canteen_waste", "digester:in:food_waste"),
        800.0,
        TOL,
        "food waste in",
    );
    assert_close(
        run.link_flow("digester:out:biogas", "dairy_gas"),
        400.0,
        TOL,
        "biogas out",
    );
    assert_close(run.flow("digester:out:digestate").quantity, 640.0, TOL, "digestate");
    assert_close(
        run.flow("digester:out:digestate").fallback_quantity,
        640.0,
        TOL,
        "digestate spread",
    );
    assert_close(
        run.flow("digester:in:food_waste").fallback_quantity,
        0.0,
        TOL,
        "no input fallback",
    );
    assert_close(v.baseline.private_cost_eur, 124_000.0, TOL, "C_base");
    assert_close(v.optimized.private_cost_eur, 47_200.0, TOL, "C");
    assert_close(v.baseline.externality_eur, 17_000.0, TOL, "M_base");
    assert_close(v.optimized.externality_eur, 5_800.0, TOL, "M");
    assert_close(
        run.link("canteen_waste", "digester:in:food_waste").surplus_eur,
        80_000.0,
        TOL,
        "S in",
    );
    assert_close(
        run.link("digester:out:biogas", "dairy_gas").surplus_eur,
        16_000.0,
        TOL,
        "S out",
    );
    assert_close(run.firm_value("canteen").value_eur, 40_000.0, TOL, "V canteen");
    assert_close(run.firm_value("plant").value_eur, 28_800.0, TOL, "V plant");
    assert_close(run.firm_value("dairy").value_eur, 8_000.0, TOL, "V dairy");
    assert_close(run.category("ghg").avoided, 112.0, TOL, "ghg avoided");
    assert_close(
        run.flow("canteen_waste").shadow_price_eur_per_unit,
        5.0,
        1e-6,
        "canteen dual",
    );
    assert_close(
        run.flow("dairy_gas").shadow_price_eur_per_unit,
        20.0,
        1e-6,
        "dairy dual",
    );
    run.assert_identities();
}

/// A hub without a capacity (allowed: docs/model.md B3) leaves its capacity
/// cell empty in processes.csv; `optimize --report` and `symbiose report`
/// read that back and show it as unbounded (a review found both failing,
/// and the quantity-spread warning counting the port's infinite bound).
#[test]
fn a_hub_without_a_capacity_is_written_and_reported() {
    let (dir, _) = edited_fixture(
        "hub_yield",
        &[(
            "processes.csv",
            Some("process_id,firm_id,capacity,cost_eur_per_activity,fixed_cost_eur_per_year\ndigester,plant,,20,0\n"),
        )],
    );
    let out = dir.path().join("out");
    let output = symbiose(
        &[
            "optimize",
            &dir.path().display().to_string(),
            "--report",
            "--out",
            &out.display().to_string(),
        ],
        dir.path(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The port's infinite bound is no quantity of flows.csv to warn about.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("span"), "{stderr}");
    let processes = fs::read_to_string(out.join("processes.csv")).expect("processes.csv");
    assert!(
        processes.lines().nth(1).expect("a row").starts_with("digester,plant,"),
        "{processes}"
    );
    let page = fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(page.contains("id=\"table-processes\"") && page.contains("unbounded"));
    report_again(&out, dir.path());
}

/// The digester of hub_yield with a fixed cost, under the private
/// objective: it saves 96 EUR per t, 76,800 EUR at capacity. At 80,000
/// EUR/yr it is not built (C stays C_base = 124,000); at 50,000 it is:
/// C = 47,200 + 50,000 = 97,200, and the plant, bearing 19,200 + 50,000,
/// needs 69,200 - 48,000 = 21,200 of compensation.
#[test]
fn a_hub_is_built_only_when_its_savings_cover_its_fixed_cost() {
    let processes = |fixed: u32| {
        format!("process_id,firm_id,capacity,cost_eur_per_activity,fixed_cost_eur_per_year\ndigester,plant,800,20,{fixed}\n")
    };
    let too_dear = processes(80_000);
    let (_dir, inventory) = edited_fixture("hub_yield", &[("processes.csv", Some(&too_dear))]);
    let not_built = run_inventory(inventory, Objective::Private, 0.5);
    assert!(!not_built.valuation.processes[0].built);
    assert_close(
        not_built.valuation.optimized.private_cost_eur,
        124_000.0,
        TOL,
        "C, not built",
    );
    let extended = not_built.solution.extended.as_ref().expect("a MILP");
    assert_eq!(extended.n_binaries, 1);
    assert!(
        extended.mip_gap.is_some_and(|gap| gap <= 1e-4),
        "{:?}",
        extended.mip_gap
    );
    not_built.assert_identities();

    let affordable = processes(50_000);
    let (_dir, inventory) = edited_fixture("hub_yield", &[("processes.csv", Some(&affordable))]);
    let built = run_inventory(inventory, Objective::Private, 0.5);
    let digester = &built.valuation.processes[0];
    assert!(digester.built);
    assert_close(digester.activity, 800.0, TOL, "activity");
    assert_close(digester.fixed_cost_eur, 50_000.0, TOL, "fixed cost charged");
    assert_close(built.valuation.optimized.private_cost_eur, 97_200.0, TOL, "C, built");
    assert_close(
        built.firm_value("plant").compensation_needed_eur,
        21_200.0,
        TOL,
        "plant's compensation",
    );
    assert_eq!(built.valuation.investments.len(), 1);
    assert!(built.valuation.investments[0].built);
    built.assert_identities();
}

/// tests/data/fixed_cost_link_above and _below: a mill's waste heat (500 or
/// 400 MWh, dissipation free) 2 km from a town network (1,000 MWh, boiler
/// 50 EUR and m = 25 per MWh), transport 1 EUR/MWh.km (k = 2), and a pipe
/// at 10,000 EUR/km.yr: 20,000 EUR/yr if built.
///
/// Private objective: each MWh sent saves 50 - 2 = 48 EUR, so the pipe
/// pays from 20,000 / 48 = 416.7 MWh.
/// - 500 MWh: built. C = 500 * 2 + 20,000 + 500 * 50 = 46,000, C_base -
///   C = 4,000 (surplus 48 * 500 - 20,000, 2,000 each); M = 12,500, T =
///   12,500. Shadow prices (LP with the binary fixed at 1): mill -48, town 50.
/// - 400 MWh: not built (48 * 400 = 19,200 < 20,000). C = C_base = 50,000,
///   M = M_base = 25,000. Shadow prices: mill 0 (dissipated), town 50.
///
/// Social objective on 400 MWh: each MWh saves 48 + 25 = 73, 29,200 >
/// 20,000: built, C = 800 + 20,000 + 30,000 = 50,800 (firms lose 800, 400
/// each: both need compensation), M = 15,000 (T = 10,000).
#[test]
fn a_fixed_cost_link_is_built_only_when_the_volume_justifies_it() {
    let above = run("fixed_cost_link_above", Objective::Private);
    let extended = above.solution.extended.as_ref().expect("a MILP");
    assert_eq!(extended.n_binaries, 1);
    assert!(
        extended.mip_gap.is_some_and(|gap| gap <= 1e-4),
        "{:?}",
        extended.mip_gap
    );
    assert_close(above.link_flow("mill_heat", "town_heat"), 500.0, TOL, "x above");
    assert_close(above.valuation.optimized.private_cost_eur, 46_000.0, TOL, "C above");
    assert_close(above.valuation.firm_value_eur, 4_000.0, TOL, "C_base - C above");
    assert_close(above.valuation.optimized.externality_eur, 12_500.0, TOL, "M above");
    assert_close(
        above.link("mill_heat", "town_heat").surplus_eur,
        4_000.0,
        TOL,
        "S above",
    );
    assert_close(
        above.link("mill_heat", "town_heat").fixed_cost_eur,
        20_000.0,
        TOL,
        "pipe",
    );
    assert_close(above.firm_value("mill").value_eur, 2_000.0, TOL, "V mill above");
    assert_close(
        above.flow("mill_heat").shadow_price_eur_per_unit,
        -48.0,
        1e-6,
        "mill dual above",
    );
    assert_close(
        above.flow("town_heat").shadow_price_eur_per_unit,
        50.0,
        1e-6,
        "town dual above",
    );
    assert!(above.valuation.investments[0].built);
    above.assert_identities();

    let below = run("fixed_cost_link_below", Objective::Private);
    assert_close(below.link_flow("mill_heat", "town_heat"), 0.0, TOL, "x below");
    assert_close(below.valuation.optimized.private_cost_eur, 50_000.0, TOL, "C below");
    assert_close(below.valuation.optimized.externality_eur, 25_000.0, TOL, "M below");
    assert!(!below.valuation.investments[0].built);
    assert_close(
        below.flow("mill_heat").shadow_price_eur_per_unit,
        0.0,
        1e-6,
        "mill dual below",
    );
    assert_close(
        below.flow("town_heat").shadow_price_eur_per_unit,
        50.0,
        1e-6,
        "town dual below",
    );
    below.assert_identities();

    let social = run("fixed_cost_link_below", Objective::Social);
    assert_close(
        social.link_flow("mill_heat", "town_heat"),
        400.0,
        TOL,
        "x below, social",
    );
    assert_close(
        social.valuation.optimized.private_cost_eur,
        50_800.0,
        TOL,
        "C below, social",
    );
    assert_close(
        social.valuation.optimized.externality_eur,
        15_000.0,
        TOL,
        "M below, social",
    );
    assert_close(
        social.firm_value("mill").compensation_needed_eur,
        400.0,
        TOL,
        "mill's compensation",
    );
    assert_close(
        social.firm_value("town").compensation_needed_eur,
        400.0,
        TOL,
        "town's compensation",
    );
    social.assert_identities();
}

const TWO_SLICES: &str = "slice,hours\nfirst,4380\nsecond,4380\n";

/// With two slices and no profile every flow is spread like the hours:
/// each slice is the annual problem scaled by one half, so the annual
/// optimum, values and shadow prices are those of Part A (split_by_distance).
#[test]
fn two_slices_without_profiles_reproduce_the_annual_model() {
    let annual = run("split_by_distance", Objective::Externalities);
    let (_dir, inventory) = edited_fixture("split_by_distance", &[("slices.csv", Some(TWO_SLICES))]);
    let sliced = run_inventory(inventory, Objective::Externalities, 0.5);
    assert!(sliced.solution.extended.is_some(), "two slices use the Part B model");
    for (supply, demand) in [("s1", "d1"), ("s1", "d2")] {
        assert_close(
            sliced.link_flow(supply, demand),
            annual.link_flow(supply, demand),
            1e-9,
            "link flow",
        );
    }
    let (a, s) = (&annual.valuation, &sliced.valuation);
    assert_close(s.optimized.private_cost_eur, a.optimized.private_cost_eur, 1e-9, "C");
    assert_close(s.optimized.externality_eur, a.optimized.externality_eur, 1e-9, "M");
    for id in ["a", "b", "c"] {
        assert_close(
            sliced.firm_value(id).value_eur,
            annual.firm_value(id).value_eur,
            1e-9,
            id,
        );
    }
    for id in ["s1", "d1", "d2"] {
        assert_close(
            sliced.flow(id).shadow_price_eur_per_unit,
            annual.flow(id).shadow_price_eur_per_unit,
            1e-6,
            id,
        );
    }
    assert_eq!(s.flow_slices.len(), 3 * 2);
    sliced.assert_identities();
}

/// A slices.csv with the single slice `year` changes nothing but adds the
/// per-slice rows: the same LP as without it (docs/model.md B1).
#[test]
fn a_single_slice_is_exactly_part_a() {
    let annual = run("split_by_distance", Objective::Externalities);
    let (_dir, inventory) = edited_fixture("split_by_distance", &[("slices.csv", Some("slice,hours\nyear,8760\n"))]);
    let single = run_inventory(inventory, Objective::Externalities, 0.5);
    assert!(single.solution.extended.is_none(), "one slice is the A3 program");
    assert_eq!(single.solution.link_flows, annual.solution.link_flows);
    assert_eq!(single.solution.shadow_prices, annual.solution.shadow_prices);
    assert_eq!(single.valuation.links, annual.valuation.links);
    assert_eq!(single.valuation.flows, annual.valuation.flows);
    assert_eq!(single.valuation.firms, annual.valuation.firms);
    assert_eq!(single.valuation.categories, annual.valuation.categories);
    assert_eq!(single.valuation.flow_slices.len(), 3);
}

fn repo_path(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(relative)
        .display()
        .to_string()
}

/// The Union eco-district example: `optimize` prints the parking capacity
/// saved by sharing it across time slices, and writes the per-slice and
/// services tables.
#[test]
fn union_roubaix_reports_the_parking_capacity_saved_by_sharing() {
    let out = tempfile::tempdir().expect("temporary folder");
    let output = symbiose(
        &[
            "optimize",
            &repo_path("data/union-roubaix"),
            "--report",
            "--out",
            &out.path().display().to_string(),
        ],
        out.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("parking_space_h:"))
        .unwrap_or_else(|| panic!("no parking line in:\n{stdout}"));
    assert!(
        line.contains("spaces needed without sharing") && line.contains("spaces saved"),
        "{line}"
    );
    for file in ["flow_slices.csv", "link_slices.csv", "services.csv"] {
        assert!(out.path().join(file).exists(), "{file} written");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("summary.json")).expect("summary.json")).expect("JSON");
    let services = summary["services"].as_array().expect("services in summary.json");
    let parking = services
        .iter()
        .find(|service| service["resource"] == "parking_space_h")
        .expect("parking service");
    assert!(parking["capacity_saved_per_hour"].as_f64().expect("a number") > 0.0);
    // The report shows the services table, each value as services.csv has it.
    let page = fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(page.contains("id=\"sharing\"") && page.contains("id=\"table-services\""));
    let services_csv = fs::read_to_string(out.path().join("services.csv")).expect("services.csv");
    let header: Vec<&str> = services_csv.lines().next().expect("a header").split(',').collect();
    let saved = header
        .iter()
        .position(|c| *c == "capacity_saved_per_hour")
        .expect("column");
    for line in services_csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let value: f64 = cells[saved].parse().expect("a number");
        assert!(
            page.contains(&format!("data-v=\"{value}\"")),
            "{}: capacity saved {value} not in the report",
            cells[0]
        );
    }
}

/// The seasonal Dunkirk example is a MILP (pipes and a biogas plant with
/// fixed costs): the MIP gap is in summary.json, investments.csv and
/// processes.csv are written, and --mip-gap is accepted.
#[test]
fn dunkirk_seasonal_is_a_milp_with_its_gap_reported() {
    let out = tempfile::tempdir().expect("temporary folder");
    let output = symbiose(
        &[
            "optimize",
            &repo_path("data/dunkirk-seasonal"),
            "--mip-gap",
            "0.0001",
            "--report",
            "--out",
            &out.path().display().to_string(),
        ],
        out.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("summary.json")).expect("summary.json")).expect("JSON");
    let gap = summary["mip_gap"].as_f64().expect("mip_gap in summary.json");
    assert!((0.0..=1e-4).contains(&gap), "gap {gap}");
    assert!(summary["n_binaries"].as_u64().expect("n_binaries") > 0);
    for file in ["investments.csv", "processes.csv", "flow_slices.csv", "link_slices.csv"] {
        assert!(out.path().join(file).exists(), "{file} written");
    }
    let bad = symbiose(&["optimize", "--mip-gap", "-1", "--out", "x"], out.path());
    assert_eq!(bad.status.code(), Some(2));

    // The report's time-slice table: the winter share of the heat demands
    // matched, summed here from flow_slices.csv and flow_results.csv.
    let page = fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(page.contains("id=\"table-slices\""));
    let heat_demands: Vec<String> = fs::read_to_string(out.path().join("flow_results.csv"))
        .expect("flow_results.csv")
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|cells| cells[2] == "demand" && cells[3] == "hot_water_heat")
        .map(|cells| cells[0].clone())
        .collect();
    assert!(!heat_demands.is_empty());
    let (mut quantity, mut matched) = (0.0, 0.0);
    for line in fs::read_to_string(out.path().join("flow_slices.csv"))
        .expect("flow_slices.csv")
        .lines()
        .skip(1)
    {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[1] == "winter" && heat_demands.iter().any(|id| id == cells[0]) {
            quantity += cells[4].parse::<f64>().expect("quantity");
            matched += cells[5].parse::<f64>().expect("matched");
        }
    }
    let share = 100.0 * matched / quantity;
    assert!(share > 0.0 && share < 100.0, "winter heat share {share}");
    assert!(
        page.contains(&format!("data-v=\"{share}\"")),
        "winter heat share {share} not in the report"
    );

    // As Parquet, the Part B tables are written too, and `symbiose report`
    // on the folder draws the same page, hubs and investments included.
    let pq = out.path().join("pq");
    let output = symbiose(
        &[
            "optimize",
            &repo_path("data/dunkirk-seasonal"),
            "--format",
            "parquet",
            "--report",
            "--out",
            &pq.display().to_string(),
        ],
        out.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    for table in ["investments", "processes", "flow_slices", "link_slices", "services"] {
        assert!(pq.join(format!("{table}.parquet")).exists(), "{table}.parquet written");
        assert!(!pq.join(format!("{table}.csv")).exists(), "{table}.csv not written");
    }
    let page = fs::read_to_string(pq.join("report.html")).expect("report.html");
    assert!(page.contains("id=\"table-investments\"") && page.contains("id=\"table-processes\""));
    let again = report_again(&pq, out.path());
    assert!(again == page, "same page from the Parquet tables");
}
