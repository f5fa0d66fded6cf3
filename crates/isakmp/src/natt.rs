//! NAT traversal framing: what arrives on UDP port 4500 (RFC 3948 §2), and
//! the input of the NAT-D hash (RFC 3947 §3.2).

use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};

/// The non-ESP marker (RFC 3948 §2.2): four zero octets where ESP has its
/// SPI, which is never zero.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// A NAT-keepalive (RFC 3948 §2.3): one octet 0xFF.
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// What a UDP datagram on port 4500 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Udp4500<'a> {
    /// An IKE message; the marker is stripped.
    Ike(&'a [u8]),
    /// An ESP packet starting at the SPI (RFC 3948 §2.1).
    Esp(&'a [u8]),
    /// A NAT-keepalive: drop it (RFC 3948 §2.3).
    Keepalive,
    /// Neither: shorter than an ESP header (SPI and sequence number, 8
    /// octets) and not a keepalive. Drop it.
    Invalid(&'a [u8]),
}

/// Classifies a datagram received on UDP 4500.
#[must_use]
pub fn classify_udp4500(datagram: &[u8]) -> Udp4500<'_> {
    if datagram == NAT_KEEPALIVE {
        return Udp4500::Keepalive;
    }
    match datagram.split_first_chunk::<4>() {
        Some((marker, ike)) if *marker == NON_ESP_MARKER => Udp4500::Ike(ike),
        // RFC 4303 §2: SPI and sequence number are always there.
        _ if datagram.len() >= 8 => Udp4500::Esp(datagram),
        _ => Udp4500::Invalid(datagram),
    }
}

/// Prepends the non-ESP marker to an IKE message sent on port 4500.
#[must_use]
pub fn with_non_esp_marker(ike: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(ike.len() + 4);
    out.put_slice(&NON_ESP_MARKER);
    out.put_slice(ike);
    out.freeze()
}

/// CKY-I | CKY-R | IP | Port (RFC 3947 §3.2), the input of the NAT-D hash
/// (computed with the negotiated hash by the crypto crate). The first NAT-D
/// a peer sends is over the remote address and port, the others over its
/// own.
#[must_use]
pub fn nat_d_input(cky_i: u64, cky_r: u64, ip: IpAddr, port: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 16 + 2);
    out.extend_from_slice(&cky_i.to_be_bytes());
    out.extend_from_slice(&cky_r.to_be_bytes());
    match ip {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
    out.extend_from_slice(&port.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_marker_and_esp() {
        assert_eq!(classify_udp4500(&[0xff]), Udp4500::Keepalive);
        let ike = with_non_esp_marker(&[1, 2, 3]);
        assert_eq!(classify_udp4500(&ike), Udp4500::Ike(&[1, 2, 3]));
        let esp = [0xc8, 0x07, 0x5a, 0x5e, 0, 0, 0, 1, 0xaa];
        assert_eq!(classify_udp4500(&esp), Udp4500::Esp(&esp));
        // A zero marker with nothing after it is still IKE (then a header error).
        assert_eq!(classify_udp4500(&[0, 0, 0, 0]), Udp4500::Ike(&[]));
        assert_eq!(classify_udp4500(&[]), Udp4500::Invalid(&[]));
        assert_eq!(classify_udp4500(&[0xfe]), Udp4500::Invalid(&[0xfe]));
        assert_eq!(
            classify_udp4500(&[1, 2, 3, 4, 5]),
            Udp4500::Invalid(&[1, 2, 3, 4, 5])
        );
    }

    #[test]
    fn nat_d_input_layout() {
        let v4 = nat_d_input(1, 2, "192.0.2.1".parse().unwrap(), 4500);
        assert_eq!(v4.len(), 8 + 8 + 4 + 2);
        assert_eq!(&v4[..8], &1u64.to_be_bytes());
        assert_eq!(&v4[8..16], &2u64.to_be_bytes());
        assert_eq!(&v4[16..20], &[192, 0, 2, 1]);
        assert_eq!(&v4[20..], &[0x11, 0x94]);
        let v6 = nat_d_input(1, 2, "2001:db8::1".parse().unwrap(), 500);
        assert_eq!(v6.len(), 8 + 8 + 16 + 2);
    }
}
