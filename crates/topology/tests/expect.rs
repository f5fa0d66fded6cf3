//! `[[expect]]`: the three kinds parse into checks against the lowered lab;
//! each mistake is reported at its line and column.

use hybridlab_topology::expect::{Check, Expectation};
use hybridlab_topology::{parse, parse_with, ParseOptions, Topology, TopologyError};

const SHIPPED_FILE: &str = include_str!("../../../topologies/dx-with-vpn-backup.toml");

/// The shipped lab without its own `[[expect]]`s, which come last: the base
/// these tests add expectations to.
fn shipped() -> &'static str {
    SHIPPED_FILE
        .split_once("\n[[expect]]")
        .map_or(SHIPPED_FILE, |(lab, _)| lab)
}

/// The shipped lab, then `extra`.
fn with(extra: &str) -> String {
    format!("{}{extra}", shipped())
}

/// The line of `with(extra)` where the first line of `extra` holding
/// `needle` is.
fn line(extra: &str, needle: &str) -> usize {
    let at = extra.lines().position(|l| l.contains(needle));
    shipped().lines().count() + 1 + at.unwrap_or_else(|| panic!("no {needle} in {extra}"))
}

/// Every error of the shipped lab followed by `extra`.
fn bad(extra: &str) -> Vec<String> {
    errors(parse("lab.toml", &with(extra)))
}

/// `LINE:COL: message`, the line being where `needle` is in `extra`.
fn at(extra: &str, needle: &str, column: usize, message: &str) -> String {
    format!("{}:{column}: {message}", line(extra, needle))
}

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

/// Every error, as `LINE:COL: message`.
fn errors(result: Result<Topology, TopologyError>) -> Vec<String> {
    match result {
        Err(TopologyError::Invalid(d)) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

fn ip<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    match s.parse() {
        Ok(a) => a,
        Err(e) => panic!("{s}: {e:?}"),
    }
}

const FOUR: &str = r#"
[[expect]]
description = "prod reaches the office over DX"
node = "prod"
prefix = "172.16.0.0/16"
via = "vgw1"
origin = "propagated"
rule = "source_preference"
[[expect]]
node = "onprem"
prefix = "10.0.0.0/16"
as_path = [64512]
med = 100
origin = "igp"
communities = ["7224:7100", "no-export"]
[[expect]]
node = "vgw1"
peer = "backup/tunnel1"
state = "Established"
[[expect]]
trace = { from = "prod", to = "172.16.1.1" }
path = ["prod", "vgw1", "primary", "onprem"]
[[expect]]
node = "prod/private"
prefix = "192.168.0.0/16"
absent = true
[[expect]]
node = "onprem"
peer = "primary"
state = "Idle"
idle_reason = "prefix limit"
[[expect]]
trace = { from = "prod", to = "2001:db8::1" }
delivered = false
"#;

#[test]
fn the_three_kinds_parse() {
    let t = good(&with(FOUR));
    let got: Vec<&str> = t.expectations.iter().map(|e| e.at.as_str()).collect();
    let base = line(FOUR, "[[expect]]");
    let want: Vec<String> = FOUR
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[expect]]")
        .map(|(i, _)| format!("lab.toml:{}", base - 1 + i))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        t.expectations[0],
        Expectation {
            at: want[0].clone(),
            description: Some("prod reaches the office over DX".into()),
            check: Check::Route {
                node: "prod".into(),
                prefix: ip("172.16.0.0/16"),
                present: true,
                via: Some("vgw1".into()),
                as_path: None,
                med: None,
                rule: Some("source_preference".into()),
                origin: Some("propagated".into()),
                communities: None,
            },
        }
    );
    assert_eq!(
        t.expectations[1].check,
        Check::Route {
            node: "onprem".into(),
            prefix: ip("10.0.0.0/16"),
            present: true,
            via: None,
            as_path: Some(vec![64512]),
            med: Some(100),
            rule: None,
            origin: Some("igp".into()),
            communities: Some(vec!["7224:7100".into(), "no-export".into()]),
        }
    );
    assert_eq!(
        t.expectations[2].check,
        Check::Session {
            node: "vgw1".into(),
            peer: "backup/tunnel1".into(),
            state: "Established".into(),
            idle_reason: None,
        }
    );
    assert_eq!(
        t.expectations[3].check,
        Check::Trace {
            from: "prod".into(),
            to: ip("172.16.1.1"),
            path: ["prod", "vgw1", "primary", "onprem"]
                .map(String::from)
                .to_vec(),
            delivered: None,
        }
    );
    assert!(matches!(
        &t.expectations[4].check,
        Check::Route { node, present: false, .. } if node == "prod/private"
    ));
    assert!(matches!(
        &t.expectations[5].check,
        Check::Session { idle_reason: Some(r), .. } if r == "prefix limit"
    ));
    assert!(matches!(
        &t.expectations[6].check,
        Check::Trace { path, delivered: Some(false), .. } if path.is_empty()
    ));
}

#[test]
fn a_lab_without_expectations_has_none() {
    assert!(good(shipped()).expectations.is_empty());
}

#[test]
fn unknown_keys_are_refused_at_the_key() {
    let e = "\n[[expect]]\nnode = \"prod\"\nnexthop = \"vgw1\"\n";
    assert_eq!(
        bad(e),
        [at(e, "nexthop", 1, "unknown field `nexthop`, expected one of `description`, `node`, `prefix`, `absent`, `via`, `as_path`, `med`, `rule`, `origin`, `communities`, `peer`, `state`, `idle_reason`, `trace`, `path`, `delivered`, `tunnel`, `status`, `status_message`")]
    );
}

#[test]
fn exactly_one_kind() {
    let e = "\n[[expect]]\nnode = \"prod\"\n";
    assert_eq!(
        bad(e),
        [at(e, "[[expect]]", 1, "[[expect]] needs one of `prefix` (a route), `peer` (a session), `trace` (a packet's path) or `tunnel` (a VPN tunnel's status)")]
    );
    let e = "\n[[expect]]\nnode = \"vgw1\"\nprefix = \"10.0.0.0/16\"\npeer = \"primary\"\n";
    assert_eq!(
        bad(e),
        [at(e, "peer", 8, "[[expect]] checks one thing: `prefix` and `peer` cannot go together; write two [[expect]]s")]
    );
    let e = "\n[[expect]]\nnode = \"vgw1\"\npeer = \"primary\"\nstate = \"Idle\"\nvia = \"x\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "via",
            7,
            "`via` does not belong in a session expectation (`peer`)"
        )]
    );
    let e = "\n[[expect]]\ntrace = { from = \"prod\", to = \"10.0.0.1\" }\nnode = \"prod\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "node",
            8,
            "`node` does not belong in a trace expectation (`trace`)"
        )]
    );
}

#[test]
fn nodes_must_exist() {
    let route = |node: &str| format!("\n[[expect]]\nnode = \"{node}\"\nprefix = \"10.0.0.0/16\"\n");
    let e = route("nowhere");
    assert_eq!(
        bad(&e),
        [at(
            &e,
            "node",
            8,
            "`nowhere` is not a VPC, VPC/TABLE, VGW, DX gateway or [[router]] of this lab"
        )]
    );
    let e = route("prod/public");
    assert_eq!(
        bad(&e),
        [at(
            &e,
            "node",
            8,
            "VPC `prod` has no route table named `public`"
        )]
    );
    for ok in ["prod", "prod/private", "vgw1", "onprem"] {
        good(&with(&route(ok)));
    }
    let external = |text: &str| {
        parse_with(
            "lab.toml",
            &with(text),
            &ParseOptions {
                external: vec!["onprem".into()],
            },
        )
    };
    // A real router's table is read from it; its sessions are not.
    let e = route("onprem");
    assert!(external(&e).is_ok_and(|t| t.expectations.len() == 1));
    let e = "\n[[expect]]\nnode = \"onprem\"\npeer = \"primary\"\nstate = \"Established\"\n";
    assert_eq!(
        errors(external(e)),
        [at(
            e,
            "node",
            8,
            "`onprem` is external: a real router, whose sessions the lab cannot see; expect them on the cloud's side"
        )]
    );
}

#[test]
fn session_peer_is_a_neighbor_of_the_node_after_lowering() {
    let session = |node: &str, peer: &str, rest: &str| {
        format!("\n[[expect]]\nnode = \"{node}\"\npeer = \"{peer}\"\n{rest}")
    };
    let e = session("vgw1", "backup/tunnel3", "state = \"Established\"\n");
    assert_eq!(
        bad(&e),
        [at(&e, "peer", 8, "`vgw1` has no neighbor named `backup/tunnel3`; it has backup/tunnel1, backup/tunnel2, primary")]
    );
    let e = session("prod", "primary", "state = \"Established\"\n");
    assert_eq!(
        bad(&e),
        [at(
            &e,
            "node",
            8,
            "`prod` is a VPC route table; sessions belong to a [[router]], a VGW or a DX gateway"
        )]
    );
    let e = session("vgw1", "primary", "state = \"Up\"\n");
    assert_eq!(
        bad(&e),
        [at(&e, "state", 9, "`Up` is not a session state: expected one of Idle, Connect, Active, OpenSent, OpenConfirm, Established")]
    );
    let e = session(
        "vgw1",
        "primary",
        "state = \"Established\"\nidle_reason = \"prefix limit\"\n",
    );
    assert_eq!(
        bad(&e),
        [at(
            &e,
            "idle_reason",
            15,
            "`idle_reason` goes with `state = \"Idle\"`"
        )]
    );
    let e = session("vgw1", "primary", "");
    assert_eq!(
        bad(&e),
        [at(
            &e,
            "[[expect]]",
            1,
            "[[expect]] of a session needs `state`"
        )]
    );
}

#[test]
fn route_values_are_checked() {
    let route = |node: &str, field: &str| {
        format!("\n[[expect]]\nnode = \"{node}\"\nprefix = \"10.0.0.0/16\"\n{field}\n")
    };
    let cases = [
        ("prod", "rule = \"fastest\"", 8, "`fastest` is not a rule: expected one of only_candidate, longest_prefix, local_route, static_over_propagated, source_preference, local_preference_community, shortest_as_path, lowest_med, primary_tunnel, lowest_name, flow_hash"),
        ("prod", "origin = \"igp\"", 10, "`igp` is not an origin of a VPC route: expected one of local, static, propagated"),
        ("vgw1", "origin = \"igp\"", 10, "`igp` is not an origin of a gateway's route: expected one of direct_connect, vpn_static, vpn_bgp"),
        ("onprem", "origin = \"vpn_bgp\"", 10, "`vpn_bgp` is not an origin of a BGP route: expected one of igp, egp, incomplete"),
        ("onprem", "as_path = [65000, 0]", 19, "`as_path` must be 1..=4294967295, not 0"),
        ("onprem", "med = -1", 7, "`med` must be 0..=4294967295, not -1"),
    ];
    for (node, field, column, message) in cases {
        let e = route(node, field);
        let key = field.split(' ').next().unwrap_or(field);
        assert_eq!(bad(&e), [at(&e, key, column, message)], "{field}");
    }
    let e = route("onprem", "communities = [\"7224:x\"]");
    let got = bad(&e);
    assert_eq!(got.len(), 1, "{got:?}");
    let prefix = format!("{}:16: ", line(&e, "communities"));
    assert!(got[0].starts_with(&prefix), "{got:?}");
    assert!(
        got[0].ends_with("(expected ASN:VALUE or a well-known name such as no-export)"),
        "{got:?}"
    );
    let e = "\n[[expect]]\nnode = \"prod\"\nprefix = \"10.0.0.1/16\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "prefix",
            10,
            "prefix `10.0.0.1/16` has host bits set; write 10.0.0.0/16"
        )]
    );
}

#[test]
fn attributes_only_describe_a_present_route() {
    let e = "\n[[expect]]\nnode = \"onprem\"\nprefix = \"10.0.0.0/16\"\nabsent = true\nvia = \"primary\"\nas_path = [64512]\n";
    assert_eq!(
        bad(e),
        [
            at(
                e,
                "via",
                7,
                "`via` describes a route that is there; drop it or `absent = true`"
            ),
            at(
                e,
                "as_path",
                11,
                "`as_path` describes a route that is there; drop it or `absent = true`"
            ),
        ]
    );
}

#[test]
fn trace_starts_in_a_vpc_and_goes_to_an_address() {
    let e = "\n[[expect]]\ntrace = { from = \"onprem\", to = \"10.0.0.1\" }\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "trace",
            18,
            "a trace starts in a VPC; no [[vpc]] named `onprem`"
        )]
    );
    let e = "\n[[expect]]\ntrace = { from = \"prod\", to = \"10.0.0\" }\n";
    assert_eq!(
        bad(e),
        [at(e, "trace", 31, "`10.0.0` is not an IP address for `to`")]
    );
    let e = "\n[[expect]]\ntrace = { from = \"prod\", dest = \"10.0.0.1\" }\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "trace",
            26,
            "unknown field `dest`, expected `from` or `to`"
        )]
    );
}

#[test]
fn the_documented_expectations_validate_against_the_shipped_lab() {
    let doc = include_str!("../../../docs/topology.md");
    let example = doc
        .split("## Expectations")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|s| s.split("```").next())
        .unwrap_or_else(|| panic!("no toml block in the docs' Expectations"));
    let t = good(&with(example));
    assert_eq!(t.expectations.len(), 4);
}

#[test]
fn a_tunnel_expectation_names_a_vpn_tunnel_and_a_status() {
    let e = "\n[[expect]]\ntunnel = \"backup/tunnel2\"\nstatus = \"UP\"\nstatus_message = \"1 BGP ROUTES\"\n";
    let t = good(&with(e));
    let last = t.expectations.last().map(|x| x.check.clone());
    assert_eq!(
        last,
        Some(Check::Tunnel {
            vgw: "vgw1".to_string(),
            tunnel: "backup/tunnel2".to_string(),
            status: "UP".to_string(),
            status_message: Some("1 BGP ROUTES".to_string()),
        })
    );
    let e = "\n[[expect]]\ntunnel = \"backup/tunnel3\"\nstatus = \"UP\"\n";
    assert_eq!(
        bad(e),
        [at(e, "tunnel =", 10, "`backup/tunnel3` is not a VPN tunnel of this lab: write VPN/tunnel1 or VPN/tunnel2 with the name of a [[vpn]]")]
    );
    let e = "\n[[expect]]\ntunnel = \"nope/tunnel1\"\nstatus = \"UP\"\n";
    assert_eq!(bad(e).len(), 1);
    let e = "\n[[expect]]\ntunnel = \"backup/tunnel1\"\nstatus = \"Up\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "status",
            10,
            "`Up` is not a tunnel status: expected one of UP, DOWN"
        )]
    );
    let e = "\n[[expect]]\ntunnel = \"backup/tunnel1\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "[[expect]]",
            1,
            "[[expect]] of a tunnel needs `status` (\"UP\" or \"DOWN\")"
        )]
    );
    let e = "\n[[expect]]\ntunnel = \"backup/tunnel1\"\nstatus = \"UP\"\nnode = \"vgw1\"\n";
    assert_eq!(
        bad(e),
        [at(
            e,
            "node",
            8,
            "`node` does not belong in a tunnel expectation (`tunnel`)"
        )]
    );
}
