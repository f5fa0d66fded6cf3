//! IdleHold backoff: how long a session stays Idle after an error before it
//! starts again (RFC 4271 §8.1.1 DampPeerOscillations).
//!
//! The first failure waits `initial`; each further consecutive failure
//! doubles the wait, up to `max`. A session that reached Established and then
//! heard from its peer there counts as healthy again: the session calls
//! [`Backoff::reset`] and the next failure waits `initial` once more.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            failures: 0,
        }
    }

    /// Records a failure and returns how long to stay Idle because of it.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.delay_after(self.failures);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// `initial × 2ⁿ`, capped at `max` (and never below `initial`, should the
    /// configuration say max < initial).
    fn delay_after(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
        let cap = self.max.max(self.initial);
        self.initial.checked_mul(factor).map_or(cap, |d| d.min(cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(secs(5), secs(60));
        let seq: Vec<Duration> = (0..7).map(|_| b.next_delay()).collect();
        assert_eq!(seq, [5, 10, 20, 40, 60, 60, 60].map(secs));
        assert_eq!(b.failures(), 7);
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(secs(5), secs(60));
        b.next_delay();
        b.next_delay();
        b.reset();
        assert_eq!(b.next_delay(), secs(5));
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut b = Backoff::new(secs(5), secs(600));
        for _ in 0..100 {
            assert!(b.next_delay() <= secs(600));
        }
        assert_eq!(b.next_delay(), secs(600));
    }

    #[test]
    fn cap_below_initial_keeps_initial() {
        let mut b = Backoff::new(secs(30), secs(10));
        assert_eq!(b.next_delay(), secs(30));
        assert_eq!(b.next_delay(), secs(30));
    }
}
