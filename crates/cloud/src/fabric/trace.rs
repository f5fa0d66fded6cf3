//! `hybridlab trace FROM TO`: the way a packet from a VPC takes, hop by
//! hop, with the matched prefix, the rule that decided and the candidates
//! that lost at each hop (spec §3.1, §2.5, §5.5).

use super::view::{split_table, NodeKind};
use super::{Fabric, VifAttach};
use crate::decision::{Lost, Rule};
use crate::dx::vif::{pick_by_flow_hash, FlowKey};
use crate::path::{Candidate, Egress};
use crate::route_table::{RouteEntry, RouteOrigin};
use crate::vgw::lookup;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("no VPC `{0}` (trace starts at a VPC, or VPC/TABLE)")]
    NoVpc(String),
    #[error("VPC `{vpc}` has no route table `{table}`")]
    NoTable { vpc: String, table: String },
}

/// One node the packet passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub node: String,
    pub kind: NodeKind,
    /// The route that matched here, if this hop looks one up.
    pub matched: Option<IpNet>,
    /// What this hop chose: the next hop's name.
    pub chose: String,
    pub rule: Option<Rule>,
    /// Every candidate that lost, with the rule it lost to.
    pub losers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub from: String,
    pub to: IpAddr,
    pub hops: Vec<Hop>,
    pub delivered: bool,
    /// Where and why it ended.
    pub outcome: String,
}

impl Trace {
    /// The names of the nodes passed, in order.
    pub fn path(&self) -> Vec<String> {
        self.hops.iter().map(|h| h.node.clone()).collect()
    }
}

impl Fabric {
    /// The way of a packet from VPC `from` (its main route table, or
    /// "VPC/TABLE") to `to`. `flow` picks among equal VIFs; `None`: a flow
    /// from the VPC's first address to `to`.
    pub fn trace(
        &self,
        from: &str,
        to: IpAddr,
        flow: Option<FlowKey>,
    ) -> Result<Trace, TraceError> {
        let (vpc, table) = split_table(from);
        let config = self
            .config
            .vpc(vpc)
            .ok_or_else(|| TraceError::NoVpc(vpc.to_string()))?;
        let rt = self
            .route_table(vpc, table)
            .ok_or_else(|| TraceError::NoTable {
                vpc: vpc.to_string(),
                table: table.unwrap_or("main").to_string(),
            })?;
        let flow = flow.unwrap_or_else(|| FlowKey {
            src: config
                .cidrs
                .first()
                .map_or(to, |c| first_host(c).unwrap_or(c.addr())),
            dst: to,
            protocol: 6,
            src_port: 49152,
            dst_port: 443,
        });
        let mut trace = Trace {
            from: from.to_string(),
            to,
            hops: Vec::new(),
            delivered: false,
            outcome: String::new(),
        };
        let Some(found) = rt.lookup(to) else {
            trace
                .hops
                .push(hop(vpc, NodeKind::Vpc, None, "(none)", None));
            trace.outcome = format!("dropped at {vpc}: no route in table {}", rt.name);
            return Ok(trace);
        };
        let mut vpc_hop = hop(
            vpc,
            NodeKind::Vpc,
            Some(found.chosen.prefix),
            found.chosen.origin.target(),
            Some(found.rule),
        );
        vpc_hop.losers = found.losers.iter().map(entry_loser).collect();
        trace.hops.push(vpc_hop);
        let gateway = match &found.chosen.origin {
            RouteOrigin::Local => {
                trace.delivered = true;
                trace.outcome = format!("delivered inside {vpc} (local route)");
                return Ok(trace);
            }
            RouteOrigin::Propagated { gateway, .. } => gateway.clone(),
            RouteOrigin::Static { target } if self.config.vgw(target).is_some() => target.clone(),
            RouteOrigin::Static { target } => {
                trace.outcome = format!("leaves {vpc} via {target}, which is outside the lab");
                return Ok(trace);
            }
        };
        self.trace_vgw(&gateway, &flow, &mut trace);
        Ok(trace)
    }

    /// From the VGW on: its choice (spec §2.5), the VIF or tunnel, the
    /// customer router.
    fn trace_vgw(&self, vgw: &str, flow: &FlowKey, trace: &mut Trace) {
        let Some(state) = self.vgws.get(vgw) else {
            trace.outcome = format!("dropped: no VGW {vgw}");
            return;
        };
        let Some(selection) = lookup(&state.candidates, trace.to, state.primary.as_ref()) else {
            trace
                .hops
                .push(hop(vgw, NodeKind::Vgw, None, "(none)", None));
            trace.outcome = format!("dropped at {vgw}: no route (a VGW has no default route)");
            return;
        };
        let mut losers: Vec<String> = selection.losers.iter().map(candidate_loser).collect();
        let mut rule = selection.rule;
        let chosen = if selection.chosen.len() > 1 {
            let picked = pick_by_flow_hash(&selection.chosen, flow);
            losers.extend(
                selection
                    .chosen
                    .iter()
                    .filter(|c| Some(*c) != picked)
                    .map(|c| format!("{} ({})", c.egress, Rule::FlowHash)),
            );
            rule = Rule::FlowHash;
            picked
        } else {
            selection.chosen.first()
        };
        let Some(chosen) = chosen else {
            trace.outcome = format!("dropped at {vgw}: no path");
            return;
        };
        let mut vgw_hop = hop(
            vgw,
            NodeKind::Vgw,
            Some(selection.prefix),
            &chosen.egress.to_string(),
            Some(rule),
        );
        vgw_hop.losers = losers;
        trace.hops.push(vgw_hop);
        let customer = match &chosen.egress {
            Egress::Tunnel(t) => {
                trace
                    .hops
                    .push(hop(&t.to_string(), NodeKind::Tunnel, None, "", None));
                self.config
                    .vpn(&t.connection)
                    .and_then(|v| v.customer.clone())
            }
            Egress::Vif(v) => {
                trace.hops.push(hop(v, NodeKind::Vif, None, "", None));
                self.config.vif(v).and_then(|v| v.customer.clone())
            }
            Egress::DxGatewayVif { gateway, vif } => {
                trace
                    .hops
                    .push(hop(gateway, NodeKind::DxGateway, None, vif, None));
                trace.hops.push(hop(vif, NodeKind::Vif, None, "", None));
                self.config
                    .vif(vif)
                    .filter(|v| matches!(&v.attach, VifAttach::DxGateway(g) if g == gateway))
                    .and_then(|v| v.customer.clone())
            }
        };
        let customer = customer.unwrap_or_else(|| "external".to_string());
        if let Some(last) = trace.hops.last_mut() {
            last.chose = customer.clone();
        }
        trace
            .hops
            .push(hop(&customer, NodeKind::Router, None, "", None));
        trace.delivered = true;
        trace.outcome = format!("delivered to {customer} via {}", chosen.egress);
    }
}

fn hop(node: &str, kind: NodeKind, matched: Option<IpNet>, chose: &str, rule: Option<Rule>) -> Hop {
    Hop {
        node: node.to_string(),
        kind,
        matched,
        chose: chose.to_string(),
        rule,
        losers: Vec::new(),
    }
}

fn entry_loser(l: &Lost<RouteEntry>) -> String {
    format!(
        "{} via {} ({})",
        l.candidate.prefix,
        l.candidate.origin.target(),
        l.rule
    )
}

fn candidate_loser(l: &Lost<Candidate>) -> String {
    format!("{} ({})", l.candidate.egress, l.rule)
}

fn first_host(net: &IpNet) -> Option<IpAddr> {
    net.hosts().next()
}
