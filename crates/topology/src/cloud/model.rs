//! The validated cloud side of a lab: regions, VPCs and their route tables,
//! VGWs, customer gateways, VPN connections, DX gateways and VIFs. Every
//! name resolves to a node of the same file; every default is filled in.

use hybridlab_cloud::addressing::{InsideCidr, PeerAddresses};
use hybridlab_cloud::assumptions::Assumptions;
use hybridlab_cloud::dx::communities::Locality;
use hybridlab_cloud::dx::vif::VifKind;
use hybridlab_cloud::limits::Limits;
use hybridlab_cloud::route_table::RouteTableConfig;
use hybridlab_cloud::vgw::TunnelRouting;
use ipnet::IpNet;
use std::net::Ipv4Addr;
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cloud {
    pub limits: Limits,
    pub assumptions: Assumptions,
    pub regions: Vec<String>,
    pub vpcs: Vec<Vpc>,
    pub vgws: Vec<Vgw>,
    pub customer_gateways: Vec<CustomerGateway>,
    pub vpns: Vec<Vpn>,
    pub dx_gateways: Vec<DxGateway>,
    pub vifs: Vec<Vif>,
}

impl Cloud {
    /// No cloud node at all (`[limits]` and `[assumptions]` alone do not
    /// count: they change nothing without nodes).
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
            && self.vpcs.is_empty()
            && self.vgws.is_empty()
            && self.customer_gateways.is_empty()
            && self.vpns.is_empty()
            && self.dx_gateways.is_empty()
            && self.vifs.is_empty()
    }

    pub fn vpc(&self, name: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.name == name)
    }

    pub fn vgw(&self, name: &str) -> Option<&Vgw> {
        self.vgws.iter().find(|v| v.name == name)
    }

    pub fn customer_gateway(&self, name: &str) -> Option<&CustomerGateway> {
        self.customer_gateways.iter().find(|c| c.name == name)
    }

    pub fn dx_gateway(&self, name: &str) -> Option<&DxGateway> {
        self.dx_gateways.iter().find(|d| d.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    pub name: String,
    pub region: String,
    pub cidrs: Vec<IpNet>,
    /// Never empty; exactly one is [`VpcRouteTable::main`].
    pub route_tables: Vec<VpcRouteTable>,
}

impl Vpc {
    pub fn main_route_table(&self) -> Option<&VpcRouteTable> {
        self.route_tables.iter().find(|t| t.main)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcRouteTable {
    /// Name, VPC CIDRs, static routes (target: a VGW name) and the VGWs
    /// propagating into it, as the cloud crate builds tables from.
    pub config: RouteTableConfig,
    /// Subnets not associated with another table use the main one.
    pub main: bool,
    /// Subnets explicitly associated with this table, each inside a VPC CIDR.
    pub subnets: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vgw {
    pub name: String,
    pub region: String,
    pub asn: u32,
    /// The attached VPC; `None`: detached.
    pub vpc: Option<String>,
}

/// Which BGP speaker stands behind a customer gateway or a VIF's customer
/// side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerRouter {
    /// A `[[router]]` of this file.
    Emulated(String),
    /// A real router that attaches to the lab.
    External,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerGateway {
    pub name: String,
    pub asn: u32,
    /// The outside (public) address the tunnels end on.
    pub ip: Ipv4Addr,
    pub router: CustomerRouter,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpn {
    pub name: String,
    pub vgw: String,
    pub customer_gateway: String,
    pub routing: TunnelRouting,
    /// Only with [`TunnelRouting::Static`].
    pub static_routes: Vec<IpNet>,
    /// Always two (spec §1.2).
    pub tunnels: Vec<Tunnel>,
    /// The tunnels run IKEv1 + ESP and BGP rides inside them; `false`: BGP
    /// over a plain virtual link between the inside addresses.
    pub ipsec: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tunnel {
    pub inside_cidr: InsideCidr,
    /// The AWS end's public address (spec §1.1: each tunnel its own).
    pub outside_address: Ipv4Addr,
    pub psk: String,
    pub options: TunnelOptions,
}

/// IKE/IPsec timers of one tunnel (spec §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelOptions {
    pub phase1_lifetime: Duration,
    pub phase2_lifetime: Duration,
    pub rekey_margin: Duration,
    /// Percent of the margin the rekey moment is spread over.
    pub rekey_fuzz: u8,
    pub replay_window: u16,
    pub dpd_timeout: Duration,
    pub dpd_timeout_action: DpdAction,
}

impl Default for TunnelOptions {
    /// The cloud's defaults (spec §1.2; DPD timeout as the current docs say).
    fn default() -> Self {
        TunnelOptions {
            phase1_lifetime: Duration::from_secs(28_800),
            phase2_lifetime: Duration::from_secs(3_600),
            rekey_margin: Duration::from_secs(270),
            rekey_fuzz: 100,
            replay_window: 1_024,
            dpd_timeout: Duration::from_secs(40),
            dpd_timeout_action: DpdAction::Clear,
        }
    }
}

/// What the AWS end does when DPD declares the peer dead (spec §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpdAction {
    Clear,
    None,
    Restart,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DxGateway {
    pub name: String,
    pub asn: u32,
    pub associations: Vec<Association>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Association {
    pub vgw: String,
    /// What the DX gateway announces toward on-premises for this VGW;
    /// defaults to the attached VPC's CIDRs.
    pub allowed_prefixes: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vif {
    pub name: String,
    pub kind: VifKind,
    pub vlan: u16,
    /// `None` on public VIFs.
    pub attach: Option<VifAttach>,
    pub addresses: PeerAddresses,
    pub customer: CustomerRouter,
    pub customer_asn: u32,
    pub md5: String,
    /// `None`: BFD off.
    pub bfd: Option<VifBfd>,
    pub prefix_limit: u32,
    /// Public VIFs only.
    pub public: Option<PublicVif>,
}

/// What a public VIF exchanges with AWS's public network (spec §5.3, §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicVif {
    /// The region of the VIF's DX location.
    pub region: String,
    /// Customer prefixes AWS accepts on the VIF, more specifics included.
    pub approved_prefixes: Vec<IpNet>,
    /// Every region's public prefixes, each with its place relative to
    /// `region`: what AWS announces on the VIF, and with which community.
    pub aws_prefixes: Vec<(IpNet, Locality)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VifAttach {
    Vgw(String),
    DxGateway(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VifBfd {
    pub interval: Duration,
    pub multiplier: u8,
}

impl Default for VifBfd {
    /// 300 ms × 3 (spec §5.4).
    fn default() -> Self {
        VifBfd {
            interval: Duration::from_millis(300),
            multiplier: 3,
        }
    }
}

/// Who sends the first IKE packet of a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelRole {
    /// An emulated customer gateway (startup action `start`).
    Initiator,
    /// The cloud end: IKEv1 tunnels are startup action `add`, the cloud
    /// waits for the customer (spec §1.5).
    Responder,
}

/// One end of an IPsec tunnel a BGP session rides in: the session's bytes
/// go through a userspace IP stack, ESP and UDP between the outside
/// addresses instead of a virtual link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelEnd {
    pub role: TunnelRole,
    /// This end's public address (IKE on UDP 500 and 4500).
    pub local_outside: Ipv4Addr,
    pub remote_outside: Ipv4Addr,
    pub psk: String,
    pub options: TunnelOptions,
    /// This end's inside address (169.254.x.1 on the cloud side).
    pub inside_local: Ipv4Addr,
    pub inside_remote: Ipv4Addr,
    pub inside_prefix_len: u8,
    /// Cloud side only: the VPC's CIDRs, whose hosts answer pings through
    /// the tunnel.
    pub vpc_cidrs: Vec<IpNet>,
}
