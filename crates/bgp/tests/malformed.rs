//! The malformed-input table: each broken message, and the exact
//! NOTIFICATION (code, subcode, data) or RFC 7606 action it must lead to.

use bytes::Bytes;
use hybridlab_bgp::packet::*;

const TWO: CodecContext = CodecContext {
    four_octet_as: false,
};
const FOUR: CodecContext = CodecContext {
    four_octet_as: true,
};

fn frame(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff; 16];
    f.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    f.push(msg_type);
    f.extend_from_slice(body);
    f
}

fn attr(flags: u8, code: u8, value: &[u8]) -> Vec<u8> {
    let mut a = vec![flags, code];
    if flags & 0x10 != 0 {
        a.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    } else {
        a.push(u8::try_from(value.len()).unwrap());
    }
    a.extend_from_slice(value);
    a
}

fn origin() -> Vec<u8> {
    attr(0x40, 1, &[0])
}

/// AS_PATH of one AS_SEQUENCE, 2-octet ASes.
fn as_path2(asns: &[u16]) -> Vec<u8> {
    let mut v = vec![2, u8::try_from(asns.len()).unwrap()];
    asns.iter()
        .for_each(|a| v.extend_from_slice(&a.to_be_bytes()));
    attr(0x40, 2, &v)
}

fn next_hop(o: [u8; 4]) -> Vec<u8> {
    attr(0x40, 3, &o)
}

fn update_body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&u16::try_from(withdrawn.len()).unwrap().to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    b
}

fn update(withdrawn: &[u8], attrs: &[Vec<u8>], nlri: &[u8]) -> Vec<u8> {
    frame(2, &update_body(withdrawn, &attrs.concat(), nlri))
}

/// ORIGIN, AS_PATH 65001 (2-octet), NEXT_HOP 192.0.2.1, then `extra`.
fn good_attrs(extra: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut v = vec![origin(), as_path2(&[65001]), next_hop([192, 0, 2, 1])];
    v.extend_from_slice(extra);
    v
}

/// The same with a 4-octet AS_PATH, for a session of two 4-octet speakers.
fn good_attrs4(extra: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let path = attr(0x40, 2, &[2, 1, 0, 0, 0xfd, 0xe9]);
    let mut v = vec![origin(), path, next_hop([192, 0, 2, 1])];
    v.extend_from_slice(extra);
    v
}

const NLRI_10_1: &[u8] = &[16, 10, 1];

fn mp_reach_v6(nh_len: u8, nh: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 2, 1, nh_len];
    v.extend_from_slice(nh);
    v.push(0);
    v.extend_from_slice(nlri);
    attr(0x80, 14, &v)
}

fn reset(frame: &[u8], ctx: &CodecContext) -> (u8, u8, Vec<u8>) {
    let err = decode_message(frame, ctx).expect_err("must end the session");
    let n = err.to_notification();
    (n.code, n.subcode, n.data.to_vec())
}

/// Decodes an UPDATE that must survive, with its RFC 7606 errors.
fn survive(frame: &[u8], ctx: &CodecContext) -> (Update, Vec<AttributeError>) {
    let d = decode_message(frame, ctx).expect("must not end the session");
    match d.message {
        Message::Update(u) => (u, d.attribute_errors),
        other => panic!("not an UPDATE: {other:?}"),
    }
}

fn p4(s: &str) -> Prefix4 {
    s.parse().unwrap()
}

/// Asserts the UPDATE was treated as withdraw (RFC 7606 §2) because of
/// `type_code`, with `subcode` for a reset, and returns what it withdraws.
fn treated_as_withdraw(frame: &[u8], ctx: &CodecContext, type_code: u8, subcode: u8) -> Update {
    let (u, errors) = survive(frame, ctx);
    let e = errors
        .iter()
        .find(|e| e.action == AttributeAction::TreatAsWithdraw)
        .unwrap_or_else(|| panic!("no treat-as-withdraw in {errors:?}"));
    assert_eq!((e.type_code, e.subcode), (type_code, subcode), "{e:?}");
    assert!(u.nlri.is_empty() && u.mp_reach.is_none());
    assert_eq!(u.attributes, PathAttributes::default());
    u
}

// ---- Message header (RFC 4271 §6.1) ----

#[test]
fn bad_marker() {
    let mut f = frame(4, &[]);
    f[3] = 0;
    assert_eq!(reset(&f, &FOUR), (1, 1, vec![]));
}

#[test]
fn bad_length() {
    let mut f = frame(4, &[]);
    f[16..18].copy_from_slice(&4097u16.to_be_bytes());
    assert_eq!(reset(&f, &FOUR), (1, 2, vec![0x10, 0x01]));
    f[16..18].copy_from_slice(&18u16.to_be_bytes());
    assert_eq!(reset(&f, &FOUR), (1, 2, vec![0, 18]));
    // Per-type lengths: KEEPALIVE exactly 19, OPEN 29, UPDATE 23, NOTIFICATION 21.
    assert_eq!(reset(&frame(4, &[0]), &FOUR), (1, 2, vec![0, 20]));
    assert_eq!(reset(&frame(1, &[4; 9]), &FOUR), (1, 2, vec![0, 28]));
    assert_eq!(reset(&frame(2, &[0, 0, 0]), &FOUR), (1, 2, vec![0, 22]));
    assert_eq!(reset(&frame(3, &[6]), &FOUR), (1, 2, vec![0, 20]));
    assert_eq!(reset(&frame(5, &[0, 1, 0]), &FOUR), (1, 2, vec![0, 22]));
}

#[test]
fn unknown_type() {
    assert_eq!(reset(&frame(7, &[]), &FOUR), (1, 3, vec![7]));
    assert_eq!(reset(&frame(0, &[]), &FOUR), (1, 3, vec![0]));
}

// ---- OPEN (RFC 4271 §6.2) ----

fn open_body(version: u8, hold: u16, id: [u8; 4], opt: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0xfd, 0xe9];
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    b.extend_from_slice(opt);
    b
}

#[test]
fn truncated_open() {
    // Opt Parm Len says 10, two octets follow.
    let f = frame(1, &open_body(4, 90, [10, 0, 0, 1], &[10, 2, 0]));
    assert_eq!(reset(&f, &FOUR), (2, 0, vec![]));
    // A capability longer than its parameter.
    let f = frame(1, &open_body(4, 90, [10, 0, 0, 1], &[4, 2, 2, 1, 4]));
    assert_eq!(reset(&f, &FOUR), (2, 0, vec![]));
    // RFC 9072 extended length running past the message.
    let f = frame(
        1,
        &open_body(4, 90, [10, 0, 0, 1], &[255, 255, 0, 40, 2, 0, 0]),
    );
    assert_eq!(reset(&f, &FOUR), (2, 0, vec![]));
}

#[test]
fn unsupported_version() {
    let f = frame(1, &open_body(3, 90, [10, 0, 0, 1], &[0]));
    // RFC 4271 §6.2: data is the largest version we support below the bid.
    assert_eq!(reset(&f, &FOUR), (2, 1, vec![0, 4]));
    let f = frame(1, &open_body(5, 90, [10, 0, 0, 1], &[0]));
    assert_eq!(reset(&f, &FOUR), (2, 1, vec![0, 4]));
}

#[test]
fn unacceptable_hold_time_and_bad_identifier() {
    let f = frame(1, &open_body(4, 2, [10, 0, 0, 1], &[0]));
    assert_eq!(reset(&f, &FOUR), (2, 6, vec![0, 2]));
    let f = frame(1, &open_body(4, 90, [0, 0, 0, 0], &[0]));
    assert_eq!(reset(&f, &FOUR), (2, 3, vec![0, 0, 0, 0]));
    let f = frame(1, &open_body(4, 0, [10, 0, 0, 1], &[0]));
    assert!(decode_message(&f, &FOUR).is_ok(), "hold time 0 is allowed");
}

#[test]
fn unknown_optional_parameter_is_kept_for_the_session() {
    let f = frame(1, &open_body(4, 90, [10, 0, 0, 1], &[3, 9, 1, 0xaa]));
    let Message::Open(o) = decode_message(&f, &FOUR).unwrap().message else {
        panic!()
    };
    assert_eq!(o.unknown_parameters, vec![(9, Bytes::from_static(&[0xaa]))]);
}

// ---- UPDATE: session reset ----

#[test]
fn withdrawn_routes_length_overrun() {
    let mut body = update_body(&[], &[], &[]);
    body[0..2].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(reset(&frame(2, &body), &TWO), (3, 1, vec![]));
}

#[test]
fn total_attribute_length_overrun() {
    let mut body = update_body(&[], &origin(), &[]);
    body[2..4].copy_from_slice(&5u16.to_be_bytes());
    assert_eq!(reset(&frame(2, &body), &TWO), (3, 1, vec![]));
}

#[test]
fn invalid_network_field() {
    // RFC 7606 §5.3 and §3 i: NLRI or withdrawn routes that cannot be parsed.
    let long = update(&[], &good_attrs(&[]), &[33, 10, 0, 0, 0, 0]);
    assert_eq!(reset(&long, &TWO), (3, 10, vec![]));
    let overrun = update(&[], &good_attrs(&[]), &[24, 10, 0]);
    assert_eq!(reset(&overrun, &TWO), (3, 10, vec![]));
    let bad_withdrawn = update(&[40, 1, 2, 3, 4, 5], &[], &[]);
    assert_eq!(reset(&bad_withdrawn, &TWO), (3, 10, vec![]));
}

#[test]
fn duplicate_mp_attributes() {
    let reach = mp_reach_v6(
        16,
        &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        &[32, 0x20, 1, 0xd, 0xb8],
    );
    let f = update(&[], &good_attrs(&[reach.clone(), reach]), &[]);
    assert_eq!(reset(&f, &TWO), (3, 1, vec![]));
    let unreach = attr(0x80, 15, &[0, 2, 1]);
    let f = update(&[], &[unreach.clone(), unreach], &[]);
    assert_eq!(reset(&f, &TWO), (3, 1, vec![]));
}

#[test]
fn unrecognized_well_known_attribute() {
    let unknown = attr(0x40, 99, &[1, 2, 3]);
    let f = update(&[], &good_attrs(std::slice::from_ref(&unknown)), NLRI_10_1);
    assert_eq!(reset(&f, &TWO), (3, 2, unknown));
}

#[test]
fn mp_reach_that_cannot_be_parsed() {
    // RFC 7606 §7.11: an IPv6 next hop of 15 octets hides the NLRI.
    let bad_nh = mp_reach_v6(15, &[0; 15], &[]);
    let f = update(&[], &good_attrs(std::slice::from_ref(&bad_nh)), &[]);
    assert_eq!(reset(&f, &TWO), (3, 9, bad_nh));
    let bad_prefix = mp_reach_v6(16, &[0; 16], &[129]);
    let f = update(&[], &good_attrs(std::slice::from_ref(&bad_prefix)), &[]);
    assert_eq!(reset(&f, &TWO), (3, 9, bad_prefix));
    let short = attr(0x80, 14, &[0, 2]);
    assert_eq!(
        reset(
            &update(&[], &good_attrs(std::slice::from_ref(&short)), &[]),
            &TWO
        ),
        (3, 9, short)
    );
    let bad_unreach = attr(0x80, 15, &[0, 2, 1, 64, 0x20]);
    assert_eq!(
        reset(&update(&[], std::slice::from_ref(&bad_unreach), &[]), &TWO),
        (3, 9, bad_unreach)
    );
}

#[test]
fn attribute_error_without_reachable_nlri() {
    // RFC 7606 §5.2: treat-as-withdraw would withdraw nothing, so reset,
    // with the NOTIFICATION RFC 4271 §6.3 names for the error.
    let bad_origin = attr(0x40, 1, &[7]);
    let f = update(&[], &[bad_origin.clone(), as_path2(&[65001])], &[]);
    assert_eq!(reset(&f, &TWO), (3, 6, bad_origin.clone()));
    let f = update(&[24, 10, 9, 9], std::slice::from_ref(&bad_origin), &[]);
    assert_eq!(reset(&f, &TWO), (3, 6, bad_origin));
    // Attribute discard alone does not escalate.
    let f = update(&[24, 10, 9, 9], &[attr(0x40, 6, &[1])], &[]);
    let (u, errors) = survive(&f, &TWO);
    assert_eq!(u.withdrawn, vec![p4("10.9.9.0/24")]);
    assert_eq!(errors[0].action, AttributeAction::Discard);
}

// ---- UPDATE: treat-as-withdraw (RFC 7606 §2) ----

#[test]
fn malformed_as_path() {
    for (case, value) in [
        ("segment length 0", vec![2, 0]),
        ("segment overrun", vec![2, 3, 0xfd, 0xe9]),
        ("bad segment type", vec![9, 1, 0xfd, 0xe9]),
        ("one octet left", vec![2, 1, 0xfd, 0xe9, 2]),
    ] {
        let f = update(
            &[],
            &[origin(), attr(0x40, 2, &value), next_hop([192, 0, 2, 1])],
            NLRI_10_1,
        );
        let u = treated_as_withdraw(&f, &TWO, 2, 11);
        assert_eq!(u.withdrawn, vec![p4("10.1.0.0/16")], "{case}");
    }
}

#[test]
fn attribute_length_overrunning_the_section() {
    // RFC 7606 §4: the last attribute claims more than the section holds;
    // the NLRI is still found through the Total Path Attribute Length.
    let mut attrs = good_attrs(&[]).concat();
    attrs.extend_from_slice(&[0x80, 4, 4, 0, 0]);
    let f = frame(2, &update_body(&[], &attrs, NLRI_10_1));
    let u = treated_as_withdraw(&f, &TWO, 4, 1);
    assert_eq!(u.withdrawn, vec![p4("10.1.0.0/16")]);
    // Fewer than three octets left for a header.
    let mut attrs = good_attrs(&[]).concat();
    attrs.extend_from_slice(&[0x80, 4]);
    let f = frame(2, &update_body(&[], &attrs, NLRI_10_1));
    treated_as_withdraw(&f, &TWO, 4, 1);
}

#[test]
fn missing_well_known_attribute() {
    // RFC 7606 §3 d; RFC 4271 §6.3: data is the missing type code.
    let f = update(
        &[],
        &[as_path2(&[65001]), next_hop([192, 0, 2, 1])],
        NLRI_10_1,
    );
    let (_, errors) = survive(&f, &TWO);
    assert_eq!(errors[0].data.as_ref(), &[1]);
    treated_as_withdraw(&f, &TWO, 1, 3);
    let f = update(&[], &[origin(), next_hop([192, 0, 2, 1])], NLRI_10_1);
    treated_as_withdraw(&f, &TWO, 2, 3);
    let f = update(&[], &[origin(), as_path2(&[65001])], NLRI_10_1);
    treated_as_withdraw(&f, &TWO, 3, 3);
}

#[test]
fn mp_reach_needs_origin_and_as_path_but_not_next_hop() {
    let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let reach = mp_reach_v6(16, &nh, &[32, 0x20, 1, 0xd, 0xb8]);
    let ok = update(&[], &[origin(), as_path2(&[65001]), reach.clone()], &[]);
    let (u, errors) = survive(&ok, &TWO);
    assert!(errors.is_empty());
    assert_eq!(
        u.mp_reach.unwrap().nlri,
        vec!["2001:db8::/32".parse::<Prefix>().unwrap()]
    );

    let missing = update(&[], &[origin(), reach], &[]);
    let u = treated_as_withdraw(&missing, &TWO, 2, 3);
    assert_eq!(
        u.mp_unreach,
        Some(MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: vec!["2001:db8::/32".parse().unwrap()],
        })
    );
}

#[test]
fn treat_as_withdraw_covers_both_families() {
    let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let reach = mp_reach_v6(16, &nh, &[48, 0x20, 1, 0xd, 0xb8, 0, 1]);
    let f = update(
        &[24, 10, 7, 7],
        &[
            reach,
            attr(0x40, 1, &[9]),
            as_path2(&[1]),
            next_hop([192, 0, 2, 1]),
        ],
        NLRI_10_1,
    );
    let u = treated_as_withdraw(&f, &TWO, 1, 6);
    assert_eq!(u.withdrawn, vec![p4("10.7.7.0/24"), p4("10.1.0.0/16")]);
    assert_eq!(
        u.mp_unreach.unwrap().withdrawn,
        vec!["2001:db8:1::/48".parse::<Prefix>().unwrap()]
    );
}

#[test]
fn bad_next_hop() {
    // RFC 4271 §6.3 semantic check, handled as treat-as-withdraw; data is
    // the attribute.
    for o in [
        [0, 0, 0, 0],
        [255, 255, 255, 255],
        [224, 0, 0, 5],
        [240, 0, 0, 1],
    ] {
        let f = update(&[], &[origin(), as_path2(&[65001]), next_hop(o)], NLRI_10_1);
        treated_as_withdraw(&f, &TWO, 3, 8);
        let (_, errors) = survive(&f, &TWO);
        assert_eq!(errors[0].data.to_vec(), next_hop(o));
    }
    let wrong_length = update(
        &[],
        &[
            origin(),
            as_path2(&[65001]),
            attr(0x40, 3, &[1, 2, 3, 4, 5]),
        ],
        NLRI_10_1,
    );
    treated_as_withdraw(&wrong_length, &TWO, 3, 5);
}

#[test]
fn malformed_well_known_and_route_selection_attributes() {
    let cases = [
        (attr(0x40, 1, &[3]), 1, 6),       // ORIGIN undefined value, §7.1
        (attr(0x40, 1, &[0, 0]), 1, 5),    // ORIGIN length, §7.1
        (attr(0x80, 4, &[0, 0, 1]), 4, 5), // MED length, §7.4
        (attr(0x40, 5, &[0, 1]), 5, 5),    // LOCAL_PREF length, §7.5
        (attr(0xc0, 8, &[0, 0, 1]), 8, 5), // COMMUNITIES not a multiple of 4, §7.8
        (attr(0xc0, 8, &[]), 8, 5),        // COMMUNITIES empty, §7.8
    ];
    for (bad, code, subcode) in cases {
        let mut attrs = vec![as_path2(&[65001]), next_hop([192, 0, 2, 1])];
        if code != 1 {
            attrs.push(origin());
        }
        attrs.push(bad);
        treated_as_withdraw(&update(&[], &attrs, NLRI_10_1), &TWO, code, subcode);
    }
}

#[test]
fn attribute_flags_conflict() {
    // RFC 7606 §3 c: ORIGIN marked optional, MED marked transitive
    // well-known.
    let optional_origin = attr(0xc0, 1, &[0]);
    let f = update(
        &[],
        &[
            optional_origin.clone(),
            as_path2(&[65001]),
            next_hop([192, 0, 2, 1]),
        ],
        NLRI_10_1,
    );
    treated_as_withdraw(&f, &TWO, 1, 4);
    let (_, errors) = survive(&f, &TWO);
    assert_eq!(errors[0].data.to_vec(), optional_origin);
    let f = update(&[], &good_attrs(&[attr(0x40, 4, &[0, 0, 0, 1])]), NLRI_10_1);
    treated_as_withdraw(&f, &TWO, 4, 4);
    // The Partial and Extended Length bits are no conflict.
    let f = update(
        &[],
        &good_attrs(&[attr(0xe0, 8, &[0, 1, 0, 1]), attr(0x90, 4, &[0, 0, 0, 1])]),
        NLRI_10_1,
    );
    let (u, errors) = survive(&f, &TWO);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(u.attributes.med, Some(1));
}

// ---- UPDATE: attribute discard ----

fn discarded(frame: &[u8], ctx: &CodecContext, type_code: u8) -> Update {
    let (u, errors) = survive(frame, ctx);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].type_code, errors[0].action),
        (type_code, AttributeAction::Discard)
    );
    assert_eq!(u.nlri, vec![p4("10.1.0.0/16")], "the routes stand");
    u
}

#[test]
fn duplicate_attribute_keeps_the_first() {
    let f = update(
        &[],
        &good_attrs(&[attr(0x80, 4, &[0, 0, 0, 1]), attr(0x80, 4, &[0, 0, 0, 2])]),
        NLRI_10_1,
    );
    let u = discarded(&f, &TWO, 4);
    assert_eq!(u.attributes.med, Some(1));
}

#[test]
fn malformed_atomic_aggregate_and_aggregator() {
    let u = discarded(
        &update(&[], &good_attrs(&[attr(0x40, 6, &[0])]), NLRI_10_1),
        &TWO,
        6,
    );
    assert!(!u.attributes.atomic_aggregate);
    let u = discarded(
        &update(&[], &good_attrs(&[attr(0xc0, 7, &[0; 5])]), NLRI_10_1),
        &TWO,
        7,
    );
    assert_eq!(u.attributes.aggregator, None);
    // Six octets are right for a 2-octet session only.
    discarded(
        &update(&[], &good_attrs4(&[attr(0xc0, 7, &[0; 6])]), NLRI_10_1),
        &FOUR,
        7,
    );
}

#[test]
fn malformed_as4_attributes() {
    let bad_as4_path = attr(0xc0, 17, &[2, 2, 0, 0, 0, 1]);
    let u = discarded(
        &update(&[], &good_attrs(&[bad_as4_path]), NLRI_10_1),
        &TWO,
        17,
    );
    assert_eq!(u.attributes.as_path, Some(AsPath::from_sequence([65001])));
    discarded(
        &update(&[], &good_attrs(&[attr(0xc0, 18, &[0; 7])]), NLRI_10_1),
        &TWO,
        18,
    );
    // RFC 6793 §6: never between two 4-octet speakers.
    let as4 = attr(0xc0, 17, &[2, 1, 0, 1, 0, 0]);
    discarded(&update(&[], &good_attrs4(&[as4]), NLRI_10_1), &FOUR, 17);
}

#[test]
fn unsupported_family_is_discarded() {
    let mut value = vec![0, 25, 65, 4, 1, 2, 3, 4, 0];
    value.extend_from_slice(&[8, 1]);
    let u = discarded(
        &update(&[], &good_attrs(&[attr(0x80, 14, &value)]), NLRI_10_1),
        &TWO,
        14,
    );
    assert_eq!(u.mp_reach, None);
}

// ---- What is accepted ----

#[test]
fn unknown_optional_attributes_are_kept_with_their_flags() {
    let f = update(
        &[],
        &good_attrs(&[attr(0xe0, 32, &[0; 12]), attr(0x90, 200, &[1])]),
        NLRI_10_1,
    );
    let (u, errors) = survive(&f, &TWO);
    assert!(errors.is_empty());
    assert_eq!(
        u.attributes.unknown,
        vec![
            RawAttribute {
                flags: 0xe0,
                type_code: 32,
                value: Bytes::from_static(&[0; 12])
            },
            RawAttribute {
                flags: 0x80,
                type_code: 200,
                value: Bytes::from_static(&[1])
            },
        ]
    );
}

#[test]
fn unknown_attributes_out_of_order_are_kept_in_type_order() {
    // Found by the fuzzer: out-of-order unknown attributes came back from
    // encode (which writes type order, RFC 4271 §5) in another order.
    let f = update(
        &[],
        &good_attrs(&[attr(0x80, 123, &[1]), attr(0xc0, 9, &[2, 2, 2, 2])]),
        NLRI_10_1,
    );
    let (u, _) = survive(&f, &TWO);
    let codes: Vec<u8> = u.attributes.unknown.iter().map(|a| a.type_code).collect();
    assert_eq!(codes, vec![9, 123]);
    let mut out = bytes::BytesMut::new();
    try_encode_message(&Message::Update(u.clone()), &TWO, &mut out).unwrap();
    assert_eq!(
        decode_message(&out, &TWO).unwrap().message,
        Message::Update(u)
    );
}

#[test]
fn host_bits_are_masked() {
    let f = update(&[], &good_attrs(&[]), &[8, 10, 20, 10, 1, 0xff]);
    let (u, _) = survive(&f, &TWO);
    assert_eq!(u.nlri, vec![p4("10.0.0.0/8"), p4("10.1.240.0/20")]);
}

#[test]
fn nothing_panics_on_truncations_of_a_valid_update() {
    let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let body = update_body(
        &[24, 10, 7, 7],
        &good_attrs(&[
            mp_reach_v6(16, &nh, &[32, 0x20, 1, 0xd, 0xb8]),
            attr(0xc0, 8, &[0, 1, 0, 1]),
        ])
        .concat(),
        NLRI_10_1,
    );
    for cut in 0..body.len() {
        for ctx in [TWO, FOUR] {
            let _ = decode_message(&frame(2, &body[..cut]), &ctx);
        }
    }
}
