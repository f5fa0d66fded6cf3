//! Emulated routers over virtual links, in virtual time
//! (`tokio::time::pause`): every instant asserted here is exact.

mod common;

use common::*;
use hybridlab_bgp::packet::Prefix;
use hybridlab_runtime::{LabEventKind, WireEventKind};
use std::time::Duration;
use tokio::time::Instant;

fn pair(hold_time: u16, extra_a: &str, extra_b: &str) -> String {
    format!(
        r#"
[lab]
jitter = false

[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
networks = ["10.1.0.0/16"]
  [[router.neighbor]]
  router = "b"
  hold_time = {hold_time}
  {extra_a}

[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
networks = ["10.2.0.0/16"]
  [[router.neighbor]]
  router = "a"
  hold_time = {hold_time}
  {extra_b}
"#
    )
}

fn prefix(s: &str) -> Prefix {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test(start_paused = true)]
async fn two_routers_establish_and_exchange_routes() {
    let mut run = start(&pair(90, "", "")).await;
    established(&mut run.events, "a", "b").await;
    established(&mut run.events, "b", "a").await;
    let handle = run.lab.handle();
    // Routes follow Established within the same instant or the next few
    // messages; poll in virtual time.
    let learned = within("b to learn 10.1.0.0/16", async {
        loop {
            let routes = handle.routes("b").await.unwrap_or_default();
            if let Some(r) = routes.into_iter().find(|r| r.prefix == "10.1.0.0/16") {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(learned.from, "a");
    assert_eq!(learned.as_path, [65001]);
    assert!(learned.best);
    let sessions = handle.sessions().await;
    assert_eq!(sessions.len(), 2);
    assert!(
        sessions.iter().all(|s| s.state == "Established"),
        "{sessions:?}"
    );
    assert!(sessions
        .iter()
        .all(|s| s.hold_time == Some(90) && s.keepalive == Some(30)));
    // A route announced later travels too, and its withdrawal.
    handle
        .announce("a", prefix("10.9.0.0/24"), Default::default(), 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    within("b to learn 10.9.0.0/24", async {
        while !handle
            .routes("b")
            .await
            .unwrap_or_default()
            .iter()
            .any(|r| r.prefix == "10.9.0.0/24")
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn keepalives_every_third_of_the_hold_time() {
    let mut run = start(&pair(9, "", "")).await;
    established(&mut run.events, "a", "b").await;
    let mut times = Vec::new();
    while times.len() < 6 {
        let at = next_on_wire(&mut run.tap, "KEEPALIVE from a", |e| {
            (!sent_by(e, "a", KEEPALIVE).is_empty()).then_some(e.at)
        })
        .await;
        times.push(at);
    }
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![Duration::from_secs(3); 5]);
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn hold_timer_expires_exactly_hold_time_after_the_link_is_cut() {
    let mut run = start(&pair(9, "", "")).await;
    established(&mut run.events, "a", "b").await;
    established(&mut run.events, "b", "a").await;
    // Let a few keepalives go by, then cut the link right after one that b
    // sent to a: a's hold timer was restarted at that instant.
    let mut seen = 0;
    let last_heard = next_on_wire(&mut run.tap, "KEEPALIVE from b", |e| {
        if e.delivered && !sent_by(e, "b", KEEPALIVE).is_empty() {
            seen += 1;
        }
        (seen == 3).then_some(e.at)
    })
    .await;
    let link = run
        .lab
        .link("a", "b")
        .unwrap_or_else(|| panic!("no link a/b"));
    run.lab.wire().set_blackhole(&link, true);
    let expired_at = next_on_wire(
        &mut run.tap,
        "NOTIFICATION Hold Timer Expired from a",
        |e| {
            sent_by(e, "a", NOTIFICATION)
                .iter()
                .any(|body| body.first() == Some(&4))
                .then_some(e.at)
        },
    )
    .await;
    assert_eq!(expired_at - last_heard, Duration::from_secs(9));
    let down = next_event(&mut run.events, "a/b down", |e| match &e.kind {
        LabEventKind::Down(reason) if e.router == "a" => Some((e.at, reason.clone())),
        _ => None,
    })
    .await;
    assert_eq!(down.0, expired_at);
    assert!(down.1.to_lowercase().contains("hold"), "{}", down.1);
    // Restoring the link brings the session back.
    run.lab.wire().set_blackhole(&link, false);
    established(&mut run.events, "a", "b").await;
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn connect_retry_paces_attempts_when_the_far_side_never_answers() {
    let mut run = start(&pair(90, "connect_retry = 5", "mode = \"passive\"")).await;
    let link = run
        .lab
        .link("a", "b")
        .unwrap_or_else(|| panic!("no link a/b"));
    run.lab.wire().set_blackhole(&link, true);
    let t0 = Instant::now();
    let mut attempts = Vec::new();
    while attempts.len() < 4 {
        let at = next_event(&mut run.events, "connect attempt by a", |e| {
            (e.router == "a" && e.kind == LabEventKind::ConnectAttempt).then_some(e.at)
        })
        .await;
        attempts.push(at - t0);
    }
    // start() only spawns the routers, so the link is cut before the first
    // SYN: every SYN is lost and ConnectRetry alone paces the retries,
    // exactly (jitter off).
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        gaps,
        vec![Duration::from_secs(5); 3],
        "attempts at {attempts:?}"
    );
    let sessions = run.lab.handle().sessions().await;
    assert!(sessions.iter().all(|s| s.state != "Established"));
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn refused_connections_back_off_rather_than_spin() {
    // Neither side accepts: every attempt is refused at once (an RST), and
    // the session must wait before it tries again.
    let mut run = start(&pair(
        90,
        "mode = \"active\"\n  connect_retry = 5",
        "mode = \"active\"\n  connect_retry = 5",
    ))
    .await;
    let mut attempts = Vec::new();
    while attempts.len() < 5 {
        let at = next_event(&mut run.events, "connect attempt by a", |e| {
            (e.router == "a" && e.kind == LabEventKind::ConnectAttempt).then_some(e.at)
        })
        .await;
        attempts.push(at);
    }
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_secs(1)),
        "gaps {gaps:?}"
    );
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0]),
        "backoff never shrinks: {gaps:?}"
    );
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn collision_keeps_the_connection_of_the_higher_router_id() {
    // Both sides connect at the same instant; b (10.0.0.2) has the higher
    // BGP Identifier, so its connection survives (RFC 4271 §6.8).
    let mut run = start(&pair(90, "", "")).await;
    let on_a = established(&mut run.events, "a", "b").await;
    let on_b = established(&mut run.events, "b", "a").await;
    let outbound = |e: &hybridlab_runtime::LabEvent| match e.kind {
        LabEventKind::Established { outbound, .. } => outbound,
        _ => panic!("not an Established event"),
    };
    assert!(outbound(&on_b), "b keeps the connection it initiated");
    assert!(!outbound(&on_a), "a keeps the connection b initiated");
    // The loser was closed with Cease / Connection Collision Resolution.
    let mut cease = false;
    while let Ok(e) = run.tap.try_recv() {
        if let WireEventKind::Data(d) = &e.kind {
            cease |= messages(d)
                .iter()
                .any(|(t, body)| *t == NOTIFICATION && body.get(..2) == Some(&[6, 7][..]));
        }
    }
    assert!(
        cease,
        "a Cease / Connection Collision Resolution crossed the wire"
    );
    run.lab.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_sends_cease_administrative_shutdown() {
    let mut run = start(&pair(90, "", "")).await;
    established(&mut run.events, "a", "b").await;
    established(&mut run.events, "b", "a").await;
    while run.tap.try_recv().is_ok() {}
    run.lab.shutdown().await;
    let mut ceases = 0;
    while let Ok(e) = run.tap.try_recv() {
        if let WireEventKind::Data(d) = &e.kind {
            ceases += messages(d)
                .iter()
                .filter(|(t, body)| *t == NOTIFICATION && body.get(..2) == Some(&[6, 2][..]))
                .count();
        }
    }
    assert!(ceases >= 1, "Cease / Administrative Shutdown sent");
}
