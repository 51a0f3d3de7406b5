//! What-if studies: sweeps (monotone in the carbon value, identical across
//! shards and thread counts), banned routes, firm exit, the Pareto front and
//! Shapley values checked against a brute-force computation.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::{assert_close, fixture_dir, load_fixture};
use symbiose::app::{self, optimize_inventory};
use symbiose::inventory::{FirmIdx, Inventory};
use symbiose::lp::{Objective, SolveError, SolveOptions};
use symbiose::scenario::{self, Shard};

fn scenario_path(name: &str) -> PathBuf {
    fixture_dir("scenarios").join(name)
}

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn co2_avoided_does_not_decrease_with_the_carbon_value() {
    let out = tempfile::tempdir().unwrap();
    let swept = app::sweep(
        &repo_path("data/scenarios/carbon-value.toml"),
        out.path(),
        None,
        None,
        false,
        true,
    )
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
    app::sweep(&grid, &plain, None, Some(2), false, true).unwrap();
    let single = work.path().join("single");
    app::sweep(&grid, &single, None, Some(1), false, true).unwrap();
    let expected = std::fs::read(plain.join("sweep.csv")).unwrap();
    assert_eq!(
        std::fs::read(single.join("sweep.csv")).unwrap(),
        expected,
        "1 vs 2 threads"
    );
    let shards: Vec<PathBuf> = (1..=3).map(|i| work.path().join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        app::sweep(&grid, dir, Some(Shard { index: i + 1, count: 3 }), Some(1), false, true).unwrap();
    }
    let merged = work.path().join("merged");
    app::merge(&shards, &merged).unwrap();
    assert_eq!(std::fs::read(merged.join("sweep.csv")).unwrap(), expected);
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
    let mut warm = symbiose::lp::WarmStart::default();
    for index in 0..study.n_scenarios() {
        let (inventory, share) = study.instance(index).unwrap();
        let options = study.solve_options(None);
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
        app::Allocation::Equal,
    )
    .unwrap_err();
    assert_eq!(error.exit_code(), app::exit_code::INFEASIBLE);
    assert!(error.to_string().contains("cannot be placed"), "{error}");

    // MODEL.md Part B: the shortfalls are found slice by slice, where the
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
    let error = scenario::load_study(&scenario_path("bad_parameter.toml")).unwrap_err();
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
    let rows = scenario::resilience(&inventory, &SolveOptions::default(), 0.5, true).unwrap();
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
/// The private optimum's second stage may spend MODEL.md A3's slack of
/// 1e-6 * C* = 0.003 EUR (it does: C 3000.003, M -0.006), hence 2e-6.
#[test]
fn pareto_front_spans_the_two_optima() {
    let inventory = load_fixture("negative_credit");
    let front = scenario::pareto_front(&inventory, 5, true).unwrap();
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
            let mut restricted = inventory.clone();
            for firm in 0..n {
                if coalition & (1 << firm) == 0 {
                    scenario::remove_firm(&mut restricted, FirmIdx(firm as u32));
                }
            }
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
    ] {
        let inventory = load_fixture(fixture);
        let options = SolveOptions {
            objective,
            ..SolveOptions::default()
        };
        let values = scenario::shapley(&inventory, &options, 100, true).unwrap();
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
    let values = scenario::shapley(&inventory, &SolveOptions::default(), 100, true).unwrap();
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
    let values = scenario::shapley(&inventory, &SolveOptions::default(), 40, true).unwrap();
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

/// MODEL.md B4 in what-if studies: a scenario file may set `mip_gap`, and
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
    app::sweep(&file, &out, None, Some(1), false, true).unwrap();
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
