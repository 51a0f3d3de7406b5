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

use super::{group, prepare, solve_parts, Alone, Part, Run};
use crate::candidates::Link;
use crate::model::Inventory;
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

/// How many parts a solve took from a [`Reuse`] and how many it solved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reused {
    pub kept: usize,
    pub solved: usize,
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

    /// The kept solution of the model `part` is now, if it is the same model.
    fn found_for(&self, part: &Part) -> Option<&Found> {
        let first = *part.scope.flows.first()?;
        let kept = *self.part_of_flow.get(first)?;
        let (signature, found) = self.kept.get(kept)?;
        (part.signature.as_ref() == Some(signature) && found.status == SolutionStatus::Optimal).then_some(found)
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
        return Ok((solution, none(options), Reused { kept: 0, solved: 1 }));
    }
    let base = base.filter(|base| base.options == *options);
    let grouping = group(inventory, links);
    let shares = model::slice_shares(inventory);
    let mut parts = prepare(inventory, links, &grouping, &shares, options, true);
    let mut reused = Reused::default();
    for part in &mut parts {
        match base.and_then(|base| base.found_for(part)) {
            Some(found) => {
                part.keep(found.clone());
                reused.kept += 1;
            }
            None => reused.solved += 1,
        }
    }
    let alone = Alone::new(inventory, grouping.alone.clone(), options.objective, &shares);
    let mut run = Run::new(inventory, links, &shares, options);
    let outcome = solve_parts(&mut parts, &alone, &mut run);
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
