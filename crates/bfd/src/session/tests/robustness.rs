//! Arbitrary input sequences: no panic, and the invariants hold after
//! every step.

use super::{exact, peer_up};
use crate::packet::{ControlPacket, State};
use crate::session::{Input, Output, Session, TimerKind};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

fn arb_input() -> impl Strategy<Value = Input> {
    let packet = (
        0u8..4,
        any::<[bool; 4]>(),
        1u8..=5,
        prop_oneof![Just(0u32), Just(7u32), any::<u32>()],
        prop_oneof![
            Just(300_000u32),
            Just(0u32),
            Just(1_000_000u32),
            any::<u32>()
        ],
        prop_oneof![Just(300_000u32), Just(0u32), any::<u32>()],
        prop_oneof![Just(255u8), any::<u8>()],
    )
        .prop_map(|(state, flags, mult, your, tx, rx, ttl)| Input::Received {
            packet: ControlPacket {
                state: State::from_code(state),
                poll: flags[0],
                final_: flags[1],
                demand: flags[2],
                control_plane_independent: flags[3],
                detect_mult: mult,
                your_discriminator: your,
                desired_min_tx_us: tx,
                required_min_rx_us: rx,
                ..peer_up()
            },
            ttl,
        });
    prop_oneof![
        6 => packet,
        2 => Just(Input::TimerExpired(TimerKind::Transmit)),
        2 => Just(Input::TimerExpired(TimerKind::Detection)),
        1 => Just(Input::AdminDown),
        1 => Just(Input::AdminUp),
        1 => Just(Input::Start),
        1 => (0u64..2_000, 0u64..2_000, 0u8..4).prop_map(|(tx, rx, mult)| Input::SetTimers {
            desired_min_tx: Duration::from_millis(tx),
            required_min_rx: Duration::from_millis(rx),
            detect_mult: mult,
        }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_inputs_keep_the_invariants(inputs in proptest::collection::vec(arb_input(), 1..60)) {
        let mut session = Session::new(exact(7), 3).unwrap();
        let mut armed = BTreeSet::new();
        for input in inputs {
            // A delivered expiry ends that arming, as for a real driver.
            if let Input::TimerExpired(timer) = &input {
                armed.remove(timer);
            }
            let mut out = Vec::new();
            session.handle(input, &mut out);
            for o in &out {
                match o {
                    Output::StartTimer { timer, after } => {
                        armed.insert(*timer);
                        prop_assert!(!after.is_zero());
                    }
                    Output::StopTimer(timer) => {
                        prop_assert!(armed.remove(timer), "stopped a timer not armed");
                    }
                    Output::Send(bytes) => {
                        let p = ControlPacket::decode(bytes).unwrap();
                        prop_assert!(!(p.poll && p.final_));
                        prop_assert_eq!(p.my_discriminator, 7);
                    }
                    _ => {}
                }
            }
            let view = session.view();
            if view.state == State::Up {
                prop_assert!(view.remote_discriminator != 0);
                prop_assert_eq!(view.desired_min_tx_us, session.config().desired_min_tx.as_micros() as u32);
            } else {
                prop_assert!(view.desired_min_tx_us >= 1_000_000);
                prop_assert!(!view.polling);
            }
            prop_assert!(view.required_min_rx_us >= 300_000);
            if view.state == State::AdminDown {
                prop_assert!(!armed.contains(&TimerKind::Detection));
            }
        }
    }
}
