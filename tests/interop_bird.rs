//! hybridlab against a real BIRD 2 over a veth pair with TCP MD5. The
//! scenarios, shared with FRR, are in tests/common/scenarios.rs.

mod common;

use common::peer::PeerKind;
use common::scenarios;

#[test]
fn bird_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw() {
    if !common::interop_enabled(
        "bird_md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw",
    ) {
        return;
    }
    scenarios::md5_sessions_carry_v4_v6_both_ways_with_export_policy_and_withdraw(PeerKind::Bird);
}

#[test]
fn bird_announcing_101_prefixes_trips_max_prefix_100_until_cleared() {
    if !common::interop_enabled("bird_announcing_101_prefixes_trips_max_prefix_100_until_cleared") {
        return;
    }
    scenarios::announcing_101_prefixes_trips_max_prefix_100_until_cleared(PeerKind::Bird);
}

#[test]
fn bird_with_a_different_md5_password_never_establishes() {
    if !common::interop_enabled("bird_with_a_different_md5_password_never_establishes") {
        return;
    }
    scenarios::with_a_different_md5_password_never_establishes(PeerKind::Bird);
}
