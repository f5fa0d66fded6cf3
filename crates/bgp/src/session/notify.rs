//! The NOTIFICATIONs the FSM itself originates (RFC 4271 §6, RFC 4486,
//! RFC 6608), and their names for display.
//!
//! Errors found while decoding come from the codec
//! ([`crate::packet::DecodeError::to_notification`]); this module covers what
//! only the state machine can know: wrong message for the state, hold timer,
//! OPEN contents against configuration, and Cease.

use crate::packet::{Family, MessageType, Notification};
use bytes::{BufMut, Bytes, BytesMut};

/// Error codes (RFC 4271 §4.5).
pub mod code {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const OPEN_MESSAGE: u8 = 2;
    pub const UPDATE_MESSAGE: u8 = 3;
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    /// RFC 7313 §5.
    pub const ROUTE_REFRESH_MESSAGE: u8 = 7;
}

/// OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492 §5).
pub mod open_subcode {
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
}

/// Finite State Machine Error subcodes (RFC 6608 §3).
pub mod fsm_subcode {
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// Cease subcodes (RFC 4486 §4).
pub mod cease_subcode {
    pub const MAX_PREFIXES: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
}

pub fn notification(code: u8, subcode: u8, data: Bytes) -> Notification {
    Notification {
        code,
        subcode,
        data,
    }
}

/// RFC 4271 §6.5.
pub fn hold_timer_expired() -> Notification {
    notification(code::HOLD_TIMER_EXPIRED, 0, Bytes::new())
}

/// RFC 6608 §4: the data is the type of the unexpected message.
pub fn unexpected_message(fsm_subcode: u8, message: MessageType) -> Notification {
    notification(
        code::FSM,
        fsm_subcode,
        Bytes::copy_from_slice(&[message as u8]),
    )
}

pub fn cease(subcode: u8) -> Notification {
    notification(code::CEASE, subcode, Bytes::new())
}

/// RFC 4486 §4: Maximum Number of Prefixes Reached carries AFI (2 octets),
/// SAFI (1 octet) and the limit (4 octets).
pub fn max_prefixes(family: Family, limit: u32) -> Notification {
    let mut data = BytesMut::with_capacity(7);
    data.put_u16(family.afi);
    data.put_u8(family.safi);
    data.put_u32(limit);
    notification(code::CEASE, cease_subcode::MAX_PREFIXES, data.freeze())
}

/// `Cease / Maximum Number of Prefixes Reached`: the code's name, then the
/// subcode's when it has one. Unknown numbers are shown as numbers.
pub fn describe(n: &Notification) -> String {
    let code = match n.code {
        code::MESSAGE_HEADER => "Message Header Error",
        code::OPEN_MESSAGE => "OPEN Message Error",
        code::UPDATE_MESSAGE => "UPDATE Message Error",
        code::HOLD_TIMER_EXPIRED => "Hold Timer Expired",
        code::FSM => "Finite State Machine Error",
        code::CEASE => "Cease",
        code::ROUTE_REFRESH_MESSAGE => "ROUTE-REFRESH Message Error",
        other => return format!("error code {other} / subcode {}", n.subcode),
    };
    match subcode_name(n.code, n.subcode) {
        Some(sub) => format!("{code} / {sub}"),
        None if n.subcode == 0 => code.to_string(),
        None => format!("{code} / subcode {}", n.subcode),
    }
}

fn subcode_name(code: u8, subcode: u8) -> Option<&'static str> {
    Some(match (code, subcode) {
        (code::MESSAGE_HEADER, 1) => "Connection Not Synchronized",
        (code::MESSAGE_HEADER, 2) => "Bad Message Length",
        (code::MESSAGE_HEADER, 3) => "Bad Message Type",
        (code::OPEN_MESSAGE, 1) => "Unsupported Version Number",
        (code::OPEN_MESSAGE, 2) => "Bad Peer AS",
        (code::OPEN_MESSAGE, 3) => "Bad BGP Identifier",
        (code::OPEN_MESSAGE, 4) => "Unsupported Optional Parameter",
        (code::OPEN_MESSAGE, 6) => "Unacceptable Hold Time",
        (code::OPEN_MESSAGE, 7) => "Unsupported Capability",
        (code::UPDATE_MESSAGE, 1) => "Malformed Attribute List",
        (code::UPDATE_MESSAGE, 2) => "Unrecognized Well-known Attribute",
        (code::UPDATE_MESSAGE, 3) => "Missing Well-known Attribute",
        (code::UPDATE_MESSAGE, 4) => "Attribute Flags Error",
        (code::UPDATE_MESSAGE, 5) => "Attribute Length Error",
        (code::UPDATE_MESSAGE, 6) => "Invalid ORIGIN Attribute",
        (code::UPDATE_MESSAGE, 8) => "Invalid NEXT_HOP Attribute",
        (code::UPDATE_MESSAGE, 9) => "Optional Attribute Error",
        (code::UPDATE_MESSAGE, 10) => "Invalid Network Field",
        (code::UPDATE_MESSAGE, 11) => "Malformed AS_PATH",
        (code::FSM, 1) => "Receive Unexpected Message in OpenSent State",
        (code::FSM, 2) => "Receive Unexpected Message in OpenConfirm State",
        (code::FSM, 3) => "Receive Unexpected Message in Established State",
        (code::CEASE, 1) => "Maximum Number of Prefixes Reached",
        (code::CEASE, 2) => "Administrative Shutdown",
        (code::CEASE, 3) => "Peer De-configured",
        (code::CEASE, 4) => "Administrative Reset",
        (code::CEASE, 5) => "Connection Rejected",
        (code::CEASE, 6) => "Other Configuration Change",
        (code::CEASE, 7) => "Connection Collision Resolution",
        (code::CEASE, 8) => "Out of Resources",
        (code::ROUTE_REFRESH_MESSAGE, 1) => "Invalid Message Length",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_prefixes_data_is_afi_safi_limit() {
        let n = max_prefixes(Family::IPV6_UNICAST, 1000);
        assert_eq!((n.code, n.subcode), (6, 1));
        assert_eq!(&n.data[..], &[0, 2, 1, 0, 0, 0x03, 0xE8]);
    }

    #[test]
    fn unexpected_message_carries_the_type() {
        let n = unexpected_message(fsm_subcode::UNEXPECTED_IN_OPEN_SENT, MessageType::Update);
        assert_eq!((n.code, n.subcode, &n.data[..]), (5, 1, &[2u8][..]));
    }

    #[test]
    fn names() {
        assert_eq!(
            describe(&max_prefixes(Family::IPV4_UNICAST, 1)),
            "Cease / Maximum Number of Prefixes Reached"
        );
        assert_eq!(describe(&hold_timer_expired()), "Hold Timer Expired");
        assert_eq!(describe(&cease(99)), "Cease / subcode 99");
        assert_eq!(
            describe(&notification(42, 1, Bytes::new())),
            "error code 42 / subcode 1"
        );
    }
}
