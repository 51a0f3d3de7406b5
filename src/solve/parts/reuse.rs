//! What-ifs that re-solve only what they change (issue 13): a solve's parts
//! kept with their models' signatures (`model::signature`: everything the
//! model hands to HiGHS) and what their stages found. A scenario (a sweep
//! point, a firm's exit, a coalition, a banned route) is grouped into
//! parts again; a part whose signature equals the kept part's of its first
//! flow takes the kept solution without a solve, the others are built and
//! solved, and docs/model.md A3's slack is shared again over all of them
//! (`mod.rs`: a kept part whose share shrank below the bound it was solved
//! with is solved again).
//!
//! **Invariant:** a scenario's answer depends only on the kept solve and on
//! the scenario, never on which scenarios were solved before or on which
//! thread: `Reuse` is read, never changed, by the scenarios' solves, so
//! they run in parallel.

use super::{group, prepare, solve_parts, Alone, Grouping, Part, Run};
use crate::candidates::Link;
use crate::model::Inventory;
use crate::solve::engine::Basis;
use crate::solve::lexicographic::Found;
use crate::solve::model::{self, Signature};
use crate::solve::{explained, LpSolution, SolutionStatus, SolveError, SolveOptions};

/// A solve's parts, kept for the what-ifs that change only some of them
/// (module documentation).
#[derive(Debug, Clone)]
pub struct Reuse {
    options: SolveOptions,
    /// Per flow of the kept inventory, its kept part (`usize::MAX`: none).
    part_of_flow: Vec<usize>,
    kept: Vec<(Signature, Found)>,
}

/// How many parts a solve took from a [`Reuse`], how many it solved from a
/// kept basis, and how many it solved from the fallback basis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reused {
    pub kept: usize,
    pub warm: usize,
    pub solved: usize,
}

enum Kept<'a> {
    Same(&'a Found),
    Basis(&'a Basis),
    Nothing,
}

impl Reuse {
    /// Solves `inventory` as [`crate::solve::solve`] does and keeps its parts.
    pub fn solve(
        inventory: &Inventory,
        links: &[Link],
        options: &SolveOptions,
    ) -> Result<(LpSolution, Reuse), SolveError> {
        let (solution, reuse, _) = solve_reusing(inventory, links, options, None)?;
        Ok((solution, reuse))
    }

    /// Solves a what-if of the kept inventory: the parts whose model did
    /// not change keep their solution.
    pub fn resolve(
        &self,
        inventory: &Inventory,
        links: &[Link],
        options: &SolveOptions,
    ) -> Result<(LpSolution, Reused), SolveError> {
        let (solution, _, reused) = solve_reusing(inventory, links, options, Some(self))?;
        Ok((solution, reused))
    }

    /// What the kept solve has for the model `part` is now: its solution if
    /// it is the same model, its first stage's basis if it has the same
    /// shape (a what-if that changes numbers only, such as a firm's exit,
    /// whose flows then carry nothing), nothing otherwise.
    fn kept_for(&self, part: &Part) -> Kept<'_> {
        let found = part
            .scope
            .flows
            .first()
            .and_then(|first| self.part_of_flow.get(*first))
            .and_then(|kept| self.kept.get(*kept));
        match (found, &part.signature) {
            (Some((kept, found)), Some(signature)) if found.status == SolutionStatus::Optimal => {
                if kept == signature {
                    Kept::Same(found)
                } else if kept.same_shape(signature) {
                    found.first_basis.as_ref().map_or(Kept::Nothing, Kept::Basis)
                } else {
                    Kept::Nothing
                }
            }
            _ => Kept::Nothing,
        }
    }
}

fn solve_reusing(
    inventory: &Inventory,
    links: &[Link],
    options: &SolveOptions,
    base: Option<&Reuse>,
) -> Result<(LpSolution, Reuse, Reused), SolveError> {
    let none = |options: &SolveOptions| Reuse {
        options: options.clone(),
        part_of_flow: Vec::new(),
        kept: Vec::new(),
    };
    if !options.decompose || options.bound.is_some() || inventory.flows().is_empty() {
        // One model of everything: nothing to keep apart.
        let solution = crate::solve::solve(inventory, links, options)?;
        return Ok((
            solution,
            none(options),
            Reused {
                solved: 1,
                ..Reused::default()
            },
        ));
    }
    let base = base.filter(|base| base.options == *options);
    let Grouping {
        groups,
        position,
        alone,
    } = group(inventory, links);
    let shares = model::slice_shares(inventory);
    let mut parts = prepare(inventory, links, groups, &position, &shares, options, true);
    let mut reused = Reused::default();
    for part in &mut parts {
        match base.map_or(Kept::Nothing, |base| base.kept_for(part)) {
            Kept::Same(found) => {
                part.keep(found.clone());
                reused.kept += 1;
            }
            Kept::Basis(basis) => {
                part.start = Some(basis.clone());
                reused.warm += 1;
            }
            Kept::Nothing => reused.solved += 1,
        }
    }
    let alone = Alone::new(inventory, alone, options.objective, &shares);
    let run = Run::new(inventory, links, &shares, options);
    let outcome = solve_parts(&mut parts, &alone, &run);
    let solution = explained(inventory, links, options, outcome)?;
    let mut part_of_flow = vec![usize::MAX; inventory.flows().len()];
    let mut kept = Vec::with_capacity(parts.len());
    for (position, part) in parts.into_iter().enumerate() {
        for &flow in &part.scope.flows {
            part_of_flow[flow] = position;
        }
        let found = part.found().clone();
        if let Some(signature) = part.signature {
            kept.push((signature, found));
        }
    }
    Ok((
        solution,
        Reuse {
            options: options.clone(),
            part_of_flow,
            kept,
        },
        reused,
    ))
}
