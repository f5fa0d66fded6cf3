//! What goes in and out of an [`crate::IpsecTunnel`].

use bytes::Bytes;
use hybridlab_bgp::session::{SessionInput, SessionOutput};
use hybridlab_ike::{Command, Phase, SaState};
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Debug)]
pub enum TunnelInput {
    /// A UDP datagram for this tunnel's outside address: port 500 IKE;
    /// port 4500 IKE after the non-ESP marker, ESP-in-UDP or a NAT
    /// keepalive (RFC 3948 §2).
    Udp {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
    /// Plain ESP (IP protocol 50) from a raw socket: only for SAs that are
    /// not UDP-encapsulated.
    Esp {
        from: IpAddr,
        to: IpAddr,
        bytes: Bytes,
    },
    /// Time moved on: run whatever is due at `now`.
    Tick,
    /// The BGP session's I/O request (`Connect`, `Send`, `Close`; other
    /// outputs are ignored).
    Bgp(SessionOutput),
    Command(Command),
    /// An inner IPv4 packet to send through the tunnel as it is (traffic
    /// from a host on this end's side, a test's ping). Dropped and counted
    /// while no SA is up.
    Inner(Bytes),
}

#[derive(Clone, Debug)]
pub enum TunnelOutput {
    Udp {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
    /// Plain ESP over IP protocol 50 (needs a raw socket). Only for an SA
    /// that is not UDP-encapsulated; see the crate docs for how to avoid it.
    Esp {
        from: IpAddr,
        to: IpAddr,
        bytes: Bytes,
    },
    /// Feed this to the BGP session (`Connected`, `Received`, `Closed`,
    /// `ConnectFailed`).
    Bgp(SessionInput),
    /// An authentic inner packet the inside endpoint does not terminate:
    /// an echo reply to our inside address, traffic for hosts on this end's
    /// side. The runtime may forward it or drop it.
    Inner(Bytes),
    Event(TunnelEvent),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TunnelEvent {
    /// The first child SA is installed: traffic flows.
    IpsecUp,
    /// The last child SA is gone (DPD clear, the peer's delete, Stop,
    /// lifetime without rekey).
    IpsecDown {
        reason: String,
    },
    Phase {
        phase: Phase,
        state: SaState,
    },
    /// In words, as the cloud's logs say it ("No proposal match", "Peer is
    /// not responsive - declaring peer dead", ...).
    Error(String),
}
