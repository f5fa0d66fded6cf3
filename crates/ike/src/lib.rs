//! Sans-IO IKEv1 (RFC 2409) for the VPN tunnels: Main Mode with
//! pre-shared keys, Quick Mode with PFS, Informational exchanges, NAT-T
//! (RFC 3947), DPD (RFC 3706), retransmission, duplicate answers and
//! rekeying, in both roles.
//!
//! Nothing here owns a socket, a clock or a thread. Datagrams, timer
//! expiries and commands go in; datagrams, timers to arm and events come
//! out ([`IkePeer::handle`]). Randomness (cookies, nonces, DH exponents,
//! SPIs, Message IDs, rekey fuzz) comes from an injected [`Random`]: the
//! runtime hands in [`SystemRandom`], tests a [`SeededRandom`], so a test
//! run replays exactly.
//!
//! Defaults are the cloud's (spec §1.2): responder only (startup action
//! `add`), every supported suite walked lowest first, 28 800 s / 3 600 s,
//! rekey margin 270 s with 100 % fuzz, DPD every 10 s of silence with a 40 s
//! timeout and action `clear`. [`PeerConfig::customer`] makes an initiating
//! customer gateway with the generated configuration's algorithms.
//!
//! Rooms: [`config`], [`proposal`] (algorithms and the choice among them),
//! [`timers`] (kinds and deadlines), [`random`], [`peer`] (the state
//! machine); `wire` and `crypto` adapt `hybridlab-isakmp` and
//! `hybridlab-ike-crypto` to it. `examples/udp_peer.rs` runs one peer on real
//! sockets; `tests/interop/strongswan.sh` runs it against strongSwan.

pub mod config;
mod crypto;
pub mod peer;
pub mod proposal;
pub mod random;
pub mod timers;
mod wire;

pub use config::{
    DpdAction, DpdConfig, PeerConfig, Psk, RekeyConfig, RetransmitConfig, Selector, StartupAction,
};
pub use peer::{
    ChildSaInfo, Command, Event, IkePeer, Input, Key, NatStatus, Output, Phase, Role, SaState,
};
pub use proposal::{Cipher, DhGroup, Integrity, Phase1Proposal, Phase2Proposal};
pub use random::{Random, SeededRandom, SystemRandom};
pub use timers::{TimerKind, RETIRE_REKEYED_AFTER};
