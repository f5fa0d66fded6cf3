//! Transmit jitter over many packets (RFC 5880 §6.8.7).

use super::sim::{ms, Sim};
use crate::session::SessionConfig;
use std::time::Duration;

/// Gaps between node 0's packets once Up and settled, over 10 000 packets.
fn gaps(a: SessionConfig) -> Vec<Duration> {
    let mut sim = Sim::new(a, SessionConfig::direct_connect(2), ms(1));
    let up = sim.bring_up();
    let settled = up + ms(2_000);
    sim.run_until(settled + ms(10_001 * 300));
    let times: Vec<Duration> = sim.nodes[0]
        .sent()
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| *t >= settled)
        .collect();
    assert!(times.len() > 10_000, "{}", times.len());
    times.windows(2).map(|w| w[1] - w[0]).take(10_000).collect()
}

#[test]
fn every_interval_is_75_to_100_percent() {
    let gaps = gaps(SessionConfig::direct_connect(1));
    assert_eq!(gaps.len(), 10_000);
    assert!(gaps.iter().all(|g| *g >= ms(225) && *g <= ms(300)));
    // The whole range is used, not a corner of it.
    assert!(*gaps.iter().min().unwrap() < ms(227));
    assert!(*gaps.iter().max().unwrap() > ms(298));
    let mean = gaps.iter().sum::<Duration>() / 10_000;
    assert!(mean > ms(258) && mean < ms(267), "{mean:?}");
}

#[test]
fn with_multiplier_1_no_interval_exceeds_90_percent() {
    let gaps = gaps(SessionConfig {
        detect_mult: 1,
        ..SessionConfig::direct_connect(1)
    });
    assert!(gaps.iter().all(|g| *g >= ms(225) && *g <= ms(270)));
    assert!(*gaps.iter().max().unwrap() > ms(268));
}

#[test]
fn the_same_seed_replays_the_same_instants() {
    let a = gaps(SessionConfig::direct_connect(1));
    let b = gaps(SessionConfig::direct_connect(1));
    assert_eq!(a, b);
}
