//! The schemas of the two tables `robustness` writes (docs/model.md D10),
//! here so that a report reading a results folder back takes its columns
//! from the same declaration as the writer (`study::robustness`).

use std::borrow::Cow;

use super::schema::{Column, Read, TableSchema};
use crate::io::outputs::{FIRM_RANGES_CSV, LINK_RANGES_CSV};
use crate::io::Kind;

/// link_ranges.csv: one row per candidate link, sorted by the two flow ids.
pub static LINK_RANGES: TableSchema = TableSchema {
    file: LINK_RANGES_CSV,
    columns: Cow::Borrowed(&[
        Column::new("supply_flow_id", Kind::Text, Read::Required),
        Column::new("demand_flow_id", Kind::Text, Read::Required),
        Column::new("supplier_firm_id", Kind::Text, Read::Required),
        Column::new("receiver_firm_id", Kind::Text, Read::Required),
        Column::new("supply_resource", Kind::Text, Read::Required),
        Column::new("demand_resource", Kind::Text, Read::Required),
        Column::new("quantity_optimal", Kind::Number, Read::Required),
        Column::new("quantity_min", Kind::Number, Read::Required),
        Column::new("quantity_max", Kind::Number, Read::Required),
        Column::new("status", Kind::Text, Read::Required),
    ]),
};

/// firm_ranges.csv: one row per firm, sorted by id.
pub static FIRM_RANGES: TableSchema = TableSchema {
    file: FIRM_RANGES_CSV,
    columns: Cow::Borrowed(&[
        Column::new("firm_id", Kind::Text, Read::Required),
        Column::new("value_optimal_eur", Kind::Number, Read::Required),
        Column::new("value_min_eur", Kind::Number, Read::Required),
        Column::new("value_max_eur", Kind::Number, Read::Required),
    ]),
};

/// `robustness`' three files as a report reads them back (`None` when
/// summary.json lists none of them; each listed without the others is a
/// problem at its file).
pub fn read_robustness(
    json: Option<&(String, Vec<u8>)>,
    links: Option<&(String, Vec<u8>)>,
    firms: Option<&(String, Vec<u8>)>,
    errors: &mut Vec<crate::model::InputError>,
) -> Option<super::studies::RobustnessRead> {
    use super::studies::{FirmRange, LinkRange, RobustnessRead};
    use crate::model::InputError;
    let (json, links, firms) = match (json, links, firms) {
        (None, None, None) => return None,
        (Some(json), Some(links), Some(firms)) => (json, links, firms),
        (json, links, firms) => {
            for (file, _) in [json, links, firms].into_iter().flatten() {
                errors.push(
                    InputError::file(
                        file,
                        "robustness.json, link_ranges.csv and firm_ranges.csv come together; the others are not all listed",
                    )
                    .with_hint("run `symbiose robustness --out DIR` again"),
                );
            }
            return None;
        }
    };
    /// The part of robustness.json a report needs.
    #[derive(serde::Deserialize)]
    struct Meta {
        objective: String,
        slack: f64,
    }
    let meta = match serde_json::from_slice::<Meta>(&json.1) {
        Ok(meta) => Some(meta),
        Err(e) => {
            errors.push(InputError::at(
                &json.0,
                e.line(),
                None,
                format!("not a robustness.json: {e}"),
            ));
            None
        }
    };
    let parse =
        |(file, bytes): &(String, Vec<u8>), errors: &mut Vec<InputError>| match crate::io::parse_csv(file, bytes) {
            Ok(table) => Some(table),
            Err(more) => {
                errors.extend(more);
                None
            }
        };
    let links_table = parse(links, errors);
    let firms_table = parse(firms, errors);
    let link_rows = super::results::read_rows(links_table.as_ref(), &LINK_RANGES, errors, |reader, row, errors| {
        Some(LinkRange {
            supply_flow_id: reader.text(row, "supply_flow_id", errors)?,
            demand_flow_id: reader.text(row, "demand_flow_id", errors)?,
            supplier_firm_id: reader.text(row, "supplier_firm_id", errors)?,
            receiver_firm_id: reader.text(row, "receiver_firm_id", errors)?,
            supply_resource: reader.text(row, "supply_resource", errors)?,
            demand_resource: reader.text(row, "demand_resource", errors)?,
            quantity_optimal: reader.number(row, "quantity_optimal", errors)?,
            quantity_min: reader.number(row, "quantity_min", errors)?,
            quantity_max: reader.number(row, "quantity_max", errors)?,
            status: reader.text(row, "status", errors)?,
        })
    });
    let firm_rows = super::results::read_rows(firms_table.as_ref(), &FIRM_RANGES, errors, |reader, row, errors| {
        Some(FirmRange {
            firm_id: reader.text(row, "firm_id", errors)?,
            value_optimal_eur: reader.number(row, "value_optimal_eur", errors)?,
            value_min_eur: reader.number(row, "value_min_eur", errors)?,
            value_max_eur: reader.number(row, "value_max_eur", errors)?,
        })
    });
    let meta = meta?;
    Some(RobustnessRead {
        objective: meta.objective,
        slack: meta.slack,
        links: link_rows?.into_iter().map(|(row, _)| row).collect(),
        firms: firm_rows?.into_iter().map(|(row, _)| row).collect(),
    })
}
