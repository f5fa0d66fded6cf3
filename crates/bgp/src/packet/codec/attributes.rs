//! Path attributes on the wire (RFC 4271 §4.3, §5; RFC 1997; RFC 4760;
//! RFC 6793), and the RFC 7606 decision taken on each malformed one.
//!
//! ```text
//! 0                   1
//! 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//! +---------------+---------------+
//! |  Attr. Flags  |Attr. Type Code|   then Attribute Length: one octet,
//! +---------------+---------------+   or two with the Extended Length bit
//! ```

use super::prefixes;
use crate::packet::error::UpdateError;
use crate::packet::notification::update_subcode;
use crate::packet::{
    flags, type_code, Aggregator, AsPath, AsSegment, AttributeAction, AttributeError, CodecContext,
    Community, DecodeError, Family, MpReach, MpUnreach, Origin, PathAttributes, RawAttribute,
    SegmentKind, AS_TRANS,
};
use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u8};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type Res<'a, T> = nom::IResult<&'a [u8], T, ()>;

/// One attribute as framed: flags, type, value, and the whole of it
/// (header included) for NOTIFICATION data.
struct Framed<'a> {
    flags: u8,
    type_code: u8,
    value: &'a [u8],
    whole: &'a [u8],
}

fn framed(input: &[u8]) -> Res<'_, Framed<'_>> {
    let (rest, attr_flags) = be_u8(input)?;
    let (rest, code) = be_u8(rest)?;
    let (rest, len) = if attr_flags & flags::EXTENDED_LENGTH != 0 {
        be_u16(rest)?
    } else {
        let (rest, len) = be_u8(rest)?;
        (rest, u16::from(len))
    };
    let (rest, value) = take(len)(rest)?;
    let whole = &input[..input.len() - rest.len()];
    Ok((
        rest,
        Framed {
            flags: attr_flags,
            type_code: code,
            value,
            whole,
        },
    ))
}

/// The path attribute section of an UPDATE, decoded, with the RFC 7606
/// actions taken so far.
#[derive(Debug, Default)]
pub(crate) struct DecodedAttributes {
    pub attributes: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub errors: Vec<AttributeError>,
}

impl DecodedAttributes {
    pub fn treat_as_withdraw(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.action == AttributeAction::TreatAsWithdraw)
    }

    pub fn record(
        &mut self,
        type_code: u8,
        action: AttributeAction,
        subcode: u8,
        data: &[u8],
        reason: impl Into<String>,
    ) {
        self.errors.push(AttributeError {
            type_code,
            action,
            reason: reason.into(),
            subcode,
            data: Bytes::copy_from_slice(data),
        });
    }
}

/// Decoding state that does not outlive the section.
struct Decoder<'c> {
    ctx: &'c CodecContext,
    out: DecodedAttributes,
    /// Type codes seen, for RFC 7606 §3 g.
    seen: [u64; 4],
    as4_path: Option<AsPath>,
    as4_aggregator: Option<Aggregator>,
}

/// Decodes the path attribute section. `Err` is a session reset; every
/// other problem is an [`AttributeError`] in the result.
pub(crate) fn decode(section: &[u8], ctx: &CodecContext) -> Result<DecodedAttributes, DecodeError> {
    let mut d = Decoder {
        ctx,
        out: DecodedAttributes::default(),
        seen: [0; 4],
        as4_path: None,
        as4_aggregator: None,
    };
    let mut rest = section;
    while !rest.is_empty() {
        match framed(rest) {
            Ok((tail, attr)) => {
                rest = tail;
                d.attribute(&attr)?;
            }
            Err(_) => {
                // RFC 7606 §4: an attribute running past the section, or too
                // few octets left for a header. The NLRI is still found
                // through the Total Path Attribute Length, so the UPDATE is
                // treated as withdraw; nothing after this point can be read.
                let code = rest.get(1).copied().unwrap_or(0);
                d.out.record(
                    code,
                    AttributeAction::TreatAsWithdraw,
                    update_subcode::MALFORMED_ATTRIBUTE_LIST,
                    &[],
                    "attribute runs past the path attribute section (RFC 7606 §4)",
                );
                break;
            }
        }
    }
    d.merge_as4();
    // Type code order, as they are sent (RFC 4271 §5): the same attributes
    // received in another order are then equal in memory too.
    d.out.attributes.unknown.sort_by_key(|a| a.type_code);
    Ok(d.out)
}

/// The Optional and Transitive bits each known attribute must carry
/// (RFC 4271 §5, RFC 4760 §3-4, RFC 6793 §3).
fn expected_flags(code: u8) -> Option<u8> {
    const WELL_KNOWN: u8 = flags::TRANSITIVE;
    const OPTIONAL_TRANSITIVE: u8 = flags::OPTIONAL | flags::TRANSITIVE;
    Some(match code {
        type_code::ORIGIN
        | type_code::AS_PATH
        | type_code::NEXT_HOP
        | type_code::LOCAL_PREF
        | type_code::ATOMIC_AGGREGATE => WELL_KNOWN,
        type_code::MULTI_EXIT_DISC | type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI => {
            flags::OPTIONAL
        }
        type_code::AGGREGATOR
        | type_code::COMMUNITIES
        | type_code::AS4_PATH
        | type_code::AS4_AGGREGATOR => OPTIONAL_TRANSITIVE,
        _ => return None,
    })
}

fn name(code: u8) -> &'static str {
    match code {
        type_code::ORIGIN => "ORIGIN",
        type_code::AS_PATH => "AS_PATH",
        type_code::NEXT_HOP => "NEXT_HOP",
        type_code::MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
        type_code::LOCAL_PREF => "LOCAL_PREF",
        type_code::ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        type_code::AGGREGATOR => "AGGREGATOR",
        type_code::COMMUNITIES => "COMMUNITIES",
        type_code::MP_REACH_NLRI => "MP_REACH_NLRI",
        type_code::MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        type_code::AS4_PATH => "AS4_PATH",
        type_code::AS4_AGGREGATOR => "AS4_AGGREGATOR",
        _ => "attribute",
    }
}

fn u32_of(value: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(value.try_into().ok()?))
}

impl Decoder<'_> {
    fn withdraw(&mut self, a: &Framed<'_>, subcode: u8, data: &[u8], why: &str, section: &str) {
        let reason = format!(
            "malformed {}: {why} (RFC 7606 {section})",
            name(a.type_code)
        );
        self.out.record(
            a.type_code,
            AttributeAction::TreatAsWithdraw,
            subcode,
            data,
            reason,
        );
    }

    fn discard(&mut self, a: &Framed<'_>, subcode: u8, why: &str, rfc: &str) {
        let reason = format!("{} discarded: {why} ({rfc})", name(a.type_code));
        self.out.record(
            a.type_code,
            AttributeAction::Discard,
            subcode,
            a.whole,
            reason,
        );
    }

    fn attribute(&mut self, a: &Framed<'_>) -> Result<(), DecodeError> {
        let code = a.type_code;
        let (word, bit) = (usize::from(code >> 6), 1u64 << (code & 63));
        if self.seen[word] & bit != 0 {
            if code == type_code::MP_REACH_NLRI || code == type_code::MP_UNREACH_NLRI {
                return Err(DecodeError::Update(UpdateError::MalformedAttributeList {
                    reason: "MP_REACH_NLRI or MP_UNREACH_NLRI appears twice (RFC 7606 §3 g)",
                }));
            }
            self.discard(
                a,
                update_subcode::MALFORMED_ATTRIBUTE_LIST,
                "appears more than once; the first is kept",
                "RFC 7606 §3 g",
            );
            return Ok(());
        }
        self.seen[word] |= bit;

        let Some(expected) = expected_flags(code) else {
            return self.unknown(a);
        };
        let flags_conflict = a.flags & (flags::OPTIONAL | flags::TRANSITIVE) != expected;
        if flags_conflict {
            self.withdraw(
                a,
                update_subcode::ATTRIBUTE_FLAGS_ERROR,
                a.whole,
                &format!("flags {:#04x} conflict with the type", a.flags),
                "§3 c",
            );
            // The NLRI of an MP attribute must still be read to be withdrawn.
            if code != type_code::MP_REACH_NLRI && code != type_code::MP_UNREACH_NLRI {
                return Ok(());
            }
        }
        self.known(a)
    }

    fn unknown(&mut self, a: &Framed<'_>) -> Result<(), DecodeError> {
        if a.flags & flags::OPTIONAL == 0 {
            // RFC 4271 §6.3; RFC 7606 does not soften it.
            return Err(DecodeError::Update(
                UpdateError::UnrecognizedWellKnownAttribute {
                    type_code: a.type_code,
                    attribute: Bytes::copy_from_slice(a.whole),
                },
            ));
        }
        self.out.attributes.unknown.push(RawAttribute {
            // Extended Length is framing, not meaning: the encoder sets it
            // again when the value needs it.
            flags: a.flags & !flags::EXTENDED_LENGTH,
            type_code: a.type_code,
            value: Bytes::copy_from_slice(a.value),
        });
        Ok(())
    }

    fn known(&mut self, a: &Framed<'_>) -> Result<(), DecodeError> {
        let length_error = update_subcode::ATTRIBUTE_LENGTH_ERROR;
        let four = self.ctx.four_octet_as;
        match a.type_code {
            type_code::ORIGIN => match a.value {
                [0] => self.out.attributes.origin = Some(Origin::Igp),
                [1] => self.out.attributes.origin = Some(Origin::Egp),
                [2] => self.out.attributes.origin = Some(Origin::Incomplete),
                [_] => self.withdraw(
                    a,
                    update_subcode::INVALID_ORIGIN_ATTRIBUTE,
                    a.whole,
                    "undefined value",
                    "§7.1",
                ),
                _ => self.withdraw(a, length_error, a.whole, "length is not 1", "§7.1"),
            },
            type_code::AS_PATH => match decode_as_path(a.value, if four { 4 } else { 2 }) {
                Ok(path) => self.out.attributes.as_path = Some(path),
                // RFC 4271 §6.3: Malformed AS_PATH carries no data.
                Err(why) => self.withdraw(a, update_subcode::MALFORMED_AS_PATH, &[], why, "§7.2"),
            },
            type_code::NEXT_HOP => match <[u8; 4]>::try_from(a.value) {
                Ok(octets) => self.out.attributes.next_hop = Some(Ipv4Addr::from(octets)),
                Err(_) => self.withdraw(a, length_error, a.whole, "length is not 4", "§7.3"),
            },
            type_code::MULTI_EXIT_DISC => match u32_of(a.value) {
                Some(med) => self.out.attributes.med = Some(med),
                None => self.withdraw(a, length_error, a.whole, "length is not 4", "§7.4"),
            },
            type_code::LOCAL_PREF => match u32_of(a.value) {
                Some(pref) => self.out.attributes.local_pref = Some(pref),
                None => self.withdraw(a, length_error, a.whole, "length is not 4", "§7.5"),
            },
            type_code::ATOMIC_AGGREGATE => {
                if a.value.is_empty() {
                    self.out.attributes.atomic_aggregate = true;
                } else {
                    self.discard(a, length_error, "length is not 0", "RFC 7606 §7.6");
                }
            }
            type_code::AGGREGATOR => match decode_aggregator(a.value, four) {
                Some(agg) => self.out.attributes.aggregator = Some(agg),
                None => self.discard(
                    a,
                    length_error,
                    if four {
                        "length is not 8"
                    } else {
                        "length is not 6"
                    },
                    "RFC 7606 §7.7",
                ),
            },
            type_code::COMMUNITIES => {
                if a.value.is_empty() || !a.value.len().is_multiple_of(4) {
                    self.withdraw(
                        a,
                        length_error,
                        a.whole,
                        "length is 0 or not a multiple of 4",
                        "§7.8",
                    );
                } else {
                    self.out.attributes.communities = a
                        .value
                        .chunks_exact(4)
                        .map(|c| Community(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                        .collect();
                }
            }
            type_code::MP_REACH_NLRI => match decode_mp_reach(a.value, a.whole)? {
                Some(reach) => self.out.mp_reach = Some(reach),
                None => self.discard(
                    a,
                    update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                    "family not supported",
                    "RFC 4760 §7",
                ),
            },
            type_code::MP_UNREACH_NLRI => match decode_mp_unreach(a.value, a.whole)? {
                Some(unreach) => self.out.mp_unreach = Some(unreach),
                None => self.discard(
                    a,
                    update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                    "family not supported",
                    "RFC 4760 §7",
                ),
            },
            type_code::AS4_PATH => self.as4_path(a),
            type_code::AS4_AGGREGATOR => {
                if four {
                    self.discard(a, 0, "sent by a 4-octet AS speaker", "RFC 6793 §6");
                } else {
                    match decode_aggregator(a.value, true) {
                        Some(agg) => self.as4_aggregator = Some(agg),
                        None => self.discard(a, length_error, "length is not 8", "RFC 6793 §6"),
                    }
                }
            }
            _ => return self.unknown(a),
        }
        Ok(())
    }

    fn as4_path(&mut self, a: &Framed<'_>) {
        if self.ctx.four_octet_as {
            self.discard(a, 0, "sent by a 4-octet AS speaker", "RFC 6793 §6");
            return;
        }
        match decode_as_path(a.value, 4) {
            Ok(path) if path.segments.is_empty() => self.discard(
                a,
                update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                "empty",
                "RFC 6793 §6",
            ),
            Ok(mut path) => {
                let before = path.segments.len();
                path.segments.retain(|s| {
                    !matches!(s.kind, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
                });
                if path.segments.len() != before {
                    // The segments go, the attribute stays (RFC 6793 §6).
                    self.discard(
                        a,
                        update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                        "confederation segments removed",
                        "RFC 6793 §6",
                    );
                }
                self.as4_path = Some(path);
            }
            Err(why) => self.discard(
                a,
                update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                why,
                "RFC 6793 §6",
            ),
        }
    }

    /// RFC 6793 §4.2.3: rebuild the 4-octet path and aggregator from what a
    /// 2-octet speaker sent.
    fn merge_as4(&mut self) {
        let attrs = &mut self.out.attributes;
        let as4_path = self.as4_path.take();
        if let Some(as4_agg) = self.as4_aggregator.take() {
            match attrs.aggregator {
                Some(agg) if agg.asn == u32::from(AS_TRANS) => attrs.aggregator = Some(as4_agg),
                Some(_) => {
                    // An old speaker aggregated after the AS4 attributes were
                    // made: both AS4 attributes are stale and ignored.
                    let reason = "AS4_AGGREGATOR and AS4_PATH ignored: AGGREGATOR is not AS_TRANS (RFC 6793 §4.2.3)";
                    self.out.record(
                        type_code::AS4_AGGREGATOR,
                        AttributeAction::Discard,
                        0,
                        &[],
                        reason,
                    );
                    return;
                }
                None => {}
            }
        }
        if let (Some(path), Some(as4)) = (attrs.as_path.as_mut(), as4_path) {
            if let Some(merged) = merge_as4_path(path, as4) {
                *path = merged;
            } else {
                let reason = "AS4_PATH ignored: longer than AS_PATH (RFC 6793 §4.2.3)";
                self.out.record(
                    type_code::AS4_PATH,
                    AttributeAction::Discard,
                    0,
                    &[],
                    reason,
                );
            }
        }
    }
}

/// AS_PATH segments (RFC 4271 §4.3) of `size`-octet AS numbers; the error
/// names which RFC 7606 §7.2 case applies.
///
/// ```text
/// +---------------+---------------+-------------------------------+
/// | segment type  | segment length| AS numbers (length × 2 or 4)  |
/// +---------------+---------------+-------------------------------+
/// ```
pub(crate) fn decode_as_path(mut value: &[u8], size: usize) -> Result<AsPath, &'static str> {
    let mut segments = Vec::new();
    while !value.is_empty() {
        let [kind, count, rest @ ..] = value else {
            return Err("one octet left where a segment header is due");
        };
        let kind = match kind {
            1 => SegmentKind::Set,
            2 => SegmentKind::Sequence,
            3 => SegmentKind::ConfedSequence,
            4 => SegmentKind::ConfedSet,
            _ => return Err("unknown segment type"),
        };
        if *count == 0 {
            return Err("segment of length 0");
        }
        let (body, tail) = rest
            .split_at_checked(usize::from(*count) * size)
            .ok_or("segment runs past the attribute")?;
        let asns = body
            .chunks_exact(size)
            .map(|c| match *c {
                [a, b] => u32::from(u16::from_be_bytes([a, b])),
                [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
                _ => 0,
            })
            .collect();
        segments.push(AsSegment { kind, asns });
        value = tail;
    }
    Ok(AsPath { segments })
}

fn decode_aggregator(value: &[u8], four: bool) -> Option<Aggregator> {
    let (asn, addr) = match (four, value.len()) {
        (true, 8) => (u32_of(&value[..4])?, &value[4..]),
        (false, 6) => (
            u32::from(u16::from_be_bytes([value[0], value[1]])),
            &value[2..],
        ),
        _ => return None,
    };
    let octets: [u8; 4] = addr.try_into().ok()?;
    Some(Aggregator {
        asn,
        address: Ipv4Addr::from(octets),
    })
}

/// RFC 6793 §4.2.3: keep as many leading ASes of AS_PATH as AS4_PATH is
/// shorter, then AS4_PATH. Lengths count as in the decision process: an
/// AS_SET is one, confederation segments nothing, and confederation
/// segments at the front come along. `None` when AS4_PATH is the longer.
fn merge_as4_path(path: &AsPath, as4: AsPath) -> Option<AsPath> {
    let mut budget = path.path_len().checked_sub(as4.path_len())?;
    let mut segments = Vec::with_capacity(path.segments.len() + as4.segments.len());
    for seg in &path.segments {
        match seg.kind {
            SegmentKind::ConfedSequence | SegmentKind::ConfedSet => segments.push(seg.clone()),
            _ if budget == 0 => break,
            SegmentKind::Set => {
                segments.push(seg.clone());
                budget -= 1;
            }
            SegmentKind::Sequence => {
                let take = budget.min(seg.asns.len());
                segments.push(AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: seg.asns[..take].to_vec(),
                });
                budget -= take;
            }
        }
    }
    let mut as4_segments = as4.segments.into_iter();
    // A sequence cut from AS_PATH and a leading AS4 sequence are one run.
    if let (Some(last), Some(first)) = (segments.last_mut(), as4_segments.as_slice().first()) {
        if last.kind == SegmentKind::Sequence
            && first.kind == SegmentKind::Sequence
            && last.asns.len() + first.asns.len() <= 255
        {
            last.asns.extend_from_slice(&first.asns);
            as4_segments.next();
        }
    }
    segments.extend(as4_segments);
    Some(AsPath { segments })
}

fn optional_attribute_error(code: u8, reason: &'static str, whole: &[u8]) -> DecodeError {
    DecodeError::Update(UpdateError::OptionalAttributeError {
        type_code: code,
        reason,
        attribute: Bytes::copy_from_slice(whole),
    })
}

fn supported(family: Family) -> bool {
    family == Family::IPV4_UNICAST || family == Family::IPV6_UNICAST
}

/// MP_REACH_NLRI (RFC 4760 §3). A bad next-hop length or unparsable NLRI
/// leaves the NLRI unknown, so only a session reset is safe (RFC 7606
/// §7.11, §3 j); `None` is a family this speaker does not carry.
///
/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Length of Next Hop Network Address (1 octet)            |
/// +---------------------------------------------------------+
/// | Network Address of Next Hop (variable)                  |
/// +---------------------------------------------------------+
/// | Reserved (1 octet)                                      |
/// +---------------------------------------------------------+
/// | Network Layer Reachability Information (variable)       |
/// +---------------------------------------------------------+
/// ```
fn decode_mp_reach(value: &[u8], whole: &[u8]) -> Result<Option<MpReach>, DecodeError> {
    let code = type_code::MP_REACH_NLRI;
    let header = |i| -> Res<'_, (u16, u8, &[u8])> {
        let (i, afi) = be_u16(i)?;
        let (i, safi) = be_u8(i)?;
        let (i, nh_len) = be_u8(i)?;
        let (i, nh) = take(nh_len)(i)?;
        let (i, _reserved) = be_u8(i)?;
        Ok((i, (afi, safi, nh)))
    };
    let (nlri, (afi, safi, nh)) = header(value)
        .map_err(|_| optional_attribute_error(code, "shorter than its fields", whole))?;
    let family = Family::new(afi, safi);
    if !supported(family) {
        return Ok(None);
    }
    let Some(next_hops) = next_hops(afi, nh) else {
        return Err(optional_attribute_error(
            code,
            "next hop length wrong for the family (RFC 7606 §7.11)",
            whole,
        ));
    };
    let mut prefixes = Vec::new();
    prefixes::decode_mp(afi, nlri, &mut prefixes)
        .map_err(|e| optional_attribute_error(code, e.reason(), whole))?;
    Ok(Some(MpReach {
        family,
        next_hops,
        nlri: prefixes,
    }))
}

/// The next hops of MP_REACH_NLRI, when their length suits the family:
/// an IPv4 address for IPv4 routes; for IPv6 routes a global address, then
/// optionally a link-local one (RFC 2545 §3). RFC 8950 allows the IPv6
/// forms for IPv4 routes too.
fn next_hops(afi: u16, nh: &[u8]) -> Option<Vec<IpAddr>> {
    let v6 = |o: &[u8]| Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(o).ok()?)));
    match (afi, nh.len()) {
        (Family::AFI_IPV4, 4) => Some(vec![IpAddr::V4(Ipv4Addr::from(
            <[u8; 4]>::try_from(nh).ok()?,
        ))]),
        (_, 16) => Some(vec![v6(nh)?]),
        (_, 32) => Some(vec![v6(&nh[..16])?, v6(&nh[16..])?]),
        _ => None,
    }
}

/// MP_UNREACH_NLRI (RFC 4760 §4): AFI (2), SAFI (1), withdrawn routes.
fn decode_mp_unreach(value: &[u8], whole: &[u8]) -> Result<Option<MpUnreach>, DecodeError> {
    let code = type_code::MP_UNREACH_NLRI;
    let header = |i| -> Res<'_, (u16, u8)> {
        let (i, afi) = be_u16(i)?;
        let (i, safi) = be_u8(i)?;
        Ok((i, (afi, safi)))
    };
    let (withdrawn, (afi, safi)) = header(value)
        .map_err(|_| optional_attribute_error(code, "shorter than its fields", whole))?;
    let family = Family::new(afi, safi);
    if !supported(family) {
        return Ok(None);
    }
    let mut prefixes = Vec::new();
    prefixes::decode_mp(afi, withdrawn, &mut prefixes)
        .map_err(|e| optional_attribute_error(code, e.reason(), whole))?;
    Ok(Some(MpUnreach {
        family,
        withdrawn: prefixes,
    }))
}

/// Writes one attribute header; Extended Length only when the value needs
/// it (RFC 4271 §4.3).
fn put_header(out: &mut BytesMut, attr_flags: u8, code: u8, len: usize) {
    match u8::try_from(len) {
        Ok(short) => {
            out.put_u8(attr_flags & !flags::EXTENDED_LENGTH);
            out.put_u8(code);
            out.put_u8(short);
        }
        Err(_) => {
            out.put_u8(attr_flags | flags::EXTENDED_LENGTH);
            out.put_u8(code);
            // Longer values cannot fit in a message; the caller's size check
            // rejects the message whatever is written here.
            out.put_u16(u16::try_from(len).unwrap_or(u16::MAX));
        }
    }
}

fn has_wide_as(path: &AsPath) -> bool {
    path.asns().any(|asn| asn > u32::from(u16::MAX))
}

/// AS numbers a 2-octet field can carry: AS_TRANS for the rest (RFC 6793 §4.2.2).
fn narrow(asn: u32) -> u16 {
    u16::try_from(asn).unwrap_or(AS_TRANS)
}

/// Segments of at most 255 ASes: a longer one in memory goes out as several.
fn wire_segments(path: &AsPath) -> impl Iterator<Item = (SegmentKind, &[u32])> {
    path.segments
        .iter()
        .flat_map(|s| s.asns.chunks(255).map(move |c| (s.kind, c)))
}

fn put_as_path(
    out: &mut BytesMut,
    code: u8,
    attr_flags: u8,
    path: &AsPath,
    four: bool,
    confed: bool,
) {
    let size = if four { 4 } else { 2 };
    let keep = |kind: SegmentKind| {
        confed || !matches!(kind, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
    };
    let len: usize = wire_segments(path)
        .filter(|(k, _)| keep(*k))
        .map(|(_, asns)| 2 + asns.len() * size)
        .sum();
    put_header(out, attr_flags, code, len);
    for (kind, asns) in wire_segments(path).filter(|(k, _)| keep(*k)) {
        out.put_u8(kind as u8);
        // `chunks(255)` keeps this within a u8.
        out.put_u8(u8::try_from(asns.len()).unwrap_or(u8::MAX));
        for &asn in asns {
            if four {
                out.put_u32(asn);
            } else {
                out.put_u16(narrow(asn));
            }
        }
    }
}

fn put_aggregator(out: &mut BytesMut, code: u8, agg: &Aggregator, four: bool) {
    put_header(
        out,
        flags::OPTIONAL | flags::TRANSITIVE,
        code,
        if four { 8 } else { 6 },
    );
    if four {
        out.put_u32(agg.asn);
    } else {
        out.put_u16(narrow(agg.asn));
    }
    out.put_slice(&agg.address.octets());
}

fn put_raw(out: &mut BytesMut, raw: &RawAttribute) {
    put_header(out, raw.flags, raw.type_code, raw.value.len());
    out.put_slice(&raw.value);
}

/// Writes every attribute of `attrs` in ascending type code (RFC 4271 §5),
/// adding AS4_PATH and AS4_AGGREGATOR for a 2-octet peer when an AS does
/// not fit (RFC 6793 §4.2.2).
pub(crate) fn encode(attrs: &PathAttributes, ctx: &CodecContext, out: &mut BytesMut) {
    let four = ctx.four_octet_as;
    let mut unknown: Vec<&RawAttribute> = attrs.unknown.iter().collect();
    unknown.sort_by_key(|a| a.type_code);
    let mut unknown = unknown.into_iter().peekable();
    let mut flush_below = |code: u16, out: &mut BytesMut| {
        while let Some(raw) = unknown.next_if(|a| u16::from(a.type_code) < code) {
            put_raw(out, raw);
        }
    };

    flush_below(u16::from(type_code::ORIGIN), out);
    if let Some(origin) = attrs.origin {
        put_header(out, flags::TRANSITIVE, type_code::ORIGIN, 1);
        out.put_u8(origin as u8);
    }
    flush_below(u16::from(type_code::AS_PATH), out);
    if let Some(path) = &attrs.as_path {
        put_as_path(out, type_code::AS_PATH, flags::TRANSITIVE, path, four, true);
    }
    flush_below(u16::from(type_code::NEXT_HOP), out);
    if let Some(nh) = attrs.next_hop {
        put_header(out, flags::TRANSITIVE, type_code::NEXT_HOP, 4);
        out.put_slice(&nh.octets());
    }
    flush_below(u16::from(type_code::MULTI_EXIT_DISC), out);
    if let Some(med) = attrs.med {
        put_header(out, flags::OPTIONAL, type_code::MULTI_EXIT_DISC, 4);
        out.put_u32(med);
    }
    flush_below(u16::from(type_code::LOCAL_PREF), out);
    if let Some(pref) = attrs.local_pref {
        put_header(out, flags::TRANSITIVE, type_code::LOCAL_PREF, 4);
        out.put_u32(pref);
    }
    flush_below(u16::from(type_code::ATOMIC_AGGREGATE), out);
    if attrs.atomic_aggregate {
        put_header(out, flags::TRANSITIVE, type_code::ATOMIC_AGGREGATE, 0);
    }
    flush_below(u16::from(type_code::AGGREGATOR), out);
    if let Some(agg) = &attrs.aggregator {
        put_aggregator(out, type_code::AGGREGATOR, agg, four);
    }
    flush_below(u16::from(type_code::COMMUNITIES), out);
    if !attrs.communities.is_empty() {
        let attr_flags = flags::OPTIONAL | flags::TRANSITIVE;
        put_header(
            out,
            attr_flags,
            type_code::COMMUNITIES,
            attrs.communities.len() * 4,
        );
        for c in &attrs.communities {
            out.put_u32(c.0);
        }
    }
    flush_below(u16::from(type_code::AS4_PATH), out);
    if !four {
        if let Some(path) = attrs.as_path.as_ref().filter(|p| has_wide_as(p)) {
            // RFC 6793 §3: no confederation segments in AS4_PATH.
            let attr_flags = flags::OPTIONAL | flags::TRANSITIVE;
            put_as_path(out, type_code::AS4_PATH, attr_flags, path, true, false);
        }
    }
    flush_below(u16::from(type_code::AS4_AGGREGATOR), out);
    if !four {
        if let Some(agg) = attrs
            .aggregator
            .as_ref()
            .filter(|a| a.asn > u32::from(u16::MAX))
        {
            put_aggregator(out, type_code::AS4_AGGREGATOR, agg, true);
        }
    }
    flush_below(u16::MAX, out);
}

/// MP_REACH_NLRI for `reach`.
pub(crate) fn encode_mp_reach(reach: &MpReach, out: &mut BytesMut) {
    let nh_len: usize = reach.next_hops.iter().map(ip_len).sum();
    let nlri_len: usize = reach.nlri.iter().map(prefixes::wire_len).sum();
    put_header(
        out,
        flags::OPTIONAL,
        type_code::MP_REACH_NLRI,
        5 + nh_len + nlri_len,
    );
    out.put_u16(reach.family.afi);
    out.put_u8(reach.family.safi);
    out.put_u8(u8::try_from(nh_len).unwrap_or(u8::MAX));
    for nh in &reach.next_hops {
        match nh {
            IpAddr::V4(a) => out.put_slice(&a.octets()),
            IpAddr::V6(a) => out.put_slice(&a.octets()),
        }
    }
    out.put_u8(0);
    for p in &reach.nlri {
        prefixes::encode(p, out);
    }
}

/// MP_UNREACH_NLRI for `unreach`.
pub(crate) fn encode_mp_unreach(unreach: &MpUnreach, out: &mut BytesMut) {
    let len: usize = unreach.withdrawn.iter().map(prefixes::wire_len).sum();
    put_header(out, flags::OPTIONAL, type_code::MP_UNREACH_NLRI, 3 + len);
    out.put_u16(unreach.family.afi);
    out.put_u8(unreach.family.safi);
    for p in &unreach.withdrawn {
        prefixes::encode(p, out);
    }
}

fn ip_len(addr: &IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> AsSegment {
        AsSegment {
            kind: SegmentKind::Sequence,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn as_path_segment_errors_name_the_rfc_case() {
        assert_eq!(decode_as_path(&[2, 0], 2), Err("segment of length 0"));
        assert_eq!(
            decode_as_path(&[2, 2, 0, 1], 2),
            Err("segment runs past the attribute")
        );
        assert_eq!(
            decode_as_path(&[5, 1, 0, 1], 2),
            Err("unknown segment type")
        );
        assert_eq!(
            decode_as_path(&[2, 1, 0, 1, 2], 2),
            Err("one octet left where a segment header is due")
        );
        let path = decode_as_path(&[2, 2, 0xfd, 0xe8, 0xfd, 0xe9, 1, 1, 0, 7], 2).unwrap();
        assert_eq!(path.to_string(), "65000 65001 {7}");
    }

    #[test]
    fn as4_merge_keeps_the_leading_old_ases() {
        // An old speaker (65003) prepended itself in front of a path built by
        // a new speaker: AS_PATH 65003 65001 AS_TRANS, AS4_PATH 65001 4200000000.
        let path = AsPath {
            segments: vec![seq(&[65003, 65001, 23456])],
        };
        let as4 = AsPath {
            segments: vec![seq(&[65001, 4_200_000_000])],
        };
        let merged = merge_as4_path(&path, as4).unwrap();
        assert_eq!(merged.segments, vec![seq(&[65003, 65001, 4_200_000_000])]);
    }

    #[test]
    fn as4_merge_ignores_a_longer_as4_path() {
        let path = AsPath {
            segments: vec![seq(&[23456])],
        };
        let as4 = AsPath {
            segments: vec![seq(&[1, 2])],
        };
        assert_eq!(merge_as4_path(&path, as4), None);
    }

    #[test]
    fn as4_merge_takes_leading_confederation_segments() {
        let confed = AsSegment {
            kind: SegmentKind::ConfedSequence,
            asns: vec![64512],
        };
        let set = AsSegment {
            kind: SegmentKind::Set,
            asns: vec![1, 2],
        };
        let path = AsPath {
            segments: vec![confed.clone(), seq(&[23456]), set.clone()],
        };
        let as4 = AsPath {
            segments: vec![seq(&[4_200_000_000]), set.clone()],
        };
        let merged = merge_as4_path(&path, as4).unwrap();
        assert_eq!(merged.segments, vec![confed, seq(&[4_200_000_000]), set]);
    }

    #[test]
    fn unknown_attributes_are_written_in_type_order() {
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(5),
            unknown: vec![
                RawAttribute {
                    flags: 0xc0,
                    type_code: 32,
                    value: Bytes::from_static(&[0; 12]),
                },
                RawAttribute {
                    flags: 0x80,
                    type_code: 4 + 5,
                    value: Bytes::from_static(&[1, 2, 3, 4]),
                },
            ],
            ..PathAttributes::default()
        };
        let mut out = BytesMut::new();
        encode(&attrs, &CodecContext::default(), &mut out);
        let codes: Vec<u8> = {
            let mut rest = &out[..];
            let mut codes = Vec::new();
            while let Ok((tail, a)) = framed(rest) {
                codes.push(a.type_code);
                rest = tail;
            }
            codes
        };
        assert_eq!(codes, vec![1, 4, 9, 32]);
    }

    #[test]
    fn long_values_use_extended_length() {
        let attrs = PathAttributes {
            communities: (0..100).map(Community).collect(),
            ..PathAttributes::default()
        };
        let mut out = BytesMut::new();
        encode(&attrs, &CodecContext::default(), &mut out);
        assert_eq!(&out[..4], &[0xd0, 8, 0x01, 0x90]);
        assert_eq!(out.len(), 4 + 400);
    }

    #[test]
    fn two_octet_peer_gets_as_trans_and_as4_attributes() {
        let attrs = PathAttributes {
            as_path: Some(AsPath::from_sequence([65001, 4_200_000_000])),
            aggregator: Some(Aggregator {
                asn: 4_200_000_001,
                address: Ipv4Addr::new(10, 0, 0, 1),
            }),
            ..PathAttributes::default()
        };
        let mut out = BytesMut::new();
        encode(
            &attrs,
            &CodecContext {
                four_octet_as: false,
            },
            &mut out,
        );
        let want: &[u8] = &[
            0x40, 2, 6, 2, 2, 0xfd, 0xe9, 0x5b, 0xa0, // AS_PATH 65001 AS_TRANS
            0xc0, 7, 6, 0x5b, 0xa0, 10, 0, 0, 1, // AGGREGATOR AS_TRANS
            0xc0, 17, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x00, // AS4_PATH
            0xc0, 18, 8, 0xfa, 0x56, 0xea, 0x01, 10, 0, 0, 1, // AS4_AGGREGATOR
        ];
        assert_eq!(&out[..], want);
        let decoded = decode(
            &out,
            &CodecContext {
                four_octet_as: false,
            },
        )
        .unwrap();
        assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
        assert_eq!(decoded.attributes, attrs);
    }
}
