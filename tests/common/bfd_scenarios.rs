//! The BFD scenarios of tests/interop_bfd_frr.rs and
//! tests/interop_bfd_bird.rs, run against either real peer: negotiation at
//! 300 ms × 3, a silent loss and a link going down, BGP torn down with
//! Cease / BFD Down and held Idle, recovery in the right order, detection
//! times over ten cuts, and AdminDown at hybridlab's shutdown. The steps
//! of one cut are [`BfdPair`]'s; what each peer reports of it is checked
//! here, per peer.

use super::bfd::{self, BfdPair, Capture, Cut};
use super::bird::BirdBfdSession;
use super::frr::Frr;
use super::hybridlab::{HlBfd, Hybridlab, CLOUD};
use super::peer::{PeerBgp, PeerKind, PeerOnLink, PeerSession, RealPeer};
use super::{veth, Lab, Link, Netns};
use std::time::Duration;

/// `bfd = { min_tx = 300, min_rx = 300, multiplier = 3, passive = false }`.
pub fn explicit_timers() -> HlBfd {
    HlBfd::Timers {
        min_tx_ms: 300,
        min_rx_ms: 300,
        multiplier: 3,
        passive: false,
    }
}

/// What differs between the two peers' labs: their AS, router ID and
/// prefix, and the spelling of hybridlab's `bfd` (FRR's lab takes `bfd =
/// true`, the defaults, which must be the cloud's 300 ms × 3; BIRD's the
/// table form spelled out).
struct PeerPlan {
    asn: u32,
    router_id: &'static str,
    prefix: &'static str,
    hl_bfd: HlBfd,
}

fn plan(kind: PeerKind) -> PeerPlan {
    match kind {
        PeerKind::Frr => PeerPlan {
            asn: 65000,
            router_id: "10.0.0.2",
            prefix: "10.20.0.0/24",
            hl_bfd: HlBfd::Default,
        },
        PeerKind::Bird => PeerPlan {
            asn: 65001,
            router_id: "10.0.0.3",
            prefix: "10.30.0.0/24",
            hl_bfd: explicit_timers(),
        },
    }
}

/// One lab: hybridlab (`cloud`, neighbour `frr` or `bird` with BFD) and the
/// peer (BFD at 300/300/3 bound to its one IPv4 session, BIRD's protocol
/// `hl`), a capture of the link. Fields drop in order: capture and daemons
/// before the lab deletes the namespaces.
struct BfdLab {
    capture: Option<Capture>,
    hl: Hybridlab,
    peer: RealPeer,
    session: PeerSession,
    prefix: &'static str,
    hl_ns: Netns,
    peer_ns: Netns,
    link: Link,
    lab: Lab,
}

impl BfdLab {
    fn new(kind: PeerKind, tag: &str) -> BfdLab {
        let name = kind.name();
        let plan = plan(kind);
        let lab = Lab::new(&format!("bfd{name}{tag}"));
        let hl_ns = lab.netns("hl");
        let peer_ns = lab.netns(name);
        let link = veth(&hl_ns, &peer_ns, &format!("to-{name}"), "to-hl", 0);
        let capture = bfd::capture(&lab, &hl_ns, &link.a_if);

        let session = PeerSession::on_link(kind, &link, false, "hl");
        let peer = RealPeer::start(
            kind,
            &lab,
            &peer_ns,
            PeerBgp {
                asn: plan.asn,
                router_id: plan.router_id,
                sessions: std::slice::from_ref(&session),
                password: None,
                bfd: true,
                networks: vec![plan.prefix.to_string()],
                extra_networks: Vec::new(),
            },
        );
        let topology = bfd::topology(&link, name, plan.asn, plan.hl_bfd);
        let hl = Hybridlab::start(&lab, &hl_ns, &topology);
        BfdLab {
            capture,
            hl,
            peer,
            session,
            prefix: plan.prefix,
            hl_ns,
            peer_ns,
            link,
            lab,
        }
    }

    fn view(&self) -> PeerOnLink<'_> {
        PeerOnLink {
            peer: &self.peer,
            session: &self.session,
        }
    }

    fn pair<'a>(&'a self, view: &'a PeerOnLink<'a>) -> BfdPair<'a> {
        BfdPair {
            lab: &self.lab,
            hl: &self.hl,
            neighbor: self.peer.kind().name(),
            hl_ns: &self.hl_ns,
            peer_ns: &self.peer_ns,
            link: &self.link,
            peer: view,
        }
    }

    /// The peer's prefix at hybridlab: there while BGP is up, gone when it
    /// drops.
    fn peer_routes_at_hybridlab(&self) -> usize {
        self.hl
            .paths(CLOUD, self.prefix)
            .unwrap_or_else(|e| self.lab.fail(&e))
            .len()
    }

    fn wait_peer_routes_at_hybridlab(&self) {
        self.lab.wait(
            &format!("{}'s prefix at hybridlab", self.peer.label()),
            Duration::from_secs(10),
            || match self.peer_routes_at_hybridlab() {
                0 => Err("not yet".to_string()),
                _ => Ok(()),
            },
        );
    }
}

/// FRR's bfdd session to hybridlab's `address`, which must exist.
fn frr_bfd_peer(lab: &Lab, frr: &Frr, address: &str) -> serde_json::Value {
    frr.bfd_peer(address)
        .unwrap_or_else(|e| lab.fail(&e))
        .unwrap_or_else(|| lab.fail("FRR has no BFD session to hybridlab"))
}

/// Both sides agree on 300 ms × 3, and hybridlab's packets on the wire
/// are what RFC 5881 asks.
pub fn bfd_comes_up_at_300ms_x3_on_both_sides(kind: PeerKind) {
    let mut s = BfdLab::new(kind, "up");
    let capture = s.capture.take();
    let view = s.view();
    let pair = s.pair(&view);
    let b = pair.wait_all_up();

    assert_eq!(b["router"], CLOUD, "{b}");
    assert_eq!(b["peer_address"], s.link.b4.as_str(), "{b}");
    assert_eq!(b["remote_state"], "Up", "{b}");
    assert_eq!(b["kind"], "external", "{b}");
    assert_eq!(b["passive"], false, "{b}");
    assert_eq!(b["holding_bgp"], false, "{b}");
    // Every packet the peer sent was accepted.
    assert_eq!(b["counters"]["dropped_total"], 0, "{b}");
    assert_eq!(b["counters"]["failures"], 0, "{b}");
    for (field, want) in [
        ("desired_min_tx_us", 300_000),
        ("required_min_rx_us", 300_000),
        ("remote_desired_min_tx_us", 300_000),
        ("remote_required_min_rx_us", 300_000),
        ("tx_interval_us", 300_000),
        ("detection_time_us", 900_000),
        ("detect_mult", 3),
        ("remote_detect_mult", 3),
    ] {
        assert_eq!(b[field], want, "hybridlab {field}: {b}");
    }

    match &s.peer {
        RealPeer::Frr(frr) => {
            // FRR's side of the same session: what it heard from
            // hybridlab, and the discriminators crossing over (RFC 5880
            // §6.8.6).
            let f = frr_bfd_peer(&s.lab, frr, &s.link.a4);
            assert_eq!(f["status"], "up", "{f}");
            assert_eq!(f["multihop"], false, "{f}");
            assert_eq!(f["interface"], s.link.b_if.as_str(), "{f}");
            for (field, want) in [
                ("receive-interval", 300),
                ("transmit-interval", 300),
                ("detect-multiplier", 3),
                ("remote-receive-interval", 300),
                ("remote-transmit-interval", 300),
                ("remote-detect-multiplier", 3),
            ] {
                assert_eq!(f[field], want, "FRR {field}: {f}");
            }
            assert_eq!(f["id"], b["remote_discriminator"], "FRR {f}\nhybridlab {b}");
            assert_eq!(
                f["remote-id"], b["local_discriminator"],
                "FRR {f}\nhybridlab {b}"
            );
        }
        RealPeer::Bird(bird) => {
            // BIRD's figures are its own results of the negotiation with
            // hybridlab's advertised values: its transmit interval and its
            // detection time (RFC 5880 §6.8.4, §6.8.7).
            let session = bird
                .bfd_session(&s.link.a4)
                .unwrap_or_else(|e| s.lab.fail(&e))
                .unwrap_or_else(|| s.lab.fail("BIRD has no BFD session to hybridlab"));
            assert_eq!(
                session,
                BirdBfdSession {
                    address: s.link.a4.clone(),
                    interface: s.link.b_if.clone(),
                    state: "Up".to_string(),
                    interval_ms: 300,
                    timeout_ms: 900,
                }
            );
        }
    }

    pair.check_wire_rate();
    pair.check_wire(capture);
}

/// A silent loss: both sides detect on their own, both drop BGP at once,
/// and both come back once the link carries again.
pub fn silent_loss_drops_bgp_at_once_and_both_return(kind: PeerKind) {
    let s = BfdLab::new(kind, "loss");
    let view = s.view();
    let pair = s.pair(&view);
    let label = kind.label();
    pair.wait_all_up();
    s.wait_peer_routes_at_hybridlab();

    let at = pair.cut(Cut::SilentLoss);
    let trial = pair.observe_down(Cut::SilentLoss, at);
    // Its routes went with the session.
    assert_eq!(s.peer_routes_at_hybridlab(), 0);
    // The peer detected on its own (nothing hybridlab sent got through)
    // and dropped its BGP session for it.
    assert!(trial.peer_ms.is_some(), "{label} logged no BFD Up -> Down");
    match &s.peer {
        RealPeer::Frr(frr) => {
            let f = frr_bfd_peer(&s.lab, frr, &s.link.a4);
            assert_eq!(f["status"], "down", "{f}");
            assert_eq!(f["diagnostic"], "control detection time expired", "{f}");
            let n = frr
                .neighbor(&s.session.id)
                .unwrap_or_else(|e| s.lab.fail(&e));
            assert_eq!(n["lastNotificationReason"], "Cease/BFD Down", "{n}");
        }
        RealPeer::Bird(bird) => {
            let p = bird
                .protocol(&s.session.id)
                .unwrap_or_else(|e| s.lab.fail(&e));
            assert_eq!(
                p.last_error.as_deref(),
                Some("Error: BFD session down"),
                "{p:?}"
            );
        }
    }

    pair.hold_idle(Duration::from_secs(2));
    let restored = pair.restore(Cut::SilentLoss);
    pair.observe_recovery(restored);
    s.wait_peer_routes_at_hybridlab();
}

/// The link goes down under both. FRR's end times out like a silent loss;
/// BIRD's end lost carrier, so BIRD ends BGP on the link event and removes
/// the BFD session it no longer needs rather than letting it time out
/// ([`BfdPair::observe_down`] accepts either).
pub fn link_down_drops_bgp_at_once_and_both_return(kind: PeerKind) {
    let s = BfdLab::new(kind, "link");
    let view = s.view();
    let pair = s.pair(&view);
    let label = kind.label();
    pair.wait_all_up();

    let at = pair.cut(Cut::LinkDown);
    let trial = pair.observe_down(Cut::LinkDown, at);
    let bgp = s
        .peer
        .bgp_summary(&s.session)
        .unwrap_or_else(|e| s.lab.fail(&e));
    eprintln!("link down, {label} peer: {trial:?}; {label} BGP {bgp}");
    pair.hold_idle(Duration::from_secs(2));
    let restored = pair.restore(Cut::LinkDown);
    pair.observe_recovery(restored);
}

/// Ten silent cuts in a row; prints the detection figures of both sides
/// (`BFD detection (FRR peer, …)` lines, read by interop/README.md).
pub fn detection_times_over_ten_silent_cuts(kind: PeerKind) {
    let s = BfdLab::new(kind, "ten");
    let view = s.view();
    let pair = s.pair(&view);
    let label = kind.label();
    // The name of the peer's figure: what of it logged the detection.
    let detector = match kind {
        PeerKind::Frr => "FRR bfdd",
        PeerKind::Bird => "BIRD",
    };
    pair.wait_all_up();

    let trials: Vec<_> = (0..10)
        .map(|_| pair.trial(Cut::SilentLoss, Duration::ZERO))
        .collect();
    let hybridlab: Vec<i64> = trials.iter().map(|t| t.hybridlab_ms).collect();
    let peer: Vec<i64> = trials.iter().filter_map(|t| t.peer_ms).collect();
    let bgp: Vec<i64> = trials.iter().map(|t| t.bgp_after_bfd_ms).collect();
    println!(
        "BFD detection ({label} peer, {} trials): hybridlab {}",
        trials.len(),
        bfd::summary(&hybridlab)
    );
    println!(
        "BFD detection ({label} peer, {} trials): {detector} {}",
        peer.len(),
        bfd::summary(&peer)
    );
    println!(
        "BFD to BGP down at hybridlab ({label} peer, {} trials): {}",
        trials.len(),
        bfd::summary(&bgp)
    );
    assert_eq!(
        peer.len(),
        trials.len(),
        "{label} logged every cut: {trials:?}"
    );
}

/// At shutdown hybridlab takes BFD AdminDown before its BGP Ceases
/// (docs/topology.md, RFC 5882 §3.2): the peer hears it at once rather
/// than timing out.
pub fn hears_admin_down_when_hybridlab_stops(kind: PeerKind) {
    let s = BfdLab::new(kind, "stop");
    {
        let view = s.view();
        let pair = s.pair(&view);
        pair.wait_all_up();
        pair.hold_up(Duration::from_secs(1));
    }
    let BfdLab {
        hl,
        lab,
        peer,
        session,
        ..
    } = s;
    let view = PeerOnLink {
        peer: &peer,
        session: &session,
    };
    let heard_ms = bfd::stop_and_wait_peer_down(&lab, hl, &view);
    match &peer {
        RealPeer::Frr(frr) => {
            let f = frr_bfd_peer(&lab, frr, &session.hl_address);
            assert_eq!(f["status"], "down", "{f}");
            assert_eq!(f["remote-diagnostic"], "administratively down", "{f}");
            assert_eq!(f["diagnostic"], "neighbor signaled session down", "{f}");
            // FRR 8.4's bgpd still reads a neighbour's AdminDown as BFD
            // down and sends Cease/10 itself: recorded here, not asserted
            // (FRR's choice).
            let n = frr.neighbor(&session.id).unwrap_or_else(|e| lab.fail(&e));
            eprintln!(
                "FRR heard AdminDown {heard_ms} ms after the stop; its BGP: {} {} ({})",
                n["bgpState"], n["lastNotificationReason"], n["lastResetDueTo"]
            );
        }
        RealPeer::Bird(bird) => {
            let p = bird.protocol(&session.id).unwrap_or_else(|e| lab.fail(&e));
            eprintln!("BIRD heard AdminDown {heard_ms} ms after the stop; its BGP: {p:?}");
        }
    }
}
