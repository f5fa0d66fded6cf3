//! The shipped all-in-process topology (topologies/hybrid-failover.toml),
//! run as the README's main job runs it, in virtual time: the cloud picks
//! the direct path, fails over to the prepended backup when the direct
//! link dies (within a second: BFD on dx), and comes back when it returns.

mod common;

use common::*;
use hybridlab_runtime::{LabHandle, LabOptions};
use std::time::Duration;

async fn best(handle: &LabHandle, router: &str, prefix: &str) -> Option<(String, Option<String>)> {
    handle
        .routes(router)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.prefix == prefix && r.best)
        .map(|r| (r.from, r.reason))
}

async fn until_best_from(
    handle: &LabHandle,
    router: &str,
    prefix: &str,
    from: &str,
) -> Option<String> {
    within(&format!("{router}: best {prefix} from {from}"), async {
        loop {
            if let Some((f, reason)) = best(handle, router, prefix).await {
                if f == from {
                    return reason;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn hybrid_failover_prefers_dx_fails_over_to_vpn_and_back() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../topologies/hybrid-failover.toml");
    let topology = hybridlab_topology::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut lab = hybridlab_runtime::Lab::new(
        topology,
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    lab.start().await.unwrap_or_else(|e| panic!("{e}"));
    let handle = lab.handle();

    let reason = until_best_from(&handle, "cloud", "10.20.0.0/16", "dx").await;
    assert_eq!(reason.as_deref(), Some("shorter AS_PATH 1 < 4"));
    let reason = until_best_from(&handle, "onprem", "10.10.0.0/16", "cloud-dx").await;
    assert_eq!(reason.as_deref(), Some("higher LOCAL_PREF 100 > 50"));
    let backup = handle
        .routes("cloud")
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.prefix == "10.20.0.0/16" && r.from == "vpn")
        .unwrap_or_else(|| panic!("no backup path"));
    assert_eq!((backup.as_path.len(), backup.med), (4, Some(200)));

    let dx = lab
        .link("cloud", "dx")
        .unwrap_or_else(|| panic!("no dx link"));
    lab.wire().set_blackhole(&dx, true);
    let cut = tokio::time::Instant::now();
    let reason = until_best_from(&handle, "cloud", "10.20.0.0/16", "vpn").await;
    assert_eq!(reason.as_deref(), Some("only path"));
    // BFD's 300 ms × 3, not the 9 s hold time (the poll adds up to 50 ms).
    let failover = cut.elapsed();
    assert!(
        failover < Duration::from_secs(1),
        "failover took {failover:?}"
    );
    let dx_session = handle
        .sessions()
        .await
        .into_iter()
        .find(|s| s.router == "cloud" && s.neighbor == "dx")
        .unwrap_or_else(|| panic!("no dx session"));
    assert_eq!(
        dx_session
            .last_notification_sent
            .map(|n| (n.code, n.subcode)),
        Some((6, 10))
    );

    lab.wire().set_blackhole(&dx, false);
    until_best_from(&handle, "cloud", "10.20.0.0/16", "dx").await;
    lab.shutdown().await;
}
