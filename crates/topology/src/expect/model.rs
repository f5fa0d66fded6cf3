//! Validated expectations: every node and neighbour named exists, every
//! value parses.

use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// "FILE:LINE" of the `[[expect]]`, for messages.
    pub at: String,
    pub description: Option<String>,
    pub check: Check,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A route in a node's table. `node` is a VPC (its main route table),
    /// "VPC/TABLE", a VGW, a DX gateway or a `[[router]]`.
    Route {
        node: String,
        prefix: IpNet,
        /// `absent = true` makes it false; the attributes below are then
        /// all `None`.
        present: bool,
        /// A VPC table: the route's target. A BGP speaker: the neighbour
        /// the route was learned from.
        via: Option<String>,
        as_path: Option<Vec<u32>>,
        med: Option<u32>,
        /// The deciding rule, one of [`RULES`].
        rule: Option<String>,
        /// A VPC table: one of [`VPC_ORIGINS`]; a VGW or DX gateway: one
        /// of [`GATEWAY_ORIGINS`]; a `[[router]]`: one of [`BGP_ORIGINS`].
        origin: Option<String>,
        /// As written; each parses as a community.
        communities: Option<Vec<String>>,
    },
    /// A BGP session of a node: `peer` is a neighbour name on that node;
    /// `state` one of [`SESSION_STATES`]; `idle_reason` e.g. "prefix limit".
    Session {
        node: String,
        peer: String,
        state: String,
        idle_reason: Option<String>,
    },
    /// `hybridlab trace FROM TO`: `from` is a VPC; `path` the node and
    /// egress names the packet passes, in order (empty: not checked);
    /// `delivered` Some(false) for "dropped".
    Trace {
        from: String,
        to: IpAddr,
        path: Vec<String>,
        delivered: Option<bool>,
    },
    /// A VPN tunnel's status as the VGW reports it (`hybridlab show vgw`,
    /// spec §1.6): `tunnel` is "VPN/tunnelN", `vgw` the VGW of its VPN;
    /// `status` one of [`TUNNEL_STATES`].
    Tunnel {
        vgw: String,
        tunnel: String,
        status: String,
        status_message: Option<String>,
    },
}

/// A tunnel's `status`, as the VGW view and AWS's API write it.
pub const TUNNEL_STATES: [&str; 2] = ["UP", "DOWN"];

/// Names of `hybridlab_cloud::decision::Rule`, as it serializes them.
pub const RULES: [&str; 11] = [
    "only_candidate",
    "longest_prefix",
    "local_route",
    "static_over_propagated",
    "source_preference",
    "local_preference_community",
    "shortest_as_path",
    "lowest_med",
    "primary_tunnel",
    "lowest_name",
    "flow_hash",
];

/// Where a VPC route table's route comes from, as `show routes` says it.
pub const VPC_ORIGINS: [&str; 3] = ["local", "static", "propagated"];

/// The BGP ORIGIN attribute (RFC 4271 §5.1.1), lower case.
pub const BGP_ORIGINS: [&str; 3] = ["igp", "egp", "incomplete"];

/// Where a VGW's or DX gateway's route comes from, as `show routes` says
/// it (`hybridlab_cloud::source::RouteSource`, snake case): what the cloud
/// ranks by, not the ORIGIN attribute.
pub const GATEWAY_ORIGINS: [&str; 3] = ["direct_connect", "vpn_static", "vpn_bgp"];

/// What AWS made of a customer route on a public VIF, as `show routes`
/// says it (`hybridlab_cloud::fabric::ORIGIN_ACCEPTED` / `ORIGIN_UNAPPROVED`).
pub const PUBLIC_VIF_ORIGINS: [&str; 2] = ["public", "public_unapproved"];

/// RFC 4271 §8.2.2 states, as the control API names them.
pub const SESSION_STATES: [&str; 6] = [
    "Idle",
    "Connect",
    "Active",
    "OpenSent",
    "OpenConfirm",
    "Established",
];

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_cloud::decision::Rule;

    /// RULES must follow the cloud crate's serde names, every one of them.
    #[test]
    fn rule_names_are_the_cloud_crates() {
        let all = [
            Rule::OnlyCandidate,
            Rule::LongestPrefix,
            Rule::LocalRoute,
            Rule::StaticOverPropagated,
            Rule::SourcePreference,
            Rule::LocalPreferenceCommunity,
            Rule::ShortestAsPath,
            Rule::LowestMed,
            Rule::PrimaryTunnel,
            Rule::LowestName,
            Rule::FlowHash,
        ];
        for (rule, name) in all.into_iter().zip(RULES) {
            let serialized = match toml::Value::try_from(rule) {
                Ok(toml::Value::String(s)) => s,
                other => panic!("{rule:?} serializes as {other:?}"),
            };
            assert_eq!(serialized, name);
        }
        // Adding a rule breaks this match: add its name to RULES then.
        let _exhaustive = |r: Rule| match r {
            Rule::OnlyCandidate
            | Rule::LongestPrefix
            | Rule::LocalRoute
            | Rule::StaticOverPropagated
            | Rule::SourcePreference
            | Rule::LocalPreferenceCommunity
            | Rule::ShortestAsPath
            | Rule::LowestMed
            | Rule::PrimaryTunnel
            | Rule::LowestName
            | Rule::FlowHash => (),
        };
    }
}
