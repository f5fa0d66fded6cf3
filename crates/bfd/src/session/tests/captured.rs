//! Real FRR and BIRD packets (see `packet::tests::captures`) played into a
//! session standing in for the other daemon.

use super::sim::{sent, Bench};
use crate::packet::tests::captures::*;
use crate::packet::{ControlPacket, Diagnostic, State};
use crate::session::{DownCause, Output, SessionConfig};

fn packet(hex_str: &str) -> ControlPacket {
    ControlPacket::decode(&hex(hex_str)).unwrap()
}

/// A session with `discriminator`, jitter off, started.
fn bench(discriminator: u32) -> Bench {
    let mut bench = Bench::new(SessionConfig {
        jitter: false,
        ..SessionConfig::direct_connect(discriminator)
    });
    bench.input(crate::session::Input::Start);
    bench
}

#[test]
fn frr_handshake_poll_and_admin_down() {
    // We stand where BIRD stood.
    let mut b = bench(0x8cb1_1ec5);
    b.receive(packet(FRR_DOWN));
    assert_eq!(b.node.session.state(), State::Init);
    b.receive(packet(FRR_INIT));
    assert_eq!(b.node.session.state(), State::Up);
    let answer = sent(&b.receive(packet(FRR_UP_POLL)));
    assert_eq!(answer.len(), 1);
    assert!(answer[0].final_);
    assert_eq!(answer[0].your_discriminator, 0xa784_b811);
    b.receive(packet(FRR_UP_FINAL));
    assert!(!b.node.session.view().polling);
    // FRR slows to 600 ms: our Detection Time follows at once.
    let answer = sent(&b.receive(packet(FRR_UP_POLL_600)));
    assert!(answer[0].final_);
    assert_eq!(
        b.node.session.detection_time(),
        Some(std::time::Duration::from_millis(1_800))
    );
    // FRR's AdminDown carries diagnostic 0; the state alone says it.
    let out = b.receive(packet(FRR_ADMIN_DOWN));
    assert!(out.contains(&Output::StateChanged {
        from: State::Up,
        to: State::Down,
        diagnostic: Diagnostic::NeighborSignaledSessionDown,
    }));
    assert!(out.contains(&Output::LeftUp {
        cause: DownCause::NeighborAdminDown
    }));
    b.receive(packet(FRR_ADMIN_DOWN_FINAL));
    assert_eq!(b.node.session.state(), State::Down);
}

#[test]
fn bird_handshake_and_neighbor_down() {
    // We stand where FRR stood.
    let mut f = bench(0xa784_b811);
    let out = f.receive(packet(BIRD_DOWN));
    assert_eq!(f.node.session.state(), State::Init);
    assert_eq!(sent(&out)[0].your_discriminator, 0x8cb1_1ec5);
    let answer = sent(&f.receive(packet(BIRD_UP_POLL)));
    assert_eq!(f.node.session.state(), State::Up);
    // One packet tells the new state and answers the Poll.
    assert_eq!(answer.len(), 1);
    assert!(answer[0].final_ && !answer[0].poll);
    assert_eq!(answer[0].state, State::Up);
    f.receive(packet(BIRD_UP_FINAL));
    f.receive(packet(BIRD_UP));
    let out = f.receive(packet(BIRD_DOWN_NEIGHBOR_POLL));
    assert!(out.contains(&Output::LeftUp {
        cause: DownCause::NeighborDown
    }));
    assert!(sent(&out).iter().any(|p| p.final_));
    f.receive(packet(BIRD_DOWN_NEIGHBOR));
    // Down meets Down: Init, as the handshake starts over.
    assert_eq!(f.node.session.state(), State::Init);
}
