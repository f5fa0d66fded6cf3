//! The control API's JSON shapes (docs/control-api.md). Shared by the
//! server and by `hybridlab show`, which reads them back.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionsReply {
    pub sessions: Vec<SessionView>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub router: String,
    pub neighbor: String,
    /// "external" or "emulated".
    pub kind: String,
    pub peer_address: Option<IpAddr>,
    pub local_asn: u32,
    pub remote_asn: u32,
    /// Idle Connect Active OpenSent OpenConfirm Established.
    pub state: String,
    pub idle_reason: Option<String>,
    pub uptime_secs: Option<f64>,
    pub hold_time: Option<u16>,
    pub keepalive: Option<u16>,
    pub remote_id: Option<Ipv4Addr>,
    /// Keyed by family name ("ipv4-unicast").
    pub prefixes: BTreeMap<String, PrefixCounts>,
    pub messages: MessageCounts,
    pub last_error: Option<String>,
    pub last_notification_sent: Option<NotificationView>,
    pub last_notification_received: Option<NotificationView>,
    /// Prefixes refused since the session came up because their AS_PATH
    /// held the router's own AS (RFC 4271 §9.1.2). Beyond the documented shape.
    #[serde(default)]
    pub as_loops: u64,
    /// Wall-clock time (ms since the Unix epoch) at which the runtime saw
    /// the session's last state change; the router's start before any.
    #[serde(default)]
    pub last_change_unix_ms: u64,
    /// State of the neighbour's BFD session; `null` without BFD. Beyond the
    /// documented shape.
    #[serde(default)]
    pub bfd_state: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixCounts {
    pub received: u64,
    pub accepted: u64,
    pub advertised: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    pub sent: u64,
    pub received: u64,
    pub updates_sent: u64,
    pub updates_received: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub code: u8,
    pub subcode: u8,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoutesReply {
    pub router: String,
    pub routes: Vec<RouteView>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteView {
    pub prefix: String,
    pub best: bool,
    pub reason: Option<String>,
    /// Neighbour name, or "local" for the router's own networks.
    pub from: String,
    pub peer_address: Option<IpAddr>,
    pub next_hop: Option<IpAddr>,
    pub as_path: Vec<u32>,
    pub as_path_text: String,
    pub origin: String,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub communities: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BfdReply {
    pub bfd: Vec<BfdView>,
    /// Per router, packets that reached no session (an unknown peer or
    /// discriminator). Beyond the documented shape.
    #[serde(default)]
    pub routers: Vec<RouterBfdView>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouterBfdView {
    pub router: String,
    /// Keyed by drop reason (`unknown_peer`, `bad_version`, ...).
    pub unattributed_drops: BTreeMap<String, u64>,
}

/// One BFD session (docs/control-api.md, `GET /api/v1/bfd`). Intervals in
/// microseconds, as on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BfdView {
    pub router: String,
    pub neighbor: String,
    /// "external" or "emulated".
    #[serde(default)]
    pub kind: String,
    pub peer_address: Option<IpAddr>,
    pub local_address: Option<IpAddr>,
    /// AdminDown Down Init Up.
    pub state: String,
    pub remote_state: String,
    pub local_discriminator: u32,
    pub remote_discriminator: u32,
    pub local_diagnostic: String,
    pub remote_diagnostic: String,
    /// The diagnostic of the last change to Down or AdminDown.
    pub last_diagnostic: Option<String>,
    /// "detection time expired", "neighbor signaled down", "neighbor admin
    /// down", "local admin down".
    pub last_down_cause: Option<String>,
    #[serde(default)]
    pub passive: bool,
    pub detect_mult: u8,
    pub remote_detect_mult: u8,
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
    pub remote_desired_min_tx_us: u32,
    pub remote_required_min_rx_us: u32,
    pub tx_interval_us: u32,
    /// `null` until the peer is heard.
    pub detection_time_us: Option<u64>,
    pub polling: bool,
    pub last_change_unix_ms: u64,
    pub last_change_secs_ago: f64,
    /// BFD failed and keeps the neighbour's BGP session Idle until it is
    /// Up again.
    #[serde(default)]
    pub holding_bgp: bool,
    pub counters: BfdCounters,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdCounters {
    pub sent: u64,
    pub received: u64,
    pub dropped_total: u64,
    /// Keyed by drop reason: `bad_version`, `short_length`,
    /// `length_exceeds_payload`, `zero_multiplier`, `multipoint`,
    /// `zero_my_discriminator`, `zero_your_discriminator`,
    /// `bad_authentication`, `unexpected_authentication`, `low_ttl`,
    /// `unknown_discriminator`, `peer_mismatch`, `unknown_peer`,
    /// `not_started`.
    pub dropped: BTreeMap<String, u64>,
    pub state_changes: u64,
    pub up_transitions: u64,
    pub failures: u64,
}

/// Every drop reason with its count, zeros included, under the core's own
/// names.
pub(crate) fn drop_counts(counts: &hybridlab_bfd::session::DropCounts) -> BTreeMap<String, u64> {
    match serde_json::to_value(counts) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_u64()?)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Body of `POST …/announce`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceRequest {
    pub prefix: String,
    #[serde(default)]
    pub med: Option<u32>,
    #[serde(default)]
    pub communities: Vec<String>,
    /// Extra copies of the router's own AS on the originated path.
    #[serde(default)]
    pub as_path_prepend: u8,
}

/// Body of `POST …/withdraw`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub prefix: String,
}

/// Body of `POST …/neighbors/{neighbor}/blackhole`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackholeRequest {
    /// `true` cuts the link, `false` restores it.
    pub on: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
}

/// What a successful command answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub router: String,
    pub done: String,
}

/// `GET /api/v1/nodes/{node}/routes`: any node's routes in one row shape
/// (docs/control-api.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeRoutes {
    pub node: String,
    pub kind: hybridlab_cloud::fabric::NodeKind,
    pub routes: Vec<hybridlab_cloud::fabric::NodeRoute>,
}

/// `POST /api/v1/tunnels/{vpn}/{n}/ipsec`: a tunnel's IPsec down or up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecRequest {
    pub up: bool,
}

/// `GET /api/v1/tunnels`: every IPsec tunnel end of the lab.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TunnelsReply {
    pub tunnels: Vec<TunnelEndView>,
}

/// One end of an IPsec tunnel, on the router whose BGP session rides in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunnelEndView {
    pub router: String,
    pub neighbor: String,
    /// "VPN/tunnelN" on the cloud end; `null` on a customer's.
    pub tunnel: Option<String>,
    /// "initiator" (a customer gateway) or "responder" (the cloud).
    pub role: String,
    /// "virtual" (in memory to an emulated end) or "udp" (kernel sockets
    /// to a real peer).
    pub path: String,
    pub local_outside: IpAddr,
    pub remote_outside: IpAddr,
    /// An IPsec SA pair is installed.
    pub ipsec_up: bool,
    pub last_error: Option<String>,
    /// The tunnel core's own view: phase 1 and 2 states, SPIs, algorithms,
    /// lifetimes left, packet and byte counters, replay drops (the
    /// `hybridlab-ipsec-tunnel` crate's `TunnelView`, as it serializes).
    pub detail: serde_json::Value,
}
