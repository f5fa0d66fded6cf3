//! The IPsec settings a VPN tunnel (`[[vpn.tunnel]]`) and a neighbour's own
//! tunnel (`[[router.neighbor]] ipsec = {...}`) share, checked one way for
//! both (spec §1.2).

use crate::cloud::TunnelOptions;
use crate::error::Report;
use crate::raw::S;
use std::time::Duration;

/// A pre-shared key AWS would accept: 8-64 characters of A-Z a-z 0-9 . _,
/// not starting with 0.
pub(crate) fn psk(r: &mut impl Report, v: &S<String>) -> Option<String> {
    let psk = v.get_ref();
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || ch == '.' || ch == '_';
    if !(8..=64).contains(&psk.len()) || !psk.chars().all(allowed) || psk.starts_with('0') {
        r.err(
            v.span(),
            "`psk` must be 8-64 characters of A-Z a-z 0-9 . _ and not start with 0",
        );
        return None;
    }
    Some(psk.clone())
}

/// A duration in seconds within `lo..=hi`; `default` when not given.
pub(crate) fn seconds(
    r: &mut impl Report,
    v: &Option<S<i64>>,
    field: &str,
    lo: i64,
    hi: i64,
    default: Duration,
) -> Option<Duration> {
    v.as_ref().map_or(Some(default), |v| {
        r.int::<u64>(v, field, lo, hi).map(Duration::from_secs)
    })
}

/// Phase 1 900-28 800 s, phase 2 900-3 600 s and shorter than phase 1.
pub(crate) fn lifetimes(
    r: &mut impl Report,
    phase1: &Option<S<i64>>,
    phase2: &Option<S<i64>>,
) -> (Option<Duration>, Option<Duration>) {
    let d = TunnelOptions::default();
    let p1 = seconds(r, phase1, "phase1_lifetime", 900, 28_800, d.phase1_lifetime);
    let p2 = seconds(r, phase2, "phase2_lifetime", 900, 3_600, d.phase2_lifetime);
    if let (Some(a), Some(b), Some(v)) = (p1, p2, phase2) {
        if b >= a {
            r.err(
                v.span(),
                format!(
                    "`phase2_lifetime` ({} s) must be shorter than `phase1_lifetime` ({} s)",
                    b.as_secs(),
                    a.as_secs()
                ),
            );
        }
    }
    (p1, p2)
}

/// DPD timeout, at least 30 s.
pub(crate) fn dpd_timeout(r: &mut impl Report, v: &Option<S<i64>>) -> Option<Duration> {
    let d = TunnelOptions::default();
    seconds(r, v, "dpd_timeout", 30, i64::from(u32::MAX), d.dpd_timeout)
}
