//! The cryptography of IKEv1 and ESP, sans-IO.
//!
//! - [`hash`]: SHA-1/SHA-2 digests and the HMAC PRFs (`ring`).
//! - [`dh`]: MODP groups 2 and 14 with peer-value validation
//!   (`crypto-bigint`, constant-time).
//! - [`ikev1`]: RFC 2409 key derivation for pre-shared keys, HASH_I/HASH_R,
//!   the IVs of every exchange, quick-mode and informational hashes, KEYMAT.
//! - [`cipher`]: AES-CBC over ISAKMP messages with IKEv1's IV chaining
//!   (RustCrypto `aes` + `cbc`).
//! - [`natd`]: NAT-D hashes (RFC 3947).
//!
//! Nothing here does I/O, reads a clock or keeps global state. Randomness
//! is an input: [`dh::DhGroup::generate`] takes a `ring::rand::SecureRandom`
//! (in production `ring::rand::SystemRandom`), because key material must not
//! come from the seeded simulation PRNG that makes runs replayable. A caller
//! with its own injected generator uses [`dh::DhGroup::generate_with`];
//! fixed test vectors use [`dh::DhGroup::private_from_exponent`]. Key material lives in
//! [`SecretBytes`] and zeroized types and is wiped on drop.

pub mod cipher;
pub mod dh;
mod error;
pub mod hash;
pub mod ikev1;
pub mod natd;
mod secret;

pub use cipher::{CipherAlg, IkeCipher, Iv, BLOCK_LEN};
pub use dh::{DhGroup, DhPrivate, SharedSecret};
pub use error::{CryptoError, Result};
pub use hash::{HashAlg, Prf};
pub use secret::SecretBytes;

/// Compares two byte strings in time independent of their content (for
/// received HASH payloads and ICVs).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
