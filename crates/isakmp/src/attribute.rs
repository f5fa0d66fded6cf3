//! Data attributes (RFC 2408 §3.3) and the attribute classes of IKE phase 1
//! (RFC 2409 Appendix A) and of the IPsec DOI for phase 2 (RFC 2407 §4.5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !A!       Attribute Type        !    AF=0  Attribute Length     !
//! !F!                             !    AF=1  Attribute Value      !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! .                   AF=0  Attribute Value                       .
//! .                   AF=1  Not Transmitted                       .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The attribute classes mean different things in phase 1 and phase 2, so
//! an `Attribute` keeps the raw class number; the constants in [`ike`] and
//! [`ipsec`] name them for each context.

use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u16;
use nom::sequence::tuple;

use crate::error::{EncodeError, ProposalSyntax};
use crate::wire::{len16, read};

/// The Attribute Format bit: set for TV (Basic), clear for TLV (Variable).
const AF: u16 = 0x8000;

/// An attribute value as it was on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// TV form (AF = 1): a 16-bit value in place of the length.
    Basic(u16),
    /// TLV form (AF = 0): any number of octets.
    Variable(Vec<u8>),
}

/// One data attribute: its class (15 bits, AF removed) and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    pub kind: u16,
    pub value: AttributeValue,
}

impl Attribute {
    /// A TV attribute. `kind` must fit 15 bits (the top bit is AF).
    #[must_use]
    pub fn basic(kind: u16, value: u16) -> Self {
        Self {
            kind: kind & !AF,
            value: AttributeValue::Basic(value),
        }
    }

    /// A TLV attribute.
    #[must_use]
    pub fn variable(kind: u16, value: Vec<u8>) -> Self {
        Self {
            kind: kind & !AF,
            value: AttributeValue::Variable(value),
        }
    }

    /// A life duration: TV when it fits 16 bits, else TLV of 4 octets, as
    /// strongSwan and most peers write it (RFC 2409 App. A: "Life Duration"
    /// is variable; 28 800 fits, 86 400 does not).
    #[must_use]
    pub fn duration(kind: u16, value: u32) -> Self {
        match u16::try_from(value) {
            Ok(short) => Self::basic(kind, short),
            Err(_) => Self::variable(kind, value.to_be_bytes().to_vec()),
        }
    }

    /// The value as an unsigned integer: TV as is, TLV of 1 to 8 octets
    /// big-endian (life durations may come either way). `None` for empty or
    /// longer TLVs.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            AttributeValue::Basic(v) => Some(u64::from(*v)),
            AttributeValue::Variable(bytes) if (1..=8).contains(&bytes.len()) => {
                Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
            }
            AttributeValue::Variable(_) => None,
        }
    }

    /// Octets this attribute takes on the wire.
    #[must_use]
    pub fn wire_len(&self) -> usize {
        match &self.value {
            AttributeValue::Basic(_) => 4,
            AttributeValue::Variable(v) => 4 + v.len(),
        }
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match &self.value {
            AttributeValue::Basic(v) => {
                out.put_u16(AF | (self.kind & !AF));
                out.put_u16(*v);
            }
            AttributeValue::Variable(v) => {
                out.put_u16(self.kind & !AF);
                out.put_u16(len16(v.len(), "attribute")?);
                out.put_slice(v);
            }
        }
        Ok(())
    }
}

/// Reads attributes until `input` is used up (a Transform's attribute area,
/// or RESPONDER-LIFETIME notification data).
pub fn parse_attributes(mut input: &[u8]) -> Result<Vec<Attribute>, ProposalSyntax> {
    let mut attributes = Vec::new();
    while !input.is_empty() {
        let available = input.len();
        let (rest, (raw_kind, length_or_value)) = read(input, tuple((be_u16, be_u16)), || {
            ProposalSyntax::AttributeOverrun {
                attribute_type: 0,
                length: 4,
                available,
            }
        })?;
        let kind = raw_kind & !AF;
        if raw_kind & AF != 0 {
            attributes.push(Attribute::basic(kind, length_or_value));
            input = rest;
            continue;
        }
        let length = usize::from(length_or_value);
        let Some((value, rest)) = rest.split_at_checked(length) else {
            return Err(ProposalSyntax::AttributeOverrun {
                attribute_type: kind,
                length,
                available: rest.len(),
            });
        };
        attributes.push(Attribute::variable(kind, value.to_vec()));
        input = rest;
    }
    Ok(attributes)
}

/// Writes attributes back to back.
pub fn encode_attributes(attributes: &[Attribute], out: &mut BytesMut) -> Result<(), EncodeError> {
    attributes.iter().try_for_each(|a| a.encode(out))
}

/// IKE phase 1 attribute classes and values (RFC 2409 Appendix A), for the
/// Transforms of a Proposal with Protocol-ID PROTO_ISAKMP.
pub mod ike {
    pub const ENCRYPTION_ALGORITHM: u16 = 1;
    pub const HASH_ALGORITHM: u16 = 2;
    pub const AUTHENTICATION_METHOD: u16 = 3;
    pub const GROUP_DESCRIPTION: u16 = 4;
    pub const GROUP_TYPE: u16 = 5;
    pub const LIFE_TYPE: u16 = 11;
    /// TV or TLV (often 4 octets): read with `Attribute::as_u64`.
    pub const LIFE_DURATION: u16 = 12;
    pub const PRF: u16 = 13;
    pub const KEY_LENGTH: u16 = 14;
    pub const FIELD_SIZE: u16 = 15;
    pub const GROUP_ORDER: u16 = 16;

    /// Encryption algorithm values.
    pub mod encryption {
        pub const DES_CBC: u16 = 1;
        pub const TRIPLE_DES_CBC: u16 = 5;
        /// Not in RFC 2409 itself: the IANA IKE registry value every AES
        /// implementation uses (with KEY_LENGTH 128/192/256).
        pub const AES_CBC: u16 = 7;
    }
    /// Hash algorithm values.
    pub mod hash {
        pub const MD5: u16 = 1;
        pub const SHA1: u16 = 2;
        pub const SHA2_256: u16 = 4;
        pub const SHA2_384: u16 = 5;
        pub const SHA2_512: u16 = 6;
    }
    /// Authentication method values.
    pub mod auth {
        pub const PRE_SHARED_KEY: u16 = 1;
        pub const DSS_SIGNATURES: u16 = 2;
        pub const RSA_SIGNATURES: u16 = 3;
        pub const RSA_ENCRYPTION: u16 = 4;
        pub const REVISED_RSA_ENCRYPTION: u16 = 5;
        /// draft-ietf-ipsec-isakmp-xauth: XAUTH initiator with PSK.
        pub const XAUTH_INIT_PSK: u16 = 65001;
    }
    /// Group description values (MODP groups, RFC 2409 §6, RFC 3526).
    pub mod group {
        pub const MODP_768: u16 = 1;
        pub const MODP_1024: u16 = 2;
        pub const MODP_1536: u16 = 5;
        pub const MODP_2048: u16 = 14;
    }
    /// Life type values.
    pub mod life {
        pub const SECONDS: u16 = 1;
        pub const KILOBYTES: u16 = 2;
    }
}

/// IPsec DOI SA attribute classes and values (RFC 2407 §4.5), for the
/// Transforms of ESP/AH Proposals in Quick Mode.
pub mod ipsec {
    pub const SA_LIFE_TYPE: u16 = 1;
    /// TV or TLV: read with `Attribute::as_u64`.
    pub const SA_LIFE_DURATION: u16 = 2;
    /// PFS group (same numbering as IKE's group description).
    pub const GROUP_DESCRIPTION: u16 = 3;
    pub const ENCAPSULATION_MODE: u16 = 4;
    pub const AUTHENTICATION_ALGORITHM: u16 = 5;
    pub const KEY_LENGTH: u16 = 6;
    pub const KEY_ROUNDS: u16 = 7;
    pub const COMPRESS_DICTIONARY_SIZE: u16 = 8;
    pub const COMPRESS_PRIVATE_ALGORITHM: u16 = 9;

    /// SA life type values.
    pub mod life {
        pub const SECONDS: u16 = 1;
        pub const KILOBYTES: u16 = 2;
    }
    /// Encapsulation mode values.
    pub mod encapsulation {
        pub const TUNNEL: u16 = 1;
        pub const TRANSPORT: u16 = 2;
        /// RFC 3947 §5.2.
        pub const UDP_TUNNEL: u16 = 3;
        /// RFC 3947 §5.2.
        pub const UDP_TRANSPORT: u16 = 4;
        /// draft-ietf-ipsec-nat-t-ike-00..03 value, still sent by peers that
        /// negotiated NAT-T with a draft Vendor ID.
        pub const UDP_TUNNEL_DRAFT: u16 = 61443;
        pub const UDP_TRANSPORT_DRAFT: u16 = 61444;
    }
    /// Authentication algorithm values.
    pub mod auth {
        pub const HMAC_MD5: u16 = 1;
        pub const HMAC_SHA1: u16 = 2;
        pub const DES_MAC: u16 = 3;
        pub const KPDK: u16 = 4;
        /// RFC 4868 §2.4 (HMAC-SHA-256-128).
        pub const HMAC_SHA2_256: u16 = 5;
        pub const HMAC_SHA2_384: u16 = 6;
        pub const HMAC_SHA2_512: u16 = 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv_and_tlv_on_the_wire() {
        let mut out = BytesMut::new();
        encode_attributes(
            &[
                Attribute::duration(ike::LIFE_DURATION, 28_800),
                Attribute::duration(ike::LIFE_DURATION, 86_400),
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            &[0x80, 0x0c, 0x70, 0x80, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80]
        );
        let back = parse_attributes(&out).unwrap();
        assert_eq!(back[0].as_u64(), Some(28_800));
        assert_eq!(back[1].as_u64(), Some(86_400));
    }

    #[test]
    fn as_u64_limits() {
        assert_eq!(Attribute::variable(2, vec![]).as_u64(), None);
        assert_eq!(
            Attribute::variable(2, vec![0xff; 8]).as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(Attribute::variable(2, vec![1; 9]).as_u64(), None);
    }
}
