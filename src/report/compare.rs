//! Two results side by side (`symbiose compare`, `symbiose schemes`): per
//! firm, per externality category and per link, the two values and their
//! difference, from two [`Results`] read back through the tables' schemas.
//!
//! Owns: the comparison's rows and the tables compare_firms.csv,
//! compare_territory.csv, compare_links.csv, and the schemes' figures
//! (schemes.json, schemes_firms.csv, schemes_links.csv: docs/model.md D7).
//! Pure: no I/O, no solve.
//!
//! Invariant: every difference is B minus A, computed from the two
//! results' own rows; a firm, category or link missing on one side is
//! reported as missing (firms, categories) or as carrying nothing (links:
//! links.csv lists only the links in use), never dropped; rows are sorted
//! by their ids, so the same two folders give the same bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::io::outputs;
use crate::io::{Frame, Kind};

use super::results::Results;
use super::schema::{Column, Read, SchemaMismatch, TableBuilder, TableSchema};
use super::text::euros;

/// A firm's figures in one result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirmSide {
    pub baseline_cost_eur: f64,
    pub optimized_cost_eur: f64,
    pub value_eur: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FirmComparison {
    pub firm_id: String,
    pub name: String,
    pub a: Option<FirmSide>,
    pub b: Option<FirmSide>,
}

impl FirmComparison {
    /// B's value minus A's, when the firm is in both.
    pub fn value_difference(&self) -> Option<f64> {
        Some(self.b?.value_eur - self.a?.value_eur)
    }
}

/// Baseline, optimized and avoided amounts of one subject in one result.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Amounts {
    pub baseline: f64,
    pub optimized: f64,
    pub avoided: f64,
    /// The avoided amount in EUR (equal to `avoided` for money subjects).
    pub value_eur: f64,
}

/// One row of compare_territory.csv: `private_cost` (C, EUR), `externality`
/// (M, EUR), `externality_global` and `externality_local` (M over the
/// categories of that scope), then `category:<id>` in the category's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectComparison {
    pub subject: String,
    pub unit: String,
    pub a: Option<Amounts>,
    pub b: Option<Amounts>,
}

/// A link's figures in one result (zero when unused there).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkSide {
    pub quantity: f64,
    pub surplus_eur: f64,
    pub externality_avoided_eur: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkComparison {
    pub supply_flow_id: String,
    pub demand_flow_id: String,
    pub supplier_firm_id: String,
    pub receiver_firm_id: String,
    pub supply_resource: String,
    pub demand_resource: String,
    pub a: LinkSide,
    pub b: LinkSide,
}

/// The headline figures of one result (summary.json's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SchemeTotals {
    pub private_cost_eur: f64,
    pub externality_eur: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
    pub territory_value_global_eur: f64,
    pub territory_value_local_eur: f64,
}

impl SchemeTotals {
    pub fn of(results: &Results) -> SchemeTotals {
        let summary = &results.summary;
        SchemeTotals {
            private_cost_eur: summary.optimized.private_cost_eur,
            externality_eur: summary.optimized.externality_eur,
            firm_value_eur: summary.firm_value_eur,
            territory_value_eur: summary.territory_value_eur,
            territory_value_global_eur: summary.territory_value_global_eur,
            territory_value_local_eur: summary.territory_value_local_eur,
        }
    }
}

/// Two results compared, B against A.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a: SchemeTotals,
    pub b: SchemeTotals,
    /// C_base and M_base of each: they differ when the two runs do not
    /// hold the same flows (a firm removed, a quantity changed).
    pub baseline_a: (f64, f64),
    pub baseline_b: (f64, f64),
    pub firms: Vec<FirmComparison>,
    pub subjects: Vec<SubjectComparison>,
    pub links: Vec<LinkComparison>,
}

/// Compares B with A.
pub fn compare(a: &Results, b: &Results) -> Comparison {
    let mut firms: BTreeMap<&str, FirmComparison> = BTreeMap::new();
    for (results, is_a) in [(a, true), (b, false)] {
        for firm in &results.firms {
            let entry = firms.entry(firm.firm_id.as_str()).or_insert_with(|| FirmComparison {
                firm_id: firm.firm_id.clone(),
                name: firm.name.clone(),
                a: None,
                b: None,
            });
            let side = Some(FirmSide {
                baseline_cost_eur: firm.baseline_cost_eur,
                optimized_cost_eur: firm.optimized_cost_eur,
                value_eur: firm.value_eur,
            });
            if is_a {
                entry.a = side;
            } else {
                entry.b = side;
            }
        }
    }

    let mut subjects = Vec::new();
    let money = |results: &Results, which: &str| -> Amounts {
        let summary = &results.summary;
        match which {
            "private_cost" => Amounts {
                baseline: summary.baseline.private_cost_eur,
                optimized: summary.optimized.private_cost_eur,
                avoided: summary.firm_value_eur,
                value_eur: summary.firm_value_eur,
            },
            "externality" => Amounts {
                baseline: summary.baseline.externality_eur,
                optimized: summary.optimized.externality_eur,
                avoided: summary.territory_value_eur,
                value_eur: summary.territory_value_eur,
            },
            scope => {
                // Sum over the categories of one scope: v_k E_k.
                let mut amounts = Amounts::default();
                for category in results.categories.iter().filter(|c| c.scope == scope) {
                    amounts.baseline += category.value_eur_per_unit * category.baseline;
                    amounts.optimized += category.value_eur_per_unit * category.optimized;
                    amounts.value_eur += category.value_eur;
                }
                amounts.avoided = amounts.value_eur;
                amounts
            }
        }
    };
    for (subject, which) in [
        ("private_cost", "private_cost"),
        ("externality", "externality"),
        ("externality_global", "global"),
        ("externality_local", "local"),
    ] {
        subjects.push(SubjectComparison {
            subject: subject.to_string(),
            unit: "EUR".to_string(),
            a: Some(money(a, which)),
            b: Some(money(b, which)),
        });
    }
    let mut categories: BTreeMap<&str, SubjectComparison> = BTreeMap::new();
    for (results, is_a) in [(a, true), (b, false)] {
        for category in &results.categories {
            let entry = categories
                .entry(category.category.as_str())
                .or_insert_with(|| SubjectComparison {
                    subject: format!("category:{}", category.category),
                    unit: category.unit.clone(),
                    a: None,
                    b: None,
                });
            let side = Some(Amounts {
                baseline: category.baseline,
                optimized: category.optimized,
                avoided: category.avoided,
                value_eur: category.value_eur,
            });
            if is_a {
                entry.a = side;
            } else {
                entry.b = side;
            }
        }
    }
    subjects.extend(categories.into_values());

    type Key<'r> = (&'r str, &'r str);
    let mut links: BTreeMap<Key<'_>, LinkComparison> = BTreeMap::new();
    for (results, is_a) in [(a, true), (b, false)] {
        for link in &results.links {
            let entry = links
                .entry((link.supply_flow_id.as_str(), link.demand_flow_id.as_str()))
                .or_insert_with(|| LinkComparison {
                    supply_flow_id: link.supply_flow_id.clone(),
                    demand_flow_id: link.demand_flow_id.clone(),
                    supplier_firm_id: link.supplier_firm_id.clone(),
                    receiver_firm_id: link.receiver_firm_id.clone(),
                    supply_resource: link.supply_resource.clone(),
                    demand_resource: link.demand_resource.clone(),
                    a: LinkSide::default(),
                    b: LinkSide::default(),
                });
            let side = LinkSide {
                quantity: link.quantity,
                surplus_eur: link.surplus_eur,
                externality_avoided_eur: link.externality_avoided_eur,
            };
            if is_a {
                entry.a = side;
            } else {
                entry.b = side;
            }
        }
    }

    let baseline = |results: &Results| {
        (
            results.summary.baseline.private_cost_eur,
            results.summary.baseline.externality_eur,
        )
    };
    Comparison {
        a: SchemeTotals::of(a),
        b: SchemeTotals::of(b),
        baseline_a: baseline(a),
        baseline_b: baseline(b),
        firms: firms.into_values().collect(),
        subjects,
        links: links.into_values().collect(),
    }
}

/// B minus A, written with no negative zero.
fn difference(a: f64, b: f64) -> f64 {
    let d = b - a;
    if d == 0.0 {
        0.0
    } else {
        d
    }
}

fn both<T: Copy>(a: Option<T>, b: Option<T>, f: impl Fn(T) -> f64) -> Option<f64> {
    Some(difference(f(a?), f(b?)))
}

const fn unread(name: &'static str, kind: Kind) -> Column {
    Column::new(name, kind, Read::Unread)
}

/// compare_firms.csv: one row per firm of either result, sorted by id.
pub static COMPARE_FIRMS: TableSchema = TableSchema {
    file: outputs::COMPARE_FIRMS_CSV,
    columns: Cow::Borrowed(&[
        unread("firm_id", Kind::Text),
        unread("name", Kind::Text),
        unread("in", Kind::Text),
        unread("value_a_eur", Kind::OptionalNumber),
        unread("value_b_eur", Kind::OptionalNumber),
        unread("value_difference_eur", Kind::OptionalNumber),
        unread("baseline_cost_a_eur", Kind::OptionalNumber),
        unread("baseline_cost_b_eur", Kind::OptionalNumber),
        unread("baseline_cost_difference_eur", Kind::OptionalNumber),
        unread("optimized_cost_a_eur", Kind::OptionalNumber),
        unread("optimized_cost_b_eur", Kind::OptionalNumber),
        unread("optimized_cost_difference_eur", Kind::OptionalNumber),
    ]),
};

/// compare_territory.csv: the money subjects, then one row per category.
pub static COMPARE_TERRITORY: TableSchema = TableSchema {
    file: outputs::COMPARE_TERRITORY_CSV,
    columns: Cow::Borrowed(&[
        unread("subject", Kind::Text),
        unread("unit", Kind::Text),
        unread("baseline_a", Kind::OptionalNumber),
        unread("baseline_b", Kind::OptionalNumber),
        unread("baseline_difference", Kind::OptionalNumber),
        unread("optimized_a", Kind::OptionalNumber),
        unread("optimized_b", Kind::OptionalNumber),
        unread("optimized_difference", Kind::OptionalNumber),
        unread("avoided_a", Kind::OptionalNumber),
        unread("avoided_b", Kind::OptionalNumber),
        unread("avoided_difference", Kind::OptionalNumber),
        unread("value_a_eur", Kind::OptionalNumber),
        unread("value_b_eur", Kind::OptionalNumber),
        unread("value_difference_eur", Kind::OptionalNumber),
    ]),
};

/// compare_links.csv: every link in use in either result, sorted by the
/// two flow ids; a link unused on one side carries 0 there.
pub static COMPARE_LINKS: TableSchema = TableSchema {
    file: outputs::COMPARE_LINKS_CSV,
    columns: Cow::Borrowed(&[
        unread("supply_flow_id", Kind::Text),
        unread("demand_flow_id", Kind::Text),
        unread("supplier_firm_id", Kind::Text),
        unread("receiver_firm_id", Kind::Text),
        unread("supply_resource", Kind::Text),
        unread("demand_resource", Kind::Text),
        unread("quantity_a", Kind::Number),
        unread("quantity_b", Kind::Number),
        unread("quantity_difference", Kind::Number),
        unread("surplus_a_eur", Kind::Number),
        unread("surplus_b_eur", Kind::Number),
        unread("externality_avoided_a_eur", Kind::Number),
        unread("externality_avoided_b_eur", Kind::Number),
    ]),
};

/// The three tables of `symbiose compare`, named as their files.
pub fn compare_tables(comparison: &Comparison) -> Result<Vec<(&'static str, Frame)>, SchemaMismatch> {
    let firms = &comparison.firms;
    let side = |f: &FirmComparison| match (f.a, f.b) {
        (Some(_), Some(_)) => "both",
        (Some(_), None) => "a",
        _ => "b",
    };
    let column = |pick: fn(&FirmComparison) -> Option<FirmSide>, value: fn(FirmSide) -> f64| {
        firms.iter().map(|f| pick(f).map(value)).collect::<Vec<_>>()
    };
    let diff = |value: fn(FirmSide) -> f64| firms.iter().map(|f| both(f.a, f.b, value)).collect::<Vec<_>>();
    type Side = fn(&FirmComparison) -> Option<FirmSide>;
    let (a, b): (Side, Side) = (|f| f.a, |f| f.b);
    let firms_table = TableBuilder::new(&COMPARE_FIRMS)
        .text("firm_id", firms.iter().map(|f| f.firm_id.clone()).collect())
        .text("name", firms.iter().map(|f| f.name.clone()).collect())
        .text("in", firms.iter().map(|f| side(f).to_string()).collect())
        .optional_number("value_a_eur", column(a, |s| s.value_eur))
        .optional_number("value_b_eur", column(b, |s| s.value_eur))
        .optional_number("value_difference_eur", diff(|s| s.value_eur))
        .optional_number("baseline_cost_a_eur", column(a, |s| s.baseline_cost_eur))
        .optional_number("baseline_cost_b_eur", column(b, |s| s.baseline_cost_eur))
        .optional_number("baseline_cost_difference_eur", diff(|s| s.baseline_cost_eur))
        .optional_number("optimized_cost_a_eur", column(a, |s| s.optimized_cost_eur))
        .optional_number("optimized_cost_b_eur", column(b, |s| s.optimized_cost_eur))
        .optional_number("optimized_cost_difference_eur", diff(|s| s.optimized_cost_eur))
        .finish()?;

    let subjects = &comparison.subjects;
    let pick = |side: fn(&SubjectComparison) -> Option<Amounts>, value: fn(Amounts) -> f64| {
        subjects.iter().map(|s| side(s).map(value)).collect::<Vec<_>>()
    };
    let diff = |value: fn(Amounts) -> f64| subjects.iter().map(|s| both(s.a, s.b, value)).collect::<Vec<_>>();
    type Of = fn(&SubjectComparison) -> Option<Amounts>;
    let (a, b): (Of, Of) = (|s| s.a, |s| s.b);
    let territory_table = TableBuilder::new(&COMPARE_TERRITORY)
        .text("subject", subjects.iter().map(|s| s.subject.clone()).collect())
        .text("unit", subjects.iter().map(|s| s.unit.clone()).collect())
        .optional_number("baseline_a", pick(a, |x| x.baseline))
        .optional_number("baseline_b", pick(b, |x| x.baseline))
        .optional_number("baseline_difference", diff(|x| x.baseline))
        .optional_number("optimized_a", pick(a, |x| x.optimized))
        .optional_number("optimized_b", pick(b, |x| x.optimized))
        .optional_number("optimized_difference", diff(|x| x.optimized))
        .optional_number("avoided_a", pick(a, |x| x.avoided))
        .optional_number("avoided_b", pick(b, |x| x.avoided))
        .optional_number("avoided_difference", diff(|x| x.avoided))
        .optional_number("value_a_eur", pick(a, |x| x.value_eur))
        .optional_number("value_b_eur", pick(b, |x| x.value_eur))
        .optional_number("value_difference_eur", diff(|x| x.value_eur))
        .finish()?;

    let links = &comparison.links;
    let number = |value: fn(&LinkComparison) -> f64| links.iter().map(value).collect::<Vec<_>>();
    let links_table = TableBuilder::new(&COMPARE_LINKS)
        .pipe(|builder| link_ids(builder, links))
        .number("quantity_a", number(|l| l.a.quantity))
        .number("quantity_b", number(|l| l.b.quantity))
        .number(
            "quantity_difference",
            number(|l| difference(l.a.quantity, l.b.quantity)),
        )
        .number("surplus_a_eur", number(|l| l.a.surplus_eur))
        .number("surplus_b_eur", number(|l| l.b.surplus_eur))
        .number("externality_avoided_a_eur", number(|l| l.a.externality_avoided_eur))
        .number("externality_avoided_b_eur", number(|l| l.b.externality_avoided_eur))
        .finish()?;
    Ok(vec![
        (outputs::COMPARE_FIRMS_CSV, firms_table),
        (outputs::COMPARE_TERRITORY_CSV, territory_table),
        (outputs::COMPARE_LINKS_CSV, links_table),
    ])
}

/// The six id columns of a link, as links.csv names them.
fn link_ids<'s>(builder: TableBuilder<'s>, links: &[LinkComparison]) -> TableBuilder<'s> {
    let text = |value: fn(&LinkComparison) -> &String| links.iter().map(|l| value(l).clone()).collect::<Vec<_>>();
    builder
        .text("supply_flow_id", text(|l| &l.supply_flow_id))
        .text("demand_flow_id", text(|l| &l.demand_flow_id))
        .text("supplier_firm_id", text(|l| &l.supplier_firm_id))
        .text("receiver_firm_id", text(|l| &l.receiver_firm_id))
        .text("supply_resource", text(|l| &l.supply_resource))
        .text("demand_resource", text(|l| &l.demand_resource))
}

/// What `symbiose compare` prints: the totals of each side, the
/// difference, the baselines apart when they differ, the firms that lose.
pub fn comparison_text(comparison: &Comparison, label_a: &str, label_b: &str) -> String {
    let (a, b) = (&comparison.a, &comparison.b);
    let mut text = format!("A: {label_a}\nB: {label_b}\n");
    let row = |what: &str, x: f64, y: f64| {
        format!(
            "  {what:<28} A {:>16}   B {:>16}   B - A {:>16}\n",
            euros(x),
            euros(y),
            euros(difference(x, y))
        )
    };
    text.push_str(&row("private cost (EUR/yr)", a.private_cost_eur, b.private_cost_eur));
    text.push_str(&row("externalities (EUR/yr)", a.externality_eur, b.externality_eur));
    text.push_str(&row("value to the firms", a.firm_value_eur, b.firm_value_eur));
    text.push_str(&row(
        "value to the territory",
        a.territory_value_eur,
        b.territory_value_eur,
    ));
    text.push_str(&row(
        "  of which global",
        a.territory_value_global_eur,
        b.territory_value_global_eur,
    ));
    text.push_str(&row(
        "  of which local",
        a.territory_value_local_eur,
        b.territory_value_local_eur,
    ));
    let (base_a, base_b) = (comparison.baseline_a, comparison.baseline_b);
    if base_a != base_b {
        text.push_str(&format!(
            "The baselines differ (the two runs do not hold the same flows): private cost {} in A, {} in B; \
             externalities {} in A, {} in B. Values are captured against each run's own baseline: \
             compare the absolute costs too (compare_territory.csv, compare_firms.csv).\n",
            euros(base_a.0),
            euros(base_b.0),
            euros(base_a.1),
            euros(base_b.1)
        ));
    }
    let mut losers: Vec<(&FirmComparison, f64)> = comparison
        .firms
        .iter()
        .filter_map(|f| Some((f, f.value_difference()?)))
        .filter(|(_, d)| *d < 0.0)
        .collect();
    losers.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.firm_id.cmp(&y.0.firm_id)));
    let gainers = comparison
        .firms
        .iter()
        .filter(|f| f.value_difference().is_some_and(|d| d > 0.0))
        .count();
    let only = |pick: fn(&FirmComparison) -> bool| comparison.firms.iter().filter(|f| pick(f)).count();
    text.push_str(&format!(
        "Firms: {gainers} gain in B, {} lose{}",
        losers.len(),
        match losers.first() {
            Some((firm, d)) => format!(" (most: {} {}, {} EUR/yr)", firm.firm_id, firm.name, euros(*d)),
            None => String::new(),
        }
    ));
    let (only_a, only_b) = (only(|f| f.b.is_none()), only(|f| f.a.is_none()));
    if only_a + only_b > 0 {
        text.push_str(&format!("; {only_a} only in A, {only_b} only in B"));
    }
    text.push('\n');
    let in_use = |side: fn(&LinkComparison) -> f64| comparison.links.iter().filter(|l| side(l) > 0.0).count();
    let both_sides = comparison
        .links
        .iter()
        .filter(|l| l.a.quantity > 0.0 && l.b.quantity > 0.0)
        .count();
    text.push_str(&format!(
        "Links in use: {} in A, {} in B, {both_sides} in both\n",
        in_use(|l| l.a.quantity),
        in_use(|l| l.b.quantity)
    ));
    text
}

/// schemes.json: the ascending (objective private) and descending
/// (objective externalities) optima and what it takes to go from one to
/// the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schemes {
    pub ascending: SchemeTotals,
    pub descending: SchemeTotals,
    /// C_descending - C_ascending: what the territory's view costs the firms.
    pub cost_of_territory_view_eur: f64,
    /// T_descending - T_ascending.
    pub territory_value_gained_eur: f64,
    /// The sum of schemes_firms.csv's transfer_eur: what the firms that
    /// lose in the descending scheme must receive to be no worse off.
    pub transfers_budget_eur: f64,
    /// Firms with a positive transfer.
    pub n_firms_compensated: usize,
    pub supplier_share: f64,
}

/// One row of schemes_firms.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeFirm {
    pub firm_id: String,
    pub name: String,
    pub value_ascending_eur: f64,
    pub value_descending_eur: f64,
    pub difference_eur: f64,
    pub transfer_eur: f64,
}

/// The schemes from the comparison of the ascending (A) and the
/// descending (B) results of one inventory (every firm on both sides).
pub fn schemes(comparison: &Comparison, supplier_share: f64) -> (Schemes, Vec<SchemeFirm>) {
    let firms: Vec<SchemeFirm> = comparison
        .firms
        .iter()
        .map(|firm| {
            let value = |side: Option<FirmSide>| side.map_or(0.0, |side| side.value_eur);
            let (ascending, descending) = (value(firm.a), value(firm.b));
            let difference_eur = difference(ascending, descending);
            SchemeFirm {
                firm_id: firm.firm_id.clone(),
                name: firm.name.clone(),
                value_ascending_eur: ascending,
                value_descending_eur: descending,
                difference_eur,
                transfer_eur: if difference_eur < 0.0 { -difference_eur } else { 0.0 },
            }
        })
        .collect();
    let schemes = Schemes {
        ascending: comparison.a,
        descending: comparison.b,
        cost_of_territory_view_eur: difference(comparison.a.private_cost_eur, comparison.b.private_cost_eur),
        territory_value_gained_eur: difference(comparison.a.territory_value_eur, comparison.b.territory_value_eur),
        transfers_budget_eur: firms.iter().map(|f| f.transfer_eur).sum(),
        n_firms_compensated: firms.iter().filter(|f| f.transfer_eur > 0.0).count(),
        supplier_share,
    };
    (schemes, firms)
}

/// schemes_firms.csv: one row per firm, sorted by id.
pub static SCHEMES_FIRMS: TableSchema = TableSchema {
    file: outputs::SCHEMES_FIRMS_CSV,
    columns: Cow::Borrowed(&[
        Column::new("firm_id", Kind::Text, Read::Required),
        Column::new("name", Kind::Text, Read::Required),
        Column::new("value_ascending_eur", Kind::Number, Read::Required),
        Column::new("value_descending_eur", Kind::Number, Read::Required),
        Column::new("difference_eur", Kind::Number, Read::Required),
        Column::new("transfer_eur", Kind::Number, Read::Required),
    ]),
};

/// schemes_links.csv: every link used by either scheme, sorted by the two
/// flow ids, with its quantity in each (0 where unused).
pub static SCHEMES_LINKS: TableSchema = TableSchema {
    file: outputs::SCHEMES_LINKS_CSV,
    columns: Cow::Borrowed(&[
        unread("supply_flow_id", Kind::Text),
        unread("demand_flow_id", Kind::Text),
        unread("supplier_firm_id", Kind::Text),
        unread("receiver_firm_id", Kind::Text),
        unread("supply_resource", Kind::Text),
        unread("demand_resource", Kind::Text),
        unread("quantity_ascending", Kind::Number),
        unread("quantity_descending", Kind::Number),
    ]),
};

/// schemes_firms.csv and schemes_links.csv, named as their files.
pub fn schemes_tables(
    comparison: &Comparison,
    firms: &[SchemeFirm],
) -> Result<Vec<(&'static str, Frame)>, SchemaMismatch> {
    let number = |value: fn(&SchemeFirm) -> f64| firms.iter().map(value).collect::<Vec<_>>();
    let firms_table = TableBuilder::new(&SCHEMES_FIRMS)
        .text("firm_id", firms.iter().map(|f| f.firm_id.clone()).collect())
        .text("name", firms.iter().map(|f| f.name.clone()).collect())
        .number("value_ascending_eur", number(|f| f.value_ascending_eur))
        .number("value_descending_eur", number(|f| f.value_descending_eur))
        .number("difference_eur", number(|f| f.difference_eur))
        .number("transfer_eur", number(|f| f.transfer_eur))
        .finish()?;
    let links = &comparison.links;
    let links_table = TableBuilder::new(&SCHEMES_LINKS)
        .pipe(|builder| link_ids(builder, links))
        .number("quantity_ascending", links.iter().map(|l| l.a.quantity).collect())
        .number("quantity_descending", links.iter().map(|l| l.b.quantity).collect())
        .finish()?;
    Ok(vec![
        (outputs::SCHEMES_FIRMS_CSV, firms_table),
        (outputs::SCHEMES_LINKS_CSV, links_table),
    ])
}

/// The one line `symbiose schemes` prints about the two schemes.
pub fn schemes_line(schemes: &Schemes) -> String {
    let cost = schemes.cost_of_territory_view_eur;
    let firms_part = if cost >= 0.0 {
        format!("costs the firms {} EUR/yr more", euros(cost))
    } else {
        format!("saves the firms {} EUR/yr", euros(-cost))
    };
    let gained = schemes.territory_value_gained_eur;
    format!(
        "The descending scheme (territory first) {firms_part} than the ascending one (firms first) and brings \
         the territory {} EUR/yr {}; {} firm{} would need {} EUR/yr of transfers in all to be no worse off.",
        euros(gained.abs()),
        if gained >= 0.0 { "more" } else { "less" },
        schemes.n_firms_compensated,
        if schemes.n_firms_compensated == 1 { "" } else { "s" },
        euros(schemes.transfers_budget_eur)
    )
}

/// `symbiose schemes`' files as a report reads them back.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemesRead {
    pub figures: Schemes,
    pub firms: Vec<SchemeFirm>,
}

/// schemes.json and schemes_firms.csv (display name, bytes), when the
/// results set has them; both or neither (a set with one is an error).
pub fn read_schemes(
    json: Option<&(String, Vec<u8>)>,
    firms: Option<&(String, Vec<u8>)>,
    errors: &mut Vec<crate::model::InputError>,
) -> Option<SchemesRead> {
    use crate::model::InputError;
    match (json, firms) {
        (None, None) => None,
        (Some((file, _)), None) | (None, Some((file, _))) => {
            errors.push(
                InputError::file(
                    file,
                    "schemes.json and schemes_firms.csv come together; the other is not listed",
                )
                .with_hint("run `symbiose schemes --out DIR` again"),
            );
            None
        }
        (Some((json_file, json)), Some((firms_file, firms))) => {
            let figures = match serde_json::from_slice::<Schemes>(json) {
                Ok(figures) => Some(figures),
                Err(e) => {
                    errors.push(InputError::at(
                        json_file,
                        e.line(),
                        None,
                        format!("not a schemes.json: {e}"),
                    ));
                    None
                }
            };
            let table = match crate::io::parse_csv(firms_file, firms) {
                Ok(table) => Some(table),
                Err(more) => {
                    errors.extend(more);
                    None
                }
            };
            let rows = super::results::read_rows(table.as_ref(), &SCHEMES_FIRMS, errors, |reader, row, errors| {
                let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
                Some(SchemeFirm {
                    firm_id: reader.text(row, "firm_id", errors)?,
                    name: reader.text(row, "name", errors)?,
                    value_ascending_eur: number("value_ascending_eur", errors)?,
                    value_descending_eur: number("value_descending_eur", errors)?,
                    difference_eur: number("difference_eur", errors)?,
                    transfer_eur: number("transfer_eur", errors)?,
                })
            });
            Some(SchemesRead {
                figures: figures?,
                firms: rows?.into_iter().map(|(row, _)| row).collect(),
            })
        }
    }
}
