//! A running lab: one task per emulated router, the listeners of external
//! neighbours, the virtual links between routers, and the control API.

use crate::bfd::{Bfd, BfdLink, BfdPath};
use crate::bfd_udp::{self, Dispatch, BFD_PORT};
use crate::cloud::{fabric_config, CloudEvent, CloudInbox, CloudQuery, CloudTask, SpeakerPeer};
use crate::events::{Events, LabEvent};
use crate::ipsec::esp::EspPath;
use crate::ipsec::udp::UdpPair;
use crate::ipsec::{self, DatagramPath, TunnelRun, Tunnels};
use crate::router_task::{CloudLink, Command, Event, Inbox, RouterTask, Slot, Transport};
use crate::status::PeerStatus;
use crate::tcp::{self, Acceptable};
use crate::view::{BfdView, NodeRoutes, RouteView, RouterBfdView, SessionView, TunnelEndView};
use crate::wire::{LinkId, Wire};
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes, Prefix};
use hybridlab_bgp::router::Router;
use hybridlab_cloud::fabric::{CloudPeer, Fabric, NodeKind, NodeRoute, Trace, TraceError, VgwView};
use hybridlab_cloud::path::TunnelId;
use hybridlab_ike::Command as IkeCommand;
use hybridlab_topology::cloud::TunnelRole;
use hybridlab_topology::convert::{peer_config, router_config};
use hybridlab_topology::{NeighborKind, RouterRole, Topology};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("router `{router}`: cannot listen on {addr}: {source}{}", privileged_hint(*.addr))]
    Listen {
        router: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("router `{router}`: BFD to {peer}: cannot bind {addr}: {source}")]
    Bfd {
        router: String,
        peer: IpAddr,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("control API: cannot listen on {addr}: {source}")]
    Api {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("router `{router}`: tunnel `{neighbor}`: cannot bind {addr}: {source}{}", tunnel_port_hint(*.addr))]
    TunnelUdp {
        router: String,
        neighbor: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("router `{router}`: tunnel `{neighbor}`: {source}")]
    Tunnel {
        router: String,
        neighbor: String,
        source: hybridlab_ipsec_tunnel::TunnelError,
    },
}

/// IKE must be on UDP 500 (RFC 2409, and what real peers send to), and
/// the address must be one of this host's.
fn tunnel_port_hint(addr: SocketAddr) -> &'static str {
    if addr.port() < 1024 {
        " (UDP 500 needs root, CAP_NET_BIND_SERVICE or `sysctl net.ipv4.ip_unprivileged_port_start=0` in the network namespace; the outside address must be assigned to an interface there)"
    } else {
        ""
    }
}

fn privileged_hint(addr: SocketAddr) -> &'static str {
    if addr.port() < 1024 {
        " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
    } else {
        ""
    }
}

#[derive(Clone, Debug, Default)]
pub struct LabOptions {
    /// Serve the control API here instead of the topology's `[lab] api`.
    pub api: Option<SocketAddr>,
    /// Do not serve the control API (tests drive the lab through [`LabHandle`]).
    pub no_api: bool,
}

/// A command for a router failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("no router `{0}`")]
    NoRouter(String),
    #[error("router `{router}` has no neighbor `{neighbor}`")]
    NoNeighbor { router: String, neighbor: String },
    #[error("router `{0}` has stopped")]
    Stopped(String),
    #[error("no node `{0}` (a VPC, VPC/TABLE, VGW, DX gateway, public VIF or router)")]
    NoNode(String),
    #[error("no VGW `{0}`")]
    NoVgw(String),
    #[error("no tunnel `{0}`")]
    NoTunnel(String),
    #[error("{0}")]
    Trace(#[from] TraceError),
}

/// A client of the running routers; cheap to clone. The control API is one.
#[derive(Clone, Debug)]
pub struct LabHandle {
    routers: Arc<Vec<RouterRef>>,
    wire: Wire,
    /// The cloud task; `None` in a lab of routers only.
    cloud: Option<CloudInbox>,
}

#[derive(Clone, Debug)]
struct RouterRef {
    name: String,
    asn: u32,
    neighbors: Vec<String>,
    /// The link of each neighbour, in the same order.
    links: Vec<LinkId>,
    inbox: Inbox,
    /// Neighbours whose session rides in an IPsec tunnel: (index, the
    /// cloud's tunnel, which end this is).
    tunnels: Vec<(usize, TunnelId, TunnelRole)>,
    /// Some neighbour rides in an IPsec tunnel: a VPN's (in `tunnels`) or
    /// a plain neighbour's `ipsec = { ... }` toward a real responder.
    any_tunnel: bool,
}

impl LabHandle {
    fn router(&self, name: &str) -> Result<&RouterRef, CommandError> {
        self.routers
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| CommandError::NoRouter(name.to_string()))
    }

    pub fn router_names(&self) -> Vec<String> {
        self.routers.iter().map(|r| r.name.clone()).collect()
    }

    async fn ask<T>(
        &self,
        r: &RouterRef,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, CommandError> {
        let (tx, rx) = oneshot::channel();
        r.inbox
            .send(Event::Command(make(tx)))
            .map_err(|_| CommandError::Stopped(r.name.clone()))?;
        rx.await.map_err(|_| CommandError::Stopped(r.name.clone()))
    }

    /// Every session of every router, in topology order.
    pub async fn sessions(&self) -> Vec<SessionView> {
        let mut all = Vec::new();
        for r in self.routers.iter() {
            if let Ok(views) = self.ask(r, Command::Sessions).await {
                all.extend(views);
            }
        }
        all
    }

    /// Every BFD session of every router, in topology order, and each
    /// router's packets that reached no session.
    pub async fn bfd(&self) -> (Vec<BfdView>, Vec<RouterBfdView>) {
        let mut sessions = Vec::new();
        let mut routers = Vec::new();
        for r in self.routers.iter() {
            if let Ok((views, router)) = self.ask(r, Command::Bfd).await {
                sessions.extend(views);
                routers.push(router);
            }
        }
        (sessions, routers)
    }

    pub async fn routes(&self, router: &str) -> Result<Vec<RouteView>, CommandError> {
        let r = self.router(router)?;
        self.ask(r, Command::Routes).await
    }

    /// Originates `prefix`; `prepend` extra copies of the router's AS go on
    /// the path.
    pub async fn announce(
        &self,
        router: &str,
        prefix: Prefix,
        mut attrs: PathAttributes,
        prepend: u8,
    ) -> Result<(), CommandError> {
        let r = self.router(router)?;
        attrs.origin = attrs.origin.or(Some(Origin::Igp));
        if prepend > 0 {
            attrs.as_path = Some(AsPath::from_sequence(std::iter::repeat_n(
                r.asn,
                usize::from(prepend),
            )));
        }
        self.ask(r, |reply| Command::Announce {
            prefix,
            attrs,
            reply,
        })
        .await
    }

    pub async fn withdraw(&self, router: &str, prefix: Prefix) -> Result<(), CommandError> {
        let r = self.router(router)?;
        self.ask(r, |reply| Command::Withdraw { prefix, reply })
            .await
    }

    fn neighbor(&self, router: &str, neighbor: &str) -> Result<(&RouterRef, usize), CommandError> {
        let r = self.router(router)?;
        let index = r
            .neighbors
            .iter()
            .position(|n| n == neighbor)
            .ok_or_else(|| CommandError::NoNeighbor {
                router: router.to_string(),
                neighbor: neighbor.to_string(),
            })?;
        Ok((r, index))
    }

    pub async fn clear(&self, router: &str, neighbor: &str) -> Result<(), CommandError> {
        let (r, index) = self.neighbor(router, neighbor)?;
        self.ask(r, |reply| Command::Clear {
            neighbor: index,
            reply,
        })
        .await
    }

    async fn ask_cloud<T>(
        &self,
        what: &str,
        make: impl FnOnce(oneshot::Sender<T>) -> CloudQuery,
    ) -> Result<T, CommandError> {
        let cloud = self
            .cloud
            .as_ref()
            .ok_or_else(|| CommandError::NoNode(what.to_string()))?;
        let (tx, rx) = oneshot::channel();
        cloud
            .send(CloudEvent::Query(make(tx)))
            .map_err(|_| CommandError::Stopped("cloud".to_string()))?;
        rx.await
            .map_err(|_| CommandError::Stopped("cloud".to_string()))
    }

    /// The routes of any node: a VPC route table, VGW or DX gateway from
    /// the cloud, or a router's Loc-RIB in the same row shape.
    pub async fn node_routes(&self, node: &str) -> Result<NodeRoutes, CommandError> {
        if self.cloud.is_some() {
            let query = |reply| CloudQuery::NodeRoutes(node.to_string(), reply);
            if let Some((kind, routes)) = self.ask_cloud(node, query).await? {
                return Ok(NodeRoutes {
                    node: node.to_string(),
                    kind,
                    routes,
                });
            }
        }
        let routes = match self.routes(node).await {
            Ok(routes) => routes,
            Err(CommandError::NoRouter(_)) => return Err(CommandError::NoNode(node.to_string())),
            Err(e) => return Err(e),
        };
        Ok(NodeRoutes {
            node: node.to_string(),
            kind: NodeKind::Router,
            routes: routes.iter().filter_map(router_row).collect(),
        })
    }

    /// A VGW: tunnels with the cloud's status, the primary, every candidate.
    pub async fn vgw(&self, name: &str) -> Result<VgwView, CommandError> {
        self.ask_cloud(name, |reply| CloudQuery::Vgw(name.to_string(), reply))
            .await?
            .ok_or_else(|| CommandError::NoVgw(name.to_string()))
    }

    /// The way of a packet from a VPC to `to`, hop by hop.
    pub async fn trace(&self, from: &str, to: IpAddr) -> Result<Trace, CommandError> {
        let query = |reply| CloudQuery::Trace(from.to_string(), to, reply);
        Ok(self.ask_cloud(from, query).await??)
    }

    /// Every IPsec tunnel end of the lab, router by router.
    pub async fn tunnels(&self) -> Vec<TunnelEndView> {
        let mut all = Vec::new();
        for r in self.routers.iter().filter(|r| r.any_tunnel) {
            if let Ok(views) = self.ask(r, Command::Tunnels).await {
                all.extend(views);
            }
        }
        all
    }

    /// A drill: take a tunnel's IPsec down (or back up).
    ///
    /// On a VPN with `ipsec = true` this drives IKE: down stops it
    /// (deletes sent, SAs gone) on the emulated customer gateway first,
    /// so it does not initiate again, then on the cloud end; up makes the
    /// emulated customer gateway initiate. A real customer gateway is the
    /// initiator of its tunnel: after a down it may come back on its own,
    /// and an up has nothing to start on the cloud end, which waits for it
    /// (startup action `add`). On a VPN without IKE the cloud's IPsec
    /// status is set directly.
    pub async fn set_tunnel_ipsec(&self, tunnel: &TunnelId, up: bool) -> Result<(), CommandError> {
        let mut ends: Vec<(&RouterRef, usize, TunnelRole)> = self
            .routers
            .iter()
            .flat_map(|r| {
                r.tunnels
                    .iter()
                    .filter(|(_, id, _)| id == tunnel)
                    .map(move |(ni, _, role)| (r, *ni, *role))
            })
            .collect();
        if !ends.is_empty() {
            // Initiators first.
            ends.sort_by_key(|(_, _, role)| *role != TunnelRole::Initiator);
            for (r, neighbor, role) in ends {
                let command = match (up, role) {
                    (false, _) => IkeCommand::Stop,
                    (true, TunnelRole::Initiator) => IkeCommand::Start,
                    (true, TunnelRole::Responder) => continue,
                };
                self.ask(r, |reply| Command::TunnelIke {
                    neighbor,
                    command,
                    reply,
                })
                .await?;
            }
            return Ok(());
        }
        let name = tunnel.to_string();
        let query = |reply| CloudQuery::SetIpsec(tunnel.clone(), up, reply);
        if self.ask_cloud(&name, query).await? {
            Ok(())
        } else {
            Err(CommandError::NoTunnel(name))
        }
    }

    /// Cuts (or restores) the link to a router's neighbour, both ways: a
    /// failover drill. Returns the link's name.
    pub fn set_blackhole(
        &self,
        router: &str,
        neighbor: &str,
        on: bool,
    ) -> Result<LinkId, CommandError> {
        let (r, index) = self.neighbor(router, neighbor)?;
        let link = r
            .links
            .get(index)
            .cloned()
            .ok_or_else(|| CommandError::NoNeighbor {
                router: router.to_string(),
                neighbor: neighbor.to_string(),
            })?;
        tracing::info!(%link, blackhole = on, "link impairment");
        self.wire.set_blackhole(&link, on);
        Ok(link)
    }
}

/// A lab, built from a topology. Subscribe to [`Lab::events`] and
/// [`Wire::tap`] before [`Lab::start`] to see everything from the first byte.
pub struct Lab {
    topology: Topology,
    options: LabOptions,
    wire: Wire,
    events: Events,
    handle: LabHandle,
    /// Receivers of the router inboxes, taken by `start`.
    inboxes: Vec<mpsc::UnboundedReceiver<Event>>,
    cloud_inbox: Option<mpsc::UnboundedReceiver<CloudEvent>>,
    /// The cloud task: it ends only when every handle is gone, so shutdown
    /// aborts it once the speakers have stopped.
    cloud_task: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
    listeners: Vec<JoinHandle<()>>,
    /// BFD receivers of external neighbours, one per local address.
    bfd_receivers: Vec<JoinHandle<()>>,
    /// Bound listening addresses per router (port 0 resolved).
    listening: HashMap<String, Vec<SocketAddr>>,
    api: Option<(SocketAddr, JoinHandle<()>)>,
}

impl Lab {
    pub fn new(topology: Topology, options: LabOptions) -> Self {
        let mut inboxes = Vec::new();
        let mut refs = Vec::new();
        for (ri, r) in topology.routers.iter().enumerate() {
            let (tx, rx) = mpsc::unbounded_channel();
            inboxes.push(rx);
            refs.push(RouterRef {
                name: r.name.clone(),
                asn: r.asn,
                neighbors: r.neighbors.iter().map(|n| n.name.clone()).collect(),
                links: (0..r.neighbors.len())
                    .map(|ni| link_id(&topology, ri, ni))
                    .collect(),
                inbox: tx,
                tunnels: r
                    .neighbors
                    .iter()
                    .enumerate()
                    .filter_map(|(ni, n)| match (&n.cloud_path, &n.tunnel) {
                        (Some(CloudPeer::Tunnel(id)), Some(end)) => {
                            Some((ni, id.clone(), end.role))
                        }
                        _ => None,
                    })
                    .collect(),
                any_tunnel: r.neighbors.iter().any(|n| n.tunnel.is_some()),
            });
        }
        let wire = Wire::new();
        let cloud = (!topology.cloud.is_empty()).then(mpsc::unbounded_channel);
        Lab {
            topology,
            options,
            wire: wire.clone(),
            events: Events::default(),
            handle: LabHandle {
                routers: Arc::new(refs),
                wire,
                cloud: cloud.as_ref().map(|(tx, _)| tx.clone()),
            },
            cloud_inbox: cloud.map(|(_, rx)| rx),
            cloud_task: None,
            inboxes,
            tasks: Vec::new(),
            listeners: Vec::new(),
            bfd_receivers: Vec::new(),
            listening: HashMap::new(),
            api: None,
        }
    }

    pub fn wire(&self) -> &Wire {
        &self.wire
    }

    pub fn events(&self) -> mpsc::UnboundedReceiver<LabEvent> {
        self.events.subscribe()
    }

    pub fn handle(&self) -> LabHandle {
        self.handle.clone()
    }

    /// Where the control API listens, once started.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|(a, _)| *a)
    }

    /// Where a router accepts TCP connections, once started; a `listen`
    /// address with port 0 shows the port the kernel chose.
    pub fn listening(&self, router: &str) -> Vec<SocketAddr> {
        self.listening.get(router).cloned().unwrap_or_default()
    }

    /// The link of a router's neighbour, as the wire names it.
    pub fn link(&self, router: &str, neighbor: &str) -> Option<LinkId> {
        let (ri, r) = self
            .topology
            .routers
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == router)?;
        let ni = r.neighbors.iter().position(|n| n.name == neighbor)?;
        Some(link_id(&self.topology, ri, ni))
    }

    /// Binds every listener and the API, then starts every router.
    pub async fn start(&mut self) -> Result<(), LabError> {
        let inboxes: Arc<Vec<Inbox>> = Arc::new(
            self.handle
                .routers
                .iter()
                .map(|r| r.inbox.clone())
                .collect(),
        );
        self.bind_listeners(&inboxes)?;
        self.bind_bfd_receivers(&inboxes)?;
        if !self.options.no_api {
            let addr = self.options.api.unwrap_or(self.topology.lab.api);
            let (bound, task) = crate::api::serve(addr, self.handle.clone())
                .await
                .map_err(|source| LabError::Api { addr, source })?;
            self.api = Some((bound, task));
        }
        let conn_ids = Arc::new(AtomicU64::new(1));
        let mut speakers = BTreeMap::new();
        let receivers = std::mem::take(&mut self.inboxes);
        for ((ri, r), rx) in self.topology.routers.iter().enumerate().zip(receivers) {
            let mut core = Router::new(router_config(r), router_seed(self.topology.lab.seed, ri));
            let mut slots = Vec::new();
            for (ni, n) in r.neighbors.iter().enumerate() {
                // A tunnel-only neighbour (a static VPN's IPsec tunnel)
                // gets its tunnel (below) and no BGP peer.
                let peer = n
                    .bgp
                    .then(|| core.add_peer(peer_config(&self.topology, r, n)));
                let transport = match &n.kind {
                    _ if n.tunnel.is_some() => Transport::Tunnel,
                    NeighborKind::Emulated(l) => Transport::Virtual {
                        far_router: l.far_router,
                        far_neighbor: l.far_neighbor,
                        local: l.local_address,
                        remote: l.remote_address,
                    },
                    NeighborKind::External {
                        address,
                        port,
                        local_address,
                    } => Transport::Tcp {
                        remote: SocketAddr::new(*address, *port),
                        local: *local_address,
                        ttl: n.ttl,
                        md5: n.md5_password.clone(),
                    },
                };
                let status = PeerStatus::new(n.is_emulated());
                slots.push(Slot::new(
                    n.name.clone(),
                    peer,
                    link_id(&self.topology, ri, ni),
                    transport,
                    n.mode.accepts(),
                    status,
                ));
            }
            let networks = r
                .networks
                .iter()
                .map(|p| {
                    let attrs = PathAttributes {
                        origin: Some(Origin::Igp),
                        ..PathAttributes::default()
                    };
                    (*p, attrs)
                })
                .collect();
            let Some(inbox_tx) = inboxes.get(ri).cloned() else {
                continue;
            };
            let bfd = self.bfd_sessions(ri)?;
            let mut task = RouterTask::new(
                r.name.clone(),
                core,
                slots,
                inbox_tx.clone(),
                rx,
                inboxes.clone(),
                self.wire.clone(),
                self.events.clone(),
                conn_ids.clone(),
            );
            task.bfd = bfd;
            task.tunnels = self.tunnels(ri, &inbox_tx)?;
            if let (Some(cloud), RouterRole::Vgw | RouterRole::DxGateway | RouterRole::PublicVif) =
                (&self.handle.cloud, r.role)
            {
                let peers: Vec<Option<CloudPeer>> =
                    r.neighbors.iter().map(|n| n.cloud_path.clone()).collect();
                for (slot, peer) in peers.iter().enumerate() {
                    let bgp_peer = task.slots.get(slot).and_then(|s| s.peer);
                    if let (Some(peer), Some(bgp_peer)) = (peer, bgp_peer) {
                        let speaker = SpeakerPeer {
                            inbox: inbox_tx.clone(),
                            peer: bgp_peer,
                        };
                        speakers.insert(peer.clone(), speaker);
                    }
                }
                task.cloud = Some(CloudLink::new(cloud.clone(), peers));
            }
            self.tasks.push(tokio::spawn(task.run(networks)));
        }
        if let Some(rx) = self.cloud_inbox.take() {
            let fabric = Fabric::new(fabric_config(&self.topology.cloud));
            // The tunnels whose cloud end runs IKE here start down (BGP
            // tunnels and static ones alike); the rest (no IKE:
            // `ipsec = false`) count as up.
            let ipsec = self
                .topology
                .routers
                .iter()
                .flat_map(|r| &r.neighbors)
                .filter_map(|n| match (&n.cloud_path, &n.tunnel) {
                    (Some(CloudPeer::Tunnel(id)), Some(end))
                        if end.role == TunnelRole::Responder =>
                    {
                        Some(id.clone())
                    }
                    _ => None,
                })
                .collect();
            let task = CloudTask::new(fabric, rx, speakers, ipsec);
            self.cloud_task = Some(tokio::spawn(task.run()));
        }
        Ok(())
    }

    fn bind_listeners(&mut self, inboxes: &[Inbox]) -> Result<(), LabError> {
        for (ri, r) in self.topology.routers.iter().enumerate() {
            let peers: HashMap<IpAddr, Acceptable> = r
                .neighbors
                .iter()
                .enumerate()
                .filter_map(|(ni, n)| match &n.kind {
                    // BGP inside a tunnel listens in the tunnel's stack.
                    _ if n.tunnel.is_some() => None,
                    NeighborKind::External { address, .. } => Some((
                        *address,
                        Acceptable {
                            neighbor: ni,
                            name: n.name.clone(),
                            ttl: n.ttl,
                            md5: n.md5_password.clone(),
                            accepts: n.mode.accepts(),
                        },
                    )),
                    NeighborKind::Emulated(_) => None,
                })
                .collect();
            let Some(inbox) = inboxes.get(ri) else {
                continue;
            };
            if r.listen.is_empty() {
                for p in peers.values().filter(|p| p.accepts) {
                    tracing::warn!(router = %r.name, neighbor = %p.name, "no `listen` address: this neighbor can only be reached by connecting to it");
                }
            }
            for addr in &r.listen {
                let listener =
                    tcp::bind_listener(*addr, &peers).map_err(|source| LabError::Listen {
                        router: r.name.clone(),
                        addr: *addr,
                        source,
                    })?;
                let bound = listener.local_addr().unwrap_or(*addr);
                tracing::info!(router = %r.name, addr = %bound, "listening");
                self.listening
                    .entry(r.name.clone())
                    .or_default()
                    .push(bound);
                self.listeners.push(tcp::spawn_listener(
                    r.name.clone(),
                    listener,
                    peers.clone(),
                    inbox.clone(),
                ));
            }
        }
        Ok(())
    }

    /// The IPsec tunnels of router `ri`: a core per tunnel neighbour, in
    /// memory to an emulated far end, on kernel UDP 500/4500 at the
    /// outside address to a real one.
    fn tunnels(&self, ri: usize, inbox: &Inbox) -> Result<Tunnels, LabError> {
        let mut tunnels = Tunnels::default();
        let Some(r) = self.topology.routers.get(ri) else {
            return Ok(tunnels);
        };
        let seed = router_seed(self.topology.lab.seed, ri);
        for (ni, n) in r.neighbors.iter().enumerate() {
            let Some(end) = &n.tunnel else {
                continue;
            };
            let (path, real_peer) = match &n.kind {
                NeighborKind::Emulated(l) => (
                    DatagramPath::Virtual {
                        far_router: l.far_router,
                        far_neighbor: l.far_neighbor,
                    },
                    false,
                ),
                NeighborKind::External { .. } => {
                    let sockets = UdpPair::bind(IpAddr::V4(end.local_outside)).map_err(
                        |(addr, source)| LabError::TunnelUdp {
                            router: r.name.clone(),
                            neighbor: n.name.clone(),
                            addr,
                            source,
                        },
                    )?;
                    // Plain ESP when the SAs are not UDP-encapsulated (no
                    // NAT); without CAP_NET_RAW it warns and the lab runs.
                    let esp = EspPath::open(end.local_outside, end.remote_outside);
                    (DatagramPath::Kernel { udp: sockets, esp }, true)
                }
            };
            let readers = match &path {
                DatagramPath::Kernel { udp, esp } => {
                    let mut r = udp.spawn_readers(ni, inbox.clone());
                    r.extend(esp.spawn_reader(ni, inbox.clone()));
                    r
                }
                DatagramPath::Virtual { .. } => Vec::new(),
            };
            let name = match &n.cloud_path {
                Some(CloudPeer::Tunnel(id)) => id.to_string(),
                _ => n.name.clone(),
            };
            // Offset from BFD's per-neighbour seeds (`router_seed(seed, ni)`).
            let tunnel_seed = router_seed(seed, ni.wrapping_add(1 << 16));
            // No BGP in a tunnel-only neighbour's tunnel: nothing listens
            // on its inside port 179.
            let accept_bgp = n.bgp && n.mode.accepts();
            let engine = ipsec::tunnel(&name, end, accept_bgp, tunnel_seed, real_peer).map_err(
                |source| LabError::Tunnel {
                    router: r.name.clone(),
                    neighbor: n.name.clone(),
                    source,
                },
            )?;
            let cloud = match (&n.cloud_path, end.role) {
                (Some(CloudPeer::Tunnel(id)), TunnelRole::Responder) => Some(id.clone()),
                _ => None,
            };
            tunnels.runs.insert(
                ni,
                TunnelRun {
                    engine,
                    path,
                    role: end.role,
                    cloud,
                    local_outside: IpAddr::V4(end.local_outside),
                    remote_outside: IpAddr::V4(end.remote_outside),
                    ipsec_up: false,
                    last_error: None,
                    readers,
                },
            );
        }
        Ok(tunnels)
    }

    /// The BFD sessions of router `ri`, each with its way to the peer.
    fn bfd_sessions(&self, ri: usize) -> Result<Bfd, LabError> {
        let mut bfd = Bfd::default();
        let Some(r) = self.topology.routers.get(ri) else {
            return Ok(bfd);
        };
        let seed = router_seed(self.topology.lab.seed, ri);
        for (ni, n) in r.neighbors.iter().enumerate() {
            let Some(settings) = &n.bfd else {
                continue;
            };
            let link = match &n.kind {
                NeighborKind::Emulated(l) => BfdLink::new(
                    BfdPath::Virtual {
                        far_router: l.far_router,
                        far_neighbor: l.far_neighbor,
                    },
                    l.remote_address,
                    Some(l.local_address),
                ),
                NeighborKind::External {
                    address,
                    local_address,
                    ..
                } => {
                    let hint = u16::try_from((seed ^ ni as u64) & 0x3fff).unwrap_or(0);
                    let socket =
                        bfd_udp::bind_sender(*address, *local_address, hint).map_err(|source| {
                            LabError::Bfd {
                                router: r.name.clone(),
                                peer: *address,
                                addr: SocketAddr::new(
                                    local_address.unwrap_or(unspecified(*address)),
                                    0,
                                ),
                                source,
                            }
                        })?;
                    let local = socket.local_addr().ok().map(|a| a.ip());
                    BfdLink::new(BfdPath::Udp(socket), *address, local)
                }
            };
            let session_seed = router_seed(seed, ni);
            if let Err(e) = bfd.add(
                ni,
                settings,
                r.bfd_min_interval,
                self.topology.lab.jitter,
                session_seed,
                link,
            ) {
                // The topology was validated: this is a bug, not a user error.
                tracing::error!(router = %r.name, neighbor = %n.name, error = %e, "BFD session not created");
            }
        }
        Ok(bfd)
    }

    /// One UDP 3784 socket per local address external BFD neighbours use
    /// (the wildcard where none is configured). A datagram goes to the
    /// router of the neighbour at its source address; one from anyone else
    /// to the first router receiving there, which counts it.
    fn bind_bfd_receivers(&mut self, inboxes: &[Inbox]) -> Result<(), LabError> {
        let mut groups: Vec<(SocketAddr, String, Dispatch)> = Vec::new();
        for (ri, r) in self.topology.routers.iter().enumerate() {
            let Some(inbox) = inboxes.get(ri) else {
                continue;
            };
            for (ni, n) in r.neighbors.iter().enumerate() {
                let (
                    NeighborKind::External {
                        address,
                        local_address,
                        ..
                    },
                    Some(_),
                ) = (&n.kind, &n.bfd)
                else {
                    continue;
                };
                let bind =
                    SocketAddr::new(local_address.unwrap_or(unspecified(*address)), BFD_PORT);
                let group = match groups.iter_mut().position(|g| g.0 == bind) {
                    Some(i) => &mut groups[i],
                    None => {
                        groups.push((
                            bind,
                            r.name.clone(),
                            Dispatch {
                                peers: HashMap::new(),
                                strangers: inbox.clone(),
                            },
                        ));
                        let last = groups.len() - 1;
                        &mut groups[last]
                    }
                };
                if group.2.peers.contains_key(address) {
                    tracing::warn!(router = %r.name, neighbor = %n.name, %address, "another router runs BFD to this address from the same local address: its packets go to the first");
                    continue;
                }
                group.2.peers.insert(*address, (inbox.clone(), ni));
            }
        }
        for (addr, router, dispatch) in groups {
            let socket = bfd_udp::bind_receiver(addr).map_err(|source| LabError::Bfd {
                router: router.clone(),
                peer: addr.ip(),
                addr,
                source,
            })?;
            tracing::info!(%router, %addr, "BFD receiving");
            self.bfd_receivers
                .push(bfd_udp::spawn_receiver(socket, dispatch));
        }
        Ok(())
    }

    /// Cease / Administrative Shutdown on every session, flush, stop.
    pub async fn shutdown(mut self) {
        for l in self.listeners.drain(..).chain(self.bfd_receivers.drain(..)) {
            l.abort();
        }
        let mut replies = Vec::new();
        for r in self.handle.routers.iter() {
            let (tx, rx) = oneshot::channel();
            if r.inbox.send(Event::Command(Command::Shutdown(tx))).is_ok() {
                replies.push(rx);
            }
        }
        for rx in replies {
            let _ = rx.await;
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        if let Some(cloud) = self.cloud_task.take() {
            cloud.abort();
        }
        if let Some((_, api)) = self.api.take() {
            api.abort();
        }
    }
}

/// A virtual link is named by the end declared first in the file, so both
/// ends tap and impair the same link.
fn link_id(topology: &Topology, ri: usize, ni: usize) -> LinkId {
    let Some(r) = topology.routers.get(ri) else {
        return LinkId::new("", "");
    };
    let Some(n) = r.neighbors.get(ni) else {
        return LinkId::new(r.name.as_str(), "");
    };
    if let NeighborKind::Emulated(l) = &n.kind {
        if (l.far_router, l.far_neighbor) < (ri, ni) {
            if let Some(far) = topology.routers.get(l.far_router) {
                if let Some(fnb) = far.neighbors.get(l.far_neighbor) {
                    return LinkId::new(far.name.as_str(), fnb.name.as_str());
                }
            }
        }
    }
    LinkId::new(r.name.as_str(), n.name.as_str())
}

/// A router's route in the row shape every node shares.
fn router_row(r: &RouteView) -> Option<NodeRoute> {
    Some(NodeRoute {
        prefix: r.prefix.parse().ok()?,
        via: r.from.clone(),
        egress: None,
        origin: r.origin.to_lowercase(),
        as_path: r.as_path.clone(),
        med: r.med,
        communities: r.communities.clone(),
        rule: None,
        active: r.best,
    })
}

fn unspecified(like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// Each router's PRNG seed, derived from the lab's (SplitMix64), so that
/// routers differ but a run replays.
fn router_seed(lab_seed: u64, index: usize) -> u64 {
    let mut z = lab_seed.wrapping_add(
        (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_seeds_differ_and_replay() {
        assert_eq!(router_seed(1, 0), router_seed(1, 0));
        assert_ne!(router_seed(1, 0), router_seed(1, 1));
        assert_ne!(router_seed(1, 0), router_seed(2, 0));
    }
}
