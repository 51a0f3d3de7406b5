//! How the firms' value is shared beyond the supplier share of
//! docs/model.md A4: the Shapley value of each firm in the game
//! v(S) = C_base(S) - C(S), the private cost saved when only the firms of
//! S may exchange.
//!
//! The game is a sum of games, one per independent part of the territory
//! (`candidates::components`): a coalition's links in one part change
//! nothing in another, so v(S) = sum over parts p of v_p(S), v_p(S) the
//! value of the solve whose links are part p's links between firms of S
//! (every other flow at its fallback, where it saves nothing). Shapley
//! values are linear in the game, so each firm's value is the sum of its
//! values in the parts it has links in. Each part's game is enumerated
//! exactly up to [`SHAPLEY_EXACT_MAX_PLAYERS`] players, sampled over
//! `samples` permutations of its own players beyond; its coalitions solve
//! only that part's links, so the cost is bounded by the parts each firm
//! touches, whatever the number of firms. Outsiders keep their flows (on
//! their fallbacks in both C_base(S) and C(S), so they cancel).
//!
//! Invariant: the values depend only on the inventory, the options and the
//! number of samples (a fixed seed per part and permutation), never on the
//! thread count; they sum to v(grand coalition) = sum of the parts' grand
//! coalitions (exactly, by construction, sampled or not).

use rayon::prelude::*;

use crate::candidates::{candidate_links, components, Link};
use crate::model::{FirmIdx, Inventory};
use crate::progress::Progress;
use crate::solve::{solve, SolveError, SolveOptions};

use super::value_lp_solution;

/// Why Shapley values could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ShapleyError {
    /// Too few samples.
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
    /// Standard error per firm (0 where every part it is in was enumerated).
    pub standard_errors: Vec<f64>,
    /// Every part's game enumerated exactly.
    pub exact: bool,
    /// v(grand coalition): the sum of the values.
    pub grand_coalition_eur: f64,
}

/// Largest number of players of one part's game enumerated exactly (2^12
/// coalitions).
pub const SHAPLEY_EXACT_MAX_PLAYERS: usize = 12;

/// Fewest permutations sampled: a standard error needs two.
pub const SHAPLEY_MIN_SAMPLES: usize = crate::options::MIN_SAMPLES;

/// The players of the Shapley game: firms with at least one candidate link
/// (the others are null players), in inventory order.
pub fn shapley_players(inventory: &Inventory, links: &[Link]) -> Vec<FirmIdx> {
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

/// One part's game: its players (firms with a link in the part, in
/// inventory order) and its links.
struct Game {
    players: Vec<FirmIdx>,
    links: Vec<Link>,
}

impl Game {
    fn is_exact(&self) -> bool {
        self.players.len() <= SHAPLEY_EXACT_MAX_PLAYERS
    }

    /// Coalition solves: every coalition, or `samples` permutations of every
    /// player but the last (whose coalition is the grand one).
    fn n_solves(&self, samples: usize) -> usize {
        if self.is_exact() {
            1 << self.players.len()
        } else {
            samples * (self.players.len() - 1)
        }
    }

    /// v_p(S), S given by each player's membership.
    fn worth(&self, inventory: &Inventory, member: &[bool], options: &SolveOptions) -> Result<f64, SolveError> {
        let inside = |firm: FirmIdx| self.players.binary_search(&firm).is_ok_and(|position| member[position]);
        let links: Vec<Link> = self
            .links
            .iter()
            .filter(|link| inside(inventory.flow(link.supply).firm) && inside(inventory.flow(link.demand).firm))
            .cloned()
            .collect();
        if links.is_empty() {
            return Ok(0.0);
        }
        let solution = solve(inventory, &links, options)?;
        Ok(value_lp_solution(inventory, &links, &solution, 0.5).firm_value_eur)
    }
}

/// The territory's games, one per part with links, in part order.
fn games(inventory: &Inventory, links: &[Link]) -> Vec<Game> {
    let parts = components(inventory, links);
    let mut of_part: Vec<Vec<Link>> = vec![Vec::new(); parts.parts.len()];
    for link in links {
        of_part[parts.part_of_flow[link.supply.index()]].push(link.clone());
    }
    of_part
        .into_iter()
        .filter(|links| !links.is_empty())
        .map(|links| Game {
            players: shapley_players(inventory, &links),
            links,
        })
        .collect()
}

/// Whether Shapley values can be computed with `samples` permutations:
/// refused below [`SHAPLEY_MIN_SAMPLES`], as `--samples` is.
pub fn check_shapley(_inventory: &Inventory, samples: usize) -> Result<(), String> {
    check_samples(samples)
}

fn check_samples(samples: usize) -> Result<(), String> {
    if samples < SHAPLEY_MIN_SAMPLES {
        return Err(format!(
            "--samples {samples}: sampled Shapley values need at least {SHAPLEY_MIN_SAMPLES} permutations (a standard error divides by samples - 1)"
        ));
    }
    Ok(())
}

/// One part's Shapley values (per player) and their squared standard
/// errors, and its grand coalition's worth.
struct GameValues {
    values: Vec<f64>,
    variances: Vec<f64>,
    grand: f64,
}

/// Shapley values of every firm (module documentation): each part's game
/// enumerated or sampled, in parallel, the values summed per firm.
pub fn shapley(
    inventory: &Inventory,
    options: &SolveOptions,
    samples: usize,
    progress: &dyn Progress,
) -> Result<ShapleyValues, ShapleyError> {
    check_samples(samples).map_err(ShapleyError::Limit)?;
    let mut options = options.clone();
    options.threads = Some(1);
    let links = candidate_links(inventory);
    let games = games(inventory, &links);
    progress.start(
        games.iter().map(|game| game.n_solves(samples)).sum(),
        "Shapley coalitions",
    );
    let solved: Result<Vec<GameValues>, SolveError> = games
        .par_iter()
        .enumerate()
        .map(|(index, game)| {
            if game.is_exact() {
                exact(inventory, game, &options, progress)
            } else {
                sampled(inventory, game, index, samples, &options, progress)
            }
        })
        .collect();
    progress.finish();
    let solved = solved?;
    let mut values = vec![0.0; inventory.firms().len()];
    let mut variances = vec![0.0; inventory.firms().len()];
    for (game, found) in games.iter().zip(&solved) {
        for (position, firm) in game.players.iter().enumerate() {
            values[firm.index()] += found.values[position];
            variances[firm.index()] += found.variances[position];
        }
    }
    Ok(ShapleyValues {
        values,
        standard_errors: variances.into_iter().map(f64::sqrt).collect(),
        exact: games.iter().all(Game::is_exact),
        grand_coalition_eur: solved.iter().map(|found| found.grand).sum(),
    })
}

/// phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! (v(S+i) - v(S)).
fn exact(
    inventory: &Inventory,
    game: &Game,
    options: &SolveOptions,
    progress: &dyn Progress,
) -> Result<GameValues, SolveError> {
    let n = game.players.len();
    let n_coalitions = 1usize << n;
    let worth: Vec<f64> = (0..n_coalitions)
        .into_par_iter()
        .map(|coalition| {
            let member: Vec<bool> = (0..n).map(|bit| coalition & (1 << bit) != 0).collect();
            let value = game.worth(inventory, &member, options);
            progress.advance(1);
            value
        })
        .collect::<Result<_, _>>()?;
    let factorial = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
    let values = (0..n)
        .map(|bit| {
            (0..n_coalitions)
                .filter(|coalition| coalition & (1 << bit) == 0)
                .map(|coalition| {
                    let size = coalition.count_ones() as usize;
                    factorial(size) * factorial(n - size - 1) / factorial(n)
                        * (worth[coalition | (1 << bit)] - worth[coalition])
                })
                .sum()
        })
        .collect();
    Ok(GameValues {
        values,
        variances: vec![0.0; n],
        grand: worth[n_coalitions - 1],
    })
}

/// The mean marginal contribution over `samples` permutations of the
/// game's players (a fixed seed per part and permutation), with the
/// variance of the mean.
fn sampled(
    inventory: &Inventory,
    game: &Game,
    index: usize,
    samples: usize,
    options: &SolveOptions,
    progress: &dyn Progress,
) -> Result<GameValues, SolveError> {
    let n = game.players.len();
    let grand = game.worth(inventory, &vec![true; n], options)?;
    let contributions: Vec<Vec<f64>> = (0..samples)
        .into_par_iter()
        .map(|sample| {
            let order = permutation(n, 0x5eed_0000 + sample as u64 + ((index as u64) << 32));
            let mut member = vec![false; n];
            let mut previous = 0.0;
            let mut marginal = vec![0.0; n];
            for (step, &player) in order.iter().enumerate() {
                member[player] = true;
                let value = if step + 1 == n {
                    grand
                } else {
                    progress.advance(1);
                    game.worth(inventory, &member, options)?
                };
                marginal[player] = value - previous;
                previous = value;
            }
            Ok(marginal)
        })
        .collect::<Result<_, SolveError>>()?;
    let mut values = vec![0.0; n];
    let mut variances = vec![0.0; n];
    for player in 0..n {
        let mean = contributions.iter().map(|m| m[player]).sum::<f64>() / samples as f64;
        let variance = contributions.iter().map(|m| (m[player] - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
        values[player] = mean;
        variances[player] = variance / samples as f64;
    }
    Ok(GameValues {
        values,
        variances,
        grand,
    })
}

/// A deterministic pseudo-random permutation of 0..n (splitmix64 + Fisher-Yates).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut splitmix = crate::random::SplitMix64::new(seed);
    let mut next = || splitmix.next_u64();
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
