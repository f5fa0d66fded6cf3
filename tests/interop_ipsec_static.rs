//! A `routing = "static"` VPN with `ipsec = true` against real strongSwan
//! 5.9.8 (charon via swanctl, kernel-libipsec, ESP in UDP 4500) as the
//! customer gateway, hybridlab's VGW in this process. No BGP anywhere: the
//! tunnels' status follows IPsec alone (spec §1.6, checklist 6).
//!
//! ```text
//!   host namespace (this process)                  namespace `…-cgw`
//!   hybridlab Lab: VGW tunnel ends          veth   charon (libipsec, ipsec0)
//!   203.0.113.71 (tunnel 1), .73 (tunnel 2) ────── 203.0.113.72
//!   inside 169.254.30.1 / .5 (userspace TCP/IP)    169.254.30.2 / .6 on lo
//! ```
//!
//! The harness is tests/interop_ipsec.rs's (a veth from the host to the
//! customer's namespace, charon with AWS's downloadable parameters and the
//! remote selector widened to 0.0.0.0/0), on addresses of its own
//! (203.0.113.0/24) so that it does not meet the BGP interop test's if both
//! run at once. DPD as there: `dpd_timeout = 30` on the VGW.
//!
//! Needs `HYBRIDLAB_INTEROP=1` and root; skipped otherwise. ~45 s (most of
//! it DPD's 30 s timeout).

mod common;

use common::in_process::{attach_outside, HostVeth, InProcessLab, OutsideLink};
use common::strongswan::{
    self, parse_ping_received, swanctl_conf, Charon, LogLevel, Side, VpnTunnel,
};
use common::{run_ok, Lab, Netns};
use hybridlab_cloud::fabric::VgwView;
use hybridlab_runtime::view::TunnelEndView;
use hybridlab_runtime::LabEventKind;
use hybridlab_topology::{parse_with, ParseOptions, Topology};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUTER: &str = "onprem";
const VPN: &str = "svpn";
const CGW_OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 72);
const AWS_OUTSIDE: [Ipv4Addr; 2] = [
    Ipv4Addr::new(203, 0, 113, 71),
    Ipv4Addr::new(203, 0, 113, 73),
];
const OUTSIDE_NET: &str = "203.0.113.0/24";
const INSIDE: [Ipv4Addr; 2] = [
    Ipv4Addr::new(169, 254, 30, 0),
    Ipv4Addr::new(169, 254, 30, 4),
];
const PSK: [&str; 2] = ["static.tunnel1_Secret", "static.tunnel2_Secret"];
/// A host of the VPC (10.0.0.0/16): the VGW's tunnel ends answer its pings.
const VPC_HOST: &str = "10.0.5.9";
const STATIC_ROUTE: &str = "172.16.0.0/16";

/// The lab, parsed with `onprem` external: charon stands in for it.
const TOPOLOGY: &str = r#"
[lab]
name = "ipsec-static-strongswan"

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
ip = "203.0.113.72"
router = "onprem"

[[vpn]]
name = "svpn"
vgw = "vgw1"
customer_gateway = "office"
routing = "static"
static_routes = ["172.16.0.0/16"]
ipsec = true
  [[vpn.tunnel]]
  inside_cidr = "169.254.30.0/30"
  psk = "static.tunnel1_Secret"
  outside_address = "203.0.113.71"
  dpd_timeout = 30
  [[vpn.tunnel]]
  inside_cidr = "169.254.30.4/30"
  psk = "static.tunnel2_Secret"
  outside_address = "203.0.113.73"
  dpd_timeout = 30
"#;

fn topology() -> Topology {
    let options = ParseOptions {
        external: vec![ROUTER.to_string()],
    };
    parse_with("static-ipsec.toml", TOPOLOGY, &options).unwrap_or_else(|e| panic!("{e}"))
}

type Cloud = InProcessLab;

fn vgw(cloud: &Cloud) -> VgwView {
    cloud
        .rt
        .block_on(cloud.handle.vgw("vgw1"))
        .unwrap_or_else(|e| panic!("vgw1: {e}"))
}

/// (UP/DOWN, status message) of tunnel `n` in the VGW view.
fn vgw_status(cloud: &Cloud, n: usize) -> (String, String) {
    cloud.vgw_status("vgw1", VPN, n)
}

/// The VPC's active route to the static prefix: its egress tunnel.
fn vpc_egress(cloud: &Cloud) -> Option<String> {
    let routes = cloud
        .rt
        .block_on(cloud.handle.node_routes("prod"))
        .unwrap_or_else(|e| panic!("routes of prod: {e}"));
    routes
        .routes
        .iter()
        .find(|r| r.prefix.to_string() == STATIC_ROUTE && r.active)
        .map(|r| r.egress.clone().unwrap_or_else(|| r.via.clone()))
}

/// The namespace `cgw` behind a veth from the host: the AWS outside
/// addresses on the host end, the customer gateway's inside.
fn attach(lab: &Lab) -> (Netns, HostVeth) {
    let host = AWS_OUTSIDE.map(|a| format!("{a}/24"));
    attach_outside(
        lab,
        &OutsideLink {
            role: "cgw",
            host: &host,
            daemon: format!("{CGW_OUTSIDE}/24"),
            daemon_if: "to-aws",
            outside_net: OUTSIDE_NET,
        },
    )
}

/// Both tunnels as AWS's download configures them, the remote selector
/// widened to 0.0.0.0/0 so that the VPC is behind each tunnel; the local
/// selectors stay the distinct inside /30s (one libipsec charon for both).
fn cgw_conf() -> String {
    let tunnels: Vec<VpnTunnel> = (0..2)
        .map(|i| {
            VpnTunnel::aws_default(
                &format!("tunnel{}", i + 1),
                CGW_OUTSIDE,
                AWS_OUTSIDE[i],
                INSIDE[i],
                PSK[i],
            )
        })
        .collect();
    let mut text = swanctl_conf(Side::CustomerGateway, &tunnels);
    for t in &tunnels {
        text = text.replace(
            &format!("remote_ts = {}", t.inside_cidr()),
            "remote_ts = 0.0.0.0/0",
        );
    }
    text
}

/// Both static tunnels up with real strongSwan, pings through each to a VPC
/// host, the VGW view UP and the static route on a tunnel; charon killed,
/// DPD takes both tunnels DOWN and the route goes.
#[test]
fn strongswan_brings_up_a_static_vpn_and_dpd_takes_it_down() {
    const TEST: &str = "strongswan_brings_up_a_static_vpn_and_dpd_takes_it_down";
    if !common::interop_enabled(TEST) {
        return;
    }
    strongswan::require(TEST);
    let lab = Lab::new("ipsec-static");
    let (ns, _veth) = attach(&lab);
    let (cloud, mut events) = InProcessLab::start(topology());
    for n in [1, 2] {
        assert_eq!(
            vgw_status(&cloud, n),
            ("DOWN".to_string(), "IPSEC IS DOWN".to_string()),
            "tunnel{n} before charon"
        );
    }
    assert_eq!(vpc_egress(&cloud), None);

    for inside in INSIDE {
        strongswan::add_inside_address(&ns, Ipv4Addr::from(u32::from(inside) + 2));
    }
    let charon = Charon::start(&lab, &ns, "cgw", LogLevel::Normal);
    let t0 = Instant::now();
    charon.load(&cgw_conf());
    for n in [1, 2] {
        charon.wait_installed(&lab, &format!("tunnel{n}"), Duration::from_secs(20));
    }
    println!(
        "both CHILD SAs installed {} ms after swanctl --load-all",
        t0.elapsed().as_millis()
    );

    // charon: both IKE SAs ESTABLISHED, both CHILD SAs INSTALLED.
    let sas = charon.list_sas().unwrap_or_else(|e| panic!("{e}"));
    for n in [1, 2] {
        let name = format!("tunnel{n}");
        let sa = sas
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no IKE SA {name}: {sas:?}"));
        assert_eq!(sa.state, "ESTABLISHED", "{sa:?}");
        assert_eq!(sa.version, 1);
        assert!(sa.children.iter().any(|c| c.state == "INSTALLED"), "{sa:?}");
    }

    // The VGW: both tunnels UP (IPsec is all a static tunnel needs), the
    // static route on the primary.
    let up = lab.wait(
        "the VGW shows both static tunnels UP",
        Duration::from_secs(10),
        || {
            let s = [vgw_status(&cloud, 1), vgw_status(&cloud, 2)];
            if s.iter().all(|(st, _)| st == "UP") {
                Ok(s)
            } else {
                Err(format!("{s:?}"))
            }
        },
    );
    println!("VGW: tunnel1 {:?}, tunnel2 {:?}", up[0], up[1]);
    let primary = vgw(&cloud)
        .primary_tunnel
        .map(|t| t.to_string())
        .unwrap_or_else(|| panic!("no primary tunnel"));
    let egress = lab.wait(
        "the VPC routes the static prefix",
        Duration::from_secs(10),
        || vpc_egress(&cloud).ok_or_else(|| "no route".to_string()),
    );
    assert_eq!(egress, primary);
    println!("VPC: {STATIC_ROUTE} via vgw1, egress {egress}");
    let sessions = cloud.rt.block_on(cloud.handle.sessions());
    assert!(sessions.is_empty(), "no BGP on a static VPN: {sessions:?}");

    // Pings to a VPC host through each tunnel.
    for (i, n) in [1usize, 2].into_iter().enumerate() {
        let source = Ipv4Addr::from(u32::from(INSIDE[i]) + 2);
        let before = cloud.vpn_tunnel(VPN, n);
        let out = ns.ping(source, VPC_HOST, 10, "0.1");
        assert_eq!(parse_ping_received(&out), Some(10), "tunnel{n}: {out}");
        let after = cloud.vpn_tunnel(VPN, n);
        let echoes = |v: &TunnelEndView| v.detail["inside"]["echo_replied"].as_u64().unwrap_or(0);
        assert!(
            echoes(&after) >= echoes(&before) + 10,
            "tunnel{n}: the VGW's end answered {} -> {}",
            echoes(&before),
            echoes(&after)
        );
        println!("tunnel{n}: ping {source} -> {VPC_HOST} 10/10 through the tunnel");
    }

    // charon killed (no DELETE): the VGW's DPD declares it dead.
    while events.try_recv().is_ok() {}
    let killed = Instant::now();
    run_ok(Command::new("kill").args(["-KILL", &charon.pid().to_string()]));
    let mut down: [Option<(Duration, Option<String>)>; 2] = [None, None];
    let deadline = killed + Duration::from_secs(70);
    while down.iter().any(Option::is_none) && Instant::now() < deadline {
        let next = cloud
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(1), events.recv()).await });
        let Ok(Some(event)) = next else { continue };
        if let LabEventKind::Ipsec { up: false, reason } = &event.kind {
            let names = [format!("{VPN}/tunnel1"), format!("{VPN}/tunnel2")];
            if let Some(i) = names.iter().position(|n| *n == event.neighbor) {
                if down[i].is_none() {
                    down[i] = Some((killed.elapsed(), reason.clone()));
                }
            }
        }
    }
    for (i, d) in down.iter().enumerate() {
        let n = i + 1;
        let (after, reason) = d
            .clone()
            .unwrap_or_else(|| panic!("tunnel{n}: IPsec never went down after the kill"));
        println!(
            "tunnel{n}: IPsec down {:.1} s after SIGKILL: {reason:?}",
            after.as_secs_f64()
        );
        assert!(
            reason.as_deref().unwrap_or_default().contains("DPD"),
            "tunnel{n}: {reason:?}"
        );
        assert!(
            after >= Duration::from_secs(19) && after <= Duration::from_secs(45),
            "tunnel{n}: {after:?}"
        );
        assert_eq!(
            vgw_status(&cloud, n),
            ("DOWN".to_string(), "IPSEC IS DOWN".to_string())
        );
        assert!(!cloud.vpn_tunnel(VPN, n).ipsec_up);
    }
    lab.wait(
        "the VPC loses the static route",
        Duration::from_secs(10),
        || match vpc_egress(&cloud) {
            None => Ok(()),
            Some(e) => Err(format!("still via {e}")),
        },
    );
    assert_eq!(vgw(&cloud).primary_tunnel, None);
    println!("both static tunnels DOWN, {STATIC_ROUTE} gone from the VPC");
    drop(charon);
    drop(cloud);
}

// Unprivileged: the topology.

#[test]
fn the_static_topology_parses_with_onprem_external() {
    let t = topology();
    assert_eq!(t.external, [ROUTER]);
    let vgw = t.router("vgw1").unwrap_or_else(|| panic!("no vgw1"));
    assert_eq!(vgw.neighbors.len(), 2);
    assert!(vgw.neighbors.iter().all(|n| n.is_tunnel_only()));
    assert!(vgw.listen.is_empty());
    let conf = cgw_conf();
    assert_eq!(conf.matches("remote_ts = 0.0.0.0/0").count(), 2);
    for psk in PSK {
        assert!(conf.contains(psk));
    }
}
