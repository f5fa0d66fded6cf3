//! The three-way handshake (RFC 5880 §6.2) and the slow rate before Up
//! (§6.8.3).

use super::sim::{ms, sent, Bench, Sim};
use super::{exact, peer_up};
use crate::packet::{ControlPacket, State};
use crate::session::{Input, SessionConfig};

#[test]
fn both_sides_go_down_init_up() {
    let mut sim = Sim::new(exact(1), exact(2), ms(10));
    sim.start_both();
    sim.run_until(ms(30));
    for n in 0..2 {
        assert_eq!(
            sim.nodes[n].changes(),
            [
                (ms(10), State::Down, State::Init),
                (ms(20), State::Init, State::Up)
            ],
            "node {n}"
        );
    }
    // Each side learned the other's discriminator from the first packet.
    assert_eq!(sim.nodes[0].session.remote_discriminator(), 2);
    assert_eq!(sim.nodes[1].session.remote_discriminator(), 1);
    let first = &sim.nodes[0].sent()[0].1;
    assert_eq!((first.state, first.your_discriminator), (State::Down, 0));
}

#[test]
fn passive_side_waits_then_completes_the_handshake() {
    let passive = SessionConfig {
        passive: true,
        ..exact(2)
    };
    let mut sim = Sim::new(exact(1), passive, ms(10));
    sim.start_both();
    assert!(sim.nodes[1].sent().is_empty(), "passive speaks first");
    sim.run_until(ms(30));
    // The active side sees Init straight from Down.
    assert_eq!(sim.nodes[0].changes(), [(ms(20), State::Down, State::Up)]);
    assert_eq!(
        sim.nodes[1].changes(),
        [
            (ms(10), State::Down, State::Init),
            (ms(30), State::Init, State::Up)
        ]
    );
}

#[test]
fn passive_session_alone_stays_silent() {
    let mut sim = Sim::new(
        exact(1),
        SessionConfig {
            passive: true,
            ..exact(2)
        },
        ms(10),
    );
    sim.input(1, Input::Start);
    sim.run_until(ms(10_000));
    assert!(sim.nodes[1].sent().is_empty());
    assert!(sim.nodes[1].timers.is_empty());
}

#[test]
fn slow_rate_of_one_second_until_up() {
    let mut sim = Sim::new(exact(1), exact(2), ms(10));
    sim.input(0, Input::Start);
    sim.run_until(ms(5_000));
    let sent = sim.nodes[0].sent();
    let instants: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(instants, [0, 1000, 2000, 3000, 4000, 5000].map(ms));
    assert!(sent
        .iter()
        .all(|(_, p)| p.state == State::Down && p.desired_min_tx_us == 1_000_000));
    // Our Required Min RX is the real one: the peer's rate is not slowed.
    assert!(sent.iter().all(|(_, p)| p.required_min_rx_us == 300_000));
}

#[test]
fn slow_rate_with_jitter_stays_between_three_quarters_and_one_second() {
    let mut sim = Sim::new(SessionConfig::direct_connect(1), exact(2), ms(10));
    sim.input(0, Input::Start);
    sim.run_until(ms(200_000));
    let instants: Vec<_> = sim.nodes[0].sent().iter().map(|(t, _)| *t).collect();
    assert!(instants.len() > 200);
    for gap in instants.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= ms(750) && gap <= ms(1000), "{gap:?}");
    }
}

#[test]
fn up_switches_to_the_fast_rate_and_back_to_slow_when_down() {
    let mut sim = Sim::new(exact(1), exact(2), ms(10));
    let up = sim.bring_up();
    sim.run_until(up + ms(3_000));
    let after_up: Vec<_> = sim.nodes[0]
        .sent()
        .into_iter()
        .filter(|(t, _)| *t >= up)
        .collect();
    for pair in after_up.windows(2) {
        assert!(pair[1].0 - pair[0].0 <= ms(300), "{pair:?}");
        assert_eq!(pair[1].1.desired_min_tx_us, 300_000);
    }
    // Silence from node 1: node 0 times out and returns to the slow rate.
    sim.mute[1] = true;
    let t = sim.now;
    sim.run_until(t + ms(5_000));
    let down_at = sim.nodes[0].changes().last().unwrap().0;
    let later: Vec<_> = sim.nodes[0]
        .sent()
        .into_iter()
        .filter(|(at, _)| *at >= down_at)
        .map(|(at, p)| (at, p.state, p.desired_min_tx_us))
        .collect();
    assert!(later.len() >= 4);
    for pair in later.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, ms(1000));
        assert_eq!((pair[1].1, pair[1].2), (State::Down, 1_000_000));
    }
}

#[test]
fn down_session_ignores_up_and_init_from_down_goes_up() {
    let mut bench = Bench::new(exact(7));
    bench.input(Input::Start);
    // RFC 5880 §6.2: Up from the peer means nothing to a Down session.
    bench.receive(peer_up());
    assert_eq!(bench.node.session.state(), State::Down);
    let out = bench.receive(ControlPacket {
        state: State::Init,
        ..peer_up()
    });
    assert_eq!(bench.node.session.state(), State::Up);
    let told = sent(&out);
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].state, told[0].your_discriminator),
        (State::Up, 0xbeef)
    );
}

#[test]
fn init_stays_init_on_down_and_goes_up_on_up() {
    let mut bench = Bench::new(exact(7));
    bench.input(Input::Start);
    let down = ControlPacket {
        state: State::Down,
        your_discriminator: 0,
        ..peer_up()
    };
    bench.receive(down.clone());
    assert_eq!(bench.node.session.state(), State::Init);
    let out = bench.receive(down);
    assert_eq!(bench.node.session.state(), State::Init);
    assert!(sent(&out).is_empty(), "nothing new to say");
    bench.receive(peer_up());
    assert_eq!(bench.node.session.state(), State::Up);
}
