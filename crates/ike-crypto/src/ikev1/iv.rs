//! The CBC IVs of IKEv1 exchanges (RFC 2409 Appendix B).
//!
//! Phase 1 starts from hash(g^xi | g^xr); every later exchange (each quick
//! mode, each informational) starts from hash(last phase-1 CBC block |
//! M-ID); within an exchange each message's last ciphertext block is the
//! next message's IV.

use crate::cipher::{Iv, BLOCK_LEN};
use crate::hash::HashAlg;

/// Phase-1 IV: hash(g^xi | g^xr) truncated to the block length.
pub fn phase1_iv(hash: HashAlg, g_xi: &[u8], g_xr: &[u8]) -> Iv {
    truncate(&hash.hash(&[g_xi, g_xr]))
}

/// First IV of a phase-2 or informational exchange: hash(last phase-1 CBC
/// output block | M-ID) truncated to the block length, M-ID in network
/// order as in the ISAKMP header.
pub fn phase2_iv(hash: HashAlg, last_phase1_block: &Iv, message_id: u32) -> Iv {
    truncate(&hash.hash(&[last_phase1_block, &message_id.to_be_bytes()]))
}

fn truncate(digest: &[u8]) -> Iv {
    // Every supported hash is at least 20 bytes, longer than a block.
    let mut iv = [0u8; BLOCK_LEN];
    for (dst, src) in iv.iter_mut().zip(digest) {
        *dst = *src;
    }
    iv
}

/// The IV of each exchange of one ISAKMP SA.
///
/// Message ID 0 is phase 1. Another message ID gets its first IV when first
/// asked for, from the phase-1 IV at that moment — by then the last block of
/// main mode's last message, which is what RFC 2409 asks for. Callers
/// [`IvStore::set`] the next IV returned by `encrypt`/`decrypt` once a
/// message is sent or accepted, and [`IvStore::forget`] an exchange when it
/// ends. Like strongSwan, only the most recently used exchanges are kept
/// (oldest evicted first), so a peer opening exchanges cannot grow memory.
#[derive(Debug, Clone)]
pub struct IvStore {
    hash: HashAlg,
    phase1: Iv,
    /// Most recently used first.
    exchanges: Vec<(u32, Iv)>,
    capacity: usize,
}

impl IvStore {
    /// Exchanges tracked beyond phase 1 by default.
    pub const DEFAULT_CAPACITY: usize = 8;

    /// A store whose phase-1 IV is `initial` ([`phase1_iv`]).
    pub fn new(hash: HashAlg, initial: Iv) -> Self {
        Self::with_capacity(hash, initial, Self::DEFAULT_CAPACITY)
    }

    /// A store tracking at most `capacity` (at least 1) exchanges beyond phase 1.
    pub fn with_capacity(hash: HashAlg, initial: Iv, capacity: usize) -> Self {
        Self {
            hash,
            phase1: initial,
            exchanges: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// The IV for the next message of exchange `message_id`.
    pub fn get(&mut self, message_id: u32) -> Iv {
        if message_id == 0 {
            return self.phase1;
        }
        let iv = match self.take(message_id) {
            Some(iv) => iv,
            None => phase2_iv(self.hash, &self.phase1, message_id),
        };
        self.insert(message_id, iv);
        iv
    }

    /// Records `next` (the last ciphertext block of a message sent or
    /// accepted) as the IV of exchange `message_id`'s next message.
    pub fn set(&mut self, message_id: u32, next: Iv) {
        if message_id == 0 {
            self.phase1 = next;
            return;
        }
        let _ = self.take(message_id);
        self.insert(message_id, next);
    }

    /// Drops the state of a finished exchange.
    pub fn forget(&mut self, message_id: u32) {
        let _ = self.take(message_id);
    }

    fn take(&mut self, message_id: u32) -> Option<Iv> {
        let pos = self.exchanges.iter().position(|(m, _)| *m == message_id)?;
        Some(self.exchanges.remove(pos).1)
    }

    fn insert(&mut self, message_id: u32, iv: Iv) {
        self.exchanges.insert(0, (message_id, iv));
        self.exchanges.truncate(self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        let h = HashAlg::Sha1;
        let full = h.hash(&[b"gxi", b"gxr"]);
        assert_eq!(phase1_iv(h, b"gxi", b"gxr")[..], full[..16]);
        let last = [7u8; 16];
        let full = h.hash(&[&last, &[0x12, 0x34, 0x56, 0x78]]);
        assert_eq!(phase2_iv(h, &last, 0x1234_5678)[..], full[..16]);
    }

    #[test]
    fn store_chains_per_exchange() {
        let h = HashAlg::Sha2_256;
        let mut s = IvStore::new(h, [1; 16]);
        assert_eq!(s.get(0), [1; 16]);
        s.set(0, [2; 16]);
        // Phase-2 exchanges derive from the phase-1 IV of the moment.
        assert_eq!(s.get(5), phase2_iv(h, &[2; 16], 5));
        s.set(5, [3; 16]);
        assert_eq!(s.get(5), [3; 16]);
        assert_eq!(s.get(6), phase2_iv(h, &[2; 16], 6));
        s.forget(5);
        assert_eq!(s.get(5), phase2_iv(h, &[2; 16], 5));
    }

    #[test]
    fn store_is_bounded() {
        let h = HashAlg::Sha1;
        let mut s = IvStore::with_capacity(h, [1; 16], 2);
        s.set(1, [9; 16]);
        s.set(2, [9; 16]);
        s.set(3, [9; 16]);
        assert_eq!(s.exchanges.len(), 2);
        // Exchange 1 was evicted and starts over from its derived IV.
        assert_eq!(s.get(1), phase2_iv(h, &[1; 16], 1));
    }
}
