//! VPN tunnels over real IKEv1 + ESP between two emulated ends, in virtual
//! time: IKE brings both tunnels up, BGP runs inside them, the cloud
//! follows IPsec, and DPD finds a silently cut tunnel at its timeout.

mod common;

use common::*;
use hybridlab_cloud::path::TunnelId;
use hybridlab_cloud::vgw::TunnelState;
use hybridlab_runtime::view::TunnelEndView;
use hybridlab_runtime::{LabEventKind, LinkId, WireEvent, WireEventKind};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// `topologies/dx-with-vpn-backup.toml` with `ipsec = true`, seeded,
/// jitter off. 172.16.5.0/24 is announced on the tunnels only, so the VPC
/// reaches it over the VGW's primary tunnel.
const LAB: &str = r#"
[lab]
jitter = false
seed = 7

[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"
networks = ["172.16.0.0/16", "172.16.5.0/24"]
  [[router.cloud_session]]
  name = "primary"
  export = ["vpn-only-specifics"]

[[policy]]
name = "vpn-only-specifics"
  [[policy.term]]
  prefixes = ["172.16.5.0/24"]
  action = "reject"

[[region]]
name = "eu-west-1"

[[vpc]]
name = "prod"
region = "eu-west-1"
cidrs = ["10.0.0.0/16"]
  [[vpc.route_table]]
  name = "main"
  main = true
  propagation = ["vgw1"]

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
ipsec = true
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.0/30"
  psk = "tunnel.one_secret"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.4/30"
  psk = "tunnel.two_secret"
  dpd_timeout = 30

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

const VPN_ONLY: &str = "172.16.5.9";

fn end<'a>(views: &'a [TunnelEndView], router: &str, neighbor: &str) -> &'a TunnelEndView {
    views
        .iter()
        .find(|v| v.router == router && v.neighbor == neighbor)
        .unwrap_or_else(|| panic!("no tunnel end {router}/{neighbor} in {views:?}"))
}

fn count(v: &TunnelEndView, field: &str) -> u64 {
    v.detail
        .get(field)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("no {field} in {}", v.detail))
}

fn text<'a>(v: &'a TunnelEndView, field: &str) -> &'a str {
    v.detail
        .get(field)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("no {field} in {}", v.detail))
}

/// Every datagram the tap has seen so far on `link`, as (when, sender,
/// delivered).
fn datagrams(
    tap: &mut UnboundedReceiver<WireEvent>,
    link: &LinkId,
) -> Vec<(Instant, String, bool)> {
    std::iter::from_fn(|| tap.try_recv().ok())
        .filter(|e| e.link == *link)
        .filter_map(|e| match e.kind {
            WireEventKind::Datagram { .. } => Some((e.at, e.from.unwrap_or_default(), e.delivered)),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn bgp_rides_in_ike_and_esp_and_dpd_finds_a_cut_tunnel_at_its_timeout() {
    let mut run = start(LAB).await;
    let handle = run.lab.handle();

    // IKE up on both tunnels, both ends; BGP Established inside each.
    for neighbor in ["backup/tunnel1", "backup/tunnel2"] {
        established(&mut run.events, "vgw1", neighbor).await;
    }
    let path = trace_until(&handle, VPN_ONLY, "the VPN-only prefix via a tunnel", |p| {
        p.get(2).is_some_and(|h| h.starts_with("backup/"))
    })
    .await
    .path();
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let primary = vgw
        .primary_tunnel
        .clone()
        .unwrap_or_else(|| panic!("no primary: {vgw:?}"));
    assert_eq!(path, ["prod", "vgw1", &primary.to_string(), "onprem"]);
    for t in &vgw.tunnels {
        assert_eq!(t.status.status, TunnelState::Up, "{t:?}");
    }

    // `show tunnels`: four ends, Established, counters moving.
    let first = handle.tunnels().await;
    assert_eq!(first.len(), 4, "{first:?}");
    for v in &first {
        assert!(v.ipsec_up, "{v:?}");
        assert_eq!(text(v, "phase1"), "Established");
        assert_eq!(text(v, "phase2"), "Established");
        assert!(text(v, "phase2_algorithms").contains("aes128"), "{v:?}");
        assert_eq!(v.path, "virtual");
    }
    let cloud_end = end(&first, "vgw1", &primary.to_string());
    assert_eq!(cloud_end.role, "responder");
    assert_eq!(
        cloud_end.tunnel.as_deref(),
        Some(primary.to_string().as_str())
    );
    assert_eq!(
        end(&first, "onprem", &primary.to_string()).role,
        "initiator"
    );
    tokio::time::sleep(Duration::from_secs(25)).await;
    let later = handle.tunnels().await;
    for v in &first {
        let now = end(&later, &v.router, &v.neighbor);
        for field in ["packets_in", "packets_out", "bytes_in", "bytes_out"] {
            assert!(
                count(now, field) > count(v, field),
                "{field} still on {}/{}",
                v.router,
                v.neighbor
            );
        }
        assert_eq!(count(now, "replay_drops"), 0);
    }

    // Cut the primary tunnel silently: every IKE and ESP datagram on it is
    // dropped. DPD on the cloud end declares the peer dead `dpd_timeout`
    // after it last heard from it.
    let timeout = if primary == TunnelId::new("backup", 2) {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(40)
    };
    let link = run
        .lab
        .link("vgw1", &primary.to_string())
        .unwrap_or_else(|| panic!("no link"));
    let mut before_cut = datagrams(&mut run.tap, &link);
    handle
        .set_blackhole("vgw1", &primary.to_string(), true)
        .unwrap_or_else(|e| panic!("{e}"));
    let down_at = next_event(&mut run.events, "IPsec down on the cloud end", |e| {
        (e.router == "vgw1"
            && e.neighbor == primary.to_string()
            && matches!(e.kind, LabEventKind::Ipsec { up: false, .. }))
        .then_some(e.at)
    })
    .await;
    before_cut.extend(datagrams(&mut run.tap, &link));
    // DPD counts from what the cloud end last heard from the customer on
    // this tunnel: the last delivered datagram from onprem before the
    // cut, give or take the tunnel's once-a-second activity report.
    let heard: Vec<Instant> = before_cut
        .iter()
        .filter(|(_, from, delivered)| from == "onprem" && *delivered)
        .map(|(at, _, _)| *at)
        .collect();
    let last = heard
        .iter()
        .copied()
        .filter(|at| *at <= down_at)
        .max()
        .unwrap_or_else(|| panic!("nothing heard"));
    assert_eq!(down_at - last, timeout, "DPD declared the peer dead");

    // The VGW sees the tunnel down and no longer routes over it.
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let cut = vgw
        .tunnels
        .iter()
        .find(|t| t.tunnel == primary)
        .unwrap_or_else(|| panic!("{vgw:?}"));
    assert_eq!(cut.status.status, TunnelState::Down);
    assert_eq!(cut.status.status_message, "IPSEC IS DOWN");
    assert_ne!(vgw.primary_tunnel, Some(primary.clone()));
    assert!(
        vgw.routes.iter().all(|r| r.via != primary.to_string()),
        "{:?}",
        vgw.routes
    );
    let path = trace_until(&handle, VPN_ONLY, "the other tunnel", |p| {
        p.get(2).is_some_and(|h| h.starts_with("backup/"))
    })
    .await
    .path();
    assert_ne!(path[2], primary.to_string());
    let views = handle.tunnels().await;
    let cloud_end = end(&views, "vgw1", &primary.to_string());
    assert!(!cloud_end.ipsec_up);
    assert_eq!(text(cloud_end, "phase2"), "Down");

    // Healed: the customer gateway (DPD action restart) negotiates again,
    // BGP comes back inside the new SAs.
    handle
        .set_blackhole("vgw1", &primary.to_string(), false)
        .unwrap_or_else(|e| panic!("{e}"));
    next_event(&mut run.events, "IPsec up again", |e| {
        (e.router == "vgw1"
            && e.neighbor == primary.to_string()
            && matches!(e.kind, LabEventKind::Ipsec { up: true, .. }))
        .then_some(())
    })
    .await;
    established(&mut run.events, "vgw1", &primary.to_string()).await;
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        vgw.tunnels
            .iter()
            .all(|t| t.status.status == TunnelState::Up),
        "{vgw:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_ipsec_drill_stops_and_starts_ike() {
    let mut run = start(LAB).await;
    let handle = run.lab.handle();
    let tunnel = TunnelId::new("backup", 2);
    let name = tunnel.to_string();
    established(&mut run.events, "vgw1", &name).await;

    handle
        .set_tunnel_ipsec(&tunnel, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reason = next_event(
        &mut run.events,
        "IPsec down on the cloud end",
        |e| match &e.kind {
            LabEventKind::Ipsec { up: false, reason }
                if e.router == "vgw1" && e.neighbor == name =>
            {
                Some(reason.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(reason.is_some());
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let t2 = vgw
        .tunnels
        .iter()
        .find(|t| t.tunnel == tunnel)
        .unwrap_or_else(|| panic!("{vgw:?}"));
    assert_eq!(t2.status.status_message, "IPSEC IS DOWN");
    // Stopped stays stopped: a minute on, nobody has negotiated again.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let views = handle.tunnels().await;
    assert!(!end(&views, "vgw1", &name).ipsec_up);
    assert!(!end(&views, "onprem", &name).ipsec_up);
    assert!(end(&views, "vgw1", "backup/tunnel1").ipsec_up);

    handle
        .set_tunnel_ipsec(&tunnel, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    established(&mut run.events, "vgw1", &name).await;
    let views = handle.tunnels().await;
    assert!(end(&views, "vgw1", &name).ipsec_up);
    assert!(handle
        .set_tunnel_ipsec(&TunnelId::new("nope", 1), false)
        .await
        .is_err());
}
