//! The Pareto front of private cost C against monetised externalities M.
//!
//! Owns: [`pareto_front`] (epsilon constraint), [`ParetoFront`],
//! pareto.csv ([`pareto_table`]) and pareto.svg ([`pareto_chart`]).
//!
//! Invariant: the front holds only non-dominated points, sorted by M with
//! C strictly decreasing.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::io::outputs::PARETO_CSV;
use crate::io::{Frame, Kind};
use crate::model::Inventory;
use crate::progress::Progress;
use crate::report::schema::{Column, Read, SchemaMismatch, TableBuilder, TableSchema};
use crate::solve::{Criterion, CriterionBound, Objective, SolveError, SolveOptions};
use crate::value::optimize_inventory;

/// A point of the Pareto front: private cost C against externalities M.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoPoint {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
}

/// The Pareto front and the three objectives' optima.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoFront {
    pub points: Vec<ParetoPoint>,
    pub private_optimum: ParetoPoint,
    pub externalities_optimum: ParetoPoint,
    pub social_optimum: ParetoPoint,
}

impl ParetoFront {
    /// C at the territory's optimum minus C at the firms' optimum: what the
    /// territory's view costs the firms.
    pub fn cost_of_territory_view_eur(&self) -> f64 {
        self.externalities_optimum.private_cost_eur - self.private_optimum.private_cost_eur
    }

    /// M at the firms' optimum minus M at the territory's optimum.
    pub fn externality_of_private_view_eur(&self) -> f64 {
        self.private_optimum.externality_eur - self.externalities_optimum.externality_eur
    }
}

/// The epsilon-constraint front: between the two lexicographic optima, for
/// `n_points` evenly spaced bounds eps on M, minimise C subject to M <= eps
/// (then M at that C, so every point is non-dominated). Dominated and
/// duplicate points are dropped.
pub fn pareto_front(
    inventory: &Inventory,
    n_points: usize,
    progress: &dyn Progress,
) -> Result<ParetoFront, SolveError> {
    let point_of = |objective: Objective, bound: Option<CriterionBound>| -> Result<ParetoPoint, SolveError> {
        let options = SolveOptions {
            objective,
            time_limit_seconds: None,
            threads: Some(1),
            bound,
            mip_gap: None,
            solver: None,
            lexicographic_slack: crate::solve::LEXICOGRAPHIC_TOLERANCE,
            decompose: true,
        };
        let (_, _, valuation) = optimize_inventory(inventory, &options, 0.5)?;
        Ok(ParetoPoint {
            private_cost_eur: valuation.optimized.private_cost_eur,
            externality_eur: valuation.optimized.externality_eur,
        })
    };
    let private_optimum = point_of(Objective::Private, None)?;
    let externalities_optimum = point_of(Objective::Externalities, None)?;
    let social_optimum = point_of(Objective::Social, None)?;
    let (low, high) = (externalities_optimum.externality_eur, private_optimum.externality_eur);
    // Two points at least (the ends): `app::pareto` refuses fewer, so this
    // only keeps a direct caller's 0 or 1 from dividing by zero.
    let n_points = n_points.max(2);
    progress.start(n_points, "Pareto points");
    let computed: Result<Vec<ParetoPoint>, SolveError> = (0..n_points)
        .into_par_iter()
        .map(|step| {
            let eps = low + (high - low) * step as f64 / (n_points - 1) as f64;
            // A hair of slack keeps the end points feasible despite rounding.
            let bound = CriterionBound {
                criterion: Criterion::Externality,
                max_eur: eps + 1e-9 * eps.abs().max(1.0),
            };
            let point = point_of(Objective::Private, Some(bound));
            progress.advance(1);
            point
        })
        .collect();
    progress.finish();
    let mut points = computed?;
    points.push(private_optimum);
    points.push(externalities_optimum);
    points.sort_by(|a, b| {
        a.externality_eur
            .total_cmp(&b.externality_eur)
            .then(a.private_cost_eur.total_cmp(&b.private_cost_eur))
    });
    // Keep the non-dominated points: sorted by M, C must strictly decrease.
    let mut front: Vec<ParetoPoint> = Vec::new();
    for point in points {
        let tolerance = 1e-6 * point.private_cost_eur.abs().max(1.0);
        if front
            .last()
            .is_none_or(|last| point.private_cost_eur < last.private_cost_eur - tolerance)
        {
            front.push(point);
        }
    }
    Ok(ParetoFront {
        points: front,
        private_optimum,
        externalities_optimum,
        social_optimum,
    })
}

/// pareto.csv: the points of the front.
pub static PARETO: TableSchema = TableSchema {
    file: PARETO_CSV,
    columns: Cow::Borrowed(&[
        Column::new("private_cost_eur", Kind::Number, Read::Unread),
        Column::new("externality_eur", Kind::Number, Read::Unread),
    ]),
};

/// pareto.csv, the points in the front's order (by externalities).
pub fn pareto_table(front: &ParetoFront) -> Result<Frame, SchemaMismatch> {
    TableBuilder::new(&PARETO)
        .number(
            "private_cost_eur",
            front.points.iter().map(|p| p.private_cost_eur).collect(),
        )
        .number(
            "externality_eur",
            front.points.iter().map(|p| p.externality_eur).collect(),
        )
        .finish()
}

/// pareto.svg: the front, private cost C against externalities M, with
/// the three objectives' optima marked.
pub fn pareto_chart(front: &ParetoFront) -> String {
    let point = |p: &ParetoPoint| (p.externality_eur, p.private_cost_eur);
    let marker = |label: &str, p: &ParetoPoint| crate::report::chart::Marker {
        label: label.to_string(),
        x: p.externality_eur,
        y: p.private_cost_eur,
    };
    let colour = "#2166ac".to_string();
    crate::report::chart::Chart {
        title: "Pareto front: private cost against externalities".to_string(),
        panels: vec![crate::report::chart::Panel {
            title: String::new(),
            x_label: "monetised externalities M (EUR/yr)".to_string(),
            y_label: "private cost C (EUR/yr)".to_string(),
            series: vec![crate::report::chart::Series {
                name: "non-dominated points".to_string(),
                colour: colour.clone(),
                points: front.points.iter().map(point).collect(),
            }],
            markers: vec![
                marker("private", &front.private_optimum),
                marker("externalities", &front.externalities_optimum),
                marker("social", &front.social_optimum),
            ],
        }],
        columns: 1,
        panel_width: 620.0,
        panel_height: 420.0,
        legend: vec![("non-dominated points".to_string(), colour)],
        note: None,
    }
    .render()
}
