//! Interval negotiation, the slower side winning per direction, and the
//! cloud's 300 ms floor (RFC 5880 §6.8.2, §6.8.4).

use super::sim::{ms, Sim};
use super::{customer, exact};
use crate::session::{Session, SessionConfig};
use std::time::Duration;

#[test]
fn a_peer_asking_for_100ms_gets_300ms_both_ways() {
    let mut sim = Sim::new(exact(1), customer(2, 100, 100, 3), ms(1));
    let up = sim.bring_up();
    sim.run_until(up + ms(5_000));
    let cloud = &sim.nodes[0].session;
    let router = &sim.nodes[1].session;
    assert_eq!(cloud.tx_interval(), ms(300));
    assert_eq!(router.tx_interval(), ms(300));
    assert_eq!(cloud.detection_time(), Some(ms(900)));
    assert_eq!(router.detection_time(), Some(ms(900)));
    // And on the wire: the router's packets come every 300 ms once settled.
    let gaps: Vec<Duration> = sim.nodes[1]
        .sent()
        .windows(2)
        .filter(|w| w[0].0 >= up + ms(1_000))
        .map(|w| w[1].0 - w[0].0)
        .collect();
    assert!(!gaps.is_empty());
    assert!(gaps.iter().all(|g| *g == ms(300)), "{gaps:?}");
}

#[test]
fn slower_side_wins_per_direction() {
    // The router sends no faster than 1 s and wants no faster than 500 ms.
    let mut sim = Sim::new(exact(1), customer(2, 1000, 500, 5), ms(1));
    let up = sim.bring_up();
    sim.run_until(up + ms(5_000));
    let cloud = &sim.nodes[0].session;
    let router = &sim.nodes[1].session;
    assert_eq!(cloud.tx_interval(), ms(500));
    assert_eq!(router.tx_interval(), ms(1000));
    // Cloud: router's mult × max(our RX 300, its TX 1000).
    assert_eq!(cloud.detection_time(), Some(ms(5_000)));
    // Router: our mult × max(its RX 500, our TX 300).
    assert_eq!(router.detection_time(), Some(ms(1_500)));
    let view = cloud.view();
    assert_eq!(view.tx_interval_us, 500_000);
    assert_eq!(view.detection_time_us, Some(5_000_000));
    assert_eq!(view.remote_detect_mult, 5);
}

#[test]
fn asking_below_the_floor_gets_the_floor() {
    let config = SessionConfig {
        desired_min_tx: ms(50),
        required_min_rx: ms(10),
        ..exact(1)
    };
    let session = Session::new(config, 0).unwrap();
    assert_eq!(session.config().desired_min_tx, ms(300));
    assert_eq!(session.config().required_min_rx, ms(300));
    assert_eq!(session.view().required_min_rx_us, 300_000);
}

#[test]
fn invalid_configurations_are_refused() {
    use crate::session::ConfigError;
    let zero_mult = SessionConfig {
        detect_mult: 0,
        ..exact(1)
    };
    assert_eq!(
        Session::new(zero_mult, 0).unwrap_err(),
        ConfigError::ZeroDetectMult
    );
    assert_eq!(
        Session::new(exact(0), 0).unwrap_err(),
        ConfigError::ZeroDiscriminator
    );
    assert_eq!(
        Session::new(customer(1, 0, 300, 3), 0).unwrap_err(),
        ConfigError::ZeroInterval
    );
}
