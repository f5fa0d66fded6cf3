//! BFD between hybridlab and real FRR 8.4 (bfdd + bgpd, with zebra between
//! them) over a veth pair: negotiation at 300 ms × 3, detection of a silent
//! loss and of a link going down, BGP torn down with Cease / BFD Down and
//! held Idle, recovery in the right order, and detection times over ten
//! cuts. The scenarios, shared with BIRD, are in
//! tests/common/bfd_scenarios.rs; the steps of a cut in tests/common/bfd.rs.

mod common;

use common::bfd;
use common::bfd_scenarios;
use common::peer::PeerKind;

#[test]
fn frr_bfd_comes_up_at_300ms_x3_on_both_sides() {
    if !bfd::interop_enabled("frr_bfd_comes_up_at_300ms_x3_on_both_sides") {
        return;
    }
    bfd_scenarios::bfd_comes_up_at_300ms_x3_on_both_sides(PeerKind::Frr);
}

#[test]
fn frr_silent_loss_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("frr_silent_loss_drops_bgp_at_once_and_both_return") {
        return;
    }
    bfd_scenarios::silent_loss_drops_bgp_at_once_and_both_return(PeerKind::Frr);
}

#[test]
fn frr_link_down_drops_bgp_at_once_and_both_return() {
    if !bfd::interop_enabled("frr_link_down_drops_bgp_at_once_and_both_return") {
        return;
    }
    bfd_scenarios::link_down_drops_bgp_at_once_and_both_return(PeerKind::Frr);
}

#[test]
fn frr_detection_times_over_ten_silent_cuts() {
    if !bfd::interop_enabled("frr_detection_times_over_ten_silent_cuts") {
        return;
    }
    bfd_scenarios::detection_times_over_ten_silent_cuts(PeerKind::Frr);
}

#[test]
fn frr_hears_admin_down_when_hybridlab_stops() {
    if !bfd::interop_enabled("frr_hears_admin_down_when_hybridlab_stops") {
        return;
    }
    bfd_scenarios::hears_admin_down_when_hybridlab_stops(PeerKind::Frr);
}

/// The harness's own pieces, unprivileged: log stamps and figures.
#[test]
fn frr_and_bird_log_stamps_read_as_unix_ms() {
    let offset_ms = bfd::local_utc_offset_secs() * 1000;
    let frr = "2026/11/26 09:24:00.486 BFD: [SEY1D-NT8EQ] state-change: up -> down";
    let bird = "2026-11-26 09:24:00.594 <TRACE> bfd1: Session to 192.0.2.1 changed state";
    // 2026-11-26T09:24:00Z is 1 795 685 040 s after the epoch.
    assert_eq!(
        bfd::log_line_unix_ms(frr).map(|t| t as i64 + offset_ms),
        Some(1_795_685_040_486)
    );
    assert_eq!(
        bfd::log_line_unix_ms(bird).map(|t| t as i64 + offset_ms),
        Some(1_795_685_040_594)
    );
    assert_eq!(bfd::log_line_unix_ms("BIRD 2.0.12 ready."), None);
    assert_eq!(
        bfd::summary(&[900, 700, 800]),
        "min 700 median 800 max 900 ms"
    );
    assert_eq!(bfd::summary(&[4, 1, 3, 2]), "min 1 median 2.5 max 4 ms");
}
