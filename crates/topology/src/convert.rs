//! The model as the sans-IO BGP core's configuration.

use crate::model::{Neighbor, Router, Topology};
use hybridlab_bgp::policy::Policy;
use hybridlab_bgp::router::{PeerConfig, PrefixLimit, RouterConfig};
use hybridlab_bgp::session::SessionConfig;
use std::time::Duration;

/// First IdleHold delay after a session error, and its cap: quick enough
/// for a lab's failover drills, slow enough not to spin on a dead peer.
pub const IDLE_HOLD: Duration = Duration::from_secs(1);
pub const MAX_IDLE_HOLD: Duration = Duration::from_secs(60);

pub fn router_config(router: &Router) -> RouterConfig {
    RouterConfig {
        name: router.name.clone(),
        asn: router.asn,
        router_id: router.router_id,
        always_compare_med: router.always_compare_med,
    }
}

pub fn peer_config(topology: &Topology, router: &Router, neighbor: &Neighbor) -> PeerConfig {
    let session = SessionConfig {
        local_as: router.asn,
        remote_as: neighbor.remote_asn,
        local_id: router.router_id,
        hold_time: neighbor.hold_time,
        keepalive: neighbor.keepalive,
        connect_retry: neighbor.connect_retry,
        passive: !neighbor.mode.connects(),
        families: neighbor.families.clone(),
        idle_hold: IDLE_HOLD,
        max_idle_hold: MAX_IDLE_HOLD,
        jitter: topology.lab.jitter,
    };
    let max_prefix = neighbor
        .max_prefix
        .map(|m| {
            let limit = PrefixLimit {
                limit: m.limit,
                restart_after: m.restart_after,
            };
            neighbor.families.iter().map(|f| (*f, limit)).collect()
        })
        .unwrap_or_default();
    // `import = ["a", "b"]`: a route goes through a, then b (validation
    // made sure every name exists).
    let chain = |names: &[String]| -> Policy {
        Policy::chain(
            names
                .iter()
                .filter_map(|n| topology.policy(n))
                .cloned()
                .collect(),
        )
    };
    PeerConfig {
        name: neighbor.name.clone(),
        session,
        next_hop6: neighbor.next_hop6,
        import: chain(&neighbor.import),
        export: chain(&neighbor.export),
        max_prefix,
    }
}
