//! A router's BFD sessions (RFC 5880, RFC 5881): the sans-IO
//! [`hybridlab_bfd::SessionTable`], how each session reaches its peer, and
//! what the control API shows of them. The router task drives it, so BFD
//! and the BGP session it guards change state in one place.

use crate::timers::Timers;
use crate::view::{BfdCounters, BfdView};
use hybridlab_bfd::{DownCause, SessionConfig, SessionTable, State, TimerKind};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// Who a BFD datagram came from, as the router's session table keys it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum BfdKey {
    /// The neighbour at this index of the router's neighbour list.
    Neighbor(usize),
    /// An address no session of the router has: its packets are counted
    /// and dropped.
    Stranger(IpAddr),
}

/// How a session's packets reach the peer.
#[derive(Debug)]
pub(crate) enum BfdPath {
    /// Over the virtual link, to the far router's neighbour of that index.
    Virtual {
        far_router: usize,
        far_neighbor: usize,
    },
    /// A UDP socket connected to the peer's port 3784.
    Udp(UdpSocket),
}

/// One neighbour's BFD session, beside its state in the table.
#[derive(Debug)]
pub(crate) struct BfdLink {
    pub path: BfdPath,
    pub peer_address: IpAddr,
    pub local_address: Option<IpAddr>,
    pub last_change: SystemTime,
    pub last_change_at: Instant,
    /// BFD failed while this neighbour's BGP session depended on it: BGP
    /// stays Idle until BFD is Up again.
    pub holding_bgp: bool,
}

impl BfdLink {
    pub(crate) fn new(path: BfdPath, peer_address: IpAddr, local_address: Option<IpAddr>) -> Self {
        BfdLink {
            path,
            peer_address,
            local_address,
            last_change: SystemTime::now(),
            last_change_at: Instant::now(),
            holding_bgp: false,
        }
    }

    pub(crate) fn changed(&mut self) {
        self.last_change = SystemTime::now();
        self.last_change_at = Instant::now();
    }
}

/// Everything BFD of one router.
#[derive(Debug, Default)]
pub(crate) struct Bfd {
    pub table: SessionTable<BfdKey>,
    pub timers: Timers<(BfdKey, TimerKind)>,
    /// By neighbour index.
    pub links: HashMap<usize, BfdLink>,
}

impl Bfd {
    /// Adds the session of neighbour `neighbor`. The discriminator comes from
    /// the table, unique within the router.
    pub(crate) fn add(
        &mut self,
        neighbor: usize,
        settings: &hybridlab_topology::Bfd,
        floor: Duration,
        jitter: bool,
        seed: u64,
        link: BfdLink,
    ) -> Result<(), hybridlab_bfd::TableError> {
        let config = SessionConfig {
            local_discriminator: self.table.allocate_discriminator(),
            desired_min_tx: settings.min_tx,
            required_min_rx: settings.min_rx,
            detect_mult: settings.multiplier,
            passive: settings.passive,
            min_accepted_interval: floor,
            jitter,
        };
        self.table
            .insert(BfdKey::Neighbor(neighbor), config, seed)?;
        self.links.insert(neighbor, link);
        Ok(())
    }

    pub(crate) fn state(&self, neighbor: usize) -> Option<State> {
        self.table
            .get(&BfdKey::Neighbor(neighbor))
            .map(|s| s.state())
    }

    pub(crate) fn view(
        &self,
        router: &str,
        neighbor: usize,
        name: &str,
        now: Instant,
    ) -> Option<BfdView> {
        let session = self.table.get(&BfdKey::Neighbor(neighbor))?;
        let link = self.links.get(&neighbor)?;
        let v = session.view();
        Some(BfdView {
            router: router.to_string(),
            neighbor: name.to_string(),
            kind: match link.path {
                BfdPath::Virtual { .. } => "emulated",
                BfdPath::Udp(_) => "external",
            }
            .to_string(),
            peer_address: Some(link.peer_address),
            local_address: link.local_address,
            state: v.state.to_string(),
            remote_state: v.remote_state.to_string(),
            local_discriminator: v.local_discriminator,
            remote_discriminator: v.remote_discriminator,
            local_diagnostic: v.local_diagnostic.to_string(),
            remote_diagnostic: v.remote_diagnostic.to_string(),
            last_diagnostic: v.last_diagnostic.map(|d| d.to_string()),
            last_down_cause: v.last_down_cause.map(down_cause_text),
            passive: v.passive,
            detect_mult: v.detect_mult,
            remote_detect_mult: v.remote_detect_mult,
            desired_min_tx_us: v.desired_min_tx_us,
            required_min_rx_us: v.required_min_rx_us,
            remote_desired_min_tx_us: v.remote_desired_min_tx_us,
            remote_required_min_rx_us: v.remote_required_min_rx_us,
            tx_interval_us: v.tx_interval_us,
            detection_time_us: v.detection_time_us,
            polling: v.polling,
            last_change_unix_ms: unix_ms(link.last_change),
            last_change_secs_ago: now
                .saturating_duration_since(link.last_change_at)
                .as_secs_f64(),
            holding_bgp: link.holding_bgp,
            counters: BfdCounters {
                sent: v.counters.sent,
                received: v.counters.received,
                dropped_total: v.counters.dropped_total,
                dropped: crate::view::drop_counts(&v.counters.dropped),
                state_changes: v.counters.state_changes,
                up_transitions: v.counters.up_transitions,
                failures: v.counters.failures,
            },
        })
    }
}

/// The cause as the core names it ("detection time expired", ...).
pub(crate) fn down_cause_text(cause: DownCause) -> String {
    serde_json::to_value(cause)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{cause:?}"))
}

/// Milliseconds since the Unix epoch; 0 for a clock before it.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
