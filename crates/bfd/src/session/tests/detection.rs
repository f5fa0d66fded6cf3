//! Detection at exactly the Detection Time (RFC 5880 §6.8.4), and what a
//! failure looks like to the peer and to BGP.

use super::exact;
use super::sim::{ms, Sim};
use crate::packet::{Diagnostic, State};
use crate::session::{DownCause, Output, SessionConfig, TimerKind};

/// Cuts node 1's packets at `cut` and checks node 0 falls at exactly the
/// last arrival + 900 ms, and not 1 ms before.
fn detects_exactly(a: SessionConfig, b: SessionConfig) {
    let mut sim = Sim::new(a, b, ms(2));
    let up = sim.bring_up();
    sim.run_until(up + ms(2_000));
    sim.mute[1] = true;
    let cut = sim.now;
    let last = *sim.nodes[0].arrivals.last().unwrap();
    assert!(last <= cut && last + ms(300) > cut);
    sim.run_until(last + ms(899));
    assert_eq!(sim.nodes[0].session.state(), State::Up, "1 ms early");
    sim.run_until(last + ms(900));
    assert_eq!(sim.nodes[0].session.state(), State::Down);
    let (at, from, to) = *sim.nodes[0].changes().last().unwrap();
    assert_eq!((at, from, to), (last + ms(900), State::Up, State::Down));
    assert!(sim.nodes[0].log.contains(&(
        last + ms(900),
        Output::StateChanged {
            from: State::Up,
            to: State::Down,
            diagnostic: Diagnostic::ControlDetectionTimeExpired,
        }
    )));
    assert!(sim.nodes[0].log.contains(&(
        last + ms(900),
        Output::LeftUp {
            cause: DownCause::DetectionTimeExpired
        }
    )));
    assert!(DownCause::DetectionTimeExpired.is_failure());
}

#[test]
fn detection_at_exactly_three_intervals_without_jitter() {
    detects_exactly(exact(1), exact(2));
}

#[test]
fn detection_at_exactly_three_intervals_with_jitter() {
    detects_exactly(
        SessionConfig::direct_connect(1),
        SessionConfig::direct_connect(2),
    );
}

#[test]
fn each_packet_pushes_detection_back() {
    let mut sim = Sim::new(exact(1), exact(2), ms(2));
    let up = sim.bring_up();
    sim.run_until(up + ms(1_000));
    let detection: Vec<_> = sim.nodes[0]
        .log
        .iter()
        .filter(|(t, _)| *t > up)
        .filter_map(|(t, o)| match o {
            Output::StartTimer {
                timer: TimerKind::Detection,
                after,
            } => Some((*t, *after)),
            _ => None,
        })
        .collect();
    assert!(detection.len() >= 3);
    assert!(detection.iter().all(|(_, after)| *after == ms(900)));
    let arrivals: Vec<_> = sim.nodes[0]
        .arrivals
        .iter()
        .copied()
        .filter(|t| *t > up)
        .collect();
    assert_eq!(
        detection.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        arrivals
    );
}

#[test]
fn the_peer_learns_of_the_failure_and_both_recover() {
    let mut sim = Sim::new(exact(1), exact(2), ms(2));
    let up = sim.bring_up();
    sim.run_until(up + ms(1_000));
    // One direction dies: node 0 stops hearing node 1.
    sim.mute[1] = true;
    sim.run_for(ms(1_000));
    assert_eq!(sim.states(), [State::Down, State::Down]);
    // Node 1 still hears node 0, which said Down (diag 1).
    let peer_down: Vec<_> = sim.nodes[1]
        .outputs()
        .filter(|o| matches!(o, Output::StateChanged { .. } | Output::LeftUp { .. }))
        .cloned()
        .collect();
    assert_eq!(
        peer_down[peer_down.len() - 2..],
        [
            Output::StateChanged {
                from: State::Up,
                to: State::Down,
                diagnostic: Diagnostic::NeighborSignaledSessionDown,
            },
            Output::LeftUp {
                cause: DownCause::NeighborDown
            },
        ]
    );
    assert!(DownCause::NeighborDown.is_failure());
    assert_eq!(
        sim.nodes[1].session.view().remote_diagnostic,
        Diagnostic::ControlDetectionTimeExpired
    );
    assert_eq!(sim.nodes[0].session.stats().failures, 1);
    assert_eq!(sim.nodes[1].session.stats().failures, 1);
    // The silent peer is forgotten: packets go out with Your Discriminator 0.
    assert_eq!(sim.nodes[0].session.remote_discriminator(), 0);
    sim.run_for(ms(3_000));
    let (_, last) = sim.nodes[0].sent().pop().unwrap();
    assert_eq!((last.state, last.your_discriminator), (State::Down, 0));
    // The link heals: the handshake runs again.
    sim.mute[1] = false;
    sim.run_for(ms(3_000));
    assert_eq!(sim.states(), [State::Up, State::Up]);
    assert_eq!(
        sim.nodes[0].session.local_diagnostic(),
        Diagnostic::NoDiagnostic
    );
    assert_eq!(
        sim.nodes[0].session.stats().last_diagnostic,
        Some(Diagnostic::ControlDetectionTimeExpired)
    );
}

#[test]
fn init_times_out_too_without_leaving_up() {
    let mut sim = Sim::new(exact(1), exact(2), ms(2));
    sim.start_both();
    sim.run_until(ms(2));
    // Both are Init; now nothing gets through either way.
    assert_eq!(sim.states(), [State::Init, State::Init]);
    sim.mute = [true, true];
    // The peer's Detection Time while it sends slowly: 3 × 1 s.
    sim.run_until(ms(2 + 2_999));
    assert_eq!(sim.nodes[0].session.state(), State::Init);
    sim.run_until(ms(2 + 3_000));
    assert_eq!(sim.nodes[0].session.state(), State::Down);
    assert!(!sim.nodes[0]
        .outputs()
        .any(|o| matches!(o, Output::LeftUp { .. })));
}
