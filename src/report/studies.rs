//! The files that `robustness` and `uncertainty` add to a results set, as a
//! report reads them back (typed rows; the tables' schemas are the
//! commands' own, in `report::robustness` and `report::uncertainty`).
//! Pure: no I/O.

/// One row of link_ranges.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRange {
    pub supply_flow_id: String,
    pub demand_flow_id: String,
    pub supplier_firm_id: String,
    pub receiver_firm_id: String,
    pub supply_resource: String,
    pub demand_resource: String,
    pub quantity_optimal: f64,
    pub quantity_min: f64,
    pub quantity_max: f64,
    /// `indispensable`, `optional` or `unused`.
    pub status: String,
}

/// One row of firm_ranges.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmRange {
    pub firm_id: String,
    pub value_optimal_eur: f64,
    pub value_min_eur: f64,
    pub value_max_eur: f64,
}

/// `symbiose robustness`' files.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustnessRead {
    /// robustness.json's objective and slack.
    pub objective: String,
    pub slack: f64,
    pub links: Vec<LinkRange>,
    pub firms: Vec<FirmRange>,
}

/// One row of link_probability.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkProbability {
    pub supply_flow_id: String,
    pub demand_flow_id: String,
    pub share_used: f64,
    pub quantity_mean: f64,
    pub quantity_p05: f64,
    pub quantity_p50: f64,
    pub quantity_p95: f64,
}

/// One row of value_quantiles.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueQuantile {
    /// `territory`, `firms`, `firm:<firm_id>` or `category:<category>`.
    pub subject: String,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

/// `symbiose uncertainty`'s files.
#[derive(Debug, Clone, PartialEq)]
pub struct UncertaintyRead {
    /// Samples drawn (rows of samples.csv).
    pub n_samples: usize,
    /// Samples with a solution, over which shares and quantiles are taken.
    pub n_feasible: usize,
    pub links: Vec<LinkProbability>,
    pub values: Vec<ValueQuantile>,
}

impl UncertaintyRead {
    /// The quantiles of `subject`, if value_quantiles.csv has them.
    pub fn value(&self, subject: &str) -> Option<&ValueQuantile> {
        self.values.iter().find(|row| row.subject == subject)
    }

    /// The probability row of a link, if link_probability.csv has it.
    pub fn link(&self, supply_flow_id: &str, demand_flow_id: &str) -> Option<&LinkProbability> {
        self.links
            .iter()
            .find(|row| row.supply_flow_id == supply_flow_id && row.demand_flow_id == demand_flow_id)
    }
}
