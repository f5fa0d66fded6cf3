//! The IPsec tunnels a router's BGP sessions ride in (a VPN with
//! `ipsec = true`): one [`IpsecTunnel`] per tunnel neighbour, driven by the
//! router task like its BGP and BFD cores.
//!
//! ```text
//!  BGP core ── Connect/Send/Close ──▶ IpsecTunnel ── Udp ──▶ Wire ──▶ far router task
//!     ▲                              (IKE, ESP,      │                (emulated end)
//!     └──── Connected/Received ───── inside TCP/IP)  ├──▶ kernel UDP 500/4500 (real peer)
//!                                                   Esp ──▶ raw IP protocol 50 (real peer, no NAT)
//! ```
//!
//! Between two emulated ends the datagrams travel in memory through the
//! [`Wire`](crate::wire::Wire) on the neighbour's link, so taps see every
//! IKE and ESP packet and a blackhole drops them. Toward a real customer
//! gateway they go through kernel UDP sockets on the tunnel's outside
//! address (see [`udp`]), and plain ESP (SAs without UDP encapsulation:
//! no NAT between the ends) through a raw protocol-50 socket there (see
//! [`esp`]).
//!
//! Randomness (cookies, nonces, DH secrets, SPIs): between two emulated
//! ends a PRNG seeded from the lab's seed, so a run replays exactly; toward
//! a real peer the operating system's generator, since those keys protect
//! real traffic.

pub(crate) mod esp;
pub(crate) mod udp;

use crate::timers::Timers;
use crate::view::TunnelEndView;
use esp::EspPath;
use hybridlab_cloud::path::TunnelId;
use hybridlab_ike::{DpdAction as IkeDpd, PeerConfig, Psk, Random, SeededRandom, SystemRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelError};
use hybridlab_topology::cloud::{DpdAction, TunnelEnd, TunnelRole};
use hybridlab_tunnel_ip::TunnelIpConfig;
use ipnet::IpNet;
use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use udp::{UdpPair, IKE_PORT};

/// How a tunnel's datagrams reach its far end.
#[derive(Debug)]
pub(crate) enum DatagramPath {
    /// The far end is emulated: its router task, neighbour of that index.
    Virtual {
        far_router: usize,
        far_neighbor: usize,
    },
    /// A real peer: kernel sockets on our outside address, UDP 500/4500
    /// and raw IP protocol 50 (plain ESP).
    Kernel { udp: UdpPair, esp: EspPath },
}

/// One tunnel end and what the router task keeps beside it.
pub(crate) struct TunnelRun {
    pub engine: IpsecTunnel,
    pub path: DatagramPath,
    pub role: TunnelRole,
    /// The fabric's name of the tunnel, on the cloud end only: its IPsec
    /// state goes to the cloud task.
    pub cloud: Option<TunnelId>,
    pub local_outside: IpAddr,
    pub remote_outside: IpAddr,
    pub ipsec_up: bool,
    pub last_error: Option<String>,
    /// Reader tasks of the kernel sockets; aborted when the router stops.
    pub readers: Vec<JoinHandle<()>>,
}

/// A router's tunnels, by neighbour index, and their timers.
pub(crate) struct Tunnels {
    pub runs: BTreeMap<usize, TunnelRun>,
    pub timers: Timers<usize>,
    /// The cores count time from here (their clock is a `Duration`).
    pub epoch: Instant,
    /// Connections inside a tunnel that this end opened (for the
    /// Established event's `outbound`).
    pub outbound: HashSet<u64>,
}

impl Default for Tunnels {
    fn default() -> Self {
        Tunnels {
            runs: BTreeMap::new(),
            timers: Timers::default(),
            epoch: Instant::now(),
            outbound: HashSet::new(),
        }
    }
}

impl Tunnels {
    pub(crate) fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }

    /// Arms the slot's timer at the core's next deadline, or disarms it.
    pub(crate) fn rearm(&mut self, slot: usize) {
        let deadline = self.runs.get(&slot).and_then(|r| r.engine.next_deadline());
        match deadline {
            Some(at) => self.timers.start(slot, self.epoch, at.max(self.now())),
            None => self.timers.stop(slot),
        }
    }

    pub(crate) fn view(&self, router: &str, slot: usize, neighbor: &str) -> Option<TunnelEndView> {
        let run = self.runs.get(&slot)?;
        let detail =
            serde_json::to_value(run.engine.view(self.now())).unwrap_or(serde_json::Value::Null);
        Some(TunnelEndView {
            router: router.to_string(),
            neighbor: neighbor.to_string(),
            tunnel: run.cloud.as_ref().map(ToString::to_string),
            role: match run.role {
                TunnelRole::Initiator => "initiator",
                TunnelRole::Responder => "responder",
            }
            .to_string(),
            path: match run.path {
                DatagramPath::Virtual { .. } => "virtual",
                // "udp" names the kernel path as a whole (the view's
                // value since before the raw ESP socket).
                DatagramPath::Kernel { .. } => "udp",
            }
            .to_string(),
            local_outside: run.local_outside,
            remote_outside: run.remote_outside,
            ipsec_up: run.ipsec_up,
            last_error: run.last_error.clone(),
            detail,
        })
    }

    pub(crate) fn stop_readers(&mut self) {
        for run in self.runs.values_mut() {
            for r in run.readers.drain(..) {
                r.abort();
            }
        }
    }
}

/// The tunnel core of one end, from the topology's description of it.
/// `real_peer`: the far end is a real router (keys from the OS generator).
pub(crate) fn tunnel(
    name: &str,
    end: &TunnelEnd,
    accept_bgp: bool,
    seed: u64,
    real_peer: bool,
) -> Result<IpsecTunnel, TunnelError> {
    let local = SocketAddr::new(IpAddr::V4(end.local_outside), IKE_PORT);
    let remote = SocketAddr::new(IpAddr::V4(end.remote_outside), IKE_PORT);
    let psk = Psk::new(end.psk.as_bytes());
    let o = &end.options;
    let mut ike = match end.role {
        TunnelRole::Responder => PeerConfig::cloud(local, remote, psk),
        TunnelRole::Initiator => {
            let mut c = PeerConfig::customer(local, remote, psk);
            // Like strongSwan with kernel-libipsec, the customer gateways
            // the lab emulates put ESP in UDP 4500 even without a NAT: the
            // lab carries datagrams, not IP protocol 50.
            c.force_encapsulation = true;
            c
        }
    };
    ike.phase1_lifetime = o.phase1_lifetime;
    ike.phase2_lifetime = o.phase2_lifetime;
    ike.rekey.margin = o.rekey_margin;
    ike.rekey.fuzz_percent = u32::from(o.rekey_fuzz);
    ike.dpd.timeout = o.dpd_timeout;
    ike.dpd.action = match (end.role, o.dpd_timeout_action) {
        // AWS's guides tell customer gateways to restart (and so does
        // the generated configuration): a healed path brings them back.
        (TunnelRole::Initiator, _) => IkeDpd::Restart,
        (TunnelRole::Responder, DpdAction::Clear) => IkeDpd::Clear,
        (TunnelRole::Responder, DpdAction::None) => IkeDpd::None,
        (TunnelRole::Responder, DpdAction::Restart) => IkeDpd::Restart,
    };
    let mut inside = TunnelIpConfig::new(end.inside_local);
    inside.prefix_len = end.inside_prefix_len;
    inside.answer_ping_for = end
        .vpc_cidrs
        .iter()
        .filter_map(|n| match n {
            IpNet::V4(v4) => Some(*v4),
            IpNet::V6(_) => None,
        })
        .collect();
    inside.seed = seed;
    let config = TunnelConfig {
        name: name.to_string(),
        ike,
        inside,
        bgp_peer: end.inside_remote,
        accept_bgp,
        replay_window: u32::from(o.replay_window),
        seed,
    };
    let random: Box<dyn Random + Send> = if real_peer {
        Box::new(SystemRandom::new())
    } else {
        Box::new(SeededRandom::new(seed))
    };
    IpsecTunnel::new(config, random)
}
