//! Decode and encode errors. Each decode error names the RFC 2408 §5 check
//! that failed and maps to the Notify Message Type (§3.14.1) a responder
//! would send back, so the state machine does not have to re-derive it.

use crate::payload::notification::NotifyType;
use crate::payload::PayloadType;

/// What is wrong inside an SA payload's Proposal/Transform nesting
/// (RFC 2408 §3.5, §3.6, §5.5). All of these map to BAD-PROPOSAL-SYNTAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalSyntax {
    /// An SA payload without any Proposal payload (§4.2: at least one).
    NoProposal,
    /// A Proposal's Next Payload is neither Proposal (2) nor NONE (0).
    ProposalNextPayload(u8),
    /// A Transform's Next Payload is neither Transform (3) nor NONE (0).
    TransformNextPayload(u8),
    /// A Proposal's Payload Length is below its fixed part (8 octets plus the SPI).
    ProposalTooShort(u16),
    /// A Transform's Payload Length is below its fixed part (8 octets).
    TransformTooShort(u16),
    /// A Proposal claims more octets than the SA payload has left.
    ProposalOverrun { length: u16, available: usize },
    /// A Transform claims more octets than its Proposal has left.
    TransformOverrun { length: u16, available: usize },
    /// The SPI Size runs past the Proposal.
    SpiOverrun { spi_size: u8, available: usize },
    /// "# of Transforms" disagrees with the Transforms found.
    TransformCount { declared: u8, found: usize },
    /// A Proposal or Transform chain ends (Next Payload NONE) but octets remain,
    /// or says more follow but none do.
    ChainLength { remaining: usize },
    /// A data attribute (§3.3) is cut short or its TLV length runs past the Transform.
    AttributeOverrun {
        attribute_type: u16,
        length: usize,
        available: usize,
    },
}

/// A message or payload that cannot be decoded. `notify_type` tells which
/// notification RFC 2408 §5 wants for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Fewer than 28 octets: not even an ISAKMP header (§3.1). No cookies to
    /// answer to: drop.
    #[error("ISAKMP header truncated: {have} of 28 octets")]
    HeaderTruncated { have: usize },
    /// The header's Length disagrees with the datagram (§3.1: the length of
    /// the total message, header and payloads).
    #[error("header length {header} but the datagram has {datagram} octets")]
    LengthMismatch { header: u32, datagram: usize },
    /// §5.1 step 1. The codec only rejects a zero Initiator Cookie (§2.5.3:
    /// cookies are never zero); the state machine reports unknown cookies.
    #[error("invalid cookie")]
    InvalidCookie,
    /// §5.1 step 2, §5.2: a Next Payload the codec does not know, or a
    /// Proposal/Transform outside an SA payload.
    #[error("invalid payload type {0}")]
    InvalidPayloadType(u8),
    /// §5.1 step 3: only version 1 is ISAKMP.
    #[error("invalid major version {0}")]
    InvalidMajorVersion(u8),
    /// §5.1 step 4: only minor version 0 exists.
    #[error("invalid minor version {0}")]
    InvalidMinorVersion(u8),
    /// §5.1 step 5: not one of the exchanges RFC 2408 §4 and RFC 2409 define.
    #[error("invalid exchange type {0}")]
    InvalidExchangeType(u8),
    /// §5.1 step 6: bits other than Encryption, Commit and Authentication Only.
    #[error("invalid flags {0:#04x}")]
    InvalidFlags(u8),
    /// §5.1 step 7. Never produced by the codec (message IDs are state); here
    /// so the state machine reports it through the same type.
    #[error("invalid message ID {0:#010x}")]
    InvalidMessageId(u32),
    /// A payload's Length is below 4 octets (§3.2) or below the fixed part
    /// of its kind.
    #[error("{payload:?} payload length {length} is below its minimum {minimum}")]
    PayloadTooShort {
        payload: PayloadType,
        length: u16,
        minimum: u16,
    },
    /// A payload claims more octets than the message has left, or its
    /// generic header itself is cut.
    #[error("{payload:?} payload truncated: length {length}, {available} octets left")]
    PayloadTruncated {
        payload: PayloadType,
        length: u16,
        available: usize,
    },
    /// Octets after the last payload (Next Payload NONE) that are not
    /// padding (RFC 2409 §5.3).
    #[error("{0} octets after the last payload are not padding")]
    TrailingData(usize),
    /// §5.4 step 1, §5.14, §5.15: a DOI other than IPsec (1), or ISAKMP (0)
    /// where a notification or delete may carry it.
    #[error("DOI {0} not supported")]
    DoiNotSupported(u32),
    /// §5.4 step 2: only SIT_IDENTITY_ONLY (RFC 2407 §4.2).
    #[error("situation {0:#010x} not supported")]
    SituationNotSupported(u32),
    /// §5.5 step 1: a Protocol-ID the IPsec DOI does not define (RFC 2407 §4.4.1).
    #[error("invalid protocol ID {0}")]
    InvalidProtocolId(u8),
    /// §5.5 step 2, §5.14, §5.15: an SPI size that does not fit the payload
    /// or the list of SPIs.
    #[error("invalid SPI: {0}")]
    InvalidSpi(&'static str),
    /// §5.5 step 3: the Proposal/Transform nesting is malformed.
    #[error("bad proposal syntax: {0:?}")]
    BadProposalSyntax(ProposalSyntax),
    /// §5.8: an Identification payload whose data does not fit its ID type
    /// (RFC 2407 §4.6.2).
    #[error("invalid identification: ID type {id_type} with {length} octets of data")]
    InvalidIdInformation { id_type: u8, length: usize },
    /// A NAT-OA payload (RFC 3947 §5.1) with an ID type other than IPv4/IPv6
    /// address or data of the wrong size.
    #[error("malformed NAT-OA payload: ID type {id_type}, {length} octets")]
    InvalidNatOa { id_type: u8, length: usize },
    /// A Delete payload's SPIs do not add up to "# of SPIs" × SPI Size.
    #[error("delete payload: {count} SPIs of {spi_size} octets but {available} octets")]
    DeleteSpiCount {
        count: u16,
        spi_size: u8,
        available: usize,
    },
    /// `Message::decode_cleartext` on a message with the Encryption flag:
    /// decrypt the body and use `parse_payloads`.
    #[error("message body is encrypted")]
    Encrypted,
}

impl Error {
    /// The Notify Message Type (RFC 2408 §3.14.1) the responder should send
    /// for this error, or `None` when the datagram should be dropped
    /// silently (nothing trustworthy to answer to).
    #[must_use]
    pub fn notify_type(&self) -> Option<NotifyType> {
        Some(match self {
            Error::HeaderTruncated { .. } | Error::LengthMismatch { .. } | Error::Encrypted => {
                return None
            }
            Error::InvalidCookie => NotifyType::INVALID_COOKIE,
            Error::InvalidPayloadType(_) => NotifyType::INVALID_PAYLOAD_TYPE,
            Error::InvalidMajorVersion(_) => NotifyType::INVALID_MAJOR_VERSION,
            Error::InvalidMinorVersion(_) => NotifyType::INVALID_MINOR_VERSION,
            Error::InvalidExchangeType(_) => NotifyType::INVALID_EXCHANGE_TYPE,
            Error::InvalidFlags(_) => NotifyType::INVALID_FLAGS,
            Error::InvalidMessageId(_) => NotifyType::INVALID_MESSAGE_ID,
            Error::PayloadTooShort { .. }
            | Error::PayloadTruncated { .. }
            | Error::TrailingData(_)
            | Error::InvalidNatOa { .. }
            | Error::DeleteSpiCount { .. } => NotifyType::PAYLOAD_MALFORMED,
            Error::DoiNotSupported(_) => NotifyType::DOI_NOT_SUPPORTED,
            Error::SituationNotSupported(_) => NotifyType::SITUATION_NOT_SUPPORTED,
            Error::InvalidProtocolId(_) => NotifyType::INVALID_PROTOCOL_ID,
            Error::InvalidSpi(_) => NotifyType::INVALID_SPI,
            Error::BadProposalSyntax(_) => NotifyType::BAD_PROPOSAL_SYNTAX,
            Error::InvalidIdInformation { .. } => NotifyType::INVALID_ID_INFORMATION,
        })
    }
}

/// Our own structures that cannot be put on the wire: a field too long for
/// its length field, or inconsistent counts. These are bugs in the caller
/// (or a deliberate impairment gone too far), never peer input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A payload, proposal, transform or attribute longer than its 16-bit
    /// length field, or a message longer than 2^32 - 1.
    #[error("{0} too long for its length field")]
    TooLong(&'static str),
    /// A count field (transforms, SPIs) or SPI size over its field width.
    #[error("{0} does not fit its field")]
    CountOverflow(&'static str),
    /// Delete SPIs of different sizes (§3.15 has one SPI Size for all).
    #[error("delete payload SPIs differ in size")]
    InconsistentSpiSize,
}
