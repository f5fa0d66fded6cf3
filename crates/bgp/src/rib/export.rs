//! What a peer is sent for a best path (RFC 4271 §9.1.3, §5.1; RFC 1997).
//!
//! In order:
//! - split horizon: a path is not sent back to the peer it came from. RFC
//!   4271 allows it (FRR does it for eBGP); the peer would drop it as an AS
//!   loop anyway, and not sending it saves a table's worth of UPDATEs;
//! - a path learned from an internal peer is not sent to internal peers
//!   (§9.2: full mesh, no route reflection);
//! - NO_ADVERTISE: to nobody; NO_EXPORT, NO_EXPORT_SUBCONFED: to no external
//!   peer (RFC 1997; no confederations here);
//! - to an external peer: the local AS prepended once (§5.1.2), next hop
//!   self (§5.1.3), no LOCAL_PREF (§5.1.5), and a MED received from a peer
//!   removed (§5.1.4: it is meant for the neighbouring AS only);
//! - to an internal peer: LOCAL_PREF always present (§5.1.5), next hop kept,
//!   except next hop self for locally originated paths;
//! - unknown optional transitive attributes passed on with the Partial bit
//!   set, unknown non-transitive ones dropped (§5, §9.1.3);
//! - then the peer's export policy, whose `prepend` adds more copies of the
//!   local AS towards external peers.
//!
//! An [`Exporter`] lives for one batch of changes to one peer and remembers
//! what it built: every prefix whose best path shares an attributes object
//! (and takes the same way through the policy) gets the same exported one.

use super::decision::{PeerFacts, DEFAULT_LOCAL_PREF};
use super::{FxHashMap, Path, RouteAttrs, Source};
use crate::packet::{flags, Community, Origin, Prefix};
use crate::policy::{Policy, Trace};
use crate::router::PeerId;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The peer routes are exported to.
#[derive(Clone, Copy, Debug)]
pub struct ExportTarget<'a> {
    pub peer: PeerId,
    pub local_as: u32,
    /// The peer is in another AS.
    pub ebgp: bool,
    /// Our next hop towards this peer, per family.
    pub next_hop4: Ipv4Addr,
    pub next_hop6: Ipv6Addr,
    pub policy: &'a Policy,
    /// Every peer's facts, to tell paths from internal peers.
    pub peers: &'a [Option<PeerFacts>],
}

/// Identity of an attributes object in the table, and its family.
type Key = (usize, bool);

/// Exports paths to one peer, sharing the attributes it builds.
#[derive(Debug)]
pub struct Exporter<'a> {
    target: ExportTarget<'a>,
    policy_passes_all: bool,
    /// Per source attributes object: the object itself (kept alive, so its
    /// address cannot be reused while the key is in use) and what the fixed
    /// rewriting made of it (`None`: not sent to this peer).
    rewritten: FxHashMap<Key, (Arc<RouteAttrs>, Option<Arc<RouteAttrs>>)>,
    edited: FxHashMap<(Key, Trace), Arc<RouteAttrs>>,
}

impl<'a> Exporter<'a> {
    pub fn new(target: ExportTarget<'a>) -> Self {
        Exporter {
            policy_passes_all: target.policy.accepts_all_unchanged(),
            target,
            rewritten: FxHashMap::default(),
            edited: FxHashMap::default(),
        }
    }

    /// What the peer should have for `prefix` when `path` is best; `None`:
    /// nothing (a withdrawal if something was sent before).
    pub fn export(&mut self, prefix: &Prefix, path: &Path) -> Option<Arc<RouteAttrs>> {
        if path.source() == Source::Peer(self.target.peer) {
            return None;
        }
        let key = (Arc::as_ptr(&path.attrs) as usize, prefix.addr().is_ipv6());
        let base = match self.rewritten.get(&key) {
            Some((_, base)) => base.clone(),
            None => {
                let base = self.rewrite(path, key.1).map(Arc::new);
                self.rewritten
                    .insert(key, (Arc::clone(&path.attrs), base.clone()));
                base
            }
        }?;
        if self.policy_passes_all {
            return Some(base);
        }
        let policy = self.target.policy;
        let trace = policy.evaluate(prefix, &base.attrs)?;
        if !policy.modifies(&trace) {
            return Some(base);
        }
        let prepend_as = self.target.ebgp.then_some(self.target.local_as);
        let edited = self
            .edited
            .entry((key, trace))
            .or_insert_with_key(|(_, trace)| {
                let mut route = RouteAttrs::clone(&base);
                policy.apply(trace, &mut route.attrs, prepend_as);
                Arc::new(route)
            });
        Some(Arc::clone(edited))
    }

    /// The fixed part of export, before policy.
    fn rewrite(&self, path: &Path, ipv6: bool) -> Option<RouteAttrs> {
        let target = &self.target;
        let local = path.source() == Source::Local;
        let from_internal = match path.source() {
            Source::Local => false,
            Source::Peer(p) => target
                .peers
                .get(p)
                .and_then(Option::as_ref)
                .is_some_and(|f| !f.ebgp),
        };
        if from_internal && !target.ebgp {
            return None;
        }
        let communities = &path.attrs.attrs.communities;
        if communities.contains(&Community::NO_ADVERTISE) {
            return None;
        }
        let no_export = communities.contains(&Community::NO_EXPORT)
            || communities.contains(&Community::NO_EXPORT_SUBCONFED);
        if target.ebgp && no_export {
            return None;
        }

        let mut route = RouteAttrs::clone(&path.attrs);
        let attrs = &mut route.attrs;
        attrs.unknown.retain(|a| {
            a.flags & (flags::OPTIONAL | flags::TRANSITIVE) == flags::OPTIONAL | flags::TRANSITIVE
        });
        for a in &mut attrs.unknown {
            a.flags |= flags::PARTIAL;
        }
        // Well-known mandatory on the wire (§5): always present when sent.
        attrs.origin.get_or_insert(Origin::Incomplete);
        let as_path = attrs.as_path.get_or_insert_with(Default::default);
        let next_hop_self = if ipv6 {
            IpAddr::V6(target.next_hop6)
        } else {
            IpAddr::V4(target.next_hop4)
        };
        if target.ebgp {
            as_path.prepend(target.local_as, 1);
            attrs.local_pref = None;
            if !local {
                attrs.med = None;
            }
            route.next_hop = Some(next_hop_self);
        } else {
            attrs.local_pref = Some(attrs.local_pref.unwrap_or(DEFAULT_LOCAL_PREF));
            if local || route.next_hop.is_none() {
                route.next_hop = Some(next_hop_self);
            }
        }
        Some(route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AsPath, PathAttributes, RawAttribute};
    use crate::policy::Term;
    use bytes::Bytes;

    const LOCAL_AS: u32 = 64512;

    fn peers() -> Vec<Option<PeerFacts>> {
        // 0: external, 1: internal, 2: the target.
        [true, false, true]
            .iter()
            .enumerate()
            .map(|(i, ebgp)| {
                Some(PeerFacts {
                    router_id: Ipv4Addr::new(10, 0, 0, i as u8 + 2),
                    address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, i as u8 + 2)),
                    ebgp: *ebgp,
                })
            })
            .collect()
    }

    fn target<'a>(
        peers: &'a [Option<PeerFacts>],
        policy: &'a Policy,
        ebgp: bool,
    ) -> ExportTarget<'a> {
        ExportTarget {
            peer: 2,
            local_as: LOCAL_AS,
            ebgp,
            next_hop4: Ipv4Addr::new(192, 0, 2, 1),
            next_hop6: "2001:db8::1".parse().unwrap(),
            policy,
            peers,
        }
    }

    fn path(source: Source, attrs: PathAttributes) -> Path {
        let next_hop = match source {
            Source::Local => None,
            Source::Peer(_) => Some("192.0.2.2".parse().unwrap()),
        };
        Path::new(source, Arc::new(RouteAttrs { attrs, next_hop }))
    }

    fn received() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65000])),
            med: Some(50),
            local_pref: Some(100),
            ..PathAttributes::default()
        }
    }

    fn p(text: &str) -> Prefix {
        text.parse().unwrap()
    }

    #[test]
    fn external_peer_gets_prepend_next_hop_self_and_no_local_pref_or_med() {
        let peers = peers();
        let policy = Policy::default();
        let mut ex = Exporter::new(target(&peers, &policy, true));
        let out = ex
            .export(&p("10.0.0.0/8"), &path(Source::Peer(0), received()))
            .unwrap();
        assert_eq!(
            out.attrs.as_path,
            Some(AsPath::from_sequence([LOCAL_AS, 65000]))
        );
        assert_eq!(out.next_hop, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(out.attrs.local_pref, None);
        assert_eq!(out.attrs.med, None);
        // IPv6 prefixes get the IPv6 next hop.
        let out = ex
            .export(&p("2001:db8:1::/48"), &path(Source::Peer(0), received()))
            .unwrap();
        assert_eq!(out.next_hop, Some("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn locally_originated_keeps_its_med_and_gets_our_as() {
        let peers = peers();
        let policy = Policy::default();
        let mut ex = Exporter::new(target(&peers, &policy, true));
        let local = PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(10),
            ..PathAttributes::default()
        };
        let out = ex
            .export(&p("10.0.0.0/8"), &path(Source::Local, local))
            .unwrap();
        assert_eq!(out.attrs.as_path, Some(AsPath::from_sequence([LOCAL_AS])));
        assert_eq!(out.attrs.med, Some(10));
    }

    #[test]
    fn internal_peer_gets_local_pref_and_the_original_next_hop() {
        let peers = peers();
        let policy = Policy::default();
        let mut ex = Exporter::new(target(&peers, &policy, false));
        let mut attrs = received();
        attrs.local_pref = None;
        let out = ex
            .export(&p("10.0.0.0/8"), &path(Source::Peer(0), attrs))
            .unwrap();
        assert_eq!(out.attrs.as_path, Some(AsPath::from_sequence([65000])));
        assert_eq!(out.attrs.local_pref, Some(100));
        assert_eq!(out.attrs.med, Some(50));
        assert_eq!(out.next_hop, Some("192.0.2.2".parse().unwrap()));
        // Not what came from another internal peer.
        assert!(ex
            .export(&p("10.0.0.0/8"), &path(Source::Peer(1), received()))
            .is_none());
        // Locally originated: next hop self.
        let out = ex
            .export(
                &p("10.0.0.0/8"),
                &path(Source::Local, PathAttributes::default()),
            )
            .unwrap();
        assert_eq!(out.next_hop, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn split_horizon() {
        let peers = peers();
        let policy = Policy::default();
        let mut ex = Exporter::new(target(&peers, &policy, true));
        assert!(ex
            .export(&p("10.0.0.0/8"), &path(Source::Peer(2), received()))
            .is_none());
    }

    #[test]
    fn no_export_and_no_advertise() {
        let peers = peers();
        let policy = Policy::default();
        let mut no_export = received();
        no_export.communities = vec![Community::NO_EXPORT];
        let mut no_advertise = received();
        no_advertise.communities = vec![Community::NO_ADVERTISE];
        let prefix = p("10.0.0.0/8");

        let mut external = Exporter::new(target(&peers, &policy, true));
        assert!(external
            .export(&prefix, &path(Source::Peer(0), no_export.clone()))
            .is_none());
        assert!(external
            .export(&prefix, &path(Source::Peer(0), no_advertise.clone()))
            .is_none());

        let mut internal = Exporter::new(target(&peers, &policy, false));
        assert!(internal
            .export(&prefix, &path(Source::Peer(0), no_export))
            .is_some());
        assert!(internal
            .export(&prefix, &path(Source::Peer(0), no_advertise))
            .is_none());
    }

    #[test]
    fn unknown_transitive_passed_with_partial_non_transitive_dropped() {
        let peers = peers();
        let policy = Policy::default();
        let mut ex = Exporter::new(target(&peers, &policy, true));
        let mut attrs = received();
        attrs.unknown = vec![
            RawAttribute {
                flags: flags::OPTIONAL | flags::TRANSITIVE,
                type_code: 99,
                value: Bytes::from_static(b"abc"),
            },
            RawAttribute {
                flags: flags::OPTIONAL,
                type_code: 98,
                value: Bytes::from_static(b"xyz"),
            },
        ];
        let out = ex
            .export(&p("10.0.0.0/8"), &path(Source::Peer(0), attrs))
            .unwrap();
        assert_eq!(out.attrs.unknown.len(), 1);
        assert_eq!(out.attrs.unknown[0].type_code, 99);
        assert_eq!(
            out.attrs.unknown[0].flags,
            flags::OPTIONAL | flags::TRANSITIVE | flags::PARTIAL
        );
    }

    #[test]
    fn policy_prepend_3_and_med_200_shared_between_prefixes() {
        let peers = peers();
        let policy = Policy::new(
            "backup-path",
            vec![Term {
                prefixes: vec!["10.10.0.0/16 le 24".parse().unwrap()],
                prepend: 3,
                med: Some(200),
                ..Term::default()
            }],
            crate::policy::Action::Accept,
        );
        let mut ex = Exporter::new(target(&peers, &policy, true));
        let shared = path(Source::Local, PathAttributes::default());
        let a = ex.export(&p("10.10.0.0/16"), &shared).unwrap();
        let b = ex.export(&p("10.10.1.0/24"), &shared).unwrap();
        let plain = ex.export(&p("10.20.0.0/16"), &shared).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.attrs.as_path, Some(AsPath::from_sequence([LOCAL_AS; 4])));
        assert_eq!(a.attrs.med, Some(200));
        assert_eq!(plain.attrs.as_path, Some(AsPath::from_sequence([LOCAL_AS])));
        assert_eq!(plain.attrs.med, None);

        // Towards an internal peer the prepend is not applied.
        let mut ex = Exporter::new(target(&peers, &policy, false));
        let a = ex.export(&p("10.10.0.0/16"), &shared).unwrap();
        assert_eq!(a.attrs.as_path, Some(AsPath::default()));
        assert_eq!(a.attrs.med, Some(200));
    }
}
