//! Any sequence of inputs, sensible or not: the session never panics and
//! keeps the promises the router and the runtime rely on.

use super::{config, wire};
use crate::packet::{Family, Message};
use crate::session::{ConnId, Session, SessionInput, SessionOutput, State, TimerKind};
use bytes::Bytes;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn peer_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![0u16, 3, 90]).prop_map(|h| wire::peer_open(
            65002,
            h,
            [10, 0, 0, 2]
        )),
        Just(wire::peer_open(65002, 90, [10, 0, 0, 9])),
        Just(wire::peer_open(65009, 90, [10, 0, 0, 2])),
        Just(wire::keepalive()),
        Just(wire::empty_update()),
        Just(wire::notification(6, 7, &[])),
        Just(wire::message(5, &[0, 1, 0, 1])),
        prop::collection::vec(any::<u8>(), 0..64),
        // A valid message cut short: the rest may come in a later input.
        (Just(wire::peer_open(65002, 90, [10, 0, 0, 2])), 1usize..40)
            .prop_map(|(m, cut)| m[..cut.min(m.len())].to_vec()),
    ]
}

fn timer() -> impl Strategy<Value = TimerKind> {
    prop::sample::select(vec![
        TimerKind::ConnectRetry,
        TimerKind::Hold,
        TimerKind::Keepalive,
        TimerKind::IdleHold,
        TimerKind::PrefixRestart,
    ])
}

fn input() -> impl Strategy<Value = SessionInput> {
    let conn = 1u64..5;
    prop_oneof![
        1 => Just(SessionInput::Start),
        1 => (1u8..9).prop_map(|subcode| SessionInput::Stop { subcode }),
        3 => (conn.clone(), any::<bool>()).prop_map(|(conn, outbound)| SessionInput::Connected {
            conn,
            outbound,
            local: IpAddr::V4(Ipv4Addr::LOCALHOST),
            remote: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }),
        1 => Just(SessionInput::ConnectFailed),
        1 => conn.clone().prop_map(|conn| SessionInput::Closed { conn }),
        6 => (conn, peer_bytes()).prop_map(|(conn, data)| SessionInput::Received {
            conn,
            data: Bytes::from(data),
        }),
        3 => timer().prop_map(SessionInput::TimerExpired),
        1 => Just(SessionInput::Send(Message::Keepalive)),
        1 => Just(SessionInput::Send(Message::Update(Default::default()))),
        1 => (any::<u32>(), prop::option::of(0u64..100)).prop_map(|(limit, after)| {
            SessionInput::PrefixLimitExceeded {
                family: Family::IPV4_UNICAST,
                limit,
                restart_after: after.map(Duration::from_secs),
            }
        }),
    ]
}

/// A single input, or a whole handshake on one connection so that
/// Established, and everything after it, is reached often.
fn step() -> impl Strategy<Value = Vec<SessionInput>> {
    prop_oneof![
        3 => input().prop_map(|i| vec![i]),
        1 => (1u64..5, any::<bool>()).prop_map(|(conn, outbound)| {
            let received = |data: Vec<u8>| SessionInput::Received {
                conn,
                data: Bytes::from(data),
            };
            vec![
                SessionInput::Connected {
                    conn,
                    outbound,
                    local: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    remote: IpAddr::V4(Ipv4Addr::LOCALHOST),
                },
                received(wire::peer_open(65002, 90, [10, 0, 0, 2])),
                received(wire::keepalive()),
            ]
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_sequence_keeps_the_contract(
        steps in prop::collection::vec(step(), 1..60),
        passive in any::<bool>(),
    ) {
        let mut c = config(65001, 65002, [10, 0, 0, 1]);
        c.passive = passive;
        let mut session = Session::new(c, 3);
        let mut state = State::Idle;
        let mut up = false;
        let mut closed: BTreeSet<ConnId> = BTreeSet::new();
        let inputs = std::iter::once(SessionInput::Start).chain(steps.into_iter().flatten());
        for input in inputs {
            if let SessionInput::Connected { conn, .. } = &input {
                closed.remove(conn);
            }
            let mut out = Vec::new();
            session.handle(input, &mut out);
            for o in &out {
                match o {
                    SessionOutput::StateChanged { from, to } => {
                        prop_assert_eq!(*from, state);
                        prop_assert_ne!(from, to);
                        state = *to;
                    }
                    SessionOutput::Established(_) => {
                        prop_assert!(!up, "Established twice without Down");
                        up = true;
                    }
                    SessionOutput::Down(_) => up = false,
                    SessionOutput::Send { conn, data } => {
                        prop_assert!(!closed.contains(conn), "send on closed {}", conn);
                        prop_assert!(wire::try_split(data).is_some(), "malformed bytes sent");
                    }
                    SessionOutput::Close { conn } => {
                        closed.insert(*conn);
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(session.state(), state);
            prop_assert_eq!(session.state() == State::Established, session.negotiated().is_some());
            prop_assert_eq!(session.state() == State::Idle, session.idle_reason().is_some());
            if session.state() != State::Established {
                prop_assert!(!up, "left Established without Down");
            }
        }
    }
}
