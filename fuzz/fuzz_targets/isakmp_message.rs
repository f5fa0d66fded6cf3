//! Arbitrary bytes as an ISAKMP datagram: the header, then the payload
//! chain read as cleartext whatever the Encryption flag says. Whatever
//! decodes re-encodes and decodes to the same thing; the same bytes also go
//! through the UDP 4500 classifier. Because the header's Length must match
//! the datagram, most mutations stop at the header; so the input is also
//! read as a decrypted body (first octet: the first payload type), which
//! reaches the payload decoders directly.
//!
//! Build and run: see the house rules (cargo +nightly build with sancov
//! flags, then `isakmp_message -max_total_time=120`).

#![no_main]

use bytes::Bytes;
use hybridlab_isakmp::{
    classify_udp4500, encode_header, encode_payloads, first_payload_type, parse_header,
    parse_payloads, split_payloads, Header, PayloadType, Udp4500,
};
use libfuzzer_sys::fuzz_target;

/// Decodes a cleartext body; if it decodes, checks the round trip and
/// returns the re-encoding.
fn check_body(first: PayloadType, body: &[u8]) -> Option<Bytes> {
    let payloads = parse_payloads(first, body).ok()?;
    // The raw split agrees with the decode.
    let raw = split_payloads(first, body).expect("split succeeds where parse did");
    assert_eq!(raw.len(), payloads.len());

    let reencoded = encode_payloads(&payloads).expect("decoded payloads encode");
    assert_eq!(first_payload_type(&payloads), first);
    let again = parse_payloads(first, &reencoded).expect("re-encoded chain parses");
    assert_eq!(again, payloads);
    // Padding aside, the re-encoding is as long (RESERVED fields come back
    // as zero, so the octets may differ there).
    assert!(reencoded.len() <= body.len());
    Some(reencoded)
}

fn check(datagram: &[u8]) {
    let Ok((header, body)) = parse_header(datagram) else {
        return;
    };
    let Some(reencoded) = check_body(header.next_payload, body) else {
        return;
    };

    let mut message = encode_header(&header, reencoded.len())
        .expect("header encodes")
        .to_vec();
    message.extend_from_slice(&reencoded);
    let (header2, body2) = parse_header(&message).expect("re-encoded header parses");
    assert_eq!(header2.length as usize, message.len());
    assert_eq!(
        Header {
            length: header2.length,
            ..header
        },
        header2
    );
    assert_eq!(body2, reencoded.as_ref());
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some((&first, body)) = data.split_first() {
        check_body(PayloadType(first), body);
    }
    match classify_udp4500(data) {
        Udp4500::Ike(ike) => check(ike),
        Udp4500::Esp(esp) => assert!(esp.len() >= 8),
        Udp4500::Keepalive | Udp4500::Invalid(_) => {}
    }
});
