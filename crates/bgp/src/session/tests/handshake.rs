//! From Idle to Established (RFC 4271 §8.2.2), both roles.

use super::sim::{secs, Sim};
use super::{config, passive, states, wire};
use crate::packet::Family;
use crate::session::{Negotiated, SessionInput, SessionOutput, State};
use std::time::Duration;

fn established(sim: &Sim, n: usize) -> Vec<(Duration, Negotiated)> {
    sim.nodes[n]
        .log
        .iter()
        .filter_map(|(t, o)| match o {
            SessionOutput::Established(neg) => Some((*t, neg.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn active_to_passive_reaches_established_at_once() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        passive(config(65002, 65001, [10, 0, 0, 2])),
    );
    sim.start_both();

    use State::*;
    assert_eq!(
        states(sim.nodes[0].outputs()),
        [Idle, Connect, OpenSent, OpenConfirm, Established]
    );
    assert_eq!(
        states(sim.nodes[1].outputs()),
        [Idle, Active, OpenSent, OpenConfirm, Established]
    );
    let a = established(&sim, 0);
    let b = established(&sim, 1);
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].0, Duration::ZERO);
    let neg = &a[0].1;
    assert_eq!((neg.hold_time, neg.keepalive), (90, 30));
    assert!(neg.four_octet_as && neg.route_refresh);
    assert_eq!(
        neg.families,
        vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
    );
    assert_eq!(neg.remote_as, 65002);
    assert_eq!(
        neg.remote_id,
        "10.0.0.2".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert_eq!(b[0].1.remote_as, 65001);

    // One connection, initiated by the active side.
    assert_eq!(sim.links.len(), 1);
    assert_eq!(sim.links[0].initiator, 0);
    assert_eq!(neg.conn, sim.links[0].conn[0]);
    assert_eq!(sim.nodes[0].session.established_conn(), Some(neg.conn));
    assert_eq!(sim.nodes[0].session.negotiated(), Some(neg));

    // OPEN then KEEPALIVE each way, nothing else.
    for n in 0..2 {
        let types: Vec<u8> = sim.sent_by(n).iter().map(|(_, _, m)| m.ty).collect();
        assert_eq!(types, [wire::OPEN, wire::KEEPALIVE]);
        let s = sim.nodes[n].session.stats();
        assert_eq!(
            (s.opens_sent, s.keepalives_sent, s.messages_sent),
            (1, 1, 2)
        );
        assert_eq!((s.opens_received, s.keepalives_received), (1, 1));
        assert_eq!(s.established_transitions, 1);
    }
    assert_eq!(
        sim.nodes[0].session.remote_address(),
        Some(super::sim::address(1))
    );
    assert_eq!(
        sim.nodes[0].session.local_address(),
        Some(super::sim::address(0))
    );
}

#[test]
fn passive_to_active_reaches_established() {
    let mut sim = Sim::new(
        passive(config(65001, 65002, [10, 0, 0, 1])),
        config(65002, 65001, [10, 0, 0, 2]),
    );
    sim.start_both();
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    assert_eq!(sim.nodes[1].session.state(), State::Established);
    assert_eq!(sim.links.len(), 1);
    assert_eq!(sim.links[0].initiator, 1);
    // A passive session never connects.
    assert!(sim.nodes[0]
        .times(|o| *o == SessionOutput::Connect)
        .is_empty());
}

#[test]
fn our_open_bytes() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        passive(config(65002, 65001, [10, 0, 0, 2])),
    );
    sim.start_both();
    let (_, _, open) = sim.sent_by(0).into_iter().next().unwrap();
    let params = wire::capabilities_param(&[
        wire::cap_multiprotocol(1, 1),
        wire::cap_multiprotocol(2, 1),
        wire::cap_route_refresh(),
        wire::cap_four_octet_as(65001),
    ]);
    assert_eq!(
        wire::message(open.ty, &open.body),
        wire::open(4, 65001, 90, [10, 0, 0, 1], &params)
    );
}

#[test]
fn four_octet_as_goes_in_as_trans_and_the_capability() {
    let big = 4_200_000_001;
    let mut sim = Sim::new(
        config(big, 65002, [10, 0, 0, 1]),
        passive(config(65002, big, [10, 0, 0, 2])),
    );
    sim.start_both();
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    assert_eq!(sim.nodes[1].session.negotiated().unwrap().remote_as, big);
    let (_, _, open) = sim.sent_by(0).into_iter().next().unwrap();
    assert_eq!(&open.body[1..3], &23456u16.to_be_bytes());
}

#[test]
fn hold_time_is_the_smaller_proposal() {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.hold_time = 90;
    let mut b = passive(config(65002, 65001, [10, 0, 0, 2]));
    b.hold_time = 30;
    b.keepalive = Some(5);
    let mut sim = Sim::new(a, b);
    sim.start_both();
    let na = sim.nodes[0].session.negotiated().unwrap();
    let nb = sim.nodes[1].session.negotiated().unwrap();
    assert_eq!((na.hold_time, na.keepalive), (30, 10));
    assert_eq!((nb.hold_time, nb.keepalive), (30, 5));
}

#[test]
fn families_are_those_both_offer() {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.families = vec![Family::IPV6_UNICAST];
    let mut sim = Sim::new(a, passive(config(65002, 65001, [10, 0, 0, 2])));
    sim.start_both();
    for n in 0..2 {
        assert_eq!(
            sim.nodes[n].session.negotiated().unwrap().families,
            vec![Family::IPV6_UNICAST]
        );
    }
}

#[test]
fn start_while_running_changes_nothing() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        passive(config(65002, 65001, [10, 0, 0, 2])),
    );
    sim.start_both();
    let before = sim.nodes[0].log.len();
    sim.input(0, SessionInput::Start);
    assert_eq!(sim.nodes[0].log.len(), before);
    sim.run_for(secs(1));
    assert_eq!(sim.nodes[0].session.state(), State::Established);
}
