//! Main Mode + Quick Mode between the two roles, end to end.

use super::*;
use crate::peer::{Event, Role, SaState, NAT_T_PORT};
use crate::proposal::{Cipher, DhGroup, Integrity};

#[test]
fn main_mode_and_quick_mode_give_mirrored_keys() {
    let mut sim = Sim::pair();
    sim.start(secs(1));
    let cloud = sim.children_up(CLOUD_NODE);
    let customer = sim.children_up(CUSTOMER_NODE);
    assert_eq!(cloud.len(), 1, "cloud events: {:?}", sim.nodes[0].events);
    assert_eq!(customer.len(), 1);
    let (c, g) = (&cloud[0].1, &customer[0].1);
    assert_mirrored(c, g);
    assert_eq!(c.proposal.cipher, Cipher::Aes128Cbc);
    assert_eq!(c.proposal.integrity, Integrity::Sha1);
    assert_eq!(c.proposal.pfs, Some(DhGroup::Modp1024));
    assert_eq!(c.enc_key_in.as_bytes().len(), 16);
    assert_eq!(c.integ_key_in.as_bytes().len(), 20);
    assert_eq!(c.lifetime, secs(3_600));
    assert!(!c.udp_encapsulation);
    // Six Main Mode messages and three Quick Mode messages.
    assert_eq!(sim.nodes[CUSTOMER_NODE].sent.len(), 3 + 2);
    assert_eq!(sim.nodes[CLOUD_NODE].sent.len(), 3 + 1);
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert_eq!(sim.nodes[n].peer.phase1_state(), SaState::Established);
        assert_eq!(sim.nodes[n].peer.phase2_state(), SaState::Established);
        assert!(sim.errors(n).is_empty(), "{:?}", sim.errors(n));
    }
    let up = sim.nodes[CLOUD_NODE]
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Phase1Up {
                role,
                lifetime,
                nat,
                ..
            } => Some((*role, *lifetime, *nat)),
            _ => None,
        })
        .unwrap();
    assert_eq!(up.0, Role::Responder);
    assert_eq!(up.1, secs(28_800));
    assert!(up.2.supported && !up.2.local_behind_nat && !up.2.remote_behind_nat);
}

#[test]
fn cloud_never_sends_first() {
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            startup: crate::config::StartupAction::Add,
            ..customer_config()
        },
    );
    sim.start(secs(600));
    assert!(sim.nodes[CLOUD_NODE].sent.is_empty());
    assert!(sim.nodes[CUSTOMER_NODE].sent.is_empty());
}

#[test]
fn forced_encapsulation_floats_to_4500_and_the_responder_follows() {
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            force_encapsulation: true,
            ..customer_config()
        },
    );
    sim.start(secs(1));
    let sent = &sim.nodes[CUSTOMER_NODE].sent;
    // Messages 1 and 3 on 500, message 5 and Quick Mode on 4500 with the
    // non-ESP marker.
    assert_eq!(sent[0].1.port(), 500);
    assert_eq!(sent[1].1.port(), 500);
    assert_eq!(sent[2].1.port(), NAT_T_PORT);
    assert_eq!(sent[2].2.port(), NAT_T_PORT);
    assert_eq!(&sent[2].3[..4], &[0, 0, 0, 0]);
    let cloud_sent = &sim.nodes[CLOUD_NODE].sent;
    assert_eq!(cloud_sent[2].1.port(), NAT_T_PORT, "message 6 from 4500");
    assert_eq!(cloud_sent[2].2.port(), NAT_T_PORT);
    let (c, g) = (
        &sim.children_up(CLOUD_NODE)[0].1,
        &sim.children_up(CUSTOMER_NODE)[0].1,
    );
    assert_mirrored(c, g);
    assert!(c.udp_encapsulation);
    assert_eq!(c.remote.port(), NAT_T_PORT);
    let nat = sim.nodes[CLOUD_NODE]
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Phase1Up { nat, .. } => Some(*nat),
            _ => None,
        })
        .unwrap();
    // The fake NAT-D makes the cloud see the customer behind a NAT.
    assert!(nat.remote_behind_nat && !nat.local_behind_nat);
}

#[test]
fn aes256_sha256_modp2048_both_phases() {
    let strong1 = crate::proposal::Phase1Proposal {
        cipher: Cipher::Aes256Cbc,
        integrity: Integrity::Sha256,
        group: DhGroup::Modp2048,
    };
    let strong2 = crate::proposal::Phase2Proposal {
        cipher: Cipher::Aes256Cbc,
        integrity: Integrity::Sha256,
        pfs: Some(DhGroup::Modp2048),
    };
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            phase1: vec![strong1],
            phase2: vec![strong2],
            ..customer_config()
        },
    );
    sim.start(secs(1));
    let (c, g) = (
        &sim.children_up(CLOUD_NODE)[0].1,
        &sim.children_up(CUSTOMER_NODE)[0].1,
    );
    assert_mirrored(c, g);
    assert_eq!(c.proposal, strong2);
    assert_eq!(c.enc_key_in.as_bytes().len(), 32);
    assert_eq!(c.integ_key_in.as_bytes().len(), 32);
}

#[test]
fn stop_deletes_on_both_sides() {
    let mut sim = Sim::pair();
    sim.start(secs(1));
    sim.input(CUSTOMER_NODE, Input::Command(crate::peer::Command::Stop));
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert!(sim.nodes[n]
            .events
            .iter()
            .any(|(_, e)| matches!(e, Event::ChildSaDeleted { .. })));
        assert!(sim.nodes[n]
            .events
            .iter()
            .any(|(_, e)| matches!(e, Event::Phase1Down { .. })));
        assert_eq!(sim.nodes[n].peer.phase1_state(), SaState::Down);
        assert_eq!(sim.nodes[n].peer.phase2_state(), SaState::Down);
    }
}
