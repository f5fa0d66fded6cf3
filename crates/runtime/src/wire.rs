//! The one place every byte of every link passes through.
//!
//! Virtual links and kernel TCP connections alike hand each chunk they
//! carry to [`Wire::transmit`] before delivering it. Here taps see it (tests
//! today, pcap capture later) and impairments act on it (a blackholed link
//! drops everything, connection attempts and closes included, as a cut
//! cable would).

use bytes::Bytes;
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A link, named by one of its ends: the router and its neighbour label.
/// Both ends of a virtual link use the same id (the end declared first in
/// the topology file).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId {
    pub router: String,
    pub neighbor: String,
}

impl LinkId {
    pub fn new(router: impl Into<String>, neighbor: impl Into<String>) -> Self {
        LinkId {
            router: router.into(),
            neighbor: neighbor.into(),
        }
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.router, self.neighbor)
    }
}

/// What crossed (or failed to cross) a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireEvent {
    pub at: Instant,
    pub link: LinkId,
    /// The emulated router that sent it; `None` when an external peer did.
    pub from: Option<String>,
    pub kind: WireEventKind,
    /// False when an impairment ate it.
    pub delivered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireEventKind {
    /// A connection attempt (the SYN of a virtual link).
    Open,
    Data(Bytes),
    /// The sender closed its side (the FIN).
    Close,
    /// A BFD Control packet: one UDP payload (RFC 5880 §4).
    Bfd(Bytes),
    /// A tunnel's UDP datagram between outside addresses: IKE on 500 or
    /// 4500, ESP in UDP on 4500 (RFC 3948).
    Datagram {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
}

/// Shared by every link of a lab; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Wire {
    inner: Arc<Mutex<WireState>>,
}

#[derive(Debug, Default)]
struct WireState {
    blackholed: HashSet<LinkId>,
    taps: Vec<mpsc::UnboundedSender<WireEvent>>,
}

impl Wire {
    pub fn new() -> Self {
        Wire::default()
    }

    /// Passes one event through the wire; returns whether it gets through.
    pub fn transmit(&self, link: &LinkId, from: Option<&str>, kind: WireEventKind) -> bool {
        let mut state = self.lock();
        let delivered = !state.blackholed.contains(link);
        if !state.taps.is_empty() {
            let event = WireEvent {
                at: Instant::now(),
                link: link.clone(),
                from: from.map(str::to_string),
                kind,
                delivered,
            };
            state.taps.retain(|tap| tap.send(event.clone()).is_ok());
        }
        delivered
    }

    /// Every event from now on, in order, lossless. Dropping the receiver
    /// removes the tap.
    pub fn tap(&self) -> mpsc::UnboundedReceiver<WireEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().taps.push(tx);
        rx
    }

    /// Cuts the link (`true`) or restores it (`false`). Bytes already
    /// delivered stay delivered; nothing sent while cut arrives later.
    pub fn set_blackhole(&self, link: &LinkId, on: bool) {
        let mut state = self.lock();
        if on {
            state.blackholed.insert(link.clone());
        } else {
            state.blackholed.remove(link);
        }
    }

    pub fn is_blackholed(&self, link: &LinkId) -> bool {
        self.lock().blackholed.contains(link)
    }

    fn lock(&self) -> MutexGuard<'_, WireState> {
        // The state stays consistent across a panic in a tap's holder: a
        // poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn taps_see_everything_and_blackholes_drop() {
        let wire = Wire::new();
        let link = LinkId::new("a", "b");
        let mut tap = wire.tap();
        assert!(wire.transmit(
            &link,
            Some("a"),
            WireEventKind::Data(Bytes::from_static(b"x"))
        ));
        wire.set_blackhole(&link, true);
        assert!(!wire.transmit(&link, None, WireEventKind::Close));
        assert!(wire.transmit(&LinkId::new("a", "c"), Some("a"), WireEventKind::Open));
        wire.set_blackhole(&link, false);
        assert!(!wire.is_blackholed(&link));
        let got: Vec<(bool, WireEventKind)> = std::iter::from_fn(|| tap.try_recv().ok())
            .map(|e| (e.delivered, e.kind))
            .collect();
        assert_eq!(
            got,
            [
                (true, WireEventKind::Data(Bytes::from_static(b"x"))),
                (false, WireEventKind::Close),
                (true, WireEventKind::Open),
            ]
        );
    }
}
