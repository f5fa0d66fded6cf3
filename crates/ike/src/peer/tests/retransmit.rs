//! Retransmission schedule and the duplicate cache.

use super::*;
use crate::peer::SaState;

#[test]
fn initiator_retransmits_on_strongswans_schedule_then_gives_up() {
    let mut sim = Sim::pair();
    sim.cut[CLOUD_NODE] = true;
    sim.start(secs(600));
    let times: Vec<Duration> = sim.nodes[CUSTOMER_NODE].sent.iter().map(|s| s.0).collect();
    // 4 s × 1.8^n: sent at 0, 4, 11.2, 24.16, 47.488, 89.4784.
    assert_eq!(
        times,
        vec![
            Duration::ZERO,
            ms(4_000),
            ms(11_200),
            ms(24_160),
            ms(47_488),
            Duration::from_micros(89_478_400),
        ]
    );
    // All six are the same message 1.
    assert!(sim.nodes[CUSTOMER_NODE]
        .sent
        .iter()
        .all(|s| s.3 == sim.nodes[CUSTOMER_NODE].sent[0].3));
    // After the last wait (75.5827 s) the attempt is over.
    let errors: Vec<_> = sim.nodes[CUSTOMER_NODE]
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            crate::peer::Event::Error { reason } => Some((*t, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, Duration::from_micros(165_061_120));
    assert!(errors[0].1.contains("timed out after 5 retransmits"));
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.phase1_state(), SaState::Down);
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.stats().retransmitted, 5);
    // The cloud answered every copy from its cache with the same reply and
    // holds one half-open SA, cleared later.
    let cloud = &sim.nodes[CLOUD_NODE];
    assert_eq!(cloud.sent.len(), 6);
    assert!(cloud.sent.iter().all(|s| s.3 == cloud.sent[0].3));
    assert_eq!(cloud.peer.stats().duplicates_answered, 5);
    assert_eq!(cloud.peer.phase1_state(), SaState::Down);
}

#[test]
fn retransmission_schedule_is_configurable() {
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            retransmit: crate::config::RetransmitConfig {
                base: secs(1),
                factor_per_mille: 2_000,
                tries: 2,
            },
            ..customer_config()
        },
    );
    sim.cut[CLOUD_NODE] = true;
    sim.start(secs(60));
    let times: Vec<Duration> = sim.nodes[CUSTOMER_NODE].sent.iter().map(|s| s.0).collect();
    assert_eq!(times, vec![secs(0), secs(1), secs(3)]);
    assert_eq!(sim.errors(CUSTOMER_NODE).len(), 1);
}

#[test]
fn a_lost_reply_is_recovered_from_the_cache() {
    // Lose the cloud's message 6 once: the customer resends message 5 and
    // the cloud answers from its cache without a second Phase1Up.
    let mut sim = Sim::pair();
    let mut out = Vec::new();
    sim.nodes[CUSTOMER_NODE].peer.start(&mut out);
    sim.apply(CUSTOMER_NODE, out);
    sim.drain();
    // The handshake ran; now replay: feed the customer's message 5 again.
    let msg5 = sim.nodes[CUSTOMER_NODE].sent[2].clone();
    let before = sim.nodes[CLOUD_NODE].sent.len();
    sim.input(
        CLOUD_NODE,
        Input::Datagram {
            from: msg5.1,
            to: msg5.2,
            bytes: msg5.3,
        },
    );
    let cloud = &sim.nodes[CLOUD_NODE];
    assert_eq!(cloud.sent.len(), before + 1);
    assert_eq!(
        cloud.sent[before].3, cloud.sent[2].3,
        "the cached message 6"
    );
    assert_eq!(cloud.peer.stats().duplicates_answered, 1);
    assert_eq!(
        cloud
            .events
            .iter()
            .filter(|(_, e)| matches!(e, crate::peer::Event::Phase1Up { .. }))
            .count(),
        1
    );
    assert_eq!(sim.children_up(CLOUD_NODE).len(), 1);
}

#[test]
fn lost_quick_mode_message_3_is_recovered() {
    // Quick Mode message 3 is lost: the cloud resends message 2 after 4 s,
    // the customer answers from its cache and the cloud installs then.
    let mut sim = Sim::pair();
    let mut out = Vec::new();
    sim.nodes[CUSTOMER_NODE].peer.start(&mut out);
    sim.apply(CUSTOMER_NODE, out);
    // Run Main Mode and Quick Mode messages 1-2, then drop message 3.
    let mut delivered = 0;
    while delivered < 8 {
        sim.drain_one();
        delivered += 1;
    }
    sim.drop_in_flight();
    assert_eq!(sim.children_up(CUSTOMER_NODE).len(), 1);
    assert!(sim.children_up(CLOUD_NODE).is_empty());
    sim.run_until(secs(5));
    let up = sim.children_up(CLOUD_NODE);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].0, secs(4));
    assert_mirrored(&up[0].1, &sim.children_up(CUSTOMER_NODE)[0].1);
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.stats().duplicates_answered, 1);
}
