//! Packing many prefixes that share attributes into as few UPDATEs as fit
//! in 4096 octets each (RFC 4271 §4.1): IPv4 in the NLRI and Withdrawn
//! Routes fields, IPv6 in MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760).

use super::codec::prefixes;
use super::error::EncodeError;
use super::{
    try_encode_message, CodecContext, Family, Message, MpReach, MpUnreach, PathAttributes, Prefix,
    Prefix4, Update, HEADER_LEN, MAX_MESSAGE_LEN,
};
use bytes::{Bytes, BytesMut};
use std::net::{IpAddr, Ipv6Addr};

/// Header plus the two 2-octet length fields of an UPDATE.
const UPDATE_FIXED: usize = HEADER_LEN + 4;
/// Attribute header with a 2-octet length: the most an MP attribute needs.
const ATTR_HEADER_MAX: usize = 4;
/// AFI, SAFI, next-hop length and reserved octets of MP_REACH_NLRI.
const MP_REACH_FIXED: usize = 5;
/// AFI and SAFI of MP_UNREACH_NLRI.
const MP_UNREACH_FIXED: usize = 3;
/// Longest prefix on the wire: a /128.
const MAX_PREFIX_LEN: usize = 17;

/// The next hop of IPv6 routes: a global address and, on a shared link,
/// the link-local one (RFC 2545 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHop6 {
    pub global: Ipv6Addr,
    pub link_local: Option<Ipv6Addr>,
}

impl From<Ipv6Addr> for NextHop6 {
    fn from(global: Ipv6Addr) -> Self {
        NextHop6 {
            global,
            link_local: None,
        }
    }
}

impl NextHop6 {
    fn addresses(&self) -> Vec<IpAddr> {
        std::iter::once(self.global)
            .chain(self.link_local)
            .map(IpAddr::V6)
            .collect()
    }
}

/// The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for
/// IPv4 unicast, an empty MP_UNREACH_NLRI for the others.
pub fn end_of_rib(family: Family) -> Update {
    if family == Family::IPV4_UNICAST {
        return Update::default();
    }
    Update {
        mp_unreach: Some(MpUnreach {
            family,
            withdrawn: Vec::new(),
        }),
        ..Update::default()
    }
}

/// The IPv4 prefixes (for the NLRI field) and the IPv6 ones (for
/// MP_REACH/MP_UNREACH) of a mixed list, in order.
fn by_family(
    prefixes: &[Prefix],
) -> (
    impl Iterator<Item = Prefix4> + '_,
    impl Iterator<Item = Prefix> + '_,
) {
    let v4 = prefixes.iter().filter_map(|p| match p {
        Prefix::V4(p) => Some(*p),
        Prefix::V6(_) => None,
    });
    let v6 = prefixes
        .iter()
        .filter(|p| matches!(p, Prefix::V6(_)))
        .copied();
    (v4, v6)
}

/// UPDATEs announcing `prefixes` with `attrs`, each small enough for one
/// message. IPv4 prefixes need `attrs.next_hop`; IPv6 ones need
/// `next_hop6` and go out without NEXT_HOP (RFC 4760 §3).
pub fn split_announcements(
    attrs: &PathAttributes,
    next_hop6: Option<NextHop6>,
    prefixes: &[Prefix],
    ctx: &CodecContext,
) -> Result<Vec<Update>, EncodeError> {
    let (v4, v6) = by_family(prefixes);
    let mut updates = Vec::new();
    if prefixes.iter().any(|p| matches!(p, Prefix::V4(_))) {
        if attrs.next_hop.is_none() {
            return Err(EncodeError::NoIpv4NextHop);
        }
        announce_v4(attrs, v4, ctx, &mut updates)?;
    }
    if prefixes.iter().any(|p| matches!(p, Prefix::V6(_))) {
        let nh = next_hop6.ok_or(EncodeError::NoIpv6NextHop)?;
        let mp_attrs = PathAttributes {
            next_hop: None,
            ..attrs.clone()
        };
        announce_mp(
            &mp_attrs,
            Family::IPV6_UNICAST,
            &nh.addresses(),
            v6,
            ctx,
            &mut updates,
        )?;
    }
    Ok(updates)
}

/// UPDATEs withdrawing `prefixes`, each small enough for one message.
pub fn split_withdrawals(prefixes: &[Prefix]) -> Vec<Update> {
    let (v4, v6) = by_family(prefixes);
    let mut updates = Vec::new();
    withdraw_v4(v4, &mut updates);
    withdraw_mp(Family::IPV6_UNICAST, v6, &mut updates);
    updates
}

/// [`split_announcements`], encoded: one frame per message.
pub fn pack_announcements(
    attrs: &PathAttributes,
    next_hop6: Option<NextHop6>,
    prefixes: &[Prefix],
    ctx: &CodecContext,
) -> Result<Vec<Bytes>, EncodeError> {
    encode_all(split_announcements(attrs, next_hop6, prefixes, ctx)?, ctx)
}

/// [`split_withdrawals`], encoded: one frame per message.
pub fn pack_withdrawals(prefixes: &[Prefix], ctx: &CodecContext) -> Vec<Bytes> {
    // Withdrawals carry no attributes, so every one fits.
    encode_all(split_withdrawals(prefixes), ctx).unwrap_or_default()
}

fn encode_all(updates: Vec<Update>, ctx: &CodecContext) -> Result<Vec<Bytes>, EncodeError> {
    let mut frames = Vec::with_capacity(updates.len());
    for update in updates {
        let mut buf = BytesMut::with_capacity(MAX_MESSAGE_LEN);
        try_encode_message(&Message::Update(update), ctx, &mut buf)?;
        frames.push(buf.freeze());
    }
    Ok(frames)
}

/// An UPDATE too large for one message, as several that each fit:
/// withdrawals first, then announcements with the same attributes.
pub(crate) fn split_update(
    update: &Update,
    ctx: &CodecContext,
) -> Result<Vec<Update>, EncodeError> {
    let mut updates = Vec::new();
    withdraw_v4(update.withdrawn.iter().copied(), &mut updates);
    if let Some(unreach) = &update.mp_unreach {
        if unreach.withdrawn.is_empty() {
            updates.push(end_of_rib(unreach.family));
        }
        withdraw_mp(
            unreach.family,
            unreach.withdrawn.iter().copied(),
            &mut updates,
        );
    }
    announce_v4(
        &update.attributes,
        update.nlri.iter().copied(),
        ctx,
        &mut updates,
    )?;
    if let Some(reach) = &update.mp_reach {
        let nlri = reach.nlri.iter().copied();
        announce_mp(
            &update.attributes,
            reach.family,
            &reach.next_hops,
            nlri,
            ctx,
            &mut updates,
        )?;
    }
    Ok(updates)
}

fn attributes_len(attrs: &PathAttributes, ctx: &CodecContext) -> usize {
    let mut scratch = BytesMut::new();
    super::codec::encode_path_attributes(attrs, ctx, &mut scratch);
    scratch.len()
}

/// Room left for prefixes once `overhead` octets are spoken for; an error
/// when not even the longest prefix of the family fits.
fn budget(overhead: usize, longest: usize) -> Result<usize, EncodeError> {
    match MAX_MESSAGE_LEN.checked_sub(overhead) {
        Some(room) if room >= longest => Ok(room),
        _ => Err(EncodeError::TooLarge {
            what: "path attributes",
            needed: overhead + longest,
        }),
    }
}

fn announce_v4(
    attrs: &PathAttributes,
    nlri: impl Iterator<Item = Prefix4>,
    ctx: &CodecContext,
    out: &mut Vec<Update>,
) -> Result<(), EncodeError> {
    let mut nlri = nlri.peekable();
    if nlri.peek().is_none() {
        return Ok(());
    }
    let room = budget(UPDATE_FIXED + attributes_len(attrs, ctx), 5)?;
    for chunk in chunks(nlri, room, prefixes::wire_len_v4) {
        out.push(Update {
            attributes: attrs.clone(),
            nlri: chunk,
            ..Update::default()
        });
    }
    Ok(())
}

fn announce_mp(
    attrs: &PathAttributes,
    family: Family,
    next_hops: &[IpAddr],
    nlri: impl Iterator<Item = Prefix>,
    ctx: &CodecContext,
    out: &mut Vec<Update>,
) -> Result<(), EncodeError> {
    let mut nlri = nlri.peekable();
    if nlri.peek().is_none() {
        return Ok(());
    }
    let nh_len: usize = next_hops
        .iter()
        .map(|a| if a.is_ipv4() { 4 } else { 16 })
        .sum();
    let overhead =
        UPDATE_FIXED + attributes_len(attrs, ctx) + ATTR_HEADER_MAX + MP_REACH_FIXED + nh_len;
    let room = budget(overhead, MAX_PREFIX_LEN)?;
    for chunk in chunks(nlri, room, prefixes::wire_len) {
        out.push(Update {
            attributes: attrs.clone(),
            mp_reach: Some(MpReach {
                family,
                next_hops: next_hops.to_vec(),
                nlri: chunk,
            }),
            ..Update::default()
        });
    }
    Ok(())
}

fn withdraw_v4(withdrawn: impl Iterator<Item = Prefix4>, out: &mut Vec<Update>) {
    let room = MAX_MESSAGE_LEN - UPDATE_FIXED;
    for chunk in chunks(withdrawn, room, prefixes::wire_len_v4) {
        out.push(Update {
            withdrawn: chunk,
            ..Update::default()
        });
    }
}

fn withdraw_mp(family: Family, withdrawn: impl Iterator<Item = Prefix>, out: &mut Vec<Update>) {
    let room = MAX_MESSAGE_LEN - UPDATE_FIXED - ATTR_HEADER_MAX - MP_UNREACH_FIXED;
    for chunk in chunks(withdrawn, room, prefixes::wire_len) {
        out.push(Update {
            mp_unreach: Some(MpUnreach {
                family,
                withdrawn: chunk,
            }),
            ..Update::default()
        });
    }
}

/// Groups `items` into runs whose wire sizes add up to at most `room`.
/// `room` is at least the largest item, so every run holds one or more.
fn chunks<T>(
    items: impl Iterator<Item = T>,
    room: usize,
    wire_len: impl Fn(&T) -> usize,
) -> Vec<Vec<T>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut used = 0;
    for item in items {
        let len = wire_len(&item);
        if used + len > room && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
            used = 0;
        }
        used += len;
        run.push(item);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode_message, AsPath, Community, Origin};
    use std::net::Ipv4Addr;

    fn attrs() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65001, 65002])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            med: Some(10),
            communities: vec![Community::new(65001, 1)],
            ..PathAttributes::default()
        }
    }

    fn v4_24s(n: u32) -> Vec<Prefix> {
        (0..n)
            .map(|i| Prefix::V4(Prefix4::new(Ipv4Addr::from((10 << 24) | (i << 8)), 24).unwrap()))
            .collect()
    }

    #[test]
    fn frames_fit_and_carry_every_prefix_once() {
        let ctx = CodecContext {
            four_octet_as: true,
        };
        let mut prefixes = v4_24s(5000);
        prefixes.extend((0..3000u128).map(|i| {
            Prefix::V6(
                crate::packet::Prefix6::new(
                    Ipv6Addr::from((0x2001_0db8u128 << 96) | (i << 64)),
                    64,
                )
                .unwrap(),
            )
        }));
        let nh = NextHop6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        };
        let frames = pack_announcements(&attrs(), Some(nh), &prefixes, &ctx).unwrap();
        let mut seen = Vec::new();
        for f in &frames {
            assert!(f.len() <= MAX_MESSAGE_LEN);
            // Dense: no frame but the last of a family is far from full.
            let decoded = decode_message(f, &ctx).unwrap();
            assert!(decoded.attribute_errors.is_empty());
            let Message::Update(u) = decoded.message else {
                panic!()
            };
            if u.mp_reach.is_some() {
                assert_eq!(u.attributes.next_hop, None);
            } else {
                assert_eq!(u.attributes, attrs());
            }
            seen.extend(u.announced());
        }
        assert_eq!(seen, prefixes);
        let full = frames
            .iter()
            .filter(|f| f.len() > MAX_MESSAGE_LEN - 20)
            .count();
        assert!(
            full >= frames.len() - 2,
            "{full} of {} frames nearly full",
            frames.len()
        );
    }

    #[test]
    fn withdrawals_fit() {
        let ctx = CodecContext::default();
        let prefixes = v4_24s(3000);
        let frames = pack_withdrawals(&prefixes, &ctx);
        assert_eq!(frames.len(), 3);
        let mut seen = Vec::new();
        for f in &frames {
            let Message::Update(u) = decode_message(f, &ctx).unwrap().message else {
                panic!()
            };
            seen.extend(u.withdrawn_prefixes());
        }
        assert_eq!(seen, prefixes);
    }

    #[test]
    fn missing_next_hops_are_errors() {
        let ctx = CodecContext::default();
        let no_nh = PathAttributes {
            next_hop: None,
            ..attrs()
        };
        assert_eq!(
            split_announcements(&no_nh, None, &v4_24s(1), &ctx),
            Err(EncodeError::NoIpv4NextHop)
        );
        let v6 = vec!["2001:db8::/32".parse().unwrap()];
        assert_eq!(
            split_announcements(&attrs(), None, &v6, &ctx),
            Err(EncodeError::NoIpv6NextHop)
        );
    }

    #[test]
    fn oversized_attributes_are_an_error() {
        let huge = PathAttributes {
            communities: (0..1100).map(Community).collect(),
            ..attrs()
        };
        let err = split_announcements(&huge, None, &v4_24s(1), &CodecContext::default());
        assert!(matches!(err, Err(EncodeError::TooLarge { .. })));
    }

    #[test]
    fn an_oversized_update_is_sent_as_several() {
        let ctx = CodecContext::default();
        let update = Update {
            withdrawn: v4_24s(1500)
                .into_iter()
                .map(|p| match p {
                    Prefix::V4(p) => p,
                    _ => unreachable!(),
                })
                .collect(),
            attributes: attrs(),
            nlri: v4_24s(1500)
                .into_iter()
                .map(|p| match p {
                    Prefix::V4(p) => p,
                    _ => unreachable!(),
                })
                .collect(),
            ..Update::default()
        };
        let mut out = BytesMut::new();
        try_encode_message(&Message::Update(update.clone()), &ctx, &mut out).unwrap();
        let mut reader = crate::packet::FrameReader::new();
        reader.push(&out);
        let (mut withdrawn, mut nlri) = (Vec::new(), Vec::new());
        while let Some(f) = reader.next_frame().unwrap() {
            let Message::Update(u) = decode_message(&f, &ctx).unwrap().message else {
                panic!()
            };
            withdrawn.extend(u.withdrawn);
            nlri.extend(u.nlri);
        }
        assert_eq!(withdrawn, update.withdrawn);
        assert_eq!(nlri, update.nlri);
    }

    #[test]
    fn end_of_rib_markers() {
        assert!(end_of_rib(Family::IPV4_UNICAST).is_end_of_rib());
        assert!(end_of_rib(Family::IPV6_UNICAST).is_end_of_rib());
    }
}
