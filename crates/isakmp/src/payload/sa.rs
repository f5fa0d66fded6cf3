//! Security Association payload (RFC 2408 §3.4) with its nested Proposal
//! (§3.5) and Transform (§3.6) payloads, in the IPsec DOI (RFC 2407 §4.2).
//!
//! SA payload body (after the generic header):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !              Domain of Interpretation  (DOI)                  !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                           Situation                           ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Proposal payload:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                        SPI (variable)                         !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Transform payload:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Transform #  !  Transform-Id !           RESERVED2           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                        SA Attributes                          ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;

use crate::attribute::{encode_attributes, parse_attributes, Attribute};
use crate::error::{EncodeError, Error, ProposalSyntax};
use crate::payload::PayloadType;
use crate::wire::{count8, put_generic, read};

/// The IPsec DOI (RFC 2407 §4.2). ISAKMP's own DOI is 0.
pub const DOI_IPSEC: u32 = 1;
/// DOI 0: generic ISAKMP, allowed in Notification and Delete payloads.
pub const DOI_ISAKMP: u32 = 0;
/// RFC 2407 §4.2: the only situation IKE peers use.
pub const SIT_IDENTITY_ONLY: u32 = 1;

/// Protocol-ID (RFC 2407 §4.4.1), in Proposals, Notifications and Deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolId(pub u8);

impl ProtocolId {
    /// Notifications and Deletes about no particular SA use 0.
    pub const NONE: Self = Self(0);
    pub const ISAKMP: Self = Self(1);
    pub const AH: Self = Self(2);
    pub const ESP: Self = Self(3);
    pub const IPCOMP: Self = Self(4);

    #[must_use]
    pub fn is_known(self) -> bool {
        self.0 <= 4
    }
}

/// Transform-ID values (RFC 2407 §4.4.2-§4.4.4; ESP_AES from RFC 3602 §5.1).
pub mod transform_id {
    /// The only Transform-ID for PROTO_ISAKMP (RFC 2407 §4.4.2).
    pub const KEY_IKE: u8 = 1;
    pub const ESP_DES: u8 = 2;
    pub const ESP_3DES: u8 = 3;
    pub const ESP_NULL: u8 = 11;
    pub const ESP_AES: u8 = 12;
    pub const AH_MD5: u8 = 2;
    pub const AH_SHA: u8 = 3;
}

/// One Transform: an algorithm choice with its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform {
    pub number: u8,
    /// Meaning depends on the Proposal's protocol: see [`transform_id`].
    pub id: u8,
    pub attributes: Vec<Attribute>,
}

impl Transform {
    /// The first attribute of class `kind`.
    #[must_use]
    pub fn attribute(&self, kind: u16) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.kind == kind)
    }
}

/// One Proposal. Proposals with the same number are one offer combined
/// ("AND", e.g. AH and ESP); different numbers are alternatives (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    pub number: u8,
    pub protocol: ProtocolId,
    /// Empty in phase 1 (RFC 2409 §5: the cookies are the SPI), 4 octets for
    /// ESP/AH, any size the peer sent otherwise.
    pub spi: Vec<u8>,
    /// Alternatives, in the sender's order of preference.
    pub transforms: Vec<Transform>,
}

/// An SA payload body: DOI, Situation, Proposals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityAssociation {
    pub doi: u32,
    pub situation: u32,
    pub proposals: Vec<Proposal>,
}

impl SecurityAssociation {
    /// An IPsec DOI, SIT_IDENTITY_ONLY SA with these proposals.
    #[must_use]
    pub fn ipsec(proposals: Vec<Proposal>) -> Self {
        Self {
            doi: DOI_IPSEC,
            situation: SIT_IDENTITY_ONLY,
            proposals,
        }
    }

    /// Decodes an SA payload body (RFC 2408 §5.4, §5.5, §5.6 checks).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let (mut rest, (doi, situation)) =
            read(body, tuple((be_u32, be_u32)), || Error::PayloadTooShort {
                payload: PayloadType::SECURITY_ASSOCIATION,
                length: u16::try_from(body.len() + 4).unwrap_or(u16::MAX),
                minimum: 12,
            })?;
        if doi != DOI_IPSEC {
            return Err(Error::DoiNotSupported(doi));
        }
        // Secrecy and integrity situations carry labelled-domain fields
        // (RFC 2407 §4.6.1) no IKE peer sends.
        if situation != SIT_IDENTITY_ONLY {
            return Err(Error::SituationNotSupported(situation));
        }
        let bad = |s| Error::BadProposalSyntax(s);
        if rest.is_empty() {
            return Err(bad(ProposalSyntax::NoProposal));
        }
        let mut proposals = Vec::new();
        // The chain starts with a Proposal; each Next Payload says whether
        // another follows (§3.5: "2" for more, "0" for the last).
        loop {
            let available = rest.len();
            let (after, (next, _reserved, length, number, protocol, spi_size, count)) = read(
                rest,
                tuple((be_u8, be_u8, be_u16, be_u8, be_u8, be_u8, be_u8)),
                || {
                    bad(ProposalSyntax::ChainLength {
                        remaining: available,
                    })
                },
            )?;
            if next != PayloadType::PROPOSAL.0 && next != PayloadType::NONE.0 {
                return Err(bad(ProposalSyntax::ProposalNextPayload(next)));
            }
            let fixed = 8 + usize::from(spi_size);
            if usize::from(length) < 8 {
                return Err(bad(ProposalSyntax::ProposalTooShort(length)));
            }
            let Some((_, next_rest)) = rest.split_at_checked(usize::from(length)) else {
                return Err(bad(ProposalSyntax::ProposalOverrun { length, available }));
            };
            if usize::from(length) < fixed {
                return Err(bad(ProposalSyntax::SpiOverrun {
                    spi_size,
                    available: usize::from(length) - 8,
                }));
            }
            let protocol = ProtocolId(protocol);
            if !protocol.is_known() || protocol == ProtocolId::NONE {
                return Err(Error::InvalidProtocolId(protocol.0));
            }
            let inner = after.get(..usize::from(length) - 8).unwrap_or_default();
            let (spi, transforms_area) = inner.split_at_checked(usize::from(spi_size)).ok_or(
                bad(ProposalSyntax::SpiOverrun {
                    spi_size,
                    available: inner.len(),
                }),
            )?;
            let transforms = decode_transforms(transforms_area)?;
            if transforms.len() != usize::from(count) {
                return Err(bad(ProposalSyntax::TransformCount {
                    declared: count,
                    found: transforms.len(),
                }));
            }
            proposals.push(Proposal {
                number,
                protocol,
                spi: spi.to_vec(),
                transforms,
            });
            rest = next_rest;
            match (next, rest.is_empty()) {
                (0, true) => break,
                (2, false) => continue,
                _ => {
                    return Err(bad(ProposalSyntax::ChainLength {
                        remaining: rest.len(),
                    }))
                }
            }
        }
        Ok(Self {
            doi,
            situation,
            proposals,
        })
    }

    /// Writes the SA payload body (SAi_b when we initiate).
    pub fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.doi);
        out.put_u32(self.situation);
        let mut proposal_body = BytesMut::new();
        let mut transform_body = BytesMut::new();
        for (i, proposal) in self.proposals.iter().enumerate() {
            let next = if i + 1 < self.proposals.len() {
                PayloadType::PROPOSAL
            } else {
                PayloadType::NONE
            };
            proposal_body.clear();
            proposal_body.put_u8(proposal.number);
            proposal_body.put_u8(proposal.protocol.0);
            proposal_body.put_u8(count8(proposal.spi.len(), "SPI size")?);
            proposal_body.put_u8(count8(proposal.transforms.len(), "# of transforms")?);
            proposal_body.put_slice(&proposal.spi);
            for (j, transform) in proposal.transforms.iter().enumerate() {
                let next = if j + 1 < proposal.transforms.len() {
                    PayloadType::TRANSFORM
                } else {
                    PayloadType::NONE
                };
                transform_body.clear();
                transform_body.put_u8(transform.number);
                transform_body.put_u8(transform.id);
                transform_body.put_u16(0);
                encode_attributes(&transform.attributes, &mut transform_body)?;
                put_generic(&mut proposal_body, next.0, &transform_body, "transform")?;
            }
            put_generic(out, next.0, &proposal_body, "proposal")?;
        }
        Ok(())
    }

    /// The SA payload body as bytes.
    pub fn to_body(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        self.encode_body(&mut out)?;
        Ok(out.freeze())
    }
}

/// Reads the Transform chain of one Proposal. The area must be used up
/// exactly: the Proposal's Length covers its Transforms (§3.5).
fn decode_transforms(mut rest: &[u8]) -> Result<Vec<Transform>, Error> {
    let bad = |s| Error::BadProposalSyntax(s);
    let mut transforms = Vec::new();
    while !rest.is_empty() {
        let available = rest.len();
        let (after, (next, _reserved, length, number, id, _reserved2)) = read(
            rest,
            tuple((be_u8, be_u8, be_u16, be_u8, be_u8, be_u16)),
            || {
                bad(ProposalSyntax::ChainLength {
                    remaining: available,
                })
            },
        )?;
        if next != PayloadType::TRANSFORM.0 && next != PayloadType::NONE.0 {
            return Err(bad(ProposalSyntax::TransformNextPayload(next)));
        }
        if length < 8 {
            return Err(bad(ProposalSyntax::TransformTooShort(length)));
        }
        let Some((_, next_rest)) = rest.split_at_checked(usize::from(length)) else {
            return Err(bad(ProposalSyntax::TransformOverrun { length, available }));
        };
        let attributes_area = after.get(..usize::from(length) - 8).unwrap_or_default();
        let attributes = parse_attributes(attributes_area).map_err(bad)?;
        transforms.push(Transform {
            number,
            id,
            attributes,
        });
        rest = next_rest;
        // A NONE with octets left, or a "more" with none left, means the
        // lengths and the chain disagree.
        if (next == PayloadType::NONE.0) != rest.is_empty() {
            return Err(bad(ProposalSyntax::ChainLength {
                remaining: rest.len(),
            }));
        }
    }
    Ok(transforms)
}
