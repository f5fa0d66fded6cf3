//! The decision process: which path to a prefix is best (RFC 4271 §9.1.2).
//!
//! Steps, in order; the first that tells two paths apart decides:
//! 1. a locally originated path wins (like FRR's weight for `network`);
//! 2. higher LOCAL_PREF (missing: 100) (§9.1.1);
//! 3. shorter AS_PATH ([`AsPath::path_len`]) (§9.1.2.2 a);
//! 4. lower ORIGIN (b);
//! 5. lower MED (missing: 0), only between paths from the same neighbouring
//!    AS unless `always_compare_med` (c);
//! 6. eBGP-learned over iBGP-learned (d);
//! 7. lower BGP identifier of the peer (f);
//! 8. lower peer address (g).
//!
//! Step 5 makes "better than" non-transitive: A may beat B on MED, B beat C
//! on router ID and C beat A on router ID. Folding pairwise over paths in
//! arrival order would then make the winner depend on arrival order. So, as
//! FRR's `deterministic-med` does, paths are first grouped by neighbouring
//! AS; each group's best is found with MED in play (the comparison is a total
//! order inside a group), then the group winners are compared, which never
//! compares MED because their neighbouring ASes differ. Groups and paths are
//! visited in table order (local first, then by peer index), so the result
//! does not depend on arrival order. With `always_compare_med` the
//! comparison is a total order everywhere and a plain fold suffices.
//!
//! [`AsPath::path_len`]: crate::packet::AsPath::path_len

use super::{Path, Source};
use crate::packet::Origin;
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// LOCAL_PREF assumed when a path carries none (the usual default).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// What the decision process needs to know about a peer, fixed while its
/// session is Established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerFacts {
    pub router_id: Ipv4Addr,
    pub address: IpAddr,
    /// The peer is in another AS.
    pub ebgp: bool,
}

/// Inputs of the comparison besides the two paths.
#[derive(Clone, Copy, Debug)]
pub struct DecisionContext<'a> {
    pub always_compare_med: bool,
    /// Indexed by peer; `None` for a peer that is not Established.
    pub peers: &'a [Option<PeerFacts>],
}

impl DecisionContext<'_> {
    fn facts(&self, source: Source) -> Option<&PeerFacts> {
        match source {
            Source::Local => None,
            Source::Peer(peer) => self.peers.get(peer).and_then(Option::as_ref),
        }
    }
}

/// The step that decided between the best path and the next best, with the
/// values compared; its `Display` is the `reason` of the control API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    OnlyPath,
    LocallyOriginated,
    LocalPref {
        better: u32,
        worse: u32,
    },
    AsPathLen {
        better: usize,
        worse: usize,
    },
    Origin {
        better: Origin,
        worse: Origin,
    },
    Med {
        better: u32,
        worse: u32,
    },
    Ebgp,
    RouterId {
        better: Ipv4Addr,
        worse: Ipv4Addr,
    },
    PeerAddress {
        better: IpAddr,
        worse: IpAddr,
    },
    /// Nothing told them apart; the first in table order stays best.
    Tie,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::OnlyPath => f.write_str("only path"),
            Step::LocallyOriginated => f.write_str("locally originated"),
            Step::LocalPref { better, worse } => write!(f, "higher LOCAL_PREF {better} > {worse}"),
            Step::AsPathLen { better, worse } => write!(f, "shorter AS_PATH {better} < {worse}"),
            Step::Origin { better, worse } => {
                write!(
                    f,
                    "lower ORIGIN {} < {}",
                    origin_name(*better),
                    origin_name(*worse)
                )
            }
            Step::Med { better, worse } => write!(f, "lower MED {better} < {worse}"),
            Step::Ebgp => f.write_str("eBGP over iBGP"),
            Step::RouterId { better, worse } => write!(f, "lower router ID {better} < {worse}"),
            Step::PeerAddress { better, worse } => {
                write!(f, "lower peer address {better} < {worse}")
            }
            Step::Tie => f.write_str("first of equal paths"),
        }
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
}

/// The AS a path was learned from, for grouping by neighbouring AS.
fn neighbour_as(path: &Path) -> Option<u32> {
    path.attrs.attrs.as_path.as_ref().and_then(|p| p.first_as())
}

/// Compares one criterion. `Less`: `a` is better.
fn step<T: Ord + Copy>(
    a: T,
    b: T,
    higher_wins: bool,
    describe: impl Fn(T, T) -> Step,
) -> Option<(Ordering, Step)> {
    let order = if higher_wins { b.cmp(&a) } else { a.cmp(&b) };
    match order {
        Ordering::Equal => None,
        Ordering::Less => Some((Ordering::Less, describe(a, b))),
        Ordering::Greater => Some((Ordering::Greater, describe(b, a))),
    }
}

/// Compares two paths to the same prefix. `Less`: `a` is preferred. The
/// step is described from the winner's side.
pub fn compare(a: &Path, b: &Path, ctx: &DecisionContext<'_>) -> (Ordering, Step) {
    let (x, y) = (&a.attrs.attrs, &b.attrs.attrs);
    let local = |p: &Path| p.source() == Source::Local;
    let fa = ctx.facts(a.source());
    let fb = ctx.facts(b.source());
    // A peer path whose facts are missing loses every tie-break.
    let router_id = |f: Option<&PeerFacts>| f.map_or(Ipv4Addr::BROADCAST, |f| f.router_id);
    let address =
        |f: Option<&PeerFacts>| f.map_or(IpAddr::V6(Ipv6Addr::from(u128::MAX)), |f| f.address);
    let ebgp = |f: Option<&PeerFacts>| f.is_some_and(|f| f.ebgp);
    let med_comparable = ctx.always_compare_med || neighbour_as(a) == neighbour_as(b);

    step(local(a), local(b), true, |_, _| Step::LocallyOriginated)
        .or_else(|| {
            step(
                x.local_pref.unwrap_or(DEFAULT_LOCAL_PREF),
                y.local_pref.unwrap_or(DEFAULT_LOCAL_PREF),
                true,
                |better, worse| Step::LocalPref { better, worse },
            )
        })
        .or_else(|| {
            step(
                x.as_path.as_ref().map_or(0, |p| p.path_len()),
                y.as_path.as_ref().map_or(0, |p| p.path_len()),
                false,
                |better, worse| Step::AsPathLen { better, worse },
            )
        })
        .or_else(|| {
            step(
                x.origin.unwrap_or(Origin::Incomplete),
                y.origin.unwrap_or(Origin::Incomplete),
                false,
                |better, worse| Step::Origin { better, worse },
            )
        })
        .or_else(|| {
            med_comparable
                .then(|| {
                    step(
                        x.med.unwrap_or(0),
                        y.med.unwrap_or(0),
                        false,
                        |better, worse| Step::Med { better, worse },
                    )
                })
                .flatten()
        })
        .or_else(|| step(ebgp(fa), ebgp(fb), true, |_, _| Step::Ebgp))
        .or_else(|| {
            step(router_id(fa), router_id(fb), false, |better, worse| {
                Step::RouterId { better, worse }
            })
        })
        .or_else(|| {
            step(address(fa), address(fb), false, |better, worse| {
                Step::PeerAddress { better, worse }
            })
        })
        .unwrap_or((Ordering::Equal, Step::Tie))
}

/// Index of the best path, ignoring the path at `skip`; `None` if no other
/// path is left. See the module comment for the order of comparisons.
pub fn select(paths: &[Path], skip: Option<usize>, ctx: &DecisionContext<'_>) -> Option<usize> {
    let mut candidates = (0..paths.len()).filter(|i| Some(*i) != skip);
    let better = |i: usize, j: usize| compare(&paths[i], &paths[j], ctx).0 == Ordering::Less;

    if ctx.always_compare_med {
        let first = candidates.next()?;
        return Some(candidates.fold(first, |best, i| if better(i, best) { i } else { best }));
    }

    let mut winners: SmallVec<[(Option<u32>, usize); 4]> = SmallVec::new();
    for i in candidates {
        let group = neighbour_as(&paths[i]);
        match winners.iter_mut().find(|(g, _)| *g == group) {
            Some((_, best)) => {
                if better(i, *best) {
                    *best = i;
                }
            }
            None => winners.push((group, i)),
        }
    }
    let mut winners = winners.into_iter().map(|(_, i)| i);
    let first = winners.next()?;
    Some(winners.fold(first, |best, i| if better(i, best) { i } else { best }))
}

/// Why `paths[best]` won: the step that decided against the next best path.
pub fn reason(paths: &[Path], best: usize, ctx: &DecisionContext<'_>) -> Step {
    match (paths.get(best), select(paths, Some(best), ctx)) {
        (Some(winner), Some(runner_up)) => compare(winner, &paths[runner_up], ctx).1,
        _ => Step::OnlyPath,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AsPath, PathAttributes};
    use crate::rib::RouteAttrs;
    use std::sync::Arc;

    struct Case {
        peers: Vec<Option<PeerFacts>>,
        always_compare_med: bool,
    }

    impl Case {
        /// Peer i: router ID 10.0.0.(i+1), address 192.0.2.(i+1), eBGP.
        fn new(n: usize) -> Self {
            let peers = (0..n)
                .map(|i| {
                    let i = u8::try_from(i + 1).unwrap();
                    Some(PeerFacts {
                        router_id: Ipv4Addr::new(10, 0, 0, i),
                        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)),
                        ebgp: true,
                    })
                })
                .collect();
            Case {
                peers,
                always_compare_med: false,
            }
        }

        fn ctx(&self) -> DecisionContext<'_> {
            DecisionContext {
                always_compare_med: self.always_compare_med,
                peers: &self.peers,
            }
        }

        fn best(&self, paths: &[Path]) -> (usize, String) {
            let best = select(paths, None, &self.ctx()).unwrap();
            (best, reason(paths, best, &self.ctx()).to_string())
        }
    }

    fn attrs(asns: &[u32]) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(asns.iter().copied())),
            ..PathAttributes::default()
        }
    }

    fn path(peer: usize, attrs: PathAttributes) -> Path {
        Path::new(
            Source::Peer(peer),
            Arc::new(RouteAttrs {
                attrs,
                next_hop: None,
            }),
        )
    }

    #[test]
    fn only_path() {
        let case = Case::new(1);
        assert_eq!(
            case.best(&[path(0, attrs(&[65001]))]),
            (0, "only path".into())
        );
    }

    #[test]
    fn locally_originated_beats_everything() {
        let case = Case::new(1);
        let mut better = attrs(&[]);
        better.local_pref = Some(1000);
        let local = Path::new(
            Source::Local,
            Arc::new(RouteAttrs {
                attrs: attrs(&[65001, 65002, 65003]),
                next_hop: None,
            }),
        );
        assert_eq!(
            case.best(&[local, path(0, better)]),
            (0, "locally originated".into())
        );
    }

    #[test]
    fn higher_local_pref() {
        let case = Case::new(2);
        let mut a = attrs(&[65001, 65002, 65003]);
        a.local_pref = Some(200);
        let b = attrs(&[65002]);
        assert_eq!(
            case.best(&[path(0, b), path(1, a)]),
            (1, "higher LOCAL_PREF 200 > 100".into())
        );
    }

    #[test]
    fn shorter_as_path() {
        let case = Case::new(2);
        let paths = [path(0, attrs(&[1, 2, 3, 4])), path(1, attrs(&[5]))];
        assert_eq!(case.best(&paths), (1, "shorter AS_PATH 1 < 4".into()));
    }

    #[test]
    fn lower_origin() {
        let case = Case::new(2);
        let mut a = attrs(&[1]);
        a.origin = Some(Origin::Incomplete);
        let paths = [path(0, a), path(1, attrs(&[2]))];
        assert_eq!(
            case.best(&paths),
            (1, "lower ORIGIN igp < incomplete".into())
        );
    }

    #[test]
    fn lower_med_same_neighbour_as() {
        let case = Case::new(2);
        let mut a = attrs(&[65001, 7]);
        a.med = Some(200);
        let mut b = attrs(&[65001, 8]);
        b.med = Some(100);
        let paths = [path(0, a), path(1, b)];
        assert_eq!(case.best(&paths), (1, "lower MED 100 < 200".into()));
    }

    #[test]
    fn med_ignored_across_neighbour_ases_unless_always_compare() {
        let mut case = Case::new(2);
        let mut a = attrs(&[65001]);
        a.med = Some(200);
        let mut b = attrs(&[65002]);
        b.med = Some(100);
        let paths = [path(0, a), path(1, b)];
        assert_eq!(
            case.best(&paths),
            (0, "lower router ID 10.0.0.1 < 10.0.0.2".into())
        );
        case.always_compare_med = true;
        assert_eq!(case.best(&paths), (1, "lower MED 100 < 200".into()));
    }

    #[test]
    fn missing_med_counts_as_zero() {
        let case = Case::new(2);
        let mut a = attrs(&[65001]);
        a.med = Some(5);
        let paths = [path(0, a), path(1, attrs(&[65001]))];
        assert_eq!(case.best(&paths), (1, "lower MED 0 < 5".into()));
    }

    #[test]
    fn ebgp_over_ibgp() {
        let mut case = Case::new(2);
        case.peers[0].as_mut().unwrap().ebgp = false;
        let paths = [path(0, attrs(&[65001])), path(1, attrs(&[65002]))];
        assert_eq!(case.best(&paths), (1, "eBGP over iBGP".into()));
    }

    #[test]
    fn lower_router_id_then_lower_address() {
        let mut case = Case::new(2);
        case.peers[0].as_mut().unwrap().router_id = Ipv4Addr::new(10, 0, 0, 3);
        let paths = [path(0, attrs(&[65001])), path(1, attrs(&[65002]))];
        assert_eq!(
            case.best(&paths),
            (1, "lower router ID 10.0.0.2 < 10.0.0.3".into())
        );

        case.peers[1].as_mut().unwrap().router_id = Ipv4Addr::new(10, 0, 0, 3);
        case.peers[0].as_mut().unwrap().address = "192.0.2.3".parse().unwrap();
        assert_eq!(
            case.best(&paths),
            (1, "lower peer address 192.0.2.2 < 192.0.2.3".into())
        );
    }

    /// A (AS 1, MED 200, id .1), B (AS 1, MED 100, id .3), C (AS 2, id .2).
    /// Pairwise in arrival order the answer changes with the order: B beats
    /// A on MED, C beats B on router ID, A beats C on router ID. Grouping by
    /// neighbouring AS picks B in AS 1, then C beats B: C, whatever the order.
    #[test]
    fn deterministic_med_does_not_depend_on_order() {
        let mut case = Case::new(3);
        case.peers[1].as_mut().unwrap().router_id = Ipv4Addr::new(10, 0, 0, 3);
        case.peers[2].as_mut().unwrap().router_id = Ipv4Addr::new(10, 0, 0, 2);
        let mut a = attrs(&[1, 9]);
        a.med = Some(200);
        let mut b = attrs(&[1, 9]);
        b.med = Some(100);
        let c = attrs(&[2, 9]);
        let paths = [path(0, a.clone()), path(1, b.clone()), path(2, c.clone())];
        assert_eq!(
            case.best(&paths),
            (2, "lower router ID 10.0.0.2 < 10.0.0.3".into())
        );

        // Same paths, different table order (peers renumbered): same winner.
        let mut case2 = Case::new(3);
        case2.peers[0] = case.peers[2];
        case2.peers[1] = case.peers[0];
        case2.peers[2] = case.peers[1];
        let paths2 = [path(0, c), path(1, a), path(2, b)];
        assert_eq!(case2.best(&paths2).0, 0);
    }

    #[test]
    fn reason_is_against_the_runner_up() {
        let case = Case::new(3);
        let mut a = attrs(&[1]);
        a.local_pref = Some(300);
        let mut b = attrs(&[2]);
        b.local_pref = Some(200);
        let paths = [path(0, attrs(&[3])), path(1, a), path(2, b)];
        assert_eq!(case.best(&paths), (1, "higher LOCAL_PREF 300 > 200".into()));
    }
}
