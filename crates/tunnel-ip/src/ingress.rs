//! What an inner packet from the SA is, decided before anything acts on
//! it. Every layer is parsed with smoltcp's wire module, checksums
//! verified, so the TCP stack only ever sees packets it will accept and
//! every drop is counted with its reason.

use crate::icmp::EchoRequest;
use ipnet::Ipv4Net;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv4Packet, Icmpv4Repr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, TcpPacket, TcpRepr,
};
use std::net::Ipv4Addr;

/// Why a packet went no further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DropReason {
    /// Truncated, not version 4, bad header length or checksum.
    #[error("malformed IPv4 header")]
    MalformedIp,
    /// A fragment: nothing is reassembled. The MSS clamp keeps TCP from
    /// needing fragments inside the tunnel.
    #[error("IPv4 fragment (no reassembly)")]
    Fragment,
    #[error("malformed TCP segment")]
    MalformedTcp,
    #[error("malformed ICMP message")]
    MalformedIcmp,
    /// Neither the inside address nor an emulated VPC host.
    #[error("destination {0} is not served here")]
    NotForUs(Ipv4Addr),
    /// A protocol or ICMP type this endpoint does not speak (UDP, echo
    /// replies, ICMP errors, TCP to a VPC host).
    #[error("protocol {0} not handled for this destination")]
    Unsupported(u8),
}

/// The verdict on one packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict<'a> {
    /// A well-formed TCP segment for the inside address.
    Tcp,
    Echo(EchoRequest<'a>),
    Drop(DropReason),
}

pub(crate) fn classify<'a>(packet: &'a [u8], local: Ipv4Addr, vpc: &[Ipv4Net]) -> Verdict<'a> {
    let caps = ChecksumCapabilities::default();
    let Ok(ip) = Ipv4Packet::new_checked(packet) else {
        return Verdict::Drop(DropReason::MalformedIp);
    };
    // Checked before the header is parsed: the parser refuses fragments
    // too, but they deserve their own counter.
    if ip.version() == 4 && (ip.more_frags() || ip.frag_offset() != 0) {
        return Verdict::Drop(DropReason::Fragment);
    }
    let Ok(ip_repr) = Ipv4Repr::parse(&ip, &caps) else {
        return Verdict::Drop(DropReason::MalformedIp);
    };
    let dst = ip_repr.dst_addr;
    let to_local = dst == local;
    if !to_local && !vpc.iter().any(|net| net.contains(&dst)) {
        return Verdict::Drop(DropReason::NotForUs(dst));
    }
    let payload = ip.payload();
    match ip_repr.next_header {
        IpProtocol::Tcp if to_local => {
            let Ok(tcp) = TcpPacket::new_checked(payload) else {
                return Verdict::Drop(DropReason::MalformedTcp);
            };
            let (src, dst) = (IpAddress::Ipv4(ip_repr.src_addr), IpAddress::Ipv4(dst));
            match TcpRepr::parse(&tcp, &src, &dst, &caps) {
                Ok(_) => Verdict::Tcp,
                Err(_) => Verdict::Drop(DropReason::MalformedTcp),
            }
        }
        IpProtocol::Icmp => {
            let Ok(icmp) = Icmpv4Packet::new_checked(payload) else {
                return Verdict::Drop(DropReason::MalformedIcmp);
            };
            if !icmp.verify_checksum() {
                return Verdict::Drop(DropReason::MalformedIcmp);
            }
            match Icmpv4Repr::parse(&icmp, &caps) {
                Ok(Icmpv4Repr::EchoRequest {
                    ident,
                    seq_no,
                    data,
                }) => Verdict::Echo(EchoRequest {
                    from: ip_repr.src_addr,
                    to: dst,
                    ident,
                    seq_no,
                    data,
                }),
                // A sound message of a type we do not answer (the parser
                // knows only a few types; the checksum already passed).
                _ => Verdict::Drop(DropReason::Unsupported(u8::from(IpProtocol::Icmp))),
            }
        }
        other => Verdict::Drop(DropReason::Unsupported(u8::from(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);

    #[test]
    fn garbage_and_truncation_are_malformed() {
        assert_eq!(
            classify(&[], LOCAL, &[]),
            Verdict::Drop(DropReason::MalformedIp)
        );
        assert_eq!(
            classify(&[0x45, 0, 0, 20], LOCAL, &[]),
            Verdict::Drop(DropReason::MalformedIp)
        );
        // Version 6 in an IPv4 tunnel.
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        assert_eq!(
            classify(&v6, LOCAL, &[]),
            Verdict::Drop(DropReason::MalformedIp)
        );
    }
}
