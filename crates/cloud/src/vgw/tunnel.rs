//! Tunnel status as the cloud reports it, and the VPN session limit (spec §1.6, §2.4).

use crate::limits::Limits;
use hybridlab_bgp::router::PrefixLimit;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelRouting {
    Static,
    Bgp,
}

/// What the runtime knows about a tunnel right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelInputs {
    pub routing: TunnelRouting,
    pub ipsec_up: bool,
    pub bgp_established: bool,
    /// Routes accepted from the CGW (BGP) or configured (static).
    pub accepted_routes: usize,
}

impl TunnelInputs {
    /// A static tunnel is UP with IPsec; a BGP tunnel only with BGP
    /// Established (spec §1.6, checklist 6).
    pub fn is_up(&self) -> bool {
        match self.routing {
            TunnelRouting::Static => self.ipsec_up,
            TunnelRouting::Bgp => self.ipsec_up && self.bgp_established,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TunnelState {
    Up,
    Down,
}

/// Tunnel telemetry as the cloud reports it (spec §1.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelStatus {
    pub status: TunnelState,
    pub status_message: String,
    pub accepted_route_count: usize,
}

/// "N BGP ROUTES" is observed (spec §1.6), including "0 BGP ROUTES" with
/// IPsec up and BGP down. "IPSEC IS DOWN" and the empty message of an UP
/// static tunnel are our assumption.
pub fn tunnel_status(t: &TunnelInputs) -> TunnelStatus {
    let accepted = match t.routing {
        TunnelRouting::Bgp if !t.bgp_established => 0,
        _ => t.accepted_routes,
    };
    let status_message = match t.routing {
        _ if !t.ipsec_up => "IPSEC IS DOWN".to_string(),
        TunnelRouting::Bgp => format!("{accepted} BGP ROUTES"),
        TunnelRouting::Static => String::new(),
    };
    TunnelStatus {
        status: if t.is_up() {
            TunnelState::Up
        } else {
            TunnelState::Down
        },
        status_message,
        accepted_route_count: accepted,
    }
}

/// The max-prefix setting for a VPN BGP session: the 101st route tears the
/// session down with Cease / Maximum Number of Prefixes Reached, as on DX
/// (spec §2.4, checklist 9, unconfirmed for VPN).
pub fn vpn_prefix_limit(limits: &Limits) -> PrefixLimit {
    PrefixLimit {
        limit: limits.vpn_bgp_routes_in,
        restart_after: limits
            .prefix_limit_restart_after_secs
            .map(Duration::from_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::vgw::fixtures::*;

    #[test]
    fn bgp_tunnel_is_up_only_while_bgp_is_established() {
        let mut t = bgp_up(7);
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Up);
        assert_eq!(s.status_message, "7 BGP ROUTES");
        assert_eq!(s.accepted_route_count, 7);
        t.bgp_established = false;
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Down);
        assert_eq!(s.status_message, "0 BGP ROUTES");
        t.ipsec_up = false;
        assert_eq!(tunnel_status(&t).status_message, "IPSEC IS DOWN");
    }

    #[test]
    fn static_tunnel_is_up_when_ipsec_is_up() {
        let t = TunnelInputs {
            routing: TunnelRouting::Static,
            ipsec_up: true,
            bgp_established: false,
            accepted_routes: 2,
        };
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Up);
        assert_eq!(s.accepted_route_count, 2);
        assert_eq!(serde_json::to_value(&s).unwrap()["status"], "UP");
    }

    #[test]
    fn vpn_session_is_torn_down_past_100_routes_by_default() {
        let l = vpn_prefix_limit(&Limits::default());
        assert_eq!(l.limit, 100);
        assert_eq!(l.restart_after, None);
    }
}
