//! The topology's cloud nodes in the shape the fabric computes from.

use hybridlab_cloud::dx::gateway::{Association, AssociationKind, DxGateway};
use hybridlab_cloud::dx::vif::VifKind;
use hybridlab_cloud::fabric::{
    FabricConfig, PublicVifConfig, TableConfig, VgwConfig, VifAttach, VifConfig, VpcConfig,
    VpnConfig,
};
use hybridlab_topology::cloud::{Cloud, CustomerRouter, VifAttach as TopologyVifAttach};

pub(crate) fn fabric_config(cloud: &Cloud) -> FabricConfig {
    let vpc_cidrs = |vgw: &str| {
        cloud
            .vgw(vgw)
            .and_then(|g| g.vpc.as_deref())
            .and_then(|v| cloud.vpc(v))
            .map(|v| v.cidrs.clone())
            .unwrap_or_default()
    };
    let customer = |router: &CustomerRouter| match router {
        CustomerRouter::Emulated(name) => Some(name.clone()),
        CustomerRouter::External => None,
    };
    FabricConfig {
        limits: cloud.limits.clone(),
        assumptions: cloud.assumptions.clone(),
        vpcs: cloud
            .vpcs
            .iter()
            .map(|v| VpcConfig {
                name: v.name.clone(),
                cidrs: v.cidrs.clone(),
                route_tables: v
                    .route_tables
                    .iter()
                    .map(|t| TableConfig {
                        config: t.config.clone(),
                        main: t.main,
                    })
                    .collect(),
            })
            .collect(),
        vgws: cloud
            .vgws
            .iter()
            .map(|g| VgwConfig {
                name: g.name.clone(),
                asn: g.asn,
                vpc: g.vpc.clone(),
            })
            .collect(),
        vpns: cloud
            .vpns
            .iter()
            .map(|v| VpnConfig {
                name: v.name.clone(),
                vgw: v.vgw.clone(),
                routing: v.routing,
                static_routes: v.static_routes.clone(),
                customer: cloud
                    .customer_gateway(&v.customer_gateway)
                    .and_then(|c| customer(&c.router)),
            })
            .collect(),
        vifs: cloud
            .vifs
            .iter()
            .filter(|v| v.kind != VifKind::Public)
            .filter_map(|v| {
                let attach = match v.attach.as_ref()? {
                    TopologyVifAttach::Vgw(g) => VifAttach::Vgw(g.clone()),
                    TopologyVifAttach::DxGateway(g) => VifAttach::DxGateway(g.clone()),
                };
                Some(VifConfig {
                    name: v.name.clone(),
                    attach,
                    // The topology has no DX locations yet: every VIF is
                    // in the home region (spec §5.5 default 7200).
                    same_home_region: true,
                    customer: customer(&v.customer),
                })
            })
            .collect(),
        dx_gateways: cloud
            .dx_gateways
            .iter()
            .map(|g| {
                DxGateway {
                name: g.name.clone(),
                asn: g.asn,
                associations: g
                    .associations
                    .iter()
                    .map(|a| Association {
                        gateway: a.vgw.clone(),
                        kind: AssociationKind::Vgw,
                        vpc_cidrs: vpc_cidrs(&a.vgw),
                        allowed_prefixes: a.allowed_prefixes.clone(),
                    })
                    .collect(),
                vifs: cloud
                    .vifs
                    .iter()
                    .filter(|v| {
                        matches!(&v.attach, Some(TopologyVifAttach::DxGateway(d)) if *d == g.name)
                    })
                    .map(|v| v.name.clone())
                    .collect(),
            }
            })
            .collect(),
        public_vifs: cloud
            .vifs
            .iter()
            .filter_map(|v| {
                let public = v.public.as_ref()?;
                Some(PublicVifConfig {
                    name: v.name.clone(),
                    region: public.region.clone(),
                    approved: public.approved_prefixes.clone(),
                    aws_prefixes: public.aws_prefixes.clone(),
                })
            })
            .collect(),
    }
}
