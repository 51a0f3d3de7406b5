//! The schemas of the two summary tables `uncertainty` writes
//! (docs/model.md D9), here so that a report reading a results folder back
//! takes its columns from the same declaration as the writer
//! (`study::uncertainty`). Every numeric column is optional: it is empty
//! when no sample had a solution.

use std::borrow::Cow;

use super::schema::{Column, Read, TableSchema};
use crate::io::outputs::{LINK_PROBABILITY_CSV, VALUE_QUANTILES_CSV};
use crate::io::Kind;

/// link_probability.csv.
pub static LINK_PROBABILITY: TableSchema = TableSchema {
    file: LINK_PROBABILITY_CSV,
    columns: Cow::Borrowed(&[
        Column::new("supply_flow_id", Kind::Text, Read::Unread),
        Column::new("demand_flow_id", Kind::Text, Read::Unread),
        Column::new("share_used", Kind::OptionalNumber, Read::Unread),
        Column::new("quantity_mean", Kind::OptionalNumber, Read::Unread),
        Column::new("quantity_p05", Kind::OptionalNumber, Read::Unread),
        Column::new("quantity_p50", Kind::OptionalNumber, Read::Unread),
        Column::new("quantity_p95", Kind::OptionalNumber, Read::Unread),
    ]),
};

/// value_quantiles.csv.
pub static VALUE_QUANTILES: TableSchema = TableSchema {
    file: VALUE_QUANTILES_CSV,
    columns: Cow::Borrowed(&[
        Column::new("subject", Kind::Text, Read::Unread),
        Column::new("mean", Kind::OptionalNumber, Read::Unread),
        Column::new("p05", Kind::OptionalNumber, Read::Unread),
        Column::new("p50", Kind::OptionalNumber, Read::Unread),
        Column::new("p95", Kind::OptionalNumber, Read::Unread),
    ]),
};
