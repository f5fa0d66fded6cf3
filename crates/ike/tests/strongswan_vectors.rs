//! Real strongSwan 5.9.8 messages (captured by the isakmp crate's
//! `tests/capture/capture-main-mode.sh`: 192.0.2.1 initiator, 192.0.2.2
//! responder, aes128-sha1-modp1024, kernel-libipsec) fed to our cloud
//! responder. The live runs are `tests/interop/strongswan.sh`; these bytes
//! keep what they showed in CI without root.

use bytes::Bytes;
use hybridlab_ike::{IkePeer, Input, Output, PeerConfig, Psk, SeededRandom};
use hybridlab_isakmp::{parse_header, split_payloads, PayloadType};
use std::net::SocketAddr;

fn bytes(chunks: &[&str]) -> Vec<u8> {
    hex::decode(chunks.concat()).unwrap()
}

/// Main Mode message 1: SA (one transform: AES-CBC 128, SHA1, PSK,
/// MODP1024, 28 800 s) and Vendor IDs XAUTH, DPD, FRAGMENTATION, RFC 3947,
/// draft-02.
const MM1: &[&str] = &[
    "75a8aed6545f89b200000000000000000110020000000000000000b40d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000280030001800b0001800c70800d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d3800000000d000014",
    "4a131c81070358455c5728f20e95452f0000001490cb80913ebb696e086381b5ec427b1f",
];

/// strongSwan's own answer (message 2), for its SA payload.
const MM2: &[&str] = &[
    "75a8aed6545f89b242b18a8ce68dc3620110020000000000000000a00d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000280030001800b0001800c70800d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d38000000000000014",
    "4a131c81070358455c5728f20e95452f",
];

/// Main Mode message 3: KE(128) Ni(32) NAT-D(192.0.2.2:500) NAT-D(faked).
const MM3: &[&str] = &[
    "75a8aed6545f89b242b18a8ce68dc3620410020000000000000000f40a000084dcf26d2d846a67e9b40dfc99551f86b9",
    "95817c8f7608dbe203f13711c32e81205501a30f8eab9c70a94676f68a06f5d456108d5ff7ee826eecd2ade4b2b9a5cc",
    "98cdd0f01d98c9986a03ba887f3124d17882895b955e4cf5f662f3e9fd00619a41ba2d4e33f4650abd22472a817241bb",
    "36e435afdbf881c7951b13c83516d20a14000024972112705419fdbcf7cfdfc331000090c8f19dc975454442425dae1e",
    "67f3088a14000018dd688bf5c5dca9ae5fb52b43f6ab86d8e249a32a00000018e8075fbaf23e9f52ebae3b991ce26b38",
    "96edb3a4",
];

const INITIATOR: &str = "192.0.2.1:500";
const RESPONDER: &str = "192.0.2.2:500";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn cloud() -> IkePeer {
    let config = PeerConfig::cloud(
        addr(RESPONDER),
        addr(INITIATOR),
        Psk::new("hybridlab-test-psk"),
    );
    IkePeer::new(config, Box::new(SeededRandom::new(1))).unwrap()
}

fn deliver(peer: &mut IkePeer, datagram: Vec<u8>) -> Vec<Bytes> {
    let mut out = Vec::new();
    peer.handle(
        Input::Datagram {
            from: addr(INITIATOR),
            to: addr(RESPONDER),
            bytes: datagram.into(),
        },
        &mut out,
    );
    out.into_iter()
        .filter_map(|o| match o {
            Output::Send { from, to, bytes } => {
                assert_eq!((from, to), (addr(RESPONDER), addr(INITIATOR)));
                Some(bytes)
            }
            _ => None,
        })
        .collect()
}

fn payloads(message: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let (h, body) = parse_header(message).unwrap();
    split_payloads(h.next_payload, body)
        .unwrap()
        .iter()
        .map(|r| (r.kind.0, r.body.to_vec()))
        .collect()
}

#[test]
fn strongswan_main_mode_1_gets_strongswans_own_sa_answer() {
    let mut peer = cloud();
    let sent = deliver(&mut peer, bytes(MM1));
    assert_eq!(sent.len(), 1);
    let ours = payloads(&sent[0]);
    let theirs = payloads(&bytes(MM2));
    // The chosen transform, echoed exactly as offered: the SA payload is
    // byte for byte what strongSwan's responder answered.
    assert_eq!(ours[0], theirs[0]);
    // Vendor IDs: RFC 3947 NAT-T and DPD.
    let vids: Vec<&Vec<u8>> = ours.iter().filter(|p| p.0 == 13).map(|p| &p.1).collect();
    assert_eq!(vids.len(), 2);
    assert!(vids.contains(&&hex::decode("4a131c81070358455c5728f20e95452f").unwrap()));
    assert!(vids.contains(&&hex::decode("afcad71368a1f1c96b8696fc77570100").unwrap()));
    // Same cookie, ours beside it.
    assert_eq!(&sent[0][..8], &bytes(MM1)[..8]);
    assert_ne!(&sent[0][8..16], &[0u8; 8]);
}

#[test]
fn strongswan_main_mode_3_is_answered_with_ke_nonce_and_nat_d() {
    let mut peer = cloud();
    let msg2 = deliver(&mut peer, bytes(MM1)).remove(0);
    // strongSwan's message 3 under our responder cookie.
    let mut mm3 = bytes(MM3);
    mm3[8..16].copy_from_slice(&msg2[8..16]);
    let sent = deliver(&mut peer, mm3.clone());
    assert_eq!(sent.len(), 1);
    let kinds: Vec<u8> = payloads(&sent[0]).iter().map(|p| p.0).collect();
    assert_eq!(
        kinds,
        vec![
            PayloadType::KEY_EXCHANGE.0,
            PayloadType::NONCE.0,
            PayloadType::NAT_D.0,
            PayloadType::NAT_D.0
        ]
    );
    assert_eq!(payloads(&sent[0])[0].1.len(), 128);
    // A retransmitted message 3 gets the same message 4.
    assert_eq!(deliver(&mut peer, mm3), sent);
}

#[test]
fn strongswan_main_mode_1_with_a_three_des_transform_is_refused() {
    let mut m = bytes(MM1);
    // Encryption attribute (class 1, TV) of the only transform: 7 → 5.
    let at = m
        .windows(4)
        .position(|w| w == [0x80, 0x01, 0x00, 0x07])
        .unwrap();
    m[at + 3] = 5;
    let mut peer = cloud();
    let sent = deliver(&mut peer, m);
    let (h, _) = parse_header(&sent[0]).unwrap();
    assert_eq!(h.exchange_type.0, 5);
    let n = payloads(&sent[0]);
    assert_eq!(
        u16::from_be_bytes([n[0].1[6], n[0].1[7]]),
        14,
        "NO-PROPOSAL-CHOSEN"
    );
}
