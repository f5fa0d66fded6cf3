//! Truncated, mutated and random datagrams never panic and never bring
//! anything up.

use super::*;
use crate::random::{Random, SeededRandom};
use proptest::prelude::*;

/// Every message of a full handshake with NAT-T, both directions.
fn transcript() -> Vec<(SocketAddr, SocketAddr, Bytes)> {
    // Other seeds than the targets': other cookies and keys.
    let mut sim = Sim::seeded(
        cloud_config(),
        PeerConfig {
            force_encapsulation: true,
            ..customer_config()
        },
        [11, 12],
    );
    sim.start(secs(30));
    sim.input(
        CUSTOMER_NODE,
        Input::Command(crate::peer::Command::RekeyPhase2),
    );
    sim.input(CUSTOMER_NODE, Input::Command(crate::peer::Command::Stop));
    let mut all: Vec<_> = sim
        .nodes
        .iter()
        .flat_map(|n| n.sent.iter().cloned())
        .collect();
    all.sort_by_key(|s| s.0);
    all.into_iter().map(|(_, f, t, b)| (f, t, b)).collect()
}

fn feed_everywhere(sim: &mut Sim, fresh: &mut Sim, from: SocketAddr, to: SocketAddr, bytes: Bytes) {
    for node in [CLOUD_NODE, CUSTOMER_NODE] {
        let mut out = Vec::new();
        sim.nodes[node].peer.handle(
            Input::Datagram {
                from,
                to,
                bytes: bytes.clone(),
            },
            &mut out,
        );
        let mut out = Vec::new();
        fresh.nodes[node].peer.handle(
            Input::Datagram {
                from,
                to,
                bytes: bytes.clone(),
            },
            &mut out,
        );
    }
}

#[test]
fn mutated_real_messages_never_panic() {
    let msgs = transcript();
    assert!(msgs.len() >= 12);
    let mut established = Sim::pair();
    established.start(secs(1));
    let mut fresh = Sim::pair();
    let mut rng = SeededRandom::new(99);
    for (from, to, bytes) in &msgs {
        for n in 0..bytes.len() {
            feed_everywhere(&mut established, &mut fresh, *from, *to, bytes.slice(..n));
        }
        for _ in 0..300 {
            let mut m = bytes.to_vec();
            let flips = 1 + rng.below_or_equal(3) as usize;
            for _ in 0..flips {
                let i = rng.below_or_equal(m.len() as u64 - 1) as usize;
                m[i] ^= 1 << rng.below_or_equal(7);
            }
            feed_everywhere(&mut established, &mut fresh, *from, *to, m.into());
        }
    }
    // Nothing a forger sent brought a second SA up or took one down.
    for n in [CLOUD_NODE, CUSTOMER_NODE] {
        assert_eq!(established.nodes[n].peer.established_ike_sas(), 1);
        assert_eq!(established.nodes[n].peer.child_spis().len(), 1);
        assert_eq!(fresh.nodes[n].peer.established_ike_sas(), 0);
        assert!(fresh.nodes[n].peer.child_spis().is_empty());
    }
}

proptest! {
    #[test]
    fn random_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), port in prop_oneof![Just(500u16), Just(4500u16)]) {
        let mut sim = Sim::pair();
        sim.start(Duration::ZERO);
        let to = SocketAddr::new(addr(CLOUD).ip(), port);
        let mut out = Vec::new();
        sim.nodes[CLOUD_NODE].peer.handle(Input::Datagram { from: addr(CUSTOMER), to, bytes: bytes.into() }, &mut out);
    }
}

#[test]
fn a_flood_of_first_messages_is_capped() {
    let msgs = transcript();
    let (from, to, first) = msgs
        .iter()
        .find(|m| m.2.len() > 28 && m.2[8..16] == [0; 8])
        .cloned()
        .unwrap();
    let mut sim = Sim::pair();
    for i in 0..200u64 {
        let mut m = first.to_vec();
        m[..8].copy_from_slice(&(0x1000 + i).to_be_bytes());
        sim.input(
            CLOUD_NODE,
            Input::Datagram {
                from,
                to,
                bytes: m.into(),
            },
        );
    }
    assert_eq!(
        sim.nodes[CLOUD_NODE].sent.len(),
        crate::peer::main_mode::MAX_HALF_OPEN
    );
    // Once they time out, a real initiator gets through.
    sim.run_until(secs(200));
    let mut out = Vec::new();
    sim.nodes[CUSTOMER_NODE].peer.start(&mut out);
    sim.apply(CUSTOMER_NODE, out);
    sim.run_until(secs(201));
    assert_eq!(sim.children_up(CLOUD_NODE).len(), 1);
}
