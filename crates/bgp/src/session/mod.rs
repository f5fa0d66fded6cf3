//! The BGP session finite state machine (RFC 4271 §8), sans-IO.
//!
//! CONTRACT: the types below are what the router core and the runtime
//! program against. Change them only together with their users.
//!
//! One [`Session`] per configured peer. It may hold two transport
//! connections at once while a collision is resolved (§6.8), each named by a
//! [`ConnId`] the runtime assigns. Time is an input: the session asks for
//! timers with [`SessionOutput::StartTimer`] and learns of their expiry
//! through [`SessionInput::TimerExpired`]. Jitter comes from a PRNG seeded at
//! construction, so a run replays exactly.

//! Rooms: [`fsm`] (the state machine), [`open`] (our OPEN, checks on theirs,
//! negotiation), [`collision`] (§6.8), [`backoff`] (IdleHold), [`stats`].
//! Jitter draws from `hybridlab_prng`.
//!
//! # What the driver (router, runtime) must do
//!
//! - Give every transport connection a [`ConnId`] never used before by this
//!   session; stale ids are ignored, reused ones would be confused.
//! - [`SessionOutput::Send`]: write the bytes, in order, on that connection.
//!   [`SessionOutput::Close`]: write what was queued for it (often a
//!   NOTIFICATION), then close it. The session has already forgotten it: do
//!   not report `Closed` for it (it would be ignored).
//! - [`SessionOutput::Connect`]: start an outbound attempt; a new `Connect`
//!   supersedes any attempt still in flight. Report `Connected { outbound:
//!   true }` or `ConnectFailed`. Report inbound connections from the peer with
//!   `outbound: false`; the session refuses them itself when it must.
//! - [`SessionOutput::StartTimer`] (re)arms the timer of that kind, replacing
//!   any earlier deadline; [`SessionOutput::StopTimer`] disarms it. Once a
//!   timer is re-armed or stopped, an expiry of its earlier arming must not
//!   be delivered. Expiries of timers not armed are ignored.
//! - [`SessionOutput::Down`] comes when the session loses its last
//!   connection in OpenSent or later: an error, a NOTIFICATION either way,
//!   the hold timer, `Stop`, the prefix limit, or the peer closing after
//!   OpenSent. (The peer closing in OpenSent is §8.2.2's quiet return to
//!   Active.) It may come without a prior `Established`; after one it
//!   always comes before the next: drop the peer's routes if it had any.
//! - Idle after an error restarts by itself after the IdleHold backoff;
//!   Idle after `Stop` or the prefix limit waits for `Start` (or the
//!   PrefixRestart timer). [`Session::idle_reason`] says which.

mod backoff;
mod collision;
mod fsm;
mod open;
mod stats;
#[cfg(test)]
mod tests;

pub use fsm::Session;
pub use stats::SessionStats;

use crate::packet::{Family, Message, Notification, Open, RouteRefresh, Update};
use bytes::Bytes;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// A transport connection, numbered by the runtime.
pub type ConnId = u64;

/// RFC 4271 §8.2.2 states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// The session's timers (RFC 4271 §10, plus the idle-hold and prefix-limit
/// restart timers that real speakers add).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    ConnectRetry,
    Hold,
    Keepalive,
    /// Damps restarts after an error: Idle until it fires (RFC 4271 §8.1.1
    /// DampPeerOscillations; backoff doubles per consecutive failure).
    IdleHold,
    /// After a maximum-prefix shutdown, restart when it fires (if configured).
    PrefixRestart,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionConfig {
    pub local_as: u32,
    pub remote_as: u32,
    pub local_id: Ipv4Addr,
    /// Hold time we propose: 0, or at least 3 seconds (§4.2).
    pub hold_time: u16,
    /// Keepalive interval; `None` means hold_time / 3 (§10).
    pub keepalive: Option<u16>,
    pub connect_retry: Duration,
    /// Never initiate; wait for the peer to connect (§8.1.1 PassiveTcpEstablishment).
    pub passive: bool,
    /// Families offered with the multiprotocol capability.
    pub families: Vec<Family>,
    /// First idle-hold delay after an error; doubles up to `max_idle_hold`.
    pub idle_hold: Duration,
    pub max_idle_hold: Duration,
    /// Apply RFC 4271 §10 jitter (0.75–1.0) to ConnectRetry and Keepalive.
    /// Off in tests that assert exact instants.
    pub jitter: bool,
}

impl SessionConfig {
    /// The topology defaults (docs/topology.md): hold time 90 s, keepalive a
    /// third of it, ConnectRetry 5 s, active and passive open, IPv4 and IPv6
    /// unicast, IdleHold 5 s doubling up to 120 s, jitter on.
    pub fn new(local_as: u32, remote_as: u32, local_id: Ipv4Addr) -> Self {
        SessionConfig {
            local_as,
            remote_as,
            local_id,
            hold_time: 90,
            keepalive: None,
            connect_retry: Duration::from_secs(5),
            passive: false,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            idle_hold: Duration::from_secs(5),
            max_idle_hold: Duration::from_secs(120),
            jitter: true,
        }
    }
}

/// Why an Idle session is Idle; shown as `idle_reason` in the control API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum IdleReason {
    /// Never started.
    #[serde(rename = "not started")]
    NotStarted,
    /// ManualStop: stays Idle until `Start`.
    #[serde(rename = "stopped")]
    Stopped,
    /// After an error, waiting for the IdleHold timer to restart.
    #[serde(rename = "idle hold")]
    IdleHold,
    /// After a maximum-prefix shutdown: Idle until `Start` or the
    /// PrefixRestart timer.
    #[serde(rename = "prefix limit")]
    PrefixLimit,
}

impl std::fmt::Display for IdleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdleReason::NotStarted => "not started",
            IdleReason::Stopped => "stopped",
            IdleReason::IdleHold => "idle hold",
            IdleReason::PrefixLimit => "prefix limit",
        })
    }
}

/// What was agreed when the session reached Established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub conn: ConnId,
    pub hold_time: u16,
    pub keepalive: u16,
    pub four_octet_as: bool,
    pub route_refresh: bool,
    /// Families both sides announced.
    pub families: Vec<Family>,
    pub remote_id: Ipv4Addr,
    pub remote_as: u32,
    pub peer_open: Open,
}

// Inputs are moved once into `handle`, never stored in bulk: boxing the
// large `Send` variant would cost an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionInput {
    /// ManualStart / AutomaticStart; also what "clear" does after a prefix-limit shutdown.
    Start,
    /// ManualStop: send Cease with this subcode (RFC 4486) and go Idle.
    Stop {
        subcode: u8,
    },
    /// The transport connected. `outbound`: we initiated it.
    Connected {
        conn: ConnId,
        outbound: bool,
        local: IpAddr,
        remote: IpAddr,
    },
    /// Our outbound attempt failed (refused, unreachable, timed out).
    ConnectFailed,
    /// The peer closed or reset the connection.
    Closed {
        conn: ConnId,
    },
    /// Bytes arrived on a connection.
    Received {
        conn: ConnId,
        data: Bytes,
    },
    TimerExpired(TimerKind),
    /// Send a message on the established connection (UPDATE, ROUTE-REFRESH).
    Send(Message),
    /// The router counted more prefixes than allowed: Cease / Maximum Number
    /// of Prefixes Reached (RFC 4486 §4: data = AFI, SAFI, limit), then Idle
    /// until `Start` or, if given, the restart timer.
    PrefixLimitExceeded {
        family: Family,
        limit: u32,
        restart_after: Option<Duration>,
    },
}

/// Why a session left Established, or failed to get there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownReason {
    NotificationSent(Notification),
    NotificationReceived(Notification),
    HoldTimerExpired,
    ConnectionClosed,
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutput {
    /// Open an outbound connection to the peer.
    Connect,
    Send {
        conn: ConnId,
        data: Bytes,
    },
    Close {
        conn: ConnId,
    },
    StartTimer {
        timer: TimerKind,
        after: Duration,
    },
    StopTimer(TimerKind),
    StateChanged {
        from: State,
        to: State,
    },
    Established(Negotiated),
    /// An UPDATE received while Established, after RFC 7606 handling.
    Update(Update),
    RouteRefresh(RouteRefresh),
    Down(DownReason),
}
