//! The virtual private gateway: which path it sends traffic on, what it
//! announces on each tunnel, and how its tunnels report status.
//!
//! The runtime runs one BGP session per tunnel (and per directly attached
//! VIF) and keeps their Adj-RIB-In; it turns received routes into
//! [`Candidate`]s and asks [`lookup`] / [`select`] here, because the VGW's
//! order (spec §2.5) is not RFC 4271's.

use crate::decision::{Elimination, Lost, Rule};
use crate::limits::Limits;
use crate::path::{Announcement, Candidate, Egress, TunnelId};
use crate::route_table::OfferedRoute;
use crate::source::RouteSource;
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes};
use hybridlab_bgp::router::PrefixLimit;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

/// Timers the VGW offers in its OPEN (spec §2.2, checklist 7).
pub const HOLD_TIME_SECS: u16 = 30;
pub const KEEPALIVE_SECS: u16 = 10;
/// Graceful restart time the VGW advertises (spec §2.2, observed).
pub const GRACEFUL_RESTART_SECS: u16 = 120;

/// MED on the primary egress tunnel and on the others (spec §2.3, observed).
pub const MED_PRIMARY: u32 = 100;
pub const MED_SECONDARY: u32 = 200;

/// The VGW's choice for one prefix. `chosen` holds one path, except for
/// equal DX VIFs, among which a flow hash picks per packet (spec §5.5; see
/// [`crate::dx::vif::pick_by_flow_hash`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VgwSelection {
    pub prefix: IpNet,
    pub chosen: Vec<Candidate>,
    pub rule: Rule,
    pub losers: Vec<Lost<Candidate>>,
}

/// Longest prefix match over every route the VGW holds, then [`select`].
/// `None`: the VGW drops the packet; it never falls back to a default
/// (spec §2.5, checklist 11).
pub fn lookup(
    routes: &[Candidate],
    destination: IpAddr,
    primary: Option<&TunnelId>,
) -> Option<VgwSelection> {
    let longest = routes
        .iter()
        .filter(|c| c.prefix.contains(&destination))
        .map(|c| c.prefix)
        .max_by_key(|p| p.prefix_len())?;
    let same: Vec<Candidate> = routes
        .iter()
        .filter(|c| c.prefix == longest)
        .cloned()
        .collect();
    select(same, primary)
}

/// Every prefix the VGW holds with its selection, sorted by prefix: what
/// `show routes` prints for a VGW (candidates, chosen path, deciding rule)
/// and the best routes CloudHub and propagation start from.
pub fn table(routes: &[Candidate], primary: Option<&TunnelId>) -> Vec<VgwSelection> {
    let prefixes: BTreeSet<IpNet> = routes.iter().map(|c| c.prefix).collect();
    prefixes
        .into_iter()
        .filter_map(|prefix| {
            let same = routes
                .iter()
                .filter(|c| c.prefix == prefix)
                .cloned()
                .collect();
            select(same, primary)
        })
        .collect()
}

/// What the VGW offers to its VPC's route tables: its selected route per
/// prefix, with the winner's source (spec §3.2). `connection_up` answers
/// whether the VPN connection or VIF behind an egress has status UP.
pub fn offer_to_vpc(
    gateway: &str,
    table: &[VgwSelection],
    connection_up: impl Fn(&Egress) -> bool,
) -> Vec<OfferedRoute> {
    table
        .iter()
        .filter_map(|s| {
            let best = s.chosen.iter().min_by(|a, b| a.egress.cmp(&b.egress))?;
            Some(OfferedRoute {
                prefix: s.prefix,
                source: best.source,
                gateway: gateway.to_string(),
                via: best.egress.to_string(),
                connection_up: connection_up(&best.egress),
            })
        })
        .collect()
}

/// The VGW's order among candidates for one prefix (spec §2.5, §7,
/// checklist 10): DX BGP > VPN static > VPN BGP; AS_PATH and MED only among
/// VPN BGP routes; no ECMP on tunnels, so ties go to the VGW-wide primary
/// tunnel, then to the lowest name.
pub fn select(candidates: Vec<Candidate>, primary: Option<&TunnelId>) -> Option<VgwSelection> {
    let prefix = candidates.first()?.prefix;
    let mut race = Elimination::new(candidates);
    race.keep_min_by_key(Rule::SourcePreference, |c| c.source);
    match race.remaining.first().map(|c| c.source) {
        Some(RouteSource::DirectConnect) => crate::dx::vif::rank_vifs(&mut race),
        Some(RouteSource::VpnBgp) => {
            race.keep_min_by_key(Rule::ShortestAsPath, |c| c.as_path.path_len());
            lowest_med_per_first_as(&mut race);
            single_tunnel(&mut race, primary);
        }
        _ => single_tunnel(&mut race, primary),
    }
    Some(VgwSelection {
        prefix,
        rule: race.deciding_rule(),
        chosen: race.remaining,
        losers: race.losers,
    })
}

/// Spec §2.5 item 5: MED is compared only between routes whose AS_PATHs
/// start with the same AS. A missing MED counts as 0 (RFC 4271 §9.1.2.2 c).
fn lowest_med_per_first_as(race: &mut Elimination<Candidate>) {
    let remaining = std::mem::take(&mut race.remaining);
    let beaten = |c: &Candidate| {
        remaining.iter().any(|o| {
            o.as_path.first_as() == c.as_path.first_as() && o.med.unwrap_or(0) < c.med.unwrap_or(0)
        })
    };
    let (lost, kept): (Vec<_>, Vec<_>) = remaining.iter().cloned().partition(|c| beaten(c));
    race.remaining = kept;
    race.lose(lost, Rule::LowestMed);
}

/// No ECMP on a VGW (spec §2.5): the primary tunnel if it is among the
/// equals, else the lowest name.
fn single_tunnel(race: &mut Elimination<Candidate>, primary: Option<&TunnelId>) {
    if let Some(primary) = primary {
        race.keep_if_any(
            Rule::PrimaryTunnel,
            |c| matches!(&c.egress, Egress::Tunnel(t) if t == primary),
        );
    }
    race.keep_min_by_key(Rule::LowestName, |c| c.egress.clone());
    // Two routes for one prefix on one tunnel cannot come from one BGP
    // session, but the caller's input is not ours to trust: still one path.
    let extra = race.remaining.split_off(race.remaining.len().min(1));
    race.lose(extra, Rule::LowestName);
}

/// The one tunnel across the whole VGW that is the egress among equals and
/// gets MED 100 (spec §2.3, §2.5). AWS may change it at will; we keep it
/// while it stays UP and otherwise take the lowest UP tunnel, so the choice
/// is deterministic and re-made only when the primary fails.
pub fn choose_primary(current: Option<&TunnelId>, up: &[TunnelId]) -> Option<TunnelId> {
    match current {
        Some(c) if up.contains(c) => Some(c.clone()),
        _ => up.iter().min().cloned(),
    }
}

/// Before AWS updates `tunnel` (endpoint replacement), another UP tunnel
/// becomes primary so it gets the lower MED first (spec §8, checklist 14).
/// Stays on `tunnel` only when no other tunnel is UP.
pub fn primary_before_maintenance(
    current: Option<&TunnelId>,
    up: &[TunnelId],
    tunnel: &TunnelId,
) -> Option<TunnelId> {
    let others: Vec<TunnelId> = up.iter().filter(|t| *t != tunnel).cloned().collect();
    choose_primary(current, &others).or_else(|| choose_primary(current, up))
}

/// MED the VGW puts on everything it announces over `tunnel` (spec §2.3).
pub fn tunnel_med(tunnel: &TunnelId, primary: Option<&TunnelId>) -> u32 {
    if primary == Some(tunnel) {
        MED_PRIMARY
    } else {
        MED_SECONDARY
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelRouting {
    Static,
    Bgp,
}

/// What the runtime knows about a tunnel right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelInputs {
    pub routing: TunnelRouting,
    pub ipsec_up: bool,
    pub bgp_established: bool,
    /// Routes accepted from the CGW (BGP) or configured (static).
    pub accepted_routes: usize,
}

impl TunnelInputs {
    /// A static tunnel is UP with IPsec; a BGP tunnel only with BGP
    /// Established (spec §1.6, checklist 6).
    pub fn is_up(&self) -> bool {
        match self.routing {
            TunnelRouting::Static => self.ipsec_up,
            TunnelRouting::Bgp => self.ipsec_up && self.bgp_established,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TunnelState {
    Up,
    Down,
}

/// Tunnel telemetry as the cloud reports it (spec §1.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TunnelStatus {
    pub status: TunnelState,
    pub status_message: String,
    pub accepted_route_count: usize,
}

/// "N BGP ROUTES" is observed (spec §1.6), including "0 BGP ROUTES" with
/// IPsec up and BGP down. "IPSEC IS DOWN" and the empty message of an UP
/// static tunnel are our assumption.
pub fn tunnel_status(t: &TunnelInputs) -> TunnelStatus {
    let accepted = match t.routing {
        TunnelRouting::Bgp if !t.bgp_established => 0,
        _ => t.accepted_routes,
    };
    let status_message = match t.routing {
        _ if !t.ipsec_up => "IPSEC IS DOWN".to_string(),
        TunnelRouting::Bgp => format!("{accepted} BGP ROUTES"),
        TunnelRouting::Static => String::new(),
    };
    TunnelStatus {
        status: if t.is_up() {
            TunnelState::Up
        } else {
            TunnelState::Down
        },
        status_message,
        accepted_route_count: accepted,
    }
}

/// The max-prefix setting for a VPN BGP session: the 101st route tears the
/// session down with Cease / Maximum Number of Prefixes Reached, as on DX
/// (spec §2.4, checklist 9, unconfirmed for VPN).
pub fn vpn_prefix_limit(limits: &Limits) -> PrefixLimit {
    PrefixLimit {
        limit: limits.vpn_bgp_routes_in,
        restart_after: limits
            .prefix_limit_restart_after_secs
            .map(Duration::from_secs),
    }
}

/// What the VGW sends on one tunnel, and what the per-session quota cut.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TunnelExport {
    pub announcements: Vec<Announcement>,
    pub dropped_over_limit: Vec<IpNet>,
}

/// Everything the VGW announces on `tunnel`: each attached VPC CIDR with
/// AS_PATH [VGW ASN] (spec §2.3, checklist 8) plus CloudHub routes from
/// [`crate::cloudhub::readvertise`], all marked with the tunnel's MED.
/// Nothing on a tunnel whose BGP is not up. Past `vpn_routes_out` the
/// highest prefixes are left out (spec §2.3: a limit, behaviour past it
/// unconfirmed).
pub fn export_to_tunnel(
    vgw_asn: u32,
    vpc_cidrs: &[IpNet],
    hub_routes: &[crate::cloudhub::HubRoute],
    tunnel: &TunnelId,
    inputs: &TunnelInputs,
    primary: Option<&TunnelId>,
    limits: &Limits,
) -> TunnelExport {
    if inputs.routing != TunnelRouting::Bgp || !inputs.is_up() {
        return TunnelExport::default();
    }
    let med = tunnel_med(tunnel, primary);
    let mut all: Vec<Announcement> = vpc_cidrs
        .iter()
        .map(|p| announce(*p, AsPath::from_sequence([vgw_asn]), Some(med)))
        .chain(
            hub_routes
                .iter()
                .map(|h| announce(h.prefix, h.as_path.clone(), Some(med))),
        )
        .collect();
    all.sort_by_key(|a| a.prefix);
    all.dedup_by_key(|a| a.prefix);
    let quota = usize::try_from(limits.vpn_routes_out).unwrap_or(usize::MAX);
    let dropped_over_limit = all.iter().skip(quota).map(|a| a.prefix).collect();
    all.truncate(quota);
    TunnelExport {
        announcements: all,
        dropped_over_limit,
    }
}

/// What the VGW announces to a private VIF attached directly to it: the VPC
/// CIDRs with AS_PATH [VGW ASN] and the CloudHub routes for that VIF
/// (spec §2.3, §4). No MED: the 100/200 marking is a tunnel signal.
pub fn export_to_direct_vif(
    vgw_asn: u32,
    vpc_cidrs: &[IpNet],
    hub_routes: &[crate::cloudhub::HubRoute],
) -> Vec<Announcement> {
    let mut all: Vec<Announcement> = vpc_cidrs
        .iter()
        .map(|p| announce(*p, AsPath::from_sequence([vgw_asn]), None))
        .chain(
            hub_routes
                .iter()
                .map(|h| announce(h.prefix, h.as_path.clone(), None)),
        )
        .collect();
    all.sort_by_key(|a| a.prefix);
    all.dedup_by_key(|a| a.prefix);
    all
}

fn announce(prefix: IpNet, as_path: AsPath, med: Option<u32>) -> Announcement {
    Announcement {
        prefix,
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(as_path),
            med,
            ..PathAttributes::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dx::communities::LocalPreference;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn t(conn: &str, n: u8) -> TunnelId {
        TunnelId::new(conn, n)
    }

    fn bgp(prefix: &str, tunnel: TunnelId, path: &[u32], med: Option<u32>) -> Candidate {
        Candidate {
            prefix: p(prefix),
            egress: Egress::Tunnel(tunnel),
            source: RouteSource::VpnBgp,
            as_path: AsPath::from_sequence(path.iter().copied()),
            med,
            local_pref: LocalPreference::Medium,
        }
    }

    fn dx(prefix: &str, vif: &str, path: &[u32]) -> Candidate {
        Candidate {
            prefix: p(prefix),
            egress: Egress::Vif(vif.into()),
            source: RouteSource::DirectConnect,
            as_path: AsPath::from_sequence(path.iter().copied()),
            med: None,
            local_pref: LocalPreference::Medium,
        }
    }

    fn bgp_up(accepted: usize) -> TunnelInputs {
        TunnelInputs {
            routing: TunnelRouting::Bgp,
            ipsec_up: true,
            bgp_established: true,
            accepted_routes: accepted,
        }
    }

    #[test]
    fn vgw_prefers_dx_over_static_vpn_over_dynamic_vpn() {
        let all = vec![
            bgp("10.1.0.0/16", t("vpn-2", 1), &[65001], None),
            Candidate::vpn_static(p("10.1.0.0/16"), t("vpn-1", 1)),
            dx("10.1.0.0/16", "dx-1", &[65001, 65001, 65001]),
        ];
        let s = select(all.clone(), None).unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Vif("dx-1".into()));
        assert_eq!(s.rule, Rule::SourcePreference);
        assert_eq!(s.losers.len(), 2);
        let s = select(all[..2].to_vec(), None).unwrap();
        assert_eq!(s.chosen[0].source, RouteSource::VpnStatic);
    }

    #[test]
    fn vgw_dx_wins_even_against_shorter_vpn_as_path() {
        let all = vec![
            bgp("10.1.0.0/16", t("vpn-1", 1), &[], None),
            dx("10.1.0.0/16", "dx-1", &[65001, 65001, 65001, 65001]),
        ];
        assert_eq!(
            select(all, None).unwrap().chosen[0].source,
            RouteSource::DirectConnect
        );
    }

    #[test]
    fn vgw_more_specific_vpn_prefix_beats_dx_by_longest_prefix() {
        let routes = vec![
            dx("10.0.0.0/8", "dx-1", &[65001]),
            bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], None),
        ];
        let s = lookup(&routes, "10.1.2.3".parse().unwrap(), None).unwrap();
        assert_eq!(s.prefix, p("10.1.0.0/16"));
        assert_eq!(s.chosen[0].source, RouteSource::VpnBgp);
    }

    #[test]
    fn vgw_drops_traffic_without_a_route() {
        let routes = vec![dx("10.0.0.0/8", "dx-1", &[65001])];
        assert!(lookup(&routes, "192.0.2.1".parse().unwrap(), None).is_none());
    }

    #[test]
    fn vgw_vpn_bgp_prefers_shortest_as_path() {
        let s = select(
            vec![
                bgp("10.1.0.0/16", t("vpn-1", 1), &[65001, 65001, 65001], None),
                bgp("10.1.0.0/16", t("vpn-1", 2), &[65001], None),
            ],
            Some(&t("vpn-1", 1)),
        )
        .unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-1", 2)));
        assert_eq!(s.rule, Rule::ShortestAsPath);
    }

    #[test]
    fn vgw_vpn_bgp_lowest_med_when_first_as_matches() {
        let s = select(
            vec![
                bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], Some(200)),
                bgp("10.1.0.0/16", t("vpn-1", 2), &[65001], Some(100)),
            ],
            Some(&t("vpn-1", 1)),
        )
        .unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-1", 2)));
        assert_eq!(s.rule, Rule::LowestMed);
    }

    #[test]
    fn vgw_vpn_bgp_med_ignored_when_first_as_differs() {
        let s = select(
            vec![
                bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], Some(200)),
                bgp("10.1.0.0/16", t("vpn-2", 1), &[65002], Some(100)),
            ],
            Some(&t("vpn-1", 1)),
        )
        .unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-1", 1)));
        assert_eq!(s.rule, Rule::PrimaryTunnel);
    }

    #[test]
    fn vgw_has_no_ecmp_exactly_one_tunnel_is_chosen() {
        let equal = vec![
            bgp("10.1.0.0/16", t("vpn-1", 2), &[65001], None),
            bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], None),
            bgp("10.1.0.0/16", t("vpn-2", 1), &[65001], None),
        ];
        let s = select(equal.clone(), None).unwrap();
        assert_eq!(s.chosen.len(), 1);
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-1", 1)));
        assert_eq!(s.rule, Rule::LowestName);
        let s = select(equal, Some(&t("vpn-2", 1))).unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-2", 1)));
        assert_eq!(s.rule, Rule::PrimaryTunnel);
    }

    #[test]
    fn vgw_primary_tunnel_is_kept_while_up_and_rechosen_when_it_fails() {
        let up = [t("vpn-1", 1), t("vpn-1", 2), t("vpn-2", 1)];
        assert_eq!(choose_primary(None, &up), Some(t("vpn-1", 1)));
        assert_eq!(
            choose_primary(Some(&t("vpn-2", 1)), &up),
            Some(t("vpn-2", 1))
        );
        assert_eq!(
            choose_primary(Some(&t("vpn-2", 1)), &up[..2]),
            Some(t("vpn-1", 1))
        );
        assert_eq!(choose_primary(Some(&t("vpn-1", 1)), &[]), None);
    }

    #[test]
    fn vgw_moves_primary_and_lower_med_to_the_survivor_before_maintenance() {
        let up = [t("vpn-1", 1), t("vpn-1", 2)];
        let p1 = t("vpn-1", 1);
        let next = primary_before_maintenance(Some(&p1), &up, &p1).unwrap();
        assert_eq!(next, t("vpn-1", 2));
        assert_eq!(tunnel_med(&next, Some(&next)), MED_PRIMARY);
        assert_eq!(tunnel_med(&p1, Some(&next)), MED_SECONDARY);
        assert_eq!(
            primary_before_maintenance(Some(&p1), &up[..1], &p1),
            Some(p1)
        );
    }

    #[test]
    fn vgw_static_vpn_has_one_egress_tunnel() {
        let s = select(
            vec![
                Candidate::vpn_static(p("10.1.0.0/16"), t("vpn-1", 2)),
                Candidate::vpn_static(p("10.1.0.0/16"), t("vpn-1", 1)),
            ],
            Some(&t("vpn-1", 2)),
        )
        .unwrap();
        assert_eq!(s.chosen.len(), 1);
        assert_eq!(s.chosen[0].egress, Egress::Tunnel(t("vpn-1", 2)));
    }

    #[test]
    fn vgw_announces_vpc_cidrs_with_as_path_vgw_asn_and_med_100_on_primary_200_elsewhere() {
        let limits = Limits::default();
        let cidrs = [p("10.0.0.0/16"), p("10.2.0.0/16")];
        let primary = t("vpn-1", 1);
        let on = |tunnel: &TunnelId| {
            export_to_tunnel(
                64512,
                &cidrs,
                &[],
                tunnel,
                &bgp_up(0),
                Some(&primary),
                &limits,
            )
        };
        let a = on(&primary);
        assert_eq!(a.announcements.len(), 2);
        let attrs = &a.announcements[0].attributes;
        assert_eq!(attrs.as_path, Some(AsPath::from_sequence([64512])));
        assert_eq!(attrs.med, Some(MED_PRIMARY));
        for other in [t("vpn-1", 2), t("vpn-2", 1), t("vpn-2", 2)] {
            assert_eq!(
                on(&other).announcements[0].attributes.med,
                Some(MED_SECONDARY)
            );
        }
    }

    #[test]
    fn vgw_announces_nothing_on_a_tunnel_whose_bgp_is_down() {
        let mut down = bgp_up(0);
        down.bgp_established = false;
        let e = export_to_tunnel(
            64512,
            &[p("10.0.0.0/16")],
            &[],
            &t("vpn-1", 1),
            &down,
            None,
            &Limits::default(),
        );
        assert!(e.announcements.is_empty());
    }

    #[test]
    fn vgw_sends_at_most_1000_routes_per_vpn_session() {
        let hub: Vec<crate::cloudhub::HubRoute> = (0..1_005u32)
            .map(|i| crate::cloudhub::HubRoute {
                prefix: IpNet::V4(
                    ipnet::Ipv4Net::new((0x0A00_0000 + (i << 8)).into(), 24).unwrap(),
                ),
                as_path: AsPath::from_sequence([64512, 65001]),
                learned_from: Egress::Tunnel(t("vpn-9", 1)),
            })
            .collect();
        let e = export_to_tunnel(
            64512,
            &[],
            &hub,
            &t("vpn-1", 1),
            &bgp_up(0),
            None,
            &Limits::default(),
        );
        assert_eq!(e.announcements.len(), 1_000);
        assert_eq!(e.dropped_over_limit.len(), 5);
    }

    #[test]
    fn vgw_table_shows_one_selection_per_prefix_and_offers_winners_to_the_vpc() {
        let routes = vec![
            bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], None),
            dx("10.1.0.0/16", "dx-1", &[65001]),
            bgp("10.2.0.0/16", t("vpn-1", 1), &[65001], None),
        ];
        let tbl = table(&routes, None);
        assert_eq!(tbl.len(), 2);
        assert_eq!(tbl[0].rule, Rule::SourcePreference);
        assert_eq!(tbl[0].losers.len(), 1);
        let offered = offer_to_vpc("vgw-1", &tbl, |e| matches!(e, Egress::Vif(_)));
        assert_eq!(offered[0].source, RouteSource::DirectConnect);
        assert_eq!(offered[0].via, "dx-1");
        assert!(offered[0].connection_up);
        assert!(!offered[1].connection_up);
    }

    #[test]
    fn vgw_announces_vpc_cidrs_and_hub_routes_to_a_direct_vif_without_med() {
        let hub = [crate::cloudhub::HubRoute {
            prefix: p("192.168.1.0/24"),
            as_path: AsPath::from_sequence([64512, 65001]),
            learned_from: Egress::Tunnel(t("vpn-1", 1)),
        }];
        let a = export_to_direct_vif(64512, &[p("10.0.0.0/16")], &hub);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].attributes.as_path,
            Some(AsPath::from_sequence([64512]))
        );
        assert!(a.iter().all(|a| a.attributes.med.is_none()));
    }

    #[test]
    fn bgp_tunnel_is_up_only_while_bgp_is_established() {
        let mut t = bgp_up(7);
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Up);
        assert_eq!(s.status_message, "7 BGP ROUTES");
        assert_eq!(s.accepted_route_count, 7);
        t.bgp_established = false;
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Down);
        assert_eq!(s.status_message, "0 BGP ROUTES");
        t.ipsec_up = false;
        assert_eq!(tunnel_status(&t).status_message, "IPSEC IS DOWN");
    }

    #[test]
    fn static_tunnel_is_up_when_ipsec_is_up() {
        let t = TunnelInputs {
            routing: TunnelRouting::Static,
            ipsec_up: true,
            bgp_established: false,
            accepted_routes: 2,
        };
        let s = tunnel_status(&t);
        assert_eq!(s.status, TunnelState::Up);
        assert_eq!(s.accepted_route_count, 2);
        assert_eq!(serde_json::to_value(&s).unwrap()["status"], "UP");
    }

    #[test]
    fn vpn_session_is_torn_down_past_100_routes_by_default() {
        let l = vpn_prefix_limit(&Limits::default());
        assert_eq!(l.limit, 100);
        assert_eq!(l.restart_after, None);
    }

    #[test]
    fn vgw_timers_are_hold_30_keepalive_10() {
        assert_eq!((HOLD_TIME_SECS, KEEPALIVE_SECS), (30, 10));
    }
}
