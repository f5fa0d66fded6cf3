//! Import: from a received UPDATE into the table (RFC 4271 §9.1.1).
//!
//! For each announced prefix, in order: the AS-loop check (§9.1.2: a path
//! containing our AS is not eligible), the NEXT_HOP check (§6.3: our own
//! address as next hop is a semantic error; the route is ignored, the
//! session stays up), then the peer's import policy. A prefix refused by any
//! of them replaces, and so withdraws, what the peer sent for it before
//! (§3.1: a new announcement implicitly withdraws the previous one).
//!
//! A peer's paths live in the shared table ([`LocRib`]); what stays here is
//! per peer: the counts shown by the control API, and the prefixes received
//! but refused by policy or next-hop check, which count as received until
//! withdrawn. AS-looped paths are not held and count toward nothing.

use super::decision::{DecisionContext, DEFAULT_LOCAL_PREF};
use super::loc_rib::LocRib;
use super::{family_index, FxHashSet, RouteAttrs, Source};
use crate::packet::{family_of, Family, PathAttributes, Prefix, Update};
use crate::policy::{Policy, Trace};
use crate::router::PeerId;
use serde::Serialize;
use smallvec::SmallVec;
use std::net::IpAddr;
use std::sync::Arc;

/// Prefix counts of one peer in one family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FamilyCounts {
    /// Held from the peer before import policy: announced, not withdrawn.
    pub received: u64,
    /// Of those, the ones import let into the table.
    pub accepted: u64,
}

/// What the import of one peer's UPDATE depends on.
#[derive(Clone, Copy, Debug)]
pub struct ImportContext<'a> {
    pub peer: PeerId,
    pub local_as: u32,
    /// The peer is in another AS.
    pub ebgp: bool,
    /// Our end of the session's connection (the §6.3 next-hop check).
    pub local_address: IpAddr,
    /// Negotiated families; prefixes of others are ignored (RFC 4760 §7).
    pub families: &'a [Family],
    pub policy: &'a Policy,
    /// Maximum prefixes received, per family of [`FAMILIES`].
    pub limits: [Option<u32>; 2],
    pub decision: DecisionContext<'a>,
}

/// An UPDATE would take the received count of `family` past `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitHit {
    pub family: Family,
    pub limit: u32,
}

/// Per-peer import state.
#[derive(Debug, Default)]
pub struct AdjRibIn {
    counts: [FamilyCounts; 2],
    /// Received, held, but refused by import.
    refused: FxHashSet<Prefix>,
    as_loops: u64,
    own_next_hops: u64,
}

/// Why import refused every prefix of an UPDATE's family at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    AsLoop,
    OwnNextHop,
    NoNextHop,
}

impl AdjRibIn {
    pub fn counts(&self, family: Family) -> FamilyCounts {
        family_index(family).map_or_else(FamilyCounts::default, |i| self.counts[i])
    }

    /// Prefixes refused because their AS_PATH held our AS, since the session
    /// came up.
    pub fn as_loops(&self) -> u64 {
        self.as_loops
    }

    /// Prefixes refused because their next hop was our own address.
    pub fn own_next_hops(&self) -> u64 {
        self.own_next_hops
    }

    /// Forgets everything: the session went down and its paths were purged.
    pub fn clear(&mut self) {
        *self = AdjRibIn::default();
    }

    /// Whether importing `update` would take a family past its limit, and
    /// which. Checked before anything is changed: the session is about to
    /// go down and its routes will be purged anyway, so none of this UPDATE
    /// is imported and no other peer sees it come and go.
    pub fn check_limits(
        &self,
        rib: &LocRib,
        ctx: &ImportContext<'_>,
        update: &Update,
    ) -> Option<LimitHit> {
        if ctx.limits.iter().all(Option::is_none) {
            return None;
        }
        let source = Source::Peer(ctx.peer);
        let held = |p: &Prefix| rib.has_path(p, source) || self.refused.contains(p);
        let mut count = self.counts.map(|c| c.received);
        // An UPDATE may withdraw and re-announce a prefix, or name one twice:
        // count each prefix once.
        let mut gone = FxHashSet::default();
        for prefix in update.withdrawn_prefixes() {
            if let Some(i) = family_index(family_of(&prefix)) {
                if held(&prefix) && gone.insert(prefix) {
                    count[i] = count[i].saturating_sub(1);
                }
            }
        }
        // Looped paths are refused before counting (see `announce`).
        let looped = update
            .attributes
            .as_path
            .as_ref()
            .is_some_and(|p| p.contains(ctx.local_as));
        let mut added = FxHashSet::default();
        for prefix in update.announced().filter(|_| !looped) {
            let family = family_of(&prefix);
            let Some(i) = family_index(family).filter(|_| ctx.families.contains(&family)) else {
                continue;
            };
            let still_held = held(&prefix) && !gone.contains(&prefix);
            if !still_held && added.insert(prefix) {
                count[i] = count[i].saturating_add(1);
                if let Some(limit) = ctx.limits[i] {
                    if count[i] > u64::from(limit) {
                        return Some(LimitHit { family, limit });
                    }
                }
            }
        }
        None
    }

    /// Applies `update` to the table. Prefixes whose best path changed are
    /// pushed to `changed` when given; `None` when nobody needs to know.
    /// Returns whether any path of the peer was added, removed or changed.
    pub fn import(
        &mut self,
        rib: &mut LocRib,
        ctx: &ImportContext<'_>,
        update: Update,
        mut changed: Option<&mut Vec<Prefix>>,
    ) -> bool {
        let Update {
            withdrawn,
            attributes,
            nlri,
            mp_reach,
            mp_unreach,
        } = update;

        let withdrawn = withdrawn
            .into_iter()
            .map(Prefix::V4)
            .chain(mp_unreach.into_iter().flat_map(|u| u.withdrawn));
        let mut paths_changed = false;
        for prefix in withdrawn {
            paths_changed |= self.withdraw(rib, ctx, prefix, changed.as_deref_mut());
        }

        match (nlri.is_empty(), mp_reach) {
            (true, None) => {}
            (false, None) => {
                let next_hop = attributes.next_hop.map(IpAddr::V4);
                let prefixes = nlri.into_iter().map(Prefix::V4);
                let batch = (Family::IPV4_UNICAST, next_hop);
                paths_changed |= self.announce(
                    rib,
                    ctx,
                    batch,
                    attributes,
                    prefixes,
                    changed.as_deref_mut(),
                );
            }
            (nlri_empty, Some(mp)) => {
                if !nlri_empty {
                    let next_hop = attributes.next_hop.map(IpAddr::V4);
                    let prefixes = nlri.into_iter().map(Prefix::V4);
                    let batch = (Family::IPV4_UNICAST, next_hop);
                    let attrs = attributes.clone();
                    paths_changed |=
                        self.announce(rib, ctx, batch, attrs, prefixes, changed.as_deref_mut());
                }
                let batch = (mp.family, mp.next_hops.first().copied());
                paths_changed |=
                    self.announce(rib, ctx, batch, attributes, mp.nlri.into_iter(), changed);
            }
        }
        paths_changed
    }

    fn withdraw(
        &mut self,
        rib: &mut LocRib,
        ctx: &ImportContext<'_>,
        prefix: Prefix,
        changed: Option<&mut Vec<Prefix>>,
    ) -> bool {
        let Some(i) = family_index(family_of(&prefix)) else {
            return false;
        };
        let outcome = rib.set(prefix, Source::Peer(ctx.peer), None, &ctx.decision);
        let counts = &mut self.counts[i];
        if outcome.existed {
            counts.accepted = counts.accepted.saturating_sub(1);
            counts.received = counts.received.saturating_sub(1);
        } else if !self.refused.is_empty() && self.refused.remove(&prefix) {
            counts.received = counts.received.saturating_sub(1);
        }
        if let (true, Some(changed)) = (outcome.best_changed, changed) {
            changed.push(prefix);
        }
        outcome.path_changed
    }

    /// Imports prefixes of one family that share attributes and next hop.
    /// Returns whether any path of the peer changed.
    fn announce(
        &mut self,
        rib: &mut LocRib,
        ctx: &ImportContext<'_>,
        (family, next_hop): (Family, Option<IpAddr>),
        mut attrs: PathAttributes,
        prefixes: impl Iterator<Item = Prefix>,
        mut changed: Option<&mut Vec<Prefix>>,
    ) -> bool {
        let Some(i) = family_index(family).filter(|_| ctx.families.contains(&family)) else {
            return false;
        };
        let refusal = if attrs
            .as_path
            .as_ref()
            .is_some_and(|p| p.contains(ctx.local_as))
        {
            Some(Refusal::AsLoop)
        } else if next_hop == Some(ctx.local_address) {
            Some(Refusal::OwnNextHop)
        } else if next_hop.is_none() {
            Some(Refusal::NoNextHop)
        } else {
            None
        };
        attrs.next_hop = None;
        if ctx.ebgp {
            // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored.
            attrs.local_pref = Some(DEFAULT_LOCAL_PREF);
        }
        let shared = Arc::new(RouteAttrs { attrs, next_hop });
        let unchanged = ctx.policy.accepts_all_unchanged();
        // Prefixes that take the same path through the policy get the same
        // changed attributes: build them once per UPDATE.
        let mut edited: SmallVec<[(Trace, Arc<RouteAttrs>); 2]> = SmallVec::new();
        let mut paths_changed = false;

        for prefix in prefixes {
            if family_index(family_of(&prefix)) != Some(i) {
                continue;
            }
            let verdict = match refusal {
                Some(_) => None,
                None if unchanged => Some(Arc::clone(&shared)),
                None => ctx.policy.evaluate(&prefix, &shared.attrs).map(|trace| {
                    if !ctx.policy.modifies(&trace) {
                        return Arc::clone(&shared);
                    }
                    if let Some((_, attrs)) = edited.iter().find(|(t, _)| *t == trace) {
                        return Arc::clone(attrs);
                    }
                    let mut route = RouteAttrs::clone(&shared);
                    ctx.policy.apply(&trace, &mut route.attrs, None);
                    let route = Arc::new(route);
                    edited.push((trace, Arc::clone(&route)));
                    route
                }),
            };
            match refusal {
                Some(Refusal::AsLoop) => self.as_loops = self.as_loops.saturating_add(1),
                Some(Refusal::OwnNextHop) => {
                    self.own_next_hops = self.own_next_hops.saturating_add(1)
                }
                Some(Refusal::NoNextHop) | None => {}
            }

            let accepted = verdict.is_some();
            let outcome = rib.set(prefix, Source::Peer(ctx.peer), verdict, &ctx.decision);
            paths_changed |= outcome.path_changed;
            let counts = &mut self.counts[i];
            if refusal == Some(Refusal::AsLoop) {
                // A looped path is not held at all: it replaces (withdraws)
                // what the peer sent before and counts toward nothing,
                // max-prefix included. Peers such as FRR echo our own routes
                // back; counting them would trip a cloud limit of 100 at
                // 100 minus what we announce.
                if outcome.existed {
                    counts.accepted = counts.accepted.saturating_sub(1);
                    counts.received = counts.received.saturating_sub(1);
                } else if !self.refused.is_empty() && self.refused.remove(&prefix) {
                    counts.received = counts.received.saturating_sub(1);
                }
                if let (true, Some(changed)) = (outcome.best_changed, changed.as_deref_mut()) {
                    changed.push(prefix);
                }
                continue;
            }
            match (accepted, outcome.existed) {
                (true, true) => {}
                (true, false) => {
                    counts.accepted = counts.accepted.saturating_add(1);
                    if self.refused.is_empty() || !self.refused.remove(&prefix) {
                        counts.received = counts.received.saturating_add(1);
                    }
                }
                (false, true) => {
                    counts.accepted = counts.accepted.saturating_sub(1);
                    self.refused.insert(prefix);
                }
                (false, false) => {
                    if self.refused.insert(prefix) {
                        counts.received = counts.received.saturating_add(1);
                    }
                }
            }
            if let (true, Some(changed)) = (outcome.best_changed, changed.as_deref_mut()) {
                changed.push(prefix);
            }
        }
        paths_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AsPath, Community, MpReach, MpUnreach, Origin, Prefix4};
    use crate::policy::{Action, Term};
    use crate::rib::PeerFacts;
    use std::net::Ipv4Addr;

    const LOCAL_AS: u32 = 64512;

    struct Fixture {
        rib: LocRib,
        adj: AdjRibIn,
        peers: Vec<Option<PeerFacts>>,
        policy: Policy,
        limits: [Option<u32>; 2],
        ebgp: bool,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                rib: LocRib::default(),
                adj: AdjRibIn::default(),
                peers: vec![Some(PeerFacts {
                    router_id: Ipv4Addr::new(10, 0, 0, 2),
                    address: "192.0.2.2".parse().unwrap(),
                    ebgp: true,
                })],
                policy: Policy::default(),
                limits: [None, None],
                ebgp: true,
            }
        }

        fn import(&mut self, update: Update) -> (Option<LimitHit>, Vec<Prefix>) {
            let families = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
            let ctx = ImportContext {
                peer: 0,
                local_as: LOCAL_AS,
                ebgp: self.ebgp,
                local_address: "192.0.2.1".parse().unwrap(),
                families: &families,
                policy: &self.policy,
                limits: self.limits,
                decision: DecisionContext {
                    always_compare_med: false,
                    peers: &self.peers,
                },
            };
            if let Some(hit) = self.adj.check_limits(&self.rib, &ctx, &update) {
                return (Some(hit), Vec::new());
            }
            let mut changed = Vec::new();
            self.adj
                .import(&mut self.rib, &ctx, update, Some(&mut changed));
            (None, changed)
        }

        fn v4(&self) -> FamilyCounts {
            self.adj.counts(Family::IPV4_UNICAST)
        }
    }

    fn attrs(asns: &[u32]) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(asns.iter().copied())),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 2)),
            ..PathAttributes::default()
        }
    }

    fn nets(n: u32) -> Vec<Prefix4> {
        (0..n)
            .map(|i| Prefix4::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap())
            .collect()
    }

    fn announce(attrs: PathAttributes, nlri: Vec<Prefix4>) -> Update {
        Update {
            attributes: attrs,
            nlri,
            ..Update::default()
        }
    }

    #[test]
    fn prefixes_of_one_update_share_one_attribute_object() {
        let mut f = Fixture::new();
        let (_, changed) = f.import(announce(attrs(&[65000]), nets(3)));
        assert_eq!(changed.len(), 3);
        let ptrs: Vec<_> = changed
            .iter()
            .map(|p| Arc::as_ptr(&f.rib.best(p).unwrap().attrs))
            .collect();
        assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(
            f.v4(),
            FamilyCounts {
                received: 3,
                accepted: 3
            }
        );
    }

    #[test]
    fn local_pref_from_external_peer_is_ignored() {
        let mut f = Fixture::new();
        let mut a = attrs(&[65000]);
        a.local_pref = Some(500);
        f.import(announce(a.clone(), nets(1)));
        let best = f.rib.best(&Prefix::V4(nets(1)[0])).unwrap();
        assert_eq!(best.attrs.attrs.local_pref, Some(100));
        assert_eq!(best.attrs.next_hop, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(best.attrs.attrs.next_hop, None);

        let mut f = Fixture::new();
        f.ebgp = false;
        f.import(announce(a, nets(1)));
        let best = f.rib.best(&Prefix::V4(nets(1)[0])).unwrap();
        assert_eq!(best.attrs.attrs.local_pref, Some(500));
    }

    #[test]
    fn as_loop_is_refused_counted_and_withdraws_the_previous_path() {
        let mut f = Fixture::new();
        f.import(announce(attrs(&[65000]), nets(2)));
        let (_, changed) = f.import(announce(attrs(&[65000, LOCAL_AS, 65001]), nets(1)));
        assert_eq!(changed, [Prefix::V4(nets(1)[0])]);
        assert!(f.rib.best(&Prefix::V4(nets(1)[0])).is_none());
        assert_eq!(f.adj.as_loops(), 1);
        // The looped path replaced the held one and is not held itself.
        assert_eq!(
            f.v4(),
            FamilyCounts {
                received: 1,
                accepted: 1
            }
        );
        // Withdrawing it changes nothing more.
        f.import(Update {
            withdrawn: nets(1),
            ..Update::default()
        });
        assert_eq!(
            f.v4(),
            FamilyCounts {
                received: 1,
                accepted: 1
            }
        );
    }

    #[test]
    fn looped_routes_echoed_back_do_not_count_toward_the_limit() {
        let mut f = Fixture::new();
        f.limits = [Some(100), None];
        let all = nets(102);
        // A peer like FRR echoes our two routes back with our AS in the path.
        let (hit, _) = f.import(announce(attrs(&[65000, LOCAL_AS]), all[100..].to_vec()));
        assert_eq!(hit, None);
        let (hit, _) = f.import(announce(attrs(&[65000]), all[..100].to_vec()));
        assert_eq!(hit, None);
        assert_eq!(f.v4().received, 100);
        assert_eq!(f.adj.as_loops(), 2);
    }

    #[test]
    fn own_address_as_next_hop_is_refused() {
        let mut f = Fixture::new();
        let mut a = attrs(&[65000]);
        a.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
        let (_, changed) = f.import(announce(a, nets(1)));
        assert!(changed.is_empty());
        assert_eq!(f.adj.own_next_hops(), 1);
        assert_eq!(
            f.v4(),
            FamilyCounts {
                received: 1,
                accepted: 0
            }
        );
    }

    #[test]
    fn import_policy_refuses_and_edits_sharing_the_edited_attributes() {
        let mut f = Fixture::new();
        f.policy = Policy::new(
            "in",
            vec![
                Term {
                    prefixes: vec!["10.0.0.0/24".parse().unwrap()],
                    action: Action::Reject,
                    ..Term::default()
                },
                Term {
                    prefixes: vec!["10.0.0.0/16 le 24".parse().unwrap()],
                    local_pref: Some(250),
                    add_communities: vec![Community::new(64512, 9)],
                    ..Term::default()
                },
            ],
            Action::Accept,
        );
        let (_, changed) = f.import(announce(attrs(&[65000]), nets(3)));
        assert_eq!(changed.len(), 2);
        let a = f.rib.best(&changed[0]).unwrap();
        let b = f.rib.best(&changed[1]).unwrap();
        assert_eq!(a.attrs.attrs.local_pref, Some(250));
        assert_eq!(a.attrs.attrs.communities, [Community::new(64512, 9)]);
        assert!(Arc::ptr_eq(&a.attrs, &b.attrs));
        assert_eq!(
            f.v4(),
            FamilyCounts {
                received: 3,
                accepted: 2
            }
        );
    }

    #[test]
    fn ipv6_routes_take_the_mp_reach_next_hop() {
        let mut f = Fixture::new();
        let p: Prefix = "2001:db8:1::/48".parse().unwrap();
        let mut a = attrs(&[65000]);
        a.next_hop = None;
        f.import(Update {
            attributes: a,
            mp_reach: Some(MpReach {
                family: Family::IPV6_UNICAST,
                next_hops: vec!["2001:db8::2".parse().unwrap(), "fe80::2".parse().unwrap()],
                nlri: vec![p],
            }),
            ..Update::default()
        });
        let best = f.rib.best(&p).unwrap();
        assert_eq!(best.attrs.next_hop, Some("2001:db8::2".parse().unwrap()));
        assert_eq!(f.adj.counts(Family::IPV6_UNICAST).accepted, 1);
        f.import(Update {
            mp_unreach: Some(MpUnreach {
                family: Family::IPV6_UNICAST,
                withdrawn: vec![p],
            }),
            ..Update::default()
        });
        assert!(f.rib.best(&p).is_none());
        assert_eq!(f.adj.counts(Family::IPV6_UNICAST), FamilyCounts::default());
    }

    #[test]
    fn limit_100_accepts_100_and_the_101st_trips() {
        let mut f = Fixture::new();
        f.limits = [Some(100), None];
        let all = nets(101);
        let (hit, _) = f.import(announce(attrs(&[65000]), all[..100].to_vec()));
        assert_eq!(hit, None);
        assert_eq!(f.v4().received, 100);
        // Re-announcing what is held does not count.
        let (hit, _) = f.import(announce(attrs(&[65000, 1]), all[..100].to_vec()));
        assert_eq!(hit, None);
        let (hit, _) = f.import(announce(attrs(&[65000]), all[100..].to_vec()));
        assert_eq!(
            hit,
            Some(LimitHit {
                family: Family::IPV4_UNICAST,
                limit: 100
            })
        );
        // Nothing of the tripping UPDATE was imported.
        assert_eq!(f.v4().received, 100);
        // Withdraw one and re-announce in one UPDATE: still 100.
        let swap = Update {
            withdrawn: all[..1].to_vec(),
            attributes: attrs(&[65000]),
            nlri: all[100..].to_vec(),
            ..Update::default()
        };
        let (hit, _) = f.import(swap);
        assert_eq!(hit, None);
        assert_eq!(f.v4().received, 100);
    }

    #[test]
    fn unnegotiated_family_is_ignored() {
        let mut f = Fixture::new();
        let families = [Family::IPV4_UNICAST];
        let ctx = ImportContext {
            peer: 0,
            local_as: LOCAL_AS,
            ebgp: true,
            local_address: "192.0.2.1".parse().unwrap(),
            families: &families,
            policy: &f.policy,
            limits: [None, None],
            decision: DecisionContext {
                always_compare_med: false,
                peers: &f.peers,
            },
        };
        let update = Update {
            attributes: attrs(&[65000]),
            mp_reach: Some(MpReach {
                family: Family::IPV6_UNICAST,
                next_hops: vec!["2001:db8::2".parse().unwrap()],
                nlri: vec!["2001:db8:1::/48".parse().unwrap()],
            }),
            ..Update::default()
        };
        f.adj.import(&mut f.rib, &ctx, update, None);
        assert!(f.rib.is_empty());
    }
}
