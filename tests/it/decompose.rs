//! Issue 13's "Done when": the decomposed solve (`solve::parts`, a
//! territory's independent parts solved apart, in parallel) and the
//! monolithic one (`decompose: false`) agree: objective values, docs/model.md
//! A3's lexicographic bounds and A4's identities, on random territories of
//! several parts (Part A, and Part B with slices, hubs and investments, a
//! MILP); a hand-solved territory of two parts and a lonely flow; the same
//! bits whatever the thread count, for the library and for every command
//! that works in parallel; `--no-decompose` on the command line.
//!
//! Tolerances (each with its reason where it is used):
//! - first-stage optimum of an LP, decomposed against monolithic: 1e-9
//!   relative. Both are optima of the same LP (its parts share nothing), so
//!   only rounding differs.
//! - the lexicographic objectives' second stage spends at most docs/model.md
//!   A3's slack S = 1e-6 max(1, |v*|) on the first criterion, the
//!   decomposed solve shared between its parts; so the first criterion of
//!   either answer lies in [v*, v* + S], checked with [`NUMERICAL`] on top:
//!   1e-9 of the territory's magnitude, the tolerance of the A4 identities
//!   (`Run::assert_identities`); the criteria are recomputed from the
//!   link flows by the valuation, so only rounding separates them from the
//!   solver's (measured: at most 2e-14 of the magnitude over these cases,
//!   against S = 1e-6 of v*, so the bound still tells a slack spent twice).
//! - the second criterion: the monolithic second stage may spend all of S
//!   where it buys the most, each part of the decomposed one only its
//!   share, so the decomposed value may be worse; but its answer is
//!   feasible for the monolithic second stage (its first criterion is
//!   within v* + S) and each part's share is >= 0, so it is sandwiched:
//!   monolithic (slack S) <= decomposed <= lexicographic optimum at slack 0
//!   (which both solves must reach alike), each with [`NUMERICAL`].
//! - MILPs (docs/model.md B4): HiGHS stops at its default relative gap 1e-4
//!   (and absolute gap 1e-6) of each model's optimum; every cost and impact
//!   of the Part B generator is >= 0, so each part's optimum is >= 0 and
//!   the decomposed and monolithic optima both lie within
//!   1e-4 (max(|a|, |b|) + number of models) + 1e-6 x models of the true
//!   optimum (the "+ number of models" covers a gap measured against
//!   max(1, |v_b|)). With `mip_gap` 0 the MILP is solved to optimality and
//!   the LP tolerances above apply again.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{assert_close, clustered_inventory, load_fixture, run_inventory_with, symbiose, Run};
use crate::threads::{contents, run as run_with_threads};
use symbiose::candidates::{candidate_links, components};
use symbiose::generate::{generate, GenerateConfig};
use symbiose::io::{load_inventory, InventorySource};
use symbiose::model::Inventory;
use symbiose::solve::{solve, LpSolution, Objective, SolutionStatus, SolveOptions, BATCH_COLUMNS};
use symbiose::value::Valuation;

const OBJECTIVES: [Objective; 3] = [Objective::Externalities, Objective::Private, Objective::Social];

/// Rounding, relative to the territory's magnitude (module documentation).
const NUMERICAL: f64 = 1e-9;

/// Random Part A territories checked (each under the three objectives).
const PART_A_CASES: u64 = 64;
/// Random Part B territories checked (each under the three objectives).
const PART_B_CASES: u64 = 32;

fn options(objective: Objective, decompose: bool) -> SolveOptions {
    SolveOptions {
        objective,
        decompose,
        ..SolveOptions::default()
    }
}

/// The first criterion of `objective` (docs/model.md A3) in a valuation.
fn first_criterion(objective: Objective, valuation: &Valuation) -> f64 {
    let totals = &valuation.optimized;
    match objective {
        Objective::Externalities => totals.externality_eur,
        Objective::Private => totals.private_cost_eur,
        Objective::Social => totals.private_cost_eur + totals.externality_eur,
    }
}

/// The second criterion of a lexicographic objective.
fn second_criterion(objective: Objective, valuation: &Valuation) -> f64 {
    match objective {
        Objective::Externalities => valuation.optimized.private_cost_eur,
        Objective::Private => valuation.optimized.externality_eur,
        Objective::Social => unreachable!("social has one criterion"),
    }
}

/// max(1, |C|, |M|, |C_base|, |M_base|): the scale of [`NUMERICAL`].
fn magnitude(valuation: &Valuation) -> f64 {
    [
        valuation.baseline.private_cost_eur,
        valuation.baseline.externality_eur,
        valuation.optimized.private_cost_eur,
        valuation.optimized.externality_eur,
    ]
    .iter()
    .fold(1.0f64, |largest, x| largest.max(x.abs()))
}

/// |a - b| <= tolerance max(1, |a|, |b|).
#[track_caller]
fn assert_relative(a: f64, b: f64, tolerance: f64, what: &str) {
    let scale = a.abs().max(b.abs()).max(1.0);
    assert!(
        (a - b).abs() <= tolerance * scale,
        "{what}: {a} against {b}, {:e} apart (relative tolerance {tolerance:e})",
        (a - b).abs() / scale
    );
}

/// The number of parts to solve, asserted to be at least 2 so that no
/// agreement below passes for want of parts.
#[track_caller]
fn assert_several_parts(inventory: &Inventory, what: &str) -> usize {
    let parts = components(inventory, &candidate_links(inventory));
    assert!(parts.n_linked() >= 2, "{what}: {} part(s) with links", parts.n_linked());
    parts.n_linked()
}

/// The checks of docs/model.md A3 on a lexicographic objective (module
/// documentation): first criterion within [v*, v* + S] for both answers,
/// and monolithic <= decomposed <= slack-0 optimum on the second, whose
/// decomposed and monolithic values agree.
fn assert_lexicographic_bounds(
    inventory: &Inventory,
    objective: Objective,
    base: &SolveOptions,
    decomposed: &Run,
    monolithic: &Run,
    what: &str,
) {
    let optimum = monolithic.solution.first_stage_objective;
    let slack = base.lexicographic_slack * optimum.abs().max(1.0);
    let numerical = NUMERICAL * magnitude(&monolithic.valuation).max(magnitude(&decomposed.valuation));
    for (run, name) in [(decomposed, "decomposed"), (monolithic, "monolithic")] {
        let first = first_criterion(objective, &run.valuation);
        assert!(
            first <= optimum + slack + numerical && first >= optimum - numerical,
            "{what}: {name} first criterion {first} outside [v*, v* + S] = [{optimum}, {}] (+- {numerical:e})",
            optimum + slack
        );
    }
    let at_zero = |decompose: bool| {
        run_inventory_with(
            inventory.clone(),
            &SolveOptions {
                decompose,
                lexicographic_slack: 0.0,
                ..base.clone()
            },
            0.5,
        )
    };
    let (zero_decomposed, zero_monolithic) = (at_zero(true), at_zero(false));
    let best = second_criterion(objective, &monolithic.valuation);
    let ours = second_criterion(objective, &decomposed.valuation);
    let lexicographic = second_criterion(objective, &zero_monolithic.valuation);
    assert!(
        ours >= best - numerical,
        "{what}: decomposed second criterion {ours} beats the monolithic second stage's optimum {best} (+- {numerical:e})"
    );
    assert!(
        ours <= lexicographic + numerical,
        "{what}: decomposed second criterion {ours} worse than the lexicographic optimum at slack 0, {lexicographic} (+- {numerical:e})"
    );
    assert!(
        (second_criterion(objective, &zero_decomposed.valuation) - lexicographic).abs() <= numerical,
        "{what}: at slack 0, decomposed second criterion {} against monolithic {lexicographic} (+- {numerical:e})",
        second_criterion(objective, &zero_decomposed.valuation)
    );
}

/// Part A: 64 random territories of 2 to 5 parts (`clustered_tables`), each
/// under the three objectives: statuses, first-stage optima, docs/model.md
/// A3's lexicographic bounds, and A4's identities on both answers.
#[test]
fn decomposed_and_monolithic_solves_agree_on_random_territories_of_several_parts() {
    let mut n_parts = 0;
    for seed in 0..PART_A_CASES {
        let inventory = clustered_inventory(seed, false);
        n_parts += assert_several_parts(&inventory, &format!("seed {seed}"));
        for objective in OBJECTIVES {
            let what = format!("seed {seed}, {}", objective.as_str());
            let decomposed = run_inventory_with(inventory.clone(), &options(objective, true), 0.5);
            let monolithic = run_inventory_with(inventory.clone(), &options(objective, false), 0.5);
            assert!(decomposed.solution.extended.is_none(), "{what}: a Part A territory");
            assert_eq!(decomposed.solution.status, SolutionStatus::Optimal, "{what}");
            assert_eq!(monolithic.solution.status, SolutionStatus::Optimal, "{what}");
            assert_relative(
                decomposed.solution.first_stage_objective,
                monolithic.solution.first_stage_objective,
                1e-9,
                &format!("{what}: first-stage optimum"),
            );
            decomposed.assert_identities();
            monolithic.assert_identities();
            if objective == Objective::Social {
                // One criterion: both answers are optima of the same LP.
                assert_relative(
                    first_criterion(objective, &decomposed.valuation),
                    first_criterion(objective, &monolithic.valuation),
                    1e-9,
                    &format!("{what}: C + M"),
                );
            } else {
                assert_lexicographic_bounds(
                    &inventory,
                    objective,
                    &options(objective, true),
                    &decomposed,
                    &monolithic,
                    &what,
                );
            }
        }
    }
    assert!(n_parts >= 2 * PART_A_CASES as usize);
}

/// Part B: 32 random territories of 2 to 5 parts with 2 or 3 slices, a
/// profile, hubs (some with a fixed cost) and fixed costs on the r1 links
/// (`clustered_tables`), each under the three objectives: at HiGHS's
/// default MIP gap, the first-stage optima agree within the gap (module
/// documentation); at gap 0, as tightly as an LP, with A3's lexicographic
/// bounds; A4's identities (with the processes' term) on every answer.
#[test]
fn decomposed_and_monolithic_solves_agree_on_random_part_b_territories() {
    let (mut n_milps, mut n_with_hubs) = (0, 0);
    for seed in 0..PART_B_CASES {
        let seed = 1_000 + seed;
        let inventory = clustered_inventory(seed, true);
        let n_parts = assert_several_parts(&inventory, &format!("seed {seed}"));
        assert!(inventory.slices().len() >= 2, "seed {seed}: slices");
        n_with_hubs += usize::from(!inventory.processes().is_empty());
        for objective in OBJECTIVES {
            let what = format!("Part B seed {seed}, {}", objective.as_str());
            let decomposed = run_inventory_with(inventory.clone(), &options(objective, true), 0.5);
            let monolithic = run_inventory_with(inventory.clone(), &options(objective, false), 0.5);
            for run in [&decomposed, &monolithic] {
                assert_eq!(run.solution.status, SolutionStatus::Optimal, "{what}");
                run.assert_identities();
            }
            let extended = decomposed.solution.extended.as_ref().expect("a Part B solution");
            let (a, b) = (
                decomposed.solution.first_stage_objective,
                monolithic.solution.first_stage_objective,
            );
            if extended.n_binaries > 0 {
                n_milps += 1;
                let tolerance = 1e-4 * (a.abs().max(b.abs()) + n_parts as f64) + 1e-6 * n_parts as f64;
                assert!(
                    (a - b).abs() <= tolerance,
                    "{what}: first-stage optima {a} and {b} more than the MIP gaps ({tolerance:e}) apart"
                );
            } else {
                assert_relative(a, b, 1e-9, &format!("{what}: first-stage optimum"));
            }
            // Solved to optimality, the MILP's answers agree like an LP's.
            let exact = |decompose: bool| SolveOptions {
                mip_gap: Some(0.0),
                ..options(objective, decompose)
            };
            let decomposed = run_inventory_with(inventory.clone(), &exact(true), 0.5);
            let monolithic = run_inventory_with(inventory.clone(), &exact(false), 0.5);
            for run in [&decomposed, &monolithic] {
                assert_eq!(run.solution.status, SolutionStatus::Optimal, "{what}, gap 0");
                run.assert_identities();
            }
            let numerical = NUMERICAL * magnitude(&monolithic.valuation);
            assert!(
                (decomposed.solution.first_stage_objective - monolithic.solution.first_stage_objective).abs()
                    <= numerical,
                "{what}, gap 0: first-stage optima {} and {} (+- {numerical:e})",
                decomposed.solution.first_stage_objective,
                monolithic.solution.first_stage_objective
            );
            if objective == Objective::Social {
                let (ours, theirs) = (
                    first_criterion(objective, &decomposed.valuation),
                    first_criterion(objective, &monolithic.valuation),
                );
                assert!(
                    (ours - theirs).abs() <= numerical,
                    "{what}, gap 0: C + M {ours} against {theirs}"
                );
            } else {
                assert_lexicographic_bounds(&inventory, objective, &exact(true), &decomposed, &monolithic, &what);
            }
        }
    }
    // Not vacuous: most cases are MILPs, and hubs are there.
    assert!(n_milps >= PART_B_CASES as usize * 3 / 2, "{n_milps} MILP solves");
    assert!(
        n_with_hubs >= PART_B_CASES as usize / 2,
        "{n_with_hubs} territories with hubs"
    );
}

/// tests/data/two_parts_and_a_lonely_flow, worked out by hand. Routes:
/// dispose 50 EUR/t and 0.1 t ghg (10 EUR at 100 EUR/t), source 80 EUR/t
/// and 0.2 t ghg (20 EUR); no transport impact.
///
/// Part 1: a supplies 100 t of r1, b demands 60, 10 km at 1 EUR/t.km: a
/// link costs 10 EUR/t and spares 50 + 80 EUR and 10 + 20 EUR of harm per
/// t, so x = 60 under every objective; a disposes 40. C_1 = 600 + 40 x 50
/// = 2,600, M_1 = 40 x 10 = 400.
/// Part 2: c supplies 30 t of r2, d demands 50, 5 km at 2 EUR/t.km: 10
/// EUR/t, x = 30; d sources 20. C_2 = 300 + 20 x 80 = 1,900, M_2 = 20 x 20
/// = 400.
/// The lonely flow: e supplies 20 t of r3, which nobody demands: no link,
/// no model; it disposes of all 20 t: C_e = 1,000, M_e = 200.
/// C = 5,500, M = 1,000, C + M = 6,500: the first-stage optimum of
/// private, externalities and social.
///
/// Shadow prices under social (unit cost: dispose 60, source 100, link 10):
/// part 1 has x and a's fallback basic: dual(a) = 60, and x's cost 10 =
/// dual(a) + dual(b) gives dual(b) = -50; part 2 has x and d's fallback
/// basic: dual(d) = 100, dual(c) = 10 - 100 = -90. The lonely flow: its
/// fallback's cost, 60 (social), 10 (externalities), 50 (private).
#[test]
fn two_parts_and_a_lonely_flow_solve_to_their_hand_computed_optimum() {
    let inventory = load_fixture("two_parts_and_a_lonely_flow");
    let parts = components(&inventory, &candidate_links(&inventory));
    assert_eq!(parts.n_linked(), 2);
    assert_eq!(parts.n_unlinked_flows(), 1);
    for (objective, lonely_price) in [
        (Objective::Social, 60.0),
        (Objective::Externalities, 10.0),
        (Objective::Private, 50.0),
    ] {
        let what = objective.as_str();
        let run = run_inventory_with(inventory.clone(), &options(objective, true), 0.5);
        assert_eq!(run.solution.status, SolutionStatus::Optimal, "{what}");
        let expected = match objective {
            Objective::Social => 6_500.0,
            Objective::Externalities => 1_000.0,
            Objective::Private => 5_500.0,
        };
        assert_close(run.solution.first_stage_objective, expected, 1e-12, what);
        assert_close(run.link_flow("a_r1", "b_r1"), 60.0, 1e-12, "x a -> b");
        assert_close(run.link_flow("c_r2", "d_r2"), 30.0, 1e-12, "x c -> d");
        assert_eq!(run.links.len(), 2, "{what}: two candidate links");
        assert_close(run.valuation.optimized.private_cost_eur, 5_500.0, 1e-12, "C");
        assert_close(run.valuation.optimized.externality_eur, 1_000.0, 1e-12, "M");
        assert_close(run.flow("e_r3").fallback_quantity, 20.0, 1e-12, "e disposes of all");
        // Exactly the fallback's cost: no solver is involved.
        assert_eq!(
            run.flow("e_r3").shadow_price_eur_per_unit,
            lonely_price,
            "{what}: lonely flow's price"
        );
        if objective == Objective::Social {
            for (flow, price) in [("a_r1", 60.0), ("b_r1", -50.0), ("c_r2", -90.0), ("d_r2", 100.0)] {
                assert_close(run.flow(flow).shadow_price_eur_per_unit, price, 1e-9, flow);
            }
        }
        run.assert_identities();
        // The monolithic model gives the lonely flow a balance row of its
        // own, whose dual is the same fallback cost.
        let monolithic = run_inventory_with(inventory.clone(), &options(objective, false), 0.5);
        assert_close(monolithic.solution.first_stage_objective, expected, 1e-12, "monolithic");
        assert_close(
            monolithic.flow("e_r3").shadow_price_eur_per_unit,
            lonely_price,
            1e-12,
            "monolithic lonely price",
        );
    }
}

/// Writes `symbiose generate --firms N --seed S`'s files into `dir`.
fn generated_folder(dir: &Path, n_firms: usize, seed: u64) -> PathBuf {
    let generated = generate(&GenerateConfig {
        n_firms,
        seed,
        region_km: None,
    });
    let folder = dir.join(format!("generated-{n_firms}-{seed}"));
    fs::create_dir_all(&folder).unwrap();
    for (name, bytes) in &generated.files {
        fs::write(folder.join(name), bytes).unwrap();
    }
    folder
}

fn load(folder: &Path) -> Inventory {
    match load_inventory(&InventorySource::Folder(folder.to_path_buf())) {
        Ok(loaded) => loaded.inventory,
        Err(error) => panic!("{} does not load: {error:?}", folder.display()),
    }
}

/// Everything of a solution but its timings, as bits.
fn bits(solution: &LpSolution) -> (SolutionStatus, Vec<u64>) {
    let mut words: Vec<u64> = solution.link_flows.iter().map(|x| x.to_bits()).collect();
    words.extend(solution.shadow_prices.iter().map(|x| x.to_bits()));
    words.push(solution.first_stage_objective.to_bits());
    if let Some(extended) = &solution.extended {
        for rows in [
            &extended.slice_link_flows,
            &extended.slice_shadow_prices,
            &extended.activities,
        ] {
            for row in rows {
                words.push(row.len() as u64);
                words.extend(row.iter().map(|x| x.to_bits()));
            }
        }
        words.push(extended.n_binaries as u64);
        words.push(extended.mip_gap.map_or(u64::MAX, f64::to_bits));
    }
    (solution.status, words)
}

/// The same inventory solved (decomposed) in rayon pools of 1, 2 and 4
/// threads gives the same bits: a generated territory of 1,000 firms, whose
/// columns fill several models of [`BATCH_COLUMNS`], under the three
/// objectives, and a random Part B territory (a MILP).
#[test]
fn a_decomposed_solve_gives_the_same_bits_in_pools_of_one_two_and_four_threads() {
    let dir = tempfile::tempdir().unwrap();
    let generated = load(&generated_folder(dir.path(), 1_000, 7));
    let links = candidate_links(&generated);
    assert!(
        links.len() + generated.flows().len() > 3 * BATCH_COLUMNS,
        "several models: {} columns",
        links.len() + generated.flows().len()
    );
    assert_several_parts(&generated, "generated 1,000 firms");
    let part_b = clustered_inventory(1_003, true);
    let mut cases: Vec<(&Inventory, Objective)> = OBJECTIVES.iter().map(|&o| (&generated, o)).collect();
    cases.extend(OBJECTIVES.iter().map(|&o| (&part_b, o)));
    for (inventory, objective) in cases {
        let links = candidate_links(inventory);
        let answers: Vec<(SolutionStatus, Vec<u64>)> = [1, 2, 4]
            .iter()
            .map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let solution = pool
                    .install(|| solve(inventory, &links, &options(objective, true)))
                    .expect("solves");
                bits(&solution)
            })
            .collect();
        for (answer, threads) in answers[1..].iter().zip([2, 4]) {
            assert!(
                *answer == answers[0],
                "{} flows, {}: {threads} threads differ from 1",
                inventory.flows().len(),
                objective.as_str()
            );
        }
    }
}

/// Runs `symbiose ARGS --out DIR` with 1, 2 and 4 rayon threads and asserts
/// the same bytes (summary.json's solve_seconds masked, as tests/it/threads.rs does).
fn assert_same_bytes_with_one_two_and_four_threads(work: &Path, name: &str, args: &[&str]) {
    let outs: Vec<PathBuf> = [1, 2, 4]
        .iter()
        .map(|threads| {
            let out = work.join(format!("{name}-{threads}"));
            run_with_threads(args, *threads, &out);
            out
        })
        .collect();
    let one = contents(&outs[0]);
    assert!(!one.is_empty(), "{name} wrote nothing");
    for (out, threads) in outs[1..].iter().zip([2, 4]) {
        let other = contents(out);
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "{name}: not the same files with {threads} threads"
        );
        for (file, bytes) in &one {
            assert!(
                other[file] == *bytes,
                "{name}: {file} differs between 1 and {threads} threads"
            );
        }
    }
}

/// optimize, sweep, resilience and pareto, decomposed (the default), on
/// generated territories of several parts: the same bytes with 1, 2 and 4
/// threads. optimize on 1,000 firms (several models, shapley off: the
/// parallel part is the decomposed solve), sweep on 300 firms, resilience
/// (one solve per firm) on 40, pareto (its two lexicographic ends are
/// decomposed) on 300.
#[test]
fn commands_on_a_territory_of_several_parts_write_the_same_bytes_whatever_the_threads() {
    let work = tempfile::tempdir().unwrap();
    let large = generated_folder(work.path(), 1_000, 7);
    let medium = generated_folder(work.path(), 300, 11);
    let small = generated_folder(work.path(), 40, 5);
    for folder in [&large, &medium, &small] {
        assert_several_parts(&load(folder), &folder.display().to_string());
    }
    let large = large.display().to_string();
    let medium = medium.display().to_string();
    let small = small.display().to_string();
    assert_same_bytes_with_one_two_and_four_threads(work.path(), "optimize", &["optimize", &large, "-q"]);
    assert_same_bytes_with_one_two_and_four_threads(
        work.path(),
        "optimize-social",
        &["optimize", &medium, "--objective", "social", "-q"],
    );
    let scenario = work.path().join("carbon.toml");
    fs::write(
        &scenario,
        format!(
            "inventory = \"{}\"\nobjective = \"externalities\"\n\n[[vary]]\nparameter = \"externality.co2e_t\"\nvalues = [0, 100, 250]\n",
            medium.replace('\\', "\\\\")
        ),
    )
    .unwrap();
    assert_same_bytes_with_one_two_and_four_threads(
        work.path(),
        "sweep",
        &["sweep", &scenario.display().to_string(), "-q"],
    );
    assert_same_bytes_with_one_two_and_four_threads(work.path(), "resilience", &["resilience", &small, "-q"]);
    assert_same_bytes_with_one_two_and_four_threads(work.path(), "pareto", &["pareto", &medium, "--points", "4", "-q"]);
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("summary.json")).expect("summary.json exists"))
        .expect("summary.json is JSON")
}

/// `optimize --no-decompose` against the default on a generated territory
/// of several parts: social's totals within 1e-9 relative (both are optima
/// of one LP); externalities' M within the lexicographic slack (each
/// second stage may spend up to S on it, module documentation);
/// summary.json's options.decompose false and true.
#[test]
fn optimize_no_decompose_gives_the_same_totals_as_the_default() {
    let work = tempfile::tempdir().unwrap();
    let folder = generated_folder(work.path(), 300, 11);
    assert_several_parts(&load(&folder), "generated 300 firms");
    let folder = folder.display().to_string();
    for objective in ["social", "externalities"] {
        let outs: Vec<serde_json::Value> = [false, true]
            .iter()
            .map(|&no_decompose| {
                let out = format!("{objective}-{no_decompose}");
                let mut args = vec!["optimize", &folder, "--objective", objective, "--out", &out, "-q"];
                if no_decompose {
                    args.push("--no-decompose");
                }
                let output = symbiose(&args, work.path());
                assert_eq!(output.status.code(), Some(0));
                summary(&work.path().join(&out))
            })
            .collect();
        let (default, monolithic) = (&outs[0], &outs[1]);
        assert_eq!(default["options"]["decompose"], serde_json::Value::Bool(true));
        assert_eq!(monolithic["options"]["decompose"], serde_json::Value::Bool(false));
        assert_eq!(default["status"], "optimal");
        assert_eq!(monolithic["status"], "optimal");
        let number = |summary: &serde_json::Value, a: &str, b: Option<&str>| {
            let value = match b {
                Some(b) => &summary[a][b],
                None => &summary[a],
            };
            value
                .as_f64()
                .unwrap_or_else(|| panic!("summary.json {a} {b:?}: {value}"))
        };
        for (a, b) in [
            ("baseline", Some("private_cost_eur")),
            ("baseline", Some("externality_eur")),
        ] {
            assert_eq!(
                number(default, a, b),
                number(monolithic, a, b),
                "{objective}: {a} {b:?}"
            );
        }
        if objective == "social" {
            let social = |summary| {
                number(summary, "optimized", Some("private_cost_eur"))
                    + number(summary, "optimized", Some("externality_eur"))
            };
            assert_relative(social(default), social(monolithic), 1e-9, "social: C + M");
            for (a, b) in [
                ("optimized", Some("private_cost_eur")),
                ("optimized", Some("externality_eur")),
                ("firm_value_eur", None),
                ("territory_value_eur", None),
            ] {
                // Another of several tied optima may split C + M otherwise:
                // only their sum is unique; with these generated numbers
                // each total is the same too.
                assert_relative(
                    number(default, a, b),
                    number(monolithic, a, b),
                    1e-9,
                    &format!("social: {a} {b:?}"),
                );
            }
        } else {
            let (ours, theirs) = (
                number(default, "optimized", Some("externality_eur")),
                number(monolithic, "optimized", Some("externality_eur")),
            );
            assert!(
                (ours - theirs).abs() <= 1.01e-6 * ours.abs().max(theirs.abs()).max(1.0),
                "externalities: M {ours} against {theirs}"
            );
        }
    }
}

/// Issue 13, item 2: a what-if re-solves only the parts whose model it
/// changes (`solve::Reuse`). A firm's exit (its flows' quantities 0, the
/// base's links kept, as `resilience` does) keeps the solution of the
/// models it does not touch and starts the others from the base's basis;
/// the first optimum is a fresh solve's (of the exit's own candidate links)
/// within 1e-9 relative, under `social` and under `externalities`, and the
/// A4 identity holds. Under `social` the models kept are exactly the ones
/// a fresh solve builds, so a fresh solve of the same links gives the same
/// bits where no model needed a new solve.
#[test]
fn a_firms_exit_re_solves_only_the_parts_it_changes() {
    use symbiose::model::{Edit, FirmIdx};
    use symbiose::solve::Reuse;
    use symbiose::value::value_lp_solution;
    let work = tempfile::tempdir().unwrap();
    // Large enough for several models (windows of BATCH_FLOWS flows).
    let inventory = load(&generated_folder(work.path(), 1000, 3));
    let links = candidate_links(&inventory);
    assert_several_parts(&inventory, "1,000 generated firms");
    for objective in [Objective::Social, Objective::Externalities] {
        let options = options(objective, true);
        let (_, reuse) = Reuse::solve(&inventory, &links, &options).unwrap();
        let (mut kept, mut warm) = (0, 0);
        for firm in (0..inventory.firms().len()).step_by(111).map(FirmIdx::from_index) {
            let without = inventory.edited(&[Edit::RemoveFirm(firm)]).unwrap();
            let (reused, counts) = reuse.resolve(&without, &links, &options).unwrap();
            assert_eq!(
                counts.solved, 0,
                "{objective:?}, firm {firm:?}: the exit keeps every model's shape"
            );
            kept += counts.kept;
            warm += counts.warm;
            let fresh = solve(&without, &candidate_links(&without), &options).unwrap();
            assert_relative(
                reused.first_stage_objective,
                fresh.first_stage_objective,
                1e-9,
                &format!("{objective:?}, firm {firm:?}: first optimum"),
            );
            if objective == Objective::Social && counts.warm == 0 {
                assert_eq!(
                    bits(&reused),
                    bits(&solve(&without, &links, &options).unwrap()),
                    "firm {firm:?}"
                );
            }
            let valuation = value_lp_solution(&without, &links, &reused, 0.5);
            let sum: f64 = valuation.firms.iter().map(|firm| firm.value_eur).sum();
            assert_close(
                sum,
                valuation.baseline.private_cost_eur - valuation.optimized.private_cost_eur,
                1e-9,
                "sum V_f = C_base - C",
            );
        }
        // A firm in the largest part changes it, and may change them all
        // (at 1,000 firms there are three models); most exits keep some.
        assert!(kept >= 5, "{objective:?}: {kept} models kept over ten exits");
        assert!(warm >= 10, "{objective:?}: {warm} models started from the base's basis");
    }
}

/// A sweep point started from the base's solve (`Start::Base`, the
/// default) gives the row a cold solve gives: Dunkirk's 3 x 4 grid under
/// `social` (one stage, so kept parts are exactly what a cold solve finds).
#[test]
fn sweep_points_from_the_base_solve_are_the_cold_solves() {
    use symbiose::solve::Reuse;
    use symbiose::study::{load_study, solve_point, Start};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/grid.toml");
    let study = load_study(&path).unwrap();
    let options = study.solve_options(Some(1));
    let (_, reuse) = Reuse::solve(&study.base, &candidate_links(&study.base), &options).unwrap();
    for scenario in 0..study.n_scenarios() {
        let cold = solve_point(&study, scenario, Start::Cold).unwrap();
        let based = solve_point(&study, scenario, Start::Base(&reuse)).unwrap();
        assert_eq!(based, cold, "scenario {scenario}");
    }
}
