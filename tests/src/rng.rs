//! A tiny seeded PRNG (SplitMix64) so every random choice of a test run is reproducible
//! from the seed it prints. Not for anything but tests.

/// The environment variable that overrides a test's seeds (one number, decimal or `0x`
/// hex), to replay a failing run.
pub const SEED_ENV: &str = "PROOFLINE_E2E_SEED";

/// SplitMix64 (Steele, Lea, Flood 2014): fast, tiny, good enough to pick orders and faults.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent generator derived from this seed and a `stream` number (e.g. a
    /// connection index), so the choices for stream `n` do not depend on thread timing.
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut base = Rng::new(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        Rng::new(base.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, n)` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: unbiased enough for tests.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `[lo, hi]`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The seeds a test runs with: `defaults`, or the single seed in [`SEED_ENV`] if set.
/// Prints them, so a failing run names the seed to replay.
pub fn seeds(test: &str, defaults: &[u64]) -> Vec<u64> {
    let seeds = match std::env::var(SEED_ENV).ok().and_then(|s| parse_seed(&s)) {
        Some(seed) => vec![seed],
        None => defaults.to_vec(),
    };
    println!("{test}: seeds {seeds:?} (replay one with {SEED_ENV}=<seed>)");
    seeds
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..100).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| x < 1000));
        assert_ne!(Rng::derive(42, 1).next_u64(), Rng::derive(42, 2).next_u64());
    }

    #[test]
    fn a_shuffle_is_a_permutation() {
        let mut rng = Rng::new(7);
        let mut items: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(items, sorted);
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("12"), Some(12));
        assert_eq!(parse_seed(" 0xff "), Some(255));
        assert_eq!(parse_seed("x"), None);
    }
}
