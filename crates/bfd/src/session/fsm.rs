//! The session state machine (RFC 5880 §6.2), reception (§6.8.6),
//! transmission (§6.8.7) and timer changes (§6.8.3).
//!
//! ```text
//!                              +--+
//!                              |  | UP, ADMIN DOWN, TIMER
//!                              |  V
//!                      DOWN  +------+  INIT
//!               +------------|      |------------+
//!               |            | DOWN |            |
//!               |  +-------->|      |<--------+  |
//!               |  |         +------+         |  |
//!               |  |                          |  |
//!               |  |               ADMIN DOWN,|  |
//!               |  |ADMIN DOWN,          DOWN,|  |
//!               |  |TIMER                TIMER|  |
//!               V  |                          |  V
//!             +------+                      +------+
//!        +----|      |                      |      |----+
//!    DOWN|    | INIT |--------------------->|  UP  |    |INIT, UP
//!        +--->|      | INIT, UP             |      |<---+
//!             +------+                      +------+
//! ```
//!
//! Every packet we send (re)arms the Transmit timer, so the gap after any
//! packet, periodic or not, is one jittered interval.

use super::intervals::{micros, Intervals};
use super::stats::{bump, DropReason, SessionStats};
use super::{
    ConfigError, DownCause, Input, Output, SessionConfig, SessionView, TimerKind, SINGLE_HOP_TTL,
    SLOW_TX_INTERVAL,
};
use crate::packet::{ControlPacket, Diagnostic, State};
use hybridlab_prng::SplitMix64;
use std::collections::BTreeSet;
use std::time::Duration;

/// RFC 5880 §6.8.7: jitter takes 0–25 % off each interval; with a Detect
/// Mult of 1 at least 10 %, so one late packet cannot end the session.
/// Parts per million keep the arithmetic integral.
const JITTER_MIN_PPM: u64 = 750_000;
const JITTER_MAX_PPM: u64 = 1_000_000;
const JITTER_MAX_PPM_MULT_1: u64 = 900_000;

#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    started: bool,
    /// bfd.SessionState
    state: State,
    /// bfd.LocalDiag
    local_diag: Diagnostic,
    /// bfd.RemoteDiscr
    remote_discr: u32,
    /// bfd.RemoteSessionState
    remote_state: State,
    /// bfd.RemoteDemandMode
    remote_demand: bool,
    remote_diag: Diagnostic,
    intervals: Intervals,
    armed: BTreeSet<TimerKind>,
    rng: SplitMix64,
    stats: SessionStats,
    last_down_cause: Option<DownCause>,
}

impl Session {
    /// `seed` drives the jitter; the same seed and inputs give the same
    /// outputs. Intervals below `min_accepted_interval` are raised to it.
    pub fn new(config: SessionConfig, seed: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut config = config;
        config.desired_min_tx = config.desired_min_tx.max(config.min_accepted_interval);
        config.required_min_rx = config.required_min_rx.max(config.min_accepted_interval);
        let intervals = Intervals::new(
            micros(config.desired_min_tx.max(SLOW_TX_INTERVAL)),
            micros(config.required_min_rx),
        );
        Ok(Session {
            config,
            started: false,
            state: State::Down,
            local_diag: Diagnostic::NoDiagnostic,
            remote_discr: 0,
            remote_state: State::Down,
            remote_demand: false,
            remote_diag: Diagnostic::NoDiagnostic,
            intervals,
            armed: BTreeSet::new(),
            rng: SplitMix64::new(seed),
            stats: SessionStats::default(),
            last_down_cause: None,
        })
    }

    /// The configuration in force, intervals raised to the floor.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    pub fn local_discriminator(&self) -> u32 {
        self.config.local_discriminator
    }

    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discr
    }

    pub fn local_diagnostic(&self) -> Diagnostic {
        self.local_diag
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Our transmit interval before jitter.
    pub fn tx_interval(&self) -> Duration {
        Duration::from_micros(u64::from(self.intervals.tx_interval()))
    }

    /// How long the peer may stay silent; `None` until it is heard.
    pub fn detection_time(&self) -> Option<Duration> {
        self.intervals.detection_time().map(Duration::from_micros)
    }

    pub fn view(&self) -> SessionView {
        SessionView {
            state: self.state,
            remote_state: self.remote_state,
            local_discriminator: self.config.local_discriminator,
            remote_discriminator: self.remote_discr,
            local_diagnostic: self.local_diag,
            remote_diagnostic: self.remote_diag,
            last_diagnostic: self.stats.last_diagnostic,
            last_down_cause: self.last_down_cause,
            passive: self.config.passive,
            detect_mult: self.config.detect_mult,
            remote_detect_mult: self.intervals.remote_detect_mult(),
            desired_min_tx_us: self.intervals.desired_tx(),
            required_min_rx_us: self.intervals.required_rx(),
            remote_desired_min_tx_us: self.intervals.remote_desired_tx(),
            remote_required_min_rx_us: self.intervals.remote_required_rx(),
            tx_interval_us: self.intervals.tx_interval(),
            detection_time_us: self.intervals.detection_time(),
            polling: self.intervals.polling(),
            counters: self.stats.clone(),
        }
    }

    /// Feeds one input; appends what must happen to `out`.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Start => self.start(out),
            Input::Received { packet, ttl } => self.received(&packet, ttl, out),
            Input::TimerExpired(timer) => {
                // A timer stopped or re-armed since: a late expiry, ignored.
                if self.armed.remove(&timer) {
                    match timer {
                        TimerKind::Transmit => self.transmit_due(out),
                        TimerKind::Detection => self.detection_expired(out),
                    }
                }
            }
            Input::AdminDown => self.admin_down(out),
            Input::AdminUp => self.admin_up(out),
            Input::SetTimers {
                desired_min_tx,
                required_min_rx,
                detect_mult,
            } => self.set_timers(desired_min_tx, required_min_rx, detect_mult),
        }
        self.sync_transmit_timer(out);
    }

    /// Decodes one UDP payload and feeds it; for a driver that gives each
    /// session its own socket or link. Bad packets are counted here.
    pub fn receive_datagram(&mut self, payload: &[u8], ttl: u8, out: &mut Vec<Output>) {
        match ControlPacket::decode(payload) {
            Ok(packet) => self.handle(Input::Received { packet, ttl }, out),
            Err(e) => {
                tracing::debug!(error = %e, "BFD packet dropped");
                self.drop_packet(DropReason::from(&e), out);
            }
        }
    }

    /// Counts a packet that was meant for this session and dropped before
    /// reaching it.
    pub(crate) fn drop_packet(&mut self, reason: DropReason, out: &mut Vec<Output>) {
        self.stats.record_drop(reason);
        out.push(Output::Dropped(reason));
    }

    // ---- inputs -------------------------------------------------------

    fn start(&mut self, out: &mut Vec<Output>) {
        if self.started {
            return;
        }
        self.started = true;
        if self.may_send() {
            self.send(false, out);
        }
    }

    /// RFC 5880 §6.8.6, after the packet-level checks of the codec.
    fn received(&mut self, packet: &ControlPacket, ttl: u8, out: &mut Vec<Output>) {
        if let Some(reason) = self.refusal(packet, ttl) {
            tracing::debug!(?reason, "BFD packet dropped");
            self.drop_packet(reason, out);
            return;
        }
        bump(&mut self.stats.received);
        self.remote_discr = packet.my_discriminator;
        self.remote_state = packet.state;
        self.remote_demand = packet.demand;
        self.remote_diag = packet.diagnostic;
        self.intervals.learn(packet);
        if packet.final_ {
            self.intervals.final_received();
        }
        if self.state == State::AdminDown {
            return;
        }
        let before = self.state;
        match (self.state, packet.state) {
            (State::Down, State::AdminDown) => {}
            (_, State::AdminDown) => self.go_down(
                Diagnostic::NeighborSignaledSessionDown,
                DownCause::NeighborAdminDown,
                out,
            ),
            (State::Down, State::Down) => self.set_state(State::Init, out),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.set_state(State::Up, out)
            }
            (State::Up, State::Down) => self.go_down(
                Diagnostic::NeighborSignaledSessionDown,
                DownCause::NeighborDown,
                out,
            ),
            _ => {}
        }
        // The packet counts as received for the Detection Time (§6.8.4).
        self.arm_detection(out);
        // A Poll is answered at once, whatever the timers say (§6.8.7); a
        // new state is told at once too, and one packet does both.
        if packet.poll || self.state != before {
            self.send(packet.poll, out);
        }
    }

    /// The reception checks that need the session, in RFC order.
    fn refusal(&self, packet: &ControlPacket, ttl: u8) -> Option<DropReason> {
        if !self.started {
            return Some(DropReason::NotStarted);
        }
        if ttl != SINGLE_HOP_TTL {
            return Some(DropReason::LowTtl);
        }
        if packet.your_discriminator != 0
            && packet.your_discriminator != self.config.local_discriminator
        {
            return Some(DropReason::UnknownDiscriminator);
        }
        // We use no authentication: a packet with the A bit is discarded.
        if packet.authentication.is_some() {
            return Some(DropReason::UnexpectedAuthentication);
        }
        None
    }

    fn transmit_due(&mut self, out: &mut Vec<Output>) {
        if self.may_send_periodic() {
            self.send(false, out);
        }
    }

    /// RFC 5880 §6.8.4. The peer is forgotten in any state (§6.8.1
    /// bfd.RemoteDiscr); only Init and Up fall to Down.
    fn detection_expired(&mut self, out: &mut Vec<Output>) {
        self.remote_discr = 0;
        self.remote_state = State::Down;
        self.remote_demand = false;
        self.intervals.forget_remote();
        if matches!(self.state, State::Init | State::Up) {
            self.go_down(
                Diagnostic::ControlDetectionTimeExpired,
                DownCause::DetectionTimeExpired,
                out,
            );
            if self.may_send() {
                self.send(false, out);
            }
        }
    }

    /// RFC 5880 §6.8.16: AdminDown, told to the peer, detection stopped.
    /// Packets go on at the slow rate so the peer learns why.
    fn admin_down(&mut self, out: &mut Vec<Output>) {
        if self.state == State::AdminDown {
            return;
        }
        self.go_to(
            State::AdminDown,
            Diagnostic::AdministrativelyDown,
            Some(DownCause::LocalAdminDown),
            out,
        );
        self.stop_timer(TimerKind::Detection, out);
        if self.may_send() {
            self.send(false, out);
        }
    }

    fn admin_up(&mut self, out: &mut Vec<Output>) {
        if self.state != State::AdminDown {
            return;
        }
        let diagnostic = self.local_diag;
        self.go_to(State::Down, diagnostic, None, out);
        if self.may_send() {
            self.send(false, out);
        }
    }

    /// RFC 5880 §6.8.3. The new values ride on the next periodic packet,
    /// with P set while Up (§6.5: no extra packet for a Poll).
    fn set_timers(&mut self, desired_min_tx: Duration, required_min_rx: Duration, mult: u8) {
        if mult == 0 || desired_min_tx.is_zero() || required_min_rx.is_zero() {
            tracing::warn!(
                ?desired_min_tx,
                ?required_min_rx,
                mult,
                "BFD timers with a zero value ignored"
            );
            return;
        }
        self.config.desired_min_tx = desired_min_tx.max(self.config.min_accepted_interval);
        self.config.required_min_rx = required_min_rx.max(self.config.min_accepted_interval);
        self.config.detect_mult = mult;
        self.advertise_intervals();
    }

    // ---- state --------------------------------------------------------

    fn set_state(&mut self, to: State, out: &mut Vec<Output>) {
        // RFC 5880 §6.8.1: LocalDiag says why the state last changed; coming
        // Up there is nothing to report.
        let diagnostic = if to == State::Up {
            Diagnostic::NoDiagnostic
        } else {
            self.local_diag
        };
        self.go_to(to, diagnostic, None, out);
    }

    fn go_down(&mut self, diagnostic: Diagnostic, cause: DownCause, out: &mut Vec<Output>) {
        self.go_to(State::Down, diagnostic, Some(cause), out);
    }

    fn go_to(
        &mut self,
        to: State,
        diagnostic: Diagnostic,
        cause: Option<DownCause>,
        out: &mut Vec<Output>,
    ) {
        let from = self.state;
        self.state = to;
        self.local_diag = diagnostic;
        bump(&mut self.stats.state_changes);
        if to == State::Up {
            bump(&mut self.stats.up_transitions);
        }
        if let Some(cause) = cause {
            self.last_down_cause = Some(cause);
            self.stats.last_diagnostic = Some(diagnostic);
        }
        tracing::debug!(%from, %to, %diagnostic, "BFD state change");
        out.push(Output::StateChanged {
            from,
            to,
            diagnostic,
        });
        // Every way out of Up names its cause.
        if let (State::Up, Some(cause)) = (from, cause) {
            if cause.is_failure() {
                bump(&mut self.stats.failures);
            }
            out.push(Output::LeftUp { cause });
        }
        self.advertise_intervals();
    }

    /// Puts bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval in line
    /// with the configuration and the state: at least one second of TX
    /// while not Up (RFC 5880 §6.8.3).
    fn advertise_intervals(&mut self) {
        let up = self.state == State::Up;
        let desired = if up {
            self.config.desired_min_tx
        } else {
            self.config.desired_min_tx.max(SLOW_TX_INTERVAL)
        };
        self.intervals
            .advertise(micros(desired), micros(self.config.required_min_rx), up);
        if !up {
            self.intervals.settle();
        }
    }

    // ---- transmission -------------------------------------------------

    /// RFC 5880 §6.8.7: a passive session is silent until the peer is known.
    fn may_send(&self) -> bool {
        self.started && !(self.config.passive && self.remote_discr == 0)
    }

    /// RFC 5880 §6.8.7: no periodic packets when the peer asked for none
    /// (Required Min RX 0), nor while it runs Demand mode and both sides are
    /// Up, unless we are polling.
    fn may_send_periodic(&self) -> bool {
        let remote_demand_active = self.remote_demand
            && self.state == State::Up
            && self.remote_state == State::Up
            && !self.intervals.polling();
        self.may_send() && !self.intervals.remote_wants_silence() && !remote_demand_active
    }

    /// RFC 5880 §6.8.7: the packet's contents.
    fn packet(&self, final_: bool) -> ControlPacket {
        ControlPacket {
            diagnostic: self.local_diag,
            state: self.state,
            // §6.5: never P and F together; a Final waits for the next one.
            poll: self.intervals.polling() && !final_,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.config.detect_mult,
            my_discriminator: self.config.local_discriminator,
            your_discriminator: self.remote_discr,
            desired_min_tx_us: self.intervals.desired_tx(),
            required_min_rx_us: self.intervals.required_rx(),
            required_min_echo_rx_us: 0,
            authentication: None,
        }
    }

    fn send(&mut self, final_: bool, out: &mut Vec<Output>) {
        match self.packet(final_).to_bytes() {
            Ok(bytes) => {
                bump(&mut self.stats.sent);
                out.push(Output::Send(bytes));
            }
            // Our packets carry no authentication and a known diagnostic;
            // failing here is a bug, not a peer's doing.
            Err(e) => tracing::error!(error = %e, "BFD packet not encoded"),
        }
        if self.may_send_periodic() {
            let after = self.jittered(self.intervals.tx_interval());
            self.start_timer(TimerKind::Transmit, after, out);
        }
    }

    /// RFC 5880 §6.8.7: each interval shortened by a random 0–25 % (10–25 %
    /// with a Detect Mult of 1).
    fn jittered(&mut self, interval_us: u32) -> Duration {
        let micros = u64::from(interval_us);
        if !self.config.jitter {
            return Duration::from_micros(micros);
        }
        let max = if self.config.detect_mult == 1 {
            JITTER_MAX_PPM_MULT_1
        } else {
            JITTER_MAX_PPM
        };
        self.rng
            .jitter(Duration::from_micros(micros), JITTER_MIN_PPM, max)
    }

    /// The Transmit timer runs exactly when periodic packets may go.
    fn sync_transmit_timer(&mut self, out: &mut Vec<Output>) {
        let wanted = self.may_send_periodic();
        let armed = self.armed.contains(&TimerKind::Transmit);
        if wanted && !armed {
            let after = self.jittered(self.intervals.tx_interval());
            self.start_timer(TimerKind::Transmit, after, out);
        } else if !wanted && armed {
            self.stop_timer(TimerKind::Transmit, out);
        }
    }

    // ---- timers -------------------------------------------------------

    fn arm_detection(&mut self, out: &mut Vec<Output>) {
        match self.intervals.detection_time() {
            Some(us) if self.state != State::AdminDown => {
                self.start_timer(TimerKind::Detection, Duration::from_micros(us), out)
            }
            _ => self.stop_timer(TimerKind::Detection, out),
        }
    }

    fn start_timer(&mut self, timer: TimerKind, after: Duration, out: &mut Vec<Output>) {
        self.armed.insert(timer);
        out.push(Output::StartTimer { timer, after });
    }

    fn stop_timer(&mut self, timer: TimerKind, out: &mut Vec<Output>) {
        if self.armed.remove(&timer) {
            out.push(Output::StopTimer(timer));
        }
    }
}
