//! A tiny deterministic xorshift64 generator for workloads (pairs, amounts, ids; nothing secret). The
//! demo's agents use `rand`'s seeded `StdRng` instead, whose stream its recorded runs depend on.

/// Marsaglia's xorshift64 (13, 7, 17). The seed must not be zero.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)] // Not an iterator: it never ends and is never collected.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (n > 0; the tiny modulo bias does not matter for workloads).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Two distinct indices below `n` (n >= 2).
    pub fn pair(&mut self, n: usize) -> (usize, usize) {
        let from = self.below(n);
        let to = (from + 1 + self.below(n - 1)) % n;
        (from, to)
    }
}

/// Ids that are unique but arrive in no particular order (an odd multiplier is a bijection mod 2^64).
pub fn shuffled_id(i: usize) -> u64 {
    (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
