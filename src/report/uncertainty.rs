//! The schemas of the two summary tables `uncertainty` writes
//! (docs/model.md D9), here so that a report reading a results folder back
//! takes its columns from the same declaration as the writer
//! (`study::uncertainty`). Every numeric column is optional: it is empty
//! when no sample had a solution.

use std::borrow::Cow;

use super::results::read_rows;
use super::schema::{Column, Read, TableSchema};
use super::studies::{LinkProbability, UncertaintyRead, ValueQuantile};
use crate::io::outputs::{LINK_PROBABILITY_CSV, VALUE_QUANTILES_CSV};
use crate::io::Kind;
use crate::model::InputError;

/// link_probability.csv.
pub static LINK_PROBABILITY: TableSchema = TableSchema {
    file: LINK_PROBABILITY_CSV,
    columns: Cow::Borrowed(&[
        Column::new("supply_flow_id", Kind::Text, Read::Required),
        Column::new("demand_flow_id", Kind::Text, Read::Required),
        Column::new("share_used", Kind::OptionalNumber, Read::Required),
        Column::new("quantity_mean", Kind::OptionalNumber, Read::Required),
        Column::new("quantity_p05", Kind::OptionalNumber, Read::Required),
        Column::new("quantity_p50", Kind::OptionalNumber, Read::Required),
        Column::new("quantity_p95", Kind::OptionalNumber, Read::Required),
    ]),
};

/// value_quantiles.csv.
pub static VALUE_QUANTILES: TableSchema = TableSchema {
    file: VALUE_QUANTILES_CSV,
    columns: Cow::Borrowed(&[
        Column::new("subject", Kind::Text, Read::Required),
        Column::new("mean", Kind::OptionalNumber, Read::Required),
        Column::new("p05", Kind::OptionalNumber, Read::Required),
        Column::new("p50", Kind::OptionalNumber, Read::Required),
        Column::new("p95", Kind::OptionalNumber, Read::Required),
    ]),
};

/// The part of uncertainty_meta.json a report needs.
#[derive(serde::Deserialize)]
struct MetaRead {
    /// The samples this folder holds (all of them once merged).
    samples: Vec<usize>,
}

/// `uncertainty`'s files as a report reads them back: uncertainty_meta.json
/// (the samples drawn), samples.csv (a row per sample, its status),
/// link_probability.csv and value_quantiles.csv, each `(display name,
/// bytes)`. `None` when none is listed; every problem goes to `errors`.
/// An empty cell (no feasible sample) reads as a share of 0 for a link
/// and drops a value's quantiles (no band is drawn).
pub fn read_uncertainty(
    meta: Option<&(String, Vec<u8>)>,
    samples: Option<&(String, Vec<u8>)>,
    link_probability: Option<&(String, Vec<u8>)>,
    value_quantiles: Option<&(String, Vec<u8>)>,
    errors: &mut Vec<InputError>,
) -> Option<UncertaintyRead> {
    let files = [meta, samples, link_probability, value_quantiles];
    if files.iter().all(Option::is_none) {
        return None;
    }
    let (Some((meta_file, meta)), Some(samples), Some(link_probability), Some(value_quantiles)) =
        (meta, samples, link_probability, value_quantiles)
    else {
        let file = files
            .iter()
            .flatten()
            .map(|(file, _)| file.as_str())
            .next()
            .unwrap_or(LINK_PROBABILITY_CSV);
        errors.push(
            InputError::file(
                file,
                "uncertainty_meta.json, samples.csv, link_probability.csv and value_quantiles.csv come together; summary.json does not list them all",
            )
            .with_hint("run `symbiose uncertainty --out DIR` again"),
        );
        return None;
    };
    let n_samples = match serde_json::from_slice::<MetaRead>(meta) {
        Ok(read) => Some(read.samples.len()),
        Err(e) => {
            errors.push(InputError::at(
                meta_file,
                e.line(),
                None,
                format!("not an uncertainty_meta.json: {e}"),
            ));
            None
        }
    };
    let mut parse = |(file, bytes): &(String, Vec<u8>)| match crate::io::parse_csv(file, bytes) {
        Ok(table) => Some(table),
        Err(more) => {
            errors.extend(more);
            None
        }
    };
    let (samples, link_probability, value_quantiles) =
        (parse(samples), parse(link_probability), parse(value_quantiles));
    // A sample with a solution: status `optimal` or `time_limit`.
    let n_feasible = samples.as_ref().and_then(|table| {
        let status = table.columns.iter().position(|column| column == "status")?;
        Some(
            table
                .rows
                .iter()
                .filter(|row| {
                    matches!(
                        row.cells.get(status).and_then(Option::as_deref),
                        Some("optimal" | "time_limit")
                    )
                })
                .count(),
        )
    });
    let links = read_rows(
        link_probability.as_ref(),
        &LINK_PROBABILITY,
        errors,
        |reader, row, errors| {
            let number = |column: &str, errors: &mut Vec<InputError>| {
                reader
                    .opt_number(row, column, errors)
                    .ok()
                    .map(|value| value.unwrap_or(0.0))
            };
            Some(LinkProbability {
                supply_flow_id: reader.text(row, "supply_flow_id", errors)?,
                demand_flow_id: reader.text(row, "demand_flow_id", errors)?,
                share_used: number("share_used", errors)?,
                quantity_mean: number("quantity_mean", errors)?,
                quantity_p05: number("quantity_p05", errors)?,
                quantity_p50: number("quantity_p50", errors)?,
                quantity_p95: number("quantity_p95", errors)?,
            })
        },
    );
    let values = read_rows(
        value_quantiles.as_ref(),
        &VALUE_QUANTILES,
        errors,
        |reader, row, errors| {
            let subject = reader.text(row, "subject", errors)?;
            let mut number = |column: &str| reader.opt_number(row, column, errors).ok();
            let (mean, p05, p50, p95) = (number("mean")?, number("p05")?, number("p50")?, number("p95")?);
            // `Some(None)`: a subject without quantiles (no feasible sample).
            Some(match (mean, p05, p50, p95) {
                (Some(mean), Some(p05), Some(p50), Some(p95)) => Some(ValueQuantile {
                    subject,
                    mean,
                    p05,
                    p50,
                    p95,
                }),
                _ => None,
            })
        },
    );
    Some(UncertaintyRead {
        n_samples: n_samples?,
        n_feasible: n_feasible?,
        links: links?.into_iter().map(|(row, _)| row).collect(),
        values: values?.into_iter().filter_map(|(row, _)| row).collect(),
    })
}
