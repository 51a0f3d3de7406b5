//! A results folder read back: the A5 tables and summary.json as typed rows,
//! which is all that the territory profile, the GeoJSON files and the HTML
//! report need. `symbiose report` reads them from disk; `optimize` reads
//! back the bytes it is about to write, so both paths draw the same report.
//!
//! Owns: checking that a results folder is complete and well formed, every
//! problem located by file, line and column. Does no I/O (`io` reads the
//! files) and computes nothing beyond parsing.
//!
//! Invariant: a [`Results`] holds every column that the table's schema
//! ([`super::schema`]) marks [`Read::Required`], every number is
//! finite, every link's firms are rows of firm_values.csv, and the row
//! counts agree with summary.json.

use std::collections::HashSet;

use serde::Serialize;

use crate::io::outputs;
use crate::model::table::{Rule, Schema, TableReader};
use crate::model::{InputError, RawRow, RawTable};

use super::schema::{self, Read, TableSchema};
use super::summary::{parse_summary, Summary};

/// The files a results folder must hold for a report.
pub const RESULT_FILES: [&str; 5] = [
    outputs::SUMMARY,
    outputs::LINKS.csv,
    outputs::FLOW_RESULTS.csv,
    outputs::FIRM_VALUES.csv,
    outputs::TERRITORY_VALUES.csv,
];

/// docs/model.md Part B tables a report shows when the run wrote them
/// (services, processes, investments, flows per time slice); absent files
/// are no error.
pub const PART_B_RESULT_FILES: [&str; 4] = [
    outputs::SERVICES.csv,
    outputs::PROCESSES.csv,
    outputs::INVESTMENTS.csv,
    outputs::FLOW_SLICES.csv,
];

/// One row of links.csv (the columns a report uses, in file order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkRow {
    pub supply_flow_id: String,
    pub demand_flow_id: String,
    pub supplier_firm_id: String,
    pub receiver_firm_id: String,
    pub supply_resource: String,
    pub demand_resource: String,
    pub distance_km: f64,
    pub quantity: f64,
    pub delivered: f64,
    pub unit_cost_eur: f64,
    pub surplus_eur: f64,
    pub supplier_value_eur: f64,
    pub receiver_value_eur: f64,
    pub externality_avoided_eur: f64,
    pub supply_category: String,
    pub demand_category: String,
    pub supply_unit: String,
    pub demand_unit: String,
}

/// One row of flow_results.csv; quantities in the flow's own `unit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRow {
    pub flow_id: String,
    pub firm_id: String,
    pub kind: String,
    pub resource: String,
    pub unit: String,
    pub quantity: f64,
    pub matched: f64,
    pub fallback: String,
    pub fallback_quantity: f64,
    pub shadow_price_eur_per_unit: f64,
}

/// One row of firm_values.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirmRow {
    pub firm_id: String,
    pub name: String,
    pub baseline_cost_eur: f64,
    pub optimized_cost_eur: f64,
    pub value_eur: f64,
    pub compensation_needed_eur: f64,
    pub n_links: usize,
    pub lat: f64,
    pub lon: f64,
    pub sector: Option<String>,
    pub zone: Option<String>,
}

/// One row of territory_values.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRow {
    pub category: String,
    pub unit: String,
    pub scope: String,
    pub baseline: f64,
    pub optimized: f64,
    pub avoided: f64,
    pub value_eur_per_unit: f64,
    pub value_eur: f64,
}

/// One row of services.csv (docs/model.md B2): a shared service's capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub resource: String,
    pub unit: String,
    pub n_demands: usize,
    pub n_shared_supplies: usize,
    pub peak_without_sharing_per_hour: f64,
    pub peak_with_sharing_per_hour: f64,
    pub capacity_saved_per_hour: f64,
    pub delivered: f64,
    pub firm_value_eur: f64,
    pub territory_value_eur: f64,
}

/// One row of processes.csv (docs/model.md B3): a conversion hub.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub process_id: String,
    pub firm_id: String,
    pub activity: f64,
    /// Empty in processes.csv for a process without a capacity.
    pub capacity: Option<f64>,
    pub built: bool,
    pub cost_borne_eur: f64,
    pub externality_eur: f64,
}

/// One row of investments.csv (docs/model.md B4): a link or process with a
/// fixed cost, built or not.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestmentRow {
    pub kind: String,
    pub id: String,
    pub firm_ids: String,
    pub fixed_cost_eur_per_year: f64,
    pub built: bool,
    pub quantity: f64,
}

/// One row of flow_slices.csv (docs/model.md B1): a flow in one time slice.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSliceRow {
    pub flow_id: String,
    pub slice: String,
    pub hours: f64,
    pub quantity: f64,
    pub matched: f64,
}

/// A complete results folder, rows in file order (sorted by id).
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub summary: Summary,
    pub links: Vec<LinkRow>,
    pub flows: Vec<FlowRow>,
    pub firms: Vec<FirmRow>,
    pub categories: Vec<CategoryRow>,
    /// Part B tables: empty when the run did not write them.
    pub services: Vec<ServiceRow>,
    pub processes: Vec<ProcessRow>,
    pub investments: Vec<InvestmentRow>,
    /// Sorted by flow, then slice in slices.csv order.
    pub flow_slices: Vec<FlowSliceRow>,
    /// `symbiose schemes`' files, when summary.json lists them.
    pub schemes: Option<super::compare::SchemesRead>,
    /// `symbiose robustness`' files, when summary.json lists them.
    pub robustness: Option<super::studies::RobustnessRead>,
    /// `symbiose uncertainty`'s files, when summary.json lists them.
    pub uncertainty: Option<super::studies::UncertaintyRead>,
}

impl Results {
    /// The firm row of `firm_id`; every link's firms have one (invariant).
    pub fn firm(&self, firm_id: &str) -> Option<&FirmRow> {
        self.firms
            .binary_search_by(|firm| firm.firm_id.as_str().cmp(firm_id))
            .ok()
            .map(|position| &self.firms[position])
            .or_else(|| self.firms.iter().find(|firm| firm.firm_id == firm_id))
    }

    /// Whether the solver proved the solution optimal.
    pub fn proven_optimal(&self) -> bool {
        self.summary.proven_optimal.unwrap_or(self.summary.status == "optimal")
    }
}

/// The raw content of a results folder: summary.json as (display name,
/// bytes) and the four tables parsed by `io::parse_csv`. `None` stands for a
/// file that could not be read, whose error is already reported: the other
/// files are still checked, so that one run reports every problem.
pub struct ResultTables {
    pub summary: Option<(String, Vec<u8>)>,
    pub links: Option<RawTable>,
    pub flow_results: Option<RawTable>,
    pub firm_values: Option<RawTable>,
    pub territory_values: Option<RawTable>,
    /// [`PART_B_RESULT_FILES`], `None` when absent (or unreadable, already reported).
    pub services: Option<RawTable>,
    pub processes: Option<RawTable>,
    pub investments: Option<RawTable>,
    pub flow_slices: Option<RawTable>,
    /// Study files summary.json lists ([`STUDY_FILES`]), as (display name,
    /// bytes), in that order; `None` when not listed (or unreadable,
    /// already reported).
    pub studies: Vec<Option<(String, Vec<u8>)>>,
}

/// Files that commands beyond `optimize` add to a results set, read only
/// when summary.json lists them: `schemes`' schemes.json and
/// schemes_firms.csv; `uncertainty`'s uncertainty_meta.json,
/// samples.csv, link_probability.csv and value_quantiles.csv;
/// `robustness`' robustness.json, link_ranges.csv and firm_ranges.csv.
pub const STUDY_FILES: [&str; 9] = [
    outputs::SCHEMES_JSON,
    outputs::SCHEMES_FIRMS_CSV,
    outputs::UNCERTAINTY_META,
    outputs::SAMPLES_CSV,
    outputs::LINK_PROBABILITY_CSV,
    outputs::VALUE_QUANTILES_CSV,
    outputs::ROBUSTNESS_JSON,
    outputs::LINK_RANGES_CSV,
    outputs::FIRM_RANGES_CSV,
];

/// `true`/`false`, as polars writes a flag.
const FLAG: &[(&str, bool)] = &[("true", true), ("false", false)];

/// Quantities symbiose writes are >= 0 (valuation rounds HiGHS's tiny
/// negative zeros to zero); a value below minus this did not come from a run.
pub const NEGATIVE_QUANTITY_TOLERANCE: f64 = 1e-6;

/// A quantity column's cell: a number >= 0 (within
/// [`NEGATIVE_QUANTITY_TOLERANCE`]), located by file, line and column.
fn non_negative(reader: &TableReader, row: &RawRow, column: &str, errors: &mut Vec<InputError>) -> Option<f64> {
    let value = reader.number(row, column, errors)?;
    checked_non_negative(reader, row, column, value, errors)
}

fn checked_non_negative(
    reader: &TableReader,
    row: &RawRow,
    column: &str,
    value: f64,
    errors: &mut Vec<InputError>,
) -> Option<f64> {
    if value >= -NEGATIVE_QUANTITY_TOLERANCE {
        return Some(value);
    }
    // `{:?}` writes -1e300 as such, not as 301 digits.
    errors.push(
        InputError::at(
            &reader.table.file,
            row.line,
            Some(column),
            format!("a quantity must be >= 0, found {value:?}"),
        )
        .with_hint("symbiose writes no negative quantity: this table was edited or not written by `symbiose optimize`; run it again"),
    );
    None
}

/// Hint for a table written by an older symbiose or edited by hand.
pub(super) const REWRITE_HINT: &str =
    "run `symbiose optimize --out DIR` again with this version to write a complete results folder";

/// Reads typed rows out of the raw tables; every problem is collected.
/// `errors` holds the problems met before (files missing or unreadable).
pub fn results_from_tables(tables: &ResultTables, mut errors: Vec<InputError>) -> Result<Results, Vec<InputError>> {
    let summary = tables
        .summary
        .as_ref()
        .and_then(|(file, bytes)| parse_summary(file, bytes, &mut errors));
    // The three large tables are read on rayon's workers, each collecting
    // its own problems, which are then reported in table order.
    let ((links, link_errors), ((flows, flow_errors), (firms, firm_errors))) = rayon::join(
        || apart(read_links, tables.links.as_ref()),
        || {
            rayon::join(
                || apart(read_flows, tables.flow_results.as_ref()),
                || apart(read_firms, tables.firm_values.as_ref()),
            )
        },
    );
    errors.extend(link_errors.into_iter().chain(flow_errors).chain(firm_errors));
    let categories = read_rows(
        tables.territory_values.as_ref(),
        &schema::TERRITORY_VALUES,
        &mut errors,
        |reader, row, errors| {
            let text = |column: &str, errors: &mut Vec<InputError>| reader.text(row, column, errors);
            let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
            let scope = reader.choice(row, "scope", &[("global", "global"), ("local", "local")], errors);
            Some(CategoryRow {
                category: text("category", errors)?,
                unit: text("unit", errors)?,
                scope: scope?.to_string(),
                baseline: number("baseline", errors)?,
                optimized: number("optimized", errors)?,
                avoided: number("avoided", errors)?,
                value_eur_per_unit: number("value_eur_per_unit", errors)?,
                value_eur: number("value_eur", errors)?,
            })
        },
    );

    // Part B tables, read only when present.
    let count = |reader: &TableReader, row: &RawRow, column: &str, errors: &mut Vec<InputError>| {
        reader.check(
            row,
            column,
            reader.number(row, column, errors),
            Rule {
                holds: |n: f64| n >= 0.0 && n.fract() == 0.0,
                message: "must be a whole number >= 0",
                hint: "symbiose writes a count here",
            },
            errors,
        )
    };
    let services = read_rows(
        tables.services.as_ref(),
        &schema::SERVICES,
        &mut errors,
        |reader, row, errors| {
            let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
            let n_demands = count(reader, row, "n_demands", errors);
            let n_shared_supplies = count(reader, row, "n_shared_supplies", errors);
            Some(ServiceRow {
                resource: reader.text(row, "resource", errors)?,
                unit: reader.text(row, "unit", errors)?,
                n_demands: n_demands? as usize,
                n_shared_supplies: n_shared_supplies? as usize,
                peak_without_sharing_per_hour: number("peak_without_sharing_per_hour", errors)?,
                peak_with_sharing_per_hour: number("peak_with_sharing_per_hour", errors)?,
                capacity_saved_per_hour: number("capacity_saved_per_hour", errors)?,
                delivered: non_negative(reader, row, "delivered", errors)?,
                firm_value_eur: number("firm_value_eur", errors)?,
                territory_value_eur: number("territory_value_eur", errors)?,
            })
        },
    );
    let processes = read_rows(
        tables.processes.as_ref(),
        &schema::PROCESSES,
        &mut errors,
        |reader, row, errors| {
            let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
            let built = reader.choice(row, "built", FLAG, errors);
            Some(ProcessRow {
                process_id: reader.text(row, "process_id", errors)?,
                firm_id: reader.text(row, "firm_id", errors)?,
                activity: non_negative(reader, row, "activity", errors)?,
                capacity: match reader.opt_number(row, "capacity", errors).ok()? {
                    Some(capacity) => Some(checked_non_negative(reader, row, "capacity", capacity, errors)?),
                    None => None,
                },
                built: built?,
                cost_borne_eur: number("cost_borne_eur", errors)?,
                externality_eur: number("externality_eur", errors)?,
            })
        },
    );
    let investments = read_rows(
        tables.investments.as_ref(),
        &schema::INVESTMENTS,
        &mut errors,
        |reader, row, errors| {
            let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
            let kind = reader.choice(row, "kind", &[("link", "link"), ("process", "process")], errors);
            let built = reader.choice(row, "built", FLAG, errors);
            Some(InvestmentRow {
                kind: kind?.to_string(),
                id: reader.text(row, "id", errors)?,
                firm_ids: reader.text(row, "firm_ids", errors)?,
                fixed_cost_eur_per_year: number("fixed_cost_eur_per_year", errors)?,
                built: built?,
                quantity: non_negative(reader, row, "quantity", errors)?,
            })
        },
    );

    let flow_slices = read_rows(
        tables.flow_slices.as_ref(),
        &schema::FLOW_SLICES,
        &mut errors,
        |reader, row, errors| {
            Some(FlowSliceRow {
                flow_id: reader.text(row, "flow_id", errors)?,
                slice: reader.text(row, "slice", errors)?,
                hours: non_negative(reader, row, "hours", errors)?,
                quantity: non_negative(reader, row, "quantity", errors)?,
                matched: non_negative(reader, row, "matched", errors)?,
            })
        },
    );

    let study = |index: usize| tables.studies.get(index).and_then(Option::as_ref);
    let schemes = super::compare::read_schemes(study(0), study(1), &mut errors);
    let uncertainty = super::uncertainty::read_uncertainty(study(2), study(3), study(4), study(5), &mut errors);
    let robustness = super::robustness::read_robustness(study(6), study(7), study(8), &mut errors);

    // Cross-table checks, only on tables that were read completely.
    if let (Some(links), Some(firms), Some(links_table)) = (&links, &firms, &tables.links) {
        let known: HashSet<&str> = firms.iter().map(|(firm, _)| firm.firm_id.as_str()).collect();
        for (link, line) in links {
            for (column, firm) in [
                ("supplier_firm_id", &link.supplier_firm_id),
                ("receiver_firm_id", &link.receiver_firm_id),
            ] {
                if !known.contains(firm.as_str()) {
                    errors.push(
                        InputError::at(
                            &links_table.file,
                            *line,
                            Some(column),
                            format!("firm {firm:?} is not in firm_values.csv"),
                        )
                        .with_hint("links.csv and firm_values.csv must come from the same run"),
                    );
                }
            }
        }
    }
    if let Some(summary) = &summary {
        for (count, rows, table) in [
            (summary.n_links, links.as_ref().map(Vec::len), &tables.links),
            (summary.n_flows, flows.as_ref().map(Vec::len), &tables.flow_results),
            (summary.n_firms, firms.as_ref().map(Vec::len), &tables.firm_values),
        ] {
            if let (Some(rows), Some(table)) = (rows, table) {
                if rows != count {
                    errors.push(
                        InputError::file(&table.file, format!("{rows} row(s) where summary.json counts {count}"))
                            .with_hint("the tables and summary.json must come from the same run"),
                    );
                }
            }
        }
    }
    match (summary, links, flows, firms, categories) {
        (Some(summary), Some(links), Some(flows), Some(firms), Some(categories)) if errors.is_empty() => Ok(Results {
            summary,
            links: links.into_iter().map(|(row, _)| row).collect(),
            flows: flows.into_iter().map(|(row, _)| row).collect(),
            firms: firms.into_iter().map(|(row, _)| row).collect(),
            categories: categories.into_iter().map(|(row, _)| row).collect(),
            services: rows_of(services),
            processes: rows_of(processes),
            investments: rows_of(investments),
            flow_slices: rows_of(flow_slices),
            schemes,
            robustness,
            uncertainty,
        }),
        _ => {
            crate::model::table::sort_errors(&mut errors, &[]);
            Err(errors)
        }
    }
}

/// Rows read from one table and the problems met (its own list, so that
/// tables can be read on different threads).
type RowsRead<T> = (Option<Vec<(T, usize)>>, Vec<InputError>);

/// `read` on `table` with a fresh list of problems.
fn apart<T>(
    read: fn(Option<&RawTable>, &mut Vec<InputError>) -> Option<Vec<(T, usize)>>,
    table: Option<&RawTable>,
) -> RowsRead<T> {
    let mut errors = Vec::new();
    let rows = read(table, &mut errors);
    (rows, errors)
}

/// links.csv's rows.
fn read_links(table: Option<&RawTable>, errors: &mut Vec<InputError>) -> Option<Vec<(LinkRow, usize)>> {
    read_rows(table, &schema::LINKS, errors, |reader, row, errors| {
        let text = |column: &str, errors: &mut Vec<InputError>| reader.text(row, column, errors);
        let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
        let quantity = |column: &str, errors: &mut Vec<InputError>| non_negative(reader, row, column, errors);
        Some(LinkRow {
            supply_flow_id: text("supply_flow_id", errors)?,
            demand_flow_id: text("demand_flow_id", errors)?,
            supplier_firm_id: text("supplier_firm_id", errors)?,
            receiver_firm_id: text("receiver_firm_id", errors)?,
            supply_resource: text("supply_resource", errors)?,
            demand_resource: text("demand_resource", errors)?,
            distance_km: quantity("distance_km", errors)?,
            quantity: quantity("quantity", errors)?,
            delivered: quantity("delivered", errors)?,
            unit_cost_eur: number("unit_cost_eur", errors)?,
            surplus_eur: number("surplus_eur", errors)?,
            supplier_value_eur: number("supplier_value_eur", errors)?,
            receiver_value_eur: number("receiver_value_eur", errors)?,
            externality_avoided_eur: number("externality_avoided_eur", errors)?,
            supply_category: text("supply_category", errors)?,
            demand_category: text("demand_category", errors)?,
            supply_unit: text("supply_unit", errors)?,
            demand_unit: text("demand_unit", errors)?,
        })
    })
}

/// flow_results.csv's rows.
fn read_flows(table: Option<&RawTable>, errors: &mut Vec<InputError>) -> Option<Vec<(FlowRow, usize)>> {
    read_rows(table, &schema::FLOW_RESULTS, errors, |reader, row, errors| {
        let text = |column: &str, errors: &mut Vec<InputError>| reader.text(row, column, errors);
        let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
        let quantity = |column: &str, errors: &mut Vec<InputError>| non_negative(reader, row, column, errors);
        let kind = reader.choice(row, "kind", &[("supply", "supply"), ("demand", "demand")], errors);
        Some(FlowRow {
            flow_id: text("flow_id", errors)?,
            firm_id: text("firm_id", errors)?,
            kind: kind?.to_string(),
            resource: text("resource", errors)?,
            unit: text("unit", errors)?,
            quantity: quantity("quantity", errors)?,
            matched: quantity("matched", errors)?,
            // A service supply (docs/model.md B2) may have no fallback.
            fallback: reader.opt_text(row, "fallback").unwrap_or_default(),
            fallback_quantity: quantity("fallback_quantity", errors)?,
            shadow_price_eur_per_unit: number("shadow_price_eur_per_unit", errors)?,
        })
    })
}

/// firm_values.csv's rows.
fn read_firms(table: Option<&RawTable>, errors: &mut Vec<InputError>) -> Option<Vec<(FirmRow, usize)>> {
    read_rows(table, &schema::FIRM_VALUES, errors, |reader, row, errors| {
        let text = |column: &str, errors: &mut Vec<InputError>| reader.text(row, column, errors);
        let number = |column: &str, errors: &mut Vec<InputError>| reader.number(row, column, errors);
        let n_links = reader.number_where(
            row,
            "n_links",
            Rule {
                holds: |n: f64| n >= 0.0 && n.fract() == 0.0,
                message: "n_links must be a whole number >= 0",
                hint: "symbiose writes a count of links here",
            },
            errors,
        );
        let lat = reader.number_where(
            row,
            "lat",
            Rule {
                holds: |lat: f64| (-90.0..=90.0).contains(&lat),
                message: "lat must be in [-90, 90]",
                hint: "a WGS84 latitude in degrees",
            },
            errors,
        );
        let lon = reader.number_where(
            row,
            "lon",
            Rule {
                holds: |lon: f64| (-180.0..=180.0).contains(&lon),
                message: "lon must be in [-180, 180]",
                hint: "a WGS84 longitude in degrees",
            },
            errors,
        );
        Some(FirmRow {
            firm_id: text("firm_id", errors)?,
            // A firm's display name may be left empty: its id stands in.
            name: reader.opt_text(row, "name").unwrap_or_default(),
            baseline_cost_eur: number("baseline_cost_eur", errors)?,
            optimized_cost_eur: number("optimized_cost_eur", errors)?,
            value_eur: number("value_eur", errors)?,
            compensation_needed_eur: number("compensation_needed_eur", errors)?,
            n_links: n_links? as usize,
            lat: lat?,
            lon: lon?,
            sector: reader.opt_text(row, "sector"),
            zone: reader.opt_text(row, "zone"),
        })
    })
}

/// The rows of an optional table (none when it was absent).
fn rows_of<T>(table: Option<Vec<(T, usize)>>) -> Vec<T> {
    table.unwrap_or_default().into_iter().map(|(row, _)| row).collect()
}

/// Reads every row of `table` with `read`; `None` when the header lacks a
/// required column or any row is invalid (the reasons are in `errors`).
/// Each row comes with its line number.
pub(super) fn read_rows<T>(
    table: Option<&RawTable>,
    schema: &TableSchema,
    errors: &mut Vec<InputError>,
    read: impl Fn(&TableReader, &RawRow, &mut Vec<InputError>) -> Option<T>,
) -> Option<Vec<(T, usize)>> {
    let table = table?;
    let n_errors = errors.len();
    let (required, optional) = (
        schema.columns_read(Read::Required),
        schema.columns_read(Read::IfPresent),
    );
    let schema = Schema {
        required: &required,
        optional: &optional,
    };
    // Columns this version does not use are fine in a results folder.
    let mut ignored_warnings = Vec::new();
    let reader = TableReader::new(table, &schema, errors, &mut ignored_warnings);
    let Some(reader) = reader else {
        for error in &mut errors[n_errors..] {
            if error
                .hint
                .as_deref()
                .is_some_and(|hint| hint.starts_with("the header must name"))
            {
                error.hint = Some(REWRITE_HINT.to_string());
            }
        }
        return None;
    };
    let rows: Vec<Option<(T, usize)>> = table
        .rows
        .iter()
        .map(|row| read(&reader, row, errors).map(|value| (value, row.line)))
        .collect();
    if errors.len() > n_errors {
        return None;
    }
    rows.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::parse_csv;

    fn table(file: &str, text: &str) -> RawTable {
        parse_csv(file, text.as_bytes()).unwrap()
    }

    const SUMMARY: &str = r#"{"objective":"externalities","status":"optimal","supplier_share":0.5,
        "baseline":{"private_cost_eur":10.0,"externality_eur":20.0},
        "optimized":{"private_cost_eur":4.0,"externality_eur":5.0},
        "firm_value_eur":6.0,"territory_value_eur":15.0,"n_links":1,"n_firms":2,"n_flows":2,
        "solve_seconds":0.0}"#;

    fn tables(links: &str) -> ResultTables {
        ResultTables {
            summary: Some(("summary.json".to_string(), SUMMARY.as_bytes().to_vec())),
            links: Some(table("links.csv", links)),
            flow_results: Some(table(
                "flow_results.csv",
                "flow_id,firm_id,kind,resource,unit,quantity,matched,fallback,fallback_quantity,shadow_price_eur_per_unit\n\
                 d,b,demand,r,t,1,1,buy,0,0\ns,a,supply,r,t,1,1,dump,0,0\n",
            )),
            firm_values: Some(table(
                "firm_values.csv",
                "firm_id,name,baseline_cost_eur,optimized_cost_eur,value_eur,compensation_needed_eur,n_links,lat,lon,sector,zone\n\
                 a,A,5,2,3,0,1,51,2,,\nb,B,5,2,3,0,1,51.1,2.1,C24,port\n",
            )),
            territory_values: Some(table(
                "territory_values.csv",
                "category,unit,scope,baseline,optimized,avoided,value_eur_per_unit,value_eur\nco2e_t,t,global,1,0,1,15,15\n",
            )),
            services: None,
            processes: None,
            investments: None,
            flow_slices: None,
            studies: vec![None, None],
        }
    }

    fn read(links: &str) -> Result<Results, Vec<InputError>> {
        results_from_tables(&tables(links), Vec::new())
    }

    fn read_with_summary(summary: &str, links: &str) -> Result<Results, Vec<InputError>> {
        let mut tables = tables(links);
        tables.summary = Some(("summary.json".to_string(), summary.as_bytes().to_vec()));
        results_from_tables(&tables, Vec::new())
    }

    const LINKS_HEADER: &str = "supply_flow_id,demand_flow_id,supplier_firm_id,receiver_firm_id,supply_resource,demand_resource,distance_km,quantity,delivered,unit_cost_eur,surplus_eur,supplier_value_eur,receiver_value_eur,externality_avoided_eur,unit_externality_eur,supply_category,demand_category,supply_unit,demand_unit\n";

    #[test]
    fn a_complete_folder_reads_back() {
        let results = read(&format!(
            "{LINKS_HEADER}s,d,a,b,r,r,1,1,1,0,6,3,3,15,0,material,material,t,t\n"
        ))
        .unwrap();
        assert_eq!(results.links.len(), 1);
        assert_eq!(results.firms[1].zone.as_deref(), Some("port"));
        assert_eq!(results.firms[0].sector, None);
        assert!(results.proven_optimal());
        assert_eq!(results.firm("b").map(|f| f.name.as_str()), Some("B"));
    }

    #[test]
    fn what_optimize_never_writes_is_refused_where_it_is() {
        // Issue 12, defect 18: "status": "weird" and a quantity of -1e300 read back.
        let link = "s,d,a,b,r,r,1,1,1,0,6,3,3,15,0,material,material,t,t\n";
        let errors = read_with_summary(
            &SUMMARY.replace("\"optimal\"", "\"weird\""),
            &format!("{LINKS_HEADER}{link}"),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line, errors[0].column.as_deref()),
            ("summary.json", Some(1), Some("status"))
        );
        assert!(
            errors[0]
                .message
                .contains("unknown status \"weird\": symbiose writes \"optimal\" or \"time_limit\""),
            "{errors:?}"
        );
        // Several problems at once, each on its own line of the JSON text.
        let summary = SUMMARY.replace("\"externalities\",", "\"greedy\",").replace(
            "\"supplier_share\":0.5,",
            "\"supplier_share\":0.5,\n\"proven_optimal\":false,",
        );
        let errors = read_with_summary(&summary, &format!("{LINKS_HEADER}{link}")).unwrap_err();
        let located: Vec<(Option<usize>, Option<&str>)> =
            errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            located,
            [(Some(1), Some("objective")), (Some(2), Some("proven_optimal"))],
            "{errors:?}"
        );
        let errors = read_with_summary(&SUMMARY.replace("0.5", "1.5"), &format!("{LINKS_HEADER}{link}")).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("supplier_share must be in [0, 1], found 1.5"),
            "{errors:?}"
        );

        // A negative quantity, named by file, line and column, and written short.
        let errors = read(&format!(
            "{LINKS_HEADER}s,d,a,b,r,r,1,-1e300,1,0,6,3,3,15,0,material,material,t,t\n"
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line, errors[0].column.as_deref()),
            ("links.csv", Some(2), Some("quantity"))
        );
        assert_eq!(errors[0].message, "a quantity must be >= 0, found -1e300");
        // HiGHS's tiny negative zeros are within the tolerance.
        let results = read(&format!(
            "{LINKS_HEADER}s,d,a,b,r,r,1,1,-1e-9,0,6,3,3,15,0,material,material,t,t\n"
        ))
        .unwrap();
        assert_eq!(results.links[0].delivered, -1e-9);
    }

    #[test]
    fn problems_name_their_file_line_and_column() {
        let errors = read(&format!(
            "{LINKS_HEADER}s,d,a,zz,r,r,1,x,1,0,6,3,3,15,0,material,material,t,t\n"
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, Some(2));
        assert_eq!(errors[0].column.as_deref(), Some("quantity"));

        let errors = read(&format!(
            "{LINKS_HEADER}s,d,a,zz,r,r,1,1,1,0,6,3,3,15,0,material,material,t,t\n"
        ))
        .unwrap_err();
        assert!(
            errors[0].message.contains("\"zz\" is not in firm_values.csv"),
            "{errors:?}"
        );

        let errors = read("supply_flow_id,demand_flow_id\n").unwrap_err();
        assert!(
            errors.iter().all(|e| e.file == "links.csv" && e.line == Some(1)),
            "{errors:?}"
        );
        assert!(errors[0].hint.as_deref().unwrap().contains("symbiose optimize"));
    }
}
