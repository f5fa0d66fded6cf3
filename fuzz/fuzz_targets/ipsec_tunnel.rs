//! Arbitrary datagrams into the cloud end of a VPN tunnel (IKE on 500,
//! IKE / ESP / keepalives on 4500, plain ESP): whatever arrives, the tunnel
//! answers with outputs and counters, never a panic. The first octet picks
//! the input kind and how many datagrams the rest is split into.
//!
//! Build and run: see fuzz/README.md.

#![no_main]

use bytes::Bytes;
use hybridlab_ike::{Psk, SeededRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelInput};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const AWS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const CGW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let config = TunnelConfig::cloud(
        "vpn1/tunnel1",
        AWS,
        CGW,
        Psk::new(b"fuzz".to_vec()),
        Ipv4Addr::new(169, 254, 10, 1),
        Ipv4Addr::new(169, 254, 10, 2),
    );
    let Ok(mut tunnel) = IpsecTunnel::new(config, Box::new(SeededRandom::new(0))) else {
        return;
    };
    let mut out = Vec::new();
    let mut conn = 0u64;
    let mut next_conn = || {
        conn += 1;
        conn
    };
    tunnel.start(Duration::ZERO, &mut out);
    let pieces = usize::from(selector >> 2 & 3) + 1;
    let size = rest.len() / pieces + 1;
    for (i, chunk) in rest.chunks(size).enumerate() {
        let bytes = Bytes::copy_from_slice(chunk);
        let input = match selector & 3 {
            0 => TunnelInput::Udp {
                from: SocketAddr::new(IpAddr::V4(CGW), 500),
                to: SocketAddr::new(IpAddr::V4(AWS), 500),
                bytes,
            },
            1 | 2 => TunnelInput::Udp {
                from: SocketAddr::new(IpAddr::V4(CGW), 4500),
                to: SocketAddr::new(IpAddr::V4(AWS), 4500),
                bytes,
            },
            _ => TunnelInput::Esp {
                from: IpAddr::V4(CGW),
                to: IpAddr::V4(AWS),
                bytes,
            },
        };
        let now = Duration::from_millis(i as u64 * 10);
        tunnel.handle(now, input, &mut next_conn, &mut out);
        tunnel.handle(now, TunnelInput::Tick, &mut next_conn, &mut out);
        out.clear();
    }
    let _ = tunnel.view(Duration::from_secs(1));
});
