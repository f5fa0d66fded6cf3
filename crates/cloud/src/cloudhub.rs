//! VPN CloudHub: the VGW relays routes between its customer sites
//! (spec §4, checklist 12).
//!
//! The runtime passes the VGW's best route per prefix (from
//! [`crate::vgw::select`]) and the session it is about to announce to; the
//! result goes into [`crate::vgw::export_to_tunnel`] for tunnels, which
//! also applies the 1 000-route quota.

use crate::assumptions::Assumptions;
use crate::path::{as_path_list, Egress, TunnelId};
use crate::source::RouteSource;
use crate::vgw::VgwSelection;
use hybridlab_bgp::packet::AsPath;
use ipnet::IpNet;
use serde::Serialize;

/// A session of the VGW that CloudHub can announce to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum HubPeer {
    Tunnel(TunnelId),
    DirectVif(String),
}

/// The VGW's best route for a prefix: where it learned it and its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BestRoute {
    pub prefix: IpNet,
    pub as_path: AsPath,
    pub source: RouteSource,
    pub learned_from: Egress,
}

impl BestRoute {
    /// The route a VGW selection re-advertises; among equal DX VIFs the
    /// first by name, so the choice is stable.
    pub fn from_selection(selection: &VgwSelection) -> Option<Self> {
        let best = selection
            .chosen
            .iter()
            .min_by(|a, b| a.egress.cmp(&b.egress))?;
        Some(BestRoute {
            prefix: selection.prefix,
            as_path: best.as_path.clone(),
            source: best.source,
            learned_from: best.egress.clone(),
        })
    }
}

/// A route the VGW re-advertises, its AS_PATH already carrying the VGW ASN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HubRoute {
    pub prefix: IpNet,
    #[serde(serialize_with = "as_path_list")]
    pub as_path: AsPath,
    pub learned_from: Egress,
}

impl HubRoute {
    /// Whether a speaker in `asn` drops this route by AS_PATH loop detection
    /// (RFC 4271 §9.1.2): why CloudHub sites need unique ASNs (spec §4).
    pub fn loops_at(&self, asn: u32) -> bool {
        self.as_path.contains(asn)
    }
}

/// Routes the VGW re-advertises to `to`: every best route learned from a
/// CGW or a directly attached VIF, except those from `to`'s own VPN
/// connection or VIF (spec §4: "to every other"), with the VGW ASN
/// prepended (spec §4: inferred, a setting). Static VPN routes are relayed
/// too (spec §4: believed, a setting). Routes learned through a DX gateway
/// are never relayed (spec §6: no VIF↔VPN transit).
pub fn readvertise(
    vgw_asn: u32,
    best: &[BestRoute],
    to: &HubPeer,
    assumptions: &Assumptions,
) -> Vec<HubRoute> {
    best.iter()
        .filter(|r| relayable(&r.learned_from, to))
        .filter(|r| r.source != RouteSource::VpnStatic || assumptions.cloudhub_relays_static_routes)
        .map(|r| {
            let mut as_path = r.as_path.clone();
            // Without the prepend the VGW relays like a route server; a
            // static route still needs one AS to be a valid eBGP path.
            if assumptions.cloudhub_prepends_vgw_asn || as_path.path_len() == 0 {
                as_path.prepend(vgw_asn, 1);
            }
            HubRoute {
                prefix: r.prefix,
                as_path,
                learned_from: r.learned_from.clone(),
            }
        })
        .collect()
}

fn relayable(from: &Egress, to: &HubPeer) -> bool {
    match (from, to) {
        (Egress::DxGatewayVif { .. }, _) => false,
        (Egress::Tunnel(a), HubPeer::Tunnel(b)) => a.connection != b.connection,
        (Egress::Vif(a), HubPeer::DirectVif(b)) => a != b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::vgw::{export_to_tunnel, TunnelInputs, TunnelRouting};

    const VGW: u32 = 64512;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn site(prefix: &str, conn: &str, asn: u32) -> BestRoute {
        BestRoute {
            prefix: p(prefix),
            as_path: AsPath::from_sequence([asn]),
            source: RouteSource::VpnBgp,
            learned_from: Egress::Tunnel(TunnelId::new(conn, 1)),
        }
    }

    fn to(conn: &str) -> HubPeer {
        HubPeer::Tunnel(TunnelId::new(conn, 1))
    }

    fn three_sites() -> Vec<BestRoute> {
        vec![
            site("192.168.1.0/24", "vpn-a", 65001),
            site("192.168.2.0/24", "vpn-b", 65002),
            site("192.168.3.0/24", "vpn-c", 65003),
        ]
    }

    #[test]
    fn cloudhub_readvertises_each_cgws_routes_to_all_other_cgws_with_vgw_asn_prepended() {
        let out = readvertise(VGW, &three_sites(), &to("vpn-a"), &Assumptions::default());
        let prefixes: Vec<IpNet> = out.iter().map(|r| r.prefix).collect();
        assert_eq!(prefixes, vec![p("192.168.2.0/24"), p("192.168.3.0/24")]);
        assert_eq!(out[0].as_path, AsPath::from_sequence([VGW, 65002]));
    }

    #[test]
    fn cloudhub_does_not_send_a_route_back_to_its_own_connection() {
        let out = readvertise(
            VGW,
            &three_sites(),
            &HubPeer::Tunnel(TunnelId::new("vpn-b", 2)),
            &Assumptions::default(),
        );
        assert!(out.iter().all(|r| r.prefix != p("192.168.2.0/24")));
    }

    #[test]
    fn cloudhub_cgws_sharing_an_asn_drop_each_others_routes_by_loop_detection() {
        let shared = vec![
            site("192.168.1.0/24", "vpn-a", 65001),
            site("192.168.2.0/24", "vpn-b", 65001),
        ];
        let to_b = readvertise(VGW, &shared, &to("vpn-b"), &Assumptions::default());
        assert_eq!(to_b.len(), 1);
        assert!(to_b[0].loops_at(65001));
        let unique = readvertise(VGW, &three_sites(), &to("vpn-b"), &Assumptions::default());
        assert!(unique.iter().all(|r| !r.loops_at(65002)));
    }

    #[test]
    fn cloudhub_relays_routes_from_directly_attached_vifs_and_to_them() {
        let mut best = three_sites();
        best.push(BestRoute {
            prefix: p("10.100.0.0/16"),
            as_path: AsPath::from_sequence([65100]),
            source: RouteSource::DirectConnect,
            learned_from: Egress::Vif("dx-hq".into()),
        });
        let to_a = readvertise(VGW, &best, &to("vpn-a"), &Assumptions::default());
        assert!(to_a.iter().any(|r| r.prefix == p("10.100.0.0/16")));
        let to_vif = readvertise(
            VGW,
            &best,
            &HubPeer::DirectVif("dx-hq".into()),
            &Assumptions::default(),
        );
        assert_eq!(to_vif.len(), 3);
    }

    #[test]
    fn cloudhub_never_relays_routes_learned_through_a_dx_gateway() {
        let best = vec![BestRoute {
            prefix: p("10.100.0.0/16"),
            as_path: AsPath::from_sequence([65100]),
            source: RouteSource::DirectConnect,
            learned_from: Egress::DxGatewayVif {
                gateway: "dxgw-1".into(),
                vif: "vif-1".into(),
            },
        }];
        assert!(readvertise(VGW, &best, &to("vpn-a"), &Assumptions::default()).is_empty());
    }

    #[test]
    fn cloudhub_relays_static_vpn_routes_with_the_vgw_asn_as_path() {
        let best = vec![BestRoute {
            prefix: p("192.168.9.0/24"),
            as_path: AsPath::default(),
            source: RouteSource::VpnStatic,
            learned_from: Egress::Tunnel(TunnelId::new("vpn-static", 1)),
        }];
        let out = readvertise(VGW, &best, &to("vpn-a"), &Assumptions::default());
        assert_eq!(out[0].as_path, AsPath::from_sequence([VGW]));
    }

    #[test]
    fn cloudhub_readvertises_the_vgws_selected_route() {
        let cands = vec![
            crate::path::Candidate::vpn_static(p("192.168.7.0/24"), TunnelId::new("vpn-s", 1)),
            crate::path::Candidate {
                prefix: p("192.168.7.0/24"),
                egress: Egress::Tunnel(TunnelId::new("vpn-b", 1)),
                source: crate::source::RouteSource::VpnBgp,
                as_path: AsPath::from_sequence([65002]),
                med: None,
                local_pref: crate::dx::communities::LocalPreference::Medium,
                communities: Vec::new(),
            },
        ];
        let table = crate::vgw::table(&cands, None);
        let best: Vec<BestRoute> = table.iter().filter_map(BestRoute::from_selection).collect();
        assert_eq!(
            best[0].learned_from,
            Egress::Tunnel(TunnelId::new("vpn-s", 1))
        );
        let out = readvertise(VGW, &best, &to("vpn-a"), &Assumptions::default());
        assert_eq!(out[0].as_path, AsPath::from_sequence([VGW]));
    }

    #[test]
    fn cloudhub_prepending_and_static_relay_are_settings() {
        let mut best = three_sites();
        best.push(BestRoute {
            prefix: p("192.168.9.0/24"),
            as_path: AsPath::default(),
            source: RouteSource::VpnStatic,
            learned_from: Egress::Tunnel(TunnelId::new("vpn-static", 1)),
        });
        let off = Assumptions {
            cloudhub_prepends_vgw_asn: false,
            cloudhub_relays_static_routes: false,
        };
        let out = readvertise(VGW, &best, &to("vpn-a"), &off);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_path, AsPath::from_sequence([65002]));
    }

    #[test]
    fn detached_vgw_works_as_pure_hub() {
        let tunnel = TunnelId::new("vpn-a", 1);
        let up = TunnelInputs {
            routing: TunnelRouting::Bgp,
            ipsec_up: true,
            bgp_established: true,
            accepted_routes: 1,
        };
        let hub = readvertise(
            VGW,
            &three_sites(),
            &HubPeer::Tunnel(tunnel.clone()),
            &Assumptions::default(),
        );
        let e = export_to_tunnel(
            VGW,
            &[],
            &hub,
            &tunnel,
            &up,
            Some(&tunnel),
            &Limits::default(),
        );
        let prefixes: Vec<IpNet> = e.announcements.iter().map(|a| a.prefix).collect();
        assert_eq!(prefixes, vec![p("192.168.2.0/24"), p("192.168.3.0/24")]);
    }
}
