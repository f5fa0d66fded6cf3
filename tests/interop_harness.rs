//! The harness checked against itself: FRR and BIRD peer with each other,
//! no hybridlab involved. When these pass and a hybridlab interop test
//! fails, the fault is hybridlab's, not the lab's.

mod common;

use common::bird::{Bird, BirdConfig, BirdPeer};
use common::frr::{Frr, FrrConfig, FrrNeighbor};
use common::{veth, Lab};
use std::time::Duration;

const PASSWORD: &str = "harness-md5";

#[test]
fn frr_and_bird_exchange_v4_and_v6_routes_over_md5() {
    if !common::interop_enabled("frr_and_bird_exchange_v4_and_v6_routes_over_md5") {
        return;
    }
    let lab = Lab::new("harness");
    let frr_ns = lab.netns("frr");
    let bird_ns = lab.netns("bird");
    let link = veth(&frr_ns, &bird_ns, "to-bird", "to-frr", 0);

    let mut frr_conf = FrrConfig::new(65001, "10.0.0.1");
    frr_conf.neighbors = vec![
        FrrNeighbor::new(&link.b4, 65002).password(PASSWORD),
        FrrNeighbor::new(&link.b6, 65002).password(PASSWORD),
    ];
    frr_conf.networks = vec!["10.1.0.0/24".into(), "2001:db8:1::/48".into()];
    let mut bird_conf = BirdConfig::new(65002, "10.0.0.2");
    bird_conf.peers = vec![
        BirdPeer::new("frr4", &link.b4, &link.a4, 65001).password(PASSWORD),
        BirdPeer::new("frr6", &link.b6, &link.a6, 65001).password(PASSWORD),
    ];
    bird_conf.networks = vec!["10.2.0.0/24".into(), "2001:db8:2::/48".into()];
    bird_conf.export_actions = "bgp_med = 150; bgp_path.prepend(65002);".into();

    let frr = Frr::start(&lab, &frr_ns, &frr_conf);
    let bird = Bird::start(&lab, &bird_ns, &bird_conf);
    frr.wait_established(&lab, &link.b4);
    frr.wait_established(&lab, &link.b6);
    bird.wait_established(&lab, "frr4");
    bird.wait_established(&lab, "frr6");

    for prefix in ["10.2.0.0/24", "2001:db8:2::/48"] {
        let path = lab.wait(&format!("{prefix} at FRR"), Duration::from_secs(20), || {
            frr.paths(prefix)?
                .into_iter()
                .next()
                .ok_or_else(|| "absent".to_string())
        });
        assert_eq!(path["path"], "65002 65002", "{prefix} at FRR: {path}");
        assert_eq!(path["metric"], 150, "{prefix} at FRR: {path}");
        assert_eq!(path["valid"], true, "{prefix} at FRR: {path}");
    }
    let v6 = frr
        .json("show bgp ipv6 unicast 2001:db8:2::/48 json")
        .unwrap_or_else(|e| lab.fail(&e));
    assert_eq!(
        v6["paths"][0]["nexthops"][0]["ip"],
        link.b6.as_str(),
        "{v6}"
    );
    for prefix in ["10.1.0.0/24", "2001:db8:1::/48"] {
        let route = lab.wait(
            &format!("{prefix} at BIRD"),
            Duration::from_secs(20),
            || {
                bird.routes_for(prefix)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| "absent".to_string())
            },
        );
        assert_eq!(route.as_path(), "65001", "{prefix} at BIRD: {route:?}");
        assert!(route.primary, "{prefix} at BIRD: {route:?}");
    }
}

/// BIRD's receive limit sends Cease / Maximum Number of Prefixes Reached,
/// as hybridlab's max-prefix does: this pins down the FRR fields the
/// hybridlab tests read.
#[test]
fn frr_reports_a_received_max_prefix_cease() {
    if !common::interop_enabled("frr_reports_a_received_max_prefix_cease") {
        return;
    }
    let lab = Lab::new("harnesspfx");
    let frr_ns = lab.netns("frr");
    let bird_ns = lab.netns("bird");
    let link = veth(&frr_ns, &bird_ns, "to-bird", "to-frr", 0);

    let mut frr_conf = FrrConfig::new(65001, "10.0.0.1");
    frr_conf.neighbors = vec![FrrNeighbor::new(&link.b4, 65002)];
    frr_conf.networks = (0..5).map(|i| format!("10.1.{i}.0/24")).collect();
    let mut bird_conf = BirdConfig::new(65002, "10.0.0.2");
    let mut peer = BirdPeer::new("frr4", &link.b4, &link.a4, 65001);
    peer.receive_limit = Some(4);
    bird_conf.peers = vec![peer];

    let frr = Frr::start(&lab, &frr_ns, &frr_conf);
    let _bird = Bird::start(&lab, &bird_ns, &bird_conf);
    let n = frr.wait_max_prefix_cease(&lab, &link.b4);
    eprintln!("{n:#}");
}

/// FRR's maximum-prefix sends BIRD the Cease hybridlab sends: this pins down
/// BIRD's wording of a received one.
#[test]
fn bird_reports_a_received_max_prefix_cease() {
    if !common::interop_enabled("bird_reports_a_received_max_prefix_cease") {
        return;
    }
    let lab = Lab::new("harnesspfxb");
    let frr_ns = lab.netns("frr");
    let bird_ns = lab.netns("bird");
    let link = veth(&frr_ns, &bird_ns, "to-bird", "to-frr", 0);

    let mut frr_conf = FrrConfig::new(65001, "10.0.0.1");
    let mut nbr = FrrNeighbor::new(&link.b4, 65002);
    nbr.max_prefix = Some(4);
    frr_conf.neighbors = vec![nbr];
    let mut bird_conf = BirdConfig::new(65002, "10.0.0.2");
    bird_conf.peers = vec![BirdPeer::new("frr4", &link.b4, &link.a4, 65001)];
    // FRR 8.4 accepts limit + 1 and trips on the next one.
    bird_conf.networks = (0..6).map(|i| format!("10.2.{i}.0/24")).collect();

    let _frr = Frr::start(&lab, &frr_ns, &frr_conf);
    let bird = Bird::start(&lab, &bird_ns, &bird_conf);
    bird.wait_max_prefix_cease(&lab, "frr4");
}
