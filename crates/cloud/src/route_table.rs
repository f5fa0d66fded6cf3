//! A VPC route table: local, static and propagated routes, and the lookup
//! that picks among them (spec §3.1, §3.2).
//!
//! The runtime rebuilds a [`RouteTable`] whenever what a VGW offers for
//! propagation changes, then asks [`RouteTable::lookup`] per packet (and
//! `hybridlab trace` prints the [`Lookup`]); `show routes` prints
//! [`RouteTable::view`].

use crate::decision::{Elimination, Lost, Rule};
use crate::error::ConfigError;
use crate::limits::{Limits, PropagatedOverflow};
use crate::source::RouteSource;
use ipnet::IpNet;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Why a route is in the table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "origin", rename_all = "snake_case")]
pub enum RouteOrigin {
    /// The VPC's own CIDR.
    Local,
    /// Added by the operator, to a target such as igw-1, nat-1 or vgw-1.
    Static { target: String },
    /// Propagated by a gateway from one of its connections or VIFs.
    Propagated {
        source: RouteSource,
        gateway: String,
        via: String,
    },
}

impl RouteOrigin {
    /// Local, then static, then propagated (spec §3.1 items 2 and 3).
    fn class(&self) -> u8 {
        match self {
            RouteOrigin::Local => 0,
            RouteOrigin::Static { .. } => 1,
            RouteOrigin::Propagated { .. } => 2,
        }
    }

    fn source(&self) -> Option<RouteSource> {
        match self {
            RouteOrigin::Propagated { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// The next hop as `show routes` names it.
    pub fn target(&self) -> &str {
        match self {
            RouteOrigin::Local => "local",
            RouteOrigin::Static { target } => target,
            RouteOrigin::Propagated { gateway, .. } => gateway,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RouteEntry {
    pub prefix: IpNet,
    #[serde(flatten)]
    pub origin: RouteOrigin,
}

/// A route a gateway offers to the tables of its VPC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfferedRoute {
    pub prefix: IpNet,
    pub source: RouteSource,
    /// The propagating gateway, e.g. the VGW's name.
    pub gateway: String,
    /// The VPN connection or VIF the gateway learned it on.
    pub via: String,
    /// Whether that connection's status is UP. Propagated routes exist only
    /// while it is (spec §3.2); mere data-plane loss with the status still
    /// UP does not remove them, so the caller passes the status, not reachability.
    pub connection_up: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteTableConfig {
    pub name: String,
    pub vpc_cidrs: Vec<IpNet>,
    pub static_routes: Vec<(IpNet, String)>,
    /// Gateways with propagation enabled on this table; none by default
    /// (spec §3.2, off until enabled).
    pub propagating_gateways: BTreeSet<String>,
}

impl RouteTableConfig {
    /// Static routes within the table's quota (spec §3.2).
    pub fn validate(&self, limits: &Limits) -> Result<(), ConfigError> {
        let count = self.static_routes.len();
        if u64::try_from(count).map_or(true, |c| c > u64::from(limits.static_routes_per_table)) {
            return Err(ConfigError::TooManyStaticRoutes {
                table: self.name.clone(),
                count,
                limit: limits.static_routes_per_table,
            });
        }
        Ok(())
    }
}

/// What the propagation quota did (spec §3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PropagationReport {
    pub installed_prefixes: usize,
    /// Prefixes left out because the table was over its quota.
    pub dropped_over_limit: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteTable {
    pub name: String,
    entries: Vec<RouteEntry>,
    pub propagation: PropagationReport,
}

/// The answer to "where does a packet to `destination` go", with the
/// deciding rule and every candidate that lost (for `hybridlab trace`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lookup {
    pub destination: IpAddr,
    pub chosen: RouteEntry,
    pub rule: Rule,
    pub losers: Vec<Lost<RouteEntry>>,
}

/// One row of `show routes` for a route table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRow {
    pub prefix: IpNet,
    /// "local", "static" or "propagated".
    pub origin: &'static str,
    pub target: String,
    pub source: Option<RouteSource>,
    /// False when another route for the same prefix wins.
    pub active: bool,
}

impl RouteTable {
    pub fn build(config: &RouteTableConfig, offered: &[OfferedRoute], limits: &Limits) -> Self {
        let mut entries: Vec<RouteEntry> = config
            .vpc_cidrs
            .iter()
            .map(|p| RouteEntry {
                prefix: *p,
                origin: RouteOrigin::Local,
            })
            .collect();
        entries.extend(config.static_routes.iter().map(|(p, t)| RouteEntry {
            prefix: *p,
            origin: RouteOrigin::Static { target: t.clone() },
        }));
        let (propagated, propagation) = propagate(config, offered, limits);
        entries.extend(propagated);
        entries.sort();
        entries.dedup();
        RouteTable {
            name: config.name.clone(),
            entries,
            propagation,
        }
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    /// Pick the route for `destination`; `None` means the VPC drops it.
    pub fn lookup(&self, destination: IpAddr) -> Option<Lookup> {
        let matching: Vec<RouteEntry> = self
            .entries
            .iter()
            .filter(|e| e.prefix.contains(&destination))
            .cloned()
            .collect();
        let mut race = Elimination::new(matching);
        decide(&mut race);
        let chosen = race.remaining.first()?.clone();
        Some(Lookup {
            destination,
            chosen,
            rule: race.deciding_rule(),
            losers: race.losers,
        })
    }

    /// Every route, the winner of each prefix marked active.
    pub fn view(&self) -> Vec<RouteRow> {
        self.entries
            .iter()
            .map(|e| RouteRow {
                prefix: e.prefix,
                origin: match e.origin.class() {
                    0 => "local",
                    1 => "static",
                    _ => "propagated",
                },
                target: e.origin.target().to_string(),
                source: e.origin.source(),
                active: self.wins_its_prefix(e),
            })
            .collect()
    }

    fn wins_its_prefix(&self, entry: &RouteEntry) -> bool {
        let same: Vec<RouteEntry> = self
            .entries
            .iter()
            .filter(|e| e.prefix == entry.prefix)
            .cloned()
            .collect();
        let mut race = Elimination::new(same);
        decide(&mut race);
        race.remaining.first() == Some(entry)
    }
}

/// The order of spec §3.1, applied to routes that all match.
fn decide(race: &mut Elimination<RouteEntry>) {
    local_beats_more_specific_propagated(race);
    race.keep_min_by_key(Rule::LongestPrefix, |e| Reverse(e.prefix.prefix_len()));
    race.keep_min_by_key(Rule::StaticOverPropagated, |e| e.origin.class());
    race.keep_min_by_key(Rule::SourcePreference, |e| e.origin.source());
    race.keep_min_by_key(Rule::LowestName, |e| e.origin.clone());
}

/// Spec §3.1 item 2: inside the VPC's own CIDR the local route wins even
/// against a more specific propagated route. Static routes are not covered
/// by that rule and still follow longest prefix (AWS middlebox routing).
fn local_beats_more_specific_propagated(race: &mut Elimination<RouteEntry>) {
    let local_covers = race
        .remaining
        .iter()
        .any(|e| e.origin == RouteOrigin::Local);
    if !local_covers {
        return;
    }
    let (lost, kept): (Vec<_>, Vec<_>) = race
        .remaining
        .drain(..)
        .partition(|e| e.origin.class() == 2);
    race.remaining = kept;
    race.lose(lost, Rule::LocalRoute);
}

/// Routes that make it into the table: propagation enabled for the gateway,
/// connection UP, within the quota (spec §3.2).
fn propagate(
    config: &RouteTableConfig,
    offered: &[OfferedRoute],
    limits: &Limits,
) -> (Vec<RouteEntry>, PropagationReport) {
    let eligible: Vec<&OfferedRoute> = offered
        .iter()
        .filter(|r| r.connection_up && config.propagating_gateways.contains(&r.gateway))
        .collect();
    let prefixes: BTreeSet<IpNet> = eligible.iter().map(|r| r.prefix).collect();
    let quota = usize::try_from(limits.propagated_routes_per_table).unwrap_or(usize::MAX);
    let allowed: BTreeSet<IpNet> = match limits.propagated_overflow {
        _ if prefixes.len() <= quota => prefixes.clone(),
        PropagatedOverflow::DropExcess => prefixes.iter().take(quota).copied().collect(),
        PropagatedOverflow::DropAll => BTreeSet::new(),
    };
    let report = PropagationReport {
        installed_prefixes: allowed.len(),
        dropped_over_limit: prefixes.difference(&allowed).copied().collect(),
    };
    let entries = eligible
        .into_iter()
        .filter(|r| allowed.contains(&r.prefix))
        .map(|r| RouteEntry {
            prefix: r.prefix,
            origin: RouteOrigin::Propagated {
                source: r.source,
                gateway: r.gateway.clone(),
                via: r.via.clone(),
            },
        })
        .collect();
    (entries, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn offer(prefix: &str, source: RouteSource, via: &str) -> OfferedRoute {
        OfferedRoute {
            prefix: p(prefix),
            source,
            gateway: "vgw-1".into(),
            via: via.into(),
            connection_up: true,
        }
    }

    fn config() -> RouteTableConfig {
        RouteTableConfig {
            name: "rtb-main".into(),
            vpc_cidrs: vec![p("10.0.0.0/16")],
            static_routes: vec![],
            propagating_gateways: ["vgw-1".to_string()].into(),
        }
    }

    fn table(cfg: &RouteTableConfig, offered: &[OfferedRoute]) -> RouteTable {
        RouteTable::build(cfg, offered, &Limits::default())
    }

    #[test]
    fn vpc_local_route_beats_more_specific_propagated_route() {
        let t = table(
            &config(),
            &[offer("10.0.1.0/24", RouteSource::DirectConnect, "dx-1")],
        );
        let l = t.lookup(ip("10.0.1.5")).unwrap();
        assert_eq!(l.chosen.origin, RouteOrigin::Local);
        assert_eq!(l.rule, Rule::LocalRoute);
        assert_eq!(l.losers.len(), 1);
        assert_eq!(l.losers[0].candidate.prefix, p("10.0.1.0/24"));
    }

    #[test]
    fn vpc_lookup_uses_longest_prefix_match() {
        let t = table(
            &config(),
            &[
                offer("192.168.0.0/16", RouteSource::DirectConnect, "dx-1"),
                offer("192.168.1.0/24", RouteSource::VpnBgp, "vpn-1"),
            ],
        );
        let l = t.lookup(ip("192.168.1.1")).unwrap();
        assert_eq!(l.chosen.prefix, p("192.168.1.0/24"));
        assert_eq!(l.rule, Rule::LongestPrefix);
        assert_eq!(
            t.lookup(ip("192.168.2.1")).unwrap().chosen.prefix,
            p("192.168.0.0/16")
        );
    }

    #[test]
    fn vpc_static_route_beats_propagated_route_at_equal_length() {
        let mut cfg = config();
        cfg.static_routes
            .push((p("192.168.0.0/16"), "nat-1".into()));
        let t = table(
            &cfg,
            &[offer("192.168.0.0/16", RouteSource::DirectConnect, "dx-1")],
        );
        let l = t.lookup(ip("192.168.0.1")).unwrap();
        assert_eq!(l.chosen.origin.target(), "nat-1");
        assert_eq!(l.rule, Rule::StaticOverPropagated);
    }

    #[test]
    fn vpc_propagated_order_is_dx_then_vpn_static_then_vpn_bgp() {
        let all = [
            offer("192.168.0.0/16", RouteSource::VpnBgp, "vpn-2"),
            offer("192.168.0.0/16", RouteSource::VpnStatic, "vpn-1"),
            offer("192.168.0.0/16", RouteSource::DirectConnect, "dx-1"),
        ];
        let l = table(&config(), &all).lookup(ip("192.168.9.9")).unwrap();
        assert_eq!(l.chosen.origin.source(), Some(RouteSource::DirectConnect));
        assert_eq!(l.rule, Rule::SourcePreference);
        let l = table(&config(), &all[..2])
            .lookup(ip("192.168.9.9"))
            .unwrap();
        assert_eq!(l.chosen.origin.source(), Some(RouteSource::VpnStatic));
    }

    #[test]
    fn vpc_propagation_is_off_until_enabled() {
        let mut cfg = config();
        cfg.propagating_gateways.clear();
        let t = table(
            &cfg,
            &[offer("192.168.0.0/16", RouteSource::VpnBgp, "vpn-1")],
        );
        assert!(t.lookup(ip("192.168.0.1")).is_none());
        assert_eq!(t.entries().len(), 1);
    }

    #[test]
    fn vpc_propagated_routes_appear_only_while_connection_is_up() {
        let mut down = offer("192.168.0.0/16", RouteSource::VpnBgp, "vpn-1");
        down.connection_up = false;
        assert!(table(&config(), &[down])
            .lookup(ip("192.168.0.1"))
            .is_none());
    }

    #[test]
    fn vpc_propagated_routes_over_quota_drop_excess_by_default() {
        let offered: Vec<OfferedRoute> = (0..101)
            .map(|i| offer(&format!("172.16.{i}.0/24"), RouteSource::VpnBgp, "vpn-1"))
            .collect();
        let t = table(&config(), &offered);
        assert_eq!(t.propagation.installed_prefixes, 100);
        assert_eq!(t.propagation.dropped_over_limit.len(), 1);
        let limits = Limits {
            propagated_overflow: PropagatedOverflow::DropAll,
            ..Limits::default()
        };
        let t = RouteTable::build(&config(), &offered, &limits);
        assert_eq!(t.propagation.installed_prefixes, 0);
        assert!(t.lookup(ip("172.16.0.1")).is_none());
    }

    #[test]
    fn vpc_more_specific_static_route_inside_vpc_cidr_follows_longest_prefix() {
        let mut cfg = config();
        cfg.static_routes.push((p("10.0.5.0/24"), "eni-fw".into()));
        let l = table(&cfg, &[]).lookup(ip("10.0.5.1")).unwrap();
        assert_eq!(l.chosen.origin.target(), "eni-fw");
        assert_eq!(l.rule, Rule::LongestPrefix);
    }

    #[test]
    fn vpc_static_routes_are_limited_to_50_per_table() {
        let mut cfg = config();
        cfg.static_routes = (0..51)
            .map(|i| (p(&format!("172.16.{i}.0/24")), "nat-1".into()))
            .collect();
        let e = cfg.validate(&Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "route table rtb-main: 51 static routes exceed the limit of 50"
        );
        cfg.static_routes.pop();
        assert!(cfg.validate(&Limits::default()).is_ok());
    }

    #[test]
    fn vpc_lookup_serializes_rule_chosen_route_and_losers_for_trace() {
        let t = table(
            &config(),
            &[offer("10.0.1.0/24", RouteSource::DirectConnect, "dx-1")],
        );
        let v = serde_json::to_value(t.lookup(ip("10.0.1.5")).unwrap()).unwrap();
        assert_eq!(v["rule"], "local_route");
        assert_eq!(v["chosen"]["origin"], "local");
        assert_eq!(v["losers"][0]["candidate"]["origin"], "propagated");
        assert_eq!(v["losers"][0]["candidate"]["source"], "direct_connect");
        assert_eq!(v["losers"][0]["rule"], "local_route");
    }

    #[test]
    fn vpc_without_matching_route_drops() {
        assert!(table(&config(), &[]).lookup(ip("8.8.8.8")).is_none());
    }

    #[test]
    fn vpc_view_shows_origin_and_marks_the_active_route() {
        let mut cfg = config();
        cfg.static_routes
            .push((p("192.168.0.0/16"), "nat-1".into()));
        let t = table(
            &cfg,
            &[offer("192.168.0.0/16", RouteSource::VpnBgp, "vpn-1")],
        );
        let rows = t.view();
        let origins: Vec<(&str, bool)> = rows.iter().map(|r| (r.origin, r.active)).collect();
        assert_eq!(
            origins,
            vec![("local", true), ("static", true), ("propagated", false)]
        );
        let json = serde_json::to_value(&rows[2]).unwrap();
        assert_eq!(json["source"], "vpn_bgp");
    }
}
