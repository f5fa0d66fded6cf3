//! A `routing = "static"` VPN with `ipsec = true`, in virtual time: no BGP
//! session, but both tunnels run IKEv1 + ESP between the VGW and the
//! emulated customer gateway, and their status follows IPsec (spec §1.6,
//! checklist 6: a static tunnel is UP when its IPsec is up).

mod common;

use common::*;
use hybridlab_cloud::fabric::VgwView;
use hybridlab_cloud::path::TunnelId;
use hybridlab_cloud::vgw::TunnelState;
use hybridlab_runtime::{Lab, LabEventKind, LabHandle, LabOptions};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

const LAB: &str = r#"
[lab]
jitter = false
seed = 11

[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"

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
name = "static"
vgw = "vgw1"
customer_gateway = "office"
routing = "static"
static_routes = ["172.16.0.0/16"]
ipsec = true
  [[vpn.tunnel]]
  inside_cidr = "169.254.22.0/30"
  psk = "static.one_secret"
  [[vpn.tunnel]]
  inside_cidr = "169.254.22.4/30"
  psk = "static.two_secret"
"#;

const PREFIX: &str = "172.16.0.0/16";

fn t(n: u8) -> TunnelId {
    TunnelId::new("static", n)
}

async fn vgw(handle: &LabHandle) -> VgwView {
    handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"))
}

/// (UP/DOWN, status message) of tunnel `n` in the VGW view.
fn status(v: &VgwView, n: u8) -> (TunnelState, String) {
    let s = v
        .tunnels
        .iter()
        .find(|x| x.tunnel == t(n))
        .unwrap_or_else(|| panic!("no tunnel {n}: {v:?}"));
    (s.status.status, s.status.status_message.clone())
}

/// The VPC main table's route to [`PREFIX`]: its egress tunnel, if any.
async fn vpc_route(handle: &LabHandle) -> Option<String> {
    let routes = handle
        .node_routes("prod")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    routes
        .routes
        .iter()
        .find(|r| r.prefix.to_string() == PREFIX && r.active)
        .map(|r| r.egress.clone().unwrap_or_else(|| r.via.clone()))
}

/// The cloud end's next IPsec event on tunnel `n`.
async fn ipsec_event(events: &mut UnboundedReceiver<hybridlab_runtime::LabEvent>, n: u8, up: bool) {
    let name = t(n).to_string();
    next_event(events, &format!("{name} IPsec up={up} on the VGW"), |e| {
        (e.router == "vgw1"
            && e.neighbor == name
            && matches!(e.kind, LabEventKind::Ipsec { up: u, .. } if u == up))
        .then_some(())
    })
    .await;
}

/// Polls (virtual time) until the VPC's route to [`PREFIX`] is `want`.
async fn vpc_route_until(handle: &LabHandle, want: Option<&str>) {
    within(&format!("the VPC route via {want:?}"), async {
        loop {
            if vpc_route(handle).await.as_deref() == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn static_vpn_tunnels_follow_ipsec_and_the_drill() {
    // Both tunnels cut from the first datagram, so that "before IKE" is a
    // state the test can look at (IKE between emulated ends completes in
    // no virtual time).
    let mut lab = Lab::new(
        topology(LAB),
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    let mut events = lab.events();
    let handle = lab.handle();
    for n in [1, 2] {
        handle
            .set_blackhole("vgw1", &t(n).to_string(), true)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    if let Err(e) = lab.start().await {
        panic!("lab did not start: {e}");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Before IKE has run: both tunnels DOWN, "IPSEC IS DOWN", no route.
    let v = vgw(&handle).await;
    for n in [1, 2] {
        assert_eq!(
            status(&v, n),
            (TunnelState::Down, "IPSEC IS DOWN".to_string())
        );
    }
    assert_eq!(v.primary_tunnel, None);
    assert_eq!(vpc_route(&handle).await, None);
    for n in [1, 2] {
        handle
            .set_blackhole("vgw1", &t(n).to_string(), false)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    // IKE brings both up; no BGP session anywhere.
    for n in [1, 2] {
        ipsec_event(&mut events, n, true).await;
    }
    let v = vgw(&handle).await;
    for n in [1, 2] {
        assert_eq!(status(&v, n), (TunnelState::Up, String::new()), "{v:?}");
    }
    let sessions = handle.sessions().await;
    assert!(sessions.is_empty(), "no BGP on a static VPN: {sessions:?}");
    // `show tunnels`: both ends of both tunnels, Established, no BGP.
    let ends = handle.tunnels().await;
    assert_eq!(ends.len(), 4, "{ends:?}");
    for e in &ends {
        assert!(e.ipsec_up, "{e:?}");
        assert_eq!(e.detail["phase2"].as_str(), Some("Established"), "{e:?}");
        let role = if e.router == "vgw1" {
            "responder"
        } else {
            "initiator"
        };
        assert_eq!(e.role, role);
    }
    let primary = v
        .primary_tunnel
        .clone()
        .unwrap_or_else(|| panic!("no primary tunnel: {v:?}"));
    let other = if primary == t(1) { t(2) } else { t(1) };
    println!("primary {primary}, other {other}");
    vpc_route_until(&handle, Some(&primary.to_string())).await;
    let vgw_route = v
        .routes
        .iter()
        .find(|r| r.prefix.to_string() == PREFIX && r.active)
        .unwrap_or_else(|| panic!("no VGW route: {v:?}"));
    assert_eq!(vgw_route.via, primary.to_string());
    assert_eq!(vgw_route.origin, "vpn_static");

    // The drill takes the primary's IPsec down: DOWN, the egress moves.
    handle
        .set_tunnel_ipsec(&primary, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ipsec_event(&mut events, primary.tunnel, false).await;
    let v = vgw(&handle).await;
    assert_eq!(
        status(&v, primary.tunnel),
        (TunnelState::Down, "IPSEC IS DOWN".to_string())
    );
    assert_eq!(status(&v, other.tunnel).0, TunnelState::Up);
    assert_eq!(v.primary_tunnel, Some(other.clone()));
    vpc_route_until(&handle, Some(&other.to_string())).await;

    // Both down: no static candidate is left, so neither the VGW nor the
    // VPC has the route (what the fabric does for any down VPN).
    handle
        .set_tunnel_ipsec(&other, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ipsec_event(&mut events, other.tunnel, false).await;
    let v = vgw(&handle).await;
    for n in [1, 2] {
        assert_eq!(status(&v, n).0, TunnelState::Down);
    }
    assert_eq!(v.primary_tunnel, None);
    assert!(
        v.routes.iter().all(|r| r.prefix.to_string() != PREFIX),
        "{v:?}"
    );
    vpc_route_until(&handle, None).await;
    // Stopped stays stopped.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(handle.tunnels().await.iter().all(|e| !e.ipsec_up));

    // Drill back up: IKE again, UP again, the route back.
    for n in [1, 2] {
        handle
            .set_tunnel_ipsec(&t(n), true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ipsec_event(&mut events, n, true).await;
    }
    let v = vgw(&handle).await;
    for n in [1, 2] {
        assert_eq!(status(&v, n), (TunnelState::Up, String::new()));
    }
    let primary = v
        .primary_tunnel
        .clone()
        .unwrap_or_else(|| panic!("no primary tunnel: {v:?}"));
    vpc_route_until(&handle, Some(&primary.to_string())).await;
    lab.shutdown().await;
}

/// `ipsec = false`: the static tunnels run nothing and count as up from
/// the start, as before.
#[tokio::test(start_paused = true)]
async fn static_vpn_without_ipsec_is_up_from_the_start() {
    let run = start(&LAB.replace("ipsec = true\n", "")).await;
    let handle = run.lab.handle();
    let v = vgw(&handle).await;
    for n in [1, 2] {
        assert_eq!(status(&v, n).0, TunnelState::Up, "{v:?}");
    }
    assert!(handle.tunnels().await.is_empty());
    vpc_route_until(&handle, Some("static/tunnel1")).await;
    run.lab.shutdown().await;
}
