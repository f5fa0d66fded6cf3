//! The cloud of a lab as a task: the sans-IO [`Fabric`] between the cloud
//! BGP speakers (one router task per VGW, DX gateway and public VIF).
//!
//! ```text
//!  VGW / DX gateway / public VIF tasks ──SessionRoutes──▶ cloud task (Fabric)
//!        ▲                                              │
//!        └───────── SetPeerRoutes (exports diff) ◀──────┘
//!  control API, check, trace ──CloudQuery──▶ cloud task
//! ```
//!
//! A speaker reports a session only when its router's generation moved, and
//! the cloud task sends a session's announcements only when they differ
//! from what it sent last, so quiet labs exchange nothing.

mod config;

pub(crate) use config::fabric_config;

use crate::router_task::{Command, Event, Inbox};
use hybridlab_bgp::router::PeerId;
use hybridlab_cloud::fabric::{
    CloudPeer, Fabric, NodeKind, NodeRoute, SessionRoutes, Trace, TraceError, VgwView,
};
use hybridlab_cloud::path::{Announcement, TunnelId};
use std::collections::BTreeMap;
use std::net::IpAddr;
use tokio::sync::{mpsc, oneshot};

pub(crate) type CloudInbox = mpsc::UnboundedSender<CloudEvent>;

pub(crate) enum CloudEvent {
    /// A speaker's session changed state or accepted routes.
    Session {
        peer: CloudPeer,
        state: SessionRoutes,
    },
    /// The IPsec of a tunnel came up or went down (IKE, DPD, a drill),
    /// as its cloud end saw it.
    Ipsec {
        tunnel: TunnelId,
        up: bool,
    },
    Query(CloudQuery),
}

pub(crate) enum CloudQuery {
    NodeRoutes(String, oneshot::Sender<Option<(NodeKind, Vec<NodeRoute>)>>),
    Vgw(String, oneshot::Sender<Option<VgwView>>),
    Trace(String, IpAddr, oneshot::Sender<Result<Trace, TraceError>>),
    /// A drill: a tunnel's IPsec down or up. Answers whether the tunnel exists.
    SetIpsec(TunnelId, bool, oneshot::Sender<bool>),
}

/// Which router task runs a cloud session, and its peer there.
#[derive(Clone, Debug)]
pub(crate) struct SpeakerPeer {
    pub inbox: Inbox,
    pub peer: PeerId,
}

pub(crate) struct CloudTask {
    fabric: Fabric,
    inbox: mpsc::UnboundedReceiver<CloudEvent>,
    speakers: BTreeMap<CloudPeer, SpeakerPeer>,
    /// What each session was last told to announce.
    sent: BTreeMap<CloudPeer, Vec<Announcement>>,
    /// Tunnels that run IKE: down until their cloud end says otherwise.
    ipsec_tunnels: Vec<TunnelId>,
}

impl CloudTask {
    pub(crate) fn new(
        fabric: Fabric,
        inbox: mpsc::UnboundedReceiver<CloudEvent>,
        speakers: BTreeMap<CloudPeer, SpeakerPeer>,
        ipsec_tunnels: Vec<TunnelId>,
    ) -> Self {
        CloudTask {
            fabric,
            inbox,
            speakers,
            sent: BTreeMap::new(),
            ipsec_tunnels,
        }
    }

    pub(crate) async fn run(mut self) {
        // A tunnel that runs IKE has no IPsec SA until IKE brings one up.
        for tunnel in std::mem::take(&mut self.ipsec_tunnels) {
            self.fabric.set_tunnel_ipsec(&tunnel, false);
        }
        self.push_exports();
        while let Some(event) = self.inbox.recv().await {
            match event {
                CloudEvent::Session { peer, state } => {
                    tracing::debug!(%peer, established = state.established, routes = state.routes.len(), "cloud session update");
                    if self.fabric.session_changed(peer, state) {
                        self.push_exports();
                    }
                }
                CloudEvent::Ipsec { tunnel, up } => {
                    tracing::info!(%tunnel, up, "tunnel IPsec (IKE)");
                    if self.fabric.set_tunnel_ipsec(&tunnel, up) {
                        self.push_exports();
                    }
                }
                CloudEvent::Query(q) => self.query(q),
            }
        }
    }

    fn query(&mut self, q: CloudQuery) {
        match q {
            CloudQuery::NodeRoutes(node, reply) => {
                let answer = self
                    .fabric
                    .node_kind(&node)
                    .zip(self.fabric.node_routes(&node));
                let _ = reply.send(answer);
            }
            CloudQuery::Vgw(name, reply) => {
                let _ = reply.send(self.fabric.vgw(&name));
            }
            CloudQuery::Trace(from, to, reply) => {
                let _ = reply.send(self.fabric.trace(&from, to, None));
            }
            CloudQuery::SetIpsec(tunnel, up, reply) => {
                let exists = self.fabric.config().vpn(&tunnel.connection).is_some()
                    && (1..=2).contains(&tunnel.tunnel);
                if exists {
                    tracing::info!(%tunnel, up, "tunnel IPsec");
                    if self.fabric.set_tunnel_ipsec(&tunnel, up) {
                        self.push_exports();
                    }
                }
                let _ = reply.send(exists);
            }
        }
    }

    /// Tells every speaker whose sessions' announcements changed.
    fn push_exports(&mut self) {
        let exports = self.fabric.exports().clone();
        for (peer, announcements) in exports {
            if self.sent.get(&peer) == Some(&announcements) {
                continue;
            }
            let Some(speaker) = self.speakers.get(&peer) else {
                // A session no speaker runs (its customer side is not in
                // the lab): nothing to tell.
                continue;
            };
            let routes = announcements
                .iter()
                .map(|a| (a.prefix, a.attributes.clone()))
                .collect();
            let command = Command::SetPeerRoutes {
                peer: speaker.peer,
                routes,
            };
            if speaker.inbox.send(Event::Command(command)).is_ok() {
                self.sent.insert(peer, announcements);
            }
        }
    }
}
