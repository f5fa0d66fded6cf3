//! The file as written: serde structs with a span on every value, so that
//! validation can point at the offending line.
//!
//! Integers are read as `i64` (what TOML has) and range-checked in
//! validation, which can then say which range was expected.

use crate::cloud::raw as cloud;
use hybridlab_cloud::assumptions::Assumptions;
use hybridlab_cloud::limits::Limits;
use serde::Deserialize;
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    pub lab: Option<S<Lab>>,
    #[serde(default)]
    pub router: Vec<S<Router>>,
    #[serde(default)]
    pub policy: Vec<S<Policy>>,
    #[serde(default)]
    pub region: Vec<S<cloud::Region>>,
    #[serde(default)]
    pub vpc: Vec<S<cloud::Vpc>>,
    #[serde(default)]
    pub vgw: Vec<S<cloud::Vgw>>,
    #[serde(default)]
    pub customer_gateway: Vec<S<cloud::CustomerGateway>>,
    #[serde(default)]
    pub vpn: Vec<S<cloud::Vpn>>,
    #[serde(default)]
    pub dx_gateway: Vec<S<cloud::DxGateway>>,
    #[serde(default)]
    pub vif: Vec<S<cloud::Vif>>,
    pub limits: Option<S<Limits>>,
    pub assumptions: Option<S<Assumptions>>,
    #[serde(default)]
    pub expect: Vec<S<crate::expect::raw::Expect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lab {
    pub name: Option<S<String>>,
    pub api: Option<S<String>>,
    pub seed: Option<S<i64>>,
    pub jitter: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Router {
    pub name: S<String>,
    pub asn: S<i64>,
    pub router_id: S<String>,
    #[serde(default)]
    pub networks: Vec<S<String>>,
    pub always_compare_med: Option<S<bool>>,
    #[serde(default)]
    pub listen: Vec<S<String>>,
    pub bfd_min_interval: Option<S<i64>>,
    #[serde(default)]
    pub neighbor: Vec<S<Neighbor>>,
    /// Policies on this router's end of sessions the cloud generates.
    #[serde(default)]
    pub cloud_session: Vec<S<CloudSession>>,
}

/// `[[router.cloud_session]]`: the customer's end of a generated cloud
/// session ("VPN/tunnelN" or a VIF name), which no `[[router.neighbor]]`
/// declares, so its policies are given here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloudSession {
    pub name: S<String>,
    #[serde(default)]
    pub import: Vec<S<String>>,
    #[serde(default)]
    pub export: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Neighbor {
    pub name: Option<S<String>>,
    pub router: Option<S<String>>,
    pub address: Option<S<String>>,
    pub port: Option<S<i64>>,
    pub local_address: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub remote_asn: Option<S<i64>>,
    pub md5_password: Option<S<String>>,
    pub ttl: Option<S<i64>>,
    pub hold_time: Option<S<i64>>,
    pub keepalive: Option<S<i64>>,
    pub connect_retry: Option<S<i64>>,
    pub families: Option<S<Vec<S<String>>>>,
    pub next_hop6: Option<S<String>>,
    pub max_prefix: Option<S<MaxPrefix>>,
    pub bfd: Option<S<Bfd>>,
    #[serde(default)]
    pub import: Vec<S<String>>,
    #[serde(default)]
    pub export: Vec<S<String>>,
    pub ipsec: Option<S<NeighborIpsec>>,
}

/// `ipsec = { psk = ..., local_outside = ..., remote_outside = ...,
/// inside = "169.254.10.2/30" }` on an external neighbour: the session
/// rides in an IPsec tunnel this router initiates toward a real responder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NeighborIpsec {
    pub psk: S<String>,
    pub local_outside: S<String>,
    pub remote_outside: S<String>,
    /// This router's inside address with the tunnel's prefix length.
    pub inside: S<String>,
    pub phase1_lifetime: Option<S<i64>>,
    pub phase2_lifetime: Option<S<i64>>,
    pub dpd_timeout: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum MaxPrefix {
    Limit(i64),
    Table(MaxPrefixTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MaxPrefixTable {
    pub limit: i64,
    pub restart_after: Option<i64>,
}

/// `bfd = true` or `bfd = { min_tx = MS, ... }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Bfd {
    On(bool),
    Table(BfdTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BfdTable {
    pub min_tx: Option<i64>,
    pub min_rx: Option<i64>,
    pub multiplier: Option<i64>,
    pub passive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Policy {
    pub name: S<String>,
    pub default: Option<S<String>>,
    #[serde(default)]
    pub term: Vec<S<Term>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Term {
    #[serde(default)]
    pub prefixes: Vec<S<String>>,
    #[serde(default)]
    pub communities: Vec<S<String>>,
    pub action: Option<S<String>>,
    pub prepend: Option<S<i64>>,
    pub med: Option<S<i64>>,
    pub local_pref: Option<S<i64>>,
    #[serde(default)]
    pub add_communities: Vec<S<String>>,
    #[serde(default)]
    pub remove_communities: Vec<S<String>>,
}
