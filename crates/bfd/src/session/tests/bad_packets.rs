//! Bad packets through the session table: each dropped and counted with
//! its reason, no panic, no state change anywhere (RFC 5880 §6.8.6,
//! RFC 5881 §3, §5).

use super::{exact, peer_up};
use crate::demux::{SessionTable, TableError};
use crate::packet::{Authentication, ControlPacket, State};
use crate::session::{DropReason, Input, Output, SessionView, SINGLE_HOP_TTL};
use bytes::Bytes;

/// Two sessions Up: "a" (discriminator 7, peer 0xbeef) and "b"
/// (discriminator 8, peer 0xcafe).
fn two_up() -> SessionTable<&'static str> {
    let mut table = SessionTable::new();
    table.insert("a", exact(7), 1).unwrap();
    table.insert("b", exact(8), 2).unwrap();
    let mut out = Vec::new();
    for (key, ours, theirs) in [("a", 7, 0xbeef), ("b", 8, 0xcafe)] {
        table.handle(&key, Input::Start, &mut out);
        let down = ControlPacket {
            state: State::Down,
            my_discriminator: theirs,
            your_discriminator: 0,
            ..peer_up()
        };
        let up = ControlPacket {
            my_discriminator: theirs,
            your_discriminator: ours,
            ..peer_up()
        };
        for p in [down, up] {
            table
                .receive(&key, &p.to_bytes().unwrap(), SINGLE_HOP_TTL, &mut out)
                .unwrap();
        }
        assert_eq!(table.get(&key).unwrap().state(), State::Up);
    }
    table
}

fn bytes(p: ControlPacket) -> Vec<u8> {
    p.to_bytes().unwrap().to_vec()
}

fn patched(index: usize, value: u8) -> Vec<u8> {
    let mut b = bytes(peer_up());
    b[index] = value;
    b
}

struct Case {
    name: &'static str,
    from: &'static str,
    payload: Vec<u8>,
    ttl: u8,
    reason: DropReason,
}

fn cases() -> Vec<Case> {
    let case = |name, payload, reason| Case {
        name,
        from: "a",
        payload,
        ttl: SINGLE_HOP_TTL,
        reason,
    };
    let mut your_zero = bytes(peer_up());
    your_zero[8..12].copy_from_slice(&[0; 4]);
    let mut my_zero = bytes(peer_up());
    my_zero[4..8].copy_from_slice(&[0; 4]);
    let mut bad_auth = bytes(peer_up());
    bad_auth[1] |= 0x04;
    bad_auth[3] = 28;
    bad_auth.extend_from_slice(&[2, 4, 0, 0]);
    vec![
        case("version 0", patched(0, 0x00), DropReason::BadVersion),
        case("version 3", patched(0, 0x60), DropReason::BadVersion),
        case(
            "10 octets",
            bytes(peer_up())[..10].to_vec(),
            DropReason::ShortLength,
        ),
        case("length 20", patched(3, 20), DropReason::ShortLength),
        case(
            "length 60",
            patched(3, 60),
            DropReason::LengthExceedsPayload,
        ),
        case("multiplier 0", patched(2, 0), DropReason::ZeroMultiplier),
        case("multipoint", patched(1, 0xc1), DropReason::Multipoint),
        case(
            "my discriminator 0",
            my_zero,
            DropReason::ZeroMyDiscriminator,
        ),
        case(
            "your discriminator 0 while Up",
            your_zero,
            DropReason::ZeroYourDiscriminator,
        ),
        case(
            "malformed authentication",
            bad_auth,
            DropReason::BadAuthentication,
        ),
        case(
            "authentication not in use",
            bytes(ControlPacket {
                authentication: Some(Authentication::SimplePassword {
                    key_id: 1,
                    password: Bytes::from_static(b"pw"),
                }),
                ..peer_up()
            }),
            DropReason::UnexpectedAuthentication,
        ),
        Case {
            ttl: 254,
            ..case("TTL 254", bytes(peer_up()), DropReason::LowTtl)
        },
        Case {
            ttl: 1,
            ..case("TTL 1", bytes(peer_up()), DropReason::LowTtl)
        },
        case(
            "unknown discriminator",
            bytes(ControlPacket {
                your_discriminator: 99,
                ..peer_up()
            }),
            DropReason::UnknownDiscriminator,
        ),
        case(
            "b's discriminator from a's peer",
            bytes(ControlPacket {
                your_discriminator: 8,
                ..peer_up()
            }),
            DropReason::PeerMismatch,
        ),
    ]
}

fn snapshot(table: &SessionTable<&'static str>, key: &str) -> SessionView {
    table.get(&key).unwrap().view()
}

#[test]
fn each_bad_packet_is_dropped_and_counted_with_its_reason() {
    for case in cases() {
        let mut table = two_up();
        let before_a = snapshot(&table, "a");
        let before_b = snapshot(&table, "b");
        let mut out = Vec::new();
        let result = table.receive(&case.from, &case.payload, case.ttl, &mut out);
        let name = case.name;
        // The only output is the drop itself: nothing sent, no timer moved.
        assert_eq!(out, [Output::Dropped(case.reason)], "{name}");
        if !matches!(
            case.reason,
            DropReason::LowTtl | DropReason::UnexpectedAuthentication
        ) {
            assert_eq!(result, Err(case.reason), "{name}");
        }
        let after_a = snapshot(&table, "a");
        assert_eq!(after_a.counters.dropped.get(case.reason), 1, "{name}");
        assert_eq!(after_a.counters.dropped_total, 1, "{name}");
        assert_eq!(after_a.counters.received, before_a.counters.received);
        // Nothing else of "a" moved, and "b" is untouched.
        assert_eq!(
            SessionView {
                counters: before_a.counters.clone(),
                ..after_a
            },
            before_a,
            "{name}"
        );
        assert_eq!(snapshot(&table, "b"), before_b, "{name}");
    }
}

#[test]
fn a_packet_from_an_unknown_peer_touches_no_session() {
    let mut table = two_up();
    let before = [snapshot(&table, "a"), snapshot(&table, "b")];
    let mut out = Vec::new();
    let down = ControlPacket {
        state: State::Down,
        your_discriminator: 0,
        ..peer_up()
    };
    let result = table.receive(&"c", &bytes(down), SINGLE_HOP_TTL, &mut out);
    assert_eq!(result, Err(DropReason::UnknownPeer));
    let junk = table.receive(&"c", &[0xff; 3], SINGLE_HOP_TTL, &mut out);
    assert_eq!(junk, Err(DropReason::BadVersion));
    assert!(out.is_empty());
    assert_eq!(table.unattributed_drops().unknown_peer, 1);
    assert_eq!(table.unattributed_drops().bad_version, 1);
    assert_eq!([snapshot(&table, "a"), snapshot(&table, "b")], before);
}

#[test]
fn a_down_session_still_drops_zero_your_discriminator_only_from_init_or_up() {
    let mut table = SessionTable::new();
    table.insert("a", exact(7), 1).unwrap();
    let mut out = Vec::new();
    table.handle(&"a", Input::Start, &mut out);
    let down = ControlPacket {
        state: State::Down,
        your_discriminator: 0,
        ..peer_up()
    };
    assert_eq!(table.receive(&"a", &bytes(down), 255, &mut out), Ok(()));
    assert_eq!(table.get(&"a").unwrap().state(), State::Init);
}

#[test]
fn packets_before_start_are_counted_not_acted_on() {
    let mut table = SessionTable::new();
    table.insert("a", exact(7), 1).unwrap();
    let mut out = Vec::new();
    let down = ControlPacket {
        state: State::Down,
        your_discriminator: 0,
        ..peer_up()
    };
    table.receive(&"a", &bytes(down), 255, &mut out).unwrap();
    assert_eq!(out, [Output::Dropped(DropReason::NotStarted)]);
    assert_eq!(table.get(&"a").unwrap().state(), State::Down);
}

#[test]
fn discriminators_and_peers_are_unique() {
    let mut table = SessionTable::new();
    let d = table.allocate_discriminator();
    table.insert("a", exact(d), 1).unwrap();
    let fresh = table.allocate_discriminator();
    assert_eq!(
        table.insert("a", exact(fresh), 1),
        Err(TableError::DuplicatePeer)
    );
    assert_eq!(
        table.insert("b", exact(d), 1),
        Err(TableError::DuplicateDiscriminator(d))
    );
    let e = table.allocate_discriminator();
    assert_ne!(e, d);
    table.insert("b", exact(e), 1).unwrap();
    assert_eq!(table.len(), 2);
    let removed = table.remove(&"a").unwrap();
    assert_eq!(removed.local_discriminator(), d);
    table.insert("c", exact(d), 1).unwrap();
    assert!(table.handle(&"c", Input::Start, &mut Vec::new()));
    assert!(!table.handle(&"a", Input::Start, &mut Vec::new()));
}

#[test]
fn the_session_alone_counts_what_it_cannot_decode() {
    let mut session = crate::Session::new(exact(7), 0).unwrap();
    let mut out = Vec::new();
    session.handle(Input::Start, &mut out);
    out.clear();
    session.receive_datagram(&[0x20, 0xc0], SINGLE_HOP_TTL, &mut out);
    assert_eq!(out, [Output::Dropped(DropReason::ShortLength)]);
    assert_eq!(session.stats().dropped.short_length, 1);
}
