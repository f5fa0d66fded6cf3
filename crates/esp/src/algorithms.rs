//! The transforms this crate speaks, and their keyed state.
//!
//! Encryption: AES-CBC (RFC 3602) with 128- or 256-bit keys, RustCrypto
//! `aes` + `cbc`. `aes` picks AES-NI at run time on x86_64 (its `autodetect`
//! backend), so no build flag is needed for speed.
//!
//! Integrity: HMAC-SHA1-96 (RFC 2404) and HMAC-SHA2-256-128 (RFC 4868),
//! `ring::hmac`, truncated to the ICV length; compared in constant time with
//! `subtle` because `ring::hmac::verify` only checks whole tags.
//!
//! Key hygiene: the caller's key bytes are not kept. The AES key schedules
//! are wiped on drop (`aes` feature `zeroize`). `ring::hmac::Key` keeps the
//! precomputed inner/outer hash states and offers no wipe; that is the one
//! copy of key-derived material this crate cannot zeroize.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};
use ring::hmac;
use subtle::ConstantTimeEq;

use crate::error::ConfigError;

/// AES block length and, RFC 3602 §2.1, the IV length.
pub const BLOCK_LEN: usize = 16;
/// RFC 3602 §3: the IV is carried in clear at the start of the payload.
pub const IV_LEN: usize = BLOCK_LEN;

/// ESP encryption transform (IKEv1 ESP transform ID 12, ESP_AES, with a key
/// length attribute of 128 or 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cipher {
    Aes128Cbc,
    Aes256Cbc,
}

impl Cipher {
    pub const fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc => 16,
            Cipher::Aes256Cbc => 32,
        }
    }
}

/// ESP integrity transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Integrity {
    /// RFC 2404: 20-byte key, 12-byte ICV.
    HmacSha1_96,
    /// RFC 4868: 32-byte key, 16-byte ICV.
    HmacSha256_128,
}

impl Integrity {
    pub const fn key_len(self) -> usize {
        match self {
            Integrity::HmacSha1_96 => 20,
            Integrity::HmacSha256_128 => 32,
        }
    }

    /// Length of the ICV on the wire: the truncated tag (RFC 2404 §2,
    /// RFC 4868 §2.6 — half the hash output, left-most bits).
    pub const fn icv_len(self) -> usize {
        match self {
            Integrity::HmacSha1_96 => 12,
            Integrity::HmacSha256_128 => 16,
        }
    }

    fn ring_algorithm(self) -> hmac::Algorithm {
        match self {
            Integrity::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Integrity::HmacSha256_128 => hmac::HMAC_SHA256,
        }
    }
}

/// Expanded AES key; one schedule serves both directions (encrypt for
/// `seal`, decrypt for `open`), so one SA type covers either direction.
/// Not boxed: an SA lives for an hour and its schedule is read per packet.
#[allow(clippy::large_enum_variant)]
pub(crate) enum CipherState {
    Aes128(Aes128),
    Aes256(Aes256),
}

impl CipherState {
    pub(crate) fn new(cipher: Cipher, key: &[u8]) -> Result<Self, ConfigError> {
        let bad = || ConfigError::EncryptionKeyLength {
            cipher,
            expected: cipher.key_len(),
            got: key.len(),
        };
        Ok(match cipher {
            Cipher::Aes128Cbc => {
                CipherState::Aes128(Aes128::new_from_slice(key).map_err(|_| bad())?)
            }
            Cipher::Aes256Cbc => {
                CipherState::Aes256(Aes256::new_from_slice(key).map_err(|_| bad())?)
            }
        })
    }

    /// CBC-encrypts `buf` in place. `buf.len()` is a multiple of
    /// [`BLOCK_LEN`]: the caller padded it (RFC 4303 §2.4), so `NoPadding`
    /// cannot fail; a failure would be a bug in `seal`'s length arithmetic.
    pub(crate) fn encrypt_in_place(&self, iv: &[u8; IV_LEN], buf: &mut [u8]) -> bool {
        let len = buf.len();
        // Borrowing the schedule (`&Aes128` is itself a block cipher) avoids
        // copying ~500 bytes of round keys per packet.
        match self {
            CipherState::Aes128(k) => cbc::Encryptor::<&Aes128>::inner_iv_init(k, iv.into())
                .encrypt_padded_mut::<NoPadding>(buf, len)
                .is_ok(),
            CipherState::Aes256(k) => cbc::Encryptor::<&Aes256>::inner_iv_init(k, iv.into())
                .encrypt_padded_mut::<NoPadding>(buf, len)
                .is_ok(),
        }
    }

    /// CBC-decrypts `buf` in place; false if it is not block aligned.
    pub(crate) fn decrypt_in_place(&self, iv: &[u8; IV_LEN], buf: &mut [u8]) -> bool {
        match self {
            CipherState::Aes128(k) => cbc::Decryptor::<&Aes128>::inner_iv_init(k, iv.into())
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
            CipherState::Aes256(k) => cbc::Decryptor::<&Aes256>::inner_iv_init(k, iv.into())
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
        }
    }
}

/// Longest ICV of any supported transform.
pub(crate) const MAX_ICV_LEN: usize = 16;

/// The keyed HMAC of one SA.
enum Mac {
    Ring(hmac::Key),
    /// Feature `rustcrypto-sha1`: RustCrypto's SHA-1 uses the SHA-NI
    /// instructions when the CPU has them; ring's SHA-1 is portable Rust and
    /// about 4x slower, the largest cost of an AES-128 + SHA1-96 packet.
    /// Off by default: the house rule names `ring` for HMAC.
    #[cfg(feature = "rustcrypto-sha1")]
    Sha1(rc_hmac::Hmac<sha1::Sha1>),
}

/// HMAC key and the ICV length to truncate to.
pub(crate) struct IntegrityState {
    mac: Mac,
    icv_len: usize,
}

impl IntegrityState {
    pub(crate) fn new(integrity: Integrity, key: &[u8]) -> Result<Self, ConfigError> {
        // RFC 2404 §3 and RFC 4868 §2.1.1 fix the key length; HMAC itself
        // would take any length, so check here rather than trust the caller.
        if key.len() != integrity.key_len() {
            return Err(ConfigError::IntegrityKeyLength {
                integrity,
                expected: integrity.key_len(),
                got: key.len(),
            });
        }
        Ok(Self::with_any_key_len(integrity, key))
    }

    /// No key length check: for `new`, and for HMAC vectors whose keys are
    /// not ESP-sized.
    pub(crate) fn with_any_key_len(integrity: Integrity, key: &[u8]) -> Self {
        #[cfg(feature = "rustcrypto-sha1")]
        if integrity == Integrity::HmacSha1_96 {
            use rc_hmac::digest::KeyInit;
            // HMAC takes keys of any length (RFC 2104 §2): this cannot fail.
            if let Ok(mac) = rc_hmac::Hmac::<sha1::Sha1>::new_from_slice(key) {
                return IntegrityState {
                    mac: Mac::Sha1(mac),
                    icv_len: integrity.icv_len(),
                };
            }
        }
        IntegrityState {
            mac: Mac::Ring(hmac::Key::new(integrity.ring_algorithm(), key)),
            icv_len: integrity.icv_len(),
        }
    }

    pub(crate) fn icv_len(&self) -> usize {
        self.icv_len
    }

    /// Writes the ICV of `data` — the first `icv_len` bytes of its HMAC —
    /// into `buf` and returns it.
    pub(crate) fn icv<'b>(&self, data: &[u8], buf: &'b mut [u8; MAX_ICV_LEN]) -> &'b [u8] {
        let n = self.icv_len;
        match &self.mac {
            Mac::Ring(key) => {
                let tag = hmac::sign(key, data);
                buf[..n].copy_from_slice(&tag.as_ref()[..n]);
            }
            #[cfg(feature = "rustcrypto-sha1")]
            Mac::Sha1(mac) => {
                use rc_hmac::Mac as _;
                let mut m = mac.clone();
                m.update(data);
                buf[..n].copy_from_slice(&m.finalize().into_bytes()[..n]);
            }
        }
        &buf[..n]
    }

    /// RFC 4303 §3.4.4.1: recompute over SPI..end of ciphertext and compare
    /// with the received ICV in constant time, so that timing tells an
    /// attacker nothing about how many leading bytes matched.
    pub(crate) fn verify(&self, data: &[u8], icv: &[u8]) -> bool {
        let mut buf = [0u8; MAX_ICV_LEN];
        bool::from(self.icv(data, &mut buf).ct_eq(icv))
    }
}
