//! Many sessions behind one socket (RFC 5881 §3).
//!
//! A packet naming a session in Your Discriminator goes to that session,
//! provided it comes from that session's peer; one with Your Discriminator
//! zero goes to the session of the peer it came from. Anything else is
//! counted and dropped here, and no session sees it. A malformed packet is
//! counted against the session of the peer it came from, if any, without
//! touching that session's state.
//!
//! The key `K` names a peer as the runtime sees it: for single hop, the
//! interface and the peer's address (RFC 5881 §3), or a virtual link.

use crate::packet::ControlPacket;
use crate::session::{ConfigError, DropCounts, DropReason, Input, Output, Session, SessionConfig};
use std::collections::HashMap;
use std::hash::Hash;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("a session for this peer exists already")]
    DuplicatePeer,
    #[error("local discriminator {0} is in use")]
    DuplicateDiscriminator(u32),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

#[derive(Debug)]
pub struct SessionTable<K> {
    sessions: HashMap<K, Session>,
    /// Local discriminator → peer.
    by_discriminator: HashMap<u32, K>,
    /// Packets that reached no session.
    unattributed: DropCounts,
    next_discriminator: u32,
}

impl<K: Clone + Eq + Hash> Default for SessionTable<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone + Eq + Hash> SessionTable<K> {
    pub fn new() -> Self {
        SessionTable {
            sessions: HashMap::new(),
            by_discriminator: HashMap::new(),
            unattributed: DropCounts::default(),
            next_discriminator: 1,
        }
    }

    /// A nonzero discriminator no session here uses (RFC 5880 §6.3).
    pub fn allocate_discriminator(&mut self) -> u32 {
        loop {
            let candidate = self.next_discriminator;
            self.next_discriminator = self.next_discriminator.checked_add(1).unwrap_or(1);
            if candidate != 0 && !self.by_discriminator.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// Adds the session for `peer`; it starts with [`Input::Start`].
    pub fn insert(&mut self, peer: K, config: SessionConfig, seed: u64) -> Result<(), TableError> {
        if self.sessions.contains_key(&peer) {
            return Err(TableError::DuplicatePeer);
        }
        let discriminator = config.local_discriminator;
        if self.by_discriminator.contains_key(&discriminator) {
            return Err(TableError::DuplicateDiscriminator(discriminator));
        }
        let session = Session::new(config, seed)?;
        self.by_discriminator.insert(discriminator, peer.clone());
        self.sessions.insert(peer, session);
        Ok(())
    }

    /// Removes the session; the driver forgets its timers.
    pub fn remove(&mut self, peer: &K) -> Option<Session> {
        let session = self.sessions.remove(peer)?;
        self.by_discriminator.remove(&session.local_discriminator());
        Some(session)
    }

    pub fn get(&self, peer: &K) -> Option<&Session> {
        self.sessions.get(peer)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &Session)> {
        self.sessions.iter()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Packets that reached no session, by reason.
    pub fn unattributed_drops(&self) -> &DropCounts {
        &self.unattributed
    }

    /// Feeds a non-packet input (start, timers, admin) to `peer`'s session.
    /// Returns false if there is none.
    pub fn handle(&mut self, peer: &K, input: Input, out: &mut Vec<Output>) -> bool {
        match self.sessions.get_mut(peer) {
            Some(session) => {
                session.handle(input, out);
                true
            }
            None => false,
        }
    }

    /// One UDP payload from `from`, with the TTL it arrived with. `Ok` when
    /// a session took the packet in (it may still refuse it, e.g. for its
    /// TTL, and count that); `Err` when it was dropped here.
    pub fn receive(
        &mut self,
        from: &K,
        payload: &[u8],
        ttl: u8,
        out: &mut Vec<Output>,
    ) -> Result<(), DropReason> {
        let packet = match ControlPacket::decode(payload) {
            Ok(packet) => packet,
            Err(e) => {
                tracing::debug!(error = %e, "BFD packet dropped");
                return Err(self.refuse(from, DropReason::from(&e), out));
            }
        };
        if packet.your_discriminator != 0 {
            match self.by_discriminator.get(&packet.your_discriminator) {
                None => return Err(self.refuse(from, DropReason::UnknownDiscriminator, out)),
                Some(owner) if owner != from => {
                    return Err(self.refuse(from, DropReason::PeerMismatch, out))
                }
                Some(_) => {}
            }
        }
        match self.sessions.get_mut(from) {
            Some(session) => {
                session.handle(Input::Received { packet, ttl }, out);
                Ok(())
            }
            None => Err(self.refuse(from, DropReason::UnknownPeer, out)),
        }
    }

    /// Counts a dropped packet against `from`'s session if there is one
    /// (its counters only), else against the table.
    fn refuse(&mut self, from: &K, reason: DropReason, out: &mut Vec<Output>) -> DropReason {
        match self.sessions.get_mut(from) {
            Some(session) => session.drop_packet(reason, out),
            None => self.unattributed.record(reason),
        }
        reason
    }
}
