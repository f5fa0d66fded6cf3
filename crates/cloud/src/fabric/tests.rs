//! The fabric end to end without I/O: sessions in, exports, tables and
//! traces out. Each test is named after the rule it shows.

use super::*;
use crate::decision::Rule;
use crate::dx::gateway::{Association, AssociationKind, DxGateway};
use crate::dx::vif::FlowKey;
use crate::route_table::RouteTableConfig;
use hybridlab_bgp::packet::{AsPath, Community, Origin};
use std::collections::BTreeSet;

fn p(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn t(vpn: &str, n: u8) -> TunnelId {
    TunnelId::new(vpn, n)
}

fn attrs(path: &[u32], med: Option<u32>, communities: &[Community]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path.iter().copied())),
        med,
        communities: communities.to_vec(),
        ..PathAttributes::default()
    }
}

fn up(routes: &[(&str, PathAttributes)]) -> SessionRoutes {
    SessionRoutes {
        established: true,
        routes: routes.iter().map(|(r, a)| (p(r), a.clone())).collect(),
    }
}

fn vpc(name: &str, cidr: &str, propagate_from: &[&str]) -> VpcConfig {
    VpcConfig {
        name: name.into(),
        cidrs: vec![p(cidr)],
        route_tables: vec![TableConfig {
            config: RouteTableConfig {
                name: "main".into(),
                vpc_cidrs: vec![p(cidr)],
                static_routes: Vec::new(),
                propagating_gateways: propagate_from
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<BTreeSet<_>>(),
            },
            main: true,
        }],
    }
}

fn vpn(name: &str, vgw: &str, routing: TunnelRouting, customer: &str) -> VpnConfig {
    VpnConfig {
        name: name.into(),
        vgw: vgw.into(),
        routing,
        static_routes: Vec::new(),
        customer: Some(customer.into()),
    }
}

fn vif(name: &str, attach: VifAttach) -> VifConfig {
    VifConfig {
        name: name.into(),
        attach,
        same_home_region: true,
        customer: Some("onprem".into()),
    }
}

/// prod 10.0.0.0/16 on vgw1 (AS 64512), VPN `backup` (BGP) and VIF `dx1`.
fn dx_and_vpn() -> Fabric {
    Fabric::new(FabricConfig {
        vpcs: vec![vpc("prod", "10.0.0.0/16", &["vgw1"])],
        vgws: vec![VgwConfig {
            name: "vgw1".into(),
            asn: 64512,
            vpc: Some("prod".into()),
        }],
        vpns: vec![vpn("backup", "vgw1", TunnelRouting::Bgp, "onprem")],
        vifs: vec![vif("dx1", VifAttach::Vgw("vgw1".into()))],
        ..FabricConfig::default()
    })
}

fn tunnel(vpn: &str, n: u8) -> CloudPeer {
    CloudPeer::Tunnel(t(vpn, n))
}

#[test]
fn dx_bgp_beats_vpn_bgp_and_a_more_specific_vpn_prefix_still_wins() {
    let mut f = dx_and_vpn();
    f.session_changed(
        CloudPeer::Vif("dx1".into()),
        up(&[("172.16.0.0/16", attrs(&[65000, 65000, 65000], None, &[]))]),
    );
    f.session_changed(
        tunnel("backup", 1),
        up(&[
            ("172.16.0.0/16", attrs(&[65000], None, &[])),
            ("172.16.5.0/24", attrs(&[65000], None, &[])),
        ]),
    );
    let tr = f
        .trace("prod", "172.16.1.1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.path(), ["prod", "vgw1", "dx1", "onprem"]);
    assert!(tr.delivered);
    assert_eq!(tr.hops[1].rule, Some(Rule::SourcePreference));
    assert_eq!(
        tr.hops[1].losers,
        ["backup/tunnel1 (Direct Connect BGP > VPN static > VPN BGP)"]
    );
    let tr = f
        .trace("prod", "172.16.5.9".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.path(), ["prod", "vgw1", "backup/tunnel1", "onprem"]);
    assert_eq!(tr.hops[0].matched, Some(p("172.16.5.0/24")));
}

#[test]
fn vgw_marks_one_primary_tunnel_med_100_and_the_other_200() {
    let mut f = dx_and_vpn();
    f.session_changed(tunnel("backup", 2), up(&[]));
    f.session_changed(tunnel("backup", 1), up(&[]));
    let med = |n| f.announcements(&tunnel("backup", n))[0].attributes.med;
    // Tunnel 2 came up first and stays primary while it is up.
    assert_eq!((med(1), med(2)), (Some(200), Some(100)));
    let a = &f.announcements(&tunnel("backup", 1))[0];
    assert_eq!(a.prefix, p("10.0.0.0/16"));
    assert_eq!(a.attributes.as_path, Some(AsPath::from_sequence([64512])));
    f.session_changed(tunnel("backup", 2), SessionRoutes::default());
    assert_eq!(
        f.announcements(&tunnel("backup", 1))[0].attributes.med,
        Some(100)
    );
    assert_eq!(f.vgw("vgw1").unwrap().primary_tunnel, Some(t("backup", 1)));
}

#[test]
fn vgw_picks_shorter_as_path_then_lower_med_among_vpn_routes() {
    let mut f = dx_and_vpn();
    f.session_changed(
        tunnel("backup", 1),
        up(&[("172.16.0.0/16", attrs(&[65000, 65000], None, &[]))]),
    );
    f.session_changed(
        tunnel("backup", 2),
        up(&[("172.16.0.0/16", attrs(&[65000], None, &[]))]),
    );
    let tr = f
        .trace("prod", "172.16.0.1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.hops[1].chose, "backup/tunnel2");
    assert_eq!(tr.hops[1].rule, Some(Rule::ShortestAsPath));
    f.session_changed(
        tunnel("backup", 1),
        up(&[("172.16.0.0/16", attrs(&[65000], Some(100), &[]))]),
    );
    f.session_changed(
        tunnel("backup", 2),
        up(&[("172.16.0.0/16", attrs(&[65000], Some(200), &[]))]),
    );
    let tr = f
        .trace("prod", "172.16.0.1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.hops[1].chose, "backup/tunnel1");
    assert_eq!(tr.hops[1].rule, Some(Rule::LowestMed));
}

#[test]
fn vpc_route_table_shows_propagated_routes_only_while_the_connection_is_up() {
    let mut f = dx_and_vpn();
    f.session_changed(
        tunnel("backup", 1),
        up(&[("172.16.0.0/16", attrs(&[65000], None, &[]))]),
    );
    let rows = f.node_routes("prod").unwrap();
    let row = rows
        .iter()
        .find(|r| r.prefix == p("172.16.0.0/16"))
        .unwrap();
    assert_eq!(
        (row.via.as_str(), row.origin.as_str()),
        ("vgw1", "propagated")
    );
    assert_eq!(row.egress.as_deref(), Some("backup/tunnel1"));
    f.set_tunnel_ipsec(&t("backup", 1), false);
    let rows = f.node_routes("prod").unwrap();
    assert!(rows.iter().all(|r| r.prefix != p("172.16.0.0/16")));
    let vgw = f.vgw("vgw1").unwrap();
    assert_eq!(vgw.tunnels[0].status.status_message, "IPSEC IS DOWN");
}

#[test]
fn vpc_local_route_beats_a_more_specific_propagated_route() {
    let mut f = dx_and_vpn();
    f.session_changed(
        tunnel("backup", 1),
        up(&[("10.0.1.0/24", attrs(&[65000], None, &[]))]),
    );
    let tr = f.trace("prod", "10.0.1.5".parse().unwrap(), None).unwrap();
    assert!(tr.delivered);
    assert_eq!(tr.path(), ["prod"]);
    assert_eq!(tr.hops[0].rule, Some(Rule::LocalRoute));
    assert_eq!(
        tr.hops[0].losers,
        ["10.0.1.0/24 via vgw1 (VPC local route wins for the VPC CIDR)"]
    );
}

#[test]
fn static_vpn_route_beats_dynamic_vpn_route() {
    let mut config = dx_and_vpn().config.clone();
    let mut s = vpn("static", "vgw1", TunnelRouting::Static, "branch");
    s.static_routes = vec![p("172.16.0.0/16")];
    config.vpns.push(s);
    let mut f = Fabric::new(config);
    f.session_changed(
        tunnel("backup", 1),
        up(&[("172.16.0.0/16", attrs(&[65000], None, &[]))]),
    );
    let tr = f
        .trace("prod", "172.16.0.1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.path(), ["prod", "vgw1", "static/tunnel1", "branch"]);
    // Static beat BGP first; the one primary tunnel then split the two
    // static tunnels (no ECMP on a VGW).
    assert!(tr.hops[1]
        .losers
        .contains(&"backup/tunnel1 (Direct Connect BGP > VPN static > VPN BGP)".to_string()));
    assert_eq!(tr.hops[1].rule, Some(Rule::PrimaryTunnel));
}

fn hub(asns: [u32; 3]) -> Fabric {
    let mut f = Fabric::new(FabricConfig {
        vgws: vec![VgwConfig {
            name: "hub".into(),
            asn: 64512,
            vpc: None,
        }],
        vpns: ["a", "b", "c"]
            .iter()
            .map(|n| vpn(n, "hub", TunnelRouting::Bgp, n))
            .collect(),
        ..FabricConfig::default()
    });
    for (i, (site, asn)) in ["a", "b", "c"].iter().zip(asns).enumerate() {
        let prefix = format!("192.168.{i}.0/24");
        f.session_changed(
            tunnel(site, 1),
            up(&[(prefix.as_str(), attrs(&[asn], None, &[]))]),
        );
    }
    f
}

#[test]
fn cloudhub_readvertises_site_routes_with_the_vgw_asn_prepended_through_a_detached_vgw() {
    let f = hub([65001, 65002, 65003]);
    let to_a = f.announcements(&tunnel("a", 1));
    let prefixes: Vec<IpNet> = to_a.iter().map(|a| a.prefix).collect();
    assert_eq!(prefixes, [p("192.168.1.0/24"), p("192.168.2.0/24")]);
    assert_eq!(
        to_a[0].attributes.as_path,
        Some(AsPath::from_sequence([64512, 65002]))
    );
    // Tunnel 2 of site a is down, but has its routes ready for when it comes up.
    assert_eq!(f.announcements(&tunnel("a", 2)).len(), 2);
}

#[test]
fn cloudhub_sites_sharing_an_asn_receive_each_others_routes_with_their_own_asn_in_the_path() {
    let f = hub([65001, 65001, 65003]);
    let to_a = f.announcements(&tunnel("a", 1));
    let from_b = to_a
        .iter()
        .find(|a| a.prefix == p("192.168.1.0/24"))
        .unwrap();
    // Site a drops it by its own loop check (RFC 4271 §9.1.2).
    assert!(from_b.attributes.as_path.as_ref().unwrap().contains(65001));
}

#[test]
fn dx_gateway_announces_associated_vpc_cidrs_and_never_relays_vpc_to_vpc() {
    let f = Fabric::new(FabricConfig {
        vpcs: vec![
            vpc("east", "10.1.0.0/16", &["vgw-east"]),
            vpc("west", "10.2.0.0/16", &["vgw-west"]),
        ],
        vgws: vec![
            VgwConfig {
                name: "vgw-east".into(),
                asn: 64512,
                vpc: Some("east".into()),
            },
            VgwConfig {
                name: "vgw-west".into(),
                asn: 64513,
                vpc: Some("west".into()),
            },
        ],
        vifs: vec![vif("dx1", VifAttach::DxGateway("dxgw".into()))],
        dx_gateways: vec![DxGateway {
            name: "dxgw".into(),
            asn: 64600,
            associations: vec![
                Association {
                    gateway: "vgw-east".into(),
                    kind: AssociationKind::Vgw,
                    vpc_cidrs: vec![p("10.1.0.0/16")],
                    allowed_prefixes: vec![p("10.1.0.0/16")],
                },
                Association {
                    gateway: "vgw-west".into(),
                    kind: AssociationKind::Vgw,
                    vpc_cidrs: vec![p("10.2.0.0/16")],
                    allowed_prefixes: vec![p("10.2.0.0/16")],
                },
            ],
            vifs: vec!["dx1".into()],
        }],
        ..FabricConfig::default()
    });
    let out: Vec<IpNet> = f
        .announcements(&CloudPeer::Vif("dx1".into()))
        .iter()
        .map(|a| a.prefix)
        .collect();
    assert_eq!(out, [p("10.1.0.0/16"), p("10.2.0.0/16")]);
    let tr = f.trace("east", "10.2.0.5".parse().unwrap(), None).unwrap();
    assert!(!tr.delivered);
    assert!(tr.outcome.contains("no route"), "{}", tr.outcome);
}

#[test]
fn dx_local_preference_community_steers_between_two_vifs() {
    let mut config = dx_and_vpn().config.clone();
    config.vifs.push(vif("dx2", VifAttach::Vgw("vgw1".into())));
    let mut f = Fabric::new(config);
    let high = Community::new(7224, 7300);
    f.session_changed(
        CloudPeer::Vif("dx1".into()),
        up(&[("172.16.0.0/16", attrs(&[65000], None, &[]))]),
    );
    f.session_changed(
        CloudPeer::Vif("dx2".into()),
        up(&[(
            "172.16.0.0/16",
            attrs(&[65000, 65000, 65000], None, &[high]),
        )]),
    );
    let tr = f
        .trace("prod", "172.16.0.1".parse().unwrap(), None)
        .unwrap();
    assert_eq!(tr.hops[1].chose, "dx2");
    assert_eq!(tr.hops[1].rule, Some(Rule::LocalPreferenceCommunity));
}

#[test]
fn equal_vifs_share_flows_by_hash() {
    let mut config = dx_and_vpn().config.clone();
    config.vifs.push(vif("dx2", VifAttach::Vgw("vgw1".into())));
    let mut f = Fabric::new(config);
    for v in ["dx1", "dx2"] {
        f.session_changed(
            CloudPeer::Vif(v.into()),
            up(&[("172.16.0.0/16", attrs(&[65000], None, &[]))]),
        );
    }
    let picked: BTreeSet<String> = (0..64u16)
        .map(|port| {
            let flow = FlowKey {
                src: "10.0.0.1".parse().unwrap(),
                dst: "172.16.0.1".parse().unwrap(),
                protocol: 6,
                src_port: 40000 + port,
                dst_port: 443,
            };
            let tr = f.trace("prod", flow.dst, Some(flow)).unwrap();
            assert_eq!(tr.hops[1].rule, Some(Rule::FlowHash));
            tr.hops[1].chose.clone()
        })
        .collect();
    assert_eq!(picked.len(), 2);
}

#[test]
fn vgw_without_a_route_drops_and_has_no_default() {
    let mut config = dx_and_vpn().config.clone();
    config.vpcs[0].route_tables[0]
        .config
        .static_routes
        .push((p("0.0.0.0/0"), "vgw1".into()));
    let f = Fabric::new(config);
    let tr = f.trace("prod", "8.8.8.8".parse().unwrap(), None).unwrap();
    assert!(!tr.delivered);
    assert_eq!(tr.path(), ["prod", "vgw1"]);
}

/// Benchmark, run by hand: `cargo test --release -p hybridlab-cloud
/// fabric_recompute -- --ignored --nocapture`. One VGW, 50 VPN connections
/// (100 BGP tunnels, the VGW's limit is 10 connections by default but the
/// fabric does not enforce topology limits), each tunnel up with 100
/// prefixes of its own: the cost of one session change, which recomputes
/// the whole cloud.
#[test]
#[ignore]
fn fabric_recompute_benchmark() {
    let connections: u32 = std::env::var("CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut f = Fabric::new(FabricConfig {
        vpcs: vec![vpc("prod", "10.0.0.0/16", &["vgw1"])],
        vgws: vec![VgwConfig {
            name: "vgw1".into(),
            asn: 64512,
            vpc: Some("prod".into()),
        }],
        vpns: (0..connections)
            .map(|i| vpn(&format!("vpn{i}"), "vgw1", TunnelRouting::Bgp, "onprem"))
            .collect(),
        ..FabricConfig::default()
    });
    let started = std::time::Instant::now();
    let mut changes = 0u32;
    for i in 0..connections {
        for n in [1u8, 2] {
            let routes: Vec<(IpNet, PathAttributes)> = (0..100u32)
                .map(|j| {
                    let prefix = IpNet::V4(
                        ipnet::Ipv4Net::new(
                            std::net::Ipv4Addr::from(0xAC00_0000 | (i << 16) | (j << 8)),
                            24,
                        )
                        .unwrap(),
                    );
                    (prefix, attrs(&[65000 + i], None, &[]))
                })
                .collect();
            f.session_changed(
                CloudPeer::Tunnel(t(&format!("vpn{i}"), n)),
                SessionRoutes {
                    established: true,
                    routes,
                },
            );
            changes += 1;
        }
    }
    let took = started.elapsed();
    let candidates = f.vgw("vgw1").unwrap().routes.len();
    println!(
        "{changes} session changes, {candidates} candidates at the end: {:?} total, {:?} per change",
        took,
        took / changes
    );
    assert_eq!(candidates, 200 * connections as usize);
}
