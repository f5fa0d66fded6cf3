//! What the VGW announces on each session (spec §2.3, §4).

use super::{tunnel_med, TunnelInputs, TunnelRouting};
use crate::cloudhub::HubRoute;
use crate::limits::Limits;
use crate::path::{Announcement, TunnelId};
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes};
use ipnet::IpNet;
use serde::Serialize;

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
    hub_routes: &[HubRoute],
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
    hub_routes: &[HubRoute],
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
    use crate::path::Egress;
    use crate::vgw::fixtures::*;
    use crate::vgw::{MED_PRIMARY, MED_SECONDARY};

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
}
