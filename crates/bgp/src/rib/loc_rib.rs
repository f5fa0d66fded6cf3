//! The table: per prefix, every path that survived import and the best one.

use super::decision::{self, DecisionContext};
use super::dense_map::DenseMap;
use super::{Path, RouteAttrs, Source, SourceId};
use crate::packet::{Family, Prefix, Prefix4, Prefix6};
use smallvec::SmallVec;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The paths to one prefix, in [`Source`] order, and which one is best.
#[derive(Clone, Debug)]
pub struct Dest {
    /// Most prefixes have a single path: it lives inline, no allocation.
    paths: SmallVec<[Path; 1]>,
    /// Index into `paths`; meaningful while `paths` is not empty.
    best: u32,
}

impl Dest {
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    pub fn best_index(&self) -> usize {
        self.best as usize
    }

    pub fn best(&self) -> Option<&Path> {
        self.paths.get(self.best_index())
    }

    fn best_key(&self) -> Option<(SourceId, *const RouteAttrs)> {
        self.best().map(|p| (p.source_id(), Arc::as_ptr(&p.attrs)))
    }

    /// Puts in, replaces or (with `None`) removes the path of `source`.
    fn set(&mut self, source: SourceId, attrs: Option<Arc<RouteAttrs>>) -> PathChange {
        let at = self.paths.binary_search_by(|p| p.source_id().cmp(&source));
        match (at, attrs) {
            (Ok(i), Some(attrs)) => {
                let old = &mut self.paths[i].attrs;
                let same = Arc::ptr_eq(old, &attrs) || **old == *attrs;
                *old = attrs;
                PathChange {
                    existed: true,
                    changed: !same,
                }
            }
            (Ok(i), None) => {
                self.paths.remove(i);
                PathChange {
                    existed: true,
                    changed: true,
                }
            }
            (Err(i), Some(attrs)) => {
                self.paths.insert(i, Path { source, attrs });
                PathChange {
                    existed: false,
                    changed: true,
                }
            }
            (Err(_), None) => PathChange::default(),
        }
    }

    fn reselect(&mut self, ctx: &DecisionContext<'_>) {
        self.best = match self.paths.len() {
            0 | 1 => 0,
            _ => decision::select(&self.paths, None, ctx)
                .and_then(|i| u32::try_from(i).ok())
                .unwrap_or(0),
        };
    }
}

/// What a change did to an entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The source had a path to the prefix before.
    pub existed: bool,
    /// The source's path was added, removed, or replaced by one with other
    /// attributes.
    pub path_changed: bool,
    /// The best path is another one now (or there is none any more).
    pub best_changed: bool,
}

/// What [`Dest::set`] did to the path of one source.
#[derive(Clone, Copy, Debug, Default)]
struct PathChange {
    existed: bool,
    changed: bool,
}

/// A table key: a prefix, hashed as few words as possible (a full table
/// is a million hashes per load).
trait Key: Copy + Eq + Hash {
    fn prefix(self) -> Prefix;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key4(Prefix4);

impl Hash for Key4 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state
            .write_u64((u64::from(u32::from(self.0.addr())) << 8) | u64::from(self.0.prefix_len()));
    }
}

impl Key for Key4 {
    fn prefix(self) -> Prefix {
        Prefix::V4(self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key6(Prefix6);

impl Hash for Key6 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from(self.0.addr()));
        state.write_u8(self.0.prefix_len());
    }
}

impl Key for Key6 {
    fn prefix(self) -> Prefix {
        Prefix::V6(self.0)
    }
}

/// One family's table.
#[derive(Debug)]
struct Table<K> {
    dests: DenseMap<K, Dest>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            dests: DenseMap::default(),
        }
    }
}

impl<K: Key> Table<K> {
    fn set(
        &mut self,
        key: K,
        source: SourceId,
        attrs: Option<Arc<RouteAttrs>>,
        ctx: &DecisionContext<'_>,
    ) -> Outcome {
        let Some(dest) = self.dests.get_mut(&key) else {
            let Some(attrs) = attrs else {
                return Outcome::default();
            };
            let mut paths = SmallVec::new();
            paths.push(Path { source, attrs });
            let inserted = self.dests.insert_new(key, Dest { paths, best: 0 });
            return Outcome {
                existed: false,
                path_changed: true,
                best_changed: inserted,
            };
        };
        let before = dest.best_key();
        let change = dest.set(source, attrs);
        if dest.paths.is_empty() {
            self.dests.remove(&key);
            return Outcome {
                existed: change.existed,
                path_changed: change.changed,
                best_changed: before.is_some(),
            };
        }
        dest.reselect(ctx);
        Outcome {
            existed: change.existed,
            path_changed: change.changed,
            best_changed: dest.best_key() != before,
        }
    }

    /// Drops every path of `source`; calls `changed` for each prefix whose
    /// best path changed.
    fn purge(
        &mut self,
        source: SourceId,
        ctx: &DecisionContext<'_>,
        mut changed: impl FnMut(Prefix),
    ) {
        self.dests.retain(|key, dest| {
            let before = dest.best_key();
            if !dest.set(source, None).existed {
                return true;
            }
            if dest.paths.is_empty() {
                changed(key.prefix());
                return false;
            }
            dest.reselect(ctx);
            if dest.best_key() != before {
                changed(key.prefix());
            }
            true
        });
    }

    fn iter(&self) -> impl Iterator<Item = (Prefix, &Dest)> {
        self.dests.iter().map(|(k, d)| (k.prefix(), d))
    }
}

/// The Loc-RIB with the Adj-RIBs-In folded in (see the module comment of
/// [`crate::rib`]).
#[derive(Debug, Default)]
pub struct LocRib {
    v4: Table<Key4>,
    v6: Table<Key6>,
}

impl LocRib {
    /// Puts in, replaces or (with `None`) removes `source`'s path to
    /// `prefix`, and re-runs the decision for that prefix.
    pub fn set(
        &mut self,
        prefix: Prefix,
        source: Source,
        attrs: Option<Arc<RouteAttrs>>,
        ctx: &DecisionContext<'_>,
    ) -> Outcome {
        let source = SourceId::from(source);
        match prefix {
            Prefix::V4(p) => self.v4.set(Key4(p), source, attrs, ctx),
            Prefix::V6(p) => self.v6.set(Key6(p), source, attrs, ctx),
        }
    }

    pub fn get(&self, prefix: &Prefix) -> Option<&Dest> {
        match prefix {
            Prefix::V4(p) => self.v4.dests.get(&Key4(*p)),
            Prefix::V6(p) => self.v6.dests.get(&Key6(*p)),
        }
    }

    pub fn best(&self, prefix: &Prefix) -> Option<&Path> {
        self.get(prefix).and_then(Dest::best)
    }

    pub fn has_path(&self, prefix: &Prefix, source: Source) -> bool {
        let source = SourceId::from(source);
        self.get(prefix).is_some_and(|d| {
            d.paths
                .binary_search_by(|p| p.source_id().cmp(&source))
                .is_ok()
        })
    }

    /// Drops every path of `source`; returns the prefixes whose best path
    /// changed. Visits the whole table: for a session going down, not for
    /// an UPDATE.
    pub fn purge(&mut self, source: Source, ctx: &DecisionContext<'_>) -> Vec<Prefix> {
        let mut changed = Vec::new();
        self.purge_with(source, ctx, |p| changed.push(p));
        changed
    }

    /// [`LocRib::purge`], telling `changed` of each prefix instead of
    /// listing them: nothing is collected when nobody needs to know.
    pub fn purge_with(
        &mut self,
        source: Source,
        ctx: &DecisionContext<'_>,
        mut changed: impl FnMut(Prefix),
    ) {
        let source = SourceId::from(source);
        self.v4.purge(source, ctx, &mut changed);
        self.v6.purge(source, ctx, &mut changed);
    }

    /// Every entry of `family`, in no particular order.
    pub fn iter_family(&self, family: Family) -> Box<dyn Iterator<Item = (Prefix, &Dest)> + '_> {
        match family {
            Family::IPV4_UNICAST => Box::new(self.v4.iter()),
            Family::IPV6_UNICAST => Box::new(self.v6.iter()),
            _ => Box::new(std::iter::empty()),
        }
    }

    /// Number of prefixes with at least one path.
    pub fn len(&self) -> usize {
        self.v4.dests.len() + self.v6.dests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of paths of every source, all families.
    pub fn path_count(&self) -> usize {
        self.v4.dests.values().map(|d| d.paths.len()).sum::<usize>()
            + self.v6.dests.values().map(|d| d.paths.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AsPath, PathAttributes};
    use crate::rib::PeerFacts;
    use std::net::{IpAddr, Ipv4Addr};

    fn facts(n: u8) -> Vec<Option<PeerFacts>> {
        (1..=n)
            .map(|i| {
                Some(PeerFacts {
                    router_id: Ipv4Addr::new(10, 0, 0, i),
                    address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)),
                    ebgp: true,
                })
            })
            .collect()
    }

    fn route(asns: &[u32]) -> Option<Arc<RouteAttrs>> {
        Some(Arc::new(RouteAttrs {
            attrs: PathAttributes {
                as_path: Some(AsPath::from_sequence(asns.iter().copied())),
                ..PathAttributes::default()
            },
            next_hop: None,
        }))
    }

    #[test]
    fn set_replace_remove_and_best_tracking() {
        let peers = facts(2);
        let ctx = DecisionContext {
            always_compare_med: false,
            peers: &peers,
        };
        let mut rib = LocRib::default();
        let p: Prefix = "10.0.0.0/8".parse().unwrap();

        let o = rib.set(p, Source::Peer(1), route(&[2, 2]), &ctx);
        assert_eq!(
            o,
            Outcome {
                existed: false,
                path_changed: true,
                best_changed: true
            }
        );
        // A worse path does not change the best.
        let o = rib.set(p, Source::Peer(0), route(&[1, 1, 1]), &ctx);
        assert_eq!(
            o,
            Outcome {
                existed: false,
                path_changed: true,
                best_changed: false
            }
        );
        assert_eq!(rib.best(&p).unwrap().source(), Source::Peer(1));
        // Implicit withdraw: peer 0's replacement is better.
        let o = rib.set(p, Source::Peer(0), route(&[1]), &ctx);
        assert_eq!(
            o,
            Outcome {
                existed: true,
                path_changed: true,
                best_changed: true
            }
        );
        assert_eq!(rib.best(&p).unwrap().source(), Source::Peer(0));
        assert_eq!(rib.path_count(), 2);
        // Paths are kept in source order.
        let sources: Vec<_> = rib
            .get(&p)
            .unwrap()
            .paths()
            .iter()
            .map(|p| p.source())
            .collect();
        assert_eq!(sources, [Source::Peer(0), Source::Peer(1)]);

        let o = rib.set(p, Source::Peer(0), None, &ctx);
        assert_eq!(
            o,
            Outcome {
                existed: true,
                path_changed: true,
                best_changed: true
            }
        );
        assert_eq!(rib.best(&p).unwrap().source(), Source::Peer(1));
        let o = rib.set(p, Source::Peer(0), None, &ctx);
        assert_eq!(o, Outcome::default());
        let o = rib.set(p, Source::Peer(1), None, &ctx);
        assert_eq!(
            o,
            Outcome {
                existed: true,
                path_changed: true,
                best_changed: true
            }
        );
        assert!(rib.is_empty());
    }

    #[test]
    fn same_attributes_again_change_nothing() {
        let peers = facts(1);
        let ctx = DecisionContext {
            always_compare_med: false,
            peers: &peers,
        };
        let mut rib = LocRib::default();
        let p: Prefix = "10.0.0.0/8".parse().unwrap();
        rib.set(p, Source::Peer(0), route(&[1]), &ctx);
        // Another object with equal content, as a re-sent UPDATE makes.
        let o = rib.set(p, Source::Peer(0), route(&[1]), &ctx);
        assert!(o.existed && !o.path_changed);
        let o = rib.set(p, Source::Peer(0), route(&[1, 1]), &ctx);
        assert!(o.path_changed);
    }

    #[test]
    fn purge_reports_only_changed_bests() {
        let peers = facts(2);
        let ctx = DecisionContext {
            always_compare_med: false,
            peers: &peers,
        };
        let mut rib = LocRib::default();
        let a: Prefix = "10.0.0.0/8".parse().unwrap();
        let b: Prefix = "2001:db8::/32".parse().unwrap();
        let c: Prefix = "10.1.0.0/16".parse().unwrap();
        rib.set(a, Source::Peer(0), route(&[1]), &ctx);
        rib.set(a, Source::Peer(1), route(&[2, 2]), &ctx);
        rib.set(b, Source::Peer(0), route(&[1]), &ctx);
        rib.set(c, Source::Peer(0), route(&[1, 1]), &ctx);
        rib.set(c, Source::Peer(1), route(&[2]), &ctx);
        let mut changed = rib.purge(Source::Peer(0), &ctx);
        changed.sort();
        assert_eq!(changed, [a, b]);
        assert_eq!(rib.len(), 2);
        assert_eq!(rib.best(&a).unwrap().source(), Source::Peer(1));
    }
}
