//! BFD between emulated routers over a virtual link, in virtual time
//! (`tokio::time::pause`), and its coupling with BGP (RFC 5882, RFC 9384).

mod common;

use common::*;
use hybridlab_bfd::State as BfdState;
use hybridlab_runtime::view::{BfdView, NotificationView, SessionView};
use hybridlab_runtime::{LabEvent, LabEventKind, LabHandle, WireEventKind};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

fn pair(a_router: &str, a: &str, b: &str) -> String {
    format!(
        r#"
[lab]
jitter = false

[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
networks = ["10.1.0.0/16"]
{a_router}
  [[router.neighbor]]
  router = "b"
  {a}

[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
networks = ["10.2.0.0/16"]
  [[router.neighbor]]
  router = "a"
  {b}
"#
    )
}

/// The instant the named router's BFD session went to `to`.
async fn bfd_to(events: &mut UnboundedReceiver<LabEvent>, router: &str, to: BfdState) -> LabEvent {
    next_event(events, &format!("{router}: BFD {to}"), |e| match &e.kind {
        LabEventKind::BfdStateChanged { to: t, .. } if e.router == router && *t == to => {
            Some(e.clone())
        }
        _ => None,
    })
    .await
}

async fn bfd_view(handle: &LabHandle, router: &str) -> BfdView {
    let (views, _) = handle.bfd().await;
    views
        .into_iter()
        .find(|v| v.router == router)
        .unwrap_or_else(|| panic!("no BFD session on {router}"))
}

async fn session(handle: &LabHandle, router: &str) -> SessionView {
    handle
        .sessions()
        .await
        .into_iter()
        .find(|s| s.router == router)
        .unwrap_or_else(|| panic!("no session on {router}"))
}

#[tokio::test(start_paused = true)]
async fn bfd_comes_up_at_300_ms_times_3() {
    let mut run = start(&pair("", "bfd = true", "bfd = true")).await;
    let t0 = Instant::now();
    let up = bfd_to(&mut run.events, "a", BfdState::Up).await;
    // Both start Down at the slow rate; three packets bring them Up
    // without waiting for a timer.
    assert_eq!(up.at, t0, "Up in the first exchange");
    established(&mut run.events, "a", "b").await;
    // Give the Poll Sequence (1 s while not Up, 300 ms once Up) time to end.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let handle = run.lab.handle();
    for router in ["a", "b"] {
        let v = bfd_view(&handle, router).await;
        assert_eq!((v.state.as_str(), v.remote_state.as_str()), ("Up", "Up"));
        assert_eq!(v.kind, "emulated");
        assert_eq!(v.tx_interval_us, 300_000, "{v:?}");
        assert_eq!(v.detection_time_us, Some(900_000), "{v:?}");
        assert_eq!((v.detect_mult, v.remote_detect_mult), (3, 3));
        assert!(!v.polling);
        assert!(v.counters.received > 0 && v.counters.sent > 0);
        assert_eq!(v.counters.dropped_total, 0);
        assert!(v.last_change_unix_ms > 1_600_000_000_000);
        assert_eq!(
            session(&handle, router).await.bfd_state.as_deref(),
            Some("Up")
        );
    }
    let v = bfd_view(&handle, "a").await;
    assert_eq!(v.peer_address, bfd_view(&handle, "b").await.local_address);
    // Steady state on the wire: a packet every 300 ms from each side.
    while run.tap.try_recv().is_ok() {}
    let mut times = Vec::new();
    while times.len() < 5 {
        let at = next_on_wire(&mut run.tap, "BFD from a", |e| {
            (e.from.as_deref() == Some("a") && matches!(e.kind, WireEventKind::Bfd(_)))
                .then_some(e.at)
        })
        .await;
        times.push(at);
    }
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![300 * MS; 4]);
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_peer_asking_for_100_ms_gets_300_ms() {
    let mut run = start(&pair(
        "bfd_min_interval = 100",
        "bfd = { min_tx = 100, min_rx = 100 }",
        "bfd = true",
    ))
    .await;
    bfd_to(&mut run.events, "a", BfdState::Up).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let handle = run.lab.handle();
    let a = bfd_view(&handle, "a").await;
    assert_eq!(
        (a.desired_min_tx_us, a.required_min_rx_us),
        (100_000, 100_000)
    );
    assert_eq!(a.remote_required_min_rx_us, 300_000);
    assert_eq!(a.tx_interval_us, 300_000, "{a:?}");
    assert_eq!(a.detection_time_us, Some(900_000));
    let b = bfd_view(&handle, "b").await;
    assert_eq!(b.remote_desired_min_tx_us, 100_000);
    assert_eq!(b.tx_interval_us, 300_000, "{b:?}");
    assert_eq!(b.detection_time_us, Some(900_000));
    // On the wire too.
    while run.tap.try_recv().is_ok() {}
    let mut times = Vec::new();
    while times.len() < 4 {
        let at = next_on_wire(&mut run.tap, "BFD from a", |e| {
            (e.from.as_deref() == Some("a") && matches!(e.kind, WireEventKind::Bfd(_)))
                .then_some(e.at)
        })
        .await;
        times.push(at);
    }
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![300 * MS; 3]);
    run.lab.shutdown().await;
}

fn cease_bfd_down() -> Option<NotificationView> {
    Some(NotificationView {
        code: 6,
        subcode: 10,
        name: "Cease / BFD Down".to_string(),
    })
}

#[tokio::test(start_paused = true)]
async fn blackhole_takes_bfd_down_at_the_detection_time_and_bgp_with_it() {
    // A hold time far beyond the drill: only BFD can take BGP down.
    let mut run = start(&pair(
        "",
        "bfd = true\n  hold_time = 90",
        "bfd = true\n  hold_time = 90",
    ))
    .await;
    bfd_to(&mut run.events, "a", BfdState::Up).await;
    established(&mut run.events, "a", "b").await;
    established(&mut run.events, "b", "a").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let handle = run.lab.handle();

    // Cut the link right after a packet from b reached a.
    let mut last_heard = next_on_wire(&mut run.tap, "BFD from b", |e| {
        (e.delivered && e.from.as_deref() == Some("b") && matches!(e.kind, WireEventKind::Bfd(_)))
            .then_some(e.at)
    })
    .await;
    let link = run.lab.link("a", "b").unwrap_or_else(|| panic!("no link"));
    run.lab.wire().set_blackhole(&link, true);
    while let Ok(e) = run.tap.try_recv() {
        if e.delivered && e.from.as_deref() == Some("b") && matches!(e.kind, WireEventKind::Bfd(_))
        {
            last_heard = e.at;
        }
    }
    let cut_at = Instant::now();

    let down = bfd_to(&mut run.events, "a", BfdState::Down).await;
    let detected_after = down.at - last_heard;
    assert!(
        detected_after >= 900 * MS && detected_after <= 1200 * MS,
        "detected {detected_after:?} after the last packet"
    );
    // Jitter off: exactly Detect Mult × the agreed interval.
    assert_eq!(detected_after, 900 * MS);
    assert!(down.at - cut_at < Duration::from_secs(1));
    let LabEventKind::BfdStateChanged { diagnostic, .. } = &down.kind else {
        unreachable!()
    };
    assert_eq!(diagnostic, "Control Detection Time Expired");

    // BGP goes down at that same instant, with Cease / BFD Down.
    let bgp_down = next_event(&mut run.events, "a: BGP down", |e| match &e.kind {
        LabEventKind::Down(reason) if e.router == "a" => Some((e.at, reason.clone())),
        _ => None,
    })
    .await;
    assert_eq!(bgp_down.0, down.at);
    assert!(bgp_down.1.contains("Cease / BFD Down"), "{}", bgp_down.1);
    for router in ["a", "b"] {
        let s = session(&handle, router).await;
        assert_eq!(s.state, "Idle", "{s:?}");
        assert_eq!(s.idle_reason.as_deref(), Some("bfd down"));
        assert_eq!(s.last_notification_sent, cease_bfd_down(), "{router}");
        assert!(
            s.last_error
                .as_deref()
                .is_some_and(|e| e.contains("BFD Down")),
            "{s:?}"
        );
        let v = bfd_view(&handle, router).await;
        assert_eq!(v.state, "Down");
        assert_eq!(v.last_down_cause.as_deref(), Some("detection time expired"));
        assert_eq!(
            v.last_diagnostic.as_deref(),
            Some("Control Detection Time Expired")
        );
        assert!(v.holding_bgp);
        assert_eq!(v.counters.failures, 1);
        // Both changes were seen in one virtual instant (wall clocks drift
        // a little while the test runs).
        let bgp_ms = session(&handle, router).await.last_change_unix_ms;
        assert!(
            bgp_ms.abs_diff(v.last_change_unix_ms) < 1000,
            "{bgp_ms} {v:?}"
        );
    }
    // The Cease went out on a's connection, and the cut link ate it.
    let mut ceases = 0;
    while let Ok(e) = run.tap.try_recv() {
        if !e.delivered {
            ceases += sent_by(&e, "a", NOTIFICATION)
                .iter()
                .filter(|body| body.get(..2) == Some(&[6, 10][..]))
                .count();
        }
    }
    assert_eq!(ceases, 1);

    // BGP stays Idle while BFD is down: many IdleHold periods (1 s and up),
    // not one connection attempt.
    let quiet_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(30)).await;
    while let Ok(e) = run.events.try_recv() {
        assert!(
            !matches!(
                e.kind,
                LabEventKind::ConnectAttempt | LabEventKind::Established { .. }
            ),
            "{e:?} at {:?} into the cut",
            e.at - quiet_from
        );
    }
    for router in ["a", "b"] {
        assert_eq!(session(&handle, router).await.state, "Idle");
    }
    // clear does not restart a session BFD holds down.
    handle
        .clear("a", "b")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(session(&handle, "a").await.state, "Idle");

    // Restore: BFD comes Up first, then BGP establishes.
    run.lab.wire().set_blackhole(&link, false);
    let up = bfd_to(&mut run.events, "a", BfdState::Up).await;
    let est = established(&mut run.events, "a", "b").await;
    assert!(est.at >= up.at);
    assert!(up.at - quiet_from < Duration::from_secs(32));
    let s = session(&handle, "a").await;
    assert_eq!(s.state, "Established");
    assert!(!bfd_view(&handle, "a").await.holding_bgp);
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_says_admin_down_which_is_no_failure() {
    let mut run = start(&pair("", "bfd = true", "bfd = true")).await;
    bfd_to(&mut run.events, "a", BfdState::Up).await;
    established(&mut run.events, "b", "a").await;
    while run.tap.try_recv().is_ok() {}
    run.lab.shutdown().await;
    // a's last BFD packets say AdminDown (state 0) with diagnostic 7.
    let mut admin_down = 0;
    while let Ok(e) = run.tap.try_recv() {
        if let (Some("a"), WireEventKind::Bfd(p)) = (e.from.as_deref(), &e.kind) {
            if p.get(1).map(|b| b >> 6) == Some(0) && p.first().map(|b| b & 0x1f) == Some(7) {
                admin_down += 1;
            }
        }
    }
    assert!(admin_down >= 1, "an AdminDown packet from a");
    // b learnt it as AdminDown, not a failure: no Cease / BFD Down from b.
    while let Ok(e) = run.events.try_recv() {
        if let LabEventKind::Down(reason) = &e.kind {
            assert!(!reason.contains("BFD"), "{e:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn bgp_establishes_without_bfd_ever_up_as_frr_does() {
    // b runs BFD passively, a too: neither ever speaks, BFD never comes Up,
    // and BGP establishes regardless.
    let mut run = start(&pair(
        "",
        "bfd = { passive = true }",
        "bfd = { passive = true }",
    ))
    .await;
    established(&mut run.events, "a", "b").await;
    let handle = run.lab.handle();
    let v = bfd_view(&handle, "a").await;
    assert_eq!(v.state, "Down");
    assert_eq!(v.counters.sent, 0);
    assert_eq!(
        session(&handle, "a").await.bfd_state.as_deref(),
        Some("Down")
    );
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn prefix_limit_restart_waits_for_bfd_when_the_path_is_dead() {
    let mut run = start(
        r#"
[lab]
jitter = false

[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
  [[router.neighbor]]
  router = "b"
  bfd = true
  max_prefix = { limit = 1, restart_after = 5 }

[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
networks = ["10.2.0.0/16", "10.3.0.0/16"]
  [[router.neighbor]]
  router = "a"
  bfd = true
"#,
    )
    .await;
    bfd_to(&mut run.events, "a", BfdState::Up).await;
    // b's two prefixes trip a's limit of one: a parks its session.
    let tripped = next_event(&mut run.events, "a: prefix limit", |e| match &e.kind {
        LabEventKind::Down(reason) if e.router == "a" => Some((e.at, reason.clone())),
        _ => None,
    })
    .await;
    assert!(
        tripped.1.contains("Maximum Number of Prefixes"),
        "{}",
        tripped.1
    );
    let handle = run.lab.handle();
    assert_eq!(
        session(&handle, "a").await.idle_reason.as_deref(),
        Some("prefix limit")
    );

    // The path dies before the restart is due.
    let link = run.lab.link("a", "b").unwrap_or_else(|| panic!("no link"));
    run.lab.wire().set_blackhole(&link, true);
    bfd_to(&mut run.events, "a", BfdState::Down).await;

    // The restart comes due 5 s after the trip and is held: a makes no
    // attempt over the dead path, and BFD now holds its BGP session.
    tokio::time::sleep_until(tripped.0 + Duration::from_secs(15)).await;
    while let Ok(e) = run.events.try_recv() {
        assert!(
            !(e.router == "a" && matches!(e.kind, LabEventKind::ConnectAttempt)),
            "{e:?}"
        );
    }
    assert_eq!(session(&handle, "a").await.state, "Idle");
    assert!(bfd_view(&handle, "a").await.holding_bgp);

    // BFD's return starts the session; it establishes (and b's two
    // prefixes trip the limit again).
    run.lab.wire().set_blackhole(&link, false);
    let up = bfd_to(&mut run.events, "a", BfdState::Up).await;
    let est = established(&mut run.events, "a", "b").await;
    assert!(est.at >= up.at);
    assert!(!bfd_view(&handle, "a").await.holding_bgp);
    run.lab.shutdown().await;
}
