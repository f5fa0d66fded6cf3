//! What happens to TCP connections, as events: smoltcp has none (its
//! sockets are polled), so the endpoint derives them by watching each
//! socket's state after every turn of the stack.

use std::fmt;
use std::net::SocketAddrV4;

/// Names one TCP connection of a [`crate::TunnelIp`]. Never reused, so a
/// stale handle cannot reach a later connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub(crate) u64);

impl fmt::Display for TcpHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp#{}", self.0)
    }
}

/// TCP states (RFC 9293 §3.3.2), as the stack reports them.
pub use smoltcp::socket::tcp::State as TcpState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    /// The three-way handshake completed. Inbound connections (to a port
    /// given to `listen`) are first seen here.
    Connected {
        handle: TcpHandle,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        outbound: bool,
    },
    /// Bytes wait in the receive buffer. Raised once; raised again only
    /// after `recv` has emptied the buffer.
    Readable { handle: TcpHandle },
    /// The peer sent FIN: nothing more will arrive (RFC 9293 §3.6). Our
    /// side stays open until `close`.
    PeerClosed { handle: TcpHandle },
    /// The connection is over; the handle is dead from now on.
    Closed {
        handle: TcpHandle,
        reason: CloseReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// Both FINs exchanged.
    Graceful,
    /// The peer reset an open connection.
    Reset,
    /// An outbound attempt ended before the handshake completed (the peer
    /// refused it with RST).
    ConnectFailed,
    /// We called `abort`.
    Aborted,
}
