//! The cloud model as plain logic: what an AWS region shows a customer
//! network, without sockets, clocks or tasks.
//!
//! ```text
//!                 VPC 10.0.0.0/16 ── route table (route_table.rs)
//!                        │            local > LPM > static > DX / VPN static / VPN BGP
//!                        │ propagation (per table, off until enabled)
//!                        ▼
//!   ┌──────────────────── VGW (vgw.rs) ─────────────────────┐
//!   │ select(): DX BGP > VPN static > VPN BGP; AS_PATH; MED │
//!   │ one primary tunnel, no ECMP; MED 100 / 200 on export  │
//!   │ CloudHub (cloudhub.rs): relay site ↔ site, +VGW ASN   │
//!   └──┬──────────────┬──────────────┬───────────────┬──────┘
//!      │ tunnel 1     │ tunnel 2     │ direct VIF    │ association
//!      │ (BGP/static) │              │ (dx/vif.rs)   ▼
//!      │              │              │        DX gateway (dx/gateway.rs)
//!      │              │              │        allowed-prefix filter, no transit
//!      ▼              ▼              ▼               │ VIFs
//!   CGW (site A, 169.254.x.2/30)   on-premises routers (DX, 7224:7x00)
//! ```
//!
//! How the runtime uses each piece:
//! - It runs a `hybridlab_bgp` router per cloud BGP speaker (VGW, DX
//!   gateway) for sessions and Adj-RIB-In, configured with
//!   [`vgw::HOLD_TIME_SECS`], [`dx::vif::VifSettings`] and the max-prefix
//!   values of [`vgw::vpn_prefix_limit`] / [`dx::vif::prefix_limit`].
//! - Received routes become [`path::Candidate`]s; [`vgw::lookup`] and
//!   [`vgw::select`] choose among them where the cloud differs from RFC 4271,
//!   returning the deciding [`decision::Rule`] and the losers for `trace`.
//!   Equal DX VIFs are split per flow by [`dx::vif::pick_by_flow_hash`].
//! - [`vgw::choose_primary`] keeps the one egress tunnel of the VGW;
//!   [`vgw::export_to_tunnel`] builds each tunnel's announcements (VPC CIDRs
//!   and [`cloudhub::readvertise`] output, MED marked) and
//!   [`dx::gateway::DxGateway::announcements_to_vifs`] the DX gateway's.
//! - [`vgw::tunnel_status`] gives the telemetry `show` prints.
//! - [`route_table::RouteTable::build`] turns what the VGW offers into a
//!   VPC route table; [`route_table::RouteTable::lookup`] forwards packets.
//! - [`validate`], [`addressing`] and [`limits::Limits`] check a topology
//!   before anything starts; errors are [`error::ConfigError`].
//!
//! Spec references (`spec §N`) are to `shared/spec/aws-behavior.md`.

pub mod addressing;
pub mod assumptions;
pub mod cloudhub;
pub mod decision;
pub mod dx;
pub mod error;
pub mod fabric;
pub mod limits;
pub mod mtu;
pub mod path;
pub mod route_table;
pub mod source;
pub mod validate;
pub mod vgw;
