//! Property tests: every message the strategies can build (canonical values
//! only: masked prefixes, segments of at most 255 ASes, unknown attributes
//! in type order) encodes and decodes back to itself, with 2-octet and
//! 4-octet AS contexts; and no input makes the decoder panic.

use bytes::{Bytes, BytesMut};
use hybridlab_bgp::packet::*;
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn prefix4() -> impl Strategy<Value = Prefix4> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, len)| Prefix4::new(Ipv4Addr::from(a), len).unwrap().trunc())
}

fn prefix6() -> impl Strategy<Value = Prefix> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, len)| Prefix::V6(Prefix6::new(Ipv6Addr::from(a), len).unwrap().trunc()))
}

/// A unicast host address that passes the NEXT_HOP check.
fn next_hop() -> impl Strategy<Value = Ipv4Addr> {
    (1u8..=223, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d))
}

/// An AS number a path of a 2-octet session can carry through AS4_PATH:
/// anything outside confederation segments.
fn segment(kind: SegmentKind, asn: BoxedStrategy<u32>) -> impl Strategy<Value = AsSegment> {
    vec(asn, 1..8).prop_map(move |asns| AsSegment { kind, asns })
}

/// Confederation segments lead (RFC 5065 §3); a 2-octet session cannot
/// carry 4-octet ASes inside them (RFC 6793 §3 keeps them out of AS4_PATH).
fn as_path(four: bool) -> impl Strategy<Value = AsPath> {
    let confed_as = if four {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    };
    let confed = prop_oneof![
        segment(SegmentKind::ConfedSequence, confed_as.clone()),
        segment(SegmentKind::ConfedSet, confed_as),
    ];
    let plain = prop_oneof![
        3 => segment(SegmentKind::Sequence, any::<u32>().boxed()),
        1 => segment(SegmentKind::Set, any::<u32>().boxed()),
    ];
    (vec(confed, 0..2), vec(plain, 0..4)).prop_map(|(mut segments, rest)| {
        segments.extend(rest);
        AsPath { segments }
    })
}

fn raw_attributes() -> impl Strategy<Value = Vec<RawAttribute>> {
    const KNOWN: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18];
    let one = (
        any::<u8>().prop_filter("known type", |t| !KNOWN.contains(t)),
        any::<bool>(),
        any::<bool>(),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(type_code, transitive, partial, value)| RawAttribute {
            flags: flags::OPTIONAL
                | if transitive { flags::TRANSITIVE } else { 0 }
                | if partial { flags::PARTIAL } else { 0 },
            type_code,
            value: Bytes::from(value),
        });
    vec(one, 0..3).prop_map(|mut attrs| {
        attrs.sort_by_key(|a| a.type_code);
        attrs.dedup_by_key(|a| a.type_code);
        attrs
    })
}

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof![
        Just(Origin::Igp),
        Just(Origin::Egp),
        Just(Origin::Incomplete)
    ]
}

/// Attributes; `reachable` forces the well-known mandatory ones in.
fn attributes(four: bool, reachable: bool) -> impl Strategy<Value = PathAttributes> {
    (
        (origin(), any::<bool>()),
        (as_path(four), any::<bool>()),
        proptest::option::of(next_hop()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
        vec(any::<u32>(), 0..20),
        raw_attributes(),
    )
        .prop_map(
            move |(
                (o, has_o),
                (p, has_p),
                next_hop,
                med,
                local_pref,
                atomic,
                agg,
                comms,
                unknown,
            )| {
                PathAttributes {
                    origin: (has_o || reachable).then_some(o),
                    as_path: (has_p || reachable).then_some(p),
                    next_hop,
                    med,
                    local_pref,
                    atomic_aggregate: atomic,
                    aggregator: agg.map(|(asn, a)| Aggregator {
                        asn,
                        address: Ipv4Addr::from(a),
                    }),
                    communities: comms.into_iter().map(Community).collect(),
                    unknown,
                }
            },
        )
}

fn mp_reach() -> impl Strategy<Value = MpReach> {
    (
        any::<u128>(),
        proptest::option::of(any::<u128>()),
        vec(prefix6(), 0..15),
    )
        .prop_map(|(global, link_local, nlri)| MpReach {
            family: Family::IPV6_UNICAST,
            next_hops: std::iter::once(global)
                .chain(link_local)
                .map(|a| IpAddr::V6(Ipv6Addr::from(a)))
                .collect(),
            nlri,
        })
}

fn mp_unreach() -> impl Strategy<Value = MpUnreach> {
    vec(prefix6(), 0..15).prop_map(|withdrawn| MpUnreach {
        family: Family::IPV6_UNICAST,
        withdrawn,
    })
}

fn update(four: bool) -> impl Strategy<Value = Update> {
    (
        vec(prefix4(), 0..15),
        vec(prefix4(), 0..15),
        proptest::option::of(mp_reach()),
        proptest::option::of(mp_unreach()),
    )
        .prop_flat_map(move |(withdrawn, nlri, mp_reach, mp_unreach)| {
            let reachable =
                !nlri.is_empty() || mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty());
            let needs_next_hop = !nlri.is_empty();
            (attributes(four, reachable), next_hop()).prop_map(move |(mut attributes, nh)| {
                if needs_next_hop && attributes.next_hop.is_none() {
                    attributes.next_hop = Some(nh);
                }
                Update {
                    withdrawn: withdrawn.clone(),
                    attributes,
                    nlri: nlri.clone(),
                    mp_reach: mp_reach.clone(),
                    mp_unreach: mp_unreach.clone(),
                }
            })
        })
}

fn capability() -> impl Strategy<Value = Capability> {
    let family = (any::<u16>(), any::<u8>()).prop_map(|(afi, safi)| Family::new(afi, safi));
    prop_oneof![
        family.clone().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        any::<u32>().prop_map(Capability::FourOctetAs),
        (
            any::<bool>(),
            any::<bool>(),
            0u16..4096,
            vec((family, any::<bool>()), 0..3)
        )
            .prop_map(|(restart_state, notification, restart_time, families)| {
                Capability::GracefulRestart(GracefulRestart {
                    restart_state,
                    notification,
                    restart_time,
                    families,
                })
            }),
        (
            any::<u8>().prop_filter("known code", |c| ![1, 2, 64, 65].contains(c)),
            vec(any::<u8>(), 0..100)
        )
            .prop_map(|(code, value)| Capability::Unknown {
                code,
                value: Bytes::from(value)
            }),
    ]
}

fn open() -> impl Strategy<Value = Open> {
    (
        any::<u16>(),
        prop_oneof![Just(0u16), 3u16..=u16::MAX],
        1u32..,
        vec(capability(), 0..8),
        vec(
            (
                any::<u8>().prop_filter("capabilities or RFC 9072", |t| *t != 2 && *t != 255),
                vec(any::<u8>(), 0..20),
            ),
            0..2,
        ),
    )
        .prop_map(|(my_as, hold_time, id, capabilities, params)| Open {
            version: 4,
            my_as,
            hold_time,
            bgp_id: Ipv4Addr::from(id),
            capabilities,
            unknown_parameters: params
                .into_iter()
                .map(|(t, v)| (t, Bytes::from(v)))
                .collect(),
        })
}

fn message(four: bool) -> impl Strategy<Value = Message> {
    prop_oneof![
        open().prop_map(Message::Open),
        update(four).prop_map(Message::Update),
        (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..100)).prop_map(|(code, subcode, data)| {
            Message::Notification(Notification {
                code,
                subcode,
                data: Bytes::from(data),
            })
        }),
        Just(Message::Keepalive),
        (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(afi, safi, subtype)| {
            Message::RouteRefresh(RouteRefresh {
                family: Family::new(afi, safi),
                subtype,
            })
        }),
    ]
}

fn round_trip(msg: &Message, ctx: &CodecContext) -> Result<(), TestCaseError> {
    let mut out = BytesMut::new();
    try_encode_message(msg, ctx, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(out.len() <= MAX_MESSAGE_LEN);
    let decoded = decode_message(&out, ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded.attribute_errors, &vec![]);
    prop_assert_eq!(&decoded.message, msg);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip_four_octet(msg in message(true)) {
        round_trip(&msg, &CodecContext { four_octet_as: true })?;
    }

    #[test]
    fn round_trip_two_octet(msg in message(false)) {
        round_trip(&msg, &CodecContext { four_octet_as: false })?;
    }

    #[test]
    fn updates_round_trip_in_both_contexts(u in update(false)) {
        // What a 2-octet path can carry, a 4-octet session carries too.
        for four in [false, true] {
            round_trip(&Message::Update(u.clone()), &CodecContext { four_octet_as: four })?;
        }
    }

    #[test]
    fn decoding_arbitrary_bodies_never_panics(t in 0u8..7, body in vec(any::<u8>(), 0..600), four: bool) {
        let mut frame = vec![0xff; 16];
        frame.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
        frame.push(t);
        frame.extend_from_slice(&body);
        let ctx = CodecContext { four_octet_as: four };
        if let Ok(decoded) = decode_message(&frame, &ctx) {
            // Whatever decoded encodes, and its encoding decodes again.
            let mut out = BytesMut::new();
            if try_encode_message(&decoded.message, &ctx, &mut out).is_ok() {
                prop_assert!(decode_message(&out, &ctx).is_ok() || matches!(decoded.message, Message::Open(_)));
            }
        }
    }

    #[test]
    fn framing_arbitrary_streams_never_panics(chunks in vec(vec(any::<u8>(), 0..64), 0..20)) {
        let mut reader = FrameReader::new();
        for chunk in chunks {
            reader.push(&chunk);
            while let Ok(Some(frame)) = reader.next_frame() {
                let _ = decode_message(&frame, &CodecContext::default());
            }
        }
    }

    #[test]
    fn packed_prefixes_arrive_once_in_order(
        v4 in vec(prefix4(), 0..2000),
        v6 in vec(prefix6(), 0..500),
        four: bool,
    ) {
        let ctx = CodecContext { four_octet_as: four };
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65001, 4_200_000_000])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..PathAttributes::default()
        };
        let prefixes: Vec<Prefix> = v4.iter().map(|p| Prefix::V4(*p)).chain(v6.iter().copied()).collect();
        let nh = NextHop6::from("2001:db8::1".parse::<Ipv6Addr>().unwrap());
        let frames = pack_announcements(&attrs, Some(nh), &prefixes, &ctx).unwrap();
        let mut seen = Vec::new();
        for f in &frames {
            prop_assert!(f.len() <= MAX_MESSAGE_LEN);
            let Message::Update(u) = decode_message(f, &ctx).unwrap().message else {
                return Err(TestCaseError::fail("not an UPDATE"));
            };
            seen.extend(u.announced());
        }
        prop_assert_eq!(seen, prefixes.clone());
        let mut seen = Vec::new();
        for f in pack_withdrawals(&prefixes, &ctx) {
            let Message::Update(u) = decode_message(&f, &ctx).unwrap().message else {
                return Err(TestCaseError::fail("not an UPDATE"));
            };
            seen.extend(u.withdrawn_prefixes());
        }
        prop_assert_eq!(seen, prefixes);
    }
}
