//! What-if studies: sweeps (monotone in the carbon value, identical across
//! shards and thread counts), banned routes, firm exit, the Pareto front and
//! Shapley values checked against a brute-force computation.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::{assert_close, fixture_dir, load_fixture};
use symbiose::app;
use symbiose::model::{Edit, FirmIdx, Inventory};
use symbiose::progress::Silent;
use symbiose::solve::{Objective, SolveError, SolveOptions};
use symbiose::study::{self as scenario, Shard};
use symbiose::value::allocation;
use symbiose::value::optimize_inventory;

fn scenario_path(name: &str) -> PathBuf {
    fixture_dir("scenarios").join(name)
}

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn co2_avoided_does_not_decrease_with_the_carbon_value() {
    let out = tempfile::tempdir().unwrap();
    let swept = app::sweep(&app::SweepConfig::new(
        &repo_path("data/scenarios/carbon-value.toml"),
        out.path(),
    ))
    .unwrap();
    assert_eq!(swept.n_scenarios, 5);
    let mut rows = swept.rows.clone();
    rows.sort_by_key(|row| row.scenario);
    let carbon: Vec<f64> = rows.iter().map(|row| row.values[0]).collect();
    assert_eq!(carbon, vec![0.0, 54.0, 250.0, 500.0, 775.0]);
    let study = scenario::load_study(&repo_path("data/scenarios/carbon-value.toml")).unwrap();
    let co2 = study.base.category_index("co2e_t").unwrap().index();
    let avoided: Vec<f64> = rows
        .iter()
        .map(|row| row.metrics.as_ref().unwrap().avoided[co2])
        .collect();
    for pair in avoided.windows(2) {
        assert!(
            pair[1] >= pair[0] - 1e-6 * pair[0].abs().max(1.0),
            "CO2 avoided fell: {avoided:?}"
        );
    }
    assert!(out.path().join("sweep.svg").is_file());
    let csv = std::fs::read_to_string(out.path().join("sweep.csv")).unwrap();
    assert!(csv.starts_with("scenario,externality.co2e_t,status,private_cost_eur,externality_eur,firm_value_eur,territory_value_eur,n_links,avoided_co2e_t"));
    assert_eq!(csv.lines().count(), 6);
}

#[test]
fn sharded_then_merged_sweep_equals_the_plain_one_whatever_the_threads() {
    let work = tempfile::tempdir().unwrap();
    let grid = scenario_path("grid.toml");
    let plain = work.path().join("plain");
    app::sweep(&app::SweepConfig {
        threads: Some(2),
        ..app::SweepConfig::new(&grid, &plain)
    })
    .unwrap();
    let single = work.path().join("single");
    app::sweep(&app::SweepConfig {
        threads: Some(1),
        ..app::SweepConfig::new(&grid, &single)
    })
    .unwrap();
    let expected = std::fs::read(plain.join("sweep.csv")).unwrap();
    assert_eq!(
        std::fs::read(single.join("sweep.csv")).unwrap(),
        expected,
        "1 vs 2 threads"
    );
    let shards: Vec<PathBuf> = (1..=3).map(|i| work.path().join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        app::sweep(&app::SweepConfig {
            shard: Some(Shard { index: i + 1, count: 3 }),
            threads: Some(1),
            ..app::SweepConfig::new(&grid, dir)
        })
        .unwrap();
    }
    let merged = work.path().join("merged");
    app::merge(&shards, &merged).unwrap();
    assert_eq!(std::fs::read(merged.join("sweep.csv")).unwrap(), expected);
    // merge writes what an unsharded run writes (issue 12, defect 16).
    for file in ["sweep_meta.json", "sweep.svg"] {
        assert_eq!(
            std::fs::read_to_string(merged.join(file)).unwrap(),
            std::fs::read_to_string(plain.join(file)).unwrap(),
            "merged {file} against the plain run's"
        );
    }
    assert_eq!(
        expected.iter().filter(|b| **b == b'\n').count(),
        13,
        "header + 12 scenarios"
    );
    // A missing shard is an error, not a short table.
    let error = app::merge(&shards[..2], &work.path().join("short")).unwrap_err();
    assert!(error.to_string().contains("missing"), "{error}");
}

/// Warm starts reuse one HiGHS model per worker: the optimum value of every
/// scenario must be the cold solve's (the solution itself may differ where
/// optima tie). The grid changes costs and values, so the model is reused.
#[test]
fn warm_started_sweeps_reach_the_same_optima() {
    let study = scenario::load_study(&scenario_path("grid.toml")).unwrap();
    let mut warm = symbiose::solve::WarmStart::default();
    for index in 0..study.n_scenarios() {
        let (inventory, share) = study.instance(index).unwrap();
        // The monolithic model is the one a WarmStart keeps.
        let options = symbiose::solve::SolveOptions {
            decompose: false,
            ..study.solve_options(None)
        };
        let (_, cold, cold_values) = optimize_inventory(&inventory, &options, share).unwrap();
        let (_, hot, _) = app::optimize_inventory_warm(&inventory, &options, share, &mut warm).unwrap();
        assert_close(
            hot.first_stage_objective,
            cold.first_stage_objective,
            1e-9,
            &format!("scenario {index}: C + M"),
        );
        assert_close(
            hot.first_stage_objective,
            cold_values.optimized.private_cost_eur + cold_values.optimized.externality_eur,
            1e-9,
            "objective = C + M",
        );
    }
    assert_eq!(warm.built, 1, "one model built");
    assert_eq!(warm.reused, study.n_scenarios() - 1, "then reused");
}

#[test]
fn a_banned_route_that_cannot_be_avoided_names_the_flows_left_over() {
    let study = scenario::load_study(&scenario_path("ban_boiler.toml")).unwrap();
    let (inventory, share) = study.instance(0).unwrap();
    match optimize_inventory(&inventory, &study.solve_options(None), share) {
        Err(SolveError::Unplaceable(flows)) => {
            let total: f64 = flows.iter().map(|(_, quantity)| quantity).sum();
            assert_close(total, 20.0, 1e-9, "demand left over");
            assert!(flows.iter().all(|(id, _)| id == "d1" || id == "d2"), "{flows:?}");
        }
        other => panic!("expected unplaceable flows, got {other:?}"),
    }
    let error = app::run_scenario(
        &scenario_path("ban_boiler.toml"),
        &tempfile::tempdir().unwrap().path().join("o"),
        app::Extras::default(),
    )
    .unwrap_err();
    assert_eq!(error.exit_code(), app::exit_code::INFEASIBLE);
    assert!(error.to_string().contains("cannot be placed"), "{error}");

    // docs/model.md Part B: the shortfalls are found slice by slice, where the
    // year's totals would hide them (ban_seasonal.toml).
    let study = scenario::load_study(&scenario_path("ban_seasonal.toml")).unwrap();
    let (inventory, share) = study.instance(0).unwrap();
    match optimize_inventory(&inventory, &study.solve_options(None), share) {
        Err(SolveError::Unplaceable(flows)) => {
            assert_eq!(flows.len(), 2, "{flows:?}");
            assert_eq!((flows[0].0.as_str(), flows[1].0.as_str()), ("mill_heat", "town_heat"));
            assert_close(flows[0].1, 300.0, 1e-9, "summer heat left over");
            assert_close(flows[1].1, 300.0, 1e-9, "winter demand left over");
        }
        other => panic!("expected unplaceable flows, got {other:?}"),
    }

    // Banning the dump changes nothing here: all supply is placed anyway (T = 8600, see tests/fixtures.rs).
    let study = scenario::load_study(&scenario_path("ban_dump.toml")).unwrap();
    let (inventory, share) = study.instance(0).unwrap();
    let (_, _, valuation) = optimize_inventory(&inventory, &study.solve_options(None), share).unwrap();
    assert_close(valuation.territory_value_eur, 8600.0, 1e-9, "T with the dump banned");
}

#[test]
fn bad_scenario_files_are_refused_with_the_file_named() {
    let error = app::AppError::from(scenario::load_study(&scenario_path("bad_parameter.toml")).unwrap_err());
    assert_eq!(error.exit_code(), app::exit_code::INVALID_INPUT);
    let message = error.to_string();
    assert!(
        message.contains("bad_parameter.toml") && message.contains("no externality category \"no_such_category\""),
        "{message}"
    );
}

/// split_by_distance: the supplier a leaving takes both links and the whole
/// territory value (8600 EUR, firm value 3100); b leaving sends s1's heat to
/// c only (60 MWh, 20 km): M_base = 100*20 + 60*80 = 6800, M = 60*20 + 40*20
/// = 2000, so T = 4800.
#[test]
fn resilience_measures_what_each_exit_costs() {
    let inventory = load_fixture("split_by_distance");
    let rows = scenario::resilience(&inventory, &SolveOptions::default(), 0.5, &Silent).unwrap();
    let by_firm: HashMap<String, &scenario::ResilienceRow> = rows
        .iter()
        .map(|row| (inventory.firm(row.firm).id.clone(), row))
        .collect();
    assert_close(by_firm["a"].territory_value_lost_eur, 8600.0, 1e-9, "a leaves");
    assert_close(by_firm["a"].firm_value_lost_eur, 3100.0, 1e-9, "a leaves, firm value");
    assert_eq!(by_firm["a"].links_lost, 2);
    assert_close(by_firm["b"].territory_value_eur, 4800.0, 1e-9, "b leaves");
    assert_eq!(
        by_firm["b"].links_lost, 1,
        "s1->d1 disappears; s1->d2 stays (and carries more)"
    );
}

/// negative_credit: the firms' optimum is (C 3000, M 0), the territory's
/// (C 4000, M -2000); every point between lies on the segment
/// C = 3000 - M / 2 (each tonne sent costs 10 EUR and avoids 20 EUR).
/// The private optimum's second stage may spend docs/model.md A3's slack of
/// 1e-6 * C* = 0.003 EUR (it does: C 3000.003, M -0.006), hence 2e-6.
#[test]
fn pareto_front_spans_the_two_optima() {
    let inventory = load_fixture("negative_credit");
    let front = scenario::pareto_front(&inventory, 5, &Silent).unwrap();
    assert_close(
        front.private_optimum.private_cost_eur,
        3000.0,
        2e-6,
        "private optimum C",
    );
    assert_close(
        front.externalities_optimum.externality_eur,
        -2000.0,
        1e-6,
        "territory optimum M",
    );
    assert_close(
        front.cost_of_territory_view_eur(),
        1000.0,
        1e-5,
        "cost of the territory's view",
    );
    assert!(front.points.len() >= 5, "{:?}", front.points);
    for point in &front.points {
        assert_close(
            point.private_cost_eur,
            3000.0 - point.externality_eur / 2.0,
            1e-6,
            "on the segment",
        );
    }
    for pair in front.points.windows(2) {
        assert!(
            pair[1].externality_eur > pair[0].externality_eur && pair[1].private_cost_eur < pair[0].private_cost_eur
        );
    }
}

/// v(S) computed independently: the firms outside S removed (their flows
/// set to zero) rather than barred from exchanging, averaged over every
/// permutation rather than weighted over subsets.
fn brute_force_shapley(inventory: &Inventory, objective: Objective) -> Vec<f64> {
    let n = inventory.firms().len();
    let options = SolveOptions {
        objective,
        ..SolveOptions::default()
    };
    let mut cache: HashMap<u64, f64> = HashMap::new();
    let mut worth = |coalition: u64| -> f64 {
        *cache.entry(coalition).or_insert_with(|| {
            let outsiders: Vec<Edit> = (0..n)
                .filter(|firm| coalition & (1 << firm) == 0)
                .map(|firm| Edit::RemoveFirm(FirmIdx(firm as u32)))
                .collect();
            let restricted = inventory.edited(&outsiders).unwrap();
            optimize_inventory(&restricted, &options, 0.5).unwrap().2.firm_value_eur
        })
    };
    let mut totals = vec![0.0; n];
    let mut count = 0.0;
    let mut order: Vec<usize> = (0..n).collect();
    // Heap's algorithm over all n! orders.
    fn permute(k: usize, order: &mut Vec<usize>, visit: &mut dyn FnMut(&[usize])) {
        if k == 1 {
            visit(order);
            return;
        }
        for i in 0..k {
            permute(k - 1, order, visit);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            order.swap(j, k - 1);
        }
    }
    permute(n, &mut order, &mut |order| {
        let mut coalition = 0u64;
        for &firm in order {
            let before = worth(coalition);
            coalition |= 1 << firm;
            totals[firm] += worth(coalition) - before;
        }
        count += 1.0;
    });
    totals.iter().map(|t| t / count).collect()
}

#[test]
fn exact_shapley_values_agree_with_brute_force() {
    for (fixture, objective) in [
        ("lexicographic", Objective::Externalities),
        ("lexicographic", Objective::Private),
        ("split_by_distance", Objective::Externalities),
        ("negative_credit", Objective::Social),
        // Two parts: the values are the sum of each part's game's.
        ("two_parts_and_a_lonely_flow", Objective::Social),
        ("two_parts_and_a_lonely_flow", Objective::Externalities),
    ] {
        let inventory = load_fixture(fixture);
        let options = SolveOptions {
            objective,
            ..SolveOptions::default()
        };
        let values = allocation::shapley(&inventory, &options, 100, &Silent).unwrap();
        assert!(values.exact);
        let expected = brute_force_shapley(&inventory, objective);
        for (firm, (got, want)) in values.values.iter().zip(&expected).enumerate() {
            assert_close(
                *got,
                *want,
                1e-6,
                &format!(
                    "{fixture} {objective:?} firm {}",
                    inventory.firm(FirmIdx(firm as u32)).id
                ),
            );
        }
        let sum: f64 = values.values.iter().sum();
        assert_close(sum, values.grand_coalition_eur, 1e-9, "efficiency: values sum to v(N)");
    }
    // Hand check on lexicographic (market x: b1 with f1 saves 2200, with f2 2000):
    // b1 gets (0 + 0 + 2200 + 2000 + 2200 + 2200) / 6 = 1433.33.
    let inventory = load_fixture("lexicographic");
    let values = allocation::shapley(&inventory, &SolveOptions::default(), 100, &Silent).unwrap();
    assert_close(
        values.values[inventory.firm_index("b1").unwrap().index()],
        8600.0 / 6.0,
        1e-6,
        "b1 by hand",
    );
}

#[test]
fn sampled_shapley_values_sum_to_the_grand_coalition_on_average() {
    // Dunkirk has more than 12 firms with links: sampling, with standard errors.
    let inventory = symbiose::io::load_inventory(&symbiose::io::InventorySource::BundledDunkirk)
        .unwrap()
        .inventory;
    let values = allocation::shapley(&inventory, &SolveOptions::default(), 40, &Silent).unwrap();
    assert!(!values.exact);
    // Each permutation's marginal contributions sum exactly to v(N), so the means do too.
    let sum: f64 = values.values.iter().sum();
    assert_close(sum, values.grand_coalition_eur, 1e-9, "sampled values sum to v(N)");
    assert!(values.standard_errors.iter().any(|e| *e > 0.0));
}

/// Found by tests/fuzz.rs: a value such as 1e308 passed every check and
/// turned into infinities in the results. Scenario values are bounded like
/// input cells (1e15 in magnitude), and so is a quantity a factor scales.
#[test]
fn scenario_values_beyond_1e15_are_refused() {
    let mut inventory = load_fixture("split_by_distance");
    let mut share = 0.5;
    for (path, value) in [
        ("flow_quantity.s1", 1e308),
        ("route_cost.dump", -1e16),
        ("externality.ghg", 2e15),
        ("max_distance.heat_x", 1e300),
        ("flow_factor.s1", 1e14),
    ] {
        let parameter = scenario::parse_parameter(&inventory, path).unwrap();
        let error = scenario::apply_parameter(&mut inventory, &mut share, parameter, value).unwrap_err();
        assert!(error.contains("1e15"), "{path} = {value}: {error}");
    }
    // An unlimited distance is still written inf.
    let parameter = scenario::parse_parameter(&inventory, "max_distance.heat_x").unwrap();
    scenario::apply_parameter(&mut inventory, &mut share, parameter, f64::INFINITY).unwrap();
}

/// docs/model.md B4 in what-if studies: a scenario file may set `mip_gap`, and
/// the sweep of an inventory with investments (dunkirk-seasonal: pipes and
/// a digester with fixed costs) reports each scenario's gap in sweep.csv.
#[test]
fn a_sweep_over_investments_reports_each_mip_gap() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("seasonal.toml");
    std::fs::write(
        &file,
        format!(
            "inventory = {:?}\nmip_gap = 0.01\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [0, 100, 250]\n",
            repo_path("data/dunkirk-seasonal").display().to_string()
        ),
    )
    .unwrap();
    let study = scenario::load_study(&file).unwrap();
    assert!(study.has_investments());
    assert_eq!(study.solve_options(None).mip_gap, Some(0.01));
    let out = work.path().join("sweep");
    app::sweep(&app::SweepConfig {
        threads: Some(1),
        ..app::SweepConfig::new(&file, &out)
    })
    .unwrap();
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let gap = header.iter().position(|c| *c == "mip_gap").expect("a mip_gap column");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let value: f64 = row[gap].parse().expect("a gap for every solved scenario");
        assert!((0.0..=0.01).contains(&value), "gap {value}");
    }

    // A Part A inventory has no such column; a negative gap is refused.
    let plain = work.path().join("plain.toml");
    std::fs::write(&plain, "inventory = \"bundled:dunkirk\"\n").unwrap();
    assert!(!scenario::load_study(&plain).unwrap().has_investments());
    std::fs::write(&plain, "inventory = \"bundled:dunkirk\"\nmip_gap = -1\n").unwrap();
    let message = scenario::load_study(&plain).unwrap_err().to_string();
    assert!(
        message.contains("plain.toml") && message.contains("mip_gap must be"),
        "{message}"
    );
}

/// Writes `text` as a scenario file `name` in `dir`.
fn write_scenario(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A 2 x 2 grid on the bundled example with the carbon values given.
fn small_grid(carbon: &str) -> String {
    format!(
        "inventory = \"bundled:dunkirk\"\nobjective = \"social\"\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [{carbon}]\n[[vary]]\nparameter = \"route_cost.landfill\"\nvalues = [50, 150]\n"
    )
}

fn sweep_shard(scenario: &std::path::Path, index: usize, count: usize, out: &std::path::Path) {
    app::sweep(&app::SweepConfig {
        shard: Some(Shard { index, count }),
        threads: Some(1),
        ..app::SweepConfig::new(scenario, out)
    })
    .unwrap();
}

/// Issue 12, defect 1: `merge` checked only that each scenario index came
/// once, so shards of two scenario files, of two inventories, or of a file
/// edited in between merged into one mixed table.
#[test]
fn merge_refuses_shards_of_different_studies_and_names_what_differs() {
    let work = tempfile::tempdir().unwrap();
    let merge_error = |shards: &[PathBuf], what: &str| {
        let out = work.path().join(format!("merged-{what}"));
        let error = app::merge(shards, &out).unwrap_err();
        assert_eq!(error.exit_code(), app::exit_code::INVALID_INPUT);
        assert!(!out.exists(), "nothing written for {what}");
        error.to_string()
    };

    // Two different scenario files.
    let c1 = write_scenario(work.path(), "c1.toml", &small_grid("0, 250"));
    let c2 = write_scenario(work.path(), "c2.toml", &small_grid("100, 775"));
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    sweep_shard(&c1, 1, 2, &a);
    sweep_shard(&c2, 2, 2, &b);
    let message = merge_error(&[a.clone(), b.clone()], "files");
    assert!(
        message.contains("scenario file's content differs")
            && message.contains("c1.toml")
            && message.contains("c2.toml"),
        "{message}"
    );

    // One scenario file edited between its two shards.
    let edited = write_scenario(work.path(), "edited.toml", &small_grid("0, 250"));
    let (e1, e2) = (work.path().join("e1"), work.path().join("e2"));
    sweep_shard(&edited, 1, 2, &e1);
    std::fs::write(&edited, small_grid("0, 500")).unwrap();
    sweep_shard(&edited, 2, 2, &e2);
    let message = merge_error(&[e1, e2], "edited");
    assert!(message.contains("scenario file's content differs"), "{message}");

    // The same scenario file text beside two inventories that differ in one quantity.
    let mut shards = Vec::new();
    for (index, quantity) in [(1, "100"), (2, "90")] {
        let dir = work.path().join(format!("study{index}"));
        let inventory = dir.join("inventory");
        std::fs::create_dir_all(&inventory).unwrap();
        for entry in std::fs::read_dir(fixture_dir("split_by_distance")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), inventory.join(entry.file_name())).unwrap();
        }
        let flows = std::fs::read_to_string(inventory.join("flows.csv")).unwrap();
        std::fs::write(
            inventory.join("flows.csv"),
            flows.replace("s1,a,supply,heat_x,100,", &format!("s1,a,supply,heat_x,{quantity},")),
        )
        .unwrap();
        let scenario = write_scenario(
            &dir,
            "study.toml",
            "inventory = \"inventory\"\n[[vary]]\nparameter = \"externality.ghg\"\nvalues = [0, 100, 200]\n",
        );
        let out = work.path().join(format!("inventory-shard{index}"));
        sweep_shard(&scenario, index, 2, &out);
        shards.push(out);
    }
    let message = merge_error(&shards, "inventories");
    assert!(message.contains("inventory's content differs"), "{message}");

    // A shard from before the hashes were recorded is refused, not trusted.
    let meta_path = a.join("sweep_meta.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("inventory_hash");
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let message = merge_error(&[a, b], "old");
    assert!(message.contains("no inventory hash recorded"), "{message}");
}

/// Issue 12, deliverable 4: more than 64 firms with candidate links was
/// reported as "HiGHS failed" (exit 6); it is a limit of the program.
/// Issue 13: the 64-firm ceiling is gone. Each part's game is sampled
/// over its own players, so 300 generated firms (well over 64 with links)
/// complete; the values still sum to the grand coalition, which is the
/// whole territory's firm value.
#[test]
fn shapley_of_hundreds_of_firms_is_sampled_part_by_part() {
    let work = tempfile::tempdir().unwrap();
    let territory = work.path().join("territory");
    let generated = symbiose::generate::generate(&symbiose::generate::GenerateConfig {
        n_firms: 300,
        seed: 1,
        region_km: None,
    });
    std::fs::create_dir_all(&territory).unwrap();
    for (name, bytes) in &generated.files {
        std::fs::write(territory.join(name), bytes).unwrap();
    }
    let inventory = symbiose::io::load_inventory(&symbiose::io::InventorySource::Folder(territory.clone()))
        .unwrap()
        .inventory;
    let links = symbiose::candidates::candidate_links(&inventory);
    let players = allocation::shapley_players(&inventory, &links);
    assert!(
        players.len() > 64,
        "the territory has {} firms with links",
        players.len()
    );
    let values = allocation::shapley(&inventory, &SolveOptions::default(), 4, &Silent).unwrap();
    assert!(!values.exact, "some part has more than 12 players");
    let sum: f64 = values.values.iter().sum();
    assert_close(sum, values.grand_coalition_eur, 1e-9, "values sum to v(N)");
    let (_, _, whole) = optimize_inventory(&inventory, &SolveOptions::default(), 0.5).unwrap();
    assert_close(
        values.grand_coalition_eur,
        whole.firm_value_eur,
        1e-6,
        "v(N), part by part, is the territory's firm value",
    );
    for firm in 0..inventory.firms().len() {
        if !players.contains(&FirmIdx(firm as u32)) {
            assert_eq!(values.values[firm], 0.0, "a firm without links is a null player");
            assert_eq!(values.standard_errors[firm], 0.0);
        }
    }
    assert!(values.standard_errors.iter().any(|e| *e > 0.0));

    let output = crate::common::symbiose(
        &[
            "optimize",
            "territory",
            "--allocation",
            "shapley",
            "--samples",
            "2",
            "-q",
            "--out",
            "out",
        ],
        work.path(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = std::fs::read_to_string(work.path().join("out/firm_values.csv")).unwrap();
    assert!(
        table.lines().next().unwrap().contains("shapley_value_eur"),
        "{table:.200}"
    );
}

/// Issue 12, defect 13: --samples 0 and 1 were taken as 2, `pareto --points
/// 0` gave 2 points, and a top-level supplier_share beside `[set]
/// supplier_share` lost silently.
#[test]
fn silent_coercions_are_refused() {
    let work = tempfile::tempdir().unwrap();
    for samples in ["0", "1"] {
        let output = crate::common::symbiose(
            &[
                "optimize",
                "--allocation",
                "shapley",
                "--samples",
                samples,
                "--out",
                "o",
            ],
            work.path(),
        );
        assert_eq!(output.status.code(), Some(2), "--samples {samples}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("at least two samples"), "{stderr}");
    }
    for points in ["0", "1"] {
        let output = crate::common::symbiose(&["pareto", "--points", points, "--out", "p"], work.path());
        assert_eq!(output.status.code(), Some(2), "--points {points}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("number of points >= 2"), "{stderr}");
    }
    assert!(!work.path().join("o").exists() && !work.path().join("p").exists());
    // The library refuses them too.
    let dunkirk = symbiose::io::load_inventory(&symbiose::io::InventorySource::BundledDunkirk)
        .unwrap()
        .inventory;
    let error = allocation::shapley(&dunkirk, &SolveOptions::default(), 1, &Silent).unwrap_err();
    assert!(error.to_string().contains("at least 2 permutations"), "{error}");
    let error = app::pareto(
        &symbiose::io::InventorySource::BundledDunkirk,
        &dunkirk,
        1,
        &work.path().join("p"),
        None,
        true,
    )
    .unwrap_err();
    assert_eq!(error.exit_code(), app::exit_code::INVALID_INPUT);

    let both = write_scenario(
        work.path(),
        "both.toml",
        "inventory = \"bundled:dunkirk\"\nsupplier_share = 0.2\n[set]\nsupplier_share = 0.8\n",
    );
    let message = scenario::load_study(&both).unwrap_err().to_string();
    assert!(
        message.contains("both.toml") && message.contains("supplier_share is given both at the top level and in [set]"),
        "{message}"
    );
}

/// Issue 12, defect 14: a scenario file reported only its first problem,
/// and a TOML syntax error lost the line with the caret under the fault.
#[test]
fn a_scenario_file_reports_every_problem_at_once() {
    let work = tempfile::tempdir().unwrap();
    let file = write_scenario(
        work.path(),
        "many.toml",
        "inventory = \"bundled:dunkirk\"\ntime_limit = -1\nremove_firms = [\"no_such_firm\"]\n[set]\n\"externality.no_such_category\" = 1.0\n[[vary]]\nparameter = \"route_cost.landfill\"\nvalues = []\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [10, -5, -6]\n",
    );
    let error = app::AppError::from(scenario::load_study(&file).unwrap_err());
    assert_eq!(error.exit_code(), app::exit_code::INVALID_INPUT);
    let symbiose::app::AppError::Scenario(scenario_error) = &error else {
        panic!("expected a scenario error, got {error:?}");
    };
    let problems = &scenario_error.problems;
    assert_eq!(problems.len(), 5, "{problems:#?}");
    for expected in [
        "time_limit must be a number of seconds >= 0, got -1",
        "[[vary]] route_cost.landfill: values is empty",
        "remove_firms: no firm \"no_such_firm\"",
        "no externality category \"no_such_category\"",
        "[[vary]] externality.co2e_t: an externality value must be a finite number >= 0, got -5 (1 more of its values are refused too)",
    ] {
        assert!(
            problems.iter().any(|p| p.message.contains(expected)),
            "{expected:?} not in {problems:#?}"
        );
    }
    let output = crate::common::symbiose(&["sweep", "many.toml", "--out", "s"], work.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.starts_with("error: many.toml:"))
            .count(),
        5,
        "{stderr}"
    );
    // Each at the line of the value at fault, in file order.
    let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
    assert_eq!(
        lines,
        vec![Some(2), Some(3), Some(5), Some(7), Some(11)],
        "{problems:#?}"
    );
    assert!(stderr.contains("error: many.toml:2: time_limit must be"), "{stderr}");
    assert!(stderr.contains("5 problems in many.toml"), "{stderr}");

    // A broken inventory's problems come with the file's own.
    let broken = work.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("firms.csv"), "firm_id,name,lat,lon\na,A,50,2\n").unwrap();
    let file = write_scenario(work.path(), "broken.toml", "inventory = \"broken\"\nmip_gap = -1\n");
    match scenario::load_study(&file).unwrap_err() {
        scenario::StudyError::Input(symbiose::io::LoadError::Invalid { errors, .. }) => {
            assert!(errors.iter().any(|e| e.file.ends_with("flows.csv")), "{errors:?}");
            assert!(
                errors
                    .iter()
                    .any(|e| e.file.ends_with("broken.toml") && e.message.contains("mip_gap must be")),
                "{errors:?}"
            );
        }
        other => panic!("expected the inventory's problems, got {other:?}"),
    }

    // A syntax error keeps toml's own lines: the position, the source line, the caret.
    let file = write_scenario(
        work.path(),
        "syntax.toml",
        "inventory = \"bundled:dunkirk\"\nobjective = social\n",
    );
    let message = scenario::load_study(&file).unwrap_err().to_string();
    assert!(message.contains("line 2, column 13"), "{message}");
    assert!(message.contains("2 | objective = social\n"), "{message}");
    assert!(message.lines().any(|line| line.trim_end().ends_with('^')), "{message}");
}

/// Issue 12, defect 9: a scenario file could not name a workbook, though a
/// workbook is accepted wherever a folder is.
#[test]
fn a_scenario_file_may_name_a_workbook() {
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_dir("dunkirk.xlsx"), work.path().join("own.xlsx")).unwrap();
    let file = write_scenario(
        work.path(),
        "own.toml",
        "inventory = \"own.xlsx\"\n[set]\n\"externality.co2e_t\" = 250\n",
    );
    let study = scenario::load_study(&file).unwrap();
    assert!(
        matches!(study.source, symbiose::io::InventorySource::Workbook(_)),
        "{:?}",
        study.source
    );
    let csv = symbiose::io::load_inventory(&symbiose::io::InventorySource::Folder(repo_path("data/dunkirk")))
        .unwrap()
        .inventory;
    assert_eq!(study.base.firms().len(), csv.firms().len());
    assert_eq!(study.base.flows().len(), csv.flows().len());
    let (inventory, share) = study.instance(0).unwrap();
    let (_, _, from_workbook) = optimize_inventory(&inventory, &study.solve_options(None), share).unwrap();
    let mut csv = csv;
    let co2 = csv.category_index("co2e_t").unwrap();
    let parameter = scenario::Parameter::Externality(co2);
    let mut share = 0.5;
    scenario::apply_parameter(&mut csv, &mut share, parameter, 250.0).unwrap();
    let (_, _, from_folder) = optimize_inventory(&csv, &study.solve_options(None), share).unwrap();
    assert_close(
        from_workbook.territory_value_eur,
        from_folder.territory_value_eur,
        1e-9,
        "territory value, workbook against folder",
    );
}

/// Issue 12, defect 5: a 4 x 1000 grid (10^12 scenarios) listed every
/// index before the first solve and grew until the machine ran out.
#[test]
fn a_grid_beyond_the_limit_is_refused_at_once_with_its_size() {
    let work = tempfile::tempdir().unwrap();
    let values: Vec<String> = (0..1000).map(|v| v.to_string()).collect();
    let values = values.join(", ");
    let mut text = "inventory = \"bundled:dunkirk\"\n".to_string();
    for parameter in [
        "externality.co2e_t",
        "route_cost.landfill",
        "route_cost.flaring",
        "supplier_share",
    ] {
        let values = if parameter == "supplier_share" {
            (0..1000)
                .map(|v| (v as f64 / 1000.0).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            values.clone()
        };
        text += &format!("[[vary]]\nparameter = \"{parameter}\"\nvalues = [{values}]\n");
    }
    let file = write_scenario(work.path(), "huge.toml", &text);
    let started = std::time::Instant::now();
    let output = crate::common::symbiose(&["sweep", "huge.toml", "--out", "s"], work.path());
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1000 x 1000 x 1000 x 1000")
            && stderr.contains("1000000000000 scenarios")
            && stderr.contains("more than the 1000000")
            && stderr.contains("--shard")
            && stderr.contains("--allow-large-grid"),
        "{stderr}"
    );
    assert!(seconds < 30.0, "refused after {seconds} s");
    assert!(!work.path().join("s").exists());
    // A shard still beyond the limit is refused; one within it, or the
    // explicit option, passes the check (not run here).
    let study = scenario::load_study(&file).unwrap();
    let error = scenario::check_grid(&study, Some(Shard { index: 1, count: 2 }), false).unwrap_err();
    assert!(
        error.to_string().contains("500000000000 of them in shard 1/2"),
        "{error}"
    );
    assert_eq!(
        scenario::check_grid(
            &study,
            Some(Shard {
                index: 3,
                count: 1_000_000
            }),
            false
        )
        .unwrap(),
        1_000_000
    );
    assert_eq!(scenario::check_grid(&study, None, true).unwrap(), 1_000_000_000_000);
    // A grid that does not fit in 64 bits is refused even so.
    let mut wider = text.clone();
    for parameter in [
        "transport_cost.steam",
        "route_cost.gas_boiler_heat",
        "externality.freshwater_m3",
    ] {
        wider += &format!("[[vary]]\nparameter = \"{parameter}\"\nvalues = [{values}]\n");
    }
    let file = write_scenario(work.path(), "wider.toml", &wider);
    match scenario::load_study(&file) {
        Ok(study) => {
            let error = scenario::check_grid(&study, None, true).unwrap_err();
            assert!(error.to_string().contains("more than a sweep can index"), "{error}");
        }
        Err(error) => panic!("wider.toml should load: {error}"),
    }
}

/// Issue 12, defect 6: `--threads 100000` started 100,000 threads for 5
/// scenarios (11 minutes); it is capped at 4 per core with a warning.
#[test]
fn threads_are_capped_with_a_warning() {
    let cores = std::thread::available_parallelism().unwrap().get();
    let (threads, warning) = app::capped_threads(Some(100_000));
    assert_eq!(threads, Some(4 * cores));
    assert!(warning.unwrap().contains(&format!("using {}", 4 * cores)));
    assert_eq!(app::capped_threads(Some(2)), (Some(2), None));
    assert_eq!(app::capped_threads(None), (None, None));
    let work = tempfile::tempdir().unwrap();
    let output = crate::common::symbiose(
        &[
            "sweep",
            repo_path("data/scenarios/carbon-value.toml").to_str().unwrap(),
            "--threads",
            "100000",
            "-q",
            "--out",
            "s",
        ],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: --threads 100000 is more than 4 per core"),
        "{stderr}"
    );
    let output = crate::common::symbiose(&["pareto", "--threads", "0", "--out", "p"], work.path());
    assert_eq!(output.status.code(), Some(2));
}

/// The text of every `<text class="CLASS" ...>label</text>` of an SVG.
fn svg_texts(svg: &str, class: &str) -> Vec<String> {
    let opening = format!("<text class=\"{class}\"");
    svg.match_indices(&opening)
        .map(|(start, _)| {
            let rest = &svg[start..];
            let open_end = rest.find('>').unwrap() + 1;
            let close = rest.find("</text>").unwrap();
            rest[open_end..close].to_string()
        })
        .collect()
}

/// The `data-series` names of an SVG's lines.
fn svg_series(svg: &str) -> Vec<String> {
    svg.match_indices("data-series=\"")
        .map(|(start, found)| {
            let rest = &svg[start + found.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// Issue 12, defect 16: sweep.svg dropped every varied parameter but the
/// first; pareto.svg labelled every x tick "1.54G".
#[test]
fn charts_show_every_varied_parameter_with_distinct_tick_labels() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("grid");
    app::sweep(&app::SweepConfig::new(&scenario_path("grid.toml"), &out)).unwrap();
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    // Four panels (T, firm value, M, C), one line per landfill cost in each.
    let series = svg_series(&svg);
    assert_eq!(series.len(), 4 * 4, "{series:?}");
    for cost in [50, 100, 150, 300] {
        let name = format!("route_cost.landfill = {cost}");
        assert_eq!(series.iter().filter(|s| **s == name).count(), 4, "{name} in {series:?}");
    }
    assert_eq!(svg_texts(&svg, "panel-title").len(), 4);
    let x_ticks = svg_texts(&svg, "x-tick");
    assert_eq!(x_ticks[..4].to_vec(), vec!["0", "200", "400", "600"], "{x_ticks:?}");

    // More combinations than lines: evenly spaced ones, and a note saying so.
    let many = write_scenario(
        work.path(),
        "many.toml",
        "inventory = \"bundled:dunkirk\"\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [0, 500]\n[[vary]]\nparameter = \"route_cost.landfill\"\nvalues = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]\n",
    );
    let out = work.path().join("many");
    app::sweep(&app::SweepConfig::new(&many, &out)).unwrap();
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    let mut names = svg_series(&svg);
    names.dedup();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), scenario::MAX_SWEEP_CHART_LINES, "{names:?}");
    assert!(
        names.contains(&"route_cost.landfill = 10".to_string())
            && names.contains(&"route_cost.landfill = 100".to_string())
    );
    let note = svg_texts(&svg, "note");
    assert!(
        note.len() == 1 && note[0].contains("8 of the 10 combinations of route_cost.landfill"),
        "{note:?}"
    );

    // A front whose externalities differ in the fourth significant digit.
    let point = |m: f64, c: f64| scenario::ParetoPoint {
        private_cost_eur: c,
        externality_eur: m,
    };
    let front = scenario::ParetoFront {
        points: vec![point(1.5412e9, 2.2e6), point(1.5415e9, 2.1e6), point(1.5418e9, 2.0e6)],
        private_optimum: point(1.5418e9, 2.0e6),
        externalities_optimum: point(1.5412e9, 2.2e6),
        social_optimum: point(1.5412e9, 2.2e6),
    };
    let svg = scenario::pareto_chart(&front);
    let x_ticks = svg_texts(&svg, "x-tick");
    let mut distinct = x_ticks.clone();
    distinct.sort();
    distinct.dedup();
    assert!(x_ticks.len() >= 3 && distinct.len() == x_ticks.len(), "{x_ticks:?}");
    assert!(x_ticks.contains(&"1.5412G".to_string()), "{x_ticks:?}");
    // Two optima at one point: their labels are stacked, not drawn over each other.
    let baselines: Vec<String> = svg
        .match_indices("<text class=\"marker\"")
        .map(|(start, _)| {
            let rest = &svg[start..];
            let y = rest.find(" y=\"").unwrap() + 4;
            rest[y..y + rest[y..].find('"').unwrap()].to_string()
        })
        .collect();
    assert_eq!(baselines.len(), 3);
    assert_ne!(baselines[1], baselines[2], "externalities and social labels overlap");
}
