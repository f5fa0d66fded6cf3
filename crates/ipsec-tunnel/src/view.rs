//! [`TunnelView`]: what an operator sees of one tunnel end, as the
//! status API serialises it.

use crate::child_sa::{self};
use crate::tunnel::{IpsecTunnel, TunnelStats};
use hybridlab_esp::Counters;
use hybridlab_ike::{NatStatus, Role, SaState};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone, Debug, Serialize)]
pub struct TunnelView {
    pub name: String,
    pub phase1: SaState,
    pub phase2: SaState,
    /// A child SA is installed.
    pub ipsec_up: bool,
    /// Who started the current phase 1 SA.
    pub role: Option<Role>,
    pub nat: NatStatus,
    pub udp_encapsulation: bool,
    /// Outside addresses and ports in use (the 4500 ones after the float).
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// ISAKMP cookies, 16 hex digits.
    pub icookie: Option<String>,
    pub rcookie: Option<String>,
    /// "aes128-sha1-modp1024" style.
    pub phase1_algorithms: Option<String>,
    pub phase1_lifetime_left_secs: Option<u64>,
    /// Newest pair (the one sealing): SPIs as 8 hex digits.
    pub spi_in: Option<String>,
    pub spi_out: Option<String>,
    pub phase2_algorithms: Option<String>,
    pub phase2_lifetime_left_secs: Option<u64>,
    /// Every installed pair, oldest first (two during a rekey, and a
    /// draining one for two seconds after).
    pub child_sas: Vec<ChildSaView>,
    /// Totals over every SA this tunnel had, deleted ones included.
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub replay_drops: u64,
    pub icv_failures: u64,
    pub esp_malformed: u64,
    pub tunnel: TunnelStats,
    pub ike: hybridlab_ike::peer::Stats,
    pub inside: InsideView,
    /// The last error in words ("No proposal match ...", "Peer is not
    /// responsive - declaring peer dead ...").
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChildSaView {
    pub spi_in: String,
    pub spi_out: String,
    pub algorithms: String,
    pub lifetime_left_secs: u64,
    /// Replaced and deleted: still opens late packets, seals nothing.
    pub draining: bool,
    /// From a rekey we started, the peer not yet heard on it: outbound
    /// traffic still goes on the older pair.
    pub awaiting_peer: bool,
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub replay_drops: u64,
    pub icv_failures: u64,
}

/// The inside endpoint's counters (crates/tunnel-ip `Stats`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct InsideView {
    pub address: std::net::Ipv4Addr,
    pub received: u64,
    pub sent: u64,
    pub tcp_in: u64,
    pub echo_replied: u64,
    pub dropped: u64,
    pub tcp_connections: usize,
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

impl IpsecTunnel {
    pub fn view(&self, now: Duration) -> TunnelView {
        let mut total = self.retired;
        for c in &self.children {
            child_sa::add(&mut total, &c.counters());
        }
        let Counters {
            packets_in,
            packets_out,
            bytes_in,
            bytes_out,
            replay_drops,
            icv_failures,
            malformed,
        } = total;
        let newest = self.children.iter().rev().find(|c| c.is_live());
        let p1 = self.phase1.as_ref();
        let ip = self.ip.stats();
        TunnelView {
            name: self.name.clone(),
            phase1: self.ike.phase1_state(),
            phase2: self.ike.phase2_state(),
            ipsec_up: newest.is_some(),
            role: p1.map(|p| p.role),
            nat: self.nat,
            udp_encapsulation: newest.is_some_and(|c| c.udp_encapsulation),
            local: newest.map_or(self.ike_local, |c| c.local),
            remote: newest.map_or(self.ike_remote, |c| c.remote),
            icookie: p1.map(|p| format!("{:016x}", p.icookie)),
            rcookie: p1.map(|p| format!("{:016x}", p.rcookie)),
            phase1_algorithms: p1.map(|p| p.proposal.to_string()),
            phase1_lifetime_left_secs: p1.map(|p| secs((p.up_at + p.lifetime).saturating_sub(now))),
            spi_in: newest.map(|c| format!("{:08x}", c.spi_in)),
            spi_out: newest.map(|c| format!("{:08x}", c.spi_out)),
            phase2_algorithms: newest.map(|c| c.proposal.to_string()),
            phase2_lifetime_left_secs: newest.map(|c| secs(c.lifetime_left(now))),
            child_sas: self
                .children
                .iter()
                .map(|c| {
                    let k = c.counters();
                    ChildSaView {
                        spi_in: format!("{:08x}", c.spi_in),
                        spi_out: format!("{:08x}", c.spi_out),
                        algorithms: c.proposal.to_string(),
                        lifetime_left_secs: secs(c.lifetime_left(now)),
                        draining: !c.is_live(),
                        awaiting_peer: c.is_live() && !c.carries_outbound(now),
                        packets_in: k.packets_in,
                        packets_out: k.packets_out,
                        bytes_in: k.bytes_in,
                        bytes_out: k.bytes_out,
                        replay_drops: k.replay_drops,
                        icv_failures: k.icv_failures,
                    }
                })
                .collect(),
            packets_in,
            packets_out,
            bytes_in,
            bytes_out,
            replay_drops,
            icv_failures,
            esp_malformed: malformed,
            tunnel: self.stats,
            ike: self.ike.stats(),
            inside: InsideView {
                address: self.ip.local(),
                received: ip.received,
                sent: ip.sent,
                tcp_in: ip.tcp_in,
                echo_replied: ip.echo_replied,
                dropped: ip.dropped(),
                tcp_connections: self.ip.tcp_connections(),
            },
            last_error: self.last_error.clone(),
        }
    }
}
