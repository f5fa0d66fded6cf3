//! Hold, Keepalive, ConnectRetry and IdleHold timers, at exact instants.

use super::sim::{ms, secs, Bench, Sim};
use super::{config, passive, wire};
use crate::session::{
    DownReason, IdleReason, SessionConfig, SessionInput, SessionOutput, State, TimerKind,
};
use std::time::Duration;

fn pair(hold_a: u16, hold_b: u16) -> Sim {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.hold_time = hold_a;
    let mut b = passive(config(65002, 65001, [10, 0, 0, 2]));
    b.hold_time = hold_b;
    let mut sim = Sim::new(a, b);
    sim.start_both();
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    sim
}

fn down_times(sim: &Sim, n: usize) -> Vec<Duration> {
    sim.nodes[n].times(|o| matches!(o, SessionOutput::Down(_)))
}

#[test]
fn hold_timer_expires_exactly_at_the_negotiated_hold_time() {
    // Ours 90, theirs 30: the session holds 30 s.
    let mut sim = pair(90, 30);
    sim.run_until(secs(100));
    // The peer goes silent right after its keepalive at t = 100.
    assert_eq!(sim.sent_times(1, wire::KEEPALIVE).last(), Some(&secs(100)));
    sim.mute[1] = true;

    sim.run_until(secs(130) - ms(1));
    assert_eq!(sim.nodes[0].session.state(), State::Established);
    assert!(
        sim.sent_times(0, wire::NOTIFICATION).is_empty(),
        "never before"
    );

    sim.run_until(secs(130));
    let notifications: Vec<_> = sim
        .sent_by(0)
        .into_iter()
        .filter_map(|(t, _, m)| m.notification().map(|n| (t, n)))
        .collect();
    assert_eq!(notifications, vec![(secs(130), (4, 0, vec![]))]);
    assert_eq!(down_times(&sim, 0), vec![secs(130)]);
    assert!(sim.nodes[0]
        .outputs()
        .any(|o| *o == SessionOutput::Down(DownReason::HoldTimerExpired)));
    let session = &sim.nodes[0].session;
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.idle_reason(), Some(IdleReason::IdleHold));
    assert_eq!(
        session.last_error(),
        Some("sent NOTIFICATION Hold Timer Expired")
    );
    assert_eq!(
        session
            .last_notification_sent()
            .map(|n| (n.code, n.subcode)),
        Some((4, 0))
    );
    assert_eq!(sim.nodes[0].timers[&TimerKind::IdleHold], secs(135));
}

#[test]
fn every_update_and_keepalive_received_restarts_the_hold_timer() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.establish(1, &wire::peer_open(65002, 9, [10, 0, 0, 2]));
    for t in [5, 10, 15] {
        b.advance_to(secs(t));
        b.receive(1, &wire::keepalive());
    }
    b.advance_to(secs(20));
    b.receive(1, &wire::empty_update());
    assert_eq!(b.node.timers[&TimerKind::Hold], secs(29));
    assert!(b
        .advance_to(secs(29) - ms(1))
        .iter()
        .all(|(_, o)| !matches!(o, SessionOutput::Down(_))));
    let caused = b.advance_to(secs(29));
    assert!(caused.contains(&(secs(29), SessionOutput::Down(DownReason::HoldTimerExpired))));
}

#[test]
fn keepalives_exactly_every_third_of_the_hold_time() {
    let mut sim = pair(90, 90);
    sim.run_until(secs(600));
    let expected: Vec<Duration> = (0..=20).map(|i| secs(30 * i)).collect();
    assert_eq!(sim.sent_times(0, wire::KEEPALIVE), expected);
    assert_eq!(sim.sent_times(1, wire::KEEPALIVE), expected);
    assert!(down_times(&sim, 0).is_empty());
}

#[test]
fn configured_keepalive_below_a_third_is_used() {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.keepalive = Some(7);
    let mut sim = Sim::new(a, passive(config(65002, 65001, [10, 0, 0, 2])));
    sim.start_both();
    sim.run_until(secs(30));
    let expected: Vec<Duration> = (0..=4).map(|i| secs(7 * i)).collect();
    assert_eq!(sim.sent_times(0, wire::KEEPALIVE), expected);
}

#[test]
fn sending_an_update_restarts_the_keepalive_timer() {
    let mut sim = pair(90, 90);
    sim.run_until(secs(50));
    sim.input(
        0,
        SessionInput::Send(crate::packet::Message::Update(Default::default())),
    );
    sim.run_until(secs(200));
    // 0, 30, then the UPDATE at 50 pushes the next keepalive to 80.
    assert_eq!(
        sim.sent_times(0, wire::KEEPALIVE),
        [0, 30, 80, 110, 140, 170, 200].map(secs)
    );
    assert_eq!(sim.sent_times(0, wire::UPDATE), vec![secs(50)]);
}

#[test]
fn jittered_keepalives_stay_between_three_quarters_and_the_full_interval() {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.jitter = true;
    let mut sim = Sim::new(a, passive(config(65002, 65001, [10, 0, 0, 2])));
    sim.start_both();
    sim.run_until(secs(30 * 1000));
    let times = sim.sent_times(0, wire::KEEPALIVE);
    assert!(times.len() > 1000, "{} keepalives", times.len());
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for g in &gaps {
        assert!(*g >= ms(22_500) && *g <= secs(30), "gap {g:?}");
    }
    let min = gaps.iter().min().unwrap();
    let max = gaps.iter().max().unwrap();
    assert!(*min < ms(23_000) && *max > ms(29_500), "{min:?}..{max:?}");
    assert_eq!(sim.nodes[0].session.state(), State::Established);
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let run = |seed_b: u64| {
        let mut a = config(65001, 65002, [10, 0, 0, 1]);
        a.jitter = true;
        let mut b = passive(config(65002, 65001, [10, 0, 0, 2]));
        b.jitter = true;
        let mut sim = Sim::new(a, b);
        // Node 1's session is rebuilt with the seed under test.
        sim.nodes[1] = super::sim::Node::new(sim.nodes[1].session.config().clone(), seed_b);
        sim.start_both();
        sim.run_until(secs(3600));
        sim.sent_times(1, wire::KEEPALIVE)
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn hold_time_zero_means_no_keepalives_and_no_expiry() {
    for (ha, hb) in [(0, 0), (0, 90), (90, 0)] {
        let mut sim = pair(ha, hb);
        assert_eq!(sim.nodes[0].session.negotiated().unwrap().hold_time, 0);
        assert_eq!(sim.nodes[0].session.negotiated().unwrap().keepalive, 0);
        for n in 0..2 {
            assert!(!sim.nodes[n].timers.contains_key(&TimerKind::Hold));
            assert!(!sim.nodes[n].timers.contains_key(&TimerKind::Keepalive));
        }
        sim.run_until(secs(86_400));
        for n in 0..2 {
            assert_eq!(sim.sent_times(n, wire::KEEPALIVE), vec![Duration::ZERO]);
            assert_eq!(sim.nodes[n].session.state(), State::Established);
        }
    }
}

#[test]
fn open_sent_waits_four_minutes_for_the_peers_open() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.now = secs(1);
    b.connected(1, true);
    assert_eq!(b.node.timers[&TimerKind::Hold], secs(241));
    assert!(b.advance_to(secs(241) - ms(1)).is_empty());
    let caused = b.advance_to(secs(241));
    let sent: Vec<_> = caused.iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(
        super::sim::bytes_on(&sent, 1),
        wire::notification(4, 0, &[])
    );
    assert!(sent.contains(&SessionOutput::Down(DownReason::HoldTimerExpired)));
}

#[test]
fn connect_retry_every_interval_while_the_peer_is_unreachable() {
    let mut sim = Sim::new(
        config(65001, 65002, [10, 0, 0, 1]),
        config(65002, 65001, [10, 0, 0, 2]),
    );
    sim.unreachable[0] = true;
    sim.input(0, SessionInput::Start);
    assert_eq!(sim.nodes[0].session.state(), State::Active);
    sim.run_until(secs(20));
    assert_eq!(
        sim.nodes[0].times(|o| *o == SessionOutput::Connect),
        [0, 5, 10, 15, 20].map(secs)
    );
    use State::*;
    assert_eq!(
        super::states(sim.nodes[0].outputs()),
        [
            Idle, Connect, Active, Connect, Active, Connect, Active, Connect, Active, Connect,
            Active
        ]
    );
    assert_eq!(
        sim.nodes[0].session.last_error(),
        Some("connection attempt failed")
    );
}

#[test]
fn connect_retry_with_jitter() {
    let mut a = config(65001, 65002, [10, 0, 0, 1]);
    a.jitter = true;
    let mut sim = Sim::new(a, config(65002, 65001, [10, 0, 0, 2]));
    sim.unreachable[0] = true;
    sim.input(0, SessionInput::Start);
    sim.run_until(secs(5000));
    let times = sim.nodes[0].times(|o| *o == SessionOutput::Connect);
    assert!(times.len() > 1000);
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= ms(3750) && gap <= secs(5), "gap {gap:?}");
    }
}

#[test]
fn connect_retry_in_connect_retries_a_hanging_attempt() {
    // The attempt neither completes nor fails (SYN lost): ConnectRetry
    // expiry starts a new one (RFC 4271 §8.2.2 Connect).
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    let caused = b.advance_to(secs(5));
    assert!(caused.contains(&(secs(5), SessionOutput::Connect)));
    assert_eq!(b.node.session.state(), State::Connect);
}

#[test]
fn passive_session_never_connects_and_waits() {
    let mut b = Bench::new(passive(config(65001, 65002, [10, 0, 0, 1])));
    b.input(SessionInput::Start);
    assert!(b.advance_to(secs(3600)).is_empty());
    assert_eq!(b.node.session.state(), State::Active);
    assert!(b.node.timers.is_empty());
}

/// A peer that accepts every connection and answers our OPEN with a
/// NOTIFICATION: each attempt is a failure. Returns the instants of the
/// attempts until `until`.
fn failing_peer(
    config: SessionConfig,
    until: Duration,
    notification: &[u8],
) -> (Bench, Vec<Duration>) {
    let mut b = Bench::new(config);
    let mut conn = 0;
    let mut attempts = Vec::new();
    let mut out = b.input(SessionInput::Start);
    loop {
        if out.contains(&SessionOutput::Connect) {
            attempts.push(b.now);
            conn += 1;
            b.connected(conn, true);
            let down = b.receive(conn, notification);
            assert!(down
                .iter()
                .any(|o| matches!(o, SessionOutput::Down(DownReason::NotificationReceived(_)))));
        }
        let Some((at, _)) = b.node.next_timer() else {
            break;
        };
        if at > until {
            break;
        }
        out = b.advance_to(at).into_iter().map(|(_, o)| o).collect();
    }
    (b, attempts)
}

#[test]
fn idle_hold_backs_off_doubling_up_to_the_cap() {
    let mut c = config(65001, 65002, [10, 0, 0, 1]);
    c.idle_hold = secs(5);
    c.max_idle_hold = secs(60);
    let (b, attempts) = failing_peer(c, secs(400), &wire::notification(6, 2, &[]));
    // Waits 5, 10, 20, 40, 60, 60, ...
    assert_eq!(
        attempts,
        [0, 5, 15, 35, 75, 135, 195, 255, 315, 375].map(secs)
    );
    let holds: Vec<Duration> = b
        .node
        .outputs()
        .filter_map(|o| match o {
            SessionOutput::StartTimer {
                timer: TimerKind::IdleHold,
                after,
            } => Some(*after),
            _ => None,
        })
        .collect();
    assert_eq!(&holds[..6], &[5, 10, 20, 40, 60, 60].map(secs));
    assert_eq!(b.node.session.idle_reason(), Some(IdleReason::IdleHold));
    assert_eq!(
        b.node.session.last_error(),
        Some("received NOTIFICATION Cease / Administrative Shutdown")
    );
}

#[test]
fn connections_are_refused_during_idle_hold() {
    let mut c = config(65001, 65002, [10, 0, 0, 1]);
    c.idle_hold = secs(5);
    let (mut b, _) = failing_peer(c, Duration::ZERO, &wire::notification(6, 2, &[]));
    assert_eq!(b.node.session.state(), State::Idle);
    let out = b.connected(100, false);
    assert_eq!(out, vec![SessionOutput::Close { conn: 100 }]);
}

#[test]
fn backoff_resets_once_established_and_heard_from() {
    let open = wire::peer_open(65002, 90, [10, 0, 0, 2]);
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    // Three failures: the next wait would be 40 s.
    for conn in 1..=3 {
        b.connected(conn, true);
        b.receive(conn, &wire::notification(6, 2, &[]));
        let at = b.node.next_timer().unwrap().0;
        b.advance_to(at);
    }
    assert_eq!(b.node.session.consecutive_failures(), 3);

    // Established, but failing before a word from the peer: still backing off.
    b.connected(4, true);
    b.receive(4, &open);
    b.receive(4, &wire::keepalive());
    assert_eq!(b.node.session.state(), State::Established);
    let out = b.input(SessionInput::Closed { conn: 4 });
    assert!(out.contains(&SessionOutput::StartTimer {
        timer: TimerKind::IdleHold,
        after: secs(40)
    }));
    assert!(out.contains(&SessionOutput::Down(DownReason::ConnectionClosed)));

    // Established and heard from: healthy, the next failure waits 5 s again.
    let at = b.node.next_timer().unwrap().0;
    b.advance_to(at);
    b.connected(5, true);
    b.receive(5, &open);
    b.receive(5, &wire::keepalive());
    b.receive(5, &wire::keepalive());
    assert_eq!(b.node.session.consecutive_failures(), 0);
    let out = b.input(SessionInput::Closed { conn: 5 });
    assert!(out.contains(&SessionOutput::StartTimer {
        timer: TimerKind::IdleHold,
        after: secs(5)
    }));
}

#[test]
fn peer_closing_in_open_sent_means_active_and_connect_retry() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.now = secs(2);
    b.connected(1, true);
    b.now = secs(3);
    let out = b.input(SessionInput::Closed { conn: 1 });
    assert_eq!(b.node.session.state(), State::Active);
    assert!(!out.iter().any(|o| matches!(o, SessionOutput::Down(_))));
    assert!(out.contains(&SessionOutput::StopTimer(TimerKind::Hold)));
    assert_eq!(b.node.timers[&TimerKind::ConnectRetry], secs(8));
    let caused = b.advance_to(secs(8));
    assert!(caused.contains(&(secs(8), SessionOutput::Connect)));
}

#[test]
fn late_timer_expiries_are_ignored() {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.establish(1, &wire::peer_open(65002, 90, [10, 0, 0, 2]));
    for kind in [
        TimerKind::ConnectRetry,
        TimerKind::IdleHold,
        TimerKind::PrefixRestart,
    ] {
        assert!(
            b.input(SessionInput::TimerExpired(kind)).is_empty(),
            "{kind:?}"
        );
    }
    assert_eq!(b.node.session.state(), State::Established);
}
