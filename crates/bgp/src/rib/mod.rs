//! Adj-RIBs-In, Loc-RIB, Adj-RIBs-Out and the decision process
//! (RFC 4271 §3.2, §9).
//!
//! Storage follows the layout of production daemons (FRR's `bgp_dest`,
//! BIRD's `net`): one table per family keyed by prefix, each entry holding
//! every path that survived import, at most one per source, and the index of
//! the best one. A peer's Adj-RIB-In is the set of its paths across the
//! table, so receiving a prefix costs one table operation, and the decision
//! for that prefix runs on the entry already in hand.
//!
//! Attributes are shared: all prefixes of one UPDATE point at one
//! [`RouteAttrs`] behind an [`Arc`]. The same goes for the Adj-RIBs-Out,
//! where every prefix sent with the same attributes shares one.
//!
//! - [`loc_rib`]: the table and its per-prefix entries.
//! - [`decision`]: the comparison of paths (§9.1.2) and its reason strings.
//! - [`adj_in`]: import from an UPDATE (§9.1.1): loop and next-hop checks,
//!   import policy, prefix counting and limits.
//! - [`export`]: what a peer is sent for a best path (§9.1.3, §5.1).
//! - [`adj_out`]: what was sent to each peer, and packing changes into UPDATEs.

pub mod adj_in;
pub mod adj_out;
pub mod decision;
mod dense_map;
pub mod export;
pub mod loc_rib;

pub use adj_in::{AdjRibIn, FamilyCounts, ImportContext, LimitHit};
pub use adj_out::{AdjRibOut, OutBatch};
pub use decision::{DecisionContext, PeerFacts, Step};
pub use export::{ExportTarget, Exporter};
pub use loc_rib::{Dest, LocRib, Outcome};

use crate::packet::{Family, PathAttributes};
use crate::router::PeerId;
use std::net::IpAddr;
use std::sync::Arc;

/// Where a path came from. Ordered: local paths first, then peers in the
/// order they were added; paths of an entry are kept in this order, which
/// makes the decision process deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Originated by this router (`networks`, `announce`).
    Local,
    Peer(PeerId),
}

/// The attributes of a path as stored.
///
/// `next_hop` is the one authoritative next hop for both families: for IPv4
/// routes the NEXT_HOP attribute, for IPv6 routes the global address of
/// MP_REACH_NLRI (RFC 2545 §3). `attrs.next_hop` is always `None` here and
/// filled in only on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    pub attrs: PathAttributes,
    /// `None` for locally originated routes: next hop self on export.
    pub next_hop: Option<IpAddr>,
}

/// [`Source`] in four octets, so that a path is two words: 0 is local,
/// `n + 1` is peer `n`. Same order as [`Source`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SourceId(u32);

impl From<Source> for SourceId {
    fn from(source: Source) -> Self {
        match source {
            Source::Local => SourceId(0),
            // A router never has four billion peers.
            Source::Peer(peer) => {
                SourceId(u32::try_from(peer).map_or(u32::MAX, |p| p.saturating_add(1)))
            }
        }
    }
}

impl From<SourceId> for Source {
    fn from(id: SourceId) -> Self {
        match id.0 {
            0 => Source::Local,
            n => Source::Peer((n - 1) as PeerId),
        }
    }
}

/// One path to a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    source: SourceId,
    pub attrs: Arc<RouteAttrs>,
}

impl Path {
    pub fn new(source: Source, attrs: Arc<RouteAttrs>) -> Self {
        Path {
            source: source.into(),
            attrs,
        }
    }

    pub fn source(&self) -> Source {
        self.source.into()
    }

    pub(crate) fn source_id(&self) -> SourceId {
        self.source
    }
}

/// The families the RIB keeps, as an index into per-family arrays.
pub const FAMILIES: [Family; 2] = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];

/// Index of `family` in [`FAMILIES`]; `None` for families not kept.
pub fn family_index(family: Family) -> Option<usize> {
    FAMILIES.iter().position(|f| *f == family)
}

/// Fast hashing for the tables. FxHash is not hardened against chosen
/// collisions; the peers of a lab are its own routers and test daemons, and
/// a full table must load faster than BIRD does (SipHash alone costs more
/// than that budget allows).
pub(crate) type FxHashMap<K, V> = rustc_hash::FxHashMap<K, V>;
pub(crate) type FxHashSet<K> = rustc_hash::FxHashSet<K>;
