//! The strongSwan harness checked against itself: real strongSwan as the
//! customer gateway against a second strongSwan configured like an AWS
//! endpoint, no hybridlab involved. When these pass and a hybridlab IKE/ESP
//! interop test fails, the fault is hybridlab's, not the lab's.
//!
//! Interop tests need `HYBRIDLAB_INTEROP=1` and root (see
//! interop/strongswan/README.md); the parser and configuration tests run
//! everywhere.
//!
//! `HYBRIDLAB_SAVE_CAPTURES=1` makes the capture test refresh the committed
//! material in interop/strongswan/captures/.

mod common;

use common::strongswan::{
    add_inside_address, log_span_ms, parse_list_sas, parse_logged_hexdumps, parse_ping_received,
    parse_ping_rtt, swanctl_conf, tshark_fields, Charon, ChildSa, Dumpcap, ExchangeKeys, LogLevel,
    Side, VpnTunnel,
};
use common::{run_ok, veth, Lab, Link, Netns};
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Outside addresses: one veth on 198.51.100.0/24 (only in the lab's
/// namespaces). The CGW has one public address, each AWS tunnel endpoint
/// its own.
const CGW_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const AWS_OUTSIDE_1: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const AWS_OUTSIDE_2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 3);

/// Both tunnels of one VPN connection, AWS's parameters.
fn connection() -> [VpnTunnel; 2] {
    [
        VpnTunnel::aws_default(
            "tunnel1",
            CGW_OUTSIDE,
            AWS_OUTSIDE_1,
            Ipv4Addr::new(169, 254, 10, 0),
            "harness.psk.tunnel1.Abcdefgh",
        ),
        VpnTunnel::aws_default(
            "tunnel2",
            CGW_OUTSIDE,
            AWS_OUTSIDE_2,
            Ipv4Addr::new(169, 254, 10, 4),
            "harness.psk.tunnel2.Ijklmnop",
        ),
    ]
}

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/strongswan/captures")
}

// ---------------------------------------------------------------------------
// Unprivileged: configuration and parsers

#[test]
fn swanctl_conf_follows_the_aws_download() {
    let tunnels = connection();
    let cgw = swanctl_conf(Side::CustomerGateway, &tunnels);
    let aws = swanctl_conf(Side::Aws, &tunnels);
    for (side, text) in [("cgw", &cgw), ("aws", &aws)] {
        for line in [
            "version = 1",
            "aggressive = no",
            "proposals = aes128-sha1-modp1024",
            "esp_proposals = aes128-sha1-modp1024",
            // 28 800 s on the wire = reauth_time + over_time.
            "reauth_time = 25920s",
            "over_time = 2880s",
            // 3 600 s on the wire = life_time.
            "rekey_time = 3240s",
            "life_time = 3600s",
            "rand_time = 0s",
            "dpd_delay = 10s",
            "dpd_timeout = 30s",
            "auth = psk",
            "local_ts = 169.254.10.0/30",
            "remote_ts = 169.254.10.4/30",
            "secret = \"harness.psk.tunnel2.Ijklmnop\"",
        ] {
            assert!(text.contains(line), "{side}: no `{line}` in\n{text}");
        }
        assert_eq!(text.matches("connections {").count(), 2, "{side}");
    }
    for line in [
        "local_addrs = 198.51.100.2",
        "remote_addrs = 198.51.100.3",
        "start_action = start",
        "dpd_action = restart",
        "id-local = 198.51.100.2",
    ] {
        assert!(cgw.contains(line), "cgw: no `{line}` in\n{cgw}");
    }
    for line in [
        "local_addrs = 198.51.100.3",
        "remote_addrs = 198.51.100.2",
        "start_action = none",
        "dpd_action = clear",
        "replay_window = 1024",
    ] {
        assert!(aws.contains(line), "aws: no `{line}` in\n{aws}");
    }
    let t = &tunnels[1];
    assert_eq!(t.aws_inside(), Ipv4Addr::new(169, 254, 10, 5));
    assert_eq!(t.cgw_inside(), Ipv4Addr::new(169, 254, 10, 6));
}

/// `swanctl --list-sas --pretty` of strongSwan 5.9.8 with libipsec (one
/// tunnel, after three pings).
const LIST_SAS_PRETTY: &str = "\
list-sa event {
  tunnel1 {
    uniqueid = 3
    version = 1
    state = ESTABLISHED
    local-host = 198.51.100.2
    local-port = 4500
    local-id = 198.51.100.2
    remote-host = 198.51.100.1
    remote-port = 4500
    remote-id = 198.51.100.1
    initiator = yes
    initiator-spi = 174005b313eece9c
    responder-spi = b305686e00f8418c
    nat-remote = yes
    nat-any = yes
    encr-alg = AES_CBC
    encr-keysize = 128
    integ-alg = HMAC_SHA1_96
    prf-alg = PRF_HMAC_SHA1
    dh-group = MODP_1024
    established = 1
    reauth-time = 25919
    child-sas {
      tunnel1-3 {
        name = tunnel1
        uniqueid = 3
        reqid = 1
        state = INSTALLED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = c664cdd6
        spi-out = 1fee49db
        encr-alg = AES_CBC
        encr-keysize = 128
        integ-alg = HMAC_SHA1_96
        dh-group = MODP_1024
        bytes-in = 252
        packets-in = 3
        use-in = 1
        bytes-out = 252
        packets-out = 3
        use-out = 1
        rekey-time = 3239
        life-time = 3599
        install-time = 1
        local-ts = [
          169.254.10.0/30
        ]
        remote-ts = [
          169.254.10.0/30
        ]
      }
    }
  }
}
list-sas reply {
}
";

#[test]
fn list_sas_pretty_output_parses() {
    let sas = parse_list_sas(LIST_SAS_PRETTY).expect("parses");
    assert_eq!(sas.len(), 1);
    let ike = &sas[0];
    assert_eq!(ike.name, "tunnel1");
    assert_eq!(ike.version, 1);
    assert_eq!(ike.state, "ESTABLISHED");
    assert_eq!((ike.local_port, ike.remote_port), (4500, 4500));
    assert_eq!(ike.initiator_spi, "174005b313eece9c");
    assert!(ike.initiator && ike.nat_any);
    assert_eq!(ike.dh_group, "MODP_1024");
    assert_eq!(ike.reauth_time, Some(25919));
    let child = &ike.children[0];
    assert_eq!(child.name, "tunnel1");
    assert_eq!(child.state, "INSTALLED");
    assert!(child.encap);
    assert_eq!(
        (child.spi_in.as_str(), child.spi_out.as_str()),
        ("c664cdd6", "1fee49db")
    );
    assert_eq!((child.packets_in, child.bytes_out), (3, 252));
    assert_eq!(child.life_time, Some(3599));
    assert_eq!(child.local_ts, vec!["169.254.10.0/30".to_string()]);
    assert!(parse_list_sas("list-sa event {\n  x {\n").is_err());
    assert!(parse_list_sas("}\n").is_err());
    assert_eq!(parse_list_sas("list-sas reply {\n}\n"), Ok(Vec::new()));
}

#[test]
fn charon_hexdumps_parse_across_interleaved_threads() {
    let log = "\
11:40:08.101 14[IKE] SKEYID_e => 20 bytes @ 0x7f2cb8005c80
11:40:08.101 09[CFG] something else on another thread
11:40:08.101 14[IKE]    0: 16 48 7E 56 11 87 B1 BF 3F B5 92 D4 F9 00 DC A5  .H~V....?.......
11:40:08.101 09[CHD]   16: FF FF FF FF                                      ....
11:40:08.101 14[IKE]   16: B5 DF 85 92                                      ....
11:40:08.102 14[IKE] encryption key Ka => 16 bytes @ 0x7f2cb8005c80
11:40:08.102 14[IKE]    0: 16 48 7E 56 11 87 B1 BF 3F B5 92 D4 F9 00 DC A5  .H~V....?.......
11:40:08.102 14[IKE] truncated => 8 bytes @ 0x1
11:40:08.102 14[IKE] next line of the same thread
";
    let dumps = parse_logged_hexdumps(log);
    assert_eq!(dumps.len(), 2, "{dumps:?}");
    assert_eq!(dumps[0].0, "SKEYID_e");
    assert_eq!(
        common::strongswan::hex(&dumps[0].1),
        "16487e561187b1bf3fb592d4f900dca5b5df8592"
    );
    assert_eq!(dumps[1].0, "encryption key Ka");
    assert_eq!(dumps[1].1.len(), 16);
}

#[test]
fn ping_summary_parses() {
    let out = "3 packets transmitted, 3 received, 0% packet loss, time 2037ms\n\
               rtt min/avg/max/mdev = 0.566/0.731/0.998/0.190 ms\n";
    assert_eq!(parse_ping_rtt(out), Some((0.566, 0.731, 0.998)));
    assert_eq!(parse_ping_received(out), Some(3));
    let log = "11:59:59.990 12[IKE] initiating Main Mode IKE_SA tunnel1[1] to 198.51.100.1\n\
               12:00:00.004 07[IKE] CHILD_SA tunnel1{1} established with SPIs c1_i c2_o\n\
               12:00:00.031 09[IKE] CHILD_SA tunnel2{2} established with SPIs c3_i c4_o\n";
    assert_eq!(
        log_span_ms(log, "initiating Main Mode", "} established with SPIs"),
        Some(41)
    );
    assert_eq!(log_span_ms(log, "nothing", "established"), None);
}

// ---------------------------------------------------------------------------
// Interop: strongSwan against strongSwan

/// Two namespaces joined by a veth, the AWS-like charon running with both
/// tunnels configured; the test starts the CGW's charon itself.
struct Pair {
    aws_ns: Netns,
    cgw_ns: Netns,
    link: Link,
    aws: Charon,
    tunnels: [VpnTunnel; 2],
}

fn pair(lab: &Lab, level: LogLevel) -> Pair {
    pair_with(lab, level, connection())
}

fn pair_with(lab: &Lab, level: LogLevel, tunnels: [VpnTunnel; 2]) -> Pair {
    let aws_ns = lab.netns("aws");
    let cgw_ns = lab.netns("cgw");
    // veth index 1: 198.51.100.1 (aws side) and .2 (cgw side).
    let link = veth(&aws_ns, &cgw_ns, "to-cgw", "to-aws", 1);
    assert_eq!(link.a4, AWS_OUTSIDE_1.to_string());
    assert_eq!(link.b4, CGW_OUTSIDE.to_string());
    aws_ns.ip(&[
        "addr",
        "add",
        &format!("{AWS_OUTSIDE_2}/24"),
        "dev",
        &link.a_if,
    ]);
    for t in &tunnels {
        add_inside_address(&aws_ns, t.aws_inside());
    }
    let aws = Charon::start(lab, &aws_ns, "aws", level);
    aws.load(&swanctl_conf(Side::Aws, &tunnels));
    Pair {
        aws_ns,
        cgw_ns,
        link,
        aws,
        tunnels,
    }
}

/// Polls every 5 ms (finer than `Lab::wait`) until both tunnels are up at
/// the CGW; returns the time taken.
fn wait_both_up(lab: &Lab, cgw: &Charon, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(30);
    loop {
        let one = cgw.installed("tunnel1");
        let two = cgw.installed("tunnel2");
        if one.is_ok() && two.is_ok() {
            return since.elapsed();
        }
        if Instant::now() >= deadline {
            lab.fail(&format!("tunnels not up after 30 s: {one:?} / {two:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn child(charon: &Charon, name: &str) -> ChildSa {
    charon.installed(name).unwrap_or_else(|e| panic!("{e}")).1
}

#[test]
fn both_tunnels_of_a_connection_come_up_and_carry_pings() {
    let name = "both_tunnels_of_a_connection_come_up_and_carry_pings";
    if !common::interop_enabled(name) {
        return;
    }
    common::strongswan::require(name);
    let lab = Lab::new("swan2");
    let p = pair(&lab, LogLevel::Normal);
    for t in &p.tunnels {
        add_inside_address(&p.cgw_ns, t.cgw_inside());
    }
    let cgw = Charon::start(&lab, &p.cgw_ns, "cgw", LogLevel::Normal);

    // Loading the configuration starts both tunnels (start_action = start).
    let start = Instant::now();
    cgw.load(&swanctl_conf(Side::CustomerGateway, &p.tunnels));
    let took = wait_both_up(&lab, &cgw, start);
    eprintln!("FIGURE both tunnels established (load -> 2 CHILD SAs installed): {took:?}");
    let log = fs::read_to_string(&cgw.log).unwrap_or_default();
    if let Some(ms) = log_span_ms(&log, "initiating Main Mode", "} established with SPIs") {
        eprintln!(
            "FIGURE charon's log, first main mode sent -> last CHILD_SA established: {ms} ms"
        );
    }

    for t in &p.tunnels {
        let (ike, c) = cgw.installed(&t.name).unwrap_or_else(|e| lab.fail(&e));
        assert_eq!(ike.version, 1, "{ike:?}");
        assert!(ike.initiator, "{ike:?}");
        assert_eq!(
            (
                ike.encr_alg.as_str(),
                ike.encr_keysize,
                ike.integ_alg.as_str(),
                ike.dh_group.as_str()
            ),
            ("AES_CBC", 128, "HMAC_SHA1_96", "MODP_1024"),
            "{ike:?}"
        );
        // libipsec: NAT-T forced, IKE floated to 4500, ESP in UDP.
        assert_eq!((ike.local_port, ike.remote_port), (4500, 4500), "{ike:?}");
        assert!(ike.nat_any, "{ike:?}");
        assert!(c.encap, "{c:?}");
        assert_eq!((c.mode.as_str(), c.protocol.as_str()), ("TUNNEL", "ESP"));
        assert_eq!(c.dh_group, "MODP_1024", "PFS group 2: {c:?}");
        assert_eq!(c.local_ts, vec![t.inside_cidr()]);
        assert_eq!(c.remote_ts, vec![t.inside_cidr()]);
        // The responder agrees, with the same SPIs the other way round.
        let (aws_ike, aws_c) = p.aws.installed(&t.name).unwrap_or_else(|e| lab.fail(&e));
        assert!(!aws_ike.initiator);
        assert_eq!(
            (aws_c.spi_in.as_str(), aws_c.spi_out.as_str()),
            (c.spi_out.as_str(), c.spi_in.as_str())
        );
    }

    // Pings across each tunnel, from the CGW's inside address to AWS's.
    for t in &p.tunnels {
        let before = child(&cgw, &t.name);
        let out = p.cgw_ns.ping(t.cgw_inside(), t.aws_inside(), 50, "0.01");
        assert_eq!(parse_ping_received(&out), Some(50), "{}: {out}", t.name);
        let (min, avg, max) = parse_ping_rtt(&out).unwrap_or_default();
        eprintln!(
            "FIGURE ping RTT through libipsec, {}: min/avg/max = {min}/{avg}/{max} ms",
            t.name
        );
        let after = child(&cgw, &t.name);
        assert!(
            after.packets_out >= before.packets_out + 50,
            "{before:?} -> {after:?}"
        );
        assert!(
            after.packets_in >= before.packets_in + 50,
            "{before:?} -> {after:?}"
        );
        assert!(
            after.bytes_out > before.bytes_out,
            "{before:?} -> {after:?}"
        );
        let aws_after = child(&p.aws, &t.name);
        assert!(aws_after.packets_in >= 50, "{aws_after:?}");
    }
    // The other tunnel's counters stay put while one carries traffic:
    // selectors keep the tunnels apart.
    let idle = child(&cgw, "tunnel1");
    p.cgw_ns.ping(
        p.tunnels[1].cgw_inside(),
        p.tunnels[1].aws_inside(),
        5,
        "0.01",
    );
    assert_eq!(child(&cgw, "tunnel1").packets_out, idle.packets_out);

    let outside = p.cgw_ns.ping(CGW_OUTSIDE, AWS_OUTSIDE_1, 50, "0.01");
    if let Some((min, avg, max)) = parse_ping_rtt(&outside) {
        eprintln!("FIGURE ping RTT on the bare veth (outside addresses): {min}/{avg}/{max} ms");
    }
}

/// DPD as configured (AWS: delay 10 s, timeout 30 s; shortened here to
/// 1 s / 3 s): a silent cut makes the AWS-like side clear the tunnel and
/// the CGW restart it; when the cut heals the CGW brings it back by itself,
/// with new SAs.
#[test]
fn dpd_clears_at_aws_and_restarts_at_the_cgw_after_a_silent_cut() {
    let name = "dpd_clears_at_aws_and_restarts_at_the_cgw_after_a_silent_cut";
    if !common::interop_enabled(name) {
        return;
    }
    common::strongswan::require(name);
    let lab = Lab::new("swandpd");
    let mut tunnels = connection();
    for t in &mut tunnels {
        t.dpd_delay_s = 1;
        t.dpd_timeout_s = 3;
    }
    let p = pair_with(&lab, LogLevel::Normal, tunnels);
    let cgw = Charon::start_customer_gateway(&lab, &p.cgw_ns, &p.tunnels, LogLevel::Normal);
    wait_both_up(&lab, &cgw, Instant::now());
    let (before, _) = cgw.installed("tunnel1").unwrap_or_else(|e| lab.fail(&e));

    // Silent loss: drop on input at both ends (a drop on output would
    // return EPERM to charon, which is not silent).
    common::bfd::drop_input(&p.aws_ns, &p.link.a_if);
    common::bfd::drop_input(&p.cgw_ns, &p.link.b_if);
    let cut = Instant::now();
    lab.wait("AWS side clears tunnel1", Duration::from_secs(20), || {
        let sas = p.aws.list_sas()?;
        match sas.iter().find(|s| s.name == "tunnel1") {
            Some(s) => Err(format!("still {}", s.state)),
            None => Ok(()),
        }
    });
    eprintln!(
        "FIGURE DPD 1 s / 3 s: AWS side cleared after {:?}",
        cut.elapsed()
    );
    lab.wait("CGW restarts tunnel1", Duration::from_secs(20), || {
        let sas = cgw.list_sas()?;
        match sas.iter().find(|s| s.name == "tunnel1") {
            Some(s) if s.initiator_spi != before.initiator_spi => Ok(()),
            Some(s) => Err(format!("same IKE SA, {}", s.state)),
            None => Err("no IKE SA".into()),
        }
    });
    eprintln!(
        "FIGURE DPD 1 s / 3 s: CGW re-initiating after {:?}",
        cut.elapsed()
    );

    common::bfd::undrop_input(&p.aws_ns);
    common::bfd::undrop_input(&p.cgw_ns);
    let healed = Instant::now();
    let (after, _) = cgw.wait_installed(&lab, "tunnel1", Duration::from_secs(40));
    eprintln!(
        "FIGURE tunnel1 back {:?} after the cut healed",
        healed.elapsed()
    );
    assert_ne!(after.initiator_spi, before.initiator_spi);
    // DPD's outcome: both ends on one new CHILD SA, the SPIs crossing. A
    // ping through it is not asserted here: kernel-libipsec sometimes
    // leaves the re-established SA without its table-220 route when the old
    // CHILD SA is destroyed after the new one installs (seen once in CI:
    // SPIs agreeing, 0 bytes in), a strongSwan matter this harness test
    // does not own; the hybridlab tests ping through re-established
    // tunnels themselves.
    lab.wait(
        "both ends to agree on tunnel1's SPIs",
        Duration::from_secs(20),
        || {
            let (_, c) = cgw.installed("tunnel1")?;
            let (_, a) = p.aws.installed("tunnel1")?;
            if c.spi_out == a.spi_in && c.spi_in == a.spi_out {
                Ok(())
            } else {
                Err(format!(
                    "cgw {}/{} aws {}/{}",
                    c.spi_in, c.spi_out, a.spi_in, a.spi_out
                ))
            }
        },
    );
}

/// One proposal set to capture, and what tshark must then read.
struct Suite {
    /// File stem under interop/strongswan/captures/.
    stem: &'static str,
    ike: &'static str,
    esp: &'static str,
    /// Phase-1 attributes: encryption algorithm, key length, hash, auth
    /// method, group, life duration (IKE attribute codes, RFC 2409 App. A).
    phase1: [&'static str; 6],
    /// Quick-mode attributes: encapsulation mode, group, life duration.
    phase2: [&'static str; 3],
    esp_encryption: &'static str,
    esp_integrity: &'static str,
}

/// AWS's default, as in the downloadable configuration.
const AWS_DEFAULT: Suite = Suite {
    stem: "ikev1-main-quick-aes128-sha1-modp1024",
    ike: "aes128-sha1-modp1024",
    esp: "aes128-sha1-modp1024",
    phase1: ["7", "128", "2", "1", "2", "28800"],
    phase2: ["3", "2", "3600"],
    esp_encryption: "",
    esp_integrity: "",
};

/// The stronger set AWS also accepts (AES-256, SHA2-256, group 14):
/// vectors for hybridlab's AES-256 / HMAC-SHA2-256-128 / MODP-2048 paths.
const AES256_SHA256_MODP2048: Suite = Suite {
    stem: "ikev1-main-quick-aes256-sha256-modp2048",
    ike: "aes256-sha256-modp2048",
    esp: "aes256-sha256-modp2048",
    phase1: ["7", "256", "4", "1", "14", "28800"],
    phase2: ["3", "14", "3600"],
    esp_encryption: common::strongswan::TSHARK_AES_CBC,
    esp_integrity: common::strongswan::TSHARK_HMAC_SHA256_128,
};

#[test]
fn ikev1_exchange_capture_decrypts_with_logged_keys() {
    capture_and_decrypt(
        "ikev1_exchange_capture_decrypts_with_logged_keys",
        &AWS_DEFAULT,
    );
}

#[test]
fn ikev1_aes256_sha256_modp2048_capture_decrypts_with_logged_keys() {
    capture_and_decrypt(
        "ikev1_aes256_sha256_modp2048_capture_decrypts_with_logged_keys",
        &AES256_SHA256_MODP2048,
    );
}

/// Brings both tunnels up with `suite`'s proposals, then captures tunnel 1
/// coming up again alone (terminate, initiate, 3 pings) on the CGW's veth,
/// takes the keys from the CGW's level-4 log and checks that tshark reads
/// everything. `HYBRIDLAB_SAVE_CAPTURES=1` keeps the material in
/// interop/strongswan/captures/.
fn capture_and_decrypt(name: &str, suite: &Suite) {
    if !common::interop_enabled(name) {
        return;
    }
    common::strongswan::require(name);
    let lab = Lab::new("swancap");
    let mut tunnels = connection();
    for t in &mut tunnels {
        t.ike_proposal = suite.ike.to_string();
        t.esp_proposal = suite.esp.to_string();
    }
    let p = pair_with(&lab, LogLevel::Secrets, tunnels);
    let cgw = Charon::start_customer_gateway(&lab, &p.cgw_ns, &p.tunnels, LogLevel::Secrets);
    wait_both_up(&lab, &cgw, Instant::now());

    cgw.terminate("tunnel1").unwrap_or_else(|e| lab.fail(&e));
    lab.wait("tunnel1 gone at aws", Duration::from_secs(10), || {
        match p.aws.installed("tunnel1") {
            Ok(_) => Err("still up".into()),
            Err(_) => Ok(()),
        }
    });
    let dir = lab.subdir("capture");
    let offset = cgw.log_offset();
    let t = &p.tunnels[0];
    let filter = format!("host {} and (udp port 500 or udp port 4500)", t.aws_outside);
    let cap = Dumpcap::start(
        &lab,
        &p.cgw_ns,
        &p.link.b_if,
        &filter,
        &dir.join("exchange.pcap"),
    );
    cgw.initiate("tunnel1").unwrap_or_else(|e| lab.fail(&e));
    let out = p.cgw_ns.ping(t.cgw_inside(), t.aws_inside(), 3, "0.05");
    assert_eq!(parse_ping_received(&out), Some(3), "{out}");
    let pcap = cap.stop();

    let (ike, c) = cgw.installed("tunnel1").unwrap_or_else(|e| lab.fail(&e));
    let log = cgw.log_since(offset);
    let keys = ExchangeKeys {
        initiator_addr: t.cgw_outside.to_string(),
        responder_addr: t.aws_outside.to_string(),
        psk: t.psk.clone(),
        initiator_cookie: ike.initiator_spi.clone(),
        responder_cookie: ike.responder_spi.clone(),
        dumps: ExchangeKeys::from_log(&log).unwrap_or_else(|e| lab.fail(&e)),
        spi_i2r: c.spi_out.clone(),
        spi_r2i: c.spi_in.clone(),
        esp_encryption: suite.esp_encryption.to_string(),
        esp_integrity: suite.esp_integrity.to_string(),
    };
    check_capture_decrypts(&pcap, &keys, suite, 3);

    if std::env::var_os("HYBRIDLAB_SAVE_CAPTURES").is_some_and(|v| v == "1") {
        let out = captures_dir();
        let stem = suite.stem;
        fs::create_dir_all(&out).expect("captures dir");
        let kept = out.join(format!("{stem}.pcap"));
        fs::copy(&pcap, &kept).expect("copy pcap");
        // dumpcap creates its file 0600; the repository copy is for everyone.
        fs::set_permissions(&kept, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .expect("chmod pcap");
        fs::write(out.join(format!("{stem}.keys")), keys.to_text()).expect("keys");
        fs::write(out.join(format!("{stem}.charon.log")), &log).expect("log");
        eprintln!("saved capture material in {}", out.display());
    }
}

/// The committed captures still decrypt with the committed keys (and so
/// are usable as known-answer material).
#[test]
fn committed_captures_decrypt_with_their_keys() {
    let name = "committed_captures_decrypt_with_their_keys";
    if !common::interop_enabled(name) {
        return;
    }
    common::strongswan::require(name);
    let dir = captures_dir();
    for suite in [&AWS_DEFAULT, &AES256_SHA256_MODP2048] {
        let stem = suite.stem;
        let text = fs::read_to_string(dir.join(format!("{stem}.keys"))).expect("keys file");
        let keys = ExchangeKeys::from_text(&text).expect("keys parse");
        check_capture_decrypts(&dir.join(format!("{stem}.pcap")), &keys, suite, 3);
    }
}

/// Main mode (6 messages, 5 and 6 encrypted), quick mode (3, encrypted)
/// and `pings` echo pairs in ESP-in-UDP, all readable with the keys.
fn check_capture_decrypts(pcap: &Path, keys: &ExchangeKeys, suite: &Suite, pings: usize) {
    let opts = keys.tshark_options();
    let rows = |filter: &str, fields: &[&str]| {
        tshark_fields(pcap, &opts, filter, fields).unwrap_or_else(|e| panic!("{e}"))
    };
    let mm = rows("isakmp.exchangetype == 2", &["frame.number"]);
    assert_eq!(mm.len(), 6, "main mode messages: {mm:?}");
    let qm = rows("isakmp.exchangetype == 32", &["frame.number"]);
    assert_eq!(qm.len(), 3, "quick mode messages: {qm:?}");
    // Phase-1 proposal (cleartext in MM1/MM2).
    let p1 = rows(
        "isakmp.ike.attr.life_duration",
        &[
            "isakmp.ike.attr.encryption_algorithm",
            "isakmp.ike.attr.key_length",
            "isakmp.ike.attr.hash_algorithm",
            "isakmp.ike.attr.authentication_method",
            "isakmp.ike.attr.group_description",
            "isakmp.ike.attr.life_duration",
        ],
    );
    assert_eq!(p1.len(), 2, "MM1 and MM2 carry the SA: {p1:?}");
    for r in &p1 {
        assert_eq!(r, &suite.phase1, "{p1:?}");
    }
    // Decrypted MM5/MM6: the IDs are the outside addresses.
    let ids = rows(
        "isakmp.exchangetype == 2 && isakmp.id.data.ipv4_addr",
        &["isakmp.id.data.ipv4_addr"],
    );
    assert_eq!(
        ids.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        vec![keys.initiator_addr.as_str(), keys.responder_addr.as_str()],
        "MM5/MM6 decrypted"
    );
    // Decrypted quick mode: UDP-encapsulated tunnel, PFS group, 3 600 s.
    let p2 = rows(
        "isakmp.ipsec.attr.life_duration",
        &[
            "isakmp.ipsec.attr.encap_mode",
            "isakmp.ipsec.attr.group_description",
            "isakmp.ipsec.attr.life_duration",
        ],
    );
    assert_eq!(p2.len(), 2, "QM1 and QM2 decrypted: {p2:?}");
    for r in &p2 {
        assert_eq!(r, &suite.phase2, "{p2:?}");
    }
    // ESP in UDP 4500, decrypted and authenticated.
    let esp = rows("esp", &["esp.spi", "esp.icv_good", "icmp.type"]);
    assert_eq!(esp.len(), 2 * pings, "{esp:?}");
    for r in &esp {
        assert_eq!(r[1], "1", "ICV checks: {esp:?}");
        assert!(r[2] == "8" || r[2] == "0", "decrypted ICMP: {esp:?}");
    }
}

/// strongSwan's userspace ESP (libipsec) throughput, the figure hybridlab's
/// ESP benchmark compares against. By hand:
/// `HYBRIDLAB_INTEROP=1 cargo test --test interop_strongswan_harness -- --ignored --nocapture`
/// (needs iperf3).
#[test]
#[ignore = "benchmark: run by hand, needs iperf3"]
fn strongswan_userspace_esp_baseline() {
    let name = "strongswan_userspace_esp_baseline";
    if !common::interop_enabled(name) {
        return;
    }
    common::strongswan::require(name);
    assert!(
        Path::new("/usr/bin/iperf3").exists(),
        "apt-get install -y iperf3"
    );
    let lab = Lab::new("swanbench");
    let p = pair(&lab, LogLevel::Normal);
    let t = p.tunnels[0].clone();
    let cgw = Charon::start_customer_gateway(&lab, &p.cgw_ns, &p.tunnels[..1], LogLevel::Normal);
    cgw.wait_installed(&lab, "tunnel1", Duration::from_secs(20));

    let dir = lab.subdir("iperf");
    let mut server = p.aws_ns.command("iperf3");
    server.args(["-s", "-B", &t.aws_inside().to_string()]);
    let _server = common::Daemon::spawn(&lab, "iperf3 server", server, &dir.join("server.log"));
    std::thread::sleep(Duration::from_millis(300));

    let client = |args: &[&str]| -> serde_json::Value {
        let out = run_ok(
            p.cgw_ns
                .command("iperf3")
                .args([
                    "-c",
                    &t.aws_inside().to_string(),
                    "-B",
                    &t.cgw_inside().to_string(),
                ])
                .arg("-J")
                .args(args),
        );
        serde_json::from_slice(&out.stdout).expect("iperf3 JSON")
    };
    let tcp = client(&["-t", "5"]);
    let bps = tcp["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or(0.0);
    eprintln!(
        "FIGURE libipsec TCP (1 stream, MSS from ipsec0 MTU 1400): {:.0} Mbit/s",
        bps / 1e6
    );
    // UDP with IP packet sizes 64 / 512 / 1400: payload = size - 20 (IPv4)
    // - 8 (UDP). First at full speed (what arrives is what libipsec
    // carried while the sender competes for the same 2 cores), then the
    // highest offered rate with under 1 % loss, by bisection.
    for size in [64u32, 512, 1400] {
        let payload = size - 28;
        let run = |rate_bps: u64, secs: &str| -> (f64, f64, f64) {
            let rate = rate_bps.to_string();
            let l = payload.to_string();
            let udp = client(&["-u", "-b", &rate, "-l", &l, "-t", secs]);
            let sum = &udp["end"]["sum"];
            let sent = sum["packets"].as_f64().unwrap_or(0.0);
            let lost = sum["lost_packets"].as_f64().unwrap_or(0.0);
            let secs = sum["seconds"].as_f64().unwrap_or(1.0).max(1e-3);
            (
                sent / secs,
                (sent - lost) / secs,
                sum["lost_percent"].as_f64().unwrap_or(100.0),
            )
        };
        // CPU cost per packet, less sensitive to the machine's load than
        // rates: a fixed 5 000 packets/s for 4 s (well below saturation),
        // each charon's user + system time over the packets that arrived.
        let ticks = (cpu_ticks(cgw.pid()), cpu_ticks(p.aws.pid()));
        let (_, received, lost) = run(5_000 * u64::from(payload) * 8, "4");
        let after = (cpu_ticks(cgw.pid()), cpu_ticks(p.aws.pid()));
        let per_packet_us = |before: u64, after: u64| {
            (after - before) as f64 / clock_ticks_per_second() * 1e6 / (received * 4.0).max(1.0)
        };
        eprintln!(
            "FIGURE libipsec CPU per {size} B packet at 5 kpps ({lost:.1} % lost): \
             sender charon {:.1} us, receiver charon {:.1} us",
            per_packet_us(ticks.0, after.0),
            per_packet_us(ticks.1, after.1)
        );
        let (sent, received, lost) = run(0, "5");
        eprintln!(
            "FIGURE libipsec UDP {size} B, unlimited: {received:.0} packets/s received \
             = {:.1} Mbit/s of IP ({sent:.0} sent/s, {lost:.1} % lost)",
            received * f64::from(size) * 8.0 / 1e6
        );
        let (mut lo, mut hi) = (0f64, sent.max(received * 2.0));
        for _ in 0..7 {
            let mid = (lo + hi) / 2.0;
            let (_, _, lost) = run((mid * f64::from(payload) * 8.0) as u64, "3");
            if lost < 1.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        eprintln!(
            "FIGURE libipsec UDP {size} B, under 1 % loss: {lo:.0} packets/s = {:.1} Mbit/s of IP",
            lo * f64::from(size) * 8.0 / 1e6
        );
    }
    let c = child(&cgw, "tunnel1");
    eprintln!("counters after: {c:?}");
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average during the run: {load}");
}

/// utime + stime of a process (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may
    // contain spaces: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
