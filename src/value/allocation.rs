//! How the firms' value is shared beyond the supplier share of
//! docs/model.md A4: the Shapley value of each firm in the game
//! v(S) = C_base(S) - C(S), exact up to [`SHAPLEY_EXACT_MAX_PLAYERS`]
//! players, sampled over permutations beyond.
//!
//! Invariant: the values depend only on the inventory, the options and the
//! number of samples (a fixed seed per permutation), never on the thread
//! count; they sum to v(grand coalition) (exactly when enumerated).

use rayon::prelude::*;

use crate::candidates::candidate_links;
use crate::model::{Edit, FirmIdx, Inventory};
use crate::progress::Progress;
use crate::solve::{SolveError, SolveOptions};

use super::optimize_inventory;

/// Why Shapley values could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ShapleyError {
    /// A limit of the program (too many players) or too few samples.
    #[error("{0}")]
    Limit(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

/// Shapley values of the firms in the game v(S) = C_base(S) - C(S): the
/// private cost saved when only the firms of S may exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapleyValues {
    /// Per firm, in inventory order.
    pub values: Vec<f64>,
    /// Standard error per firm (0 for exact enumeration).
    pub standard_errors: Vec<f64>,
    pub exact: bool,
    /// v(grand coalition): the sum of the values.
    pub grand_coalition_eur: f64,
}

/// Largest number of players enumerated exactly (2^12 coalitions).
pub const SHAPLEY_EXACT_MAX_PLAYERS: usize = 12;

/// v(S) for a coalition given as a bit set over `players`.
fn coalition_value(
    inventory: &Inventory,
    players: &[FirmIdx],
    coalition: u64,
    options: &SolveOptions,
) -> Result<f64, SolveError> {
    // Firms outside S keep their flows (on their fallbacks in both C_base(S)
    // and C(S), so they cancel); only their links disappear. Outsiders that
    // are not players have no candidate links at all.
    let outsiders: Vec<Edit> = players
        .iter()
        .enumerate()
        .filter(|(bit, _)| coalition & (1 << bit) == 0)
        .map(|(_, firm)| Edit::ForbidExchange(*firm))
        .collect();
    let restricted = inventory
        .edited(&outsiders)
        .expect("forbidding a firm to exchange is never refused (model::edit)");
    let (_, _, valuation) = optimize_inventory(&restricted, options, 0.5)?;
    Ok(valuation.firm_value_eur)
}

/// Largest number of players permutation sampling handles: a coalition is
/// a 64-bit set. Beyond, `--allocation shapley` is refused (exit code 2).
pub const SHAPLEY_MAX_PLAYERS: usize = 64;

/// Fewest permutations sampled: a standard error needs two.
pub const SHAPLEY_MIN_SAMPLES: usize = crate::options::MIN_SAMPLES;

/// The players of the Shapley game: firms with at least one candidate link
/// (the others are null players), in inventory order.
pub fn shapley_players(inventory: &Inventory, links: &[crate::candidates::Link]) -> Vec<FirmIdx> {
    let mut is_player = vec![false; inventory.firms().len()];
    for link in links {
        is_player[inventory.flow(link.supply).firm.index()] = true;
        is_player[inventory.flow(link.demand).firm.index()] = true;
    }
    (0..is_player.len())
        .filter(|firm| is_player[*firm])
        .map(FirmIdx::from_index)
        .collect()
}

/// Whether Shapley values of `inventory` can be computed with `samples`
/// permutations: refused, saying what the limit is and what to do, beyond
/// [`SHAPLEY_MAX_PLAYERS`] players (when sampling is needed) or with fewer
/// than [`SHAPLEY_MIN_SAMPLES`] samples.
pub fn check_shapley(inventory: &Inventory, samples: usize) -> Result<(), String> {
    let n_players = shapley_players(inventory, &candidate_links(inventory)).len();
    check_shapley_players(n_players, samples)
}

fn check_shapley_players(n_players: usize, samples: usize) -> Result<(), String> {
    if n_players > SHAPLEY_MAX_PLAYERS {
        return Err(format!(
            "--allocation shapley handles at most {SHAPLEY_MAX_PLAYERS} firms with candidate links, this territory has {n_players}: use --allocation equal, or a territory with fewer firms (remove_firms in a scenario file)"
        ));
    }
    if n_players > SHAPLEY_EXACT_MAX_PLAYERS && samples < SHAPLEY_MIN_SAMPLES {
        return Err(format!(
            "--samples {samples}: sampled Shapley values need at least {SHAPLEY_MIN_SAMPLES} permutations (a standard error divides by samples - 1)"
        ));
    }
    Ok(())
}

/// Exact Shapley values up to [`SHAPLEY_EXACT_MAX_PLAYERS`] firms with
/// candidate links, permutation sampling (in parallel, `samples`
/// permutations, deterministic seed) beyond, up to [`SHAPLEY_MAX_PLAYERS`]
/// (see [`check_shapley`] for what is refused).
pub fn shapley(
    inventory: &Inventory,
    options: &SolveOptions,
    samples: usize,
    progress: &dyn Progress,
) -> Result<ShapleyValues, ShapleyError> {
    let mut options = options.clone();
    options.threads = Some(1);
    let links = candidate_links(inventory);
    let players = shapley_players(inventory, &links);
    let n = players.len();
    check_shapley_players(n, samples).map_err(ShapleyError::Limit)?;
    // Every player's bit set (n may be 64, where 1 << n would overflow).
    let all_players = u64::MAX >> (64 - n.max(1));
    let mut values = vec![0.0; inventory.firms().len()];
    let mut standard_errors = vec![0.0; inventory.firms().len()];
    if n == 0 {
        return Ok(ShapleyValues {
            values,
            standard_errors,
            exact: true,
            grand_coalition_eur: 0.0,
        });
    }
    let grand = coalition_value(inventory, &players, all_players, &options).map_err(ShapleyError::Solve)?;
    if n <= SHAPLEY_EXACT_MAX_PLAYERS {
        let n_coalitions = 1usize << n;
        progress.start(n_coalitions, "Shapley coalitions");
        let worth: Result<Vec<f64>, SolveError> = (0..n_coalitions as u64)
            .into_par_iter()
            .map(|coalition| {
                let value = coalition_value(inventory, &players, coalition, &options);
                progress.advance(1);
                value
            })
            .collect();
        progress.finish();
        let worth = worth.map_err(ShapleyError::Solve)?;
        // phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S+i) - v(S)).
        let factorial = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
        for (bit, firm) in players.iter().enumerate() {
            let mut phi = 0.0;
            for coalition in 0..n_coalitions {
                if coalition & (1 << bit) != 0 {
                    continue;
                }
                let size = (coalition as u64).count_ones() as usize;
                let weight = factorial(size) * factorial(n - size - 1) / factorial(n);
                phi += weight * (worth[coalition | (1 << bit)] - worth[coalition]);
            }
            values[firm.index()] = phi;
        }
        return Ok(ShapleyValues {
            values,
            standard_errors,
            exact: true,
            grand_coalition_eur: grand,
        });
    }
    progress.start(samples, "Shapley permutations");
    let contributions: Result<Vec<Vec<f64>>, SolveError> = (0..samples)
        .into_par_iter()
        .map(|sample| {
            let order = permutation(n, 0x5eed_0000 + sample as u64);
            let mut coalition = 0u64;
            let mut previous = 0.0;
            let mut marginal = vec![0.0; n];
            for bit in order {
                coalition |= 1 << bit;
                let value = if coalition == all_players {
                    grand
                } else {
                    coalition_value(inventory, &players, coalition, &options)?
                };
                marginal[bit] = value - previous;
                previous = value;
            }
            progress.advance(1);
            Ok(marginal)
        })
        .collect();
    progress.finish();
    let contributions = contributions.map_err(ShapleyError::Solve)?;
    for (bit, firm) in players.iter().enumerate() {
        let mean = contributions.iter().map(|m| m[bit]).sum::<f64>() / samples as f64;
        let variance = contributions.iter().map(|m| (m[bit] - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
        values[firm.index()] = mean;
        standard_errors[firm.index()] = (variance / samples as f64).sqrt();
    }
    Ok(ShapleyValues {
        values,
        standard_errors,
        exact: false,
        grand_coalition_eur: grand,
    })
}

/// A deterministic pseudo-random permutation of 0..n (splitmix64 + Fisher-Yates).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_permutations() {
        let mut order = permutation(10, 7);
        order.sort();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        assert_eq!(permutation(10, 7), permutation(10, 7));
    }
}
