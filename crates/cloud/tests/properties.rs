//! Properties over arbitrary input: no panics, and the invariants the
//! cloud's rules promise (one egress tunnel, nobody lost twice).

use hybridlab_bgp::packet::AsPath;
use hybridlab_cloud::addressing::{InsideCidr, PeerAddresses};
use hybridlab_cloud::dx::communities::LocalPreference;
use hybridlab_cloud::dx::gateway::{Association, AssociationKind, DxGateway, Side};
use hybridlab_cloud::dx::vif::{pick_by_flow_hash, FlowKey};
use hybridlab_cloud::limits::Limits;
use hybridlab_cloud::path::{Candidate, Egress, TunnelId};
use hybridlab_cloud::route_table::{OfferedRoute, RouteTable, RouteTableConfig};
use hybridlab_cloud::source::RouteSource;
use hybridlab_cloud::vgw;
use ipnet::{IpNet, Ipv4Net};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

fn prefix() -> impl Strategy<Value = IpNet> {
    (0u32..4, 8u8..=26).prop_map(|(net, len)| {
        let addr = Ipv4Addr::from(0x0A00_0000 | (net << 16));
        IpNet::V4(Ipv4Net::new(addr, len).unwrap_or_default().trunc())
    })
}

fn source() -> impl Strategy<Value = RouteSource> {
    prop_oneof![
        Just(RouteSource::DirectConnect),
        Just(RouteSource::VpnStatic),
        Just(RouteSource::VpnBgp)
    ]
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (
        prefix(),
        source(),
        0u8..4,
        proptest::collection::vec(64_500u32..64_503, 0..4),
        proptest::option::of(0u32..3),
        0u8..4,
    )
        .prop_map(|(prefix, source, n, path, med, pref)| {
            let egress = match source {
                RouteSource::DirectConnect => Egress::Vif(format!("dx-{n}")),
                _ => Egress::Tunnel(TunnelId::new(format!("vpn-{}", n / 2), n % 2 + 1)),
            };
            let local_pref = [
                LocalPreference::Low,
                LocalPreference::RemoteRegion,
                LocalPreference::Medium,
                LocalPreference::High,
            ][usize::from(pref % 4)];
            Candidate {
                prefix,
                egress,
                source,
                as_path: AsPath::from_sequence(path),
                med,
                local_pref,
                communities: Vec::new(),
            }
        })
}

proptest! {
    #[test]
    fn inside_cidr_never_panics_and_gives_two_hosts(addr: u32, len in 0u8..=40) {
        if let Ok(net) = Ipv4Net::new(Ipv4Addr::from(addr), len) {
            if let Ok(c) = InsideCidr::new(net) {
                prop_assert!(c.cidr().contains(&c.aws_address()));
                prop_assert!(c.cidr().contains(&c.customer_address()));
                prop_assert_ne!(c.aws_address(), c.customer_address());
            }
        }
    }

    #[test]
    fn peer_addresses_never_panic(a: u32, b: u32) {
        let _ = PeerAddresses::new(Ipv4Addr::from(a), Ipv4Addr::from(b));
    }

    #[test]
    fn vgw_selects_one_tunnel_and_accounts_for_every_candidate(
        routes in proptest::collection::vec(candidate(), 0..24),
        primary in proptest::option::of((0u8..2, 1u8..=2)),
    ) {
        let primary = primary.map(|(c, t)| TunnelId::new(format!("vpn-{c}"), t));
        for s in vgw::table(&routes, primary.as_ref()) {
            let total = routes.iter().filter(|c| c.prefix == s.prefix).count();
            prop_assert_eq!(s.chosen.len() + s.losers.len(), total);
            prop_assert!(!s.chosen.is_empty());
            if s.chosen[0].source.is_vpn() {
                prop_assert_eq!(s.chosen.len(), 1);
            }
            let best_source = routes.iter().filter(|c| c.prefix == s.prefix).map(|c| c.source).min();
            prop_assert_eq!(Some(s.chosen[0].source), best_source);
        }
    }

    #[test]
    fn route_table_lookup_never_panics_and_local_always_wins_inside_vpc(
        offered in proptest::collection::vec((prefix(), source(), any::<bool>()), 0..30),
        host: u16,
    ) {
        let cfg = RouteTableConfig {
            name: "rtb".into(),
            vpc_cidrs: vec!["10.1.0.0/16".parse().unwrap()],
            static_routes: vec![],
            propagating_gateways: ["vgw".to_string()].into(),
        };
        let offered: Vec<OfferedRoute> = offered
            .into_iter()
            .map(|(prefix, source, up)| OfferedRoute {
                prefix,
                source,
                gateway: "vgw".into(),
                via: "x".into(),
                connection_up: up,
            })
            .collect();
        let t = RouteTable::build(&cfg, &offered, &Limits::default());
        let inside = IpAddr::V4(Ipv4Addr::from(0x0A01_0000 | u32::from(host)));
        let l = t.lookup(inside);
        prop_assert!(l.is_some());
        prop_assert_eq!(l.map(|l| l.chosen.origin.target().to_string()), Some("local".to_string()));
        let _ = t.view();
    }

    #[test]
    fn flow_hash_never_panics_and_picks_a_member(
        routes in proptest::collection::vec(candidate(), 0..6),
        src: u32, dst: u32, protocol: u8, sp: u16, dp: u16,
    ) {
        let flow = FlowKey {
            src: IpAddr::V4(src.into()),
            dst: IpAddr::V4(dst.into()),
            protocol,
            src_port: sp,
            dst_port: dp,
        };
        match pick_by_flow_hash(&routes, &flow) {
            Some(c) => prop_assert!(routes.contains(c)),
            None => prop_assert!(routes.is_empty()),
        }
    }

    #[test]
    fn dx_gateway_never_panics(
        cidrs in proptest::collection::vec((prefix(), prefix()), 0..5),
        vif_routes in proptest::collection::vec(prefix(), 0..5),
        src: u32, dst: u32,
    ) {
        let g = DxGateway {
            name: "dxgw".into(),
            asn: 64512,
            vifs: vec![],
            associations: cidrs
                .into_iter()
                .enumerate()
                .map(|(i, (cidr, allowed))| Association {
                    gateway: format!("vgw-{i}"),
                    kind: AssociationKind::Vgw,
                    vpc_cidrs: vec![cidr],
                    allowed_prefixes: vec![allowed],
                })
                .collect(),
        };
        let _ = g.validate(&Limits::default());
        for a in g.announcements_to_vifs() {
            let covered = g.associations.iter().any(|x| {
                x.vpc_cidrs.contains(&a.prefix) && x.allowed_prefixes.iter().any(|p| p.contains(&a.prefix))
            });
            prop_assert!(covered);
        }
        let vif_routes: Vec<(String, IpNet)> =
            vif_routes.into_iter().enumerate().map(|(i, p)| (format!("vif-{i}"), p)).collect();
        let (s, d) = (IpAddr::V4(src.into()), IpAddr::V4(dst.into()));
        let _ = g.forward(&Side::Vif("vif-0".into()), s, d, &vif_routes);
        let _ = g.forward(&Side::Association("vgw-0".into()), s, d, &vif_routes);
    }
}
