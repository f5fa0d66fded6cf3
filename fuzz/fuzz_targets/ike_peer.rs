//! Arbitrary datagrams into a cloud-side IKEv1 responder: on port 500 as
//! they are, on 4500 behind the non-ESP marker. Whatever arrives, the peer
//! must answer with outputs, never a panic. The first octet picks the port
//! and splits the input into up to four datagrams, so a fuzzed exchange
//! can get past message 1.
//!
//! Build and run: see fuzz/README.md (cargo-fuzz is not installed).

#![no_main]

use bytes::Bytes;
use hybridlab_ike::{IkePeer, Input, PeerConfig, Psk, SeededRandom};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let local: SocketAddr = "198.51.100.1:500".parse().unwrap_or_else(|_| unreachable!());
    let remote: SocketAddr = "203.0.113.2:500".parse().unwrap_or_else(|_| unreachable!());
    let config = PeerConfig::cloud(local, remote, Psk::new(b"fuzz".to_vec()));
    let Ok(mut peer) = IkePeer::new(config, Box::new(SeededRandom::new(0))) else {
        return;
    };
    let pieces = usize::from(selector >> 1 & 3) + 1;
    let size = rest.len() / pieces + 1;
    let mut out = Vec::new();
    for chunk in rest.chunks(size) {
        let (from, to, bytes) = if selector & 1 == 0 {
            (remote, local, Bytes::copy_from_slice(chunk))
        } else {
            let mut framed = vec![0u8; 4];
            framed.extend_from_slice(chunk);
            let from = SocketAddr::new(remote.ip(), 4500);
            let to = SocketAddr::new(local.ip(), 4500);
            (from, to, Bytes::from(framed))
        };
        peer.handle(Input::Datagram { from, to, bytes }, &mut out);
        out.clear();
    }
});
