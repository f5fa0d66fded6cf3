//! One ESP Security Association: `seal` for outbound, `open` for inbound
//! (RFC 4303 §3.3 and §3.4), tunnel mode.
//!
//! An SA is one direction (RFC 4301 §4.1). The type can do both so that the
//! keying layer builds both halves of a pair the same way; a given instance
//! is used for one: `seal` touches only the sequence counter, `open` only
//! the replay window.

use std::ops::Range;
use std::time::Duration;

use bytes::{BufMut, BytesMut};

use crate::algorithms::{
    Cipher, CipherState, Integrity, IntegrityState, BLOCK_LEN, IV_LEN, MAX_ICV_LEN,
};
use crate::counters::Counters;
use crate::error::{ConfigError, OpenError, SealError};
use crate::iv::IvSource;
use crate::lifetime::{Lifetime, LifetimeState, SEQUENCE_SOFT_LIMIT};
use crate::packet::{self, parse_header, HEADER_LEN, MONOTONIC_PAD, TRAILER_LEN};
use crate::replay::{ReplayWindow, DEFAULT_WINDOW};

/// Largest ESP packet `seal` builds: it must fit one IPv4 datagram.
const MAX_PACKET: usize = 65_535;

/// Everything needed to build an SA. Keys are borrowed: the SA expands them
/// and keeps no copy of the raw bytes; the caller wipes its KEYMAT.
#[derive(Clone, Copy)]
pub struct SaParams<'k> {
    pub spi: u32,
    pub cipher: Cipher,
    pub encryption_key: &'k [u8],
    pub integrity: Integrity,
    pub integrity_key: &'k [u8],
    /// Inbound anti-replay window in packets (RFC 4303 §3.4.3).
    pub replay_window: u32,
    /// The caller's clock when the SA was installed.
    pub created_at: Duration,
    pub lifetime: Lifetime,
}

impl<'k> SaParams<'k> {
    /// Window 1024, created at 0, no lifetime limits: set the public fields
    /// for anything else.
    pub fn new(
        spi: u32,
        cipher: Cipher,
        encryption_key: &'k [u8],
        integrity: Integrity,
        integrity_key: &'k [u8],
    ) -> Self {
        SaParams {
            spi,
            cipher,
            encryption_key,
            integrity,
            integrity_key,
            replay_window: DEFAULT_WINDOW,
            created_at: Duration::ZERO,
            lifetime: Lifetime::default(),
        }
    }
}

/// What `open` found inside an authentic packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// [`packet::NEXT_HEADER_IPV4`] for tunnel-mode IPv4;
    /// [`packet::NEXT_HEADER_DUMMY`] is a TFC dummy the caller drops.
    pub next_header: u8,
    pub sequence: u32,
    /// Length of the inner packet written to the output.
    pub len: usize,
}

pub struct SecurityAssociation {
    spi: u32,
    cipher: Cipher,
    integrity_alg: Integrity,
    aes: CipherState,
    integrity: IntegrityState,
    /// Sequence number of the next outbound packet; u64 so that "2^32" can
    /// mean exhausted without wrapping.
    next_sequence: u64,
    window: ReplayWindow,
    counters: Counters,
    created_at: Duration,
    lifetime: Lifetime,
}

impl std::fmt::Debug for SecurityAssociation {
    // Hand-written so that no key-derived state can reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityAssociation")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("cipher", &self.cipher)
            .field("integrity", &self.integrity_alg)
            .field("next_sequence", &self.next_sequence)
            .field("replay_highest", &self.window.highest())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl SecurityAssociation {
    pub fn new(params: &SaParams<'_>) -> Result<Self, ConfigError> {
        Ok(SecurityAssociation {
            spi: params.spi,
            cipher: params.cipher,
            integrity_alg: params.integrity,
            aes: CipherState::new(params.cipher, params.encryption_key)?,
            integrity: IntegrityState::new(params.integrity, params.integrity_key)?,
            // RFC 4303 §3.3.3: the first packet sent carries 1.
            next_sequence: 1,
            window: ReplayWindow::new(params.replay_window)?,
            counters: Counters::default(),
            created_at: params.created_at,
            lifetime: params.lifetime,
        })
    }

    pub fn spi(&self) -> u32 {
        self.spi
    }

    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    pub fn integrity(&self) -> Integrity {
        self.integrity_alg
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The anti-replay window of an inbound SA.
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Sequence number the next `seal` will use, or `None` once exhausted.
    pub fn next_sequence(&self) -> Option<u32> {
        u32::try_from(self.next_sequence).ok()
    }

    /// Bytes a `seal` of `payload_len` bytes appends.
    pub fn sealed_len(&self, payload_len: usize) -> usize {
        packet::sealed_len(payload_len, self.integrity.icv_len())
    }

    /// Smallest packet `open` can accept: header, IV, one block, ICV.
    pub fn min_packet_len(&self) -> usize {
        HEADER_LEN + IV_LEN + BLOCK_LEN + self.integrity.icv_len()
    }

    /// Where this SA stands against its lifetimes at the caller's `now`.
    /// Nearly running out of sequence numbers counts as soft expiry, having
    /// run out as hard (RFC 4303 §3.3.3).
    pub fn lifetime_state(&self, now: Duration) -> LifetimeState {
        let age = now.saturating_sub(self.created_at);
        let c = &self.counters;
        let bytes = c.bytes_in + c.bytes_out;
        let packets = c.packets_in + c.packets_out;
        if self.next_sequence > u64::from(u32::MAX)
            || self.lifetime.hard.reached(age, bytes, packets)
        {
            LifetimeState::HardExpired
        } else if self.next_sequence > SEQUENCE_SOFT_LIMIT
            || self.lifetime.soft.reached(age, bytes, packets)
        {
            LifetimeState::SoftExpired
        } else {
            LifetimeState::Valid
        }
    }

    /// RFC 4303 §3.3: encapsulates `payload` (the whole inner IP packet in
    /// tunnel mode) and appends the ESP packet to `out`, returning its
    /// length. `out` is appended to, not cleared, so a caller can reuse one
    /// buffer (`clear()` keeps its capacity: no allocation per packet).
    ///
    /// Layout: SPI | seq | IV | E(payload | 1,2,3.. | pad len | next header) | ICV.
    /// Encrypt-then-MAC (§3.3.2): the ICV covers everything before it.
    pub fn seal<I: IvSource + ?Sized>(
        &mut self,
        payload: &[u8],
        next_header: u8,
        ivs: &mut I,
        out: &mut BytesMut,
    ) -> Result<usize, SealError> {
        // §3.3.3: no ESN, so the counter must not cycle past 2^32 - 1.
        let sequence =
            u32::try_from(self.next_sequence).map_err(|_| SealError::SequenceExhausted)?;
        let icv_len = self.integrity.icv_len();
        let total = packet::sealed_len(payload.len(), icv_len);
        if total > MAX_PACKET {
            return Err(SealError::PacketTooLarge(payload.len()));
        }
        let mut iv = [0u8; IV_LEN];
        ivs.fill_iv(&mut iv).map_err(|_| SealError::IvUnavailable)?;

        let padded = total - HEADER_LEN - IV_LEN - icv_len;
        // §2.4: padded >= payload + 2, and < payload + 2 + BLOCK_LEN.
        let pad_len = padded - payload.len() - TRAILER_LEN;

        let start = out.len();
        out.reserve(total);
        out.put_u32(self.spi);
        out.put_u32(sequence);
        out.put_slice(&iv);
        out.put_slice(payload);
        out.put_slice(&MONOTONIC_PAD[..pad_len]);
        // pad_len < BLOCK_LEN, so the cast cannot truncate.
        out.put_u8(pad_len as u8);
        out.put_u8(next_header);

        let ct_start = start + HEADER_LEN + IV_LEN;
        let encrypted = self.aes.encrypt_in_place(&iv, &mut out[ct_start..]);
        debug_assert!(encrypted, "seal padded to whole blocks");

        let mut icv = [0u8; MAX_ICV_LEN];
        let icv = self.integrity.icv(&out[start..], &mut icv);
        out.put_slice(icv);

        self.next_sequence += 1;
        self.counters.packets_out += 1;
        self.counters.bytes_out += payload.len() as u64;
        Ok(total)
    }

    /// RFC 4303 §3.4: checks and decrypts one ESP packet and appends the
    /// inner packet to `out`. On error nothing is appended, the matching
    /// counter goes up, and the caller drops the packet.
    pub fn open(&mut self, packet: &[u8], out: &mut BytesMut) -> Result<Opened, OpenError> {
        let (sequence, iv, ct_range) = self.authenticate(packet)?;
        let ct = packet.get(ct_range).unwrap_or_default();
        let start = out.len();
        out.extend_from_slice(ct);
        match self.decrypt(sequence, &iv, &mut out[start..]) {
            Ok(opened) => {
                out.truncate(start + opened.len);
                Ok(opened)
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// As [`Self::open`], decrypting inside `packet` itself: the inner
    /// packet is `packet[range]` afterwards. For a runtime that owns its
    /// receive buffer, this saves the copy.
    pub fn open_in_place(
        &mut self,
        packet: &mut [u8],
    ) -> Result<(Opened, Range<usize>), OpenError> {
        let (sequence, iv, ct_range) = self.authenticate(packet)?;
        let ct_start = ct_range.start;
        let ct = packet.get_mut(ct_range).unwrap_or_default();
        let opened = self.decrypt(sequence, &iv, ct)?;
        Ok((opened, ct_start..ct_start + opened.len))
    }

    /// Steps of §3.4 up to and including the window update: length, SPI,
    /// replay pre-check, ICV, window update. Returns the sequence number, the
    /// IV and where the (block-aligned, non-empty) ciphertext lies.
    fn authenticate(
        &mut self,
        packet: &[u8],
    ) -> Result<(u32, [u8; IV_LEN], Range<usize>), OpenError> {
        let result = self.authenticate_inner(packet);
        if let Err(e) = &result {
            match e {
                OpenError::Replay { .. } => self.counters.replay_drops += 1,
                OpenError::IcvMismatch => self.counters.icv_failures += 1,
                _ => self.counters.malformed += 1,
            }
        }
        result
    }

    fn authenticate_inner(
        &mut self,
        packet: &[u8],
    ) -> Result<(u32, [u8; IV_LEN], Range<usize>), OpenError> {
        let min = self.min_packet_len();
        if packet.len() < min {
            return Err(OpenError::Truncated {
                len: packet.len(),
                min,
            });
        }
        let icv_len = self.integrity.icv_len();
        let truncated = OpenError::Truncated {
            len: packet.len(),
            min,
        };
        // The length check above makes these splits succeed; checked anyway
        // because this is the network's input.
        let (covered, icv) = packet
            .split_at_checked(packet.len().saturating_sub(icv_len))
            .ok_or(truncated)?;
        let (rest, header) = parse_header(covered).map_err(|_| truncated)?;
        if header.spi != self.spi {
            return Err(OpenError::SpiMismatch {
                expected: self.spi,
                got: header.spi,
            });
        }
        let (iv_bytes, ciphertext) = rest.split_at_checked(IV_LEN).ok_or(truncated)?;
        if ciphertext.len() % BLOCK_LEN != 0 {
            return Err(OpenError::NotBlockAligned(ciphertext.len()));
        }
        let seq = header.sequence;
        // §3.4.3: a cheap check first, so that replays cost no HMAC ...
        self.window
            .check(seq)
            .map_err(|reason| OpenError::Replay { seq, reason })?;
        // §3.4.4.1: ... then the ICV, before any decryption ...
        if !self.integrity.verify(covered, icv) {
            return Err(OpenError::IcvMismatch);
        }
        // ... and only an authentic packet moves the window.
        self.window
            .check_and_update(seq)
            .map_err(|reason| OpenError::Replay { seq, reason })?;
        let iv: [u8; IV_LEN] = iv_bytes.try_into().map_err(|_| truncated)?;
        let ct_start = HEADER_LEN + IV_LEN;
        Ok((seq, iv, ct_start..ct_start + ciphertext.len()))
    }

    /// Decrypts an authenticated, block-aligned ciphertext in place and
    /// strips padding and trailer (§2.4, §2.5, §2.6).
    fn decrypt(
        &mut self,
        sequence: u32,
        iv: &[u8; IV_LEN],
        ct: &mut [u8],
    ) -> Result<Opened, OpenError> {
        let result = self.decrypt_inner(sequence, iv, ct);
        match &result {
            Ok(opened) => {
                self.counters.packets_in += 1;
                self.counters.bytes_in += opened.len as u64;
            }
            Err(_) => self.counters.malformed += 1,
        }
        result
    }

    fn decrypt_inner(
        &self,
        sequence: u32,
        iv: &[u8; IV_LEN],
        ct: &mut [u8],
    ) -> Result<Opened, OpenError> {
        if !self.aes.decrypt_in_place(iv, ct) {
            return Err(OpenError::NotBlockAligned(ct.len()));
        }
        let plaintext_len = ct.len();
        let short = OpenError::Truncated {
            len: plaintext_len,
            min: TRAILER_LEN,
        };
        let (body, trailer) = ct
            .split_at_checked(plaintext_len.saturating_sub(TRAILER_LEN))
            .ok_or(short)?;
        let [pad_len, next_header] = *trailer else {
            return Err(short);
        };
        let payload_len =
            body.len()
                .checked_sub(usize::from(pad_len))
                .ok_or(OpenError::PadLength {
                    pad_len,
                    plaintext_len,
                })?;
        // §2.4: default padding is 1, 2, 3, ...; the receiver SHOULD check.
        let padding = &body[payload_len..];
        if !padding
            .iter()
            .zip(1u8..=255)
            .all(|(&b, expected)| b == expected)
        {
            return Err(OpenError::Padding);
        }
        Ok(Opened {
            next_header,
            sequence,
            len: payload_len,
        })
    }

    #[cfg(test)]
    pub(crate) fn set_next_sequence(&mut self, next: u64) {
        self.next_sequence = next;
    }
}

#[cfg(test)]
mod tests;
