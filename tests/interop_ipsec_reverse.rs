//! The reverse direction of tests/interop_ipsec.rs: hybridlab's emulated
//! customer gateway initiates IKEv1 (main mode, quick mode with PFS) to a
//! real strongSwan 5.9.8 responder configured as AWS's end is, and BGP with
//! FRR 8.4 runs inside the tunnel.
//!
//! ```text
//!   host namespace (this process)              namespace `…-aws`
//!   hybridlab Lab: router `cgw`, AS 65000      charon (responder, libipsec)
//!   198.51.100.102/30 ─────────── veth ─────── 198.51.100.101/30
//!   inside 169.254.10.2 (userspace TCP/IP)     169.254.10.1 on lo
//!   announces 172.16.0.0/16                    FRR bgpd AS 64512, 10.0.0.0/16
//! ```
//!
//! The topology is `tests/fixtures/ipsec/reverse.toml`: a plain
//! `[[router.neighbor]]` with `ipsec = { ... }` (docs/topology.md). charon
//! gets the harness's AWS-side configuration (tests/common/strongswan.rs,
//! `Side::Aws`: IKEv1 main mode, aes128-sha1-modp1024 both phases with PFS,
//! 28 800 s / 3 600 s, DPD, `start_action = none`) with AWS's default
//! selectors, 0.0.0.0/0 both ways, which is what hybridlab's initiator
//! proposes. A rule ahead of charon's table 220 keeps IKE to the outside
//! addresses out of ipsec0, and FRR sources its session from the inside
//! address (`update-source`), as in interop_ipsec.rs.
//!
//! Needs `HYBRIDLAB_INTEROP=1` and root; skipped otherwise. About 5 s; the
//! waits are bounded so that the whole test stays under 60 s.

mod common;

use common::frr::{Frr, FrrConfig, FrrNeighbor};
use common::in_process::{attach_outside, HostVeth, InProcessLab, OutsideLink};
use common::strongswan::{
    self, parse_ping_received, swanctl_conf, Charon, LogLevel, Selectors, Side, VpnTunnel,
};
use common::{Lab, Netns};
use hybridlab_runtime::view::{RouteView, SessionView, TunnelEndView};
use hybridlab_topology::{parse, Topology};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

const FIXTURE: &str = "tests/fixtures/ipsec/reverse.toml";
/// As in the fixture.
const ROUTER: &str = "cgw";
const NEIGHBOR: &str = "aws";
const PSK: &str = "interop.reverse_Secret";
const AWS_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 101);
const CGW_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 102);
const OUTSIDE_NET: &str = "198.51.100.100/30";
const INSIDE: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 0);
const AWS_INSIDE: &str = "169.254.10.1";
const CGW_INSIDE: &str = "169.254.10.2";
/// The whole test, daemons' start-up included.
const BUDGET: Duration = Duration::from_secs(60);

type Cloud = InProcessLab;

/// The lab router's end of the tunnel to the responder.
fn tunnel(cloud: &Cloud) -> Result<TunnelEndView, String> {
    cloud
        .tunnels()
        .into_iter()
        .find(|t| t.router == ROUTER && t.neighbor == NEIGHBOR)
        .ok_or_else(|| format!("no tunnel view {ROUTER}/{NEIGHBOR}"))
}

fn session(cloud: &Cloud) -> Result<SessionView, String> {
    cloud
        .rt
        .block_on(cloud.handle.sessions())
        .into_iter()
        .find(|s| s.router == ROUTER && s.neighbor == NEIGHBOR)
        .ok_or_else(|| format!("no session {ROUTER}/{NEIGHBOR}"))
}

fn routes(cloud: &Cloud) -> Result<Vec<RouteView>, String> {
    cloud
        .rt
        .block_on(cloud.handle.routes(ROUTER))
        .map_err(|e| format!("routes of {ROUTER}: {e}"))
}

/// The namespace `aws` behind a veth from the host: hybridlab's outside
/// address on the host end, the responder's inside.
fn attach(lab: &Lab) -> (Netns, HostVeth) {
    attach_outside(
        lab,
        &OutsideLink {
            role: "aws",
            host: &[format!("{CGW_OUTSIDE}/30")],
            daemon: format!("{AWS_OUTSIDE}/30"),
            daemon_if: "to-cgw",
            outside_net: OUTSIDE_NET,
        },
    )
}

/// charon as AWS's end: the harness's `Side::Aws` configuration with AWS's
/// default selectors.
fn start_responder(lab: &Lab, ns: &Netns) -> Charon {
    let mut tunnel = VpnTunnel::aws_default("tunnel1", CGW_OUTSIDE, AWS_OUTSIDE, INSIDE, PSK);
    tunnel.selectors = Selectors::Any;
    strongswan::add_inside_address(ns, tunnel.aws_inside());
    let charon = Charon::start(lab, ns, "aws", LogLevel::Normal);
    charon.load(&swanctl_conf(Side::Aws, &[tunnel]));
    charon
}

/// FRR as the VGW's BGP speaker: AS 64512, the VPC's 10.0.0.0/16.
fn start_frr(lab: &Lab, ns: &Netns) -> Frr {
    let mut config = FrrConfig::new(64512, AWS_INSIDE);
    config.neighbors.push(FrrNeighbor::new(CGW_INSIDE, 65000));
    config.networks.push("10.0.0.0/16".to_string());
    config.extra = format!(
        "router bgp 64512\n neighbor {CGW_INSIDE} update-source {AWS_INSIDE}\n neighbor {CGW_INSIDE} disable-connected-check\n!\n"
    );
    Frr::start(lab, ns, &config)
}

fn topology() -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {FIXTURE}: {e}"));
    parse(FIXTURE, &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn hybridlab_initiates_to_a_strongswan_responder_bgp_and_ping_work() {
    let test = "hybridlab_initiates_to_a_strongswan_responder_bgp_and_ping_work";
    if !common::interop_enabled(test) {
        return;
    }
    strongswan::require(test);
    let t0 = Instant::now();
    let topology = topology();
    // Dropped in reverse: the lab and the daemons before the veth and the
    // namespace.
    let lab = Lab::new("ipsecrev");
    let (ns, _veth) = attach(&lab);
    let charon = start_responder(&lab, &ns);
    let frr = start_frr(&lab, &ns);
    let started = Instant::now();
    let (cloud, _events) = InProcessLab::start(topology);

    // charon: one IKE SA and one CHILD SA, hybridlab the initiator.
    let (ike, child) = charon.wait_installed(&lab, "tunnel1", Duration::from_secs(20));
    println!(
        "IKE SA + CHILD SA up {} ms after the lab started (charon's log: {:?} ms from the first main mode message to the CHILD SA)",
        started.elapsed().as_millis(),
        strongswan::log_span_ms(
            &charon.log_since(0),
            "is initiating a Main Mode",
            "established with SPIs"
        ),
    );
    assert!(!ike.initiator, "charon must be the responder: {ike:?}");
    let log = charon.log_since(0);
    assert!(
        log.contains(&format!("{CGW_OUTSIDE} is initiating a Main Mode IKE_SA")),
        "charon's log shows no main mode from hybridlab"
    );
    let sas = charon.list_sas().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sas.len(), 1, "one IKE SA: {sas:?}");
    assert_eq!(ike.children.len(), 1, "one CHILD SA: {ike:?}");
    assert_eq!(ike.version, 1);
    assert_eq!(ike.state, "ESTABLISHED");
    assert_eq!(ike.encr_alg, "AES_CBC");
    assert_eq!(ike.encr_keysize, 128);
    assert_eq!(ike.integ_alg, "HMAC_SHA1_96");
    assert_eq!(ike.dh_group, "MODP_1024");
    assert_eq!(ike.remote_host, CGW_OUTSIDE.to_string());
    assert_eq!(child.state, "INSTALLED");
    assert!(child.encap, "ESP in UDP 4500: {child:?}");
    assert_eq!(child.mode, "TUNNEL");
    assert_eq!(child.encr_alg, "AES_CBC");
    assert_eq!(child.integ_alg, "HMAC_SHA1_96");
    assert_eq!(child.dh_group, "MODP_1024", "PFS group 2");

    // hybridlab: the initiator's end, over kernel UDP, SA pair installed.
    let view = lab.wait("hybridlab's tunnel up", Duration::from_secs(10), || {
        let v = tunnel(&cloud)?;
        if v.ipsec_up && v.detail["phase2"].as_str() == Some("Established") {
            Ok(v)
        } else {
            Err(format!("{v:?}"))
        }
    });
    assert_eq!(view.role, "initiator");
    assert_eq!(view.path, "udp");
    assert_eq!(view.tunnel, None);
    assert_eq!(view.local_outside, IpAddr::V4(CGW_OUTSIDE));
    assert_eq!(view.remote_outside, IpAddr::V4(AWS_OUTSIDE));
    assert_eq!(view.detail["phase1"].as_str(), Some("Established"));
    assert_eq!(
        view.detail["spi_in"].as_str(),
        Some(child.spi_out.as_str()),
        "hybridlab's inbound SPI is charon's outbound: {}",
        view.detail
    );
    assert_eq!(view.detail["spi_out"].as_str(), Some(child.spi_in.as_str()));

    // BGP both ways, routes both ways.
    frr.wait_established(&lab, CGW_INSIDE);
    let session = lab.wait(
        "hybridlab's session Established",
        Duration::from_secs(10),
        || {
            let s = session(&cloud)?;
            (s.state == "Established")
                .then_some(s.clone())
                .ok_or(format!("{s:?}"))
        },
    );
    assert_eq!(session.remote_id, Some(Ipv4Addr::new(169, 254, 10, 1)));
    let route = lab.wait("10.0.0.0/16 at hybridlab", Duration::from_secs(10), || {
        let routes = routes(&cloud)?;
        routes
            .iter()
            .find(|r| r.prefix == "10.0.0.0/16" && r.from == NEIGHBOR)
            .cloned()
            .ok_or(format!("{routes:?}"))
    });
    assert!(route.best, "{route:?}");
    assert_eq!(route.as_path, vec![64512]);
    let paths = lab.wait("172.16.0.0/16 at FRR", Duration::from_secs(10), || {
        let p = frr.paths("172.16.0.0/16")?;
        if p.is_empty() {
            Err("no path".to_string())
        } else {
            Ok(p)
        }
    });
    println!("FRR's path to 172.16.0.0/16: {}", paths[0]);

    // Pings from the responder's inside address to hybridlab's, through
    // the tunnel: hybridlab's stack answers and both ends count them.
    let before = tunnel(&cloud).unwrap_or_else(|e| panic!("{e}"));
    let out = ns.ping(AWS_INSIDE, CGW_INSIDE, 10, "0.1");
    assert_eq!(parse_ping_received(&out), Some(10), "{out}");
    let after = tunnel(&cloud).unwrap_or_else(|e| panic!("{e}"));
    let count = |v: &TunnelEndView, k: &str| v.detail[k].as_u64().unwrap_or(0);
    let d_in = count(&after, "packets_in") - count(&before, "packets_in");
    let d_out = count(&after, "packets_out") - count(&before, "packets_out");
    assert!(d_in >= 10 && d_out >= 10, "ESP in {d_in}, out {d_out}");
    let (_, child_after) = charon
        .installed("tunnel1")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(child_after.packets_out >= child.packets_out + 10);
    assert!(child_after.packets_in >= child.packets_in + 10);
    println!(
        "10/10 pings through the tunnel; hybridlab ESP in +{d_in} out +{d_out}; whole test {} ms",
        t0.elapsed().as_millis()
    );
    assert!(t0.elapsed() < BUDGET, "took {:?}", t0.elapsed());
}
