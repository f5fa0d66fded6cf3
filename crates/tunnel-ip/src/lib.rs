//! The userspace IPv4 endpoint inside an IPsec tunnel.
//!
//! An ESP SA (crates/esp) delivers inner IPv4 packets; this crate
//! terminates them without root or a TUN device, and hands back the IP
//! packets to seal into the SA:
//!
//! ```text
//!            ┌──────────────────────── TunnelIp ─────────────────────────┐
//!  SA open ─►│ receive ─► vet (smoltcp::wire, checksums) ─┬─► TCP: smoltcp │─► TcpEvent
//!            │                                            ├─► echo: reply   │
//!            │                                            └─► drop, count   │
//!  SA seal ◄─│ poll ◄── smoltcp segments + echo replies                  │
//!            └───────────────────────────────────────────────────────────┘
//! ```
//!
//! - **TCP** is smoltcp's (`smoltcp` 0.14, a well-kept userspace TCP/IP
//!   stack), so the BGP session between the tunnel's inside addresses
//!   (169.254.x.1 cloud side, .2 customer side) runs on real TCP: handshake,
//!   retransmission, flow control, FIN and RST.
//! - **MSS** is clamped to [`DEFAULT_TCP_MSS`] (1379, spec §1.4) or to
//!   MTU − 40 if smaller, in the SYNs we send and in the segments.
//! - **ICMP echo** is answered for the inside address and for any address
//!   in [`TunnelIpConfig::answer_ping_for`] (emulated VPC hosts), here on
//!   the raw packet since the TCP stack owns only the inside address.
//!   Replies leave with TTL [`REPLY_TTL`].
//! - Everything else (fragments, other protocols, other destinations,
//!   anything malformed) is dropped and counted in [`Stats`]; input never
//!   panics.
//!
//! # Sans-IO
//!
//! No sockets, no clock. `now` is a [`Duration`](std::time::Duration) on
//! the caller's clock (since any fixed start, never going backwards):
//! call [`TunnelIp::receive`] per inner packet, [`TunnelIp::poll`] after
//! every receive and at [`TunnelIp::poll_at`], and seal what `poll`
//! returns into the SA. Randomness (ISNs, ephemeral ports) comes from
//! [`TunnelIpConfig::seed`], so a run replays.
//!
//! # BGP over the tunnel: the runtime's connection model
//!
//! The runtime's router task (`crates/runtime/src/router_task.rs`) knows a
//! connection as a `ConnId` fed to the BGP core as `Connected { conn,
//! outbound, local, remote }`, `Received { conn, data }` and `Closed {
//! conn }` (or `ConnectFailed` for an attempt), and carries out the core's
//! `Connect`, `Send` and `Close`. A tunnel connection maps onto it one to
//! one, and [`BgpTransport`] does the mapping:
//!
//! | TCP here                                   | BGP core (`SessionInput`)                    |
//! |--------------------------------------------|----------------------------------------------|
//! | `TcpEvent::Connected` (from the peer only) | `Connected { conn: fresh ConnId, outbound, local, remote }` |
//! | `TcpEvent::Readable` → `recv` until 0      | `Received { conn, data }`                    |
//! | `TcpEvent::PeerClosed` (FIN)               | `Closed { conn }`, and our FIN follows       |
//! | `TcpEvent::Closed` (RST, after FINs)       | `Closed { conn }`, once                      |
//! | `Closed { ConnectFailed }` of the attempt  | `ConnectFailed`                              |
//!
//! | BGP core (`SessionOutput`) | here                                                  |
//! |----------------------------|-------------------------------------------------------|
//! | `Connect`                  | `connect(peer, 179)`; an older attempt is aborted     |
//! | `Send { conn, data }`      | `send`, the rest queued until the buffer frees        |
//! | `Close { conn }`           | queued bytes out, then FIN; the core hears no more    |
//!
//! What a runtime does with it, per tunnel: own one `TunnelIp` and one
//! `BgpTransport` in the router task (a new `Transport::Tunnel` beside
//! `Virtual` and `Tcp`); feed each packet the SA opens to `receive`, then
//! `pump` the transport and hand its inputs to the core; run `poll` when
//! `poll_at` comes due (a timer like the BGP ones) and after every core
//! output batch, and seal each returned packet into the SA; number
//! connections with the lab-wide `ConnId` counter; pass every inner packet
//! through `Wire` as it does TCP bytes.

mod bgp;
mod config;
mod device;
mod endpoint;
mod event;
mod icmp;
mod ingress;
mod stats;

pub use bgp::{BgpTransport, BGP_PORT};
pub use config::{ConfigError, TunnelIpConfig, DEFAULT_MTU, DEFAULT_PREFIX_LEN, DEFAULT_TCP_MSS};
pub use endpoint::{Disposition, TunnelIp, TunnelIpError, MAX_CONNECTIONS};
pub use event::{CloseReason, TcpEvent, TcpHandle, TcpState};
pub use icmp::REPLY_TTL;
pub use ingress::DropReason;
pub use stats::Stats;
