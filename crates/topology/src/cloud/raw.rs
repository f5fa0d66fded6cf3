//! Cloud node kinds as written in the file, with spans.

use crate::raw::S;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Region {
    pub name: S<String>,
    pub continent: Option<S<String>>,
    pub public_prefixes: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vpc {
    pub name: S<String>,
    pub region: S<String>,
    pub cidrs: S<Vec<S<String>>>,
    #[serde(default)]
    pub route_table: Vec<S<RouteTable>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteTable {
    pub name: S<String>,
    pub main: Option<S<bool>>,
    #[serde(default)]
    pub routes: Vec<S<StaticRoute>>,
    #[serde(default)]
    pub propagation: Vec<S<String>>,
    #[serde(default)]
    pub subnets: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaticRoute {
    pub prefix: S<String>,
    pub target: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vgw {
    pub name: S<String>,
    pub region: S<String>,
    pub asn: Option<S<i64>>,
    pub vpc: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerGateway {
    pub name: S<String>,
    pub asn: S<i64>,
    pub ip: S<String>,
    pub router: Option<S<String>>,
    pub external: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vpn {
    pub name: S<String>,
    pub vgw: S<String>,
    pub customer_gateway: S<String>,
    pub routing: Option<S<String>>,
    #[serde(default)]
    pub static_routes: Vec<S<String>>,
    #[serde(default)]
    pub tunnel: Vec<S<Tunnel>>,
    pub ipsec: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tunnel {
    pub inside_cidr: S<String>,
    pub psk: S<String>,
    pub outside_address: Option<S<String>>,
    pub phase1_lifetime: Option<S<i64>>,
    pub phase2_lifetime: Option<S<i64>>,
    pub rekey_margin: Option<S<i64>>,
    pub rekey_fuzz: Option<S<i64>>,
    pub replay_window: Option<S<i64>>,
    pub dpd_timeout: Option<S<i64>>,
    pub dpd_timeout_action: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DxGateway {
    pub name: S<String>,
    pub asn: Option<S<i64>>,
    #[serde(default)]
    pub association: Vec<S<Association>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Association {
    pub vgw: S<String>,
    pub allowed_prefixes: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Vif {
    pub name: S<String>,
    pub kind: S<String>,
    pub vlan: S<i64>,
    pub attach: Option<S<Attach>>,
    pub amazon_address: S<String>,
    pub customer_address: S<String>,
    pub router: Option<S<String>>,
    pub external: Option<S<bool>>,
    pub customer_asn: Option<S<i64>>,
    pub md5: Option<S<String>>,
    pub bfd: Option<S<VifBfd>>,
    pub prefix_limit: Option<S<i64>>,
    pub region: Option<S<String>>,
    pub approved_prefixes: Option<S<Vec<S<String>>>>,
}

/// `attach = { vgw = "NAME" }` or `attach = { dx_gateway = "NAME" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attach {
    pub vgw: Option<S<String>>,
    pub dx_gateway: Option<S<String>>,
}

/// `bfd = false` or `bfd = { interval = MS, multiplier = N }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum VifBfd {
    On(bool),
    Table(VifBfdTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VifBfdTable {
    pub interval: Option<i64>,
    pub multiplier: Option<i64>,
}
