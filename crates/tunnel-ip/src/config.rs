//! What one tunnel endpoint is: its inside address, the VPC ranges it
//! answers pings for, and the sizes the tunnel imposes.

use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// The inside networks of AWS VPN tunnels are /30s out of 169.254.0.0/16.
pub const DEFAULT_PREFIX_LEN: u8 = 30;

/// IP MTU left inside an ESP tunnel over a 1500-byte path: AWS's customer
/// gateway guides set the tunnel interface MTU to 1436.
pub const DEFAULT_MTU: u16 = 1436;

/// The cloud clamps TCP MSS to 1379 inside the tunnel (spec §1.4, the
/// customer gateway guides' `ip tcp adjust-mss 1379`).
pub const DEFAULT_TCP_MSS: u16 = 1379;

/// IPv4 plus TCP headers without options: MSS = MTU - 40 (RFC 6691 §2).
pub(crate) const IP_TCP_HEADERS: u16 = 40;

/// The smallest MTU every IPv4 host must handle (RFC 791 §3.2).
const MIN_MTU: u16 = 68;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelIpConfig {
    /// This end's inside address (169.254.x.1 on the cloud side, .2 on the
    /// customer side).
    pub local: Ipv4Addr,
    /// Length of the inside network's prefix (30).
    pub prefix_len: u8,
    /// Emulated VPC hosts: an echo request to any address inside these is
    /// answered as if that host were there.
    pub answer_ping_for: Vec<Ipv4Net>,
    /// Largest IP packet the tunnel carries.
    pub mtu: u16,
    /// Largest TCP segment payload we send or ask for; the effective value
    /// is the smaller of this and `mtu - 40`.
    pub tcp_mss: u16,
    /// Seeds TCP initial sequence numbers and ephemeral ports, so a run
    /// replays exactly. Draw it from the lab's seeded PRNG.
    pub seed: u64,
}

impl TunnelIpConfig {
    /// An endpoint at `local` with AWS's sizes and no VPC hosts.
    pub fn new(local: Ipv4Addr) -> Self {
        TunnelIpConfig {
            local,
            prefix_len: DEFAULT_PREFIX_LEN,
            answer_ping_for: Vec::new(),
            mtu: DEFAULT_MTU,
            tcp_mss: DEFAULT_TCP_MSS,
            seed: 0,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.prefix_len > 32 {
            return Err(ConfigError::PrefixLen(self.prefix_len));
        }
        if self.local.is_unspecified() || self.local.is_broadcast() || self.local.is_multicast() {
            return Err(ConfigError::Local(self.local));
        }
        if self.mtu < MIN_MTU {
            return Err(ConfigError::Mtu(self.mtu));
        }
        if self.tcp_mss == 0 {
            return Err(ConfigError::Mss);
        }
        Ok(())
    }

    /// The IP MTU handed to the TCP stack. The stack derives the MSS it
    /// advertises and the segments it sends from it (MTU - 40), so capping
    /// it at MSS + 40 is what clamps the MSS.
    pub(crate) fn tcp_ip_mtu(&self) -> usize {
        usize::from(self.mtu.min(self.tcp_mss.saturating_add(IP_TCP_HEADERS)))
    }

    /// The MSS this endpoint advertises in its SYNs.
    pub fn effective_mss(&self) -> u16 {
        self.mtu.saturating_sub(IP_TCP_HEADERS).min(self.tcp_mss)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("prefix length {0} is longer than 32")]
    PrefixLen(u8),
    #[error("{0} cannot be an interface address")]
    Local(Ipv4Addr),
    #[error("MTU {0} is below IPv4's minimum of 68 (RFC 791)")]
    Mtu(u16),
    #[error("TCP MSS must be positive")]
    Mss,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mss_is_the_smaller_of_the_clamp_and_the_mtu() {
        let mut c = TunnelIpConfig::new(Ipv4Addr::new(169, 254, 10, 1));
        assert_eq!(c.effective_mss(), 1379);
        assert_eq!(c.tcp_ip_mtu(), 1419);
        c.mtu = 1400;
        assert_eq!(c.effective_mss(), 1360);
        assert_eq!(c.tcp_ip_mtu(), 1400);
    }

    #[test]
    fn nonsense_is_refused() {
        let mut c = TunnelIpConfig::new(Ipv4Addr::UNSPECIFIED);
        assert_eq!(c.validate(), Err(ConfigError::Local(Ipv4Addr::UNSPECIFIED)));
        c.local = Ipv4Addr::new(169, 254, 10, 1);
        c.mtu = 60;
        assert_eq!(c.validate(), Err(ConfigError::Mtu(60)));
        c.mtu = 1436;
        c.prefix_len = 33;
        assert_eq!(c.validate(), Err(ConfigError::PrefixLen(33)));
    }
}
