//! Every quota and default the cloud enforces, in one place.
//!
//! AWS changes these numbers over time (spec "How to read this file"), so
//! each one is a setting with the cloud's value as default. Missing fields
//! take the default, so a topology file names only what it changes.

use serde::{Deserialize, Serialize};

/// What to do when more routes would propagate into a VPC route table
/// than its quota allows. AWS does not say (spec §3.2, unconfirmed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropagatedOverflow {
    /// Install the first routes up to the quota (lowest prefixes first, so
    /// the result is deterministic) and leave the rest out.
    #[default]
    DropExcess,
    /// Install no propagated route at all while over the quota.
    DropAll,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Routes a CGW may advertise on one VPN BGP session; one more tears the
    /// session down (spec §2.4; teardown assumed like DX, unconfirmed).
    pub vpn_bgp_routes_in: u32,
    /// Static routes per VPN connection (spec §2.4).
    pub vpn_static_routes: u32,
    /// Routes the VGW sends on one VPN session (spec §2.3, §4).
    pub vpn_routes_out: u32,
    /// VPN connections per VGW (spec §1.1).
    pub vpn_connections_per_vgw: u32,
    /// Propagated routes per VPC route table (spec §3.2).
    pub propagated_routes_per_table: u32,
    /// Behaviour past `propagated_routes_per_table` (spec §3.2, unconfirmed).
    pub propagated_overflow: PropagatedOverflow,
    /// Non-propagated routes per VPC route table (spec §3.2: 50, up to 1 000).
    pub static_routes_per_table: u32,
    /// Prefixes per address family on a private or transit VIF (spec §5.3).
    pub private_vif_prefixes: u32,
    /// The highest per-VIF allocation AWS allows (spec §5.3).
    pub private_vif_prefixes_max: u32,
    /// Prefixes on a public VIF session (spec §5.3).
    pub public_vif_prefixes: u32,
    /// Seconds after a max-prefix teardown before the session may restart;
    /// `None`: stay Idle until cleared (spec §5.3, recovery unconfirmed).
    pub prefix_limit_restart_after_secs: Option<u64>,
    /// VGWs associated with one DX gateway (spec §6; older text 10).
    pub vgws_per_dx_gateway: u32,
    /// VIFs attached to one DX gateway (spec §6).
    pub vifs_per_dx_gateway: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            vpn_bgp_routes_in: 100,
            vpn_static_routes: 100,
            vpn_routes_out: 1_000,
            vpn_connections_per_vgw: 10,
            propagated_routes_per_table: 100,
            propagated_overflow: PropagatedOverflow::DropExcess,
            static_routes_per_table: 50,
            private_vif_prefixes: 100,
            private_vif_prefixes_max: 1_000,
            public_vif_prefixes: 1_000,
            prefix_limit_restart_after_secs: None,
            vgws_per_dx_gateway: 20,
            vifs_per_dx_gateway: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_the_clouds_values() {
        let l = Limits::default();
        assert_eq!(l.vpn_bgp_routes_in, 100);
        assert_eq!(l.vpn_routes_out, 1_000);
        assert_eq!(l.propagated_routes_per_table, 100);
        assert_eq!(l.private_vif_prefixes, 100);
        assert_eq!(l.public_vif_prefixes, 1_000);
    }

    #[test]
    fn limits_missing_fields_take_defaults_when_deserialized() {
        let l: Limits =
            toml::from_str("vpn_bgp_routes_in = 5\npropagated_overflow = \"drop_all\"").unwrap();
        assert_eq!(l.vpn_bgp_routes_in, 5);
        assert_eq!(l.propagated_overflow, PropagatedOverflow::DropAll);
        assert_eq!(l.private_vif_prefixes, 100);
    }

    #[test]
    fn limits_reject_unknown_fields() {
        assert!(toml::from_str::<Limits>("vpn_bgp_route_in = 5").is_err());
    }
}
