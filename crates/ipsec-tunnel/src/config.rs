//! What one tunnel end is: its IKE peer, its inside endpoint, its BGP
//! neighbour and the ESP window.

use hybridlab_ike::peer::IKE_PORT;
use hybridlab_ike::{Integrity, PeerConfig, Psk};
use hybridlab_tunnel_ip::TunnelIpConfig;
use std::net::{Ipv4Addr, SocketAddr};

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
    /// A tunnel end from its parts, with the default replay window and
    /// BGP listening on 179.
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

    /// The cloud's end: IKE responder with every algorithm the cloud
    /// allows (`PeerConfig::cloud`, spec §1.2), inside address .1.
    pub fn cloud(
        name: impl Into<String>,
        outside: Ipv4Addr,
        peer_outside: Ipv4Addr,
        psk: Psk,
        inside: Ipv4Addr,
        peer_inside: Ipv4Addr,
    ) -> Self {
        let ike = PeerConfig::cloud(
            SocketAddr::new(outside.into(), IKE_PORT),
            SocketAddr::new(peer_outside.into(), IKE_PORT),
            psk,
        );
        TunnelConfig::new(name, ike, TunnelIpConfig::new(inside), peer_inside)
    }

    /// An emulated customer gateway: initiator with the generated
    /// configuration's algorithms (`PeerConfig::customer`), and ESP forced
    /// into UDP 4500 so that no end needs a raw socket for protocol 50
    /// (the cloud end follows: it sees the forced NAT-D as a NAT).
    pub fn customer(
        name: impl Into<String>,
        outside: Ipv4Addr,
        peer_outside: Ipv4Addr,
        psk: Psk,
        inside: Ipv4Addr,
        peer_inside: Ipv4Addr,
    ) -> Self {
        let mut ike = PeerConfig::customer(
            SocketAddr::new(outside.into(), IKE_PORT),
            SocketAddr::new(peer_outside.into(), IKE_PORT),
            psk,
        );
        ike.force_encapsulation = true;
        TunnelConfig::new(name, ike, TunnelIpConfig::new(inside), peer_inside)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IpsecTunnel;
    use hybridlab_ike::SeededRandom;

    fn pair() -> (TunnelConfig, TunnelConfig) {
        let (a, c) = (
            Ipv4Addr::new(198, 51, 100, 1),
            Ipv4Addr::new(203, 0, 113, 2),
        );
        let (ai, ci) = (
            Ipv4Addr::new(169, 254, 10, 1),
            Ipv4Addr::new(169, 254, 10, 2),
        );
        (
            TunnelConfig::cloud("t/aws", a, c, Psk::new("k"), ai, ci),
            TunnelConfig::customer("t/cgw", c, a, Psk::new("k"), ci, ai),
        )
    }

    #[test]
    fn constructors_build_and_the_customer_forces_udp() {
        let (aws, cgw) = pair();
        assert!(!aws.ike.force_encapsulation);
        assert!(cgw.ike.force_encapsulation);
        assert_eq!(aws.ike.local.port(), 500);
        for c in [aws, cgw] {
            IpsecTunnel::new(c, Box::new(SeededRandom::new(1))).unwrap();
        }
    }

    #[test]
    fn proposals_esp_cannot_carry_are_refused() {
        let (mut aws, _) = pair();
        aws.ike.phase2.retain(|p| !esp_can_carry(p.integrity));
        assert!(!aws.ike.phase2.is_empty());
        let e = IpsecTunnel::new(aws, Box::new(SeededRandom::new(1))).unwrap_err();
        assert!(matches!(e, TunnelError::NoEspProposal));
    }

    #[test]
    fn a_bad_replay_window_is_refused() {
        let (mut aws, _) = pair();
        aws.replay_window = 0;
        let e = IpsecTunnel::new(aws, Box::new(SeededRandom::new(1))).unwrap_err();
        assert!(matches!(e, TunnelError::ReplayWindow(0)));
    }
}
