//! The Direct Connect gateway: a global hub between VIFs and the VGWs or
//! transit gateways associated with it, which never acts as transit
//! (spec §6, checklist 20).

use crate::error::ConfigError;
use crate::limits::Limits;
use crate::path::{as_path_list, Announcement};
use crate::validate::{validate_amazon_asn, validate_count};
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssociationKind {
    Vgw,
    TransitGateway,
}

/// A VGW or transit gateway associated with the DX gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Association {
    pub gateway: String,
    pub kind: AssociationKind,
    /// CIDRs of the VPC behind it; empty for a detached VGW.
    pub vpc_cidrs: Vec<IpNet>,
    pub allowed_prefixes: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DxGateway {
    pub name: String,
    /// Default 64512 (spec §6).
    pub asn: u32,
    pub associations: Vec<Association>,
    /// Names of the VIFs attached to it.
    pub vifs: Vec<String>,
}

/// Which side of the DX gateway a route or packet comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Side {
    Vif(String),
    /// Routes the associated gateway knows, VPN-learned ones included.
    Association(String),
}

/// A route the DX gateway hears from one side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Learned {
    pub prefix: IpNet,
    #[serde(serialize_with = "as_path_list")]
    pub as_path: AsPath,
    pub from: Side,
}

/// Where the DX gateway sends a packet, or why it does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Transit {
    ToAssociation {
        gateway: String,
    },
    ToVif {
        vif: String,
        prefix: IpNet,
    },
    /// VPC to VPC through the DX endpoint: allowed only because on-premises
    /// advertises `prefix`, a supernet of both VPCs, on `vif` (spec §6).
    SupernetHairpin {
        vif: String,
        prefix: IpNet,
        gateway: String,
    },
    Denied {
        reason: DeniedTransit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeniedTransit {
    VifToVif,
    VpcToVpc,
    NoRoute,
}

impl DxGateway {
    /// Spec §6: private ASN; VGW and TGW associations not mixed; no
    /// overlapping VPC CIDRs; no overlapping TGW allowed prefixes; quota.
    pub fn validate(&self, limits: &Limits) -> Result<(), ConfigError> {
        validate_amazon_asn(self.asn)?;
        let what = format!("VGW associations on DX gateway {}", self.name);
        validate_count(&what, self.associations.len(), limits.vgws_per_dx_gateway)?;
        let what = format!("VIFs on DX gateway {}", self.name);
        validate_count(&what, self.vifs.len(), limits.vifs_per_dx_gateway)?;
        let kinds = |k| self.associations.iter().any(|a| a.kind == k);
        if kinds(AssociationKind::Vgw) && kinds(AssociationKind::TransitGateway) {
            return Err(ConfigError::MixedAssociations {
                dx_gateway: self.name.clone(),
            });
        }
        let vpc: Vec<IpNet> = self
            .associations
            .iter()
            .flat_map(|a| a.vpc_cidrs.clone())
            .collect();
        if let Some((a, b)) = first_overlap(&vpc) {
            let dx_gateway = self.name.clone();
            return Err(ConfigError::OverlappingVpcCidrs { dx_gateway, a, b });
        }
        let tgw_allowed: Vec<IpNet> = self
            .associations
            .iter()
            .filter(|a| a.kind == AssociationKind::TransitGateway)
            .flat_map(|a| a.allowed_prefixes.clone())
            .collect();
        if let Some((a, b)) = first_overlap(&tgw_allowed) {
            let dx_gateway = self.name.clone();
            return Err(ConfigError::OverlappingAllowedPrefixes { dx_gateway, a, b });
        }
        Ok(())
    }

    /// What the DX gateway announces to every VIF, with its own ASN
    /// (spec §6). VGW association: the exact VPC CIDR, only when an allowed
    /// prefix equals or covers it, never the allowed prefix itself. TGW
    /// association: the allowed prefixes themselves. Nothing learned from a
    /// VIF or from a VGW's VPN goes to a VIF: no VIF↔VIF, no VIF↔VPN.
    pub fn announcements_to_vifs(&self) -> Vec<Announcement> {
        let mut prefixes: Vec<IpNet> = self.associations.iter().flat_map(advertised).collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
            .into_iter()
            .map(|prefix| Announcement {
                prefix,
                attributes: PathAttributes {
                    origin: Some(Origin::Igp),
                    as_path: Some(AsPath::from_sequence([self.asn])),
                    ..PathAttributes::default()
                },
            })
            .collect()
    }

    /// Routes the DX gateway hands to one associated gateway: those learned
    /// on VIFs. Other associations' VPC CIDRs never (no VPC↔VPC, spec §6).
    pub fn routes_to_association(&self, learned: &[Learned]) -> Vec<Learned> {
        learned
            .iter()
            .filter(|l| matches!(l.from, Side::Vif(_)))
            .cloned()
            .collect()
    }

    /// Forwarding across the DX gateway (spec §6). `vif_routes` pairs each
    /// VIF with a prefix on-premises advertises on it.
    pub fn forward(
        &self,
        ingress: &Side,
        source: IpAddr,
        destination: IpAddr,
        vif_routes: &[(String, IpNet)],
    ) -> Transit {
        let dst_vpc = self.association_of(destination);
        match ingress {
            Side::Vif(_) => match dst_vpc {
                Some(a) => Transit::ToAssociation {
                    gateway: a.gateway.clone(),
                },
                None if longest_vif_route(vif_routes, destination).is_some() => Transit::Denied {
                    reason: DeniedTransit::VifToVif,
                },
                None => Transit::Denied {
                    reason: DeniedTransit::NoRoute,
                },
            },
            Side::Association(from) => match dst_vpc {
                Some(to) if &to.gateway != from => {
                    supernet_hairpin(to, source, destination, vif_routes)
                }
                _ => match longest_vif_route(vif_routes, destination) {
                    Some((vif, prefix)) => Transit::ToVif {
                        vif: vif.clone(),
                        prefix: *prefix,
                    },
                    None => Transit::Denied {
                        reason: DeniedTransit::NoRoute,
                    },
                },
            },
        }
    }

    fn association_of(&self, ip: IpAddr) -> Option<&Association> {
        self.associations
            .iter()
            .find(|a| a.vpc_cidrs.iter().any(|c| c.contains(&ip)))
    }
}

/// Across DX gateways (spec §6): a VGW is associated with one DX gateway
/// at most, and a VIF attached to one at most.
pub fn validate_unique_attachments(gateways: &[DxGateway]) -> Result<(), ConfigError> {
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    let attachments = gateways.iter().flat_map(|g| {
        let vgws = g
            .associations
            .iter()
            .map(move |a| ("gateway", a.gateway.as_str(), g.name.as_str()));
        let vifs = g
            .vifs
            .iter()
            .map(move |v| ("VIF", v.as_str(), g.name.as_str()));
        vgws.chain(vifs)
    });
    for (kind, name, gateway) in attachments {
        if let Some((_, _, first)) = seen.iter().find(|(k, n, _)| *k == kind && *n == name) {
            return Err(ConfigError::AttachedTwice {
                what: format!("{kind} {name}"),
                first: first.to_string(),
                second: gateway.to_string(),
            });
        }
        seen.push((kind, name, gateway));
    }
    Ok(())
}

/// Spec §6, VGW vs TGW allowed-prefix semantics.
fn advertised(a: &Association) -> Vec<IpNet> {
    match a.kind {
        AssociationKind::Vgw => a
            .vpc_cidrs
            .iter()
            .filter(|cidr| {
                a.allowed_prefixes
                    .iter()
                    .any(|allowed| allowed.contains(*cidr))
            })
            .copied()
            .collect(),
        AssociationKind::TransitGateway => a.allowed_prefixes.clone(),
    }
}

/// The Nov 2021 exception (spec §6): a supernet from on-premises covering
/// both VPCs, advertised on one VIF, lets them reach each other via the DX
/// endpoint. Without it, VPC↔VPC is denied.
fn supernet_hairpin(
    to: &Association,
    source: IpAddr,
    destination: IpAddr,
    vif_routes: &[(String, IpNet)],
) -> Transit {
    vif_routes
        .iter()
        .filter(|(_, p)| p.contains(&source) && p.contains(&destination))
        .max_by_key(|(_, p)| p.prefix_len())
        .map_or(
            Transit::Denied {
                reason: DeniedTransit::VpcToVpc,
            },
            |(vif, prefix)| Transit::SupernetHairpin {
                vif: vif.clone(),
                prefix: *prefix,
                gateway: to.gateway.clone(),
            },
        )
}

fn longest_vif_route(routes: &[(String, IpNet)], ip: IpAddr) -> Option<&(String, IpNet)> {
    routes
        .iter()
        .filter(|(_, p)| p.contains(&ip))
        .max_by(|a, b| {
            a.1.prefix_len()
                .cmp(&b.1.prefix_len())
                .then_with(|| b.0.cmp(&a.0))
        })
}

fn first_overlap(prefixes: &[IpNet]) -> Option<(IpNet, IpNet)> {
    prefixes.iter().enumerate().find_map(|(i, a)| {
        prefixes
            .iter()
            .skip(i.saturating_add(1))
            .find(|b| a.contains(*b) || b.contains(a))
            .map(|b| (*a, *b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::DEFAULT_AMAZON_ASN;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn vgw(name: &str, cidr: &str, allowed: &[&str]) -> Association {
        Association {
            gateway: name.into(),
            kind: AssociationKind::Vgw,
            vpc_cidrs: vec![p(cidr)],
            allowed_prefixes: allowed.iter().map(|a| p(a)).collect(),
        }
    }

    fn two_regions() -> DxGateway {
        DxGateway {
            name: "dxgw-1".into(),
            asn: DEFAULT_AMAZON_ASN,
            associations: vec![
                vgw("vgw-east", "10.1.0.0/16", &["10.1.0.0/16"]),
                vgw("vgw-west", "10.2.0.0/16", &["10.0.0.0/8"]),
            ],
            vifs: vec!["vif-1".into(), "vif-2".into()],
        }
    }

    fn prefixes(a: &[Announcement]) -> Vec<IpNet> {
        a.iter().map(|a| a.prefix).collect()
    }

    #[test]
    fn dxgw_advertises_associated_vpc_cidrs_with_its_asn() {
        let a = two_regions().announcements_to_vifs();
        assert_eq!(prefixes(&a), vec![p("10.1.0.0/16"), p("10.2.0.0/16")]);
        assert_eq!(
            a[0].attributes.as_path,
            Some(AsPath::from_sequence([64512]))
        );
    }

    #[test]
    fn dxgw_allowed_prefix_filters_but_is_never_advertised_itself_for_vgw() {
        let covered = DxGateway {
            associations: vec![vgw("vgw", "10.0.0.0/16", &["10.0.0.0/15"])],
            ..two_regions()
        };
        assert_eq!(
            prefixes(&covered.announcements_to_vifs()),
            vec![p("10.0.0.0/16")]
        );
        let narrower = DxGateway {
            associations: vec![vgw("vgw", "10.0.0.0/16", &["10.0.0.0/24"])],
            ..two_regions()
        };
        assert!(narrower.announcements_to_vifs().is_empty());
    }

    #[test]
    fn dxgw_tgw_association_advertises_the_allowed_prefixes_themselves() {
        let g = DxGateway {
            associations: vec![Association {
                gateway: "tgw".into(),
                kind: AssociationKind::TransitGateway,
                vpc_cidrs: vec![p("10.0.0.0/16")],
                allowed_prefixes: vec![p("10.0.0.0/8")],
            }],
            ..two_regions()
        };
        assert_eq!(prefixes(&g.announcements_to_vifs()), vec![p("10.0.0.0/8")]);
    }

    #[test]
    fn dxgw_never_relays_vif_or_vpn_routes_to_vifs() {
        let g = two_regions();
        let learned = [
            Learned {
                prefix: p("192.168.0.0/16"),
                as_path: AsPath::from_sequence([65001]),
                from: Side::Vif("vif-1".into()),
            },
            Learned {
                prefix: p("172.16.0.0/16"),
                as_path: AsPath::from_sequence([64512, 65005]),
                from: Side::Association("vgw-east".into()),
            },
        ];
        let to_vifs = prefixes(&g.announcements_to_vifs());
        assert!(!to_vifs.contains(&p("192.168.0.0/16")));
        assert!(!to_vifs.contains(&p("172.16.0.0/16")));
        let to_vgw: Vec<IpNet> = g
            .routes_to_association(&learned)
            .iter()
            .map(|l| l.prefix)
            .collect();
        assert_eq!(to_vgw, vec![p("192.168.0.0/16")]);
    }

    #[test]
    fn dxgw_never_forwards_vpc_to_vpc() {
        let t = two_regions().forward(
            &Side::Association("vgw-east".into()),
            ip("10.1.0.5"),
            ip("10.2.0.5"),
            &[("vif-1".into(), p("192.168.0.0/16"))],
        );
        assert_eq!(
            t,
            Transit::Denied {
                reason: DeniedTransit::VpcToVpc
            }
        );
    }

    #[test]
    fn dxgw_supernet_from_on_premises_lets_vpcs_reach_each_other() {
        let t = two_regions().forward(
            &Side::Association("vgw-east".into()),
            ip("10.1.0.5"),
            ip("10.2.0.5"),
            &[("vif-1".into(), p("10.0.0.0/8"))],
        );
        assert_eq!(
            t,
            Transit::SupernetHairpin {
                vif: "vif-1".into(),
                prefix: p("10.0.0.0/8"),
                gateway: "vgw-west".into()
            }
        );
    }

    #[test]
    fn dxgw_never_forwards_vif_to_vif() {
        let routes = [("vif-2".to_string(), p("192.168.0.0/16"))];
        let g = two_regions();
        let t = g.forward(
            &Side::Vif("vif-1".into()),
            ip("172.16.0.1"),
            ip("192.168.0.1"),
            &routes,
        );
        assert_eq!(
            t,
            Transit::Denied {
                reason: DeniedTransit::VifToVif
            }
        );
        let t = g.forward(
            &Side::Vif("vif-1".into()),
            ip("172.16.0.1"),
            ip("10.2.3.4"),
            &routes,
        );
        assert_eq!(
            t,
            Transit::ToAssociation {
                gateway: "vgw-west".into()
            }
        );
    }

    #[test]
    fn dxgw_forwards_vpc_traffic_to_the_longest_vif_route() {
        let routes = [
            ("vif-1".to_string(), p("192.168.0.0/16")),
            ("vif-2".to_string(), p("192.168.1.0/24")),
        ];
        let t = two_regions().forward(
            &Side::Association("vgw-east".into()),
            ip("10.1.0.5"),
            ip("192.168.1.1"),
            &routes,
        );
        assert_eq!(
            t,
            Transit::ToVif {
                vif: "vif-2".into(),
                prefix: p("192.168.1.0/24")
            }
        );
    }

    #[test]
    fn dxgw_rejects_overlapping_vpc_cidrs_and_mixed_associations() {
        let mut g = two_regions();
        g.associations
            .push(vgw("vgw-3", "10.1.128.0/17", &["10.0.0.0/8"]));
        assert!(matches!(
            g.validate(&Limits::default()),
            Err(ConfigError::OverlappingVpcCidrs { .. })
        ));
        let mut g = two_regions();
        g.associations[1].kind = AssociationKind::TransitGateway;
        assert!(matches!(
            g.validate(&Limits::default()),
            Err(ConfigError::MixedAssociations { .. })
        ));
        assert!(two_regions().validate(&Limits::default()).is_ok());
    }

    #[test]
    fn dxgw_rejects_overlapping_tgw_allowed_prefixes() {
        let tgw = |name: &str, allowed: &str| Association {
            gateway: name.into(),
            kind: AssociationKind::TransitGateway,
            vpc_cidrs: vec![],
            allowed_prefixes: vec![p(allowed)],
        };
        let g = DxGateway {
            associations: vec![tgw("tgw-1", "10.0.0.0/8"), tgw("tgw-2", "10.5.0.0/16")],
            ..two_regions()
        };
        assert!(matches!(
            g.validate(&Limits::default()),
            Err(ConfigError::OverlappingAllowedPrefixes { .. })
        ));
    }

    #[test]
    fn dxgw_vgw_or_vif_attaches_to_one_dx_gateway_only() {
        let a = two_regions();
        let mut b = two_regions();
        b.name = "dxgw-2".into();
        b.associations.clear();
        b.vifs = vec!["vif-3".into()];
        assert!(validate_unique_attachments(&[a.clone(), b.clone()]).is_ok());
        b.vifs.push("vif-1".into());
        let e = validate_unique_attachments(&[a.clone(), b]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VIF vif-1 is attached to DX gateway dxgw-1 and to dxgw-2"
        );
    }

    #[test]
    fn dxgw_vif_quota_is_enforced() {
        let mut g = two_regions();
        g.vifs = (0..31).map(|i| format!("vif-{i}")).collect();
        assert!(matches!(
            g.validate(&Limits::default()),
            Err(ConfigError::OverLimit { .. })
        ));
    }
}
