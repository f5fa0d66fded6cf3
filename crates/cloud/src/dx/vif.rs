//! Direct Connect virtual interfaces: session settings, prefix limits, and
//! how AWS chooses among VIFs toward on-premises (spec §5).

use crate::decision::{Elimination, Rule};
use crate::dx::communities::AWS_ASN;
use crate::error::ConfigError;
use crate::limits::Limits;
use crate::path::Candidate;
use hybridlab_bgp::packet::{Family, Prefix};
use hybridlab_bgp::router::PrefixLimit;
use serde::Serialize;
use std::cmp::Reverse;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VifKind {
    Private,
    Public,
    Transit,
}

/// Where a private VIF ends on the AWS side; decides the Amazon ASN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VifAttachment {
    Vgw { asn: u32 },
    DxGateway { asn: u32 },
}

/// The ASN AWS speaks on a VIF: the VGW's when attached to one, the DX
/// gateway's through one, 7224 on public VIFs (spec §5.2).
pub fn amazon_asn(kind: VifKind, attachment: VifAttachment) -> u32 {
    match (kind, attachment) {
        (VifKind::Public, _) => u32::from(AWS_ASN),
        (_, VifAttachment::Vgw { asn }) | (_, VifAttachment::DxGateway { asn }) => asn,
    }
}

/// BGP and BFD settings of the AWS side of a VIF (spec §5.2, §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VifSettings {
    pub hold_time_secs: u16,
    pub keepalive_secs: u16,
    /// MD5 is always on; a VIF without a key gets a generated one
    /// (spec §5.2), so a mismatch means TCP never completes.
    pub md5_required: bool,
    /// TTL 1: no multihop (spec §5.2).
    pub ttl: u8,
    pub bfd_min_interval_ms: u32,
    pub bfd_multiplier: u8,
    pub graceful_restart_secs: u16,
}

impl Default for VifSettings {
    fn default() -> Self {
        VifSettings {
            hold_time_secs: 90,
            keepalive_secs: 30,
            md5_required: true,
            ttl: 1,
            bfd_min_interval_ms: 300,
            bfd_multiplier: 3,
            graceful_restart_secs: 120,
        }
    }
}

/// The smallest hold time AWS accepts on DX (spec §5.2).
pub const MIN_HOLD_SECS: u16 = 3;

/// Hold time after OPEN exchange: the lower of both offers (spec §5.2);
/// 0 and anything below 3 s refused (checklist 15).
pub fn negotiate_hold_time(aws: u16, customer: u16) -> Result<u16, ConfigError> {
    if customer == 0 {
        return Err(ConfigError::HoldTimeZero);
    }
    if customer < MIN_HOLD_SECS {
        return Err(ConfigError::HoldTimeTooShort {
            hold: customer,
            min: MIN_HOLD_SECS,
        });
    }
    Ok(aws.min(customer))
}

/// BFD never runs faster than 300 ms x 3 on the AWS side (spec §5.4).
pub fn validate_bfd(interval_ms: u32, multiplier: u8) -> Result<(), ConfigError> {
    let d = VifSettings::default();
    if interval_ms < d.bfd_min_interval_ms {
        return Err(ConfigError::BfdBelowMinimum {
            what: "interval (ms)",
            value: interval_ms,
            min: d.bfd_min_interval_ms,
        });
    }
    if multiplier < d.bfd_multiplier {
        return Err(ConfigError::BfdBelowMinimum {
            what: "multiplier",
            value: u32::from(multiplier),
            min: u32::from(d.bfd_multiplier),
        });
    }
    Ok(())
}

/// The max-prefix setting of one VIF session (one address family): 100 by
/// default on private and transit VIFs, `allocation` when set, 1 000 on
/// public VIFs; one more sends Cease / Maximum Number of Prefixes Reached
/// and the session goes Idle (spec §5.3, checklist 16).
pub fn prefix_limit(kind: VifKind, allocation: Option<u32>, limits: &Limits) -> PrefixLimit {
    let limit = match kind {
        VifKind::Public => limits.public_vif_prefixes,
        VifKind::Private | VifKind::Transit => allocation.unwrap_or(limits.private_vif_prefixes),
    };
    PrefixLimit {
        limit,
        restart_after: limits
            .prefix_limit_restart_after_secs
            .map(Duration::from_secs),
    }
}

/// Families a VIF session carries: one session per family (spec §5.2).
pub fn session_family(peer: IpAddr) -> Family {
    match peer {
        IpAddr::V4(_) => Family::IPV4_UNICAST,
        IpAddr::V6(_) => Family::IPV6_UNICAST,
    }
}

/// A public VIF accepts only pre-approved prefixes: an approved prefix or a
/// more specific one inside it (spec §5.3, checklist 19).
pub fn public_prefix_approved(prefix: &Prefix, approved: &[Prefix]) -> bool {
    approved.iter().any(|a| a.contains(prefix))
}

/// AWS's order among DX routes for one prefix, after longest prefix:
/// local-preference community, then AS_PATH (spec §5.5, checklist 18).
/// The equals that remain all stay: traffic spreads over them by flow hash.
pub(crate) fn rank_vifs(race: &mut Elimination<Candidate>) {
    race.keep_min_by_key(Rule::LocalPreferenceCommunity, |c| Reverse(c.local_pref));
    race.keep_min_by_key(Rule::ShortestAsPath, |c| c.as_path.path_len());
}

/// A flow's 5-tuple, the input of AWS's per-flow multipath.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FlowKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
}

/// Pick one of several equal VIF paths for a flow (spec §5.5: flow-based
/// multipath). The same flow always takes the same VIF: FNV-1a over the
/// 5-tuple, stable across runs and Rust versions, over paths sorted by
/// egress name so the input order does not matter.
pub fn pick_by_flow_hash<'a>(equal: &'a [Candidate], flow: &FlowKey) -> Option<&'a Candidate> {
    let mut sorted: Vec<&Candidate> = equal.iter().collect();
    sorted.sort_by(|a, b| a.egress.cmp(&b.egress));
    let len = u64::try_from(sorted.len()).ok().filter(|l| *l > 0)?;
    let index = usize::try_from(fnv1a(flow) % len).ok()?;
    sorted.get(index).copied()
}

fn fnv1a(flow: &FlowKey) -> u64 {
    let mut bytes = Vec::with_capacity(37);
    for ip in [flow.src, flow.dst] {
        match ip {
            IpAddr::V4(a) => bytes.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => bytes.extend_from_slice(&a.octets()),
        }
    }
    bytes.push(flow.protocol);
    bytes.extend_from_slice(&flow.src_port.to_be_bytes());
    bytes.extend_from_slice(&flow.dst_port.to_be_bytes());
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dx::communities::LocalPreference;
    use crate::path::Egress;
    use crate::source::RouteSource;
    use crate::vgw::select;
    use hybridlab_bgp::packet::{AsPath, Community, PathAttributes};
    use ipnet::IpNet;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn vif(name: &str, path: &[u32], communities: &[Community]) -> Candidate {
        let attrs = PathAttributes {
            as_path: Some(AsPath::from_sequence(path.iter().copied())),
            communities: communities.to_vec(),
            ..PathAttributes::default()
        };
        Candidate::from_attributes(
            p("192.168.0.0/16"),
            Egress::Vif(name.into()),
            RouteSource::DirectConnect,
            &attrs,
            true,
        )
    }

    fn flow(port: u16) -> FlowKey {
        FlowKey {
            src: "10.0.0.5".parse().unwrap(),
            dst: "192.168.1.1".parse().unwrap(),
            protocol: 6,
            src_port: port,
            dst_port: 443,
        }
    }

    #[test]
    fn dx_local_preference_community_is_evaluated_before_as_path() {
        let high = Community::new(AWS_ASN, 7300);
        let s = select(
            vec![
                vif("vif-a", &[65001], &[]),
                vif("vif-b", &[65001, 65001, 65001], &[high]),
            ],
            None,
        )
        .unwrap();
        assert_eq!(s.chosen.len(), 1);
        assert_eq!(s.chosen[0].egress, Egress::Vif("vif-b".into()));
        assert_eq!(s.chosen[0].local_pref, LocalPreference::High);
        assert_eq!(s.rule, Rule::LocalPreferenceCommunity);
    }

    #[test]
    fn dx_shorter_as_path_wins_at_equal_local_preference() {
        let s = select(
            vec![
                vif("vif-a", &[65001, 65001], &[]),
                vif("vif-b", &[65001], &[]),
            ],
            None,
        )
        .unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Vif("vif-b".into()));
        assert_eq!(s.rule, Rule::ShortestAsPath);
    }

    #[test]
    fn dx_as_path_prepending_only_steers_among_vifs_in_the_same_region() {
        let attrs = PathAttributes {
            as_path: Some(AsPath::from_sequence([65001])),
            ..PathAttributes::default()
        };
        let remote = Candidate::from_attributes(
            p("192.168.0.0/16"),
            Egress::Vif("vif-remote".into()),
            RouteSource::DirectConnect,
            &attrs,
            false,
        );
        let home_prepended = vif("vif-home", &[65001, 65001, 65001], &[]);
        let s = select(vec![remote, home_prepended], None).unwrap();
        assert_eq!(s.chosen[0].egress, Egress::Vif("vif-home".into()));
        assert_eq!(s.rule, Rule::LocalPreferenceCommunity);
    }

    #[test]
    fn dx_equal_vifs_share_traffic_by_flow_hash() {
        let s = select(
            vec![vif("vif-a", &[65001], &[]), vif("vif-b", &[65001], &[])],
            None,
        )
        .unwrap();
        assert_eq!(s.chosen.len(), 2);
        let first = pick_by_flow_hash(&s.chosen, &flow(1000)).unwrap();
        assert_eq!(pick_by_flow_hash(&s.chosen, &flow(1000)).unwrap(), first);
        let mut reversed = s.chosen.clone();
        reversed.reverse();
        assert_eq!(pick_by_flow_hash(&reversed, &flow(1000)).unwrap(), first);
        let used: std::collections::BTreeSet<String> = (0..64)
            .filter_map(|port| pick_by_flow_hash(&s.chosen, &flow(port)))
            .map(|c| c.egress.to_string())
            .collect();
        assert_eq!(used.len(), 2, "64 flows should use both VIFs");
        assert!(pick_by_flow_hash(&[], &flow(1)).is_none());
    }

    #[test]
    fn dx_hold_time_negotiates_to_the_lower_value() {
        let d = VifSettings::default();
        assert_eq!((d.hold_time_secs, d.keepalive_secs), (90, 30));
        assert_eq!(negotiate_hold_time(90, 30), Ok(30));
        assert_eq!(negotiate_hold_time(90, 180), Ok(90));
    }

    #[test]
    fn dx_hold_time_zero_and_below_three_seconds_are_refused() {
        assert_eq!(negotiate_hold_time(90, 0), Err(ConfigError::HoldTimeZero));
        assert!(matches!(
            negotiate_hold_time(90, 2),
            Err(ConfigError::HoldTimeTooShort { .. })
        ));
        assert_eq!(negotiate_hold_time(90, 3), Ok(3));
    }

    #[test]
    fn dx_vif_md5_is_mandatory_and_ttl_is_one() {
        let d = VifSettings::default();
        assert!(d.md5_required);
        assert_eq!(d.ttl, 1);
    }

    #[test]
    fn dx_bfd_never_faster_than_300ms_times_3() {
        assert!(validate_bfd(300, 3).is_ok());
        assert!(validate_bfd(299, 3).is_err());
        assert!(validate_bfd(300, 2).is_err());
    }

    #[test]
    fn dx_private_vif_prefix_limit_defaults_to_100_public_to_1000() {
        let l = Limits::default();
        assert_eq!(prefix_limit(VifKind::Private, None, &l).limit, 100);
        assert_eq!(prefix_limit(VifKind::Private, Some(500), &l).limit, 500);
        assert_eq!(prefix_limit(VifKind::Public, None, &l).limit, 1_000);
        assert_eq!(prefix_limit(VifKind::Private, None, &l).restart_after, None);
    }

    #[test]
    fn dx_amazon_asn_is_vgw_asn_dxgw_asn_or_7224_on_public_vifs() {
        assert_eq!(
            amazon_asn(VifKind::Private, VifAttachment::Vgw { asn: 65010 }),
            65010
        );
        assert_eq!(
            amazon_asn(VifKind::Private, VifAttachment::DxGateway { asn: 64512 }),
            64512
        );
        assert_eq!(
            amazon_asn(VifKind::Public, VifAttachment::Vgw { asn: 65010 }),
            7224
        );
    }

    #[test]
    fn public_vif_rejects_unapproved_prefixes() {
        let approved = [p("203.0.113.0/24")];
        assert!(public_prefix_approved(&p("203.0.113.0/24"), &approved));
        assert!(public_prefix_approved(&p("203.0.113.128/25"), &approved));
        assert!(!public_prefix_approved(&p("198.51.100.0/24"), &approved));
        assert!(!public_prefix_approved(&p("203.0.112.0/23"), &approved));
    }

    #[test]
    fn dx_vif_session_carries_one_address_family() {
        assert_eq!(
            session_family("169.254.1.1".parse().unwrap()),
            Family::IPV4_UNICAST
        );
        assert_eq!(
            session_family("fd00::1".parse().unwrap()),
            Family::IPV6_UNICAST
        );
    }
}
