//! Cloud node kinds: a complete lab parses with its defaults filled in;
//! each mistake is reported at its line and column with the cloud's words.

use hybridlab_cloud::dx::vif::VifKind;
use hybridlab_cloud::limits::Limits;
use hybridlab_cloud::vgw::TunnelRouting;
use hybridlab_topology::cloud::{CustomerRouter, DpdAction, TunnelOptions, VifAttach, VifBfd};
use hybridlab_topology::{parse, Topology, TopologyError};
use std::time::Duration;

const SHIPPED: &str = include_str!("../../../topologies/dx-with-vpn-backup.toml");

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

/// The one error of a bad file, as `LINE:COL: message`.
/// Every error in `text`, as `LINE:COL: message`.
fn errors(text: &str) -> Vec<String> {
    match parse("lab.toml", text) {
        Err(TopologyError::Invalid(d)) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

/// The one error in `text`.
fn bad(text: &str) -> String {
    let mut got = errors(text);
    assert_eq!(got.len(), 1, "expected one error, got {got:?}");
    got.remove(0)
}

/// Lines 1-20: a region, a VPC, a VGW attached to it, a CGW on an emulated
/// router. Error cases append to it.
const BASE: &str = r#"[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"
[[region]]
name = "r1"
[[vpc]]
name = "prod"
region = "r1"
cidrs = ["10.0.0.0/16"]
[[vgw]]
name = "vgw1"
region = "r1"
vpc = "prod"
[[customer_gateway]]
name = "office"
asn = 65000
ip = "198.51.100.10"
router = "onprem"
# line 20
"#;

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

const TUNNELS: &str = r#"  [[vpn.tunnel]]
  inside_cidr = "169.254.10.0/30"
  psk = "secret.one"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.4/30"
  psk = "secret.two"
"#;

#[test]
fn dx_primary_with_vpn_backup_parses_with_defaults() {
    let t = good(SHIPPED);
    let c = &t.cloud;
    assert!(!c.is_empty());
    assert_eq!(c.limits, Limits::default());
    assert_eq!(c.regions, ["eu-west-1"]);

    let vpc = c.vpc("prod").unwrap_or_else(|| panic!("no vpc"));
    assert_eq!(
        vpc.cidrs,
        ["10.0.0.0/16".parse().unwrap_or_else(|e| panic!("{e}"))]
    );
    let main = vpc.main_route_table().unwrap_or_else(|| panic!("no main"));
    assert_eq!(main.config.name, "private");
    assert!(main.config.propagating_gateways.contains("vgw1"));
    assert_eq!(main.config.vpc_cidrs, vpc.cidrs);
    assert_eq!(main.subnets.len(), 1);

    let vgw = c.vgw("vgw1").unwrap_or_else(|| panic!("no vgw"));
    assert_eq!(vgw.asn, 64512, "default Amazon-side ASN");
    assert_eq!(vgw.vpc.as_deref(), Some("prod"));

    let cgw = c
        .customer_gateway("office")
        .unwrap_or_else(|| panic!("no cgw"));
    assert_eq!(cgw.router, CustomerRouter::Emulated("onprem".into()));
    assert_eq!(cgw.asn, 65000);

    let vpn = &c.vpns[0];
    assert_eq!(vpn.routing, TunnelRouting::Bgp);
    assert_eq!(vpn.tunnels.len(), 2);
    assert_eq!(vpn.tunnels[0].options, TunnelOptions::default());
    assert_eq!(
        vpn.tunnels[0].options.phase1_lifetime,
        Duration::from_secs(28_800)
    );
    assert_eq!(vpn.tunnels[0].options.dpd_timeout_action, DpdAction::Clear);
    assert_eq!(vpn.tunnels[1].options.dpd_timeout, Duration::from_secs(30));
    assert_eq!(
        vpn.tunnels[0].inside_cidr.aws_address().to_string(),
        "169.254.10.1"
    );

    let vif = &c.vifs[0];
    assert_eq!(vif.kind, VifKind::Private);
    assert_eq!(vif.attach, Some(VifAttach::Vgw("vgw1".into())));
    assert_eq!(vif.customer_asn, 65000, "taken from the emulated router");
    assert_eq!(vif.bfd, Some(VifBfd::default()));
    assert_eq!(
        vif.bfd.map(|b| b.interval),
        Some(Duration::from_millis(300))
    );
    assert_eq!(vif.prefix_limit, 100);
    assert_eq!(vif.addresses.aws.to_string(), "169.254.255.1");
}

#[test]
fn a_lab_without_cloud_nodes_has_an_empty_cloud() {
    let t = good(BASE.split("[[region]]").next().unwrap_or_default());
    assert!(t.cloud.is_empty());
}

#[test]
fn vpc_without_tables_gets_an_implicit_main_table() {
    let t = good(BASE);
    let vpc = &t.cloud.vpcs[0];
    assert_eq!(vpc.route_tables.len(), 1);
    assert!(vpc.route_tables[0].main);
    assert!(vpc.route_tables[0].config.propagating_gateways.is_empty());
}

#[test]
fn limits_and_dx_gateway_defaults() {
    let t = good(&with(
        r#"[limits]
private_vif_prefixes = 200
[[dx_gateway]]
name = "dxgw"
  [[dx_gateway.association]]
  vgw = "vgw1"
[[vif]]
name = "v"
kind = "private"
vlan = 10
attach = { dx_gateway = "dxgw" }
amazon_address = "169.254.0.1"
customer_address = "169.254.0.2"
external = true
customer_asn = 65100
md5 = "k"
bfd = false
"#,
    ));
    let c = &t.cloud;
    assert_eq!(c.limits.private_vif_prefixes, 200);
    assert_eq!(c.dx_gateways[0].asn, 64512);
    let allowed = &c.dx_gateways[0].associations[0].allowed_prefixes;
    assert_eq!(allowed, &c.vpcs[0].cidrs, "defaults to the VPC's CIDRs");
    assert_eq!(c.vifs[0].prefix_limit, 200);
    assert_eq!(c.vifs[0].bfd, None);
    assert_eq!(c.vifs[0].customer, CustomerRouter::External);
}

#[test]
fn unknown_vpc_of_a_vgw() {
    let text = BASE.replace("vpc = \"prod\"", "vpc = \"nope\"");
    assert_eq!(bad(&text), "14:7: no [[vpc]] named `nope`");
}

#[test]
fn unknown_region() {
    let text = BASE.replace("region = \"r1\"\ncidrs", "region = \"r2\"\ncidrs");
    let got = errors(&text);
    assert_eq!(
        got,
        [
            "9:10: no [[region]] named `r2`",
            "14:7: VPC `prod` is in region `r2`, VGW `vgw1` in `r1`",
        ]
    );
}

#[test]
fn unknown_router_of_a_customer_gateway() {
    let text = BASE.replace("router = \"onprem\"", "router = \"nope\"");
    assert_eq!(bad(&text), "19:10: no [[router]] named `nope`");
}

#[test]
fn customer_gateway_asn_must_differ_from_the_vgw_asn() {
    let text = BASE
        .replace("asn = 65000\nip", "asn = 64512\nip")
        .replace("asn = 65000\nrouter_id", "asn = 64512\nrouter_id");
    let text = format!(
        "{text}[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{TUNNELS}"
    );
    assert_eq!(
        bad(&text),
        "24:20: customer gateway ASN 64512 equals the VGW ASN"
    );
}

#[test]
fn a_vpn_has_exactly_two_tunnels() {
    let one = TUNNELS.lines().take(3).collect::<Vec<_>>().join("\n");
    let text = with(&format!(
        "[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{one}\n"
    ));
    assert_eq!(
        bad(&text),
        "21:1: VPN `v` has 1 [[vpn.tunnel]]; a VPN connection has exactly 2"
    );
}

#[test]
fn reserved_inside_cidr_is_refused() {
    let tunnels = TUNNELS.replace("169.254.10.0/30", "169.254.5.0/30");
    let text = with(&format!(
        "[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{tunnels}"
    ));
    assert_eq!(
        bad(&text),
        "26:17: tunnel inside CIDR 169.254.5.0/30 is reserved by AWS"
    );
}

#[test]
fn inside_cidr_used_twice_on_one_vgw_is_refused() {
    let vpn = |name: &str| {
        format!(
            "[[vpn]]\nname = \"{name}\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{TUNNELS}"
        )
    };
    let text = with(&format!("{}{}", vpn("a"), vpn("b")));
    let got = errors(&text);
    assert_eq!(
        got,
        [
            "36:17: tunnel inside CIDR 169.254.10.0/30 is used twice on VGW vgw1: by a/1 and by b/1",
            "39:17: tunnel inside CIDR 169.254.10.4/30 is used twice on VGW vgw1: by a/2 and by b/2",
        ]
    );
}

#[test]
fn static_routes_only_with_static_routing() {
    let text = with(&format!(
        "[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\nstatic_routes = [\"172.16.0.0/16\"]\n{TUNNELS}"
    ));
    assert_eq!(
        bad(&text),
        "25:18: VPN connection v uses BGP and also has static routes; a connection is one or the other"
    );
    let ok = text.replace("static_routes", "routing = \"static\"\nstatic_routes");
    assert_eq!(good(&ok).cloud.vpns[0].routing, TunnelRouting::Static);
}

#[test]
fn vpn_connections_per_vgw_quota_from_limits() {
    let tunnels2 = TUNNELS
        .replace("10.0/30", "20.0/30")
        .replace("10.4/30", "20.4/30");
    let text = with(&format!(
        "[limits]\nvpn_connections_per_vgw = 1\n\
         [[vpn]]\nname = \"a\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{TUNNELS}\
         [[vpn]]\nname = \"b\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{tunnels2}"
    ));
    assert_eq!(
        bad(&text),
        "35:7: VPN connections on VGW vgw1: 2 exceeds the limit of 1"
    );
}

#[test]
fn bad_psk_and_tunnel_options() {
    let tunnels = TUNNELS
        .replace(
            "secret.one\"",
            "secret.one\"\n  phase2_lifetime = 900\n  phase1_lifetime = 900",
        )
        .replace("psk = \"secret.two\"", "psk = \"0short\"");
    let text = with(&format!(
        "[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\n{tunnels}"
    ));
    let got = errors(&text);
    assert_eq!(
        got,
        [
            "28:21: `phase2_lifetime` (900 s) must be shorter than `phase1_lifetime` (900 s)",
            "32:9: `psk` must be 8-64 characters of A-Z a-z 0-9 . _ and not start with 0",
        ]
    );
}

const VIF: &str = r#"[[vif]]
name = "primary"
kind = "private"
vlan = 101
attach = { vgw = "vgw1" }
amazon_address = "169.254.255.1"
customer_address = "169.254.255.2"
router = "onprem"
md5 = "key"
"#;

#[test]
fn vif_vlan_range() {
    let text = with(&VIF.replace("vlan = 101", "vlan = 4095"));
    assert_eq!(bad(&text), "24:8: VLAN 4095 is outside 1-4094");
    let text = with(&VIF.replace("vlan = 101", "vlan = 70000"));
    assert_eq!(bad(&text), "24:8: VLAN 70000 is outside 1-4094");
}

#[test]
fn vif_prefix_limit_at_most_1000() {
    let text = with(&format!("{VIF}prefix_limit = 1001\n"));
    assert_eq!(bad(&text), "30:16: prefix limit 1001 is outside 1-1000");
}

#[test]
fn vif_md5_is_required() {
    let text = with(&VIF.replace("md5 = \"key\"\n", ""));
    assert_eq!(
        bad(&text),
        "21:1: VIF `primary` needs `md5`: Direct Connect always signs BGP with TCP MD5"
    );
}

#[test]
fn vif_peer_addresses_are_one_slash30() {
    let text = with(&VIF.replace("169.254.255.2", "169.254.255.5"));
    assert_eq!(
        bad(&text),
        "27:20: peer addresses 169.254.255.1 and 169.254.255.5 must be two different hosts of one /30"
    );
}

#[test]
fn vif_unknown_attachment_and_bfd_floor() {
    let text = with(&VIF.replace("vgw = \"vgw1\"", "dx_gateway = \"nope\""));
    assert_eq!(bad(&text), "25:25: no [[dx_gateway]] named `nope`");
    let text = with(&format!("{VIF}bfd = {{ interval = 100 }}\n"));
    assert_eq!(
        bad(&text),
        "30:7: BFD interval (ms) 100 is below the minimum 300"
    );
}

#[test]
fn vif_external_needs_customer_asn() {
    let text = with(&VIF.replace("router = \"onprem\"", "external = true"));
    assert_eq!(
        bad(&text),
        "21:1: VIF `primary` with `external = true` needs `customer_asn`"
    );
}

#[test]
fn route_table_propagation_from_unattached_vgw_is_refused() {
    let text = BASE.replace(
        "cidrs = [\"10.0.0.0/16\"]\n",
        "cidrs = [\"10.0.0.0/16\"]\n  [[vpc.route_table]]\n  name = \"t\"\n  propagation = [\"other\"]\n",
    );
    assert_eq!(
        bad(&text),
        "13:18: cannot propagate from `other`: not a VGW attached to this VPC"
    );
}

#[test]
fn unknown_limit_is_refused_at_its_key() {
    let text = with("[limits]\nvpn_routes = 5\n");
    let got = bad(&text);
    assert!(got.starts_with("22:1: unknown field `vpn_routes`"), "{got}");
}

#[test]
fn the_documented_example_validates() {
    let doc = include_str!("../../../docs/topology.md");
    let section = doc
        .split("### Example: Direct Connect primary, VPN backup")
        .nth(1)
        .unwrap_or_else(|| panic!("docs lost the cloud example"));
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap_or_else(|| panic!("no toml block in the cloud example"));
    let t = good(example);
    assert_eq!(t.cloud.vifs.len(), 1);
    assert_eq!(t.cloud.vpns.len(), 1);
}

#[test]
fn dx_gateway_refuses_overlapping_vpcs_and_double_association() {
    let second = r#"[[vpc]]
name = "dev"
region = "r1"
cidrs = ["10.0.128.0/17"]
[[vgw]]
name = "vgw2"
region = "r1"
vpc = "dev"
[[dx_gateway]]
name = "dxgw"
  [[dx_gateway.association]]
  vgw = "vgw1"
  [[dx_gateway.association]]
  vgw = "vgw2"
[[dx_gateway]]
name = "other"
  [[dx_gateway.association]]
  vgw = "vgw1"
"#;
    let d = match parse("lab.toml", &with(second)) {
        Err(TopologyError::Invalid(d)) => d,
        other => panic!("expected errors, got {other:?}"),
    };
    let got: Vec<String> = d
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        got,
        [
            "34:9: VPC CIDRs 10.0.0.0/16 and 10.0.128.0/17 overlap on DX gateway dxgw",
            "38:9: VGW vgw1 is attached to DX gateway dxgw and to other",
        ]
    );
}

#[test]
fn route_table_mistakes() {
    let table = |body: &str| {
        BASE.replace(
            "cidrs = [\"10.0.0.0/16\"]\n",
            &format!("cidrs = [\"10.0.0.0/16\"]\n  [[vpc.route_table]]\n  name = \"t\"\n{body}"),
        )
    };
    let text = table("  routes = [{ prefix = \"172.16.0.0/16\", target = \"igw\" }]\n");
    assert_eq!(
        bad(&text),
        "13:50: route target `igw` is not a VGW attached to this VPC"
    );
    let text = table("  subnets = [\"10.1.0.0/24\"]\n");
    assert_eq!(
        bad(&text),
        "13:14: subnet 10.1.0.0/24 is outside the VPC's CIDRs"
    );
    let text = table("  main = true\n  [[vpc.route_table]]\n  name = \"u\"\n  main = true\n");
    assert_eq!(
        bad(&text),
        "16:10: VPC `prod` has two main route tables (first on line 13)"
    );
}

#[test]
fn vpn_routing_must_be_bgp_or_static() {
    let text = with(&format!(
        "[[vpn]]\nname = \"v\"\nvgw = \"vgw1\"\ncustomer_gateway = \"office\"\nrouting = \"ospf\"\n{TUNNELS}"
    ));
    assert_eq!(
        bad(&text),
        "25:11: `routing` must be \"bgp\" or \"static\", not \"ospf\""
    );
}

#[test]
fn public_vif_does_not_attach_and_router_asn_must_match() {
    let text = with(&VIF.replace("\"private\"", "\"public\""));
    assert_eq!(
        bad(&text),
        "25:10: public VIF `primary` cannot attach to a VGW or a DX gateway"
    );
    let text = with(&format!("{VIF}customer_asn = 65001\n"));
    assert_eq!(
        bad(&text),
        "30:16: VIF `primary` has `customer_asn` 65001 but its router has ASN 65000"
    );
}
