//! The cloud of one lab as plain data, names resolved: what the topology
//! file described, in the shape the fabric computes from.

use crate::assumptions::Assumptions;
use crate::dx::communities::Locality;
use crate::dx::gateway::DxGateway;
use crate::limits::Limits;
use crate::route_table::RouteTableConfig;
use crate::vgw::TunnelRouting;
use ipnet::IpNet;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FabricConfig {
    pub limits: Limits,
    pub assumptions: Assumptions,
    pub vpcs: Vec<VpcConfig>,
    pub vgws: Vec<VgwConfig>,
    pub vpns: Vec<VpnConfig>,
    /// Private VIFs only: public VIFs reach no VGW.
    pub vifs: Vec<VifConfig>,
    /// Associations carry the associated VPC's CIDRs.
    pub dx_gateways: Vec<DxGateway>,
    pub public_vifs: Vec<PublicVifConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcConfig {
    pub name: String,
    pub cidrs: Vec<IpNet>,
    pub route_tables: Vec<TableConfig>,
}

impl VpcConfig {
    pub fn main_table(&self) -> Option<&TableConfig> {
        self.route_tables.iter().find(|t| t.main)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConfig {
    pub config: RouteTableConfig,
    pub main: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VgwConfig {
    pub name: String,
    pub asn: u32,
    /// `None`: detached (a pure CloudHub).
    pub vpc: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpnConfig {
    pub name: String,
    pub vgw: String,
    pub routing: TunnelRouting,
    pub static_routes: Vec<IpNet>,
    /// The customer router behind the customer gateway, for `trace`
    /// (`None`: a real router attached from outside).
    pub customer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VifConfig {
    pub name: String,
    pub attach: VifAttach,
    /// The VIF's DX location is in the home region of the VGW's VPC: routes
    /// without a local-preference community rank Medium, else lower (spec
    /// §5.5).
    pub same_home_region: bool,
    /// The customer router on the other side, for `trace`.
    pub customer: Option<String>,
}

/// A public VIF: AWS's public ranges out, the customer's approved public
/// prefixes in (spec §5.3, §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicVifConfig {
    pub name: String,
    /// The region of the VIF's DX location.
    pub region: String,
    /// Customer prefixes AWS accepts, with their more specifics.
    pub approved: Vec<IpNet>,
    /// What AWS announces, each with where it lies relative to the VIF's
    /// region (the 7224:8100 / 8200 community).
    pub aws_prefixes: Vec<(IpNet, Locality)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VifAttach {
    Vgw(String),
    DxGateway(String),
}

impl FabricConfig {
    pub fn vgw(&self, name: &str) -> Option<&VgwConfig> {
        self.vgws.iter().find(|v| v.name == name)
    }

    pub fn vpc(&self, name: &str) -> Option<&VpcConfig> {
        self.vpcs.iter().find(|v| v.name == name)
    }

    pub fn vpn(&self, name: &str) -> Option<&VpnConfig> {
        self.vpns.iter().find(|v| v.name == name)
    }

    pub fn vif(&self, name: &str) -> Option<&VifConfig> {
        self.vifs.iter().find(|v| v.name == name)
    }

    pub fn public_vif(&self, name: &str) -> Option<&PublicVifConfig> {
        self.public_vifs.iter().find(|v| v.name == name)
    }

    pub fn dx_gateway(&self, name: &str) -> Option<&DxGateway> {
        self.dx_gateways.iter().find(|g| g.name == name)
    }

    /// The CIDRs a VGW announces: its attached VPC's, none when detached.
    pub fn vgw_vpc_cidrs(&self, vgw: &str) -> Vec<IpNet> {
        self.vgw(vgw)
            .and_then(|g| g.vpc.as_deref())
            .and_then(|v| self.vpc(v))
            .map(|v| v.cidrs.clone())
            .unwrap_or_default()
    }

    /// DX gateway `gateway` is associated with VGW `vgw`.
    pub fn dx_gateway_serves(&self, gateway: &str, vgw: &str) -> bool {
        self.dx_gateway(gateway)
            .is_some_and(|g| g.associations.iter().any(|a| a.gateway == vgw))
    }

    /// The VGW attached to a VPC.
    pub fn vpc_gateway(&self, vpc: &str) -> Option<&VgwConfig> {
        self.vgws.iter().find(|g| g.vpc.as_deref() == Some(vpc))
    }
}
