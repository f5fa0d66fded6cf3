//! Our OPEN, the checks on the peer's, and what the two agree on
//! (RFC 4271 §4.2, §6.2; RFC 5492; RFC 6793).

use super::{ConnId, Negotiated, SessionConfig};
use crate::packet::{Capability, Family, Open, OpenError, AS_TRANS};
use bytes::{BufMut, Bytes, BytesMut};

/// The only BGP version spoken (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;

/// RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN.
pub const OPEN_HOLD_TIME: std::time::Duration = std::time::Duration::from_secs(240);

/// The OPEN we send: version 4, our AS (AS_TRANS when it needs four octets,
/// RFC 6793 §4.1), proposed hold time, identifier, and the capabilities
/// multiprotocol per family (RFC 4760 §8), route refresh (RFC 2918) and
/// 4-octet AS (RFC 6793 §3).
pub fn local_open(config: &SessionConfig) -> Open {
    let mut capabilities: Vec<Capability> = config
        .families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    capabilities.push(Capability::RouteRefresh);
    capabilities.push(Capability::FourOctetAs(config.local_as));
    Open {
        version: BGP_VERSION,
        my_as: two_octet_as(config.local_as),
        hold_time: config.hold_time,
        bgp_id: config.local_id,
        capabilities,
        unknown_parameters: Vec::new(),
    }
}

fn two_octet_as(asn: u32) -> u16 {
    u16::try_from(asn).unwrap_or(AS_TRANS)
}

/// RFC 4271 §6.2, in the order the section lists the checks. The codec
/// already refuses what the message alone shows wrong (version, hold time
/// 1 or 2, identifier 0); they are checked again here so the session never
/// depends on it.
pub fn check_open(config: &SessionConfig, open: &Open) -> Result<(), OpenError> {
    if open.version != BGP_VERSION {
        return Err(OpenError::UnsupportedVersion {
            version: open.version,
        });
    }
    // RFC 6793 §4.1: a 4-octet speaker's real AS is in the capability; an
    // old speaker whose AS needs four octets cannot be the peer configured,
    // since it can only say AS_TRANS.
    let asn = open.asn();
    if asn != config.remote_as {
        return Err(OpenError::BadPeerAs { asn });
    }
    // RFC 6286 §2.2: a non-zero identifier, unique within the AS, so it may
    // equal ours only across an AS boundary.
    let ibgp = config.local_as == config.remote_as;
    if open.bgp_id.is_unspecified() || (ibgp && open.bgp_id == config.local_id) {
        return Err(OpenError::BadBgpIdentifier { id: open.bgp_id });
    }
    if let Some((kind, value)) = open.unknown_parameters.first() {
        return Err(OpenError::UnsupportedOptionalParameter {
            param_type: *kind,
            parameter: parameter_bytes(*kind, value),
        });
    }
    if open.hold_time == 1 || open.hold_time == 2 {
        return Err(OpenError::UnacceptableHoldTime {
            hold_time: open.hold_time,
        });
    }
    Ok(())
}

/// The parameter as it came (type, length, value), for the NOTIFICATION
/// data. Longer than 255 octets it can only have come in the extended
/// format of RFC 9072, with a 2-octet length.
fn parameter_bytes(kind: u8, value: &Bytes) -> Bytes {
    let mut out = BytesMut::with_capacity(3 + value.len());
    out.put_u8(kind);
    match u8::try_from(value.len()) {
        Ok(len) => out.put_u8(len),
        Err(_) => out.put_u16(u16::try_from(value.len()).unwrap_or(u16::MAX)),
    }
    out.put_slice(value);
    out.freeze()
}

/// The error in words, with what was expected where that helps.
pub fn explain(config: &SessionConfig, e: &OpenError) -> String {
    match e {
        OpenError::BadPeerAs { asn } => {
            format!(
                "peer is AS {asn}, configured remote AS is {}",
                config.remote_as
            )
        }
        other => other.to_string(),
    }
}

/// What the session runs with, given an accepted OPEN.
pub fn negotiate(config: &SessionConfig, conn: ConnId, peer_open: Open) -> Negotiated {
    // RFC 4271 §4.2: the smaller of the two proposals; 0 on either side
    // means no keepalives and no hold timer.
    let hold_time = config.hold_time.min(peer_open.hold_time);
    let keepalive = keepalive_interval(config.keepalive, hold_time);
    let offered = offered_families(config);
    let peer_families = peer_open.families();
    let mut families: Vec<Family> = Vec::new();
    for f in offered {
        if peer_families.contains(&f) && !families.contains(&f) {
            families.push(f);
        }
    }
    Negotiated {
        conn,
        hold_time,
        keepalive,
        // We always offer both capabilities, so the peer decides.
        four_octet_as: peer_open.supports_four_octet_as(),
        route_refresh: peer_open.supports_route_refresh(),
        families,
        remote_id: peer_open.bgp_id,
        remote_as: peer_open.asn(),
        peer_open,
    }
}

/// RFC 4271 §10: a third of the hold time unless configured lower. A
/// configured 0 would starve the peer's hold timer, so it means "default".
fn keepalive_interval(configured: Option<u16>, hold_time: u16) -> u16 {
    let third = hold_time / 3;
    match configured {
        Some(k) if k > 0 => k.min(third),
        _ => third,
    }
}

/// RFC 4760 §8: a speaker that announces no multiprotocol capability
/// supports IPv4 unicast only.
fn offered_families(config: &SessionConfig) -> Vec<Family> {
    if config.families.is_empty() {
        vec![Family::IPV4_UNICAST]
    } else {
        config.families.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn config(local_as: u32, remote_as: u32) -> SessionConfig {
        SessionConfig::new(local_as, remote_as, "10.0.0.1".parse().unwrap())
    }

    fn peer_open(asn: u32, hold: u16, caps: Vec<Capability>) -> Open {
        Open {
            version: 4,
            my_as: two_octet_as(asn),
            hold_time: hold,
            bgp_id: "10.0.0.2".parse().unwrap(),
            capabilities: caps,
            unknown_parameters: Vec::new(),
        }
    }

    #[test]
    fn our_open_uses_as_trans_for_four_octet_as() {
        let open = local_open(&config(4_200_000_000, 65001));
        assert_eq!(open.my_as, AS_TRANS);
        assert_eq!(open.asn(), 4_200_000_000);
        assert_eq!(open.version, 4);
        assert_eq!(open.hold_time, 90);
        assert_eq!(
            open.capabilities,
            vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::Multiprotocol(Family::IPV6_UNICAST),
                Capability::RouteRefresh,
                Capability::FourOctetAs(4_200_000_000),
            ]
        );
        assert_eq!(local_open(&config(65000, 65001)).my_as, 65000);
    }

    #[test]
    fn accepts_matching_peer() {
        let c = config(65001, 65002);
        assert_eq!(check_open(&c, &peer_open(65002, 90, vec![])), Ok(()));
        let four = peer_open(
            4_200_000_000,
            90,
            vec![Capability::FourOctetAs(4_200_000_000)],
        );
        assert_eq!(check_open(&config(65001, 4_200_000_000), &four), Ok(()));
    }

    #[test]
    fn four_octet_peer_without_capability_is_bad_peer_as() {
        // An old speaker can only say AS_TRANS.
        let old = peer_open(4_200_000_000, 90, vec![]);
        assert_eq!(old.my_as, AS_TRANS);
        assert_eq!(
            check_open(&config(65001, 4_200_000_000), &old),
            Err(OpenError::BadPeerAs {
                asn: u32::from(AS_TRANS)
            })
        );
    }

    #[test]
    fn identifier_rules() {
        let mut open = peer_open(65002, 90, vec![]);
        open.bgp_id = Ipv4Addr::UNSPECIFIED;
        assert!(matches!(
            check_open(&config(65001, 65002), &open),
            Err(OpenError::BadBgpIdentifier { .. })
        ));
        // Our own identifier: fine across ASes, refused inside one.
        let mut open = peer_open(65001, 90, vec![]);
        open.bgp_id = "10.0.0.1".parse().unwrap();
        assert!(matches!(
            check_open(&config(65001, 65001), &open),
            Err(OpenError::BadBgpIdentifier { .. })
        ));
        let mut open = peer_open(65002, 90, vec![]);
        open.bgp_id = "10.0.0.1".parse().unwrap();
        assert_eq!(check_open(&config(65001, 65002), &open), Ok(()));
    }

    #[test]
    fn bad_peer_as_is_explained_against_the_configuration() {
        let c = config(65001, 65002);
        let e = check_open(&c, &peer_open(65003, 90, vec![])).unwrap_err();
        assert_eq!(
            explain(&c, &e),
            "peer is AS 65003, configured remote AS is 65002"
        );
    }

    #[test]
    fn hold_time_one_and_two_are_refused() {
        let c = config(65001, 65002);
        for hold in [1, 2] {
            let err = check_open(&c, &peer_open(65002, hold, vec![])).unwrap_err();
            let n = err.to_notification();
            assert_eq!((n.code, n.subcode), (2, 6));
        }
        for hold in [0, 3, 65535] {
            assert_eq!(check_open(&c, &peer_open(65002, hold, vec![])), Ok(()));
        }
    }

    #[test]
    fn unknown_optional_parameter_is_refused() {
        let mut open = peer_open(65002, 90, vec![]);
        open.unknown_parameters
            .push((7, Bytes::from_static(&[1, 2])));
        let n = check_open(&config(65001, 65002), &open)
            .unwrap_err()
            .to_notification();
        assert_eq!((n.code, n.subcode), (2, 4));
    }

    #[test]
    fn unsupported_version_names_version_four() {
        let mut open = peer_open(65002, 90, vec![]);
        open.version = 3;
        let n = check_open(&config(65001, 65002), &open)
            .unwrap_err()
            .to_notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (2, 1, &[0u8, 4][..]));
    }

    #[test]
    fn negotiation() {
        let mut c = config(65001, 65002);
        c.hold_time = 90;
        let n = negotiate(
            &c,
            7,
            peer_open(
                65002,
                30,
                vec![
                    Capability::Multiprotocol(Family::IPV6_UNICAST),
                    Capability::RouteRefresh,
                    Capability::FourOctetAs(65002),
                ],
            ),
        );
        assert_eq!((n.conn, n.hold_time, n.keepalive), (7, 30, 10));
        assert!(n.four_octet_as && n.route_refresh);
        assert_eq!(n.families, vec![Family::IPV6_UNICAST]);
        assert_eq!(n.remote_as, 65002);

        // No multiprotocol capability: IPv4 unicast only (RFC 4760 §8).
        let n = negotiate(&c, 1, peer_open(65002, 0, vec![]));
        assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
        assert_eq!((n.hold_time, n.keepalive), (0, 0));
        assert!(!n.four_octet_as && !n.route_refresh);
    }

    #[test]
    fn keepalive_is_the_smaller_of_configured_and_a_third() {
        assert_eq!(keepalive_interval(None, 90), 30);
        assert_eq!(keepalive_interval(Some(10), 90), 10);
        assert_eq!(keepalive_interval(Some(60), 90), 30);
        assert_eq!(keepalive_interval(Some(0), 90), 30);
        assert_eq!(keepalive_interval(Some(10), 0), 0);
        assert_eq!(keepalive_interval(None, 3), 1);
    }
}
