//! Hand-solved fixtures under tests/data/: one behaviour each, with C, M and
//! the values worked out by hand in the comments. Tolerances are relative to
//! max(1, |expected|).

use crate::common;
use crate::common::{assert_abs, assert_close, run_fixture};
use symbiose::solve::Objective;

const TOL: f64 = 1e-7;

/// For objectives with a second stage: docs/model.md A3 lets the second stage
/// spend up to 1e-6 * max(1, |v*|) of the first criterion, and HiGHS does
/// spend it when that lowers the second criterion (negative_credit moves
/// 0.0001 t). Totals then match within 1e-5 relative, and link quantities
/// within LEX_ABS: the slack (at most 0.003 EUR in these fixtures) over the
/// 10 EUR per unit the second criterion gains.
const LEX_TOL: f64 = 1e-5;
const LEX_ABS: f64 = 1e-3;

/// tests/data/split_by_distance: supply s1 (100 MWh at a, fallback dump:
/// 5 EUR, harm 2) and demands d1 at b (60, 10 km) and d2 at c (60, 20 km),
/// fallback boiler (40 EUR, harm 3, ghg 0.5). Transport 1 EUR and harm 0.1
/// per MWh.km; harm is worth 10 EUR (local), ghg 100 EUR (global).
///
/// Monetised per MWh: m(dump) = 20, m(boiler) = 30 + 50 = 80, link to b 10,
/// link to c 20. A unit to b avoids 20 + 80 - 10 = 90, to c 80: fill b (60),
/// the rest (40) to c, c keeps 20 MWh of boiler heat.
/// M_base = 100*20 + 120*80 = 11600; M = 60*10 + 40*20 + 20*80 = 3000; T = 8600.
/// C_base = 100*5 + 120*40 = 5300; C = 60*10 + 40*20 + 20*40 = 2200; C_base - C = 3100.
/// Surplus: to b (5 + 40 - 10) * 60 = 2100, to c (5 + 40 - 20) * 40 = 1000.
/// Firm values at alpha = 0.5: a 1550, b 1050, c 500.
/// Per category: harm 560 -> 200 (avoided 360, 3600 EUR local); ghg 60 -> 10 (50, 5000 EUR global).
/// Shadow prices (first stage, EUR/MWh): one more MWh of s1 goes to c:
/// +20 - 80 = -60. One more MWh of d1 moves a unit from c to b: +10 - 20 + 80 = 70.
/// One more MWh of d2 comes from the boiler: 80. (The basis x_b, x_c, g_c is
/// non-degenerate, so these duals are unique.)
#[test]
fn one_supply_split_between_two_demands_by_distance() {
    let run = run_fixture("split_by_distance", Objective::Externalities);
    let v = &run.valuation;
    assert_close(run.link_flow("s1", "d1"), 60.0, TOL, "x s1->d1");
    assert_close(run.link_flow("s1", "d2"), 40.0, TOL, "x s1->d2");
    assert_close(v.baseline.externality_eur, 11600.0, TOL, "M_base");
    assert_close(v.optimized.externality_eur, 3000.0, TOL, "M");
    assert_close(v.territory_value_eur, 8600.0, TOL, "T");
    assert_close(v.baseline.private_cost_eur, 5300.0, TOL, "C_base");
    assert_close(v.optimized.private_cost_eur, 2200.0, TOL, "C");
    assert_close(v.firm_value_eur, 3100.0, TOL, "C_base - C");
    assert_close(run.link("s1", "d1").surplus_eur, 2100.0, TOL, "S to b");
    assert_close(run.link("s1", "d2").surplus_eur, 1000.0, TOL, "S to c");
    assert_close(run.link("s1", "d1").externality_avoided_eur, 5400.0, TOL, "dM to b");
    assert_close(run.firm_value("a").value_eur, 1550.0, TOL, "V_a");
    assert_close(run.firm_value("b").value_eur, 1050.0, TOL, "V_b");
    assert_close(run.firm_value("c").value_eur, 500.0, TOL, "V_c");
    assert_close(
        run.firm_value("c").optimized_cost_eur,
        60.0 * 40.0 - 500.0,
        TOL,
        "c's optimized cost",
    );
    assert_close(run.category("harm").avoided, 360.0, TOL, "harm avoided");
    assert_close(run.category("ghg").avoided, 50.0, TOL, "ghg avoided");
    assert_close(v.territory_value_local_eur, 3600.0, TOL, "local T");
    assert_close(v.territory_value_global_eur, 5000.0, TOL, "global T");
    assert_close(run.flow("d2").fallback_quantity, 20.0, TOL, "g_c");
    assert_close(
        run.flow("s1").shadow_price_eur_per_unit,
        -60.0,
        1e-6,
        "shadow price of s1",
    );
    assert_close(
        run.flow("d1").shadow_price_eur_per_unit,
        70.0,
        1e-6,
        "shadow price of d1",
    );
    assert_close(
        run.flow("d2").shadow_price_eur_per_unit,
        80.0,
        1e-6,
        "shadow price of d2",
    );
    run.assert_identities();
}

/// Same fixture under the private objective: a unit to b saves 35 EUR, to c
/// 25 EUR, so the flows are the same; the shadow prices are now in private
/// EUR: s1 -> c: +20 - 40 = -20; d1: +10 - 20 + 40 = 30; d2: 40.
#[test]
fn shadow_prices_follow_the_first_stage_objective() {
    let run = run_fixture("split_by_distance", Objective::Private);
    assert_close(run.link_flow("s1", "d1"), 60.0, TOL, "x s1->d1");
    assert_close(run.link_flow("s1", "d2"), 40.0, TOL, "x s1->d2");
    assert_close(
        run.flow("s1").shadow_price_eur_per_unit,
        -20.0,
        1e-6,
        "shadow price of s1",
    );
    assert_close(
        run.flow("d1").shadow_price_eur_per_unit,
        30.0,
        1e-6,
        "shadow price of d1",
    );
    assert_close(
        run.flow("d2").shadow_price_eur_per_unit,
        40.0,
        1e-6,
        "shadow price of d2",
    );
    assert_close(
        run.solution.first_stage_objective,
        2200.0,
        TOL,
        "first-stage objective = C",
    );
}

/// tests/data/substitution_ratio: 1000 t slag (landfill 50 EUR, 1 t
/// landfill worth 60) can replace clinker at ratio 0.8 (processing 2 EUR/t
/// slag, 0.05 t ghg/t slag); the cement plant wants 500 t clinker, given as
/// 500000 kg (virgin 30 EUR/t, 0.85 t ghg/t). 5 km, trucking 0.1 EUR/tkm,
/// 0.0001 t ghg and 1 truck tkm (0.04 EUR) per tkm; ghg worth 100 EUR.
///
/// k = 0.5 + 2 = 2.5 EUR/t; m_link = (0.0005 + 0.05) * 100 + 5 * 0.04 = 5.25.
/// A tonne of slag avoids 60 + 0.8 * 85 - 5.25 = 122.75 EUR: send
/// x = 500 / 0.8 = 625 t (demand-bound), landfill the other 375 t.
/// M_base = 60000 + 42500 = 102500; M = 375*60 + 625*5.25 = 25781.25; T = 76718.75.
/// C_base = 50000 + 15000 = 65000; C = 375*50 + 625*2.5 = 20312.5; C_base - C = 44687.5.
/// ghg: 425 -> 31.5625; landfill: 1000 -> 375; truck: 0 -> 3125 (value -125).
/// Shadow prices: y_slag = m(landfill) = 60 (f basic); link basic gives
/// 5.25 - 60 - 0.8 y = 0, y = -68.4375 EUR/t = -0.0684375 EUR/kg.
#[test]
fn substitution_ratio_scales_delivered_quantity() {
    let run = run_fixture("substitution_ratio", Objective::Externalities);
    let v = &run.valuation;
    assert_close(run.link_flow("slag", "clinker"), 625.0, TOL, "x");
    assert_close(run.link("slag", "clinker").delivered, 500.0, TOL, "delivered");
    assert_close(v.optimized.externality_eur, 25781.25, TOL, "M");
    assert_close(v.territory_value_eur, 76718.75, TOL, "T");
    assert_close(v.optimized.private_cost_eur, 20312.5, TOL, "C");
    assert_close(v.firm_value_eur, 44687.5, TOL, "C_base - C");
    assert_close(run.category("ghg").optimized, 31.5625, TOL, "ghg optimized");
    assert_close(run.category("landfill").avoided, 625.0, TOL, "landfill avoided");
    assert_close(run.category("truck").value_eur, -125.0, TOL, "truck value");
    assert_close(run.flow("slag").shadow_price_eur_per_unit, 60.0, 1e-6, "y_slag");
    assert_close(
        run.flow("clinker").shadow_price_eur_per_unit,
        -68.4375,
        1e-6,
        "y_clinker per t",
    );
    run.assert_identities();
}

/// tests/data/quality_threshold: s1 offers 90 C, d_hot needs 110 C (blocked),
/// d_warm needs 70 C (allowed); s2 states no quality, so it can serve
/// neither demand (both state a minimum). One candidate link: s1 -> d_warm,
/// 1 km, avoids 20 + 80 - 1 = 99 EUR/MWh: x = 30.
/// M_base = 90*20 + 80*80 = 8200; T = 30*99 = 2970. C_base = 90*5 + 80*40 = 3650;
/// C_base - C = 30 * (5 + 40 - 1) = 1320.
#[test]
fn quality_threshold_blocks_links() {
    let run = run_fixture("quality_threshold", Objective::Externalities);
    assert_eq!(run.candidate_pairs(), vec![("s1".to_string(), "d_warm".to_string())]);
    assert_close(run.link_flow("s1", "d_warm"), 30.0, TOL, "x");
    assert_close(run.valuation.baseline.externality_eur, 8200.0, TOL, "M_base");
    assert_close(run.valuation.territory_value_eur, 2970.0, TOL, "T");
    assert_close(run.valuation.firm_value_eur, 1320.0, TOL, "C_base - C");
    run.assert_identities();
}

/// tests/data/max_distance: heat may travel 10 km. b is 0.045 degrees north
/// of a: 6371 * 0.045 * pi / 180 = 5.0037717 km; c is 0.135 degrees north:
/// 15.0113 km, beyond the limit. One link, x = 10 MWh.
/// m_link = 0.1 * 5.0037717 * 10 = 5.0037717 EUR/MWh.
/// M_base = 10*20 + 20*80 = 1800; M = 10 * 5.0037717 + 10 * 80 = 850.037717.
#[test]
fn max_distance_blocks_far_demands() {
    let run = run_fixture("max_distance", Objective::Externalities);
    assert_eq!(run.candidate_pairs(), vec![("s1".to_string(), "d_near".to_string())]);
    assert_close(run.links[0].distance_km, 5.003771699, 1e-8, "haversine distance");
    assert_close(run.link_flow("s1", "d_near"), 10.0, TOL, "x");
    assert_close(run.valuation.optimized.externality_eur, 850.03771699, 1e-8, "M");
    run.assert_identities();
}

/// tests/data/distance_override: as max_distance, but distances.csv puts c
/// 3 km from a (a pipe). c is now reachable and closer than b (5.0038 km):
/// the 10 MWh go to c. M = 10 * 0.1 * 3 * 10 + 10 * 80 (b's boiler) = 830.
#[test]
fn distance_override_replaces_great_circle() {
    let run = run_fixture("distance_override", Objective::Externalities);
    assert_eq!(run.candidate_pairs().len(), 2);
    assert_close(run.link("s1", "d_far").distance_km, 3.0, 0.0, "override");
    assert_close(run.link_flow("s1", "d_far"), 10.0, TOL, "x to c");
    assert_close(run.link_flow("s1", "d_near"), 0.0, TOL, "x to b");
    assert_close(run.valuation.optimized.externality_eur, 830.0, TOL, "M");
    run.assert_identities();
}

/// tests/data/negative_credit: 100 t of residue (compost, 20 EUR) to a
/// biogas plant (buys 10 EUR/t otherwise), 2 km at 20 EUR/tkm: k = 40 EUR/t
/// exceeds the 30 EUR/t the firms save, but the substitution earns a credit
/// of -0.2 t ghg/t (-20 EUR/t). Fallbacks have no impact.
/// externalities: x = 100; M = -2000, T = 2000; C = 4000, C_base = 3000,
/// firm value -1000, each firm -500: both need 500 EUR compensation.
/// private: x = 0, C = 3000, M = 0.
/// social: per tonne 40 - 20 = 20 < 30: x = 100, C + M = 2000.
#[test]
fn negative_impact_credit_is_a_territory_gain_firms_must_be_paid_for() {
    let run = run_fixture("negative_credit", Objective::Externalities);
    assert_abs(run.link_flow("residue", "feed"), 100.0, LEX_ABS, "x");
    assert_close(run.valuation.optimized.externality_eur, -2000.0, LEX_TOL, "M");
    assert_close(run.valuation.territory_value_eur, 2000.0, LEX_TOL, "T");
    assert_close(run.valuation.firm_value_eur, -1000.0, LEX_TOL, "C_base - C");
    assert_close(
        run.firm_value("a").compensation_needed_eur,
        500.0,
        LEX_TOL,
        "a compensation",
    );
    assert_close(
        run.firm_value("b").compensation_needed_eur,
        500.0,
        LEX_TOL,
        "b compensation",
    );
    run.assert_identities();

    let private = run_fixture("negative_credit", Objective::Private);
    assert_abs(private.link_flow("residue", "feed"), 0.0, LEX_ABS, "private x");
    assert_close(
        private.valuation.optimized.private_cost_eur,
        3000.0,
        LEX_TOL,
        "private C",
    );

    let social = run_fixture("negative_credit", Objective::Social);
    assert_abs(social.link_flow("residue", "feed"), 100.0, LEX_ABS, "social x");
    let v = &social.valuation;
    assert_close(
        v.optimized.private_cost_eur + v.optimized.externality_eur,
        2000.0,
        LEX_TOL,
        "C + M",
    );
}

/// tests/data/zero_quantity: s0 and d0 have quantity 0 and get no link; d1
/// (50 MWh) has no supplier left. C = 50*40 = 2000, M = 50*80 = 4000, T = 0.
#[test]
fn zero_quantities_give_no_links() {
    let run = run_fixture("zero_quantity", Objective::Externalities);
    assert!(run.links.is_empty());
    assert_close(run.valuation.optimized.private_cost_eur, 2000.0, TOL, "C");
    assert_close(run.valuation.optimized.externality_eur, 4000.0, TOL, "M");
    assert_close(run.valuation.territory_value_eur, 0.0, TOL, "T");
    assert_close(run.flow("s0").fallback_quantity, 0.0, 0.0, "s0 fallback");
    run.assert_identities();
}

/// tests/data/lexicographic: two independent markets, 1 km links costing 1
/// EUR/MWh with no impact, boiler 40 EUR and harm 3 (30 EUR).
/// heat_x: s1 (dump, 5 EUR, harm 2) and s2 (dump_cheap, 1 EUR, harm 2) for
/// d1 (50): the same externality saving (50 EUR/MWh), so `externalities`
/// must break the tie on cost: s1 saves 44 EUR/MWh, s2 40: x(s1) = 50.
/// heat_y: s3 (dump, 5 EUR, harm 2) and s4 (dump_clean, 5 EUR, harm 1) for
/// d2 (50): the same private saving (44), so `private` must break the tie
/// on externalities: s3 avoids 50 EUR/MWh, s4 40: x(s3) = 50.
/// Both objectives then agree: C = 50*1 + 50*5 + 100*1 = 400 (C_base 4800),
/// M = (100 + 50) * 10 = 1500 (M_base 6500).
#[test]
fn lexicographic_objectives_break_ties_on_the_second_criterion() {
    for objective in [Objective::Externalities, Objective::Private] {
        let run = run_fixture("lexicographic", objective);
        assert_abs(run.link_flow("s1", "d1"), 50.0, LEX_ABS, "x s1->d1");
        assert_abs(run.link_flow("s2", "d1"), 0.0, LEX_ABS, "x s2->d1");
        assert_abs(run.link_flow("s3", "d2"), 50.0, LEX_ABS, "x s3->d2");
        assert_abs(run.link_flow("s4", "d2"), 0.0, LEX_ABS, "x s4->d2");
        assert_close(run.valuation.optimized.private_cost_eur, 400.0, LEX_TOL, "C");
        assert_close(run.valuation.baseline.private_cost_eur, 4800.0, LEX_TOL, "C_base");
        assert_close(run.valuation.optimized.externality_eur, 1500.0, LEX_TOL, "M");
        assert_close(run.valuation.baseline.externality_eur, 6500.0, LEX_TOL, "M_base");
        run.assert_identities();
    }
}

/// `--lexicographic-slack` on negative_credit, `private` objective: the
/// second stage minimises M with C <= 3000 (1 + s). Each tonne sent costs
/// 10 EUR more and avoids 20 EUR, so it sends 300 s tonnes: C = 3000 + 3000 s,
/// M = -6000 s. s = 0.1: C 3300, M -600, x 30; s = 0: C 3000, M 0, x 0
/// exactly (docs/model.md A3's default 1e-6 moves 0.0003 t).
#[test]
fn the_lexicographic_slack_is_what_the_second_stage_may_spend() {
    let work = tempfile::tempdir().unwrap();
    let fixture = common::fixture_dir("negative_credit");
    for (slack, c, m, x) in [("0.1", 3300.0, -600.0, 30.0), ("0", 3000.0, 0.0, 0.0)] {
        let out = work.path().join(format!("slack-{slack}"));
        let output = common::symbiose(
            &[
                "optimize",
                fixture.to_str().unwrap(),
                "--objective",
                "private",
                "--lexicographic-slack",
                slack,
                "--out",
                out.to_str().unwrap(),
            ],
            work.path(),
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_close(summary["optimized"]["private_cost_eur"].as_f64().unwrap(), c, 1e-9, "C");
        assert_abs(summary["optimized"]["externality_eur"].as_f64().unwrap(), m, 1e-6, "M");
        let links = std::fs::read_to_string(out.join("links.csv")).unwrap();
        let sent: f64 = links
            .lines()
            .nth(1)
            .map_or(0.0, |row| row.split(',').nth(7).unwrap().parse().unwrap());
        assert_abs(sent, x, 1e-6, "tonnes sent");
    }
    let output = common::symbiose(&["optimize", "--lexicographic-slack=-1", "--out", "x"], work.path());
    assert_eq!(output.status.code(), Some(2));
}
