//! What one tunnel's IKE peer is told to do: addresses, key, proposals,
//! lifetimes, rekeying, DPD, retransmission and who starts.
//!
//! Defaults are the cloud's (spec §1.2): Main Mode with a pre-shared key,
//! every supported algorithm allowed and tried lowest first, 28 800 s /
//! 3 600 s lifetimes, rekey margin 270 s with 100 % fuzz, DPD every 10 s
//! of silence with a 40 s timeout and action `clear`, startup action `add`
//! (the cloud never sends the first packet). Every number is a knob.

use crate::proposal::{Cipher, DhGroup, Integrity, Phase1Proposal, Phase2Proposal};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The pre-shared key. Wiped when dropped; never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Psk(Vec<u8>);

impl Psk {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Psk(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Psk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Psk(..)")
    }
}

/// Spec §1.2 "Startup action": `add` waits for the customer gateway to
/// initiate; `start` initiates (the cloud does that for IKEv2 only, so an
/// IKEv1 cloud tunnel is always `Add`; emulated customer gateways `Start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StartupAction {
    Add,
    Start,
}

/// Spec §1.2 "DPD timeout action".
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum DpdAction {
    /// Delete the SAs; the tunnel goes down and stays down.
    Clear,
    /// Delete the SAs and initiate again.
    Restart,
    /// Declare nothing.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpdConfig {
    /// A probe after this long without hearing from the peer (and between
    /// unanswered probes). Zero turns DPD off.
    pub delay: Duration,
    /// The peer is dead after this long without an answer, counted from the
    /// last time we heard from it (spec: 40 s, at least 30 s).
    pub timeout: Duration,
    pub action: DpdAction,
}

impl Default for DpdConfig {
    fn default() -> Self {
        DpdConfig {
            delay: Duration::from_secs(10),
            timeout: Duration::from_secs(40),
            action: DpdAction::Clear,
        }
    }
}

/// strongSwan's retransmission: the n-th retransmission (n from 0) waits
/// `base × factor^n`; after `tries` retransmissions and one more wait the
/// exchange is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitConfig {
    pub base: Duration,
    /// The growth factor in thousandths: 1 800 is strongSwan's 1.8.
    pub factor_per_mille: u32,
    pub tries: u32,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        RetransmitConfig {
            base: Duration::from_secs(4),
            factor_per_mille: 1_800,
            tries: 5,
        }
    }
}

/// Spec §1.2 "Rekey margin time" and "Rekey fuzz": a side that rekeys
/// starts at lifetime − margin − random(0 ..= fuzz % of margin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RekeyConfig {
    /// This side starts rekeys at all (the cloud does, spec §1.2).
    pub enabled: bool,
    pub margin: Duration,
    pub fuzz_percent: u32,
}

impl Default for RekeyConfig {
    fn default() -> Self {
        RekeyConfig {
            enabled: true,
            margin: Duration::from_secs(270),
            fuzz_percent: 100,
        }
    }
}

/// An IPv4 traffic selector as carried in Quick Mode ID payloads
/// (ID_IPV4_ADDR_SUBNET, RFC 2407 §4.6.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Selector {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Selector {
    pub const ANY: Selector = Selector {
        addr: Ipv4Addr::UNSPECIFIED,
        prefix_len: 0,
    };

    pub fn new(addr: Ipv4Addr, prefix_len: u8) -> Self {
        let prefix_len = prefix_len.min(32);
        Selector {
            addr: Ipv4Addr::from(u32::from(addr) & mask(prefix_len)),
            prefix_len,
        }
    }

    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask(self.prefix_len))
    }

    /// `other` lies wholly inside `self`.
    pub fn contains(&self, other: &Selector) -> bool {
        other.prefix_len >= self.prefix_len
            && u32::from(other.addr) & mask(self.prefix_len) == u32::from(self.addr)
    }
}

fn mask(prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        n => u32::MAX << (32 - u32::from(n.min(32))),
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// Our address and IKE port (500).
    pub local: SocketAddr,
    /// The peer's address and IKE port (500). Replies go wherever the
    /// peer's packets come from (NAT, the float to 4500).
    pub remote: SocketAddr,
    pub psk: Psk,
    /// Phase 1 proposals in our order of preference: offered in this order
    /// as initiator, walked in this order as responder.
    pub phase1: Vec<Phase1Proposal>,
    pub phase2: Vec<Phase2Proposal>,
    pub phase1_lifetime: Duration,
    pub phase2_lifetime: Duration,
    pub rekey: RekeyConfig,
    pub dpd: DpdConfig,
    pub retransmit: RetransmitConfig,
    pub startup: StartupAction,
    /// Offer NAT-T (RFC 3947) and float to UDP 4500 when both sides do.
    pub nat_traversal: bool,
    /// Float to 4500 and encapsulate ESP in UDP even without a NAT, as
    /// strongSwan's kernel-libipsec does.
    pub force_encapsulation: bool,
    /// Our side's traffic selector (for the cloud: the remote network seen
    /// from the customer, 0.0.0.0/0).
    pub local_ts: Selector,
    pub remote_ts: Selector,
    /// As responder, accept selectors narrower than ours (and echo them).
    pub accept_narrower_selectors: bool,
}

impl PeerConfig {
    /// The cloud end of one tunnel: responder only, every supported
    /// algorithm, lowest first (spec §1.2).
    pub fn cloud(local: SocketAddr, remote: SocketAddr, psk: Psk) -> Self {
        PeerConfig {
            local,
            remote,
            psk,
            phase1: Phase1Proposal::cloud_defaults(),
            phase2: Phase2Proposal::cloud_defaults(),
            phase1_lifetime: Duration::from_secs(28_800),
            phase2_lifetime: Duration::from_secs(3_600),
            rekey: RekeyConfig::default(),
            dpd: DpdConfig::default(),
            retransmit: RetransmitConfig::default(),
            startup: StartupAction::Add,
            nat_traversal: true,
            force_encapsulation: false,
            local_ts: Selector::ANY,
            remote_ts: Selector::ANY,
            accept_narrower_selectors: true,
        }
    }

    /// An emulated customer gateway: initiates with the generated
    /// configuration's algorithms (aes128-sha1-modp1024 both phases).
    pub fn customer(local: SocketAddr, remote: SocketAddr, psk: Psk) -> Self {
        PeerConfig {
            phase1: vec![Phase1Proposal {
                cipher: Cipher::Aes128Cbc,
                integrity: Integrity::Sha1,
                group: DhGroup::Modp1024,
            }],
            phase2: vec![Phase2Proposal {
                cipher: Cipher::Aes128Cbc,
                integrity: Integrity::Sha1,
                pfs: Some(DhGroup::Modp1024),
            }],
            startup: StartupAction::Start,
            ..PeerConfig::cloud(local, remote, psk)
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.phase1.is_empty() || self.phase2.is_empty() {
            return Err(ConfigError::NoProposals);
        }
        if self.phase2_lifetime >= self.phase1_lifetime {
            return Err(ConfigError::Phase2OutlivesPhase1);
        }
        if self.rekey.fuzz_percent > 100 {
            return Err(ConfigError::Fuzz);
        }
        if self.rekey.enabled && self.rekey.margin >= self.phase2_lifetime {
            return Err(ConfigError::Margin);
        }
        if !self.dpd.delay.is_zero() && self.dpd.timeout < self.dpd.delay {
            return Err(ConfigError::DpdTimeout);
        }
        if self.retransmit.base.is_zero() {
            return Err(ConfigError::Retransmit);
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("at least one phase 1 and one phase 2 proposal is needed")]
    NoProposals,
    #[error("the phase 2 lifetime must be shorter than the phase 1 lifetime")]
    Phase2OutlivesPhase1,
    #[error("rekey fuzz is a percentage, 0 to 100")]
    Fuzz,
    #[error("the rekey margin must be shorter than the phase 2 lifetime")]
    Margin,
    #[error("the DPD timeout must be at least the DPD delay")]
    DpdTimeout,
    #[error("the retransmission timeout must be nonzero")]
    Retransmit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_containment() {
        let any = Selector::ANY;
        let net = Selector::new(Ipv4Addr::new(10, 1, 2, 3), 16);
        assert_eq!(net.addr, Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(net.netmask(), Ipv4Addr::new(255, 255, 0, 0));
        assert!(any.contains(&net));
        assert!(!net.contains(&any));
        assert!(net.contains(&Selector::new(Ipv4Addr::new(10, 1, 9, 0), 24)));
        assert!(!net.contains(&Selector::new(Ipv4Addr::new(10, 2, 0, 0), 24)));
    }

    #[test]
    fn cloud_defaults_validate() {
        let a: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let b: SocketAddr = "198.51.100.1:500".parse().unwrap();
        assert_eq!(PeerConfig::cloud(a, b, Psk::new("k")).validate(), Ok(()));
        assert_eq!(PeerConfig::customer(b, a, Psk::new("k")).validate(), Ok(()));
    }
}
