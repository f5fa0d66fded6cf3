//! Kernel UDP for BFD to external neighbours (RFC 5881).
//!
//! Reception: one socket per local address on UDP 3784, reading the TTL (or
//! Hop Limit) of every datagram from its control message, since RFC 5881 §5
//! accepts only 255. A task per socket hands each datagram to the router
//! task of the neighbour it came from. Transmission: one connected socket
//! per session, from a source port in 49152–65535, TTL 255 (RFC 5881 §4).
//!
//! The TTL comes from `recvmsg(2)` through `libc`, already a dependency for
//! TCP MD5: neither the standard library nor tokio exposes control
//! messages, and one small call does not justify another crate.

use crate::bfd::BfdKey;
use crate::router_task::{Event, Inbox};
use bytes::Bytes;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::collections::HashMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// RFC 5881 §4: single-hop Control packets go to this port.
pub const BFD_PORT: u16 = 3784;
/// RFC 5881 §4: the source port range.
const SOURCE_PORT_FIRST: u16 = 49152;
const SOURCE_PORT_COUNT: u16 = 16384;
/// RFC 5881 §5.
const TTL: u8 = 255;
/// Larger than any Control packet (24 bytes, plus at most 28 of
/// authentication); a longer datagram is still read whole enough to count.
const MAX_DATAGRAM: usize = 512;

/// A session's sending socket, connected to the peer's port 3784. The
/// kernel's choice of local address is read back from it.
pub(crate) fn bind_sender(
    peer: IpAddr,
    local: Option<IpAddr>,
    port_hint: u16,
) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(SocketAddr::new(peer, 0)),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    crate::sockopt::set_ttl(SockRef::from(&socket), peer.is_ipv6(), TTL)?;
    socket.set_nonblocking(true)?;
    let local = local.unwrap_or(match peer {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    // RFC 5881 §4: a port of the range, distinct per session; start where
    // the hint says and take the first free one.
    let mut bound = Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free BFD source port in 49152-65535",
    ));
    for i in 0..SOURCE_PORT_COUNT {
        let offset = port_hint.wrapping_add(i) % SOURCE_PORT_COUNT;
        let port = SOURCE_PORT_FIRST + offset;
        match socket.bind(&SocketAddr::new(local, port).into()) {
            Ok(()) => {
                bound = Ok(());
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => return Err(e),
        }
    }
    bound?;
    socket.connect(&SocketAddr::new(peer, BFD_PORT).into())?;
    UdpSocket::from_std(socket.into())
}

/// Where received datagrams go: the router and neighbour of each peer
/// address, and a router that counts packets from anyone else.
#[derive(Clone, Debug)]
pub(crate) struct Dispatch {
    pub peers: HashMap<IpAddr, (Inbox, usize)>,
    pub strangers: Inbox,
}

/// Binds UDP 3784 on `addr`, asking the kernel for each datagram's TTL.
pub(crate) fn bind_receiver(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Several labs (tests) may receive on distinct addresses of one host,
    // next to a wildcard: the kernel gives each datagram to the most
    // specific socket.
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
        set_int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
    } else {
        set_int_option(&socket, libc::IPPROTO_IP, libc::IP_RECVTTL, 1)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Reads datagrams until aborted, handing each to its router.
pub(crate) fn spawn_receiver(socket: UdpSocket, dispatch: Dispatch) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = [0u8; MAX_DATAGRAM];
        loop {
            let received = socket
                .async_io(Interest::READABLE, || recv_with_ttl(&socket, &mut buf))
                .await;
            let (len, from, ttl) = match received {
                Ok(r) => r,
                Err(e) => {
                    warn!(error = %e, "BFD receive failed");
                    continue;
                }
            };
            let data = Bytes::copy_from_slice(buf.get(..len).unwrap_or(&[]));
            let peer = from.ip().to_canonical();
            // No TTL reported cannot be proved to be 255: count it low.
            let ttl = ttl.unwrap_or(0);
            let (inbox, from) = match dispatch.peers.get(&peer) {
                Some((inbox, neighbor)) => (inbox, BfdKey::Neighbor(*neighbor)),
                None => (&dispatch.strangers, BfdKey::Stranger(peer)),
            };
            debug!(%peer, len, ttl, "BFD datagram");
            if inbox.send(Event::BfdReceived { from, data, ttl }).is_err() {
                return;
            }
        }
    })
}

fn set_int_option(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(size_of::<libc::c_int>()).unwrap_or(0);
    // SAFETY: the fd is a valid open socket for the call; `value` is a live
    // c_int of `len` bytes.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::addr_of!(value).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `recvmsg(2)`: the payload length, the sender, and the TTL or Hop
/// Limit from the IP_TTL / IPV6_HOPLIMIT control message.
fn recv_with_ttl(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<u8>)> {
    // SAFETY: all-zero bytes are valid values of these plain-data structs.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    // Room for one int-sized control message of either family, aligned.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = std::ptr::addr_of_mut!(name).cast::<libc::c_void>();
    msg.msg_namelen = libc::socklen_t::try_from(size_of::<libc::sockaddr_storage>()).unwrap_or(0);
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: every pointer in `msg` refers to a live buffer of the length
    // given with it, for the duration of the call.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
    let len = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    let from = sockaddr_to_std(&name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "sender of unknown family"))?;
    let mut ttl = None;
    // SAFETY: the CMSG_* walk stays within `msg_controllen` bytes of
    // `control`, as the kernel filled them; each data read is of the int
    // the kernel put there for these two message types.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let ours = (c.cmsg_level == libc::IPPROTO_IP && c.cmsg_type == libc::IP_TTL)
                || (c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_HOPLIMIT);
            if ours {
                let value = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                ttl = u8::try_from(value).ok();
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((len.min(buf.len()), from, ttl))
}

fn sockaddr_to_std(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, and
            // sockaddr_storage is large and aligned enough for it.
            let a = unsafe { &*std::ptr::from_ref(s).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &*std::ptr::from_ref(s).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::new(IpAddr::V6(ip), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ttl_is_read_from_the_control_message() -> io::Result<()> {
        let receiver = bind_receiver(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let to = receiver.local_addr()?;
        let sender = std::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        for ttl in [255u32, 64] {
            sender.set_ttl(ttl)?;
            sender.send_to(b"hello", to)?;
            let mut buf = [0u8; 16];
            let (len, from, got) = receiver
                .async_io(Interest::READABLE, || recv_with_ttl(&receiver, &mut buf))
                .await?;
            assert_eq!(buf.get(..len), Some(&b"hello"[..]));
            assert_eq!(from, sender.local_addr()?);
            assert_eq!(got.map(u32::from), Some(ttl));
        }
        Ok(())
    }

    #[tokio::test]
    async fn senders_use_the_rfc_5881_port_range_and_ttl_255() -> io::Result<()> {
        let peer = IpAddr::from([127, 0, 0, 1]);
        let a = bind_sender(peer, None, 7)?;
        let b = bind_sender(peer, None, 7)?;
        for s in [&a, &b] {
            let port = s.local_addr()?.port();
            assert!((49152..=65535).contains(&port), "{port}");
            assert_eq!(s.ttl()?, 255);
            assert_eq!(s.peer_addr()?, SocketAddr::new(peer, BFD_PORT));
        }
        assert_ne!(a.local_addr()?, b.local_addr()?);
        Ok(())
    }
}
