//! IKEv1 keying (RFC 2409): phase-1 keys from a pre-shared key, the phase-1
//! authentication hashes, the CBC IVs of every exchange, and the phase-2
//! (quick mode / informational) hashes and ESP key material.

mod auth;
mod iv;
mod keys;
mod phase2;

pub use auth::AuthContext;
pub use iv::{phase1_iv, phase2_iv, IvStore};
pub use keys::{Phase1Keys, Phase1Material};
pub use phase2::{EspKeys, PROTO_IPSEC_ESP};

/// An ISAKMP cookie (RFC 2408 §3.1: CKY-I / CKY-R, 8 bytes).
pub type Cookie = [u8; 8];
