//! BGP messages (RFC 4271 §4).

use super::{Capability, Family, PathAttributes, Prefix, Prefix4};
use bytes::Bytes;
use std::net::Ipv4Addr;

/// Largest message without the extended-message capability (RFC 4271 §4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Marker + length + type.
pub const HEADER_LEN: usize = 19;
/// AS_TRANS (RFC 6793 §9): stands in for a 4-octet AS in 2-octet fields.
pub const AS_TRANS: u16 = 23456;

///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Marker (16 octets, all ones)        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// OPEN (RFC 4271 §4.2).
///
/// ```text
///  +-+-+-+-+-+-+-+-+
///  |    Version    |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |     My Autonomous System      |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |           Hold Time           |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |                         BGP Identifier                        |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  | Opt Parm Len  |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  |             Optional Parameters (variable)                    |
///  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// The 2-octet field: AS_TRANS when the real AS does not fit.
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    /// Capabilities from every Capabilities optional parameter, in order.
    pub capabilities: Vec<Capability>,
    /// Optional parameters other than Capabilities (type, value). RFC 4271
    /// §6.2: an unrecognised one is an Unsupported Optional Parameter error;
    /// the session decides, so the decoder keeps them.
    pub unknown_parameters: Vec<(u8, Bytes)>,
}

impl Open {
    /// The speaker's real AS: the 4-octet capability when present (RFC 6793 §4.1).
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    pub fn supports_four_octet_as(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
    }

    /// RFC 2918 route refresh, or the pre-standard code 128 that some
    /// speakers still send beside it.
    pub fn supports_route_refresh(&self) -> bool {
        self.capabilities.iter().any(|c| {
            matches!(
                c,
                Capability::RouteRefresh | Capability::Unknown { code: 128, .. }
            )
        })
    }

    /// Families announced with the multiprotocol capability. RFC 4760 §8: a
    /// speaker that sends none supports IPv4 unicast only.
    pub fn families(&self) -> Vec<Family> {
        let mut families: Vec<Family> = self
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Multiprotocol(f) => Some(*f),
                _ => None,
            })
            .collect();
        if families.is_empty() {
            families.push(Family::IPV4_UNICAST);
        }
        families
    }
}

/// UPDATE (RFC 4271 §4.3, RFC 4760 §3-4).
///
/// IPv4 unicast routes travel in `withdrawn` / `nlri`; every other family in
/// `mp_unreach` / `mp_reach`. `attributes` holds the path attributes without
/// MP_REACH_NLRI and MP_UNREACH_NLRI, which are lifted out here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub withdrawn: Vec<Prefix4>,
    pub attributes: PathAttributes,
    pub nlri: Vec<Prefix4>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
}

impl Update {
    /// An UPDATE with nothing in it is the End-of-RIB marker for IPv4
    /// unicast (RFC 4724 §2).
    pub fn is_end_of_rib(&self) -> bool {
        self.withdrawn.is_empty()
            && self.nlri.is_empty()
            && self.mp_reach.is_none()
            && self.attributes == PathAttributes::default()
            && self
                .mp_unreach
                .as_ref()
                .is_none_or(|u| u.withdrawn.is_empty())
    }

    /// Every prefix this update announces, of any family.
    pub fn announced(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.nlri
            .iter()
            .map(|p| Prefix::V4(*p))
            .chain(self.mp_reach.iter().flat_map(|r| r.nlri.iter().copied()))
    }

    /// Every prefix this update withdraws, of any family.
    pub fn withdrawn_prefixes(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.withdrawn.iter().map(|p| Prefix::V4(*p)).chain(
            self.mp_unreach
                .iter()
                .flat_map(|u| u.withdrawn.iter().copied()),
        )
    }
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpReach {
    pub family: Family,
    /// For IPv6: the global address, then optionally the link-local one
    /// (RFC 2545 §3). Kept as raw addresses of the family.
    pub next_hops: Vec<std::net::IpAddr>,
    pub nlri: Vec<Prefix>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<Prefix>,
}

/// NOTIFICATION (RFC 4271 §4.5). Codes and subcodes are kept as numbers so an
/// unknown pair received from a peer can still be shown; see
/// [`super::NotificationCode`] for their names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Bytes,
}

/// ROUTE-REFRESH (RFC 2918 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteRefresh {
    pub family: Family,
    /// Reserved in RFC 2918; the subtype of RFC 7313.
    pub subtype: u8,
}
