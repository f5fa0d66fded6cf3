//! Cloud nodes lowered onto BGP speakers: one router per VGW and per DX
//! gateway, a neighbour per BGP tunnel and per private VIF, the customer's
//! end on its emulated router, or an external neighbour for a real one.

use hybridlab_bgp::packet::Family;
use hybridlab_bgp::router::ExportMode;
use hybridlab_cloud::dx::communities::Locality;
use hybridlab_cloud::fabric::CloudPeer;
use hybridlab_cloud::path::TunnelId;
use hybridlab_topology::convert::{peer_config, router_config};
use hybridlab_topology::{
    parse, parse_with, Bfd, MaxPrefix, Mode, Neighbor, NeighborKind, ParseOptions, Router,
    RouterRole, Topology, TopologyError, VirtualLink,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const SHIPPED: &str = include_str!("../../../topologies/dx-with-vpn-backup.toml");

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

fn external(text: &str, routers: &[&str]) -> Result<Topology, TopologyError> {
    let options = ParseOptions {
        external: routers.iter().map(|r| r.to_string()).collect(),
    };
    parse_with("lab.toml", text, &options)
}

/// Every error, as `LINE:COL: message`.
fn errors(result: Result<Topology, TopologyError>) -> Vec<String> {
    match result {
        Err(TopologyError::Invalid(d)) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    match s.parse() {
        Ok(a) => a,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn router<'a>(t: &'a Topology, name: &str) -> &'a Router {
    t.router(name)
        .unwrap_or_else(|| panic!("no router {name} in {:?}", names(t)))
}

fn neighbor<'a>(r: &'a Router, name: &str) -> &'a Neighbor {
    r.neighbors
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("{} has no neighbor {name}", r.name))
}

fn names(t: &Topology) -> Vec<&str> {
    t.routers.iter().map(|r| r.name.as_str()).collect()
}

fn link(n: &Neighbor) -> &VirtualLink {
    match &n.kind {
        NeighborKind::Emulated(l) => l,
        other => panic!("{} is not emulated: {other:?}", n.name),
    }
}

fn tunnel(vpn: &str, n: u8) -> Option<CloudPeer> {
    Some(CloudPeer::Tunnel(TunnelId::new(vpn, n)))
}

#[test]
fn shipped_lab_gets_a_vgw_speaker_with_two_tunnels_and_the_vif() {
    let t = good(SHIPPED);
    assert_eq!(names(&t), ["onprem", "vgw1"]);
    assert!(t.external.is_empty());
    let vgw = router(&t, "vgw1");
    assert_eq!(vgw.role, RouterRole::Vgw);
    assert_eq!(vgw.asn, 64512);
    // Its first BGP tunnel's AWS inside address (spec §2.2).
    assert_eq!(vgw.router_id, Ipv4Addr::new(169, 254, 10, 1));
    assert!(vgw.networks.is_empty() && vgw.listen.is_empty());
    let speaker_names: Vec<&str> = vgw.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        speaker_names,
        ["backup/tunnel1", "backup/tunnel2", "primary"]
    );
    let speakers: Vec<&str> = t.cloud_speakers().map(|r| r.name.as_str()).collect();
    assert_eq!(speakers, ["vgw1"]);

    let t2 = neighbor(vgw, "backup/tunnel2");
    assert_eq!(t2.remote_asn, 65000);
    assert_eq!((t2.hold_time, t2.keepalive), (30, Some(10)));
    assert_eq!((t2.ttl, t2.mode), (1, Mode::Both));
    assert_eq!(t2.families, [Family::IPV4_UNICAST]);
    let limit = MaxPrefix {
        limit: 100,
        restart_after: None,
    };
    assert_eq!(t2.max_prefix, Some(limit));
    assert_eq!(t2.router_id, Some(Ipv4Addr::new(169, 254, 10, 5)));
    assert_eq!(t2.cloud_path, tunnel("backup", 2));
    assert_eq!((&t2.md5_password, t2.bfd), (&None, None));
    assert!(t2.import.is_empty() && t2.export.is_empty());

    let vif = neighbor(vgw, "primary");
    assert_eq!(vif.remote_asn, 65000);
    assert_eq!((vif.hold_time, vif.keepalive), (90, Some(30)));
    assert_eq!(vif.md5_password.as_deref(), Some("dx-primary-key"));
    assert_eq!(vif.bfd, Some(Bfd::default()));
    assert_eq!(vif.max_prefix, Some(limit));
    assert_eq!(vif.router_id, None);
    assert_eq!(vif.cloud_path, Some(CloudPeer::Vif("primary".into())));
    assert_eq!(vif.ttl, 1);
}

#[test]
fn shipped_lab_pairs_each_cloud_session_with_the_customer_router() {
    let t = good(SHIPPED);
    let onprem = router(&t, "onprem");
    assert_eq!(onprem.role, RouterRole::Router);
    let customer_names: Vec<&str> = onprem.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        customer_names,
        ["backup/tunnel1", "backup/tunnel2", "primary"]
    );
    for (i, n) in onprem.neighbors.iter().enumerate() {
        let near = link(n);
        assert_eq!((near.router.as_str(), near.far_router), ("vgw1", 1));
        let far = &t.routers[near.far_router].neighbors[near.far_neighbor];
        assert_eq!(far.name, n.name);
        assert_eq!(far.cloud_path, n.cloud_path);
        let back = link(far);
        assert_eq!((back.router.as_str(), back.far_router), ("onprem", 0));
        assert_eq!(back.far_neighbor, i);
        assert_eq!(back.local_address, near.remote_address);
        assert_eq!(back.remote_address, near.local_address);
        assert_eq!((n.ttl, n.mode, n.router_id), (1, Mode::Both, None));
        assert_eq!((n.remote_asn, n.max_prefix), (64512, None));
    }
    let t1 = neighbor(onprem, "backup/tunnel1");
    assert_eq!(link(t1).local_address, ip("169.254.10.2"));
    assert_eq!(link(t1).remote_address, ip("169.254.10.1"));
    assert_eq!((t1.hold_time, t1.keepalive), (30, None));
    assert_eq!(t1.cloud_path, tunnel("backup", 1));
    let vif = neighbor(onprem, "primary");
    assert_eq!(link(vif).local_address, ip("169.254.255.2"));
    assert_eq!(link(vif).remote_address, ip("169.254.255.1"));
    assert_eq!((vif.hold_time, vif.keepalive), (90, None));
    assert_eq!(vif.md5_password.as_deref(), Some("dx-primary-key"));
    assert_eq!(vif.bfd, Some(Bfd::default()));
}

#[test]
fn speakers_export_under_control_and_tunnels_use_their_inside_address_as_id() {
    let t = good(SHIPPED);
    let vgw = router(&t, "vgw1");
    assert_eq!(router_config(vgw).export_mode, ExportMode::Controlled);
    let onprem = router(&t, "onprem");
    assert_eq!(router_config(onprem).export_mode, ExportMode::BestPath);
    let t2 = peer_config(&t, vgw, neighbor(vgw, "backup/tunnel2"));
    assert_eq!(t2.session.local_id, Ipv4Addr::new(169, 254, 10, 5));
    let vif = peer_config(&t, vgw, neighbor(vgw, "primary"));
    assert_eq!(vif.session.local_id, vgw.router_id);
    let customer = peer_config(&t, onprem, neighbor(onprem, "primary"));
    assert_eq!(customer.session.local_id, onprem.router_id);
}

#[test]
fn external_customer_router_becomes_listen_addresses_and_external_neighbors() {
    let t = match external(SHIPPED, &["onprem"]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(names(&t), ["vgw1"]);
    assert_eq!(t.external, ["onprem"]);
    let vgw = router(&t, "vgw1");
    let port = |a: &str| SocketAddr::new(ip(a), 179);
    assert_eq!(
        vgw.listen,
        [
            port("169.254.10.1"),
            port("169.254.10.5"),
            port("169.254.255.1")
        ]
    );
    let kinds: Vec<&NeighborKind> = vgw.neighbors.iter().map(|n| &n.kind).collect();
    let ext = |remote: &str, local: &str| NeighborKind::External {
        address: ip(remote),
        port: 179,
        local_address: Some(ip(local)),
    };
    assert_eq!(
        kinds,
        [
            &ext("169.254.10.2", "169.254.10.1"),
            &ext("169.254.10.6", "169.254.10.5"),
            &ext("169.254.255.2", "169.254.255.1"),
        ]
    );
    assert_eq!(neighbor(vgw, "primary").remote_asn, 65000);
    assert_eq!(
        neighbor(vgw, "backup/tunnel1").cloud_path,
        tunnel("backup", 1)
    );
}

/// A DX gateway with two VIFs to two routers, one of them external; a VGW
/// with a static VPN (no BGP) and a direct VIF; a router with an ordinary
/// link after the removed external router (indices renumbered).
const MIXED: &str = r#"[[router]]
name = "dc1"
asn = 65001
router_id = "192.0.2.1"
[[router]]
name = "dc2"
asn = 65002
router_id = "192.0.2.2"
[[router]]
name = "core"
asn = 65010
router_id = "192.0.2.10"
  [[router.neighbor]]
  router = "edge"
[[router]]
name = "edge"
asn = 65011
router_id = "192.0.2.11"
  [[router.neighbor]]
  router = "core"
[[region]]
name = "r1"
[[vpc]]
name = "prod"
region = "r1"
cidrs = ["10.0.0.0/16"]
[[vgw]]
name = "vgw1"
region = "r1"
vpc = "prod"
asn = 64600
[[customer_gateway]]
name = "branch"
asn = 65020
ip = "198.51.100.20"
external = true
[[vpn]]
name = "static-vpn"
vgw = "vgw1"
customer_gateway = "branch"
routing = "static"
static_routes = ["172.20.0.0/16"]
  [[vpn.tunnel]]
  inside_cidr = "169.254.20.0/30"
  psk = "secret.one"
  [[vpn.tunnel]]
  inside_cidr = "169.254.20.4/30"
  psk = "secret.two"
[[dx_gateway]]
name = "dxgw"
asn = 64700
[[vif]]
name = "direct"
kind = "private"
vlan = 10
attach = { vgw = "vgw1" }
amazon_address = "169.254.30.1"
customer_address = "169.254.30.2"
router = "dc2"
md5 = "k0"
bfd = false
[[vif]]
name = "via-dxgw-1"
kind = "private"
vlan = 11
attach = { dx_gateway = "dxgw" }
amazon_address = "169.254.31.1"
customer_address = "169.254.31.2"
router = "dc1"
md5 = "k1"
bfd = { interval = 500, multiplier = 4 }
prefix_limit = 250
[[vif]]
name = "via-dxgw-2"
kind = "private"
vlan = 12
attach = { dx_gateway = "dxgw" }
amazon_address = "169.254.32.1"
customer_address = "169.254.32.2"
router = "dc2"
md5 = "k2"
[[vif]]
name = "internet"
kind = "public"
vlan = 13
amazon_address = "203.0.113.1"
customer_address = "203.0.113.2"
router = "dc2"
md5 = "k3"
"#;

#[test]
fn dx_gateway_speaker_static_vpn_and_public_vif() {
    let t = good(MIXED);
    assert_eq!(
        names(&t),
        ["dc1", "dc2", "core", "edge", "vgw1", "dxgw", "internet"]
    );
    let vgw = router(&t, "vgw1");
    // No BGP tunnel: the identifier comes from the direct VIF.
    assert_eq!(vgw.router_id, Ipv4Addr::new(169, 254, 30, 1));
    let on_vgw: Vec<&str> = vgw.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(on_vgw, ["direct"]);
    assert_eq!(neighbor(vgw, "direct").bfd, None);
    assert_eq!(neighbor(vgw, "direct").remote_asn, 65002);

    let dxgw = router(&t, "dxgw");
    assert_eq!((dxgw.role, dxgw.asn), (RouterRole::DxGateway, 64700));
    assert_eq!(dxgw.router_id, Ipv4Addr::new(169, 254, 31, 1));
    let on_dxgw: Vec<&str> = dxgw.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(on_dxgw, ["via-dxgw-1", "via-dxgw-2"]);
    let one = neighbor(dxgw, "via-dxgw-1");
    let bfd = Bfd {
        min_tx: Duration::from_millis(500),
        min_rx: Duration::from_millis(500),
        multiplier: 4,
        passive: false,
    };
    assert_eq!(one.bfd, Some(bfd));
    assert_eq!(one.max_prefix.map(|m| m.limit), Some(250));
    assert_eq!(neighbor(router(&t, "dc1"), "via-dxgw-1").bfd, Some(bfd));
    assert_eq!(neighbor(router(&t, "dc1"), "via-dxgw-1").remote_asn, 64700);

    let dc2: Vec<&str> = router(&t, "dc2")
        .neighbors
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(dc2, ["direct", "via-dxgw-2", "internet"]);
}

#[test]
fn public_vif_gets_a_speaker_of_its_own_as_7224() {
    let t = good(MIXED);
    let public = router(&t, "internet");
    assert_eq!((public.role, public.asn), (RouterRole::PublicVif, 7224));
    assert_eq!(public.router_id, Ipv4Addr::new(203, 0, 113, 1));
    assert_eq!(router_config(public).export_mode, ExportMode::Controlled);
    assert_eq!(public.neighbors.len(), 1);
    let aws = neighbor(public, "internet");
    assert_eq!(aws.remote_asn, 65002);
    assert_eq!(aws.cloud_path, Some(CloudPeer::Vif("internet".into())));
    assert_eq!((aws.ttl, aws.hold_time, aws.keepalive), (1, 90, Some(30)));
    assert_eq!(aws.md5_password.as_deref(), Some("k3"));
    assert_eq!(aws.max_prefix.map(|m| m.limit), Some(1000));
    assert_eq!(aws.bfd, Some(Bfd::default()));
    let l = link(aws);
    assert_eq!(
        (l.router.as_str(), l.local_address),
        ("dc2", ip("203.0.113.1"))
    );

    let customer = neighbor(router(&t, "dc2"), "internet");
    assert_eq!(customer.remote_asn, 7224);
    assert_eq!(customer.md5_password.as_deref(), Some("k3"));
    assert_eq!(customer.max_prefix, None);
    assert_eq!(link(customer).remote_address, ip("203.0.113.1"));

    // Region r1 lists no public prefixes: the stand-in 198.18.0.0/24.
    let vif = t.cloud.vifs.iter().find(|v| v.name == "internet").unwrap();
    let public = vif.public.as_ref().unwrap();
    assert_eq!(public.region, "r1");
    assert!(public.approved_prefixes.is_empty());
    assert_eq!(
        public.aws_prefixes,
        [("198.18.0.0/24".parse().unwrap(), Locality::SameRegion)]
    );
}

#[test]
fn public_vif_announces_every_region_by_locality() {
    let text = MIXED
        .replace(
            "[[region]]\nname = \"r1\"\n",
            "[[region]]\nname = \"r1\"\ncontinent = \"eu\"\n\
             [[region]]\nname = \"r2\"\ncontinent = \"eu\"\npublic_prefixes = [\"198.19.0.0/24\"]\n\
             [[region]]\nname = \"r3\"\n",
        )
        .replace(
            "md5 = \"k3\"\n",
            "md5 = \"k3\"\nregion = \"r2\"\napproved_prefixes = [\"192.0.2.0/24\"]\n",
        );
    let t = good(&text);
    let vif = t.cloud.vifs.iter().find(|v| v.name == "internet").unwrap();
    let public = vif.public.as_ref().unwrap();
    assert_eq!(public.region, "r2");
    assert_eq!(public.approved_prefixes, ["192.0.2.0/24".parse().unwrap()]);
    let p = |s: &str| s.parse().unwrap();
    assert_eq!(
        public.aws_prefixes,
        [
            (p("198.18.0.0/24"), Locality::SameContinent),
            (p("198.19.0.0/24"), Locality::SameRegion),
            (p("198.18.2.0/24"), Locality::Global),
        ]
    );
}

#[test]
fn public_vif_fields_are_refused_on_private_vifs_and_checked_on_public_ones() {
    let text = MIXED
        .replace("md5 = \"k0\"\n", "md5 = \"k0\"\nregion = \"r1\"\n")
        .replace(
            "md5 = \"k3\"\n",
            "md5 = \"k3\"\nregion = \"nowhere\"\napproved_prefixes = [\"192.0.2.1/24\"]\n",
        );
    let errs = errors(parse("lab.toml", &text));
    let has = |needle: &str| errs.iter().any(|e| e.contains(needle));
    assert!(
        has("`region` is for public VIFs only; VIF `direct` is private"),
        "{errs:?}"
    );
    assert!(has("no [[region]] named `nowhere`"), "{errs:?}");
    assert!(has("prefix `192.0.2.1/24` has host bits set"), "{errs:?}");

    let named_like_a_router = MIXED.replace("name = \"internet\"", "name = \"edge\"");
    let errs = errors(parse("lab.toml", &named_like_a_router));
    assert!(
        errs.iter()
            .any(|e| e.contains("public [[vif]] `edge` has the name of a [[router]]")),
        "{errs:?}"
    );
}

#[test]
fn a_lone_speaker_falls_back_to_169_254_0_1() {
    let lone = MIXED.replace(
        "attach = { vgw = \"vgw1\" }",
        "attach = { dx_gateway = \"dxgw\" }",
    );
    let t = good(&lone);
    let vgw = router(&t, "vgw1");
    assert!(vgw.neighbors.is_empty());
    assert_eq!(vgw.router_id, Ipv4Addr::new(169, 254, 0, 1));
}

#[test]
fn removing_an_external_router_renumbers_the_links() {
    let t = match external(MIXED, &["dc1"]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        names(&t),
        ["dc2", "core", "edge", "vgw1", "dxgw", "internet"]
    );
    for (ri, r) in t.routers.iter().enumerate() {
        for (ni, n) in r.neighbors.iter().enumerate() {
            if let NeighborKind::Emulated(l) = &n.kind {
                let far = &t.routers[l.far_router];
                assert_eq!(far.name, l.router);
                let back = link(&far.neighbors[l.far_neighbor]);
                assert_eq!((back.far_router, back.far_neighbor), (ri, ni));
            }
        }
    }
    let dxgw = router(&t, "dxgw");
    assert!(matches!(
        neighbor(dxgw, "via-dxgw-1").kind,
        NeighborKind::External { .. }
    ));
    assert_eq!(dxgw.listen, [SocketAddr::new(ip("169.254.31.1"), 179)]);
    assert!(matches!(
        neighbor(dxgw, "via-dxgw-2").kind,
        NeighborKind::Emulated(_)
    ));
}

#[test]
fn a_user_neighbor_with_a_cloud_session_name_is_refused_at_its_name() {
    let text = SHIPPED.replacen(
        "networks = [\"172.16.0.0/16\", \"172.16.5.0/24\"]\n",
        "networks = [\"172.16.0.0/16\", \"172.16.5.0/24\"]\n  [[router.neighbor]]\n  name = \"primary\"\n  address = \"192.0.2.99\"\n  remote_asn = 65099\n  mode = \"active\"\n",
        1,
    );
    let line = text
        .lines()
        .position(|l| l.contains("name = \"primary\""))
        .map_or(0, |i| i + 1);
    assert_eq!(
        errors(parse("lab.toml", &text)),
        [format!("{line}:10: `onprem` already has a neighbor named `primary`, the name of its session with `vgw1`; rename the neighbor")]
    );
}

#[test]
fn speaker_names_must_differ_from_routers_and_each_other() {
    let text = MIXED
        .replace(
            "name = \"dxgw\"\nasn = 64700",
            "name = \"core\"\nasn = 64700",
        )
        .replace("dx_gateway = \"dxgw\"", "dx_gateway = \"core\"");
    let line = text
        .lines()
        .position(|l| l == "[[dx_gateway]]")
        .map_or(0, |i| i + 2);
    assert_eq!(
        errors(parse("lab.toml", &text)),
        [format!("{line}:8: [[dx_gateway]] `core` has the name of a [[router]]; every BGP speaker of the lab needs a name of its own")]
    );
}

#[test]
fn external_router_mistakes() {
    assert_eq!(
        errors(external(SHIPPED, &["nowhere"])),
        ["1:1: external router `nowhere`: no [[router]] named `nowhere` in this file"]
    );
    assert_eq!(
        errors(external(MIXED, &["core"])),
        ["10:8: router `core` is external (a real router takes its place), so it can only have the cloud's sessions, but it declares 1 [[router.neighbor]]"]
    );
}

#[test]
fn two_external_sessions_on_one_address_are_refused() {
    // Both VIFs of dxgw reach real routers at one customer address.
    let text = MIXED.replace("169.254.32.", "169.254.31.");
    let line = text
        .lines()
        .position(|l| l == "name = \"via-dxgw-2\"")
        .map_or(0, |i| i + 1);
    assert_eq!(
        errors(external(&text, &["dc1", "dc2"])),
        [format!("{line}:8: `dxgw` has two sessions with a real router at 169.254.31.2; give `via-dxgw-2` addresses of its own")]
    );
}

#[test]
fn an_aws_address_another_router_listens_on_is_refused() {
    let text = MIXED.replace(
        "router_id = \"192.0.2.10\"\n",
        "router_id = \"192.0.2.10\"\nlisten = [\"169.254.31.1:179\"]\n",
    );
    let line = text
        .lines()
        .position(|l| l == "name = \"via-dxgw-1\"")
        .map_or(0, |i| i + 1);
    assert_eq!(
        errors(external(&text, &["dc1"])),
        [format!("{line}:8: 169.254.31.1:179, the AWS end of `via-dxgw-1` on `dxgw`, is also where `core` listens; a real router needs each AWS address to itself")]
    );
}

/// `[[router.cloud_session]]` after everything else still belongs to the
/// last `[[router]]` of the file, `onprem`.
const PREPEND_ON_TUNNEL2: &str = "
[[policy]]
name = \"prepend2\"
  [[policy.term]]
  prepend = 2

[[router.cloud_session]]
name = \"backup/tunnel2\"
export = [\"prepend2\"]
";

#[test]
fn cloud_session_gives_the_customer_end_its_policies() {
    let t = good(&format!("{SHIPPED}{PREPEND_ON_TUNNEL2}"));
    let onprem = router(&t, "onprem");
    assert_eq!(neighbor(onprem, "backup/tunnel2").export, ["prepend2"]);
    assert!(neighbor(onprem, "backup/tunnel1").export.is_empty());
    assert_eq!(neighbor(onprem, "primary").export, ["vpn-only-specifics"]);
    let vgw = router(&t, "vgw1");
    assert!(neighbor(vgw, "backup/tunnel2").export.is_empty());
}

#[test]
fn cloud_session_must_name_a_session_and_defined_policies() {
    let text = format!(
        "{SHIPPED}{}",
        PREPEND_ON_TUNNEL2
            .replace("\"backup/tunnel2\"", "\"backup/tunnel3\"")
            .replace(
                "export = [\"prepend2\"]",
                "export = [\"prepend2\"]\nimport = [\"nope\"]"
            )
    );
    let at = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map_or(0, |i| i + 1)
    };
    assert_eq!(
        errors(parse("lab.toml", &text)),
        [format!(
            "{}:11: import policy `nope` of a neighbor of `onprem` is not defined",
            at("nope")
        )]
    );
    let text = text.replace("import = [\"nope\"]\n", "");
    assert_eq!(
        errors(parse("lab.toml", &text)),
        [format!("{}:8: `onprem` has a cloud_session `backup/tunnel3`, but the cloud has no session of that name (tunnels are VPN/tunnel1 and VPN/tunnel2, VIFs go by their name)", at("backup/tunnel3"))]
    );
}
