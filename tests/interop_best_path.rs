//! hybridlab's decision process (RFC 4271 §9.1.2.2) fed by real speakers:
//! FRR and BIRD both peer with router `cloud` and announce 10.30.0.0/24
//! with different AS_PATH lengths and MEDs. Each case is built so the rule
//! under test picks the opposite winner from the rules after it: a router
//! that skipped the rule would pick the other path.
//!
//! FRR has the lower router ID (10.0.0.2 < 10.0.0.3).

mod common;

use common::bird::{Bird, BirdConfig, BirdPeer};
use common::frr::{Frr, FrrConfig, FrrNeighbor};
use common::hybridlab::{HlNeighbor, HlRouter, Hybridlab, Topology, CLOUD, CLOUD_ASN, CLOUD_ID};
use common::{veth, Lab};
use serde_json::{json, Value};
use std::time::Duration;

const PREFIX: &str = "10.30.0.0/24";
const PASSWORD: &str = "s3cret-best";
const FRR_ID: &str = "10.0.0.2";
const BIRD_ID: &str = "10.0.0.3";

/// How one speaker announces PREFIX.
struct Announce {
    asn: u32,
    /// Extra copies of its own AS, on top of the one eBGP adds.
    prepend: u32,
    med: u32,
}

/// Daemons first, lab last: fields drop in order, so processes end before
/// their namespaces go.
struct BestPathLab {
    hl: Hybridlab,
    _frr: Frr,
    _bird: Bird,
    lab: Lab,
}

fn best_path_lab(tag: &str, frr_side: Announce, bird_side: Announce) -> BestPathLab {
    let lab = Lab::new(tag);
    let hl_ns = lab.netns("hl");
    let frr_ns = lab.netns("frr");
    let bird_ns = lab.netns("bird");
    let to_frr = veth(&hl_ns, &frr_ns, "to-frr", "to-hl", 0);
    let to_bird = veth(&hl_ns, &bird_ns, "to-bird", "to-hl", 1);

    let mut frr_conf = FrrConfig::new(frr_side.asn, FRR_ID);
    let mut nbr = FrrNeighbor::new(&to_frr.a4, CLOUD_ASN).password(PASSWORD);
    nbr.route_map_out = Some("TO-CLOUD".into());
    frr_conf.neighbors = vec![nbr];
    frr_conf.networks = vec![PREFIX.into()];
    let prepend = vec![frr_side.asn.to_string(); frr_side.prepend as usize].join(" ");
    frr_conf.extra = format!(
        "route-map TO-CLOUD permit 10\n set metric {}\n",
        frr_side.med
    );
    if frr_side.prepend > 0 {
        frr_conf.extra += &format!(" set as-path prepend {prepend}\n");
    }

    let mut bird_conf = BirdConfig::new(bird_side.asn, BIRD_ID);
    bird_conf.peers =
        vec![BirdPeer::new("cloud", &to_bird.b4, &to_bird.a4, CLOUD_ASN).password(PASSWORD)];
    bird_conf.networks = vec![PREFIX.into()];
    bird_conf.export_actions = format!("bgp_med = {};", bird_side.med);
    for _ in 0..bird_side.prepend {
        bird_conf.export_actions += &format!(" bgp_path.prepend({});", bird_side.asn);
    }

    let topology = Topology {
        name: tag.to_string(),
        routers: vec![HlRouter {
            name: CLOUD.into(),
            asn: CLOUD_ASN,
            router_id: CLOUD_ID.into(),
            networks: Vec::new(),
            listen: vec![format!("{}:179", to_frr.a4), format!("{}:179", to_bird.a4)],
            neighbors: vec![
                HlNeighbor::new("frr", &to_frr.b4, frr_side.asn).md5(PASSWORD),
                HlNeighbor::new("bird", &to_bird.b4, bird_side.asn).md5(PASSWORD),
            ],
        }],
        policies: Vec::new(),
    };

    let frr = Frr::start(&lab, &frr_ns, &frr_conf);
    let bird = Bird::start(&lab, &bird_ns, &bird_conf);
    let hl = Hybridlab::start(&lab, &hl_ns, &topology);
    hl.wait_established(&lab, "frr");
    hl.wait_established(&lab, "bird");
    BestPathLab {
        hl,
        _frr: frr,
        _bird: bird,
        lab,
    }
}

/// Waits until hybridlab holds both paths, then returns (best, other).
fn decided(l: &BestPathLab) -> (Value, Value) {
    l.lab
        .wait("two paths with one best", Duration::from_secs(30), || {
            let paths = l.hl.paths(CLOUD, PREFIX)?;
            let best: Vec<&Value> = paths.iter().filter(|p| p["best"] == true).collect();
            let other: Vec<&Value> = paths.iter().filter(|p| p["best"] != true).collect();
            match (best.as_slice(), other.as_slice()) {
                ([b], [o]) => Ok(((*b).clone(), (*o).clone())),
                _ => Err(format!("{paths:?}")),
            }
        })
}

#[test]
fn shorter_as_path_wins_even_with_a_worse_med() {
    if !common::interop_enabled("shorter_as_path_wins_even_with_a_worse_med") {
        return;
    }
    // Same neighbouring AS, so MED would be comparable, and would pick FRR;
    // so would the router ID. Only the AS_PATH length picks BIRD.
    let l = best_path_lab(
        "bpaspath",
        Announce {
            asn: 65000,
            prepend: 2,
            med: 100,
        },
        Announce {
            asn: 65000,
            prepend: 0,
            med: 200,
        },
    );
    let (best, other) = decided(&l);
    assert_eq!(best["from"], "bird", "best: {best}\nother: {other}");
    assert_eq!(best["reason"], "shorter AS_PATH 1 < 3", "{best}");
    assert_eq!(best["as_path"], json!([65000]), "{best}");
    assert_eq!(best["med"], 200, "{best}");
    assert_eq!(other["from"], "frr", "{other}");
    assert_eq!(other["as_path"], json!([65000, 65000, 65000]), "{other}");
    assert_eq!(other["med"], 100, "{other}");
}

#[test]
fn lower_med_wins_between_paths_from_the_same_neighbouring_as() {
    if !common::interop_enabled("lower_med_wins_between_paths_from_the_same_neighbouring_as") {
        return;
    }
    // Equal length, same neighbouring AS: MED decides, against the router ID.
    let l = best_path_lab(
        "bpmed",
        Announce {
            asn: 65000,
            prepend: 0,
            med: 200,
        },
        Announce {
            asn: 65000,
            prepend: 0,
            med: 100,
        },
    );
    let (best, other) = decided(&l);
    assert_eq!(best["from"], "bird", "best: {best}\nother: {other}");
    assert_eq!(best["reason"], "lower MED 100 < 200", "{best}");
    assert_eq!(other["med"], 200, "{other}");
}

#[test]
fn med_is_not_compared_across_neighbouring_ases() {
    if !common::interop_enabled("med_is_not_compared_across_neighbouring_ases") {
        return;
    }
    // Equal length, different neighbouring ASes: MED is skipped (RFC 4271
    // §9.1.2.2 c) and the lower router ID wins despite its worse MED.
    let l = best_path_lab(
        "bpnomed",
        Announce {
            asn: 65001,
            prepend: 0,
            med: 200,
        },
        Announce {
            asn: 65002,
            prepend: 0,
            med: 100,
        },
    );
    let (best, other) = decided(&l);
    assert_eq!(best["from"], "frr", "best: {best}\nother: {other}");
    assert_eq!(
        best["reason"],
        format!("lower router ID {FRR_ID} < {BIRD_ID}"),
        "{best}"
    );
    assert_eq!(best["med"], 200, "{best}");
    assert_eq!(other["from"], "bird", "{other}");
    assert_eq!(other["med"], 100, "{other}");
}
