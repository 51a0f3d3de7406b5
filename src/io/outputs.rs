//! The registry of output files: the name of every file a command writes,
//! grouped by the command family that writes it.
//!
//! Owns: the names. The writers (`report`, `app`, `scenario`) spell no
//! output file name of their own, and `io` decides from [`Family::files`]
//! what an output folder may hold and which files of an earlier run it
//! removes, so the two cannot drift apart.
//! Must not do I/O or depend on any other module (everything above uses it).

/// The format of the result tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableFormat {
    #[default]
    Csv,
    Parquet,
    /// The CSV tables, and results.xlsx holding them as sheets.
    Xlsx,
}

/// A result table, written as `STEM.csv` or, with `--format parquet`,
/// as its `STEM.parquet` twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub csv: &'static str,
    pub parquet: &'static str,
}

impl Table {
    /// The table's file name in this format.
    pub fn file(self, format: TableFormat) -> &'static str {
        match format {
            TableFormat::Csv | TableFormat::Xlsx => self.csv,
            TableFormat::Parquet => self.parquet,
        }
    }

    /// The table whose CSV or Parquet file is called `name`.
    pub fn named(name: &str) -> Option<Table> {
        A5_TABLES
            .into_iter()
            .chain(PART_B_TABLES)
            .find(|table| table.csv == name || table.parquet == name)
    }
}

macro_rules! tables {
    ($($(#[$doc:meta])* $name:ident = $stem:literal;)*) => {
        $($(#[$doc])* pub const $name: Table = Table {
            csv: concat!($stem, ".csv"),
            parquet: concat!($stem, ".parquet"),
        };)*
    };
}

tables! {
    /// docs/model.md A5: one row per link used.
    LINKS = "links";
    FLOW_RESULTS = "flow_results";
    FIRM_VALUES = "firm_values";
    TERRITORY_VALUES = "territory_values";
    /// docs/model.md Part B, each only for an inventory that uses that part.
    PROCESSES = "processes";
    INVESTMENTS = "investments";
    FLOW_SLICES = "flow_slices";
    LINK_SLICES = "link_slices";
    SERVICES = "services";
}

/// The four tables of docs/model.md A5, in the order `optimize` writes them.
pub const A5_TABLES: [Table; 4] = [LINKS, FLOW_RESULTS, FIRM_VALUES, TERRITORY_VALUES];
/// The Part B tables, in the order `optimize` writes them.
pub const PART_B_TABLES: [Table; 5] = [PROCESSES, INVESTMENTS, FLOW_SLICES, LINK_SLICES, SERVICES];

/// `optimize` and `run`: the run's figures and the list of the set's files.
pub const SUMMARY: &str = "summary.json";
pub const PROFILE: &str = "territory_profile.json";
pub const FIRMS_GEOJSON: &str = "firms.geojson";
pub const LINKS_GEOJSON: &str = "links.geojson";
/// The HTML report (`optimize --report`, or `symbiose report`).
pub const REPORT: &str = "report.html";
/// The result tables as one workbook (`--format xlsx`).
pub const RESULTS_XLSX: &str = "results.xlsx";
/// Derived from the tables read back, in the order `optimize` writes them.
pub const DERIVED: [&str; 4] = [PROFILE, FIRMS_GEOJSON, LINKS_GEOJSON, REPORT];

/// `uncertainty` (docs/model.md D9): added to the results set of the
/// deterministic base, so part of [`Family::Results`].
pub const SAMPLES_CSV: &str = "samples.csv";
pub const SAMPLE_VALUES_CSV: &str = "sample_values.csv";
pub const SAMPLE_LINKS_CSV: &str = "sample_links.csv";
pub const LINK_PROBABILITY_CSV: &str = "link_probability.csv";
pub const VALUE_QUANTILES_CSV: &str = "value_quantiles.csv";
pub const UNCERTAINTY_META: &str = "uncertainty_meta.json";
/// The files `uncertainty` adds to a results set, in the order it writes them.
pub const UNCERTAINTY_FILES: [&str; 6] = [
    SAMPLES_CSV,
    SAMPLE_VALUES_CSV,
    SAMPLE_LINKS_CSV,
    LINK_PROBABILITY_CSV,
    VALUE_QUANTILES_CSV,
    UNCERTAINTY_META,
];

/// `robustness` (docs/model.md D10): added to the results set of the
/// optimum, so part of [`Family::Results`].
pub const LINK_RANGES_CSV: &str = "link_ranges.csv";
pub const FIRM_RANGES_CSV: &str = "firm_ranges.csv";
pub const ROBUSTNESS_JSON: &str = "robustness.json";
/// The files `robustness` adds to a results set, in the order it writes them.
pub const ROBUSTNESS_FILES: [&str; 3] = [LINK_RANGES_CSV, FIRM_RANGES_CSV, ROBUSTNESS_JSON];

/// `sweep` and `merge`.
pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_META: &str = "sweep_meta.json";
pub const SWEEP_SVG: &str = "sweep.svg";
/// `resilience`.
pub const RESILIENCE_CSV: &str = "resilience.csv";
/// `pareto`.
pub const PARETO_CSV: &str = "pareto.csv";
pub const PARETO_SVG: &str = "pareto.svg";
pub const PARETO_SUMMARY: &str = "pareto_summary.json";
/// `schemes`: written beside the results set of the descending optimum.
pub const SCHEMES_JSON: &str = "schemes.json";
pub const SCHEMES_FIRMS_CSV: &str = "schemes_firms.csv";
pub const SCHEMES_LINKS_CSV: &str = "schemes_links.csv";
/// The files `schemes` adds to a results set.
pub const SCHEMES: [&str; 3] = [SCHEMES_JSON, SCHEMES_FIRMS_CSV, SCHEMES_LINKS_CSV];
/// `policy`.
pub const POLICY_JSON: &str = "policy.json";
pub const POLICY_CSV: &str = "policy.csv";
pub const POLICY_SVG: &str = "policy.svg";
/// `compare`.
pub const COMPARE_FIRMS_CSV: &str = "compare_firms.csv";
pub const COMPARE_TERRITORY_CSV: &str = "compare_territory.csv";
pub const COMPARE_LINKS_CSV: &str = "compare_links.csv";
/// `catalogue`: the default catalogue (`io::DEFAULT_CATALOGUE` holds the bytes).
pub const CATALOGUE: [&str; 6] = [
    "resources.csv",
    "routes.csv",
    "substitutions.csv",
    "impacts.csv",
    "externalities.csv",
    "SOURCES.md",
];
/// `generate`: a synthetic inventory.
pub const TERRITORY: [&str; 3] = ["firms.csv", "flows.csv", "distances.csv"];

/// The commands that write an output folder, grouped by the files they
/// write: a folder holding files of one family is an earlier output of
/// that family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `optimize` and `run`.
    Results,
    /// `sweep` and `merge`.
    Sweep,
    Resilience,
    Pareto,
    Catalogue,
    /// `generate`.
    Territory,
    /// `compare`.
    Compare,
    /// `policy`.
    Policy,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Results,
        Family::Sweep,
        Family::Resilience,
        Family::Pareto,
        Family::Catalogue,
        Family::Territory,
        Family::Compare,
        Family::Policy,
    ];

    /// Every file a command of this family may write (not all in every run).
    pub fn files(self) -> Vec<&'static str> {
        match self {
            Family::Results => std::iter::once(SUMMARY)
                .chain(
                    A5_TABLES
                        .into_iter()
                        .chain(PART_B_TABLES)
                        .flat_map(|table| [table.csv, table.parquet]),
                )
                .chain(DERIVED)
                .chain([RESULTS_XLSX])
                .chain(SCHEMES)
                .chain(UNCERTAINTY_FILES)
                .chain(ROBUSTNESS_FILES)
                .collect(),
            Family::Sweep => vec![SWEEP_CSV, SWEEP_META, SWEEP_SVG],
            Family::Resilience => vec![RESILIENCE_CSV],
            Family::Pareto => vec![PARETO_CSV, PARETO_SVG, PARETO_SUMMARY],
            Family::Catalogue => CATALOGUE.to_vec(),
            Family::Territory => TERRITORY.to_vec(),
            Family::Compare => vec![COMPARE_FIRMS_CSV, COMPARE_TERRITORY_CSV, COMPARE_LINKS_CSV],
            Family::Policy => vec![POLICY_JSON, POLICY_CSV, POLICY_SVG],
        }
    }

    /// Whether the family's names are also names of a user's own files (an
    /// inventory's): then a file of that name is replaced only when
    /// symbiose wrote it, unless the user forces it.
    pub fn names_user_files(self) -> bool {
        matches!(self, Family::Catalogue | Family::Territory)
    }

    /// The command that writes this family, as messages name it.
    pub fn command(self) -> &'static str {
        match self {
            Family::Results => "optimize",
            Family::Sweep => "sweep",
            Family::Resilience => "resilience",
            Family::Pareto => "pareto",
            Family::Catalogue => "catalogue",
            Family::Territory => "generate",
            Family::Compare => "compare",
            Family::Policy => "policy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_name_belongs_to_two_families() {
        let mut seen = std::collections::HashMap::new();
        for family in Family::ALL {
            for name in family.files() {
                if let Some(other) = seen.insert(name, family) {
                    panic!("{name} is in {other:?} and {family:?}");
                }
            }
        }
        // Each table has both twins.
        assert!(Family::Results.files().contains(&"link_slices.parquet"));
        assert_eq!(Table::named("services.parquet"), Some(SERVICES));
        assert_eq!(Table::named("summary.json"), None);
    }
}
