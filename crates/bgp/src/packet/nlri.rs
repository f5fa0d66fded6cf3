//! Address families and prefixes (RFC 4271 §4.3, RFC 4760 §5).

use serde::Serialize;

/// AFI/SAFI pair. Unknown values are kept as numbers so a capability we do
/// not support can still be shown and ignored rather than rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Family {
    pub afi: u16,
    pub safi: u8,
}

impl Family {
    pub const AFI_IPV4: u16 = 1;
    pub const AFI_IPV6: u16 = 2;
    pub const SAFI_UNICAST: u8 = 1;
    pub const IPV4_UNICAST: Family = Family { afi: 1, safi: 1 };
    pub const IPV6_UNICAST: Family = Family { afi: 2, safi: 1 };

    pub fn new(afi: u16, safi: u8) -> Self {
        Family { afi, safi }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4-unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6-unicast"),
            Family { afi, safi } => write!(f, "afi{afi}-safi{safi}"),
        }
    }
}

/// A prefix of either family. Host bits are always zero: the decoder masks
/// them (a peer may send `10.0.0.1/8`; it means `10.0.0.0/8`).
pub type Prefix = ipnet::IpNet;
pub type Prefix4 = ipnet::Ipv4Net;
pub type Prefix6 = ipnet::Ipv6Net;

/// Family of a prefix, for counting per AFI/SAFI (prefix limits, tables).
pub fn family_of(prefix: &Prefix) -> Family {
    match prefix {
        Prefix::V4(_) => Family::IPV4_UNICAST,
        Prefix::V6(_) => Family::IPV6_UNICAST,
    }
}
