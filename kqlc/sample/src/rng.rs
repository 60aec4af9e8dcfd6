//! Pseudo-random numbers: the only source of variety in a sample.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
/// test data; written out so the output never changes with a dependency.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (Lemire's multiply-shift; the tiny bias does not
    /// matter here). `n` must be below 2^32.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// A number in `low..high`.
    pub(crate) fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low) as u64) as i64
    }

    /// True `per_million` times in a million.
    pub(crate) fn chance(&mut self, per_million: u32) -> bool {
        self.below(1_000_000) < per_million as usize
    }

    /// One of `items`, each as likely.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Picks from `(weight, item)` pairs.
    pub(crate) fn weighted<'a, T>(&mut self, table: &'a [(u32, T)]) -> &'a T {
        let total: u32 = table.iter().map(|(weight, _)| weight).sum();
        let mut ticket = self.below(total as usize) as u32;
        for (weight, item) in table {
            if ticket < *weight {
                return item;
            }
            ticket -= weight;
        }
        &table[table.len() - 1].1
    }
}
