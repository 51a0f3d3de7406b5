//! processes.csv and process_io.csv (docs/model.md B3, B4): conversion
//! processes, their impacts, and their inputs and outputs as flows of the
//! process's firm.
//!
//! Invariant: processes are sorted by id; each input is a demand without
//! fallback and each output a supply with a disposal fallback (a service
//! output may go without), appended to the flows in process order, inputs
//! first, then by resource; a process with a fixed cost has a capacity.

use std::collections::HashSet;

use super::catalogue::ProcessImpact;
use super::flows::{fallback_terms, FlowContext};
use super::keyed::{key_in, Ids, OwnedIds, Place};
use super::schemas::{PROCESSES_SCHEMA, PROCESS_IO_SCHEMA};
use super::Builder;
use crate::model::table::{InputError, InputWarning, RawRow, RawTable, Rule, TableFile, TableReader};
use crate::model::*;

/// Where a process row is, to locate problems found later (process_io.csv).
#[derive(Debug, Clone)]
pub(super) struct ProcessPlace {
    pub(super) place: Place,
}

impl Builder<'_> {
    /// processes.csv and process_io.csv (docs/model.md B3): the processes,
    /// the impacts that name them, and their inputs and outputs appended to
    /// `flows`. A process without any is warned about.
    pub(super) fn conversion_processes(
        &mut self,
        processes_file: &TableFile,
        process_io_file: &TableFile,
        context: &FlowContext,
        process_impacts: Vec<ProcessImpact>,
        flows: &mut Vec<Flow>,
    ) -> Vec<Process> {
        let (mut processes, process_ids) = self.processes(processes_file, context.firms);
        for ProcessImpact {
            process,
            place,
            category,
            amount,
        } in process_impacts
        {
            let found = process_ids.resolve(&process, self.errors, || {
                place
                    .error(
                        "subject",
                        format!("subject \"process:{process}\" names no known process"),
                    )
                    .with_hint("add the process to processes.csv in the inventory folder, or fix the spelling")
            });
            if let Some(found) = found {
                add_scaled(&mut processes[found.index()].0.impacts, &[(category, amount)], 1.0);
            }
        }
        if let TableFile::Read(table) = process_io_file {
            self.process_io(table, context, &process_ids, &mut processes, flows);
        }
        for (process, place) in &processes {
            if process.ports.is_empty() {
                self.warnings.push(InputWarning {
                    file: place.place.file.clone(),
                    line: Some(place.place.line),
                    message: format!(
                        "process {:?} has no input or output in process_io.csv: it can do nothing",
                        process.id
                    ),
                });
            }
        }
        processes.into_iter().map(|(process, _)| process).collect()
    }

    /// processes.csv (docs/model.md B3 and B4), sorted by id, each with where its row is.
    pub(super) fn processes(
        &mut self,
        file: &TableFile,
        firms: &Ids<FirmIdx>,
    ) -> (Vec<(Process, ProcessPlace)>, OwnedIds<ProcessIdx>) {
        let (mut ids, table) = OwnedIds::for_file(file);
        let Some(table) = table else {
            return (Vec::new(), ids);
        };
        let keyed = self.parse_keyed(table, &PROCESSES_SCHEMA, &key_in("process_id"), &mut |reader, row, errors| {
            let id = reader.text(row, "process_id", errors);
            let firm = reader.text(row, "firm_id", errors).and_then(|firm| {
                firms.resolve(&firm, errors, || {
                    InputError::at(&table.file, row.line, Some("firm_id"), format!("unknown firm {firm:?}"))
                        .with_hint("the firm that runs the process must be listed in firms.csv")
                })
            });
            let capacity = reader.opt_number(row, "capacity", errors);
            let capacity = match capacity {
                Ok(Some(capacity)) => reader
                    .check(
                        row,
                        "capacity",
                        Some(capacity),
                        Rule {
                            holds: |v| v >= 0.0,
                            message: "capacity must be >= 0",
                            hint: "give the most activity units the process can run in a year, or leave the cell empty for no limit",
                        },
                        errors,
                    )
                    .map(Some),
                Ok(None) => Some(None),
                Err(_) => None,
            };
            let cost = reader.number(row, "cost_eur_per_activity", errors);
            let fixed = match reader.opt_number(row, "fixed_cost_eur_per_year", errors) {
                Ok(Some(fixed)) => reader.check(
                    row,
                    "fixed_cost_eur_per_year",
                    Some(fixed),
                    Rule {
                        holds: |v| v >= 0.0,
                        message: "fixed cost must be >= 0",
                        hint: "give the annual cost of having the process (annualised investment, fixed staff), or leave the cell empty for none",
                    },
                    errors,
                ),
                Ok(None) => Some(0.0),
                Err(_) => None,
            };
            let (id, firm, capacity, cost, fixed) = (id?, firm?, capacity?, cost?, fixed?);
            if fixed > 0.0 && capacity.is_none() {
                errors.push(
                    InputError::at(&table.file, row.line, Some("capacity"), format!("process {id:?} has a fixed cost but no capacity"))
                        .with_hint("a process with a fixed cost is an investment (docs/model.md B4: activity <= capacity * built): give its capacity in activity units per year"),
                );
                return None;
            }
            Some(Process {
                id,
                firm,
                capacity,
                cost_eur_per_activity: cost,
                fixed_cost_eur_per_year: fixed,
                impacts: Vec::new(),
                ports: Vec::new(),
            })
        });
        ids.complete = keyed.complete;
        let mut processes: Vec<(Process, ProcessPlace)> = Vec::new();
        for row in keyed.rows {
            ids.named.insert(row.key.clone());
            if let Some(process) = row.record {
                processes.push((process, ProcessPlace { place: row.place }));
            }
        }
        processes.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        for (position, (process, _)) in processes.iter().enumerate() {
            ids.valid.insert(process.id.clone(), ProcessIdx::from_index(position));
        }
        (processes, ids)
    }

    /// process_io.csv (docs/model.md B3): each row becomes a flow of the
    /// process's firm, an input (a demand with no fallback) or an output (a
    /// supply with a disposal fallback), appended to `flows` in process
    /// order, inputs first, then by resource.
    pub(super) fn process_io(
        &mut self,
        table: &RawTable,
        context: &FlowContext,
        process_ids: &OwnedIds<ProcessIdx>,
        processes: &mut [(Process, ProcessPlace)],
        flows: &mut Vec<Flow>,
    ) {
        let flow_ids: HashSet<String> = flows.iter().map(|flow| flow.id.clone()).collect();
        let processes_view: &[(Process, ProcessPlace)] = processes;
        let mut capacity_errors: Vec<InputError> = Vec::new();
        let triple_key = |reader: &TableReader, row: &RawRow| {
            Some((
                reader.cell(row, "process_id")?.to_string(),
                reader.cell(row, "resource")?.to_string(),
                reader.cell(row, "direction")?.to_string(),
            ))
        };
        let keyed = self.parse_keyed(table, &PROCESS_IO_SCHEMA, &triple_key, &mut |reader, row, errors| {
            let at = |column: &str, message: String| InputError::at(&table.file, row.line, Some(column), message);
            let process = reader.text(row, "process_id", errors).and_then(|process| {
                process_ids.resolve(&process, errors, || {
                    at("process_id", format!("unknown process {process:?}")).with_hint("the process must be listed in processes.csv")
                })
            });
            let resource = reader.text(row, "resource", errors).and_then(|resource| {
                context.resources.resolve(&resource, errors, || {
                    at("resource", format!("unknown resource {resource:?}")).with_hint("add it to resources.csv in the inventory folder, or use a key of the default catalogue (symbiose catalogue --out DIR lists them)")
                })
            });
            let direction = reader.choice(row, "direction", &[("in", FlowKind::Demand), ("out", FlowKind::Supply)], errors);
            let per_activity = reader.number_where(
                row,
                "per_activity",
                Rule {
                    holds: |v| v > 0.0,
                    message: "per_activity must be > 0",
                    hint: "give the resource units taken or given per activity unit; remove the row if the process does not use the resource",
                },
                errors,
            );
            let quality = reader.opt_number(row, "quality", errors);
            // The fallback depends on the direction and the resource only:
            // it is checked even when the process's own row has errors.
            let (resource, kind) = (resource?, direction?);
            let resource_def = &context.resource_defs[resource.index()];
            let service = resource_def.category == ResourceCategory::Service;
            let fallback = match (kind, reader.opt_text(row, "fallback")) {
                (FlowKind::Demand, Some(route)) => {
                    errors.push(
                        at("fallback", format!("an input of a process has no fallback, found {route:?}"))
                            .with_hint("leave the cell empty: a process takes its inputs from links only, and runs less when they are short (docs/model.md B3)"),
                    );
                    return None;
                }
                (FlowKind::Demand, None) => None,
                (FlowKind::Supply, Some(route)) => Some(context.routes.resolve(&route, errors, || {
                    at("fallback", format!("unknown route {route:?}")).with_hint("add it to routes.csv or use a route of the default catalogue")
                })?),
                (FlowKind::Supply, None) if service => None,
                (FlowKind::Supply, None) => {
                    errors.push(
                        at("fallback", "empty value".to_string())
                            .with_hint("an output of a process needs a disposal route for what no link takes (only a service output may leave it empty)"),
                    );
                    return None;
                }
            };
            let (fallback_units_per_unit, fallback_cost_eur, fallback_impacts) = match fallback {
                Some(route) => {
                    let terms = fallback_terms(&context.route_defs[route.index()], resource_def, kind, |column, message| at(column, message)).map_err(|error| errors.push(error)).ok()?;
                    // The idle capacity of a service output is costless (docs/model.md B2).
                    if service {
                        (terms.0, 0.0, Vec::new())
                    } else {
                        terms
                    }
                }
                None => (1.0, 0.0, Vec::new()),
            };
            let (process, per_activity, quality) = (process?, per_activity?, quality.ok()?);
            let (process_def, process_place) = &processes_view[process.index()];
            let direction_word = if kind == FlowKind::Demand { "in" } else { "out" };
            let id = format!("{}:{direction_word}:{}", process_def.id, resource_def.id);
            if flow_ids.contains(&id) {
                errors.push(
                    at("resource", format!("this row's flow id {id:?} is already a flow_id of flows.csv"))
                        .with_hint("rename the flow in flows.csv: process inputs and outputs are named <process>:<in|out>:<resource>"),
                );
                return None;
            }
            if kind == FlowKind::Supply && resource_def.link_fixed_cost_eur_per_km_year > 0.0 && process_def.capacity.is_none() {
                capacity_errors.push(
                    process_place
                        .place
                        .error("capacity", format!("process {:?} has no capacity, but its output {:?} travels on links with a fixed cost", process_def.id, resource_def.id))
                        .with_hint("give the process a capacity: a link with a fixed cost needs a bound on what it can carry (docs/model.md B4)"),
                );
            }
            let quantity = process_def.capacity.map_or(f64::INFINITY, |capacity| per_activity * capacity);
            Some(Flow {
                id,
                firm: process_def.firm,
                kind,
                resource,
                quantity,
                unit: resource_def.unit.clone(),
                unit_factor: 1.0,
                fallback,
                fallback_units_per_unit,
                fallback_cost_eur,
                fallback_impacts,
                quality,
                profile: None,
                process: Some(ProcessPort { process, per_activity }),
            })
        });
        self.errors.extend(capacity_errors);
        let mut ports: Vec<Flow> = keyed.rows.into_iter().filter_map(|row| row.record).collect();
        ports.sort_by(|a, b| {
            let key = |flow: &Flow| {
                (
                    flow.process.map(|port| port.process),
                    flow.kind == FlowKind::Supply,
                    context.resource_defs[flow.resource.index()].id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        for port in ports {
            let position = FlowIdx::from_index(flows.len());
            if let Some(ProcessPort { process, .. }) = port.process {
                processes[process.index()].0.ports.push(position);
            }
            flows.push(port);
        }
    }
}
