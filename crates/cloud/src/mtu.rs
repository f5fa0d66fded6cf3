//! Which MTU a path to on-premises gets (spec §5.1, §7, checklist 21).

use crate::dx::vif::VifKind;
use crate::error::ConfigError;
use crate::path::Candidate;
use crate::source::RouteSource;

/// The MTU of every VPN path and of non-jumbo VIFs.
pub const STANDARD_MTU: u16 = 1500;

/// MTUs a VIF may be set to (spec §5.1).
pub fn validate_vif_mtu(kind: VifKind, mtu: u16) -> Result<(), ConfigError> {
    let allowed: &[u16] = match kind {
        VifKind::Private => &[1500, 9001],
        VifKind::Transit => &[1500, 8500],
        VifKind::Public => &[1500],
    };
    if allowed.contains(&mtu) {
        Ok(())
    } else {
        Err(ConfigError::VifMtuNotAllowed {
            mtu,
            allowed: allowed.to_vec(),
        })
    }
}

/// MTU for traffic to a prefix given every candidate the VGW holds for it:
/// jumbo only when all candidates are DX VIFs with the same MTU; learned
/// also over VPN, or over VIFs with different MTUs, it is 1500 (spec §5.1,
/// §7). `vif_mtu` answers a VIF's configured MTU.
pub fn path_mtu(candidates: &[Candidate], vif_mtu: impl Fn(&str) -> Option<u16>) -> u16 {
    let mut mtus = candidates.iter().map(|c| match (c.egress.vif(), c.source) {
        (Some(name), RouteSource::DirectConnect) => vif_mtu(name).unwrap_or(STANDARD_MTU),
        _ => STANDARD_MTU,
    });
    let Some(first) = mtus.next() else {
        return STANDARD_MTU;
    };
    if mtus.all(|m| m == first) {
        first
    } else {
        STANDARD_MTU
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dx::communities::LocalPreference;
    use crate::path::{Egress, TunnelId};
    use hybridlab_bgp::packet::AsPath;

    fn vif(name: &str) -> Candidate {
        Candidate {
            prefix: "192.168.0.0/16".parse().unwrap(),
            egress: Egress::Vif(name.into()),
            source: RouteSource::DirectConnect,
            as_path: AsPath::from_sequence([65001]),
            med: None,
            local_pref: LocalPreference::Medium,
            communities: Vec::new(),
        }
    }

    fn mtu_of(name: &str) -> Option<u16> {
        match name {
            "jumbo-a" | "jumbo-b" => Some(9001),
            _ => Some(1500),
        }
    }

    #[test]
    fn dx_jumbo_mtu_is_used_when_only_jumbo_vifs_carry_the_route() {
        assert_eq!(path_mtu(&[vif("jumbo-a"), vif("jumbo-b")], mtu_of), 9001);
    }

    #[test]
    fn dx_jumbo_mtu_falls_back_to_1500_when_route_is_also_learned_on_vpn() {
        let vpn =
            Candidate::vpn_static("192.168.0.0/16".parse().unwrap(), TunnelId::new("vpn-1", 1));
        assert_eq!(path_mtu(&[vif("jumbo-a"), vpn], mtu_of), 1500);
    }

    #[test]
    fn dx_jumbo_mtu_falls_back_to_1500_on_vifs_with_different_mtu() {
        assert_eq!(path_mtu(&[vif("jumbo-a"), vif("std")], mtu_of), 1500);
    }

    #[test]
    fn vif_mtu_must_be_one_the_vif_kind_allows() {
        assert!(validate_vif_mtu(VifKind::Private, 9001).is_ok());
        assert!(validate_vif_mtu(VifKind::Transit, 8500).is_ok());
        assert!(validate_vif_mtu(VifKind::Transit, 9001).is_err());
        let e = validate_vif_mtu(VifKind::Public, 9001).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VIF MTU 9001 is not allowed; choose one of [1500]"
        );
    }
}
