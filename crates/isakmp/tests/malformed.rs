//! Malformed input: each damage gives its own typed error with the RFC 2408
//! §5 notification, and no input panics. Most cases start from strongSwan's
//! Main Mode message 1 (see vectors.rs) and break one field.
//!
//! Layout of that message: header 0..28; SA payload at 28 (length at
//! 30..32 = 56); SA body DOI 32..36, situation 36..40; Proposal at 40
//! (length at 42..44 = 44, protocol 45, SPI size 46, # transforms 47);
//! Transform at 48 (length at 50..52 = 36); attributes 56..84; VIDs after.

use hybridlab_isakmp::{
    parse_header, parse_payloads, Error, Message, NotifyType, PayloadType, ProposalSyntax,
};

const MM1: &str = concat!(
    "75a8aed6545f89b200000000000000000110020000000000000000b40d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000280030001800b0001800c70800d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d3800000000d000014",
    "4a131c81070358455c5728f20e95452f0000001490cb80913ebb696e086381b5ec427b1f",
);

fn mm1() -> Vec<u8> {
    hex::decode(MM1).unwrap()
}

/// MM1 with `patch` written at `offset`.
fn mm1_with(offset: usize, patch: &[u8]) -> Vec<u8> {
    let mut m = mm1();
    m[offset..offset + patch.len()].copy_from_slice(patch);
    m
}

fn decode(datagram: &[u8]) -> Error {
    Message::decode_cleartext(datagram).expect_err("malformed input must not decode")
}

#[test]
fn the_unmodified_message_decodes() {
    assert!(Message::decode_cleartext(&mm1()).is_ok());
}

#[test]
fn truncated_header() {
    let m = mm1();
    for len in 0..28 {
        assert_eq!(decode(&m[..len]), Error::HeaderTruncated { have: len });
    }
    assert_eq!(decode(&m[..27]).notify_type(), None, "nothing to answer to");
}

#[test]
fn header_length_beyond_the_datagram() {
    let m = mm1_with(24, &200u32.to_be_bytes());
    let e = decode(&m);
    assert_eq!(
        e,
        Error::LengthMismatch {
            header: 200,
            datagram: 180
        }
    );
    assert_eq!(e.notify_type(), None);
}

#[test]
fn header_length_short_of_the_datagram() {
    let mut m = mm1();
    m.extend_from_slice(&[0; 4]);
    assert_eq!(
        decode(&m),
        Error::LengthMismatch {
            header: 180,
            datagram: 184
        }
    );
}

#[test]
fn every_prefix_is_an_error_not_a_panic() {
    let m = mm1();
    for len in 0..m.len() {
        assert!(
            Message::decode_cleartext(&m[..len]).is_err(),
            "prefix of {len}"
        );
    }
}

#[test]
fn header_fields_per_rfc2408_5_1() {
    let cases: [(usize, &[u8], Error, NotifyType); 6] = [
        (0, &[0; 8], Error::InvalidCookie, NotifyType::INVALID_COOKIE),
        (
            17,
            &[0x20],
            Error::InvalidMajorVersion(2),
            NotifyType::INVALID_MAJOR_VERSION,
        ),
        (
            17,
            &[0x11],
            Error::InvalidMinorVersion(1),
            NotifyType::INVALID_MINOR_VERSION,
        ),
        (
            18,
            &[6],
            Error::InvalidExchangeType(6),
            NotifyType::INVALID_EXCHANGE_TYPE,
        ),
        (
            19,
            &[0x08],
            Error::InvalidFlags(8),
            NotifyType::INVALID_FLAGS,
        ),
        (
            16,
            &[14],
            Error::InvalidPayloadType(14),
            NotifyType::INVALID_PAYLOAD_TYPE,
        ),
    ];
    for (offset, patch, error, notify) in cases {
        let e = decode(&mm1_with(offset, patch));
        assert_eq!(e, error);
        assert_eq!(e.notify_type(), Some(notify));
    }
}

#[test]
fn unknown_payload_type_in_the_chain() {
    // The SA's Next Payload names an unassigned type (RFC 2408 §3.1: 14-127).
    let e = decode(&mm1_with(28, &[14]));
    assert_eq!(e, Error::InvalidPayloadType(14));
    assert_eq!(e.notify_type(), Some(NotifyType::INVALID_PAYLOAD_TYPE));
    // A Proposal outside an SA is just as invalid at the top level.
    assert_eq!(decode(&mm1_with(16, &[2])), Error::InvalidPayloadType(2));
}

#[test]
fn payload_length_below_four() {
    for length in [0u16, 3] {
        let e = decode(&mm1_with(30, &length.to_be_bytes()));
        assert_eq!(
            e,
            Error::PayloadTooShort {
                payload: PayloadType::SECURITY_ASSOCIATION,
                length,
                minimum: 4
            }
        );
        assert_eq!(e.notify_type(), Some(NotifyType::PAYLOAD_MALFORMED));
    }
}

#[test]
fn payload_length_beyond_the_body() {
    let e = decode(&mm1_with(30, &255u16.to_be_bytes()));
    assert_eq!(
        e,
        Error::PayloadTruncated {
            payload: PayloadType::SECURITY_ASSOCIATION,
            length: 255,
            available: 152
        }
    );
}

#[test]
fn generic_header_cut_short() {
    // Next Payload promises a Nonce but only 3 octets follow.
    let e = parse_payloads(PayloadType::NONCE, &[0, 0, 0]).unwrap_err();
    assert_eq!(
        e,
        Error::PayloadTruncated {
            payload: PayloadType::NONCE,
            length: 4,
            available: 3
        }
    );
}

#[test]
fn proposal_longer_than_its_sa() {
    let e = decode(&mm1_with(42, &48u16.to_be_bytes()));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::ProposalOverrun {
            length: 48,
            available: 44
        })
    );
    assert_eq!(e.notify_type(), Some(NotifyType::BAD_PROPOSAL_SYNTAX));
}

#[test]
fn proposal_shorter_than_its_transform() {
    let e = decode(&mm1_with(42, &40u16.to_be_bytes()));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::TransformOverrun {
            length: 36,
            available: 32
        })
    );
}

#[test]
fn proposal_length_below_its_fixed_part() {
    let e = decode(&mm1_with(42, &7u16.to_be_bytes()));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::ProposalTooShort(7))
    );
}

#[test]
fn transform_count_disagrees() {
    let e = decode(&mm1_with(47, &[2]));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::TransformCount {
            declared: 2,
            found: 1
        })
    );
}

#[test]
fn spi_size_past_the_proposal() {
    let e = decode(&mm1_with(46, &[40]));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::SpiOverrun {
            spi_size: 40,
            available: 36
        })
    );
}

#[test]
fn proposal_chain_says_more_but_has_none() {
    let e = decode(&mm1_with(40, &[2]));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::ChainLength { remaining: 0 })
    );
}

#[test]
fn transform_next_payload_not_a_transform() {
    let e = decode(&mm1_with(48, &[13]));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::TransformNextPayload(13))
    );
}

#[test]
fn attribute_tlv_overrun() {
    // The first attribute (Encryption Algorithm, TV) turned into a TLV of 64
    // octets inside a 28-octet attribute area.
    let e = decode(&mm1_with(56, &[0x00, 0x01, 0x00, 0x40]));
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::AttributeOverrun {
            attribute_type: 1,
            length: 64,
            available: 24
        })
    );
    assert_eq!(e.notify_type(), Some(NotifyType::BAD_PROPOSAL_SYNTAX));
}

#[test]
fn attribute_header_cut_by_the_transform() {
    // Transform length 34: the last attribute has only 2 of its 4 octets;
    // the Proposal shrinks with it so only the attribute is wrong.
    let mut m = mm1_with(50, &34u16.to_be_bytes());
    m[42..44].copy_from_slice(&42u16.to_be_bytes());
    m[30..32].copy_from_slice(&54u16.to_be_bytes());
    m.remove(82);
    m.remove(82);
    m[24..28].copy_from_slice(&178u32.to_be_bytes());
    let e = decode(&m);
    assert_eq!(
        e,
        Error::BadProposalSyntax(ProposalSyntax::AttributeOverrun {
            attribute_type: 0,
            length: 4,
            available: 2
        })
    );
}

#[test]
fn doi_and_situation() {
    let e = decode(&mm1_with(32, &2u32.to_be_bytes()));
    assert_eq!(e, Error::DoiNotSupported(2));
    assert_eq!(e.notify_type(), Some(NotifyType::DOI_NOT_SUPPORTED));
    let e = decode(&mm1_with(36, &2u32.to_be_bytes()));
    assert_eq!(e, Error::SituationNotSupported(2));
    assert_eq!(e.notify_type(), Some(NotifyType::SITUATION_NOT_SUPPORTED));
}

#[test]
fn protocol_id_unknown() {
    let e = decode(&mm1_with(45, &[9]));
    assert_eq!(e, Error::InvalidProtocolId(9));
    assert_eq!(e.notify_type(), Some(NotifyType::INVALID_PROTOCOL_ID));
}

#[test]
fn trailing_octets_that_are_not_padding() {
    // A Nonce of 4 octets, then junk.
    let body = [0, 0, 0, 8, 1, 2, 3, 4, 0xde, 0xad];
    let e = parse_payloads(PayloadType::NONCE, &body).unwrap_err();
    assert_eq!(e, Error::TrailingData(2));
    assert_eq!(e.notify_type(), Some(NotifyType::PAYLOAD_MALFORMED));
    // Zeros, and zeros ending in their count (RFC 2409 §5.3), are padding.
    assert!(parse_payloads(PayloadType::NONCE, &[0, 0, 0, 8, 1, 2, 3, 4, 0, 0, 0]).is_ok());
    assert!(parse_payloads(PayloadType::NONCE, &[0, 0, 0, 8, 1, 2, 3, 4, 0, 0, 2]).is_ok());
}

#[test]
fn identification_data_does_not_fit_its_type() {
    // ID_IPV4_ADDR with 5 octets.
    let body = [0, 0, 0, 13, 1, 0, 0, 0, 192, 0, 2, 1, 9];
    let e = parse_payloads(PayloadType::IDENTIFICATION, &body).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidIdInformation {
            id_type: 1,
            length: 5
        }
    );
    assert_eq!(e.notify_type(), Some(NotifyType::INVALID_ID_INFORMATION));
}

#[test]
fn notification_spi_past_the_payload() {
    // DOI 1, ISAKMP, SPI size 16, R-U-THERE, but only 4 octets follow.
    let body = [0, 0, 0, 16, 0, 0, 0, 1, 1, 16, 0x8d, 0x28, 0, 0, 0, 1];
    let e = parse_payloads(PayloadType::NOTIFICATION, &body).unwrap_err();
    assert!(matches!(e, Error::InvalidSpi(_)));
    assert_eq!(e.notify_type(), Some(NotifyType::INVALID_SPI));
}

#[test]
fn delete_spis_do_not_add_up() {
    // DOI 1, ESP, SPI size 4, 2 SPIs, but 6 octets.
    let body = [0, 0, 0, 18, 0, 0, 0, 1, 3, 4, 0, 2, 1, 2, 3, 4, 5, 6];
    let e = parse_payloads(PayloadType::DELETE, &body).unwrap_err();
    assert_eq!(
        e,
        Error::DeleteSpiCount {
            count: 2,
            spi_size: 4,
            available: 6
        }
    );
}

#[test]
fn sa_without_proposals() {
    let body = [0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1];
    let e = parse_payloads(PayloadType::SECURITY_ASSOCIATION, &body).unwrap_err();
    assert_eq!(e, Error::BadProposalSyntax(ProposalSyntax::NoProposal));
}

#[test]
fn nat_oa_with_a_bad_address() {
    let body = [0, 0, 0, 10, 1, 0, 0, 0, 10, 0];
    let e = parse_payloads(PayloadType::NAT_OA, &body).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidNatOa {
            id_type: 1,
            length: 2
        }
    );
}

#[test]
fn single_octet_damage_never_panics() {
    let m = mm1();
    for i in 0..m.len() {
        for value in [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xff] {
            let mut damaged = m.clone();
            damaged[i] = value;
            if let Ok((header, body)) = parse_header(&damaged) {
                let _ = parse_payloads(header.next_payload, body);
            }
        }
    }
}
