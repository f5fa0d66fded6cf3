//! What one tunnel end is: its IKE peer, its inside endpoint, its BGP
//! neighbour and the ESP window.

use hybridlab_ike::{Integrity, PeerConfig};
use hybridlab_tunnel_ip::TunnelIpConfig;
use std::net::Ipv4Addr;

/// RFC 4303 §3.4.3 allows any window; 1024 is what the cloud uses
/// (spec §1.2 "Replay window size").
pub const DEFAULT_REPLAY_WINDOW: u32 = 1024;

#[derive(Clone, Debug)]
pub struct TunnelConfig {
    /// "vpn1/tunnel1": for logs and views.
    pub name: String,
    /// Outside addresses, PSK, proposals, role/startup, lifetimes, DPD.
    pub ike: PeerConfig,
    /// Inside address (.1 cloud, .2 customer), VPC ranges answered for
    /// ping, MTU, MSS.
    pub inside: TunnelIpConfig,
    /// The other inside address: the BGP neighbour.
    pub bgp_peer: Ipv4Addr,
    /// Listen on TCP 179 for the neighbour (BGP passive open).
    pub accept_bgp: bool,
    pub replay_window: u32,
    /// Seeds what is not key material (the inside endpoint's ISNs and
    /// ports when `inside.seed` is 0).
    pub seed: u64,
}

impl TunnelConfig {
    /// The cloud end of a tunnel: IKE responder with the cloud's defaults
    /// (`PeerConfig::cloud`), listening for BGP.
    pub fn new(
        name: impl Into<String>,
        ike: PeerConfig,
        inside: TunnelIpConfig,
        bgp_peer: Ipv4Addr,
    ) -> Self {
        TunnelConfig {
            name: name.into(),
            ike,
            inside,
            bgp_peer,
            accept_bgp: true,
            replay_window: DEFAULT_REPLAY_WINDOW,
            seed: 0,
        }
    }
}

/// ESP here does HMAC-SHA1-96 and HMAC-SHA2-256-128 only (crates/esp):
/// phase 2 proposals with other integrity are removed before IKE sees
/// them, so IKE never agrees to an SA the data plane cannot carry.
pub(crate) fn esp_can_carry(integrity: Integrity) -> bool {
    matches!(integrity, Integrity::Sha1 | Integrity::Sha256)
}

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("IKE configuration: {0}")]
    Ike(#[from] hybridlab_ike::config::ConfigError),
    #[error("inside endpoint: {0}")]
    Inside(#[from] hybridlab_tunnel_ip::TunnelIpError),
    #[error("no phase 2 proposal the ESP data plane supports (HMAC-SHA1 or HMAC-SHA2-256)")]
    NoEspProposal,
    #[error("anti-replay window of {0} packets is not supported")]
    ReplayWindow(u32),
}
