//! The VGW's one primary egress tunnel and its MED marking (spec §2.3, §2.5, §8).

use super::{MED_PRIMARY, MED_SECONDARY};
use crate::path::TunnelId;

/// The one tunnel across the whole VGW that is the egress among equals and
/// gets MED 100 (spec §2.3, §2.5). AWS may change it at will; we keep it
/// while it stays UP and otherwise take the lowest UP tunnel, so the choice
/// is deterministic and re-made only when the primary fails.
pub fn choose_primary(current: Option<&TunnelId>, up: &[TunnelId]) -> Option<TunnelId> {
    match current {
        Some(c) if up.contains(c) => Some(c.clone()),
        _ => up.iter().min().cloned(),
    }
}

/// Before AWS updates `tunnel` (endpoint replacement), another UP tunnel
/// becomes primary so it gets the lower MED first (spec §8, checklist 14).
/// Stays on `tunnel` only when no other tunnel is UP.
pub fn primary_before_maintenance(
    current: Option<&TunnelId>,
    up: &[TunnelId],
    tunnel: &TunnelId,
) -> Option<TunnelId> {
    let others: Vec<TunnelId> = up.iter().filter(|t| *t != tunnel).cloned().collect();
    choose_primary(current, &others).or_else(|| choose_primary(current, up))
}

/// MED the VGW puts on everything it announces over `tunnel` (spec §2.3).
pub fn tunnel_med(tunnel: &TunnelId, primary: Option<&TunnelId>) -> u32 {
    if primary == Some(tunnel) {
        MED_PRIMARY
    } else {
        MED_SECONDARY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vgw::fixtures::*;

    #[test]
    fn vgw_primary_tunnel_is_kept_while_up_and_rechosen_when_it_fails() {
        let up = [t("vpn-1", 1), t("vpn-1", 2), t("vpn-2", 1)];
        assert_eq!(choose_primary(None, &up), Some(t("vpn-1", 1)));
        assert_eq!(
            choose_primary(Some(&t("vpn-2", 1)), &up),
            Some(t("vpn-2", 1))
        );
        assert_eq!(
            choose_primary(Some(&t("vpn-2", 1)), &up[..2]),
            Some(t("vpn-1", 1))
        );
        assert_eq!(choose_primary(Some(&t("vpn-1", 1)), &[]), None);
    }

    #[test]
    fn vgw_moves_primary_and_lower_med_to_the_survivor_before_maintenance() {
        let up = [t("vpn-1", 1), t("vpn-1", 2)];
        let p1 = t("vpn-1", 1);
        let next = primary_before_maintenance(Some(&p1), &up, &p1).unwrap();
        assert_eq!(next, t("vpn-1", 2));
        assert_eq!(tunnel_med(&next, Some(&next)), MED_PRIMARY);
        assert_eq!(tunnel_med(&p1, Some(&next)), MED_SECONDARY);
        assert_eq!(
            primary_before_maintenance(Some(&p1), &up[..1], &p1),
            Some(p1)
        );
    }
}
