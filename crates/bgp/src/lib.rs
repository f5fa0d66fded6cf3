//! Sans-IO BGP-4 core.
//!
//! Nothing in this crate owns a socket, a clock or a thread. Bytes, timer
//! expiries and commands go in; bytes to send, timers to arm and events come
//! out. The runtime crate wires it to the world; tests drive it directly.
//!
//! Rooms, as in every protocol crate of hybridlab:
//! - [`packet`]: the wire codec (RFC 4271 §4, RFC 4760, RFC 6793, RFC 7606).
//! - [`session`]: the per-peer finite state machine (RFC 4271 §8).
//! - [`rib`]: Adj-RIB-In, Loc-RIB, Adj-RIB-Out and the decision process (RFC 4271 §9).
//! - [`policy`]: import and export policy.
//! - [`router`]: one BGP speaker: sessions + RIB + policy glued together.

pub mod packet;
pub mod policy;
pub mod rib;
pub mod router;
pub mod session;
