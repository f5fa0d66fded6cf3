//! The model as the sans-IO BGP core's configuration.

use crate::model::{Neighbor, Router, RouterRole, Topology};
use hybridlab_bgp::policy::Policy;
use hybridlab_bgp::router::{ExportMode, PeerConfig, PrefixLimit, RouterConfig};
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
        // A cloud speaker announces what the cloud's rules choose per
        // session (CloudHub, DX gateway filters, tunnel MEDs), not its
        // Loc-RIB's best paths.
        export_mode: match router.role {
            RouterRole::Router => ExportMode::BestPath,
            RouterRole::Vgw | RouterRole::DxGateway | RouterRole::PublicVif => {
                ExportMode::Controlled
            }
        },
    }
}

pub fn peer_config(topology: &Topology, router: &Router, neighbor: &Neighbor) -> PeerConfig {
    let session = SessionConfig {
        local_as: router.asn,
        remote_as: neighbor.remote_asn,
        local_id: neighbor.router_id.unwrap_or(router.router_id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_bgp::packet::Family;

    const TEXT: &str = r#"
[lab]
jitter = false
[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
listen = ["127.0.0.1:1179"]
  [[router.neighbor]]
  name = "frr"
  address = "192.0.2.2"
  remote_asn = 65000
  mode = "passive"
  hold_time = 30
  connect_retry = 2
  families = ["ipv4-unicast"]
  max_prefix = { limit = 100, restart_after = 60 }
  import = ["a", "b"]
[[policy]]
name = "a"
[[policy]]
name = "b"
default = "reject"
"#;

    #[test]
    fn neighbours_become_peer_configs() {
        let t = match crate::parse("t.toml", TEXT) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let r = &t.routers[0];
        let p = peer_config(&t, r, &r.neighbors[0]);
        assert_eq!(p.name, "frr");
        assert!(p.session.passive);
        assert!(!p.session.jitter);
        assert_eq!((p.session.local_as, p.session.remote_as), (64512, 65000));
        assert_eq!(p.session.hold_time, 30);
        assert_eq!(p.session.keepalive, None);
        assert_eq!(p.session.connect_retry, Duration::from_secs(2));
        assert_eq!(p.session.families, [Family::IPV4_UNICAST]);
        let limit = PrefixLimit {
            limit: 100,
            restart_after: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            p.max_prefix.into_iter().collect::<Vec<_>>(),
            [(Family::IPV4_UNICAST, limit)]
        );
        let names: Vec<&str> = p.import.then.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(p.export.accepts_all_unchanged());
        assert_eq!(router_config(r).router_id.to_string(), "10.0.0.1");
    }
}
