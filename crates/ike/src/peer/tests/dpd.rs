//! Dead peer detection (RFC 3706) in virtual time.

use super::*;
use crate::config::{DpdAction, DpdConfig};
use crate::peer::{Event, SaState};

fn dead_at(sim: &Sim, node: usize) -> Vec<Duration> {
    sim.nodes[node]
        .events
        .iter()
        .filter_map(|(t, e)| matches!(e, Event::PeerDead { .. }).then_some(*t))
        .collect()
}

#[test]
fn silent_peer_is_declared_dead_exactly_at_the_timeout() {
    let mut sim = Sim::pair();
    sim.start(Duration::ZERO);
    assert_eq!(sim.children_up(CLOUD_NODE).len(), 1);
    // The customer gateway goes silent right after the handshake (t = 0).
    sim.cut[CUSTOMER_NODE] = true;
    sim.run_until(secs(100));
    assert_eq!(dead_at(&sim, CLOUD_NODE), vec![secs(40)]);
    // Probes at 10, 20 and 30 s of silence, then nothing more.
    let probes: Vec<Duration> = sim.nodes[CLOUD_NODE]
        .sent
        .iter()
        .skip(4)
        .map(|s| s.0)
        .collect();
    assert_eq!(probes, vec![secs(10), secs(20), secs(30)]);
    let reason = sim.nodes[CLOUD_NODE]
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::PeerDead { reason } => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(reason.starts_with("Peer is not responsive - declaring peer dead"));
    assert!(reason.contains("after 3 retransmits"));
    // Action clear: the SAs go, the tunnel is down and stays down.
    let cloud = &sim.nodes[CLOUD_NODE];
    assert!(cloud
        .events
        .iter()
        .any(|(t, e)| *t == secs(40) && matches!(e, Event::ChildSaDeleted { .. })));
    assert_eq!(cloud.peer.phase1_state(), SaState::Down);
    assert_eq!(cloud.peer.phase2_state(), SaState::Down);
    assert!(cloud.timers.is_empty(), "{:?}", cloud.timers);
}

#[test]
fn answered_probes_keep_the_tunnel_up() {
    let mut sim = Sim::pair();
    sim.start(secs(600));
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert!(dead_at(&sim, n).is_empty());
        assert_eq!(sim.nodes[n].peer.phase2_state(), SaState::Established);
    }
    // One side probes every 10 s of idleness; the other hears it and
    // needs no probe of its own.
    assert_eq!(sim.nodes[CLOUD_NODE].peer.stats().dpd_probes, 60);
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.stats().dpd_probes, 0);
}

#[test]
fn traffic_counts_as_life() {
    let mut sim = Sim::pair();
    sim.start(Duration::ZERO);
    sim.cut[CUSTOMER_NODE] = true;
    // ESP keeps arriving every 5 s for a minute: no probe, no death.
    for k in 1..=12 {
        sim.run_until(secs(5 * k));
        sim.input(CLOUD_NODE, Input::PeerActivity);
    }
    assert_eq!(sim.nodes[CLOUD_NODE].peer.stats().dpd_probes, 0);
    sim.run_until(secs(200));
    assert_eq!(dead_at(&sim, CLOUD_NODE), vec![secs(100)]);
}

#[test]
fn timeout_is_configurable() {
    let mut sim = Sim::new(
        PeerConfig {
            dpd: DpdConfig {
                timeout: secs(30),
                ..DpdConfig::default()
            },
            ..cloud_config()
        },
        customer_config(),
    );
    sim.start(Duration::ZERO);
    sim.cut[CUSTOMER_NODE] = true;
    sim.run_until(secs(100));
    assert_eq!(dead_at(&sim, CLOUD_NODE), vec![secs(30)]);
}

#[test]
fn restart_initiates_again_and_initial_contact_clears_the_old_sas() {
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            dpd: DpdConfig {
                action: DpdAction::Restart,
                ..DpdConfig::default()
            },
            ..customer_config()
        },
    );
    sim.start(Duration::ZERO);
    let first = sim.children_up(CUSTOMER_NODE)[0].1.spi_in;
    sim.cut[CLOUD_NODE] = true;
    sim.run_until(secs(45));
    assert_eq!(dead_at(&sim, CUSTOMER_NODE), vec![secs(40)]);
    sim.cut[CLOUD_NODE] = false;
    sim.run_until(secs(100));
    // Message 1 went at 40 s (lost answers), again at 44 s (lost), and at
    // 51.2 s it gets through.
    let ups = sim.children_up(CUSTOMER_NODE);
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[1].0, ms(51_200));
    assert_ne!(ups[1].1.spi_in, first);
    let cloud_ups = sim.children_up(CLOUD_NODE);
    assert_eq!(cloud_ups.len(), 2);
    assert_mirrored(&cloud_ups[1].1, &ups[1].1);
    // INITIAL-CONTACT made the cloud drop the old SAs.
    assert!(sim.nodes[CLOUD_NODE].events.iter().any(|(_, e)| matches!(
        e,
        Event::ChildSaDeleted { reason, .. } if reason.contains("INITIAL-CONTACT")
    )));
    assert_eq!(sim.nodes[CLOUD_NODE].peer.established_ike_sas(), 1);
    assert_eq!(
        sim.nodes[CLOUD_NODE].peer.child_spis(),
        vec![cloud_ups[1].1.spi_in]
    );
}
