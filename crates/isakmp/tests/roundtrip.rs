//! Property tests: every payload kind, chains of them and whole messages
//! decode back to what was encoded; padding after the chain is ignored.

use std::net::IpAddr;

use hybridlab_isakmp::payload::sa::{DOI_IPSEC, SIT_IDENTITY_ONLY};
use hybridlab_isakmp::{
    encode_payloads, first_payload_type, parse_payloads, split_payloads, Attribute, AttributeValue,
    Delete, ExchangeType, Flags, Header, IdType, Identification, Message, NatD, NatOa,
    NatTNumbering, Notification, NotifyType, Payload, PayloadType, Proposal, ProtocolId,
    SecurityAssociation, Transform, VendorId,
};
use proptest::prelude::*;

fn octets(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn attribute() -> impl Strategy<Value = Attribute> {
    let value = prop_oneof![
        any::<u16>().prop_map(AttributeValue::Basic),
        octets(24).prop_map(AttributeValue::Variable),
    ];
    (0u16..0x8000, value).prop_map(|(kind, value)| Attribute { kind, value })
}

fn transform() -> impl Strategy<Value = Transform> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(attribute(), 0..6),
    )
        .prop_map(|(number, id, attributes)| Transform {
            number,
            id,
            attributes,
        })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    let spi = prop_oneof![
        Just(Vec::new()),
        octets(4),
        prop::collection::vec(any::<u8>(), 8..=8),
        octets(16)
    ];
    (
        any::<u8>(),
        1u8..=4,
        spi,
        prop::collection::vec(transform(), 0..4),
    )
        .prop_map(|(number, protocol, spi, transforms)| Proposal {
            number,
            protocol: ProtocolId(protocol),
            spi,
            transforms,
        })
}

fn security_association() -> impl Strategy<Value = SecurityAssociation> {
    prop::collection::vec(proposal(), 1..4).prop_map(|proposals| SecurityAssociation {
        doi: DOI_IPSEC,
        situation: SIT_IDENTITY_ONLY,
        proposals,
    })
}

fn identification() -> impl Strategy<Value = Identification> {
    (any::<u8>(), any::<u8>(), any::<u16>(), octets(40)).prop_map(
        |(id_type, protocol, port, data)| {
            let id_type = IdType(id_type);
            // Address types carry exactly their address octets.
            let data = match id_type.address_len() {
                Some(len) => data
                    .into_iter()
                    .chain(std::iter::repeat(0))
                    .take(len)
                    .collect(),
                None => data,
            };
            Identification {
                id_type,
                protocol,
                port,
                data,
            }
        },
    )
}

fn notification() -> impl Strategy<Value = Notification> {
    (0u32..=1, 0u8..=4, octets(16), any::<u16>(), octets(32)).prop_map(
        |(doi, protocol, spi, message_type, data)| Notification {
            doi,
            protocol: ProtocolId(protocol),
            spi,
            message_type: NotifyType(message_type),
            data,
        },
    )
}

fn delete() -> impl Strategy<Value = Delete> {
    (0u32..=1, 1u8..=4, 1u8..=16, 0usize..5, any::<u8>()).prop_map(
        |(doi, protocol, spi_size, count, fill)| Delete {
            doi,
            protocol: ProtocolId(protocol),
            spi_size,
            spis: (0..count)
                .map(|i| vec![fill.wrapping_add(i as u8); usize::from(spi_size)])
                .collect(),
        },
    )
}

fn numbering() -> impl Strategy<Value = NatTNumbering> {
    prop_oneof![Just(NatTNumbering::Rfc3947), Just(NatTNumbering::Draft)]
}

/// Every payload kind the parser produces.
fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        security_association().prop_map(Payload::SecurityAssociation),
        octets(200).prop_map(Payload::KeyExchange),
        identification().prop_map(Payload::Identification),
        (any::<u8>(), octets(64))
            .prop_map(|(encoding, data)| Payload::Certificate { encoding, data }),
        (any::<u8>(), octets(64)).prop_map(|(cert_type, authority)| Payload::CertificateRequest {
            cert_type,
            authority
        }),
        octets(64).prop_map(Payload::Hash),
        octets(64).prop_map(Payload::Signature),
        octets(64).prop_map(Payload::Nonce),
        notification().prop_map(Payload::Notification),
        delete().prop_map(Payload::Delete),
        octets(32).prop_map(|v| Payload::VendorId(VendorId(v))),
        (numbering(), octets(32))
            .prop_map(|(numbering, hash)| Payload::NatD(NatD { numbering, hash })),
        (numbering(), any::<IpAddr>())
            .prop_map(|(numbering, address)| Payload::NatOa(NatOa { numbering, address })),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    let exchange = prop::sample::select(vec![1u8, 2, 3, 4, 5, 32, 33]);
    (1u64.., any::<u64>(), exchange, 0u8..8, any::<u32>()).prop_map(
        |(initiator_cookie, responder_cookie, exchange, flags, message_id)| Header {
            initiator_cookie,
            responder_cookie,
            next_payload: PayloadType::NONE,
            exchange_type: ExchangeType(exchange),
            // Without the Encryption flag: these bodies are cleartext.
            flags: Flags(flags & !Flags::ENCRYPTION),
            message_id,
            length: 0,
        },
    )
}

proptest! {
    #[test]
    fn each_payload_round_trips(p in payload()) {
        let bytes = encode_payloads(std::slice::from_ref(&p)).unwrap();
        let parsed = parse_payloads(p.payload_type(), &bytes).unwrap();
        prop_assert_eq!(parsed, vec![p]);
    }

    #[test]
    fn chains_round_trip(payloads in prop::collection::vec(payload(), 0..6)) {
        let bytes = encode_payloads(&payloads).unwrap();
        let first = first_payload_type(&payloads);
        prop_assert_eq!(parse_payloads(first, &bytes).unwrap(), payloads.clone());
        // The raw split tiles the body exactly.
        let raw = split_payloads(first, &bytes).unwrap();
        let tiled: Vec<u8> = raw.iter().flat_map(|r| r.whole.iter().copied()).collect();
        prop_assert_eq!(tiled.as_slice(), bytes.as_ref());
        for r in &raw {
            prop_assert_eq!(&bytes[r.offset..r.offset + r.whole.len()], r.whole);
        }
    }

    #[test]
    fn padding_after_the_chain_is_ignored(
        payloads in prop::collection::vec(payload(), 1..4),
        zeros in 0usize..32,
        rfc2409_style in any::<bool>(),
    ) {
        let mut bytes = encode_payloads(&payloads).unwrap().to_vec();
        bytes.extend(std::iter::repeat(0).take(zeros));
        if rfc2409_style {
            // RFC 2409 §5.3: the last pad octet counts the others.
            bytes.push(zeros as u8);
        }
        prop_assert_eq!(parse_payloads(first_payload_type(&payloads), &bytes).unwrap(), payloads);
    }

    #[test]
    fn messages_round_trip(header in header(), payloads in prop::collection::vec(payload(), 0..5)) {
        let message = Message { header, payloads };
        let bytes = message.encode_cleartext().unwrap();
        let decoded = Message::decode_cleartext(&bytes).unwrap();
        prop_assert_eq!(decoded.header.length as usize, bytes.len());
        prop_assert_eq!(decoded.header.next_payload, first_payload_type(&message.payloads));
        prop_assert_eq!(
            Header { length: 0, next_payload: PayloadType::NONE, ..decoded.header },
            message.header
        );
        prop_assert_eq!(decoded.payloads, message.payloads);
    }

    #[test]
    fn life_durations_read_back(seconds in any::<u32>()) {
        let a = Attribute::duration(12, seconds);
        prop_assert_eq!(a.as_u64(), Some(u64::from(seconds)));
        prop_assert_eq!(a.wire_len(), if seconds <= 0xffff { 4 } else { 8 });
    }
}
