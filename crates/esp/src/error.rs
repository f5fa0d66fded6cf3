//! Typed errors, one enum per operation: building an SA, sealing, opening.
//!
//! Each `OpenError` variant is also counted in [`crate::Counters`], so the
//! runtime can drop the packet and move on without logging per packet.

use thiserror::Error;

use crate::algorithms::{Cipher, Integrity};
use crate::replay::ReplayError;

/// Why a [`crate::SecurityAssociation`] or [`crate::ReplayWindow`] could not
/// be built. These come from the keying layer, not from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("{cipher:?} takes a {expected}-byte key, got {got}")]
    EncryptionKeyLength {
        cipher: Cipher,
        expected: usize,
        got: usize,
    },
    /// RFC 2404 §3 / RFC 4868 §2.1.1: the key length is fixed to the hash's
    /// output length (20 for SHA-1, 32 for SHA-256).
    #[error("{integrity:?} takes a {expected}-byte key, got {got}")]
    IntegrityKeyLength {
        integrity: Integrity,
        expected: usize,
        got: usize,
    },
    #[error("anti-replay window of {0} packets: must be between 1 and {max}", max = crate::replay::MAX_WINDOW)]
    ReplayWindowSize(u32),
}

/// Why [`crate::SecurityAssociation::seal`] produced nothing. The sequence
/// number is not consumed on error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SealError {
    /// RFC 4303 §3.3.3: with no ESN the counter MUST NOT cycle; the SA must
    /// be replaced before packet 2^32 - 1 has been sent.
    #[error("sequence numbers exhausted after 2^32 - 1 packets: the SA must be rekeyed (RFC 4303 §3.3.3)")]
    SequenceExhausted,
    /// The ESP packet would not fit an IPv4 datagram (65 535 bytes).
    #[error("inner packet of {0} bytes is too large to encapsulate")]
    PacketTooLarge(usize),
    /// RFC 3602 §2.1: the IV MUST be unpredictable; without one, send nothing.
    #[error("the random source failed to produce an IV")]
    IvUnavailable,
}

/// Why [`crate::SecurityAssociation::open`] dropped a packet. All of these
/// come from the network: the caller drops the packet (RFC 4303 §3.4 says
/// "discard" for each) and may log the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OpenError {
    /// Shorter than SPI + sequence + IV + one cipher block + ICV.
    #[error("ESP packet of {len} bytes is shorter than the {min}-byte minimum for this SA")]
    Truncated { len: usize, min: usize },
    /// RFC 3602 §3: the ciphertext is a whole number of 16-byte blocks.
    #[error("ciphertext of {0} bytes is not a whole number of AES blocks (RFC 3602 §3)")]
    NotBlockAligned(usize),
    /// The demultiplexer sent this SA a packet for another SPI.
    #[error("SPI {got:#010x} does not belong to this SA ({expected:#010x})")]
    SpiMismatch { expected: u32, got: u32 },
    /// RFC 4303 §3.4.3: duplicate, too old for the window, or zero.
    #[error("sequence number {seq} rejected by the anti-replay window: {reason}")]
    Replay { seq: u32, reason: ReplayError },
    /// RFC 4303 §3.4.4.1: ICV mismatch; the packet is discarded unread.
    #[error("integrity check value mismatch (RFC 4303 §3.4.4)")]
    IcvMismatch,
    /// RFC 4303 §2.5: the Pad Length points outside the decrypted payload.
    #[error("pad length {pad_len} does not fit a {plaintext_len}-byte plaintext")]
    PadLength { pad_len: u8, plaintext_len: usize },
    /// RFC 4303 §2.4: default padding is 1, 2, 3, ...; the receiver SHOULD
    /// check it. A mismatch after a good ICV means a broken peer, not an
    /// attacker, but the packet is still dropped.
    #[error("padding bytes are not 1, 2, 3, ... (RFC 4303 §2.4)")]
    Padding,
}
