//! hybridlab against a real BIRD 2 over a veth pair with TCP MD5.
//!
//! As with FRR, IPv6 routes travel on a separate IPv6 session: BIRD's direct
//! eBGP wants a next hop on the shared link, which an IPv4 session cannot
//! give for IPv6 routes.

mod common;

use common::bird::{Bird, BirdConfig, BirdPeer, BirdRoute};
use common::hybridlab::{peering_topology, Hybridlab, CLOUD, CLOUD_ASN};
use common::{veth, Lab, Link};
use std::time::Duration;

const PASSWORD: &str = "s3cret-bird";
const BIRD_ASN: u32 = 65000;
const BIRD_ID: &str = "10.0.0.2";
const WAIT: Duration = Duration::from_secs(30);

fn bird_config(link: &Link, networks: Vec<String>) -> BirdConfig {
    let mut c = BirdConfig::new(BIRD_ASN, BIRD_ID);
    c.peers = vec![
        BirdPeer::new("hl4", &link.b4, &link.a4, CLOUD_ASN).password(PASSWORD),
        BirdPeer::new("hl6", &link.b6, &link.a6, CLOUD_ASN).password(PASSWORD),
    ];
    c.networks = networks;
    c
}

/// The route BIRD learnt from hybridlab for `prefix`, once it has it.
fn wait_bird_route(lab: &Lab, bird: &Bird, prefix: &str) -> BirdRoute {
    lab.wait(&format!("{prefix} at BIRD"), WAIT, || {
        let routes = bird.routes_for(prefix)?;
        match routes.as_slice() {
            [r] => Ok(r.clone()),
            other => Err(format!("{} routes: {other:?}", other.len())),
        }
    })
}

fn wait_bird_gone(lab: &Lab, bird: &Bird, prefix: &str) {
    lab.wait(&format!("{prefix} withdrawn at BIRD"), WAIT, || {
        let routes = bird.routes_for(prefix)?;
        if routes.is_empty() {
            Ok(())
        } else {
            Err(format!("still there: {routes:?}"))
        }
    });
}

#[test]
fn bird_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw() {
    if !common::interop_enabled(
        "bird_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw",
    ) {
        return;
    }
    let lab = Lab::new("birdpeer");
    let hl_ns = lab.netns("hl");
    let bird_ns = lab.netns("bird");
    let link = veth(&hl_ns, &bird_ns, "to-bird", "to-hl", 0);

    let bird = Bird::start(
        &lab,
        &bird_ns,
        &bird_config(
            &link,
            vec!["10.20.0.0/24".into(), "2001:db8:20::/48".into()],
        ),
    );
    let hl = Hybridlab::start(
        &lab,
        &hl_ns,
        &peering_topology(&link, "bird", BIRD_ASN, PASSWORD),
    );

    hl.wait_established(&lab, "bird4");
    hl.wait_established(&lab, "bird6");
    bird.wait_established(&lab, "hl4");
    bird.wait_established(&lab, "hl6");

    let s = hl.session("bird6").unwrap_or_else(|e| lab.fail(&e));
    assert_eq!(s["remote_asn"], BIRD_ASN, "{s}");
    assert_eq!(s["remote_id"], BIRD_ID, "{s}");
    assert_eq!(s["peer_address"], link.b6.as_str(), "{s}");

    // hybridlab → BIRD, with the export policy's 3 prepends and MED 200.
    for (prefix, protocol, next_hop) in [
        ("10.10.0.0/16", "hl4", link.a4.as_str()),
        ("2001:db8:10::/48", "hl6", link.a6.as_str()),
    ] {
        let r = wait_bird_route(&lab, &bird, prefix);
        assert_eq!(r.protocol, protocol, "{r:?}");
        assert_eq!(r.as_path(), "64512 64512 64512 64512", "{r:?}");
        assert_eq!(r.med(), Some(200), "{r:?}");
        assert_eq!(
            r.attrs.get("next_hop").map(String::as_str),
            Some(next_hop),
            "{r:?}"
        );
        assert!(r.primary, "{r:?}");
    }
    let plain = wait_bird_route(&lab, &bird, "10.11.0.0/16");
    assert_eq!(plain.as_path(), "64512", "{plain:?}");
    assert_eq!(plain.med(), None, "{plain:?}");

    hl.announce(CLOUD, "10.9.0.0/24");
    let announced = wait_bird_route(&lab, &bird, "10.9.0.0/24");
    assert_eq!(announced.as_path(), "64512", "{announced:?}");
    hl.withdraw(CLOUD, "10.9.0.0/24");
    wait_bird_gone(&lab, &bird, "10.9.0.0/24");
    hl.withdraw(CLOUD, "2001:db8:10::/48");
    wait_bird_gone(&lab, &bird, "2001:db8:10::/48");
    assert_eq!(
        bird.routes_for("10.10.0.0/16")
            .unwrap_or_else(|e| lab.fail(&e))
            .len(),
        1
    );
    let p = bird.protocol("hl6").unwrap_or_else(|e| lab.fail(&e));
    assert_eq!(p.bgp_state.as_deref(), Some("Established"), "{p:?}");

    // BIRD → hybridlab. BIRD puts its global and link-local addresses in
    // the IPv6 next hop (RFC 2545 §3); the global one is the next hop.
    for (prefix, neighbor, next_hop) in [
        ("10.20.0.0/24", "bird4", link.b4.as_str()),
        ("2001:db8:20::/48", "bird6", link.b6.as_str()),
    ] {
        let path = lab.wait(&format!("{prefix} at hybridlab"), WAIT, || {
            let paths = hl.paths(CLOUD, prefix)?;
            match paths.as_slice() {
                [p] => Ok(p.clone()),
                other => Err(format!("{} paths: {other:?}", other.len())),
            }
        });
        assert_eq!(path["from"], neighbor, "{path}");
        assert_eq!(path["as_path"], serde_json::json!([BIRD_ASN]), "{path}");
        assert_eq!(path["next_hop"], next_hop, "{path}");
        assert_eq!(path["origin"], "igp", "{path}");
        assert_eq!(path["best"], true, "{path}");
    }
}

#[test]
fn bird_announcing_101_prefixes_trips_max_prefix_100_until_cleared() {
    if !common::interop_enabled("bird_announcing_101_prefixes_trips_max_prefix_100_until_cleared") {
        return;
    }
    let lab = Lab::new("birdmaxpfx");
    let hl_ns = lab.netns("hl");
    let bird_ns = lab.netns("bird");
    let link = veth(&hl_ns, &bird_ns, "to-bird", "to-hl", 0);

    let mut conf = bird_config(
        &link,
        (0..100).map(|i| format!("10.100.{i}.0/24")).collect(),
    );
    conf.extra_networks = vec!["10.100.100.0/24".into()];
    let bird = Bird::start(&lab, &bird_ns, &conf);
    let mut topology = peering_topology(&link, "bird", BIRD_ASN, PASSWORD);
    topology.routers[0].neighbors[0].max_prefix = Some(100);
    // Nothing to send back: a speaker may return routes to the peer they
    // came from (FRR does), and hybridlab counts those looped routes against
    // the limit too. Here only the peer's own prefixes count.
    topology.routers[0].networks.clear();
    let hl = Hybridlab::start(&lab, &hl_ns, &topology);

    let s = lab.wait("bird4 Idle on prefix limit", WAIT, || {
        let s = hl.session("bird4")?;
        if s["state"] == "Idle" && s["idle_reason"] == "prefix limit" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    });
    assert_eq!(s["last_notification_sent"]["code"], 6, "{s}");
    assert_eq!(s["last_notification_sent"]["subcode"], 1, "{s}");

    let p = lab.wait("BIRD to record the Cease", WAIT, || {
        let p = bird.protocol("hl4")?;
        match &p.last_error {
            Some(e) if e.starts_with("Received:") => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    assert_eq!(
        p.last_error.as_deref(),
        Some("Received: Maximum number of prefixes reached"),
        "{p:?}"
    );

    // BIRD retries after its error wait (1–4 s); hybridlab must stay down.
    lab.hold(
        "bird4 to stay Idle on prefix limit",
        Duration::from_secs(6),
        || {
            let s = hl.session("bird4")?;
            if s["state"] == "Idle" && s["idle_reason"] == "prefix limit" {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    let p = bird.protocol("hl4").unwrap_or_else(|e| lab.fail(&e));
    assert_ne!(p.bgp_state.as_deref(), Some("Established"), "{p:?}");
    assert_eq!(
        hl.session("bird6").unwrap_or_else(|e| lab.fail(&e))["state"],
        "Established"
    );

    // Back to exactly the limit, then clear.
    let out = bird
        .birdc(&["disable", "extra4"])
        .unwrap_or_else(|e| lab.fail(&e));
    assert!(out.contains("disabled"), "birdc disable extra4: {out}");
    hl.clear(CLOUD, "bird4");
    hl.wait_established(&lab, "bird4");
    lab.wait("100 prefixes accepted from bird4", WAIT, || {
        match hl.accepted("bird4", "ipv4-unicast")? {
            100 => Ok(()),
            n => Err(format!("{n} accepted")),
        }
    });
    lab.hold(
        "bird4 to stay Established at 100 prefixes",
        Duration::from_secs(3),
        || {
            let s = hl.session("bird4")?;
            if s["state"] == "Established" {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    bird.wait_established(&lab, "hl4");
}
