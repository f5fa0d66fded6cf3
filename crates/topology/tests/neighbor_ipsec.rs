//! `ipsec = { ... }` on a plain external neighbour: the router initiates an
//! IPsec tunnel toward a real responder and its BGP session rides inside,
//! lowered like an emulated customer gateway's end of a VPN tunnel.

use hybridlab_topology::cloud::{TunnelOptions, TunnelRole};
use hybridlab_topology::{parse, NeighborKind, Topology, TopologyError};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// A router with one neighbour; `address` and `ipsec` are spliced in at
/// line 7 and 8.
fn lab(address: &str, ipsec: &str) -> String {
    format!(
        "[[router]]\nname = \"cgw\"\nasn = 65000\nrouter_id = \"192.0.2.1\"\nnetworks = [\"172.16.0.0/16\"]\n  [[router.neighbor]]\n  address = \"{address}\"\n  ipsec = {{ {ipsec} }}\n  remote_asn = 64512\n"
    )
}

const GOOD: &str = r#"psk = "reverse.tunnel_Secret", local_outside = "198.51.100.2", remote_outside = "198.51.100.1", inside = "169.254.10.2/30""#;

/// `  ipsec = { ` before the table's fields on line 8.
const LINE8_PREFIX: usize = 12;

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse("lab.toml", text) {
        Err(TopologyError::Invalid(d)) => d.iter().map(ToString::to_string).collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

fn assert_error(text: &str, at: &str, needle: &str) {
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&format!("lab.toml:{at}:")) && e.contains(needle)),
        "no error at {at} containing {needle:?} in {errs:#?}"
    );
}

#[test]
fn lowers_to_an_initiator_end_with_the_vpn_defaults() {
    let t = good(&lab("169.254.10.1", GOOD));
    let n = &t.routers[0].neighbors[0];
    assert_eq!(
        n.kind,
        NeighborKind::External {
            address: IpAddr::V4(Ipv4Addr::new(169, 254, 10, 1)),
            port: 179,
            local_address: None,
        }
    );
    assert_eq!(n.cloud_path, None);
    let end = n.tunnel.as_ref().expect("a tunnel end");
    assert_eq!(end.role, TunnelRole::Initiator);
    assert_eq!(end.local_outside, Ipv4Addr::new(198, 51, 100, 2));
    assert_eq!(end.remote_outside, Ipv4Addr::new(198, 51, 100, 1));
    assert_eq!(end.psk, "reverse.tunnel_Secret");
    assert_eq!(end.inside_local, Ipv4Addr::new(169, 254, 10, 2));
    assert_eq!(end.inside_remote, Ipv4Addr::new(169, 254, 10, 1));
    assert_eq!(end.inside_prefix_len, 30);
    assert!(end.vpc_cidrs.is_empty());
    assert_eq!(end.options, TunnelOptions::default());
}

#[test]
fn the_first_host_of_the_30_works_too_and_lifetimes_are_taken() {
    let ipsec = r#"psk = "reverse.tunnel_Secret", local_outside = "198.51.100.2", remote_outside = "198.51.100.1", inside = "169.254.10.1/30", phase1_lifetime = 3600, phase2_lifetime = 900, dpd_timeout = 30"#;
    let t = good(&lab("169.254.10.2", ipsec));
    let end = t.routers[0].neighbors[0]
        .tunnel
        .as_ref()
        .expect("a tunnel end");
    assert_eq!(end.inside_local, Ipv4Addr::new(169, 254, 10, 1));
    assert_eq!(end.inside_remote, Ipv4Addr::new(169, 254, 10, 2));
    assert_eq!(end.options.phase1_lifetime, Duration::from_secs(3600));
    assert_eq!(end.options.phase2_lifetime, Duration::from_secs(900));
    assert_eq!(end.options.dpd_timeout, Duration::from_secs(30));
    assert_eq!(
        end.options.rekey_margin,
        TunnelOptions::default().rekey_margin
    );
}

#[test]
fn a_plain_neighbor_has_no_tunnel() {
    let text = "[[router]]\nname = \"cgw\"\nasn = 65000\nrouter_id = \"192.0.2.1\"\n  [[router.neighbor]]\n  address = \"192.0.2.9\"\n  remote_asn = 64512\n";
    assert_eq!(good(text).routers[0].neighbors[0].tunnel, None);
}

#[test]
fn inside_must_be_a_host_of_a_30() {
    let with = |inside: &str| GOOD.replace("169.254.10.2/30", inside);
    let col = LINE8_PREFIX + GOOD.find("inside").unwrap() + "inside = ".len() + 1;
    assert_error(
        &lab("169.254.10.1", &with("169.254.10.0/30")),
        &format!("8:{col}"),
        "network or broadcast",
    );
    assert_error(
        &lab("169.254.10.2", &with("169.254.10.3/30")),
        &format!("8:{col}"),
        "network or broadcast",
    );
    assert_error(
        &lab("169.254.10.1", &with("169.254.10.2/29")),
        &format!("8:{col}"),
        "must be a /30",
    );
    assert_error(
        &lab("169.254.10.1", &with("169.254.10.2")),
        &format!("8:{col}"),
        "prefix length",
    );
}

#[test]
fn address_must_be_the_other_host() {
    assert_error(
        &lab("169.254.10.5", GOOD),
        "7:13",
        "other host of `inside` 169.254.10.2/30, 169.254.10.1",
    );
    assert_error(&lab("169.254.10.2", GOOD), "7:13", "169.254.10.1");
    assert_error(&lab("fe80::1", GOOD), "7:13", "IPv4 inside address");
}

#[test]
fn outside_addresses_must_differ_and_parse() {
    let same = GOOD.replace("\"198.51.100.1\"", "\"198.51.100.2\"");
    let col = LINE8_PREFIX + same.find("remote_outside").unwrap() + "remote_outside = ".len() + 1;
    assert_error(
        &lab("169.254.10.1", &same),
        &format!("8:{col}"),
        "distinct outside addresses",
    );
    let bad = GOOD.replace("\"198.51.100.2\"", "\"2001:db8::1\"");
    assert_error(
        &lab("169.254.10.1", &bad),
        "8",
        "not an IPv4 address for `local_outside`",
    );
}

#[test]
fn psk_lifetimes_and_kernel_only_options_are_checked() {
    let short = GOOD.replace("reverse.tunnel_Secret", "short");
    assert_error(&lab("169.254.10.1", &short), "8", "`psk` must be 8-64");
    let long = format!("{GOOD}, phase2_lifetime = 3600, phase1_lifetime = 1800");
    assert_error(&lab("169.254.10.1", &long), "8", "must be shorter than");
    let dpd = format!("{GOOD}, dpd_timeout = 10");
    assert_error(
        &lab("169.254.10.1", &dpd),
        "8",
        "`dpd_timeout` must be 30..=",
    );
    let unknown = format!("{GOOD}, ike_version = 2");
    assert_error(&lab("169.254.10.1", &unknown), "8", "ike_version");
    let bfd = lab("169.254.10.1", GOOD) + "  bfd = true\n";
    assert_error(&bfd, "10", "`bfd` does not apply");
    let md5 = lab("169.254.10.1", GOOD) + "  md5_password = \"x\"\n";
    assert_error(&md5, "10", "`md5_password` does not apply");
}

#[test]
fn ipsec_needs_an_address() {
    let text = "[[router]]\nname = \"a\"\nasn = 65000\nrouter_id = \"192.0.2.1\"\n  [[router.neighbor]]\n  router = \"b\"\n  ipsec = { psk = \"reverse.tunnel_Secret\", local_outside = \"198.51.100.2\", remote_outside = \"198.51.100.1\", inside = \"169.254.10.2/30\" }\n[[router]]\nname = \"b\"\nasn = 65001\nrouter_id = \"192.0.2.2\"\n  [[router.neighbor]]\n  router = \"a\"\n";
    assert_error(text, "7:11", "needs `address`");
}
