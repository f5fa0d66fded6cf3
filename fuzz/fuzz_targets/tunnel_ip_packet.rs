//! Arbitrary bytes as inner IP packets from an ESP SA, into a tunnel
//! endpoint that listens on 179, has a connection in progress and answers
//! pings for a VPC range. Each chunk is one packet; the clock moves
//! between chunks so TCP timers fire too. Nothing may panic, every packet
//! is counted once, and whatever comes out is a well-formed IPv4 packet
//! no larger than the MTU.
//!
//! `cargo fuzz run tunnel_ip_packet` (nightly and cargo-fuzz); `cargo
//! check` works on stable.

#![no_main]

use hybridlab_tunnel_ip::{TunnelIp, TunnelIpConfig};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use std::time::Duration;

const MTU: usize = 1436;

fuzz_target!(|data: &[u8]| {
    let mut config = TunnelIpConfig::new(Ipv4Addr::new(169, 254, 10, 1));
    config.answer_ping_for = vec!["10.0.0.0/16".parse().expect("a CIDR")];
    let mut ip = TunnelIp::new(config).expect("a valid configuration");
    ip.listen(179).expect("a free port");
    let _ = ip.connect(Ipv4Addr::new(169, 254, 10, 2), 179);
    let mut now = Duration::ZERO;
    let mut fed = 0u64;
    let check = |out: Vec<bytes::Bytes>| {
        for packet in out {
            assert!(packet.len() <= MTU, "{} bytes out", packet.len());
            assert_eq!(packet.first().map(|b| b >> 4), Some(4));
        }
    };
    check(ip.poll(now));
    // Each chunk: a clock step in ms (one octet), a length (two), the
    // packet.
    let mut rest = data;
    while let [step, hi, lo, tail @ ..] = rest {
        now += Duration::from_millis(u64::from(*step) * 8);
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (packet, after) = tail.split_at(len);
        ip.receive(now, packet);
        fed += 1;
        check(ip.poll(now));
        while ip.next_event().is_some() {}
        rest = after;
    }
    assert_eq!(ip.stats().received, fed);
});
