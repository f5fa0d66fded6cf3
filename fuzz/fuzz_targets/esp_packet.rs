//! ESP packets into one fixed inbound SA (AES-128-CBC + HMAC-SHA1-96,
//! window 1024). Two halves, chosen by the first octet:
//!
//! - even: the rest is one raw packet from the network. It must be refused
//!   (nobody can forge the ICV), counted exactly once, append nothing, and
//!   `open_in_place` and NAT-T classification must not panic either.
//! - odd: the rest is a list of records `seq (4) | len (1) | len bytes`;
//!   each becomes a packet whose ciphertext is the fuzzer's bytes, with a
//!   correct ICV computed here. That reaches what lies past the ICV: the
//!   window and the padding checks. Every verdict is compared with a naive
//!   model of the window.
//!
//! Build and run: see the house rules (cargo-fuzz is not installed).

#![no_main]

use std::collections::BTreeSet;

use bytes::BytesMut;
use hybridlab_esp::{
    natt, packet, Cipher, Integrity, OpenError, ReplayError, SaParams, SecurityAssociation,
};
use libfuzzer_sys::fuzz_target;
use ring::hmac;

const SPI: u32 = 0xC0DE_0001;
const EKEY: [u8; 16] = [0x11; 16];
const IKEY: [u8; 20] = [0x22; 20];
const WINDOW: u32 = 1024;

fn sa() -> SecurityAssociation {
    let mut p = SaParams::new(SPI, Cipher::Aes128Cbc, &EKEY, Integrity::HmacSha1_96, &IKEY);
    p.replay_window = WINDOW;
    SecurityAssociation::new(&p).expect("fixed keys")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        raw(rest);
    } else {
        forged(rest);
    }
});

fn raw(packet: &[u8]) {
    let _ = natt::classify(packet);
    let _ = packet::peek_spi(packet);
    let mut sa = sa();
    let mut out = BytesMut::from(&b"keep"[..]);
    assert!(
        sa.open(packet, &mut out).is_err(),
        "a forged ICV was accepted"
    );
    assert_eq!(&out[..], b"keep");
    let mut copy = packet.to_vec();
    assert!(sa.open_in_place(&mut copy).is_err());
    let c = sa.counters();
    assert_eq!(c.malformed + c.icv_failures + c.replay_drops, 2);
    assert_eq!(c.packets_in, 0);
}

fn forged(mut records: &[u8]) {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &IKEY);
    let mut sa = sa();
    let mut seen = BTreeSet::new();
    let mut top = 0u32;
    let mut out = BytesMut::new();
    while let Some((head, tail)) = records.split_first_chunk::<5>() {
        let seq = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let len = usize::from(head[4]).min(tail.len());
        let (body, next) = tail.split_at(len);
        records = next;

        let mut pkt = Vec::with_capacity(8 + 16 + body.len() + 12);
        pkt.extend_from_slice(&SPI.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(&[0x5a; 16]);
        pkt.extend_from_slice(body);
        let tag = hmac::sign(&key, &pkt);
        pkt.extend_from_slice(&tag.as_ref()[..12]);

        let expected_replay = if seq == 0 {
            Some(ReplayError::Zero)
        } else if seq > top {
            None
        } else if top - seq >= WINDOW {
            Some(ReplayError::TooOld)
        } else if seen.contains(&seq) {
            Some(ReplayError::Duplicate)
        } else {
            None
        };
        let shape_ok = !body.is_empty() && body.len() % 16 == 0;

        out.clear();
        let result = sa.open(&pkt, &mut out);
        match result {
            Ok(opened) => {
                assert!(shape_ok && expected_replay.is_none());
                assert_eq!(opened.len, out.len());
                assert!(opened.len + 2 <= body.len());
                assert_eq!(opened.sequence, seq);
            }
            Err(OpenError::Replay { reason, .. }) => {
                assert!(shape_ok);
                assert_eq!(Some(reason), expected_replay);
            }
            Err(OpenError::Truncated { .. } | OpenError::NotBlockAligned(_)) => assert!(!shape_ok),
            Err(OpenError::Padding | OpenError::PadLength { .. }) => {
                assert!(shape_ok && expected_replay.is_none())
            }
            Err(e @ (OpenError::IcvMismatch | OpenError::SpiMismatch { .. })) => {
                panic!("authentic packet refused: {e}")
            }
        }
        // §3.4.3: an authentic packet moves the window even when its
        // padding is then found wrong.
        if shape_ok && expected_replay.is_none() {
            seen.insert(seq);
            top = top.max(seq);
        }
        assert_eq!(sa.replay_window().highest(), top);
    }
}
