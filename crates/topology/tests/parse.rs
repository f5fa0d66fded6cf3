//! Topology files, good and bad. Bad ones must name the right line and
//! column, and say what is wrong.

use hybridlab_topology::{parse, Mode, NeighborKind, Topology, TopologyError};
use std::net::IpAddr;
use std::time::Duration;

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

/// The one error of a bad file, as `LINE:COL: message`.
fn bad(text: &str) -> String {
    match parse("lab.toml", text) {
        Ok(_) => panic!("expected an error"),
        Err(TopologyError::Invalid(d)) => {
            assert_eq!(d.len(), 1, "expected one error, got {d:?}");
            let d = &d[0];
            assert_eq!(d.file, "lab.toml");
            format!("{}:{}: {}", d.line, d.column, d.message)
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

const PAIR: &str = r#"
[lab]
name = "pair"
seed = 7

[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
networks = ["10.1.0.0/16", "2001:db8:1::/48"]

  [[router.neighbor]]
  router = "b"
  hold_time = 9
  export = ["out"]

[[router]]
name = "b"
asn = 4200000000
router_id = "10.0.0.2"

  [[router.neighbor]]
  router = "a"
  mode = "passive"
  local_address = "192.0.2.9"

[[policy]]
name = "out"
default = "reject"
  [[policy.term]]
  prefixes = ["10.0.0.0/8 le 24"]
  prepend = 3
  med = 200
"#;

#[test]
fn two_emulated_routers_pair_up() {
    let t = good(PAIR);
    assert_eq!(t.lab.name, "pair");
    assert_eq!(t.lab.seed, 7);
    assert_eq!(t.lab.api.to_string(), "127.0.0.1:50179");
    let a = &t.routers[0];
    let b = &t.routers[1];
    assert_eq!(b.asn, 4_200_000_000);
    let na = &a.neighbors[0];
    assert_eq!(na.name, "b");
    assert_eq!(
        na.remote_asn, 4_200_000_000,
        "remote_asn defaults to the far router's asn"
    );
    assert_eq!(na.hold_time, 9);
    assert_eq!(na.connect_retry, Duration::from_secs(5));
    assert_eq!(na.mode, Mode::Both);
    assert_eq!(b.neighbors[0].mode, Mode::Passive);
    let (NeighborKind::Emulated(la), NeighborKind::Emulated(lb)) = (&na.kind, &b.neighbors[0].kind)
    else {
        panic!("both sides are emulated");
    };
    assert_eq!((la.far_router, la.far_neighbor), (1, 0));
    assert_eq!((lb.far_router, lb.far_neighbor), (0, 0));
    assert_eq!(la.local_address, ip("100.127.0.1"));
    assert_eq!(la.remote_address, ip("192.0.2.9"));
    assert_eq!(lb.local_address, ip("192.0.2.9"));
    assert_eq!(lb.remote_address, ip("100.127.0.1"));
    let policy = t.policy("out").map(|p| p.terms[0].prepend);
    assert_eq!(policy, Some(3));
}

#[test]
fn parallel_links_pair_in_order() {
    let t = good(
        r#"
[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
  [[router.neighbor]]
  name = "dx"
  router = "onprem"
  [[router.neighbor]]
  name = "vpn"
  router = "onprem"

[[router]]
name = "onprem"
asn = 65000
router_id = "10.0.0.2"
  [[router.neighbor]]
  name = "cloud-dx"
  router = "cloud"
  [[router.neighbor]]
  name = "cloud-vpn"
  router = "cloud"
"#,
    );
    let far: Vec<(usize, usize)> = t.routers[0]
        .neighbors
        .iter()
        .filter_map(|n| match &n.kind {
            NeighborKind::Emulated(l) => Some((l.far_router, l.far_neighbor)),
            NeighborKind::External { .. } => None,
        })
        .collect();
    assert_eq!(far, [(1, 0), (1, 1)]);
    assert_eq!(t.lab.name, "lab", "name defaults to the file stem");
}

#[test]
fn external_neighbor_with_everything() {
    let t = good(
        r#"
[lab]
api = "127.0.0.1:6000"
jitter = false

[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
listen = ["127.0.0.1:1179", "[::1]:1179"]
  [[router.neighbor]]
  name = "frr"
  address = "127.0.0.2"
  port = 2179
  local_address = "127.0.0.1"
  remote_asn = 65000
  md5_password = "s3cret"
  ttl = 2
  hold_time = 0
  connect_retry = 1
  families = ["ipv4-unicast"]
  next_hop6 = "2001:db8::1"
  max_prefix = { limit = 100, restart_after = 30 }
"#,
    );
    assert!(!t.lab.jitter);
    let n = &t.routers[0].neighbors[0];
    assert_eq!(
        n.kind,
        NeighborKind::External {
            address: ip("127.0.0.2"),
            port: 2179,
            local_address: Some(ip("127.0.0.1")),
        }
    );
    assert_eq!(n.ttl, 2);
    assert_eq!(n.hold_time, 0);
    assert_eq!(n.md5_password.as_deref(), Some("s3cret"));
    assert_eq!(
        n.max_prefix.map(|m| (m.limit, m.restart_after)),
        Some((100, Some(Duration::from_secs(30))))
    );
    assert_eq!(t.routers[0].listen.len(), 2);
}

#[test]
fn unknown_field_is_named() {
    let msg = bad("[[router]]\nname = \"a\"\nasn = 1\nrouter_id = \"1.1.1.1\"\nhold = 3\n");
    assert!(msg.starts_with("5:1: unknown field `hold`"), "{msg}");
}

#[test]
fn missing_field_is_named() {
    let msg = bad("[[router]]\nname = \"a\"\nasn = 1\n");
    assert!(msg.starts_with("1:1: missing field `router_id`"), "{msg}");
}

#[test]
fn toml_syntax_error_has_a_position() {
    let msg = bad("[lab]\nname = \n");
    assert!(msg.starts_with("2:"), "{msg}");
}

const ROUTER_A: &str = "[[router]]\nname = \"a\"\nasn = 1\nrouter_id = \"1.1.1.1\"\n";

#[test]
fn duplicate_router_name() {
    let text = format!("{ROUTER_A}{ROUTER_A}");
    assert_eq!(
        bad(&text),
        "6:8: router `a` is defined twice (first on line 2)"
    );
}

#[test]
fn neighbor_referring_to_unknown_router() {
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  router = \"r3\"\n");
    assert_eq!(
        bad(&text),
        "6:12: router `r3` in neighbor of `a` is not defined"
    );
}

#[test]
fn emulated_neighbor_declared_on_one_side_only() {
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  router = \"b\"\n[[router]]\nname = \"b\"\nasn = 2\nrouter_id = \"2.2.2.2\"\n");
    let msg = bad(&text);
    assert!(
        msg.starts_with("6:12: `a` names `b` as a neighbor but `b` has no matching neighbor"),
        "{msg}"
    );
}

#[test]
fn external_neighbor_without_remote_asn() {
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n");
    assert_eq!(
        bad(&text),
        "5:3: external neighbor 192.0.2.2 of `a` needs `remote_asn`"
    );
}

#[test]
fn hold_time_one_or_two() {
    for h in [1, 2] {
        let text = format!("{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n  remote_asn = 2\n  hold_time = {h}\n");
        assert_eq!(
            bad(&text),
            "8:15: `hold_time` must be 0 or at least 3 seconds (RFC 4271 §4.2)"
        );
    }
}

#[test]
fn bad_prefix_in_networks() {
    let text = "[[router]]\nname = \"a\"\nasn = 1\nrouter_id = \"1.1.1.1\"\nnetworks = [\"10.0.0.0/8\", \"10.0.0.1/8\"]\n";
    assert_eq!(
        bad(text),
        "5:27: `10.0.0.1/8` has host bits set; did you mean `10.0.0.0/8`?"
    );
    let text = "[[router]]\nname = \"a\"\nasn = 1\nrouter_id = \"1.1.1.1\"\nnetworks = [\"10.0.0.0/33\"]\n";
    assert!(bad(text).starts_with("5:13: `10.0.0.0/33` is not a prefix"));
}

#[test]
fn bad_policy_strings() {
    let text = "[[policy]]\nname = \"p\"\n  [[policy.term]]\n  prefixes = [\"10.0.0.0/8 le 4\"]\n";
    assert!(
        bad(text).starts_with("4:15: bad prefix-list entry: `10.0.0.0/8 le 4`"),
        "{}",
        bad(text)
    );
    let text = "[[policy]]\nname = \"p\"\n  [[policy.term]]\n  communities = [\"65000\"]\n";
    assert!(
        bad(text).starts_with("4:18: community `65000` is not ASN:VALUE"),
        "{}",
        bad(text)
    );
    let text = "[[policy]]\nname = \"p\"\n  [[policy.term]]\n  action = \"drop\"\n";
    assert!(
        bad(text).starts_with("4:12: action `drop` is neither `accept` nor `reject`"),
        "{}",
        bad(text)
    );
}

#[test]
fn unknown_policy_name() {
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n  remote_asn = 2\n  import = [\"nope\"]\n");
    assert_eq!(
        bad(&text),
        "8:13: import policy `nope` of a neighbor of `a` is not defined"
    );
}

#[test]
fn duplicate_listen_address() {
    let text = "[[router]]\nname = \"a\"\nasn = 1\nrouter_id = \"1.1.1.1\"\nlisten = [\"127.0.0.1:179\"]\n[[router]]\nname = \"b\"\nasn = 2\nrouter_id = \"2.2.2.2\"\nlisten = [\"127.0.0.1:179\"]\n";
    assert_eq!(
        bad(text),
        "10:11: listen address 127.0.0.1:179 is used twice (first on line 5)"
    );
}

#[test]
fn out_of_range_numbers() {
    let text = "[[router]]\nname = \"a\"\nasn = 0\nrouter_id = \"1.1.1.1\"\n";
    assert_eq!(bad(text), "3:7: `asn` must be 1..=4294967295, not 0");
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n  remote_asn = 2\n  ttl = 256\n");
    assert_eq!(bad(&text), "8:9: `ttl` must be 1..=255, not 256");
}

#[test]
fn passive_external_neighbor_needs_listen() {
    let text = format!("{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n  remote_asn = 2\n  mode = \"passive\"\n");
    assert_eq!(
        bad(&text),
        "8:10: passive neighbor 192.0.2.2 of `a` can only be reached if `a` has a `listen` address"
    );
}

#[test]
fn neighbor_names_must_be_distinct() {
    let text = format!(
        "{ROUTER_A}  [[router.neighbor]]\n  address = \"192.0.2.2\"\n  remote_asn = 2\n  name = \"x\"\n  [[router.neighbor]]\n  address = \"192.0.2.3\"\n  remote_asn = 2\n  name = \"x\"\n"
    );
    assert!(
        bad(&text).starts_with("12:10: `a` has two neighbors named `x` (first on line 8)"),
        "{}",
        bad(&text)
    );
}

#[test]
fn every_error_is_reported_in_file_order() {
    let text = "[[router]]\nname = \"a\"\nasn = 0\nrouter_id = \"0.0.0.0\"\nnetworks = [\"x\"]\n";
    let Err(e) = parse("lab.toml", text) else {
        panic!("expected errors");
    };
    let lines: Vec<usize> = e.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert!(e.to_string().starts_with("lab.toml:3:7: "));
}

#[test]
fn both_sides_passive_is_refused() {
    let text = r#"
[[router]]
name = "a"
asn = 1
router_id = "1.1.1.1"
  [[router.neighbor]]
  router = "b"
  mode = "passive"
[[router]]
name = "b"
asn = 2
router_id = "2.2.2.2"
  [[router.neighbor]]
  router = "a"
  mode = "passive"
"#;
    assert_eq!(
        bad(text),
        "6:3: `a` and `b` are both passive on their link: neither would connect"
    );
}

#[test]
fn shipped_topologies_validate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../topologies");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.extension().is_some_and(|x| x == "toml") {
            if let Err(e) = hybridlab_topology::load(&path) {
                panic!("{e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no topology shipped in {}", dir.display());
}
