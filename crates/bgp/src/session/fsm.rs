//! The state machine proper (RFC 4271 §8.2.2).
//!
//! The session's state is derived: Idle, Connect or Active while no
//! connection exists, otherwise the most advanced state among its (at most
//! two) connections. Two connections live side by side only while a
//! collision is unresolved (§6.8); they share the Hold and Keepalive timers,
//! which always serve the most advanced one:
//! - both in OpenSent: the Hold timer is (re)set to 4 minutes on each OPEN we
//!   send, and its expiry ends both;
//! - one in OpenConfirm, one newer in OpenSent: the timers are the
//!   OpenConfirm connection's. If that one goes, the other gets a fresh
//!   4-minute Hold timer.
//!
//! A session reaching Established closes any other connection, so at most
//! one connection exists from then on.

use super::backoff::Backoff;
use super::collision::{self, Keep, Side};
use super::open::{self, OPEN_HOLD_TIME};
use super::stats::{bump, SessionStats};
use super::{
    ConnId, DownReason, IdleReason, Negotiated, SessionConfig, SessionInput, SessionOutput, State,
    TimerKind,
};
use crate::packet::{
    cease_subcode, decode_message, encode_message, fsm_subcode, CodecContext, DecodeError, Family,
    FrameReader, Message, MessageType, Notification, NotificationCode, Open,
};
use bytes::{Bytes, BytesMut};
use hybridlab_prng::SplitMix64;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

/// RFC 4271 §10: jitter multiplies ConnectRetry and Keepalive by a random
/// factor in [0.75, 1.0], in parts per million.
const JITTER_MIN_PPM: u64 = 750_000;
const JITTER_MAX_PPM: u64 = 1_000_000;

/// Where one transport connection is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ConnState {
    OpenSent,
    OpenConfirm,
    Established,
}

impl ConnState {
    fn as_state(self) -> State {
        match self {
            ConnState::OpenSent => State::OpenSent,
            ConnState::OpenConfirm => State::OpenConfirm,
            ConnState::Established => State::Established,
        }
    }

    /// RFC 6608 §3: the FSM Error subcode for an unexpected message here.
    fn unexpected_subcode(self) -> u8 {
        match self {
            ConnState::OpenSent => fsm_subcode::UNEXPECTED_IN_OPEN_SENT,
            ConnState::OpenConfirm => fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM,
            ConnState::Established => fsm_subcode::UNEXPECTED_IN_ESTABLISHED,
        }
    }
}

#[derive(Debug)]
struct Conn {
    id: ConnId,
    outbound: bool,
    local: IpAddr,
    remote: IpAddr,
    reader: FrameReader,
    state: ConnState,
    ctx: CodecContext,
    /// Set once the peer's OPEN on this connection is accepted.
    negotiated: Option<Negotiated>,
}

/// One peer's FSM.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    /// Idle, Connect or Active: the state while no connection exists.
    base: State,
    /// The state last reported with `StateChanged`.
    state: State,
    conns: Vec<Conn>,
    idle_reason: IdleReason,
    /// Timers asked for and not yet expired or stopped.
    armed: BTreeSet<TimerKind>,
    rng: SplitMix64,
    backoff: Backoff,
    /// Set while Established.
    negotiated: Option<Negotiated>,
    /// The peer sent KEEPALIVE or UPDATE since the session became Established.
    heard_since_established: bool,
    stats: SessionStats,
    last_error: Option<String>,
    last_notification_sent: Option<Notification>,
    last_notification_received: Option<Notification>,
}

impl Session {
    /// `seed` drives the jitter; the same seed and inputs give the same outputs.
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        let backoff = Backoff::new(config.idle_hold, config.max_idle_hold);
        Session {
            config,
            base: State::Idle,
            state: State::Idle,
            conns: Vec::new(),
            idle_reason: IdleReason::NotStarted,
            armed: BTreeSet::new(),
            rng: SplitMix64::new(seed),
            backoff,
            negotiated: None,
            heard_since_established: false,
            stats: SessionStats::default(),
            last_error: None,
            last_notification_sent: None,
            last_notification_received: None,
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Why the session is Idle; `None` when it is not.
    pub fn idle_reason(&self) -> Option<IdleReason> {
        (self.state == State::Idle).then_some(self.idle_reason)
    }

    /// What was agreed, while Established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The last thing that brought the session down, in words, e.g. `sent
    /// NOTIFICATION Cease / Maximum Number of Prefixes Reached`.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    pub fn last_notification_sent(&self) -> Option<&Notification> {
        self.last_notification_sent.as_ref()
    }

    pub fn last_notification_received(&self) -> Option<&Notification> {
        self.last_notification_received.as_ref()
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The connection the session is Established on.
    pub fn established_conn(&self) -> Option<ConnId> {
        self.negotiated.as_ref().map(|n| n.conn)
    }

    /// Our address on the most advanced connection (the established one when
    /// Established); `None` without a connection.
    pub fn local_address(&self) -> Option<IpAddr> {
        self.lead_conn().map(|c| c.local)
    }

    /// The peer's address on the most advanced connection.
    pub fn remote_address(&self) -> Option<IpAddr> {
        self.lead_conn().map(|c| c.remote)
    }

    /// Failures since the session last proved healthy; the next IdleHold
    /// wait is `idle_hold × 2^failures`, capped.
    pub fn consecutive_failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Feeds one input; appends what must happen to `out`.
    pub fn handle(&mut self, input: SessionInput, out: &mut Vec<SessionOutput>) {
        match input {
            SessionInput::Start => self.manual_start(out),
            SessionInput::Stop { subcode } => self.stop(subcode, out),
            SessionInput::Connected {
                conn,
                outbound,
                local,
                remote,
            } => self.connected(conn, outbound, local, remote, out),
            SessionInput::ConnectFailed => self.connect_failed(),
            SessionInput::Closed { conn } => self.closed(conn, out),
            SessionInput::Received { conn, data } => self.received(conn, &data, out),
            SessionInput::TimerExpired(timer) => {
                // A timer stopped or never started: a late expiry, ignored.
                if self.armed.remove(&timer) {
                    self.timer_expired(timer, out);
                }
            }
            SessionInput::Send(msg) => self.send_from_router(msg, out),
            SessionInput::PrefixLimitExceeded {
                family,
                limit,
                restart_after,
            } => self.prefix_limit(family, limit, restart_after, out),
        }
        self.refresh_state(out);
    }

    // ---- events -------------------------------------------------------

    /// ManualStart (RFC 4271 §8.1.2 Event 1). An operator's start forgets
    /// past failures.
    fn manual_start(&mut self, out: &mut Vec<SessionOutput>) {
        if self.current_state() != State::Idle {
            return;
        }
        self.backoff.reset();
        self.start(out);
    }

    /// RFC 4271 §8.2.2 Idle, ManualStart / AutomaticStart (and their passive
    /// variants, Events 4 and 5).
    fn start(&mut self, out: &mut Vec<SessionOutput>) {
        self.stop_timer(TimerKind::IdleHold, out);
        self.stop_timer(TimerKind::PrefixRestart, out);
        if self.config.passive {
            self.base = State::Active;
        } else {
            self.connect(out);
        }
    }

    fn connect(&mut self, out: &mut Vec<SessionOutput>) {
        self.base = State::Connect;
        out.push(SessionOutput::Connect);
        let after = self.jittered(self.config.connect_retry);
        self.start_timer(TimerKind::ConnectRetry, after, out);
    }

    /// ManualStop (Event 2): Cease on every connection, Idle, no automatic
    /// restart.
    fn stop(&mut self, subcode: u8, out: &mut Vec<SessionOutput>) {
        self.shut_down(
            Notification::cease(subcode, Bytes::new()),
            DownReason::Stopped,
            IdleReason::Stopped,
            out,
        );
    }

    /// RFC 4486 §4 (and RFC 4271 §8.1.2 Event 8, AutomaticStop).
    fn prefix_limit(
        &mut self,
        family: Family,
        limit: u32,
        restart_after: Option<Duration>,
        out: &mut Vec<SessionOutput>,
    ) {
        // The router counts prefixes of UPDATEs from an Established session;
        // anything else is a stale report about a session already gone.
        if self.established_conn().is_none() {
            return;
        }
        let n = Notification::max_prefix(family, limit);
        self.last_error = Some(format!("sent NOTIFICATION {n}"));
        self.shut_down(
            n.clone(),
            DownReason::NotificationSent(n),
            IdleReason::PrefixLimit,
            out,
        );
        if let Some(after) = restart_after {
            self.start_timer(TimerKind::PrefixRestart, after, out);
        }
    }

    fn connected(
        &mut self,
        conn: ConnId,
        outbound: bool,
        local: IpAddr,
        remote: IpAddr,
        out: &mut Vec<SessionOutput>,
    ) {
        if self.conn(conn).is_some() {
            // The driver reused an id; nothing sensible to do with it.
            tracing::warn!(conn, "connection id reported twice");
            return;
        }
        match self.current_state() {
            // RFC 4271 §8.2.2 Idle: refuse all incoming connections. Our own
            // attempt, if it completes now, is no longer wanted either.
            State::Idle => {
                bump(&mut self.stats.connections_rejected);
                out.push(SessionOutput::Close { conn });
                return;
            }
            // RFC 4271 §6.8: a collision with an Established connection
            // closes the new one.
            State::Established => {
                self.reject(conn, cease_subcode::CONNECTION_COLLISION_RESOLUTION, out);
                return;
            }
            _ if self.conns.len() >= 2 => {
                self.reject(conn, cease_subcode::CONNECTION_REJECTED, out);
                return;
            }
            _ => {}
        }
        let other_past_open_sent = self.conns.iter().any(|c| c.state != ConnState::OpenSent);
        self.conns.push(Conn {
            id: conn,
            outbound,
            local,
            remote,
            reader: FrameReader::default(),
            state: ConnState::OpenSent,
            ctx: CodecContext::default(),
            negotiated: None,
        });
        // RFC 4271 §8.2.2 Connect/Active, Tcp_CR_Acked / TcpConnectionConfirmed:
        // stop ConnectRetry, send OPEN, Hold timer to a large value (4 min).
        self.stop_timer(TimerKind::ConnectRetry, out);
        self.send(conn, &Message::Open(open::local_open(&self.config)), out);
        if !other_past_open_sent {
            self.start_timer(TimerKind::Hold, OPEN_HOLD_TIME, out);
        }
    }

    /// Sends a Cease on a connection never adopted, and closes it.
    fn reject(&mut self, conn: ConnId, subcode: u8, out: &mut Vec<SessionOutput>) {
        bump(&mut self.stats.connections_rejected);
        let cease = Notification::cease(subcode, Bytes::new());
        self.send(conn, &Message::Notification(cease), out);
        out.push(SessionOutput::Close { conn });
    }

    /// RFC 4271 §8.2.2 Connect, TcpConnectionFails: we go to Active with
    /// ConnectRetry still running, as the RFC does when DelayOpen runs, so a
    /// refused connection is retried every ConnectRetry instead of damped.
    fn connect_failed(&mut self) {
        if self.conns.is_empty() && self.base == State::Connect {
            self.base = State::Active;
            self.last_error = Some("connection attempt failed".into());
        }
    }

    fn closed(&mut self, conn: ConnId, out: &mut Vec<SessionOutput>) {
        let Some(gone) = self.remove(conn) else {
            return;
        };
        if !self.conns.is_empty() {
            self.after_losing(gone.state, out);
            return;
        }
        if gone.state == ConnState::OpenSent {
            // RFC 4271 §8.2.2 OpenSent, TcpConnectionFails: back to Active,
            // ConnectRetry restarted, no error.
            self.stop_timer(TimerKind::Hold, out);
            self.base = State::Active;
            if !self.config.passive {
                let after = self.jittered(self.config.connect_retry);
                self.start_timer(TimerKind::ConnectRetry, after, out);
            }
        } else {
            self.go_down(
                DownReason::ConnectionClosed,
                "connection closed by peer".into(),
                out,
            );
        }
    }

    fn received(&mut self, conn: ConnId, data: &[u8], out: &mut Vec<SessionOutput>) {
        let Some(c) = self.conn_mut(conn) else {
            return;
        };
        c.reader.push(data);
        // Each message may change the connection (its codec context after
        // OPEN) or end it, so it is looked up afresh every time.
        while let Some(c) = self.conn_mut(conn) {
            let ctx = c.ctx;
            let frame = match c.reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    self.decode_failed(conn, &e, out);
                    break;
                }
            };
            match decode_message(&frame, &ctx) {
                Ok(decoded) => {
                    for e in &decoded.attribute_errors {
                        bump(&mut self.stats.attribute_errors);
                        tracing::warn!(
                            conn,
                            type_code = e.type_code,
                            action = ?e.action,
                            reason = %e.reason,
                            "RFC 7606 action on a received UPDATE"
                        );
                    }
                    self.on_message(conn, decoded.message, out);
                    // OPEN and KEEPALIVE often come in one read: report
                    // OpenConfirm on the way to Established.
                    self.refresh_state(out);
                }
                Err(e) => {
                    self.decode_failed(conn, &e, out);
                    break;
                }
            }
        }
    }

    fn decode_failed(&mut self, conn: ConnId, e: &DecodeError, out: &mut Vec<SessionOutput>) {
        self.fail_conn(conn, e.to_notification(), Some(e.to_string()), out);
    }

    fn on_message(&mut self, conn: ConnId, msg: Message, out: &mut Vec<SessionOutput>) {
        self.stats.record_received(&msg);
        let Some(state) = self.conn(conn).map(|c| c.state) else {
            return;
        };
        match (state, msg) {
            (_, Message::Notification(n)) => self.notification_received(conn, n, out),
            (ConnState::OpenSent, Message::Open(o)) => self.open_received(conn, o, out),
            (ConnState::OpenConfirm, Message::Keepalive) => self.establish(conn, out),
            (ConnState::Established, Message::Keepalive) => self.heard_from_peer(out),
            (ConnState::Established, Message::Update(update)) => {
                self.heard_from_peer(out);
                out.push(SessionOutput::Update(update));
            }
            (ConnState::Established, Message::RouteRefresh(rr)) => {
                // RFC 2918 §4: a family not negotiated is ignored. RFC 7313
                // §4, §5: BoRR and EoRR belong to Enhanced Route Refresh,
                // which we do not announce, and unknown subtypes are
                // ignored; only a plain request goes up.
                let negotiated = self
                    .negotiated
                    .as_ref()
                    .is_some_and(|n| n.families.contains(&rr.family));
                if negotiated && rr.subtype == 0 {
                    out.push(SessionOutput::RouteRefresh(rr));
                }
            }
            // RFC 4271 §8.2.2 "any other event"; RFC 6608 §4 names the
            // state and carries the message type.
            (state, msg) => {
                let n = Notification::new(
                    NotificationCode::FiniteStateMachineError,
                    state.unexpected_subcode(),
                    Bytes::copy_from_slice(&[message_type(&msg) as u8]),
                );
                self.fail_conn(conn, n, None, out);
            }
        }
    }

    /// RFC 4271 §8.2.2 OpenSent, BGPOpen (Event 19).
    fn open_received(&mut self, conn: ConnId, peer_open: Open, out: &mut Vec<SessionOutput>) {
        if let Err(e) = open::check_open(&self.config, &peer_open) {
            let detail = open::explain(&self.config, &e);
            self.fail_conn(conn, e.to_notification(), Some(detail), out);
            return;
        }
        if !self.resolve_collision(conn, &peer_open, out) {
            return;
        }
        let negotiated = open::negotiate(&self.config, conn, peer_open);
        let (hold, keepalive) = (negotiated.hold_time, negotiated.keepalive);
        let Some(c) = self.conn_mut(conn) else {
            return;
        };
        c.state = ConnState::OpenConfirm;
        // RFC 6793 §3: 4-octet AS numbers once both OPENs carry the
        // capability (ours always does).
        c.ctx.four_octet_as = negotiated.four_octet_as;
        c.negotiated = Some(negotiated);
        self.send(conn, &Message::Keepalive, out);
        if hold == 0 {
            // RFC 4271 §8.2.2: a zero hold time starts neither timer.
            self.stop_timer(TimerKind::Hold, out);
            self.stop_timer(TimerKind::Keepalive, out);
        } else {
            self.start_timer(TimerKind::Hold, secs(hold), out);
            self.restart_keepalive(keepalive, out);
        }
    }

    /// RFC 4271 §6.8. Returns whether `conn`, which just brought an
    /// acceptable OPEN, stays.
    fn resolve_collision(
        &mut self,
        conn: ConnId,
        peer_open: &Open,
        out: &mut Vec<SessionOutput>,
    ) -> bool {
        let Some(arriving) = self.conn(conn).map(|c| Side {
            outbound: c.outbound,
        }) else {
            return false;
        };
        let Some((existing_id, existing)) = self.conns.iter().find(|c| c.id != conn).map(|c| {
            (
                c.id,
                Side {
                    outbound: c.outbound,
                },
            )
        }) else {
            return true;
        };
        let keep = collision::resolve(
            (self.config.local_id, self.config.local_as),
            (peer_open.bgp_id, peer_open.asn()),
            arriving,
            existing,
        );
        let loser = match keep {
            Keep::Arriving => existing_id,
            Keep::Existing => conn,
        };
        tracing::debug!(kept = ?keep, closed = loser, "connection collision resolved");
        bump(&mut self.stats.collisions);
        let cease = collision_cease();
        self.send(loser, &Message::Notification(cease), out);
        self.close(loser, out);
        loser != conn
    }

    /// RFC 4271 §8.2.2 OpenConfirm, KeepAliveMsg (Event 26).
    fn establish(&mut self, conn: ConnId, out: &mut Vec<SessionOutput>) {
        let Some(c) = self.conn_mut(conn) else {
            return;
        };
        let Some(negotiated) = c.negotiated.clone() else {
            return;
        };
        c.state = ConnState::Established;
        // RFC 4271 §6.8: the Established connection wins any collision.
        let others: Vec<ConnId> = self
            .conns
            .iter()
            .map(|c| c.id)
            .filter(|id| *id != conn)
            .collect();
        for other in others {
            bump(&mut self.stats.collisions);
            let cease = collision_cease();
            self.send(other, &Message::Notification(cease), out);
            self.close(other, out);
        }
        if negotiated.hold_time > 0 {
            self.start_timer(TimerKind::Hold, secs(negotiated.hold_time), out);
        }
        bump(&mut self.stats.established_transitions);
        self.heard_since_established = false;
        self.negotiated = Some(negotiated.clone());
        self.refresh_state(out);
        out.push(SessionOutput::Established(negotiated));
    }

    /// RFC 4271 §8.2.2 Established, KeepAliveMsg / UpdateMsg: restart the
    /// Hold timer. The first one also proves the session healthy, which
    /// resets the IdleHold backoff: a peer that completes the handshake and
    /// then fails at once keeps backing off.
    fn heard_from_peer(&mut self, out: &mut Vec<SessionOutput>) {
        if let Some(hold) = self.negotiated.as_ref().map(|n| n.hold_time) {
            if hold > 0 {
                self.start_timer(TimerKind::Hold, secs(hold), out);
            }
        }
        if !self.heard_since_established {
            self.heard_since_established = true;
            self.backoff.reset();
        }
    }

    fn notification_received(
        &mut self,
        conn: ConnId,
        n: Notification,
        out: &mut Vec<SessionOutput>,
    ) {
        let words = format!("received NOTIFICATION {n}");
        self.last_notification_received = Some(n.clone());
        let Some(gone) = self.close(conn, out) else {
            return;
        };
        if self.conns.is_empty() {
            self.go_down(DownReason::NotificationReceived(n), words, out);
        } else {
            // Typically the peer's side of collision resolution.
            tracing::debug!(conn, "{words} on one of two connections");
            self.after_losing(gone.state, out);
        }
    }

    fn timer_expired(&mut self, timer: TimerKind, out: &mut Vec<SessionOutput>) {
        match timer {
            // RFC 4271 §8.2.2 Connect and Active, ConnectRetryTimer_Expires.
            TimerKind::ConnectRetry => {
                let waiting = matches!(self.base, State::Connect | State::Active);
                if self.conns.is_empty() && waiting && !self.config.passive {
                    self.connect(out);
                }
            }
            TimerKind::Hold => self.hold_expired(out),
            TimerKind::Keepalive => self.keepalive_due(out),
            TimerKind::IdleHold => {
                if self.current_state() == State::Idle && self.idle_reason == IdleReason::IdleHold {
                    self.start(out);
                }
            }
            TimerKind::PrefixRestart => {
                if self.current_state() == State::Idle
                    && self.idle_reason == IdleReason::PrefixLimit
                {
                    self.start(out);
                }
            }
        }
    }

    /// RFC 4271 §6.5, §8.2.2 HoldTimer_Expires in OpenSent, OpenConfirm,
    /// Established.
    fn hold_expired(&mut self, out: &mut Vec<SessionOutput>) {
        if self.conns.is_empty() {
            return;
        }
        let n = Notification::hold_timer_expired();
        for id in self.conn_ids() {
            self.send(id, &Message::Notification(n.clone()), out);
        }
        let words = format!("sent NOTIFICATION {n}");
        self.go_down(DownReason::HoldTimerExpired, words, out);
    }

    /// RFC 4271 §8.2.2 OpenConfirm and Established, KeepaliveTimer_Expires.
    fn keepalive_due(&mut self, out: &mut Vec<SessionOutput>) {
        let target = self
            .conns
            .iter()
            .find(|c| c.state != ConnState::OpenSent)
            .and_then(|c| c.negotiated.as_ref().map(|n| (c.id, n.keepalive)));
        if let Some((conn, keepalive)) = target {
            self.send(conn, &Message::Keepalive, out);
            self.restart_keepalive(keepalive, out);
        }
    }

    /// A message from the router for the peer.
    fn send_from_router(&mut self, msg: Message, out: &mut Vec<SessionOutput>) {
        let Some((conn, keepalive, route_refresh)) = self
            .negotiated
            .as_ref()
            .map(|n| (n.conn, n.keepalive, n.route_refresh))
        else {
            bump(&mut self.stats.dropped);
            return;
        };
        match msg {
            Message::Open(_) => bump(&mut self.stats.dropped),
            // RFC 2918 §3: only to a peer that announced the capability.
            Message::RouteRefresh(_) if !route_refresh => bump(&mut self.stats.dropped),
            Message::Notification(n) => self.fail_conn(conn, n, None, out),
            Message::RouteRefresh(_) => self.send(conn, &msg, out),
            // RFC 4271 §10: KeepaliveTimer restarts on each KEEPALIVE or
            // UPDATE sent.
            Message::Keepalive | Message::Update(_) => {
                self.send(conn, &msg, out);
                self.restart_keepalive(keepalive, out);
            }
        }
    }

    // ---- ending connections and the session ---------------------------

    /// Ends one connection because of a protocol error on it: NOTIFICATION,
    /// close. The session goes down only if no other connection is left.
    fn fail_conn(
        &mut self,
        conn: ConnId,
        n: Notification,
        detail: Option<String>,
        out: &mut Vec<SessionOutput>,
    ) {
        let mut words = format!("sent NOTIFICATION {n}");
        if let Some(detail) = detail {
            words = format!("{words}: {detail}");
        }
        self.send(conn, &Message::Notification(n.clone()), out);
        let Some(gone) = self.close(conn, out) else {
            return;
        };
        if self.conns.is_empty() {
            self.go_down(DownReason::NotificationSent(n), words, out);
        } else {
            tracing::debug!(conn, "{words} on one of two connections");
            self.after_losing(gone.state, out);
        }
    }

    /// One of two connections went; the timers now serve the survivor.
    fn after_losing(&mut self, gone: ConnState, out: &mut Vec<SessionOutput>) {
        let survivor_in_open_sent = self.conns.iter().all(|c| c.state == ConnState::OpenSent);
        if gone != ConnState::OpenSent && survivor_in_open_sent {
            self.stop_timer(TimerKind::Keepalive, out);
            self.start_timer(TimerKind::Hold, OPEN_HOLD_TIME, out);
        }
    }

    /// An error ended the session: Idle, then an automatic restart after the
    /// IdleHold backoff (RFC 4271 §8.1.1 DampPeerOscillations).
    fn go_down(&mut self, reason: DownReason, words: String, out: &mut Vec<SessionOutput>) {
        tracing::info!(remote_as = self.config.remote_as, error = %words, "BGP session down");
        self.last_error = Some(words);
        for id in self.conn_ids() {
            self.close(id, out);
        }
        self.stop_timer(TimerKind::Hold, out);
        self.stop_timer(TimerKind::Keepalive, out);
        self.stop_timer(TimerKind::ConnectRetry, out);
        self.base = State::Idle;
        self.idle_reason = IdleReason::IdleHold;
        self.negotiated = None;
        self.refresh_state(out);
        out.push(SessionOutput::Down(reason));
        let after = self.backoff.next_delay();
        self.start_timer(TimerKind::IdleHold, after, out);
    }

    /// A deliberate shutdown: `n` on every connection, Idle for `idle`,
    /// every timer stopped.
    fn shut_down(
        &mut self,
        n: Notification,
        reason: DownReason,
        idle: IdleReason,
        out: &mut Vec<SessionOutput>,
    ) {
        let had_connection = !self.conns.is_empty();
        for id in self.conn_ids() {
            self.send(id, &Message::Notification(n.clone()), out);
            self.close(id, out);
        }
        for timer in std::mem::take(&mut self.armed) {
            out.push(SessionOutput::StopTimer(timer));
        }
        self.base = State::Idle;
        self.idle_reason = idle;
        self.negotiated = None;
        if had_connection {
            self.refresh_state(out);
            out.push(SessionOutput::Down(reason));
        }
    }

    // ---- plumbing -----------------------------------------------------

    fn current_state(&self) -> State {
        self.conns
            .iter()
            .map(|c| c.state)
            .max()
            .map_or(self.base, ConnState::as_state)
    }

    fn refresh_state(&mut self, out: &mut Vec<SessionOutput>) {
        let to = self.current_state();
        if to != self.state {
            tracing::debug!(remote_as = self.config.remote_as, from = ?self.state, to = ?to, "BGP state");
            out.push(SessionOutput::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
        }
    }

    fn lead_conn(&self) -> Option<&Conn> {
        self.conns.iter().max_by_key(|c| c.state)
    }

    fn conn(&self, id: ConnId) -> Option<&Conn> {
        self.conns.iter().find(|c| c.id == id)
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns.iter_mut().find(|c| c.id == id)
    }

    fn conn_ids(&self) -> Vec<ConnId> {
        self.conns.iter().map(|c| c.id).collect()
    }

    fn remove(&mut self, id: ConnId) -> Option<Conn> {
        let i = self.conns.iter().position(|c| c.id == id)?;
        Some(self.conns.remove(i))
    }

    /// Forgets `id` and tells the driver to close it.
    fn close(&mut self, id: ConnId, out: &mut Vec<SessionOutput>) -> Option<Conn> {
        out.push(SessionOutput::Close { conn: id });
        self.remove(id)
    }

    /// Encodes with the connection's context (the default one for a
    /// connection being refused) and counts.
    fn send(&mut self, conn: ConnId, msg: &Message, out: &mut Vec<SessionOutput>) {
        let ctx = self
            .conn(conn)
            .map_or_else(CodecContext::default, |c| c.ctx);
        let mut buf = BytesMut::new();
        encode_message(msg, &ctx, &mut buf);
        self.stats.record_sent(msg);
        if let Message::Notification(n) = msg {
            self.last_notification_sent = Some(n.clone());
        }
        out.push(SessionOutput::Send {
            conn,
            data: buf.freeze(),
        });
    }

    fn start_timer(&mut self, timer: TimerKind, after: Duration, out: &mut Vec<SessionOutput>) {
        self.armed.insert(timer);
        out.push(SessionOutput::StartTimer { timer, after });
    }

    fn stop_timer(&mut self, timer: TimerKind, out: &mut Vec<SessionOutput>) {
        if self.armed.remove(&timer) {
            out.push(SessionOutput::StopTimer(timer));
        }
    }

    fn restart_keepalive(&mut self, keepalive: u16, out: &mut Vec<SessionOutput>) {
        if keepalive > 0 {
            let after = self.jittered(secs(keepalive));
            self.start_timer(TimerKind::Keepalive, after, out);
        }
    }

    /// RFC 4271 §10 jitter, when configured.
    fn jittered(&mut self, interval: Duration) -> Duration {
        if self.config.jitter {
            self.rng.jitter(interval, JITTER_MIN_PPM, JITTER_MAX_PPM)
        } else {
            interval
        }
    }
}

fn secs(s: u16) -> Duration {
    Duration::from_secs(u64::from(s))
}

/// RFC 4271 §6.8, RFC 4486 §4: Cease / Connection Collision Resolution.
fn collision_cease() -> Notification {
    Notification::cease(cease_subcode::CONNECTION_COLLISION_RESOLUTION, Bytes::new())
}

fn message_type(msg: &Message) -> MessageType {
    match msg {
        Message::Open(_) => MessageType::Open,
        Message::Update(_) => MessageType::Update,
        Message::Notification(_) => MessageType::Notification,
        Message::Keepalive => MessageType::Keepalive,
        Message::RouteRefresh(_) => MessageType::RouteRefresh,
    }
}
