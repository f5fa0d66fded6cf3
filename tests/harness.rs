//! The harness's own pieces that need no root: the topology files the
//! interop tests write must be valid for hybridlab's parser, and the BIRD
//! output parsers must read real BIRD 2.0.12 output (captured in
//! tests/fixtures/). Runs everywhere, unprivileged: a change in either
//! breaks this test rather than every interop test at once.

mod common;

use common::bird::{parse_route_count, BirdProtocol, BirdRoute};
use common::hybridlab::{peering_topology, HlNeighbor, HlRouter, Topology};
use common::Link;

#[test]
fn peering_topology_parses() {
    let mut t = peering_topology(&Link::unplugged(), "frr", 65000, "s3cret");
    t.routers[0].neighbors[0].max_prefix = Some(100);
    let text = t.to_toml();
    let parsed = hybridlab_topology::parse("peering.toml", &text);
    assert!(
        parsed.is_ok(),
        "{text}\n{}",
        parsed.err().map(|e| e.to_string()).unwrap_or_default()
    );
}

#[test]
fn two_neighbour_topology_parses() {
    let t = Topology {
        name: "best-path".into(),
        routers: vec![HlRouter {
            name: "cloud".into(),
            asn: 64512,
            router_id: "10.0.0.1".into(),
            networks: Vec::new(),
            listen: vec!["192.0.2.1:179".into(), "198.51.100.1:179".into()],
            neighbors: vec![
                HlNeighbor::new("frr", "192.0.2.2", 65001).md5("a"),
                HlNeighbor::new("bird", "198.51.100.2", 65002).md5("b"),
            ],
        }],
        policies: Vec::new(),
    };
    let text = t.to_toml();
    let parsed = hybridlab_topology::parse("best-path.toml", &text);
    assert!(
        parsed.is_ok(),
        "{text}\n{}",
        parsed.err().map(|e| e.to_string()).unwrap_or_default()
    );
}

#[test]
fn bird_routes_parse_with_alternatives_and_attributes() {
    let routes = BirdRoute::parse_all(include_str!("fixtures/bird-show-route-all.txt"));
    let summary: Vec<(&str, &str, bool)> = routes
        .iter()
        .map(|r| (r.prefix.as_str(), r.protocol.as_str(), r.primary))
        .collect();
    assert_eq!(
        summary,
        [
            ("10.1.0.0/24", "frr4", true),
            ("10.10.0.0/16", "static4", true),
            ("10.10.0.0/16", "frr4", false),
            ("2001:db8:1::/48", "frr6", true),
        ]
    );
    assert_eq!(routes[0].as_path(), "65001");
    assert_eq!(routes[0].med(), Some(0));
    assert_eq!(routes[1].med(), None);
    assert_eq!(routes[3].attrs["next_hop"], "2001:db8:0:1::1");
}

#[test]
fn bird_protocol_parses() {
    let p = BirdProtocol::parse(include_str!("fixtures/bird-show-protocols-all.txt"));
    assert_eq!(
        p,
        Some(BirdProtocol {
            name: "frr4".into(),
            state: "up".into(),
            info: "Established".into(),
            bgp_state: Some("Established".into()),
            last_error: None,
        })
    );
}

#[test]
fn bird_route_count_sums_tables_without_the_total_line() {
    assert_eq!(
        parse_route_count(include_str!("fixtures/bird-show-route-count.txt")),
        Some(4)
    );
}
