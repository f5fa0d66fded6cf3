//! BFD between hybridlab and real BIRD 2.0.12 (its `bfd` protocol, `bfd on`
//! in BGP) over a veth pair: negotiation at 300 ms × 3, detection of a
//! silent loss and of a link going down, BGP torn down with Cease / BFD Down
//! and held Idle, recovery in the right order, and detection times over ten
//! cuts. The shared steps are in tests/common/bfd.rs.

mod common;

use common::bfd::{self, BfdPair, Capture, Cut, PeerView};
use common::bird::{Bird, BirdBfd, BirdBfdSession, BirdConfig, BirdPeer};
use common::hybridlab::{HlBfd, Hybridlab, CLOUD, CLOUD_ASN};
use common::{veth, Lab, Link, Netns};
use std::time::Duration;

const BIRD_ASN: u32 = 65001;
const BIRD_ID: &str = "10.0.0.3";
const BIRD_PREFIX: &str = "10.30.0.0/24";
/// BIRD's `protocol bgp` towards hybridlab.
const PROTOCOL: &str = "hl";

/// BIRD as the tests see it: its BFD session and BGP protocol for
/// hybridlab.
struct BirdView<'a> {
    bird: &'a Bird,
    hl_address: String,
}

impl PeerView for BirdView<'_> {
    fn label(&self) -> &'static str {
        "BIRD"
    }

    fn bfd_state(&self) -> Result<Option<String>, String> {
        Ok(self.bird.bfd_session(&self.hl_address)?.map(|s| s.state))
    }

    fn bgp_established(&self) -> Result<bool, String> {
        Ok(self.bird.protocol(PROTOCOL)?.bgp_state.as_deref() == Some("Established"))
    }

    fn bgp_summary(&self) -> Result<String, String> {
        Ok(format!("{:?}", self.bird.protocol(PROTOCOL)?))
    }

    fn bfd_down_logged(&self, after_ms: u64) -> Option<u64> {
        // `debug protocols { events }`: "bfd1: Session to 192.0.2.1 changed
        // state from Up to Down".
        let line = format!(
            "Session to {} changed state from Up to Down",
            self.hl_address
        );
        bfd::first_logged(&self.bird.log(), after_ms, |l| l.contains(&line))
    }
}

/// `bfd = { min_tx = 300, min_rx = 300, multiplier = 3, passive = false }`.
fn explicit_timers() -> HlBfd {
    HlBfd::Timers {
        min_tx_ms: 300,
        min_rx_ms: 300,
        multiplier: 3,
        passive: false,
    }
}

/// One lab: hybridlab (`cloud`, neighbour `bird` with explicit 300/300/3
/// timers) and BIRD (`protocol bfd` 300/300/3, `bfd on`), a capture of the
/// link. Fields drop in order: capture and daemons before the lab deletes
/// the namespaces.
struct Setup {
    capture: Option<Capture>,
    hl: Hybridlab,
    bird: Bird,
    hl_ns: Netns,
    bird_ns: Netns,
    link: Link,
    lab: Lab,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let lab = Lab::new(tag);
        let hl_ns = lab.netns("hl");
        let bird_ns = lab.netns("bird");
        let link = veth(&hl_ns, &bird_ns, "to-bird", "to-hl", 0);
        let capture = bfd::capture(&lab, &hl_ns, &link.a_if);

        let mut config = BirdConfig::new(BIRD_ASN, BIRD_ID);
        let mut bgp = BirdPeer::new(PROTOCOL, &link.b4, &link.a4, CLOUD_ASN);
        bgp.bfd = true;
        config.peers = vec![bgp];
        config.networks = vec![BIRD_PREFIX.to_string()];
        config.bfd = Some(BirdBfd {
            min_rx_ms: 300,
            min_tx_ms: 300,
            multiplier: 3,
        });
        let bird = Bird::start(&lab, &bird_ns, &config);

        // The table form, spelled out (the FRR tests use `bfd = true`).
        let topology = bfd::topology(&link, "bird", BIRD_ASN, explicit_timers());
        let hl = Hybridlab::start(&lab, &hl_ns, &topology);
        Setup {
            capture,
            hl,
            bird,
            hl_ns,
            bird_ns,
            link,
            lab,
        }
    }

    fn view(&self) -> BirdView<'_> {
        BirdView {
            bird: &self.bird,
            hl_address: self.link.a4.clone(),
        }
    }

    fn pair<'a>(&'a self, peer: &'a BirdView<'a>) -> BfdPair<'a> {
        BfdPair {
            lab: &self.lab,
            hl: &self.hl,
            neighbor: "bird",
            hl_ns: &self.hl_ns,
            peer_ns: &self.bird_ns,
            link: &self.link,
            peer,
        }
    }

    fn bird_routes_at_hybridlab(&self) -> usize {
        self.hl
            .paths(CLOUD, BIRD_PREFIX)
            .unwrap_or_else(|e| self.lab.fail(&e))
            .len()
    }

    fn wait_bird_routes_at_hybridlab(&self) {
        self.lab.wait(
            "BIRD's prefix at hybridlab",
            Duration::from_secs(10),
            || match self.bird_routes_at_hybridlab() {
                0 => Err("not yet".to_string()),
                _ => Ok(()),
            },
        );
    }
}

#[test]
fn bird_bfd_comes_up_at_300ms_x3_on_both_sides() {
    if !bfd::interop_enabled("bird_bfd_comes_up_at_300ms_x3_on_both_sides") {
        return;
    }
    let mut s = Setup::new("bfdbirdup");
    let capture = s.capture.take();
    let view = s.view();
    let pair = s.pair(&view);
    let b = pair.wait_all_up();

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

    // BIRD's figures are its own results of the negotiation with
    // hybridlab's advertised values: its transmit interval and its
    // detection time (RFC 5880 §6.8.4, §6.8.7).
    let session = s
        .bird
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
    pair.check_wire_rate();
    pair.check_wire(capture);
}

#[test]
fn bird_silent_loss_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("bird_silent_loss_drops_bgp_at_once_and_both_return") {
        return;
    }
    let s = Setup::new("bfdbirdloss");
    let view = s.view();
    let pair = s.pair(&view);
    pair.wait_all_up();
    s.wait_bird_routes_at_hybridlab();

    let at = pair.cut(Cut::SilentLoss);
    let trial = pair.observe_down(Cut::SilentLoss, at);
    assert_eq!(s.bird_routes_at_hybridlab(), 0);
    // BIRD detected on its own and dropped BGP for it.
    assert!(trial.peer_ms.is_some(), "BIRD logged no Up to Down");
    let p = s.bird.protocol(PROTOCOL).unwrap_or_else(|e| s.lab.fail(&e));
    assert_eq!(
        p.last_error.as_deref(),
        Some("Error: BFD session down"),
        "{p:?}"
    );

    pair.hold_idle(Duration::from_secs(2));
    let restored = pair.restore(Cut::SilentLoss);
    pair.observe_recovery(restored);
    s.wait_bird_routes_at_hybridlab();
}

#[test]
fn bird_link_down_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("bird_link_down_drops_bgp_at_once_and_both_return") {
        return;
    }
    let s = Setup::new("bfdbirdlink");
    let view = s.view();
    let pair = s.pair(&view);
    pair.wait_all_up();

    let at = pair.cut(Cut::LinkDown);
    let trial = pair.observe_down(Cut::LinkDown, at);
    // BIRD's end lost carrier: BIRD ends BGP on the link event and removes
    // the BFD session it no longer needs, rather than letting it time out.
    let p = s.bird.protocol(PROTOCOL).unwrap_or_else(|e| s.lab.fail(&e));
    eprintln!("link down, BIRD peer: {trial:?}; BIRD {p:?}");
    pair.hold_idle(Duration::from_secs(2));
    let restored = pair.restore(Cut::LinkDown);
    pair.observe_recovery(restored);
}

/// At shutdown hybridlab takes BFD AdminDown before its BGP Ceases
/// (docs/topology.md, RFC 5882 §3.2): BIRD hears it at once rather than
/// timing out.
#[test]
fn bird_hears_admin_down_when_hybridlab_stops() {
    if !bfd::interop_enabled("bird_hears_admin_down_when_hybridlab_stops") {
        return;
    }
    let s = Setup::new("bfdbirdstop");
    {
        let view = s.view();
        let pair = s.pair(&view);
        pair.wait_all_up();
        pair.hold_up(Duration::from_secs(1));
    }
    let Setup {
        hl,
        lab,
        bird,
        link,
        ..
    } = s;
    let view = BirdView {
        bird: &bird,
        hl_address: link.a4.clone(),
    };
    let heard_ms = bfd::stop_and_wait_peer_down(&lab, hl, &view);
    let p = bird.protocol(PROTOCOL).unwrap_or_else(|e| lab.fail(&e));
    eprintln!("BIRD heard AdminDown {heard_ms} ms after the stop; its BGP: {p:?}");
}

#[test]
fn bird_detection_times_over_ten_silent_cuts() {
    if !bfd::interop_enabled("bird_detection_times_over_ten_silent_cuts") {
        return;
    }
    let s = Setup::new("bfdbirdten");
    let view = s.view();
    let pair = s.pair(&view);
    pair.wait_all_up();

    let trials: Vec<_> = (0..10)
        .map(|_| pair.trial(Cut::SilentLoss, Duration::ZERO))
        .collect();
    let hybridlab: Vec<i64> = trials.iter().map(|t| t.hybridlab_ms).collect();
    let bird: Vec<i64> = trials.iter().filter_map(|t| t.peer_ms).collect();
    let bgp: Vec<i64> = trials.iter().map(|t| t.bgp_after_bfd_ms).collect();
    println!(
        "BFD detection (BIRD peer, {} trials): hybridlab {}",
        trials.len(),
        bfd::summary(&hybridlab)
    );
    println!(
        "BFD detection (BIRD peer, {} trials): BIRD {}",
        bird.len(),
        bfd::summary(&bird)
    );
    println!(
        "BFD to BGP down at hybridlab (BIRD peer, {} trials): {}",
        trials.len(),
        bfd::summary(&bgp)
    );
    assert_eq!(
        bird.len(),
        trials.len(),
        "BIRD logged every cut: {trials:?}"
    );
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
    let link = Link {
        a_if: "to-peer".into(),
        b_if: "to-hl".into(),
        a4: "192.0.2.1".into(),
        b4: "192.0.2.2".into(),
        a6: "2001:db8:0:1::1".into(),
        b6: "2001:db8:0:1::2".into(),
    };
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
