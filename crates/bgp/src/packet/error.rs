//! Decode errors, named after the RFC error families they map to.
//!
//! Every error a peer can cause maps to exactly one NOTIFICATION (RFC 4271
//! §6) or to an RFC 7606 action: a [`DecodeError`] ends the session with
//! [`DecodeError::to_notification`]; an [`AttributeError`] is an RFC 7606
//! action already applied to the decoded UPDATE.

use super::notification::{
    header_subcode, open_subcode, route_refresh_subcode, update_subcode, NotificationCode,
};
use super::Notification;
use bytes::Bytes;

/// Anything wrong with a received message that ends the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message header error: {0}")]
    Header(HeaderError),
    #[error("OPEN message error: {0}")]
    Open(OpenError),
    #[error("UPDATE message error: {0}")]
    Update(UpdateError),
    #[error("ROUTE-REFRESH message error: {0}")]
    RouteRefresh(RouteRefreshError),
}

/// Message Header Error (RFC 4271 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("marker is not all ones")]
    ConnectionNotSynchronized,
    /// The length field, out of range or wrong for the message type.
    #[error("bad message length {length} for type {msg_type}")]
    BadMessageLength { length: u16, msg_type: u8 },
    #[error("unknown message type {msg_type}")]
    BadMessageType { msg_type: u8 },
}

/// OPEN Message Error (RFC 4271 §6.2, RFC 5492 §5).
///
/// The decoder raises the variants it can judge from the message alone;
/// the others (peer AS, optional parameters, capabilities) need the
/// configuration and are there for the session to use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported version {version}")]
    UnsupportedVersion { version: u8 },
    #[error("bad peer AS {asn}")]
    BadPeerAs { asn: u32 },
    #[error("bad BGP identifier {id}")]
    BadBgpIdentifier { id: std::net::Ipv4Addr },
    /// Data: the parameter (type, length, value).
    #[error("unsupported optional parameter {param_type}")]
    UnsupportedOptionalParameter { param_type: u8, parameter: Bytes },
    #[error("unacceptable hold time {hold_time}")]
    UnacceptableHoldTime { hold_time: u16 },
    /// RFC 5492 §5: data is the capabilities the peer lacks.
    #[error("unsupported capability")]
    UnsupportedCapability { capabilities: Bytes },
    /// Lengths that disagree inside the message: no subcode fits, so it is
    /// Unspecific (subcode 0), the choice BIRD and FRR make too.
    #[error("malformed OPEN: {reason}")]
    Malformed { reason: &'static str },
}

/// UPDATE Message Error that RFC 7606 resolves with a session reset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// RFC 4271 §6.3, RFC 7606 §3 b and §3 g.
    #[error("malformed attribute list: {reason}")]
    MalformedAttributeList { reason: &'static str },
    /// RFC 4271 §6.3: data is the attribute (type, length, value).
    #[error("unrecognized well-known attribute {type_code}")]
    UnrecognizedWellKnownAttribute { type_code: u8, attribute: Bytes },
    /// RFC 4271 §6.3, RFC 7606 §3 i and §5.3: withdrawn routes or NLRI field.
    #[error("invalid network field: {reason}")]
    InvalidNetworkField { reason: &'static str },
    /// RFC 4760 §7, RFC 7606 §3 j and §7.11: MP_REACH_NLRI or
    /// MP_UNREACH_NLRI whose NLRI cannot be located or parsed.
    #[error("optional attribute error in attribute {type_code}: {reason}")]
    OptionalAttributeError {
        type_code: u8,
        reason: &'static str,
        attribute: Bytes,
    },
    /// RFC 7606 §5.2: an attribute error calling for treat-as-withdraw in an
    /// UPDATE that announces nothing becomes a session reset, with the
    /// NOTIFICATION RFC 4271 §6.3 gives for that error.
    #[error("{} in an UPDATE without reachable NLRI", .0.reason)]
    AttributeWithoutNlri(AttributeError),
}

/// ROUTE-REFRESH Message Error (RFC 7313 §5).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteRefreshError {
    /// Data: the complete ROUTE-REFRESH message.
    #[error("invalid message length {length}")]
    InvalidMessageLength { length: u16, message: Bytes },
}

impl DecodeError {
    /// The NOTIFICATION to send before closing (RFC 4271 §6).
    pub fn to_notification(&self) -> Notification {
        match self {
            DecodeError::Header(e) => e.to_notification(),
            DecodeError::Open(e) => e.to_notification(),
            DecodeError::Update(e) => e.to_notification(),
            DecodeError::RouteRefresh(e) => e.to_notification(),
        }
    }
}

impl HeaderError {
    /// RFC 4271 §6.1.
    pub fn to_notification(&self) -> Notification {
        let code = NotificationCode::MessageHeaderError;
        match *self {
            HeaderError::ConnectionNotSynchronized => Notification::new(
                code,
                header_subcode::CONNECTION_NOT_SYNCHRONIZED,
                Bytes::new(),
            ),
            // The data is the erroneous Length field.
            HeaderError::BadMessageLength { length, .. } => Notification::new(
                code,
                header_subcode::BAD_MESSAGE_LENGTH,
                Bytes::copy_from_slice(&length.to_be_bytes()),
            ),
            // The data is the erroneous Type field.
            HeaderError::BadMessageType { msg_type } => Notification::new(
                code,
                header_subcode::BAD_MESSAGE_TYPE,
                Bytes::copy_from_slice(&[msg_type]),
            ),
        }
    }
}

impl OpenError {
    /// RFC 4271 §6.2.
    pub fn to_notification(&self) -> Notification {
        let code = NotificationCode::OpenMessageError;
        match self {
            // The data is the version we speak, as a 2-octet number.
            OpenError::UnsupportedVersion { .. } => Notification::new(
                code,
                open_subcode::UNSUPPORTED_VERSION_NUMBER,
                Bytes::copy_from_slice(&4u16.to_be_bytes()),
            ),
            OpenError::BadPeerAs { asn } => {
                // The 2-octet field when the AS fits, else the 4-octet AS
                // (RFC 6793 §4.1 leaves it open; this is what BIRD sends).
                let data = match u16::try_from(*asn) {
                    Ok(short) => Bytes::copy_from_slice(&short.to_be_bytes()),
                    Err(_) => Bytes::copy_from_slice(&asn.to_be_bytes()),
                };
                Notification::new(code, open_subcode::BAD_PEER_AS, data)
            }
            OpenError::BadBgpIdentifier { id } => Notification::new(
                code,
                open_subcode::BAD_BGP_IDENTIFIER,
                Bytes::copy_from_slice(&id.octets()),
            ),
            OpenError::UnsupportedOptionalParameter { parameter, .. } => Notification::new(
                code,
                open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                parameter.clone(),
            ),
            OpenError::UnacceptableHoldTime { hold_time } => Notification::new(
                code,
                open_subcode::UNACCEPTABLE_HOLD_TIME,
                Bytes::copy_from_slice(&hold_time.to_be_bytes()),
            ),
            OpenError::UnsupportedCapability { capabilities } => Notification::new(
                code,
                open_subcode::UNSUPPORTED_CAPABILITY,
                capabilities.clone(),
            ),
            OpenError::Malformed { .. } => {
                Notification::new(code, open_subcode::UNSPECIFIC, Bytes::new())
            }
        }
    }
}

impl UpdateError {
    /// RFC 4271 §6.3.
    pub fn to_notification(&self) -> Notification {
        let code = NotificationCode::UpdateMessageError;
        match self {
            UpdateError::MalformedAttributeList { .. } => {
                Notification::new(code, update_subcode::MALFORMED_ATTRIBUTE_LIST, Bytes::new())
            }
            UpdateError::UnrecognizedWellKnownAttribute { attribute, .. } => Notification::new(
                code,
                update_subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                attribute.clone(),
            ),
            UpdateError::InvalidNetworkField { .. } => {
                Notification::new(code, update_subcode::INVALID_NETWORK_FIELD, Bytes::new())
            }
            UpdateError::OptionalAttributeError { attribute, .. } => Notification::new(
                code,
                update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                attribute.clone(),
            ),
            UpdateError::AttributeWithoutNlri(e) => {
                Notification::new(code, e.subcode, e.data.clone())
            }
        }
    }
}

impl RouteRefreshError {
    /// RFC 7313 §5.
    pub fn to_notification(&self) -> Notification {
        match self {
            RouteRefreshError::InvalidMessageLength { message, .. } => Notification::new(
                NotificationCode::RouteRefreshMessageError,
                route_refresh_subcode::INVALID_MESSAGE_LENGTH,
                message.clone(),
            ),
        }
    }
}

/// An RFC 7606 action taken on one attribute of an UPDATE that did not end
/// the session: reported so it can be logged and counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeError {
    /// The attribute at fault; for a missing one, the type that is missing.
    pub type_code: u8,
    pub action: AttributeAction,
    pub reason: String,
    /// The UPDATE Message Error subcode RFC 4271 §6.3 names for this error,
    /// used if it has to become a session reset (RFC 7606 §5.2).
    pub subcode: u8,
    /// The NOTIFICATION data RFC 4271 §6.3 gives with that subcode: usually
    /// the attribute (type, length, value).
    pub data: Bytes,
}

/// RFC 7606 §2: what happens to an UPDATE with a malformed attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeAction {
    /// The attribute is dropped; the rest of the UPDATE stands.
    Discard,
    /// Every prefix of the UPDATE is withdrawn.
    TreatAsWithdraw,
}

/// Why a message could not be encoded: it would not fit in 4096 octets
/// (RFC 4271 §4.1) however it were split.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{what} needs {needed} octets; a message holds at most 4096")]
    TooLarge { what: &'static str, needed: usize },
    /// RFC 4271 §5.1.3: IPv4 routes in the NLRI field need NEXT_HOP.
    #[error("IPv4 routes to announce but no NEXT_HOP")]
    NoIpv4NextHop,
    /// RFC 4760 §3: IPv6 routes need a next hop in MP_REACH_NLRI.
    #[error("IPv6 routes to announce but no IPv6 next hop")]
    NoIpv6NextHop,
}
