//! Session FSM tests, sans-IO: every instant is exact.

mod collision;
mod errors;
mod handshake;
mod robustness;
mod shutdown;
mod sim;
mod timers;
mod wire;

use crate::session::{SessionConfig, SessionOutput, State};
use std::net::Ipv4Addr;

/// A configuration with jitter off, so instants are exact.
pub fn config(local_as: u32, remote_as: u32, id: [u8; 4]) -> SessionConfig {
    SessionConfig {
        jitter: false,
        ..SessionConfig::new(local_as, remote_as, Ipv4Addr::from(id))
    }
}

pub fn passive(mut c: SessionConfig) -> SessionConfig {
    c.passive = true;
    c
}

/// The sequence of states a node went through.
pub fn states<'a>(outputs: impl IntoIterator<Item = &'a SessionOutput>) -> Vec<State> {
    let mut seq = Vec::new();
    for o in outputs {
        if let SessionOutput::StateChanged { from, to } = o {
            if seq.is_empty() {
                seq.push(*from);
            }
            seq.push(*to);
        }
    }
    seq
}
