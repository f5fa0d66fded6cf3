//! One tunnel's IKEv1 peer (RFC 2409), sans-IO, both roles.
//!
//! CONTRACT: the types below are what the runtime programs against.
//!
//! Rooms: `ike_sa` (one phase 1 SA: cookies, keys, IVs, message
//! protection), `main_mode` (RFC 2409 §5 with pre-shared keys, §5.4),
//! `quick_mode` (§5.5 with PFS), `informational` (§5.7: notifies,
//! deletes, RFC 3706 DPD), `transforms` (our proposals on the wire and
//! the peer's offers decoded), `child` (installed IPsec SAs).
//!
//! # What the driver (the runtime) must do
//!
//! - Bind UDP 500 and 4500 on [`PeerConfig::local`]'s address and hand
//!   every datagram from the peer to [`IkePeer::handle`] as
//!   [`Input::Datagram`], with the addresses and ports as seen. On 4500 the
//!   bytes start with the four-zero non-ESP marker (RFC 3948 §2.2); ESP on
//!   4500 goes to the ESP core, not here.
//! - [`Output::Send`]: send `bytes` from `from` to `to` as they are (the
//!   marker is already there on 4500).
//! - [`Output::StartTimer`] (re)arms that timer, replacing any earlier
//!   deadline; [`Output::StopTimer`] disarms it. Expiries of replaced or
//!   stopped armings must not be delivered.
//! - Report authenticated inbound ESP with [`Input::PeerActivity`], at most
//!   about once a second (each report re-arms the DPD timer): DPD only
//!   probes a quiet peer.
//! - [`Event::ChildSaUp`] carries both directions' keys: install them in the
//!   ESP core; [`Event::ChildSaDeleted`] removes them.

mod child;
mod ike_sa;
mod informational;
pub(crate) mod main_mode;
mod quick_mode;
#[cfg(test)]
mod tests;
mod transforms;

use crate::config::{ConfigError, DpdAction, PeerConfig, Selector, StartupAction};
use crate::proposal::{Phase1Proposal, Phase2Proposal};
use crate::random::Random;
use crate::timers::{retransmit_wait, TimerKind};
use crate::wire::{self, exchange, parse_header, Header};
use bytes::{BufMut, Bytes, BytesMut};
use child::Child;
use ike_sa::IkeSa;
use quick_mode::QuickExchange;
use std::net::SocketAddr;
use std::time::Duration;
use zeroize::Zeroizing;

/// RFC 3948 §2.2: IKE on port 4500 is preceded by four zero octets.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
pub const IKE_PORT: u16 = 500;
pub const NAT_T_PORT: u16 = 4500;

/// Secret octets: wiped when dropped, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Zeroizing<Vec<u8>>);

impl Key {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({} octets)", self.0.len())
    }
}

/// The cloud's phase states (spec §1.6 `TunnelIKEPhase1State` /
/// `TunnelIKEPhase2State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SaState {
    Down,
    Negotiating,
    Established,
    Rekeying,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Phase {
    One,
    Two,
}

/// Who sent the first message of an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Role {
    Initiator,
    Responder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Initiate Main Mode (and then Quick Mode) now, whatever the startup
    /// action says; a responder-only peer is started by the runtime only
    /// for `restart` drills.
    Start,
    /// Delete everything (telling the peer) and stay down.
    Stop,
    /// Replace the phase 1 SA now.
    RekeyPhase1,
    /// Replace the newest child SA now.
    RekeyPhase2,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Datagram {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
    TimerExpired(TimerKind),
    Command(Command),
    /// Authenticated ESP arrived from the peer.
    PeerActivity,
}

/// How the NAT-D payloads came out (RFC 3947 §3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NatStatus {
    /// Both sides sent the RFC 3947 vendor ID.
    pub supported: bool,
    pub local_behind_nat: bool,
    pub remote_behind_nat: bool,
}

/// An installed IPsec SA pair, keys included (RFC 2409 §5.5 KEYMAT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSaInfo {
    pub spi_in: u32,
    pub spi_out: u32,
    pub proposal: Phase2Proposal,
    pub enc_key_in: Key,
    pub integ_key_in: Key,
    pub enc_key_out: Key,
    pub integ_key_out: Key,
    pub lifetime: Duration,
    /// UDP-encapsulated tunnel mode (RFC 3948) between these addresses.
    pub udp_encapsulation: bool,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub local_ts: Selector,
    pub remote_ts: Selector,
    /// This SA replaces the one with this inbound SPI (a rekey).
    pub replaces: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    StateChanged {
        phase: Phase,
        from: SaState,
        to: SaState,
    },
    Phase1Up {
        icookie: u64,
        rcookie: u64,
        role: Role,
        proposal: Phase1Proposal,
        lifetime: Duration,
        nat: NatStatus,
        remote: SocketAddr,
    },
    Phase1Down {
        icookie: u64,
        rcookie: u64,
        reason: String,
    },
    ChildSaUp(Box<ChildSaInfo>),
    ChildSaDeleted {
        spi_in: u32,
        spi_out: u32,
        reason: String,
    },
    /// RFC 3706: no answer within the DPD timeout.
    PeerDead {
        reason: String,
    },
    Error {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Send {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
    StartTimer {
        kind: TimerKind,
        after: Duration,
    },
    StopTimer(TimerKind),
    Event(Event),
}

/// Why a datagram was dropped; counted, never fatal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub received: u64,
    pub sent: u64,
    pub retransmitted: u64,
    pub duplicates_answered: u64,
    pub dropped: u64,
    pub dpd_probes: u64,
}

/// RFC 3706 §5 bookkeeping.
#[derive(Debug, Default)]
struct Dpd {
    /// Probes sent since we last heard from the peer.
    unanswered: u32,
    /// Silence so far, as measured by DPD timer expiries.
    silent: Duration,
    /// The wait the DPD timer was last armed with.
    armed_for: Duration,
    sequence: u32,
}

pub struct IkePeer {
    config: PeerConfig,
    rng: Box<dyn Random + Send>,
    ike_sas: Vec<IkeSa>,
    quick: Vec<QuickExchange>,
    children: Vec<Child>,
    dpd: Dpd,
    phase1_state: SaState,
    phase2_state: SaState,
    stats: Stats,
    /// The next DPD action `restart` or a `Start` asks for a new Quick Mode
    /// once phase 1 is up.
    want_child: bool,
}

impl std::fmt::Debug for IkePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IkePeer")
            .field("local", &self.config.local)
            .field("remote", &self.config.remote)
            .field("phase1", &self.phase1_state)
            .field("phase2", &self.phase2_state)
            .finish()
    }
}

impl IkePeer {
    pub fn new(config: PeerConfig, rng: Box<dyn Random + Send>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(IkePeer {
            config,
            rng,
            ike_sas: Vec::new(),
            quick: Vec::new(),
            children: Vec::new(),
            dpd: Dpd::default(),
            phase1_state: SaState::Down,
            phase2_state: SaState::Down,
            stats: Stats::default(),
            want_child: false,
        })
    }

    pub fn config(&self) -> &PeerConfig {
        &self.config
    }

    pub fn phase1_state(&self) -> SaState {
        self.phase1_state
    }

    pub fn phase2_state(&self) -> SaState {
        self.phase2_state
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// NAT-T as negotiated on the newest established phase 1 SA (spec
    /// §1.6 `TunnelCGWNATTDetectionStatus`).
    pub fn nat_status(&self) -> Option<NatStatus> {
        self.current_ike_sa().map(|s| s.nat)
    }

    /// DPD is on for this peer (spec §1.6 `TunnelDPDEnabled`).
    pub fn dpd_active(&self) -> bool {
        self.dpd_enabled()
    }

    /// Inbound SPIs of the installed child SAs, oldest first.
    pub fn child_spis(&self) -> Vec<u32> {
        self.children.iter().map(|c| c.info.spi_in).collect()
    }

    /// Established phase 1 SAs (two while one replaces the other).
    pub fn established_ike_sas(&self) -> usize {
        self.ike_sas.iter().filter(|s| s.is_established()).count()
    }

    /// Called once after construction: an initiator starts at once.
    pub fn start(&mut self, out: &mut Vec<Output>) {
        if self.config.startup == StartupAction::Start {
            self.handle(Input::Command(Command::Start), out);
        }
    }

    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Datagram { from, to, bytes } => self.on_datagram(from, to, &bytes, out),
            Input::TimerExpired(kind) => self.on_timer(kind, out),
            Input::Command(c) => self.on_command(c, out),
            Input::PeerActivity => self.peer_heard(out),
        }
        self.refresh_states(out);
    }

    fn on_command(&mut self, c: Command, out: &mut Vec<Output>) {
        match c {
            Command::Start => {
                self.want_child = true;
                if let Some(sa) = self.current_ike_sa() {
                    let icookie = sa.icookie;
                    if self.children.is_empty() && !self.quick.iter().any(|q| q.is_initiator()) {
                        self.start_quick_mode(icookie, None, out);
                    }
                } else if !self.ike_sas.iter().any(|s| s.role == Role::Initiator) {
                    self.start_main_mode(false, out);
                }
            }
            Command::Stop => {
                self.want_child = false;
                self.tear_down("stopped by command", true, out);
            }
            Command::RekeyPhase1 => self.rekey_phase1(out),
            Command::RekeyPhase2 => {
                if let Some(spi) = self.children.last().map(|c| c.info.spi_in) {
                    self.rekey_child(spi, out);
                }
            }
        }
    }

    fn on_datagram(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) {
        self.stats.received += 1;
        let bytes = if to.port() == NAT_T_PORT {
            match bytes.strip_prefix(&NON_ESP_MARKER[..]) {
                Some(rest) => rest,
                // ESP in UDP: not ours.
                None => {
                    self.stats.dropped += 1;
                    return;
                }
            }
        } else {
            bytes
        };
        let Ok((header, body)) = parse_header(bytes) else {
            self.stats.dropped += 1;
            return;
        };
        let handled = match header.exchange {
            exchange::IDENTITY_PROTECTION => self.on_main_mode(&header, body, bytes, from, to, out),
            exchange::AGGRESSIVE => self.refuse_aggressive(&header, from, to, out),
            exchange::QUICK_MODE => self.on_quick_mode(&header, body, bytes, from, to, out),
            exchange::INFORMATIONAL => self.on_informational(&header, body, from, to, out),
            _ => false,
        };
        if !handled {
            self.stats.dropped += 1;
        }
    }

    fn on_timer(&mut self, kind: TimerKind, out: &mut Vec<Output>) {
        match kind {
            TimerKind::Retransmit {
                icookie,
                message_id,
            } => self.on_retransmit(icookie, message_id, out),
            TimerKind::Phase1Rekey { icookie } => {
                if self.current_ike_sa().map(|s| s.icookie) == Some(icookie) {
                    self.rekey_phase1(out);
                }
            }
            TimerKind::Phase1Expire { icookie } => {
                self.delete_ike_sa(icookie, "phase 1 lifetime expired", true, out);
            }
            TimerKind::Phase2Rekey { spi_in } => self.rekey_child(spi_in, out),
            TimerKind::Phase2Expire { spi_in } => {
                self.delete_child(spi_in, "phase 2 lifetime expired", true, out);
            }
            TimerKind::Phase2Retire { spi_in } => {
                self.delete_child(spi_in, "rekeyed", true, out);
            }
            TimerKind::Dpd => self.on_dpd_timer(out),
            TimerKind::HalfOpen { icookie } => {
                if let Some(sa) = self.ike_sas.iter().find(|s| s.icookie == icookie) {
                    if !sa.is_established() {
                        self.drop_ike_sa(icookie, out);
                    }
                }
            }
        }
    }

    /// The newest established phase 1 SA: the one new exchanges run under.
    fn current_ike_sa(&self) -> Option<&IkeSa> {
        self.ike_sas.iter().rev().find(|s| s.is_established())
    }

    fn ike_sa_mut(&mut self, icookie: u64) -> Option<&mut IkeSa> {
        self.ike_sas.iter_mut().find(|s| s.icookie == icookie)
    }

    /// Put the datagram on the wire from the right port, with the non-ESP
    /// marker on 4500.
    fn send(&mut self, from: SocketAddr, to: SocketAddr, message: &[u8], out: &mut Vec<Output>) {
        self.stats.sent += 1;
        out.push(Output::Send {
            from,
            to,
            bytes: frame(from, message),
        });
    }

    fn event(&mut self, e: Event, out: &mut Vec<Output>) {
        match &e {
            Event::Error { reason } | Event::PeerDead { reason } => {
                tracing::info!(peer = %self.config.remote, %reason, "ike");
            }
            _ => tracing::debug!(peer = %self.config.remote, event = ?e, "ike"),
        }
        out.push(Output::Event(e));
    }

    fn fresh_cookie(&mut self) -> u64 {
        loop {
            let c = self.rng.next_u64();
            if c != 0
                && !self
                    .ike_sas
                    .iter()
                    .any(|s| s.icookie == c || s.rcookie == c)
            {
                return c;
            }
        }
    }

    fn fresh_message_id(&mut self) -> u32 {
        loop {
            let m = self.rng.next_u32();
            if m != 0 && !self.quick.iter().any(|q| q.message_id == m) {
                return m;
            }
        }
    }

    /// RFC 2408 §2.4: SPIs below 256 are reserved.
    fn fresh_spi(&mut self) -> u32 {
        loop {
            let s = self.rng.next_u32();
            if s >= 256
                && !self.children.iter().any(|c| c.info.spi_in == s)
                && !self.quick.iter().any(|q| q.spi_in == s)
            {
                return s;
            }
        }
    }

    fn nonce(&mut self) -> Vec<u8> {
        // RFC 2409 §5: 8 to 256 octets; 32 like strongSwan.
        let mut n = vec![0u8; 32];
        self.rng.fill(&mut n);
        n
    }

    /// Arm a retransmission for the exchange `message_id` of `icookie`.
    fn arm_retransmit(&mut self, icookie: u64, message_id: u32, tries: u32, out: &mut Vec<Output>) {
        out.push(Output::StartTimer {
            kind: TimerKind::Retransmit {
                icookie,
                message_id,
            },
            after: retransmit_wait(&self.config.retransmit, tries),
        });
    }

    fn on_retransmit(&mut self, icookie: u64, message_id: u32, out: &mut Vec<Output>) {
        let tries_max = self.config.retransmit.tries;
        let pending = if message_id == 0 {
            self.ike_sa_mut(icookie).and_then(|s| s.pending.as_mut())
        } else {
            self.quick
                .iter_mut()
                .find(|q| q.icookie == icookie && q.message_id == message_id)
                .and_then(|q| q.pending.as_mut())
        };
        let Some(p) = pending else { return };
        if p.tries >= tries_max {
            let what = if message_id == 0 {
                "Main Mode"
            } else {
                "Quick Mode"
            };
            let reason =
                format!("{what} timed out after {tries_max} retransmits: peer is not responding");
            if message_id == 0 {
                self.event(
                    Event::Error {
                        reason: reason.clone(),
                    },
                    out,
                );
                self.drop_ike_sa(icookie, out);
            } else {
                self.quick
                    .retain(|q| !(q.icookie == icookie && q.message_id == message_id));
                self.event(Event::Error { reason }, out);
            }
            return;
        }
        p.tries += 1;
        let tries = p.tries;
        let (from, to, bytes) = (p.from, p.to, p.bytes.clone());
        self.stats.retransmitted += 1;
        self.send(from, to, &bytes, out);
        self.arm_retransmit(icookie, message_id, tries, out);
    }

    /// Everything goes: IKE SAs, children, exchanges, timers.
    fn tear_down(&mut self, reason: &str, notify_peer: bool, out: &mut Vec<Output>) {
        let spis: Vec<u32> = self.children.iter().map(|c| c.info.spi_in).collect();
        for spi in spis {
            self.delete_child(spi, reason, notify_peer, out);
        }
        for q in std::mem::take(&mut self.quick) {
            out.push(Output::StopTimer(TimerKind::Retransmit {
                icookie: q.icookie,
                message_id: q.message_id,
            }));
        }
        let cookies: Vec<u64> = self.ike_sas.iter().map(|s| s.icookie).collect();
        for c in cookies {
            self.delete_ike_sa(c, reason, notify_peer, out);
        }
        out.push(Output::StopTimer(TimerKind::Dpd));
        self.dpd = Dpd::default();
    }

    /// Recompute the telemetry states and report changes.
    fn refresh_states(&mut self, out: &mut Vec<Output>) {
        let established = self.ike_sas.iter().filter(|s| s.is_established()).count();
        let negotiating = self.ike_sas.iter().any(|s| !s.is_established());
        let p1 = match (established, negotiating) {
            (0, false) => SaState::Down,
            (0, true) => SaState::Negotiating,
            (_, true) => SaState::Rekeying,
            (_, false) => SaState::Established,
        };
        let qm_running = !self.quick.iter().all(|q| q.is_done());
        let p2 = match (self.children.is_empty(), qm_running) {
            (true, false) => SaState::Down,
            (true, true) => SaState::Negotiating,
            (false, true) => SaState::Rekeying,
            (false, false) => SaState::Established,
        };
        for (phase, old, new) in [
            (Phase::One, self.phase1_state, p1),
            (Phase::Two, self.phase2_state, p2),
        ] {
            if old != new {
                out.push(Output::Event(Event::StateChanged {
                    phase,
                    from: old,
                    to: new,
                }));
            }
        }
        self.phase1_state = p1;
        self.phase2_state = p2;
    }

    fn dpd_enabled(&self) -> bool {
        !self.config.dpd.delay.is_zero() && self.config.dpd.action != DpdAction::None
    }
}

/// The datagram as sent: the marker first on port 4500.
fn frame(from: SocketAddr, message: &[u8]) -> Bytes {
    if from.port() == NAT_T_PORT {
        let mut b = BytesMut::with_capacity(message.len() + 4);
        b.put_slice(&NON_ESP_MARKER);
        b.put_slice(message);
        b.freeze()
    } else {
        Bytes::copy_from_slice(message)
    }
}

/// A plaintext Informational with one notify: the answer to a first
/// message we will not take (RFC 2408 §5; no keys exist yet).
fn plain_notify(icookie: u64, rcookie: u64, kind: u16) -> Bytes {
    let mut chain = wire::Chain::default();
    chain.push(
        wire::payload::NOTIFY,
        wire::Notify {
            doi: wire::DOI_IPSEC,
            protocol: wire::PROTO_ISAKMP,
            kind,
            spi: [icookie.to_be_bytes(), rcookie.to_be_bytes()].concat(),
            data: Vec::new(),
        }
        .encode(),
    );
    wire::encode_plain(
        Header {
            icookie,
            rcookie,
            next_payload: 0,
            exchange: exchange::INFORMATIONAL,
            flags: 0,
            message_id: 0,
        },
        &chain,
    )
}

/// Notify type names as strongSwan logs them.
pub fn notify_name(kind: u16) -> String {
    use wire::notify::*;
    match kind {
        INVALID_PAYLOAD_TYPE => "INVALID-PAYLOAD-TYPE".into(),
        INVALID_EXCHANGE_TYPE => "INVALID-EXCHANGE-TYPE".into(),
        NO_PROPOSAL_CHOSEN => "NO-PROPOSAL-CHOSEN".into(),
        INVALID_ID_INFORMATION => "INVALID-ID-INFORMATION".into(),
        INVALID_HASH_INFORMATION => "INVALID-HASH-INFORMATION".into(),
        AUTHENTICATION_FAILED => "AUTHENTICATION-FAILED".into(),
        16 => "PAYLOAD-MALFORMED".into(),
        INITIAL_CONTACT => "INITIAL-CONTACT".into(),
        R_U_THERE => "R-U-THERE".into(),
        R_U_THERE_ACK => "R-U-THERE-ACK".into(),
        other => format!("notify {other}"),
    }
}
