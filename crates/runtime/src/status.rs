//! What the control API reports about sessions and routes: the runtime's own
//! observations (state timestamps, negotiated values, last errors) merged
//! with the core's counters.

use crate::router_task::Slot;
use crate::view::{MessageCounts, NotificationView, RouteView, SessionView};
use hybridlab_bgp::packet::Notification;
use hybridlab_bgp::router::{PeerId, Router};
use hybridlab_bgp::session::{DownReason, Negotiated, SessionOutput, State};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// Cease subcodes this module names (RFC 4486 §4).
const CEASE: u8 = 6;
const CEASE_MAX_PREFIXES: u8 = 1;

/// One session as the runtime saw it.
#[derive(Clone, Debug)]
pub(crate) struct PeerStatus {
    pub emulated: bool,
    pub local_asn: u32,
    pub remote_asn: u32,
    /// Known in advance for virtual links; learned from the connection for TCP.
    pub peer_address: Option<std::net::IpAddr>,
    state: State,
    established_at: Option<Instant>,
    negotiated: Option<Negotiated>,
    last_down: Option<DownReason>,
    last_sent: Option<Notification>,
    last_received: Option<Notification>,
    messages: MessageCounts,
}

impl PeerStatus {
    pub(crate) fn new(
        emulated: bool,
        local_asn: u32,
        remote_asn: u32,
        peer_address: Option<std::net::IpAddr>,
    ) -> Self {
        PeerStatus {
            emulated,
            local_asn,
            remote_asn,
            peer_address,
            state: State::Idle,
            established_at: None,
            negotiated: None,
            last_down: None,
            last_sent: None,
            last_received: None,
            messages: MessageCounts::default(),
        }
    }

    pub(crate) fn observe(&mut self, output: &SessionOutput, now: Instant) {
        match output {
            SessionOutput::StateChanged { to, .. } => {
                self.state = *to;
                if *to == State::Established {
                    self.established_at = Some(now);
                } else {
                    self.established_at = None;
                    self.negotiated = None;
                }
            }
            SessionOutput::Established(n) => self.negotiated = Some(n.clone()),
            SessionOutput::Down(reason) => {
                match reason {
                    DownReason::NotificationSent(n) => self.last_sent = Some(n.clone()),
                    DownReason::NotificationReceived(n) => self.last_received = Some(n.clone()),
                    _ => {}
                }
                self.last_down = Some(reason.clone());
            }
            _ => {}
        }
    }

    fn idle_reason(&self) -> Option<String> {
        if self.state != State::Idle {
            return None;
        }
        Some(
            match &self.last_down {
                None => "starting",
                Some(DownReason::Stopped) => "stopped",
                Some(DownReason::NotificationSent(n))
                    if n.code == CEASE && n.subcode == CEASE_MAX_PREFIXES =>
                {
                    "prefix limit"
                }
                Some(_) => "idle hold",
            }
            .to_string(),
        )
    }

    pub(crate) fn view(
        &self,
        router: &str,
        neighbor: &str,
        now: Instant,
        core: &Router,
        peer: PeerId,
    ) -> SessionView {
        let negotiated = self
            .negotiated
            .as_ref()
            .filter(|_| self.state == State::Established);
        SessionView {
            router: router.to_string(),
            neighbor: neighbor.to_string(),
            kind: if self.emulated {
                "emulated"
            } else {
                "external"
            }
            .to_string(),
            peer_address: core.peer_address(peer).or(self.peer_address),
            local_asn: self.local_asn,
            remote_asn: self.remote_asn,
            state: format!("{:?}", self.state),
            idle_reason: self.idle_reason(),
            uptime_secs: self
                .established_at
                .map(|t| now.saturating_duration_since(t).as_secs_f64()),
            hold_time: negotiated.map(|n| n.hold_time),
            keepalive: negotiated.map(|n| n.keepalive),
            remote_id: self.negotiated.as_ref().map(|n| n.remote_id),
            prefixes: BTreeMap::new(),
            messages: self.messages,
            last_error: self.last_down.as_ref().map(describe_down),
            last_notification_sent: self.last_sent.as_ref().map(notification_view),
            last_notification_received: self.last_received.as_ref().map(notification_view),
        }
    }
}

/// The Loc-RIB and Adj-RIBs-In of a router, as the API shows them.
///
/// The core's route view is still to come; until then there is nothing to
/// list.
pub(crate) fn routes(_core: &Router, _slots: &[Slot]) -> Vec<RouteView> {
    Vec::new()
}

fn notification_view(n: &Notification) -> NotificationView {
    NotificationView {
        code: n.code,
        subcode: n.subcode,
        name: n.name(),
    }
}

/// A one-line reason, as `last_error` and the logs show it.
pub(crate) fn describe_down(reason: &DownReason) -> String {
    match reason {
        DownReason::NotificationSent(n) => format!("sent NOTIFICATION {n}"),
        DownReason::NotificationReceived(n) => {
            format!("received NOTIFICATION {n}")
        }
        DownReason::HoldTimerExpired => "hold timer expired".to_string(),
        DownReason::ConnectionClosed => "connection closed by peer".to_string(),
        DownReason::Stopped => "stopped".to_string(),
    }
}
