//! Session tests, sans-IO: every instant is exact.

mod admin;
mod bad_packets;
mod captured;
mod detection;
mod handshake;
mod jitter;
mod negotiation;
mod poll;
mod robustness;
mod sim;

use crate::packet::{ControlPacket, Diagnostic, State};
use crate::session::SessionConfig;
use std::time::Duration;

/// The cloud's 300 ms × 3, jitter off so instants are round.
pub fn exact(discriminator: u32) -> SessionConfig {
    SessionConfig {
        jitter: false,
        ..SessionConfig::direct_connect(discriminator)
    }
}

/// A customer router's configuration, no floor of its own.
pub fn customer(discriminator: u32, tx_ms: u64, rx_ms: u64, mult: u8) -> SessionConfig {
    SessionConfig {
        local_discriminator: discriminator,
        desired_min_tx: Duration::from_millis(tx_ms),
        required_min_rx: Duration::from_millis(rx_ms),
        detect_mult: mult,
        passive: false,
        min_accepted_interval: Duration::ZERO,
        jitter: false,
    }
}

/// What a peer with discriminator 0xbeef sends to our session 7 when Up at
/// 300 ms × 3.
pub fn peer_up() -> ControlPacket {
    ControlPacket {
        diagnostic: Diagnostic::NoDiagnostic,
        state: State::Up,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: 0xbeef,
        your_discriminator: 7,
        desired_min_tx_us: 300_000,
        required_min_rx_us: 300_000,
        required_min_echo_rx_us: 0,
        authentication: None,
    }
}
