//! Configuration checks that do not belong to one link: AS numbers, VLANs,
//! prefix allocations.

use crate::error::ConfigError;
use crate::limits::Limits;
use crate::vgw::TunnelRouting;

/// The Amazon-side ASN default of a VGW and a DX gateway (spec §2.1, §6).
pub const DEFAULT_AMAZON_ASN: u32 = 64512;

/// ASNs AWS keeps for itself; a CGW may not use them (spec §2.1, older API
/// text names 7224 and 9059; 10124 and 17493 are unconfirmed and allowed).
const RESERVED_CGW_ASNS: [u32; 2] = [7224, 9059];

/// Amazon-side ASNs of VGWs and DX gateways are private: 64512-65534 or
/// 4200000000-4294967294 (spec §2.1, §6).
pub fn validate_amazon_asn(asn: u32) -> Result<(), ConfigError> {
    if (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn) {
        Ok(())
    } else {
        Err(ConfigError::AmazonAsnNotPrivate { asn })
    }
}

/// A CGW's ASN must differ from its VGW's (spec §2.1, checklist 7): with
/// equal ASNs each side would drop the other's routes as a loop.
pub fn validate_cgw_asn(cgw_asn: u32, vgw_asn: u32) -> Result<(), ConfigError> {
    if cgw_asn == 0 {
        return Err(ConfigError::CgwAsnZero);
    }
    if RESERVED_CGW_ASNS.contains(&cgw_asn) {
        return Err(ConfigError::CgwAsnReserved { asn: cgw_asn });
    }
    if cgw_asn == vgw_asn {
        return Err(ConfigError::CgwAsnEqualsVgwAsn { asn: cgw_asn });
    }
    Ok(())
}

/// 802.1Q VLAN of a VIF: 1-4094 (spec §5.1).
pub fn validate_vlan(vlan: u16) -> Result<(), ConfigError> {
    if (1..=4094).contains(&vlan) {
        Ok(())
    } else {
        Err(ConfigError::VlanOutOfRange { vlan })
    }
}

/// A private VIF's prefix allocation per address family: 1 up to the pool's
/// per-VIF maximum (spec §5.3: default 100, up to 1 000).
pub fn validate_vif_prefix_limit(limit: u32, limits: &Limits) -> Result<(), ConfigError> {
    if (1..=limits.private_vif_prefixes_max).contains(&limit) {
        Ok(())
    } else {
        Err(ConfigError::PrefixLimitOutOfRange {
            limit,
            min: 1,
            max: limits.private_vif_prefixes_max,
        })
    }
}

/// A count against a quota, e.g. VPN connections per VGW (spec §1.1).
pub fn validate_count(what: &str, count: usize, limit: u32) -> Result<(), ConfigError> {
    if u64::try_from(count).map_or(true, |c| c > u64::from(limit)) {
        return Err(ConfigError::OverLimit {
            what: what.to_string(),
            count,
            limit,
        });
    }
    Ok(())
}

/// A VPN connection routes either by BGP or by static routes, never both
/// (spec §2.5), with at most `vpn_static_routes` static routes (spec §2.4).
pub fn validate_vpn_routing(
    connection: &str,
    routing: TunnelRouting,
    static_routes: usize,
    limits: &Limits,
) -> Result<(), ConfigError> {
    if routing == TunnelRouting::Bgp && static_routes > 0 {
        return Err(ConfigError::StaticRoutesOnBgpConnection {
            connection: connection.to_string(),
        });
    }
    let what = format!("static routes on VPN connection {connection}");
    validate_count(&what, static_routes, limits.vpn_static_routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgw_asn_must_differ_from_vgw_asn() {
        assert_eq!(
            validate_cgw_asn(64512, 64512),
            Err(ConfigError::CgwAsnEqualsVgwAsn { asn: 64512 })
        );
        assert!(validate_cgw_asn(65000, 64512).is_ok());
    }

    #[test]
    fn cgw_asn_reserved_by_aws_is_rejected() {
        assert!(matches!(
            validate_cgw_asn(7224, 64512),
            Err(ConfigError::CgwAsnReserved { .. })
        ));
        assert!(matches!(
            validate_cgw_asn(0, 64512),
            Err(ConfigError::CgwAsnZero)
        ));
    }

    #[test]
    fn amazon_side_asn_must_be_private() {
        assert!(validate_amazon_asn(DEFAULT_AMAZON_ASN).is_ok());
        assert!(validate_amazon_asn(4_200_000_000).is_ok());
        assert!(validate_amazon_asn(65535).is_err());
        assert!(validate_amazon_asn(7224).is_err());
    }

    #[test]
    fn vlan_must_be_1_to_4094() {
        assert!(validate_vlan(1).is_ok());
        assert!(validate_vlan(4094).is_ok());
        assert!(validate_vlan(0).is_err());
        assert!(validate_vlan(4095).is_err());
    }

    #[test]
    fn private_vif_prefix_limit_is_configurable_up_to_1000() {
        let l = Limits::default();
        assert!(validate_vif_prefix_limit(1000, &l).is_ok());
        assert!(validate_vif_prefix_limit(1001, &l).is_err());
        assert!(validate_vif_prefix_limit(0, &l).is_err());
    }

    #[test]
    fn vpn_connections_per_vgw_quota_is_enforced() {
        let l = Limits::default();
        assert!(validate_count("VPN connections on vgw-1", 10, l.vpn_connections_per_vgw).is_ok());
        let e = validate_count("VPN connections on vgw-1", 11, l.vpn_connections_per_vgw);
        assert_eq!(
            e.unwrap_err().to_string(),
            "VPN connections on vgw-1: 11 exceeds the limit of 10"
        );
    }

    #[test]
    fn vpn_connection_is_static_or_bgp_never_both() {
        let l = Limits::default();
        assert!(validate_vpn_routing("vpn-1", TunnelRouting::Static, 3, &l).is_ok());
        assert!(validate_vpn_routing("vpn-1", TunnelRouting::Bgp, 0, &l).is_ok());
        assert!(matches!(
            validate_vpn_routing("vpn-1", TunnelRouting::Bgp, 1, &l),
            Err(ConfigError::StaticRoutesOnBgpConnection { .. })
        ));
    }

    #[test]
    fn vpn_static_routes_are_limited_to_100_per_connection() {
        let l = Limits::default();
        assert!(validate_vpn_routing("vpn-1", TunnelRouting::Static, 100, &l).is_ok());
        assert!(validate_vpn_routing("vpn-1", TunnelRouting::Static, 101, &l).is_err());
    }
}
