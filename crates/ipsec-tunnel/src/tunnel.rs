//! [`IpsecTunnel`]: the IKE peer, the ESP SAs, the inside endpoint and the
//! BGP transport of one tunnel end, driven as one machine.

use crate::child_sa::{self, ChildSa};
use crate::config::{esp_can_carry, TunnelConfig, TunnelError};
use crate::io::{TunnelEvent, TunnelInput, TunnelOutput};
use crate::timers::TimerQueue;
use bytes::{Bytes, BytesMut};
use hybridlab_esp::natt::{self, UdpPayload};
use hybridlab_esp::{
    Counters, LifetimeState, RandomIvs, ReplayWindow, SealError, NEXT_HEADER_DUMMY,
    NEXT_HEADER_IPV4,
};
use hybridlab_ike::peer::{IKE_PORT, NAT_T_PORT};
use hybridlab_ike::{
    Command, Event, IkePeer, Input, NatStatus, Output, Phase1Proposal, Random, Role,
};
use hybridlab_tunnel_ip::{BgpTransport, Disposition, DropReason, TunnelIp};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;
use tracing::{debug, info};

/// DPD only needs to know the peer is alive; reporting every ESP packet
/// would re-arm IKE's DPD timer per packet (ike crate: "at most about once
/// a second").
const ACTIVITY_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// RFC 3948 §4: keepalives keep the NAT mapping open; 20 s is the
/// interval strongSwan and the RFC's example use.
pub const NAT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// Rounds of "TCP stack → SA → transport" per input. Each round moves
/// real data, so the bound only guards against a stack that never settles.
const MAX_PUMP_ROUNDS: usize = 64;

/// Timer expiries handled per `Tick`: the same guard for IKE.
const MAX_TIMERS_PER_TICK: usize = 1024;

/// Counters of this layer (ESP per-SA counters are in the view's totals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TunnelStats {
    /// ESP for an SPI we do not have (RFC 4303 §3.4.2: discard).
    pub unknown_spi: u64,
    /// Inner packets the TCP stack or a caller wanted to send while no SA
    /// was up.
    pub dropped_no_sa: u64,
    /// `seal` refused (sequence numbers exhausted, oversized packet).
    pub seal_errors: u64,
    /// Authentic ESP whose next header was not IPv4 (TFC dummies, IPv6).
    pub not_ipv4: u64,
    /// Authentic inner packets handed out as `TunnelOutput::Inner`.
    pub inner_out: u64,
    pub keepalives_sent: u64,
    pub keepalives_received: u64,
    /// Datagrams that were none of IKE, ESP or keepalive, or came to a
    /// port we do not serve.
    pub garbage: u64,
    pub peer_activity_reports: u64,
}

/// What the last phase 1 SA to come up agreed.
#[derive(Clone, Debug)]
pub(crate) struct Phase1Info {
    pub icookie: u64,
    pub rcookie: u64,
    pub role: Role,
    pub proposal: Phase1Proposal,
    pub lifetime: Duration,
    pub up_at: Duration,
}

pub struct IpsecTunnel {
    pub(crate) name: String,
    pub(crate) ike: IkePeer,
    timers: TimerQueue,
    pub(crate) ip: TunnelIp,
    transport: BgpTransport,
    /// Installed pairs, oldest first; the newest live one carries outbound
    /// traffic, draining ones only open (see `child_sa`).
    pub(crate) children: Vec<ChildSa>,
    /// Counters of deleted pairs, so totals survive rekeys.
    pub(crate) retired: Counters,
    replay_window: u32,
    ivs: RandomIvs<ring::rand::SystemRandom>,
    pub(crate) phase1: Option<Phase1Info>,
    pub(crate) nat: NatStatus,
    /// Where IKE last sent from and to: the outside addresses in use
    /// (after the float to 4500, the 4500 ones).
    pub(crate) ike_local: SocketAddr,
    pub(crate) ike_remote: SocketAddr,
    /// The last datagram we sent to the peer, for keepalives.
    last_sent: Duration,
    last_activity_report: Option<Duration>,
    ip_poll_at: Option<Duration>,
    pub(crate) stats: TunnelStats,
    pub(crate) last_error: Option<String>,
    /// Outbound SPI whose replacement we asked for on sequence exhaustion.
    rekey_asked_for: Option<u32>,
    buf: BytesMut,
}

impl std::fmt::Debug for IpsecTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpsecTunnel")
            .field("name", &self.name)
            .field("ike", &self.ike)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl IpsecTunnel {
    /// Builds the tunnel end. Phase 2 proposals the ESP data plane cannot
    /// carry (HMAC-SHA-384/512) are removed first; see [`TunnelConfig`].
    ///
    /// `random` keys IKE (cookies, nonces, DH, SPIs): [`hybridlab_ike::
    /// SystemRandom`] in service, a seeded one in tests. ESP IVs always
    /// come from the OS generator through `ring` (RFC 3602 §2.1: they must
    /// be unpredictable), which changes wire bytes but never behaviour.
    pub fn new(config: TunnelConfig, random: Box<dyn Random + Send>) -> Result<Self, TunnelError> {
        let mut ike_config = config.ike;
        ike_config.phase2.retain(|p| esp_can_carry(p.integrity));
        if ike_config.phase2.is_empty() {
            return Err(TunnelError::NoEspProposal);
        }
        ReplayWindow::new(config.replay_window)
            .map_err(|_| TunnelError::ReplayWindow(config.replay_window))?;
        let (ike_local, ike_remote) = (ike_config.local, ike_config.remote);
        let ike = IkePeer::new(ike_config, random)?;
        let mut inside = config.inside;
        if inside.seed == 0 {
            inside.seed = config.seed;
        }
        let mut ip = TunnelIp::new(inside)?;
        let transport = BgpTransport::new(&mut ip, config.bgp_peer, config.accept_bgp)?;
        Ok(IpsecTunnel {
            name: config.name,
            ike,
            timers: TimerQueue::default(),
            ip,
            transport,
            children: Vec::new(),
            retired: Counters::default(),
            replay_window: config.replay_window,
            ivs: RandomIvs::new(ring::rand::SystemRandom::new()),
            phase1: None,
            nat: NatStatus::default(),
            ike_local,
            ike_remote,
            last_sent: Duration::ZERO,
            last_activity_report: None,
            ip_poll_at: None,
            stats: TunnelStats::default(),
            last_error: None,
            rekey_asked_for: None,
            buf: BytesMut::with_capacity(2048),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Initiators initiate; responders wait.
    pub fn start(&mut self, now: Duration, out: &mut Vec<TunnelOutput>) {
        let mut ike_out = Vec::new();
        self.ike.start(&mut ike_out);
        self.ike_outputs(now, ike_out, out);
        self.pump(now, None, out);
    }

    /// One input at `now` (time since an arbitrary fixed start, never
    /// going backwards). `next_conn` hands out lab-wide connection ids.
    pub fn handle(
        &mut self,
        now: Duration,
        input: TunnelInput,
        next_conn: &mut dyn FnMut() -> u64,
        out: &mut Vec<TunnelOutput>,
    ) {
        match input {
            TunnelInput::Udp { from, to, bytes } => self.on_udp(now, from, to, bytes, out),
            TunnelInput::Esp { from, bytes, .. } => match natt::classify(&bytes) {
                UdpPayload::Esp { spi, packet } => {
                    self.on_esp(now, spi, SocketAddr::new(from, 0), packet, out)
                }
                _ => self.stats.garbage += 1,
            },
            TunnelInput::Tick => self.on_tick(now, out),
            TunnelInput::Bgp(action) => {
                let mut inputs = Vec::new();
                self.transport.apply(&mut self.ip, &action, &mut inputs);
                out.extend(inputs.into_iter().map(TunnelOutput::Bgp));
            }
            TunnelInput::Command(c) => self.ike_input(now, Input::Command(c), out),
            TunnelInput::Inner(packet) => self.send_inner(now, &packet, out),
        }
        self.pump(now, Some(next_conn), out);
    }

    /// When to send `Tick` next: the earliest of IKE's timers, the TCP
    /// stack's next poll and the NAT keepalive. `None`: only an input can
    /// make anything happen.
    pub fn next_deadline(&self) -> Option<Duration> {
        let drained = self.children.iter().filter_map(|c| c.draining_until).min();
        [
            self.timers.next(),
            self.ip_poll_at,
            self.keepalive_at(),
            drained,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A child SA is installed: inner traffic flows.
    pub fn is_up(&self) -> bool {
        self.children.iter().any(ChildSa::is_live)
    }

    pub fn ike(&self) -> &IkePeer {
        &self.ike
    }

    pub fn inside(&self) -> &TunnelIp {
        &self.ip
    }

    pub fn stats(&self) -> TunnelStats {
        self.stats
    }

    /// (inbound, outbound) SPIs of the live pairs, oldest first; the last
    /// one's outbound half carries our traffic. Draining pairs are left out.
    pub fn child_spis(&self) -> Vec<(u32, u32)> {
        self.children
            .iter()
            .map(|c| (c.spi_in, c.spi_out))
            .collect()
    }

    /// When authenticated ESP was last reported to IKE as peer activity
    /// (RFC 3706 DPD counts silence from there).
    pub fn last_peer_activity_report(&self) -> Option<Duration> {
        self.last_activity_report
    }

    // ---- inbound ------------------------------------------------------

    fn on_udp(
        &mut self,
        now: Duration,
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
        out: &mut Vec<TunnelOutput>,
    ) {
        match to.port() {
            IKE_PORT => self.ike_input(now, Input::Datagram { from, to, bytes }, out),
            // RFC 3948 §2: IKE behind the marker, ESP, or a keepalive.
            NAT_T_PORT => match natt::classify(&bytes) {
                UdpPayload::Ike(_) => self.ike_input(now, Input::Datagram { from, to, bytes }, out),
                UdpPayload::Keepalive => self.stats.keepalives_received += 1,
                UdpPayload::Esp { spi, packet } => self.on_esp(now, spi, from, packet, out),
                UdpPayload::Invalid => self.stats.garbage += 1,
            },
            _ => self.stats.garbage += 1,
        }
    }

    /// RFC 4303 §3.4: find the SA by SPI, authenticate, check replay,
    /// decrypt; then the inner packet goes to the inside endpoint.
    fn on_esp(
        &mut self,
        now: Duration,
        spi: u32,
        from: SocketAddr,
        packet: &[u8],
        out: &mut Vec<TunnelOutput>,
    ) {
        let Some(child) = self.children.iter_mut().find(|c| c.spi_in == spi) else {
            self.stats.unknown_spi += 1;
            return;
        };
        self.buf.clear();
        let opened = match child.inbound.open(packet, &mut self.buf) {
            Ok(opened) => opened,
            Err(e) => {
                // Counted by the SA (replay, ICV, malformed).
                debug!(tunnel = %self.name, spi = format_args!("{spi:#010x}"), error = %e, "ESP dropped");
                return;
            }
        };
        // The peer seals into this pair: it has installed it.
        child.unconfirmed_until = None;
        let encapsulated = child.udp_encapsulation;
        // RFC 3948 §5.2 leaves NAT mapping changes to the implementation;
        // like strongSwan, follow the source of authentic traffic.
        if encapsulated && from.port() != 0 && from != child.remote {
            info!(tunnel = %self.name, old = %child.remote, new = %from, "peer's NAT mapping moved");
            for c in self.children.iter_mut().filter(|c| c.udp_encapsulation) {
                c.remote = from;
            }
        }
        let inner = self.buf.split().freeze();
        self.report_activity(now, out);
        match opened.next_header {
            NEXT_HEADER_IPV4 => {}
            // RFC 4303 §2.6: a TFC dummy is dropped silently.
            NEXT_HEADER_DUMMY => return,
            _ => {
                self.stats.not_ipv4 += 1;
                return;
            }
        }
        let disposition = self.ip.receive(now, &inner);
        if let Disposition::Dropped(DropReason::NotForUs(_) | DropReason::Unsupported(_)) =
            disposition
        {
            self.stats.inner_out += 1;
            out.push(TunnelOutput::Inner(inner));
        }
    }

    fn report_activity(&mut self, now: Duration, out: &mut Vec<TunnelOutput>) {
        let due = self
            .last_activity_report
            .is_none_or(|at| now >= at + ACTIVITY_REPORT_INTERVAL);
        if due {
            self.last_activity_report = Some(now);
            self.stats.peer_activity_reports += 1;
            self.ike_input(now, Input::PeerActivity, out);
        }
    }

    // ---- outbound -----------------------------------------------------

    /// RFC 4303 §3.3: seal with the newest SA and send it to the peer.
    fn send_inner(&mut self, now: Duration, packet: &[u8], out: &mut Vec<TunnelOutput>) {
        // The newest pair the peer surely has; failing that, the newest.
        let pick = self
            .children
            .iter()
            .rposition(|c| c.carries_outbound(now))
            .or_else(|| self.children.iter().rposition(ChildSa::is_live));
        let Some(child) = pick.and_then(|i| self.children.get_mut(i)) else {
            // BGP's own timers cope; TCP retransmits once the SA is up.
            self.stats.dropped_no_sa += 1;
            return;
        };
        self.buf.clear();
        match child
            .outbound
            .seal(packet, NEXT_HEADER_IPV4, &mut self.ivs, &mut self.buf)
        {
            Ok(_) => {
                let bytes = self.buf.split().freeze();
                out.push(if child.udp_encapsulation {
                    // RFC 3948 §2.1: the UDP payload is the ESP packet.
                    TunnelOutput::Udp {
                        from: child.local,
                        to: child.remote,
                        bytes,
                    }
                } else {
                    TunnelOutput::Esp {
                        from: child.local.ip(),
                        to: child.remote.ip(),
                        bytes,
                    }
                });
                self.last_sent = now;
            }
            Err(e) => {
                self.stats.seal_errors += 1;
                debug!(tunnel = %self.name, error = %e, "ESP seal failed");
                if e != SealError::SequenceExhausted {
                    return;
                }
            }
        }
        // RFC 4303 §3.3.3: replace the SA well before the counter cycles.
        let spi_out = child.spi_out;
        let worn = child.outbound.lifetime_state(now) != LifetimeState::Valid;
        if worn && self.rekey_asked_for != Some(spi_out) {
            self.rekey_asked_for = Some(spi_out);
            self.ike_input(now, Input::Command(Command::RekeyPhase2), out);
        }
    }

    /// Moves packets and events between the TCP stack, the SA and the BGP
    /// transport until nothing more moves, then notes when the stack wants
    /// the next poll.
    fn pump(
        &mut self,
        now: Duration,
        mut next_conn: Option<&mut dyn FnMut() -> u64>,
        out: &mut Vec<TunnelOutput>,
    ) {
        for _ in 0..MAX_PUMP_ROUNDS {
            let mut inputs = Vec::new();
            if let Some(nc) = next_conn.as_mut() {
                let mut ids = || nc();
                self.transport.pump(&mut self.ip, &mut ids, &mut inputs);
            }
            let produced = !inputs.is_empty();
            out.extend(inputs.into_iter().map(TunnelOutput::Bgp));
            let packets = self.ip.poll(now);
            if packets.is_empty() && !produced {
                break;
            }
            for p in packets {
                self.send_inner(now, &p, out);
            }
        }
        self.ip_poll_at = self.ip.poll_at(now);
    }

    // ---- time ---------------------------------------------------------

    fn on_tick(&mut self, now: Duration, out: &mut Vec<TunnelOutput>) {
        for _ in 0..MAX_TIMERS_PER_TICK {
            let Some(kind) = self.timers.pop_due(now) else {
                break;
            };
            self.ike_input(now, Input::TimerExpired(kind), out);
        }
        let retired = &mut self.retired;
        self.children.retain(|c| match c.draining_until {
            Some(at) if at <= now => {
                child_sa::add(retired, &c.counters());
                false
            }
            _ => true,
        });
        if self.keepalive_at().is_some_and(|at| at <= now) {
            self.stats.keepalives_sent += 1;
            self.last_sent = now;
            out.push(TunnelOutput::Udp {
                from: self.ike_local,
                to: self.ike_remote,
                bytes: Bytes::from_static(&natt::KEEPALIVE),
            });
        }
    }

    /// RFC 3948 §4: only a side behind a NAT keeps the mapping open, and
    /// only after the float to 4500.
    fn keepalive_at(&self) -> Option<Duration> {
        let floated = self.ike_local.port() == NAT_T_PORT;
        (self.nat.local_behind_nat && floated && self.phase1.is_some())
            .then(|| self.last_sent + NAT_KEEPALIVE_INTERVAL)
    }

    // ---- IKE ----------------------------------------------------------

    fn ike_input(&mut self, now: Duration, input: Input, out: &mut Vec<TunnelOutput>) {
        let mut ike_out = Vec::new();
        {
            // The IKE core logs the peer's address only; the span names
            // the tunnel on every line it writes.
            let span = tracing::info_span!("ike", tunnel = %self.name);
            let _in_span = span.enter();
            self.ike.handle(input, &mut ike_out);
        }
        self.ike_outputs(now, ike_out, out);
    }

    fn ike_outputs(&mut self, now: Duration, ike_out: Vec<Output>, out: &mut Vec<TunnelOutput>) {
        for o in ike_out {
            match o {
                Output::Send { from, to, bytes } => {
                    self.ike_local = from;
                    self.ike_remote = to;
                    self.last_sent = now;
                    out.push(TunnelOutput::Udp { from, to, bytes });
                }
                Output::StartTimer { kind, after } => self.timers.arm(kind, now + after),
                Output::StopTimer(kind) => self.timers.stop(kind),
                Output::Event(e) => self.ike_event(now, e, out),
            }
        }
    }

    fn ike_event(&mut self, now: Duration, e: Event, out: &mut Vec<TunnelOutput>) {
        match e {
            Event::StateChanged { phase, to, .. } => {
                out.push(TunnelOutput::Event(TunnelEvent::Phase { phase, state: to }));
            }
            Event::Phase1Up {
                icookie,
                rcookie,
                role,
                proposal,
                lifetime,
                nat,
                remote,
            } => {
                info!(tunnel = %self.name, %remote, ?role, %proposal, "phase 1 up");
                self.nat = nat;
                self.phase1 = Some(Phase1Info {
                    icookie,
                    rcookie,
                    role,
                    proposal,
                    lifetime,
                    up_at: now,
                });
            }
            Event::Phase1Down { icookie, .. } => {
                if self.phase1.as_ref().is_some_and(|p| p.icookie == icookie) {
                    self.phase1 = None;
                }
            }
            Event::ChildSaUp(info) => {
                let first = !self.is_up();
                let rekey_of_ours = info.replaces.is_some_and(|old| {
                    self.children.iter().any(|c| c.spi_in == old && c.is_live())
                });
                match ChildSa::install(&info, self.replay_window, rekey_of_ours, now) {
                    Ok(child) => {
                        info!(
                            tunnel = %self.name,
                            spi_in = format_args!("{:#010x}", child.spi_in),
                            spi_out = format_args!("{:#010x}", child.spi_out),
                            proposal = %child.proposal,
                            udp = child.udp_encapsulation,
                            "child SA installed"
                        );
                        self.children.push(child);
                        if first {
                            out.push(TunnelOutput::Event(TunnelEvent::IpsecUp));
                        }
                    }
                    Err(e) => self.error(format!("cannot install child SA: {e}"), out),
                }
            }
            Event::ChildSaDeleted { spi_in, reason, .. } => {
                let Some(pos) = self.children.iter().position(|c| c.spi_in == spi_in) else {
                    return;
                };
                info!(tunnel = %self.name, spi_in = format_args!("{spi_in:#010x}"), %reason, "child SA deleted");
                let newer_live = self
                    .children
                    .iter()
                    .any(|c| c.is_live() && c.spi_in != spi_in);
                if newer_live {
                    if let Some(c) = self.children.get_mut(pos) {
                        c.draining_until.get_or_insert(now + child_sa::DRAIN);
                    }
                    return;
                }
                // The last live pair: the tunnel is down, drains included.
                for c in self.children.drain(..) {
                    child_sa::add(&mut self.retired, &c.counters());
                }
                out.push(TunnelOutput::Event(TunnelEvent::IpsecDown { reason }));
            }
            Event::PeerDead { reason } | Event::Error { reason } => self.error(reason, out),
        }
    }

    fn error(&mut self, reason: String, out: &mut Vec<TunnelOutput>) {
        self.last_error = Some(reason.clone());
        out.push(TunnelOutput::Event(TunnelEvent::Error(reason)));
    }
}
