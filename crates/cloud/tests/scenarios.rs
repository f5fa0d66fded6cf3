//! The topologies, reduced to the cloud's logic: each composes the
//! pieces the way the runtime will (route table → VGW → egress) and checks
//! the outcome `hybridlab check` will expect.

use hybridlab_bgp::packet::{AsPath, Community, PathAttributes};
use hybridlab_cloud::assumptions::Assumptions;
use hybridlab_cloud::cloudhub::{readvertise, BestRoute, HubPeer};
use hybridlab_cloud::decision::Rule;
use hybridlab_cloud::dx::gateway::{
    Association, AssociationKind, DeniedTransit, DxGateway, Side, Transit,
};
use hybridlab_cloud::dx::vif::{pick_by_flow_hash, FlowKey};
use hybridlab_cloud::limits::Limits;
use hybridlab_cloud::path::{Candidate, Egress, TunnelId};
use hybridlab_cloud::route_table::{RouteOrigin, RouteTable, RouteTableConfig};
use hybridlab_cloud::source::RouteSource;
use hybridlab_cloud::vgw::{self, TunnelInputs, TunnelRouting};
use ipnet::IpNet;
use std::net::IpAddr;

const VGW_ASN: u32 = 64512;

fn p(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn attrs(path: &[u32], med: Option<u32>, communities: &[Community]) -> PathAttributes {
    PathAttributes {
        as_path: Some(AsPath::from_sequence(path.iter().copied())),
        med,
        communities: communities.to_vec(),
        ..PathAttributes::default()
    }
}

fn via_tunnel(prefix: &str, conn: &str, n: u8, a: &PathAttributes) -> Candidate {
    let egress = Egress::Tunnel(TunnelId::new(conn, n));
    Candidate::from_attributes(p(prefix), egress, RouteSource::VpnBgp, a, true)
}

fn via_vif(prefix: &str, vif: &str, a: &PathAttributes) -> Candidate {
    let egress = Egress::Vif(vif.into());
    Candidate::from_attributes(p(prefix), egress, RouteSource::DirectConnect, a, true)
}

/// VPC table fed by the VGW, then the VGW's own choice: the two hops
/// `hybridlab trace` prints inside the cloud.
fn egress_for(
    routes: &[Candidate],
    primary: Option<&TunnelId>,
    dst: &str,
) -> (RouteOrigin, Option<vgw::VgwSelection>) {
    let tbl = vgw::table(routes, primary);
    let offered = vgw::offer_to_vpc("vgw-1", &tbl, |_| true);
    let cfg = RouteTableConfig {
        name: "rtb-prod".into(),
        vpc_cidrs: vec![p("10.0.0.0/16")],
        static_routes: vec![],
        propagating_gateways: ["vgw-1".to_string()].into(),
    };
    let rt = RouteTable::build(&cfg, &offered, &Limits::default());
    let hop1 = rt
        .lookup(ip(dst))
        .expect("route in VPC table")
        .chosen
        .origin;
    let hop2 = match hop1 {
        RouteOrigin::Propagated { .. } => vgw::lookup(routes, ip(dst), primary),
        _ => None,
    };
    (hop1, hop2)
}

#[test]
fn dx_primary_with_vpn_backup_dx_wins_and_more_specific_vpn_still_wins() {
    let routes = vec![
        via_vif("192.168.0.0/16", "dx-1", &attrs(&[65001, 65001], None, &[])),
        via_tunnel("192.168.0.0/16", "vpn-1", 1, &attrs(&[65001], None, &[])),
        via_tunnel("192.168.5.0/24", "vpn-1", 1, &attrs(&[65001], None, &[])),
    ];
    let (_, s) = egress_for(&routes, None, "192.168.1.1");
    let s = s.unwrap();
    assert_eq!(s.chosen[0].egress, Egress::Vif("dx-1".into()));
    assert_eq!(s.rule, Rule::SourcePreference);
    let (_, s) = egress_for(&routes, None, "192.168.5.1");
    assert_eq!(
        s.unwrap().chosen[0].egress,
        Egress::Tunnel(TunnelId::new("vpn-1", 1))
    );
}

#[test]
fn two_tunnels_active_standby_by_as_path_prepending_and_by_med() {
    let t1 = TunnelId::new("vpn-1", 1);
    let t2 = TunnelId::new("vpn-1", 2);
    let prepended = vec![
        via_tunnel(
            "192.168.0.0/16",
            "vpn-1",
            1,
            &attrs(&[65001, 65001, 65001], None, &[]),
        ),
        via_tunnel("192.168.0.0/16", "vpn-1", 2, &attrs(&[65001], None, &[])),
    ];
    let (_, s) = egress_for(&prepended, Some(&t1), "192.168.0.1");
    let s = s.unwrap();
    assert_eq!(s.chosen[0].egress, Egress::Tunnel(t2.clone()));
    assert_eq!(s.rule, Rule::ShortestAsPath);
    let by_med = vec![
        via_tunnel(
            "192.168.0.0/16",
            "vpn-1",
            1,
            &attrs(&[65001], Some(200), &[]),
        ),
        via_tunnel(
            "192.168.0.0/16",
            "vpn-1",
            2,
            &attrs(&[65001], Some(100), &[]),
        ),
    ];
    let (_, s) = egress_for(&by_med, Some(&t1), "192.168.0.1");
    let s = s.unwrap();
    assert_eq!(s.chosen[0].egress, Egress::Tunnel(t2));
    assert_eq!(s.rule, Rule::LowestMed);
}

#[test]
fn static_versus_dynamic_vpn_for_the_same_prefix_static_wins() {
    let routes = vec![
        via_tunnel("192.168.0.0/16", "vpn-bgp", 1, &attrs(&[65001], None, &[])),
        Candidate::vpn_static(p("192.168.0.0/16"), TunnelId::new("vpn-static", 1)),
    ];
    let (origin, s) = egress_for(&routes, None, "192.168.0.1");
    assert!(matches!(
        origin,
        RouteOrigin::Propagated {
            source: RouteSource::VpnStatic,
            ..
        }
    ));
    assert_eq!(s.unwrap().chosen[0].source, RouteSource::VpnStatic);
}

#[test]
fn cloudhub_three_branches_through_a_detached_vgw_and_a_shared_asn_variant() {
    let up = TunnelInputs {
        routing: TunnelRouting::Bgp,
        ipsec_up: true,
        bgp_established: true,
        accepted_routes: 1,
    };
    let run = |asns: [u32; 3]| {
        let routes: Vec<Candidate> = ["a", "b", "c"]
            .iter()
            .zip(asns)
            .enumerate()
            .map(|(i, (site, asn))| {
                via_tunnel(
                    &format!("192.168.{i}.0/24"),
                    &format!("vpn-{site}"),
                    1,
                    &attrs(&[asn], None, &[]),
                )
            })
            .collect();
        let best: Vec<BestRoute> = vgw::table(&routes, None)
            .iter()
            .filter_map(BestRoute::from_selection)
            .collect();
        let to_a = TunnelId::new("vpn-a", 1);
        let hub = readvertise(
            VGW_ASN,
            &best,
            &HubPeer::Tunnel(to_a.clone()),
            &Assumptions::default(),
        );
        let sent = vgw::export_to_tunnel(
            VGW_ASN,
            &[],
            &hub,
            &to_a,
            &up,
            Some(&to_a),
            &Limits::default(),
        );
        // What site A keeps after its own AS_PATH loop check (RFC 4271 §9.1.2).
        sent.announcements
            .into_iter()
            .filter(|a| {
                !a.attributes
                    .as_path
                    .as_ref()
                    .is_some_and(|p| p.contains(asns[0]))
            })
            .map(|a| a.prefix)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run([65001, 65002, 65003]),
        vec![p("192.168.1.0/24"), p("192.168.2.0/24")]
    );
    assert_eq!(run([65001, 65001, 65003]), vec![p("192.168.2.0/24")]);
}

#[test]
fn dx_gateway_with_two_vpcs_in_two_regions() {
    let g = DxGateway {
        name: "dxgw".into(),
        asn: 64512,
        associations: vec![
            Association {
                gateway: "vgw-use1".into(),
                kind: AssociationKind::Vgw,
                vpc_cidrs: vec![p("10.1.0.0/16")],
                allowed_prefixes: vec![p("10.1.0.0/16")],
            },
            Association {
                gateway: "vgw-euw1".into(),
                kind: AssociationKind::Vgw,
                vpc_cidrs: vec![p("10.2.0.0/16")],
                allowed_prefixes: vec![p("10.2.0.0/24")],
            },
        ],
        vifs: vec!["vif-1".into()],
    };
    g.validate(&Limits::default()).unwrap();
    let learned: Vec<IpNet> = g.announcements_to_vifs().iter().map(|a| a.prefix).collect();
    assert_eq!(
        learned,
        vec![p("10.1.0.0/16")],
        "allowed 10.2.0.0/24 does not cover 10.2.0.0/16"
    );
    let onprem = [("vif-1".to_string(), p("192.168.0.0/16"))];
    let t = g.forward(
        &Side::Association("vgw-use1".into()),
        ip("10.1.0.1"),
        ip("10.2.0.1"),
        &onprem,
    );
    assert_eq!(
        t,
        Transit::Denied {
            reason: DeniedTransit::VpcToVpc
        }
    );
}

#[test]
fn local_preference_communities_steer_between_two_vifs() {
    let high = Community::new(7224, 7300);
    let low = Community::new(7224, 7100);
    let routes = vec![
        via_vif("192.168.0.0/16", "vif-a", &attrs(&[65001], None, &[low])),
        via_vif(
            "192.168.0.0/16",
            "vif-b",
            &attrs(&[65001, 65001, 65001], None, &[high]),
        ),
    ];
    let s = vgw::lookup(&routes, ip("192.168.0.1"), None).unwrap();
    assert_eq!(s.chosen.len(), 1);
    assert_eq!(s.chosen[0].egress, Egress::Vif("vif-b".into()));
    let equal = vec![
        via_vif("192.168.0.0/16", "vif-a", &attrs(&[65001], None, &[])),
        via_vif("192.168.0.0/16", "vif-b", &attrs(&[65001], None, &[])),
    ];
    let s = vgw::lookup(&equal, ip("192.168.0.1"), None).unwrap();
    let flow = FlowKey {
        src: ip("10.0.0.5"),
        dst: ip("192.168.0.1"),
        protocol: 17,
        src_port: 5000,
        dst_port: 53,
    };
    assert!(pick_by_flow_hash(&s.chosen, &flow).is_some());
    assert_eq!(s.chosen.len(), 2);
}

#[test]
fn vpc_local_route_beats_a_more_specific_propagated_route() {
    let routes = vec![via_vif("10.0.1.0/24", "dx-1", &attrs(&[65001], None, &[]))];
    let (origin, s) = egress_for(&routes, None, "10.0.1.1");
    assert_eq!(origin, RouteOrigin::Local);
    assert!(s.is_none());
}
