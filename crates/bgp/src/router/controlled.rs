//! Controlled export: each peer is sent exactly the routes a controller
//! outside the router computed for it ([`ExportMode::Controlled`]).
//!
//! The cloud speakers (VGW, Direct Connect gateway) announce what the cloud
//! model decides, per peer, with attributes the router must not rewrite: the
//! AS_PATH already holds the cloud's ASN, the MED differs per tunnel. The
//! router keeps each peer's wanted set, sends differences against its
//! Adj-RIB-Out, and tells the controller what it learned through
//! [`Router::peer_routes`] and [`Router::generation`].

use super::{ExportMode, PeerId, Queue, Router, RouterOutput, Up};
use crate::packet::{family_of, Family, Origin, PathAttributes, Prefix};
use crate::rib::decision::DEFAULT_LOCAL_PREF;
use crate::rib::{FxHashMap, OutBatch, RouteAttrs, Source, FAMILIES};
use std::net::IpAddr;
use std::sync::Arc;

impl Router {
    /// Controlled mode: the routes `peer` must have. Replaces the previous
    /// set; sends the difference (announcements and withdrawals, packed as
    /// usual) if the session is Established, otherwise remembers them and
    /// sends them all, then End-of-RIB, when it comes up. Routes of a family
    /// the session did not negotiate are kept but not sent.
    ///
    /// Attributes go as given (no AS prepend, MED kept, communities kept)
    /// except: NEXT_HOP (and the MP_REACH next hop for IPv6) is set to our
    /// address on that session (next-hop-self, as in BestPath mode),
    /// LOCAL_PREF removed towards eBGP peers. Well-known mandatory
    /// attributes missing from `routes` are filled in as in BestPath mode
    /// (ORIGIN incomplete, empty AS_PATH, LOCAL_PREF 100 towards iBGP peers;
    /// RFC 4271 §5.1.5). A prefix given twice: the last one counts.
    ///
    /// In BestPath mode: a no-op with a warning.
    pub fn set_peer_routes(
        &mut self,
        peer: PeerId,
        routes: Vec<(Prefix, PathAttributes)>,
        out: &mut Vec<RouterOutput>,
    ) {
        if self.config.export_mode != ExportMode::Controlled {
            tracing::warn!(router = %self.config.name, peer,
                "set_peer_routes ignored: the router exports its best paths");
            return;
        }
        let Some(p) = self.peers.get_mut(peer) else {
            tracing::warn!(router = %self.config.name, peer, "routes for a peer that does not exist");
            return;
        };
        p.controlled = routes
            .into_iter()
            .map(|(prefix, attrs)| (prefix.trunc(), attrs))
            .collect();
        let Some(up) = &p.up else {
            return;
        };
        let mut batch = OutBatch::default();
        let gone: Vec<Prefix> = p
            .adj_out
            .iter()
            .map(|(prefix, _)| prefix)
            .filter(|prefix| !p.controlled.contains_key(prefix))
            .collect();
        for prefix in gone {
            p.adj_out.set(prefix, None, &mut batch);
        }
        let mut shared = Shared::default();
        for (prefix, attrs) in &p.controlled {
            if up.negotiated.families.contains(&family_of(prefix)) {
                let route = shared.get(as_sent(up, prefix, attrs));
                p.adj_out.set(*prefix, Some(route), &mut batch);
            }
        }
        let mut queue = Queue::new();
        self.send_batch(peer, batch, &mut queue);
        self.drain(queue, out);
    }

    /// The whole wanted set of `family` for `peer`, recorded in its
    /// Adj-RIB-Out (the session just came up).
    pub(super) fn controlled_table(&mut self, peer: PeerId, family: Family) -> OutBatch {
        let mut batch = OutBatch::default();
        let Some(p) = self.peers.get_mut(peer) else {
            return batch;
        };
        let Some(up) = &p.up else {
            return batch;
        };
        let mut shared = Shared::default();
        for (prefix, attrs) in &p.controlled {
            if family_of(prefix) == family {
                let route = shared.get(as_sent(up, prefix, attrs));
                p.adj_out.set(*prefix, Some(route), &mut batch);
            }
        }
        batch
    }

    /// The routes accepted from `peer` (after its import policy, AS-loop
    /// check and prefix limit), sorted by prefix; empty when the session is
    /// not Established. The IPv4 next hop is in NEXT_HOP; an IPv6 next hop
    /// has no place in [`PathAttributes`] (see [`Router::routes`] for it).
    pub fn peer_routes(&self, peer: PeerId) -> Vec<(Prefix, PathAttributes)> {
        if self.peers.get(peer).and_then(|p| p.up.as_ref()).is_none() {
            return Vec::new();
        }
        let source = Source::Peer(peer);
        let mut routes: Vec<(Prefix, PathAttributes)> = FAMILIES
            .iter()
            .flat_map(|f| self.rib.iter_family(*f))
            .filter_map(|(prefix, dest)| {
                let path = dest.paths().iter().find(|p| p.source() == source)?;
                Some((prefix, with_next_hop(&path.attrs)))
            })
            .collect();
        routes.sort_unstable_by_key(|(prefix, _)| *prefix);
        routes
    }

    /// What `peer` has been sent and not withdrawn (its Adj-RIB-Out), sorted
    /// by prefix, with the attributes as sent (in both modes). The IPv6 next
    /// hop, sent in MP_REACH_NLRI, is not shown.
    pub fn advertised_routes(&self, peer: PeerId) -> Vec<(Prefix, PathAttributes)> {
        let Some(p) = self.peers.get(peer) else {
            return Vec::new();
        };
        let mut routes: Vec<(Prefix, PathAttributes)> = p
            .adj_out
            .iter()
            .map(|(prefix, route)| (prefix, with_next_hop(route)))
            .collect();
        routes.sort_unstable_by_key(|(prefix, _)| *prefix);
        routes
    }
}

/// What `peer` is sent for `prefix` with the controller's `attrs`.
fn as_sent(up: &Up, prefix: &Prefix, attrs: &PathAttributes) -> RouteAttrs {
    let mut attrs = attrs.clone();
    attrs.origin.get_or_insert(Origin::Incomplete);
    attrs.as_path.get_or_insert_with(Default::default);
    // The authoritative next hop of a stored route is `RouteAttrs::next_hop`.
    attrs.next_hop = None;
    if up.ebgp {
        // RFC 4271 §5.1.5: not sent to external peers.
        attrs.local_pref = None;
    } else {
        attrs.local_pref.get_or_insert(DEFAULT_LOCAL_PREF);
    }
    let next_hop = match prefix {
        Prefix::V4(_) => IpAddr::V4(up.next_hop4),
        Prefix::V6(_) => IpAddr::V6(up.next_hop6),
    };
    RouteAttrs {
        attrs,
        next_hop: Some(next_hop),
    }
}

/// The attributes of a stored route with its IPv4 next hop in NEXT_HOP, as
/// the wire carries it.
fn with_next_hop(route: &RouteAttrs) -> PathAttributes {
    let mut attrs = route.attrs.clone();
    if let Some(IpAddr::V4(next_hop)) = route.next_hop {
        attrs.next_hop = Some(next_hop);
    }
    attrs
}

/// One attributes object per distinct content, so that prefixes with equal
/// attributes share an UPDATE (the packer groups by object).
#[derive(Default)]
struct Shared(FxHashMap<RouteAttrs, Arc<RouteAttrs>>);

impl Shared {
    fn get(&mut self, route: RouteAttrs) -> Arc<RouteAttrs> {
        if let Some(shared) = self.0.get(&route) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(route.clone());
        self.0.insert(route, Arc::clone(&shared));
        shared
    }
}
