//! A public VIF running in a lab, in virtual time: an emulated customer
//! router peers with AWS (AS 7224), receives AWS's public range tagged
//! NO_EXPORT and 7224:8100, and AWS keeps only its approved prefix, with
//! the scope community and nothing else (spec §5.3, §5.5, checklist 19).

mod common;

use common::*;
use hybridlab_cloud::fabric::{NodeKind, NodeRoute, ORIGIN_ACCEPTED, ORIGIN_UNAPPROVED};
use hybridlab_runtime::LabHandle;
use std::time::Duration;

const PUBLIC_VIF: &str = r#"
[lab]
jitter = false

[[router]]
name = "edge"
asn = 65001
router_id = "192.0.2.1"
networks = ["203.0.113.0/24", "198.51.100.0/24"]
  [[router.cloud_session]]
  name = "internet"
  export = ["scope"]

[[policy]]
name = "scope"
  [[policy.term]]
  prefixes = ["203.0.113.0/24"]
  add_communities = ["7224:9100", "65001:42"]

[[region]]
name = "eu-west-1"
public_prefixes = ["198.18.0.0/24"]

[[vif]]
name = "internet"
kind = "public"
vlan = 200
amazon_address = "192.0.2.129"
customer_address = "192.0.2.130"
router = "edge"
md5 = "public-vif-key"
approved_prefixes = ["203.0.113.0/24"]
"#;

/// Polls (in virtual time) until `node` has `count` routes.
async fn routes(handle: &LabHandle, node: &str, count: usize) -> (NodeKind, Vec<NodeRoute>) {
    within(&format!("{node} to show {count} routes"), async {
        loop {
            if let Ok(n) = handle.node_routes(node).await {
                if n.routes.len() >= count {
                    return (n.kind, n.routes);
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

fn row<'a>(rows: &'a [NodeRoute], prefix: &str) -> &'a NodeRoute {
    rows.iter()
        .find(|r| r.prefix.to_string() == prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {rows:?}"))
}

#[tokio::test(start_paused = true)]
async fn customer_peers_with_aws_on_a_public_vif() {
    let run = start(PUBLIC_VIF).await;
    let handle = run.lab.handle();

    // What AWS announces: its range, NO_EXPORT and same-region 7224:8100,
    // an AS_PATH of at least three from 7224 (spec §5.5).
    let (_, edge) = routes(&handle, "edge", 3).await;
    let aws = row(&edge, "198.18.0.0/24");
    assert_eq!(aws.via, "internet");
    assert_eq!(aws.as_path, [7224, 7224, 7224]);
    assert_eq!(aws.communities, ["7224:8100", "no-export"]);

    // What AWS makes of the customer's: approved and scoped, or rejected.
    let (kind, public) = routes(&handle, "internet", 2).await;
    assert_eq!(kind, NodeKind::Vif);
    assert_eq!(public.len(), 2, "{public:?}");
    let approved = row(&public, "203.0.113.0/24");
    assert!(approved.active);
    assert_eq!(
        (approved.via.as_str(), approved.origin.as_str()),
        ("internet", ORIGIN_ACCEPTED)
    );
    assert_eq!(approved.as_path, [65001]);
    assert_eq!(approved.communities, ["7224:9100"]);
    let rejected = row(&public, "198.51.100.0/24");
    assert!(!rejected.active);
    assert_eq!(rejected.origin, ORIGIN_UNAPPROVED);

    let sessions = handle.sessions().await;
    let s = sessions
        .iter()
        .find(|s| s.router == "internet" && s.neighbor == "internet")
        .unwrap_or_else(|| panic!("no public VIF session: {sessions:?}"));
    assert_eq!(s.state, "Established");
    assert_eq!((s.local_asn, s.remote_asn), (7224, 65001));
    assert_eq!((s.hold_time, s.keepalive), (Some(90), Some(30)));
}
