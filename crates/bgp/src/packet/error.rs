//! Decode errors, named after the RFC error families they map to.
//!
//! STUB: the codec work fills this in. Contract: every error a peer can cause
//! maps to exactly one NOTIFICATION (RFC 4271 §6) or to an RFC 7606 action.

use super::Notification;
use bytes::Bytes;

/// Anything wrong with a received message that ends the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message header error: {0}")]
    Header(String),
}

impl DecodeError {
    /// The NOTIFICATION to send before closing (RFC 4271 §6).
    pub fn to_notification(&self) -> Notification {
        match self {
            DecodeError::Header(_) => Notification {
                code: 1,
                subcode: 0,
                data: Bytes::new(),
            },
        }
    }
}

/// An RFC 7606 action taken on one attribute of an UPDATE that did not end
/// the session: reported so it can be logged and counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeError {
    pub type_code: u8,
    pub action: AttributeAction,
    pub reason: String,
}

/// RFC 7606 §2: what happens to an UPDATE with a malformed attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeAction {
    /// The attribute is dropped; the rest of the UPDATE stands.
    Discard,
    /// Every prefix of the UPDATE is withdrawn.
    TreatAsWithdraw,
}
