//! The payload chain (RFC 2408 §3.2) and the payload kinds IKEv1 uses.
//!
//! Every payload starts with the generic header; its Next Payload names the
//! kind of the *following* payload, the ISAKMP header names the first.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

pub mod delete;
pub mod identification;
pub mod nat;
pub mod notification;
pub mod sa;
pub mod vendor;

use bytes::{Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::sequence::tuple;

use crate::error::{EncodeError, Error};
use crate::wire::{put_generic, read};

use self::delete::Delete;
use self::identification::Identification;
use self::nat::{NatD, NatOa, NatTNumbering};
use self::notification::Notification;
use self::sa::SecurityAssociation;
use self::vendor::VendorId;

/// Next Payload values (RFC 2408 §3.1; RFC 3947 §3.2, §5.1 and their draft
/// numbers from the private range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(pub u8);

impl PayloadType {
    pub const NONE: Self = Self(0);
    pub const SECURITY_ASSOCIATION: Self = Self(1);
    /// Only inside an SA payload.
    pub const PROPOSAL: Self = Self(2);
    /// Only inside a Proposal.
    pub const TRANSFORM: Self = Self(3);
    pub const KEY_EXCHANGE: Self = Self(4);
    pub const IDENTIFICATION: Self = Self(5);
    pub const CERTIFICATE: Self = Self(6);
    pub const CERTIFICATE_REQUEST: Self = Self(7);
    pub const HASH: Self = Self(8);
    pub const SIGNATURE: Self = Self(9);
    pub const NONCE: Self = Self(10);
    pub const NOTIFICATION: Self = Self(11);
    pub const DELETE: Self = Self(12);
    pub const VENDOR_ID: Self = Self(13);
    /// RFC 3947 §3.2.
    pub const NAT_D: Self = Self(20);
    /// RFC 3947 §5.1.
    pub const NAT_OA: Self = Self(21);
    /// draft-ietf-ipsec-nat-t-ike-02/03 number, used when NAT-T was agreed
    /// through a draft Vendor ID.
    pub const NAT_D_DRAFT: Self = Self(130);
    pub const NAT_OA_DRAFT: Self = Self(131);

    /// Kinds that may appear in the top-level chain.
    #[must_use]
    pub fn is_top_level(self) -> bool {
        matches!(self.0, 1 | 4..=13 | 20 | 21 | 130 | 131)
    }
}

/// One decoded top-level payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// §3.4, with its Proposals and Transforms.
    SecurityAssociation(SecurityAssociation),
    /// §3.7: the Diffie-Hellman public value (128 octets for MODP 1024).
    KeyExchange(Vec<u8>),
    /// §3.8 in the IPsec DOI form (RFC 2407 §4.6.2).
    Identification(Identification),
    /// §3.9: Cert Encoding and the certificate, opaque.
    Certificate { encoding: u8, data: Vec<u8> },
    /// §3.10: Cert Type and Certificate Authority, opaque.
    CertificateRequest { cert_type: u8, authority: Vec<u8> },
    /// §3.11: HASH_I / HASH_R / HASH(1..3).
    Hash(Vec<u8>),
    /// §3.12, opaque.
    Signature(Vec<u8>),
    /// §3.13: Ni / Nr.
    Nonce(Vec<u8>),
    /// §3.14.
    Notification(Notification),
    /// §3.15.
    Delete(Delete),
    /// §3.16.
    VendorId(VendorId),
    /// RFC 3947 §3.2 (or the draft number 130).
    NatD(NatD),
    /// RFC 3947 §5.1 (or the draft number 131).
    NatOa(NatOa),
    /// A kind this codec does not know. Never produced by parsing (unknown
    /// kinds are INVALID-PAYLOAD-TYPE); here so tests and impairments can
    /// send one.
    Unknown { kind: PayloadType, body: Vec<u8> },
}

impl Payload {
    /// The Next Payload value that announces this payload.
    #[must_use]
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Payload::SecurityAssociation(_) => PayloadType::SECURITY_ASSOCIATION,
            Payload::KeyExchange(_) => PayloadType::KEY_EXCHANGE,
            Payload::Identification(_) => PayloadType::IDENTIFICATION,
            Payload::Certificate { .. } => PayloadType::CERTIFICATE,
            Payload::CertificateRequest { .. } => PayloadType::CERTIFICATE_REQUEST,
            Payload::Hash(_) => PayloadType::HASH,
            Payload::Signature(_) => PayloadType::SIGNATURE,
            Payload::Nonce(_) => PayloadType::NONCE,
            Payload::Notification(_) => PayloadType::NOTIFICATION,
            Payload::Delete(_) => PayloadType::DELETE,
            Payload::VendorId(_) => PayloadType::VENDOR_ID,
            Payload::NatD(n) => match n.numbering {
                NatTNumbering::Rfc3947 => PayloadType::NAT_D,
                NatTNumbering::Draft => PayloadType::NAT_D_DRAFT,
            },
            Payload::NatOa(n) => match n.numbering {
                NatTNumbering::Rfc3947 => PayloadType::NAT_OA,
                NatTNumbering::Draft => PayloadType::NAT_OA_DRAFT,
            },
            Payload::Unknown { kind, .. } => *kind,
        }
    }

    /// Decodes one payload body (after the generic header) of kind `kind`.
    pub fn decode(kind: PayloadType, body: &[u8]) -> Result<Self, Error> {
        let too_short = |minimum: u16| Error::PayloadTooShort {
            payload: kind,
            length: u16::try_from(body.len() + 4).unwrap_or(u16::MAX),
            minimum,
        };
        Ok(match kind {
            PayloadType::SECURITY_ASSOCIATION => {
                Payload::SecurityAssociation(SecurityAssociation::decode(body)?)
            }
            PayloadType::KEY_EXCHANGE => Payload::KeyExchange(body.to_vec()),
            PayloadType::IDENTIFICATION => Payload::Identification(Identification::decode(body)?),
            PayloadType::CERTIFICATE => {
                let (&encoding, data) = body.split_first().ok_or_else(|| too_short(5))?;
                Payload::Certificate {
                    encoding,
                    data: data.to_vec(),
                }
            }
            PayloadType::CERTIFICATE_REQUEST => {
                let (&cert_type, authority) = body.split_first().ok_or_else(|| too_short(5))?;
                Payload::CertificateRequest {
                    cert_type,
                    authority: authority.to_vec(),
                }
            }
            PayloadType::HASH => Payload::Hash(body.to_vec()),
            PayloadType::SIGNATURE => Payload::Signature(body.to_vec()),
            PayloadType::NONCE => Payload::Nonce(body.to_vec()),
            PayloadType::NOTIFICATION => Payload::Notification(Notification::decode(body)?),
            PayloadType::DELETE => Payload::Delete(Delete::decode(body)?),
            PayloadType::VENDOR_ID => Payload::VendorId(VendorId(body.to_vec())),
            PayloadType::NAT_D => Payload::NatD(NatD::new(NatTNumbering::Rfc3947, body.to_vec())),
            PayloadType::NAT_D_DRAFT => {
                Payload::NatD(NatD::new(NatTNumbering::Draft, body.to_vec()))
            }
            PayloadType::NAT_OA => Payload::NatOa(NatOa::decode(NatTNumbering::Rfc3947, body)?),
            PayloadType::NAT_OA_DRAFT => Payload::NatOa(NatOa::decode(NatTNumbering::Draft, body)?),
            other => return Err(Error::InvalidPayloadType(other.0)),
        })
    }

    /// Writes the payload body (without the generic header). For an SA
    /// payload this is SAi_b / SAr_b of RFC 2409 §5 (HASH_I, HASH_R).
    pub fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Payload::SecurityAssociation(sa) => sa.encode_body(out)?,
            Payload::KeyExchange(data)
            | Payload::Hash(data)
            | Payload::Signature(data)
            | Payload::Nonce(data)
            | Payload::VendorId(VendorId(data))
            | Payload::Unknown { body: data, .. } => out.extend_from_slice(data),
            Payload::Identification(id) => id.encode_body(out),
            Payload::Certificate {
                encoding: first,
                data,
            }
            | Payload::CertificateRequest {
                cert_type: first,
                authority: data,
            } => {
                out.extend_from_slice(&[*first]);
                out.extend_from_slice(data);
            }
            Payload::Notification(n) => n.encode_body(out)?,
            Payload::Delete(d) => d.encode_body(out)?,
            Payload::NatD(n) => out.extend_from_slice(&n.hash),
            Payload::NatOa(n) => n.encode_body(out),
        }
        Ok(())
    }
}

/// One payload of a chain as it was on the wire, before decoding. The
/// slices let the state machine hash exactly what the peer sent: SAi_b is
/// the SA payload's `body` (RFC 2409 §5), and Quick Mode's HASH(1) covers
/// everything after the HASH payload (RFC 2409 §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPayload<'a> {
    pub kind: PayloadType,
    /// Offset of the generic header in the body passed to `split_payloads`.
    pub offset: usize,
    /// The whole payload, generic header included.
    pub whole: &'a [u8],
    /// The payload after the generic header.
    pub body: &'a [u8],
}

/// Splits a cleartext body into its payloads without decoding them. Checks
/// each generic header (§5.2): a top-level kind this codec knows, a Length
/// of at least 4 that fits the body, and only padding after the last one.
pub fn split_payloads(first: PayloadType, body: &[u8]) -> Result<Vec<RawPayload<'_>>, Error> {
    let mut payloads = Vec::new();
    let mut kind = first;
    let mut rest = body;
    while kind != PayloadType::NONE {
        if !kind.is_top_level() {
            return Err(Error::InvalidPayloadType(kind.0));
        }
        let available = rest.len();
        let (after_header, (next, _reserved, length)) =
            read(rest, tuple((be_u8, be_u8, be_u16)), || {
                Error::PayloadTruncated {
                    payload: kind,
                    length: 4,
                    available,
                }
            })?;
        if length < 4 {
            return Err(Error::PayloadTooShort {
                payload: kind,
                length,
                minimum: 4,
            });
        }
        let Some((whole, next_rest)) = rest.split_at_checked(usize::from(length)) else {
            return Err(Error::PayloadTruncated {
                payload: kind,
                length,
                available,
            });
        };
        let body_len = usize::from(length) - 4;
        let payload_body = after_header.get(..body_len).unwrap_or_default();
        payloads.push(RawPayload {
            kind,
            offset: body.len() - rest.len(),
            whole,
            body: payload_body,
        });
        rest = next_rest;
        kind = PayloadType(next);
    }
    if !is_padding(rest) {
        return Err(Error::TrailingData(rest.len()));
    }
    Ok(payloads)
}

/// RFC 2409 §5.3: encrypted bodies are padded to the cipher block size with
/// zeros, the last pad octet optionally holding the count of the others.
/// strongSwan pads with zeros only.
fn is_padding(rest: &[u8]) -> bool {
    match rest.split_last() {
        None => true,
        Some((&last, zeros)) => {
            zeros.iter().all(|&b| b == 0) && (last == 0 || usize::from(last) == zeros.len())
        }
    }
}

/// Decodes the payload chain of a cleartext body (a decrypted one when the
/// header has the Encryption flag). `first` is the header's Next Payload.
pub fn parse_payloads(first: PayloadType, body: &[u8]) -> Result<Vec<Payload>, Error> {
    split_payloads(first, body)?
        .iter()
        .map(|raw| Payload::decode(raw.kind, raw.body))
        .collect()
}

/// The Next Payload for the header in front of `payloads`.
#[must_use]
pub fn first_payload_type(payloads: &[Payload]) -> PayloadType {
    payloads
        .first()
        .map_or(PayloadType::NONE, Payload::payload_type)
}

/// Writes a payload chain, each generic header naming the kind of the next
/// payload. The result is the cleartext body: encrypt it, or put it after
/// `encode_header` as is.
pub fn encode_payloads(payloads: &[Payload]) -> Result<Bytes, EncodeError> {
    let mut out = BytesMut::new();
    let mut body = BytesMut::new();
    for (i, payload) in payloads.iter().enumerate() {
        let next = payloads
            .get(i + 1)
            .map_or(PayloadType::NONE, Payload::payload_type);
        body.clear();
        payload.encode_body(&mut body)?;
        put_generic(&mut out, next.0, &body, "payload")?;
    }
    Ok(out.freeze())
}
