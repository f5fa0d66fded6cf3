//! What the control API shows of a router (docs/control-api.md).
//!
//! Field names are the documented ones. The runtime adds what only it
//! knows: the router's name, the neighbour's kind and the session uptime
//! (it owns the clock); `#[serde(flatten)]` of these structs into its own
//! keeps the JSON flat.

use super::{PeerId, Router};
use crate::packet::{Family, Notification, Origin, Prefix};
use crate::rib::{decision, DecisionContext, Dest, Path, Source, FAMILIES};
use crate::session::{IdleReason, State};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// One family's prefix counts of one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrefixCounts {
    /// Held from the peer before import policy.
    pub received: u64,
    /// Of those, in the table after import policy.
    pub accepted: u64,
    /// Sent to the peer and not withdrawn.
    pub advertised: u64,
}

/// Keyed by family name (`"ipv4-unicast"`).
pub type FamilyPrefixCounts = BTreeMap<String, PrefixCounts>;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageCounts {
    pub sent: u64,
    pub received: u64,
    pub updates_sent: u64,
    pub updates_received: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationView {
    pub code: u8,
    pub subcode: u8,
    pub name: String,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        NotificationView {
            code: n.code,
            subcode: n.subcode,
            name: n.name(),
        }
    }
}

/// One session, as `GET /api/v1/sessions` shows it, less `router`, `kind`
/// and `uptime_secs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionView {
    pub neighbor: String,
    pub peer_address: Option<IpAddr>,
    pub local_asn: u32,
    pub remote_asn: u32,
    pub state: State,
    pub idle_reason: Option<IdleReason>,
    pub hold_time: Option<u16>,
    pub keepalive: Option<u16>,
    pub remote_id: Option<Ipv4Addr>,
    pub prefixes: FamilyPrefixCounts,
    pub messages: MessageCounts,
    pub last_error: Option<String>,
    pub last_notification_sent: Option<NotificationView>,
    pub last_notification_received: Option<NotificationView>,
    /// Prefixes refused for carrying our AS since the session came up.
    pub as_loops: u64,
}

/// One path, as `GET /api/v1/routers/{router}/routes` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteView {
    pub prefix: Prefix,
    pub best: bool,
    /// Why the best path won against the next best; `None` on the others.
    pub reason: Option<String>,
    /// The neighbour's name, or `"local"` for the router's own networks.
    pub from: String,
    /// `None` for the router's own networks.
    pub peer_address: Option<IpAddr>,
    pub next_hop: Option<IpAddr>,
    pub as_path: Vec<u32>,
    pub as_path_text: String,
    pub origin: Origin,
    pub med: Option<u32>,
    /// As used by the decision process (absent counts as 100).
    pub local_pref: Option<u32>,
    pub communities: Vec<String>,
}

impl Router {
    /// Every peer's session, in peer order.
    pub fn sessions(&self) -> Vec<SessionView> {
        (0..self.peers.len())
            .filter_map(|peer| self.session_view(peer))
            .collect()
    }

    pub fn session_view(&self, peer: PeerId) -> Option<SessionView> {
        let p = self.peers.get(peer)?;
        let session = &p.session;
        let stats = session.stats();
        let negotiated = p.up.as_ref().map(|u| &u.negotiated);
        let families: Vec<Family> = match negotiated {
            Some(n) => n.families.clone(),
            None => p.config.session.families.clone(),
        };
        let prefixes = FAMILIES
            .iter()
            .filter(|f| families.contains(f))
            .map(|f| (f.to_string(), self.prefix_counts(peer, *f)))
            .collect();
        Some(SessionView {
            neighbor: p.config.name.clone(),
            peer_address: self.peer_address(peer),
            local_asn: p.config.session.local_as,
            remote_asn: p.config.session.remote_as,
            state: session.state(),
            idle_reason: session.idle_reason(),
            hold_time: negotiated.map(|n| n.hold_time),
            keepalive: negotiated.map(|n| n.keepalive),
            remote_id: negotiated.map(|n| n.remote_id),
            prefixes,
            messages: MessageCounts {
                sent: stats.messages_sent,
                received: stats.messages_received,
                updates_sent: stats.updates_sent,
                updates_received: stats.updates_received,
            },
            last_error: session.last_error().map(str::to_string),
            last_notification_sent: session.last_notification_sent().map(NotificationView::from),
            last_notification_received: session
                .last_notification_received()
                .map(NotificationView::from),
            as_loops: p.adj_in.as_loops(),
        })
    }

    /// Every path in the table (what survived import, and the router's own
    /// networks), by prefix, the best first.
    pub fn routes(&self) -> Vec<RouteView> {
        let mut dests: Vec<(Prefix, &Dest)> = FAMILIES
            .iter()
            .flat_map(|f| self.rib.iter_family(*f))
            .collect();
        dests.sort_unstable_by_key(|(prefix, _)| *prefix);
        let mut views = Vec::with_capacity(dests.len());
        for (prefix, dest) in dests {
            let best = dest.best_index();
            if let Some(path) = dest.best() {
                views.push(self.route_view(prefix, dest, path, true));
            }
            for (i, path) in dest.paths().iter().enumerate() {
                if i != best {
                    views.push(self.route_view(prefix, dest, path, false));
                }
            }
        }
        views
    }

    pub(super) fn route_view(
        &self,
        prefix: Prefix,
        dest: &Dest,
        path: &Path,
        best: bool,
    ) -> RouteView {
        let ctx = DecisionContext {
            always_compare_med: self.config.always_compare_med,
            peers: &self.facts,
        };
        let attrs = &path.attrs.attrs;
        let (from, peer_address) = match path.source() {
            Source::Local => ("local".to_string(), None),
            Source::Peer(peer) => (
                self.peers
                    .get(peer)
                    .map_or_else(|| format!("peer {peer}"), |p| p.config.name.clone()),
                self.facts.get(peer).copied().flatten().map(|f| f.address),
            ),
        };
        RouteView {
            prefix,
            best,
            reason: best
                .then(|| decision::reason(dest.paths(), dest.best_index(), &ctx).to_string()),
            from,
            peer_address,
            next_hop: path.attrs.next_hop,
            as_path: attrs.as_path.iter().flat_map(|p| p.asns()).collect(),
            as_path_text: attrs
                .as_path
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            origin: attrs.origin.unwrap_or(Origin::Incomplete),
            med: attrs.med,
            local_pref: Some(attrs.local_pref.unwrap_or(decision::DEFAULT_LOCAL_PREF)),
            communities: attrs.communities.iter().map(ToString::to_string).collect(),
        }
    }
}
