//! Per-session counters, for `show sessions` and the control API.

use crate::packet::Message;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionStats {
    pub messages_sent: u64,
    pub messages_received: u64,
    pub opens_sent: u64,
    pub opens_received: u64,
    pub updates_sent: u64,
    pub updates_received: u64,
    pub keepalives_sent: u64,
    pub keepalives_received: u64,
    pub notifications_sent: u64,
    pub notifications_received: u64,
    pub route_refreshes_sent: u64,
    pub route_refreshes_received: u64,
    /// Times the session reached Established.
    pub established_transitions: u64,
    /// Messages handed to the session to send that it could not: not
    /// Established, or not allowed (an OPEN; a ROUTE-REFRESH the peer did
    /// not negotiate).
    pub dropped: u64,
    /// Connections refused on arrival: Idle, or already Established, or a
    /// third one.
    pub connections_rejected: u64,
    /// Collisions resolved by closing one of two connections (RFC 4271 §6.8).
    pub collisions: u64,
    /// RFC 7606 actions the codec took on received UPDATEs.
    pub attribute_errors: u64,
}

impl SessionStats {
    pub(super) fn record_sent(&mut self, msg: &Message) {
        bump(&mut self.messages_sent);
        bump(match msg {
            Message::Open(_) => &mut self.opens_sent,
            Message::Update(_) => &mut self.updates_sent,
            Message::Notification(_) => &mut self.notifications_sent,
            Message::Keepalive => &mut self.keepalives_sent,
            Message::RouteRefresh(_) => &mut self.route_refreshes_sent,
        });
    }

    pub(super) fn record_received(&mut self, msg: &Message) {
        bump(&mut self.messages_received);
        bump(match msg {
            Message::Open(_) => &mut self.opens_received,
            Message::Update(_) => &mut self.updates_received,
            Message::Notification(_) => &mut self.notifications_received,
            Message::Keepalive => &mut self.keepalives_received,
            Message::RouteRefresh(_) => &mut self.route_refreshes_received,
        });
    }
}

/// Counters saturate: a peer must not be able to overflow one.
pub(super) fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_type_and_serializes() {
        let mut s = SessionStats::default();
        s.record_sent(&Message::Keepalive);
        s.record_received(&Message::Keepalive);
        s.record_received(&Message::Update(Default::default()));
        assert_eq!((s.messages_sent, s.keepalives_sent), (1, 1));
        assert_eq!((s.messages_received, s.updates_received), (2, 1));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["updates_received"], 1);
    }

    #[test]
    fn saturates() {
        let mut c = u64::MAX;
        bump(&mut c);
        assert_eq!(c, u64::MAX);
    }
}
