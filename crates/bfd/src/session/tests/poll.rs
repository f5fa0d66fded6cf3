//! Timer changes and the Poll Sequence (RFC 5880 §6.5, §6.8.3).

use super::sim::{ms, sent, Bench, Sim};
use super::{exact, peer_up};
use crate::packet::{ControlPacket, State};
use crate::session::{Input, Output, SessionConfig, TimerKind};
use std::time::Duration;

fn final_() -> ControlPacket {
    ControlPacket {
        final_: true,
        ..peer_up()
    }
}

fn set_timers(tx_ms: u64, rx_ms: u64) -> Input {
    Input::SetTimers {
        desired_min_tx: ms(tx_ms),
        required_min_rx: ms(rx_ms),
        detect_mult: 3,
    }
}

/// A bench Up at 300 ms × 3 with the Poll of coming Up answered, at 0.
fn up_bench(config: SessionConfig) -> Bench {
    let mut bench = Bench::new(config);
    bench.bring_up(&peer_up());
    bench.receive(final_());
    assert!(!bench.node.session.view().polling);
    bench
}

#[test]
fn coming_up_polls_and_a_final_ends_it() {
    let mut bench = Bench::new(exact(7));
    bench.bring_up(&peer_up());
    let (_, up) = bench.node.sent().pop().unwrap();
    assert_eq!(
        (up.state, up.poll, up.desired_min_tx_us),
        (State::Up, true, 300_000)
    );
    assert!(bench.node.session.view().polling);
    // The Final is taken, not answered.
    let out = bench.receive(final_());
    assert!(sent(&out).is_empty());
    assert!(!bench.node.session.view().polling);
}

#[test]
fn a_poll_is_answered_at_once_with_final_and_no_poll() {
    let mut bench = Bench::new(exact(7));
    bench.bring_up(&peer_up());
    // We are polling ourselves; the answer still carries F only (§6.5).
    let out = bench.receive(ControlPacket {
        poll: true,
        ..peer_up()
    });
    let answer = sent(&out);
    assert_eq!(answer.len(), 1);
    assert!(answer[0].final_ && !answer[0].poll);
    // The next periodic packet carries our Poll again.
    let next = bench.advance_to(ms(300));
    let periodic = sent(&next.into_iter().map(|(_, o)| o).collect::<Vec<_>>());
    assert!(periodic[0].poll && !periodic[0].final_);
}

#[test]
fn a_slower_tx_waits_for_the_final() {
    let mut bench = up_bench(exact(7));
    bench.now = ms(100);
    let out = bench.input(set_timers(600, 300));
    assert!(sent(&out).is_empty(), "the Poll rides on a periodic packet");
    bench.advance_to(ms(500));
    bench.receive(peer_up());
    bench.advance_to(ms(700));
    bench.receive(final_());
    for keepalive in [1_200, 1_800] {
        bench.advance_to(ms(keepalive));
        bench.receive(peer_up());
    }
    bench.advance_to(ms(2_200));
    assert_eq!(bench.node.session.state(), State::Up);
    let ours: Vec<(Duration, bool, u32)> = bench
        .node
        .sent()
        .into_iter()
        .filter(|(t, _)| *t > Duration::ZERO)
        .map(|(t, p)| (t, p.poll, p.desired_min_tx_us))
        .collect();
    assert_eq!(
        ours,
        [
            (ms(300), true, 600_000),
            (ms(600), true, 600_000),
            (ms(900), false, 600_000),
            (ms(1_500), false, 600_000),
            (ms(2_100), false, 600_000),
        ]
    );
}

#[test]
fn a_faster_tx_applies_at_once() {
    let mut bench = up_bench(SessionConfig {
        desired_min_tx: ms(600),
        ..exact(7)
    });
    assert_eq!(bench.node.session.tx_interval(), ms(600));
    bench.input(set_timers(300, 300));
    assert_eq!(bench.node.session.tx_interval(), ms(300));
    assert!(bench.node.session.view().polling);
}

#[test]
fn a_faster_rx_waits_for_the_final_a_slower_one_does_not() {
    let mut bench = up_bench(SessionConfig {
        required_min_rx: ms(600),
        ..exact(7)
    });
    assert_eq!(bench.node.session.detection_time(), Some(ms(1_800)));
    bench.input(set_timers(300, 300));
    // Our packets already ask for 300 ms, but the peer may still send slowly.
    assert_eq!(bench.node.session.view().required_min_rx_us, 300_000);
    let out = bench.receive(peer_up());
    assert!(out.contains(&Output::StartTimer {
        timer: TimerKind::Detection,
        after: ms(1_800)
    }));
    let out = bench.receive(final_());
    assert!(out.contains(&Output::StartTimer {
        timer: TimerKind::Detection,
        after: ms(900)
    }));
    // Slower: at once.
    bench.input(set_timers(300, 1_200));
    assert_eq!(bench.node.session.detection_time(), Some(ms(3_600)));
}

#[test]
fn over_a_slow_link_the_new_interval_starts_only_after_the_final_arrives() {
    let mut sim = Sim::new(exact(1), exact(2), ms(50));
    let up = sim.bring_up();
    sim.run_until(up + ms(2_000));
    let change = sim.now;
    sim.input(0, set_timers(1_000, 300));
    sim.run_until(change + ms(5_000));
    let ours: Vec<(Duration, ControlPacket)> = sim.nodes[0]
        .sent()
        .into_iter()
        .filter(|(t, _)| *t >= change)
        .collect();
    let poll_sent = ours.iter().find(|(_, p)| p.poll).unwrap().0;
    // Node 1 answers the moment the Poll arrives; the Final is back 50 ms later.
    let final_back = poll_sent + ms(100);
    let answer = sim.nodes[1]
        .sent()
        .into_iter()
        .find(|(t, p)| *t >= poll_sent && p.final_)
        .unwrap();
    assert_eq!(answer.0, poll_sent + ms(50));
    // Node 1 widened its Detection Time as soon as it read the Poll.
    assert_eq!(sim.nodes[1].session.detection_time(), Some(ms(3_000)));
    let instants: Vec<Duration> = ours.iter().map(|(t, _)| *t).collect();
    for w in instants.windows(2) {
        let gap = w[1] - w[0];
        if w[0] < final_back {
            assert_eq!(gap, ms(300), "before the Final, at {:?}", w[0]);
        } else {
            assert_eq!(gap, ms(1_000), "after the Final, at {:?}", w[0]);
        }
    }
    assert!(ours.iter().all(|(t, p)| p.poll == (*t < final_back)));
    assert_eq!(sim.states(), [State::Up, State::Up]);
}
