//! The BGP session finite state machine (RFC 4271 §8), sans-IO.
//!
//! CONTRACT (stub): the FSM work fills in the behaviour; the types below are
//! what the router core and the runtime program against. Change them only
//! together with their users.
//!
//! One [`Session`] per configured peer. It may hold two transport
//! connections at once while a collision is resolved (§6.8), each named by a
//! [`ConnId`] the runtime assigns. Time is an input: the session asks for
//! timers with [`SessionOutput::StartTimer`] and learns of their expiry
//! through [`SessionInput::TimerExpired`]. Jitter comes from a PRNG seeded at
//! construction, so a run replays exactly.

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionInput {
    /// ManualStart / AutomaticStart; also what "clear" does after a prefix-limit shutdown.
    Start,
    /// ManualStop: send Cease with this subcode (RFC 4486) and go Idle.
    Stop { subcode: u8 },
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
    Closed { conn: ConnId },
    /// Bytes arrived on a connection.
    Received { conn: ConnId, data: Bytes },
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
    Send { conn: ConnId, data: Bytes },
    Close { conn: ConnId },
    StartTimer { timer: TimerKind, after: Duration },
    StopTimer(TimerKind),
    StateChanged { from: State, to: State },
    Established(Negotiated),
    /// An UPDATE received while Established, after RFC 7606 handling.
    Update(Update),
    RouteRefresh(RouteRefresh),
    Down(DownReason),
}

/// One peer's FSM.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
}

impl Session {
    pub fn new(config: SessionConfig, _seed: u64) -> Self {
        Session {
            config,
            state: State::Idle,
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Feeds one input; appends what must happen to `out`.
    pub fn handle(&mut self, _input: SessionInput, _out: &mut Vec<SessionOutput>) {}
}
