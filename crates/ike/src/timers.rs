//! The peer's timers and the arithmetic of their deadlines.

use crate::config::{RekeyConfig, RetransmitConfig};
use crate::random::Random;
use std::time::Duration;

/// Which timer. The driver keeps one deadline per value: re-arming
/// replaces it, and an expiry of a replaced or stopped arming must not be
/// delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    /// Resend our last message of the exchange with this Message ID (0 for
    /// Main Mode) of the IKE SA with this initiator cookie.
    Retransmit {
        icookie: u64,
        message_id: u32,
    },
    /// Time to start replacing this IKE SA (RFC 2409 §4: lifetimes).
    Phase1Rekey {
        icookie: u64,
    },
    /// This IKE SA's lifetime is over.
    Phase1Expire {
        icookie: u64,
    },
    /// Time to start replacing the child SA with this inbound SPI.
    Phase2Rekey {
        spi_in: u32,
    },
    Phase2Expire {
        spi_in: u32,
    },
    /// The child SA with this inbound SPI was replaced by a rekey we
    /// started; delete it now (see [`RETIRE_REKEYED_AFTER`]).
    Phase2Retire {
        spi_in: u32,
    },
    /// RFC 3706 §5: probe after a quiet `delay`, and between probes; the
    /// peer is dead when the silence reaches the DPD timeout.
    Dpd,
    /// A half-open Main Mode we answered and then heard nothing more of.
    HalfOpen {
        icookie: u64,
    },
}

/// How long the child SA a rekey of ours replaced lives on before we
/// delete it (and tell the peer). strongSwan waits the same 5 s by
/// default (`charon.delete_rekeyed_delay`) for its IKEv2 rekeys, for the
/// same reason: packets still in flight on the old SA.
pub const RETIRE_REKEYED_AFTER: Duration = Duration::from_secs(5);

/// strongSwan's schedule: the wait before retransmission `n` (0-based) is
/// `base × factor^n`; the wait numbered `tries` ends the exchange.
pub fn retransmit_wait(config: &RetransmitConfig, n: u32) -> Duration {
    let mut nanos = config.base.as_nanos();
    let mut denominator: u128 = 1;
    for _ in 0..n {
        nanos = nanos.saturating_mul(u128::from(config.factor_per_mille));
        denominator = denominator.saturating_mul(1_000);
        // Keep both in range: reduce by 1000 when the numerator grows big.
        if nanos > u128::from(u64::MAX) << 32 {
            nanos /= 1_000;
            denominator /= 1_000;
        }
    }
    let whole = nanos / denominator.max(1);
    Duration::from_nanos(u64::try_from(whole).unwrap_or(u64::MAX))
}

/// When a side that rekeys starts: lifetime − margin − random(0 ..= fuzz %
/// of margin) (spec §1.2). Never before zero.
pub fn rekey_after(lifetime: Duration, rekey: &RekeyConfig, rng: &mut dyn Random) -> Duration {
    let margin = rekey.margin.min(lifetime);
    let fuzz_max_ms =
        u64::try_from(margin.as_millis() * u128::from(rekey.fuzz_percent.min(100)) / 100)
            .unwrap_or(u64::MAX);
    let fuzz = Duration::from_millis(rng.below_or_equal(fuzz_max_ms));
    lifetime.saturating_sub(margin).saturating_sub(fuzz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn strongswan_schedule() {
        let c = RetransmitConfig::default();
        let waits: Vec<u128> = (0..=5)
            .map(|n| retransmit_wait(&c, n).as_millis())
            .collect();
        assert_eq!(waits, vec![4_000, 7_200, 12_960, 23_328, 41_990, 75_582]);
    }

    #[test]
    fn rekey_inside_the_margin_window() {
        let cfg = RekeyConfig::default();
        let mut rng = SeededRandom::new(1);
        for _ in 0..200 {
            let at = rekey_after(Duration::from_secs(3_600), &cfg, &mut rng);
            assert!(at >= Duration::from_secs(3_600 - 540) && at <= Duration::from_secs(3_330));
        }
        let no_fuzz = RekeyConfig {
            fuzz_percent: 0,
            ..cfg
        };
        assert_eq!(
            rekey_after(Duration::from_secs(3_600), &no_fuzz, &mut rng),
            Duration::from_secs(3_330)
        );
    }
}
