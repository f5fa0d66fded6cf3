//! One end of a VPN tunnel as one sans-IO state machine.
//!
//! ```text
//!   UDP 500/4500 ──► classify (RFC 3948 §2) ─┬─ IKE ──► IkePeer ──► ChildSaUp/Deleted ─► ESP SAs
//!                                            ├─ 0xFF keepalive: counted, ignored
//!                                            └─ ESP ─► SA by SPI ─► open ─► TunnelIp ─► BgpTransport ─► Bgp(SessionInput)
//!   Bgp(SessionOutput) ─► BgpTransport ─► TunnelIp ─► poll ─► seal (newest SA) ─► Udp to peer:4500 (or Esp)
//!   Tick ─► IKE timers due, NAT keepalive, TCP timers
//! ```
//!
//! [`IpsecTunnel`] owns a `hybridlab_ike::IkePeer`, the installed ESP
//! `SecurityAssociation` pairs, a `hybridlab_tunnel_ip::TunnelIp` (the
//! inside address, TCP for BGP, ping answers for VPC hosts) and its
//! `BgpTransport`. The runtime hands it datagrams, `Tick`s at
//! [`IpsecTunnel::next_deadline`], and the BGP session's I/O requests; it
//! sends what comes out. No sockets, no clocks: `now` is an argument.
//!
//! # What the runtime does, per tunnel
//!
//! - Bind UDP 500 and 4500 on the tunnel's outside address; hand every
//!   datagram to [`IpsecTunnel::handle`] as [`TunnelInput::Udp`] with the
//!   addresses as seen. Send each [`TunnelOutput::Udp`] from the socket
//!   bound at its `from` port to `to`, bytes as they are.
//! - Call [`IpsecTunnel::start`] once; send [`TunnelInput::Tick`] when
//!   [`IpsecTunnel::next_deadline`] comes (re-read it after every call).
//! - Feed each [`TunnelOutput::Bgp`] to the tunnel's BGP session, and the
//!   session's `Connect` / `Send` / `Close` back as [`TunnelInput::Bgp`];
//!   the session's timers stay the runtime's. `next_conn` is the lab-wide
//!   connection id counter.
//! - Show [`IpsecTunnel::view`]; log [`TunnelOutput::Event`]s.
//!   [`TunnelOutput::Inner`] and [`TunnelOutput::Esp`] may be dropped.
//!
//! # Behaviour
//!
//! - **Timers**: IKE's `StartTimer` / `StopTimer` go into a map keyed by
//!   `TimerKind` (re-arming replaces, stopping cancels), fired in deadline
//!   order on `Tick`.
//! - **SAs**: `ChildSaUp` installs the inbound and outbound SA; outbound
//!   switches to the newest pair at once, older inbound SAs stay until IKE
//!   deletes them (peer's Delete, lifetime), so a rekey drops nothing;
//!   one deleted while a newer pair is live drains for 2 s (inbound only)
//!   so packets the peer sealed before it switched still open.
//!   [`TunnelEvent::IpsecUp`] with the first pair, [`TunnelEvent::IpsecDown`]
//!   when the last one goes.
//! - **DPD**: authenticated ESP is reported to IKE as `PeerActivity` at
//!   most once a second; IKE probes only a quiet peer.
//! - **No SA**: what the TCP stack sends is dropped and counted
//!   ([`TunnelStats::dropped_no_sa`]); BGP's timers deal with it.
//! - **NAT**: when this side is behind a NAT, a keepalive (0xFF on 4500)
//!   goes out after 20 s without any datagram to the peer (RFC 3948 §4).
//!   The destination of ESP follows the source of authentic ESP.
//!
//! # UDP encapsulation and raw sockets
//!
//! An SA that is not UDP-encapsulated leaves as [`TunnelOutput::Esp`]
//! (IP protocol 50: a raw socket, i.e. root). strongSwan here always
//! encapsulates (kernel-libipsec). Between two hybridlab ends, set
//! `force_encapsulation` on the initiator's `PeerConfig` (as
//! [`TunnelConfig`] users and this crate's tests do): both ends float to
//! 4500 and ESP rides in UDP, so no raw socket is ever needed.
//!
//! # Interop
//!
//! `examples/tunnel_peer.rs` is the thin driver (UDP sockets, one clock, a
//! BGP router core); `tests/interop/strongswan_bgp.sh` runs it against
//! strongSwan 5.9.8 (kernel-libipsec) with BIRD 2.0.12 on `ipsec0`. Seen
//! there, both roles: IKE and ESP up in under 10 ms after the first
//! packet, BGP Established over the inside addresses and routes learned
//! both ways, pings of the inside address and of a VPC host answered;
//! charon's CHILD rekey under a 5/s ping stream lost 0 of 160; with
//! charon's packets cut, BGP fell by hold timer 30 s and DPD declared the
//! peer dead 40 s after it was last heard.
//!
//! # Randomness
//!
//! IKE's randomness is injected (`hybridlab_ike::Random`). ESP IVs come
//! from `ring`'s OS generator, never from a seeded PRNG (RFC 3602 §2.1).

mod child_sa;
mod config;
mod io;
mod timers;
mod tunnel;
mod view;

pub use config::{TunnelConfig, TunnelError, DEFAULT_REPLAY_WINDOW};
pub use hybridlab_ike::{Command, Phase, Role, SaState};
pub use io::{TunnelEvent, TunnelInput, TunnelOutput};
pub use tunnel::{IpsecTunnel, TunnelStats, NAT_KEEPALIVE_INTERVAL};
pub use view::{ChildSaView, InsideView, TunnelView};
