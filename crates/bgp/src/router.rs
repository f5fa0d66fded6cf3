//! One BGP speaker, sans-IO: its sessions, its RIB, its policies.
//!
//! The runtime drives a [`Router`] per emulated router node: it turns
//! sockets, virtual links and timers into [`SessionInput`]s addressed by
//! [`PeerId`], and carries out the I/O in the returned [`RouterOutput`]s.
//!
//! ```text
//!   runtime ──SessionInput──▶ Router::handle ──▶ Session (FSM + codec)
//!                                  │                 │ SessionOutput
//!                                  │◀────────────────┘
//!        I/O (Connect, Send, Close, timers) and events ──▶ RouterOutput
//!        Established ─▶ full Adj-RIB-Out + End-of-RIB to that peer
//!        Update      ─▶ import ─▶ decision ─▶ export diffs to every peer
//!        RouteRefresh─▶ that family's Adj-RIB-Out again
//!        Down        ─▶ purge the peer's paths ─▶ export diffs
//! ```
//!
//! In [`ExportMode::Controlled`] the Loc-RIB is kept but never exported:
//! what each peer is sent comes from [`Router::set_peer_routes`] (see
//! [`controlled`]).
//!
//! Messages the router sends (UPDATEs) go back into the peer's session as
//! [`SessionInput::Send`]; the session encodes them and emits the bytes.
//! Work is queued, not recursed: outputs of one session may make the router
//! feed inputs to others, and everything runs to completion before
//! [`Router::handle`] returns.

mod controlled;
mod view;

pub use view::{
    FamilyPrefixCounts, MessageCounts, NotificationView, PrefixCounts, RouteView, SessionView,
};

use crate::packet::{
    family_of, CodecContext, Family, Message, Origin, PathAttributes, Prefix, Update,
};
use crate::policy::Policy;
use crate::rib::{
    family_index, AdjRibIn, AdjRibOut, DecisionContext, ExportTarget, Exporter, ImportContext,
    LocRib, OutBatch, Path, PeerFacts, RouteAttrs, Source,
};
use crate::session::{
    ConnId, IdleReason, Negotiated, Session, SessionConfig, SessionInput, SessionOutput,
};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

/// Index of a peer in its router, in the order peers were added.
pub type PeerId = usize;

/// Cease subcodes the router asks for (RFC 4486 §4).
const CEASE_ADMINISTRATIVE_SHUTDOWN: u8 = 2;
const CEASE_ADMINISTRATIVE_RESET: u8 = 4;

#[derive(Clone, Debug)]
pub struct RouterConfig {
    pub name: String,
    pub asn: u32,
    pub router_id: Ipv4Addr,
    /// Compare MED between routes from different neighbouring ASes too.
    pub always_compare_med: bool,
    pub export_mode: ExportMode,
}

/// Where the routes sent to peers come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportMode {
    /// RFC 4271: every peer gets the Loc-RIB's best paths through the export rules and policy.
    #[default]
    BestPath,
    /// Each peer's Adj-RIB-Out is exactly what `Router::set_peer_routes` says; the Loc-RIB is still kept (for `show routes`) but never exported.
    Controlled,
}

/// Maximum number of prefixes accepted from a peer in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixLimit {
    pub limit: u32,
    /// Restart the session this long after the shutdown; `None`: stay Idle
    /// until cleared.
    pub restart_after: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// Label shown in `show sessions`.
    pub name: String,
    pub session: SessionConfig,
    /// Next hop to put on IPv6 routes sent to this peer; `None`: the
    /// IPv4-mapped form of the local IPv4 address of the connection, or the
    /// local IPv6 address when the session runs over IPv6.
    pub next_hop6: Option<std::net::Ipv6Addr>,
    /// Applied to routes received from this peer. Several policies: use
    /// [`Policy::chain`].
    pub import: Policy,
    /// Applied to routes sent to this peer.
    pub export: Policy,
    pub max_prefix: BTreeMap<Family, PrefixLimit>,
}

/// An I/O action for the runtime, or an event worth logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterOutput {
    pub peer: PeerId,
    pub action: SessionOutput,
}

/// What holds while a peer's session is Established.
#[derive(Debug)]
struct Up {
    negotiated: Negotiated,
    local: IpAddr,
    remote: IpAddr,
    ebgp: bool,
    next_hop4: Ipv4Addr,
    next_hop6: Ipv6Addr,
}

impl Up {
    fn codec(&self) -> CodecContext {
        CodecContext {
            four_octet_as: self.negotiated.four_octet_as,
        }
    }
}

#[derive(Debug)]
struct Peer {
    config: PeerConfig,
    session: Session,
    /// Connections the runtime reported, with (local, remote) addresses;
    /// the Established one tells our address on the session.
    conns: Vec<(ConnId, IpAddr, IpAddr)>,
    up: Option<Up>,
    adj_in: AdjRibIn,
    adj_out: AdjRibOut,
    /// Per family of [`crate::rib::FAMILIES`].
    limits: [Option<u32>; 2],
    /// The prefix limit tripped: ignore the UPDATEs the session still
    /// delivers until it is down.
    limit_tripped: bool,
    last_remote: Option<IpAddr>,
    /// [`ExportMode::Controlled`]: the routes the peer must have, as given
    /// (before next-hop-self), kept while the session is down.
    controlled: BTreeMap<Prefix, PathAttributes>,
}

/// One BGP speaker.
#[derive(Debug)]
pub struct Router {
    config: RouterConfig,
    seed: u64,
    peers: Vec<Peer>,
    /// Decision facts per peer, `Some` while Established.
    facts: Vec<Option<PeerFacts>>,
    rib: LocRib,
    /// See [`Router::generation`].
    generation: u64,
    /// Messages the router sent, kept instead of being given to the session
    /// (tests that drive the router without a real session).
    #[cfg(test)]
    tap: Option<Vec<(PeerId, Message)>>,
}

/// Session outputs waiting for the router to react to them.
type Queue = VecDeque<(PeerId, SessionOutput)>;

impl Router {
    pub fn new(config: RouterConfig, seed: u64) -> Self {
        Router {
            config,
            seed,
            peers: Vec::new(),
            facts: Vec::new(),
            rib: LocRib::default(),
            generation: 0,
            #[cfg(test)]
            tap: None,
        }
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn add_peer(&mut self, peer: PeerConfig) -> PeerId {
        let id = self.peers.len();
        let mut limits = [None, None];
        for (family, limit) in &peer.max_prefix {
            if let Some(i) = family_index(*family) {
                limits[i] = Some(limit.limit);
            }
        }
        let session = Session::new(peer.session.clone(), session_seed(self.seed, id));
        self.peers.push(Peer {
            config: peer,
            session,
            conns: Vec::new(),
            up: None,
            adj_in: AdjRibIn::default(),
            adj_out: AdjRibOut::default(),
            limits,
            limit_tripped: false,
            last_remote: None,
            controlled: BTreeMap::new(),
        });
        self.facts.push(None);
        id
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    pub fn peer_config(&self, peer: PeerId) -> Option<&PeerConfig> {
        self.peers.get(peer).map(|p| &p.config)
    }

    /// The peer's session, for its state, counters and last errors.
    pub fn session(&self, peer: PeerId) -> Option<&Session> {
        self.peers.get(peer).map(|p| &p.session)
    }

    /// Starts every peer (AutomaticStart).
    pub fn start(&mut self, out: &mut Vec<RouterOutput>) {
        let mut queue = Queue::new();
        for peer in 0..self.peers.len() {
            self.feed(peer, SessionInput::Start, &mut queue);
        }
        self.drain(queue, out);
    }

    pub fn handle(&mut self, peer: PeerId, input: SessionInput, out: &mut Vec<RouterOutput>) {
        let Some(p) = self.peers.get_mut(peer) else {
            tracing::warn!(router = %self.config.name, peer, "input for a peer that does not exist");
            return;
        };
        match &input {
            SessionInput::Connected {
                conn,
                local,
                remote,
                ..
            } => {
                p.conns.retain(|c| c.0 != *conn);
                p.conns.push((*conn, *local, *remote));
                p.last_remote = Some(*remote);
            }
            SessionInput::Closed { conn } => p.conns.retain(|c| c.0 != *conn),
            SessionInput::Start => p.limit_tripped = false,
            _ => {}
        }
        let mut queue = Queue::new();
        self.feed(peer, input, &mut queue);
        self.drain(queue, out);
    }

    /// Originates `prefix` from this router (like `network` in FRR). ORIGIN
    /// defaults to IGP and AS_PATH to empty; the next hop is ours on export.
    /// Announcing again replaces the attributes. In
    /// [`ExportMode::Controlled`] the route goes into the Loc-RIB only: it
    /// shows in `show routes` but is sent to no peer.
    pub fn announce(&mut self, prefix: Prefix, attrs: PathAttributes, out: &mut Vec<RouterOutput>) {
        let mut attrs = attrs;
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(Default::default);
        attrs.next_hop = None;
        let route = Arc::new(RouteAttrs {
            attrs,
            next_hop: None,
        });
        self.set_local(prefix.trunc(), Some(route), out);
    }

    pub fn withdraw(&mut self, prefix: Prefix, out: &mut Vec<RouterOutput>) {
        self.set_local(prefix.trunc(), None, out);
    }

    /// The prefixes this router originates.
    pub fn announced(&self) -> Vec<Prefix> {
        let mut prefixes: Vec<Prefix> = crate::rib::FAMILIES
            .iter()
            .flat_map(|f| self.rib.iter_family(*f))
            .filter(|(_, dest)| {
                dest.paths()
                    .first()
                    .is_some_and(|p| p.source() == Source::Local)
            })
            .map(|(prefix, _)| prefix)
            .collect();
        prefixes.sort_unstable();
        prefixes
    }

    /// `clear bgp NEIGHBOR`: restart the session. After a prefix-limit
    /// shutdown the session is Idle and only needs a Start; otherwise it is
    /// stopped with Cease / Administrative Reset (RFC 4486) and started.
    pub fn clear(&mut self, peer: PeerId, out: &mut Vec<RouterOutput>) {
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        let parked = p.session.idle_reason() == Some(IdleReason::PrefixLimit);
        let mut queue = Queue::new();
        if !parked {
            let stop = SessionInput::Stop {
                subcode: CEASE_ADMINISTRATIVE_RESET,
            };
            self.feed(peer, stop, &mut queue);
            self.drain(queue, out);
            queue = Queue::new();
        }
        self.feed(peer, SessionInput::Start, &mut queue);
        self.drain(queue, out);
    }

    /// Cease / Administrative Shutdown (RFC 4486 subcode 2) to every peer.
    pub fn shutdown(&mut self, out: &mut Vec<RouterOutput>) {
        let mut queue = Queue::new();
        for peer in 0..self.peers.len() {
            let stop = SessionInput::Stop {
                subcode: CEASE_ADMINISTRATIVE_SHUTDOWN,
            };
            self.feed(peer, stop, &mut queue);
        }
        self.drain(queue, out);
    }

    /// Address of the peer: of its established connection, else of the
    /// last connection reported.
    pub fn peer_address(&self, peer: PeerId) -> Option<IpAddr> {
        let p = self.peers.get(peer)?;
        p.up.as_ref().map(|u| u.remote).or(p.last_remote)
    }

    /// Our address on the peer's established connection.
    pub fn local_address(&self, peer: PeerId) -> Option<IpAddr> {
        self.peers.get(peer)?.up.as_ref().map(|u| u.local)
    }

    /// Prefix counts of one peer in one family.
    pub fn prefix_counts(&self, peer: PeerId, family: Family) -> PrefixCounts {
        let Some(p) = self.peers.get(peer) else {
            return PrefixCounts::default();
        };
        let counts = p.adj_in.counts(family);
        PrefixCounts {
            received: counts.received,
            accepted: counts.accepted,
            advertised: p.adj_out.advertised(family) as u64,
        }
    }

    /// Prefixes refused since the session came up because their AS_PATH
    /// held our AS (RFC 4271 §9.1.2).
    pub fn as_loops(&self, peer: PeerId) -> u64 {
        self.peers.get(peer).map_or(0, |p| p.adj_in.as_loops())
    }

    /// Increases whenever a peer's accepted routes or a session's
    /// Established state change, so that a controller re-reads
    /// [`Router::peer_routes`] only when needed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn next_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Number of prefixes in the Loc-RIB.
    pub fn route_count(&self) -> usize {
        self.rib.len()
    }

    /// The best path to `prefix`, if any, as the API shows it.
    pub fn best_route(&self, prefix: &Prefix) -> Option<RouteView> {
        let dest = self.rib.get(prefix)?;
        let best = dest.best()?;
        Some(self.route_view(*prefix, dest, best, true))
    }

    fn set_local(
        &mut self,
        prefix: Prefix,
        route: Option<Arc<RouteAttrs>>,
        out: &mut Vec<RouterOutput>,
    ) {
        let ctx = DecisionContext {
            always_compare_med: self.config.always_compare_med,
            peers: &self.facts,
        };
        let outcome = self.rib.set(prefix, Source::Local, route, &ctx);
        let mut queue = Queue::new();
        if outcome.best_changed {
            self.export(vec![prefix], &mut queue);
        }
        self.drain(queue, out);
    }

    /// Gives `input` to the peer's session and queues what it says.
    fn feed(&mut self, peer: PeerId, input: SessionInput, queue: &mut Queue) {
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        let mut outputs = Vec::new();
        p.session.handle(input, &mut outputs);
        queue.extend(outputs.into_iter().map(|o| (peer, o)));
    }

    fn drain(&mut self, mut queue: Queue, out: &mut Vec<RouterOutput>) {
        while let Some((peer, action)) = queue.pop_front() {
            self.react(peer, action, &mut queue, out);
        }
    }

    fn react(
        &mut self,
        peer: PeerId,
        action: SessionOutput,
        queue: &mut Queue,
        out: &mut Vec<RouterOutput>,
    ) {
        match action {
            SessionOutput::Update(update) => self.on_update(peer, update, queue),
            SessionOutput::RouteRefresh(refresh) => {
                self.on_route_refresh(peer, refresh.family, queue)
            }
            SessionOutput::Established(negotiated) => {
                out.push(RouterOutput {
                    peer,
                    action: SessionOutput::Established(negotiated.clone()),
                });
                self.on_established(peer, negotiated, queue);
            }
            SessionOutput::Down(reason) => {
                out.push(RouterOutput {
                    peer,
                    action: SessionOutput::Down(reason),
                });
                self.on_down(peer, queue);
            }
            SessionOutput::Close { conn } => {
                // The session has forgotten the connection; so do we.
                if let Some(p) = self.peers.get_mut(peer) {
                    p.conns.retain(|c| c.0 != conn);
                }
                out.push(RouterOutput {
                    peer,
                    action: SessionOutput::Close { conn },
                });
            }
            action @ (SessionOutput::Connect
            | SessionOutput::Send { .. }
            | SessionOutput::StartTimer { .. }
            | SessionOutput::StopTimer(_)
            | SessionOutput::StateChanged { .. }) => out.push(RouterOutput { peer, action }),
        }
    }

    fn on_established(&mut self, peer: PeerId, negotiated: Negotiated, queue: &mut Queue) {
        // The session reports Down before any new Established; should one
        // ever be missing, the old session's paths must not linger.
        if self.peers.get(peer).is_some_and(|p| p.up.is_some()) {
            self.on_down(peer, queue);
        }
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        let addresses = p
            .conns
            .iter()
            .find(|c| c.0 == negotiated.conn)
            .map(|c| (c.1, c.2));
        let (local, remote) = match addresses {
            Some(a) => a,
            None => {
                tracing::warn!(router = %self.config.name, peer = %p.config.name, conn = negotiated.conn,
                    "Established on a connection never reported as Connected; next hop self unknown");
                let unknown = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
                (unknown, unknown)
            }
        };
        // An IPv4 next hop is needed for IPv4 routes even on an IPv6
        // session; the router ID is the one IPv4 address we are sure to own.
        let next_hop4 = match local {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => self.config.router_id,
        };
        let next_hop6 = p.config.next_hop6.unwrap_or(match local {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        });
        let ebgp = negotiated.remote_as != self.config.asn;
        let families: Vec<Family> = crate::rib::FAMILIES
            .iter()
            .copied()
            .filter(|f| negotiated.families.contains(f))
            .collect();
        self.facts[peer] = Some(PeerFacts {
            router_id: negotiated.remote_id,
            address: remote,
            ebgp,
        });
        p.adj_in.clear();
        p.adj_out.clear();
        p.limit_tripped = false;
        p.last_remote = Some(remote);
        p.up = Some(Up {
            negotiated,
            local,
            remote,
            ebgp,
            next_hop4,
            next_hop6,
        });

        self.next_generation();

        for family in families {
            let batch = match self.config.export_mode {
                ExportMode::BestPath => self.export_table(peer, family),
                ExportMode::Controlled => self.controlled_table(peer, family),
            };
            self.send_batch(peer, batch, queue);
            self.send(peer, crate::packet::end_of_rib(family), queue);
        }
    }

    /// The whole Loc-RIB of `family` exported to `peer`, recorded in its
    /// Adj-RIB-Out.
    fn export_table(&mut self, peer: PeerId, family: Family) -> OutBatch {
        let mut batch = OutBatch::default();
        let Some(p) = self.peers.get_mut(peer) else {
            return batch;
        };
        let Some(up) = &p.up else {
            return batch;
        };
        let mut exporter = Exporter::new(export_target(
            &self.config,
            peer,
            up,
            &p.config.export,
            &self.facts,
        ));
        for (prefix, dest) in self.rib.iter_family(family) {
            if let Some(best) = dest.best() {
                let route = exporter.export(&prefix, best);
                p.adj_out.set(prefix, route, &mut batch);
            }
        }
        batch
    }

    fn on_update(&mut self, peer: PeerId, update: Update, queue: &mut Queue) {
        let export_needed = self.export_needed(peer);
        let Router {
            config,
            peers,
            facts,
            rib,
            ..
        } = self;
        let Some(p) = peers.get_mut(peer) else {
            return;
        };
        let Some(up) = &p.up else {
            return;
        };
        if p.limit_tripped {
            return;
        }
        let ctx = ImportContext {
            peer,
            local_as: config.asn,
            ebgp: up.ebgp,
            local_address: up.local,
            families: &up.negotiated.families,
            policy: &p.config.import,
            limits: p.limits,
            decision: DecisionContext {
                always_compare_med: config.always_compare_med,
                peers: facts,
            },
        };
        if let Some(hit) = p.adj_in.check_limits(rib, &ctx, &update) {
            let restart_after = p
                .config
                .max_prefix
                .get(&hit.family)
                .and_then(|l| l.restart_after);
            tracing::info!(router = %config.name, peer = %p.config.name, family = %hit.family,
                limit = hit.limit, "prefix limit exceeded");
            p.limit_tripped = true;
            let input = SessionInput::PrefixLimitExceeded {
                family: hit.family,
                limit: hit.limit,
                restart_after,
            };
            self.feed(peer, input, queue);
            return;
        }
        let mut changed = Vec::new();
        let paths_changed =
            p.adj_in
                .import(rib, &ctx, update, export_needed.then_some(&mut changed));
        if paths_changed {
            self.next_generation();
        }
        if !changed.is_empty() {
            self.export(changed, queue);
        }
    }

    /// Whether a change to paths from `source` can concern any peer: some
    /// other peer is Established, or `source` itself has been sent routes
    /// (a new path from it may replace one it was sent). With one feeder
    /// and nobody else, import does no export work at all. Never in
    /// [`ExportMode::Controlled`].
    fn export_needed(&self, source: PeerId) -> bool {
        self.config.export_mode == ExportMode::BestPath
            && self
                .peers
                .iter()
                .enumerate()
                .any(|(i, p)| p.up.is_some() && (i != source || !p.adj_out.is_empty()))
    }

    fn on_route_refresh(&mut self, peer: PeerId, family: Family, queue: &mut Queue) {
        let Some(p) = self.peers.get(peer) else {
            return;
        };
        let Some(up) = &p.up else {
            return;
        };
        if !up.negotiated.families.contains(&family) {
            return;
        }
        // RFC 2918 §4: re-advertise the Adj-RIB-Out of that family.
        let mut batch = OutBatch::default();
        p.adj_out.resend(family, &mut batch);
        self.send_batch(peer, batch, queue);
    }

    fn on_down(&mut self, peer: PeerId, queue: &mut Queue) {
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        let was_up = p.up.take().is_some();
        p.adj_in.clear();
        p.adj_out.clear();
        p.limit_tripped = false;
        if !was_up {
            return;
        }
        self.next_generation();
        let ctx = DecisionContext {
            always_compare_med: self.config.always_compare_med,
            peers: &self.facts,
        };
        // With no session left to tell, a full table going down costs no
        // list of a million changed prefixes.
        let anyone_up = self.config.export_mode == ExportMode::BestPath
            && self.peers.iter().any(|p| p.up.is_some());
        let mut changed = Vec::new();
        self.rib.purge_with(Source::Peer(peer), &ctx, |prefix| {
            if anyone_up {
                changed.push(prefix);
            }
        });
        self.facts[peer] = None;
        if !changed.is_empty() {
            self.export(changed, queue);
        }
    }

    /// Sends every Established peer what changed for `changed`'s prefixes.
    fn export(&mut self, mut changed: Vec<Prefix>, queue: &mut Queue) {
        if self.config.export_mode == ExportMode::Controlled {
            return;
        }
        // A prefix may be named twice (withdrawn and announced in one
        // UPDATE); each must reach a peer's batch once.
        changed.sort_unstable();
        changed.dedup();
        let bests: Vec<(Prefix, Option<Path>)> = changed
            .into_iter()
            .map(|prefix| (prefix, self.rib.best(&prefix).cloned()))
            .collect();
        for target in 0..self.peers.len() {
            let Some(p) = self.peers.get_mut(target) else {
                continue;
            };
            let Some(up) = &p.up else {
                continue;
            };
            let mut batch = OutBatch::default();
            let mut exporter = Exporter::new(export_target(
                &self.config,
                target,
                up,
                &p.config.export,
                &self.facts,
            ));
            for (prefix, best) in &bests {
                if !up.negotiated.families.contains(&family_of(prefix)) {
                    continue;
                }
                let route = best.as_ref().and_then(|b| exporter.export(prefix, b));
                p.adj_out.set(*prefix, route, &mut batch);
            }
            self.send_batch(target, batch, queue);
        }
    }

    fn send_batch(&mut self, peer: PeerId, batch: OutBatch, queue: &mut Queue) {
        if batch.is_empty() {
            return;
        }
        let Some(up) = self.peers.get(peer).and_then(|p| p.up.as_ref()) else {
            return;
        };
        let (updates, dropped) = batch.into_updates(&up.codec());
        if dropped > 0 {
            tracing::warn!(router = %self.config.name, peer, dropped, "routes could not be encoded for this peer");
        }
        for update in updates {
            self.send(peer, update, queue);
        }
    }

    fn send(&mut self, peer: PeerId, update: Update, queue: &mut Queue) {
        #[cfg(test)]
        if let Some(tap) = &mut self.tap {
            tap.push((peer, Message::Update(update)));
            return;
        }
        self.feed(peer, SessionInput::Send(Message::Update(update)), queue);
    }
}

fn export_target<'a>(
    config: &RouterConfig,
    peer: PeerId,
    up: &Up,
    policy: &'a Policy,
    facts: &'a [Option<PeerFacts>],
) -> ExportTarget<'a> {
    ExportTarget {
        peer,
        local_as: config.asn,
        ebgp: up.ebgp,
        next_hop4: up.next_hop4,
        next_hop6: up.next_hop6,
        policy,
        peers: facts,
    }
}

/// A distinct, reproducible seed per session (SplitMix64 finaliser over the
/// router's seed and the peer index).
fn session_seed(seed: u64, peer: PeerId) -> u64 {
    let mut z = seed
        ^ (peer as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
