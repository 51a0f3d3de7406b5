//! A review of the decomposed solve (`solve::parts`, `solve::Reuse`, the
//! per-part Shapley game): small hand-solvable inventories written here,
//! each answer compared with the monolithic solve (`decompose: false`), a
//! fresh solve, or a hand-solved value, with the tolerance stated where it
//! is used.
//!
//! The "trade-off" territory used by several tests (`tradeoff_files`):
//! routes `zz_landfill` (disposal, 10 EUR/t, 1 t ghg per t = 100 EUR at
//! 100 EUR/t), `zz_virgin` (sourcing, 20 EUR/t, no impact) and `zz_dump`
//! (disposal, 5 EUR/t, 0.5 t ghg = 50 EUR). Part 1: a supplies 200 t of r1
//! (zz_landfill), b demands 100 t (zz_virgin), 40 km at 1 EUR/t.km: a link costs
//! 40 EUR/t and spares 30 EUR/t of fallbacks, so each tonne linked costs
//! the firms 10 EUR and spares 100 EUR of harm. Part 2: the same with r2
//! over 80 km: 50 EUR of cost per tonne linked. A lonely flow: e supplies
//! 20 t of r3 (zz_dump), nobody wants it; between the parts, [`padding`]
//! makes each part a model of its own. Under `externalities`: M* links 100
//! t in each part, M* = 100 x 100 + 100 x 100 + 20 x 50 = 21,000; C at M* =
//! (100 x 40 + 100 x 10) + (100 x 80 + 100 x 10) + 20 x 5 = 14,100.

use std::fs;
use std::path::Path;

use crate::common::{assert_close, load_fixture, run_inventory_with};
use crate::threads::{contents, run as run_with_threads};
use symbiose::candidates::{candidate_links, components};
use symbiose::generate::{generate, GenerateConfig};
use symbiose::io::{load_inventory, InventorySource};
use symbiose::model::{Edit, Inventory};
use symbiose::progress::Silent;
use symbiose::solve::{solve, Objective, Reuse, SolutionStatus, SolveError, SolveOptions};
use symbiose::value::allocation::shapley;
use symbiose::value::value_lp_solution;

/// `solve::parts::BATCH_FLOWS` (not exported): parts whose first flows lie
/// in one window of this many flows are batched into one model.
const BATCH_FLOWS: usize = 1_000;

const OBJECTIVES: [Objective; 3] = [Objective::Externalities, Objective::Private, Objective::Social];

fn options(objective: Objective, decompose: bool) -> SolveOptions {
    SolveOptions {
        objective,
        decompose,
        ..SolveOptions::default()
    }
}

/// Writes `files` (name, contents) into a fresh folder of `dir` and loads it.
fn inventory_of(dir: &Path, name: &str, files: &[(&str, String)]) -> Inventory {
    let folder = dir.join(name);
    fs::create_dir_all(&folder).unwrap();
    for (file, text) in files {
        fs::write(folder.join(file), text).unwrap();
    }
    match load_inventory(&InventorySource::Folder(folder.clone())) {
        Ok(loaded) => loaded.inventory,
        Err(error) => panic!("{} does not load: {error:?}", folder.display()),
    }
}

/// The trade-off territory of the module documentation.
fn tradeoff_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "firms.csv",
            "firm_id,name,lat,lon\na,A,50.0,2.0\nb,B,50.0,2.01\nc,C,51.0,2.0\nd,D,51.0,2.01\ne,E,52.0,2.0\n".into(),
        ),
        (
            "flows.csv",
            "flow_id,firm_id,kind,resource,quantity,fallback\n\
             a_r1,a,supply,r1,200,zz_landfill\n\
             b_r1,b,demand,r1,100,zz_virgin\n"
                .to_string()
                + &padding()
                + "c_r2,c,supply,r2,200,zz_landfill\n\
             d_r2,d,demand,r2,100,zz_virgin\n\
             e_r3,e,supply,r3,20,zz_dump\n",
        ),
        ("distances.csv", "from_firm,to_firm,distance_km\na,b,40\nc,d,80\n".into()),
        (
            "resources.csv",
            "resource,category,unit,transport_cost_eur_per_unit_km,max_distance_km\n\
             r1,material,t,1,\nr2,material,t,1,\nr3,material,t,0,\n"
                .into(),
        ),
        (
            "routes.csv",
            "route,kind,unit,cost_eur_per_unit\nzz_landfill,disposal,t,10\nzz_virgin,sourcing,t,20\nzz_dump,disposal,t,5\nzz_pad,disposal,t,0\n"
                .into(),
        ),
        (
            "impacts.csv",
            "subject,category,amount_per_unit\nroute:zz_landfill,ghg,1\nroute:zz_dump,ghg,0.5\n".into(),
        ),
        (
            "externalities.csv",
            "category,unit,value_eur_per_unit,scope\nghg,t,100,global\n".into(),
        ),
    ]
}

/// [`BATCH_FLOWS`] lonely flows of quantity 0 (firm e, r3 on the costless
/// route `zz_pad`): they weigh nothing, but put the parts after them in
/// another window of the batching (`solve::parts::group`), so that each
/// part is a model of its own.
fn padding() -> String {
    (0..BATCH_FLOWS)
        .map(|i| format!("pad{i},e,supply,r3,0,zz_pad\n"))
        .collect()
}

/// tests/data/fixed_cost_link_above (a mill's heat to a town, a pipe with a
/// fixed cost: a MILP of one binary) with a lonely flow added: e disposes
/// of 20 t of r3 on `zz_dump` (0.5 t ghg per t), which no one wants.
fn milp_and_lonely_files() -> Vec<(&'static str, String)> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixed_cost_link_above");
    let read = |name: &str| fs::read_to_string(fixture.join(name)).unwrap();
    vec![
        ("firms.csv", read("firms.csv") + "e,Lonely,52.0,2.0\n"),
        ("flows.csv", read("flows.csv") + "e_r3,e,supply,r3,20,zz_dump\n"),
        ("distances.csv", read("distances.csv")),
        ("resources.csv", read("resources.csv") + "r3,material,t,0,,\n"),
        ("routes.csv", read("routes.csv") + "zz_dump,disposal,t,5\n"),
        ("impacts.csv", read("impacts.csv") + "route:zz_dump,ghg,0.5\n"),
        ("externalities.csv", read("externalities.csv")),
    ]
}

fn flow_factor(inventory: &Inventory, flow: &str, factor: f64) -> Inventory {
    let flow = inventory.flow_index(flow).unwrap();
    inventory.edited(&[Edit::FlowFactor { flow, factor }]).unwrap()
}

/// Flows in no link and no process (the flows a decomposed solve puts in
/// no model), by index.
fn lonely_flows(inventory: &Inventory, links: &[symbiose::candidates::Link]) -> Vec<usize> {
    let mut linked = vec![false; inventory.flows().len()];
    for link in links {
        linked[link.supply.index()] = true;
        linked[link.demand.index()] = true;
    }
    for process in inventory.processes() {
        for port in &process.ports {
            linked[port.index()] = true;
        }
    }
    (0..linked.len()).filter(|flow| !linked[*flow]).collect()
}

/// Every bundled test fixture that is an inventory, under the three
/// objectives (MILPs at gap 0): the decomposed and monolithic solves have
/// the same status and first-stage optimum (1e-9 relative: the same LP, or
/// the same MILP solved to optimality), and every flow in no model gets
/// the monolithic model's shadow price (1e-9 relative: its balance row's
/// own fallback is basic there, so its dual is the fallback's cost),
/// slices, services (tests/data/service_two_slices), hubs (hub_yield) and
/// zero quantities (zero_quantity) included. Covers `Alone::new` and
/// `assemble` on every kind of flow a fixture has (passes).
#[test]
fn every_fixture_solves_alike_decomposed_and_monolithic() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut names: Vec<String> = fs::read_dir(&data)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().join("flows.csv").is_file())
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "fixtures: {names:?}");
    let mut n_lonely = 0;
    for name in &names {
        let inventory = load_fixture(name);
        let links = candidate_links(&inventory);
        let lonely = lonely_flows(&inventory, &links);
        n_lonely += lonely.len();
        for objective in OBJECTIVES {
            let what = format!("{name}, {}", objective.as_str());
            let exact = |decompose: bool| SolveOptions {
                mip_gap: Some(0.0),
                ..options(objective, decompose)
            };
            let decomposed = solve(&inventory, &links, &exact(true));
            let monolithic = solve(&inventory, &links, &exact(false));
            let (decomposed, monolithic) = match (decomposed, monolithic) {
                (Ok(a), Ok(b)) => (a, b),
                (a, b) => {
                    assert_eq!(a.map(|s| s.status), b.map(|s| s.status), "{what}: outcomes");
                    continue;
                }
            };
            assert_eq!(decomposed.status, monolithic.status, "{what}: status");
            assert_close(
                decomposed.first_stage_objective,
                monolithic.first_stage_objective,
                1e-9,
                &format!("{what}: first-stage optimum"),
            );
            for &flow in &lonely {
                assert_close(
                    decomposed.shadow_prices[flow],
                    monolithic.shadow_prices[flow],
                    1e-9,
                    &format!("{what}: shadow price of lonely flow {}", inventory.flows()[flow].id),
                );
            }
        }
    }
    assert!(n_lonely >= 3, "{n_lonely} lonely flows over the fixtures");
}

/// Slices and profiles with flows in no model: the alone flows' constant
/// (sum over slices of cost x Q x share) and annual shadow prices (the
/// share-weighted sum of per-slice prices) under each objective, against
/// the monolithic solve (1e-9 relative) and by hand. Two slices `day` and
/// `night` (3,000 h and 5,760 h), e's flow on a profile 0.7 / 0.3 and a
/// lonely demand f (sourcing 20 EUR/t, no impact) without a profile.
/// Hand: alone C = 20 x 5 + 10 x 20 = 300, alone M = 20 x 50 = 1,000; their
/// shadow prices their fallbacks' unit costs in the objective (passes).
#[test]
fn lonely_flows_over_several_slices_cost_what_the_monolithic_model_says() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = tradeoff_files();
    for (name, text) in &mut files {
        match *name {
            "flows.csv" => {
                *text = text
                    .replace("fallback\n", "fallback,profile\n")
                    .replace("zz_landfill\n", "zz_landfill,\n")
                    .replace("zz_virgin\n", "zz_virgin,\n")
                    .replace(",zz_pad\n", ",zz_pad,\n")
                    .replace(
                        "e_r3,e,supply,r3,20,zz_dump\n",
                        "e_r3,e,supply,r3,20,zz_dump,lumpy\nf_r4,e,demand,r4,10,zz_virgin,\n",
                    )
            }
            "resources.csv" => text.push_str("r4,material,t,0,\n"),
            _ => {}
        }
    }
    files.push(("slices.csv", "slice,hours\nday,3000\nnight,5760\n".into()));
    files.push((
        "profiles.csv",
        "profile,slice,share\nlumpy,day,0.7\nlumpy,night,0.3\n".into(),
    ));
    let inventory = inventory_of(dir.path(), "sliced", &files);
    assert_eq!(inventory.slices().len(), 2);
    let links = candidate_links(&inventory);
    let lonely = lonely_flows(&inventory, &links);
    assert_eq!(lonely.len(), 2 + BATCH_FLOWS, "e_r3, f_r4 and the padding are alone");
    for objective in OBJECTIVES {
        let decomposed = solve(&inventory, &links, &options(objective, true)).unwrap();
        let monolithic = solve(&inventory, &links, &options(objective, false)).unwrap();
        let what = objective.as_str();
        assert_close(
            decomposed.first_stage_objective,
            monolithic.first_stage_objective,
            1e-9,
            &format!("{what}: first-stage optimum"),
        );
        // By hand: the parts (linked fully under each objective's first
        // stage? not under private: each link costs the firms money) plus
        // the alone constant; checked against the monolithic optimum.
        let alone = match objective {
            Objective::Externalities => 1_000.0,
            Objective::Private => 300.0,
            Objective::Social => 1_300.0,
        };
        let parts = match objective {
            // M: 100 t left in each part's zz_landfill.
            Objective::Externalities => 20_000.0,
            // C: no link (each costs the firms more than both fallbacks).
            Objective::Private => 2.0 * (200.0 * 10.0 + 100.0 * 20.0),
            // C + M: a linked tonne saves 100 - 10 (part 1), 100 - 50 (part 2).
            Objective::Social => (5_000.0 + 10_000.0) + (9_000.0 + 10_000.0),
        };
        assert_close(
            monolithic.first_stage_objective,
            parts + alone,
            1e-9,
            &format!("{what}: by hand"),
        );
        let (e, f) = (
            inventory.flow_index("e_r3").unwrap().index(),
            inventory.flow_index("f_r4").unwrap().index(),
        );
        let (e_price, f_price) = match objective {
            Objective::Externalities => (50.0, 0.0),
            Objective::Private => (5.0, 20.0),
            Objective::Social => (55.0, 20.0),
        };
        for (flow, price) in [(e, e_price), (f, f_price)] {
            assert_close(
                decomposed.shadow_prices[flow],
                price,
                1e-9,
                &format!("{what}: price of {flow}"),
            );
            assert_close(
                monolithic.shadow_prices[flow],
                price,
                1e-9,
                &format!("{what}: monolithic price of {flow}"),
            );
            let extended = decomposed.extended.as_ref().expect("slices: a Part B solution");
            for slice in &extended.slice_shadow_prices {
                assert_close(slice[flow], price, 1e-9, &format!("{what}: slice price of {flow}"));
            }
        }
    }
}

/// A banned route that only a lonely flow used (`e_r3` on `zz_dump`): that
/// flow is then solved (a model of one infeasible row), and the error is
/// the monolithic solve's, word for word: the elastic copy names e_r3 and
/// its 20 t, decomposed, monolithic, and through `Reuse` (passes).
#[test]
fn a_lonely_flow_whose_fallback_is_banned_is_explained_as_the_monolithic_solve_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_of(dir.path(), "tradeoff", &tradeoff_files());
    let zz_dump = inventory
        .routes()
        .iter()
        .position(|route| route.id == "zz_dump")
        .unwrap();
    let banned = inventory
        .edited(&[Edit::BanRoute(symbiose::model::RouteIdx::from_index(zz_dump))])
        .unwrap();
    let links = candidate_links(&banned);
    for objective in OBJECTIVES {
        let decomposed = solve(&banned, &links, &options(objective, true)).unwrap_err();
        let monolithic = solve(&banned, &links, &options(objective, false)).unwrap_err();
        assert_eq!(decomposed, monolithic, "{}", objective.as_str());
        assert_eq!(
            decomposed,
            SolveError::Unplaceable(vec![("e_r3".to_string(), 20.0)]),
            "{}",
            objective.as_str()
        );
        let base = Reuse::solve(&inventory, &candidate_links(&inventory), &options(objective, true))
            .unwrap()
            .1;
        let reused = base.resolve(&banned, &links, &options(objective, true)).unwrap_err();
        assert_eq!(reused, monolithic, "{}: through Reuse", objective.as_str());
    }
}

/// Robustness: a territory with processes and no link (hub_yield solved
/// with no candidate link: the hub's ports are a part of their own, held
/// together by the process), a territory of lonely flows only (every model
/// empty), and the trade-off territory under a `Reuse` with no links at
/// all: no panic, the monolithic optimum within 1e-9 (passes).
#[test]
fn territories_with_no_links_solve_decomposed_as_they_do_whole() {
    let hub = load_fixture("hub_yield");
    assert!(!hub.processes().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let tradeoff = inventory_of(dir.path(), "tradeoff", &tradeoff_files());
    for inventory in [&hub, &tradeoff] {
        assert_eq!(
            components(inventory, &[]).n_linked(),
            inventory.processes().len().min(1)
        );
        for objective in OBJECTIVES {
            let what = format!("{} flows, {}", inventory.flows().len(), objective.as_str());
            let decomposed = solve(inventory, &[], &options(objective, true)).expect("solves");
            let monolithic = solve(inventory, &[], &options(objective, false)).expect("solves");
            assert_eq!(decomposed.status, SolutionStatus::Optimal, "{what}");
            assert_close(
                decomposed.first_stage_objective,
                monolithic.first_stage_objective,
                1e-9,
                &what,
            );
            for (a, b) in decomposed.shadow_prices.iter().zip(&monolithic.shadow_prices) {
                assert_close(*a, *b, 1e-9, &format!("{what}: shadow prices"));
            }
            let (reused, _) = Reuse::solve(inventory, &[], &options(objective, true)).expect("solves");
            assert_close(
                reused.first_stage_objective,
                monolithic.first_stage_objective,
                1e-9,
                &format!("{what}: Reuse"),
            );
        }
    }
}

/// `optimize --allocation shapley --samples 4` on a generated territory of
/// 300 firms (several parts, some sampled, solved decomposed) writes the
/// same bytes with RAYON_NUM_THREADS 1, 2 and 4 (summary.json's
/// solve_seconds masked, as tests/it/threads.rs does) (passes).
#[test]
fn optimize_with_sampled_shapley_on_300_firms_writes_the_same_bytes_with_one_two_and_four_threads() {
    let work = tempfile::tempdir().unwrap();
    let generated = generate(&GenerateConfig {
        n_firms: 300,
        seed: 11,
        region_km: None,
    });
    let folder = work.path().join("generated-300");
    fs::create_dir_all(&folder).unwrap();
    for (name, bytes) in &generated.files {
        fs::write(folder.join(name), bytes).unwrap();
    }
    let inventory = load_inventory(&InventorySource::Folder(folder.clone()))
        .unwrap()
        .inventory;
    assert!(components(&inventory, &candidate_links(&inventory)).n_linked() >= 2);
    let folder = folder.display().to_string();
    let args = ["optimize", &folder, "--allocation", "shapley", "--samples", "4", "-q"];
    let outs: Vec<_> = [1, 2, 4]
        .iter()
        .map(|threads| {
            let out = work.path().join(format!("shapley-{threads}"));
            run_with_threads(&args, *threads, &out);
            contents(&out)
        })
        .collect();
    assert!(outs[0].contains_key("firm_values.csv"));
    let firm_values = String::from_utf8_lossy(&outs[0]["firm_values.csv"]).to_string();
    assert!(firm_values.lines().next().unwrap().contains("shapley_value_eur"));
    for (other, threads) in outs[1..].iter().zip([2, 4]) {
        assert_eq!(
            outs[0].keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "files with {threads} threads"
        );
        for (file, bytes) in &outs[0] {
            assert!(other[file] == *bytes, "{file} differs between 1 and {threads} threads");
        }
    }
}

/// The trade-off territory (module documentation) under `externalities`
/// with a slack of 0.1: M* = 21,000 (10,000 in each part, 1,000 for the
/// lonely flow), S = 2,100. Every tonne unlinked spends 100 EUR of S and
/// saves 10 EUR of C in part 1, 50 in part 2, so docs/model.md A3's second
/// stage on the whole unlinks 21 t in part 2: C = 14,100 - 21 x 50 =
/// 13,050. The decomposed solve gives each part slack x max(1, |v*_b|) =
/// 1,000 of S (kappa = min(1, 21,000 / 20,000) = 1; documented in
/// docs/model.md D3): 10 t unlinked in each, C = 14,100 - 10 x 60 =
/// 13,500. That is A3's constraint on the whole, not its optimum: the
/// decomposed C lies between the monolithic one and the slack-0 optimum
/// (14,100), and M within M* + S.
#[test]
fn the_decomposed_second_stage_keeps_a3s_bound_on_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_of(dir.path(), "tradeoff", &tradeoff_files());
    let with_slack = |decompose: bool, slack: f64| SolveOptions {
        lexicographic_slack: slack,
        ..options(Objective::Externalities, decompose)
    };
    let monolithic = run_inventory_with(inventory.clone(), &with_slack(false, 0.1), 0.5);
    assert_close(monolithic.solution.first_stage_objective, 21_000.0, 1e-9, "M*");
    assert_close(
        monolithic.valuation.optimized.private_cost_eur,
        13_050.0,
        1e-9,
        "monolithic C",
    );
    let strict = run_inventory_with(inventory.clone(), &with_slack(false, 0.0), 0.5);
    assert_close(
        strict.valuation.optimized.private_cost_eur,
        14_100.0,
        1e-9,
        "C at slack 0",
    );
    let decomposed = run_inventory_with(inventory, &with_slack(true, 0.1), 0.5);
    assert_close(
        decomposed.solution.first_stage_objective,
        21_000.0,
        1e-9,
        "decomposed M*",
    );
    assert_close(
        decomposed.valuation.optimized.private_cost_eur,
        13_500.0,
        1e-9,
        "decomposed C: each part within its own share",
    );
    assert!(decomposed.valuation.optimized.externality_eur <= 21_000.0 + 2_100.0 * (1.0 + 1e-9));
}

/// `Reuse`: a what-if that doubles the lonely flow (e_r3 20 -> 40 t)
/// changes no model, only the alone constant (1,000 -> 2,000 of M). Each
/// part's share is slack x max(1, |v*_b|) = 1,000 before and after (kappa
/// stays 1), so both parts are kept with their bounds unchanged, and the
/// what-if's answer is a fresh solve's: 10 t unlinked in each part, C =
/// 13,500 + 100 (e's extra 20 t at 5 EUR) = 13,600 (1e-9 relative). Under
/// the earlier rule (S split by weight), the shares grew with S and a kept
/// part kept the answer of its smaller share.
#[test]
fn a_kept_part_whose_share_is_unchanged_gives_a_fresh_solves_answer() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_of(dir.path(), "tradeoff", &tradeoff_files());
    let options = SolveOptions {
        lexicographic_slack: 0.1,
        ..options(Objective::Externalities, true)
    };
    let links = candidate_links(&inventory);
    let (_, reuse) = Reuse::solve(&inventory, &links, &options).unwrap();
    let doubled = flow_factor(&inventory, "e_r3", 2.0);
    let (reused, counts) = reuse.resolve(&doubled, &links, &options).unwrap();
    assert_eq!(counts.kept, 2, "both parts kept: {counts:?}");
    let fresh = solve(&doubled, &links, &options).unwrap();
    let cost = |solution| {
        value_lp_solution(&doubled, &links, solution, 0.5)
            .optimized
            .private_cost_eur
    };
    assert_close(cost(&fresh), 13_600.0, 1e-9, "fresh C");
    assert_close(cost(&reused), cost(&fresh), 1e-9, "C of the what-if through Reuse");
}

/// `Reuse` with a kept MILP part whose share of the slack shrank: the
/// what-if halves the lonely flow (e_r3 20 -> 10 t: the alone constant
/// 500 EUR of M less, so S shrinks and the kept bound exceeds the share).
/// The MILP part is reset and solved again; the round used to run it
/// under an LP plan (its `is_mip` counted only MILP parts not kept), which
/// asked for a first-stage basis a MIP solve does not leave, and the
/// what-if failed with "HiGHS refused to give its basis" (as `symbiose
/// resilience` would when the lonely firm exits). Now every MILP part
/// counts. Expected: the what-if solves, with a fresh solve's first
/// optimum and C (1e-9 relative).
#[test]
fn a_kept_milp_part_whose_share_of_the_slack_shrank_is_solved_again() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_of(dir.path(), "milp", &milp_and_lonely_files());
    let links = candidate_links(&inventory);
    let options = options(Objective::Externalities, true);
    let (base, reuse) = Reuse::solve(&inventory, &links, &options).unwrap();
    assert_eq!(base.extended.as_ref().map(|e| e.n_binaries), Some(1), "a MILP");
    let halved = flow_factor(&inventory, "e_r3", 0.5);
    let fresh = solve(&halved, &links, &options).expect("a fresh solve");
    let (reused, _) = reuse
        .resolve(&halved, &links, &options)
        .expect("the what-if through Reuse");
    assert_close(
        reused.first_stage_objective,
        fresh.first_stage_objective,
        1e-9,
        "first optimum",
    );
    let cost = |solution| {
        value_lp_solution(&halved, &links, solution, 0.5)
            .optimized
            .private_cost_eur
    };
    assert_close(cost(&reused), cost(&fresh), 1e-9, "C");
}

/// `Reuse` under `social` (one stage, so no slack is shared and a kept part
/// is exactly a fresh solve's): the MILP part of fixed_cost_link_above kept,
/// the what-if changing only another part (the trade-off's part 1, a_r1
/// doubled). A kept MILP part used to be left out of the whole's MIP gap
/// (`extended.mip_gap` None where the fresh solve reports one); its MILP
/// stages' gaps now stay in its kept solution (`lexicographic::Milp`).
/// Expected: the fresh solve's gap (exactly).
#[test]
fn a_kept_milp_part_keeps_its_mip_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = milp_and_lonely_files();
    let tradeoff = tradeoff_files();
    let extra = |name: &str| {
        tradeoff
            .iter()
            .find(|(file, _)| *file == name)
            .unwrap()
            .1
            .lines()
            .skip(1)
            .filter(|line| line.starts_with('a') || line.starts_with('b') || line.starts_with("r1"))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    };
    for (name, text) in &mut files {
        match *name {
            "flows.csv" => {
                text.push_str(&padding());
                text.push_str(&extra(name));
            }
            "firms.csv" | "distances.csv" => text.push_str(&extra(name)),
            "resources.csv" => text.push_str("r1,material,t,1,,\n"),
            "routes.csv" => text.push_str("zz_landfill,disposal,t,10\nzz_virgin,sourcing,t,20\nzz_pad,disposal,t,0\n"),
            "impacts.csv" => text.push_str("route:zz_landfill,ghg,1\n"),
            _ => {}
        }
    }
    let inventory = inventory_of(dir.path(), "milp-and-lp", &files);
    let links = candidate_links(&inventory);
    assert_eq!(components(&inventory, &links).n_linked(), 2);
    let options = options(Objective::Social, true);
    let (_, reuse) = Reuse::solve(&inventory, &links, &options).unwrap();
    let changed = flow_factor(&inventory, "a_r1", 2.0);
    let (reused, counts) = reuse.resolve(&changed, &links, &options).unwrap();
    assert_eq!(counts.kept, 1, "the MILP part is kept: {counts:?}");
    let fresh = solve(&changed, &links, &options).unwrap();
    let gap = |solution: &symbiose::solve::LpSolution| solution.extended.as_ref().and_then(|e| e.mip_gap);
    assert!(gap(&fresh).is_some(), "a fresh solve reports a MIP gap");
    assert_eq!(gap(&reused), gap(&fresh), "the MIP gap through Reuse");
}

/// docs/model.md D7: the Shapley values "sum to v(N), the grand
/// coalition's firm value". The per-part game (`value::allocation`) solves
/// each part's grand coalition with the rest of the territory at its
/// fallbacks. When the slack was split by weight over S, each part's
/// second stage got a slack on the whole territory's M* (its own plus
/// every other part's baseline M), not its share of the grand solve's;
/// now a part's share is slack x max(1, |v*_b|) (kappa = 1 here), the same
/// in both solves. Under the old rule, on the trade-off territory
/// (`externalities`, slack 0.1), part 1's game had M* = 10,000 + 20,000
/// (part 2 at its fallbacks) + 1,000 = 31,000, S = 3,100: 31 t unlinked,
/// v_1(N) = 4,000 minus (5,000 - 310) = -690; part 2 likewise, v_2(N) =
/// 4,000 minus (9,000 - 1,550) = -3,450; sum -4,140, against the grand
/// solve's firm value 8,100 - 13,470 = -5,370. Expected: the values sum to
/// the grand solve's firm value (1e-9 relative).
#[test]
fn shapley_values_sum_to_the_grand_solves_firm_value_under_a_lexicographic_slack() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_of(dir.path(), "tradeoff", &tradeoff_files());
    let options = SolveOptions {
        lexicographic_slack: 0.1,
        ..options(Objective::Externalities, true)
    };
    let values = shapley(&inventory, &options, 4, &Silent).unwrap();
    assert!(values.exact);
    let sum: f64 = values.values.iter().sum();
    assert_close(sum, values.grand_coalition_eur, 1e-9, "values sum to the game's v(N)");
    let grand = run_inventory_with(inventory, &options, 0.5);
    assert_close(
        values.grand_coalition_eur,
        grand.valuation.firm_value_eur,
        1e-9,
        "v(N) = the grand solve's firm value",
    );
}
