//! Codec tests: byte vectors, every refusal of RFC 5880 §6.8.6, proptest.

use super::*;
use proptest::prelude::*;

/// An Up packet of 300 ms × 3, as the cloud side sends it.
fn up_packet() -> ControlPacket {
    ControlPacket {
        diagnostic: Diagnostic::NoDiagnostic,
        state: State::Up,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: 0x0102_0304,
        your_discriminator: 0x0a0b_0c0d,
        desired_min_tx_us: 300_000,
        required_min_rx_us: 300_000,
        required_min_echo_rx_us: 0,
        authentication: None,
    }
}

const UP_BYTES: [u8; 24] = [
    0x20, 0xc0, 0x03, 0x18, // v1, diag 0, Up, no flags, mult 3, length 24
    0x01, 0x02, 0x03, 0x04, // my discriminator
    0x0a, 0x0b, 0x0c, 0x0d, // your discriminator
    0x00, 0x04, 0x93, 0xe0, // 300 000 µs
    0x00, 0x04, 0x93, 0xe0, // 300 000 µs
    0x00, 0x00, 0x00, 0x00, // no echo
];

#[test]
fn encodes_the_rfc_layout() {
    assert_eq!(up_packet().to_bytes().unwrap().as_ref(), &UP_BYTES);
    assert_eq!(ControlPacket::decode(&UP_BYTES), Ok(up_packet()));
}

#[test]
fn every_flag_and_field_has_its_place() {
    let p = ControlPacket {
        diagnostic: Diagnostic::NeighborSignaledSessionDown,
        state: State::Init,
        poll: true,
        final_: false,
        control_plane_independent: true,
        demand: true,
        ..up_packet()
    };
    let bytes = p.to_bytes().unwrap();
    assert_eq!(bytes[0], 0x23);
    assert_eq!(bytes[1], 0x80 | 0x20 | 0x08 | 0x02);
    assert_eq!(ControlPacket::decode(&bytes), Ok(p));
    let f = ControlPacket {
        final_: true,
        ..up_packet()
    };
    assert_eq!(f.to_bytes().unwrap()[1], 0xc0 | 0x10);
}

#[test]
fn unknown_diagnostics_are_kept() {
    let mut bytes = UP_BYTES;
    bytes[0] = 0x20 | 27;
    let p = ControlPacket::decode(&bytes).unwrap();
    assert_eq!(p.diagnostic, Diagnostic::Unknown(27));
    assert_eq!(p.diagnostic.to_string(), "Reserved (27)");
    assert_eq!(p.to_bytes().unwrap().as_ref(), &bytes);
}

#[test]
fn diagnostics_have_their_rfc_names() {
    let names: Vec<String> = (0..=8)
        .map(|c| Diagnostic::from_code(c).to_string())
        .collect();
    assert_eq!(
        names,
        [
            "No Diagnostic",
            "Control Detection Time Expired",
            "Echo Function Failed",
            "Neighbor Signaled Session Down",
            "Forwarding Plane Reset",
            "Path Down",
            "Concatenated Path Down",
            "Administratively Down",
            "Reverse Concatenated Path Down",
        ]
    );
    assert_eq!(
        serde_json::to_value(Diagnostic::AdministrativelyDown).unwrap(),
        "Administratively Down"
    );
    for code in 0..32 {
        assert_eq!(Diagnostic::from_code(code).code(), code);
    }
}

#[test]
fn trailing_octets_beyond_length_are_ignored() {
    let mut bytes = UP_BYTES.to_vec();
    bytes.extend_from_slice(&[0xff; 8]);
    assert_eq!(ControlPacket::decode(&bytes), Ok(up_packet()));
}

/// `UP_BYTES` with one octet changed.
fn with(index: usize, value: u8) -> Vec<u8> {
    let mut bytes = UP_BYTES.to_vec();
    bytes[index] = value;
    bytes
}

#[test]
fn refusals_follow_rfc_5880_section_6_8_6() {
    let down_no_your = {
        let mut b = with(1, 0x40);
        b[8..12].copy_from_slice(&[0; 4]);
        b
    };
    let init_no_your = {
        let mut b = down_no_your.clone();
        b[1] = 0x80;
        b
    };
    let cases: Vec<(&str, Vec<u8>, ParseError)> = vec![
        ("version 0", with(0, 0x00), ParseError::BadVersion(0)),
        ("version 2", with(0, 0x40), ParseError::BadVersion(2)),
        ("empty", vec![], ParseError::Truncated { payload: 0 }),
        (
            "23 octets",
            UP_BYTES[..23].to_vec(),
            ParseError::Truncated { payload: 23 },
        ),
        (
            "length 23",
            with(3, 23),
            ParseError::ShortLength {
                length: 23,
                minimum: 24,
            },
        ),
        (
            "A bit, length 24",
            with(1, 0xc0 | 0x04),
            ParseError::ShortLength {
                length: 24,
                minimum: 26,
            },
        ),
        (
            "length 25 of 24",
            with(3, 25),
            ParseError::LengthExceedsPayload {
                length: 25,
                payload: 24,
            },
        ),
        ("mult 0", with(2, 0), ParseError::ZeroDetectMult),
        ("multipoint", with(1, 0xc0 | 0x01), ParseError::Multipoint),
        (
            "my discriminator 0",
            {
                let mut b = UP_BYTES.to_vec();
                b[4..8].copy_from_slice(&[0; 4]);
                b
            },
            ParseError::ZeroMyDiscriminator,
        ),
        (
            "your discriminator 0 in Up",
            {
                let mut b = UP_BYTES.to_vec();
                b[8..12].copy_from_slice(&[0; 4]);
                b
            },
            ParseError::ZeroYourDiscriminator(State::Up),
        ),
        (
            "your discriminator 0 in Init",
            init_no_your,
            ParseError::ZeroYourDiscriminator(State::Init),
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(ControlPacket::decode(&bytes), Err(expected), "{name}");
    }
    // Down and AdminDown may not know the peer yet.
    assert!(ControlPacket::decode(&down_no_your).is_ok());
    let mut admin_down = down_no_your;
    admin_down[1] = 0x00;
    assert!(ControlPacket::decode(&admin_down).is_ok());
}

fn with_auth(section: &[u8]) -> Vec<u8> {
    let mut bytes = UP_BYTES.to_vec();
    bytes[1] |= 0x04;
    bytes[3] = u8::try_from(24 + section.len()).unwrap();
    bytes.extend_from_slice(section);
    bytes
}

#[test]
fn authentication_sections_are_parsed() {
    let simple = ControlPacket::decode(&with_auth(&[1, 7, 5, b's', b'e', b'c', b'r'])).unwrap();
    assert_eq!(
        simple.authentication,
        Some(Authentication::SimplePassword {
            key_id: 5,
            password: Bytes::from_static(b"secr"),
        })
    );
    let mut md5 = vec![3, 24, 9, 0, 0, 0, 1, 0];
    md5.extend_from_slice(&[0xaa; 16]);
    assert_eq!(
        ControlPacket::decode(&with_auth(&md5))
            .unwrap()
            .authentication,
        Some(Authentication::KeyedMd5 {
            meticulous: true,
            key_id: 9,
            sequence: 256,
            digest: [0xaa; 16],
        })
    );
    let mut sha1 = vec![4, 28, 2, 0, 0, 0, 0, 7];
    sha1.extend_from_slice(&[0xbb; 20]);
    let p = ControlPacket::decode(&with_auth(&sha1)).unwrap();
    assert_eq!(
        p.authentication,
        Some(Authentication::KeyedSha1 {
            meticulous: false,
            key_id: 2,
            sequence: 7,
            hash: [0xbb; 20],
        })
    );
    assert_eq!(p.to_bytes().unwrap().as_ref(), with_auth(&sha1).as_slice());
    let unknown = ControlPacket::decode(&with_auth(&[99, 4, 1, 2])).unwrap();
    assert_eq!(
        unknown.authentication,
        Some(Authentication::Unknown {
            auth_type: 99,
            data: Bytes::from_static(&[1, 2]),
        })
    );
}

#[test]
fn malformed_authentication_is_refused() {
    for (name, section) in [
        ("Auth Len disagrees", vec![1u8, 9, 5, b'x']),
        ("empty password", vec![1, 3, 5]),
        ("password of 17", {
            let mut s = vec![1, 20, 5];
            s.extend_from_slice(&[b'p'; 17]);
            s
        }),
        ("short MD5", vec![2, 8, 1, 0, 0, 0, 0, 1]),
        ("SHA1 with MD5 length", {
            let mut s = vec![4, 24, 1, 0, 0, 0, 0, 1];
            s.extend_from_slice(&[0; 16]);
            s
        }),
    ] {
        assert!(
            matches!(
                ControlPacket::decode(&with_auth(&section)),
                Err(ParseError::BadAuthentication(_))
            ),
            "{name}"
        );
    }
}

#[test]
fn encode_refuses_what_the_wire_cannot_hold() {
    let p = ControlPacket {
        diagnostic: Diagnostic::Unknown(40),
        ..up_packet()
    };
    assert_eq!(p.to_bytes(), Err(EncodeError::DiagnosticOutOfRange(40)));
    let p = ControlPacket {
        authentication: Some(Authentication::Unknown {
            auth_type: 9,
            data: Bytes::from(vec![0; 230]),
        }),
        ..up_packet()
    };
    assert_eq!(p.to_bytes(), Err(EncodeError::TooLong(256)));
    let p = ControlPacket {
        authentication: Some(Authentication::SimplePassword {
            key_id: 1,
            password: Bytes::new(),
        }),
        ..up_packet()
    };
    assert_eq!(p.to_bytes(), Err(EncodeError::PasswordLength(0)));
}

fn arb_state() -> impl Strategy<Value = State> {
    (0u8..4).prop_map(State::from_code)
}

fn arb_auth() -> impl Strategy<Value = Option<Authentication>> {
    prop_oneof![
        Just(None),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 1..=16)).prop_map(|(key_id, pw)| {
            Some(Authentication::SimplePassword {
                key_id,
                password: Bytes::from(pw),
            })
        }),
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<[u8; 16]>()).prop_map(
            |(meticulous, key_id, sequence, digest)| Some(Authentication::KeyedMd5 {
                meticulous,
                key_id,
                sequence,
                digest,
            })
        ),
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<[u8; 20]>()).prop_map(
            |(meticulous, key_id, sequence, hash)| Some(Authentication::KeyedSha1 {
                meticulous,
                key_id,
                sequence,
                hash,
            })
        ),
        (6u8..=255, proptest::collection::vec(any::<u8>(), 0..=40)).prop_map(|(t, data)| {
            Some(Authentication::Unknown {
                auth_type: t,
                data: Bytes::from(data),
            })
        }),
    ]
}

prop_compose! {
    fn arb_packet()(
        diag in 0u8..32,
        state in arb_state(),
        flags in any::<[bool; 4]>(),
        detect_mult in 1u8..,
        my_discriminator in 1u32..,
        your in any::<u32>(),
        intervals in any::<[u32; 3]>(),
        authentication in arb_auth(),
    ) -> ControlPacket {
        let your_discriminator = if matches!(state, State::Down | State::AdminDown) {
            your
        } else {
            your.max(1)
        };
        ControlPacket {
            diagnostic: Diagnostic::from_code(diag),
            state,
            poll: flags[0],
            final_: flags[1],
            control_plane_independent: flags[2],
            demand: flags[3],
            detect_mult,
            my_discriminator,
            your_discriminator,
            desired_min_tx_us: intervals[0],
            required_min_rx_us: intervals[1],
            required_min_echo_rx_us: intervals[2],
            authentication,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(p) = ControlPacket::decode(&bytes) {
            // What decodes re-encodes, and reads back the same.
            let again = p.to_bytes().unwrap();
            prop_assert_eq!(ControlPacket::decode(&again), Ok(p));
        }
    }

    #[test]
    fn plausible_headers_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 24..60),
        length in any::<u8>(),
        auth in any::<bool>(),
    ) {
        // Steer past the version and length checks into the later ones.
        bytes[0] = 0x20 | (bytes[0] & 0x1f);
        bytes[3] = length;
        if auth {
            bytes[1] |= 0x04;
        }
        let _ = ControlPacket::decode(&bytes);
    }

    #[test]
    fn encode_then_decode_round_trips(p in arb_packet()) {
        let bytes = p.to_bytes().unwrap();
        prop_assert_eq!(bytes.len(), p.wire_len());
        prop_assert_eq!(usize::from(bytes[3]), bytes.len());
        prop_assert_eq!(ControlPacket::decode(&bytes), Ok(p));
    }
}

/// Packets captured between FRR 8.4 bfdd (discriminator 0xa784b811) and
/// BIRD 2.0.12 (0x8cb11ec5) over a veth pair, both at 300 ms × 3:
/// handshake, Poll/Final, FRR's transmit interval raised to 600 ms, FRR
/// shut down (AdminDown), BIRD disabled (silence).
pub mod captures {
    pub const FRR_DOWN: &str = "20400318a784b81100000000000f4240000f42400000c350";
    pub const FRR_INIT: &str = "20800318a784b8118cb11ec5000f4240000f42400000c350";
    pub const FRR_UP_POLL: &str = "20e00318a784b8118cb11ec5000493e0000493e00000c350";
    pub const FRR_UP_FINAL: &str = "20d00318a784b8118cb11ec5000493e0000493e00000c350";
    pub const FRR_UP: &str = "20c00318a784b8118cb11ec5000493e0000493e00000c350";
    pub const FRR_UP_POLL_600: &str = "20e00318a784b8118cb11ec5000927c0000493e00000c350";
    /// FRR says AdminDown with diagnostic 0, not 7.
    pub const FRR_ADMIN_DOWN: &str = "20000318a784b8118cb11ec5000927c0000493e00000c350";
    /// FRR answers a Poll even while AdminDown.
    pub const FRR_ADMIN_DOWN_FINAL: &str = "20100318a784b8118cb11ec5000927c0000493e00000c350";
    pub const FRR_DOWN_DETECTION: &str = "21400318a784b81100000000000927c0000493e00000c350";
    pub const BIRD_DOWN: &str = "204003188cb11ec500000000000f4240000493e000000000";
    pub const BIRD_UP_POLL: &str = "20e003188cb11ec5a784b811000493e0000493e000000000";
    pub const BIRD_UP_FINAL: &str = "20d003188cb11ec5a784b811000493e0000493e000000000";
    pub const BIRD_UP: &str = "20c003188cb11ec5a784b811000493e0000493e000000000";
    /// BIRD polls while Down (its slow rate) after the peer's AdminDown.
    pub const BIRD_DOWN_NEIGHBOR_POLL: &str = "236003188cb11ec5a784b811000f4240000493e000000000";
    pub const BIRD_DOWN_NEIGHBOR: &str = "234003188cb11ec5a784b811000f4240000493e000000000";

    pub fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}

#[test]
fn frr_and_bird_captures_decode_and_reencode_byte_for_byte() {
    use captures::*;
    const FRR: u32 = 0xa784_b811;
    const BIRD: u32 = 0x8cb1_1ec5;
    let expect = |hex_str: &str,
                  state: State,
                  poll: bool,
                  final_: bool,
                  diagnostic: Diagnostic,
                  (me, you): (u32, u32),
                  (tx, rx, echo): (u32, u32, u32)| {
        let bytes = hex(hex_str);
        let p = ControlPacket::decode(&bytes).unwrap();
        let want = ControlPacket {
            diagnostic,
            state,
            poll,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: me,
            your_discriminator: you,
            desired_min_tx_us: tx,
            required_min_rx_us: rx,
            required_min_echo_rx_us: echo,
            authentication: None,
        };
        assert_eq!(p, want, "{hex_str}");
        assert_eq!(
            p.to_bytes().unwrap().as_ref(),
            bytes.as_slice(),
            "{hex_str}"
        );
    };
    let none = Diagnostic::NoDiagnostic;
    let frr_slow = (1_000_000, 1_000_000, 50_000);
    let frr_fast = (300_000, 300_000, 50_000);
    let frr_600 = (600_000, 300_000, 50_000);
    expect(
        FRR_DOWN,
        State::Down,
        false,
        false,
        none,
        (FRR, 0),
        frr_slow,
    );
    expect(
        FRR_INIT,
        State::Init,
        false,
        false,
        none,
        (FRR, BIRD),
        frr_slow,
    );
    expect(
        FRR_UP_POLL,
        State::Up,
        true,
        false,
        none,
        (FRR, BIRD),
        frr_fast,
    );
    expect(
        FRR_UP_FINAL,
        State::Up,
        false,
        true,
        none,
        (FRR, BIRD),
        frr_fast,
    );
    expect(FRR_UP, State::Up, false, false, none, (FRR, BIRD), frr_fast);
    expect(
        FRR_UP_POLL_600,
        State::Up,
        true,
        false,
        none,
        (FRR, BIRD),
        frr_600,
    );
    expect(
        FRR_ADMIN_DOWN,
        State::AdminDown,
        false,
        false,
        none,
        (FRR, BIRD),
        frr_600,
    );
    expect(
        FRR_ADMIN_DOWN_FINAL,
        State::AdminDown,
        false,
        true,
        none,
        (FRR, BIRD),
        frr_600,
    );
    expect(
        FRR_DOWN_DETECTION,
        State::Down,
        false,
        false,
        Diagnostic::ControlDetectionTimeExpired,
        (FRR, 0),
        frr_600,
    );
    let bird_slow = (1_000_000, 300_000, 0);
    let bird_fast = (300_000, 300_000, 0);
    let neighbor = Diagnostic::NeighborSignaledSessionDown;
    expect(
        BIRD_DOWN,
        State::Down,
        false,
        false,
        none,
        (BIRD, 0),
        bird_slow,
    );
    expect(
        BIRD_UP_POLL,
        State::Up,
        true,
        false,
        none,
        (BIRD, FRR),
        bird_fast,
    );
    expect(
        BIRD_UP_FINAL,
        State::Up,
        false,
        true,
        none,
        (BIRD, FRR),
        bird_fast,
    );
    expect(
        BIRD_UP,
        State::Up,
        false,
        false,
        none,
        (BIRD, FRR),
        bird_fast,
    );
    expect(
        BIRD_DOWN_NEIGHBOR_POLL,
        State::Down,
        true,
        false,
        neighbor,
        (BIRD, FRR),
        bird_slow,
    );
    expect(
        BIRD_DOWN_NEIGHBOR,
        State::Down,
        false,
        false,
        neighbor,
        (BIRD, FRR),
        bird_slow,
    );
}
