//! Plain ESP (IP protocol 50, RFC 4303 §2) for a tunnel whose far end is a
//! real router and whose SAs are not UDP-encapsulated: no NAT between the
//! ends and a peer that does not force encapsulation (strongSwan with the
//! kernel backend and AWS's published configuration is exactly that).
//!
//! One raw IPv4 socket for protocol 50 bound to the tunnel's outside
//! address. Binding makes the kernel deliver only packets for that
//! address (several tunnels on different outside addresses each get their
//! own); the reader also checks the source against the tunnel's peer, as
//! two labs' sockets on one address would both see every packet. Raw
//! sockets need CAP_NET_RAW: without it the lab still starts (most peers
//! sit behind a NAT and use UDP 4500), warns once and counts what it
//! could not send.

use crate::router_task::{Event, Inbox};
use bytes::{Bytes, BytesMut};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// IANA protocol number of ESP (RFC 4303 §2).
pub(crate) const IPPROTO_ESP: u8 = 50;
/// Larger than any ESP packet the tunnel carries plus its IPv4 header (the
/// kernel reassembles fragments before raw delivery).
const MAX_PACKET: usize = 65_535;

/// The protocol-50 socket of one tunnel, or the reason it has none.
#[derive(Debug)]
pub(crate) struct EspPath {
    /// A raw socket in tokio's datagram wrapper: its `recv_from`/`send_to`
    /// are the plain system calls, which a raw socket answers alike (with
    /// port 0), and it needs no `unsafe` fd registration.
    socket: Option<Arc<UdpSocket>>,
    local: Ipv4Addr,
    peer: Ipv4Addr,
    /// ESP packets the tunnel produced that did not leave (no socket, or
    /// the send failed).
    dropped: AtomicU64,
}

impl EspPath {
    /// Opens the socket; on failure (no CAP_NET_RAW, usually) warns once
    /// and returns a path that counts drops. Needs a tokio runtime.
    pub(crate) fn open(local: Ipv4Addr, peer: Ipv4Addr) -> Self {
        let socket = match open_raw(local) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                warn!(
                    %local, %peer, error = %e,
                    "no raw socket for plain ESP (IP protocol 50; needs CAP_NET_RAW): \
                     the tunnel works only if the peer encapsulates ESP in UDP 4500 (NAT-T)"
                );
                None
            }
        };
        EspPath {
            socket,
            local,
            peer,
            dropped: AtomicU64::new(0),
        }
    }

    /// Sends one ESP packet to `to`; the kernel adds the IPv4 header with
    /// protocol 50 and our bound address as source. On failure, the
    /// number of packets dropped so far.
    pub(crate) fn send(&self, to: IpAddr, bytes: &[u8]) -> Result<(), u64> {
        let Some(socket) = &self.socket else {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            debug!(local = %self.local, %to, dropped = n, "plain ESP dropped: no raw socket");
            return Err(n);
        };
        match socket.try_send_to(bytes, SocketAddr::new(to, 0)) {
            Ok(_) => Ok(()),
            Err(e) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                debug!(local = %self.local, %to, error = %e, dropped = n, "plain ESP not sent");
                Err(n)
            }
        }
    }

    /// The reader: every protocol-50 packet from the peer to our address,
    /// IPv4 header stripped, to neighbour `slot` of the router behind
    /// `inbox`. None without a socket.
    pub(crate) fn spawn_reader(&self, slot: usize, inbox: Inbox) -> Option<JoinHandle<()>> {
        let socket = self.socket.clone()?;
        let (local, peer) = (self.local, self.peer);
        Some(tokio::spawn(async move {
            let mut buf = BytesMut::zeroed(MAX_PACKET);
            loop {
                let n = match socket.recv(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        debug!(%local, error = %e, "raw ESP read failed");
                        continue;
                    }
                };
                let Some(packet) = buf.get(..n) else {
                    continue;
                };
                let Some((src, dst, esp)) = strip_ipv4(packet) else {
                    debug!(%local, len = n, "raw ESP socket: not an IPv4 ESP packet");
                    continue;
                };
                if src != peer || dst != local {
                    // Another tunnel's peer (or a stranger): not ours.
                    continue;
                }
                let event = Event::TunnelEsp {
                    slot,
                    from: IpAddr::V4(src),
                    to: IpAddr::V4(dst),
                    bytes: Bytes::copy_from_slice(esp),
                };
                if inbox.send(event).is_err() {
                    return;
                }
            }
        }))
    }
}

fn open_raw(local: Ipv4Addr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_ESP))),
    )?;
    socket.set_nonblocking(true)?;
    socket.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(local), 0)))?;
    UdpSocket::from_std(std::net::UdpSocket::from(socket))
}

/// A raw IPv4 socket delivers the packet with its IPv4 header (raw(7)):
/// returns source, destination and the payload after the header (IHL
/// words, RFC 791 §3.1), bounded by Total Length. None for anything that
/// is not a well-formed IPv4 protocol-50 packet.
pub(crate) fn strip_ipv4(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    // Some kernels report Total Length as received; bound by what we
    // have either way.
    let end = total.min(packet.len());
    if *packet.get(9)? != IPPROTO_ESP {
        return None;
    }
    let addr = |at: usize| -> Option<Ipv4Addr> {
        let b: [u8; 4] = packet.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    let src = addr(12)?;
    let dst = addr(16)?;
    let payload = packet.get(ihl..end)?;
    Some((src, dst, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ihl_words: u8, total: u16, proto: u8) -> Vec<u8> {
        let mut h = vec![0u8; usize::from(ihl_words) * 4];
        h[0] = 0x40 | ihl_words;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[8] = 64;
        h[9] = proto;
        h[12..16].copy_from_slice(&[198, 51, 100, 2]);
        h[16..20].copy_from_slice(&[198, 51, 100, 1]);
        h
    }

    #[test]
    fn strips_the_header_by_ihl() {
        let mut p = header(5, 28, 50);
        p.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let (src, dst, esp) = strip_ipv4(&p).expect("well-formed");
        assert_eq!(src, Ipv4Addr::new(198, 51, 100, 2));
        assert_eq!(dst, Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(esp, &[1, 2, 3, 4, 5, 6, 7, 8]);

        // With options (IHL 6) the payload starts after them.
        let mut p = header(6, 28, 50);
        p.extend_from_slice(&[9, 9, 9, 9]);
        assert_eq!(strip_ipv4(&p).map(|x| x.2), Some(&[9u8, 9, 9, 9][..]));
    }

    #[test]
    fn total_length_bounds_the_payload() {
        let mut p = header(5, 24, 50);
        p.extend_from_slice(&[1, 2, 3, 4, 0xee, 0xee]);
        assert_eq!(strip_ipv4(&p).map(|x| x.2), Some(&[1u8, 2, 3, 4][..]));
    }

    /// No socket (no CAP_NET_RAW, or as here an address not on this
    /// host): the path still exists and counts what it drops.
    #[tokio::test]
    async fn without_a_socket_packets_are_counted_not_sent() {
        let esp = EspPath::open(Ipv4Addr::new(192, 0, 2, 99), Ipv4Addr::new(192, 0, 2, 98));
        assert!(esp.socket.is_none());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        assert!(esp.spawn_reader(0, tx).is_none());
        let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 98));
        assert_eq!(esp.send(peer, &[0; 16]), Err(1));
        assert_eq!(esp.send(peer, &[0; 16]), Err(2));
    }

    #[test]
    fn rejects_what_is_not_ipv4_esp() {
        assert!(strip_ipv4(&[]).is_none());
        assert!(strip_ipv4(&[0x45]).is_none());
        assert!(strip_ipv4(&header(5, 20, 17)).is_none(), "UDP");
        let mut short = header(5, 20, 50);
        short[0] = 0x44;
        assert!(strip_ipv4(&short).is_none(), "IHL below 5");
        let mut v6 = header(5, 20, 50);
        v6[0] = 0x65;
        assert!(strip_ipv4(&v6).is_none());
        // IHL pointing past the packet.
        let mut p = header(5, 20, 50);
        p[0] = 0x4f;
        assert!(strip_ipv4(&p).is_none());
    }
}
