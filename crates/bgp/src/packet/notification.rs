//! NOTIFICATION codes, subcodes and their names (RFC 4271 §4.5, RFC 4486,
//! RFC 6608, RFC 7313, RFC 8538, RFC 9384), constructors for the common
//! ones, and the Shutdown Communication of RFC 9003.

use super::{Family, Notification};
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Error codes (RFC 4271 §4.5; code 7 from RFC 7313 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum NotificationCode {
    MessageHeaderError = 1,
    OpenMessageError = 2,
    UpdateMessageError = 3,
    HoldTimerExpired = 4,
    FiniteStateMachineError = 5,
    Cease = 6,
    RouteRefreshMessageError = 7,
}

impl NotificationCode {
    pub fn from_u8(code: u8) -> Option<Self> {
        Some(match code {
            1 => NotificationCode::MessageHeaderError,
            2 => NotificationCode::OpenMessageError,
            3 => NotificationCode::UpdateMessageError,
            4 => NotificationCode::HoldTimerExpired,
            5 => NotificationCode::FiniteStateMachineError,
            6 => NotificationCode::Cease,
            7 => NotificationCode::RouteRefreshMessageError,
            _ => return None,
        })
    }

    /// The name IANA's registry gives the code.
    pub fn name(self) -> &'static str {
        match self {
            NotificationCode::MessageHeaderError => "Message Header Error",
            NotificationCode::OpenMessageError => "OPEN Message Error",
            NotificationCode::UpdateMessageError => "UPDATE Message Error",
            NotificationCode::HoldTimerExpired => "Hold Timer Expired",
            NotificationCode::FiniteStateMachineError => "Finite State Machine Error",
            NotificationCode::Cease => "Cease",
            NotificationCode::RouteRefreshMessageError => "ROUTE-REFRESH Message Error",
        }
    }
}

/// Message Header Error subcodes (RFC 4271 §4.5).
pub mod header_subcode {
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// OPEN Message Error subcodes (RFC 4271 §4.5, RFC 5492 §5, RFC 9234 §4.2).
pub mod open_subcode {
    pub const UNSPECIFIC: u8 = 0;
    pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    pub const ROLE_MISMATCH: u8 = 11;
}

/// UPDATE Message Error subcodes (RFC 4271 §4.5).
pub mod update_subcode {
    pub const UNSPECIFIC: u8 = 0;
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Finite State Machine Error subcodes (RFC 6608 §3).
pub mod fsm_subcode {
    pub const UNSPECIFIED: u8 = 0;
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// Cease subcodes (RFC 4486 §4, RFC 8538 §3, RFC 9384 §3).
pub mod cease_subcode {
    pub const MAX_PREFIXES_REACHED: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
    pub const BFD_DOWN: u8 = 10;
}

/// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
pub mod route_refresh_subcode {
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// The name of a subcode, when the registry names it.
pub fn subcode_name(code: u8, subcode: u8) -> Option<&'static str> {
    let name = match (NotificationCode::from_u8(code)?, subcode) {
        (NotificationCode::MessageHeaderError, 1) => "Connection Not Synchronized",
        (NotificationCode::MessageHeaderError, 2) => "Bad Message Length",
        (NotificationCode::MessageHeaderError, 3) => "Bad Message Type",
        (NotificationCode::OpenMessageError, 1) => "Unsupported Version Number",
        (NotificationCode::OpenMessageError, 2) => "Bad Peer AS",
        (NotificationCode::OpenMessageError, 3) => "Bad BGP Identifier",
        (NotificationCode::OpenMessageError, 4) => "Unsupported Optional Parameter",
        (NotificationCode::OpenMessageError, 5) => "Authentication Failure (deprecated)",
        (NotificationCode::OpenMessageError, 6) => "Unacceptable Hold Time",
        (NotificationCode::OpenMessageError, 7) => "Unsupported Capability",
        (NotificationCode::OpenMessageError, 11) => "Role Mismatch",
        (NotificationCode::UpdateMessageError, 1) => "Malformed Attribute List",
        (NotificationCode::UpdateMessageError, 2) => "Unrecognized Well-known Attribute",
        (NotificationCode::UpdateMessageError, 3) => "Missing Well-known Attribute",
        (NotificationCode::UpdateMessageError, 4) => "Attribute Flags Error",
        (NotificationCode::UpdateMessageError, 5) => "Attribute Length Error",
        (NotificationCode::UpdateMessageError, 6) => "Invalid ORIGIN Attribute",
        (NotificationCode::UpdateMessageError, 7) => "AS Routing Loop (deprecated)",
        (NotificationCode::UpdateMessageError, 8) => "Invalid NEXT_HOP Attribute",
        (NotificationCode::UpdateMessageError, 9) => "Optional Attribute Error",
        (NotificationCode::UpdateMessageError, 10) => "Invalid Network Field",
        (NotificationCode::UpdateMessageError, 11) => "Malformed AS_PATH",
        (NotificationCode::FiniteStateMachineError, 0) => "Unspecified Error",
        (NotificationCode::FiniteStateMachineError, 1) => {
            "Receive Unexpected Message in OpenSent State"
        }
        (NotificationCode::FiniteStateMachineError, 2) => {
            "Receive Unexpected Message in OpenConfirm State"
        }
        (NotificationCode::FiniteStateMachineError, 3) => {
            "Receive Unexpected Message in Established State"
        }
        (NotificationCode::Cease, 1) => "Maximum Number of Prefixes Reached",
        (NotificationCode::Cease, 2) => "Administrative Shutdown",
        (NotificationCode::Cease, 3) => "Peer De-configured",
        (NotificationCode::Cease, 4) => "Administrative Reset",
        (NotificationCode::Cease, 5) => "Connection Rejected",
        (NotificationCode::Cease, 6) => "Other Configuration Change",
        (NotificationCode::Cease, 7) => "Connection Collision Resolution",
        (NotificationCode::Cease, 8) => "Out of Resources",
        (NotificationCode::Cease, 9) => "Hard Reset",
        (NotificationCode::Cease, 10) => "BFD Down",
        (NotificationCode::RouteRefreshMessageError, 1) => "Invalid Message Length",
        // Subcode 0 is "Unspecific" wherever a code has subcodes (IANA).
        (NotificationCode::HoldTimerExpired, 0) => return None,
        (_, 0) => "Unspecific",
        _ => return None,
    };
    Some(name)
}

/// `Code / Subcode` in words, e.g. "Cease / Maximum Number of Prefixes
/// Reached"; numbers where the registry has no name.
pub fn notification_name(code: u8, subcode: u8) -> String {
    let code_name = NotificationCode::from_u8(code).map(NotificationCode::name);
    match (code_name, subcode_name(code, subcode)) {
        (Some(c), Some(s)) => format!("{c} / {s}"),
        (Some(c), None) if subcode == 0 => c.to_string(),
        (Some(c), None) => format!("{c} / subcode {subcode}"),
        (None, _) => format!("error code {code} / subcode {subcode}"),
    }
}

/// RFC 9003 §2: the Shutdown Communication is at most 255 octets of UTF-8.
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

impl Notification {
    pub fn new(code: NotificationCode, subcode: u8, data: Bytes) -> Self {
        Notification {
            code: code as u8,
            subcode,
            data,
        }
    }

    pub fn code(&self) -> Option<NotificationCode> {
        NotificationCode::from_u8(self.code)
    }

    /// `Code / Subcode` in words (see [`notification_name`]).
    pub fn name(&self) -> String {
        notification_name(self.code, self.subcode)
    }

    pub fn cease(subcode: u8, data: Bytes) -> Self {
        Notification::new(NotificationCode::Cease, subcode, data)
    }

    /// RFC 4271 §6.5.
    pub fn hold_timer_expired() -> Self {
        Notification::new(NotificationCode::HoldTimerExpired, 0, Bytes::new())
    }

    /// Cease / Maximum Number of Prefixes Reached with the data of RFC 4486
    /// §4: AFI (2 octets), SAFI (1 octet), the limit (4 octets).
    pub fn max_prefix(family: Family, limit: u32) -> Self {
        let mut data = BytesMut::with_capacity(7);
        data.put_u16(family.afi);
        data.put_u8(family.safi);
        data.put_u32(limit);
        Notification::cease(cease_subcode::MAX_PREFIXES_REACHED, data.freeze())
    }

    /// Cease / Administrative Shutdown or Reset with a Shutdown
    /// Communication (RFC 9003 §2): a length octet, then UTF-8 cut at a
    /// character boundary to 255 octets. An empty message sends no data.
    pub fn cease_with_message(subcode: u8, message: &str) -> Self {
        if message.is_empty() {
            return Notification::cease(subcode, Bytes::new());
        }
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message.as_bytes()[..end];
        let mut data = BytesMut::with_capacity(1 + text.len());
        // `end` is at most 255 by construction.
        data.put_u8(u8::try_from(text.len()).unwrap_or(u8::MAX));
        data.put_slice(text);
        Notification::cease(subcode, data.freeze())
    }

    /// RFC 4486 §4 data of a maximum-prefix Cease: the family and limit.
    pub fn max_prefix_data(&self) -> Option<(Family, u32)> {
        if self.code != NotificationCode::Cease as u8
            || self.subcode != cease_subcode::MAX_PREFIXES_REACHED
        {
            return None;
        }
        let d: &[u8; 7] = self.data.as_ref().try_into().ok()?;
        let family = Family::new(u16::from_be_bytes([d[0], d[1]]), d[2]);
        Some((family, u32::from_be_bytes([d[3], d[4], d[5], d[6]])))
    }

    /// The Shutdown Communication of a Cease / Administrative Shutdown or
    /// Reset (RFC 8203, RFC 9003 §2), when the data holds a well-formed one.
    pub fn shutdown_communication(&self) -> Option<&str> {
        let is_shutdown = self.code == NotificationCode::Cease as u8
            && matches!(
                self.subcode,
                cease_subcode::ADMINISTRATIVE_SHUTDOWN | cease_subcode::ADMINISTRATIVE_RESET
            );
        if !is_shutdown {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        // RFC 9003 §3: a length running past the data means no message.
        let text = text.get(..usize::from(len))?;
        if text.is_empty() {
            return None;
        }
        std::str::from_utf8(text).ok()
    }

    /// The NOTIFICATION carried inside a Cease / Hard Reset (RFC 8538 §3):
    /// its code, subcode and data follow in the data field.
    pub fn hard_reset_cause(&self) -> Option<Notification> {
        if self.code != NotificationCode::Cease as u8 || self.subcode != cease_subcode::HARD_RESET {
            return None;
        }
        let code = *self.data.first()?;
        let subcode = *self.data.get(1)?;
        Some(Notification {
            code,
            subcode,
            data: self.data.slice(2..),
        })
    }
}

impl fmt::Display for Notification {
    /// "Cease / Administrative Shutdown: \"maintenance\"", with the cause
    /// of a Hard Reset in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(text) = self.shutdown_communication() {
            write!(f, ": {text:?}")?;
        }
        if let Some(cause) = self.hard_reset_cause() {
            write!(f, " ({})", cause.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_registered_pair() {
        assert_eq!(
            notification_name(6, 1),
            "Cease / Maximum Number of Prefixes Reached"
        );
        assert_eq!(notification_name(6, 9), "Cease / Hard Reset");
        assert_eq!(notification_name(6, 10), "Cease / BFD Down");
        assert_eq!(notification_name(4, 0), "Hold Timer Expired");
        assert_eq!(notification_name(2, 0), "OPEN Message Error / Unspecific");
        assert_eq!(
            notification_name(5, 2),
            "Finite State Machine Error / Receive Unexpected Message in OpenConfirm State"
        );
        assert_eq!(
            notification_name(7, 1),
            "ROUTE-REFRESH Message Error / Invalid Message Length"
        );
        assert_eq!(
            notification_name(3, 11),
            "UPDATE Message Error / Malformed AS_PATH"
        );
        assert_eq!(notification_name(1, 9), "Message Header Error / subcode 9");
        assert_eq!(notification_name(42, 1), "error code 42 / subcode 1");
        for sub in 1..=8 {
            assert!(
                subcode_name(6, sub).is_some(),
                "cease subcode {sub} unnamed"
            );
        }
        for sub in 1..=11 {
            assert!(
                subcode_name(3, sub).is_some(),
                "update subcode {sub} unnamed"
            );
        }
    }

    #[test]
    fn max_prefix_carries_afi_safi_limit() {
        let n = Notification::max_prefix(Family::IPV6_UNICAST, 100);
        assert_eq!((n.code, n.subcode), (6, 1));
        assert_eq!(&n.data[..], &[0, 2, 1, 0, 0, 0, 100]);
        assert_eq!(n.max_prefix_data(), Some((Family::IPV6_UNICAST, 100)));
        assert_eq!(n.to_string(), "Cease / Maximum Number of Prefixes Reached");
    }

    #[test]
    fn shutdown_communication_round_trips() {
        let n =
            Notification::cease_with_message(cease_subcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
        assert_eq!(n.data[0], 11);
        assert_eq!(n.shutdown_communication(), Some("maintenance"));
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Shutdown: \"maintenance\""
        );
    }

    #[test]
    fn shutdown_communication_is_cut_at_a_char_boundary() {
        let long = "é".repeat(200);
        let n = Notification::cease_with_message(cease_subcode::ADMINISTRATIVE_RESET, &long);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_communication().map(str::len), Some(254));
    }

    #[test]
    fn bad_shutdown_communication_is_not_shown() {
        let overrun = Notification::cease(2, Bytes::from_static(&[5, b'a']));
        assert_eq!(overrun.shutdown_communication(), None);
        let not_utf8 = Notification::cease(2, Bytes::from_static(&[2, 0xff, 0xfe]));
        assert_eq!(not_utf8.shutdown_communication(), None);
        let other_subcode = Notification::cease(3, Bytes::from_static(&[1, b'a']));
        assert_eq!(other_subcode.shutdown_communication(), None);
        assert_eq!(not_utf8.to_string(), "Cease / Administrative Shutdown");
    }

    #[test]
    fn hard_reset_shows_its_cause() {
        let n = Notification::cease(cease_subcode::HARD_RESET, Bytes::from_static(&[4, 0]));
        assert_eq!(n.to_string(), "Cease / Hard Reset (Hold Timer Expired)");
    }
}
