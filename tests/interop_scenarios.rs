//! The scenario topologies of `topologies/` with their customer router
//! replaced by a real one: FRR 8.4 and BIRD 2.0.12 for every scenario whose
//! customer side is one router, and for one site of each CloudHub
//! scenario. The same file is parsed with
//! that router external; the cloud runs in-process in this (the host's)
//! namespace, the real router in a namespace of its own behind one veth
//! pair, and the file's own `[[expect]]`s are verified: the cloud's nodes
//! from the lab, the customer router's table from the real router.
//!
//! ```text
//!   host namespace                          namespace `…-cust`
//!   hybridlab Lab (VGW, DX gateway)  veth   FRR or BIRD
//!   169.254.x.1 (each /30) ──────────────── 169.254.x.2
//! ```
//!
//! The real router's configuration comes from the topology's `[[router]]`
//! (tests/common/scenario_configs.rs). The tests take turns: the AWS
//! addresses are bound in the one host namespace.

mod common;

use common::bird::Bird;
use common::frr::Frr;
use common::scenario_configs::{bird_protocol, CustomerRouter};
use common::{run_ok, Lab, Netns};
use hybridlab_runtime::check::{converge, Snapshot, Verdict};
use hybridlab_runtime::LabOptions;
use hybridlab_topology::{parse, parse_with, ParseOptions, Topology};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Every scenario whose customer side is one router, and that router.
const SCENARIOS: [(&str, &str); 8] = [
    ("dx-with-vpn-backup", "onprem"),
    ("vpn-active-standby-prepend", "onprem"),
    ("vpn-active-standby-med", "onprem"),
    ("static-vs-dynamic-vpn", "onprem"),
    ("dx-gateway-two-regions", "onprem"),
    ("vif-prefix-limit", "onprem"),
    ("dx-local-preference", "onprem"),
    ("vpc-local-route", "onprem"),
];

/// Sessions come up within a few seconds (FRR and BIRD retry every 1–2 s,
/// the cloud every 5 s); this is the bound, not the expected time.
const CONVERGE: Duration = Duration::from_secs(60);

static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug)]
enum Real {
    Frr,
    Bird,
}

fn read(name: &str) -> (String, String) {
    let file = format!("topologies/{name}.toml");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    (file, text)
}

/// The scenario twice: with `router` emulated (its configuration, for the
/// generator) and with it external (the lab to run).
fn topologies(name: &str, router: &str) -> (CustomerRouter, Topology) {
    let (file, text) = read(name);
    let emulated = parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let customer =
        CustomerRouter::from_topology(&emulated, router).unwrap_or_else(|e| panic!("{file}: {e}"));
    let options = ParseOptions {
        external: vec![router.to_string()],
    };
    let external = parse_with(&file, &text, &options).unwrap_or_else(|e| panic!("{e}"));
    (customer, external)
}

fn run(name: &str, router: &str, real: Real) {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (customer, topology) = topologies(name, router);
    let expectations = topology.expectations.clone();
    let lab = Lab::new("scn");
    let ns = lab.netns("cust");
    attach(&ns, &customer);
    let (frr, bird) = match real {
        Real::Frr => {
            let (config, profile) = customer.frr();
            let frr = match profile {
                Some(p) => Frr::start_with_bfd(&lab, &ns, &config, &p),
                None => Frr::start(&lab, &ns, &config),
            };
            (Some(frr), None)
        }
        Real::Bird => (
            None,
            Some(Bird::start_rendered(&lab, &ns, |dir| customer.bird(dir))),
        ),
    };
    let real_table = || -> Result<_, String> {
        match (&frr, &bird) {
            (Some(f), _) => customer.frr_rows(&f.json("show ip bgp json")?),
            (_, Some(b)) => customer.bird_rows(&b.routes()?),
            _ => Err("no real router".to_string()),
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("tokio: {e}"));
    let verdicts = runtime.block_on(async {
        let options = LabOptions {
            no_api: true,
            ..LabOptions::default()
        };
        let mut cloud = hybridlab_runtime::Lab::new(topology, options);
        if let Err(e) = cloud.start().await {
            lab.fail(&format!("{name}: the cloud does not start: {e}"));
        }
        let skip = [router.to_string()];
        let verdicts = converge(
            &cloud.handle(),
            &expectations,
            &skip,
            CONVERGE,
            |snap: &mut Snapshot| match real_table() {
                Ok(rows) => {
                    snap.routes.insert(router.to_string(), rows);
                }
                Err(e) => {
                    snap.route_errors.insert(router.to_string(), e);
                }
            },
        )
        .await;
        cloud.shutdown().await;
        verdicts
    });
    println!("{name} with {real:?} as `{router}`:");
    for v in &verdicts {
        println!("{v}");
    }
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(Verdict::to_string)
        .collect();
    if !failed.is_empty() {
        lab.fail(&format!(
            "{name} with {real:?} as `{router}`: {} of {} expectations failed:\n{}",
            failed.len(),
            verdicts.len(),
            failed.join("\n")
        ));
    }
}

/// A veth pair from the host namespace, where the in-process cloud binds
/// its addresses, into `ns`: the AWS end of every session (.1) on the host
/// side, the customer's end (.2) inside. Deleting the namespace (the lab
/// does, when it drops) deletes the pair.
fn attach(ns: &Netns, customer: &CustomerRouter) {
    static PAIRS: AtomicU32 = AtomicU32::new(0);
    let host = format!(
        "hls{}x{}",
        std::process::id() % 100_000,
        PAIRS.fetch_add(1, Ordering::Relaxed)
    );
    let inside = "to-cloud";
    run_ok(Command::new("ip").args([
        "link", "add", &host, "type", "veth", "peer", "name", inside, "netns", &ns.name,
    ]));
    for s in &customer.sessions {
        let aws = format!("{}/30", s.aws);
        run_ok(Command::new("ip").args(["addr", "add", &aws, "dev", &host]));
        ns.ip(&["addr", "add", &format!("{}/30", s.customer), "dev", inside]);
    }
    run_ok(Command::new("ip").args(["link", "set", &host, "up"]));
    ns.ip(&["link", "set", inside, "up"]);
}

macro_rules! scenario_tests {
    ($($test:ident: $name:literal, $router:literal with $real:ident;)*) => {
        $(
            #[test]
            fn $test() {
                if !common::interop_enabled(stringify!($test)) {
                    return;
                }
                run($name, $router, Real::$real);
            }
        )*
    };
}

scenario_tests! {
    frr_dx_with_vpn_backup: "dx-with-vpn-backup", "onprem" with Frr;
    frr_vpn_active_standby_prepend: "vpn-active-standby-prepend", "onprem" with Frr;
    frr_vpn_active_standby_med: "vpn-active-standby-med", "onprem" with Frr;
    frr_static_vs_dynamic_vpn: "static-vs-dynamic-vpn", "onprem" with Frr;
    frr_dx_gateway_two_regions: "dx-gateway-two-regions", "onprem" with Frr;
    frr_vif_prefix_limit: "vif-prefix-limit", "onprem" with Frr;
    frr_dx_local_preference: "dx-local-preference", "onprem" with Frr;
    frr_vpc_local_route: "vpc-local-route", "onprem" with Frr;
    bird_dx_with_vpn_backup: "dx-with-vpn-backup", "onprem" with Bird;
    bird_vpn_active_standby_prepend: "vpn-active-standby-prepend", "onprem" with Bird;
    bird_vpn_active_standby_med: "vpn-active-standby-med", "onprem" with Bird;
    bird_vif_prefix_limit: "vif-prefix-limit", "onprem" with Bird;
    bird_static_vs_dynamic_vpn: "static-vs-dynamic-vpn", "onprem" with Bird;
    bird_dx_gateway_two_regions: "dx-gateway-two-regions", "onprem" with Bird;
    bird_dx_local_preference: "dx-local-preference", "onprem" with Bird;
    bird_vpc_local_route: "vpc-local-route", "onprem" with Bird;
    // CloudHub has three customer routers: one of them real is enough for
    // the relay (and, with a shared ASN, the real router's own loop check).
    frr_cloudhub_three_sites: "cloudhub-three-sites", "site-a" with Frr;
    frr_cloudhub_shared_asn: "cloudhub-shared-asn", "site-a" with Frr;
    bird_cloudhub_three_sites: "cloudhub-three-sites", "site-a" with Bird;
    bird_cloudhub_shared_asn: "cloudhub-shared-asn", "site-a" with Bird;
}

// Unprivileged: the generator, against the shipped scenarios.

#[test]
fn every_one_router_scenario_translates_and_parses_with_its_router_external() {
    for (name, router) in SCENARIOS {
        let (customer, topology) = topologies(name, router);
        assert!(!customer.sessions.is_empty(), "{name}");
        assert!(topology.router(router).is_none(), "{name}");
        assert_eq!(topology.external, [router], "{name}");
        assert!(!topology.expectations.is_empty(), "{name}");
    }
}

/// `interop/scenarios/SCENARIO/` holds what `interop/scenarios/up` starts
/// by hand; it must be what the tests run. `HYBRIDLAB_BLESS=1` rewrites it.
#[test]
fn by_hand_files_under_interop_scenarios_are_the_generators() {
    let bless = std::env::var_os("HYBRIDLAB_BLESS").is_some_and(|v| v == "1");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/scenarios");
    for (name, router) in SCENARIOS {
        let (customer, _) = topologies(name, router);
        let dir = root.join(name);
        for (file, text) in customer.by_hand_files() {
            let path = dir.join(file);
            if bless {
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                continue;
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == text,
                "{} is not what the generator makes; HYBRIDLAB_BLESS=1 cargo test --test interop_scenarios by_hand rewrites it:\n{text}",
                path.display()
            );
        }
    }
}

#[test]
fn frr_config_prepends_on_tunnel_2_only_with_the_clouds_timers() {
    let (customer, _) = topologies("vpn-active-standby-prepend", "onprem");
    let (config, profile) = customer.frr();
    assert!(profile.is_none());
    let text = config.render("frr", "/run/x");
    for line in [
        "router bgp 65000",
        " bgp router-id 192.0.2.1",
        " neighbor 169.254.20.1 remote-as 64512",
        " neighbor 169.254.20.5 remote-as 64512",
        "  network 172.16.0.0/16",
        "  neighbor 169.254.20.5 route-map EXPORT-1 out",
        "route-map EXPORT-1 permit 10\n set as-path prepend 65000 65000\n",
        " neighbor 169.254.20.1 timers 10 30",
        " neighbor 169.254.20.5 timers 10 30",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    assert!(!text.contains("169.254.20.1 route-map"), "{text}");
    assert!(!text.contains("password"), "{text}");
}

#[test]
fn frr_config_sets_med_per_tunnel_and_filters_by_prefix_with_md5_and_bfd() {
    let (customer, _) = topologies("vpn-active-standby-med", "onprem");
    let text = customer.frr().0.render("frr", "/run/x");
    assert!(
        text.contains("route-map EXPORT-0 permit 10\n set metric 100\n"),
        "{text}"
    );
    assert!(
        text.contains("route-map EXPORT-1 permit 10\n set metric 200\n"),
        "{text}"
    );

    let (customer, _) = topologies("dx-local-preference", "onprem");
    let (config, profile) = customer.frr();
    let profile = profile.unwrap_or_else(|| panic!("VIFs run BFD"));
    assert_eq!(
        (profile.min_tx_ms, profile.min_rx_ms, profile.multiplier),
        (300, 300, 3)
    );
    let text = config.render("frr", "/run/x");
    for line in [
        " neighbor 169.254.60.5 password dx-b-key",
        " neighbor 169.254.60.5 bfd profile cloud",
        " neighbor 169.254.60.1 timers 30 90",
        "route-map EXPORT-1 permit 10\n set as-path prepend 65000 65000\n set community 7224:7300 additive\n",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
}

#[test]
fn bird_config_has_a_protocol_and_filter_per_session() {
    let (customer, _) = topologies("dx-local-preference", "onprem");
    let text = customer.bird("/run/x");
    for line in [
        "router id 192.0.2.1;",
        "  route 172.16.0.0/16 blackhole;",
        "min rx interval 300 ms;",
        "protocol bgp cloud1 {\n  description \"dx-b\";\n  local 169.254.60.6 as 65000;\n  neighbor 169.254.60.5 as 64512;\n  hold time 90;\n  password \"dx-b-key\";\n  bfd on;\n",
        "filter export_1 {\n  if source = RTS_STATIC then bgp_origin = ORIGIN_IGP;\n  if true then {\n    bgp_path.prepend(65000);\n    bgp_path.prepend(65000);\n    bgp_community.add((7224,7300));\n    accept;\n  }\n  accept;\n}",
        "filter export_0 {\n  if source = RTS_STATIC then bgp_origin = ORIGIN_IGP;\n  accept;\n}",
        "ipv4 { import all; export filter export_1; };",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    assert_eq!(bird_protocol(1), "cloud1");
}

#[test]
fn frr_table_json_reads_as_rows_with_the_session_name() {
    let (customer, _) = topologies("vpn-active-standby-med", "onprem");
    let json = serde_json::json!({
        "routes": {
            "10.0.0.0/16": [
                {"valid": true, "bestpath": true, "peerId": "169.254.21.1", "path": "64512", "origin": "IGP", "metric": 100},
                {"valid": true, "peerId": "169.254.21.5", "path": "64512", "origin": "IGP", "metric": 200}
            ],
            "172.16.0.0/16": [
                {"valid": true, "bestpath": true, "peerId": "(unspec)", "path": "", "origin": "IGP"}
            ]
        }
    });
    let rows = customer.frr_rows(&json).unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<String> = rows
        .iter()
        .map(|r| {
            let best = if r.active { " best" } else { "" };
            format!(
                "{} via {} {:?} med {:?}{best}",
                r.prefix, r.via, r.as_path, r.med
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "10.0.0.0/16 via vpn1/tunnel1 [64512] med Some(100) best",
            "10.0.0.0/16 via vpn1/tunnel2 [64512] med Some(200)",
            "172.16.0.0/16 via local [] med None best",
        ]
    );
    assert!(rows.iter().all(|r| r.origin == "igp"));
}

#[test]
fn bird_routes_read_as_rows_with_the_session_name_and_communities() {
    let (customer, _) = topologies("dx-local-preference", "onprem");
    // As BIRD 2.0.12 prints it (tests/fixtures/bird-show-route-all.txt).
    let text = "Table master4:
10.0.0.0/16          unicast [cloud0 12:00:01] * (100) [AS64512i]
\tvia 169.254.60.1 on to-cloud
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 64512
\tBGP.community: (7224,7300) (65535,65281)
                     unicast [cloud1 12:00:02] (100) [AS64512i]
\tBGP.origin: IGP
\tBGP.as_path: 64512
172.16.0.0/16        blackhole [static4 12:00:00] * (200)
";
    let routes = common::bird::BirdRoute::parse_all(text);
    let rows = customer
        .bird_rows(&routes)
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<(String, String, bool)> = rows
        .iter()
        .map(|r| (r.prefix.to_string(), r.via.clone(), r.active))
        .collect();
    assert_eq!(
        seen,
        [
            ("10.0.0.0/16".into(), "dx-a".into(), true),
            ("10.0.0.0/16".into(), "dx-b".into(), false),
            ("172.16.0.0/16".into(), "local".into(), true),
        ]
    );
    assert_eq!(rows[0].communities, ["7224:7300", "65535:65281"]);
    assert_eq!(
        (rows[0].origin.as_str(), &rows[0].as_path),
        ("igp", &vec![64512])
    );
}
