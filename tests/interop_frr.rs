//! hybridlab against a real FRR 8.4 bgpd over a veth pair with TCP MD5.
//!
//! IPv6 routes travel on a separate IPv6 session (IPv6 transport, IPv6 next
//! hop): bgpd runs without zebra, so it cannot pick an IPv6 next hop for an
//! IPv4 session and would send `::`.

mod common;

use common::frr::{Frr, FrrConfig, FrrNeighbor};
use common::hybridlab::{peering_topology, Hybridlab, CLOUD, CLOUD_ASN};
use common::{veth, Lab, Link};
use serde_json::Value;
use std::time::Duration;

const PASSWORD: &str = "s3cret-frr";
const FRR_ASN: u32 = 65000;
const FRR_ID: &str = "10.0.0.2";
const WAIT: Duration = Duration::from_secs(30);

fn frr_config(link: &Link, networks: Vec<String>) -> FrrConfig {
    let mut c = FrrConfig::new(FRR_ASN, FRR_ID);
    c.neighbors = vec![
        FrrNeighbor::new(&link.a4, CLOUD_ASN).password(PASSWORD),
        FrrNeighbor::new(&link.a6, CLOUD_ASN).password(PASSWORD),
    ];
    c.networks = networks;
    c
}

/// The one path FRR holds for `prefix`, once it has it.
fn wait_frr_path(lab: &Lab, frr: &Frr, prefix: &str) -> Value {
    lab.wait(&format!("{prefix} at FRR"), WAIT, || {
        let paths = frr.paths(prefix)?;
        match paths.as_slice() {
            [p] => Ok(p.clone()),
            other => Err(format!("{} paths: {other:?}", other.len())),
        }
    })
}

fn wait_frr_gone(lab: &Lab, frr: &Frr, prefix: &str) {
    lab.wait(&format!("{prefix} withdrawn at FRR"), WAIT, || {
        let paths = frr.paths(prefix)?;
        if paths.is_empty() {
            Ok(())
        } else {
            Err(format!("still there: {paths:?}"))
        }
    });
}

#[test]
fn frr_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw() {
    if !common::interop_enabled(
        "frr_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw",
    ) {
        return;
    }
    let lab = Lab::new("frrpeer");
    let hl_ns = lab.netns("hl");
    let frr_ns = lab.netns("frr");
    let link = veth(&hl_ns, &frr_ns, "to-frr", "to-hl", 0);

    let frr = Frr::start(
        &lab,
        &frr_ns,
        &frr_config(
            &link,
            vec!["10.20.0.0/24".into(), "2001:db8:20::/48".into()],
        ),
    );
    let hl = Hybridlab::start(
        &lab,
        &hl_ns,
        &peering_topology(&link, "frr", FRR_ASN, PASSWORD),
    );

    // MD5 on both ends: FRR's kernel drops unsigned or badly signed
    // segments, so Established proves hybridlab signs with the right key.
    hl.wait_established(&lab, "frr4");
    hl.wait_established(&lab, "frr6");
    frr.wait_established(&lab, &link.a4);
    frr.wait_established(&lab, &link.a6);

    let s = hl.session("frr4").unwrap_or_else(|e| lab.fail(&e));
    assert_eq!(s["kind"], "external", "{s}");
    assert_eq!(s["remote_asn"], FRR_ASN, "{s}");
    assert_eq!(s["remote_id"], FRR_ID, "{s}");
    assert_eq!(s["peer_address"], link.b4.as_str(), "{s}");

    // hybridlab → FRR: the export policy prepends the local AS 3 times on
    // top of the one every eBGP speaker adds (RFC 4271 §5.1.2), and sets MED.
    for prefix in ["10.10.0.0/16", "2001:db8:10::/48"] {
        let p = wait_frr_path(&lab, &frr, prefix);
        assert_eq!(p["path"], "64512 64512 64512 64512", "{prefix}: {p}");
        assert_eq!(p["metric"], 200, "{prefix}: {p}");
        assert_eq!(p["valid"], true, "{prefix}: {p}");
    }
    let plain = wait_frr_path(&lab, &frr, "10.11.0.0/16");
    assert_eq!(plain["path"], "64512", "{plain}");
    assert!(plain.get("metric").is_none(), "no MED expected: {plain}");
    let v6 = frr
        .json("show bgp ipv6 unicast 2001:db8:10::/48 json")
        .unwrap_or_else(|e| lab.fail(&e));
    let nh = &v6["paths"][0]["nexthops"][0]["ip"];
    assert_eq!(nh, link.a6.as_str(), "IPv6 next hop: {v6}");

    // Announce and withdraw at run time.
    hl.announce(CLOUD, "10.9.0.0/24");
    let announced = wait_frr_path(&lab, &frr, "10.9.0.0/24");
    assert_eq!(announced["path"], "64512", "{announced}");
    hl.withdraw(CLOUD, "10.9.0.0/24");
    wait_frr_gone(&lab, &frr, "10.9.0.0/24");
    hl.withdraw(CLOUD, "10.10.0.0/16");
    wait_frr_gone(&lab, &frr, "10.10.0.0/16");
    assert_eq!(
        frr.paths("10.11.0.0/16")
            .unwrap_or_else(|e| lab.fail(&e))
            .len(),
        1
    );
    assert_eq!(
        frr.neighbor_state(&link.a4)
            .unwrap_or_else(|e| lab.fail(&e)),
        "Established"
    );

    // FRR → hybridlab, both families.
    for (prefix, neighbor, next_hop) in [
        ("10.20.0.0/24", "frr4", link.b4.as_str()),
        ("2001:db8:20::/48", "frr6", link.b6.as_str()),
    ] {
        let path = lab.wait(&format!("{prefix} at hybridlab"), WAIT, || {
            let paths = hl.paths(CLOUD, prefix)?;
            match paths.as_slice() {
                [p] => Ok(p.clone()),
                other => Err(format!("{} paths: {other:?}", other.len())),
            }
        });
        assert_eq!(path["from"], neighbor, "{path}");
        assert_eq!(path["as_path"], serde_json::json!([FRR_ASN]), "{path}");
        assert_eq!(path["next_hop"], next_hop, "{path}");
        assert_eq!(path["best"], true, "{path}");
        assert_eq!(path["reason"], "only path", "{path}");
    }
}

#[test]
fn frr_announcing_101_prefixes_trips_max_prefix_100_until_cleared() {
    if !common::interop_enabled("frr_announcing_101_prefixes_trips_max_prefix_100_until_cleared") {
        return;
    }
    let lab = Lab::new("frrmaxpfx");
    let hl_ns = lab.netns("hl");
    let frr_ns = lab.netns("frr");
    let link = veth(&hl_ns, &frr_ns, "to-frr", "to-hl", 0);

    let networks: Vec<String> = (0..101).map(|i| format!("10.100.{i}.0/24")).collect();
    let frr = Frr::start(&lab, &frr_ns, &frr_config(&link, networks));
    let mut topology = peering_topology(&link, "frr", FRR_ASN, PASSWORD);
    topology.routers[0].neighbors[0].max_prefix = Some(100);
    // Nothing to send back: FRR returns routes to the peer they came from,
    // and hybridlab counts those looped routes against the limit too (they
    // are received prefixes). Here only the peer's own prefixes count.
    topology.routers[0].networks.clear();
    let hl = Hybridlab::start(&lab, &hl_ns, &topology);

    // hybridlab follows the cloud: the 101st prefix trips the limit.
    let s = lab.wait("frr4 Idle on prefix limit", WAIT, || {
        let s = hl.session("frr4")?;
        if s["state"] == "Idle" && s["idle_reason"] == "prefix limit" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    });
    assert_eq!(s["last_notification_sent"]["code"], 6, "{s}");
    assert_eq!(s["last_notification_sent"]["subcode"], 1, "{s}");

    let n = lab.wait("FRR to record the Cease", WAIT, || {
        let n = frr.neighbor(&link.a4)?;
        if n["lastErrorCodeSubcode"] == "0601" {
            Ok(n)
        } else {
            Err(n.to_string())
        }
    });
    assert_eq!(
        n["lastNotificationReason"], "Cease/Maximum Number of Prefixes Reached",
        "{n}"
    );
    assert_eq!(n["lastResetDueTo"], "BGP Notification received", "{n}");

    // FRR keeps reconnecting every second; hybridlab must stay down.
    lab.hold(
        "frr4 to stay Idle on prefix limit",
        Duration::from_secs(6),
        || {
            let s = hl.session("frr4")?;
            if s["state"] == "Idle" && s["idle_reason"] == "prefix limit" {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    assert_ne!(
        frr.neighbor_state(&link.a4)
            .unwrap_or_else(|e| lab.fail(&e)),
        "Established"
    );
    // The IPv6 session has no limit and is not affected.
    assert_eq!(
        hl.session("frr6").unwrap_or_else(|e| lab.fail(&e))["state"],
        "Established"
    );

    // Down to exactly the limit, then clear: the session comes back and
    // stays up with all 100 prefixes.
    frr.configure(&["address-family ipv4 unicast", "no network 10.100.100.0/24"]);
    hl.clear(CLOUD, "frr4");
    hl.wait_established(&lab, "frr4");
    lab.wait("100 prefixes accepted from frr4", WAIT, || {
        match hl.accepted("frr4", "ipv4-unicast")? {
            100 => Ok(()),
            n => Err(format!("{n} accepted")),
        }
    });
    lab.hold(
        "frr4 to stay Established at 100 prefixes",
        Duration::from_secs(3),
        || {
            let s = hl.session("frr4")?;
            if s["state"] == "Established" {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    frr.wait_established(&lab, &link.a4);
}

#[test]
fn frr_with_a_different_md5_password_never_establishes() {
    if !common::interop_enabled("frr_with_a_different_md5_password_never_establishes") {
        return;
    }
    let lab = Lab::new("frrbadmd5");
    let hl_ns = lab.netns("hl");
    let frr_ns = lab.netns("frr");
    let link = veth(&hl_ns, &frr_ns, "to-frr", "to-hl", 0);

    let frr = Frr::start(&lab, &frr_ns, &frr_config(&link, Vec::new()));
    let hl = Hybridlab::start(
        &lab,
        &hl_ns,
        &peering_topology(&link, "frr", FRR_ASN, "not-the-same"),
    );
    // A wrong key is silent: each kernel drops the other's segments, so
    // both sides keep retrying (every second) and never get an OPEN through.
    lab.hold(
        "no session with a mismatched MD5 key",
        Duration::from_secs(6),
        || {
            let s = hl.session("frr4")?;
            let frr_state = frr.neighbor_state(&link.a4)?;
            match (s["state"].as_str(), frr_state.as_str()) {
                (Some("Connect" | "Active" | "Idle"), "Connect" | "Active" | "Idle") => Ok(()),
                _ => Err(format!("hybridlab {s}, FRR {frr_state}")),
            }
        },
    );
    let s = hl.session("frr4").unwrap_or_else(|e| lab.fail(&e));
    assert_eq!(s["messages"]["received"], 0, "{s}");
}
