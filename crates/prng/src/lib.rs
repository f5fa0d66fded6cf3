//! The seeded PRNG every protocol core draws from (timer jitter today;
//! nonces of test runs and drill schedules later), so that one seed replays
//! a whole run exactly. Cores never read the clock or the OS's randomness;
//! they own a [`SplitMix64`] seeded by the runtime.
//!
//! SplitMix64 (Steele, Lea, Flood 2014): one 64-bit word of state, ample
//! quality for spreading timers and packets in time. Not for keys: the IKE
//! and ESP cores take their key material from `ring`.

use std::time::Duration;

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

    /// Uniform in `low..=high`; `low` when the range is empty.
    pub fn in_range(&mut self, low: u64, high: u64) -> u64 {
        let span = high.saturating_sub(low).saturating_add(1);
        low.saturating_add(self.next_u64() % span)
    }

    /// `interval` scaled by a random factor between `min_ppm` and `max_ppm`
    /// parts per million, both included: the shape of every protocol's
    /// timer jitter (RFC 4271 §10: 750 000–1 000 000; RFC 5880 §6.8.7:
    /// 750 000–1 000 000, or –900 000 with a Detect Mult of 1).
    pub fn jitter(&mut self, interval: Duration, min_ppm: u64, max_ppm: u64) -> Duration {
        scale_ppm(interval, self.in_range(min_ppm, max_ppm))
    }
}

/// `interval × ppm / 10⁶`, saturating instead of overflowing: intervals come
/// from configuration files and from peers.
pub fn scale_ppm(interval: Duration, ppm: u64) -> Duration {
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

    #[test]
    fn jitter_stays_within_its_bounds_and_uses_the_range() {
        let mut r = SplitMix64::new(7);
        let interval = Duration::from_secs(30);
        let mut min = interval;
        let mut max = Duration::ZERO;
        for _ in 0..10_000 {
            let j = r.jitter(interval, 750_000, 1_000_000);
            assert!(j >= Duration::from_millis(22_500) && j <= interval, "{j:?}");
            min = min.min(j);
            max = max.max(j);
        }
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
