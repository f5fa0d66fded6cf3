//! The validated lab: every name resolved, every number in range, every
//! virtual link paired and addressed. The runtime trusts it.

use hybridlab_bgp::packet::{Family, Prefix};
use hybridlab_bgp::policy::Policy;
use hybridlab_cloud::fabric::CloudPeer;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// The file it came from, as given; for messages.
    pub file: String,
    pub lab: Lab,
    pub routers: Vec<Router>,
    pub policies: Vec<Policy>,
    /// Cloud nodes; empty for a lab of routers only. Their BGP speakers
    /// (one per VGW, one per DX gateway) are also in [`Topology::routers`].
    pub cloud: crate::cloud::Cloud,
    /// Routers of the file that stand for real routers
    /// ([`ParseOptions::external`]): not in `routers`, their cloud sessions
    /// are external neighbours of the cloud speakers.
    pub external: Vec<String>,
    /// `[[expect]]`s, in file order.
    pub expectations: Vec<crate::expect::Expectation>,
}

impl Topology {
    pub fn router(&self, name: &str) -> Option<&Router> {
        self.routers.iter().find(|r| r.name == name)
    }

    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The routers that speak for cloud nodes: a VGW or a DX gateway each.
    pub fn cloud_speakers(&self) -> impl Iterator<Item = &Router> {
        self.routers.iter().filter(|r| r.role != RouterRole::Router)
    }
}

/// How a file is read beyond its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Names of `[[router]]`s that real routers take the place of: each is
    /// left out of [`Topology::routers`] and the cloud's sessions to it
    /// become external neighbours of the cloud speakers.
    pub external: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lab {
    pub name: String,
    pub api: SocketAddr,
    pub seed: u64,
    /// RFC 4271 §10 jitter on ConnectRetry and Keepalive. Off makes every
    /// timer fire at its nominal instant, for drills that assert timing.
    pub jitter: bool,
}

pub const DEFAULT_API: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 50179);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Router {
    pub name: String,
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub networks: Vec<Prefix>,
    pub always_compare_med: bool,
    pub listen: Vec<SocketAddr>,
    /// Floor on both BFD intervals of every session of this router: a peer
    /// or a configuration asking for faster packets gets this rate.
    pub bfd_min_interval: Duration,
    pub neighbors: Vec<Neighbor>,
    pub role: RouterRole,
}

/// What a router of the lab stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouterRole {
    /// A `[[router]]` of the file.
    #[default]
    Router,
    /// The BGP speaker of a `[[vgw]]`.
    Vgw,
    /// The BGP speaker of a `[[dx_gateway]]`.
    DxGateway,
    /// The BGP speaker of a public `[[vif]]`: AWS's public network, ASN 7224.
    PublicVif,
}

/// The default floor on BFD intervals, as a Direct Connect VIF has it.
pub const DEFAULT_BFD_MIN_INTERVAL: Duration = Duration::from_millis(300);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbor {
    pub name: String,
    pub kind: NeighborKind,
    pub mode: Mode,
    pub remote_asn: u32,
    pub md5_password: Option<String>,
    pub ttl: u8,
    pub hold_time: u16,
    /// `None`: hold_time / 3.
    pub keepalive: Option<u16>,
    pub connect_retry: Duration,
    pub families: Vec<Family>,
    pub next_hop6: Option<Ipv6Addr>,
    /// Applies to each family separately.
    pub max_prefix: Option<MaxPrefix>,
    /// Asynchronous BFD to this neighbour (RFC 5880, RFC 5881).
    pub bfd: Option<Bfd>,
    /// Policy names, all defined.
    pub import: Vec<String>,
    pub export: Vec<String>,
    /// This session's BGP identifier instead of the router's (a VGW tunnel
    /// uses its inside address, spec §2.2).
    pub router_id: Option<Ipv4Addr>,
    /// On a cloud speaker (and on the customer router's side of the same
    /// session): which cloud path this session is.
    pub cloud_path: Option<CloudPeer>,
    /// The session rides in an IPsec tunnel (a VPN with `ipsec = true`,
    /// or a neighbour's `ipsec = { ... }` toward a real responder).
    pub tunnel: Option<crate::cloud::TunnelEnd>,
    /// A BGP session runs with this neighbour. `false` only beside a
    /// `tunnel`: an IPsec tunnel with no BGP session in it, a tunnel of a
    /// `routing = "static"` VPN with `ipsec = true`. The runtime then runs
    /// the tunnel (IKE, ESP, pings to the VPC) and no BGP peer; the BGP
    /// fields (ASN, timers, max prefix, policies) mean nothing.
    pub bgp: bool,
}

impl Neighbor {
    pub fn is_emulated(&self) -> bool {
        matches!(self.kind, NeighborKind::Emulated(_))
    }

    /// An IPsec tunnel with no BGP session: a static VPN tunnel.
    pub fn is_tunnel_only(&self) -> bool {
        !self.bgp && self.tunnel.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeighborKind {
    /// Another router of this lab, over an in-memory link.
    Emulated(VirtualLink),
    /// A real BGP speaker over the kernel's TCP.
    External {
        address: IpAddr,
        port: u16,
        /// Bind outbound connections here.
        local_address: Option<IpAddr>,
    },
}

/// One side of an in-memory link between two routers of the lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualLink {
    /// Name of the router at the other end.
    pub router: String,
    /// Where the other end's configuration is: indices into
    /// [`Topology::routers`] and that router's [`Router::neighbors`].
    pub far_router: usize,
    pub far_neighbor: usize,
    /// This side's address (configured, or assigned from 100.127.0.0/16).
    pub local_address: IpAddr,
    /// The other side's address.
    pub remote_address: IpAddr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Active,
    Passive,
    Both,
}

impl Mode {
    /// Opens connections (RFC 4271 §8.1.1: not PassiveTcpEstablishment).
    pub fn connects(self) -> bool {
        matches!(self, Mode::Active | Mode::Both)
    }

    pub fn accepts(self) -> bool {
        matches!(self, Mode::Passive | Mode::Both)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPrefix {
    pub limit: u32,
    pub restart_after: Option<Duration>,
}

/// BFD settings of one neighbour; `bfd = true` is [`Bfd::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bfd {
    /// Desired Min TX Interval once Up.
    pub min_tx: Duration,
    /// Required Min RX Interval.
    pub min_rx: Duration,
    /// Detect Mult: packets missed before the session is declared down.
    pub multiplier: u8,
    /// RFC 5880 §6.1: send nothing until the peer has spoken.
    pub passive: bool,
}

impl Default for Bfd {
    /// 300 ms × 3, active: what a Direct Connect VIF runs.
    fn default() -> Self {
        Bfd {
            min_tx: Duration::from_millis(300),
            min_rx: Duration::from_millis(300),
            multiplier: 3,
            passive: false,
        }
    }
}
