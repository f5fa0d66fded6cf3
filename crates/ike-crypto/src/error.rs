//! Typed errors. Every input that comes from the network is checked and
//! turned into one of these instead of a panic.

use thiserror::Error;

/// Why a cryptographic operation refused its input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// A KE payload's public value has the wrong length: RFC 2409 §5 wants
    /// it exactly as long as the group's modulus (left-padded with zeros).
    /// The ISAKMP layer answers with INVALID-KEY-INFORMATION (RFC 2408 §3.14.1).
    #[error("Diffie-Hellman public value is {got} bytes, the group needs {expected}")]
    PublicValueLength { expected: usize, got: usize },
    /// The peer's public value is not in 2..=p-2 (the FFC partial public-key
    /// validation of NIST SP 800-56A rev. 3): 0, 1 and p-1 would force a
    /// predictable shared secret.
    #[error("Diffie-Hellman public value out of range (must be 1 < y < p-1)")]
    PublicValueRange,
    /// The computed shared secret is 0, 1 or p-1 (NIST SP 800-56A rev. 3,
    /// FFC DH primitive: such a secret means the peer's value was bad).
    #[error("Diffie-Hellman shared secret is degenerate")]
    DegenerateSharedSecret,
    /// A private exponent given by the caller is empty, too long or zero.
    #[error("Diffie-Hellman private exponent must be 1..={max} bytes and not zero")]
    PrivateExponent { max: usize },
    /// The random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// A key has the wrong length for its cipher.
    #[error("key is {got} bytes, the cipher needs {expected}")]
    KeyLength { expected: usize, got: usize },
    /// CBC input must be a non-empty whole number of cipher blocks.
    #[error("CBC input of {len} bytes is not a non-empty multiple of the {block}-byte block")]
    NotBlockAligned { len: usize, block: usize },
    /// The cipher implementation refused its input (cannot happen once the
    /// lengths above are checked; kept so no failure is ever ignored).
    #[error("cipher refused its input")]
    Cipher,
}

/// Result with [`CryptoError`].
pub type Result<T> = core::result::Result<T, CryptoError>;
