//! Public VIFs in the fabric (spec §5.3, §5.5, checklist 19): what AWS
//! announces on each, and what it makes of the customer's prefixes.
//!
//! ```text
//!   AWS public ranges ── NO_EXPORT + 7224:8100 / 8200 / none ──▶ customer
//!   customer prefixes ── approved? ── yes: scope kept, rest stripped
//!                                  └─ no:  rejected, shown inactive
//! ```
//!
//! A public VIF reaches AWS's public network, not a VPC: nothing learned on
//! it becomes a VGW candidate, and no VPC CIDR is announced on it.

use super::{CloudPeer, Fabric, NodeRoute};
use crate::dx::communities::{public_vif_announcement, public_vif_inbound, Scope};
use crate::dx::vif::public_prefix_approved;
use crate::path::Announcement;
use hybridlab_bgp::packet::{AsPath, PathAttributes};
use ipnet::IpNet;

/// `origin` of a customer route AWS accepted on a public VIF.
pub const ORIGIN_ACCEPTED: &str = "public";
/// `origin` of a customer route AWS rejected: not among the VIF's approved
/// prefixes (spec §5.3). Such rows are never active.
pub const ORIGIN_UNAPPROVED: &str = "public_unapproved";

/// What AWS did with one customer route learned on a public VIF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Approved: propagated as far as `scope` says, carrying only the scope
    /// community (spec §5.5).
    Accepted {
        scope: Scope,
        attributes: PathAttributes,
    },
    /// Not inside an approved prefix (spec §5.3): AWS ignores it.
    Unapproved,
}

/// AWS's inbound treatment of one customer prefix on a public VIF.
pub fn inbound(prefix: &IpNet, attributes: &PathAttributes, approved: &[IpNet]) -> Inbound {
    if !public_prefix_approved(prefix, approved) {
        return Inbound::Unapproved;
    }
    let (scope, attributes) = public_vif_inbound(attributes);
    Inbound::Accepted { scope, attributes }
}

impl Fabric {
    /// Every public VIF announces AWS's public ranges, whatever its session
    /// learned: AWS does not re-advertise customer prefixes (spec §5.5).
    pub(super) fn export_public_vifs(&mut self) {
        for vif in &self.config.public_vifs {
            let announcements = vif
                .aws_prefixes
                .iter()
                .map(|(prefix, locality)| Announcement {
                    prefix: *prefix,
                    attributes: public_vif_announcement(&AsPath::default(), *locality),
                })
                .collect();
            self.exports
                .insert(CloudPeer::Vif(vif.name.clone()), announcements);
        }
    }

    /// The customer routes of a public VIF: accepted ones with what AWS
    /// kept, rejected ones inactive with origin [`ORIGIN_UNAPPROVED`].
    pub(super) fn public_vif_routes(&self, name: &str) -> Vec<NodeRoute> {
        let Some(vif) = self.config.public_vif(name) else {
            return Vec::new();
        };
        let Some(session) = self.session(&CloudPeer::Vif(name.to_string())) else {
            return Vec::new();
        };
        let mut rows: Vec<NodeRoute> = session
            .routes
            .iter()
            .map(|(prefix, received)| {
                let (origin, attrs, active) = match inbound(prefix, received, &vif.approved) {
                    Inbound::Accepted { attributes, .. } => (ORIGIN_ACCEPTED, attributes, true),
                    Inbound::Unapproved => (ORIGIN_UNAPPROVED, received.clone(), false),
                };
                NodeRoute {
                    prefix: *prefix,
                    via: name.to_string(),
                    egress: None,
                    origin: origin.to_string(),
                    as_path: attrs.as_path.iter().flat_map(|p| p.asns()).collect(),
                    med: attrs.med,
                    communities: attrs.communities.iter().map(|c| c.to_string()).collect(),
                    rule: None,
                    active,
                }
            })
            .collect();
        rows.sort_by_key(|r| r.prefix);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FabricConfig, PublicVifConfig, SessionRoutes, VgwConfig, VifAttach};
    use super::super::{VifConfig, VpcConfig};
    use super::*;
    use crate::dx::communities::{Locality, AWS_ASN};
    use hybridlab_bgp::packet::{Community, Origin};

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn aws(v: u16) -> Community {
        Community::new(AWS_ASN, v)
    }

    fn customer(communities: &[Community]) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65001])),
            communities: communities.to_vec(),
            ..PathAttributes::default()
        }
    }

    /// Public VIF `internet` (approved 203.0.113.0/24) in eu-west-1, next to
    /// a VGW with a private VIF, both reached by the same customer.
    fn lab() -> Fabric {
        Fabric::new(FabricConfig {
            vpcs: vec![VpcConfig {
                name: "prod".into(),
                cidrs: vec![p("10.0.0.0/16")],
                route_tables: Vec::new(),
            }],
            vgws: vec![VgwConfig {
                name: "vgw1".into(),
                asn: 64512,
                vpc: Some("prod".into()),
            }],
            vifs: vec![VifConfig {
                name: "private".into(),
                attach: VifAttach::Vgw("vgw1".into()),
                same_home_region: true,
                customer: Some("onprem".into()),
            }],
            public_vifs: vec![PublicVifConfig {
                name: "internet".into(),
                region: "eu-west-1".into(),
                approved: vec![p("203.0.113.0/24")],
                aws_prefixes: vec![
                    (p("198.18.0.0/24"), Locality::SameRegion),
                    (p("198.18.1.0/24"), Locality::SameContinent),
                    (p("198.18.2.0/24"), Locality::Global),
                ],
            }],
            ..FabricConfig::default()
        })
    }

    fn learn(f: &mut Fabric, routes: &[(&str, PathAttributes)]) {
        f.session_changed(
            CloudPeer::Vif("internet".into()),
            SessionRoutes {
                established: true,
                routes: routes.iter().map(|(r, a)| (p(r), a.clone())).collect(),
            },
        );
    }

    #[test]
    fn public_vif_announces_aws_prefixes_with_no_export_and_locality_community() {
        let f = lab();
        let sent = f.announcements(&CloudPeer::Vif("internet".into()));
        let by_prefix = |s: &str| {
            sent.iter()
                .find(|a| a.prefix == p(s))
                .unwrap_or_else(|| panic!("{s} not announced"))
        };
        let local = by_prefix("198.18.0.0/24");
        assert_eq!(
            local.attributes.communities,
            [aws(8100), Community::NO_EXPORT]
        );
        let path: Vec<u32> = local
            .attributes
            .as_path
            .iter()
            .flat_map(|p| p.asns())
            .collect();
        // Spec §5.5: AWS's public paths are at least three long.
        assert_eq!(path, [7224, 7224, 7224]);
        let continent = by_prefix("198.18.1.0/24");
        assert_eq!(
            continent.attributes.communities,
            [aws(8200), Community::NO_EXPORT]
        );
        let global = by_prefix("198.18.2.0/24");
        assert_eq!(global.attributes.communities, [Community::NO_EXPORT]);
        assert_eq!(sent.len(), 3, "no VPC CIDR goes out on a public VIF");
    }

    #[test]
    fn public_vif_rejects_unapproved_customer_prefixes() {
        let mut f = lab();
        learn(
            &mut f,
            &[
                ("203.0.113.128/25", customer(&[])),
                ("198.51.100.0/24", customer(&[])),
            ],
        );
        let rows = f.node_routes("internet").unwrap();
        assert_eq!(rows.len(), 2);
        let approved = rows.iter().find(|r| r.prefix == p("203.0.113.128/25"));
        let approved = approved.unwrap();
        assert!(approved.active);
        assert_eq!(
            (approved.via.as_str(), approved.origin.as_str()),
            ("internet", ORIGIN_ACCEPTED)
        );
        assert_eq!(approved.as_path, [65001]);
        let rejected = rows.iter().find(|r| r.prefix == p("198.51.100.0/24"));
        let rejected = rejected.unwrap();
        assert!(!rejected.active);
        assert_eq!(rejected.origin, ORIGIN_UNAPPROVED);
    }

    #[test]
    fn public_vif_honours_scope_communities_and_strips_others() {
        let mut f = lab();
        let foreign = Community::new(65001, 42);
        learn(
            &mut f,
            &[
                ("203.0.113.0/25", customer(&[foreign, aws(9100), aws(7300)])),
                ("203.0.113.128/25", customer(&[foreign])),
            ],
        );
        let rows = f.node_routes("internet").unwrap();
        assert_eq!(rows[0].prefix, p("203.0.113.0/25"));
        assert_eq!(rows[0].communities, ["7224:9100"]);
        assert!(
            rows[1].communities.is_empty(),
            "untagged: global, nothing kept"
        );
        match inbound(
            &p("203.0.113.0/25"),
            &customer(&[aws(9200)]),
            &[p("203.0.113.0/24")],
        ) {
            Inbound::Accepted { scope, .. } => assert_eq!(scope, Scope::Continent),
            other => panic!("expected accepted, got {other:?}"),
        }
        match inbound(&p("203.0.113.0/25"), &customer(&[]), &[p("203.0.113.0/24")]) {
            Inbound::Accepted { scope, .. } => assert_eq!(scope, Scope::Global),
            other => panic!("expected accepted, got {other:?}"),
        }
    }

    #[test]
    fn public_vif_routes_never_reach_a_vgw() {
        let mut f = lab();
        learn(&mut f, &[("203.0.113.0/24", customer(&[]))]);
        f.session_changed(
            CloudPeer::Vif("private".into()),
            SessionRoutes {
                established: true,
                routes: vec![(p("172.16.0.0/16"), customer(&[]))],
            },
        );
        let vgw = f.vgw("vgw1").unwrap();
        let seen: Vec<IpNet> = vgw.routes.iter().map(|r| r.prefix).collect();
        assert_eq!(seen, [p("172.16.0.0/16")]);
        let to_private = f.announcements(&CloudPeer::Vif("private".into()));
        assert!(to_private.iter().all(|a| a.prefix != p("203.0.113.0/24")));
        assert_eq!(f.node_kind("internet"), Some(super::super::NodeKind::Vif));
    }
}
