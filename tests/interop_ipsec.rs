//! The IPsec issue's acceptance test: real strongSwan 5.9.8 (charon via
//! swanctl, kernel-libipsec, ESP in UDP 4500) and real FRR 8.4 as the
//! customer gateway of a VPN connection with `ipsec = true`, against
//! hybridlab's VGW running in this process.
//!
//! ```text
//!   host namespace (this process)                  namespace `…-cgw`
//!   hybridlab Lab: VGW tunnel ends          veth   charon (libipsec, ipsec0)
//!   198.51.100.1 (tunnel 1), .3 (tunnel 2) ─────── 198.51.100.2
//!   inside 169.254.10.1 / .5 (userspace TCP/IP)    169.254.10.2 / .6 on lo
//!                                                  FRR bgpd, AS 65000
//! ```
//!
//! The topology is `tests/fixtures/ipsec/strongswan-frr.toml`, parsed with
//! `onprem` external; its expectations are checked as interop_scenarios.rs
//! does (the cloud from the lab, `onprem` from FRR). charon gets AWS's
//! downloadable parameters (tests/common/strongswan.rs) with one change: the
//! remote selector is 0.0.0.0/0 (AWS's default) so that the VPC's hosts are
//! reachable through the tunnel; the local one stays the tunnel's inside /30,
//! narrower than AWS's 0.0.0.0/0, which the VGW accepts and echoes.
//!
//! Needs `HYBRIDLAB_INTEROP=1` and root; skipped otherwise. Tests take turns
//! (the outside addresses live in the one host namespace). Wall-clock waits
//! are unavoidable with real daemons: the rekey and DPD tests run ~50 s and
//! ~40 s, the whole file ~2.5 min.

mod common;

use common::frr::Frr;
use common::in_process::{attach_outside, HostVeth, InProcessLab, OutsideLink};
use common::scenario_configs::CustomerRouter;
use common::strongswan::{
    self, parse_ping_received, parse_ping_rtt, swanctl_conf, Charon, IkeSa, LogLevel, Side,
    VpnTunnel,
};
use common::{run_ok, Lab, Netns};
use hybridlab_runtime::check::{converge, Snapshot, Verdict};
use hybridlab_runtime::view::TunnelEndView;
use hybridlab_runtime::{LabEvent, LabEventKind};
use hybridlab_topology::{parse, parse_with, ParseOptions, Topology};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

const FIXTURE: &str = "tests/fixtures/ipsec/strongswan-frr.toml";
const ROUTER: &str = "onprem";
const VPN: &str = "vpn1";
const CGW_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const AWS_OUTSIDE: [Ipv4Addr; 2] = [
    Ipv4Addr::new(198, 51, 100, 1),
    Ipv4Addr::new(198, 51, 100, 3),
];
const INSIDE: [Ipv4Addr; 2] = [
    Ipv4Addr::new(169, 254, 10, 0),
    Ipv4Addr::new(169, 254, 10, 4),
];
/// As in the fixture.
const PSK: [&str; 2] = ["interop.tunnel1_Secret", "interop.tunnel2_Secret"];
/// A host of the VPC (10.0.0.0/16): the VGW's tunnel ends answer its pings.
const VPC_HOST: &str = "10.0.5.9";
/// The cloud's ConnectRetry is 5 s, FRR's 1 s: a bound, not the expectation.
const CONVERGE: Duration = Duration::from_secs(45);

static SERIAL: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------
// hybridlab's log lines, kept for assertions

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The lab's `tracing` output goes to [`LOG`] (one subscriber per process).
fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| LogSink)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .try_init();
    });
}

fn log_len() -> usize {
    LOG.lock().unwrap_or_else(|p| p.into_inner()).len()
}

fn log_since(offset: usize) -> String {
    let log = LOG.lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(log.get(offset..).unwrap_or_default()).into_owned()
}

// ---------------------------------------------------------------------------
// The lab: namespace, veth, the cloud in process

/// The fixture twice: with `onprem` emulated (to configure FRR from) and
/// external (the lab to run).
fn topologies() -> (CustomerRouter, Topology) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {FIXTURE}: {e}"));
    let emulated = parse(FIXTURE, &text).unwrap_or_else(|e| panic!("{e}"));
    let customer =
        CustomerRouter::from_topology(&emulated, ROUTER).unwrap_or_else(|e| panic!("{e}"));
    let options = ParseOptions {
        external: vec![ROUTER.to_string()],
    };
    let external = parse_with(FIXTURE, &text, &options).unwrap_or_else(|e| panic!("{e}"));
    (customer, external)
}

/// The lab in this process; its `tracing` output goes to [`LOG`].
type Cloud = InProcessLab;

fn start_cloud(topology: Topology) -> (Cloud, UnboundedReceiver<LabEvent>) {
    capture_logs();
    InProcessLab::start(topology)
}

/// The VGW's end of tunnel `n` (1 or 2).
fn vgw_tunnel(cloud: &Cloud, n: usize) -> TunnelEndView {
    cloud.vpn_tunnel(VPN, n)
}

/// The VGW's status of tunnel `n`: (UP/DOWN, status message).
fn vgw_status(cloud: &Cloud, n: usize) -> (String, String) {
    cloud.vgw_status("vgw1", VPN, n)
}

fn vpc_has(cloud: &Cloud, prefix: &str) -> bool {
    let routes = cloud
        .rt
        .block_on(cloud.handle.node_routes("prod"))
        .unwrap_or_else(|e| panic!("routes of prod: {e}"));
    routes.routes.iter().any(|r| r.prefix.to_string() == prefix)
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
            outside_net: "198.51.100.0/24",
        },
    )
}

/// Both tunnels as AWS's download configures them.
fn connection() -> [VpnTunnel; 2] {
    [0, 1].map(|i| {
        VpnTunnel::aws_default(
            &format!("tunnel{}", i + 1),
            CGW_OUTSIDE,
            AWS_OUTSIDE[i],
            INSIDE[i],
            PSK[i],
        )
    })
}

/// swanctl.conf for the CGW: the harness's, with the remote selector
/// widened to 0.0.0.0/0 (AWS's default) so the VPC is behind the tunnel.
/// Local selectors stay the /30s: distinct, so both tunnels share one
/// libipsec charon (policies are looked up by source).
fn cgw_conf(tunnels: &[VpnTunnel]) -> String {
    let mut text = swanctl_conf(Side::CustomerGateway, tunnels);
    for t in tunnels {
        text = text.replace(
            &format!("remote_ts = {}", t.inside_cidr()),
            "remote_ts = 0.0.0.0/0",
        );
    }
    text
}

fn start_charon(lab: &Lab, ns: &Netns, conf: &str) -> Charon {
    for t in connection() {
        strongswan::add_inside_address(ns, t.cgw_inside());
    }
    let charon = Charon::start(lab, ns, "cgw", LogLevel::Normal);
    charon.load(conf);
    charon
}

/// FRR from the fixture's `onprem`, each session sourced from its tunnel's
/// inside address: both sessions route through ipsec0 by one 0.0.0.0/0
/// route (the first CHILD SA's, source .2), and libipsec picks the SA by
/// source address. Without `update-source` FRR's own connection to .5
/// leaves from .2 into tunnel 1 and goes nowhere; the sessions still come
/// up (tried), because the VGW connects too and FRR answers from the
/// address it was reached on. The peers are not on a connected subnet
/// (/32s on lo): bgpd with `-n` does not check (tried without
/// `disable-connected-check`), kept for a bgpd with zebra. Single-hop TTL 1
/// works: libipsec does not forward, packets leave and enter the host
/// through the TUN.
fn start_frr(lab: &Lab, ns: &Netns, customer: &CustomerRouter) -> Frr {
    let (mut config, _) = customer.frr();
    let mut extra = format!("router bgp {}\n", customer.asn);
    for s in &customer.sessions {
        extra += &format!(
            " neighbor {aws} update-source {cust}\n neighbor {aws} disable-connected-check\n",
            aws = s.aws,
            cust = s.customer
        );
    }
    config.extra += &extra;
    config.extra += "!\n";
    Frr::start(lab, ns, &config)
}

fn frr_rows(
    frr: &Frr,
    customer: &CustomerRouter,
) -> Result<Vec<hybridlab_cloud::fabric::NodeRoute>, String> {
    customer.frr_rows(&frr.json("show ip bgp json")?)
}

/// FRR's state of each session, by the AWS inside address.
fn frr_states(frr: &Frr) -> Result<Vec<(String, String)>, String> {
    let summary = frr.json("show ip bgp summary json")?;
    let peers = summary["ipv4Unicast"]["peers"]
        .as_object()
        .ok_or_else(|| format!("no peers in {summary}"))?;
    Ok(peers
        .iter()
        .map(|(k, v)| (k.clone(), v["state"].as_str().unwrap_or("?").to_string()))
        .collect())
}

/// The fixture's expectations until they hold (or [`CONVERGE`]), the
/// cloud's from the lab and `onprem`'s from FRR.
fn converge_all(cloud: &Cloud, topology: &Topology, frr: &Frr, customer: &CustomerRouter) {
    let skip = [ROUTER.to_string()];
    let verdicts = cloud.rt.block_on(converge(
        &cloud.handle,
        &topology.expectations,
        &skip,
        CONVERGE,
        |snap: &mut Snapshot| match frr_rows(frr, customer) {
            Ok(rows) => {
                snap.routes.insert(ROUTER.to_string(), rows);
            }
            Err(e) => {
                snap.route_errors.insert(ROUTER.to_string(), e);
            }
        },
    ));
    for v in &verdicts {
        println!("{v}");
    }
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(Verdict::to_string)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} expectations failed:\n{}\n--- hybridlab log tail:\n{}",
        failed.len(),
        verdicts.len(),
        failed.join("\n"),
        tail_text(&log_since(0), 40)
    );
}

fn tail_text(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn detail_u64(view: &TunnelEndView, key: &str) -> u64 {
    view.detail[key].as_u64().unwrap_or(0)
}

fn both_installed(charon: &Charon, lab: &Lab) -> [IkeSa; 2] {
    [1, 2].map(|n| {
        charon
            .wait_installed(lab, &format!("tunnel{n}"), Duration::from_secs(20))
            .0
    })
}

/// Everything up: cloud, charon with `conf`, both SAs installed, FRR, the
/// fixture's expectations. Returns the establishment time (swanctl load →
/// both CHILD SAs installed, as seen by polling).
struct Up {
    // Dropped in this order: the daemons and the cloud before the veth and
    // the namespace.
    cloud: Cloud,
    frr: Frr,
    charon: Charon,
    events: UnboundedReceiver<LabEvent>,
    customer: CustomerRouter,
    topology: Topology,
    established_in: Duration,
    _veth: HostVeth,
    ns: Netns,
    lab: Lab,
}

fn bring_up(tag: &str, conf: &str) -> Up {
    let (customer, topology) = topologies();
    let lab = Lab::new(tag);
    let (ns, veth) = attach(&lab);
    let (cloud, events) = start_cloud(topology.clone());
    let t0 = Instant::now();
    let charon = start_charon(&lab, &ns, conf);
    both_installed(&charon, &lab);
    let established_in = t0.elapsed();
    let frr = start_frr(&lab, &ns, &customer);
    converge_all(&cloud, &topology, &frr, &customer);
    Up {
        lab,
        ns,
        _veth: veth,
        customer,
        topology,
        cloud,
        events,
        charon,
        frr,
        established_in,
    }
}

fn enabled(test: &str) -> bool {
    if !common::interop_enabled(test) {
        return false;
    }
    strongswan::require(test);
    true
}

// ---------------------------------------------------------------------------
// The tests

/// AWS's parameters end to end: IKEv1 main mode + quick mode with PFS on
/// both tunnels, ESP in UDP 4500, BGP inside both, routes both ways, pings
/// to the VPC through the tunnel, counters moving on both ends.
#[test]
fn strongswan_and_frr_bring_up_both_tunnels_bgp_and_pings() {
    if !enabled("strongswan_and_frr_bring_up_both_tunnels_bgp_and_pings") {
        return;
    }
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let up = bring_up("ipsec", &cgw_conf(&connection()));
    // charon's own clock: first Main Mode message 1 sent → last CHILD SA
    // established (both tunnels, main mode + quick mode with PFS each).
    let on_the_wire = strongswan::log_span_ms(
        &up.charon.log_since(0),
        "initiating Main Mode",
        "established with SPIs",
    );
    println!(
        "both tunnels established: {on_the_wire:?} ms in charon's log (MM1 → last CHILD SA), \
         {} ms from swanctl --load-all to both INSTALLED (200 ms polling)",
        up.established_in.as_millis()
    );

    // charon's view: what AWS's download asks for, floated to 4500.
    for (i, n) in [1, 2].into_iter().enumerate() {
        let (ike, child) = up
            .charon
            .installed(&format!("tunnel{n}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ike.version, 1);
        assert_eq!(ike.encr_alg, "AES_CBC");
        assert_eq!(ike.encr_keysize, 128);
        assert_eq!(ike.integ_alg, "HMAC_SHA1_96");
        assert_eq!(ike.dh_group, "MODP_1024");
        assert_eq!(ike.remote_host, AWS_OUTSIDE[i].to_string());
        assert_eq!(ike.remote_port, 4500, "IKE floated to 4500 (NAT-T)");
        assert!(child.encap, "ESP in UDP: {child:?}");
        assert_eq!(child.mode, "TUNNEL");
        assert_eq!(child.encr_alg, "AES_CBC");
        assert_eq!(child.integ_alg, "HMAC_SHA1_96");
        assert_eq!(child.dh_group, "MODP_1024", "PFS group 2");
        // Narrower than AWS's 0.0.0.0/0 on our side: the VGW accepted it.
        assert_eq!(child.local_ts, vec![format!("{}/30", INSIDE[i])]);
        assert_eq!(child.remote_ts, vec!["0.0.0.0/0".to_string()]);

        // hybridlab's view of the same SA pair.
        let view = vgw_tunnel(&up.cloud, n);
        assert_eq!(view.role, "responder");
        assert_eq!(view.path, "udp");
        assert!(view.ipsec_up, "{view:?}");
        assert_eq!(view.local_outside, IpAddr::V4(AWS_OUTSIDE[i]));
        assert_eq!(
            view.detail["phase1_algorithms"].as_str(),
            Some("aes128-sha1-modp1024"),
            "{}",
            view.detail
        );
        assert_eq!(
            view.detail["spi_in"].as_str(),
            Some(child.spi_out.as_str()),
            "hybridlab's inbound SPI is charon's outbound"
        );
        assert_eq!(view.detail["spi_out"].as_str(), Some(child.spi_in.as_str()));
        assert_eq!(view.detail["phase1"].as_str(), Some("Established"));
        assert_eq!(view.detail["phase2"].as_str(), Some("Established"));
        let (status, message) = vgw_status(&up.cloud, n);
        assert_eq!(status, "UP", "tunnel{n}: {message}");
        println!("tunnel{n}: VGW status {status} \"{message}\"");
        println!(
            "tunnel{n}: charon {} / {}; hybridlab phase1 {} phase2 {}",
            ike.initiator_spi, child.spi_out, view.detail["phase1"], view.detail["phase2"]
        );
    }

    // FRR: both sessions Established, the VPC from both tunnels.
    let states = frr_states(&up.frr).unwrap_or_else(|e| panic!("{e}"));
    for aws in ["169.254.10.1", "169.254.10.5"] {
        assert!(
            states.iter().any(|(a, s)| a == aws && s == "Established"),
            "FRR session with {aws}: {states:?}"
        );
    }
    let rows = frr_rows(&up.frr, &up.customer).unwrap_or_else(|e| panic!("{e}"));
    // MED 100 on the VGW's primary tunnel, 200 on the other (spec §2.3);
    // the primary is whichever session came up first.
    let primary = up
        .cloud
        .rt
        .block_on(up.cloud.handle.vgw("vgw1"))
        .unwrap_or_else(|e| panic!("{e}"))
        .primary_tunnel
        .map(|t| t.to_string())
        .unwrap_or_else(|| panic!("vgw1 has no primary tunnel"));
    println!("the VGW's primary tunnel: {primary}");
    for via in ["vpn1/tunnel1", "vpn1/tunnel2"] {
        let med = if via == primary { 100 } else { 200 };
        assert!(
            rows.iter().any(|r| r.prefix.to_string() == "10.0.0.0/16"
                && r.via == via
                && r.as_path == [64512]
                && r.med == Some(med)),
            "FRR: 10.0.0.0/16 via {via} AS_PATH [64512] MED {med}: {rows:?}"
        );
    }

    // Pings through each tunnel to a VPC host: counters move on both ends.
    for (i, n) in [1usize, 2].into_iter().enumerate() {
        let source = Ipv4Addr::from(u32::from(INSIDE[i]) + 2);
        let before_view = vgw_tunnel(&up.cloud, n);
        let (_, before) = up.charon.installed(&format!("tunnel{n}")).unwrap();
        let out = up.ns.ping(source, VPC_HOST, 20, "0.05");
        assert_eq!(parse_ping_received(&out), Some(20), "tunnel{n}: {out}");
        let rtt = parse_ping_rtt(&out);
        let after_view = vgw_tunnel(&up.cloud, n);
        let (_, after) = up.charon.installed(&format!("tunnel{n}")).unwrap();
        let d_in = detail_u64(&after_view, "packets_in") - detail_u64(&before_view, "packets_in");
        let d_out =
            detail_u64(&after_view, "packets_out") - detail_u64(&before_view, "packets_out");
        assert!(
            d_in >= 20 && d_out >= 20,
            "hybridlab tunnel{n} +{d_in} in, +{d_out} out"
        );
        assert!(
            after.packets_out >= before.packets_out + 20
                && after.packets_in >= before.packets_in + 20,
            "charon tunnel{n}: {before:?} -> {after:?}"
        );
        let echo = after_view.detail["inside"]["echo_replied"]
            .as_u64()
            .unwrap_or(0);
        println!(
            "tunnel{n}: ping {source} -> {VPC_HOST} 20/20, rtt min/avg/max {rtt:?} ms; \
             hybridlab +{d_in} in +{d_out} out ({echo} echoes answered), \
             charon +{} out +{} in",
            after.packets_out - before.packets_out,
            after.packets_in - before.packets_in
        );
    }
    drop(up.events);
    let _ = (&up.lab, &up.topology);
}

/// Lifetimes shortened, rekeys started by both sides, while two pings run
/// at 10/s (one per tunnel): nothing may be lost.
///
/// The topology cannot shorten the VGW's lifetimes below 900 s / 900 s
/// (docs/topology.md); charon offers shorter ones, which the VGW takes
/// (the shorter of offer and its own), and the VGW rekeys `rekey_margin`
/// (60 s, no fuzz: the fixture's floor) before they run out.
///
/// - Both tunnels: phase 1 offered 100 s (reauth 30 s + over 70 s):
///   charon reauthenticates every 30 s (a new Main Mode SA beside the old
///   one; 5.9.8 negotiates no new Quick Mode for it, the CHILD SAs stay),
///   always before the VGW's own phase-1 rekey (40 s after the newest),
///   and the first phase-1 SA reaches its hard lifetime at 100 s, inside
///   the window.
/// - Tunnel 1: phase 2 offered 100 s, charon rekeys it every 20 s (the
///   VGW would 40 s after the newest): rekeys the VGW answers.
/// - Tunnel 2: phase 2 offered 70 s, charon would rekey at 63 s: the VGW
///   starts the rekey at 10 s (charon answers; it logs "detected rekeying").
///
/// About 110 s: the price of seeing an old phase 1 expire under traffic.
#[test]
fn phase1_and_phase2_rekey_under_a_continuous_ping_lose_nothing() {
    if !enabled("phase1_and_phase2_rekey_under_a_continuous_ping_lose_nothing") {
        return;
    }
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let tunnels = connection().map(|mut t| {
        t.ike_lifetime_s = 100;
        t.child_lifetime_s = if t.name == "tunnel1" { 100 } else { 70 };
        t
    });
    let conf = cgw_conf(&tunnels)
        // The harness splits 90/10; here charon renews sooner.
        .replace("reauth_time = 90s", "reauth_time = 30s")
        .replace("over_time = 10s", "over_time = 70s")
        .replace("rekey_time = 90s", "rekey_time = 20s");
    assert!(conf.contains("reauth_time = 30s") && conf.contains("rekey_time = 20s"));
    assert!(conf.contains("life_time = 70s") && conf.contains("rekey_time = 63s"));
    let up = bring_up("rekey", &conf);

    const WINDOW: Duration = Duration::from_secs(106);
    let count = (WINDOW.as_millis() / 100) as u32;
    let pings: Vec<_> = [0usize, 1]
        .into_iter()
        .map(|i| {
            let source = Ipv4Addr::from(u32::from(INSIDE[i]) + 2);
            let to = if i == 0 {
                VPC_HOST.to_string()
            } else {
                "169.254.10.5".to_string()
            };
            up.ns
                .command("ping")
                .args(["-n", "-q", "-c", &count.to_string(), "-i", "0.1", "-W", "2"])
                .args(["-I", &source.to_string(), &to])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn ping: {e}"))
        })
        .collect();

    // Watch both ends while the pings run.
    let mut ike_spis: [BTreeSet<String>; 2] = Default::default();
    let mut child_spis: [BTreeSet<String>; 2] = Default::default();
    let mut vgw_cookies: [BTreeSet<String>; 2] = Default::default();
    let mut vgw_down = Vec::new();
    let start = Instant::now();
    while start.elapsed() < WINDOW + Duration::from_secs(3) {
        if let Ok(sas) = up.charon.list_sas() {
            for sa in sas {
                let Some(i) = ["tunnel1", "tunnel2"].iter().position(|n| *n == sa.name) else {
                    continue;
                };
                if sa.state == "ESTABLISHED" {
                    ike_spis[i].insert(sa.initiator_spi.clone());
                }
                for c in sa.children.iter().filter(|c| c.state == "INSTALLED") {
                    child_spis[i].insert(c.spi_in.clone());
                }
            }
        }
        for (i, n) in [1, 2].into_iter().enumerate() {
            let v = vgw_tunnel(&up.cloud, n);
            if !v.ipsec_up {
                vgw_down.push((start.elapsed(), n, v.last_error.clone()));
            }
            if let Some(c) = v.detail["icookie"].as_str() {
                vgw_cookies[i].insert(c.to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut lost = Vec::new();
    for (i, child) in pings.into_iter().enumerate() {
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("ping: {e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let received = parse_ping_received(&text);
        println!(
            "tunnel{}: {count} pings, received {received:?}, rtt {:?}",
            i + 1,
            parse_ping_rtt(&text)
        );
        if received != Some(u64::from(count)) {
            lost.push(text);
        }
    }
    for i in 0..2 {
        println!(
            "tunnel{}: charon IKE SAs seen {:?}, CHILD SAs (inbound SPIs) {:?}; VGW cookies {:?}",
            i + 1,
            ike_spis[i],
            child_spis[i],
            vgw_cookies[i]
        );
    }
    let states = frr_states(&up.frr).unwrap_or_else(|e| panic!("{e}"));
    println!("FRR after the window: {states:?}");
    // Who started the phase-2 rekeys: charon logs the peer's as "detected
    // rekeying of CHILD_SA NAME{N}".
    let charon_log = up.charon.log_since(0);
    let peer_rekeys = |name: &str| {
        charon_log
            .lines()
            .filter(|l| l.contains(&format!("detected rekeying of CHILD_SA {name}{{")))
            .count()
    };
    let vgw_rekeys = [peer_rekeys("tunnel1"), peer_rekeys("tunnel2")];
    let count = |what: &str| charon_log.lines().filter(|l| l.contains(what)).count();
    println!(
        "charon: {} IKE SAs reauthenticated, {} CHILD SAs rekeyed by charon, \
         DELETEs sent for {} IKE SAs / {} CHILD SAs, received for {} IKE SAs / {} CHILD SAs",
        count("reauthenticating IKE_SA"),
        count("creating rekey job for CHILD_SA"),
        count("sending DELETE for IKE_SA"),
        count("sending DELETE for ESP"),
        count("received DELETE for IKE_SA"),
        count("received DELETE for ESP"),
    );
    for n in [1, 2] {
        let v = vgw_tunnel(&up.cloud, n);
        println!(
            "tunnel{n}: phase-2 rekeys started by the VGW: {}; VGW ESP unknown SPI {}, \
             dropped without SA {}, replay drops {}, ICV failures {}",
            vgw_rekeys[n - 1],
            v.detail["tunnel"]["unknown_spi"],
            v.detail["tunnel"]["dropped_no_sa"],
            v.detail["replay_drops"],
            v.detail["icv_failures"]
        );
    }
    let log = log_since(0);
    assert!(
        lost.is_empty(),
        "pings lost during rekeys:\n{}",
        lost.join("\n")
    );
    assert!(
        vgw_down.is_empty(),
        "the VGW's IPsec went down: {vgw_down:?}"
    );
    for i in 0..2 {
        assert!(
            ike_spis[i].len() >= 2,
            "tunnel{}: no phase-1 reauthentication seen: {:?}\n{}",
            i + 1,
            ike_spis[i],
            tail_text(&log, 30)
        );
        // The first CHILD SA, a rekey (charon's at 20 s on tunnel 1, the
        // VGW's at 10 s on tunnel 2), and the quick mode made under the
        // reauthenticated phase 1 at 35 s.
        assert!(
            child_spis[i].len() >= 3,
            "tunnel{}: no phase-2 rekey besides the reauthentication: {:?}",
            i + 1,
            child_spis[i]
        );
    }
    assert!(
        states.iter().all(|(_, s)| s == "Established"),
        "BGP did not survive: {states:?}"
    );
    assert!(
        vgw_rekeys[1] >= 1,
        "tunnel2: the VGW started no phase-2 rekey: {vgw_rekeys:?}"
    );
    drop(up.events);
}

/// A PSK that differs from the VGW's: hybridlab logs the tunnel and the
/// reason, installs nothing, and its tunnel view says why. Tunnel 2, with
/// the right key, comes up beside it.
#[test]
fn wrong_psk_is_refused_with_the_reason_in_log_and_view() {
    if !enabled("wrong_psk_is_refused_with_the_reason_in_log_and_view") {
        return;
    }
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (_customer, topology) = topologies();
    let lab = Lab::new("psk");
    let (ns, _veth) = attach(&lab);
    let (cloud, _events) = start_cloud(topology);
    let offset = log_len();
    let mut tunnels = connection();
    tunnels[0].psk = "interop.wrong_Secret1".to_string();
    let charon = start_charon(&lab, &ns, &cgw_conf(&tunnels));
    charon.wait_installed(&lab, "tunnel2", Duration::from_secs(20));
    let view = lab.wait(
        "the VGW's tunnel 1 names the failure",
        Duration::from_secs(20),
        || {
            let v = vgw_tunnel(&cloud, 1);
            match &v.last_error {
                Some(e) if e.contains("pre-shared key") => Ok(v),
                _ => Err(format!("{v:?}")),
            }
        },
    );
    assert!(!view.ipsec_up);
    assert_eq!(view.detail["child_sas"].as_array().map(Vec::len), Some(0));
    assert!(charon.installed("tunnel1").is_err());
    let (status, message) = vgw_status(&cloud, 1);
    assert_eq!(
        (status.as_str(), message.as_str()),
        ("DOWN", "IPSEC IS DOWN")
    );
    println!("tunnel1: VGW status {status} \"{message}\"");
    let log = log_since(offset);
    let line = log
        .lines()
        .find(|l| l.contains("vpn1/tunnel1") && l.contains("pre-shared key"))
        .unwrap_or_else(|| panic!("no log line naming tunnel 1 and the PSK:\n{log}"));
    println!("hybridlab: {line}");
    println!("tunnel view last error: {:?}", view.last_error);
    // What the customer's side sees of it.
    for l in charon.log_since(0).lines().filter(|l| {
        l.contains("[IKE]")
            && [
                "INVALID",
                "failed",
                "MALFORMED",
                "giving up",
                "retransmit 3",
            ]
            .iter()
            .any(|w| l.contains(w))
    }) {
        println!("charon: {l}");
    }
}

/// Offers the VGW does not accept: charon proposes only 3DES in phase 1 on
/// tunnel 1 and aes256-sha512-modp4096 in phase 2 on tunnel 2. hybridlab
/// answers NO-PROPOSAL-CHOSEN, charon logs it, the tunnel views say "No
/// proposal match".
#[test]
fn proposal_mismatch_gets_no_proposal_chosen() {
    if !enabled("proposal_mismatch_gets_no_proposal_chosen") {
        return;
    }
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (_customer, topology) = topologies();
    let lab = Lab::new("prop");
    let (ns, _veth) = attach(&lab);
    let (cloud, _events) = start_cloud(topology);
    let mut tunnels = connection();
    tunnels[0].ike_proposal = "3des-sha1-modp1024".to_string();
    tunnels[1].esp_proposal = "aes256-sha512-modp4096".to_string();
    let charon = start_charon(&lab, &ns, &cgw_conf(&tunnels));
    for n in [1, 2] {
        let view = lab.wait(
            &format!("the VGW's tunnel {n} reports no proposal match"),
            Duration::from_secs(20),
            || {
                let v = vgw_tunnel(&cloud, n);
                match &v.last_error {
                    Some(e) if e.starts_with("No proposal match") => Ok(v),
                    _ => Err(format!("{v:?}")),
                }
            },
        );
        assert!(!view.ipsec_up);
        assert_eq!(vgw_status(&cloud, n).1, "IPSEC IS DOWN");
        println!("tunnel{n}: VGW last error: {:?}", view.last_error);
    }
    let charon_log = lab.wait(
        "charon logs NO_PROPOSAL_CHOSEN for both tunnels",
        Duration::from_secs(10),
        || {
            let log = charon.log_since(0);
            let hits: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("NO_PROPOSAL_CHOSEN"))
                .collect();
            if hits.len() >= 2 {
                Ok(hits.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            } else {
                Err(log.clone())
            }
        },
    );
    for l in charon_log.iter().take(4) {
        println!("charon: {l}");
    }
    for n in [1, 2] {
        assert!(charon.installed(&format!("tunnel{n}")).is_err());
    }
}

/// charon killed (SIGKILL: no DELETE sent): the VGW's DPD declares the
/// peer dead `dpd_timeout` (30 s, the fixture) after the last datagram it
/// heard, the tunnel goes down with the reason in the view, and the VPC
/// loses FRR's routes.
#[test]
fn dpd_declares_a_killed_charon_dead() {
    if !enabled("dpd_declares_a_killed_charon_dead") {
        return;
    }
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut up = bring_up("dpd", &cgw_conf(&connection()));
    assert!(vpc_has(&up.cloud, "172.16.0.0/16"));
    // Drain what came before the kill.
    while up.events.try_recv().is_ok() {}
    let pid = up.charon.pid();
    let offset = log_len();
    let killed = Instant::now();
    run_ok(Command::new("kill").args(["-KILL", &pid.to_string()]));
    let mut down = [None, None];
    let deadline = killed + Duration::from_secs(70);
    while down.iter().any(Option::is_none) && Instant::now() < deadline {
        let next = up.cloud.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(1), up.events.recv()).await
        });
        let Ok(Some(event)) = next else { continue };
        if let LabEventKind::Ipsec { up: false, reason } = &event.kind {
            if let Some(i) = ["vpn1/tunnel1", "vpn1/tunnel2"]
                .iter()
                .position(|n| *n == event.neighbor)
            {
                if down[i].is_none() {
                    down[i] = Some((killed.elapsed(), reason.clone()));
                }
            }
        }
    }
    for (i, d) in down.iter().enumerate() {
        let (after, reason) = d
            .clone()
            .unwrap_or_else(|| panic!("tunnel{}: IPsec never went down after the kill", i + 1));
        println!(
            "tunnel{}: IPsec down {:.1} s after SIGKILL: {reason:?}",
            i + 1,
            after.as_secs_f64()
        );
        let reason = reason.unwrap_or_default();
        assert!(reason.contains("DPD"), "tunnel{}: {reason}", i + 1);
        // dpd_timeout 30 s after the last datagram heard, which is at most
        // a DPD/keepalive interval before the kill.
        assert!(
            after >= Duration::from_secs(19) && after <= Duration::from_secs(45),
            "tunnel{}: {after:?}",
            i + 1
        );
        let view = vgw_tunnel(&up.cloud, i + 1);
        println!("tunnel{}: VGW last error: {:?}", i + 1, view.last_error);
        assert!(!view.ipsec_up);
        assert_eq!(vgw_status(&up.cloud, i + 1).1, "IPSEC IS DOWN");
        assert!(
            view.last_error
                .as_deref()
                .is_some_and(|e| e.contains("declaring peer dead")),
            "{view:?}"
        );
    }
    let gone = up.lab.wait(
        "the VPC loses 172.16.0.0/16",
        Duration::from_secs(10),
        || {
            if vpc_has(&up.cloud, "172.16.0.0/16") {
                Err("still there".to_string())
            } else {
                Ok(killed.elapsed())
            }
        },
    );
    println!(
        "VPC without FRR's prefix {:.1} s after SIGKILL",
        gone.as_secs_f64()
    );
    for line in log_since(offset)
        .lines()
        .filter(|l| l.contains("IPsec") || l.contains("DPD") || l.contains("dead"))
    {
        println!("hybridlab: {line}");
    }
    let _ = std::io::stdout().flush();
}

// Unprivileged: the fixture and the generated configuration.

#[test]
fn fixture_parses_with_onprem_external_and_charon_conf_widens_only_the_remote_selector() {
    let (customer, topology) = topologies();
    assert_eq!(topology.external, [ROUTER]);
    assert_eq!(customer.sessions.len(), 2);
    assert!(!topology.expectations.is_empty());
    let conf = cgw_conf(&connection());
    assert_eq!(conf.matches("remote_ts = 0.0.0.0/0").count(), 2);
    assert!(conf.contains("local_ts = 169.254.10.0/30"));
    assert!(conf.contains("local_ts = 169.254.10.4/30"));
    for psk in PSK {
        assert!(conf.contains(psk));
    }
    let _: Option<Value> = None;
}
