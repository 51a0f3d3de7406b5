//! Deterministic pseudo-random numbers, cross-cutting: xoshiro256** seeded
//! through splitmix64 (the seeding its authors recommend), and splitmix64
//! alone. `generate` draws synthetic territories with [`Rng`],
//! `value::allocation` its Shapley permutations with [`SplitMix64`], and
//! `study::uncertainty` its Monte Carlo samples with [`Rng::stream`].
//!
//! Owns: the generators and the few draws built on them (uniform, normal,
//! lognormal). Uses no other module of the crate (it sits below `model`).
//!
//! Invariant: a generator's output depends only on its seed, bit for bit,
//! on every machine and thread count (integer arithmetic and correctly
//! rounded operations only, plus `ln`, `cos`, `exp` of std for the normal
//! and lognormal draws). Not for cryptography.

/// splitmix64: a 64-bit state advanced by a fixed odd constant and mixed.
/// Alone it is a fast generator of its own; [`Rng::new`] seeds from it.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256** seeded through splitmix64.
#[derive(Debug, Clone)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut seeder = SplitMix64::new(seed);
        Self {
            state: [
                seeder.next_u64(),
                seeder.next_u64(),
                seeder.next_u64(),
                seeder.next_u64(),
            ],
        }
    }

    /// An independent stream for the key (`seed`, `keys`...): each key is
    /// mixed into the seed through splitmix64 in turn, so that (seed, i, j)
    /// and (seed, j, i) give different streams and a stream depends on its
    /// keys alone (a Monte Carlo sample's draws on the seed and the sample's
    /// index, never on the order in which samples are drawn).
    pub fn stream(seed: u64, keys: &[u64]) -> Self {
        let mut mixed = SplitMix64::new(seed).next_u64();
        for key in keys {
            mixed = SplitMix64::new(mixed ^ key).next_u64();
        }
        Rng::new(mixed)
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Uniform integer in [0, n); n > 0.
    pub fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift; the tiny bias is irrelevant here.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.uniform() < probability
    }

    /// Standard normal (Box-Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Lognormal with the given median and log-standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// An index drawn with probability proportional to `weights`.
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let target = self.uniform() * total;
        cumulative.partition_point(|c| *c <= target).min(cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prng_is_reproducible_and_uniform_enough() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let draws: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        assert!(draws.iter().all(|x| *x == b.next_u64()));
        assert_ne!(Rng::new(8).next_u64(), draws[0]);
        let mut rng = Rng::new(1);
        let mean = (0..100_000).map(|_| rng.uniform()).sum::<f64>() / 100_000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let mean_normal = (0..100_000).map(|_| rng.normal()).sum::<f64>() / 100_000.0;
        assert!(mean_normal.abs() < 0.02, "{mean_normal}");
    }

    /// The reference values of splitmix64 for seed 1234567 (as its authors'
    /// C code gives them, quoted by Rosetta Code's "Pseudo-random numbers/Splitmix64").
    #[test]
    fn splitmix64_gives_its_reference_values() {
        let mut splitmix = SplitMix64::new(1_234_567);
        assert_eq!(splitmix.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(splitmix.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn streams_depend_on_their_keys_and_their_order() {
        let first = |keys: &[u64]| Rng::stream(42, keys).next_u64();
        assert_eq!(first(&[3, 5]), first(&[3, 5]));
        assert_ne!(first(&[3, 5]), first(&[5, 3]));
        assert_ne!(first(&[3, 5]), first(&[3, 6]));
        assert_ne!(first(&[3]), Rng::stream(43, &[3]).next_u64());
    }
}
