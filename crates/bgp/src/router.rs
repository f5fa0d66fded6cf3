//! One BGP speaker, sans-IO: its sessions, its RIB, its policies.
//!
//! CONTRACT (stub): the RIB work fills in the behaviour. The runtime drives a
//! [`Router`] per emulated router node: it turns sockets, virtual links and
//! timers into [`SessionInput`]s addressed by [`PeerId`], and carries out the
//! I/O in the returned [`RouterOutput`]s.

use crate::packet::{Family, PathAttributes, Prefix};
use crate::policy::Policy;
use crate::session::{SessionConfig, SessionInput, SessionOutput};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Index of a peer in its router, in the order peers were added.
pub type PeerId = usize;

#[derive(Clone, Debug)]
pub struct RouterConfig {
    pub name: String,
    pub asn: u32,
    pub router_id: Ipv4Addr,
    /// Compare MED between routes from different neighbouring ASes too.
    pub always_compare_med: bool,
}

/// Maximum number of prefixes accepted from a peer in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixLimit {
    pub limit: u32,
    /// Restart the session this long after the shutdown; `None`: stay Idle
    /// until cleared.
    pub restart_after: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// Label shown in `show sessions`.
    pub name: String,
    pub session: SessionConfig,
    /// Next hop to put on IPv6 routes sent to this peer; `None`: the
    /// IPv4-mapped form of the local IPv4 address of the connection.
    pub next_hop6: Option<std::net::Ipv6Addr>,
    pub import: Policy,
    pub export: Policy,
    pub max_prefix: BTreeMap<Family, PrefixLimit>,
}

/// An I/O action for the runtime, or an event worth logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterOutput {
    pub peer: PeerId,
    pub action: SessionOutput,
}

#[derive(Debug)]
pub struct Router {
    config: RouterConfig,
}

impl Router {
    pub fn new(config: RouterConfig, _seed: u64) -> Self {
        Router { config }
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn add_peer(&mut self, _peer: PeerConfig) -> PeerId {
        0
    }

    /// Starts every peer (AutomaticStart).
    pub fn start(&mut self, _out: &mut Vec<RouterOutput>) {}

    pub fn handle(&mut self, _peer: PeerId, _input: SessionInput, _out: &mut Vec<RouterOutput>) {}

    /// Originates `prefix` from this router (like `network` in FRR).
    pub fn announce(&mut self, _prefix: Prefix, _attrs: PathAttributes, _out: &mut Vec<RouterOutput>) {}

    pub fn withdraw(&mut self, _prefix: Prefix, _out: &mut Vec<RouterOutput>) {}

    /// `clear bgp NEIGHBOR`: restart the session, leaving a prefix-limit Idle.
    pub fn clear(&mut self, _peer: PeerId, _out: &mut Vec<RouterOutput>) {}

    /// Cease / Administrative Shutdown (RFC 4486 subcode 2) to every peer.
    pub fn shutdown(&mut self, _out: &mut Vec<RouterOutput>) {}

    /// Address of the peer's established connection, for display.
    pub fn peer_address(&self, _peer: PeerId) -> Option<IpAddr> {
        None
    }
}
