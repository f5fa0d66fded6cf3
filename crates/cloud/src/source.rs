//! Where a route came from, ranked once for the whole cloud.
//!
//! The VGW (spec §2.5, §7) and the VPC route table (spec §3.1 item 5) use
//! the same order for identical prefixes: Direct Connect BGP, then static
//! VPN routes, then BGP VPN routes. Defining it here keeps the two from
//! drifting apart.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Source of a learned route. `Ord` sorts the preferred source first:
/// `DirectConnect < VpnStatic < VpnBgp`, so the minimum wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteSource {
    /// BGP over a Direct Connect VIF (direct or through a DX gateway).
    DirectConnect,
    /// A static route of a static-routing VPN connection.
    VpnStatic,
    /// A route learned over a VPN tunnel's BGP session.
    VpnBgp,
}

impl RouteSource {
    /// True for the two VPN kinds: the AS_PATH and MED steps of the VGW
    /// only apply among VPN BGP routes (spec §2.5, §7).
    pub fn is_vpn(self) -> bool {
        matches!(self, RouteSource::VpnStatic | RouteSource::VpnBgp)
    }
}

impl fmt::Display for RouteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteSource::DirectConnect => "Direct Connect BGP",
            RouteSource::VpnStatic => "VPN static",
            RouteSource::VpnBgp => "VPN BGP",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_source_order_is_dx_then_vpn_static_then_vpn_bgp() {
        let mut sources = vec![
            RouteSource::VpnBgp,
            RouteSource::DirectConnect,
            RouteSource::VpnStatic,
        ];
        sources.sort();
        assert_eq!(
            sources,
            vec![
                RouteSource::DirectConnect,
                RouteSource::VpnStatic,
                RouteSource::VpnBgp
            ]
        );
    }
}
