//! From raw tables to a validated [`Inventory`]: typed cells, catalogue
//! overrides by key, every reference resolved, units converted. Every
//! problem is collected; the result is either a whole inventory or the full
//! list of errors, sorted by file, line and column.
//!
//! A reference is reported as unknown only when no row of the target file
//! names it: a row that names an id but has errors of its own, or a file
//! that could not be read, must not bury the real problem under follow-on
//! "unknown firm" errors.
//!
//! One file per group of tables: `catalogue` (externalities, resources,
//! routes, substitutions, impacts), `firms` (firms, distances), `flows`,
//! `slices` (slices, profiles), `processes` (processes, process_io);
//! `keyed` holds the keyed rows and ids they share, `schemas` every file's
//! columns. [`build_inventory`] reads them in that order (catalogue, firms,
//! slices and profiles, flows, processes, distances), which is the order
//! of errors before they are sorted.

mod catalogue;
mod firms;
mod flows;
mod keyed;
mod processes;
mod schemas;
mod slices;

use std::collections::HashMap;

use self::flows::FlowContext;
use super::table::{sort_errors, InputError, InputWarning, RawTable, TableFile};
use super::*;

pub use schemas::{
    DISTANCES_SCHEMA, EXTERNALITIES_SCHEMA, FIRMS_SCHEMA, FLOWS_SCHEMA, IMPACTS_SCHEMA, PROCESSES_SCHEMA,
    PROCESS_IO_SCHEMA, PROFILES_SCHEMA, RESOURCES_SCHEMA, ROUTES_SCHEMA, SLICES_SCHEMA, SUBSTITUTIONS_SCHEMA,
};
pub use slices::PROFILE_SUM_TOLERANCE;

/// The five catalogue tables; any may be absent.
#[derive(Debug, Clone, Default)]
pub struct CatalogueTables {
    pub resources: TableFile,
    pub routes: TableFile,
    pub substitutions: TableFile,
    pub impacts: TableFile,
    pub externalities: TableFile,
}

impl CatalogueTables {
    fn files(&self) -> [&TableFile; 5] {
        [
            &self.resources,
            &self.routes,
            &self.substitutions,
            &self.impacts,
            &self.externalities,
        ]
    }
}

/// Everything an inventory is read from.
///
/// `firms` and `flows` are required: when either is not
/// [`TableFile::Read`], the reader has reported why, [`build_inventory`]
/// still checks every other table but never returns an inventory.
#[derive(Debug, Clone, Default)]
pub struct InventoryTables {
    pub firms: TableFile,
    pub flows: TableFile,
    /// The embedded default catalogue.
    pub default_catalogue: CatalogueTables,
    /// Catalogue files found in the inventory folder: they override default
    /// rows with the same key and add new keys.
    pub catalogue_overrides: CatalogueTables,
    pub distances: TableFile,
    /// docs/model.md B1: slices.csv and profiles.csv (optional).
    pub slices: TableFile,
    pub profiles: TableFile,
    /// docs/model.md B3: processes.csv and process_io.csv (optional).
    pub processes: TableFile,
    pub process_io: TableFile,
}

impl InventoryTables {
    /// Every table that was read, e.g. to order errors by header position.
    pub fn read_tables(&self) -> Vec<&RawTable> {
        [
            &self.firms,
            &self.flows,
            &self.distances,
            &self.slices,
            &self.profiles,
            &self.processes,
            &self.process_io,
        ]
        .into_iter()
        .chain(self.default_catalogue.files())
        .chain(self.catalogue_overrides.files())
        .filter_map(TableFile::table)
        .collect()
    }
}

/// Builds a validated inventory, or returns every error found (sorted by
/// file, line and column). Warnings are returned in both cases.
pub fn build_inventory(tables: &InventoryTables) -> (Result<Inventory, Vec<InputError>>, Vec<InputWarning>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let inventory = Builder {
        errors: &mut errors,
        warnings: &mut warnings,
    }
    .build(tables);
    sort_errors(&mut errors, &tables.read_tables());
    match inventory {
        Some(inventory) if errors.is_empty() => (Ok(inventory), warnings),
        _ => (Err(errors), warnings),
    }
}

/// Reads the tables, group by group, into the problems found so far.
struct Builder<'e> {
    errors: &'e mut Vec<InputError>,
    warnings: &'e mut Vec<InputWarning>,
}

impl Builder<'_> {
    /// The inventory, `None` when any problem was found or a required file
    /// could not be read.
    fn build(&mut self, tables: &InventoryTables) -> Option<Inventory> {
        let keyed_catalogue = self.keyed_catalogue(&tables.default_catalogue, &tables.catalogue_overrides);
        let catalogue = self.catalogue(&keyed_catalogue);

        let firms_keyed = self.firms(&tables.firms);
        let firms: Vec<Firm> = firms_keyed.valid().map(|(_, _, firm)| firm.clone()).collect();
        let firm_ids = firms_keyed.ids(FirmIdx::from_index);

        // docs/model.md B1: time slices and profiles.
        let (slices, slices_given, slice_names) = self.slices(&tables.slices);
        let (profiles, profile_ids) = self.profiles(&tables.profiles, &slices, slice_names.as_ref());
        let context = FlowContext {
            firms: &firm_ids,
            resources: &catalogue.resource_ids,
            routes: &catalogue.route_ids,
            resource_defs: &catalogue.resources,
            route_defs: &catalogue.routes,
            profiles: &profile_ids,
        };
        let mut flows = match &tables.flows {
            TableFile::Read(table) => self.flows(table, &context),
            TableFile::Absent | TableFile::Unreadable => Vec::new(),
        };
        let processes = self.conversion_processes(
            &tables.processes,
            &tables.process_io,
            &context,
            catalogue.process_impacts,
            &mut flows,
        );
        let distance_overrides = match &tables.distances {
            TableFile::Read(table) => self.distances(table, &firm_ids),
            TableFile::Absent | TableFile::Unreadable => HashMap::new(),
        };
        if firms.len() > u32::MAX as usize || flows.len() > u32::MAX as usize {
            let file = tables.flows.table().map_or("flows.csv", |table| table.file.as_str());
            self.errors.push(InputError::file(file, "more than 4 billion rows"));
        }

        let mut substitutions_by_supply = vec![Vec::new(); catalogue.resources.len()];
        for (position, substitution) in catalogue.substitutions.iter().enumerate() {
            substitutions_by_supply[substitution.supply_resource.index()].push(SubstitutionIdx::from_index(position));
        }
        // A required file that could not be read was reported by the reader.
        let required_files_read = tables.firms.table().is_some() && tables.flows.table().is_some();
        if !self.errors.is_empty() || !required_files_read {
            return None;
        }
        let exchange_allowed = vec![true; firms.len()];
        Some(Inventory {
            exchange_allowed,
            slices,
            slices_given,
            profiles,
            processes,
            firms,
            flows,
            resources: catalogue.resources,
            routes: catalogue.routes,
            substitutions: catalogue.substitutions,
            categories: catalogue.categories,
            substitutions_by_supply,
            distance_overrides,
        })
    }
}
