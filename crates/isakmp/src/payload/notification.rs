//! Notification payload (RFC 2408 §3.14) and the Notify Message Types of
//! RFC 2408 §3.14.1, RFC 2407 §4.6.3 and RFC 3706 (DPD).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !              Domain of Interpretation  (DOI)                  !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Protocol-ID  !   SPI Size    !      Notify Message Type      !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                Security Parameter Index (SPI)                 ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                       Notification Data                       ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;

use crate::attribute::{parse_attributes, Attribute};
use crate::error::{EncodeError, Error};
use crate::payload::sa::{ProtocolId, DOI_IPSEC, DOI_ISAKMP};
use crate::payload::PayloadType;
use crate::wire::{count8, read};

/// Notify Message Type. Unknown values are kept (status types from other
/// vendors are informational and may be ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotifyType(pub u16);

impl NotifyType {
    // RFC 2408 §3.14.1 error types (1-8191).
    pub const INVALID_PAYLOAD_TYPE: Self = Self(1);
    pub const DOI_NOT_SUPPORTED: Self = Self(2);
    pub const SITUATION_NOT_SUPPORTED: Self = Self(3);
    pub const INVALID_COOKIE: Self = Self(4);
    pub const INVALID_MAJOR_VERSION: Self = Self(5);
    pub const INVALID_MINOR_VERSION: Self = Self(6);
    pub const INVALID_EXCHANGE_TYPE: Self = Self(7);
    pub const INVALID_FLAGS: Self = Self(8);
    pub const INVALID_MESSAGE_ID: Self = Self(9);
    pub const INVALID_PROTOCOL_ID: Self = Self(10);
    pub const INVALID_SPI: Self = Self(11);
    pub const INVALID_TRANSFORM_ID: Self = Self(12);
    pub const ATTRIBUTES_NOT_SUPPORTED: Self = Self(13);
    pub const NO_PROPOSAL_CHOSEN: Self = Self(14);
    pub const BAD_PROPOSAL_SYNTAX: Self = Self(15);
    pub const PAYLOAD_MALFORMED: Self = Self(16);
    pub const INVALID_KEY_INFORMATION: Self = Self(17);
    pub const INVALID_ID_INFORMATION: Self = Self(18);
    pub const INVALID_CERT_ENCODING: Self = Self(19);
    pub const INVALID_CERTIFICATE: Self = Self(20);
    pub const CERT_TYPE_UNSUPPORTED: Self = Self(21);
    pub const INVALID_CERT_AUTHORITY: Self = Self(22);
    pub const INVALID_HASH_INFORMATION: Self = Self(23);
    pub const AUTHENTICATION_FAILED: Self = Self(24);
    pub const INVALID_SIGNATURE: Self = Self(25);
    pub const ADDRESS_NOTIFICATION: Self = Self(26);
    pub const NOTIFY_SA_LIFETIME: Self = Self(27);
    pub const CERTIFICATE_UNAVAILABLE: Self = Self(28);
    pub const UNSUPPORTED_EXCHANGE_TYPE: Self = Self(29);
    pub const UNEQUAL_PAYLOAD_LENGTHS: Self = Self(30);
    // RFC 2408 §3.14.1 status.
    pub const CONNECTED: Self = Self(16384);
    // RFC 2407 §4.6.3 IPsec DOI status types.
    /// Data: attributes (SA life type/duration) the responder will enforce.
    pub const RESPONDER_LIFETIME: Self = Self(24576);
    /// Data: 4 octets, non-zero if anti-replay is enabled.
    pub const REPLAY_STATUS: Self = Self(24577);
    /// SPI: CKY-I | CKY-R; no data. Tells the peer to drop old SAs.
    pub const INITIAL_CONTACT: Self = Self(24578);
    // RFC 3706 §5 DPD.
    /// SPI: CKY-I | CKY-R; data: 4-octet sequence number.
    pub const R_U_THERE: Self = Self(36136);
    pub const R_U_THERE_ACK: Self = Self(36137);

    /// Error types are 1-8191 (RFC 2408 §3.14.1); status types from 8192.
    #[must_use]
    pub fn is_error(self) -> bool {
        (1..8192).contains(&self.0)
    }

    /// The RFC name, for logs.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        const ERRORS: [&str; 30] = [
            "INVALID-PAYLOAD-TYPE",
            "DOI-NOT-SUPPORTED",
            "SITUATION-NOT-SUPPORTED",
            "INVALID-COOKIE",
            "INVALID-MAJOR-VERSION",
            "INVALID-MINOR-VERSION",
            "INVALID-EXCHANGE-TYPE",
            "INVALID-FLAGS",
            "INVALID-MESSAGE-ID",
            "INVALID-PROTOCOL-ID",
            "INVALID-SPI",
            "INVALID-TRANSFORM-ID",
            "ATTRIBUTES-NOT-SUPPORTED",
            "NO-PROPOSAL-CHOSEN",
            "BAD-PROPOSAL-SYNTAX",
            "PAYLOAD-MALFORMED",
            "INVALID-KEY-INFORMATION",
            "INVALID-ID-INFORMATION",
            "INVALID-CERT-ENCODING",
            "INVALID-CERTIFICATE",
            "CERT-TYPE-UNSUPPORTED",
            "INVALID-CERT-AUTHORITY",
            "INVALID-HASH-INFORMATION",
            "AUTHENTICATION-FAILED",
            "INVALID-SIGNATURE",
            "ADDRESS-NOTIFICATION",
            "NOTIFY-SA-LIFETIME",
            "CERTIFICATE-UNAVAILABLE",
            "UNSUPPORTED-EXCHANGE-TYPE",
            "UNEQUAL-PAYLOAD-LENGTHS",
        ];
        match self.0 {
            1..=30 => ERRORS.get(usize::from(self.0) - 1).copied(),
            16384 => Some("CONNECTED"),
            24576 => Some("RESPONDER-LIFETIME"),
            24577 => Some("REPLAY-STATUS"),
            24578 => Some("INITIAL-CONTACT"),
            36136 => Some("R-U-THERE"),
            36137 => Some("R-U-THERE-ACK"),
            _ => None,
        }
    }
}

/// A Notification payload body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// 1 (IPsec) or 0 (ISAKMP; RFC 2408 allows it for phase 1 notices).
    pub doi: u32,
    pub protocol: ProtocolId,
    /// Empty, an ESP/AH SPI (4 octets), or CKY-I | CKY-R (16 octets) for
    /// INITIAL-CONTACT and DPD.
    pub spi: Vec<u8>,
    pub message_type: NotifyType,
    pub data: Vec<u8>,
}

impl Notification {
    /// An IPsec DOI notification about the IKE SA (`cookies` as SPI).
    #[must_use]
    pub fn isakmp(message_type: NotifyType, cky_i: u64, cky_r: u64, data: Vec<u8>) -> Self {
        Self {
            doi: DOI_IPSEC,
            protocol: ProtocolId::ISAKMP,
            spi: cookie_spi(cky_i, cky_r),
            message_type,
            data,
        }
    }

    /// INITIAL-CONTACT (RFC 2407 §4.6.3.3), as strongSwan sends it in MM5.
    #[must_use]
    pub fn initial_contact(cky_i: u64, cky_r: u64) -> Self {
        Self::isakmp(NotifyType::INITIAL_CONTACT, cky_i, cky_r, Vec::new())
    }

    /// R-U-THERE (RFC 3706 §5.1) with its sequence number.
    #[must_use]
    pub fn r_u_there(cky_i: u64, cky_r: u64, sequence: u32) -> Self {
        Self::isakmp(
            NotifyType::R_U_THERE,
            cky_i,
            cky_r,
            sequence.to_be_bytes().to_vec(),
        )
    }

    /// R-U-THERE-ACK (RFC 3706 §5.1) echoing the sequence number.
    #[must_use]
    pub fn r_u_there_ack(cky_i: u64, cky_r: u64, sequence: u32) -> Self {
        Self::isakmp(
            NotifyType::R_U_THERE_ACK,
            cky_i,
            cky_r,
            sequence.to_be_bytes().to_vec(),
        )
    }

    /// The sequence number of an R-U-THERE / R-U-THERE-ACK (RFC 3706 §5.1:
    /// exactly 4 octets of data); `None` for other types or a bad length.
    #[must_use]
    pub fn dpd_sequence(&self) -> Option<u32> {
        if self.message_type != NotifyType::R_U_THERE
            && self.message_type != NotifyType::R_U_THERE_ACK
        {
            return None;
        }
        self.data.as_slice().try_into().ok().map(u32::from_be_bytes)
    }

    /// The (CKY-I, CKY-R) pair in a 16-octet SPI (RFC 3706 §5.1, RFC 2407
    /// §4.6.3.3), which the receiver must check against the IKE SA.
    #[must_use]
    pub fn cookies(&self) -> Option<(u64, u64)> {
        let spi: [u8; 16] = self.spi.as_slice().try_into().ok()?;
        let (i, r) = spi.split_at(8);
        Some((
            u64::from_be_bytes(i.try_into().ok()?),
            u64::from_be_bytes(r.try_into().ok()?),
        ))
    }

    /// The attributes of a RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
    #[must_use]
    pub fn lifetime_attributes(&self) -> Option<Vec<Attribute>> {
        (self.message_type == NotifyType::RESPONDER_LIFETIME)
            .then(|| parse_attributes(&self.data).ok())
            .flatten()
    }

    /// The anti-replay state of a REPLAY-STATUS (RFC 2407 §4.6.3.2).
    #[must_use]
    pub fn replay_enabled(&self) -> Option<bool> {
        if self.message_type != NotifyType::REPLAY_STATUS {
            return None;
        }
        let value: [u8; 4] = self.data.as_slice().try_into().ok()?;
        Some(u32::from_be_bytes(value) != 0)
    }

    /// Decodes a body (RFC 2408 §5.14 checks: DOI, protocol, SPI size).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let (
            rest,
            DoiProtocolHeader {
                doi,
                protocol,
                spi_size,
                field: message_type,
            },
        ) = doi_protocol_header(body, PayloadType::NOTIFICATION)?;
        let (spi, data) = rest
            .split_at_checked(usize::from(spi_size))
            .ok_or(Error::InvalidSpi(
                "notification SPI size exceeds the payload",
            ))?;
        Ok(Self {
            doi,
            protocol,
            spi: spi.to_vec(),
            message_type: NotifyType(message_type),
            data: data.to_vec(),
        })
    }

    pub(crate) fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u32(self.doi);
        out.put_u8(self.protocol.0);
        out.put_u8(count8(self.spi.len(), "notification SPI size")?);
        out.put_u16(self.message_type.0);
        out.put_slice(&self.spi);
        out.put_slice(&self.data);
        Ok(())
    }
}

/// CKY-I | CKY-R as a 16-octet SPI.
#[must_use]
pub fn cookie_spi(cky_i: u64, cky_r: u64) -> Vec<u8> {
    let mut spi = cky_i.to_be_bytes().to_vec();
    spi.extend_from_slice(&cky_r.to_be_bytes());
    spi
}

/// The fixed part that Notification and Delete bodies share (RFC 2408
/// §3.14, §3.15), checked: DOI IPsec or ISAKMP, a known Protocol-ID.
pub(crate) struct DoiProtocolHeader {
    pub doi: u32,
    pub protocol: ProtocolId,
    pub spi_size: u8,
    /// Notify Message Type, or # of SPIs.
    pub field: u16,
}

/// Reads a [`DoiProtocolHeader`]; what follows it.
pub(crate) fn doi_protocol_header(
    body: &[u8],
    payload: PayloadType,
) -> Result<(&[u8], DoiProtocolHeader), Error> {
    let (rest, (doi, protocol, spi_size, field)) =
        read(body, tuple((be_u32, be_u8, be_u8, be_u16)), || {
            Error::PayloadTooShort {
                payload,
                length: u16::try_from(body.len() + 4).unwrap_or(u16::MAX),
                minimum: 12,
            }
        })?;
    if doi != DOI_IPSEC && doi != DOI_ISAKMP {
        return Err(Error::DoiNotSupported(doi));
    }
    let protocol = ProtocolId(protocol);
    if !protocol.is_known() {
        return Err(Error::InvalidProtocolId(protocol.0));
    }
    Ok((
        rest,
        DoiProtocolHeader {
            doi,
            protocol,
            spi_size,
            field,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::ipsec;

    #[test]
    fn dpd_round_trip_and_sequence() {
        let n = Notification::r_u_there(0x1122, 0x3344, 7);
        let mut out = BytesMut::new();
        n.encode_body(&mut out).unwrap();
        let back = Notification::decode(&out).unwrap();
        assert_eq!(back, n);
        assert_eq!(back.dpd_sequence(), Some(7));
        assert_eq!(back.cookies(), Some((0x1122, 0x3344)));
        assert_eq!(Notification::r_u_there_ack(1, 2, 9).dpd_sequence(), Some(9));
        assert_eq!(Notification::initial_contact(1, 2).dpd_sequence(), None);
    }

    #[test]
    fn responder_lifetime_and_replay_status() {
        let mut data = BytesMut::new();
        crate::attribute::encode_attributes(
            &[
                Attribute::basic(ipsec::SA_LIFE_TYPE, ipsec::life::SECONDS),
                Attribute::duration(ipsec::SA_LIFE_DURATION, 86_400),
            ],
            &mut data,
        )
        .unwrap();
        let n = Notification {
            message_type: NotifyType::RESPONDER_LIFETIME,
            ..Notification::isakmp(NotifyType(0), 1, 2, data.to_vec())
        };
        let attributes = n.lifetime_attributes().unwrap();
        assert_eq!(attributes[1].as_u64(), Some(86_400));
        let replay = Notification::isakmp(NotifyType::REPLAY_STATUS, 1, 2, vec![0, 0, 0, 1]);
        assert_eq!(replay.replay_enabled(), Some(true));
    }

    #[test]
    fn names_and_classes() {
        assert_eq!(
            NotifyType::INVALID_PAYLOAD_TYPE.name(),
            Some("INVALID-PAYLOAD-TYPE")
        );
        assert_eq!(
            NotifyType::UNEQUAL_PAYLOAD_LENGTHS.name(),
            Some("UNEQUAL-PAYLOAD-LENGTHS")
        );
        assert_eq!(NotifyType::R_U_THERE_ACK.name(), Some("R-U-THERE-ACK"));
        assert_eq!(NotifyType(31).name(), None);
        assert!(NotifyType::NO_PROPOSAL_CHOSEN.is_error());
        assert!(!NotifyType::INITIAL_CONTACT.is_error());
    }
}
