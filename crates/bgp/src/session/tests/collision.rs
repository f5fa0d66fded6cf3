//! Connection collisions (RFC 4271 §6.8).

use super::sim::{sent_on, Bench, Sim};
use super::{config, wire};
use crate::session::{SessionInput, SessionOutput, State};

fn established_conn(sim: &Sim, n: usize) -> Vec<u64> {
    sim.nodes[n]
        .outputs()
        .filter_map(|o| match o {
            SessionOutput::Established(neg) => Some(neg.conn),
            _ => None,
        })
        .collect()
}

/// Both sides connect at once; returns (index of the kept link, the other).
fn collide(id_a: [u8; 4], id_b: [u8; 4]) -> (Sim, usize, usize) {
    let mut sim = Sim::new(config(65001, 65002, id_a), config(65002, 65001, id_b));
    sim.start_both();
    assert_eq!(sim.links.len(), 2, "both sides connected");
    for n in 0..2 {
        assert_eq!(sim.nodes[n].session.state(), State::Established, "node {n}");
    }
    let kept_a = established_conn(&sim, 0);
    let kept_b = established_conn(&sim, 1);
    assert_eq!(kept_a.len(), 1);
    assert_eq!(kept_b.len(), 1);
    let kept = sim
        .links
        .iter()
        .position(|l| l.conn[0] == kept_a[0])
        .unwrap();
    // Both ends agree on the connection.
    assert_eq!(sim.links[kept].conn[1], kept_b[0]);
    (sim, kept, 1 - kept)
}

fn ceases_on(sim: &Sim, link: usize) -> Vec<(usize, wire::Notif)> {
    (0..2)
        .flat_map(|n| {
            sim.sent_by(n)
                .into_iter()
                .filter(move |(_, l, _)| *l == link)
                .filter_map(move |(_, _, m)| m.notification().map(|x| (n, x)))
        })
        .collect()
}

#[test]
fn higher_remote_id_keeps_the_connection_the_remote_initiated() {
    let (sim, kept, closed) = collide([10, 0, 0, 1], [10, 0, 0, 2]);
    assert_eq!(
        sim.links[kept].initiator, 1,
        "node 1 has the higher identifier"
    );
    // Each side closes the loser with Cease / Connection Collision Resolution.
    let ceases = ceases_on(&sim, closed);
    assert_eq!(ceases, vec![(0, (6, 7, vec![])), (1, (6, 7, vec![]))]);
    assert!(ceases_on(&sim, kept).is_empty());
    for n in 0..2 {
        assert_eq!(sim.nodes[n].session.stats().collisions, 1);
        // A resolved collision is not a session failure.
        assert!(!sim.nodes[n]
            .outputs()
            .any(|o| matches!(o, SessionOutput::Down(_))));
    }
}

#[test]
fn higher_local_id_keeps_its_own_connection() {
    let (sim, kept, closed) = collide([10, 0, 0, 9], [10, 0, 0, 2]);
    assert_eq!(sim.links[kept].initiator, 0);
    assert_eq!(ceases_on(&sim, closed).len(), 2);
}

#[test]
fn identifiers_compare_as_unsigned_numbers() {
    // 200.0.0.1 > 10.0.0.1 as unsigned; as signed it would be negative.
    let (sim, kept, _) = collide([200, 0, 0, 1], [10, 0, 0, 1]);
    assert_eq!(sim.links[kept].initiator, 0);
}

#[test]
fn collision_stays_resolved_over_time() {
    let (mut sim, kept, _) = collide([10, 0, 0, 1], [10, 0, 0, 2]);
    sim.run_for(super::sim::secs(3600));
    for n in 0..2 {
        assert_eq!(sim.nodes[n].session.state(), State::Established);
        assert_eq!(
            sim.nodes[n].session.established_conn(),
            Some(sim.links[kept].conn[n])
        );
    }
}

const PEER_LOW: [u8; 4] = [10, 0, 0, 1];
const PEER_HIGH: [u8; 4] = [10, 0, 0, 3];

/// Our outbound connection 1 reaches OpenConfirm; then the peer's inbound
/// connection 2 arrives and gets our OPEN.
fn confirm_then_inbound(peer_id: [u8; 4]) -> Bench {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 2]));
    b.input(SessionInput::Start);
    b.connected(1, true);
    b.receive(1, &wire::peer_open(65002, 90, peer_id));
    assert_eq!(b.node.session.state(), State::OpenConfirm);
    let out = b.connected(2, false);
    assert_eq!(sent_on(&out, 2)[0].ty, wire::OPEN);
    // The OpenConfirm connection's timers keep running untouched.
    assert!(!out
        .iter()
        .any(|o| matches!(o, SessionOutput::StartTimer { .. })));
    assert_eq!(b.node.session.state(), State::OpenConfirm);
    b
}

#[test]
fn late_open_from_lower_peer_loses_to_open_confirm() {
    let mut b = confirm_then_inbound(PEER_LOW);
    let out = b.receive(2, &wire::peer_open(65002, 90, PEER_LOW));
    assert_eq!(sent_on(&out, 2)[0].notification(), Some((6, 7, vec![])));
    assert!(out.contains(&SessionOutput::Close { conn: 2 }));
    assert_eq!(b.node.session.state(), State::OpenConfirm);
    b.receive(1, &wire::keepalive());
    assert_eq!(b.node.session.established_conn(), Some(1));
}

#[test]
fn late_open_from_higher_peer_wins_over_open_confirm() {
    let mut b = confirm_then_inbound(PEER_HIGH);
    let out = b.receive(2, &wire::peer_open(65002, 30, PEER_HIGH));
    assert_eq!(sent_on(&out, 1)[0].notification(), Some((6, 7, vec![])));
    assert!(out.contains(&SessionOutput::Close { conn: 1 }));
    // Connection 2 now in OpenConfirm with its own negotiated hold time.
    assert_eq!(sent_on(&out, 2)[0].ty, wire::KEEPALIVE);
    assert_eq!(
        b.node.timers[&crate::session::TimerKind::Hold],
        super::sim::secs(30)
    );
    b.receive(2, &wire::keepalive());
    assert_eq!(b.node.session.established_conn(), Some(2));
}

#[test]
fn establishing_closes_the_other_connection() {
    let mut b = confirm_then_inbound(PEER_LOW);
    let out = b.receive(1, &wire::keepalive());
    assert_eq!(sent_on(&out, 2)[0].notification(), Some((6, 7, vec![])));
    assert!(out.contains(&SessionOutput::Close { conn: 2 }));
    assert_eq!(b.node.session.established_conn(), Some(1));
}

#[test]
fn losing_open_confirm_connection_gives_survivor_a_fresh_open_hold() {
    let mut b = confirm_then_inbound(PEER_LOW);
    b.now = super::sim::secs(10);
    let out = b.input(SessionInput::Closed { conn: 1 });
    assert_eq!(b.node.session.state(), State::OpenSent);
    assert!(out.contains(&SessionOutput::StopTimer(
        crate::session::TimerKind::Keepalive
    )));
    assert_eq!(
        b.node.timers[&crate::session::TimerKind::Hold],
        super::sim::secs(250)
    );
    assert!(!out.iter().any(|o| matches!(o, SessionOutput::Down(_))));
}

#[test]
fn inbound_connection_while_established_gets_cease_collision() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 2]));
    b.input(SessionInput::Start);
    b.establish(1, &wire::peer_open(65002, 90, PEER_HIGH));
    let out = b.connected(2, false);
    assert_eq!(super::sim::bytes_on(&out, 2), wire::notification(6, 7, &[]));
    assert!(out.contains(&SessionOutput::Close { conn: 2 }));
    assert_eq!(b.node.session.state(), State::Established);
    assert_eq!(b.node.session.established_conn(), Some(1));
    assert_eq!(b.node.session.stats().connections_rejected, 1);
}

#[test]
fn third_connection_is_rejected() {
    let mut b = confirm_then_inbound(PEER_LOW);
    let out = b.connected(3, false);
    assert_eq!(sent_on(&out, 3)[0].notification(), Some((6, 5, vec![])));
    assert!(out.contains(&SessionOutput::Close { conn: 3 }));
}

#[test]
fn idle_refuses_connections_silently() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 2]));
    let out = b.connected(1, false);
    assert_eq!(out, vec![SessionOutput::Close { conn: 1 }]);
    assert_eq!(b.node.session.state(), State::Idle);
}

#[test]
fn stale_connection_events_are_ignored() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 2]));
    b.input(SessionInput::Start);
    b.establish(1, &wire::peer_open(65002, 90, PEER_HIGH));
    assert!(b.input(SessionInput::Closed { conn: 7 }).is_empty());
    assert!(b.receive(7, &wire::keepalive()).is_empty());
    assert_eq!(b.node.session.state(), State::Established);
}
