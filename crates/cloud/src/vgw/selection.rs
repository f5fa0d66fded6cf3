//! Which path the VGW sends traffic on (spec §2.5, §7).

use crate::decision::{Elimination, Lost, Rule};
use crate::path::{Candidate, Egress, TunnelId};
use crate::route_table::OfferedRoute;
use crate::source::RouteSource;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

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
    // Grouped once: a VGW with thousands of routes recomputes its table on
    // every session change.
    let mut by_prefix: BTreeMap<IpNet, Vec<Candidate>> = BTreeMap::new();
    for c in routes {
        by_prefix.entry(c.prefix).or_default().push(c.clone());
    }
    by_prefix
        .into_values()
        .filter_map(|same| select(same, primary))
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
/// tunnel, then to the lowest name. The prefix is the first candidate's;
/// candidates for any other prefix are ignored.
pub fn select(candidates: Vec<Candidate>, primary: Option<&TunnelId>) -> Option<VgwSelection> {
    let prefix = candidates.first()?.prefix;
    let same: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| c.prefix == prefix)
        .collect();
    let mut race = Elimination::new(same);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vgw::fixtures::*;

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
    fn vgw_selection_serializes_for_show_routes() {
        let s = select(
            vec![
                bgp("10.1.0.0/16", t("vpn-1", 1), &[65001], None),
                dx("10.1.0.0/16", "dx-1", &[65001]),
            ],
            None,
        )
        .unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["prefix"], "10.1.0.0/16");
        assert_eq!(v["rule"], "source_preference");
        assert_eq!(
            v["chosen"][0]["egress"],
            serde_json::json!({"kind": "vif", "name": "dx-1"})
        );
        assert_eq!(v["chosen"][0]["as_path"], serde_json::json!([65001]));
        assert_eq!(v["losers"][0]["candidate"]["source"], "vpn_bgp");
        assert_eq!(
            s.rule.to_string(),
            "Direct Connect BGP > VPN static > VPN BGP"
        );
    }
}
