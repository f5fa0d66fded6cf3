//! What happened to the lab's sessions, for logs, tests and drills.

use hybridlab_bfd::State as BfdState;
use hybridlab_bgp::session::State;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabEvent {
    pub at: Instant,
    pub router: String,
    pub neighbor: String,
    pub kind: LabEventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabEventKind {
    /// The session asked for an outbound connection.
    ConnectAttempt,
    StateChanged {
        from: State,
        to: State,
    },
    Established {
        hold_time: u16,
        keepalive: u16,
        remote_id: Ipv4Addr,
        /// The surviving connection is the one this router initiated.
        outbound: bool,
    },
    /// The session left Established or failed to reach it; why, in words.
    Down(String),
    /// The neighbour's BFD session changed state; `diagnostic` is the
    /// RFC 5880 name of the one it now sends.
    BfdStateChanged {
        from: BfdState,
        to: BfdState,
        diagnostic: String,
    },
    /// The IPsec tunnel this session rides in got an SA pair (`up`) or
    /// lost its last one (DPD, a delete from the peer, a drill); why, in
    /// words, when it went down.
    Ipsec {
        up: bool,
        reason: Option<String>,
    },
}

/// Lossless fan-out to every subscriber; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Events {
    subscribers: Arc<Mutex<Vec<mpsc::UnboundedSender<LabEvent>>>>,
}

impl Events {
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<LabEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    pub(crate) fn publish(&self, event: LabEvent) {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| s.send(event.clone()).is_ok());
    }
}
