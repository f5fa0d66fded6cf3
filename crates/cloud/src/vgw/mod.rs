//! The virtual private gateway: which path it sends traffic on, what it
//! announces on each tunnel, and how its tunnels report status.
//!
//! The runtime runs one BGP session per tunnel (and per directly attached
//! VIF) and keeps their Adj-RIB-In; it turns received routes into
//! [`Candidate`](crate::path::Candidate)s and asks [`lookup`] / [`select`] here, because the VGW's
//! order (spec §2.5) is not RFC 4271's.

mod export;
mod primary;
mod selection;
mod tunnel;

pub use export::{export_to_direct_vif, export_to_tunnel, TunnelExport};
pub use primary::{choose_primary, primary_before_maintenance, tunnel_med};
pub use selection::{lookup, offer_to_vpc, select, table, VgwSelection};
pub use tunnel::{
    tunnel_status, vpn_prefix_limit, TunnelInputs, TunnelRouting, TunnelState, TunnelStatus,
};

/// Timers the VGW offers in its OPEN (spec §2.2, checklist 7).
pub const HOLD_TIME_SECS: u16 = 30;
pub const KEEPALIVE_SECS: u16 = 10;
/// Graceful restart time the VGW advertises (spec §2.2, observed).
pub const GRACEFUL_RESTART_SECS: u16 = 120;

/// MED on the primary egress tunnel and on the others (spec §2.3, observed).
pub const MED_PRIMARY: u32 = 100;
pub const MED_SECONDARY: u32 = 200;

/// Builders shared by the tests of the VGW's modules.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::dx::communities::LocalPreference;
    use crate::path::{Candidate, Egress, TunnelId};
    use crate::source::RouteSource;
    use hybridlab_bgp::packet::AsPath;
    use ipnet::IpNet;

    pub fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    pub fn t(conn: &str, n: u8) -> TunnelId {
        TunnelId::new(conn, n)
    }

    pub fn bgp(prefix: &str, tunnel: TunnelId, path: &[u32], med: Option<u32>) -> Candidate {
        Candidate {
            prefix: p(prefix),
            egress: Egress::Tunnel(tunnel),
            source: RouteSource::VpnBgp,
            as_path: AsPath::from_sequence(path.iter().copied()),
            med,
            local_pref: LocalPreference::Medium,
            communities: Vec::new(),
        }
    }

    pub fn dx(prefix: &str, vif: &str, path: &[u32]) -> Candidate {
        Candidate {
            prefix: p(prefix),
            egress: Egress::Vif(vif.into()),
            source: RouteSource::DirectConnect,
            as_path: AsPath::from_sequence(path.iter().copied()),
            med: None,
            local_pref: LocalPreference::Medium,
            communities: Vec::new(),
        }
    }

    pub fn bgp_up(accepted: usize) -> TunnelInputs {
        TunnelInputs {
            routing: TunnelRouting::Bgp,
            ipsec_up: true,
            bgp_established: true,
            accepted_routes: accepted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vgw_timers_are_hold_30_keepalive_10() {
        assert_eq!((HOLD_TIME_SECS, KEEPALIVE_SECS), (30, 10));
    }
}
