//! Arbitrary bytes as BFD Control packets. Each decoded packet re-encodes
//! and reads back the same. Then the same bytes, cut into datagrams, go
//! through a session table with timer expiries in between: nothing may
//! panic, and the session's counters must add up.
//!
//! `cargo fuzz run bfd_packet` (nightly and cargo-fuzz); `cargo check`
//! works on stable.

#![no_main]

use hybridlab_bfd::session::{Input, SessionConfig, TimerKind};
use hybridlab_bfd::{ControlPacket, SessionTable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = ControlPacket::decode(data) {
        let bytes = packet.to_bytes().expect("a decoded packet encodes");
        assert_eq!(ControlPacket::decode(&bytes), Ok(packet));
    }

    let mut table = SessionTable::new();
    let config = SessionConfig {
        passive: data.first().is_some_and(|b| b & 1 == 1),
        ..SessionConfig::direct_connect(7)
    };
    table.insert(0u8, config, 1).expect("a valid configuration");
    let mut out = Vec::new();
    table.handle(&0, Input::Start, &mut out);
    // Each chunk: a control octet (TTL choice, timer to fire, sender), a
    // length octet, then that many octets of datagram.
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(take);
        rest = next;
        let ttl = if control & 0x80 == 0 { 255 } else { *control };
        let from = (control & 0x40) >> 6;
        let _ = table.receive(&from, datagram, ttl, &mut out);
        match control & 0x03 {
            1 => table.handle(&0, Input::TimerExpired(TimerKind::Transmit), &mut out),
            2 => table.handle(&0, Input::TimerExpired(TimerKind::Detection), &mut out),
            _ => true,
        };
    }
    let session = table.get(&0).expect("still there");
    let stats = session.stats();
    assert!(stats.received + stats.dropped_total <= data.len() as u64);
});
