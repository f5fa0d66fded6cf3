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
