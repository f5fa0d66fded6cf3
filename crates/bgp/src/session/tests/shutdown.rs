//! Deliberate shutdowns: ManualStop (Cease / Administrative Shutdown) and
//! the maximum-prefix Cease of RFC 4486 §4.

use super::sim::{secs, Sim};
use super::{config, passive};
use crate::packet::Family;
use crate::session::{DownReason, IdleReason, SessionInput, SessionOutput, State, TimerKind};
use std::time::Duration;

/// Node 0 (10.0.0.1, AS 65001, active) and node 1 (10.0.0.2, AS 65002,
/// passive), Established at t = 0.
fn established_pair() -> Sim {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        passive(config(65002, 65001, [10, 0, 0, 2])),
    );
    sim.start_both();
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    sim
}

/// Both active: node 0 connects first to an Idle node 1 and is refused,
/// then node 1 connects. Established at t = 0; node 1 keeps retrying when
/// refused.
fn established_active_pair() -> Sim {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        config(65002, 65001, [10, 0, 0, 2]),
    );
    sim.start_in_turn();
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    sim
}

fn notifications(sim: &Sim, n: usize) -> Vec<(Duration, super::wire::Notif)> {
    sim.sent_by(n)
        .into_iter()
        .filter_map(|(t, _, m)| m.notification().map(|x| (t, x)))
        .collect()
}

fn prefix_limit(restart_after: Option<Duration>) -> SessionInput {
    SessionInput::PrefixLimitExceeded {
        family: Family::IPV4_UNICAST,
        limit: 100,
        restart_after,
    }
}

#[test]
fn prefix_limit_sends_cease_with_family_and_limit_and_stays_idle() {
    let mut sim = established_active_pair();
    sim.run_until(secs(10));
    sim.input(0, prefix_limit(None));

    assert_eq!(
        notifications(&sim, 0),
        vec![(secs(10), (6, 1, vec![0, 1, 1, 0, 0, 0, 100]))]
    );
    let a = &sim.nodes[0];
    assert!(a.outputs().any(|o| matches!(
        o,
        SessionOutput::Down(DownReason::NotificationSent(n)) if (n.code, n.subcode) == (6, 1)
    )));
    assert_eq!(a.session.state(), State::Idle);
    assert_eq!(a.session.idle_reason(), Some(IdleReason::PrefixLimit));
    assert_eq!(
        a.session.last_error(),
        Some("sent NOTIFICATION Cease / Maximum Number of Prefixes Reached")
    );
    assert!(a.timers.is_empty(), "no automatic restart: {:?}", a.timers);

    // The peer keeps trying; node 0 stays Idle for an hour, refusing it.
    sim.run_until(secs(3610));
    let a = &sim.nodes[0];
    assert_eq!(a.session.state(), State::Idle);
    assert_eq!(a.session.idle_reason(), Some(IdleReason::PrefixLimit));
    assert!(a.session.stats().connections_rejected > 10);
    assert_eq!(a.session.stats().established_transitions, 1);

    // `clear`: Start brings it back.
    sim.input(0, SessionInput::Start);
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    assert_eq!(sim.nodes[0].session.stats().established_transitions, 2);
}

#[test]
fn prefix_limit_with_restart_after_restarts_at_that_instant() {
    let mut sim = established_active_pair();
    sim.run_until(secs(10));
    sim.input(0, prefix_limit(Some(secs(60))));
    assert_eq!(
        sim.nodes[0].timers.get(&TimerKind::PrefixRestart),
        Some(&secs(70))
    );

    sim.run_until(secs(70) - Duration::from_millis(1));
    assert_eq!(
        sim.nodes[0].session.idle_reason(),
        Some(IdleReason::PrefixLimit)
    );
    sim.run_until(secs(70));
    let connects = sim.nodes[0].times(|o| *o == SessionOutput::Connect);
    assert_eq!(connects, vec![Duration::ZERO, secs(70)]);
    assert_eq!(sim.nodes[0].session.state(), State::Established);
}

#[test]
fn prefix_limit_when_not_established_is_ignored() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        config(65002, 65001, [10, 0, 0, 2]),
    );
    sim.unreachable[0] = true;
    sim.input(0, SessionInput::Start);
    let before = sim.nodes[0].log.len();
    sim.input(0, prefix_limit(None));
    assert_eq!(sim.nodes[0].log.len(), before);
}

#[test]
fn stop_sends_administrative_shutdown_and_stays_idle() {
    let mut sim = established_pair();
    sim.run_until(secs(5));
    sim.input(0, SessionInput::Stop { subcode: 2 });
    assert_eq!(notifications(&sim, 0), vec![(secs(5), (6, 2, vec![]))]);
    let a = &sim.nodes[0];
    assert!(a
        .outputs()
        .any(|o| *o == SessionOutput::Down(DownReason::Stopped)));
    assert_eq!(a.session.idle_reason(), Some(IdleReason::Stopped));
    assert!(a.timers.is_empty());
    // The peer saw the Cease and went down too.
    let b = &sim.nodes[1];
    assert!(b.outputs().any(|o| matches!(
        o,
        SessionOutput::Down(DownReason::NotificationReceived(n)) if (n.code, n.subcode) == (6, 2)
    )));
    assert_eq!(
        b.session.last_error(),
        Some("received NOTIFICATION Cease / Administrative Shutdown")
    );

    sim.run_until(secs(3600));
    assert_eq!(sim.nodes[0].session.state(), State::Idle);
    assert_eq!(sim.nodes[0].session.stats().established_transitions, 1);
}

#[test]
fn stop_then_start_again() {
    let mut sim = established_pair();
    sim.input(0, SessionInput::Stop { subcode: 4 });
    // Node 1 is in IdleHold after the Cease: restart both, node 1 first.
    sim.run_until(secs(5));
    sim.input(0, SessionInput::Start);
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    assert_eq!(sim.nodes[1].session.state(), State::Established);
}

#[test]
fn stop_when_idle_or_connecting_sends_nothing() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        config(65002, 65001, [10, 0, 0, 2]),
    );
    sim.unreachable[0] = true;
    sim.input(0, SessionInput::Start);
    sim.input(0, SessionInput::Stop { subcode: 2 });
    assert!(sim.wire.is_empty());
    let a = &sim.nodes[0];
    assert!(!a.outputs().any(|o| matches!(o, SessionOutput::Down(_))));
    assert_eq!(a.session.idle_reason(), Some(IdleReason::Stopped));
    assert!(a.timers.is_empty());
}
