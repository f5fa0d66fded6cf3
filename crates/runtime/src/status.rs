//! What the control API reports: the core's session and route views, plus
//! what only the runtime knows (router name, neighbour kind, uptime from
//! the instant it saw the session reach Established).

use crate::view::{MessageCounts, NotificationView, PrefixCounts, RouteView, SessionView};
use hybridlab_bfd::DownCause;
use hybridlab_bgp::packet::Origin;
use hybridlab_bgp::router::{self as core, PeerId, Router};
use hybridlab_bgp::session::{DownReason, SessionOutput, State};
use std::time::SystemTime;
use tokio::time::Instant;

/// One session as the runtime saw it.
#[derive(Clone, Debug)]
pub(crate) struct PeerStatus {
    pub emulated: bool,
    established_at: Option<Instant>,
    last_change: SystemTime,
    /// Set while BFD takes the session down, so that its Down is told as
    /// Cease / BFD Down rather than a plain stop.
    pub bfd_teardown: Option<DownCause>,
    /// The BFD teardown, while it is the last thing that brought the
    /// session down; the core's own `last_error` otherwise.
    bfd_error: Option<String>,
}

impl PeerStatus {
    pub(crate) fn new(emulated: bool) -> Self {
        PeerStatus {
            emulated,
            established_at: None,
            last_change: SystemTime::now(),
            bfd_teardown: None,
            bfd_error: None,
        }
    }

    /// A one-line reason for the logs and events.
    pub(crate) fn describe_down(&self, reason: &DownReason) -> String {
        match (reason, self.bfd_teardown) {
            (DownReason::Stopped, Some(cause)) => format!(
                "sent NOTIFICATION Cease / BFD Down (BFD: {})",
                crate::bfd::down_cause_text(cause)
            ),
            _ => describe_down(reason),
        }
    }

    pub(crate) fn observe(&mut self, output: &SessionOutput, now: Instant) {
        match output {
            SessionOutput::StateChanged { to, .. } => {
                self.established_at = (*to == State::Established).then_some(now);
                self.last_change = SystemTime::now();
            }
            SessionOutput::Down(reason) => {
                self.bfd_error = self
                    .bfd_teardown
                    .is_some()
                    .then(|| self.describe_down(reason));
            }
            _ => {}
        }
    }

    pub(crate) fn view(
        &self,
        router: &str,
        now: Instant,
        core: &Router,
        peer: PeerId,
    ) -> Option<SessionView> {
        let s = core.session_view(peer)?;
        Some(SessionView {
            router: router.to_string(),
            neighbor: s.neighbor,
            kind: if self.emulated {
                "emulated"
            } else {
                "external"
            }
            .to_string(),
            peer_address: s.peer_address,
            local_asn: s.local_asn,
            remote_asn: s.remote_asn,
            state: format!("{:?}", s.state),
            idle_reason: s.idle_reason.map(|r| r.to_string()),
            uptime_secs: self
                .established_at
                .filter(|_| s.state == State::Established)
                .map(|t| now.saturating_duration_since(t).as_secs_f64()),
            hold_time: s.hold_time,
            keepalive: s.keepalive,
            remote_id: s.remote_id,
            prefixes: s
                .prefixes
                .into_iter()
                .map(|(family, c)| {
                    let counts = PrefixCounts {
                        received: c.received,
                        accepted: c.accepted,
                        advertised: c.advertised,
                    };
                    (family, counts)
                })
                .collect(),
            messages: MessageCounts {
                sent: s.messages.sent,
                received: s.messages.received,
                updates_sent: s.messages.updates_sent,
                updates_received: s.messages.updates_received,
            },
            last_error: self.bfd_error.clone().or(s.last_error),
            last_notification_sent: s.last_notification_sent.map(notification),
            last_notification_received: s.last_notification_received.map(notification),
            as_loops: s.as_loops,
            last_change_unix_ms: crate::bfd::unix_ms(self.last_change),
            bfd_state: None,
        })
    }
}

fn notification(n: core::NotificationView) -> NotificationView {
    NotificationView {
        code: n.code,
        subcode: n.subcode,
        name: n.name,
    }
}

/// Every path the router holds, as the API shows it.
pub(crate) fn routes(core: &Router) -> Vec<RouteView> {
    core.routes()
        .into_iter()
        .map(|r| RouteView {
            prefix: r.prefix.to_string(),
            best: r.best,
            reason: r.reason,
            from: r.from,
            peer_address: r.peer_address,
            next_hop: r.next_hop,
            as_path: r.as_path,
            as_path_text: r.as_path_text,
            origin: match r.origin {
                Origin::Igp => "igp",
                Origin::Egp => "egp",
                Origin::Incomplete => "incomplete",
            }
            .to_string(),
            med: r.med,
            local_pref: r.local_pref,
            communities: r.communities,
        })
        .collect()
}

/// A one-line reason for the logs.
pub(crate) fn describe_down(reason: &DownReason) -> String {
    match reason {
        DownReason::NotificationSent(n) => format!("sent NOTIFICATION {n}"),
        DownReason::NotificationReceived(n) => format!("received NOTIFICATION {n}"),
        DownReason::HoldTimerExpired => "hold timer expired".to_string(),
        DownReason::ConnectionClosed => "connection closed by peer".to_string(),
        DownReason::Stopped => "stopped".to_string(),
    }
}
