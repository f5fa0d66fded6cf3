//! Arbitrary bytes as a BGP stream: cut into frames, decode each in both AS
//! contexts, re-encode what decoded and decode that again. Nothing may
//! panic; what the codec writes it must read; with 4-octet ASes, a decoded
//! message is a fixed point of encode then decode.
//!
//! `cargo fuzz run bgp_message` (nightly and cargo-fuzz); `cargo check`
//! works on stable.

#![no_main]

use bytes::BytesMut;
use hybridlab_bgp::packet::{
    decode_message, try_encode_message, CodecContext, Decoded, FrameReader,
};
use libfuzzer_sys::fuzz_target;

/// Every frame of an encoded stream, decoded.
fn decode_stream(stream: &[u8], ctx: &CodecContext) -> Vec<Decoded> {
    let mut reader = FrameReader::new();
    reader.push(stream);
    let mut decoded = Vec::new();
    while let Some(frame) = reader.next_frame().expect("the codec writes whole frames") {
        decoded.push(decode_message(&frame, ctx).expect("the codec reads what it writes"));
    }
    assert_eq!(reader.buffered(), 0, "no trailing octets");
    decoded
}

fuzz_target!(|data: &[u8]| {
    let mut reader = FrameReader::new();
    reader.push(data);
    while let Ok(Some(frame)) = reader.next_frame() {
        for four_octet_as in [false, true] {
            let ctx = CodecContext { four_octet_as };
            let Ok(decoded) = decode_message(&frame, &ctx) else {
                continue;
            };
            let _ = decoded.message.clone();
            let mut out = BytesMut::new();
            if try_encode_message(&decoded.message, &ctx, &mut out).is_err() {
                continue;
            }
            let again = decode_stream(&out, &ctx);
            if four_octet_as && again.len() == 1 {
                assert_eq!(again[0].message, decoded.message);
                assert!(again[0].attribute_errors.is_empty());
            }
        }
    }
});
