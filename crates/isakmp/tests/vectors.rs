//! Byte vectors from a real strongSwan 5.9.8 pair (two charons in two
//! network namespaces, 192.0.2.1 initiator, 192.0.2.2 responder, IKEv1 Main
//! Mode, PSK, aes128-sha1-modp1024, kernel-libipsec), captured with
//! `tests/capture/capture-main-mode.sh` (pcap: `tests/capture/main-mode.pcap`).
//!
//! Messages 1-4 are the UDP payloads on port 500. kernel-libipsec makes
//! charon float to port 4500 at message 5, so the rest are UDP 4500
//! payloads (non-ESP marker included), and their cleartext comes from
//! charon's own "plain =>" log dumps (`enc = 3`): as the receiver decrypted
//! it (with strongSwan's zero padding) or as the sender generated it.
//!
//! Facts these bytes pin down:
//! - strongSwan writes Life Duration 28 800 as a TV attribute, attribute
//!   order enc, key length, hash, group, auth, life type, life duration.
//! - Main Mode 1 carries XAUTH, DPD, FRAGMENTATION (with 80000000), RFC 3947
//!   and draft-ietf-ipsec-nat-t-ike-02\n Vendor IDs; message 2 answers with
//!   XAUTH, DPD, FRAGMENTATION and RFC 3947 only.
//! - NAT-D uses the RFC number 20. The first NAT-D hashes the peer's
//!   address; the second (own address) does NOT match 192.0.2.x:500:
//!   with kernel-libipsec charon fakes its own NAT-D to force UDP
//!   encapsulation (as `encap = yes` does), which is why it floats to 4500.
//! - strongSwan pads encrypted bodies with zeros, a whole extra block when
//!   the payloads are already block-aligned (message 5: 64 + 16).
//! - Quick Mode SA: encapsulation mode 3 (UDP-Encapsulated-Tunnel, RFC 3947),
//!   SA life 3960 s (rekey 3600 + margin as configured) as TV.

use std::net::{IpAddr, Ipv4Addr};

use hybridlab_isakmp::attribute::{ike, ipsec};
use hybridlab_isakmp::payload::sa::{transform_id, DOI_IPSEC, SIT_IDENTITY_ONLY};
use hybridlab_isakmp::payload::vendor::NatTDraft;
use hybridlab_isakmp::{
    classify_udp4500, encode_payloads, nat_d_input, parse_header, parse_payloads, split_payloads,
    Attribute, ExchangeType, IdType, KnownVendor, Message, NatTNumbering, NotifyType, Payload,
    PayloadType, ProtocolId, SecurityAssociation, Udp4500,
};

const CKY_I: u64 = 0x75a8_aed6_545f_89b2;
const CKY_R: u64 = 0x42b1_8a8c_e68d_c362;
const INITIATOR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const RESPONDER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

fn bytes(chunks: &[&str]) -> Vec<u8> {
    hex::decode(chunks.concat()).expect("test vector is hex")
}

/// Main Mode message 1 (initiator 192.0.2.1:500 -> 192.0.2.2:500), 180 octets:
/// HDR(CKY-I 75a8aed6545f89b2, CKY-R 0) SA V(XAUTH) V(DPD) V(FRAGMENTATION) V(RFC 3947) V(draft-02\n).
const MM1: &[&str] = &[
    "75a8aed6545f89b200000000000000000110020000000000000000b40d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000280030001800b0001800c70800d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d3800000000d000014",
    "4a131c81070358455c5728f20e95452f0000001490cb80913ebb696e086381b5ec427b1f",
];

/// Main Mode message 2 (responder), 160 octets: HDR(CKY-R 42b18a8ce68dc362) SA V(XAUTH) V(DPD) V(FRAGMENTATION) V(RFC 3947).
const MM2: &[&str] = &[
    "75a8aed6545f89b242b18a8ce68dc3620110020000000000000000a00d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000280030001800b0001800c70800d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d38000000000000014",
    "4a131c81070358455c5728f20e95452f",
];

/// Main Mode message 3, 244 octets: KE(128) Ni(32) NAT-D(remote 192.0.2.2:500) NAT-D(local 192.0.2.1:500).
const MM3: &[&str] = &[
    "75a8aed6545f89b242b18a8ce68dc3620410020000000000000000f40a000084dcf26d2d846a67e9b40dfc99551f86b9",
    "95817c8f7608dbe203f13711c32e81205501a30f8eab9c70a94676f68a06f5d456108d5ff7ee826eecd2ade4b2b9a5cc",
    "98cdd0f01d98c9986a03ba887f3124d17882895b955e4cf5f662f3e9fd00619a41ba2d4e33f4650abd22472a817241bb",
    "36e435afdbf881c7951b13c83516d20a14000024972112705419fdbcf7cfdfc331000090c8f19dc975454442425dae1e",
    "67f3088a14000018dd688bf5c5dca9ae5fb52b43f6ab86d8e249a32a00000018e8075fbaf23e9f52ebae3b991ce26b38",
    "96edb3a4",
];

/// Main Mode message 4, 244 octets: KE(128) Nr(32) NAT-D(remote 192.0.2.1:500) NAT-D(local 192.0.2.2:500).
const MM4: &[&str] = &[
    "75a8aed6545f89b242b18a8ce68dc3620410020000000000000000f40a000084577df6bd4330e7d556c695b4a6bf9bcb",
    "7c1ae6035af2f277f32c2e0f44f3dac0ae94e8f3bc7d5c8289ccbe503e62a992f20bcfe374204d275379326f889f6deb",
    "5c77f04c06bc0520b4a8b652f58e44ce167907aa9ae611b6838d8d6787eb453b3ed60e7da02973c9fd113bb1531f263d",
    "934f62db88ef3c4d741a70229eb6aaa214000024d99c0c50fff4fce078cff5ef92cd2e2ae5a04435f3952f294b0513ad",
    "233ec3ca14000018645b548c42be88f1742d9ec6099af3a662795082000000181116b255d297643ca7c0a6c62d9cc44f",
    "a4626c30",
];

/// UDP 4500 frame 5: non-ESP marker + Main Mode message 5 (E flag, first payload ID).
const UDP4500_MM5: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc36205100201000000000000006ce1a3b0d0573b35e27747765df145f5cb",
    "c326599c0e2053f94cb8df2bc5e9373984fd4edc158d9b9be015e29f9b7176ca2834c3798fc39948130f75e0fa8c1198",
    "3c95d0b099aa842e8249caffd8f4e764",
];

/// UDP 4500 frame 6: non-ESP marker + Main Mode message 6.
const UDP4500_MM6: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc36205100201000000000000004c496913b1e6e844f1f56cdce6fe1cf41e",
    "4f83bf38d97fa50d7862c35317e104b9f0f615403089665258e4ac60173907f6",
];

/// UDP 4500 frame 7: non-ESP marker + Quick Mode message 1 (message ID b73c404c).
const UDP4500_QM1: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc36208102001b73c404c0000013cee9992760ff1ea16f69afa97c2e76edb",
    "87786af6035bfe5bee88e79c1d6ef8ee04f930f9b5f7787d6a01aa704bc2c1823e22d0d463c099eed44bcf9d327856a2",
    "06bd8465ac9b271d94a43b2636c52754c6d43e56f54d4d55855d901e1c0c17cb6489de2019cca22261f054da91bc6878",
    "a7c0d4e971e60acb48e0bcc202476c78ccded2d9c8dfd80ddb64a6a7dca8865ee4e194edb6fb4dca30de14f26c14862a",
    "e5d16208cfe94baf141121aa386eb487eb2fb4c8ac89a4bd5c16e6d67f7d6946c30e80e3f32f419e4a2407ce087c8224",
    "19c7a3fc34d095fb1fbe72e5ad3510750d53a114083355d13ce99c09ff97ae6fdc74d2ceb55730cc7298315e5f028fb1",
    "e0c5f32ef49291d79dad0e24a82d5ea046c5260e43009b36ba3806f1d0647d72",
];

/// UDP 4500 frame 8: non-ESP marker + Quick Mode message 2.
const UDP4500_QM2: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc36208102001b73c404c0000013cc1c640c0fe97ca7b87c6cc65362c32ce",
    "63ff10b4eaa4835bbee64a35ca71ee59ac70da6303b5863964d36614087b2a9f491b4fdd910e51cdefa60ea7aa8775cf",
    "f987a7a06ba2975fb389b99b80841bc7d0847fe50899dfec0a2a919783ee44e25a22ab0057ddaaf26e8e5bb672b2ddb4",
    "389576aaa8e07fb3aeb8af51a1ec1c95710af95706b5f52e7d250e77d6247b1b58079fcfc4d729c8b628641507341039",
    "0ea90a2d45c7f08866734b887212a098d59c66f1e89d62272bd8d44680198ee5bd842e88c53308df2c1094554f3ea471",
    "25153c71ea1e8c49f62ef3cd15740b30f150d61c8f7f2e77a163a7729516ef07c7a3fee58776036442c46748a2aae3a8",
    "7a774d71254d6fa21c2e3b4086e1b3736427224c28ef4ae0af38f43aecd44433",
];

/// UDP 4500 frame 9: non-ESP marker + Informational HASH N(NO-PROPOSAL-CHOSEN).
const UDP4500_INFO_NOTIFY: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc36208100501e3303f920000004c1028c2435c1a1e68f489fced88ebeadd",
    "9dfe4b161bcd1143950764e6612ad322f409889783ddd1a785a6b71e9bb8d2b8",
];

/// UDP 4500 frame 10: non-ESP marker + Informational HASH D (initiator at shutdown).
const UDP4500_INFO_DELETE_I: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc362081005017b5de20d0000005c50fe9e1635023c35560573765be253a3",
    "ed48f4ec6694e27918ee338a9d63c955ca03fca87b4df6e50eba8d1479bb74d1ba84dbed95c80616a02c4c0f6ba387dc",
];

/// UDP 4500 frame 11: non-ESP marker + Informational HASH D (responder at shutdown).
const UDP4500_INFO_DELETE_R: &[&str] = &[
    "0000000075a8aed6545f89b242b18a8ce68dc3620810050154502f270000005c0527181c0bd226a978db1aa95535cac7",
    "e20ccc0ee228fd4d6c55a58cdd40d5fc88c91f49926c00b62b8d8b292e50dd2ad93e9045b80f36a00d7b95b2fd425222",
];

/// Main Mode message 6 cleartext as the initiator decrypted it (36 + 12 padding):
/// ID(IPV4_ADDR 192.0.2.2) HASH_R(20).
const MM6_PLAIN: &[&str] = &[
    "0800000c01000000c0000202000000186ca0b637dc4f727746da2102c537732b80e09481000000000000000000000000",
];

/// Quick Mode message 2 cleartext as decrypted (280 + 8 padding): HASH(2)
/// SA(ESP, SPI c538e678) Nr KE IDci IDcr.
const QM2_PLAIN: &[&str] = &[
    "010000184e132be8211eacdf8333ac2ec3d0e55103cde9300a00003800000001000000010000002c01030401c538e678",
    "00000020010c0000800600808005000280030002800400038001000180020f78040000240488382f6283976fdbbcad95",
    "5e26963fd1e43bde63bdbe08ac5b8b2b637f1cf30500008479c84f5d1b0a6f8565af08825ca37825fa0c0363b03e2076",
    "4b2c6e2185c0dec1896fa1d4316d7ca5df9cf6624df08fa6f6978cf038c1d90a04c99060872f083c5ccee319b60b2230",
    "23b04761ecd0413b441d07dc7cf0764fd5003fcf91dc3a1639ca1abe5838807710ef382cb7409d9a2a2d61d3425c1204",
    "d7a37890d51a368005000010040000000a010000ffff000000000010040000000a020000ffff00000000000000000000",
];

/// Informational cleartext as the initiator generated it (52 octets, before
/// padding): HASH(1) D(ISAKMP, one 16-octet SPI = CKY-I | CKY-R).
const INFO_DELETE_PLAIN: &[&str] = &[
    "0c000018dc06c6a936b65f71d7c3fc6de8dbe1d6154376a20000001c000000010110000175a8aed6545f89b242b18a8c",
    "e68dc362",
];

/// Main Mode message 5 cleartext as the responder decrypted it (64 octets of
/// payloads + 16 zero octets of padding): ID(IPV4_ADDR 192.0.2.1) HASH_I(20)
/// N(INITIAL-CONTACT, SPI = CKY-I | CKY-R).
const MM5_PLAIN: &[&str] = &[
    "0800000c01000000c00002010b000018e35b3fbd3693232319c320092365689bc6f8e1810000001c0000000101106002",
    "75a8aed6545f89b242b18a8ce68dc36200000000000000000000000000000000",
];

/// Quick Mode message 1 cleartext as decrypted (280 + 8 padding): HASH(1)
/// SA(ESP, SPI c8075a5e, ESP_AES 128 / HMAC-SHA1 / group 2 / UDP tunnel /
/// 3960 s) Ni KE(128) IDci(10.1.0.0/16) IDcr(10.2.0.0/16).
const QM1_PLAIN: &[&str] = &[
    "010000185bb1689b63bdb202fb9e9075a7f9956cc46b29b70a00003800000001000000010000002c01030401c8075a5e",
    "00000020010c0000800600808005000280030002800400038001000180020f780400002417e3625bd73752122fe49b2f",
    "9da8d817a05d9cec1dd4b8f7215d3b60c080ef1805000084df477d816795c8a6766167adfd94442f2ba0598e9c5d6e60",
    "ee3558046cc37f93b242b5bb2a9f69add4b558e6230d126a40b6418d5e2db525c4877735ab715589c5b8807d8784d5c2",
    "6d4d399a5a1adcc37db1fbbb796d8f17eba6a1122e9552e451df5e6326c7d0dd4131074f47ff7850865956ab90e78cb9",
    "1b448ee896f72edf05000010040000000a010000ffff000000000010040000000a020000ffff00000000000000000000",
];

/// Informational cleartext as decrypted (40 + 8 padding): HASH(1)
/// N(NO-PROPOSAL-CHOSEN, ESP, SPI c8075a5e). The initiator could not install
/// its SAs (no kernel ESP) and said so.
const INFO_NOTIFY_PLAIN: &[&str] = &[
    "0b000018bdff39fe31eac5eaa332a26d3cdd5af379a1515b00000010000000010304000ec8075a5e0000000000000000",
];

/// The phase 1 proposal both sides send: one ISAKMP proposal, one KEY_IKE
/// transform, the AWS parameters.
fn expect_phase1_sa(sa: &SecurityAssociation) {
    assert_eq!(sa.doi, DOI_IPSEC);
    assert_eq!(sa.situation, SIT_IDENTITY_ONLY);
    let [proposal] = sa.proposals.as_slice() else {
        panic!("one proposal: {sa:?}")
    };
    assert_eq!(
        (proposal.number, proposal.protocol),
        (1, ProtocolId::ISAKMP)
    );
    assert!(
        proposal.spi.is_empty(),
        "phase 1 proposals carry no SPI (RFC 2409 §5)"
    );
    let [transform] = proposal.transforms.as_slice() else {
        panic!("one transform")
    };
    assert_eq!((transform.number, transform.id), (1, transform_id::KEY_IKE));
    assert_eq!(
        transform.attributes,
        vec![
            Attribute::basic(ike::ENCRYPTION_ALGORITHM, ike::encryption::AES_CBC),
            Attribute::basic(ike::KEY_LENGTH, 128),
            Attribute::basic(ike::HASH_ALGORITHM, ike::hash::SHA1),
            Attribute::basic(ike::GROUP_DESCRIPTION, ike::group::MODP_1024),
            Attribute::basic(ike::AUTHENTICATION_METHOD, ike::auth::PRE_SHARED_KEY),
            Attribute::basic(ike::LIFE_TYPE, ike::life::SECONDS),
            Attribute::basic(ike::LIFE_DURATION, 28_800),
        ]
    );
    assert_eq!(
        transform
            .attribute(ike::LIFE_DURATION)
            .and_then(Attribute::as_u64),
        Some(28_800)
    );
}

fn vendors(payloads: &[Payload]) -> Vec<Option<KnownVendor>> {
    payloads
        .iter()
        .filter_map(|p| match p {
            Payload::VendorId(v) => Some(v.known()),
            _ => None,
        })
        .collect()
}

/// Decodes a cleartext message and checks it re-encodes to the same bytes.
fn decode_exact(datagram: &[u8]) -> Message {
    let message = Message::decode_cleartext(datagram).expect("strongSwan's message decodes");
    let encoded = message.encode_cleartext().expect("re-encodes");
    assert_eq!(
        hex::encode(&encoded),
        hex::encode(datagram),
        "re-encoding is byte-exact"
    );
    message
}

#[test]
fn main_mode_1_from_strongswan() {
    let datagram = bytes(MM1);
    let m = decode_exact(&datagram);
    assert_eq!(m.header.initiator_cookie, CKY_I);
    assert_eq!(m.header.responder_cookie, 0);
    assert_eq!(m.header.next_payload, PayloadType::SECURITY_ASSOCIATION);
    assert_eq!(m.header.exchange_type, ExchangeType::MAIN_MODE);
    assert_eq!(m.header.flags.0, 0);
    assert_eq!(m.header.message_id, 0);
    assert_eq!(m.header.length, 180);
    let Payload::SecurityAssociation(sa) = &m.payloads[0] else {
        panic!("SA first")
    };
    expect_phase1_sa(sa);
    assert_eq!(
        vendors(&m.payloads),
        vec![
            Some(KnownVendor::Xauth),
            Some(KnownVendor::Dpd),
            Some(KnownVendor::Fragmentation),
            Some(KnownVendor::NatTRfc3947),
            Some(KnownVendor::NatTDraft(NatTDraft::Ietf02N)),
        ]
    );
    assert_eq!(m.payloads.len(), 6);
}

#[test]
fn main_mode_2_from_strongswan() {
    let m = decode_exact(&bytes(MM2));
    assert_eq!(
        (m.header.initiator_cookie, m.header.responder_cookie),
        (CKY_I, CKY_R)
    );
    assert_eq!(m.header.length, 160);
    let Payload::SecurityAssociation(sa) = &m.payloads[0] else {
        panic!("SA first")
    };
    expect_phase1_sa(sa);
    assert_eq!(
        vendors(&m.payloads),
        vec![
            Some(KnownVendor::Xauth),
            Some(KnownVendor::Dpd),
            Some(KnownVendor::Fragmentation),
            Some(KnownVendor::NatTRfc3947),
        ]
    );
}

/// KE, nonce and two NAT-D; the first NAT-D is SHA-1 over the peer's
/// address (RFC 3947 §3.2), checked against `nat_d_input`.
fn expect_key_exchange(m: &Message, peer: IpAddr, own: IpAddr) {
    assert_eq!(
        (m.header.initiator_cookie, m.header.responder_cookie),
        (CKY_I, CKY_R)
    );
    assert_eq!(m.header.next_payload, PayloadType::KEY_EXCHANGE);
    assert_eq!(m.header.length, 244);
    let [Payload::KeyExchange(ke), Payload::Nonce(nonce), Payload::NatD(remote), Payload::NatD(local)] =
        m.payloads.as_slice()
    else {
        panic!("KE No NAT-D NAT-D: {:?}", m.payloads)
    };
    assert_eq!(ke.len(), 128, "MODP 1024 public value");
    assert_eq!(nonce.len(), 32);
    assert_eq!(remote.numbering, NatTNumbering::Rfc3947);
    let sha1 = |input: &[u8]| ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, input);
    let expected = sha1(&nat_d_input(CKY_I, CKY_R, peer, 500));
    assert_eq!(remote.hash, expected.as_ref());
    // kernel-libipsec: charon fakes its own NAT-D to force UDP encapsulation.
    assert_eq!(local.hash.len(), 20);
    assert_ne!(
        local.hash,
        sha1(&nat_d_input(CKY_I, CKY_R, own, 500)).as_ref()
    );
}

#[test]
fn main_mode_3_from_strongswan() {
    expect_key_exchange(&decode_exact(&bytes(MM3)), RESPONDER, INITIATOR);
}

#[test]
fn main_mode_4_from_strongswan() {
    expect_key_exchange(&decode_exact(&bytes(MM4)), INITIATOR, RESPONDER);
}

#[test]
fn encrypted_frames_on_4500_split_into_header_and_ciphertext() {
    let frames: [(&[&str], ExchangeType, PayloadType, Option<u32>); 7] = [
        (
            UDP4500_MM5,
            ExchangeType::MAIN_MODE,
            PayloadType::IDENTIFICATION,
            Some(0),
        ),
        (
            UDP4500_MM6,
            ExchangeType::MAIN_MODE,
            PayloadType::IDENTIFICATION,
            Some(0),
        ),
        (
            UDP4500_QM1,
            ExchangeType::QUICK_MODE,
            PayloadType::HASH,
            Some(0xb73c_404c),
        ),
        (
            UDP4500_QM2,
            ExchangeType::QUICK_MODE,
            PayloadType::HASH,
            Some(0xb73c_404c),
        ),
        (
            UDP4500_INFO_NOTIFY,
            ExchangeType::INFORMATIONAL,
            PayloadType::HASH,
            None,
        ),
        (
            UDP4500_INFO_DELETE_I,
            ExchangeType::INFORMATIONAL,
            PayloadType::HASH,
            None,
        ),
        (
            UDP4500_INFO_DELETE_R,
            ExchangeType::INFORMATIONAL,
            PayloadType::HASH,
            None,
        ),
    ];
    for (frame, exchange, first, message_id) in frames {
        let datagram = bytes(frame);
        let Udp4500::Ike(ike) = classify_udp4500(&datagram) else {
            panic!("IKE after the marker")
        };
        let (header, body) = parse_header(ike).expect("header parses");
        assert_eq!(
            (header.initiator_cookie, header.responder_cookie),
            (CKY_I, CKY_R)
        );
        assert_eq!(header.exchange_type, exchange);
        assert_eq!(header.next_payload, first);
        assert!(header.flags.encrypted());
        assert_eq!(body.len() % 16, 0, "AES-CBC ciphertext");
        assert_eq!(body.len() + 28, header.length as usize);
        if let Some(id) = message_id {
            assert_eq!(header.message_id, id);
        }
        assert_eq!(
            Message::decode_cleartext(ike),
            Err(hybridlab_isakmp::Error::Encrypted)
        );
    }
}

#[test]
fn main_mode_5_cleartext_with_padding() {
    let body = bytes(MM5_PLAIN);
    let payloads = parse_payloads(PayloadType::IDENTIFICATION, &body).expect("padding tolerated");
    let [Payload::Identification(id), Payload::Hash(hash), Payload::Notification(n)] =
        payloads.as_slice()
    else {
        panic!("ID HASH N: {payloads:?}")
    };
    assert_eq!(id.id_type, IdType::IPV4_ADDR);
    assert_eq!((id.protocol, id.port), (0, 0));
    assert_eq!(id.as_ipv4(), Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(hash.len(), 20, "HMAC-SHA1");
    assert_eq!(n.message_type, NotifyType::INITIAL_CONTACT);
    assert_eq!((n.doi, n.protocol), (DOI_IPSEC, ProtocolId::ISAKMP));
    assert_eq!(n.cookies(), Some((CKY_I, CKY_R)));
    assert!(n.data.is_empty());
    // Re-encoding gives the payloads without the 16 octets of padding.
    assert_eq!(encode_payloads(&payloads).unwrap().as_ref(), &body[..64]);
}

#[test]
fn main_mode_6_cleartext_with_padding() {
    let body = bytes(MM6_PLAIN);
    let payloads = parse_payloads(PayloadType::IDENTIFICATION, &body).expect("padding tolerated");
    let [Payload::Identification(id), Payload::Hash(hash)] = payloads.as_slice() else {
        panic!("ID HASH: {payloads:?}")
    };
    assert_eq!(id.as_ipv4(), Some(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(hash.len(), 20);
    assert_eq!(encode_payloads(&payloads).unwrap().as_ref(), &body[..36]);
}

fn expect_quick_mode(body: &[u8], spi: [u8; 4]) {
    let payloads = parse_payloads(PayloadType::HASH, body).expect("quick mode body parses");
    let [Payload::Hash(hash), Payload::SecurityAssociation(sa), Payload::Nonce(nonce), Payload::KeyExchange(ke), Payload::Identification(idci), Payload::Identification(idcr)] =
        payloads.as_slice()
    else {
        panic!("HASH SA No KE ID ID: {payloads:?}")
    };
    assert_eq!(hash.len(), 20);
    assert_eq!(nonce.len(), 32);
    assert_eq!(ke.len(), 128, "PFS with MODP 1024");
    let [proposal] = sa.proposals.as_slice() else {
        panic!("one proposal")
    };
    assert_eq!(proposal.protocol, ProtocolId::ESP);
    assert_eq!(proposal.spi, spi);
    let [transform] = proposal.transforms.as_slice() else {
        panic!("one transform")
    };
    assert_eq!(transform.id, transform_id::ESP_AES);
    assert_eq!(
        transform.attributes,
        vec![
            Attribute::basic(ipsec::KEY_LENGTH, 128),
            Attribute::basic(ipsec::AUTHENTICATION_ALGORITHM, ipsec::auth::HMAC_SHA1),
            Attribute::basic(ipsec::GROUP_DESCRIPTION, ike::group::MODP_1024),
            Attribute::basic(ipsec::ENCAPSULATION_MODE, ipsec::encapsulation::UDP_TUNNEL),
            Attribute::basic(ipsec::SA_LIFE_TYPE, ipsec::life::SECONDS),
            Attribute::basic(ipsec::SA_LIFE_DURATION, 3960),
        ]
    );
    let mask = Ipv4Addr::new(255, 255, 0, 0);
    assert_eq!(
        idci.as_ipv4_subnet(),
        Some((Ipv4Addr::new(10, 1, 0, 0), mask))
    );
    assert_eq!(
        idcr.as_ipv4_subnet(),
        Some((Ipv4Addr::new(10, 2, 0, 0), mask))
    );
    assert_eq!(encode_payloads(&payloads).unwrap().as_ref(), &body[..280]);

    // HASH(1)/HASH(2) cover everything after the HASH payload (RFC 2409 §5.5).
    let raw = split_payloads(PayloadType::HASH, body).unwrap();
    assert_eq!(
        (raw[0].offset, raw[0].whole.len(), raw[0].body.len()),
        (0, 24, 20)
    );
    let last = raw.last().unwrap();
    assert_eq!(last.offset + last.whole.len(), 280);
    assert_eq!(raw[1].kind, PayloadType::SECURITY_ASSOCIATION);
    assert_eq!(raw[1].offset, 24);
}

#[test]
fn quick_mode_1_cleartext() {
    expect_quick_mode(&bytes(QM1_PLAIN), [0xc8, 0x07, 0x5a, 0x5e]);
}

#[test]
fn quick_mode_2_cleartext() {
    expect_quick_mode(&bytes(QM2_PLAIN), [0xc5, 0x38, 0xe6, 0x78]);
}

#[test]
fn informational_notify_cleartext() {
    let body = bytes(INFO_NOTIFY_PLAIN);
    let payloads = parse_payloads(PayloadType::HASH, &body).unwrap();
    let [Payload::Hash(_), Payload::Notification(n)] = payloads.as_slice() else {
        panic!("HASH N: {payloads:?}")
    };
    assert_eq!(n.message_type, NotifyType::NO_PROPOSAL_CHOSEN);
    assert_eq!(n.message_type.name(), Some("NO-PROPOSAL-CHOSEN"));
    assert_eq!((n.doi, n.protocol), (DOI_IPSEC, ProtocolId::ESP));
    assert_eq!(n.spi, [0xc8, 0x07, 0x5a, 0x5e]);
    assert_eq!(encode_payloads(&payloads).unwrap().as_ref(), &body[..40]);
}

#[test]
fn informational_delete_cleartext() {
    let body = bytes(INFO_DELETE_PLAIN);
    let payloads = parse_payloads(PayloadType::HASH, &body).unwrap();
    let [Payload::Hash(_), Payload::Delete(d)] = payloads.as_slice() else {
        panic!("HASH D: {payloads:?}")
    };
    assert_eq!(*d, hybridlab_isakmp::Delete::isakmp(CKY_I, CKY_R));
    assert_eq!(
        encode_payloads(&payloads).unwrap().as_ref(),
        body.as_slice()
    );
}
