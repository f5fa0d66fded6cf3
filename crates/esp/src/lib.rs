//! ESP (RFC 4303), tunnel mode, sans-IO.
//!
//! The keying layer (IKEv1 quick mode) builds a [`SecurityAssociation`] per
//! direction from KEYMAT with [`SaParams`]. The runtime then calls
//! [`SecurityAssociation::seal`] on each inner IP packet to send and
//! [`SecurityAssociation::open`] on each ESP packet received; both work on
//! caller-owned buffers and read no clock. Over NAT-T the ESP packet is the
//! UDP payload on port 4500 as is; [`natt::classify`] sorts what arrives
//! there.
//!
//! Supported: AES-128/256-CBC (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or
//! HMAC-SHA2-256-128 (RFC 4868); 32-bit sequence numbers (no ESN), which
//! run out after 2^32 - 1 packets (RFC 4303 §3.3.3); anti-replay window of
//! any size, 1024 by default.
//!
//! Randomness: IVs come from an [`IvSource`]; [`RandomIvs`] wraps a
//! `ring::rand::SecureRandom` (see [`iv`] for why not the seeded PRNG).

mod algorithms;
mod counters;
mod error;
pub mod iv;
mod lifetime;
pub mod natt;
pub mod packet;
pub mod replay;
mod sa;

pub use algorithms::{Cipher, Integrity, BLOCK_LEN, IV_LEN};
pub use counters::Counters;
pub use error::{ConfigError, OpenError, SealError};
pub use iv::{IvSource, RandomIvs};
pub use lifetime::{Lifetime, LifetimeLimits, LifetimeState};
pub use packet::{NEXT_HEADER_DUMMY, NEXT_HEADER_IPV4, NEXT_HEADER_IPV6};
pub use replay::{ReplayError, ReplayWindow, DEFAULT_WINDOW};
pub use sa::{Opened, SaParams, SecurityAssociation};
