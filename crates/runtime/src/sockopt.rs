//! Socket options the kernel offers and the standard library does not:
//! TCP MD5 signatures (RFC 2385) and the session TTL.

use socket2::{SockAddr, SockRef};
use std::io;
use std::net::{IpAddr, SocketAddr};

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h). With the plain
/// TCP_MD5SIG option the kernel reads only the address, the key length and
/// the key; flags, prefix length and interface index stay zero.
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: libc::c_int,
    key: [u8; libc::TCP_MD5SIG_MAXKEYLEN],
}

/// RFC 2385: sign every segment to and from `peer` with `password`. On a
/// listening socket it must be set per peer before the peer connects; on a
/// connecting socket, before `connect`.
///
/// `peer` must be of the socket's family; an IPv4 peer of a dual-stack IPv6
/// socket is given as its IPv4-mapped form.
pub(crate) fn set_md5(socket: SockRef<'_>, peer: IpAddr, password: &str) -> io::Result<()> {
    let key = password.as_bytes();
    if key.is_empty() || key.len() > libc::TCP_MD5SIG_MAXKEYLEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "TCP MD5 key must be 1..={} bytes",
                libc::TCP_MD5SIG_MAXKEYLEN
            ),
        ));
    }
    let peer = SockAddr::from(SocketAddr::new(peer, 0));
    // SAFETY: all-zero bytes are a valid value of this plain-data struct.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    let addr_len = usize::try_from(peer.len()).unwrap_or(usize::MAX);
    if addr_len > std::mem::size_of::<libc::sockaddr_storage>() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "address too long",
        ));
    }
    // SAFETY: `peer` holds `addr_len` initialised bytes and `sig.addr` has
    // room for them (checked above); the regions do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            peer.as_ptr().cast::<u8>(),
            std::ptr::addr_of_mut!(sig.addr).cast::<u8>(),
            addr_len,
        );
    }
    sig.keylen = u16::try_from(key.len()).unwrap_or(0);
    sig.key[..key.len()].copy_from_slice(key);
    let len = libc::socklen_t::try_from(std::mem::size_of::<TcpMd5Sig>()).unwrap_or(0);
    // SAFETY: the fd is a valid open socket borrowed for this call; `sig`
    // is a live `struct tcp_md5sig` of `len` bytes.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&*socket),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            std::ptr::addr_of!(sig).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The TTL (IPv4) or hop limit (IPv6) of the session's packets.
pub(crate) fn set_ttl(socket: SockRef<'_>, ipv6: bool, ttl: u8) -> io::Result<()> {
    if ipv6 {
        socket.set_unicast_hops_v6(u32::from(ttl))
    } else {
        socket.set_ttl(u32::from(ttl))
    }
}

/// The address to key MD5 with on a socket of the given family.
pub(crate) fn md5_peer_for(socket_is_v6: bool, peer: IpAddr) -> Option<IpAddr> {
    match (socket_is_v6, peer) {
        (false, IpAddr::V4(_)) | (true, IpAddr::V6(_)) => Some(peer),
        (true, IpAddr::V4(v4)) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        (false, IpAddr::V6(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Socket, Type};

    #[test]
    fn md5_and_ttl_are_accepted_by_the_kernel() -> io::Result<()> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        set_ttl(SockRef::from(&socket), false, 7)?;
        assert_eq!(socket.ttl()?, 7);
        match set_md5(
            SockRef::from(&socket),
            "127.0.0.2".parse().unwrap_or(IpAddr::from([127, 0, 0, 2])),
            "s3cret",
        ) {
            Ok(()) => {}
            // Kernels built without CONFIG_TCP_MD5SIG refuse the option.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            Err(e) => return Err(e),
        }
        assert!(set_md5(SockRef::from(&socket), IpAddr::from([127, 0, 0, 2]), "").is_err());
        Ok(())
    }

    #[test]
    fn ipv4_peers_of_ipv6_sockets_are_mapped() {
        let v4 = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(md5_peer_for(false, v4), Some(v4));
        assert_eq!(
            md5_peer_for(true, v4).map(|a| a.to_string()),
            Some("::ffff:192.0.2.1".to_string())
        );
        assert_eq!(
            md5_peer_for(false, "2001:db8::1".parse().unwrap_or(v4)),
            None
        );
    }
}
