//! ICMP echo for the inside address and for emulated VPC hosts.
//!
//! The TCP stack only owns the inside address, and a VPC host is no
//! interface of ours at all, so echo is answered here, on the raw packet,
//! for both: one code path, one counter.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr};
use std::net::Ipv4Addr;

/// TTL of the replies: what Linux and the cloud's hosts use.
pub const REPLY_TTL: u8 = 64;

/// An echo request, as far as a reply needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EchoRequest<'a> {
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub ident: u16,
    pub seq_no: u16,
    pub data: &'a [u8],
}

/// The Echo Reply to `request` (RFC 792, "Echo or Echo Reply Message"):
/// addresses swapped, identifier, sequence number and data returned as
/// they came, both checksums computed afresh.
pub(crate) fn echo_reply(request: &EchoRequest<'_>) -> Vec<u8> {
    let icmp = Icmpv4Repr::EchoReply {
        ident: request.ident,
        seq_no: request.seq_no,
        data: request.data,
    };
    let ip = Ipv4Repr {
        src_addr: request.to,
        dst_addr: request.from,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: REPLY_TTL,
    };
    let caps = ChecksumCapabilities::default();
    let mut buf = vec![0u8; ip.buffer_len() + icmp.buffer_len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    ip.emit(&mut packet, &caps);
    icmp.emit(
        &mut Icmpv4Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_parses_back_with_good_checksums_and_ttl_64() {
        let request = EchoRequest {
            from: Ipv4Addr::new(169, 254, 10, 2),
            to: Ipv4Addr::new(10, 0, 5, 9),
            ident: 0x1234,
            seq_no: 7,
            data: b"abcdefgh",
        };
        let bytes = echo_reply(&request);
        let caps = ChecksumCapabilities::default();
        let ip = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        let ip_repr = Ipv4Repr::parse(&ip, &caps).unwrap();
        assert_eq!(ip_repr.src_addr, request.to);
        assert_eq!(ip_repr.dst_addr, request.from);
        assert_eq!(ip_repr.hop_limit, 64);
        let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(
            Icmpv4Repr::parse(&icmp, &caps).unwrap(),
            Icmpv4Repr::EchoReply {
                ident: 0x1234,
                seq_no: 7,
                data: b"abcdefgh"
            }
        );
    }
}
