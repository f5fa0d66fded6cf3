//! Identification payload (RFC 2408 §3.8) in the IPsec DOI form
//! (RFC 2407 §4.6.2): phase 1 identities (IDii/IDir) and Quick Mode
//! traffic selectors (IDci/IDcr).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !        Payload Length         !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !   ID Type     !  Protocol ID  !             Port              !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                     Identification Data                       ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::sequence::tuple;

use crate::error::Error;
use crate::payload::PayloadType;
use crate::wire::read;

/// ID Type (RFC 2407 §4.6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdType(pub u8);

impl IdType {
    pub const IPV4_ADDR: Self = Self(1);
    pub const FQDN: Self = Self(2);
    pub const USER_FQDN: Self = Self(3);
    pub const IPV4_ADDR_SUBNET: Self = Self(4);
    pub const IPV6_ADDR: Self = Self(5);
    pub const IPV6_ADDR_SUBNET: Self = Self(6);
    pub const IPV4_ADDR_RANGE: Self = Self(7);
    pub const IPV6_ADDR_RANGE: Self = Self(8);
    pub const DER_ASN1_DN: Self = Self(9);
    pub const DER_ASN1_GN: Self = Self(10);
    pub const KEY_ID: Self = Self(11);

    /// The exact data length of the address types; `None` for the others.
    #[must_use]
    pub fn address_len(self) -> Option<usize> {
        match self.0 {
            1 => Some(4),
            4 | 7 => Some(8),
            5 => Some(16),
            6 | 8 => Some(32),
            _ => None,
        }
    }
}

/// An Identification payload body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identification {
    pub id_type: IdType,
    /// IP protocol (0 = any; 17 with port 500 is allowed in phase 1).
    pub protocol: u8,
    pub port: u16,
    pub data: Vec<u8>,
}

impl Identification {
    /// ID_IPV4_ADDR, protocol and port 0: AWS and strongSwan phase 1 IDs.
    #[must_use]
    pub fn ipv4(addr: Ipv4Addr) -> Self {
        Self {
            id_type: IdType::IPV4_ADDR,
            protocol: 0,
            port: 0,
            data: addr.octets().to_vec(),
        }
    }

    /// ID_IPV4_ADDR_SUBNET (address, mask): Quick Mode traffic selectors.
    #[must_use]
    pub fn ipv4_subnet(network: Ipv4Addr, mask: Ipv4Addr) -> Self {
        let mut data = network.octets().to_vec();
        data.extend_from_slice(&mask.octets());
        Self {
            id_type: IdType::IPV4_ADDR_SUBNET,
            protocol: 0,
            port: 0,
            data,
        }
    }

    /// ID_FQDN.
    #[must_use]
    pub fn fqdn(name: &str) -> Self {
        Self {
            id_type: IdType::FQDN,
            protocol: 0,
            port: 0,
            data: name.as_bytes().to_vec(),
        }
    }

    /// The address of an ID_IPV4_ADDR.
    #[must_use]
    pub fn as_ipv4(&self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.data.as_slice().try_into().ok()?;
        (self.id_type == IdType::IPV4_ADDR).then(|| Ipv4Addr::from(octets))
    }

    /// (network, mask) of an ID_IPV4_ADDR_SUBNET.
    #[must_use]
    pub fn as_ipv4_subnet(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        self.ipv4_pair(IdType::IPV4_ADDR_SUBNET)
    }

    /// (first, last) of an ID_IPV4_ADDR_RANGE.
    #[must_use]
    pub fn as_ipv4_range(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        self.ipv4_pair(IdType::IPV4_ADDR_RANGE)
    }

    /// The address of an ID_IPV6_ADDR.
    #[must_use]
    pub fn as_ipv6(&self) -> Option<Ipv6Addr> {
        let octets: [u8; 16] = self.data.as_slice().try_into().ok()?;
        (self.id_type == IdType::IPV6_ADDR).then(|| Ipv6Addr::from(octets))
    }

    fn ipv4_pair(&self, want: IdType) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let octets: [u8; 8] = self.data.as_slice().try_into().ok()?;
        let [a, b, c, d, e, f, g, h] = octets;
        (self.id_type == want).then(|| (Ipv4Addr::new(a, b, c, d), Ipv4Addr::new(e, f, g, h)))
    }

    /// Decodes the body; address types must carry exactly their address
    /// octets (RFC 2408 §5.8 → INVALID-ID-INFORMATION).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let (data, (id_type, protocol, port)) = read(body, tuple((be_u8, be_u8, be_u16)), || {
            Error::PayloadTooShort {
                payload: PayloadType::IDENTIFICATION,
                length: u16::try_from(body.len() + 4).unwrap_or(u16::MAX),
                minimum: 8,
            }
        })?;
        let id_type = IdType(id_type);
        if id_type.address_len().is_some_and(|len| len != data.len()) {
            return Err(Error::InvalidIdInformation {
                id_type: id_type.0,
                length: data.len(),
            });
        }
        Ok(Self {
            id_type,
            protocol,
            port,
            data: data.to_vec(),
        })
    }

    /// Writes the body: IDii_b / IDir_b of RFC 2409 §5 (HASH_I, HASH_R).
    pub fn encode_body(&self, out: &mut BytesMut) {
        out.put_u8(self.id_type.0);
        out.put_u8(self.protocol);
        out.put_u16(self.port);
        out.put_slice(&self.data);
    }
}
