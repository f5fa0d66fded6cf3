//! One BFD session (RFC 5880 §6), sans-IO, asynchronous mode.
//!
//! CONTRACT: the types below are what the runtime programs against. Change
//! them only together with their users.
//!
//! Time is an input: the session asks for timers with [`Output::StartTimer`]
//! and learns of their expiry through [`Input::TimerExpired`]. Transmit
//! jitter comes from a PRNG seeded at construction, so a run replays exactly.
//!
//! Rooms: [`fsm`] (the state machine, reception and transmission),
//! [`intervals`] (what each side asked for and what is in force), [`stats`],
//! [`view`] (`hybridlab show bfd`). Jitter draws from `hybridlab_prng`.
//!
//! # What the driver (the runtime) must do
//!
//! - Give [`Input::Start`] once to begin; until then the session is silent
//!   and drops what it receives.
//! - [`Output::Send`]: send the datagram to the peer from a source port in
//!   49152–65535, to UDP port 3784, with TTL 255 (RFC 5881 §4, §5).
//! - Report each received datagram with the TTL it arrived with, through
//!   [`crate::SessionTable::receive`] or [`Session::receive_datagram`]. Only
//!   TTL 255 is accepted (RFC 5881 §5).
//! - [`Output::StartTimer`] (re)arms that timer, replacing any earlier
//!   deadline; [`Output::StopTimer`] disarms it. An expiry of an earlier
//!   arming must not be delivered; expiries of timers not armed are ignored.
//! - [`Output::LeftUp`]: the session was Up and is not any more. When
//!   [`DownCause::is_failure`], BGP bound to this session goes down at once;
//!   it may come back after the next `StateChanged { to: Up, .. }`. A peer
//!   going AdminDown is not a failure (RFC 5882 §3.2): leave BGP alone.

mod fsm;
mod intervals;
mod stats;
#[cfg(test)]
mod tests;
mod view;

pub use crate::packet::{Diagnostic, State};
pub use fsm::Session;
pub use stats::{DropCounts, DropReason, SessionStats};
pub use view::SessionView;

use crate::packet::ControlPacket;
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;

/// RFC 5880 §6.8.3: while not Up, Desired Min TX is at least one second.
pub const SLOW_TX_INTERVAL: Duration = Duration::from_secs(1);

/// RFC 5881 §5: single-hop packets are sent with, and only accepted at,
/// this TTL (or Hop Limit).
pub const SINGLE_HOP_TTL: u8 = 255;

/// The cloud's floor on both intervals (docs: Direct Connect runs 300 ms × 3
/// and accepts no less).
pub const DIRECT_CONNECT_MIN_INTERVAL: Duration = Duration::from_millis(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    /// The next periodic Control packet (RFC 5880 §6.8.7).
    Transmit,
    /// No packet from the peer for a Detection Time (RFC 5880 §6.8.4).
    Detection,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// bfd.LocalDiscr: nonzero, unique among this system's sessions.
    pub local_discriminator: u32,
    /// bfd.DesiredMinTxInterval once Up; raised to `min_accepted_interval`.
    pub desired_min_tx: Duration,
    /// bfd.RequiredMinRxInterval; raised to `min_accepted_interval`.
    pub required_min_rx: Duration,
    /// bfd.DetectMult: nonzero.
    pub detect_mult: u8,
    /// RFC 5880 §6.1: send nothing until the peer has spoken.
    pub passive: bool,
    /// Both our intervals are at least this: a peer asking for faster
    /// packets gets this rate, in either direction.
    pub min_accepted_interval: Duration,
    /// RFC 5880 §6.8.7 transmit jitter. Always on in service; tests turn it
    /// off to assert round instants.
    pub jitter: bool,
}

impl SessionConfig {
    /// The cloud side of a Direct Connect VIF: 300 ms × 3, nothing faster
    /// accepted, active role, jitter on.
    pub fn direct_connect(local_discriminator: u32) -> Self {
        SessionConfig {
            local_discriminator,
            desired_min_tx: DIRECT_CONNECT_MIN_INTERVAL,
            required_min_rx: DIRECT_CONNECT_MIN_INTERVAL,
            detect_mult: 3,
            passive: false,
            min_accepted_interval: DIRECT_CONNECT_MIN_INTERVAL,
            jitter: true,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.local_discriminator == 0 {
            return Err(ConfigError::ZeroDiscriminator);
        }
        if self.detect_mult == 0 {
            return Err(ConfigError::ZeroDetectMult);
        }
        // Zero would mean "send nothing" (Required Min RX, §4.1) or is
        // reserved (Desired Min TX); neither is a configuration.
        if self
            .desired_min_tx
            .max(self.min_accepted_interval)
            .is_zero()
            || self
                .required_min_rx
                .max(self.min_accepted_interval)
                .is_zero()
        {
            return Err(ConfigError::ZeroInterval);
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("local discriminator must be nonzero (RFC 5880 §6.3)")]
    ZeroDiscriminator,
    #[error("detect multiplier must be nonzero")]
    ZeroDetectMult,
    #[error("intervals must be nonzero")]
    ZeroInterval,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Begin: send the first packet (unless passive) and run.
    Start,
    /// A Control packet for this session, decoded, with the IP TTL or Hop
    /// Limit it arrived with.
    Received {
        packet: ControlPacket,
        ttl: u8,
    },
    TimerExpired(TimerKind),
    /// RFC 5880 §6.8.16: take the session administratively down.
    AdminDown,
    /// Return from AdminDown to Down; the handshake runs again.
    AdminUp,
    /// New intervals (raised to the configured floor); a Poll Sequence tells
    /// the peer (RFC 5880 §6.8.3). Ignored if any value is zero.
    SetTimers {
        desired_min_tx: Duration,
        required_min_rx: Duration,
        detect_mult: u8,
    },
}

/// Why a session left Up, or why it last went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum DownCause {
    /// No packet for a Detection Time: the path is dead.
    #[serde(rename = "detection time expired")]
    DetectionTimeExpired,
    /// The peer said Down: it lost us.
    #[serde(rename = "neighbor signaled down")]
    NeighborDown,
    /// The peer said AdminDown: switched off on purpose, not a failure
    /// (RFC 5882 §3.2).
    #[serde(rename = "neighbor admin down")]
    NeighborAdminDown,
    /// We were taken AdminDown.
    #[serde(rename = "local admin down")]
    LocalAdminDown,
}

impl DownCause {
    /// The forwarding path failed: clients such as BGP must act (RFC 5882
    /// §3.2). An AdminDown on either side is not a failure.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DownCause::DetectionTimeExpired | DownCause::NeighborDown
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A Control packet to send to the peer.
    Send(Bytes),
    StartTimer {
        timer: TimerKind,
        after: Duration,
    },
    StopTimer(TimerKind),
    StateChanged {
        from: State,
        to: State,
        /// bfd.LocalDiag after the change, as sent to the peer.
        diagnostic: Diagnostic,
    },
    /// Follows the `StateChanged` that took the session out of Up.
    LeftUp {
        cause: DownCause,
    },
    /// A received packet was dropped; already counted in the stats.
    Dropped(DropReason),
}
