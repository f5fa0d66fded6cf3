//! A small seeded PRNG for timer jitter, so a run replays exactly.
//!
//! SplitMix64 (Steele, Lea, Flood 2014): one 64-bit word of state, good
//! enough statistics for spreading timers, no dependency.

use std::time::Duration;

/// RFC 4271 §10: jitter multiplies a timer by a factor in [0.75, 1.0],
/// expressed here in parts per million so the arithmetic stays integral.
const JITTER_MIN_PPM: u64 = 750_000;
const JITTER_SPAN_PPM: u64 = 250_000;
const PPM: u128 = 1_000_000;

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

    /// `interval` scaled by a random factor in [0.75, 1.0] (RFC 4271 §10).
    pub fn jitter(&mut self, interval: Duration) -> Duration {
        let ppm = JITTER_MIN_PPM + self.next_u64() % (JITTER_SPAN_PPM + 1);
        scale_ppm(interval, ppm)
    }
}

/// `interval × ppm / 10⁶`, saturating instead of overflowing: intervals come
/// from configuration files.
fn scale_ppm(interval: Duration, ppm: u64) -> Duration {
    let nanos = interval.as_nanos().saturating_mul(u128::from(ppm)) / PPM;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SplitMix64::new(1).next_u64(), SplitMix64::new(2).next_u64());
    }

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 0, as published with the reference C code.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn jitter_stays_within_three_quarters_and_one() {
        let mut r = SplitMix64::new(7);
        let interval = Duration::from_secs(30);
        let mut min = interval;
        let mut max = Duration::ZERO;
        for _ in 0..10_000 {
            let j = r.jitter(interval);
            assert!(j >= Duration::from_millis(22_500) && j <= interval, "{j:?}");
            min = min.min(j);
            max = max.max(j);
        }
        // The whole range is used, not a corner of it.
        assert!(min < Duration::from_millis(23_000), "{min:?}");
        assert!(max > Duration::from_millis(29_500), "{max:?}");
    }

    #[test]
    fn huge_interval_saturates() {
        assert_eq!(
            scale_ppm(Duration::MAX, 1_000_000),
            Duration::from_nanos(u64::MAX)
        );
    }
}
