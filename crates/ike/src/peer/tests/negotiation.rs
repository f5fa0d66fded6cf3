//! Proposal choice, refusals, wrong keys, selectors.

use super::*;
use crate::config::Selector;
use crate::peer::{Event, SaState};
use crate::proposal::{Cipher, DhGroup, Integrity, Phase1Proposal, Phase2Proposal};
use crate::wire::{self, exchange, payload, Chain, Header};
use std::net::Ipv4Addr;

fn p1(cipher: Cipher, integrity: Integrity, group: DhGroup) -> Phase1Proposal {
    Phase1Proposal {
        cipher,
        integrity,
        group,
    }
}

fn phase1_chosen(sim: &Sim, node: usize) -> Option<Phase1Proposal> {
    sim.nodes[node].events.iter().find_map(|(_, e)| match e {
        Event::Phase1Up { proposal, .. } => Some(*proposal),
        _ => None,
    })
}

#[test]
fn responder_picks_by_its_own_order_not_the_initiators() {
    let strong = p1(Cipher::Aes256Cbc, Integrity::Sha256, DhGroup::Modp2048);
    let weak = p1(Cipher::Aes128Cbc, Integrity::Sha1, DhGroup::Modp1024);
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            phase1: vec![strong, weak],
            ..customer_config()
        },
    );
    sim.start(secs(1));
    assert_eq!(phase1_chosen(&sim, CLOUD_NODE), Some(weak));
    assert_eq!(phase1_chosen(&sim, CUSTOMER_NODE), Some(weak));
    // And a cloud configured strongest first takes the strong one.
    let mut sim = Sim::new(
        PeerConfig {
            phase1: vec![strong, weak],
            ..cloud_config()
        },
        PeerConfig {
            phase1: vec![weak, strong],
            ..customer_config()
        },
    );
    sim.start(secs(1));
    assert_eq!(phase1_chosen(&sim, CLOUD_NODE), Some(strong));
    assert_eq!(sim.children_up(CUSTOMER_NODE).len(), 1);
}

#[test]
fn phase1_mismatch_is_no_proposal_chosen() {
    let mut sim = Sim::new(
        PeerConfig {
            phase1: vec![p1(Cipher::Aes256Cbc, Integrity::Sha256, DhGroup::Modp2048)],
            ..cloud_config()
        },
        customer_config(),
    );
    sim.start(secs(1));
    let cloud_errors = sim.errors(CLOUD_NODE);
    assert_eq!(cloud_errors.len(), 1);
    assert!(
        cloud_errors[0].starts_with("No proposal match"),
        "{cloud_errors:?}"
    );
    let customer_errors = sim.errors(CUSTOMER_NODE);
    assert_eq!(
        customer_errors,
        vec!["No proposal match (the peer said NO-PROPOSAL-CHOSEN)"]
    );
    // The refusal is a plaintext Informational with notify 14.
    let refusal = &sim.nodes[CLOUD_NODE].sent[0].3;
    let (h, body) = wire::parse_header(refusal).unwrap();
    assert_eq!(h.exchange, exchange::INFORMATIONAL);
    let raws = wire::parse_chain(h.next_payload, body).unwrap();
    assert_eq!(wire::Notify::parse(raws[0].body).unwrap().kind, 14);
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.phase1_state(), SaState::Down);
    assert_eq!(
        sim.nodes[CUSTOMER_NODE].timers.len(),
        0,
        "no retransmission left"
    );
    assert_eq!(sim.nodes[CLOUD_NODE].peer.phase1_state(), SaState::Down);
}

#[test]
fn phase2_mismatch_is_no_proposal_chosen_under_the_ike_sa() {
    let mut sim = Sim::new(
        PeerConfig {
            phase2: vec![Phase2Proposal {
                cipher: Cipher::Aes256Cbc,
                integrity: Integrity::Sha256,
                pfs: Some(DhGroup::Modp2048),
            }],
            ..cloud_config()
        },
        customer_config(),
    );
    sim.start(secs(1));
    assert!(sim.errors(CLOUD_NODE)[0].starts_with("No proposal match: phase 2"));
    assert_eq!(
        sim.errors(CUSTOMER_NODE),
        vec!["No proposal match (the peer said NO-PROPOSAL-CHOSEN)"]
    );
    assert!(sim.children_up(CLOUD_NODE).is_empty());
    assert_eq!(
        sim.nodes[CLOUD_NODE].peer.phase1_state(),
        SaState::Established
    );
    assert_eq!(sim.nodes[CUSTOMER_NODE].peer.phase2_state(), SaState::Down);
}

/// A hand-made first message offering only 3DES (RFC 2409 App. A value 5).
fn triple_des_message1() -> Bytes {
    let mut sa = crate::peer::transforms::phase1_sa(
        &[p1(Cipher::Aes128Cbc, Integrity::Sha1, DhGroup::Modp1024)],
        secs(28_800),
    );
    sa.proposals[0].transforms[0].attributes[0].value = 5;
    let mut chain = Chain::default();
    chain.push(payload::SA, sa.encode());
    wire::encode_plain(
        Header {
            icookie: 0x1122_3344_5566_7788,
            rcookie: 0,
            next_payload: 0,
            exchange: exchange::IDENTITY_PROTECTION,
            flags: 0,
            message_id: 0,
        },
        &chain,
    )
}

#[test]
fn triple_des_is_refused() {
    let mut sim = Sim::pair();
    sim.input(
        CLOUD_NODE,
        Input::Datagram {
            from: addr(CUSTOMER),
            to: addr(CLOUD),
            bytes: triple_des_message1(),
        },
    );
    assert_eq!(sim.errors(CLOUD_NODE).len(), 1);
    assert!(sim.errors(CLOUD_NODE)[0].contains("unsupported"));
    assert_eq!(sim.nodes[CLOUD_NODE].sent.len(), 1);
    assert_eq!(sim.nodes[CLOUD_NODE].peer.phase1_state(), SaState::Down);
}

#[test]
fn aggressive_mode_is_refused() {
    let mut sim = Sim::pair();
    let mut m = triple_des_message1().to_vec();
    m[18] = exchange::AGGRESSIVE;
    sim.input(
        CLOUD_NODE,
        Input::Datagram {
            from: addr(CUSTOMER),
            to: addr(CLOUD),
            bytes: m.into(),
        },
    );
    assert_eq!(
        sim.errors(CLOUD_NODE),
        vec!["No proposal match: Aggressive Mode refused, Main Mode only"]
    );
    let (h, body) = wire::parse_header(&sim.nodes[CLOUD_NODE].sent[0].3).unwrap();
    let raws = wire::parse_chain(h.next_payload, body).unwrap();
    assert_eq!(wire::Notify::parse(raws[0].body).unwrap().kind, 14);
}

#[test]
fn wrong_psk_fails_at_message_5_and_names_it() {
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            psk: Psk::new("not the right key"),
            ..customer_config()
        },
    );
    sim.start(secs(1));
    let cloud = sim.errors(CLOUD_NODE);
    assert_eq!(cloud.len(), 1);
    assert!(
        cloud[0].starts_with("authentication failed: pre-shared key mismatch?"),
        "{cloud:?}"
    );
    assert!(cloud[0].contains("message 5"));
    let customer = sim.errors(CUSTOMER_NODE);
    assert_eq!(customer.len(), 1);
    assert!(
        customer[0].contains("pre-shared key mismatch?"),
        "{customer:?}"
    );
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert!(sim.children_up(n).is_empty());
        assert_eq!(sim.nodes[n].peer.phase1_state(), SaState::Down);
        assert!(!sim.nodes[n]
            .events
            .iter()
            .any(|(_, e)| matches!(e, Event::Phase1Up { .. })));
    }
}

#[test]
fn narrower_selectors_are_accepted_and_echoed() {
    let customer_net = Selector::new(Ipv4Addr::new(10, 20, 0, 0), 16);
    let vpc = Selector::new(Ipv4Addr::new(172, 31, 0, 0), 16);
    let mut sim = Sim::new(
        cloud_config(),
        PeerConfig {
            local_ts: customer_net,
            remote_ts: vpc,
            ..customer_config()
        },
    );
    sim.start(secs(1));
    let c = &sim.children_up(CLOUD_NODE)[0].1;
    let g = &sim.children_up(CUSTOMER_NODE)[0].1;
    assert_mirrored(c, g);
    assert_eq!((c.local_ts, c.remote_ts), (vpc, customer_net));
    assert_eq!((g.local_ts, g.remote_ts), (customer_net, vpc));
}

#[test]
fn selectors_outside_ours_are_refused() {
    let mut sim = Sim::new(
        PeerConfig {
            remote_ts: Selector::new(Ipv4Addr::new(10, 0, 0, 0), 8),
            ..cloud_config()
        },
        PeerConfig {
            local_ts: Selector::new(Ipv4Addr::new(192, 168, 0, 0), 16),
            ..customer_config()
        },
    );
    sim.start(secs(1));
    assert!(sim.errors(CLOUD_NODE)[0].starts_with("TS_UNACCEPTABLE"));
    assert_eq!(
        sim.errors(CUSTOMER_NODE),
        vec!["TS_UNACCEPTABLE (the peer said INVALID-ID-INFORMATION)"]
    );
    assert!(sim.children_up(CLOUD_NODE).is_empty());
}

#[test]
fn exact_selectors_only_when_narrowing_is_off() {
    let mut sim = Sim::new(
        PeerConfig {
            accept_narrower_selectors: false,
            ..cloud_config()
        },
        PeerConfig {
            local_ts: Selector::new(Ipv4Addr::new(10, 20, 0, 0), 16),
            ..customer_config()
        },
    );
    sim.start(secs(1));
    assert!(sim.errors(CLOUD_NODE)[0].starts_with("TS_UNACCEPTABLE"));
}
