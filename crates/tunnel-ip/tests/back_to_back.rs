//! Two endpoints, 169.254.10.1 (cloud) and .2 (customer), wired back to
//! back as the two ends of one tunnel's SA pair, on a virtual clock.

use bytes::Bytes;
use hybridlab_tunnel_ip::{
    CloseReason, Disposition, DropReason, TcpEvent, TcpHandle, TcpState, TunnelIp, TunnelIpConfig,
};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv4Packet, Icmpv4Repr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket,
    TcpRepr,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

const CLOUD: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);
const CUSTOMER: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 2);

/// A BGP OPEN from AS 65000, hold time 30, BGP Identifier 169.254.10.2,
/// no optional parameters (RFC 4271 §4.2), as raw bytes.
const OPEN: [u8; 29] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x1d, 0x01, 0x04, 0xfd, 0xe8, 0x00, 0x1e, 0xa9, 0xfe, 0x0a, 0x02, 0x00,
];
/// A KEEPALIVE (RFC 4271 §4.4).
const KEEPALIVE: [u8; 19] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x13, 0x04,
];

fn endpoint(local: Ipv4Addr, seed: u64) -> TunnelIp {
    let mut config = TunnelIpConfig::new(local);
    config.seed = seed;
    config.answer_ping_for = vec!["10.0.0.0/16".parse().unwrap()];
    TunnelIp::new(config).unwrap()
}

/// Which way a packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ToCloud,
    ToCustomer,
}

struct Tunnel {
    now: Duration,
    cloud: TunnelIp,
    customer: TunnelIp,
    cloud_events: Vec<TcpEvent>,
    customer_events: Vec<TcpEvent>,
    /// Every packet put on the wire, with its direction.
    log: Vec<(Dir, Bytes)>,
}

impl Tunnel {
    fn new() -> Self {
        Tunnel {
            now: Duration::ZERO,
            cloud: endpoint(CLOUD, 1),
            customer: endpoint(CUSTOMER, 2),
            cloud_events: Vec::new(),
            customer_events: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Runs both ends until `until` on the virtual clock, delivering every
    /// packet at once unless `lose` says it is lost.
    fn run_lossy(&mut self, until: Duration, mut lose: impl FnMut(Dir, &[u8]) -> bool) {
        loop {
            let mut moved = false;
            for dir in [Dir::ToCustomer, Dir::ToCloud] {
                let (from, to) = match dir {
                    Dir::ToCustomer => (&mut self.cloud, &mut self.customer),
                    Dir::ToCloud => (&mut self.customer, &mut self.cloud),
                };
                for packet in from.poll(self.now) {
                    moved = true;
                    self.log.push((dir, packet.clone()));
                    if !lose(dir, &packet) {
                        to.receive(self.now, &packet);
                    }
                }
            }
            self.cloud_events
                .extend(std::iter::from_fn(|| self.cloud.next_event()));
            self.customer_events
                .extend(std::iter::from_fn(|| self.customer.next_event()));
            if moved {
                continue;
            }
            let next = [
                self.cloud.poll_at(self.now),
                self.customer.poll_at(self.now),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(at) if at <= until => {
                    // A deadline already due that produced nothing: step on.
                    self.now = at.max(self.now + Duration::from_millis(1));
                }
                _ => {
                    self.now = until.max(self.now);
                    return;
                }
            }
        }
    }

    fn run(&mut self, until: Duration) {
        self.run_lossy(until, |_, _| false);
    }

    fn run_for(&mut self, d: Duration) {
        self.run(self.now + d);
    }
}

fn connected(events: &[TcpEvent]) -> Option<(TcpHandle, SocketAddrV4, SocketAddrV4, bool)> {
    events.iter().find_map(|e| match *e {
        TcpEvent::Connected {
            handle,
            local,
            remote,
            outbound,
        } => Some((handle, local, remote, outbound)),
        _ => None,
    })
}

fn read_all(ip: &mut TunnelIp, handle: TcpHandle) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = ip.recv(handle, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn tcp_of(packet: &[u8]) -> Option<(Ipv4Repr, TcpRepr<'_>)> {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv4Packet::new_checked(packet).ok()?;
    let ip_repr = Ipv4Repr::parse(&ip, &caps).ok()?;
    if ip_repr.next_header != IpProtocol::Tcp {
        return None;
    }
    let tcp =
        TcpPacket::new_checked(&packet[ip.header_len() as usize..ip.total_len() as usize]).ok()?;
    let repr = TcpRepr::parse(
        &tcp,
        &IpAddress::Ipv4(ip_repr.src_addr),
        &IpAddress::Ipv4(ip_repr.dst_addr),
        &caps,
    )
    .ok()?;
    Some((ip_repr, repr))
}

/// Connects customer -> cloud:179 and returns (cloud handle, customer handle).
fn establish(t: &mut Tunnel) -> (TcpHandle, TcpHandle) {
    t.cloud.listen(179).unwrap();
    let outbound = t.customer.connect(CLOUD, 179).unwrap();
    t.run_for(Duration::from_millis(100));
    let (cloud_h, local, remote, out) = connected(&t.cloud_events).expect("cloud side connected");
    assert_eq!(local, SocketAddrV4::new(CLOUD, 179));
    assert_eq!(*remote.ip(), CUSTOMER);
    assert!(!out);
    let (cust_h, local, remote, out) =
        connected(&t.customer_events).expect("customer side connected");
    assert_eq!(cust_h, outbound);
    assert_eq!(*local.ip(), CUSTOMER);
    assert_eq!(remote, SocketAddrV4::new(CLOUD, 179));
    assert!(out);
    (cloud_h, cust_h)
}

#[test]
fn bgp_bytes_both_ways_then_graceful_close() {
    let mut t = Tunnel::new();
    let (cloud, customer) = establish(&mut t);
    assert_eq!(t.cloud.state(cloud), Some(TcpState::Established));

    assert_eq!(t.customer.send(customer, &OPEN), OPEN.len());
    t.run_for(Duration::from_millis(100));
    assert!(t
        .cloud_events
        .contains(&TcpEvent::Readable { handle: cloud }));
    assert_eq!(read_all(&mut t.cloud, cloud), OPEN);

    let mut reply = OPEN.to_vec();
    reply.extend_from_slice(&KEEPALIVE);
    assert_eq!(t.cloud.send(cloud, &reply), reply.len());
    t.run_for(Duration::from_millis(100));
    assert_eq!(read_all(&mut t.customer, customer), reply);

    // The customer hangs up; the cloud sees the FIN, closes its side.
    t.customer.close(customer);
    t.run_for(Duration::from_millis(100));
    assert!(t
        .cloud_events
        .contains(&TcpEvent::PeerClosed { handle: cloud }));
    t.cloud.close(cloud);
    t.run_for(Duration::from_secs(1));
    assert!(t.cloud_events.contains(&TcpEvent::Closed {
        handle: cloud,
        reason: CloseReason::Graceful
    }));
    assert!(t.customer_events.contains(&TcpEvent::Closed {
        handle: customer,
        reason: CloseReason::Graceful
    }));
    // The active closer lingers in TIME-WAIT, then the socket goes.
    t.run_for(Duration::from_secs(60));
    assert_eq!(t.customer.state(customer), None);
    assert_eq!(t.cloud.state(cloud), None);
    assert_eq!(t.cloud.stats().dropped(), 0);
    assert_eq!(t.customer.stats().dropped(), 0);
}

#[test]
fn syns_carry_the_clamped_mss_and_segments_respect_it() {
    let mut t = Tunnel::new();
    let (cloud, _customer) = establish(&mut t);
    let syns: Vec<(Dir, u16)> = t
        .log
        .iter()
        .filter_map(|(dir, p)| {
            let (_, tcp) = tcp_of(p)?;
            (tcp.control == TcpControl::Syn).then(|| (*dir, tcp.max_seg_size.unwrap_or(0)))
        })
        .collect();
    assert_eq!(syns, [(Dir::ToCloud, 1379), (Dir::ToCustomer, 1379)]);

    let big = vec![0x5a; 10_000];
    assert_eq!(t.cloud.send(cloud, &big), big.len());
    t.run_for(Duration::from_secs(1));
    let largest = t
        .log
        .iter()
        .filter(|(dir, _)| *dir == Dir::ToCustomer)
        .filter_map(|(_, p)| Some(tcp_of(p)?.1.payload.len()))
        .max();
    assert_eq!(largest, Some(1379));
    assert!(t.log.iter().all(|(_, p)| p.len() <= 1436));
}

#[test]
fn a_lost_segment_is_retransmitted_on_the_virtual_clock() {
    let mut t = Tunnel::new();
    let (cloud, customer) = establish(&mut t);
    t.customer.send(customer, &OPEN);
    let sent_at = t.now;
    let mut lost = 0;
    t.run_lossy(t.now + Duration::from_secs(5), |dir, p| {
        let first_data = dir == Dir::ToCloud
            && lost == 0
            && tcp_of(p).is_some_and(|(_, tcp)| !tcp.payload.is_empty());
        if first_data {
            lost += 1;
        }
        first_data
    });
    assert_eq!(lost, 1);
    assert_eq!(read_all(&mut t.cloud, cloud), OPEN);
    // The payload crossed twice: the lost copy and the retransmission,
    // about one RTO (1 s minimum, RFC 6298 §2.4) later.
    let copies: Vec<_> = t
        .log
        .iter()
        .filter(|(dir, p)| {
            *dir == Dir::ToCloud && tcp_of(p).is_some_and(|(_, tcp)| tcp.payload == OPEN)
        })
        .collect();
    assert_eq!(copies.len(), 2);
    assert!(t.now - sent_at >= Duration::from_secs(1));
}

#[test]
fn connection_to_a_closed_port_fails_with_reset() {
    let mut t = Tunnel::new();
    let h = t.customer.connect(CLOUD, 180).unwrap();
    t.run_for(Duration::from_millis(100));
    assert_eq!(
        t.customer_events,
        [TcpEvent::Closed {
            handle: h,
            reason: CloseReason::ConnectFailed
        }]
    );
    assert_eq!(t.customer.state(h), None);
}

#[test]
fn bgp_collision_both_connect_and_both_connections_come_up() {
    let mut t = Tunnel::new();
    t.cloud.listen(179).unwrap();
    t.customer.listen(179).unwrap();
    let a = t.cloud.connect(CUSTOMER, 179).unwrap();
    let b = t.customer.connect(CLOUD, 179).unwrap();
    t.run_for(Duration::from_millis(200));
    let count = |events: &[TcpEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, TcpEvent::Connected { .. }))
            .count()
    };
    assert_eq!(count(&t.cloud_events), 2);
    assert_eq!(count(&t.customer_events), 2);
    // The loser is dropped with RST, as BGP's collision detection does.
    t.cloud.abort(a);
    t.run_for(Duration::from_millis(200));
    assert!(t.cloud_events.contains(&TcpEvent::Closed {
        handle: a,
        reason: CloseReason::Aborted
    }));
    assert!(t.customer_events.iter().any(|e| matches!(
        e,
        TcpEvent::Closed {
            reason: CloseReason::Reset,
            ..
        }
    )));
    assert_eq!(t.customer.state(b), Some(TcpState::Established));
    // And port 179 still accepts after all that.
    let c = t.customer.connect(CLOUD, 179).unwrap();
    t.run_for(Duration::from_millis(200));
    assert_eq!(t.customer.state(c), Some(TcpState::Established));
}

/// An ICMP echo request as a host would send it.
fn echo_request(from: Ipv4Addr, to: Ipv4Addr, ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let icmp = Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let ip = Ipv4Repr {
        src_addr: from,
        dst_addr: to,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: 61,
    };
    let mut buf = vec![0; ip.buffer_len() + icmp.buffer_len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    ip.emit(&mut packet, &caps);
    icmp.emit(
        &mut Icmpv4Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    buf
}

fn assert_echo_reply(
    packet: &[u8],
    from: Ipv4Addr,
    to: Ipv4Addr,
    ident: u16,
    seq: u16,
    data: &[u8],
) {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv4Packet::new_checked(packet).unwrap();
    let ip_repr = Ipv4Repr::parse(&ip, &caps).expect("IP checksum good");
    assert_eq!((ip_repr.src_addr, ip_repr.dst_addr), (from, to));
    assert_eq!(ip_repr.hop_limit, 64);
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        Icmpv4Repr::parse(&icmp, &caps).expect("ICMP checksum good"),
        Icmpv4Repr::EchoReply {
            ident,
            seq_no: seq,
            data
        }
    );
}

#[test]
fn pings_of_the_inside_address_and_of_a_vpc_host_are_answered() {
    let mut cloud = endpoint(CLOUD, 1);
    let now = Duration::from_secs(3);

    let ping = echo_request(CUSTOMER, CLOUD, 0x4242, 1, b"0123456789abcdef");
    assert_eq!(cloud.receive(now, &ping), Disposition::EchoReplied);
    let out = cloud.poll(now);
    assert_eq!(out.len(), 1);
    assert_echo_reply(&out[0], CLOUD, CUSTOMER, 0x4242, 1, b"0123456789abcdef");

    // An on-premises host pings an emulated VPC host through the tunnel.
    let onprem = Ipv4Addr::new(192, 168, 1, 20);
    let vpc_host = Ipv4Addr::new(10, 0, 5, 9);
    let ping = echo_request(onprem, vpc_host, 7, 2, &[0xab; 56]);
    assert_eq!(cloud.receive(now, &ping), Disposition::EchoReplied);
    let out = cloud.poll(now);
    assert_eq!(out.len(), 1);
    assert_echo_reply(&out[0], vpc_host, onprem, 7, 2, &[0xab; 56]);

    // Outside every VPC range: nobody there.
    let ping = echo_request(onprem, Ipv4Addr::new(10, 1, 0, 1), 7, 3, b"x");
    assert_eq!(
        cloud.receive(now, &ping),
        Disposition::Dropped(DropReason::NotForUs(Ipv4Addr::new(10, 1, 0, 1)))
    );
    assert!(cloud.poll(now).is_empty());
    let stats = cloud.stats();
    assert_eq!(
        (stats.echo_replied, stats.not_for_us, stats.received),
        (2, 1, 3)
    );
}

#[test]
fn malformed_packets_are_dropped_and_counted() {
    let mut cloud = endpoint(CLOUD, 1);
    let now = Duration::ZERO;
    let good = echo_request(CUSTOMER, CLOUD, 1, 1, b"ping");

    let mut bad_ip_checksum = good.clone();
    bad_ip_checksum[10] ^= 0xff;
    let mut bad_icmp_checksum = good.clone();
    let last = bad_icmp_checksum.len() - 1;
    bad_icmp_checksum[last] ^= 0xff;
    let mut total_len_too_big = good.clone();
    total_len_too_big[2] = 0x05;
    let mut fragment = good.clone();
    fragment[6] = 0x20; // More Fragments, DF cleared
    fragment[10] = 0;
    fragment[11] = 0;
    let mut fragment_packet = Ipv4Packet::new_unchecked(&mut fragment[..]);
    fragment_packet.fill_checksum();

    let cases: [(&[u8], DropReason); 6] = [
        (&[], DropReason::MalformedIp),
        (&good[..10], DropReason::MalformedIp),
        (&bad_ip_checksum, DropReason::MalformedIp),
        (&bad_icmp_checksum, DropReason::MalformedIcmp),
        (&total_len_too_big, DropReason::MalformedIp),
        (&fragment, DropReason::Fragment),
    ];
    for (packet, reason) in cases {
        assert_eq!(
            cloud.receive(now, packet),
            Disposition::Dropped(reason),
            "{packet:02x?}"
        );
    }
    assert!(cloud.poll(now).is_empty());
    let stats = cloud.stats();
    assert_eq!((stats.malformed, stats.fragments), (5, 1));

    // A TCP segment with a broken checksum never reaches the stack.
    let mut t = Tunnel::new();
    t.cloud.listen(179).unwrap();
    t.customer.connect(CLOUD, 179).unwrap();
    let syn = t.customer.poll(t.now).remove(0);
    let mut bad = syn.to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    bad[36] ^= 0xff; // TCP checksum
    assert_eq!(
        t.cloud.receive(t.now, &bad),
        Disposition::Dropped(DropReason::MalformedTcp)
    );
    assert!(t.cloud.poll(t.now).is_empty());
}

/// Random bytes and bit-flipped real packets: never a panic, always counted.
#[test]
fn noise_never_panics() {
    let mut rng = hybridlab_prng::SplitMix64::new(0x7e57);
    let mut t = Tunnel::new();
    let (cloud, customer) = establish(&mut t);
    t.customer.send(customer, &OPEN);
    t.run_for(Duration::from_millis(50));
    let samples: Vec<Bytes> = t.log.iter().map(|(_, p)| p.clone()).collect();
    let before = t.cloud.stats();
    let mut fed = 0u64;
    for i in 0..5000 {
        let mut packet = if i % 2 == 0 {
            let len = (rng.next_u64() % 80) as usize;
            (0..len).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>()
        } else {
            samples[(rng.next_u64() as usize) % samples.len()].to_vec()
        };
        if !packet.is_empty() {
            let at = (rng.next_u64() as usize) % packet.len();
            packet[at] ^= 1 << (rng.next_u64() % 8);
        }
        t.cloud.receive(t.now, &packet);
        fed += 1;
        let _ = t.cloud.poll(t.now);
    }
    let after = t.cloud.stats();
    assert_eq!(after.received - before.received, fed);
    assert!(after.dropped() > before.dropped());
    let _ = cloud;
}

/// A TCP SYN from the customer's inside address, source port `port`.
fn syn(port: u16, seq: i32) -> Vec<u8> {
    use smoltcp::wire::TcpSeqNumber;
    let caps = ChecksumCapabilities::default();
    let tcp = TcpRepr {
        src_port: port,
        dst_port: 179,
        control: TcpControl::Syn,
        seq_number: TcpSeqNumber(seq),
        ack_number: None,
        window_len: 65535,
        window_scale: None,
        max_seg_size: Some(1379),
        sack_permitted: false,
        sack_ranges: [None, None, None],
        timestamp: None,
        payload: &[],
    };
    let ip = Ipv4Repr {
        src_addr: CUSTOMER,
        dst_addr: CLOUD,
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    let mut buf = vec![0; ip.buffer_len() + tcp.buffer_len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    ip.emit(&mut packet, &caps);
    tcp.emit(
        &mut TcpPacket::new_unchecked(packet.payload_mut()),
        &IpAddress::Ipv4(CUSTOMER),
        &IpAddress::Ipv4(CLOUD),
        &caps,
    );
    buf
}

#[test]
fn a_syn_flood_is_bounded_and_the_port_accepts_again_after_the_handshake_timeout() {
    let mut cloud = endpoint(CLOUD, 1);
    cloud.listen(179).unwrap();
    let mut now = Duration::from_secs(1);
    let mut synacks = 0;
    let mut resets = 0;
    for i in 0..100u16 {
        cloud.receive(now, &syn(40000 + i, i32::from(i) * 1000));
        for p in cloud.poll(now) {
            let (_, tcp) = tcp_of(&p).unwrap();
            match tcp.control {
                TcpControl::Syn => synacks += 1,
                TcpControl::Rst => resets += 1,
                _ => {}
            }
        }
    }
    assert_eq!(synacks, hybridlab_tunnel_ip::MAX_CONNECTIONS);
    assert_eq!(resets, 100 - hybridlab_tunnel_ip::MAX_CONNECTIONS);
    assert_eq!(
        cloud.tcp_connections(),
        hybridlab_tunnel_ip::MAX_CONNECTIONS
    );
    assert_eq!(
        cloud.next_event(),
        None,
        "half-open connections are nobody's business"
    );

    // Nobody completes the handshakes: after the timeout they are gone.
    while now < Duration::from_secs(70) {
        now = cloud
            .poll_at(now)
            .unwrap_or(now)
            .max(now + Duration::from_millis(10));
        cloud.poll(now);
    }
    assert_eq!(cloud.tcp_connections(), 0);
    cloud.receive(now, &syn(50000, 7));
    let out = cloud.poll(now);
    assert_eq!(out.len(), 1);
    assert_eq!(tcp_of(&out[0]).unwrap().1.control, TcpControl::Syn);
}
