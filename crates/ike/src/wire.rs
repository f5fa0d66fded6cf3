//! The ISAKMP messages this peer reads and writes (RFC 2408 §3, RFC 2407
//! §4.6, RFC 3947 §3.2, RFC 3706 §5).
//!
//! A private shim: the workspace's `hybridlab-isakmp` codec was being
//! written at the same time as this crate. The state machine talks to this
//! module only, so the day that crate is ready only this room changes.
//! `nom` reads, `bytes` writes; nothing here panics on input.

use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};
use nom::IResult;

pub const HEADER_LEN: usize = 28;
/// RFC 2408 §3.1: major 1, minor 0.
pub const VERSION: u8 = 0x10;

/// RFC 2408 §3.1 Exchange Type; 32 is Quick Mode (RFC 2409 §5.5).
pub mod exchange {
    pub const IDENTITY_PROTECTION: u8 = 2;
    pub const AGGRESSIVE: u8 = 4;
    pub const INFORMATIONAL: u8 = 5;
    pub const QUICK_MODE: u8 = 32;
}

/// RFC 2408 §3.1 Next Payload values; NAT-D is RFC 3947 §3.2.
pub mod payload {
    pub const NONE: u8 = 0;
    pub const SA: u8 = 1;
    pub const PROPOSAL: u8 = 2;
    pub const TRANSFORM: u8 = 3;
    pub const KE: u8 = 4;
    pub const ID: u8 = 5;
    pub const HASH: u8 = 8;
    pub const NONCE: u8 = 10;
    pub const NOTIFY: u8 = 11;
    pub const DELETE: u8 = 12;
    pub const VENDOR_ID: u8 = 13;
    pub const NAT_D: u8 = 20;
}

/// RFC 2408 §3.1 flags.
pub const FLAG_ENCRYPTION: u8 = 0x01;

/// RFC 2408 §3.14.1 notify message types, RFC 2407 §4.6.3 and RFC 3706 §5.
pub mod notify {
    pub const INVALID_PAYLOAD_TYPE: u16 = 1;
    pub const INVALID_EXCHANGE_TYPE: u16 = 7;
    pub const NO_PROPOSAL_CHOSEN: u16 = 14;
    pub const INVALID_ID_INFORMATION: u16 = 18;
    pub const INVALID_HASH_INFORMATION: u16 = 23;
    pub const AUTHENTICATION_FAILED: u16 = 24;
    pub const INITIAL_CONTACT: u16 = 24578;
    pub const R_U_THERE: u16 = 36136;
    pub const R_U_THERE_ACK: u16 = 36137;
}

/// RFC 2407 §4.4.1 / §4.6.2 protocol identifiers.
pub const PROTO_ISAKMP: u8 = 1;
pub const PROTO_ESP: u8 = 3;
/// RFC 2407 §4.4.4: ESP_AES is RFC 3602 §5.
pub const ESP_AES: u8 = 12;
/// RFC 2407 §4.4.2 KEY_IKE.
pub const KEY_IKE: u8 = 1;
/// RFC 2407 §4.6.2.1 ID types.
pub const ID_IPV4_ADDR: u8 = 1;
pub const ID_IPV4_ADDR_SUBNET: u8 = 4;
pub const DOI_IPSEC: u32 = 1;
pub const SIT_IDENTITY_ONLY: u32 = 1;

/// Vendor IDs: RFC 3947 §3.1 (MD5 of "RFC 3947") and RFC 3706 §5 (DPD).
pub const VID_NAT_T: [u8; 16] = [
    0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
];
pub const VID_DPD: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message shorter than its header or its length field")]
    Truncated,
    #[error("unsupported ISAKMP version {0:#04x}")]
    Version(u8),
    #[error("payload {0} is malformed")]
    Payload(u8),
}

/// RFC 2408 §3.1 ISAKMP header.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// !                          Initiator                            !
/// !                            Cookie                             !
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// !                          Responder                            !
/// !                            Cookie                             !
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// !                          Message ID                           !
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// !                            Length                             !
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub icookie: u64,
    pub rcookie: u64,
    pub next_payload: u8,
    pub exchange: u8,
    pub flags: u8,
    pub message_id: u32,
}

impl Header {
    pub fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTION != 0
    }

    pub fn write(&self, length: usize, out: &mut BytesMut) {
        out.put_u64(self.icookie);
        out.put_u64(self.rcookie);
        out.put_u8(self.next_payload);
        out.put_u8(VERSION);
        out.put_u8(self.exchange);
        out.put_u8(self.flags);
        out.put_u32(self.message_id);
        out.put_u32(u32::try_from(length).unwrap_or(u32::MAX));
    }
}

fn header(input: &[u8]) -> IResult<&[u8], (Header, u8, u32)> {
    let (input, icookie) = be_u64(input)?;
    let (input, rcookie) = be_u64(input)?;
    let (input, next_payload) = be_u8(input)?;
    let (input, version) = be_u8(input)?;
    let (input, exchange) = be_u8(input)?;
    let (input, flags) = be_u8(input)?;
    let (input, message_id) = be_u32(input)?;
    let (input, length) = be_u32(input)?;
    let h = Header {
        icookie,
        rcookie,
        next_payload,
        exchange,
        flags,
        message_id,
    };
    Ok((input, (h, version, length)))
}

/// The header and the body it covers (trailing octets beyond the Length
/// field are ignored, RFC 2408 §5.1 leaves that to the receiver).
pub fn parse_header(bytes: &[u8]) -> Result<(Header, &[u8]), WireError> {
    let (_, (h, version, length)) = header(bytes).map_err(|_| WireError::Truncated)?;
    if version >> 4 != 1 {
        return Err(WireError::Version(version));
    }
    let length = usize::try_from(length).map_err(|_| WireError::Truncated)?;
    if length < HEADER_LEN || length > bytes.len() {
        return Err(WireError::Truncated);
    }
    let body = bytes.get(HEADER_LEN..length).ok_or(WireError::Truncated)?;
    Ok((h, body))
}

/// One payload of a chain, undecoded: `body` without the generic header,
/// `whole` with it (Quick Mode hashes cover whole payloads, RFC 2409 §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a> {
    pub kind: u8,
    pub body: &'a [u8],
    pub whole: &'a [u8],
}

/// Next Payload, body, whole payload.
type Generic<'a> = (u8, &'a [u8], &'a [u8]);

fn generic(input: &[u8]) -> IResult<&[u8], Generic<'_>> {
    let start = input;
    let (input, next) = be_u8(input)?;
    let (input, _reserved) = be_u8(input)?;
    let (input, length) = be_u16(input)?;
    let body_len =
        usize::from(length)
            .checked_sub(4)
            .ok_or(nom::Err::Error(nom::error::Error::new(
                start,
                nom::error::ErrorKind::LengthValue,
            )))?;
    let (rest, body) = take(body_len)(input)?;
    let whole = start.get(..usize::from(length)).unwrap_or(start);
    Ok((rest, (next, body, whole)))
}

/// Walk a payload chain from `first`. Stops at Next Payload 0; whatever
/// follows (the padding of an encrypted body, RFC 2408 §3.1) is ignored.
pub fn parse_chain(first: u8, mut body: &[u8]) -> Result<Vec<Raw<'_>>, WireError> {
    let mut out = Vec::new();
    let mut kind = first;
    while kind != payload::NONE {
        let (rest, (next, b, whole)) = generic(body).map_err(|_| WireError::Payload(kind))?;
        out.push(Raw {
            kind,
            body: b,
            whole,
        });
        if out.len() > 64 {
            return Err(WireError::Payload(kind));
        }
        kind = next;
        body = rest;
    }
    Ok(out)
}

/// A data attribute (RFC 2408 §3.3): basic (AF = 1) or variable; values
/// longer than eight octets are not used by IKEv1 here and are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub kind: u16,
    pub value: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transform {
    pub number: u8,
    pub id: u8,
    pub attributes: Vec<Attribute>,
}

impl Transform {
    pub fn attr(&self, kind: u16) -> Option<u64> {
        self.attributes
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.value)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub number: u8,
    pub protocol: u8,
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

/// RFC 2408 §3.4 SA payload with the IPsec DOI (RFC 2407 §4.6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sa {
    pub doi: u32,
    pub situation: u32,
    pub proposals: Vec<Proposal>,
}

fn attribute(input: &[u8]) -> IResult<&[u8], Attribute> {
    let (input, word) = be_u16(input)?;
    let kind = word & 0x7fff;
    if word & 0x8000 != 0 {
        let (input, v) = be_u16(input)?;
        return Ok((
            input,
            Attribute {
                kind,
                value: u64::from(v),
            },
        ));
    }
    let (input, len) = be_u16(input)?;
    let (input, data) = take(len)(input)?;
    if data.len() > 8 {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        )));
    }
    let value = data.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok((input, Attribute { kind, value }))
}

fn transform(input: &[u8]) -> IResult<&[u8], Transform> {
    let (input, number) = be_u8(input)?;
    let (input, id) = be_u8(input)?;
    let (mut input, _reserved) = be_u16(input)?;
    let mut attributes = Vec::new();
    while !input.is_empty() {
        let (rest, a) = attribute(input)?;
        attributes.push(a);
        input = rest;
    }
    Ok((
        input,
        Transform {
            number,
            id,
            attributes,
        },
    ))
}

fn proposal(input: &[u8]) -> Result<Proposal, WireError> {
    let bad = |_| WireError::Payload(payload::PROPOSAL);
    let (input, number) = be_u8::<_, nom::error::Error<&[u8]>>(input).map_err(bad)?;
    let (input, protocol) = be_u8::<_, nom::error::Error<&[u8]>>(input).map_err(bad)?;
    let (input, spi_size) = be_u8::<_, nom::error::Error<&[u8]>>(input).map_err(bad)?;
    let (input, count) = be_u8::<_, nom::error::Error<&[u8]>>(input).map_err(bad)?;
    let (input, spi) = take::<_, _, nom::error::Error<&[u8]>>(spi_size)(input).map_err(bad)?;
    let raws = parse_chain(payload::TRANSFORM, input)?;
    if raws.len() != usize::from(count) || raws.iter().any(|r| r.kind != payload::TRANSFORM) {
        return Err(WireError::Payload(payload::PROPOSAL));
    }
    let transforms = raws
        .iter()
        .map(|r| {
            transform(r.body)
                .map(|(_, t)| t)
                .map_err(|_| WireError::Payload(payload::TRANSFORM))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Proposal {
        number,
        protocol,
        spi: spi.to_vec(),
        transforms,
    })
}

impl Sa {
    pub fn parse(body: &[u8]) -> Result<Sa, WireError> {
        let bad = |_| WireError::Payload(payload::SA);
        let (rest, doi) = be_u32::<_, nom::error::Error<&[u8]>>(body).map_err(bad)?;
        let (rest, situation) = be_u32::<_, nom::error::Error<&[u8]>>(rest).map_err(bad)?;
        let raws = parse_chain(payload::PROPOSAL, rest)?;
        let proposals = raws
            .iter()
            .map(|r| {
                if r.kind == payload::PROPOSAL {
                    proposal(r.body)
                } else {
                    Err(WireError::Payload(payload::SA))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sa {
            doi,
            situation,
            proposals,
        })
    }

    /// The SA payload body (what SAi_b means in RFC 2409 §5).
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u32(self.doi);
        out.put_u32(self.situation);
        let n = self.proposals.len();
        for (i, p) in self.proposals.iter().enumerate() {
            let mut body = BytesMut::new();
            body.put_u8(p.number);
            body.put_u8(p.protocol);
            body.put_u8(u8::try_from(p.spi.len()).unwrap_or(0));
            body.put_u8(u8::try_from(p.transforms.len()).unwrap_or(0));
            body.put_slice(&p.spi);
            let m = p.transforms.len();
            for (j, t) in p.transforms.iter().enumerate() {
                let mut tb = BytesMut::new();
                tb.put_u8(t.number);
                tb.put_u8(t.id);
                tb.put_u16(0);
                for a in &t.attributes {
                    put_attribute(a, &mut tb);
                }
                let next = if j + 1 < m { payload::TRANSFORM } else { 0 };
                put_generic(next, &tb, &mut body);
            }
            let next = if i + 1 < n { payload::PROPOSAL } else { 0 };
            put_generic(next, &body, &mut out);
        }
        out.freeze()
    }
}

/// Basic form when the value fits 16 bits, else variable (RFC 2408 §3.3).
fn put_attribute(a: &Attribute, out: &mut BytesMut) {
    match u16::try_from(a.value) {
        Ok(v) => {
            out.put_u16(0x8000 | a.kind);
            out.put_u16(v);
        }
        Err(_) => {
            out.put_u16(a.kind & 0x7fff);
            match u32::try_from(a.value) {
                Ok(v) => {
                    out.put_u16(4);
                    out.put_u32(v);
                }
                Err(_) => {
                    out.put_u16(8);
                    out.put_u64(a.value);
                }
            }
        }
    }
}

fn put_generic(next: u8, body: &[u8], out: &mut BytesMut) {
    out.put_u8(next);
    out.put_u8(0);
    out.put_u16(u16::try_from(body.len() + 4).unwrap_or(u16::MAX));
    out.put_slice(body);
}

/// RFC 2407 §4.6.2 Identification payload body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Id {
    pub id_type: u8,
    pub protocol: u8,
    pub port: u16,
    pub data: Vec<u8>,
}

impl Id {
    pub fn parse(body: &[u8]) -> Result<Id, WireError> {
        let (&id_type, rest) = body.split_first().ok_or(WireError::Payload(payload::ID))?;
        let (&protocol, rest) = rest.split_first().ok_or(WireError::Payload(payload::ID))?;
        let port = rest
            .get(..2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .ok_or(WireError::Payload(payload::ID))?;
        Ok(Id {
            id_type,
            protocol,
            port,
            data: rest.get(2..).unwrap_or_default().to_vec(),
        })
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(self.id_type);
        out.put_u8(self.protocol);
        out.put_u16(self.port);
        out.put_slice(&self.data);
        out.freeze()
    }
}

/// RFC 2408 §3.14 Notification payload body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    pub doi: u32,
    pub protocol: u8,
    pub kind: u16,
    pub spi: Vec<u8>,
    pub data: Vec<u8>,
}

impl Notify {
    pub fn parse(body: &[u8]) -> Result<Notify, WireError> {
        fn inner(i: &[u8]) -> IResult<&[u8], Notify> {
            let (i, doi) = be_u32(i)?;
            let (i, protocol) = be_u8(i)?;
            let (i, spi_size) = be_u8(i)?;
            let (i, kind) = be_u16(i)?;
            let (i, spi) = take(spi_size)(i)?;
            Ok((
                &[],
                Notify {
                    doi,
                    protocol,
                    kind,
                    spi: spi.to_vec(),
                    data: i.to_vec(),
                },
            ))
        }
        inner(body)
            .map(|(_, n)| n)
            .map_err(|_| WireError::Payload(payload::NOTIFY))
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u32(self.doi);
        out.put_u8(self.protocol);
        out.put_u8(u8::try_from(self.spi.len()).unwrap_or(0));
        out.put_u16(self.kind);
        out.put_slice(&self.spi);
        out.put_slice(&self.data);
        out.freeze()
    }
}

/// RFC 2408 §3.15 Delete payload body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    pub protocol: u8,
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    pub fn parse(body: &[u8]) -> Result<Delete, WireError> {
        fn inner(i: &[u8]) -> IResult<&[u8], Delete> {
            let (i, _doi) = be_u32(i)?;
            let (i, protocol) = be_u8(i)?;
            let (i, spi_size) = be_u8(i)?;
            let (mut i, count) = be_u16(i)?;
            let mut spis = Vec::new();
            for _ in 0..count {
                let (rest, spi) = take(spi_size)(i)?;
                spis.push(spi.to_vec());
                i = rest;
            }
            Ok((i, Delete { protocol, spis }))
        }
        inner(body)
            .map(|(_, d)| d)
            .map_err(|_| WireError::Payload(payload::DELETE))
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u32(DOI_IPSEC);
        out.put_u8(self.protocol);
        let size = self.spis.first().map_or(0, Vec::len);
        out.put_u8(u8::try_from(size).unwrap_or(0));
        out.put_u16(u16::try_from(self.spis.len()).unwrap_or(0));
        for s in &self.spis {
            out.put_slice(s);
        }
        out.freeze()
    }
}

/// Payloads to send, in order: the chain's Next Payload fields are filled
/// in by [`Chain::encode`].
#[derive(Clone, Debug, Default)]
pub struct Chain(pub Vec<(u8, Bytes)>);

impl Chain {
    pub fn push(&mut self, kind: u8, body: impl Into<Bytes>) -> &mut Self {
        self.0.push((kind, body.into()));
        self
    }

    pub fn first(&self) -> u8 {
        self.0.first().map_or(payload::NONE, |p| p.0)
    }

    pub fn encode(&self) -> BytesMut {
        let mut out = BytesMut::new();
        for (i, (_, body)) in self.0.iter().enumerate() {
            let next = self.0.get(i + 1).map_or(payload::NONE, |p| p.0);
            put_generic(next, body, &mut out);
        }
        out
    }
}

/// A cleartext message: header and chain.
pub fn encode_plain(mut header: Header, chain: &Chain) -> Bytes {
    header.next_payload = chain.first();
    header.flags &= !FLAG_ENCRYPTION;
    let body = chain.encode();
    let mut out = BytesMut::with_capacity(HEADER_LEN + body.len());
    header.write(HEADER_LEN + body.len(), &mut out);
    out.put_slice(&body);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sa_round_trip() {
        let sa = Sa {
            doi: DOI_IPSEC,
            situation: SIT_IDENTITY_ONLY,
            proposals: vec![Proposal {
                number: 1,
                protocol: PROTO_ESP,
                spi: vec![1, 2, 3, 4],
                transforms: vec![Transform {
                    number: 1,
                    id: ESP_AES,
                    attributes: vec![
                        Attribute { kind: 1, value: 1 },
                        Attribute {
                            kind: 2,
                            value: 86_400,
                        },
                    ],
                }],
            }],
        };
        assert_eq!(Sa::parse(&sa.encode()), Ok(sa));
    }

    #[test]
    fn chain_round_trip_and_padding_ignored() {
        let mut c = Chain::default();
        c.push(payload::NONCE, vec![9u8; 16])
            .push(payload::VENDOR_ID, VID_DPD.to_vec());
        let mut bytes = c.encode().to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 7]);
        let raws = parse_chain(payload::NONCE, &bytes).unwrap();
        assert_eq!(raws.len(), 2);
        assert_eq!(raws[1].body, &VID_DPD[..]);
        assert_eq!(raws[0].whole.len(), 20);
    }

    #[test]
    fn truncations_fail_cleanly() {
        let h = Header {
            icookie: 1,
            rcookie: 0,
            next_payload: 0,
            exchange: exchange::IDENTITY_PROTECTION,
            flags: 0,
            message_id: 0,
        };
        let mut c = Chain::default();
        c.push(payload::NONCE, vec![1u8; 8]);
        let bytes = encode_plain(h, &c);
        for n in 0..bytes.len() {
            let _ = parse_header(&bytes[..n]);
            let _ = parse_chain(payload::NONCE, &bytes[HEADER_LEN.min(n)..n]);
        }
        let (hh, body) = parse_header(&bytes).unwrap();
        assert_eq!(hh.next_payload, payload::NONCE);
        assert_eq!(parse_chain(hh.next_payload, body).unwrap().len(), 1);
    }
}
