//! The cloud running in a lab, in virtual time: VGW sessions per tunnel and
//! VIF with the cloud's timers, the VGW's exports as the customer router
//! receives them, VPC route tables, traces, and failover when DX is cut.

mod common;

use common::*;
use hybridlab_cloud::decision::Rule;
use hybridlab_cloud::fabric::NodeKind;
use hybridlab_cloud::path::TunnelId;
use std::time::Duration;
use tokio::time::Instant;

/// `topologies/dx-with-vpn-backup.toml` in miniature, jitter off.
const DX_WITH_VPN: &str = r#"
[lab]
jitter = false

[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"
networks = ["172.16.0.0/16"]

[[vpc]]
name = "prod"
region = "eu-west-1"
cidrs = ["10.0.0.0/16"]
  [[vpc.route_table]]
  name = "main"
  main = true
  propagation = ["vgw1"]

[[region]]
name = "eu-west-1"

[[vgw]]
name = "vgw1"
region = "eu-west-1"
vpc = "prod"

[[customer_gateway]]
name = "office"
asn = 65000
ip = "198.51.100.10"
router = "onprem"

[[vpn]]
name = "backup"
vgw = "vgw1"
customer_gateway = "office"
routing = "bgp"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.0/30"
  psk = "tunnel.one_secret"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.4/30"
  psk = "tunnel.two_secret"

[[vif]]
name = "primary"
kind = "private"
vlan = 101
attach = { vgw = "vgw1" }
amazon_address = "169.254.255.1"
customer_address = "169.254.255.2"
router = "onprem"
md5 = "dx-primary-key"
"#;

#[tokio::test(start_paused = true)]
async fn vgw_runs_a_session_per_tunnel_and_vif_with_the_clouds_timers() {
    let run = start(DX_WITH_VPN).await;
    let handle = run.lab.handle();
    trace_until(&handle, "172.16.1.1", "DX path", |p| p.len() == 4).await;
    let sessions = handle.sessions().await;
    let vgw = |neighbor: &str| {
        sessions
            .iter()
            .find(|s| s.router == "vgw1" && s.neighbor == neighbor)
            .unwrap_or_else(|| panic!("no vgw1 session {neighbor}: {sessions:?}"))
    };
    for tunnel in ["backup/tunnel1", "backup/tunnel2"] {
        let s = vgw(tunnel);
        assert_eq!(s.state, "Established");
        assert_eq!((s.hold_time, s.keepalive), (Some(30), Some(10)));
        assert_eq!((s.local_asn, s.remote_asn), (64512, 65000));
    }
    let dx = vgw("primary");
    assert_eq!((dx.hold_time, dx.keepalive), (Some(90), Some(30)));
    // Router ID = the tunnel's inside address (spec §2.2), as onprem sees it.
    let onprem_t1 = sessions
        .iter()
        .find(|s| s.router == "onprem" && s.neighbor == "backup/tunnel1")
        .unwrap_or_else(|| panic!("{sessions:?}"));
    assert_eq!(onprem_t1.remote_id, Some("169.254.10.1".parse().unwrap()));
}

#[tokio::test(start_paused = true)]
async fn customer_gets_the_vpc_cidr_with_med_100_on_one_tunnel_and_200_on_the_other() {
    let run = start(DX_WITH_VPN).await;
    let handle = run.lab.handle();
    let rows = within("onprem to learn 10.0.0.0/16 three times", async {
        loop {
            let rows: Vec<_> = handle
                .node_routes("onprem")
                .await
                .map(|n| n.routes)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| r.prefix.to_string() == "10.0.0.0/16")
                .collect();
            if rows.len() == 3 {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let med = |via: &str| rows.iter().find(|r| r.via == via).and_then(|r| r.med);
    let mut tunnel_meds = [med("backup/tunnel1"), med("backup/tunnel2")];
    tunnel_meds.sort();
    assert_eq!(tunnel_meds, [Some(100), Some(200)]);
    assert_eq!(med("primary"), None);
    assert!(rows.iter().all(|r| r.as_path == [64512]));
}

#[tokio::test(start_paused = true)]
async fn vpc_prefers_dx_and_moves_to_the_primary_tunnel_when_dx_is_cut() {
    let run = start(DX_WITH_VPN).await;
    let handle = run.lab.handle();
    let t = trace_until(&handle, "172.16.1.1", "DX path", |p| {
        p == ["prod", "vgw1", "primary", "onprem"]
    })
    .await;
    assert_eq!(t.hops[1].rule, Some(Rule::SourcePreference));
    let table = handle
        .node_routes("prod")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table.kind, NodeKind::Vpc);
    let row = table
        .routes
        .iter()
        .find(|r| r.prefix.to_string() == "172.16.0.0/16")
        .unwrap_or_else(|| panic!("{:?}", table.routes));
    assert_eq!(
        (row.via.as_str(), row.origin.as_str()),
        ("vgw1", "propagated")
    );
    assert_eq!(row.egress.as_deref(), Some("primary"));

    // Cut DX silently: BFD (300 ms x 3 on both ends of a VIF by default)
    // finds it, not the 90 s hold timer.
    let cut = Instant::now();
    handle
        .set_blackhole("vgw1", "primary", true)
        .unwrap_or_else(|e| panic!("{e}"));
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let primary = vgw
        .primary_tunnel
        .clone()
        .unwrap_or_else(|| panic!("no primary"));
    let t = trace_until(&handle, "172.16.1.1", "failover to a tunnel", |p| {
        p.get(2).is_some_and(|hop| hop.starts_with("backup/"))
    })
    .await;
    assert_eq!(t.path()[2], primary.to_string());
    let took = cut.elapsed();
    assert!(
        took > Duration::from_millis(600) && took <= Duration::from_millis(900),
        "failover after {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn tunnel_ipsec_down_withdraws_its_routes_and_moves_the_primary() {
    let run = start(DX_WITH_VPN).await;
    let handle = run.lab.handle();
    trace_until(&handle, "172.16.1.1", "DX path", |p| p.len() == 4).await;
    let before = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let primary = before
        .primary_tunnel
        .clone()
        .unwrap_or_else(|| panic!("none"));
    assert!(before
        .tunnels
        .iter()
        .all(|t| t.status.status_message == "1 BGP ROUTES"));
    handle
        .set_tunnel_ipsec(&primary, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(after.primary_tunnel, Some(primary.clone()));
    let down = after
        .tunnels
        .iter()
        .find(|t| t.tunnel == primary)
        .unwrap_or_else(|| panic!("{after:?}"));
    assert_eq!(down.status.status_message, "IPSEC IS DOWN");
    assert!(after.routes.iter().all(|r| r.via != primary.to_string()));
    assert!(handle
        .set_tunnel_ipsec(&TunnelId::new("nope", 1), false)
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn a_101st_route_from_a_customer_gateway_tears_the_tunnel_session_down() {
    // onprem announces 101 /24s; the VIF is dropped from this lab so the
    // tunnels are the only way.
    let networks: Vec<String> = (0..101).map(|i| format!("\"172.17.{i}.0/24\"")).collect();
    let text = DX_WITH_VPN
        .replace(
            "networks = [\"172.16.0.0/16\"]",
            &format!("networks = [{}]", networks.join(", ")),
        )
        .split("[[vif]]")
        .next()
        .unwrap_or_default()
        .to_string();
    let run = start(&text).await;
    let handle = run.lab.handle();
    let parked = within("vgw1 to park backup/tunnel1", async {
        loop {
            let sessions = handle.sessions().await;
            let found = sessions.into_iter().find(|s| {
                s.router == "vgw1"
                    && s.neighbor == "backup/tunnel1"
                    && s.idle_reason.as_deref() == Some("prefix limit")
            });
            if let Some(s) = found {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(parked.state, "Idle");
    let sent = parked
        .last_notification_sent
        .unwrap_or_else(|| panic!("no NOTIFICATION sent"));
    assert_eq!((sent.code, sent.subcode), (6, 1));
    // The tunnel is DOWN as the cloud reports it, and the VPC has none of
    // the 101 routes.
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(vgw
        .tunnels
        .iter()
        .all(|t| t.status.status == hybridlab_cloud::vgw::TunnelState::Down));
    let prod = handle
        .node_routes("prod")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prod.routes.len(), 1, "{:?}", prod.routes);
}
