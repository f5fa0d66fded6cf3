//! BFD between hybridlab and real BIRD 2.0.12 (its `bfd` protocol, `bfd on`
//! in BGP) over a veth pair: negotiation at 300 ms × 3, detection of a
//! silent loss and of a link going down, BGP torn down with Cease / BFD Down
//! and held Idle, recovery in the right order, and detection times over ten
//! cuts. The scenarios, shared with FRR, are in
//! tests/common/bfd_scenarios.rs; the steps of a cut in tests/common/bfd.rs.
//! Also here: the lab checked without hybridlab, FRR against BIRD.

mod common;

use common::bfd;
use common::bfd_scenarios::{self, explicit_timers};
use common::bird::{Bird, BirdBfd, BirdBfdSession, BirdConfig, BirdPeer};
use common::hybridlab::HlBfd;
use common::peer::PeerKind;
use common::{veth, Lab, Link};
use std::time::Duration;

const BIRD_ASN: u32 = 65001;
const BIRD_ID: &str = "10.0.0.3";

#[test]
fn bird_bfd_comes_up_at_300ms_x3_on_both_sides() {
    if !bfd::interop_enabled("bird_bfd_comes_up_at_300ms_x3_on_both_sides") {
        return;
    }
    bfd_scenarios::bfd_comes_up_at_300ms_x3_on_both_sides(PeerKind::Bird);
}

#[test]
fn bird_silent_loss_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("bird_silent_loss_drops_bgp_at_once_and_both_return") {
        return;
    }
    bfd_scenarios::silent_loss_drops_bgp_at_once_and_both_return(PeerKind::Bird);
}

#[test]
fn bird_link_down_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("bird_link_down_drops_bgp_at_once_and_both_return") {
        return;
    }
    bfd_scenarios::link_down_drops_bgp_at_once_and_both_return(PeerKind::Bird);
}

#[test]
fn bird_detection_times_over_ten_silent_cuts() {
    if !bfd::interop_enabled("bird_detection_times_over_ten_silent_cuts") {
        return;
    }
    bfd_scenarios::detection_times_over_ten_silent_cuts(PeerKind::Bird);
}

#[test]
fn bird_hears_admin_down_when_hybridlab_stops() {
    if !bfd::interop_enabled("bird_hears_admin_down_when_hybridlab_stops") {
        return;
    }
    bfd_scenarios::hears_admin_down_when_hybridlab_stops(PeerKind::Bird);
}

/// `show bfd sessions` as BIRD 2.0.12 prints it, Up and after a cut.
#[test]
fn bird_bfd_sessions_parse() {
    let text = "BIRD 2.0.12 ready.\n\
                bfd1:\n\
                IP address                Interface  State      Since         Interval  Timeout\n\
                192.0.2.1                 to-hl      Up         09:23:51        0.300    0.900\n\
                192.0.2.5                 to-hl      Down       09:24:00        1.000    0.000\n";
    let sessions = BirdBfdSession::parse_all(text);
    assert_eq!(
        sessions,
        [
            BirdBfdSession {
                address: "192.0.2.1".into(),
                interface: "to-hl".into(),
                state: "Up".into(),
                interval_ms: 300,
                timeout_ms: 900,
            },
            BirdBfdSession {
                address: "192.0.2.5".into(),
                interface: "to-hl".into(),
                state: "Down".into(),
                interval_ms: 1000,
                timeout_ms: 0,
            },
        ]
    );
}

/// The lab itself, without hybridlab: FRR (bfdd through zebra) and BIRD
/// bring BFD up at 300 ms × 3 between them, both see a silent cut made by
/// the input-hook drop within detection time plus one interval, and both
/// come back. Checks the launchers, the nft cut and the log readers the
/// hybridlab tests rely on.
#[test]
fn frr_and_bird_detect_a_silent_cut_between_themselves() {
    use common::frr::{Frr, FrrBfdProfile, FrrConfig, FrrNeighbor};
    // Only the lab is under test: no `hybridlab show bfd` needed.
    if !common::interop_enabled("frr_and_bird_detect_a_silent_cut_between_themselves") {
        return;
    }
    let lab = Lab::new("bfdlab");
    let frr_ns = lab.netns("frr");
    let bird_ns = lab.netns("bird");
    let link = veth(&frr_ns, &bird_ns, "to-bird", "to-frr", 0);

    let mut fc = FrrConfig::new(65000, "10.0.0.2");
    fc.neighbors = vec![FrrNeighbor::new(&link.b4, BIRD_ASN).bfd_profile("dx")];
    let frr = Frr::start_with_bfd(&lab, &frr_ns, &fc, &FrrBfdProfile::new("dx", 300, 300, 3));
    let mut bc = BirdConfig::new(BIRD_ASN, BIRD_ID);
    let mut bgp = BirdPeer::new("frr", &link.b4, &link.a4, 65000);
    bgp.bfd = true;
    bc.peers = vec![bgp];
    bc.bfd = Some(BirdBfd {
        min_rx_ms: 300,
        min_tx_ms: 300,
        multiplier: 3,
    });
    let bird = Bird::start(&lab, &bird_ns, &bc);

    let both_up = || {
        let f = frr.bfd_peer(&link.b4)?;
        let b = bird.bfd_session(&link.a4)?;
        match (&f, &b) {
            (Some(f), Some(b)) if f["status"] == "up" && b.state == "Up" => {
                Ok((f.clone(), b.clone()))
            }
            _ => Err(format!("FRR {f:?}\nBIRD {b:?}")),
        }
    };
    let (f, b) = lab.wait("BFD Up on FRR and BIRD", Duration::from_secs(30), both_up);
    assert_eq!(f["remote-transmit-interval"], 300, "{f}");
    assert_eq!(f["remote-receive-interval"], 300, "{f}");
    assert_eq!(f["remote-detect-multiplier"], 3, "{f}");
    assert_eq!((b.interval_ms, b.timeout_ms), (300, 900), "{b:?}");
    frr.wait_established(&lab, &link.b4);
    // Cut a steady session, not the handshake: bgpd has FRR's bfdd replace
    // the session once it knows its local address.
    lab.hold("BFD to stay Up", Duration::from_secs(2), || {
        both_up().map(|_| ())
    });

    let started = bfd::unix_ms_now();
    bfd::drop_input(&bird_ns, &link.b_if);
    bfd::drop_input(&frr_ns, &link.a_if);
    let cut = bfd::unix_ms_now();
    let frr_log = frr.bfdd_log();
    let bird_log = bird.log();
    let (frr_down, bird_down) = lab.wait(
        "FRR and BIRD to log BFD Up -> Down",
        Duration::from_secs(10),
        || {
            let f = bfd::first_logged(&frr_log, started, |l| {
                l.contains("state-change:") && l.contains("up -> down")
            });
            let b = bfd::first_logged(&bird_log, started, |l| {
                l.contains("changed state from Up to Down")
            });
            match (f, b) {
                (Some(f), Some(b)) => Ok((f, b)),
                other => Err(format!("{other:?}")),
            }
        },
    );
    let bound = (bfd::DETECTION_MS + bfd::INTERVAL_MS + bfd::CUT_TOLERANCE_MS) as i64;
    for (who, at) in [("FRR", frr_down), ("BIRD", bird_down)] {
        let ms = at as i64 - cut as i64;
        eprintln!("lab: {who} detected a silent cut after {ms} ms");
        assert!((0..=bound).contains(&ms), "{who} after {ms} ms");
    }
    lab.wait("FRR's BGP down on BFD", Duration::from_secs(10), || {
        let n = frr.neighbor(&link.b4)?;
        if n["bgpState"] != "Established" && n["lastNotificationReason"] == "Cease/BFD Down" {
            Ok(())
        } else {
            Err(n.to_string())
        }
    });

    bfd::undrop_input(&frr_ns);
    bfd::undrop_input(&bird_ns);
    lab.wait("BFD Up again", Duration::from_secs(30), both_up);
    frr.wait_established(&lab, &link.b4);
}

/// Both spellings of `bfd` the tests write parse with hybridlab's own
/// parser (unprivileged: a change of format breaks this, not every lab).
#[test]
fn bfd_topologies_parse() {
    let link = Link::unplugged();
    for bfd in [HlBfd::Default, explicit_timers()] {
        let text = bfd::topology(&link, "peer", 65001, bfd).to_toml();
        let parsed = hybridlab_topology::parse("bfd.toml", &text);
        assert!(
            parsed.is_ok(),
            "{text}\n{}",
            parsed.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }
}
