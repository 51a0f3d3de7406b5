//! `symbiose policy`: the smallest value of one instrument (docs/model.md
//! C1, `tax.<category>` or `subsidy.<resource>`) at which the firms' own
//! optimum (objective `private`) avoids at least a target share of the
//! externality value that the territory's optimum (objective
//! `externalities`) avoids (docs/model.md D7).
//!
//! Owns: [`Instrument`] and [`parse_instrument`], [`parse_range`],
//! [`default_range`], [`find_policy`] (a grid scan, then a bisection of the
//! first bracket where the share crosses the target), [`Policy`] with
//! policy.json's content ([`PolicyJson`]), policy.csv ([`policy_table`])
//! and policy.svg ([`policy_chart`]).
//!
//! Invariant: every point reported was solved at exactly the value written
//! beside it (the value found is the upper end of the last bracket, a point
//! that was solved, with share >= target; the lower end, value - tolerance,
//! was solved too, with share < target); the points depend only on the
//! inventory, the instrument, the range, the grid and the tolerance, never
//! on the thread count (each is a fresh solve).

use std::borrow::Cow;

use rayon::prelude::*;

use crate::candidates::candidate_links;
use crate::io::outputs::POLICY_CSV;
use crate::io::{Frame, Kind};
use crate::model::{CategoryIdx, Edit, Inventory, ResourceIdx};
use crate::progress::Progress;
use crate::report::schema::{Column, Read, SchemaMismatch, TableBuilder, TableSchema};
use crate::solve::{Objective, SolveError, SolveOptions};
use crate::value::optimize_inventory;

use super::parameter::{parse_parameter, Parameter};

/// A tax's default range is [0, this x v_k], v_k the category's externality value.
pub const DEFAULT_RANGE_MULTIPLE: f64 = 10.0;
/// Grid points scanned before the bisection, by default.
pub const DEFAULT_POINTS: usize = 21;
/// The default tolerance: this share of the range's width.
pub const DEFAULT_RELATIVE_TOLERANCE: f64 = 1e-3;
/// Below this many EUR/yr (times max(1, M_base)) the territory's optimum
/// avoids nothing: every optimum reaches every share of nothing.
const NOTHING_AVOIDABLE: f64 = 1e-9;

/// What an instrument acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentKind {
    /// `tax.<category>`.
    Tax(CategoryIdx),
    /// `subsidy.<resource>`.
    Subsidy(ResourceIdx),
}

/// One instrument the policy command may vary.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// The parameter path as given (`tax.landfill_t`).
    pub path: String,
    pub kind: InstrumentKind,
}

impl Instrument {
    /// The edit that sets the instrument to `value`.
    pub fn edit(&self, value: f64) -> Edit {
        match self.kind {
            InstrumentKind::Tax(category) => Edit::Tax {
                category,
                eur_per_unit: value,
            },
            InstrumentKind::Subsidy(resource) => Edit::Subsidy {
                resource,
                eur_per_unit: value,
            },
        }
    }

    /// The unit of the instrument's value, for labels.
    pub fn unit(&self, inventory: &Inventory) -> String {
        match self.kind {
            InstrumentKind::Tax(category) => format!("EUR per {}", inventory.category(category).unit),
            InstrumentKind::Subsidy(resource) => format!("EUR per {}", inventory.resource(resource).unit),
        }
    }
}

/// Resolves `tax.<category>` or `subsidy.<resource>`; any other path
/// (another parameter, an unknown id) is refused, naming what is accepted.
pub fn parse_instrument(inventory: &Inventory, path: &str) -> Result<Instrument, String> {
    let accepted = "an instrument is tax.<category> or subsidy.<resource>";
    match parse_parameter(inventory, path) {
        Ok(Parameter::Tax(category)) => Ok(Instrument {
            path: path.to_string(),
            kind: InstrumentKind::Tax(category),
        }),
        Ok(Parameter::Subsidy(resource)) => Ok(Instrument {
            path: path.to_string(),
            kind: InstrumentKind::Subsidy(resource),
        }),
        Ok(_) => Err(format!("--instrument {path:?} is not an instrument: {accepted}")),
        Err(message) if path.starts_with("tax.") || path.starts_with("subsidy.") => {
            Err(format!("--instrument: {message}"))
        }
        Err(_) => Err(format!("--instrument {path:?} is not an instrument: {accepted}")),
    }
}

/// `--range LO:HI`: two finite numbers, 0 <= LO < HI, at most 1e15.
pub fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let form = format!("{text:?} is not a range LO:HI of instrument values with 0 <= LO < HI (such as 0:500)");
    let Some((low, high)) = text.split_once(':') else {
        return Err(form);
    };
    let number = |text: &str| text.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    match (number(low), number(high)) {
        (Some(low), Some(high)) if low >= 0.0 && low < high => {
            crate::model::rules::check_magnitude(high)?;
            Ok((low, high))
        }
        _ => Err(form),
    }
}

/// The range scanned when `--range` is not given: for `tax.<k>`, [0, 10
/// v_k] (a tax of v_k is the Pigouvian one, which prices the category in
/// the firms' costs at the territory's value; beyond it the firms
/// over-weigh it); for `subsidy.<r>`, [0, 10 u*], u* the largest
/// externality value avoided per supply unit on a candidate link from a
/// supply of r (the subsidy that pays the best link its whole externality
/// benefit). `Err` when that scale is 0 (a category valued at 0, a
/// resource whose links avoid nothing): then a range must be given.
pub fn default_range(inventory: &Inventory, instrument: &Instrument) -> Result<(f64, f64), String> {
    let scale = match instrument.kind {
        InstrumentKind::Tax(category) => inventory.category(category).value_eur_per_unit,
        InstrumentKind::Subsidy(resource) => candidate_links(inventory)
            .iter()
            .filter(|link| inventory.flow(link.supply).resource == resource)
            .map(|link| {
                let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
                inventory.monetise(&supply.fallback_impacts) + link.ratio * inventory.monetise(&demand.fallback_impacts)
                    - inventory.monetise(&link.unit_impacts(inventory))
            })
            .fold(0.0, f64::max),
    };
    if scale > 0.0 && scale.is_finite() {
        Ok((0.0, DEFAULT_RANGE_MULTIPLE * scale))
    } else {
        Err(match instrument.kind {
            InstrumentKind::Subsidy(_) => format!(
                "{}: no candidate link of this resource avoids any externality value, so there is no default range: give --range LO:HI",
                instrument.path
            ),
            InstrumentKind::Tax(_) => format!(
                "{}: the category's externality value is 0, so there is no default range: give --range LO:HI",
                instrument.path
            ),
        })
    }
}

/// What `symbiose policy` asks.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRequest {
    pub instrument: Instrument,
    /// Share (0 to 1) of the territory optimum's avoided externality value.
    pub target: f64,
    /// The instrument values scanned, [low, high].
    pub range: (f64, f64),
    /// Whether `range` is [`default_range`]'s.
    pub default_range: bool,
    /// Grid points over the range (at least 2).
    pub points: usize,
    /// The bisection stops when its bracket is at most this wide (> 0).
    pub tolerance: f64,
}

/// How a point was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Grid,
    Bisection,
}

impl Scan {
    pub fn as_str(self) -> &'static str {
        match self {
            Scan::Grid => "grid",
            Scan::Bisection => "bisection",
        }
    }
}

/// The firms' optimum at one value of the instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyPoint {
    pub value: f64,
    pub scan: Scan,
    /// M_base - M at the firms' optimum (summary.json's territory_value_eur).
    pub territory_value_eur: f64,
    /// territory_value_eur / the territory optimum's (1 when that is 0).
    pub share: f64,
    /// R = taxes collected - subsidies paid at the firms' optimum.
    pub public_revenue_eur: f64,
    /// C at the firms' optimum, the instrument included.
    pub private_cost_eur: f64,
    /// Whether the solve was proven optimal (false: stopped by the time limit).
    pub optimal: bool,
}

/// What `symbiose policy` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub request: PolicyRequest,
    /// M_base - M* at the territory's optimum (objective `externalities`, no instrument).
    pub territory_optimum_value_eur: f64,
    /// M_base (no link, no instrument: instruments do not change M).
    pub baseline_externality_eur: f64,
    /// The value found, `None` when no scanned point reaches the target.
    pub found: Option<PolicyPoint>,
    /// The bracket's width at the end (0 when the range's low end reaches the target).
    pub tolerance: Option<f64>,
    /// Every point solved, sorted by value (grid and bisection).
    pub points: Vec<PolicyPoint>,
}

impl Policy {
    pub fn reachable(&self) -> bool {
        self.found.is_some()
    }

    /// The point of the largest share (the first of equals), for a target out of reach.
    pub fn best(&self) -> Option<&PolicyPoint> {
        self.points
            .iter()
            .fold(None, |best: Option<&PolicyPoint>, point| match best {
                Some(best) if best.share >= point.share => Some(best),
                _ => Some(point),
            })
    }
}

/// The firms' optimum (objective `private`) of `base` with the instrument
/// at each value, solved afresh (in parallel when several).
fn solve_points(
    base: &Inventory,
    request: &PolicyRequest,
    options: &SolveOptions,
    territory_optimum: f64,
    values: &[f64],
    scan: Scan,
    progress: &dyn Progress,
) -> Result<Vec<PolicyPoint>, PolicyError> {
    let private = SolveOptions {
        objective: Objective::Private,
        ..options.clone()
    };
    values
        .par_iter()
        .map(|&value| {
            let inventory = base.edited(&[request.instrument.edit(value)]).map_err(|error| {
                PolicyError::Value(format!("{} = {value}: {}", request.instrument.path, error.message))
            })?;
            // The supplier share changes no total (T, C, R): 0.5 stands for any.
            let (_, solution, valuation) = optimize_inventory(&inventory, &private, 0.5)?;
            progress.advance(1);
            Ok(PolicyPoint {
                value,
                scan,
                territory_value_eur: valuation.territory_value_eur,
                share: share_of(
                    valuation.territory_value_eur,
                    territory_optimum,
                    valuation.baseline.externality_eur,
                ),
                public_revenue_eur: valuation.instruments.public_revenue_eur(),
                private_cost_eur: valuation.optimized.private_cost_eur,
                optimal: solution.status == crate::solve::SolutionStatus::Optimal,
            })
        })
        .collect()
}

/// T / T*, or 1 when the territory's optimum avoids nothing.
fn share_of(territory_value: f64, territory_optimum: f64, baseline_externality: f64) -> f64 {
    if territory_optimum <= NOTHING_AVOIDABLE * baseline_externality.abs().max(1.0) {
        1.0
    } else {
        territory_value / territory_optimum
    }
}

/// Why the policy search stopped.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A value of the range the instrument's rule refuses.
    #[error("{0}")]
    Value(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

/// The search: the territory's optimum (objective `externalities`) gives
/// T*; the firms' optimum is solved at `points` evenly spaced values of
/// the range; the share T(v) / T* is not monotone in general (the LP
/// jumps from vertex to vertex, and a tax can make a firm's own optimum
/// switch to a link that avoids less), so the first grid bracket
/// [v_{i-1}, v_i] with share(v_{i-1}) < target <= share(v_i) is bisected
/// (each midpoint solved) until it is at most `tolerance` wide; the value
/// is its upper end. A crossing and a crossing back between two grid
/// points are not seen: a finer grid (`--points`) finds them.
pub fn find_policy(
    base: &Inventory,
    request: &PolicyRequest,
    options: &SolveOptions,
    progress: &dyn Progress,
) -> Result<Policy, PolicyError> {
    let territory = SolveOptions {
        objective: Objective::Externalities,
        ..options.clone()
    };
    let (_, _, descending) = optimize_inventory(base, &territory, 0.5)?;
    let territory_optimum = descending.territory_value_eur;
    let (low, high) = request.range;
    let n = request.points.max(2);
    let grid: Vec<f64> = (0..n)
        .map(|i| {
            if i == n - 1 {
                high
            } else {
                low + (high - low) * (i as f64) / ((n - 1) as f64)
            }
        })
        .collect();
    progress.start(n, "instrument values");
    let scanned = solve_points(base, request, options, territory_optimum, &grid, Scan::Grid, progress);
    progress.finish();
    let mut points = scanned?;
    let target = request.target;
    let first = points.iter().position(|point| point.share >= target);
    let (found, tolerance) = match first {
        None => (None, None),
        Some(0) => (Some(points[0]), Some(0.0)),
        Some(i) => {
            let (mut below, mut above) = (points[i - 1], points[i]);
            while above.value - below.value > request.tolerance {
                let middle = below.value + (above.value - below.value) / 2.0;
                if middle <= below.value || middle >= above.value {
                    break; // No float between them.
                }
                let point = solve_points(
                    base,
                    request,
                    options,
                    territory_optimum,
                    &[middle],
                    Scan::Bisection,
                    &crate::progress::Silent,
                )?[0];
                points.push(point);
                if point.share >= target {
                    above = point;
                } else {
                    below = point;
                }
            }
            (Some(above), Some(above.value - below.value))
        }
    };
    points.sort_by(|a, b| a.value.total_cmp(&b.value));
    Ok(Policy {
        request: request.clone(),
        territory_optimum_value_eur: territory_optimum,
        baseline_externality_eur: descending.baseline.externality_eur,
        found,
        tolerance,
        points,
    })
}

/// policy.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyJson {
    pub instrument: String,
    pub unit: String,
    pub target: f64,
    pub reachable: bool,
    /// The smallest value found (null when not reachable).
    pub value: Option<f64>,
    /// The share reached at `value` (null when not reachable).
    pub achieved_share: Option<f64>,
    /// M_base - M of the firms' optimum at `value`.
    pub territory_value_eur: Option<f64>,
    /// Taxes collected - subsidies paid at `value` (negative: the subsidy's cost).
    pub public_revenue_eur: Option<f64>,
    /// The bracket's width at the end: the share is below the target at value - tolerance.
    pub tolerance: Option<f64>,
    /// M_base - M* of the territory's optimum (objective externalities).
    pub territory_optimum_value_eur: f64,
    pub baseline_externality_eur: f64,
    pub range: [f64; 2],
    /// `default` (docs/model.md D7) or `given`.
    pub range_from: &'static str,
    pub grid_points: usize,
    pub n_solves: usize,
    /// The largest share over the points solved, and where (for a target out of reach).
    pub best_share: Option<f64>,
    pub best_value: Option<f64>,
    /// Whether every solve was proven optimal.
    pub all_optimal: bool,
}

impl Policy {
    pub fn json(&self, inventory: &Inventory) -> PolicyJson {
        let best = self.best();
        PolicyJson {
            instrument: self.request.instrument.path.clone(),
            unit: self.request.instrument.unit(inventory),
            target: self.request.target,
            reachable: self.reachable(),
            value: self.found.map(|p| p.value),
            achieved_share: self.found.map(|p| p.share),
            territory_value_eur: self.found.map(|p| p.territory_value_eur),
            public_revenue_eur: self.found.map(|p| p.public_revenue_eur),
            tolerance: self.tolerance,
            territory_optimum_value_eur: self.territory_optimum_value_eur,
            baseline_externality_eur: self.baseline_externality_eur,
            range: [self.request.range.0, self.request.range.1],
            range_from: if self.request.default_range { "default" } else { "given" },
            grid_points: self.request.points,
            // The territory's optimum and every point.
            n_solves: self.points.len() + 1,
            best_share: best.map(|p| p.share),
            best_value: best.map(|p| p.value),
            all_optimal: self.points.iter().all(|p| p.optimal),
        }
    }
}

/// policy.csv: every point solved.
pub static POLICY: TableSchema = TableSchema {
    file: POLICY_CSV,
    columns: Cow::Borrowed(&[
        Column::new("value", Kind::Number, Read::Unread),
        Column::new("scan", Kind::Text, Read::Unread),
        Column::new("territory_value_eur", Kind::Number, Read::Unread),
        Column::new("share", Kind::Number, Read::Unread),
        Column::new("public_revenue_eur", Kind::Number, Read::Unread),
        Column::new("private_cost_eur", Kind::Number, Read::Unread),
        Column::new("optimal", Kind::Flag, Read::Unread),
    ]),
};

/// policy.csv, sorted by value.
pub fn policy_table(policy: &Policy) -> Result<Frame, SchemaMismatch> {
    let points = &policy.points;
    TableBuilder::new(&POLICY)
        .number("value", points.iter().map(|p| p.value).collect())
        .text("scan", points.iter().map(|p| p.scan.as_str().to_string()).collect())
        .number(
            "territory_value_eur",
            points.iter().map(|p| p.territory_value_eur).collect(),
        )
        .number("share", points.iter().map(|p| p.share).collect())
        .number(
            "public_revenue_eur",
            points.iter().map(|p| p.public_revenue_eur).collect(),
        )
        .number("private_cost_eur", points.iter().map(|p| p.private_cost_eur).collect())
        .flag("optimal", points.iter().map(|p| p.optimal).collect())
        .finish()
}

/// policy.svg: the firms' optimum's avoided externality value against the
/// instrument, with the target and the territory's optimum as lines and
/// the value found marked.
pub fn policy_chart(policy: &Policy, inventory: &Inventory) -> String {
    use crate::report::chart::{Chart, Marker, Panel, Series, PALETTE};
    let (low, high) = policy.request.range;
    let target_value = policy.request.target * policy.territory_optimum_value_eur;
    let curve = "firms' optimum (objective private)".to_string();
    let target = format!("target: {} x the territory's optimum", policy.request.target);
    let optimum = "territory's optimum (objective externalities)".to_string();
    let colours = [PALETTE[1].to_string(), PALETTE[2].to_string(), PALETTE[0].to_string()];
    Chart {
        title: format!("Avoided externality value against {}", policy.request.instrument.path),
        panels: vec![Panel {
            title: String::new(),
            x_label: format!(
                "{} ({})",
                policy.request.instrument.path,
                policy.request.instrument.unit(inventory)
            ),
            y_label: "avoided externality value T (EUR/yr)".to_string(),
            series: vec![
                Series {
                    name: curve.clone(),
                    colour: colours[0].clone(),
                    points: policy.points.iter().map(|p| (p.value, p.territory_value_eur)).collect(),
                },
                Series {
                    name: target.clone(),
                    colour: colours[1].clone(),
                    points: vec![(low, target_value), (high, target_value)],
                },
                Series {
                    name: optimum.clone(),
                    colour: colours[2].clone(),
                    points: vec![
                        (low, policy.territory_optimum_value_eur),
                        (high, policy.territory_optimum_value_eur),
                    ],
                },
            ],
            markers: policy
                .found
                .iter()
                .map(|p| Marker {
                    label: format!("{}", p.value),
                    x: p.value,
                    y: p.territory_value_eur,
                })
                .collect(),
        }],
        columns: 1,
        panel_width: 620.0,
        panel_height: 420.0,
        legend: vec![
            (curve, colours[0].clone()),
            (target, colours[1].clone()),
            (optimum, colours[2].clone()),
        ],
        note: Some(if policy.reachable() {
            "the value found is the first grid crossing of the target, bisected".to_string()
        } else {
            "the target is out of reach within the range".to_string()
        }),
    }
    .render()
}
