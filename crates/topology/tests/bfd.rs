//! `bfd` on neighbours and `bfd_min_interval` on routers (docs/topology.md,
//! "BFD on a neighbour").

use hybridlab_topology::{parse, Bfd, Topology, TopologyError};
use std::time::Duration;

fn pair(a_router: &str, a: &str, b: &str) -> String {
    format!(
        r#"
[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
{a_router}
  [[router.neighbor]]
  router = "b"
  {a}

[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
  [[router.neighbor]]
  router = "a"
  {b}
"#
    )
}

fn good(text: &str) -> Topology {
    match parse("lab.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("expected a valid topology, got:\n{e}"),
    }
}

/// Every error of a bad file, as `LINE:COL: message`.
fn bad(text: &str) -> Vec<String> {
    match parse("lab.toml", text) {
        Ok(_) => panic!("expected an error"),
        Err(TopologyError::Invalid(d)) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn bfd_of(t: &Topology, router: usize) -> Option<Bfd> {
    t.routers[router].neighbors[0].bfd
}

#[test]
fn bfd_true_is_300_ms_times_3_with_a_300_ms_floor() {
    let t = good(&pair("", "bfd = true", "bfd = true"));
    let expected = Bfd {
        min_tx: Duration::from_millis(300),
        min_rx: Duration::from_millis(300),
        multiplier: 3,
        passive: false,
    };
    assert_eq!(bfd_of(&t, 0), Some(expected));
    assert_eq!(bfd_of(&t, 1), Some(expected));
    assert_eq!(t.routers[0].bfd_min_interval, Duration::from_millis(300));
}

#[test]
fn bfd_is_off_by_default_and_with_false() {
    let t = good(&pair("", "", ""));
    assert_eq!(bfd_of(&t, 0), None);
    let t = good(&pair("", "bfd = false", "bfd = false"));
    assert_eq!(bfd_of(&t, 0), None);
}

#[test]
fn bfd_table_and_router_floor() {
    let t = good(&pair(
        "bfd_min_interval = 50",
        "bfd = { min_tx = 100, min_rx = 200, multiplier = 5, passive = true }",
        "bfd = { multiplier = 4 }",
    ));
    assert_eq!(
        bfd_of(&t, 0),
        Some(Bfd {
            min_tx: Duration::from_millis(100),
            min_rx: Duration::from_millis(200),
            multiplier: 5,
            passive: true,
        })
    );
    assert_eq!(t.routers[0].bfd_min_interval, Duration::from_millis(50));
    let b = bfd_of(&t, 1).unwrap_or_default();
    assert_eq!((b.min_tx, b.multiplier), (Duration::from_millis(300), 4));
}

#[test]
fn multiplier_zero_is_refused_where_written() {
    assert_eq!(
        bad(&pair("", "bfd = { multiplier = 0 }", "bfd = true")),
        ["9:9: `bfd` multiplier must be 1..=255, not 0"]
    );
}

#[test]
fn zero_intervals_are_refused() {
    assert_eq!(
        bad(&pair("", "bfd = { min_tx = 0, min_rx = 0 }", "bfd = true")),
        [
            "9:9: `bfd` min_tx must be 1..=4294967 milliseconds, not 0",
            "9:9: `bfd` min_rx must be 1..=4294967 milliseconds, not 0",
        ]
    );
    assert_eq!(
        bad(&pair("bfd_min_interval = 0", "bfd = true", "bfd = true")),
        ["6:20: `bfd_min_interval` must be 1..=4294967, not 0"]
    );
}

#[test]
fn unknown_bfd_setting_is_refused() {
    let errors = bad(&pair(
        "",
        "bfd = { min_tx = 300, echo = true }",
        "bfd = true",
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("9:"), "{errors:?}");
}

#[test]
fn both_ends_of_an_emulated_link_must_run_bfd() {
    assert_eq!(
        bad(&pair("", "bfd = true", "")),
        ["9:9: `a` runs BFD to `b` but `b` does not run it back: set `bfd` on both ends of the link"]
    );
    assert_eq!(
        bad(&pair("", "", "bfd = { passive = true }")),
        ["17:9: `b` runs BFD to `a` but `a` does not run it back: set `bfd` on both ends of the link"]
    );
}

#[test]
fn external_neighbors_take_bfd_alone() {
    let t = good(
        r#"
[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
  [[router.neighbor]]
  address = "192.0.2.2"
  remote_asn = 65000
  bfd = true
"#,
    );
    assert_eq!(bfd_of(&t, 0), Some(Bfd::default()));
}
