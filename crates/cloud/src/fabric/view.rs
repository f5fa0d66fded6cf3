//! What `show routes` prints for a cloud node, and what `check` compares
//! expectations against: one row shape for every kind of node.

use super::{CloudPeer, Fabric};
use crate::decision::Rule;
use crate::path::{Announcement, Candidate, TunnelId};
use crate::route_table::RouteOrigin;
use crate::source::RouteSource;
use crate::vgw::TunnelStatus;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Vpc,
    Vgw,
    DxGateway,
    Tunnel,
    Vif,
    Router,
}

/// One route of a node. `via` is where it points: for a VPC route table
/// the target ("local", a VGW); for a VGW the egress (a tunnel such as
/// "vpn-1/tunnel1", or a VIF); for a DX gateway the VIF it was learned on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRoute {
    pub prefix: IpNet,
    pub via: String,
    /// VPC route table: the VGW's egress behind a propagated route.
    pub egress: Option<String>,
    /// VPC: "local" / "static" / "propagated"; VGW, DX gateway: the source
    /// ("direct_connect", "vpn_static", "vpn_bgp").
    pub origin: String,
    pub as_path: Vec<u32>,
    pub med: Option<u32>,
    pub communities: Vec<String>,
    /// Selected: the rule that decided; not selected: the rule it lost to.
    pub rule: Option<Rule>,
    pub active: bool,
}

/// A VGW as `show` prints it: tunnels, primary, every candidate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VgwView {
    pub name: String,
    pub asn: u32,
    pub vpc: Option<String>,
    pub primary_tunnel: Option<TunnelId>,
    pub tunnels: Vec<TunnelView>,
    pub routes: Vec<NodeRoute>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TunnelView {
    pub tunnel: TunnelId,
    #[serde(flatten)]
    pub status: TunnelStatus,
}

impl Fabric {
    /// The kind of a cloud node, `None` for names the fabric does not know.
    pub fn node_kind(&self, node: &str) -> Option<NodeKind> {
        let (vpc, _) = split_table(node);
        if self.config.vpc(vpc).is_some() {
            Some(NodeKind::Vpc)
        } else if self.config.vgw(node).is_some() {
            Some(NodeKind::Vgw)
        } else if self.config.dx_gateway(node).is_some() {
            Some(NodeKind::DxGateway)
        } else if self.config.public_vif(node).is_some() {
            Some(NodeKind::Vif)
        } else {
            None
        }
    }

    /// The routes of a VPC (main table, or "VPC/TABLE"), VGW, DX gateway or
    /// public VIF.
    pub fn node_routes(&self, node: &str) -> Option<Vec<NodeRoute>> {
        match self.node_kind(node)? {
            NodeKind::Vpc => {
                let (vpc, table) = split_table(node);
                Some(self.table_routes(vpc, table)?)
            }
            NodeKind::Vgw => Some(self.vgw(node)?.routes),
            NodeKind::DxGateway => Some(self.dx_gateway_routes(node)),
            NodeKind::Vif => Some(self.public_vif_routes(node)),
            _ => None,
        }
    }

    fn table_routes(&self, vpc: &str, table: Option<&str>) -> Option<Vec<NodeRoute>> {
        let t = self.route_table(vpc, table)?;
        let rows = t.view();
        Some(
            t.entries()
                .iter()
                .zip(rows)
                .map(|(entry, row)| NodeRoute {
                    prefix: entry.prefix,
                    via: entry.origin.target().to_string(),
                    egress: match &entry.origin {
                        RouteOrigin::Propagated { via, .. } => Some(via.clone()),
                        _ => None,
                    },
                    origin: row.origin.to_string(),
                    as_path: Vec::new(),
                    med: None,
                    communities: Vec::new(),
                    rule: None,
                    active: row.active,
                })
                .collect(),
        )
    }

    /// A VGW's tunnels and candidates, the selected ones first per prefix.
    pub fn vgw(&self, name: &str) -> Option<VgwView> {
        let config = self.config.vgw(name)?;
        let state = self.vgws.get(name)?;
        let mut routes = Vec::new();
        for s in &state.table {
            routes.extend(s.chosen.iter().map(|c| candidate_row(c, s.rule, true)));
            routes.extend(
                s.losers
                    .iter()
                    .map(|l| candidate_row(&l.candidate, l.rule, false)),
            );
        }
        Some(VgwView {
            name: name.to_string(),
            asn: config.asn,
            vpc: config.vpc.clone(),
            primary_tunnel: state.primary.clone(),
            tunnels: state
                .tunnels
                .iter()
                .map(|(tunnel, _, status)| TunnelView {
                    tunnel: tunnel.clone(),
                    status: status.clone(),
                })
                .collect(),
            routes,
        })
    }

    /// Routes a DX gateway learned on its VIFs (it selects nothing itself:
    /// each associated VGW does), then what it announces to them.
    fn dx_gateway_routes(&self, name: &str) -> Vec<NodeRoute> {
        let Some(gw) = self.config.dx_gateway(name) else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for vif in &gw.vifs {
            let Some(s) = self.session(&CloudPeer::Vif(vif.clone())) else {
                continue;
            };
            rows.extend(s.routes.iter().map(|(prefix, attrs)| NodeRoute {
                prefix: *prefix,
                via: vif.clone(),
                egress: None,
                origin: source_name(RouteSource::DirectConnect).to_string(),
                as_path: attrs.as_path.iter().flat_map(|p| p.asns()).collect(),
                med: attrs.med,
                communities: attrs.communities.iter().map(|c| c.to_string()).collect(),
                rule: None,
                active: true,
            }));
        }
        rows.sort_by(|a, b| (a.prefix, &a.via).cmp(&(b.prefix, &b.via)));
        rows
    }

    /// What one cloud session announces (also before it is up).
    pub fn announcements(&self, peer: &CloudPeer) -> &[Announcement] {
        self.exports.get(peer).map_or(&[], Vec::as_slice)
    }
}

fn candidate_row(c: &Candidate, rule: Rule, active: bool) -> NodeRoute {
    NodeRoute {
        prefix: c.prefix,
        via: c.egress.to_string(),
        egress: None,
        origin: source_name(c.source).to_string(),
        as_path: c.as_path.asns().collect(),
        med: c.med,
        communities: c.communities.iter().map(|c| c.to_string()).collect(),
        rule: Some(rule),
        active,
    }
}

fn source_name(source: RouteSource) -> &'static str {
    match source {
        RouteSource::DirectConnect => "direct_connect",
        RouteSource::VpnStatic => "vpn_static",
        RouteSource::VpnBgp => "vpn_bgp",
    }
}

/// "prod/private" → ("prod", Some("private")).
pub(crate) fn split_table(node: &str) -> (&str, Option<&str>) {
    match node.split_once('/') {
        Some((vpc, table)) => (vpc, Some(table)),
        None => (node, None),
    }
}
