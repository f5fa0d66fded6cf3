//! Wires hybridlab's sans-IO protocol cores to the world.
//!
//! ```text
//!            ┌────────── Lab ───────────────────────────────────────┐
//!  HTTP ───► │ api ──► LabHandle ──► router task inbox (one per router)
//!            │                          │  Router core (hybridlab_bgp)
//!            │                          │  timers keyed by (peer, kind)
//!  TCP  ◄──► │ tcp listeners/readers ◄──┤
//!            │ virtual links ◄──────────┘ ──► other router tasks
//!            │        every byte ──► Wire (taps, blackholes)
//!            └──────────────────────────────────────────────────────┘
//! ```
//!
//! - [`lab`]: builds and runs a lab from a topology.
//! - `router_task`: the actor around one router core.
//! - [`wire`]: the single place link bytes pass (taps, impairments).
//! - `tcp`, `sockopt`: kernel sockets, TCP MD5 (RFC 2385), TTL.
//! - `ipsec`: the IPsec tunnels BGP sessions ride in (IKEv1 + ESP + an
//!   inside IP stack per tunnel), in memory or on kernel UDP 500/4500.
//! - [`api`], [`view`]: the control API and its JSON shapes.
//! - [`events`]: session events for logs, tests and drills.

pub mod api;
mod bfd;
mod bfd_udp;
pub mod check;
mod cloud;
pub mod events;
mod ipsec;
pub mod lab;
mod router_task;
mod sockopt;
mod status;
mod tcp;
mod timers;
pub mod view;
pub mod wire;

pub use events::{LabEvent, LabEventKind};
pub use lab::{CommandError, Lab, LabError, LabHandle, LabOptions};
pub use wire::{LinkId, Wire, WireEvent, WireEventKind};
