//! NAT-T payloads: NAT-D (RFC 3947 §3.2) and NAT-OA (RFC 3947 §5.1), under
//! their RFC numbers (20, 21) or the draft ones (130, 131).
//!
//! NAT-D body: the hash, as long as the negotiated hash (20 octets for SHA-1).
//!
//! NAT-OA:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |    RESERVED   |        Payload length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    ID Type    |    RESERVED   |            RESERVED           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           IPv4 (4 octets) or IPv6 address (16 octets)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};

use crate::error::Error;
use crate::payload::identification::IdType;
use crate::payload::PayloadType;

/// Which payload numbers NAT-T uses. Peers answer in the numbering of the
/// Vendor ID both sides agreed on (RFC 3947 or a draft), so a payload keeps
/// the numbering it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatTNumbering {
    /// NAT-D 20, NAT-OA 21.
    Rfc3947,
    /// NAT-D 130, NAT-OA 131 (draft-ietf-ipsec-nat-t-ike-02/03).
    Draft,
}

/// A NAT-D payload: HASH(CKY-I | CKY-R | IP | Port). Build the hash input
/// with [`crate::nat_d_input`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NatD {
    pub numbering: NatTNumbering,
    pub hash: Vec<u8>,
}

impl NatD {
    #[must_use]
    pub fn new(numbering: NatTNumbering, hash: Vec<u8>) -> Self {
        Self { numbering, hash }
    }
}

/// A NAT-OA payload: the original address of a Quick Mode peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NatOa {
    pub numbering: NatTNumbering,
    pub address: IpAddr,
}

impl NatOa {
    pub(crate) fn decode(numbering: NatTNumbering, body: &[u8]) -> Result<Self, Error> {
        let kind = match numbering {
            NatTNumbering::Rfc3947 => PayloadType::NAT_OA,
            NatTNumbering::Draft => PayloadType::NAT_OA_DRAFT,
        };
        let Some((fixed, address)) = body.split_at_checked(4) else {
            return Err(Error::PayloadTooShort {
                payload: kind,
                length: u16::try_from(body.len() + 4).unwrap_or(u16::MAX),
                minimum: 12,
            });
        };
        let id_type = fixed.first().copied().unwrap_or_default();
        let bad = || Error::InvalidNatOa {
            id_type,
            length: address.len(),
        };
        let address = match IdType(id_type) {
            IdType::IPV4_ADDR => {
                let octets: [u8; 4] = address.try_into().map_err(|_| bad())?;
                IpAddr::V4(Ipv4Addr::from(octets))
            }
            IdType::IPV6_ADDR => {
                let octets: [u8; 16] = address.try_into().map_err(|_| bad())?;
                IpAddr::V6(Ipv6Addr::from(octets))
            }
            _ => return Err(bad()),
        };
        Ok(Self { numbering, address })
    }

    pub(crate) fn encode_body(&self, out: &mut BytesMut) {
        match self.address {
            IpAddr::V4(v4) => {
                out.put_u8(IdType::IPV4_ADDR.0);
                out.put_slice(&[0; 3]);
                out.put_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.put_u8(IdType::IPV6_ADDR.0);
                out.put_slice(&[0; 3]);
                out.put_slice(&v6.octets());
            }
        }
    }
}
