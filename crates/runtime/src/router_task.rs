//! One emulated router: a tokio task that owns a sans-IO
//! [`hybridlab_bgp::router::Router`] and carries out its I/O.
//!
//! ```text
//!  virtual links ─┐                      ┌─► Wire ─► far router's inbox
//!  TCP readers ───┼─► inbox ─► Router ───┼─► Wire ─► TCP writer task
//!  listeners ─────┤   (Event)    core    ├─► timers (in this task)
//!  control API ───┘                      └─► status, events, logs
//! ```
//!
//! Everything the core sees arrives through the inbox or the timer queue,
//! one at a time, so the core needs no locks and a run is reproducible.

use crate::bfd::{Bfd, BfdKey, BfdPath};
use crate::cloud::{CloudEvent, CloudInbox};
use crate::events::{Events, LabEvent, LabEventKind};
use crate::ipsec::{DatagramPath, Tunnels};
use crate::status::PeerStatus;
use crate::tcp;
use crate::timers::Timers;
use crate::view::{BfdView, RouteView, RouterBfdView, SessionView, TunnelEndView};
use crate::wire::{LinkId, Wire, WireEventKind};
use bytes::Bytes;
use hybridlab_bfd::{DownCause, Input as BfdInput, Output as BfdOutput, State as BfdState};
use hybridlab_bgp::packet::notification::cease_subcode;
use hybridlab_bgp::packet::{PathAttributes, Prefix};
use hybridlab_bgp::router::{PeerId, Router, RouterOutput};
use hybridlab_bgp::session::{
    ConnId, IdleReason, SessionInput, SessionOutput, State as SessionState, TimerKind,
};
use hybridlab_cloud::fabric::{CloudPeer, SessionRoutes};
use hybridlab_ipsec_tunnel::{TunnelEvent, TunnelInput, TunnelOutput};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// How long shutdown waits for TCP writers to flush the last NOTIFICATIONs.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) type Inbox = mpsc::UnboundedSender<Event>;

/// Everything a router task reacts to, besides its own timers.
pub(crate) enum Event {
    Received {
        conn: ConnId,
        data: Bytes,
        /// Held until the bytes are processed: a kernel connection's reader
        /// has only so many (see `tcp::MAX_QUEUED_CHUNKS`). `None` on
        /// virtual links, whose sender is another router task.
        credit: Option<tokio::sync::OwnedSemaphorePermit>,
    },
    Closed {
        conn: ConnId,
    },
    /// The far end of a virtual link opens a connection to our neighbour
    /// `neighbor` (an index into the topology's neighbour list).
    VirtualOpen {
        neighbor: usize,
        conn: ConnId,
        far: VirtualEnd,
        attempt: u64,
    },
    VirtualAccepted {
        neighbor: usize,
        attempt: u64,
        conn: ConnId,
        far: VirtualEnd,
    },
    VirtualRefused {
        neighbor: usize,
        attempt: u64,
    },
    TcpInbound {
        neighbor: usize,
        stream: TcpStream,
    },
    TcpConnected {
        neighbor: usize,
        attempt: u64,
        result: io::Result<TcpStream>,
    },
    /// A BFD Control packet (a UDP payload) and the TTL it arrived with.
    BfdReceived {
        from: BfdKey,
        data: Bytes,
        ttl: u8,
    },
    /// A datagram for the IPsec tunnel of neighbour `slot`: from the far
    /// end's router task (already through the wire) or from a kernel
    /// socket (not yet).
    TunnelUdp {
        slot: usize,
        from: SocketAddr,
        to: SocketAddr,
        bytes: Bytes,
    },
    /// Plain ESP (IP protocol 50, IPv4 header stripped) for the tunnel of
    /// neighbour `slot`, from its raw socket (not yet through the wire).
    TunnelEsp {
        slot: usize,
        from: IpAddr,
        to: IpAddr,
        bytes: Bytes,
    },
    Command(Command),
}

/// Requests from the control API. Each is answered between two events, so
/// readers never hold the router still.
pub(crate) enum Command {
    Sessions(oneshot::Sender<Vec<SessionView>>),
    Routes(oneshot::Sender<Vec<RouteView>>),
    Bfd(oneshot::Sender<(Vec<BfdView>, RouterBfdView)>),
    Announce {
        prefix: Prefix,
        attrs: PathAttributes,
        reply: oneshot::Sender<()>,
    },
    Withdraw {
        prefix: Prefix,
        reply: oneshot::Sender<()>,
    },
    Clear {
        neighbor: usize,
        reply: oneshot::Sender<()>,
    },
    /// Cease / Administrative Shutdown to every peer, flush, stop.
    Shutdown(oneshot::Sender<()>),
    /// A cloud speaker's session must announce exactly these (from the
    /// cloud task; the router runs in controlled-export mode).
    SetPeerRoutes {
        peer: PeerId,
        routes: Vec<(Prefix, PathAttributes)>,
    },
    /// Every IPsec tunnel end of this router.
    Tunnels(oneshot::Sender<Vec<TunnelEndView>>),
    /// An IKE command for the tunnel of neighbour `neighbor` (a drill);
    /// answers whether that neighbour has a tunnel.
    TunnelIke {
        neighbor: usize,
        command: hybridlab_ike::Command,
        reply: oneshot::Sender<bool>,
    },
}

/// A cloud speaker's line to the cloud task: which of its neighbours are
/// cloud sessions, and what the cloud task last heard of each.
pub(crate) struct CloudLink {
    pub inbox: CloudInbox,
    /// Per slot: the cloud session it is, if any.
    pub peers: Vec<Option<CloudPeer>>,
    generation: Option<u64>,
    reported: HashMap<usize, SessionRoutes>,
}

impl CloudLink {
    pub(crate) fn new(inbox: CloudInbox, peers: Vec<Option<CloudPeer>>) -> Self {
        CloudLink {
            inbox,
            peers,
            generation: None,
            reported: HashMap::new(),
        }
    }
}

/// The other end of a virtual connection.
#[derive(Clone, Debug)]
pub(crate) struct VirtualEnd {
    pub inbox: Inbox,
    pub conn: ConnId,
}

/// How a neighbour is reached.
#[derive(Clone, Debug)]
pub(crate) enum Transport {
    Virtual {
        /// Index of the far router, and of us among its neighbours.
        far_router: usize,
        far_neighbor: usize,
        local: IpAddr,
        remote: IpAddr,
    },
    Tcp {
        remote: SocketAddr,
        local: Option<IpAddr>,
        ttl: u8,
        md5: Option<String>,
    },
    /// Inside an IPsec tunnel: the router's [`Tunnels`] carry the bytes.
    Tunnel,
}

/// One configured neighbour of this router.
#[derive(Debug)]
pub(crate) struct Slot {
    pub name: String,
    /// The neighbour's BGP peer in the core; `None` for a tunnel-only
    /// neighbour (a static VPN's IPsec tunnel), which runs no session.
    pub peer: Option<PeerId>,
    pub link: LinkId,
    pub transport: Transport,
    pub accepts: bool,
    pub status: PeerStatus,
    /// The outbound attempt in flight; answers to older ones are dropped.
    attempt: u64,
    connecting: Option<AbortHandle>,
}

impl Slot {
    pub(crate) fn new(
        name: String,
        peer: Option<PeerId>,
        link: LinkId,
        transport: Transport,
        accepts: bool,
        status: PeerStatus,
    ) -> Self {
        Slot {
            name,
            peer,
            link,
            transport,
            accepts,
            status,
            attempt: 0,
            connecting: None,
        }
    }
}

enum ConnIo {
    Virtual(VirtualEnd),
    Tcp {
        tx: mpsc::UnboundedSender<Bytes>,
        reader: AbortHandle,
    },
}

struct Conn {
    slot: usize,
    /// We initiated it (for collision drills: which connection survived).
    outbound: bool,
    io: ConnIo,
}

pub(crate) struct RouterTask {
    pub name: String,
    pub core: Router,
    pub slots: Vec<Slot>,
    pub inbox_tx: Inbox,
    pub inbox: mpsc::UnboundedReceiver<Event>,
    /// Every router's inbox, by topology index (for virtual links).
    pub peers_inboxes: Arc<Vec<Inbox>>,
    pub wire: Wire,
    pub events: Events,
    /// ConnIds are unique across the lab, so either end of a virtual link
    /// can number both sides.
    pub conn_ids: Arc<AtomicU64>,
    timers: Timers<(PeerId, TimerKind)>,
    pub bfd: Bfd,
    /// Set on cloud speakers (VGW, DX gateway, public VIF).
    pub cloud: Option<CloudLink>,
    /// The IPsec tunnels of neighbours with `Transport::Tunnel`.
    pub tunnels: Tunnels,
    conns: HashMap<ConnId, Conn>,
    by_peer: HashMap<PeerId, usize>,
    writers: Vec<JoinHandle<()>>,
}

impl RouterTask {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        core: Router,
        slots: Vec<Slot>,
        inbox_tx: Inbox,
        inbox: mpsc::UnboundedReceiver<Event>,
        peers_inboxes: Arc<Vec<Inbox>>,
        wire: Wire,
        events: Events,
        conn_ids: Arc<AtomicU64>,
    ) -> Self {
        let by_peer = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.peer?, i)))
            .collect();
        RouterTask {
            name,
            core,
            slots,
            inbox_tx,
            inbox,
            peers_inboxes,
            wire,
            events,
            conn_ids,
            timers: Timers::default(),
            bfd: Bfd::default(),
            cloud: None,
            tunnels: Tunnels::default(),
            conns: HashMap::new(),
            by_peer,
            writers: Vec::new(),
        }
    }

    /// Runs until shut down, or until every sender of the inbox is gone.
    pub(crate) async fn run(mut self, networks: Vec<(Prefix, PathAttributes)>) {
        // Tunnels first: the sessions inside them connect through them.
        self.start_tunnels();
        let mut out = Vec::new();
        for (prefix, attrs) in networks {
            self.core.announce(prefix, attrs, &mut out);
        }
        self.core.start(&mut out);
        self.apply(out);
        // Like FRR and BIRD: BFD runs from the start, whatever BGP does.
        let neighbors: Vec<usize> = self.bfd.links.keys().copied().collect();
        for neighbor in neighbors {
            self.feed_bfd(BfdKey::Neighbor(neighbor), BfdInput::Start);
        }
        loop {
            self.report_to_cloud();
            let deadline = earliest(
                earliest(self.timers.next_deadline(), self.bfd.timers.next_deadline()),
                self.tunnels.timers.next_deadline(),
            );
            let event = tokio::select! {
                biased;
                event = self.inbox.recv() => event,
                () = sleep_until(deadline) => {
                    self.fire_timers();
                    continue;
                }
            };
            match event {
                Some(Event::Command(Command::Shutdown(reply))) => {
                    self.shutdown().await;
                    let _ = reply.send(());
                    return;
                }
                Some(event) => self.handle(event),
                None => return,
            }
        }
    }

    /// Every timer due now, BGP, BFD and tunnels, in deadline order (on a
    /// tie BFD first, then tunnels: a path found dead takes its BGP session
    /// down before BGP acts).
    fn fire_timers(&mut self) {
        let now = Instant::now();
        loop {
            let due = [
                (self.bfd.timers.next_deadline(), 0),
                (self.tunnels.timers.next_deadline(), 1),
                (self.timers.next_deadline(), 2),
            ]
            .into_iter()
            .filter_map(|(at, rank)| at.filter(|at| *at <= now).map(|at| (at, rank)))
            .min();
            match due {
                None => return,
                Some((_, 0)) => {
                    if let Some((key, kind)) = self.bfd.timers.pop_due(now) {
                        self.feed_bfd(key, BfdInput::TimerExpired(kind));
                    }
                }
                Some((_, 1)) => {
                    if let Some(slot) = self.tunnels.timers.pop_due(now) {
                        self.tunnel_input(slot, TunnelInput::Tick);
                    }
                }
                Some(_) => self.fire_bgp_timer(now),
            }
        }
    }

    fn fire_bgp_timer(&mut self, now: Instant) {
        if let Some((peer, kind)) = self.timers.pop_due(now) {
            debug!(router = %self.name, neighbor = %self.peer_name(peer), timer = ?kind, "timer expired");
            if kind == TimerKind::PrefixRestart && self.hold_restart_for_bfd(peer) {
                return;
            }
            self.feed(peer, SessionInput::TimerExpired(kind));
        }
    }

    /// A prefix-limit restart must not bring BGP back over a path BFD has
    /// found dead (RFC 5882 §3.2): the session stays parked and BFD's
    /// return to Up starts it, as after a BFD teardown.
    fn hold_restart_for_bfd(&mut self, peer: PeerId) -> bool {
        let Some(&neighbor) = self.by_peer.get(&peer) else {
            return false;
        };
        let failed = self
            .bfd
            .table
            .get(&BfdKey::Neighbor(neighbor))
            .is_some_and(|s| {
                !s.is_up() && s.view().last_down_cause.is_some_and(DownCause::is_failure)
            });
        if !failed {
            return false;
        }
        if let Some(link) = self.bfd.links.get_mut(&neighbor) {
            link.holding_bgp = true;
        }
        info!(router = %self.name, neighbor = %self.peer_name(peer), "prefix-limit restart held: BFD is down");
        true
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Received { conn, data, credit } => {
                if let Some(slot) = self.conns.get(&conn).map(|c| c.slot) {
                    self.feed_slot(slot, SessionInput::Received { conn, data });
                }
                drop(credit);
            }
            Event::Closed { conn } => {
                if let Some(c) = self.conns.remove(&conn) {
                    if let ConnIo::Tcp { reader, .. } = &c.io {
                        reader.abort();
                    }
                    self.feed_slot(c.slot, SessionInput::Closed { conn });
                }
            }
            Event::VirtualOpen {
                neighbor,
                conn,
                far,
                attempt,
            } => self.virtual_open(neighbor, conn, far, attempt),
            Event::VirtualAccepted {
                neighbor,
                attempt,
                conn,
                far,
            } => {
                let current = self
                    .slots
                    .get(neighbor)
                    .is_some_and(|s| s.attempt == attempt);
                if current {
                    self.add_virtual_conn(neighbor, conn, far, true);
                } else if let Some(link) = self.slots.get(neighbor).map(|s| s.link.clone()) {
                    // A stale attempt: hang up at once, as TCP would on an
                    // unwanted late SYN-ACK.
                    if self
                        .wire
                        .transmit(&link, Some(&self.name), WireEventKind::Close)
                    {
                        let _ = far.inbox.send(Event::Closed { conn: far.conn });
                    }
                }
            }
            Event::VirtualRefused { neighbor, attempt } => {
                if self
                    .slots
                    .get(neighbor)
                    .is_some_and(|s| s.attempt == attempt)
                {
                    self.feed_slot(neighbor, SessionInput::ConnectFailed);
                }
            }
            Event::TcpInbound { neighbor, stream } => self.add_tcp_conn(neighbor, stream, false),
            Event::TcpConnected {
                neighbor,
                attempt,
                result,
            } => {
                let Some(slot) = self.slots.get_mut(neighbor) else {
                    return;
                };
                if slot.attempt != attempt {
                    return;
                }
                slot.connecting = None;
                match result {
                    Ok(stream) => self.add_tcp_conn(neighbor, stream, true),
                    Err(e) => {
                        info!(router = %self.name, neighbor = %slot.name, error = %e, "connect failed");
                        self.feed_slot(neighbor, SessionInput::ConnectFailed);
                    }
                }
            }
            Event::BfdReceived { from, data, ttl } => self.bfd_received(from, &data, ttl),
            Event::TunnelUdp {
                slot,
                from,
                to,
                bytes,
            } => self.tunnel_received(slot, from, to, bytes),
            Event::TunnelEsp {
                slot,
                from,
                to,
                bytes,
            } => self.tunnel_esp_received(slot, from, to, bytes),
            Event::Command(cmd) => self.command(cmd),
        }
    }

    fn command(&mut self, cmd: Command) {
        let mut out = Vec::new();
        match cmd {
            Command::Sessions(reply) => {
                let now = Instant::now();
                let views = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| {
                        let mut v = s.status.view(&self.name, now, &self.core, s.peer?)?;
                        v.bfd_state = self.bfd.state(i).map(|st| st.to_string());
                        if self.holding_bgp(i) && v.state == "Idle" {
                            v.idle_reason = Some("bfd down".to_string());
                        }
                        Some(v)
                    })
                    .collect();
                let _ = reply.send(views);
            }
            Command::Bfd(reply) => {
                let now = Instant::now();
                let views = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| self.bfd.view(&self.name, i, &s.name, now))
                    .collect();
                let router = RouterBfdView {
                    router: self.name.clone(),
                    unattributed_drops: crate::view::drop_counts(
                        self.bfd.table.unattributed_drops(),
                    ),
                };
                let _ = reply.send((views, router));
            }
            Command::Routes(reply) => {
                let _ = reply.send(crate::status::routes(&self.core));
            }
            Command::Announce {
                prefix,
                attrs,
                reply,
            } => {
                info!(router = %self.name, %prefix, "announce");
                self.core.announce(prefix, attrs, &mut out);
                let _ = reply.send(());
            }
            Command::Withdraw { prefix, reply } => {
                info!(router = %self.name, %prefix, "withdraw");
                self.core.withdraw(prefix, &mut out);
                let _ = reply.send(());
            }
            Command::Clear { neighbor, reply } => {
                if let Some((slot, peer)) =
                    self.slots.get(neighbor).and_then(|s| Some((s, s.peer?)))
                {
                    if self.holding_bgp(neighbor) {
                        // BFD says the path is dead: a restart could only
                        // fail, and would break the promise to stay Idle.
                        info!(router = %self.name, neighbor = %slot.name, "clear ignored: BGP is held down until BFD is Up");
                    } else {
                        info!(router = %self.name, neighbor = %slot.name, "clear");
                        self.core.clear(peer, &mut out);
                    }
                }
                let _ = reply.send(());
            }
            Command::Shutdown(reply) => {
                let _ = reply.send(());
            }
            Command::SetPeerRoutes { peer, routes } => {
                debug!(router = %self.name, neighbor = %self.peer_name(peer), routes = routes.len(), "cloud export");
                self.core.set_peer_routes(peer, routes, &mut out);
            }
            Command::Tunnels(reply) => {
                let views = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| self.tunnels.view(&self.name, i, &s.name))
                    .collect();
                let _ = reply.send(views);
            }
            Command::TunnelIke {
                neighbor,
                command,
                reply,
            } => {
                let exists = self.tunnels.runs.contains_key(&neighbor);
                if exists {
                    let name = self.slots.get(neighbor).map_or("?", |s| s.name.as_str());
                    info!(router = %self.name, neighbor = %name, ?command, "IKE command");
                    self.tunnel_input(neighbor, TunnelInput::Command(command));
                }
                let _ = reply.send(exists);
            }
        }
        self.apply(out);
    }

    /// Tells the cloud task about every cloud session whose state or
    /// accepted routes changed since the last report.
    fn report_to_cloud(&mut self) {
        let Some(cloud) = &mut self.cloud else {
            return;
        };
        let generation = self.core.generation();
        if cloud.generation == Some(generation) {
            return;
        }
        cloud.generation = Some(generation);
        for (slot, peer) in cloud.peers.iter().enumerate() {
            // A tunnel-only neighbour has no session: the cloud follows its
            // IPsec alone.
            let (Some(peer), Some(bgp_peer)) = (peer, self.slots.get(slot).and_then(|s| s.peer))
            else {
                continue;
            };
            let established = self
                .core
                .session(bgp_peer)
                .is_some_and(|session| session.state() == SessionState::Established);
            let routes = if established {
                self.core.peer_routes(bgp_peer)
            } else {
                Vec::new()
            };
            let state = SessionRoutes {
                established,
                routes,
            };
            if cloud.reported.get(&slot) == Some(&state) {
                continue;
            }
            let event = CloudEvent::Session {
                peer: peer.clone(),
                state: state.clone(),
            };
            if cloud.inbox.send(event).is_ok() {
                cloud.reported.insert(slot, state);
            }
        }
    }

    async fn shutdown(&mut self) {
        info!(router = %self.name, "shutting down: Cease / Administrative Shutdown to every peer");
        // RFC 5882 §3.2: BFD AdminDown first, so peers read the end of the
        // sessions as deliberate and not as a path failure.
        let neighbors: Vec<usize> = self.bfd.links.keys().copied().collect();
        for neighbor in neighbors {
            self.feed_bfd(BfdKey::Neighbor(neighbor), BfdInput::AdminDown);
        }
        let mut out = Vec::new();
        self.core.shutdown(&mut out);
        self.apply(out);
        // The NOTIFICATIONs above left through the tunnels; now tell each
        // IKE peer the SAs are gone (RFC 2409 §5.7 deletes).
        let tunnels: Vec<usize> = self.tunnels.runs.keys().copied().collect();
        for slot in tunnels {
            self.tunnel_input(slot, TunnelInput::Command(hybridlab_ike::Command::Stop));
        }
        self.tunnels.stop_readers();
        // Hang up whatever the core left open, then let writers flush.
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close(conn);
        }
        for slot in &mut self.slots {
            if let Some(c) = slot.connecting.take() {
                c.abort();
            }
        }
        let writers = std::mem::take(&mut self.writers);
        let _ = tokio::time::timeout(FLUSH_TIMEOUT, async {
            for w in writers {
                let _ = w.await;
            }
        })
        .await;
    }

    fn feed(&mut self, peer: PeerId, input: SessionInput) {
        let mut out = Vec::new();
        self.core.handle(peer, input, &mut out);
        self.apply(out);
    }

    fn feed_slot(&mut self, slot: usize, input: SessionInput) {
        if let Some(peer) = self.slots.get(slot).and_then(|s| s.peer) {
            self.feed(peer, input);
        }
    }

    fn peer_name(&self, peer: PeerId) -> &str {
        self.by_peer
            .get(&peer)
            .and_then(|i| self.slots.get(*i))
            .map_or("?", |s| s.name.as_str())
    }

    /// Carries out the core's I/O requests, in order.
    fn apply(&mut self, outputs: Vec<RouterOutput>) {
        for RouterOutput { peer, action } in outputs {
            let Some(&slot) = self.by_peer.get(&peer) else {
                warn!(router = %self.name, peer, "output for an unknown peer");
                continue;
            };
            match action {
                action @ (SessionOutput::Connect
                | SessionOutput::Send { .. }
                | SessionOutput::Close { .. })
                    if self.tunnels.runs.contains_key(&slot) =>
                {
                    if matches!(action, SessionOutput::Connect) {
                        self.publish_connect_attempt(slot);
                    }
                    self.tunnel_input(slot, TunnelInput::Bgp(action));
                }
                SessionOutput::Connect => self.connect(slot),
                SessionOutput::Send { conn, data } => self.send(conn, data),
                SessionOutput::Close { conn } => self.close(conn),
                SessionOutput::StartTimer { timer, after } => {
                    self.timers.start((peer, timer), Instant::now(), after)
                }
                SessionOutput::StopTimer(timer) => self.timers.stop((peer, timer)),
                other => self.observe(slot, other),
            }
        }
    }

    /// Outputs that are news rather than I/O: status, logs, events.
    fn observe(&mut self, slot: usize, output: SessionOutput) {
        let now = Instant::now();
        let outbound = match &output {
            SessionOutput::Established(n) => {
                self.conns.get(&n.conn).is_some_and(|c| c.outbound)
                    || self.tunnels.outbound.contains(&n.conn)
            }
            _ => false,
        };
        let Some(s) = self.slots.get_mut(slot) else {
            return;
        };
        let kind = match &output {
            SessionOutput::StateChanged { from, to } => {
                info!(router = %self.name, neighbor = %s.name, from = ?from, to = ?to, "session state");
                Some(LabEventKind::StateChanged {
                    from: *from,
                    to: *to,
                })
            }
            SessionOutput::Established(n) => {
                info!(router = %self.name, neighbor = %s.name, hold_time = n.hold_time, keepalive = n.keepalive, remote_id = %n.remote_id, "established");
                Some(LabEventKind::Established {
                    hold_time: n.hold_time,
                    keepalive: n.keepalive,
                    remote_id: n.remote_id,
                    outbound,
                })
            }
            SessionOutput::Down(reason) => {
                let text = s.status.describe_down(reason);
                warn!(router = %self.name, neighbor = %s.name, reason = %text, "session down");
                Some(LabEventKind::Down(text))
            }
            SessionOutput::Update(u) => {
                debug!(router = %self.name, neighbor = %s.name, announced = u.announced().count(), withdrawn = u.withdrawn_prefixes().count(), "update");
                None
            }
            _ => None,
        };
        s.status.observe(&output, now);
        if let Some(kind) = kind {
            self.events.publish(LabEvent {
                at: now,
                router: self.name.clone(),
                neighbor: s.name.clone(),
                kind,
            });
        }
    }

    // ---- BFD ----------------------------------------------------------

    fn holding_bgp(&self, neighbor: usize) -> bool {
        self.bfd.links.get(&neighbor).is_some_and(|l| l.holding_bgp)
    }

    fn bfd_received(&mut self, from: BfdKey, data: &Bytes, ttl: u8) {
        // Datagrams from external peers pass the wire here, as TCP bytes do
        // in their reader; virtual links passed it at the sender.
        if let BfdKey::Neighbor(n) = from {
            let external = self
                .bfd
                .links
                .get(&n)
                .is_some_and(|l| matches!(l.path, BfdPath::Udp(_)));
            if let (true, Some(slot)) = (external, self.slots.get(n)) {
                if !self
                    .wire
                    .transmit(&slot.link, None, WireEventKind::Bfd(data.clone()))
                {
                    return;
                }
            }
        }
        let mut out = Vec::new();
        if let Err(reason) = self.bfd.table.receive(&from, data, ttl, &mut out) {
            debug!(router = %self.name, ?from, ?reason, "BFD packet dropped");
        }
        self.apply_bfd(from, out);
        // RFC 5882 §3.2: a peer that went AdminDown switched BFD off on
        // purpose; BGP no longer waits for it.
        if let BfdKey::Neighbor(n) = from {
            let admin_down = self
                .bfd
                .table
                .get(&from)
                .is_some_and(|s| s.view().remote_state == BfdState::AdminDown);
            if admin_down && self.holding_bgp(n) {
                self.release_bgp(n);
            }
        }
    }

    fn feed_bfd(&mut self, key: BfdKey, input: BfdInput) {
        let mut out = Vec::new();
        self.bfd.table.handle(&key, input, &mut out);
        self.apply_bfd(key, out);
    }

    fn apply_bfd(&mut self, key: BfdKey, outputs: Vec<BfdOutput>) {
        let BfdKey::Neighbor(neighbor) = key else {
            return;
        };
        for output in outputs {
            match output {
                BfdOutput::Send(data) => self.bfd_send(neighbor, data),
                BfdOutput::StartTimer { timer, after } => {
                    self.bfd.timers.start((key, timer), Instant::now(), after)
                }
                BfdOutput::StopTimer(timer) => self.bfd.timers.stop((key, timer)),
                BfdOutput::StateChanged {
                    from,
                    to,
                    diagnostic,
                } => self.bfd_state_changed(neighbor, from, to, diagnostic.to_string()),
                BfdOutput::LeftUp { cause } => self.bfd_left_up(neighbor, cause),
                BfdOutput::Dropped(reason) => {
                    debug!(router = %self.name, neighbor, ?reason, "BFD packet dropped")
                }
            }
        }
    }

    fn bfd_send(&mut self, neighbor: usize, data: Bytes) {
        let (Some(link), Some(slot)) = (self.bfd.links.get(&neighbor), self.slots.get(neighbor))
        else {
            return;
        };
        if !self.wire.transmit(
            &slot.link,
            Some(&self.name),
            WireEventKind::Bfd(data.clone()),
        ) {
            return;
        }
        match &link.path {
            BfdPath::Virtual {
                far_router,
                far_neighbor,
            } => {
                if let Some(far) = self.peers_inboxes.get(*far_router) {
                    // A virtual link is one hop: the packet arrives with the
                    // TTL it left with (RFC 5881 §5).
                    let _ = far.send(Event::BfdReceived {
                        from: BfdKey::Neighbor(*far_neighbor),
                        data,
                        ttl: hybridlab_bfd::session::SINGLE_HOP_TTL,
                    });
                }
            }
            BfdPath::Udp(socket) => {
                if let Err(e) = socket.try_send(&data) {
                    debug!(router = %self.name, neighbor = %slot.name, error = %e, "BFD send failed");
                }
            }
        }
    }

    fn bfd_state_changed(
        &mut self,
        neighbor: usize,
        from: BfdState,
        to: BfdState,
        diagnostic: String,
    ) {
        if let Some(link) = self.bfd.links.get_mut(&neighbor) {
            link.changed();
        }
        let name = self
            .slots
            .get(neighbor)
            .map_or_else(String::new, |s| s.name.clone());
        info!(router = %self.name, neighbor = %name, %from, %to, %diagnostic, "BFD state");
        self.events.publish(LabEvent {
            at: Instant::now(),
            router: self.name.clone(),
            neighbor: name,
            kind: LabEventKind::BfdStateChanged {
                from,
                to,
                diagnostic,
            },
        });
        if to == BfdState::Up && self.holding_bgp(neighbor) {
            self.release_bgp(neighbor);
        }
    }

    /// RFC 5882 §3.2, RFC 9384: the path failed, so the BGP session goes
    /// down now with Cease / BFD Down, and stays Idle until BFD is Up.
    fn bfd_left_up(&mut self, neighbor: usize, cause: DownCause) {
        let name = self.name.clone();
        let Some(slot) = self.slots.get_mut(neighbor) else {
            return;
        };
        let cause_text = crate::bfd::down_cause_text(cause);
        if !cause.is_failure() {
            info!(router = %name, neighbor = %slot.name, cause = %cause_text, "BFD left Up without a path failure: BGP left alone");
            return;
        }
        let Some(peer) = slot.peer else {
            return;
        };
        let parked = self.core.session(peer).and_then(|s| s.idle_reason());
        if parked == Some(IdleReason::PrefixLimit) {
            // Already down, and waiting for an operator: a restart when BFD
            // returns would undo the prefix limit.
            return;
        }
        warn!(router = %name, neighbor = %slot.name, cause = %cause_text, "BFD down: BGP session torn down with Cease / BFD Down, Idle until BFD is Up");
        slot.status.bfd_teardown = Some(cause);
        if let Some(link) = self.bfd.links.get_mut(&neighbor) {
            link.holding_bgp = true;
        }
        self.feed(
            peer,
            SessionInput::Stop {
                subcode: cease_subcode::BFD_DOWN,
            },
        );
        if let Some(slot) = self.slots.get_mut(neighbor) {
            slot.status.bfd_teardown = None;
        }
    }

    fn release_bgp(&mut self, neighbor: usize) {
        if let Some(link) = self.bfd.links.get_mut(&neighbor) {
            link.holding_bgp = false;
        }
        if let Some(slot) = self.slots.get(neighbor) {
            info!(router = %self.name, neighbor = %slot.name, "BFD Up again: BGP session starts");
        }
        self.feed_slot(neighbor, SessionInput::Start);
    }

    // ---- IPsec tunnels -------------------------------------------------

    fn start_tunnels(&mut self) {
        let slots: Vec<usize> = self.tunnels.runs.keys().copied().collect();
        for slot in slots {
            let now = self.tunnels.now();
            let mut out = Vec::new();
            if let Some(run) = self.tunnels.runs.get_mut(&slot) {
                run.engine.start(now, &mut out);
            }
            self.tunnels.rearm(slot);
            self.apply_tunnel(slot, out);
        }
    }

    /// One input into the tunnel of neighbour `slot`, and its outputs
    /// carried out.
    fn tunnel_input(&mut self, slot: usize, input: TunnelInput) {
        let now = self.tunnels.now();
        let conn_ids = Arc::clone(&self.conn_ids);
        let mut next_conn = move || conn_ids.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        let Some(run) = self.tunnels.runs.get_mut(&slot) else {
            return;
        };
        run.engine.handle(now, input, &mut next_conn, &mut out);
        self.tunnels.rearm(slot);
        self.apply_tunnel(slot, out);
    }

    fn apply_tunnel(&mut self, slot: usize, outputs: Vec<TunnelOutput>) {
        for output in outputs {
            match output {
                TunnelOutput::Udp { from, to, bytes } => self.tunnel_send(slot, from, to, bytes),
                TunnelOutput::Bgp(input) => {
                    match &input {
                        SessionInput::Connected {
                            conn,
                            outbound: true,
                            ..
                        } => {
                            self.tunnels.outbound.insert(*conn);
                        }
                        SessionInput::Closed { conn } => {
                            self.tunnels.outbound.remove(conn);
                        }
                        _ => {}
                    }
                    self.feed_slot(slot, input);
                }
                TunnelOutput::Event(event) => self.tunnel_event(slot, event),
                // Plain ESP: an SA toward a real peer without NAT (the
                // lab's own initiators force UDP encapsulation).
                TunnelOutput::Esp { from, to, bytes } => {
                    self.tunnel_esp_send(slot, from, to, bytes)
                }
                // Inner packets for hosts behind this end have nowhere to go.
                TunnelOutput::Inner(_) => {
                    debug!(router = %self.name, slot, "tunnel packet without a path dropped");
                }
            }
        }
    }

    fn tunnel_send(&mut self, slot: usize, from: SocketAddr, to: SocketAddr, bytes: Bytes) {
        let (Some(s), Some(run)) = (self.slots.get(slot), self.tunnels.runs.get(&slot)) else {
            return;
        };
        let kind = WireEventKind::Datagram {
            from,
            to,
            bytes: bytes.clone(),
        };
        if !self.wire.transmit(&s.link, Some(&self.name), kind) {
            return;
        }
        match &run.path {
            DatagramPath::Virtual {
                far_router,
                far_neighbor,
            } => {
                if let Some(far) = self.peers_inboxes.get(*far_router) {
                    let _ = far.send(Event::TunnelUdp {
                        slot: *far_neighbor,
                        from,
                        to,
                        bytes,
                    });
                }
            }
            DatagramPath::Kernel { udp, .. } => udp.send(from, to, &bytes),
        }
    }

    /// Plain ESP out of the raw socket. The wire shows it as a datagram
    /// with port 0 (protocol 50 has no ports), as the tunnel core names
    /// ESP's source.
    fn tunnel_esp_send(&mut self, slot: usize, from: IpAddr, to: IpAddr, bytes: Bytes) {
        let (Some(s), Some(run)) = (self.slots.get(slot), self.tunnels.runs.get(&slot)) else {
            return;
        };
        let DatagramPath::Kernel { esp, .. } = &run.path else {
            debug!(router = %self.name, slot, "plain ESP between emulated ends dropped");
            return;
        };
        let kind = WireEventKind::Datagram {
            from: SocketAddr::new(from, 0),
            to: SocketAddr::new(to, 0),
            bytes: bytes.clone(),
        };
        if !self.wire.transmit(&s.link, Some(&self.name), kind) {
            return;
        }
        if let Err(dropped) = esp.send(to, &bytes) {
            // Shown by `show tunnels`: the warning at start is easy to miss.
            let e = format!("{dropped} plain ESP packets (IP protocol 50) not sent: raw socket missing or failing (CAP_NET_RAW)");
            if let Some(run) = self.tunnels.runs.get_mut(&slot) {
                run.last_error = Some(e);
            }
        }
    }

    fn tunnel_esp_received(&mut self, slot: usize, from: IpAddr, to: IpAddr, bytes: Bytes) {
        let Some(s) = self.slots.get(slot) else {
            return;
        };
        let kind = WireEventKind::Datagram {
            from: SocketAddr::new(from, 0),
            to: SocketAddr::new(to, 0),
            bytes: bytes.clone(),
        };
        if !self.wire.transmit(&s.link, None, kind) {
            return;
        }
        self.tunnel_input(slot, TunnelInput::Esp { from, to, bytes });
    }

    fn tunnel_received(&mut self, slot: usize, from: SocketAddr, to: SocketAddr, bytes: Bytes) {
        let (Some(s), Some(run)) = (self.slots.get(slot), self.tunnels.runs.get(&slot)) else {
            return;
        };
        // From a real peer the datagram passes the wire here; from an
        // emulated end it passed at the sender.
        if matches!(run.path, DatagramPath::Kernel { .. }) {
            let kind = WireEventKind::Datagram {
                from,
                to,
                bytes: bytes.clone(),
            };
            if !self.wire.transmit(&s.link, None, kind) {
                return;
            }
        }
        self.tunnel_input(slot, TunnelInput::Udp { from, to, bytes });
    }

    fn tunnel_event(&mut self, slot: usize, event: TunnelEvent) {
        let name = self
            .slots
            .get(slot)
            .map_or_else(String::new, |s| s.name.clone());
        let Some(run) = self.tunnels.runs.get_mut(&slot) else {
            return;
        };
        let (up, reason) = match event {
            TunnelEvent::IpsecUp => (true, None),
            TunnelEvent::IpsecDown { reason } => (false, Some(reason)),
            TunnelEvent::Error(e) => {
                warn!(router = %self.name, neighbor = %name, error = %e, "tunnel");
                run.last_error = Some(e);
                return;
            }
            other => {
                debug!(router = %self.name, neighbor = %name, event = ?other, "tunnel");
                return;
            }
        };
        run.ipsec_up = up;
        match &reason {
            None => info!(router = %self.name, neighbor = %name, "IPsec up"),
            Some(r) => warn!(router = %self.name, neighbor = %name, reason = %r, "IPsec down"),
        }
        if let (Some(tunnel), Some(cloud)) = (run.cloud.clone(), &self.cloud) {
            let _ = cloud.inbox.send(CloudEvent::Ipsec { tunnel, up });
        }
        self.events.publish(LabEvent {
            at: Instant::now(),
            router: self.name.clone(),
            neighbor: name,
            kind: LabEventKind::Ipsec { up, reason },
        });
    }

    fn publish_connect_attempt(&mut self, slot: usize) {
        if let Some(s) = self.slots.get(slot) {
            self.events.publish(LabEvent {
                at: Instant::now(),
                router: self.name.clone(),
                neighbor: s.name.clone(),
                kind: LabEventKind::ConnectAttempt,
            });
        }
    }

    fn next_conn_id(&self) -> ConnId {
        self.conn_ids.fetch_add(1, Ordering::Relaxed)
    }

    fn connect(&mut self, slot: usize) {
        let conn_a = self.next_conn_id();
        let conn_b = self.next_conn_id();
        let name = self.name.clone();
        let inbox = self.inbox_tx.clone();
        let Some(s) = self.slots.get_mut(slot) else {
            return;
        };
        s.attempt = s.attempt.wrapping_add(1);
        let attempt = s.attempt;
        if let Some(c) = s.connecting.take() {
            c.abort();
        }
        debug!(router = %name, neighbor = %s.name, attempt, "connect");
        self.events.publish(LabEvent {
            at: Instant::now(),
            router: name.clone(),
            neighbor: s.name.clone(),
            kind: LabEventKind::ConnectAttempt,
        });
        match s.transport.clone() {
            Transport::Virtual {
                far_router,
                far_neighbor,
                ..
            } => {
                // A cut link loses the SYN: the attempt hangs until the
                // session's ConnectRetry timer gives up on it.
                if !self
                    .wire
                    .transmit(&s.link, Some(&name), WireEventKind::Open)
                {
                    return;
                }
                let Some(far) = self.peers_inboxes.get(far_router) else {
                    return;
                };
                let open = Event::VirtualOpen {
                    neighbor: far_neighbor,
                    conn: conn_b,
                    far: VirtualEnd {
                        inbox,
                        conn: conn_a,
                    },
                    attempt,
                };
                if far.send(open).is_err() {
                    // The far router is gone: the connection is refused.
                    let _ = self.inbox_tx.send(Event::VirtualRefused {
                        neighbor: slot,
                        attempt,
                    });
                }
            }
            Transport::Tcp {
                remote,
                local,
                ttl,
                md5,
            } => {
                let task = tokio::spawn(async move {
                    let result = tcp::connect(remote, local, ttl, md5.as_deref()).await;
                    let _ = inbox.send(Event::TcpConnected {
                        neighbor: slot,
                        attempt,
                        result,
                    });
                });
                s.connecting = Some(task.abort_handle());
            }
            // Handled in `apply`; a tunnel slot never gets here.
            Transport::Tunnel => {}
        }
    }

    /// The far end of a virtual link opens a connection to us.
    fn virtual_open(&mut self, neighbor: usize, conn: ConnId, far: VirtualEnd, attempt: u64) {
        let Some(s) = self.slots.get(neighbor) else {
            return;
        };
        let Transport::Virtual { far_neighbor, .. } = s.transport else {
            return;
        };
        if !s.accepts {
            // Nothing listens on this side: the connection is refused (RST).
            let _ = far.inbox.send(Event::VirtualRefused {
                neighbor: far_neighbor,
                attempt,
            });
            return;
        }
        // Tell the initiator first, so that its Connected precedes any
        // bytes we send once our own session sees the connection.
        let _ = far.inbox.send(Event::VirtualAccepted {
            neighbor: far_neighbor,
            attempt,
            conn: far.conn,
            far: VirtualEnd {
                inbox: self.inbox_tx.clone(),
                conn,
            },
        });
        self.add_virtual_conn(neighbor, conn, far, false);
    }

    fn add_virtual_conn(&mut self, slot: usize, conn: ConnId, far: VirtualEnd, outbound: bool) {
        let Some(s) = self.slots.get(slot) else {
            return;
        };
        let Transport::Virtual { local, remote, .. } = s.transport else {
            return;
        };
        self.conns.insert(
            conn,
            Conn {
                slot,
                outbound,
                io: ConnIo::Virtual(far),
            },
        );
        self.feed_slot(
            slot,
            SessionInput::Connected {
                conn,
                outbound,
                local,
                remote,
            },
        );
    }

    fn add_tcp_conn(&mut self, slot: usize, stream: TcpStream, outbound: bool) {
        let Some(s) = self.slots.get(slot) else {
            return;
        };
        let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(l), Ok(r)) => (l.ip().to_canonical(), r.ip().to_canonical()),
            (Err(e), _) | (_, Err(e)) => {
                warn!(router = %self.name, neighbor = %s.name, error = %e, "connection lost before it was used");
                return;
            }
        };
        let conn = self.next_conn_id();
        info!(router = %self.name, neighbor = %s.name, %local, %remote, outbound, "TCP connection up");
        let io = tcp::spawn_connection(
            stream,
            conn,
            s.link.clone(),
            self.wire.clone(),
            self.inbox_tx.clone(),
        );
        self.writers.retain(|w| !w.is_finished());
        self.writers.push(io.writer);
        self.conns.insert(
            conn,
            Conn {
                slot,
                outbound,
                io: ConnIo::Tcp {
                    tx: io.tx,
                    reader: io.reader,
                },
            },
        );
        self.feed_slot(
            slot,
            SessionInput::Connected {
                conn,
                outbound,
                local,
                remote,
            },
        );
    }

    fn send(&mut self, conn: ConnId, data: Bytes) {
        let Some(c) = self.conns.get(&conn) else {
            debug!(router = %self.name, conn, "send on a closed connection");
            return;
        };
        let Some(link) = self.slots.get(c.slot).map(|s| &s.link) else {
            return;
        };
        if !self
            .wire
            .transmit(link, Some(&self.name), WireEventKind::Data(data.clone()))
        {
            return;
        }
        match &c.io {
            ConnIo::Virtual(far) => {
                let _ = far.inbox.send(Event::Received {
                    conn: far.conn,
                    data,
                    credit: None,
                });
            }
            ConnIo::Tcp { tx, .. } => {
                let _ = tx.send(data);
            }
        }
    }

    fn close(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let Some(link) = self.slots.get(c.slot).map(|s| &s.link) else {
            return;
        };
        let delivered = self
            .wire
            .transmit(link, Some(&self.name), WireEventKind::Close);
        match c.io {
            ConnIo::Virtual(far) => {
                if delivered {
                    let _ = far.inbox.send(Event::Closed { conn: far.conn });
                }
            }
            // Dropping the sender lets the writer flush what is queued
            // (a NOTIFICATION, typically) and then shut the socket down.
            ConnIo::Tcp { tx, reader } => {
                drop(tx);
                reader.abort();
            }
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
