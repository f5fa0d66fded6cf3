//! VPN tunnels with `ipsec = true`: outside addresses (defaults and
//! checks) and the tunnel ends both BGP neighbours get.

use hybridlab_topology::cloud::{TunnelOptions, TunnelRole};
use hybridlab_topology::{parse, parse_with, NeighborKind, ParseOptions, Topology, TopologyError};
use std::net::Ipv4Addr;

const BASE: &str = r#"[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"
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
[[customer_gateway]]
name = "office"
asn = 65000
ip = "198.51.100.10"
router = "onprem"
# line 20
"#;

fn vpn(name: &str, ipsec: &str, outside: [Option<&str>; 2], cidrs: [&str; 2]) -> String {
    let mut s = format!(
        "[[vpn]]\nname = \"{name}\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{ipsec}"
    );
    for (o, c) in outside.iter().zip(cidrs) {
        s.push_str(&format!(
            "  [[vpn.tunnel]]\n  inside_cidr = \"{c}\"\n  psk = \"secret.one\"\n"
        ));
        if let Some(o) = o {
            s.push_str(&format!("  outside_address = \"{o}\"\n"));
        }
    }
    s
}

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

fn errors(result: Result<Topology, TopologyError>) -> Vec<String> {
    match result {
        Err(TopologyError::Invalid(d)) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

const A: [&str; 2] = ["169.254.10.0/30", "169.254.10.4/30"];
const B: [&str; 2] = ["169.254.11.0/30", "169.254.11.4/30"];

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn outside_addresses_default_from_test_net_3_skipping_used_ones() {
    let text = format!(
        "{BASE}{}{}",
        vpn("a", "", [None, Some("203.0.113.2")], A),
        vpn("b", "", [None, None], B)
    );
    let t = good(&text);
    let outside: Vec<Ipv4Addr> = t
        .cloud
        .vpns
        .iter()
        .flat_map(|v| v.tunnels.iter().map(|t| t.outside_address))
        .collect();
    assert_eq!(
        outside,
        [
            v4("203.0.113.1"),
            v4("203.0.113.2"),
            v4("203.0.113.3"),
            v4("203.0.113.4")
        ]
    );
    assert!(!t.cloud.vpns[0].ipsec, "ipsec is off unless asked for");
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    assert!(vgw.neighbors.iter().all(|n| n.tunnel.is_none()));
}

#[test]
fn outside_addresses_are_distinct_and_not_a_customer_gateways() {
    let text = format!(
        "{BASE}{}{}",
        vpn("a", "", [Some("198.51.100.10"), Some("203.0.113.7")], A),
        vpn("b", "", [Some("203.0.113.7"), None], B)
    );
    assert_eq!(
        errors(parse("lab.toml", &text)),
        [
            "28:21: `outside_address` 198.51.100.10 of tunnel a/1 is the `ip` of customer gateway `office`; the two ends of a tunnel need different addresses",
            "40:21: `outside_address` 203.0.113.7 of tunnel b/1 is also tunnel a/2's; each tunnel has an outside address of its own (spec §1.1)",
        ]
    );
}

#[test]
fn ipsec_tunnels_lower_to_a_responder_and_an_initiator() {
    let text = format!("{BASE}{}", vpn("a", "ipsec = true\n", [None, None], A));
    let t = good(&text);
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    let onprem = t.router("onprem").unwrap_or_else(|| panic!("no onprem"));
    let aws = vgw.neighbors[0]
        .tunnel
        .clone()
        .unwrap_or_else(|| panic!("no tunnel"));
    let customer = onprem.neighbors[0]
        .tunnel
        .clone()
        .unwrap_or_else(|| panic!("no tunnel"));
    assert_eq!(vgw.neighbors[0].name, "a/tunnel1");
    assert_eq!(aws.role, TunnelRole::Responder);
    assert_eq!(customer.role, TunnelRole::Initiator);
    assert_eq!(aws.local_outside, v4("203.0.113.1"));
    assert_eq!(aws.remote_outside, v4("198.51.100.10"));
    assert_eq!(customer.local_outside, aws.remote_outside);
    assert_eq!(customer.remote_outside, aws.local_outside);
    assert_eq!(aws.inside_local, v4("169.254.10.1"));
    assert_eq!(aws.inside_remote, v4("169.254.10.2"));
    assert_eq!(customer.inside_local, v4("169.254.10.2"));
    assert_eq!(aws.inside_prefix_len, 30);
    assert_eq!(aws.psk, "secret.one");
    assert_eq!(aws.options, TunnelOptions::default());
    assert_eq!(aws.vpc_cidrs.len(), 1);
    assert!(customer.vpc_cidrs.is_empty());
    let second = vgw.neighbors[1].tunnel.as_ref().map(|t| t.local_outside);
    assert_eq!(second, Some(v4("203.0.113.2")));
}

#[test]
fn a_real_customer_reaches_an_ipsec_tunnel_without_a_bgp_listener() {
    let text = format!("{BASE}{}", vpn("a", "ipsec = true\n", [None, None], A));
    let options = ParseOptions {
        external: vec!["onprem".to_string()],
    };
    let t = parse_with("lab.toml", &text, &options).unwrap_or_else(|e| panic!("{e}"));
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    assert!(vgw.listen.is_empty(), "BGP listens inside the tunnel");
    let n = &vgw.neighbors[0];
    assert!(matches!(n.kind, NeighborKind::External { .. }));
    assert_eq!(
        n.tunnel.as_ref().map(|t| t.role),
        Some(TunnelRole::Responder)
    );
}

const STATIC: &str = "routing = \"static\"\nstatic_routes = [\"172.16.0.0/16\"]\n";

/// A static VPN with `ipsec = true`: no BGP session, but both tunnels run
/// IKE and ESP, so each becomes a tunnel-only neighbour on the VGW (the
/// responder) and on the emulated customer router (the initiator).
#[test]
fn static_ipsec_tunnels_lower_to_tunnel_only_neighbours() {
    let text = format!(
        "{BASE}{}",
        vpn("s", &format!("{STATIC}ipsec = true\n"), [None, None], A)
    );
    let t = good(&text);
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    let onprem = t.router("onprem").unwrap_or_else(|| panic!("no onprem"));
    let names: Vec<&str> = vgw.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["s/tunnel1", "s/tunnel2"]);
    assert_eq!(onprem.neighbors.len(), 2);
    for (i, (aws_n, cust_n)) in vgw.neighbors.iter().zip(&onprem.neighbors).enumerate() {
        assert!(!aws_n.bgp && aws_n.is_tunnel_only(), "{aws_n:?}");
        assert!(!cust_n.bgp && cust_n.is_tunnel_only(), "{cust_n:?}");
        assert_eq!(cust_n.name, aws_n.name);
        // BGP's settings play no part.
        assert_eq!(aws_n.max_prefix, None);
        assert_eq!(aws_n.router_id, None);
        assert!(cust_n.import.is_empty() && cust_n.export.is_empty());
        let aws = aws_n.tunnel.clone().unwrap_or_else(|| panic!("no tunnel"));
        let cust = cust_n.tunnel.clone().unwrap_or_else(|| panic!("no tunnel"));
        assert_eq!(aws.role, TunnelRole::Responder);
        assert_eq!(cust.role, TunnelRole::Initiator);
        let outside = v4(["203.0.113.1", "203.0.113.2"][i]);
        assert_eq!(aws.local_outside, outside);
        assert_eq!(aws.remote_outside, v4("198.51.100.10"));
        assert_eq!(
            (cust.local_outside, cust.remote_outside),
            (aws.remote_outside, outside)
        );
        let inside = [
            ("169.254.10.1", "169.254.10.2"),
            ("169.254.10.5", "169.254.10.6"),
        ][i];
        assert_eq!(
            (aws.inside_local, aws.inside_remote),
            (v4(inside.0), v4(inside.1))
        );
        assert_eq!(
            (cust.inside_local, cust.inside_remote),
            (v4(inside.1), v4(inside.0))
        );
        assert_eq!(aws.psk, "secret.one");
        assert_eq!(
            aws.vpc_cidrs.len(),
            1,
            "the VGW end answers pings to the VPC"
        );
        assert!(cust.vpc_cidrs.is_empty());
    }
    // No BGP tunnel: the VGW's identifier stays the fallback.
    assert_eq!(vgw.router_id, v4("169.254.0.1"));
}

/// Toward a real customer gateway the static tunnels are external
/// tunnel-only neighbours: no BGP listener, IKE on the outside address.
#[test]
fn static_ipsec_toward_a_real_customer_is_external_and_listens_on_nothing() {
    let text = format!(
        "{BASE}{}",
        vpn("s", &format!("{STATIC}ipsec = true\n"), [None, None], A)
    );
    let options = ParseOptions {
        external: vec!["onprem".to_string()],
    };
    let t = parse_with("lab.toml", &text, &options).unwrap_or_else(|e| panic!("{e}"));
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    assert!(vgw.listen.is_empty());
    assert_eq!(vgw.neighbors.len(), 2);
    for n in &vgw.neighbors {
        assert!(n.is_tunnel_only());
        assert!(matches!(n.kind, NeighborKind::External { .. }));
    }
}

/// Without `ipsec`, a static VPN lowers to nothing, as before: no session,
/// no tunnel, tunnels that count as up.
#[test]
fn static_vpn_without_ipsec_lowers_to_no_neighbour() {
    let text = format!("{BASE}{}", vpn("s", STATIC, [None, None], A));
    let t = good(&text);
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    let onprem = t.router("onprem").unwrap_or_else(|| panic!("no onprem"));
    assert!(vgw.neighbors.is_empty());
    assert!(onprem.neighbors.is_empty());
}

/// BGP tunnels, with or without IPsec, keep their session.
#[test]
fn bgp_tunnels_keep_their_session() {
    for ipsec in ["", "ipsec = true\n"] {
        let t = good(&format!("{BASE}{}", vpn("a", ipsec, [None, None], A)));
        let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
        assert_eq!(vgw.neighbors.len(), 2);
        assert!(vgw.neighbors.iter().all(|n| n.bgp && !n.is_tunnel_only()));
        assert!(vgw.neighbors.iter().all(|n| n.max_prefix.is_some()));
        assert_eq!(vgw.router_id, v4("169.254.10.1"));
    }
}

/// A `[[router.cloud_session]]` names BGP sessions; a static tunnel is none.
#[test]
fn a_cloud_session_cannot_name_a_static_tunnel() {
    let text = format!(
        "{BASE}{}",
        vpn("s", &format!("{STATIC}ipsec = true\n"), [None, None], A)
    )
    .replace(
        "router_id = \"192.0.2.1\"\n",
        "router_id = \"192.0.2.1\"\n  [[router.cloud_session]]\n  name = \"s/tunnel1\"\n",
    );
    let errs = errors(parse("lab.toml", &text));
    assert!(
        errs.iter().any(|e| e.contains("no session of that name")),
        "{errs:?}"
    );
}
