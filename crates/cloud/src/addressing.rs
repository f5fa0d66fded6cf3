//! Link addressing: VPN tunnel inside /30s and Direct Connect peer /30s.

use crate::error::ConfigError;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// 169.254.0.0/16: every tunnel inside CIDR comes from it (spec §1.3).
const LINK_LOCAL: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(169, 254, 0, 0), 16) {
    Ok(net) => net,
    Err(_) => panic!("constant prefix length is valid"),
};

/// Inside /30s AWS refuses (spec §1.3).
const RESERVED_INSIDE: [[u8; 4]; 7] = [
    [169, 254, 0, 0],
    [169, 254, 1, 0],
    [169, 254, 2, 0],
    [169, 254, 3, 0],
    [169, 254, 4, 0],
    [169, 254, 5, 0],
    [169, 254, 169, 252],
];

/// A validated VPN tunnel inside CIDR: a /30 of 169.254.0.0/16, not
/// reserved. AWS takes network+1, the customer network+2 (spec §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InsideCidr(Ipv4Net);

impl InsideCidr {
    pub fn new(cidr: Ipv4Net) -> Result<Self, ConfigError> {
        if cidr.prefix_len() != 30 {
            return Err(ConfigError::InsideCidrNotSlash30 { cidr });
        }
        if cidr.trunc() != cidr {
            return Err(ConfigError::InsideCidrHostBits {
                cidr,
                network: cidr.trunc(),
            });
        }
        if !LINK_LOCAL.contains(&cidr) {
            return Err(ConfigError::InsideCidrNotLinkLocal { cidr });
        }
        if RESERVED_INSIDE.contains(&cidr.network().octets()) {
            return Err(ConfigError::InsideCidrReserved { cidr });
        }
        Ok(InsideCidr(cidr))
    }

    pub fn cidr(&self) -> Ipv4Net {
        self.0
    }

    /// The VGW's inside address, also its BGP router ID (spec §1.3, observed).
    pub fn aws_address(&self) -> Ipv4Addr {
        host(self.0, 1)
    }

    /// The customer gateway's inside address (spec §1.3).
    pub fn customer_address(&self) -> Ipv4Addr {
        host(self.0, 2)
    }
}

/// Host `n` (1 or 2) of a /30; cannot overflow because the network of a /30
/// ends in two zero bits.
fn host(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()) | (n & 0b11))
}

/// Inside CIDRs must be unique among the tunnels of one VGW (spec §1.3).
/// `tunnels` pairs a tunnel's name with its inside CIDR.
pub fn check_unique_inside_cidrs(
    vgw: &str,
    tunnels: &[(String, InsideCidr)],
) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<InsideCidr, &str> = BTreeMap::new();
    for (name, cidr) in tunnels {
        if let Some(first) = seen.insert(*cidr, name) {
            return Err(ConfigError::InsideCidrDuplicate {
                vgw: vgw.to_string(),
                cidr: cidr.cidr(),
                first: first.to_string(),
                second: name.clone(),
            });
        }
    }
    Ok(())
}

/// The two ends of a Direct Connect BGP peering: two different usable hosts
/// of one /30 (spec §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PeerAddresses {
    pub aws: Ipv4Addr,
    pub customer: Ipv4Addr,
}

impl PeerAddresses {
    pub fn new(aws: Ipv4Addr, customer: Ipv4Addr) -> Result<Self, ConfigError> {
        let err = ConfigError::PeerAddressesNotOneSlash30 { aws, customer };
        let (a, c) = (u32::from(aws), u32::from(customer));
        let usable = |x: u32| matches!(x & 0b11, 1 | 2);
        if a >> 2 != c >> 2 || a == c || !usable(a) || !usable(c) {
            return Err(err);
        }
        Ok(PeerAddresses { aws, customer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn inside_cidr_aws_takes_first_host_customer_second() {
        let c = InsideCidr::new(net("169.254.44.40/30")).unwrap();
        assert_eq!(c.aws_address(), Ipv4Addr::new(169, 254, 44, 41));
        assert_eq!(c.customer_address(), Ipv4Addr::new(169, 254, 44, 42));
    }

    #[test]
    fn inside_cidr_reserved_ranges_are_rejected() {
        for r in [
            "169.254.0.0/30",
            "169.254.1.0/30",
            "169.254.2.0/30",
            "169.254.3.0/30",
            "169.254.4.0/30",
            "169.254.5.0/30",
            "169.254.169.252/30",
        ] {
            assert_eq!(
                InsideCidr::new(net(r)),
                Err(ConfigError::InsideCidrReserved { cidr: net(r) }),
                "{r}"
            );
        }
        assert!(InsideCidr::new(net("169.254.5.4/30")).is_ok());
    }

    #[test]
    fn inside_cidr_must_be_a_slash30_inside_169_254() {
        assert!(matches!(
            InsideCidr::new(net("169.254.10.0/29")),
            Err(ConfigError::InsideCidrNotSlash30 { .. })
        ));
        assert!(matches!(
            InsideCidr::new(net("10.0.0.0/30")),
            Err(ConfigError::InsideCidrNotLinkLocal { .. })
        ));
        assert!(matches!(
            InsideCidr::new(net("169.254.10.1/30")),
            Err(ConfigError::InsideCidrHostBits { .. })
        ));
    }

    #[test]
    fn inside_cidr_duplicates_within_one_vgw_are_rejected() {
        let c = InsideCidr::new(net("169.254.10.0/30")).unwrap();
        let d = InsideCidr::new(net("169.254.10.4/30")).unwrap();
        let ok = [("vpn1/t1".to_string(), c), ("vpn1/t2".to_string(), d)];
        assert!(check_unique_inside_cidrs("vgw", &ok).is_ok());
        let dup = [("vpn1/t1".to_string(), c), ("vpn2/t1".to_string(), c)];
        let err = check_unique_inside_cidrs("vgw", &dup).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tunnel inside CIDR 169.254.10.0/30 is used twice on VGW vgw: by vpn1/t1 and by vpn2/t1"
        );
    }

    #[test]
    fn dx_peer_addresses_are_two_hosts_of_one_slash30() {
        let a = Ipv4Addr::new(169, 254, 7, 1);
        assert!(PeerAddresses::new(a, Ipv4Addr::new(169, 254, 7, 2)).is_ok());
        assert!(PeerAddresses::new(a, Ipv4Addr::new(169, 254, 7, 6)).is_err());
        assert!(PeerAddresses::new(a, a).is_err());
        assert!(PeerAddresses::new(Ipv4Addr::new(169, 254, 7, 0), a).is_err());
        assert!(PeerAddresses::new(a, Ipv4Addr::new(169, 254, 7, 3)).is_err());
    }
}
