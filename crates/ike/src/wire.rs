//! The peer's view of ISAKMP messages (RFC 2408 §3, RFC 2407 §4.6, RFC
//! 3947 §3.2, RFC 3706 §5): plain numbers and octets, which is what the
//! state machine hashes and compares. Decoding and encoding are done by
//! `hybridlab-isakmp`, with all its checks (RFC 2408 §5); this room only
//! converts between its typed payloads and this view.

use bytes::{BufMut, Bytes, BytesMut};
use hybridlab_isakmp as isakmp;
use isakmp::{ExchangeType, Flags, IdType, NotifyType, PayloadType, ProtocolId};

pub const HEADER_LEN: usize = isakmp::HEADER_LEN;

/// RFC 2408 §3.1 Exchange Type; 32 is Quick Mode (RFC 2409 §5.5).
pub mod exchange {
    use super::ExchangeType;
    pub const IDENTITY_PROTECTION: u8 = ExchangeType::IDENTITY_PROTECTION.0;
    pub const AGGRESSIVE: u8 = ExchangeType::AGGRESSIVE.0;
    pub const INFORMATIONAL: u8 = ExchangeType::INFORMATIONAL.0;
    pub const QUICK_MODE: u8 = ExchangeType::QUICK_MODE.0;
}

/// RFC 2408 §3.1 Next Payload values; NAT-D is RFC 3947 §3.2.
pub mod payload {
    use super::PayloadType;
    pub const NONE: u8 = PayloadType::NONE.0;
    pub const SA: u8 = PayloadType::SECURITY_ASSOCIATION.0;
    pub const KE: u8 = PayloadType::KEY_EXCHANGE.0;
    pub const ID: u8 = PayloadType::IDENTIFICATION.0;
    pub const HASH: u8 = PayloadType::HASH.0;
    pub const NONCE: u8 = PayloadType::NONCE.0;
    pub const NOTIFY: u8 = PayloadType::NOTIFICATION.0;
    pub const DELETE: u8 = PayloadType::DELETE.0;
    pub const VENDOR_ID: u8 = PayloadType::VENDOR_ID.0;
    pub const NAT_D: u8 = PayloadType::NAT_D.0;
}

/// RFC 2408 §3.1 flags.
pub const FLAG_ENCRYPTION: u8 = Flags::ENCRYPTION;

/// RFC 2408 §3.14.1 notify message types, RFC 2407 §4.6.3 and RFC 3706 §5.
pub mod notify {
    use super::NotifyType;
    pub const INVALID_PAYLOAD_TYPE: u16 = NotifyType::INVALID_PAYLOAD_TYPE.0;
    pub const INVALID_EXCHANGE_TYPE: u16 = NotifyType::INVALID_EXCHANGE_TYPE.0;
    pub const NO_PROPOSAL_CHOSEN: u16 = NotifyType::NO_PROPOSAL_CHOSEN.0;
    pub const INVALID_ID_INFORMATION: u16 = NotifyType::INVALID_ID_INFORMATION.0;
    pub const INVALID_HASH_INFORMATION: u16 = NotifyType::INVALID_HASH_INFORMATION.0;
    pub const AUTHENTICATION_FAILED: u16 = NotifyType::AUTHENTICATION_FAILED.0;
    pub const INITIAL_CONTACT: u16 = NotifyType::INITIAL_CONTACT.0;
    pub const R_U_THERE: u16 = NotifyType::R_U_THERE.0;
    pub const R_U_THERE_ACK: u16 = NotifyType::R_U_THERE_ACK.0;
}

/// RFC 2407 §4.4.1 / §4.6.2 protocol identifiers.
pub const PROTO_ISAKMP: u8 = ProtocolId::ISAKMP.0;
pub const PROTO_ESP: u8 = ProtocolId::ESP.0;
/// RFC 2407 §4.4.4: ESP_AES is RFC 3602 §5.
pub const ESP_AES: u8 = isakmp::payload::sa::transform_id::ESP_AES;
/// RFC 2407 §4.4.2 KEY_IKE.
pub const KEY_IKE: u8 = isakmp::payload::sa::transform_id::KEY_IKE;
/// RFC 2407 §4.6.2.1 ID types.
pub const ID_IPV4_ADDR: u8 = IdType::IPV4_ADDR.0;
pub const ID_IPV4_ADDR_SUBNET: u8 = IdType::IPV4_ADDR_SUBNET.0;
pub const DOI_IPSEC: u32 = 1;
pub const SIT_IDENTITY_ONLY: u32 = 1;

/// Vendor IDs: RFC 3947 §3.1 (MD5 of "RFC 3947") and RFC 3706 §5 (DPD).
pub const VID_NAT_T: [u8; 16] = isakmp::payload::vendor::NAT_T_RFC3947;
pub const VID_DPD: [u8; 16] = isakmp::payload::vendor::DPD;

/// Why a message or payload was refused; the codec's error.
pub type WireError = isakmp::Error;

/// RFC 2408 §3.1 ISAKMP header, as the state machine uses it.
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

    /// The 28 header octets for a body of `body_len` octets.
    pub fn write(&self, body_len: usize, out: &mut BytesMut) {
        let h = isakmp::Header {
            initiator_cookie: self.icookie,
            responder_cookie: self.rcookie,
            next_payload: PayloadType(self.next_payload),
            exchange_type: ExchangeType(self.exchange),
            flags: Flags(self.flags),
            message_id: self.message_id,
            length: 0,
        };
        // Only a body over 4 GiB fails; UDP cannot carry one.
        if let Ok(bytes) = isakmp::encode_header(&h, body_len) {
            out.put_slice(&bytes);
        }
    }
}

/// The header and the body it covers (RFC 2408 §5.1 checks).
pub fn parse_header(bytes: &[u8]) -> Result<(Header, &[u8]), WireError> {
    let (h, body) = isakmp::parse_header(bytes)?;
    Ok((
        Header {
            icookie: h.initiator_cookie,
            rcookie: h.responder_cookie,
            next_payload: h.next_payload.0,
            exchange: h.exchange_type.0,
            flags: h.flags.0,
            message_id: h.message_id,
        },
        body,
    ))
}

/// One payload of a chain, undecoded: `body` without the generic header,
/// `whole` with it (Quick Mode hashes cover whole payloads, RFC 2409 §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a> {
    pub kind: u8,
    pub body: &'a [u8],
    pub whole: &'a [u8],
}

/// Split a payload chain from `first`; padding after the last payload is
/// allowed, anything else is not (RFC 2408 §5.2, RFC 2409 §5.3).
pub fn parse_chain(first: u8, body: &[u8]) -> Result<Vec<Raw<'_>>, WireError> {
    Ok(isakmp::payload::split_payloads(PayloadType(first), body)?
        .into_iter()
        .map(|r| Raw {
            kind: r.kind.0,
            body: r.body,
            whole: r.whole,
        })
        .collect())
}

/// A data attribute (RFC 2408 §3.3) as a number. Variable values longer
/// than eight octets never name anything this peer negotiates; they read
/// as `u64::MAX`, which matches nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub kind: u16,
    pub value: u64,
}

impl Attribute {
    fn to_codec(self) -> isakmp::Attribute {
        match u16::try_from(self.value) {
            Ok(v) => isakmp::Attribute::basic(self.kind, v),
            Err(_) => match u32::try_from(self.value) {
                Ok(v) => isakmp::Attribute::variable(self.kind, v.to_be_bytes().to_vec()),
                Err(_) => isakmp::Attribute::variable(self.kind, self.value.to_be_bytes().to_vec()),
            },
        }
    }
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

impl Sa {
    pub fn parse(body: &[u8]) -> Result<Sa, WireError> {
        let sa = isakmp::SecurityAssociation::decode(body)?;
        Ok(Sa {
            doi: sa.doi,
            situation: sa.situation,
            proposals: sa
                .proposals
                .into_iter()
                .map(|p| Proposal {
                    number: p.number,
                    protocol: p.protocol.0,
                    spi: p.spi,
                    transforms: p
                        .transforms
                        .into_iter()
                        .map(|t| Transform {
                            number: t.number,
                            id: t.id,
                            attributes: t
                                .attributes
                                .iter()
                                .map(|a| Attribute {
                                    kind: a.kind,
                                    value: a.as_u64().unwrap_or(u64::MAX),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// The SA payload body (what SAi_b means in RFC 2409 §5).
    pub fn encode(&self) -> Bytes {
        let sa = isakmp::SecurityAssociation {
            doi: self.doi,
            situation: self.situation,
            proposals: self
                .proposals
                .iter()
                .map(|p| isakmp::Proposal {
                    number: p.number,
                    protocol: ProtocolId(p.protocol),
                    spi: p.spi.clone(),
                    transforms: p
                        .transforms
                        .iter()
                        .map(|t| isakmp::Transform {
                            number: t.number,
                            id: t.id,
                            attributes: t.attributes.iter().map(|a| a.to_codec()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        };
        // Our own proposals: at most a few dozen transforms, never too long.
        sa.to_body().unwrap_or_default()
    }
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
        let id = isakmp::Identification::decode(body)?;
        Ok(Id {
            id_type: id.id_type.0,
            protocol: id.protocol,
            port: id.port,
            data: id.data,
        })
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        isakmp::Identification {
            id_type: IdType(self.id_type),
            protocol: self.protocol,
            port: self.port,
            data: self.data.clone(),
        }
        .encode_body(&mut out);
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
        let n = isakmp::Notification::decode(body)?;
        Ok(Notify {
            doi: n.doi,
            protocol: n.protocol.0,
            kind: n.message_type.0,
            spi: n.spi,
            data: n.data,
        })
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        let n = isakmp::Notification {
            doi: self.doi,
            protocol: ProtocolId(self.protocol),
            spi: self.spi.clone(),
            message_type: NotifyType(self.kind),
            data: self.data.clone(),
        };
        // Only an SPI over 255 octets fails; ours are 0, 4 or 16.
        if isakmp::Payload::Notification(n)
            .encode_body(&mut out)
            .is_err()
        {
            out.clear();
        }
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
        let d = isakmp::Delete::decode(body)?;
        Ok(Delete {
            protocol: d.protocol.0,
            spis: d.spis,
        })
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        let d = isakmp::Delete {
            doi: DOI_IPSEC,
            protocol: ProtocolId(self.protocol),
            spi_size: self
                .spis
                .first()
                .and_then(|s| u8::try_from(s.len()).ok())
                .unwrap_or(0),
            spis: self.spis.clone(),
        };
        if isakmp::Payload::Delete(d).encode_body(&mut out).is_err() {
            out.clear();
        }
        out.freeze()
    }
}

/// Payloads to send, in order, as (type, body); the generic headers and
/// their Next Payload fields are written by [`Chain::encode`].
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

    /// RFC 2408 §3.2 generic headers, each naming the next payload.
    pub fn encode(&self) -> BytesMut {
        let payloads: Vec<isakmp::Payload> = self
            .0
            .iter()
            .map(|(kind, body)| isakmp::Payload::Unknown {
                kind: PayloadType(*kind),
                body: body.to_vec(),
            })
            .collect();
        // Bodies over 64 KiB cannot be written; ours are a few hundred octets.
        BytesMut::from(&isakmp::payload::encode_payloads(&payloads).unwrap_or_default()[..])
    }
}

/// A cleartext message: header and chain.
pub fn encode_plain(mut header: Header, chain: &Chain) -> Bytes {
    header.next_payload = chain.first();
    header.flags &= !FLAG_ENCRYPTION;
    let body = chain.encode();
    let mut out = BytesMut::with_capacity(HEADER_LEN + body.len());
    header.write(body.len(), &mut out);
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
        bytes.extend_from_slice(&[0, 0, 0, 3]);
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
