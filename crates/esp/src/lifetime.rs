//! SA lifetimes (RFC 4301 §4.4.2.1): soft and hard limits in seconds,
//! bytes and packets.
//!
//! Sans-IO: the SA never reads a clock. The caller gives the creation time
//! when it builds the SA and `now` when it asks; both are offsets on the
//! caller's own monotonic clock. Packet and byte counts come from the SA's
//! [`crate::Counters`]. Nothing is enforced inside `seal`/`open` except the
//! sequence-number limit (RFC 4303 §3.3.3); rekeying on a soft expiry and
//! deleting on a hard one is the keying layer's job.

use std::time::Duration;

/// One set of limits; `None` means no limit of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LifetimeLimits {
    pub time: Option<Duration>,
    pub bytes: Option<u64>,
    pub packets: Option<u64>,
}

/// Soft limits start a rekey; hard limits end the SA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetime {
    pub soft: LifetimeLimits,
    pub hard: LifetimeLimits,
}

impl Lifetime {
    /// Time-only lifetime, as AWS configures phase 2 (3 600 s hard) with a
    /// soft limit chosen by the keying layer.
    pub fn time(soft: Duration, hard: Duration) -> Self {
        Lifetime {
            soft: LifetimeLimits {
                time: Some(soft),
                ..LifetimeLimits::default()
            },
            hard: LifetimeLimits {
                time: Some(hard),
                ..LifetimeLimits::default()
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LifetimeState {
    Valid,
    /// Time to negotiate a replacement SA.
    SoftExpired,
    /// The SA must not be used any more.
    HardExpired,
}

/// Sequence numbers used before [`LifetimeState::SoftExpired`] is reported
/// regardless of configured limits: 2^32 - 2^28, leaving ~268 million packets
/// to finish a rekey before RFC 4303 §3.3.3 forces the SA down.
pub(crate) const SEQUENCE_SOFT_LIMIT: u64 = (1 << 32) - (1 << 28);

impl LifetimeLimits {
    pub(crate) fn reached(&self, age: Duration, bytes: u64, packets: u64) -> bool {
        self.time.is_some_and(|t| age >= t)
            || self.bytes.is_some_and(|b| bytes >= b)
            || self.packets.is_some_and(|p| packets >= p)
    }
}
