//! The whole cloud side of a lab as one state machine: what every cloud BGP
//! session has learned goes in, what every session must announce, every
//! VPC route table, and `trace` come out.
//!
//! ```text
//!   runtime ── session_changed(CloudPeer, up, routes) ──▶ Fabric
//!           ── set_tunnel_ipsec(TunnelId, up) ──────────▶   │ recompute:
//!                                                           │  VGW candidates → select → primary tunnel
//!                                                           │  CloudHub → exports per tunnel / VIF
//!                                                           │  DX gateway exports, VPC route tables
//!   runtime ◀── exports(): per CloudPeer announcements ─────┘
//!   show / check / trace ◀── node_routes(), vgw(), trace()
//! ```
//!
//! The runtime runs the BGP sessions (a `hybridlab_bgp` router per VGW, DX
//! gateway and public VIF, in controlled-export mode) and tells the fabric
//! what each session accepted; the fabric holds no sockets and no clock, so a drill
//! replays exactly and every rule is testable here.
//!
//! The association between a DX gateway and a VGW carries no BGP session in
//! AWS either: routes a DX gateway learns on its VIFs reach the associated
//! VGWs here directly, as `DxGatewayVif` candidates.

mod config;
mod public_vif;
mod trace;
mod view;

pub use config::{
    FabricConfig, PublicVifConfig, TableConfig, VgwConfig, VifAttach, VifConfig, VpcConfig,
    VpnConfig,
};
pub use public_vif::{ORIGIN_ACCEPTED, ORIGIN_UNAPPROVED};
pub use trace::{Hop, Trace, TraceError};
pub use view::{NodeKind, NodeRoute, VgwView};

use crate::cloudhub::{readvertise, BestRoute, HubPeer};
use crate::path::{Announcement, Candidate, Egress, TunnelId};
use crate::route_table::{OfferedRoute, RouteTable};
use crate::source::RouteSource;
use crate::vgw::{
    choose_primary, export_to_direct_vif, export_to_tunnel, offer_to_vpc, table, tunnel_status,
    TunnelInputs, TunnelRouting, TunnelStatus, VgwSelection,
};
use hybridlab_bgp::packet::PathAttributes;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// One BGP session of a cloud speaker, named as the topology names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum CloudPeer {
    /// A VPN tunnel's session on its VGW.
    Tunnel(TunnelId),
    /// A VIF's session: a private VIF's on the VGW or DX gateway it is
    /// attached to, a public VIF's on its own speaker.
    Vif(String),
}

impl fmt::Display for CloudPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloudPeer::Tunnel(t) => t.fmt(f),
            CloudPeer::Vif(v) => f.write_str(v),
        }
    }
}

/// What one session has: Established or not, and the routes it accepted
/// (after the prefix limit and the AS-loop check of the BGP speaker).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionRoutes {
    pub established: bool,
    pub routes: Vec<(IpNet, PathAttributes)>,
}

/// What the fabric derived for one VGW.
#[derive(Clone, Debug, Default)]
struct VgwState {
    candidates: Vec<Candidate>,
    table: Vec<VgwSelection>,
    primary: Option<TunnelId>,
    tunnels: Vec<(TunnelId, TunnelInputs, TunnelStatus)>,
}

/// The cloud of one lab.
#[derive(Clone, Debug)]
pub struct Fabric {
    config: FabricConfig,
    sessions: BTreeMap<CloudPeer, SessionRoutes>,
    /// Until IKE runs (issue 5) every tunnel's IPsec counts as up; drills
    /// may take one down.
    ipsec_up: BTreeMap<TunnelId, bool>,
    vgws: BTreeMap<String, VgwState>,
    route_tables: BTreeMap<(String, String), RouteTable>,
    exports: BTreeMap<CloudPeer, Vec<Announcement>>,
}

impl Fabric {
    pub fn new(config: FabricConfig) -> Self {
        let ipsec_up = config
            .vpns
            .iter()
            .flat_map(|v| [1, 2].map(|n| (TunnelId::new(v.name.clone(), n), true)))
            .collect();
        let mut fabric = Fabric {
            config,
            sessions: BTreeMap::new(),
            ipsec_up,
            vgws: BTreeMap::new(),
            route_tables: BTreeMap::new(),
            exports: BTreeMap::new(),
        };
        fabric.recompute();
        fabric
    }

    pub fn config(&self) -> &FabricConfig {
        &self.config
    }

    /// A session came up, went down, or accepted different routes. Returns
    /// whether anything the fabric derives changed.
    pub fn session_changed(&mut self, peer: CloudPeer, state: SessionRoutes) -> bool {
        if self.sessions.get(&peer) == Some(&state) {
            return false;
        }
        self.sessions.insert(peer, state);
        self.recompute();
        true
    }

    /// IPsec of a tunnel up or down (a drill, or IKE/DPD once it runs).
    pub fn set_tunnel_ipsec(&mut self, tunnel: &TunnelId, up: bool) -> bool {
        match self.ipsec_up.get_mut(tunnel) {
            Some(state) if *state != up => {
                *state = up;
                self.recompute();
                true
            }
            _ => false,
        }
    }

    /// What every cloud session must announce, in full.
    pub fn exports(&self) -> &BTreeMap<CloudPeer, Vec<Announcement>> {
        &self.exports
    }

    /// A VPC route table: `table` `None` is the main one.
    pub fn route_table(&self, vpc: &str, table: Option<&str>) -> Option<&RouteTable> {
        let name = match table {
            Some(t) => t.to_string(),
            None => self.config.vpc(vpc)?.main_table()?.config.name.clone(),
        };
        self.route_tables.get(&(vpc.to_string(), name))
    }

    fn recompute(&mut self) {
        self.exports.clear();
        let names: Vec<String> = self.config.vgws.iter().map(|v| v.name.clone()).collect();
        for name in names {
            let state = self.vgw_state(&name);
            self.export_vgw(&name, &state);
            self.vgws.insert(name, state);
        }
        for gw in &self.config.dx_gateways {
            let announcements = gw.announcements_to_vifs();
            for vif in &gw.vifs {
                self.exports
                    .insert(CloudPeer::Vif(vif.clone()), announcements.clone());
            }
        }
        self.export_public_vifs();
        self.build_route_tables();
    }

    fn session(&self, peer: &CloudPeer) -> Option<&SessionRoutes> {
        self.sessions.get(peer).filter(|s| s.established)
    }

    fn tunnel_inputs(&self, tunnel: &TunnelId, routing: TunnelRouting) -> TunnelInputs {
        let session = self.session(&CloudPeer::Tunnel(tunnel.clone()));
        TunnelInputs {
            routing,
            ipsec_up: self.ipsec_up.get(tunnel).copied().unwrap_or(false),
            bgp_established: session.is_some(),
            accepted_routes: session.map_or(0, |s| s.routes.len()),
        }
    }

    /// Candidates, selection and tunnel status of one VGW.
    fn vgw_state(&self, vgw: &str) -> VgwState {
        let mut candidates = Vec::new();
        let mut tunnels = Vec::new();
        for vpn in self.config.vpns.iter().filter(|v| v.vgw == vgw) {
            for n in [1, 2] {
                let tunnel = TunnelId::new(vpn.name.clone(), n);
                let inputs = self.tunnel_inputs(&tunnel, vpn.routing);
                tunnels.push((tunnel.clone(), inputs, tunnel_status(&inputs)));
                if !inputs.is_up() {
                    continue;
                }
                match vpn.routing {
                    TunnelRouting::Static => candidates.extend(
                        vpn.static_routes
                            .iter()
                            .map(|p| Candidate::vpn_static(*p, tunnel.clone())),
                    ),
                    TunnelRouting::Bgp => {
                        if let Some(s) = self.session(&CloudPeer::Tunnel(tunnel.clone())) {
                            candidates.extend(s.routes.iter().map(|(prefix, attrs)| {
                                Candidate::from_attributes(
                                    *prefix,
                                    Egress::Tunnel(tunnel.clone()),
                                    RouteSource::VpnBgp,
                                    attrs,
                                    true,
                                )
                            }));
                        }
                    }
                }
            }
        }
        for vif in &self.config.vifs {
            let egress = match &vif.attach {
                VifAttach::Vgw(v) if v == vgw => Egress::Vif(vif.name.clone()),
                VifAttach::DxGateway(gw) if self.config.dx_gateway_serves(gw, vgw) => {
                    Egress::DxGatewayVif {
                        gateway: gw.clone(),
                        vif: vif.name.clone(),
                    }
                }
                _ => continue,
            };
            if let Some(s) = self.session(&CloudPeer::Vif(vif.name.clone())) {
                candidates.extend(s.routes.iter().map(|(prefix, attrs)| {
                    Candidate::from_attributes(
                        *prefix,
                        egress.clone(),
                        RouteSource::DirectConnect,
                        attrs,
                        vif.same_home_region,
                    )
                }));
            }
        }
        let up: Vec<TunnelId> = tunnels
            .iter()
            .filter(|(_, inputs, _)| inputs.is_up())
            .map(|(t, _, _)| t.clone())
            .collect();
        let previous = self.vgws.get(vgw).and_then(|s| s.primary.as_ref());
        let primary = choose_primary(previous, &up);
        let table = table(&candidates, primary.as_ref());
        VgwState {
            candidates,
            table,
            primary,
            tunnels,
        }
    }

    /// Announcements of one VGW to its tunnels and direct VIFs (spec §2.3,
    /// §4): the attached VPC's CIDRs and CloudHub's relayed routes.
    fn export_vgw(&mut self, vgw: &str, state: &VgwState) {
        let Some(config) = self.config.vgw(vgw) else {
            return;
        };
        let asn = config.asn;
        let cidrs = self.config.vgw_vpc_cidrs(vgw);
        let best: Vec<BestRoute> = state
            .table
            .iter()
            .filter_map(BestRoute::from_selection)
            .collect();
        for (tunnel, inputs, _) in &state.tunnels {
            if inputs.routing != TunnelRouting::Bgp {
                continue;
            }
            let hub = readvertise(
                asn,
                &best,
                &HubPeer::Tunnel(tunnel.clone()),
                &self.config.assumptions,
            );
            // What the session would carry once up: computed as if it
            // were, so the speaker has it ready at Established.
            let ready = TunnelInputs {
                bgp_established: true,
                ..*inputs
            };
            let export = export_to_tunnel(
                asn,
                &cidrs,
                &hub,
                tunnel,
                &ready,
                state.primary.as_ref(),
                &self.config.limits,
            );
            self.exports
                .insert(CloudPeer::Tunnel(tunnel.clone()), export.announcements);
        }
        for vif in &self.config.vifs {
            if !matches!(&vif.attach, VifAttach::Vgw(v) if v == vgw) {
                continue;
            }
            let hub = readvertise(
                asn,
                &best,
                &HubPeer::DirectVif(vif.name.clone()),
                &self.config.assumptions,
            );
            self.exports.insert(
                CloudPeer::Vif(vif.name.clone()),
                export_to_direct_vif(asn, &cidrs, &hub),
            );
        }
    }

    /// Every VPC route table from what its VGW offers (spec §3).
    fn build_route_tables(&mut self) {
        self.route_tables.clear();
        for vpc in &self.config.vpcs {
            let offered: Vec<OfferedRoute> = self
                .config
                .vgws
                .iter()
                .filter(|g| g.vpc.as_deref() == Some(vpc.name.as_str()))
                .filter_map(|g| {
                    let state = self.vgws.get(&g.name)?;
                    // Candidates exist only for connections that are UP.
                    Some(offer_to_vpc(&g.name, &state.table, |_| true))
                })
                .flatten()
                .collect();
            for t in &vpc.route_tables {
                let table = RouteTable::build(&t.config, &offered, &self.config.limits);
                self.route_tables
                    .insert((vpc.name.clone(), t.config.name.clone()), table);
            }
        }
    }
}

#[cfg(test)]
mod tests;
