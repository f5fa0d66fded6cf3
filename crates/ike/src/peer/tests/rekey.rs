//! Rekeying at lifetime − margin − fuzz, old SAs kept until the new ones
//! stand.

use super::*;
use crate::config::RekeyConfig;
use crate::peer::{Command, Event, SaState};

fn no_rekey() -> RekeyConfig {
    RekeyConfig {
        enabled: false,
        ..RekeyConfig::default()
    }
}

fn no_fuzz() -> RekeyConfig {
    RekeyConfig {
        fuzz_percent: 0,
        ..RekeyConfig::default()
    }
}

#[test]
fn child_rekey_at_lifetime_minus_margin_old_kept_until_new_up() {
    let mut sim = Sim::new(
        PeerConfig {
            rekey: no_rekey(),
            ..cloud_config()
        },
        PeerConfig {
            rekey: no_fuzz(),
            ..customer_config()
        },
    );
    sim.start(Duration::ZERO);
    let old = sim.children_up(CUSTOMER_NODE)[0].1.clone();
    // Lose the cloud's answers around the rekey instant (3 600 − 270 s).
    sim.run_until(secs(3_329));
    sim.cut[CLOUD_NODE] = true;
    sim.run_until(secs(3_332));
    // The rekey started at 3 330 s and is stuck: the old SA still carries
    // traffic on both sides.
    assert_eq!(
        sim.nodes[CUSTOMER_NODE].peer.phase2_state(),
        SaState::Rekeying
    );
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.child_spis(), vec![old.spi_in]);
    assert!(sim.nodes[CLOUD_NODE]
        .peer
        .child_spis()
        .contains(&old.spi_out));
    sim.cut[CLOUD_NODE] = false;
    sim.run_until(secs(3_338));
    let ups = sim.children_up(CUSTOMER_NODE);
    assert_eq!(ups.len(), 2);
    // Quick Mode message 1 retransmitted 4 s after the rekey began.
    assert_eq!(ups[1].0, secs(3_334));
    assert_eq!(ups[1].1.replaces, Some(old.spi_in));
    assert_mirrored(&ups[1].1, &sim.children_up(CLOUD_NODE)[1].1);
    // Both pairs work while the peer installs the new one; then, and not
    // before, the old one goes, on both sides: our DELETE 5 s later.
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.child_spis().len(), 2);
    sim.run_until(secs(3_400));
    for (n, spi) in [(CUSTOMER_NODE, old.spi_in), (CLOUD_NODE, old.spi_out)] {
        let deleted: Vec<_> = sim.nodes[n]
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::ChildSaDeleted { spi_in, .. } => Some((*t, *spi_in)),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, vec![(secs(3_339), spi)]);
        assert_eq!(sim.nodes[n].peer.child_spis().len(), 1);
        assert_eq!(sim.nodes[n].peer.phase2_state(), SaState::Established);
    }
}

fn child_rekey_instants(seed_cloud: u64) -> Vec<Duration> {
    // The cloud rekeys (fuzz 100 %), the customer does not.
    let mut sim = Sim::seeded(
        cloud_config(),
        PeerConfig {
            rekey: no_rekey(),
            ..customer_config()
        },
        [seed_cloud, 2],
    );
    sim.start(secs(7_200));
    sim.children_up(CLOUD_NODE).iter().map(|c| c.0).collect()
}

#[test]
fn cloud_rekeys_inside_the_fuzzed_margin_reproducibly() {
    let a = child_rekey_instants(7);
    assert_eq!(a, child_rekey_instants(7), "same seed, same instants");
    assert_ne!(a, child_rekey_instants(8));
    assert!(a.len() >= 3, "{a:?}");
    assert_eq!(a[0], Duration::ZERO);
    // lifetime − margin − random(0..=margin): 3 060 s ..= 3 330 s apart.
    for w in a.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= secs(3_060) && gap <= secs(3_330), "{gap:?}");
    }
}

#[test]
fn phase1_rekey_replaces_the_ike_sa_and_keeps_children() {
    let mut sim = Sim::pair();
    sim.start(secs(100));
    let spis = sim.nodes[CUSTOMER_NODE].peer.child_spis();
    sim.input(CUSTOMER_NODE, Input::Command(Command::RekeyPhase1));
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        let node = &sim.nodes[n];
        assert_eq!(
            node.events
                .iter()
                .filter(|(_, e)| matches!(e, Event::Phase1Up { .. }))
                .count(),
            2
        );
        assert_eq!(
            node.events
                .iter()
                .filter(|(_, e)| matches!(e, Event::Phase1Down { .. }))
                .count(),
            1
        );
        assert_eq!(node.peer.established_ike_sas(), 1);
        assert_eq!(node.peer.phase1_state(), SaState::Established);
    }
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.child_spis(), spis);
    // Quick Mode still works under the new IKE SA.
    sim.input(CUSTOMER_NODE, Input::Command(Command::RekeyPhase2));
    let ups = sim.children_up(CUSTOMER_NODE);
    assert_eq!(ups.len(), 2);
    assert_mirrored(&ups[1].1, &sim.children_up(CLOUD_NODE)[1].1);
    // The replaced pair is retired 5 s later.
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.child_spis().len(), 2);
    sim.run_until(secs(106));
    assert_eq!(
        sim.nodes[CUSTOMER_NODE].peer.child_spis(),
        vec![ups[1].1.spi_in]
    );
}

#[test]
fn cloud_starts_the_phase1_rekey_as_former_responder() {
    let mut sim = Sim::new(
        PeerConfig {
            rekey: no_fuzz(),
            ..cloud_config()
        },
        PeerConfig {
            rekey: no_rekey(),
            ..customer_config()
        },
    );
    sim.start(secs(28_531));
    let cloud = &sim.nodes[CLOUD_NODE];
    let ups: Vec<(Duration, crate::peer::Role)> = cloud
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Phase1Up { role, .. } => Some((*t, *role)),
            _ => None,
        })
        .collect();
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[1], (secs(28_800 - 270), crate::peer::Role::Initiator));
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert_eq!(sim.nodes[n].peer.established_ike_sas(), 1);
        assert!(!sim.nodes[n].peer.child_spis().is_empty());
    }
}
