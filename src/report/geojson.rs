//! firms.geojson and links.geojson (RFC 7946) for GIS users: one Point
//! Feature per firm, one LineString Feature per link in use, from supplier
//! to receiver, with the table columns as properties. Pure: no I/O.
//!
//! Coordinates are [lon, lat] in WGS84, as RFC 7946 requires; a link's line
//! is a straight sketch between the two firms, not the route of a pipe.

use serde::Serialize;

use crate::report::results::{FirmRow, LinkRow, Results};

#[derive(Debug, Serialize)]
struct FeatureCollection<P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<Feature<P>>,
}

#[derive(Debug, Serialize)]
struct Feature<P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    geometry: Geometry,
    properties: P,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type")]
enum Geometry {
    Point { coordinates: [f64; 2] },
    LineString { coordinates: Vec<[f64; 2]> },
}

/// A link's properties: its links.csv row plus the two firms' names.
#[derive(Debug, Serialize)]
struct LinkProperties<'a> {
    #[serde(flatten)]
    row: &'a LinkRow,
    supplier_name: &'a str,
    receiver_name: &'a str,
}

/// A firm's properties: its firm_values.csv row plus whether it takes part.
#[derive(Debug, Serialize)]
struct FirmProperties<'a> {
    #[serde(flatten)]
    row: &'a FirmRow,
    taking_part: bool,
}

fn to_bytes(value: &impl Serialize) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// firms.geojson: every firm of firm_values.csv, in its order.
pub fn firms_geojson(results: &Results) -> serde_json::Result<Vec<u8>> {
    let collection = FeatureCollection {
        kind: "FeatureCollection",
        features: results
            .firms
            .iter()
            .map(|firm| Feature {
                kind: "Feature",
                id: firm.firm_id.clone(),
                geometry: Geometry::Point {
                    coordinates: [firm.lon, firm.lat],
                },
                properties: FirmProperties {
                    row: firm,
                    taking_part: firm.n_links > 0,
                },
            })
            .collect(),
    };
    to_bytes(&collection)
}

/// links.geojson: every link of links.csv, in its order. Firms are found by
/// id ([`Results`] guarantees they exist).
pub fn links_geojson(results: &Results) -> serde_json::Result<Vec<u8>> {
    let features = results
        .links
        .iter()
        .filter_map(|link| {
            let supplier = results.firm(&link.supplier_firm_id)?;
            let receiver = results.firm(&link.receiver_firm_id)?;
            Some(Feature {
                kind: "Feature",
                id: format!("{}>{}", link.supply_flow_id, link.demand_flow_id),
                geometry: Geometry::LineString {
                    coordinates: vec![[supplier.lon, supplier.lat], [receiver.lon, receiver.lat]],
                },
                properties: LinkProperties {
                    row: link,
                    supplier_name: &supplier.name,
                    receiver_name: &receiver.name,
                },
            })
        })
        .collect();
    to_bytes(&FeatureCollection {
        kind: "FeatureCollection",
        features,
    })
}
