//! Codec speed on a full table: 1 000 000 IPv4 /24s packed into dense
//! UPDATEs, then cut and decoded as a session would. Run with
//! `cargo test --release -p hybridlab-bgp --bench ingest -- --nocapture`; it prints
//! prefixes per second for packing and for decoding.

use hybridlab_bgp::packet::*;
use std::net::Ipv4Addr;
use std::time::Instant;

const PREFIXES: u32 = 1_000_000;

fn table() -> Vec<Prefix> {
    (0..PREFIXES)
        .map(|i| {
            let addr = Ipv4Addr::from((1u32 << 24) + (i << 8));
            Prefix::V4(Prefix4::new(addr, 24).expect("24 is a valid length"))
        })
        .collect()
}

fn attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([65001, 65002, 4_200_000_000])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        med: Some(100),
        communities: vec![Community::new(65001, 1), Community::new(65001, 2)],
        ..PathAttributes::default()
    }
}

#[test]
fn full_table() {
    let ctx = CodecContext {
        four_octet_as: true,
    };
    let prefixes = table();

    let start = Instant::now();
    let frames = pack_announcements(&attrs(), None, &prefixes, &ctx).expect("attributes fit");
    let packing = start.elapsed();
    let stream: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();

    // Delivered in 64 KiB reads, as from a socket.
    let start = Instant::now();
    let mut reader = FrameReader::new();
    let mut received = 0usize;
    for chunk in stream.chunks(64 * 1024) {
        reader.push(chunk);
        while let Some(frame) = reader.next_frame().expect("valid stream") {
            let decoded = decode_message(&frame, &ctx).expect("valid UPDATE");
            if let Message::Update(u) = decoded.message {
                received += u.nlri.len();
            }
        }
    }
    let decoding = start.elapsed();

    assert_eq!(received, prefixes.len());
    let rate = |d: std::time::Duration| prefixes.len() as f64 / d.as_secs_f64();
    println!(
        "{} prefixes in {} UPDATEs ({} octets): packed in {:.1} ms ({:.1} M prefixes/s), \
         framed and decoded in {:.1} ms ({:.1} M prefixes/s)",
        prefixes.len(),
        frames.len(),
        stream.len(),
        packing.as_secs_f64() * 1e3,
        rate(packing) / 1e6,
        decoding.as_secs_f64() * 1e3,
        rate(decoding) / 1e6,
    );
}
