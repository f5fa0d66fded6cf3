//! A seeded PRNG for transmit jitter, so a run replays exactly.
//!
//! SplitMix64 (Steele, Lea, Flood 2014): one word of state, no dependency,
//! ample quality for spreading packets in time.

#[derive(Clone, Debug)]
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

    /// Uniform in `low..=high`; `low` when the range is empty.
    pub fn in_range(&mut self, low: u64, high: u64) -> u64 {
        let span = high.saturating_sub(low).saturating_add(1);
        low.saturating_add(self.next_u64() % span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_for_seed_zero() {
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn range_is_inclusive_and_covered() {
        let mut r = SplitMix64::new(9);
        let draws: Vec<u64> = (0..1000).map(|_| r.in_range(3, 5)).collect();
        assert!(draws.iter().all(|d| (3..=5).contains(d)));
        for v in 3..=5 {
            assert!(draws.contains(&v));
        }
        assert_eq!(r.in_range(7, 7), 7);
        assert_eq!(r.in_range(8, 7), 8);
    }
}
