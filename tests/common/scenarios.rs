//! The BGP peering scenarios of tests/interop_frr.rs and
//! tests/interop_bird.rs, run against either real peer: hybridlab's router
//! `cloud` on side A of one veth link, the peer on side B, one IPv4 and one
//! IPv6 session with TCP MD5 (see [`peering_topology`]).
//!
//! IPv6 routes travel on the IPv6 session: FRR's bgpd runs without zebra
//! and cannot pick an IPv6 next hop for an IPv4 session (it would send
//! `::`), and BIRD's direct eBGP wants a next hop on the shared link.

use super::hybridlab::{peering_topology, Hybridlab, Topology, CLOUD};
use super::peer::{PeerBgp, PeerKind, PeerRoute, PeerSession, RealPeer};
use super::{veth, Lab, Link};
use std::time::Duration;

pub const PEER_ASN: u32 = 65000;
pub const PEER_ID: &str = "10.0.0.2";
const WAIT: Duration = Duration::from_secs(30);

fn password(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::Frr => "s3cret-frr",
        PeerKind::Bird => "s3cret-bird",
    }
}

/// One peering lab. Daemons first, lab last: fields drop in order, so
/// processes end before their namespaces go.
struct Peering {
    hl: Hybridlab,
    peer: RealPeer,
    /// The peer's IPv4 and IPv6 sessions (BIRD's protocols `hl4`, `hl6`).
    v4: PeerSession,
    v6: PeerSession,
    /// hybridlab's names for them: `frr4`, `frr6`, `bird4`, `bird6`.
    hl4: String,
    hl6: String,
    link: Link,
    lab: Lab,
}

/// Starts the peer (announcing `networks`, and `extra` to take back later)
/// and then hybridlab with the topology `topology` makes of the link.
fn peering(
    kind: PeerKind,
    tag: &str,
    networks: Vec<String>,
    extra: Vec<String>,
    topology: impl FnOnce(&Link) -> Topology,
) -> Peering {
    let name = kind.name();
    let lab = Lab::new(&format!("{name}{tag}"));
    let hl_ns = lab.netns("hl");
    let peer_ns = lab.netns(name);
    let link = veth(&hl_ns, &peer_ns, &format!("to-{name}"), "to-hl", 0);
    let v4 = PeerSession::on_link(kind, &link, false, "hl4");
    let v6 = PeerSession::on_link(kind, &link, true, "hl6");
    let peer = RealPeer::start(
        kind,
        &lab,
        &peer_ns,
        PeerBgp {
            asn: PEER_ASN,
            router_id: PEER_ID,
            sessions: &[v4.clone(), v6.clone()],
            password: Some(password(kind)),
            bfd: false,
            networks,
            extra_networks: extra,
        },
    );
    let hl = Hybridlab::start(&lab, &hl_ns, &topology(&link));
    Peering {
        hl,
        peer,
        v4,
        v6,
        hl4: format!("{name}4"),
        hl6: format!("{name}6"),
        link,
        lab,
    }
}

impl Peering {
    /// The one path the peer holds for `prefix`, once it has it.
    fn wait_peer_route(&self, prefix: &str) -> PeerRoute {
        let label = self.peer.label();
        self.lab.wait(&format!("{prefix} at {label}"), WAIT, || {
            let routes = self.peer.routes(prefix)?;
            match routes.as_slice() {
                [r] => Ok(r.clone()),
                other => Err(format!("{} routes: {other:?}", other.len())),
            }
        })
    }

    fn wait_peer_route_gone(&self, prefix: &str) {
        let label = self.peer.label();
        self.lab
            .wait(&format!("{prefix} withdrawn at {label}"), WAIT, || {
                let routes = self.peer.routes(prefix)?;
                if routes.is_empty() {
                    Ok(())
                } else {
                    Err(format!("still there: {routes:?}"))
                }
            });
    }

    fn peer_route_count(&self, prefix: &str) -> usize {
        self.peer
            .routes(prefix)
            .unwrap_or_else(|e| self.lab.fail(&e))
            .len()
    }

    fn hl_idle_on_prefix_limit(&self) -> Result<serde_json::Value, String> {
        let s = self.hl.session(&self.hl4)?;
        if s["state"] == "Idle" && s["idle_reason"] == "prefix limit" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    }
}

/// Both sessions come up signed; hybridlab's export policy reaches the
/// peer; run-time announce and withdraw; the peer's routes reach hybridlab
/// in both families.
pub fn md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw(kind: PeerKind) {
    let p = peering(
        kind,
        "peer",
        vec!["10.20.0.0/24".into(), "2001:db8:20::/48".into()],
        Vec::new(),
        |link| peering_topology(link, kind.name(), PEER_ASN, password(kind)),
    );
    let (lab, hl, link) = (&p.lab, &p.hl, &p.link);

    // MD5 on both ends: the peer's kernel drops unsigned or badly signed
    // segments, so Established proves hybridlab signs with the right key.
    hl.wait_established(lab, &p.hl4);
    hl.wait_established(lab, &p.hl6);
    p.peer.wait_established(lab, &p.v4);
    p.peer.wait_established(lab, &p.v6);

    for (neighbor, address) in [(&p.hl4, &link.b4), (&p.hl6, &link.b6)] {
        let s = hl.session(neighbor).unwrap_or_else(|e| lab.fail(&e));
        assert_eq!(s["kind"], "external", "{s}");
        assert_eq!(s["remote_asn"], PEER_ASN, "{s}");
        assert_eq!(s["remote_id"], PEER_ID, "{s}");
        assert_eq!(s["peer_address"], address.as_str(), "{s}");
    }

    // hybridlab → peer: the export policy prepends the local AS 3 times on
    // top of the one every eBGP speaker adds (RFC 4271 §5.1.2), and sets
    // MED. BIRD puts its global and link-local addresses in the IPv6 next
    // hop (RFC 2545 §3); either peer lists the global one first.
    for (prefix, session) in [("10.10.0.0/16", &p.v4), ("2001:db8:10::/48", &p.v6)] {
        let r = p.wait_peer_route(prefix);
        assert_eq!(r.from, session.id, "{prefix}: {}", r.raw);
        assert_eq!(r.as_path, "64512 64512 64512 64512", "{prefix}: {}", r.raw);
        assert_eq!(r.med, Some(200), "{prefix}: {}", r.raw);
        assert_eq!(
            r.next_hop.as_deref(),
            Some(session.hl_address.as_str()),
            "{prefix}: {}",
            r.raw
        );
        assert!(r.usable, "{prefix}: {}", r.raw);
    }
    let plain = p.wait_peer_route("10.11.0.0/16");
    assert_eq!(plain.as_path, "64512", "{}", plain.raw);
    assert_eq!(plain.med, None, "no MED expected: {}", plain.raw);

    // Announce and withdraw at run time; each withdrawal leaves the rest.
    hl.announce(CLOUD, "10.9.0.0/24");
    let announced = p.wait_peer_route("10.9.0.0/24");
    assert_eq!(announced.as_path, "64512", "{}", announced.raw);
    hl.withdraw(CLOUD, "10.9.0.0/24");
    p.wait_peer_route_gone("10.9.0.0/24");
    hl.withdraw(CLOUD, "2001:db8:10::/48");
    p.wait_peer_route_gone("2001:db8:10::/48");
    assert_eq!(p.peer_route_count("10.10.0.0/16"), 1);
    hl.withdraw(CLOUD, "10.10.0.0/16");
    p.wait_peer_route_gone("10.10.0.0/16");
    assert_eq!(p.peer_route_count("10.11.0.0/16"), 1);
    for session in [&p.v4, &p.v6] {
        assert_eq!(
            p.peer
                .bgp_state(session)
                .unwrap_or_else(|e| lab.fail(&e))
                .as_deref(),
            Some("Established"),
            "{session:?}"
        );
    }

    // Peer → hybridlab, both families.
    for (prefix, neighbor, next_hop) in [
        ("10.20.0.0/24", &p.hl4, link.b4.as_str()),
        ("2001:db8:20::/48", &p.hl6, link.b6.as_str()),
    ] {
        let path = lab.wait(&format!("{prefix} at hybridlab"), WAIT, || {
            let paths = hl.paths(CLOUD, prefix)?;
            match paths.as_slice() {
                [p] => Ok(p.clone()),
                other => Err(format!("{} paths: {other:?}", other.len())),
            }
        });
        assert_eq!(path["from"], neighbor.as_str(), "{path}");
        assert_eq!(path["as_path"], serde_json::json!([PEER_ASN]), "{path}");
        assert_eq!(path["next_hop"], next_hop, "{path}");
        assert_eq!(path["origin"], "igp", "{path}");
        assert_eq!(path["best"], true, "{path}");
        assert_eq!(path["reason"], "only path", "{path}");
    }
}

/// The peer announces 101 prefixes to a limit of 100: hybridlab sends
/// Cease / Maximum Number of Prefixes Reached, stays Idle while the peer
/// retries, and comes back for good after the peer drops one and the
/// session is cleared.
pub fn announcing_101_prefixes_trips_max_prefix_100_until_cleared(kind: PeerKind) {
    let extra = vec!["10.100.100.0/24".to_string()];
    let p = peering(
        kind,
        "maxpfx",
        (0..100).map(|i| format!("10.100.{i}.0/24")).collect(),
        extra.clone(),
        |link| {
            let mut t = peering_topology(link, kind.name(), PEER_ASN, password(kind));
            t.routers[0].neighbors[0].max_prefix = Some(100);
            // Nothing to send back: a speaker may return routes to the peer
            // they came from (FRR does), and hybridlab counts those looped
            // routes against the limit too (they are received prefixes).
            // Here only the peer's own prefixes count.
            t.routers[0].networks.clear();
            t
        },
    );
    let (lab, hl) = (&p.lab, &p.hl);

    // hybridlab follows the cloud: the 101st prefix trips the limit.
    let s = lab.wait(&format!("{} Idle on prefix limit", p.hl4), WAIT, || {
        p.hl_idle_on_prefix_limit()
    });
    assert_eq!(s["last_notification_sent"]["code"], 6, "{s}");
    assert_eq!(s["last_notification_sent"]["subcode"], 1, "{s}");

    // Each peer records the Cease in its own words.
    match &p.peer {
        RealPeer::Frr(frr) => {
            let n = frr.wait_max_prefix_cease(lab, &p.v4.id);
            assert_eq!(n["lastResetDueTo"], "BGP Notification received", "{n}");
        }
        RealPeer::Bird(bird) => {
            bird.wait_max_prefix_cease(lab, &p.v4.id);
        }
    }

    // FRR reconnects every second, BIRD after its error wait (1–4 s):
    // hybridlab must stay down.
    lab.hold(
        &format!("{} to stay Idle on prefix limit", p.hl4),
        Duration::from_secs(6),
        || p.hl_idle_on_prefix_limit().map(|_| ()),
    );
    assert!(
        !p.peer
            .bgp_established(&p.v4)
            .unwrap_or_else(|e| lab.fail(&e)),
        "{}",
        p.peer.bgp_summary(&p.v4).unwrap_or_else(|e| lab.fail(&e))
    );
    // The IPv6 session has no limit and is not affected.
    assert_eq!(
        hl.session(&p.hl6).unwrap_or_else(|e| lab.fail(&e))["state"],
        "Established"
    );

    // Down to exactly the limit, then clear: the session comes back and
    // stays up with all 100 prefixes.
    p.peer.withdraw_extra(&extra);
    hl.clear(CLOUD, &p.hl4);
    hl.wait_established(lab, &p.hl4);
    lab.wait(
        &format!("100 prefixes accepted from {}", p.hl4),
        WAIT,
        || match hl.accepted(&p.hl4, "ipv4-unicast")? {
            100 => Ok(()),
            n => Err(format!("{n} accepted")),
        },
    );
    lab.hold(
        &format!("{} to stay Established at 100 prefixes", p.hl4),
        Duration::from_secs(3),
        || {
            let s = hl.session(&p.hl4)?;
            if s["state"] == "Established" {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    p.peer.wait_established(lab, &p.v4);
}

/// hybridlab configured with another MD5 key than the peer's.
pub fn with_a_different_md5_password_never_establishes(kind: PeerKind) {
    let p = peering(kind, "badmd5", Vec::new(), Vec::new(), |link| {
        peering_topology(link, kind.name(), PEER_ASN, "not-the-same")
    });
    let label = kind.label();
    // A wrong key is silent: each kernel drops the other's segments, so
    // both sides keep retrying and never get an OPEN through.
    p.lab.hold(
        "no session with a mismatched MD5 key",
        Duration::from_secs(6),
        || {
            let s = p.hl.session(&p.hl4)?;
            let peer_state = p.peer.bgp_state(&p.v4)?;
            match (s["state"].as_str(), peer_state.as_deref()) {
                (Some("Connect" | "Active" | "Idle"), Some("Connect" | "Active" | "Idle")) => {
                    Ok(())
                }
                _ => Err(format!("hybridlab {s}, {label} {peer_state:?}")),
            }
        },
    );
    let s = p.hl.session(&p.hl4).unwrap_or_else(|e| p.lab.fail(&e));
    assert_eq!(s["messages"]["received"], 0, "{s}");
}
