//! NAT-D hashes (RFC 3947 §3.2).

use std::net::IpAddr;

use crate::hash::HashAlg;
use crate::ikev1::Cookie;

/// HASH = HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash: the
/// address as 4 or 16 bytes, the port in network order (RFC 3947 §3.2).
/// Each side sends one for the peer's address and port, then one for its
/// own; a mismatch on receipt means a NAT in between.
pub fn nat_d_hash(
    hash: HashAlg,
    cky_i: &Cookie,
    cky_r: &Cookie,
    addr: IpAddr,
    port: u16,
) -> Vec<u8> {
    let port = port.to_be_bytes();
    match addr {
        IpAddr::V4(a) => hash.hash(&[cky_i, cky_r, &a.octets(), &port]),
        IpAddr::V6(a) => hash.hash(&[cky_i, cky_r, &a.octets(), &port]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn covers_cookies_address_and_port() {
        let (i, r) = ([1; 8], [2; 8]);
        let v4 = nat_d_hash(
            HashAlg::Sha1,
            &i,
            &r,
            Ipv4Addr::new(10, 0, 0, 1).into(),
            500,
        );
        assert_eq!(
            v4,
            HashAlg::Sha1.hash(&[&[1; 8], &[2; 8], &[10, 0, 0, 1], &[0x01, 0xf4]])
        );
        let v6 = nat_d_hash(HashAlg::Sha2_256, &i, &r, Ipv6Addr::LOCALHOST.into(), 4500);
        let mut addr = [0u8; 16];
        addr[15] = 1;
        assert_eq!(
            v6,
            HashAlg::Sha2_256.hash(&[&[1; 8], &[2; 8], &addr, &[0x11, 0x94]])
        );
    }
}
