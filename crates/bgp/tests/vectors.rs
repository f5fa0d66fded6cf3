//! Byte vectors captured from real FRR 8.4 and BIRD 2.0.12 sessions (see
//! `captures/README.md`), decoded field by field. Where the speaker's
//! encoding is the canonical one (Extended Length only when needed, all
//! capabilities in one parameter), re-encoding must give the same bytes;
//! elsewhere re-encoding must decode to the same message.

use bytes::{Bytes, BytesMut};
use hybridlab_bgp::packet::*;
use std::net::{IpAddr, Ipv4Addr};

const FOUR: CodecContext = CodecContext {
    four_octet_as: true,
};
const TWO: CodecContext = CodecContext {
    four_octet_as: false,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes `vector`, checks it re-encodes to itself (`canonical`) or at
/// least to something that decodes the same, and returns the message.
fn decode(vector: &str, ctx: &CodecContext, canonical: bool) -> Message {
    let bytes = hex(vector);
    // Through the framer, as the session sees it: one whole frame.
    let mut reader = FrameReader::new();
    reader.push(&bytes);
    let frame = reader.next_frame().unwrap().unwrap();
    assert_eq!(reader.buffered(), 0);
    let decoded = decode_message(&frame, ctx).unwrap();
    assert!(
        decoded.attribute_errors.is_empty(),
        "{:?}",
        decoded.attribute_errors
    );
    let mut out = BytesMut::new();
    try_encode_message(&decoded.message, ctx, &mut out).unwrap();
    if canonical {
        assert_eq!(hex_of(&out), vector);
    } else {
        assert_eq!(decode_message(&out, ctx).unwrap(), decoded);
    }
    decoded.message
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn update(m: Message) -> Update {
    match m {
        Message::Update(u) => u,
        other => panic!("not an UPDATE: {other:?}"),
    }
}

fn open(m: Message) -> Open {
    match m {
        Message::Open(o) => o,
        other => panic!("not an OPEN: {other:?}"),
    }
}

fn p4(s: &str) -> Prefix4 {
    s.parse().unwrap()
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn communities(list: &[(u16, u16)]) -> Vec<Community> {
    list.iter().map(|&(a, v)| Community::new(a, v)).collect()
}

const FRR_OPEN: &str = concat!(
    "ffffffffffffffffffffffffffffffff00760104fde9001ec000020159020601",
    "04000100010206010400020001020280000202020002024600020641040000fd",
    "e902020600020a45080001010100020101020b4909076672722d636170000204",
    "4002c0780210470e0001018000000000020180000000",
);
const BIRD_OPEN: &str = concat!(
    "ffffffffffffffffffffffffffffffff003b01045ba0001ec00002021e021c01",
    "04000100010104000200010200400200784104fa56ea0246004700",
);
const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";
const FRR_UPDATE_V4: &str = concat!(
    "ffffffffffffffffffffffffffffffff0051020000002f400101005002000e02",
    "030000fde90000fde90000fde9400304c000020180040400000032c00808fde9",
    "0064fde900c8100a01110a0380180a0200",
);
const FRR_UPDATE_V6: &str = concat!(
    "ffffffffffffffffffffffffffffffff00780200000061900e00350002012020",
    "010db8cafe00000000000000000001fe800000000000003481a0fffed3ff1000",
    "3020010db800014020010db800020000400101005002000e02030000fde90000",
    "fde90000fde980040400000032c00808fde90064fde900c8",
);
const FRR_EOR_V4: &str = "ffffffffffffffffffffffffffffffff00170200000000";
const FRR_EOR_V6: &str = "ffffffffffffffffffffffffffffffff001d0200000006800f03000201";
const BIRD_UPDATE_V4: &str = concat!(
    "ffffffffffffffffffffffffffffffff0048020000002a4001010040020a0202",
    "fa56ea02fa56ea02400304c00002028004040000004dc00808fde800c8fde801",
    "2c100a14180a1500",
);
const BIRD_UPDATE_V6: &str = concat!(
    "ffffffffffffffffffffffffffffffff006a0200000053900e002c0002012020",
    "010db8cafe00000000000000000002fe800000000000009c7dd6fffe8e7d2900",
    "3020010db800204001010040020a0202fa56ea02fa56ea028004040000004dc0",
    "0808fde800c8fde8012c",
);
const FRR_UPDATE_V4_AS4: &str = concat!(
    "ffffffffffffffffffffffffffffffff00550200000037400101005002001602",
    "050000fde90000fde90000fde9fa56ea02fa56ea02400304c000020180040400",
    "000032c00808fde90064fde900c8100a14180a1500",
);
const FRR_ROUTE_REFRESH: &str = "ffffffffffffffffffffffffffffffff00170500010001";
const BIRD_BORR: &str = "ffffffffffffffffffffffffffffffff00170500010101";
const BIRD_EORR: &str = "ffffffffffffffffffffffffffffffff00170500010201";
const FRR_WITHDRAW_V4: &str = "ffffffffffffffffffffffffffffffff001b020004180a02000000";
const FRR_WITHDRAW_V6: &str = concat!(
    "ffffffffffffffffffffffffffffffff00270200000010900f000c0002014020",
    "010db800020000",
);
const BIRD_CEASE_SHUTDOWN: &str = concat!(
    "ffffffffffffffffffffffffffffffff0028030602126d61696e74656e616e63",
    "652077696e646f77",
);
const FRR_CEASE_SHUTDOWN: &str = concat!(
    "ffffffffffffffffffffffffffffffff00240306020e22667272207361797320",
    "62796522",
);
const BIRD_OPEN_2OCTET: &str = concat!(
    "ffffffffffffffffffffffffffffffff00350104fdea001ec000020218021601",
    "040001000101040002000102004002007846004700",
);
const FRR_UPDATE_V4_AS4_PATH: &str = concat!(
    "ffffffffffffffffffffffffffffffff005d020000003b400101005002000802",
    "03fde95ba0fde9400304c000020180040400000032c00808fde90064fde900c8",
    "d011000e02030000fde9fa56ea090000fde9100a01110a0380180a0200",
);
const BIRD_UPDATE_V4_AS4_PATH: &str = concat!(
    "ffffffffffffffffffffffffffffffff00510200000033400101004002060202",
    "fdea5ba0400304c00002028004040000004dc00808fde800c8fde8012cc0110a",
    "02020000fdeafa56ea02100a14180a1500",
);
const FRR_AGGREGATE_AS_SET: &str = concat!(
    "ffffffffffffffffffffffffffffffff006d0200000054400101005002000e02",
    "03fde95ba0fde90102fdea5ba0400304c000020180040400000032c00706fde9",
    "c0000201c00808fde90064fde900c8d011001802030000fde9fa56ea090000fd",
    "e901020000fdeafa56ea02080a",
);
const FRR_AGGREGATE_ATOMIC: &str = concat!(
    "ffffffffffffffffffffffffffffffff00610200000047400101005002000802",
    "03fde95ba0fde9400304c000020180040400000032400600c00706fde9c00002",
    "01c00808fde90064fde900c8d011000e02030000fde9fa56ea090000fde90c0a",
    "10",
);
const BIRD_CEASE_BARE: &str = "ffffffffffffffffffffffffffffffff0015030602";

#[test]
fn frr_open() {
    let o = open(decode(FRR_OPEN, &FOUR, false));
    assert_eq!((o.version, o.my_as, o.hold_time), (4, 65001, 30));
    assert_eq!(o.bgp_id, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(o.asn(), 65001);
    assert!(o.supports_four_octet_as());
    assert!(o.supports_route_refresh());
    assert_eq!(
        o.families(),
        vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
    );
    // FRR sends both route refresh codes, enhanced route refresh (70),
    // extended message (6), ADD-PATH (69), FQDN (73) and LLGR (71).
    let unknown: Vec<u8> = o
        .capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::Unknown { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    assert_eq!(unknown, vec![128, 70, 6, 69, 73, 71]);
    assert!(o
        .capabilities
        .contains(&Capability::GracefulRestart(GracefulRestart {
            restart_state: true,
            notification: true,
            restart_time: 120,
            families: vec![],
        })));
    assert!(o.unknown_parameters.is_empty());
}

#[test]
fn bird_open_with_as_trans() {
    let o = open(decode(BIRD_OPEN, &FOUR, true));
    assert_eq!(o.my_as, AS_TRANS);
    assert_eq!(o.asn(), 4_200_000_002);
    assert_eq!(o.bgp_id, Ipv4Addr::new(192, 0, 2, 2));
    assert_eq!(
        o.capabilities[..5],
        [
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![],
            }),
            Capability::FourOctetAs(4_200_000_002),
        ]
    );
}

#[test]
fn bird_open_without_four_octet_as() {
    let o = open(decode(BIRD_OPEN_2OCTET, &TWO, true));
    assert_eq!(o.asn(), 65002);
    assert!(!o.supports_four_octet_as());
}

#[test]
fn keepalive() {
    assert_eq!(decode(KEEPALIVE, &FOUR, true), Message::Keepalive);
}

#[test]
fn frr_ipv4_update() {
    let u = update(decode(FRR_UPDATE_V4, &FOUR, false));
    let a = &u.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(
        a.as_path,
        Some(AsPath::from_sequence([65001, 65001, 65001]))
    );
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(a.med, Some(50));
    assert_eq!(a.local_pref, None);
    assert_eq!(a.communities, communities(&[(65001, 100), (65001, 200)]));
    assert_eq!(
        u.nlri,
        vec![p4("10.1.0.0/16"), p4("10.3.128.0/17"), p4("10.2.0.0/24")]
    );
    assert!(u.withdrawn.is_empty() && u.mp_reach.is_none() && u.mp_unreach.is_none());
}

#[test]
fn frr_ipv6_update_with_link_local_next_hop() {
    let u = update(decode(FRR_UPDATE_V6, &FOUR, false));
    let reach = u.mp_reach.unwrap();
    assert_eq!(reach.family, Family::IPV6_UNICAST);
    assert_eq!(
        reach.next_hops,
        vec![ip("2001:db8:cafe::1"), ip("fe80::3481:a0ff:fed3:ff10")]
    );
    assert_eq!(reach.nlri, vec![p("2001:db8:1::/48"), p("2001:db8:2::/64")]);
    assert_eq!(u.attributes.next_hop, None);
    assert_eq!(u.attributes.med, Some(50));
    assert!(u.nlri.is_empty());
}

#[test]
fn end_of_rib_markers() {
    let v4 = update(decode(FRR_EOR_V4, &FOUR, true));
    assert!(v4.is_end_of_rib());
    assert_eq!(v4, end_of_rib(Family::IPV4_UNICAST));
    let v6 = update(decode(FRR_EOR_V6, &FOUR, true));
    assert!(v6.is_end_of_rib());
    assert_eq!(v6, end_of_rib(Family::IPV6_UNICAST));
}

#[test]
fn bird_ipv4_update_is_canonical() {
    let u = update(decode(BIRD_UPDATE_V4, &FOUR, true));
    let a = &u.attributes;
    assert_eq!(
        a.as_path,
        Some(AsPath::from_sequence([4_200_000_002, 4_200_000_002]))
    );
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(a.med, Some(77));
    assert_eq!(a.communities, communities(&[(65000, 200), (65000, 300)]));
    assert_eq!(u.nlri, vec![p4("10.20.0.0/16"), p4("10.21.0.0/24")]);
}

#[test]
fn bird_ipv6_update() {
    let u = update(decode(BIRD_UPDATE_V6, &FOUR, false));
    let reach = u.mp_reach.unwrap();
    assert_eq!(reach.next_hops[0], ip("2001:db8:cafe::2"));
    assert_eq!(reach.next_hops.len(), 2);
    assert_eq!(reach.nlri, vec![p("2001:db8:20::/48")]);
    assert_eq!(
        u.attributes.as_path.unwrap().to_string(),
        "4200000002 4200000002"
    );
}

#[test]
fn frr_update_with_four_octet_ases() {
    let u = update(decode(FRR_UPDATE_V4_AS4, &FOUR, false));
    let path = u.attributes.as_path.unwrap();
    assert_eq!(path.to_string(), "65001 65001 65001 4200000002 4200000002");
    assert_eq!(path.origin_as(), Some(4_200_000_002));
    assert_eq!(u.nlri, vec![p4("10.20.0.0/16"), p4("10.21.0.0/24")]);
}

#[test]
fn route_refresh_and_enhanced_route_refresh() {
    let rr = |m| match m {
        Message::RouteRefresh(r) => r,
        other => panic!("not a ROUTE-REFRESH: {other:?}"),
    };
    assert_eq!(
        rr(decode(FRR_ROUTE_REFRESH, &FOUR, true)),
        RouteRefresh {
            family: Family::IPV4_UNICAST,
            subtype: 0
        }
    );
    // RFC 7313 §4: Beginning and End of Route Refresh.
    assert_eq!(
        rr(decode(BIRD_BORR, &FOUR, true)),
        RouteRefresh {
            family: Family::IPV4_UNICAST,
            subtype: 1
        }
    );
    assert_eq!(
        rr(decode(BIRD_EORR, &FOUR, true)),
        RouteRefresh {
            family: Family::IPV4_UNICAST,
            subtype: 2
        }
    );
}

#[test]
fn withdrawals() {
    let v4 = update(decode(FRR_WITHDRAW_V4, &FOUR, true));
    assert_eq!(v4.withdrawn, vec![p4("10.2.0.0/24")]);
    assert_eq!(v4.attributes, PathAttributes::default());
    let v6 = update(decode(FRR_WITHDRAW_V6, &FOUR, false));
    assert_eq!(
        v6.mp_unreach,
        Some(MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: vec![p("2001:db8:2::/64")]
        })
    );
    assert_eq!(
        v6.withdrawn_prefixes().collect::<Vec<_>>(),
        vec![p("2001:db8:2::/64")]
    );
}

#[test]
fn shutdown_notifications() {
    let Message::Notification(bird) = decode(BIRD_CEASE_SHUTDOWN, &FOUR, true) else {
        panic!()
    };
    assert_eq!((bird.code, bird.subcode), (6, 2));
    assert_eq!(bird.shutdown_communication(), Some("maintenance window"));
    assert_eq!(
        bird.to_string(),
        "Cease / Administrative Shutdown: \"maintenance window\""
    );
    assert_eq!(
        bird,
        Notification::cease_with_message(
            cease_subcode::ADMINISTRATIVE_SHUTDOWN,
            "maintenance window"
        )
    );

    let Message::Notification(frr) = decode(FRR_CEASE_SHUTDOWN, &FOUR, true) else {
        panic!()
    };
    // vtysh passed the quotes through as part of the message.
    assert_eq!(frr.shutdown_communication(), Some("\"frr says bye\""));

    let Message::Notification(bare) = decode(BIRD_CEASE_BARE, &TWO, true) else {
        panic!()
    };
    assert_eq!(
        bare,
        Notification::cease(cease_subcode::ADMINISTRATIVE_SHUTDOWN, Bytes::new())
    );
    assert_eq!(bare.to_string(), "Cease / Administrative Shutdown");
}

#[test]
fn as4_path_from_frr_is_merged() {
    // FRR prepended 4200000009 for a 2-octet peer: AS_PATH 65001 23456
    // 65001 and AS4_PATH with the real number (RFC 6793 §4.2.2).
    let raw = hex(FRR_UPDATE_V4_AS4_PATH);
    assert!(
        raw.windows(4).any(|w| w == [0xfd, 0xe9, 0x5b, 0xa0]),
        "AS_TRANS on the wire"
    );
    let u = update(decode(FRR_UPDATE_V4_AS4_PATH, &TWO, false));
    assert_eq!(
        u.attributes.as_path,
        Some(AsPath::from_sequence([65001, 4_200_000_009, 65001]))
    );
    assert!(
        u.attributes.unknown.is_empty(),
        "AS4_PATH is merged, not kept"
    );
}

#[test]
fn as4_path_from_bird_is_merged_and_canonical() {
    let u = update(decode(BIRD_UPDATE_V4_AS4_PATH, &TWO, true));
    assert_eq!(
        u.attributes.as_path,
        Some(AsPath::from_sequence([65002, 4_200_000_002]))
    );
    // Read with the wrong context, the 2-octet AS_PATH is malformed as a
    // 4-octet one: the routes are treated as withdrawn (RFC 7606 §7.2).
    let wrong = decode_message(&hex(BIRD_UPDATE_V4_AS4_PATH), &FOUR).unwrap();
    assert!(wrong
        .attribute_errors
        .iter()
        .any(|e| e.type_code == 2 && e.action == AttributeAction::TreatAsWithdraw));
    let withdrawn = update(wrong.message);
    assert_eq!(
        withdrawn.withdrawn,
        vec![p4("10.20.0.0/16"), p4("10.21.0.0/24")]
    );
    assert!(withdrawn.nlri.is_empty());
}

#[test]
fn frr_aggregate_with_as_set() {
    let u = update(decode(FRR_AGGREGATE_AS_SET, &TWO, false));
    let path = u.attributes.as_path.unwrap();
    assert_eq!(
        path.to_string(),
        "65001 4200000009 65001 {65002 4200000002}"
    );
    assert_eq!(path.path_len(), 4);
    assert_eq!(
        u.attributes.aggregator,
        Some(Aggregator {
            asn: 65001,
            address: Ipv4Addr::new(192, 0, 2, 1)
        })
    );
    assert!(!u.attributes.atomic_aggregate);
    assert_eq!(u.nlri, vec![p4("10.0.0.0/8")]);
}

#[test]
fn frr_aggregate_with_atomic_aggregate() {
    let u = update(decode(FRR_AGGREGATE_ATOMIC, &TWO, false));
    assert!(u.attributes.atomic_aggregate);
    assert_eq!(u.attributes.aggregator.map(|a| a.asn), Some(65001));
    assert_eq!(u.nlri, vec![p4("10.16.0.0/12")]);
}
